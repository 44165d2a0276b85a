"""Plain reference implementation of the projbgd algorithm (geometry-and-calibration.md §6).

Written directly from the description, deliberately without vectorisation tricks: a per-pixel
sky→DET1 lookup loop, then one bilinear shifted copy of every reference map per aspect-histogram
bin (``scipy.ndimage.shift``, order 1, periodic).  It is the yardstick for
``benchmarks/projbgd.py`` and for the equality test of the fast implementation.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.ndimage


def projbgd_direct(
    chipmap: np.ndarray,
    dets: list[int],
    aperture: np.ndarray | None,
    hist: np.ndarray,
    x_off: int,
    y_off: int,
    pa_pnt: float,
    shape: tuple[int, int] = (1000, 1000),
    mode: str = "grid-wrap",
) -> tuple[np.ndarray | None, dict[int, np.ndarray]]:
    """Return (bgdap, {k: det image}) computed the slow, literal way."""
    ny, nx = shape
    total = float(hist.sum())
    row, col = np.unravel_index(int(np.argmax(hist)), hist.shape)
    a_p, b_p = int(col) + x_off, int(row) + y_off
    theta = math.radians(pa_pnt + 1.0)
    c, s = math.cos(theta), math.sin(theta)

    ref_det = {k: np.zeros(shape) for k in dets}
    ref_ap = np.zeros(shape) if aperture is not None else None
    detset = set(dets)
    for j in range(ny):
        dj = float(j - b_p)
        for i in range(nx):
            di = float(i - a_p)
            u = 350 + round(-c * di - s * dj)
            v = 350 + round(-s * di + c * dj)
            if 0 <= u < 360 and 0 <= v < 360:
                val = int(chipmap[v, u])
                if val in detset:
                    ref_det[val][j, i] = 1.0 / total
                    if ref_ap is not None:
                        ref_ap[j, i] = aperture[v, u] / total

    nxg = 2.7 * c - 0.8 * s
    nyg = 2.7 * s + 0.8 * c
    out_det = {k: np.zeros(shape) for k in dets}
    out_ap = np.zeros(shape) if ref_ap is not None else None
    for y in range(hist.shape[0]):
        for x in range(hist.shape[1]):
            h = hist[y, x]
            if h <= 0:
                continue
            a, b = x + x_off, y + y_off
            d = (b - b_p - nyg, a - a_p - nxg)
            for k in dets:
                out_det[k] += h * scipy.ndimage.shift(ref_det[k], d, order=1, prefilter=False, mode=mode)
            if out_ap is not None:
                out_ap += h * scipy.ndimage.shift(ref_ap, d, order=1, prefilter=False, mode=mode)
    return out_ap, out_det
