"""``nuskybgd info PATH``: list an observation's files, pointing and exposures."""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.io.discovery import Observation

SUMMARY = "show an observation's event files, pointing and exposure per module and mode"
DESCRIPTION = """\
Find the NuSTAR observation(s) under PATH and print, per observation, the target, date,
pointing (RA_PNT, DEC_PNT), roll angle (PA_PNT) and, per module and mode, ONTIME, LIVETIME,
EXPOSURE, DEADC, the GTI sum and the number of events, plus the DET1 reference-point, GTI,
attitude and housekeeping files found.

PATH may be a sequence directory (<seqid>/ with event_cl/), its event_cl/ folder, a folder of
sequence directories, a folder of event files (*.evt, *.evt.gz) or one event file.

examples:
  nuskybgd info 30101031002
  nuskybgd info 30101031002/event_cl
  nuskybgd info indir=30101031002      (original key=value syntax)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of tables")


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.{digits}f}"


def _as_dict(obs: Observation, problems: list[str]) -> dict:
    return {
        "seqid": obs.seqid, "target": obs.target, "date_obs": obs.date_obs,
        "ra_pnt": obs.ra_pnt, "dec_pnt": obs.dec_pnt, "pa_pnt": obs.pa_pnt,
        "event_dir": str(obs.event_dir),
        "event_files": [
            {"key": e.key, "module": e.module, "mode": e.mode, "chu": e.chu, "path": str(e.path),
             "n_events": e.n_events, "ontime_s": e.ontime, "livetime_s": e.livetime,
             "exposure_s": e.exposure, "deadc": e.deadc, "gti_ontime_s": e.gti_ontime}
            for e in obs.event_files
        ],
        "det1_files": {k: str(v) for k, v in obs.det1_files.items()},
        "gti_files": {k: str(v) for k, v in obs.gti_files.items()},
        "attitude_files": [str(p) for p in obs.attitude_files],
        "hk_files": {k: str(v) for k, v in obs.hk_files.items()},
        "problems": problems,
    }


def _print_rich(observations: list[Observation], problems: dict[str, list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not console.is_terminal:  # files and pipes: do not fold the table to 80 columns
        console = Console(highlight=False, width=150)
    for obs in observations:
        point = ("solar / not given" if obs.ra_pnt is None else
                 f"RA {obs.ra_pnt:.4f}°  Dec {obs.dec_pnt:.4f}°  roll (PA_PNT) {_fmt(obs.pa_pnt, 4)}°")
        console.print(f"[bold]Observation {obs.seqid}[/bold]  target {obs.target or '—'}  "
                      f"date {obs.date_obs or '—'}")
        console.print(f"  pointing: {point}")
        console.print(f"  events in: {obs.event_dir}")
        table = Table(show_lines=False)
        for col, just in (("module/mode", "left"), ("file", "left"), ("events", "right"),
                          ("ONTIME s", "right"), ("LIVETIME s", "right"), ("EXPOSURE s", "right"),
                          ("DEADC", "right"), ("GTI sum s", "right")):
            table.add_column(col, justify=just, overflow="fold")
        for e in obs.event_files:
            mode = "unknown" if e.mode == "??" else e.mode
            table.add_row(f"FPM{e.module} {mode}" + (f" {e.chu}" if e.chu else ""), str(e.path.name),
                          str(e.n_events), _fmt(e.ontime), _fmt(e.livetime), _fmt(e.exposure),
                          _fmt(e.deadc, 5), _fmt(e.gti_ontime))
        console.print(table)
        side = []
        for label, files in (("DET1 ref-point", obs.det1_files), ("GTI", obs.gti_files),
                             ("housekeeping", obs.hk_files)):
            side.append(f"  {label}: " + (", ".join(f"{k} {v.name}" for k, v in sorted(files.items()))
                                          or "none found"))
        side.append("  attitude: " + (", ".join(p.name for p in obs.attitude_files) or "none found"))
        for line in side:
            console.print(line)
        for msg in problems.get(obs.seqid, []):
            console.print(f"  [yellow]note:[/yellow] {msg}")
        console.print()


STEP = "nuskybgd.pipeline.steps.info:ObservationInfoStep"


def reporter(args: argparse.Namespace):
    """Warnings are shown in the table; only --json users get them on standard error."""
    from nuskybgd.events import Reporter, Silent

    return Reporter() if args.json else Silent()


def present(result, args: argparse.Namespace) -> int:
    """Print the observations as tables (or JSON with --json)."""
    observations = result.values["observations"]
    problems = result.values["problems"]
    if args.json:
        print(json.dumps([_as_dict(o, problems[o.seqid]) for o in observations], indent=2))
    else:
        _print_rich(observations, problems)
    return 0
