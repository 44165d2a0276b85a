"""views.fit_view / views.spec_view: the plain data the wizard draws for the fit and spec stages."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.errors import InputError
from nuskybgd.events import Reporter
from nuskybgd.pipeline import views
from nuskybgd.pipeline.steps.config import ConfigStep
from nuskybgd.pipeline.steps.fit import FitStep
from nuskybgd.pipeline.steps.spec import SpecStep
from nuskybgd.workflow.plotdata import display_groups
from workflow_obs import make_bgd_folder

QUIET = Reporter(lambda e: None)


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    bgd = make_bgd_folder(tmp_path_factory.mktemp("views"), ("A",), exposure=1e5, seed=7)
    shutil.copy(bgd / "bgd1A.reg", bgd / "srcA.reg")
    shutil.copy(bgd / "nu90000001A01_bgd1A_sr.pha", bgd / "srcA.pha")
    cfg = ConfigStep(bgd, mod="A").run(QUIET).outputs[0]
    state = FitStep(cfg, savefile="fitA", n_sim=5, seed=2).run(QUIET).outputs[2]
    spec = SpecStep(cfg, state, bgd / "srcA.reg", bgd / "srcA.pha").run(QUIET)
    return bgd, cfg, state, spec.outputs[0]


def _band_counts(pha, lo_kev=3.0, hi_kev=150.0):
    """Counts of the channels inside the fit band, read straight from the file (PI→keV rule)."""
    with fits.open(pha) as h:
        ch, counts = h[1].data["CHANNEL"], h[1].data["COUNTS"]
    e_lo, e_hi = 1.6 + 0.04 * ch, 1.6 + 0.04 * (ch + 1)
    sel = (e_lo >= lo_kev - 1e-9) & (e_hi <= hi_kev + 1e-9)
    return float(counts[sel].sum())


def test_fit_view_spectra_hold_the_data_and_the_model(products):
    bgd, _, state, _ = products
    view = views.fit_view(state=state)
    assert [s.name for s in view.spectra] == [f"nu90000001A01_bgd{d}A_sr.pha" for d in (0, 1, 3)]
    for s in view.spectra:
        exposure = 1e5
        data = float(np.sum(s.rate * s.width * exposure))
        assert data == pytest.approx(_band_counts(bgd / s.name), rel=2e-3)
        assert np.all(np.diff(s.energy) > 0) and s.energy[0] > 3.0 and s.energy[-1] < 150.0
        assert set(s.components) == {"apbgd", "intbgd", "fcxb", "intn"}
        assert np.allclose(sum(s.components.values()), s.model, rtol=1e-9)
        # a good fit: the model holds the counts and the residuals scatter by ~1σ around 0
        assert float(np.sum(s.model * s.width * exposure)) == pytest.approx(data, rel=0.02)
        assert abs(np.mean(s.residual)) < 0.2 and 0.7 < np.std(s.residual) < 1.3


def test_fit_view_tables(products):
    _, _, state, _ = products
    view = views.fit_view(state=state)
    st = view.statistics
    assert st["statistic"] == "cstat" and 0 < st["p_value"] <= 1 and st["n_sim"] == 5
    assert [r["region"] for r in st["rows"]] == ["bgd0A.reg", "bgd1A.reg", "bgd3A.reg"]
    assert sum(r["statistic"] for r in st["rows"]) == pytest.approx(st["value"], rel=1e-6)
    assert sum(r["fraction"] for r in st["rows"]) == pytest.approx(1.0)
    params = {p["id"]: p for p in view.parameters}
    line = params["intbgd:16"]
    assert line["name"] == "intbgd.line_19.65keV.norm" and line["status"] == "free" and line["error"] > 0
    assert params["fcxb:3"]["status"] == "frozen"                 # the recipe froze the focused CXB
    assert params["intbgd:4"]["status"] == "frozen" and params["intbgd:4"]["value"] == 0.0   # solar off
    assert any(p["status"] == "linked" and p["link"] for p in view.parameters)
    assert all(p["error"] is None for p in view.parameters if p["status"] != "free")
    # the --thaw choices name the norms of the walkthrough's 24 keV pair and 88 keV line
    thawed = {c: {p["name"].split("@")[0] for p in view.parameters if p["thaw"] == c}
              for c in ("24keV", "88keV")}
    assert thawed == {"24keV": {"intbgd.line_24.75keV.norm", "intbgd.line_25.30keV.norm"},
                      "88keV": {"intbgd.line_87.90keV.norm"}}
    recipe = {r["name"]: r for r in view.recipe}
    assert list(recipe) == ["statistic", "solar_off", "freeze_fcxb", "intn_rescale", "thaw_lines", "staged"]
    assert recipe["solar_off"]["enabled"] and not recipe["intn_rescale"]["enabled"]
    assert all(r["description"] for r in view.recipe)


def test_spec_view_of_a_background_region(products):
    bgd, cfg, _, xcm = products
    (src,) = views.spec_view(config=cfg, projected=xcm).sources
    assert src.name == "srcA.pha"
    # the 'source' is detector 1's background region: no net source, the background dominates from 3 keV
    assert src.crossover_keV == pytest.approx(3.0)
    assert np.sum(src.background * src.width) == pytest.approx(np.sum(src.source * src.width), rel=0.03)
    assert np.allclose(sum(src.components.values()), src.background)


def test_views_refuse_what_is_not_theirs(products, tmp_path):
    bgd, cfg, state, _ = products
    with pytest.raises(InputError, match="not a nuskybgd fit state"):
        views.fit_view(state=cfg)
    with pytest.raises(InputError, match="no source spectrum"):
        views.spec_view(config=cfg, projected=bgd / "fitA_fit.xcm")


def test_display_groups():
    counts = np.array([5, 5, 5, 5, 30, 0, 0, 12, 9, 1])
    gid = display_groups(counts, 10)
    sums = np.bincount(gid, weights=counts)
    assert np.all(sums[:-1] >= 10) and sums.sum() == counts.sum()
    assert np.all(np.diff(gid) >= 0)
    assert np.array_equal(display_groups(counts, 0), np.arange(10))
