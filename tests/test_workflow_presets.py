"""Presets and ties against the worked example of background-model.md §12 (printed digits)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import shared_path
from nuskybgd.calib.builtin import presets
from nuskybgd.workflow.geometry_weights import RegionWeights, region_weights
from nuskybgd.workflow.presets import model_settings, source_region_settings

# §12 geometry (IC 342, six regions A, B, A, B, A, B)
AREAS = [
    [0, 0, 8975.661859447533, 646.7207123969442],
    [0, 0, 8118.602054580735, 1359.0727609489497],
    [0, 0, 0, 9660.42087847581],
    [0, 0, 0, 9673.45639561816],
    [571.7118764141258, 5236.974953990675, 0, 0],
    [1209.2608259597278, 4478.843526831262, 0, 0],
]
W = [318.29425, 155.19684635370226, 355.85367, 340.0526915554222, 64.70511, 151.77022744255777]
MODULES = ["A", "B", "A", "B", "A", "B"]
WEIGHTS = [RegionWeights(np.array(a, float), w) for a, w in zip(AREAS, W, strict=True)]


def _norm(settings, source, s, local):
    npar = {"apbgd": 3, "intbgd": 91, "fcxb": 3, "intn": 4}[source]
    return settings[source][npar * (s - 1) + local - 1]


@pytest.fixture(scope="module")
def fixed():
    return model_settings(WEIGHTS, MODULES, presets(), fix_line_ratios=True)


@pytest.fixture(scope="module")
def free():
    return model_settings(WEIGHTS, MODULES, presets(), fix_line_ratios=False)


def test_builtin_presets_equal_the_original_ratios_json():
    original = json.loads(shared_path("nuskybgd-auxil", "ratios.json").read_text())
    assert original["models"][1]["components"] == presets()["models"][1]["components"]
    assert original["models"][3]["components"] == presets()["models"][3]["components"]


def test_apbgd_fcxb_intn_rows_of_the_worked_example(fixed):
    ap = ["2.340457e-02, 0.01", "1.141182e-02, 0.01", "=1.118002e+00 * apbgd:3",
          "=2.191106e+00 * apbgd:6", "=2.032871e-01 * apbgd:3", "=9.779208e-01 * apbgd:6"]
    fc = ["1.583407e-05", "1.559594e-05", "1.589666e-05", "1.591811e-05", "9.558458e-06",
          "9.360034e-06"]
    inn = ["3.730568e-04, 0.01", "3.484562e-04, 0.01", "=1.090496e+00 * intn:4",
           "=1.014797e+00 * intn:8", "=6.177247e-01 * intn:4", "=5.870289e-01 * intn:8"]
    for s in range(1, 7):
        assert _norm(fixed, "apbgd", s, 3) == ap[s - 1]
        assert _norm(fixed, "fcxb", s, 3) == fc[s - 1] + ", 0.01"
        assert _norm(fixed, "intn", s, 4) == inn[s - 1]
        assert _norm(fixed, "intn", s, 1) == "-0.05, -0.01"


def test_intbgd_reference_presets(fixed, free):
    for st in (fixed, free):
        assert _norm(st, "intbgd", 1, 4) == "2.151885e-01"
        assert _norm(st, "intbgd", 1, 7) == "0.0021086542693541837, 0.01"
        assert _norm(st, "intbgd", 1, 10) == "0.0017115761659852737, 0.01"
        assert _norm(st, "intbgd", 1, 13) == "0.0004051987188698461, 0.01"
        assert _norm(st, "intbgd", 1, 16) == "0.00010717633669758044, 0.01"
        assert _norm(st, "intbgd", 2, 4) == "1.719106e-01"
        assert _norm(st, "intbgd", 2, 7) == "0.0015873920590451808, 0.01"
        assert _norm(st, "intbgd", 2, 16) == "0.0001387226451473398, 0.01"
    assert _norm(free, "intbgd", 1, 19) == "4.858368e-04, 0.01"
    assert _norm(free, "intbgd", 1, 91) == "2.994508e-03, 0.01"
    assert _norm(fixed, "intbgd", 1, 19) == "=4.533060e+00 * intbgd:16"
    assert _norm(fixed, "intbgd", 1, 91) == "=2.794001e+01 * intbgd:16"
    assert _norm(free, "intbgd", 2, 19) == "4.660566e-04, 0.01"
    assert _norm(free, "intbgd", 2, 91) == "4.384841e-03, 0.01"
    assert _norm(fixed, "intbgd", 2, 19) == "=3.359629e+00 * intbgd:107"
    assert _norm(fixed, "intbgd", 2, 91) == "=3.160869e+01 * intbgd:107"


def test_intbgd_ratio_links_of_other_spectra(fixed):
    s3 = {4: "=1.649939e+00 * intbgd:4", 7: "=7.164754e-01 * intbgd:7", 10: "=7.819224e-01 * intbgd:10",
          13: "=1.253422e+00 * intbgd:13", 16: "=1.835907e+00 * intbgd:16",
          19: "=1.657871e+00 * intbgd:19", 91: "=1.096634e+00 * intbgd:91"}
    s4 = {4: "=1.313806e+00 * intbgd:95", 7: "=1.467056e+00 * intbgd:98",
          16: "=7.119720e-01 * intbgd:107", 91: "=1.132870e+00 * intbgd:182"}
    s5 = {4: "=5.119103e-01 * intbgd:4", 7: "=4.294458e-01 * intbgd:7", 16: "=2.088372e-01 * intbgd:16",
          91: "=9.143938e-01 * intbgd:91"}
    for s, table in ((3, s3), (4, s4), (5, s5)):
        for local, text in table.items():
            assert _norm(fixed, "intbgd", s, local) == text
    assert _norm(fixed, "intbgd", 3, 1) == "=intbgd:1"
    assert _norm(fixed, "intbgd", 4, 5) == "=intbgd:96"


def test_fcxb_config_links():
    st = model_settings(WEIGHTS, MODULES, presets(), fcxb_links=[(1, 2), (3, 4), (5, 6)])
    assert [_norm(st, "fcxb", s, 3) for s in (2, 4, 6)] == ["=fcxb:p3", "=fcxb:p9", "=fcxb:p15"]
    assert _norm(st, "fcxb", 1, 3) == "1.583407e-05, 0.01"


def test_source_region_projection_strings():
    q7 = RegionWeights(np.array([0, 0, 1234.5, 567.8]), 45.6)
    q8 = RegionWeights(np.array([10, 20, 3000, 40.0]), 78.9)
    a = source_region_settings(q7, WEIGHTS[0], 0, "A", presets())
    b = source_region_settings(q8, WEIGHTS[1], 1, "B", presets())
    assert a["apbgd"][2] == "=1.432637e-01 * apbgd:3"
    assert b["apbgd"][2] == "=5.083866e-01 * apbgd:6"
    assert a["intbgd"][3] == "=2.193233e-01 * intbgd:4"
    assert b["intbgd"][3] == "=3.108802e-01 * intbgd:95"
    assert [a["intbgd"][i - 1] for i in (7, 16, 91)] == [
        "=1.730531e-01 * intbgd:7", "=2.285414e-01 * intbgd:16", "=1.918969e-01 * intbgd:91"]
    assert [b["intbgd"][i - 1] for i in (7, 16, 91)] == [
        "=3.026889e-01 * intbgd:98", "=3.368083e-01 * intbgd:107", "=3.188943e-01 * intbgd:182"]
    assert a["fcxb"][2] == "2.965767e-06, 0.01"
    assert b["fcxb"][2] == "5.051824e-06, 0.01"
    assert a["intn"] == ["-0.05, -0.01", "124.0, -0.01", "-0.85, -0.01", "=1.915927e-01 * intn:4"]
    assert b["intn"][3] == "=3.241463e-01 * intn:8"


def test_region_weights_sum_images_over_the_mask():
    det = np.zeros((4, 5, 6))
    det[2, 1:3, 1:4] = 0.5
    det[3, 4, 5] = 1.0
    ap = np.full((5, 6), 0.02)
    mask = np.zeros((5, 6), bool)
    mask[2, :] = True          # row 2: three det-2 pixels at 0.5
    w = region_weights(mask, det, ap)
    assert w.det_area.tolist() == [0.0, 0.0, 1.5, 0.0]
    assert w.aperture == pytest.approx(6 * 0.02)
    assert w.fractions.tolist() == [0.0, 0.0, 1.0, 0.0]
