"""The steps sidebar: the walkthrough's stages in order, each with a status glyph and colour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from nuskybgd_tui.backend import STATUS_GLYPHS

__all__ = ["StepSidebar", "STATUS_STYLES"]

#: colour of each status (the glyph carries the meaning without colour)
STATUS_STYLES = {"pending": "dim", "ready": "", "running": "bold yellow", "done": "green",
                 "stale": "bold dark_orange", "failed": "bold red"}


def status_label(number: int, title: str, status: str) -> Content:
    """One sidebar row: number, glyph, title, styled by status."""
    glyph = STATUS_GLYPHS.get(status, "?")
    style = STATUS_STYLES.get(status, "")
    return Content.assemble((f"{glyph} ", style), (f"{number:>2} {title}", style))


class StepSidebar(OptionList):
    """Stages with their status; highlighting one posts :class:`StepSidebar.StageSelected`."""

    DEFAULT_CSS = """
    StepSidebar { width: 29; height: 1fr; border: round $primary 60%; }
    StepSidebar:focus { border: round $primary; }
    """

    class StageSelected(Message):
        """The user moved to a stage."""

        def __init__(self, stage_id: str) -> None:
            super().__init__()
            self.stage_id = stage_id

    def __init__(self, stages: Sequence[Any], statuses: dict[str, str] | None = None,
                 *, id: str | None = None) -> None:
        self._stages = list(stages)
        self._statuses = dict(statuses or {})
        super().__init__(*self._options(), id=id)
        self.border_title = "Steps"

    def _options(self) -> list[Option]:
        return [Option(status_label(n, s.title, self._statuses.get(s.id, "pending")), id=s.id)
                for n, s in enumerate(self._stages, start=1)]

    @property
    def statuses(self) -> dict[str, str]:
        """The status shown for each stage."""
        return dict(self._statuses)

    def set_statuses(self, statuses: dict[str, str]) -> None:
        """Update the glyphs (keeps the highlighted row)."""
        if statuses == self._statuses:
            return
        self._statuses = dict(statuses)
        for n, stage in enumerate(self._stages, start=1):
            self.replace_option_prompt(stage.id, status_label(
                n, stage.title, self._statuses.get(stage.id, "pending")))

    def select_stage(self, stage_id: str) -> None:
        """Highlight ``stage_id``."""
        self.highlighted = self.get_option_index(stage_id)

    @property
    def current_stage(self) -> str | None:
        """The highlighted stage's id."""
        option = self.highlighted_option
        return option.id if option is not None else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.StageSelected(event.option.id))
