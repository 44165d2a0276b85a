"""Counts images in sky (X, Y) or DET1 (DET1X, DET1Y) coordinates, as xselect makes them.

* Sky images: the event file's tangent-plane WCS (from the X/Y column keywords TCTYP/TCRPX/
  TCRVL/TCDLT), 1000×1000 when unbinned, image pixel (i, j) (1-based) = event (X, Y).
* DET1 images: 360×360, image pixel i = DET1X i; linear WCS in mm as xselect writes
  (``CTYPE1='DET1X'``, ``CRPIX1=0``, ``CDELT1=0.12096``).
* Binning by N: image pixel i holds physical pixels ``(i−1)·N+1 … i·N``; the WCS and the
  physical (LTV/LTM) keywords are adjusted the way xselect does.

Arrays are indexed ``[y, x]``.  Energy selection uses :func:`nuskybgd.energy.band_to_pi` (channels
wholly inside the band; 3–20 keV → PI 35–459).
"""

from __future__ import annotations

import math

import numpy as np
from astropy.io import fits

from nuskybgd.constants import DET1_PIXEL_MM

__all__ = [
    "counts_image",
    "image_name",
    "band_label",
    "sky_image_header",
    "det1_image_header",
    "OBS_KEYWORDS",
]

#: Observation keywords copied from the event file into image headers (when present).
OBS_KEYWORDS: tuple[str, ...] = (
    "TELESCOP", "INSTRUME", "OBS_ID", "TARG_ID", "OBJECT", "RA_OBJ", "DEC_OBJ", "RA_NOM",
    "DEC_NOM", "RA_PNT", "DEC_PNT", "PA_PNT", "EQUINOX", "RADECSYS", "TASSIGN", "TIMESYS",
    "MJDREFI", "MJDREFF", "TIMEREF", "TIMEUNIT", "CLOCKAPP", "TSTART", "TSTOP", "TELAPSE",
    "DATE-OBS", "DATE-END", "ONTIME", "EXPOSURE", "LIVETIME", "DEADC", "MJD-OBS", "DEPTHCUT",
    "OBSMODE",
)


def counts_image(
    x: np.ndarray,
    y: np.ndarray,
    size: int,
    binning: int = 1,
    *,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Bin integer pixel positions into an image.

    Parameters
    ----------
    x, y : int arrays
        1-based physical pixel numbers (X/Y or DET1X/DET1Y).  Values outside 1..size (TNULL
        −1/−4095, off-frame) are ignored.
    size : int
        Physical frame size (1000 for sky, 360 for DET1).
    binning : int
        Binning factor N ≥ 1; the image has ceil(size/N) pixels per side.

    Returns
    -------
    ndarray int32 (n, n), counts; ``img[j−1, i−1]`` holds the events of image pixel (i, j).
    """
    if binning < 1:
        raise ValueError("binning must be a positive integer")
    n = int(math.ceil(size / binning))
    xi = np.asarray(x, dtype=np.int64)
    yi = np.asarray(y, dtype=np.int64)
    ok = (xi >= 1) & (xi <= size) & (yi >= 1) & (yi <= size)
    ix = (xi[ok] - 1) // binning
    iy = (yi[ok] - 1) // binning
    w = None if weights is None else np.asarray(weights)[ok]
    img = np.bincount(iy * n + ix, weights=w, minlength=n * n)
    if weights is None:
        return img.astype(np.int32).reshape(n, n)
    return img.reshape(n, n)


def band_label(elow: float | str, ehigh: float | str) -> str:
    """``'3to20keV'``: numbers as given (strings kept verbatim), floats in shortest form."""
    def fmt(v: float | str) -> str:
        return v if isinstance(v, str) else f"{v:g}"

    return f"{fmt(elow)}to{fmt(ehigh)}keV"


def image_name(event_file: str, elow: float | str, ehigh: float | str, det1: bool = False) -> str:
    """nustar-gen-utils image name: ``nu<seq>A01_cl.evt`` → ``nu<seq>A01_cl_3to20keV[_det1].fits``."""
    name = event_file
    if name.endswith(".gz"):
        name = name[:-3]
    stem = name.rsplit(".", 1)[0] if "." in name.rsplit("/", 1)[-1] else name
    return f"{stem}_{band_label(elow, ehigh)}{'_det1' if det1 else ''}.fits"


def _physical_cards(header: fits.Header, axis: int, ctype: str, binning: int) -> None:
    header[f"WCSTY{axis}P"] = "PHYSICAL"
    header[f"LTV{axis}"] = (0.5 - 0.5 / binning, "offset for physical to image pixel")
    header[f"LTM{axis}_{axis}"] = (1.0 / binning, "slope for physical to image pixel")
    header[f"CTYPE{axis}P"] = (ctype, "source of axis")
    header[f"CRPIX{axis}P"] = (1.0, "image pixel of the physical reference")
    header[f"CRVAL{axis}P"] = (0.5 + 0.5 * binning, "physical coordinate of image pixel 1")
    header[f"CDELT{axis}P"] = (float(binning), "physical pixels per image pixel")


def sky_image_header(
    wcs_keys: dict,
    binning: int = 1,
) -> fits.Header:
    """WCS part of a sky image header.

    Parameters
    ----------
    wcs_keys : dict
        ``ctype``, ``crpix``, ``crval``, ``cdelt`` (2-tuples, axis X then Y) and optional
        ``cunit`` — the X/Y column keywords TCTYP/TCRPX/TCRVL/TCDLT/TCUNI of the event file,
        in physical pixels.
    binning : int
    """
    h = fits.Header()
    h["WCSNAMEP"] = "PHYSICAL"
    for ax in (1, 2):
        k = ax - 1
        h[f"CTYPE{ax}"] = (str(wcs_keys["ctype"][k]), "projection")
        h[f"CRPIX{ax}"] = ((float(wcs_keys["crpix"][k]) - 0.5) / binning + 0.5, "reference pixel")
        h[f"CRVAL{ax}"] = (float(wcs_keys["crval"][k]), "coordinate at the reference pixel [deg]")
        h[f"CDELT{ax}"] = (float(wcs_keys["cdelt"][k]) * binning, "pixel size [deg]")
        h[f"CUNIT{ax}"] = (str((wcs_keys.get("cunit") or ("deg", "deg"))[k]) or "deg", "")
    h["IMGBIN"] = (int(binning), "image binning factor")
    for ax, name in ((1, "X"), (2, "Y")):
        _physical_cards(h, ax, name, binning)
    return h


def det1_image_header(binning: int = 1) -> fits.Header:
    """WCS part of a DET1 image header (linear, mm; pixel i ↔ DET1X i when unbinned)."""
    h = fits.Header()
    h["WCSNAMEP"] = "PHYSICAL"
    for ax, name in ((1, "DET1X"), (2, "DET1Y")):
        h[f"CTYPE{ax}"] = (name, "DET1 coordinate")
        h[f"CRPIX{ax}"] = (0.5 - 0.5 / binning, "reference pixel")
        h[f"CRVAL{ax}"] = (0.0, "coordinate at the reference pixel [mm]")
        h[f"CDELT{ax}"] = (DET1_PIXEL_MM * binning, "pixel size [mm]")
        h[f"CUNIT{ax}"] = ("mm", "")
    h["IMGBIN"] = (int(binning), "image binning factor")
    for ax, name in ((1, "DET1X"), (2, "DET1Y")):
        _physical_cards(h, ax, name, binning)
    return h
