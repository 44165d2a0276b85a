"""Optional PyXspec backend: run the same problem in XSPEC when ``import xspec`` works.

PyXspec ships only with HEASoft (it is not on PyPI) and is compiled against one Python, so its
availability is checked in a child process first (a broken build can crash the interpreter).
Fitting a whole problem in XSPEC is :func:`nuskybgd.spectral.xspec_fit.fit_in_xspec`.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from types import ModuleType

import numpy as np

from nuskybgd.errors import ModelError

_HOW = ("install HEASoft with PyXspec and initialise it (source $HEADAS/headas-init.sh) in the "
        "shell that runs nuskybgd")


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """True when PyXspec can be imported by this Python (checked once, in a child process)."""
    if importlib.util.find_spec("xspec") is None:
        return False
    try:
        r = subprocess.run([sys.executable, "-c", "import xspec"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def session() -> ModuleType:
    """The ``xspec`` module, quiet and answering prompts with yes (ModelError when unavailable)."""
    if not available():
        raise ModelError(f"PyXspec is not importable here; {_HOW}.")
    import xspec  # noqa: PLC0415  (optional dependency)

    xspec.Xset.chatter = 0
    xspec.Fit.query = "yes"
    return xspec


def call_model(name: str, energy_edges: np.ndarray, params: list[float]) -> np.ndarray:
    """Evaluate XSPEC model ``name`` (norm excluded) on ``energy_edges`` (keV) through PyXspec.

    Returns photons cm⁻² s⁻¹ per bin for norm 1.
    """
    xspec = session()
    edges = [float(e) for e in np.asarray(energy_edges, float)]
    flux: list[float] = []
    xspec.callModelFunction(name, edges, [float(p) for p in params], flux)
    return np.asarray(flux, dtype=float)
