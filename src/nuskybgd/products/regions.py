"""ds9 region files → boolean masks on an image grid.

A region file (ds9 format, sky ``fk5``/``icrs``/``galactic`` or ``image`` coordinates) is read
with the astropy ``regions`` package.  Supported shapes: circle, ellipse, box, polygon and
annulus, each as an include or an exclude (``-circle(...)``).

**Selection rule (order does not matter).**  The selected area is the union of the *include*
shapes minus the union of the *exclude* shapes, the rule of CIAO, funtools and nuproducts'
extractor: an exclude removes its pixels from every include, whether the include is listed
before or after it.  Some readers (ds9's display of "source/background" filters, or tools that
apply shapes one by one) evaluate a file in order, so an include listed *after* an exclude would
re-add the excluded pixels there; :func:`order_warning` says so and :func:`region_mask` passes
that warning on.  A file made only of excludes selects everything but them (ds9 behaviour).

A pixel belongs to a shape when its **centre** is inside it, as for event filtering.
``image`` coordinates are the 1-based pixel coordinates of the image the region was drawn on
(ds9 convention); ``regions`` turns them into 0-based ones, which is what the mask arrays use.

Any line ``regions`` cannot parse is an error (it would otherwise be skipped silently and the
mask would be wrong), and so are a file with no shape in it and an unsupported shape (point,
line, text, …).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from astropy.wcs import WCS

from nuskybgd.errors import InputError

__all__ = [
    "SUPPORTED_SHAPES",
    "order_warning",
    "read_regions",
    "region_mask",
    "shapes_mask",
    "write_circle_region",
    "write_regions",
]

#: ds9 shape names accepted, by ``regions`` class-name stem.
SUPPORTED_SHAPES = {
    "Circle": "circle",
    "Ellipse": "ellipse",
    "Rectangle": "box",
    "Polygon": "polygon",
    "CircleAnnulus": "annulus",
}


def _shape_kind(reg) -> str | None:
    """The ds9 name of a supported shape, or None."""
    name = type(reg).__name__
    for stem, ds9 in SUPPORTED_SHAPES.items():
        if name in (f"{stem}PixelRegion", f"{stem}SkyRegion"):
            return ds9
    return None


def is_included(reg) -> bool:
    """True for an include shape, False for an exclude (``-shape``)."""
    return bool(int(reg.meta.get("include", 1)))


def _parse_problem(exc: Exception) -> str:
    """What was wrong with a ds9 file, in the file's terms rather than the parser's classes."""
    text = str(exc)
    match = re.search(r"(\w+?)(?:Sky|Pixel)Region\.__init__\(\) missing .*?'(\w+)'", text)
    if match:
        return f"a {match.group(1).lower()} shape lacks its {match.group(2)}"
    match = re.search(r"(\w+?)(?:Sky|Pixel)Region\.__init__\(\) takes", text)
    if match:
        return f"a {match.group(1).lower()} shape has too many values"
    return text.rstrip(".")


def read_regions(path: str | Path) -> list:
    """Read the shapes of a ds9 region file.

    Parameters
    ----------
    path : path
        ds9 region file.

    Returns
    -------
    list of regions.Region
        Sky or pixel regions, each with ``meta['include']`` (1 include, 0 exclude).

    Raises
    ------
    InputError
        Missing file, an unparsable line, an unsupported shape, or no shape at all.
    """
    from regions import Regions

    p = Path(path)
    if not p.is_file():
        raise InputError(f"region file {p} does not exist; check the path.", p)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shapes = Regions.read(str(p), format="ds9")
    except Exception as exc:  # regions raises several types for malformed files
        raise InputError(f"region file {p} is not a valid ds9 region file ({_parse_problem(exc)}); "
                         "fix or re-save it from ds9.", p) from None
    for w in caught:
        text = str(w.message)
        if "unable to parse" in text or "not a valid" in text:
            raise InputError(f"region file {p}: {text.rstrip('.')}; fix that line.", p)
    if len(shapes) == 0:
        raise InputError(f"region file {p} contains no region shape; draw and save one in ds9.", p)
    for reg in shapes:
        if _shape_kind(reg) is None:
            kind = type(reg).__name__.replace("PixelRegion", "").replace("SkyRegion", "").lower()
            raise InputError(f"region file {p} holds a {kind} shape, which is not supported; use "
                             "circle, ellipse, box, polygon or annulus shapes.", p)
    return list(shapes)


def order_warning(shapes: Sequence, name: str = "region file") -> str | None:
    """A warning text when an include shape follows an exclude shape, else None.

    nuskybgd (like CIAO, funtools and nuproducts) applies every exclude to every include, so the
    order does not change the mask; a tool that applies shapes in order would give another one.
    """
    seen_exclude = False
    for reg in shapes:
        if not is_included(reg):
            seen_exclude = True
        elif seen_exclude:
            return (f"{name} lists an include shape after an exclude shape; nuskybgd removes every "
                    "excluded area from every include (order-independent, as CIAO and nuproducts "
                    "do), but tools that apply shapes in order may select a different area.")
    return None


def shapes_mask(
    shapes: Sequence,
    shape: tuple[int, int],
    wcs: WCS | None = None,
    name: str = "region file",
) -> np.ndarray:
    """Boolean mask ``[y, x]`` of (union of includes) minus (union of excludes), pixel centres.

    Parameters
    ----------
    shapes : sequence of regions.Region
        Pixel regions (0-based) and/or sky regions.
    shape : (ny, nx)
        Image shape in pixels.
    wcs : astropy.wcs.WCS, optional
        Celestial WCS of the image; required for sky regions.
    name : str
        What to call the shapes in error messages (usually the file name).
    """
    include = np.zeros(shape, dtype=bool)
    exclude = np.zeros(shape, dtype=bool)
    any_include = False
    for reg in shapes:
        if not hasattr(reg, "to_mask"):  # a sky region: project it on the image
            if wcs is None:
                raise InputError(f"{name} is in sky coordinates but the image has no WCS; give an "
                                 "image with a sky WCS (or a region in image coordinates).")
            reg = reg.to_pixel(wcs)
        mask = reg.to_mask(mode="center").to_image(shape)
        selected = np.zeros(shape, dtype=bool) if mask is None else mask.astype(bool)
        if is_included(reg):
            include |= selected
            any_include = True
        else:
            exclude |= selected
    if not any_include:  # exclusions only: everything but them (ds9 behaviour)
        include[:] = True
    return include & ~exclude


def region_mask(
    path: str | Path,
    shape: tuple[int, int],
    wcs: WCS | None = None,
    *,
    require_pixels: bool = False,
    image_name: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> np.ndarray:
    """Boolean mask ``[y, x]`` of the pixels selected by a ds9 region file.

    Parameters
    ----------
    path : path
        ds9 region file.
    shape : (ny, nx)
        Image shape in pixels.
    wcs : astropy.wcs.WCS, optional
        Celestial WCS of the image; required when the file has sky shapes.
    require_pixels : bool
        Raise :class:`InputError` when the region selects no pixel of the image.
    image_name : str, optional
        The image's name for that message.
    warn : callable, optional
        Receives the order warning (:func:`order_warning`); default :func:`warnings.warn`.

    Returns
    -------
    ndarray of bool, shape ``shape``
        True where the pixel centre lies in (union of includes) minus (union of excludes).

    Raises
    ------
    InputError
        Unreadable file, unsupported shape, sky shapes without a WCS, an empty selection when
        ``require_pixels``.
    """
    p = Path(path)
    shapes = read_regions(p)
    text = order_warning(shapes, f"region file {p}")
    if text:
        (warn or (lambda s: warnings.warn(s, UserWarning, stacklevel=3)))(text)
    mask = shapes_mask(shapes, shape, wcs, name=f"region file {p}")
    if require_pixels and not mask.any():
        where = f"image {image_name}" if image_name else f"the {shape[1]}x{shape[0]} image"
        raise InputError(f"region file {p} selects no pixel of {where}; check that it was drawn on "
                         "this observation.", p)
    return mask


def _ds9_line(line: str) -> str:
    """ds9's own spelling: ``fk5`` for ``j2000``, ``-shape`` for an exclude (``regions`` writes
    ``# include=0``, a property older ds9 versions and other readers ignore)."""
    if line.strip() == "j2000":
        return "fk5"
    shape, sep, props = line.partition(" #")
    if not sep:
        return line
    words = props.split()
    exclude = "include=0" in words or "include=False" in words
    rest = [w for w in words if w not in ("include=0", "include=1", "include=False", "include=True")]
    out = ("-" if exclude else "") + shape
    return out + (" # " + " ".join(rest) if rest else "")


