"""Shared fixtures: the real sample data in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path:
    """``shared/data`` beside the checkout, or beside an ancestor (git worktrees live deeper)."""
    for base in REPO.parents:
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "data"


SHARED_DATA = _find_shared_data()


def shared_path(*parts: str) -> Path:
    """Path of a file in ../shared/data; skips the test with a reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"sample data {p} is not present (it lives beside the project, never in it)")
    return p


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder {SHARED_DATA} is not present")
    return SHARED_DATA


def _shared_listing() -> set[str]:
    if not SHARED_DATA.is_dir():
        return set()
    return {str(p.relative_to(SHARED_DATA)) for p in SHARED_DATA.rglob("*")}


@pytest.fixture(scope="session", autouse=True)
def shared_data_stays_untouched():
    """Tests run as root, so read-only bits do not protect ../shared/data: fail the run if any test
    wrote a file there (a step whose default output folder is its input's)."""
    before = _shared_listing()
    yield
    added = sorted(_shared_listing() - before)
    assert not added, f"tests wrote into {SHARED_DATA}: {added}"


@pytest.fixture(scope="session")
def small_observation(tmp_path_factory) -> Path:
    """A short simulated observation (20 ks, FPMA and FPMB, point source, built-in calibration),
    made once per test session; returns its ``event_cl/`` folder.  Tests that modify files copy it
    (:func:`copy_observation`)."""
    from nuskybgd.simulate.core import simulate_observation

    root = tmp_path_factory.mktemp("small-observation")
    res = simulate_observation(root, seqid="90000000002", exposure=20e3, seed=11, source="point",
                               calibration="nominal")
    return Path(res.event_dir)


def copy_observation(event_dir: Path, dest: Path) -> Path:
    """A copy of an observation's ``event_cl/`` folder in ``dest`` (returns the copy)."""
    import shutil

    target = dest / "event_cl"
    shutil.copytree(event_dir, target)
    return target

def image_side_fpma(sim, **projbgd_options):
    """mkimgs (3–20 keV), mkinstrmap, aspecthist and projbgd for FPMA of a simulated observation,
    with the built-in calibration; returns (event_cl, bgd folder, calibration)."""
    from nuskybgd.calib import resolve
    from nuskybgd.pipeline.steps import AspectHistStep, MkImgsStep, MkInstrMapStep, ProjBgdStep

    ev = sim.modules["A"]
    work = ev.event_file.parent
    MkImgsStep(ev.event_file, 3, 20).run()
    cal = resolve("A", prefer="builtin")
    MkInstrMapStep(ev.event_file, outdir=work, calibration=cal).run()
    AspectHistStep(ev.det1_file, ev.gti_file, work / "aspecthistA.fits").run()
    bgd = work / "bgd"
    bgd.mkdir()
    ProjBgdStep(bgd / "bgdapA.fits", "A", work / "newinstrmapA.fits", work / "aspecthistA.fits",
                refimg=work / f"nu{sim.seqid}A01_cl_3to20keV.fits", calibration=cal, **projbgd_options).run()
    return work, bgd, cal


@pytest.fixture(scope="session")
def region_observation(tmp_path_factory):
    """One simulated FPMA observation (50 ks, point source) for the region and spectrum tests.

    Holds the full observation with its projbgd detector images, the same observation's source
    photons alone and its background alone (same seed, so the same GTIs, aspect track and bad
    pixels: ``components`` only decides which photons are drawn), ``srcA.reg`` (60″ fk5 circle on
    the simulated source) and the automatic background regions made with the real StrayCats
    region as a DET1 exclusion.
    """
    from types import SimpleNamespace

    from nuskybgd.products.background_regions import make_background_regions
    from nuskybgd.simulate.core import simulate_observation

    root = tmp_path_factory.mktemp("regions_obs")
    common = dict(exposure=50e3, seed=5, source="point", modules=("A",), calibration="nominal",
                  convention="projbgd")
    sim = simulate_observation(root / "full", **common)
    src_only = simulate_observation(root / "src", components=("source",), **common)
    bgd_only = simulate_observation(root / "bgd", components=("apbgd", "intbgd", "fcxb", "intn"), **common)
    ev = sim.modules["A"]
    work, bgd, cal = image_side_fpma(sim)
    src = sim.modules["A"].truth["source"]
    src_reg = bgd / "srcA.reg"
    src_reg.write_text(f'# Region file format: DS9\nfk5\ncircle({src["ra"]},{src["dec"]},60")\n')
    stray = SHARED_DATA / "real" / "nustar-gen-utils" / "30002041016A_StrayCatsI_704.reg"
    det_images = [bgd / f"det{d}Aim.fits" for d in range(4)]
    auto = make_background_regions(ev.event_file, det_images, src_reg, bgd,
                                   det1_exclusions=[stray] if stray.is_file() else [],
                                   det1_file=ev.det1_file, convention="projbgd")
    return SimpleNamespace(sim=sim, src_only=src_only, bgd_only=bgd_only, work=work, bgd=bgd,
                           event_file=ev.event_file, det1_file=ev.det1_file, det_images=det_images,
                           src_reg=src_reg, stray=stray, auto=auto, calibration=cal,
                           truth=sim.modules["A"].truth)

@pytest.fixture(scope="session")
def demo_observation(tmp_path_factory) -> Path:
    """``event_cl/`` of one short simulated observation (2 ks, seed 1), made once per session
    through the real command line.  Treat it as read-only: copy a file before altering it."""
    import subprocess
    import sys

    top = tmp_path_factory.mktemp("demo_observation")
    r = subprocess.run([sys.executable, "-m", "nuskybgd", "simulate", str(top / "sim"), "--exposure", "2000"],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return top / "sim" / "90000000002" / "event_cl"
