"""Observation discovery on the real loose files and on a nupipeline-style tree built in tmp_path."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.errors import InputError
from nuskybgd.io.discovery import discover, discover_observation, summarise_event_file
from nuskybgd.pipeline.step import Silent
from nuskybgd.pipeline.steps.info import ObservationInfoStep, exposure_checks

DUMMY = ("real", "dummy_evt.evt")
SUNPOS = ("real", "nu90410111001A06_cl_sunpos.evt")
SEQ = "30101031002"


def _hdr(path, ext="EVENTS"):
    with fits.open(path) as h:
        return h[ext].header.copy(), h[0].header.copy()


def _gzip_copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as fi, gzip.open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo)


def _as_fpmb(src: Path, dst: Path) -> None:
    with fits.open(src) as h:
        for hdu in h:
            if "INSTRUME" in hdu.header:
                hdu.header["INSTRUME"] = "FPMB"
        h.writeto(dst)


@pytest.fixture
def seq_tree(tmp_path) -> Path:
    """<tmp>/30101031002/{event_cl,hk,auxil}/ with copies of real files under nupipeline names."""
    root = tmp_path / "archive" / SEQ
    ev = root / "event_cl"
    ev.mkdir(parents=True)
    (root / "hk").mkdir()
    (root / "auxil").mkdir()
    shutil.copy(shared_path(*DUMMY), ev / f"nu{SEQ}A01_cl.evt")
    _as_fpmb(shared_path(*DUMMY), tmp_path / "b.evt")
    _gzip_copy(tmp_path / "b.evt", ev / f"nu{SEQ}B01_cl.evt.gz")
    # mode 06: a plain file and a CHU split; the plain one must be dropped
    shutil.copy(shared_path(*SUNPOS), ev / f"nu{SEQ}A06_cl.evt")
    shutil.copy(shared_path(*SUNPOS), ev / f"nu{SEQ}A06_chu2_cl.evt")
    (ev / f"nu{SEQ}A_uf.evt").write_text("unfiltered events are ignored, never opened")
    shutil.copy(shared_path("real", "nustar-gen-utils", "usrgti.fits"), ev / f"nu{SEQ}A01_gti.fits")
    _gzip_copy(shared_path("real", "nu90410111001A_fpm.hk"), root / "hk" / f"nu{SEQ}A_fpm.hk.gz")
    fits.HDUList([fits.PrimaryHDU()]).writeto(root / "auxil" / f"nu{SEQ}_att.fits")
    det1 = fits.BinTableHDU.from_columns([
        fits.Column("TIME", "D", array=[1.0, 1.2]), fits.Column("X_DET1", "D", array=[500.0, 500.1]),
        fits.Column("Y_DET1", "D", array=[480.0, 480.2])], name="DET1_REFPOINT")
    fits.HDUList([fits.PrimaryHDU(), det1]).writeto(ev / f"nu{SEQ}A_det1.fits")
    for p in root.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return root


def _check_tree_observation(obs, root: Path) -> None:
    ev_hdr, prim = _hdr(shared_path(*DUMMY))
    sun_hdr, _ = _hdr(shared_path(*SUNPOS))
    assert obs.seqid == SEQ
    assert obs.event_dir == root / "event_cl"
    assert obs.target == ev_hdr["OBJECT"]
    assert obs.date_obs == ev_hdr["DATE-OBS"]
    assert obs.ra_pnt == ev_hdr["RA_PNT"] and obs.dec_pnt == ev_hdr["DEC_PNT"]
    assert obs.pa_pnt == ev_hdr["PA_PNT"]
    keys = [e.key for e in obs.event_files]
    assert keys == ["A01", "A06_chu2", "B01"]  # plain A06 dropped (CHU split present), _uf ignored
    a01, a06, b01 = obs.event_files
    assert a01.n_events == ev_hdr["NAXIS2"] == 937
    assert a01.ontime == ev_hdr["ONTIME"] and a01.livetime == ev_hdr["LIVETIME"]
    assert a01.exposure == ev_hdr["EXPOSURE"] and a01.deadc == ev_hdr["DEADC"]
    assert b01.module == "B" and b01.path.name.endswith(".evt.gz") and b01.n_events == 937
    assert a06.n_events == sun_hdr["NAXIS2"] and a06.exposure == sun_hdr["EXPOSURE"]
    assert obs.event_file("A", "01") is a01 and obs.event_file("B", "06") is None
    assert obs.exposure("A", "06") == sun_hdr["EXPOSURE"]
    assert obs.det1_files == {"A": root / "event_cl" / f"nu{SEQ}A_det1.fits"}
    assert obs.gti_files == {"A01": root / "event_cl" / f"nu{SEQ}A01_gti.fits"}
    assert obs.hk_files == {"A": root / "hk" / f"nu{SEQ}A_fpm.hk.gz"}
    assert obs.attitude_files == [root / "auxil" / f"nu{SEQ}_att.fits"]


def test_sequence_directory(seq_tree):
    (obs,) = discover(seq_tree)
    _check_tree_observation(obs, seq_tree)


def test_event_cl_directory(seq_tree):
    obs = discover_observation(seq_tree / "event_cl")
    _check_tree_observation(obs, seq_tree)
    assert obs.root == seq_tree


def test_folder_of_sequences(seq_tree, tmp_path):
    other = seq_tree.parent / "90410111001" / "event_cl"
    other.mkdir(parents=True)
    shutil.copy(shared_path(*SUNPOS), other / "nu90410111001A06_cl.evt")
    (other / "nu90410111001A06_cl.evt").chmod(0o644)
    obs = discover(seq_tree.parent)
    assert [o.seqid for o in obs] == [SEQ, "90410111001"]
    _check_tree_observation(obs[0], seq_tree)
    solar = obs[1]
    assert solar.ra_pnt is None and solar.pa_pnt is None  # stored as -100 in solar files
    with pytest.raises(InputError, match="several observations"):
        discover_observation(seq_tree.parent)
    assert discover_observation(seq_tree.parent, seqid="90410111001").seqid == "90410111001"


def test_real_loose_folder():
    folder = shared_path("real")
    obs = {o.seqid: o for o in discover(folder)}
    assert set(obs) == {"30101031002", "90410111001"}  # OBS_ID of the two event files
    d_hdr, d_prim = _hdr(shared_path(*DUMMY))
    s_hdr, _ = _hdr(shared_path(*SUNPOS))
    d = obs["30101031002"]
    assert d.event_files[0].path.name == "dummy_evt.evt"
    assert d.event_files[0].n_events == 937
    assert d.event_files[0].mode == "??"  # no mode in its name or header
    assert d.event_files[0].gti_ontime == pytest.approx(d_hdr["ONTIME"], abs=1e-6)
    assert d.pa_pnt == d_prim["PA_PNT"] == 5.9269
    s = obs["90410111001"]
    assert [e.key for e in s.event_files] == ["A06"]
    assert s.event_files[0].n_events == s_hdr["NAXIS2"] == 9442
    assert s.hk_files == {"A": folder / "nu90410111001A_fpm.hk"}
    assert s.target == s_hdr["OBJECT"]


def test_single_event_file():
    (obs,) = discover(shared_path(*SUNPOS))
    assert obs.seqid == "90410111001" and len(obs.event_files) == 1


def test_exposure_bookkeeping_real_files():
    for parts in (DUMMY, SUNPOS):
        e = summarise_event_file(shared_path(*parts))
        with fits.open(shared_path(*parts)) as h:
            gti = h["GTI"].data
            gsum = float(np.sum(gti["STOP"] - gti["START"]))
        assert e.gti_ontime == pytest.approx(gsum)
        assert e.gti_ontime == pytest.approx(e.ontime, abs=1e-6)
        assert e.exposure == pytest.approx(e.ontime * e.deadc, rel=1e-9)


def test_step_reports_missing_module_and_bad_exposure(seq_tree):
    obs = discover_observation(seq_tree)
    assert exposure_checks(obs) == []
    # break EXPOSURE in the FPMA file: the step must report it
    p = seq_tree / "event_cl" / f"nu{SEQ}A01_cl.evt"
    with fits.open(p, mode="update") as h:
        h["EVENTS"].header["EXPOSURE"] = 1000.0
    rep = Silent()
    result = ObservationInfoStep(seq_tree).run(rep)
    problems = result.values["problems"][SEQ]
    assert any("EXPOSURE 1000.000" in m for m in problems)
    assert any(ev.kind == "warning" and "EXPOSURE" in ev.message for ev in rep.events)
    assert ObservationInfoStep(seq_tree).inputs() == [seq_tree]


def test_unknown_layout_lists_what_was_looked_for(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(InputError) as exc:
        discover(tmp_path / "empty")
    msg = str(exc.value)
    assert "event_cl" in msg and "*.evt" in msg and "empty" in msg


def test_sequence_dir_with_empty_event_cl(tmp_path):
    (tmp_path / SEQ / "event_cl").mkdir(parents=True)
    with pytest.raises(InputError, match="event_cl holds no event files"):
        discover(tmp_path / SEQ)


def test_unreadable_file_in_event_cl_is_an_error(seq_tree):
    bad = seq_tree / "event_cl" / f"nu{SEQ}B06_cl.evt"
    bad.write_bytes(b"garbage" * 100)
    with pytest.raises(InputError, match=f"nu{SEQ}B06_cl.evt"):
        discover(seq_tree)


def test_loose_folder_skips_unreadable_but_says_so(tmp_path):
    shutil.copy(shared_path(*SUNPOS), tmp_path / "good.evt")
    (tmp_path / "good.evt").chmod(0o644)
    (tmp_path / "junk.evt").write_text("not fits")
    (obs,) = discover(tmp_path)
    assert len(obs.event_files) == 1
    assert any("junk.evt" in m for m in obs.skipped)
    assert any("junk.evt" in m for m in exposure_checks(obs))
