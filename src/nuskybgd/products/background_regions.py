"""Automatic per-detector background regions (the walkthrough's ``bgd{d}{m}.reg``).

For each detector d of module m the usable area is, on the sky grid of the event file:

1. the detector's **footprint**: pixels that see detector d at least ``edge_fraction`` of the
   time in projbgd's ``det{d}{m}im.fits`` and no other detector more than ``overlap_fraction``
   of the time (the gaps, smeared by the aspect motion, belong to nobody);
2. minus a **border** of ``border`` sky pixels along the footprint's edges (binary erosion);
3. minus the **source exclusion**: the source region itself and a circle about its centre out
   to the radius where the source's expected counts per pixel fall below ``fraction`` (1 %) of
   the background per pixel.  The source's counts and the background per pixel are measured
   from the events (a two-equation fit: counts inside the source region and on all footprints
   are source × PSF fraction + background × area), with the PSF of :mod:`nuskybgd.products.psf`;
4. minus **user exclusions**: ds9 files in sky coordinates, and ds9 files in DET1 image
   coordinates (StrayCats stray-light regions), which are fixed on the detector and so are
   swept over the sky by the aspect track: a sky pixel is excluded when it saw an excluded
   DET1 pixel at any time of the good time intervals;
5. when hand-drawn background areas are given (``within``: ds9 files in sky coordinates), only
   the part of the footprint inside their union (each detector's share is still its own region).

A detector whose usable area is smaller than ``min_pixels`` is skipped with a message.  Each
usable detector's area is written as ``bgd{d}{m}.reg`` in fk5 (polygons along pixel edges, see
:mod:`nuskybgd.products.mask_shapes`) that reads back to exactly the same pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError
from nuskybgd.events import Reporter, Silent

__all__ = [
    "BackgroundRegions",
    "det1_exclusion_sky_mask",
    "detector_footprints",
    "make_background_regions",
    "source_centre",
    "source_exclusion_radius",
]


#: A source region whose pixels the detectors see less than this fraction of the time (on
#: average) lies on a gap: an error, since neither the source nor its exclusion can be measured.
GAP_FRACTION = 0.25


@dataclass
class BackgroundRegions:
    """What :func:`make_background_regions` found and wrote."""

    files: dict[int, Path] = field(default_factory=dict)
    masks: dict[int, np.ndarray] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    radius_arcsec: float = 0.0
    source_counts: float = 0.0
    background_per_pixel: float = 0.0
    source_xy: tuple[float, float] = (0.0, 0.0)


def _read_det_images(det_images: Sequence[str | Path], module: str, event_file: Path):
    from nuskybgd.io.ogip import open_fits

    images = {}
    for path in det_images:
        p = Path(path)
        with open_fits(p, "detector image") as hdul:
            data = np.asarray(hdul[0].data, dtype=np.float64)
            ins = str(hdul[0].header.get("INSTRUME", "")).strip().upper()
        if ins in ("FPMA", "FPMB") and ins[-1] != module:
            raise InputError(f"detector image {p} is for {ins} but event file {event_file} is FPM{module}; "
                             "give the det images of the same module.", p)
        name = p.name.split(".")[0]
        if not (name.startswith("det") and name[3:4].isdigit()):
            raise InputError(f"detector image {p} is not named det<d><m>im.fits; give projbgd's outputs.", p)
        images[int(name[3])] = data
    return images


def detector_footprints(images: dict[int, np.ndarray], edge_fraction: float = 0.9,
                        overlap_fraction: float = 1e-3, border: int = 3) -> dict[int, np.ndarray]:
    """Sky pixels that belong to one detector only, ``border`` pixels away from its edges.

    Parameters
    ----------
    images : dict det → ndarray
        projbgd det images (fraction of the exposure each sky pixel sees detector d).
    edge_fraction : float
        Minimum fraction of the exposure on the detector.
    overlap_fraction : float
        Maximum fraction on any other detector.
    border : int
        Erosion in sky pixels (2.46″ each).
    """
    from scipy.ndimage import binary_erosion

    out = {}
    for d, img in images.items():
        peak = float(img.max()) if img.size else 0.0
        core = img >= edge_fraction * peak if peak > 0 else np.zeros(img.shape, bool)
        for e, other in images.items():
            if e != d:
                core &= other <= overlap_fraction * max(float(other.max()), 1e-30)
        if border > 0:
            core = binary_erosion(core, iterations=int(border))
        out[d] = core
    return out


def source_exclusion_radius(source_counts: float, background_per_pixel: float,
                            fraction: float = 0.01) -> float:
    """Radius (arcsec) beyond which the source's expected counts per sky pixel fall below
    ``fraction`` × the background counts per pixel (capped at the PSF's 10′ truncation)."""
    from nuskybgd.products.psf import radius_below

    if source_counts <= 0:
        return 0.0
    if background_per_pixel <= 0:
        return radius_below(0.0)
    return radius_below(fraction * background_per_pixel / source_counts)


def det1_exclusion_sky_mask(region_file: str | Path, det1_file: str | Path, gti, pa_pnt: float,
                            shape: tuple[int, int], convention: str = "physical") -> np.ndarray:
    """Sky pixels that saw any pixel of a DET1-image-coordinate region during the good times.

    Parameters
    ----------
    region_file : path
        ds9 file in ``image`` coordinates of the 360 × 360 DET1 grid (StrayCats regions).
    det1_file : path
        ``nu<seq><m>_det1.fits``: the sky position of DET1 (350, 350) over time.
    gti : nuskybgd.io.events.Gti
        Times at which the track counts.
    pa_pnt : float
        Roll (deg).
    shape : (ny, nx)
        Sky grid.
    convention : {"physical", "projbgd"}
        DET1 → sky mapping of :mod:`nuskybgd.geometry.frames`.
    """
    from nuskybgd.geometry.frames import det1_index_to_sky_index
    from nuskybgd.io.events import read_det1_refpoint
    from nuskybgd.products.regions import read_regions, shapes_mask

    shapes = read_regions(region_file)
    if any(not hasattr(s, "to_mask") for s in shapes):
        raise InputError(f"region file {region_file} is in sky coordinates; pass it as a sky exclusion, "
                         "not a DET1 one.", region_file)
    det1 = shapes_mask(shapes, (360, 360), name=f"region file {region_file}")
    track = read_det1_refpoint(det1_file)
    good = gti.contains(track.time) & np.isfinite(track.x_det1) & (np.abs(track.x_det1) < 1e4)
    if not good.any():
        raise InputError(f"DET1 track {det1_file} has no sample in the good times of the observation; "
                         "give the _det1.fits file of this observation.", det1_file)
    # the track to 1/4 sky pixel: a few hundred distinct positions instead of every 0.2 s sample
    q = np.unique(np.round(np.column_stack([track.x_det1[good], track.y_det1[good]]) * 4) / 4, axis=0)
    v, u = np.nonzero(det1)
    sub = np.array([-0.25, 0.25])
    uu = (u[:, None, None] + sub[None, :, None] + 0 * sub[None, None, :]).ravel()
    vv = (v[:, None, None] + 0 * sub[None, :, None] + sub[None, None, :]).ravel()
    out = np.zeros(shape, dtype=bool)
    for start in range(0, len(q), 64):  # chunks of track positions bound the memory
        block = q[start:start + 64]
        i, j = det1_index_to_sky_index(uu[None, :], vv[None, :], block[:, :1], block[:, 1:], pa_pnt,
                                       convention=convention)
        ii, jj = np.rint(i).astype(np.int64).ravel(), np.rint(j).astype(np.int64).ravel()
        ok = (ii >= 0) & (jj >= 0) & (ii < shape[1]) & (jj < shape[0])
        out[jj[ok], ii[ok]] = True
    return out


def source_centre(source_region: str | Path, wcs) -> tuple[float, float]:
    """The source position of a ds9 source region: the centre of its first include shape.

    Returns 0-based sky pixel indices ``(x, y)`` on the grid of ``wcs``.

    Raises
    ------
    InputError
        The region has no include shape with a centre.
    """
    from nuskybgd.products.regions import read_regions

    return _source_centre(read_regions(source_region), wcs, f"source region {source_region}")


def _source_centre(shapes, wcs, where: str | Path = "the source region") -> tuple[float, float]:
    for s in shapes:
        if int(s.meta.get("include", 1)) and hasattr(s, "center"):
            c = s.center if hasattr(s, "to_mask") else s.center.to_pixel(wcs)
            if hasattr(s, "to_mask"):
                return float(c.x), float(c.y)
            return float(c[0]), float(c[1])
    raise InputError(f"{where} has no include shape with a centre; draw a circle on the source.")


def _measure(flat_events: np.ndarray, src_mask: np.ndarray, footprint: np.ndarray, psf) -> tuple[float, float]:
    """Source counts and background counts per pixel from counts in the source region and on the
    footprints: n_in = S·f_in + B·a_in, n_fp = S·f_fp + B·a_fp."""
    counts = np.bincount(flat_events, minlength=src_mask.size)
    n_in, a_in, f_in = counts[src_mask.ravel()].sum(), src_mask.sum(), psf.fraction(src_mask)
    n_fp, a_fp, f_fp = counts[footprint.ravel()].sum(), footprint.sum(), psf.fraction(footprint)
    a = np.array([[f_in, a_in], [f_fp, a_fp]], dtype=float)
    try:
        s, b = np.linalg.solve(a, [n_in, n_fp])
    except np.linalg.LinAlgError:
        s, b = n_in / max(f_in, 1e-12), n_fp / max(a_fp, 1)
    return max(float(s), 0.0), max(float(b), 0.0)


def make_background_regions(
    event_file: str | Path,
    det_images: Sequence[str | Path],
    source_region: str | Path,
    outdir: str | Path,
    *,
    exclusions: Sequence[str | Path] = (),
    within: Sequence[str | Path] = (),
    det1_exclusions: Sequence[str | Path] = (),
    det1_file: str | Path | None = None,
    convention: str = "physical",
    border: int = 3,
    fraction: float = 0.01,
    radius_arcsec: float | None = None,
    min_pixels: int = 1000,
    overwrite: bool = False,
    reporter: Reporter | None = None,
) -> BackgroundRegions:
    """Make and write ``bgd{d}{m}.reg`` for every usable detector.

    Parameters
    ----------
    event_file : path
        Cleaned event file (sky X/Y, TIME, GTI).
    det_images : sequence of path
        projbgd's ``det{d}{m}im.fits`` (one per detector to consider).
    source_region : path
        ds9 source region (its first include shape's centre is the source position).
    outdir : path
        Folder for the region files (``event_cl/bgd/``).
    exclusions : sequence of path
        ds9 files in sky coordinates whose selected area is excluded.
    within : sequence of path
        ds9 files in sky coordinates drawn by hand: when given, the regions are cut only inside
        the union of their selected areas.
    det1_exclusions : sequence of path
        ds9 files in DET1 image coordinates (stray light), mapped through ``det1_file``.
    det1_file : path, optional
        ``nu<seq><m>_det1.fits``; required with ``det1_exclusions``.
    convention : {"physical", "projbgd"}
        DET1 → sky mapping for the DET1 exclusions.
    border : int
        Sky pixels removed along detector edges and gaps.
    fraction : float
        Source exclusion: source counts per pixel below this fraction of the background.
    radius_arcsec : float, optional
        Fixed source-exclusion radius instead of the PSF-based one.
    min_pixels : int
        Detectors with fewer usable sky pixels are skipped (with a message).
    overwrite : bool
        Replace existing region files.
    reporter : Reporter, optional
        Messages, progress and cancellation.

    Raises
    ------
    InputError
        Unreadable inputs, det images of the other module, a source region that selects no pixel or
        lies on no detector, DET1 exclusions without a DET1 track, no usable detector.
    """
    from nuskybgd.io.atomic import check_writable
    from nuskybgd.io.events import read_events
    from nuskybgd.products.mask_shapes import mask_to_regions
    from nuskybgd.products.psf import PIXEL_ARCSEC, PixelPsf
    from nuskybgd.products.regions import region_mask, write_regions

    rep = reporter or Silent()
    ev = read_events(event_file, columns=["X", "Y", "TIME"])
    module = ev.module or "A"
    if ev.wcs is None or ev.gti is None:
        raise InputError(f"event file {ev.path} lacks a sky WCS or a GTI extension; give a cleaned "
                         "event file.", ev.path)
    images = _read_det_images(det_images, module, ev.path)
    names = ", ".join(Path(p).name for p in det_images)
    shape = next(iter(images.values())).shape
    outdir = Path(outdir)
    targets = {d: outdir / f"bgd{d}{module}.reg" for d in sorted(images)}
    for path in targets.values():  # refuse before any work or output
        check_writable(path, overwrite)
    src_mask = region_mask(source_region, shape, ev.wcs, require_pixels=True,
                           image_name=f"sky grid of {ev.path.name}", warn=rep.warning)
    coverage = sum(images.values())
    if not (coverage[src_mask] > 0).any():
        raise InputError(f"source region {source_region} lies on no detector of {names}; check the "
                         "region or the detector images.", source_region)
    seen = float(coverage[src_mask].mean()) / max(float(coverage.max()), 1e-30)
    if seen < GAP_FRACTION:
        raise InputError(f"source region {source_region} lies on a detector gap (detectors see it "
                         f"{seen:.0%} of the time in {names}); centre it on the source.", source_region)
    from nuskybgd.products.regions import read_regions

    centre = _source_centre(read_regions(source_region), ev.wcs, f"source region {source_region}")
    ix = np.rint(ev["X"].astype(float)).astype(np.int64) - 1
    iy = np.rint(ev["Y"].astype(float)).astype(np.int64) - 1
    ok = ev.valid("X") & ev.valid("Y") & (ix >= 0) & (iy >= 0) & (ix < shape[1]) & (iy < shape[0])
    ok &= ev.gti.contains(ev["TIME"])
    flat = iy[ok] * shape[1] + ix[ok]
    footprints = detector_footprints(images, border=border)
    all_fp = np.logical_or.reduce(list(footprints.values()))
    psf = PixelPsf(shape, centre)
    result = BackgroundRegions(source_xy=centre)
    result.source_counts, result.background_per_pixel = _measure(flat, src_mask, all_fp, psf)
    if radius_arcsec is None:
        radius_arcsec = source_exclusion_radius(result.source_counts, result.background_per_pixel, fraction)
    result.radius_arcsec = float(radius_arcsec)
    rep.log(f"source: {result.source_counts:.0f} counts, background {result.background_per_pixel:.4g} "
            f"counts/pixel; excluding {radius_arcsec:.0f}\" about the source")
    yy, xx = np.ogrid[0:shape[0], 0:shape[1]]
    excluded = src_mask | (np.hypot(xx - centre[0], yy - centre[1]) * PIXEL_ARCSEC <= radius_arcsec)
    for path in exclusions:
        excluded |= region_mask(path, shape, ev.wcs, warn=rep.warning)
    if det1_exclusions and det1_file is None:
        raise InputError("DET1 exclusions need the observation's DET1 track; give the "
                         "nu<seqid><m>_det1.fits file.")
    pa = float(ev.keyword("PA_PNT", 0.0))
    for path in det1_exclusions:
        excluded |= det1_exclusion_sky_mask(path, det1_file, ev.gti, pa, shape, convention)
    allowed = None
    for path in within:
        area = region_mask(path, shape, ev.wcs, require_pixels=True,
                           image_name=f"sky grid of {ev.path.name}", warn=rep.warning)
        allowed = area if allowed is None else allowed | area
    if allowed is not None:
        excluded |= ~allowed
    for k, d in enumerate(sorted(images)):
        rep.check_cancelled()
        usable = footprints[d] & ~excluded
        n = int(usable.sum())
        if n < min_pixels:
            result.skipped[d] = (f"detector {d}: {n} usable sky pixels (< {min_pixels}) after the source "
                                 "and user exclusions; no background region written")
            rep.log(result.skipped[d])
            continue
        shapes = mask_to_regions(usable, ev.wcs)
        note = (f"nuskybgd background region for detector {d} of FPM{module} ({n} sky pixels)\n"
                f"source exclusion radius {radius_arcsec:.1f} arcsec about sky pixel "
                f"({centre[0] + 1:.2f}, {centre[1] + 1:.2f}); border {border} px\n"
                "shapes along pixel edges: reading it back selects exactly these pixel centres")
        result.files[d] = write_regions(shapes, targets[d], overwrite=overwrite, header=note)
        result.masks[d] = usable
        rep.output(result.files[d])
        rep.progress((k + 1) / len(images), f"detector {d}")
    if not result.files:
        raise InputError(f"no detector of {names} keeps {min_pixels} usable sky pixels after the "
                         "exclusions; reduce the exclusions or draw background regions by hand.")
    return result
