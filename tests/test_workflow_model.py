"""The starting model: sources, responses, ties, and the .xcm the original's `fit` writes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.calib import resolve
from nuskybgd.errors import ModelError, OutputExistsError
from nuskybgd.io.ogip import write_arf
from nuskybgd.spectral import export_xcm, read_xcm
from nuskybgd.workflow.config import generate_bgdinfo, load_bgdinfo, write_bgdinfo
from nuskybgd.workflow.geometry_weights import spectrum_weights
from nuskybgd.workflow.model import build_problem, write_calibration_files
from workflow_obs import make_bgd_folder


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    bgd = make_bgd_folder(tmp_path_factory.mktemp("obs"), modules=("A",), exposure=2e4)
    info = load_bgdinfo(write_bgdinfo(generate_bgdinfo(bgd), bgd / "bgdinfoA.json"))
    cal = resolve("A", prefer="builtin")
    files = write_calibration_files({"A": cal}, bgd)
    problem = build_problem(info, spectrum_weights(info), cal.presets(), files, bgd)
    return bgd, info, cal, files, problem


def test_calibration_files_exist_stamped_and_are_reused(setup):
    bgd, info, cal, files, _ = setup
    assert sorted(p.name for p in files.values()) == ["be.arf", "diag.rmf", "fcxbA.arf"]
    for p in files.values():
        with fits.open(p) as h:
            assert h[1].header["NSBCALIB"] == "BUILTIN"
    again = write_calibration_files({"A": cal}, bgd)      # identical content: reused, no error
    assert again == files


def test_a_different_calibration_file_is_not_replaced(tmp_path):
    cal = resolve("A", prefer="builtin")
    arf = cal.be_transmission()
    write_arf(replace(arf, specresp=arf.specresp * 0.5), tmp_path / "be.arf")
    with pytest.raises(OutputExistsError):
        write_calibration_files({"A": cal}, tmp_path)


def test_sources_responses_and_ties(setup):
    _, info, _, _, pr = setup
    assert [(s.number, s.name, s.npar) for s in pr.sources] == [
        (2, "apbgd", 3), (3, "intbgd", 91), (4, "fcxb", 3), (5, "intn", 4)]
    sp1 = pr.spectra[0]
    assert sp1.responses[2].arf_path == "be.arf" and sp1.responses[3].arf is None
    assert sp1.responses[4].arf_path == "fcxbA.arf" and sp1.responses[5].rmf_path == "diag.rmf"
    free = {p.xspec_id for p in pr.free_parameters()}
    # module reference: apbgd norm, apec + 4 line norms, intn norm; fcxb free in every spectrum
    assert free == {"apbgd:3", "intbgd:4", "intbgd:7", "intbgd:10", "intbgd:13", "intbgd:16",
                    "fcxb:3", "fcxb:6", "fcxb:9", "intn:4"}
    assert pr.par("intbgd.line_19.65keV.norm").xspec_id == "intbgd:16"
    # ARCHITECTURE's short names for one-component sources; intbgd has 30 components
    assert pr.par("apbgd.norm") is pr.par("apbgd.cutoffpl.norm") is pr.par("apbgd:3")
    assert pr.par("intn.norm@1").xspec_id == "intn:4"
    with pytest.raises(ModelError, match="intbgd has 30 components"):
        pr.par("intbgd.norm")
    assert pr.par("intbgd:19").link.text.replace(" ", "").endswith("*intbgd:16")
    # chained: spectrum 2's 21.89 keV line follows spectrum 1's, which follows the 19.65 keV line
    ratio = pr.par("intbgd:19").value / pr.par("intbgd:16").value
    assert pr.par("intbgd:110").value == pytest.approx(
        float(pr.par("intbgd:110").link.text.split("*")[0]) * ratio * pr.par("intbgd:16").value, rel=1e-9)
    assert pr.spectra[0].n_noticed == 3675


def test_starting_xcm_reimports_to_the_same_model(setup, tmp_path):
    bgd, _, _, _, pr = setup
    text = export_xcm(pr, bgd / "start.xcm")
    for s in (1, 2, 3):
        assert f"data {s}:{s} nu90000001A01_bgd" in text and f"backgrnd {s} none" in text
        assert f"response 5:{s} diag.rmf" in text and f"arf 4:{s} fcxbA.arf" in text
    assert text.count("model  ") == 4 and "statistic chi" in text
    again = read_xcm(bgd / "start.xcm").build()
    a = {p.xspec_id: p for p in pr.parameters}
    b = {p.xspec_id: p for p in again.parameters}
    assert a.keys() == b.keys()
    for k, p in a.items():
        q = b[k]
        assert q.frozen == p.frozen and (q.link is None) == (p.link is None), k
        assert q.value == pytest.approx(p.value, rel=1e-12, abs=0), k
    # solar components are present and free in the starting file (the recipe acts later)
    assert not b["intbgd:4"].frozen and b["intbgd:4"].value > 0
    for problem in (pr, again):          # apec needs atomic data unless zeroed (the recipe's job)
        problem.set("intbgd:4", 0.0, frozen=True)
    assert again.statistic() == pytest.approx(pr.statistic(), rel=1e-9)
    assert np.isfinite(again.statistic())
