"""OGIP response matrices (CAL/GEN/92-002): read and write :class:`~nuskybgd.io.ogip_types.Rmf`.

In memory the matrix is a ``scipy.sparse.csr_matrix`` of shape (n_energy, n_channel); column
``j`` is channel ``channels[j]``; energies in keV.  The reader accepts variable-length and fixed
MATRIX columns and several channel groups per row (N_GRP > 1), taking the first channel number
from TLMIN of F_CHAN; the writer stores each row as its runs of contiguous non-zero elements.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
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
    require_columns,
)
from nuskybgd.io.ogip_types import Rmf
from nuskybgd.provenance import Provenance


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
    t = _read_tables(p)

    def bad(why: str) -> InputError:
        return InputError(f"RMF {p} has a malformed MATRIX extension ({why}); the file is unusable.", p)

    n_rows, channels = t["n_rows"], t["channels"]
    if n_rows == 0:
        raise bad("no rows")
    if channels.size == 0:
        raise bad("EBOUNDS has no rows")
    if t["detchans"] is not None and int(t["detchans"]) != channels.size:
        raise bad(f"DETCHANS={t['detchans']} but EBOUNDS has {channels.size} rows")
    n_grp, f_len, n_len = t["n_grp"], t["f_len"], t["n_len"]
    if np.any(n_grp < 0) or np.any(n_grp > f_len) or np.any(n_grp > n_len):
        raise bad("N_GRP larger than the number of F_CHAN/N_CHAN entries")
    first = int(t["tlmin"]) if t["tlmin"] is not None else int(channels.min())
    matrix = _csr_matrix(t, first, bad)
    return Rmf(energ_lo=t["energ_lo"], energ_hi=t["energ_hi"], matrix=matrix, channels=channels,
               e_min=t["e_min"], e_max=t["e_max"], header=t["header"])


def _read_tables(p: Path) -> dict:
    """The MATRIX and EBOUNDS columns and keywords of an RMF file, as plain arrays."""
    with open_fits(p, "response file") as hdul:
        mhdu = find_hdu(hdul, ("MATRIX", "SPECRESP MATRIX"), "RESPONSE", "RSP_MATRIX")
        ehdu = find_hdu(hdul, ("EBOUNDS",), "RESPONSE", "EBOUNDS")
        if mhdu is None or ehdu is None:
            missing = " and ".join(n for n, h in (("MATRIX", mhdu), ("EBOUNDS", ehdu)) if h is None)
            raise InputError(f"response file {p} has no {missing} extension; it is not an OGIP RMF.", p)
        require_columns(mhdu, ("ENERG_LO", "ENERG_HI", "N_GRP", "F_CHAN", "N_CHAN", "MATRIX"), p, "RMF")
        require_columns(ehdu, ("CHANNEL", "E_MIN", "E_MAX"), p, "RMF")
        md, ed = mhdu.data, ehdu.data
        n_rows = int(mhdu.header.get("NAXIS2", 0))
        t = {"n_rows": n_rows,
             "energ_lo": np.asarray(md["ENERG_LO"], dtype=np.float64),
             "energ_hi": np.asarray(md["ENERG_HI"], dtype=np.float64),
             "n_grp": np.asarray(md["N_GRP"], dtype=np.int64).reshape(n_rows)}
        t["f_chan"], t["f_len"] = _per_row_groups(md["F_CHAN"], n_rows, p, "F_CHAN")
        t["n_chan"], t["n_len"] = _per_row_groups(md["N_CHAN"], n_rows, p, "N_CHAN")
        t["values"], t["v_len"] = _matrix_values(md["MATRIX"], n_rows)
        t.update(channels=np.asarray(ed["CHANNEL"], dtype=np.int64),
                 e_min=np.asarray(ed["E_MIN"], dtype=np.float64),
                 e_max=np.asarray(ed["E_MAX"], dtype=np.float64),
                 tlmin=column_keyword(mhdu, "TLMIN", "F_CHAN"),
                 header=header_to_dict(mhdu.header),
                 detchans=mhdu.header.get("DETCHANS", ehdu.header.get("DETCHANS")))
    return t


def _csr_matrix(t: dict, first: int, bad) -> sp.csr_matrix:
    """The CSR matrix from the grouped columns (groups beyond N_GRP ignored, values checked)."""
    n_rows, n_grp, n_ch = t["n_rows"], t["n_grp"], t["channels"].size
    f_chan, n_chan, values, v_len = t["f_chan"], t["n_chan"], t["values"], t["v_len"]
    # pad F_CHAN and N_CHAN to a common width; groups beyond N_GRP are ignored
    width = max(f_chan.shape[1], n_chan.shape[1])
    f_pad = np.zeros((n_rows, width), dtype=np.int64)
    f_pad[:, : f_chan.shape[1]] = f_chan
    n_pad = np.zeros((n_rows, width), dtype=np.int64)
    n_pad[:, : n_chan.shape[1]] = n_chan
    used = np.arange(width)[None, :] < n_grp[:, None]
    n_chan_used = np.where(used, n_pad, 0)
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
    g_f = f_pad[g_rows, g_cols] - first
    total = int(g_n.sum())
    if total != vals.size:  # pragma: no cover - guarded by the checks above
        raise bad("inconsistent element count")
    g_start = np.cumsum(g_n) - g_n
    cols = np.arange(total, dtype=np.int64)
    cols += np.repeat(g_f - g_start, g_n)
    if total and (cols.min() < 0 or cols.max() >= n_ch):
        raise bad(f"channels outside the {n_ch} EBOUNDS channels (first channel {first})")
    if not np.all(np.isfinite(vals)):
        raise bad("non-finite MATRIX values")
    indptr = np.concatenate(([0], np.cumsum(row_tot)))
    matrix = sp.csr_matrix((vals, cols, indptr), shape=(n_rows, n_ch))
    matrix.eliminate_zeros()
    if not matrix.has_canonical_format:
        matrix.sum_duplicates()
    return matrix


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
    provenance: Provenance | None = None,
    **provenance_keywords,
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
    prov = Provenance.coerce(provenance, **provenance_keywords)
    m = sp.csr_matrix(rmf.matrix)
    n_e, n_c = m.shape
    if n_e != rmf.energ_lo.size or n_c != rmf.channels.size:
        raise ValueError(
            f"RMF matrix shape {m.shape} does not match {rmf.energ_lo.size} energies × "
            f"{rmf.channels.size} channels"
        )
    efmt, etype = float_format(rmf.energ_lo, rmf.energ_hi, rmf.e_min, rmf.e_max)
    mhdu = _matrix_hdu(rmf, m, efmt, etype)
    prov.stamp(mhdu.header)
    ehdu = _ebounds_hdu(rmf, mhdu.header, efmt, etype)
    prov.stamp(ehdu.header, with_inputs=False)
    hdul = fits.HDUList([fits.PrimaryHDU(), mhdu, ehdu])
    return write_fits_atomic(path, hdul, overwrite=overwrite)


def _group_columns(m: sp.csr_matrix, chan_offset: int) -> tuple[list[fits.Column], np.ndarray]:
    """N_GRP, F_CHAN and N_CHAN columns (fixed width when every row has at most one group)."""
    n_e = m.shape[0]
    n_grp, run_row, run_col, run_len = _rmf_groups(m)
    maxg = max(int(n_grp.max()) if n_e else 0, 1)
    if maxg == 1:  # at most one group per row: fixed-width F_CHAN/N_CHAN, as CALDB writes them
        f_fixed = np.zeros(n_e, dtype=np.int32)
        n_fixed = np.zeros(n_e, dtype=np.int32)
        f_fixed[run_row] = run_col + chan_offset
        n_fixed[run_row] = run_len
        group_cols = [fits.Column("F_CHAN", "J", array=f_fixed),
                      fits.Column("N_CHAN", "J", array=n_fixed)]
    else:
        split_runs = np.cumsum(n_grp)[:-1]
        f_rows = [a.astype(np.int32) for a in np.split(run_col + chan_offset, split_runs)]
        n_rows_ = [a.astype(np.int32) for a in np.split(run_len, split_runs)]
        group_cols = [
            fits.Column("F_CHAN", f"PJ({maxg})", array=_object_rows(f_rows)),
            fits.Column("N_CHAN", f"PJ({maxg})", array=_object_rows(n_rows_)),
        ]
    return [fits.Column("N_GRP", "J", array=n_grp.astype(np.int32)), *group_cols], n_grp


def _matrix_hdu(rmf: Rmf, m: sp.csr_matrix, efmt: str, etype) -> fits.BinTableHDU:
    """The MATRIX extension (variable-length MATRIX rows) with its OGIP keywords."""
    n_e, n_c = m.shape
    first = int(rmf.channels.min()) if n_c else 0
    group_cols, n_grp = _group_columns(m, first)
    mm = m.tocsr(copy=True)
    mm.eliminate_zeros()
    mm.sort_indices()
    v_rows = np.split(mm.data, mm.indptr[1:-1])
    vfmt, vtype = float_format(mm.data)
    maxv = max(int(np.diff(mm.indptr).max()) if n_e else 0, 1)
    cols = [
        fits.Column("ENERG_LO", efmt, unit="keV", array=np.asarray(rmf.energ_lo, etype)),
        fits.Column("ENERG_HI", efmt, unit="keV", array=np.asarray(rmf.energ_hi, etype)),
        *group_cols,
        fits.Column("MATRIX", f"P{vfmt}({maxv})", array=_object_rows([a.astype(vtype) for a in v_rows])),
    ]
    mhdu = fits.BinTableHDU.from_columns(cols, name="MATRIX")
    h = mhdu.header
    put_header(h, {k: v for k, v in rmf.header.items() if k != "TLMIN_F_CHAN"})
    h["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    h["HDUCLAS1"] = ("RESPONSE", "dataset is a response function")
    h["HDUCLAS2"] = ("RSP_MATRIX", "extension contains a response matrix")
    h.setdefault("HDUCLAS3", "REDIST")
    h["HDUVERS"] = ("1.3.0", "OGIP version number")
    for key, default in (("TELESCOP", "NuSTAR"), ("INSTRUME", "UNKNOWN"), ("FILTER", "NONE"),
                         ("CHANTYPE", "PI"), ("LO_THRES", 0.0)):
        h.setdefault(key, default)
    h["DETCHANS"] = (n_c, "number of channels")
    h["NUMGRP"] = (int(n_grp.sum()), "total number of response groups")
    h["NUMELT"] = (int(mm.nnz), "total number of response elements")
    h["TLMIN4"] = (first, "first channel number")
    h["TLMAX4"] = (first + n_c - 1, "last channel number")
    return mhdu


def _ebounds_hdu(rmf: Rmf, mh: fits.Header, efmt: str, etype) -> fits.BinTableHDU:
    """The EBOUNDS extension (channel energy bounds, keV)."""
    n_c = rmf.channels.size
    chan_fmt = "J" if n_c and (rmf.channels.max() > 32767 or rmf.channels.min() < -32768) else "I"
    ehdu = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", chan_fmt, array=np.asarray(rmf.channels)),
        fits.Column("E_MIN", efmt, unit="keV", array=np.asarray(rmf.e_min, etype)),
        fits.Column("E_MAX", efmt, unit="keV", array=np.asarray(rmf.e_max, etype)),
    ], name="EBOUNDS")
    eh = ehdu.header
    for k in ("TELESCOP", "INSTRUME", "DETNAM", "FILTER", "CHANTYPE"):
        if k in mh:
            eh[k] = mh[k]
    eh["HDUCLASS"] = "OGIP"
    eh["HDUCLAS1"] = "RESPONSE"
    eh["HDUCLAS2"] = "EBOUNDS"
    eh["HDUVERS"] = "1.2.0"
    eh["DETCHANS"] = n_c
    eh["TLMIN1"] = int(rmf.channels.min()) if n_c else 0
    eh["TLMAX1"] = int(rmf.channels.max()) if n_c else 0
    return ehdu
