"""The step pane: one stage's current step instance — parameters, products, progress, log.

Generic: it is built from what the runner declares (parameters, status, outputs) and the
product view registered for the stage, so steps that land later appear without wizard code.

Moving between steps updates the pane in place: one parameter form per parameter layout is
built the first time and then loaded with the values of the step shown (the others hidden), and
the product view is built only when the Products tab is opened, and kept while the step and
the files it recorded (names, sizes, modification times) stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Log, ProgressBar, Static, TabbedContent, TabPane

from nuskybgd_tui.backend import STATUS_GLYPHS, last_error, outputs_of, param_values
from nuskybgd_tui.product_views import view_for
from nuskybgd_tui.widgets.param_form import ParamForm

__all__ = ["StepPane", "set_text"]


def set_text(widget: Static, text: str, layout: bool = True) -> None:
    """Show ``text`` in ``widget`` unless it already does (no refresh then); ``layout=False`` for
    a widget whose size does not depend on its text (a one-row line)."""
    if getattr(widget, "_shown_text", None) != text:
        widget._shown_text = text
        widget.update(text, layout=layout)


class StepPane(Vertical):
    """The right-hand pane; :meth:`show` switches it to a step instance."""

    DEFAULT_CSS = """
    StepPane { width: 1fr; height: 1fr; border: round $primary 60%; padding: 0 1; }
    StepPane #step-title { height: 1; text-style: bold; }
    StepPane TabbedContent { height: 1fr; }
    StepPane TabPane { padding: 0; height: 1fr; }
    StepPane #step-progress { height: 1; }
    StepPane #step-log { height: 5; border-top: solid $primary 30%; background: $surface;
        scrollbar-size-vertical: 1; overflow-x: hidden; }
    StepPane #step-message { height: auto; color: $error; }
    StepPane #step-message.-empty { display: none; }
    StepPane.-products #step-log { height: 3; }
    StepPane.-products #step-message { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key: str | None = None
        self.stage_id: str | None = None
        self._runner: Any = None
        #: parameter layout → its form (built once, loaded in place)
        self._forms: dict[tuple, ParamForm] = {}
        #: (key, files signature) of the product view mounted, None when none is
        self._products_of: tuple[str, tuple] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="step-title", markup=False)
        with TabbedContent(id="step-tabs"):
            with TabPane("Parameters", id="tab-params"):
                yield Static("This step is not available for this observation yet.", id="no-step",
                             markup=False)
            with TabPane("Products", id="tab-products"):
                yield Static("", id="products-holder", markup=False)
        yield Static("", id="step-message", classes="-empty", markup=False)
        yield ProgressBar(total=1.0, show_eta=False, id="step-progress")
        yield Log(max_lines=2000, id="step-log", highlight=False)

    async def show(self, runner: Any, number: int, stage: Any, instances: Sequence[Any],
                   key: str | None) -> None:
        """Show step instance ``key`` of ``stage`` (the ``number``-th stage), in place."""
        self._runner = runner
        self.stage_id = stage.id
        self.key = key
        self.border_title = f"{number} · {stage.title}"
        self.refresh_title(runner, number, stage, instances)
        focused = self.screen.focused
        had_focus = focused is not None and self in focused.ancestors
        await self._show_form(runner, key)
        tabs = self.query_one(TabbedContent)
        tabs.active = "tab-params"
        if self._products_of is not None and self._products_of[0] != key:
            for view in self.query_one("#tab-products", TabPane).children:
                if view.display:
                    view.display = False            # another step's: rebuilt when Products opens
        self.query_one(ProgressBar).update(total=1.0, progress=0.0)
        log = self.query_one(Log)
        if log.line_count:
            log.clear()
        self.show_message(self._first_message(runner, key))
        if had_focus and not _shown(self.screen.focused, self):
            self.screen.set_focus(None)          # the wizard gives the keys back to the sidebar

    async def _show_form(self, runner: Any, key: str | None) -> None:
        """The form of ``key`` (its layout's, loaded with ``key``'s values) shown, the others hidden."""
        holder = self.query_one("#tab-params", TabPane)
        shown: Widget = self.query_one("#no-step", Static)
        if key is not None:
            params = runner.declared_params(key)
            layout = ParamForm.layout_of(params)
            values = param_values(runner, key)
            form = self._forms.get(layout)
            if form is not None and not form.load(key, values):
                await form.remove()
                form = None
            if form is None:
                form = ParamForm(key, params, values, id=f"param-form-{len(self._forms)}")
                self._forms[layout] = form
                await holder.mount(form, before=0)
            elif holder.children[0] is not form:
                holder.move_child(form, before=0)   # the form shown is the first one found
            shown = form
        for child in holder.children:
            if child.display != (child is shown):
                child.display = child is shown

    def _first_message(self, runner: Any, key: str | None) -> str:
        """Why the step failed last time, else what to do before it can run (regions)."""
        if key is None:
            return ""
        error = last_error(runner, key)
        if error or self.stage_id != "regions" or not hasattr(runner, "session"):
            return error
        from nuskybgd_tui.region_views import regions_hint

        return regions_hint(runner, key)

    def refresh_title(self, runner: Any, number: int, stage: Any,
                      instances: Sequence[Any]) -> None:
        """The title line: stage, module, status glyph and word, other instances."""
        if self.key is None:
            text = f"{stage.title} — no step yet"
        else:
            status = runner.status(self.key)
            inst = next((i for i in instances if i.key == self.key), None)
            title = (getattr(inst, "title", "") or stage.title) if inst is not None else stage.title
            others = ""
            if len(instances) > 1:
                index = [i.key for i in instances].index(self.key) + 1
                others = f"   [{index}/{len(instances)}, m: next]"
            text = f"{title}   {STATUS_GLYPHS.get(status, '?')} {status}{others}"
        set_text(self.query_one("#step-title", Static), text, layout=False)    # one row

    async def refresh_products(self, runner: Any) -> None:
        """Rebuild the products tab from the outputs the session recorded (after a run)."""
        self._runner = runner
        self._products_of = None
        await self.ensure_products(runner)

    async def ensure_products(self, runner: Any | None = None) -> None:
        """The product view of the step shown: kept when it shows the same step and the same
        recorded files (unchanged on disk), built otherwise."""
        runner = runner if runner is not None else self._runner
        pane = self.query_one("#tab-products", TabPane)
        if self.key is None or self.stage_id is None or runner is None:
            await pane.remove_children()
            self._products_of = None
            return
        outputs = outputs_of(runner, self.key)
        wanted = (self.key, _files_signature(outputs))
        if self._products_of == wanted and pane.children:
            for view in pane.children:
                if not view.display:
                    view.display = True
            return
        await pane.remove_children()
        await pane.mount(view_for(self.stage_id)(runner, self.key, outputs))
        self._products_of = wanted

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # the product view gets the room of the step's hint and most of the log
        self.set_class(event.pane.id == "tab-products", "-products")
        if event.pane.id == "tab-products":
            await self.ensure_products()

    @property
    def form(self) -> ParamForm | None:
        """The parameters form of the step shown (None when there is none)."""
        if self.key is None:
            return None
        return next((f for f in self._forms.values() if f.display and f.key == self.key), None)

    def log_line(self, text: str) -> None:
        """Append a line to the step's log."""
        self.query_one(Log).write_line(text)

    def show_message(self, text: str) -> None:
        """A sentence above the progress bar (why the step failed); "" hides it."""
        message = self.query_one("#step-message", Static)
        set_text(message, text)
        message.set_class(not text, "-empty")

    def set_progress(self, fraction: float) -> None:
        """Move the progress bar (0–1)."""
        self.query_one(ProgressBar).update(total=1.0, progress=fraction)


def _files_signature(paths: Sequence[Any]) -> tuple:
    """Names, sizes and modification times of ``paths`` (what a product view shows)."""
    out = []
    for p in paths:
        try:
            st = Path(p).stat()
            out.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(p), -1, -1))
    return tuple(out)


def _shown(widget: Widget | None, top: Widget) -> bool:
    """Whether ``widget`` and its ancestors up to ``top`` are displayed."""
    node = widget
    while node is not None and node is not top:
        if not getattr(node, "display", True):
            return False
        node = node.parent
    return widget is not None
