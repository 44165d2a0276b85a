"""The point-spread function used by the region and response code (an adapter).

The PSF model lives in :mod:`nuskybgd.simulate.model` today (a King profile, surface brightness
∝ (1 + (r/r_c)²)^−1.5, truncated at 10′, r_c ≈ 17.4″ for a 58″ half-power diameter, no energy
dependence).  It is moving into the calibration layer; until it lands, this adapter is the only
place ``products`` touches it, so switching is a one-line change here.
"""

from __future__ import annotations

import numpy as np

from nuskybgd.constants import SKY_PIXEL_DEG

__all__ = ["PixelPsf", "encircled_fraction", "psf_parameters", "region_psf_fraction", "surface_fraction"]

PIXEL_ARCSEC = SKY_PIXEL_DEG * 3600.0


def psf_parameters() -> tuple[float, float, float]:
    """(core radius arcsec, index, truncation radius arcsec) of the King PSF."""
    from nuskybgd.simulate.model import PSF_INDEX, PSF_RC_ARCSEC, PSF_RMAX_ARCSEC

    return float(PSF_RC_ARCSEC), float(PSF_INDEX), float(PSF_RMAX_ARCSEC)


def _tail(r: np.ndarray, rc: float, index: float) -> np.ndarray:
    return (1.0 + (np.asarray(r, dtype=float) / rc) ** 2) ** (1.0 - index)


def encircled_fraction(r_arcsec: np.ndarray | float) -> np.ndarray:
    """Fraction of the PSF's photons within radius ``r_arcsec`` (0 at 0, 1 at the truncation)."""
    rc, index, rmax = psf_parameters()
    r = np.clip(np.asarray(r_arcsec, dtype=float), 0.0, rmax)
    return (1.0 - _tail(r, rc, index)) / (1.0 - _tail(rmax, rc, index))


def surface_fraction(r_arcsec: np.ndarray | float) -> np.ndarray:
    """PSF surface density at radius ``r_arcsec``: fraction of the photons per arcsec² (0 beyond 10′)."""
    rc, index, rmax = psf_parameters()
    r = np.asarray(r_arcsec, dtype=float)
    norm = (index - 1.0) / (np.pi * rc ** 2) / (1.0 - _tail(rmax, rc, index))
    return np.where(r <= rmax, norm * (1.0 + (r / rc) ** 2) ** (-index), 0.0)


def radius_below(per_pixel_fraction: float) -> float:
    """Radius (arcsec) beyond which one sky pixel holds less than ``per_pixel_fraction`` of the PSF.

    Capped at the truncation radius (nothing lies beyond it).
    """
    rc, index, rmax = psf_parameters()
    peak = float(surface_fraction(0.0)) * PIXEL_ARCSEC ** 2
    if per_pixel_fraction >= peak:
        return 0.0
    x2 = (per_pixel_fraction / peak) ** (-1.0 / index) - 1.0
    return float(min(rc * np.sqrt(max(x2, 0.0)), rmax))


class PixelPsf:
    """The PSF integrated over sky pixels around a source (sub-sampled ``oversample``² per pixel)."""

    def __init__(self, shape: tuple[int, int], centre_xy: tuple[float, float], oversample: int = 4) -> None:
        """``centre_xy`` is the source position as 0-based sky pixel indices (x, y)."""
        rc, index, rmax = psf_parameters()
        ny, nx = shape
        half = int(np.ceil(rmax / PIXEL_ARCSEC)) + 1
        cx, cy = centre_xy
        self.x0, self.y0 = max(int(np.floor(cx)) - half, 0), max(int(np.floor(cy)) - half, 0)
        x1, y1 = min(int(np.ceil(cx)) + half + 1, nx), min(int(np.ceil(cy)) + half + 1, ny)
        sub = (np.arange(oversample) + 0.5) / oversample - 0.5
        xs = (np.arange(self.x0, x1)[:, None] + sub[None, :]).ravel()
        ys = (np.arange(self.y0, y1)[:, None] + sub[None, :]).ravel()
        r = np.hypot(xs[None, :] - cx, ys[:, None] - cy) * PIXEL_ARCSEC
        dens = surface_fraction(r) * (PIXEL_ARCSEC / oversample) ** 2
        self.image = dens.reshape(y1 - self.y0, oversample, x1 - self.x0, oversample).sum(axis=(1, 3))
        self.shape = shape

    def fraction(self, mask: np.ndarray) -> float:
        """Fraction of the source's photons that fall on the pixels of ``mask`` ([y, x] bool)."""
        ny, nx = self.image.shape
        return float(self.image[mask[self.y0:self.y0 + ny, self.x0:self.x0 + nx]].sum())


def region_psf_fraction(mask: np.ndarray, centre_xy: tuple[float, float], oversample: int = 4) -> float:
    """Encircled-energy fraction of a region: the PSF's share of photons on ``mask``'s pixels."""
    return PixelPsf(mask.shape, centre_xy, oversample).fraction(mask)
