"""Benchmark: one module's background fit through the workflow (bgdinfo.json → fit report).

Set-up: the test suite's synthetic ``event_cl/bgd`` folder (``tests/workflow_obs.py``; real FITS
images, ds9 regions, the built-in Gaussian RMF), one FPMA background region on each of the four
detectors, 100 ks, truth scales away from the presets.  The workflow fit: the real model
(apbgd, intbgd = apec + 29 lines, fcxb, intn; fixed line ratios), recipe defaults (cstat, solar
off, fCXB frozen), the linear-norms fast path.

Printed, measured in the same run:

* ``fit_background`` wall time for the whole step (configuration, weights, responses, starting
  ``.xcm``, recipe, fit, report, fitted ``.xcm`` and JSON), and the fit alone;
* a plain full-model fit of the same problem: ``scipy.optimize.minimize`` (L-BFGS-B, numerical
  gradient) whose objective re-evaluates every component and re-folds every source at every call,
  with a wall-time budget (``--ref-budget`` s); when the budget runs out the ratio is a lower bound.

Run: ``.venv/bin/python benchmarks/workflow_fit.py [--ref-budget 120]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # the test-only data helper

import workflow_obs  # noqa: E402
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo  # noqa: E402
from nuskybgd.workflow.fit import fit_background  # noqa: E402


class _Budget(Exception):
    pass


def plain_fit(problem, budget: float) -> tuple[float, int, float, bool]:
    """L-BFGS-B on the full model, refolding everything at every call; (stat, calls, s, done)."""
    free = problem.free_parameters()
    x0 = np.array([p.value for p in free]) * 1.5
    scale = np.where(x0 > 0, x0, 1.0)
    calls = 0
    t0 = time.perf_counter()
    best = [np.inf]

    def objective(u: np.ndarray) -> float:
        nonlocal calls
        if time.perf_counter() - t0 > budget:
            raise _Budget
        for p, v in zip(free, u * scale, strict=True):
            p.value = float(max(v, 0.0))
        problem._flux_cache.clear()
        problem._fold_cache.clear()
        calls += 1
        stat = problem.statistic()
        best[0] = min(best[0], stat)
        return stat

    done = True
    try:
        minimize(objective, x0 / scale, method="L-BFGS-B", bounds=[(0, None)] * len(free))
    except _Budget:
        done = False
    return best[0], calls, time.perf_counter() - t0, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref-budget", type=float, default=120.0, help="wall-time budget of the plain fit (s)")
    args = ap.parse_args()
    workflow_obs.REGION_DETS["A"] = (0, 1, 2, 3)
    scale = {"apbgd": 1.2, "intbgd": 0.85, "intn": 1.15, "fcxb": 1.0}
    with tempfile.TemporaryDirectory() as tmp:
        bgd = workflow_obs.make_bgd_folder(Path(tmp), ("A",), exposure=1e5, seed=11, scale=scale)
        cfg = write_bgdinfo(generate_bgdinfo(bgd, ("A",)), bgd / "bgdinfoA.json")
        t0 = time.perf_counter()
        out = fit_background(cfg, "bench")
        step = time.perf_counter() - t0
        rep = out.report
        fit_s = sum(s["seconds"] for s in rep.stages)
        print(f"workflow fit step: {step:.3f} s in total; fit {fit_s:.3f} s "
              f"({rep.method}, {rep.stages[-1]['iterations']} iterations); "
              f"{rep.statistic_name} = {rep.statistic:.3f} for {rep.dof} dof, "
              f"{len(rep.parameters)} free norms, 4 spectra")
        problem = out.problem
        stat, calls, secs, done = plain_fit(problem, args.ref_budget)
        status = "converged" if done else f"budget of {args.ref_budget:.0f} s ran out"
        print(f"plain full-model L-BFGS-B: {secs:.1f} s, {calls} full evaluations ({secs / max(calls, 1):.3f} s "
              f"each), best {stat:.3f} ({status}; {stat - rep.statistic:+.3f} from the workflow fit)")
        ratio = secs / fit_s
        print(f"speed-up of the workflow fit over the plain fit: {'≥ ' if not done else ''}{ratio:.0f}×")


if __name__ == "__main__":
    main()
