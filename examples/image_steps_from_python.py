"""Run the image-side steps of the walkthrough from Python on a simulated observation.

    python examples/image_steps_from_python.py [OUTDIR]

The same steps as ``nuskybgd simulate`` + ``mkimgs`` + ``mkinstrmap`` + ``aspecthist`` +
``projbgd`` on the command line; every step reports typed events through a Reporter, here printing lines, and the runner
records each step in the observation's session file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nuskybgd.pipeline import Reporter, Runner, Session
from nuskybgd.pipeline.steps import SimulateStep


def main(outdir: str = "example-observation") -> None:
    seqid = "90000000003"
    reporter = Reporter(lambda e: print(f"[{e.kind}] {e.message}") if e.message else None)
    sim = SimulateStep(outdir, seqid=seqid, exposure=20e3, seed=3, source="point")
    if not all(p.exists() for p in sim.outputs()):
        sim.run(reporter)
    event_dir = Path(outdir) / seqid / "event_cl"
    # the session file (event_cl/nuskybgd-session.toml) records what ran; a rerun resumes.  The
    # image side ends with projbgd: the regions step after it needs your bgd/src<m>.reg
    with Session.open(event_dir, observation={"seqid": seqid, "modules": ["A", "B"]}) as session:
        statuses = Runner(session).run_all(reporter, until="projbgd")
    print(statuses)


if __name__ == "__main__":
    main(*sys.argv[1:2])
