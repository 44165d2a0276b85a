"""Read and write OGIP spectra and responses: RMF (CAL/GEN/92-002), ARF and PHA type I (OGIP/92-007).

In memory the files are the shared dataclasses of :mod:`nuskybgd.io.ogip_types`:

* :class:`~nuskybgd.io.ogip_types.Rmf` — the matrix as ``scipy.sparse.csr_matrix`` of shape
  (n_energy, n_channel); column ``j`` is channel ``channels[j]``.  Energies in keV.
* :class:`~nuskybgd.io.ogip_types.Arf` — SPECRESP in cm² per energy row.
* :class:`~nuskybgd.io.ogip_types.Pha` — counts per channel, exposure in s.

Readers look extensions up by EXTNAME (or HDUCLAS), never by position, accept gzipped files,
variable-length and fixed MATRIX columns, several channel groups per row (N_GRP > 1), and take
the first channel number from TLMIN of the F_CHAN column.  Anything malformed raises
:class:`~nuskybgd.errors.InputError` naming the file.

Writers go through :func:`nuskybgd.io.atomic.write_fits_atomic` (never silently replacing a
file) and stamp provenance with :func:`nuskybgd.provenance.stamp_header`.  A write followed by a
read gives back the same numbers exactly: float columns are written as 32-bit (``E``) when every
value is exactly representable in 32 bits, otherwise as 64-bit (``D``).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from astropy.io import fits

from nuskybgd.errors import InputError, NuskybgdError
from nuskybgd.io.atomic import write_fits_atomic
from nuskybgd.io.ogip_types import Arf, Pha, Rmf
from nuskybgd.provenance import stamp_header

__all__ = [
    "open_fits",
    "find_hdu",
    "read_rmf",
    "write_rmf",
    "read_arf",
    "write_arf",
    "read_pha",
    "write_pha",
    "header_to_dict",
    "MANDATORY_PHA_KEYWORDS",
]

#: Keywords ftchkpha requires in a PHA SPECTRUM extension (a column of the same name may stand
#: in for AREASCAL/BACKSCAL/CORRSCAL).
MANDATORY_PHA_KEYWORDS: tuple[str, ...] = (
    "TELESCOP", "INSTRUME", "FILTER", "EXPOSURE", "AREASCAL", "BACKFILE", "BACKSCAL",
    "CORRFILE", "CORRSCAL", "RESPFILE", "ANCRFILE", "HDUCLASS", "HDUCLAS1", "HDUVERS",
    "CHANTYPE", "DETCHANS",
)

#: Header keywords that describe the table layout or checksums; not kept in ``header`` dicts.
_STRUCTURAL_PREFIXES = (
    "TTYPE", "TFORM", "TUNIT", "TDIM", "TNULL", "TSCAL", "TZERO", "TDISP", "TLMIN", "TLMAX",
    "TCTYP", "TCRPX", "TCRVL", "TCDLT", "TCUNI", "TCROT",
)
_STRUCTURAL = {
    "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "TFIELDS", "EXTNAME",
    "EXTVER", "CHECKSUM", "DATASUM", "COMMENT", "HISTORY", "", "SIMPLE", "EXTEND", "THEAP",
}

# Exceptions that astropy/numpy raise on corrupt, truncated or non-FITS input.
_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, AttributeError)


# --------------------------------------------------------------------------------------------
# generic FITS helpers (shared with nuskybgd.io.events)
# --------------------------------------------------------------------------------------------


@contextmanager
def open_fits(path: str | Path, what: str = "FITS file") -> Iterator[fits.HDUList]:
    """Open a FITS file for reading; turn every failure into one :class:`InputError`.

    Errors raised while the body runs (e.g. astropy failing on a truncated data unit) are
    converted too, so callers can read data lazily inside the ``with`` block.

    Parameters
    ----------
    path : path
        File to open (``.gz`` is fine).
    what : str
        Description used in the message, e.g. ``"event file"``.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} does not exist; check the path.", p)
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a {what}; give the file inside it.", p)
    try:
        source = _gunzipped(p, what)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hdul = fits.open(source, memmap=False, lazy_load_hdus=False)
        for w in caught:
            if "truncated" in str(w.message).lower():
                hdul.close()
                raise InputError(f"{what} {p} is truncated (incomplete download?); fetch it again.", p)
    except NuskybgdError:
        raise
    except _READ_ERRORS as exc:
        raise InputError(f"{p} is not a readable FITS {what} ({_short(exc)}); check the file.", p) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=fits.verify.VerifyWarning)
            yield hdul
    except NuskybgdError as exc:
        # astropy stops quietly at the end of a cut-off gzip stream, so a truncated .gz looks
        # like a file with missing extensions: say what really happened
        if _gzip_truncated(p):
            raise InputError(f"{what} {p} is truncated (incomplete download?); fetch it again.", p) from exc
        raise
    except _READ_ERRORS as exc:
        raise InputError(
            f"{what} {p} is corrupt or truncated ({_short(exc)}); check or re-create the file.", p
        ) from exc
    finally:
        hdul.close()


