"""Choose, per calibration item, the user's CALDB, the auxiliary folder or the built-in model.

``resolve(module)`` returns a :class:`ResolvedCalibration`.  For each item it tries, in order,
CALDB (``$CALDB`` index lookup), the auxiliary folder (``$NUSKYBGD_AUXIL`` or the fetched user
cache) and the built-in nominal model, and records which one it will use and why.  Aperture
images never exist in a real CALDB, so a CALDB + auxiliary mix is normal (a CALDB ``APERTURE``
entry is used only in nuskybgd's own deg² image format, as ``simulate --caldb-tree`` writes).  Built-in items are always
announced: a ``nuskybgd.calib`` log warning when the calibration is resolved, a ``warnings`` list
on the object, and ``BUILTIN`` in the per-item sources.  Files are read lazily and cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuskybgd.calib import builtin
from nuskybgd.calib.auxil import AUXIL_FILES, find_auxil_dir
from nuskybgd.calib.base import Calibration, CalibrationItem, PixelMap
from nuskybgd.calib.caldb import CaldbEntry, CaldbIndex, caldb_root, parse_date_obs
from nuskybgd.constants import APERTURE_RAW_TO_DEG2, DET1_SIZE, N_DETECTORS, N_PI
from nuskybgd.errors import CalibrationError, InputError, NuskybgdError
from nuskybgd.io.ogip_types import Arf, Rmf
from nuskybgd.modules import normalise_module

log = logging.getLogger("nuskybgd.calib")

CALDB, AUXIL, BUILTIN = "CALDB", "AUXIL", "BUILTIN"
SOURCES = (CALDB, AUXIL, BUILTIN)

#: Calibration items, in the order ``nuskybgd calib status`` lists them.
ITEMS: tuple[str, ...] = (
    "pixel_map", "active_area", "rmf", "detabs", "be_transmission", "onaxis_arf",
    "identity_rmf", "aperture_image", "aperture_params", "presets",
)

#: CALDB CAL_CNAM per item (items absent here never come from CALDB).
CALDB_CNAM: dict[str, str] = {
    "pixel_map": "PIXPOS",
    "active_area": "INSTRMAP",
    "rmf": "GRPRMF",
    "detabs": "DETABS",
    "be_transmission": "BEABSPAR",
    "onaxis_arf": "SPECRESP",
    "aperture_image": "APERTURE",
}

#: What the built-in model of each item is (for status and provenance).
BUILTIN_DESCRIPTION: dict[str, str] = {
    "pixel_map": "nominal pinwheel layout, 4×32×32 RAW pixels",
    "active_area": "derived from the pixel map (detector ≥ 0)",
    "rmf": "Gaussian, FWHM = sqrt(0.411² + (0.00322 E)²) keV",
    "detabs": "unit transmission (as nuskybgd-py's fit)",
    "be_transmission": "exp(−μ_Be ρ t), t = 0.1018 mm, + thin E⁻³ term",
    "onaxis_arf": "analytic: Be × cover × broken power law × edges",
    "identity_rmf": "diagonal 4096×4096 matrix",
    "aperture_image": "geometric aperture-stop solid angle − optics shadow",
    "aperture_params": "norm 0.32, nuskybgd-py x/y shifts",
    "presets": "nuskybgd/data/presets.json",
}



@dataclass
class Choice:
    """The resolved source of one item and a loader for it."""

    item: str
    source: str
    location: str
    reason: str
    load: Callable[..., object]


def _as_calib_error(exc: NuskybgdError) -> CalibrationError:
    return exc if isinstance(exc, CalibrationError) else CalibrationError(str(exc))


# --------------------------------------------------------------------------------------------
# CALDB loaders
# --------------------------------------------------------------------------------------------


def _lookup_det(index: CaldbIndex, cnam: str, module: str, det: int | None,
                date_obs: str | None) -> CaldbEntry:
    """CALDB entry of ``cnam`` for detector ``det`` (DETNAM DET<det>), else the module's entry
    without a detector; ``det=None`` asks for the latter only."""
    if det is not None:
        try:
            return index.lookup(cnam, module, f"DET{det}", date_obs)
        except CalibrationError:
            pass
    return index.lookup(cnam, module, None, date_obs)


def _load_instrmap(entry: CaldbEntry) -> np.ndarray:
    from nuskybgd.io.ogip import open_fits

    try:
        with open_fits(entry.path, "INSTRMAP calibration file") as hdul:
            hdu = next((h for h in hdul if str(h.header.get("EXTNAME", "")).strip().upper() == "INSTRMAP"),
                       None)
            if hdu is None:
                hdu = hdul[entry.extension] if entry.extension < len(hdul) else None
            data = None if hdu is None else hdu.data
            data = None if data is None else np.asarray(data, dtype=np.float64)
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc
    if data is None or data.shape != (DET1_SIZE, DET1_SIZE):
        raise CalibrationError(f"INSTRMAP file {entry.path} has no 360×360 INSTRMAP image; "
                               "the CALDB file is damaged or not an INSTRMAP.")
    return np.where(data > 0, 1.0, 0.0)


def _detector_table(hdul, extname: str, det: int, by_position: bool = False):
    """The ``extname`` table of detector ``det`` (DETNAM DET<det>); with ``by_position``, the
    det-th such table when there are exactly four and none names the detector.  None if absent."""
    tables = [h for h in hdul[1:] if str(h.header.get("EXTNAME", "")).strip().upper() == extname]
    hdu = next((h for h in tables if str(h.header.get("DETNAM", "")).strip().upper() == f"DET{det}"),
               None)
    if hdu is None and by_position and len(tables) == N_DETECTORS:
        hdu = tables[det]
    return hdu


def _load_caldb_rmf(index: CaldbIndex, module: str, date_obs: str | None, det: int) -> Rmf:
    from nuskybgd.io.ogip import open_fits, read_rmf

    entry = _lookup_det(index, "GRPRMF", module, det, date_obs)
    try:
        with open_fits(entry.path, "GRPRMF calibration file") as hdul:
            hdu = _detector_table(hdul, "GRPRMF", det, by_position=True)
            if hdu is None or "RMFFILE" not in [n.upper() for n in hdu.columns.names]:
                raise CalibrationError(f"GRPRMF file {entry.path} has no RMFFILE entry for DET{det}; "
                                       "the CALDB file is damaged or not a GRPRMF.")
            rmffile = str(hdu.data["RMFFILE"][0]).strip()
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc
    path = entry.path.parent / rmffile
    if not path.exists() and Path(str(path) + ".gz").exists():
        path = Path(str(path) + ".gz")
    try:
        return read_rmf(path)
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc


def _load_detabs(index: CaldbIndex, module: str, date_obs: str | None, det: int) -> Arf:
    from nuskybgd.io.ogip import header_to_dict, open_fits

    entry = _lookup_det(index, "DETABS", module, det, date_obs)
    try:
        with open_fits(entry.path, "DETABS calibration file") as hdul:
            hdu = _detector_table(hdul, "DETABS", det)
            if hdu is None or not {"ENERG_LO", "ENERG_HI", "DETABS"} <= {n.upper() for n in hdu.columns.names}:
                raise CalibrationError(f"DETABS file {entry.path} has no DETABS table for DET{det}; "
                                       "the CALDB file is damaged or not a DETABS file.")
            d = hdu.data
            return Arf(np.asarray(d["ENERG_LO"], float), np.asarray(d["ENERG_HI"], float),
                       np.asarray(d["DETABS"], float), header_to_dict(hdu.header))
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc


def _load_beabspar(entry: CaldbEntry) -> Arf:
    from nuskybgd.io.ogip import header_to_dict, open_fits

    try:
        with open_fits(entry.path, "BEABSPAR calibration file") as hdul:
            hdu = hdul[entry.extension] if 0 < entry.extension < len(hdul) else hdul[1]
            names = [n.upper() for n in getattr(hdu, "columns", type("c", (), {"names": []})).names]
            if "ATT" not in names:
                raise CalibrationError(f"BEABSPAR file {entry.path} has no ATT column; the CALDB file "
                                       "is damaged or not a Be attenuation file.")
            att = np.asarray(hdu.data["ATT"], float).ravel()
            if "ENERG_LO" in names and "ENERG_HI" in names:
                lo = np.asarray(hdu.data["ENERG_LO"], float).ravel()
                hi = np.asarray(hdu.data["ENERG_HI"], float).ravel()
            else:
                lo, hi = builtin.energy_grid()
            header = header_to_dict(hdu.header)
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc
    if att.size != N_PI or lo.size != att.size:
        raise CalibrationError(f"BEABSPAR file {entry.path} has {att.size} rows, not {N_PI}; "
                               "the CALDB file does not match the NuSTAR response grid.")
    return Arf(lo, hi, att, header)


def _aperture_hdu_shape(path: Path) -> tuple[int, int] | None:
    """Shape of an nuskybgd-style APERTURE image (EXTNAME APERTURE, deg², 360 or 576 square)
    in ``path``, or None when the file is something else (e.g. a real CALDB aperture table)."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            for h in hdul:
                hd = h.header
                if (str(hd.get("EXTNAME", "")).strip().upper() == "APERTURE" and hd.get("NAXIS") == 2
                        and "DEG" in str(hd.get("BUNIT", "")).upper()
                        and hd.get("NAXIS1") == hd.get("NAXIS2")
                        and hd.get("NAXIS1") in (DET1_SIZE, builtin.APERTURE_GRID)):
                    return int(hd["NAXIS2"]), int(hd["NAXIS1"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return None


def _load_caldb_aperture(entry: CaldbEntry) -> np.ndarray:
    """A CALDB APERTURE image (deg²) on the 576×576 grid; a 360×360 DET1 image is padded by
    repeating its edge values (the margin only matters for the nuskybgd x/y shift)."""
    from nuskybgd.io.ogip import open_fits

    try:
        with open_fits(entry.path, "APERTURE calibration file") as hdul:
            data = np.asarray(hdul["APERTURE"].data, dtype=np.float64)
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc
    if data.shape == (DET1_SIZE, DET1_SIZE):
        off = builtin.APERTURE_OFFSET
        data = np.pad(data, ((off, off), (off, off)), mode="edge")
    if data.shape != (builtin.APERTURE_GRID, builtin.APERTURE_GRID):
        raise CalibrationError(f"APERTURE file {entry.path} is not a 360×360 or 576×576 image; "
                               "the CALDB file is damaged.")
    return data


# --------------------------------------------------------------------------------------------
# auxiliary loaders
# --------------------------------------------------------------------------------------------


def _load_aperture(path: Path) -> np.ndarray:
    from nuskybgd.io.ogip import open_fits

    try:
        with open_fits(path, "aperture image") as hdul:
            data = hdul[0].data
            data = None if data is None else np.asarray(data, dtype=np.float64)
    except NuskybgdError as exc:
        raise _as_calib_error(exc) from exc
    if data is None or data.shape != (builtin.APERTURE_GRID, builtin.APERTURE_GRID):
        raise CalibrationError(f"aperture image {path} is not a {builtin.APERTURE_GRID}×"
                               f"{builtin.APERTURE_GRID} image; fetch the auxiliary set again.")
    return data * APERTURE_RAW_TO_DEG2


def _load_nomap(path: Path, module: str) -> dict[str, float]:
    try:
        values = [float(line.split("#")[0].split()[0]) for line in
                  path.read_text(encoding="utf-8").splitlines() if line.split("#")[0].strip()]
    except (OSError, ValueError, IndexError) as exc:
        raise CalibrationError(f"aperture parameter file {path} is not 10 numbers, one a line; "
                               "fetch the auxiliary set again.") from exc
    if len(values) < 10:
        raise CalibrationError(f"aperture parameter file {path} has {len(values)} values, not 10; "
                               "fetch the auxiliary set again.")
    a = module == "A"
    return {"norm": values[0 if a else 1], "const": values[2 if a else 3],
            "shift_x_mm": values[4 if a else 7], "shift_y_mm": values[5 if a else 8],
            "rotation_deg": values[6 if a else 9]}


def _load_json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"preset file {path} is not valid JSON ({exc}); fetch the "
                               "auxiliary set again.") from exc


def _reader(fn: Callable, what: str) -> Callable:
    def load(path: Path):
        try:
            return fn(path)
        except NuskybgdError as exc:
            raise _as_calib_error(exc) from exc
    load.__name__ = f"read_{what}"
    return load


# --------------------------------------------------------------------------------------------
# the resolved calibration
# --------------------------------------------------------------------------------------------


class ResolvedCalibration(Calibration):
    """A module's calibration assembled item by item (see :func:`resolve`).

    Attributes
    ----------
    module : str
        'A' or 'B'.
    source : str
        The distinct sources in use, joined with '+' in the order CALDB, AUXIL, BUILTIN
        (e.g. ``"CALDB+AUXIL"``); use :meth:`source_for` for the items one product uses.
    detail : str
        CALDB root and auxiliary folder in use.
    warnings : list of str
        One line per built-in item (approximate calibration is never silent).
    caldb_status, auxil_status : str
        The CALDB index and the auxiliary folder in use, or in full why none is (the per-item
        reasons only say so briefly).
    """

    def __init__(self, module: str, choices: dict[str, Choice], detail: str) -> None:
        self.module = module
        self._choices = choices
        self._cache: dict[tuple, object] = {}
        self.detail = detail
        self.caldb_status = ""
        self.auxil_status = ""
        self.source = self._label(ITEMS)
        self.warnings = [
            f"FPM{module} {c.item}: built-in nominal calibration ({c.location}); "
            "approximate — install CALDB or run 'nuskybgd calib fetch'."
            for c in choices.values() if c.source == BUILTIN
        ]

    # provenance helpers ------------------------------------------------------------------
    def _label(self, items) -> str:
        used = {self._choices[i].source for i in items}
        return "+".join(s for s in SOURCES if s in used)

    def source_for(self, *items: str) -> str:
        """Source label for the given items (e.g. ``"CALDB"`` or ``"CALDB+BUILTIN"``)."""
        return self._label(items or ITEMS)

    def detail_for(self, *items: str) -> str:
        """Short description of where the given items come from (for ``NSBCALDS``)."""
        parts = [f"{i}={self._choices[i].source}:{Path(self._choices[i].location).name}"
                 if self._choices[i].source != BUILTIN else f"{i}=BUILTIN"
                 for i in (items or ITEMS)]
        return "; ".join(parts)

    @property
    def uses_builtin(self) -> bool:
        """True if any item comes from the built-in nominal models."""
        return any(c.source == BUILTIN for c in self._choices.values())

    def choice(self, item: str) -> Choice:
        """The :class:`Choice` made for ``item``."""
        return self._choices[item]

    def _get(self, item: str, *args):
        key = (item, *args)
        if key not in self._cache:
            self._cache[key] = self._choices[item].load(*args)
        return self._cache[key]

    # the Calibration interface -------------------------------------------------------------
    def pixel_map(self) -> PixelMap:
        return self._get("pixel_map")

    def active_area(self) -> np.ndarray:
        return self._get("active_area")

    def aperture_image(self) -> np.ndarray:
        s = slice(builtin.APERTURE_OFFSET, builtin.APERTURE_OFFSET + DET1_SIZE)
        return self.aperture_image_full()[s, s].copy()

    def aperture_image_full(self) -> np.ndarray:
        """Aperture solid angle (deg²) on the 576×576 grid (DET1 idx k at grid index k + 108),
        for shifting before the crop as nuskybgd-py does."""
        return self._get("aperture_image")

    def aperture_params(self) -> dict[str, float]:
        """``norm``, ``const``, ``shift_x_mm``, ``shift_y_mm``, ``rotation_deg`` of the aperture model."""
        return dict(self._get("aperture_params"))

    def rmf(self, det: int) -> Rmf:
        if not 0 <= int(det) < N_DETECTORS:
            raise CalibrationError(f"detector {det} does not exist; NuSTAR detectors are 0–3.")
        return self._get("rmf", int(det))

    def detabs(self, det: int) -> Arf:
        """Detector absorption (transmission, 4096 rows) of detector ``det``."""
        if not 0 <= int(det) < N_DETECTORS:
            raise CalibrationError(f"detector {det} does not exist; NuSTAR detectors are 0–3.")
        return self._get("detabs", int(det))

    def be_transmission(self) -> Arf:
        return self._get("be_transmission")

    def onaxis_arf(self) -> Arf:
        return self._get("onaxis_arf")

    def identity_rmf(self) -> Rmf:
        return self._get("identity_rmf")

    def presets(self) -> dict:
        import copy

        return copy.deepcopy(self._get("presets"))

    def items(self) -> list[CalibrationItem]:
        return [CalibrationItem(c.item, c.source, c.location, c.reason) for c in self._choices.values()]


def _norm_module(module: str) -> str:
    try:
        return normalise_module(module, "mod")
    except InputError as exc:  # a calibration request: keep the calibration error type
        raise CalibrationError(str(exc)) from None


def resolve(
    module: str,
    date_obs: str | None = None,
    caldb: str | Path | None = None,
    auxil: str | Path | None = None,
    prefer: str | None = None,
) -> ResolvedCalibration:
    """Resolve every calibration item of ``module``.

    Parameters
    ----------
    module : str
        'A' or 'B' ('FPMA'/'FPMB' accepted).
    date_obs : str, optional
        Observation start (ISO) for CALDB validity; default now.
    caldb : path, optional
        CALDB root (default ``$CALDB``).  An explicit root without a NuSTAR index is an error.
    auxil : path, optional
        Auxiliary folder (default ``$NUSKYBGD_AUXIL`` or the fetched user cache).
    prefer : {'caldb', 'auxil', 'builtin'}, optional
        Start the search at this source (``'auxil'`` skips CALDB, ``'builtin'`` uses only the
        built-in models).  Default ``'caldb'``.

    Returns
    -------
    ResolvedCalibration
    """
    mod = _norm_module(module)
    order = {None: SOURCES, "CALDB": SOURCES, "AUXIL": (AUXIL, BUILTIN), "BUILTIN": (BUILTIN,)}
    key = prefer.upper() if isinstance(prefer, str) else prefer
    if key not in order:
        raise CalibrationError(f"prefer='{prefer}' is not one of caldb, auxil, builtin.")
    sources = order[key]
    if date_obs is not None:
        date_obs = parse_date_obs(date_obs)  # a malformed DATE-OBS is an error, whatever the source

    # CALDB ---------------------------------------------------------------------------------
    index: CaldbIndex | None = None
    caldb_reason = ""  # short, repeated per item; caldb_status says it in full once
    root = caldb_root(caldb) if CALDB in sources else None
    if CALDB not in sources:
        caldb_reason = caldb_status = f"CALDB skipped (prefer={prefer})"
    elif root is None:
        caldb_reason = caldb_status = "CALDB not set"
    else:
        try:
            index = CaldbIndex(root)
            caldb_status = f"CALDB index {index.path}, entries valid on {date_obs or 'today'}"
        except CalibrationError as exc:
            if caldb is not None:
                raise
            caldb_reason, caldb_status = "no usable CALDB index", str(exc).split(";")[0]
    # auxiliary folder ------------------------------------------------------------------------
    aux_dir: Path | None = None
    aux_reason = ""
    if AUXIL in sources:
        aux_dir, aux_reason = find_auxil_dir(auxil)
        auxil_status = (f"auxiliary folder {aux_dir} ({aux_reason})" if aux_dir is not None
                        else f"no auxiliary folder: {aux_reason}")
    else:
        aux_reason = auxil_status = f"auxiliary folder skipped (prefer={prefer})"

    choices: dict[str, Choice] = {}
    for item in ITEMS:
        why: list[str] = []
        choice: Choice | None = None
        cnam = CALDB_CNAM.get(item)
        if CALDB not in sources and cnam is not None:
            why.append(caldb_reason)
        if CALDB in sources:
            if cnam is None:
                why.append("not a CALDB item")
            elif index is None:
                why.append(caldb_reason)
            else:
                try:
                    det0 = 0 if item in ("rmf", "detabs") else None
                    entry = _lookup_det(index, cnam, mod, det0, date_obs)
                    if not entry.path.exists():
                        why.append(f"CALDB file {entry.path.name} is missing")
                    elif item == "aperture_image" and _aperture_hdu_shape(entry.path) is None:
                        why.append(f"CALDB {cnam} file {entry.path.name} is not a DET1 "
                                   "solid-angle image")
                    else:
                        choice = _caldb_choice(item, entry, index, mod, date_obs)
                except CalibrationError as exc:
                    why.append(f"no valid {cnam} for FPM{mod} in {index.path.name}")
                    log.debug("%s", exc)
        if choice is None and AUXIL in sources:
            name = AUXIL_FILES.get(item, "").format(m=mod)
            if not name:
                why.append("not in the auxiliary set")
            elif aux_dir is None:
                why.append("no auxiliary folder")
            elif not (aux_dir / name).is_file():
                why.append(f"{name} missing from the auxiliary folder")
            else:
                choice = _auxil_choice(item, aux_dir / name, mod, why)
        if choice is None:
            reason = "; ".join(why) if why else f"prefer={prefer}"
            choice = _builtin_choice(item, mod, reason, choices)
        choices[item] = choice

    detail_parts = []
    if index is not None:
        detail_parts.append(f"CALDB {index.root}")
    if aux_dir is not None:
        detail_parts.append(f"auxil {aux_dir}")
    if any(c.source == BUILTIN for c in choices.values()):
        detail_parts.append("built-in nominal")
    cal = ResolvedCalibration(mod, choices, ", ".join(detail_parts))
    cal.caldb_status, cal.auxil_status = caldb_status, auxil_status
    if cal.uses_builtin:
        built = [c.item for c in choices.values() if c.source == BUILTIN]
        log.warning("FPM%s uses built-in nominal (approximate) calibration for: %s — install CALDB "
                    "or run 'nuskybgd calib fetch'.", mod, ", ".join(built))
    return cal


def _caldb_choice(item: str, entry: CaldbEntry, index: CaldbIndex, mod: str,
                  date_obs: str | None) -> Choice:
    reason = f"{entry.cnam} valid from {entry.valid_from}"
    if item == "pixel_map":
        from nuskybgd.calib.pixpos import pixel_map_from_pixpos

        return Choice(item, CALDB, str(entry.path), reason, lambda: pixel_map_from_pixpos(entry.path))
    if item == "active_area":
        return Choice(item, CALDB, str(entry.path), reason, lambda: _load_instrmap(entry))
    if item == "rmf":
        return Choice(item, CALDB, str(entry.path), reason,
                      lambda det: _load_caldb_rmf(index, mod, date_obs, det))
    if item == "detabs":
        return Choice(item, CALDB, str(entry.path), reason,
                      lambda det: _load_detabs(index, mod, date_obs, det))
    if item == "be_transmission":
        return Choice(item, CALDB, str(entry.path), reason, lambda: _load_beabspar(entry))
    if item == "aperture_image":
        return Choice(item, CALDB, str(entry.path), reason, lambda: _load_caldb_aperture(entry))
    if item == "onaxis_arf":
        from nuskybgd.io.ogip import read_arf

        return Choice(item, CALDB, str(entry.path), reason, lambda: _reader(read_arf, "arf")(entry.path))
    raise AssertionError(item)  # pragma: no cover


def _auxil_choice(item: str, path: Path, mod: str, why: list[str]) -> Choice:
    reason = "; ".join([*why, "in the auxiliary folder"])
    if item == "aperture_image":
        return Choice(item, AUXIL, str(path), reason, lambda: _load_aperture(path))
    if item == "aperture_params":
        return Choice(item, AUXIL, str(path), reason, lambda: _load_nomap(path, mod))
    if item in ("be_transmission", "onaxis_arf"):
        from nuskybgd.io.ogip import read_arf

        return Choice(item, AUXIL, str(path), reason, lambda: _reader(read_arf, "arf")(path))
    if item == "identity_rmf":
        from nuskybgd.io.ogip import read_rmf

        return Choice(item, AUXIL, str(path), reason, lambda: _reader(read_rmf, "rmf")(path))
    if item == "presets":
        return Choice(item, AUXIL, str(path), reason, lambda: _load_json(path))
    raise AssertionError(item)  # pragma: no cover


def _builtin_choice(item: str, mod: str, reason: str, earlier: dict[str, Choice]) -> Choice:
    desc = BUILTIN_DESCRIPTION[item]
    if item == "active_area":
        # derived from whichever pixel map is in use (labelled with that map's source)
        pm = earlier["pixel_map"]

        def derived() -> np.ndarray:
            return (pm.load().det >= 0).astype(np.float64)

        where = pm.location if pm.source != BUILTIN else "pixel map detector ≥ 0 (built-in layout)"
        return Choice(item, pm.source, where, reason + "; derived from the pixel map (detector ≥ 0)",
                      derived)
    loaders: dict[str, Callable] = {
        "pixel_map": lambda: builtin.detector_layout(mod),
        "rmf": lambda det: builtin.gaussian_rmf(mod, det),
        "detabs": lambda det: builtin.unit_detabs(det, mod),
        "be_transmission": lambda: builtin.be_transmission(mod),
        "onaxis_arf": lambda: builtin.onaxis_arf(mod),
        "identity_rmf": builtin.identity_rmf,
        "aperture_image": lambda: builtin.aperture_solid_angle(mod, full=True),
        "aperture_params": lambda: dict(builtin.NOMINAL_APERTURE_PARAMS[mod]),
        "presets": builtin.presets,
    }
    return Choice(item, BUILTIN, desc, reason, loaders[item])
