"""Fit problem: statistics, data semantics, parameters and links, fitters, errors, bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from nuskybgd.errors import InputError, ModelError
from nuskybgd.io.ogip_types import Arf, Pha
from nuskybgd.spectral import FitProblem, Response, Source, Spectrum, diagonal_rmf, model_flux
from nuskybgd.spectral.stats import chi_terms, cstat_terms

EDGES = 1.6 + 0.04 * np.arange(4097)


@pytest.fixture(scope="module")
def diag() -> Response:
    return Response(diagonal_rmf(EDGES), rmf_path="diag.rmf")


def empty_pha(exposure: float = 1e4, **kw) -> Pha:
    return Pha(channels=np.arange(4096), counts=np.zeros(4096), exposure=exposure, **kw)


def background_source(n_groups: int = 1) -> Source:
    """cutoffpl + two lines + bknpower, shapes frozen at nuskybgd-like presets."""
    src = Source("cutoffpl + lorentz + lorentz + bknpower", name="bgd", number=2,
                 labels={"lorentz_3": "line_19.65keV"}, n_groups=n_groups)
    src.par("cutoffpl.PhoIndex").set(1.29, frozen=True)
    src.par("cutoffpl.HighECut").set(41.13, frozen=True)
    src.par("cutoffpl.norm").set(0.02)
    src.par("lorentz.LineE").set(10.2026, frozen=True)
    src.par("lorentz.Width").set(0.641196, frozen=True)
    src.par("lorentz.norm").set(2e-3)
    src.par("line_19.65keV.LineE").set(19.6464, frozen=True)
    src.par("line_19.65keV.Width").set(0.229493, frozen=True)
    src.par("line_19.65keV.norm").set(1e-3)
    src.par("bknpower.PhoIndx1").set(-0.05, frozen=True)
    src.par("bknpower.BreakE").set(124.0, frozen=True)
    src.par("bknpower.PhoIndx2").set(-0.85, frozen=True)
    src.par("bknpower.norm").set(1e-3)
    return src


def two_spectrum_problem(diag: Response) -> FitProblem:
    specs = [Spectrum(empty_pha(), {2: diag}, group=g, name=f"bgd{g}.pha") for g in (1, 2)]
    src = background_source(n_groups=2)
    prob = FitProblem(specs, [src], statistic="cstat")
    # group 2 as nuskybgd links a non-reference region: fixed ratios to group 1 norms
    prob.link("bgd:p16", "0.8*bgd:p3")
    prob.link("bgd.lorentz.norm@2", "1.1*bgd.lorentz.norm")
    prob.link("bgd:22", "bgd:p9*0.9")
    prob.link("bgd:26", "0.7*p13")
    for s in specs:
        s.notice_band(3.0, 150.0)
    return prob


def set_counts(prob: FitProblem, counts: list[np.ndarray]) -> None:
    for spec, c in zip(prob.spectra, counts, strict=True):
        full = np.zeros(spec.n_groups)
        full[spec.noticed] = c
        spec.counts = full


# ----------------------------------------------------------------------------- statistics

def test_cstat_is_xspecs_formula_with_floor():
    s = np.array([0.0, 3.0, 10.0, 1.0])
    m = np.array([0.5, 2.0, 10.0, 0.0])          # last bin: model 0 is floored at 1e-5 counts
    expected = 2 * (0.5 - 0) + 2 * (2 - 3 + 3 * np.log(3 / 2)) + 0.0 + 2 * (1e-5 - 1 + np.log(1 / 1e-5))
    assert cstat_terms(s, m).sum() == pytest.approx(expected, rel=1e-12)
    # chi with standard weighting: σ² = observed counts; 0 counts → σ² = 1
    assert chi_terms(np.array([4.0, 0.0]), np.array([2.0, 1.0])).sum() == pytest.approx(4 / 4 + 1)


def test_chi_uses_grouped_stat_err_and_counts_otherwise(diag):
    """chi (weight standard): σ² of a group = Σ STAT_ERR² of its channels when the file has the
    column, else the group's observed counts; the model is summed over the group too."""
    grouping = np.ones(4096, int)
    grouping[1::2] = -1                                          # pairs of channels
    counts = np.full(4096, 5.0)
    stat_err = np.full(4096, 3.0)
    pha = Pha(np.arange(4096), counts, 1e3, grouping=grouping, header={"STAT_ERR": stat_err})
    src = Source("powerlaw", number=1)
    src.par("powerlaw.norm").set(0.01)
    for with_err in (True, False):
        if not with_err:
            pha = Pha(np.arange(4096), counts, 1e3, grouping=grouping)
        spec = Spectrum(pha, {1: diag})
        spec.notice_band(3.0, 150.0)
        prob = FitProblem([spec], [src], statistic="chi")
        flux = 1e3 * model_flux("powerlaw", EDGES, PhoIndex=1.0, norm=0.01)
        mu = (flux[0::2] + flux[1::2])[spec.noticed]                 # model summed per pair
        var = 2 * 3.0**2 if with_err else 2 * 5.0                     # Σ STAT_ERR² or the counts
        assert prob.statistic() == pytest.approx(np.sum((10.0 - mu) ** 2 / var), rel=1e-12)
    # a RATE file (read_pha converts the rates to counts) keeps STAT_ERR in counts/s
    rate_pha = Pha(np.arange(4096), counts, 1e3, grouping=grouping,
                   header={"STAT_ERR": stat_err / 1e3, "HDUCLAS3": "RATE"})
    np.testing.assert_allclose(Spectrum(rate_pha, {1: diag}).stat_err, np.sqrt(2 * 3.0**2), rtol=1e-12)


