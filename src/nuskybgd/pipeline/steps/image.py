"""``image``: model background images per component in an energy band."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

__all__ = ["ImageStep"]


class ImageStep(Step):
    """``<prefix>bgd_<component>_<m>.fits``: the fitted background model as sky images."""

    name = "image"
    title = "Model background images"
    help = (
        "Turn the fitted background into sky images in a band: one per component (aperture CXB, "
        "internal lines, focused CXB, internal continuum) and their total, per module, in model "
        "counts per pixel over the exposure, on the grid of the projected images."
    )
    params = (
        Param("config", "path", positional=True, role="input", help="bgdinfo.json of the fit"),
        Param("fitted", "path", positional=True, role="input", help="NAME_fit.json or an .xcm of the fit"),
        Param("emin", "float", positional=True, unit="keV", minimum=1.6, maximum=165.0, help="band start"),
        Param("emax", "float", positional=True, unit="keV", minimum=1.6, maximum=165.0, help="band end"),
        Param("prefix", "str", "", help="prefix of the output names"),
        Param("outdir", "path", None, help="output folder (default: the configuration's folder)"),
        OVERWRITE,
    )

    def check(self) -> None:
        if not self.emin < self.emax:
            raise InputError(f"EMIN {self.emin:g} keV must be below EMAX {self.emax:g} keV.")

    def _modules(self) -> list[str]:
        from nuskybgd.workflow.config import load_bgdinfo

        try:
            return load_bgdinfo(self.config).used_modules
        except InputError:
            return []

    def outputs(self) -> list[Path]:
        from nuskybgd.workflow.image import image_names

        folder = self.outdir if self.outdir is not None else self.config.parent
        return list(image_names(self._modules(), self.prefix, folder).values())

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.workflow.image import write_model_images

        rep = reporter_or_default(reporter)
        paths = write_model_images(self.config, self.fitted, self.emin, self.emax, self.prefix, self.outdir,
                                   self.overwrite, rep)
        values = {"n_images": len(paths), "band_keV": [self.emin, self.emax]}
        rep.result(values, f"{len(paths)} model images in {self.emin:g}–{self.emax:g} keV")
        return StepResult(outputs=paths, values=values)
