"""The step pane: one stage's current step instance — parameters, products, progress, log.

Generic: it is built from what the runner declares (parameters, status, outputs) and the
product view registered for the stage, so steps that land later appear without wizard code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, ProgressBar, Static, TabbedContent, TabPane

from nuskybgd_tui.backend import STATUS_GLYPHS, last_error, outputs_of, param_values
from nuskybgd_tui.product_views import view_for
from nuskybgd_tui.widgets.param_form import ParamForm

__all__ = ["StepPane"]


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
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key: str | None = None
        self.stage_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="step-title", markup=False)
        with TabbedContent(id="step-tabs"):
            with TabPane("Parameters", id="tab-params"):
                yield Static("", id="params-holder", markup=False)
            with TabPane("Products", id="tab-products"):
                yield Static("", id="products-holder", markup=False)
        yield Static("", id="step-message", classes="-empty", markup=False)
        yield ProgressBar(total=1.0, show_eta=False, id="step-progress")
        yield Log(max_lines=2000, id="step-log", highlight=False)

    async def show(self, runner: Any, number: int, stage: Any, instances: Sequence[Any],
             key: str | None) -> None:
        """Show step instance ``key`` of ``stage`` (the ``number``-th stage)."""
        self.stage_id = stage.id
        self.key = key
        self.border_title = f"{number} · {stage.title}"
        self.refresh_title(runner, number, stage, instances)
        tabs = self.query_one(TabbedContent)
        params_pane = self.query_one("#tab-params", TabPane)
        await params_pane.remove_children()
        if key is None:
            await params_pane.mount(Static("This step is not available for this observation yet.",
                                     markup=False))
        else:
            await params_pane.mount(ParamForm(key, runner.declared_params(key),
                                        param_values(runner, key), id="param-form"))
        await self.refresh_products(runner)
        self.query_one(ProgressBar).update(total=1.0, progress=0.0)
        self.query_one(Log).clear()
        self.show_message(self._first_message(runner, key))
        tabs.active = "tab-params"

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
        self.query_one("#step-title", Static).update(text)

    async def refresh_products(self, runner: Any) -> None:
        """Rebuild the products tab from the outputs the session recorded."""
        pane = self.query_one("#tab-products", TabPane)
        await pane.remove_children()
        if self.key is None or self.stage_id is None:
            return
        await pane.mount(view_for(self.stage_id)(runner, self.key, outputs_of(runner, self.key)))

    @property
    def form(self) -> ParamForm | None:
        """The parameters form of the step shown (None when there is none)."""
        forms = self.query(ParamForm)
        return forms.first() if forms else None

    def log_line(self, text: str) -> None:
        """Append a line to the step's log."""
        self.query_one(Log).write_line(text)

    def show_message(self, text: str) -> None:
        """A sentence above the progress bar (why the step failed); "" hides it."""
        message = self.query_one("#step-message", Static)
        message.update(text)
        message.set_class(not text, "-empty")

    def set_progress(self, fraction: float) -> None:
        """Move the progress bar (0–1)."""
        self.query_one(ProgressBar).update(total=1.0, progress=fraction)
