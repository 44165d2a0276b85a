"""A half-block image widget: any 2-D array drawn with "▀" cells, zoomable, pannable, with
region and detector outlines on top.  Works over plain SSH: no graphics protocol, readable in
256 colours, and in an ASCII brightness ramp when the terminal shows no colour."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from nuskybgd_tui.widgets.image_render import (
    ASCII_RAMP,
    OVERLAY_GLYPHS,
    OverlayShape,
    Viewport,
    colormap,
    cumulative,
    overlay_mask,
    resample,
    stretch,
    viewport,
)

__all__ = ["ImageView"]

_OVERLAY_COLOURS = {"detector": "#ffffff", "source": "#00ff5f", "background": "#00d7ff",
                    "exclude": "#ff005f", "selected": "#ffff00"}


class ImageView(Widget, can_focus=True):
    """Shows a 2-D image (counts, exposure, a background model) in half-block cells.

    Keys: ``+``/``-`` zoom, arrows (or h j k l) pan, ``s`` switches log/linear stretch,
    ``0`` resets the view.  The last line is a legend: title, zoom, stretch, the value range.
    """

    DEFAULT_CSS = """
    ImageView { height: 1fr; min-height: 6; }
    ImageView:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [
        Binding("plus,equals_sign", "zoom(2.0)", "zoom in", show=False),
        Binding("minus", "zoom(0.5)", "zoom out", show=False),
        Binding("left,h", "pan(-1, 0)", "pan", show=False),
        Binding("right,l", "pan(1, 0)", "pan", show=False),
        Binding("up,k", "pan(0, -1)", "pan", show=False),
        Binding("down,j", "pan(0, 1)", "pan", show=False),
        Binding("s", "toggle_stretch", "stretch", show=False),
        Binding("0", "reset_view", "reset view", show=False),
    ]

    zoom: reactive[float] = reactive(1.0)
    stretch_mode: reactive[str] = reactive("log")
    centre: reactive[tuple[float, float] | None] = reactive(None)

    def __init__(self, data: np.ndarray | None = None, *, title: str = "",
                 overlays: Sequence[OverlayShape] = (), colour: bool | None = None,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._data: np.ndarray | None = None
        self._title = title
        self._overlays: list[OverlayShape] = list(overlays)
        self._colour = colour
        self._strips: list[Strip] | None = None
        self._styles: dict[tuple[int, ...], Style] = {}
        if data is not None:
            self.set_image(data, title=title, overlays=overlays)

    # -- public API --------------------------------------------------------------------------
    def set_image(self, data: np.ndarray, *, title: str = "",
                  overlays: Sequence[OverlayShape] = (), origin: str = "upper") -> None:
        """Show ``data`` (2-D, any units) with ``overlays`` in image pixel coordinates.

        ``origin="lower"`` draws row 0 at the bottom (FITS images, as ds9 shows them).
        """
        array = np.asarray(data)
        if array.ndim != 2:
            raise ValueError(f"an image must be 2-D, got shape {array.shape}")
        if origin == "lower":
            array = np.flipud(array)
            overlays = [s.flipped(array.shape[0]) for s in overlays]
        elif origin != "upper":
            raise ValueError(f"origin must be 'upper' or 'lower', not {origin!r}")
        self._data = array
        self._cum = cumulative(array)
        self._title = title
        self._overlays = list(overlays)
        self.zoom, self.centre = 1.0, None
        self._invalidate()

    def set_overlays(self, overlays: Sequence[OverlayShape]) -> None:
        """Replace the outlines drawn over the image."""
        self._overlays = list(overlays)
        self._invalidate()

    @property
    def data(self) -> np.ndarray | None:
        """The image shown (None before :meth:`set_image`)."""
        return self._data

    @property
    def overlays(self) -> list[OverlayShape]:
        """The outlines drawn over the image."""
        return list(self._overlays)

    @property
    def uses_colour(self) -> bool:
        """Whether cells are coloured half blocks (False: an ASCII brightness ramp)."""
        if self._colour is not None:
            return self._colour
        return not getattr(self.app, "no_color", False)

    def current_viewport(self) -> Viewport | None:
        """The part of the image on screen, or None without an image or space."""
        if self._data is None or self.size.width < 1 or self.size.height < 2:
            return None
        return viewport(self._data.shape, (self.size.width, self.size.height - 1),
                        self.zoom, self.centre)

    # -- actions -----------------------------------------------------------------------------
    def action_zoom(self, factor: float) -> None:
        self.zoom = float(min(max(self.zoom * factor, 1.0), 64.0))

    def action_pan(self, dx: int, dy: int) -> None:
        view = self.current_viewport()
        if view is None or self._data is None:
            return
        cx = view.x0 + view.width * view.scale / 2 + dx * view.width * view.scale / 4
        cy = view.y0 + view.height * view.scale / 2 + dy * view.height * view.scale / 4
        ny, nx = self._data.shape
        self.centre = (float(np.clip(cx, 0, nx)), float(np.clip(cy, 0, ny)))

    def action_toggle_stretch(self) -> None:
        self.stretch_mode = "linear" if self.stretch_mode == "log" else "log"

    def action_reset_view(self) -> None:
        self.zoom, self.centre = 1.0, None

    def watch_zoom(self) -> None:
        self._invalidate()

    def watch_stretch_mode(self) -> None:
        self._invalidate()

    def watch_centre(self) -> None:
        self._invalidate()

    # -- rendering ---------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._strips = None
        self.refresh()

    def on_resize(self) -> None:
        self._invalidate()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(container.height, 6)

    def render_line(self, y: int) -> Strip:
        if self._strips is None or len(self._strips) != self.size.height:
            self._strips = self._render_strips()
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(self.size.width)

    def _style(self, key: tuple[int, ...]) -> Style:
        style = self._styles.get(key)
        if style is None:
            if len(key) == 6:
                style = Style(color=f"rgb({key[0]},{key[1]},{key[2]})",
                              bgcolor=f"rgb({key[3]},{key[4]},{key[5]})")
            else:
                style = Style()
            self._styles[key] = style
        return style

    def _render_strips(self) -> list[Strip]:
        width, height = self.size.width, self.size.height
        view = self.current_viewport()
        if view is None or self._data is None:
            return [Strip.blank(width) for _ in range(height)]
        rows = height - 1
        values = resample(self._data, view, self._cum)
        t = stretch(values, self.stretch_mode)
        marks = overlay_mask(self._overlays, view, rows)
        lines = self._colour_rows(t, marks) if self.uses_colour else self._ascii_rows(t, marks)
        return [*lines, Strip([Segment(self.legend(values)[:width].ljust(width), Style())])]

    def _colour_rows(self, t: np.ndarray, marks: np.ndarray) -> list[Strip]:
        rgb = colormap(t)
        # quantise to 32 levels per channel so the style cache stays small
        rgb = (rgb // 8 * 8 + 4).astype(int)
        top, bottom = rgb[0::2], rgb[1::2]
        if bottom.shape[0] < top.shape[0]:
            bottom = np.vstack([bottom, np.zeros_like(top[:1])])
        strips = []
        for r in range(marks.shape[0]):
            keys = np.concatenate([top[r], bottom[r]], axis=1).tolist()
            segments = []
            for c, key in enumerate(keys):
                mark = marks[r, c]
                if mark >= 0:
                    shape = self._overlays[mark]
                    segments.append(Segment(OVERLAY_GLYPHS.get(shape.kind, "*"), Style(
                        color=_OVERLAY_COLOURS.get(shape.kind, "#ffffff"), bold=True,
                        bgcolor=f"rgb({key[3]},{key[4]},{key[5]})")))
                else:
                    segments.append(Segment("▀", self._style(tuple(key))))
            strips.append(Strip(Segment.simplify(segments)))
        return strips

    def _ascii_rows(self, t: np.ndarray, marks: np.ndarray) -> list[Strip]:
        rows = marks.shape[0]
        pairs = np.nan_to_num(t[: 2 * rows], nan=0.0)
        if pairs.shape[0] < 2 * rows:
            pairs = np.vstack([pairs, np.zeros((2 * rows - pairs.shape[0], pairs.shape[1]))])
        level = (pairs[0::2] + pairs[1::2]) / 2
        index = np.clip(np.round(level * (len(ASCII_RAMP) - 1)).astype(int), 0,
                        len(ASCII_RAMP) - 1)
        chars = np.array(list(ASCII_RAMP))[index]
        glyphs = np.array([OVERLAY_GLYPHS.get(s.kind, "*") for s in self._overlays] + ["?"])
        chars = np.where(marks >= 0, glyphs[marks], chars)
        return [Strip([Segment("".join(row), Style())]) for row in chars.tolist()]

    def legend(self, values: np.ndarray | None = None) -> str:
        """One line: title, zoom, stretch and the range of values on screen."""
        parts = [self._title or "image", f"zoom {self.zoom:g}x", self.stretch_mode]
        if values is not None and np.isfinite(values).any():
            parts.append(f"range {np.nanmin(values):.3g}–{np.nanmax(values):.3g}")
        kinds = sorted({s.kind for s in self._overlays})
        if kinds:
            parts.append(" ".join(f"{OVERLAY_GLYPHS.get(k, '*')}={k}" for k in kinds))
        return " · ".join(parts)
