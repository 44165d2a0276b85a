"""Check OGIP PHA, RMF and ARF files against the OGIP memos (in the spirit of ftchkpha/ftchkrmf).

Each ``validate_*`` function returns a list of problems, one short sentence each; an empty list
means the file passed.  They never raise for a bad file (an unreadable file is itself reported
as a problem), so they can be used to explain why another reader refused a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.errors import NuskybgdError
from nuskybgd.io.fitsfile import find_hdu, open_fits
from nuskybgd.io.ogip_types import Rmf
from nuskybgd.io.pha import MANDATORY_PHA_KEYWORDS
from nuskybgd.io.rmf import read_rmf

__all__ = ["validate_pha", "validate_rmf", "validate_arf", "ROW_SUM_TOLERANCE"]

#: A redistribution row may sum to at most 1 + this (the CALDB NuSTAR RMFs reach 1.0096).
ROW_SUM_TOLERANCE: float = 0.02

_MANDATORY_RMF = ("TELESCOP", "INSTRUME", "CHANTYPE", "DETCHANS", "HDUCLASS", "HDUCLAS1",
                  "HDUCLAS2", "HDUVERS")
_MANDATORY_ARF = ("TELESCOP", "INSTRUME", "HDUCLASS", "HDUCLAS1", "HDUCLAS2", "HDUVERS")
_ALLOWED_QUALITY = {0, 1, 2, 5}


def _s(header: fits.Header, key: str) -> str:
    return str(header.get(key, "")).strip().upper()


def _class_problems(header: fits.Header, label: str = "", **allowed: tuple[str, ...]) -> list[str]:
    """Messages for HDUCLASn keywords present in ``header`` with a value not in ``allowed[key]``
    (an empty string among the allowed values accepts a blank keyword without naming it)."""
    out = []
    for key, values in allowed.items():
        if key in header and _s(header, key) not in values:
            named = [v for v in values if v]
            want = f"'{named[0]}'" if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
            out.append(f"{label}{key} is {header[key]!r}, expected {want}")
    return out


def _columns(hdu) -> set[str]:
    return {n.upper() for n in hdu.columns.names}


def _check_grid(lo: np.ndarray, hi: np.ndarray, what: str, rel_gap: float = 1e-5) -> list[str]:
    """Energy bins must be finite, positive width, increasing and contiguous."""
    out: list[str] = []
    if lo.size == 0:
        return [f"{what} has no rows"]
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        out.append(f"{what} has non-finite energies")
        return out
    if np.any(hi <= lo):
        out.append(f"{what} has {int(np.sum(hi <= lo))} bin(s) with upper edge <= lower edge")
    if lo.size > 1 and np.any(np.diff(lo) <= 0):
        out.append(f"{what} energies are not strictly increasing")
    if lo.size > 1:
        gap = np.abs(lo[1:] - hi[:-1])
        if np.any(gap > rel_gap * np.maximum(np.abs(hi[:-1]), 1e-3)):
            out.append(f"{what} energy bins are not contiguous (gaps or overlaps)")
    if np.any(lo < 0):
        out.append(f"{what} has negative energies")
    return out


def validate_pha(path: str | Path) -> list[str]:
    """Problems in a PHA type I file (missing mandatory keywords/columns, bad HDUCLAS, …)."""
    p = Path(path)
    problems: list[str] = []
    try:
        with open_fits(p, "spectrum") as hdul:
            hdu = find_hdu(hdul, ("SPECTRUM",), "SPECTRUM")
            if hdu is None:
                return ["no SPECTRUM extension (EXTNAME SPECTRUM or HDUCLAS1 'SPECTRUM')"]
            h = hdu.header
            cols = _columns(hdu)
            data = {c: np.asarray(hdu.data[c]) for c in cols
                    if c in ("CHANNEL", "COUNTS", "RATE", "GROUPING", "QUALITY", "STAT_ERR",
                             "BACKSCAL", "AREASCAL")}
    except NuskybgdError as exc:
        return [f"unreadable: {exc}"]
    as_column = {"AREASCAL", "BACKSCAL", "CORRSCAL"}
    missing = [k for k in MANDATORY_PHA_KEYWORDS if k not in h and not (k in as_column and k in cols)]
    if missing:
        problems.append("missing mandatory keyword(s) " + ", ".join(missing))
    problems += _class_problems(h, HDUCLASS=("OGIP",), HDUCLAS1=("SPECTRUM",),
                                HDUCLAS2=("TOTAL", "NET", "BKG", "SRC", ""))
    if _s(h, "HDUCLAS4") == "TYPE:II":
        problems.append("PHA type II file (only type I is supported)")
    if "CHANNEL" not in cols:
        problems.append("no CHANNEL column")
    if "COUNTS" not in cols and "RATE" not in cols:
        problems.append("neither a COUNTS nor a RATE column")
    cl3 = _s(h, "HDUCLAS3")
    if cl3 == "COUNT" and "COUNTS" not in cols:
        problems.append("HDUCLAS3 = 'COUNT' but there is no COUNTS column")
    if cl3 == "RATE" and "RATE" not in cols:
        problems.append("HDUCLAS3 = 'RATE' but there is no RATE column")
    if "CHANTYPE" in h and _s(h, "CHANTYPE") not in ("PI", "PHA"):
        problems.append(f"CHANTYPE is {h['CHANTYPE']!r}, expected 'PI' or 'PHA'")
    exposure = h.get("EXPOSURE")
    if exposure is not None:
        try:
            if not float(exposure) > 0:
                problems.append(f"EXPOSURE is {exposure}, expected > 0")
        except (TypeError, ValueError):
            problems.append(f"EXPOSURE is not a number ({exposure!r})")
    ch = data.get("CHANNEL")
    if ch is not None and ch.ndim == 1 and ch.size:
        if ch.size > 1 and np.any(np.diff(ch) != 1):
            problems.append("CHANNEL values are not consecutive increasing integers")
        det = h.get("DETCHANS")
        if det is not None and int(det) < ch.size:
            problems.append(f"DETCHANS = {det} is smaller than the {ch.size} rows")
        n = [c for c in hdu.columns.names if c.upper() == "CHANNEL"]
        num = [c.upper() for c in hdu.columns.names].index("CHANNEL") + 1 if n else None
        tlmin, tlmax = h.get(f"TLMIN{num}"), h.get(f"TLMAX{num}")
        if tlmin is not None and ch.min() < int(tlmin):
            problems.append(f"CHANNEL values below TLMIN ({tlmin})")
        if tlmax is not None and ch.max() > int(tlmax):
            problems.append(f"CHANNEL values above TLMAX ({tlmax})")
    poisserr = h.get("POISSERR")
    if "COUNTS" in data:
        c = data["COUNTS"].astype(float)
        if np.any(c < 0):
            problems.append("negative COUNTS")
        if poisserr is not False and np.any(np.mod(c, 1) != 0):
            problems.append("non-integer COUNTS with Poisson errors")
    if poisserr is False and "STAT_ERR" not in cols:
        problems.append("POISSERR = F but there is no STAT_ERR column")
    if poisserr is None and "STAT_ERR" not in cols:
        problems.append("neither POISSERR nor a STAT_ERR column")
    g = data.get("GROUPING")
    if g is not None:
        if not set(np.unique(g)).issubset({-1, 0, 1}):
            problems.append("GROUPING values other than 1, -1 and 0")
        elif g.size and g[0] == -1:
            problems.append("GROUPING starts with -1 (a continuation without a group start)")
    q = data.get("QUALITY")
    if q is not None and not set(np.unique(q).tolist()).issubset(_ALLOWED_QUALITY):
        problems.append("QUALITY values other than 0, 1, 2 and 5")
    for name in ("BACKSCAL", "AREASCAL"):
        v = data.get(name) if name in cols else h.get(name)
        if v is None:
            continue
        try:
            arr = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            problems.append(f"{name} is not a number ({v!r})")
            continue
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            problems.append(f"{name} has negative or non-finite values")
    return problems


def validate_rmf(path: str | Path, row_sum_tolerance: float = ROW_SUM_TOLERANCE) -> list[str]:
    """Problems in an RMF: keywords, HDUCLAS, structure, energy grids, row sums.

    Rows of a redistribution matrix (HDUCLAS3 'REDIST', 'DETECTOR' or absent) must sum to at
    most ``1 + row_sum_tolerance``; a full response (HDUCLAS3 'FULL', RSP with area in cm²) is
    not checked for that.
    """
    p = Path(path)
    problems: list[str] = []
    try:
        with open_fits(p, "response file") as hdul:
            mh = find_hdu(hdul, ("MATRIX", "SPECRESP MATRIX"), "RESPONSE", "RSP_MATRIX")
            eh = find_hdu(hdul, ("EBOUNDS",), "RESPONSE", "EBOUNDS")
            if mh is None:
                problems.append("no MATRIX extension")
            if eh is None:
                problems.append("no EBOUNDS extension")
            if problems:
                return problems
            mhdr, ehdr = mh.header.copy(), eh.header.copy()
            mcols, ecols = _columns(mh), _columns(eh)
            n_eb = int(ehdr.get("NAXIS2", 0))
    except NuskybgdError as exc:
        return [f"unreadable: {exc}"]
    for label, hdr, need in (("MATRIX", mhdr, _MANDATORY_RMF), ("EBOUNDS", ehdr, _MANDATORY_RMF)):
        missing = [k for k in need if k not in hdr]
        if missing:
            problems.append(f"{label} lacks mandatory keyword(s) " + ", ".join(missing))
    if "LO_THRES" not in mhdr:
        problems.append("MATRIX lacks LO_THRES")
    problems += _class_problems(mhdr, "MATRIX ", HDUCLASS=("OGIP",), HDUCLAS1=("RESPONSE",),
                                HDUCLAS2=("RSP_MATRIX",), HDUCLAS3=("REDIST", "DETECTOR", "FULL", ""))
    problems += _class_problems(ehdr, "EBOUNDS ", HDUCLAS2=("EBOUNDS",))
    cl3 = _s(mhdr, "HDUCLAS3")
    miss_m = {"ENERG_LO", "ENERG_HI", "N_GRP", "F_CHAN", "N_CHAN", "MATRIX"} - mcols
    miss_e = {"CHANNEL", "E_MIN", "E_MAX"} - ecols
    if miss_m:
        problems.append("MATRIX lacks column(s) " + ", ".join(sorted(miss_m)))
    if miss_e:
        problems.append("EBOUNDS lacks column(s) " + ", ".join(sorted(miss_e)))
    det = mhdr.get("DETCHANS")
    if det is not None and int(det) != n_eb:
        problems.append(f"DETCHANS = {det} but EBOUNDS has {n_eb} rows")
    if miss_m or miss_e:
        return problems
    try:
        rmf: Rmf = read_rmf(p)
    except NuskybgdError as exc:
        problems.append(str(exc))
        return problems
    problems += _check_grid(rmf.energ_lo, rmf.energ_hi, "MATRIX")
    problems += _check_grid(rmf.e_min, rmf.e_max, "EBOUNDS")
    if rmf.energ_lo.size and rmf.energ_lo[0] <= 0:
        problems.append("MATRIX first ENERG_LO is 0 (XSPEC needs a positive lower energy)")
    if rmf.matrix.nnz and rmf.matrix.data.min() < 0:
        problems.append("negative MATRIX elements")
    if cl3 != "FULL":
        sums = np.asarray(rmf.matrix.sum(axis=1)).ravel()
        bad = sums > 1.0 + row_sum_tolerance
        if np.any(bad):
            problems.append(
                f"{int(bad.sum())} MATRIX row(s) sum to more than 1 + {row_sum_tolerance} "
                f"(max {sums.max():.4f}) in a redistribution matrix")
    return problems


def validate_arf(path: str | Path, rmf: Rmf | None = None) -> list[str]:
    """Problems in an ARF (and, with ``rmf``, whether its energy grid matches the RMF's)."""
    p = Path(path)
    problems: list[str] = []
    try:
        with open_fits(p, "ARF") as hdul:
            hdu = find_hdu(hdul, ("SPECRESP",), "RESPONSE", "SPECRESP")
            if hdu is None:
                return ["no SPECRESP extension"]
            h = hdu.header.copy()
            cols = _columns(hdu)
            d = {c: np.asarray(hdu.data[c], dtype=float).ravel()
                 for c in ("ENERG_LO", "ENERG_HI", "SPECRESP") if c in cols}
    except NuskybgdError as exc:
        return [f"unreadable: {exc}"]
    missing = [k for k in _MANDATORY_ARF if k not in h]
    if missing:
        problems.append("missing mandatory keyword(s) " + ", ".join(missing))
    problems += _class_problems(h, HDUCLASS=("OGIP",), HDUCLAS1=("RESPONSE",),
                                HDUCLAS2=("SPECRESP",))
    lack = {"ENERG_LO", "ENERG_HI", "SPECRESP"} - cols
    if lack:
        problems.append("missing column(s) " + ", ".join(sorted(lack)))
        return problems
    problems += _check_grid(d["ENERG_LO"], d["ENERG_HI"], "SPECRESP")
    s = d["SPECRESP"]
    if np.any(~np.isfinite(s)):
        problems.append("non-finite SPECRESP values")
    elif np.any(s < 0):
        problems.append("negative SPECRESP values")
    if rmf is not None:
        if s.size != rmf.n_energy:
            problems.append(f"{s.size} rows but the RMF has {rmf.n_energy} energies")
        elif not np.allclose(d["ENERG_LO"], rmf.energ_lo, rtol=1e-4, atol=1e-4):
            problems.append("energy grid differs from the RMF's (ARFs apply by row index)")
    return problems
