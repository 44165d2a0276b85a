"""fit: recipe actions, staged fit, outputs, report, and recovery of the simulated truth."""

from __future__ import annotations

import json

import pytest

from nuskybgd.calib.builtin import presets
from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.events import Cancelled, CancelToken, Reporter, Silent
from nuskybgd.spectral import read_xcm
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo
from nuskybgd.workflow.fit import fit_background, load_fitted
from nuskybgd.workflow.recipe import Recipe
from nuskybgd.workflow.report import report_text
from workflow_obs import TRUTH_SCALE, make_bgd_folder, region_weights


@pytest.fixture(scope="module")
def obs(tmp_path_factory):
    bgd = make_bgd_folder(tmp_path_factory.mktemp("obs"), modules=("A", "B"), exposure=1e5, seed=3)
    cfg = write_bgdinfo(generate_bgdinfo(bgd, ("A",)), bgd / "bgdinfoA.json")
    joint = write_bgdinfo(generate_bgdinfo(bgd, ("A", "B")), bgd / "bgdinfo.json")
    return bgd, cfg, joint


@pytest.fixture(scope="module")
def fitted(obs):
    bgd, cfg, _ = obs
    return fit_background(cfg, "fitA", n_sim=4, seed=2, recipe=Recipe(thaw_lines=("24keV",)))


def test_no_fit_writes_only_the_starting_point(obs, tmp_path):
    _, cfg, _ = obs
    out = fit_background(cfg, "start", outdir=tmp_path, no_fit=True)
    assert out.start_xcm.is_file() and out.fit_xcm is None
    assert not (tmp_path / "start_fit.xcm").exists()
    text = out.start_xcm.read_text()
    assert "statistic chi" in text
    sess = read_xcm(out.start_xcm)
    intbgd = next(s for s in sess.sources if s.name == "intbgd")
    assert intbgd.par(4).value > 0 and not intbgd.par(4).frozen       # solar apec still in


def test_recipe_defaults_act_as_the_walkthrough(fitted):
    pr = fitted.problem
    assert pr.statistic_name == "cstat"
    for idx in (4, 7, 10, 13):
        p = pr.par(f"intbgd:{idx}")
        assert p.value == 0.0 and p.frozen
    assert all(p.frozen or p.link is not None for p in pr.source("fcxb").parameters)
    # the 24 keV lines were untied and fitted; the 88 keV line still follows the 19.65 keV line
    assert pr.par("intbgd:25").is_free and pr.par("intbgd:28").is_free
    assert pr.par("intbgd:79").link is not None
    names = [s["name"] for s in fitted.report.stages]
    assert names == ["norms", "lines"]
    assert fitted.report.stages[1]["statistic"] <= fitted.report.stages[0]["statistic"] + 1e-6


def test_fit_recovers_the_simulated_truth(fitted):
    pr = fitted.problem
    table = presets()
    ap_preset = 0.002353 / 32 * region_weights("A", 0)[1]      # W of bgd0A (helper geometry)
    ap = pr.par("apbgd:3")
    pull = (ap.value - TRUTH_SCALE["apbgd"] * ap_preset) / ap.error
    assert abs(pull) < 4
    line = pr.par("intbgd.line_19.65keV.norm")
    truth = TRUTH_SCALE["intbgd"] * table["models"][1]["components"]["lorentz_5"]["A"]["ifactors"][0]
    assert abs(line.value - truth) < 4 * line.error
    intn = pr.par("intn:4")
    truth = TRUTH_SCALE["intn"] * 2.26607e-05 * 360 / 599.75
    assert abs(intn.value - truth) < 4 * intn.error


