"""bgdinfo.json: generation, round trip, path resolution and one-sentence errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.workflow.config import generate_bgdinfo, load_bgdinfo, write_bgdinfo
from nuskybgd.workflow.geometry_weights import spectrum_weights
from workflow_obs import make_bgd_folder, region_weights


@pytest.fixture(scope="module")
def bgd(tmp_path_factory):
    return make_bgd_folder(tmp_path_factory.mktemp("obs"), modules=("A", "B"), exposure=2e4)


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def _base(bgd):
    info = generate_bgdinfo(bgd, ("A",))
    return info.to_json()


def test_generated_config_round_trips_and_resolves_against_its_folder(bgd, tmp_path, monkeypatch):
    info = generate_bgdinfo(bgd, ("A",))
    assert info.path.name == "bgdinfoA.json"
    path = write_bgdinfo(info, tmp_path / "bgdinfoA.json")   # elsewhere: absolute paths are kept
    monkeypatch.chdir(tmp_path)
    loaded = load_bgdinfo(path)
    assert [p.name for p in loaded.bgfiles] == [f"nu90000001A01_bgd{d}A_sr.pha" for d in (0, 1, 3)]
    assert [p.name for p in loaded.regfiles] == ["bgd0A.reg", "bgd1A.reg", "bgd3A.reg"]
    assert loaded.modules == ["A", "A", "A"] and loaded.fix_line_ratios is True
    # written in bgd/: names are relative and resolve against the JSON folder, not the cwd
    rel = write_bgdinfo(generate_bgdinfo(bgd, ("A",)), bgd / "bgdinfoA.json", overwrite=True)
    raw = json.loads(rel.read_text())
    assert raw["bgfiles"][0] == "nu90000001A01_bgd0A_sr.pha"
    assert load_bgdinfo(rel).bgfiles[0] == bgd / "nu90000001A01_bgd0A_sr.pha"


def test_two_module_config_and_references(bgd, tmp_path):
    info = generate_bgdinfo(bgd, ("A", "B"))
    path = write_bgdinfo(info, tmp_path / "bgdinfo.json")
    loaded = load_bgdinfo(path)
    assert info.path.name == "bgdinfo.json"
    assert loaded.modules == ["A"] * 3 + ["B"] * 3
    assert loaded.reference("A") == 0 and loaded.reference("B") == 3


def test_existing_config_is_not_replaced(bgd, tmp_path):
    path = write_bgdinfo(generate_bgdinfo(bgd), tmp_path / "c.json")
    with pytest.raises(OutputExistsError):
        write_bgdinfo(generate_bgdinfo(bgd), path)


def test_extras_and_original_keys_are_kept(bgd, tmp_path):
    raw = _base(bgd)
    raw["comment"] = "my fit"
    raw["fcxb_config"] = {"links": [[1, 2]]}
    raw["intbgd_fix_line_ratios"] = False
    info = load_bgdinfo(_write(bgd / "extras.json", raw))
    assert info.extras == {"comment": "my fit"} and info.fcxb_links == [(1, 2)]
    assert info.fix_line_ratios is False
    again = load_bgdinfo(write_bgdinfo(info, tmp_path / "x.json"))
    assert again.extras == {"comment": "my fit"} and again.fcxb_links == [(1, 2)]


@pytest.mark.parametrize("edit, words", [
    (lambda r: r.pop("refimgf"), ["lacks the key", "refimgf"]),
    (lambda r: r["regfiles"].pop(), ["3 bgfiles but 2 regfiles"]),
    (lambda r: r["bgfiles"].__setitem__(1, "nope.pha"), ["nope.pha", "does not exist"]),
    (lambda r: r["bgddetfiles"]["A"].__setitem__(2, "gone.fits"), ["gone.fits", "does not exist"]),
    (lambda r: r.pop("bgdapfiles") and r.__setitem__("bgdapfiles", {"B": "bgdapB.fits"}),
     ["FPMA spectra", "bgdapfiles"]),
    (lambda r: r.__setitem__("fcxb_config", {"links": [[1, 7]]}), ["fcxb link [1, 7]"]),
    (lambda r: r["bgddetfiles"].__setitem__("A", ["det0Aim.fits"]), ["lists 1 images"]),
])
def test_bad_configs_give_one_sentence(bgd, edit, words):
    raw = _base(bgd)
    edit(raw)
    with pytest.raises(InputError) as e:
        load_bgdinfo(_write(bgd / "bad.json", raw))
    msg = str(e.value)
    assert all(w in msg for w in words), msg
    assert "\n" not in msg and msg.count(". ") == 0


def test_invalid_json_is_reported(bgd):
    path = bgd / "comma.json"
    path.write_text('{"bgdapfiles": {"A": "bgdapA.fits",}}')
    with pytest.raises(InputError, match="not valid JSON"):
        load_bgdinfo(path)


def test_instrume_must_be_fpma_or_fpmb(bgd):
    src = bgd / "nu90000001A01_bgd0A_sr.pha"
    bad = bgd / "nu90000001A01_bgd9X_sr.pha"
    with fits.open(src) as h:
        h["SPECTRUM"].header["INSTRUME"] = "FPMC"
        h.writeto(bad)
    raw = _base(bgd)
    raw["bgfiles"][0] = bad.name
    with pytest.raises(InputError, match="INSTRUME 'FPMC', not FPMA or FPMB"):
        load_bgdinfo(_write(bgd / "instr.json", raw))


def test_region_missing_every_detector_names_region_and_spectrum(bgd):
    off = bgd / "offchip.reg"
    off.write_text("image\nbox(32.5,32.5,1.5,1.5,0)\n")      # the central gap between detectors
    raw = _base(bgd)
    raw["regfiles"][1] = off.name
    info = load_bgdinfo(_write(bgd / "gap.json", raw))
    with pytest.raises(InputError) as e:
        spectrum_weights(info)
    assert "offchip.reg" in str(e.value) and "nu90000001A01_bgd1A_sr.pha" in str(e.value)


def test_weights_from_real_region_files_and_images(bgd):
    info = load_bgdinfo(write_bgdinfo(generate_bgdinfo(bgd, ("A", "B")), bgd / "w.json"))
    got = spectrum_weights(info)
    for w, m, d in zip(got, info.modules, [0, 1, 3, 0, 2, 3], strict=True):
        areas, ap = region_weights(m, d)
        np.testing.assert_allclose(w.det_area, areas, rtol=1e-12)
        assert w.aperture == pytest.approx(ap, rel=1e-12)


def test_generation_needs_projbgd_images_and_spectra(tmp_path):
    with pytest.raises(InputError, match="run projbgd"):
        generate_bgdinfo(tmp_path, ("A",))


def test_joint_configuration_ties_fcxb_of_the_same_sky(bgd, tmp_path):
    # the helper's A and B regions on detectors 0 and 3 are the same sky boxes; B's 2 is not in A
    info = generate_bgdinfo(bgd, ("A", "B"))
    assert info.fcxb_links == [(1, 4), (3, 6)]
    assert generate_bgdinfo(bgd, ("A", "B"), tie_fcxb_by_sky=False).fcxb_links == []
    assert generate_bgdinfo(bgd, ("A",)).fcxb_links == []


def test_make_config_writes_and_reports(bgd, tmp_path):
    from nuskybgd.events import Silent
    from nuskybgd.workflow.config import make_config

    rep = Silent()
    path = make_config(bgd, ("B",), out=bgd / "bgdinfoB.json", reporter=rep)
    assert load_bgdinfo(path).modules == ["B", "B", "B"]
    assert [e.path for e in rep.events if e.kind == "output"] == [path]
    with pytest.raises(OutputExistsError):
        make_config(bgd, ("B",), out=path)
