"""Parameter errors: 1σ from the curvature at the best fit, and profile confidence bounds.

* :func:`covariance` — ``2·H⁻¹`` of the statistic's curvature H on the free parameters not
  pinned at a limit (XSPEC's covariance for C and χ², which are −2 ln L up to a constant).
* :func:`profile_bounds` — XSPEC ``error``-like bounds: where a profile statistic (refitted over
  the other free parameters) rises by a given amount, bracketed outward from the best fit and
  refined with Brent's method.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq


def covariance(h: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               g: np.ndarray) -> np.ndarray:
    """Covariance 2·H⁻¹ on the parameters not pinned at a limit (NaN rows for pinned ones).

    Parameters
    ----------
    h, g : ndarray
        Curvature (n × n) and gradient (n) of the statistic at ``p``.
    p, lo, hi : ndarray
        Parameter values and their fit limits (parameter units).
    """
    n = p.size
    cov = np.full((n, n), np.nan)
    pinned = ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))
    ok = ~pinned & (np.diag(h) > 0)
    if ok.any():
        sub = h[np.ix_(ok, ok)]
        try:
            inv = np.linalg.inv(sub)
        except np.linalg.LinAlgError:
            inv = np.linalg.pinv(sub)
        cov[np.ix_(ok, ok)] = 2.0 * inv
    return cov


def _one_side(excess: Callable[[float], float], v0: float, sigma: float, sign: int, limit: float,
              max_steps: int) -> float:
    step = sigma
    inner, outer = v0, None
    for _ in range(max_steps):
        cand = v0 + sign * step
        if (sign < 0 and cand <= limit) or (sign > 0 and cand >= limit):
            cand = limit
        if excess(cand) > 0:
            outer = cand
            break
        inner = cand
        if cand == limit:
            break
        step *= 1.6
    if outer is None:
        return limit if inner == limit else inner
    a, b = sorted((inner, outer))
    return brentq(excess, a, b, xtol=1e-4 * max(sigma, 1e-12)) if a != b else a


def profile_bounds(excess: Callable[[float], float], v0: float, sigma: float,
                   lower_limit: float, upper_limit: float, max_steps: int = 40) -> tuple[float, float]:
    """Lower and upper values where ``excess`` (profile statistic − best − Δ) crosses zero.

    Steps outward from the best value ``v0`` by ``sigma`` × 1.6ᵏ until ``excess`` turns
    positive, then refines with Brent's method; a side that reaches its limit without crossing
    returns the limit (or the last value tried after ``max_steps``).  Values in parameter units.
    """
    return (_one_side(excess, v0, sigma, -1, lower_limit, max_steps),
            _one_side(excess, v0, sigma, +1, upper_limit, max_steps))
