"""A step's parameters as a form, generated from the step's declared parameters.

The form does not validate values itself: each edited value goes to the runner
(``Runner.set_params``), whose one-sentence error is shown under the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from nuskybgd.pipeline import format_value
from nuskybgd_tui.backend import param_kind

__all__ = ["ParamForm", "format_param_value"]


def format_param_value(value: Any) -> str:
    """A value as the user types it (yes/no, comma lists, %g numbers); "" for none."""
    return "" if value is None else format_value(value)


class ParamForm(VerticalScroll):
    """One row per declared parameter: name (and unit), an input, a line for its error.

    Posts :class:`ParamForm.Edited` when a value is submitted (enter) or a choice is made.
    """

    DEFAULT_CSS = """
    ParamForm { height: 1fr; }
    ParamForm .param-row { height: 1; }
    ParamForm .param-name { width: 22; padding-right: 1; }
    ParamForm Input { height: 1; border: none; width: 1fr; padding: 0 1; }
    ParamForm Input.-invalid { background: $error 30%; }
    ParamForm Select { height: 1; width: 1fr; }
    ParamForm Select > SelectCurrent { border: none; height: 1; padding: 0 1; }
    ParamForm .param-help { color: $text-muted; height: auto; padding-left: 23; }
    ParamForm .param-error { color: $error; height: auto; padding-left: 23; }
    ParamForm .param-error.-empty { display: none; }
    """

    class Edited(Message):
        """The user gave ``name`` the text ``value`` for step instance ``key``."""

        def __init__(self, key: str, name: str, value: str) -> None:
            super().__init__()
            self.key = key
            self.name = name
            self.value = value

    def __init__(self, key: str, params: Sequence[Any], values: dict[str, Any],
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key = key
        self._params = list(params)
        self._values = dict(values)
        #: the value each choice field shows: Select reports its first value as a change on
        #: mount, which must not reach the runner (it would turn a done step stale)
        self._chosen: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        if not self._params:
            yield Static("This step has no parameters.", markup=False)
        for p in self._params:
            value = self._values.get(p.name, getattr(p, "default", None))
            unit = getattr(p, "unit", "") or ""
            with Horizontal(classes="param-row"):
                yield Label(Content(p.name + (f" [{unit}]" if unit else "")),
                            classes="param-name")
                yield self._field(p, value)
            help_text = getattr(p, "help", "") or ""
            if help_text:
                yield Static(help_text, classes="param-help", markup=False)
            yield Static("", id=f"error-{p.name}", classes="param-error -empty", markup=False)

    def _field(self, p: Any, value: Any):
        kind = param_kind(p)
        choices = tuple(getattr(p, "choices", ()) or ())
        if kind == "bool":
            choices = ("yes", "no")
        elif kind == "module" and not choices:
            choices = ("A", "B")
        text = format_param_value(value if not _is_required(value) else None)
        if choices:
            options = [(str(c), str(c)) for c in choices]
            start = text if text in {o[1] for o in options} else Select.NULL
            if start is not Select.NULL:
                self._chosen[p.name] = start
            return Select(options, value=start, allow_blank=start is Select.NULL,
                          id=f"param-{p.name}", compact=True)
        return Input(text, id=f"param-{p.name}", placeholder="required" if _is_required(
            value) else "", select_on_focus=False, compact=True)

    def show_error(self, name: str, message: str) -> None:
        """Show ``message`` under ``name`` ("" clears it)."""
        error = self.query_one(f"#error-{name}", Static)
        error.update(message)
        error.set_class(not message, "-empty")
        try:
            self.query_one(f"#param-{name}").set_class(bool(message), "-invalid")
        except Exception:  # noqa: BLE001 - a field without input (none today)
            pass

    def value_of(self, name: str) -> str:
        """The text currently in a field."""
        widget = self.query_one(f"#param-{name}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        return widget.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Edited(self.key, event.input.id.removeprefix("param-"),
                                      event.value))

    def set_value(self, name: str, value: Any) -> None:
        """Show ``value`` in ``name``'s field (the session changed it elsewhere, e.g. the fit's
        recipe checklist); posts no :class:`Edited`."""
        text = format_param_value(value)
        self._values[name] = value
        widget = self.query_one(f"#param-{name}")
        if isinstance(widget, Select):
            self._chosen[name] = text
            with widget.prevent(Select.Changed):
                widget.value = text if text else Select.NULL
        else:
            widget.value = text

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and event.select.id:
            name = event.select.id.removeprefix("param-")
            if self._chosen.get(name) == str(event.value):
                return                          # what it already showed: no edit
            self._chosen[name] = str(event.value)
            self.post_message(self.Edited(self.key, name, str(event.value)))


def _is_required(value: Any) -> bool:
    return repr(value) == "REQUIRED"

