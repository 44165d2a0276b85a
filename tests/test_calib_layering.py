"""calib.base does not import the implementations built on it (no base ↔ builtin cycle, not even
inside a function), and the aperture-model numbers exist once."""

from __future__ import annotations

import ast
from pathlib import Path

import nuskybgd

SRC = Path(nuskybgd.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    """Every module imported anywhere in ``path`` (module level and inside functions)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_calibration_interface_imports_no_implementation():
    mods = _imported_modules(SRC / "calib" / "base.py")
    assert not {m for m in mods if m.startswith("nuskybgd.calib.")}, mods
    assert "nuskybgd.calib.base" in _imported_modules(SRC / "calib" / "builtin.py")


def test_aperture_numbers_are_defined_once():
    from nuskybgd import constants
    from nuskybgd.calib import builtin
    from nuskybgd.calib.base import Calibration
    from nuskybgd.geometry import projbgd

    assert builtin.NOMINAL_APERTURE_PARAMS is constants.NOMINAL_APERTURE_PARAMS
    assert projbgd.APERTURE_FLOOR == constants.APERTURE_FLOOR == 0.00495 * 0.7
    # the published nomapbgdparams.dat values (reference geometry §8)
    assert projbgd.APERTURE_NORM == {"A": 0.32, "B": 0.32}
    assert projbgd.APERTURE_SHIFT_MM == {"A": (-3.4, 2.0), "B": (-3.5, 1.6)}
    for name in ("geometry/projbgd.py", "calib/builtin.py"):
        text = (SRC / name).read_text(encoding="utf-8")
        assert "0.00495 * 0.7" not in text and "(-3.4, 2.0)" not in text, name
        assert '"shift_x_mm": -3.4' not in text, name

    class Minimal(Calibration):  # the interface's defaults need no implementation module
        module = "FPMB"

        def pixel_map(self): ...
        def active_area(self): ...
        def aperture_image(self): ...
        def rmf(self, det): ...
        def be_transmission(self): ...
        def onaxis_arf(self): ...
        def identity_rmf(self): ...
        def presets(self): ...
        def items(self): ...

    cal = Minimal()
    assert cal.aperture_params()["shift_y_mm"] == 1.6
    d = cal.detabs(2)
    assert d.specresp.shape == (4096,) and (d.specresp == 1).all() and d.header["INSTRUME"] == "FPMB"
