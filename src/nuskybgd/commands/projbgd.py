"""``nuskybgd projbgd``: project the detector masks and the aperture image onto the sky."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "projected background images bgdap<m>.fits and det{0..3}<m>im.fits"
DESCRIPTION = """Project the instrument map and the aperture image onto the sky frame.

  nuskybgd projbgd refimg=../nu10601407002A01_cl_3to20keV.fits out=bgdapA.fits \\
      mod=A det=1234 chipmap=../newinstrmapA.fits aspect=../aspecthistA.fits

Writes out (bgdap<m>.fits: 10-15 keV aperture counts per 100 ks per sky pixel) and
det{k-1}<m>im.fits for each k in det (exposure fraction on detector k-1), all in the folder
of out.  Uses nuskybgd's effective mapping: roll PA_PNT + 1 deg, the (2.7, 0.8) nudge.
Instead of refimg, --evtfile builds the sky grid from the event file's WCS."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--refimg", default=None, help="reference sky image (WCS and PA_PNT)")
    parser.add_argument("--evtfile", default=None, help="event file to build the sky grid from (instead of refimg)")
    parser.add_argument("--out", required=True, help="aperture image to write (bgdap<m>.fits)")
    parser.add_argument("--mod", required=True, help="module A or B")
    parser.add_argument("--det", default="1234", help="chip-map values to project, e.g. 1234")
    parser.add_argument("--chipmap", required=True, help="newinstrmap<m>.fits from mkinstrmap")
    parser.add_argument("--aspect", required=True, help="aspecthist<m>.fits from aspecthist")
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    from nuskybgd.pipeline.image_steps import ProjBgdStep

    ProjBgdStep(args.out, args.mod, args.chipmap, args.aspect, refimg=args.refimg, evtfile=args.evtfile,
                det=args.det, overwrite=args.overwrite).run()
    return 0