def _gunzipped(path: Path, what: str) -> Path | io.BytesIO:
    """``path`` itself, or for a gzip file its decompressed bytes in memory.

    astropy reads a ``.gz`` file through a seekable gzip stream, and every backward seek (to
    the heap of a variable-length column, say) decompresses the file again from the start;
    decompressing once is 2–3× faster for a CALDB RMF.
    """
    import gzip
    import zlib

    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            return path
    try:
        return io.BytesIO(gzip.decompress(path.read_bytes()))
    except EOFError:
        raise InputError(f"{what} {path} is truncated (incomplete download?); fetch it again.", path) from None
    except (OSError, zlib.error) as exc:
        raise InputError(f"{what} {path} is not a valid gzip file ({exc}); check the file.", path) from None


def _gzip_truncated(path: Path) -> bool:
    """True if ``path`` is a gzip file whose stream ends early (reads it through once)."""
    import gzip

    try:
        with open(path, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                return False
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 22):
                pass
    except (EOFError, OSError):
        return True
    return False


def _short(exc: BaseException) -> str:
    """First sentence of an exception's message, at most ~120 characters, cut at a word."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.split(". ")[0].rstrip(".")
    return text if len(text) <= 120 else text[:120].rsplit(" ", 1)[0] + " …"


def find_hdu(
    hdul: fits.HDUList,
    names: Iterable[str] = (),
    hduclas1: str | None = None,
    hduclas2: str | None = None,
) -> fits.BinTableHDU | None:
    """Return the first table extension whose EXTNAME is in ``names`` or whose HDUCLAS1/2 match.

    Matching is case-insensitive; ``None`` when nothing matches.
    """
    wanted = {n.upper() for n in names}
    for hdu in hdul[1:]:
        if str(hdu.header.get("EXTNAME", "")).strip().upper() in wanted:
            return hdu
    if hduclas1 is not None:
        for hdu in hdul[1:]:
            c1 = str(hdu.header.get("HDUCLAS1", "")).strip().upper()
            c2 = str(hdu.header.get("HDUCLAS2", "")).strip().upper()
            if c1 == hduclas1.upper() and (hduclas2 is None or c2 == hduclas2.upper()):
                return hdu
    return None


def header_to_dict(header: fits.Header) -> dict:
    """Non-structural keywords of ``header`` as a plain dict (no COMMENT/HISTORY/T* column keys)."""
    out: dict = {}
    for key in header:
        if key in _STRUCTURAL or key.startswith(_STRUCTURAL_PREFIXES):
            continue
        out[key] = header[key]
    return out


def _column_number(hdu: fits.BinTableHDU, name: str) -> int | None:
    """1-based number of column ``name`` (case-insensitive), or None."""
    names = [n.upper() for n in hdu.columns.names]
    try:
        return names.index(name.upper()) + 1
    except ValueError:
        return None


def column_keyword(hdu: fits.BinTableHDU, prefix: str, column: str, default=None):
    """Value of the column keyword ``prefix<n>`` (e.g. TLMIN, TNULL) of ``column``, or ``default``."""
    n = _column_number(hdu, column)
    if n is None:
        return default
    return hdu.header.get(f"{prefix}{n}", default)


def _require_columns(hdu, names: Iterable[str], path: Path, what: str) -> None:
    have = {n.upper() for n in hdu.columns.names}
    missing = [n for n in names if n.upper() not in have]
    if missing:
        raise InputError(
            f"{what} {path} lacks column(s) {', '.join(missing)} in extension "
            f"{hdu.header.get('EXTNAME', '?')}; it is not a valid OGIP file.",
            path,
        )


def _float_format(*arrays: np.ndarray) -> tuple[str, type]:
    """'E'/float32 when every value is exact in 32 bits, else 'D'/float64."""
    for a in arrays:
        a = np.asarray(a, dtype=float)
        if a.size and not np.array_equal(a.astype(np.float32).astype(float), a, equal_nan=True):
            return "D", np.float64
    return "E", np.float32


def _put_header(header: fits.Header, values: dict) -> None:
    """Copy ``values`` into ``header`` (skipping structural keys and non-scalar values)."""
    for key, val in values.items():
        k = str(key).upper()
        if k in _STRUCTURAL or k.startswith(_STRUCTURAL_PREFIXES) or len(k) > 8:
            continue
        if isinstance(val, (np.ndarray, list, tuple, dict)):
            continue
        if isinstance(val, np.generic):
            val = val.item()
        try:
            header[k] = val
        except (ValueError, TypeError):  # value not representable in FITS; skip it
            continue


# --------------------------------------------------------------------------------------------
# RMF
# --------------------------------------------------------------------------------------------


def _per_row_groups(col, n_rows: int, path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Turn an F_CHAN/N_CHAN column (scalar, fixed vector or variable length) into a padded
    2-D int array (n_rows, max_groups) and the per-row lengths."""
    arr = col
    if isinstance(arr, np.ndarray) and arr.dtype != object:
        arr = np.asarray(arr)
        if arr.ndim == 1:
            return arr.astype(np.int64).reshape(n_rows, 1), np.ones(n_rows, dtype=np.int64)
        a2 = arr.reshape(n_rows, -1).astype(np.int64)
        return a2, np.full(n_rows, a2.shape[1], dtype=np.int64)
    # variable-length column: a sequence of 1-D arrays
    rows = [np.atleast_1d(np.asarray(r, dtype=np.int64)) for r in arr]
    lens = np.fromiter((r.size for r in rows), dtype=np.int64, count=n_rows)
    width = int(lens.max()) if n_rows else 0
    out = np.zeros((n_rows, max(width, 1)), dtype=np.int64)
    if width:
        flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        rr = np.repeat(np.arange(n_rows), lens)
        cc = np.arange(flat.size) - np.repeat(np.cumsum(lens) - lens, lens)
        out[rr, cc] = flat
    return out, lens


