"""The one place that turns a module name (A, B, FPMA, FPMB, any case) into "A" or "B"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nuskybgd.errors import InputError

__all__ = ["normalise_module", "module_of"]


def normalise_module(value: Any, what: str = "--mod") -> str:
    """"A" or "B" from A, B, FPMA or FPMB (any case).

    Raises
    ------
    InputError
        Naming ``what`` (an option or a file) for anything else, e.g. "C".
    """
    text = str(value).strip().upper()
    if text.startswith("FPM"):
        text = text[3:]
    if text in ("A", "B"):
        return text
    raise InputError(f"{what}={value} is not a NuSTAR module; give A or B (FPMA or FPMB).")


def module_of(value: Any, path: str | Path | None = None, what: str = "file") -> str | None:
    """"A"/"B" from an INSTRUME value of ``what`` ``path``; None when the keyword is absent."""
    if value is None:
        return None
    try:
        return normalise_module(value)
    except InputError:
        raise InputError(f"{what} {path} has INSTRUME={value!r}; expected FPMA or FPMB.", path) from None
