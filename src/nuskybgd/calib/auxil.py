"""The nuskybgd auxiliary calibration folder and ``nuskybgd calib fetch``.

The folder holds the public, MIT-licensed auxiliary set of nuskybgd-py (aperture images,
Be-window transmission, on-axis ARFs, identity RMF, presets, aperture parameters, and its
LICENSE), pinned at one commit with sha256 checksums in ``nuskybgd/data/auxil_manifest.json``.

Where it is looked for, in order:

1. an explicit folder (``auxil=`` argument / ``--auxil`` option);
2. ``$NUSKYBGD_AUXIL``;
3. the user cache filled by ``nuskybgd calib fetch``: ``$NUSKYBGD_CACHE/auxil`` if that variable
   is set, else the platform cache folder (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
   ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows) + ``nuskybgd/auxil``.

``fetch`` downloads every file with :mod:`urllib` from the pinned commit on GitHub, or from a
mirror given by ``base_url`` / ``$NUSKYBGD_AUXIL_URL`` (a folder holding the files by name),
verifies size and sha256 before anything is moved into place, and renames each verified file
atomically.  A failed or mismatching download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from nuskybgd.errors import CalibrationError

#: Environment variables.
ENV_AUXIL = "NUSKYBGD_AUXIL"
ENV_CACHE = "NUSKYBGD_CACHE"
ENV_URL = "NUSKYBGD_AUXIL_URL"

#: Auxiliary file names per calibration item (``{m}`` is the module letter).
AUXIL_FILES: dict[str, str] = {
    "aperture_image": "det{m}_det1.img.gz",
    "aperture_params": "nomapbgdparams.dat",
    "be_transmission": "be.arf",
    "onaxis_arf": "fcxb{m}.arf",
    "identity_rmf": "diag.rmf",
    "presets": "ratios.json",
}


@dataclass(frozen=True)
class AuxilFile:
    """One pinned file: its name, path in the repository, sha256 and size in bytes."""

    name: str
    path: str
    sha256: str
    size: int


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The pinned manifest (repository, commit, default base URL, files)."""
    text = resources.files("nuskybgd.data").joinpath("auxil_manifest.json").read_text("utf-8")
    return json.loads(text)


def pinned_files() -> list[AuxilFile]:
    """The pinned files of the auxiliary set."""
    return [AuxilFile(f["name"], f["path"], f["sha256"], int(f["bytes"])) for f in manifest()["files"]]


