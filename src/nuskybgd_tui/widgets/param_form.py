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
    :meth:`load` shows another step instance with the same declared parameters in place (no
    widget is mounted), which is how the step pane moves between steps quickly.
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
        self._blank_ok: dict[str, bool] = {}

    @staticmethod
    def layout_of(params: Sequence[Any]) -> tuple:
        """What decides the form's widgets (names, kinds, choices, units, help): two steps with the
        same layout share one form, loaded in place."""
        return tuple((p.name, param_kind(p), tuple(getattr(p, "choices", ()) or ()),
                      getattr(p, "unit", "") or "", getattr(p, "help", "") or "") for p in params)

    def _shown_text(self, p: Any, values: dict[str, Any]) -> str:
        value = values.get(p.name, getattr(p, "default", None))
        return format_param_value(value if not _is_required(value) else None)

    def load(self, key: str, values: dict[str, Any]) -> bool:
        """Show step instance ``key``'s ``values`` in the existing fields (errors cleared).

        Returns
        -------
        bool
            False, and nothing changed, when a choice field cannot show its value (it would need a
            blank entry it was built without); build a new form then.
        """
        updates = []
        for p in self._params:
            text = self._shown_text(p, values)
            widget = self.query_one(f"#param-{p.name}")
            if isinstance(widget, Select):
                options = set(self._choices(p))
                if text not in options and not self._blank_ok.get(p.name, False):
                    return False
                updates.append((p, widget, text if text in options else Select.NULL))
            else:
                updates.append((p, widget, text))
        self.key = key
        self._values = dict(values)
        for p, widget, new in updates:
            widget.value = new          # a Select.Changed of a loaded value is no edit (see below)
            if isinstance(widget, Input):
                widget.placeholder = "required" if _is_required(values.get(p.name, getattr(
                    p, "default", None))) else ""
                widget.cursor_position = len(new)
            self.show_error(p.name, "")
        if self.scroll_offset.y:
            self.scroll_home(animate=False)
        return True

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

    @staticmethod
    def _choices(p: Any) -> tuple[str, ...]:
        """The entries of a choice field (empty for a text field)."""
        kind = param_kind(p)
        choices = tuple(getattr(p, "choices", ()) or ())
        if kind == "bool":
            choices = ("yes", "no")
        elif kind == "module" and not choices:
            choices = ("A", "B")
        return tuple(str(c) for c in choices)

    def _field(self, p: Any, value: Any):
        choices = self._choices(p)
        text = format_param_value(value if not _is_required(value) else None)
        if choices:
            options = [(str(c), str(c)) for c in choices]
            start = text if text in {o[1] for o in options} else Select.NULL
            self._blank_ok[p.name] = start is Select.NULL
            return Select(options, value=start, allow_blank=start is Select.NULL,
                          id=f"param-{p.name}", compact=True)
        return Input(text, id=f"param-{p.name}", placeholder="required" if _is_required(
            value) else "", select_on_focus=False, compact=True)

    def show_error(self, name: str, message: str) -> None:
        """Show ``message`` under ``name`` ("" clears it)."""
        error = self.query_one(f"#error-{name}", Static)
        if getattr(error, "_shown_text", "") != message:    # no refresh when nothing changes
            error._shown_text = message
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
            with widget.prevent(Select.Changed):
                widget.value = text if text else Select.NULL
        else:
            widget.value = text

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or not event.select.id:
            return
        name = event.select.id.removeprefix("param-")
        held = next((self._shown_text(p, self._values) for p in self._params if p.name == name), None)
        if str(event.value) == held:    # the value shown on load (or already held): not an edit
            return
        self._values[name] = event.value
        self.post_message(self.Edited(self.key, name, str(event.value)))


def _is_required(value: Any) -> bool:
    return repr(value) == "REQUIRED"

