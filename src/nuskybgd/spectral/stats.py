"""XSPEC fit statistics, exactly as XSPEC computes them.

``cstat`` (XSPEC ``StdCstat`` without a background file)::

    C = 2 Σ_i [ μ_i − S_i + S_i (ln S_i − ln μ_i) ]      (the S ln S term is 0 when S_i = 0)

with the model counts floored, ``μ_i ← max(μ_i, 1e-5)`` (XSPEC floors the rate at 1e-5/t).

``chi`` (``weight standard``): ``χ² = Σ (S_i − μ_i)² / σ_i²`` with σ_i² the STAT_ERR² of the
group when the file has that column, else the observed counts; a group with zero counts and no
STAT_ERR gets σ² = 1 (so that it cannot divide by zero; document it if chi is used on sparse data).
"""

from __future__ import annotations

import numpy as np

from nuskybgd.errors import ModelError

CSTAT_FLOOR = 1e-5
"""Model counts floor of XSPEC's cstat (predicted counts never below 1e-5)."""

STATISTICS = ("cstat", "chi")


def cstat_terms(counts: np.ndarray, model: np.ndarray) -> np.ndarray:
    """Per-bin contributions to XSPEC's cstat (``counts``, ``model`` in counts per bin)."""
    mu = np.maximum(model, CSTAT_FLOOR)
    s = np.asarray(counts, dtype=float)
    out = 2.0 * (mu - s)
    pos = s > 0
    out[pos] += 2.0 * s[pos] * (np.log(s[pos]) - np.log(mu[pos]))
    return out


def chi_terms(counts: np.ndarray, model: np.ndarray, stat_err: np.ndarray | None = None) -> np.ndarray:
    """Per-bin contributions to XSPEC's chi (standard weighting)."""
    s = np.asarray(counts, dtype=float)
    var = np.asarray(stat_err, float) ** 2 if stat_err is not None else s.copy()
    var = np.where(var > 0, var, 1.0)
    return (s - model) ** 2 / var


def statistic_terms(name: str, counts: np.ndarray, model: np.ndarray,
                    stat_err: np.ndarray | None = None) -> np.ndarray:
    """Per-bin contributions of statistic ``name`` (``cstat`` or ``chi``)."""
    if name == "cstat":
        return cstat_terms(counts, model)
    if name == "chi":
        return chi_terms(counts, model, stat_err)
    raise ModelError(f"unknown statistic {name!r}; use one of {', '.join(STATISTICS)}.")


def gradient_weights(name: str, counts: np.ndarray, model: np.ndarray,
                     stat_err: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """XSPEC-style derivative terms per bin: (∂C/∂μ, ½·∂²C/∂μ² with observed counts).

    For cstat these are ``2(1 − S/μ)`` and ``S/μ²`` (μ floored), XSPEC's diff1/diff2; for chi
    ``−2(S − μ)/σ²`` and ``1/σ²``.  The fitters build the gradient ``Jᵀ·d1`` and the curvature
    ``2·Jᵀ diag(d2) J`` from them.
    """
    s = np.asarray(counts, dtype=float)
    if name == "cstat":
        mu = np.maximum(model, CSTAT_FLOOR)
        return 2.0 * (1.0 - s / mu), s / mu**2
    if name == "chi":
        var = np.asarray(stat_err, float) ** 2 if stat_err is not None else s.copy()
        var = np.where(var > 0, var, 1.0)
        return -2.0 * (s - model) / var, 1.0 / var
    raise ModelError(f"unknown statistic {name!r}; use one of {', '.join(STATISTICS)}.")
