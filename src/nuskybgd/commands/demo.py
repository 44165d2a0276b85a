"""``nuskybgd demo [DIR]``: simulate a default observation and say what to run next."""

from __future__ import annotations

import argparse

from nuskybgd.commands._common import add_overwrite

SUMMARY = "simulate a demo observation (100 ks, point source, FPMA+FPMB) and run the pipeline on it"
DESCRIPTION = """\
Make a ready-to-use synthetic observation in DIR (default ./nuskybgd-demo): 100 ks, a point
source at the field centre, both modules, built-in nominal calibration (nothing to install),
seed 1.  Then it runs the walkthrough's steps on it for both modules through the session
runner (event_cl/nuskybgd-session.toml) and prints the equivalent commands.  Rerunning
resumes: finished steps are skipped, stale ones are redone.
"""

DEMO_EXPOSURE = 100e3
DEMO_SEQID = "90000000002"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default="nuskybgd-demo",
                        help="folder for the demo observation (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    parser.add_argument("--exposure", type=float, default=DEMO_EXPOSURE,
                        help="livetime in s (default %(default)g; shorter is quicker, noisier)")
    parser.add_argument("--no-pipeline", action="store_true",
                        help="only simulate; do not run the pipeline steps")
    add_overwrite(parser)


def write_source_regions(event_dir, truth_file=None, radius_arcsec: float = 60.0) -> list:
    """``bgd/src{m}.reg`` (fk5 circle of ``radius_arcsec``) at the simulated source of each module
    in ``truth_file`` (default ``<event_dir>/../truth.json``), where absent (a user's own region is
    never replaced).  Returns the files written."""
    import json
    from pathlib import Path

    from nuskybgd.products.regions import write_circle_region

    truth_file = Path(truth_file) if truth_file is not None else Path(event_dir).parent / "truth.json"
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    written = []
    for m, mt in truth.get("modules", {}).items():
        src = mt.get("source", {})
        path = Path(event_dir) / "bgd" / f"src{m}.reg"
        if path.exists() or "ra" not in src:
            continue
        path.parent.mkdir(exist_ok=True)
        written.append(write_circle_region(path, src["ra"], src["dec"], radius_arcsec))
        print(f"source region {path} ({radius_arcsec:g}\" circle on the simulated source; draw your own in real use)")
    return written


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nuskybgd.commands._headless import run_headless
    from nuskybgd.io.staging import recover_staging
    from nuskybgd.pipeline import Runner, Session
    from nuskybgd.pipeline.steps.simulate import SimulateStep
    from nuskybgd.simulate.core import output_paths

    recover_staging(Path(args.dir) / DEMO_SEQID / "event_cl")  # finish or discard a killed run's set
    sim_outputs = output_paths(Path(args.dir), DEMO_SEQID, ("A", "B"))
    if all(p.exists() for p in sim_outputs) and not args.overwrite:
        ev = sim_outputs[0].parent
        print(f"demo observation already in {ev} (delete the folder or pass --overwrite to remake it)")
    else:
        step = SimulateStep(args.dir, seqid=DEMO_SEQID, exposure=args.exposure, seed=args.seed,
                            source="point", calibration="nominal", overwrite=args.overwrite)
        res = step.run()
        ev = Path(res.values["event_dir"])
        print(f"demo observation: {res.values['n_events']} events in {ev}")
        print(f"  truth (injected parameters): {res.values['truth']}")
    if args.no_pipeline:
        return 0
    write_source_regions(ev)
    with Session.open(ev, observation={"seqid": DEMO_SEQID, "modules": ["A", "B"],
                                       "target": "demo (simulated)"}) as session:
        runner = Runner(session, overwrite=args.overwrite)
        statuses = run_headless(runner)
        print(f"pipeline products are in {ev} and {ev / 'bgd'}")
        print(f"the same steps by hand (from {ev}):")
        for inst in runner.instances:
            print(f"  {runner.command_line(inst.key)}")
        print(f"resume or repeat: nuskybgd run {session.path}")
        from nuskybgd.commands._final_report import final_report

        report = final_report(runner)
        if report:
            print(report)
    return 0 if all(s == "done" for s in statuses.values()) else 1
