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


@pytest.fixture(scope="session")
def demo_observation(tmp_path_factory) -> Path:
    """``event_cl/`` of one short simulated observation (2 ks, seed 1), made once per session
    through the real command line.  Treat it as read-only: copy a file before altering it."""
    import subprocess
    import sys

    top = tmp_path_factory.mktemp("demo_observation")
    r = subprocess.run([sys.executable, "-m", "nuskybgd", "simulate", str(top / "sim"), "--exposure", "2000"],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return top / "sim" / "90000000002" / "event_cl"
