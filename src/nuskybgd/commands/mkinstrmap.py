"""``nuskybgd mkinstrmap``: the DET1 detector map with gaps and bad pixels removed."""

from __future__ import annotations

SUMMARY = "instrument map newinstrmap{A,B}.fits (detector+1 per DET1 sub-pixel, bad pixels removed)"
DESCRIPTION = """Make the instrument map of one module from a cleaned event file.

  nuskybgd mkinstrmap nu10601407002A01_cl.evt
  nuskybgd mkinstrmap nu10601407002A01_cl.evt usrbpix=mybad.fits prefix=obs1_

Writes <prefix>newinstrmap<A|B>.fits into --outdir (default: the event file's folder): value k = detector DET(k-1), 0 = gap or bad pixel.
A RAW pixel is bad when it is bad for more than 80% of the observation (its BADPIX
intervals combined) or disabled on board.  PIXPOS/INSTRMAP come from the calibration
source in use (CALDB, auxiliary folder or built-in; the header says which)."""


STEP = "nuskybgd.pipeline.steps.mkinstrmap:MkInstrMapStep"
