"""``aspecthist``: the aspect histogram ``aspecthist{A,B}.fits`` (the mast wobble on the sky)."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default


class AspectHistStep(Step):
    """``aspecthist{A,B}.fits``: seconds per sky bin of DET1 pixel (350, 350) inside the GTIs."""

    name = "aspecthist"
    title = "Aspect histogram"
    help = (
        "Make the aspect histogram: how long the DET1 reference pixel spent at each sky position "
        "during the good time intervals (from the nu<seqid><A|B>_det1.fits track). The mast "
        "wobbles, so each detector's footprint on the sky is smeared; projbgd uses this histogram "
        "to smear the detector maps the same way."
    )
    params = (
        Param("det1_file", "path", positional=True, role="input", aliases=("det1file", "infile"),
              help="nu<seq><A|B>_det1.fits (DET1_REFPOINT)"),
        Param("gti_file", "path", flag="gtifile", role="input", aliases=("gtifile",),
              help="GTI file (nu<seq><A|B>01_gti.fits or an event file)"),
        Param("out", "path", None, role="output",
              help="output aspect histogram (default aspecthist<A|B>.fits in --outdir)"),
        Param("clip_to_gti", "bool", False,
              help="clip each sample's weight at its GTI stop (default: nuskybgd-py weights)"),
        Param("outdir", "path", None, help="output folder (default: the DET1 file's, i.e. event_cl/)"),
        OVERWRITE,
    )

    def check(self) -> None:
        if self.out is None:
            folder = self.outdir if self.outdir is not None else self.det1_file.parent
            self.out = folder / f"aspecthist{self._module_from_name()}.fits"
        elif self.outdir is not None and not self.out.is_absolute():
            self.out = self.outdir / self.out

    def _module_from_name(self) -> str:
        import re

        m = re.match(r"nu\d{11}([AB])_det1\.fits", self.det1_file.name.replace(".gz", ""))
        if m is None:
            raise InputError(f"cannot tell the module from the name {self.det1_file.name}; give out= "
                             "(e.g. out=aspecthistA.fits).", self.det1_file)
        return m.group(1)

    def outputs(self) -> list[Path]:
        return [self.out]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.geometry.aspect_file import make_aspect_histogram

        rep = reporter_or_default(reporter)
        result = make_aspect_histogram(self.det1_file, self.gti_file, self.out, clip_to_gti=self.clip_to_gti,
                                       overwrite=self.overwrite, reporter=rep)
        h, gti_total, mod = result
        rep.log(f"module {mod or '?'}: {h.image.shape[1]}×{h.image.shape[0]} bins, X_OFF={h.x_off}, "
                f"Y_OFF={h.y_off}, EXPOSURE={h.exposure:.3f} s (GTI total {gti_total:.3f} s; the "
                "aspect samples inside the GTIs, so they differ by at most one sample step per GTI)")
        rep.output(self.out)
        return StepResult(outputs=[self.out], values={"exposure": h.exposure, "x_off": h.x_off,
                                                      "y_off": h.y_off, "shape": h.image.shape})
