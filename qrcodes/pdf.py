"""PDF sheets of QR codes (WeasyPrint), from image bytes handed in by the caller.

The renderer never touches the network: images come in as bytes and are served to WeasyPrint by a URL fetcher
that knows only those bytes. Geometry is in millimetres and placed absolutely, so label sheets line up with
the labels and every code keeps its size (at least 30 mm, its quiet zone included) whatever its texts are.
"""

import logging
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.template.loader import render_to_string

# Laying out is about a third of the time for SVG codes, painting (writing the PDF) the rest.
LAYOUT_SHARE = 35

IMAGE_SCHEME = "qr-image:"
CUT_MARKS_URL = "qr-image:cut-marks"


@dataclass(frozen=True)
class Layout:
    key: str
    columns: int
    rows: int
    cell_width: float
    cell_height: float
    gap_x: float
    gap_y: float
    left: float
    top: float
    image: float  # width of the official image, quiet zone included
    image_top: float
    font: float  # points: the location description
    small: float  # points: the other texts
    cut_marks: bool = True
    side_by_side: bool = False  # image left, texts right (labels)

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def positions(self) -> list[tuple[float, float]]:
        """Top-left corner of each cell of a page, in mm."""
        return [
            (
                round(self.left + column * (self.cell_width + self.gap_x), 2),
                round(self.top + row * (self.cell_height + self.gap_y), 2),
            )
            for row in range(self.rows)
            for column in range(self.columns)
        ]

    def cut_marks_svg(self) -> bytes:
        """One A4 page of cut marks: 3 mm lines on every cell edge, starting 1 mm outside its corners."""
        lines = []
        for x, y in self.positions():
            right, bottom = x + self.cell_width, y + self.cell_height
            for edge_y in (y, bottom):
                lines += [f"M{x - 4:.2f} {edge_y:.2f}h3", f"M{right + 1:.2f} {edge_y:.2f}h3"]
            for edge_x in (x, right):
                lines += [f"M{edge_x:.2f} {y - 4:.2f}v3", f"M{edge_x:.2f} {bottom + 1:.2f}v3"]
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{A4_WIDTH}mm" height="{A4_HEIGHT}mm" '
            f'viewBox="0 0 {A4_WIDTH} {A4_HEIGHT}"><path d="{"".join(lines)}" stroke="#000" stroke-width="0.2"/></svg>'
        ).encode()


A4_WIDTH, A4_HEIGHT = 210, 297


def _centred(key, columns, rows, width, height, gap, image, image_top, font, small) -> Layout:
    left = (A4_WIDTH - columns * width - (columns - 1) * gap) / 2
    top = (A4_HEIGHT - rows * height - (rows - 1) * gap) / 2
    return Layout(key, columns, rows, width, height, gap, gap, left, top, image, image_top, font, small)


LAYOUTS = {
    "1": _centred("1", 1, 1, 170, 236, 0, 130, 30, 24, 13),
    "4": _centred("4", 2, 2, 88, 126, 10, 72, 12, 15, 9),
    "12": _centred("12", 3, 4, 56, 62, 8, 44, 3, 10, 7),
    # Avery L7163 and compatible: 2 × 7 labels of 99.1 × 38.1 mm; pre-cut, so no cut marks.
    "labels": Layout("labels", 2, 7, 99.1, 38.1, 2.5, 0, 4.65, 15.15, 34, 2, 10, 7, cut_marks=False, side_by_side=True),
}


@dataclass(frozen=True)
class SheetCell:
    image: bytes
    image_type: str  # "image/svg+xml" or "image/png"
    location_description: str
    merchant_qr_id: str
    msn: str


def offline_fetcher(cells: Sequence[SheetCell], layout: Layout):
    """A WeasyPrint URL fetcher that serves the images it was handed and refuses every other URL."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OfflineFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url == CUT_MARKS_URL:
                return URLFetcherResponse(url, layout.cut_marks_svg(), {"Content-Type": "image/svg+xml"})
            if url.startswith(IMAGE_SCHEME):
                cell = cells[int(url.removeprefix(IMAGE_SCHEME))]
                return URLFetcherResponse(url, cell.image, {"Content-Type": cell.image_type})
            if url.startswith("data:"):  # inside the official SVG, e.g. an embedded logo: no network
                return super().fetch(url, headers)
            raise ValueError(f"the PDF renderer does not fetch {url!r}")

    return OfflineFetcher(fail_on_errors=True)


def sheet_html(cells: Sequence[SheetCell], layout: Layout, *, title: str = "QR codes") -> str:
    pages = []
    for start in range(0, len(cells), layout.per_page):
        chunk = cells[start : start + layout.per_page]
        pages.append([{"cell": cell, "src": f"{IMAGE_SCHEME}{start + i}"} for i, cell in enumerate(chunk)])
    context = {"pages": pages, "layout": layout, "positions": layout.positions(), "title": title}
    context["cut_marks_url"] = CUT_MARKS_URL
    return render_to_string("qrcodes/pdf/sheet.html", context)


class SheetError(Exception):
    """WeasyPrint could not draw part of the sheet (it only logs that): the sheet would not match Vipps."""


def render_sheet(
    cells: Sequence[SheetCell],
    layout: Layout,
    *,
    title: str = "QR codes",
    on_progress: Callable[[int], None] | None = None,
) -> bytes:
    """The PDF; `on_progress(percent)` is called once the pages are laid out, then as each page is painted."""
    import weasyprint

    html = sheet_html(cells, layout, title=title)
    with _weasyprint_errors() as errors:
        document = weasyprint.HTML(string=html, url_fetcher=offline_fetcher(cells, layout)).render()
        if on_progress is not None:
            pages = len(document.pages)
            on_progress(LAYOUT_SHARE)
            _count_painted_pages(
                document.pages, lambda n: on_progress(LAYOUT_SHARE + (100 - LAYOUT_SHARE) * n // pages)
            )
        result = document.write_pdf()
    if errors:
        raise SheetError("; ".join(errors))
    return result


@contextmanager
def _weasyprint_errors():
    """WeasyPrint logs, rather than raises, an image it cannot draw; collect those errors."""
    errors: list[str] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: errors.append(record.getMessage())
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield errors
    finally:
        logger.removeHandler(handler)


def _count_painted_pages(pages: list, on_page: Callable[[int], None]) -> None:
    # WeasyPrint has no progress hook; painting is page by page, so each page reports when it is painted.
    for number, page in enumerate(pages, 1):

        def paint(stream, scale=1, _paint=page.paint, _number=number):
            _paint(stream, scale)
            on_page(_number)

        page.paint = paint
