"""The configuration, fit, spec and simplify views on the real runner, at 80×24: a simulated
observation is run through every step by the pipeline's Runner, then the wizard shows what the
steps wrote.  Expected values are read straight from the files (PHA counts, the fit's JSON report,
the .xcm text), never from the view's own data path."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from textual.widgets import Static, TextArea

from conftest import copy_observation
from nuskybgd.pipeline import STAGES, Runner, Session, editing
from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.widgets.param_form import ParamForm
from nuskybgd_tui.widgets.recipe import RecipeChecklist
from nuskybgd_tui.widgets.spectrum_plot import SpectrumPlot
from nuskybgd_tui.widgets.tables import FitStatsTable, ParameterTable
from nuskybgd_tui.workflow_views import ConfigView, FitView, SimplifyView, SpecView
from test_tui_app import until

SIZE = (80, 24)


@pytest.fixture(scope="module")
def finished(small_observation: Path, tmp_path_factory) -> dict[str, Path]:
    """The small observation run by the Runner up to the configuration (``before_fit``) and
    through simplify (``done``): two ``event_cl/`` folders with their sessions, to be copied."""
    top = tmp_path_factory.mktemp("workflow-views")
    ev = copy_observation(small_observation, top)
    with Session.open(ev) as session:
        runner = Runner(session)
        runner.run_all(until="projbgd")
        for m in runner.observation["modules"]:
            editing.save_source_circle(runner, m, editing.propose_source_circle(runner, m))
        runner.run_all(until="config")
    before = top / "before_fit"
    shutil.copytree(ev, before / "event_cl")
    with Session.open(ev) as session:
        runner = Runner(session)
        statuses = runner.run_all()
    assert statuses["simplify.A"] == "done", statuses
    return {"before_fit": before / "event_cl", "done": ev}


def _copy(src: Path, tmp_path: Path) -> Path:
    target = tmp_path / "event_cl"
    shutil.copytree(src, target)
    return target


def _run(ev: Path, scenario) -> None:
    session = Session.open(ev)
    try:
        asyncio.run(scenario(Runner(session)))
    finally:
        session.close()


async def _open(pilot, app, stage: str, view_type):
    await until(pilot, lambda: app.ready)
    await app.open_stage(stage)
    await pilot.press("o")
    await until(pilot, lambda: bool(app.query(view_type)) and app.query_one(view_type).loaded)
    return app.query_one(view_type)


def _band_counts(pha: Path, lo: float, hi: float) -> tuple[float, float]:
    """(counts with channel energies inside [lo, hi] keV, exposure s), read from the file."""
    with fits.open(pha) as hdul:
        ch = hdul["SPECTRUM"].data["CHANNEL"].astype(float)
        counts = hdul["SPECTRUM"].data["COUNTS"].astype(float)
        exposure = float(hdul["SPECTRUM"].header["EXPOSURE"])
    e_lo, e_hi = 1.6 + 0.04 * ch, 1.6 + 0.04 * (ch + 1)
    return float(counts[(e_lo >= lo - 1e-6) & (e_hi <= hi + 1e-6)].sum()), exposure


def _caption(view) -> str:
    return str(view.query_one(".view-caption", Static).render())


def test_fit_view_shows_the_fit_and_switches_the_recipe(finished, tmp_path: Path):
    ev = _copy(finished["done"], tmp_path)
    report = json.loads((ev / "bgd" / "bgdparamsA_fit.json").read_text())["report"]

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view = await _open(pilot, app, "fit", FitView)
            assert view.problem == ""
            # the plot: region 1's data (counts from the PHA file), the model and 4 components
            for index in range(2):
                shown = view.query_one(SpectrumPlot).spectrum
                curves = view.fit.spectra[index]
                name = report["spectra"][index]["name"]
                assert shown.label == f"bgd{index}A"
                assert set(shown.components) == {"apbgd", "intbgd", "fcxb", "intn", "srcwing"}
                counts, exposure = _band_counts(ev / "bgd" / name, curves.energy[0]
                                                - curves.width[0] / 2,
                                                curves.energy[-1] + curves.width[-1] / 2)
                assert np.sum(shown.rate * curves.width) * exposure == pytest.approx(counts,
                                                                                     rel=1e-6)
                assert counts > 100
                assert _caption(view).startswith(f"{index + 1}/4 bgd{index}A · cstat ")
                await pilot.press("n")
            # statistics: the report's statistic and dof, a p-value (50 simulations), 4 regions
            await pilot.press("v")
            stats = view.query_one(FitStatsTable)
            cells = {str(stats.get_row_at(i)[0]).strip(): str(stats.get_row_at(i)[1])
                     for i in range(stats.row_count)}
            assert cells["cstat"] == f"{report['statistic']:.1f}"
            assert cells["dof"] == str(report["dof"])
            assert cells["p-value (50 sims)"] != "—"
            assert sum(k.startswith("bgd") for k in cells) == 4
            # parameters by the project's names, the XSPEC index as a hint, ±1σ of the free ones
            await pilot.press("v")
            table = view.query_one(ParameterTable)
            rows = {p.name: p for p in table.parameters}
            line = rows["intbgd.line_19.65keV.norm"]
            fitted = {p["id"]: p for p in report["parameters"]}[line.xspec]
            assert line.xspec == "intbgd:16" and not line.frozen
            assert line.value == pytest.approx(fitted["value"]) and line.error == pytest.approx(
                fitted["error"])
            # t on the 88 keV line's norm: the fit's --thaw, the fit becomes stale
            assert runner.status("fit.A") == "done"
            table.move_cursor(row=[p.name for p in table.parameters].index(
                "intbgd.line_87.90keV.norm"))
            table.focus()
            await pilot.press("t")
            await pilot.pause()
            assert runner.instance("fit.A").params["thaw"] == "88keV"
            assert runner.status("fit.A") == "stale"
            assert "--thaw 88keV" in str(app.query_one("#command-line", Static).render())
            assert rows["intbgd.line_87.90keV.norm"].xspec == "intbgd:79"
            assert {p.name: p for p in table.parameters}["intbgd.line_87.90keV.norm"].state \
                == "linked → thaw"
            # a parameter the recipe does not switch: a notification, nothing changes
            photon_index = [p.name for p in table.parameters].index("apbgd.cutoffpl.PhoIndex")
            table.move_cursor(row=photon_index)
            await pilot.press("t")
            await pilot.pause()
            assert any("apbgd.cutoffpl.PhoIndex cannot be thawed or frozen here" in str(n.message)
                       for n in app._notifications)
            assert runner.instance("fit.A").params["thaw"] == "88keV"
            assert table.parameters[photon_index].frozen
            # the recipe checklist: solar_off off → --solar-off=no, the form follows
            await pilot.press("v")
            checklist = view.query_one(RecipeChecklist)
            assert checklist.has_focus
            assert "thaw:88keV" in checklist.selected          # the table's toggle shows here
            checklist.highlighted = [checklist.get_option_at_index(i).value
                                     for i in range(checklist.option_count)].index("solar_off")
            await pilot.press("space")
            await pilot.pause()
            assert runner.instance("fit.A").params["solar_off"] is False
            assert "--solar-off=no" in str(app.query_one("#command-line", Static).render())
            assert app.query_one(ParamForm).value_of("solar_off") == "no"
            # reopening the stage shows the unchanged fit at once (the view is kept while the
            # step's files are unchanged, and its data are read once, kept by mtime)
            await app.open_stage("spec")
            await app.open_stage("fit")
            await pilot.press("o")

            def reopened():
                found = app.query(FitView)
                return bool(found) and found.first().loaded
            await until(pilot, reopened)
            assert app.query_one(FitView).fit is view.fit       # the same data, not read again
            await pilot.press("q")

    _run(ev, scenario)


def test_fit_view_before_the_fit_is_a_hint_and_the_recipe(finished, tmp_path: Path):
    ev = _copy(finished["before_fit"], tmp_path)

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view = await _open(pilot, app, "fit", FitView)
            assert _caption(view) == ("Not fitted yet: choose the recipe below (space switches "
                                      "an item), then run the fit (r).")
            assert not view.query(SpectrumPlot)
            checklist = view.query_one(RecipeChecklist)
            assert set(checklist.selected) == {"statistic", "solar_off", "freeze_fcxb", "staged"}
            checklist.focus()
            checklist.highlighted = 0
            await pilot.press("space")                         # cstat off: chi
            await pilot.pause()
            assert runner.instance("fit.A").params["statistic"] == "chi"
            assert "--statistic chi" in str(app.query_one("#command-line", Static).render())
            # the other way: staged switched off in the parameters form shows in the checklist
            await pilot.press("e")
            form = app.query_one(ParamForm)
            form.query_one("#param-staged").value = "no"
            await until(pilot, lambda: runner.instance("fit.A").params.get("staged") is False)
            await pilot.press("o")
            await until(pilot, lambda: "staged" not in checklist.selected)
            assert set(checklist.selected) == {"solar_off", "freeze_fcxb"}
            await pilot.press("q")

    _run(ev, scenario)


def test_truncated_fit_state_is_one_sentence(finished, tmp_path: Path):
    ev = _copy(finished["done"], tmp_path)
    state = ev / "bgd" / "bgdparamsA_fit.json"
    state.write_text(state.read_text()[:500])

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view = await _open(pilot, app, "fit", FitView)
            message = _caption(view)
            assert "bgdparamsA_fit.json" in message and "\n" not in message
            assert message == view.problem and message.endswith(".")
            await pilot.press("n", "v", "v")                   # keys on a broken view do nothing
            await pilot.pause()
            assert app.is_running
            await pilot.press("q")

    _run(ev, scenario)


def test_spec_view_source_against_background(finished, tmp_path: Path):
    ev = _copy(finished["done"], tmp_path)

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view = await _open(pilot, app, "spec", SpecView)
            assert str(view.query_one("#spec-files", Static).render()) == (
                "wrote bgd_srcA.xcm, bgd_srcA_bk.pha")
            caption = _caption(view)
            src_pha = ev / "bgd" / "nu90000000002A01_srcA_sr.pha"
            assert caption.startswith(f"{src_pha.name}: background dominates above ")
            crossover = float(caption.split("above ")[1].split(" keV")[0])
            assert 10.0 < crossover < 79.0
            shown = view.query_one(SpectrumPlot).spectrum
            assert {"background", "apbgd", "intbgd", "fcxb", "intn"} == set(shown.components)
            src = view.spec.sources[0]
            first, last = src.energy[0] - src.width[0] / 2, src.energy[-1] + src.width[-1] / 2
            assert 3.0 <= first < 3.5 and 70.0 < last <= 79.0      # NuSTAR's calibrated band
            counts, exposure = _band_counts(src_pha, first, last)
            assert np.sum(shown.rate * src.width) * exposure == pytest.approx(counts, rel=1e-6)
            # above the crossover the background exceeds the net source, below it does not
            above = src.energy > crossover + 5
            assert np.sum(src.background[above]) > np.sum((src.source - src.background)[above])
            await pilot.press("q")

    _run(ev, scenario)


def test_simplify_view_shows_the_xcm(finished, tmp_path: Path):
    ev = _copy(finished["done"], tmp_path)

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view = await _open(pilot, app, "simplify", SimplifyView)
            assert _caption(view) == "wrote bgd_only_srcA.xcm, bgd_only_srcA.json"
            area = view.query_one(TextArea)
            assert area.text == (ev / "bgd" / "bgd_only_srcA.xcm").read_text()
            assert area.read_only and area.document.line_count > 20   # scrolls
            await pilot.press("q")

    _run(ev, scenario)


async def _open_config(pilot, app):
    """The configuration view of FPMA, opened from its products: (view, its text area, its status)."""
    await until(pilot, lambda: app.ready)
    await app.open_stage("config")
    await pilot.press("o")
    await until(pilot, lambda: bool(app.query(ConfigView)))
    view = app.query_one(ConfigView)
    return view, view.query_one(TextArea), view.query_one("#config-status", Static)


def test_config_view_validates_and_saves(finished, tmp_path: Path):
    ev = _copy(finished["done"], tmp_path)
    path = ev / "bgd" / "bgdinfoA.json"
    original = path.read_text()

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view, area, status = await _open_config(pilot, app)
            assert area.text == original and area.has_focus
            assert str(status.render()) == ("✔ bgdinfoA.json is valid · ctrl+s saves · tab "
                                            "leaves the editor")
            # a trailing comma: the loader's sentence, in place; saving refuses, nothing written
            last_value_end = original.rstrip().rfind("\n")          # before the closing }
            area.move_cursor(area.document.get_location_from_index(last_value_end))
            await pilot.press("comma")
            await until(pilot, lambda: view.problem != "")
            assert str(status.render()).startswith(f"{path} is not valid JSON (")
            assert "\n" not in view.problem
            area.move_cursor((0, 0))
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert path.read_text() == original
            # the cursor is put on the error: the closing brace after the trailing comma
            lines = area.text.splitlines()
            assert area.cursor_location == (len(lines) - 1, 0) and lines[-1] == "}"
            # a valid change: saved atomically, the fit and what follows become stale
            area.load_text(original.replace('"intbgd_fix_line_ratios": true',
                                            '"intbgd_fix_line_ratios": false'))
            assert area.text != original
            await until(pilot, lambda: view.problem == "")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: path.read_text() != original)
            assert json.loads(path.read_text())["intbgd_fix_line_ratios"] is False
            assert str(status.render()) == ("saved bgdinfoA.json; now stale: fit.A, spec.A, "
                                            "simplify.A")
            assert runner.status("fit.A") == "stale"
            assert not list(path.parent.glob(".*tmp*"))        # no temporary left beside it
            await pilot.press("q")

    _run(ev, scenario)


def test_config_view_never_silently_replaces_an_outside_edit(finished, tmp_path: Path):
    ev = _copy(finished["done"], tmp_path)
    path = ev / "bgd" / "bgdinfoA.json"
    original = path.read_text()
    outside = original.replace('"intbgd_fix_line_ratios": true', '"intbgd_fix_line_ratios": false')
    assert outside != original

    async def scenario(runner):
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            view, area, status = await _open_config(pilot, app)
            path.write_text(outside)                    # someone edits the file in another terminal
            area.load_text(original.rstrip()[:-1].rstrip() + ',\n  "note": "edited here"\n}\n')
            await until(pilot, lambda: view.problem == "")
            await pilot.press("ctrl+s")                 # refused: the outside edit is kept
            await until(pilot, lambda: "changed outside the wizard" in str(status.render()))
            assert path.read_text() == outside
            await pilot.pause(2 * view.CHECK_DELAY)     # a later check keeps saying it
            assert "changed outside the wizard" in str(status.render())
            await pilot.press("ctrl+r")                 # the file's version is loaded
            await pilot.pause()
            assert area.text == outside and view.problem == ""
            # an edit on top of the reloaded text saves normally
            area.load_text(outside.replace('"intbgd_fix_line_ratios": false', '"intbgd_fix_line_ratios": true'))
            await until(pilot, lambda: view.problem == "")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: path.read_text() != outside)
            assert json.loads(path.read_text())["intbgd_fix_line_ratios"] is True
            # again edited outside; told, ctrl+s a second time replaces it on purpose
            path.write_text(outside)
            mine = area.text
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert path.read_text() == outside
            await pilot.press("ctrl+s")
            await until(pilot, lambda: path.read_text() == mine)
            await pilot.press("q")

    _run(ev, scenario)


# -- 80×24 layout snapshots (pytest-textual-snapshot; each baseline was looked at) -----------------
@pytest.fixture
def snapshot_session(finished, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.delenv("NO_COLOR", raising=False)
    session = Session.open(_copy(finished["done"], tmp_path))
    yield Runner(session)
    session.close()


def _full_screen(stage: str, view_type, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await _open(pilot, pilot.app, stage, view_type)
        await pilot.press("z", *keys)
        await pilot.pause()
    return run_before


def test_fit_view_plot_snapshot(snap_compare, snapshot_session):
    assert snap_compare(WizardApp(snapshot_session, STAGES), terminal_size=SIZE,
                        run_before=_full_screen("fit", FitView))


def test_fit_view_statistics_snapshot(snap_compare, snapshot_session):
    assert snap_compare(WizardApp(snapshot_session, STAGES), terminal_size=SIZE,
                        run_before=_full_screen("fit", FitView, ("v",)))


def test_spec_view_snapshot(snap_compare, snapshot_session):
    assert snap_compare(WizardApp(snapshot_session, STAGES), terminal_size=SIZE,
                        run_before=_full_screen("spec", SpecView))


def test_cancel_and_quit_during_a_running_fit(finished, tmp_path: Path):
    """A fit with many goodness-of-fit simulations is cancelled (c) and, run again, quit (q)
    while it runs: no fitted product appears, the fit is not done, and the session reopens."""
    ev = _copy(finished["before_fit"], tmp_path)
    fitted = [ev / "bgd" / "bgdparamsA_fit.xcm", ev / "bgd" / "bgdparamsA_fit.json"]

    async def scenario(runner):
        runner.set_params("fit.A", n_sim=100000)        # long enough to be caught running
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.ready)
            await app.open_stage("fit")
            await pilot.press("r")
            await until(pilot, lambda: app.running_key == "fit.A")
            await pilot.press("c")
            await until(pilot, lambda: app.running_key is None, limit=6000)
            assert runner.status("fit.A") != "done"
            assert not any(p.exists() for p in fitted)
            await pilot.press("r")
            await until(pilot, lambda: app.running_key == "fit.A")
            await pilot.press("q")
            await until(pilot, lambda: app._exit or not app.is_running, limit=6000)
        return app._thread

    session = Session.open(ev)
    try:
        thread = asyncio.run(scenario(Runner(session)))
        thread.join(30)
        assert not thread.alive                         # the fit honoured the cancel
    finally:
        session.close()
    assert not any(p.exists() for p in fitted)
    with Session.open(ev) as session:                   # the lock was released
        runner = Runner(session)
        assert runner.status("config.A") == "done" and runner.status("fit.A") != "done"
        assert not [p for p in (ev / "bgd").iterdir() if "nuskybgd-stage" in p.name]
