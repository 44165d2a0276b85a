"""The wizard on a real (simulated) observation through the pipeline's Session and Runner:
running steps writes the products the session records, the image view shows the FITS image,
a second wizard on the same session is refused, reopening resumes at the first unfinished step."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import tomllib
from astropy.io import fits
from textual.widgets import Static

from conftest import copy_observation
from nuskybgd.pipeline import STAGES, Runner, Session
from nuskybgd_tui.app import WizardApp, open_session
from nuskybgd_tui.product_views import ImageGallery
from nuskybgd_tui.widgets.image_view import ImageView
from nuskybgd_tui.widgets.sidebar import StepSidebar
from test_tui_app import open_step


async def until(pilot, condition, limit: int = 6000) -> None:
    for _ in range(limit):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


def test_run_images_show_them_and_resume(small_observation: Path, tmp_path: Path):
    ev = copy_observation(small_observation, tmp_path)
    seqid = "90000000002"
    session = Session.open(ev)
    runner = Runner(session)

    async def first_visit():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ready)
            assert app.current_key == "info"
            header = str(app.query_one("#header-left", Static).render())
            assert seqid in header and "FPMA+FPMB" in header
            # a second wizard on the same session is refused with one sentence
            other, _, message = open_session(str(ev))
            assert other is None and "open in another nuskybgd" in message
            await pilot.press("r")
            await until(pilot, lambda: runner.status("info") == "done" and app.running_key is None)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            await pilot.press("r")
            await until(pilot, lambda: runner.status("mkimgs.A.3to20keV") == "done"
                        and app.running_key is None)
            await until(pilot, lambda: bool(app.query(ImageGallery)))
            await pilot.press("o")
            await pilot.pause()
            gallery = app.query_one(ImageGallery)
            image_file = ev / f"nu{seqid}A01_cl_3to20keV.fits"
            assert gallery.images == [image_file]
            shown = gallery.query_one(ImageView).data
            with fits.open(image_file) as hdul:
                on_disk = np.asarray(hdul[0].data, float)
            # drawn as ds9 shows it: FITS row 0 at the bottom
            np.testing.assert_array_equal(shown, np.flipud(on_disk))
            assert on_disk.sum() > 0
            assert app.query_one(StepSidebar).statuses["observation"] == "done"
            await pilot.press("q")

    asyncio.run(first_visit())
    session.close()
    recorded = tomllib.loads((ev / "nuskybgd-session.toml").read_text())
    assert recorded["steps"]["mkimgs.A.3to20keV"]["status"] == "done"

    runner2, stages, message = open_session(str(ev))
    assert message is None

    async def second_visit():
        app = WizardApp(runner2, stages)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ready)
            # resumes at the first stage that is not finished, with the same choices
            assert app.query_one(StepSidebar).current_stage == "images"
            assert app.query_one(StepSidebar).statuses["observation"] == "done"
            await pilot.press("q")

    try:
        asyncio.run(second_visit())
    finally:
        runner2.session.close()


def test_corrupt_session_file_is_one_sentence(small_observation: Path, tmp_path: Path):
    ev = copy_observation(small_observation, tmp_path)
    (ev / "nuskybgd-session.toml").write_text("schema = [this is not toml\n")
    runner, stages, message = open_session(str(ev))
    assert runner is None and [s.id for s in stages][0] == "observation"
    assert message.startswith(f"session file {ev / 'nuskybgd-session.toml'} is not valid TOML")
    assert message.count("\n") == 0

    async def scenario():
        app = WizardApp(None, stages, message=message)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert str(app.query_one("#message", Static).render()) == message
            await pilot.press("q")
        return app.return_code

    assert asyncio.run(scenario()) == 0


def test_refused_parameter_on_the_real_runner(small_observation: Path, tmp_path: Path):
    ev = copy_observation(small_observation, tmp_path)
    runner, stages, message = open_session(str(ev.parent))      # the sequence folder works too
    assert message is None

    async def scenario():
        app = WizardApp(runner, stages)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ready)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            field = app.query_one("#param-elow")
            field.value = "500"
            field.focus()
            await pilot.press("enter")
            await pilot.pause()
            error = str(app.query_one("#error-elow", Static).render())
            assert error == "--elow 500 is above the maximum 200 keV."
            assert runner.instance("mkimgs.A.3to20keV").params["elow"] == 3.0
            field.value = "4"
            await pilot.press("enter")
            await pilot.pause()
            assert runner.instance("mkimgs.A.3to20keV").params["elow"] == 4.0
            assert "--elow 4" in str(app.query_one("#command-line", Static).render())
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        runner.session.close()


def test_file_picker_sets_a_path_parameter(small_observation: Path, tmp_path: Path):
    """ctrl+o on a file parameter opens a file dialog; the file chosen there becomes the step's
    parameter (relative to event_cl/) and its command line; elsewhere it says where to go."""
    from textual.widgets import Input
    from textual_fspicker import FileOpen

    ev = copy_observation(small_observation, tmp_path)
    runner, stages, message = open_session(str(ev))
    assert message is None
    other = "nu90000000002B01_cl.evt"

    async def scenario():
        app = WizardApp(runner, stages)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.ready)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            await pilot.press("ctrl+o")                    # not on a file field: a hint
            await pilot.pause()
            assert any("Move to a file parameter" in str(n.message) for n in app._notifications)
            await pilot.press("e", "tab")                  # into the first field: the event file
            await until(pilot, lambda: app.focused is app.query_one("#param-event_file"))
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, FileOpen))
            name = app.screen.query_one(Input)
            name.value = other
            name.focus()
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, FileOpen))
            await pilot.pause()
            assert str(runner.instance("mkimgs.A.3to20keV").params["event_file"]) == other
            assert f"event_file = \"{other}\"" in (ev / "nuskybgd-session.toml").read_text()
            assert app.query_one("#param-event_file").value == other
            assert f"$ nuskybgd mkimgs {other}" in str(app.query_one("#command-line",
                                                                      Static).render())
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        runner.session.close()
