"""Pipeline steps of the image side: counts images, instrument map, aspect histogram, projbgd.

Each step validates every input before computing and writes its outputs atomically, so bad
input ends in one :class:`~nuskybgd.errors.InputError` sentence and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.constants import DET1_PIXEL_DEG, DET1_SIZE, N_DETECTORS
from nuskybgd.energy import band_to_pi
from nuskybgd.errors import CalibrationError, InputError
from nuskybgd.geometry.aspect import AspectHistogram, aspect_histogram
from nuskybgd.geometry.instrmap import (
    BAD_FRACTION,
    BadPixelRows,
    bad_pixel_table,
    badflag_values,
    instrument_map,
)
from nuskybgd.geometry.projbgd import aperture_counts_image, project_maps
from nuskybgd.io.atomic import check_writable, write_fits_atomic
from nuskybgd.io.ogip import open_fits
from nuskybgd.pipeline.step import Reporter, Step, StepResult
from nuskybgd.products.images import (
    OBS_KEYWORDS,
    counts_image,
    det1_image_header,
    image_name,
    sky_image_header,
)
from nuskybgd.provenance import BUILTIN_WARNING, stamp_header

__all__ = [
    "MkImgsStep",
    "MkInstrMapStep",
    "AspectHistStep",
    "ProjBgdStep",
    "read_aspect_histogram",
    "read_chipmap",
    "sky_frame_from_header",
]

#: Keywords of a counts image that are meaningless in a projbgd product.
_STALE_KEYS: tuple[str, ...] = ("BUNIT", "TOTCTS", "CHANMIN", "CHANMAX", "CHANTYPE", "E_MIN", "E_MAX",
                                "HDUCLAS2", "CHECKSUM", "DATASUM")


def _reporter(reporter: Reporter | None) -> Reporter:
    return reporter if reporter is not None else Reporter()


def _module_of(value, path: Path | None = None, what: str = "file") -> str | None:
    """'A'/'B' from an INSTRUME value ('FPMA'/'FPMB'), None if absent."""
    if value is None:
        return None
    s = str(value).strip().upper()
    if s in ("FPMA", "A"):
        return "A"
    if s in ("FPMB", "B"):
        return "B"
    raise InputError(f"{what} {path} has INSTRUME={value!r}; expected FPMA or FPMB.", path)


def _resolve_calibration(module: str, date_obs: str | None, reporter: Reporter):
    """The calibration source in use for ``module`` (CALDB, auxiliary folder or built-in)."""
    from nuskybgd.calib import resolve

    return resolve(module, date_obs=date_obs or None)


def _cal_labels(cal, *items: str) -> tuple[str | None, str | None]:
    """(source label, detail) of the calibration items a product uses."""
    source_for = getattr(cal, "source_for", None)
    detail_for = getattr(cal, "detail_for", None)
    src = source_for(*items) if callable(source_for) and items else getattr(cal, "source", None)
    detail = detail_for(*items) if callable(detail_for) and items else getattr(cal, "detail", None)
    return src, detail


def _announce_builtin(cal, reporter: Reporter, *items: str) -> None:
    """Say loudly when any item this product uses comes from the built-in nominal models."""
    src, _ = _cal_labels(cal, *items)
    if src and "BUILTIN" in str(src).upper():
        reporter.warning(f"{', '.join(items) or 'calibration'}: " + BUILTIN_WARNING)


# --------------------------------------------------------------------------------------------
# counts images
# --------------------------------------------------------------------------------------------


class MkImgsStep(Step):
    """Counts image of a cleaned event file in an energy band (sky or DET1)."""

    name = "mkimgs"
    title = "Counts images"
    help = (
        "Make counts images of the cleaned events in an energy band: the sky image (1000×1000 on "
        "the event file's WCS, used as projbgd's reference image) or the DET1 image (360×360)."
    )

    def __init__(
        self,
        event_file: str | Path,
        elow: float | str = 3,
        ehigh: float | str = 20,
        *,
        det1: bool = False,
        binning: int = 1,
        outdir: str | Path | None = None,
        outfile: str | Path | None = None,
        overwrite: bool = False,
    ) -> None:
        self.event_file = Path(event_file)
        self.elow_text, self.ehigh_text = str(elow), str(ehigh)
        try:
            self.elow, self.ehigh = float(elow), float(ehigh)
        except ValueError:
            raise InputError(f"energy band {elow}–{ehigh} keV is not numeric; give numbers in keV.") from None
        self.det1 = det1
        self.binning = int(binning)
        if self.binning < 1:
            raise InputError(f"--bin {binning} is not a positive integer; give 1 (unbinned) or more.")
        self.overwrite = overwrite
        if outfile is not None:
            self.outfile = Path(outfile)
        else:
            folder = Path(outdir) if outdir is not None else self.event_file.parent
            self.outfile = folder / image_name(self.event_file.name, self.elow_text, self.ehigh_text, det1)

    def inputs(self) -> list[Path]:
        return [self.event_file]

    def outputs(self) -> list[Path]:
        return [self.outfile]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.io.events import read_events

        rep = _reporter(reporter)
        try:
            pi_min, pi_max = band_to_pi(self.elow, self.ehigh)
        except ValueError as exc:
            raise InputError(f"{exc}.") from None
        check_writable(self.outfile, self.overwrite)
        xcol, ycol = ("DET1X", "DET1Y") if self.det1 else ("X", "Y")
        ev = read_events(self.event_file, columns=["PI", xcol, ycol])
        sel = ev.valid("PI") & (ev["PI"] >= pi_min) & (ev["PI"] <= pi_max)
        sel &= ev.valid(xcol) & ev.valid(ycol)
        size = DET1_SIZE if self.det1 else 1000
        if not self.det1:
            if ev.wcs is None:
                raise InputError(
                    f"event file {self.event_file} has no sky WCS (TCTYP/TCRPX/TCRVL/TCDLT of X and Y); "
                    "it cannot give a sky image.", self.event_file)
            size = int(ev.header.get(_tlmax_key(ev.header, "X"), 1000) or 1000)
        img = counts_image(ev[xcol][sel], ev[ycol][sel], size, self.binning)
        hdr = fits.Header()
        hdr["HDUCLASS"] = ("OGIP", "format conforms to OGIP/GSFC conventions")
        hdr["HDUCLAS1"] = ("IMAGE", "extension contains an image")
        hdr["HDUCLAS2"] = ("ALL", "")
        for key in OBS_KEYWORDS:
            val = ev.header.get(key, ev.primary_header.get(key))
            if val is not None:
                hdr[key] = val
        if "PA_PNT" not in hdr:
            rep.warning(f"{self.event_file} has no PA_PNT; projbgd will need the roll from elsewhere.")
        if self.det1:
            hdr.update(det1_image_header(self.binning))
        else:
            w = ev.wcs.wcs
            hdr.update(sky_image_header(
                {"ctype": list(w.ctype), "crpix": list(w.crpix), "crval": list(w.crval),
                 "cdelt": list(w.cdelt), "cunit": [str(u) for u in w.cunit]},
                self.binning))
        hdr["BUNIT"] = ("count", "")
        hdr["TOTCTS"] = (int(img.sum()), "total counts in the image")
        hdr["CHANMIN"] = (pi_min, "lowest PI channel included")
        hdr["CHANMAX"] = (pi_max, "highest PI channel included")
        hdr["CHANTYPE"] = ("PI", "energy channel")
        hdr["E_MIN"] = (round(1.6 + 0.04 * pi_min, 6), "[keV] lower edge of the band (channel edge)")
        hdr["E_MAX"] = (round(1.6 + 0.04 * (pi_max + 1), 6), "[keV] upper edge of the band (channel edge)")
        hdr["BAND"] = (f"{self.elow_text}-{self.ehigh_text} keV", "requested energy band")
        stamp_header(hdr, inputs=[self.event_file], task="mkimgs")
        hdul = fits.HDUList([fits.PrimaryHDU(img, header=hdr)])
        if ev.gti is not None:
            cols = [fits.Column("START", "1D", unit="s", array=ev.gti.start),
                    fits.Column("STOP", "1D", unit="s", array=ev.gti.stop)]
            g = fits.BinTableHDU.from_columns(cols, name="GTI")
            g.header["HDUCLASS"] = "OGIP"
            g.header["HDUCLAS1"] = "GTI"
            g.header["HDUCLAS2"] = "STANDARD"
            hdul.append(g)
        write_fits_atomic(self.outfile, hdul, self.overwrite)
        rep.log(f"{int(sel.sum())} events in PI {pi_min}–{pi_max} ({self.elow_text}–{self.ehigh_text} keV)")
        rep.output(self.outfile)
        return StepResult(outputs=[self.outfile], values={"counts": int(img.sum()), "chanmin": pi_min,
                                                          "chanmax": pi_max})


def _tlmax_key(header: fits.Header, column: str) -> str:
    for k in range(1, int(header.get("TFIELDS", 0)) + 1):
        if str(header.get(f"TTYPE{k}", "")).strip().upper() == column:
            return f"TLMAX{k}"
    return "TLMAX_NONE"


# --------------------------------------------------------------------------------------------
# instrument map
# --------------------------------------------------------------------------------------------


def _badpix_rows_from_events(ev, reporter: Reporter) -> list[BadPixelRows]:
    rows: list[BadPixelRows] = []
    t_default = (ev.keyword("TSTART"), ev.keyword("TSTOP"))
    for bp in ev.badpix:
        ts = bp.header.get("TSTART", t_default[0])
        te = bp.header.get("TSTOP", t_default[1])
        rows.append(BadPixelRows(
            det=int(bp.det_id), rawx=np.asarray(bp.rawx, dtype=np.int64),
            rawy=np.asarray(bp.rawy, dtype=np.int64), flag=badflag_values(bp.badflag),
            time=bp.time, time_stop=bp.time_stop,
            tstart=None if ts is None else float(ts), tstop=None if te is None else float(te),
            source=str(ev.path)))
    return rows


def read_user_badpix(path: str | Path, module: str) -> list[BadPixelRows]:
    """BADPIX tables of a user bad-pixel file (NuSTARDAS layout, or user style without TIME_STOP).

    Tables of the other module (primary ``INSTRUME``) are ignored, as in nuskybgd-py.
    """
    p = Path(path)
    out: list[BadPixelRows] = []
    with open_fits(p, "bad-pixel file") as hdul:
        file_module = _module_of(hdul[0].header.get("INSTRUME"), p, "bad-pixel file")
        if file_module is not None and file_module != module:
            return out
        found = False
        for hdu in hdul[1:]:
            if not isinstance(hdu, fits.BinTableHDU) or "BADPIX" not in str(hdu.header.get("EXTNAME", "")).upper():
                continue
            found = True
            names = {n.upper() for n in hdu.columns.names}
            if not {"RAWX", "RAWY"} <= names:
                raise InputError(f"BADPIX table of {p} lacks RAWX/RAWY; the file is malformed.", p)
            detnam = str(hdu.header.get("DETNAM", "")).strip().upper()
            if detnam.startswith("DET") and detnam[3:4].isdigit():
                det = int(detnam[3])
            else:
                det = int(hdu.header.get("EXTVER", 1)) - 1
            d = hdu.data
            n = len(d)
            flag = badflag_values(d["BADFLAG"]) if "BADFLAG" in names and n else np.zeros(n, dtype=np.int64)
            has_stop = "TIME_STOP" in names and "TIME" in names
            ts, te = hdu.header.get("TSTART"), hdu.header.get("TSTOP")
            out.append(BadPixelRows(
                det=det, rawx=np.asarray(d["RAWX"], dtype=np.int64).ravel(),
                rawy=np.asarray(d["RAWY"], dtype=np.int64).ravel(), flag=flag,
                time=np.asarray(d["TIME"], dtype=float) if has_stop else None,
                time_stop=np.asarray(d["TIME_STOP"], dtype=float) if has_stop else None,
                tstart=None if ts is None else float(ts), tstop=None if te is None else float(te),
                source=str(p)))
        if not found:
            raise InputError(f"{p} has no BADPIX extension; give a NuSTAR bad-pixel file.", p)
    return out


class MkInstrMapStep(Step):
    """``newinstrmap{A,B}.fits``: detector + 1 per DET1 sub-pixel, 0 in gaps and bad pixels."""

    name = "mkinstrmap"
    title = "Instrument map"
    help = (
        "Make the instrument map: which detector owns each DET1 sub-pixel (PIXPOS), minus the gaps "
        "(INSTRMAP) and the pixels that were bad for more than 80% of the observation or disabled "
        "on board (the event file's BADPIX extensions and any user bad-pixel files)."
    )

    def __init__(
        self,
        event_file: str | Path,
        *,
        usrbpix: Sequence[str | Path] = (),
        prefix: str = "",
        module: str | None = None,
        overwrite: bool = False,
        dryrun: bool = False,
        calibration=None,
    ) -> None:
        self.event_file = Path(event_file)
        self.usrbpix = [Path(p) for p in usrbpix]
        self.prefix = prefix
        self._module = module
        self.overwrite = overwrite
        self.dryrun = dryrun
        self.calibration = calibration

    def module(self) -> str:
        if self._module is None:
            from nuskybgd.io.events import read_event_headers

            prim, evh, _ = read_event_headers(self.event_file)
            m = _module_of(evh.get("INSTRUME", prim.get("INSTRUME")), self.event_file, "event file")
            if m is None:
                raise InputError(f"event file {self.event_file} has no INSTRUME keyword; it must say FPMA or FPMB.",
                                 self.event_file)
            self._module = m
        return self._module

    def inputs(self) -> list[Path]:
        return [self.event_file, *self.usrbpix]

    def outputs(self) -> list[Path]:
        try:
            mod = self.module()
        except InputError:
            mod = "A"
        return [Path(f"{self.prefix}newinstrmap{mod}.fits")]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.io.events import read_events

        rep = _reporter(reporter)
        mod = self.module()
        out = Path(f"{self.prefix}newinstrmap{mod}.fits")
        if not self.dryrun:
            check_writable(out, self.overwrite)
        ev = read_events(self.event_file, columns=["TIME"])
        rows = _badpix_rows_from_events(ev, rep)
        for p in self.usrbpix:
            rows.extend(read_user_badpix(p, mod))
        nrows = sum(len(r.rawx) for r in rows)
        rep.log(f"{len(rows)} BADPIX tables with {nrows} rows (event file and {len(self.usrbpix)} user files)")
        if self.dryrun:
            return StepResult(values={"badpix_rows": nrows})
        bad = bad_pixel_table(rows)
        cal = self.calibration or _resolve_calibration(mod, ev.keyword("DATE-OBS"), rep)
        _announce_builtin(cal, rep, "pixel_map", "active_area")
        pm = cal.pixel_map()
        active = np.asarray(cal.active_area())
        cmap = instrument_map(pm.det, pm.rawx, pm.rawy, active, bad)
        hdr = fits.Header()
        hdr["EXTNAME"] = ("INSTRMAP", "name kept for nuskybgd-py compatibility")
        for key in ("TELESCOP", "INSTRUME", "OBS_ID", "OBJECT", "DATE-OBS", "DATE-END", "TSTART", "TSTOP"):
            v = ev.keyword(key)
            if v is not None:
                hdr[key] = v
        for ax, name in ((1, "DET1X"), (2, "DET1Y")):
            hdr[f"CTYPE{ax}"] = name
            hdr[f"CRPIX{ax}"] = 180.5
            hdr[f"CRVAL{ax}"] = 0.0
            hdr[f"CDELT{ax}"] = DET1_PIXEL_DEG
            hdr[f"CUNIT{ax}"] = "deg"
        hdr["CONTENT"] = (f"NuSTAR FPM{mod} DET1 detector map, value DET_ID+1", "")
        hdr["BADFRAC"] = (BAD_FRACTION, "mask RAW pixels bad for more than this fraction")
        hdr["NBADRAW"] = (int(bad.sum()), "RAW pixels masked as bad")
        for d in range(N_DETECTORS):
            hdr[f"NPIXDET{d}"] = (int((cmap == d + 1).sum()), f"active good DET1 sub-pixels of DET{d}")
        hdr.add_comment("Value k = detector DET(k-1); 0 = gap, inactive or bad pixel.")
        hdr.add_comment("Bad: >80% of the observation (union of intervals) or disabled on board.")
        src, detail = _cal_labels(cal, "pixel_map", "active_area")
        stamp_header(hdr, calibration=src, calibration_detail=detail,
                     inputs=[self.event_file, *self.usrbpix], task="mkinstrmap")
        write_fits_atomic(out, fits.HDUList([fits.PrimaryHDU(cmap, header=hdr)]), self.overwrite)
        counts = [int((cmap == d + 1).sum()) for d in range(N_DETECTORS)]
        rep.log(f"{int(bad.sum())} RAW pixels bad; active sub-pixels per detector {counts}")
        rep.output(out)
        return StepResult(outputs=[out], values={"pixels": counts, "bad_raw": int(bad.sum())},
                          calibration=src)


# --------------------------------------------------------------------------------------------
# aspect histogram
# --------------------------------------------------------------------------------------------


class AspectHistStep(Step):
    """``aspecthist{A,B}.fits``: seconds per sky bin of DET1 pixel (350, 350) inside the GTIs."""

    name = "aspecthist"
    title = "Aspect histogram"
    help = (
        "Make the aspect histogram: how long the DET1 reference pixel spent at each sky position "
        "during the good time intervals (from the nu<seqid><A|B>_det1.fits track)."
    )

    def __init__(
        self,
        det1_file: str | Path,
        gti_file: str | Path,
        out: str | Path,
        *,
        clip_to_gti: bool = False,
        overwrite: bool = False,
    ) -> None:
        self.det1_file = Path(det1_file)
        self.gti_file = Path(gti_file)
        self.out = Path(out)
        self.clip_to_gti = clip_to_gti
        self.overwrite = overwrite

    def inputs(self) -> list[Path]:
        return [self.det1_file, self.gti_file]

    def outputs(self) -> list[Path]:
        return [self.out]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.io.events import read_det1_refpoint, read_gti

        rep = _reporter(reporter)
        check_writable(self.out, self.overwrite)
        ref = read_det1_refpoint(self.det1_file)
        mod = _module_of(ref.header.get("INSTRUME"), self.det1_file, "DET1 reference-point file")
        gti = read_gti(self.gti_file)
        if len(gti) == 0 or not np.any(gti.stop > gti.start):
            raise InputError(f"GTI file {self.gti_file} holds no good time interval; give the observation's "
                             "nu<seqid><A|B>01_gti.fits.", self.gti_file)
        try:
            h = aspect_histogram(ref.time, ref.x_det1, ref.y_det1, gti.start, gti.stop,
                                 clip_to_gti=self.clip_to_gti)
        except ValueError as exc:
            raise InputError(f"{self.det1_file} with GTI {self.gti_file}: {exc}; check that both files "
                             "belong to the same observation.", self.det1_file) from None
        if h.dropped_exposure > 0:
            rep.warning(f"{h.dropped_exposure:.1f} s of GTI samples lie off the 1000×1000 sky grid and "
                        "were left out")
        hdr = fits.Header()
        hdr["EXTNAME"] = ("ASPECT_HISTOGRAM", "")
        # the observation keywords (a superset of nuskybgd-py's list); EXPOSURE is set below
        for key in OBS_KEYWORDS:
            if key in ref.header:
                hdr[key] = ref.header[key]
        hdr["X_OFF"] = (int(h.x_off), "0-based sky bin (floor X_DET1) of column 0")
        hdr["Y_OFF"] = (int(h.y_off), "0-based sky bin (floor Y_DET1) of row 0")
        hdr["EXPOSURE"] = (float(h.exposure), "[s] sum of the histogram")
        hdr["BUNIT"] = ("s", "")
        hdr["NSAMPLES"] = (int(h.n_samples), "aspect samples used")
        hdr["DT_CLIP"] = (bool(self.clip_to_gti), "weights clipped at the GTI stop")
        hdr.add_comment("Pixel [y, x] holds the seconds during which DET1 pixel (350,350) had "
                        "floor(X) = x + X_OFF and floor(Y) = y + Y_OFF (sky pixels).")
        stamp_header(hdr, inputs=[self.det1_file, self.gti_file], task="aspecthist")
        write_fits_atomic(self.out, fits.HDUList([fits.PrimaryHDU(h.image, header=hdr)]), self.overwrite)
        gti_total = float(np.sum(gti.stop - gti.start))
        rep.log(f"module {mod or '?'}: {h.image.shape[1]}×{h.image.shape[0]} bins, X_OFF={h.x_off}, "
                f"Y_OFF={h.y_off}, EXPOSURE={h.exposure:.3f} s (GTI total {gti_total:.3f} s)")
        rep.output(self.out)
        return StepResult(outputs=[self.out], values={"exposure": h.exposure, "x_off": h.x_off,
                                                      "y_off": h.y_off, "shape": h.image.shape})


# --------------------------------------------------------------------------------------------
# projbgd
# --------------------------------------------------------------------------------------------


def read_aspect_histogram(path: str | Path) -> AspectHistogram:
    """Read an aspect histogram image (ours or nuskybgd-py's): data, X_OFF, Y_OFF, INSTRUME."""
    p = Path(path)
    with open_fits(p, "aspect histogram") as hdul:
        hdu = next((h for h in hdul if h.is_image and h.data is not None and h.data.ndim == 2), None)
        if hdu is None:
            raise InputError(f"aspect histogram {p} holds no 2-D image; make it with 'nuskybgd aspecthist'.", p)
        img = np.asarray(hdu.data, dtype=np.float64)
        hd = hdu.header
        module = _module_of(hd.get("INSTRUME", hdul[0].header.get("INSTRUME")), p, "aspect histogram")
        x_off, y_off = int(hd.get("X_OFF", 0)), int(hd.get("Y_OFF", 0))
    if not np.all(np.isfinite(img)) or np.any(img < 0) or not img.sum() > 0:
        raise InputError(f"aspect histogram {p} is empty or has negative/non-finite values; remake it.", p)
    return AspectHistogram(img, x_off, y_off, float(img.sum()), module=module)


def read_chipmap(path: str | Path) -> tuple[np.ndarray, str | None]:
    """Read a mkinstrmap chip map (HDU 'INSTRMAP', else the first image); (map, module)."""
    p = Path(path)
    with open_fits(p, "chip map") as hdul:
        hdu = None
        for h in hdul:
            if str(h.header.get("EXTNAME", "")).strip().upper() == "INSTRMAP" and h.is_image:
                hdu = h
                break
        if hdu is None:
            hdu = next((h for h in hdul if h.is_image and h.data is not None), None)
        if hdu is None or hdu.data is None:
            raise InputError(f"chip map {p} holds no image; make it with 'nuskybgd mkinstrmap'.", p)
        data = np.asarray(hdu.data)
        module = _module_of(hdu.header.get("INSTRUME", hdul[0].header.get("INSTRUME")), p, "chip map")
    if data.shape != (DET1_SIZE, DET1_SIZE):
        raise InputError(f"chip map {p} has shape {data.shape[::-1]} (NAXIS1, NAXIS2), not 360×360; give the "
                         "newinstrmap file made by 'nuskybgd mkinstrmap'.", p)
    return data, module


_WCS_REQUIRED = ("CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2")


def sky_frame_from_header(header: fits.Header, path: Path) -> tuple[tuple[int, int], float]:
    """Check a reference-image header; return ((ny, nx), pixel size in deg).

    Accepts CDELT, CD or PC+CDELT forms of the WCS.  The image must be unbinned and uncropped
    (image pixel i = physical X i): LTV must be 0 and LTM 1 when present.
    """
    missing = [k for k in _WCS_REQUIRED if k not in header]
    if missing:
        raise InputError(f"reference image {path} lacks the WCS keyword {missing[0]}; give a sky image made by "
                         "'nuskybgd mkimgs' (or pass --evtfile to build the sky grid).", path)
    if "CD1_1" in header:
        scale = float(np.sqrt(abs(header["CD1_1"] * header.get("CD2_2", 0.0)
                                  - header.get("CD1_2", 0.0) * header.get("CD2_1", 0.0))))
    elif "CDELT1" in header and "CDELT2" in header:
        pc = np.array([[header.get("PC1_1", 1.0), header.get("PC1_2", 0.0)],
                       [header.get("PC2_1", 0.0), header.get("PC2_2", 1.0)]])
        scale = float(np.sqrt(abs(np.linalg.det(pc) * header["CDELT1"] * header["CDELT2"])))
    else:
        raise InputError(f"reference image {path} lacks the WCS keyword CDELT1 (or a CD matrix); give a sky "
                         "image made by 'nuskybgd mkimgs'.", path)
    if abs(scale / DET1_PIXEL_DEG - 1) > 0.01:
        raise InputError(f"reference image {path} has {scale * 3600:.3f}\" pixels, not the unbinned "
                         f"{DET1_PIXEL_DEG * 3600:.4f}\" sky pixels projbgd needs; make it with --bin 1.", path)
    for ax in (1, 2):
        if abs(float(header.get(f"LTV{ax}", 0.0))) > 1e-9 or abs(float(header.get(f"LTM{ax}_{ax}", 1.0)) - 1) > 1e-9:
            raise InputError(f"reference image {path} is cropped or binned (LTV{ax}/LTM{ax}_{ax}); give the "
                             "full unbinned sky image.", path)
    ny, nx = int(header.get("NAXIS2", 0)), int(header.get("NAXIS1", 0))
    if nx < 1 or ny < 1:
        raise InputError(f"reference image {path} has no image data (NAXIS1/NAXIS2).", path)
    return (ny, nx), scale


class ProjBgdStep(Step):
    """``bgdap{m}.fits`` and ``det{0..3}{m}im.fits``: DET1 maps projected onto the sky frame."""

    name = "projbgd"
    title = "Projected background images"
    help = (
        "Project the detector masks and the aperture (stray-light) image onto the sky, smoothed by "
        "the aspect histogram: bgdap<m>.fits and det{0..3}<m>im.fits, written next to 'out'."
    )

    def __init__(
        self,
        out: str | Path,
        mod: str,
        chipmap: str | Path,
        aspect: str | Path,
        *,
        refimg: str | Path | None = None,
        evtfile: str | Path | None = None,
        det: str | Sequence[int] = "1234",
        overwrite: bool = False,
        calibration=None,
    ) -> None:
        self.out = Path(out)
        self.mod = str(mod).strip().upper()
        if self.mod.startswith("FPM"):
            self.mod = self.mod[3:]
        if self.mod not in ("A", "B"):
            raise InputError(f"mod={mod} is not a NuSTAR module; give mod=A or mod=B.")
        digits = [int(c) for c in str(det) if c.isdigit()] if isinstance(det, str) else [int(d) for d in det]
        if not digits or any(d not in (1, 2, 3, 4) for d in digits):
            raise InputError(f"det={det} must list chip-map values 1–4 (e.g. det=1234).")
        self.dets = sorted(set(digits))
        self.chipmap = Path(chipmap)
        self.aspect = Path(aspect)
        self.refimg = Path(refimg) if refimg is not None else None
        self.evtfile = Path(evtfile) if evtfile is not None else None
        if self.refimg is None and self.evtfile is None:
            raise InputError("projbgd needs a reference image (refimg=) or an event file (--evtfile) for the sky grid.")
        self.overwrite = overwrite
        self.calibration = calibration

    def det_outputs(self) -> dict[int, Path]:
        folder = self.out.parent
        return {k: folder / f"det{k - 1}{self.mod}im.fits" for k in self.dets}

    def inputs(self) -> list[Path]:
        files = [self.chipmap, self.aspect]
        files += [p for p in (self.refimg, self.evtfile) if p is not None]
        return files

    def outputs(self) -> list[Path]:
        return [self.out, *self.det_outputs().values()]

    def _reference_header(self) -> tuple[fits.Header, tuple[int, int], float]:
        """Header carrying the sky WCS, the frame shape and PA_PNT."""
        if self.refimg is not None:
            with open_fits(self.refimg, "reference image") as hdul:
                hdu = next((h for h in hdul if h.is_image and h.header.get("NAXIS", 0) == 2), None)
                if hdu is None:
                    raise InputError(f"reference image {self.refimg} holds no 2-D image; give the sky image "
                                     "made by 'nuskybgd mkimgs'.", self.refimg)
                header = hdu.header.copy()
            shape, _ = sky_frame_from_header(header, self.refimg)
            if "PA_PNT" not in header:
                raise InputError(f"reference image {self.refimg} lacks the PA_PNT keyword (roll angle); add it "
                                 "or remake the image with 'nuskybgd mkimgs'.", self.refimg)
            pa = float(header["PA_PNT"])
            return header, shape, pa
        from nuskybgd.io.events import read_event_headers, read_events

        prim, evh, _ = read_event_headers(self.evtfile)
        ev = read_events(self.evtfile, columns=["X", "Y"])
        if ev.wcs is None:
            raise InputError(f"event file {self.evtfile} has no sky WCS on its X/Y columns.", self.evtfile)
        pa = evh.get("PA_PNT", prim.get("PA_PNT"))
        if pa is None:
            raise InputError(f"event file {self.evtfile} lacks the PA_PNT keyword (roll angle).", self.evtfile)
        w = ev.wcs.wcs
        header = sky_image_header({"ctype": list(w.ctype), "crpix": list(w.crpix), "crval": list(w.crval),
                                   "cdelt": list(w.cdelt)}, 1)
        for key in OBS_KEYWORDS:
            v = evh.get(key, prim.get(key))
            if v is not None:
                header[key] = v
        size = int(evh.get(_tlmax_key(evh, "X"), 1000) or 1000)
        return header, (size, size), float(pa)

    def run(self, reporter: Reporter | None = None) -> StepResult:
        rep = _reporter(reporter)
        for p in self.outputs():
            check_writable(p, self.overwrite)
        header, shape, pa = self._reference_header()
        chip, chip_mod = read_chipmap(self.chipmap)
        if chip_mod is not None and chip_mod != self.mod:
            raise InputError(f"chip map {self.chipmap} is for FPM{chip_mod} but mod={self.mod}; give "
                             f"newinstrmap{self.mod}.fits.", self.chipmap)
        hist = read_aspect_histogram(self.aspect)
        if hist.module is not None and hist.module != self.mod:
            raise InputError(f"aspect histogram {self.aspect} is for FPM{hist.module} but mod={self.mod}; give "
                             f"aspecthist{self.mod}.fits.", self.aspect)
        values = set(np.unique(chip).tolist())
        if not values <= {0, 1, 2, 3, 4}:
            raise InputError(f"chip map {self.chipmap} holds values other than 0–4; give the newinstrmap file "
                             "made by 'nuskybgd mkinstrmap'.", self.chipmap)
        cal = self.calibration or _resolve_calibration(self.mod, header.get("DATE-OBS"), rep)
        _announce_builtin(cal, rep, "aperture_image")
        aperture = _aperture_from_calibration(cal, self.mod, rep)
        res = project_maps(chip, self.dets, aperture, hist, pa, shape)
        src, detail = _cal_labels(cal, "aperture_image")
        for k in self.dets:
            area = int((chip == k).sum())
            if area and res.det[k].sum() < 0.99 * area:
                rep.warning(f"DET{k - 1} falls partly outside the {shape[1]}×{shape[0]} sky frame "
                            f"(Σ = {res.det[k].sum():.0f} of {area} pixels)")

        def product(data: np.ndarray, kind: str) -> fits.HDUList:
            h = header.copy()
            for k in _STALE_KEYS:
                h.remove(k, ignore_missing=True, remove_all=True)
            h["PA_PNT"] = (pa, "[deg] roll from the reference image")
            h["ROLL_EFF"] = (res.roll_deg, "[deg] roll used (PA_PNT + 1, as nuskybgd)")
            h["ASPPEAKX"] = (res.peak[0], "0-based sky bin of aspect peak (x)")
            h["ASPPEAKY"] = (res.peak[1], "0-based sky bin of aspect peak (y)")
            h["ASPEXPO"] = (res.exposure, "[s] aspect-histogram exposure")
            h["MODULE"] = (self.mod, "NuSTAR module of the projected maps")
            if kind == "bgdap":
                h["BUNIT"] = ("ct/(1e5 s pixel)", "10-15 keV aperture CXB counts per 100 ks")
                h["CONTENT"] = ("aperture stray-light image (nuskybgd bgdap)", "")
            else:
                h["BUNIT"] = ("", "fraction of exposure on the detector")
                h["CONTENT"] = (f"detector DET{kind} exposure fraction", "")
            stamp_header(h, calibration=src, calibration_detail=detail,
                         inputs=[p for p in (self.refimg, self.evtfile, self.chipmap, self.aspect) if p],
                         task="projbgd")
            return fits.HDUList([fits.PrimaryHDU(np.asarray(data, dtype=np.float64), header=h)])

        written: list[Path] = []
        write_fits_atomic(self.out, product(res.bgdap, "bgdap"), self.overwrite)
        written.append(self.out)
        rep.output(self.out)
        for k, path in self.det_outputs().items():
            write_fits_atomic(path, product(res.det[k], str(k - 1)), self.overwrite)
            written.append(path)
            rep.output(path)
            rep.log(f"DET{k - 1}: Σ = {res.det[k].sum():.1f} sky pixels "
                    f"({int((chip == k).sum())} active DET1 sub-pixels)")
        return StepResult(outputs=written, values={"peak": res.peak, "roll": res.roll_deg,
                                                   "det_sums": {k - 1: float(res.det[k].sum()) for k in res.det}},
                          calibration=src)


def _aperture_from_calibration(cal, module: str, reporter: Reporter) -> np.ndarray:
    """The projbgd aperture image A from the calibration's solid-angle map and nomap parameters.

    Uses the full 576×576 ray-trace grid (``aperture_image_full()``) when the calibration has it,
    because the nomapbgd shift (~28 pixels) reaches outside DET1; with only the cropped 360×360
    map the missing border is filled from the nearest edge (and said so).  The norm and shift
    come from ``aperture_params()`` when available (nomapbgdparams.dat), else nuskybgd's values.
    """
    params = {}
    get_params = getattr(cal, "aperture_params", None)
    if callable(get_params):
        params = dict(get_params())
    if float(params.get("rotation_deg", 0.0) or 0.0) != 0.0:
        reporter.warning("the aperture model's rotation is not applied (nuskybgd-py never applies it either)")
    norm = params.get("norm")
    shift = None
    if "shift_x_mm" in params and "shift_y_mm" in params:
        shift = (float(params["shift_x_mm"]), float(params["shift_y_mm"]))
    full = getattr(cal, "aperture_image_full", None)
    if callable(full):
        grid = np.asarray(full(), dtype=float)
        offset = (grid.shape[0] - DET1_SIZE) // 2
        return aperture_counts_image(grid, module, offset=offset, norm=norm, shift_mm=shift)
    omega = np.asarray(cal.aperture_image(), dtype=float)
    if omega.shape != (DET1_SIZE, DET1_SIZE):
        raise CalibrationError(f"aperture image of the {getattr(cal, 'source', '')} calibration has shape "
                               f"{omega.shape}, not 360×360.")
    reporter.log("aperture image: cropped 360×360 map, nomapbgd shift filled from the edge")
    return aperture_counts_image(omega, module, offset=0, norm=norm, shift_mm=shift)
