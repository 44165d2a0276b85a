"""``nuskybgd demo [DIR]``: simulate a default observation and say what to run next."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "simulate a demo observation (100 ks, point source, FPMA+FPMB) and run the pipeline on it"
DESCRIPTION = """\
Make a ready-to-use synthetic observation in DIR (default ./nuskybgd-demo): 100 ks, a point
source at the field centre, both modules, built-in nominal calibration (nothing to install),
seed 1.  Then it runs the image-side steps of the walkthrough on it for both modules (counts
images, instrument maps, aspect histograms, projected background images) and prints the
equivalent commands.  Rerunning resumes: finished steps are skipped.
"""

DEMO_EXPOSURE = 100e3
DEMO_SEQID = "90000000002"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default="nuskybgd-demo",
                        help="folder for the demo observation (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    parser.add_argument("--no-pipeline", action="store_true",
                        help="only simulate; do not run the pipeline steps")
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nuskybgd.pipeline.demo import demo_steps, run_steps
    from nuskybgd.pipeline.simulate_steps import SimulateStep
    from nuskybgd.simulate.core import output_paths

    sim_outputs = output_paths(Path(args.dir), DEMO_SEQID, ("A", "B"))
    if all(p.exists() for p in sim_outputs) and not args.overwrite:
        ev = sim_outputs[0].parent
        print(f"demo observation already in {ev} (delete the folder or pass --overwrite to remake it)")
        if not args.no_pipeline:
            run_steps(demo_steps(ev, DEMO_SEQID, overwrite=args.overwrite))
            print(f"pipeline products are in {ev} and {ev / 'bgd'}")
        return 0
    step = SimulateStep(args.dir, seqid=DEMO_SEQID, exposure=DEMO_EXPOSURE, seed=args.seed,
                        source="point", calibration="nominal", overwrite=args.overwrite)
    res = step.run()
    ev = Path(res.values["event_dir"])
    s = DEMO_SEQID
    print(f"demo observation: {res.values['n_events']} events in {ev}")
    print(f"  truth (injected parameters): {res.values['truth']}")
    if not args.no_pipeline:
        run_steps(demo_steps(ev, DEMO_SEQID, overwrite=args.overwrite))
        print(f"pipeline products are in {ev} and {ev / 'bgd'}")
    print("the same steps by hand:")
    print(f"  cd {ev}")
    print("  nuskybgd info ..                     # files, pointing, exposure")
    print(f"  nuskybgd mkimgs nu{s}A01_cl.evt --elow 3 --ehigh 20     # sky image (and B)")
    print(f"  nuskybgd mkinstrmap nu{s}A01_cl.evt                   # detector/bad-pixel map")
    print(f"  nuskybgd aspecthist nu{s}A_det1.fits gtifile=nu{s}A01_gti.fits out=aspecthistA.fits")
    print("  mkdir -p bgd && cd bgd")
    print(f"  nuskybgd projbgd refimg=../nu{s}A01_cl_3to20keV.fits out=bgdapA.fits mod=A det=1234 "
          "chipmap=../newinstrmapA.fits aspect=../aspecthistA.fits")
    print("  still by hand in this version: regions, spectra and the fit (walkthrough steps 5-8)")
    return 0
