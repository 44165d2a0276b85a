"""Changes a front end makes to an observation's inputs: the source region a user places, the
source exclusion radius, and the user's own shapes (exclusions and hand-drawn background areas).

The wizard edits nothing itself: it asks these functions to propose a source circle and to save
it as a ds9 region file (through :mod:`nuskybgd.products.regions`, atomic, never silently
replacing a file), and gets back which steps the change turned stale.  Coordinates are those of
the observation's sky grid (the 3–20 keV counts image): 0-based array column ``x`` and row ``y``,
lengths in sky pixels (2.46″).

A module's editable set (:class:`RegionSet`) is what the regions step reads:

* the source circle, ``bgd/src<m>.reg`` (the step's ``src``);
* the source exclusion radius (the step's ``radius``, arcsec; unset: the PSF-based one);
* exclusion circles and boxes, ``bgd/exclude<m>.reg`` (listed in the step's ``exclude``: the area
  the file selects is removed from every per-detector region);
* hand-drawn background circles and boxes, ``bgd/drawn<m>.reg`` (listed in the step's
  ``within``: the per-detector regions are cut only inside them).

Saving writes these as ds9 fk5 files and sets the step's parameters, so the step's next run cuts
the per-detector regions again.  A ds9 file can be imported into the set (fk5 or image
coordinates of the 3–20 keV image) and the whole set exported to one ds9 file, whose shapes carry
``tag={source}``, ``tag={source exclusion}``, ``tag={background}`` or ``tag={exclusion}`` so that an
import of it restores the same set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nuskybgd.constants import SKY_PIXEL_DEG
from nuskybgd.errors import ChangedOnDisk

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.pipeline.runner import Runner

__all__ = ["SourceCircle", "RegionEdit", "ChangedOnDisk", "source_region_path", "sky_image_path",
           "current_source_circle", "propose_source_circle", "save_source_circle",
           "UserShape", "RegionSet", "RegionImport", "exclusion_file_path", "drawn_file_path",
           "load_region_set", "save_region_set", "import_regions", "export_regions",
           "PIXEL_ARCSEC"]

#: size of a sky pixel, arcsec (the regions step converts its radius with the same value)
PIXEL_ARCSEC = SKY_PIXEL_DEG * 3600.0
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
    #: every file the save wrote (the region set's save writes several)
    written: list[Path] = field(default_factory=list)


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




# -- the editable region set --------------------------------------------------------------------

#: tags of the exported ds9 file (``tag={...}``), read back by :func:`import_regions`
TAG_SOURCE, TAG_SOURCE_EXCLUSION = "source", "source exclusion"
TAG_BACKGROUND, TAG_EXCLUSION = "background", "exclusion"


@dataclass(frozen=True)
class UserShape:
    """A user's circle or box on the sky grid.

    Attributes
    ----------
    kind : str
        "circle" or "box".
    x, y : float
        Centre, 0-based sky-grid pixels (array column, row).
    r : float
        Circle radius, sky pixels (0 for a box).
    width, height : float
        Box sides, sky pixels (0 for a circle).
    angle : float
        Box rotation, degrees counter-clockwise from the +x axis.
    include : bool
        True: a hand-drawn background area (the regions are cut inside it); False: an exclusion.
    """

    kind: str
    x: float
    y: float
    r: float = 0.0
    width: float = 0.0
    height: float = 0.0
    angle: float = 0.0
    include: bool = False

    def moved(self, dx: float, dy: float) -> UserShape:
        """The shape shifted by ``dx``, ``dy`` sky pixels."""
        return _replace(self, x=self.x + dx, y=self.y + dy)

    def resized(self, dw: float, dh: float | None = None) -> UserShape:
        """A circle with radius + ``dw``, or a box with width + ``dw`` and height + ``dh``
        (default ``dw``), sky pixels; never below one pixel."""
        if self.kind == "circle":
            return _replace(self, r=max(self.r + dw, 1.0))
        dh = dw if dh is None else dh
        return _replace(self, width=max(self.width + dw, 1.0), height=max(self.height + dh, 1.0))

    def describe(self) -> str:
        """One line: kind, use, centre (1-based sky pixels) and size (arcsec)."""
        use = "background" if self.include else "exclusion"
        where = f"({self.x + 1:.0f},{self.y + 1:.0f})"
        if self.kind == "circle":
            return f"{use} circle {where} r={self.r * PIXEL_ARCSEC:.0f}″"
        return (f"{use} box {where} {self.width * PIXEL_ARCSEC:.0f}″×"
                f"{self.height * PIXEL_ARCSEC:.0f}″")


def _replace(shape, **changes):
    from dataclasses import replace

    return replace(shape, **changes)


@dataclass
class RegionSet:
    """What a user edits for one module (sky-grid pixels, 0-based).

    Attributes
    ----------
    module : str
        "A" or "B".
    source : SourceCircle
        The source circle.
    exclusion_r : float or None
        Fixed source-exclusion radius about the source centre, sky pixels; None: the regions
        step's PSF-based radius.
    auto_exclusion_r : float or None
        The PSF-based radius of the step's last run (sky pixels), None when it has not run; for
        display only.
    shapes : list of UserShape
        Exclusions and hand-drawn background areas.
    source_saved : bool
        The source circle comes from the saved file (not a proposal).
    on_disk : dict of Path → str or None
        The text of the source, exclusion and hand-drawn files when the set was loaded or last
        saved (None: no file); :func:`save_region_set` refuses to replace a file that changed
        since.  Empty: no check.
    """

    module: str
    source: SourceCircle
    exclusion_r: float | None = None
    auto_exclusion_r: float | None = None
    shapes: list[UserShape] = field(default_factory=list)
    source_saved: bool = False
    on_disk: dict = field(default_factory=dict)


@dataclass
class RegionImport:
    """The outcome of :func:`import_regions`: the new set and one sentence saying what changed."""

    regions: RegionSet
    added: int
    skipped: int
    message: str


def exclusion_file_path(runner: Runner, module: str) -> Path:
    """The ds9 file of the user's exclusions (``bgd/exclude<m>.reg``, beside the source region)."""
    return source_region_path(runner, module).parent / f"exclude{module}.reg"