# ----------------------------------------------------------------------------- data semantics

def test_grouping_quality_and_energy_notice(diag):
    grouping = np.ones(4096, int)
    grouping[1::2] = -1                                          # pairs of channels
    quality = np.zeros(4096, int)
    quality[100] = 5                                             # bad channel kills group 50
    counts = np.arange(4096, dtype=float)
    spec = Spectrum(Pha(np.arange(4096), counts, 1e3, grouping=grouping, quality=quality),
                    {1: diag})
    assert spec.n_groups == 2048
    assert spec.counts[3] == 6 + 7
    assert not spec.noticed[50] and spec.noticed[49]
    spec.notice_band(3.0, 150.0)
    lo, hi = spec.group_energies()
    kept = np.nonzero(spec.noticed)[0]
    centre = 0.5 * (lo + hi)          # a group is inside a band when its centre is
    assert centre[kept[0]] >= 3.0 - 1e-9 > centre[kept[0] - 1]
    assert centre[kept[-1]] <= 150.0 + 1e-9 < centre[kept[-1] + 1]
    assert kept.size == kept[-1] - kept[0] and 50 not in kept     # the bad group stays out
    # XSPEC 'ignore **-3.0 150.0-**' on the ungrouped NuSTAR grid keeps PI 35–3709
    plain = Spectrum(empty_pha(), {1: diag})
    plain.ignore(None, 3.0)
    plain.ignore(150.0, None)
    kept = np.nonzero(plain.noticed)[0]
    assert (kept[0], kept[-1], kept.size) == (35, 3709, 3675)
    with pytest.raises(InputError, match="selects no channel"):
        plain.notice_band(200.0, 300.0)


def test_arf_applies_by_row_and_length_mismatch_is_refused(diag):
    rmf = diagonal_rmf(EDGES)
    area = np.linspace(1.0, 2.0, 4096)
    # energy columns deliberately wrong (like be.arf): only the row index may matter
    arf = Arf(np.zeros(4096), np.zeros(4096), area)
    resp = Response(rmf, arf, rmf_path="diag.rmf", arf_path="x.arf")
    flux = model_flux("powerlaw", EDGES, PhoIndex=1.5)
    np.testing.assert_allclose(resp.fold(flux), area * flux)
    with pytest.raises(InputError, match="4000 rows but RMF"):
        Response(rmf, Arf(np.zeros(4000), np.zeros(4000), np.ones(4000)), arf_path="short.arf")
    short = Response(diagonal_rmf(EDGES[:101]), rmf_path="short.rmf")
    with pytest.raises(InputError, match="short.rmf has 100 channels but spectrum a.pha has 4096"):
        Spectrum(empty_pha(), {2: diag}, name="a.pha").set_response(3, short)
    with pytest.raises(InputError, match="short.rmf has 100 channels"):
        FitProblem([Spectrum(empty_pha(), {2: short}, name="a.pha")], [Source("powerlaw", number=2)])
    with pytest.raises(ModelError, match="background"):
        Spectrum(empty_pha(), {2: diag}, use_background=True)


