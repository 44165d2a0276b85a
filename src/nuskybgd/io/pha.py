"""OGIP PHA type I spectra (OGIP/92-007): read and write :class:`~nuskybgd.io.ogip_types.Pha`.

COUNTS and RATE spectra are read as counts (with EXPOSURE); BACKSCAL/AREASCAL may be keywords or
columns; GROUPING/QUALITY columns become arrays.  The writer writes every keyword ftchkpha
requires (:data:`MANDATORY_PHA_KEYWORDS`) and an optional GTI extension.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.errors import InputError
from nuskybgd.io.atomic import write_fits_atomic
from nuskybgd.io.fitsfile import (
    column_keyword,
    find_hdu,
    float_format,
    header_to_dict,
    open_fits,
    put_header,
)
from nuskybgd.io.ogip_types import Pha
from nuskybgd.provenance import Provenance

#: Keywords ftchkpha requires in a PHA SPECTRUM extension (a column of the same name may stand
#: in for AREASCAL/BACKSCAL/CORRSCAL).
MANDATORY_PHA_KEYWORDS: tuple[str, ...] = (
    "TELESCOP", "INSTRUME", "FILTER", "EXPOSURE", "AREASCAL", "BACKFILE", "BACKSCAL",
    "CORRFILE", "CORRSCAL", "RESPFILE", "ANCRFILE", "HDUCLASS", "HDUCLAS1", "HDUVERS",
    "CHANTYPE", "DETCHANS",
)

def _none_if_blank(value) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return None if s.lower() in ("", "none") else s


def read_pha(path: str | Path) -> Pha:
    """Read a PHA type I spectrum (extension SPECTRUM).

    COUNTS spectra are read as they are; RATE spectra are converted to counts with EXPOSURE
    (``header['HDUCLAS3']`` stays ``'RATE'`` so the writer can restore the form).  BACKSCAL,
    AREASCAL may be keywords (float) or columns (array).  GROUPING/QUALITY columns become
    arrays; keyword-only GROUPING/QUALITY become ``None``.  STAT_ERR / SYS_ERR columns, when
    present, are kept in ``header`` as arrays under those names.

    Raises
    ------
    InputError
        No SPECTRUM extension, a type II (multi-row vector) file, no COUNTS/RATE column, or a
        RATE spectrum without EXPOSURE.
    """
    p = Path(path)
    with open_fits(p, "spectrum") as hdul:
        hdu = find_hdu(hdul, ("SPECTRUM",), "SPECTRUM")
        if hdu is None:
            raise InputError(f"spectrum {p} has no SPECTRUM extension; it is not an OGIP PHA file.", p)
        h = hdu.header
        names = {n.upper() for n in hdu.columns.names}
        d = hdu.data
        if "CHANNEL" not in names:
            raise InputError(f"spectrum {p} has no CHANNEL column; it is not an OGIP PHA file.", p)
        channels = np.asarray(d["CHANNEL"])
        if channels.ndim != 1 or str(h.get("HDUCLAS4", "")).strip().upper() == "TYPE:II":
            raise InputError(f"spectrum {p} is a PHA type II file; split it into type I spectra first.", p)
        channels = channels.astype(np.int64)
        exposure = float(h.get("EXPOSURE", 0.0) or 0.0)
        header = header_to_dict(h)
        if "COUNTS" in names:
            counts = np.asarray(d["COUNTS"])
            counts = counts.astype(np.int64) if counts.dtype.kind in "iu" else counts.astype(np.float64)
        elif "RATE" in names:
            if exposure <= 0:
                raise InputError(f"spectrum {p} stores RATE but has no positive EXPOSURE; fix its header.", p)
            counts = np.asarray(d["RATE"], dtype=np.float64) * exposure
            header["HDUCLAS3"] = "RATE"
        else:
            raise InputError(f"spectrum {p} has neither a COUNTS nor a RATE column; it is not a PHA file.", p)

        def col_or_key(name: str, default: float):
            if name in names:
                return np.asarray(d[name], dtype=np.float64).copy()
            return float(h.get(name, default))

        backscal = col_or_key("BACKSCAL", 1.0)
        areascal = col_or_key("AREASCAL", 1.0)
        if "CORRSCAL" in names:
            header["CORRSCAL"] = np.asarray(d["CORRSCAL"], dtype=np.float64).copy()
        grouping = np.asarray(d["GROUPING"], dtype=np.int64).copy() if "GROUPING" in names else None
        quality = np.asarray(d["QUALITY"], dtype=np.int64).copy() if "QUALITY" in names else None
        for err in ("STAT_ERR", "SYS_ERR"):
            if err in names:
                header[err] = np.asarray(d[err], dtype=np.float64).copy()
        poisserr = bool(h.get("POISSERR", "STAT_ERR" not in names))
        header["TLMIN1"] = column_keyword(hdu, "TLMIN", "CHANNEL")
        header["TLMAX1"] = column_keyword(hdu, "TLMAX", "CHANNEL")
    for k in ("TLMIN1", "TLMAX1"):
        if header[k] is None:
            del header[k]
    return Pha(
        channels=channels,
        counts=counts,
        exposure=exposure,
        backscal=backscal,
        areascal=areascal,
        grouping=grouping,
        quality=quality,
        respfile=_none_if_blank(header.get("RESPFILE")),
        ancrfile=_none_if_blank(header.get("ANCRFILE")),
        backfile=_none_if_blank(header.get("BACKFILE")),
        corrfile=_none_if_blank(header.get("CORRFILE")),
        poisserr=poisserr,
        header=header,
    )


def write_pha(
    pha: Pha,
    path: str | Path,
    overwrite: bool = False,
    rate: bool | None = None,
    gti: tuple[np.ndarray, np.ndarray] | None = None,
    provenance: Provenance | None = None,
    **provenance_keywords,
) -> Path:
    """Write ``pha`` as an OGIP PHA type I file (null primary, SPECTRUM, optional GTI).

    Every keyword ftchkpha requires (:data:`MANDATORY_PHA_KEYWORDS`) is written, plus
    HDUCLAS2/3, PHAVERSN, POISSERR, STAT_ERR/SYS_ERR/GROUPING/QUALITY keywords when there is no
    such column, TLMIN1/TLMAX1 and TOTCTS.  Keywords in ``pha.header`` (OBJECT, RA_OBJ, ONTIME,
    …) are kept.

    Parameters
    ----------
    pha : Pha
        The spectrum (counts per channel, exposure in s).
    path : path
        Output file.
    overwrite : bool
        Replace an existing file (otherwise refuse).
    rate : bool, optional
        Write a RATE column (counts/s) instead of COUNTS.  Default: as read
        (``pha.header['HDUCLAS3'] == 'RATE'``), else COUNTS.
    gti : (start, stop), optional
        Good time intervals (MET s) written as a GTI extension.
    provenance : Provenance, optional
        Stamped into the SPECTRUM header; the keywords ``calibration``, ``calibration_detail``,
        ``inputs`` and ``task`` are accepted instead.
    """
    prov = Provenance.coerce(provenance, **provenance_keywords)
    n = pha.channels.size
    counts = np.asarray(pha.counts)
    if counts.shape != (n,):
        raise ValueError(f"PHA counts shape {counts.shape} does not match {n} channels")
    hdr_in = dict(pha.header)
    if rate is None:
        rate = str(hdr_in.get("HDUCLAS3", "COUNT")).strip().upper() == "RATE"
    if rate and not pha.exposure > 0:
        raise ValueError("a RATE spectrum needs a positive exposure")
    vector_keys = {name: v for name in ("STAT_ERR", "SYS_ERR")
                   if isinstance(v := hdr_in.get(name), np.ndarray)}
    hdu = fits.BinTableHDU.from_columns(_spectrum_columns(pha, counts, rate, vector_keys),
                                        name="SPECTRUM")
    h = hdu.header
    put_header(h, _kept_keywords(hdr_in))
    _ogip_keywords(h, pha, hdr_in, rate)
    _scaling_and_file_keywords(h, pha, hdr_in, vector_keys)
    if not rate:
        h["TOTCTS"] = (int(round(float(np.sum(counts)))), "total counts in spectrum")
    prov.stamp(h)
    hdus = [fits.PrimaryHDU(), hdu]
    if gti is not None:
        hdus.append(_gti_hdu(gti, h))
    return write_fits_atomic(Path(path), fits.HDUList(hdus), overwrite=overwrite)


def _spectrum_columns(pha: Pha, counts: np.ndarray, rate: bool,
                      vector_keys: dict[str, np.ndarray]) -> list[fits.Column]:
    """CHANNEL, COUNTS or RATE, and the optional per-channel columns."""
    chan = np.asarray(pha.channels)
    cols = [fits.Column("CHANNEL", "J" if chan.max(initial=0) > 32767 else "I", array=chan)]
    if rate:
        cols.append(fits.Column("RATE", "D", unit="count/s",
                                array=np.asarray(counts, np.float64) / pha.exposure))
    elif counts.dtype.kind in "iu" or np.all(np.mod(counts, 1) == 0):
        cols.append(fits.Column("COUNTS", "J", unit="count", array=counts.astype(np.int32)))
    else:
        fmt, typ = float_format(counts)
        cols.append(fits.Column("COUNTS", fmt, unit="count", array=counts.astype(typ)))
    for name, v in vector_keys.items():  # STAT_ERR / SYS_ERR as read (a rate error stays one)
        fmt, typ = float_format(v)
        cols.append(fits.Column(name, fmt, array=np.asarray(v, typ)))
    if pha.grouping is not None:
        cols.append(fits.Column("GROUPING", "I", array=np.asarray(pha.grouping, np.int16)))
    if pha.quality is not None:
        cols.append(fits.Column("QUALITY", "I", array=np.asarray(pha.quality, np.int16)))
    for name, v in (("AREASCAL", pha.areascal), ("BACKSCAL", pha.backscal),
                    ("CORRSCAL", pha.header.get("CORRSCAL"))):
        if isinstance(v, np.ndarray):
            fmt, typ = float_format(v)
            cols.append(fits.Column(name, fmt, array=np.asarray(v, typ)))
    return cols


def _kept_keywords(hdr_in: dict) -> dict:
    """Input keywords to copy: not TLMIN1/TLMAX1, and no data-subspace descriptor whose DSREF
    points at an extension of the input file (e.g. ``DSREF2 = ':REG00101'``), which would
    dangle here."""
    dangling = {m.group(1) for k, v in hdr_in.items()
                if (m := re.match(r"^DSREF(\d+)$", str(k))) and str(v).startswith(":")}
    return {k: v for k, v in hdr_in.items() if k not in ("TLMIN1", "TLMAX1")
            and not ((m := re.match(r"^DS(?:TYP|VAL|REF|UNI)(\d+)$", str(k)))
                     and m.group(1) in dangling)}


def _ogip_keywords(h: fits.Header, pha: Pha, hdr_in: dict, rate: bool) -> None:
    """HDUCLASn, versions, instrument defaults, EXPOSURE and the channel range."""
    chan = np.asarray(pha.channels)
    h["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    h["HDUCLAS1"] = ("SPECTRUM", "PHA dataset (OGIP memo OGIP-92-007)")
    h.setdefault("HDUCLAS2", "TOTAL")
    h["HDUCLAS3"] = ("RATE" if rate else "COUNT", "PHA data stored as rate or counts")
    h["HDUVERS"] = ("1.2.1", "version of format (OGIP memo OGIP-92-007)")
    h["HDUVERS1"] = ("1.2.1", "obsolete, kept for compatibility")
    h["PHAVERSN"] = ("1992a", "obsolete")
    h.setdefault("TELESCOP", "NuSTAR")
    h.setdefault("INSTRUME", "UNKNOWN")
    h.setdefault("FILTER", "NONE")
    h["EXPOSURE"] = (float(pha.exposure), "exposure time (s)")
    h.setdefault("CHANTYPE", "PI")
    tlmin = int(hdr_in.get("TLMIN1", chan.min(initial=0)))
    tlmax = int(hdr_in.get("TLMAX1", chan.max(initial=0)))
    h["TLMIN1"] = (tlmin, "lowest legal channel number")
    h["TLMAX1"] = (tlmax, "highest legal channel number")
    h["DETCHANS"] = (int(hdr_in.get("DETCHANS", tlmax - tlmin + 1)), "total number of possible channels")


def _comment_that_fits(keyword: str, value: str, comment: str) -> str:
    """``comment`` shortened to what is left of the 80-character card after a string value
    (astropy would truncate it with a warning); empty when the value needs CONTINUE cards."""
    used = len(fits.Card(keyword, value).image.rstrip())
    room = 80 - used - 3                               # " / " before the comment
    if used > 80 or room < 12:
        return ""
    return comment if len(comment) <= room else comment[:room].rsplit(" ", 1)[0]


def _scaling_and_file_keywords(h: fits.Header, pha: Pha, hdr_in: dict,
                               vector_keys: dict[str, np.ndarray]) -> None:
    """AREASCAL/BACKSCAL/CORRSCAL, the associated files, and the no-column keywords."""
    for name, v, comment in (("AREASCAL", pha.areascal, "area scaling factor"),
                             ("BACKSCAL", pha.backscal, "background scaling factor"),
                             ("CORRSCAL", hdr_in.get("CORRSCAL", 1.0), "correction scaling factor")):
        if isinstance(v, np.ndarray):
            h.remove(name, ignore_missing=True)
        else:
            h[name] = (float(v if v is not None else 1.0), comment)
    for name, value, comment in (("BACKFILE", pha.backfile, "associated background file"),
                                 ("CORRFILE", pha.corrfile, "associated correction file"),
                                 ("RESPFILE", pha.respfile, "associated redistribution matrix file"),
                                 ("ANCRFILE", pha.ancrfile, "associated ancillary response file")):
        h[name] = (value or "none", _comment_that_fits(name, value or "none", comment))
    h["POISSERR"] = (bool(pha.poisserr), "Poissonian errors to be assumed")
    for name in ("STAT_ERR", "SYS_ERR"):
        if name in vector_keys:
            h.remove(name, ignore_missing=True)
        else:
            h[name] = (0, f"no {name.lower().replace('_', ' ')} column")
    for name, column, comment in (("GROUPING", pha.grouping, "no grouping of the data has been defined"),
                                  ("QUALITY", pha.quality, "no data quality information specified")):
        if column is None:
            h[name] = (0, comment)
        else:
            h.remove(name, ignore_missing=True)


def _gti_hdu(gti: tuple[np.ndarray, np.ndarray], h: fits.Header) -> fits.BinTableHDU:
    """A STANDARD GTI extension (MET s) carrying the spectrum's time keywords."""
    start, stop = (np.asarray(a, dtype=np.float64) for a in gti)
    ghdu = fits.BinTableHDU.from_columns([
        fits.Column("START", "D", unit="s", array=start),
        fits.Column("STOP", "D", unit="s", array=stop),
    ], name="GTI")
    ghdu.header["HDUCLASS"] = "OGIP"
    ghdu.header["HDUCLAS1"] = "GTI"
    ghdu.header["HDUCLAS2"] = "STANDARD"
    ghdu.header["ONTIME"] = (float(np.sum(stop - start)), "sum of GTIs (s)")
    for k in ("TELESCOP", "INSTRUME", "TIMESYS", "MJDREFI", "MJDREFF", "TIMEUNIT"):
        if k in h:
            ghdu.header[k] = h[k]
    return ghdu