def drawn_file_path(runner: Runner, module: str) -> Path:
    """The ds9 file of the user's hand-drawn background areas (``bgd/drawn<m>.reg``)."""
    return source_region_path(runner, module).parent / f"drawn{module}.reg"


def _listed(runner: Runner, key: str, name: str) -> list[str]:
    value = runner.instance(key).params.get(name) or []
    return [str(v) for v in ([value] if isinstance(value, str) else value)]


def _relative_to_session(runner: Runner, path: Path) -> str:
    import os

    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(runner.session.folder)))
    except ValueError:
        return str(path)


def _is_listed(runner: Runner, key: str, name: str, path: Path) -> bool:
    import os

    target = os.path.abspath(path)
    return any(os.path.abspath(runner.session.folder / v) == target
               for v in _listed(runner, key, name))


def _sky_wcs(runner: Runner, module: str):
    from nuskybgd.pipeline import views

    image = sky_image_path(runner, module)
    return views._sky_wcs(image, image)


def _pixel_shape(reg, wcs_getter) -> tuple[str, dict[str, float]] | None:
    """("circle"|"box", params in 0-based sky pixels) of a region, None for another shape."""
    pix = reg if hasattr(reg, "to_mask") else reg.to_pixel(wcs_getter())
    name = type(pix).__name__
    if name == "CirclePixelRegion":
        return "circle", {"x": float(pix.center.x), "y": float(pix.center.y), "r": float(pix.radius)}
    if name == "RectanglePixelRegion":
        angle = float(pix.angle.to_value("deg")) % 180.0  # a box is the same turned by 180°
        if 180.0 - angle < 1e-6:  # a WCS round trip turns 0° into 359.999999…°
            angle = 0.0
        return "box", {"x": float(pix.center.x), "y": float(pix.center.y), "width": float(pix.width),
                       "height": float(pix.height), "angle": angle}
    return None


def _file_shapes(runner: Runner, module: str, path: Path, include: bool) -> list[UserShape]:
    """The circles and boxes of one of the editor's files, all as ``include`` shapes."""
    from nuskybgd.products.regions import read_regions

    wcs = []
    out = []
    for reg in read_regions(path):
        found = _pixel_shape(reg, lambda: wcs[0] if wcs else wcs.append(_sky_wcs(runner, module)) or wcs[0])
        if found is not None:
            out.append(UserShape(found[0], include=include, **found[1]))
    return out


