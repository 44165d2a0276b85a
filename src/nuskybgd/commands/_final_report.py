"""The final report of a pipeline run (``nuskybgd demo``, ``nuskybgd run``): per module the fit,
where the background dominates the source, and the file to load in XSPEC."""

from __future__ import annotations

import json
from pathlib import Path


def final_report(runner) -> str:
    """The report as text; empty when no fit has been done.  Reads the session's records and the
    fit's ``NAME_fit.json`` (nothing is recomputed)."""
    from nuskybgd.workflow.report import FitReport, report_text

    lines: list[str] = []
    keys = {i.key for i in runner.instances}
    for m in runner.observation.get("modules", ["A", "B"]):
        fit_key = f"fit.{m}"
        if fit_key not in keys or runner.status(fit_key) != "done":
            continue
        state = next((p for p in runner.build(fit_key).outputs() if str(p).endswith("_fit.json")), None)
        if state is None or not Path(state).is_file():
            continue
        report = FitReport(**json.loads(Path(state).read_text())["report"])
        lines += [f"── FPM{m}: background fit ({Path(state).name}) ──", report_text(report)]
        spec = (runner.session.record(f"spec.{m}") or {}).get("result") or {}
        if f"spec.{m}" in keys and runner.status(f"spec.{m}") == "done":
            cross = spec.get("crossover_keV")
            lines.append(f"source region: the background exceeds the source above {cross:.1f} keV" if cross
                         else "source region: the source exceeds the background up to 79 keV")
        simple = (runner.session.record(f"simplify.{m}") or {}).get("result") or {}
        if simple.get("xcm"):
            lines.append(f"in XSPEC (from {runner.session.folder / 'bgd'}): @{simple['xcm']}, then model 1 "
                         "for your source")
    return "\n".join(lines)