def _matrix_values(col, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Flattened MATRIX values and per-row lengths (fixed or variable-length column)."""
    if isinstance(col, np.ndarray) and col.dtype != object:
        a = np.asarray(col, dtype=np.float64).reshape(n_rows, -1)
        return a.ravel(), np.full(n_rows, a.shape[1], dtype=np.int64)
    rows = [np.atleast_1d(np.asarray(r, dtype=np.float64)) for r in col]
    lens = np.fromiter((r.size for r in rows), dtype=np.int64, count=n_rows)
    flat = np.concatenate(rows) if rows else np.zeros(0)
    return flat, lens


def read_rmf(path: str | Path) -> Rmf:
    """Read an OGIP RMF (or RSP) file into an :class:`Rmf` with a CSR matrix.

    Parameters
    ----------
    path : path
        RMF file (``.rmf``, ``.rsp``, optionally gzipped).  MATRIX (or SPECRESP MATRIX) and
        EBOUNDS are found by EXTNAME/HDUCLAS in either order.

    Returns
    -------
    Rmf
        ``matrix[i, j]`` is the probability (cm² for RSP files) that a photon in energy bin
        ``i`` (``energ_lo[i]``–``energ_hi[i]`` keV) lands in channel ``channels[j]``.  Explicit
        zeros are dropped.

    Raises
    ------
    InputError
        Missing extensions/columns, inconsistent N_GRP/F_CHAN/N_CHAN/MATRIX, channels outside
        EBOUNDS.
    """
    p = Path(path)
    with open_fits(p, "response file") as hdul:
        mhdu = find_hdu(hdul, ("MATRIX", "SPECRESP MATRIX"), "RESPONSE", "RSP_MATRIX")
        ehdu = find_hdu(hdul, ("EBOUNDS",), "RESPONSE", "EBOUNDS")
        if mhdu is None or ehdu is None:
            missing = " and ".join(n for n, h in (("MATRIX", mhdu), ("EBOUNDS", ehdu)) if h is None)
            raise InputError(f"response file {p} has no {missing} extension; it is not an OGIP RMF.", p)
        _require_columns(mhdu, ("ENERG_LO", "ENERG_HI", "N_GRP", "F_CHAN", "N_CHAN", "MATRIX"), p, "RMF")
        _require_columns(ehdu, ("CHANNEL", "E_MIN", "E_MAX"), p, "RMF")
        md = mhdu.data
        n_rows = int(mhdu.header.get("NAXIS2", 0))
        energ_lo = np.asarray(md["ENERG_LO"], dtype=np.float64)
        energ_hi = np.asarray(md["ENERG_HI"], dtype=np.float64)
        n_grp = np.asarray(md["N_GRP"], dtype=np.int64).reshape(n_rows)
        f_chan, f_len = _per_row_groups(md["F_CHAN"], n_rows, p, "F_CHAN")
        n_chan, n_len = _per_row_groups(md["N_CHAN"], n_rows, p, "N_CHAN")
        values, v_len = _matrix_values(md["MATRIX"], n_rows)
        ed = ehdu.data
        channels = np.asarray(ed["CHANNEL"], dtype=np.int64)
        e_min = np.asarray(ed["E_MIN"], dtype=np.float64)
        e_max = np.asarray(ed["E_MAX"], dtype=np.float64)
        tlmin = column_keyword(mhdu, "TLMIN", "F_CHAN")
        header = header_to_dict(mhdu.header)
        detchans = mhdu.header.get("DETCHANS", ehdu.header.get("DETCHANS"))

    def bad(why: str) -> InputError:
        return InputError(f"RMF {p} has a malformed MATRIX extension ({why}); the file is unusable.", p)

    if n_rows == 0:
        raise bad("no rows")
    if channels.size == 0:
        raise bad("EBOUNDS has no rows")
    if detchans is not None and int(detchans) != channels.size:
        raise bad(f"DETCHANS={detchans} but EBOUNDS has {channels.size} rows")
    if np.any(n_grp < 0) or np.any(n_grp > f_len) or np.any(n_grp > n_len):
        raise bad("N_GRP larger than the number of F_CHAN/N_CHAN entries")
    first = int(tlmin) if tlmin is not None else int(channels.min())
    # pad F_CHAN and N_CHAN to a common width; groups beyond N_GRP are ignored
    width = max(f_chan.shape[1], n_chan.shape[1])
    f_pad = np.zeros((n_rows, width), dtype=np.int64)
    f_pad[:, : f_chan.shape[1]] = f_chan
    n_pad = np.zeros((n_rows, width), dtype=np.int64)
    n_pad[:, : n_chan.shape[1]] = n_chan
    used = np.arange(width)[None, :] < n_grp[:, None]
    n_chan_used = np.where(used, n_pad, 0)
    f_chan = f_pad
    if np.any(n_chan_used < 0):
        raise bad("negative N_CHAN")
    row_tot = n_chan_used.sum(axis=1)
    if np.any(v_len < row_tot):
        i = int(np.nonzero(v_len < row_tot)[0][0])
        raise bad(f"row {i + 1} has {v_len[i]} MATRIX values but N_CHAN sums to {row_tot[i]}")
    # keep the first row_tot values of each row (fixed-width MATRIX columns are zero-padded)
    if np.array_equal(v_len, row_tot):
        vals = values
    else:
        starts = np.cumsum(v_len) - v_len
        within = np.arange(values.size, dtype=np.int64) - np.repeat(starts, v_len)
        vals = values[within < np.repeat(row_tot, v_len)]
    # channel column of each kept value, group by group (groups in row order)
    g_rows, g_cols = np.nonzero(n_chan_used > 0)
    g_n = n_chan_used[g_rows, g_cols]
    g_f = f_chan[g_rows, g_cols] - first
    total = int(g_n.sum())
    if total != vals.size:  # pragma: no cover - guarded by the checks above
        raise bad("inconsistent element count")
    g_start = np.cumsum(g_n) - g_n
    cols = np.arange(total, dtype=np.int64)
    cols += np.repeat(g_f - g_start, g_n)
    if total and (cols.min() < 0 or cols.max() >= channels.size):
        raise bad(f"channels outside the {channels.size} EBOUNDS channels (first channel {first})")
    if not np.all(np.isfinite(vals)):
        raise bad("non-finite MATRIX values")
    indptr = np.concatenate(([0], np.cumsum(row_tot)))
    matrix = sp.csr_matrix((vals, cols, indptr), shape=(n_rows, channels.size))
    matrix.eliminate_zeros()
    if not matrix.has_canonical_format:
        matrix.sum_duplicates()
    return Rmf(energ_lo=energ_lo, energ_hi=energ_hi, matrix=matrix, channels=channels,
               e_min=e_min, e_max=e_max, header=header)


def _object_rows(rows: list[np.ndarray]) -> np.ndarray:
    """A 1-D object array holding one array per row (for variable-length columns)."""
    out = np.empty(len(rows), dtype=object)
    for i, r in enumerate(rows):  # one entry per energy row, not per element
        out[i] = r
    return out


def _rmf_groups(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous runs of stored elements per row: (n_grp per row, run row, run first col, run length)."""
    m = m.tocsr(copy=True)
    m.eliminate_zeros()
    m.sort_indices()
    n_rows = m.shape[0]
    row_of = np.repeat(np.arange(n_rows), np.diff(m.indptr))
    idx = m.indices.astype(np.int64)
    if idx.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return np.zeros(n_rows, dtype=np.int64), z, z, z
    new = np.ones(idx.size, dtype=bool)
    new[1:] = (row_of[1:] != row_of[:-1]) | (idx[1:] != idx[:-1] + 1)
    starts = np.nonzero(new)[0]
    lengths = np.diff(np.append(starts, idx.size))
    run_row = row_of[starts]
    n_grp = np.bincount(run_row, minlength=n_rows)
    return n_grp, run_row, idx[starts], lengths


def write_rmf(
    rmf: Rmf,
    path: str | Path,
    overwrite: bool = False,
    calibration: str | None = None,
    calibration_detail: str | None = None,
    inputs: Iterable[str | Path] = (),
    task: str | None = None,
) -> Path:
    """Write ``rmf`` as an OGIP RMF (MATRIX then EBOUNDS; variable-length F_CHAN/N_CHAN/MATRIX).

    Each row is stored as the runs of contiguous non-zero elements (one group per run), so the
    file is compact.  Keywords in ``rmf.header`` (TELESCOP, INSTRUME, DETNAM, LO_THRES,
    HDUCLAS3, …) are kept.  Provenance arguments are passed to
    :func:`nuskybgd.provenance.stamp_header`.

    Returns
    -------
    Path
        The written file.
    """
    m = sp.csr_matrix(rmf.matrix)
    n_e, n_c = m.shape
    if n_e != rmf.energ_lo.size or n_c != rmf.channels.size:
        raise ValueError(
            f"RMF matrix shape {m.shape} does not match {rmf.energ_lo.size} energies × "
            f"{rmf.channels.size} channels"
        )
    first = chan_offset = int(rmf.channels.min()) if n_c else 0
    n_grp, run_row, run_col, run_len = _rmf_groups(m)
    mm = m.tocsr(copy=True)
    mm.eliminate_zeros()
    mm.sort_indices()
    split_runs = np.cumsum(n_grp)[:-1]
    f_rows = [a.astype(np.int32) for a in np.split(run_col + chan_offset, split_runs)]
    n_rows_ = [a.astype(np.int32) for a in np.split(run_len, split_runs)]
    v_rows = np.split(mm.data, mm.indptr[1:-1])
    vfmt, vtype = _float_format(mm.data)
    efmt, etype = _float_format(rmf.energ_lo, rmf.energ_hi, rmf.e_min, rmf.e_max)
    maxg = max(int(n_grp.max()) if n_e else 0, 1)
    maxv = max(int(np.diff(mm.indptr).max()) if n_e else 0, 1)
    if maxg == 1:  # at most one group per row: fixed-width F_CHAN/N_CHAN, as CALDB writes them
        f_fixed = np.zeros(n_e, dtype=np.int32)
        n_fixed = np.zeros(n_e, dtype=np.int32)
        f_fixed[run_row] = run_col + chan_offset
        n_fixed[run_row] = run_len
        group_cols = [fits.Column("F_CHAN", "J", array=f_fixed),
                      fits.Column("N_CHAN", "J", array=n_fixed)]
    else:
        group_cols = [
            fits.Column("F_CHAN", f"PJ({maxg})", array=_object_rows(f_rows)),
            fits.Column("N_CHAN", f"PJ({maxg})", array=_object_rows(n_rows_)),
        ]
    cols = [
        fits.Column("ENERG_LO", efmt, unit="keV", array=np.asarray(rmf.energ_lo, etype)),
        fits.Column("ENERG_HI", efmt, unit="keV", array=np.asarray(rmf.energ_hi, etype)),
        fits.Column("N_GRP", "J", array=n_grp.astype(np.int32)),
        *group_cols,
        fits.Column("MATRIX", f"P{vfmt}({maxv})", array=_object_rows([a.astype(vtype) for a in v_rows])),
    ]
    mhdu = fits.BinTableHDU.from_columns(cols, name="MATRIX")
    h = mhdu.header
    base = {k: v for k, v in rmf.header.items() if k != "TLMIN_F_CHAN"}
    _put_header(h, base)
    h["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    h["HDUCLAS1"] = ("RESPONSE", "dataset is a response function")
    h["HDUCLAS2"] = ("RSP_MATRIX", "extension contains a response matrix")
    h.setdefault("HDUCLAS3", "REDIST")
    h["HDUVERS"] = ("1.3.0", "OGIP version number")
    h.setdefault("TELESCOP", "NuSTAR")
    h.setdefault("INSTRUME", "UNKNOWN")
    h.setdefault("FILTER", "NONE")
    h.setdefault("CHANTYPE", "PI")
    h.setdefault("LO_THRES", 0.0)
    h["DETCHANS"] = (n_c, "number of channels")
    h["NUMGRP"] = (int(n_grp.sum()), "total number of response groups")
    h["NUMELT"] = (int(mm.nnz), "total number of response elements")
    h["TLMIN4"] = (first, "first channel number")
    h["TLMAX4"] = (first + n_c - 1, "last channel number")
    stamp_header(h, calibration=calibration, calibration_detail=calibration_detail,
                 inputs=inputs, task=task)

    chan_fmt = "J" if n_c and (rmf.channels.max() > 32767 or rmf.channels.min() < -32768) else "I"
    ehdu = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", chan_fmt, array=np.asarray(rmf.channels)),
        fits.Column("E_MIN", efmt, unit="keV", array=np.asarray(rmf.e_min, etype)),
        fits.Column("E_MAX", efmt, unit="keV", array=np.asarray(rmf.e_max, etype)),
    ], name="EBOUNDS")
    eh = ehdu.header
    for k in ("TELESCOP", "INSTRUME", "DETNAM", "FILTER", "CHANTYPE"):
        if k in h:
            eh[k] = h[k]
    eh["HDUCLASS"] = "OGIP"
    eh["HDUCLAS1"] = "RESPONSE"
    eh["HDUCLAS2"] = "EBOUNDS"
    eh["HDUVERS"] = "1.2.0"
    eh["DETCHANS"] = n_c
    eh["TLMIN1"] = int(rmf.channels.min()) if n_c else 0
    eh["TLMAX1"] = int(rmf.channels.max()) if n_c else 0
    stamp_header(eh, calibration=calibration, calibration_detail=calibration_detail, task=task)
    hdul = fits.HDUList([fits.PrimaryHDU(), mhdu, ehdu])
    return write_fits_atomic(path, hdul, overwrite=overwrite)


