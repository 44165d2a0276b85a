"""The one place the wizard imports the library: ``nuskybgd.pipeline`` and what it re-exports.

Imported lazily by the app (start-up stays fast and ``nuskybgd-tui --help`` needs no science
libraries)."""

from __future__ import annotations

from nuskybgd.pipeline import Cancelled, CancelToken, Reporter  # noqa: F401

try:  # the user-facing error class (InputError, SessionLocked, ... derive from it)
    from nuskybgd.pipeline import NuskybgdError  # type: ignore[attr-defined]
except ImportError:  # until nuskybgd.pipeline re-exports it: the runner's own import of it
    from nuskybgd.pipeline.runner import NuskybgdError  # noqa: F401

__all__ = ["Cancelled", "CancelToken", "Reporter", "NuskybgdError"]
