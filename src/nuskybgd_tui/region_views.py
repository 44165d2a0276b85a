"""The regions and spectra stages' views: edit the source circle, its exclusion and the user's
exclusion and hand-drawn background shapes on the 3–20 keV image, see the background regions
the step cut; plot each region's spectrum.

Data come only from ``nuskybgd.pipeline`` (``views``, ``editing``); saving goes through
:func:`nuskybgd.pipeline.editing.save_region_set`, which reports the steps it made stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from nuskybgd_tui.product_views import ProductView, _module_of, register_view
from nuskybgd_tui.widgets.image_render import OverlayShape
from nuskybgd_tui.widgets.image_view import ImageView
from nuskybgd_tui.widgets.spectrum_plot import SpectrumData, SpectrumPlot

__all__ = ["RegionEditor", "SpectraView", "region_overlays", "regions_hint", "EDITOR_KEYS"]

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
    """The circles, boxes and polygons of a ds9 file as overlays (excluded shapes as "exclude").

    The library gives 0-based array pixels; overlays are in ds9 image coordinates (1-based)."""
    from nuskybgd.pipeline import views

    out = []
    for shape in views.region_shapes(path, reference):
        p, label = shape["params"], path.stem
        use = kind if shape["include"] else "exclude"
        if shape["kind"] == "circle":
            out.append(OverlayShape(use, "circle", (p["x"] + 1, p["y"] + 1, p["r"]), label))
        elif shape["kind"] == "box":
            out.append(OverlayShape(use, "box", (p["x"] + 1, p["y"] + 1, p["width"],
                                                 p["height"], p["angle"]), label))
        elif shape["kind"] == "polygon":
            xy = np.column_stack([np.asarray(p["x"]) + 1, np.asarray(p["y"]) + 1]).ravel()
            out.append(OverlayShape(use, "polygon", tuple(float(v) for v in xy), label))
    return out


#: sky pixels a ctrl+arrow moves the selected shape (shift+arrows: one)
COARSE_STEP = 10
#: what the status line calls the keys (the full list is in the ? help)
EDITOR_KEYS = ("n next shape · shift+arrows move · [ ] size · { } height · a/b add · i incl/excl · "
               "x delete · W save · I/E import/export")


#: unsaved sets by (session folder, module): a view rebuilt (another step opened, a step ended)
#: comes back with the user's edits instead of the saved files
_UNSAVED: dict[tuple[str, str], tuple[Any, int]] = {}


class RegionEditor(ProductView):
    """The 3–20 keV image with the editable regions of one module and the proposed background
    regions.

    The shapes, in the order ``n`` cycles through them: the source circle, the source exclusion
    (the step's PSF-based radius until resized, then fixed), and the user's exclusion and
    hand-drawn background circles and boxes.  Keys: shift+arrows move the selected shape one sky
    pixel (ctrl+arrows ten),
    ``[``/``]`` shrink/grow it (a box's width), ``{``/``}`` a box's height, ``a``/``b`` add an
    exclusion circle/box at the view's centre, ``i`` toggles include/exclude, ``x`` (or delete)
    deletes it (on the source exclusion: back to the PSF-based radius), ``W`` saves the set where
    the regions step reads it, ``I``/``E`` import/export a ds9 file.
    """

    DEFAULT_CSS = """
    RegionEditor #region-caption { text-wrap: nowrap; text-overflow: ellipsis; }
    RegionEditor #region-prompt-row { height: auto; display: none; }
    RegionEditor #region-prompt-row.open { display: block; }
    RegionEditor #region-prompt { width: 1fr; }
    RegionEditor #region-prompt-label { width: auto; }
    """

    BINDINGS = [
        Binding("shift+left", "move(-1, 0)", "move shape", show=False),
        Binding("shift+right", "move(1, 0)", "move shape", show=False),
        Binding("shift+up", "move(0, 1)", "move shape", show=False),
        Binding("shift+down", "move(0, -1)", "move shape", show=False),
        Binding("ctrl+left", f"move(-{COARSE_STEP}, 0)", "move shape 10", show=False),
        Binding("ctrl+right", f"move({COARSE_STEP}, 0)", "move shape 10", show=False),
        Binding("ctrl+up", f"move(0, {COARSE_STEP})", "move shape 10", show=False),
        Binding("ctrl+down", f"move(0, -{COARSE_STEP})", "move shape 10", show=False),
        Binding("left_square_bracket", "resize(-1, 0)", "smaller", show=False),
        Binding("right_square_bracket", "resize(1, 0)", "larger", show=False),
        Binding("left_curly_bracket", "resize(0, -1)", "lower box", show=False),
        Binding("right_curly_bracket", "resize(0, 1)", "taller box", show=False),
        Binding("n", "select(1)", "next shape"),
        Binding("N", "select(-1)", "previous shape", show=False),
        Binding("a", "add('circle')", "add excl. circle", show=False),
        Binding("b", "add('box')", "add excl. box", show=False),
        Binding("i", "toggle_include", "include/exclude", show=False),
        Binding("x,delete", "delete", "delete shape", show=False),
        Binding("W", "save", "save regions"),
        Binding("ctrl+r", "reload", "reload files", show=False),
        Binding("I", "prompt('import')", "import ds9", show=False),
        Binding("E", "prompt('export')", "export ds9", show=False),
    ]

    def __init__(self, runner: Any, key: str, outputs: Sequence[Path]) -> None:
        super().__init__()
        self._runner = runner
        self.module = _module_of(runner, key)
        self.outputs = [Path(p) for p in outputs]
        #: the editable set (``nuskybgd.pipeline.editing.RegionSet``), None until loaded
        self.regions: Any = None
        #: index of the selected item: 0 source, 1 source exclusion, 2… the user's shapes
        self.selected = 0
        self.saved = False
        self._prompt_kind = ""
        self._rows = 0
        self._kept = False
        #: edits not saved yet (kept when the view is rebuilt)
        self.dirty = False
        #: the next W replaces region files edited elsewhere (after the user was told)
        self._replace_outside_edits = False

    @property
    def circle(self) -> Any:
        """The source circle being edited (None before the view has loaded)."""
        return None if self.regions is None else self.regions.source

    def compose(self) -> ComposeResult:
        yield Static("", id="region-caption", markup=False)
        yield Static("", id="region-status", markup=False)
        yield ImageView(id="region-image")
        # after the image: the wizard's o focuses the first focusable widget (the image)
        with Horizontal(id="region-prompt-row"):
            yield Static("", id="region-prompt-label", markup=False)
            yield Input(id="region-prompt", select_on_focus=False, compact=True)

    def on_mount(self) -> None:
        from nuskybgd.pipeline import editing, views
        from nuskybgd_tui.pipeline_api import NuskybgdError

        caption = self.query_one("#region-caption", Static)
        try:
            self.regions = editing.load_region_set(self._runner, self.module)
            image_path = editing.sky_image_path(self._runner, self.module)
            shown = views.image(image_path)
        except NuskybgdError as exc:
            caption.update(str(exc))
            return
        self.saved = self.regions.source_saved
        kept = _UNSAVED.pop(self._unsaved_key(), None)
        if kept is not None:
            self.regions, self.selected = kept
            self.selected = min(self.selected, self._item_count() - 1)
            self.saved, self.dirty = False, True
        self._kept = kept is not None
        caption.update(EDITOR_KEYS)
        view = self.query_one(ImageView)
        self._rows = shown.data.shape[0]
        view.set_image(shown.data, title=image_path.name, overlays=self._overlays(),
                       origin="lower")
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
        if self._kept:
            self._say("unsaved changes kept, W saves")
        else:
            self._say("saved" if self.saved else "proposed, W saves")

    def _unsaved_key(self) -> tuple[str, str]:
        return str(getattr(getattr(self._runner, "session", None), "folder", "")), self.module

    def on_unmount(self) -> None:
        if self.regions is not None and self.dirty:
            _UNSAVED[self._unsaved_key()] = (self.regions, self.selected)

    # -- what is drawn and said --------------------------------------------------------------
    def _exclusion_radius(self) -> tuple[float | None, str]:
        """The source exclusion radius drawn (sky pixels) and what it is."""
        rs = self.regions
        if rs.exclusion_r is not None:
            return rs.exclusion_r, "fixed"
        if rs.auto_exclusion_r is not None:
            return rs.auto_exclusion_r, "PSF-based, last run"
        return None, "PSF-based, known once the step has run"

    def _item_count(self) -> int:
        return 2 + len(self.regions.shapes)

    def _overlays(self) -> list[OverlayShape]:
        from nuskybgd.pipeline import editing

        rs, m = self.regions, self.module
        c = rs.source
        # the set holds 0-based array pixels; overlays are ds9 image coordinates (1-based)
        items: list[OverlayShape] = [OverlayShape("source", "circle", (c.x + 1, c.y + 1, c.r),
                                                  f"src{m}")]
        radius, _ = self._exclusion_radius()
        items.append(OverlayShape("exclude", "circle", (c.x + 1, c.y + 1, radius or 0.0),
                                  "source exclusion"))
        for n, s in enumerate(rs.shapes, 1):
            kind = "background" if s.include else "exclude"
            params = ((s.x + 1, s.y + 1, s.r) if s.kind == "circle"
                      else (s.x + 1, s.y + 1, s.width, s.height, s.angle))
            items.append(OverlayShape(kind, s.kind, params, f"shape {n}"))
        shapes = []
        reference = editing.sky_image_path(self._runner, m)
        for path in self.outputs:
            if path.suffix == ".reg" and path.is_file():
                try:
                    shapes.extend(region_overlays(path, "background", reference))
                except Exception:  # noqa: BLE001 - an unreadable region is not drawn
                    continue
        chosen = items[self.selected] if self.selected < len(items) else None
        drawn = [s for s in items if s.params[2] > 0 and s is not chosen]
        if chosen is not None and chosen.params[2] > 0:
            drawn.append(OverlayShape("selected", chosen.shape, chosen.params, chosen.label))
        return shapes + drawn   # the selected shape last: drawn over the others

    def describe_selected(self) -> str:
        """What is selected, in a few words (the status line's first part)."""
        from nuskybgd.pipeline.editing import PIXEL_ARCSEC

        rs, n = self.regions, self._item_count()
        where = f"[{self.selected + 1}/{n}] "
        c = rs.source
        if self.selected == 0:
            return where + f"src{self.module} ({c.x + 1:.0f},{c.y + 1:.0f}) r={c.r * PIXEL_ARCSEC:.0f}″"
        if self.selected == 1:
            radius, what = self._exclusion_radius()
            size = f"r={radius * PIXEL_ARCSEC:.0f}″ " if radius else ""
            return where + f"source exclusion {size}({what})"
        return where + rs.shapes[self.selected - 2].describe()

    def _say(self, state: str) -> None:
        if self.regions is None:
            return
        self.query_one("#region-status", Static).update(f"{self.describe_selected()}: {state}")

    def _redraw(self, state: str = "changed, W saves") -> None:
        self.query_one(ImageView).set_overlays(self._overlays())
        self._say(state)

    def _changed(self, state: str = "changed, W saves") -> None:
        self.saved, self.dirty = False, True
        self._keep_in_view()
        self._redraw(state)

    def _selected_centre(self) -> tuple[float, float]:
        rs = self.regions
        if self.selected < 2:
            return rs.source.x, rs.source.y
        s = rs.shapes[self.selected - 2]
        return s.x, s.y

    def _keep_in_view(self) -> None:
        """Pan to the selected shape when its centre has left the view."""
        view = self.query_one(ImageView)
        port = view.current_viewport()
        if port is None or self.regions is None:
            return
        x, y = self._selected_centre()
        row = self._rows - 1 - y                      # drawn rows are flipped
        if not (port.x0 <= x <= port.x0 + port.width * port.scale
                and port.y0 <= row <= port.y0 + port.height * port.scale):
            view.centre = (x, row)

    # -- editing -----------------------------------------------------------------------------
    def action_select(self, step: int) -> None:
        if self.regions is not None:
            self.selected = (self.selected + step) % self._item_count()
            self._keep_in_view()
            self._redraw("selected")

    def action_move(self, dx: int, dy: int) -> None:
        from dataclasses import replace

        rs = self.regions
        if rs is None:
            return
        if self.selected in (0, 1):  # the exclusion is centred on the source: both move
            rs.source = replace(rs.source, x=rs.source.x + dx, y=rs.source.y + dy)
        else:
            i = self.selected - 2
            rs.shapes[i] = rs.shapes[i].moved(dx, dy)
        self._changed("moved, W saves")

    def action_resize(self, dw: int, dh: int) -> None:
        from dataclasses import replace

        rs = self.regions
        if rs is None:
            return
        grow = dw or dh
        if self.selected == 0:
            if rs.source.r + grow >= 1:
                rs.source = replace(rs.source, r=rs.source.r + grow)
        elif self.selected == 1:
            radius, _ = self._exclusion_radius()
            start = radius if radius is not None else 2 * rs.source.r
            rs.exclusion_r = max(start + grow, rs.source.r)
        else:
            i = self.selected - 2
            shape = rs.shapes[i]
            rs.shapes[i] = shape.resized(grow) if shape.kind == "circle" else shape.resized(dw, dh)
        self._changed("resized, W saves")

    def _view_centre(self) -> tuple[float, float]:
        """The sky-grid pixel (0-based) at the centre of the view."""
        view = self.query_one(ImageView).current_viewport()
        if view is None:
            return self.regions.source.x, self.regions.source.y
        cx = view.x0 + view.width * view.scale / 2 - 0.5
        cy = view.y0 + view.height * view.scale / 2 - 0.5
        return float(round(cx)), float(round(self._rows - 1 - cy))

    def action_add(self, kind: str) -> None:
        from nuskybgd.pipeline.editing import UserShape

        if self.regions is None:
            return
        view = self.query_one(ImageView).current_viewport()
        # a sixth of the view's shorter side (the view is wide and short in a terminal)
        size = max(4.0, round((min(view.width, view.height) * view.scale if view else 60) / 6))
        x, y = self._view_centre()
        shape = (UserShape("circle", x, y, r=size) if kind == "circle"
                 else UserShape("box", x, y, width=2 * size, height=2 * size))
        self.regions.shapes.append(shape)
        self.selected = self._item_count() - 1
        self._changed("added, W saves")

    def action_toggle_include(self) -> None:
        from dataclasses import replace

        if self.regions is None:
            return
        if self.selected < 2:
            self._say("the source and its exclusion stay as they are; i toggles a user shape")
            return
        i = self.selected - 2
        shape = self.regions.shapes[i]
        self.regions.shapes[i] = replace(shape, include=not shape.include)
        self._changed("now a hand-drawn background area, W saves" if not shape.include
                      else "now an exclusion, W saves")

    def action_delete(self) -> None:
        rs = self.regions
        if rs is None:
            return
        if self.selected == 0:
            self._say("the source circle cannot be deleted; move it with shift+arrows")
            return
        if self.selected == 1:
            if rs.exclusion_r is not None:
                rs.exclusion_r = None
                self._changed("back to the PSF-based radius, W saves")
            return
        del rs.shapes[self.selected - 2]
        self.selected = min(self.selected, self._item_count() - 1)
        self._changed("deleted, W saves")

    def action_save(self) -> None:
        from nuskybgd.pipeline import editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        if self.regions is None:
            return
        try:
            edit = editing.save_region_set(self._runner, self.regions, overwrite=True,
                                           replace_outside_edits=self._replace_outside_edits)
        except editing.ChangedOnDisk as exc:
            self._replace_outside_edits = True
            message = f"{exc} W again replaces it with the regions here; ctrl+r loads the files."
            self.app.notify(message, severity="warning", markup=False, timeout=10)
            self._say("not saved: changed outside the wizard (W replaces, ctrl+r reloads)")
            return
        except NuskybgdError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self.saved, self.dirty, self._replace_outside_edits = True, False, False
        names = ", ".join(p.name for p in edit.written)
        stale = f"; now stale: {', '.join(edit.stale)} (r re-runs)" if edit.stale else ""
        self._redraw(f"saved {names}{stale}")
        refresh = getattr(self.app, "refresh_state", None)
        if callable(refresh):
            refresh()

    def action_reload(self) -> None:
        """Read the region files again (an edit made elsewhere wins; unsaved edits here are dropped)."""
        from nuskybgd.pipeline import editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        if self.regions is None:
            return
        try:
            regions = editing.load_region_set(self._runner, self.module)
        except NuskybgdError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        _UNSAVED.pop(self._unsaved_key(), None)
        self.regions, self._replace_outside_edits = regions, False
        self.saved, self.dirty = regions.source_saved, False
        self.selected = min(self.selected, self._item_count() - 1)
        self._redraw("reloaded from the files")

    # -- import and export -------------------------------------------------------------------
    def action_prompt(self, kind: str) -> None:
        from nuskybgd.pipeline import editing

        if self.regions is None:
            return
        self._prompt_kind = kind
        row = self.query_one("#region-prompt-row")
        field = self.query_one("#region-prompt", Input)
        folder = editing.source_region_path(self._runner, self.module).parent
        try:   # paths typed here are relative to the observation's event_cl/
            folder = folder.relative_to(self._runner.session.folder)
        except ValueError:
            pass
        if kind == "import":
            label, value = "import ds9 file: ", f"{folder}/"
        else:
            label, value = "export to: ", str(folder / f"regions{self.module}.reg")
        self.query_one("#region-prompt-label", Static).update(label)
        field.value = value
        field.cursor_position = len(value)
        row.add_class("open")
        field.focus()
        self._say(f"{kind}: type the path, enter {kind}s, escape cancels")

    def _close_prompt(self) -> None:
        self.query_one("#region-prompt-row").remove_class("open")
        self._prompt_kind = ""
        self.query_one(ImageView).focus()

    def on_key(self, event: Any) -> None:
        if event.key == "escape" and self._prompt_kind:
            event.stop()
            self._close_prompt()
            self._say("cancelled")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from nuskybgd.pipeline import editing
        from nuskybgd_tui.pipeline_api import NuskybgdError

        event.stop()
        kind, text = self._prompt_kind, event.value.strip()
        self._close_prompt()
        if not text or text.endswith("/"):
            self._say(f"no file given; nothing to {kind}")
            return
        path = Path(text).expanduser()
        if not path.is_absolute():      # relative to the observation's event_cl/
            path = self._runner.session.folder / path
        try:
            if kind == "import":
                result = editing.import_regions(self._runner, self.regions, path)
                self.regions = result.regions
                self.selected = min(self.selected, self._item_count() - 1)
                self._changed(result.message)
                return
            path = editing.export_regions(self._runner, self.regions, path)
        except NuskybgdError as exc:       # one sentence on the status line, the view stays
            self._say(str(exc).replace(str(path), text))   # the file named as typed
            return
        self._say(f"exported to {path}")


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
