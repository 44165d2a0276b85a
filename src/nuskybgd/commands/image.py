"""``nuskybgd image``: model background images of a fit in an energy band."""

from __future__ import annotations

SUMMARY = "model background images per component in a band (<prefix>bgd_<component>_<m>.fits)"
DESCRIPTION = """Images of the fitted background model in a band.

  nuskybgd image bgdinfoA.json bgdparamsA_fit.json 3 20

Writes bgd_{apbgd,intbgd,fcxb,intn,total}_<m>.fits in model counts per sky pixel over the
exposure, on the grid of the projected images."""

STEP = "nuskybgd.pipeline.steps.image:ImageStep"
