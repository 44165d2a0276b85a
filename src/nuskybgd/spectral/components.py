"""Model components with XSPEC's exact conventions, integrated over energy bins.

Every additive component returns, for ``norm = 1``, the photon flux integrated over each energy
bin (photons cm⁻² s⁻¹ per bin) on the given bin edges (keV) — the same contract as XSPEC's model
library, where the norm is applied outside the model function.  Multiplicative components return
a dimensionless factor per bin.

Conventions (checked against XSPEC 12.15's ``libXSFunctions`` in ``tests/test_spectral_components.py``):

* ``powerlaw``  A(E) = K E^-Γ, analytic bin integral (``expm1`` form: exact also when Γ ≈ 1).
* ``cutoffpl``  A(E) = K E^-Γ exp(-E/β); K at 1 keV *without* the exponential.  Gauss–Legendre
  quadrature (8 nodes) on sub-intervals small enough that the result is exact to ~1e-14
  (checked against scipy quad; XSPEC's own integral is less exact for some parameters).
* ``bknpower``  K E^-Γ1 below BreakE, K E_b^(Γ2-Γ1) E^-Γ2 above; a bin holding E_b is split.
* ``lorentz``   Width is the FWHM; norm is the total photons over E > 0 (current XSPEC
  convention); exact arctan integral; XSPEC's ``LINECRITLEVEL`` (1e-6) tail dumping is copied.
* ``gaussian``  Sigma is the standard deviation; norm over E > 0; exact erf integral; tail
  dumping at 1e-8.
* A zero-width ``lorentz``/``gaussian`` puts all its flux in the bin with lo < E ≤ hi (so a line
  on a bin edge goes to the bin below it, as in XSPEC; one on the lowest edge to the first bin).
* ``constant``  multiplicative, parameter ``factor``.
* ``apec``      only through a real AtomDB source (:mod:`nuskybgd.spectral.apec`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import erf

from nuskybgd.errors import ModelError

LINECRITLEVEL = 1e-6
"""XSPEC's default ``xset LINECRITLEVEL``: line tails holding less than this are dumped."""

GAUSS_CRITLEVEL = 1e-8
"""Tail-dumping level XSPEC 12.15's ``gaussian`` uses (measured against its library)."""

_GL_X, _GL_W = leggauss(8)


@dataclass(frozen=True)
class ParamSpec:
    """Definition of one model parameter, as in XSPEC's ``model.dat``.

    Attributes
    ----------
    name : str
        XSPEC parameter name (``PhoIndex``, ``HighECut``, ``norm`` …).
    unit : str
        Unit string (keV or empty).
    default : float
        Default value.
    hard_min, soft_min, soft_max, hard_max : float
        XSPEC limits.
    delta : float
        Default fit step; negative means frozen by default.
    """

    name: str
    unit: str
    default: float
    hard_min: float
    soft_min: float
    soft_max: float
    hard_max: float
    delta: float


@dataclass(frozen=True)
class ComponentSpec:
    """A model component type: parameters (without ``norm``) and its evaluation function.

    ``kind`` is ``"add"`` (additive, gains a ``norm`` parameter) or ``"mul"`` (multiplicative).
    ``func(edges, *params)`` returns the per-bin flux for norm 1 (additive) or the per-bin factor.
    ``scalar`` marks a multiplicative component that is a constant factor (energy-independent).
    """

    name: str
    kind: str
    params: tuple[ParamSpec, ...]
    func: Callable[..., np.ndarray]
    scalar: bool = False

    @property
    def param_names(self) -> list[str]:
        names = [p.name for p in self.params]
        return names + ["norm"] if self.kind == "add" else names


NORM_SPEC = ParamSpec("norm", "", 1.0, 0.0, 0.0, 1e24, 1e24, 0.01)


# ----------------------------------------------------------------------------- functions


