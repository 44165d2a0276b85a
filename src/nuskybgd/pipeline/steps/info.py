"""The observation step: find an observation's files and check its exposure bookkeeping."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import Reporter, Step, StepResult, reporter_or_default

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.io.discovery import Observation

__all__ = ["ObservationInfoStep", "exposure_checks"]

#: Relative tolerance for EXPOSURE = ONTIME × DEADC.
_DEADC_RTOL = 1e-6
#: Absolute tolerance (s) for Σ GTI = ONTIME.
_GTI_ATOL_S = 1.0


def exposure_checks(obs: Observation) -> list[str]:
    """Inconsistencies in the exposure keywords of ``obs`` (empty when all is well).

    Checks, per event file: EXPOSURE = ONTIME × DEADC (relative 1e-6) and Σ(GTI) = ONTIME
    (within 1 s).  Also notes a missing module.
    """
    problems: list[str] = []
    for e in obs.event_files:
        if all(math.isfinite(v) for v in (e.ontime, e.deadc, e.exposure)) and e.ontime > 0:
            expected = e.ontime * e.deadc
            if abs(e.exposure - expected) > _DEADC_RTOL * max(expected, 1.0):
                problems.append(
                    f"{e.path.name}: EXPOSURE {e.exposure:.3f} s differs from ONTIME×DEADC "
                    f"{expected:.3f} s")
        else:
            problems.append(f"{e.path.name}: ONTIME/DEADC/EXPOSURE keywords missing")
        if e.gti_ontime is None:
            problems.append(f"{e.path.name}: no GTI extension")
        elif math.isfinite(e.ontime) and abs(e.gti_ontime - e.ontime) > _GTI_ATOL_S:
            problems.append(
                f"{e.path.name}: GTI sum {e.gti_ontime:.3f} s differs from ONTIME {e.ontime:.3f} s")
    problems.extend(f"skipped: {msg}" for msg in obs.skipped)
    missing = sorted({"A", "B"} - set(obs.modules))
    if missing:
        problems.append(f"no event file for FPM{'/FPM'.join(missing)}")
    return problems


class ObservationInfoStep(Step):
    """Discover the observation(s) under a path and report their files and exposures.

    Parameters
    ----------
    path : path
        A sequence directory, its ``event_cl/``, a folder of sequence directories, a folder of
        event files, or one event file.
    """

    name = "info"
    title = "Observation"
    help = (
        "Find the cleaned event files of FPMA and FPMB (every mode), the DET1 reference-point, "
        "GTI, attitude and housekeeping files, and report pointing, roll angle and exposure "
        "(ONTIME, LIVETIME, EXPOSURE) per module and mode."
    )

    params = (
        Param("path", "path", ".", positional=True, role="input", aliases=("indir",),
              help="sequence directory, event_cl/ folder, folder of event files or one event file"),
    )

    def outputs(self) -> list[Path]:
        return []

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.io.discovery import discover

        rep = reporter_or_default(reporter)
        rep.log(f"looking for observations in {self.path}")
        observations = discover(self.path)
        checks: dict[str, list[str]] = {}
        for i, obs in enumerate(observations):
            n_ev = sum(e.n_events for e in obs.event_files)
            rep.log(f"{obs.seqid} ({obs.target or 'unknown target'}): {len(obs.event_files)} event "
                    f"file(s), {n_ev} events")
            problems = exposure_checks(obs)
            for msg in problems:
                rep.warning(f"{obs.seqid}: {msg}")
            checks[obs.seqid] = problems
            rep.progress((i + 1) / len(observations))
        return StepResult(values={"observations": observations, "problems": checks})
