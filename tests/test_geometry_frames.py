"""DET1 ↔ sky mapping: conventions, inverses, and the handedness seen in real events."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.geometry import frames


@pytest.mark.parametrize("convention", ["physical", "projbgd"])
@pytest.mark.parametrize("pa", [0.0, 37.0, 123.4, 250.0, -100.0])
def test_round_trip_on_arrays(convention, pa):
    rng = np.random.default_rng(1)
    u = rng.uniform(1, 360, 1000)
    v = rng.uniform(1, 360, 1000)
    rx = 480 + rng.uniform(-5, 5, 1000)
    ry = 510 + rng.uniform(-5, 5, 1000)
    x, y = frames.det1_to_sky(u, v, rx, ry, pa, convention=convention)
    u2, v2 = frames.sky_to_det1(x, y, rx, ry, pa, convention=convention)
    assert np.allclose(u2, u, atol=1e-9) and np.allclose(v2, v, atol=1e-9)
    # distances are preserved (sky pixel = DET1 sub-pixel, no scale factor)
    d_det = np.hypot(u[1:] - u[:-1], v[1:] - v[:-1])
    d_sky = np.hypot((x[1:] - rx[1:]) - (x[:-1] - rx[:-1]), (y[1:] - ry[1:]) - (y[:-1] - ry[:-1]))
    if convention == "physical":
        assert np.allclose(d_det, d_sky, atol=1e-9)


def test_physical_reference_pixel_sits_on_the_track():
    x, y = frames.det1_to_sky(350, 350, 523.7, 488.2, 12.0)
    assert (float(x), float(y)) == pytest.approx((523.7, 488.2))


@pytest.mark.parametrize("pa", [0.0, 37.0, 250.0])
def test_projbgd_convention_matches_the_documented_effective_mapping(pa):
    # geometry-and-calibration.md §6.3: DET1 idx q lands at sky idx (a, b) + M·(q − (347.3, 350.8)),
    # (a, b) = (⌊X_DET1⌋, ⌊Y_DET1⌋), M = [[−c, −s], [−s, c]], θ = PA_PNT + 1°
    t = math.radians(pa + 1.0)
    m = np.array([[-math.cos(t), -math.sin(t)], [-math.sin(t), math.cos(t)]])
    q = np.array([120.0, 40.0])
    rx, ry = 611.83, 402.27
    expect = np.array([611.0, 402.0]) + m @ (q - np.array([347.3, 350.8]))
    got = frames.det1_index_to_sky_index(q[0], q[1], rx, ry, pa, convention="projbgd")
    assert np.allclose(got, expect, atol=1e-9)
    # the histogram-peak sky bin shows DET1 idx (347.3, 350.8)
    back = frames.sky_index_to_det1_index(611.0, 402.0, rx, ry, pa, convention="projbgd")
    assert np.allclose(back, (347.3, 350.8), atol=1e-9)


def test_nudge_is_fixed_in_det1():
    # n = R(θ)(2.7, 0.8) in the sky frame corresponds to M·n = (−2.7, +0.8) in DET1 at any roll
    for pa in (0.0, 45.0, 190.0):
        nx, ny = frames.nudge(pa)
        m = frames.det1_to_sky_matrix(pa + 1.0)
        assert np.allclose(m @ np.array([nx, ny]), (-2.7, 0.8), atol=1e-12)


def test_matrix_form_matches_real_events():
    """Fit event (X, Y) on (DET1X, DET1Y) in a real file: the matrix has the form of M (mirror + rotation)."""
    path = shared_path("real", "nu90410111001A06_cl_sunpos.evt")
    with fits.open(path) as hdul:
        e = hdul["EVENTS"].data
        ok = (e["DET1X"] > 0) & (e["X"] > 0)
        a = np.c_[e["DET1X"][ok], e["DET1Y"][ok], np.ones(ok.sum())].astype(float)
        cx = np.linalg.lstsq(a, e["X"][ok].astype(float), rcond=None)[0]
        cy = np.linalg.lstsq(a, e["Y"][ok].astype(float), rcond=None)[0]
    fit = np.array([[cx[0], cx[1]], [cy[0], cy[1]]])
    assert np.linalg.det(fit) == pytest.approx(-1.0, abs=0.01)
    roll = math.degrees(math.atan2(-fit[0, 1], -fit[0, 0]))
    assert np.allclose(fit, frames.det1_to_sky_matrix(roll), atol=0.01)


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention"):
        frames.det1_to_sky(1, 1, 0, 0, 0, convention="sky")
