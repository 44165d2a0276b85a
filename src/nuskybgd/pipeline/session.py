"""The session file ``nuskybgd-session.toml``: what was run on an observation, with what, and what
it made.

One file per observation, in its ``event_cl/`` folder, holding both modules (ARCHITECTURE §6,
§10).  It is human-readable TOML (tomlkit: comments a user adds are kept), carries a schema
version, the observation, and per step instance its parameters, status, and the inputs and
outputs with their sizes, modification times and SHA-256 content hashes.  It is written
atomically after every transition, so a dropped SSH connection or ``kill -9`` loses nothing that
had completed.  A lock file stops two processes (two wizards, a wizard and ``nuskybgd run``) from
writing the same session; the operating system releases it when its holder dies, so a stale lock
never blocks a rerun.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nuskybgd.errors import InputError, NuskybgdError

__all__ = ["SESSION_NAME", "SCHEMA_VERSION", "Session", "SessionLocked", "FileRecord", "file_record", "now_utc",
           "sha256_file"]

SESSION_NAME = "nuskybgd-session.toml"
SCHEMA_VERSION = 1
_HEADER = """\
nuskybgd session: what was run on this observation, with which parameters, and what it made.
Written by nuskybgd after every step; resume with 'nuskybgd run nuskybgd-session.toml' or 'nuskybgd-tui'.
You may edit parameter values and add comments; nuskybgd keeps your comments.
"""


class SessionLocked(NuskybgdError):
    """Another process holds the session."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class FileRecord:
    """A file as the session saw it: path (relative to the session folder when inside it), size
    (bytes), modification time (ns) and SHA-256."""

    path: str
    size: int
    mtime_ns: int
    sha256: str

    def as_table(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}


