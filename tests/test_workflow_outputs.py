"""fit, spec, simplify, combine and image write their products as one all-or-nothing set
(``nuskybgd.io.staging.atomic_set``): a run SIGKILLed while writing leaves none of its products
and a plain rerun succeeds; an existing product is never replaced without --overwrite (one
sentence, exit 2, the file untouched); the ``.xcm`` files name the final paths of the files
they reference, never the staging folder's; simplify's native state re-imports to the same
projected model as its ``.xcm``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nuskybgd.cli import main
from workflow_obs import make_bgd_folder

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    """A bgd folder with the whole chain run once for FPMA and FPMB (the inputs of each step)."""
    bgd = make_bgd_folder(tmp_path_factory.mktemp("outputs"), ("A", "B"), exposure=5e4, seed=11)
    for m in "AB":
        shutil.copy(bgd / f"bgd3{m}.reg", bgd / f"src{m}.reg")
        shutil.copy(bgd / f"nu90000001{m}01_bgd3{m}_sr.pha", bgd / f"src{m}.pha")
        assert main(["config", str(bgd), "--mod", m]) == 0
        assert main(["fit", str(bgd / f"bgdinfo{m}.json"), "--savefile", f"fit{m}"]) == 0
        assert main(["spec", str(bgd / f"bgdinfo{m}.json"), str(bgd / f"fit{m}_fit.json"),
                     str(bgd / f"src{m}.reg"), str(bgd / f"src{m}.pha")]) == 0
        assert main(["simplify", str(bgd / f"bgdinfo{m}.json"), str(bgd / f"bgd_src{m}.xcm")]) == 0
    return bgd


def _commands(bgd: Path, out: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Step → (command line writing into ``out``, the product names it writes)."""
    cfg, fitted = str(bgd / "bgdinfoA.json"), str(bgd / "fitA_fit.json")
    return {
        "fit": (["fit", cfg, "--savefile", "fitA", "--outdir", str(out)],
                ["fitA.xcm", "fitA_fit.xcm", "fitA_fit.json", "be.arf", "diag.rmf", "fcxbA.arf"]),
        "spec": (["spec", cfg, fitted, str(bgd / "srcA.reg"), str(bgd / "srcA.pha"), "--outdir", str(out)],
                 ["bgd_srcA.xcm", "bgd_srcA_bk.pha"]),
        "simplify": (["simplify", cfg, str(bgd / "bgd_srcA.xcm"), "--outdir", str(out)],
                     ["bgd_only_srcA.xcm", "bgd_only_srcA.json"]),
        "combine": (["combine", str(bgd / "bgd_only_srcA.xcm"), str(bgd / "bgd_only_srcB.xcm"),
                     "--out", str(out / "both.xcm")], ["both.xcm"]),
        "image": (["image", cfg, fitted, "3", "20", "--outdir", str(out)],
                  [f"bgd_{c}_A.fits" for c in ("apbgd", "intbgd", "fcxb", "intn", "total")]),
    }


def _cli(args: list[str], kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NUSKYBGD_TEST_KILL_AT"}
    env["PYTHONPATH"] = str(REPO / "src")
    if kill_at:
        env["NUSKYBGD_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "nuskybgd", *args], env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if "nuskybgd-stage" in p.name or "nuskybgd-tmp" in p.name]


def _names_resolve(xcm: Path) -> None:
    """Every file an .xcm names exists relative to its folder, and none is a staging path."""
    text = xcm.read_text()
    assert "nuskybgd-stage" not in text
    for line in text.splitlines():
        word = line.split()
        if word and word[0] in ("data", "response", "arf"):
            named = Path(word[-1])
            assert (named if named.is_absolute() else xcm.parent / named).is_file(), line


@pytest.mark.parametrize("step", ["fit", "spec", "simplify", "combine", "image"])
def test_killed_while_writing_leaves_no_product_and_a_rerun_succeeds(chain, tmp_path, step):
    args, names = _commands(chain, tmp_path)[step]
    killed = _cli(args, kill_at="atomic_set.staged")      # every product staged, none committed
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert [n for n in names if (tmp_path / n).exists()] == []
    rerun = _cli(args)                                     # no --overwrite needed
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "Traceback" not in rerun.stderr
    assert all((tmp_path / n).is_file() for n in names)
    assert _leftovers(tmp_path) == []
    for n in names:
        if n.endswith(".xcm"):
            _names_resolve(tmp_path / n)


def test_fit_killed_after_its_commit_is_completed_by_the_next_run(chain, tmp_path):
    args, names = _commands(chain, tmp_path)["fit"]
    killed = _cli(args, kill_at="atomic_set.moved:2")     # committed, two of six files moved
    assert killed.returncode == -signal.SIGKILL
    assert 0 < sum((tmp_path / n).exists() for n in names) < len(names)
    again = _cli(args + ["--overwrite"])
    assert again.returncode == 0, again.stderr[-2000:]
    assert all((tmp_path / n).is_file() for n in names) and _leftovers(tmp_path) == []
    _names_resolve(tmp_path / "fitA_fit.xcm")


@pytest.mark.parametrize("step", ["fit", "spec", "simplify", "combine", "image"])
def test_existing_product_is_refused_without_overwrite(chain, tmp_path, capsys, step):
    args, names = _commands(chain, tmp_path)[step]
    victim = tmp_path / names[-1]
    victim.write_bytes(b"the user's own file\n")
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]      # progress lines may precede it
    assert "Traceback" not in err and len(errors) == 1, err
    assert str(victim) in errors[0] and "--overwrite" in errors[0]
    assert victim.read_bytes() == b"the user's own file\n"
    assert [n for n in names[:-1] if (tmp_path / n).exists()] == []   # nothing else written either
    assert _leftovers(tmp_path) == []


def test_simplified_state_reimports_to_the_projected_model(chain):
    from nuskybgd.spectral import read_xcm
    from nuskybgd.workflow.fit import load_fitted

    from_xcm = read_xcm(chain / "bgd_only_srcA.xcm").build()
    from_json = load_fitted(chain / "bgd_only_srcA.json").build()
    projected = read_xcm(chain / "bgd_srcA.xcm").build()
    n_bg = len(projected.spectra) - 1                     # spec appended the source as the last group
    assert len(from_json.spectra) == len(from_xcm.spectra) == 1
    assert [p.is_free for p in from_json.parameters] == [False] * len(from_json.parameters)
    for s in projected.sources:
        want = projected.model_counts(n_bg + 1, source=s.name)   # spec's model of the source region
        assert np.abs(want).sum() > 0, s.name
        np.testing.assert_allclose(from_xcm.model_counts(1, source=s.name), want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(from_json.model_counts(1, source=s.name), want, rtol=1e-9, atol=1e-12)
