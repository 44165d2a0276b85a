"""The two fitters of a fit problem: the linear-norms fast path and the general path.

* **linear-norms** — when every shape parameter is fixed (frozen, or linked to fixed values)
  and every term's coefficient (norm × constant factors, through proportional links) is linear
  in at most one free parameter, the model is ``μ = X·p + μ0`` with X made of folded templates
  computed once (:func:`linear_system`); :func:`fit_linear` then fits ``p`` with dense
  per-spectrum blocks.
* **general** — :func:`fit_general` runs the bounded Levenberg–Marquardt on the full model with
  forward-difference derivatives; a derivative with respect to a norm only recombines cached
  templates, one with respect to a shape parameter refolds only the affected terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuskybgd.spectral.confidence import covariance
from nuskybgd.spectral.evaluate import ModelEvaluator
from nuskybgd.spectral.links import LinkSet
from nuskybgd.spectral.lm import (
    IterationHook,
    bounds,
    gradient_curvature,
    levenberg_marquardt,
    statistic_total,
)
from nuskybgd.spectral.parameters import Parameter

LinearSystem = list[tuple[np.ndarray, np.ndarray, np.ndarray]]
"""Per spectrum: (free-parameter columns, design matrix X, constant counts μ0)."""

FitOutcome = tuple[np.ndarray, int, bool, np.ndarray]
"""(best values, iterations, converged, covariance) of the free parameters."""


@dataclass
class FitContext:
    """What a fitter works with: the model, its links, the data and the stopping rule.

    ``observed`` and ``stat_err`` hold the noticed groups of every spectrum (counts);
    ``maxit`` and ``crit`` are XSPEC's ``method leven maxit crit_delta``.
    """

    evaluator: ModelEvaluator
    links: LinkSet
    statistic: str
    observed: list[np.ndarray]
    stat_err: list[np.ndarray | None]
    maxit: int
    crit: float
    on_iteration: IterationHook | None = None

    def total(self, mus: list[np.ndarray]) -> float:
        """The statistic for model counts ``mus``."""
        return statistic_total(self.statistic, self.observed, mus, self.stat_err)

    def derivs(self, n: int, jacobians, mus: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and curvature for per-spectrum ``(cols, J)`` Jacobians."""
        return gradient_curvature(self.statistic, n, jacobians, self.observed, mus, self.stat_err)


def linear_system(evaluator: ModelEvaluator, links: LinkSet,
                  free: list[Parameter]) -> LinearSystem | None:
    """The linear-norms system ``μ = X·p + μ0`` per spectrum, or None when the model is not
    linear in the free parameters ``free``."""
    memo: dict = {}
    terms = evaluator.terms()
    evaluator.prefetch(terms)
    findex = {id(p): i for i, p in enumerate(free)}
    blocks: list[dict[int, np.ndarray]] = [dict() for _ in evaluator.spectra]
    offsets = [np.zeros(s.n_noticed) for s in evaluator.spectra]
    for term in terms:
        for p in term.shape:
            a = links.affine(p, memo)
            if a is None or a[1] is not None:
                return None
        coef = links.coefficient(term.coefficient, memo)
        if coef is None or len(coef[1]) > 1:
            return None
        c, fps = coef
        if c == 0.0:
            continue
        si = term.spectrum_index
        t = evaluator.template(term)[term.spectrum.noticed]
        if not fps:
            offsets[si] += c * t
        else:
            j = findex[id(fps[0])]
            blocks[si][j] = blocks[si][j] + c * t if j in blocks[si] else c * t
    system = []
    for si, blk in enumerate(blocks):
        cols = np.array(sorted(blk), dtype=int)
        a = np.column_stack([blk[j] for j in cols]) if cols.size else np.zeros((offsets[si].size, 0))
        system.append((cols, np.ascontiguousarray(a), offsets[si]))
    return system


