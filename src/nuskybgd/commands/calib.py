"""``nuskybgd calib``: show which calibration source each item uses; fetch the auxiliary set."""

from __future__ import annotations

import argparse

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
    fe.add_argument("--dest", default=None, help="destination folder (default: user cache)")
    fe.add_argument("--base-url", "--url", dest="base_url", default=None,
                    help="mirror holding the files by name (default $NUSKYBGD_AUXIL_URL or the "
                         "pinned GitHub commit)")
    fe.add_argument("--timeout", type=float, default=60.0, help="per-request timeout in s")
    fe.add_argument("--overwrite", action="store_true",
                    help="replace files that differ from the pinned ones")


def _status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from nuskybgd.calib.auxil import find_auxil_dir, verify_auxil
    from nuskybgd.calib.resolve import resolve

    console = Console()
    mods = [m for m in args.mod.upper().removeprefix("FPM") if m in "AB"] or ["A", "B"]
    colour = {"CALDB": "green", "AUXIL": "cyan", "BUILTIN": "yellow"}
    any_builtin = False
    for mod in dict.fromkeys(mods):
        cal = resolve(mod, date_obs=args.date_obs, caldb=args.caldb, auxil=args.auxil,
                      prefer=args.prefer)
        table = Table(title=f"FPM{mod} calibration ({cal.source})", show_lines=False)
        table.add_column("item")
        table.add_column("source")
        table.add_column("file / model", overflow="fold")
        table.add_column("why", overflow="fold")
        for it in cal.items():
            c = colour.get(it.source, "white")
            table.add_row(it.item, f"[{c}]{it.source}[/{c}]", it.location, it.reason)
        console.print(table)
        any_builtin |= cal.uses_builtin
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
        from rich.console import Console

        Console(stderr=True).print(
            "[yellow]warning:[/yellow] items marked BUILTIN use nuskybgd's built-in nominal "
            "(approximate) calibration; products will say so. Install CALDB or run "
            "'nuskybgd calib fetch' for the real files.")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from nuskybgd.pipeline.calib_steps import FetchAuxilStep

    step = FetchAuxilStep(args.dest, args.base_url, overwrite=args.overwrite, timeout=args.timeout)
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
