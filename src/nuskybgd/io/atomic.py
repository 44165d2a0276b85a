"""Atomic, non-clobbering output.

Every product is written to a temporary file in the destination folder and renamed into place,
so an interrupted run never leaves a half-written file.  An existing output is never replaced
unless ``overwrite=True``; it is never renamed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from astropy.io import fits

from nuskybgd.errors import InputError, OutputExistsError


def check_writable(path: str | Path, overwrite: bool = False) -> Path:
    """Return ``path`` as a Path after checking it may be written.

    Raises
    ------
    OutputExistsError
        If the file exists and ``overwrite`` is false.
    InputError
        If the destination folder does not exist.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExistsError(p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {p}: folder {parent} does not exist; create it first.", p)
    return p


@contextmanager
def atomic_path(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file is removed if the body raises.
    """
    p = check_writable(path, overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if p.exists() and not overwrite:  # appeared while we were writing
            raise OutputExistsError(p)
        os.replace(tmp_path, p)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(path: str | Path, writer: Callable[[Path], None], overwrite: bool = False) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path, overwrite) as tmp:
        writer(tmp)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomic(path, lambda t: t.write_text(text, encoding="utf-8"), overwrite)


def write_fits_atomic(path: str | Path, hdul: fits.HDUList, overwrite: bool = False) -> Path:
    """Write an ``astropy.io.fits.HDUList`` to ``path`` atomically (gzip if the name ends .gz)."""
    def _w(tmp: Path) -> None:
        if str(path).endswith(".gz"):
            import gzip

            with gzip.open(tmp, "wb") as fh:
                hdul.writeto(fh, checksum=True)
        else:
            hdul.writeto(tmp, overwrite=True, checksum=True)

    return write_atomic(path, _w, overwrite)
