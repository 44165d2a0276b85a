"""Presets and ties of the background model from region weights (background-model.md §3.4).

Every value is produced as the parameter string nuskybgd-py hands to XSPEC's ``setPars``:
``"v, δ"`` (value and step; a negative step means frozen), ``"v"`` (value only) or ``"=expr"``
(a link).  Keeping the strings makes the presets testable to the printed digit against §12, and
:mod:`nuskybgd.workflow.model` applies exactly these strings to the engine's parameters.

Per module the *reference* spectrum (its first in ``bgfiles``) carries numbers; every other
spectrum of the module is ratio-linked to it (apbgd, intbgd, intn norms), fcxb norms are free
with their own area-based preset and the optional ``fcxb_config`` equality links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "APBGD_FACTOR", "FCXB_FACTOR", "INTN_PIX_PER_ARCMIN2", "INTBGD_COMPONENTS", "K_CXB",
    "ModulePresets", "SOURCE_NPAR", "SOURCE_NUMBERS", "model_settings", "module_presets",
    "source_region_settings",
]

K_CXB = 0.002353                 # cutoffpl norm of the CXB, ph keV⁻¹ cm⁻² s⁻¹ deg⁻² at 1 keV
APBGD_FACTOR = K_CXB / 32.0      # apbgd norm per unit aperture weight (7.353125e-5)
SKY_PIXEL_ARCSEC = 2.45810736    # projbgd sky pixel
FCXB_FACTOR = K_CXB * 1.5 * (SKY_PIXEL_ARCSEC / 3600.0) ** 2   # fcxb norm per exposed pixel
INTN_PIX_PER_ARCMIN2 = 599.75    # intn: pixels per arcmin² (at 2.45″, as the original)

SOURCE_NUMBERS = {"apbgd": 2, "intbgd": 3, "fcxb": 4, "intn": 5}
SOURCE_NPAR = {"apbgd": 3, "intbgd": 91, "fcxb": 3, "intn": 4}
INTBGD_COMPONENTS = ["apec", "lorentz"] + [f"lorentz_{k}" for k in range(3, 31)]
LINE_19KEV = 16                  # local index of the 19.65 keV line norm (lorentz_5)


@dataclass(frozen=True)
class ModulePresets:
    """One module's preset table (from the calibration's ``ratios.json`` structure).

    ``intbgd_ifactors`` is (30, 4): apec then lorentz lines 1..29, detectors 0..3;
    ``line_energy``/``line_width`` (29,) in keV; ``intn_ifactors`` (4,).
    """

    apbgd_shape: tuple[float, float]
    apec_shape: tuple[float, float, float]
    line_energy: np.ndarray
    line_width: np.ndarray
    intbgd_ifactors: np.ndarray
    intn_shape: tuple[float, float, float]
    intn_ifactors: np.ndarray


def module_presets(table: dict, module: str) -> ModulePresets:
    """Extract module ``module``'s presets from a ``ratios.json``-structured ``table``."""
    models = table["models"]
    ap = models[0]["components"]["cutoffpl"][module]
    comps = models[1]["components"]
    apec = comps["apec"][module]
    lines = [comps[name][module] for name in INTBGD_COMPONENTS[1:]]
    intn = models[3]["components"]["bknpower"][module]
    return ModulePresets(
        apbgd_shape=(float(ap["phoindex"]), float(ap["highecut"])),
        apec_shape=(float(apec["kt"]), float(apec["abundanc"]), float(apec["redshift"])),
        line_energy=np.array([float(x["linee"]) for x in lines]),
        line_width=np.array([float(x["width"]) for x in lines]),
        intbgd_ifactors=np.array([apec["ifactors"]] + [x["ifactors"] for x in lines], dtype=np.float64),
        intn_shape=(float(intn["phoindx1"]), float(intn["breake"]), float(intn["phoindx2"])),
        intn_ifactors=np.asarray(intn["ifactors"], dtype=np.float64),
    )


def _e(x: float) -> str:
    return f"{x:e}"


def _apbgd(w, wr, r: int, p: ModulePresets, is_ref: bool) -> list[str]:
    if is_ref:
        return [f"{p.apbgd_shape[0]}, -0.01", f"{p.apbgd_shape[1]}, -0.01",
                f"{_e(APBGD_FACTOR * wr.aperture)}, 0.01"]
    return [f"=apbgd:{3 * r + 1}", f"=apbgd:{3 * r + 2}",
            f"={_e(w.aperture / wr.aperture)} * apbgd:{3 * r + 3}"]


