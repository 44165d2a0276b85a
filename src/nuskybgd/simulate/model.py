"""The injected model: the nuskybgd background components and an astrophysical source.

Each background component has a spatial shape in DET1 (a weight per DET1 pixel) and, per
detector, a spectrum already folded through that detector's response (expected counts per PI
channel per second per unit weight).  The normalisations follow ``reference/background-model.md``
(§2.5, §3.3–§3.5) so that a fit of a region reports exactly the parameters injected here:

``apbgd`` (aperture stray-light CXB, XSPEC ``cutoffpl`` Γ = 1.29, E_cut = 41.13 keV)
    weight = the projbgd aperture value A(p) of each DET1 pixel (``aperture_counts_image``:
    0.32 · Ω'[deg²] · 0.12096² + 0.003465); cutoffpl norm per pixel = (K_CXB/32)·A(p) with
    K_CXB = 0.002353 ph keV⁻¹ cm⁻² s⁻¹ deg⁻²; response = detector RMF × Be transmission (by row).
    A region of aperture weight W = Σ A therefore has apbgd norm 7.353125e-5 · W.
``intbgd`` (instrumental lines, and the solar apec + 3.5/4.5/10.2 keV lines when ``solar``)
    flat within a detector; the per-detector ``ifactors`` of ``ratios.json`` are the norms for the
    **whole detector** (IDL semantics), so each pixel carries ifactor / (active pixels of the
    detector); response = detector RMF, no ARF (lines are folded with the per-detector RMF).
``fcxb`` (focused CXB, ``cutoffpl`` with the apbgd shape)
    flat; norm per DET1 pixel = K_CXB · 1.5 · (2.45810736″/3600)² = 1.6455454e-9;
    response = detector RMF × on-axis ARF.
``intn`` (internal continuum, ``bknpower`` −0.05 / 124 keV / −0.85)
    flat; norm per DET1 pixel = J_{m,d} / 599.75 (the preset's per-pixel value); response = the
    identity (diag) RMF, i.e. counts in channel c = the integral over the channel's energies.

Source: ``point`` — a King-profile PSF, surface brightness ∝ (1 + (r/r_c)²)^−1.5 with
r_c ≈ 17.4″ chosen so that the profile truncated at 10′ has a half-power diameter of 58″
(encircled fraction (1 − (1 + (r/r_c)²)^−½) / (1 − (1 + (600″/r_c)²)^−½));
``cluster`` — a β-model (β = 2/3, core radius 60″, truncated at 8′) convolved with the
same PSF.  Both have an absorbed-free power law (``powerlaw``, Γ and norm in ph keV⁻¹ cm⁻² s⁻¹
at 1 keV) seen through the on-axis ARF (no vignetting) and the RMF of the detector each photon
lands on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nuskybgd.calib.base import Calibration
from nuskybgd.calib.psf import NUSTAR_PSF, draw_king_offsets
from nuskybgd.errors import ModelError

#: CXB cutoffpl norm, ph keV⁻¹ cm⁻² s⁻¹ deg⁻² at 1 keV (background-model.md §2.5).
K_CXB = 0.002353
#: apbgd divisor (0.32 nomap norm × 100 mm²→cm²).
APBGD_DIVISOR = 32.0
#: fcxb norm per sky/DET1 pixel: K_CXB · 1.5 · (2.45810736/3600)².
FCXB_NORM_PER_PIXEL = K_CXB * 1.5 * (2.45810736 / 3600.0) ** 2
#: Pixels per arcmin² used by the intn preset.
INTN_PIX_PER_ARCMIN2 = 599.75

#: XSPEC component names of intbgd in model order (apec, lorentz, lorentz_3 … lorentz_30).
INTBGD_NAMES = ["apec", "lorentz"] + [f"lorentz_{j}" for j in range(3, 31)]
#: Components zeroed unless the solar soft component is requested (walkthrough: intbgd:4,7,10,13).
SOLAR_NAMES = ("apec", "lorentz", "lorentz_3", "lorentz_4")

#: β-model cluster: core radius (arcsec), β, truncation radius (arcsec).
CLUSTER_RC_ARCSEC = 60.0
CLUSTER_BETA = 2.0 / 3.0
CLUSTER_RMAX_ARCSEC = 480.0

#: Grade distribution (grades 0..26), NuSTAR in-flight weights (geometry doc §4 GRADE_WT).
GRADE_WEIGHTS = np.array([
    1.00000, 0.124902, 0.117130, 0.114720, 0.118038, 0.0114296, 0.0101738, 0.0113617, 0.0122017,
    0.0157910, 0.0144079, 0.0145691, 0.0149934, 0.00165462, 0.00194312, 0.00156128, 0.00143400,
    0.00210433, 0.00180735, 0.00140006, 0.00169704, 0.00189220, 0.00160371, 0.00150188,
    0.00168007, 0.000296983, 0.000364864])


def energy_edges(cal: Calibration) -> np.ndarray:
    """Energy bin edges (keV) of the calibration's response grid."""
    r = cal.rmf(0)
    return np.concatenate([np.asarray(r.energ_lo, float), [float(r.energ_hi[-1])]])


