"""Atomic, non-clobbering output of one file.

Every product is written to a temporary file in the destination folder and renamed into place,
so an interrupted run never leaves a half-written file.  An existing output is never replaced
unless ``overwrite=True``; a folder or a device is never replaced at all.

* New files get the mode the user's umask gives (like any program that creates a file), so
  colleagues on a shared server can read the products; replacing a file with ``overwrite``
  keeps the mode the old file had.
* A folder that cannot be written (missing, a file, read-only, no permission, full) is reported
  as one sentence naming the path (:class:`~nuskybgd.errors.OutputError`), never a traceback.
* Temporary files are named ``.<name>.nuskybgd-tmp.<host>.<pid>.<random>``; those left by a
  killed run (its process no longer exists) are removed the next time that output is written.

For a step with several outputs that must appear together, see :mod:`nuskybgd.io.staging`.
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from nuskybgd.errors import OutputError, OutputExistsError
from nuskybgd.testhooks import checkpoint

if TYPE_CHECKING:  # astropy is imported only where a FITS file is written
    from astropy.io import fits

TMP_TAG = ".nuskybgd-tmp."

#: errno values that always concern the output being written
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def is_output_errno(exc: OSError) -> bool:
    """True if ``exc`` always concerns the output being written (full disk, read-only, too big)."""
    return exc.errno in OUTPUT_ERRNOS or (exc.errno is None and "space on disk" in str(exc).lower())


def host_tag() -> str:
    """Host name as used in temporary names (no dots, so names split cleanly)."""
    return socket.gethostname().replace(".", "_") or "host"


def process_alive(pid: int) -> bool:
    """True if a process with id ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def owner_is_dead(tag: str) -> bool:
    """For a ``<host>.<pid>.<random>`` tag: True if it was made on this host by a dead process."""
    parts = tag.split(".")
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    return parts[0] == host_tag() and not process_alive(int(parts[1]))


def output_error(exc: OSError, path: Path) -> OutputError:
    """One-sentence :class:`OutputError` for an ``OSError`` raised while writing ``path``."""
    folder = path.parent
    code = exc.errno
    if code is None and "space on disk" in str(exc).lower():  # astropy's own full-disk check
        code = errno.ENOSPC
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        msg = (f"no space left on the device holding {folder} while writing {path.name}; free some "
               "space or choose another --outdir.")
    elif code == errno.EROFS:
        msg = f"cannot write {path}: {folder} is on a read-only file system; choose another --outdir."
    elif code in (errno.EACCES, errno.EPERM):
        msg = f"cannot write {path}: no permission to write in {folder}; choose another --outdir."
    elif code == errno.ENOTDIR:
        msg = f"cannot write {path}: part of {folder} is a file, not a folder; choose another --outdir."
    else:
        msg = f"cannot write {path} ({exc.strerror or exc}); choose another --outdir."
    return OutputError(msg, path)


def check_folder(folder: Path, path: Path) -> None:
    """Raise :class:`OutputError` unless ``folder`` exists, is a folder and may be written.

    ``path`` (the output) is named in the message.
    """
    if not folder.is_dir():
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            raise OutputError(f"cannot write {path}: {probe} is a file, not a folder; choose another "
                              "--outdir or remove that file.", path)
        raise OutputError(f"cannot write {path}: folder {folder} does not exist; create it first or "
                          "choose another --outdir.", path)
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        raise output_error(OSError(errno.EROFS, "read-only file system"), path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise output_error(OSError(errno.EACCES, "permission denied"), path)


def check_writable(path: str | Path, overwrite: bool = False) -> Path:
    """Return ``path`` as a Path after checking it may be written.

    Raises
    ------
    OutputError
        The path is an existing folder or device (even with ``overwrite``), or its folder is
        missing, a file, read-only or not writable.
    OutputExistsError
        The file exists and ``overwrite`` is false.
    """
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"output {p} is an existing folder; give a file name (a folder is never "
                          "replaced, not even with --overwrite).", p)
    if p.exists() and not p.is_file():
        raise OutputError(f"output {p} exists and is not a regular file; choose another name.", p)
    if p.exists() and not overwrite:
        raise OutputExistsError(p)
    check_folder(p.parent if str(p.parent) else Path("."), p)
    return p


def remove_stale_temporaries(folder: str | Path, name: str | None = None) -> list[Path]:
    """Remove temporary files left in ``folder`` by killed runs (of output ``name``, or all).

    Only files made on this host by processes that no longer exist are removed.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    prefix = f".{name}{TMP_TAG}" if name else "."
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        head, tag_sep, tag = entry.name.partition(TMP_TAG)
        if not tag_sep or not entry.name.startswith(prefix) or not head.startswith("."):
            continue
        if owner_is_dead(tag):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _new_temporary(p: Path) -> tuple[Path, int]:
    """Create an empty temporary file beside ``p``; return it and the mode the output gets."""
    folder = p.parent if str(p.parent) else Path(".")
    remove_stale_temporaries(folder, p.name)
    tmp = folder / f".{p.name}{TMP_TAG}{host_tag()}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        # 0o666 filtered by the umask (and any default ACL): the mode a new product should have
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        os.close(fd)
    except OSError as exc:
        raise output_error(exc, p) from None
    if p.is_file():  # replacing (overwrite): keep the old file's mode
        mode = stat.S_IMODE(p.stat().st_mode)
    return tmp, mode


@contextmanager
def atomic_path(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file is removed if the body raises.  A full disk or read-only file system
    met while the body writes becomes an :class:`OutputError` naming ``path``.
    """
    p = check_writable(path, overwrite)
    tmp_path, mode = _new_temporary(p)
    try:
        try:
            yield tmp_path
        except OSError as exc:
            if is_output_errno(exc):
                raise output_error(exc, p) from None
            raise
        if p.exists() and not overwrite:  # appeared while we were writing
            raise OutputExistsError(p)
        if p.is_dir():
            raise OutputError(f"output {p} became a folder while it was written; choose another name.", p)
        checkpoint("atomic.before_replace")
        try:
            os.chmod(tmp_path, mode)
            os.replace(tmp_path, p)
        except OSError as exc:
            raise output_error(exc, p) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(path: str | Path, writer: Callable[[Path], None], overwrite: bool = False) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically.

    Any ``OSError`` the writer raises (it only writes) becomes an :class:`OutputError`.
    """
    p = Path(path)
    with atomic_path(p, overwrite) as tmp:
        try:
            writer(tmp)
        except OSError as exc:
            raise output_error(exc, p) from None
    return p


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