def test_several_sources_each_with_own_response(diag):
    """Model counts = exposure × Σ_sources fold(source flux through its own response)."""
    area = np.full(4096, 250.0)
    with_arf = diag.with_arf(Arf(EDGES[:-1], EDGES[1:], area), "a.arf")
    spec = Spectrum(empty_pha(exposure=2e4), {2: with_arf, 5: diag})
    a = Source("cutoffpl", "apbgd", 2)
    a.par("cutoffpl.norm").set(0.01)
    n = Source("bknpower", "intn", 5)
    n.par("bknpower.norm").set(3e-4)
    prob = FitProblem([spec], [a, n])
    expect = 2e4 * (250.0 * model_flux("cutoffpl", EDGES, PhoIndex=1.0, HighECut=15.0, norm=0.01)
                    + model_flux("bknpower", EDGES, PhoIndx1=1.0, BreakE=5.0, PhoIndx2=2.0, norm=3e-4))
    np.testing.assert_allclose(prob.model_counts(1), expect, rtol=1e-12)
    np.testing.assert_allclose(prob.model_counts(1, source="intn"),
                               2e4 * model_flux("bknpower", EDGES, norm=3e-4), rtol=1e-12)


# ----------------------------------------------------------------------------- parameters

def test_addressing_links_and_chains(diag):
    prob = two_spectrum_problem(diag)
    src = prob.source("bgd")
    assert src.npar == 13
    assert prob.par("bgd:16") is prob.par("bgd.cutoffpl.norm@2")
    assert prob.par("bgd.line_19.65keV.norm") is prob.par("bgd:9") is prob.par("bgd.lorentz_3.norm")
    assert prob.par("bgd:9").full_name == "bgd.line_19.65keV.norm"
    # chained: 26 → 13 (bgd:p13 is group 1's intn norm); and a chain through two links
    prob.link("bgd:13", "2*bgd:9")
    prob.resolve()
    assert prob.par("bgd:26").value == pytest.approx(0.7 * 2 * prob.par("bgd:9").value)
    prob.set("bgd:13", 1e-3)
    prob.resolve()
    assert prob.par("bgd:26").value == pytest.approx(0.7e-3)
    # XSPEC-style range selections
    prob.freeze("bgd:*")
    assert all(p.frozen for p in src.parameters)
    prob.thaw("bgd:3-3")
    assert prob.par("bgd:3").is_free


def test_bad_parameter_input(diag):
    prob = two_spectrum_problem(diag)
    with pytest.raises(ModelError, match="no parameter 99"):
        prob.par("bgd:99")
    with pytest.raises(ModelError, match="no component 'line_99keV'"):
        prob.par("bgd.line_99keV.norm")
    with pytest.raises(ModelError, match="refers to a missing parameter 'nosuch:p1': no source 'nosuch'"):
        prob.link("bgd:3", "2*nosuch:p1")
    assert prob.par("bgd:3").link is None
    prob.link("bgd:3", "2*bgd:9")
    with pytest.raises(ModelError, match="circular parameter link"):
        prob.link("bgd:9", "bgd:p3")
    # the refused link left the model as it was
    assert prob.par("bgd:9").link is None
    with pytest.raises(ModelError, match="hard limits"):
        prob.set("bgd:1", 50.0)
    with pytest.raises(ModelError, match="unknown model component"):
        Source("cutoffpl + nosuchmodel")
    with pytest.raises(ModelError, match="exactly one additive"):
        Source("constant")
    # nothing noticed: refused instead of a fit to no data with negative dof
    for spec in prob.spectra:
        spec.ignore(None, None)
    with pytest.raises(ModelError, match="no channel of any spectrum is noticed"):
        prob.fit()


