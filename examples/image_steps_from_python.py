"""Run the image-side steps of the walkthrough from Python on a simulated observation.

    python examples/image_steps_from_python.py [OUTDIR]

The same steps as ``nuskybgd simulate`` + ``mkimgs`` + ``mkinstrmap`` + ``aspecthist`` +
``projbgd`` on the command line; every step reports through a Reporter, here printing lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nuskybgd.pipeline.demo import demo_steps, run_steps
from nuskybgd.pipeline.simulate_steps import SimulateStep
from nuskybgd.pipeline.step import Reporter


def main(outdir: str = "example-observation") -> None:
    seqid = "90000000003"
    reporter = Reporter(lambda e: print(f"[{e.kind}] {e.message}") if e.message else None)
    sim = SimulateStep(outdir, seqid=seqid, exposure=20e3, seed=3, source="point")
    if not all(p.exists() for p in sim.outputs()):
        sim.run(reporter)
    event_dir = Path(outdir) / seqid / "event_cl"
    run_steps(demo_steps(event_dir, seqid), reporter)


if __name__ == "__main__":
    main(*sys.argv[1:2])
