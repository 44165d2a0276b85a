"""Typed reading of FITS header values, with one sentence naming the file and keyword.

A header keyword with a value of the wrong type (``PA_PNT = 'garbage'``), a non-finite number
or a value outside its range is a user-caused input problem: these readers turn it into an
:class:`~nuskybgd.errors.InputError` naming the file and the keyword, instead of a
``ValueError`` deep inside the computation.  ``header`` is anything with ``get`` (an astropy
``Header`` or a plain dict).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nuskybgd.errors import InputError

_MISSING = object()


def _raw(header: Mapping[str, Any], key: str, path: str | Path | None, default: Any) -> tuple[bool, Any]:
    """(found, value): the keyword's value, or (False, default) when absent or blank."""
    value = header.get(key, _MISSING) if hasattr(header, "get") else _MISSING
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        if default is _MISSING:
            raise InputError(f"{_where(path)} has no {key} keyword; add it or use a file that has it.", path)
        return False, default
    return True, value


def _where(path: str | Path | None) -> str:
    return f"header of {path}" if path is not None else "the header"


def header_float(header: Mapping[str, Any], key: str, path: str | Path | None = None,
                 default: Any = _MISSING, *, low: float | None = None,
                 high: float | None = None) -> float:
    """Keyword ``key`` as a finite float (in the keyword's own unit).

    Parameters
    ----------
    header : mapping
        FITS header (or dict).
    key : str
        Keyword name, e.g. ``"PA_PNT"``.
    path : path, optional
        File the header came from (named in the message).
    default : float, optional
        Returned when the keyword is absent or blank; without it, absence is an error.
    low, high : float, optional
        Inclusive range the value must lie in.

    Raises
    ------
    InputError
        Absent (without default), not a number, NaN/infinite, or out of range.
    """
    found, value = _raw(header, key, path, default)
    if not found:
        return value
    if isinstance(value, bool):
        raise InputError(f"{key} in {_where(path)} is a logical value ({value}), not a number; fix the "
                         "keyword.", path)
    try:
        x = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} = {value!r} in {_where(path)} is not a number; fix the keyword or "
                         "use the original file.", path) from None
    if not math.isfinite(x):
        raise InputError(f"{key} = {value!r} in {_where(path)} is not a finite number; fix the keyword.",
                         path)
    if (low is not None and x < low) or (high is not None and x > high):
        raise InputError(f"{key} = {x:g} in {_where(path)} is outside [{low}, {high}]; fix the keyword.",
                         path)
    return x


def header_int(header: Mapping[str, Any], key: str, path: str | Path | None = None,
               default: Any = _MISSING, *, low: int | None = None, high: int | None = None) -> int:
    """Keyword ``key`` as an integer (a float with an integral value is accepted).

    Raises
    ------
    InputError
        Absent (without default), not an integer, or out of range.
    """
    found, value = _raw(header, key, path, default)
    if not found:
        return value
    x = header_float(header, key, path)
    if not x.is_integer():
        raise InputError(f"{key} = {value!r} in {_where(path)} is not an integer; fix the keyword.", path)
    n = int(x)
    if (low is not None and n < low) or (high is not None and n > high):
        raise InputError(f"{key} = {n} in {_where(path)} is outside [{low}, {high}]; fix the keyword.", path)
    return n


def header_str(header: Mapping[str, Any], key: str, path: str | Path | None = None,
               default: Any = _MISSING, *, choices: tuple[str, ...] | None = None) -> str:
    """Keyword ``key`` as a stripped string, optionally one of ``choices`` (case-insensitive).

    Raises
    ------
    InputError
        Absent (without default), not a string, or not one of ``choices``.
    """
    found, value = _raw(header, key, path, default)
    if not found:
        return value
    if not isinstance(value, str):
        raise InputError(f"{key} = {value!r} in {_where(path)} is not a text value; fix the keyword.", path)
    s = value.strip()
    if choices is not None and s.upper() not in {c.upper() for c in choices}:
        raise InputError(f"{key} = {s!r} in {_where(path)} is not one of {', '.join(choices)}; fix the "
                         "keyword or use the right file.", path)
    return s
