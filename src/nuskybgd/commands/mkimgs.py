"""``nuskybgd mkimgs``: counts images (sky or DET1) of a cleaned event file in an energy band."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "counts images (sky 1000×1000 or DET1 360×360) of an event file in an energy band"
DESCRIPTION = """Make a counts image of a cleaned event file, as xselect/nustar-gen-utils do.

  nuskybgd mkimgs nu10601407002A01_cl.evt --elow 3 --ehigh 20          # sky image
  nuskybgd mkimgs nu10601407002A01_cl.evt --elow 3 --ehigh 20 --det1   # DET1 image
  nuskybgd mkimgs nu10601407002A01_cl.evt elow=3 ehigh=20              # original syntax

Output next to the event file: nu<seq>A01_cl_3to20keV.fits (or ..._det1.fits).  The band
selects the PI channels wholly inside [elow, ehigh) keV (3-20 keV = PI 35-459)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("evtfile", help="cleaned event file (nu<seq><A|B>01_cl.evt[.gz])")
    parser.add_argument("outname", nargs="?", default=None,
                        help="optional output file name (default: the nustar-gen-utils name)")
    parser.add_argument("--elow", default="3", help="lower band edge in keV (default 3)")
    parser.add_argument("--ehigh", default="20", help="upper band edge in keV (default 20)")
    parser.add_argument("--det1", action="store_true", help="make the DET1 image instead of the sky image")
    parser.add_argument("--bin", dest="binning", type=int, default=1, help="binning factor (default 1)")
    parser.add_argument("--outdir", default=None, help="output folder (default: the event file's)")
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    from nuskybgd.pipeline.image_steps import MkImgsStep

    step = MkImgsStep(args.evtfile, args.elow, args.ehigh, det1=args.det1, binning=args.binning,
                      outdir=args.outdir, outfile=args.outname, overwrite=args.overwrite)
    step.run()
    return 0
