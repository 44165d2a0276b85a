"""The regions and spectra stages' views: place the source circle on the 3–20 keV image and see
the background regions the step proposed; plot each region's spectrum.

Data come only from ``nuskybgd.pipeline`` (``views``, ``editing``); saving goes through
:func:`nuskybgd.pipeline.editing.save_source_circle`, which reports the steps it made stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from nuskybgd_tui.product_views import ProductView, _module_of, register_view
from nuskybgd_tui.widgets.image_render import OverlayShape
from nuskybgd_tui.widgets.image_view import ImageView
from nuskybgd_tui.widgets.spectrum_plot import SpectrumData, SpectrumPlot

__all__ = ["RegionEditor", "SpectraView", "region_overlays", "regions_hint"]

#: channels summed per plotted bin (0.4 keV) and the plotted band, keV
GROUP_CHANNELS = 10
PLOT_BAND_KEV = (3.0, 79.0)
#: the regions view opens on the source circle, showing this many of its diameters
SOURCE_VIEW_DIAMETERS = 3.0


def regions_hint(runner: Any, key: str) -> str:
    """What to do first on a regions step whose source region does not exist yet."""
    from nuskybgd.pipeline import editing

    module = _module_of(runner, key)
    try:
        path = editing.source_region_path(runner, module)
    except Exception:  # noqa: BLE001 - no hint is better than a crash
        return ""
    if path.is_file():
        return ""
    return (f"First place the source region: o (Products), move the circle with shift+arrows, "
            f"W saves {path.name}; then r.")


def region_overlays(path: Path, kind: str, reference: Path | None) -> list[OverlayShape]:
    """The circles, boxes and polygons of a ds9 file as overlays (excluded shapes as "exclude")."""
    from nuskybgd.pipeline import views

    out = []
    for shape in views.region_shapes(path, reference):
        p, label = shape["params"], path.stem
        use = kind if shape["include"] else "exclude"
        if shape["kind"] == "circle":
            out.append(OverlayShape(use, "circle", (p["x"], p["y"], p["r"]), label))
        elif shape["kind"] == "box":
            out.append(OverlayShape(use, "box", (p["x"], p["y"], p["width"], p["height"],
                                                 p["angle"]), label))
        elif shape["kind"] == "polygon":
            xy = np.column_stack([p["x"], p["y"]]).ravel()
            out.append(OverlayShape(use, "polygon", tuple(float(v) for v in xy), label))
    return out


class RegionEditor(ProductView):
    """The 3–20 keV image with the source circle (movable) and the proposed background regions.

    Keys: shift+arrows move the circle one sky pixel, ``[``/``]`` shrink/grow it, ``W`` saves it
    as ``bgd/src<m>.reg`` (the regions and spectra steps then read it).
    """

    BINDINGS = [
        Binding("shift+left", "move(-1, 0)", "move source", show=False),
        Binding("shift+right", "move(1, 0)", "move source", show=False),
        Binding("shift+up", "move(0, 1)", "move source", show=False),
        Binding("shift+down", "move(0, -1)", "move source", show=False),
        Binding("left_square_bracket", "resize(-1)", "smaller", show=False),
        Binding("right_square_bracket", "resize(1)", "larger", show=False),
        Binding("W", "save", "save source region"),
    ]

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__()
        self._runner = runner
        self.module = _module_of(runner, key)
        self.outputs = [Path(p) for p in outputs]
        self.circle: Any = None
        self.saved = False

    def compose(self) -> ComposeResult:
        yield Static("", id="region-caption", markup=False)
        yield Static("", id="region-status", markup=False)
        yield ImageView(id="region-image")

    def on_mount(self) -> None:
        from nuskybgd.pipeline import editing, views
        from nuskybgd_tui.pipeline_api import NuskybgdError

        caption = self.query_one("#region-caption", Static)
        try:
            self.circle = editing.propose_source_circle(self._runner, self.module)
            image_path = editing.sky_image_path(self._runner, self.module)
            shown = views.image(image_path)
        except NuskybgdError as exc:
            caption.update(str(exc))
            return
        self.saved = editing.current_source_circle(self._runner, self.module) is not None
        caption.update("shift+arrows move · [ ] size · W save · +/- zoom")
        view = self.query_one(ImageView)
        view.set_image(shown.data, title=image_path.name, overlays=self._overlays(),
                       origin="lower")
        self._rows = shown.data.shape[0]
        self.call_after_refresh(self._zoom_on_source)

    def _zoom_on_source(self) -> None:
        """Centre the view on the circle, zoomed so that it spans about a third of the view
        (drawn rows are flipped: FITS row 0 at the bottom)."""
        view = self.query_one(ImageView)
        if view.data is None or self.circle is None:
            return
        ny, nx = view.data.shape
        cols, rows = max(view.size.width, 1), max(2 * (view.size.height - 1), 1)
        fit_all = max(nx / cols, ny / rows)                     # image pixels per cell, zoom 1
        wanted = SOURCE_VIEW_DIAMETERS * 2 * self.circle.r / min(cols, rows)
        view.zoom = float(np.clip(fit_all / max(wanted, 1e-6), 1.0, 64.0))
        view.centre = (self.circle.x, self._rows - 1 - self.circle.y)
        self._say("saved" if self.saved else "proposed, W saves")

    def _overlays(self) -> list[OverlayShape]:
        from nuskybgd.pipeline import editing

        c, m = self.circle, self.module
        shapes = [OverlayShape("source", "circle", (c.x, c.y, c.r), f"src{m}")]
        reference = editing.sky_image_path(self._runner, m)
        for path in self.outputs:
            if path.suffix == ".reg" and path.is_file():
                try:
                    shapes.extend(region_overlays(path, "background", reference))
                except Exception:  # noqa: BLE001 - an unreadable region is not drawn
                    continue
        return shapes

    def _say(self, state: str) -> None:
        c = self.circle
        self.query_one("#region-status", Static).update(
            f"src{self.module} ({c.x + 1:.0f},{c.y + 1:.0f}) r={c.r * 2.4588:.0f}″: {state}")

    def _redraw(self) -> None:
        self.saved = False
        self.query_one(ImageView).set_overlays(self._overlays())
        self._say("moved, W saves")

    def action_move(self, dx: int, dy: int) -> None:
        if self.circle is not None:
            self.circle = type(self.circle)(self.circle.x + dx, self.circle.y + dy, self.circle.r)
            self._redraw()

    def action_resize(self, dr: int) -> None:
        if self.circle is not None and self.circle.r + dr > 1:
            self.circle = type(self.circle)(self.circle.x, self.circle.y, self.circle.r + dr)
            self._redraw()

    def action_save(self) -> None:
        from nuskybgd.pipeline import editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        if self.circle is None:
            return
        try:
            edit = editing.save_source_circle(self._runner, self.module, self.circle,
                                              overwrite=True)
        except NuskybgdError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self.saved = True
        stale = f"; now stale: {', '.join(edit.stale)}" if edit.stale else ""
        self._say(f"saved {edit.path.name}{stale}")
        refresh = getattr(self.app, "refresh_state", None)
        if callable(refresh):
            refresh()


def spectrum_data(path: Path) -> SpectrumData:
    """A PHA file as counts s⁻¹ keV⁻¹ in 0.4 keV bins over 3–79 keV (Poisson errors)."""
    from nuskybgd.pipeline import views

    spec = views.spectrum(path)
    keep = (spec.energy_kev >= PLOT_BAND_KEV[0]) & (spec.energy_kev < PLOT_BAND_KEV[1])
    energy, counts = spec.energy_kev[keep], spec.counts[keep]
    n = len(counts) // GROUP_CHANNELS * GROUP_CHANNELS
    counts = counts[:n].reshape(-1, GROUP_CHANNELS).sum(1)
    centres = energy[:n].reshape(-1, GROUP_CHANNELS).mean(1)
    width = GROUP_CHANNELS * 0.04 * max(spec.exposure, 1e-9)
    return SpectrumData(centres, counts / width, np.sqrt(counts) / width, label=path.name)


class SpectraView(ProductView):
    """Each spectrum the step wrote, one at a time (``n`` next)."""

    BINDINGS = [Binding("n", "cycle(1)", "next spectrum"),
                Binding("N", "cycle(-1)", "previous spectrum", show=False)]

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__()
        self.spectra = [Path(p) for p in outputs if Path(p).suffix.lower() in (".pha", ".pi")]
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="spectrum-caption", markup=False)
        yield SpectrumPlot(id="spectrum-plot")

    def on_mount(self) -> None:
        self._show()

    def action_cycle(self, step: int) -> None:
        if self.spectra:
            self.index = (self.index + step) % len(self.spectra)
            self._show()

    def _show(self) -> None:
        caption = self.query_one("#spectrum-caption", Static)
        if not self.spectra:
            caption.update("No spectra yet: run the step (r).")
            return
        path = self.spectra[self.index]
        data = spectrum_data(path)
        caption.update(f"{self.index + 1}/{len(self.spectra)} {path.name} (counts s⁻¹ keV⁻¹)"
                       "   n: next spectrum")
        self.query_one(SpectrumPlot).show(data)


register_view("regions")(RegionEditor)
register_view("spectra")(SpectraView)
