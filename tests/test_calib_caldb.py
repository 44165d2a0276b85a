"""CALDB index lookup and CALDB-sourced calibration on a CALDB tree built in tmp_path.

The tree holds copies of the real CALDB pieces (PIXPOS v007, the FPMA DET3 RMF, the on-axis ARF
v004 that nuskybgd-py ships as fcxbA.arf) plus INSTRMAP/GRPRMF/DETABS/BEABSPAR files written here
to the CALDB layout, all indexed by a real-format caldb.indx written with astropy.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.calib import resolve
from nuskybgd.calib.caldb import CaldbIndex
from nuskybgd.errors import CalibrationError

FPM = Path("data", "nustar", "fpm")

# (cnam, instrume, detnam, dir below fpm, file, xno, vsd, vst, qual, cbd)
Row = tuple[str, str, str, str, str, int, str, str, int, str]


def write_index(root: Path, rows: list[Row]) -> Path:
    """Write ``root/data/nustar/fpm/caldb.indx`` in the HEASARC CIF layout."""
    n = len(rows)
    col = list(zip(*rows, strict=True)) if rows else [[]] * 10
    cols = [
        fits.Column("TELESCOP", "10A", array=np.array(["NuSTAR"] * n)),
        fits.Column("INSTRUME", "10A", array=np.array(col[1])),
        fits.Column("DETNAM", "20A", array=np.array(col[2])),
        fits.Column("FILTER", "10A", array=np.array(["NONE"] * n)),
        fits.Column("CAL_DEV", "20A", array=np.array(["ONLINE"] * n)),
        fits.Column("CAL_DIR", "70A", array=np.array([str(FPM / d) for d in col[3]])),
        fits.Column("CAL_FILE", "40A", array=np.array(col[4])),
        fits.Column("CAL_CLAS", "3A", array=np.array(["BCF"] * n)),
        fits.Column("CAL_DTYP", "4A", array=np.array(["DATA"] * n)),
        fits.Column("CAL_CNAM", "20A", array=np.array(col[0])),
        fits.Column("CAL_CBD", "630A70", array=np.array(col[9])),
        fits.Column("CAL_XNO", "I", array=np.array(col[5], dtype=np.int16)),
        fits.Column("CAL_VSD", "10A", array=np.array(col[6])),
        fits.Column("CAL_VST", "8A", array=np.array(col[7])),
        fits.Column("REF_TIME", "D", array=np.zeros(n)),
        fits.Column("CAL_QUAL", "I", array=np.array(col[8], dtype=np.int16)),
        fits.Column("CAL_DATE", "10A", array=np.array(["2013-07-25"] * n)),
        fits.Column("CAL_DESC", "70A", array=np.array(["test"] * n)),
    ]
    hdu = fits.BinTableHDU.from_columns(cols, name="CIF")
    hdu.header["CALDBVER"] = "20240101"
    path = root / FPM / "caldb.indx"
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    return path


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture(scope="module")
def caldb_tree(tmp_path_factory) -> Path:
    """A CALDB root with real pieces and CALDB-format companions, for FPMA."""
    root = tmp_path_factory.mktemp("caldb")
    fpm = root / FPM
    pix = _copy(shared_path("caldb-pieces", "nuApixpos20100101v007.fits.gz"),
                fpm / "bcf/pixpos/nuApixpos20100101v007.fits.gz")
    rmf = _copy(shared_path("caldb-pieces", "nuAdet3_20100101v002.rmf.gz"),
                fpm / "cpf/rmf/nuAdet3_20100101v002.rmf.gz")
    _copy(shared_path("nuskybgd-auxil", "fcxbA.arf"), fpm / "bcf/arf/nuA20100101v004.arf")
    # an older PIXPOS and a bad-quality newer one (must both lose to v007)
    _copy(pix, fpm / "bcf/pixpos/nuApixpos20100101v005.fits.gz")
    _copy(pix, fpm / "bcf/pixpos/nuApixpos20100101v008.fits.gz")
    # INSTRMAP: a 360x360 image, 1 on a central square, 0 elsewhere
    im = np.zeros((360, 360), dtype=np.float32)
    im[20:340, 20:340] = 1
    (fpm / "bcf/instrmap").mkdir(parents=True)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(im, name="INSTRMAP")]).writeto(
        fpm / "bcf/instrmap/nuAinstrmap20100101v004.fits")
    # GRPRMF: one GRPRMF table per detector naming its RMF (relative to the GRPRMF folder)
    hdus = [fits.PrimaryHDU()]
    for d in range(4):
        h = fits.BinTableHDU.from_columns([
            fits.Column("RAWX", "1B", array=np.array([0], np.uint8)),
            fits.Column("RAWY", "1B", array=np.array([0], np.uint8)),
            fits.Column("XEXTENT", "1B", array=np.array([32], np.uint8)),
            fits.Column("YEXTENT", "1B", array=np.array([32], np.uint8)),
            fits.Column("RMFFILE", "40A", array=np.array([rmf.name[:-3]])),  # without .gz
        ], name="GRPRMF")
        h.header["DETNAM"] = f"DET{d}"
        hdus.append(h)
    fits.HDUList(hdus).writeto(fpm / "cpf/rmf/nuAcutgrprmf20100101v002.fits")
    # DETABS: four tables, transmission 0.5 + 0.1*det
    lo = 1.6 + 0.04 * np.arange(4096)
    hdus = [fits.PrimaryHDU()]
    for d in range(4):
        h = fits.BinTableHDU.from_columns([
            fits.Column("ENERG_LO", "E", array=lo), fits.Column("ENERG_HI", "E", array=lo + 0.04),
            fits.Column("DETABS", "E", array=np.full(4096, 0.5 + 0.1 * d))], name="DETABS")
        h.header["DETNAM"] = f"DET{d}"
        h.header["EXTVER"] = d + 1
        hdus.append(h)
    (fpm / "bcf/detabs").mkdir(parents=True)
    fits.HDUList(hdus).writeto(fpm / "bcf/detabs/nuAdetabs20100101v003.fits")
    # BEABSPAR: ATT column on the 4096-row grid
    (fpm / "bcf/instrument").mkdir(parents=True)
    att = np.linspace(0.3, 0.99, 4096)
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column("ATT", "E", array=att)], name="BEABSPAR")]).writeto(
        fpm / "bcf/instrument/nuCabsparBe20100101v001.fits")
    rows: list[Row] = [
        ("PIXPOS", "FPMA", f"DET{d}", "bcf/pixpos", "nuApixpos20100101v005.fits.gz", d + 1,
         "2010-01-01", "00:00:00", 0, "") for d in range(4)
    ] + [
        ("PIXPOS", "FPMA", f"DET{d}", "bcf/pixpos", "nuApixpos20100101v007.fits.gz", d + 1,
         "2010-01-01", "00:00:00", 0, "") for d in range(4)
    ] + [
        ("PIXPOS", "FPMA", f"DET{d}", "bcf/pixpos", "nuApixpos20100101v008.fits.gz", d + 1,
         "2012-01-01", "00:00:00", 5, "") for d in range(4)
    ] + [
        ("PIXPOS", "FPMA", "DET0", "bcf/pixpos", "nuApixpos20300101v009.fits.gz", 1,
         "2030-01-01", "00:00:00", 0, ""),
        ("INSTRMAP", "FPMA", "-", "bcf/instrmap", "nuAinstrmap20100101v004.fits", 1,
         "2010-01-01", "00:00:00", 0, ""),
        ("SPECRESP", "FPMA", "-", "bcf/arf", "nuA20100101v004.arf", 1,
         "2010-01-01", "00:00:00", 0, ""),
        ("BEABSPAR", "FPM", "-", "bcf/instrument", "nuCabsparBe20100101v001.fits", 1,
         "2010-01-01", "00:00:00", 0, ""),
    ] + [
        ("GRPRMF", "FPMA", f"DET{d}", "cpf/rmf", "nuAcutgrprmf20100101v002.fits", d + 1,
         "2010-01-01", "00:00:00", 0, "DEPTHCUT(NOMINAL)") for d in range(4)
    ] + [
        ("DETABS", "FPMA", f"DET{d}", "bcf/detabs", "nuAdetabs20100101v003.fits", d + 1,
         "2010-01-01", "00:00:00", 0, "") for d in range(4)
    ]
    write_index(root, rows)
    return root


def test_lookup_prefers_good_quality_then_latest(caldb_tree: Path) -> None:
    idx = CaldbIndex(caldb_tree)
    e = idx.lookup("PIXPOS", "A", "DET0", "2020-06-01T00:00:00")
    # v008 is newer but CAL_QUAL 5; v009 is not valid yet; v007 sorts after v005
    assert e.path.name == "nuApixpos20100101v007.fits.gz"
    assert e.extension == 1 and e.quality == 0
    assert idx.lookup("PIXPOS", "FPMA", "DET2", "2020-06-01").extension == 3
    # after 2030 the v009 row is valid and latest
    assert idx.lookup("PIXPOS", "A", "DET0", "2031-01-01").path.name == "nuApixpos20300101v009.fits.gz"


def test_lookup_validity_start_equal_to_date_obs_is_accepted(caldb_tree: Path) -> None:
    idx = CaldbIndex(caldb_tree)
    assert idx.lookup("INSTRMAP", "A", None, "2010-01-01T00:00:00").path.name.startswith("nuAinstrmap")
    with pytest.raises(CalibrationError):
        idx.lookup("INSTRMAP", "A", None, "2009-12-31T23:59:59")


def test_lookup_missing_item_names_index_and_item(caldb_tree: Path) -> None:
    idx = CaldbIndex(caldb_tree)
    with pytest.raises(CalibrationError) as err:
        idx.lookup("TVIGNET", "A", None, "2020-01-01")
    msg = str(err.value)
    assert "TVIGNET" in msg and str(idx.path) in msg
    with pytest.raises(CalibrationError, match="PIXPOS"):
        idx.lookup("PIXPOS", "B", None, "2020-01-01")  # only FPMA rows exist


def test_be_rows_for_instrume_fpm_serve_both_modules(caldb_tree: Path) -> None:
    idx = CaldbIndex(caldb_tree)
    assert idx.lookup("BEABSPAR", "A").path == idx.lookup("BEABSPAR", "B").path


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="caldb.indx"):
        CaldbIndex(tmp_path)
    with pytest.raises(CalibrationError, match="caldb.indx"):
        resolve("A", caldb=tmp_path)


def test_resolve_from_caldb_mixes_with_auxil(caldb_tree: Path) -> None:
    auxil = shared_path("nuskybgd-auxil")
    cal = resolve("A", date_obs="2020-06-01T00:00:00", caldb=caldb_tree, auxil=auxil)
    src = {it.item: it.source for it in cal.items()}
    for item in ("pixel_map", "active_area", "rmf", "detabs", "be_transmission", "onaxis_arf"):
        assert src[item] == "CALDB", item
    for item in ("aperture_image", "identity_rmf", "presets", "aperture_params"):
        assert src[item] == "AUXIL", item
    assert cal.source == "CALDB+AUXIL" and not cal.uses_builtin and cal.warnings == []
    assert cal.choice("pixel_map").location.endswith("v007.fits.gz")
    # INSTRMAP read as written (1 inside, 0 outside)
    aa = cal.active_area()
    assert aa.shape == (360, 360) and aa.sum() == 320 * 320 and aa[0, 0] == 0
    # BEABSPAR ATT and DETABS per detector
    assert cal.be_transmission().specresp[0] == pytest.approx(0.3, abs=1e-6)
    assert cal.detabs(2).specresp[100] == pytest.approx(0.7, abs=1e-6)
    # on-axis ARF is the real v004 area: peak ≈ 300 cm² near 9-10 keV
    arf = cal.onaxis_arf()
    assert 295 < arf.specresp.max() < 305
    # PIXPOS through CALDB gives the v007 ownership (per-detector counts of reference §2)
    pm = cal.pixel_map()
    assert [int((pm.det == d).sum()) for d in range(4)] == [26739, 26792, 27147, 26787]


def test_resolve_reads_per_detector_rmf_through_grprmf(caldb_tree: Path) -> None:
    cal = resolve("A", date_obs="2020-06-01", caldb=caldb_tree, prefer="caldb")
    rmf = cal.rmf(3)
    assert rmf.matrix.shape == (4096, 4096)
    assert rmf.header.get("DETNAM", "").strip() == "DET3"
    assert cal.rmf(3) is rmf  # cached


def test_corrupt_caldb_file_is_named(caldb_tree: Path, tmp_path: Path) -> None:
    root = tmp_path / "caldb"
    pix = root / FPM / "bcf/pixpos/nuApixpos20100101v007.fits.gz"
    pix.parent.mkdir(parents=True)
    with gzip.open(caldb_tree / FPM / "bcf/pixpos/nuApixpos20100101v007.fits.gz") as src:
        head = src.read(200_000)
    with gzip.open(pix, "wb") as dst:
        dst.write(head)  # truncated FITS inside a valid gzip
    write_index(root, [("PIXPOS", "FPMA", "DET0", "bcf/pixpos", pix.name, 1,
                        "2010-01-01", "00:00:00", 0, "")])
    cal = resolve("A", caldb=root, auxil=None, prefer="caldb")
    assert cal.choice("pixel_map").source == "CALDB"
    with pytest.raises(CalibrationError) as err:
        cal.pixel_map()
    assert pix.name in str(err.value)


def test_cli_status_with_caldb_and_bad_caldb(caldb_tree: Path, tmp_path: Path) -> None:
    exe = [sys.executable, "-m", "nuskybgd", "calib", "status"]
    ok = subprocess.run(exe + ["--mod", "A", "--caldb", str(caldb_tree), "--date-obs", "2020-01-01"],
                        capture_output=True, text=True, timeout=120,
                        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)})
    assert ok.returncode == 0, ok.stderr
    assert "PIXPOS" in ok.stdout and "CALDB" in ok.stdout and "BUILTIN" in ok.stdout
    bad = subprocess.run(exe + ["--caldb", str(tmp_path / "nowhere")], capture_output=True,
                         text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert bad.returncode == 2
    assert "caldb.indx" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_round_trip_through_a_simulator_caldb_tree(tmp_path: Path, monkeypatch) -> None:
    """Built-in calibration written as a CALDB tree (by nuskybgd simulate) resolves from CALDB
    to the same numbers; the real CALDB index rules (validity, GRPRMF CBD) hold on it."""
    from nuskybgd.simulate.caldb_tree import write_caldb_tree

    monkeypatch.delenv("NUSKYBGD_AUXIL", raising=False)
    monkeypatch.setenv("NUSKYBGD_CACHE", str(tmp_path / "cache"))
    nominal = {m: resolve(m, prefer="builtin") for m in "AB"}
    root = write_caldb_tree(tmp_path / "caldb", nominal)
    for m in "AB":
        cal = resolve(m, date_obs="2021-03-04T05:06:07", caldb=root)
        src = {it.item: it.source for it in cal.items()}
        for item in ("pixel_map", "active_area", "rmf", "detabs", "be_transmission",
                     "onaxis_arf", "aperture_image"):
            assert src[item] == "CALDB", (m, item)
        ref = nominal[m]
        assert np.array_equal(cal.pixel_map().det, ref.pixel_map().det)
        assert np.array_equal(cal.pixel_map().rawx, ref.pixel_map().rawx)
        assert np.allclose(cal.onaxis_arf().specresp, ref.onaxis_arf().specresp, rtol=1e-6)
        assert np.allclose(cal.be_transmission().specresp, ref.be_transmission().specresp, rtol=1e-6)
        assert np.allclose(cal.aperture_image(), ref.aperture_image(), rtol=1e-6)
        assert abs(cal.rmf(2).matrix - ref.rmf(2).matrix).max() < 1e-6
