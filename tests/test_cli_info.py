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


# ------------------------------------------------------------------ the real CLI, one process each


def _cli(argv: list[str], cwd, **env_extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "100",
           "NUSKYBGD_CACHE": str(cwd / "cache"), **env_extra}
    return subprocess.run([sys.executable, "-m", "nuskybgd", *argv], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


def _error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    return [ln for ln in proc.stderr.splitlines() if "error:" in ln]


def _bad_file(kind: str, tmp_path) -> tuple[list[str], str]:
    """The argv of ``nuskybgd info`` on one kind of bad input, and the name the message must hold."""
    if kind == "missing directory":
        return ["info", str(tmp_path / "no_such_sequence")], "no_such_sequence"
    if kind == "not FITS":
        p = tmp_path / "nu30101031002A01_cl.evt"
        p.write_text("not a FITS file\n" * 100)
    elif kind == "FITS without EVENTS":
        p = shared_path("real", "vela_x1", "nu90402339002A01_sr.pha")
    elif kind == "truncated":
        p = tmp_path / "nu30101031002A01_cl.evt"
        p.write_bytes(shared_path(*DUMMY).read_bytes()[:150_000])
    else:  # truncated .gz
        import gzip

        full = gzip.compress(shared_path(*DUMMY).read_bytes())
        p = tmp_path / "nu30101031002A01_cl.evt.gz"
        p.write_bytes(full[: len(full) // 3])
    return ["info", str(p)], p.name


@pytest.mark.parametrize("kind", ["missing directory", "not FITS", "FITS without EVENTS",
                                  "truncated", "truncated gz"])
def test_bad_input_through_the_real_cli(kind, tmp_path):
    argv, name = _bad_file(kind, tmp_path)
    proc = _cli(argv, tmp_path)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert name in lines[0] and lines[0].startswith("nuskybgd info: error:")
    assert lines[0].rstrip().endswith("."), lines[0]  # a whole sentence, not a cut-off message


def test_malformed_rmf_through_the_real_cli(tmp_path):
    """A calibration RMF with a malformed MATRIX stops the command that needs it, naming it."""
    aux = tmp_path / "auxil"
    shutil.copytree(shared_path("nuskybgd-auxil"), aux)
    for p in aux.iterdir():
        p.chmod(0o644)
    with fits.open(aux / "diag.rmf", mode="update") as h:
        h["MATRIX"].data["N_CHAN"][10] = 7
    proc = _cli(["simulate", str(tmp_path / "out"), "--calibration", "auxil", "--modules", "A",
                 "--exposure", "100"], tmp_path, NUSKYBGD_AUXIL=str(aux))
    errors = _error_lines(proc)
    assert len(errors) == 1 and "diag.rmf" in errors[0] and "MATRIX" in errors[0]
    assert not list((tmp_path / "out").rglob("*.evt")) and not list((tmp_path / "out").rglob("*.fits"))


def test_caldb_index_without_the_requested_item_through_the_real_cli(tmp_path):
    """The index exists but holds no FPMB entry: status says so per item; a command that
    requires CALDB calibration stops with one sentence naming the index."""
    from test_calib_caldb import FPM, write_index

    root = tmp_path / "caldb"
    pix = root / FPM / "bcf/pixpos/nuApixpos20100101v007.fits.gz"
    pix.parent.mkdir(parents=True)
    shutil.copyfile(shared_path("caldb-pieces", pix.name), pix)
    write_index(root, [("PIXPOS", "FPMA", f"DET{d}", "bcf/pixpos", pix.name, d + 1, "2010-01-01",
                        "00:00:00", 0, "") for d in range(4)])
    index = root / FPM / "caldb.indx"
    st = _cli(["calib", "status", "--caldb", str(root), "--date-obs", "2020-01-01"], tmp_path,
              COLUMNS="200")
    assert st.returncode == 0, st.stderr
    rows = {(ln.split()[0], ln.split()[1]): ln for ln in st.stdout.splitlines()
            if ln.strip().startswith("pixel_map")}
    assert "CALDB" in rows[("pixel_map", "FPMA")] and pix.name in rows[("pixel_map", "FPMA")]
    assert "no valid PIXPOS for FPMB in caldb.indx" in rows[("pixel_map", "FPMB")]
    assert str(index) in st.stdout  # the index itself is named once, in full
    proc = _cli(["simulate", str(tmp_path / "out"), "--calibration", "caldb", "--modules", "B",
                 "--exposure", "100"], tmp_path, CALDB=str(root))
    errors = _error_lines(proc)
    assert len(errors) == 1 and str(index) in errors[0] and "FPMB" in errors[0]
