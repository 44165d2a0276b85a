"""Built-in nominal calibration, computed by nuskybgd's own code from documented physics.

Nothing here is a copy of anyone's calibration arrays.  Each model is a formula with a handful
of constants, stated below with their origin (design numbers, physical constants, or fits made
once by the nuskybgd developers against the real files listed in ``docs/calibration.md``; the
measured agreement is in that document and re-measured by ``tests/test_calib_builtin.py``).

* :func:`detector_layout` — four 32×32-pixel CZT detectors in a pinwheel on the 360×360 DET1
  grid (5×5 sub-pixels per inner RAW pixel; edge pixels extend to the crystal edge).
* :func:`fwhm_kev` / :func:`gaussian_rmf` — Gaussian redistribution,
  FWHM(E) = sqrt(a² + (c·E)²).
* :func:`be_transmission` — exp(−μ_Be(E)·ρ·t) for t ≈ 0.1 mm Be plus a thin E⁻³ term.
* :func:`onaxis_area` — on-axis single-module effective area: Be window × thermal-cover
  absorption × a smoothly broken power law × absorption edges of the W/Si and Pt/C multilayers.
* :func:`identity_rmf` — the diagonal response for the internal continuum.
* :func:`aperture_solid_angle` — sky solid angle seen by each DET1 sub-pixel through a circular
  aperture stop, minus the disc occulted by the optics module.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import scipy.sparse as sp

from nuskybgd.calib.base import PixelMap
from nuskybgd.calib.base import unit_detabs as unit_detabs  # re-exported (resolve uses it)
from nuskybgd.constants import (
    APERTURE_GRID,
    APERTURE_OFFSET,
    DET1_PIXEL_MM,
    DET1_SIZE,
    EDGE_W_K_KEV,
    EDGE_W_L3_KEV,
    N_PI,
    PI_DE_KEV,
    PI_E0_KEV,
    RAW_PIXEL_MM,
    RAW_PIXELS_PER_SIDE,
)
from nuskybgd.constants import NOMINAL_APERTURE_PARAMS as NOMINAL_APERTURE_PARAMS  # re-exported
from nuskybgd.energy import response_energy_grid as energy_grid
from nuskybgd.io.ogip_types import Arf, Rmf
from nuskybgd.modules import normalise_module

# ----------------------------------------------------------------------------------------------
# energy grid
# ----------------------------------------------------------------------------------------------




# ----------------------------------------------------------------------------------------------
# detector layout
# ----------------------------------------------------------------------------------------------

#: Centre of the 2×2 detector array in DET1 array-index units (continuous coordinate in which
#: sub-pixel k spans [k, k+1)), per module.  Fitted once to the PIXPOS v007 ownership maps (the
#: frame centre would be 180.0; the arrays sit 1–3 sub-pixels off it).
LAYOUT_CENTRE: dict[str, tuple[float, float]] = {"A": (181.0, 181.75), "B": (184.0, 182.0)}

#: Side of one detector's sensitive area in DET1 sub-pixels: 32 × 5 sub-pixels of pixel array
#: plus an edge-collection border of 2.25 sub-pixels (0.27 mm) on every side, where the edge
#: pixels collect charge up to the crystal edge (19.9 mm of a 20 mm CZT crystal).  Fitted
#: to the PIXPOS v007 maps (164.5 sub-pixels) — the detectors abut at the array centre.
DETECTOR_SIDE_SUBPIX: float = 164.5

#: Pinwheel orientation per detector: (unit vector of +RAWX, unit vector of +RAWY) in DET1
#: (x, y), and the quadrant (sign of x, sign of y) relative to the array centre.  Source: the
#: table in reference geometry-and-calibration §2 (RAW (0,0) corner at the array centre).
PINWHEEL: dict[int, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    0: ((0, 1), (1, 0), (1, 1)),
    1: ((-1, 0), (0, 1), (-1, 1)),
    2: ((0, -1), (-1, 0), (-1, -1)),
    3: ((1, 0), (0, -1), (1, -1)),
}

_SUBPIX_PER_RAW = RAW_PIXEL_MM / DET1_PIXEL_MM  # 5


def _raw_index(t: np.ndarray, side: float) -> np.ndarray:
    """RAW pixel index along one axis for distance ``t`` (sub-pixels) from the inner edge."""
    border = 0.5 * (side - RAW_PIXELS_PER_SIDE * _SUBPIX_PER_RAW)
    k = np.floor((t - border) / _SUBPIX_PER_RAW).astype(np.int64)
    return np.clip(k, 0, RAW_PIXELS_PER_SIDE - 1)


def detector_layout(module: str) -> PixelMap:
    """Nominal DET1 sub-pixel → (DET_ID, RAWX, RAWY) map for ``module`` ('A' or 'B').

    Each detector is a square of :data:`DETECTOR_SIDE_SUBPIX` sub-pixels in one quadrant around
    :data:`LAYOUT_CENTRE`, with its RAW (0, 0) corner at the centre and the orientation of
    :data:`PINWHEEL`.  Inner RAW pixels are 5×5 sub-pixels; edge pixels reach the border.

    Returns
    -------
    PixelMap
        int16 maps (360, 360) ``[y, x]``, −1 outside the detectors; ``pdf_max`` is 1 on the
        detectors and 0 elsewhere.
    """
    cx, cy = LAYOUT_CENTRE[normalise_module(module)]
    side = DETECTOR_SIDE_SUBPIX
    n = DET1_SIZE
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) + 0.5  # sub-pixel centres
    u, v = x - cx, y - cy
    det = np.full((n, n), -1, dtype=np.int16)
    rawx = np.full((n, n), -1, dtype=np.int16)
    rawy = np.full((n, n), -1, dtype=np.int16)
    for d, (ex, ey, (sx, sy)) in PINWHEEL.items():
        inside = (sx * u >= 0) & (sx * u < side) & (sy * v >= 0) & (sy * v < side)
        # distance from the inner edges along +RAWX and +RAWY directions
        tx = ex[0] * u + ex[1] * v
        ty = ey[0] * u + ey[1] * v
        det[inside] = d
        rawx[inside] = _raw_index(tx[inside], side)
        rawy[inside] = _raw_index(ty[inside], side)
    pdf = (det >= 0).astype(np.float64)
    return PixelMap(det, rawx, rawy, pdf)


# ----------------------------------------------------------------------------------------------
# spectral resolution
# ----------------------------------------------------------------------------------------------

#: FWHM(E) = sqrt(FWHM_NOISE_KEV² + (FWHM_SLOPE·E)²) in keV.  Fitted once to the peak width
#: (half-maximum crossings) of the real CALDB RMF nuAdet3_20100101v002 over 3–80 keV (largest
#: deviation 2.8 %): 0.411 keV at 6 keV, 0.416 keV at 20 keV, 0.454 keV at 60 keV.  The
#: electronic-noise term dominates below ~60 keV.  (Harrison et al. 2013 quote 0.4 keV at 6 keV
#: and 0.9 keV at 60 keV for the instrument; the CALDB RMF line core is narrower at 60 keV.)
FWHM_NOISE_KEV: float = 0.41071
FWHM_SLOPE: float = 0.0032171

_SIGMA_PER_FWHM = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def fwhm_kev(energy_kev: np.ndarray | float) -> np.ndarray | float:
    """Detector energy resolution, FWHM in keV, at photon energy ``energy_kev`` (keV)."""
    e = np.asarray(energy_kev, dtype=np.float64)
    return np.sqrt(FWHM_NOISE_KEV**2 + (FWHM_SLOPE * e) ** 2)


def gaussian_rmf(module: str = "A", det: int | None = None, nsigma: float = 6.0) -> Rmf:
    """Gaussian redistribution matrix on the NuSTAR grid (4096 energies × 4096 PI channels).

    Row i is a Gaussian centred on the energy-bin centre with FWHM :func:`fwhm_kev`, integrated
    exactly over each channel (error functions) and truncated at ``nsigma`` σ; the rows are
    renormalised to 1 (no detection-efficiency loss; the real RMF's row sums are 0.92 at 6 keV
    and ≈1.0 from 10 to 60 keV).  All four detectors share this nominal response.
    """
    from scipy.special import erf

    lo, hi = energy_grid()
    centre = 0.5 * (lo + hi)
    sigma = fwhm_kev(centre) * _SIGMA_PER_FWHM
    half_width = int(np.ceil(nsigma * sigma.max() / PI_DE_KEV)) + 1
    offsets = np.arange(-half_width, half_width + 1)
    row_chan = np.floor((centre - PI_E0_KEV) / PI_DE_KEV).astype(np.int64)
    chans = row_chan[:, None] + offsets[None, :]
    valid = (chans >= 0) & (chans < N_PI)
    c_lo = PI_E0_KEV + PI_DE_KEV * chans
    z_lo = (c_lo - centre[:, None]) / (np.sqrt(2.0) * sigma[:, None])
    z_hi = (c_lo + PI_DE_KEV - centre[:, None]) / (np.sqrt(2.0) * sigma[:, None])
    w = 0.5 * (erf(z_hi) - erf(z_lo))
    w[~valid] = 0.0
    w[np.abs(c_lo + 0.5 * PI_DE_KEV - centre[:, None]) > nsigma * sigma[:, None]] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    rows = np.broadcast_to(np.arange(N_PI)[:, None], chans.shape)
    keep = w > 0
    m = sp.csr_matrix((w[keep], (rows[keep], chans[keep])), shape=(N_PI, N_PI))
    header = {
        "TELESCOP": "NuSTAR",
        "INSTRUME": f"FPM{normalise_module(module)}",
        "CHANTYPE": "PI",
        "HDUCLAS3": "REDIST",
        "LO_THRES": 0.0,
        "NSBCALIB": "BUILTIN",
    }
    if det is not None:
        header["DETNAM"] = f"DET{int(det)}"
    return Rmf(lo, hi, m, np.arange(N_PI), lo.copy(), hi.copy(), header)


def identity_rmf() -> Rmf:
    """Diagonal response: energy row k → PI channel k with probability 1 (EFFAREA 1)."""
    lo, hi = energy_grid()
    m = sp.identity(N_PI, format="csr", dtype=np.float64)
    header = {"TELESCOP": "NONE", "INSTRUME": "NONE", "CHANTYPE": "PI", "HDUCLAS3": "FULL",
              "LO_THRES": 0.001, "EFFAREA": 1.0}
    return Rmf(lo, hi, m, np.arange(N_PI), lo.copy(), hi.copy(), header)


# ----------------------------------------------------------------------------------------------
# Be window
# ----------------------------------------------------------------------------------------------

#: Beryllium density, g cm⁻³ (CRC handbook).
BE_DENSITY: float = 1.848
#: Be window thickness in mm (design value 0.1 mm; 0.1018 mm best-fit effective thickness).
BE_THICKNESS_MM: float = 0.1018
#: Be photo-absorption μ/ρ = BE_PE_COEFF·(E/keV)^−BE_PE_INDEX cm² g⁻¹, plus BE_SCATTER times the
#: Klein–Nishina electron cross-section per gram (Z/A = 4/9.0122).  Coefficients fitted once to
#: the NIST XCOM total attenuation of Be at 1.5–150 keV (within 1.5 %).
BE_PE_COEFF: float = 648.1
BE_PE_INDEX: float = 3.132
BE_SCATTER: float = 1.014
#: Thin additional absorber (thermal blanket / contamination) optical depth at 3 keV, ∝ E⁻³.
THIN_TAU_3KEV: float = 0.0366

_ME_KEV = 510.99895
_SIGMA_T_CM2 = 0.6652458732e-24
_AVOGADRO = 6.02214076e23


def _klein_nishina_ratio(energy_kev: np.ndarray) -> np.ndarray:
    """Total Klein–Nishina cross-section divided by the Thomson cross-section."""
    k = np.asarray(energy_kev, dtype=np.float64) / _ME_KEV
    t1 = (1 + k) / k**2 * (2 * (1 + k) / (1 + 2 * k) - np.log1p(2 * k) / k)
    t2 = np.log1p(2 * k) / (2 * k) - (1 + 3 * k) / (1 + 2 * k) ** 2
    return 0.75 * (t1 + t2)


def be_mass_attenuation(energy_kev: np.ndarray | float) -> np.ndarray:
    """Mass attenuation coefficient of Be, cm² g⁻¹, at ``energy_kev`` (keV)."""
    e = np.asarray(energy_kev, dtype=np.float64)
    electrons_per_gram = _SIGMA_T_CM2 * _AVOGADRO * 4.0 / 9.0122
    return BE_PE_COEFF * e**-BE_PE_INDEX + BE_SCATTER * electrons_per_gram * _klein_nishina_ratio(e)


def be_window_transmission(energy_kev: np.ndarray | float) -> np.ndarray:
    """Transmission (0..1) of the focal-plane Be window plus the thin term at ``energy_kev``."""
    e = np.asarray(energy_kev, dtype=np.float64)
    tau = be_mass_attenuation(e) * BE_DENSITY * BE_THICKNESS_MM * 0.1 + THIN_TAU_3KEV * (e / 3.0) ** -3
    return np.exp(-tau)


def be_transmission(module: str = "A") -> Arf:
    """Be window transmission on the 4096-row grid as an :class:`Arf` (unitless)."""
    lo, hi = energy_grid()
    t = be_window_transmission(0.5 * (lo + hi))
    return Arf(lo, hi, t, {"TELESCOP": "NuSTAR", "INSTRUME": f"FPM{normalise_module(module)}",
                           "NSBCALIB": "BUILTIN"})


# ----------------------------------------------------------------------------------------------
# on-axis effective area
# ----------------------------------------------------------------------------------------------

#: On-axis effective area model (cm²), per module (same constants for A and B):
#: A(E) = A0 · T_Be(E) · exp(−τ (E/3 keV)⁻³) · P(E) · Π edges, with
#: P(E) = max(E/10 keV, 1)^−α1 · [1 + (E/E2)^k]^−(α2−α1)/k.
#: Fitted once to the CALDB on-axis ARF nuA20100101v004 (3–79 keV, relative least squares).
AREA_A0_CM2: float = 311.95
AREA_TAU_3KEV: float = 0.7051  # optics thermal cover + multilayer low-energy loss
AREA_ALPHA1: float = 1.2998
AREA_E2_KEV: float = 58.04
AREA_ALPHA2: float = 3.5647
AREA_K: float = 6.642
#: Absorption edges (energy keV, transmission factor above the edge, ramp width keV): W L3
#: (10.207 keV) and W K (69.525 keV) of the W/Si multilayers, Pt K (78.395 keV) of the Pt/C
#: multilayers; the Pt K step is ramped over 78.0–78.4 keV (the ray-trace energy sampling).
AREA_EDGES: tuple[tuple[float, float, float], ...] = (
    (EDGE_W_L3_KEV, 0.9454, 0.0),
    (EDGE_W_K_KEV, 0.9466, 0.0),
    (78.4, 0.1726, 0.4),  # Pt K (EDGE_PT_K_KEV = 78.395) reached at the end of the ramp
)


def onaxis_effective_area(energy_kev: np.ndarray | float) -> np.ndarray:
    """On-axis single-module effective area in cm² at ``energy_kev`` (keV); see constants."""
    e = np.asarray(energy_kev, dtype=np.float64)
    x = np.maximum(e / 10.0, 1.0)
    log_a = (
        np.log(AREA_A0_CM2)
        + np.log(be_window_transmission(e))
        - AREA_TAU_3KEV * (e / 3.0) ** -3
        - AREA_ALPHA1 * np.log(x)
        - (AREA_ALPHA2 - AREA_ALPHA1) / AREA_K * np.log1p((e / AREA_E2_KEV) ** AREA_K)
    )
    area = np.exp(log_a)
    for edge, factor, width in AREA_EDGES:
        if width > 0:
            frac = np.clip((e - (edge - width)) / width, 0.0, 1.0)
        else:
            frac = (e > edge).astype(np.float64)
        area = area * (1.0 + (factor - 1.0) * frac)
    return area


def onaxis_arf(module: str = "A") -> Arf:
    """On-axis effective area (cm²) on the 4096-row grid as an :class:`Arf`."""
    lo, hi = energy_grid()
    a = onaxis_effective_area(0.5 * (lo + hi))
    return Arf(lo, hi, a, {"TELESCOP": "NuSTAR", "INSTRUME": f"FPM{normalise_module(module)}",
                           "NSBCALIB": "BUILTIN"})




# ----------------------------------------------------------------------------------------------
# aperture (stray light) solid angle
# ----------------------------------------------------------------------------------------------

# The aperture-image grid is APERTURE_GRID = 576 (DET1-aligned; DET1 idx k at k + APERTURE_OFFSET).

#: Geometric aperture model per module.  A DET1 point p sees the sky through a circular
#: aperture stop of angular radius ``r_stop`` (deg) centred on the direction (c − p)/h, where
#: h = ``height_mm`` is the stop height above the detector; the optics module, ~10 m away, hides
#: a disc of angular radius ``r_optics`` (deg) whose direction hardly moves with p.  (x0, y0)
#: is the 576-grid point where both discs are concentric.  Constants fitted once to
#: ``det{A,B}_det1.img`` (Wik et al. 2014 ray trace).
APERTURE_GEOMETRY: dict[str, dict[str, float]] = {
    "A": {"x0": 312.381, "y0": 469.923, "height_mm": 882.7, "r_stop": 1.91498, "r_optics": 2.24170},
    "B": {"x0": 144.302, "y0": 181.191, "height_mm": 834.1, "r_stop": 1.88192, "r_optics": 2.27109},
}


def _lens_area(r1: float, r2: float, d: np.ndarray) -> np.ndarray:
    """Overlap area of two discs of radii r1, r2 whose centres are d apart (same units²)."""
    d = np.asarray(d, dtype=np.float64)
    out = np.zeros_like(d)
    full = d <= abs(r1 - r2)
    out[full] = np.pi * min(r1, r2) ** 2
    part = (d < r1 + r2) & ~full
    dd = d[part]
    a1 = r1**2 * np.arccos(np.clip((dd**2 + r1**2 - r2**2) / (2 * dd * r1), -1, 1))
    a2 = r2**2 * np.arccos(np.clip((dd**2 + r2**2 - r1**2) / (2 * dd * r2), -1, 1))
    a3 = 0.5 * np.sqrt(np.clip((-dd + r1 + r2) * (dd + r1 - r2) * (dd - r1 + r2) * (dd + r1 + r2), 0, None))
    out[part] = a1 + a2 - a3
    return out


def aperture_solid_angle(module: str, full: bool = False) -> np.ndarray:
    """Unobstructed sky solid angle (deg²) seen through the aperture stop by each DET1 sub-pixel.

    Parameters
    ----------
    module : str
        'A' or 'B'.
    full : bool
        If true return the 576×576 grid (DET1 idx k at grid index k + 108); otherwise the
        360×360 DET1 crop ``[y, x]``.
    """
    g = APERTURE_GEOMETRY[normalise_module(module)]
    n = APERTURE_GRID
    y, x = np.mgrid[0:n, 0:n].astype(np.float64)
    deg_per_cell = np.degrees(DET1_PIXEL_MM / g["height_mm"])
    d = deg_per_cell * np.hypot(x - g["x0"], y - g["y0"])
    omega = np.pi * g["r_stop"] ** 2 - _lens_area(g["r_stop"], g["r_optics"], d)
    if full:
        return omega
    s = slice(APERTURE_OFFSET, APERTURE_OFFSET + DET1_SIZE)
    return omega[s, s].copy()




# ----------------------------------------------------------------------------------------------
# presets
# ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _presets_text() -> str:
    return resources.files("nuskybgd.data").joinpath("presets.json").read_text(encoding="utf-8")


def presets() -> dict:
    """Line/continuum presets (``ratios.json`` structure), project-owned data file."""
    return json.loads(_presets_text())
