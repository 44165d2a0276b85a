"""The fit problem (spectra + sources) and its fit driver.

:class:`FitProblem` ties spectra (each with one response per source) to sources (XSPEC named
models, one parameter set per data group).  The work is done by modules that each do one
thing:

* :mod:`nuskybgd.spectral.links` — links resolved and ordered once, evaluated as closures;
* :mod:`nuskybgd.spectral.evaluate` — model counts from additive :class:`~.evaluate.Term`\\ s
  and folded templates cached by shape-parameter values;
* :mod:`nuskybgd.spectral.fitters` — the linear-norms fast path and the general path;
* :mod:`nuskybgd.spectral.lm` — the bounded Levenberg–Marquardt loop (XSPEC's derivative terms,
  stopping when the statistic improves by less than ``crit_delta``: ``method leven maxit crit``);
* :mod:`nuskybgd.spectral.confidence` — 1σ errors from the curvature and profile bounds.

A fit reports a :class:`~nuskybgd.events.ProgressEvent` per iteration to an optional
:class:`~nuskybgd.events.Reporter` and stops with :class:`~nuskybgd.events.Cancelled` (the
parameters as before the fit) when the reporter's cancel token is set.
"""

from __future__ import annotations

import math
import time

import numpy as np

from nuskybgd.errors import ModelError
from nuskybgd.events import Cancelled, Reporter
from nuskybgd.spectral.confidence import profile_bounds
from nuskybgd.spectral.data import Spectrum
from nuskybgd.spectral.evaluate import ModelEvaluator
from nuskybgd.spectral.fitters import FitContext, fit_general, fit_linear, linear_system
from nuskybgd.spectral.links import LinkSet
from nuskybgd.spectral.lm import IterationHook
from nuskybgd.spectral.model import Source, find_parameter, find_source, select_parameters
from nuskybgd.spectral.parameters import Parameter, parse_link
from nuskybgd.spectral.results import FitResult, ParamRow
from nuskybgd.spectral.stats import statistic_terms

__all__ = ["FitProblem", "FitResult", "ParamRow"]

METHODS = ("auto", "linear", "lm")


def _check_sources(sources: list[Source]) -> None:
    numbers = [s.number for s in sources]
    if len(set(numbers)) != len(numbers):
        raise ModelError(f"two sources share a source number ({numbers}); give each its own.")
    names = [s.name for s in sources if s.name]
    if len(set(names)) != len(names):
        raise ModelError(f"two sources share a name ({names}); give each its own.")
    if len([s for s in sources if not s.name]) > 1:
        raise ModelError("only one source may be unnamed (XSPEC's model 1).")


def progress_fraction(first: float, improvement: float, crit: float) -> float:
    """Estimated fraction of a fit done, from the statistic improvements (0–0.99).

    The improvement per iteration falls from ``first`` towards ``crit`` (where the fit stops);
    the fraction is how far it has come on a logarithmic scale.
    """
    if first <= crit:
        return 0.99
    if improvement <= crit:
        return 0.99
    done = math.log(first / improvement) / math.log(first / crit)
    return min(max(done, 0.0), 0.99)


