"""Spectral grouping written as OGIP GROUPING/QUALITY columns; the ungrouped file is kept.

* **Minimum counts** (grppha's ``group min N``, the ``_g30`` copies of the walkthrough):
  consecutive good channels are grouped until a group holds at least ``min_counts`` counts;
  channels outside the good range ``[bad_low, bad_high]`` (PI 35–1909, 3–78 keV, the limits
  nustar-gen-utils passes to grppha) get ``QUALITY = 5`` and are left ungrouped; a last group
  that does not reach the minimum gets ``QUALITY = 2`` (ignored by XSPEC, like grppha).
* **Optimal binning** (Kaastra & Bleeker 2016, A&A 587, A151, as ``ftgrouppha
  grouptype=optimal``): the bin width at channel c is ``max(1, ⌊δ(c)⌋)`` channels with
  ``δ = FWHM(c) · g(x)``, ``x = ln[N_r(c) (1 + 0.2 ln R)]``, ``g = 1`` for x ≤ 2.119 and
  ``g = (0.08 + 7.0/x + 1.8/x²) / (1 + 5.9/x)`` above; FWHM(c) is the response's full width at
  half maximum in channels at channel c (from the RMF), ``N_r(c)`` the counts within one FWHM
  around c and R the number of resolution elements in the good range (Σ 1/FWHM).
  ``min_counts`` can be combined with it (each group is then extended to that many counts).

GROUPING is +1 at the first channel of a group and −1 on the others (OGIP); QUALITY 0 is good.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuskybgd.io.ogip_types import Rmf

__all__ = ["GOOD_PI", "fwhm_channels", "group_min_counts", "group_optimal", "write_grouped"]

#: Good PI range used for grouping (3.0–78.0 keV), as nustar-gen-utils passes to grppha.
GOOD_PI = (35, 1909)


def _flags(starts: np.ndarray, n: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    grouping = np.ones(n, dtype=np.int16)
    quality = np.zeros(n, dtype=np.int16)
    quality[:lo] = 5
    quality[hi + 1:] = 5
    inside = np.zeros(n, dtype=bool)
    inside[lo:hi + 1] = True
    grouping[inside] = -1
    grouping[starts] = 1
    return grouping, quality


def _grow(counts: np.ndarray, lo: int, hi: int, width: np.ndarray | None, min_counts: int):
    """Group starts from ``lo`` to ``hi``: each group spans ≥ width[start] channels and ≥ min counts.

    Loops over groups (not channels): each step finds the group's end with ``searchsorted``.
    """
    cum = np.concatenate([[0], np.cumsum(counts[lo:hi + 1])])
    n = hi - lo + 1
    starts, start = [], 0
    complete = True
    while start < n:
        end = start + (int(width[lo + start]) if width is not None else 1)
        if min_counts > 0:
            need = cum[start] + min_counts
            end = max(end, int(np.searchsorted(cum, need, side="left")))
        starts.append(start)
        if end > n:
            complete = cum[n] - cum[start] >= min_counts
        start = min(end, n) if end > start else start + 1
    return lo + np.asarray(starts, dtype=np.int64), complete


def group_min_counts(counts: np.ndarray, min_counts: int = 30,
                     good: tuple[int, int] = GOOD_PI) -> tuple[np.ndarray, np.ndarray]:
    """GROUPING and QUALITY columns for a minimum number of counts per group.

    Parameters
    ----------
    counts : ndarray of int, shape (n_channels,)
    min_counts : int
        Minimum counts per group.
    good : (first, last)
        Good channel range (inclusive); outside it QUALITY = 5.
    """
    c = np.asarray(counts)
    lo, hi = int(good[0]), min(int(good[1]), c.size - 1)
    starts, complete = _grow(c, lo, hi, None, int(min_counts))
    grouping, quality = _flags(starts, c.size, lo, hi)
    if not complete and starts.size:
        quality[starts[-1]:hi + 1] = 2
    return grouping, quality


def fwhm_channels(rmf: Rmf) -> np.ndarray:
    """Full width at half maximum of the response, in channels, at each channel.

    Row i of the RMF (photon energy E_i) spreads over channels; its FWHM is the number of
    channels at or above half the row's maximum.  Channel c takes the FWHM of the energy row whose
    mid energy is nearest the channel's mid energy.
    """
    m = rmf.matrix.tocsr()
    counts_per_row = np.diff(m.indptr)
    row_max = np.zeros(m.shape[0])
    nz = counts_per_row > 0
    row_max[nz] = np.maximum.reduceat(m.data, m.indptr[:-1][nz])
    above = m.data >= 0.5 * np.repeat(row_max, counts_per_row)
    width = np.add.reduceat(above.astype(np.int64), m.indptr[:-1]) if m.data.size else np.zeros(m.shape[0])
    width = np.where(nz, width, 1)
    e_row = 0.5 * (rmf.energ_lo + rmf.energ_hi)
    e_chan = 0.5 * (rmf.e_min + rmf.e_max)
    k = np.clip(np.searchsorted(e_row, e_chan), 0, e_row.size - 1)
    return np.maximum(width[k].astype(float), 1.0)


def group_optimal(counts: np.ndarray, fwhm: np.ndarray, min_counts: int = 0,
                  good: tuple[int, int] = GOOD_PI) -> tuple[np.ndarray, np.ndarray]:
    """GROUPING and QUALITY for Kaastra & Bleeker (2016) optimal binning.

    Parameters
    ----------
    counts : ndarray, shape (n_channels,)
    fwhm : ndarray, shape (n_channels,)
        Response FWHM in channels (:func:`fwhm_channels`).
    min_counts : int
        Optional minimum counts per group on top of the optimal width.
    good : (first, last)
        Good channel range (inclusive).
    """
    c = np.asarray(counts, dtype=float)
    lo, hi = int(good[0]), min(int(good[1]), c.size - 1)
    f = np.asarray(fwhm, dtype=float)
    n_res = float(np.sum(1.0 / f[lo:hi + 1]))
    cum = np.concatenate([[0.0], np.cumsum(c)])
    idx = np.arange(c.size)
    a = np.clip(np.floor(idx - f / 2.0 + 0.5).astype(int), 0, c.size)
    b = np.clip(np.floor(idx + f / 2.0 + 0.5).astype(int) + 1, 0, c.size)
    n_r = cum[b] - cum[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log(n_r * (1.0 + 0.2 * np.log(max(n_res, 1.0))))
        g = np.where(x > 2.119, (0.08 + 7.0 / x + 1.8 / x ** 2) / (1.0 + 5.9 / x), 1.0)
    g = np.where(np.isfinite(g), g, 1.0)
    width = np.maximum(np.floor(f * g), 1).astype(np.int64)
    starts, complete = _grow(c, lo, hi, width, int(min_counts))
    grouping, quality = _flags(starts, c.size, lo, hi)
    if min_counts > 0 and not complete and starts.size:
        quality[starts[-1]:hi + 1] = 2
    return grouping, quality


def write_grouped(pha_path: str | Path, out_path: str | Path, grouping: np.ndarray,
                  quality: np.ndarray, description: str, overwrite: bool = False,
                  provenance_name: str | Path | None = None) -> Path:
    """Copy a PHA file with GROUPING and QUALITY columns added (all other HDUs kept).

    Parameters
    ----------
    pha_path : path
        The ungrouped spectrum (left untouched).
    out_path : path
        The grouped copy (refused when it exists, unless ``overwrite``).
    grouping, quality : ndarray
        OGIP columns, one value per channel.
    description : str
        How the groups were made, written as ``GROUPTYP`` (e.g. ``'MINCOUNTS 30'``, ``'OPTIMAL'``).
    overwrite : bool
        Replace an existing ``out_path``.
    provenance_name : path, optional
        How the provenance (HISTORY) names the ungrouped spectrum: its final path when
        ``pha_path`` is a staged copy (default ``pha_path``).
    """
    from astropy.io import fits

    from nuskybgd.io.atomic import write_fits_atomic
    from nuskybgd.io.ogip import open_fits
    from nuskybgd.provenance import stamp_header

    p = Path(pha_path)
    with open_fits(p, "spectrum") as hdul:
        idx = next(i for i, h in enumerate(hdul) if h.name == "SPECTRUM")
        spec = hdul[idx]
        cols = [c for c in spec.columns if c.name.upper() not in ("GROUPING", "QUALITY")]
        cols += [fits.Column("GROUPING", "I", array=np.asarray(grouping, np.int16)),
                 fits.Column("QUALITY", "I", array=np.asarray(quality, np.int16))]
        new = fits.BinTableHDU.from_columns(cols, header=spec.header, name="SPECTRUM")
        for key in ("GROUPING", "QUALITY"):
            new.header.remove(key, ignore_missing=True)
        new.header["GROUPTYP"] = (description[:68], "how GROUPING was made (nuskybgd)")
        stamp_header(new.header, inputs=[provenance_name if provenance_name is not None else p], task="group")
        hdus = fits.HDUList([new if i == idx else h for i, h in enumerate(hdul)])
        return write_fits_atomic(out_path, hdus, overwrite=overwrite)
