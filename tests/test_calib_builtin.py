"""The built-in nominal calibration: physical sanity checks, and its measured agreement with the
real calibration files (skipped when ../shared/data is absent).  The thresholds are the targets
of docs/calibration.md; the measured values are quoted there."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import shared_path
from nuskybgd.calib import builtin
from nuskybgd.calib.measure import (
    aperture_agreement,
    area_agreement,
    be_agreement,
    layout_agreement,
    rmf_line_figures,
)
from nuskybgd.calib.pixpos import pixel_map_from_pixpos
from nuskybgd.io.ogip import read_arf, read_rmf

# ------------------------------------------------------------------ physics / geometry only


@pytest.mark.parametrize("mod", ["A", "B"])
def test_layout_structure(mod: str) -> None:
    pm = builtin.detector_layout(mod)
    counts = [int((pm.det == d).sum()) for d in range(4)]
    assert all(26000 < c < 27500 for c in counts)  # 164.5² ≈ 27,060 sub-pixels per detector
    ok = pm.det >= 0
    owned = np.zeros((4, 32, 32), dtype=int)
    np.add.at(owned, (pm.det[ok], pm.rawx[ok], pm.rawy[ok]), 1)
    assert owned.min() >= 25  # every RAW pixel owns ≥ 5×5 sub-pixels
    assert owned[:, 1:31, 1:31].max() == 25 and owned[:, 1:31, 1:31].min() == 25
    # RAW (0,0) of each detector is at the array centre; +RAWX/+RAWY as in reference §2
    cx, cy = builtin.LAYOUT_CENTRE[mod]
    expected_dirs = {0: ((0, 1), (1, 0)), 1: ((-1, 0), (0, 1)), 2: ((0, -1), (-1, 0)),
                     3: ((1, 0), (0, -1))}
    for d in range(4):
        yy, xx = np.nonzero((pm.det == d) & (pm.rawx == 0) & (pm.rawy == 0))
        assert abs(xx.mean() + 0.5 - cx) < 6 and abs(yy.mean() + 0.5 - cy) < 6
        for col, axis in ((pm.rawx, 0), (pm.rawy, 1)):
            yy1, xx1 = np.nonzero((pm.det == d) & (col == 10))
            yy0, xx0 = np.nonzero((pm.det == d) & (col == 0))
            step = np.sign([xx1.mean() - xx0.mean(), yy1.mean() - yy0.mean()]).astype(int)
            step[np.abs([xx1.mean() - xx0.mean(), yy1.mean() - yy0.mean()]) < 5] = 0
            assert tuple(step) == expected_dirs[d][axis], (d, axis)


def test_gaussian_rmf_rows() -> None:
    rmf = builtin.gaussian_rmf("A", 2)
    assert rmf.matrix.shape == (4096, 4096) and rmf.header["DETNAM"] == "DET2"
    sums = np.asarray(rmf.matrix.sum(axis=1)).ravel()
    assert np.allclose(sums, 1.0)
    for e in (6.0, 20.0, 60.0):
        f = rmf_line_figures(rmf, e)
        assert abs(f["centroid"] - f["energy"]) < 0.005
        assert f["fwhm"] == pytest.approx(float(builtin.fwhm_kev(f["energy"])), rel=0.02)
    # NuSTAR's published resolution is 0.4 keV FWHM at 6 keV (Harrison et al. 2013)
    assert builtin.fwhm_kev(6.0) == pytest.approx(0.4, rel=0.05)


def test_identity_rmf() -> None:
    rmf = builtin.identity_rmf()
    assert rmf.matrix.shape == (4096, 4096) and rmf.matrix.nnz == 4096
    assert np.array_equal(rmf.matrix.diagonal(), np.ones(4096))
    assert rmf.e_min[0] == pytest.approx(1.6) and rmf.e_max[-1] == pytest.approx(165.44)


def test_be_transmission_physics() -> None:
    e = np.array([1.62, 3.0, 6.0, 20.0, 165.0])
    t = builtin.be_window_transmission(e)
    assert np.all(np.diff(t) > 0) and t[0] < 0.1 and t[-1] > 0.99
    # Be mass attenuation vs NIST XCOM (cm²/g): 21.27 at 3 keV, 0.2251 at 20, 0.1328 at 100
    mu = builtin.be_mass_attenuation(np.array([3.0, 20.0, 100.0]))
    assert mu == pytest.approx([21.27, 0.2251, 0.1328], rel=0.03)
    arf = builtin.be_transmission("B")
    assert arf.specresp.size == 4096 and arf.header["INSTRUME"] == "FPMB"


def test_onaxis_area_shape() -> None:
    a = builtin.onaxis_effective_area(np.array([3.0, 10.0, 40.0, 78.2, 79.0]))
    assert 250 < a[1] < 350  # ≈ 300 cm² peak near 10 keV
    assert a[0] < a[1] and a[2] < a[1] and a[4] < 0.3 * a[2]  # Pt K edge at 78.4 keV


@pytest.mark.parametrize("mod", ["A", "B"])
def test_aperture_geometry(mod: str) -> None:
    g = builtin.APERTURE_GEOMETRY[mod]
    full = builtin.aperture_solid_angle(mod, full=True)
    crop = builtin.aperture_solid_angle(mod)
    assert full.shape == (576, 576) and crop.shape == (360, 360)
    assert np.array_equal(crop, full[108:468, 108:468])
    assert full.min() >= 0 and full.max() <= np.pi * g["r_stop"] ** 2 + 1e-9
    # fully shadowed where the two discs are concentric
    assert full[int(round(g["y0"])), int(round(g["x0"]))] < 1e-3


def test_presets_structure() -> None:
    p = builtin.presets()
    names = [m["name"] for m in p["models"]]
    assert names == ["2:apbgd", "3:intbgd", "4:fcxb", "5:intn"]
    comps = p["models"][1]["components"]
    assert list(comps)[:3] == ["apec", "lorentz", "lorentz_3"] and len(comps) == 30
    assert "lorentz_2" not in comps
    assert comps["lorentz_5"]["A"]["linee"] == pytest.approx(19.6464)
    assert p["models"][3]["components"]["bknpower"]["B"]["ifactors"][0] == pytest.approx(2.23133e-05)


# ------------------------------------------------------------------ measured against real files


def test_presets_equal_the_published_ratios_json() -> None:
    real = json.loads(shared_path("nuskybgd-auxil", "ratios.json").read_text())
    ours = builtin.presets()
    for i in range(4):
        assert ours["models"][i]["components"] == real["models"][i]["components"]
        assert ours["models"][i]["name"] == real["models"][i]["name"]


@pytest.mark.parametrize("mod", ["A", "B"])
def test_layout_agrees_with_pixpos_v007(mod: str) -> None:
    real = pixel_map_from_pixpos(shared_path("caldb-pieces", f"nu{mod}pixpos20100101v007.fits.gz"))
    f = layout_agreement(builtin.detector_layout(mod), real)
    assert f["same_det"] >= 0.98
    assert f["same_raw"] >= 0.70


@pytest.fixture(scope="module")
def real_det3_rmf():
    return read_rmf(shared_path("caldb-pieces", "nuAdet3_20100101v002.rmf.gz"))


@pytest.mark.parametrize("energy", [6.0, 20.0, 60.0])
def test_rmf_matches_real_det3(real_det3_rmf, energy: float) -> None:
    real = rmf_line_figures(real_det3_rmf, energy)
    ours = rmf_line_figures(builtin.gaussian_rmf("A", 3), energy)
    assert ours["energy"] == pytest.approx(real["energy"])
    assert abs(ours["centroid"] - real["centroid"]) < 0.05
    assert ours["fwhm"] == pytest.approx(real["fwhm"], rel=0.15)


@pytest.mark.parametrize("mod", ["A", "B"])
def test_onaxis_area_matches_caldb_v004(mod: str) -> None:
    a = area_agreement(builtin.onaxis_arf(mod), read_arf(shared_path("nuskybgd-auxil", f"fcxb{mod}.arf")))
    assert a["rms_rel"] <= 0.10
    assert a["rms_over_mean"] <= 0.10


def test_be_matches_auxil_be_arf() -> None:
    b = be_agreement(builtin.be_transmission("A"), read_arf(shared_path("nuskybgd-auxil", "be.arf")))
    assert b["rms_abs"] < 0.005 and b["max_abs"] < 0.02 and b["max_abs_low"] < 0.05


@pytest.mark.parametrize("mod", ["A", "B"])
def test_aperture_matches_raytrace(mod: str) -> None:
    ap = aperture_agreement(builtin.aperture_solid_angle(mod),
                            shared_path("nuskybgd-auxil", f"det{mod}_det1.img.gz"))
    assert ap["corr"] >= 0.95
    assert ap["rms_norm"] <= 0.10
    assert ap["mean_ratio"] == pytest.approx(1.0, abs=0.1)