def write_regions(shapes: Sequence, path: str | Path, overwrite: bool = False,
                  header: str | None = None) -> Path:
    """Write shapes as a ds9 region file (atomic; refuses to replace unless ``overwrite``).

    Parameters
    ----------
    shapes : sequence of regions.Region
        All sky regions (written in ``fk5``) or all pixel regions (written in ``image``, 1-based).
    path : path
        Output ``.reg`` file.
    overwrite : bool
        Replace an existing file.
    header : str, optional
        Comment lines written at the top (each prefixed with ``# ``).
    """
    from regions import Regions

    from nuskybgd.io.atomic import write_text_atomic

    text = Regions(list(shapes)).serialize(format="ds9", precision=10)
    text = "\n".join(_ds9_line(line) for line in text.splitlines()) + "\n"
    if header:
        lines = text.splitlines()
        comments = [f"# {line}".replace(";", ",") for line in header.splitlines()]
        text = "\n".join(lines[:1] + comments + lines[1:]) + "\n"
    return write_text_atomic(path, text, overwrite=overwrite)


def write_circle_region(path: str | Path, ra: float, dec: float, radius_arcsec: float,
                        overwrite: bool = False) -> Path:
    """Write a one-circle ds9 fk5 source region (e.g. ``srcA.reg`` at a simulated source).

    Parameters
    ----------
    path : path
        Output ``.reg`` file.
    ra, dec : float
        Centre, deg (FK5/J2000).
    radius_arcsec : float
        Radius, arcsec.
    overwrite : bool
        Replace an existing file.
    """
    from nuskybgd.io.atomic import write_text_atomic

    if not (np.isfinite(radius_arcsec) and radius_arcsec > 0):
        raise InputError(f"source region radius {radius_arcsec} is not a positive number of arcsec; "
                         "give a radius such as 60.")
    text = ("# Region file format: DS9 version 4.1\nfk5\n"
            f'circle({float(ra):.8f},{float(dec):.8f},{float(radius_arcsec):.4f}")\n')
    return write_text_atomic(path, text, overwrite=overwrite)
