"""``regions``: automatic per-detector background regions ``bgd{d}{m}.reg`` (the walkthrough's
"one region per detector, avoiding the source and stray light")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.pipeline.plan import StepInstance

__all__ = ["RegionsStep", "regions_plan", "module_from_name", "seqid_from_name"]

_EVENT_NAME = re.compile(r"^nu(\d+)([AB])\d\d_", re.IGNORECASE)
_STEPS = "nuskybgd.pipeline.steps"


def module_from_name(path: Path) -> str | None:
    """"A"/"B" from a nupipeline name (``nu<seq>A01_cl.evt``), None when it does not follow it."""
    m = _EVENT_NAME.match(Path(path).name)
    return m.group(2).upper() if m else None


def seqid_from_name(path: Path) -> str | None:
    """The sequence id of a nupipeline name (``nu<seq>A01_cl.evt``), None when it does not follow it."""
    m = _EVENT_NAME.match(Path(path).name)
    return m.group(1) if m else None


def _module_of_events(event_file: Path) -> str:
    """The module of an event file: from its name, else its INSTRUME keyword."""
    found = module_from_name(event_file)
    if found is None:
        from nuskybgd.io.events import read_event_headers
        from nuskybgd.modules import module_of

        _, header, _ = read_event_headers(event_file)
        found = module_of(header.get("INSTRUME"), event_file, "event file") or "A"
    return found


class RegionsStep(Step):
    """Per-detector background regions cut from projbgd's detector footprints."""

    name = "regions"
    title = "Background regions"
    help = (
        "Cut one background region per detector, bgd<d><m>.reg, from the detector's sky footprint "
        "(projbgd's det<d><m>im.fits): minus a border along the edges and gaps, minus the source "
        "(its region, and a circle out to where its PSF wings fall below 1% of the background per "
        "pixel; the ~3% of a point source's photons beyond it are modelled by the fit's source-wing "
        "term), minus your exclusions (sky regions, or StrayCats-style DET1 regions mapped through "
        "the aspect); with hand-drawn background areas (--within), only inside them. A detector "
        "left with too little area is skipped and said so. The source "
        "region src<m>.reg is yours: draw it on the 3-20 keV image in ds9 and save it in bgd/."
    )
    params = (
        Param("event_file", "path", positional=True, role="input", aliases=("evtfile",),
              help="cleaned event file (nu<seq><A|B>01_cl.evt[.gz])"),
        Param("src", "path", role="input", aliases=("srcreg",),
              help="ds9 source region (e.g. bgd/srcA.reg, drawn in ds9 on the source)"),
        Param("exclude", "paths", (), role="input",
              help="ds9 files in sky coordinates to exclude (stray light), comma-separated"),
        Param("within", "paths", (), role="input",
              help="ds9 files in sky coordinates: cut the background regions only inside their area "
                   "(hand-drawn background regions, still split per detector), comma-separated"),
        Param("det1_exclude", "paths", (), role="input",
              help="ds9 files in DET1 image coordinates to exclude (StrayCats regions), comma-separated"),
        Param("det1_file", "path", None, role="input",
              help="DET1 track nu<seq><m>_det1.fits (default: beside the event file, when --det1-exclude is given)"),
        Param("det_images", "paths", None, role="input",
              help="projbgd's det<d><m>im.fits (default: det0..3<m>im.fits in --outdir)"),
        Param("outdir", "path", None, help="output folder (default: bgd/ beside the event file)"),
        Param("border", "int", 3, unit="sky pixels", minimum=0, maximum=200,
              help="pixels removed along detector edges and gaps (2.46\" each)"),
        Param("fraction", "float", 0.01, minimum=1e-6, maximum=1.0,
              help="source exclusion: where its counts per pixel fall below this fraction of the background"),
        Param("radius", "float", None, unit="arcsec", minimum=0.0, maximum=3600.0,
              help="fixed source-exclusion radius instead of the PSF-based one"),
        Param("min_pixels", "int", 1000, unit="sky pixels", minimum=1,
              help="skip a detector with fewer usable sky pixels"),
        Param("convention", "choice", "physical", choices=("physical", "projbgd"),
              help="DET1-to-sky mapping of the DET1 exclusions (projbgd: observations simulated so)"),
        OVERWRITE,
    )

    def check(self) -> None:
        if self.outdir is None:
            self.outdir = self.event_file.parent / "bgd"
        self.module = module_from_name(self.event_file)
        if self.det_images is None and self.module is not None:
            self.det_images = tuple(self.outdir / f"det{d}{self.module}im.fits" for d in range(4))
            self.values["det_images"] = self.det_images
        if self.det1_exclude and self.det1_file is None:
            seq = seqid_from_name(self.event_file)
            if seq is None:
                raise InputError("--det1-exclude needs the DET1 track; give --det1-file nu<seqid><m>_det1.fits.")
            self.det1_file = self.event_file.parent / f"nu{seq}{self.module}_det1.fits"
            self.values["det1_file"] = self.det1_file

    def outputs(self) -> list[Path]:
        """Every candidate ``bgd{d}{m}.reg``; the run writes those of the usable detectors."""
        module = self.module or "A"
        return [self.outdir / f"bgd{d}{module}.reg" for d in range(4)]

    @staticmethod
    def missing_input_help(path: Path) -> str | None:
        """The sentence for a missing source region (the user draws it); None for other files."""
        name = Path(path).name
        if re.fullmatch(r"src[AB]?\.reg", name, re.IGNORECASE):
            return (f"source region {path} does not exist; draw a region on the source in ds9 (on the "
                    f"3-20 keV image, fk5 coordinates) and save it as {path}.")
        return None

    def _check_inputs(self) -> None:
        if not self.src.is_file():
            raise InputError(self.missing_input_help(self.src)
                             or f"source region {self.src} does not exist; draw it in ds9 and save it there.",
                             self.src)
        for p in self.det_images or ():
            if not Path(p).is_file():
                raise InputError(f"detector image {p} does not exist; run projbgd first (it writes "
                                 "det0..3<m>im.fits), or give --det-images.", p)

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.io.staging import atomic_set
        from nuskybgd.pipeline.steps._staged import StagedReporter
        from nuskybgd.products.background_regions import make_background_regions

        rep = reporter_or_default(reporter)
        if self.module is None:
            self.module = _module_of_events(self.event_file)
            if self.det_images is None:
                self.det_images = tuple(self.outdir / f"det{d}{self.module}im.fits" for d in range(4))
        self._check_inputs()
        targets = self.outputs()
        with atomic_set(targets, overwrite=self.overwrite, require_all=False) as stage:
            res = make_background_regions(
                self.event_file, list(self.det_images), self.src, stage[targets[0]].parent,
                exclusions=list(self.exclude), within=list(self.within), det1_exclusions=list(self.det1_exclude), det1_file=self.det1_file,
                convention=self.convention, border=self.border, fraction=self.fraction,
                radius_arcsec=self.radius, min_pixels=self.min_pixels, overwrite=True,
                reporter=StagedReporter(rep))
        written = [self.outdir / p.name for p in res.files.values()]
        for d, why in sorted(res.skipped.items()):
            rep.warning(why)
            old = self.outdir / f"bgd{d}{self.module}.reg"
            if old.exists():
                rep.warning(f"{old} is left from an earlier run and is not one of this run's background regions")
        for p in written:
            rep.output(p)
        return StepResult(outputs=written,
                          values={"detectors": sorted(res.files), "skipped": sorted(res.skipped),
                                  "radius_arcsec": round(res.radius_arcsec, 2),
                                  "source_counts": round(res.source_counts, 1),
                                  "background_per_pixel": res.background_per_pixel})


def regions_plan(seqid: str, m: str) -> list[StepInstance]:
    """The ``regions.{m}`` instance of an observation's plan (paths relative to ``event_cl/``)."""
    from nuskybgd.pipeline.plan import StepInstance

    return [StepInstance(f"regions.{m}", "regions", m, f"{_STEPS}.regions:RegionsStep",
                         {"event_file": f"nu{seqid}{m}01_cl.evt", "src": f"bgd/src{m}.reg",
                          "det_images": [f"bgd/det{d}{m}im.fits" for d in range(4)], "outdir": "bgd"},
                         f"Background regions — FPM{m}")]
