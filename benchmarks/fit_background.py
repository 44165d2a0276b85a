"""Benchmark: one module's background fit with the real model (bgdinfo.json → fit report).

Set-up: the test suite's synthetic ``event_cl/bgd`` folder (``tests/workflow_obs.py``; real FITS
images, ds9 regions, the built-in Gaussian RMF), one FPMA background region on each of the four
detectors, 100 ks, truth scales away from the presets.  The workflow fit: the real model
(apbgd, intbgd = apec + 29 lines, fcxb, intn; fixed line ratios), recipe defaults (cstat, solar
off, fCXB frozen), the linear-norms fast path.

Printed, measured in the same run:

* ``fit_background`` wall time for the whole step (configuration, weights, responses, starting
  ``.xcm``, recipe, fit, report, fitted ``.xcm`` and JSON), and the fit alone;
* a plain full-model Levenberg–Marquardt fit of the same problem from the same start
  (``scipy.optimize.least_squares(method="lm")``, MINPACK, forward-difference Jacobian; the
  residual of each noticed bin is sign(μ − n)·√(cstat term), so the sum of squares is cstat;
  norms as logarithms so they stay positive), whose residual function re-evaluates every
  component and re-folds every source through its response at every call, with a wall-time
  budget (``--ref-budget`` s); when the budget runs out the ratio is a lower bound.

Run: ``.venv/bin/python benchmarks/fit_background.py [--ref-budget 120] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # the test-only data helper

import workflow_obs  # noqa: E402
from nuskybgd.spectral.stats import cstat_terms  # noqa: E402
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo  # noqa: E402
from nuskybgd.workflow.fit import fit_background  # noqa: E402


class _Budget(Exception):
    pass


def plain_lm_fit(problem, start: np.ndarray, budget: float) -> tuple[float, int, float, bool]:
    """Levenberg–Marquardt on the full model, refolding everything at every call.

    Returns (best cstat, full evaluations, wall seconds, converged).
    """
    free = problem.free_parameters()
    observed = [s.counts[s.noticed] for s in problem.spectra]
    calls = 0
    best = [np.inf]
    t0 = time.perf_counter()

    def residuals(log_norms: np.ndarray) -> np.ndarray:
        nonlocal calls
        if time.perf_counter() - t0 > budget:
            raise _Budget
        for p, v in zip(free, np.exp(log_norms), strict=True):
            p.value = float(v)
        problem.evaluator.clear_caches()         # no template reuse: evaluate and fold anew
        calls += 1
        out = []
        for i, n in enumerate(observed):
            mu = problem.model_counts(i + 1, noticed_only=True)
            out.append(np.sign(mu - n) * np.sqrt(np.maximum(cstat_terms(n, mu), 0.0)))
        r = np.concatenate(out)
        best[0] = min(best[0], float(r @ r))
        return r

    done = True
    try:
        least_squares(residuals, np.log(start), method="lm", xtol=1e-10, ftol=1e-10)
    except _Budget:
        done = False
    return best[0], calls, time.perf_counter() - t0, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref-budget", type=float, default=120.0,
                    help="wall-time budget of the plain fit (s)")
    ap.add_argument("--repeat", type=int, default=3, help="workflow fits timed (min is quoted)")
    args = ap.parse_args()
    workflow_obs.REGION_DETS["A"] = (0, 1, 2, 3)
    scale = {"apbgd": 1.2, "intbgd": 0.85, "intn": 1.15, "fcxb": 1.0}
    with tempfile.TemporaryDirectory() as tmp:
        bgd = workflow_obs.make_bgd_folder(Path(tmp), ("A",), exposure=1e5, seed=11, scale=scale)
        cfg = write_bgdinfo(generate_bgdinfo(bgd, ("A",)), bgd / "bgdinfoA.json")
        steps, fits = [], []
        for n in range(max(args.repeat, 1)):
            t0 = time.perf_counter()
            out = fit_background(cfg, f"bench{n}")
            steps.append(time.perf_counter() - t0)
            fits.append(sum(s["seconds"] for s in out.report.stages))
        rep = out.report
        print(f"workflow fit step (min of {len(steps)}): {min(steps):.3f} s in total "
              f"(max {max(steps):.3f}); fit {min(fits):.3f} s ({rep.method}, "
              f"{rep.stages[-1]['iterations']} iterations); {rep.statistic_name} = "
              f"{rep.statistic:.3f} for {rep.dof} dof, {len(rep.parameters)} free norms, "
              f"{len(out.problem.spectra)} spectra")
        problem = out.problem
        free = problem.free_parameters()
        fitted = np.array([p.value for p in free])
        start = fitted * np.linspace(1.5, 0.6, fitted.size)     # the same start for both
        for p, v in zip(free, start, strict=True):
            p.value = float(v)
        problem.evaluator.clear_caches()         # both start cold: templates folded anew
        t0 = time.perf_counter()
        problem.fit()
        fast_s = time.perf_counter() - t0
        print(f"workflow fitter from a perturbed start (templates folded anew): {fast_s:.3f} s, "
              f"cstat {problem.statistic():.3f}")
        for p, v in zip(free, start, strict=True):
            p.value = float(v)
        stat, calls, secs, done = plain_lm_fit(problem, start, args.ref_budget)
        status = "converged" if done else f"budget of {args.ref_budget:.0f} s ran out"
        print(f"plain full-model Levenberg–Marquardt: {secs:.2f} s, {calls} full evaluations "
              f"({secs / max(calls, 1) * 1e3:.1f} ms each), best {stat:.3f} ({status}; "
              f"{stat - rep.statistic:+.4f} from the workflow fit)")
        ratio = secs / fast_s
        print(f"speed-up of the workflow fitter over plain LM on the same start: "
              f"{'≥ ' if not done else ''}{ratio:.0f}×; the whole step is "
              f"{'under' if min(steps) < 1.0 else 'OVER'} the 1 s target")


if __name__ == "__main__":
    main()
