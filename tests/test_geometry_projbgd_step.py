"""The projbgd step end to end on real inputs (event file, PIXPOS, aperture image) and its errors."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.calib.base import Calibration
from nuskybgd.cli import main
from nuskybgd.errors import InputError
from nuskybgd.pipeline.steps import AspectHistStep, MkImgsStep, ProjBgdStep


class AuxilApertureCalibration(Calibration):
    """Real aperture solid angle (nuskybgd auxil detA_det1.img.gz, raw × 3.1865e-5 deg²)."""

    source = "AUXIL"
    detail = "detA_det1.img.gz (test)"
    module = "A"

    def __init__(self) -> None:
        with gzip.open(shared_path("nuskybgd-auxil", "detA_det1.img.gz")) as fh, fits.open(fh) as hdul:
            self._full = np.asarray(hdul[0].data, dtype=float) * 3.1865e-5

    def aperture_image_full(self):
        return self._full

    def aperture_image(self):
        return self._full[108:468, 108:468]

    def pixel_map(self):  # pragma: no cover - unused here
        raise NotImplementedError

    active_area = rmf = be_transmission = onaxis_arf = identity_rmf = presets = items = pixel_map


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from nuskybgd.calib.pixpos import pixel_map_from_pixpos

    d = tmp_path_factory.mktemp("obs")
    evt = d / "nu30101031002A01_cl.evt"
    shutil.copy(shared_path("real", "dummy_evt.evt"), evt)
    MkImgsStep(evt, 3, 20).run()
    pm = pixel_map_from_pixpos(shared_path("caldb-pieces", "nuApixpos20100101v007.fits.gz"))
    chip = np.where(pm.det >= 0, pm.det + 1, 0).astype(float)
    h = fits.Header()
    h["EXTNAME"] = "INSTRMAP"
    h["INSTRUME"] = "FPMA"
    fits.PrimaryHDU(chip, header=h).writeto(d / "newinstrmapA.fits")
    # a dithering DET1 reference-point track and its GTI
    # centre DET1 (180.5, 180.5) on the sky frame (500, 500) at the file's roll
    from nuskybgd.geometry.frames import det1_to_sky

    rx0, ry0 = det1_to_sky(350.0, 350.0, 0.0, 0.0, 5.9269)
    cx0, cy0 = det1_to_sky(180.5, 180.5, 0.0, 0.0, 5.9269)
    t = 1.786e8 + np.arange(30000) * 0.2
    x = 500.0 + (rx0 - cx0) + 4 * np.sin(t / 90.0)
    y = 500.0 + (ry0 - cy0) + 3 * np.cos(t / 140.0)
    cols = [fits.Column("TIME", "1D", unit="s", array=t), fits.Column("X_DET1", "1D", unit="pixel", array=x),
            fits.Column("Y_DET1", "1D", unit="pixel", array=y)]
    hdu = fits.BinTableHDU.from_columns(cols, name="DET1_REFPOINT")
    hdu.header["INSTRUME"] = "FPMA"
    hdu.header["TELESCOP"] = "NuSTAR"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(d / "nu30101031002A_det1.fits")
    g = fits.BinTableHDU.from_columns([fits.Column("START", "1D", unit="s", array=[t[10]]),
                                       fits.Column("STOP", "1D", unit="s", array=[t[-10]])], name="GTI")
    g.header["HDUCLAS1"] = "GTI"
    fits.HDUList([fits.PrimaryHDU(), g]).writeto(d / "gti.fits")
    AspectHistStep(d / "nu30101031002A_det1.fits", d / "gti.fits", d / "aspecthistA.fits").run()
    (d / "bgd").mkdir()
    return d, chip


def _run(d, out, **kw):
    args = dict(refimg=d / "nu30101031002A01_cl_3to20keV.fits", det="1234",
                calibration=AuxilApertureCalibration())
    args.update(kw)
    return ProjBgdStep(out, "A", d / "newinstrmapA.fits", d / "aspecthistA.fits", **args).run()


def test_outputs_next_to_out_with_right_areas(inputs):
    d, chip = inputs
    out = d / "bgd" / "bgdapA.fits"
    res = _run(d, out)
    names = sorted(p.name for p in (d / "bgd").iterdir())
    assert names == ["bgdapA.fits", "det0Aim.fits", "det1Aim.fits", "det2Aim.fits", "det3Aim.fits"]
    assert len(res.outputs) == 5
    union = np.zeros((1000, 1000), bool)
    for k in range(4):
        with fits.open(d / "bgd" / f"det{k}Aim.fits") as hdul:
            img, h = hdul[0].data, hdul[0].header
        area = (chip == k + 1).sum()
        assert abs(img.sum() - area) / area < 3e-4  # nearest-neighbour aliasing (ref §6.4 example)
        assert img.max() <= 1 + 1e-12 and img.min() >= 0
        assert h["CTYPE1"] == "RA---TAN" and h["PA_PNT"] == pytest.approx(5.9269)
        assert h["ROLL_EFF"] == pytest.approx(6.9269)
        assert "TOTCTS" not in h and h["NSBCALIB"] == "AUXIL" and h["NSBTASK"] == "projbgd"
        assert h["EXPOSURE"] > 0 and h["ASPEXPO"] == pytest.approx(fits.getheader(d / "aspecthistA.fits")["EXPOSURE"])
        assert "CHANMIN" not in h  # the counts band of the reference image does not apply
        union |= img > 0
    with fits.open(out) as hdul:
        ap = hdul[0].data
    assert np.all(ap[~union] == 0)
    # exposure-weighted mean of A (≥ floor 0.003465, ≤ max 0.0516) where fully on a detector
    full = ap[union & (ap > 0)]
    assert full.max() <= 0.0516 + 1e-4
    inner = np.zeros_like(union)
    for k in range(4):
        with fits.open(d / "bgd" / f"det{k}Aim.fits") as hdul:
            inner |= hdul[0].data > 0.999
    assert ap[inner].min() >= 0.00404 - 1e-4
    # total étendue ≈ Σ_DET1 A over active pixels (aspect smoothing conserves it)
    from nuskybgd.geometry.projbgd import aperture_counts_image

    a = aperture_counts_image(AuxilApertureCalibration().aperture_image_full(), "A", offset=108)
    assert ap.sum() == pytest.approx(a[chip > 0].sum(), rel=3e-3)


def test_original_syntax_evtfile_grid_and_cd_matrix_agree(inputs, monkeypatch):
    d, _ = inputs
    out1 = d / "bgd" / "x1" / "bgdapA.fits"
    out2 = d / "bgd" / "x2" / "bgdapA.fits"
    out3 = d / "bgd" / "x3" / "bgdapA.fits"
    for o in (out1, out2, out3):
        o.parent.mkdir(parents=True)
    _run(d, out1, det="23")
    assert sorted(p.name for p in out1.parent.iterdir()) == ["bgdapA.fits", "det1Aim.fits", "det2Aim.fits"]
    _run(d, out2, det="23", refimg=None, evtfile=d / "nu30101031002A01_cl.evt")
    # CD-matrix reference image
    with fits.open(d / "nu30101031002A01_cl_3to20keV.fits") as hdul:
        h = hdul[0].header.copy()
        data = hdul[0].data
    h["CD1_1"], h["CD2_2"], h["CD1_2"], h["CD2_1"] = h["CDELT1"], h["CDELT2"], 0.0, 0.0
    del h["CDELT1"], h["CDELT2"]
    fits.PrimaryHDU(data, header=h).writeto(d / "bgd" / "cdimg.fits")
    _run(d, out3, det="23", refimg=d / "bgd" / "cdimg.fits")
    for name in ("bgdapA.fits", "det1Aim.fits", "det2Aim.fits"):
        a1 = fits.getdata(out1.parent / name)
        assert np.array_equal(a1, fits.getdata(out2.parent / name))
        assert np.array_equal(a1, fits.getdata(out3.parent / name))


def test_cli_key_value_syntax(inputs, monkeypatch):
    d, _ = inputs
    monkeypatch.chdir(d / "bgd")
    (d / "bgd" / "cli").mkdir()
    argv = ["projbgd", "refimg=../nu30101031002A01_cl_3to20keV.fits", "out=cli/bgdapA.fits", "mod=A",
            "det=1", "chipmap=../newinstrmapA.fits", "aspect=../aspecthistA.fits"]
    monkeypatch.setattr("nuskybgd.pipeline.steps._calibration.resolve_calibration",
                        lambda m, date: AuxilApertureCalibration())
    assert main(argv) == 0
    assert sorted(p.name for p in (d / "bgd" / "cli").iterdir()) == ["bgdapA.fits", "det0Aim.fits"]
    assert main(argv) == 2  # outputs exist
    assert main(argv + ["clobber=yes"]) == 0
    # the same run with modern flags gives the same images
    (d / "bgd" / "flags").mkdir()
    assert main(["projbgd", "--refimg", "../nu30101031002A01_cl_3to20keV.fits", "--out", "flags/bgdapA.fits",
                 "--mod", "A", "--det", "1", "--chipmap", "../newinstrmapA.fits",
                 "--aspect", "../aspecthistA.fits"]) == 0
    for name in ("bgdapA.fits", "det0Aim.fits"):
        assert np.array_equal(fits.getdata(d / "bgd" / "cli" / name), fits.getdata(d / "bgd" / "flags" / name))


def test_cli_bad_input_in_a_subprocess_is_one_sentence(inputs):
    """Through the real command line: exit 2, one line naming the file and keyword, no traceback."""
    import subprocess
    import sys

    d, _ = inputs
    work = d / "bgd" / "sub"
    work.mkdir()
    nopa = _variant(d, "sub_nopa.fits", lambda h: h.remove("PA_PNT"))
    argv = [sys.executable, "-m", "nuskybgd", "projbgd", f"refimg={nopa}", "out=bgdapA.fits", "mod=A",
            "det=1234", f"chipmap={d / 'newinstrmapA.fits'}", f"aspect={d / 'aspecthistA.fits'}"]
    proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "PA_PNT" in err and "sub_nopa.fits" in err
    assert list(work.iterdir()) == []


def _variant(d, name, edit):
    with fits.open(d / "nu30101031002A01_cl_3to20keV.fits") as hdul:
        h = hdul[0].header.copy()
        data = hdul[0].data
    edit(h)
    fits.PrimaryHDU(data, header=h).writeto(d / "bgd" / name, overwrite=True)
    return d / "bgd" / name


def test_bad_inputs_name_the_problem_and_write_nothing(inputs):
    d, chip = inputs
    bad = d / "bgd" / "bad"
    bad.mkdir(exist_ok=True)
    out = bad / "bgdapA.fits"
    no_pa = _variant(d, "nopa.fits", lambda h: h.remove("PA_PNT"))
    with pytest.raises(InputError, match="PA_PNT"):
        _run(d, out, refimg=no_pa)
    no_wcs = _variant(d, "nowcs.fits", lambda h: h.remove("CTYPE1"))
    with pytest.raises(InputError, match="CTYPE1"):
        _run(d, out, refimg=no_wcs)
    binned = _variant(d, "binned.fits", lambda h: h.update(CDELT1=h["CDELT1"] * 4, CDELT2=h["CDELT2"] * 4))
    with pytest.raises(InputError, match="unbinned"):
        _run(d, out, refimg=binned)
    # aspect histogram of the other module
    with fits.open(d / "aspecthistA.fits") as hdul:
        hdr = hdul[0].header.copy()
        hdr["INSTRUME"] = "FPMB"
        fits.PrimaryHDU(hdul[0].data, header=hdr).writeto(bad / "aspB.fits")
    with pytest.raises(InputError, match="FPMB"):
        ProjBgdStep(out, "A", d / "newinstrmapA.fits", bad / "aspB.fits",
                    refimg=d / "nu30101031002A01_cl_3to20keV.fits",
                    calibration=AuxilApertureCalibration()).run()
    fits.PrimaryHDU(chip[:300, :300]).writeto(bad / "small.fits")
    with pytest.raises(InputError, match="360"):
        ProjBgdStep(out, "A", bad / "small.fits", d / "aspecthistA.fits",
                    refimg=d / "nu30101031002A01_cl_3to20keV.fits",
                    calibration=AuxilApertureCalibration()).run()
    with pytest.raises(InputError, match="mod=C"):
        ProjBgdStep(out, "C", d / "newinstrmapA.fits", d / "aspecthistA.fits", refimg=no_pa)
    assert sorted(p.name for p in bad.iterdir()) == ["aspB.fits", "small.fits"]
