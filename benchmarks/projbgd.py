"""Benchmark: projbgd on a 1000×1000 frame, 4 detectors, ~2000 non-empty aspect bins.

Prints our time, the time of the plain reference implementation (``projbgd_reference.py``: a
per-pixel lookup loop and one shifted copy of each map per histogram bin), their ratio and the
maximum relative difference of the outputs: ``max |ours − ref| / max |ref|`` per image (and, for
information, the largest per-pixel relative difference over pixels above 1e-6 of the maximum).

Usage: ``python benchmarks/projbgd.py [--radius 25.2] [--pa 37.0]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nuskybgd.geometry.aspect import AspectHistogram  # noqa: E402
from nuskybgd.geometry.projbgd import project_maps  # noqa: E402
from projbgd_reference import projbgd_direct  # noqa: E402


def synthetic_inputs(radius: float, seed: int = 7):
    """A pinwheel-like chip map with gaps and bad pixels, a smooth aperture image, a dither blob."""
    rng = np.random.default_rng(seed)
    cm = np.zeros((360, 360))
    cm[181:346, 181:346] = 1
    cm[182:347, 18:182] = 2
    cm[17:183, 15:182] = 3
    cm[16:181, 180:346] = 4
    cm[rng.random((360, 360)) < 0.005] = 0  # bad pixels
    yy, xx = np.mgrid[0:360, 0:360]
    aperture = 0.02 + 0.03 * np.exp(-((xx - 300) ** 2 + (yy - 40) ** 2) / 2e4) + 1e-3 * rng.random((360, 360))
    n = int(2 * np.ceil(radius) + 1)
    c = (n - 1) / 2
    y, x = np.mgrid[0:n, 0:n]
    r2 = (x - c) ** 2 + (y - c) ** 2
    hist = np.where(r2 <= radius**2, np.exp(-r2 / (2 * (radius / 2) ** 2)) * 200.0, 0.0)
    hist *= np.where(hist > 0, 0.5 + rng.random(hist.shape), 0.0)
    return cm, aperture, hist


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--radius", type=float, default=25.2, help="dither blob radius in pixels (25.2 → ~2000 bins)")
    ap.add_argument("--pa", type=float, default=37.0, help="PA_PNT in degrees")
    args = ap.parse_args()

    cm, aperture, h = synthetic_inputs(args.radius)
    x_off, y_off = 470, 480
    hist = AspectHistogram(h, x_off, y_off, float(h.sum()))
    print(f"frame 1000x1000, 4 detectors, {int((h > 0).sum())} non-empty aspect bins, PA_PNT {args.pa}")

    t0 = time.perf_counter()
    ours = project_maps(cm, [1, 2, 3, 4], aperture, hist, args.pa)
    t_ours = time.perf_counter() - t0
    print(f"ours:      {t_ours:8.3f} s")

    t0 = time.perf_counter()
    ref_ap, ref_det = projbgd_direct(cm, [1, 2, 3, 4], aperture, h, x_off, y_off, args.pa)
    t_ref = time.perf_counter() - t0
    print(f"reference: {t_ref:8.3f} s")
    print(f"ratio:     {t_ref / t_ours:8.1f}x")

    worst = 0.0
    for name, a, b in [("bgdap", ours.bgdap, ref_ap)] + [(f"det{k - 1}", ours.det[k], ref_det[k]) for k in ref_det]:
        norm = float(np.abs(a - b).max() / np.abs(b).max())
        big = np.abs(b) > 1e-6 * np.abs(b).max()
        pix = float((np.abs(a - b)[big] / np.abs(b)[big]).max())
        worst = max(worst, norm)
        print(f"  {name:6s} max|diff|/max|ref| = {norm:.2e}   per-pixel (>1e-6 max) = {pix:.2e}   sum = {a.sum():.3f}")
    print(f"max relative difference: {worst:.2e} ({'OK' if worst <= 1e-9 else 'FAIL'} vs 1e-9)")
    ok = worst <= 1e-9 and t_ours < 3.0 and t_ref / t_ours >= 30
    print("targets (ours < 3 s, >= 30x, <= 1e-9):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
