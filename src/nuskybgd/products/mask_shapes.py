"""A boolean pixel mask written as ds9 shapes that read back to exactly the same mask.

The mask is cut into axis-aligned rectangles whose edges lie on pixel edges: each row's runs of
selected pixels, merged with identical runs on the rows above and below.  A reader that selects
pixels by their centre (``regions``, ds9, nuproducts' extractor) gets the same pixels back as long
as it places each rectangle edge within half a pixel, because every pixel centre is half a pixel
from the nearest edge.  In ``fk5`` each box is written with the sky angle that makes it
axis-aligned on the image it was cut from (the TAN projection's north direction varies across
the field), so ``regions`` reads it back to the same pixels to floating-point accuracy.
"""

from __future__ import annotations

import numpy as np
from astropy.wcs import WCS

__all__ = ["mask_rectangles", "mask_to_regions"]


def mask_rectangles(mask: np.ndarray) -> np.ndarray:
    """Rectangles covering a mask exactly.

    Parameters
    ----------
    mask : ndarray of bool, shape (ny, nx)

    Returns
    -------
    ndarray of int, shape (n, 4)
        ``x0, x1, y0, y1`` per rectangle: 0-based pixel index ranges, end exclusive.
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return np.zeros((0, 4), dtype=np.int64)
    padded = np.zeros((m.shape[0], m.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = m
    d = np.diff(padded, axis=1)
    ys, xs = np.nonzero(d == 1)  # run starts (row-major order)
    ye, xe = np.nonzero(d == -1)  # run ends (exclusive), same order
    order = np.lexsort((ys, xe, xs))  # group identical runs, rows ascending
    s, e, y = xs[order], xe[order], ys[order]
    new = np.ones(s.size, dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (e[1:] != e[:-1]) | (y[1:] != y[:-1] + 1)
    first = np.nonzero(new)[0]
    last = np.append(first[1:], s.size) - 1
    return np.column_stack([s[first], e[first], y[first], y[last] + 1]).astype(np.int64)


def mask_to_regions(mask: np.ndarray, wcs: WCS | None = None, include: bool = True) -> list:
    """ds9 box shapes (``regions`` objects) covering ``mask`` exactly.

    Parameters
    ----------
    mask : ndarray of bool, shape (ny, nx)
    wcs : astropy.wcs.WCS, optional
        With a WCS the boxes are sky regions (written as ``fk5``); without one pixel regions.
    include : bool
        Make include shapes (True) or exclude shapes.
    """
    from regions import PixCoord, RectanglePixelRegion, RegionMeta

    rect = mask_rectangles(mask)
    out = []
    for x0, x1, y0, y1 in rect:
        reg = RectanglePixelRegion(PixCoord((x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0),
                                   width=float(x1 - x0), height=float(y1 - y0),
                                   meta=RegionMeta({"include": bool(include)}))
        if wcs is not None:
            sky = reg.to_sky(wcs)
            sky.center = sky.center.transform_to("fk5")
            sky.meta = RegionMeta({"include": bool(include)})
            reg = sky
        out.append(reg)
    return out