def load_region_set(runner: Runner, module: str) -> RegionSet:
    """The module's editable set as the regions step will read it: the saved source circle (or a
    proposal), the step's fixed exclusion radius, and the circles and boxes of the editor's
    exclusion and hand-drawn files when the step lists them.

    Raises
    ------
    InputError
        No 3–20 keV image yet (run the images step), or an unreadable region file.
    """
    key = _regions_key(runner, module)
    saved = current_source_circle(runner, module)
    source = saved if saved is not None else propose_source_circle(runner, module)
    params = runner.instance(key).params
    radius = params.get("radius")
    record = runner.session.record(key) or {}
    auto = (record.get("result") or {}).get("radius_arcsec")
    shapes: list[UserShape] = []
    for path, include, name in ((exclusion_file_path(runner, module), False, "exclude"),
                                (drawn_file_path(runner, module), True, "within")):
        if path.is_file() and _is_listed(runner, key, name, path):
            shapes.extend(_file_shapes(runner, module, path, include))
    return RegionSet(module, source,
                     None if radius is None else float(radius) / PIXEL_ARCSEC,
                     None if auto is None else float(auto) / PIXEL_ARCSEC,
                     shapes, saved is not None, _texts(_set_files(runner, module)))


def _set_files(runner: Runner, module: str) -> tuple[Path, Path, Path]:
    """The source, exclusion and hand-drawn region files of a module's set."""
    return (source_region_path(runner, module), exclusion_file_path(runner, module),
            drawn_file_path(runner, module))


def _texts(paths) -> dict[Path, str | None]:
    out: dict[Path, str | None] = {}
    for p in paths:
        try:
            out[p] = p.read_text() if p.is_file() else None
        except (OSError, UnicodeDecodeError):
            out[p] = None
    return out


def _sky_regions(shapes: list[UserShape], wcs, tag: str | None = None, keep_include: bool = False):
    """``regions`` sky shapes of user shapes (fk5 via the sky grid's WCS)."""
    import astropy.units as u
    from regions import CirclePixelRegion, PixCoord, RectanglePixelRegion

    out = []
    for s in shapes:
        if s.kind == "circle":
            pix = CirclePixelRegion(PixCoord(s.x, s.y), s.r)
        else:
            pix = RectanglePixelRegion(PixCoord(s.x, s.y), s.width, s.height, angle=s.angle * u.deg)
        sky = pix.to_sky(wcs)
        sky.meta["include"] = int(s.include) if keep_include else 1
        if tag is not None:
            sky.meta["tag"] = [tag if tag != "use" else (TAG_BACKGROUND if s.include else TAG_EXCLUSION)]
        out.append(sky)
    return out


def _check_set(regions: RegionSet) -> None:
    from nuskybgd.errors import InputError

    if not (regions.source.r > 0):
        raise InputError(f"source circle radius {regions.source.r} is not a positive number of "
                         "pixels; make the circle larger.")
    if regions.exclusion_r is not None and not (regions.exclusion_r > 0):
        raise InputError(f"source exclusion radius {regions.exclusion_r} is not a positive number "
                         "of pixels; make it larger or go back to the PSF-based radius.")
    for s in regions.shapes:
        if s.kind not in ("circle", "box") or (s.r <= 0 if s.kind == "circle"
                                               else min(s.width, s.height) <= 0):
            raise InputError(f"{s.describe()} has no area; make it larger or delete it.")


