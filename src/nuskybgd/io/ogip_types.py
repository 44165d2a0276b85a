"""In-memory forms of OGIP spectra and responses (shared by io, calib, spectral, simulate).

Readers and writers live in :mod:`nuskybgd.io.ogip`.  Energies are in keV, areas in cm².
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class Rmf:
    """A redistribution matrix.

    Attributes
    ----------
    energ_lo, energ_hi : ndarray, shape (n_energy,)
        Photon energy bin edges in keV (MATRIX extension).
    matrix : scipy.sparse.csr_matrix, shape (n_energy, n_channel)
        Probability that a photon in energy row i is detected in channel column j
        (column j is channel ``channels[j]``).  For an RMF with EFFAREA folded in (RSP) the rows
        carry cm².
    channels : ndarray of int, shape (n_channel,)
        Channel numbers (EBOUNDS CHANNEL; for NuSTAR PI 0..4095).
    e_min, e_max : ndarray, shape (n_channel,)
        Nominal channel energy bounds in keV (EBOUNDS).
    header : dict
        Selected MATRIX-header keywords (TELESCOP, INSTRUME, DETNAM, CHANTYPE, LO_THRES,
        HDUCLAS3, …) kept for round trips.
    """

    energ_lo: np.ndarray
    energ_hi: np.ndarray
    matrix: sp.csr_matrix
    channels: np.ndarray
    e_min: np.ndarray
    e_max: np.ndarray
    header: dict = field(default_factory=dict)

    @property
    def n_energy(self) -> int:
        return int(self.energ_lo.size)

    @property
    def n_channel(self) -> int:
        return int(self.channels.size)


@dataclass
class Arf:
    """An ancillary response: effective area per energy row (cm²; unitless for transmissions).

    An ARF applies to an RMF **by row index** (row k multiplies RMF row k); the energy columns
    are kept for information and checks (some files, e.g. nuskybgd's be.arf, round them).
    """

    energ_lo: np.ndarray
    energ_hi: np.ndarray
    specresp: np.ndarray
    header: dict = field(default_factory=dict)


@dataclass
class Pha:
    """A PHA type I spectrum.

    Attributes
    ----------
    channels : ndarray of int
        Channel numbers.
    counts : ndarray
        Counts per channel (COUNTS column; RATE spectra are converted with EXPOSURE).
    exposure : float
        Exposure in s.
    backscal, areascal : float or ndarray
        BACKSCAL and AREASCAL (keyword or column).
    grouping, quality : ndarray of int or None
        OGIP GROUPING (1 starts a group, -1 continues, 0 none) and QUALITY (0 good).
    respfile, ancrfile, backfile, corrfile : str or None
        Associated files as written in the header ('none' becomes None).
    header : dict
        Other SPECTRUM-header keywords kept for round trips (TELESCOP, INSTRUME, OBJECT, …).
    """

    channels: np.ndarray
    counts: np.ndarray
    exposure: float
    backscal: float | np.ndarray = 1.0
    areascal: float | np.ndarray = 1.0
    grouping: np.ndarray | None = None
    quality: np.ndarray | None = None
    respfile: str | None = None
    ancrfile: str | None = None
    backfile: str | None = None
    corrfile: str | None = None
    poisserr: bool = True
    header: dict = field(default_factory=dict)
