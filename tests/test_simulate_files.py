"""Simulator products: file names, the real event-file schema, GTIs, BADPIX, the DET1 track and
the sky mapping (issue 4).  One short two-module simulation is shared by the whole module."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.simulate import simulate_observation

SEQ = "90000000002"
_TABLE_KEY = re.compile(r"^(TTYPE|TFORM|TUNIT|TNULL|TLMIN|TLMAX|TC[A-Z]{2}|TDIM)\d+$")
#: Keywords that describe the binary-table layout or vary per file, not the schema.
_SKIP = {"COMMENT", "HISTORY", ""}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """8 ks, both modules, point source, nominal calibration, no CALDB or auxil installed."""
    out = tmp_path_factory.mktemp("sim")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CALDB", raising=False)
        mp.delenv("NUSKYBGD_AUXIL", raising=False)
        for sub in ("home", "cache"):
            (out / sub).mkdir()
        mp.setenv("HOME", str(out / "home"))
        mp.setenv("XDG_CACHE_HOME", str(out / "cache"))
        res = simulate_observation(out, seqid=SEQ, exposure=8e3, seed=3, source="point")
    return res


def _evt(sim, m="A"):
    return sim.event_dir / f"nu{SEQ}{m}01_cl.evt"


def test_files_have_the_real_names(sim):
    ev = sim.event_dir
    assert ev.name == "event_cl" and ev.parent.name == SEQ
    for m in "AB":
        for name in (f"nu{SEQ}{m}01_cl.evt", f"nu{SEQ}{m}01_gti.fits", f"nu{SEQ}{m}_det1.fits"):
            assert (ev / name).is_file(), name
    truth = json.loads(sim.truth_file.read_text())
    assert set(truth["modules"]) == {"A", "B"}
    assert truth["modules"]["A"]["n_events"] == fits.getheader(_evt(sim), "EVENTS")["NAXIS2"]


def test_event_file_has_every_column_and_keyword_of_the_real_one(sim):
    real = shared_path("real", "dummy_evt.evt")
    with fits.open(real) as r, fits.open(_evt(sim)) as s:
        assert [h.name for h in r] == [h.name for h in s]
        rc, sc = r["EVENTS"].columns, s["EVENTS"].columns
        assert rc.names == sc.names
        for a, b in zip(rc, sc, strict=True):
            assert a.format == b.format, a.name
            assert a.unit == b.unit, a.name
            assert a.null == b.null, a.name
            for attr in ("coord_type", "coord_unit", "coord_ref_point", "coord_inc"):
                assert (getattr(a, attr) is None) == (getattr(b, attr) is None), (a.name, attr)
                if attr != "coord_ref_point" and getattr(a, attr) is not None:
                    assert getattr(a, attr) == getattr(b, attr), (a.name, attr)
        rh, sh = r["EVENTS"].header, s["EVENTS"].header
        for i, name in enumerate(rc.names, start=1):
            for key in ("TLMIN", "TLMAX", "TNULL", "TCRPX", "TCDLT", "TCTYP", "TCUNI"):
                if f"{key}{i}" in rh:
                    assert sh[f"{key}{i}"] == rh[f"{key}{i}"], f"{key}{i} ({name})"
        for ext in range(len(r)):
            rk = {k for k in r[ext].header if k not in _SKIP}
            sk = set(s[ext].header)
            assert rk - sk == set(), f"HDU {ext} ({r[ext].name}) lacks {sorted(rk - sk)}"
        for ext in range(3, 7):
            assert s[ext].header["DETNAM"] == f"DET{ext - 3}"
            assert s[ext].columns.formats == r[ext].columns.formats


def test_readers_read_ours_and_the_real_file_the_same_way(sim):
    from nuskybgd.io.events import read_events

    real = read_events(shared_path("real", "dummy_evt.evt"), columns="all")
    ours = read_events(_evt(sim), columns="all")
    assert set(real.columns) == set(ours.columns)
    for name in real.columns:
        assert real.columns[name].dtype == ours.columns[name].dtype, name
        assert real.columns[name].shape[1:] == ours.columns[name].shape[1:], name
    assert real.tnull == ours.tnull
    assert ours.wcs is not None and real.wcs is not None
    assert list(ours.wcs.wcs.ctype) == list(real.wcs.wcs.ctype)
    np.testing.assert_allclose(ours.wcs.wcs.cdelt, real.wcs.wcs.cdelt)
    assert [b.det_id for b in ours.badpix] == [b.det_id for b in real.badpix] == [0, 1, 2, 3]
    assert ours.module == "A" == real.module
    # exposure keywords are consistent: EXPOSURE = LIVETIME = ONTIME × DEADC = Σ GTI × DEADC
    for ev in (ours,):
        assert ev.exposure == pytest.approx(ev.ontime * ev.deadc, rel=1e-9)
        assert ev.gti.ontime == pytest.approx(ev.ontime, rel=1e-9)
    assert ours.exposure == pytest.approx(8e3, rel=1e-9)
    # the sky WCS puts the target (RA_OBJ, DEC_OBJ) at the sky-frame centre
    x, y = ours.wcs.wcs_world2pix([[ours.header["RA_OBJ"], ours.header["DEC_OBJ"]]], 1)[0]
    assert (x, y) == pytest.approx((500.5, 500.5), abs=1e-6)


def test_gtis_have_orbit_gaps_and_hold_every_event(sim):
    from nuskybgd.io.events import read_events, read_gti

    ev = read_events(_evt(sim))
    g = ev.gti
    standalone = read_gti(sim.event_dir / f"nu{SEQ}A01_gti.fits")
    np.testing.assert_array_equal(standalone.start, g.start)
    np.testing.assert_array_equal(standalone.stop, g.stop)
    assert np.all(g.stop > g.start) and np.all(g.start[1:] >= g.stop[:-1])
    gaps = g.start[1:] - g.stop[:-1]
    assert np.any(gaps > 1500.0), "no Earth-occultation gap"
    assert np.all(g.stop - g.start < 4000.0), "a GTI is longer than an orbit's visibility"
    t = ev["TIME"]
    assert np.all(np.diff(t) >= 0)
    k = np.searchsorted(g.start, t, side="right") - 1
    assert np.all(k >= 0) and np.all(t < g.stop[k])
    hdr = ev.header
    assert hdr["TSTART"] <= g.start[0] and g.stop[-1] <= hdr["TSTOP"]


def test_badpix_extensions_and_no_events_in_bad_pixels(sim):
    from nuskybgd.io.events import read_events

    ev = read_events(_evt(sim))
    tobs = ev.header["TSTOP"] - ev.header["TSTART"]
    n_perm = n_short = 0
    for bp in ev.badpix:
        dur = bp.time_stop - bp.time
        perm = dur >= 0.99 * tobs
        short = dur < 0.2 * tobs
        n_perm += int(perm.sum())
        n_short += int(short.sum())
        on = (ev["DET_ID"] == bp.det_id)
        for rx, ry, t0, t1 in zip(bp.rawx, bp.rawy, bp.time, bp.time_stop, strict=True):
            hit = on & (ev["RAWX"] == rx) & (ev["RAWY"] == ry) & (ev["TIME"] >= t0) & (ev["TIME"] < t1)
            assert not hit.any(), f"event in bad pixel DET{bp.det_id} ({rx},{ry}) during its interval"
        # permanent rows carry the CALDB (1) or on-board (2) flag, short rows the hot flag (32)
        flags = bp.badflag.astype(int) @ (1 << np.arange(15, -1, -1))
        assert set(flags[perm]) <= {1, 2} and set(flags[short]) <= {32}
    assert n_perm >= 4 and n_short >= 8


def test_det1_track_wobbles_and_has_junk_rows_before_settling(sim):
    from nuskybgd.io.events import read_det1_refpoint, read_gti

    tr = read_det1_refpoint(sim.event_dir / f"nu{SEQ}A_det1.fits")
    g = read_gti(sim.event_dir / f"nu{SEQ}A01_gti.fits")
    hdr = fits.getheader(sim.event_dir / f"nu{SEQ}A_det1.fits", "DET1_REFPOINT")
    assert hdr["HDUCLAS1"] == "TEMPORALDATA"
    assert np.allclose(np.diff(tr.time), 0.2)
    junk = (tr.x_det1 < 0) | (tr.x_det1 > 1000) | (tr.y_det1 < 0) | (tr.y_det1 > 1000)
    assert junk.any() and tr.time[junk].max() < g.start[0]
    inside = g.contains(tr.time)
    x, y = tr.x_det1[inside], tr.y_det1[inside]
    # realistic mast motion: tens of arcsec (a few to ~25 sky pixels peak to peak), smooth in 0.2 s
    assert 5.0 < np.ptp(x) < 60.0 and 5.0 < np.ptp(y) < 60.0
    assert np.percentile(np.abs(np.diff(x)), 99) < 1.5


def test_sky_positions_follow_the_track_and_roll(sim):
    """Sky X/Y of every event = track(TIME) + M(PA)·(DET1 − (350, 350)) within pixelisation."""
    from nuskybgd.io.events import read_det1_refpoint, read_events

    for m in "AB":
        ev = read_events(_evt(sim, m))
        tr = read_det1_refpoint(sim.event_dir / f"nu{SEQ}{m}_det1.fits")
        ok = tr.x_det1 > 0
        t = ev["TIME"]
        rx = np.interp(t, tr.time[ok], tr.x_det1[ok])
        ry = np.interp(t, tr.time[ok], tr.y_det1[ok])
        good = ev.valid("X") & ev.valid("DET1X")
        dx = ev["DET1X"][good] - 350.0
        dy = ev["DET1Y"][good] - 350.0
        sx = ev["X"][good] - rx[good]
        sy = ev["Y"][good] - ry[good]
        # least-squares affine fit: sky offset = A · DET1 offset + b
        design = np.column_stack([dx, dy, np.ones_like(dx)])
        cx, *_ = np.linalg.lstsq(design, sx, rcond=None)
        cy, *_ = np.linalg.lstsq(design, sy, rcond=None)
        th = np.deg2rad(ev.header["PA_PNT"])
        np.testing.assert_allclose(cx[:2], [-np.cos(th), -np.sin(th)], atol=2e-3)
        np.testing.assert_allclose(cy[:2], [-np.sin(th), np.cos(th)], atol=2e-3)
        # the DET1 reference pixel (350, 350) lands on the track position within a pixel
        assert abs(cx[2]) < 1.0 and abs(cy[2]) < 1.0
        resid = np.hypot(sx - design @ cx, sy - design @ cy)
        assert np.max(resid) < 1.5


def test_truth_names_match_the_fit_model(sim):
    truth = json.loads(sim.truth_file.read_text())
    a = truth["modules"]["A"]["components"]
    assert list(a) == ["apbgd", "intbgd", "fcxb", "intn"]
    assert set(a["apbgd"]["parameters"]) == {"PhoIndex", "HighECut"}
    assert set(a["intn"]["parameters"]) == {"PhoIndx1", "BreakE", "PhoIndx2"}
    lines = a["intbgd"]["components"]
    assert list(lines)[:3] == ["apec", "lorentz", "lorentz_3"] and "lorentz_30" in lines
    assert "lorentz_2" not in lines
    assert set(lines["lorentz_5"]) >= {"LineE", "Width", "norm_whole_detector"}
    # the solar soft component is off by default: apec and the 3.5/4.5/10.2 keV lines are zero
    for name in ("apec", "lorentz", "lorentz_3", "lorentz_4"):
        assert lines[name]["norm_whole_detector"] == [0.0] * 4
    d0 = a["apbgd"]["per_detector"]["0"]
    assert d0["norm"] == pytest.approx(0.002353 / 32 * d0["W"])


def test_gti_and_badpix_tables_match_the_real_ones(sim):
    """GTI and BADPIX extensions: the real file's column names, formats, units and limits."""
    real = shared_path("real", "dummy_evt.evt")
    with fits.open(real) as r, fits.open(_evt(sim)) as s:
        for ext in range(2, 7):
            rc, sc = r[ext].columns, s[ext].columns
            assert rc.names == sc.names, r[ext].name
            assert rc.formats == sc.formats, r[ext].name
            assert rc.units == sc.units, r[ext].name
            for i in range(1, len(rc.names) + 1):
                for key in ("TLMIN", "TLMAX", "TNULL"):
                    if f"{key}{i}" in r[ext].header:
                        assert s[ext].header[f"{key}{i}"] == r[ext].header[f"{key}{i}"], (ext, key, i)
            assert s[ext].header.get("EXTVER", 1) == r[ext].header.get("EXTVER", 1)


