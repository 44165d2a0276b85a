"""Cheap structural checks of a FITS file on disk, for messages that say what is wrong.

A FITS file is a sequence of 2880-byte blocks, so a plain file whose size is not a multiple of
2880 bytes — or a gzip file whose stream ends early or decompresses to such a size — was cut
short (an incomplete download or copy).  Readers use :func:`fits_truncated` to say
"truncated" instead of "not an OGIP spectrum" when astropy sees fewer extensions than expected.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

FITS_BLOCK = 2880  # bytes


def _gzip_length(path: Path) -> int | None:
    """Decompressed length of a gzip file, or None if its stream is cut short or corrupt."""
    total = 0
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                total += len(chunk)
    except (EOFError, OSError, zlib.error):
        return None
    return total


def fits_truncated(path: str | Path) -> bool:
    """True if ``path`` (plain or gzip) cannot be a whole FITS file: it was cut short.

    Parameters
    ----------
    path : path
        An existing file.

    Returns
    -------
    bool
        True for a non-empty file whose (decompressed) size in bytes is not a multiple of 2880,
        or a gzip file whose stream ends early.  False for an empty or unreadable path (other
        messages cover those).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            magic = fh.read(2)
    except OSError:
        return False
    if size == 0:
        return False
    if magic == b"\x1f\x8b":
        n = _gzip_length(p)
        return n is None or (n > 0 and n % FITS_BLOCK != 0)
    return size % FITS_BLOCK != 0
