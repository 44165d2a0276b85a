"""The bounded Levenberg–Marquardt loop and the statistic's gradient and curvature.

Fisher scoring as XSPEC does it (``docs/spectral.md``): the gradient ``Jᵀ·d1`` and the
curvature ``2·Jᵀ diag(d2) J`` are built from XSPEC's derivative terms
(:func:`nuskybgd.spectral.stats.gradient_weights`), and a parameter at a limit whose gradient
points outward is held for the step (an active set).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nuskybgd.spectral.parameters import Parameter
from nuskybgd.spectral.stats import gradient_weights, statistic_terms

Counts = list[np.ndarray]
IterationHook = Callable[[int, float, float], None]
"""``hook(iteration, statistic, improvement)`` after each accepted step; may raise to stop."""


def levenberg_marquardt(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                        model: Callable[[np.ndarray], Counts],
                        statistic: Callable[[Counts], float],
                        derivs: Callable[[np.ndarray, Counts], tuple[np.ndarray, np.ndarray]],
                        maxit: int, crit: float, on_iteration: IterationHook | None = None,
                        ) -> tuple[np.ndarray, Counts, int, bool]:
    """Bounded Levenberg–Marquardt (Fisher scoring) with an active set for the limits.

    ``model(x)`` gives the model counts per spectrum, ``statistic(mus)`` the statistic and
    ``derivs(x, mus)`` its gradient and curvature.  A parameter at a limit whose gradient
    points outward is held for the step; damping λ × 10 on rejection, λ / 10 on acceptance;
    stops when the statistic improves by less than ``crit`` after more than 2 iterations, when
    no downhill step exists (λ > 1e12) or after ``maxit`` iterations.  ``on_iteration`` is
    called after every accepted step (it may raise, e.g. :class:`nuskybgd.events.Cancelled`).

    Returns the parameters, their model counts, the iterations and whether it converged.
    """
    x = x0
    mus = model(x)
    stat = statistic(mus)
    lam = 1e-3
    it = 0
    while it < maxit:
        it += 1
        g, h = derivs(x, mus)
        fr = ~(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))
        if not fr.any():
            return x, mus, it, True
        hf = h[np.ix_(fr, fr)]
        dg = np.diag(hf).copy()
        while lam <= 1e12:
            try:
                step = np.linalg.solve(hf + lam * np.diag(dg + 1e-30), -g[fr])
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            xn = x.copy()
            xn[fr] = np.clip(x[fr] + step, lo[fr], hi[fr])
            mn = model(xn)
            sn = statistic(mn)
            if sn <= stat:
                break
            lam *= 10
        else:
            return x, mus, it, True        # no downhill step exists at this precision
        dstat = stat - sn
        x, mus, stat = xn, mn, sn
        lam = max(lam / 10, 1e-9)
        if on_iteration is not None:
            on_iteration(it, stat, dstat)
        if dstat < crit and it > 2:
            return x, mus, it, True
    return x, mus, it, False


def statistic_total(name: str, obs: Counts, mus: Counts, errs: Sequence[np.ndarray | None]) -> float:
    """Statistic ``name`` summed over spectra for model counts ``mus``."""
    return float(sum(statistic_terms(name, s, m, e).sum() for s, m, e in zip(obs, mus, errs, strict=True)))


def gradient_curvature(name: str, n: int, jacobians: Sequence[tuple[np.ndarray | None, np.ndarray]],
                       obs: Counts, mus: Counts, errs: Sequence[np.ndarray | None],
                       ) -> tuple[np.ndarray, np.ndarray]:
    """XSPEC-style gradient ``Jᵀ·d1`` and curvature ``2·Jᵀ diag(d2) J`` of statistic ``name``.

    ``jacobians`` holds, per spectrum, ``(cols, J)``: the derivatives of its model counts with
    respect to the free parameters ``cols`` (``None``: all ``n``).
    """
    g = np.zeros(n)
    h = np.zeros((n, n))
    for (cols, jac), s, m, e in zip(jacobians, obs, mus, errs, strict=True):
        if cols is not None and not cols.size:
            continue
        idx = np.arange(n) if cols is None else cols
        d1, d2 = gradient_weights(name, s, m, e)
        g[idx] += jac.T @ d1
        b = jac * np.sqrt(d2)[:, None]          # BᵀB is a symmetric rank-k update (fast, stable)
        h[np.ix_(idx, idx)] += 2.0 * (b.T @ b)
    return g, h


def bounds(free: list[Parameter]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits a fit keeps each free parameter in (the tighter of soft and hard)."""
    lo = np.array([max(p.soft_min, p.hard_min) for p in free], float)
    hi = np.array([min(p.soft_max, p.hard_max) for p in free], float)
    return lo, hi
