"""The runner and the session file: statuses, resume, staleness by content, the overwrite rule,
typed events, cancellation, the lock, and `nuskybgd run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from astropy.io import fits

from conftest import copy_observation
from nuskybgd.errors import InputError
from nuskybgd.pipeline import (
    Cancelled,
    CancelToken,
    LogEvent,
    OutputEvent,
    Reporter,
    ResultEvent,
    Runner,
    Session,
    SessionLocked,
)

SEQ = "90000000002"


@pytest.fixture(scope="module")
def processed(small_observation, tmp_path_factory):
    """The small observation with every step up to projbgd run for FPMA through the runner."""
    ev = copy_observation(small_observation, tmp_path_factory.mktemp("processed"))
    events = []
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        statuses = Runner(session).run_all(Reporter(events.append), until="projbgd")
    return ev, statuses, events


def _upto_projbgd(statuses):
    """The statuses of the steps up to projbgd (the regions step waits for a source region)."""
    later = ("regions.", "spectra.", "config.", "fit.", "spec.", "simplify.")
    return [v for k, v in statuses.items() if not k.startswith(later)]


def _snapshot(ev):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(ev.rglob("*.fits"))}


def test_run_all_records_every_step_and_reports_typed_events(processed):
    ev, statuses, events = processed
    assert list(statuses) == ["info", "mkimgs.A.3to20keV", "mkimgs.A.20to40keV", "mkinstrmap.A",
                              "aspecthist.A", "projbgd.A", "regions.A", "spectra.A", "config.A", "fit.A",
                              "spec.A", "simplify.A"]
    assert set(list(statuses.values())[:6]) == {"done"}
    # no source region drawn yet: the regions step waits for it, and the spectra for the regions
    assert statuses["regions.A"] == statuses["spectra.A"] == "pending"
    written = {e.path.name for e in events if isinstance(e, OutputEvent)}
    assert {"bgdapA.fits", "det0Aim.fits", "aspecthistA.fits", "newinstrmapA.fits"} <= written
    results = [e for e in events if isinstance(e, ResultEvent)]
    assert len(results) == 6 and any(r.values.get("chanmin") == 35 for r in results)
    assert any(isinstance(e, LogEvent) and e.level == "warning" and "built-in" in e.text for e in events)
    text = (ev / "nuskybgd-session.toml").read_text()
    assert 'status = "done"' in text and "sha256" in text and "[observation]" in text
    for p in ("bgd/bgdapA.fits", "bgd/det3Aim.fits", "aspecthistA.fits"):
        assert (ev / p).is_file() and f'path = "{p}"' in text


def test_resume_runs_nothing_and_keeps_user_comments(processed):
    ev, _, _ = processed
    session_file = ev / "nuskybgd-session.toml"
    session_file.write_text("# my note about this observation\n" + session_file.read_text())
    before = _snapshot(ev)
    actions = []
    with Session.open(session_file) as session:
        Runner(session).run_all(until="projbgd", on_step=lambda n, t, inst, action: actions.append(action))
    assert set(actions) == {"skip"}
    assert _snapshot(ev) == before
    assert session_file.read_text().startswith("# my note about this observation\n")


def test_content_change_makes_dependants_stale_and_touch_does_not(small_observation, tmp_path):
    ev = copy_observation(small_observation, tmp_path)
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        runner = Runner(session)
        runner.run_all(Reporter(lambda e: None), until="projbgd")
        det1 = ev / f"nu{SEQ}A_det1.fits"
        x_off = fits.getheader(ev / "aspecthistA.fits")["X_OFF"]
        os.utime(det1)  # a new time, the same content
        assert set(_upto_projbgd(runner.statuses())) == {"done"}
        with fits.open(det1, mode="update") as h:  # new content: the aspect track moves
            h[1].data["X_DET1"][:] += 3.0
        st = runner.statuses()
        assert st["aspecthist.A"] == "stale" and st["projbgd.A"] == "stale"
        assert st["mkimgs.A.3to20keV"] == "done" and st["mkinstrmap.A"] == "done"
        # a parameter change marks that step and the steps reading its output stale
        runner.set_params("mkimgs.A.3to20keV", elow=3.0, ehigh=20.0)  # unchanged value: still done
        assert runner.status("mkimgs.A.3to20keV") == "done"
        runner.set_params("mkimgs.A.3to20keV", binning=1, det1=False)  # the defaults, said out loud
        assert runner.status("mkimgs.A.3to20keV") == "done"
        runner.set_params("mkimgs.A.3to20keV", binning=2)
        assert runner.status("mkimgs.A.3to20keV") == "stale"
        runner.set_params("mkimgs.A.3to20keV", binning=1)              # back to what it ran with
        assert runner.status("mkimgs.A.3to20keV") == "done"
        runner.set_params("mkinstrmap.A", prefix="")
        with pytest.raises(InputError, match="--elow inf is not a finite number"):
            runner.set_params("mkimgs.A.20to40keV", elow="inf")
        # rerunning replaces what the session wrote, without --overwrite
        runner.run_all(Reporter(lambda e: None), until="projbgd")
        assert set(_upto_projbgd(runner.statuses())) == {"done"}
        assert fits.getheader(ev / "aspecthistA.fits")["X_OFF"] == x_off + 3


def test_overwrite_rule_protects_files_the_session_did_not_write(small_observation, tmp_path):
    ev = copy_observation(small_observation, tmp_path)
    stray = ev / f"nu{SEQ}A01_cl_3to20keV.fits"
    stray.write_bytes(b"a file the user made")
    os.utime(stray, ns=(1, 1))  # older than the events: not adopted as a product
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        runner = Runner(session)
        with pytest.raises(InputError, match="was not written by this session"):
            runner.run("mkimgs.A.3to20keV", Reporter(lambda e: None))
        assert stray.read_bytes() == b"a file the user made"
        assert runner.status("mkimgs.A.3to20keV") == "ready"
        runner.run("aspecthist.A", Reporter(lambda e: None))
        hist = ev / "aspecthistA.fits"
        with fits.open(hist, mode="update") as h:  # the user edits a product
            h[0].header["MYKEY"] = 1
        with pytest.raises(InputError, match="changed since"):
            runner.run("aspecthist.A", Reporter(lambda e: None))
        assert fits.getheader(hist)["MYKEY"] == 1
        Runner(session, overwrite=True).run("aspecthist.A", Reporter(lambda e: None))
        assert "MYKEY" not in fits.getheader(hist)


def test_cancel_leaves_no_output_and_the_step_ready(small_observation, tmp_path):
    ev = copy_observation(small_observation, tmp_path)
    with Session.open(ev, observation={"seqid": SEQ, "modules": ["A"]}) as session:
        runner = Runner(session)
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            runner.run("mkimgs.A.3to20keV", Reporter(lambda e: None, cancel=token))
        assert not (ev / f"nu{SEQ}A01_cl_3to20keV.fits").exists()
        assert runner.status("mkimgs.A.3to20keV") == "ready"
        assert session.record("mkimgs.A.3to20keV")["status"] == "cancelled"
        # a step that needs an earlier one says which
        with pytest.raises(InputError, match="run that step first"):
            runner.run("projbgd.A", Reporter(lambda e: None))


HOLD = textwrap.dedent("""
    import sys, time
    from nuskybgd.pipeline import Session
    s = Session.open(sys.argv[1], observation={"seqid": "90000000002", "modules": ["A"]})
    print("holding", flush=True)
    time.sleep(60)
