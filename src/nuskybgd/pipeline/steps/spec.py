"""``spec``: the fitted background projected into a source region (``bgd_<src>.xcm``, ``bgd_<src>_bk.pha``)."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.plan import StepInstance
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

__all__ = ["SpecStep", "spec_steps"]


class SpecStep(Step):
    """Project every fitted background component into the source region(s)."""

    name = "spec"
    title = "Project into source"
    help = (
        "Scale every fitted background component into the source region: bgd_<src>.xcm holds the "
        "background spectra and the source spectrum with its modelled background ('backgrnd N none': "
        "the background is modelled, not subtracted), and bgd_<src>_bk.pha is the background "
        "spectrum of the source region. Your source spectrum is never modified. Also says above which "
        "energy the background dominates the source."
    )
    params = (
        Param("config", "path", positional=True, role="input", help="bgdinfo.json of the fit"),
        Param("fitted", "path", positional=True, role="input", help="NAME_fit.json or an .xcm of the fit"),
        Param("src_reg", "paths", positional=True, role="input",
              help="source region(s), ds9 format (comma-separated for several)"),
        Param("src_pha", "paths", positional=True, role="input",
              help="source spectrum(s), one per region (their RESPFILE must exist)"),
        Param("savefile", "str", None, help="output stem (default bgd_<region stem>)"),
        Param("outdir", "path", None, help="output folder (default: the configuration's folder)"),
        Param("poisson", "bool", False, help="write a Poisson realisation in the background spectrum"),
        Param("seed", "int", None, minimum=0, help="random seed of the Poisson realisation"),
        OVERWRITE,
    )

    def check(self) -> None:
        from nuskybgd.pipeline.params import _to_paths

        self.src_reg = tuple(q for p in self.src_reg for q in _to_paths(self.param("src_reg"), str(p)))
        self.src_pha = tuple(q for p in self.src_pha for q in _to_paths(self.param("src_pha"), str(p)))
        if not self.src_reg or len(self.src_reg) != len(self.src_pha):
            raise InputError(f"{len(self.src_reg)} source regions and {len(self.src_pha)} source spectra given; "
                             "give one spectrum (SRC_PHA) per region (SRC_REG), in the same order.")

    @property
    def folder(self) -> Path:
        """Where the products go."""
        return self.outdir if self.outdir is not None else self.config.parent

    def outputs(self) -> list[Path]:
        from nuskybgd.workflow.project import projection_names

        xcm, bk = projection_names(list(self.src_reg), self.savefile, self.folder)
        return [xcm, *bk]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.workflow.project import project_sources

        rep = reporter_or_default(reporter)
        rep.progress(0.0, "projecting the background")
        res = project_sources(self.config, self.fitted, list(self.src_reg), list(self.src_pha), self.savefile,
                              self.outdir, self.poisson, self.seed, self.overwrite, rep)
        regions = [{"region": Path(r).name, "crossover_keV": p.crossover_keV,
                    "background_pha": p.background_pha.name} for r, p in zip(self.src_reg, res, strict=True)]
        values = {"xcm": res[0].xcm.name, "crossover_keV": res[0].crossover_keV, "regions": regions}
        rep.progress(1.0, "projection written")
        return StepResult(outputs=self.outputs(), values=values)


def spec_steps(seqid: str, m: str) -> list[StepInstance]:
    """The plan's ``spec.{m}``: the module's fit projected into ``bgd/src{m}.reg`` and its spectrum."""
    from nuskybgd.pipeline.steps.config import spectra_in_plan

    if not spectra_in_plan():
        return []
    from nuskybgd.products.spectra import spectrum_name

    return [StepInstance(f"spec.{m}", "spec", m, "nuskybgd.pipeline.steps.spec:SpecStep",
                         {"config": f"bgd/bgdinfo{m}.json", "fitted": f"bgd/bgdparams{m}_fit.json",
                          "src_reg": [f"bgd/src{m}.reg"], "src_pha": [f"bgd/{spectrum_name(seqid, m, f'src{m}')}"]},
                         f"Background in the source region — FPM{m}")]
