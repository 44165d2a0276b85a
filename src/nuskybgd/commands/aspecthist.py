"""``nuskybgd aspecthist``: the aspect histogram of DET1 pixel (350, 350) inside the GTIs."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "aspect histogram of the DET1 reference point (aspecthist{A,B}.fits)"
DESCRIPTION = """Make the aspect histogram from the nupipeline DET1 reference-point file.

  nuskybgd aspecthist nu10601407002A_det1.fits gtifile=nu10601407002A01_gti.fits out=aspecthistA.fits
  nuskybgd aspecthist nu10601407002A_det1.fits --gtifile nu10601407002A01_gti.fits --out aspecthistA.fits

Samples inside the GTIs [START, STOP) are weighted by the time to the next sample and
binned at (floor X_DET1, floor Y_DET1); the image is cropped to the occupied box
(keywords X_OFF, Y_OFF, EXPOSURE)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("det1file", help="nu<seq><A|B>_det1.fits (DET1_REFPOINT)")
    parser.add_argument("--gtifile", required=True, help="GTI file (nu<seq><A|B>01_gti.fits or an event file)")
    parser.add_argument("--out", required=True, help="output aspect histogram (aspecthist<A|B>.fits)")
    parser.add_argument("--clip-to-gti", action="store_true",
                        help="clip each sample's weight at its GTI stop (default: nuskybgd-py weights)")
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    from nuskybgd.pipeline.image_steps import AspectHistStep

    AspectHistStep(args.det1file, args.gtifile, args.out, clip_to_gti=args.clip_to_gti,
                   overwrite=args.overwrite).run()
    return 0
