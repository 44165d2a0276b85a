"""Pilot tests of the wizard on the real pipeline: a copy of the session's simulated observation,
the real ``Session``/``Runner`` and real steps.  Layout, keys, parameters, running, failing,
cancelling, quitting during a run, help, exact resume, stale after an input changes, a refused
session.  Only the step that ignores its cancel request runs on the scripted runner (no real
step ignores cancel)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import pytest
import tomllib
from astropy.io import fits
from textual.command import CommandList
from textual.widgets import Log, Static

import nuskybgd_tui.wizard as wizard_module
from conftest import copy_observation
from nuskybgd.events import Reporter
from nuskybgd.pipeline import STAGES, Runner, Session
from nuskybgd_tui.app import WizardApp, open_session
from nuskybgd_tui.messages import StepCancelled, StepFailed, StepFinished
from nuskybgd_tui.screens import HelpScreen
from nuskybgd_tui.step_pane import StepPane
from nuskybgd_tui.widgets.param_form import ParamForm
from nuskybgd_tui.widgets.sidebar import StepSidebar

SEQID = "90000000002"


def run(coro):
    return asyncio.run(coro)


async def until(pilot, condition, limit: int = 2000) -> None:
    """Let the app process messages until ``condition()`` holds (no fixed sleeps)."""
    for _ in range(limit):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


async def started(pilot) -> None:
    await until(pilot, lambda: pilot.app.ready)


async def open_step(pilot, key: str, instance: str) -> None:
    """Press a stage's number ``key`` and wait until the step ``instance`` is shown."""
    await pilot.press(key)
    await until(pilot, lambda: pilot.app.current_key == instance)


