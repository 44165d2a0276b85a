"""Statistical acceptance of the simulator (issue 4): counts per detector and component agree
with the expectation, the internal-background PI spectrum follows the model folded through the
response (cstat), and the source has the stated PSF.  Expected values are computed here from the
calibration, the spectral components and the files' own GTI/BADPIX — not taken from the
simulator's code path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nuskybgd.calib import resolve
from nuskybgd.io.events import read_events
from nuskybgd.simulate import simulate_observation
from nuskybgd.spectral.components import model_flux

SEQ = "90000000002"
J_PER_ARCMIN2 = 599.75  # intn preset: pixels per arcmin² (background-model.md §2.5)


@pytest.fixture(scope="module")
def bkg(tmp_path_factory):
    out = tmp_path_factory.mktemp("bkg")
    return simulate_observation(out, seqid=SEQ, exposure=20e3, seed=11, source="none")


@pytest.fixture(scope="module")
def internal(tmp_path_factory):
    out = tmp_path_factory.mktemp("internal")
    return simulate_observation(out, seqid=SEQ, exposure=40e3, seed=5, source="none",
                                modules=("A",), components=("intbgd", "intn"))


@pytest.fixture(scope="module")
def cal_a():
    return resolve("A", prefer="builtin")


def _edges(cal):
    r = cal.rmf(0)
    return np.append(r.energ_lo, r.energ_hi[-1])


def _good_pixels(ev, cal) -> np.ndarray:
    """Exposure-weighted active DET1 pixels per detector, from the file's BADPIX and GTI."""
    pm = cal.pixel_map()
    det = np.where(np.asarray(cal.active_area()) > 0, pm.det, -1)
    good = np.ones((4, 32, 32))
    g0, g1 = ev.gti.start, ev.gti.stop
    ontime = float(np.sum(g1 - g0))
    for bp in ev.badpix:
        for rx, ry, a, b in zip(bp.rawx, bp.rawy, bp.time, bp.time_stop, strict=True):
            good[bp.det_id, ry, rx] -= np.clip(np.minimum(g1, b) - np.maximum(g0, a), 0, None).sum() / ontime
    out = np.zeros(4)
    for d in range(4):
        s = det == d
        out[d] = good[d, pm.rawy[s], pm.rawx[s]].sum()
    return out


def _internal_model(cal, module: str, live: float, npix_good: np.ndarray) -> np.ndarray:
    """Expected counts (4, 4096): intbgd lines (per-detector RMF) + intn (identity response)."""
    edges = _edges(cal)
    pre = {m["name"].split(":")[-1]: m["components"] for m in cal.presets()["models"]}
    pm = cal.pixel_map()
    det = np.where(np.asarray(cal.active_area()) > 0, pm.det, -1)
    npix = np.array([np.count_nonzero(det == d) for d in range(4)])
    out = np.zeros((4, 4096))
    for name, comp in pre["intbgd"].items():
        if name in ("apec", "lorentz", "lorentz_3", "lorentz_4"):  # solar: off by default
            continue
        p = comp[module]
        flux = model_flux("lorentz", edges, LineE=p["linee"], Width=p["width"], norm=1.0)
        for d in range(4):
            out[d] += p["ifactors"][d] / npix[d] * (cal.rmf(d).matrix.T @ flux)
    bk = pre["intn"]["bknpower"][module]
    cont = model_flux("bknpower", edges, PhoIndx1=bk["phoindx1"], BreakE=bk["breake"],
                      PhoIndx2=bk["phoindx2"], norm=1.0)
    for d in range(4):
        out[d] += bk["ifactors"][d] / J_PER_ARCMIN2 * cont
    return out * live * npix_good[:, None]


