"""The background-fit report: plain data, text for the terminal, and JSON.

Contents: statistic, dof, convergence; per spectrum its statistic, counts and a residual
summary in four bands; the goodness of fit by simulation (cstat is not χ²-distributed); every
free parameter by name with its 1σ error; the aperture CXB level relative to the reference CXB
(flagged outside 0.8–1.2) and the fCXB level relative to its nominal preset (flagged outside
0.5–2, a generous cosmic-variance range for arcminute regions).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["CXB_RANGE", "FCXB_RANGE", "FitReport", "RESIDUAL_BANDS_KEV", "make_report", "report_renderable",
           "report_text"]

CXB_RANGE = (0.8, 1.2)
FCXB_RANGE = (0.5, 2.0)
RESIDUAL_BANDS_KEV = ((3.0, 10.0), (10.0, 20.0), (20.0, 50.0), (50.0, 150.0))


@dataclass
class FitReport:
    """Plain-data fit report (every field JSON-serialisable via :meth:`to_dict`)."""

    statistic_name: str
    statistic: float
    dof: int
    converged: bool
    method: str
    stages: list[dict]
    recipe: list[dict]
    spectra: list[dict]
    parameters: list[dict]
    cxb: list[dict]
    fcxb: list[dict]
    goodness: dict | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _bands(problem, si: int) -> list[dict]:
    """Observed and model counts and (data − model)/√model in each residual band."""
    spec = problem.spectra[si]
    lo, hi = spec.group_energies()
    centre = 0.5 * (lo + hi)
    mu = problem.model_counts(si + 1)
    out = []
    for a, b in RESIDUAL_BANDS_KEV:
        sel = spec.noticed & (centre >= a) & (centre < b)
        d, m = float(spec.counts[sel].sum()), float(mu[sel].sum())
        out.append({"band_keV": [a, b], "counts": d, "model": m,
                    "sigma": (d - m) / math.sqrt(m) if m > 0 else None})
    return out


def make_report(problem, result, stages: list[dict], recipe: list[dict], references: dict[str, int],
                preset_norms: dict[str, float], goodness=None) -> FitReport:
    """Collect the report of a finished fit.

    Parameters
    ----------
    problem : FitProblem
        After the fit.
    result : FitResult
        The last stage's result.
    stages, recipe : list of dict
        Stage summaries and recipe records (:meth:`Recipe.apply`).
    references : dict
        Module → 0-based reference index.
    preset_norms : dict
        Parameter id → its preset value (``apbgd:3``, ``fcxb:3`` …) from the starting model.
    goodness : GoodnessResult, optional
        Bootstrap result.
    """
    per = {name: (stat, nb) for name, stat, nb in result.per_spectrum}
    spectra = []
    for si, spec in enumerate(problem.spectra):
        stat, nb = per.get(spec.name, (float("nan"), spec.n_noticed))
        spectra.append({"number": si + 1, "name": spec.name, "statistic": float(stat), "bins": int(nb),
                        "exposure_s": spec.exposure, "bands": _bands(problem, si)})
    params = [{"id": r.id, "name": r.name, "value": r.value,
               "error": None if r.error is None or not np.isfinite(r.error) else float(r.error)}
              for r in result.parameters if r.status == "free"]
    cxb = []
    for m, r in references.items():
        pid = f"apbgd:{3 * r + 3}"
        ratio = problem.par(pid).value / preset_norms[pid]
        cxb.append({"module": m, "parameter": pid, "fitted": problem.par(pid).value,
                    "reference": preset_norms[pid], "ratio": ratio,
                    "flag": not (CXB_RANGE[0] <= ratio <= CXB_RANGE[1])})
    fcxb = []
    for si in range(len(problem.spectra)):
        pid = f"fcxb:{3 * si + 3}"
        p = problem.par(pid)
        nominal = preset_norms.get(pid)
        ratio = p.value / nominal if nominal else None
        fcxb.append({"spectrum": si + 1, "parameter": pid, "fitted": p.value, "nominal": nominal,
                     "ratio": ratio, "free": p.is_free,
                     "flag": bool(p.is_free and ratio is not None
                                  and not (FCXB_RANGE[0] <= ratio <= FCXB_RANGE[1]))})
    warn = [f"aperture CXB of FPM{c['module']} is {c['ratio']:.2f} × the reference CXB (outside "
            f"{CXB_RANGE[0]}–{CXB_RANGE[1]}); check the background regions for sources or stray light."
            for c in cxb if c["flag"]]
    warn += [f"fCXB of spectrum {f['spectrum']} is {f['ratio']:.2f} × nominal (outside "
             f"{FCXB_RANGE[0]}–{FCXB_RANGE[1]}); a source in the region?" for f in fcxb if f["flag"]]
    if not result.converged:
        warn.append("the fit did not converge; inspect the starting values.")
    good = None if goodness is None else {"p_value": float(goodness.p_value),
                                          "n_sim": int(goodness.simulated.size),
                                          "observed": float(goodness.observed)}
    return FitReport(result.statistic_name, float(result.statistic), int(result.dof),
                     bool(result.converged), result.method, stages, recipe, spectra, params, cxb, fcxb,
                     good, warn)


def report_text(rep: FitReport) -> str:
    """The report as plain text for the terminal."""
    lines = [f"{rep.statistic_name} = {rep.statistic:.3f} for {rep.dof} dof "
             f"({'converged' if rep.converged else 'NOT converged'}, {rep.method})"]
    if rep.goodness:
        g = rep.goodness
        lines.append(f"goodness of fit: p = {g['p_value']:.3f} from {g['n_sim']} simulations "
                     "(cstat is not χ²-distributed)")
    lines.append("recipe:")
    for rec in rep.recipe:
        cmd = f"  ({'; '.join(rec['commands'])})" if rec["enabled"] and rec["commands"] else ""
        lines.append(f"  {rec['name']}: {'on' if rec['enabled'] else 'off'}{cmd}")
    lines.append("spectra (statistic, bins; data − model in σ for 3–10/10–20/20–50/50–150 keV):")
    for s in rep.spectra:
        res = " ".join("   –  " if b["sigma"] is None else f"{b['sigma']:+6.2f}" for b in s["bands"])
        lines.append(f"  {s['number']:>2d} {s['name']:<40s} {s['statistic']:11.3f} {s['bins']:6d}  {res}")
    lines.append("free parameters (value ± 1σ):")
    for p in rep.parameters:
        err = "" if p["error"] is None else f" ± {p['error']:.3e}"
        lines.append(f"  {p['id']:<12s} {p['name']:<36s} {p['value']:.4e}{err}")
    for c in rep.cxb:
        lines.append(f"aperture CXB FPM{c['module']}: {c['ratio']:.3f} × reference"
                     f"{'  <-- outside 0.8-1.2' if c['flag'] else ''}")
    free = [f for f in rep.fcxb if f["free"]]
    lines.append("fCXB: frozen at nominal" if not free else
                 "fCXB / nominal: " + ", ".join(f"{f['spectrum']}: {f['ratio']:.2f}" for f in free))
    lines += [f"warning: {w}" for w in rep.warnings]
    return "\n".join(lines)


def report_renderable(rep: FitReport):
    """The report as a ``rich`` renderable (tables) for terminals; plain text: :func:`report_text`."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text(f"{rep.statistic_name} = {rep.statistic:.3f} for {rep.dof} dof  "
                f"({'converged' if rep.converged else 'NOT converged'}, {rep.method})", style="bold")
    parts: list = [head]
    if rep.goodness:
        g = rep.goodness
        parts.append(Text(f"goodness of fit: p = {g['p_value']:.3f} ({g['n_sim']} simulations; cstat is "
                          "not χ²-distributed)"))
    spectra = Table(title="spectra: data − model (σ)", show_edge=False)
    for col in ("#", "spectrum", "statistic", "bins", *(f"{a:g}–{b:g} keV" for a, b in RESIDUAL_BANDS_KEV)):
        spectra.add_column(col, justify="left" if col == "spectrum" else "right")
    for s in rep.spectra:
        res = ["–" if b["sigma"] is None else
               (f"[red]{b['sigma']:+.2f}[/red]" if abs(b["sigma"]) > 3 else f"{b['sigma']:+.2f}")
               for b in s["bands"]]
        spectra.add_row(str(s["number"]), s["name"], f"{s['statistic']:.2f}", str(s["bins"]), *res)
    params = Table(title="free parameters", show_edge=False)
    for col in ("id", "name", "value", "1σ"):
        params.add_column(col, justify="left" if col in ("id", "name") else "right")
    for p in rep.parameters:
        params.add_row(p["id"], p["name"], f"{p['value']:.4e}", "" if p["error"] is None else f"{p['error']:.2e}")
    parts += [spectra, params]
    for c in rep.cxb:
        style = "red" if c["flag"] else "green"
        parts.append(Text(f"aperture CXB FPM{c['module']}: {c['ratio']:.3f} × reference", style=style))
    recipe = ", ".join(f"{r['name']}={'on' if r['enabled'] else 'off'}" for r in rep.recipe)
    parts.append(Text(f"recipe: {recipe}"))
    parts += [Text(f"warning: {w}", style="yellow") for w in rep.warnings]
    return Group(*parts)
