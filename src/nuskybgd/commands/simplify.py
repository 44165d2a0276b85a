"""``nuskybgd simplify``: freeze the projected background and drop the background spectra."""

from __future__ import annotations

SUMMARY = "freeze the projected background: bgd_only_<src>.xcm with model 1 left for the source"
DESCRIPTION = """Freeze the projected background and keep only the source spectrum.

  nuskybgd simplify bgdinfoA.json bgd_srcA.xcm        # writes bgd_only_srcA.xcm (+ .json state)

In XSPEC: @bgd_only_srcA.xcm, then define model 1 for the source."""

STEP = "nuskybgd.pipeline.steps.simplify:SimplifyStep"