def fold(flux: np.ndarray, rmf) -> np.ndarray:
    """Counts per channel for photon flux per energy row ``flux`` (ph s⁻¹ per row, area folded)."""
    return np.asarray(rmf.matrix.T @ np.asarray(flux, float)).ravel()


def _flux(name: str, edges: np.ndarray, **params) -> np.ndarray:
    from nuskybgd.spectral.components import model_flux

    return np.asarray(model_flux(name, edges, **params), float)


@dataclass
class BackgroundComponent:
    """One background component of one module.

    Attributes
    ----------
    name : str
        ``apbgd``, ``intbgd``, ``fcxb`` or ``intn``.
    weight : ndarray (360, 360)
        Spatial weight per DET1 pixel ``[y, x]`` (0 off the active area).
    rate : dict det -> ndarray (n_channel,)
        Expected counts s⁻¹ per PI channel per unit weight for pixels of that detector.
    truth : dict
        Injected parameters (XSPEC names) and per-detector norms per unit weight.
    """

    name: str
    weight: np.ndarray
    rate: dict[int, np.ndarray]
    truth: dict = field(default_factory=dict)
    # per-detector, per-subcomponent rates (intbgd lines) for truth bookkeeping
    sub_rates: dict[int, dict[str, float]] = field(default_factory=dict)


def _module_presets(cal: Calibration, module: str) -> dict:
    pre = cal.presets()
    try:
        models = {m["name"].split(":")[-1]: m["components"] for m in pre["models"]}
    except (KeyError, TypeError) as exc:
        raise ModelError(f"calibration presets are not in the ratios.json structure ({exc}).") from None
    return {k: {c: v[module] for c, v in comps.items()} for k, comps in models.items()}


def active_detector_map(cal: Calibration) -> np.ndarray:
    """DET1 map of detector numbers (−1 in gaps, borders or inactive pixels), int16 [y, x]."""
    pm = cal.pixel_map()
    det = np.asarray(pm.det, dtype=np.int16).copy()
    det[np.asarray(cal.active_area()) <= 0] = -1
    return det


