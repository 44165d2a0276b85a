"""The file schema of NuSTAR Level-2 products, as the simulator writes them.

Everything a real nupipeline product carries is encoded here (column names, TFORMs, units,
TLMIN/TLMAX/TNULL, the TC* sky WCS and the header keywords of every HDU), following the layout
of a real cleaned event file (``reference/nustar-data-formats.md`` B.2–B.4).  The real file is
only read by the tests, which compare our output against it.

Three files per module are written:

* ``nu<seqid><m>01_cl.evt``: PRIMARY, ``EVENTS`` (39 columns), ``GTI``, 4 × ``BADPIX``;
* ``nu<seqid><m>01_gti.fits``: PRIMARY, ``STDGTI``;
* ``nu<seqid><m>_det1.fits``: PRIMARY, ``DET1_REFPOINT`` (TIME, X_DET1, Y_DET1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from nuskybgd import __version__
from nuskybgd.constants import (
    DET1_PIXEL_DEG,
    DET1_PIXEL_MM,
    MJDREFF,
    MJDREFI,
    SKY_REFPIX,
    SKY_SIZE,
    TNULL_DET,
    TNULL_PI,
    TNULL_SKY,
)

#: Version string written to SOFTVER/CREATOR of simulated files.
SIM_CREATOR = f"nuskybgd simulate {__version__}"


@dataclass
class ObsMeta:
    """Observation-level keywords shared by every HDU of one module's files.

    Times are MET seconds (TT, since 2010-01-01), angles in degrees.
    """

    seqid: str
    module: str
    object: str
    ra_obj: float
    dec_obj: float
    ra_nom: float
    dec_nom: float
    ra_pnt: float
    dec_pnt: float
    pa_pnt: float
    tstart: float
    tstop: float
    ontime: float
    deadc: float
    date_obs: str
    date_end: str
    mjd_obs: float
    calib_label: str = "BUILTIN"
    calib_detail: str = ""
    file_date: str = ""

    @property
    def instrume(self) -> str:
        return f"FPM{self.module}"

    @property
    def livetime(self) -> float:
        return self.ontime * self.deadc


def met_to_isot(met: float) -> str:
    """MET seconds (TT since 2010-01-01T00:00:00 UTC) → UTC ``YYYY-MM-DDThh:mm:ss``."""
    from astropy.time import Time, TimeDelta

    ref = Time("2010-01-01T00:00:00", scale="utc")
    t = (ref.tt + TimeDelta(float(met), format="sec")).utc
    return t.isot[:19]


def met_to_mjd(met: float) -> float:
    """MET seconds → MJD (TT)."""
    return MJDREFI + MJDREFF + float(met) / 86400.0


# ---------------------------------------------------------------------------------------------
# Header keyword blocks

def _time_cards(meta: ObsMeta) -> list[tuple[str, object, str]]:
    return [
        ("TASSIGN", "SATELLITE", "Time assigned by onboard clock"),
        ("TIMESYS", "TT", "time measured from"),
        ("MJDREFI", MJDREFI, "MJD reference day"),
        ("MJDREFF", MJDREFF, "MJD reference (fraction of day)"),
        ("TIMEREF", "LOCAL", "reference time"),
        ("CLOCKAPP", False, "TRUE if timestamps corrected by gnd sware"),
        ("TIMEUNIT", "s", "unit for time keywords"),
        ("TSTART", meta.tstart, "time start"),
        ("TSTOP", meta.tstop, "time stop"),
        ("TELAPSE", meta.tstop - meta.tstart, "elapsed time"),
        ("DATE-OBS", meta.date_obs, "Start date of observations"),
        ("DATE-END", meta.date_end, "End date of observations"),
    ]


def _target_cards(meta: ObsMeta, nom: tuple[float, float] | None = None) -> list:
    ra_nom, dec_nom = nom if nom is not None else (meta.ra_nom, meta.dec_nom)
    return [
        ("TELESCOP", "NuSTAR", "Telescope (mission) name"),
        ("INSTRUME", meta.instrume, "Instrument name"),
        ("OBS_ID", meta.seqid, "Observation ID"),
        ("TARG_ID", 0, "Target ID"),
        ("OBJECT", meta.object, "Name of observed object"),
        ("RA_OBJ", meta.ra_obj, "[deg] R.A. Object"),
        ("DEC_OBJ", meta.dec_obj, "[deg] Dec Object"),
        ("RA_NOM", ra_nom, "[deg] R.A. Nominal"),
        ("DEC_NOM", dec_nom, "[deg] Dec Nominal"),
        ("RA_PNT", meta.ra_pnt, "[deg] RA pointing"),
        ("DEC_PNT", meta.dec_pnt, "[deg] Dec pointing"),
        ("PA_PNT", meta.pa_pnt, "[deg] Position angle (roll)"),
        ("EQUINOX", 2000.0, "Equinox of celestial coord system"),
        ("RADECSYS", "FK5", "celestial coord system"),
    ]


def _now(meta: ObsMeta) -> str:
    """File creation date written into simulated files.

    Deterministic (so the same seed gives byte-identical files): the observation's DATE-END
    unless ``meta.file_date`` is set.
    """
    return meta.file_date or meta.date_end


def _software_cards(meta: ObsMeta, filin: str) -> list:
    return [
        ("ORIGIN", "nuskybgd", "origin of fits file"),
        ("CREATOR", SIM_CREATOR, "Simulator (synthetic data)"),
        ("DATETLM", meta.date_end, "L1 file creation date (UTC; simulated)"),
        ("TLM2FITS", "none (simulated by nuskybgd)", "L1 Software"),
        ("SOFTVER", SIM_CREATOR, "software version"),
        ("CALDBVER", meta.calib_label, "calibration used by the simulator"),
        ("DATE", _now(meta), "file creation date (YYYY-MM-DDThh:mm:ss UT)"),
        ("USER", "nuskybgd", "User name of creator"),
        ("FILIN001", filin, "Input file name"),
    ]


def _exposure_cards(meta: ObsMeta) -> list:
    return [
        ("ONTIME", meta.ontime, "On-source time"),
        ("EXPOSURE", meta.livetime, "Exposure time"),
        ("LIVETIME", meta.livetime, "On-source time"),
        ("MJD-OBS", meta.mjd_obs, "MJD of data start time"),
        ("DEADC", meta.deadc, "Deadtime correction"),
        ("DEADAPP", False, "Has DEADC been applied to data"),
    ]


def _fit_comment(key: str, value, comment: str) -> str:
    """Cut a comment so that the card fits in 80 characters (no astropy truncation warning)."""
    card = fits.Card(key, value)
    room = 80 - max(len(card.image.rstrip()), 30) - 3
    return comment[:max(room, 0)]


def _apply(header: fits.Header, cards: list) -> None:
    for key, value, comment in cards:
        header[key] = (value, _fit_comment(key, value, comment))


def _sim_comment(header: fits.Header, meta: ObsMeta) -> None:
    header["NSBSIM"] = (True, "synthetic data made by nuskybgd simulate")
    header["NSBTASK"] = ("simulate", "nuskybgd task that made this file")
    header["NSBCALIB"] = (meta.calib_label, "calibration used to simulate")
    if meta.calib_detail:
        detail = meta.calib_detail[:68]
        header["NSBCALDS"] = (detail, _fit_comment("NSBCALDS", detail, "calibration detail"))
    header.add_comment("Synthetic NuSTAR observation made by nuskybgd simulate; see truth.json.")
    if meta.calib_label.upper() == "BUILTIN":
        header.add_comment("Simulated with the built-in nominal (approximate) calibration.")


def primary_header(meta: ObsMeta, nevents: int, filin: str) -> fits.Header:
    """Primary header of a cleaned event file (keywords of a real nupipeline file)."""
    h = fits.Header()
    _apply(h, _target_cards(meta))
    _apply(h, _time_cards(meta))
    _apply(h, _software_cards(meta, filin))
    _apply(h, [("NEVENTS", int(nevents), "Number of events"), ("DATAMODE", "NONE", "Datamode")])
    _apply(h, _exposure_cards(meta)[:4])
    _apply(h, [("TIMEZERO", 0.0, "Time Zero")])
    _apply(h, _exposure_cards(meta)[4:])
    _sim_comment(h, meta)
    return h


# ---------------------------------------------------------------------------------------------
# EVENTS columns: (name, TFORM, TUNIT or None, comment)

EVENT_COLUMNS: list[tuple[str, str, str | None, str]] = [
    ("TIME", "1D", "s", "Event Time (seconds since Jan 2010 00:00:00 UTC)"),
    ("PRIOR", "1D", "s", "Elapsed Livetime Since Prior Event - seconds"),
    ("NUMRISE", "1J", "NA", "Numerator of Time of Rise Estimator"),
    ("DENRISE", "1J", "NA", "Denominator of Time of Rise Estimator"),
    ("SUBFRM", "1J", "NA", "Time rel. to 1pps frame-sync"),
    ("PREPHAS", "9I", "NA", "Pre-trigger pulse-height values for central pixel"),
    ("POSTPHAS", "9I", "NA", "Post-trigger pulse-height values for central pixel"),
    ("RESET", "1D", "s", "Event Time Relative to Most Recent Charge Pump"),
    ("TRIGGERS", "9X", "NA", "Hardware Triggers - same order as PRE and POST"),
    ("DET_ID", "1B", "NA", "Detector ID (0,1,2,3)"),
    ("S_CAP", "1B", "NA", "Starting Cap # (0..15)"),
    ("HWTRIG", "1B", "NA", "Number of hardware triggers"),
    ("RAWX", "1B", "NA", "X-position of central pixel in raw coordinates"),
    ("RAWY", "1B", "NA", "Y-position of central pixel in raw coordinates"),
    ("MODE", "1B", "NA", "1=CP mode, 0=Normal mode"),
    ("STIM", "1B", "NA", "Stim event flag"),
    ("UP", "1B", "NA", "uP (offset) event flag"),
    ("SHIELD", "1B", "NA", "Shield hit flag"),
    ("SHLD_T", "1B", "NA", "Shield timing ( 4 bits )"),
    ("SHLD_HI", "1B", "NA", "High shield threshold flag"),
    ("STATUS", "16X", None, "Event Quality Flag"),
    ("BADPOS", "8X", None, "Position of neighbor bad pixels"),
    ("HOTPOS", "8X", None, "Position of neighbor hot/flickering pixels"),
    ("RAWPHAS", "9I", None, "Pixel Pulse-height raw values"),
    ("OFFPHAS", "9E", None, "Pixel Pulse-height after offset correction"),
    ("TRPHAS", "9E", None, "Pixel Pulse-height after time of rise correction"),
    ("PHAS", "9E", None, "Pixel Pulse-height after common mode correction"),
    ("GRADE", "1I", None, "Event Grade"),
    ("SWTRIG", "9B", None, "Pixel software threshold Flag"),
    ("PIS_GAIN", "9E", "chan", "Pixel Pulse Invariant before charge loss correction"),
    ("SURRPI", "1J", None, "Sum of pulse invariants for pixels below threshold"),
    ("PI_CLC", "1E", None, "Pixel Pulse Invariant after charge loss correction"),
    ("PI", "1J", "chan", "Event Pulse Invariant"),
    ("DET1X", "1I", "pixel", "Event X position Focal Plane Bench Frame"),
    ("DET1Y", "1I", "pixel", "Event Y position Focal Plane Bench Frame"),
    ("DET2X", "1I", "pixel", "Event X position Optics Bench Frame"),
    ("DET2Y", "1I", "pixel", "Event Y position Optics Bench Frame"),
    ("X", "1I", "pixel", "label for field"),
    ("Y", "1I", "pixel", "label for field"),
]

#: TLMIN/TLMAX/TNULL per column name.
EVENT_LIMITS: dict[str, dict[str, int]] = {
    "GRADE": {"TLMIN": 0, "TLMAX": 32},
    "PI": {"TNULL": TNULL_PI, "TLMIN": 0, "TLMAX": 4095},
    "DET1X": {"TLMIN": 1, "TLMAX": 360, "TNULL": TNULL_DET},
    "DET1Y": {"TLMIN": 1, "TLMAX": 360, "TNULL": TNULL_DET},
    "DET2X": {"TLMIN": 1, "TLMAX": 600, "TNULL": TNULL_DET},
    "DET2Y": {"TLMIN": 1, "TLMAX": 600, "TNULL": TNULL_DET},
    "X": {"TLMIN": 1, "TLMAX": SKY_SIZE, "TNULL": TNULL_SKY},
    "Y": {"TLMIN": 1, "TLMAX": SKY_SIZE, "TNULL": TNULL_SKY},
}

_NUMPY_OF_TFORM = {"D": np.float64, "E": np.float32, "J": np.int32, "I": np.int16,
                   "B": np.uint8, "X": bool}


def empty_event_columns(n: int) -> dict[str, np.ndarray]:
    """Zero-filled arrays of the right dtype and shape for ``n`` events (all 39 columns)."""
    out: dict[str, np.ndarray] = {}
    for name, tform, _unit, _c in EVENT_COLUMNS:
        rep, code = int(tform[:-1]), tform[-1]
        shape = (n,) if rep == 1 and code != "X" else (n, rep)
        out[name] = np.zeros(shape, dtype=_NUMPY_OF_TFORM[code])
    return out


def events_hdu(meta: ObsMeta, cols: dict[str, np.ndarray]) -> fits.BinTableHDU:
    """The ``EVENTS`` extension: 39 columns, limits, null values, sky WCS and keywords."""
    fcols = []
    for name, tform, unit, _comment in EVENT_COLUMNS:
        fcols.append(fits.Column(name=name, format=tform, unit=unit, array=cols[name]))
    hdu = fits.BinTableHDU.from_columns(fcols, name="EVENTS")
    h = hdu.header
    for i, (name, _tform, _unit, comment) in enumerate(EVENT_COLUMNS, start=1):
        h.comments[f"TTYPE{i}"] = _fit_comment(f"TTYPE{i}", name, comment)
        for key, val in EVENT_LIMITS.get(name, {}).items():
            h[f"{key}{i}"] = (val, f"{'Illegal value' if key == 'TNULL' else key[2:].title()} "
                                   f"for {name} column")
        if name in ("DET1X", "DET1Y", "DET2X", "DET2Y"):
            h[f"TCDLT{i}"] = (DET1_PIXEL_MM, f"{name} image scale (mm/pixel)")
            h[f"TCTYP{i}"] = (name, f"{name} coordinate type")
            h[f"TCUNI{i}"] = ("mm", f"{name} units")
        if name in ("X", "Y"):
            is_x = name == "X"
            h[f"TCRPX{i}"] = (SKY_REFPIX, f"{name} image reference pixel")
            h[f"TCRVL{i}"] = (meta.ra_nom if is_x else meta.dec_nom,
                              f"{name} image reference pixel coordinate (deg)")
            h[f"TCDLT{i}"] = (-DET1_PIXEL_DEG if is_x else DET1_PIXEL_DEG,
                              f"{name} image scale (deg/pixel)")
            h[f"TCTYP{i}"] = ("RA---TAN" if is_x else "DEC--TAN", f"{name} coordinate type")
            h[f"TCUNI{i}"] = ("deg", f"{name} units")
    _apply(h, [("HDUCLASS", "OGIP", "Format conforms to OGIP standards"),
               ("HDUCLAS1", "EVENTS", "Event extension"),
               ("HDUCLAS2", "ALL", "No event filtering")])
    _apply(h, _target_cards(meta))
    _apply(h, _time_cards(meta))
    _apply(h, _software_cards(meta, f"nu{meta.seqid}{meta.module}_uf.evt"))
    _apply(h, [
        ("TSORTKEY", "TIME", ""),
        ("NUFLAG", True, "Are events flagged (T/F)?"),
        ("ABERRAT", False, "Has aberration been corrected for in sky coords"),
        ("FOLOWSUN", False, "Has the Sun position been recalculated for each evt"),
        ("TIMEZERO", 0.0, "Time Zero"),
        ("DATAMODE", "NONE", "Datamode"),
        ("OBSMODE", "SCIENCE", "Observation mode"),
    ])
    _apply(h, _exposure_cards(meta)[:4])
    _apply(h, [
        ("DSTYP1", "GRADE", "Data subspace descriptor: name"),
        ("DSVAL1", "0:26", "Data subspace descriptor: value"),
        ("NPIXSOU", 1.0e6, "Number of pixels in selected region"),
    ])
    _apply(h, _exposure_cards(meta)[4:])
    _apply(h, [("NUPSDOUT", 0.0, "Out of calibrated PSD grid ontime (s)"),
               ("DEPTHCUT", "NOMINAL", "Events depth cut screening")])
    _sim_comment(h, meta)
    return hdu


def _gti_columns(gti: np.ndarray, unit: str) -> list[fits.Column]:
    return [
        fits.Column(name="START", format="1D", unit=unit, array=np.asarray(gti[:, 0], float)),
        fits.Column(name="STOP", format="1D", unit=unit, array=np.asarray(gti[:, 1], float)),
    ]


def gti_hdu(meta: ObsMeta, gti: np.ndarray, extname: str = "GTI", unit: str = "s") -> fits.BinTableHDU:
    """A GTI extension (``GTI`` inside event files, ``STDGTI`` in standalone files)."""
    hdu = fits.BinTableHDU.from_columns(_gti_columns(gti, unit), name=extname)
    h = hdu.header
    h.comments["TTYPE1"] = "label for field   1"
    h.comments["TTYPE2"] = "label for field   2"
    _apply(h, [("HDUCLASS", "OGIP", "File conforms to OGIP/GSFC conventions"),
               ("HDUCLAS1", "GTI", "File contains Good Time Intervals"),
               ("HDUCLAS2", "STANDARD", "File contains Good Time Intervals"),
               ("TELESCOP", "NuSTAR", "Telescope (mission) name"),
               ("DATAMODE", "NONE", "Datamode"),
               ("INSTRUME", meta.instrume, "Instrument name"),
               ("OBJECT", meta.object, "Name of observed object")])
    _apply(h, _exposure_cards(meta)[:3])
    _apply(h, [c for c in _time_cards(meta) if c[0] in ("DATE-OBS", "DATE-END", "TSTART", "TSTOP",
                                                        "TELAPSE")])
    _apply(h, [("MJD-OBS", meta.mjd_obs, "MJD of data start time")])
    _apply(h, [c for c in _time_cards(meta) if c[0] in ("MJDREFI", "MJDREFF", "TIMEREF", "TIMESYS",
                                                        "TIMEUNIT")])
    _apply(h, [("EQUINOX", 2000.0, "Equinox of celestial coord system"),
               ("RADECSYS", "FK5", "celestial coord system")])
    _apply(h, _software_cards(meta, f"nu{meta.seqid}{meta.module}_uf.evt"))
    _apply(h, [("HDUNAME", extname, "ASCDM block name"),
               ("MTYPE1", "TIME", "Data type"),
               ("MFORM1", "START,STOP", "names of the start and stop columns"),
               ("METYP1", "R", "data descriptor type: Range, binned data")])
    _apply(h, _exposure_cards(meta)[4:])
    return hdu


def badflag_bits(values: np.ndarray) -> np.ndarray:
    """Integer BADFLAG values → (n, 16) bool arrays as astropy reads a 16X column (MSB first)."""
    v = np.asarray(values, dtype=np.int64)
    bits = (v[:, None] >> np.arange(15, -1, -1)[None, :]) & 1
    return bits.astype(bool)


def badpix_hdu(meta: ObsMeta, det: int, rawx: np.ndarray, rawy: np.ndarray, t0: np.ndarray,
               t1: np.ndarray, flag: np.ndarray) -> fits.BinTableHDU:
    """One ``BADPIX`` extension (EXTVER det+1, DETNAM DETn) with NuSTARDAS columns."""
    cols = [
        fits.Column(name="RAWX", format="1B", unit="pixel", array=np.asarray(rawx, np.uint8)),
        fits.Column(name="RAWY", format="1B", unit="pixel", array=np.asarray(rawy, np.uint8)),
        fits.Column(name="TIME", format="1D", unit="s", array=np.asarray(t0, float)),
        fits.Column(name="TIME_STOP", format="1D", unit="s", array=np.asarray(t1, float)),
        fits.Column(name="BADFLAG", format="16X", array=badflag_bits(flag)),
    ]
    hdu = fits.BinTableHDU.from_columns(cols, name="BADPIX")
    h = hdu.header
    h.comments["TTYPE1"] = "X-position in raw detector coordinates"
    h.comments["TTYPE2"] = "Y-position in raw detector coordinates"
    h.comments["TTYPE3"] = "Start Time of Bad Pixel Interval"
    h.comments["TTYPE4"] = "Stop Time of Bad Pixel Interval"
    h.comments["TTYPE5"] = "Bad Pixel flag"
    for i in (1, 2):
        h[f"TLMIN{i}"] = (0, f"Minimum value for {'RAWX' if i == 1 else 'RAWY'} column")
        h[f"TLMAX{i}"] = (31, f"Maximum value for {'RAWX' if i == 1 else 'RAWY'} column")
    _apply(h, [("EXTVER", det + 1, "There shall be one instance of this extension for each det"),
               ("DETNAM", f"DET{det}", "CZT Detector ID (0,1,2 or 3)"),
               ("TELESCOP", "NuSTAR", "Telescope (mission) name"),
               ("INSTRUME", meta.instrume, "Instrument name (FPMA or FPMB)"),
               ("OBS_ID", meta.seqid, "Observation ID"),
               ("ORIGIN", "nuskybgd", "Source of FITS file"),
               ("TIMESYS", "TT", "Terrestrial Time"),
               ("TIMEUNIT", "s", "Time unit for timing header keywords"),
               ("TIMEREF", "LOCAL", "reference time"),
               ("TSTART", meta.tstart, "time start"),
               ("TSTOP", meta.tstop, "time stop"),
               ("MJDREFI", MJDREFI, "MJD reference day 01 Jan 2010 00:00:00 UTC"),
               ("MJDREFF", MJDREFF, "Fractional part of MJD ref (32.184secs+34 leap)"),
               ("CREATOR", SIM_CREATOR, "Program that created this file"),
               ("DATE", _now(meta), "file creation date (YYYY-MM-DDThh:mm:ss UTC)")])
    return hdu


def event_file(meta: ObsMeta, cols: dict[str, np.ndarray], gti: np.ndarray,
               badpix: list[tuple]) -> fits.HDUList:
    """The cleaned event file: PRIMARY, EVENTS, GTI, BADPIX×4.

    ``badpix`` holds per detector ``(rawx, rawy, t0, t1, flag)`` arrays.
    """
    n = len(cols["TIME"])
    prim = fits.PrimaryHDU(header=primary_header(meta, n, f"nu{meta.seqid}{meta.module}_uf.evt"))
    hdus = [prim, events_hdu(meta, cols), gti_hdu(meta, gti)]
    for det, bp in enumerate(badpix):
        hdus.append(badpix_hdu(meta, det, *bp))
    return fits.HDUList(hdus)


def gti_file(meta: ObsMeta, gti: np.ndarray) -> fits.HDUList:
    """Standalone ``nu<seqid><m>01_gti.fits`` (PRIMARY + STDGTI, unit 'sec' as nupipeline)."""
    prim = fits.PrimaryHDU()
    h = prim.header
    _apply(h, [("TIMEZERO", 0.0, "Time Zero"),
               ("TELESCOP", "NuSTAR", "Telescope (mission) name"),
               ("INSTRUME", meta.instrume, "Instrument name"),
               ("OBS_ID", meta.seqid, "Observation ID"),
               ("PREFR", 0.0, "Fraction of sample before the time stamp"),
               ("POSTFR", 1.0, "Fraction of sample after the time stamp"),
               ("DATE", _now(meta), "file creation date"),
               ("TSTART", meta.tstart, "time start"),
               ("TSTOP", meta.tstop, "time stop"),
               ("MJDREFI", MJDREFI, "MJD reference day"),
               ("MJDREFF", MJDREFF, "MJD reference (fraction of day)")])
    _sim_comment(h, meta)
    ext = gti_hdu(meta, gti, extname="STDGTI", unit="sec")
    _apply(ext.header, [("TIMEZERO", 0.0, "Time Zero"),
                        ("PREFR", 0.0, "Fraction of sample before the time stamp"),
                        ("POSTFR", 1.0, "Fraction of sample after the time stamp")])
    return fits.HDUList([prim, ext])


def det1_file(meta: ObsMeta, time: np.ndarray, x_det1: np.ndarray, y_det1: np.ndarray) -> fits.HDUList:
    """``nu<seqid><m>_det1.fits``: the sky X/Y of DET1 pixel (350, 350) every 0.2 s."""
    prim = fits.PrimaryHDU()
    _apply(prim.header, _target_cards(meta))
    _apply(prim.header, _time_cards(meta))
    _sim_comment(prim.header, meta)
    cols = [fits.Column(name="TIME", format="1D", unit="s", array=time),
            fits.Column(name="X_DET1", format="1D", unit="pixel", array=x_det1),
            fits.Column(name="Y_DET1", format="1D", unit="pixel", array=y_det1)]
    hdu = fits.BinTableHDU.from_columns(cols, name="DET1_REFPOINT")
    h = hdu.header
    h.comments["TTYPE1"] = "Time"
    h.comments["TTYPE2"] = "Sky X of the DET1 reference point"
    h.comments["TTYPE3"] = "Sky Y of the DET1 reference point"
    _apply(h, [("HDUCLASS", "OGIP", "format conforms to OGIP standard"),
               ("HDUCLAS1", "TEMPORALDATA", "data are time ordered"),
               ("TIMEPIXR", 0.0, "time stamp at the start of the bin")])
    _apply(h, _target_cards(meta))
    _apply(h, _time_cards(meta))
    h.add_history("nuskypos parameters (simulated): det1xref = 350")
    h.add_history("nuskypos parameters (simulated): det1yref = 350")
    h.add_history("nuskypos parameters (simulated): aberration = no")
    for par in ("optaxisfile", "det1reffile", "attfile", "alignfile", "teldef"):
        h.add_history(f"nuskypos parameters (simulated): {par} = NONE (synthetic mast track)")
    _sim_comment(h, meta)
    return fits.HDUList([prim, hdu])
