"""Errors a user can cause, reported as one clear sentence (exit status 2 on the command line)."""

from __future__ import annotations

from pathlib import Path


class NuskybgdError(Exception):
    """An error caused by the user's input or environment.

    The message is one sentence that names the file (if any), says what is wrong and what to
    do.  The command line prints it without a traceback and exits with status 2.
    """

    exit_status: int = 2


class InputError(NuskybgdError):
    """An input file or value is missing, unreadable or of the wrong kind."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(message)


class ChangedOnDisk(InputError):
    """A file an editor read was changed by someone else since: saving would replace that edit.
    Nothing was written."""


class OutputExistsError(NuskybgdError):
    """An output file exists and overwriting was not requested."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(
            f"{self.path} already exists; remove it or pass --overwrite (clobber=yes) to replace it."
        )


class OutputError(NuskybgdError):
    """An output cannot be written: the folder is missing, read-only, full, or is a file."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(message)


class CalibrationError(NuskybgdError):
    """A calibration item cannot be found or read."""


class ModelError(NuskybgdError):
    """A model, parameter, link or fit request is invalid."""
