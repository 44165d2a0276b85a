"""Calibration sources: the user's CALDB, an nuskybgd auxiliary folder, or built-in nominal."""