def test_standalone_gti_file_has_the_real_template_layout(sim):
    """nu<seqid>A01_gti.fits: every keyword and column of the real STDGTI template (B.3)."""
    real = shared_path("real", "nustar-gen-utils", "usrgti.fits")
    with fits.open(real) as r, fits.open(sim.event_dir / f"nu{SEQ}A01_gti.fits") as s:
        assert [h.name for h in s] == [h.name for h in r] == ["PRIMARY", "STDGTI"]
        for ext in range(2):
            rk = {k for k in r[ext].header if k not in _SKIP}
            assert rk - set(s[ext].header) == set(), (ext, sorted(rk - set(s[ext].header)))
        assert s[1].columns.names == r[1].columns.names
        assert s[1].columns.formats == r[1].columns.formats
        assert s[1].columns.units == r[1].columns.units == ["sec", "sec"]


def test_det1_file_has_the_documented_layout(sim):
    """nu<seqid>A_det1.fits as documented in nustar-data-formats.md B.4 (no real one is shipped)."""
    with fits.open(sim.event_dir / f"nu{SEQ}A_det1.fits") as f:
        assert [h.name for h in f] == ["PRIMARY", "DET1_REFPOINT"]
        assert f[0].data is None
        for key in ("TELESCOP", "OBS_ID", "OBJECT", "RA_OBJ", "DEC_OBJ", "DATE-OBS", "INSTRUME"):
            assert key in f[0].header, key
        h = f[1].header
        assert h["HDUCLAS1"] == "TEMPORALDATA" and h["TIMEPIXR"] == 0
        cols = f[1].columns
        assert cols.names == ["TIME", "X_DET1", "Y_DET1"]
        assert cols.formats == ["1D", "1D", "1D"]
        assert cols.units == ["s", "pixel", "pixel"]
        hist = " ".join(str(v) for v in h["HISTORY"])
        assert "det1xref = 350" in hist and "det1yref = 350" in hist
        for par in ("optaxisfile", "det1reffile", "attfile", "alignfile", "teldef"):
            assert f"{par} =" in hist, par
        t = f[1].data["TIME"]
        # one row every 0.2 s from TSTART to TSTOP
        assert t[0] == pytest.approx(h["TSTART"]) and t[-1] == pytest.approx(h["TSTOP"], abs=0.2)


