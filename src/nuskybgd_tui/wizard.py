"""The wizard app: header, steps sidebar, step pane and footer over a pipeline Runner.

The app only shows what the pipeline declares and reports: the session's steps and statuses
(``Runner``), each step's declared parameters, its events while it runs (in a background thread
that only posts messages), and the products it recorded.  It never computes anything itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widget import MountError
from textual.widgets import Footer, Static, TabbedContent

import nuskybgd_tui.region_views  # noqa: F401  (registers the regions and spectra views)
import nuskybgd_tui.workflow_views  # noqa: F401  (registers the config, fit, spec and simplify views)
from nuskybgd_tui.backend import StepThread, instances_of, resume_key, saved_time
from nuskybgd_tui.help_text import help_for
from nuskybgd_tui.messages import StepCancelled, StepEventPosted, StepFailed, StepFinished
from nuskybgd_tui.palette import WizardCommands
from nuskybgd_tui.screens import HelpScreen
from nuskybgd_tui.step_pane import StepPane, set_text
from nuskybgd_tui.widgets.param_form import ParamForm, format_param_value
from nuskybgd_tui.widgets.sidebar import StepSidebar

__all__ = ["WizardApp", "QUIT_GRACE"]

#: how long quitting waits for a cancelled step before leaving it to die with the process, s
QUIT_GRACE = 1.5
#: how often the statuses are re-read while idle (an input edited outside shows "stale"), s
STATUS_POLL = 2.0


class WizardApp(App[int]):
    """The wizard over one session.

    Parameters
    ----------
    runner : Runner, optional
        The pipeline's runner of the open session; None shows ``message`` only.
    stages : sequence of Stage
        The walkthrough's stages in order (``nuskybgd.pipeline.STAGES``).
    message : str, optional
        A one-sentence problem to show instead of the steps (locked or unreadable session).
    reporter_factory : callable, optional
        Builds the Reporter a step reports to (``sink=`` keyword); the pipeline's by default.
    """

    TITLE = "nuskybgd"
    CSS_PATH = "wizard.tcss"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS = [
        Binding("r", "run_step", "run"),
        Binding("R", "run_stage", "run all modules", show=False),
        Binding("c", "cancel_step", "cancel"),
        Binding("m", "next_module", "module"),
        Binding("e", "edit_params", "edit", show=False),
        Binding("o", "show_products", "products"),
        Binding("escape", "focus_steps", "steps"),
        Binding("ctrl+o", "pick_file", "pick file", show=False),
        Binding("y", "copy_command", "copy cmd", show=False),
        Binding("question_mark,f1", "step_help", "help"),
        Binding("q", "quit", "quit"),
        Binding("ctrl+q", "quit", "quit", show=False, priority=True),
        *[Binding(str(n), f"open_number({n})", f"step {n}", show=False) for n in range(1, 10)],
        Binding("0", "open_number(10)", "step 10", show=False),
    ]

    def __init__(self, runner: Any = None, stages: Sequence[Any] = (), *,
                 message: str | None = None,
                 reporter_factory: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self.runner = runner
        self.stages = list(stages)
        self.message = message
        self._reporter_factory = reporter_factory
        self._current: dict[str, int] = {}
        self._thread: StepThread | None = None
        self._queue: list[str] = []
        self._opening = asyncio.Lock()       # one pane rebuild at a time
        self._pane_widget: StepPane | None = None
        #: True once the session's step is on screen (tests and the benchmark wait for it)
        self.ready = runner is None

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="header"):
            yield Static(self.header_text(), id="header-left", markup=False)
            yield Static(self.saved_text(), id="header-right", markup=False)
        if self.runner is None:
            yield Static(self.message or "No session is open.", id="message", markup=False)
        else:
            with Horizontal(id="body"):
                yield StepSidebar(self.stages, self._statuses(), id="sidebar")
                yield StepPane(id="pane")
        yield Static("", id="command-line", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if self.runner is not None:
            self.call_after_refresh(self._resume)
            self.set_interval(STATUS_POLL, self._poll_statuses)

    def on_resize(self) -> None:
        """The header fits the new width (the target is shortened on a narrow terminal)."""
        if self.runner is not None and self.query("#header-left"):
            set_text(self.query_one("#header-left", Static), self.header_text(), layout=False)

    def _poll_statuses(self) -> None:
        """Re-read the statuses while no step runs: files changed outside the wizard (an input
        edited, a product deleted) turn their steps stale on screen without a key press."""
        if self.ready and self.running_key is None and self._pane() is not None:
            try:
                self.refresh_state()
            except NoMatches:           # the app is closing
                pass

    async def _resume(self) -> None:
        """Open the exact step instance the session was left at (else the first not done)."""
        stage, index = resume_key(self.runner, [s.id for s in self.stages])
        if stage is not None:
            self._current[stage] = index
            self.query_one(StepSidebar).select_stage(stage)
            await self.open_stage(stage)
        self.query_one(StepSidebar).focus()
        self.ready = True

    def header_text(self) -> str:
        """Target, sequence, modules, calibration and when the session was saved."""
        if self.runner is None:
            return " nuskybgd"
        obs = self.runner.observation
        modules = "+".join(f"FPM{m}" for m in obs.get("modules", ()))
        target = str(obs.get("target", "") or "")
        source = str(obs.get("calibration", "?"))
        if source.upper() == "BUILTIN":               # always announced as approximate
            source = "built-in (approximate)"
        calibration = f"calibration: {source}"
        room = max(self.size.width - len(self.saved_text()) - 4, 20) if self.size.width else 999

        def joined(name: str, target: str, calibration: str) -> str:
            parts = [name, f"{obs.get('seqid', '?')} {target}".strip(), modules, calibration]
            return " · ".join(p for p in parts if p)

        # a narrow terminal keeps the modules and the calibration: the target is shortened first
        text = joined(" nuskybgd", target, calibration)
        short = calibration.replace("calibration: ", "cal. ").replace("(approximate)", "(approx)")
        if len(text) > room:
            text = joined("", target, short)
        if len(text) > room and len(target) > 12:
            keep = max(len(target) - (len(text) - room) - 1, 8)
            text = joined("", target[:keep].rstrip() + "…", short)
        return text

    def saved_text(self) -> str:
        """When the session was last written ("session saved 12:04")."""
        if self.runner is None:
            return ""
        saved = saved_time(self.runner.observation)
        if not saved:
            return ""
        # at 80 columns the header's left part needs the room
        return f"saved {saved}" if 0 < self.size.width < 100 else f"session saved {saved}"

    # -- state shown -------------------------------------------------------------------------
    def _statuses(self) -> dict[str, str]:
        every = getattr(self.runner, "statuses", None)
        if callable(every):             # the pipeline's Runner: one pass over the plan
            known = every()
            statuses = {s.id: self.runner.stage_status(s.id, known) for s in self.stages}
        else:
            statuses = {s.id: self.runner.stage_status(s.id) for s in self.stages}
        if self._thread is not None and self._thread.alive:
            statuses[self._thread.key.split(".")[0]] = "running"
        return statuses

    @property
    def current_stage(self) -> Any | None:
        """The stage shown in the pane."""
        pane = self._pane()
        return next((s for s in self.stages if pane is not None and s.id == pane.stage_id), None)

    @property
    def current_key(self) -> str | None:
        """The step instance shown (``projbgd.A``)."""
        pane = self._pane()
        return pane.key if pane is not None else None

    def _pane(self) -> StepPane | None:
        pane = self._pane_widget
        if pane is not None and pane.is_attached:
            return pane
        panes = self.query(StepPane)
        self._pane_widget = panes.first() if panes else None
        return self._pane_widget

    async def open_stage(self, stage_id: str) -> None:
        """Show ``stage_id`` in the pane (its remembered module)."""
        async with self._opening:
            try:
                await self._open_stage(stage_id)
            except NoMatches:
                # only while the app closes: the pane's widgets are already gone
                self.log.warning(f"stage {stage_id} not shown: the pane is being removed")

    async def _open_stage(self, stage_id: str) -> None:
        stage = next(s for s in self.stages if s.id == stage_id)
        instances = instances_of(self.runner, stage_id)
        index = min(self._current.get(stage_id, 0), max(len(instances) - 1, 0))
        key = instances[index].key if instances else None
        number = self.stages.index(stage) + 1
        await self._pane().show(self.runner, number, stage, instances, key)
        sidebar = self.query_one(StepSidebar)
        sidebar.select_stage(stage_id)
        if self.ready and self.focused is None:
            sidebar.focus()             # the keys were in a view of the step left
        self.refresh_state()
        if key is not None:
            self.runner.set_current(key)

    def refresh_state(self) -> None:
        """Statuses, title, command line and header after anything changed."""
        if self.runner is None:
            return
        self.query_one(StepSidebar).set_statuses(self._statuses())
        stage = self.current_stage
        pane = self._pane()
        if stage is not None:
            pane.refresh_title(self.runner, self.stages.index(stage) + 1, stage,
                               instances_of(self.runner, stage.id))
        key = self.current_key
        line = f"$ {self.runner.command_line(key)}" if key is not None else ""
        set_text(self.query_one("#command-line", Static), line, layout=False)      # one row, full width
        set_text(self.query_one("#header-left", Static), self.header_text(), layout=False)
        set_text(self.query_one("#header-right", Static), self.saved_text())

    # -- events from widgets -----------------------------------------------------------------
    @on(StepSidebar.StageSelected)
    async def _stage_selected(self, event: StepSidebar.StageSelected) -> None:
        # act on what is highlighted now (events queued before the resume may be stale)
        if not self.ready:
            return
        # decided under the lock: a pane change in progress (a key, open_stage) finishes first,
        # and only then is the highlight compared with what the pane shows
        async with self._opening:
            sidebars, pane = self.query(StepSidebar), self._pane()
            if not sidebars or pane is None:        # the app is closing
                return
            stage_id = sidebars.first().current_stage
            if stage_id is None or stage_id == pane.stage_id:
                return
            try:
                await self._open_stage(stage_id)
            except NoMatches:
                self.log.warning(f"stage {stage_id} not shown: the pane is being removed")

    @on(ParamForm.Edited)
    def _param_edited(self, event: ParamForm.Edited) -> None:
        self.apply_params(event.key, {event.name: event.value})

    def apply_params(self, key: str, values: dict[str, str]) -> bool:
        """Give the runner new values; a refused value is shown under its field."""
        from nuskybgd_tui.pipeline_api import NuskybgdError

        form = self._pane().form
        declared = {p.name: p for p in self.runner.declared_params(key)}
        for name, value in values.items():
            try:
                convert = getattr(declared.get(name), "convert", None)
                if callable(convert) and isinstance(value, str):
                    value = convert(value)     # typed values in the session (4.0, not "4")
                self.runner.set_params(key, **{name: value})
            except NuskybgdError as exc:
                if form is not None:
                    form.show_error(name, str(exc))
                self.notify(str(exc), severity="error", markup=False)
                return False
            if form is not None:
                form.show_error(name, "")
        self.refresh_state()
        return True

    def _pending_edits(self) -> dict[str, str]:
        """Fields whose text differs from what the session holds (typed, not yet submitted)."""
        form = self._pane().form
        if form is None or form.key != self.current_key:
            return {}
        from nuskybgd_tui.backend import param_values

        held = param_values(self.runner, form.key)
        edits = {}
        for p in self.runner.declared_params(form.key):
            text = form.value_of(p.name)
            if text and text != format_param_value(held.get(p.name)):
                edits[p.name] = text
        return edits

    # -- running -----------------------------------------------------------------------------
    @property
    def running_key(self) -> str | None:
        """The step instance running now, if any."""
        return self._thread.key if self._thread is not None and self._thread.alive else None

    def action_run_step(self) -> None:
        if self.runner is not None and self.current_key is not None:
            self.start_step(self.current_key)

    def action_run_stage(self) -> None:
        stage = self.current_stage
        if self.runner is None or stage is None:
            return
        keys = [i.key for i in instances_of(self.runner, stage.id)]
        if keys and self.start_step(keys[0]):
            self._queue = keys[1:]

    def start_step(self, key: str) -> bool:
        """Run step instance ``key`` in the background; False when it cannot start now."""
        if self.running_key is not None:
            self.notify(f"{self.running_key} is running; wait for it or cancel it (c).",
                        severity="warning", markup=False)
            return False
        if key == self.current_key and not self.apply_params(key, self._pending_edits()):
            return False
        factory = self._reporter_factory
        if factory is None:
            from nuskybgd_tui.pipeline_api import Reporter as factory
        self._thread = StepThread(
            self.runner, key, factory,
            on_event=lambda e: self.post_message(StepEventPosted(key, e)),
            on_done=lambda r: self.post_message(StepFinished(key, r)),
            on_failed=lambda m: self.post_message(StepFailed(key, m)),
            on_cancelled=lambda: self.post_message(StepCancelled(key)))
        pane = self._pane()
        if key == pane.key:
            pane.show_message("")
            pane.log_line(f"▶ {self.runner.command_line(key)}")
            pane.set_progress(0.0)
        self._thread.start()
        self.refresh_state()
        return True

    def action_cancel_step(self) -> None:
        if self._thread is not None and self._thread.alive:
            self._queue = []
            self._thread.cancel()
            self.notify(f"cancelling {self._thread.key}…", markup=False)

    @on(StepEventPosted)
    def _step_event(self, message: StepEventPosted) -> None:
        pane = self._pane()
        if pane is None or message.key != pane.key:
            return
        event = message.event
        kind = type(event).__name__
        if kind == "ProgressEvent":
            pane.set_progress(event.fraction)
            if event.text:
                pane.log_line(f"  {event.text}")
        elif kind == "LogEvent":
            if event.level != "debug":
                prefix = f"{event.level}: " if event.level in ("warning", "error") else ""
                pane.log_line(prefix + event.text)
        elif kind == "OutputEvent":
            pane.log_line(event.message)
        elif kind == "ResultEvent":
            values = ", ".join(f"{k}={v}" for k, v in event.values.items())
            pane.log_line(event.text or values)

    @on(StepFinished)
    async def _step_finished(self, message: StepFinished) -> None:
        await self._after_step(message.key, f"✔ {message.key} done")
        if self._queue:
            self.start_step(self._queue.pop(0))
        else:
            self._say_what_next(message.key)

    def _say_what_next(self, key: str) -> None:
        """After a step: the module still to run in this stage, or the next stage to open."""
        pane = self._pane()
        if self.runner is None or pane is None or not self.is_running:
            return
        stage = self.runner.instance(key).stage
        if pane.stage_id != stage:
            return
        waiting = [i for i in instances_of(self.runner, stage)
                   if self.runner.status(i.key) != "done"]
        ids = [s.id for s in self.stages]
        if waiting:
            pane.log_line(f"next: {waiting[0].title} (m switches module, R runs every module)")
        elif stage in ids and ids.index(stage) + 1 < len(ids):
            number = ids.index(stage) + 2
            title = self.stages[number - 1].title
            keys = f"press {number % 10}" if number <= 10 else "esc, then ↓ in the steps list"
            pane.log_line(f"next: {number} · {title} ({keys})")

    @on(StepFailed)
    async def _step_failed(self, message: StepFailed) -> None:
        self._queue = []
        await self._after_step(message.key, f"✘ {message.key} failed: {message.message}")
        pane = self._pane()
        if pane is not None and pane.key == message.key:
            pane.show_message(message.message)
        self.notify(message.message, title=f"{message.key} failed", severity="error",
                    markup=False)

    @on(StepCancelled)
    async def _step_cancelled(self, message: StepCancelled) -> None:
        await self._after_step(message.key, f"{message.key} cancelled; nothing was written")

    async def _after_step(self, key: str, line: str) -> None:
        if self._thread is not None and self._thread.key == key:
            self._thread.join(1.0)
        if not self.is_running or self._exit:
            return                      # the step ended while the app closes: nothing to show
        pane = self._pane()
        try:
            if pane is not None and pane.key == key:
                pane.log_line(line)
                if line.startswith("✔"):
                    pane.set_progress(1.0)
                await pane.refresh_products(self.runner)
            self.refresh_state()
        except (NoMatches, MountError):
            # only while the app closes: the pane's widgets are already gone
            self.log.warning(f"{key} ended while the wizard closed")

    # -- other actions -----------------------------------------------------------------------
    def action_focus_steps(self) -> None:
        """Give the keys back to the steps list (from a form, an editor or a product view)."""
        sidebars = self.query(StepSidebar)
        if sidebars:
            sidebars.first().focus()

    async def action_open_number(self, number: int) -> None:
        if self.runner is not None and 1 <= number <= len(self.stages):
            await self.open_stage(self.stages[number - 1].id)

    async def action_next_module(self) -> None:
        stage = self.current_stage
        if stage is None:
            return
        count = len(instances_of(self.runner, stage.id))
        if count > 1:
            self._current[stage.id] = (self._current.get(stage.id, 0) + 1) % count
            await self.open_stage(stage.id)

    def action_edit_params(self) -> None:
        pane = self._pane()
        if pane is not None:
            pane.query_one(TabbedContent).active = "tab-params"
            form = pane.form
            if form is not None:
                form.focus()        # tab enters the fields (letters stay the wizard's keys)

    def action_pick_file(self) -> None:
        """Choose the file of the path parameter being edited in a file dialog."""
        from textual.widgets import Input
        from textual_fspicker import FileOpen

        pane, focused = self._pane(), self.focused
        key = self.current_key
        form = pane.form if pane is not None else None
        name = (focused.id or "").removeprefix("param-") if isinstance(focused, Input) else ""
        declared = {p.name: p for p in self.runner.declared_params(key)} if key else {}
        param = declared.get(name)
        if form is None or param is None or str(getattr(param, "kind", "")) != "path":
            self.notify("Move to a file parameter first (e, then tab to the field), then ctrl+o.",
                        markup=False)
            return
        folder = self.runner.session.folder
        current = (folder / focused.value).parent if focused.value else folder
        start = current if current.is_dir() else folder
        role_input = getattr(param, "role", "input") == "input"

        def chosen(path: Any) -> None:
            if path is None:
                return
            path = Path(path)
            try:
                text = str(path.resolve().relative_to(folder.resolve()))
            except ValueError:
                text = str(path)                    # outside event_cl/: kept absolute
            if self.apply_params(key, {name: text}):
                form.set_value(name, text)

        self.push_screen(FileOpen(start, title=f"{name}: choose a file", must_exist=role_input),
                         chosen)

    async def action_show_products(self) -> None:
        pane = self._pane()
        if pane is not None:
            await pane.ensure_products(self.runner)
            pane.query_one(TabbedContent).active = "tab-products"
            # keys go to the product view (zoom, pan, the region editor's keys)
            focusable = [w for w in pane.query("#tab-products *") if w.can_focus]
            if focusable:
                focusable[0].focus()

    def action_copy_command(self) -> None:
        key = self.current_key
        if self.runner is None or key is None:
            return
        line = self.runner.command_line(key)
        self.copy_to_clipboard(line)
        self.notify(f"copied: {line}", markup=False)

    def action_step_help(self) -> None:
        stage = self.current_stage
        if stage is None:
            return
        step_help = ""
        inst = next((i for i in instances_of(self.runner, stage.id)
                     if i.key == self.current_key), None)
        if inst is not None:
            step_help = getattr(inst, "help", "") or ""
        self.push_screen(HelpScreen(stage.title, help_for(stage.id, stage.help, step_help)))

    async def action_quit(self) -> None:
        """Quit; a running step is cancelled and given at most QUIT_GRACE seconds."""
        thread = self._thread
        if thread is None or not thread.alive:
            self.exit(0)
            return
        self._queue = []
        thread.cancel()
        self.notify("cancelling the running step, then quitting…", markup=False)
        loop_start = self._clock()

        def check() -> None:
            if not thread.alive or self._clock() - loop_start > QUIT_GRACE:
                self.exit(0)

        self.set_interval(0.05, check)

    @staticmethod
    def _clock() -> float:
        import time

        return time.monotonic()
