"""Typed events that long-running work reports, a reporter that receives them, and cancellation.

This module sits at the bottom of the layers (it imports only the standard library) so that the
simulator, the fitter, the geometry and the pipeline steps can all report progress and honour a
cancel request through the same objects.  Front ends (the command line, the batch runner, the
wizard) subscribe to the events; nothing is inferred from the wording of log lines.

Event kinds
-----------
:class:`LogEvent`       a log line with a level ("debug", "info", "warning", "error")
:class:`ProgressEvent`  fraction done (0–1) and a short message
:class:`OutputEvent`    a file was written (its path)
:class:`ResultEvent`    a small typed summary worth showing (e.g. the fit statistic)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "StepEvent",
    "LogEvent",
    "ProgressEvent",
    "OutputEvent",
    "ResultEvent",
    "Cancelled",
    "CancelToken",
    "Reporter",
    "Silent",
]

LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class StepEvent:
    """Base class of every event a step reports; ``kind`` names the class for display."""

    kind: ClassVar[str] = "event"

    @property
    def message(self) -> str:  # pragma: no cover - overridden
        return ""


@dataclass(frozen=True)
class LogEvent(StepEvent):
    """A log line.  ``level`` is one of :data:`LOG_LEVELS`."""

    text: str
    level: str = "info"

    @property
    def kind(self) -> str:  # type: ignore[override]
        """"warning" for warnings, "log" for every other level."""
        return "warning" if self.level == "warning" else "log"

    @property
    def message(self) -> str:
        return self.text


@dataclass(frozen=True)
class ProgressEvent(StepEvent):
    """Progress of the running unit of work: ``fraction`` in [0, 1] and what is being done."""

    kind: ClassVar[str] = "progress"

    fraction: float
    text: str = ""

    @property
    def message(self) -> str:
        return self.text


@dataclass(frozen=True)
class OutputEvent(StepEvent):
    """A file was written (atomically, complete)."""

    kind: ClassVar[str] = "output"

    path: Path
    text: str = ""

    @property
    def message(self) -> str:
        return self.text or f"wrote {self.path}"


@dataclass(frozen=True)
class ResultEvent(StepEvent):
    """A small typed summary of what a step found (numbers with units in the keys' docs).

    ``values`` maps short names to plain values (str, int, float, bool, lists of them), e.g.
    ``{"statistic": "cstat", "stat": 3712.4, "dof": 3650}``.
    """

    kind: ClassVar[str] = "result"

    values: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def message(self) -> str:
        return self.text


class Cancelled(Exception):
    """Raised inside a unit of work when its :class:`CancelToken` was cancelled."""


class CancelToken:
    """A thread-safe flag that a front end sets and the work checks between units of work.

    The work calls :meth:`raise_if_cancelled` at safe points (between files, between fit
    iterations); it then raises :class:`Cancelled`, and the step's atomic output guarantees
    that nothing half-written remains.
    """

    def __init__(self) -> None:
        self._flag = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next safe point."""
        self._flag.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._flag.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if :meth:`cancel` was called."""
        if self._flag.is_set():
            raise Cancelled("cancelled by the user")


class Reporter:
    """Receives the events of a unit of work and carries its cancel token.

    Parameters
    ----------
    sink : callable, optional
        Called with every event.  ``None`` prints log lines, warnings and written files to
        standard error (the command line's default).
    cancel : CancelToken, optional
        The token the work checks; a fresh, never-cancelled one by default.
    """

    def __init__(self, sink: Callable[[StepEvent], None] | None = None,
                 cancel: CancelToken | None = None) -> None:
        self._sink = sink
        self.cancel = cancel if cancel is not None else CancelToken()
        self.events: list[StepEvent] = []

    def emit(self, event: StepEvent) -> None:
        """Record ``event`` and hand it to the sink (or print it)."""
        self.events.append(event)
        if self._sink is not None:
            self._sink(event)
        elif isinstance(event, LogEvent) and event.level != "debug":
            prefix = f"{event.level}: " if event.level in ("warning", "error") else ""
            print(f"{prefix}{event.text}", file=sys.stderr)
        elif isinstance(event, OutputEvent):
            print(event.message, file=sys.stderr)

    def log(self, message: str, level: str = "info") -> None:
        """Report a log line."""
        if level not in LOG_LEVELS:
            raise ValueError(f"log level {level!r} is not one of {LOG_LEVELS}")
        self.emit(LogEvent(message, level))

    def warning(self, message: str) -> None:
        """Report a warning (a log line of level "warning")."""
        self.emit(LogEvent(message, "warning"))

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress; ``fraction`` is clipped to [0, 1]."""
        self.emit(ProgressEvent(min(max(float(fraction), 0.0), 1.0), message))

    def output(self, path: str | Path, message: str | None = None) -> None:
        """Report a file that was written."""
        self.emit(OutputEvent(Path(path), message or ""))

    def result(self, values: Mapping[str, Any], message: str = "") -> None:
        """Report a typed summary."""
        self.emit(ResultEvent(dict(values), message))

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` when the work was asked to stop."""
        self.cancel.raise_if_cancelled()

    @property
    def warnings(self) -> list[str]:
        """The warnings reported so far."""
        return [e.text for e in self.events if isinstance(e, LogEvent) and e.level == "warning"]


class Silent(Reporter):
    """A reporter that only records events."""

    def __init__(self, cancel: CancelToken | None = None) -> None:
        super().__init__(sink=lambda e: None, cancel=cancel)