def fit_linear(ctx: FitContext, free: list[Parameter], system: LinearSystem) -> FitOutcome:
    """Fisher-scoring LM on μ = X·p + μ0 with an active set for the limits."""
    n = len(free)
    lo, hi = bounds(free)

    def mus_of(x: np.ndarray) -> list[np.ndarray]:
        ctx.evaluator.n_evaluations += 1
        return [a @ x[cols] + off for cols, a, off in system]

    def derivs(_x: np.ndarray, mus) -> tuple[np.ndarray, np.ndarray]:
        return ctx.derivs(n, [(cols, a) for cols, a, _ in system], mus)

    p0 = np.clip(np.array([q.value for q in free], float), lo, hi)
    p, mus, it, converged = levenberg_marquardt(p0, lo, hi, mus_of, ctx.total, derivs,
                                                ctx.maxit, ctx.crit, ctx.on_iteration)
    g, h = derivs(p, mus)
    return p, it, converged, covariance(h, p, lo, hi, g)


def analytic_parameters(evaluator: ModelEvaluator, links: LinkSet, free: list[Parameter]) -> np.ndarray:
    """Flags of free parameters the model is linear in (derivatives from templates).

    A parameter qualifies when it enters only term coefficients (norms, constant factors),
    through proportional links, never together with another free parameter in one
    coefficient, and no shape parameter depends on it.
    """
    memo: dict = {}
    index = {id(q): j for j, q in enumerate(free)}
    ok = np.ones(len(free), bool)
    for term in evaluator.terms():
        for q in term.shape:
            a = links.affine(q, memo)
            if a is None:
                return np.zeros(len(free), bool)
            if a[1] is not None:
                ok[index[id(a[1])]] = False
        coef = links.coefficient(term.coefficient, memo)
        if coef is None:
            return np.zeros(len(free), bool)
        if len(coef[1]) > 1:
            ok[[index[id(q)] for q in coef[1]]] = False
    return ok


def _template_columns(ctx: FitContext, free: list[Parameter], analytic: np.ndarray,
                      jac: list[np.ndarray]) -> None:
    """Add dμ/dp = c × template for the parameters the model is linear in."""
    memo: dict = {}
    index = {id(q): j for j, q in enumerate(free)}
    for term in ctx.evaluator.terms():
        coef = ctx.links.coefficient(term.coefficient, memo)
        if coef is None:
            continue
        c, fps = coef
        if len(fps) == 1 and analytic[index[id(fps[0])]] and c != 0.0:
            t = ctx.evaluator.template(term)[term.spectrum.noticed]
            jac[term.spectrum_index][:, index[id(fps[0])]] += c * t


def fit_general(ctx: FitContext, free: list[Parameter]) -> FitOutcome:
    """Bounded Levenberg–Marquardt on the full model: forward differences for parameters the
    model is not linear in, exact template columns for the others.  Leaves the parameters at
    the best fit."""
    lo, hi = bounds(free)
    n = len(free)
    hard_hi = np.array([q.hard_max for q in free])

    def mus_at(v: np.ndarray) -> list[np.ndarray]:
        for q, val in zip(free, v, strict=True):
            q.value = float(val)
        ctx.links.resolve()
        return ctx.evaluator.noticed_counts()

    analytic = analytic_parameters(ctx.evaluator, ctx.links, free)

    def jacobian(v: np.ndarray, mus) -> list[np.ndarray]:
        jac = [np.zeros((m.size, n)) for m in mus]
        for j, q in enumerate(free):
            if analytic[j]:
                continue
            h = 1e-4 * abs(v[j]) if v[j] != 0 else 1e-4 * max(q.delta, 1e-8)
            if v[j] + h > hard_hi[j]:
                h = -h
            vv = v.copy()
            vv[j] += h
            mj = mus_at(vv)
            for k, (m_new, m_old) in enumerate(zip(mj, mus, strict=True)):
                jac[k][:, j] = (m_new - m_old) / h
        mus_at(v)                    # leaves the parameters at v
        if analytic.any():
            _template_columns(ctx, free, analytic, jac)
        return jac

    def derivs(v: np.ndarray, mus) -> tuple[np.ndarray, np.ndarray]:
        return ctx.derivs(n, [(None, j) for j in jacobian(v, mus)], mus)

    x0 = np.clip(np.array([q.value for q in free], float), lo, hi)
    x, mus, it, converged = levenberg_marquardt(x0, lo, hi, mus_at, ctx.total, derivs,
                                                ctx.maxit, ctx.crit, ctx.on_iteration)
    g, hm = derivs(x, mus)           # also leaves the parameters at x
    return x, it, converged, covariance(hm, x, lo, hi, g)
