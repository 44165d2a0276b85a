"""Aspect histogram: GTI membership, weights, binning, true min/max crop, the step and its errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.cli import main
from nuskybgd.errors import InputError
from nuskybgd.geometry.aspect import aspect_histogram, gti_membership
from nuskybgd.pipeline.steps import AspectHistStep

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from images import aspect_plain  # noqa: E402  (nuskybgd-py's sweep, written plainly, true min/max)


def test_membership_is_half_open_and_handles_overlaps():
    start = np.array([10.0, 30.0, 12.0, 50.0])
    stop = np.array([20.0, 40.0, 25.0, 50.0])  # overlapping, nested-ish, one empty
    t = np.array([9.999, 10.0, 19.9, 20.0, 24.99, 25.0, 30.0, 39.999, 40.0, 50.0])
    got = gti_membership(t, start, stop)
    direct = np.array([any(s <= ti < e for s, e in zip(start, stop, strict=True)) for ti in t])
    assert got.tolist() == direct.tolist()
    assert got.tolist() == [False, True, True, True, True, False, True, True, False, False]


def test_matches_plain_sweep_on_random_overlapping_gtis():
    rng = np.random.default_rng(11)
    n = 5000
    t = rng.permutation(1000.0 + np.cumsum(rng.uniform(0.1, 0.3, n)))
    x = 400.0 + rng.normal(0, 3, n)
    y = 600.0 + rng.normal(0, 2, n)
    start = rng.uniform(1000, 1900, 12)
    stop = start + rng.uniform(10, 200, 12)
    h = aspect_histogram(t, x, y, start, stop)
    img, xo, yo = aspect_plain(t, x, y, start, stop)
    assert (h.x_off, h.y_off) == (xo, yo)
    assert h.image.shape == img.shape
    assert np.allclose(h.image, img, rtol=1e-12, atol=1e-12)


def test_exposure_equals_gti_within_one_sample_interval():
    dt = 0.2
    t = 5000.0 + np.arange(200000) * dt + 0.037
    x = 500.2 + 5 * np.sin(t / 100.0)
    y = 480.9 + 4 * np.cos(t / 130.0)
    start, stop = np.array([6000.0]), np.array([37000.3])
    h = aspect_histogram(t, x, y, start, stop)
    assert abs(h.exposure - (stop - start).sum()) <= dt
    # several GTIs: at most one sample interval per GTI; clipping removes the overshoot past
    # each STOP, so the clipped sum never exceeds the GTI total (only the lead-in before the
    # first sample of each GTI is missing)
    start = np.array([6000.0, 9000.05, 20000.1])
    stop = np.array([8000.0, 15000.0, 30000.33])
    h = aspect_histogram(t, x, y, start, stop)
    assert abs(h.exposure - (stop - start).sum()) <= dt * start.size
    hc = aspect_histogram(t, x, y, start, stop, clip_to_gti=True)
    assert 0 <= (stop - start).sum() - hc.exposure <= dt * start.size
    assert hc.exposure <= h.exposure


def test_first_sample_unique_maximum_is_kept():
    # nuskybgd-py's running min/max loses this row/column (§9.5); true min/max keeps it
    t = np.arange(7, dtype=float)
    x = np.array([505.5, 501.2, 502.7, 503.1, 500.4, 501.9, 502.0])
    y = np.array([404.5, 400.1, 401.3, 402.2, 401.0, 400.6, 400.0])
    h = aspect_histogram(t, x, y, np.array([0.0]), np.array([100.0]))
    assert (h.x_off, h.y_off) == (500, 400)
    assert h.image.shape == (5, 6)
    assert h.image[4, 5] == 1.0  # the first sample's bin (505, 404)
    assert h.exposure == 6.0


def test_off_grid_samples_are_dropped_and_reported():
    t = np.arange(6, dtype=float)
    x = np.array([-8300.0, 500.5, 500.6, 501.2, 1200.0, 501.0])
    y = np.array([-10072.0, 500.5, 500.5, 500.9, 500.0, 500.0])
    h = aspect_histogram(t, x, y, np.array([0.0]), np.array([10.0]))
    assert h.dropped_exposure == 2.0
    assert h.exposure == 3.0
    assert h.image.shape == (1, 2)


def _det1_file(path, time, x, y, instrume="FPMA", xname="X_DET1", yname="Y_DET1"):
    cols = [fits.Column("TIME", "1D", unit="s", array=time),
            fits.Column(xname, "1D", unit="pixel", array=x),
            fits.Column(yname, "1D", unit="pixel", array=y)]
    hdu = fits.BinTableHDU.from_columns(cols, name="DET1_REFPOINT")
    for k, v in (("TELESCOP", "NuSTAR"), ("INSTRUME", instrume), ("HDUCLAS1", "TEMPORALDATA"),
                 ("OBS_ID", "60001001002"), ("TSTART", float(time[0])), ("TSTOP", float(time[-1]))):
        hdu.header[k] = v
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)


def _gti_file(path, start, stop):
    cols = [fits.Column("START", "1D", unit="s", array=np.asarray(start, float)),
            fits.Column("STOP", "1D", unit="s", array=np.asarray(stop, float))]
    hdu = fits.BinTableHDU.from_columns(cols, name="STDGTI")
    hdu.header["HDUCLAS1"] = "GTI"
    hdu.header["TELESCOP"] = "NuSTAR"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)


def test_step_writes_keywords_and_cli_original_syntax(tmp_path, monkeypatch):
    t = 1e8 + np.arange(20000) * 0.2
    x = 610.3 + 3 * np.sin(t / 50)
    y = 390.8 + 2 * np.cos(t / 70)
    _det1_file(tmp_path / "nu60001001002A_det1.fits", t, x, y)
    _gti_file(tmp_path / "gti.fits", [1e8 + 100, 1e8 + 2000], [1e8 + 1500, 1e8 + 3900])
    monkeypatch.chdir(tmp_path)
    rc = main(["aspecthist", "nu60001001002A_det1.fits", "gtifile=gti.fits", "out=aspecthistA.fits"])
    assert rc == 0
    with fits.open(tmp_path / "aspecthistA.fits") as hdul:
        hdr, img = hdul[0].header, hdul[0].data
        assert hdr["EXTNAME"] == "ASPECT_HISTOGRAM"
        assert hdr["INSTRUME"] == "FPMA"
        kept = ((t >= 1e8 + 100) & (t < 1e8 + 1500)) | ((t >= 1e8 + 2000) & (t < 1e8 + 3900))
        assert hdr["X_OFF"] == int(np.floor(x[kept]).min())
        assert hdr["Y_OFF"] == int(np.floor(y[kept]).min())
        assert img.sum() == pytest.approx(hdr["EXPOSURE"])
        assert abs(hdr["EXPOSURE"] - 3300.0) <= 2 * 0.2
        assert hdr["OBS_ID"] == "60001001002" and hdr["NSBTASK"] == "aspecthist" and "CREATOR" in hdr
        assert any("gti.fits" in str(c) for c in hdr["HISTORY"])
    # modern flags, existing output refused without --overwrite, accepted with clobber=yes
    rc = main(["aspecthist", "nu60001001002A_det1.fits", "--gtifile", "gti.fits", "--out", "aspecthistA.fits"])
    assert rc == 2
    rc = main(["aspecthist", "nu60001001002A_det1.fits", "gtifile=gti.fits", "out=aspecthistA.fits",
               "clobber=yes"])
    assert rc == 0


def test_real_gti_extensions_are_accepted(tmp_path):
    evt = shared_path("real", "dummy_evt.evt")
    usr = shared_path("real", "nustar-gen-utils", "usrgti.fits")
    with fits.open(evt) as hdul:
        g = hdul["GTI"].data
        t0, t1 = float(g["START"].min()), float(g["STOP"].max())
    t = np.arange(t0 - 50, t1 + 50, 1.0)
    _det1_file(tmp_path / "d.fits", t, np.full(t.size, 500.5), np.full(t.size, 500.5))
    res = AspectHistStep(tmp_path / "d.fits", evt, tmp_path / "a.fits").run()
    ontime = float((g["STOP"] - g["START"]).sum())
    assert abs(res.values["exposure"] - ontime) <= 1.0 * len(g)
    with fits.open(usr) as hdul:
        assert any(str(h.header.get("HDUCLAS1", "")).strip() == "GTI" for h in hdul[1:])


def test_bad_inputs_are_clear_errors_and_write_nothing(tmp_path):
    t = 1e8 + np.arange(100) * 0.2
    _det1_file(tmp_path / "wrongcols.fits", t, t * 0 + 500, t * 0 + 500, xname="X_DET2", yname="Y_DET2")
    _det1_file(tmp_path / "ok.fits", t, t * 0 + 500, t * 0 + 500)
    _gti_file(tmp_path / "empty.fits", [], [])
    _gti_file(tmp_path / "gti.fits", [1e8], [1e8 + 10])
    out = tmp_path / "out.fits"
    with pytest.raises(InputError, match="X_DET1"):
        AspectHistStep(tmp_path / "wrongcols.fits", tmp_path / "gti.fits", out).run()
    with pytest.raises(InputError, match="no good time interval"):
        AspectHistStep(tmp_path / "ok.fits", tmp_path / "empty.fits", out).run()
    _gti_file(tmp_path / "elsewhere.fits", [5e8], [5e8 + 10])
    with pytest.raises(InputError, match="same observation"):
        AspectHistStep(tmp_path / "ok.fits", tmp_path / "elsewhere.fits", out).run()
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "elsewhere.fits", "empty.fits", "gti.fits", "ok.fits", "wrongcols.fits"]
