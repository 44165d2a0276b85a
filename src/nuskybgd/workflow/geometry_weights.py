"""Region weights from the projbgd images (``docs/reference/background-model.md`` §2).

For the mask R of a region and module m:

* detector areas ``A_d = Σ_p R(p)·D_{m,d}(p)`` in exposure-weighted sky pixels (d = 0..3);
* aperture weight ``W = Σ_p R(p)·Ap_m(p)`` (units of the aperture image).

Masks come from :func:`nuskybgd.products.regions.region_mask` on the WCS grid of ``refimgf``.
A region that misses every detector is refused (the original divides by zero there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError

__all__ = ["Geometry", "RegionWeights", "load_geometry", "region_weights", "spectrum_weights",
           "weights_for_region"]


@dataclass(frozen=True)
class RegionWeights:
    """Geometric weights of one region.

    Attributes
    ----------
    det_area : ndarray, shape (4,)
        ``A_d``: exposure-weighted sky pixels on detector d (dimensionless pixel counts).
    aperture : float
        ``W``: sum of the aperture image over the region.
    """

    det_area: np.ndarray
    aperture: float

    @property
    def area(self) -> float:
        """``A = Σ_d A_d`` (exposure-weighted sky pixels)."""
        return float(np.sum(self.det_area))

    @property
    def fractions(self) -> np.ndarray:
        """``A_d / A`` (NaN when the region misses every detector)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.det_area, float) / self.area


@dataclass
class Geometry:
    """The reference grid and the projbgd images of the modules in use.

    ``aperture[m]`` is (ny, nx); ``detectors[m]`` is (4, ny, nx); ``wcs`` and ``header`` come
    from ``refimgf`` (primary HDU).
    """

    shape: tuple[int, int]
    wcs: object
    header: object
    aperture: dict[str, np.ndarray]
    detectors: dict[str, np.ndarray]

    def mask(self, regfile: str | Path) -> np.ndarray:
        """Boolean mask ``[y, x]`` of a ds9 region file on this grid."""
        from nuskybgd.products.regions import region_mask

        return region_mask(regfile, self.shape, self.wcs)


def _image(path: Path, what: str) -> tuple[np.ndarray, object]:
    from nuskybgd.io.ogip import open_fits

    with open_fits(path, what) as hdul:
        data = hdul[0].data
        if data is None or np.ndim(data) != 2:
            raise InputError(f"{what} {path} has no 2-D image in its primary HDU; give the projbgd "
                             "output.", path)
        return np.asarray(data, dtype=np.float64), hdul[0].header.copy()


def load_geometry(info) -> Geometry:
    """Read ``refimgf`` and the aperture and detector images of every module in use.

    Parameters
    ----------
    info : BgdInfo
        A loaded configuration (its ``modules`` tell which modules are needed).

    Raises
    ------
    InputError
        An unreadable image or one whose shape differs from ``refimgf``.
    """
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    _, header = _image(Path(info.refimgf), "reference image")
    shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
    with warnings.catch_warnings():          # NuSTAR headers' RADECSYS and MJDREF are benign
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header).celestial
    ap: dict[str, np.ndarray] = {}
    det: dict[str, np.ndarray] = {}
    for m in info.used_modules:
        ap[m], _ = _image(Path(info.bgdapfiles[m]), f"aperture image of module {m}")
        det[m] = np.stack([_image(Path(f), f"detector image of module {m}")[0]
                           for f in info.bgddetfiles[m]])
        for arr, f in [(ap[m], info.bgdapfiles[m]), *zip(det[m], info.bgddetfiles[m], strict=True)]:
            if arr.shape != shape:
                raise InputError(f"image {f} is {arr.shape[1]}×{arr.shape[0]} pixels but the reference "
                                 f"image {info.refimgf} is {shape[1]}×{shape[0]}; make both on the "
                                 "same projbgd grid.", f)
    return Geometry(shape, wcs, header, ap, det)


def region_weights(mask: np.ndarray, detectors: np.ndarray, aperture: np.ndarray) -> RegionWeights:
    """Weights of a boolean mask: ``A_d`` from ``detectors`` (4, ny, nx), ``W`` from ``aperture``."""
    m = np.asarray(mask, bool)
    return RegionWeights(np.asarray(detectors[:, m].sum(axis=1), dtype=np.float64),
                         float(np.asarray(aperture)[m].sum()))


def weights_for_region(geometry: Geometry, module: str, regfile: str | Path,
                       spectrum: str | Path) -> RegionWeights:
    """Weights of one region of module ``module``; refuses a region that misses every detector.

    Raises
    ------
    InputError
        Names the region and its spectrum when ``A = 0``.
    """
    w = region_weights(geometry.mask(regfile), geometry.detectors[module], geometry.aperture[module])
    if not w.area > 0:
        raise InputError(f"region {regfile} (spectrum {spectrum}) covers no exposed pixel of any FPM"
                         f"{module} detector; redraw it on the detector footprints or drop it.", regfile)
    return w


def spectrum_weights(info, geometry: Geometry | None = None) -> list[RegionWeights]:
    """Weights of every background region of ``info`` in ``bgfiles`` order."""
    geometry = geometry or load_geometry(info)
    return [weights_for_region(geometry, m, r, b)
            for m, r, b in zip(info.modules, info.regfiles, info.bgfiles, strict=True)]