def _cstat_expectation(mu: np.ndarray) -> tuple[float, float]:
    """Exact mean and variance of XSPEC cstat for Poisson data of mean ``mu`` (per bin)."""
    from scipy.stats import poisson

    kmax = int(mu.max() + 12 * np.sqrt(mu.max()) + 30)
    k = np.arange(kmax + 1)[None, :]
    m = mu[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = 2 * (m - k + np.where(k > 0, k * np.log(k / m), 0.0))
    p = poisson.pmf(k, m)
    e = (p * c).sum(axis=1)
    v = (p * c * c).sum(axis=1) - e * e
    return float(e.sum()), float(v.sum())


def _cstat(data: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(2 * np.sum(mu - data + np.where(data > 0, data * np.log(data / mu), 0.0)))


def test_counts_per_detector_match_truth_within_poisson(bkg):
    truth = json.loads(bkg.truth_file.read_text())
    chi2, n = 0.0, 0
    for m in "AB":
        ev = read_events(bkg.modules[m].event_file)
        mt = truth["modules"][m]
        for d in range(4):
            obs = int(np.count_nonzero(ev["DET_ID"] == d))
            exp = mt["expected_counts"][str(d)]["total_background"]
            z = (obs - exp) / np.sqrt(exp)
            assert abs(z) < 4.5, (m, d, obs, exp)
            chi2 += z * z
            n += 1
            # and per component (the simulator's own bookkeeping of which component drew what)
            for comp in ("apbgd", "intbgd", "fcxb", "intn"):
                o = mt["simulated_counts"][str(d)][comp]
                e = mt["expected_counts"][str(d)][comp]
                assert abs(o - e) < 4.5 * np.sqrt(e) + 1, (m, d, comp, o, e)
    assert chi2 < 26.1  # 99.9 % point of chi² with 8 degrees of freedom


def test_intn_expectation_recomputed_from_the_calibration(internal, cal_a):
    """The truth's intn expectation equals T·Σ good pixels·J/599.75·∫bknpower, computed here."""
    truth = json.loads(internal.truth_file.read_text())
    ev = read_events(internal.modules["A"].event_file)
    npg = _good_pixels(ev, cal_a)
    edges = _edges(cal_a)
    bk = {m["name"].split(":")[-1]: m["components"] for m in cal_a.presets()["models"]}["intn"][
        "bknpower"]["A"]
    tot = model_flux("bknpower", edges, PhoIndx1=bk["phoindx1"], BreakE=bk["breake"],
                     PhoIndx2=bk["phoindx2"], norm=1.0).sum()
    for d in range(4):
        mine = ev.exposure * npg[d] * bk["ifactors"][d] / J_PER_ARCMIN2 * tot
        got = truth["modules"]["A"]["expected_counts"][str(d)]["intn"]
        assert got == pytest.approx(mine, rel=1e-6)


def test_internal_pi_spectrum_follows_the_folded_model(internal, cal_a):
    ev = read_events(internal.modules["A"].event_file)
    mu_all = _internal_model(cal_a, "A", ev.exposure, _good_pixels(ev, cal_a))
    lo, hi, width = 35, 2535, 10  # 3–103 keV in 0.4 keV bins
    for d in range(4):
        sel = ev["DET_ID"] == d
        counts = np.bincount(ev["PI"][sel], minlength=4096)[lo:hi].reshape(-1, width).sum(axis=1)
        mu = mu_all[d, lo:hi].reshape(-1, width).sum(axis=1)
        assert counts.sum() > 1000
        e, v = _cstat_expectation(mu)
        z = (_cstat(counts, mu) - e) / np.sqrt(v)
        assert abs(z) < 4.0, (d, z)
        # power: a 1.5 % gain error in the model is rejected by the same statistic
        shifted = np.interp(np.arange(lo, hi) * 1.015, np.arange(4096), mu_all[d])
        mu_bad = shifted.reshape(-1, width).sum(axis=1) * mu.sum() / shifted.sum()
        zb = (_cstat(counts, mu_bad) - _cstat_expectation(mu_bad)[0]) / np.sqrt(v)
        assert zb > 6.0, (d, zb)


def test_point_source_has_the_stated_half_power_diameter(tmp_path):
    res = simulate_observation(tmp_path, seqid=SEQ, exposure=20e3, seed=2, source="point",
                               modules=("A",), components=("source",))
    ev = read_events(res.modules["A"].event_file)
    truth = json.loads(res.truth_file.read_text())
    ok = ev.valid("X")
    r_arcsec = np.hypot(ev["X"][ok] - 500.5, ev["Y"][ok] - 500.5) * 2.4581
    hpd = 2 * np.median(r_arcsec)
    assert truth["modules"]["A"]["source"]["psf"]["hpd_arcsec"] == 58.0
    assert r_arcsec.size > 2000
    # pixelisation (2.46″ pixels) and photons lost off the detector shift it by a few percent
    assert hpd == pytest.approx(58.0, rel=0.1)


def test_cluster_is_extended(tmp_path):
    res = simulate_observation(tmp_path, seqid=SEQ, exposure=10e3, seed=2, source="cluster",
                               modules=("A",), components=("source",))
    ev = read_events(res.modules["A"].event_file)
    ok = ev.valid("X")
    r_arcsec = np.hypot(ev["X"][ok] - 500.5, ev["Y"][ok] - 500.5) * 2.4581
    # a beta = 2/3 model with a 60″ core has a median radius of ~2 core radii (truncated at 8′)
    assert np.median(r_arcsec) > 90.0
