"""``spectrum``: spectra of ds9 regions with their responses and grouped copies
(``nu<seq><m>01_<reg>_sr.pha``, ``.rmf``, a source's ``.arf``, ``_sr_g30.pha``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default
from nuskybgd.pipeline.steps.regions import module_from_name, seqid_from_name

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.pipeline.plan import StepInstance

__all__ = ["SpectrumStep", "spectra_plan"]

_STEPS = "nuskybgd.pipeline.steps"
#: region names of the walkthrough that say which module they were made for (bgd0A, srcB)
_MODULE_REGION = re.compile(r"^(?:bgd\d|src)([AB])$")


def _split_commas(paths) -> tuple[Path, ...]:
    return tuple(Path(s) for p in paths or () for s in str(p).split(",") if s.strip())


class SpectrumStep(Step):
    """Spectra, responses and grouped copies of one module's regions (events read once)."""

    name = "spectrum"
    title = "Spectra"
    help = (
        "Extract the spectrum of each region (events whose sky pixel lies in it, within the good "
        "times), with its RMF (the detectors' RMFs mixed by where the region's events fell) and, for "
        "the source region, an ARF; plus the copy grouped to at least 30 counts the fit uses. Names "
        "as nustar-gen-utils writes them: nu<seq><m>01_<region>_sr.pha in bgd/."
    )
    #: in a session, ``regions`` holds the files the ``regions`` step of the same module wrote
    follows: ClassVar[dict[str, str]] = {"regions": "regions"}
    params = (
        Param("event_file", "path", positional=True, role="input", aliases=("evtfile",),
              help="cleaned event file (nu<seq><A|B>01_cl.evt[.gz])"),
        Param("regions", "paths", (), positional=True, role="input",
              help="ds9 region files, comma-separated (background regions: RMF only)"),
        Param("src", "path", None, role="input", help="source region (its spectrum also gets an ARF)"),
        Param("outdir", "path", None, help="output folder (default: bgd/ beside the event file)"),
        Param("usrgti", "path", None, role="input", help="user GTI file intersected with the event file's"),
        Param("group_min", "int", 30, minimum=0, maximum=1_000_000,
              help="minimum counts per group of the _g<N> copy (0: no grouped copy)"),
        Param("optimal", "bool", False, help="also write an optimally binned copy (_opt.pha)"),
        Param("nuproducts", "bool", False, help="extract with HEASoft's nuproducts (must be on PATH)"),
        OVERWRITE,
    )

    def check(self) -> None:
        self.regions = _split_commas(self.regions)
        self.values["regions"] = self.regions
        if self.src is None and not self.regions:
            raise InputError("spectrum needs at least one region: give REG[,REG...] or --src SRC.reg.")
        if self.outdir is None:
            self.outdir = self.event_file.parent / "bgd"
        files = ([self.src] if self.src is not None else []) + list(self.regions)
        self.named: dict[str, Path] = {}
        for p in files:
            stem = p.name[:-4] if p.name.lower().endswith(".reg") else p.name
            if stem in self.named:
                raise InputError(f"region files {self.named[stem]} and {p} have the same name {stem!r}, so their "
                                 "spectra would have the same name; rename one of them.", p)
            self.named[stem] = p
        self.sources = [self.named_of(self.src)] if self.src is not None else []

    def named_of(self, path: Path) -> str:
        """The ``<reg>`` of the output names of region file ``path``."""
        return next(k for k, v in self.named.items() if v == path)

    def _identity(self) -> tuple[str, str]:
        """(seqid, module) as the products are named: the event file's OBS_ID and INSTRUME, or its
        name while it does not exist yet."""
        if self.event_file.is_file():
            from nuskybgd.io.events import read_event_headers
            from nuskybgd.modules import module_of

            _, header, _ = read_event_headers(self.event_file)
            return (str(header.get("OBS_ID", "")).strip(),
                    module_of(header.get("INSTRUME"), self.event_file, "event file") or "A")
        return seqid_from_name(self.event_file) or "", module_from_name(self.event_file) or "A"

    def planned(self) -> dict[str, dict[str, Path]]:
        """The files this step writes, per region name and kind (``pha``, ``rmf``, ``arf``, ``g30`` …)."""
        from nuskybgd.products.spectrum_products import planned_outputs

        seq, mod = self._identity()
        gti_stem = self.usrgti.name.split(".")[0] if self.usrgti is not None else None
        return planned_outputs(seq, mod, list(self.named), self.outdir, self.sources,
                               self.group_min or None, self.optimal, gti_stem)

    def outputs(self) -> list[Path]:
        return [p for files in self.planned().values() for p in files.values()]

    def _check_modules(self, module: str) -> None:
        for stem, path in self.named.items():
            m = _MODULE_REGION.match(stem)
            if m and m.group(1) != module:
                raise InputError(f"region {path} is named for FPM{m.group(1)} but event file {self.event_file} is "
                                 f"FPM{module}; give the regions of FPM{module}.", path)

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.io.events import read_event_headers
        from nuskybgd.io.staging import atomic_set
        from nuskybgd.modules import module_of
        from nuskybgd.pipeline.steps._calibration import announce_builtin, resolve_calibration
        from nuskybgd.pipeline.steps._staged import StagedReporter

        rep = reporter_or_default(reporter)
        for p in self.named.values():
            if not p.is_file():
                raise InputError(f"region file {p} does not exist; check the name, or make it (nuskybgd regions, "
                                 "or draw it in ds9).", p)
        _, header, _ = read_event_headers(self.event_file)
        module = module_of(header.get("INSTRUME"), self.event_file, "event file") or "A"
        self._check_modules(module)
        if self.nuproducts and shutil.which("nuproducts") is None:
            raise InputError("--nuproducts needs HEASoft's nuproducts on PATH; initialise HEASoft (heainit) first, "
                             "or leave out --nuproducts to extract in Python.")
        plan = self.planned()
        targets = [p for files in plan.values() for p in files.values()]
        calibration = self.calibration
        if calibration is None and not self.nuproducts:
            calibration = resolve_calibration(module, str(header.get("DATE-OBS", "")).strip())
        if calibration is not None:
            announce_builtin(calibration, rep, "rmf", "onaxis_arf")
        with atomic_set(targets, overwrite=self.overwrite) as stage:
            folder = stage[targets[0]].parent
            if self.nuproducts:
                from nuskybgd.products.nuproducts import nuproducts_spectra

                nuproducts_spectra(self.event_file, self.named, folder, plan, sources=self.sources,
                                   usrgti=self.usrgti, group_min=self.group_min or None, optimal=self.optimal,
                                   reporter=StagedReporter(rep))
            else:
                from nuskybgd.products.spectrum_products import make_spectra

                make_spectra(self.event_file, self.named, folder, calibration, sources=self.sources,
                             usrgti=self.usrgti, group_min=self.group_min or None, optimal=self.optimal,
                             overwrite=True, reporter=StagedReporter(rep), final_outdir=self.outdir)
        for p in targets:
            rep.output(p)
        label = "nuproducts (HEASoft)" if self.nuproducts else calibration.source_for("rmf")
        return StepResult(outputs=targets,
                          values={"spectra": [files["pha"].name for files in plan.values()]},
                          calibration=label)


def spectra_plan(seqid: str, m: str) -> list[StepInstance]:
    """The ``spectra.{m}`` instance: the source region and every candidate background region (the
    runner narrows the list to the regions ``regions.{m}`` actually wrote)."""
    from nuskybgd.pipeline.plan import StepInstance

    return [StepInstance(f"spectra.{m}", "spectra", m, f"{_STEPS}.spectrum:SpectrumStep",
                         {"event_file": f"nu{seqid}{m}01_cl.evt", "src": f"bgd/src{m}.reg",
                          "regions": [f"bgd/bgd{d}{m}.reg" for d in range(4)], "outdir": "bgd"},
                         f"Spectra — FPM{m}")]
