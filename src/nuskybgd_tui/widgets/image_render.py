"""Turning a 2-D image into terminal cells: resampling, stretch, colour map and overlays.

Pure numpy, no Textual: :class:`~nuskybgd_tui.widgets.image_view.ImageView` draws what these
functions compute.  A terminal cell shows two image pixels stacked vertically (the upper half
block "▀" in the foreground colour over the background colour), so a cell column is one display
pixel wide and a cell row two display pixels tall; display pixels are square on most fonts.

Coordinates of overlays are image pixel coordinates as ds9 shows them: the centre of the first
pixel is (1, 1), x runs along a row (the second array axis), y along a column (the first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Viewport", "OverlayShape", "viewport", "cumulative", "resample", "stretch", "colormap",
           "overlay_mask", "ASCII_RAMP", "OVERLAY_GLYPHS"]

#: characters from dark to bright, for terminals read without colour
ASCII_RAMP = " .:-=+*#%@"

#: glyph of an overlay's outline by kind (readable without colour)
OVERLAY_GLYPHS = {"detector": ":", "source": "o", "background": "+", "exclude": "x",
                  "selected": "#"}

# a perceptually ordered map (dark blue → green → yellow) that survives 256-colour quantisation
_ANCHORS = np.array([[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137],
                     [219, 92, 104], [244, 136, 73], [254, 188, 43], [240, 249, 33]], float)


@dataclass(frozen=True)
class Viewport:
    """Which part of the image the widget shows.

    Attributes
    ----------
    x0, y0 : float
        Array coordinates (0-based, pixel edges) of the upper-left corner of the view.
    scale : float
        Image pixels per display pixel (> 1 when zoomed out).
    width, height : int
        Size of the view in display pixels (cells across, two per cell down).
    """

    x0: float
    y0: float
    scale: float
    width: int
    height: int

    def x_centres(self) -> np.ndarray:
        """Array x coordinate (0-based, pixel centres at integers) of each display column."""
        return self.x0 + (np.arange(self.width) + 0.5) * self.scale - 0.5

    def y_centres(self) -> np.ndarray:
        """Array y coordinate (0-based) of each display row, top row first."""
        return self.y0 + (np.arange(self.height) + 0.5) * self.scale - 0.5


@dataclass(frozen=True)
class OverlayShape:
    """A region or outline to draw over the image, in image pixel coordinates (ds9 "image").

    Attributes
    ----------
    kind : str
        "source", "background", "exclude", "detector" or "selected" (the shape being edited;
        chooses glyph and colour).
    shape : str
        "circle" (params x, y, r), "box" (x, y, width, height, angle in degrees),
        "polygon" (params x1, y1, x2, y2, ...) or "mask" (the edge of ``mask``).
    params : tuple of float
        The shape's numbers, pixels (and degrees for a box angle).
    label : str
        Shown in the widget's legend.
    mask : ndarray of bool, optional
        For "mask": a footprint on the image's grid (same shape, same row order).
    """

    kind: str
    shape: str
    params: tuple[float, ...] = ()
    label: str = ""
    mask: np.ndarray | None = None

    def flipped(self, ny: int) -> OverlayShape:
        """The same outline on the image flipped upside down (``ny`` rows)."""
        p = list(self.params)
        if self.shape == "mask":
            return OverlayShape(self.kind, self.shape, (), self.label, np.flipud(self.mask))
        if self.shape in ("circle", "box"):
            p[1] = ny + 1 - p[1]
            if self.shape == "box" and len(p) > 4:
                p[4] = -p[4]
        elif self.shape == "polygon":
            p[1::2] = [ny + 1 - y for y in p[1::2]]
        return OverlayShape(self.kind, self.shape, tuple(p), self.label)


def viewport(shape: tuple[int, int], cells: tuple[int, int], zoom: float = 1.0,
             centre: tuple[float, float] | None = None) -> Viewport:
    """The view of an image of ``shape`` (ny, nx) in ``cells`` (columns, rows) at ``zoom``.

    At zoom 1 the whole image fits; ``centre`` is the array (x, y) at the middle of the view,
    the image centre by default.
    """
    ny, nx = shape
    width, height = max(int(cells[0]), 1), max(2 * int(cells[1]), 1)
    scale = max(nx / width, ny / height) / max(zoom, 1e-6)
    cx, cy = centre if centre is not None else (nx / 2.0, ny / 2.0)
    return Viewport(cx - width * scale / 2.0, cy - height * scale / 2.0, scale, width, height)


def _bin_axis(n: int, start: float, scale: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer edges of each display pixel along one axis, and which display pixels lie inside."""
    edges = np.floor(start + np.arange(count + 1) * scale).astype(np.int64)
    lo, hi = edges[:-1], np.maximum(edges[1:], edges[:-1] + 1)
    inside = (hi > 0) & (lo < n)
    return np.clip(lo, 0, n - 1), np.clip(hi, 1, n), inside


