"""Make the instrument-map file from an event file, user bad-pixel files and a calibration (the
work of the ``mkinstrmap`` step)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.constants import N_DETECTORS
from nuskybgd.events import Reporter
from nuskybgd.geometry.badpix_files import badpix_rows_from_events, read_user_badpix
from nuskybgd.geometry.instrmap import BAD_FRACTION, BadPixelRows, bad_pixel_table, instrument_map
from nuskybgd.io.atomic import check_writable, write_fits_atomic
from nuskybgd.products.headers import instrmap_header
from nuskybgd.provenance import stamp_header

__all__ = ["collect_bad_pixels", "make_instrument_map"]

_OBS_KEYS = ("TELESCOP", "INSTRUME", "OBS_ID", "OBJECT", "DATE-OBS", "DATE-END", "TSTART", "TSTOP")


def collect_bad_pixels(event_file: Path, usrbpix: Sequence[Path], module: str, reporter: Reporter,
                       check_output: Path | None = None, overwrite: bool = False
                       ) -> tuple[list[BadPixelRows], str | None, dict]:
    """Bad-pixel rows of the event file and the user files; also DATE-OBS and observation keywords.

    ``check_output``, when given, is checked to be writable before anything is read.
    """
    from nuskybgd.io.events import read_events

    if check_output is not None:
        check_writable(check_output, overwrite)
    ev = read_events(event_file, columns=["TIME"])
    rows = badpix_rows_from_events(ev)
    if not rows:
        reporter.warning(f"event file {event_file} has no BADPIX extensions; no bad pixel is masked "
                         "(give the cleaned event file from nupipeline, or user files with usrbpix=)")
    for p in usrbpix:
        rows.extend(read_user_badpix(p, module))
    observation = {k: ev.keyword(k) for k in _OBS_KEYS}
    return rows, ev.keyword("DATE-OBS"), observation


def make_instrument_map(out: Path, rows: list[BadPixelRows], cal, module: str, observation: dict,
                        inputs: Sequence[Path], overwrite: bool) -> tuple[list[int], int]:
    """Write ``newinstrmap{module}.fits``; return active sub-pixels per detector and bad RAW pixels."""
    bad = bad_pixel_table(rows)
    pm = cal.pixel_map()
    active = np.asarray(cal.active_area())
    cmap = instrument_map(pm.det, pm.rawx, pm.rawy, active, bad)
    counts = [int((cmap == d + 1).sum()) for d in range(N_DETECTORS)]
    hdr = instrmap_header(observation, module, BAD_FRACTION, int(bad.sum()), counts)
    stamp_header(hdr, calibration=cal.source_for("pixel_map", "active_area"),
                 calibration_detail=cal.detail_for("pixel_map", "active_area"), inputs=inputs, task="mkinstrmap")
    write_fits_atomic(out, fits.HDUList([fits.PrimaryHDU(cmap, header=hdr)]), overwrite)
    return counts, int(bad.sum())
