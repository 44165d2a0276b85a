"""``nuskybgd simulate OUTDIR``: a synthetic NuSTAR observation with known truth."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "simulate a NuSTAR observation (events, GTI, DET1 track, truth.json) from the model"
DESCRIPTION = """\
Simulate a NuSTAR observation from the nuskybgd background model (aperture stray-light CXB,
instrumental lines and continuum per detector, focused CXB; optional solar soft component) plus
an astrophysical source, and write the files nupipeline would leave in event_cl/:

  OUTDIR/<seqid>/event_cl/nu<seqid>A01_cl.evt    cleaned events (EVENTS, GTI, BADPIX x4)
  OUTDIR/<seqid>/event_cl/nu<seqid>A01_gti.fits  good time intervals
  OUTDIR/<seqid>/event_cl/nu<seqid>A_det1.fits   DET1 reference-point track (0.2 s)
  (the same for B) and OUTDIR/<seqid>/truth.json with every injected parameter.

The same seed gives identical files.  With the built-in nominal calibration nothing but the
package is needed; the files say which calibration made them (NSBCALIB).

examples:
  nuskybgd simulate sim
  nuskybgd simulate sim --exposure 100e3 --source cluster --seed 7
  nuskybgd simulate sim --caldb-tree sim/caldb      (also write a CALDB folder)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("outdir", help="top folder; files go to OUTDIR/<seqid>/event_cl/")
    parser.add_argument("--seqid", default="90000000002", help="11-digit observation ID (default %(default)s)")
    parser.add_argument("--exposure", type=float, default=50e3,
                        help="livetime (EXPOSURE) in s (default %(default)g)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    # names are checked by the simulator (one-sentence error), not by argparse choices
    parser.add_argument("--source", default="point", metavar="{point,cluster,none}",
                        help="astrophysical source at the field centre (default %(default)s)")
    parser.add_argument("--calibration", default="nominal", metavar="{nominal,auxil,caldb}",
                        help="calibration to simulate with; auxil and caldb refuse to fall back "
                             "to the built-in one (default %(default)s)")
    parser.add_argument("--caldb-tree", dest="caldb_tree", default=None, metavar="DIR",
                        help="also write a CALDB folder (data/nustar/fpm/caldb.indx …) from the "
                             "calibration used")
    parser.add_argument("--modules", default="AB", help="modules to simulate: A, B or AB (default AB)")
    parser.add_argument("--solar", action="store_true",
                        help="include the solar soft component (intbgd apec and 3.5/4.5/10.2 keV "
                             "lines; apec needs AtomDB)")
    parser.add_argument("--convention", default="physical", metavar="{physical,projbgd}",
                        help="DET1↔sky mapping (default %(default)s)")
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    from nuskybgd.errors import InputError
    from nuskybgd.pipeline.simulate_steps import SimulateStep

    mods = tuple(dict.fromkeys(args.modules.upper()))
    if not mods or any(m not in "AB" for m in mods):
        raise InputError(f"--modules {args.modules} is not understood; use A, B or AB.")
    step = SimulateStep(args.outdir, seqid=args.seqid, exposure=args.exposure, seed=args.seed,
                        source=args.source, calibration=args.calibration,
                        caldb_tree=args.caldb_tree, modules=mods, overwrite=args.overwrite,
                        solar=args.solar, convention=args.convention)
    res = step.run()
    v = res.values
    print(f"simulated {v['n_events']} events "
          + ", ".join(f"FPM{m}: {n}" for m, n in v["per_module"].items())
          + f" in {v['event_dir']}")
    print(f"truth: {v['truth']}")
    return 0