def cumulative(data: np.ndarray) -> np.ndarray:
    """The 2-D cumulative sum (with a leading row and column of zeros) that :func:`resample`
    uses; compute it once per image and pass it to every redraw."""
    img = np.nan_to_num(np.asarray(data, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    cum = np.zeros((img.shape[0] + 1, img.shape[1] + 1))
    np.cumsum(img, axis=0, out=cum[1:, 1:])
    np.cumsum(cum[1:, 1:], axis=1, out=cum[1:, 1:])
    return cum


def resample(data: np.ndarray, view: Viewport, cum: np.ndarray | None = None) -> np.ndarray:
    """The image averaged over each display pixel; NaN outside the image.

    Zoomed out, every image pixel counts (block means through cumulative sums, so sparse counts
    images keep their photons); zoomed in, a display pixel takes the image pixel it lies in.
    ``cum`` is :func:`cumulative` of ``data`` when already known.
    """
    ny, nx = np.shape(data)
    xlo, xhi, xin = _bin_axis(nx, view.x0, view.scale, view.width)
    ylo, yhi, yin = _bin_axis(ny, view.y0, view.scale, view.height)
    if cum is None:
        cum = cumulative(data)
    total = (cum[np.ix_(yhi, xhi)] - cum[np.ix_(ylo, xhi)]
             - cum[np.ix_(yhi, xlo)] + cum[np.ix_(ylo, xlo)])
    area = np.outer(yhi - ylo, xhi - xlo)
    out = total / area
    out[~np.outer(yin, xin)] = np.nan
    return out


def stretch(values: np.ndarray, mode: str = "log") -> np.ndarray:
    """Map values to [0, 1]: "linear" between the minimum and the 99.5th percentile, or "log"
    (the same range compressed logarithmically, for counts images dominated by a few sources).
    NaN stays NaN."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.full(values.shape, np.nan)
    lo = float(finite.min())
    positive = finite[finite > lo]
    hi = float(np.percentile(positive, 99.5)) if positive.size else lo + 1.0
    hi = hi if hi > lo else lo + 1.0
    t = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    if mode == "log":
        t = np.log10(1.0 + 999.0 * t) / 3.0
    elif mode != "linear":
        raise ValueError(f"unknown stretch {mode!r}; use 'log' or 'linear'")
    return t


def colormap(t: np.ndarray) -> np.ndarray:
    """RGB (uint8, last axis) of stretched values in [0, 1]; NaN (outside) is black."""
    pos = np.nan_to_num(t, nan=0.0) * (len(_ANCHORS) - 1)
    i = np.clip(np.floor(pos).astype(int), 0, len(_ANCHORS) - 2)
    f = (pos - i)[..., None]
    rgb = _ANCHORS[i] * (1 - f) + _ANCHORS[i + 1] * f
    rgb[~np.isfinite(t)] = 0.0
    return np.round(rgb).astype(np.uint8)


def _outline_points(shape: OverlayShape, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along the outline of ``shape``, at most ``spacing`` image pixels apart, in edge
    coordinates (pixel i of the array spans [i, i + 1); ds9's x is the array's x + 1/2)."""
    p = shape.params
    if shape.shape == "mask":
        m = np.asarray(shape.mask, bool)
        inner = np.zeros_like(m)
        inner[1:-1, 1:-1] = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
        ys, xs = np.nonzero(m & ~inner)
        return xs + 0.5, ys + 0.5
    if shape.shape == "circle":
        count = max(int(np.ceil(2 * np.pi * p[2] / spacing)), 8)
        theta = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
        return p[0] - 0.5 + p[2] * np.cos(theta), p[1] - 0.5 + p[2] * np.sin(theta)
    if shape.shape == "box":
        w, h = p[2] / 2, p[3] / 2
        ang = np.radians(p[4] if len(p) > 4 else 0.0)
        c, s = np.cos(ang), np.sin(ang)
        corners = [(p[0] + c * u - s * v, p[1] + s * u + c * v)
                   for u, v in ((-w, -h), (w, -h), (w, h), (-w, h))]
    elif shape.shape == "polygon":
        corners = [(p[i], p[i + 1]) for i in range(0, len(p) - 1, 2)]
    else:
        raise ValueError(f"unknown overlay shape {shape.shape!r}")
    xs, ys = [], []
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        count = max(int(np.ceil(np.hypot(bx - ax, by - ay) / spacing)), 1) + 1
        u = np.linspace(0.0, 1.0, count)
        xs.append(ax + u * (bx - ax) - 0.5)
        ys.append(ay + u * (by - ay) - 0.5)
    return np.concatenate(xs), np.concatenate(ys)


def overlay_mask(shapes: list[OverlayShape], view: Viewport, rows: int) -> np.ndarray:
    """Index (into ``shapes``, -1 for none) of the outline drawn in each cell (rows × columns).

    A cell is marked when the outline passes through it (a one-cell line); later shapes draw
    over earlier ones.
    """
    out = np.full((rows, view.width), -1, dtype=int)
    spacing = view.scale / 3.0
    for index, shape in enumerate(shapes):
        x, y = _outline_points(shape, spacing)
        col = np.floor((x - view.x0) / view.scale).astype(int)
        row = np.floor((y - view.y0) / (2 * view.scale)).astype(int)
        keep = (col >= 0) & (col < view.width) & (row >= 0) & (row < rows)
        out[row[keep], col[keep]] = index
    return out
