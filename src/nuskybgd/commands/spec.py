"""``nuskybgd spec``: project the fitted background into a source region."""

from __future__ import annotations

import argparse

SUMMARY = "project the fitted background into a source region (bgd_<src>.xcm, bgd_<src>_bk.pha)"
DESCRIPTION = """Project the fitted background into the source region.

  nuskybgd spec bgdinfoA.json bgdparamsA_fit.json srcA.reg nu<seq>A01_srcA_sr.pha
  nuskybgd spec bgdinfoA.json bgdparamsA_fit.xcm srcA.reg,src2A.reg a.pha,b.pha savefile=bgd_both

FITTED is NAME_fit.json from nuskybgd fit, or an .xcm (also one XSPEC saved after refitting).
Writes bgd_<src>.xcm (the source as the last data group, its background modelled) and
bgd_<src>_bk.pha (the expected background counts in the source region; --poisson for a
realisation).  The source spectrum is never modified."""

STEP = "nuskybgd.pipeline.steps.spec:SpecStep"


def present(result, args: argparse.Namespace) -> int:
    """Say above which energy the background dominates, per region."""
    for r in result.values["regions"]:
        cross = r["crossover_keV"]
        print(f"{r['region']}: " + (f"the background exceeds the source above {cross:.1f} keV" if cross is not None
                                   else "the source exceeds the background up to 79 keV"))
    return 0
