"""Aspect histogram: where DET1 pixel (350, 350) pointed on the sky, weighted by time.

Pure functions on arrays (the file is written by :mod:`nuskybgd.geometry.aspect_file`).
Conventions follow geometry-and-calibration.md §5:

* a sample at time ``TIME_r`` is kept when it lies in the **union** of the GTIs, each interval
  taken as ``[START, STOP)``; the last sample is never used (it has no successor);
* its weight is ``dt_r = TIME_{r+1} − TIME_r`` [s] (the time to the next sample, not clipped at
  the GTI edge, no dead-time correction) — ``clip_to_gti=True`` clips it at the end of its GTI;
* bins are 1 sky pixel: bin index ``(⌊X_DET1⌋, ⌊Y_DET1⌋)`` used directly as 0-based (column,
  row) of the 1000×1000 sky grid (on average ½ pixel off the image grid; projbgd's nudge absorbs
  it);
* the histogram is cropped to the occupied box found with the **true** minimum and maximum
  (nuskybgd-py's running min/max could drop the first sample's row/column, §9.5), and the crop
  offsets are ``X_OFF``/``Y_OFF`` (0-based bin of the crop's first column/row).

Arrays are indexed ``[y, x]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nuskybgd.constants import SKY_SIZE

__all__ = ["AspectHistogram", "gti_membership", "merge_gtis", "aspect_histogram"]


@dataclass
class AspectHistogram:
    """A cropped aspect histogram.

    Attributes
    ----------
    image : ndarray, float64, shape (ny, nx)
        Seconds spent with ``⌊X_DET1⌋ = x + x_off`` and ``⌊Y_DET1⌋ = y + y_off`` at ``image[y, x]``.
    x_off, y_off : int
        0-based sky bin of column/row 0 (FITS keywords ``X_OFF``/``Y_OFF``).
    exposure : float
        Σ image [s] (keyword ``EXPOSURE``).
    n_samples : int
        Samples kept (inside the GTIs and on the sky grid).
    dropped_exposure : float
        Weight [s] of GTI samples that fell off the sky grid and were left out.
    module : str or None
        ``"A"``/``"B"`` when known (from ``INSTRUME``).
    """

    image: np.ndarray
    x_off: int
    y_off: int
    exposure: float
    n_samples: int = 0
    dropped_exposure: float = 0.0
    module: str | None = None
    meta: dict = field(default_factory=dict)

    def peak(self) -> tuple[int, int]:
        """Absolute 0-based sky bin (a_p, b_p) of the largest bin (first in row-major order on ties)."""
        k = int(np.argmax(self.image))
        row, col = divmod(k, self.image.shape[1])
        return col + self.x_off, row + self.y_off

    def nonzero_bins(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, weight) of every bin with weight > 0: absolute 0-based sky bins and seconds."""
        rows, cols = np.nonzero(self.image > 0)
        return cols + self.x_off, rows + self.y_off, self.image[rows, cols]


def merge_gtis(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of half-open intervals ``[start, stop)`` as sorted, disjoint intervals.

    Empty or reversed intervals (stop ≤ start) are dropped.  Touching intervals are merged.
    """
    start = np.asarray(start, dtype=float).ravel()
    stop = np.asarray(stop, dtype=float).ravel()
    ok = stop > start
    start, stop = start[ok], stop[ok]
    if start.size == 0:
        return start, stop
    order = np.argsort(start, kind="mergesort")
    start, stop = start[order], stop[order]
    run_stop = np.maximum.accumulate(stop)
    # a new merged interval begins where the start lies beyond every earlier stop
    new = np.ones(start.size, dtype=bool)
    new[1:] = start[1:] > run_stop[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, start.size - 1]
    return start[first], run_stop[last]


def gti_membership(times: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Boolean mask: ``times`` inside the union of the GTIs ``[START, STOP)`` (any order, overlaps allowed)."""
    s, e = merge_gtis(start, stop)
    t = np.asarray(times, dtype=float)
    if s.size == 0:
        return np.zeros(t.shape, dtype=bool)
    k = np.searchsorted(s, t, side="right") - 1  # last interval starting at or before t
    inside = k >= 0
    kk = np.clip(k, 0, None)
    return inside & (t < e[kk])


def aspect_histogram(
    time: np.ndarray,
    x_det1: np.ndarray,
    y_det1: np.ndarray,
    gti_start: np.ndarray,
    gti_stop: np.ndarray,
    *,
    clip_to_gti: bool = False,
    grid_size: int = SKY_SIZE,
) -> AspectHistogram:
    """Time-weighted 2-D histogram of the sky position of DET1 pixel (350, 350).

    Parameters
    ----------
    time : array, s
        Sample times (MET, any order; sorted here with a stable sort).
    x_det1, y_det1 : array, sky pixels
        Sky X/Y (1-based physical) of the DET1 reference pixel at each sample.
    gti_start, gti_stop : array, s
        Good time intervals ``[START, STOP)``.
    clip_to_gti : bool
        Clip each weight at the end of the GTI holding its sample (default False: the
        nuskybgd-py weights, the full time to the next sample).
    grid_size : int
        Size of the sky grid; samples whose bin lies outside ``0..grid_size−1`` are left out
        (their weight is reported in ``dropped_exposure``).

    Returns
    -------
    AspectHistogram

    Raises
    ------
    ValueError
        No sample with a successor lies inside the GTIs on the grid (empty histogram).
    """
    t = np.asarray(time, dtype=float).ravel()
    x = np.asarray(x_det1, dtype=float).ravel()
    y = np.asarray(y_det1, dtype=float).ravel()
    if not (t.size == x.size == y.size):
        raise ValueError("TIME, X and Y arrays differ in length")
    order = np.argsort(t, kind="mergesort")
    t, x, y = t[order], x[order], y[order]
    if t.size < 2:
        raise ValueError("fewer than two aspect samples")
    dt = np.diff(t)
    t0, x0, y0 = t[:-1], x[:-1], y[:-1]
    s, e = merge_gtis(gti_start, gti_stop)
    if s.size == 0:
        raise ValueError("the GTI list is empty")
    k = np.searchsorted(s, t0, side="right") - 1
    kk = np.clip(k, 0, None)
    keep = (k >= 0) & (t0 < e[kk]) & np.isfinite(x0) & np.isfinite(y0)
    if clip_to_gti:
        dt = np.minimum(dt, e[kk] - t0)
    bx = np.floor(x0[keep])
    by = np.floor(y0[keep])
    w = dt[keep]
    on = (bx >= 0) & (bx < grid_size) & (by >= 0) & (by < grid_size)
    dropped = float(w[~on].sum())
    bx, by, w = bx[on].astype(np.int64), by[on].astype(np.int64), w[on]
    if w.size == 0:
        raise ValueError("no aspect sample lies inside the GTIs on the sky grid")
    xmin, xmax = int(bx.min()), int(bx.max())
    ymin, ymax = int(by.min()), int(by.max())
    nx, ny = xmax - xmin + 1, ymax - ymin + 1
    flat = (by - ymin) * nx + (bx - xmin)
    img = np.bincount(flat, weights=w, minlength=nx * ny).reshape(ny, nx)
    return AspectHistogram(
        image=img,
        x_off=xmin,
        y_off=ymin,
        exposure=float(img.sum()),
        n_samples=int(w.size),
        dropped_exposure=dropped,
    )
