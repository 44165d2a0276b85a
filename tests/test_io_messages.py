"""Readers say what is wrong: wrong-typed header values, truncated files, empty DET1 tracks,
missing BADPIX extensions, and impossible ``calib fetch`` requests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.calib.auxil import fetch_auxil
from nuskybgd.errors import InputError
from nuskybgd.io.events import missing_badpix_warning, read_det1_refpoint, read_events
from nuskybgd.io.fitscheck import fits_truncated
from nuskybgd.io.headers import header_float, header_int, header_str


def _header(**cards) -> fits.Header:
    h = fits.Header()
    for k, v in cards.items():
        h[k] = v
    return h


def test_header_float_names_file_and_keyword(tmp_path: Path) -> None:
    path = tmp_path / "ref.fits"
    fits.PrimaryHDU(np.zeros((4, 4)), header=_header(PA_PNT="garbage", ROLL=12.5, OK="  7.25 ")).writeto(path)
    h = fits.getheader(path)  # the real header as astropy reads it back
    assert header_float(h, "ROLL", path) == 12.5
    assert header_float(h, "OK", path) == 7.25
    with pytest.raises(InputError) as e:
        header_float(h, "PA_PNT", path)
    msg = str(e.value)
    assert "PA_PNT" in msg and str(path) in msg and "'garbage'" in msg and "not a number" in msg
    assert "\n" not in msg and e.value.path == path
    with pytest.raises(InputError, match="has no MISSING keyword"):
        header_float(h, "MISSING", path)
    assert header_float(h, "MISSING", path, default=None) is None
    with pytest.raises(InputError, match="outside"):
        header_float(h, "ROLL", path, low=0, high=10)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan, True])
def test_header_float_rejects_non_finite_and_logical(value) -> None:
    with pytest.raises(InputError, match="X_OFF"):
        header_float({"X_OFF": value}, "X_OFF", "a.fits")


def test_header_int_and_str() -> None:
    h = {"X_OFF": 12.0, "Y_OFF": 3.5, "N": "x", "INSTRUME": "FPMA ", "BAD": 5}
    assert header_int(h, "X_OFF", "a.fits") == 12
    with pytest.raises(InputError, match="Y_OFF = 3.5 .* not an integer"):
        header_int(h, "Y_OFF", "a.fits")
    with pytest.raises(InputError, match="N = 'x'"):
        header_int(h, "N", "a.fits")
    assert header_int(h, "ABSENT", "a.fits", default=0) == 0
    assert header_str(h, "INSTRUME", "a.fits", choices=("FPMA", "FPMB")) == "FPMA"
    with pytest.raises(InputError, match="not one of FPMA, FPMB"):
        header_str({"INSTRUME": "XRT"}, "INSTRUME", "a.fits", choices=("FPMA", "FPMB"))
    with pytest.raises(InputError, match="not a text value"):
        header_str(h, "BAD", "a.fits")


def test_fits_truncated_plain_and_gzip(tmp_path: Path) -> None:
    whole = tmp_path / "s.pha"
    cols = [fits.Column("CHANNEL", "J", array=np.arange(4096)), fits.Column("COUNTS", "J", array=np.ones(4096))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="SPECTRUM")]).writeto(whole)
    data = whole.read_bytes()
    assert len(data) % 2880 == 0 and not fits_truncated(whole)
    for cut in (100, 4000, len(data) - 1):
        part = tmp_path / f"cut{cut}.pha"
        part.write_bytes(data[:cut])
        assert fits_truncated(part), cut
    gz = tmp_path / "s.pha.gz"
    gz.write_bytes(gzip.compress(data))
    assert not fits_truncated(gz)
    cut_gz = tmp_path / "cut.pha.gz"
    cut_gz.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    assert fits_truncated(cut_gz)
    short_gz = tmp_path / "short.pha.gz"
    short_gz.write_bytes(gzip.compress(data[:4000]))  # a whole gzip of a cut file
    assert fits_truncated(short_gz)
    empty = tmp_path / "empty.pha"
    empty.write_bytes(b"")
    assert not fits_truncated(empty) and not fits_truncated(tmp_path / "absent.pha")


def test_empty_det1_file_says_empty(demo_observation: Path, tmp_path: Path) -> None:
    src = demo_observation / "nu90000000002A_det1.fits"
    assert len(read_det1_refpoint(src).time) > 2
    for rows in (0, 1):
        p = tmp_path / f"det1_{rows}.fits"
        with fits.open(src) as hdul:
            hdul["DET1_REFPOINT"].data = hdul["DET1_REFPOINT"].data[:rows]
            hdul.writeto(p)
        with pytest.raises(InputError) as e:
            read_det1_refpoint(p)
        msg = str(e.value)
        assert str(p) in msg and f"holds {rows} time sample" in msg
        assert "different observation" not in msg and "same observation" not in msg


def test_missing_badpix_is_a_warning(demo_observation: Path, tmp_path: Path) -> None:
    src = demo_observation / "nu90000000002A01_cl.evt"
    assert missing_badpix_warning(read_events(src)) is None
    stripped = tmp_path / "nobadpix_cl.evt"
    with fits.open(src) as hdul:
        kept = [h for h in hdul if h.name != "BADPIX"]
        assert len(kept) < len(hdul)
        fits.HDUList(kept).writeto(stripped)
    w = missing_badpix_warning(read_events(stripped))
    assert w is not None and str(stripped) in w and "BADPIX" in w and "\n" not in w


@pytest.mark.parametrize("timeout", [-1.0, 0.0, float("nan"), float("inf")])
def test_fetch_refuses_bad_timeout_before_any_network(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(InputError) as e:
        # 127.0.0.1:9 (discard) is never contacted: the request is refused first
        fetch_auxil(tmp_path / "aux", base_url="http://127.0.0.1:9/", timeout=timeout)
    msg = str(e.value)
    assert "--timeout" in msg and "network" not in msg
    assert list(tmp_path.iterdir()) == []


def test_fetch_into_a_file_says_it_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "cache"
    f.write_text("not a folder")
    for dest in (f, f / "auxil"):
        with pytest.raises(InputError) as e:
            fetch_auxil(dest, base_url="http://127.0.0.1:9/")
        assert "is a file, not a folder" in str(e.value) and str(f) in str(e.value)
    assert f.read_text() == "not a folder"
