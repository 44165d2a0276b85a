"""The PSF model of the calibration layer: normalisation, half-power diameter, mask fractions.

Expected values are computed here independently: numerical integration of the surface
brightness, photon draws, and pixel-centre circles on a sky grid.
"""

from __future__ import annotations

import numpy as np
import pytest

from nuskybgd.calib.psf import (
    NUSTAR_PSF,
    KingPSF,
    encircled_energy,
    psf_mask_fraction,
    psf_surface_brightness,
)

PIX_ARCMIN = 2.45810736 / 60.0


def _numeric_eef(r_arcmin: float, n: int = 200_000) -> float:
    """∫ 2πr S(r) dr from 0 to r by the trapezoid rule on a fine grid (log-spaced near 0)."""
    r = np.concatenate([[0.0], np.geomspace(1e-5, r_arcmin, n)])
    f = 2.0 * np.pi * r * psf_surface_brightness(r)
    return float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(r)))


def test_surface_brightness_integrates_to_one_and_matches_the_eef():
    assert _numeric_eef(30.0) == pytest.approx(1.0, abs=1e-6)
    assert float(encircled_energy(np.inf)) == 1.0
    assert float(encircled_energy(0.0)) == 0.0
    for r in (0.1, 0.5, 1.0, 3.0, 9.9):
        assert float(encircled_energy(r)) == pytest.approx(_numeric_eef(r), rel=1e-5)
    # nothing beyond the 10′ truncation
    assert float(psf_surface_brightness(10.01)) == 0.0
    assert float(encircled_energy(12.0)) == 1.0


def test_half_power_diameter_is_58_arcsec():
    # radius where the numerically integrated profile reaches one half, by bisection
    lo, hi = 0.01, 5.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if _numeric_eef(mid, 20_000) > 0.5 else (mid, hi)
    hpd_arcsec = 2 * 60.0 * lo
    assert hpd_arcsec == pytest.approx(58.0, rel=0.1)
    assert hpd_arcsec == pytest.approx(58.0, rel=1e-3)  # the model's own definition


def test_drawn_photons_follow_the_encircled_energy():
    rng = np.random.default_rng(5)
    dx, dy = NUSTAR_PSF.draw_offsets(rng, 200_000)
    r = np.hypot(dx, dy) / 60.0
    assert r.max() <= 10.0
    for rr in (0.2, 0.4833, 1.0, 3.0):
        p = float(encircled_energy(rr))
        frac = float(np.mean(r <= rr))
        assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / r.size)


@pytest.mark.parametrize("r_arcmin", [0.5, 1.0, 2.0, 4.0])
def test_mask_fraction_of_a_circle_is_the_eef(r_arcmin):
    x0, y0 = 500.3, 499.8  # 1-based sky position, off a pixel centre
    j, i = np.mgrid[0:1000, 0:1000]
    rpix = np.hypot(i + 1 - x0, j + 1 - y0)
    r_px = r_arcmin / PIX_ARCMIN
    mask = rpix <= r_px
    got = psf_mask_fraction(mask, x0, y0)
    # pixelisation: at most the boundary ring of pixels (2πr pixels) is wrongly in or out
    bound = 2 * np.pi * r_px * float(NUSTAR_PSF.per_sky_pixel(r_arcmin))
    want = float(encircled_energy(r_arcmin))
    assert abs(got - want) < bound
    assert got == pytest.approx(want, rel=0.01)


def test_mask_fraction_of_the_whole_grid_and_of_nothing():
    full = np.ones((1000, 1000), bool)
    assert psf_mask_fraction(full, 500.5, 500.5) == pytest.approx(1.0, abs=2e-4)
    assert psf_mask_fraction(np.zeros((1000, 1000), bool), 500.5, 500.5) == 0.0
    # source far from the mask: nothing beyond 10′ (244 pixels)
    far = np.zeros((1000, 1000), bool)
    far[:, 900:] = True
    assert psf_mask_fraction(far, 500.5, 500.5) == 0.0
    # a half plane through the source holds half the counts
    half = np.zeros((1000, 1000), bool)
    half[:, 500:] = True  # sky X ≥ 501
    assert psf_mask_fraction(half, 500.5, 500.5) == pytest.approx(0.5, abs=2e-3)


def test_per_pixel_value_is_surface_brightness_times_pixel_area():
    r = np.array([0.0, 0.3, 2.0])
    assert np.allclose(NUSTAR_PSF.per_sky_pixel(r), psf_surface_brightness(r) * PIX_ARCMIN ** 2)


def test_other_profiles_keep_their_half_power_diameter():
    psf = KingPSF(hpd_arcsec=70.0, index=1.6, rmax_arcsec=500.0)
    assert float(psf.encircled_energy(35.0 / 60.0)) == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(ValueError):
        KingPSF(index=1.0)
