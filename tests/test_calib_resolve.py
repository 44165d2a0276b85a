"""The per-item resolver (CALDB → auxiliary folder → built-in) and its announcements."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.calib import ITEMS, resolve
from nuskybgd.errors import CalibrationError


@pytest.fixture
def clean_env(monkeypatch, tmp_path: Path) -> Path:
    for var in ("CALDB", "NUSKYBGD_AUXIL", "NUSKYBGD_AUXIL_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NUSKYBGD_CACHE", str(tmp_path / "empty-cache"))
    return tmp_path


def test_nothing_installed_means_builtin_and_it_is_announced(clean_env, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="nuskybgd.calib"):
        cal = resolve("FPMA")
    assert cal.module == "A" and cal.source == "BUILTIN" and cal.uses_builtin
    assert {it.source for it in cal.items()} == {"BUILTIN"}
    assert [it.item for it in cal.items()] == list(ITEMS)
    assert len(cal.warnings) == len(ITEMS)
    assert any("built-in" in r.getMessage() and "FPMA" in r.getMessage() for r in caplog.records)
    # the built-in objects are usable
    assert cal.pixel_map().det.shape == (360, 360)
    assert cal.active_area().sum() == (cal.pixel_map().det >= 0).sum()
    assert cal.aperture_image().shape == (360, 360)
    assert cal.aperture_image_full().shape == (576, 576)
    assert cal.rmf(1).header["DETNAM"] == "DET1"
    assert cal.aperture_params()["shift_x_mm"] == pytest.approx(-3.4)
    assert cal.presets()["models"][0]["name"] == "2:apbgd"
    assert cal.source_for("presets") == "BUILTIN"


def test_auxil_env_folder_is_used_per_item(clean_env, monkeypatch) -> None:
    folder = shared_path("nuskybgd-auxil")
    monkeypatch.setenv("NUSKYBGD_AUXIL", str(folder))
    cal = resolve("B")
    src = {it.item: it for it in cal.items()}
    assert src["aperture_image"].source == "AUXIL"
    assert src["aperture_image"].location.endswith("detB_det1.img.gz")
    assert src["onaxis_arf"].location.endswith("fcxbB.arf")
    assert src["pixel_map"].source == "BUILTIN"  # not in the auxiliary set
    assert cal.source == "AUXIL+BUILTIN"
    assert cal.source_for("aperture_image", "be_transmission") == "AUXIL"
    assert "aperture_image=AUXIL:detB_det1.img.gz" in cal.detail_for("aperture_image")
    # values come from the file: raw × 3.1865e-5 deg², the 360×360 DET1 crop at offset 108
    raw = fits.getdata(folder / "detB_det1.img.gz").astype(np.float64)
    assert np.allclose(cal.aperture_image(), raw[108:468, 108:468] * 3.1865e-5)
    assert np.allclose(cal.aperture_image_full(), raw * 3.1865e-5)
    assert cal.aperture_params() == {"norm": 0.32, "const": 0.0, "shift_x_mm": -3.5,
                                     "shift_y_mm": 1.6, "rotation_deg": 0.0}
    assert np.array_equal(cal.identity_rmf().matrix.diagonal(), np.ones(4096))


def test_prefer_builtin_and_prefer_auxil(clean_env, monkeypatch) -> None:
    monkeypatch.setenv("NUSKYBGD_AUXIL", str(shared_path("nuskybgd-auxil")))
    assert resolve("A", prefer="builtin").source == "BUILTIN"
    cal = resolve("A", prefer="auxil", caldb=clean_env / "not-used")
    assert cal.choice("presets").source == "AUXIL"
    assert "skipped" in cal.choice("pixel_map").reason
    with pytest.raises(CalibrationError, match="prefer"):
        resolve("A", prefer="somewhere")


def test_bad_requests_are_one_sentence_errors(clean_env) -> None:
    with pytest.raises(CalibrationError, match="module"):
        resolve("C")
    with pytest.raises(CalibrationError, match="does not exist"):
        resolve("A", auxil=clean_env / "nope")
    with pytest.raises(CalibrationError, match="DATE-OBS"):
        resolve("A", date_obs="yesterday")
    cal = resolve("A", prefer="builtin")
    with pytest.raises(CalibrationError, match="detector 4"):
        cal.rmf(4)


def test_corrupt_auxil_file_is_named(clean_env, tmp_path: Path) -> None:
    folder = tmp_path / "aux"
    folder.mkdir()
    (folder / "detA_det1.img.gz").write_bytes(b"\x1f\x8b garbage")
    (folder / "ratios.json").write_text("{not json")
    cal = resolve("A", auxil=folder)
    with pytest.raises(CalibrationError, match="detA_det1.img.gz"):
        cal.aperture_image()
    with pytest.raises(CalibrationError, match="ratios.json"):
        cal.presets()


def test_cli_status_default(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200",
           "NUSKYBGD_CACHE": str(tmp_path / "c")}
    r = subprocess.run([sys.executable, "-m", "nuskybgd", "calib", "status", "mod=B"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert "FPMB" in r.stdout and "BUILTIN" in r.stdout and "aperture_image" in r.stdout
    assert "built-in" in r.stderr  # the log line announcing approximate calibration