def _intbgd_ref(wr, r: int, p: ModulePresets, fix_ratios: bool) -> list[str]:
    sums = p.intbgd_ifactors @ np.asarray(wr.det_area, float)     # Σ_d I_{c,d} A_{r,d}
    means = sums / wr.area
    kt, ab, z = p.apec_shape
    out = [f"{kt}, -0.01", f"{ab}, -0.001", f"{z}, -0.01", _e(means[0])]
    for j in range(1, 30):
        out += [f"{p.line_energy[j - 1]}, -0.05", f"{p.line_width[j - 1]}, -0.05"]
        if j <= 4:
            out.append(f"{float(means[j])!r}, 0.01")
        elif fix_ratios:
            out.append(f"={_e(sums[j] / sums[4])} * intbgd:{91 * r + LINE_19KEV}")
        else:
            out.append(f"{_e(means[j])}, 0.01")
    return out


def _intbgd_other(w, wr, r: int, p: ModulePresets) -> list[str]:
    ratio = (p.intbgd_ifactors @ np.asarray(w.det_area, float)) / \
        (p.intbgd_ifactors @ np.asarray(wr.det_area, float))
    base = 91 * r
    out = [f"=intbgd:{base + 1}", f"=intbgd:{base + 2}", f"=intbgd:{base + 3}",
           f"={_e(ratio[0])} * intbgd:{base + 4}"]
    for j in range(1, 30):
        k = base + 5 + 3 * (j - 1)
        out += [f"=intbgd:{k}", f"=intbgd:{k + 1}", f"={_e(ratio[j])} * intbgd:{k + 2}"]
    return out


def _fcxb(w, r: int) -> list[str]:
    return [f"=apbgd:{3 * r + 1}", f"=apbgd:{3 * r + 2}", f"{_e(FCXB_FACTOR * w.area)}, 0.01"]


def _intn(w, wr, r: int, p: ModulePresets, is_ref: bool) -> list[str]:
    g1, eb, g2 = p.intn_shape
    shape = [f"{g1}, -0.01", f"{eb}, -0.01", f"{g2}, -0.01"]
    jr = float(p.intn_ifactors @ np.asarray(wr.det_area, float))
    if is_ref:
        return shape + [f"{_e(jr / INTN_PIX_PER_ARCMIN2)}, 0.01"]
    js = float(p.intn_ifactors @ np.asarray(w.det_area, float))
    return shape + [f"={_e(js / jr)} * intn:{4 * r + 4}"]


def model_settings(weights: Sequence, modules: Sequence[str], table: dict, fix_line_ratios: bool = True,
                   fcxb_links: Sequence[tuple[int, int]] = ()) -> dict[str, list[str]]:
    """The ``setPars`` strings of every background spectrum, per source, all groups in order.

    Parameters
    ----------
    weights : sequence of RegionWeights
        One per spectrum, in ``bgfiles`` order.
    modules : sequence of 'A'/'B'
        Module of each spectrum.
    table : dict
        Presets in ``ratios.json`` structure (``Calibration.presets()``).
    fix_line_ratios : bool
        ``intbgd_fix_line_ratios``.
    fcxb_links : sequence of (ref, tied)
        1-based spectrum numbers; ``tied``'s fcxb norm becomes ``=fcxb:p<3·(ref−1)+3>``.

    Returns
    -------
    dict
        Source name → list of strings (``npar × n_spectra``, group 1 first).
    """
    refs = {m: list(modules).index(m) for m in dict.fromkeys(modules)}
    tables = {m: module_presets(table, m) for m in refs}
    out: dict[str, list[str]] = {name: [] for name in SOURCE_NUMBERS}
    for s, (w, m) in enumerate(zip(weights, modules, strict=True)):
        r, p = refs[m], tables[m]
        wr, is_ref = weights[r], s == r
        out["apbgd"] += _apbgd(w, wr, r, p, is_ref)
        out["intbgd"] += _intbgd_ref(wr, r, p, fix_line_ratios) if is_ref else _intbgd_other(w, wr, r, p)
        out["fcxb"] += _fcxb(w, r)
        out["intn"] += _intn(w, wr, r, p, is_ref)
    for a, b in fcxb_links:
        out["fcxb"][3 * (b - 1) + 2] = f"=fcxb:p{3 * (a - 1) + 3}"
    return out


def source_region_settings(w, wr, r: int, module: str, table: dict) -> dict[str, list[str]]:
    """Strings for a *source* region (``spec``): a non-reference spectrum of module ``module``.

    ``w`` is the source region's weights, ``wr`` and ``r`` the module reference's weights and
    0-based index.  The fcxb norm restarts at its nominal preset (free), intn shapes are reset
    to the presets (background-model.md §6).
    """
    p = module_presets(table, module)
    return {"apbgd": _apbgd(w, wr, r, p, False), "intbgd": _intbgd_other(w, wr, r, p),
            "fcxb": _fcxb(w, r), "intn": _intn(w, wr, r, p, False)}
