"""``fit``: set up the background model from ``bgdinfo.json``, apply the recipe, fit, report.

Outputs (in the configuration's folder unless ``outdir``; an existing name is an error unless
``overwrite``, never the original's silent ``NAME2.xcm``):

* ``NAME.xcm`` — the starting point the original writes (statistic chi, solar components in),
  loadable by XSPEC's ``@NAME.xcm``;
* ``NAME_fit.xcm`` — what XSPEC's ``save all`` would hold after the walkthrough's commands and
  the fit;
* ``NAME_fit.json`` — the native state (the fitted ``.xcm`` text, the recipe) and the report;
* the calibration responses those files name (``be.arf``, ``fcxb{m}.arf``, ``diag.rmf``).

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
    from nuskybgd.spectral import export_xcm, goodness_of_fit
    from nuskybgd.workflow.config import load_bgdinfo
    from nuskybgd.workflow.geometry_weights import load_geometry, spectrum_weights
    from nuskybgd.workflow.model import build_problem, write_calibration_files
    from nuskybgd.workflow.recipe import Recipe
    from nuskybgd.workflow.report import make_report, report_text

    rep = reporter if reporter is not None else Silent()
    recipe = recipe or Recipe()
    info = load_bgdinfo(config)
    out = Path(outdir) if outdir is not None else Path(config).parent
    names = output_names(savefile, out)
    for key in (["start"] if no_fit else ["start", "fit", "state"]):
        check_writable(names[key], overwrite)
    geometry = load_geometry(info)
    weights = spectrum_weights(info, geometry)
    cals = calibrations_for(info, prefer, rep)
    table = cals[info.used_modules[0]].presets()
    files = write_calibration_files(cals, out, overwrite=overwrite, reporter=rep)
    wings = None
    if source_region is not None:
        from nuskybgd.workflow.config import _instrume
        from nuskybgd.workflow.wings import estimate_source_wings

        spectra = {_instrume(p, str(p)): Path(p) for p in source_spectra}
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
        if not any(w["detected"] for w in wings.source.values()):
            wings = None
    problem = build_problem(info, weights, table, files, out, wings=wings)
    export_xcm(problem, names["start"], overwrite=overwrite)
    rep.output(names["start"], f"wrote {names['start']} (starting model)")
    result = FitOutputs(names["start"], calibration_files=files, problem=problem)
    if no_fit:
        return result
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
    text = export_xcm(problem, names["fit"], overwrite=overwrite)
    rep.output(names["fit"], f"wrote {names['fit']} (fitted model)")
    state = {"nuskybgd_fit_state": STATE_VERSION, "config": str(Path(config).resolve()),
             "recipe": recipe.to_dict(), "xcm": text, "report": report.to_dict()}
    write_text_atomic(names["state"], json.dumps(state, indent=1, default=float) + "\n", overwrite)
    rep.output(names["state"], f"wrote {names['state']} (state and report)")
    for w in report.warnings:
        rep.warning(w)
    rep.result({"statistic": report.statistic_name, "stat": report.statistic, "dof": report.dof},
               report_text(report))
    result.fit_xcm, result.state_json, result.report = names["fit"], names["state"], report
    return result
