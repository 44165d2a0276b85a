"""Benchmark of ``nuskybgd simulate``: a 100 ks two-module observation with about 10⁶ events.

Usage: ``python benchmarks/simulate.py [--exposure 100e3] [--events 1e6] [--keep DIR]``.

Prints the wall time, the peak memory (max RSS of this process), the events per second of the
vectorised simulator (end to end: calibration, folding, drawing and writing all files), and the
same quantity for a plain reference measured in the same run: a per-event Python loop that
draws time, pixel, PI, grade and sky position for a subset of events (no file writing), so the
printed ratio is conservative.  Targets (issue 4): under 60 s and under 2 GB.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def reference_loop(n: int, seed: int = 0) -> float:
    """Events per second of a straightforward per-event Python loop doing the same draws."""
    from nuskybgd.calib import resolve
    from nuskybgd.simulate import model as mdl
    from nuskybgd.simulate.timeline import make_gtis

    rng = np.random.default_rng(seed)
    cal = resolve("A", prefer="builtin")
    det_map = mdl.active_detector_map(cal)
    comps = mdl.background_components(cal, "A", det_map)
    comp = comps[3]  # intn: flat weights, one spectrum per detector
    gti = make_gtis(rng, 352_000_000.0, 100e3)
    idx = np.flatnonzero(det_map.ravel() == 0)
    w = comp.weight.ravel()[idx]
    pw = w / w.sum()
    r = comp.rate[0]
    pr = r / r.sum()
    lengths = gti[:, 1] - gti[:, 0]
    pa = math.radians(37.0)
    c, s = math.cos(pa), math.sin(pa)
    gw = mdl.GRADE_WEIGHTS / mdl.GRADE_WEIGHTS.sum()
    t0 = time.perf_counter()
    out = []
    for _ in range(n):
        u = rng.uniform(0, lengths.sum())
        k = 0
        while u > lengths[k]:
            u -= lengths[k]
            k += 1
        t = gti[k, 0] + u
        p = idx[rng.choice(idx.size, p=pw)]
        y, x = divmod(int(p), 360)
        pi = int(rng.choice(r.size, p=pr))
        grade = int(rng.choice(gw.size, p=gw))
        dx, dy = x + 1 + rng.uniform(-0.5, 0.5) - 350, y + 1 + rng.uniform(-0.5, 0.5) - 350
        sx, sy = 600 - c * dx - s * dy, 600 - s * dx + c * dy
        out.append((t, x + 1, y + 1, pi, grade, round(sx), round(sy)))
    dt = time.perf_counter() - t0
    return n / dt


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exposure", type=float, default=100e3)
    ap.add_argument("--events", type=float, default=1e6, help="target number of events")
    ap.add_argument("--reference-events", type=int, default=20000)
    ap.add_argument("--keep", default=None, help="write the observation here instead of a temp dir")
    a = ap.parse_args(argv[1:])

    from nuskybgd.simulate.core import DEFAULT_SOURCE, simulate_observation

    # background is ~2.4e5 events per 100 ks for both modules; the point source makes the rest
    bkg_per_s = 2.45
    src_per_norm_per_s = 2 * 103.0 # detected counts/s (both modules) per unit power-law norm
    want_src = max(a.events - bkg_per_s * a.exposure, 0.0) / a.exposure
    norm = max(want_src / src_per_norm_per_s, 1e-6)
    src = dict(DEFAULT_SOURCE["point"], norm=norm)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.keep) if a.keep else Path(tmp)
        t0 = time.perf_counter()
        res = simulate_observation(out, exposure=a.exposure, seed=1, source="point",
                                   source_params=src, overwrite=True)
        dt = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in res.outputs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rate = res.n_events / dt
    ref = reference_loop(a.reference_events)
    print(f"simulate: {a.exposure:g} s, modules A+B, {res.n_events} events "
          f"(A {res.modules['A'].n_events}, B {res.modules['B'].n_events}), "
          f"files {size / 1e6:.0f} MB, calibration {res.calibration}")
    print(f"  wall time      {dt:8.2f} s   (target < 60 s)")
    print(f"  peak memory    {rss_mb:8.0f} MB  (max RSS of this process; target < 2048 MB)")
    print(f"  events/s       {rate:12,.0f}   (end to end, including writing the files)")
    print(f"  reference      {ref:12,.0f}   events/s (per-event Python loop, "
          f"{a.reference_events} events, draws only)")
    print(f"  ratio          {rate / ref:8.1f} x")
    ok = dt < 60 and rss_mb < 2048
    print("PASS" if ok else "FAIL: over the time or memory target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
