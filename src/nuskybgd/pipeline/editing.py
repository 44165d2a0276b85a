"""Changes a front end makes to an observation's inputs: the source region a user places.

The wizard edits nothing itself: it asks these functions to propose a source circle and to save
it as a ds9 region file (through :mod:`nuskybgd.products.regions`, atomic, never silently
replacing a file), and gets back which steps the change turned stale.  Coordinates are those of
the observation's sky grid (the 3–20 keV counts image): 0-based array column ``x`` and row ``y``,
lengths in sky pixels (2.46″).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.pipeline.runner import Runner

__all__ = ["SourceCircle", "RegionEdit", "source_region_path", "sky_image_path",
           "current_source_circle", "propose_source_circle", "save_source_circle"]

#: the walkthrough's source-region radius, sky pixels (60″ / 2.46″)
DEFAULT_RADIUS_PIX = 60.0 / 2.4588


@dataclass(frozen=True)
class SourceCircle:
    """A source circle on the sky grid: centre ``x``, ``y`` (0-based pixels), radius ``r``
    (sky pixels)."""

    x: float
    y: float
    r: float


@dataclass
class RegionEdit:
    """What saving a region changed: the file, whether its content changed, and the step
    instances whose status turned to stale (their products were made with the old region)."""

    path: Path
    changed: bool
    stale: list[str] = field(default_factory=list)


def _regions_key(runner: Runner, module: str) -> str:
    from nuskybgd.errors import InputError

    key = f"regions.{module}"
    if key not in {i.key for i in runner.instances}:
        raise InputError(f"this observation has no regions step for FPM{module}; "
                         "choose module A or B.")
    return key


def source_region_path(runner: Runner, module: str) -> Path:
    """The ds9 source region the regions step of ``module`` reads (``bgd/srcA.reg``)."""
    src = Path(runner.instance(_regions_key(runner, module)).params["src"])
    return src if src.is_absolute() else runner.session.folder / src


def sky_image_path(runner: Runner, module: str) -> Path:
    """The module's 3–20 keV counts image (the grid regions are drawn on)."""
    seqid = runner.observation.get("seqid", "")
    return runner.session.folder / f"nu{seqid}{module}01_cl_3to20keV.fits"


def current_source_circle(runner: Runner, module: str) -> SourceCircle | None:
    """The first included circle of the module's source region file, or None when there is no
    file or no circle in it."""
    from nuskybgd.pipeline import views

    path = source_region_path(runner, module)
    if not path.is_file():
        return None
    image = sky_image_path(runner, module)
    for shape in views.region_shapes(path, image if image.is_file() else None):
        if shape["kind"] == "circle" and shape["include"]:
            p = shape["params"]
            return SourceCircle(p["x"], p["y"], p["r"])
    return None


def propose_source_circle(runner: Runner, module: str) -> SourceCircle:
    """A first source circle: the saved one, else 60″ around the brightest 5×5-pixel patch of
    the 3–20 keV image (a point source dominates it).

    Raises
    ------
    InputError
        The 3–20 keV image does not exist yet (run the images step).
    """
    import numpy as np

    from nuskybgd.errors import InputError
    from nuskybgd.pipeline import views

    saved = current_source_circle(runner, module)
    if saved is not None:
        return saved
    path = sky_image_path(runner, module)
    if not path.is_file():
        raise InputError(f"the 3-20 keV image {path.name} does not exist yet; run the Images "
                         "step first.", path)
    data = np.asarray(views.image(path).data, dtype=float)
    # 5×5 box sums by a summed-area table (vectorised, no Python loop over pixels)
    padded = np.pad(data, 2)
    table = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    box = table[5:, 5:] - table[:-5, 5:] - table[5:, :-5] + table[:-5, :-5]
    y, x = np.unravel_index(int(np.argmax(box)), box.shape)
    return SourceCircle(float(x), float(y), DEFAULT_RADIUS_PIX)


def save_source_circle(runner: Runner, module: str, circle: SourceCircle,
                       overwrite: bool = False) -> RegionEdit:
    """Write ``circle`` as the module's ds9 source region (image coordinates of the 3–20 keV
    image, 1-based as ds9 writes them) and report the steps this made stale.

    Parameters
    ----------
    runner : Runner
        The open session's runner.
    module : str
        "A" or "B".
    circle : SourceCircle
        Centre (0-based sky-grid pixels) and radius (sky pixels, > 0).
    overwrite : bool
        Replace an existing region file (the user asked to save over it).

    Raises
    ------
    InputError
        Not a positive radius, or the file exists and ``overwrite`` is False.
    """
    from regions import CirclePixelRegion, PixCoord

    from nuskybgd.errors import InputError
    from nuskybgd.products.regions import write_regions

    if not (circle.r > 0):
        raise InputError(f"source circle radius {circle.r} is not a positive number of pixels; "
                         "make the circle larger.")
    path = source_region_path(runner, module)
    before_text = path.read_text() if path.is_file() else None
    before = runner.statuses()
    path.parent.mkdir(parents=True, exist_ok=True)
    region = CirclePixelRegion(PixCoord(circle.x, circle.y), circle.r)
    write_regions([region], path, overwrite=overwrite,
                  header=f"source region of FPM{module}, placed in the nuskybgd wizard")
    after = runner.statuses()
    stale = [k for k, s in after.items() if s == "stale" and before.get(k) != "stale"]
    return RegionEdit(path, path.read_text() != before_text, stale)


