"""``simplify``: the projected background frozen, the background spectra dropped (``bgd_only_<src>.xcm``)."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.plan import StepInstance
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

__all__ = ["SimplifyStep", "simplify_steps"]


class SimplifyStep(Step):
    """``bgd_only_<src>.xcm`` (and its native state ``bgd_only_<src>.json``): the source spectrum
    with its frozen background, model 1 left free."""

    name = "simplify"
    title = "Simplify"
    help = (
        "Freeze the projected background and drop the background spectra: bgd_only_<src>.xcm holds "
        "only the source spectrum with its fixed background model, and model 1 is left for your "
        "source model (XSPEC: @bgd_only_<src>.xcm, then 'model 1:src …'). bgd_only_<src>.json beside "
        "it is the same model as nuskybgd's native state."
    )
    params = (
        Param("config", "path", positional=True, role="input", help="bgdinfo.json of the fit"),
        Param("projected", "path", positional=True, role="input", help="bgd_<src>.xcm from nuskybgd spec"),
        Param("savefile", "str", None, help="output stem (default: bgd_ → bgd_only_ in the input's name)"),
        Param("outdir", "path", None, help="output folder (default: the input's folder)"),
        OVERWRITE,
    )

    def outputs(self) -> list[Path]:
        from nuskybgd.workflow.project import simplify_name, simplify_state_name

        xcm = simplify_name(self.projected, self.savefile, self.outdir)
        return [xcm, simplify_state_name(xcm)]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.workflow.project import simplify_projection

        rep = reporter_or_default(reporter)
        path = simplify_projection(self.config, self.projected, self.savefile, self.outdir, self.overwrite, rep)
        values = {"xcm": path.name}
        rep.result(values, f"{path.name}: the frozen background of {self.projected.name}; model 1 is yours")
        return StepResult(outputs=self.outputs(), values=values)


def simplify_steps(seqid: str, m: str) -> list[StepInstance]:
    """The plan's ``simplify.{m}``: ``bgd/bgd_only_src{m}.xcm``."""
    from nuskybgd.pipeline.steps.config import spectra_in_plan

    if not spectra_in_plan():
        return []
    return [StepInstance(f"simplify.{m}", "simplify", m, "nuskybgd.pipeline.steps.simplify:SimplifyStep",
                         {"config": f"bgd/bgdinfo{m}.json", "projected": f"bgd/bgd_src{m}.xcm"},
                         f"Simplified background — FPM{m}")]