def test_truth_has_fit_parameter_names_per_detector(sim):
    """truth.json carries, per module and detector, the injected values under the names a fit
    reports (``<source>.<component>.<parameter>``, Parameter.full_name), built from the presets."""
    from nuskybgd.calib import resolve
    from nuskybgd.spectral.parameters import Parameter

    truth = json.loads(sim.truth_file.read_text())
    cal = resolve("A", prefer="builtin")
    pre = {m["name"].split(":")[-1]: m["components"] for m in cal.presets()["models"]}
    mt = truth["modules"]["A"]
    p = Parameter("norm", "", 1.0, 0.01, 0, 0, 1, 1, source="intbgd", component="lorentz_5")
    for d in range(4):
        fp = mt["fit_parameters"][str(d)]
        assert p.full_name in fp
        assert fp["apbgd.cutoffpl.PhoIndex"] == 1.29 and fp["apbgd.cutoffpl.HighECut"] == 41.13
        assert fp["intn.bknpower.BreakE"] == pre["intn"]["bknpower"]["A"]["breake"]
        assert fp["intbgd.lorentz_5.LineE"] == pre["intbgd"]["lorentz_5"]["A"]["linee"]
        # background-model.md §3.4: apbgd norm = K_CXB/32 · W and fcxb = 1.6455454e-9 · area
        w = mt["components"]["apbgd"]["per_detector"][str(d)]["W"]
        assert fp["apbgd.cutoffpl.norm"] == pytest.approx(7.353125e-5 * w, rel=1e-9)
        area = mt["components"]["fcxb"]["per_detector"][str(d)]["weight_sum_exposure_weighted"]
        assert fp["fcxb.cutoffpl.norm"] == pytest.approx(1.6455454e-9 * area, rel=1e-6)
        assert fp["intn.bknpower.norm"] == pytest.approx(
            pre["intn"]["bknpower"]["A"]["ifactors"][d] / 599.75 * area, rel=1e-9)
        assert mt["expected_counts"][str(d)]["total_background"] > 0
    assert mt["component_labels"]["lorentz_5"] == "line_19.65keV"


def test_raw_and_det1_positions_agree_with_the_pixel_map(sim):
    """DET_ID/RAWX/RAWY of every event are the owners of its DET1 pixel in the calibration's
    pixel map; grades are the screened 0–26 with single-pixel events the most common."""
    from nuskybgd.calib import resolve
    from nuskybgd.io.events import read_events

    for m in "AB":
        ev = read_events(_evt(sim, m))
        pm = resolve(m, prefer="builtin").pixel_map()
        y, x = ev["DET1Y"] - 1, ev["DET1X"] - 1
        np.testing.assert_array_equal(ev["DET_ID"], pm.det[y, x])
        np.testing.assert_array_equal(ev["RAWX"], pm.rawx[y, x])
        np.testing.assert_array_equal(ev["RAWY"], pm.rawy[y, x])
        g = ev["GRADE"]
        assert g.min() >= 0 and g.max() <= 26
        assert np.argmax(np.bincount(g)) == 0