def user_cache_dir() -> Path:
    """The user cache folder of nuskybgd (not created)."""
    env = os.environ.get(ENV_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nuskybgd"
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "nuskybgd" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "nuskybgd"


def default_auxil_dir() -> Path:
    """Where ``nuskybgd calib fetch`` puts the auxiliary set by default."""
    return user_cache_dir() / "auxil"


def find_auxil_dir(auxil: str | Path | None = None) -> tuple[Path | None, str]:
    """The auxiliary folder to use and why: ``(path or None, reason)``.

    An explicit ``auxil`` or ``$NUSKYBGD_AUXIL`` that is not a folder raises
    :class:`CalibrationError` (the user asked for it); a missing cache is not an error.
    """
    if auxil is not None:
        p = Path(auxil).expanduser()
        if not p.is_dir():
            raise CalibrationError(f"auxiliary folder {p} does not exist; give an existing folder "
                                   "or run 'nuskybgd calib fetch'.")
        return p, "given explicitly"
    env = os.environ.get(ENV_AUXIL, "").strip()
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise CalibrationError(f"{ENV_AUXIL}={env} is not a folder; fix the variable or unset it.")
        return p, f"${ENV_AUXIL}"
    p = default_auxil_dir()
    if p.is_dir():
        return p, "user cache (nuskybgd calib fetch)"
    return None, f"no ${ENV_AUXIL} and no fetched set in {p}"


def sha256_file(path: str | Path) -> str:
    """sha256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_auxil(folder: str | Path) -> dict[str, str]:
    """Check each pinned file in ``folder``: ``{name: 'ok' | 'missing' | 'checksum mismatch'}``."""
    folder = Path(folder)
    out: dict[str, str] = {}
    for f in pinned_files():
        p = folder / f.name
        if not p.is_file():
            out[f.name] = "missing"
        elif p.stat().st_size != f.size or sha256_file(p) != f.sha256:
            out[f.name] = "checksum mismatch"
        else:
            out[f.name] = "ok"
    return out


def file_url(f: AuxilFile, base_url: str | None) -> str:
    """URL of one pinned file: the pinned commit on GitHub, or ``base_url/name`` for a mirror."""
    if base_url:
        return base_url.rstrip("/") + "/" + f.name
    return manifest()["default_base_url"].rstrip("/") + "/" + f.path


def fetch_auxil(
    dest: str | Path | None = None,
    base_url: str | None = None,
    overwrite: bool = False,
    timeout: float = 60.0,
    progress: Callable[[str], None] | None = None,
    files_done: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Download and verify the pinned auxiliary set into ``dest`` (default: the user cache).

    Every file is downloaded into a temporary folder beside ``dest`` and checked (size and
    sha256) before any file is moved into place, so a failure leaves ``dest`` as it was.  Files
    already present with the right checksum are kept.

    Parameters
    ----------
    dest : path, optional
        Destination folder (created if needed).  Default :func:`default_auxil_dir`.
    base_url : str, optional
        Mirror holding the files by name.  Default ``$NUSKYBGD_AUXIL_URL`` or the pinned commit.
    overwrite : bool
        Replace existing files whose checksum differs (otherwise that is an error).
    timeout : float
        Per-request timeout in s.
    progress : callable, optional
        Called with one line per file.
    files_done : callable, optional
        Called as ``files_done(done, total)`` each time a file is verified in place.

    Returns
    -------
    list of Path
        The files of the set in ``dest``.

    Raises
    ------
    CalibrationError
        A download fails, a checksum does not match, or an existing different file is in the way.
    """
    dest = Path(dest).expanduser() if dest is not None else default_auxil_dir()
    base_url = base_url or os.environ.get(ENV_URL, "").strip() or None
    say = progress or (lambda s: None)
    files = pinned_files()
    count = {"done": 0}

    def one_done() -> None:
        count["done"] += 1
        if files_done is not None:
            files_done(count["done"], len(files))

    todo: list[AuxilFile] = []
    for f in files:
        target = dest / f.name
        if target.exists():
            if target.is_file() and target.stat().st_size == f.size and sha256_file(target) == f.sha256:
                say(f"{f.name}: already present and verified")
                one_done()
                continue
            if not overwrite:
                raise CalibrationError(
                    f"{target} exists but differs from the pinned {f.name}; remove it or pass "
                    "--overwrite to replace it."
                )
        todo.append(f)
    if not todo:
        return [dest / f.name for f in files]
    parent = dest.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmpdir = Path(tempfile.mkdtemp(prefix=".nuskybgd-fetch-", dir=parent))
    except OSError as exc:
        raise CalibrationError(f"cannot write into {parent} ({exc.strerror}); choose another "
                               "folder with --dest or set NUSKYBGD_CACHE.") from exc
    try:
        for f in todo:
            url = file_url(f, base_url)
            say(f"{f.name}: downloading {url}")
            tmp = tmpdir / f.name
            h = hashlib.sha256()
            size = 0
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                    for chunk in iter(lambda: resp.read(1 << 16), b""):
                        h.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                why = getattr(exc, "reason", None) or exc
                raise CalibrationError(
                    f"downloading {url} failed ({why}); check the network or the --base-url mirror."
                ) from exc
            if size != f.size or h.hexdigest() != f.sha256:
                raise CalibrationError(
                    f"{url} does not match the pinned checksum of {f.name} (got {size} bytes, sha256 "
                    f"{h.hexdigest()[:16]}…); nothing was installed — check the mirror."
                )
        dest.mkdir(parents=True, exist_ok=True)
        for f in todo:
            os.replace(tmpdir / f.name, dest / f.name)
            say(f"{f.name}: verified and installed")
            one_done()
    finally:
        for p in tmpdir.iterdir():
            p.unlink()
        tmpdir.rmdir()
    return [dest / f.name for f in files]
