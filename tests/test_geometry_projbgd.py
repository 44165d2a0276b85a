"""projbgd: equality with the plain per-bin algorithm, placement at several rolls, areas, aperture."""

from __future__ import annotations

import gzip
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.geometry.aspect import AspectHistogram
from nuskybgd.geometry.projbgd import aperture_counts_image, bilinear_shift_periodic, project_maps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from projbgd_reference import projbgd_direct  # noqa: E402


def _chipmap(rng: np.random.Generator) -> np.ndarray:
    cm = np.zeros((360, 360))
    cm[181:346, 181:346] = 1
    cm[182:347, 18:182] = 2
    cm[17:183, 15:182] = 3
    cm[16:181, 180:346] = 4
    cm[rng.random((360, 360)) < 0.01] = 0
    return cm


def _doc_matrix(pa_pnt: float) -> np.ndarray:
    """M = [[-c, -s], [-s, c]] with θ = PA_PNT + 1° (geometry-and-calibration.md §6.2)."""
    t = math.radians(pa_pnt + 1.0)
    return np.array([[-math.cos(t), -math.sin(t)], [-math.sin(t), math.cos(t)]])


@pytest.mark.parametrize("pa", [0.0, 37.0, 123.4, 250.0])
def test_fast_equals_plain_per_bin_algorithm(pa):
    rng = np.random.default_rng(int(pa * 10) + 1)
    cm = _chipmap(rng)
    aperture = 0.01 + rng.random((360, 360)) * 0.04
    h = rng.random((5, 6)) * (rng.random((5, 6)) < 0.7) * 100
    h[2, 3] = 150.0  # unique peak
    hist = AspectHistogram(h, 480, 470, float(h.sum()))
    ours = project_maps(cm, [1, 2, 3, 4], aperture, hist, pa)
    ref_ap, ref_det = projbgd_direct(cm, [1, 2, 3, 4], aperture, h, 480, 470, pa)
    assert np.abs(ours.bgdap - ref_ap).max() <= 1e-9 * np.abs(ref_ap).max()
    for k in (1, 2, 3, 4):
        assert np.abs(ours.det[k] - ref_det[k]).max() <= 1e-9 * np.abs(ref_det[k]).max()
        # exact zeros stay zero: nothing spurious outside the footprint
        assert np.all(ours.det[k][ref_det[k] == 0] == 0)


@pytest.mark.parametrize("pa", [0.0, 37.0, 123.4, 250.0])
def test_block_lands_where_the_reference_predicts(pa):
    # a 21x15 block of one detector value, single-bin histogram (doc §6.3 check)
    cm = np.zeros((360, 360))
    u0, v0 = 100, 240  # DET1 idx of the block's lower-left corner
    cm[v0 : v0 + 15, u0 : u0 + 21] = 3
    a, b = 512, 487
    hist = AspectHistogram(np.array([[1000.0]]), a, b, 1000.0)
    res = project_maps(cm, [3], None, hist, pa)
    img = res.det[3]
    yy, xx = np.indices(img.shape)
    w = img.sum()
    centroid = np.array([(xx * img).sum() / w, (yy * img).sum() / w])
    block_centre = np.array([u0 + 10.0, v0 + 7.0])
    predicted = np.array([a, b]) + _doc_matrix(pa) @ (block_centre - np.array([347.3, 350.8]))
    # nearest-neighbour aliasing: ~0.1 pixel at general rolls (the doc's figure); when the
    # grids are almost aligned (PA 0 → 1°) whole rows/columns are duplicated or skipped, which
    # moves a block centroid by up to half a pixel
    tol = 0.5 if abs(math.sin(2 * math.radians(pa + 1.0))) < 0.1 else 0.12
    assert np.hypot(*(centroid - predicted)) < tol
    # the projected area is the block area (sum of the det image, single pointing)
    assert abs(w - 21 * 15) <= 0.02 * 21 * 15