def _pl_integral(lo: np.ndarray, hi: np.ndarray, gamma: float) -> np.ndarray:
    """∫ E^-Γ dE over [lo, hi] (keV), zero where hi <= lo.

    Written as ``lo^(1-Γ) · expm1((1-Γ)·ln(hi/lo)) / (1-Γ)`` (``ln`` form when Γ = 1), which
    keeps full precision when Γ is close to 1 (no cancellation of ``hi^(1-Γ) − lo^(1-Γ)``).
    """
    out = np.zeros(np.broadcast(lo, hi).shape)
    lo = np.broadcast_to(lo, out.shape)
    hi = np.broadcast_to(hi, out.shape)
    a = 1.0 - gamma
    k = (hi > lo) & (lo > 0)
    log_ratio = np.log1p((hi[k] - lo[k]) / lo[k])
    if a == 0.0:
        out[k] = log_ratio
    else:
        out[k] = lo[k] ** a * np.expm1(a * log_ratio) / a
    z = (hi > lo) & (lo <= 0)                   # a bin starting at 0 keV (finite only for Γ < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[z] = (hi[z] ** a - np.maximum(lo[z], 0.0) ** a) / a if a != 0.0 else np.inf
    return out


def powerlaw(edges: np.ndarray, PhoIndex: float) -> np.ndarray:
    """XSPEC ``powerlaw`` for norm 1: photons cm⁻² s⁻¹ per bin on ``edges`` (keV)."""
    return _pl_integral(edges[:-1], edges[1:], PhoIndex)


def _gl_integrate(f: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray,
                  nsub: np.ndarray) -> np.ndarray:
    """Integrate ``f`` over each [lo, hi] with 8-point Gauss–Legendre on ``nsub`` equal pieces."""
    out = np.zeros(lo.size)
    for n in np.unique(nsub):
        sel = np.nonzero(nsub == n)[0]
        a, b = lo[sel], hi[sel]
        w = (b - a) / n
        starts = a[:, None] + w[:, None] * np.arange(n)[None, :]          # (m, n)
        half = 0.5 * w[:, None, None]
        x = starts[:, :, None] + half * (1.0 + _GL_X[None, None, :])      # (m, n, 8)
        out[sel] = (f(x) @ _GL_W).sum(axis=1) * half[:, 0, 0]
    return out


def cutoffpl(edges: np.ndarray, PhoIndex: float, HighECut: float) -> np.ndarray:
    """XSPEC ``cutoffpl`` for norm 1 (K at 1 keV without the exponential), per bin."""
    lo, hi = edges[:-1], edges[1:]
    if HighECut <= 0:
        raise ModelError(f"cutoffpl HighECut must be positive (got {HighECut} keV).")
    safe_lo = np.maximum(lo, 1e-30)
    nsub = np.ceil(np.maximum(np.log(hi / safe_lo) / 0.05, (hi - lo) / (0.05 * HighECut)))
    nsub = np.clip(nsub, 1, 256).astype(int)
    return _gl_integrate(lambda x: x ** (-PhoIndex) * np.exp(-x / HighECut), lo, hi, nsub)


def bknpower(edges: np.ndarray, PhoIndx1: float, BreakE: float, PhoIndx2: float) -> np.ndarray:
    """XSPEC ``bknpower`` for norm 1 (K at 1 keV on the low-energy formula), per bin."""
    lo, hi = edges[:-1], edges[1:]
    low = _pl_integral(lo, np.minimum(hi, BreakE), PhoIndx1)
    high = _pl_integral(np.maximum(lo, BreakE), hi, PhoIndx2)
    return low + BreakE ** (PhoIndx2 - PhoIndx1) * high


