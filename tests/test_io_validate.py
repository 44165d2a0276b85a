"""OGIP validators on real files (which pass) and on deliberately broken copies (which fail)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.io.ogip import read_rmf
from nuskybgd.io.validate import validate_arf, validate_pha, validate_rmf

VELA = ("real", "vela_x1")


@pytest.mark.parametrize("name", ["nu90402339002A01_sr.pha", "nu90402339002A01_bk.pha",
                                  "nu90402339002B01_sr.pha", "nu90402339002B01_bk.pha"])
def test_real_phas_pass(name):
    assert validate_pha(shared_path(*VELA, name)) == []


@pytest.mark.parametrize("name", ["nu90402339002A01_sr.arf", "nu90402339002B01_sr.arf"])
def test_real_arfs_pass(name):
    assert validate_arf(shared_path(*VELA, name)) == []


def test_real_rmfs_pass():
    assert validate_rmf(shared_path("nuskybgd-auxil", "diag.rmf")) == []
    assert validate_rmf(shared_path("caldb-pieces", "nuAdet3_20100101v002.rmf.gz")) == []


def test_be_arf_rounded_energies_are_reported():
    # nuskybgd-py's be.arf stores energies rounded so that the last bins are 165-165 keV
    p = shared_path("nuskybgd-auxil", "be.arf")
    with fits.open(p) as h:
        d = h["SPECRESP"].data
        n_flat = int(np.sum(d["ENERG_HI"] <= d["ENERG_LO"]))
    assert n_flat > 0
    problems = validate_arf(p)
    assert any(f"{n_flat} bin(s)" in m for m in problems)


def test_arf_against_rmf_grid():
    rmf = read_rmf(shared_path("nuskybgd-auxil", "diag.rmf"))
    assert validate_arf(shared_path(*VELA, "nu90402339002A01_sr.arf"), rmf=rmf) == []


def _copy(tmp_path, *parts):
    dst = tmp_path / parts[-1]
    shutil.copy(shared_path(*parts), dst)
    dst.chmod(0o644)
    return dst


def test_broken_pha(tmp_path):
    p = _copy(tmp_path, *VELA, "nu90402339002A01_sr.pha")
    with fits.open(p, mode="update") as h:
        s = h["SPECTRUM"].header
        del s["RESPFILE"]
        del s["DETCHANS"]
        s["HDUCLAS1"] = "SPECTRA"
        s["EXPOSURE"] = 0.0
        s["BACKSCAL"] = -1.0
    problems = validate_pha(p)
    joined = " | ".join(problems)
    assert "RESPFILE" in joined and "DETCHANS" in joined
    assert "HDUCLAS1" in joined
    assert "EXPOSURE" in joined
    assert "BACKSCAL" in joined


def test_pha_bad_grouping_and_columns(tmp_path):
    s = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "I", array=[0, 1, 3]),
        fits.Column("COUNTS", "E", array=[1.5, -1.0, 2.0]),
        fits.Column("GROUPING", "I", array=[-1, 1, 2]),
        fits.Column("QUALITY", "I", array=[0, 7, 0]),
    ], name="SPECTRUM")
    s.header.update(HDUCLASS="OGIP", HDUCLAS1="SPECTRUM", HDUCLAS3="RATE", POISSERR=True)
    p = tmp_path / "bad.pha"
    fits.HDUList([fits.PrimaryHDU(), s]).writeto(p)
    joined = " | ".join(validate_pha(p))
    for needle in ("missing mandatory", "consecutive", "negative COUNTS", "non-integer COUNTS",
                   "GROUPING", "QUALITY", "HDUCLAS3 = 'RATE'"):
        assert needle in joined, needle


def test_not_fits_reported_not_raised(tmp_path):
    p = tmp_path / "x.pha"
    p.write_text("no")
    problems = validate_pha(p)
    assert len(problems) == 1 and "x.pha" in problems[0]
    assert validate_rmf(p)[0].startswith("unreadable")
    assert validate_arf(p)[0].startswith("unreadable")


def _tiny_rmf(path, energ_lo, energ_hi, matrix, hduclas3="REDIST", drop=()):
    n_e, n_c = matrix.shape
    m = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", "E", array=energ_lo),
        fits.Column("ENERG_HI", "E", array=energ_hi),
        fits.Column("N_GRP", "I", array=np.ones(n_e)),
        fits.Column("F_CHAN", "J", array=np.zeros(n_e)),
        fits.Column("N_CHAN", "J", array=np.full(n_e, n_c)),
        fits.Column("MATRIX", f"{n_c}E", array=matrix),
    ], name="MATRIX")
    hdr = dict(HDUCLASS="OGIP", HDUCLAS1="RESPONSE", HDUCLAS2="RSP_MATRIX", HDUCLAS3=hduclas3,
               HDUVERS="1.3.0", TELESCOP="NuSTAR", INSTRUME="FPMA", CHANTYPE="PI", DETCHANS=n_c,
               LO_THRES=0.0, TLMIN4=0)
    m.header.update({k: v for k, v in hdr.items() if k not in drop})
    e = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "I", array=np.arange(n_c)),
        fits.Column("E_MIN", "E", array=np.arange(n_c) + 1.0),
        fits.Column("E_MAX", "E", array=np.arange(n_c) + 2.0),
    ], name="EBOUNDS")
    e.header.update(HDUCLASS="OGIP", HDUCLAS1="RESPONSE", HDUCLAS2="EBOUNDS", HDUVERS="1.2.0",
                    TELESCOP="NuSTAR", INSTRUME="FPMA", CHANTYPE="PI", DETCHANS=n_c)
    fits.HDUList([fits.PrimaryHDU(), m, e]).writeto(path)


def test_good_tiny_rmf_passes(tmp_path):
    p = tmp_path / "ok.rmf"
    _tiny_rmf(p, np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0]), np.eye(3) * 0.9)
    assert validate_rmf(p) == []


def test_rmf_row_sums_and_energies(tmp_path):
    p = tmp_path / "bad.rmf"
    mat = np.array([[0.9, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # row 0 sums to 1.2
    _tiny_rmf(p, np.array([1.0, 3.0, 2.0]), np.array([2.0, 4.0, 3.0]), mat,
              drop=("LO_THRES", "HDUCLASS"))
    joined = " | ".join(validate_rmf(p))
    assert "1 MATRIX row(s) sum to more than 1" in joined
    assert "not strictly increasing" in joined
    assert "LO_THRES" in joined and "HDUCLASS" in joined
    # the same matrix as a full response (area folded in) is not held to the <= 1 rule
    q = tmp_path / "full.rsp"
    _tiny_rmf(q, np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0]), mat * 100, hduclas3="FULL")
    assert validate_rmf(q) == []


def test_rmf_malformed_matrix_reported(tmp_path):
    p = tmp_path / "short.rmf"
    _tiny_rmf(p, np.array([1.0, 2.0]), np.array([2.0, 3.0]), np.eye(2))
    with fits.open(p, mode="update") as h:
        h["MATRIX"].data["N_CHAN"][0] = 5  # more channels than MATRIX holds
    problems = validate_rmf(p)
    assert any("malformed MATRIX" in m and "short.rmf" in m for m in problems)
