"""OGIP RMF / ARF / PHA reading and writing, against real files read independently with astropy."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from astropy.io import fits

from conftest import shared_path
from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.io.ogip import (
    MANDATORY_PHA_KEYWORDS,
    read_arf,
    read_pha,
    read_rmf,
    write_arf,
    write_pha,
    write_rmf,
)
from nuskybgd.io.ogip_types import Arf, Pha, Rmf

DET3 = ("caldb-pieces", "nuAdet3_20100101v002.rmf.gz")
VELA = ("real", "vela_x1")


# ------------------------------------------------------------------ RMF: the real CALDB det3 file


@pytest.fixture(scope="module")
def det3_path() -> Path:
    return shared_path(*DET3)


@pytest.fixture(scope="module")
def det3(det3_path) -> Rmf:
    return read_rmf(det3_path)


@pytest.fixture(scope="module")
def det3_astropy(det3_path):
    """Row sums, energies and a few dense rows computed with astropy alone."""
    with fits.open(det3_path) as h:
        m = h["MATRIX"]
        d = m.data
        first = m.header["TLMIN4"]
        rows = {}
        for i in (0, 200, 1000, 2500):
            dense = np.zeros(4096)
            f, n = int(np.ravel(d["F_CHAN"][i])[0]), int(np.ravel(d["N_CHAN"][i])[0])
            dense[f - first: f - first + n] = d["MATRIX"][i][:n]
            rows[i] = dense
        out = dict(
            sums=np.array([np.sum(r, dtype=np.float64) for r in d["MATRIX"]]),
            energ_lo=np.array(d["ENERG_LO"], dtype=float),
            energ_hi=np.array(d["ENERG_HI"], dtype=float),
            rows=rows,
            hduclas3=m.header["HDUCLAS3"],
            lo_thres=m.header["LO_THRES"],
            e_min=np.array(h["EBOUNDS"].data["E_MIN"], dtype=float),
            channels=np.array(h["EBOUNDS"].data["CHANNEL"]),
        )
    return out


def test_det3_shape_energies_channels(det3, det3_astropy):
    assert det3.matrix.shape == (4096, 4096)
    assert isinstance(det3.matrix, sp.csr_matrix)
    np.testing.assert_array_equal(det3.energ_lo, det3_astropy["energ_lo"])
    np.testing.assert_array_equal(det3.energ_hi, det3_astropy["energ_hi"])
    np.testing.assert_array_equal(det3.channels, det3_astropy["channels"])
    np.testing.assert_array_equal(det3.e_min, det3_astropy["e_min"])
    # documented grid: 1.6 keV + 0.04 keV steps, channels 0..4095
    assert det3.energ_lo[0] == pytest.approx(1.6)
    assert det3.channels[0] == 0 and det3.channels[-1] == 4095
    assert det3.header["DETNAM"] == "DET3"


def test_det3_rows_match_astropy(det3, det3_astropy):
    for i, dense in det3_astropy["rows"].items():
        np.testing.assert_array_equal(det3.matrix[i].toarray().ravel(), dense)
    sums = np.asarray(det3.matrix.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums, det3_astropy["sums"], rtol=1e-5, atol=1e-6)


def test_det3_normalisation_as_header_says(det3, det3_astropy):
    # HDUCLAS3 = REDIST: a redistribution matrix with no effective area folded in, and
    # LO_THRES = 0: nothing was cut, so each row is the detection probability (<= 1 up to the
    # calibration's own ~1 % rounding) and ~1 in the 10-60 keV plateau.
    assert det3_astropy["hduclas3"].strip() == "REDIST"
    assert det3_astropy["lo_thres"] == 0
    sums = np.asarray(det3.matrix.sum(axis=1)).ravel()
    assert sums.max() < 1.02
    plateau = (det3.energ_lo >= 10) & (det3.energ_lo < 60)
    assert abs(sums[plateau].mean() - 1.0) < 0.02
    assert sums[0] < 0.5  # 1.6 keV: low efficiency (doc: ~0.27)


def test_det3_round_trip_exact(det3, tmp_path):
    out = write_rmf(det3, tmp_path / "det3.rmf", task="test")
    back = read_rmf(out)
    assert (back.matrix != det3.matrix).nnz == 0
    for name in ("energ_lo", "energ_hi", "channels", "e_min", "e_max"):
        np.testing.assert_array_equal(getattr(back, name), getattr(det3, name))
    with fits.open(out) as h:
        m = h["MATRIX"].header
        assert m["HDUCLAS3"] == "REDIST" and m["DETNAM"] == "DET3"
        assert m["TLMIN4"] == 0 and m["DETCHANS"] == 4096
        assert m["CREATOR"].startswith("nuskybgd")
        assert h["EBOUNDS"].header["HDUCLAS2"] == "EBOUNDS"
        # compact: zeros are not stored (the CALDB file stores 16.7 M elements)
        assert m["NUMELT"] == det3.matrix.nnz < 16_777_216


def test_diag_rmf_ebounds_first():
    p = shared_path("nuskybgd-auxil", "diag.rmf")
    with fits.open(p) as h:
        assert h[1].name == "EBOUNDS"  # the opposite order to CALDB
    r = read_rmf(p)
    assert r.matrix.shape == (4096, 4096)
    assert (r.matrix != sp.identity(4096, format="csr")).nnz == 0


# ------------------------------------------------------------------ RMF: layouts built by hand


def _write_raw_rmf(path: Path, matrix_col: fits.Column, n_grp, f_chan_col, n_chan_col,
                   n_chan_total: int, tlmin: int | None, order=("MATRIX", "EBOUNDS")):
    n_e = len(n_grp)
    e = np.arange(n_e + 1, dtype=float) + 1.0
    mcols = [
        fits.Column("ENERG_LO", "E", array=e[:-1]),
        fits.Column("ENERG_HI", "E", array=e[1:]),
        fits.Column("N_GRP", "I", array=np.asarray(n_grp)),
        f_chan_col, n_chan_col, matrix_col,
    ]
    mh = fits.BinTableHDU.from_columns(mcols, name="MATRIX")
    mh.header["HDUCLASS"] = "OGIP"
    mh.header["HDUCLAS1"] = "RESPONSE"
    mh.header["HDUCLAS2"] = "RSP_MATRIX"
    mh.header["DETCHANS"] = n_chan_total
    if tlmin is not None:
        mh.header["TLMIN4"] = tlmin
    first = 1 if tlmin is None else tlmin
    ch = np.arange(first, first + n_chan_total)
    eh = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=ch),
        fits.Column("E_MIN", "E", array=ch.astype(float)),
        fits.Column("E_MAX", "E", array=ch + 1.0),
    ], name="EBOUNDS")
    hdus = {"MATRIX": mh, "EBOUNDS": eh}
    fits.HDUList([fits.PrimaryHDU()] + [hdus[o] for o in order]).writeto(path)


def test_multi_group_fixed_matrix_tlmin1(tmp_path):
    # 3 energies, 6 channels numbered 1..6 (TLMIN4=1); row 0 has two groups, row 1 none,
    # row 2 one group; MATRIX is a fixed-width column padded with zeros.
    f_chan = np.array([[1, 5], [0, 0], [2, 0]], dtype=np.int32)
    n_chan = np.array([[2, 2], [0, 0], [3, 0]], dtype=np.int32)
    mat = np.array([[0.1, 0.2, 0.3, 0.4, 0.0],
                    [0.0, 0.0, 0.0, 0.0, 0.0],
                    [0.5, 0.25, 0.125, 0.0, 0.0]], dtype=np.float32)
    p = tmp_path / "multi.rmf"
    _write_raw_rmf(p, fits.Column("MATRIX", "5E", array=mat), [2, 0, 1],
                   fits.Column("F_CHAN", "2J", array=f_chan), fits.Column("N_CHAN", "2J", array=n_chan),
                   6, tlmin=1, order=("EBOUNDS", "MATRIX"))
    r = read_rmf(p)
    expected = np.zeros((3, 6))
    expected[0, 0:2] = [0.1, 0.2]      # channels 1-2
    expected[0, 4:6] = [0.3, 0.4]      # channels 5-6
    expected[2, 1:4] = [0.5, 0.25, 0.125]  # channels 2-4
    np.testing.assert_allclose(r.matrix.toarray(), expected.astype(np.float32), rtol=0, atol=0)
    np.testing.assert_array_equal(r.channels, np.arange(1, 7))
    back = read_rmf(write_rmf(r, tmp_path / "multi_out.rmf.gz"))
    assert (back.matrix != r.matrix).nnz == 0
    np.testing.assert_array_equal(back.channels, r.channels)
    with gzip.open(tmp_path / "multi_out.rmf.gz") as fh:
        assert fh.read(6) == b"SIMPLE"


def test_variable_length_groups(tmp_path):
    f_chan = np.array([np.array([0, 3], np.int32), np.array([1], np.int32)], dtype=object)
    n_chan = np.array([np.array([1, 1], np.int32), np.array([2], np.int32)], dtype=object)
    mat = np.array([np.array([0.5, 0.5], np.float32), np.array([0.75, 0.25], np.float32)], dtype=object)
    p = tmp_path / "vla.rmf"
    _write_raw_rmf(p, fits.Column("MATRIX", "PE()", array=mat), [2, 1],
                   fits.Column("F_CHAN", "PJ()", array=f_chan), fits.Column("N_CHAN", "PJ()", array=n_chan),
                   4, tlmin=0)
    r = read_rmf(p)
    np.testing.assert_array_equal(r.matrix.toarray(), [[0.5, 0, 0, 0.5], [0, 0.75, 0.25, 0]])


def test_float64_matrix_round_trip_exact(tmp_path):
    rng = np.random.default_rng(1)
    dense = rng.random((20, 30)) * (rng.random((20, 30)) < 0.3)
    r = Rmf(energ_lo=np.linspace(1, 2, 20), energ_hi=np.linspace(1.05, 2.05, 20),
            matrix=sp.csr_matrix(dense), channels=np.arange(30), e_min=np.arange(30) * 0.1,
            e_max=np.arange(1, 31) * 0.1, header={"TELESCOP": "NuSTAR", "INSTRUME": "FPMB"})
    back = read_rmf(write_rmf(r, tmp_path / "r.rmf"))
    np.testing.assert_array_equal(back.matrix.toarray(), dense)  # exact, float64 kept as D
    np.testing.assert_array_equal(back.energ_lo, r.energ_lo)
    assert back.header["INSTRUME"] == "FPMB"


def test_malformed_matrix_names_file(tmp_path):
    # N_CHAN says 4 channels but MATRIX holds only 2 values in the row
    p = tmp_path / "broken.rmf"
    _write_raw_rmf(p, fits.Column("MATRIX", "2E", array=np.ones((2, 2), np.float32)), [1, 1],
                   fits.Column("F_CHAN", "J", array=[0, 0]), fits.Column("N_CHAN", "J", array=[4, 1]),
                   4, tlmin=0)
    with pytest.raises(InputError, match="broken.rmf.*malformed MATRIX"):
        read_rmf(p)


def test_channels_outside_ebounds(tmp_path):
    p = tmp_path / "offgrid.rmf"
    _write_raw_rmf(p, fits.Column("MATRIX", "2E", array=np.ones((1, 2), np.float32)), [1],
                   fits.Column("F_CHAN", "J", array=[3]), fits.Column("N_CHAN", "J", array=[2]),
                   4, tlmin=0)
    with pytest.raises(InputError, match="offgrid.rmf"):
        read_rmf(p)


def test_rmf_missing_ebounds(tmp_path):
    p = tmp_path / "noeb.rmf"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column("ENERG_LO", "E", array=[1.0])], name="MATRIX")]).writeto(p)
    with pytest.raises(InputError, match="noeb.rmf.*EBOUNDS"):
        read_rmf(p)


def test_not_fits_and_truncated(tmp_path):
    txt = tmp_path / "notes.rmf"
    txt.write_text("this is not FITS\n" * 100)
    with pytest.raises(InputError, match="notes.rmf"):
        read_rmf(txt)
    src = shared_path("nuskybgd-auxil", "diag.rmf")
    cut = tmp_path / "cut.rmf"
    cut.write_bytes(src.read_bytes()[:40_000])
    with pytest.raises(InputError, match="cut.rmf"):
        read_rmf(cut)


# ------------------------------------------------------------------ ARF


def test_vela_arf_read_and_round_trip(tmp_path):
    p = shared_path(*VELA, "nu90402339002A01_sr.arf")
    with fits.open(p) as h:
        ref = np.array(h["SPECRESP"].data["SPECRESP"], dtype=float)
        elo = np.array(h["SPECRESP"].data["ENERG_LO"], dtype=float)
    a = read_arf(p)
    np.testing.assert_array_equal(a.specresp, ref)
    np.testing.assert_array_equal(a.energ_lo, elo)
    assert a.specresp.size == 4096
    assert a.header["INSTRUME"] == "FPMA"
    out = write_arf(a, tmp_path / "a.arf")
    b = read_arf(out)
    np.testing.assert_array_equal(b.specresp, a.specresp)
    np.testing.assert_array_equal(b.energ_hi, a.energ_hi)
    with fits.open(out) as h:
        assert h["SPECRESP"].header["HDUCLAS2"] == "SPECRESP"
        assert h["SPECRESP"].columns["SPECRESP"].unit == "cm**2"
        assert h["SPECRESP"].header["FILENAME"] == "nuA20100101v006.arf"  # kept from input


def test_arf_write_refuses_existing(tmp_path):
    a = Arf(np.array([1.0, 2.0]), np.array([2.0, 3.0]), np.array([10.0, 20.0]))
    out = write_arf(a, tmp_path / "x.arf")
    with pytest.raises(OutputExistsError):
        write_arf(a, out)
    a.specresp[:] = [5.0, 6.0]
    write_arf(a, out, overwrite=True)
    np.testing.assert_array_equal(read_arf(out).specresp, [5.0, 6.0])


# ------------------------------------------------------------------ PHA


@pytest.mark.parametrize("name", ["nu90402339002A01_sr.pha", "nu90402339002A01_bk.pha",
                                  "nu90402339002B01_sr.pha", "nu90402339002B01_bk.pha"])
def test_vela_pha_read_matches_astropy(name):
    p = shared_path(*VELA, name)
    with fits.open(p) as h:
        s = h["SPECTRUM"]
        counts = np.array(s.data["COUNTS"])
        hdr = s.header
    pha = read_pha(p)
    np.testing.assert_array_equal(pha.counts, counts)
    np.testing.assert_array_equal(pha.channels, np.arange(4096))
    assert pha.exposure == hdr["EXPOSURE"]
    assert pha.backscal == hdr["BACKSCAL"]
    assert pha.areascal == hdr["AREASCAL"]
    assert pha.grouping is None and pha.quality is None
    assert pha.poisserr is True
    assert int(pha.counts.sum()) == hdr["TOTCTS"]
    if name.endswith("_sr.pha"):
        assert pha.respfile == hdr["RESPFILE"] and pha.ancrfile == hdr["ANCRFILE"]
        assert pha.backfile == hdr["BACKFILE"]
    else:
        assert pha.backfile is None  # 'none' in the file


def test_vela_totals_documented():
    # reference doc C.1: source 1,446,870 counts, background 853
    assert read_pha(shared_path(*VELA, "nu90402339002A01_sr.pha")).counts.sum() == 1_446_870
    assert read_pha(shared_path(*VELA, "nu90402339002A01_bk.pha")).counts.sum() == 853


def test_written_pha_has_every_mandatory_keyword_of_real_one(tmp_path):
    real = shared_path(*VELA, "nu90402339002A01_sr.pha")
    with fits.open(real) as h:
        real_hdr = h["SPECTRUM"].header
    # keep only the counts: the writer, not the header copy, must supply the keywords
    pha = Pha(channels=np.arange(4096), counts=np.zeros(4096, dtype=np.int64), exposure=1000.0,
              backscal=0.0034, header={"INSTRUME": "FPMA"})
    out = write_pha(pha, tmp_path / "mine.pha")
    with fits.open(out) as h:
        mine = h["SPECTRUM"].header
    # OGIP/92-007 mandatory SPECTRUM keywords, written out here independently of the code's list
    ogip = ("EXTNAME", "TELESCOP", "INSTRUME", "FILTER", "EXPOSURE", "AREASCAL", "BACKFILE",
            "BACKSCAL", "CORRFILE", "CORRSCAL", "RESPFILE", "ANCRFILE", "HDUCLASS", "HDUCLAS1",
            "HDUCLAS2", "HDUCLAS3", "HDUVERS", "CHANTYPE", "DETCHANS", "POISSERR")
    assert set(MANDATORY_PHA_KEYWORDS) <= set(ogip)
    wanted = [k for k in ogip if k in real_hdr]
    assert len(wanted) == len(ogip)  # the real file carries them all
    missing = [k for k in wanted if k not in mine]
    assert not missing
    for k in ("HDUCLAS2", "HDUCLAS3", "PHAVERSN", "POISSERR", "STAT_ERR", "SYS_ERR", "GROUPING",
              "QUALITY", "TLMIN1", "TLMAX1", "EXTNAME"):
        assert k in mine, k
    for k in ("HDUCLASS", "HDUCLAS1", "CHANTYPE", "DETCHANS", "TLMIN1", "TLMAX1", "TELESCOP"):
        assert mine[k] == real_hdr[k], k
    assert mine["CREATOR"].startswith("nuskybgd")


def test_vela_pha_round_trip_exact(tmp_path):
    src = read_pha(shared_path(*VELA, "nu90402339002A01_sr.pha"))
    out = write_pha(src, tmp_path / "rt.pha", gti=(np.array([0.0, 10.0]), np.array([5.0, 20.0])))
    back = read_pha(out)
    np.testing.assert_array_equal(back.counts, src.counts)
    np.testing.assert_array_equal(back.channels, src.channels)
    for k in ("exposure", "backscal", "areascal", "respfile", "ancrfile", "backfile", "corrfile",
              "poisserr"):
        assert getattr(back, k) == getattr(src, k), k
    for k in ("OBJECT", "RA_OBJ", "ONTIME", "DEADC", "OBS_ID", "INSTRUME"):
        assert back.header[k] == src.header[k]
    with fits.open(out) as h:
        assert h["SPECTRUM"].columns["COUNTS"].format == "J"
        assert list(h["GTI"].data["START"]) == [0.0, 10.0]
        hdr = h["SPECTRUM"].header
        # GRADE selection kept; the region descriptor pointing at REG00101 (not written) dropped
        assert hdr["DSTYP1"] == "GRADE" and hdr["DSVAL1"] == "0:26"
        assert "DSREF2" not in hdr and "DSTYP2" not in hdr


def test_grouping_quality_columns_and_vector_backscal(tmp_path):
    n = 8
    grouping = np.array([1, -1, -1, 1, 1, -1, 1, 1])
    quality = np.array([5, 0, 0, 0, 0, 0, 0, 2])
    backscal = np.linspace(0.1, 0.8, n)
    pha = Pha(channels=np.arange(n), counts=np.arange(n) * 3, exposure=123.5, backscal=backscal,
              grouping=grouping, quality=quality, respfile="x.rmf", ancrfile="x.arf",
              header={"INSTRUME": "FPMB", "OBJECT": "test"})
    out = write_pha(pha, tmp_path / "g.pha")
    with fits.open(out) as h:
        s = h["SPECTRUM"]
        assert "GROUPING" in s.columns.names and "GROUPING" not in s.header
        assert "BACKSCAL" in s.columns.names and "BACKSCAL" not in s.header
        assert s.header["RESPFILE"] == "x.rmf" and s.header["BACKFILE"] == "none"
    back = read_pha(out)
    np.testing.assert_array_equal(back.grouping, grouping)
    np.testing.assert_array_equal(back.quality, quality)
    np.testing.assert_array_equal(back.backscal, backscal)
    assert back.areascal == 1.0 and back.backfile is None


def test_rate_spectrum_read_and_write(tmp_path):
    # a RATE spectrum with STAT_ERR, as some tools write
    p = tmp_path / "rate.pha"
    s = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "I", array=np.arange(4)),
        fits.Column("RATE", "E", array=np.array([0.5, 1.0, 0.0, 2.0], np.float32)),
        fits.Column("STAT_ERR", "E", array=np.array([0.1, 0.1, 0.1, 0.2], np.float32)),
    ], name="SPECTRUM")
    s.header.update(HDUCLASS="OGIP", HDUCLAS1="SPECTRUM", HDUCLAS3="RATE", EXPOSURE=10.0,
                    POISSERR=False, BACKSCAL=1.0, AREASCAL=1.0)
    fits.HDUList([fits.PrimaryHDU(), s]).writeto(p)
    pha = read_pha(p)
    np.testing.assert_allclose(pha.counts, [5.0, 10.0, 0.0, 20.0])
    assert pha.poisserr is False
    np.testing.assert_allclose(pha.header["STAT_ERR"], [0.1, 0.1, 0.1, 0.2], rtol=1e-6)
    back = read_pha(write_pha(pha, tmp_path / "rate_out.pha"))
    np.testing.assert_allclose(back.counts, pha.counts)
    assert back.header["HDUCLAS3"] == "RATE"
    counts_form = read_pha(write_pha(pha, tmp_path / "counts_out.pha", rate=False))
    assert counts_form.header["HDUCLAS3"] == "COUNT"


def test_pha_without_spectrum_extension(tmp_path):
    src = shared_path(*VELA, "nu90402339002A01_sr.arf")
    p = tmp_path / "looks_like.pha"
    shutil.copy(src, p)
    with pytest.raises(InputError, match="looks_like.pha.*SPECTRUM"):
        read_pha(p)


def test_provenance_with_non_ascii_paths_and_detail(tmp_path):
    """FITS headers hold ASCII only: a user folder named 'données' must not break a product."""
    lo = np.array([1.0, 2.0])
    a = Arf(lo, lo + 1.0, np.array([10.0, 20.0]), {})
    src = tmp_path / "données" / "nu30101031002A01_cl.evt"
    out = write_arf(a, tmp_path / "p.arf", calibration="CALDB",
                    calibration_detail="active_area=CALDB:detector ≥ 0", inputs=[src], task="t")
    with fits.open(out) as h:
        hdr = h["SPECRESP"].header
        assert hdr["NSBCALIB"] == "CALDB" and hdr["NSBCALDS"] == "active_area=CALDB:detector ? 0"
        assert any("donn?es" in str(v) for v in hdr["HISTORY"])
    np.testing.assert_array_equal(read_arf(out).specresp, a.specresp)


@pytest.mark.parametrize("respfile", ["nu90000000002A01_bgd0A_sr.rmf", "responses/" * 8 + "long_name_sr.rmf"])
def test_associated_file_names_are_written_whole_without_a_card_warning(tmp_path, respfile):
    import warnings

    from astropy.io.fits.verify import VerifyWarning

    pha = Pha(channels=np.arange(4), counts=np.array([1, 2, 3, 4]), exposure=10.0, backscal=1.0,
              areascal=1.0, respfile=respfile, ancrfile="nu90000000002A01_sr.arf", backfile=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VerifyWarning)       # astropy truncating a comment
        out = write_pha(pha, tmp_path / "s.pha")
    h = fits.getheader(out, "SPECTRUM")
    assert h["RESPFILE"] == respfile and h["ANCRFILE"] == "nu90000000002A01_sr.arf"
    assert h["BACKFILE"] == "none"
