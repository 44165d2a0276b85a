"""Event, GTI, BADPIX, DET1 reference-point and housekeeping readers on the real sample files.

Expected values are read independently with astropy or are documented figures from
``nustar-data-formats.md``.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.errors import InputError
from nuskybgd.io.events import (
    Gti,
    events_in_band,
    gti_intersection,
    read_det1_refpoint,
    read_event_headers,
    read_events,
    read_gti,
    read_hk,
    status_bits,
)

DUMMY = ("real", "dummy_evt.evt")
SUNPOS = ("real", "nu90410111001A06_cl_sunpos.evt")


@pytest.fixture(scope="module")
def dummy():
    return read_events(shared_path(*DUMMY))


@pytest.fixture(scope="module")
def sunpos():
    return read_events(shared_path(*SUNPOS))


def _astropy_events(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path) as h:
            return {n: np.array(h["EVENTS"].data[n]) for n in h["EVENTS"].columns.names}, \
                h["EVENTS"].header.copy(), h[0].header.copy()


# ------------------------------------------------------------------ dummy_evt.evt


def test_dummy_counts_and_columns(dummy):
    ref, hdr, _ = _astropy_events(shared_path(*DUMMY))
    assert len(dummy) == 937  # documented: 937 events
    for name in ("TIME", "PI", "DET1X", "DET1Y", "X", "Y", "GRADE", "DET_ID", "RAWX"):
        np.testing.assert_array_equal(dummy[name], ref[name])
        assert dummy[name].dtype.isnative
    assert set(np.unique(dummy["DET_ID"])) == {0}  # doc: only DET_ID 0 appears


def test_dummy_all_columns(dummy):
    full = read_events(shared_path(*DUMMY), columns="all")
    assert len(full.columns) == 39
    ref, _, _ = _astropy_events(shared_path(*DUMMY))
    np.testing.assert_array_equal(full["PHAS"], ref["PHAS"])


def test_dummy_wcs_from_events_header_not_primary(dummy):
    _, hdr, prim = _astropy_events(shared_path(*DUMMY))
    # primary and EVENTS RA_NOM differ (doc B.1: 294.3988 vs 294.9107)
    assert prim["RA_NOM"] != hdr["RA_NOM"]
    assert dummy.header["RA_NOM"] == hdr["RA_NOM"]
    assert dummy.primary_header["RA_NOM"] == prim["RA_NOM"]
    w = dummy.wcs
    assert list(w.wcs.ctype) == ["RA---TAN", "DEC--TAN"]
    np.testing.assert_allclose(w.wcs.crval, [hdr["TCRVL38"], hdr["TCRVL39"]])
    np.testing.assert_allclose(w.wcs.cdelt, [-0.0006828076, 0.0006828076])
    # doc B.2: (RA_OBJ, DEC_OBJ) maps to pixel (500.54, 500.50)
    x, y = w.wcs_world2pix(prim["RA_OBJ"], prim["DEC_OBJ"], 1)
    assert x == pytest.approx(500.54, abs=0.01) and y == pytest.approx(500.50, abs=0.01)
    # doc: median event X, Y = 501, 498
    assert np.median(dummy["X"]) == 501 and np.median(dummy["Y"]) == 498
    ra, dec = dummy.sky_to_world()
    assert np.all(np.hypot((ra - prim["RA_OBJ"]) * np.cos(np.radians(dec)), dec - prim["DEC_OBJ"]) < 0.05)


def test_dummy_gti_and_exposure(dummy):
    with fits.open(shared_path(*DUMMY)) as h:
        start = np.array(h["GTI"].data["START"])
        stop = np.array(h["GTI"].data["STOP"])
        ev = h["EVENTS"].header
    np.testing.assert_array_equal(dummy.gti.stop, stop)
    assert len(dummy.gti) == 190
    np.testing.assert_array_equal(dummy.gti.start, start)
    assert dummy.gti.ontime == pytest.approx(ev["ONTIME"], abs=1e-6)
    assert dummy.ontime == pytest.approx(41072.58, abs=0.01)
    assert dummy.exposure == pytest.approx(dummy.ontime * dummy.deadc, rel=1e-9)
    assert dummy.livetime == dummy.exposure
    assert dummy.module == "A"
    assert np.all(dummy.gti.contains(dummy["TIME"]))


def test_dummy_badpix(dummy):
    assert [b.det_id for b in dummy.badpix] == [0, 1, 2, 3]
    with fits.open(shared_path(*DUMMY)) as h:
        for b, ver in zip(dummy.badpix, (1, 2, 3, 4), strict=True):
            d = h["BADPIX", ver].data
            assert h["BADPIX", ver].header["DETNAM"] == f"DET{b.det_id}"
            np.testing.assert_array_equal(b.rawx, d["RAWX"])
            np.testing.assert_array_equal(b.rawy, d["RAWY"])
            np.testing.assert_array_equal(b.time_stop, d["TIME_STOP"])
            np.testing.assert_array_equal(b.badflag, d["BADFLAG"])
    assert [len(b.rawx) for b in dummy.badpix] == [50, 46, 69, 162]
    assert dummy.badpix[0].badflag.shape == (50, 16)


def test_dummy_status_16x(dummy):
    with fits.open(shared_path(*DUMMY)) as h:
        raw = np.array(h["EVENTS"].data["STATUS"])
    assert raw.dtype == bool and raw.shape == (937, 16)
    np.testing.assert_array_equal(dummy["STATUS"], raw)


def test_events_in_band_pi_rule(dummy):
    pi = dummy["PI"]
    m = events_in_band(dummy, 3.0, 20.0)
    # documented band rule: 3-20 keV -> PI 35..459 inclusive
    np.testing.assert_array_equal(m, (pi >= 35) & (pi <= 459))
    assert 0 < m.sum() < len(dummy)
    with pytest.raises(InputError):
        events_in_band(dummy, 20.0, 3.0)


# ------------------------------------------------------------------ solar file: TNULL, 2B, string TCRVL


def test_sunpos_sentinels(sunpos):
    ref, hdr, _ = _astropy_events(shared_path(*SUNPOS))
    assert len(sunpos) == 9442
    null_det1 = ref["DET1X"] == -4095
    assert null_det1.sum() == 5  # doc: 5 of 9,442 events
    np.testing.assert_array_equal(~sunpos.valid("DET1X"), null_det1)
    np.testing.assert_array_equal(~sunpos.valid("DET1Y"), ref["DET1Y"] == -4095)
    np.testing.assert_array_equal(~sunpos.valid("X"), ref["X"] == -1)
    assert sunpos.tnull["PI"] == -4095 and sunpos.tnull["X"] == -1
    m = sunpos.masked("DET1X")
    assert m.count() == 9442 - 5
    assert m.compressed().min() >= 1 and m.compressed().max() <= 360
    # all four detectors
    np.testing.assert_array_equal(np.bincount(sunpos["DET_ID"]), np.bincount(ref["DET_ID"]))
    assert set(np.unique(sunpos["DET_ID"])) == {0, 1, 2, 3}


def test_sunpos_status_2b(sunpos):
    ref, _, _ = _astropy_events(shared_path(*SUNPOS))
    raw = ref["STATUS"]
    assert raw.dtype == np.uint8 and raw.shape == (9442, 2)
    bits = sunpos["STATUS"]
    assert bits.shape == (9442, 16)
    # bit k (MSB first) of the 16 bits == bit (7 - k % 8) of byte k // 8
    for k in range(16):
        expected = (raw[:, k // 8] >> (7 - k % 8)) & 1
        np.testing.assert_array_equal(bits[:, k], expected.astype(bool))
    np.testing.assert_array_equal(sunpos.status_ok, (raw == 0).all(axis=1))


def test_sunpos_string_tcrvl(sunpos):
    _, hdr, _ = _astropy_events(shared_path(*SUNPOS))
    n = [hdr[f"TTYPE{i}"] for i in range(1, hdr["TFIELDS"] + 1)].index("X") + 1
    assert isinstance(hdr[f"TCRVL{n}"], str)  # the file really stores a string
    np.testing.assert_array_equal(sunpos.wcs.wcs.crval, [0.0, 0.0])
    np.testing.assert_allclose(sunpos.wcs.wcs.crpix, [hdr[f"TCRPX{n}"], hdr[f"TCRPX{n + 1}"]])


def test_sunpos_keywords_and_gti(sunpos):
    _, hdr, prim = _astropy_events(shared_path(*SUNPOS))
    assert "ONTIME" not in prim  # the primary is empty: keywords come from EVENTS
    assert sunpos.ontime == hdr["ONTIME"]
    assert sunpos.exposure == pytest.approx(sunpos.ontime * sunpos.deadc, rel=1e-9)
    assert sunpos.gti.ontime == pytest.approx(hdr["ONTIME"], abs=1e-6)
    assert sunpos.badpix == []
    for key in ("OBS_ID", "INSTRUME", "DATE-OBS", "PA_PNT"):
        assert sunpos.keyword(key) == hdr[key]


def test_read_event_headers_counts():
    prim, ev, n = read_event_headers(shared_path(*SUNPOS))
    assert n == 9442 and ev["INSTRUME"] == "FPMA"


# ------------------------------------------------------------------ other real files


def test_hk_livetime():
    p = shared_path("real", "nu90410111001A_fpm.hk")
    with fits.open(p) as h:
        ref = np.array(h["HK1FPM"].data["LIVETIME"])
    hk = read_hk(p)
    assert hk.livetime.size == 147  # doc: 147 rows
    np.testing.assert_array_equal(hk.livetime, ref)
    assert 0.6 < hk.livetime.min() and hk.livetime.max() < 0.8  # doc: 0.69-0.75 in 1 s frames


def test_hk_livetime_consistent_with_event_deadc(sunpos):
    hk = read_hk(shared_path("real", "nu90410111001A_fpm.hk"))
    inside = sunpos.gti.contains(hk.time)
    assert inside.sum() > 50
    assert hk.livetime[inside].mean() == pytest.approx(sunpos.deadc, abs=0.02)


def test_standalone_gti_template():
    p = shared_path("real", "nustar-gen-utils", "usrgti.fits")
    with fits.open(p) as h:
        ext = [x for x in h[1:] if x.header.get("HDUCLAS1") == "GTI"][0]
        start, stop = np.array(ext.data["START"]), np.array(ext.data["STOP"])
        assert ext.columns["START"].unit == "sec"
    g = read_gti(p)
    assert len(g) == 8  # doc B.3: 8 rows
    np.testing.assert_array_equal(g.start, start)
    assert g.ontime == pytest.approx(float(np.sum(stop - start)))


def test_gti_from_image_file():
    p = shared_path("real", "nustar-gen-utils", "nu30002041016A01_cl_3to20keV_det1.fits")
    assert len(read_gti(p)) == 178  # doc C.1


def test_gti_intersection_and_contains():
    a = Gti(np.array([0.0, 10.0]), np.array([5.0, 20.0]))
    b = Gti(np.array([3.0, 8.0, 15.0]), np.array([4.0, 12.0, 30.0]))
    c = gti_intersection(a, b)
    np.testing.assert_array_equal(c.start, [3.0, 10.0, 15.0])
    np.testing.assert_array_equal(c.stop, [4.0, 12.0, 20.0])
    assert c.ontime == 8.0
    np.testing.assert_array_equal(a.contains([-1, 0, 4.99, 5, 10, 19.9, 20]),
                                  [False, True, True, False, True, True, False])


def test_det1_refpoint(tmp_path):
    # no real _det1.fits is available: build one to the documented B.4 layout
    t = 1000.0 + 0.2 * np.arange(50)
    x = np.full(50, 512.25)
    x[0] = -8300.0  # attitude not settled yet
    h = fits.BinTableHDU.from_columns([
        fits.Column("TIME", "1D", unit="s", array=t),
        fits.Column("X_DET1", "1D", unit="pixel", array=x),
        fits.Column("Y_DET1", "1D", unit="pixel", array=np.full(50, 480.5)),
    ], name="DET1_REFPOINT")
    h.header["HDUCLAS1"] = "TEMPORALDATA"
    p = tmp_path / "nu80415201001A_det1.fits"
    fits.HDUList([fits.PrimaryHDU(), h]).writeto(p)
    r = read_det1_refpoint(p)
    np.testing.assert_array_equal(r.time, t)
    np.testing.assert_array_equal(r.x_det1, x)
    assert r.y_det1[3] == 480.5
    with pytest.raises(InputError, match="DET1_REFPOINT"):
        read_det1_refpoint(shared_path(*DUMMY))


def test_status_bits_agree_between_storages():
    raw = np.array([[0, 16], [128, 1], [255, 0]], dtype=np.uint8)
    bits = status_bits(raw)
    np.testing.assert_array_equal(np.packbits(bits, axis=1), raw)
    assert bits[0, 11] and bits[1, 0] and bits[1, 15]


# ------------------------------------------------------------------ bad input


def test_bad_event_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_events(tmp_path / "missing.evt")
    txt = tmp_path / "notfits.evt"
    txt.write_text("hello\n")
    with pytest.raises(InputError, match="notfits.evt"):
        read_events(txt)
    with pytest.raises(InputError, match="nu90402339002A01_sr.arf.*no EVENTS"):
        read_events(shared_path("real", "vela_x1", "nu90402339002A01_sr.arf"))
    cut = tmp_path / "cut.evt"
    cut.write_bytes(shared_path(*DUMMY).read_bytes()[:100_000])
    with pytest.raises(InputError, match="cut.evt"):
        read_events(cut)
    with pytest.raises(InputError, match="lacks column"):
        read_events(shared_path(*SUNPOS), columns=["TIME", "PHAS"])


def test_gzipped_event_file(tmp_path):
    import gzip

    gz = tmp_path / "nu30101031002A01_cl.evt.gz"
    with open(shared_path(*DUMMY), "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    e = read_events(gz)
    assert len(e) == 937 and len(e.gti) == 190
