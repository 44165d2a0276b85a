"""Benchmark: drawing a 1000×1000 counts image in the wizard's half-block widget.

Compares the vectorised pipeline (block means through cumulative sums, stretch, colour map,
region outlines) with a plain reference written here (a Python loop over every image pixel
adding it to its display pixel).  The block means must agree.  Prints both times and the ratio.
The widget redraws on every zoom or pan key, so ours should stay well under 100 ms.
"""

from __future__ import annotations

import time

import numpy as np

from nuskybgd_tui.widgets.image_render import (
    OverlayShape,
    colormap,
    cumulative,
    overlay_mask,
    resample,
    stretch,
    viewport,
)


def block_means_plain(data: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Mean of each display pixel at zoom 1, one image pixel at a time."""
    view = viewport(data.shape, (cols, rows))
    sums = np.zeros((view.height, view.width))
    counts = np.zeros((view.height, view.width))
    ny, nx = data.shape
    for y in range(ny):
        r = int(np.floor((y - view.y0) / view.scale))
        for x in range(nx):
            c = int(np.floor((x - view.x0) / view.scale))
            if 0 <= r < view.height and 0 <= c < view.width:
                sums[r, c] += data[y, x]
                counts[r, c] += 1
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def ours(data: np.ndarray, cols: int, rows: int, shapes, cum) -> np.ndarray:
    view = viewport(data.shape, (cols, rows))
    means = resample(data, view, cum)
    colormap(stretch(means, "log"))
    overlay_mask(shapes, view, rows)
    return means


def main() -> None:
    rng = np.random.default_rng(1)
    data = rng.poisson(0.3, size=(1000, 1000)).astype(float)
    quadrant = np.zeros(data.shape, bool)
    quadrant[:500, :500] = True                # one detector's footprint
    shapes = [OverlayShape("source", "circle", (500.0, 500.0, 60.0)),
              OverlayShape("exclude", "box", (300.0, 700.0, 80.0, 50.0, 30.0)),
              OverlayShape("detector", "mask", (), "det0", quadrant)]
    cols, rows = 100, 50                       # a large terminal: 100 × 100 display pixels
    t0 = time.perf_counter()
    cum = cumulative(data)                     # once per image (when it is loaded)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(10):
        mine = ours(data, cols, rows, shapes, cum)
    t_ours = (time.perf_counter() - t0) / 10
    t0 = time.perf_counter()
    plain = block_means_plain(data, cols, rows)
    t_plain = time.perf_counter() - t0
    inside = np.isfinite(plain)
    assert np.allclose(mine[inside], plain[inside]), "block means differ from the reference"
    print(f"half-block frame of a 1000x1000 image into {cols}x{rows} cells")
    print(f"  ours, once per image (cumulative sum):            {t_load * 1e3:8.1f} ms")
    print(f"  ours, per redraw (resample, stretch, colours, 3 outlines): {t_ours * 1e3:.1f} ms")
    print(f"  plain reference (block means only, pixel loop):   {t_plain * 1e3:8.1f} ms")
    print(f"  ratio plain/ours: {t_plain / t_ours:.0f}x")


if __name__ == "__main__":
    main()