def test_outputs_and_state(fitted):
    assert fitted.fit_xcm.name == "fitA_fit.xcm" and fitted.state_json.name == "fitA_fit.json"
    state = json.loads(fitted.state_json.read_text())
    assert state["xcm"] == fitted.fit_xcm.read_text()
    rep = state["report"]
    assert rep["statistic_name"] == "cstat" and rep["dof"] == fitted.report.dof
    assert {p["name"] for p in rep["parameters"]} >= {"apbgd.cutoffpl.norm", "intbgd.line_19.65keV.norm",
                                                     "intbgd.line_24.75keV.norm", "intn.bknpower.norm"}
    assert all(p["error"] is not None and p["error"] > 0 for p in rep["parameters"])
    assert rep["goodness"]["n_sim"] == 4 and 0 < rep["goodness"]["p_value"] <= 1
    assert rep["cxb"][0]["ratio"] == pytest.approx(TRUTH_SCALE["apbgd"], rel=0.25)
    assert len(rep["spectra"]) == 3 and len(rep["spectra"][0]["bands"]) == 4
    text = report_text(fitted.report)
    assert "intbgd.line_19.65keV.norm" in text and "aperture CXB FPMA" in text


def test_fitted_xcm_reimports_to_the_same_statistic(fitted):
    for path in (fitted.fit_xcm, fitted.state_json):
        again = load_fitted(path).build()
        assert again.statistic_name == "cstat"
        assert again.statistic() == pytest.approx(fitted.report.statistic, rel=1e-6)


def test_existing_outputs_are_refused_and_nothing_is_written(obs, fitted):
    _, cfg, _ = obs
    before = fitted.fit_xcm.read_text()
    with pytest.raises(OutputExistsError):
        fit_background(cfg, "fitA")
    assert fitted.fit_xcm.read_text() == before
    assert fit_background(cfg, "fitA.xcm", overwrite=True).fit_xcm == fitted.fit_xcm


def test_intn_rescale_does_not_move_the_optimum(obs, tmp_path):
    _, cfg, _ = obs
    a = fit_background(cfg, "keep", outdir=tmp_path)
    b = fit_background(cfg, "resc", outdir=tmp_path, recipe=Recipe(intn_rescale=1e-4))
    assert b.report.recipe[3]["commands"] == ["newpar intn:4 0.0001"]
    assert b.report.statistic == pytest.approx(a.report.statistic, abs=1e-3)
    for pid in ("intn:4", "apbgd:3", "intbgd:16"):
        pa, pb = a.problem.par(pid), b.problem.par(pid)
        assert abs(pa.value - pb.value) < 0.01 * pa.error


def test_joint_fit_has_two_references(obs, tmp_path):
    _, _, joint = obs
    out = fit_background(joint, "joint", outdir=tmp_path)
    pr = out.problem
    assert [c["module"] for c in out.report.cxb] == ["A", "B"]
    for idx in (4 + 91 * 3, 7 + 91 * 3):                        # FPMB reference is spectrum 4
        assert pr.par(f"intbgd:{idx}").value == 0.0 and pr.par(f"intbgd:{idx}").frozen
    assert pr.par("intn:16").is_free and pr.par("apbgd:12").is_free


def test_progress_and_cancel(obs, tmp_path):
    _, cfg, _ = obs
    rep = Silent()
    fit_background(cfg, "prog", outdir=tmp_path, reporter=rep)
    kinds = [e.kind for e in rep.events]
    assert "progress" in kinds and "output" in kinds and "result" in kinds
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        fit_background(cfg, "cancelled", outdir=tmp_path, reporter=Reporter(lambda e: None, token))
    assert not (tmp_path / "cancelled_fit.xcm").exists()


def test_bad_recipe_options():
    with pytest.raises(InputError, match="lorentz_8"):
        Recipe(thaw_lines=("lorentz_12",))
    with pytest.raises(InputError, match="cstat or chi"):
        Recipe(statistic="wstat")
    assert Recipe.from_dict(Recipe(thaw_lines=("88keV",)).to_dict()).thaw_lines == ("lorentz_26",)


def test_fitted_state_must_be_ours(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(InputError, match="not a nuskybgd fit state"):
        load_fitted(bad)


def test_rich_report_renders_every_free_parameter(fitted):
    from rich.console import Console

    from nuskybgd.workflow.report import report_renderable

    console = Console(record=True, width=160)
    console.print(report_renderable(fitted.report))
    text = console.export_text()
    for p in fitted.report.parameters:
        assert p["name"] in text
    assert "aperture CXB FPMA" in text and "free parameters" in text
