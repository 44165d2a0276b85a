"""spec and simplify: projection into a source region, background PHA, frozen background-only file."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.spectral import read_xcm
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo
from nuskybgd.workflow.fit import fit_background
from nuskybgd.workflow.project import crossover_energy, project_source, project_sources, simplify
from workflow_obs import make_bgd_folder


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    bgd = make_bgd_folder(tmp_path_factory.mktemp("obs"), modules=("A",), exposure=1e5, seed=5)
    cfg = write_bgdinfo(generate_bgdinfo(bgd), bgd / "bgdinfoA.json")
    out = fit_background(cfg, "fitA")
    # a "source" observed through the same sky box as background region 3 (its spectrum reused)
    shutil.copy(bgd / "bgd3A.reg", bgd / "srcA.reg")
    shutil.copy(bgd / "nu90000001A01_bgd3A_sr.pha", bgd / "nu90000001A01_srcA_sr.pha")
    return bgd, cfg, out


def _digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def projected(fitted):
    bgd, cfg, out = fitted
    src = bgd / "nu90000001A01_srcA_sr.pha"
    before = _digest(src)
    proj = project_source(cfg, out.state_json, bgd / "srcA.reg", src)
    assert _digest(src) == before            # the user's spectrum is never modified
    return proj


def test_projection_into_a_background_region_reproduces_its_fitted_model(fitted, projected):
    _, _, out = fitted
    for name, counts in projected.components.items():
        expected = out.problem.model_counts(3, source=name)
        if name == "fcxb":                   # nominal preset in the source (frozen in the fit too)
            np.testing.assert_allclose(counts, expected, rtol=1e-5, atol=1e-12)
        else:                                # ratio links of 1.000000e+00 to the fitted reference
            np.testing.assert_allclose(counts, expected, rtol=1e-6, atol=1e-12)
    assert projected.total.sum() == pytest.approx(out.problem.model_counts(3).sum(), rel=1e-6)


def test_projected_xcm_names_the_source_as_group_4(projected):
    text = projected.xcm.read_text()
    assert projected.xcm.name == "bgd_srcA.xcm"
    assert "data 4:4 nu90000001A01_srcA_sr.pha" in text and "backgrnd 4 none" in text
    assert "response 5:4 diag.rmf" in text and "arf 2:4 be.arf" in text
    sess = read_xcm(projected.xcm)
    ap = next(s for s in sess.sources if s.name == "apbgd")
    # apbgd norm of the source: W_q/W_r × the fitted reference norm, as for background region 3
    assert ap.par(12).link.proportional() == ap.par(9).link.proportional()
    assert ap.par(12).link.proportional()[1] == "apbgd:p3"


def test_background_pha_is_the_projection(fitted, projected):
    bgd, _, _ = fitted
    with fits.open(projected.background_pha) as h:
        s = h["SPECTRUM"]
        rate = s.data["RATE"]
        assert s.header["HDUCLAS2"] == "BKG" and s.header["NSBTASK"] == "spec"
        assert s.header["NSBCALIB"] == "BUILTIN"
        exposure = s.header["EXPOSURE"]
        backscal = s.header["BACKSCAL"]
    with fits.open(bgd / "nu90000001A01_srcA_sr.pha") as h:
        assert exposure == h["SPECTRUM"].header["EXPOSURE"]
        assert backscal == h["SPECTRUM"].header["BACKSCAL"]
    np.testing.assert_allclose(rate * exposure, projected.total, rtol=1e-12)


def test_poisson_background_and_refusal_to_overwrite(fitted, projected, tmp_path):
    """The projection already written (by the `projected` fixture) is refused without overwrite."""
    bgd, cfg, out = fitted
    with pytest.raises(OutputExistsError):
        project_source(cfg, out.state_json, bgd / "srcA.reg", bgd / "nu90000001A01_srcA_sr.pha")
    proj = project_source(cfg, out.fit_xcm, bgd / "srcA.reg", bgd / "nu90000001A01_srcA_sr.pha",
                          outdir=tmp_path, poisson=True, seed=4)
    with fits.open(proj.background_pha) as h:
        counts = h["SPECTRUM"].data["COUNTS"]
    assert counts.dtype.kind == "i"
    again = read_xcm(proj.xcm).build()        # written elsewhere: every file name still resolves
    assert len(again.spectra) == 4
    assert abs(counts.sum() - proj.total.sum()) < 5 * np.sqrt(proj.total.sum())


def test_simplify_keeps_the_projected_model(fitted, projected, tmp_path):
    bgd, _, _ = fitted
    path = simplify(projected.xcm, 3)
    assert path.name == "bgd_only_srcA.xcm"
    pr = read_xcm(path).build()
    assert len(pr.spectra) == 1 and pr.spectra[0].group == 1
    assert not pr.free_parameters()
    assert all(p.link is None for p in pr.parameters)
    np.testing.assert_allclose(pr.model_counts(1), projected.problem.model_counts(4), rtol=1e-9)
    assert "model  1" not in path.read_text()
    with pytest.raises(InputError, match="background spectra followed by"):
        simplify(projected.xcm, 4, outdir=tmp_path)


def test_spectrum_order_must_match_the_configuration(fitted, tmp_path):
    bgd, cfg, out = fitted
    info = generate_bgdinfo(bgd)
    info.bgfiles = info.bgfiles[::-1]
    info.regfiles = info.regfiles[::-1]
    other = write_bgdinfo(info, bgd / "reversed.json")
    with pytest.raises(InputError, match="keep the spectra in the order of bgfiles"):
        project_source(other, out.state_json, bgd / "srcA.reg", bgd / "nu90000001A01_srcA_sr.pha",
                       outdir=tmp_path)


def test_crossover_energy():
    e_lo = np.arange(0, 4096) * 0.04 + 1.6
    e_hi = e_lo + 0.04
    centre = 0.5 * (e_lo + e_hi)
    bkg = np.full(4096, 1.0)
    src = bkg + 50.0 * np.exp(-centre / 5.0)            # net source falls below 1 at E = 5 ln 50
    cross = crossover_energy(src, bkg, e_lo, e_hi)
    assert 5 * np.log(50) * 0.8 < cross < 5 * np.log(50) * 1.2
    assert crossover_energy(bkg + 100, bkg, e_lo, e_hi) is None


def test_two_source_regions_in_one_file(fitted, tmp_path):
    bgd, cfg, out = fitted
    shutil.copy(bgd / "bgd1A.reg", bgd / "src2A.reg")
    shutil.copy(bgd / "nu90000001A01_bgd1A_sr.pha", bgd / "nu90000001A01_src2A_sr.pha")
    both = project_sources(cfg, out.state_json, [bgd / "srcA.reg", bgd / "src2A.reg"],
                           [bgd / "nu90000001A01_srcA_sr.pha", bgd / "nu90000001A01_src2A_sr.pha"],
                           outdir=tmp_path)
    assert [p.background_pha.name for p in both] == ["bgd_srcA_bk.pha", "bgd_src2A_bk.pha"]
    assert both[0].xcm == both[1].xcm == tmp_path / "bgd_srcA.xcm"
    text = both[0].xcm.read_text()
    assert "data 4:4" in text and "data 5:5" in text
    for proj, s in zip(both, (3, 2), strict=True):
        assert proj.total.sum() == pytest.approx(out.problem.model_counts(s).sum(), rel=1e-6)
    with pytest.raises(InputError, match="one spectrum per region"):
        project_sources(cfg, out.state_json, [bgd / "srcA.reg"], [], outdir=tmp_path)


def test_simplify_from_the_configuration(fitted, projected, tmp_path):
    from nuskybgd.workflow.project import simplify_projection

    _, cfg, _ = fitted
    path = simplify_projection(cfg, projected.xcm, outdir=tmp_path)
    assert path == tmp_path / "bgd_only_srcA.xcm"
    assert len(read_xcm(path).build().spectra) == 1


def test_a_source_spectrum_of_another_instrument_is_named_as_the_source_spectrum(fitted, tmp_path):
    bgd, cfg, out = fitted
    src = tmp_path / "src_fpmc.pha"
    shutil.copy(bgd / "nu90000001A01_srcA_sr.pha", src)
    with fits.open(src, mode="update") as h:
        h["SPECTRUM"].header["INSTRUME"] = "FPMC"
    with pytest.raises(InputError, match=r"source spectrum .*src_fpmc\.pha has INSTRUME 'FPMC'"):
        project_source(cfg, out.state_json, bgd / "srcA.reg", src, outdir=tmp_path)
