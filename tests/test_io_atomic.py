"""Atomic single-file output: modes on shared servers, and one clear sentence for every folder
that cannot be written (nothing half-written, no temporary file left behind)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.errors import NuskybgdError, OutputError, OutputExistsError
from nuskybgd.io.atomic import (
    TMP_TAG,
    check_writable,
    host_tag,
    remove_stale_temporaries,
    write_fits_atomic,
    write_text_atomic,
)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "nuskybgd" in p.name)


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda m: os.umask(m)
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_outputs_follow_the_umask(tmp_path: Path, umask, mask: int, expected: int) -> None:
    umask(mask)
    t = write_text_atomic(tmp_path / "a.txt", "hello\n")
    f = write_fits_atomic(tmp_path / "b.fits", fits.HDUList([fits.PrimaryHDU(np.zeros((2, 2)))]))
    g = write_fits_atomic(tmp_path / "c.fits.gz", fits.HDUList([fits.PrimaryHDU(np.ones(3))]))
    assert (_mode(t), _mode(f), _mode(g)) == (expected, expected, expected)
    assert _leftovers(tmp_path) == []


def test_overwrite_keeps_the_mode_of_the_replaced_file(tmp_path: Path, umask) -> None:
    umask(0o077)
    p = tmp_path / "img.fits"
    p.write_bytes(b"old")
    os.chmod(p, 0o640)
    write_fits_atomic(p, fits.HDUList([fits.PrimaryHDU(np.arange(4.0))]), overwrite=True)
    assert _mode(p) == 0o640
    assert np.array_equal(fits.getdata(p), np.arange(4.0))
    with pytest.raises(OutputExistsError):
        write_text_atomic(p, "x")
    assert _mode(p) == 0o640


def _one_sentence(exc: NuskybgdError, named: str) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg.endswith(".") and named in msg, msg
    return msg


def test_output_path_is_an_existing_folder(tmp_path: Path) -> None:
    d = tmp_path / "out.fits"
    d.mkdir()
    (d / "keep").write_text("k")
    for overwrite in (False, True):
        with pytest.raises(OutputError) as e:
            write_text_atomic(d, "x", overwrite=overwrite)
        assert "existing folder" in _one_sentence(e.value, str(d))
    assert (d / "keep").read_text() == "k"
    assert _leftovers(tmp_path) == []


def test_output_folder_is_a_file_is_not_reported_as_missing(tmp_path: Path) -> None:
    f = tmp_path / "notafolder"
    f.write_text("data")
    for target in (f / "out.fits", f / "deeper" / "out.fits"):
        with pytest.raises(OutputError) as e:
            write_text_atomic(target, "x")
        msg = _one_sentence(e.value, str(f))
        assert "is a file, not a folder" in msg and "does not exist" not in msg
    assert f.read_text() == "data"


def test_missing_folder_says_create_it(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as e:
        check_writable(tmp_path / "nope" / "out.fits")
    assert "does not exist" in _one_sentence(e.value, str(tmp_path / "nope"))


def test_a_device_is_never_replaced(tmp_path: Path) -> None:
    for overwrite in (False, True):
        with pytest.raises(OutputError) as e:
            write_text_atomic("/dev/full", "x", overwrite=overwrite)
        assert "not a regular file" in _one_sentence(e.value, "/dev/full")
    assert Path("/dev/full").is_char_device()


def test_proc_is_not_writable_even_for_root() -> None:
    target = Path(f"/proc/{os.getpid()}/nuskybgd-out.fits")
    with pytest.raises(OutputError) as e:
        write_fits_atomic(target, fits.HDUList([fits.PrimaryHDU(np.zeros(3))]))
    _one_sentence(e.value, str(target))


def _mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); "
                    "the read-only / full-disk cases need one")


@pytest.fixture
def tmpfs(tmp_path: Path):
    mounted: list[Path] = []

    def make(name: str, options: str) -> Path:
        where = tmp_path / name
        _mount_tmpfs(where, options)
        mounted.append(where)
        return where

    yield make
    for m in mounted:
        subprocess.run(["umount", str(m)], check=False)


def test_read_only_file_system(tmpfs) -> None:
    ro = tmpfs("ro", "size=1m,ro")
    with pytest.raises(OutputError) as e:
        write_text_atomic(ro / "out.txt", "x")
    assert "read-only" in _one_sentence(e.value, str(ro))
    assert list(ro.iterdir()) == []


def test_full_disk_leaves_nothing_behind(tmpfs, tmp_path: Path) -> None:
    small = tmpfs("small", "size=64k")
    (small / "old.fits").write_bytes(b"previous")
    big = fits.HDUList([fits.PrimaryHDU(np.zeros((200, 200)))])  # 320 kB
    with pytest.raises(OutputError) as e:
        write_fits_atomic(small / "big.fits", big)
    assert "no space left" in _one_sentence(e.value, str(small))
    with pytest.raises(OutputError):
        write_fits_atomic(small / "old.fits", big, overwrite=True)
    assert sorted(p.name for p in small.iterdir()) == ["old.fits"]
    assert (small / "old.fits").read_bytes() == b"previous"
    with pytest.raises(OutputError):
        write_text_atomic(small / "t.txt", "x" * 200_000)
    assert sorted(p.name for p in small.iterdir()) == ["old.fits"]


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".out.fits{TMP_TAG}{host_tag()}.{dead}.abcd"
    live = tmp_path / f".out.fits{TMP_TAG}{host_tag()}.{os.getpid()}.ef01"
    other_host = tmp_path / f".out.fits{TMP_TAG}elsewhere.{dead}.abcd"
    for p in (stale, live, other_host):
        p.write_text("partial")
    write_text_atomic(tmp_path / "out.fits", "done")
    assert not stale.exists() and live.exists() and other_host.exists()
    assert remove_stale_temporaries(tmp_path) == []
    assert (tmp_path / "out.fits").read_text() == "done"
