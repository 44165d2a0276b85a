"""The demo pipeline: the image-side steps of the walkthrough on a simulated observation.

``demo_steps`` lists, per module, the steps a user runs after ``nupipeline`` (counts images in
3–20 and 20–40 keV, instrument map, aspect histogram, projected background images), with the
walkthrough's file names and folders (``event_cl/`` and ``event_cl/bgd/``).  ``run_steps`` runs
them in order, skipping a step whose outputs exist and are newer than its inputs, so a rerun
resumes; after a re-simulation (``demo --overwrite``) the stale products are remade.
"""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.image_steps import AspectHistStep, MkImgsStep, MkInstrMapStep, ProjBgdStep
from nuskybgd.pipeline.step import Reporter, Step, StepResult


def demo_steps(event_dir: str | Path, seqid: str, modules: tuple[str, ...] = ("A", "B"),
               overwrite: bool = False) -> list[Step]:
    """The image-side walkthrough steps for one observation.

    Parameters
    ----------
    event_dir : path
        The observation's ``event_cl/`` folder (outputs go there and into ``event_cl/bgd/``).
    seqid : str
        The 11-digit sequence id used in the file names.
    modules : tuple of str
        Modules to process ("A", "B").
    overwrite : bool
        Let the steps replace outputs that are older than their inputs.
    """
    ev = Path(event_dir)
    bgd = ev / "bgd"
    steps: list[Step] = []
    for m in modules:
        evt = ev / f"nu{seqid}{m}01_cl.evt"
        steps += [
            MkImgsStep(evt, 3, 20),
            MkImgsStep(evt, 20, 40),
            MkInstrMapStep(evt, prefix=f"{ev}/"),
            AspectHistStep(ev / f"nu{seqid}{m}_det1.fits", ev / f"nu{seqid}{m}01_gti.fits",
                           ev / f"aspecthist{m}.fits"),
            ProjBgdStep(bgd / f"bgdap{m}.fits", m, ev / f"newinstrmap{m}.fits",
                        ev / f"aspecthist{m}.fits", refimg=ev / f"nu{seqid}{m}01_cl_3to20keV.fits"),
        ]
    for step in steps:
        step.overwrite = overwrite
    return steps


def _is_done(step: Step) -> bool:
    """All outputs exist and none is older than an existing input (make-like)."""
    outs = [Path(p) for p in step.outputs()]
    if not outs or not all(p.exists() for p in outs):
        return False
    newest_in = max((Path(p).stat().st_mtime_ns for p in step.inputs() if Path(p).exists()),
                    default=0)
    if min(p.stat().st_mtime_ns for p in outs) >= newest_in:
        return True
    if not getattr(step, "overwrite", False):
        stale = min(outs, key=lambda p: p.stat().st_mtime_ns)
        raise InputError(f"{stale} is older than the inputs of step '{step.name}' (were they "
                         "remade?); pass --overwrite to remake it, or delete it.")
    return False


def run_steps(steps: list[Step], reporter: Reporter | None = None) -> list[StepResult]:
    """Run ``steps`` in order; a step whose outputs all exist and are not older than its inputs is
    reported and skipped.  Outputs older than their inputs are remade when the step has
    ``overwrite`` set, otherwise refused (:class:`~nuskybgd.errors.InputError`)."""
    rep = reporter or Reporter()
    results: list[StepResult] = []
    for i, step in enumerate(steps, 1):
        outs = step.outputs()
        label = f"[{i}/{len(steps)}] {step.title}"
        if _is_done(step):
            rep.log(f"{label}: already done ({', '.join(Path(p).name for p in outs)})")
            continue
        for p in outs:
            Path(p).parent.mkdir(parents=True, exist_ok=True)
        rep.log(f"{label}: {step.name} → {', '.join(Path(p).name for p in outs)}")
        rep.progress((i - 1) / len(steps), step.title)
        results.append(step.run(rep))
    rep.progress(1.0, "done")
    return results
