"""A point source's PSF wings in the background regions: measured on the source, carried by the PSF.

NuSTAR's PSF (the King profile of :mod:`nuskybgd.calib.psf`, truncated at 10′) falls as r⁻³ in
surface brightness but its encircled energy approaches 1 only as ``1 − r_c/r``: beyond the
``regions`` step's exclusion circle (≈ 5′ for a source of ~10⁴ counts) a few per cent of the
source's photons still land on the background regions.  For the demo's source that is ~3 % of the
aperture-CXB counts there, and, unmodelled, it goes into the aperture CXB (its spectrum is the
closest): a +2σ bias.  No exclusion radius that leaves background area fixes that (bringing the
leak below 1 % of the aperture CXB in every region would need a radius of ≈ 9′, most of the field
of view).

So the fit carries a fixed **source-wing term** (source 1, ``srcwing``; :func:`nuskybgd.workflow.
model.add_source_wings`) in every background spectrum s:

    counts_s(E) = (f_s / f_src) × [source counts in the source region](E)

where ``f`` is the PSF's share of the source's photons in a region, weighted by the time each sky
pixel is on a detector (:func:`psf_share`).  The source's spectrum in the source region is
measured from the source spectrum itself (:func:`fit_source_spectrum`): a power law through the
source spectrum's RMF and the on-axis ARF, plus the background in the source region estimated
from the background spectra scaled by exposed area, fitted with the Poisson likelihood (cstat)
over 3–79 keV.  The term's shape and amplitude are then frozen in the background fit: it adds no
free parameter.  A source not detected at 3σ over the background in its region (Poisson noise
and a 10 % systematic of the area scaling, in quadrature) gets no term.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError

__all__ = ["BACKGROUND_SYSTEMATIC", "DETECTION_SIGMA", "SourceWings", "estimate_source_wings", "fit_source_spectrum", "psf_share", "SOURCE_BAND_KEV"]

#: Band of the source-spectrum fit (keV): where NuSTAR's on-axis ARF is calibrated.
SOURCE_BAND_KEV = (3.0, 79.0)
#: The term is kept only for a detected source: fitted source counts above this many σ of the
#: background's uncertainty in the source region (without a source the norm, bounded at 0, would
#: otherwise add a small positive wing half the time).
DETECTION_SIGMA = 3.0
#: Relative uncertainty of the background in the source region scaled from the background spectra
#: by exposed area (the aperture CXB is not flat: measured 5–12 % low for FPMB in the simulator's
#: source-free fields), added in quadrature to its Poisson noise in the detection test.
BACKGROUND_SYSTEMATIC = 0.10


@dataclass
class SourceWings:
    """The source-wing term of each background spectrum (``bgfiles`` order).

    Attributes
    ----------
    photon_index : list of float
        Γ of the power law of each spectrum's module.
    norm : list of float
        Power-law norm in each background region (ph keV⁻¹ cm⁻² s⁻¹ at 1 keV through the on-axis ARF).
    shares : list of float
        PSF share ``f_s`` of each background region (0–1).
    source : dict
        Module → ``{"photon_index", "norm", "share", "counts", "detected"}`` of the source region
        (``counts``: the fitted source counts in the source region, 3–79 keV; ``norm`` is 0 when
        the source is not detected, see :data:`DETECTION_SIGMA`).
    """

    photon_index: list[float] = field(default_factory=list)
    norm: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    source: dict = field(default_factory=dict)


def psf_share(psf_image: np.ndarray, exposed: np.ndarray, mask: np.ndarray) -> float:
    """``Σ_p PSF(p) · e(p)`` over the region's sky pixels: the share of a point source's photons
    detected in the region (``e`` = fraction of the time pixel p is on a detector, 0–1)."""
    m = np.asarray(mask, bool)
    return float((psf_image[m] * exposed[m]).sum())


def _psf_image(shape: tuple[int, int], cx: float, cy: float) -> np.ndarray:
    """The PSF integrated over each sky pixel about 0-based ``(cx, cy)``, computed only within its
    10′ truncation (zero beyond)."""
    from nuskybgd.calib.psf import NUSTAR_PSF
    from nuskybgd.products.psf import PIXEL_ARCSEC

    reach = int(np.ceil(NUSTAR_PSF.rmax_arcsec / PIXEL_ARCSEC)) + 2
    i0, i1 = max(int(cx) - reach, 0), min(int(cx) + reach + 1, shape[1])
    j0, j1 = max(int(cy) - reach, 0), min(int(cy) + reach + 1, shape[0])
    out = np.zeros(shape)
    if i1 > i0 and j1 > j0:
        out[j0:j1, i0:i1] = NUSTAR_PSF.pixel_fractions((j1 - j0, i1 - i0), cx + 1.0 - i0, cy + 1.0 - j0)
    return out


def fit_source_spectrum(counts: np.ndarray, background: np.ndarray, response, exposure: float,
                        channels: np.ndarray) -> tuple[float, float, float]:
    """Poisson maximum-likelihood power law on ``counts`` over a fixed ``background``.

    Parameters
    ----------
    counts, background : ndarray
        Counts per channel of the source spectrum and the expected background counts there.
    response : nuskybgd.spectral.Response
        The source's response (RMF × on-axis ARF, cm²).
    exposure : float
        Seconds.
    channels : ndarray of bool
        The channels fitted.

    Returns
    -------
    (photon_index, norm, source_counts)
        Γ, the norm (ph keV⁻¹ cm⁻² s⁻¹ at 1 keV) and the model's source counts in ``channels``.
    """
    from scipy.optimize import minimize

    from nuskybgd.spectral.components import powerlaw

    edges = response.energy_edges
    n = np.asarray(counts, float)[channels]
    b = np.maximum(np.asarray(background, float)[channels], 0.0)

    def unit(gamma: float) -> np.ndarray:
        return exposure * response.fold(powerlaw(edges, gamma))[channels]

    net = max(float(n.sum() - b.sum()), 0.0)
    scale = net / max(float(unit(2.0).sum()), 1e-30) if net > 0 else 1e-30

    def cost(x: np.ndarray) -> float:
        mu = x[1] * scale * unit(x[0]) + b
        mu = np.maximum(mu, 1e-12)
        return float((mu - n * np.log(mu)).sum())

    if net <= 0:
        return 2.0, 0.0, 0.0
    best = minimize(cost, np.array([2.0, 1.0]), method="L-BFGS-B", bounds=[(-1.0, 5.0), (0.0, None)])
    gamma, norm = float(best.x[0]), float(best.x[1] * scale)
    return gamma, norm, float(norm * unit(gamma).sum())


def estimate_source_wings(info, geometry, source_region: str | Path, source_spectra: Mapping[str, str | Path],
                          cal_files: Mapping[str, Path]) -> SourceWings:
    """The source-wing term of every background spectrum of ``info`` (see the module notes).

    Parameters
    ----------
    info : BgdInfo
        The configuration.
    geometry : Geometry
        Its grid and projbgd images.
    source_region : path
        ds9 region on the source (its first include shape's centre is the source position).
    source_spectra : mapping
        Module → the source region's spectrum (PHA with RESPFILE), one per module in use.
    cal_files : mapping
        From :func:`~nuskybgd.workflow.model.write_calibration_files` (``fcxb{m}``: on-axis ARF).

    Raises
    ------
    InputError
        A module without its source spectrum, a spectrum without an RMF.
    """
    from nuskybgd.energy import band_to_pi
    from nuskybgd.io.ogip import read_pha
    from nuskybgd.products.background_regions import source_centre
    from nuskybgd.spectral import Response
    from nuskybgd.workflow.geometry_weights import region_weights
    from nuskybgd.workflow.project import read_source_spectrum

    cx, cy = source_centre(source_region, geometry.wcs)
    psf = _psf_image(geometry.shape, cx, cy)
    src_mask = geometry.mask(source_region)
    out = SourceWings()
    masks = [geometry.mask(r) for r in info.regfiles]
    # fraction of the time each sky pixel is on a detector, per module
    exposed = {m: np.clip(geometry.detectors[m].sum(axis=0), 0.0, 1.0) for m in info.used_modules}
    for m in info.used_modules:
        if m not in source_spectra:
            raise InputError(f"the source-wing term of source region {source_region} needs the source "
                             f"spectrum of FPM{m}; give it (--src-spectrum), or clear --src.", source_region)
        pha_path = Path(source_spectra[m])
        pha, rmf = read_source_spectrum(pha_path)
        response = Response(rmf, cal_files[f"fcxb{m}"])
        own = [s for s, mod in enumerate(info.modules) if mod == m]
        area_src = region_weights(src_mask, geometry.detectors[m], geometry.aperture[m]).area
        bg = np.zeros(np.asarray(pha.counts).size)
        area_bg = 0.0
        for s in own:
            bpha = read_pha(info.bgfiles[s])
            bg += np.asarray(bpha.counts, float) * (float(pha.exposure) / float(bpha.exposure))
            area_bg += region_weights(masks[s], geometry.detectors[m], geometry.aperture[m]).area
        lo, hi = band_to_pi(*SOURCE_BAND_KEV)
        chan = np.asarray(pha.channels)
        band = (chan >= lo) & (chan <= hi)
        bg_src = bg * area_src / max(area_bg, 1e-30)
        gamma, norm, counts = fit_source_spectrum(pha.counts, bg_src, response, float(pha.exposure), band)
        b = float(bg_src[band].sum())
        detected = counts > DETECTION_SIGMA * np.sqrt(max(b, 1.0) + (BACKGROUND_SYSTEMATIC * b) ** 2)
        share_src = psf_share(psf, exposed[m], src_mask)
        out.source[m] = {"photon_index": gamma, "norm": norm if detected else 0.0, "share": share_src,
                         "counts": counts, "detected": bool(detected)}
    for s, m in enumerate(info.modules):
        share = psf_share(psf, exposed[m], masks[s])
        src = out.source[m]
        out.shares.append(share)
        out.photon_index.append(src["photon_index"])
        out.norm.append(src["norm"] * share / src["share"] if src["share"] > 0 else 0.0)
    return out
