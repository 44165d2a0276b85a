"""``scripts/demo`` and ``scripts/test`` install once per pyproject.toml, then start at once.

The scripts run for real (bash) in a copy of the repository layout whose ``.venv/bin/python``
is a wrapper: it records every call and stands in for pip, ruff and pytest (no package index),
and runs everything else with the real interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

WRAPPER = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../calls.log"
if [ "${1:-}" = "-m" ]; then
  case "$2" in pip|ruff|pytest) exit 0 ;; esac
fi
exec REALPY "$@"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    if shutil.which("bash") is None:
        pytest.skip("bash is not available")
    (tmp_path / "scripts").mkdir()
    for name in ("demo", "test"):
        shutil.copy(REPO / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "nuskybgd"\nversion = "0"\n')
    bin_ = tmp_path / ".venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").write_text(WRAPPER.replace("REALPY", sys.executable))
    (bin_ / "nuskybgd").write_text('#!/usr/bin/env bash\necho "nuskybgd $*"\n')
    for f in ("python", "nuskybgd"):
        (bin_ / f).chmod(0o755)
    return tmp_path


def _run(checkout: Path, script: str, *args: str) -> tuple[str, list[str]]:
    log = checkout / ".venv" / "calls.log"
    log.unlink(missing_ok=True)
    r = subprocess.run(["bash", str(checkout / "scripts" / script), *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    return r.stdout, [c for c in calls if c.startswith("-m pip")]


def test_demo_installs_once_then_starts_without_pip(checkout: Path) -> None:
    out, pip = _run(checkout, "demo", "somewhere")
    assert "-m pip install --quiet -e ." in pip and "nuskybgd demo somewhere" in out
    out, pip = _run(checkout, "demo", "somewhere")
    assert pip == [] and "nuskybgd demo somewhere" in out
    # a changed pyproject.toml means a new install
    with open(checkout / "pyproject.toml", "a") as fh:
        fh.write('dependencies = ["numpy"]\n')
    _, pip = _run(checkout, "demo")
    assert "-m pip install --quiet -e ." in pip
    assert _run(checkout, "demo")[1] == []


def test_test_script_installs_once_and_covers_the_demo(checkout: Path) -> None:
    _, pip = _run(checkout, "test", "-k", "x")
    assert "-m pip install --quiet -e .[test]" in pip
    assert any("xspectrampoline" in c for c in pip)
    assert _run(checkout, "test", "-k", "x")[1] == []
    calls = (checkout / ".venv" / "calls.log").read_text()
    assert "-m ruff check" in calls and "-m pytest -q -n 2 -k x" in calls  # still runs ruff and pytest
    # the test install includes the demo's needs
    assert _run(checkout, "demo")[1] == []
