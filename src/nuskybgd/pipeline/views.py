"""Read-only views of a step's products for front ends: plain data, computed by the library.

A front end (the wizard) needs nothing below :mod:`nuskybgd.pipeline` to show what a step made:
these functions hand it arrays, shapes and tables.  They never write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from nuskybgd.pipeline.runner import Runner

__all__ = ["FitView", "ImageView", "ProductView", "SpecView", "SpectrumView", "detector_outlines", "fit_view",
           "image", "region_shapes", "spec_view", "spectrum", "stage_products", "text"]


@dataclass
class ImageView:
    """A 2-D image ready to draw.

    Attributes
    ----------
    data : ndarray
        The image ``[y, x]`` (row 0 is the bottom row, FITS convention).
    header : dict
        Its header keywords (plain values).
    title : str
        What it is ("nu…A01_cl_3to20keV.fits — count").
    unit : str
        BUNIT.
    calibration : str
        Calibration source recorded in the file (NSBCALIB), "" when none was used.
    """

    data: np.ndarray
    header: dict[str, Any]
    title: str
    unit: str = ""
    calibration: str = ""


@dataclass
class ProductView:
    """One product of a step instance: its path, kind ("image", "table", "file") and the instance."""

    key: str
    path: Path
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)


def image(path: str | Path) -> ImageView:
    """The first 2-D image of a FITS file as an :class:`ImageView`.

    Raises
    ------
    InputError
        The file is not a readable FITS image (one sentence naming it).
    """
    import numpy as np

    from nuskybgd.errors import InputError
    from nuskybgd.io.ogip import open_fits

    p = Path(path)
    with open_fits(p, "image") as hdul:
        hdu = next((h for h in hdul if h.is_image and h.data is not None and h.data.ndim == 2), None)
        if hdu is None:
            raise InputError(f"{p} holds no 2-D image.", p)
        data = np.asarray(hdu.data, dtype=np.float64)
        header = {k: v for k, v in hdu.header.items() if k not in ("COMMENT", "HISTORY", "")}
    unit = str(header.get("BUNIT", ""))
    return ImageView(data, header, f"{p.name}" + (f" — {unit}" if unit else ""), unit,
                     str(header.get("NSBCALIB", "")))


def detector_outlines(runner: Runner, module: str) -> dict[int, np.ndarray]:
    """Boolean footprint per detector (0–3) of ``module`` on the sky grid, from projbgd's
    ``det{d}{m}im.fits`` (> 0.5 of the exposure), for drawing outlines; empty before projbgd."""

    out: dict[int, np.ndarray] = {}
    folder = Path(runner.observation["event_dir"]) / "bgd"
    for d in range(4):
        p = folder / f"det{d}{module}im.fits"
        if p.is_file():
            out[d] = image(p).data > 0.5
    return out


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".fits", ".fits.gz", ".img", ".img.gz")):
        return "image"
    if name.endswith((".pha", ".pi", ".rmf", ".arf")):
        return "spectrum"
    if name.endswith(".reg"):
        return "region"
    if name.endswith((".xcm", ".json")):
        return "text"
    return "file"


def stage_products(runner: Runner, stage_id: str) -> list[ProductView]:
    """The files the session recorded as written by the instances of ``stage_id``."""
    out: list[ProductView] = []
    for inst in runner.stage_instances(stage_id):
        for rel in runner.session.file_records(inst.key, "outputs"):
            path = runner.session.folder / rel
            if path.is_file():
                out.append(ProductView(inst.key, path, _kind(path)))
    return out


def _sky_wcs(reference: str | Path | None, region: Path):
    """The celestial WCS of a sky image or event file; by default the observation's 3-20 keV image
    (beside the region, or in the folder above it: ``event_cl/`` for ``event_cl/bgd/``)."""
    from astropy.wcs import WCS

    from nuskybgd.errors import InputError
    from nuskybgd.io.ogip import open_fits

    if reference is None:
        same_module = region.stem[-1:].upper()  # bgd0A.reg, srcB.reg: that module's image first
        found = sorted(region.parent.glob("nu*_cl_3to20keV.fits")) or sorted(
            region.parent.parent.glob("nu*_cl_3to20keV.fits"))
        found.sort(key=lambda p: not p.name.split("01_cl_")[0].endswith(same_module))
        if not found:
            raise InputError(f"region file {region} is in sky coordinates and no 3-20 keV image is beside it; "
                             "give the sky image to convert it with.", region)
        reference = found[0]
    with open_fits(Path(reference), "sky image") as hdul:
        image_header = hdul[0].header if hdul[0].header.get("NAXIS", 0) == 2 else None
        if image_header is not None:
            import warnings

            from astropy.wcs import FITSFixedWarning

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                return WCS(image_header).celestial
    from nuskybgd.io.events import read_events

    return read_events(reference, columns=["X", "Y"]).wcs


def _shape_params(reg) -> tuple[str, dict[str, Any]]:
    """ds9 kind and parameters (0-based pixels, pixel lengths, degrees) of a pixel region."""
    kind = type(reg).__name__.replace("PixelRegion", "")
    if kind == "Polygon":
        return "polygon", {"x": [float(v) for v in reg.vertices.x], "y": [float(v) for v in reg.vertices.y]}
    c = {"x": float(reg.center.x), "y": float(reg.center.y)}
    if kind == "Circle":
        return "circle", {**c, "r": float(reg.radius)}
    if kind == "CircleAnnulus":
        return "annulus", {**c, "r_in": float(reg.inner_radius), "r_out": float(reg.outer_radius)}
    if kind == "Ellipse":
        return "ellipse", {**c, "width": float(reg.width), "height": float(reg.height),
                           "angle": float(reg.angle.to_value("deg"))}
    return "box", {**c, "width": float(reg.width), "height": float(reg.height),
                   "angle": float(reg.angle.to_value("deg"))}


def region_shapes(path: str | Path, reference: str | Path | None = None) -> list[dict[str, Any]]:
    """The shapes of a ds9 region file in the sky grid's pixels, for drawing overlays.

    Parameters
    ----------
    path : path
        ds9 region file (``srcA.reg``, ``bgd0A.reg``), sky (fk5 …) or image coordinates.
    reference : path, optional
        Sky image or event file whose WCS converts sky coordinates; default the observation's
        ``nu*_cl_3to20keV.fits`` beside the region or in the folder above it.

    Returns
    -------
    list of dict
        ``{"kind": "circle"|"ellipse"|"box"|"polygon"|"annulus", "include": bool, "params": {...}}``
        with ``x``, ``y`` 0-based pixel coordinates of the sky grid (array column and row, i.e.
        sky X − 1 and Y − 1), radii, widths and heights in sky pixels (2.46″), angles in degrees.
        A pixel is in a shape when its centre is (the selection rule of the masks).

    Raises
    ------
    InputError
        Unreadable region file, or a sky region without a WCS to convert it with.
    """
    from nuskybgd.products.regions import is_included, read_regions

    p = Path(path)
    shapes = read_regions(p)
    wcs = _sky_wcs(reference, p) if any(not hasattr(s, "to_mask") for s in shapes) else None
    out = []
    for reg in shapes:
        pix = reg if hasattr(reg, "to_mask") else reg.to_pixel(wcs)
        kind, params = _shape_params(pix)
        out.append({"kind": kind, "include": is_included(reg), "params": params})
    return out


class SpectrumView(NamedTuple):
    """A PHA spectrum ready to plot: channel centre energies (keV), counts per channel, exposure (s)
    and BACKSCAL (region area / 10⁶ sky pixels for nuskybgd's spectra)."""

    energy_kev: np.ndarray
    counts: np.ndarray
    exposure: float
    backscal: float


def spectrum(path: str | Path) -> SpectrumView:
    """The spectrum of a PHA file: ``(channel energies keV, counts, exposure s, backscal)``.

    Energies are channel centres by the PI rule of :mod:`nuskybgd.energy` (1.62 + 0.04 PI keV).

    Raises
    ------
    InputError
        Not a readable PHA file (one sentence naming it).
    """
    import numpy as np

    from nuskybgd.constants import PI_DE_KEV
    from nuskybgd.energy import pi_to_energy
    from nuskybgd.io.ogip import read_pha

    pha = read_pha(Path(path))
    energy = np.asarray(pi_to_energy(np.asarray(pha.channels))) + PI_DE_KEV / 2
    backscal = float(np.mean(pha.backscal)) if np.ndim(pha.backscal) else float(pha.backscal)
    return SpectrumView(energy, np.asarray(pha.counts, dtype=float), float(pha.exposure), backscal)

# -- fit and spec ---------------------------------------------------------------------------


@dataclass
class FitView:
    """What the wizard draws for a fit (plain data from :mod:`nuskybgd.workflow.plotdata`).

    Attributes
    ----------
    spectra : list of SpectrumCurves
        Per spectrum: energies (keV), data rate ± error, total and per-component model rates
        (counts s⁻¹ keV⁻¹) and residuals (σ).
    statistics : dict
        Statistic, value, dof, p-value and per-region contributions.
    parameters : list of dict
        Every parameter by name with its XSPEC index, value, error and free/frozen/linked.
    recipe : list of dict
        The recipe's actions: name, on/off, description, XSPEC commands.
    state : Path
        The ``NAME_fit.json`` read.
    """

    spectra: list
    statistics: dict
    parameters: list[dict]
    recipe: list[dict]
    state: Path


@dataclass
class SpecView:
    """The source against its projected background, per source region (ProjectionCurves)."""

    sources: list
    xcm: Path


def _product(runner: Runner, key: str, suffix: str) -> Path:
    from nuskybgd.errors import InputError

    step = runner.build(key)
    for p in step.outputs():
        if str(p).endswith(suffix) and Path(p).is_file():
            return Path(p)
    raise InputError(f"step '{key}' has not written its {suffix} yet; run it first.")


def fit_view(runner: Runner | None = None, key: str | None = None, state: str | Path | None = None,
             min_counts: float = 20.0) -> FitView:
    """The fit of step ``key`` (``fit.A``) of ``runner``, or of the file ``state`` (NAME_fit.json)."""
    from nuskybgd.workflow import plotdata

    path = Path(state) if state is not None else _product(runner, key, "_fit.json")
    statistics = plotdata.statistics_table(path)        # a file that is no fit state fails here
    problem = plotdata.fitted_problem(path)              # built once for curves and parameters
    return FitView(plotdata.fit_curves(path, min_counts, problem), statistics,
                   plotdata.parameter_table(path, problem), plotdata.recipe_table(path), path)


def spec_view(runner: Runner | None = None, key: str | None = None, config: str | Path | None = None,
              projected: str | Path | None = None, min_counts: float = 20.0) -> SpecView:
    """The projection of step ``key`` (``spec.A``) of ``runner``, or of the files ``config``
    (bgdinfo.json) and ``projected`` (bgd_<src>.xcm)."""
    from nuskybgd.workflow import plotdata

    if projected is None:
        projected = _product(runner, key, ".xcm")
        config = runner.build(key).config
    return SpecView(plotdata.projection_curves(config, projected, min_counts), Path(projected))


def text(path: str | Path, limit: int = 1_000_000) -> str:
    """The text of a product (``bgd_only_srcA.xcm``), at most ``limit`` characters.

    Raises
    ------
    InputError
        The file is missing or not text (one sentence naming it).
    """
    from nuskybgd.errors import InputError

    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            return fh.read(limit)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p} cannot be read as text ({exc}); run the step again.", p) from None
