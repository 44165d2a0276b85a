"""Validation of the workflow layer over many seeds (pulls and projection errors, with a histogram).

Each seed: a synthetic two-module ``event_cl/bgd`` folder from the test-only helper
(``tests/workflow_obs.py``: real FITS images and ds9 regions, spectra drawn from the model with
the reference document's norms × truth scales drawn uniformly in 0.7–1.3 per component; fCXB at
nominal, as the recipe freezes it), one fit per module with the recipe defaults, and a
projection into a source region (the sky box of one background region).  Printed: the pulls of
the aperture and internal-continuum norms of both modules (mean, std, histogram), and the
projected background's error against the expected counts in 3–20 and 20–50 keV (median |error|).

This exercises the library layer only, on synthetic spectra; issue 11's science bar is the
simulator-based ``benchmarks/validate.py`` (whole observations through the whole plan, with and
without the point source).

Run: ``.venv/bin/python benchmarks/workflow_validate.py [--seeds 100] [--exposure 1e5]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # the test-only data helper

import workflow_obs  # noqa: E402
from nuskybgd.calib.builtin import presets  # noqa: E402
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo  # noqa: E402
from nuskybgd.workflow.fit import fit_background  # noqa: E402
from nuskybgd.workflow.project import project_source  # noqa: E402

BANDS = ((3.0, 20.0), (20.0, 50.0))


def one_seed(root: Path, seed: int, exposure: float, table: dict) -> tuple[dict, list[float]]:
    rng = np.random.default_rng(1000 + seed)
    scale = {k: rng.uniform(0.7, 1.3) for k in ("apbgd", "intbgd", "intn")} | {"fcxb": 1.0}
    bgd = workflow_obs.make_bgd_folder(root, ("A", "B"), exposure=exposure, seed=seed, scale=scale)
    centre = 1.62 + 0.04 * np.arange(4096)
    pulls: dict[str, float] = {}
    errors = []
    for m, d_src in (("A", 3), ("B", 2)):
        cfg = write_bgdinfo(generate_bgdinfo(bgd, (m,)), bgd / f"bgdinfo{m}.json")
        fit = fit_background(cfg, f"fit{m}")
        ref_areas, w_ref = workflow_obs.region_weights(m, workflow_obs.REGION_DETS[m][0])
        truth = workflow_obs.truth_norms(table, m, ref_areas, ref_areas, w_ref, scale)
        for pid, key in (("apbgd:3", "apbgd"), ("intn:4", "intn")):
            p = fit.problem.par(pid)
            pulls[f"{key}{m}"] = (p.value - truth[key]) / p.error
        shutil.copy(bgd / f"bgd{d_src}{m}.reg", bgd / f"src{m}.reg")
        src = bgd / f"nu90000001{m}01_src{m}_sr.pha"
        shutil.copy(bgd / f"nu90000001{m}01_bgd{d_src}{m}_sr.pha", src)
        proj = project_source(cfg, fit.state_json, bgd / f"src{m}.reg", src)
        areas, w = workflow_obs.region_weights(m, d_src)
        expected = workflow_obs.expected_counts(
            table, m, workflow_obs.truth_norms(table, m, areas, ref_areas, w, scale), exposure)
        for lo, hi in BANDS:
            sel = (centre >= lo) & (centre < hi)
            errors.append(proj.total[sel].sum() / expected[sel].sum() - 1.0)
    return pulls, errors


def histogram(values: np.ndarray, lo: float = -4, hi: float = 4, n: int = 16) -> str:
    counts, edges = np.histogram(np.clip(values, lo, hi - 1e-9), bins=n, range=(lo, hi))
    top = max(counts.max(), 1)
    return "\n".join(f"  {a:+5.1f} … {b:+5.1f} | {'#' * int(round(40 * c / top))} {c}"
                     for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--exposure", type=float, default=1e5)
    args = ap.parse_args()
    table = presets()
    all_pulls: dict[str, list[float]] = {}
    errors: list[float] = []
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as tmp:
            pulls, errs = one_seed(Path(tmp), seed, args.exposure, table)
        for k, v in pulls.items():
            all_pulls.setdefault(k, []).append(v)
        errors += errs
    print(f"{args.seeds} seeds, {args.exposure:g} s, {time.perf_counter() - t0:.0f} s")
    for k, v in all_pulls.items():
        a = np.array(v)
        print(f"pull {k:<7s} mean {a.mean():+.3f}  std {a.std(ddof=1):.3f}")
    every = np.concatenate([np.array(v) for v in all_pulls.values()])
    print(f"all pulls: mean {every.mean():+.3f}, std {every.std(ddof=1):.3f}\n{histogram(every)}")
    e = np.abs(np.array(errors))
    print(f"projected background vs expected (3–20, 20–50 keV): median |error| {100 * np.median(e):.2f} %, "
          f"90th percentile {100 * np.percentile(e, 90):.2f} %")


if __name__ == "__main__":
    main()
