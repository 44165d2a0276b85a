"""pipeline.editing on the simulated observation: the proposed source circle lands on the
simulator's true source, saving writes a ds9 file the regions step reads, refuses to replace
without overwrite, and a moved circle turns the regions and spectra steps stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from regions import Regions

from conftest import copy_observation
from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.pipeline import Runner, Session
from nuskybgd.pipeline.editing import (
    SourceCircle,
    current_source_circle,
    propose_source_circle,
    save_source_circle,
    source_region_path,
)


@pytest.fixture
def runner(small_observation: Path, tmp_path: Path):
    ev = copy_observation(small_observation, tmp_path)
    session = Session.open(ev)
    r = Runner(session)
    yield r
    session.close()


def test_proposal_needs_the_image(runner):
    with pytest.raises(InputError, match="run the Images step first"):
        propose_source_circle(runner, "A")


def test_propose_save_run_and_move(runner, small_observation: Path):
    runner.run_all(until="projbgd")
    truth = json.loads((small_observation.parent / "truth.json").read_text())
    sky_x, sky_y = truth["modules"]["A"]["source"]["sky_xy"]       # 1-based sky pixels
    circle = propose_source_circle(runner, "A")
    assert abs(circle.x - (sky_x - 1)) <= 2 and abs(circle.y - (sky_y - 1)) <= 2
    assert circle.r == pytest.approx(60 / 2.4588)                   # 60 arcsec

    edit = save_source_circle(runner, "A", circle)
    assert edit.path == source_region_path(runner, "A") and edit.changed and edit.stale == []
    written = Regions.read(str(edit.path), format="ds9")
    assert len(written) == 1
    assert written[0].center.x == pytest.approx(circle.x)            # regions: 0-based
    assert "image" in edit.path.read_text() and f"{circle.x + 1:.4f}" in edit.path.read_text()
    again = current_source_circle(runner, "A")
    assert (again.x, again.y, again.r) == pytest.approx((circle.x, circle.y, circle.r))

    with pytest.raises(OutputExistsError, match="srcA.reg already exists"):
        save_source_circle(runner, "A", circle)                    # exists: no silent replace

    runner.run("regions.A")
    runner.run("spectra.A")
    moved = SourceCircle(circle.x + 4, circle.y, circle.r)
    edit = save_source_circle(runner, "A", moved, overwrite=True)
    assert edit.changed and edit.stale == ["regions.A", "spectra.A"]
    assert runner.status("regions.B") != "stale"
    with pytest.raises(InputError, match="not a positive number"):
        save_source_circle(runner, "A", SourceCircle(1, 1, 0), overwrite=True)
