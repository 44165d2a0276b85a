"""ds9 region files → boolean masks on an image grid.

A region file (ds9 format, sky ``fk5``/``icrs``/``galactic`` or ``image`` coordinates) is read
with the astropy ``regions`` package.  The selected area is the union of the *include* shapes
minus the union of the *exclude* shapes (``-circle(...)``), the rule of CIAO, funtools and
nuproducts; a pixel belongs to a shape when its **centre** is inside it, as for event
filtering.  ``image`` coordinates are the 1-based pixel coordinates of the image the region was
drawn on (ds9 convention); ``regions`` turns them into 0-based ones, which is what the mask
arrays use.

Any line ``regions`` cannot parse is an error (it would otherwise be skipped silently and the
mask would be wrong), and so is a file with no shape in it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.wcs import WCS

from nuskybgd.errors import InputError

__all__ = ["read_regions", "region_mask"]


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
        Missing file, an unparsable line, or no shape at all.
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
        raise InputError(f"region file {p} is not a valid ds9 region file ({exc}); fix or "
                         "re-save it from ds9.", p) from None
    for w in caught:
        text = str(w.message)
        if "unable to parse" in text or "not a valid" in text:
            raise InputError(f"region file {p}: {text.rstrip('.')}; fix that line.", p)
    if len(shapes) == 0:
        raise InputError(f"region file {p} contains no region shape; draw and save one in ds9.", p)
    return list(shapes)


def region_mask(
    path: str | Path,
    shape: tuple[int, int],
    wcs: WCS | None = None,
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

    Returns
    -------
    ndarray of bool, shape ``shape``
        True where the pixel centre lies in (union of includes) minus (union of excludes).

    Raises
    ------
    InputError
        Unreadable file, sky shapes without a WCS.
    """
    p = Path(path)
    include = np.zeros(shape, dtype=bool)
    exclude = np.zeros(shape, dtype=bool)
    any_include = False
    for reg in read_regions(p):
        if not hasattr(reg, "to_mask"):  # a sky region: project it on the image
            if wcs is None:
                raise InputError(f"region file {p} is in sky coordinates but the image has no WCS; "
                                 "give an image with a sky WCS (or a region in image coordinates).", p)
            reg = reg.to_pixel(wcs)
        mask = reg.to_mask(mode="center").to_image(shape)
        selected = np.zeros(shape, dtype=bool) if mask is None else mask.astype(bool)
        if int(reg.meta.get("include", 1)):
            include |= selected
            any_include = True
        else:
            exclude |= selected
    if not any_include:  # exclusions only: everything but them (ds9 behaviour)
        include[:] = True
    return include & ~exclude
