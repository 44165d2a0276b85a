"""``fit``: the background model fitted to the background spectra with the walkthrough's recipe.

The recipe's actions (``statistic``, ``solar_off``, ``freeze_fcxb``, ``intn_rescale``,
``thaw``, ``staged``) are declared parameters, so the wizard draws them as a checklist and the
command line offers each as an option.
"""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.plan import StepInstance
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

__all__ = ["FitStep", "RECIPE_PARAMS", "fit_steps", "joint_fit_steps"]

#: the parameters that are recipe actions (the wizard's checklist), in the recipe's order
RECIPE_PARAMS = ("statistic", "solar_off", "freeze_fcxb", "intn_rescale", "thaw", "staged")


def _thaw_list(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in str(text or "").split(",") if w.strip())


class FitStep(Step):
    """Fit ``bgdinfo.json``'s background spectra: ``NAME.xcm``, ``NAME_fit.xcm``, ``NAME_fit.json``."""

    name = "fit"
    title = "Background fit"
    help = (
        "Fit the four-component background model (aperture CXB, internal lines, focused CXB, internal "
        "continuum) to the background spectra with the walkthrough's recipe: cstat, solar components "
        "off, the focused CXB frozen, the internal continuum free. Writes NAME.xcm (the starting "
        "point), NAME_fit.xcm (what XSPEC's 'save all' would hold after the fit) and NAME_fit.json "
        "(state and report). With --src and --src-spectrum a point source's PSF wings in the background "
        "regions (~3% of its photons lie beyond the regions' exclusion) become a fixed model term, "
        "source 1: the source spectrum's power-law fit scaled by the PSF's share of each region. "
        "With --n-sim N the goodness of fit is measured by N simulations (cstat "
        "is not chi-squared distributed)."
    )
    params = (
        Param("config", "path", positional=True, role="input", help="bgdinfo.json (from nuskybgd config)"),
        Param("savefile", "str", "bgdparams", help="output name stem: NAME.xcm, NAME_fit.xcm, NAME_fit.json"),
        Param("outdir", "path", None, help="output folder (default: the configuration's folder)"),
        Param("no_fit", "bool", False, help="only write the starting NAME.xcm (the original's behaviour)"),
        Param("statistic", "choice", "cstat", choices=("cstat", "chi"), help="fit statistic (recipe)"),
        Param("solar_off", "bool", True, help="zero and freeze the solar components (recipe)"),
        Param("freeze_fcxb", "bool", True, help="freeze the focused CXB at its nominal level (recipe)"),
        Param("intn_rescale", "bool", False,
              help="start the internal-continuum norm of each reference at --intn-value (recipe)"),
        Param("intn_value", "float", 1e-4, minimum=1e-12, maximum=1e6,
              help="start value of the internal-continuum norm with --intn-rescale"),
        Param("thaw", "str", "", help="lines to untie and thaw: 24keV, 88keV or lorentz_8,lorentz_9,lorentz_26 "
                                      "(recipe)"),
        Param("staged", "bool", True, help="fit the norms first, then again with the thawed lines (recipe)"),
        Param("src", "path", None, role="input", aliases=("srcreg",),
              help="ds9 region on a point source: its PSF wings in the background regions become a fixed "
                   "model term (needs --src-spectrum)"),
        Param("src_spectrum", "paths", (), role="input",
              help="the source region's spectrum of each module fitted (nu<seq><m>01_src<m>_sr.pha)"),
        Param("n_sim", "int", 0, minimum=0, maximum=100000,
              help="simulations for the goodness-of-fit p-value (0: none)"),
        Param("seed", "int", None, minimum=0, help="random seed of those simulations"),
        OVERWRITE,
    )

    def check(self) -> None:
        from nuskybgd.workflow.recipe import Recipe

        try:
            self.recipe = Recipe(statistic=self.statistic, solar_off=self.solar_off, freeze_fcxb=self.freeze_fcxb,
                                 intn_rescale=self.intn_value if self.intn_rescale else None,
                                 thaw_lines=_thaw_list(self.thaw), staged=self.staged)
        except InputError as exc:
            raise InputError(f"--thaw {self.thaw}: {exc}") from None
        if "/" in self.savefile or not self.savefile.strip():
            raise InputError(f"savefile={self.savefile} must be a plain name; put the folder in --outdir.")

    @property
    def folder(self) -> Path:
        """Where the products go."""
        return self.outdir if self.outdir is not None else self.config.parent

    def outputs(self) -> list[Path]:
        from nuskybgd.workflow.fit import output_names

        names = output_names(self.savefile, self.folder)
        return [names["start"]] if self.no_fit else [names["start"], names["fit"], names["state"]]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.workflow.fit import fit_background
        from nuskybgd.workflow.report import report_text

        rep = reporter_or_default(reporter)
        res = fit_background(self.config, self.savefile, self.outdir, recipe=self.recipe, no_fit=self.no_fit,
                             overwrite=self.overwrite, n_sim=self.n_sim, seed=self.seed,
                             source_region=self.src, source_spectra=list(self.src_spectrum), reporter=rep)
        outputs = self.outputs() + list(res.calibration_written)
        if res.report is None:
            return StepResult(outputs=outputs, values={"fitted": False})
        values = fit_values(res.report)
        rep.result(values, report_text(res.report))
        return StepResult(outputs=outputs, values=values)


def fit_values(report) -> dict:
    """The key numbers of a fit report: statistic, value, dof, p-value, aperture-CXB ratios."""
    values = {"fitted": True, "statistic": report.statistic_name, "value": float(report.statistic),
              "dof": int(report.dof), "converged": bool(report.converged),
              "p_value": None if not report.goodness else float(report.goodness["p_value"]),
              "n_sim": 0 if not report.goodness else int(report.goodness["n_sim"])}
    for c in report.cxb:
        values[f"cxb_ratio_{c['module']}"] = float(c["ratio"])
    values["warnings"] = list(report.warnings)
    return values


_STEP = "nuskybgd.pipeline.steps.fit:FitStep"


def fit_steps(seqid: str, m: str) -> list[StepInstance]:
    """The plan's ``fit.{m}``: one module's fit, ``bgd/bgdparams{m}*`` (the walkthrough's default)."""
    from nuskybgd.pipeline.steps.config import spectra_in_plan

    if not spectra_in_plan():
        return []
    return [StepInstance(f"fit.{m}", "fit", m, _STEP,
                         {"config": f"bgd/bgdinfo{m}.json", "savefile": f"bgdparams{m}", "src": f"bgd/src{m}.reg",
                          "src_spectrum": [f"bgd/nu{seqid}{m}01_src{m}_sr.pha"], "n_sim": 50, "seed": 1},
                         f"Background fit — FPM{m}")]


def joint_fit_steps(seqid: str, modules: tuple[str, ...] = ("A", "B")) -> list[StepInstance]:
    """The joint fit of both modules (an option, not in the default plan): ``config.AB`` and ``fit.AB``."""
    return [StepInstance("config.AB", "config", "", "nuskybgd.pipeline.steps.config:ConfigStep",
                         {"bgd_dir": "bgd", "mod": "".join(modules), "out": "bgd/bgdinfo.json"},
                         "Fit configuration — joint"),
            StepInstance("fit.AB", "fit", "", _STEP,
                         {"config": "bgd/bgdinfo.json", "savefile": "bgdparams", "n_sim": 50, "seed": 1},
                         "Background fit — joint")]