# --------------------------------------------------------------------------------------------
# ARF
# --------------------------------------------------------------------------------------------


def read_arf(path: str | Path) -> Arf:
    """Read an OGIP ARF (extension SPECRESP): energies in keV, SPECRESP in cm²."""
    p = Path(path)
    with open_fits(p, "ARF") as hdul:
        hdu = find_hdu(hdul, ("SPECRESP",), "RESPONSE", "SPECRESP")
        if hdu is None:
            raise InputError(f"ARF {p} has no SPECRESP extension; it is not an OGIP ARF.", p)
        _require_columns(hdu, ("ENERG_LO", "ENERG_HI", "SPECRESP"), p, "ARF")
        d = hdu.data
        arf = Arf(
            energ_lo=np.asarray(d["ENERG_LO"], dtype=np.float64).ravel(),
            energ_hi=np.asarray(d["ENERG_HI"], dtype=np.float64).ravel(),
            specresp=np.asarray(d["SPECRESP"], dtype=np.float64).ravel(),
            header=header_to_dict(hdu.header),
        )
    if not (arf.energ_lo.size == arf.energ_hi.size == arf.specresp.size):
        raise InputError(f"ARF {p} has columns of different lengths; the file is malformed.", p)
    return arf


def write_arf(
    arf: Arf,
    path: str | Path,
    overwrite: bool = False,
    calibration: str | None = None,
    calibration_detail: str | None = None,
    inputs: Iterable[str | Path] = (),
    task: str | None = None,
) -> Path:
    """Write ``arf`` as an OGIP ARF (extension SPECRESP, ENERG_LO/ENERG_HI keV, SPECRESP cm²)."""
    efmt, etype = _float_format(arf.energ_lo, arf.energ_hi)
    sfmt, stype = _float_format(arf.specresp)
    hdu = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", efmt, unit="keV", array=np.asarray(arf.energ_lo, etype)),
        fits.Column("ENERG_HI", efmt, unit="keV", array=np.asarray(arf.energ_hi, etype)),
        fits.Column("SPECRESP", sfmt, unit="cm**2", array=np.asarray(arf.specresp, stype)),
    ], name="SPECRESP")
    h = hdu.header
    _put_header(h, arf.header)
    h["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    h["HDUCLAS1"] = ("RESPONSE", "dataset is a response function")
    h["HDUCLAS2"] = ("SPECRESP", "extension contains an ARF")
    h.setdefault("HDUVERS", "1.1.0")
    h.setdefault("TELESCOP", "NuSTAR")
    h.setdefault("INSTRUME", "UNKNOWN")
    stamp_header(h, calibration=calibration, calibration_detail=calibration_detail,
                 inputs=inputs, task=task)
    return write_fits_atomic(path, fits.HDUList([fits.PrimaryHDU(), hdu]), overwrite=overwrite)


# --------------------------------------------------------------------------------------------
# PHA type I
# --------------------------------------------------------------------------------------------


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
    calibration: str | None = None,
    calibration_detail: str | None = None,
    inputs: Iterable[str | Path] = (),
    task: str | None = None,
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
    """
    p = Path(path)
    n = pha.channels.size
    counts = np.asarray(pha.counts)
    if counts.shape != (n,):
        raise ValueError(f"PHA counts shape {counts.shape} does not match {n} channels")
    hdr_in = dict(pha.header)
    if rate is None:
        rate = str(hdr_in.get("HDUCLAS3", "COUNT")).strip().upper() == "RATE"
    if rate and not pha.exposure > 0:
        raise ValueError("a RATE spectrum needs a positive exposure")
    chan = np.asarray(pha.channels)
    cols = [fits.Column("CHANNEL", "J" if chan.max(initial=0) > 32767 else "I", array=chan)]
    if rate:
        fmt, typ = "D", np.float64
        cols.append(fits.Column("RATE", fmt, unit="count/s", array=np.asarray(counts, typ) / pha.exposure))
    elif counts.dtype.kind in "iu" or np.all(np.mod(counts, 1) == 0):
        cols.append(fits.Column("COUNTS", "J", unit="count", array=counts.astype(np.int32)))
    else:
        fmt, typ = _float_format(counts)
        cols.append(fits.Column("COUNTS", fmt, unit="count", array=counts.astype(typ)))
    vector_keys: dict[str, np.ndarray] = {}
    for name in ("STAT_ERR", "SYS_ERR"):
        v = hdr_in.get(name)
        if isinstance(v, np.ndarray):
            vector_keys[name] = v
    if rate and "STAT_ERR" in vector_keys:
        pass  # already a rate error as read
    for name, v in vector_keys.items():
        fmt, typ = _float_format(v)
        cols.append(fits.Column(name, fmt, array=np.asarray(v, typ)))
    if pha.grouping is not None:
        cols.append(fits.Column("GROUPING", "I", array=np.asarray(pha.grouping, np.int16)))
    if pha.quality is not None:
        cols.append(fits.Column("QUALITY", "I", array=np.asarray(pha.quality, np.int16)))
    for name, v in (("AREASCAL", pha.areascal), ("BACKSCAL", pha.backscal),
                    ("CORRSCAL", hdr_in.get("CORRSCAL"))):
        if isinstance(v, np.ndarray):
            fmt, typ = _float_format(v)
            cols.append(fits.Column(name, fmt, array=np.asarray(v, typ)))
    hdu = fits.BinTableHDU.from_columns(cols, name="SPECTRUM")
    h = hdu.header
    # data-subspace keywords that point at an extension of the input file (e.g. DSREF2 =
    # ':REG00101') would dangle here: drop that descriptor
    dangling = {m.group(1) for k, v in hdr_in.items()
                if (m := re.match(r"^DSREF(\d+)$", str(k))) and str(v).startswith(":")}
    _put_header(h, {k: v for k, v in hdr_in.items() if k not in ("TLMIN1", "TLMAX1")
                    and not ((m := re.match(r"^DS(?:TYP|VAL|REF|UNI)(\d+)$", str(k)))
                             and m.group(1) in dangling)})
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
    for name, v, comment in (("AREASCAL", pha.areascal, "area scaling factor"),
                             ("BACKSCAL", pha.backscal, "background scaling factor"),
                             ("CORRSCAL", hdr_in.get("CORRSCAL", 1.0), "correction scaling factor")):
        if isinstance(v, np.ndarray):
            h.remove(name, ignore_missing=True)
        else:
            h[name] = (float(v if v is not None else 1.0), comment)
    h["BACKFILE"] = (pha.backfile or "none", "associated background file")
    h["CORRFILE"] = (pha.corrfile or "none", "associated correction file")
    h["RESPFILE"] = (pha.respfile or "none", "associated redistribution matrix file")
    h["ANCRFILE"] = (pha.ancrfile or "none", "associated ancillary response file")
    h["POISSERR"] = (bool(pha.poisserr), "Poissonian errors to be assumed")
    for name in ("STAT_ERR", "SYS_ERR"):
        if name in vector_keys:
            h.remove(name, ignore_missing=True)
        else:
            h[name] = (0, f"no {name.lower().replace('_', ' ')} column")
    if pha.grouping is None:
        h["GROUPING"] = (0, "no grouping of the data has been defined")
    else:
        h.remove("GROUPING", ignore_missing=True)
    if pha.quality is None:
        h["QUALITY"] = (0, "no data quality information specified")
    else:
        h.remove("QUALITY", ignore_missing=True)
    if not rate:
        h["TOTCTS"] = (int(round(float(np.sum(counts)))), "total counts in spectrum")
    stamp_header(h, calibration=calibration, calibration_detail=calibration_detail,
                 inputs=inputs, task=task)
    hdus = [fits.PrimaryHDU(), hdu]
    if gti is not None:
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
        hdus.append(ghdu)
    return write_fits_atomic(p, fits.HDUList(hdus), overwrite=overwrite)
