"""Expected counts from the simulator's truth agree with the events it wrote.

The events are counted here, independently, from the event list (sky X/Y in a mask, PI in the
band's channels); the expectation comes from truth.json's named parameters and the aspect.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nuskybgd.energy import band_to_pi
from nuskybgd.errors import InputError
from nuskybgd.io.events import read_events
from nuskybgd.simulate import simulate_observation
from nuskybgd.simulate.expected import expected_counts

SEQ = "90000000011"
PIX_ARCSEC = 2.45810736
BANDS = [(3.0, 20.0), (20.0, 50.0), (3.0, 79.0)]


def _masks() -> dict[str, np.ndarray]:
    j, i = np.mgrid[0:1000, 0:1000]
    r = np.hypot(i + 1 - 500.5, j + 1 - 500.5) * PIX_ARCSEC
    x, y = i + 1, j + 1
    return {
        "source circle 60″": r <= 60.0,
        "annulus 2.5′–5′": (r > 150.0) & (r <= 300.0),
        "box off-axis": (x > 380) & (x < 470) & (y > 520) & (y < 640),
        "half plane": x > 560,
    }


def _count(ev, mask: np.ndarray, band: tuple[float, float]) -> int:
    lo, hi = band_to_pi(*band)
    x, y, pi = ev["X"], ev["Y"], ev["PI"]
    on = (x >= 1) & (x <= 1000) & (y >= 1) & (y <= 1000)
    sel = np.zeros(x.size, bool)
    sel[on] = mask[y[on] - 1, x[on] - 1]
    return int(np.count_nonzero(sel & (pi >= lo) & (pi <= hi)))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulate_observation(tmp_path_factory.mktemp("exp"), seqid=SEQ, exposure=100e3,
                                seed=11, source="point")


@pytest.fixture(scope="module")
def sim_apbgd(tmp_path_factory):
    """Only the aperture component (the one with a non-flat shape), FPMA."""
    return simulate_observation(tmp_path_factory.mktemp("exp_ap"), seqid=SEQ, exposure=200e3,
                                seed=12, source="none", modules=("A",), components=("apbgd",))


def test_expected_counts_match_the_events_in_regions_and_bands(sim):
    zs = []
    for m, bands in (("A", BANDS), ("B", BANDS[2:])):
        ev = read_events(sim.modules[m].event_file)
        for band in bands:
            for name, mask in _masks().items():
                e = expected_counts(sim.truth_file, m, mask, band)
                mu = e["total_background"] + e["source"]
                n = _count(ev, mask, band)
                z = (n - mu) / np.sqrt(mu)
                assert abs(z) < 4.0, (m, band, name, n, mu)
                zs.append(z)
    # the pulls scatter like a Poisson sample: no bias, unit width (16 regions × bands)
    assert abs(np.mean(zs)) < 0.7
    assert 0.35 < np.std(zs) < 1.7


def test_expected_counts_resolve_source_and_background(sim):
    e_src = expected_counts(sim.truth_file, "A", _masks()["source circle 60″"], (3.0, 20.0))
    e_ann = expected_counts(sim.truth_file, "A", _masks()["annulus 2.5′–5′"], (20.0, 50.0))
    assert e_src["source"] > 10 * e_src["total_background"]  # the source dominates its circle
    assert e_ann["source"] < 0.02 * e_ann["total_background"]  # hard band: the wings are faint
    for e in (e_src, e_ann):
        assert e["total_background"] == pytest.approx(
            e["apbgd"] + e["intbgd"] + e["fcxb"] + e["intn"], rel=1e-12)
        assert all(e[c] > 0 for c in ("apbgd", "intbgd", "fcxb", "intn", "source"))


def test_whole_grid_equals_the_per_detector_truth(sim):
    """Over the whole sky grid each component's expectation is the sum of the simulator's own
    per-detector 3–79 keV expectations (which it computed from the detector weights)."""
    truth = json.loads(sim.truth_file.read_text())
    e = expected_counts(truth, "B", np.ones((1000, 1000), bool), (3.0, 79.0),
                        obs_dir=sim.truth_file.parent)
    mt = truth["modules"]["B"]["components"]
    for c in ("apbgd", "intbgd", "fcxb", "intn"):
        want = sum(mt[c]["per_detector"][str(d)]["expected_counts_3to79keV"] for d in range(4))
        assert e[c] == pytest.approx(want, rel=1e-6)


def test_aperture_component_alone_follows_its_shape(sim_apbgd):
    ev = read_events(sim_apbgd.modules["A"].event_file)
    j, i = np.mgrid[0:1000, 0:1000]
    for band in ((3.0, 20.0), (5.0, 79.0)):
        for half in (i < 500, i >= 500, j < 480):  # the aperture gradient across the field
            e = expected_counts(sim_apbgd.truth_file, "A", half, band)
            assert e["intbgd"] == e["fcxb"] == e["intn"] == e["source"] == 0.0
            n = _count(ev, half, band)
            assert abs(n - e["apbgd"]) < 4 * np.sqrt(e["apbgd"]), (band, n, e["apbgd"])


def test_truth_records_parameters_by_project_names(sim):
    from nuskybgd.spectral.parameters import Parameter

    truth = json.loads(sim.truth_file.read_text())
    mt = truth["modules"]["A"]
    p = Parameter("norm", "", 1.0, 0.01, 0, 0, 1, 1, source="intbgd", component="lorentz_5",
                  label="line_19.65keV")
    for d in range(4):
        named = mt["parameters"]["detectors"][str(d)]
        xspec = mt["fit_parameters"][str(d)]
        assert named[p.full_name] == xspec["intbgd.lorentz_5.norm"] > 0
        assert named["intbgd.line_19.65keV.LineE"] == pytest.approx(19.65, abs=0.005)
        for k in ("apbgd.cutoffpl.norm", "fcxb.cutoffpl.norm", "intn.bknpower.norm"):
            assert named[k] == xspec[k] > 0
    assert mt["parameters"]["source"] == {"source.powerlaw.PhoIndex": 1.8,
                                          "source.powerlaw.norm": 2.0e-3}


def test_bad_requests_are_one_sentence_input_errors(sim, tmp_path):
    mask = np.ones((1000, 1000), bool)
    with pytest.raises(InputError, match="not a NuSTAR module"):
        expected_counts(sim.truth_file, "C", mask, (3.0, 79.0))
    with pytest.raises(InputError, match="1000×1000"):
        expected_counts(sim.truth_file, "A", mask[:500], (3.0, 79.0))
    with pytest.raises(InputError, match="obs_dir"):
        expected_counts(json.loads(sim.truth_file.read_text()), "A", mask, (3.0, 79.0))
    with pytest.raises(InputError, match="cannot read"):
        expected_counts(tmp_path / "missing.json", "A", mask, (3.0, 79.0))
    one = simulate_observation(tmp_path, seqid=SEQ, exposure=2e3, seed=1, source="cluster",
                               modules=("B",))
    with pytest.raises(InputError, match="no module A"):
        expected_counts(one.truth_file, "A", mask, (3.0, 79.0))
    with pytest.raises(InputError, match="cluster"):
        expected_counts(one.truth_file, "B", mask, (3.0, 79.0))
