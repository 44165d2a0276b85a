"""Every command, fed input a user can get wrong, ends with one sentence and exit status 2.

Runs the real console entry point in a subprocess, so a traceback anywhere (argument parsing,
reading, writing) would show up on stderr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _nuskybgd(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nuskybgd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture
def garbage(tmp_path: Path) -> Path:
    p = tmp_path / "nu90000000002A01_cl.evt"
    p.write_bytes(b"this is not a FITS file\n" * 50)
    return p


CASES = {
    "info": lambda g: ["info", str(g)],
    "mkimgs": lambda g: ["mkimgs", str(g), "elow=3", "ehigh=20"],
    "mkinstrmap": lambda g: ["mkinstrmap", str(g)],
    "aspecthist": lambda g: ["aspecthist", str(g), f"gtifile={g}", "out=aspecthistA.fits"],
    "projbgd": lambda g: ["projbgd", f"refimg={g}", "out=bgdapA.fits", "mod=A", f"chipmap={g}",
                          f"aspect={g}"],
    "simulate-bad-source": lambda g: ["simulate", str(g.parent / "sim"), "--source", "quasar"],
    "calib-bad-caldb": lambda g: ["calib", "status", "--caldb", str(g)],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_sentence_exit_2(case: str, garbage: Path) -> None:
    before = sorted(p.name for p in garbage.parent.iterdir())
    r = _nuskybgd(*CASES[case](garbage), cwd=garbage.parent)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, r.stderr
    # it names what is wrong: the file, or the offending value
    assert garbage.name in errors[0] or "quasar" in errors[0] or str(garbage) in errors[0]
    # nothing was written beside the input
    assert sorted(p.name for p in garbage.parent.iterdir()) == before