def save_region_set(runner: Runner, regions: RegionSet, overwrite: bool = False,
                    replace_outside_edits: bool = False) -> RegionEdit:
    """Write the set where the regions step reads it and set the step's parameters.

    The source circle goes to the step's ``src`` file, the exclusions to ``bgd/exclude<m>.reg``
    (listed in ``exclude``), the hand-drawn areas to ``bgd/drawn<m>.reg`` (listed in ``within``),
    all ds9 fk5 and atomic; the fixed exclusion radius to ``radius`` (arcsec).  An empty kind of
    shape is taken off the step's list (its old file is left, unused).  Files of other origins
    listed in ``exclude`` or ``within`` stay listed.

    Parameters
    ----------
    runner : Runner
        The open session's runner.
    regions : RegionSet
        The set to save (sky-grid pixels).
    overwrite : bool
        Replace existing files (the user asked to save over them).
    replace_outside_edits : bool
        Write even over a file that changed since the set was loaded (``regions.on_disk``); by
        default that is refused with :class:`~nuskybgd.errors.ChangedOnDisk`, so a region saved
        meanwhile from ds9 is never replaced silently.

    Returns
    -------
    RegionEdit
        The source file, whether anything changed, the steps this made stale, and the files written.
        ``regions.on_disk`` is updated to what was written.

    Raises
    ------
    InputError
        A shape without area, or no 3–20 keV image (its WCS gives the fk5 coordinates).
    ChangedOnDisk
        A file to be written changed since the set was loaded (nothing is written then).
    OutputExistsError
        A file exists and ``overwrite`` is False (nothing is written then).
    """
    from regions import CirclePixelRegion, PixCoord

    from nuskybgd.io.atomic import check_writable
    from nuskybgd.products.regions import write_regions

    _check_set(regions)
    module = regions.module
    key = _regions_key(runner, module)
    wcs = _sky_wcs(runner, module)
    src = source_region_path(runner, module)
    exc, drawn = exclusion_file_path(runner, module), drawn_file_path(runner, module)
    excludes = [s for s in regions.shapes if not s.include]
    within = [s for s in regions.shapes if s.include]
    plan = [(src, [CirclePixelRegion(PixCoord(regions.source.x, regions.source.y),
                                     regions.source.r).to_sky(wcs)],
             f"source region of FPM{module}, placed in the nuskybgd wizard")]
    if excludes:
        plan.append((exc, _sky_regions(excludes, wcs),
                     f"exclusions of FPM{module} (the area selected here is removed from every "
                     "background region), drawn in the nuskybgd wizard"))
    if within:
        plan.append((drawn, _sky_regions(within, wcs),
                     f"hand-drawn background areas of FPM{module} (background regions are cut "
                     "inside them), drawn in the nuskybgd wizard"))
    src.parent.mkdir(parents=True, exist_ok=True)
    texts = _texts((src, exc, drawn))
    if regions.on_disk and not replace_outside_edits:
        moved = [p.name for p, _, _ in plan if p in regions.on_disk and texts[p] != regions.on_disk[p]]
        if moved:
            raise ChangedOnDisk(f"{', '.join(moved)} changed outside the wizard since the regions were "
                                "opened here; saving would replace that edit.", src.parent / moved[0])
    for path, _, _ in plan:  # refuse before writing anything
        check_writable(path, overwrite)
    before = runner.statuses()
    params_before = dict(runner.instance(key).params)
    for path, shapes, header in plan:
        write_regions(shapes, path, overwrite=overwrite, header=header)

    def listed(name: str, path: Path, keep: bool) -> list[str]:
        others = [v for v in _listed(runner, key, name)
                  if not _is_listed_value(runner, v, path)]
        return others + ([_relative_to_session(runner, path)] if keep else [])

    radius = (None if regions.exclusion_r is None
              else round(float(regions.exclusion_r) * PIXEL_ARCSEC, 3))
    runner.set_params(key, exclude=listed("exclude", exc, bool(excludes)),
                      within=listed("within", drawn, bool(within)), radius=radius)
    changed = (any((p.read_text() if p.is_file() else None) != texts[p] for p, _, _ in plan)
               or dict(runner.instance(key).params) != params_before)
    after = runner.statuses()
    stale = [k for k, s in after.items() if s == "stale" and before.get(k) != "stale"]
    regions.on_disk = _texts((src, exc, drawn))
    return RegionEdit(src, changed, stale, [p for p, _, _ in plan])


def _is_listed_value(runner: Runner, value: str, path: Path) -> bool:
    import os

    return os.path.abspath(runner.session.folder / value) == os.path.abspath(path)


