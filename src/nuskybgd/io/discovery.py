"""Find the files of NuSTAR observations on disk.

Accepted layouts for ``discover(path)``:

1. a **sequence directory** ``<SEQID>/`` with ``event_cl/`` (and optionally ``auxil/``, ``hk/``);
2. an **event folder** — ``<SEQID>/event_cl/`` itself, or any folder of loose event files
   (``*.evt``, ``*.evt.gz``; unfiltered ``*_uf.evt`` files are ignored);
3. a **folder of sequence directories** (each subfolder holding ``event_cl/``);
4. a single **event file**.

Event files are identified by their content (an EVENTS extension), not only by name, so loose
files such as ``dummy_evt.evt`` are found; module, sequence ID and mode come from the file name
``nu<seqid><A|B><mode>…`` when it follows the nupipeline pattern, otherwise from the EVENTS
header (INSTRUME, OBS_ID, OBSMODE).  Files are grouped into observations by sequence ID.  As in
nustar-gen-utils, a plain mode-06 file is dropped when CHU-split mode-06 files (``A06_chu…``)
exist, so no data are counted twice; unlike it, gzipped files are found.

Side files found by name in the event folder, the sequence directory, ``auxil/`` and ``hk/``:
``nu<seq><A|B>_det1.fits`` (DET1 reference point), ``nu<seq><A|B><mode>_gti.fits``,
``nu<seq>_att.fits``, ``nu<seq><A|B>.attorb``, ``nu<seq>_mast.fits`` (attitude) and
``nu<seq><A|B>_fpm.hk`` (housekeeping), each optionally gzipped.

Keywords (ONTIME, LIVETIME, EXPOSURE, DEADC, pointing) are read from the EVENTS header, falling
back to the primary header: the two differ, and some files have an empty primary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.errors import InputError, NuskybgdError
from nuskybgd.io.events import event_headers
from nuskybgd.io.fitsfile import find_hdu, open_fits
from nuskybgd.modules import module_of, normalise_module

__all__ = ["EventFile", "Observation", "discover", "discover_observation", "summarise_event_file"]

_EVT_NAME = re.compile(
    r"^nu(?P<seq>\d{11})(?P<mod>[AB])(?P<mode>0[1-7])(?P<chu>_chu\d+)?", re.IGNORECASE
)
_EVT_SUFFIXES = (".evt", ".evt.gz")
_SOLAR_NULL = -100.0  # RA_PNT/DEC_PNT/PA_PNT of solar observations

_OBSMODE_TO_MODE = {"SCIENCE": "01", "SCIENCE_SC": "06"}


@dataclass
class EventFile:
    """One cleaned event file and its exposure keywords.

    Attributes
    ----------
    path : Path
    module : str
        ``'A'`` or ``'B'``.
    mode : str
        Observing mode ``'01'`` … ``'07'`` (``'??'`` when unknown); ``chu`` holds a CHU split
        such as ``'chu2'``.
    ontime, livetime, exposure : float
        s (EVENTS header).  ``exposure == livetime == ontime × deadc`` for nupipeline files.
    deadc : float
        Dead-time correction factor.
    n_events : int
        Rows in EVENTS.
    gti_ontime : float or None
        Σ(STOP − START) of the GTI extension, s (None without GTI).
    """

    path: Path
    seqid: str
    module: str
    mode: str
    chu: str | None
    ontime: float
    livetime: float
    exposure: float
    deadc: float
    n_events: int
    gti_ontime: float | None
    tstart: float | None = None
    tstop: float | None = None
    keywords: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``'A01'``, ``'B06_chu2'`` …"""
        return f"{self.module}{self.mode}" + (f"_{self.chu}" if self.chu else "")


@dataclass
class Observation:
    """All files of one observation (sequence ID) that were found.

    Pointing values are degrees; ``None`` for solar observations (stored as −100 in files).
    """

    seqid: str
    root: Path
    event_dir: Path
    target: str | None
    date_obs: str | None
    ra_pnt: float | None
    dec_pnt: float | None
    pa_pnt: float | None
    ra_obj: float | None
    dec_obj: float | None
    event_files: list[EventFile] = field(default_factory=list)
    det1_files: dict[str, Path] = field(default_factory=dict)
    gti_files: dict[str, Path] = field(default_factory=dict)
    attitude_files: list[Path] = field(default_factory=list)
    hk_files: dict[str, Path] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """Messages for candidate files in the same folder that could not be read as event files."""

    @property
    def modules(self) -> list[str]:
        return sorted({e.module for e in self.event_files})

    def event_file(self, module: str, mode: str = "01") -> EventFile | None:
        """The event file of ``module`` and ``mode`` (first match; CHU splits excluded)."""
        module = normalise_module(module)
        for e in self.event_files:
            if e.module == module and e.mode == mode and e.chu is None:
                return e
        return None

    def exposure(self, module: str, mode: str = "01") -> float:
        """Total EXPOSURE (s) of the event files of ``module`` and ``mode`` (CHU splits summed)."""
        module = normalise_module(module)
        return float(sum(e.exposure for e in self.event_files
                         if e.module == module and e.mode == mode))


