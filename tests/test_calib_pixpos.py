"""PIXPOS → DET1 ownership map: real v007 files (reference geometry-and-calibration §2, §4) and
small synthetic PIXPOS files for the selection rules."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.calib.pixpos import GRADE_WEIGHTS, pixel_map_from_pixpos
from nuskybgd.errors import CalibrationError

# reference §2: sub-pixels per detector and unassigned, and idx ranges (x, y) per detector
COUNTS = {"A": [26739, 26792, 27147, 26787], "B": [26525, 26841, 26670, 26536]}
UNASSIGNED = {"A": 22135, "B": 23028}
RANGES = {
    "A": [((181, 345), (180, 345)), ((18, 181), (182, 346)), ((15, 181), (17, 182)),
          ((180, 345), (16, 180))],
    "B": [((183, 347), (181, 344)), ((17, 184), (182, 347)), ((19, 184), (19, 183)),
          ((182, 346), (18, 181))],
}


@pytest.fixture(scope="module", params=["A", "B"])
def real_map(request):
    mod = request.param
    return mod, pixel_map_from_pixpos(shared_path("caldb-pieces", f"nu{mod}pixpos20100101v007.fits.gz"))


def test_per_detector_counts_match_reference(real_map) -> None:
    mod, pm = real_map
    assert [int((pm.det == d).sum()) for d in range(4)] == COUNTS[mod]
    assert int((pm.det == -1).sum()) == UNASSIGNED[mod]
    assert pm.det.shape == (360, 360) and pm.det.dtype == np.int16


def test_every_assigned_subpixel_lies_on_its_detector(real_map) -> None:
    mod, pm = real_map
    assigned = pm.pdf_max > 0
    assert np.array_equal(assigned, pm.det >= 0)
    for d, ((x0, x1), (y0, y1)) in enumerate(RANGES[mod]):
        yy, xx = np.nonzero(pm.det == d)
        assert (xx.min(), xx.max(), yy.min(), yy.max()) == (x0, x1, y0, y1)
    # every RAW pixel of every detector owns at least one sub-pixel
    owned = np.zeros((4, 32, 32), dtype=bool)
    ok = pm.det >= 0
    owned[pm.det[ok], pm.rawx[ok], pm.rawy[ok]] = True
    assert owned.all()


def test_registration_against_real_events() -> None:
    pm = pixel_map_from_pixpos(shared_path("caldb-pieces", "nuApixpos20100101v007.fits.gz"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = fits.getdata(shared_path("real", "nu90410111001A06_cl_sunpos.evt"), "EVENTS")
    x, y = d["DET1X"].astype(int), d["DET1Y"].astype(int)
    good = (x >= 1) & (x <= 360) & (y >= 1) & (y <= 360)
    ix, iy = x[good] - 1, y[good] - 1
    same_det = pm.det[iy, ix] == d["DET_ID"][good]
    same_raw = same_det & (pm.rawx[iy, ix] == d["RAWX"][good]) & (pm.rawy[iy, ix] == d["RAWY"][good])
    assert good.sum() > 9000
    assert same_det.mean() == 1.0  # reference §2: 100 %
    assert same_raw.mean() > 0.93  # reference §2: 95 %


def _pixpos(path: Path, rows_per_det: dict[int, list[tuple]]) -> Path:
    hdus = [fits.PrimaryHDU()]
    for det, rows in rows_per_det.items():
        rawx, rawy, grade, rx, ry, pdf = zip(*rows, strict=True)
        h = fits.BinTableHDU.from_columns([
            fits.Column("RAWX", "1B", array=np.array(rawx, np.uint8)),
            fits.Column("RAWY", "1B", array=np.array(rawy, np.uint8)),
            fits.Column("GRADE", "1I", array=np.array(grade, np.int16)),
            fits.Column("REF_DET1X", "1I", array=np.array(rx, np.int16)),
            fits.Column("REF_DET1Y", "1I", array=np.array(ry, np.int16)),
            fits.Column("PDF", "49E", dim="(7,7)", array=np.array(pdf, np.float32)),
        ], name="PIXPOS")
        h.header["DETNAM"] = f"DET{det}"
        hdus.append(h)
    fits.HDUList(hdus).writeto(path)
    return path


def _one(dy: int, dx: int, value: float = 1.0) -> np.ndarray:
    a = np.zeros((7, 7), np.float32)
    a[dy, dx] = value
    return a


def test_selection_rules_on_synthetic_pixpos(tmp_path: Path) -> None:
    nan = np.full((7, 7), np.nan, np.float32)
    rows = {
        0: [
            # RAW (1,2) grade 0 weight 0.3 at DET1 (11,21) -> idx (10,20)
            (1, 2, 0, 11, 21, _one(0, 0, 0.3)),
            # RAW (3,4) grade 1 weight 1.0 at the same cell: 0.1249 < 0.3 -> loses
            (3, 4, 1, 11, 21, _one(0, 0, 1.0)),
            # grade 27 rows are ignored even if large
            (3, 4, 27, 11, 21, _one(0, 0, 50.0)),
            # unmapped row and NaN row are ignored
            (5, 5, 0, -1, -1, _one(0, 0, 9.0)),
            (6, 6, 0, 31, 31, nan),
            # RAW (7,8) at DET1 (14,25) -> idx (13,24) via offsets dx=2, dy=3 from (12,22)
            (7, 8, 0, 12, 22, _one(3, 2, 0.5)),
        ],
        2: [
            # exact tie with det-0 RAW (7,8) at idx (13,24): the earlier detector keeps it
            (9, 9, 0, 14, 25, _one(0, 0, 0.5)),
            # det 2 wins another cell outright
            (9, 10, 0, 101, 201, _one(0, 0, 0.2)),
        ],
    }
    pm = pixel_map_from_pixpos(_pixpos(tmp_path / "pix.fits", rows))
    assert (pm.det[20, 10], pm.rawx[20, 10], pm.rawy[20, 10]) == (0, 1, 2)
    assert pm.pdf_max[20, 10] == pytest.approx(0.3, rel=1e-6)
    assert (pm.det[24, 13], pm.rawx[24, 13], pm.rawy[24, 13]) == (0, 7, 8)
    assert (pm.det[200, 100], pm.rawx[200, 100], pm.rawy[200, 100]) == (2, 9, 10)
    assert int((pm.det >= 0).sum()) == 3  # the NaN / unmapped / grade-27 rows placed nothing
    # grade weights add across grades of one RAW pixel
    rows2 = {1: [(0, 0, 0, 50, 50, _one(0, 0, 0.1)), (0, 0, 1, 50, 50, _one(0, 0, 1.0)),
                 (2, 0, 0, 50, 50, _one(0, 0, 0.2))]}
    pm2 = pixel_map_from_pixpos(_pixpos(tmp_path / "pix2.fits", rows2))
    assert pm2.pdf_max[49, 49] == pytest.approx(0.1 + GRADE_WEIGHTS[1], rel=1e-6)
    assert (pm2.rawx[49, 49], pm2.rawy[49, 49]) == (0, 0)


def test_not_a_pixpos_file(tmp_path: Path) -> None:
    p = tmp_path / "junk.fits"
    p.write_bytes(b"SIMPLE  = nonsense" + b" " * 3000)
    with pytest.raises(CalibrationError, match="junk.fits"):
        pixel_map_from_pixpos(p)
    q = tmp_path / "image.fits"
    fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4)))]).writeto(q)
    with pytest.raises(CalibrationError, match="no PIXPOS extension"):
        pixel_map_from_pixpos(q)
