"""The NuSTAR point-spread function as a King profile (energy independent).

Surface brightness ∝ (1 + (r/r_c)²)^−γ with γ = 1.5, truncated at r_max = 10′; the core radius
r_c (≈ 17.4″) is chosen so that the truncated profile has a half-power diameter of 58″, the
NuSTAR value.  With t(r) = (1 + (r/r_c)²)^(1−γ) the encircled-energy fraction is

    EEF(r) = (1 − t(r)) / (1 − t(r_max))   (r ≤ r_max; 1 beyond).

This is the PSF the simulator draws source photons from, and the one the products layer uses for
source exclusion radii and encircled-energy corrections.  It ignores the PSF's energy and
off-axis dependence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nuskybgd.constants import DET1_PIXEL_ARCSEC

#: Half-power diameter of the NuSTAR PSF (arcsec).
PSF_HPD_ARCSEC = 58.0
#: King index γ: surface brightness ∝ (1 + (r/r_c)²)^−γ.
PSF_INDEX = 1.5
#: Truncation radius of the profile (arcsec).
PSF_RMAX_ARCSEC = 600.0


def _king_tail(r_arcsec: np.ndarray | float, rc_arcsec: float, index: float) -> np.ndarray:
    """t(r) = (1 + (r/r_c)²)^(1−γ): one minus the untruncated encircled fraction."""
    return (1.0 + (np.asarray(r_arcsec, float) / rc_arcsec) ** 2) ** (1.0 - index)


def king_core_radius_for_hpd(hpd_arcsec: float, index: float, rmax_arcsec: float) -> float:
    """Core radius (arcsec) giving a King profile truncated at ``rmax`` the half-power diameter.

    Parameters
    ----------
    hpd_arcsec, rmax_arcsec : float
        Half-power diameter and truncation radius (arcsec).
    index : float
        King index γ (> 1).
    """
    from scipy.optimize import brentq

    def excess(rc: float) -> float:
        t = _king_tail(np.array([hpd_arcsec / 2.0, rmax_arcsec]), rc, index)
        return float((1.0 - t[0]) / (1.0 - t[1]) - 0.5)

    return float(brentq(excess, 1e-3 * hpd_arcsec, hpd_arcsec))


@dataclass(frozen=True)
class KingPSF:
    """A truncated King profile (see the module docstring).

    Attributes
    ----------
    hpd_arcsec : float
        Half-power diameter of the truncated profile (arcsec).
    index : float
        King index γ.
    rmax_arcsec : float
        Truncation radius (arcsec).
    rc_arcsec : float
        Core radius (arcsec), derived from the three above.
    """

    hpd_arcsec: float = PSF_HPD_ARCSEC
    index: float = PSF_INDEX
    rmax_arcsec: float = PSF_RMAX_ARCSEC
    rc_arcsec: float = field(init=False)

    def __post_init__(self) -> None:
        if self.index <= 1.0:
            raise ValueError("King profile index must exceed 1")
        object.__setattr__(self, "rc_arcsec",
                           king_core_radius_for_hpd(self.hpd_arcsec, self.index, self.rmax_arcsec))

    @property
    def _tail_max(self) -> float:
        return float(_king_tail(self.rmax_arcsec, self.rc_arcsec, self.index))

    def surface_brightness(self, r_arcmin: np.ndarray | float) -> np.ndarray:
        """Fraction of a point source's counts per arcmin² at radius ``r_arcmin`` (arcmin).

        Integrates to 1 over the plane (0 beyond the truncation radius).
        """
        r = np.asarray(r_arcmin, float) * 60.0
        rc, g = self.rc_arcsec, self.index
        norm = (g - 1.0) / (np.pi * rc ** 2 * (1.0 - self._tail_max))  # per arcsec²
        sb = norm * (1.0 + (r / rc) ** 2) ** (-g) * 3600.0
        return np.where(r <= self.rmax_arcsec, sb, 0.0)

    def per_sky_pixel(self, r_arcmin: np.ndarray | float) -> np.ndarray:
        """Fraction of a point source's counts per sky pixel (2.458″ square) at ``r_arcmin``."""
        return self.surface_brightness(r_arcmin) * (DET1_PIXEL_ARCSEC / 60.0) ** 2

    def encircled_energy(self, r_arcmin: np.ndarray | float) -> np.ndarray:
        """Encircled-energy fraction within radius ``r_arcmin`` (arcmin); 1 beyond 10′."""
        r = np.minimum(np.asarray(r_arcmin, float) * 60.0, self.rmax_arcsec)
        return (1.0 - _king_tail(r, self.rc_arcsec, self.index)) / (1.0 - self._tail_max)

    def pixel_fractions(self, shape: tuple[int, int], x: float, y: float,
                        oversample: int = 4) -> np.ndarray:
        """Fraction of a point source's counts in each pixel of a sky grid.

        Parameters
        ----------
        shape : (ny, nx)
            Sky grid ``[y, x]``; pixel ``[j, i]`` is centred on sky X = i + 1, Y = j + 1.
        x, y : float
            Source position in continuous 1-based sky pixels (the event file's X/Y frame).
        oversample : int
            Sub-samples per pixel side used to integrate the profile over each pixel.

        Returns
        -------
        ndarray (ny, nx)
            The profile integrated over each pixel (sums to 1 when the grid holds the 10′ disc).
        """
        out = np.zeros(shape)
        rpix = self.rmax_arcsec / DET1_PIXEL_ARCSEC + 1.0
        j0, j1 = max(int(np.floor(y - 1 - rpix)), 0), min(int(np.ceil(y - 1 + rpix)) + 1, shape[0])
        i0, i1 = max(int(np.floor(x - 1 - rpix)), 0), min(int(np.ceil(x - 1 + rpix)) + 1, shape[1])
        if j0 >= j1 or i0 >= i1:
            return out
        k = max(int(oversample), 1)
        sub = (np.arange(k) + 0.5) / k - 0.5
        dx = (np.arange(i0, i1) + 1 - x)[:, None] + sub[None, :]  # (nx, k)
        dy = (np.arange(j0, j1) + 1 - y)[:, None] + sub[None, :]  # (ny, k)
        r = np.hypot(dx[None, :, None, :], dy[:, None, :, None]) * (DET1_PIXEL_ARCSEC / 60.0)
        out[j0:j1, i0:i1] = self.per_sky_pixel(r).mean(axis=(2, 3))
        return out

    def mask_fraction(self, mask: np.ndarray, x: float, y: float, oversample: int = 4) -> float:
        """Fraction of a point source's counts that falls in a boolean sky ``mask`` ``[y, x]``.

        Same grid convention, source position and ``oversample`` as :meth:`pixel_fractions`;
        returns the sum of its pixel fractions over the mask (0–1).
        """
        m = np.asarray(mask, bool)
        return float(self.pixel_fractions(m.shape, x, y, oversample)[m].sum())

    def draw_offsets(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` photon offsets (arcsec) from the source drawn from this profile."""
        return draw_king_offsets(rng, n, self.rc_arcsec, self.index, self.rmax_arcsec)


def draw_king_offsets(rng: np.random.Generator, n: int, rc_arcsec: float, index: float,
                      rmax_arcsec: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (arcsec) from a surface brightness ∝ (1 + (r/rc)²)^−index truncated at rmax.

    Inverse-CDF sampling: the encircled fraction is 1 − (1 + x²)^(1−index), x = r/rc.
    """
    if index <= 1.0:
        raise ValueError("profile index must exceed 1")
    tail_max = (1.0 + (rmax_arcsec / rc_arcsec) ** 2) ** (1.0 - index)
    u = rng.uniform(tail_max, 1.0, size=n)  # u = (1 + x²)^(1-index)
    x = np.sqrt(u ** (1.0 / (1.0 - index)) - 1.0)
    r = rc_arcsec * x
    phi = rng.uniform(0.0, 2.0 * np.pi, size=n)
    return r * np.cos(phi), r * np.sin(phi)


#: The NuSTAR PSF model used throughout nuskybgd.
NUSTAR_PSF = KingPSF()
#: Its core radius (arcsec), ≈ 17.4″.
PSF_RC_ARCSEC = NUSTAR_PSF.rc_arcsec


def psf_surface_brightness(r_arcmin: np.ndarray | float) -> np.ndarray:
    """:meth:`KingPSF.surface_brightness` of :data:`NUSTAR_PSF` (fraction per arcmin²)."""
    return NUSTAR_PSF.surface_brightness(r_arcmin)


def encircled_energy(r_arcmin: np.ndarray | float) -> np.ndarray:
    """:meth:`KingPSF.encircled_energy` of :data:`NUSTAR_PSF` (fraction within ``r_arcmin``)."""
    return NUSTAR_PSF.encircled_energy(r_arcmin)


def psf_mask_fraction(mask: np.ndarray, x: float, y: float, oversample: int = 4) -> float:
    """:meth:`KingPSF.mask_fraction` of :data:`NUSTAR_PSF` (source at 1-based sky X, Y)."""
    return NUSTAR_PSF.mask_fraction(mask, x, y, oversample)
