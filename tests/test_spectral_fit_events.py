"""The fitter's progress and cancel hooks, and the public way to fit other counts (bootstrap)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nuskybgd.errors import ModelError
from nuskybgd.events import Cancelled, CancelToken, ProgressEvent, Reporter, ResultEvent
from nuskybgd.spectral import Response, diagonal_rmf, goodness_of_fit
from test_spectral_fit import EDGES, set_counts, two_spectrum_problem

ITERATION = re.compile(r"^iteration (\d+), cstat (\d+\.\d)$")


@pytest.fixture(scope="module")
def diag() -> Response:
    return Response(diagonal_rmf(EDGES), rmf_path="diag.rmf")


def simulated_problem(diag: Response, seed: int, thaw_shape: bool = False):
    prob = two_spectrum_problem(diag)
    if thaw_shape:
        prob.set("bgd:1", 1.29, frozen=False)            # CXB photon index: the general LM path
    set_counts(prob, prob.simulate(np.random.default_rng(seed)))
    for p in prob.free_parameters():
        p.value *= 1.8                                  # start away from the best fit
    return prob


@pytest.mark.parametrize("thaw_shape", [False, True], ids=["linear-norms", "levenberg-marquardt"])
def test_a_fit_reports_progress_per_iteration_and_a_result(diag, thaw_shape):
    prob = simulated_problem(diag, 11, thaw_shape)
    events = []
    result = prob.fit(reporter=Reporter(sink=events.append))
    assert result.method == ("levenberg-marquardt" if thaw_shape else "linear-norms")
    progress = [e for e in events if isinstance(e, ProgressEvent)]
    per_iteration = [ITERATION.match(e.text) for e in progress[:-1]]
    assert all(per_iteration), [e.text for e in progress]
    iterations = [int(m.group(1)) for m in per_iteration]
    stats = [float(m.group(2)) for m in per_iteration]
    # one event per accepted step, numbered upwards, the statistic never rising
    assert len(iterations) >= 3 and iterations == sorted(set(iterations))
    assert iterations[-1] <= result.iterations
    assert all(b <= a + 0.05 for a, b in zip(stats, stats[1:], strict=False))
    assert stats[-1] == pytest.approx(result.statistic, abs=0.06)
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions) and 0.0 <= fractions[0] < 1.0 and fractions[-1] == 1.0
    assert progress[-1].text.startswith(f"converged after {result.iterations} iterations")
    final = [e for e in events if isinstance(e, ResultEvent)]
    assert len(final) == 1 and final[0].values["value"] == result.statistic
    assert final[0].values["dof"] == result.dof and final[0].values["converged"] is True


@pytest.mark.parametrize("thaw_shape", [False, True], ids=["linear-norms", "levenberg-marquardt"])
def test_cancel_from_the_progress_callback_stops_the_fit(diag, thaw_shape):
    prob = simulated_problem(diag, 12, thaw_shape)
    prob.resolve()
    before = [(p.value, p.frozen, p.link) for p in prob.parameters]
    token = CancelToken()
    seen = []

    def sink(event):
        seen.append(event)
        if isinstance(event, ProgressEvent) and event.text.startswith("iteration 2,"):
            token.cancel()

    with pytest.raises(Cancelled):
        prob.fit(reporter=Reporter(sink=sink, cancel=token))
    texts = [e.text for e in seen if isinstance(e, ProgressEvent)]
    assert texts[-1].startswith("iteration 2,") and len(texts) == 2       # stopped right there
    assert [(p.value, p.frozen, p.link) for p in prob.parameters] == before  # nothing half-fitted
    assert prob.last_result is None
    # the problem is still usable: a plain fit afterwards converges
    assert prob.fit().converged


def test_a_token_cancelled_before_the_fit_stops_it_before_any_iteration(diag):
    prob = simulated_problem(diag, 13)
    token = CancelToken()
    token.cancel()
    events = []
    with pytest.raises(Cancelled):
        prob.fit(reporter=Reporter(sink=events.append, cancel=token))
    assert events == []


def test_conf_and_bootstrap_honour_cancel_and_restore_the_best_fit(diag):
    prob = simulated_problem(diag, 14)
    best = prob.fit()
    values = {p.xspec_id: p.value for p in prob.parameters}
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        prob.conf("bgd:9", reporter=Reporter(sink=lambda e: None, cancel=token))
    assert {p.xspec_id: p.value for p in prob.parameters} == values and prob.last_result is best

    token = CancelToken()
    done = []

    def sink(event):
        if isinstance(event, ProgressEvent) and event.text.startswith("simulation "):
            done.append(event.fraction)
            if len(done) == 3:
                token.cancel()

    with pytest.raises(Cancelled):
        goodness_of_fit(prob, n_sim=50, seed=1, reporter=Reporter(sink=sink, cancel=token))
    assert done == pytest.approx([1 / 50, 2 / 50, 3 / 50])
    assert {p.xspec_id: p.value for p in prob.parameters} == values and prob.last_result is best
    # the simulated counts were put away: the statistic is the real data's again
    assert prob.statistic() == pytest.approx(best.statistic, rel=1e-12)


def test_use_counts_fits_other_counts_like_the_spectra_own(diag):
    prob = simulated_problem(diag, 15)
    start = prob.snapshot()
    other = prob.simulate(np.random.default_rng(99))
    prob.use_counts(other)
    replaced = prob.fit()
    prob.use_counts(None)
    own = prob.statistic()
    prob.restore(start)
    set_counts(prob, other)                     # the same counts, put into the spectra themselves
    direct = prob.fit()
    assert replaced.statistic == pytest.approx(direct.statistic, rel=1e-12)
    assert own != pytest.approx(replaced.statistic, rel=1e-6)
    with pytest.raises(ModelError, match="one array per spectrum"):
        prob.use_counts(other[:1])
    with pytest.raises(ModelError, match="one value per noticed group"):
        prob.use_counts([c[:-1] for c in other])
