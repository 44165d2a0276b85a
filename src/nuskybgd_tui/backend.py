"""How the wizard talks to the pipeline: opening a session, reading steps, running one.

Nothing here imports Textual or computes anything: it adapts ``nuskybgd.pipeline``'s Session
and Runner for the widgets and runs a step in a background thread that only calls back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

__all__ = ["STATUS_GLYPHS", "STATUSES", "StepThread", "instances_of", "param_kind",
           "param_values", "saved_time", "outputs_of", "resume_stage", "resume_key", "last_error"]

#: every status the runner reports, with its glyph (readable without colour)
STATUS_GLYPHS = {"pending": "·", "ready": "○", "running": "▶", "done": "✔", "stale": "↻",
                 "failed": "✘"}
STATUSES = tuple(STATUS_GLYPHS)


def instances_of(runner: Any, stage_id: str) -> list[Any]:
    """The step instances of a stage, in the runner's order (one per module, or one)."""
    return [i for i in runner.instances if i.stage == stage_id]


def param_kind(param: Any) -> str:
    """The declared kind of a parameter ("float", "path", "choice", ...)."""
    return str(getattr(param, "kind", None) or getattr(param, "type", None) or "str")


def param_values(runner: Any, key: str) -> dict[str, Any]:
    """The values the session holds for a step instance (defaults where none was set)."""
    for inst in runner.instances:
        if inst.key == key:
            return dict(getattr(inst, "params", {}) or {})
    return {}


def outputs_of(runner: Any, key: str) -> list[Any]:
    """Files the session recorded for a step instance (empty before it ran)."""
    return [p for p in runner.outputs(key) if p.is_file()]


def resume_stage(runner: Any, stage_ids: list[str]) -> str | None:
    """The stage to open on start: the one the session was left at, else the first not done."""
    current = runner.current
    if current:
        stage = runner.instance(current).stage
        if stage in stage_ids:
            return stage
    for stage in stage_ids:
        if runner.stage_status(stage) != "done":
            return stage
    return stage_ids[-1] if stage_ids else None


def resume_key(runner: Any, stage_ids: list[str]) -> tuple[str | None, int]:
    """(stage, index of the instance within it) to open on start: the exact step instance the
    session was left at (``runner.current``), else the first instance not done."""
    current = runner.current
    if current:
        stage = runner.instance(current).stage
        if stage in stage_ids:
            keys = [i.key for i in instances_of(runner, stage)]
            return stage, keys.index(current)
    stage = resume_stage(runner, stage_ids)
    if stage is None:
        return None, 0
    insts = instances_of(runner, stage)
    index = next((n for n, i in enumerate(insts) if runner.status(i.key) != "done"), 0)
    return stage, index


def last_error(runner: Any, key: str) -> str:
    """Why the last run of ``key`` failed, as the session recorded it ("" when it did not)."""
    session = getattr(runner, "session", None)
    record = session.record(key) if session is not None else None
    if not record or record.get("status") != "failed":
        return ""
    return str(record.get("error") or "")


def saved_time(observation: dict[str, Any]) -> str:
    """When the session was last saved, as HH:MM (empty when unknown)."""
    value = observation.get("saved_at")
    if not value:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%H:%M")
    try:
        return datetime.fromisoformat(str(value)).strftime("%H:%M")
    except ValueError:
        return str(value)


class StepThread:
    """Runs ``runner.run(key, reporter)`` in a daemon thread.

    The thread never touches widgets: it hands every event to ``on_event`` and ends with
    exactly one of ``on_done(result)``, ``on_failed(message)`` or ``on_cancelled()``.  It is a
    daemon so that quitting the wizard never waits for a step that ignores its cancel token.
    """

    def __init__(self, runner: Any, key: str, reporter_factory: Callable[..., Any],
                 on_event: Callable[[Any], None], on_done: Callable[[Any], None],
                 on_failed: Callable[[str], None], on_cancelled: Callable[[], None]) -> None:
        self.key = key
        self._runner = runner
        self.reporter = reporter_factory(sink=on_event)
        self._on_done, self._on_failed, self._on_cancelled = on_done, on_failed, on_cancelled
        self._thread = threading.Thread(target=self._main, name=f"step {key}", daemon=True)

    def start(self) -> None:
        """Start the step."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the step to stop at its next safe point."""
        self.reporter.cancel.cancel()

    @property
    def alive(self) -> bool:
        """Whether the step is still running."""
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread (at most ``timeout`` seconds)."""
        self._thread.join(timeout)

    def _main(self) -> None:
        from nuskybgd_tui.pipeline_api import Cancelled

        try:
            result = self._runner.run(self.key, self.reporter)
        except Cancelled:
            self._on_cancelled()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message, never a crash
            self._on_failed(_one_sentence(exc))
        else:
            self._on_done(result)


def _one_sentence(exc: BaseException) -> str:
    """A user-facing sentence for an exception (the library's errors already are one)."""
    from nuskybgd_tui.pipeline_api import NuskybgdError

    if isinstance(exc, NuskybgdError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