# ----------------------------------------------------------------------------- fitting

def test_fast_path_and_lm_agree_and_report(diag):
    prob = two_spectrum_problem(diag)
    rng = np.random.default_rng(1)
    set_counts(prob, prob.simulate(rng))
    truth = {p.xspec_id: p.value for p in prob.free_parameters()}
    for p in prob.free_parameters():
        p.value *= 1.7
    fast = prob.fit()
    assert fast.method == "linear-norms" and fast.converged
    vals = {p.xspec_id: p.value for p in prob.free_parameters()}
    for p in prob.free_parameters():
        p.value *= 0.6
    slow = prob.fit(method="lm")
    assert slow.method == "levenberg-marquardt"
    assert slow.statistic == pytest.approx(fast.statistic, abs=2e-3)
    for p in prob.free_parameters():
        assert p.value == pytest.approx(vals[p.xspec_id], rel=2e-3)
        assert abs(p.value - truth[p.xspec_id]) < 5 * p.error
    # report content
    text = fast.report()
    assert "cstat" in text and f"{fast.dof} dof" in text and "bgd1.pha" in text and "bgd:9" in text
    assert f"{fast.iterations} iterations" in text and f"{fast.elapsed:.3f} s" in text
    assert fast.iterations >= 3 and fast.n_evaluations >= fast.iterations and fast.elapsed > 0
    free_rows = [r for r in fast.parameters if r.status == "free"]
    assert [r.id for r in free_rows] == fast.free == ["bgd:3", "bgd:6", "bgd:9", "bgd:13"]
    assert all(r.error is not None and r.error > 0 for r in free_rows)
    assert {r.id: r.status for r in fast.parameters}["bgd:16"] == "= 0.8*bgd:p3"
    assert fast.dof == 2 * 3675 - 4
    assert sum(v for _, v, _ in fast.per_spectrum) == pytest.approx(fast.statistic)


def test_thawed_shape_uses_lm_and_recovers_it(diag):
    prob = two_spectrum_problem(diag)
    prob.set("bgd:1", 1.29, frozen=False)                 # thaw the CXB photon index
    set_counts(prob, prob.simulate(np.random.default_rng(4)))
    prob.set("bgd:1", 1.6)
    res = prob.fit()
    assert res.method == "levenberg-marquardt" and res.converged
    p = prob.par("bgd:1")
    assert abs(p.value - 1.29) < 4 * p.error and p.error < 0.2


def test_norms_are_unbiased_over_many_seeds(diag):
    """Acceptance: pulls of fitted norms over ≥ 50 simulated data sets."""
    prob = two_spectrum_problem(diag)
    prob.resolve()
    truth = {p.xspec_id: p.value for p in prob.free_parameters()}
    base = prob.snapshot()
    pulls = []
    rng = np.random.default_rng(2024)
    for _ in range(60):
        prob.restore(base)
        set_counts(prob, prob.simulate(rng))
        for p in prob.free_parameters():
            p.value *= rng.uniform(0.5, 2.0)
        prob.fit()
        for p in prob.free_parameters():
            pulls.append((p.value - truth[p.xspec_id]) / p.error)
    pulls = np.array(pulls)
    assert pulls.size == 240
    assert abs(pulls.mean()) < 0.2, pulls.mean()
    assert 0.8 < pulls.std() < 1.25, pulls.std()


def test_conf_profile_brackets_the_best_fit(diag):
    prob = two_spectrum_problem(diag)
    set_counts(prob, prob.simulate(np.random.default_rng(7)))
    res = prob.fit()
    p = prob.par("bgd:9")
    best, sigma = p.value, p.error
    lo, hi = prob.conf("bgd:9")["bgd:9"]
    assert lo < best < hi
    # 90 % (Δ = 2.706) is about ±1.645 σ for a well-determined norm
    assert (hi - lo) / 2 == pytest.approx(1.645 * sigma, rel=0.15)
    assert prob.par("bgd:9").value == best and prob.last_result is res
    # the profile statistic really is best + 2.706 at the bounds
    snap = prob.snapshot()
    prob.set("bgd:9", hi, frozen=True)
    assert prob.fit().statistic == pytest.approx(res.statistic + 2.706, abs=0.02)
    prob.restore(snap)


