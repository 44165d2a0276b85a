"""The whole ``nuskybgd demo`` on a 100 ks two-module observation: time per step (target < 2 min).

Simulates the demo observation (the demo's own parameters) into a temporary folder, then runs
every step of the plan through the session runner as ``nuskybgd demo`` does, timing each.
The reference is the same steps called directly (``step.run()``, no session bookkeeping) on a
copy of the observation: the ratio runner / direct is the cost of sessions, content hashes and
the overwrite rule, printed with the absolute times.

Run: ``.venv/bin/python benchmarks/demo.py [--exposure 1e5] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    from nuskybgd.commands.demo import DEMO_SEQID
    from nuskybgd.events import Reporter
    from nuskybgd.pipeline import Runner, Session
    from nuskybgd.pipeline.steps.simulate import SimulateStep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exposure", type=float, default=1e5)
    ap.add_argument("--keep", type=Path, default=None, help="keep the observation in this folder")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="nuskybgd-demo-bench-"))
    quiet = Reporter(lambda e: None)
    try:
        t0 = time.perf_counter()
        res = SimulateStep(root, seqid=DEMO_SEQID, exposure=args.exposure, seed=1, source="point",
                           calibration="nominal").run(quiet)
        t_sim = time.perf_counter() - t0
        ev = Path(res.values["event_dir"])
        try:
            from nuskybgd.commands.demo import write_source_regions
            write_source_regions(ev)
        except ImportError:
            pass
        direct_ev = root / "direct" / ev.relative_to(root)
        shutil.copytree(ev, direct_ev)
        times: dict[str, float] = {}
        t1 = time.perf_counter()
        with Session.open(ev, observation={"seqid": DEMO_SEQID, "modules": ["A", "B"]}) as session:
            runner = Runner(session)
            for inst in runner.instances:
                a = time.perf_counter()
                runner.run(inst.key, quiet)
                times[inst.key] = time.perf_counter() - a
            statuses = runner.statuses()
        t_pipe = time.perf_counter() - t1
        print(f"simulate {args.exposure:g} s, two modules: {t_sim:7.2f} s")
        for key, t in times.items():
            print(f"  {key:<24s} {t:7.2f} s")
        total = t_sim + t_pipe
        print(f"pipeline {t_pipe:.2f} s; whole demo {total:.2f} s (target < 120 s: "
              f"{'ok' if total < 120 else 'OVER'}); steps done: {sum(s == 'done' for s in statuses.values())}"
              f"/{len(statuses)}")
        with Session.open(direct_ev, observation={"seqid": DEMO_SEQID, "modules": ["A", "B"]}) as session:
            runner = Runner(session)
            t2 = time.perf_counter()
            for inst in runner.instances:
                runner.build(inst.key).run(quiet)
            t_direct = time.perf_counter() - t2
        print(f"the same steps called directly: {t_direct:.2f} s; runner / direct = {t_pipe / t_direct:.3f}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