def _line_with_tail_dump(edges: np.ndarray, cdf: np.ndarray, centre: float,
                         crit: float = LINECRITLEVEL) -> np.ndarray:
    """Per-bin line flux from the cumulative ``cdf`` at ``edges``, with XSPEC's tail dumping.

    Starting at the bin holding the line centre, XSPEC computes bins outward and stops on each
    side at the first bin beyond which the flux remaining inside the grid is below
    ``crit``; that remainder is added to the last computed bin.
    """
    flux = np.diff(cdf)
    n = flux.size
    c = int(np.searchsorted(edges, centre, side="right")) - 1   # bin holding the centre
    # upward side: bins i >= max(c, 0)
    start = min(max(c, 0), n)
    if start < n:
        rem_up = cdf[-1] - cdf[start + 1:]                       # remaining above bin i
        stop = np.nonzero(rem_up < crit)[0]
        if stop.size:
            i = start + int(stop[0])
            flux[i] += rem_up[stop[0]]
            flux[i + 1:] = 0.0
    # downward side: bins i <= min(c, n-1)
    top = min(c, n - 1)
    if top >= 0:
        rem_down = cdf[: top + 1] - cdf[0]                       # remaining below bin i
        stop = np.nonzero(rem_down[::-1] < crit)[0]
        if stop.size:
            i = top - int(stop[0])
            flux[i] += rem_down[i]
            flux[:i] = 0.0
    return flux


def lorentz(edges: np.ndarray, LineE: float, Width: float) -> np.ndarray:
    """XSPEC ``lorentz`` for norm 1 (Width = FWHM; total photons over E > 0 = 1), per bin."""
    if Width <= 0:
        return _delta_line(edges, LineE)
    cdf = (np.arctan(2.0 * (edges - LineE) / Width)) / (np.pi / 2 + np.arctan(2.0 * LineE / Width))
    return _line_with_tail_dump(edges, cdf, LineE)


def gaussian(edges: np.ndarray, LineE: float, Sigma: float) -> np.ndarray:
    """XSPEC ``gaussian`` for norm 1 (Sigma = standard deviation; total photons over E > 0 = 1).

    As XSPEC 12.15 does, the profile is renormalised to unit flux over E > 0 and tails holding
    less than ``GAUSS_CRITLEVEL`` (1e-8, measured against the library) are dumped.
    """
    if Sigma <= 0:
        return _delta_line(edges, LineE)
    s2 = np.sqrt(2.0) * Sigma
    cdf = 0.5 * erf((edges - LineE) / s2) / (0.5 * (1.0 + erf(LineE / s2)))
    return _line_with_tail_dump(edges, cdf, LineE, GAUSS_CRITLEVEL)


def _delta_line(edges: np.ndarray, energy: float) -> np.ndarray:
    """A zero-width line, placed as XSPEC places it: in the bin with lo < E ≤ hi (the first
    bin also takes E equal to its lower edge); nothing when E is outside the grid."""
    out = np.zeros(edges.size - 1)
    if not edges[0] <= energy <= edges[-1]:
        return out
    i = max(int(np.searchsorted(edges, energy, side="left")) - 1, 0)
    out[i] = 1.0
    return out


def constant(edges: np.ndarray, factor: float) -> np.ndarray:
    """XSPEC ``constant`` (multiplicative): ``factor`` in every bin."""
    return np.full(edges.size - 1, float(factor))


def _apec(edges: np.ndarray, kT: float, Abundanc: float, Redshift: float) -> np.ndarray:
    from nuskybgd.spectral.apec import apec_flux

    return apec_flux(edges, kT, Abundanc, Redshift)


# ----------------------------------------------------------------------------- registry

_IDX = dict(hard_min=-3.0, soft_min=-2.0, soft_max=9.0, hard_max=10.0, delta=0.01)
_LINEE = ParamSpec("LineE", "keV", 6.5, 0.0, 0.0, 1e6, 1e6, 0.05)

