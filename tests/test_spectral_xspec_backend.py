"""Optional PyXspec backend: XSPEC referees the same problem when ``import xspec`` works."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from nuskybgd.io.ogip import write_pha
from nuskybgd.io.ogip_types import Pha
from nuskybgd.spectral import Response, Source, Spectrum, model_flux, xspec_backend
from nuskybgd.spectral.fit import FitProblem
from nuskybgd.spectral.xspec_fit import fit_in_xspec


@pytest.fixture(scope="module")
def xspec_ok():
    if not xspec_backend.available():
        pytest.skip("PyXspec is not importable here (it ships only with HEASoft)")


def test_xspec_and_nuskybgd_agree_on_a_fit(xspec_ok, tmp_path):
    diag = shared_path("nuskybgd-auxil", "diag.rmf")
    resp = Response(diag)
    src = Source("cutoffpl + lorentz", name="bgd", number=2)
    src.par("cutoffpl.PhoIndex").set(1.29, frozen=True)
    src.par("cutoffpl.HighECut").set(41.13, frozen=True)
    src.par("cutoffpl.norm").set(0.02)
    src.par("lorentz.LineE").set(19.6464, frozen=True)
    src.par("lorentz.Width").set(0.229493, frozen=True)
    src.par("lorentz.norm").set(1e-3)
    pha = Pha(np.arange(4096), np.zeros(4096), 1e4, header={"TELESCOP": "NuSTAR", "INSTRUME": "FPMA"})
    spec = Spectrum(pha, {2: resp}, name=str(tmp_path / "s.pha"))
    prob = FitProblem([spec], [src])
    spec.counts = np.random.default_rng(1).poisson(prob.model_counts(1)).astype(float)
    write_pha(Pha(np.arange(4096), spec.counts, 1e4, header=pha.header), tmp_path / "s.pha")
    spec.notice_band(3.0, 150.0)
    ours = prob.fit()
    theirs = fit_in_xspec(prob)
    assert theirs["statistic"] == pytest.approx(ours.statistic, abs=0.05)
    assert theirs["values"]["bgd:3"] == pytest.approx(prob.par("bgd:3").value, rel=1e-3)
    # and XSPEC's own apec/cutoffpl evaluation through callModelFunction matches ours
    e = resp.energy_edges
    np.testing.assert_allclose(xspec_backend.call_model("cutoffpl", e, [1.29, 41.13]),
                               model_flux("cutoffpl", e, PhoIndex=1.29, HighECut=41.13), rtol=1e-5)