class FitProblem:
    """Spectra and sources to fit together (XSPEC's data + models + statistic + method).

    Parameters
    ----------
    spectra : list of Spectrum
        In XSPEC order (spectrum s is ``spectra[s-1]``); each carries its data group.
    sources : list of Source
        Models; source k is folded through ``spectrum.responses[k]`` of each spectrum that has
        one (a spectrum without a response for a source gets nothing from it, as in XSPEC).
    statistic : str
        ``cstat`` (default) or ``chi``.
    maxit, crit_delta : int, float
        ``method leven maxit crit_delta``; defaults are nuskybgd's ``30000 1e-4``.
    """

    def __init__(self, spectra: list[Spectrum], sources: list[Source], statistic: str = "cstat",
                 maxit: int = 30000, crit_delta: float = 1e-4) -> None:
        if not spectra:
            raise ModelError("a fit needs at least one spectrum.")
        if statistic not in ("cstat", "chi"):
            raise ModelError(f"unknown statistic {statistic!r}; use cstat or chi.")
        self.spectra = list(spectra)
        self.sources = sorted(sources, key=lambda s: s.number)
        _check_sources(self.sources)
        self.n_groups = max(s.group for s in self.spectra)
        for sp_ in self.spectra:
            if sp_.group < 1:
                raise ModelError(f"spectrum {sp_.name} has data group {sp_.group}; groups start at 1.")
            sp_._check_responses()
        for src in self.sources:
            if src.n_groups < self.n_groups:
                src.set_groups(self.n_groups)
        self.statistic_name = statistic
        self.maxit = int(maxit)
        self.crit_delta = float(crit_delta)
        self.evaluator = ModelEvaluator(self.spectra, self.sources)
        self.links = LinkSet(self.sources)     # checks every link (missing targets, cycles) up front
        self._counts_override: list[np.ndarray] | None = None
        self.last_result: FitResult | None = None
        self.resolve()

    # -- parameter addressing --------------------------------------------------------------
    def source(self, key: str | int) -> Source:
        """A source by name or number."""
        return find_source(self.sources, key)

    @property
    def parameters(self) -> list[Parameter]:
        """All parameters, sources in number order, XSPEC order within each."""
        return [p for s in self.sources for p in s.parameters]

    def par(self, key: str | int | Parameter, context: Source | None = None) -> Parameter:
        """Look a parameter up: ``intbgd:16``, ``p16``/``16`` (unnamed source or ``context``),
        ``intbgd.line_19.65keV.norm`` or ``intbgd.lorentz_5.norm@3`` (data group 3)."""
        return find_parameter(self.sources, key, context)

    def set(self, key: str | int | Parameter, value: float | None = None, *,
            frozen: bool | None = None) -> Parameter:
        """Set a parameter's value (removing any link) and/or frozen flag (XSPEC ``newpar``)."""
        p = self.par(key)
        p.set(value, frozen=frozen)
        return p

    def link(self, key: str | int | Parameter, expression: str) -> Parameter:
        """Link a parameter: ``link("apbgd:6", "1.118*apbgd:3")`` (XSPEC ``newpar 6 = …``)."""
        p = self.par(key)
        expr = parse_link(expression)
        old = p.link
        p.link = expr
        try:
            self.links.compile()
        except ModelError:
            p.link = old
            raise
        self.resolve()
        return p

    def freeze(self, *keys: str | int | Parameter) -> None:
        """Freeze parameters (``fcxb:*``, ``intbgd:4-13`` and single ids accepted)."""
        for k in keys:
            for p in select_parameters(self.sources, k):
                p.frozen = True

    def thaw(self, *keys: str | int | Parameter) -> None:
        """Thaw parameters (linked ones stay linked)."""
        for k in keys:
            for p in select_parameters(self.sources, k):
                p.frozen = False

    def resolve(self) -> None:
        """Update every linked parameter's value from its link expression."""
        self.links.resolve()

    def free_parameters(self) -> list[Parameter]:
        """The parameters a fit varies (neither frozen nor linked)."""
        return [p for p in self.parameters if p.is_free]

    # -- model and data --------------------------------------------------------------------
    @property
    def n_evaluations(self) -> int:
        """Model evaluations of the last fit (products X·p on the fast path)."""
        return self.evaluator.n_evaluations

    def model_counts(self, spectrum: int | Spectrum, source: int | str | None = None,
                     noticed_only: bool = False) -> np.ndarray:
        """Predicted counts per group of one spectrum (all sources, or one source).

        ``spectrum`` is the 1-based XSPEC spectrum number or the Spectrum itself.
        """
        self.resolve()
        si = spectrum - 1 if isinstance(spectrum, int) else self.spectra.index(spectrum)
        only = None if source is None else self.source(source).number
        mu = self.evaluator.spectrum_counts(si, only)
        return mu[self.spectra[si].noticed] if noticed_only else mu

    def use_counts(self, counts: list[np.ndarray] | None) -> None:
        """Fit ``counts`` instead of the spectra's own counts (None: back to the spectra's).

        ``counts`` holds, per spectrum, the counts of its noticed groups (what
        :meth:`simulate` returns); the bootstrap fits simulated data this way.
        """
        if counts is None:
            self._counts_override = None
            return
        arrays = [np.asarray(c, dtype=float) for c in counts]
        if len(arrays) != len(self.spectra) or any(
                a.shape != (s.n_noticed,) for a, s in zip(arrays, self.spectra, strict=False)):
            raise ModelError("replacement counts need one array per spectrum with one value per "
                             "noticed group; draw them with FitProblem.simulate.")
        self._counts_override = arrays

    def _observed(self) -> list[np.ndarray]:
        if self._counts_override is not None:
            return self._counts_override
        return [s.counts[s.noticed] for s in self.spectra]

    def _stat_err(self) -> list[np.ndarray | None]:
        return [None if s.stat_err is None else s.stat_err[s.noticed] for s in self.spectra]

    def _per_spectrum(self, mus: list[np.ndarray]) -> list[float]:
        return [float(statistic_terms(self.statistic_name, obs, mu, err).sum())
                for obs, mu, err in zip(self._observed(), mus, self._stat_err(), strict=True)]

    def statistic(self) -> float:
        """The statistic at the current parameter values."""
        self.resolve()
        return float(sum(self._per_spectrum(self.evaluator.noticed_counts())))

    @property
    def n_bins(self) -> int:
        """Noticed groups over all spectra."""
        return sum(s.n_noticed for s in self.spectra)

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> list[tuple]:
        """Values, frozen flags and links of every parameter (restore with :meth:`restore`)."""
        return [(p.value, p.frozen, p.link, p.error) for p in self.parameters]

    def restore(self, snap: list[tuple]) -> None:
        """Put back what :meth:`snapshot` recorded."""
        for p, (v, f, link, err) in zip(self.parameters, snap, strict=False):
            p.value, p.frozen, p.link, p.error = v, f, link, err
        self.links.compile()
        self.resolve()

    # -- fitting ---------------------------------------------------------------------------
    def _check_fittable(self, method: str) -> None:
        if method not in METHODS:
            raise ModelError(f"unknown fit method {method!r}; use one of {', '.join(METHODS)}.")
        for spec in self.spectra:
            if not any(src.number in spec.responses for src in self.sources):
                raise ModelError(
                    f"spectrum {spec.name} has no response for any model source, so no model can be "
                    "fitted to it; load its response (XSPEC 'response k:s file' or RESPFILE in its "
                    "header) or leave the spectrum out.")

    def _iteration_hook(self, reporter: Reporter, crit: float) -> IterationHook:
        state = {"first": None, "fraction": 0.0}

        def hook(iteration: int, stat: float, improvement: float) -> None:
            if state["first"] is None:
                state["first"] = improvement
            state["fraction"] = max(state["fraction"], progress_fraction(state["first"], improvement, crit))
            reporter.progress(state["fraction"], f"iteration {iteration}, {self.statistic_name} {stat:.1f}")
            reporter.check_cancelled()

        return hook

    def fit(self, method: str = "auto", maxit: int | None = None, crit_delta: float | None = None,
            errors: bool = True, reporter: Reporter | None = None) -> FitResult:
        """Fit the free parameters; returns a :class:`FitResult` (also in ``last_result``).

        ``method`` is ``auto`` (fast path when the model is linear in its free parameters),
        ``linear`` (fast path or ModelError) or ``lm`` (general Levenberg–Marquardt).
        ``reporter`` receives a progress event per iteration and a result event; when its
        cancel token is set the fit raises :class:`~nuskybgd.events.Cancelled` and the
        parameters are left as they were before the fit.
        """
        t0 = time.perf_counter()
        self._check_fittable(method)
        self.evaluator.n_evaluations = 0
        self.links.compile()
        self.resolve()
        crit = self.crit_delta if crit_delta is None else float(crit_delta)
        free = self.free_parameters()
        system = None if method == "lm" else linear_system(self.evaluator, self.links, free)
        if method == "linear" and system is None:
            raise ModelError("the model is not linear in its free parameters (a shape parameter is free "
                             "or linked non-proportionally); use method='lm'.")
        if not free:
            raise ModelError("every parameter is frozen or linked; thaw at least one to fit.")
        if self.n_bins == 0:
            raise ModelError("no channel of any spectrum is noticed; notice an energy range "
                             "(e.g. notice_band(3.0, 150.0)) before fitting.")
        ctx = FitContext(self.evaluator, self.links, self.statistic_name, self._observed(),
                         self._stat_err(), self.maxit if maxit is None else int(maxit), crit,
                         None if reporter is None else self._iteration_hook(reporter, crit))
        before = self.snapshot()
        try:
            if reporter is not None:
                reporter.check_cancelled()
            x, it, conv, cov = fit_linear(ctx, free, system) if system is not None else fit_general(ctx, free)
        except Cancelled:
            self.restore(before)
            raise
        for p, v in zip(free, x, strict=True):
            p.value = float(v)
        self.resolve()
        result = self._result(free, cov, errors, it, conv, t0,
                              "linear-norms" if system is not None else "levenberg-marquardt")
        if reporter is not None:
            reporter.progress(1.0, f"{'converged' if conv else 'stopped'} after {it} iterations, "
                                   f"{self.statistic_name} {result.statistic:.1f}")
            reporter.result({"statistic": self.statistic_name, "value": result.statistic,
                             "dof": result.dof, "converged": conv, "iterations": it},
                            result.report().splitlines()[0])
        return result

    def _result(self, free: list[Parameter], cov: np.ndarray, errors: bool, iterations: int,
                converged: bool, t0: float, method: str) -> FitResult:
        """Set the parameters' errors and build the :class:`FitResult` (kept in last_result)."""
        per = self._per_spectrum(self.evaluator.noticed_counts())
        errs = np.sqrt(np.clip(np.diag(cov), 0, None)) if cov.size else np.zeros(0)
        for p in self.parameters:
            p.error = None
        for p, e in zip(free, errs, strict=True):
            p.error = float(e) if errors else None
        rows = [ParamRow(p.xspec_id, p.full_name, p.value, p.error if p.is_free else None,
                         "free" if p.is_free else ("= " + p.link.text if p.link else "frozen"), p.unit)
                for p in self.parameters]
        result = FitResult(
            statistic_name=self.statistic_name, statistic=float(sum(per)),
            dof=self.n_bins - len(free),
            per_spectrum=[(s.name, v, s.n_noticed) for s, v in zip(self.spectra, per, strict=True)],
            parameters=rows, iterations=iterations, n_evaluations=self.evaluator.n_evaluations,
            elapsed=time.perf_counter() - t0, method=method, converged=converged, covariance=cov,
            free=[p.xspec_id for p in free],
        )
        self.last_result = result
        return result

    # -- confidence profiles ---------------------------------------------------------------
    def conf(self, *keys: str | int | Parameter, delta_stat: float = 2.706, max_steps: int = 40,
             reporter: Reporter | None = None) -> dict[str, tuple[float, float]]:
        """XSPEC ``error``-like intervals: for each parameter, the values where the statistic,
        refitted over the other free parameters, rises by ``delta_stat`` (2.706: 90 %).

        Returns ``{xspec_id: (lower, upper)}``; a side that reaches a limit returns the limit.
        The best fit (``fit()`` first) is restored afterwards, also when ``reporter``'s cancel
        token stops the search (:class:`~nuskybgd.events.Cancelled`).
        """
        if self.last_result is None:
            self.fit()
        base = self.snapshot()
        best_result = self.last_result
        best = best_result.statistic
        out: dict[str, tuple[float, float]] = {}
        try:
            for i, key in enumerate(keys):
                p = self.par(key)
                if not p.is_free:
                    raise ModelError(f"{p.xspec_id} ({p.full_name}) is not free; conf needs a free parameter.")
                v0 = p.value
                sigma = p.error if p.error and np.isfinite(p.error) and p.error > 0 else max(abs(v0) * 0.1, 1e-6)

                def excess(v: float, p: Parameter = p) -> float:
                    if reporter is not None:
                        reporter.check_cancelled()
                    return self._profile(base, p, v) - best - delta_stat

                out[p.xspec_id] = profile_bounds(excess, v0, sigma, max(p.soft_min, p.hard_min),
                                                 min(p.soft_max, p.hard_max), max_steps)
                if reporter is not None:
                    reporter.progress((i + 1) / len(keys), f"confidence bounds of {p.xspec_id}")
        finally:
            self.restore(base)
            self.last_result = best_result
        return out

    def _profile(self, base: list[tuple], p: Parameter, value: float) -> float:
        """The statistic refitted over the other free parameters with ``p`` held at ``value``."""
        self.restore(base)
        p.value = value
        p.frozen = True
        try:
            return self.fit(errors=False).statistic if self.free_parameters() else self.statistic()
        finally:
            p.frozen = False

    # -- simulation ------------------------------------------------------------------------
    def simulate(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Poisson counts for the noticed groups of every spectrum, drawn from the current model."""
        self.resolve()
        return [rng.poisson(np.maximum(mu, 0.0)).astype(float) for mu in self.evaluator.noticed_counts()]
