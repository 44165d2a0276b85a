"""``fit``: set up the background model from ``bgdinfo.json``, apply the recipe, fit, report.

Outputs (in the configuration's folder unless ``outdir``; an existing name is an error unless
``overwrite``, never the original's silent ``NAME2.xcm``):

* ``NAME.xcm`` — the starting point the original writes (statistic chi, solar components in),
  loadable by XSPEC's ``@NAME.xcm``;
* ``NAME_fit.xcm`` — what XSPEC's ``save all`` would hold after the walkthrough's commands and
  the fit;
* ``NAME_fit.json`` — the native state (the fitted ``.xcm`` text, the recipe) and the report;
* the calibration responses those files name (``be.arf``, ``fcxb{m}.arf``, ``diag.rmf``).

They are written as one :func:`~nuskybgd.io.staging.atomic_set`: a cancelled or killed fit leaves
none of them, and the ``.xcm`` files name the responses' final paths.

:func:`fit_background` is what a pipeline step wraps (paths in, paths out, a Reporter).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from nuskybgd.errors import InputError

__all__ = ["FitOutputs", "calibrations_for", "fit_background", "load_fitted", "output_names",
           "run_recipe_fit"]

STATE_VERSION = 1


@dataclass
class FitOutputs:
    """What :func:`fit_background` wrote and found."""

    start_xcm: Path
    fit_xcm: Path | None = None
    state_json: Path | None = None
    calibration_files: dict[str, Path] = field(default_factory=dict)
    calibration_written: list[Path] = field(default_factory=list)
    report: object | None = None
    problem: object | None = None

    @property
    def paths(self) -> list[Path]:
        out = [self.start_xcm, *self.calibration_files.values()]
        return out + [p for p in (self.fit_xcm, self.state_json) if p is not None]


def output_names(savefile: str, outdir: str | Path) -> dict[str, Path]:
    """``NAME.xcm``, ``NAME_fit.xcm`` and ``NAME_fit.json`` in ``outdir`` (a trailing ``.xcm`` in
    ``savefile`` is dropped, unlike the original's ``NAME.xcm.xcm``)."""
    name = str(savefile)
    name = name[:-4] if name.endswith(".xcm") else name
    d = Path(outdir)
    return {"start": d / f"{name}.xcm", "fit": d / f"{name}_fit.xcm", "state": d / f"{name}_fit.json"}


def calibrations_for(info, prefer: str | None = None, reporter=None) -> dict:
    """The calibration of each module in use: the one that made the spectra (header ``NSBCALIB``
    of the module's reference spectrum) unless ``prefer`` says otherwise."""
    from nuskybgd.calib import resolve
    from nuskybgd.io.ogip import read_pha

    out = {}
    for m in info.used_modules:
        choice = prefer
        if choice is None:
            made = str(read_pha(info.bgfiles[info.reference(m)]).header.get("NSBCALIB", "")).upper()
            choice = {"BUILTIN": "builtin", "AUXIL": "auxil"}.get(made.split("+")[0].strip())
        cal = resolve(m, prefer=choice)
        out[m] = cal
        if reporter is not None:
            reporter.log(f"FPM{m}: fit uses the {cal.source} calibration ({cal.detail}).")
            if "BUILTIN" in str(cal.source).upper():
                reporter.warning(f"FPM{m}: the built-in calibration is approximate.")
    return out


def run_recipe_fit(problem, recipe, references: dict[str, int], reporter=None):
    """Fit ``problem`` (the recipe already applied) in the recipe's stages.

    Stage "norms" fits the free norms; with lines to thaw, stage "lines" unties and thaws them
    and fits again (one stage only when ``recipe.staged`` is off).  The reporter gets progress
    per stage and its cancel token is checked between stages.

    Returns
    -------
    (FitResult, list of dict)
        The last result and a summary per stage (name, statistic, dof, iterations, seconds).
    """
    from nuskybgd.events import Silent

    rep = reporter if reporter is not None else Silent()
    plan = ["norms"]
    if recipe.thaw_lines:
        plan = ["norms", "lines"] if recipe.staged else ["lines"]
    stages, result = [], None
    for i, stage in enumerate(plan):
        rep.check_cancelled()
        if stage == "lines":
            ids = recipe.thaw(problem, references)
            rep.log(f"thawed {', '.join(ids)} (untied from the fixed line ratios)")
        rep.progress(i / len(plan), f"fitting ({stage})")
        result = problem.fit(reporter=rep)
        stages.append({"name": stage, "statistic": result.statistic, "dof": result.dof,
                       "iterations": result.iterations, "seconds": result.elapsed,
                       "converged": result.converged})
        rep.log(f"stage {stage}: {result.statistic_name} = {result.statistic:.3f} for {result.dof} dof")
    rep.progress(1.0, "fit done")
    return result, stages


def load_fitted(path: str | Path):
    """The :class:`~nuskybgd.spectral.XcmSession` of a fit: our ``NAME_fit.json`` or any ``.xcm``
    (e.g. one XSPEC saved with ``save all``)."""
    from nuskybgd.spectral import parse_xcm, read_xcm

    p = Path(path)
    if not p.is_file():
        raise InputError(f"fitted model {p} does not exist; give NAME_fit.json or an .xcm file.", p)
    if p.suffix.lower() == ".json":
        try:
            state = json.loads(p.read_text())
            text = state["xcm"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(f"{p} is not a nuskybgd fit state (NAME_fit.json); give that or an .xcm "
                             "file.", p) from None
        return parse_xcm(text, p)
    return read_xcm(p)


def _preset_norms(problem) -> dict[str, float]:
    problem.resolve()
    return {p.xspec_id: p.value for s in problem.sources if s.name in ("apbgd", "fcxb")
            for p in s.parameters if p.name == "norm"}


def _source_wings(info, geometry, source_region, source_spectra, files, rep):
    """The fixed source-wing term of a detected point source (None without a source region or
    when no module detects it); :mod:`nuskybgd.workflow.wings`."""
    if source_region is None:
        return None
    from nuskybgd.workflow.config import _instrume
    from nuskybgd.workflow.wings import estimate_source_wings

    spectra = {_instrume(p, str(p), "source spectrum"): Path(p) for p in source_spectra}
    wings = estimate_source_wings(info, geometry, source_region, spectra, files)
    for m, w in wings.source.items():
        if not w["detected"]:
            rep.log(f"FPM{m}: no source detected in {Path(source_region).name} ({w['counts']:.0f} counts "
                    "over the background, under 3σ); no source-wing term")
            continue
        leak = sum(f for f, mod in zip(wings.shares, info.modules, strict=True) if mod == m)
        rep.log(f"FPM{m} source: Γ = {w['photon_index']:.2f}, {w['counts']:.0f} counts (3-79 keV) in "
                f"{Path(source_region).name}; its PSF wings add {w['counts'] * leak / max(w['share'], 1e-30):.0f} "
                "to the background regions (fixed source-wing term)")
    return wings if any(w["detected"] for w in wings.source.values()) else None


def fit_background(config: str | Path, savefile: str = "bgdparams", outdir: str | Path | None = None,
                   recipe=None, no_fit: bool = False, overwrite: bool = False, n_sim: int = 0,
                   seed: int | None = None, prefer: str | None = None, source_region: str | Path | None = None,
                   source_spectra=(), reporter=None) -> FitOutputs:
    """Set up, write, fit and report the background model of one configuration.

    Parameters
    ----------
    config : path
        ``bgdinfo.json``.
    savefile : str
        Output name stem (default ``bgdparams``, as the original).
    outdir : path, optional
        Output folder (default: the configuration's folder).
    recipe : Recipe, optional
        Walkthrough actions (default :class:`~nuskybgd.workflow.recipe.Recipe()`).
    no_fit : bool
        Write only the starting ``NAME.xcm`` (the original's behaviour).
    overwrite : bool
        Replace existing outputs.
    n_sim : int
        Simulations for the goodness-of-fit p-value (0: none).
    seed : int, optional
        Seed of those simulations.
    prefer : str, optional
        Calibration source to use instead of the one recorded in the spectra.
    source_region : path, optional
        ds9 region on a point source: its PSF wings in the background regions are modelled by a
        frozen term (source 1, :mod:`nuskybgd.workflow.wings`); needs ``source_spectra``.
    source_spectra : sequence of path
        The source region's spectrum of each module in use (PHA with RESPFILE; module from INSTRUME).
    reporter : nuskybgd.events.Reporter, optional
        Progress, log, outputs, result; its cancel token is honoured between stages.
    """
    from nuskybgd.events import Silent
    from nuskybgd.io.atomic import check_writable, write_text_atomic
    from nuskybgd.io.staging import atomic_set
    from nuskybgd.spectral import export_xcm, goodness_of_fit
    from nuskybgd.workflow.config import load_bgdinfo
    from nuskybgd.workflow.geometry_weights import load_geometry, spectrum_weights
    from nuskybgd.workflow.model import build_problem, calibration_jobs
    from nuskybgd.workflow.recipe import Recipe
    from nuskybgd.workflow.report import make_report, report_text

    rep = reporter if reporter is not None else Silent()
    recipe = recipe or Recipe()
    info = load_bgdinfo(config)
    out = Path(outdir) if outdir is not None else Path(config).parent
    names = output_names(savefile, out)
    keys = ["start"] if no_fit else ["start", "fit", "state"]
    for key in keys:
        check_writable(names[key], overwrite)
    geometry = load_geometry(info)
    weights = spectrum_weights(info, geometry)
    cals = calibrations_for(info, prefer, rep)
    table = cals[info.used_modules[0]].presets()
    files, jobs = calibration_jobs(cals, out, overwrite)
    result = FitOutputs(names["start"], calibration_files=files, calibration_written=list(jobs))
    report = None
    # every product of the fit (with the responses it names) appears at once or not at all; the
    # .xcm files name the responses' final paths, relative to ``out``
    with atomic_set([names[k] for k in keys] + list(jobs), overwrite=overwrite) as stage:
        for path, (write, item, kw) in jobs.items():
            write(item, stage[path], **kw)
        read_from = {k: stage[p] if p in jobs else p for k, p in files.items()}
        wings = _source_wings(info, geometry, source_region, source_spectra, read_from, rep)
        problem = build_problem(info, weights, table, read_from, out, wings=wings)
        _name_final_responses(problem, {read_from[k]: files[k] for k in files if files[k] in jobs}, out)
        result.problem = problem
        export_xcm(problem, stage[names["start"]])
        if not no_fit:
            rep.check_cancelled()
            refs = {m: info.reference(m) for m in info.used_modules}
            presets = _preset_norms(problem)
            records = recipe.apply(problem, refs)
            fitres, stages = run_recipe_fit(problem, recipe, refs, rep)
            good = None
            if n_sim > 0:
                rep.check_cancelled()
                good = goodness_of_fit(problem, n_sim=n_sim, seed=seed, reporter=rep)
            report = make_report(problem, fitres, stages, records, refs, presets, good)
            text = export_xcm(problem, stage[names["fit"]])
            state = {"nuskybgd_fit_state": STATE_VERSION, "config": str(Path(config).resolve()),
                     "recipe": recipe.to_dict(), "xcm": text, "report": report.to_dict()}
            write_text_atomic(stage[names["state"]], json.dumps(state, indent=1, default=float) + "\n")
            rep.check_cancelled()
    for path, (_, _, kw) in jobs.items():
        rep.output(path)
        if "BUILTIN" in str(kw["calibration"]).upper():
            rep.warning(f"{path.name} is the built-in approximate calibration.")
    rep.output(names["start"], f"wrote {names['start']} (starting model)")
    if report is None:
        return result
    rep.output(names["fit"], f"wrote {names['fit']} (fitted model)")
    rep.output(names["state"], f"wrote {names['state']} (state and report)")
    for w in report.warnings:
        rep.warning(w)
    rep.result({"statistic": report.statistic_name, "stat": report.statistic, "dof": report.dof},
               report_text(report))
    result.fit_xcm, result.state_json, result.report = names["fit"], names["state"], report
    return result


def _name_final_responses(problem, staged: dict[Path, Path], out: Path) -> None:
    """Responses read from staged copies are named in ``.xcm`` files by their final paths."""
    from nuskybgd.workflow.model import _rel

    rename = {_rel(s, out): _rel(f, out) for s, f in staged.items()}
    for spec in problem.spectra:
        for resp in spec.responses.values():
            resp.rmf_path = rename.get(resp.rmf_path, resp.rmf_path)
            if resp.arf_path is not None:
                resp.arf_path = rename.get(resp.arf_path, resp.arf_path)
