"""``nuskybgd fit``: fit the background model of bgdinfo.json with the walkthrough's recipe."""

from __future__ import annotations

import argparse

SUMMARY = "fit the background model to the background spectra (NAME.xcm, NAME_fit.xcm, NAME_fit.json)"
DESCRIPTION = """Fit the background model of bgdinfo.json with the walkthrough's recipe.

  nuskybgd fit bgdinfoA.json savefile=bgdparamsA --n-sim 100
  nuskybgd fit bgdinfoA.json --thaw 24keV,88keV --intn-rescale
  nuskybgd fit bgdinfoA.json --no-fit          # only the starting NAME.xcm, as the original

Recipe actions (each switchable): --statistic cstat|chi, --solar-off, --freeze-fcxb,
--intn-rescale (with --intn-value), --thaw LINES, --staged.  Prints the fit report: statistic,
goodness of fit, residuals per spectrum and band, free parameters, aperture-CXB level."""

STEP = "nuskybgd.pipeline.steps.fit:FitStep"


def present(result, args: argparse.Namespace) -> int:
    """Print the rich fit report (plain text when not on a terminal)."""
    import json

    from rich.console import Console

    from nuskybgd.workflow.report import FitReport, report_renderable

    if not result.values.get("fitted"):
        print(f"wrote {result.outputs[0]} (starting model; no fit)")
        return 0
    state = next(p for p in result.outputs if str(p).endswith("_fit.json"))
    report = FitReport(**json.loads(state.read_text())["report"])
    Console(highlight=False).print(report_renderable(report))
    return 0
