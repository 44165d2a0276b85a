"""Calibration sources: the user's CALDB, an nuskybgd auxiliary folder, or built-in nominal.

Use :func:`resolve` to get a module's :class:`~nuskybgd.calib.base.Calibration`; it picks, per
item, CALDB, then the auxiliary folder, then the built-in model, and says which and why.
"""

from nuskybgd.calib.base import Calibration, CalibrationItem, PixelMap
from nuskybgd.calib.resolve import ITEMS, ResolvedCalibration, resolve

__all__ = ["Calibration", "CalibrationItem", "PixelMap", "ResolvedCalibration", "ITEMS", "resolve"]
