"""Readers of the image products the image steps write (chip maps, aspect histograms) and the
check of a reference sky image's frame.  Each reader validates what it returns and raises one
:class:`~nuskybgd.errors.InputError` sentence naming the file otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.constants import DET1_PIXEL_DEG, DET1_SIZE
from nuskybgd.errors import InputError
from nuskybgd.io.ogip import open_fits
from nuskybgd.modules import module_of

__all__ = ["read_chipmap", "read_aspect_image", "sky_frame_from_header", "header_float"]


def read_chipmap(path: str | Path) -> tuple[np.ndarray, str | None]:
    """Read a mkinstrmap chip map (HDU 'INSTRMAP', else the first image).

    Returns
    -------
    (ndarray, str or None)
        The (360, 360) ``[y, x]`` map (value = detector + 1, 0 = gap or bad) and its module.
    """
    p = Path(path)
    with open_fits(p, "chip map") as hdul:
        hdu = None
        for h in hdul:
            if str(h.header.get("EXTNAME", "")).strip().upper() == "INSTRMAP" and h.is_image:
                hdu = h
                break
        if hdu is None:
            hdu = next((h for h in hdul if h.is_image and h.data is not None), None)
        if hdu is None or hdu.data is None:
            raise InputError(f"chip map {p} holds no image; make it with 'nuskybgd mkinstrmap'.", p)
        data = np.asarray(hdu.data)
        module = module_of(hdu.header.get("INSTRUME", hdul[0].header.get("INSTRUME")), p, "chip map")
    if data.shape != (DET1_SIZE, DET1_SIZE):
        raise InputError(f"chip map {p} has shape {data.shape[::-1]} (NAXIS1, NAXIS2), not 360×360; give the "
                         "newinstrmap file made by 'nuskybgd mkinstrmap'.", p)
    return data, module


def read_aspect_image(path: str | Path) -> tuple[np.ndarray, int, int, str | None]:
    """Read an aspect histogram image (ours or nuskybgd-py's).

    Returns
    -------
    (ndarray, int, int, str or None)
        Seconds per sky bin ``[y, x]``, X_OFF and Y_OFF (0-based sky bins of column/row 0) and the
        module.
    """
    p = Path(path)
    with open_fits(p, "aspect histogram") as hdul:
        hdu = next((h for h in hdul if h.is_image and h.data is not None and h.data.ndim == 2), None)
        if hdu is None:
            raise InputError(f"aspect histogram {p} holds no 2-D image; make it with 'nuskybgd aspecthist'.", p)
        img = np.asarray(hdu.data, dtype=np.float64)
        hd = hdu.header
        module = module_of(hd.get("INSTRUME", hdul[0].header.get("INSTRUME")), p, "aspect histogram")
        x_off, y_off = int(hd.get("X_OFF", 0)), int(hd.get("Y_OFF", 0))
    if not np.all(np.isfinite(img)) or np.any(img < 0) or not img.sum() > 0:
        raise InputError(f"aspect histogram {p} is empty or has negative/non-finite values; remake it.", p)
    return img, x_off, y_off, module


_WCS_REQUIRED = ("CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2")


def _header_number(header: fits.Header, key: str, path: Path, default: float | None = None) -> float:
    if default is not None and key not in header:
        return default
    return header_float(header, key, path, "reference image")


def sky_frame_from_header(header: fits.Header, path: Path) -> tuple[tuple[int, int], float]:
    """Check a reference-image header; return ((ny, nx), pixel size in deg).

    Accepts CDELT, CD or PC+CDELT forms of the WCS.  The image must be unbinned and uncropped
    (image pixel i = physical X i): LTV must be 0 and LTM 1 when present.
    """
    missing = [k for k in _WCS_REQUIRED if k not in header]
    if missing:
        raise InputError(f"reference image {path} lacks the WCS keyword {missing[0]}; give a sky image made by "
                         "'nuskybgd mkimgs' (or pass --evtfile to build the sky grid).", path)
    for key in ("CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2"):
        _header_number(header, key, path)
    if "CD1_1" in header:
        cd = [_header_number(header, k, path, 0.0) for k in ("CD1_1", "CD2_2", "CD1_2", "CD2_1")]
        scale = float(np.sqrt(abs(cd[0] * cd[1] - cd[2] * cd[3])))
    elif "CDELT1" in header and "CDELT2" in header:
        pc = np.array([[_header_number(header, "PC1_1", path, 1.0), _header_number(header, "PC1_2", path, 0.0)],
                       [_header_number(header, "PC2_1", path, 0.0), _header_number(header, "PC2_2", path, 1.0)]])
        scale = float(np.sqrt(abs(np.linalg.det(pc) * _header_number(header, "CDELT1", path)
                                  * _header_number(header, "CDELT2", path))))
    else:
        raise InputError(f"reference image {path} lacks the WCS keyword CDELT1 (or a CD matrix); give a sky "
                         "image made by 'nuskybgd mkimgs'.", path)
    if abs(scale / DET1_PIXEL_DEG - 1) > 0.01:
        raise InputError(f"reference image {path} has {scale * 3600:.3f}\" pixels, not the unbinned "
                         f"{DET1_PIXEL_DEG * 3600:.4f}\" sky pixels projbgd needs; make it with --bin 1.", path)
    for ax in (1, 2):
        ltv = _header_number(header, f"LTV{ax}", path, 0.0)
        ltm = _header_number(header, f"LTM{ax}_{ax}", path, 1.0)
        if abs(ltv) > 1e-9 or abs(ltm - 1) > 1e-9:
            raise InputError(f"reference image {path} is cropped or binned (LTV{ax}/LTM{ax}_{ax}); give the "
                             "full unbinned sky image.", path)
    ny, nx = int(header.get("NAXIS2", 0)), int(header.get("NAXIS1", 0))
    if nx < 1 or ny < 1:
        raise InputError(f"reference image {path} has no image data (NAXIS1/NAXIS2).", path)
    return (ny, nx), scale


def header_float(header: fits.Header, key: str, path: str | Path, what: str) -> float:
    """A finite number from ``header[key]`` of ``what`` ``path``.

    Raises
    ------
    InputError
        Naming the file and the keyword when it is absent, not a number or not finite.
    """
    path = Path(path)
    if key not in header:
        raise InputError(f"{what} {path} lacks the {key} keyword; add it or remake the file with nuskybgd.", path)
    value = header[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} {path} has {key} = {value!r}, which is not a number; fix the keyword "
                         "or remake the file.", path) from None
    if not np.isfinite(number):
        raise InputError(f"{what} {path} has a non-finite {key}; fix the keyword or remake the file.", path)
    return number
