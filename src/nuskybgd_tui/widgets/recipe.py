"""The walkthrough's fitting recipe as a checklist, each recommendation switchable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.content import Content
from textual.message import Message
from textual.widgets import SelectionList
from textual.widgets.selection_list import Selection

__all__ = ["RecipeItem", "RecipeChecklist"]


@dataclass(frozen=True)
class RecipeItem:
    """One recommendation: ``key`` (as the pipeline names it), the text shown, on or off."""

    key: str
    text: str
    enabled: bool = True


class RecipeChecklist(SelectionList[str]):
    """Each item a recommendation of the walkthrough; space switches it."""

    class Changed(Message):
        """A recommendation was switched on (``enabled=True``) or off."""

        def __init__(self, checklist: RecipeChecklist, key: str, enabled: bool) -> None:
            super().__init__()
            self.checklist = checklist
            self.key = key
            self.enabled = enabled

    def __init__(self, items: Sequence[RecipeItem] = (), *, id: str | None = None) -> None:
        # Content (not markup): recipe texts may hold square brackets
        super().__init__(*(Selection(Content(i.text), i.key, i.enabled) for i in items), id=id)
        self._enabled = {i.key: i.enabled for i in items}

    @property
    def enabled(self) -> dict[str, bool]:
        """Each recommendation's state, by key."""
        return dict(self._enabled)

    def on_selection_list_selection_toggled(self,
                                            event: SelectionList.SelectionToggled) -> None:
        key = event.selection.value
        self._enabled[key] = key in self.selected
        self.post_message(self.Changed(self, key, self._enabled[key]))
