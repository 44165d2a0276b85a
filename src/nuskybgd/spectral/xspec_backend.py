"""Optional PyXspec backend: run the same problem in XSPEC when ``import xspec`` works.

PyXspec ships only with HEASoft (it is not on PyPI) and is compiled against one Python, so its
availability is checked in a child process first (a broken build can crash the interpreter).
The problem is handed over as an ``.xcm`` file written by :func:`nuskybgd.spectral.xcm.export_xcm`,
so XSPEC referees exactly what nuskybgd fits.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

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


def _xspec():
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
    xspec = _xspec()
    edges = [float(e) for e in np.asarray(energy_edges, float)]
    flux: list[float] = []
    xspec.callModelFunction(name, edges, [float(p) for p in params], flux)
    return np.asarray(flux, dtype=float)


def fit_in_xspec(problem, nit: int | None = None) -> dict:
    """Load ``problem`` into XSPEC (through an exported ``.xcm``), fit it there and read back.

    Returns ``{"statistic": C, "dof": dof, "values": {xspec_id: value}}``; nuskybgd's own
    parameters are not changed.
    """
    from nuskybgd.spectral.xcm import export_xcm

    xspec = _xspec()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "problem.xcm"
        export_xcm(problem, path)
        xspec.AllData.clear()
        xspec.AllModels.clear()
        xspec.Xset.restore(str(path))
        xspec.Fit.nIterations = nit or problem.maxit
        xspec.Fit.criticalDelta = problem.crit_delta
        xspec.Fit.perform()
        values = {}
        for src in problem.sources:
            for p in src.parameters:
                m = xspec.AllModels(p.group, src.name) if src.name else xspec.AllModels(p.group)
                values[p.xspec_id] = float(m(p.local_index).values[0])
        return {"statistic": float(xspec.Fit.statistic), "dof": int(xspec.Fit.dof), "values": values}
