"""The spectral engine on real NuSTAR files (../shared/data; skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from conftest import shared_path
from nuskybgd.io.ogip import read_arf, read_rmf
from nuskybgd.spectral import FitProblem, Response, Source, Spectrum
from nuskybgd.spectral.stats import cstat_terms


@pytest.fixture(scope="module")
def caldb_rmf():
    return read_rmf(shared_path("caldb-pieces", "nuAdet3_20100101v002.rmf.gz"))


def test_fold_is_rmf_rows_times_arf_by_index(caldb_rmf):
    arf_path = shared_path("real", "vela_x1", "nu90402339002A01_sr.arf")
    arf = read_arf(arf_path)
    resp = Response(caldb_rmf, arf, rmf_path="det3.rmf", arf_path=str(arf_path))
    for row in (0, 200, 1500, 4000):
        unit = np.zeros(caldb_rmf.n_energy)
        unit[row] = 1.0
        np.testing.assert_allclose(resp.fold(unit), arf.specresp[row] * caldb_rmf.matrix[row].toarray().ravel(),
                                   rtol=1e-12, atol=0)
    # be.arf has corrupted energy columns; it still pairs with the diagonal RMF row by row
    be = read_arf(shared_path("nuskybgd-auxil", "be.arf"))
    diag = Response(shared_path("nuskybgd-auxil", "diag.rmf"))
    np.testing.assert_allclose(diag.with_arf(be).fold(np.ones(4096)), be.specresp, rtol=1e-12)


def test_vela_x1_thawed_shape_fit_beats_an_independent_minimiser(caldb_rmf):
    pha_path = shared_path("real", "vela_x1", "nu90402339002A01_sr.pha")
    arf_path = shared_path("real", "vela_x1", "nu90402339002A01_sr.arf")
    resp = Response(caldb_rmf, arf_path, rmf_path="det3.rmf")
    spec = Spectrum(pha_path, {1: resp})
    assert spec.pha.backfile is not None and not spec.use_background   # BACKFILE is not used
    spec.notice_band(5.0, 20.0)
    src = Source("cutoffpl")
    src.par("cutoffpl.PhoIndex").set(1.0)
    src.par("cutoffpl.HighECut").set(30.0)
    src.par("cutoffpl.norm").set(0.1)
    prob = FitProblem([spec], [src], statistic="cstat", crit_delta=1e-4)
    res = prob.fit()
    assert res.method == "levenberg-marquardt" and res.converged
    best = np.array([p.value for p in prob.free_parameters()])
    assert all(np.isfinite(p.error) and p.error > 0 for p in prob.free_parameters())

    counts = spec.counts[spec.noticed]

    def stat(x):
        for p, v in zip(prob.free_parameters(), x, strict=True):
            p.value = float(v)
        return cstat_terms(counts, prob.model_counts(1, noticed_only=True)).sum()

    nm = minimize(stat, [1.0, 30.0, 0.1], method="Nelder-Mead",
                  options={"xatol": 1e-6, "fatol": 1e-4, "maxfev": 3000})
    assert res.statistic <= nm.fun + 0.05
    assert stat(best) == pytest.approx(res.statistic, rel=1e-12)
