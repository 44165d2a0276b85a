"""The config, fit, spec, simplify, combine and image steps: declarations, command lines, results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.cli import main
from nuskybgd.errors import InputError
from nuskybgd.events import Cancelled, ProgressEvent, Reporter, ResultEvent
from nuskybgd.pipeline.plan import observation_plan, step_class
from nuskybgd.pipeline.steps.config import ConfigStep
from nuskybgd.pipeline.steps.fit import RECIPE_PARAMS, FitStep
from nuskybgd.pipeline.steps.spec import SpecStep
from workflow_obs import TRUTH_SCALE, make_bgd_folder


def _with_sources(bgd: Path) -> Path:
    """Use detector 3's background region and spectrum as the 'source' (its truth is known)."""
    for m in "AB":
        shutil.copy(bgd / f"bgd3{m}.reg", bgd / f"src{m}.reg")
        shutil.copy(bgd / f"nu90000001{m}01_bgd3{m}_sr.pha", bgd / f"src{m}.pha")
    return bgd


@pytest.fixture(scope="module")
def bgd(tmp_path_factory) -> Path:
    return _with_sources(make_bgd_folder(tmp_path_factory.mktemp("steps"), ("A", "B"), exposure=1e5, seed=3))


@pytest.fixture(scope="module")
def fitted(bgd):
    cfg = ConfigStep(bgd, mod="A").run(Reporter(lambda e: None)).outputs[0]
    events = []
    res = FitStep(cfg, savefile="fitA", n_sim=5, seed=1).run(Reporter(events.append))
    return cfg, res, events


def test_config_writes_the_module_configuration(bgd, fitted):
    cfg, _, _ = fitted
    assert cfg == bgd / "bgdinfoA.json"
    data = json.loads(cfg.read_text())
    assert data["bgfiles"] == [f"nu90000001A01_bgd{d}A_sr.pha" for d in (0, 1, 3)]
    assert data["regfiles"] == [f"bgd{d}A.reg" for d in (0, 1, 3)]
    assert data["bgddetfiles"] == {"A": [f"det{d}Aim.fits" for d in range(4)]}
    before = cfg.read_bytes()
    assert main(["config", str(bgd), "--mod", "A"]) == 2            # refuses to replace it
    assert cfg.read_bytes() == before


def test_joint_config_ties_fcxb_of_the_same_sky(bgd, tmp_path):
    out = tmp_path / "joint.json"
    res = ConfigStep(bgd, mod="AB", out=out).run(Reporter(lambda e: None))
    # FPMA regions are bgd0,1,3; FPMB bgd0,2,3 — the same boxes on detectors 0 and 3 share the sky
    assert res.values["fcxb_links"] == [[1, 4], [3, 6]]
    assert res.values["modules"] == "AB" and res.values["n_spectra"] == 6


def test_fit_result_event_carries_the_key_numbers(fitted):
    _, res, events = fitted
    results = [e for e in events if isinstance(e, ResultEvent) and "cxb_ratio_A" in e.values]
    assert len(results) == 1
    v = results[0].values
    assert v["statistic"] == "cstat" and v["dof"] > 1000 and 0 < v["p_value"] <= 1 and v["n_sim"] == 5
    # the simulated aperture CXB is 1.2 × the reference level (workflow_obs.TRUTH_SCALE)
    assert v["cxb_ratio_A"] == pytest.approx(TRUTH_SCALE["apbgd"], abs=0.2)
    state = json.loads(res.outputs[2].read_text())
    assert state["report"]["statistic"] == pytest.approx(v["value"])
    assert [p.name for p in res.outputs[:3]] == ["fitA.xcm", "fitA_fit.xcm", "fitA_fit.json"]
    assert any(isinstance(e, ProgressEvent) and "iteration" in e.text for e in events)


def test_recipe_actions_are_declared_parameters(fitted, tmp_path):
    cfg, _, _ = fitted
    declared = {p.name for p in FitStep.params}
    assert set(RECIPE_PARAMS) <= declared
    res = FitStep(cfg, savefile="nosolar", outdir=tmp_path, freeze_fcxb=False, staged=False,
                  thaw="88keV").run(Reporter(lambda e: None))
    recipe = {r["name"]: r for r in json.loads(res.outputs[2].read_text())["report"]["recipe"]}
    assert recipe["solar_off"]["enabled"] and not recipe["freeze_fcxb"]["enabled"]
    assert not recipe["staged"]["enabled"]
    assert recipe["thaw_lines"]["enabled"] and "thaw intbgd:79" in recipe["thaw_lines"]["commands"]
    with pytest.raises(InputError, match="--thaw"):
        FitStep(cfg, thaw="33keV")


