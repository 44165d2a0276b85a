"""``apec`` from a real AtomDB source: PyXspec when importable, else pyatomdb with local data.

nuskybgd never approximates apec.  Sources, in order:

1. PyXspec (``xspec.callModelFunction("apec", …)``), when HEASoft is importable.
2. pyatomdb, when it is installed **and** AtomDB data are on this machine: ``$ATOMDB`` pointing
   at a folder with ``userdata`` and the ``apec_line``/``apec_coco`` files, or nuskybgd's cache
   ``~/.cache/nuskybgd/atomdb`` filled once by :func:`fetch_atomdb` (which downloads AtomDB from
   atomdb.org through pyatomdb).  pyatomdb is never imported without data, because its import
   then asks interactive questions.

Otherwise :class:`~nuskybgd.errors.ModelError` names both options.  The pyatomdb path
interpolates linearly in temperature (XSPEC's default) and uses the Anders & Grevesse (angr)
abundances XSPEC uses by default; norm 1 is 1e14 × the AtomDB emissivity (XSPEC's apec norm).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

from nuskybgd.errors import ModelError
from nuskybgd.spectral import xspec_backend

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nuskybgd" / "atomdb"

_MESSAGE = (
    "apec needs AtomDB emissivities: either install HEASoft with PyXspec (so that 'import xspec' "
    "works), or install pyatomdb and fetch AtomDB once with "
    "'python -c \"from nuskybgd.spectral.apec import fetch_atomdb; fetch_atomdb()\"' "
    f"(it downloads to {CACHE}, or to $ATOMDB when set)."
)


def _atomdb_dir() -> Path | None:
    for cand in (os.environ.get("ATOMDB"), str(CACHE)):
        if cand and (Path(cand) / "userdata").exists():
            return Path(cand)
    return None


def fetch_atomdb(folder: str | Path | None = None) -> Path:
    """Download AtomDB into ``folder`` (default ``$ATOMDB`` or the nuskybgd cache) via pyatomdb.

    Needs the network; runs only when called explicitly.
    """
    if importlib.util.find_spec("pyatomdb") is None:
        raise ModelError("pyatomdb is not installed; install it with 'pip install pyatomdb' first.")
    target = Path(folder or os.environ.get("ATOMDB") or CACHE)
    target.mkdir(parents=True, exist_ok=True)
    os.environ["ATOMDB"] = str(target)
    (target / "userdata").touch()          # keeps pyatomdb's import from prompting
    import pyatomdb  # noqa: PLC0415

    pyatomdb.util.initialize()
    return target


@functools.lru_cache(maxsize=4)
def _session(edges_key: tuple[float, ...]):
    folder = _atomdb_dir()
    os.environ["ATOMDB"] = str(folder)
    import pyatomdb  # noqa: PLC0415

    sess = pyatomdb.spectrum.CIESession(abundset="AG89")
    sess.set_response(np.asarray(edges_key), raw=True)
    return sess


def apec_flux(edges: np.ndarray, kT: float, Abundanc: float, Redshift: float) -> np.ndarray:
    """XSPEC ``apec`` for norm 1 on ``edges`` (keV): photons cm⁻² s⁻¹ per bin."""
    e = np.asarray(edges, dtype=float)
    if xspec_backend.available():
        return xspec_backend.call_model("apec", e, [kT, Abundanc, Redshift])
    if importlib.util.find_spec("pyatomdb") is not None and _atomdb_dir() is not None:
        z1 = 1.0 + Redshift
        sess = _session(tuple(e * z1))
        metals = list(range(3, 31))
        sess.set_abund(metals, Abundanc)
        spec = sess.return_spectrum(kT, teunit="keV", log_interp=False)
        return 1e14 * np.asarray(spec, dtype=float) / z1
    raise ModelError(_MESSAGE)
