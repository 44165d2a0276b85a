"""Read and write OGIP spectra and responses: RMF (CAL/GEN/92-002), ARF and PHA type I (OGIP/92-007).

This module gathers the public names of :mod:`nuskybgd.io.pha`, :mod:`nuskybgd.io.rmf`,
:mod:`nuskybgd.io.arf` and the generic helpers of :mod:`nuskybgd.io.fitsfile`.  In memory the
files are the shared dataclasses of :mod:`nuskybgd.io.ogip_types`:

* :class:`~nuskybgd.io.ogip_types.Rmf` — the matrix as ``scipy.sparse.csr_matrix`` of shape
  (n_energy, n_channel); column ``j`` is channel ``channels[j]``.  Energies in keV.
* :class:`~nuskybgd.io.ogip_types.Arf` — SPECRESP in cm² per energy row.
* :class:`~nuskybgd.io.ogip_types.Pha` — counts per channel, exposure in s.

Readers look extensions up by EXTNAME (or HDUCLAS), never by position, and accept gzipped files;
anything malformed raises :class:`~nuskybgd.errors.InputError` naming the file.  Writers go
through :func:`nuskybgd.io.atomic.write_fits_atomic` (never silently replacing a file) and stamp
a :class:`nuskybgd.provenance.Provenance`.  A write followed by a read gives back the same
numbers exactly: float columns are written as 32-bit (``E``) when every value is exactly
representable in 32 bits, otherwise as 64-bit (``D``).
"""

from __future__ import annotations

from nuskybgd.io.arf import read_arf, write_arf
from nuskybgd.io.fitsfile import column_keyword, find_hdu, header_to_dict, open_fits
from nuskybgd.io.pha import MANDATORY_PHA_KEYWORDS, read_pha, write_pha
from nuskybgd.io.rmf import read_rmf, write_rmf

__all__ = [
    "open_fits",
    "find_hdu",
    "column_keyword",
    "read_rmf",
    "write_rmf",
    "read_arf",
    "write_arf",
    "read_pha",
    "write_pha",
    "header_to_dict",
    "MANDATORY_PHA_KEYWORDS",
]
