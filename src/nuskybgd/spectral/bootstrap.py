"""Goodness of fit by parametric bootstrap.

cstat is not χ²-distributed for sparse spectra (the walkthrough warns about it), so the p-value
of a fit is estimated by simulation: draw Poisson spectra from the best-fit model, refit each
from the best fit, and count how often the simulated statistic reaches the observed one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuskybgd.errors import ModelError
from nuskybgd.events import Reporter
from nuskybgd.spectral.fit import FitProblem


@dataclass
class GoodnessResult:
    """Bootstrap outcome.

    Attributes
    ----------
    observed : float
        Statistic of the fit to the real data.
    simulated : ndarray
        Statistic of each refitted simulation.
    p_value : float
        ``(1 + #(simulated ≥ observed)) / (1 + N)`` (never exactly zero).
    """

    observed: float
    simulated: np.ndarray
    p_value: float

    def __str__(self) -> str:
        q = np.percentile(self.simulated, [5, 50, 95])
        return (f"goodness of fit: observed {self.observed:.3f}; {self.simulated.size} simulations "
                f"(5/50/95 %: {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}); p-value {self.p_value:.4f}")


def goodness_of_fit(problem: FitProblem, n_sim: int = 100, seed: int | None = None,
                    progress=None, reporter: Reporter | None = None) -> GoodnessResult:
    """Parametric-bootstrap p-value of the current best fit.

    Parameters
    ----------
    problem : FitProblem
        A fitted problem (``fit()`` is called first when it has not been).
    n_sim : int
        Number of simulated data sets.
    seed : int, optional
        Random seed (reproducible p-values).
    progress : callable, optional
        ``progress(i, n_sim)`` after each simulation.
    reporter : Reporter, optional
        Receives a progress event after each simulation; its cancel token stops the bootstrap
        between simulations (:class:`~nuskybgd.events.Cancelled`), the best fit restored.
    """
    if n_sim < 1:
        raise ModelError("the bootstrap needs at least one simulation (n_sim ≥ 1).")
    if problem.last_result is None:
        problem.fit()
    best = problem.snapshot()
    best_result = problem.last_result
    observed = best_result.statistic
    rng = np.random.default_rng(seed)
    sims = np.empty(n_sim)
    try:
        for i in range(n_sim):
            problem.restore(best)
            if reporter is not None:
                reporter.check_cancelled()
            problem.use_counts(problem.simulate(rng))
            sims[i] = problem.fit(errors=False).statistic
            if progress is not None:
                progress(i + 1, n_sim)
            if reporter is not None:
                reporter.progress((i + 1) / n_sim, f"simulation {i + 1} of {n_sim}")
    finally:
        problem.use_counts(None)
        problem.restore(best)
        problem.last_result = best_result
    p = (1 + np.count_nonzero(sims >= observed)) / (1 + n_sim)
    return GoodnessResult(observed=observed, simulated=sims, p_value=float(p))
