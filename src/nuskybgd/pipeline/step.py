"""The step abstraction.

A step declares its parameters, input files and output files, and has a ``run()`` that reports
log lines and progress through a :class:`Reporter`.  The command line prints those events, the
wizard shows them in its log panel; both call the same ``run()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from nuskybgd.events import (  # noqa: F401  (re-exported: the steps' reporting interface)
    Cancelled,
    CancelToken,
    LogEvent,
    OutputEvent,
    ProgressEvent,
    Reporter,
    ResultEvent,
    Silent,
    StepEvent,
)


@dataclass
class StepResult:
    """What a step produced: output files and any values worth showing."""

    outputs: list[Path] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    calibration: str | None = None


class Step(ABC):
    """A pipeline step.

    Subclasses set ``name`` (the command name), ``title`` (the wizard's label) and ``help``
    (one paragraph in the walkthrough's words), take their parameters in ``__init__`` and
    implement :meth:`inputs`, :meth:`outputs` and :meth:`run`.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    help: ClassVar[str] = ""

    @abstractmethod
    def inputs(self) -> list[Path]:
        """Input files this step reads."""

    @abstractmethod
    def outputs(self) -> list[Path]:
        """Output files this step will write."""

    @abstractmethod
    def run(self, reporter: Reporter | None = None) -> StepResult:
        """Do the work, reporting through ``reporter``; raise NuskybgdError on bad input."""

    def missing_inputs(self) -> list[Path]:
        """Inputs that do not exist yet (the wizard says which step makes them)."""
        return [p for p in self.inputs() if not Path(p).exists()]
