"""80×24 layout snapshots of the wizard (pytest-textual-snapshot).  Each baseline SVG under
``__snapshots__/`` was looked at before it was committed; regenerate deliberately with
``--snapshot-update`` and look again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.app import App, ComposeResult

from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.widgets.image_render import OverlayShape
from nuskybgd_tui.widgets.image_view import ImageView
from test_tui_support import STAGES, FakeRunner


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.delenv("NO_COLOR", raising=False)


async def _ready(pilot) -> None:
    for _ in range(500):
        if pilot.app.ready:
            break
        await pilot.pause(0.01)
    await pilot.pause()


def test_first_screen(snap_compare, tmp_path: Path):
    assert snap_compare(WizardApp(FakeRunner(tmp_path), STAGES), terminal_size=(80, 24),
                        run_before=_ready)


def test_fit_step_parameters(snap_compare, tmp_path: Path):
    assert snap_compare(WizardApp(FakeRunner(tmp_path), STAGES), press=["9"],
                        terminal_size=(80, 24), run_before=_ready)


def test_help_screen(snap_compare, tmp_path: Path):
    assert snap_compare(WizardApp(FakeRunner(tmp_path), STAGES), press=["9", "question_mark"],
                        terminal_size=(80, 24), run_before=_ready)


def test_failed_step(snap_compare, tmp_path: Path):
    runner = FakeRunner(tmp_path)
    runner.script["observation"] = "fail"

    async def fail(pilot) -> None:
        await _ready(pilot)
        await pilot.press("r")
        for _ in range(500):
            if runner.status("observation") == "failed" and pilot.app.running_key is None:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(WizardApp(runner, STAGES), terminal_size=(80, 24), run_before=fail)


class ImageApp(App):
    def compose(self) -> ComposeResult:
        y, x = np.mgrid[0:200, 0:200]
        image = 2.0 + 400.0 * np.exp(-((x - 120) ** 2 + (y - 80) ** 2) / 60.0)
        image[:, :100] *= 0.5                                     # two detectors, two levels
        yield ImageView(image, title="nu60001047002A01_cl_3to20keV.fits", overlays=[
            OverlayShape("detector", "polygon", (1, 1, 100, 1, 100, 200, 1, 200)),
            OverlayShape("source", "circle", (121.0, 81.0, 25.0)),
            OverlayShape("exclude", "box", (50.5, 150.5, 40, 30, 0)),
        ])


def test_image_widget(snap_compare):
    assert snap_compare(ImageApp(), terminal_size=(80, 24))
