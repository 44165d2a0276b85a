"""A set of outputs appears all together or not at all, even under ``kill -9``.

The kill tests run a real subprocess that writes a set of files through
:func:`nuskybgd.io.staging.atomic_set` and is stopped with SIGKILL at a named checkpoint
(``NUSKYBGD_TEST_KILL_AT``).  After the kill, the state (once the next run has recovered it)
must be exactly the previous set or exactly the new set, never a mixture, and a plain rerun
must give the complete set with no staging or temporary file left anywhere.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nuskybgd.errors import OutputError, OutputExistsError
from nuskybgd.io.atomic import write_text_atomic
from nuskybgd.io.staging import atomic_set, recover_staging
from nuskybgd.testhooks import ENV_KILL_AT

NAMES = ["a.txt", "sub/b.txt", "sub/deeper/c.txt", "d.txt"]

WRITER = r"""
import sys
from pathlib import Path
from nuskybgd.io.atomic import write_text_atomic
from nuskybgd.io.staging import atomic_set
out, version, overwrite = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
names = sys.argv[4:]
with atomic_set([out / n for n in names], overwrite=overwrite) as stage:
    for n in names:
        write_text_atomic(stage[out / n], f"{version}:{n}\n")
print("done")
"""


def _run(out: Path, version: str, overwrite: bool, kill_at: str | None = None):
    env = dict(os.environ)
    env.pop(ENV_KILL_AT, None)
    if kill_at:
        env[ENV_KILL_AT] = kill_at
    return subprocess.run([sys.executable, "-c", WRITER, str(out), version, "1" if overwrite else "0",
                           *NAMES], capture_output=True, text=True, env=env, timeout=60)


def _state(out: Path) -> dict[str, str]:
    return {n: (out / n).read_text() for n in NAMES if (out / n).exists()}


def _complete(version: str) -> dict[str, str]:
    return {n: f"{version}:{n}\n" for n in NAMES}


def _debris(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".nuskybgd-" in p.name or "nuskybgd-tmp" in p.name]


BEFORE_COMMIT = ["atomic.before_replace:1", "atomic.before_replace:3", "atomic_set.staged"]
AFTER_COMMIT = ["atomic_set.committed", "atomic_set.moved:1", "atomic_set.moved:3"]


@pytest.mark.parametrize("kill_at", BEFORE_COMMIT + AFTER_COMMIT)
def test_kill_leaves_old_or_new_set_and_rerun_completes(tmp_path: Path, kill_at: str) -> None:
    out = tmp_path / "obs"
    r = _run(out, "v1", overwrite=False, kill_at=kill_at)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _debris(tmp_path)  # the kill really happened mid-way
    # the next run's recovery: either nothing (before the commit) or the whole set
    recover_staging(out)
    assert _state(out) == ({} if kill_at in BEFORE_COMMIT else _complete("v1"))
    assert _debris(tmp_path) == []
    # a plain rerun (no overwrite) of an interrupted first run
    before_rerun = _state(out)
    r = _run(out, "v1", overwrite=False)
    if before_rerun:  # already complete: the rerun refuses to replace it, touching nothing
        assert r.returncode == 1 and "already exists" in r.stderr
    else:
        assert r.returncode == 0, r.stderr
    assert _state(out) == _complete("v1")
    assert _debris(tmp_path) == []


@pytest.mark.parametrize("kill_at", BEFORE_COMMIT + AFTER_COMMIT)
def test_kill_during_overwrite_never_mixes_versions(tmp_path: Path, kill_at: str) -> None:
    out = tmp_path / "obs"
    assert _run(out, "v1", overwrite=False).returncode == 0
    r = _run(out, "v2", overwrite=True, kill_at=kill_at)
    assert r.returncode == -signal.SIGKILL
    # the next run (here a rerun with overwrite) first recovers, then writes
    recover_staging(out)
    assert _state(out) == (_complete("v1") if kill_at in BEFORE_COMMIT else _complete("v2"))
    assert _run(out, "v3", overwrite=True).returncode == 0
    assert _state(out) == _complete("v3")
    assert _debris(tmp_path) == []


def test_rerun_recovers_without_being_asked(tmp_path: Path) -> None:
    out = tmp_path / "obs"
    assert _run(out, "v1", False, kill_at="atomic_set.moved:2").returncode == -signal.SIGKILL
    partial = _state(out)
    assert 0 < len(partial) < len(NAMES)  # a reader in between would see a partial set...
    r = _run(out, "v9", overwrite=False)  # ...but the next run first completes the committed one
    assert r.returncode == 1 and "already exists" in r.stderr
    assert _state(out) == _complete("v1") and _debris(tmp_path) == []


def test_failure_in_body_writes_nothing(tmp_path: Path) -> None:
    outs = [tmp_path / "x" / n for n in ("a.fits", "b.fits")]
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_set(outs) as stage:
            write_text_atomic(stage[outs[0]], "a")
            raise RuntimeError("boom")
    assert not (tmp_path / "x").exists() and _debris(tmp_path) == []


def test_existing_output_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "b.fits").write_text("mine")
    with pytest.raises(OutputExistsError):
        with atomic_set([tmp_path / "a.fits", tmp_path / "b.fits"]):
            pytest.fail("the body must not run")
    assert (tmp_path / "b.fits").read_text() == "mine" and not (tmp_path / "a.fits").exists()


def test_output_appearing_during_the_run_is_not_replaced(tmp_path: Path) -> None:
    outs = [tmp_path / "a.fits", tmp_path / "b.fits"]
    with pytest.raises(OutputExistsError):
        with atomic_set(outs) as stage:
            for p in outs:
                write_text_atomic(stage[p], "new")
            outs[1].write_text("someone else's")
    assert outs[1].read_text() == "someone else's" and not outs[0].exists()
    assert _debris(tmp_path) == []


def test_folder_and_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "dir.fits").mkdir()
    with pytest.raises(OutputError, match="existing folder"):
        with atomic_set([tmp_path / "dir.fits"], overwrite=True):
            pass
    (tmp_path / "plain").write_text("f")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        with atomic_set([tmp_path / "plain" / "a.fits"]):
            pass


def test_overwrite_keeps_modes_and_new_files_follow_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        (tmp_path / "a.txt").write_text("old")
        os.chmod(tmp_path / "a.txt", 0o600)
        outs = [tmp_path / "a.txt", tmp_path / "n" / "b.txt"]
        with atomic_set(outs, overwrite=True) as stage:
            for p in outs:
                write_text_atomic(stage[p], "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "n" / "b.txt").stat().st_mode) == 0o644
    assert (tmp_path / "a.txt").read_text() == "new"


def test_data_dependent_outputs(tmp_path: Path) -> None:
    outs = [tmp_path / f"bgd{d}A.reg" for d in range(4)]
    with atomic_set(outs, require_all=False) as stage:
        write_text_atomic(stage[outs[1]], "det1")
    assert [p.exists() for p in outs] == [False, True, False, False]
    with pytest.raises(RuntimeError, match="incomplete"):
        with atomic_set([tmp_path / "x.reg", tmp_path / "y.reg"]) as stage:
            write_text_atomic(stage[tmp_path / "x.reg"], "x")
    assert not (tmp_path / "x.reg").exists()
