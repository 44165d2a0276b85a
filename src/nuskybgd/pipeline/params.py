"""Declared step parameters: name, type, default, unit, help and validation, in one place.

A step lists its parameters as :class:`Param` objects.  From that one declaration the command
line builds its options (including the original tools' ``key=value`` names), the session file
records the values, and the wizard draws its form.  Validation happens here, once: a bad value
is one :class:`~nuskybgd.errors.InputError` sentence naming the option and what to give.

This module imports only the standard library (start-up time of ``nuskybgd --help``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nuskybgd.errors import InputError
from nuskybgd.modules import normalise_module

__all__ = ["REQUIRED", "Param", "PARAM_KINDS", "bind_values", "validate_values", "format_value"]


class _Required:
    """Sentinel default of a parameter that must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

#: kinds of parameter and what a value becomes
PARAM_KINDS = ("str", "path", "paths", "float", "int", "bool", "choice", "module", "modules")

_TRUE = {"yes", "y", "true", "t", "1", "on"}
_FALSE = {"no", "n", "false", "f", "0", "off"}
#: integers beyond this are refused unless a parameter sets its own maximum
_INT_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class Param:
    """One declared parameter of a step.

    Attributes
    ----------
    name : str
        Python identifier; the key in the session file and the wizard's field id.
    kind : str
        One of :data:`PARAM_KINDS`.
    default : object
        Default value, or :data:`REQUIRED`.
    help : str
        One line for ``--help`` and the wizard.
    unit : str
        Physical unit of a number ("keV", "s", "arcmin"), "" when dimensionless.
    choices : tuple
        Allowed values of a ``choice`` parameter.
    minimum, maximum : float, optional
        Inclusive bounds of a number.
    positional : bool
        A positional argument on the command line (in declaration order).
    aliases : tuple of str
        Other option names (the original tools' ``key=value`` keys, e.g. ``refimg``).
    flag : str, optional
        The option name on the command line when it differs from ``name`` (``bin``).
    role : str
        "input" (a file the step reads), "output" (a file it writes) or "value".
    cli : bool
        Offered on the command line (False for values only the runner or Python callers set).
    """

    name: str
    kind: str = "str"
    default: Any = REQUIRED
    help: str = ""
    unit: str = ""
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    positional: bool = False
    aliases: tuple[str, ...] = ()
    flag: str | None = None
    role: str = "value"
    cli: bool = True

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}")
        if self.role not in ("input", "output", "value"):
            raise ValueError(f"parameter {self.name}: unknown role {self.role!r}")

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is REQUIRED

    @property
    def option(self) -> str:
        """The command-line option (``--elow``)."""
        return "--" + (self.flag or self.name).replace("_", "-")

    @property
    def label(self) -> str:
        """How a message names the parameter: its option, or its name when positional."""
        return self.name.upper() if self.positional else self.option

    def convert(self, value: Any) -> Any:
        """Validate ``value`` and return it in the parameter's type.

        Raises
        ------
        InputError
            One sentence naming the option and what to give.
        """
        if value is None:
            if self.required:
                raise InputError(f"{self.label} is required; {self.help or 'give a value'}.")
            return None
        converter = _CONVERTERS[self.kind]
        return converter(self, value)

    def describe_default(self) -> str:
        """The default as shown in help texts."""
        return "required" if self.required else format_value(self.default)


def _number(p: Param, value: Any, cast) -> float | int:
    text = str(value).strip()
    try:
        number = cast(text) if isinstance(value, str) else cast(value)
    except (TypeError, ValueError, OverflowError):
        kind = "an integer" if cast is int else "a number"
        raise InputError(f"{p.label} {text!r} is not {kind}; give {kind}"
                         f"{' in ' + p.unit if p.unit else ''}.") from None
    if cast is float and not math.isfinite(number):
        raise InputError(f"{p.label} {text} is not a finite number; give a finite value"
                         f"{' in ' + p.unit if p.unit else ''}.")
    low = p.minimum
    high = p.maximum if p.maximum is not None else (_INT_LIMIT if cast is int else None)
    unit = f" {p.unit}" if p.unit else ""
    if low is not None and number < low:
        raise InputError(f"{p.label} {text} is below the minimum {format_value(low)}{unit}.")
    if high is not None and number > high:
        raise InputError(f"{p.label} {text} is above the maximum {format_value(high)}{unit}.")
    return number


def _to_float(p: Param, value: Any) -> float:
    if isinstance(value, bool):
        raise InputError(f"{p.label} needs a number, not {value}.")
    return float(_number(p, value, float))


def _to_int(p: Param, value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise InputError(f"{p.label} {value!r} is not an integer; give a whole number.")
    if isinstance(value, float):
        value = int(value)
    return int(_number(p, value, int))


def _to_bool(p: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{p.label}={value} is not understood; use yes or no.")


def _to_str(p: Param, value: Any) -> str:
    return str(value)


def _to_path(p: Param, value: Any) -> Path:
    text = str(value)
    if not text.strip():
        raise InputError(f"{p.label} is empty; give a file name.")
    return Path(text)


def _to_paths(p: Param, value: Any) -> tuple[Path, ...]:
    items: Iterable[Any]
    if isinstance(value, (str, Path)):
        items = [s for s in str(value).split(",") if s.strip()]
    else:
        items = list(value)
    return tuple(_to_path(p, v) for v in items)


def _to_choice(p: Param, value: Any) -> str:
    text = str(value).strip()
    lowered = {str(c).lower(): c for c in p.choices}
    if text.lower() in lowered:
        return lowered[text.lower()]
    raise InputError(f"{p.label} {text!r} is not one of {', '.join(map(str, p.choices))}.")


def _to_module(p: Param, value: Any) -> str:
    return normalise_module(value, p.label)


def _to_modules(p: Param, value: Any) -> tuple[str, ...]:
    text = value if isinstance(value, str) else "".join(str(v) for v in value)
    letters = text.replace(",", "").replace("FPM", "").replace("fpm", "").strip()
    if not letters:
        raise InputError(f"{p.label} is empty; give A, B or AB.")
    mods = tuple(dict.fromkeys(normalise_module(c, p.label) for c in letters))
    return mods


_CONVERTERS = {
    "str": _to_str,
    "path": _to_path,
    "paths": _to_paths,
    "float": _to_float,
    "int": _to_int,
    "bool": _to_bool,
    "choice": _to_choice,
    "module": _to_module,
    "modules": _to_modules,
}


def bind_values(params: Sequence[Param], args: Sequence[Any], kwargs: Mapping[str, Any],
                step_name: str) -> dict[str, Any]:
    """Map positional ``args`` (in declaration order) and keyword ``kwargs`` onto ``params``."""
    names = [p.name for p in params]
    if len(args) > len(names):
        raise TypeError(f"{step_name} takes at most {len(names)} parameters, {len(args)} given")
    values = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{step_name} has no parameter {key!r}")
        if key in values:
            raise TypeError(f"{step_name}: parameter {key!r} given twice")
        values[key] = value
    return values


def validate_values(params: Sequence[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared parameter converted and checked; defaults filled in."""
    out: dict[str, Any] = {}
    for p in params:
        raw = values.get(p.name, p.default)
        out[p.name] = p.convert(None if raw is REQUIRED else raw)
    return out


def format_value(value: Any) -> str:
    """A value as it is written on a command line or in the session file."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ",".join(format_value(v) for v in value)
    return str(value)
