"""FITS headers of the image products: counts images, instrument maps, aspect histograms and
projected background images.  Pure functions (values in, header out); provenance is stamped by
the caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from astropy.io import fits

from nuskybgd.constants import DET1_PIXEL_DEG, N_DETECTORS
from nuskybgd.products.images import OBS_KEYWORDS, det1_image_header, sky_image_header

__all__ = [
    "counts_image_header",
    "instrmap_header",
    "aspect_histogram_header",
    "projected_image_header",
    "STALE_KEYS",
]

#: keywords of a counts image that are meaningless in a projbgd product
STALE_KEYS: tuple[str, ...] = ("BUNIT", "TOTCTS", "CHANMIN", "CHANMAX", "CHANTYPE", "E_MIN", "E_MAX",
                               "HDUCLAS2", "CHECKSUM", "DATASUM")


def _copy_keywords(header: fits.Header, source: Mapping[str, Any], keys) -> None:
    for key in keys:
        value = source.get(key)
        if value is not None:
            header[key] = value


def counts_image_header(observation: Mapping[str, Any], wcs: dict | None, binning: int,
                        pi_range: tuple[int, int], band_text: str, total: int) -> fits.Header:
    """Header of a counts image.

    Parameters
    ----------
    observation : mapping
        Observation keywords (OBS_KEYWORDS) from the event file.
    wcs : dict or None
        Sky WCS (``ctype, crpix, crval, cdelt, cunit``) of X/Y; None for a DET1 image.
    binning : int
        Image binning factor.
    pi_range : (int, int)
        Lowest and highest PI channel included.
    band_text : str
        The requested band as written ("3-20 keV").
    total : int
        Total counts.
    """
    pi_min, pi_max = pi_range
    hdr = fits.Header()
    hdr["HDUCLASS"] = ("OGIP", "format conforms to OGIP/GSFC conventions")
    hdr["HDUCLAS1"] = ("IMAGE", "extension contains an image")
    hdr["HDUCLAS2"] = ("ALL", "")
    _copy_keywords(hdr, observation, OBS_KEYWORDS)
    hdr.update(det1_image_header(binning) if wcs is None else sky_image_header(wcs, binning))
    hdr["BUNIT"] = ("count", "")
    hdr["TOTCTS"] = (int(total), "total counts in the image")
    hdr["CHANMIN"] = (pi_min, "lowest PI channel included")
    hdr["CHANMAX"] = (pi_max, "highest PI channel included")
    hdr["CHANTYPE"] = ("PI", "energy channel")
    hdr["E_MIN"] = (round(1.6 + 0.04 * pi_min, 6), "[keV] lower edge of the band (channel edge)")
    hdr["E_MAX"] = (round(1.6 + 0.04 * (pi_max + 1), 6), "[keV] upper edge of the band (channel edge)")
    hdr["BAND"] = (band_text, "requested energy band")
    return hdr


def instrmap_header(observation: Mapping[str, Any], module: str, bad_fraction: float, n_bad_raw: int,
                    pixels_per_detector: list[int]) -> fits.Header:
    """Header of ``newinstrmap{A,B}.fits`` (value k = detector DET(k-1); 0 = gap or bad)."""
    hdr = fits.Header()
    hdr["EXTNAME"] = ("INSTRMAP", "name kept for nuskybgd-py compatibility")
    _copy_keywords(hdr, observation, ("TELESCOP", "INSTRUME", "OBS_ID", "OBJECT", "DATE-OBS", "DATE-END",
                                      "TSTART", "TSTOP"))
    for ax, name in ((1, "DET1X"), (2, "DET1Y")):
        hdr[f"CTYPE{ax}"] = name
        hdr[f"CRPIX{ax}"] = 180.5
        hdr[f"CRVAL{ax}"] = 0.0
        hdr[f"CDELT{ax}"] = DET1_PIXEL_DEG
        hdr[f"CUNIT{ax}"] = "deg"
    hdr["CONTENT"] = (f"NuSTAR FPM{module} DET1 detector map, value DET_ID+1", "")
    hdr["BADFRAC"] = (bad_fraction, "mask RAW pixels bad for more than this fraction")
    hdr["NBADRAW"] = (int(n_bad_raw), "RAW pixels masked as bad")
    for d in range(N_DETECTORS):
        hdr[f"NPIXDET{d}"] = (int(pixels_per_detector[d]), f"active good DET1 sub-pixels of DET{d}")
    hdr.add_comment("Value k = detector DET(k-1); 0 = gap, inactive or bad pixel.")
    hdr.add_comment("Bad: >80% of the observation (union of intervals) or disabled on board.")
    return hdr


def aspect_histogram_header(observation: Mapping[str, Any], hist, clip_to_gti: bool) -> fits.Header:
    """Header of ``aspecthist{A,B}.fits`` for a :class:`~nuskybgd.geometry.aspect.AspectHistogram`."""
    hdr = fits.Header()
    hdr["EXTNAME"] = ("ASPECT_HISTOGRAM", "")
    # the observation keywords (a superset of nuskybgd-py's list); EXPOSURE is set below
    _copy_keywords(hdr, observation, OBS_KEYWORDS)
    hdr["X_OFF"] = (int(hist.x_off), "0-based sky bin (floor X_DET1) of column 0")
    hdr["Y_OFF"] = (int(hist.y_off), "0-based sky bin (floor Y_DET1) of row 0")
    hdr["EXPOSURE"] = (float(hist.exposure), "[s] sum of the histogram")
    hdr["BUNIT"] = ("s", "")
    hdr["NSAMPLES"] = (int(hist.n_samples), "aspect samples used")
    hdr["DT_CLIP"] = (bool(clip_to_gti), "weights clipped at the GTI stop")
    hdr.add_comment("Pixel [y, x] holds the seconds during which DET1 pixel (350,350) had "
                    "floor(X) = x + X_OFF and floor(Y) = y + Y_OFF (sky pixels).")
    return hdr


def projected_image_header(reference: fits.Header, projection, pa_deg: float, module: str,
                           kind: str) -> fits.Header:
    """Header of a projbgd product: ``kind`` "bgdap" or a detector number "0".."3".

    ``reference`` is the sky image's header (WCS), ``projection`` the result of
    :func:`~nuskybgd.geometry.projbgd.project_maps` (roll, aspect peak, exposure) and ``pa_deg``
    the reference image's PA_PNT (deg).
    """
    h = reference.copy()
    for k in STALE_KEYS:
        h.remove(k, ignore_missing=True, remove_all=True)
    h["PA_PNT"] = (pa_deg, "[deg] roll from the reference image")
    mapping = getattr(projection, "mapping", None)
    map_kind = mapping.kind if mapping is not None else "original"
    h["ROLL_EFF"] = (projection.roll_deg, "[deg] roll of the DET1->sky mapping")
    h["SKYMAP"] = (map_kind, "DET1->sky mapping: original/nominal/events")
    if mapping is not None:
        h["MAPDET1X"] = (round(mapping.det1_ref[0], 4), "DET1X at the aspect bin's sky point")
        h["MAPDET1Y"] = (round(mapping.det1_ref[1], 4), "DET1Y at the aspect bin's sky point")
    h["ASPPEAKX"] = (projection.peak[0], "0-based sky bin of aspect peak (x)")
    h["ASPPEAKY"] = (projection.peak[1], "0-based sky bin of aspect peak (y)")
    h["ASPEXPO"] = (projection.exposure, "[s] aspect-histogram exposure")
    h["MODULE"] = (module, "NuSTAR module of the projected maps")
    if kind == "bgdap":
        h["BUNIT"] = ("ct/(1e5 s pixel)", "10-15 keV aperture CXB counts per 100 ks")
        h["CONTENT"] = ("aperture stray-light image (nuskybgd bgdap)", "")
    else:
        h["BUNIT"] = ("", "fraction of exposure on the detector")
        h["CONTENT"] = (f"detector DET{kind} exposure fraction", "")
    return h
