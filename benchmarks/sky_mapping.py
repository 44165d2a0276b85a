"""Benchmark: the DET1 → sky mapping measured from events (``geometry.sky_mapping.fit_sky_mapping``).

Against a straightforward reference measured in the same run: the rigid model
``DET1 = d0 + M(θ)·(sky − track)`` fitted directly by ``scipy.optimize.least_squares`` (3 free
parameters, residuals over all events).  Both see the same 150 000 events placed by
``frames.det1_to_sky`` (physical convention, PA 37°, a jittering track, pixel-quantised like an
event file); printed: times (min of 5), the ratio, and both fits' roll and d0 against the truth.

Run: ``.venv/bin/python benchmarks/sky_mapping.py``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import least_squares

from nuskybgd.geometry.frames import det1_to_sky, det1_to_sky_matrix
from nuskybgd.geometry.sky_mapping import fit_sky_mapping

PA = 37.0


def events(n: int = 150_000, seed: int = 1):
    rng = np.random.default_rng(seed)
    ux, uy = rng.uniform(20, 340, n), rng.uniform(20, 340, n)
    rx = 500.3 + 4.0 * np.sin(np.linspace(0, 20, n)) + rng.normal(0, 0.5, n)
    ry = 498.8 + 3.0 * np.cos(np.linspace(0, 13, n)) + rng.normal(0, 0.5, n)
    x, y = det1_to_sky(ux, uy, rx, ry, PA)
    return np.rint(ux), np.rint(uy), np.rint(x), np.rint(y), rx, ry


def reference_fit(dx, dy, x, y, rx, ry):
    """The rigid model fitted as it stands: (θ, d0x, d0y) by least squares over every event."""
    sx, sy = x - rx, y - ry

    def resid(p):
        m = det1_to_sky_matrix(p[0])
        return np.concatenate([dx - (p[1] + m[0, 0] * sx + m[0, 1] * sy),
                               dy - (p[2] + m[1, 0] * sx + m[1, 1] * sy)])

    r = least_squares(resid, x0=[PA + 1.0, 348.0, 352.0])
    return r.x


def best_of(f, n=5):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ev = events()
    t_ours, fit = best_of(lambda: fit_sky_mapping(*ev))
    t_ref, ref = best_of(lambda: reference_fit(*ev))
    print(f"events: {ev[0].size}; truth roll {PA}°, DET1 (350, 350)")
    print(f"fit_sky_mapping : {1e3 * t_ours:8.1f} ms  roll {fit.roll_deg:.5f}°  d0 ({fit.det1_ref[0]:.4f}, "
          f"{fit.det1_ref[1]:.4f})  residual {fit.rms:.3f} px")
    print(f"least_squares   : {1e3 * t_ref:8.1f} ms  roll {ref[0]:.5f}°  d0 ({ref[1]:.4f}, {ref[2]:.4f})")
    print(f"ratio reference / ours: {t_ref / t_ours:.1f}×")


if __name__ == "__main__":
    main()
