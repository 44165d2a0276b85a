"""Fit a problem in XSPEC itself (PyXspec), as a referee for nuskybgd's own fit.

The problem is handed over as an ``.xcm`` file written by :func:`nuskybgd.spectral.xcm.export_xcm`,
so XSPEC fits exactly what nuskybgd fits.  Needs PyXspec (:mod:`nuskybgd.spectral.xspec_backend`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nuskybgd.spectral.fit import FitProblem
from nuskybgd.spectral.xcm import export_xcm
from nuskybgd.spectral.xspec_backend import session


def fit_in_xspec(problem: FitProblem, nit: int | None = None) -> dict:
    """Load ``problem`` into XSPEC (through an exported ``.xcm``), fit it there and read back.

    Returns ``{"statistic": C, "dof": dof, "values": {xspec_id: value}}``; nuskybgd's own
    parameters are not changed.
    """
    xspec = session()
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
