"""The fit problem (spectra + sources) and its fitters.

:class:`FitProblem` ties spectra (each with one response per source) to sources (XSPEC named
models, one parameter set per data group).  It resolves links, evaluates model counts with
per-(spectrum, source, term) folded templates cached by shape-parameter values, and fits:

* **linear-norms fast path** — when every shape parameter is fixed (frozen, or linked to fixed
  values) and every term's coefficient (norm × constant factors, through proportional links) is
  linear in at most one free parameter, the model is ``μ = X·p + μ0`` with X made of folded
  templates computed once.  A Fisher-scoring Levenberg–Marquardt with an active set for the
  limits (``docs/spectral.md``) then fits ``p`` with dense per-spectrum blocks.
* **general path** — a bounded Levenberg–Marquardt on the full model with forward-difference
  derivatives; a derivative with respect to a norm only recombines cached templates, one with
  respect to a shape parameter refolds only the affected terms.

Both use XSPEC's derivative terms (``stats.gradient_weights``) and stop when the statistic
improves by less than ``crit_delta`` (``method leven <maxit> <crit_delta>``).  Errors: 1σ from
the final curvature (covariance ``(Jᵀ diag(d2) J)⁻¹``) and :meth:`FitProblem.conf` profiles.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from nuskybgd.errors import ModelError
from nuskybgd.spectral.components import component_values
from nuskybgd.spectral.data import Spectrum
from nuskybgd.spectral.model import Source, find_parameter, find_source, select_parameters
from nuskybgd.spectral.parameters import Parameter, parse_link
from nuskybgd.spectral.stats import gradient_weights, statistic_terms

# ----------------------------------------------------------------------------- results


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


def _levenberg_marquardt(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, model, statistic, derivs,
                         maxit: int, crit: float) -> tuple[np.ndarray, list[np.ndarray], int, bool]:
    """Bounded Levenberg–Marquardt (Fisher scoring) with an active set for the limits.

    ``model(x)`` gives the model counts per spectrum, ``statistic(mus)`` the statistic and
    ``derivs(x, mus)`` its gradient and curvature.  A parameter at a limit whose gradient
    points outward is held for the step; damping λ × 10 on rejection, λ / 10 on acceptance;
    stops when the statistic improves by less than ``crit`` after more than 2 iterations, when
    no downhill step exists (λ > 1e12) or after ``maxit`` iterations.

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
        if dstat < crit and it > 2:
            return x, mus, it, True
    return x, mus, it, False


