"""What a fit reports: the parameter table rows and the fit result."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ParamRow:
    """One row of a fit report's parameter table."""

    id: str
    name: str
    value: float
    error: float | None
    status: str          # "free", "frozen" or "= <link>"
    unit: str = ""


@dataclass
class FitResult:
    """Outcome of a fit.

    Attributes
    ----------
    statistic_name : str
        ``cstat`` or ``chi``.
    statistic : float
        Final statistic.
    dof : int
        Noticed bins minus free parameters.
    per_spectrum : list of (name, statistic, n_bins)
        Contribution of each spectrum.
    parameters : list of ParamRow
        Every parameter with value, 1σ error (free ones) and status.
    iterations, n_evaluations : int
        LM iterations and model evaluations (products X·p on the fast path).
    elapsed : float
        Wall time of the fit in s (template folding included).
    method : str
        ``linear-norms`` or ``levenberg-marquardt``.
    converged : bool
        True when the statistic change fell below ``crit_delta``.
    covariance : ndarray
        Covariance of the free parameters (order of ``free``); NaN rows for parameters at a limit.
    free : list of str
        XSPEC ids of the free parameters.
    """

    statistic_name: str
    statistic: float
    dof: int
    per_spectrum: list[tuple[str, float, int]]
    parameters: list[ParamRow]
    iterations: int
    n_evaluations: int
    elapsed: float
    method: str
    converged: bool
    covariance: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    free: list[str] = field(default_factory=list)

    def report(self, all_parameters: bool = False) -> str:
        """Human-readable report: statistic, dof, per-spectrum table, parameters, cost."""
        lines = [
            f"Fit ({self.method}): {self.statistic_name} = {self.statistic:.4f} for {self.dof} dof"
            f" ({'converged' if self.converged else 'NOT converged'}; {self.iterations} iterations, "
            f"{self.n_evaluations} model evaluations, {self.elapsed:.3f} s)",
            "Per spectrum:",
        ]
        for name, stat, nb in self.per_spectrum:
            lines.append(f"  {name:<40s} {stat:14.4f}  ({nb} bins)")
        lines.append(f"{'parameter':<16s} {'name':<40s} {'value':>14s} {'1σ error':>12s}  status")
        for r in self.parameters:
            if not all_parameters and r.status != "free":
                continue
            err = "" if r.error is None or not np.isfinite(r.error) else f"{r.error:.4g}"
            lines.append(f"{r.id:<16s} {r.name:<40s} {r.value:14.6g} {err:>12s}  {r.status}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()
