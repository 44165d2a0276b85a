"""The workflow examples run (on the test-only synthetic folder) and the annotated config loads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from nuskybgd.workflow.config import load_bgdinfo
from workflow_obs import make_bgd_folder

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_walkthrough_example_runs(tmp_path):
    bgd = make_bgd_folder(tmp_path, ("A",), exposure=3e4, seed=2)
    shutil.copy(bgd / "bgd1A.reg", bgd / "srcA.reg")
    shutil.copy(bgd / "nu90000001A01_bgd1A_sr.pha", bgd / "nu90000001A01_srcA_sr.pha")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    out = subprocess.run([sys.executable, str(EXAMPLES / "walkthrough.py"), str(bgd), str(bgd / "srcA.reg"),
                          str(bgd / "nu90000001A01_srcA_sr.pha")], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "intbgd.line_19.65keV.norm" in out.stdout and "background in the source region" in out.stdout
    for name in ("bgdinfoA.json", "bgdparamsA.xcm", "bgdparamsA_fit.xcm", "bgdparamsA_fit.json",
                 "bgd_srcA.xcm", "bgd_srcA_bk.pha", "bgd_only_srcA.xcm", "bgd_total_A.fits"):
        assert (bgd / name).is_file(), name


def test_annotated_config_is_the_schema(tmp_path):
    raw = json.loads((EXAMPLES / "bgdinfo_annotated.json").read_text())
    path = tmp_path / "bgdinfo.json"
    path.write_text(json.dumps(raw))
    info = load_bgdinfo(path, check_files=False)
    assert [p.name for p in info.regfiles] == ["bgd0A.reg", "bgd1A.reg", "bgd3A.reg"]
    assert info.fix_line_ratios is True and info.fcxb_links == []
    assert "comment_bgfiles" in info.extras