# ----------------------------------------------------------------------------- problem

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
        numbers = [s.number for s in self.sources]
        if len(set(numbers)) != len(numbers):
            raise ModelError(f"two sources share a source number ({numbers}); give each its own.")
        names = [s.name for s in self.sources if s.name]
        if len(set(names)) != len(names):
            raise ModelError(f"two sources share a name ({names}); give each its own.")
        unnamed = [s for s in self.sources if not s.name]
        if len(unnamed) > 1:
            raise ModelError("only one source may be unnamed (XSPEC's model 1).")
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
        self._flux_cache: dict = {}
        self._fold_cache: dict = {}
        self._data_override: list[np.ndarray] | None = None
        self.n_evaluations = 0
        self.last_result: FitResult | None = None
        self._compile()          # checks every link (missing targets, cycles) up front
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

    def _select(self, pattern: str | int | Parameter) -> list[Parameter]:
        return select_parameters(self.sources, pattern)

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
            self._compile()
        except ModelError:
            p.link = old
            raise
        self.resolve()
        return p

    def freeze(self, *keys: str | int | Parameter) -> None:
        """Freeze parameters (``fcxb:*``, ``intbgd:4-13`` and single ids accepted)."""
        for k in keys:
            for p in self._select(k):
                p.frozen = True

    def thaw(self, *keys: str | int | Parameter) -> None:
        """Thaw parameters (linked ones stay linked)."""
        for k in keys:
            for p in self._select(k):
                p.frozen = False

    # -- links -----------------------------------------------------------------------------
    def _compile(self) -> list[tuple[Parameter, dict[str, Parameter]]]:
        """Resolve every link's references and order links so that chains evaluate correctly."""
        deps: dict[int, tuple[Parameter, dict[str, Parameter]]] = {}
        for src in self.sources:
            for p in src.parameters:
                if p.link is None:
                    continue
                targets = {}
                for ref in p.link.refs:
                    try:
                        targets[ref] = self.par(ref, context=src)
                    except ModelError as exc:
                        raise ModelError(
                            f"the link of {p.xspec_id} ({p.full_name}) '= {p.link.text}' refers to a "
                            f"missing parameter {ref!r}: {exc}"
                        ) from None
                deps[id(p)] = (p, targets)
        order: list[tuple[Parameter, dict[str, Parameter]]] = []
        state: dict[int, int] = {}

        def visit(pid: int, path: list[Parameter]) -> None:
            st = state.get(pid, 0)
            if st == 2:
                return
            p, targets = deps[pid]
            if st == 1:
                cycle = " → ".join(q.xspec_id for q in path + [p])
                raise ModelError(f"circular parameter link {cycle}; break the cycle with a value.")
            state[pid] = 1
            for t in targets.values():
                if id(t) in deps:
                    visit(id(t), path + [p])
            state[pid] = 2
            order.append((p, targets))

        for pid in deps:
            visit(pid, [])
        self._link_order = order
        self._link_signature = self._signature()
        return order

    def _signature(self) -> list:
        return [(p, p.link) for p in self.parameters]

    def _links_changed(self) -> bool:
        old = getattr(self, "_link_signature", None)
        if old is None:
            return True
        new = self._signature()
        return len(old) != len(new) or any(a[0] is not b[0] or a[1] is not b[1]
                                           for a, b in zip(old, new, strict=True))

    def resolve(self) -> None:
        """Update every linked parameter's value from its link expression."""
        order = self._compile() if self._links_changed() else self._link_order
        for p, targets in order:
            p.value = p.link.evaluate(lambda r, t=targets: t[r].value)

    def _affine(self, p: Parameter, memo: dict) -> tuple[float, Parameter | None] | None:
        """``(c, q)`` with value(p) = c·value(q) for a free q (q None: constant c); None if not."""
        key = id(p)
        if key in memo:
            return memo[key]
        if p.link is None:
            res = (p.value, None) if p.frozen else (1.0, p)
        else:
            prop = p.link.proportional()
            if prop is None:
                res = None
            elif prop[1] is None:
                res = (prop[0], None)
            else:
                src = self.source(p.source) if p.source else self.source(1)
                inner = self._affine(self.par(prop[1], context=src), memo)
                res = None if inner is None else (prop[0] * inner[0], inner[1])
        memo[key] = res
        return res

    # -- model evaluation ------------------------------------------------------------------
    def _terms(self):
        """Yield (spectrum index, spectrum, source, term index, add comp, mul comps, group params)."""
        for si, spec in enumerate(self.spectra):
            for src in self.sources:
                if src.number not in spec.responses:
                    continue
                params = src.groups[spec.group - 1]
                for ti, (ai, muls) in enumerate(src.terms):
                    yield si, spec, src, ti, src.components[ai], [src.components[m] for m in muls], params

    @staticmethod
    def _split_term(add, muls, params) -> tuple[list[Parameter], list[Parameter]]:
        """Shape parameters and coefficient parameters (norm and scalar factors) of a term."""
        shape: list[Parameter] = []
        coef: list[Parameter] = []
        ap = params[add.first_param: add.first_param + add.n_params]
        shape.extend(ap[:-1])
        coef.append(ap[-1])
        for m in muls:
            mp = params[m.first_param: m.first_param + m.n_params]
            (coef if m.spec.scalar else shape).extend(mp)
        return shape, coef

    def _template(self, si: int, spec: Spectrum, src: Source, ti: int, add, muls, params) -> np.ndarray:
        """Folded counts per group of one term for unit coefficient (exposure included)."""
        shape_vals = tuple(p.value for p in self._split_term(add, muls, params)[0])
        key = (si, src.number, ti, shape_vals)
        hit = self._fold_cache.get(key)
        if hit is not None:
            return hit
        resp = spec.responses[src.number]
        edges = resp.energy_edges
        flux = self._component_flux(edges, add, params).copy()
        for m in muls:
            if not m.spec.scalar:
                flux *= self._component_flux(edges, m, params)
        rate = resp.fold(flux)
        counts = spec.grouping_matrix @ (rate * spec.channel_scale)
        self._cache_put(key, counts)
        return counts

    def _cache_put(self, key: tuple, counts: np.ndarray) -> None:
        if len(self._fold_cache) >= 4000:          # ~130 MB of NuSTAR-sized templates
            self._fold_cache.clear()
        self._fold_cache[key] = counts

    def _prefetch(self) -> None:
        """Fold, in one sparse product per (spectrum, source), every term template not cached."""
        todo: dict[tuple[int, int], list] = {}
        for si, _spec, src, ti, add, muls, params in self._terms():
            shape, coef = self._split_term(add, muls, params)
            key = (si, src.number, ti, tuple(p.value for p in shape))
            if key in self._fold_cache or math.prod(p.value for p in coef) == 0.0:
                continue
            resp = self.spectra[si].responses[src.number]
            todo.setdefault((si, id(resp.matrix_t)), []).append((key, resp, add, muls, params))
        for (si, _m), items in todo.items():
            if len(items) < 2:
                continue
            spec = self.spectra[si]
            fluxes = np.empty((items[0][1].n_energy, len(items)))
            for j, (_key, resp, add, muls, params) in enumerate(items):
                edges = resp.energy_edges
                f = self._component_flux(edges, add, params).copy()
                for m in muls:
                    if not m.spec.scalar:
                        f *= self._component_flux(edges, m, params)
                if resp.arf_vec is not None:
                    f *= resp.arf_vec
                fluxes[:, j] = f
            rates = (items[0][1].matrix_t @ fluxes) * spec.channel_scale[:, None]
            counts = spec.grouping_matrix @ rates
            for j, (key, *_rest) in enumerate(items):
                self._cache_put(key, np.ascontiguousarray(counts[:, j]))

    def _component_flux(self, edges: np.ndarray, comp, params) -> np.ndarray:
        vals = [p.value for p in params[comp.first_param: comp.first_param + len(comp.spec.params)]]
        key = (id(edges), comp.spec.name, tuple(vals))
        hit = self._flux_cache.get(key)
        if hit is None:
            hit = component_values(comp.spec, edges, vals)
            if len(self._flux_cache) > 5000:
                self._flux_cache.clear()
            self._flux_cache[key] = hit
        return hit

    def model_counts(self, spectrum: int | Spectrum, source: int | str | None = None,
                     noticed_only: bool = False) -> np.ndarray:
        """Predicted counts per group of one spectrum (all sources, or one source).

        ``spectrum`` is the 1-based XSPEC spectrum number or the Spectrum itself.
        """
        self.resolve()
        si = spectrum - 1 if isinstance(spectrum, int) else self.spectra.index(spectrum)
        spec = self.spectra[si]
        only = None if source is None else self.source(source).number
        mu = np.zeros(spec.n_groups)
        for tsi, tspec, src, ti, add, muls, params in self._terms():
            if tsi != si or (only is not None and src.number != only):
                continue
            shape, coef = self._split_term(add, muls, params)
            c = math.prod(p.value for p in coef)
            if c != 0.0:
                mu += c * self._template(tsi, tspec, src, ti, add, muls, params)
        return mu[spec.noticed] if noticed_only else mu

    def _all_mu(self) -> list[np.ndarray]:
        self.n_evaluations += 1
        self._prefetch()
        mus = [np.zeros(s.n_groups) for s in self.spectra]
        for si, spec, src, ti, add, muls, params in self._terms():
            shape, coef = self._split_term(add, muls, params)
            c = math.prod(p.value for p in coef)
            if c != 0.0:
                mus[si] += c * self._template(si, spec, src, ti, add, muls, params)
        return [mu[s.noticed] for mu, s in zip(mus, self.spectra, strict=False)]

    def _observed(self, si: int) -> np.ndarray:
        if self._data_override is not None:
            return self._data_override[si]
        s = self.spectra[si]
        return s.counts[s.noticed]

    def _stat_err(self, si: int) -> np.ndarray | None:
        s = self.spectra[si]
        return None if s.stat_err is None else s.stat_err[s.noticed]

    def statistic(self) -> float:
        """The statistic at the current parameter values."""
        self.resolve()
        return float(sum(self._per_spectrum(self._all_mu())))

    def _per_spectrum(self, mus: list[np.ndarray]) -> list[float]:
        return [float(statistic_terms(self.statistic_name, self._observed(i), mu, self._stat_err(i)).sum())
                for i, mu in enumerate(mus)]

    @property
    def n_bins(self) -> int:
        return sum(s.n_noticed for s in self.spectra)

    def free_parameters(self) -> list[Parameter]:
        return [p for p in self.parameters if p.is_free]

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> list[tuple]:
        """Values, frozen flags and links of every parameter (restore with :meth:`restore`)."""
        return [(p.value, p.frozen, p.link, p.error) for p in self.parameters]

    def restore(self, snap: list[tuple]) -> None:
        for p, (v, f, link, err) in zip(self.parameters, snap, strict=False):
            p.value, p.frozen, p.link, p.error = v, f, link, err
        self._compile()
        self.resolve()

    # -- fitting ---------------------------------------------------------------------------
    def _linear_system(self):
        """Build the linear-norms system, or return None when the model is not linear."""
        memo: dict = {}
        free = self.free_parameters()
        self._prefetch()
        findex = {id(p): i for i, p in enumerate(free)}
        blocks: list[dict[int, np.ndarray]] = [dict() for _ in self.spectra]
        offsets = [np.zeros(s.n_noticed) for s in self.spectra]
        for si, spec, src, ti, add, muls, params in self._terms():
            shape, coef = self._split_term(add, muls, params)
            for p in shape:
                a = self._affine(p, memo)
                if a is None or a[1] is not None:
                    return None
            term = self._coefficient(coef, memo)
            if term is None or len(term[1]) > 1:
                return None
            c, fps = term
            if c == 0.0:
                continue
            t = self._template(si, spec, src, ti, add, muls, params)[spec.noticed]
            if not fps:
                offsets[si] += c * t
            else:
                j = findex[id(fps[0])]
                if j in blocks[si]:
                    blocks[si][j] += c * t
                else:
                    blocks[si][j] = c * t
        system = []
        for si, blk in enumerate(blocks):
            cols = np.array(sorted(blk), dtype=int)
            a = np.column_stack([blk[j] for j in cols]) if cols.size else np.zeros((offsets[si].size, 0))
            system.append((cols, np.ascontiguousarray(a), offsets[si]))
        return free, system

    def _bounds(self, free: list[Parameter]) -> tuple[np.ndarray, np.ndarray]:
        lo = np.array([max(p.soft_min, p.hard_min) for p in free], float)
        hi = np.array([min(p.soft_max, p.hard_max) for p in free], float)
        return lo, hi

    def fit(self, method: str = "auto", maxit: int | None = None,
            crit_delta: float | None = None, errors: bool = True) -> FitResult:
        """Fit the free parameters; returns a :class:`FitResult` (also in ``last_result``).

        ``method`` is ``auto`` (fast path when the model is linear in its free parameters),
        ``linear`` (fast path or ModelError) or ``lm`` (general Levenberg–Marquardt).
        """
        t0 = time.perf_counter()
        self.n_evaluations = 0
        self._compile()
        self.resolve()
        maxit = self.maxit if maxit is None else int(maxit)
        crit = self.crit_delta if crit_delta is None else float(crit_delta)
        system = None if method == "lm" else self._linear_system()
        if method == "linear" and system is None:
            raise ModelError("the model is not linear in its free parameters (a shape parameter is free "
                             "or linked non-proportionally); use method='lm'.")
        if not self.free_parameters():
            raise ModelError("every parameter is frozen or linked; thaw at least one to fit.")
        if self.n_bins == 0:
            raise ModelError("no channel of any spectrum is noticed; notice an energy range "
                             "(e.g. notice_band(3.0, 150.0)) before fitting.")
        if system is not None:
            free, blocks = system
            x, it, conv, cov = self._fit_linear(free, blocks, maxit, crit)
            name = "linear-norms"
        else:
            free = self.free_parameters()
            x, it, conv, cov = self._fit_lm(free, maxit, crit)
            name = "levenberg-marquardt"
        for p, v in zip(free, x, strict=False):
            p.value = float(v)
        self.resolve()
        mus = self._all_mu()
        per = self._per_spectrum(mus)
        errs = np.sqrt(np.clip(np.diag(cov), 0, None)) if cov.size else np.zeros(0)
        for p in self.parameters:
            p.error = None
        for p, e in zip(free, errs, strict=False):
            p.error = float(e) if errors else None
        rows = [ParamRow(p.xspec_id, p.full_name, p.value,
                         p.error if p.is_free else None,
                         "free" if p.is_free else ("= " + p.link.text if p.link else "frozen"), p.unit)
                for p in self.parameters]
        result = FitResult(
            statistic_name=self.statistic_name, statistic=float(sum(per)),
            dof=self.n_bins - len(free),
            per_spectrum=[(s.name, v, s.n_noticed) for s, v in zip(self.spectra, per, strict=False)],
            parameters=rows, iterations=it, n_evaluations=self.n_evaluations,
            elapsed=time.perf_counter() - t0, method=name, converged=conv, covariance=cov,
            free=[p.xspec_id for p in free],
        )
        self.last_result = result
        return result

    def _fit_linear(self, free: list[Parameter], blocks, maxit: int, crit: float):
        """Fisher-scoring LM on μ = X·p + μ0 with an active set for the limits."""
        n = len(free)
        lo, hi = self._bounds(free)
        obs, errs = self._fit_data()

        def mus_of(x: np.ndarray) -> list[np.ndarray]:
            self.n_evaluations += 1
            return [a @ x[cols] + off for cols, a, off in blocks]

        def derivs(_x: np.ndarray, mus) -> tuple[np.ndarray, np.ndarray]:
            return self._gradient_curvature(n, [(cols, a) for cols, a, _ in blocks], obs, mus, errs)

        p0 = np.clip(np.array([q.value for q in free], float), lo, hi)
        p, mus, it, converged = _levenberg_marquardt(
            p0, lo, hi, mus_of, lambda mus: self._stat_total(obs, mus, errs), derivs, maxit, crit)
        g, h = derivs(p, mus)
        return p, it, converged, self._covariance(h, p, lo, hi, g)

    def _fit_data(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """Observed counts and STAT_ERR of the noticed groups of every spectrum."""
        n_spec = len(self.spectra)
        return [self._observed(i) for i in range(n_spec)], [self._stat_err(i) for i in range(n_spec)]

    def _stat_total(self, obs, mus, errs) -> float:
        """The statistic summed over spectra for model counts ``mus``."""
        return float(sum(statistic_terms(self.statistic_name, s, m, e).sum()
                         for s, m, e in zip(obs, mus, errs, strict=True)))

    def _gradient_curvature(self, n: int, jacobians, obs, mus, errs) -> tuple[np.ndarray, np.ndarray]:
        """XSPEC-style gradient ``Jᵀ·d1`` and curvature ``2·Jᵀ diag(d2) J`` of the statistic.

        ``jacobians`` holds, per spectrum, ``(cols, J)``: the derivatives of its model counts with
        respect to the free parameters ``cols`` (``None``: all ``n``).
        """
        g = np.zeros(n)
        h = np.zeros((n, n))
        for (cols, jac), s, m, e in zip(jacobians, obs, mus, errs, strict=True):
            if cols is not None and not cols.size:
                continue
            idx = np.arange(n) if cols is None else cols
            d1, d2 = gradient_weights(self.statistic_name, s, m, e)
            g[idx] += jac.T @ d1
            b = jac * np.sqrt(d2)[:, None]          # BᵀB is a symmetric rank-k update (fast, stable)
            h[np.ix_(idx, idx)] += 2.0 * (b.T @ b)
        return g, h

    @staticmethod
    def _covariance(h: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                    g: np.ndarray) -> np.ndarray:
        """Covariance 2·H⁻¹ on the parameters not pinned at a limit (NaN for pinned ones)."""
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

    def _fit_lm(self, free: list[Parameter], maxit: int, crit: float):
        """Bounded Levenberg–Marquardt on the full model: forward differences for parameters the
        model is not linear in, exact template columns for the others."""
        lo, hi = self._bounds(free)
        n = len(free)
        hard_hi = np.array([q.hard_max for q in free])
        n_spec = len(self.spectra)
        obs, errs = self._fit_data()

        def mus_at(v: np.ndarray) -> list[np.ndarray]:
            for q, val in zip(free, v, strict=False):
                q.value = float(val)
            self.resolve()
            return self._all_mu()

        index = {id(q): j for j, q in enumerate(free)}
        analytic = self._analytic_parameters(free)

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
                for k in range(n_spec):
                    jac[k][:, j] = (mj[k] - mus[k]) / h
            mus_at(v)                    # leaves the parameters at v
            if analytic.any():
                # the model is linear in these (norms, constant factors): dμ/dp = c × template
                memo: dict = {}
                for si, spec, src, ti, add, muls, params in self._terms():
                    term = self._coefficient(self._split_term(add, muls, params)[1], memo)
                    if term is None:
                        continue
                    c, fps = term
                    if len(fps) == 1 and analytic[index[id(fps[0])]] and c != 0.0:
                        t = self._template(si, spec, src, ti, add, muls, params)[spec.noticed]
                        jac[si][:, index[id(fps[0])]] += c * t
            return jac

        def derivs(v: np.ndarray, mus) -> tuple[np.ndarray, np.ndarray]:
            return self._gradient_curvature(n, [(None, j) for j in jacobian(v, mus)], obs, mus, errs)

        x0 = np.clip(np.array([q.value for q in free], float), lo, hi)
        x, mus, it, converged = _levenberg_marquardt(
            x0, lo, hi, mus_at, lambda mus: self._stat_total(obs, mus, errs), derivs, maxit, crit)
        g, hm = derivs(x, mus)           # also leaves the parameters at x
        return x, it, converged, self._covariance(hm, x, lo, hi, g)

    def _coefficient(self, coef: list[Parameter], memo: dict) -> tuple[float, list[Parameter]] | None:
        """A term coefficient (product of ``coef``) as ``c × Π free``: ``(c, free parameters)``,
        or None when a factor is not proportional to a free parameter or a constant."""
        c = 1.0
        fps: list[Parameter] = []
        for q in coef:
            a = self._affine(q, memo)
            if a is None:
                return None
            c *= a[0]
            if a[1] is not None:
                fps.append(a[1])
        return c, fps

    def _analytic_parameters(self, free: list[Parameter]) -> np.ndarray:
        """Flags of free parameters the model is linear in (derivatives from templates).

        A parameter qualifies when it enters only term coefficients (norms, constant factors),
        through proportional links, never together with another free parameter in one
        coefficient, and no shape parameter depends on it.
        """
        memo: dict = {}
        index = {id(q): j for j, q in enumerate(free)}
        ok = np.ones(len(free), bool)
        for _si, _spec, _src, _ti, add, muls, params in self._terms():
            shape, coef = self._split_term(add, muls, params)
            for q in shape:
                a = self._affine(q, memo)
                if a is None:
                    return np.zeros(len(free), bool)
                if a[1] is not None:
                    ok[index[id(a[1])]] = False
            term = self._coefficient(coef, memo)
            if term is None:
                return np.zeros(len(free), bool)
            if len(term[1]) > 1:
                ok[[index[id(q)] for q in term[1]]] = False
        return ok

    # -- confidence profiles ---------------------------------------------------------------
    def conf(self, *keys: str | int | Parameter, delta_stat: float = 2.706,
             max_steps: int = 40) -> dict[str, tuple[float, float]]:
        """XSPEC ``error``-like intervals: for each parameter, the values where the statistic,
        refitted over the other free parameters, rises by ``delta_stat`` (2.706: 90 %).

        Returns ``{xspec_id: (lower, upper)}``; a side that reaches a limit returns the limit.
        The best fit (``fit()`` first) is restored afterwards.
        """
        if self.last_result is None:
            self.fit()
        base = self.snapshot()
        best_result = self.last_result
        best = best_result.statistic
        out: dict[str, tuple[float, float]] = {}
        for key in keys:
            p = self.par(key)
            if not p.is_free:
                raise ModelError(f"{p.xspec_id} ({p.full_name}) is not free; conf needs a free parameter.")
            v0 = p.value
            sigma = p.error if p.error and np.isfinite(p.error) and p.error > 0 else max(abs(v0) * 0.1, 1e-6)
            lo_lim = max(p.soft_min, p.hard_min)
            hi_lim = min(p.soft_max, p.hard_max)

            def excess(v: float, p: Parameter = p) -> float:
                self.restore(base)
                p.value = v
                p.frozen = True
                try:
                    if self.free_parameters():
                        r = self.fit(errors=False)
                        s = r.statistic
                    else:
                        s = self.statistic()
                finally:
                    p.frozen = False
                return s - best - delta_stat

            bounds = []
            for sign, limit in ((-1, lo_lim), (+1, hi_lim)):
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
                    bounds.append(limit if inner == limit else inner)
                else:
                    a, b = sorted((inner, outer))
                    bounds.append(brentq(excess, a, b, xtol=1e-4 * max(sigma, 1e-12)) if a != b else a)
            out[p.xspec_id] = (bounds[0], bounds[1])
        self.restore(base)
        self.last_result = best_result
        return out

    # -- simulation ------------------------------------------------------------------------
    def simulate(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Poisson counts for the noticed groups of every spectrum, drawn from the current model."""
        self.resolve()
        return [rng.poisson(np.maximum(mu, 0.0)).astype(float) for mu in self._all_mu()]