""")


def test_second_writer_is_refused_and_a_dead_holder_does_not_block(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        with pytest.raises(SessionLocked, match="open in another nuskybgd"):
            Session.open(tmp_path)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with Session.open(tmp_path) as session:  # the lock died with its holder
        assert session.observation["seqid"] == SEQ


def test_corrupt_session_file_is_one_sentence(tmp_path):
    (tmp_path / "nuskybgd-session.toml").write_text("schema = 1\n[observation\n")
    with pytest.raises(InputError, match="not valid TOML"):
        Session.open(tmp_path)
    (tmp_path / "nuskybgd-session.toml").write_text("schema = 99\n[observation]\nseqid='1'\n")
    with pytest.raises(InputError, match="schema 99"):
        Session.open(tmp_path)


def test_nuskybgd_run_resumes_a_session(processed):
    ev, _, _ = processed
    before = _snapshot(ev)
    proc = subprocess.run([sys.executable, "-m", "nuskybgd", "run", str(ev / "nuskybgd-session.toml"),
                           "--until", "projbgd"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("already done") == 6 and "Traceback" not in proc.stderr
    assert _snapshot(ev) == before
    status = subprocess.run([sys.executable, "-m", "nuskybgd", "run", str(ev), "--status"],
                            capture_output=True, text=True, timeout=120)
    assert "✔ done     projbgd.A" in status.stdout


def test_views_hand_plain_products_to_a_front_end(processed):
    from nuskybgd.pipeline import views

    ev, _, _ = processed
    with Session.open(ev) as session:
        runner = Runner(session)
        products = views.stage_products(runner, "projbgd")
        assert {p.path.name for p in products} == {"bgdapA.fits", "det0Aim.fits", "det1Aim.fits",
                                                    "det2Aim.fits", "det3Aim.fits"}
        img = views.image(ev / "bgd" / "bgdapA.fits")
        assert img.data.shape == (1000, 1000) and img.calibration == "BUILTIN"
        assert img.unit.startswith("ct/") and img.header["MODULE"] == "A"
        counts = views.image(ev / f"nu{SEQ}A01_cl_3to20keV.fits")
        assert counts.data.sum() == counts.header["TOTCTS"]
        outlines = views.detector_outlines(runner, "A")
        assert sorted(outlines) == [0, 1, 2, 3]
        # the four footprints barely overlap (gaps and the aspect smear only)
        overlap = sum(o.astype(int) for o in outlines.values()) > 1
        assert overlap.sum() < 0.05 * sum(o.sum() for o in outlines.values())
        obs = runner.observation
        assert obs["seqid"] == SEQ and obs["calibration"] == "BUILTIN" and obs["saved_at"]
