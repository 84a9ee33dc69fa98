"""A folder of the files that have broken file managers like ours.

Text and binary files, a real PNG image, names with spaces, `+`, `:`,
parentheses and non-ASCII letters, a sub-folder whose name is not ASCII,
case 1's `reports/Q3 results (final)+v2: é.pdf`, an empty file and one of
about 5 MB (bigger than any request body the API takes).

    python tests/e2e/sample_folder.py DIR   # build one for a manual smoke run
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from pathlib import Path

BIG_FILE_BYTES = 5 * 1024 * 1024 + 17  # not a multiple of any chunk size

MINIMAL_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


def png_image(width: int = 16, height: int = 16) -> bytes:
    """A valid RGB PNG: a gradient, made with zlib alone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00"  # filter type: none
        + b"".join(bytes((x * 16, y * 16, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def sample_files() -> dict[str, bytes]:
    """Relative path ('/'-separated) to content."""
    return {
        "notes.txt": "Plain text, with a second line.\nAnd an é.\n".encode(),
        "data.bin": bytes(range(256)) * 16 + os.urandom(1000),
        "image.png": png_image(),
        "with spaces in name.txt": b"spaces\n",
        "a+b=c.txt": b"plus sign\n",
        "café é.txt": "accents: é, è, ü\n".encode(),
        "日本/資料 1.txt": "日本語のテキスト\n".encode(),
        "reports/Q3 results (final)+v2: é.pdf": MINIMAL_PDF,
        "reports/2026/summary.csv": b"quarter,total\nQ1,10\nQ2,12\n",
        "empty.txt": b"",
        "big/random.bin": os.urandom(BIG_FILE_BYTES),
    }


def build_sample_folder(root: Path) -> dict[str, bytes]:
    """Write the sample files under `root`; returns what was written."""
    files = sample_files()
    for name, content in files.items():
        path = root.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DIR")
    target = Path(sys.argv[1])
    written = build_sample_folder(target)
    print(f"{len(written)} files written under {target}")  # noqa: T201
