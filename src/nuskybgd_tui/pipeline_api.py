"""The one place the wizard imports the library: ``nuskybgd.pipeline`` and what it re-exports.

Imported lazily by the app (start-up stays fast and ``nuskybgd-tui --help`` needs no science
libraries)."""

from __future__ import annotations

from nuskybgd.pipeline import (  # noqa: F401
    Cancelled,
    CancelToken,
    NuskybgdError,  # noqa: F401  (InputError, SessionLocked, ... derive from it)
    Reporter,
)

__all__ = ["Cancelled", "CancelToken", "Reporter", "NuskybgdError"]
