"""Make the projbgd images from the chip map, the aspect histogram, a reference sky frame and the
calibration's aperture image (the work of the ``projbgd`` step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.constants import DET1_SIZE
from nuskybgd.errors import InputError
from nuskybgd.events import Reporter
from nuskybgd.geometry.aspect import AspectHistogram
from nuskybgd.geometry.projbgd import (
    ProjectedImages,
    SkyMapping,
    aperture_counts_image,
    project_maps,
)
from nuskybgd.io.atomic import check_writable, write_fits_atomic
from nuskybgd.io.images import header_float, read_aspect_image, read_chipmap, sky_frame_from_header
from nuskybgd.io.ogip import open_fits
from nuskybgd.products.headers import projected_image_header
from nuskybgd.products.images import OBS_KEYWORDS, sky_image_header
from nuskybgd.provenance import stamp_header

__all__ = ["ProjbgdInputs", "ProjbgdProducts", "make_projected_images", "aperture_from_calibration",
           "mapping_from_events"]


@dataclass
class ProjbgdInputs:
    """The files projbgd reads (``refimg`` or ``evtfile`` gives the sky frame)."""

    module: str
    chipmap: Path
    aspect: Path
    refimg: Path | None
    evtfile: Path | None
    dets: list[int]
    _frame: tuple | None = field(default=None, repr=False)

    def frame(self) -> tuple[fits.Header, tuple[int, int], float]:
        """(header with the sky WCS, (ny, nx), PA_PNT in deg), read once."""
        if self._frame is None:
            self._frame = _reference_frame(self.refimg) if self.refimg is not None else _event_frame(self.evtfile)
        return self._frame

    def date_obs(self) -> str | None:
        """DATE-OBS of the reference frame (for the calibration lookup)."""
        return self.frame()[0].get("DATE-OBS")


@dataclass
class ProjbgdProducts(ProjectedImages):
    """:class:`ProjectedImages` plus the active DET1 sub-pixels per chip-map value."""

    areas: dict[int, int] = field(default_factory=dict)


def _reference_frame(refimg: Path) -> tuple[fits.Header, tuple[int, int], float]:
    with open_fits(refimg, "reference image") as hdul:
        hdu = next((h for h in hdul if h.is_image and h.header.get("NAXIS", 0) == 2), None)
        if hdu is None:
            raise InputError(f"reference image {refimg} holds no 2-D image; give the sky image "
                             "made by 'nuskybgd mkimgs'.", refimg)
        header = hdu.header.copy()
    shape, _ = sky_frame_from_header(header, refimg)
    if "PA_PNT" not in header:
        raise InputError(f"reference image {refimg} lacks the PA_PNT keyword (roll angle); add it "
                         "or remake the image with 'nuskybgd mkimgs'.", refimg)
    return header, shape, header_float(header, "PA_PNT", refimg, "reference image")


def _event_frame(evtfile: Path) -> tuple[fits.Header, tuple[int, int], float]:
    from nuskybgd.io.events import read_event_headers, read_events
    from nuskybgd.products.counts_image_file import tlmax_key

    prim, evh, _ = read_event_headers(evtfile)
    ev = read_events(evtfile, columns=["X", "Y"])
    if ev.wcs is None:
        raise InputError(f"event file {evtfile} has no sky WCS on its X/Y columns.", evtfile)
    if evh.get("PA_PNT", prim.get("PA_PNT")) is None:
        raise InputError(f"event file {evtfile} lacks the PA_PNT keyword (roll angle).", evtfile)
    pa = header_float(evh if "PA_PNT" in evh else prim, "PA_PNT", evtfile, "event file")
    w = ev.wcs.wcs
    header = sky_image_header({"ctype": list(w.ctype), "crpix": list(w.crpix), "crval": list(w.crval),
                               "cdelt": list(w.cdelt)}, 1)
    for key in OBS_KEYWORDS:
        v = evh.get(key, prim.get(key))
        if v is not None:
            header[key] = v
    size = int(evh.get(tlmax_key(evh, "X"), 1000) or 1000)
    return header, (size, size), pa


def _read_maps(inputs: ProjbgdInputs) -> tuple[np.ndarray, AspectHistogram]:
    chip, chip_mod = read_chipmap(inputs.chipmap)
    m = inputs.module
    if chip_mod is not None and chip_mod != m:
        raise InputError(f"chip map {inputs.chipmap} is for FPM{chip_mod} but mod={m}; give "
                         f"newinstrmap{m}.fits.", inputs.chipmap)
    img, x_off, y_off, hist_mod = read_aspect_image(inputs.aspect)
    if hist_mod is not None and hist_mod != m:
        raise InputError(f"aspect histogram {inputs.aspect} is for FPM{hist_mod} but mod={m}; give "
                         f"aspecthist{m}.fits.", inputs.aspect)
    if not set(np.unique(chip).tolist()) <= {0, 1, 2, 3, 4}:
        raise InputError(f"chip map {inputs.chipmap} holds values other than 0–4; give the newinstrmap file "
                         "made by 'nuskybgd mkinstrmap'.", inputs.chipmap)
    return chip, AspectHistogram(img, x_off, y_off, float(img.sum()), module=hist_mod)


def mapping_from_events(evtfile: Path, det1_file: Path, pa_pnt: float) -> SkyMapping:
    """The DET1 → sky mapping measured from ``evtfile``'s (DET1X, DET1Y) ↔ (X, Y) pairs.

    Parameters
    ----------
    evtfile : Path
        Cleaned event file with TIME, DET1X, DET1Y, X, Y.
    det1_file : Path
        ``nu<seq><m>_det1.fits``: the sky position of DET1 (350, 350) over time.
    pa_pnt : float
        ``PA_PNT`` [deg], only to state the fitted roll relative to it.

    Returns
    -------
    SkyMapping
        ``kind="events"``; ``bin_offset`` is the mean of ``track − 1 − ⌊track⌋`` at the events'
        times (where the track's point lies relative to the aspect histogram's bin index).

    Raises
    ------
    InputError
        Missing columns, no event inside the track's time span, or pairs that are not a DET1 → sky
        mapping (naming the file).
    """
    from nuskybgd.geometry.sky_mapping import fit_sky_mapping
    from nuskybgd.io.events import read_det1_refpoint, read_events

    ev = read_events(evtfile, columns=["TIME", "DET1X", "DET1Y", "X", "Y"])
    track = read_det1_refpoint(det1_file)
    good = np.isfinite(track.time) & np.isfinite(track.x_det1) & np.isfinite(track.y_det1)
    order = np.argsort(track.time[good], kind="mergesort")
    tt, tx, ty = (a[good][order] for a in (track.time, track.x_det1, track.y_det1))
    t = np.asarray(ev["TIME"], dtype=float)
    x, y = np.asarray(ev["X"], dtype=float), np.asarray(ev["Y"], dtype=float)
    use = (ev.valid("X") & ev.valid("Y") & ev.valid("DET1X") & ev.valid("DET1Y") & (x >= 1) & (y >= 1)
           & (t >= tt[0]) & (t <= tt[-1])) if tt.size else np.zeros(t.size, dtype=bool)
    if not use.any():
        raise InputError(f"no event of {evtfile} falls inside the time span of the DET1 track {det1_file}; "
                         "give the track of the same observation and module, or use --mapping original.", evtfile)
    rx, ry = np.interp(t[use], tt, tx), np.interp(t[use], tt, ty)
    try:
        fit = fit_sky_mapping(np.asarray(ev["DET1X"], float)[use], np.asarray(ev["DET1Y"], float)[use],
                              x[use], y[use], rx, ry)
    except ValueError as exc:
        raise InputError(f"cannot measure the DET1 → sky mapping from {evtfile}: {exc}; use --mapping "
                         "original or nominal.", evtfile) from None
    offset = (float(np.mean(rx - 1.0 - np.floor(rx))), float(np.mean(ry - 1.0 - np.floor(ry))))
    return SkyMapping("events", fit.roll_deg, fit.det1_ref, offset, fit.describe(pa_pnt))


def aperture_from_calibration(cal, module: str, reporter: Reporter) -> np.ndarray:
    """The projbgd aperture image A from the calibration's solid-angle map and nomap parameters.

    Uses the full 576×576 ray-trace grid (``aperture_image_full()``), because the nomapbgd shift
    (~28 pixels) reaches outside DET1; sources with only the cropped 360×360 map pad it from the
    nearest edge.  The norm and shift come from ``aperture_params()`` (nomapbgdparams.dat, or
    nuskybgd's values).
    """
    params = dict(cal.aperture_params())
    if float(params.get("rotation_deg", 0.0) or 0.0) != 0.0:
        reporter.warning("the aperture model's rotation is not applied (nuskybgd-py never applies it either)")
    shift = None
    if "shift_x_mm" in params and "shift_y_mm" in params:
        shift = (float(params["shift_x_mm"]), float(params["shift_y_mm"]))
    grid = np.asarray(cal.aperture_image_full(), dtype=float)
    offset = (grid.shape[0] - DET1_SIZE) // 2
    return aperture_counts_image(grid, module, offset=offset, norm=params.get("norm"), shift_mm=shift)


def make_projected_images(inputs: ProjbgdInputs, cal, out: Path, det_outputs: dict[int, Path],
                          overwrite: bool, reporter: Reporter,
                          mapping: SkyMapping | None = None) -> ProjbgdProducts:
    """Compute and write ``out`` (bgdap) and ``det_outputs`` (chip value → det image).

    ``mapping`` places DET1 on the sky (default: nuskybgd-py's, :meth:`SkyMapping.original`).
    """
    for p in (out, *det_outputs.values()):
        check_writable(p, overwrite)
    header, shape, pa = inputs.frame()
    chip, hist = _read_maps(inputs)
    aperture = aperture_from_calibration(cal, inputs.module, reporter)
    reporter.check_cancelled()
    res = project_maps(chip, inputs.dets, aperture, hist, pa, shape, mapping=mapping)
    areas = {k: int((chip == k).sum()) for k in inputs.dets}
    for k in inputs.dets:
        if areas[k] and res.det[k].sum() < 0.99 * areas[k]:
            reporter.warning(f"DET{k - 1} falls partly outside the {shape[1]}×{shape[0]} sky frame "
                             f"(Σ = {res.det[k].sum():.0f} of {areas[k]} pixels)")
    src, detail = cal.source_for("aperture_image"), cal.detail_for("aperture_image")
    used = [p for p in (inputs.refimg, inputs.evtfile, inputs.chipmap, inputs.aspect) if p]

    def product(data: np.ndarray, kind: str) -> fits.HDUList:
        h = projected_image_header(header, res, pa, inputs.module, kind)
        stamp_header(h, calibration=src, calibration_detail=detail, inputs=used, task="projbgd")
        return fits.HDUList([fits.PrimaryHDU(np.asarray(data, dtype=np.float64), header=h)])

    products = [(out, product(res.bgdap, "bgdap"))]
    products += [(path, product(res.det[k], str(k - 1))) for k, path in det_outputs.items()]
    from nuskybgd.io.staging import atomic_set

    with atomic_set([path for path, _ in products], overwrite=overwrite) as stage:  # all five or none
        for path, hdul in products:
            write_fits_atomic(stage[path], hdul)
    return ProjbgdProducts(res.bgdap, res.det, res.peak, res.roll_deg, res.exposure, res.mapping, areas=areas)
