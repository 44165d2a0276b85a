"""``nuskybgd validate FILE...``: say what OGIP spectra and responses lack."""

from __future__ import annotations

import argparse

SUMMARY = "check OGIP spectra (PHA), responses (RMF) and ARFs and say what each file lacks"
DESCRIPTION = """\
Check PHA, RMF and ARF files against the OGIP standards XSPEC and Sherpa rely on (mandatory
keywords and columns, HDUCLAS values, energy grids, channel ranges, matrix normalisation,
GROUPING/QUALITY values).  Exit status 0 when every file passes, 1 when any has problems, 2 when a
file is missing or is not an OGIP file.

  nuskybgd validate nu10601407002A01_sr.pha nu10601407002A01_sr.rmf nu10601407002A01_sr.arf
"""


STEP = "nuskybgd.pipeline.steps.validate:ValidateStep"


def reporter(args: argparse.Namespace):
    """Problems are printed as a table; nothing on standard error."""
    from nuskybgd.events import Silent

    return Silent()


def present(result, args: argparse.Namespace) -> int:
    """Print a table of problems; 1 if any file has problems."""
    from rich.console import Console

    results = result.values["results"]
    console = Console(highlight=False)
    failed = 0
    for path, (kind, problems) in results.items():
        if not problems:
            console.print(f"[green]OK[/green]    {path} ({kind})")
            continue
        failed += 1
        console.print(f"[red]FAIL[/red]  {path} ({kind}): {len(problems)} problem(s)")
        for problem in problems:
            console.print(f"        - {problem}")
    return 1 if failed else 0
