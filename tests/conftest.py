"""Shared fixtures: the real sample data in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path of a file in ../shared/data; skips the test with a reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"sample data {p} is not present (it lives beside the project, never in it)")
    return p


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder {SHARED_DATA} is not present")
    return SHARED_DATA


def _shared_listing() -> set[str]:
    if not SHARED_DATA.is_dir():
        return set()
    return {str(p.relative_to(SHARED_DATA)) for p in SHARED_DATA.rglob("*")}


@pytest.fixture(scope="session", autouse=True)
def shared_data_stays_untouched():
    """Tests run as root, so read-only bits do not protect ../shared/data: fail the run if any test
    wrote a file there (a step whose default output folder is its input's)."""
    before = _shared_listing()
    yield
    added = sorted(_shared_listing() - before)
    assert not added, f"tests wrote into {SHARED_DATA}: {added}"


@pytest.fixture(scope="session")
def small_observation(tmp_path_factory) -> Path:
    """A short simulated observation (20 ks, FPMA and FPMB, point source, built-in calibration),
    made once per test session; returns its ``event_cl/`` folder.  Tests that modify files copy it
    (:func:`copy_observation`)."""
    from nuskybgd.simulate.core import simulate_observation

    root = tmp_path_factory.mktemp("small-observation")
    res = simulate_observation(root, seqid="90000000002", exposure=20e3, seed=11, source="point",
                               calibration="nominal")
    return Path(res.event_dir)


def copy_observation(event_dir: Path, dest: Path) -> Path:
    """A copy of an observation's ``event_cl/`` folder in ``dest`` (returns the copy)."""
    import shutil

    target = dest / "event_cl"
    shutil.copytree(event_dir, target)
    return target