def _doc_single_pixel_image(u: int, v: int, a: int, b: int, pa_pnt: float, half: int = 12) -> tuple:
    """Expected det image of one DET1 pixel, single aspect bin (a, b), from §6.2–§6.3 alone.

    §6.2: sky idx (i, j) shows DET1 idx u' = 350 + round(−cΔi − sΔj), v' = 350 + round(−sΔi + cΔj)
    (half-to-even); §6.3: the map is moved by −n, n = R(θ)(2.7, 0.8), bilinearly.  Returns the
    (rows, cols) window and the expected values on it.
    """
    t = math.radians(pa_pnt + 1.0)
    c, s = math.cos(t), math.sin(t)
    m = _doc_matrix(pa_pnt)
    ci, cj = np.array([a, b]) + m @ np.array([u - 350.0, v - 350.0])  # rough position, for the window
    i0, j0 = int(round(ci)) - half, int(round(cj)) - half
    jj, ii = np.mgrid[j0 : j0 + 2 * half + 1, i0 : i0 + 2 * half + 1]
    di, dj = ii - a, jj - b
    seen = (350 + np.round(-c * di - s * dj) == u) & (350 + np.round(-s * di + c * dj) == v)
    nx, ny = 2.7 * c - 0.8 * s, 2.7 * s + 0.8 * c
    expect = np.zeros(ii.shape)
    for si, sj in zip(ii[seen], jj[seen], strict=True):  # content at (si, sj) moves to (si, sj) − n
        expect += np.clip(1 - np.abs(ii + nx - si), 0, None) * np.clip(1 - np.abs(jj + ny - sj), 0, None)
    return (slice(j0, j0 + 2 * half + 1), slice(i0, i0 + 2 * half + 1)), expect, int(seen.sum())


@pytest.mark.parametrize("pa", [0.0, 5.9269, 37.0, 123.4, 200.0, 250.0, -100.0])
def test_single_pixel_lands_where_the_document_predicts(pa):
    # one DET1 pixel per detector quadrant, each alone in the chip map, single-bin histogram
    a, b = 512, 487
    hist = AspectHistogram(np.array([[7.0]]), a, b, 7.0)
    seen_total = 0
    for u, v in [(60, 300), (200, 100), (340, 20), (17, 190), (347, 351)]:
        cm = np.zeros((360, 360))
        cm[v, u] = 2
        img = project_maps(cm, [2], None, hist, pa).det[2]
        window, expect, n_seen = _doc_single_pixel_image(u, v, a, b, pa)
        # exactly the document's nearest-neighbour lookup and bilinear nudge, nothing elsewhere
        assert np.allclose(img[window], expect, atol=1e-12, rtol=0)
        assert img.sum() == pytest.approx(expect.sum(), abs=1e-12)
        seen_total += n_seen
        if n_seen:
            # and on the continuous effective mapping of §6.3: (a, b) + M·((u, v) − (347.3, 350.8)),
            # up to nearest-neighbour rounding (≤ ½ pixel per axis)
            jj, ii = np.nonzero(img)
            w = img[jj, ii]
            centroid = np.array([(ii * w).sum(), (jj * w).sum()]) / w.sum()
            predicted = np.array([a, b]) + _doc_matrix(pa) @ (np.array([u, v]) - np.array([347.3, 350.8]))
            assert np.hypot(*(centroid - predicted)) < 0.75
    assert seen_total >= 4  # most DET1 pixels are seen by a sky pixel (1:1 scale)


@pytest.mark.parametrize("pa", [5.9269, 200.0])
def test_single_pixel_and_frames_agree(pa):
    from nuskybgd.geometry.frames import det1_index_to_sky_index

    cm = np.zeros((360, 360))
    u, v = 60, 300
    cm[v, u] = 2
    a, b = 430, 561
    hist = AspectHistogram(np.array([[10.0]]), a, b, 10.0)
    img = project_maps(cm, [2], None, hist, pa).det[2]
    yy, xx = np.nonzero(img)
    cx = (xx * img[yy, xx]).sum() / img.sum()
    cy = (yy * img[yy, xx]).sum() / img.sum()
    # the track value whose floor is the bin (a, b), projbgd convention
    px, py = det1_index_to_sky_index(u, v, a + 0.4, b + 0.9, pa, convention="projbgd")
    assert np.hypot(cx - px, cy - py) < 0.75  # one nearest-neighbour pixel, bilinearly shared
    # a DET1 pixel is seen by one or two sky pixels (nearest neighbour at 1:1 scale)
    assert round(img.sum()) in (1, 2) and abs(img.sum() - round(img.sum())) < 1e-12


@pytest.mark.parametrize(("pa", "tol"), [(6.93, 3e-4), (77.0, 3e-4), (181.5, 3e-4), (44.0, 5e-3)])
def test_det_image_sums_match_active_area(pa, tol):
    rng = np.random.default_rng(5)
    cm = _chipmap(rng)
    yy, xx = np.mgrid[0:9, 0:11]
    h = np.exp(-((xx - 5) ** 2 + (yy - 4) ** 2) / 8.0) * 50
    hist = AspectHistogram(h, 495, 505, float(h.sum()))
    res = project_maps(cm, [1, 2, 3, 4], None, hist, pa)
    for k in (1, 2, 3, 4):
        area = (cm == k).sum()
        # the doc's example: 26,722 vs 26,719 — nearest-neighbour aliasing is ~1e-4 of the area;
        # it is worst when the grids are 45° apart (θ = PA + 1° = 45°: up to 0.4 % with 1 %
        # scattered bad pixels; the plain per-bin algorithm gives the same sums)
        assert abs(res.det[k].sum() - area) / area < tol
        assert res.det[k].max() <= 1 + 1e-12 and res.det[k].min() >= 0