def test_fit_cancelled_between_iterations_writes_no_fitted_model(fitted, tmp_path):
    cfg, _, _ = fitted
    rep = Reporter(lambda e: None)
    rep.cancel.cancel()
    with pytest.raises(Cancelled):
        FitStep(cfg, savefile="cancelled", outdir=tmp_path).run(rep)
    assert not (tmp_path / "cancelled_fit.json").exists() and not (tmp_path / "cancelled_fit.xcm").exists()


def test_spec_reports_where_the_background_dominates(bgd, fitted, tmp_path):
    cfg, res, _ = fitted
    events = []
    step = SpecStep(cfg, res.outputs[2], bgd / "srcA.reg", bgd / "srcA.pha", outdir=tmp_path)
    out = step.run(Reporter(events.append))
    assert out.outputs == step.outputs() == [tmp_path / "bgd_srcA.xcm", tmp_path / "bgd_srcA_bk.pha"]
    assert all(p.is_file() for p in out.outputs)
    # the 'source' is pure background: the background dominates from the band's start
    assert out.values["crossover_keV"] == pytest.approx(3.0)
    assert any(isinstance(e, ResultEvent) and e.values.get("crossover_keV") == pytest.approx(3.0) for e in events)
    with fits.open(out.outputs[1]) as h, fits.open(bgd / "srcA.pha") as s:
        model = h[1].data["RATE"].sum() * h[1].header["EXPOSURE"]
        data = s[1].data["COUNTS"].sum()
    assert model == pytest.approx(data, rel=0.03)      # the projected background is the region's counts


def test_spec_takes_comma_lists_and_refuses_unequal_ones(bgd, fitted):
    cfg, res, _ = fitted
    step = SpecStep(cfg, res.outputs[2], f"{bgd / 'srcA.reg'},{bgd / 'bgd1A.reg'}",
                    f"{bgd / 'srcA.pha'},{bgd / 'nu90000001A01_bgd1A_sr.pha'}")
    assert [p.name for p in step.outputs()] == ["bgd_srcA.xcm", "bgd_srcA_bk.pha", "bgd_bgd1A_bk.pha"]
    with pytest.raises(InputError, match="2 source regions and 1 source spectra"):
        SpecStep(cfg, res.outputs[2], f"{bgd / 'srcA.reg'},{bgd / 'bgd1A.reg'}", bgd / "srcA.pha")


def test_command_line_sequence(bgd, tmp_path, capsys):
    work = _with_sources(make_bgd_folder(tmp_path, ("A", "B"), exposure=5e4, seed=5))
    for m in "AB":
        assert main(["config", str(work), "--mod", m]) == 0
        assert main(["fit", str(work / f"bgdinfo{m}.json"), f"savefile=fit{m}"]) == 0
        assert main(["spec", str(work / f"bgdinfo{m}.json"), str(work / f"fit{m}_fit.json"),
                     str(work / f"src{m}.reg"), str(work / f"src{m}.pha")]) == 0
        assert main(["simplify", str(work / f"bgdinfo{m}.json"), str(work / f"bgd_src{m}.xcm")]) == 0
    printed = capsys.readouterr().out
    assert "free parameters" in printed and "background exceeds the source above" in printed
    assert main(["combine", str(work / "bgd_only_srcA.xcm"), str(work / "bgd_only_srcB.xcm"),
                 "--out", str(work / "both.xcm")]) == 0
    text = (work / "both.xcm").read_text()
    assert "data 1:1" in text and "data 2:2" in text
    assert main(["image", str(work / "bgdinfoA.json"), str(work / "fitA_fit.json"), "3", "20"]) == 0
    with fits.open(work / "bgd_total_A.fits") as h:
        total = h[0].data
        assert h[0].header["E_MIN"] == 3.0 and "NSBCALIB" in h[0].header
    parts = sum(fits.getdata(work / f"bgd_{c}_A.fits") for c in ("apbgd", "intbgd", "fcxb", "intn"))
    assert np.allclose(parts, total, rtol=1e-5)


def test_plan_has_the_workflow_steps_in_walkthrough_order(monkeypatch):
    from nuskybgd.pipeline.steps import config

    monkeypatch.setattr(config, "spectra_in_plan", lambda: True)   # as once the regions/spectra steps exist
    plan = observation_plan("90000000002")
    keys = [i.key for i in plan]
    for m in "AB":
        order = [keys.index(f"{s}.{m}") for s in ("projbgd", "config", "fit", "spec", "simplify")]
        assert order == sorted(order)
    assert "fit.AB" not in keys                              # the joint fit is an option
    for inst in plan:
        if inst.stage in ("config", "fit", "spec", "simplify"):
            step = step_class(inst.step)(**inst.params)       # the parameters validate
            assert step.outputs()
    spec = next(i for i in plan if i.key == "spec.B")
    assert spec.params["src_pha"] == ["bgd/nu90000000002B01_srcB_sr.pha"]
