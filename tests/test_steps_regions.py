"""The regions and spectrum steps: through the runner (data-dependent outputs, the spectra step
following the regions actually written), through the command line, and their views."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from conftest import copy_observation
from nuskybgd.cli import main
from nuskybgd.errors import InputError
from nuskybgd.pipeline import Reporter, Runner, Session, views

SEQ = "90000000002"


def _quiet():
    return Reporter(lambda e: None)


def _mask(reg, wcs, shape=(1000, 1000)):
    """Pixel-centre mask of a ds9 file, computed here with `regions` directly (not our reader)."""
    from regions import PixCoord, Regions

    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    pix = PixCoord(xx.ravel(), yy.ravel())
    inc, exc = np.zeros(xx.size, bool), np.zeros(xx.size, bool)
    for r in Regions.read(str(reg), format="ds9"):
        p = r if hasattr(r, "to_mask") else r.to_pixel(wcs)
        (inc if int(r.meta.get("include", 1)) else exc)[:] |= p.contains(pix)
    return (inc & ~exc).reshape(shape)


@pytest.fixture(scope="module")
def piped(small_observation, tmp_path_factory):
    """The small observation with srcA.reg drawn (60″ on the simulated source) and every FPMA step
    run through the runner, through spectra."""
    from nuskybgd.commands.demo import write_source_regions

    ev = copy_observation(small_observation, tmp_path_factory.mktemp("piped"))
    truth = json.loads((small_observation.parent / "truth.json").read_text())
    write_source_regions(ev, small_observation.parent / "truth.json")
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        statuses = Runner(session).run_all(_quiet())
    return ev, statuses, truth


def test_plan_reaches_spectra_with_every_step_done(piped):
    ev, statuses, truth = piped
    assert list(statuses)[-6:] == ["regions.A", "spectra.A", "config.A", "fit.A", "spec.A", "simplify.A"]
    assert set(statuses.values()) == {"done"}
    bgd = ev / "bgd"
    # the workflow steps rely on these names (nustar-gen-utils' convention)
    for reg in ("srcA", "bgd0A", "bgd1A", "bgd2A", "bgd3A"):
        stem = bgd / f"nu{SEQ}A01_{reg}_sr"
        for suffix in (".pha", ".rmf", "_g30.pha"):
            assert (stem.parent / (stem.name + suffix)).is_file(), stem.name + suffix
        assert (stem.parent / (stem.name + ".arf")).is_file() == (reg == "srcA")
        assert fits.getheader(f"{stem}.pha", "SPECTRUM")["RESPFILE"] == f"{stem.name}.rmf"
    # BACKSCAL = region pixels / 1e6 on the sky grid, counted here with `regions`
    wcs = WCS(fits.getheader(ev / f"nu{SEQ}A01_cl_3to20keV.fits")).celestial
    n = int(_mask(bgd / "bgd2A.reg", wcs).sum())
    assert fits.getheader(bgd / f"nu{SEQ}A01_bgd2A_sr.pha", "SPECTRUM")["BACKSCAL"] == pytest.approx(n / 1e6)
    # the source spectrum holds the events whose rounded sky pixel is in the 60" circle
    with fits.open(ev / f"nu{SEQ}A01_cl.evt") as h:
        x, y = np.rint(h["EVENTS"].data["X"]).astype(int) - 1, np.rint(h["EVENTS"].data["Y"]).astype(int) - 1
    src = _mask(bgd / "srcA.reg", wcs)
    ok = (x >= 0) & (y >= 0) & (x < 1000) & (y < 1000)
    expected = int(src[y[ok], x[ok]].sum())
    assert fits.getdata(bgd / f"nu{SEQ}A01_srcA_sr.pha", "SPECTRUM")["COUNTS"].sum() == expected > 500
    # products made in the staging folder name their final inputs, never the staging folder
    assert not [p.name for p in bgd.iterdir() if p.is_file() and b"nuskybgd-stage" in p.read_bytes()]
    hist = "".join(fits.getheader(bgd / f"nu{SEQ}A01_bgd0A_sr_g30.pha", "SPECTRUM")["HISTORY"])
    assert f"bgd/nu{SEQ}A01_bgd0A_sr.pha" in hist
    # the session records the regions written and the spectra made from them
    text = (ev / "nuskybgd-session.toml").read_text()
    assert 'path = "bgd/bgd3A.reg"' in text and f'path = "bgd/nu{SEQ}A01_bgd3A_sr_g30.pha"' in text


def test_spectra_follow_the_regions_actually_written(piped, tmp_path):
    ev0, _, _ = piped
    ev = tmp_path / "event_cl"
    shutil.copytree(ev0, ev)
    wcs = WCS(fits.getheader(ev / f"nu{SEQ}A01_cl_3to20keV.fits")).celestial
    sizes = {d: int(_mask(ev / "bgd" / f"bgd{d}A.reg", wcs).sum()) for d in range(4)}
    keep = max(sizes, key=sizes.get)
    assert sorted(sizes.values())[-2] < sizes[keep]  # one detector strictly largest
    with Session.open(ev) as session:
        runner = Runner(session)
        assert runner.status("spectra.A") == "done"
        runner.set_params("regions.A", min_pixels=sizes[keep])  # only the largest area survives
        st = runner.statuses()
        assert st["regions.A"] == "stale" and st["spectra.A"] == "stale"
        events = []
        result = runner.run("regions.A", Reporter(events.append))
        assert [p.name for p in result.outputs] == [f"bgd{keep}A.reg"]
        recorded = session.file_records("regions.A", "outputs")
        assert list(recorded) == [f"bgd/bgd{keep}A.reg"]
        # the first run's regions of the skipped detectors (unchanged session products) are removed
        assert sorted(p.name for p in (ev / "bgd").glob("bgd?A.reg")) == [f"bgd{keep}A.reg"]
        assert runner.instance("spectra.A").params["regions"] == [f"bgd/bgd{keep}A.reg"]
        warnings = [e.text for e in events if getattr(e, "level", "") == "warning"]
        assert sum("usable sky pixels" in w for w in warnings) == 3
        assert runner.status("regions.A") == "done" and runner.status("spectra.A") == "stale"
        runner.run("spectra.A", _quiet())
        st = runner.statuses()
        workflow = ("config.A", "fit.A", "spec.A", "simplify.A")     # made from the old spectra
        assert {v for k, v in st.items() if k not in workflow} == {"done"}
        assert {st[k] for k in workflow} == {"stale"}
        # the detectors come back when the threshold does: the spectra list grows again
        runner.set_params("regions.A", min_pixels=1000)
        runner.run("regions.A", _quiet())
        assert runner.instance("spectra.A").params["regions"] == [f"bgd/bgd{d}A.reg" for d in range(4)]
    with Session.open(ev) as session:  # the list is in the session file
        assert Runner(session).instance("spectra.A").params["regions"] == [f"bgd/bgd{d}A.reg" for d in range(4)]


def test_missing_source_region_says_to_draw_it(small_observation, tmp_path):
    ev = copy_observation(small_observation, tmp_path)
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        runner = Runner(session)
        runner.run_all(_quiet(), until="projbgd")
        assert runner.status("regions.A") == "pending"
        with pytest.raises(InputError, match=r"draw a region on the source in ds9 .* save it as .*bgd/srcA\.reg"):
            runner.run("regions.A", _quiet())
        assert not list((ev / "bgd").glob("bgd?A.reg"))
        # drawn now; a run cancelled after its first detector leaves no region and no staging folder
        from nuskybgd.commands.demo import write_source_regions
        from nuskybgd.pipeline import Cancelled, CancelToken, ProgressEvent

        write_source_regions(ev, small_observation.parent / "truth.json")
        token = CancelToken()
        with pytest.raises(Cancelled):
            runner.run("regions.A", Reporter(lambda e: isinstance(e, ProgressEvent) and token.cancel(), token))
        assert sorted(p.name for p in (ev / "bgd").iterdir() if not p.name.endswith(".fits")) == ["srcA.reg",
                                                                                                 "srcB.reg"]
        assert runner.status("regions.A") == "ready"
        runner.run("regions.A", _quiet())
        assert runner.status("regions.A") == "done" and runner.status("spectra.A") == "ready"


def test_regions_command_equals_the_library(region_observation, tmp_path, capsys):
    ro = region_observation
    if not ro.stray.is_file():
        pytest.skip("the StrayCats region is not in ../shared/data")
    out = tmp_path / "out"
    out.mkdir()
    argv = ["regions", str(ro.event_file), f"srcreg={ro.src_reg}", "--det-images", ",".join(map(str, ro.det_images)),
            "--det1-exclude", str(ro.stray), "--det1-file", str(ro.det1_file), "--convention", "projbgd",
            "--outdir", str(out)]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in ro.auto.files.values())
    for p in ro.auto.files.values():  # same inputs, same regions as make_background_regions wrote
        assert (out / p.name).read_text() == p.read_text()
    capsys.readouterr()
    assert main(argv) == 2  # existing outputs are refused, untouched
    assert "--overwrite" in capsys.readouterr().err


def test_spectrum_command_groups_and_names(region_observation, tmp_path):
    ro = region_observation
    out = tmp_path / "spec"
    out.mkdir()
    regs = ",".join(str(ro.bgd / f"bgd{d}A.reg") for d in sorted(ro.auto.files)[:2])
    r = subprocess.run([sys.executable, "-m", "nuskybgd", "spectrum", str(ro.event_file), regs, "--src", str(ro.src_reg),
                        "--outdir", str(out), "--group-min", "20", "--optimal"],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    seq = ro.sim.seqid
    first = sorted(ro.auto.files)[0]
    assert {f"nu{seq}A01_srcA_sr.arf", f"nu{seq}A01_srcA_sr_g20.pha", f"nu{seq}A01_srcA_sr_opt.pha",
            f"nu{seq}A01_bgd{first}A_sr_g20.pha"} <= names
    assert not any(n.endswith("_g30.pha") for n in names) and not any(n.startswith(".nuskybgd") for n in names)
    assert len(names) == 3 * 4 + 1  # pha, rmf, g20, opt per region, plus the source ARF
    grouped = fits.getdata(out / f"nu{seq}A01_bgd{first}A_sr_g20.pha", "SPECTRUM")
    starts = np.flatnonzero(grouped["GROUPING"] == 1)
    sums = np.add.reduceat(grouped["COUNTS"], starts)
    good = grouped["QUALITY"][starts] == 0
    assert (sums[good][:-1] >= 20).all()  # every complete group holds at least 20 counts
    assert "built-in nominal" in r.stderr


def test_spectrum_nuproducts_absent_is_one_sentence(region_observation, tmp_path, capsys):
    if shutil.which("nuproducts"):
        pytest.skip("HEASoft's nuproducts is on PATH here; the delegation test runs instead")
    ro = region_observation
    assert main(["spectrum", str(ro.event_file), str(ro.src_reg), "--outdir", str(tmp_path), "--nuproducts"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nuproducts" in err[0] and "PATH" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_spectrum_nuproducts_delegation(region_observation, tmp_path):
    if shutil.which("nuproducts") is None:
        pytest.skip("HEASoft's nuproducts is not on PATH")
    ro = region_observation
    assert main(["spectrum", str(ro.event_file), str(ro.bgd / "bgd0A.reg"), "--outdir", str(tmp_path),
                 "--nuproducts"]) == 0
    pha = tmp_path / f"nu{ro.sim.seqid}A01_bgd0A_sr.pha"
    ours = tmp_path / "ours"
    ours.mkdir()
    assert main(["spectrum", str(ro.event_file), str(ro.bgd / "bgd0A.reg"), "--outdir", str(ours)]) == 0
    a = fits.getdata(pha, "SPECTRUM")["COUNTS"]
    b = fits.getdata(ours / pha.name, "SPECTRUM")["COUNTS"]
    assert abs(int(a.sum()) - int(b.sum())) <= 0.01 * b.sum()


def _from_view(s):
    """A `regions` pixel shape from a view dict (so the test checks the dicts, not our reader)."""
    import astropy.units as u
    from regions import PixCoord, PolygonPixelRegion, RectanglePixelRegion

    p = s["params"]
    if s["kind"] == "polygon":
        return PolygonPixelRegion(PixCoord(p["x"], p["y"]))
    assert s["kind"] == "box"
    return RectanglePixelRegion(PixCoord(p["x"], p["y"]), p["width"], p["height"], p["angle"] * u.deg)


def test_region_shapes_view(region_observation):
    ro = region_observation
    src = views.region_shapes(ro.src_reg)
    assert len(src) == 1 and src[0]["kind"] == "circle" and src[0]["include"] is True
    sx, sy = ro.truth["source"]["sky_xy"]  # 1-based sky pixel of the simulated source
    assert src[0]["params"]["x"] == pytest.approx(sx - 1, abs=0.05)
    assert src[0]["params"]["y"] == pytest.approx(sy - 1, abs=0.05)
    assert src[0]["params"]["r"] == pytest.approx(60 / 2.4588, rel=2e-3)
    # the polygons of a background region select exactly the region's pixels
    from regions import PixCoord

    yy, xx = np.mgrid[0:1000, 0:1000]
    pix = PixCoord(xx.ravel(), yy.ravel())
    for d, path in ro.auto.files.items():
        shapes = views.region_shapes(path)
        assert {s["kind"] for s in shapes} <= {"polygon", "box"}  # boxes: an island inside a hole
        inc, exc = np.zeros(xx.size, bool), np.zeros(xx.size, bool)
        for s in shapes:
            (inc if s["include"] else exc)[:] |= _from_view(s).contains(pix)
        assert np.array_equal((inc & ~exc).reshape(1000, 1000), ro.auto.masks[d])


def test_spectrum_view(piped):
    ev, _, _ = piped
    path = ev / "bgd" / f"nu{SEQ}A01_bgd1A_sr.pha"
    view = views.spectrum(path)
    energy, counts, exposure, backscal = view
    with fits.open(path) as h:
        spec = h["SPECTRUM"]
        assert counts.sum() == spec.data["COUNTS"].sum() > 0
        assert exposure == pytest.approx(spec.header["EXPOSURE"]) and backscal == pytest.approx(spec.header["BACKSCAL"])
    assert energy.shape == counts.shape == (4096,)
    assert energy[35] == pytest.approx(3.02) and energy[459] == pytest.approx(19.98)
    with pytest.raises(InputError, match="nothere.pha"):
        views.spectrum(ev / "nothere.pha")


def test_config_waits_for_the_regions_and_spectra(small_observation, tmp_path):
    """The configuration reads whatever regions and spectra exist, so before those stages ran
    it is pending (not "ready" on the projbgd images alone) and running it names the step to
    run first."""
    from nuskybgd.errors import InputError

    ev = copy_observation(small_observation, tmp_path)
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        runner = Runner(session)
        statuses = runner.run_all(_quiet(), until="projbgd")
        assert statuses["projbgd.A"] == "done"
        assert runner.status("config.A") == "pending"
        with pytest.raises(InputError, match="regions.A"):
            runner.run("config.A", _quiet())
        assert not (ev / "bgd" / "bgdinfoA.json").exists()
