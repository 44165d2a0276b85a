"""Plain data for drawing a fit and a projection: curves, tables, the recipe.

What a front end (the wizard) needs to draw the fit and spec stages, computed here from the
products on disk (``NAME_fit.json``, ``bgd_<src>.xcm``) so that no front end re-implements the
model.  Rates are counts s⁻¹ keV⁻¹; energies keV.  For display, adjacent noticed bins are
combined until each holds at least ``min_counts`` counts (the fit itself is unaffected).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nuskybgd.constants import GOOD_BAND_KEV
from nuskybgd.errors import InputError

__all__ = ["BACKGROUND_SOURCES", "ProjectionCurves", "SpectrumCurves", "display_groups", "fit_curves", "fitted_problem",
           "parameter_table", "projection_curves", "recipe_table", "statistics_table"]

#: the background model's sources, in XSPEC source-number order (2–5)
BACKGROUND_SOURCES = ("apbgd", "intbgd", "fcxb", "intn")

_RECIPE_HELP = {
    "statistic": "fit statistic: cstat (Poisson data) or chi",
    "solar_off": "zero and freeze the solar components (apec, 3.5/4.5/10.2 keV lines)",
    "freeze_fcxb": "freeze the focused CXB at its nominal level (degenerate with the aperture CXB)",
    "intn_rescale": "start the internal-continuum norm of each reference at a set value",
    "thaw_lines": "untie and thaw the 24 keV and/or 88 keV lines",
    "staged": "fit the norms first, then again with the thawed lines",
}


@dataclass
class SpectrumCurves:
    """One spectrum ready to plot (arrays over display bins; rates in counts s⁻¹ keV⁻¹).

    Attributes
    ----------
    name : str
        The spectrum file as the fit names it.
    energy, width : ndarray
        Bin centre and full width, keV.
    rate, rate_error : ndarray
        Observed rate and its 1σ Poisson error (√max(counts, 1)).
    model : ndarray
        Total model rate.
    components : dict
        Source name → model rate.
    residual : ndarray
        (data − model) / error.
    """

    name: str
    energy: np.ndarray
    width: np.ndarray
    rate: np.ndarray
    rate_error: np.ndarray
    model: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)
    residual: np.ndarray | None = None


def display_groups(counts: np.ndarray, min_counts: float) -> np.ndarray:
    """Display-bin index of each bin: consecutive bins combined until each group holds at least
    ``min_counts`` counts (a short remainder joins the last group).  One binary search per group
    on the running total, not a loop over bins."""
    c = np.asarray(counts, float)
    if min_counts <= 0 or c.size == 0:
        return np.arange(c.size)
    total = np.cumsum(c)
    starts = []
    start, done = 0, 0.0
    while start < c.size:
        starts.append(start)
        start = int(np.searchsorted(total, done + min_counts, side="left")) + 1
        done = total[start - 1] if start <= c.size else total[-1]
    if len(starts) > 1 and total[-1] - (total[starts[-1] - 1] if starts[-1] else 0.0) < min_counts:
        starts.pop()
    gid = np.zeros(c.size, dtype=np.int64)
    gid[np.asarray(starts[1:], dtype=np.int64)] = 1
    return np.cumsum(gid)


def _curves(problem, si: int, min_counts: float, sources=BACKGROUND_SOURCES,
            band: tuple[float, float] | None = None) -> SpectrumCurves:
    spec = problem.spectra[si]
    lo, hi = spec.group_energies()
    sel = np.asarray(spec.noticed, dtype=bool)
    if band is not None:                  # only the groups inside band (keV)
        sel = sel & (lo >= band[0]) & (hi <= band[1])
    counts = np.asarray(spec.counts, float)[sel]
    gid = display_groups(counts, min_counts)
    n = int(gid.max()) + 1 if gid.size else 0

    def fold(values: np.ndarray) -> np.ndarray:
        return np.bincount(gid, weights=np.asarray(values, float)[sel], minlength=n)

    e_lo = np.full(n, np.inf)
    e_hi = np.full(n, -np.inf)
    np.minimum.at(e_lo, gid, lo[sel])
    np.maximum.at(e_hi, gid, hi[sel])
    width = e_hi - e_lo
    scale = 1.0 / (spec.exposure * width)
    data = np.bincount(gid, weights=counts, minlength=n)
    names = [s.name for s in problem.sources if s.name in sources]
    comps = {name: fold(problem.model_counts(si + 1, source=name)) * scale for name in names}
    model = fold(problem.model_counts(si + 1)) * scale
    err = np.sqrt(np.maximum(data, 1.0)) * scale
    rate = data * scale
    return SpectrumCurves(spec.name, 0.5 * (e_lo + e_hi), width, rate, err, model, comps, (rate - model) / err)


def _load_state(state_json: str | Path) -> dict:
    p = Path(state_json)
    try:
        state = json.loads(p.read_text())
        state["report"], state["xcm"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        raise InputError(f"{p} is not a nuskybgd fit state (NAME_fit.json); run nuskybgd fit.", p) from None
    return state


def fitted_problem(state_json: str | Path):
    """The fitted model of ``NAME_fit.json`` built once (the slow part, ~1 s), to hand to
    :func:`fit_curves` and :func:`parameter_table` together."""
    from nuskybgd.workflow.fit import load_fitted

    return load_fitted(state_json).build()


def fit_curves(state_json: str | Path, min_counts: float = 20.0, problem=None) -> list[SpectrumCurves]:
    """Data, total and per-component model and residuals of every spectrum of a fit
    (``problem``: the :func:`fitted_problem` of ``state_json`` when already built)."""
    if problem is None:
        problem = fitted_problem(state_json)
    from nuskybgd.workflow.model import WING_NAME

    # a point source's fixed wing term (source 1) is drawn too when the fit carried one
    sources = BACKGROUND_SOURCES + (WING_NAME,)
    return [_curves(problem, si, min_counts, sources) for si in range(len(problem.spectra))]


def statistics_table(state_json: str | Path) -> dict:
    """Statistic, value, dof, p-value and each spectrum's (region's) contribution.

    Returns
    -------
    dict
        ``statistic``, ``value``, ``dof``, ``p_value`` (None without simulations), ``n_sim``,
        ``converged`` and ``rows``: per spectrum ``number``, ``spectrum``, ``region``,
        ``statistic``, ``bins``, ``fraction`` (its share of the total statistic).
    """
    state = _load_state(state_json)
    rep = state["report"]
    regions: list[str] = []
    cfg = Path(state.get("config", ""))
    if cfg.is_file():
        from nuskybgd.workflow.config import load_bgdinfo

        regions = [r.name for r in load_bgdinfo(cfg, check_files=False).regfiles]
    total = float(rep["statistic"])
    rows = [{"number": s["number"], "spectrum": s["name"],
             "region": regions[i] if i < len(regions) else "", "statistic": float(s["statistic"]),
             "bins": int(s["bins"]), "fraction": float(s["statistic"]) / total if total else float("nan")}
            for i, s in enumerate(rep["spectra"])]
    good = rep.get("goodness") or {}
    return {"statistic": rep["statistic_name"], "value": total, "dof": int(rep["dof"]),
            "p_value": good.get("p_value"), "n_sim": int(good.get("n_sim", 0)),
            "converged": bool(rep["converged"]), "rows": rows}


def parameter_table(state_json: str | Path, problem=None) -> list[dict]:
    """Every parameter of the fitted model: ``id`` (XSPEC ``source:index``), ``name`` (the
    project's naming), ``value``, ``error`` (1σ, free parameters only), ``status``
    (free/frozen/linked), ``link`` (the expression of a linked one) and ``thaw``: the choice of
    the fit's ``--thaw`` that unties and thaws it (``24keV``, ``88keV``), None for the others.
    ``problem``: the :func:`fitted_problem` of ``state_json`` when already built."""
    from nuskybgd.workflow.recipe import LINE_CHOICES

    thaw_of = {comp: choice for choice, comps in LINE_CHOICES.items() for comp in comps}

    state = _load_state(state_json)
    errors = {p["id"]: p["error"] for p in state["report"]["parameters"]}
    if problem is None:
        problem = fitted_problem(state_json)
    problem.resolve()
    rows = []
    for p in problem.parameters:
        status = "linked" if p.link is not None else ("frozen" if p.frozen else "free")
        rows.append({"id": p.xspec_id, "name": p.full_name,
                     "value": float(p.value), "error": errors.get(p.xspec_id), "status": status,
                     "link": None if p.link is None else str(p.link),
                     "thaw": thaw_of.get(p.component) if p.source == "intbgd" and p.name == "norm" else None})
    return rows


def recipe_table(state_json: str | Path) -> list[dict]:
    """The recipe of a fit: ``name``, ``enabled``, ``description`` and the XSPEC ``commands``."""
    state = _load_state(state_json)
    return [{"name": r["name"], "enabled": bool(r["enabled"]), "description": _RECIPE_HELP.get(r["name"], ""),
             "commands": list(r["commands"])} for r in state["report"]["recipe"]]


@dataclass
class ProjectionCurves:
    """The source spectrum against its projected background (rates in counts s⁻¹ keV⁻¹).

    ``source`` is the observed source rate (background included), ``background`` the projected
    background, ``components`` its parts; ``crossover_keV`` the energy above which the
    background exceeds the net source (None when it never does below 79 keV).
    """

    name: str
    energy: np.ndarray
    width: np.ndarray
    source: np.ndarray
    source_error: np.ndarray
    background: np.ndarray
    components: dict[str, np.ndarray]
    crossover_keV: float | None


def projection_curves(config: str | Path, projected_xcm: str | Path,
                      min_counts: float = 20.0) -> list[ProjectionCurves]:
    """One :class:`ProjectionCurves` per source spectrum of ``bgd_<src>.xcm``: the spectra after
    the configuration's background spectra (spec appends them in that order), over NuSTAR's
    calibrated band 3–79 keV (:data:`~nuskybgd.constants.GOOD_BAND_KEV`), where the source is fitted."""
    from nuskybgd.spectral import read_xcm
    from nuskybgd.workflow.config import load_bgdinfo
    from nuskybgd.workflow.project import crossover_energy

    n_bg = load_bgdinfo(config, check_files=False).n_spectra
    p = Path(projected_xcm)
    problem = read_xcm(p).build()
    if len(problem.spectra) <= n_bg:
        raise InputError(f"{p} holds no source spectrum after the {n_bg} background spectra of {config}; "
                         "give the bgd_<src>.xcm that spec wrote.", p)
    out = []
    for si in range(n_bg, len(problem.spectra)):
        c = _curves(problem, si, min_counts, band=GOOD_BAND_KEV)
        spec = problem.spectra[si]
        lo, hi = spec.group_energies()
        cross = crossover_energy(np.asarray(spec.counts, float), problem.model_counts(si + 1), lo, hi)
        out.append(ProjectionCurves(c.name, c.energy, c.width, c.rate, c.rate_error, c.model, c.components,
                                    cross))
    return out
