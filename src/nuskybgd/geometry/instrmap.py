"""mkinstrmap: which detector owns each DET1 sub-pixel, minus gaps and bad pixels.

Output value per DET1 sub-pixel: ``detector + 1`` (1..4) where the pixel is active (INSTRMAP > 0),
owned by a RAW pixel (PIXPOS ownership) and that RAW pixel is not bad; 0 elsewhere.
Arrays are (360, 360) indexed ``[y, x]`` with ``x = DET1X − 1``, ``y = DET1Y − 1``.

Bad-pixel rule (the **intended** rule of the IDL nuskybgd, geometry-and-calibration.md §4, §9.1):
a RAW pixel is bad when

* its bad intervals cover more than 80 % of the observation (TSTOP − TSTART of its BADPIX
  extension), taking the **union** of all its intervals clipped to [TSTART, TSTOP] (so two 45 %
  intervals of one pixel add up to 90 %), or
* a row flags it **disabled on board** (BADFLAG value 2), whatever its duration.

Differences from nuskybgd-py (on purpose):

1. nuskybgd-py's on-board test (``flag is True`` on a numpy bool) never fires; here it does.
2. nuskybgd-py tests each row separately (two 45 % rows of one pixel are kept); here the
   intervals of a pixel are combined.
3. nuskybgd-py only relabels to ``detector + 1`` inside its bad-pixel loop, so a file with no
   BADPIX rows at all gives the raw INSTRMAP (all 1s); here the labelling always happens.
4. BADPIX rows from a table without ``TIME_STOP`` (user-style files, CALDB BADPIX) are ignored by
   nuskybgd-py (or crash it); here a user file row without ``TIME_STOP`` marks the pixel bad for
   the whole observation (the user asked for it), and a row with ``TIME_STOP`` follows the rule
   above.  The RAW index is computed in a wide integer type (nuskybgd-py under numpy ≥ 2 wraps
   ``RAWX + 32·RAWY`` modulo 256).

Hot/flickering pixels (BADFLAG 32) are bad only when they are bad for more than 80 % of the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nuskybgd.constants import DET1_SIZE, N_DETECTORS, RAW_PIXELS_PER_SIDE

__all__ = [
    "BAD_FRACTION",
    "FLAG_CALDB",
    "FLAG_DISABLED",
    "FLAG_USER",
    "FLAG_HOT",
    "BadPixelRows",
    "badflag_values",
    "bad_pixel_table",
    "instrument_map",
]

#: A RAW pixel bad for more than this fraction of the observation is masked.
BAD_FRACTION: float = 0.8
#: BADFLAG values (bit masks) written by NuSTARDAS.
FLAG_CALDB: int = 1
FLAG_DISABLED: int = 2
FLAG_USER: int = 4
FLAG_HOT: int = 32


@dataclass
class BadPixelRows:
    """Bad-pixel rows of one detector from one BADPIX table.

    ``time``/``time_stop`` in s (``time_stop`` None for user-style tables without the column);
    ``tstart``/``tstop``: the observation span of the table's header (None if absent).
    """

    det: int
    rawx: np.ndarray
    rawy: np.ndarray
    flag: np.ndarray
    time: np.ndarray | None = None
    time_stop: np.ndarray | None = None
    tstart: float | None = None
    tstop: float | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)


def badflag_values(column: np.ndarray) -> np.ndarray:
    """Integer BADFLAG values from an astropy 16X column (bool array, MSB first) or integers."""
    a = np.asarray(column)
    if a.dtype == bool:
        if a.ndim == 1:
            a = a[:, None]
        nbits = a.shape[-1]
        weights = (1 << np.arange(nbits - 1, -1, -1)).astype(np.int64)
        return (a.astype(np.int64) * weights).sum(axis=-1)
    return a.astype(np.int64).reshape(a.shape[0], -1)[:, 0] if a.ndim > 1 else a.astype(np.int64)


def _union_length(start: np.ndarray, stop: np.ndarray, keys: np.ndarray) -> dict[int, float]:
    """Length of the union of intervals ``[start, stop)`` per key (vectorised).

    The intervals of each key are moved to their own disjoint stretch of the time axis (offset
    ``key · span``), so one global running maximum merges overlaps within every key at once.
    """
    if start.size == 0:
        return {}
    t0 = float(min(start.min(), stop.min()))
    span = float(max(start.max(), stop.max()) - t0) * 2.0 + 1.0
    s = start - t0 + keys * span
    e = np.maximum(stop, start) - t0 + keys * span
    order = np.lexsort((s, keys))
    k, s, e = keys[order], s[order], e[order]
    prev = np.r_[-np.inf, np.maximum.accumulate(e)[:-1]]
    contrib = np.clip(e - np.maximum(s, prev), 0.0, None)
    ukeys, inv = np.unique(k, return_inverse=True)
    total = np.bincount(inv, weights=contrib, minlength=ukeys.size)
    return {int(a): float(b) for a, b in zip(ukeys, total, strict=True)}


def bad_pixel_table(rows: list[BadPixelRows], *, fraction: float = BAD_FRACTION) -> np.ndarray:
    """Boolean ``bad[det, rawy, rawx]`` (4×32×32) from BADPIX rows with the intended rule.

    Parameters
    ----------
    rows : list of BadPixelRows
    fraction : float
        Bad-time threshold as a fraction of the observation (strictly more than).
    """
    n = RAW_PIXELS_PER_SIDE
    bad = np.zeros((N_DETECTORS, n, n), dtype=bool)
    for r in rows:
        rawx = np.asarray(r.rawx, dtype=np.int64)
        rawy = np.asarray(r.rawy, dtype=np.int64)
        flag = np.asarray(r.flag, dtype=np.int64)
        ok = (rawx >= 0) & (rawx < n) & (rawy >= 0) & (rawy < n)
        d = int(r.det)
        if not 0 <= d < N_DETECTORS:
            continue
        disabled = ok & ((flag & FLAG_DISABLED) != 0)
        bad[d, rawy[disabled], rawx[disabled]] = True
        if r.time_stop is None:
            # user-style table: listed pixels are bad for the whole observation
            bad[d, rawy[ok], rawx[ok]] = True
            continue
        if r.tstart is None or r.tstop is None or not r.tstop > r.tstart:
            continue
        t0 = np.clip(np.asarray(r.time, dtype=float), r.tstart, r.tstop)
        t1 = np.clip(np.asarray(r.time_stop, dtype=float), r.tstart, r.tstop)
        keys = rawx + n * rawy
        lengths = _union_length(t0[ok], t1[ok], keys[ok])
        limit = fraction * (r.tstop - r.tstart)
        for key, length in lengths.items():
            if length > limit:
                bad[d, key // n, key % n] = True
    return bad


def instrument_map(
    det: np.ndarray,
    rawx: np.ndarray,
    rawy: np.ndarray,
    active: np.ndarray,
    bad: np.ndarray | None = None,
) -> np.ndarray:
    """The mkinstrmap map: ``detector + 1`` where active, owned and good; 0 elsewhere.

    Parameters
    ----------
    det, rawx, rawy : int arrays (360, 360)
        PIXPOS ownership (−1 where no RAW pixel owns the sub-pixel), ``[y, x]``.
    active : array (360, 360)
        INSTRMAP active area; only ``> 0`` matters.
    bad : bool array (4, 32, 32) ``[det, rawy, rawx]`` or None

    Returns
    -------
    ndarray float64 (360, 360) with values 0..4.
    """
    det = np.asarray(det, dtype=np.int64)
    rawx = np.asarray(rawx, dtype=np.int64)
    rawy = np.asarray(rawy, dtype=np.int64)
    for name, a in (("det", det), ("rawx", rawx), ("rawy", rawy), ("active", np.asarray(active))):
        if a.shape != (DET1_SIZE, DET1_SIZE):
            raise ValueError(f"{name} map has shape {a.shape}, expected (360, 360)")
    owned = (det >= 0) & (rawx >= 0) & (rawy >= 0)
    good = owned & (np.asarray(active) > 0)
    if bad is not None:
        d = np.where(owned, det, 0)
        x = np.where(owned, rawx, 0)
        y = np.where(owned, rawy, 0)
        good &= ~np.asarray(bad, dtype=bool)[d, y, x]
    return np.where(good, det + 1, 0).astype(np.float64)