# --------------------------------------------------------------------------------------------


def _strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def _is_event_name(p: Path) -> bool:
    n = p.name.lower()
    return p.is_file() and n.endswith(_EVT_SUFFIXES) and not _strip_gz(n).endswith("_uf.evt")


def _kw(ev: fits.Header, prim: fits.Header, key: str, default=None):
    if key in ev and ev[key] not in (None, ""):
        return ev[key]
    return prim.get(key, default)


def _num(value) -> float | None:
    try:
        v = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return None if not np.isfinite(v) else v


def summarise_event_file(path: str | Path) -> EventFile:
    """Header-level summary of one event file (events themselves are not read).

    Raises
    ------
    InputError
        Not FITS, truncated, or no EVENTS extension.
    """
    p = Path(path)
    with open_fits(p, "event file") as hdul:  # one open: headers and the GTI sum
        prim, ev, n_events = event_headers(hdul, p)
        gti_hdu = find_hdu(hdul, ("GTI", "STDGTI"), "GTI")
        gti_ontime = None
        if gti_hdu is not None and {"START", "STOP"} <= {n.upper() for n in gti_hdu.columns.names}:
            d = gti_hdu.data
            gti_ontime = float(np.sum(np.asarray(d["STOP"], float) - np.asarray(d["START"], float)))
        keys = ("OBS_ID", "OBJECT", "INSTRUME", "DATE-OBS", "RA_PNT", "DEC_PNT", "PA_PNT", "RA_OBJ",
                "DEC_OBJ", "OBSMODE", "TSTART", "TSTOP", "ONTIME", "LIVETIME", "EXPOSURE", "DEADC")
        kw = {k: _kw(ev, prim, k) for k in keys}
    m = _EVT_NAME.match(p.name)
    instrume = str(kw["INSTRUME"] or "").strip().upper()
    module = (module_of(instrume, p, "event file") if instrume
              else (m.group("mod").upper() if m else None))
    if module is None:
        raise InputError(
            f"{p} does not say which module it belongs to (INSTRUME={kw['INSTRUME']!r}); "
            "it is not a NuSTAR FPMA/FPMB event file.", p)
    seqid = (m.group("seq") if m else None) or str(kw["OBS_ID"] or "").strip() or "unknown"
    if m:
        mode = m.group("mode")
    else:
        mode = _OBSMODE_TO_MODE.get(str(kw["OBSMODE"] or "").strip().upper(), "??")
    chu = m.group("chu")[1:].lower() if m and m.group("chu") else None

    def f(key: str) -> float:
        v = _num(kw[key])
        return float("nan") if v is None else v

    return EventFile(
        path=p, seqid=seqid, module=module, mode=mode, chu=chu, ontime=f("ONTIME"),
        livetime=f("LIVETIME"), exposure=f("EXPOSURE"), deadc=f("DEADC"), n_events=n_events,
        gti_ontime=gti_ontime, tstart=_num(kw["TSTART"]), tstop=_num(kw["TSTOP"]), keywords=kw,
    )


def _candidate_event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _is_event_name(p))


def _side_files(obs: Observation, folders: list[Path]) -> None:
    seq = re.escape(obs.seqid)
    pats = {
        "det1": re.compile(rf"^nu{seq}(?P<mod>[AB])_det1\.fits(\.gz)?$", re.I),
        "gti": re.compile(rf"^nu{seq}(?P<mod>[AB])(?P<mode>0[1-7])(?:_chu\d+)?_gti\.fits(\.gz)?$", re.I),
        "att": re.compile(rf"^nu{seq}(?:_att\.fits|[AB]\.attorb|_mast\.fits)(\.gz)?$", re.I),
        "hk": re.compile(rf"^nu{seq}(?P<mod>[AB])_fpm\.hk(\.gz)?$", re.I),
    }
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            if not p.is_file() or p in seen:
                continue
            seen.add(p)
            name = p.name
            if (m := pats["det1"].match(name)):
                obs.det1_files.setdefault(m.group("mod").upper(), p)
            elif (m := pats["gti"].match(name)):
                obs.gti_files.setdefault(m.group("mod").upper() + m.group("mode"), p)
            elif pats["att"].match(name):
                obs.attitude_files.append(p)
            elif (m := pats["hk"].match(name)):
                obs.hk_files.setdefault(m.group("mod").upper(), p)


