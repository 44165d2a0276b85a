"""``nuskybgd info``: output on real files, and the bad-input contract (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.cli import main

DUMMY = ("real", "dummy_evt.evt")
SUNPOS = ("real", "nu90410111001A06_cl_sunpos.evt")


def _run(capsys, *argv):
    status = main(["info", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def test_info_table_on_real_folder(capsys):
    folder = shared_path("real")
    status, out, err = _run(capsys, folder)
    assert status == 0, err
    with fits.open(shared_path(*DUMMY)) as h:
        ev = h["EVENTS"].header
    assert "30101031002" in out and "90410111001" in out
    assert ev["OBJECT"] in out
    assert f"{ev['ONTIME']:.3f}" in out and f"{ev['EXPOSURE']:.3f}" in out
    assert "937" in out and "9442" in out
    assert "5.9269" in out  # roll angle PA_PNT
    assert "nu90410111001A_fpm.hk" in out
    assert "no event file for FPMB" in out


def test_info_json_and_keyvalue_syntax(capsys):
    p = shared_path(*SUNPOS)
    status, out, _ = _run(capsys, f"indir={p}", "--json")
    assert status == 0
    data = json.loads(out)
    assert len(data) == 1
    with fits.open(p) as h:
        ev = h["EVENTS"].header
        gsum = float(np.sum(h["GTI"].data["STOP"] - h["GTI"].data["START"]))
    f = data[0]["event_files"][0]
    assert f["n_events"] == ev["NAXIS2"] and f["exposure_s"] == ev["EXPOSURE"]
    assert f["gti_ontime_s"] == pytest.approx(gsum)
    assert data[0]["pa_pnt"] is None  # solar: -100 in the file


def _assert_clean_error(status, out, err, name):
    assert status == 2
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1, err
    assert name in lines[0]
    assert "Traceback" not in err and out == ""


def test_missing_directory(capsys, tmp_path):
    _assert_clean_error(*_run(capsys, tmp_path / "nope"), "nope")


def test_not_fits(capsys, tmp_path):
    p = tmp_path / "nu30101031002A01_cl.evt"
    p.write_text("SIMPLE? no, just text\n" * 50)
    _assert_clean_error(*_run(capsys, p), p.name)
    # the same file as the only candidate in a folder
    _assert_clean_error(*_run(capsys, tmp_path), p.name)


def test_fits_without_events(capsys):
    p = shared_path("real", "vela_x1", "nu90402339002A01_sr.pha")
    _assert_clean_error(*_run(capsys, p), p.name)


def test_truncated_event_file(capsys, tmp_path):
    p = tmp_path / "nu30101031002A01_cl.evt"
    p.write_bytes(shared_path(*DUMMY).read_bytes()[:150_000])
    status, out, err = _run(capsys, p)
    _assert_clean_error(status, out, err, p.name)
    assert "truncated" in err


def test_malformed_rmf(capsys, tmp_path):
    src = shared_path("nuskybgd-auxil", "diag.rmf")
    p = tmp_path / "broken.rmf"
    shutil.copy(src, p)
    p.chmod(0o644)
    with fits.open(p, mode="update") as h:
        h["MATRIX"].data["N_CHAN"][10] = 7  # row 10 claims 7 channels but holds 1 value
    from nuskybgd.errors import InputError
    from nuskybgd.io.ogip import read_rmf

    with pytest.raises(InputError, match="broken.rmf.*malformed MATRIX"):
        read_rmf(p)
    # and info refuses it with one line naming it (it is not an event file)
    _assert_clean_error(*_run(capsys, p), p.name)


def test_exit_status_from_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nuskybgd", "info", str(tmp_path / "missing")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "missing" in proc.stderr


def test_truncated_gzip_event_file(capsys, tmp_path):
    import gzip

    full = gzip.compress(shared_path(*DUMMY).read_bytes())
    p = tmp_path / "nu30101031002A01_cl.evt.gz"
    p.write_bytes(full[: len(full) // 3])
    status, out, err = _run(capsys, p)
    _assert_clean_error(status, out, err, p.name)
    assert "truncated" in err
