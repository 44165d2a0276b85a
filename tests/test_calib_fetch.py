"""``nuskybgd calib fetch`` against a local HTTP server (127.0.0.1 only; never the internet)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import shared_path
from nuskybgd.calib import auxil
from nuskybgd.errors import CalibrationError


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def serve() -> Iterator:
    """Start a threaded HTTP server for a folder; yields a function folder -> base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(folder))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_pinned_manifest_matches_the_reference_set() -> None:
    folder = shared_path("nuskybgd-auxil")
    names = sorted(p.name for p in folder.iterdir())
    pinned = {f.name: f for f in auxil.pinned_files()}
    assert sorted(pinned) == names
    for name in names:
        assert pinned[name].sha256 == _sha(folder / name)
        assert pinned[name].size == (folder / name).stat().st_size
    assert auxil.manifest()["commit"].startswith("4d24370")


def test_default_url_is_the_pinned_commit() -> None:
    f = next(x for x in auxil.pinned_files() if x.name == "be.arf")
    url = auxil.file_url(f, None)
    assert url.startswith("https://raw.githubusercontent.com/achronal/nuskybgd-py/4d24370")
    assert url.endswith("/auxil/be.arf")
    assert auxil.file_url(f, "http://mirror.example/x") == "http://mirror.example/x/be.arf"


def test_fetch_installs_verified_copies(serve, tmp_path: Path) -> None:
    src = shared_path("nuskybgd-auxil")
    base = serve(src)
    dest = tmp_path / "cache" / "auxil"
    lines: list[str] = []
    paths = auxil.fetch_auxil(dest, base_url=base, progress=lines.append)
    assert sorted(p.name for p in paths) == sorted(p.name for p in src.iterdir())
    for p in paths:
        assert p.read_bytes() == (src / p.name).read_bytes()
    assert sorted(os.listdir(tmp_path / "cache")) == ["auxil"]  # no temp folder left
    assert auxil.verify_auxil(dest) == {p.name: "ok" for p in paths}
    # a second run downloads nothing
    again: list[str] = []
    auxil.fetch_auxil(dest, base_url=base, progress=again.append)
    assert all("already present" in line for line in again)


def test_checksum_mismatch_leaves_nothing_behind(serve, tmp_path: Path) -> None:
    src = shared_path("nuskybgd-auxil")
    bad = tmp_path / "mirror"
    shutil.copytree(src, bad)
    os.chmod(bad / "ratios.json", 0o644)
    data = bytearray((bad / "ratios.json").read_bytes())
    data[100] ^= 0x01  # same size, one bit different
    (bad / "ratios.json").write_bytes(bytes(data))
    base = serve(bad)
    parent = tmp_path / "cache"
    parent.mkdir()
    dest = parent / "auxil"
    with pytest.raises(CalibrationError) as err:
        auxil.fetch_auxil(dest, base_url=base)
    assert "ratios.json" in str(err.value) and "checksum" in str(err.value)
    assert not dest.exists()
    assert os.listdir(parent) == []


def test_missing_file_on_mirror_leaves_nothing_behind(serve, tmp_path: Path) -> None:
    src = shared_path("nuskybgd-auxil")
    partial = tmp_path / "mirror"
    shutil.copytree(src, partial)
    os.chmod(partial, 0o755)
    (partial / "diag.rmf").unlink()
    base = serve(partial)
    dest = tmp_path / "cache" / "auxil"
    with pytest.raises(CalibrationError, match="diag.rmf"):
        auxil.fetch_auxil(dest, base_url=base)
    assert not dest.exists() and os.listdir(tmp_path / "cache") == []


def test_existing_different_file_is_not_replaced_without_overwrite(serve, tmp_path: Path) -> None:
    src = shared_path("nuskybgd-auxil")
    base = serve(src)
    dest = tmp_path / "auxil"
    dest.mkdir()
    (dest / "be.arf").write_bytes(b"not the pinned file")
    with pytest.raises(CalibrationError, match="be.arf"):
        auxil.fetch_auxil(dest, base_url=base)
    assert (dest / "be.arf").read_bytes() == b"not the pinned file"
    auxil.fetch_auxil(dest, base_url=base, overwrite=True)
    assert (dest / "be.arf").read_bytes() == (src / "be.arf").read_bytes()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {"PATH": "/usr/bin:/bin", **env}
    return subprocess.run([sys.executable, "-m", "nuskybgd", "calib", *args], capture_output=True,
                          text=True, timeout=120, env=full)


def test_cli_fetch_to_cache_env_and_resolve_uses_it(serve, tmp_path: Path) -> None:
    base = serve(shared_path("nuskybgd-auxil"))
    env = {"HOME": str(tmp_path), "NUSKYBGD_CACHE": str(tmp_path / "nc"), "NUSKYBGD_AUXIL_URL": base}
    r = _cli(["fetch"], env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "nc" / "auxil" / "detA_det1.img.gz").is_file()
    st = _cli(["status", "--mod", "B", "--verify"], {**env, "COLUMNS": "200"})
    assert st.returncode == 0, st.stderr
    assert "AUXIL" in st.stdout and "all pinned files verified" in st.stdout


def test_cli_fetch_mismatch_exits_2_with_one_sentence(serve, tmp_path: Path) -> None:
    bad = tmp_path / "mirror"
    shutil.copytree(shared_path("nuskybgd-auxil"), bad)
    os.chmod(bad / "be.arf", 0o644)
    (bad / "be.arf").write_bytes(b"x" * 63360)
    base = serve(bad)
    r = _cli(["fetch", "--dest", str(tmp_path / "dest"), f"base_url={base}"], {"HOME": str(tmp_path)})
    assert r.returncode == 2
    assert "be.arf" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "dest").exists()
