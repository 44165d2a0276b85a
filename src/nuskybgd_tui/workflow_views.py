"""The configuration, fit, spec and simplify stages' views.

* Configuration: ``bgdinfo{m}.json`` as editable text, validated by the library's loader as it
  is typed; ``ctrl+s`` saves it (atomically) and says which steps became stale.  An edit made to
  the file elsewhere meanwhile is never replaced silently: ``ctrl+s`` refuses once, ``ctrl+r``
  loads the file's version.
* Fit: per region the data, total model and the four components with residuals; the fit
  statistics; the parameters by name; the recipe as a checklist bound to the fit step's
  parameters (switching an item sets the parameter through the runner, so the fit becomes stale
  and the command line changes).
* Project into source: the source spectrum against its projected background, the energy above
  which the background dominates, the files written.
* Simplify: the files written and the text of ``bgd_only_<src>.xcm``.

Data come only from ``nuskybgd.pipeline`` (``views``, ``config_editing``): the views display,
they compute nothing.  A product that cannot be read is one sentence in the view, never a crash.
Slow reads (a fit's curves take ~2 s) run in a thread; ``loaded`` turns True when shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static, TabbedContent, TabPane, TextArea

from nuskybgd_tui.product_views import ProductView, register_view
from nuskybgd_tui.widgets.param_form import ParamForm
from nuskybgd_tui.widgets.recipe import RecipeChecklist, RecipeItem
from nuskybgd_tui.widgets.spectrum_plot import SpectrumData, SpectrumPlot
from nuskybgd_tui.widgets.tables import FitParameter, FitStatistics, FitStatsTable, ParameterTable

__all__ = ["ConfigView", "FitView", "SpecView", "SimplifyView", "recipe_items", "problem_sentence"]

#: the fit step's ``--thaw`` choices the checklist and the parameter table switch
THAW_CHOICES = ("24keV", "88keV")
_THAW_TEXT = {"24keV": "untie and thaw the 24 keV lines", "88keV": "untie and thaw the 88 keV line"}


def problem_sentence(path: Path | None, exc: BaseException) -> str:
    """One sentence for a product that cannot be shown (the library's errors already are one)."""
    from nuskybgd_tui.pipeline_api import NuskybgdError

    if isinstance(exc, NuskybgdError):
        return str(exc)
    name = path.name if path is not None else "the product"
    return f"{name} cannot be shown ({type(exc).__name__}: {exc}); run the step again (r)."


def _step_values(runner: Any, key: str) -> dict[str, Any]:
    """The values the session holds for ``key``, declared defaults where none is set."""
    values = {p.name: p.default for p in runner.declared_params(key)}
    values.update(runner.instance(key).params)
    return values


def _thaw_list(value: Any) -> list[str]:
    return [w.strip() for w in str(value or "").split(",") if w.strip()]


def recipe_items(runner: Any, key: str) -> list[RecipeItem]:
    """The fit step's recipe parameters as checklist items (keys ``statistic``, ``solar_off``,
    ``freeze_fcxb``, ``intn_rescale``, ``thaw:24keV``, ``thaw:88keV``, ``staged``), on or off as
    the session holds them."""
    values = _step_values(runner, key)
    helps = {p.name: (p.help or "").replace(" (recipe)", "") for p in runner.declared_params(key)}
    thaw = _thaw_list(values.get("thaw"))
    intn = values.get("intn_value")
    return [
        RecipeItem("statistic", "cstat statistic (off: chi-squared)",
                   values.get("statistic") == "cstat"),
        RecipeItem("solar_off", helps.get("solar_off", "solar components off"),
                   bool(values.get("solar_off"))),
        RecipeItem("freeze_fcxb", helps.get("freeze_fcxb", "freeze the focused CXB"),
                   bool(values.get("freeze_fcxb"))),
        RecipeItem("intn_rescale", f"start the internal-continuum norm at {intn:g} "
                   "(intn_value)" if isinstance(intn, (int, float)) else "rescale intn",
                   bool(values.get("intn_rescale"))),
        *[RecipeItem(f"thaw:{c}", _THAW_TEXT[c], c in thaw) for c in THAW_CHOICES],
        RecipeItem("staged", helps.get("staged", "staged fit"), bool(values.get("staged"))),
    ]


def _recipe_change(runner: Any, key: str, item: str, enabled: bool) -> dict[str, Any]:
    """The step parameters that switching checklist ``item`` sets."""
    if item == "statistic":
        return {"statistic": "cstat" if enabled else "chi"}
    if item.startswith("thaw:"):
        choice = item.removeprefix("thaw:")
        thaw = [c for c in _thaw_list(_step_values(runner, key).get("thaw")) if c != choice]
        if enabled:
            thaw.append(choice)
        ordered = [c for c in THAW_CHOICES if c in thaw] + [c for c in thaw if c not in THAW_CHOICES]
        return {"thaw": ",".join(ordered)}
    return {item: enabled}


#: what the views read, by (view, file, mtime, size): reopening a stage shows it at once
_READ_CACHE: dict[tuple, Any] = {}
READ_CACHE_SIZE = 6


class _Zoomable(ProductView):
    """A product view that can fill the screen (its ``zoom`` action)."""

    ALLOW_MAXIMIZE = True

    def action_zoom(self) -> None:
        """Fill the screen with the view (the same key again, or escape, restores the pane)."""
        if self.screen.maximized is self:
            self.screen.minimize()
        else:
            self.screen.maximize(self, container=False)


class _Loading(_Zoomable):
    """A product view whose data are read in a thread (``loaded`` is True once shown)."""

    BINDINGS = [Binding("z", "zoom", "full screen")]

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__()
        self._runner = runner
        self.key = key
        self.outputs = [Path(p) for p in outputs]
        self.loaded = False
        self.problem = ""

    def _load(self) -> None:
        """Show the product: at once when it was read before and has not changed since, else
        read in a thread."""
        key = self._cache_key()
        if key is not None and key in _READ_CACHE:
            self._apply(_READ_CACHE[key], "")
        else:
            self._read_in_thread(key)

    def _cache_key(self) -> tuple | None:
        path = self.product
        try:
            stat = path.stat() if path is not None else None
        except OSError:
            return None
        if stat is None:
            return None
        return type(self).__name__, str(path), stat.st_mtime_ns, stat.st_size

    @work(thread=True, exclusive=True)
    def _read_in_thread(self, key: tuple | None) -> None:
        try:
            data, problem = self.read(), ""
        except Exception as exc:  # noqa: BLE001 - a bad product is a sentence, not a crash
            data, problem = None, problem_sentence(self.product, exc)
        if not problem and key is not None:
            _READ_CACHE[key] = data
            while len(_READ_CACHE) > READ_CACHE_SIZE:
                _READ_CACHE.pop(next(iter(_READ_CACHE)))
        try:
            self.app.call_from_thread(self._loaded, data, problem)
        except RuntimeError:            # the app closed while reading
            pass

    def _loaded(self, data: Any, problem: str) -> None:
        if self.is_mounted:             # not removed while the thread read
            self._apply(data, problem)

    def _apply(self, data: Any, problem: str) -> None:
        self.problem = problem
        if problem:
            self.say(problem)
        else:
            self.show(data)
        self.loaded = True

    @property
    def product(self) -> Path | None:
        """The file the view reads."""
        return None

    def read(self) -> Any:
        """Read the data (in a thread)."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Show what :meth:`read` returned."""
        raise NotImplementedError

    def say(self, text: str) -> None:
        """One line above the view."""
        self.query_one(".view-caption", Static).update(text)

    def _refresh_app(self) -> None:
        refresh = getattr(self.app, "refresh_state", None)
        if callable(refresh):
            refresh()


# -- fit ----------------------------------------------------------------------------------------
class FitView(_Loading):
    """The fit: plot (``n`` next region), statistics, parameters and recipe (``v`` next view)."""

    DEFAULT_CSS = """
    FitView .view-caption { height: auto; max-height: 2; }
    FitView TabbedContent { height: 1fr; }
    FitView TabPane { padding: 0; height: 1fr; }
    FitView ParameterTable, FitView FitStatsTable { height: 1fr; }
    FitView RecipeChecklist, FitView RecipeChecklist:focus { height: 1fr; border: none;
        padding: 0; }
    FitView #fit-param-note { height: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("n", "cycle(1)", "next region"),
                Binding("N", "cycle(-1)", "previous region", show=False),
                Binding("v", "next_tab(1)", "next view"),
                Binding("V", "next_tab(-1)", "previous view", show=False)]
    TABS = ("fit-plot", "fit-stats", "fit-params", "fit-recipe")

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__(runner, key, outputs)
        self.state = next((p for p in self.outputs if p.name.endswith("_fit.json")), None)
        self.index = 0
        self.fit: Any = None

    @property
    def product(self) -> Path | None:
        return self.state

    def compose(self) -> ComposeResult:
        if self.state is None:
            yield Static("Not fitted yet: choose the recipe below (space switches an item), "
                         "then run the fit (r).", classes="view-caption", markup=False)
            yield RecipeChecklist(recipe_items(self._runner, self.key), id="fit-recipe-list")
            return
        yield Static(f"reading {self.state.name}…", classes="view-caption", markup=False)
        with TabbedContent(id="fit-tabs"):
            with TabPane("Plot", id="fit-plot"):
                yield SpectrumPlot(id="fit-spectrum")
            with TabPane("Statistics", id="fit-stats"):
                yield FitStatsTable(id="fit-stats-table")
            with TabPane("Parameters", id="fit-params"):
                yield Static("", id="fit-param-note", markup=False)
                yield ParameterTable(id="fit-param-table")
            with TabPane("Recipe", id="fit-recipe"):
                yield RecipeChecklist(recipe_items(self._runner, self.key), id="fit-recipe-list")

    def on_mount(self) -> None:
        if self.state is None:
            self.loaded = True
        else:
            self._load()

    def read(self) -> Any:
        from nuskybgd.pipeline import views

        return views.fit_view(self._runner, self.key)

    def on_show(self) -> None:
        """Shown again (the products tab): the recipe may have changed in the parameters form."""
        if self.query(RecipeChecklist):
            self._sync_recipe()
        if self.fit is not None:
            self._show_parameters()

    def show(self, data: Any) -> None:
        self.fit = data
        st = data.statistics
        regions = [r["region"] or r["spectrum"] for r in st["rows"]]
        self.query_one(FitStatsTable).set_statistics(FitStatistics(
            st["statistic"], st["value"], st["dof"], st["p_value"],
            [(f"{name} ({row['fraction']:.0%})", row["statistic"])
             for name, row in zip(regions, st["rows"], strict=False)], st["n_sim"]))
        self._show_parameters()
        self._show_spectrum()

    def _fit_summary(self) -> str:
        st = self.fit.statistics
        p = f", p={st['p_value']:.2g}" if st["p_value"] is not None else ""
        return f"{st['statistic']} {st['value']:.1f}/{st['dof']} dof{p}"

    def _show_spectrum(self) -> None:
        if self.fit is None or not self.fit.spectra:
            return
        curves = self.fit.spectra[self.index]
        rows = self.fit.statistics["rows"]
        region = rows[self.index]["region"] if self.index < len(rows) else ""
        name = Path(region).stem if region else curves.name
        self.query_one(SpectrumPlot).show(SpectrumData(
            curves.energy, curves.rate, curves.rate_error, curves.model, dict(curves.components),
            label=name))
        self.say(f"{self.index + 1}/{len(self.fit.spectra)} {name} · {self._fit_summary()}")

    def _parameter_rows(self) -> list[FitParameter]:
        thaw = set(_thaw_list(_step_values(self._runner, self.key).get("thaw")))
        rows = []
        # free parameters first, then the lines the recipe can thaw, then the rest (in order)
        ordered = sorted(self.fit.parameters,
                         key=lambda p: (p["status"] != "free", not p.get("thaw")))
        for p in ordered:
            state = p["status"]
            choice = p.get("thaw")
            if choice and choice in thaw and state != "free":
                state += " → thaw"
            elif choice and choice not in thaw and state == "free":
                state += " → tie"
            rows.append(FitParameter(p["name"], p["value"], p["error"], p["status"] != "free",
                                     p["id"], state=state))
        return rows

    def _show_parameters(self) -> None:
        params = self.fit.parameters
        free = sum(p["status"] == "free" for p in params)
        self.query_one("#fit-param-note", Static).update(
            f"{free} of {len(params)} free · t thaws/ties the 24 and 88 keV lines")
        self.query_one(ParameterTable).set_parameters(self._parameter_rows())

    # -- keys
    def action_cycle(self, step: int) -> None:
        if self.fit is not None and self.fit.spectra:
            self.index = (self.index + step) % len(self.fit.spectra)
            self._show_spectrum()
            self.query_one(TabbedContent).active = "fit-plot"

    def action_next_tab(self, step: int) -> None:
        tabs = self.query(TabbedContent)
        if not tabs:
            return
        current = tabs.first().active
        n = self.TABS.index(current) if current in self.TABS else 0
        tabs.first().active = self.TABS[(n + step) % len(self.TABS)]
        pane = self.query_one(f"#{tabs.first().active}", TabPane)
        focusable = [w for w in pane.query("*") if w.can_focus]
        if focusable:
            focusable[0].focus()

    # -- the recipe, bound to the step's parameters
    def on_recipe_checklist_changed(self, event: RecipeChecklist.Changed) -> None:
        event.stop()
        values = _recipe_change(self._runner, self.key, event.key, event.enabled)
        self._set_params(values)

    def on_parameter_table_toggled(self, event: ParameterTable.Toggled) -> None:
        event.stop()
        row = next((p for p in (self.fit.parameters if self.fit else ()) if p["name"] == event.name),
                   None)
        choice = row.get("thaw") if row else None
        if not choice:
            self.app.notify(f"{event.name} cannot be thawed or frozen here: the recipe switches only "
                            "the 24 keV and 88 keV line norms (--thaw); change others in XSPEC.",
                            severity="warning", markup=False)
            self._show_parameters()
            return
        thawed = choice in _thaw_list(_step_values(self._runner, self.key).get("thaw"))
        self._set_params(_recipe_change(self._runner, self.key, f"thaw:{choice}", not thawed))

    def _set_params(self, values: dict[str, Any]) -> None:
        from nuskybgd_tui.pipeline_api import NuskybgdError

        try:
            self._runner.set_params(self.key, **values)
        except NuskybgdError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            values = {}
        for form in self.app.query(ParamForm):
            if form.key == self.key:
                for name, value in values.items():
                    form.set_value(name, value)
        self._sync_recipe()
        if self.fit is not None:
            self._show_parameters()
        self._refresh_app()
        if values:
            change = ", ".join(f"{k}={v}" for k, v in values.items())
            status = self._runner.status(self.key)
            then = "; the fit is now stale: r runs it again" if status == "stale" else ""
            self.app.notify(f"{change}{then}", markup=False)

    def _sync_recipe(self) -> None:
        checklist = self.query_one(RecipeChecklist)
        for item in recipe_items(self._runner, self.key):
            if (item.key in checklist.selected) != item.enabled:
                with checklist.prevent(RecipeChecklist.Changed,
                                       RecipeChecklist.SelectionToggled):
                    if item.enabled:
                        checklist.select(item.key)
                    else:
                        checklist.deselect(item.key)
        checklist._enabled = {i.key: i.enabled for i in recipe_items(self._runner, self.key)}


# -- spec ---------------------------------------------------------------------------------------
class SpecView(_Loading):
    """The source spectrum against its projected background (``n`` next source)."""

    can_focus = True            # nothing inside takes keys: the view itself does (n, z)

    DEFAULT_CSS = """
    SpecView .view-caption { height: auto; max-height: 2; }
    SpecView #spec-files { height: auto; max-height: 2; color: $text-muted; }
    """
    BINDINGS = [Binding("n", "cycle(1)", "next source"),
                Binding("N", "cycle(-1)", "previous source", show=False)]

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__(runner, key, outputs)
        self.xcm = next((p for p in self.outputs if p.suffix == ".xcm"), None)
        self.index = 0
        self.spec: Any = None

    @property
    def product(self) -> Path | None:
        return self.xcm

    def compose(self) -> ComposeResult:
        first = ("Nothing projected yet: run the step (r)." if self.xcm is None
                 else f"reading {self.xcm.name}…")
        yield Static(first, classes="view-caption", markup=False)
        yield Static("wrote " + ", ".join(p.name for p in self.outputs) if self.outputs else "",
                     id="spec-files", markup=False)
        yield SpectrumPlot(id="spec-spectrum")

    def on_mount(self) -> None:
        if self.xcm is None:
            self.query_one(SpectrumPlot).display = False
            self.loaded = True
        else:
            self._load()

    def read(self) -> Any:
        from nuskybgd.pipeline import views

        return views.spec_view(self._runner, self.key)

    def say(self, text: str) -> None:
        super().say(text)
        if self.problem:
            self.query_one(SpectrumPlot).display = False

    def show(self, data: Any) -> None:
        self.spec = data
        self._show_source()

    def _show_source(self) -> None:
        if self.spec is None or not self.spec.sources:
            return
        src = self.spec.sources[self.index]
        comps = {"background": src.background, **dict(src.components)}
        self.query_one(SpectrumPlot).show(SpectrumData(
            src.energy, src.source, src.source_error, None, comps, label="source"))
        cross = (f"background dominates above {src.crossover_keV:.1f} keV"
                 if src.crossover_keV is not None else "the source dominates up to 79 keV")
        count = f"{self.index + 1}/{len(self.spec.sources)} " if len(self.spec.sources) > 1 else ""
        self.say(f"{count}{src.name}: {cross}")

    def action_cycle(self, step: int) -> None:
        if self.spec is not None and self.spec.sources:
            self.index = (self.index + step) % len(self.spec.sources)
            self._show_source()


# -- simplify -----------------------------------------------------------------------------------
class SimplifyView(_Loading):
    """The files written and the text of ``bgd_only_<src>.xcm`` (scrollable)."""

    DEFAULT_CSS = """
    SimplifyView .view-caption { height: auto; max-height: 2; }
    SimplifyView TextArea, SimplifyView TextArea:focus { height: 1fr; border: none;
        padding: 0; }
    """

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__(runner, key, outputs)
        self.xcm = next((p for p in self.outputs if p.suffix == ".xcm"), None)

    @property
    def product(self) -> Path | None:
        return self.xcm

    def compose(self) -> ComposeResult:
        first = ("Nothing written yet: run the step (r)." if self.xcm is None
                 else "wrote " + ", ".join(p.name for p in self.outputs))
        yield Static(first, classes="view-caption", markup=False)
        yield TextArea("", read_only=True, show_line_numbers=False, soft_wrap=False,
                       id="simplify-text")

    def on_mount(self) -> None:
        if self.xcm is None:
            self.query_one(TextArea).display = False
            self.loaded = True
        else:
            self._load()

    def read(self) -> Any:
        from nuskybgd.pipeline import views

        return views.text(self.xcm)

    def show(self, data: Any) -> None:
        self.query_one(TextArea).load_text(data)

    def say(self, text: str) -> None:
        super().say(text)
        self.query_one(TextArea).display = False


# -- configuration -------------------------------------------------------------------------------
class ConfigView(_Zoomable):
    """``bgdinfo{m}.json`` as text: edited in place, validated as typed, ``ctrl+s`` saves it."""

    DEFAULT_CSS = """
    ConfigView #config-status { height: auto; max-height: 3; }
    ConfigView #config-status.-error { color: $error; }
    ConfigView TextArea, ConfigView TextArea:focus { height: 1fr; border: none; padding: 0; }
    """
    BINDINGS = [Binding("ctrl+s", "save", "save", priority=True),
                Binding("ctrl+r", "reload", "reload file", priority=True),
                Binding("f11", "zoom", "full screen")]
    #: seconds without typing before the text is validated
    CHECK_DELAY = 0.3

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__()
        self._runner = runner
        self.key = key
        self.path: Path | None = None
        self.problem = ""
        self._timer: Any = None
        #: the file's text when it was read or last saved here (an outside edit differs from it)
        self._on_disk: str | None = None
        #: the next ctrl+s replaces an outside edit (after the user was told about it)
        self._replace_outside_edit = False

    def compose(self) -> ComposeResult:
        from nuskybgd.pipeline import config_editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        try:
            self.path = config_editing.config_path(self._runner, self.key)
            text = config_editing.config_text(self._runner, self.key)
            self._on_disk = text
        except NuskybgdError as exc:
            yield Static(str(exc), id="config-status", markup=False)
            return
        yield Static("", id="config-status", markup=False)
        yield TextArea(text, show_line_numbers=True, soft_wrap=False, tab_behavior="focus",
                       id="config-text")

    def on_mount(self) -> None:
        if self.query(TextArea):
            self.check()

    @property
    def text(self) -> str:
        """The text in the editor."""
        return self.query_one(TextArea).text

    def check(self) -> str:
        """Validate the text now; shows and returns the problem ("" when valid)."""
        from nuskybgd.pipeline import config_editing

        self.problem = config_editing.check_config(self._runner, self.key, self.text)
        status = self.query_one("#config-status", Static)
        status.set_class(bool(self.problem) or self._replace_outside_edit, "-error")
        if self.problem:
            status.update(self.problem)
        elif self._replace_outside_edit:      # the refusal stays said until saved or reloaded
            status.update(f"{self.path.name} was changed outside the wizard: ctrl+s replaces it with "
                          "this text, ctrl+r loads the file's version.")
        else:
            status.update(f"✔ {self.path.name} is valid · ctrl+s saves · tab leaves the editor")
        return self.problem

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.CHECK_DELAY, self.check)

    def action_save(self) -> None:
        from nuskybgd.pipeline import config_editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        if not self.query(TextArea):
            return
        if self._timer is not None:           # a pending check would overwrite what saving says
            self._timer.stop()
            self._timer = None
        expected = None if self._replace_outside_edit else self._on_disk
        text = self.text
        try:
            edit = config_editing.save_config(self._runner, self.key, text, expected=expected)
        except config_editing.ChangedOnDisk as exc:
            self._replace_outside_edit = True
            status = self.query_one("#config-status", Static)
            status.set_class(True, "-error")
            status.update(f"{exc} ctrl+s again replaces it with this text; ctrl+r loads the file's version.")
            return
        except NuskybgdError as exc:
            self.check()
            self.app.notify(str(exc), severity="error", markup=False)
            where = config_editing.json_error_location(self.text)
            if where is not None:               # the cursor goes to the error
                self.query_one(TextArea).move_cursor(where)
            return
        self._on_disk, self._replace_outside_edit = text, False
        status = self.query_one("#config-status", Static)
        status.set_class(False, "-error")
        if not edit.changed:
            status.update(f"{edit.path.name} unchanged")
        else:
            stale = f"; now stale: {', '.join(edit.stale)}" if edit.stale else ""
            status.update(f"saved {edit.path.name}{stale}")
        refresh = getattr(self.app, "refresh_state", None)
        if callable(refresh):
            refresh()


    def action_reload(self) -> None:
        """Replace the editor's text with the file's (an outside edit wins; edits here are dropped)."""
        from nuskybgd.pipeline import config_editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        if not self.query(TextArea):
            return
        try:
            text = config_editing.config_text(self._runner, self.key)
        except NuskybgdError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self._on_disk, self._replace_outside_edit = text, False
        self.query_one(TextArea).text = text
        self.check()


register_view("config")(ConfigView)
register_view("fit")(FitView)
register_view("spec")(SpecView)
register_view("simplify")(SimplifyView)
