"""Model counts of spectra from sources: additive terms, folded templates and their caches.

A source's expression expands into additive terms (one additive component times any
multiplicative ones).  For every spectrum with a response for a source, each term is a
:class:`Term`.  A term's counts are ``coefficient × template``: the coefficient is the product
of its norm and its constant factors (``constant``), the template the folded counts per group
for a unit coefficient (exposure and AREASCAL included).  Templates are cached by the values of
the term's shape parameters, so a change of norm never refolds, and templates sharing one
response matrix are folded in one sparse product (:meth:`ModelEvaluator.prefetch`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nuskybgd.spectral.components import component_values
from nuskybgd.spectral.data import Spectrum
from nuskybgd.spectral.model import Component, Source
from nuskybgd.spectral.parameters import Parameter
from nuskybgd.spectral.response import Response

FOLD_CACHE_SIZE = 4000
"""Templates kept before the cache is emptied (~130 MB of NuSTAR-sized templates)."""

FLUX_CACHE_SIZE = 5000
"""Component fluxes kept before that cache is emptied."""


@dataclass(frozen=True)
class Term:
    """One additive term of one source as seen by one spectrum.

    Attributes
    ----------
    spectrum_index : int
        0-based index of the spectrum in the problem.
    spectrum : Spectrum
        The spectrum.
    source : Source
        The source the term belongs to (folded through ``spectrum.responses[source.number]``).
    index : int
        0-based index of the term within the source.
    additive : Component
        Its additive component.
    multiplicative : tuple of Component
        Its multiplicative components.
    params : list of Parameter
        The source's parameters of the spectrum's data group.
    shape : tuple of Parameter
        Parameters that change the template (all but norms and constant factors).
    coefficient : tuple of Parameter
        Norm and constant factors, whose product multiplies the template.
    """

    spectrum_index: int
    spectrum: Spectrum
    source: Source
    index: int
    additive: Component
    multiplicative: tuple[Component, ...]
    params: list[Parameter]
    shape: tuple[Parameter, ...]
    coefficient: tuple[Parameter, ...]

    @property
    def response(self) -> Response:
        """The response the term is folded through."""
        return self.spectrum.responses[self.source.number]

    @property
    def cache_key(self) -> tuple:
        """Key of its template: spectrum, source, term and the current shape values."""
        return (self.spectrum_index, self.source.number, self.index, tuple(p.value for p in self.shape))

    def coefficient_value(self) -> float:
        """Current product of the norm and constant factors."""
        return math.prod(p.value for p in self.coefficient)


def _make_term(si: int, spec: Spectrum, src: Source, ti: int, ai: int, mis: list[int]) -> Term:
    params = src.groups[spec.group - 1]
    add = src.components[ai]
    muls = tuple(src.components[m] for m in mis)
    ap = params[add.first_param: add.first_param + add.n_params]
    shape = list(ap[:-1])
    coef = [ap[-1]]
    for m in muls:
        mp = params[m.first_param: m.first_param + m.n_params]
        (coef if m.spec.scalar else shape).extend(mp)
    return Term(si, spec, src, ti, add, muls, params, tuple(shape), tuple(coef))


class ModelEvaluator:
    """Model counts of ``spectra`` from ``sources``, with template and flux caches.

    Parameters
    ----------
    spectra : list of Spectrum
        In XSPEC order.
    sources : list of Source
        In source-number order.
    """

    def __init__(self, spectra: list[Spectrum], sources: list[Source]) -> None:
        self.spectra = spectra
        self.sources = sources
        self.fold_cache: dict[tuple, np.ndarray] = {}
        self.flux_cache: dict[tuple, np.ndarray] = {}
        #: model evaluations since the last reset (a fit resets it)
        self.n_evaluations = 0

    def clear_caches(self) -> None:
        """Forget every cached template and component flux (the next evaluation refolds)."""
        self.fold_cache.clear()
        self.flux_cache.clear()

    def terms(self) -> list[Term]:
        """Every term of every source with a response in every spectrum, spectra first."""
        return [_make_term(si, spec, src, ti, ai, mis)
                for si, spec in enumerate(self.spectra)
                for src in self.sources if src.number in spec.responses
                for ti, (ai, mis) in enumerate(src.terms)]

    def _component_flux(self, edges: np.ndarray, comp: Component, params: list[Parameter]) -> np.ndarray:
        vals = [p.value for p in params[comp.first_param: comp.first_param + len(comp.spec.params)]]
        key = (id(edges), comp.spec.name, tuple(vals))
        hit = self.flux_cache.get(key)
        if hit is None:
            hit = component_values(comp.spec, edges, vals)
            if len(self.flux_cache) > FLUX_CACHE_SIZE:
                self.flux_cache.clear()
            self.flux_cache[key] = hit
        return hit

    def _term_flux(self, term: Term) -> np.ndarray:
        """Photon flux per energy bin of the term's response for a unit coefficient."""
        edges = term.response.energy_edges
        flux = self._component_flux(edges, term.additive, term.params).copy()
        for m in term.multiplicative:
            if not m.spec.scalar:
                flux *= self._component_flux(edges, m, term.params)
        return flux

    def _cache_put(self, key: tuple, counts: np.ndarray) -> None:
        if len(self.fold_cache) >= FOLD_CACHE_SIZE:
            self.fold_cache.clear()
        self.fold_cache[key] = counts

    def template(self, term: Term) -> np.ndarray:
        """Folded counts per group of ``term`` for a unit coefficient (exposure included)."""
        key = term.cache_key
        hit = self.fold_cache.get(key)
        if hit is not None:
            return hit
        spec = term.spectrum
        rate = term.response.fold(self._term_flux(term))
        counts = spec.grouping_matrix @ (rate * spec.channel_scale)
        self._cache_put(key, counts)
        return counts

    def prefetch(self, terms: list[Term]) -> None:
        """Fold, in one sparse product per (spectrum, response matrix), every template not cached."""
        todo: dict[tuple[int, int], list[tuple[tuple, Term]]] = {}
        for term in terms:
            key = term.cache_key
            if key in self.fold_cache or term.coefficient_value() == 0.0:
                continue
            todo.setdefault((term.spectrum_index, id(term.response.matrix_t)), []).append((key, term))
        for items in todo.values():
            if len(items) < 2:
                continue
            first = items[0][1]
            spec, resp = first.spectrum, first.response
            fluxes = np.empty((resp.n_energy, len(items)))
            for j, (_key, term) in enumerate(items):
                f = self._term_flux(term)
                if term.response.arf_vec is not None:
                    f *= term.response.arf_vec
                fluxes[:, j] = f
            rates = (resp.matrix_t @ fluxes) * spec.channel_scale[:, None]
            counts = spec.grouping_matrix @ rates
            for j, (key, _term) in enumerate(items):
                self._cache_put(key, np.ascontiguousarray(counts[:, j]))

    def spectrum_counts(self, si: int, source_number: int | None = None) -> np.ndarray:
        """Predicted counts per group of spectrum ``si`` (all sources, or one source number)."""
        mu = np.zeros(self.spectra[si].n_groups)
        for term in self.terms():
            if term.spectrum_index != si or (source_number is not None
                                             and term.source.number != source_number):
                continue
            c = term.coefficient_value()
            if c != 0.0:
                mu += c * self.template(term)
        return mu

    def noticed_counts(self) -> list[np.ndarray]:
        """Predicted counts of the noticed groups of every spectrum (one model evaluation)."""
        self.n_evaluations += 1
        terms = self.terms()
        self.prefetch(terms)
        mus = [np.zeros(s.n_groups) for s in self.spectra]
        for term in terms:
            c = term.coefficient_value()
            if c != 0.0:
                mus[term.spectrum_index] += c * self.template(term)
        return [mu[s.noticed] for mu, s in zip(mus, self.spectra, strict=True)]