def _drop_double_counted(files: list[EventFile]) -> list[EventFile]:
    """Drop a plain mode-06 file when CHU-split mode-06 files of the same module exist."""
    chu_split = {(e.seqid, e.module) for e in files if e.mode == "06" and e.chu}
    return [e for e in files if not (e.mode == "06" and e.chu is None and (e.seqid, e.module) in chu_split)]


def _observations_from(event_paths: list[Path], root: Path, event_dir: Path,
                       extra_folders: list[Path], skip_unreadable: bool) -> list[Observation]:
    summaries: list[EventFile] = []
    errors: list[NuskybgdError] = []
    for p in event_paths:
        try:
            summaries.append(summarise_event_file(p))
        except NuskybgdError as exc:
            if not skip_unreadable:
                raise
            errors.append(exc)
    if errors and not summaries:
        raise errors[0]
    summaries = _drop_double_counted(summaries)
    by_seq: dict[str, list[EventFile]] = {}
    for s in summaries:
        by_seq.setdefault(s.seqid, []).append(s)
    out: list[Observation] = []
    for seqid, files in sorted(by_seq.items()):
        files.sort(key=lambda e: (e.module, e.mode, e.chu or "", e.path.name))
        kw = files[0].keywords

        def pointing(key: str, kw=kw) -> float | None:
            v = _num(kw.get(key))
            return None if v is None or v == _SOLAR_NULL else v

        obs = Observation(
            seqid=seqid, root=root, event_dir=event_dir,
            target=(str(kw.get("OBJECT")).strip() if kw.get("OBJECT") else None),
            date_obs=(str(kw.get("DATE-OBS")).strip() if kw.get("DATE-OBS") else None),
            ra_pnt=pointing("RA_PNT"), dec_pnt=pointing("DEC_PNT"), pa_pnt=pointing("PA_PNT"),
            ra_obj=_num(kw.get("RA_OBJ")), dec_obj=_num(kw.get("DEC_OBJ")), event_files=files,
        )
        obs.skipped = [str(e) for e in errors]
        _side_files(obs, [event_dir, *extra_folders])
        out.append(obs)
    return out


def discover(path: str | Path) -> list[Observation]:
    """Find every observation under ``path`` (see the module docstring for the layouts).

    Returns
    -------
    list of Observation
        Sorted by sequence ID; never empty.

    Raises
    ------
    InputError
        ``path`` is missing, or no event file is found (the message lists what was looked for),
        or an event file in a sequence's ``event_cl/`` is unreadable.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"{p} does not exist; give a sequence directory, its event_cl/ folder or "
                         "a folder of event files.", p)
    if p.is_file():
        return _observations_from([p], p.parent, p.parent, [p.parent.parent / "auxil",
                                                             p.parent.parent / "hk"], False)
    # 1. sequence directory
    if (p / "event_cl").is_dir():
        evdir = p / "event_cl"
        files = _candidate_event_files(evdir)
        if not files:
            raise InputError(f"{evdir} holds no event files (looked for nu<seqid><A|B><mode>_cl.evt "
                             "and .evt.gz); run nupipeline or check the download.", evdir)
        return _observations_from(files, p, evdir, [p, p / "auxil", p / "hk"], False)
    # 2. a folder of event files (event_cl itself, or loose files)
    files = _candidate_event_files(p)
    if files:
        parent = p.parent
        extra = [parent, parent / "auxil", parent / "hk"] if p.name == "event_cl" else []
        obs = _observations_from(files, parent if p.name == "event_cl" else p, p, extra,
                                 skip_unreadable=p.name != "event_cl")
        if obs:
            return obs
    # 3. a folder of sequence directories
    seqdirs = sorted(d for d in p.iterdir() if d.is_dir() and (d / "event_cl").is_dir())
    found: list[Observation] = []
    for d in seqdirs:
        evfiles = _candidate_event_files(d / "event_cl")
        if evfiles:
            found.extend(_observations_from(evfiles, d, d / "event_cl",
                                            [d, d / "auxil", d / "hk"], False))
    if found:
        return found
    raise InputError(
        f"no NuSTAR event files found in {p}: looked for <seqid>/event_cl/, event_cl/ and "
        "*.evt / *.evt.gz files with an EVENTS extension (here and one level down); give the "
        "sequence directory or the folder holding the cleaned event files.", p)


def discover_observation(path: str | Path, seqid: str | None = None) -> Observation:
    """The single observation under ``path`` (or the one with ``seqid``).

    Raises
    ------
    InputError
        None or several observations found and ``seqid`` does not pick one.
    """
    obs = discover(path)
    if seqid is not None:
        obs = [o for o in obs if o.seqid == seqid]
        if not obs:
            raise InputError(f"no observation {seqid} under {path}; run 'nuskybgd info {path}' to list them.", path)
    if len(obs) > 1:
        ids = ", ".join(o.seqid for o in obs)
        raise InputError(f"{path} holds several observations ({ids}); give one sequence directory or its ID.", path)
    return obs[0]