COMPONENTS: dict[str, ComponentSpec] = {
    "powerlaw": ComponentSpec("powerlaw", "add", (ParamSpec("PhoIndex", "", 1.0, **_IDX),), powerlaw),
    "cutoffpl": ComponentSpec(
        "cutoffpl", "add",
        (ParamSpec("PhoIndex", "", 1.0, **_IDX),
         ParamSpec("HighECut", "keV", 15.0, 0.01, 1.0, 500.0, 500.0, 0.01)),
        cutoffpl),
    "bknpower": ComponentSpec(
        "bknpower", "add",
        (ParamSpec("PhoIndx1", "", 1.0, **_IDX),
         ParamSpec("BreakE", "keV", 5.0, 0.0, 1e-2, 1e6, 1e6, 0.01),
         ParamSpec("PhoIndx2", "", 2.0, **_IDX)),
        bknpower),
    "lorentz": ComponentSpec(
        "lorentz", "add", (_LINEE, ParamSpec("Width", "keV", 0.1, 0.0, 0.0, 10.0, 20.0, 0.05)), lorentz),
    "gaussian": ComponentSpec(
        "gaussian", "add", (_LINEE, ParamSpec("Sigma", "keV", 0.1, 0.0, 0.0, 10.0, 20.0, 0.05)), gaussian),
    "constant": ComponentSpec(
        "constant", "mul", (ParamSpec("factor", "", 1.0, 0.0, 0.0, 1e10, 1e10, 0.01),), constant,
        scalar=True),
    "apec": ComponentSpec(
        "apec", "add",
        (ParamSpec("kT", "keV", 1.0, 0.008, 0.008, 64.0, 64.0, 0.01),
         ParamSpec("Abundanc", "", 1.0, 0.0, 0.0, 5.0, 5.0, -0.001),
         ParamSpec("Redshift", "", 0.0, -0.999, -0.999, 10.0, 10.0, -0.01)),
        _apec),
}

ALIASES = {
    "pow": "powerlaw", "po": "powerlaw", "cutoff": "cutoffpl", "bkn": "bknpower",
    "lor": "lorentz", "lorentzian": "lorentz", "gauss": "gaussian", "ga": "gaussian",
    "const": "constant", "cons": "constant", "con": "constant",
}


def get_component(name: str) -> ComponentSpec:
    """The :class:`ComponentSpec` for an XSPEC model name (or a common abbreviation)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    try:
        return COMPONENTS[key]
    except KeyError:
        raise ModelError(
            f"unknown model component {name!r}; available: {', '.join(sorted(COMPONENTS))}."
        ) from None


def component_values(spec: ComponentSpec, edges: np.ndarray, values: list[float] | np.ndarray) -> np.ndarray:
    """Evaluate ``spec`` (without its norm) on ``edges`` for the ordered non-norm ``values``."""
    return np.asarray(spec.func(np.asarray(edges, dtype=float), *values), dtype=float)


def model_flux(name: str, energy_edges: np.ndarray, **params: float) -> np.ndarray:
    """Evaluate one XSPEC model component on energy bin edges.

    Parameters
    ----------
    name : str
        XSPEC model name: ``powerlaw``, ``cutoffpl``, ``bknpower``, ``lorentz``, ``gaussian``,
        ``constant`` or ``apec``.
    energy_edges : array_like, shape (n+1,)
        Increasing energy bin edges in keV.
    **params : float
        Parameters by XSPEC name (``PhoIndex``, ``HighECut``, ``norm``; ``PhoIndx1``, ``BreakE``,
        ``PhoIndx2``; ``LineE``, ``Width`` (lorentz, FWHM) / ``Sigma`` (gaussian); ``factor``;
        ``kT``, ``Abundanc``, ``Redshift``).  Missing ones take XSPEC's defaults.

    Returns
    -------
    ndarray, shape (n,)
        Additive components: photons cm⁻² s⁻¹ in each bin (norm included).
        Multiplicative components: the dimensionless factor in each bin.
    """
    spec = get_component(name)
    edges = np.asarray(energy_edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
        raise ModelError("energy_edges must be a 1-D increasing array of at least two edges in keV.")
    known = {p.name.lower(): p for p in spec.params}
    values = {p.name: p.default for p in spec.params}
    norm = 1.0
    for key, val in params.items():
        if spec.kind == "add" and key.lower() == "norm":
            norm = float(val)
        elif key.lower() in known:
            values[known[key.lower()].name] = float(val)
        else:
            raise ModelError(
                f"{spec.name} has no parameter {key!r}; its parameters are {', '.join(spec.param_names)}."
            )
    out = component_values(spec, edges, [values[p.name] for p in spec.params])
    return out * norm if spec.kind == "add" else out
