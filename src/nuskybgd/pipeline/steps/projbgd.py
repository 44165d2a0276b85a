"""``projbgd``: the projected background images ``bgdap{m}.fits`` and ``det{0..3}{m}im.fits``."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default
from nuskybgd.pipeline.steps._calibration import announce_builtin


def _detector_list(det: str) -> list[int]:
    digits = [int(c) for c in str(det) if c.isdigit()]
    if not digits or any(d not in (1, 2, 3, 4) for d in digits) or any(
            not (c.isdigit() or c in ", ") for c in str(det)):
        raise InputError(f"det={det} must list chip-map values 1–4 (e.g. det=1234).")
    return sorted(set(digits))


class ProjBgdStep(Step):
    """``bgdap{m}.fits`` and ``det{0..3}{m}im.fits``: DET1 maps projected onto the sky frame."""

    name = "projbgd"
    title = "Projected background images"
    help = (
        "Project the detector masks and the aperture (stray-light) image onto the sky, smoothed by "
        "the aspect histogram: bgdap<m>.fits (where the stray cosmic background through the "
        "aperture falls) and det{0..3}<m>im.fits (which detector sees each sky pixel), written "
        "next to 'out' in event_cl/bgd/. The background regions and the fit are built on them."
    )
    params = (
        Param("out", "path", role="output", help="aperture image to write (bgdap<m>.fits)"),
        Param("mod", "module", help="module A or B"),
        Param("chipmap", "path", role="input", help="newinstrmap<m>.fits from mkinstrmap"),
        Param("aspect", "path", role="input", help="aspecthist<m>.fits from aspecthist"),
        Param("refimg", "path", None, role="input", help="reference sky image (WCS and PA_PNT)"),
        Param("evtfile", "path", None, role="input",
              help="cleaned event file: its DET1-sky pairs for --mapping events, and the sky grid "
                   "when no refimg is given"),
        Param("det1_file", "path", None, role="input", aliases=("det1file",),
              help="DET1 track nu<seq><m>_det1.fits, for --mapping events"),
        Param("mapping", "choice", "auto", choices=("auto", "events", "nominal", "original"),
              help="DET1-to-sky placement: events (measured from the events and the track), nominal, "
                   "or original (nuskybgd-py's images exactly); auto: events when both files are given"),
        Param("det", "str", "1234", help="chip-map values to project, e.g. 1234"),
        Param("outdir", "path", None, help="folder of 'out' when 'out' is a bare name"),
        OVERWRITE,
    )

    def check(self) -> None:
        self.dets = _detector_list(self.det)
        if self.refimg is None and self.evtfile is None:
            raise InputError("projbgd needs a reference image (refimg=) or an event file (--evtfile) for the "
                             "sky grid.")
        if self.outdir is not None and not self.out.is_absolute():
            self.out = self.outdir / self.out
        if self.mapping == "events" and (self.evtfile is None or self.det1_file is None):
            raise InputError("--mapping events needs the event file (--evtfile) and the DET1 track "
                             "(--det1-file nu<seq><m>_det1.fits); give both or choose --mapping original.")

    def det_outputs(self) -> dict[int, Path]:
        """Chip-map value k → ``det{k-1}{m}im.fits`` beside ``out``."""
        folder = self.out.parent
        return {k: folder / f"det{k - 1}{self.mod}im.fits" for k in self.dets}

    def outputs(self) -> list[Path]:
        return [self.out, *self.det_outputs().values()]

    def sky_mapping(self, pa_pnt: float):
        """The :class:`~nuskybgd.geometry.projbgd.SkyMapping` that ``mapping`` asks for."""
        from nuskybgd.geometry.projbgd import SkyMapping
        from nuskybgd.geometry.projbgd_file import mapping_from_events

        kind = self.mapping
        if kind == "auto":
            kind = "events" if self.evtfile is not None and self.det1_file is not None else "original"
        if kind == "events":
            return mapping_from_events(self.evtfile, self.det1_file, pa_pnt)
        return SkyMapping.nominal(pa_pnt) if kind == "nominal" else SkyMapping.original(pa_pnt)

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.geometry.projbgd_file import ProjbgdInputs, make_projected_images

        rep = reporter_or_default(reporter)
        inputs = ProjbgdInputs(self.mod, self.chipmap, self.aspect, self.refimg, self.evtfile, self.dets)
        if self.calibration is None:
            from nuskybgd.pipeline.steps import _calibration

            self.calibration = _calibration.resolve_calibration(self.mod, inputs.date_obs())
        announce_builtin(self.calibration, rep, "aperture_image")
        mapping = self.sky_mapping(inputs.frame()[2])
        rep.log(f"DET1 → sky mapping ({mapping.kind}): {mapping.detail}")
        if self.mapping == "auto" and mapping.kind == "original":
            rep.log("  (give --evtfile and --det1-file nu<seq><m>_det1.fits to measure it from the events "
                    "instead; see --mapping)")
        res = make_projected_images(inputs, self.calibration, self.out, self.det_outputs(), self.overwrite, rep,
                                    mapping=mapping)
        for k, path in self.det_outputs().items():
            rep.output(path)
            rep.log(f"DET{k - 1}: Σ = {res.det[k].sum():.1f} sky pixels of exposure-weighted footprint "
                    f"(from {res.areas[k]} active DET1 sub-pixels; sky and DET1 pixels are both 12.3\")")
        rep.output(self.out)
        return StepResult(outputs=self.outputs(),
                          values={"peak": res.peak, "roll": res.roll_deg, "mapping": res.mapping.kind,
                                  "det_sums": {k - 1: float(res.det[k].sum()) for k in res.det}},
                          calibration=self.calibration.source_for("aperture_image"))