def text_of(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def prompt(app, stage_id: str) -> str:
    return str(app.query_one(StepSidebar).get_option(stage_id).prompt)


@pytest.fixture
def obs(small_observation: Path, tmp_path: Path) -> Path:
    """A private copy of the simulated observation's event_cl/ (no session file yet)."""
    return copy_observation(small_observation, tmp_path)


@pytest.fixture
def runner(obs: Path):
    session = Session.open(obs)
    yield Runner(session)
    session.close()


def recorded(obs: Path) -> dict:
    return tomllib.loads((obs / "nuskybgd-session.toml").read_text())


class GatedReporters:
    """Builds real Reporters whose first report waits until the step was asked to cancel: a
    real step (which honours cancel) is caught mid-run however fast the machine is."""

    def __init__(self) -> None:
        self.paused = threading.Event()
        self.reporters: list[Reporter] = []

    def __call__(self, sink):
        holder: list[Reporter] = []

        def gated(event):
            if not self.paused.is_set():
                self.paused.set()
                deadline = time.monotonic() + 20
                while not holder[0].cancel.cancelled and time.monotonic() < deadline:
                    time.sleep(0.005)
            sink(event)

        reporter = Reporter(sink=gated)
        holder.append(reporter)
        self.reporters.append(reporter)
        return reporter


def test_layout_header_sidebar_and_command_line(runner):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            header = text_of(app, "#header-left")
            assert f"{SEQID} SIM_POINT" in header and "FPMA+FPMB" in header
            assert header.endswith("· cal. not used yet")        # shortened to fit 80 columns
            assert re.fullmatch(r"saved \d\d:\d\d", text_of(app, "#header-right"))
            sidebar = app.query_one(StepSidebar)
            prompts = [str(sidebar.get_option_at_index(i).prompt)
                       for i in range(sidebar.option_count)]
            assert [p.split(maxsplit=2)[2] for p in prompts] == [s.title for s in STAGES]
            # nothing ran: the observation step can run, projbgd waits for the maps
            assert prompt(app, "observation").startswith("○")
            assert prompt(app, "projbgd").startswith("·")
            assert app.current_key == "info"
            assert text_of(app, "#command-line") == "$ nuskybgd info ."
    run(scenario())


def test_keys_move_between_steps_and_modules(runner, obs: Path):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("down")
            await until(pilot, lambda: app.current_key == "mkimgs.A.3to20keV")
            await open_step(pilot, "5", "projbgd.A")
            assert "Projected background — FPMA" in text_of(app, "#step-title")
            await pilot.press("m")
            await until(pilot, lambda: app.current_key == "projbgd.B")
            assert text_of(app, "#command-line").startswith(
                "$ nuskybgd projbgd --out bgd/bgdapB.fits --mod B")
            assert runner.current == "projbgd.B"          # the session is told where the user is
            assert recorded(obs)["observation"]["current"] == "projbgd.B"
            form = app.query_one(ParamForm)
            ids = [w.id for w in form.query("Input, Select, Checkbox")]
            assert ids[:5] == ["param-out", "param-mod", "param-chipmap", "param-aspect",
                               "param-refimg"]
    run(scenario())


def test_refused_value_is_shown_in_place_and_not_recorded(runner):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            field = app.query_one("#param-elow")
            field.focus()
            field.value = "three"
            await pilot.press("enter")
            await pilot.pause()
            assert text_of(app, "#error-elow") == ("--elow 'three' is not a number; give a "
                                                   "number in keV.")
            assert field.has_class("-invalid")
            assert runner.instance("mkimgs.A.3to20keV").params["elow"] == 3.0
            field.value = "5"
            await pilot.press("enter")
            await pilot.pause()
            assert runner.instance("mkimgs.A.3to20keV").params["elow"] == 5.0
            assert text_of(app, "#error-elow") == ""
            assert "--elow 5" in text_of(app, "#command-line")
    run(scenario())


def test_run_streams_events_and_marks_done(runner, obs: Path):
    messages = []
    image = obs / f"nu{SEQID}A01_cl_3to15keV.fits"      # the band is in the name

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
            await started(pilot)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            app.query_one("#param-ehigh").value = "15"   # typed, not submitted: run applies it
            app.query_one(StepSidebar).focus()
            await pilot.press("r")
            await until(pilot, lambda: any(isinstance(m, StepFinished) for m in messages))
            await until(pilot, lambda: "✔ mkimgs.A.3to20keV done" in app.query_one(Log).lines)
            lines = app.query_one(Log).lines
            assert lines[0].startswith("▶ nuskybgd mkimgs ") and "--ehigh 15" in lines[0]
            assert any(re.fullmatch(r"\d+ events in PI 35–334 \(3–15 keV\)", x) for x in lines)
            assert f"wrote {image}" in lines
            assert runner.status("mkimgs.A.3to20keV") == "done"
            assert "✔ done" in text_of(app, "#step-title")
            products = app.query_one("#tab-products")
            assert image.name in str(products.query_one(Static).render())
    run(scenario())
    with fits.open(image) as hdul:              # the file made from what was typed
        assert hdul[0].data.sum() > 0
    assert recorded(obs)["steps"]["mkimgs.A.3to20keV"]["params"]["ehigh"] == 15.0


def test_run_all_modules_then_a_lost_product_marks_stale(runner, obs: Path):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            await pilot.press("R")
            await until(pilot, lambda: app.query_one(StepSidebar).statuses["images"] == "done"
                        and app.running_key is None)
            assert all(runner.status(k) == "done" for k in (
                "mkimgs.A.3to20keV", "mkimgs.A.20to40keV", "mkimgs.B.3to20keV",
                "mkimgs.B.20to40keV"))
            assert prompt(app, "images").startswith("✔")
            # one product deleted outside the wizard: that step must be run again
            (obs / f"nu{SEQID}B01_cl_20to40keV.fits").unlink()
            await pilot.press("2")
            await until(pilot, lambda: app.query_one(StepSidebar).statuses["images"] == "stale")
            assert prompt(app, "images").startswith("↻")
            assert runner.status("mkimgs.B.20to40keV") == "stale"
    run(scenario())


def test_stale_shown_when_an_input_changes_outside(runner, obs: Path, monkeypatch):
    monkeypatch.setattr(wizard_module, "STATUS_POLL", 0.1)
    gti = obs / f"nu{SEQID}A01_gti.fits"

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await open_step(pilot, "4", "aspecthist.A")
            await pilot.press("r")
            await until(pilot, lambda: runner.status("aspecthist.A") == "done"
                        and app.running_key is None)
            assert "✔ done" in text_of(app, "#step-title")
            # another program edits the GTI file the histogram was made from
            with fits.open(gti, mode="update") as hdul:
                hdul[1].header["COMMENT"] = "edited by hand"
            await until(pilot, lambda: "↻ stale" in text_of(app, "#step-title"), limit=500)
            assert prompt(app, "aspecthist").startswith("↻")
    run(scenario())


def test_failure_is_one_message_and_the_app_lives_on(runner, obs: Path):
    det1 = obs / f"nu{SEQID}A_det1.fits"
    det1.write_bytes(det1.read_bytes()[:det1.stat().st_size // 2])    # a broken download
    sentence = (f"DET1 reference-point file {det1} is truncated (incomplete download?); "
                "fetch it again.")
    messages = []

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
            await started(pilot)
            await open_step(pilot, "4", "aspecthist.A")
            await pilot.press("r")
            await until(pilot, lambda: any(isinstance(m, StepFailed) for m in messages))
            failed = next(m for m in messages if isinstance(m, StepFailed))
            assert failed.message == sentence
            await until(pilot, lambda: app.query_one(StepSidebar).statuses["aspecthist"]
                        == "failed")
            assert "✘ failed" in text_of(app, "#step-title")
            assert text_of(app, "#step-message") == sentence        # in full, wrapped
            await pilot.press("2")           # still answering keys
            await until(pilot, lambda: app.current_key == "mkimgs.A.3to20keV")
            await pilot.press("4")           # back on the failed step: the reason is still there
            await until(pilot, lambda: app.current_key == "aspecthist.A")
            assert text_of(app, "#step-message") == sentence
    run(scenario())
    assert not (obs / "aspecthistA.fits").exists()
    assert recorded(obs)["steps"]["aspecthist.A"]["status"] == "failed"


def _prepare_projbgd(runner) -> None:
    runner.run_all(until="aspecthist")


def test_cancel_stops_the_step_and_writes_nothing(runner, obs: Path):
    _prepare_projbgd(runner)
    gate = GatedReporters()
    messages = []

    async def scenario():
        app = WizardApp(runner, STAGES, reporter_factory=gate)
        async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
            await started(pilot)
            await open_step(pilot, "5", "projbgd.A")
            await pilot.press("r")
            await until(pilot, lambda: gate.paused.is_set()
                        and app.query_one(StepSidebar).statuses["projbgd"] == "running")
            assert prompt(app, "projbgd").startswith("▶")
            await pilot.press("c")
            await until(pilot, lambda: any(isinstance(m, StepCancelled) for m in messages))
            await until(pilot, lambda: "projbgd.A cancelled; nothing was written"
                        in app.query_one(Log).lines)
            assert app.running_key is None
            assert runner.status("projbgd.A") == "ready"
    run(scenario())
    assert not list((obs / "bgd").glob("*.fits"))
    assert recorded(obs)["steps"]["projbgd.A"]["status"] == "cancelled"


def test_quit_during_a_real_step_returns_and_the_session_is_consistent(runner, obs: Path):
    _prepare_projbgd(runner)
    gate = GatedReporters()

    async def scenario():
        app = WizardApp(runner, STAGES, reporter_factory=gate)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await open_step(pilot, "5", "projbgd.A")
            await pilot.press("r")
            await until(pilot, lambda: gate.paused.is_set())
            t0 = time.monotonic()
            await pilot.press("q")
            await until(pilot, lambda: app._exit or not app.is_running,
                        limit=400)
            return time.monotonic() - t0, app._thread

    took, thread = run(scenario())
    assert took < 2.0
    thread.join(5)
    assert not thread.alive
    runner.session.close()
    again, _, message = open_session(str(obs))            # the lock was released
    assert message is None
    try:
        assert again.status("projbgd.A") == "ready"
        assert again.status("aspecthist.A") == "done"     # nothing completed is lost
        assert again.current == "projbgd.A"
    finally:
        again.session.close()
    assert not list((obs / "bgd").glob("*.fits"))


def test_quit_during_a_step_that_ignores_cancel_returns(tmp_path: Path):
    # The scripted runner: every real step honours its cancel token, so only a stand-in can
    # block past a cancel request; quitting must still return and leave the thread behind.
    from test_tui_support import STAGES as FAKE_STAGES
    from test_tui_support import FakeRunner

    runner = FakeRunner(tmp_path)
    runner.script["observation"] = "stubborn"

    async def scenario():
        app = WizardApp(runner, FAKE_STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("r")
            await until(pilot, lambda: app.running_key == "observation")
            thread = app._thread
            await pilot.press("q")
            await until(pilot, lambda: app._exit or not app.is_running,
                        limit=400)
        return thread

    thread = run(scenario())
    assert thread.alive and thread.reporter.cancel.cancelled
    runner.release.set()
    thread.join(5)
    assert not thread.alive


def test_help_explains_the_step(runner):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("9")
            await until(pilot, lambda: app.query_one(StepPane).stage_id == "fit")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = str(app.screen.query_one("#help-text", Static).render())
            assert text.startswith("Fit the background model")
            assert "solar components" in text and "focused CXB frozen" in text
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
    run(scenario())


def test_resume_opens_the_exact_step_instance_left(obs: Path):
    first, _, _ = open_session(str(obs))
    first.set_current("mkimgs.B.20to40keV")        # the second band of the second module
    first.session.close()
    runner, stages, message = open_session(str(obs))
    assert message is None

    async def scenario():
        app = WizardApp(runner, stages)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            assert app.current_key == "mkimgs.B.20to40keV"
            assert app.query_one(StepSidebar).current_stage == "images"
            assert "Counts image 20–40 keV — FPMB" in text_of(app, "#step-title")
            assert "[4/4, m: next]" in text_of(app, "#step-title")
    try:
        run(scenario())
    finally:
        runner.session.close()


def test_refused_session_is_a_message(obs: Path):
    holder = Session.open(obs)
    try:
        runner, stages, message = open_session(str(obs))
        assert runner is None and "open in another nuskybgd" in message

        async def scenario():
            app = WizardApp(None, stages, message=message)
            async with app.run_test(size=(80, 24)) as pilot:
                await started(pilot)
                await pilot.pause()
                assert text_of(app, "#message") == message
                assert not app.query(StepSidebar)
                await pilot.press("q")
            return app.return_code

        assert run(scenario()) == 0
    finally:
        holder.close()


def test_command_palette_opens_a_step(runner):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("ctrl+p")
            await pilot.press(*"open step: simplify")
            await until(pilot, lambda: any(
                "Simplify" in str(cl.get_option_at_index(i).prompt)
                for cl in app.screen.query(CommandList) for i in range(cl.option_count)))
            await pilot.press("down", "enter")
            await until(pilot, lambda: app.query_one(StepPane).stage_id == "simplify")
            assert app.query_one(StepSidebar).current_stage == "simplify"
    run(scenario())


def test_band_title_follows_the_band_parameters(runner, obs: Path):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            assert "Counts image 3–20 keV — FPMA" in text_of(app, "#step-title")
            for name, value in (("elow", "4"), ("ehigh", "25.5")):
                field = app.query_one(f"#param-{name}")
                field.focus()
                field.value = value
                await pilot.press("enter")
                await pilot.pause()
            assert "Counts image 4–25.5 keV — FPMA" in text_of(app, "#step-title")
            app.query_one(StepSidebar).focus()
            await pilot.press("m")                       # the other band keeps its own title
            await until(pilot, lambda: app.current_key == "mkimgs.A.20to40keV")
            assert "Counts image 20–40 keV — FPMA" in text_of(app, "#step-title")
    run(scenario())
    runner.session.close()
    reopened, stages, _ = open_session(str(obs))     # the edited band is the saved one
    try:
        assert reopened.instance("mkimgs.A.3to20keV").title == "Counts image 4–25.5 keV — FPMA"
    finally:
        reopened.session.close()


def test_moving_between_steps_reuses_the_form_in_place(runner):
    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await open_step(pilot, "2", "mkimgs.A.3to20keV")
            pane = app.query_one(StepPane)
            form = pane.form
            assert form.value_of("elow") == "3" and form.value_of("ehigh") == "20"
            field = app.query_one("#param-elow")
            field.focus()
            field.value = "x"
            await pilot.press("enter")
            await pilot.pause()
            assert text_of(app, "#error-elow") != ""
            app.query_one(StepSidebar).focus()
            await pilot.press("m")
            await until(pilot, lambda: app.current_key == "mkimgs.A.20to40keV")
            # the same widgets, now holding the other instance's values, the error gone
            assert pane.form is form and form.key == "mkimgs.A.20to40keV"
            assert form.value_of("elow") == "20" and form.value_of("ehigh") == "40"
            assert text_of(app, "#error-elow") == "" and not field.has_class("-invalid")
            await open_step(pilot, "5", "projbgd.A")
            assert pane.form is not form and not form.display
            await pilot.press("2")                       # back to the band left
            await until(pilot, lambda: app.current_key == "mkimgs.A.20to40keV")
            assert pane.form is form and form.display and form.value_of("elow") == "20"
            # loading values is no edit: nothing was recorded for the steps only looked at
            assert runner.instance("mkimgs.A.20to40keV").params["elow"] == 20.0
            assert "params" not in (runner.session.record("mkimgs.A.20to40keV") or {})
    run(scenario())