def test_det_image_sums_reproduce_the_documented_example():
    """§6.4: full FPMA chip map of dummy_evt.evt (nuskybgd-py's row rule), PA_PNT 5.9269°:
    Σ det = 26,722 / 26,499 / 27,111 / 26,627 for 26,719 / 26,498 / 27,113 / 26,630 active pixels.

    The sums depend only on the chip map and the roll (integer shifts and the periodic bilinear
    nudge conserve them), so a one-bin histogram reproduces the documented figures exactly.
    """
    from nuskybgd.calib.pixpos import pixel_map_from_pixpos

    pm = pixel_map_from_pixpos(shared_path("caldb-pieces", "nuApixpos20100101v007.fits.gz"))
    cm = np.where(pm.det >= 0, pm.det + 1, 0)
    with fits.open(shared_path("real", "dummy_evt.evt")) as hdul:
        for hdu in hdul[1:]:
            if hdu.name != "BADPIX":
                continue
            d = int(str(hdu.header["DETNAM"])[3])
            tobs = hdu.header["TSTOP"] - hdu.header["TSTART"]
            for row in hdu.data:  # nuskybgd-py: per row, > 80 % of the observation
                if row["TIME_STOP"] - row["TIME"] > 0.8 * tobs:
                    cm[(pm.det == d) & (pm.rawx == int(row["RAWX"])) & (pm.rawy == int(row["RAWY"]))] = 0
    assert [int((cm == k).sum()) for k in (1, 2, 3, 4)] == [26719, 26498, 27113, 26630]
    hist = AspectHistogram(np.array([[0.0, 3.0], [5.0, 2.0]]), 497, 503, 10.0)
    res = project_maps(cm, [1, 2, 3, 4], None, hist, 5.9269)
    sums = [res.det[k].sum() for k in (1, 2, 3, 4)]
    assert sums == pytest.approx([26722, 26499, 27111, 26627], abs=1e-6)


def test_bilinear_shift_is_periodic_and_matches_scipy_grid_wrap():
    import scipy.ndimage

    rng = np.random.default_rng(0)
    img = rng.random((40, 50))
    for dy, dx in [(-2.5, 3.3), (0.0, -1.0), (7.9, 0.2)]:
        ours = bilinear_shift_periodic(img, dy, dx)
        ref = scipy.ndimage.shift(img, (dy, dx), order=1, prefilter=False, mode="grid-wrap")
        assert np.allclose(ours, ref, atol=1e-12)
        assert ours.sum() == pytest.approx(img.sum())


def test_aperture_image_from_real_auxil_matches_reference_figures():
    path = shared_path("nuskybgd-auxil", "detA_det1.img.gz")
    with gzip.open(path) as fh, fits.open(fh) as hdul:
        raw = np.asarray(hdul[0].data, dtype=float)
    a = aperture_counts_image(raw * 3.1865e-5, "A", offset=108)
    # figures of geometry-and-calibration.md §6.1 (float32 path): [0.00404, 0.0516], mean 0.0272
    assert a.shape == (360, 360)
    assert a.min() == pytest.approx(0.00404, abs=2e-5)
    assert a.max() == pytest.approx(0.0516, abs=2e-4)
    assert a.mean() == pytest.approx(0.0272, abs=2e-4)
    # explicit form: A(u,v) = 1.4919266e-7·Raw(u+136.108, v+91.466) + 0.003465 (bilinear)
    u, v = 200, 150
    x, y = u + 108 + 3.4 / 0.12096, v + 108 - 2.0 / 0.12096
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    r = ((1 - fx) * (1 - fy) * raw[y0, x0] + fx * (1 - fy) * raw[y0, x0 + 1]
         + (1 - fx) * fy * raw[y0 + 1, x0] + fx * fy * raw[y0 + 1, x0 + 1])
    assert a[v, u] == pytest.approx(1.4919266e-7 * r + 0.003465, rel=1e-6)


def test_wrong_chipmap_shape_is_refused():
    hist = AspectHistogram(np.ones((1, 1)), 500, 500, 1.0)
    with pytest.raises(ValueError, match="shape"):
        project_maps(np.zeros((300, 300)), [1], None, hist, 0.0)
