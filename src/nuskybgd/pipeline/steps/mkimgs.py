"""``mkimgs``: counts images (sky or DET1) of a cleaned event file in an energy band."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default


def image_file_name(event_name: str, elow: float, ehigh: float, det1: bool) -> str:
    """nustar-gen-utils' name of a counts image (``nu<seq>A01_cl_3to20keV.fits``)."""
    from nuskybgd.products.images import image_name

    return image_name(event_name, _fmt(elow), _fmt(ehigh), det1)


def _fmt(value: float) -> str:
    return f"{value:g}"


class MkImgsStep(Step):
    """Counts image of a cleaned event file in an energy band (sky or DET1)."""

    name = "mkimgs"
    title = "Counts images"
    help = (
        "Make counts images of the cleaned events in an energy band: the sky image (1000×1000 on "
        "the event file's WCS, used as projbgd's reference image and to draw regions on) or the "
        "DET1 image (360×360). The band keeps the PI channels wholly inside [elow, ehigh) keV "
        "(3–20 keV = PI 35–459, as nustar-gen-utils writes)."
    )
    params = (
        Param("event_file", "path", positional=True, role="input", aliases=("evtfile",),
              help="cleaned event file (nu<seq><A|B>01_cl.evt[.gz])"),
        Param("elow", "float", 3.0, unit="keV", minimum=0.0, maximum=200.0, help="lower band edge"),
        Param("ehigh", "float", 20.0, unit="keV", minimum=0.0, maximum=200.0, help="upper band edge"),
        Param("det1", "bool", False, help="make the DET1 image instead of the sky image"),
        Param("binning", "int", 1, minimum=1, maximum=1000, flag="bin", help="binning factor"),
        Param("outdir", "path", None, help="output folder (default: the event file's, i.e. event_cl/)"),
        Param("outfile", "path", None, positional=True, aliases=("outname",),
              help="output file name (default: the nustar-gen-utils name)"),
        OVERWRITE,
    )

    def check(self) -> None:
        from nuskybgd.energy import band_to_pi

        try:
            self.pi_range = band_to_pi(self.elow, self.ehigh)
        except ValueError as exc:
            raise InputError(f"{exc}.") from None
        if self.outfile is None:
            folder = self.outdir if self.outdir is not None else self.event_file.parent
            self.outfile = folder / image_file_name(self.event_file.name, self.elow, self.ehigh, self.det1)

    def outputs(self) -> list[Path]:
        return [self.outfile]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.products.counts_image_file import make_counts_image

        rep = reporter_or_default(reporter)
        counts, n_selected = make_counts_image(
            self.event_file, self.outfile, self.pi_range, det1=self.det1, binning=self.binning,
            band_text=f"{_fmt(self.elow)}-{_fmt(self.ehigh)} keV", overwrite=self.overwrite, reporter=rep)
        pi_min, pi_max = self.pi_range
        rep.log(f"{n_selected} events in PI {pi_min}–{pi_max} ({_fmt(self.elow)}–{_fmt(self.ehigh)} keV)")
        rep.output(self.outfile)
        return StepResult(outputs=[self.outfile], values={"counts": counts, "chanmin": pi_min,
                                                          "chanmax": pi_max})
