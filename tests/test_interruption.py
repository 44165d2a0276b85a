"""kill -9 at any moment loses nothing and never blocks a rerun: the demo is SIGKILLed at named
points (early, during simulate, during projbgd, late) and a plain rerun — no --overwrite —
completes with products identical to an uninterrupted run (ARCHITECTURE §10's meaning)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from compare_products import differences, fits_files  # noqa: E402

DEMO = ["demo", "demo", "--exposure", "4000", "--seed", "7"]


def _demo(cwd: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NUSKYBGD_TEST_KILL_AT"}
    if kill_at:
        env["NUSKYBGD_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "nuskybgd", *DEMO], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted demo run (the products every interrupted run must end with)."""
    cwd = tmp_path_factory.mktemp("uninterrupted")
    proc = _demo(cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd / "demo"


@pytest.mark.parametrize("kill_at", [
    "atomic_set.moved:1",        # early: the observation's files half moved into place
    "simulate.staged",           # during simulate: all written, nothing committed
    "atomic_set.staged:2",       # during projbgd (FPMA): images staged, not committed
    "atomic_set.moved:4",        # during projbgd: the set committed and partly moved
    "runner.step_done:8",        # late: a step finished its work but the session has no record yet
])
def test_killed_demo_resumes_to_identical_products(reference, tmp_path, kill_at):
    killed = _demo(tmp_path, kill_at)
    assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr[-2000:])
    rerun = _demo(tmp_path)
    assert rerun.returncode == 0, (kill_at, rerun.stderr[-2000:])
    assert "Traceback" not in rerun.stderr
    ours, ref = fits_files(tmp_path / "demo"), fits_files(reference)
    assert sorted(ours) == sorted(ref)
    for rel in ref:
        assert differences(ours[rel], ref[rel]) == [], rel
    leftovers = [p for p in (tmp_path / "demo").rglob("*") if "nuskybgd-stage" in p.name or "nuskybgd-tmp" in p.name]
    assert leftovers == []
    assert "status = \"done\"" in (tmp_path / "demo" / "90000000002" / "event_cl" / "nuskybgd-session.toml").read_text()
