"""Bad-pixel tables for the instrument map, from an event file's BADPIX extensions and from user
bad-pixel files (NuSTARDAS layout, or the user style without TIME_STOP)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.errors import InputError
from nuskybgd.geometry.instrmap import BadPixelRows, badflag_values
from nuskybgd.io.ogip import open_fits
from nuskybgd.modules import module_of

__all__ = ["badpix_rows_from_events", "read_user_badpix"]


def badpix_rows_from_events(ev) -> list[BadPixelRows]:
    """The BADPIX tables of an :class:`~nuskybgd.io.events.EventList` as :class:`BadPixelRows`."""
    rows: list[BadPixelRows] = []
    t_default = (ev.keyword("TSTART"), ev.keyword("TSTOP"))
    for bp in ev.badpix:
        ts = bp.header.get("TSTART", t_default[0])
        te = bp.header.get("TSTOP", t_default[1])
        rows.append(BadPixelRows(
            det=int(bp.det_id), rawx=np.asarray(bp.rawx, dtype=np.int64),
            rawy=np.asarray(bp.rawy, dtype=np.int64), flag=badflag_values(bp.badflag),
            time=bp.time, time_stop=bp.time_stop,
            tstart=None if ts is None else float(ts), tstop=None if te is None else float(te),
            source=str(ev.path)))
    return rows


def _detector_of_table(hdu: fits.BinTableHDU) -> int:
    detnam = str(hdu.header.get("DETNAM", "")).strip().upper()
    if detnam.startswith("DET") and detnam[3:4].isdigit():
        return int(detnam[3])
    return int(hdu.header.get("EXTVER", 1)) - 1


def _user_table_rows(hdu: fits.BinTableHDU, path: Path) -> BadPixelRows:
    names = {n.upper() for n in hdu.columns.names}
    if not {"RAWX", "RAWY"} <= names:
        raise InputError(f"BADPIX table of {path} lacks RAWX/RAWY; the file is malformed.", path)
    d = hdu.data
    n = len(d)
    flag = badflag_values(d["BADFLAG"]) if "BADFLAG" in names and n else np.zeros(n, dtype=np.int64)
    has_stop = "TIME_STOP" in names and "TIME" in names
    ts, te = hdu.header.get("TSTART"), hdu.header.get("TSTOP")
    return BadPixelRows(
        det=_detector_of_table(hdu), rawx=np.asarray(d["RAWX"], dtype=np.int64).ravel(),
        rawy=np.asarray(d["RAWY"], dtype=np.int64).ravel(), flag=flag,
        time=np.asarray(d["TIME"], dtype=float) if has_stop else None,
        time_stop=np.asarray(d["TIME_STOP"], dtype=float) if has_stop else None,
        tstart=None if ts is None else float(ts), tstop=None if te is None else float(te),
        source=str(path))


def read_user_badpix(path: str | Path, module: str) -> list[BadPixelRows]:
    """BADPIX tables of a user bad-pixel file for ``module`` ("A" or "B").

    Raises
    ------
    InputError
        When the file belongs to the other module (its primary ``INSTRUME``), has no BADPIX
        extension or a malformed one.
    """
    p = Path(path)
    out: list[BadPixelRows] = []
    with open_fits(p, "bad-pixel file") as hdul:
        file_module = module_of(hdul[0].header.get("INSTRUME"), p, "bad-pixel file")
        if file_module is not None and file_module != module:
            raise InputError(f"bad-pixel file {p} is for FPM{file_module}, not FPM{module}; give the "
                             f"FPM{module} file.", p)
        for hdu in hdul[1:]:
            if isinstance(hdu, fits.BinTableHDU) and "BADPIX" in str(hdu.header.get("EXTNAME", "")).upper():
                out.append(_user_table_rows(hdu, p))
    if not out:
        raise InputError(f"{p} has no BADPIX extension; give a NuSTAR bad-pixel file.", p)
    return out
