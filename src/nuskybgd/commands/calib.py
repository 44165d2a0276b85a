"""``nuskybgd calib``: show which calibration source each item uses; fetch the auxiliary set."""

from __future__ import annotations

import argparse
from pathlib import Path

SUMMARY = "show calibration sources (status) or download the auxiliary set (fetch)"
DESCRIPTION = """\
Calibration comes, per item, from your CALDB ($CALDB), then the nuskybgd auxiliary folder
($NUSKYBGD_AUXIL or the user cache filled by 'nuskybgd calib fetch'), then built-in nominal
models (approximate; always announced).

  nuskybgd calib status [--mod A|B|AB] [--date-obs ISO] [--caldb DIR] [--auxil DIR]
  nuskybgd calib fetch  [--dest DIR] [--base-url URL] [--overwrite]

Environment: CALDB, NUSKYBGD_AUXIL, NUSKYBGD_CACHE (cache root), NUSKYBGD_AUXIL_URL (mirror).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="{status,fetch}")
    st = sub.add_parser("status", help="show per item which calibration source will be used and why")
    st.add_argument("--mod", default="AB", help="module(s): A, B or AB (default AB)")
    st.add_argument("--date-obs", default=None, help="observation date for CALDB validity (ISO)")
    st.add_argument("--caldb", default=None, help="CALDB root (default $CALDB)")
    st.add_argument("--auxil", default=None, help="auxiliary folder (default $NUSKYBGD_AUXIL or cache)")
    st.add_argument("--prefer", default=None, choices=["caldb", "auxil", "builtin"],
                    help="start the search at this source")
    st.add_argument("--verify", action="store_true",
                    help="also check the auxiliary folder against the pinned checksums")
    fe = sub.add_parser("fetch", help="download and verify the pinned auxiliary calibration set")
    from nuskybgd.cli import add_step_arguments
    from nuskybgd.pipeline.steps.calib_fetch import FetchAuxilStep

    add_step_arguments(fe, FetchAuxilStep)


def _status(args: argparse.Namespace) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from nuskybgd.calib.auxil import find_auxil_dir, verify_auxil
    from nuskybgd.calib.resolve import BUILTIN, resolve

    console = Console()
    from nuskybgd.pipeline.params import Param

    mods = list(Param("mod", "modules", help="module(s)").convert(args.mod))
    colour = {"CALDB": "green", "AUXIL": "cyan", "BUILTIN": "yellow"}
    cals = {m: resolve(m, date_obs=args.date_obs, caldb=args.caldb, auxil=args.auxil,
                       prefer=args.prefer) for m in mods}
    first = cals[mods[0]]
    # where each source stands, said once (the per-item "why" refers to it briefly)
    console.print(f"{first.caldb_status}\n{first.auxil_status}", highlight=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("item", no_wrap=True)
    table.add_column("module", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("file / model", overflow="fold", ratio=5)
    table.add_column("why", overflow="fold", ratio=4)
    for n, item in enumerate(first.items()):
        rows: dict[tuple[str, str, str], list[str]] = {}
        for m, cal in cals.items():
            it = cal.items()[n]
            # files by name: their folders are the CALDB index / auxiliary folder printed above
            where = it.location if it.source == BUILTIN else Path(it.location).name
            rows.setdefault((it.source, where, it.reason), []).append(m)
        for (source, where, reason), ms in rows.items():
            c = colour.get(source, "white")
            table.add_row(item.item, "FPM" + "/".join(ms), f"[{c}]{source}[/{c}]", where, reason)
    console.print(table)
    any_builtin = any(c.uses_builtin for c in cals.values())
    if args.verify:
        folder, why = find_auxil_dir(args.auxil)
        if folder is None:
            console.print(f"auxiliary folder: none ({why})")
        else:
            res = verify_auxil(folder)
            bad = {k: v for k, v in res.items() if v != "ok"}
            console.print(f"auxiliary folder {folder}: " + (
                "all pinned files verified" if not bad else
                ", ".join(f"{k} {v}" for k, v in bad.items())))
    if any_builtin:
        Console(stderr=True).print(
            "[yellow]warning:[/yellow] items marked BUILTIN use nuskybgd's built-in nominal "
            "(approximate) calibration; products will say so. Install CALDB or run "
            "'nuskybgd calib fetch' for the real files.")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from nuskybgd.pipeline.steps.calib_fetch import FetchAuxilStep

    values = {p.name: getattr(args, p.name) for p in FetchAuxilStep.params if getattr(args, p.name) is not None}
    step = FetchAuxilStep(**values)
    result = step.run()
    print(f"auxiliary calibration set ready in {result.values['folder']}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "fetch":
        return _fetch(args)
    if args.action in (None, "status"):
        if args.action is None:
            for name, default in (("mod", "AB"), ("date_obs", None), ("caldb", None),
                                  ("auxil", None), ("prefer", None), ("verify", False)):
                setattr(args, name, getattr(args, name, default))
        return _status(args)
    return 2
