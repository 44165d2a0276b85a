"""Messages a running step posts to the app (from its thread; the app owns every widget)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

__all__ = ["StepEventPosted", "StepFinished", "StepFailed", "StepCancelled"]


class StepEventPosted(Message):
    """A step reported an event (``nuskybgd.pipeline`` LogEvent, ProgressEvent, ...)."""

    def __init__(self, key: str, event: Any) -> None:
        super().__init__()
        self.key = key
        self.event = event


class StepFinished(Message):
    """A step ended successfully; ``result`` is what ``Runner.run`` returned."""

    def __init__(self, key: str, result: Any) -> None:
        super().__init__()
        self.key = key
        self.result = result


class StepFailed(Message):
    """A step failed; ``message`` is the one-sentence reason (an InputError's text)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__()
        self.key = key
        self.message = message


class StepCancelled(Message):
    """A step stopped at the user's request; its outputs were not written."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
