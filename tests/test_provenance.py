"""Provenance as one value: the dataclass and the keyword form stamp the same header."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.calib import resolve
from nuskybgd.io.arf import write_arf
from nuskybgd.io.ogip_types import Arf
from nuskybgd.io.rmf import write_rmf
from nuskybgd.provenance import Provenance, stamp_header


def _cards(h: fits.Header) -> list[tuple[str, object]]:
    return [(k, v) for k, v in h.items() if k != "DATE"]


def test_stamp_equals_stamp_header():
    prov = Provenance("BUILTIN", "built-in model", ("a.evt", "b.fits"), "test")
    h1, h2 = fits.Header(), fits.Header()
    prov.stamp(h1)
    stamp_header(h2, calibration="BUILTIN", calibration_detail="built-in model",
                 inputs=["a.evt", "b.fits"], task="test")
    assert _cards(h1) == _cards(h2)
    assert h1["NSBCALIB"] == "BUILTIN" and h1["NSBTASK"] == "test"
    assert "approximate" in str(h1["COMMENT"])  # built-in calibration is announced
    assert [str(x) for x in h1["HISTORY"]] == ["nuskybgd input: a.evt", "nuskybgd input: b.fits"]
    h3 = fits.Header()
    prov.stamp(h3, with_inputs=False)
    assert "HISTORY" not in h3


def test_coerce_accepts_one_form_only():
    p = Provenance(task="x")
    assert Provenance.coerce(p) is p
    assert Provenance.coerce(calibration="CALDB", inputs=["f"]) == Provenance("CALDB", None, ("f",))
    assert Provenance.coerce() == Provenance()
    with pytest.raises(TypeError, match="not both"):
        Provenance.coerce(p, task="y")
    with pytest.raises(TypeError, match="calibrat"):
        Provenance.coerce(calibrat="CALDB")


def test_of_calibration_and_writers(tmp_path):
    cal = resolve("A", prefer="builtin")
    prov = Provenance.of_calibration(cal, task="test", inputs=["in.fits"])
    assert (prov.calibration, prov.calibration_detail) == (cal.source, cal.detail)
    arf = Arf(np.array([1.0, 2.0]), np.array([2.0, 3.0]), np.array([10.0, 20.0]), {})
    a1 = write_arf(arf, tmp_path / "a1.arf", provenance=prov)
    a2 = write_arf(arf, tmp_path / "a2.arf", calibration=cal.source,
                   calibration_detail=cal.detail, inputs=["in.fits"], task="test")
    with fits.open(a1) as f1, fits.open(a2) as f2:
        assert _cards(f1["SPECRESP"].header) == _cards(f2["SPECRESP"].header)
        assert f1["SPECRESP"].header["NSBCALIB"] == "BUILTIN"
    r = write_rmf(cal.rmf(0), tmp_path / "r.rmf", provenance=prov)
    with fits.open(r) as f:
        assert "HISTORY" in f["MATRIX"].header and "HISTORY" not in f["EBOUNDS"].header
        assert f["EBOUNDS"].header["NSBTASK"] == "test"
    with pytest.raises(TypeError):
        write_arf(arf, tmp_path / "a3.arf", provenance=prov, task="other")
    assert not (tmp_path / "a3.arf").exists()
