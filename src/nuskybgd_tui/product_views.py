"""Per-stage views of what a step produced, registered by stage id.

The step pane asks :func:`view_for` for the stage it shows; a stage without a registered view
gets the list of written files.  A step that lands later (regions, spectra, fit) appears in the
wizard without any wizard code; registering a view for it only improves what is shown::

    @register_view("spectra")
    def spectra_view(runner, key, outputs): ...   # returns a Widget
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from nuskybgd_tui.widgets.image_render import OverlayShape
from nuskybgd_tui.widgets.image_view import ImageView

__all__ = ["register_view", "view_for", "ProductView", "OutputsList", "ImageGallery"]

ViewFactory = Callable[[Any, str, Sequence[Path]], Widget]
_VIEWS: dict[str, ViewFactory] = {}


def register_view(stage_id: str) -> Callable[[ViewFactory], ViewFactory]:
    """Register the function that builds the product view of ``stage_id``."""
    def decorate(factory: ViewFactory) -> ViewFactory:
        _VIEWS[stage_id] = factory
        return factory
    return decorate


def view_for(stage_id: str) -> ViewFactory:
    """The view factory of a stage (the outputs list when none is registered)."""
    return _VIEWS.get(stage_id, lambda runner, key, outputs: OutputsList(outputs))


class ProductView(Vertical):
    """Base of the product views (a marker for queries and styling)."""

    DEFAULT_CSS = "ProductView { height: 1fr; }"


class OutputsList(ProductView):
    """The files a step wrote, one per line."""

    def __init__(self, outputs: Sequence[Path]) -> None:
        super().__init__()
        self.outputs = [Path(p) for p in outputs]

    def compose(self) -> ComposeResult:
        if not self.outputs:
            yield Static("Nothing written yet: run the step (r).", markup=False)
        else:
            yield Static("\n".join(f"wrote {p}" for p in self.outputs), markup=False)


class ImageGallery(ProductView):
    """The FITS images a step wrote, one at a time (``n`` next, ``N`` previous)."""

    BINDINGS = [Binding("n", "cycle(1)", "next image"),
                Binding("N", "cycle(-1)", "previous image", show=False)]

    def __init__(self, runner: Any, outputs: Sequence[Path], module: str = "") -> None:
        super().__init__()
        self._runner = runner
        self.module = module
        self.outputs = [Path(p) for p in outputs]
        self.images = _fits_images(self.outputs)
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="gallery-caption", markup=False)
        yield ImageView(id="gallery-image")

    def on_mount(self) -> None:
        self._show()

    def action_cycle(self, step: int) -> None:
        if self.images:
            self.index = (self.index + step) % len(self.images)
            self._show()

    def _show(self) -> None:
        caption = self.query_one("#gallery-caption", Static)
        if not self.images:
            caption.update("\n".join(f"wrote {p}" for p in self.outputs)
                           or "No images yet: run the step (r).")
            return
        path = self.images[self.index]
        caption.update(f"{self.index + 1}/{len(self.images)} {path.name}   n: next image, "
                       "+/- zoom, arrows pan, s stretch")
        from nuskybgd.pipeline import views

        try:
            shown = views.image(path)
        except Exception as exc:  # noqa: BLE001 - a bad file is a message, not a crash
            caption.update(f"{path.name} cannot be shown: {exc}")
            return
        overlays = self._detector_outlines(shown.data.shape)
        self.query_one(ImageView).set_image(shown.data, title=shown.title or path.name,
                                            overlays=overlays, origin="lower")

    def _detector_outlines(self, shape: tuple[int, ...]) -> list[OverlayShape]:
        """The detectors' sky footprints (from projbgd) when they match the image's grid."""
        if not self.module or not hasattr(self._runner, "session"):
            return []
        from nuskybgd.pipeline import views

        try:
            masks = views.detector_outlines(self._runner, self.module)
        except Exception:  # noqa: BLE001 - outlines are a help, never a failure
            return []
        return [OverlayShape("detector", "mask", (), f"det{d}", mask)
                for d, mask in sorted(masks.items()) if mask.shape == shape]


def _fits_images(outputs: Sequence[Path]) -> list[Path]:
    return [Path(p) for p in outputs if str(p).lower().endswith((".fits", ".img", ".fits.gz"))]


def _module_of(runner: Any, key: str) -> str:
    return next((i.module for i in runner.instances if i.key == key), "")


for _stage in ("images", "instrmap", "aspecthist", "projbgd"):
    register_view(_stage)(lambda runner, key, outputs: ImageGallery(
        runner, outputs, _module_of(runner, key)))
