"""``nuskybgd mkinstrmap``: the DET1 detector map with gaps and bad pixels removed."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "instrument map newinstrmap{A,B}.fits (detector+1 per DET1 sub-pixel, bad pixels removed)"
DESCRIPTION = """Make the instrument map of one module from a cleaned event file.

  nuskybgd mkinstrmap nu10601407002A01_cl.evt
  nuskybgd mkinstrmap nu10601407002A01_cl.evt usrbpix=mybad.fits prefix=obs1_

Writes <prefix>newinstrmap<A|B>.fits: value k = detector DET(k-1), 0 = gap or bad pixel.
A RAW pixel is bad when it is bad for more than 80% of the observation (its BADPIX
intervals combined) or disabled on board.  PIXPOS/INSTRMAP come from the calibration
source in use (CALDB, auxiliary folder or built-in; the header says which)."""


def _yes(value: str | None) -> bool:
    return value is not None and str(value).lower() in ("yes", "y", "true", "t", "1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("evtfile", help="cleaned event file with BADPIX extensions")
    parser.add_argument("--usrbpix", default="", help="comma-separated user bad-pixel files")
    parser.add_argument("--prefix", default="", help="prefix of the output name")
    parser.add_argument("--dryrun", nargs="?", const="yes", default="no",
                        help="only list the bad-pixel tables (original: dryrun=yes)")
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    from nuskybgd.pipeline.image_steps import MkInstrMapStep

    files = [f for f in str(args.usrbpix).split(",") if f.strip()]
    step = MkInstrMapStep(args.evtfile, usrbpix=files, prefix=args.prefix, overwrite=args.overwrite,
                          dryrun=_yes(args.dryrun))
    step.run()
    return 0
