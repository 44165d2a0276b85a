"""``config``: ``bgdinfo{m}.json`` from the projbgd images, regions and spectra in ``event_cl/bgd``."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.plan import StepInstance
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

__all__ = ["ConfigStep", "config_steps", "spectra_in_plan"]


def spectra_in_plan() -> bool:
    """Whether the regions and spectra steps exist: the workflow steps join the plan after them
    (without background spectra there is nothing to configure or fit)."""
    import importlib.util

    return all(importlib.util.find_spec(f"nuskybgd.pipeline.steps.{name}") is not None
               for name in ("regions", "spectrum"))


class ConfigStep(Step):
    """``bgdinfo.json``: which spectra, regions and projected images the background fit uses."""

    name = "config"
    title = "Fit configuration"
    #: the regions and spectra present are the data's choice, so wait for those stages
    after_stages = ("regions", "spectra")
    help = (
        "Write bgdinfo.json: the background spectra and their regions, and the projected aperture "
        "and detector images, so each spectrum's model knows how much aperture, focused-CXB and "
        "detector background its region holds. One module is the walkthrough's default; --mod AB "
        "makes the joint configuration (the fCXB of FPMB regions on the same sky follows FPMA's)."
    )
    params = (
        Param("bgd_dir", "path", Path("."), positional=True,
              help="folder with bgdap<m>.fits, det<d><m>im.fits, bgd<d><m>.reg and their spectra"),
        Param("mod", "modules", ("A",), help="module(s) of the configuration: A, B or AB (joint)"),
        Param("out", "path", None, role="output",
              help="JSON file to write (default bgdinfo<m>.json, bgdinfo.json for AB, in BGD_DIR)"),
        Param("fix_line_ratios", "bool", True,
              help="lines at and above 21.9 keV follow the 19.65 keV line (intbgd_fix_line_ratios)"),
        Param("tie_fcxb", "bool", True,
              help="joint configuration: tie the fCXB of regions with identical sky shapes"),
        OVERWRITE,
    )

    def check(self) -> None:
        from nuskybgd.errors import InputError
        from nuskybgd.workflow.config import config_name

        if self.bgd_dir.exists() and not self.bgd_dir.is_dir():
            raise InputError(f"BGD_DIR {self.bgd_dir} is a file, not a folder; give the folder with the "
                             "projbgd images, regions and spectra (event_cl/bgd).", self.bgd_dir)
        if self.out is None:
            self.out = self.bgd_dir / config_name(self.mod)
        elif not self.out.is_absolute() and self.out.parent == Path("."):
            self.out = self.bgd_dir / self.out

    def inputs(self) -> list[Path]:
        """The projbgd images, and the background regions and spectra present now (the regions
        step skips detectors, so the set is the data's; a change makes the configuration stale)."""
        files: list[Path] = []
        for m in self.mod:
            files += [self.bgd_dir / f"bgdap{m}.fits", *(self.bgd_dir / f"det{d}{m}im.fits" for d in range(4))]
            for reg in sorted(self.bgd_dir.glob(f"bgd[0-3]{m}.reg")):
                files += [reg, *sorted(self.bgd_dir.glob(f"*_{reg.stem}_sr.pha"))]
        return files

    def outputs(self) -> list[Path]:
        return [self.out]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.workflow.config import load_bgdinfo, make_config

        rep = reporter_or_default(reporter)
        rep.progress(0.0, "collecting regions and spectra")
        path = make_config(self.bgd_dir, self.mod, out=self.out, overwrite=self.overwrite, reporter=rep,
                           fix_line_ratios=self.fix_line_ratios, tie_fcxb_by_sky=self.tie_fcxb)
        info = load_bgdinfo(path)
        values = {"n_spectra": info.n_spectra, "modules": "".join(info.used_modules),
                  "regions": [Path(r).name for r in info.regfiles],
                  "fcxb_links": [list(x) for x in info.fcxb_links]}
        rep.result(values, f"{path.name}: {info.n_spectra} background spectra of FPM"
                           f"{'+'.join(info.used_modules)}")
        rep.progress(1.0, "configuration written")
        return StepResult(outputs=[path], values=values)


def config_steps(seqid: str, m: str) -> list[StepInstance]:
    """The plan's ``config.{m}``: ``bgd/bgdinfo{m}.json`` for one module."""
    if not spectra_in_plan():
        return []
    return [StepInstance(f"config.{m}", "config", m, "nuskybgd.pipeline.steps.config:ConfigStep",
                         {"bgd_dir": "bgd", "mod": m, "out": f"bgd/bgdinfo{m}.json"},
                         f"Fit configuration — FPM{m}")]
