"""Look calibration files up in a HEASARC CALDB tree (``$CALDB/data/nustar/fpm/caldb.indx``).

The index is a FITS table (extension ``CIF``, or the first table).  A row matches a request when

1. ``CAL_CNAM`` equals the item name (PIXPOS, INSTRMAP, GRPRMF, DETABS, SPECRESP, BEABSPAR, …),
   ``TELESCOP`` is NuSTAR (when the column exists) and ``INSTRUME`` is the module (``FPMA`` /
   ``FPMB``; ``FPM`` rows serve both modules, as BEABSPAR does);
2. the validity start ``CAL_VSD`` + ``CAL_VST`` is **not later** than ``DATE-OBS`` (nuskybgd-py
   demanded strictly earlier, so a DATE-OBS equal to the validity start found nothing; here it is
   accepted);
3. ``DETNAM`` equals the requested detector (``DET0``…) when one is requested, and for GRPRMF
   ``CAL_CBD`` starts with ``DEPTHCUT(NOMINAL)`` when that column exists.

Among the matches, rows with ``CAL_QUAL == 0`` (good) are preferred over any other quality, then
the latest validity start, then the last ``CAL_DIR/CAL_FILE`` in sort order.  Paths are relative to
``$CALDB``; ``CAL_XNO`` is the extension number inside the file (kept in :class:`CaldbEntry`).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuskybgd.constants import CALDB_INDEX_RELPATH
from nuskybgd.errors import CalibrationError, NuskybgdError
from nuskybgd.modules import normalise_module

#: Location of the NuSTAR FPM index below a CALDB root.
INDEX_RELPATH = Path(CALDB_INDEX_RELPATH)

_REQUIRED = ("INSTRUME", "CAL_CNAM", "CAL_DIR", "CAL_FILE", "CAL_VSD", "CAL_VST")


@dataclass(frozen=True)
class CaldbEntry:
    """One selected index row: the file, its extension number and its validity start."""

    cnam: str
    path: Path
    extension: int
    valid_from: str
    quality: int
    detnam: str
    index: Path


def caldb_root(caldb: str | Path | None = None) -> Path | None:
    """The CALDB root: ``caldb`` if given, else ``$CALDB``, else None."""
    if caldb is not None:
        return Path(caldb).expanduser()
    env = os.environ.get("CALDB", "").strip()
    return Path(env).expanduser() if env else None


def _text(a) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "ascii", "replace")
    return np.char.upper(np.char.strip(arr.astype(str)))


def parse_date_obs(value: str | None) -> str:
    """DATE-OBS as ``YYYY-MM-DDTHH:MM:SS`` (fractional seconds dropped); None means now (UTC)."""
    if value is None or not str(value).strip():
        return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    s = str(value).strip().replace(" ", "T")
    date, _, time = s.partition("T")
    time = (time or "00:00:00").split(".")[0]
    try:
        d = _dt.date.fromisoformat(date)
        parts = [int(p) for p in time.split(":")] + [0, 0, 0]
        t = _dt.time(parts[0], parts[1], parts[2])
    except ValueError as exc:
        raise CalibrationError(
            f"DATE-OBS '{value}' is not a date like 2019-05-04T12:00:00; fix the header or the option."
        ) from exc
    return f"{d.isoformat()}T{t.strftime('%H:%M:%S')}"


class CaldbIndex:
    """A NuSTAR FPM CALDB index, read once.

    Parameters
    ----------
    root : path
        The CALDB root (the folder ``$CALDB`` names).  The index is ``root/data/nustar/fpm/caldb.indx``.

    Raises
    ------
    CalibrationError
        The index file is missing, unreadable, or lacks a required column.
    """

    def __init__(self, root: str | Path) -> None:
        from nuskybgd.io.ogip import open_fits

        self.root = Path(root).expanduser()
        self.path = self.root / INDEX_RELPATH
        if not self.path.is_file():
            raise CalibrationError(
                f"CALDB index {self.path} does not exist; set CALDB to a CALDB root holding "
                "data/nustar/fpm/caldb.indx (or unset it to use other calibration sources)."
            )
        try:
            with open_fits(self.path, "CALDB index") as hdul:
                hdu = None
                for h in hdul[1:]:
                    if str(h.header.get("EXTNAME", "")).strip().upper() == "CIF":
                        hdu = h
                        break
                if hdu is None:
                    hdu = next((h for h in hdul[1:] if h.header.get("XTENSION") == "BINTABLE"), None)
                if hdu is None:
                    raise CalibrationError(
                        f"CALDB index {self.path} has no CIF table; the file is not a CALDB index."
                    )
                names = [n.upper() for n in hdu.columns.names]
                missing = [c for c in _REQUIRED if c not in names]
                if missing:
                    raise CalibrationError(
                        f"CALDB index {self.path} lacks column(s) {', '.join(missing)}; "
                        "the file is not a CALDB index."
                    )
                d = hdu.data
                n = len(d)
                self._cols = {c: _text(d[c]) for c in names if c in (
                    "TELESCOP", "INSTRUME", "DETNAM", "CAL_CNAM", "CAL_DIR", "CAL_FILE",
                    "CAL_VSD", "CAL_VST", "CAL_CBD")}
                self._cols["CAL_CBD"] = (
                    _text(d["CAL_CBD"]).reshape(n, -1)[:, 0] if "CAL_CBD" in names
                    else np.full(n, "", dtype=object)
                )
                raw_dir = np.asarray(d["CAL_DIR"]).astype(str)
                raw_file = np.asarray(d["CAL_FILE"]).astype(str)
                self._dir = np.char.strip(raw_dir)
                self._file = np.char.strip(raw_file)
                self._xno = (np.asarray(d["CAL_XNO"], dtype=np.int64).ravel() if "CAL_XNO" in names
                             else np.ones(n, dtype=np.int64))
                self._qual = (np.asarray(d["CAL_QUAL"], dtype=np.int64).ravel() if "CAL_QUAL" in names
                              else np.zeros(n, dtype=np.int64))
                self.n_rows = n
        except CalibrationError:
            raise
        except NuskybgdError as exc:
            raise CalibrationError(str(exc)) from exc

    def lookup(
        self,
        cnam: str,
        module: str,
        detnam: str | None = None,
        date_obs: str | None = None,
    ) -> CaldbEntry:
        """Select the file for item ``cnam`` (see module docstring for the rule).

        Parameters
        ----------
        cnam : str
            ``CAL_CNAM`` of the item, e.g. ``"PIXPOS"``.
        module : str
            ``"A"`` or ``"B"`` (``FPMA``/``FPMB`` accepted).
        detnam : str, optional
            ``"DET0"``…``"DET3"`` to select a per-detector row.
        date_obs : str, optional
            Observation start (ISO); None means now.

        Raises
        ------
        CalibrationError
            No row matches; the message names the index file and the item.
        """
        mod = normalise_module(module)
        instr = f"FPM{mod}"
        date = parse_date_obs(date_obs)
        c = self._cols
        ok = (c["CAL_CNAM"] == cnam.upper()) & np.isin(c["INSTRUME"], [instr, "FPM"])
        if "TELESCOP" in c:
            ok &= c["TELESCOP"] == "NUSTAR"
        if detnam is not None and "DETNAM" in c:
            ok &= c["DETNAM"] == detnam.upper()
        if cnam.upper() == "GRPRMF" and np.any(np.char.str_len(c["CAL_CBD"].astype(str)) > 0):
            ok &= np.char.startswith(c["CAL_CBD"].astype(str), "DEPTHCUT(NOMINAL)")
        start = np.char.add(np.char.add(c["CAL_VSD"], "T"), c["CAL_VST"])
        ok &= start <= date
        rows = np.nonzero(ok)[0]
        if rows.size == 0:
            what = f"{cnam.upper()}" + (f" {detnam.upper()}" if detnam else "")
            raise CalibrationError(
                f"CALDB index {self.path} has no {what} entry for {instr} valid on {date}; "
                "update your CALDB or let nuskybgd use the auxiliary or built-in calibration."
            )
        paths = np.char.add(np.char.add(self._dir[rows], "/"), self._file[rows])
        # preference: CAL_QUAL 0, then the latest validity start, then the last path
        key = np.lexsort((paths, start[rows], (self._qual[rows] == 0).astype(int)))
        best = rows[key[-1]]
        rel = Path(str(self._dir[best])) / str(self._file[best])
        return CaldbEntry(
            cnam=cnam.upper(),
            path=self.root / rel,
            extension=int(self._xno[best]),
            valid_from=str(start[best]),
            quality=int(self._qual[best]),
            detnam=str(c["DETNAM"][best]) if "DETNAM" in c else "",
            index=self.path,
        )
