"""Figures of merit comparing a calibration item with a reference (used by the benchmark,
the tests and ``docs/calibration.md``).  Pure functions; arrays in, numbers out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuskybgd.calib.base import PixelMap
from nuskybgd.io.ogip_types import Arf, Rmf


def layout_agreement(model: PixelMap, real: PixelMap) -> dict[str, float]:
    """Fraction of the 360×360 DET1 sub-pixels with the same detector (−1 counts as a value),
    and with the same detector and RAW pixel."""
    same_det = model.det == real.det
    same_raw = same_det & (model.rawx == real.rawx) & (model.rawy == real.rawy)
    return {"same_det": float(same_det.mean()), "same_raw": float(same_raw.mean())}


def rmf_line_figures(rmf: Rmf, energy_kev: float) -> dict[str, float]:
    """Peak centroid and FWHM (keV) of the RMF row whose energy bin contains ``energy_kev``.

    FWHM from linear interpolation of the half-maximum crossings; centroid = the mid-point of
    those crossings (insensitive to the low-energy tail).
    """
    i = int(np.searchsorted(rmf.energ_lo, energy_kev + 1e-6, side="right")) - 1
    row = np.asarray(rmf.matrix.getrow(i).toarray()).ravel()
    centre = 0.5 * (rmf.e_min + rmf.e_max)
    pk = int(np.argmax(row))
    half = 0.5 * row[pk]
    left = pk
    while left > 0 and row[left] > half:
        left -= 1
    right = pk
    while right < row.size - 1 and row[right] > half:
        right += 1
    xl = centre[left] + (half - row[left]) / (row[left + 1] - row[left]) * (centre[left + 1] - centre[left])
    xr = centre[right - 1] + (row[right - 1] - half) / (row[right - 1] - row[right]) * (
        centre[right] - centre[right - 1])
    return {"energy": float(0.5 * (rmf.energ_lo[i] + rmf.energ_hi[i])),
            "centroid": float(0.5 * (xl + xr)), "fwhm": float(xr - xl),
            "row_sum": float(row.sum())}


def _band(arf: Arf, lo: float, hi: float) -> np.ndarray:
    # by row index on the standard grid (be.arf's energy columns are rounded)
    e = 1.62 + 0.04 * np.arange(arf.specresp.size)
    return (e >= lo) & (e <= hi)


def area_agreement(model: Arf, real: Arf, lo: float = 3.0, hi: float = 79.0) -> dict[str, float]:
    """rms of the relative difference, rms difference / mean real area, max |relative|, and the
    number of rows (of ``n_rows``) off by more than 5 %, all over ``lo``–``hi`` keV."""
    s = _band(real, lo, hi)
    rel = model.specresp[s] / real.specresp[s] - 1.0
    d = model.specresp[s] - real.specresp[s]
    return {"rms_rel": float(np.sqrt(np.mean(rel**2))),
            "rms_over_mean": float(np.sqrt(np.mean(d**2)) / real.specresp[s].mean()),
            "max_rel": float(np.abs(rel).max()),
            "n_off_5pct": int(np.count_nonzero(np.abs(rel) > 0.05)), "n_rows": int(rel.size)}


def be_agreement(model: Arf, real: Arf) -> dict[str, float]:
    """Absolute transmission differences over 3–79 keV and over 1.6–3 keV."""
    s = _band(real, 3.0, 79.0)
    low = _band(real, 1.6, 3.0)
    d = model.specresp - real.specresp
    return {"rms_abs": float(np.sqrt(np.mean(d[s] ** 2))), "max_abs": float(np.abs(d[s]).max()),
            "max_abs_low": float(np.abs(d[low]).max())}


def aperture_agreement(model_360: np.ndarray, real_img: str | Path | np.ndarray,
                       scale: float = 3.1865e-5, offset: int = 108) -> dict[str, float]:
    """Correlation and normalised rms of a 360×360 aperture image against the 576×576 original.

    ``rms_norm`` is the rms difference after scaling the model to the real mean, divided by the
    real mean.
    """
    if isinstance(real_img, (str, Path)):
        from astropy.io import fits

        real_img = fits.getdata(real_img)
    real = np.asarray(real_img, dtype=np.float64)[offset:offset + 360, offset:offset + 360] * scale
    m = np.asarray(model_360, dtype=np.float64)
    corr = float(np.corrcoef(m.ravel(), real.ravel())[0, 1])
    mn = m * (real.mean() / m.mean())
    return {"corr": corr, "rms_norm": float(np.sqrt(np.mean((mn - real) ** 2)) / real.mean()),
            "mean_ratio": float(m.mean() / real.mean())}
