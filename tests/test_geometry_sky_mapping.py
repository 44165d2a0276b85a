"""The DET1 → sky mapping measured from events (:mod:`nuskybgd.geometry.sky_mapping`) and the
mappings projbgd can lay its maps with (:class:`nuskybgd.geometry.projbgd.SkyMapping`)."""

from __future__ import annotations

import numpy as np
import pytest

from nuskybgd.geometry.aspect import AspectHistogram
from nuskybgd.geometry.frames import det1_to_sky
from nuskybgd.geometry.projbgd import SkyMapping, project_maps
from nuskybgd.geometry.sky_mapping import fit_sky_mapping


def _pairs(convention: str, pa: float, n: int = 20000, seed: int = 3):
    """Events placed by :func:`det1_to_sky` along a jittering track, quantised like event files."""
    rng = np.random.default_rng(seed)
    ux, uy = rng.uniform(20, 340, n), rng.uniform(20, 340, n)
    rx = 500.3 + 4.0 * np.sin(np.linspace(0, 20, n)) + rng.normal(0, 0.5, n)
    ry = 498.8 + 3.0 * np.cos(np.linspace(0, 13, n)) + rng.normal(0, 0.5, n)
    x, y = det1_to_sky(ux, uy, rx, ry, pa, convention=convention)
    return np.rint(ux), np.rint(uy), np.rint(x), np.rint(y), rx, ry


@pytest.mark.parametrize("pa", [0.0, 37.0, 123.4, 250.0])
def test_fit_recovers_the_physical_mapping(pa):
    fit = fit_sky_mapping(*_pairs("physical", pa))
    assert (fit.roll_deg - pa + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=3e-3)
    assert fit.det1_ref == pytest.approx((350.0, 350.0), abs=0.02)
    assert 0.3 < fit.rms < 0.6                      # two pixel quantisations, nothing else
    assert fit.scale == pytest.approx(1.0, abs=2e-3)
    assert fit.roll_err_deg < 0.01 and max(fit.det1_ref_err) < 0.01


def test_fit_recovers_the_original_roll_on_events_placed_the_projbgd_way():
    # projbgd's convention: roll PA_PNT + 1°, DET1 (348.3, 351.8) at ⌊track⌋ + 1
    fit = fit_sky_mapping(*_pairs("projbgd", 37.0))
    assert fit.roll_deg == pytest.approx(38.0, abs=0.01)   # ⌊track⌋ adds noise the model lacks


def test_fit_refuses_pairs_that_are_not_one_rotation():
    dx, dy, x, y, rx, ry = _pairs("physical", 37.0)
    with pytest.raises(ValueError, match="not related by one rotation"):
        fit_sky_mapping(dx, dy, 500 + (x - 500) / 2, 500 + (y - 500) / 2, rx, ry)  # X/Y binned by 2
    with pytest.raises(ValueError, match="at least 100"):
        fit_sky_mapping(dx[:50], dy[:50], x[:50], y[:50], rx[:50], ry[:50])


def test_a_general_mapping_with_the_original_constants_reproduces_the_original_images():
    # project_maps (content_shift of the mapping) against the original's own steps, built here
    # from the parts: lookup at PA + 1°, the shift by −nudge, the aspect convolution; on a
    # 4-detector chip map and a spread aspect histogram
    from nuskybgd.geometry.frames import nudge
    from nuskybgd.geometry.projbgd import (
        aspect_kernel_convolve,
        bilinear_shift_periodic,
        reference_maps,
    )

    cm = np.zeros((360, 360), dtype=int)
    cm[10:175, 10:175], cm[10:175, 185:350], cm[185:350, 10:175], cm[185:350, 185:350] = 1, 2, 3, 4
    aperture = np.add.outer(np.linspace(0.01, 0.05, 360), np.linspace(0, 0.02, 360))
    rng = np.random.default_rng(1)
    hist_img = rng.uniform(0, 1, (7, 9)) ** 4
    hist = AspectHistogram(hist_img, 480, 490, float(hist_img.sum()))
    for pa in (0.0, 37.0, 250.0):
        peak = hist.peak()
        ref_ap, ref_det = reference_maps(cm, [1, 2, 3, 4], aperture, peak, pa)
        nx_, ny_ = nudge(pa)
        maps = [bilinear_shift_periodic(m / hist.exposure, -ny_, -nx_)
                for m in [ref_det[k] for k in (1, 2, 3, 4)] + [ref_ap]]
        a, b, w = hist.nonzero_bins()
        orig = aspect_kernel_convolve(maps, b - peak[1], a - peak[0], w)
        o = SkyMapping.original(pa)
        general = project_maps(cm, [1, 2, 3, 4], aperture, hist, pa,
                               mapping=SkyMapping("events", o.roll_deg, o.det1_ref, o.bin_offset))
        assert np.max(np.abs(general.bgdap - orig[4])) < 1e-12
        for n, k in enumerate((1, 2, 3, 4)):
            assert np.max(np.abs(general.det[k] - orig[n])) < 1e-12


def test_the_nominal_mapping_places_a_detector_where_the_physical_convention_does():
    # one bright DET1 block, a one-bin histogram: its sky centroid lands where det1_to_sky puts it
    cm = np.zeros((360, 360), dtype=int)
    cm[200:221, 100:115] = 1                        # DET1 idx y 200..220, x 100..114
    hist = AspectHistogram(np.ones((1, 1)), 512, 487, 1.0)
    pa = 37.0
    img = project_maps(cm, [1], None, hist, pa, mapping=SkyMapping.nominal(pa)).det[1]
    yy, xx = np.indices(img.shape)
    cx, cy = (img * xx).sum() / img.sum(), (img * yy).sum() / img.sum()
    # the bin (512, 487) holds track points ⌊X⌋ = 512 (FITS X in [512, 513), mean 512.5)
    ex, ey = det1_to_sky(108.0, 211.0, 512.5, 487.5, pa, convention="physical")   # block centre, FITS
    assert (cx, cy) == pytest.approx((ex - 1.0, ey - 1.0), abs=0.15)