def background_components(cal: Calibration, module: str, det_map: np.ndarray, *,
                          solar: bool = False, scale: dict[str, float] | None = None
                          ) -> list[BackgroundComponent]:
    """The four nuskybgd background components of one module, folded per detector.

    ``scale`` multiplies a component's norm (e.g. ``{"intn": 2.0}``) relative to the presets.
    """
    from nuskybgd.geometry.projbgd import aperture_counts_image

    scale = dict(scale or {})
    pre = _module_presets(cal, module)
    edges = energy_edges(cal)
    rmfs = {d: cal.rmf(d) for d in range(4)}
    be = np.asarray(cal.be_transmission().specresp, float)
    arf = np.asarray(cal.onaxis_arf().specresp, float)
    diag = cal.identity_rmf()
    on = det_map >= 0
    npix = {d: int(np.count_nonzero(det_map == d)) for d in range(4)}
    comps: list[BackgroundComponent] = []

    # apbgd -----------------------------------------------------------------------------
    ap = pre["apbgd"]["cutoffpl"]
    g, ec = float(ap["phoindex"]), float(ap["highecut"])
    s = scale.get("apbgd", 1.0)
    unit = _flux("cutoffpl", edges, PhoIndex=g, HighECut=ec, norm=1.0)
    # 576×576 grid: shift before the crop, as projbgd does
    a_img = aperture_counts_image(cal.aperture_image_full(), module, offset=108)
    norm_per_w = s * K_CXB / APBGD_DIVISOR
    rate = {d: norm_per_w * fold(unit * be, rmfs[d]) for d in range(4)}
    comps.append(BackgroundComponent(
        "apbgd", np.where(on, a_img, 0.0), rate,
        truth={"model": "cutoffpl", "parameters": {"PhoIndex": g, "HighECut": ec},
               "norm_per_weight": norm_per_w, "weight": "aperture value A(p) (bgdap units)",
               "scale": s}))

    # intbgd ----------------------------------------------------------------------------
    ib = pre["intbgd"]
    s = scale.get("intbgd", 1.0)
    rate_ib = {d: np.zeros(rmfs[d].n_channel) for d in range(4)}
    sub: dict[int, dict[str, float]] = {d: {} for d in range(4)}
    params_ib: dict[str, dict] = {}
    for name in INTBGD_NAMES:
        p = ib[name]
        ifac = np.asarray(p["ifactors"], float) * s
        if name in SOLAR_NAMES and not solar:
            ifac = np.zeros(4)
        if name == "apec":
            shape = {"kT": float(p["kt"]), "Abundanc": float(p["abundanc"]),
                     "Redshift": float(p["redshift"])}
            if solar:
                unit = _flux("apec", edges, norm=1.0, **shape)
            else:
                unit = np.zeros(edges.size - 1)
        else:
            shape = {"LineE": float(p["linee"]), "Width": float(p["width"])}
            unit = _flux("lorentz", edges, norm=1.0, **shape)
        params_ib[name] = {**shape, "norm_whole_detector": [float(v) for v in ifac]}
        for d in range(4):
            if npix[d] == 0 or ifac[d] == 0:
                sub[d][name] = 0.0
                continue
            f = (ifac[d] / npix[d]) * fold(unit, rmfs[d])
            rate_ib[d] += f
            sub[d][name] = float(f.sum())
    comps.append(BackgroundComponent(
        "intbgd", on.astype(float), rate_ib,
        truth={"model": "apec + 29 lorentz", "components": params_ib, "solar": bool(solar),
               "norm_semantics": "norm_whole_detector = norm of a region covering the whole "
                                 "active detector; per pixel = norm / active pixels",
               "active_pixels": {str(d): npix[d] for d in range(4)}, "scale": s},
        sub_rates=sub))

    # fcxb ------------------------------------------------------------------------------
    s = scale.get("fcxb", 1.0)
    unit = _flux("cutoffpl", edges, PhoIndex=g, HighECut=ec, norm=1.0)
    npp = s * FCXB_NORM_PER_PIXEL
    rate = {d: npp * fold(unit * arf, rmfs[d]) for d in range(4)}
    comps.append(BackgroundComponent(
        "fcxb", on.astype(float), rate,
        truth={"model": "cutoffpl", "parameters": {"PhoIndex": g, "HighECut": ec},
               "norm_per_pixel": npp, "scale": s}))

    # intn ------------------------------------------------------------------------------
    bk = pre["intn"]["bknpower"]
    s = scale.get("intn", 1.0)
    shape = {"PhoIndx1": float(bk["phoindx1"]), "BreakE": float(bk["breake"]),
             "PhoIndx2": float(bk["phoindx2"])}
    unit = fold(_flux("bknpower", edges, norm=1.0, **shape), diag)
    jf = np.asarray(bk["ifactors"], float) * s
    rate = {d: (jf[d] / INTN_PIX_PER_ARCMIN2) * unit for d in range(4)}
    comps.append(BackgroundComponent(
        "intn", on.astype(float), rate,
        truth={"model": "bknpower", "parameters": shape,
               "norm_per_pixel": [float(v / INTN_PIX_PER_ARCMIN2) for v in jf],
               "ifactors": [float(v) for v in jf], "scale": s}))
    return comps


# ------------------------------------------------------------------------------ source shapes

def draw_source_offsets(rng: np.random.Generator, n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Sky offsets (arcsec; +x = +sky X) of source photons: PSF, plus the β-model for clusters."""
    dx, dy = NUSTAR_PSF.draw_offsets(rng, n)
    if kind == "cluster":
        cx, cy = draw_king_offsets(rng, n, CLUSTER_RC_ARCSEC, 3.0 * CLUSTER_BETA - 0.5,
                                   CLUSTER_RMAX_ARCSEC)
        dx, dy = dx + cx, dy + cy
    return dx, dy


def draw_grades(rng: np.random.Generator, n: int) -> np.ndarray:
    """Event grades 0..26 drawn from :data:`GRADE_WEIGHTS`."""
    c = np.cumsum(GRADE_WEIGHTS)
    return np.searchsorted(c, rng.uniform(0, c[-1], size=n), side="right").astype(np.int16)


def draw_from_distribution(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn ∝ ``weights`` (inverse CDF with searchsorted)."""
    c = np.cumsum(np.asarray(weights, float).ravel())
    if n == 0 or c[-1] <= 0:
        return np.zeros(n, dtype=np.int64)
    idx = np.searchsorted(c, rng.uniform(0.0, c[-1], size=n), side="right")
    return np.minimum(idx, c.size - 1)
