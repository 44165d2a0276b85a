"""The demo command: simulate, run the pipeline through the spectra, resume on a rerun."""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from nuskybgd.cli import main

SEQ = "90000000002"


def test_demo_runs_pipeline_and_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", str(out)]) == 0
    ev = out / SEQ / "event_cl"
    for m in "AB":
        chip = fits.getdata(ev / f"newinstrmap{m}.fits")
        # every detector's projected exposure map integrates to its active area
        for d in range(4):
            det_im = fits.getdata(ev / "bgd" / f"det{d}{m}im.fits")
            area = int((chip == d + 1).sum())
            assert area > 20000
            assert abs(det_im.sum() - area) < 0.01 * area
        hdr = fits.getheader(ev / "bgd" / f"bgdap{m}.fits")
        assert "BUILTIN" in hdr["NSBCALIB"]
        # the 3-20 keV sky image holds the events of that band: more than the 20-40 keV one
        lo = fits.getdata(ev / f"nu{SEQ}{m}01_cl_3to20keV.fits")
        hi = fits.getdata(ev / f"nu{SEQ}{m}01_cl_20to40keV.fits")
        assert lo.shape == (1000, 1000) and lo.sum() > hi.sum() > 0
    err = capsys.readouterr().err
    assert "built-in nominal" in err  # approximate calibration is announced
    # the plan goes on to the regions and spectra: srcA/srcB.reg on the simulated source, then
    # the background regions the regions step wrote, each with its spectrum
    import json

    truth = json.loads((out / SEQ / "truth.json").read_text())
    for m in "AB":
        src = (ev / "bgd" / f"src{m}.reg").read_text()
        assert f"{truth['modules'][m]['source']['ra']:.4f}" in src and '60.0000")' in src
        regs = sorted(p.stem for p in (ev / "bgd").glob(f"bgd?{m}.reg"))
        assert regs, "no background region written"
        for stem in [f"src{m}", *regs]:
            pha = ev / "bgd" / f"nu{SEQ}{m}01_{stem}_sr.pha"
            assert pha.is_file() and (ev / "bgd" / f"nu{SEQ}{m}01_{stem}_sr_g30.pha").is_file()
            assert fits.getdata(pha, "SPECTRUM")["COUNTS"].sum() > 0
    text = (ev / "nuskybgd-session.toml").read_text()
    assert "[steps.\"spectra.B\"]" in text or "[steps.spectra.B]" in text

    before = {p: p.stat().st_mtime_ns for p in ev.rglob("*.fits")}
    assert main(["demo", str(out)]) == 0
    after = {p: p.stat().st_mtime_ns for p in ev.rglob("*.fits")}
    assert before == after  # resumed: nothing rewritten
    assert "already done" in capsys.readouterr().err
    assert np.all(np.isfinite(fits.getdata(ev / "bgd" / "bgdapA.fits")))

    # touching an input changes no content: still done (content hashes, not times)
    img = ev / f"nu{SEQ}A01_cl_3to20keV.fits"
    old_img = fits.getdata(img)
    evt = ev / f"nu{SEQ}A01_cl.evt"
    evt.touch()
    assert main(["demo", str(out)]) == 0
    assert "already done" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in ev.rglob("*.fits")} == after
    # a new simulation makes the products stale; the runner remakes what the session wrote
    assert main(["demo", str(out), "--seed", "2", "--overwrite"]) == 0
    new_img = fits.getdata(img)
    with fits.open(evt) as f:  # the image holds the new events of 3-20 keV (PI 35..459)
        d = f["EVENTS"].data
        sel = (d["PI"] >= 35) & (d["PI"] <= 459) & (d["X"] > 0)
        assert new_img.sum() == np.count_nonzero(sel)
    assert not np.array_equal(new_img, old_img)
    assert all(p.stat().st_mtime_ns >= evt.stat().st_mtime_ns for p in (ev / "bgd").glob("*.fits"))


def test_steps_name_their_missing_inputs(tmp_path):
    from nuskybgd.pipeline import Runner, Session

    with Session.open(tmp_path, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        runner = Runner(session)
        projbgd = runner.build("projbgd.A")
        missing = {p.name for p in projbgd.missing_inputs()}
        assert {"newinstrmapA.fits", "aspecthistA.fits", f"nu{SEQ}A01_cl_3to20keV.fits"} <= missing
        assert runner.status("projbgd.A") == "pending"
