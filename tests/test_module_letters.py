"""The one module-letter normaliser (nuskybgd.modules) serves calib, geometry, io and simulate:
A/B/FPMA/FPMB in any case; anything else is a one-sentence InputError naming the file."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from nuskybgd.errors import CalibrationError, InputError
from nuskybgd.modules import module_of, normalise_module


@pytest.mark.parametrize("value, want", [("A", "A"), ("b", "B"), ("FPMA", "A"), ("fpmb", "B"),
                                         (" FPMB ", "B"), ("Fpma", "A")])
def test_accepts_letters_and_instrume_values(value, want):
    assert normalise_module(value) == want


@pytest.mark.parametrize("value", ["C", "FPMC", "", None, "AB", "FPM", "FPMAB", "1"])
def test_rejects_anything_else_naming_the_file(value, tmp_path):
    f = tmp_path / "x.evt"
    with pytest.raises(InputError) as exc:
        normalise_module(value, "--modules")
    assert "--modules" in str(exc.value) and "FPMB" in str(exc.value)
    if value is not None:
        with pytest.raises(InputError) as exc:
            module_of(value, f, "event file")
        assert str(f) in str(exc.value) and "FPMA or FPMB" in str(exc.value)
        assert exc.value.path == f


def _event_file(path, instrume):
    cols = [fits.Column(name=n, format="I", array=np.ones(3, np.int16)) for n in ("X", "Y", "PI")]
    ev = fits.BinTableHDU.from_columns(cols, name="EVENTS")
    ev.header["INSTRUME"] = instrume
    ev.header["TELESCOP"] = "NuSTAR"
    fits.HDUList([fits.PrimaryHDU(), ev]).writeto(path)
    return path


def test_event_list_module_uses_it(tmp_path):
    from nuskybgd.io.events import read_events

    assert read_events(_event_file(tmp_path / "b.evt", "FPMB"), ["PI"]).module == "B"
    bad = read_events(_event_file(tmp_path / "c.evt", "FPMC"), ["PI"])
    with pytest.raises(InputError, match="c.evt"):
        _ = bad.module


def test_other_layers_use_it():
    from nuskybgd.calib import resolve
    from nuskybgd.calib.builtin import aperture_solid_angle, detector_layout
    from nuskybgd.geometry.projbgd import aperture_counts_image

    assert resolve("fpmb", prefer="builtin").module == "B"
    with pytest.raises(CalibrationError, match="not a NuSTAR module"):
        resolve("C")
    assert np.array_equal(aperture_solid_angle("FPMA"), aperture_solid_angle("a"))
    assert np.array_equal(detector_layout("fpmb").det, detector_layout("B").det)
    with pytest.raises(InputError, match="not a NuSTAR module"):
        aperture_counts_image(np.zeros((360, 360)), "C")
    from nuskybgd.calib.builtin import be_transmission, onaxis_arf

    assert be_transmission("fpmb").header["INSTRUME"] == onaxis_arf("B").header["INSTRUME"] == "FPMB"


def test_spectrum_step_names_an_event_file_of_no_module(tmp_path):
    from nuskybgd.pipeline.steps.spectrum import SpectrumStep

    evt = _event_file(tmp_path / "nu80000001A01_cl.evt", "FPMC")
    (tmp_path / "srcA.reg").write_text("fk5\ncircle(150,2,60\")\n")
    with pytest.raises(InputError) as exc:
        SpectrumStep(evt, src=tmp_path / "srcA.reg").outputs()
    assert str(evt) in str(exc.value) and "FPMA or FPMB" in str(exc.value)
    ok = SpectrumStep(_event_file(tmp_path / "b.evt", "fpmb"), src=tmp_path / "srcA.reg")
    assert all("B01_" in p.name for p in ok.outputs())
