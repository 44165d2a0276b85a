"""Counts images: binning, names, headers compared with real xselect/nustar-gen-utils products."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from conftest import shared_path
from nuskybgd.cli import main
from nuskybgd.errors import InputError
from nuskybgd.pipeline.steps import MkImgsStep
from nuskybgd.products.images import counts_image, image_name


def test_counts_image_matches_histogram2d_and_ignores_nulls():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 1001, 20000)
    y = rng.integers(1, 1001, 20000)
    x[:10] = -1  # TNULL
    img = counts_image(x, y, 1000)
    ref, _, _ = np.histogram2d(y[10:], x[10:], bins=1000, range=[[0.5, 1000.5], [0.5, 1000.5]])
    assert img.dtype == np.int32
    assert np.array_equal(img, ref.astype(np.int32))
    b4 = counts_image(x, y, 1000, 4)
    assert b4.shape == (250, 250)
    assert b4.sum() == img.sum()
    assert b4[0, 0] == img[:4, :4].sum() and b4[12, 7] == img[48:52, 28:32].sum()


def test_names_follow_nustar_gen_utils():
    assert image_name("nu10601407002A01_cl.evt", "3", "20") == "nu10601407002A01_cl_3to20keV.fits"
    assert image_name("nu10601407002A01_cl.evt.gz", 3, 20, det1=True) == "nu10601407002A01_cl_3to20keV_det1.fits"
    assert image_name("nu1A01_cl.evt", "3.0", "20") == "nu1A01_cl_3.0to20keV.fits"


@pytest.fixture
def event_copy(tmp_path):
    src = shared_path("real", "dummy_evt.evt")
    dst = tmp_path / "nu30101031002A01_cl.evt"
    shutil.copy(src, dst)
    return dst


def test_sky_image_on_real_events(event_copy):
    res = MkImgsStep(event_copy, 3, 20).run()
    out = event_copy.parent / "nu30101031002A01_cl_3to20keV.fits"
    assert res.outputs == [out]
    with fits.open(event_copy) as hdul:
        e = hdul["EVENTS"].data
        sel = (e["PI"] >= 35) & (e["PI"] <= 459) & (e["X"] > 0) & (e["Y"] > 0)
        ex, ey = e["X"][sel], e["Y"][sel]
        ra_obj, dec_obj = hdul["EVENTS"].header["RA_OBJ"], hdul["EVENTS"].header["DEC_OBJ"]
    with fits.open(out) as hdul:
        img, h = hdul[0].data, hdul[0].header
        assert hdul[1].name == "GTI"
    assert img.shape == (1000, 1000)
    assert img.sum() == sel.sum() == h["TOTCTS"]
    for xi, yi in zip(ex[:50], ey[:50], strict=True):  # image pixel (i, j) = event (X, Y)
        assert img[yi - 1, xi - 1] >= 1
    assert (h["CHANMIN"], h["CHANMAX"], h["CHANTYPE"]) == (35, 459, "PI")
    assert h["PA_PNT"] == pytest.approx(5.9269)
    assert h["EXPOSURE"] > 0 and "CREATOR" in h
    with fits.open(event_copy) as hdul:
        assert h["EXPOSURE"] == hdul["EVENTS"].header["EXPOSURE"]
    assert h["BAND"] == "3-20 keV" and (h["E_MIN"], h["E_MAX"]) == pytest.approx((3.0, 20.0))
    assert h["NSBTASK"] == "mkimgs" and any(event_copy.name in str(c) for c in h["HISTORY"])
    # (RA_OBJ, DEC_OBJ) sits at physical (500.54, 500.50) in this file (nustar-data-formats B.2)
    px, py = WCS(h).world_to_pixel_values(ra_obj, dec_obj)
    assert px + 1 == pytest.approx(500.54, abs=0.01) and py + 1 == pytest.approx(500.50, abs=0.01)


def test_det1_image_layout_matches_real_xselect_image(event_copy):
    real = shared_path("real", "nustar-gen-utils", "nu30002041016A01_cl_3to20keV_det1.fits")
    MkImgsStep(event_copy, 3, 20, det1=True).run()
    out = event_copy.parent / "nu30101031002A01_cl_3to20keV_det1.fits"
    with fits.open(real) as r, fits.open(out) as o:
        rh, oh = r[0].header, o[0].header
        assert o[0].data.shape == r[0].data.shape == (360, 360)
        assert o[0].data.dtype.kind == r[0].data.dtype.kind == "i"
        for key in ("CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1", "CDELT1", "CDELT2", "LTV1", "LTM1_1",
                    "CTYPE1P", "CRPIX1P", "CRVAL1P", "CDELT1P", "WCSNAMEP", "CHANMIN", "CHANMAX",
                    "CHANTYPE", "IMGBIN", "HDUCLAS1"):
            assert oh[key] == pytest.approx(rh[key]) if isinstance(rh[key], float) else oh[key] == rh[key], key
        assert [h.name for h in o] == [h.name for h in r]


def test_det1_pixels_hold_their_events(tmp_path):
    src = shared_path("real", "nu90410111001A06_cl_sunpos.evt")
    dst = tmp_path / "nu90410111001A06_cl_sunpos.evt"
    shutil.copy(src, dst)
    MkImgsStep(dst, 3, 79, det1=True, binning=2).run()
    with fits.open(dst) as hdul:
        e = hdul["EVENTS"].data
        sel = (e["PI"] >= 35) & (e["PI"] <= 1934) & (e["DET1X"] > 0)
        x, y = e["DET1X"][sel].astype(int), e["DET1Y"][sel].astype(int)
    with fits.open(tmp_path / "nu90410111001A06_cl_sunpos_3to79keV_det1.fits") as hdul:
        img = hdul[0].data
        assert hdul[0].header["IMGBIN"] == 2
    assert img.shape == (180, 180)
    ref = np.zeros((180, 180), int)
    np.add.at(ref, ((y - 1) // 2, (x - 1) // 2), 1)
    assert np.array_equal(img, ref)


def test_cli_syntax_and_errors(event_copy, monkeypatch):
    monkeypatch.chdir(event_copy.parent)
    assert main(["mkimgs", event_copy.name, "elow=20", "ehigh=40"]) == 0
    assert (event_copy.parent / "nu30101031002A01_cl_20to40keV.fits").exists()
    assert main(["mkimgs", event_copy.name, "--elow", "20", "--ehigh", "40"]) == 2  # exists
    assert main(["mkimgs", event_copy.name, "--elow", "5", "--ehigh", "5.01"]) == 2  # no whole channel
    with pytest.raises(InputError):
        MkImgsStep(event_copy, "x", 20)
    assert not (event_copy.parent / "nu30101031002A01_cl_5to5.01keV.fits").exists()
