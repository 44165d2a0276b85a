"""``nuskybgd validate``: real OGIP files pass, a damaged copy fails, non-OGIP input exits 2."""

from __future__ import annotations

import shutil

from astropy.io import fits

from conftest import shared_path
from nuskybgd.cli import main


def test_real_files_pass_and_be_arf_is_flagged(capsys):
    pha = shared_path("real", "vela_x1", "nu90402339002A01_sr.pha")
    arf = shared_path("real", "vela_x1", "nu90402339002A01_sr.arf")
    diag = shared_path("nuskybgd-auxil", "diag.rmf")
    assert main(["validate", str(pha), str(arf), str(diag)]) == 0
    out = capsys.readouterr().out
    assert out.count("OK") == 3 and "(PHA)" in out and "(ARF)" in out and "(RMF)" in out
    # nuskybgd-py's be.arf rounds its energy columns (documented): the validator must say so
    be = shared_path("nuskybgd-auxil", "be.arf")
    assert main(["validate", str(be)]) == 1
    assert "upper edge <= lower edge" in capsys.readouterr().out


def test_damaged_pha_fails_with_the_missing_keyword(tmp_path, capsys):
    src = shared_path("real", "vela_x1", "nu90402339002A01_bk.pha")
    bad = tmp_path / "bad.pha"
    shutil.copy(src, bad)
    with fits.open(bad, mode="update") as hdul:
        del hdul["SPECTRUM"].header["EXPOSURE"]
    assert main(["validate", str(bad)]) == 1
    assert "EXPOSURE" in capsys.readouterr().out


def test_non_ogip_and_missing_files_exit_2(tmp_path, capsys):
    evt = shared_path("real", "dummy_evt.evt")
    assert main(["validate", str(evt)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dummy_evt.evt" in err
    assert main(["validate", str(tmp_path / "missing.pha")]) == 2
    assert "does not exist" in capsys.readouterr().err
