"""QR code images (SVG and PNG) for ``qrImageUrl`` and QR-flow ``redirectUrl``.

segno computes the QR matrix. PNGs are written here at exactly ``size`` x ``size`` pixels
(the spec's QrImageSize, 100-2000), which segno's integer module scale cannot do by itself.
"""

from __future__ import annotations

import io
import struct
import zlib

import segno

MIN_SIZE = 100
MAX_SIZE = 2000
DEFAULT_PNG_SIZE = 1024
BORDER = 4  # the quiet zone the QR standard asks for


def _matrix(content: str) -> list[list[bool]]:
    qr = segno.make(content, error="m", micro=False)
    return [[bool(cell) for cell in row] for row in qr.matrix_iter(scale=1, border=BORDER)]


def svg(content: str) -> bytes:
    """A scalable SVG of the QR code (white background, so it also works on dark pages)."""
    buffer = io.BytesIO()
    segno.make(content, error="m", micro=False).save(
        buffer,
        kind="svg",
        scale=10,
        border=BORDER,
        dark="#000",
        light="#fff",
        xmldecl=True,
        svgclass=None,
        lineclass=None,
    )
    return buffer.getvalue()


def png(content: str, size: int = DEFAULT_PNG_SIZE) -> bytes:
    """An 8-bit greyscale PNG of exactly ``size`` x ``size`` pixels."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be {MIN_SIZE}-{MAX_SIZE}")
    matrix = _matrix(content)
    modules = len(matrix)
    # Nearest-neighbour mapping from pixels to modules: modules differ by at most one pixel.
    index = [px * modules // size for px in range(size)]
    raw = bytearray()
    for y in range(size):
        row = matrix[index[y]]
        raw.append(0)  # filter type "None"
        raw.extend(0 if row[index[x]] else 255 for x in range(size))
    return _png_file(size, size, bytes(raw))


def _png_file(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
