"""The step abstraction: a declared, validated, cancellable unit of the walkthrough.

A step class declares its parameters (:class:`~nuskybgd.pipeline.params.Param`), its input and
output files (derived from the parameters), and has a ``run()`` that reports typed events
(:mod:`nuskybgd.events`) through a :class:`~nuskybgd.events.Reporter` and checks the reporter's
cancel token between units of work.  The command line builds its options from the declaration,
the runner records the values in the session file, the wizard draws its form from it; all three
call the same ``run()``.

Declarations import no heavy library: a step imports astropy, scipy or regions inside ``run``.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from nuskybgd.events import Reporter, Silent  # noqa: F401  (the steps' reporting interface)
from nuskybgd.pipeline.params import Param, bind_values, format_value, validate_values


@dataclass
class StepResult:
    """What a step produced: output files and any values worth showing."""

    outputs: list[Path] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    calibration: str | None = None


#: the ``overwrite`` parameter every writing step declares (original: ``clobber=yes``)
OVERWRITE = Param("overwrite", "bool", False, aliases=("clobber",),
                  help="replace existing outputs (original syntax: clobber=yes); default is to refuse")


class Step(ABC):
    """A pipeline step.

    Subclasses set ``name`` (the command name), ``title`` (the wizard's label), ``help`` (one
    paragraph in the walkthrough's words) and ``params`` (the declaration), optionally ``after_stages``, and implement
    :meth:`outputs` and :meth:`run`.  ``Step(*args, **kwargs)`` binds positional values in
    declaration order, validates every value in one place (:meth:`check` adds the checks that
    involve several parameters) and sets each as an attribute.  A ``calibration`` object may be
    passed by Python callers (tests, the runner) to use instead of resolving one.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    help: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    #: stages (ids) of the same module that must be done first although no declared input names
    #: their outputs (a step that reads whatever an earlier stage happened to write)
    after_stages: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        declared = {p.name for p in self.params}
        calibration = None if "calibration" in declared else kwargs.pop("calibration", None)
        values = bind_values(self.params, args, kwargs, type(self).__name__)
        self.values: dict[str, Any] = validate_values(self.params, values)
        if "calibration" not in declared:
            self.calibration = calibration
        for key, value in self.values.items():
            setattr(self, key, value)
        self.check()

    # -- declaration helpers ---------------------------------------------------------------

    @classmethod
    def param(cls, name: str) -> Param:
        """The declared parameter ``name``."""
        for p in cls.params:
            if p.name == name:
                return p
        raise KeyError(f"{cls.name} has no parameter {name!r}")

    def check(self) -> None:
        """Checks that involve several parameters (raise InputError); none by default."""
        return None

    def with_values(self, **changes: Any) -> Step:
        """A new instance with some parameters changed (validated again)."""
        extra = {} if "calibration" in self.values else {"calibration": self.calibration}
        return type(self)(**extra, **{**self.values, **changes})

    def command_line(self) -> str:
        """The equivalent ``nuskybgd …`` command line (parameters that differ from defaults)."""
        words = ["nuskybgd", self.name]
        for p in self.params:
            value = self.values.get(p.name)
            if not p.cli or value is None:
                continue
            if p.positional:
                words.append(format_value(value))
            elif p.kind == "bool":
                if value != p.default:
                    words.append(p.option if value else f"{p.option}=no")
            elif p.required or value != p.default:
                words += [p.option, format_value(value)]
        return shlex.join(words)

    # -- files -----------------------------------------------------------------------------

    def inputs(self) -> list[Path]:
        """Input files this step reads (the parameters declared with role "input")."""
        files: list[Path] = []
        for p in self.params:
            value = self.values.get(p.name)
            if p.role != "input" or value is None:
                continue
            files.extend(value if isinstance(value, tuple) else [value])
        return files

    @abstractmethod
    def outputs(self) -> list[Path]:
        """Output files this step will write (the runner records those actually written)."""

    @abstractmethod
    def run(self, reporter: Reporter | None = None) -> StepResult:
        """Do the work, reporting through ``reporter``; raise NuskybgdError on bad input and
        :class:`~nuskybgd.events.Cancelled` when the reporter's token is cancelled."""

    def missing_inputs(self) -> list[Path]:
        """Inputs that do not exist yet (the wizard says which step makes them)."""
        return [p for p in self.inputs() if not Path(p).exists()]


def reporter_or_default(reporter: Reporter | None) -> Reporter:
    """``reporter``, or one that prints to standard error."""
    return reporter if reporter is not None else Reporter()
