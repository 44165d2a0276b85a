"""combine: several simplified files into one fit with a shared source model."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from nuskybgd.errors import InputError
from nuskybgd.spectral import read_xcm
from nuskybgd.workflow.combine import combine
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo
from nuskybgd.workflow.fit import fit_background
from nuskybgd.workflow.project import project_source, simplify
from workflow_obs import make_bgd_folder


@pytest.fixture(scope="module")
def simplified(tmp_path_factory):
    bgd = make_bgd_folder(tmp_path_factory.mktemp("obs"), modules=("A", "B"), exposure=3e4, seed=9)
    files = []
    for m, d in (("A", 3), ("B", 2)):
        cfg = write_bgdinfo(generate_bgdinfo(bgd, (m,)), bgd / f"bgdinfo{m}.json")
        fit = fit_background(cfg, f"fit{m}")
        shutil.copy(bgd / f"bgd{d}{m}.reg", bgd / f"src{m}.reg")
        shutil.copy(bgd / f"nu90000001{m}01_bgd{d}{m}_sr.pha", bgd / f"nu90000001{m}01_src{m}_sr.pha")
        proj = project_source(cfg, fit.state_json, bgd / f"src{m}.reg", bgd / f"nu90000001{m}01_src{m}_sr.pha")
        files.append((simplify(proj.xcm, 3), proj))
    return bgd, files


def test_combined_file_keeps_each_frozen_background(simplified, tmp_path):
    bgd, files = simplified
    out = combine([f for f, _ in files], tmp_path / "both.xcm")
    pr = read_xcm(out).build()
    assert [s.group for s in pr.spectra] == [1, 2]
    assert not pr.free_parameters()
    for s, (_, proj) in enumerate(files, start=1):
        np.testing.assert_allclose(pr.model_counts(s), proj.problem.model_counts(4), rtol=1e-9)
    assert "model  1" not in out.read_text()
    assert "../" in out.read_text() or str(bgd) in out.read_text()    # names re-rooted to tmp_path


def test_combine_refuses_mismatched_inputs(simplified, tmp_path):
    _, files = simplified
    with pytest.raises(InputError, match="at least two"):
        combine([files[0][0]], tmp_path / "one.xcm")
    with pytest.raises(InputError, match="in two of the inputs"):
        combine([files[0][0], files[0][0]], tmp_path / "twice.xcm")
    with pytest.raises(InputError, match="free or linked"):
        combine([files[0][1].xcm, files[1][0]], tmp_path / "unsimplified.xcm")