def import_regions(runner: Runner, regions: RegionSet, path: str | Path) -> RegionImport:
    """Add the circles and boxes of a ds9 file to a set (fk5/icrs/galactic, or image coordinates
    of the 3–20 keV image).

    Shapes tagged ``source`` (an include circle) replace the source circle, a circle tagged
    ``source exclusion`` sets the fixed exclusion radius; every other circle or box is added as a
    hand-drawn background area (an include shape) or an exclusion (an exclude shape, ``-circle``
    or a ``exclusion`` tag).  Shapes already in the set (within 0.001 pixel) are not added twice;
    other shapes (polygons, ellipses, annuli) are skipped and counted.

    Raises
    ------
    InputError
        Missing or malformed file, an unsupported shape (point, text …), or sky coordinates
        without the 3–20 keV image (one sentence naming the file).
    """
    from dataclasses import replace

    from nuskybgd.products.regions import is_included, read_regions

    p = Path(path).expanduser()
    shapes = read_regions(p)
    wcs: list = []

    def get_wcs():
        if not wcs:
            wcs.append(_sky_wcs(runner, regions.module))
        return wcs[0]

    new = replace(regions, shapes=list(regions.shapes))
    added = skipped = 0
    notes = []
    for reg in shapes:
        found = _pixel_shape(reg, get_wcs)
        tags = [str(t).strip().lower() for t in reg.meta.get("tag", [])]
        if found is None:
            skipped += 1
            continue
        kind, par = found
        if kind == "circle" and TAG_SOURCE_EXCLUSION in tags:
            new.exclusion_r = par["r"]
            notes.append("the source exclusion radius")
            continue
        if kind == "circle" and TAG_SOURCE in tags and is_included(reg):
            new.source = SourceCircle(par["x"], par["y"], par["r"])
            notes.append("the source circle")
            continue
        include = is_included(reg) and TAG_EXCLUSION not in tags
        shape = UserShape(kind, include=include, **par)
        if any(_same(shape, s) for s in new.shapes):
            continue
        new.shapes.append(shape)
        added += 1
    parts = [f"{added} shape{'s' if added != 1 else ''}"] + notes
    message = f"Imported {', '.join(parts)} from {p.name}"
    if skipped:
        message += (f"; skipped {skipped} shape{'s' if skipped != 1 else ''} other than circles "
                    "and boxes")
    return RegionImport(new, added, skipped, message + "; W saves them.")


def _same(a: UserShape, b: UserShape, tol: float = 1e-3) -> bool:
    import math

    return (a.kind == b.kind and a.include == b.include and all(
        math.isclose(u, v, abs_tol=tol) for u, v in
        ((a.x, b.x), (a.y, b.y), (a.r, b.r), (a.width, b.width), (a.height, b.height),
         (a.angle, b.angle))))


def export_regions(runner: Runner, regions: RegionSet, path: str | Path,
                   overwrite: bool = False) -> Path:
    """Write the whole set to one ds9 fk5 file (atomic): the source circle (``tag={source}``),
    a fixed source exclusion (``-circle``, ``tag={source exclusion}``), hand-drawn areas
    (``tag={background}``) and exclusions (``-circle``/``-box``, ``tag={exclusion}``).

    Raises
    ------
    InputError
        A shape without area, no 3–20 keV image (for the WCS).
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    OutputError
        The folder is missing or not writable.
    """
    from regions import CirclePixelRegion, PixCoord

    from nuskybgd.products.regions import write_regions

    _check_set(regions)
    wcs = _sky_wcs(runner, regions.module)
    c = regions.source
    src = CirclePixelRegion(PixCoord(c.x, c.y), c.r).to_sky(wcs)
    src.meta.update(include=1, tag=[TAG_SOURCE])
    shapes = [src]
    if regions.exclusion_r is not None:
        exc = CirclePixelRegion(PixCoord(c.x, c.y), regions.exclusion_r).to_sky(wcs)
        exc.meta.update(include=0, tag=[TAG_SOURCE_EXCLUSION])
        shapes.append(exc)
    # includes before excludes: readers that apply shapes in order select the same area
    ordered = sorted(regions.shapes, key=lambda s: not s.include)
    shapes += _sky_regions(ordered, wcs, tag="use", keep_include=True)
    return write_regions(shapes, Path(path).expanduser(), overwrite=overwrite,
                         header=f"nuskybgd regions of FPM{regions.module}: source, exclusions and "
                                "hand-drawn background areas (tags say which)")
