"""Grouping (issue 10, item 5): minimum counts and Kaastra & Bleeker optimal binning as OGIP
GROUPING/QUALITY columns, the ungrouped file kept."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from astropy.io import fits

from nuskybgd.errors import OutputExistsError
from nuskybgd.io.ogip import read_pha, write_pha
from nuskybgd.io.ogip_types import Pha, Rmf
from nuskybgd.io.validate import validate_pha
from nuskybgd.products.grouping import fwhm_channels, group_min_counts, group_optimal, write_grouped


def _groups(grouping, quality):
    starts = np.flatnonzero(grouping == 1)
    ends = np.append(starts[1:], grouping.size)
    return [(s, e) for s, e in zip(starts, ends, strict=True)]


def test_min_counts_groups_hold_at_least_the_minimum():
    rng = np.random.default_rng(4)
    counts = rng.poisson(np.linspace(6.0, 0.05, 4096))
    g, q = group_min_counts(counts, 30)
    assert np.all(q[:35] == 5) and np.all(q[1910:] == 5)  # outside PI 35–1909
    assert np.all(g[:35] == 1) and np.all(g[1910:] == 1)
    good = [(s, e) for s, e in _groups(g, q) if 35 <= s <= 1909]
    assert good[0][0] == 35 and good[-1][1] == 1910  # the groups tile the good range
    sums = [counts[s:e].sum() for s, e in good]
    assert all(v >= 30 for v in sums[:-1])
    # every group is minimal: dropping its last channel would fall below 30
    assert all(counts[s:e - 1].sum() < 30 for s, e in good[:-1])
    if sums[-1] < 30:
        assert np.all(q[good[-1][0]:1910] == 2)
    assert np.all(q[35:good[-1][0]] == 0)


def test_fwhm_of_a_gaussian_response():
    n = 400
    centres = np.arange(n, dtype=float)
    ch = np.arange(n)
    sigma = 2.0 + centres / 100.0  # FWHM grows from 4.7 to 14 channels
    m = np.exp(-0.5 * ((ch[None, :] - centres[:, None]) / sigma[:, None]) ** 2)
    m /= m.sum(axis=1, keepdims=True)
    e = 1.6 + 0.04 * np.arange(n + 1)
    rmf = Rmf(e[:-1], e[1:], sp.csr_matrix(m), ch, e[:-1], e[1:])
    fwhm = fwhm_channels(rmf)
    true = 2.3548 * sigma
    inner = slice(20, n - 40)
    assert np.all(np.abs(fwhm[inner] - true[inner]) <= 1.0 + 1e-9)


def test_optimal_binning_follows_kaastra_bleeker():
    fwhm = np.full(4096, 10.0)
    # few counts: x = ln(N_r (1 + 0.2 ln R)) ≤ 2.119, so one bin per resolution element
    low = np.zeros(4096, dtype=int)
    low[35:1910:50] = 1
    g, q = group_optimal(low, fwhm)
    widths = {e - s for s, e in _groups(g, q) if 35 <= s < 1900}
    assert widths == {10}
    # many counts: 100 per channel, so N_r = 1100 (11 channels in the window) and R = 187.5
    high = np.full(4096, 100)
    g, q = group_optimal(high, fwhm)
    x = math.log(1100 * (1 + 0.2 * math.log(187.5)))
    width = math.floor(10 * (0.08 + 7.0 / x + 1.8 / x ** 2) / (1 + 5.9 / x))
    assert width == 5  # hand check of the formula at this point
    widths = [e - s for s, e in _groups(g, q) if 40 <= s < 1890]
    assert set(widths) == {width}
    assert np.all(q[35:1910] == 0)


def test_grouped_copies_pass_the_validator_and_keep_the_original(tmp_path):
    rng = np.random.default_rng(1)
    counts = rng.poisson(3.0, 4096)
    src = tmp_path / "nu1A01_src_sr.pha"
    write_pha(Pha(np.arange(4096), counts, 1000.0, backscal=0.002), src,
              gti=(np.array([0.0]), np.array([1100.0])))
    with fits.open(src, mode="update") as hdul:  # an extra extension, as nuproducts writes REG00101
        hdul.append(fits.BinTableHDU.from_columns([fits.Column("SHAPE", "16A", array=["CIRCLE"])],
                                                  name="REG00101"))
    before = src.read_bytes()
    g, q = group_min_counts(counts, 30)
    out = write_grouped(src, tmp_path / "nu1A01_src_sr_g30.pha", g, q, "MINCOUNTS 30")
    assert src.read_bytes() == before
    assert validate_pha(out) == []
    pha = read_pha(out)
    assert np.array_equal(pha.grouping, g) and np.array_equal(pha.quality, q)
    assert np.array_equal(pha.counts, counts)
    with fits.open(out) as hdul:
        assert [h.name for h in hdul[1:]] == ["SPECTRUM", "GTI", "REG00101"]
        assert hdul["SPECTRUM"].header["GROUPTYP"] == "MINCOUNTS 30"
        assert "GROUPING" not in hdul["SPECTRUM"].header  # a column now, not a keyword
    go, qo = group_optimal(counts, np.full(4096, 11.0))
    assert validate_pha(write_grouped(src, tmp_path / "opt.pha", go, qo, "OPTIMAL")) == []
    with pytest.raises(OutputExistsError):
        write_grouped(src, out, g, q, "MINCOUNTS 30")
    # a copy grouped from a staged spectrum names the spectrum's final path in its provenance
    final = tmp_path / "bgd" / src.name
    staged = write_grouped(src, tmp_path / "staged_g30.pha", g, q, "MINCOUNTS 30", provenance_name=final)
    history = "".join(str(v) for v in fits.getheader(staged, "SPECTRUM")["HISTORY"])
    assert f"nuskybgd input: {final}" in history and f"input: {src}" not in history
    plain = "".join(str(v) for v in fits.getheader(out, "SPECTRUM")["HISTORY"])
    assert f"nuskybgd input: {src}" in plain
