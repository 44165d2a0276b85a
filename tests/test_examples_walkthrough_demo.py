"""examples/walkthrough.py --demo and examples/walkthrough.sh on a short simulated observation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.io import fits

# the whole plan needs the regions and spectra steps (branch steps-regions); runs once they are merged
pytest.importorskip("nuskybgd.pipeline.steps.regions", reason="needs the regions/spectra steps")

ROOT = Path(__file__).resolve().parents[1]
SEQ = "90000000002"


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT / "src"))


def test_python_walkthrough_on_the_demo_observation(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "walkthrough.py"), "--demo", "d", "10000"],
                         cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "intbgd.line_19.65keV.norm" in out.stdout and "background in the source region" in out.stdout
    bgd = tmp_path / "d" / SEQ / "event_cl" / "bgd"
    for name in ("bgdinfoA.json", "bgdparamsA_fit.json", "bgd_srcA.xcm", "bgd_srcA_bk.pha", "bgd_only_srcA.xcm",
                 "bgd_total_A.fits"):
        assert (bgd / name).is_file(), name
    with fits.open(bgd / "bgd_srcA_bk.pha") as h:
        assert h[1].header["HDUCLAS2"] == "BKG" and h[1].header["INSTRUME"] == "FPMA"


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_cli_walkthrough_script(tmp_path):
    exe = Path(sys.executable).with_name("nuskybgd")
    env = dict(_env(), NUSKYBGD=str(exe) if exe.is_file() else f"{sys.executable} -m nuskybgd")
    out = subprocess.run(["sh", str(ROOT / "examples" / "walkthrough.sh"), "w", "10000"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    bgd = tmp_path / "w" / SEQ / "event_cl" / "bgd"
    for m in "AB":
        assert (bgd / f"bgd_only_src{m}.xcm").is_file()
        assert "background exceeds the source above" in out.stdout or "source exceeds" in out.stdout
    text = (bgd / "srcAB.xcm").read_text()       # both modules' source spectra, one data group each
    assert f"nu{SEQ}A01_srcA_sr.pha" in text and f"nu{SEQ}B01_srcB_sr.pha" in text
