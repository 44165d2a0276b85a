"""Read NuSTAR cleaned event files, GTI files, DET1 reference-point files and FPM housekeeping.

What is read (reference: ``nustar-data-formats.md`` B.2–B.4 and D):

* **EVENTS** columns by *name*; their TLMIN/TLMAX/TNULL/TC* keywords by the matching column
  *number* (files with the reduced 14-column set renumber them).
* **Null sentinels** (TNULL: −4095 for PI/DET1X/DET1Y/DET2X/DET2Y, −1 for X/Y) are kept as the
  raw values in :attr:`EventList.columns`; :meth:`EventList.valid` gives the boolean mask
  ``value != TNULL`` and :meth:`EventList.masked` a ``numpy.ma.MaskedArray``.  Nothing is
  dropped silently: binning code must apply the mask (``events.valid("DET1X")``).
* **STATUS** is returned as an (n, 16) bool array whatever the storage (``16X`` bits or ``2B``
  bytes; both are most-significant bit first, so bit ``k`` means the same in both).
* **Sky WCS** (:class:`astropy.wcs.WCS`) from the X/Y columns' TCTYP/TCRPX/TCRVL/TCDLT/TCUNI in
  the EVENTS header — never from the primary RA_NOM, which can differ.  String TCRVL values
  (``'0.0'``) are cast to float.
* **Header keywords** from the EVENTS extension (:attr:`EventList.header`); the primary
  header is kept separately (:attr:`EventList.primary_header`) because they differ.
* **GTI** (EXTNAME GTI/STDGTI or HDUCLAS1='GTI'; unit 's' or 'sec') and **BADPIX**
  extensions (one per detector: RAWX, RAWY, TIME, TIME_STOP, BADFLAG bits).

Everything is vectorised; no Python loop runs over events.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from nuskybgd.constants import TNULL_DET, TNULL_PI, TNULL_SKY
from nuskybgd.energy import band_to_pi
from nuskybgd.errors import InputError
from nuskybgd.io.fitsfile import column_keyword, find_hdu, open_fits
from nuskybgd.modules import module_of

__all__ = [
    "STANDARD_COLUMNS",
    "EventList",
    "Gti",
    "BadPixels",
    "Det1Refpoint",
    "Housekeeping",
    "read_events",
    "events_hdu",
    "read_event_headers",
    "read_gti",
    "read_det1_refpoint",
    "read_hk",
    "events_in_band",
    "gti_intersection",
    "status_bits",
]

#: Columns read by default: the reduced nupipeline set (``cleancols=yes``), 14 columns.
STANDARD_COLUMNS: tuple[str, ...] = (
    "TIME", "DET_ID", "RAWX", "RAWY", "STATUS", "GRADE", "SURRPI", "PI",
    "DET1X", "DET1Y", "DET2X", "DET2Y", "X", "Y",
)

#: Null sentinels assumed when a file omits TNULL for a standard column.
DEFAULT_TNULL: dict[str, int] = {
    "PI": TNULL_PI, "DET1X": TNULL_DET, "DET1Y": TNULL_DET, "DET2X": TNULL_DET,
    "DET2Y": TNULL_DET, "X": TNULL_SKY, "Y": TNULL_SKY,
}


# --------------------------------------------------------------------------------------------
# dataclasses
# --------------------------------------------------------------------------------------------


@dataclass
class Gti:
    """Good time intervals, MET seconds (TT).

    Attributes
    ----------
    start, stop : ndarray of float64
        Interval bounds in s.
    header : dict
        Keywords of the GTI extension (ONTIME, TSTART, …).
    """

    start: np.ndarray
    stop: np.ndarray
    header: dict = field(default_factory=dict)

    @property
    def ontime(self) -> float:
        """Σ(stop − start) in s."""
        return float(np.sum(self.stop - self.start))

    def __len__(self) -> int:
        return int(self.start.size)

    def contains(self, time: np.ndarray) -> np.ndarray:
        """Boolean mask of ``time`` values inside any interval ``[start, stop)`` (vectorised)."""
        t = np.asarray(time, dtype=np.float64)
        if self.start.size == 0:
            return np.zeros(t.shape, dtype=bool)
        order = np.argsort(self.start, kind="stable")
        s, e = self.start[order], self.stop[order]
        k = np.searchsorted(s, t, side="right") - 1
        ok = k >= 0
        kk = np.clip(k, 0, None)
        return ok & (t < e[kk])


@dataclass
class BadPixels:
    """One BADPIX extension (one detector).

    Attributes
    ----------
    det_id : int
        Detector number 0–3 (from DETNAM 'DETn', else EXTVER − 1).
    rawx, rawy : ndarray of int
        RAW pixel (0–31).
    time, time_stop : ndarray of float64
        Start and stop of the bad interval, MET s.
    badflag : ndarray of bool, shape (n, 16)
        BADFLAG bits, most significant first (origin of the flag: CALDB, on-board, user …).
    """

    det_id: int
    rawx: np.ndarray
    rawy: np.ndarray
    time: np.ndarray
    time_stop: np.ndarray
    badflag: np.ndarray
    header: dict = field(default_factory=dict)


@dataclass
class Det1Refpoint:
    """The DET1 reference-point track (``nu<seq>A_det1.fits``, extension DET1_REFPOINT).

    ``x_det1``/``y_det1`` are the *sky-frame* pixel coordinates of DET1 pixel (350, 350) at
    ``time`` (MET s), sampled every ~0.2 s.  Rows before the attitude settles are far off the
    grid; filter by GTI and range before use.
    """

    time: np.ndarray
    x_det1: np.ndarray
    y_det1: np.ndarray
    header: dict = field(default_factory=dict)


@dataclass
class Housekeeping:
    """FPM housekeeping (``nu<seq>A_fpm.hk``, extension HK1FPM): per-frame livetime fraction."""

    time: np.ndarray
    livetime: np.ndarray
    header: dict = field(default_factory=dict)


@dataclass
class EventList:
    """A cleaned event file in memory.

    Attributes
    ----------
    path : Path
        The file read.
    columns : dict of str → ndarray
        Raw column values in native byte order (sentinels included), keyed by upper-case name;
        STATUS is an (n, 16) bool array.
    tnull : dict of str → int
        Null sentinel of each column that has one.
    header : astropy.io.fits.Header
        EVENTS extension header (use this, not the primary, for WCS and exposure).
    primary_header : astropy.io.fits.Header
        Primary header.
    wcs : astropy.wcs.WCS or None
        Sky WCS of the X/Y columns (pixel 1-based physical coordinates: use ``origin=1``).
    gti : Gti or None
        The GTI extension.
    badpix : list of BadPixels
        BADPIX extensions, in file order (empty when absent).
    """

    path: Path
    columns: dict[str, np.ndarray]
    tnull: dict[str, int]
    header: fits.Header
    primary_header: fits.Header
    wcs: WCS | None
    gti: Gti | None
    badpix: list[BadPixels] = field(default_factory=list)

    # ---- basic access
    def __len__(self) -> int:
        return self.n_events

    @property
    def n_events(self) -> int:
        if not self.columns:
            return 0
        return int(next(iter(self.columns.values())).shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name.upper()]
        except KeyError:
            raise KeyError(f"column {name!r} was not read from {self.path}") from None

    def valid(self, name: str) -> np.ndarray:
        """Boolean mask: True where column ``name`` is not its TNULL sentinel."""
        v = self[name]
        t = self.tnull.get(name.upper())
        if t is None:
            return np.ones(v.shape[0], dtype=bool)
        return v != t

    def masked(self, name: str) -> np.ma.MaskedArray:
        """Column ``name`` as a masked array (sentinel values masked)."""
        return np.ma.MaskedArray(self[name], mask=~self.valid(name))

    # ---- keywords
    def keyword(self, key: str, default=None):
        """A keyword from the EVENTS header, falling back to the primary header."""
        if key in self.header:
            return self.header[key]
        return self.primary_header.get(key, default)

    @property
    def ontime(self) -> float:
        """ONTIME keyword (s)."""
        return float(self.keyword("ONTIME", np.nan))

    @property
    def livetime(self) -> float:
        """LIVETIME keyword (s)."""
        return float(self.keyword("LIVETIME", np.nan))

    @property
    def exposure(self) -> float:
        """EXPOSURE keyword (s); equals ONTIME × DEADC for NuSTAR."""
        return float(self.keyword("EXPOSURE", np.nan))

    @property
    def deadc(self) -> float:
        """DEADC keyword (dead-time correction factor, 0–1)."""
        return float(self.keyword("DEADC", np.nan))

    @property
    def module(self) -> str | None:
        """'A' or 'B' from INSTRUME (FPMA/FPMB)."""
        ins = self.keyword("INSTRUME", None)
        if ins is None or not str(ins).strip():
            return None
        return module_of(ins, self.path, "event file")

    # ---- derived
    @property
    def status_ok(self) -> np.ndarray:
        """True for events with no STATUS bit set."""
        return ~self["STATUS"].any(axis=1)

    def sky_to_world(self, x: np.ndarray | None = None, y: np.ndarray | None = None):
        """RA, Dec (deg) of sky pixels (default: every event; sentinel rows give NaN)."""
        if self.wcs is None:
            raise InputError(f"event file {self.path} has no sky WCS on its X/Y columns.", self.path)
        if x is None or y is None:
            x = self.masked("X").astype(float).filled(np.nan)
            y = self.masked("Y").astype(float).filled(np.nan)
        return self.wcs.wcs_pix2world(np.asarray(x, float), np.asarray(y, float), 1)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _native(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.byteorder not in ("=", "|") and a.dtype.kind != "b":
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def status_bits(raw: np.ndarray) -> np.ndarray:
    """STATUS as an (n, 16) bool array from either ``16X`` (bool) or ``2B`` (uint8) storage."""
    a = np.asarray(raw)
    if a.dtype == bool:
        return a.reshape(a.shape[0], -1)
    a = a.reshape(a.shape[0], -1).astype(np.uint8)
    return np.unpackbits(a, axis=1).astype(bool)


def _float_kw(value, what: str, path: Path) -> float:
    """Cast a keyword value (possibly a string such as ``'0.0'``) to float."""
    try:
        return float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InputError(f"event file {path} has a non-numeric {what} ({value!r}); fix the header.",
                         path) from None


def sky_wcs(hdu: fits.BinTableHDU, path: Path, xcol: str = "X", ycol: str = "Y") -> WCS | None:
    """Build the sky WCS of the ``xcol``/``ycol`` columns from their TC* keywords (None if absent)."""
    nx, ny = (column_keyword(hdu, "TCTYP", c) for c in (xcol, ycol))
    if nx is None or ny is None:
        return None
    w = WCS(naxis=2)
    w.wcs.ctype = [str(nx).strip(), str(ny).strip()]
    w.wcs.crpix = [_float_kw(column_keyword(hdu, "TCRPX", c, 0.0), f"TCRPX of {c}", path)
                   for c in (xcol, ycol)]
    w.wcs.crval = [_float_kw(column_keyword(hdu, "TCRVL", c, 0.0), f"TCRVL of {c}", path)
                   for c in (xcol, ycol)]
    w.wcs.cdelt = [_float_kw(column_keyword(hdu, "TCDLT", c, 1.0), f"TCDLT of {c}", path)
                   for c in (xcol, ycol)]
    units = [str(column_keyword(hdu, "TCUNI", c, "deg")).strip() or "deg" for c in (xcol, ycol)]
    try:
        w.wcs.cunit = units
    except ValueError:
        w.wcs.cunit = ["deg", "deg"]
    equinox = hdu.header.get("EQUINOX")
    if equinox is not None:
        w.wcs.equinox = _float_kw(equinox, "EQUINOX", path)
    radesys = hdu.header.get("RADECSYS", hdu.header.get("RADESYS"))
    if radesys:
        w.wcs.radesys = str(radesys).strip()
    w.wcs.set()
    return w


def _gti_from_hdu(hdu: fits.BinTableHDU, path: Path) -> Gti:
    names = {n.upper() for n in hdu.columns.names}
    if not {"START", "STOP"} <= names:
        raise InputError(f"GTI extension of {path} lacks START/STOP columns; give a GTI file made by nupipeline or ftools.", path)
    start = np.asarray(hdu.data["START"], dtype=np.float64).ravel()
    stop = np.asarray(hdu.data["STOP"], dtype=np.float64).ravel()
    unit = str(hdu.columns["START"].unit or "s").strip().lower()
    if unit not in ("s", "sec", "second", "seconds", ""):
        raise InputError(f"GTI of {path} is in unit {unit!r}; only seconds are supported.", path)
    if np.any(stop < start):
        raise InputError(f"GTI of {path} has intervals with STOP < START; the file is malformed.", path)
    return Gti(start=start, stop=stop, header=_plain(hdu.header))


def _plain(header: fits.Header) -> dict:
    from nuskybgd.io.fitsfile import header_to_dict

    return header_to_dict(header)


def _find_gti_hdu(hdul: fits.HDUList):
    return find_hdu(hdul, ("GTI", "STDGTI"), "GTI")


_DETNAM = re.compile(r"DET\s*([0-3])", re.IGNORECASE)


def _badpix(hdul: fits.HDUList, path: Path) -> list[BadPixels]:
    out: list[BadPixels] = []
    for hdu in hdul[1:]:
        if str(hdu.header.get("EXTNAME", "")).strip().upper() != "BADPIX":
            continue
        names = {n.upper() for n in hdu.columns.names}
        need = {"RAWX", "RAWY", "TIME", "TIME_STOP", "BADFLAG"}
        if not need <= names:
            raise InputError(
                f"BADPIX extension of {path} lacks {', '.join(sorted(need - names))}; the file is malformed.",
                path,
            )
        m = _DETNAM.search(str(hdu.header.get("DETNAM", "")))
        det_id = int(m.group(1)) if m else int(hdu.header.get("EXTVER", 1)) - 1
        d = hdu.data
        out.append(BadPixels(
            det_id=det_id,
            rawx=_native(d["RAWX"]).astype(np.int16).ravel(),
            rawy=_native(d["RAWY"]).astype(np.int16).ravel(),
            time=np.asarray(d["TIME"], dtype=np.float64).ravel(),
            time_stop=np.asarray(d["TIME_STOP"], dtype=np.float64).ravel(),
            badflag=status_bits(d["BADFLAG"]) if len(d) else np.zeros((0, 16), dtype=bool),
            header=_plain(hdu.header),
        ))
    return out


# --------------------------------------------------------------------------------------------
# readers
# --------------------------------------------------------------------------------------------


def events_hdu(hdul: fits.HDUList, path: str | Path) -> fits.BinTableHDU:
    """The EVENTS extension of an open event file (EXTNAME or HDUCLAS1 ``EVENTS``).

    Raises
    ------
    InputError
        There is none; the message names ``path``.
    """
    hdu = find_hdu(hdul, ("EVENTS",), "EVENTS")
    if hdu is None:
        raise InputError(
            f"{path} has no EVENTS extension; give a NuSTAR cleaned event file (*_cl.evt).", path)
    return hdu


def read_event_headers(path: str | Path) -> tuple[fits.Header, fits.Header, int]:
    """Primary header, EVENTS header and the number of events, without reading the events.

    Raises
    ------
    InputError
        Not FITS, truncated, or no EVENTS extension.
    """
    p = Path(path)
    with open_fits(p, "event file") as hdul:
        return event_headers(hdul, p)


def event_headers(hdul: fits.HDUList, path: str | Path) -> tuple[fits.Header, fits.Header, int]:
    """:func:`read_event_headers` on an already open event file (copies of the headers)."""
    hdu = events_hdu(hdul, path)
    return hdul[0].header.copy(), hdu.header.copy(), int(hdu.header.get("NAXIS2", 0))


def read_events(path: str | Path, columns: Sequence[str] | str | None = None) -> EventList:
    """Read a NuSTAR event file.

    Parameters
    ----------
    path : path
        Cleaned event file (``*_cl.evt`` or ``*_cl.evt.gz``).
    columns : sequence of str, ``"all"`` or None
        Columns to read.  ``None`` reads the standard set :data:`STANDARD_COLUMNS` (those present);
        ``"all"`` reads every column.  Missing requested columns raise InputError.

    Returns
    -------
    EventList

    Raises
    ------
    InputError
        Not FITS, truncated, no EVENTS extension, missing requested columns, bad WCS keywords.
    """
    p = Path(path)
    with open_fits(p, "event file") as hdul:
        hdu = events_hdu(hdul, p)
        available = [n.upper() for n in hdu.columns.names]
        if columns is None:
            wanted = [c for c in STANDARD_COLUMNS if c in available]
            if "TIME" not in wanted:
                raise InputError(f"EVENTS extension of {p} has no TIME column; it is not an event file.", p)
        elif isinstance(columns, str) and columns.lower() == "all":
            wanted = available
        else:
            wanted = [c.upper() for c in columns]
            missing = [c for c in wanted if c not in available]
            if missing:
                raise InputError(f"event file {p} lacks column(s) {', '.join(missing)}; give a NuSTAR "
                                 "cleaned event file (nu<seqid><A|B><mode>_cl.evt).", p)
        data = hdu.data
        cols: dict[str, np.ndarray] = {}
        tnull: dict[str, int] = {}
        for name in wanted:
            raw = data[name]
            if name == "STATUS":
                cols[name] = status_bits(raw) if len(raw) else np.zeros((0, 16), dtype=bool)
                continue
            cols[name] = _native(raw)
            t = column_keyword(hdu, "TNULL", name)
            if t is None:
                t = DEFAULT_TNULL.get(name)
            if t is not None and cols[name].dtype.kind in "iu":
                tnull[name] = int(t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = sky_wcs(hdu, p) if {"X", "Y"} <= set(available) else None
        gti_hdu = _find_gti_hdu(hdul)
        gti = _gti_from_hdu(gti_hdu, p) if gti_hdu is not None else None
        badpix = _badpix(hdul, p)
        header = hdu.header.copy()
        primary = hdul[0].header.copy()
    return EventList(path=p, columns=cols, tnull=tnull, header=header, primary_header=primary,
                     wcs=wcs, gti=gti, badpix=badpix)


def read_gti(path: str | Path) -> Gti:
    """Read the GTI of a standalone GTI file (STDGTI/GTI, or any HDUCLAS1='GTI' extension).

    Also works on an event or PHA file (its GTI extension).
    """
    p = Path(path)
    with open_fits(p, "GTI file") as hdul:
        hdu = _find_gti_hdu(hdul)
        if hdu is None:
            raise InputError(f"{p} has no GTI extension (looked for EXTNAME GTI/STDGTI or HDUCLAS1='GTI').", p)
        return _gti_from_hdu(hdu, p)


def read_det1_refpoint(path: str | Path) -> Det1Refpoint:
    """Read ``nu<seq><A|B>_det1.fits``: TIME (s), X_DET1, Y_DET1 (sky pixels) from DET1_REFPOINT."""
    p = Path(path)
    with open_fits(p, "DET1 reference-point file") as hdul:
        hdu = find_hdu(hdul, ("DET1_REFPOINT",))
        if hdu is None:
            for h in hdul[1:]:
                if isinstance(h, fits.BinTableHDU) and {"TIME", "X_DET1", "Y_DET1"} <= {
                        n.upper() for n in h.columns.names}:
                    hdu = h
                    break
        if hdu is None:
            raise InputError(
                f"{p} has no DET1_REFPOINT extension with TIME, X_DET1, Y_DET1; give the nupipeline "
                "nu<seqid><A|B>_det1.fits file.", p)
        names = {n.upper() for n in hdu.columns.names}
        missing = {"TIME", "X_DET1", "Y_DET1"} - names
        if missing:
            raise InputError(f"DET1 reference-point file {p} lacks {', '.join(sorted(missing))}; give the "
                             "nupipeline file nu<seqid><A|B>_det1.fits.", p)
        d = hdu.data
        return Det1Refpoint(
            time=np.asarray(d["TIME"], dtype=np.float64).ravel(),
            x_det1=np.asarray(d["X_DET1"], dtype=np.float64).ravel(),
            y_det1=np.asarray(d["Y_DET1"], dtype=np.float64).ravel(),
            header=_plain(hdu.header),
        )


def read_hk(path: str | Path) -> Housekeeping:
    """Read the per-frame LIVETIME fraction from an FPM housekeeping file (extension HK1FPM)."""
    p = Path(path)
    with open_fits(p, "housekeeping file") as hdul:
        hdu = find_hdu(hdul, ("HK1FPM",))
        if hdu is None or not {"TIME", "LIVETIME"} <= {n.upper() for n in hdu.columns.names}:
            raise InputError(f"{p} has no HK1FPM extension with TIME and LIVETIME; give nu<seqid><A|B>_fpm.hk.", p)
        d = hdu.data
        return Housekeeping(time=np.asarray(d["TIME"], dtype=np.float64).ravel(),
                            livetime=np.asarray(d["LIVETIME"], dtype=np.float64).ravel(),
                            header=_plain(hdu.header))


def events_in_band(events: EventList, elow: float, ehigh: float) -> np.ndarray:
    """Boolean mask of events whose PI lies in the energy band ``[elow, ehigh)`` keV.

    The band is turned into an inclusive PI range with :func:`nuskybgd.energy.band_to_pi`
    (channels wholly inside the band; 3–20 keV → PI 35–459).  Events with the PI sentinel are
    never selected.
    """
    try:
        pi_min, pi_max = band_to_pi(elow, ehigh)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    pi = events["PI"]
    return events.valid("PI") & (pi >= pi_min) & (pi <= pi_max)


def gti_intersection(a: Gti, b: Gti) -> Gti:
    """Intersection of two GTI sets, each made of non-overlapping intervals (vectorised)."""
    def norm(g: Gti) -> tuple[np.ndarray, np.ndarray]:
        o = np.argsort(g.start, kind="stable")
        return g.start[o], g.stop[o]

    s1, e1 = norm(a)
    s2, e2 = norm(b)
    if s1.size == 0 or s2.size == 0:
        return Gti(np.zeros(0), np.zeros(0))
    # candidate pairs: for each interval of a, the b intervals overlapping it
    lo = np.searchsorted(e2, s1, side="right")
    hi = np.searchsorted(s2, e1, side="left")
    counts = np.clip(hi - lo, 0, None)
    ia = np.repeat(np.arange(s1.size), counts)
    ib = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    start = np.maximum(s1[ia], s2[ib])
    stop = np.minimum(e1[ia], e2[ib])
    keep = stop > start
    return Gti(start[keep], stop[keep])
