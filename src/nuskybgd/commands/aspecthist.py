"""``nuskybgd aspecthist``: the aspect histogram of DET1 pixel (350, 350) inside the GTIs."""

from __future__ import annotations

SUMMARY = "aspect histogram of the DET1 reference point (aspecthist{A,B}.fits)"
DESCRIPTION = """Make the aspect histogram from the nupipeline DET1 reference-point file.

  nuskybgd aspecthist nu10601407002A_det1.fits gtifile=nu10601407002A01_gti.fits out=aspecthistA.fits
  nuskybgd aspecthist nu10601407002A_det1.fits --gtifile nu10601407002A01_gti.fits --out aspecthistA.fits

Samples inside the GTIs [START, STOP) are weighted by the time to the next sample and
binned at (floor X_DET1, floor Y_DET1); the image is cropped to the occupied box
(keywords X_OFF, Y_OFF, EXPOSURE)."""

STEP = "nuskybgd.pipeline.steps.aspecthist:AspectHistStep"
