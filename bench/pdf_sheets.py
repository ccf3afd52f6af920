"""Benchmark: PDF sheets of 10, 100 and 1,000 QR codes (12 per page) from cached images.

    .venv/bin/python bench/pdf_sheets.py

Each measurement runs in a fresh process, so its peak memory (max RSS) is its own. The images are the
sandbox's official SVGs, made before the clock starts (as the portal renders from its image cache). The
baseline is WeasyPrint rendering the same pages with the texts and cut marks but without the images, in the
same run. Target: 1,000 codes in under 10 s and 300 MB on a 2-core machine. The last line is the 1,000-code figure.
"""

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000)


def measure(count: int, with_images: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "merchant_portal.settings")
    import django

    django.setup()
    from qrcodes.pdf import LAYOUTS, SheetCell, offline_fetcher, render_sheet, sheet_html
    from vipps_sandbox import images

    cells = [
        SheetCell(
            image=images.svg(f"https://qr.vipps.no/28/2/05/031/c-{n:022d}"),
            image_type="image/svg+xml",
            location_description=f"Automat {n + 1:04d}, Storgata 1",
            merchant_qr_id=f"storgata-automat-{n + 1:04d}",
            msn="223344",
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    if with_images:
        document = render_sheet(cells, LAYOUTS["12"], on_progress=lambda percent: None)
    else:
        import weasyprint

        html = re.sub(r"<img [^>]*>", "", sheet_html(cells, LAYOUTS["12"]))
        document = weasyprint.HTML(string=html, url_fetcher=offline_fetcher(cells, LAYOUTS["12"])).write_pdf()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "bytes": len(document)}


def run(count: int, with_images: bool) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--one", str(count), "images" if with_images else "text"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    print(f"PDF sheets, 12 codes per page, A4 (cores: {os.cpu_count()})")
    for count in SIZES:
        sheet, text = run(count, True), run(count, False)
        pages = -(-count // 12)
        print(
            f"{count:>5} codes ({pages} pages): {sheet['seconds']:.2f} s, peak {sheet['peak_mb']:.0f} MB, "
            f"{sheet['bytes'] / 1024:.0f} KiB; text-only {text['seconds']:.2f} s, {text['peak_mb']:.0f} MB; "
            f"ratio {sheet['seconds'] / text['seconds']:.2f}x"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3] == "images")))
    else:
        main()
