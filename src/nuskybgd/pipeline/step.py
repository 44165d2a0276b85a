"""The step abstraction.

A step declares its parameters, input files and output files, and has a ``run()`` that reports
log lines and progress through a :class:`Reporter`.  The command line prints those events, the
wizard shows them in its log panel; both call the same ``run()``.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


@dataclass
class StepEvent:
    """One event emitted by a running step: a log line or a progress update."""

    kind: str  # "log" | "progress" | "warning" | "output"
    message: str = ""
    fraction: float | None = None
    path: Path | None = None


class Reporter:
    """Receives a step's events; by default prints log lines to stderr.

    Parameters
    ----------
    sink : callable, optional
        Called with every :class:`StepEvent`.  ``None`` prints logs/warnings to stderr.
    """

    def __init__(self, sink: Callable[[StepEvent], None] | None = None) -> None:
        self._sink = sink
        self.events: list[StepEvent] = []

    def emit(self, event: StepEvent) -> None:
        self.events.append(event)
        if self._sink is not None:
            self._sink(event)
        elif event.kind in ("log", "warning", "output"):
            prefix = "warning: " if event.kind == "warning" else ""
            print(f"{prefix}{event.message}", file=sys.stderr)

    def log(self, message: str) -> None:
        self.emit(StepEvent("log", message))

    def warning(self, message: str) -> None:
        self.emit(StepEvent("warning", message))

    def progress(self, fraction: float, message: str = "") -> None:
        self.emit(StepEvent("progress", message, fraction=fraction))

    def output(self, path: str | Path, message: str | None = None) -> None:
        p = Path(path)
        self.emit(StepEvent("output", message or f"wrote {p}", path=p))


class Silent(Reporter):
    """A reporter that only records events."""

    def __init__(self) -> None:
        super().__init__(sink=lambda e: None)


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
