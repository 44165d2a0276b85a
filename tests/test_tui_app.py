"""Pilot tests of the wizard's shell over a scripted runner: layout, keys, parameters, running,
failing, cancelling, quitting during a run, help, resume, a refused session."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.command import CommandList
from textual.widgets import Log, Static

from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.messages import StepCancelled, StepFailed, StepFinished
from nuskybgd_tui.screens import HelpScreen
from nuskybgd_tui.step_pane import StepPane
from nuskybgd_tui.widgets.param_form import ParamForm
from nuskybgd_tui.widgets.sidebar import StepSidebar
from test_tui_support import STAGES, FakeRunner


def run(coro):
    return asyncio.run(coro)


async def until(pilot, condition, limit: int = 500) -> None:
    """Let the app process messages until ``condition()`` holds (no fixed sleeps)."""
    for _ in range(limit):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


async def started(pilot) -> None:
    """Wait until the wizard shows the session's step."""
    await until(pilot, lambda: pilot.app.ready)


def text_of(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def test_layout_header_sidebar_and_command_line(tmp_path: Path):
    runner = FakeRunner(tmp_path)

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.pause()
            header = text_of(app, "#header-left")
            assert "60001047002" in header and "DEMO" in header
            assert "FPMA+FPMB" in header and "built-in (approximate)" in header
            assert text_of(app, "#header-right") == "session saved 12:04"
            sidebar = app.query_one(StepSidebar)
            prompts = [str(sidebar.get_option_at_index(i).prompt)
                       for i in range(sidebar.option_count)]
            assert [p.split(maxsplit=2)[2] for p in prompts] == [s.title for s in STAGES]
            assert prompts[0].startswith("○") and prompts[1].startswith("·")
            assert app.current_key == "observation"
            assert text_of(app, "#command-line") == "$ nuskybgd observation"
    run(scenario())


def test_keys_move_between_steps_and_modules(tmp_path: Path):
    runner = FakeRunner(tmp_path)

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.pause()
            await pilot.press("down")
            await until(pilot, lambda: app.current_key == "images.A")
            await pilot.press("9")
            await until(pilot, lambda: app.current_key == "fit.A")
            assert "Fit — FPMA" in text_of(app, "#step-title")
            await pilot.press("m")
            await until(pilot, lambda: app.current_key == "fit.B")
            assert text_of(app, "#command-line").startswith("$ nuskybgd fit --mod B")
            assert runner.current == "fit.B"       # the session is told where the user is
            form = app.query_one(ParamForm)
            assert [w.id for w in form.query("Input, Select")] == ["param-statistic",
                                                                  "param-iterations"]
    run(scenario())


def test_refused_value_is_shown_in_place_and_not_recorded(tmp_path: Path):
    runner = FakeRunner(tmp_path)

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("2")
            await until(pilot, lambda: app.current_key == "images.A")
            field = app.query_one("#param-elow")
            field.focus()
            field.value = "three"
            await pilot.press("enter")
            await pilot.pause()
            error = text_of(app, "#error-elow")
            assert error == "--elow 'three' is not a number; give a number in keV."
            assert field.has_class("-invalid")
            assert runner._inst("images.A").params["elow"] == 3.0
            field.value = "5"
            await pilot.press("enter")
            await pilot.pause()
            assert runner._inst("images.A").params["elow"] == 5.0
            assert text_of(app, "#error-elow") == ""
            assert "--elow 5.0" in text_of(app, "#command-line")
    run(scenario())


def test_run_streams_events_and_marks_done(tmp_path: Path):
    runner = FakeRunner(tmp_path)
    messages = []

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
            await started(pilot)
            await pilot.press("2")
            await until(pilot, lambda: app.current_key == "images.A")
            app.query_one("#param-ehigh").value = "40"   # typed, not submitted: run applies it
            await pilot.press("escape")
            app.query_one(StepSidebar).focus()
            await pilot.press("r")
            await until(pilot, lambda: any(isinstance(m, StepFinished) for m in messages))
            await until(pilot, lambda: "✔ images.A done" in app.query_one(Log).lines)
            lines = app.query_one(Log).lines
            assert lines[0] == "▶ nuskybgd images --mod A --elow 3.0 --ehigh 40.0"
            assert "starting images.A" in lines and "C-stat 3712.4 / 3650 dof" in lines
            assert f"wrote {tmp_path / 'images.A.txt'}" in lines
            assert runner.status("images.A") == "done"
            assert "✔ done" in text_of(app, "#step-title")
            assert (tmp_path / "images.A.txt").read_text() == "made by images.A\n"
            products = app.query_one("#tab-products")
            assert str(tmp_path / "images.A.txt") in str(products.query_one(Static).render())
    run(scenario())


def test_run_all_modules_then_edit_marks_stale(tmp_path: Path):
    runner = FakeRunner(tmp_path)

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("2")
            await until(pilot, lambda: app.current_key == "images.A")
            await pilot.press("R")
            await until(pilot, lambda: runner.runs == ["images.A", "images.B"]
                        and app.running_key is None)
            await until(pilot, lambda: app.query_one(StepSidebar).statuses["images"] == "done")
            assert str(app.query_one(StepSidebar).get_option("images").prompt).startswith("✔")
            app.apply_params("images.A", {"elow": "4"})
            assert app.query_one(StepSidebar).statuses["images"] == "stale"
            assert str(app.query_one(StepSidebar).get_option("images").prompt).startswith("↻")
    run(scenario())


def test_failure_is_one_message_and_the_app_lives_on(tmp_path: Path):
    runner = FakeRunner(tmp_path)
    runner.script["observation"] = "fail"
    messages = []

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
            await started(pilot)
            await pilot.press("r")
            await until(pilot, lambda: any(isinstance(m, StepFailed) for m in messages))
            failed = next(m for m in messages if isinstance(m, StepFailed))
            assert failed.message == ("the event file for observation is missing; "
                                      "run Observation first.")
            await until(pilot, lambda: app.query_one(StepSidebar).statuses["observation"]
                        == "failed")
            assert "✘ failed" in text_of(app, "#step-title")
            assert text_of(app, "#step-message") == failed.message   # in full, wrapped
            await pilot.press("2")           # still answering keys
            await until(pilot, lambda: app.current_key == "images.A")
    run(scenario())


def test_cancel_stops_the_step_and_writes_nothing(tmp_path: Path):
    runner = FakeRunner(tmp_path)
    runner.script["observation"] = "slow"
    messages = []

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
            await started(pilot)
            await pilot.press("r")
            await until(pilot, lambda: app.query_one(StepSidebar).statuses["observation"]
                        == "running")
            assert str(app.query_one(StepSidebar).get_option("observation").prompt
                       ).startswith("▶")
            await pilot.press("c")
            await until(pilot, lambda: any(isinstance(m, StepCancelled) for m in messages))
            assert not (tmp_path / "observation.txt").exists()
            assert runner.status("observation") == "ready"
            assert app.running_key is None
    run(scenario())


def test_quit_during_a_step_that_ignores_cancel_returns(tmp_path: Path):
    runner = FakeRunner(tmp_path)
    runner.script["observation"] = "stubborn"

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("r")
            await until(pilot, lambda: app.running_key == "observation")
            thread = app._thread
            await pilot.press("q")
            await until(pilot, lambda: app._exit_renderables is not None or not app.is_running,
                        limit=400)
        return thread

    thread = run(scenario())
    # the app has returned although the step is still blocked: quitting never waits for it
    assert thread.alive and thread.reporter.cancel.cancelled
    runner.release.set()
    thread.join(5)
    assert not thread.alive


def test_help_explains_the_step(tmp_path: Path):
    runner = FakeRunner(tmp_path)

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.press("9")
            await until(pilot, lambda: app.current_key == "fit.A")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = str(app.screen.query_one("#help-text", Static).render())
            assert text.startswith("Fit the background model.")
            assert "solar components" in text and "focused CXB frozen" in text
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
    run(scenario())


def test_resume_opens_the_step_left(tmp_path: Path):
    runner = FakeRunner(tmp_path)
    runner.current = "spectra.B"

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.pause()
            assert app.query_one(StepPane).stage_id == "spectra"
            assert app.query_one(StepSidebar).current_stage == "spectra"
    run(scenario())


def test_refused_session_is_a_message(tmp_path: Path):
    sentence = ("The session nuskybgd-session.toml is open in another wizard (pid 4242); "
                "close that one first.")

    async def scenario():
        app = WizardApp(None, STAGES, message=sentence)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            await pilot.pause()
            assert text_of(app, "#message") == sentence
            assert not app.query(StepSidebar)
            await pilot.press("q")
        return app.return_code

    assert run(scenario()) == 0


def test_command_palette_opens_a_step(tmp_path: Path):
    runner = FakeRunner(tmp_path)

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
            await until(pilot, lambda: app.current_key == "simplify")
            assert app.query_one(StepSidebar).current_stage == "simplify"
    run(scenario())
