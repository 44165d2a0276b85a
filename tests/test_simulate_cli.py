"""Simulator: reproducibility, the command line (simulate, demo), refusals, and the CALDB tree."""

from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.cli import main
from nuskybgd.simulate import output_paths, simulate_observation

SEQ = "90000000002"


def _run(out, seed):
    return simulate_observation(out, seqid=SEQ, exposure=2e3, seed=seed, modules=("A",))


def test_same_seed_identical_files_different_seed_different_events(tmp_path):
    a, b, c = _run(tmp_path / "a", 4), _run(tmp_path / "b", 4), _run(tmp_path / "c", 5)
    for pa, pb in zip(a.outputs, b.outputs, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    ta = fits.getdata(a.modules["A"].event_file, "EVENTS")["TIME"]
    tc = fits.getdata(c.modules["A"].event_file, "EVENTS")["TIME"]
    assert ta.size != tc.size or not np.array_equal(ta, tc)
    assert a.modules["A"].event_file.read_bytes() != c.modules["A"].event_file.read_bytes()


def test_cli_simulate_writes_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", str(out), "--exposure", "2000", "--modules", "A", "--seed", "2"]) == 0
    stdout = capsys.readouterr().out
    assert "events" in stdout and "truth" in stdout
    paths = output_paths(out, SEQ, ("A",))
    assert all(p.is_file() for p in paths)
    before = paths[0].read_bytes()
    assert main(["simulate", str(out), "--exposure", "2000", "--modules", "A", "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    assert paths[0].read_bytes() == before
    # original key=value syntax: clobber=yes replaces
    assert main(["simulate", str(out), "exposure=2000", "modules=A", "seed=3", "clobber=yes"]) == 0
    assert paths[0].read_bytes() != before


@pytest.mark.parametrize("argv, words", [
    (["--exposure", "-5"], "exposure"),
    (["--exposure", "nan"], "exposure"),
    (["--seqid", "123"], "seqid"),
    (["--source", "quasar"], "source 'quasar'"),
    (["--calibration", "xyz"], "calibration 'xyz'"),
    (["--seed", "-1"], "seed"),
    (["--modules", "C"], "--modules"),
])
def test_cli_simulate_rejects_bad_values_in_one_sentence(tmp_path, capsys, argv, words):
    assert main(["simulate", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()  # nothing written


@pytest.mark.parametrize("which", ["caldb", "auxil"])
def test_cli_simulate_refuses_a_missing_requested_calibration(tmp_path, capsys, monkeypatch, which):
    """--calibration caldb|auxil with nothing installed is refused (no silent built-in fallback)."""
    monkeypatch.delenv("CALDB", raising=False)
    monkeypatch.delenv("NUSKYBGD_AUXIL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["simulate", str(tmp_path / "x"), "--calibration", which, "--exposure", "500"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"--calibration {which}" in err and "--calibration nominal" in err
    assert not (tmp_path / "x").exists()


def test_cli_simulate_refuses_an_existing_caldb_tree_before_writing(tmp_path, capsys):
    idx = tmp_path / "cal" / "data" / "nustar" / "fpm" / "caldb.indx"
    idx.parent.mkdir(parents=True)
    idx.write_bytes(b"keep")
    assert main(["simulate", str(tmp_path / "x"), "--exposure", "500",
                 "--caldb-tree", str(tmp_path / "cal")]) == 2
    err = capsys.readouterr().err
    assert "caldb.indx already exists" in err and "Traceback" not in err
    assert idx.read_bytes() == b"keep" and not (tmp_path / "x").exists()


def test_auxil_calibration_is_used_end_to_end(tmp_path, monkeypatch):
    """--calibration auxil with NUSKYBGD_AUXIL pointing at the real auxiliary files."""
    from conftest import shared_path

    aux = shared_path("nuskybgd-auxil")
    monkeypatch.delenv("CALDB", raising=False)
    monkeypatch.setenv("NUSKYBGD_AUXIL", str(aux))
    res = simulate_observation(tmp_path / "sim", seqid=SEQ, exposure=2e3, seed=1,
                               modules=("A",), calibration="auxil", source="none")
    truth = json.loads(res.truth_file.read_text())
    assert "AUXIL" in truth["calibration"]["A"]["source"]
    assert str(aux) in truth["calibration"]["A"]["detail"]
    assert "AUXIL" in fits.getheader(res.modules["A"].event_file, "EVENTS")["NSBCALIB"]
    # the auxil apbgd template (detA_det1.img) differs from the built-in one
    nom = simulate_observation(tmp_path / "nom", seqid=SEQ, exposure=2e3, seed=1,
                               modules=("A",), calibration="nominal", source="none")
    tn = json.loads(nom.truth_file.read_text())
    wa = truth["modules"]["A"]["components"]["apbgd"]["per_detector"]["0"]["W"]
    wn = tn["modules"]["A"]["components"]["apbgd"]["per_detector"]["0"]["W"]
    assert wa != wn


def test_demo_prints_where_and_what_next(tmp_path, capsys, monkeypatch):
    import nuskybgd.commands.demo as demo

    monkeypatch.setattr(demo, "DEMO_EXPOSURE", 2000.0)  # the real demo is 100 ks
    assert main(["demo", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    ev = tmp_path / "demo" / SEQ / "event_cl"
    assert str(ev) in out and "aspecthist" in out and "projbgd" in out
    assert (ev / f"nu{SEQ}A01_cl.evt").is_file() and (ev / f"nu{SEQ}B01_cl.evt").is_file()
    truth = json.loads((tmp_path / "demo" / SEQ / "truth.json").read_text())
    assert truth["modules"]["A"]["source"]["kind"] == "point"


def test_caldb_tree_runs_the_caldb_code_path(tmp_path, monkeypatch):
    from nuskybgd.calib import resolve

    tree = tmp_path / "caldb"
    res = simulate_observation(tmp_path / "sim", seqid=SEQ, exposure=2e3, seed=1,
                               caldb_tree=tree)
    assert (tree / "data/nustar/fpm/caldb.indx").is_file()
    date = fits.getheader(res.modules["A"].event_file, "EVENTS")["DATE-OBS"]
    for m in "AB":
        cal = resolve(m, date_obs=date, caldb=tree)
        src = {i.item: i.source for i in cal.items()}
        for item in ("pixel_map", "active_area", "rmf", "detabs", "be_transmission", "onaxis_arf",
                     "aperture_image"):
            assert src[item] == "CALDB", item
        nom = resolve(m, prefer="builtin")
        for d in range(4):
            diff = abs(cal.rmf(d).matrix - nom.rmf(d).matrix)
            assert diff.max() < 1e-6
        pc, pn = cal.pixel_map(), nom.pixel_map()
        assert np.array_equal(pc.det, pn.det) and np.array_equal(pc.rawx, pn.rawx)
        assert np.array_equal(pc.rawy, pn.rawy)
        np.testing.assert_allclose(cal.onaxis_arf().specresp, nom.onaxis_arf().specresp, rtol=1e-6)
    # and the simulator itself runs on it
    monkeypatch.setenv("CALDB", str(tree))
    res2 = simulate_observation(tmp_path / "sim2", seqid=SEQ, exposure=2e3, seed=1,
                                modules=("A",), calibration="caldb")
    truth = json.loads(res2.truth_file.read_text())
    assert "CALDB" in truth["calibration"]["A"]["source"]
    # the tree reproduces the calibration it was written from: same expected background
    t_nom = json.loads(res.truth_file.read_text())["modules"]["A"]["expected_counts"]
    for d in range(4):
        for comp in ("apbgd", "intbgd", "fcxb", "intn"):
            assert truth["modules"]["A"]["expected_counts"][str(d)][comp] == pytest.approx(
                t_nom[str(d)][comp], rel=1e-3), (d, comp)
    assert fits.getheader(res2.modules["A"].event_file, "EVENTS")["NSBCALIB"].startswith("CALDB")