def test_profile_at_delta_one_matches_the_curvature_error(diag):
    """On well-determined norms (near-Gaussian likelihood) the Δstat = 1 profile interval and
    the 1σ curvature error agree: half-width within 3 %, each side within 10 %."""
    prob = two_spectrum_problem(diag)
    set_counts(prob, prob.simulate(np.random.default_rng(7)))
    prob.fit()
    for key in ("bgd:3", "bgd:6", "bgd:9", "bgd:13"):
        p = prob.par(key)
        best, sigma = p.value, p.error
        lo, hi = prob.conf(key, delta_stat=1.0)[key]
        assert (hi - lo) / 2 == pytest.approx(sigma, rel=0.03), key
        assert (best - lo) == pytest.approx(sigma, rel=0.1) and (hi - best) == pytest.approx(sigma, rel=0.1)


def test_bootstrap_p_values_are_roughly_uniform_under_the_null(diag):
    """Data drawn from the model itself: the bootstrap p-values (19 simulations each, so
    p ∈ {0.05, 0.10, …, 1}) spread over [0, 1] with mean ≈ 0.525."""
    from nuskybgd.spectral import goodness_of_fit

    prob = two_spectrum_problem(diag)
    prob.resolve()
    base = prob.snapshot()
    rng = np.random.default_rng(5)
    ps = []
    for k in range(40):
        prob.restore(base)
        set_counts(prob, prob.simulate(rng))
        prob.fit()
        ps.append(goodness_of_fit(prob, n_sim=19, seed=100 + k).p_value)
    ps = np.array(ps)
    assert 0.40 < ps.mean() < 0.65, ps
    assert 10 <= np.count_nonzero(ps <= 0.5) <= 30, ps          # Binomial(40, 0.5) ± 3σ
    assert np.count_nonzero(ps <= 0.25) >= 3, ps                 # small p-values do occur


def test_bootstrap_p_value(diag):
    from nuskybgd.spectral import goodness_of_fit

    prob = two_spectrum_problem(diag)
    set_counts(prob, prob.simulate(np.random.default_rng(3)))
    prob.fit()
    good = goodness_of_fit(prob, n_sim=20, seed=1)
    assert 0.05 < good.p_value <= 1 and good.simulated.size == 20
    # data with a line the model lacks must fit badly
    rng = np.random.default_rng(3)
    extra = 1e4 * model_flux("gaussian", EDGES, LineE=30.0, Sigma=0.5, norm=0.02)
    bad_counts = [c + rng.poisson(extra[s.noticed]) for c, s in zip(prob.simulate(rng), prob.spectra,
                                                                       strict=True)]
    set_counts(prob, bad_counts)
    prob.fit()
    bad = goodness_of_fit(prob, n_sim=20, seed=1)
    assert bad.p_value < 0.05
    assert "p-value" in str(bad)


def test_intbgd_layout_matches_xspec_numbering():
    """nuskybgd's intbgd (apec + 29 lorentz): 91 parameters per group, XSPEC component names,
    intbgd:16 = the 19.65 keV line norm (lorentz_5), group 3 offset = 2·91."""
    src = Source("apec + " + " + ".join(["lorentz"] * 29), name="intbgd", number=3, n_groups=3,
                 labels={"lorentz_5": "line_19.65keV"})
    names = [c.name for c in src.components]
    assert names[:4] == ["apec", "lorentz", "lorentz_3", "lorentz_4"] and names[-1] == "lorentz_30"
    assert "lorentz_2" not in names and src.npar == 91
    assert src.par(4).name == "norm" and src.par(4).component == "apec"
    p16 = src.par(16)
    assert (p16.component, p16.name, p16.full_name) == ("lorentz_5", "norm", "intbgd.line_19.65keV.norm")
    assert src.par(2 * 91 + 16) is src.par("line_19.65keV.norm", group=3)
    assert src.par(2 * 91 + 16).xspec_id == "intbgd:198"
    assert src.par(2 * 91 + 16).link.text == "p16"          # XSPEC: new groups start linked to group 1
