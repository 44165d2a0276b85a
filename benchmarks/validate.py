"""Issue 11's science bar on the real simulator: whole observations through the whole pipeline.

Each seed: ``simulate_observation`` (two modules, 100 ks by default) with each background
component's truth scale drawn uniformly in 0.7–1.3 (the focused CXB at 1: the recipe freezes
it), once with the demo's point source and once with none; then every step of the plan
(images → … → regions → spectra → config → fit → spec → simplify) through the session runner,
exactly as ``nuskybgd demo`` runs them.  Measured against the truth:

* pulls of the fitted aperture-CXB (``apbgd:3``) and internal-continuum (``intn:4``) norms of
  both modules: (fitted − scale × preset) / 1σ, where the preset is the starting model's value
  for the same region (the fit must move it by the injected scale);
* the projected background in the source region against
  :func:`nuskybgd.simulate.expected_counts` of the truth in the same region (the region file
  rasterised on the observation's sky grid), in 3–20 and 20–50 keV: relative error;
* the background PHA's counts against the projection in the same bands;
* whether the fit carried the source-wing term (``wing_term``; :mod:`nuskybgd.workflow.wings`).

Prints pulls (mean, standard deviation, histogram) and errors (median |error|) with the bar of
issue 11: mean pull within ±0.3, pull std 0.8–1.25, median |error| < 3 %.

Run: ``.venv/bin/python benchmarks/validate.py [--seeds 100] [--exposure 1e5] [--source point|none|both]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

BANDS = ((3.0, 20.0), (20.0, 50.0))
SEQID = "90000000002"
PULL_NORMS = (("apbgd:3", "apbgd"), ("intn:4", "intn"))


def truth_scales(seed: int) -> dict[str, float]:
    """The injected scale of each background component for ``seed`` (fCXB at nominal)."""
    rng = np.random.default_rng(7000 + seed)
    return {k: float(rng.uniform(0.7, 1.3)) for k in ("apbgd", "intbgd", "intn")} | {"fcxb": 1.0}


def run_pipeline(root: Path, seed: int, exposure: float, source: str, scale: dict[str, float],
                 n_sim: int = 0) -> Path:
    """Simulate and run the whole plan; returns ``event_cl``.  Raises if a step fails."""
    from nuskybgd.events import Reporter
    from nuskybgd.pipeline import Runner, Session
    from nuskybgd.simulate.core import simulate_observation

    res = simulate_observation(root, seqid=SEQID, exposure=exposure, seed=seed, source=source, scale=scale,
                               calibration="nominal")
    ev = Path(res.event_dir) if hasattr(res, "event_dir") else root / SEQID / "event_cl"
    _source_regions(ev)
    quiet = Reporter(lambda e: None)
    with Session.open(ev, observation={"seqid": SEQID, "modules": ["A", "B"]}) as session:
        runner = Runner(session)
        for m in "AB":
            runner.set_params(f"fit.{m}", n_sim=n_sim)
        statuses = runner.run_all(quiet)
    bad = {k: v for k, v in statuses.items() if v != "done"}
    if bad:
        raise RuntimeError(f"steps not done: {bad}")
    return ev


def _source_regions(ev: Path) -> None:
    """``bgd/src{m}.reg`` at the simulated source (what the demo does), when the pipeline needs it."""
    try:
        from nuskybgd.commands.demo import write_source_regions
    except ImportError:          # the demo writes them itself
        return
    write_source_regions(ev)


def _sky_mask(region: Path, ev: Path, module: str) -> np.ndarray:
    from astropy.io import fits
    from astropy.wcs import WCS

    from nuskybgd.products.regions import region_mask

    img = ev / f"nu{SEQID}{module}01_cl_3to20keV.fits"
    with fits.open(img) as h:
        shape, wcs = h[0].data.shape, WCS(h[0].header).celestial
    return region_mask(region, shape, wcs, warn=lambda s: None)


def _band_sum(channels: np.ndarray, values: np.ndarray, band: tuple[float, float]) -> float:
    from nuskybgd.energy import band_to_pi

    lo, hi = band_to_pi(*band)
    return float(values[(channels >= lo) & (channels <= hi)].sum())


def measure(ev: Path, scale: dict[str, float]) -> dict:
    """Pulls and projection errors of one processed observation (see the module docstring)."""
    from astropy.io import fits

    from nuskybgd.simulate import expected_counts
    from nuskybgd.workflow.fit import load_fitted
    from nuskybgd.workflow.model import WING_NAME
    from nuskybgd.workflow.project import project_source

    bgd = ev / "bgd"
    out: dict = {"pulls": {}, "errors": {}, "bk_vs_projection": {}, "wing_term": {}, "sky_mapping": {}}
    for m in "AB":
        out["sky_mapping"][m] = fits.getheader(bgd / f"bgdap{m}.fits").get("SKYMAP", "original")
        state = json.loads((bgd / f"bgdparams{m}_fit.json").read_text())
        out["wing_term"][m] = f":{WING_NAME} " in state["xcm"]      # the fit modelled the source's PSF wings
        fitted = {p["id"]: p for p in state["report"]["parameters"]}
        start = load_fitted(bgd / f"bgdparams{m}.xcm").build()
        start.resolve()
        for pid, comp in PULL_NORMS:
            truth = scale[comp] * start.par(pid).value
            out["pulls"][f"{comp}{m}"] = (fitted[pid]["value"] - truth) / fitted[pid]["error"]
        src_reg = bgd / f"src{m}.reg"
        src_pha = next(bgd.glob(f"nu{SEQID}{m}01_src{m}_sr.pha"))
        expect_mask = _sky_mask(src_reg, ev, m)
        proj = project_source(bgd / f"bgdinfo{m}.json", bgd / f"bgdparams{m}_fit.json", src_reg, src_pha,
                              outdir=Path(tempfile.mkdtemp(dir=bgd)))
        with fits.open(bgd / f"bgd_src{m}_bk.pha") as h:
            d = h[1].data
            channels = np.asarray(d["CHANNEL"])
            bk = np.asarray(d["RATE"] if "RATE" in d.names else d["COUNTS"], float)
            if "RATE" in d.names:
                bk = bk * h[1].header["EXPOSURE"]
        for band in BANDS:
            truth = expected_counts(ev.parent / "truth.json", m, expect_mask, band)["total_background"]
            model = _band_sum(channels, proj.total, band)
            out["errors"][f"{m}{band[0]:g}-{band[1]:g}"] = model / truth - 1.0
            out["bk_vs_projection"][f"{m}{band[0]:g}-{band[1]:g}"] = _band_sum(channels, bk, band) / model - 1.0
    return out


def one_seed(seed: int, exposure: float, source: str, n_sim: int = 0) -> dict:
    """Simulate, process and measure one seed in a temporary folder (removed afterwards)."""
    root = Path(tempfile.mkdtemp(prefix=f"nuskybgd-validate-{seed}-"))
    try:
        scale = truth_scales(seed)
        ev = run_pipeline(root, seed, exposure, source, scale, n_sim)
        return measure(ev, scale)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def histogram(values: np.ndarray, lo: float = -4, hi: float = 4, n: int = 16) -> str:
    """A text histogram of ``values`` (clipped to ``lo``–``hi``)."""
    counts, edges = np.histogram(np.clip(values, lo, hi - 1e-9), bins=n, range=(lo, hi))
    top = max(counts.max(), 1)
    return "\n".join(f"  {a:+5.1f} … {b:+5.1f} | {'#' * int(round(40 * c / top))} {c}"
                     for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True))


def summarise(results: list[dict]) -> dict:
    """Per quantity: mean and std of the pulls, median |error| of the projections."""
    pulls = {k: np.array([r["pulls"][k] for r in results]) for k in results[0]["pulls"]}
    errors = {k: np.array([r["errors"][k] for r in results]) for k in results[0]["errors"]}
    bk = {k: np.array([r["bk_vs_projection"][k] for r in results]) for k in results[0]["bk_vs_projection"]}
    return {"pulls": {k: (float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0) for k, v in pulls.items()},
            "median_abs_error": {k: float(np.median(np.abs(v))) for k, v in errors.items()},
            "max_abs_bk_vs_projection": {k: float(np.max(np.abs(v))) for k, v in bk.items()},
            "all_pulls": np.concatenate(list(pulls.values()))}


def report(source: str, results: list[dict], exposure: float, seconds: float | None = None) -> None:
    """Print the pulls, the histogram, the projection errors and the background-PHA agreement."""
    s = summarise(results)
    took = "" if seconds is None else f" ({seconds:.0f} s)"
    print(f"\n=== source={source}: {len(results)} seeds of {exposure:g} s, two modules{took} ===")
    kinds = [k for r in results for k in r.get("sky_mapping", {}).values()]
    if kinds:
        print("projbgd DET1 → sky mapping: " + ", ".join(f"{k} ×{kinds.count(k)}" for k in dict.fromkeys(kinds)))
    for k, (mean, std) in s["pulls"].items():
        ok = abs(mean) <= 0.3 and 0.8 <= std <= 1.25
        print(f"pull {k:<8s} mean {mean:+.3f}  std {std:.3f}  {'ok' if ok else 'OUTSIDE the bar'}")
    print("all pulls:\n" + histogram(s["all_pulls"]))
    for k, v in s["median_abs_error"].items():
        print(f"projected background {k} keV: median |error| {100 * v:.2f} %  {'ok' if v < 0.03 else 'OUTSIDE'}")
    for k, v in s["max_abs_bk_vs_projection"].items():
        print(f"background PHA vs projection {k} keV: max |difference| {100 * v:.4f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first-seed", type=int, default=1, help="first seed (to split a run over processes)")
    ap.add_argument("--exposure", type=float, default=1e5)
    ap.add_argument("--source", choices=("point", "none", "both"), default="both")
    ap.add_argument("--log", type=Path, default=None,
                    help="append each seed's result to this JSON-lines file as it finishes")
    ap.add_argument("--from-log", type=Path, default=None,
                    help="only print the figures of the seeds in this JSON-lines log (e.g. of a run cut short)")
    args = ap.parse_args()
    if args.from_log is not None:
        rows = [json.loads(line) for line in args.from_log.read_text().splitlines() if line.strip()]
        for source in dict.fromkeys(r["source"] for r in rows):
            report(source, [r for r in rows if r["source"] == source], args.exposure)
        return
    for source in (("point", "none") if args.source == "both" else (args.source,)):
        t0 = time.perf_counter()
        results = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            results.append(one_seed(seed, args.exposure, source))
            if args.log is not None:
                with args.log.open("a") as f:
                    f.write(json.dumps({"source": source, "seed": seed, **results[-1]}) + "\n")
        report(source, results, args.exposure, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
