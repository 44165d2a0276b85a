"""image: model background images whose sums over each background region equal the fitted model."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.errors import OutputExistsError
from nuskybgd.workflow.config import generate_bgdinfo, load_bgdinfo, write_bgdinfo
from nuskybgd.workflow.fit import fit_background
from nuskybgd.workflow.geometry_weights import load_geometry
from nuskybgd.workflow.image import band_counts, write_model_images
from workflow_obs import make_bgd_folder


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    bgd = make_bgd_folder(tmp_path_factory.mktemp("obs"), modules=("A", "B"), exposure=5e4, seed=7)
    cfg = write_bgdinfo(generate_bgdinfo(bgd, ("A", "B")), bgd / "bgdinfo.json")
    out = fit_background(cfg, "joint", recipe=None)
    paths = write_model_images(cfg, out.state_json, 3.0, 20.0)
    return bgd, cfg, out, paths


def test_images_are_written_per_module_and_component(made):
    _, _, _, paths = made
    assert sorted(p.name for p in paths) == sorted(
        f"bgd_{c}_{m}.fits" for m in "AB" for c in ("apbgd", "intbgd", "fcxb", "intn", "total"))
    with fits.open(paths[0]) as h:
        assert h[0].header["NSBTASK"] == "image" and h[0].header["E_MIN"] == 3.0
        assert h[0].header["CTYPE1"] == "RA---TAN"


def test_region_sums_equal_the_model_counts_of_each_spectrum(made):
    bgd, cfg, out, _ = made
    info = load_bgdinfo(cfg)
    geom = load_geometry(info)
    for s, (m, reg) in enumerate(zip(info.modules, info.regfiles, strict=True), start=1):
        mask = geom.mask(reg)
        for comp in ("apbgd", "intbgd", "intn", "fcxb"):
            img = fits.getdata(bgd / f"bgd_{comp}_{m}.fits").astype(float)
            expected = band_counts(out.problem, s, comp, 3.0, 20.0)
            assert img[mask].sum() == pytest.approx(expected, rel=2e-5), (s, comp)


def test_images_refuse_to_overwrite(made):
    _, cfg, out, _ = made
    with pytest.raises(OutputExistsError):
        write_model_images(cfg, out.state_json, 3.0, 20.0)
    assert np.isfinite(fits.getdata(made[3][0])).all()
