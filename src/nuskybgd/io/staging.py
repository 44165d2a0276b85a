"""All-or-nothing output of a set of files (a step with several products).

:func:`atomic_set` gives every declared output a place in a hidden staging folder beside the
destinations.  When the body finishes, the set is committed: a ``COMMIT`` record is written
into the staging folder (one atomic rename) and the files are then moved to their places.
``kill -9`` at any moment therefore leaves either

* no record: the previous state of the destinations, plus a staging folder that the next run
  removes; or
* a record: a set that the next run finishes moving in (roll forward), giving the complete set.

Recovery happens at the start of every :func:`atomic_set` whose destinations lie at or below a
staging folder left by a killed process on this host (:func:`recover_staging`).  Staging folders
are named ``.nuskybgd-stage.<host>.<pid>.<random>``; a running process's folder is never touched.

Example
-------
>>> with atomic_set([out / "a.fits", out / "b.fits"], overwrite=False) as stage:  # doctest: +SKIP
...     write_fits_atomic(stage[out / "a.fits"], hdul_a)
...     write_fits_atomic(stage[out / "b.fits"], hdul_b)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nuskybgd.errors import OutputError, OutputExistsError
from nuskybgd.io.atomic import (
    check_folder,
    host_tag,
    is_output_errno,
    output_error,
    owner_is_dead,
    remove_stale_temporaries,
)
from nuskybgd.testhooks import checkpoint

STAGE_PREFIX = ".nuskybgd-stage."
COMMIT_RECORD = "COMMIT"
_FILES = "files"


class StagedOutputs:
    """Where each declared output of an :func:`atomic_set` is written before the commit.

    ``stage[dest]`` (or :meth:`path`) is the staging path of destination ``dest``; its folder
    exists.  :attr:`destinations` lists the declared destinations (absolute).
    """

    def __init__(self, root: Path, base: Path, destinations: list[Path]) -> None:
        self.root = root
        self.base = base
        self.destinations = destinations

    def path(self, dest: str | Path) -> Path:
        """Staging path of the declared destination ``dest``."""
        d = Path(dest).absolute()
        if d not in self.destinations:
            raise ValueError(f"{dest} is not one of the declared outputs of this set")
        return self.root / _FILES / d.relative_to(self.base)

    __getitem__ = path

    def written(self) -> list[Path]:
        """Destinations whose staged file exists."""
        return [d for d in self.destinations if self.path(d).is_file()]


def _check_destination(d: Path, overwrite: bool) -> None:
    if d.is_dir():
        raise OutputError(f"output {d} is an existing folder; give a file name (a folder is never "
                          "replaced, not even with --overwrite).", d)
    if d.exists() and not d.is_file():
        raise OutputError(f"output {d} exists and is not a regular file; choose another name.", d)
    if d.exists() and not overwrite:
        raise OutputExistsError(d)
    probe = d.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"cannot write {d}: {probe} is a file, not a folder; choose another --outdir "
                          "or remove that file.", d)


def _named(exc: OSError, default: Path) -> Path:
    """The file an OSError names, unless it is inside a staging folder (then ``default``)."""
    name = exc.filename
    if isinstance(name, (str, Path)) and STAGE_PREFIX not in str(name):
        return Path(name)
    return default


def _base_folder(destinations: list[Path]) -> Path:
    """Deepest existing folder that holds every destination (where the staging folder goes)."""
    base = Path(os.path.commonpath([str(d.parent) for d in destinations]))
    while not base.exists() and base != base.parent:
        base = base.parent
    return base


def _roll_forward(stage: Path) -> None:
    """Move the files of a committed staging folder to their places (idempotent)."""
    record = json.loads((stage / COMMIT_RECORD).read_text(encoding="utf-8"))
    overwrite = bool(record.get("overwrite", False))
    base = stage.parent
    files = stage / _FILES
    for src in sorted(p for p in files.rglob("*") if p.is_file()):
        dest = base / src.relative_to(files)
        if dest.exists():
            if not overwrite or not dest.is_file():  # made by someone else since: never replace it
                continue
            os.chmod(src, stat.S_IMODE(dest.stat().st_mode))
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        checkpoint("atomic_set.moved")


def recover_staging(folder: str | Path) -> list[tuple[str, Path]]:
    """Finish or discard the staging folders that killed runs left in ``folder`` and above it.

    ``folder`` (or, when missing, its deepest existing ancestor) and its ancestors on the same
    file system are searched.  A staging folder of a
    dead process on this host is rolled forward when it holds a commit record, removed otherwise.

    Returns
    -------
    list of (str, Path)
        ``("completed" | "removed", staging folder)`` for each one handled.
    """
    done: list[tuple[str, Path]] = []
    here = Path(folder).absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        device = here.stat().st_dev
    except OSError:
        return done
    for level in (here, *here.parents):
        try:
            if level.stat().st_dev != device:
                break
            entries = [e for e in os.scandir(level) if e.name.startswith(STAGE_PREFIX) and e.is_dir()]
        except OSError:
            continue
        for entry in entries:
            stage = Path(entry.path)
            if not owner_is_dead(entry.name[len(STAGE_PREFIX):]):
                continue
            if (stage / COMMIT_RECORD).is_file():
                _roll_forward(stage)
                done.append(("completed", stage))
            else:
                done.append(("removed", stage))
            shutil.rmtree(stage, ignore_errors=True)
    return done


def _commit(staged: StagedOutputs, overwrite: bool, require_all: bool) -> list[Path]:
    present = staged.written()
    if require_all:
        missing = [d for d in staged.destinations if d not in present]
        if missing:
            raise RuntimeError(f"output set incomplete: {', '.join(map(str, missing))} was not written")
    if not overwrite:
        for d in present:
            if d.exists():  # appeared while we were writing
                raise OutputExistsError(d)
    checkpoint("atomic_set.staged")
    record = staged.root / f".{COMMIT_RECORD}.tmp"
    record.write_text(json.dumps({"overwrite": overwrite,
                                  "outputs": [str(d) for d in present]}) + "\n", encoding="utf-8")
    os.replace(record, staged.root / COMMIT_RECORD)
    checkpoint("atomic_set.committed")
    _roll_forward(staged.root)
    return present


@contextmanager
def atomic_set(paths: Iterable[str | Path], overwrite: bool = False,
               require_all: bool = True) -> Iterator[StagedOutputs]:
    """Write a set of outputs so that they appear all together or not at all.

    Parameters
    ----------
    paths : iterable of path
        The outputs (files; their folders are created at the commit when missing).
    overwrite : bool
        Allow replacing existing files (their mode is kept).  Folders are never replaced.
    require_all : bool
        If false, outputs that the body did not write are simply not produced (a step whose
        products depend on the data); otherwise a missing one is a programming error.

    Yields
    ------
    StagedOutputs
        ``stage[dest]`` is where to write ``dest``.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is false (checked before and again at the commit).
    OutputError
        An output is a folder, or the folder cannot be written (missing parent is fine).
    """
    destinations = list(dict.fromkeys(Path(p).absolute() for p in paths))
    if not destinations:
        raise ValueError("atomic_set needs at least one output")
    recover_staging(_base_folder(destinations))
    for d in destinations:
        _check_destination(d, overwrite)
    base = _base_folder(destinations)
    check_folder(base, destinations[0])
    remove_stale_temporaries(base)
    root = base / f"{STAGE_PREFIX}{host_tag()}.{os.getpid()}.{secrets.token_hex(4)}"
    staged = StagedOutputs(root, base, destinations)
    try:
        for d in destinations:
            staged.path(d).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise output_error(exc, destinations[0]) from None
    committed = False
    try:
        try:
            yield staged
        except OSError as exc:
            if is_output_errno(exc):
                raise output_error(exc, _named(exc, destinations[0])) from None
            raise
        try:
            _commit(staged, overwrite, require_all)
        except OSError as exc:
            raise output_error(exc, _named(exc, destinations[0])) from None
        committed = True
    finally:
        if committed or not (root / COMMIT_RECORD).is_file():
            shutil.rmtree(root, ignore_errors=True)
