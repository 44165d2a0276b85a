"""The point-spread function as the region and response code uses it: thin views of the
calibration layer's King PSF (:data:`nuskybgd.calib.psf.NUSTAR_PSF`; energy-independent,
truncated at 10′, r_c ≈ 17.4″ for a 58″ half-power diameter).

Positions here are 0-based sky pixel indices ``(x, y)`` (array columns and rows); the calibration
layer uses the event file's 1-based X/Y.
"""

from __future__ import annotations

import numpy as np

from nuskybgd.calib.psf import NUSTAR_PSF
from nuskybgd.constants import SKY_PIXEL_DEG

__all__ = ["PixelPsf", "encircled_fraction", "radius_below", "region_psf_fraction", "surface_fraction",
           "PIXEL_ARCSEC"]

PIXEL_ARCSEC = SKY_PIXEL_DEG * 3600.0


def encircled_fraction(r_arcsec: np.ndarray | float) -> np.ndarray:
    """Fraction of the PSF's photons within radius ``r_arcsec`` (0 at 0, 1 at the truncation)."""
    return NUSTAR_PSF.encircled_energy(np.asarray(r_arcsec, dtype=float) / 60.0)


def surface_fraction(r_arcsec: np.ndarray | float) -> np.ndarray:
    """PSF surface density at radius ``r_arcsec``: fraction of the photons per arcsec² (0 beyond 10′)."""
    return NUSTAR_PSF.surface_brightness(np.asarray(r_arcsec, dtype=float) / 60.0) / 3600.0


def radius_below(per_pixel_fraction: float) -> float:
    """Radius (arcsec) beyond which one sky pixel holds less than ``per_pixel_fraction`` of the PSF.

    Capped at the truncation radius (nothing lies beyond it).
    """
    psf = NUSTAR_PSF
    peak = float(surface_fraction(0.0)) * PIXEL_ARCSEC ** 2
    if per_pixel_fraction >= peak:
        return 0.0
    x2 = (per_pixel_fraction / peak) ** (-1.0 / psf.index) - 1.0
    return float(min(psf.rc_arcsec * np.sqrt(max(x2, 0.0)), psf.rmax_arcsec))


class PixelPsf:
    """The PSF integrated over the sky pixels of a grid around a source at 0-based ``centre_xy``."""

    def __init__(self, shape: tuple[int, int], centre_xy: tuple[float, float], oversample: int = 4) -> None:
        cx, cy = centre_xy
        self.image = NUSTAR_PSF.pixel_fractions(shape, cx + 1.0, cy + 1.0, oversample)
        self.shape = shape

    def fraction(self, mask: np.ndarray) -> float:
        """Fraction of the source's photons that fall on the pixels of ``mask`` ([y, x] bool)."""
        return float(self.image[np.asarray(mask, bool)].sum())


def region_psf_fraction(mask: np.ndarray, centre_xy: tuple[float, float], oversample: int = 4) -> float:
    """Encircled-energy fraction of a region: the PSF's share of photons on ``mask``'s pixels."""
    cx, cy = centre_xy
    return NUSTAR_PSF.mask_fraction(mask, cx + 1.0, cy + 1.0, oversample)
