"""A first-time user's path through the wizard, by keys only, on a simulated observation: every
step from the observation to simplify, both modules, at 80×24.

Asserts on the screen (the steps list, the fit's statistic and parameter names, the projection)
and on the files the steps wrote, read back independently (the fit's JSON report, the .xcm text,
FITS headers).  Waits on conditions, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from astropy.io import fits
from textual.widgets import Static

from conftest import copy_observation
from nuskybgd.pipeline import STAGES, Runner, Session
from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.region_views import RegionEditor
from nuskybgd_tui.widgets.sidebar import StepSidebar
from nuskybgd_tui.widgets.tables import FitStatsTable, ParameterTable
from nuskybgd_tui.workflow_views import FitView, SimplifyView, SpecView

SEQ = "90000000002"


async def wait(pilot, condition, seconds: float = 300.0) -> None:
    """Let the app work until ``condition()`` holds (a deadline, not a sleep)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def _shown(widget) -> str:
    return str(widget.render())


def test_first_time_user_reaches_simplify_by_keys(small_observation: Path, tmp_path: Path):
    ev = copy_observation(small_observation, tmp_path)
    session = Session.open(ev)
    runner = Runner(session)
    ids = [s.id for s in STAGES]

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait(pilot, lambda: app.ready)
            sidebar = app.query_one(StepSidebar)

            async def open_step(stage: str) -> None:
                number = ids.index(stage) + 1
                if number <= 10:
                    await pilot.press(str(number % 10))
                else:                                   # step 11: from the steps list
                    await pilot.press("escape", "down")
                await wait(pilot, lambda: app.current_stage is not None
                           and app.current_stage.id == stage)

            async def run_stage(stage: str) -> None:
                await open_step(stage)
                await pilot.press("R")                  # every module of the stage
                await wait(pilot, lambda: sidebar.statuses[stage] in ("done", "failed")
                           and app.running_key is None)
                assert sidebar.statuses[stage] == "done", runner.statuses()

            for stage in ("observation", "images", "instrmap", "aspecthist", "projbgd"):
                await run_stage(stage)
            # regions: the wizard asks for the source region first; place the proposed circle
            # of each module (o shows the editor, W saves it) and run
            await open_step("regions")
            assert "First place the source region" in _shown(app.query_one("#step-message"))
            for module in ("A", "B"):
                await wait(pilot, lambda m=module: app.current_key == f"regions.{m}")
                await pilot.press("o")
                await wait(pilot, lambda: any(e.regions is not None
                                              for e in app.query(RegionEditor)))
                await pilot.press("W")
                await wait(pilot, lambda m=module: (ev / "bgd" / f"src{m}.reg").is_file())
                await pilot.press("escape", "m")
            await pilot.press("R")
            await wait(pilot, lambda: sidebar.statuses["regions"] == "done"
                       and app.running_key is None)
            for stage in ("spectra", "config", "fit", "spec", "simplify"):
                await run_stage(stage)
            assert set(sidebar.statuses.values()) == {"done"}

            # the fit on screen is the fit in the files
            report = json.loads((ev / "bgd" / "bgdparamsA_fit.json").read_text())["report"]
            await open_step("fit")
            await wait(pilot, lambda: app.current_key == "fit.A")
            await pilot.press("o")
            await wait(pilot, lambda: any(v.loaded for v in app.query(FitView)))
            view = app.query_one(FitView)
            caption = _shown(view.query_one(".view-caption", Static))
            assert f"cstat {report['statistic']:.1f}/{report['dof']} dof" in caption
            stats = view.query_one(FitStatsTable)._stats
            assert stats.value == pytest.approx(report["statistic"]) and stats.dof == report["dof"]
            names = [p.name for p in view.query_one(ParameterTable).parameters]
            for name in ("apbgd.cutoffpl.norm", "intn.bknpower.norm",
                         "intbgd.line_19.65keV.norm", "intbgd.line_87.90keV.norm"):
                assert name in names
            free = {p["name"] for p in report["parameters"]}
            assert free <= set(names)
            # the projection into the source region says where the background dominates
            await open_step("spec")
            await pilot.press("o")
            await wait(pilot, lambda: any(v.loaded for v in app.query(SpecView)))
            assert "background dominates above" in _shown(
                app.query_one(SpecView).query_one(".view-caption", Static))
            await open_step("simplify")
            await pilot.press("o")
            await wait(pilot, lambda: any(v.loaded for v in app.query(SimplifyView)))
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        session.close()

    bgd = ev / "bgd"
    for m in ("A", "B"):
        xcm = (bgd / f"bgd_only_src{m}.xcm").read_text()
        assert "model  1:" not in xcm and "model 1:" not in xcm      # model 1 left for the user
        assert f"{SEQ}{m}01_src{m}_sr.pha" in xcm and "bgd0" not in xcm   # background spectra dropped
        source = fits.getheader(bgd / f"nu{SEQ}{m}01_src{m}_sr.pha", "SPECTRUM")
        background = fits.getheader(bgd / f"bgd_src{m}_bk.pha", "SPECTRUM")
        assert background["EXPOSURE"] == pytest.approx(source["EXPOSURE"])
    recorded = (ev / "nuskybgd-session.toml").read_text()
    assert recorded.count('status = "done"') >= len(runner.instances)
