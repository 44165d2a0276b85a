"""Benchmark: counts images of 10⁶ events and aspect histograms of 10⁶ samples.

Each is compared with a plain reference written here (a Python loop over events / samples, the
aspect one being the GTI sweep of geometry-and-calibration.md §5 with true min/max); the outputs
must be identical.  Prints both times and the ratio (and, for the counts image, the time of the
``np.add.at`` one-liner a numpy user would write).  Target: ours under 1 s each.
"""

from __future__ import annotations

import math
import time

import numpy as np

from nuskybgd.geometry.aspect import aspect_histogram
from nuskybgd.products.images import counts_image


def counts_image_plain(x, y, pi, pi_min, pi_max, size=1000):
    img = np.zeros((size, size), dtype=np.int64)
    for xi, yi, p in zip(x.tolist(), y.tolist(), pi.tolist(), strict=True):
        if pi_min <= p <= pi_max and 1 <= xi <= size and 1 <= yi <= size:
            img[yi - 1, xi - 1] += 1
    return img


def counts_image_add_at(x, y, pi, pi_min, pi_max, size=1000):
    """What a numpy user would write first: a mask and ``np.add.at``."""
    sel = (pi >= pi_min) & (pi <= pi_max) & (x >= 1) & (x <= size) & (y >= 1) & (y <= size)
    img = np.zeros((size, size), dtype=np.int64)
    np.add.at(img, (y[sel].astype(np.int64) - 1, x[sel].astype(np.int64) - 1), 1)
    return img


def aspect_plain(t, x, y, start, stop):
    order = np.argsort(t, kind="mergesort")
    t, x, y = t[order].tolist(), x[order].tolist(), y[order].tolist()
    g = np.argsort(start, kind="mergesort")
    start, stop = start[g].tolist(), stop[g].tolist()
    img = np.zeros((1000, 1000))
    gi = 0
    xmin = ymin = 10**9
    xmax = ymax = -1
    for r in range(len(t) - 1):
        while gi < len(start) and t[r] >= stop[gi]:
            gi += 1
        if gi >= len(start):
            break
        if t[r] >= start[gi]:
            bx, by = math.floor(x[r]), math.floor(y[r])
            img[by, bx] += t[r + 1] - t[r]
            xmin, xmax = min(xmin, bx), max(xmax, bx)
            ymin, ymax = min(ymin, by), max(ymax, by)
    return img[ymin : ymax + 1, xmin : xmax + 1], xmin, ymin


def main() -> int:
    rng = np.random.default_rng(3)
    n = 1_000_000
    x = rng.integers(1, 1001, n).astype(np.int16)
    y = rng.integers(1, 1001, n).astype(np.int16)
    pi = rng.integers(0, 1000, n).astype(np.int32)

    t0 = time.perf_counter()
    sel = (pi >= 35) & (pi <= 459)
    ours = counts_image(x[sel], y[sel], 1000)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = counts_image_plain(x, y, pi, 35, 459)
    t_ref = time.perf_counter() - t0
    same = np.array_equal(ours, ref)
    print(f"counts image, 1e6 events: ours {t_ours:.3f} s, plain {t_ref:.3f} s, ratio {t_ref / t_ours:.0f}x, identical: {same}")
    t0 = time.perf_counter()
    alt = counts_image_add_at(x, y, pi, 35, 459)
    t_alt = time.perf_counter() - t0
    print(f"  (np.add.at version: {t_alt:.3f} s, ratio {t_alt / t_ours:.1f}x, identical: {np.array_equal(ours, alt)})")

    t = 1e8 + np.arange(n) * 0.2
    xs = 500.3 + 8 * np.sin(t / 300.0) + rng.normal(0, 0.5, n)
    ys = 480.7 + 6 * np.cos(t / 470.0) + rng.normal(0, 0.5, n)
    start = 1e8 + np.arange(0, n * 0.2, 5800.0)
    stop = start + 3400.0
    t0 = time.perf_counter()
    h = aspect_histogram(t, xs, ys, start, stop)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    img, xo, yo = aspect_plain(t, xs, ys, start, stop)
    t_ref = time.perf_counter() - t0
    same = (h.x_off, h.y_off) == (xo, yo) and np.allclose(h.image, img, rtol=1e-12, atol=1e-9)
    print(f"aspect histogram, 1e6 samples: ours {t_ours:.3f} s, plain {t_ref:.3f} s, ratio {t_ref / t_ours:.0f}x, "
          f"identical: {same} ({h.image.shape[1]}x{h.image.shape[0]} bins, exposure {h.exposure:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
