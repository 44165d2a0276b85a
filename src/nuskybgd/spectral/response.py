"""Responses: a sparse RMF times an optional ARF (applied by row index), and folding.

One :class:`Response` is what XSPEC attaches to one source of one spectrum (``response k:s`` and
``arf k:s``).  Folding a model flux Φ (photons cm⁻² s⁻¹ per energy bin of the RMF) gives the
count rate per channel: ``rate(c) = Σ_j R(j, c) · a(j) · Φ(j)``.  The ARF multiplies RMF energy
row ``j`` by its row ``j`` whatever its own energy columns say (nuskybgd's ``be.arf`` rounds them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from nuskybgd.errors import InputError
from nuskybgd.io.ogip_types import Arf, Rmf


class Response:
    """An RMF with an optional ARF, ready to fold model fluxes.

    Parameters
    ----------
    rmf : Rmf or path
        The redistribution matrix (read with :func:`nuskybgd.io.ogip.read_rmf` if a path).
    arf : Arf or path or None
        Effective area per RMF energy row (cm²), or None for unit area.
    rmf_path, arf_path : str, optional
        File names to write into ``.xcm`` files (taken from the arguments when they are paths).

    Only the folded matrix (channels × energies, ARF applied) is kept, not the Rmf's own matrix,
    so that many NuSTAR-sized responses fit in memory.
    """

    def __init__(self, rmf: Rmf | str | Path, arf: Arf | str | Path | None = None,
                 rmf_path: str | None = None, arf_path: str | None = None) -> None:
        if isinstance(rmf, (str, Path)):
            from nuskybgd.io.ogip import read_rmf

            rmf_path = rmf_path or str(rmf)
            rmf = read_rmf(rmf)
        if isinstance(arf, (str, Path)):
            from nuskybgd.io.ogip import read_arf

            arf_path = arf_path or str(arf)
            arf = read_arf(arf)
        self.arf = arf
        self.rmf_header = dict(rmf.header)
        self.rmf_path = rmf_path
        self.arf_path = arf_path
        if arf is not None and arf.specresp.size != rmf.n_energy:
            raise InputError(
                f"ARF {arf_path or '(in memory)'} has {arf.specresp.size} rows but RMF "
                f"{rmf_path or '(in memory)'} has {rmf.n_energy} energy bins; use an ARF made for this RMF.",
                arf_path,
            )
        self.energy_edges = np.append(np.asarray(rmf.energ_lo, float), float(rmf.energ_hi[-1]))
        #: channels × energies CSR matrix of the RMF alone (shared by responses made with :meth:`with_arf`)
        self.matrix_t = sp.csr_matrix(rmf.matrix, dtype=np.float64).T.tocsr()
        #: effective area per energy row (cm²), or None
        self.arf_vec = None if arf is None else np.asarray(arf.specresp, dtype=np.float64)
        self.channel_lo = np.asarray(rmf.e_min, float)
        self.channel_hi = np.asarray(rmf.e_max, float)

    def with_arf(self, arf: Arf | str | Path | None, arf_path: str | None = None) -> Response:
        """The same RMF (matrix shared, not copied) with another ARF (``arf k:s``)."""
        if isinstance(arf, (str, Path)):
            from nuskybgd.io.ogip import read_arf

            arf_path = arf_path or str(arf)
            arf = read_arf(arf)
        if arf is not None and arf.specresp.size != self.n_energy:
            raise InputError(
                f"ARF {arf_path or '(in memory)'} has {arf.specresp.size} rows but RMF "
                f"{self.rmf_path or '(in memory)'} has {self.n_energy} energy bins; use an ARF made for this RMF.",
                arf_path,
            )
        new = object.__new__(Response)
        new.__dict__.update(self.__dict__)
        new.arf = arf
        new.arf_path = arf_path
        new.arf_vec = None if arf is None else np.asarray(arf.specresp, dtype=np.float64)
        return new

    @property
    def n_channel(self) -> int:
        return self.matrix_t.shape[0]

    @property
    def n_energy(self) -> int:
        return self.matrix_t.shape[1]

    def fold(self, flux: np.ndarray) -> np.ndarray:
        """Count rate per channel (counts s⁻¹) for ``flux`` (photons cm⁻² s⁻¹ per energy bin).

        ``flux`` may be 2-D (energies × k) to fold k spectra at once.
        """
        if self.arf_vec is not None:
            flux = flux * (self.arf_vec if flux.ndim == 1 else self.arf_vec[:, None])
        return self.matrix_t @ flux

    def __repr__(self) -> str:
        return f"Response(rmf={self.rmf_path!r}, arf={self.arf_path!r}, {self.n_channel}×{self.n_energy})"


def diagonal_rmf(energy_edges: np.ndarray) -> Rmf:
    """An identity RMF on ``energy_edges`` (keV): channel k = energy bin k, like nuskybgd's diag.rmf."""
    e = np.asarray(energy_edges, dtype=float)
    n = e.size - 1
    return Rmf(energ_lo=e[:-1].copy(), energ_hi=e[1:].copy(), matrix=sp.identity(n, format="csr"),
               channels=np.arange(n), e_min=e[:-1].copy(), e_max=e[1:].copy())
