"""``nuskybgd simulate OUTDIR``: a synthetic NuSTAR observation with known truth."""

from __future__ import annotations

import argparse

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


STEP = "nuskybgd.pipeline.steps.simulate:SimulateStep"


def present(res, args: argparse.Namespace) -> int:
    """Say where the observation and its truth are."""
    v = res.values
    print(f"simulated {v['n_events']} events "
          + ", ".join(f"FPM{m}: {n}" for m, n in v["per_module"].items())
          + f" in {v['event_dir']}")
    print(f"truth: {v['truth']}")
    return 0
