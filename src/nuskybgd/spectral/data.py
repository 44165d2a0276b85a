"""Spectra to fit: counts, exposure, grouping, quality, BACKSCAL, responses per source, and
XSPEC-style notice/ignore.

Semantics (XSPEC's, as documented in ``docs/spectral.md``):

* Channels are summed into groups by the PHA ``GROUPING`` column (1 starts a group, -1
  continues it; no column means one channel per group).  Model counts are summed the same way.
* A group containing a channel with ``QUALITY`` ≠ 0 is dropped (XSPEC's ``ignore bad``).
* ``ignore``/``notice`` by energy act on whole groups: a group is inside an energy range
  ``[lo, hi]`` when its centre (mean of its first channel's E_MIN and last channel's E_MAX,
  from EBOUNDS) lies in the range.  ``**`` is an open end.  For the NuSTAR grid,
  ``ignore **-3.0 150.0-**`` keeps PI 35–3709, the range nuskybgd's fits use.
* ``ignore``/``notice`` by channel use XSPEC's 1-based group numbers.
* ``BACKFILE`` is **not** used: nuskybgd fits background spectra themselves, and XSPEC would turn
  ``cstat`` into W-stat as soon as a background is loaded.  ``use_background=True`` is refused
  with a clear error until W-stat is implemented.
* The model rate is multiplied by EXPOSURE and AREASCAL (per channel when AREASCAL is a column).
  BACKSCAL is kept for information; it does not enter the fit without a background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from nuskybgd.errors import InputError, ModelError
from nuskybgd.io.ogip_types import Pha
from nuskybgd.spectral.response import Response


class Spectrum:
    """One spectrum (XSPEC data set) with its responses per source.

    Parameters
    ----------
    pha : Pha or path
        The spectrum (read with :func:`nuskybgd.io.ogip.read_pha` if a path).
    responses : dict
        XSPEC source number → :class:`Response` (``response k:s`` / ``arf k:s``).
    group : int
        XSPEC data group (1-based).
    name : str, optional
        File name written into ``.xcm`` files (taken from ``pha`` when it is a path).
    use_background : bool
        Must stay False (see module notes).
    """

    def __init__(self, pha: Pha | str | Path, responses: dict[int, Response] | None = None,
                 group: int = 1, name: str | None = None, use_background: bool = False) -> None:
        if isinstance(pha, (str, Path)):
            from nuskybgd.io.ogip import read_pha

            name = name or str(pha)
            pha = read_pha(pha)
        if use_background:
            raise ModelError(
                f"spectrum {name or '(in memory)'}: fitting with a background file (W-stat) is not "
                "supported; fit the background spectra themselves (the nuskybgd method)."
            )
        self.pha = pha
        self.name = name or "spectrum"
        self.group = int(group)
        self.use_background = False
        self.responses: dict[int, Response] = dict(responses or {})
        n = int(np.asarray(pha.counts).size)
        self.n_channel = n
        if pha.exposure is None or not pha.exposure > 0:
            raise InputError(f"spectrum {self.name} has EXPOSURE {pha.exposure}; it must be positive.",
                             self.name)
        self.exposure = float(pha.exposure)
        areascal = np.broadcast_to(np.asarray(pha.areascal, dtype=float), (n,))
        self.channel_scale = self.exposure * areascal       # model rate -> counts, per channel
        grouping = None if pha.grouping is None else np.asarray(pha.grouping).astype(int)
        if grouping is None or grouping.size != n or np.all(grouping == 0):
            gid = np.arange(n)
        else:
            starts = grouping != -1
            starts[0] = True
            gid = np.cumsum(starts) - 1
        self.group_id = gid
        self.n_groups = int(gid[-1]) + 1 if n else 0
        self.grouping_matrix = sp.csr_matrix(
            (np.ones(n), (gid, np.arange(n))), shape=(self.n_groups, n))
        counts = np.asarray(pha.counts, dtype=float)
        self.counts = self.grouping_matrix @ counts
        stat_err = pha.header.get("STAT_ERR") if isinstance(pha.header, dict) else None
        self.stat_err = None
        if isinstance(stat_err, np.ndarray) and stat_err.size == n:
            err = np.asarray(stat_err, float)
            if str(pha.header.get("HDUCLAS3", "")).strip().upper() == "RATE":
                err = err * self.exposure          # a RATE file's STAT_ERR is in counts/s
            self.stat_err = np.sqrt(self.grouping_matrix @ (err ** 2))
        quality = None if pha.quality is None else np.asarray(pha.quality).astype(int)
        good = np.ones(self.n_groups, bool)
        if quality is not None and quality.size == n:
            bad_groups = np.unique(gid[quality != 0])
            good[bad_groups] = False
        self.good = good
        self.noticed = good.copy()
        self._group_lo: np.ndarray | None = None
        self._group_hi: np.ndarray | None = None

    @property
    def backscal(self) -> float | np.ndarray:
        """BACKSCAL of the spectrum (kept for information; it does not enter a fit without a
        background file)."""
        return self.pha.backscal

    # -- responses -----------------------------------------------------------------------
    def set_response(self, source: int, response: Response) -> None:
        """Attach ``response`` to XSPEC source ``source`` (``response k:s``)."""
        if response.n_channel != self.n_channel:
            raise InputError(
                f"response {response.rmf_path or '(in memory)'} has {response.n_channel} channels "
                f"but spectrum {self.name} has {self.n_channel}; use the RMF made for this spectrum.",
                response.rmf_path,
            )
        self.responses[int(source)] = response
        self._group_lo = self._group_hi = None

    def _check_responses(self) -> None:
        for r in self.responses.values():
            if r.n_channel != self.n_channel:
                raise InputError(
                    f"response {r.rmf_path or '(in memory)'} has {r.n_channel} channels but spectrum "
                    f"{self.name} has {self.n_channel}; use the RMF made for this spectrum.",
                    r.rmf_path,
                )

    # -- energies of groups ----------------------------------------------------------------
    def group_energies(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper energy (keV) of each group, from the EBOUNDS of the lowest-numbered
        source's response."""
        if self._group_lo is None:
            if not self.responses:
                raise ModelError(f"spectrum {self.name} has no response, so energies are unknown; "
                                 "attach a response first.")
            r = self.responses[min(self.responses)]
            gid = self.group_id
            lo = np.full(self.n_groups, np.inf)
            hi = np.full(self.n_groups, -np.inf)
            np.minimum.at(lo, gid, r.channel_lo)
            np.maximum.at(hi, gid, r.channel_hi)
            self._group_lo, self._group_hi = lo, hi
        return self._group_lo, self._group_hi

    def _energy_mask(self, lo: float | None, hi: float | None) -> np.ndarray:
        glo, ghi = self.group_energies()
        centre = 0.5 * (glo + ghi)
        m = np.ones(self.n_groups, bool)
        if lo is not None:
            m &= centre >= lo
        if hi is not None:
            m &= centre <= hi
        return m

    def ignore(self, lo: float | None = None, hi: float | None = None) -> None:
        """Ignore groups whose centre energy lies in [lo, hi] keV (None = open end, XSPEC ``**``)."""
        self.noticed &= ~self._energy_mask(lo, hi)

    def notice(self, lo: float | None = None, hi: float | None = None) -> None:
        """Notice groups whose centre energy lies in [lo, hi] keV (bad-quality groups stay out)."""
        self.noticed |= self._energy_mask(lo, hi) & self.good

    def ignore_channels(self, first: int, last: int) -> None:
        """Ignore XSPEC channels (1-based group numbers) ``first``–``last`` inclusive."""
        self.noticed[max(first, 1) - 1: last] = False

    def notice_channels(self, first: int, last: int) -> None:
        """Notice XSPEC channels (1-based group numbers) ``first``–``last`` inclusive."""
        sl = slice(max(first, 1) - 1, last)
        self.noticed[sl] = self.good[sl]

    def notice_band(self, lo: float, hi: float) -> None:
        """Keep only [lo, hi] keV (``ignore **-lo hi-**``); refuses a band with no channels."""
        self.noticed = self.good & self._energy_mask(lo, hi)
        if not self.noticed.any():
            raise InputError(
                f"energy range {lo:g}–{hi:g} keV selects no channel of spectrum {self.name}; "
                "choose a range inside the response's channel energies.", self.name)

    def ignored_ranges(self) -> list[tuple[int, int]]:
        """Ignored XSPEC channel ranges (1-based group numbers), for ``ignore`` commands."""
        ign = ~self.noticed
        ranges = []
        i = 0
        n = ign.size
        while i < n:
            if ign[i]:
                j = i
                while j + 1 < n and ign[j + 1]:
                    j += 1
                ranges.append((i + 1, j + 1))
                i = j + 1
            else:
                i += 1
        return ranges

    @property
    def n_noticed(self) -> int:
        return int(self.noticed.sum())

    def __repr__(self) -> str:
        return (f"Spectrum({self.name!r}, group={self.group}, exposure={self.exposure:g} s, "
                f"{self.n_noticed}/{self.n_groups} bins noticed, sources={sorted(self.responses)})")
