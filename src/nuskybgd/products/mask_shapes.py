"""A boolean pixel mask written as ds9 shapes that read back to exactly the same mask.

Two forms, both with every edge on a pixel edge:

* **polygons** (default): each boundary of the mask traced along pixel edges — outer boundaries
  as include polygons, holes as exclude polygons.  Compact (one shape per boundary).  A mask with
  an island inside a hole cannot be written this way under the include-minus-exclude rule; it is
  detected (the shapes are read back and compared) and written as boxes instead.
* **boxes**: the mask is cut into axis-aligned rectangles whose edges lie on pixel edges: each row's runs of
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

__all__ = ["mask_boundaries", "mask_rectangles", "mask_to_regions"]

_LEFT_TURN_ORDER = {  # for an incoming direction, outgoing directions by preference: left, straight, right
    (1, 0): [(0, 1), (1, 0), (0, -1)],
    (0, 1): [(-1, 0), (0, 1), (1, 0)],
    (-1, 0): [(0, -1), (-1, 0), (0, 1)],
    (0, -1): [(1, 0), (0, -1), (-1, 0)],
}


def _boundary_edges(m: np.ndarray) -> np.ndarray:
    """Directed pixel edges between selected and unselected pixels, interior on the left.

    Returns rows (x0, y0, x1, y1) in corner coordinates: corner (cx, cy) is the lower-left
    corner of pixel index (cx, cy).
    """
    p = np.zeros((m.shape[0] + 2, m.shape[1] + 2), dtype=bool)
    p[1:-1, 1:-1] = m
    inside = p[1:-1, 1:-1]
    parts = []
    j, i = np.nonzero(inside & ~p[:-2, 1:-1])  # bottom edges: +x
    parts.append(np.column_stack([i, j, i + 1, j]))
    j, i = np.nonzero(inside & ~p[1:-1, 2:])  # right edges: +y
    parts.append(np.column_stack([i + 1, j, i + 1, j + 1]))
    j, i = np.nonzero(inside & ~p[2:, 1:-1])  # top edges: -x
    parts.append(np.column_stack([i + 1, j + 1, i, j + 1]))
    j, i = np.nonzero(inside & ~p[1:-1, :-2])  # left edges: -y
    parts.append(np.column_stack([i, j + 1, i, j]))
    return np.concatenate(parts).astype(np.int64)


def mask_boundaries(mask: np.ndarray) -> list[np.ndarray]:
    """Closed boundaries of a mask along pixel edges.

    Returns
    -------
    list of ndarray, shape (n, 2)
        Corner coordinates (x, y) of each loop's vertices (collinear ones dropped); corner
        (cx, cy) is at 0-based pixel position (cx − 0.5, cy − 0.5).  Outer boundaries run
        counter-clockwise (positive area), holes clockwise.
    """
    edges = _boundary_edges(np.asarray(mask, dtype=bool))
    if edges.size == 0:
        return []
    out: dict[tuple[int, int], list[int]] = {}
    for k, (x0, y0, _, _) in enumerate(edges.tolist()):
        out.setdefault((x0, y0), []).append(k)
    used = np.zeros(len(edges), dtype=bool)
    loops = []
    for first in range(len(edges)):  # one pass per boundary edge (not per pixel)
        if used[first]:
            continue
        pts, k = [], first
        while not used[k]:
            used[k] = True
            x0, y0, x1, y1 = edges[k].tolist()
            pts.append((x0, y0))
            d = (x1 - x0, y1 - y0)
            nxt = [e for e in out.get((x1, y1), []) if not used[e]]
            if not nxt:
                break
            by_dir = {(int(edges[e, 2] - x1), int(edges[e, 3] - y1)): e for e in nxt}
            k = next(by_dir[o] for o in _LEFT_TURN_ORDER[d] if o in by_dir)
        v = np.asarray(pts, dtype=np.int64)
        prev, nxt_v = np.roll(v, 1, axis=0), np.roll(v, -1, axis=0)
        turn = (v[:, 0] - prev[:, 0]) * (nxt_v[:, 1] - v[:, 1]) - (v[:, 1] - prev[:, 1]) * (nxt_v[:, 0] - v[:, 0])
        loops.append(v[turn != 0])
    return loops


def _signed_area(v: np.ndarray) -> float:
    x, y = v[:, 0].astype(float), v[:, 1].astype(float)
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


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


def mask_to_regions(mask: np.ndarray, wcs: WCS | None = None, include: bool = True,
                    form: str = "polygons") -> list:
    """ds9 shapes (``regions`` objects) that select exactly the pixels of ``mask``.

    Parameters
    ----------
    mask : ndarray of bool, shape (ny, nx)
    wcs : astropy.wcs.WCS, optional
        With a WCS the shapes are sky regions (written as ``fk5``); without one pixel regions.
    include : bool
        Boxes only: make include shapes (True) or exclude shapes.
    form : {"polygons", "boxes"}
        Boundary polygons (checked by reading them back; boxes when they cannot express the
        mask) or boxes.
    """
    if form == "polygons":
        shapes = _polygons(mask, wcs)
        if shapes is not None:
            return shapes
    return _boxes(mask, wcs, include)


def _polygons(mask: np.ndarray, wcs: WCS | None) -> list | None:
    from regions import PixCoord, PolygonPixelRegion, RegionMeta

    from nuskybgd.products.regions import shapes_mask

    loops = mask_boundaries(mask)
    if not loops:
        return None
    shapes = []
    for v in sorted(loops, key=_signed_area, reverse=True):  # includes first, then holes
        keep = _signed_area(v) > 0
        reg = PolygonPixelRegion(PixCoord(v[:, 0] - 0.5, v[:, 1] - 0.5), meta=RegionMeta({"include": keep}))
        if wcs is not None:
            sky = reg.to_sky(wcs)
            sky.vertices = sky.vertices.transform_to("fk5")
            sky.meta = RegionMeta({"include": keep})
            reg = sky
        shapes.append(reg)
    if not np.array_equal(shapes_mask(shapes, mask.shape, wcs), np.asarray(mask, dtype=bool)):
        return None  # e.g. an island inside a hole
    return shapes


def _boxes(mask: np.ndarray, wcs: WCS | None, include: bool) -> list:
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