def file_record(path: Path, folder: Path, known: FileRecord | None = None) -> FileRecord | None:
    """The record of ``path`` now (None if absent or a folder).  The hash of ``known`` is reused
    when size and modification time are unchanged, so large event files are hashed once."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    rel = _relative(path, folder)
    if known is not None and known.size == st.st_size and known.mtime_ns == st.st_mtime_ns:
        return FileRecord(rel, st.st_size, st.st_mtime_ns, known.sha256)
    return FileRecord(rel, st.st_size, st.st_mtime_ns, sha256_file(path))


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(folder)))
    except ValueError:
        return str(Path(os.path.abspath(path)))


def now_utc() -> str:
    """UTC time now, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    """A value as TOML can hold it (paths as strings, tuples as lists, None dropped by callers)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    return value


class Session:
    """An observation's session file, opened for reading and writing (holding its lock).

    Use :meth:`open`; call :meth:`close` (or use it as a context manager) to release the lock.
    """

    def __init__(self, path: Path, doc, lock) -> None:
        self.path = path
        self.folder = path.parent
        self._doc = doc
        self._lock = lock

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, where: str | Path, observation: dict[str, Any] | None = None) -> Session:
        """Open (or create) the session of an observation.

        Parameters
        ----------
        where : path
            The session file, or the observation's ``event_cl/`` folder holding it.
        observation : dict, optional
            ``seqid``, ``modules`` (and optionally ``target``) for a new session.  Without it a
            new session is described from the folder's event files.

        Raises
        ------
        SessionLocked
            Another process has the session open.
        InputError
            The file is not a readable session (one sentence naming it).
        """
        import tomlkit
        from filelock import FileLock, Timeout

        where = Path(where)
        path = where / SESSION_NAME if where.is_dir() or where.suffix != ".toml" else where
        if not path.parent.is_dir():
            raise InputError(f"{path.parent} is not a folder; give the observation's event_cl/ folder or its "
                             f"{SESSION_NAME}.", path.parent)
        lock = FileLock(str(path) + ".lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise SessionLocked(f"{path} is open in another nuskybgd (wizard or 'nuskybgd run'); close that one "
                                "first, or work on a copy of the observation.") from None
        except OSError as exc:
            raise InputError(f"cannot lock {path} ({exc.strerror}); make the folder writable.", path) from None
        try:
            if path.exists():
                doc = cls._read(path)
            else:
                doc = tomlkit.document()
                for line in _HEADER.splitlines():
                    doc.add(tomlkit.comment(line))
                doc["schema"] = SCHEMA_VERSION
                doc["observation"] = _plain(observation or _describe(path.parent))
                doc["steps"] = tomlkit.table(is_super_table=True)
            session = cls(path, doc, lock)
            if not path.exists():
                session.save()
            return session
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _read(path: Path):
        import tomlkit
        from tomlkit.exceptions import TOMLKitError

        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except (TOMLKitError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"session file {path} is not valid TOML ({str(exc).splitlines()[0]}); fix it, or "
                             "move it away to start a new session.", path) from None
        version = doc.get("schema")
        if version != SCHEMA_VERSION:
            raise InputError(f"session file {path} has schema {version!r}, not {SCHEMA_VERSION}; move it away "
                             "to start a new session.", path)
        if "observation" not in doc or "seqid" not in doc["observation"]:
            raise InputError(f"session file {path} lacks [observation] seqid; move it away to start a new "
                             "session.", path)
        if "steps" not in doc:
            doc["steps"] = {}
        return doc

    def close(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- content ---------------------------------------------------------------------------

    @property
    def observation(self) -> dict[str, Any]:
        """The observation: seqid, modules, target, … (plain values)."""
        return self._doc["observation"].unwrap()

    def observation_value(self, name: str) -> Any:
        """One value of the ``[observation]`` table (None when absent)."""
        value = self._doc["observation"].get(name)
        return value.unwrap() if hasattr(value, "unwrap") else value

    def set_observation_value(self, name: str, value: Any) -> None:
        """Set one value of the ``[observation]`` table and save."""
        self._doc["observation"][name] = _plain(value)
        self.save()

    @property
    def saved_at(self) -> str | None:
        """UTC time of the last save."""
        return self._doc.get("saved")

    def record(self, key: str) -> dict[str, Any] | None:
        """The recorded state of step instance ``key`` (plain values), or None."""
        steps = self._doc["steps"]
        return steps[key].unwrap() if key in steps else None

    def file_records(self, key: str, which: str) -> dict[str, FileRecord]:
        """Recorded inputs or outputs (``which``) of ``key``, by relative path."""
        rec = self.record(key) or {}
        return {f["path"]: FileRecord(f["path"], int(f["size"]), int(f["mtime_ns"]), f["sha256"])
                for f in rec.get(which, [])}

    def update(self, key: str, **fields: Any) -> None:
        """Set fields of ``key``'s record (None removes a field) and save."""
        import tomlkit

        steps = self._doc["steps"]
        if key not in steps:
            steps[key] = tomlkit.table()
        table = steps[key]
        for name, value in fields.items():
            if value is None:
                if name in table:
                    del table[name]
            elif name in ("inputs", "outputs"):
                aot = tomlkit.aot()
                for r in value:
                    aot.append(tomlkit.item(r.as_table()))
                table[name] = aot
            else:
                table[name] = _plain(value)
        self.save()

    def forget(self, key: str) -> None:
        """Remove ``key``'s record and save."""
        if key in self._doc["steps"]:
            del self._doc["steps"][key]
            self.save()

    def records(self, paths: Iterable[Path]) -> list[FileRecord]:
        """File records of existing ``paths`` (relative to the session folder)."""
        out = []
        for p in paths:
            r = file_record(p, self.folder)
            if r is not None:
                out.append(r)
        return out

    def save(self) -> None:
        """Write the session atomically (temporary file + rename), keeping the file's mode."""
        import tomlkit

        from nuskybgd.io.atomic import write_text_atomic

        self._doc["saved"] = now_utc()
        write_text_atomic(self.path, tomlkit.dumps(self._doc), overwrite=True)


def _describe(folder: Path) -> dict[str, Any]:
    """Observation description (seqid, modules, target) from the event files in ``folder``."""
    from nuskybgd.io.discovery import discover

    try:
        observations = discover(folder)
    except NuskybgdError:
        raise InputError(f"{folder} holds no NuSTAR cleaned event files; open a session in an observation's "
                         "event_cl/ folder.", folder) from None
    obs = observations[0]
    return {"seqid": obs.seqid, "modules": list(obs.modules), "target": obs.target or ""}
