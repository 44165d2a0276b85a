"""``mkinstrmap``: the instrument map ``newinstrmap{A,B}.fits`` (detector per DET1 sub-pixel)."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default
from nuskybgd.pipeline.steps._calibration import announce_builtin


class MkInstrMapStep(Step):
    """``newinstrmap{A,B}.fits``: detector + 1 per DET1 sub-pixel, 0 in gaps and bad pixels."""

    name = "mkinstrmap"
    title = "Instrument map"
    help = (
        "Make the instrument map: which detector owns each DET1 sub-pixel (PIXPOS), minus the gaps "
        "(INSTRMAP) and the pixels that were bad for more than 80% of the observation or disabled "
        "on board (the event file's BADPIX extensions and any user bad-pixel files). Every later "
        "step uses it to know which detector sees which part of the sky."
    )
    params = (
        Param("event_file", "path", positional=True, role="input", aliases=("evtfile",),
              help="cleaned event file with BADPIX extensions"),
        Param("usrbpix", "paths", (), role="input", help="comma-separated user bad-pixel files"),
        Param("prefix", "str", "", help="prefix of the output name"),
        Param("outdir", "path", None, help="output folder (default: the event file's, i.e. event_cl/)"),
        Param("module", "module", None, cli=False, help="module (default: the event file's INSTRUME)"),
        OVERWRITE,
        Param("dryrun", "bool", False, help="only list the bad-pixel tables (original: dryrun=yes)"),
    )

    def resolved_module(self) -> str:
        """The module of the event file (its INSTRUME), or the one given."""
        if self.module is None:
            from nuskybgd.io.events import read_event_headers
            from nuskybgd.modules import module_of

            prim, evh, _ = read_event_headers(self.event_file)
            m = module_of(evh.get("INSTRUME", prim.get("INSTRUME")), self.event_file, "event file")
            if m is None:
                raise InputError(f"event file {self.event_file} has no INSTRUME keyword; it must say FPMA "
                                 "or FPMB.", self.event_file)
            self.module = m
        return self.module

    def output_path(self, module: str) -> Path:
        """``<outdir>/<prefix>newinstrmap<module>.fits``."""
        folder = self.outdir if self.outdir is not None else self.event_file.parent
        return folder / f"{self.prefix}newinstrmap{module}.fits"

    def outputs(self) -> list[Path]:
        if self.dryrun:
            return []
        try:
            mod = self.resolved_module()
        except InputError:
            mod = "A"
        return [self.output_path(mod)]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.geometry.instrmap_file import collect_bad_pixels, make_instrument_map

        rep = reporter_or_default(reporter)
        mod = self.resolved_module()
        out = self.output_path(mod)
        rows, date_obs, observation = collect_bad_pixels(self.event_file, self.usrbpix, mod, rep,
                                                         check_output=None if self.dryrun else out,
                                                         overwrite=self.overwrite)
        nrows = sum(len(r.rawx) for r in rows)
        rep.log(f"{len(rows)} BADPIX tables with {nrows} rows (event file and {len(self.usrbpix)} user files)")
        if self.dryrun:
            return StepResult(values={"badpix_rows": nrows})
        if self.calibration is None:
            from nuskybgd.pipeline.steps import _calibration

            self.calibration = _calibration.resolve_calibration(mod, date_obs)
        cal = self.calibration
        announce_builtin(cal, rep, "pixel_map", "active_area")
        counts, n_bad = make_instrument_map(out, rows, cal, mod, observation,
                                            inputs=[self.event_file, *self.usrbpix], overwrite=self.overwrite)
        rep.log(f"{n_bad} RAW pixels bad; active sub-pixels per detector {counts}")
        rep.output(out)
        return StepResult(outputs=[out], values={"pixels": counts, "bad_raw": n_bad},
                          calibration=cal.source_for("pixel_map", "active_area"))
