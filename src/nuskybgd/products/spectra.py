"""Spectrum extraction: events in a sky region → an OGIP PHA spectrum, as nuproducts writes it.

* **Selection**: an event belongs to a region when the sky pixel it falls in (``X``/``Y``
  rounded to the nearest integer, 1-based) has its centre in the region (the mask rule of
  :mod:`nuskybgd.products.regions`) and its ``TIME`` lies in the good time intervals used
  (the event file's GTI, intersected with a user GTI when given).  Events with the TNULL sky
  position (off the sky grid) are never selected.
* **Spectrum**: histogram of ``PI`` over channels 0–4095.
* **Times**: ONTIME = Σ GTI used (s); LIVETIME = EXPOSURE = ONTIME × DEADC (the event file's
  dead-time factor), NuSTAR's rule.
* **BACKSCAL** = (number of sky pixels in the region) / (pixels of the 1000 × 1000 sky grid),
  the value nuproducts' extractor writes (``NPIXSOU`` / 10⁶).  nuproducts then lets
  ``nubackscale`` correct it by sub-percent amounts for exposure variations inside the region
  (``NUBACKSC = T``); that correction is not applied here (``NUBACKSC = F``).  On the real
  Vela X-1 spectra the two differ by 0.003 % (source) and 0.4 % (background).
* **File**: null primary, ``SPECTRUM`` (CHANNEL, COUNTS; the keywords nuproducts writes, copied
  from the event file where they are observation keywords), ``GTI`` (the intervals actually
  used) and ``REG00101`` (the region as an ASC-FITS region table in sky pixels, referenced by
  ``DSTYP2 = 'POS(X,Y)'``, ``DSREF2 = ':REG00101'``).

Many regions are extracted from one read of the event file (:func:`extract_spectra`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError
from nuskybgd.events import Reporter, Silent

__all__ = [
    "N_CHANNELS",
    "OBSERVATION_KEYWORDS",
    "Extraction",
    "RegionSpectrum",
    "extract_spectra",
    "spectrum_name",
]

N_CHANNELS = 4096

#: Keywords copied from the event file's EVENTS header into the SPECTRUM header when present
#: (the observation keywords of a real nuproducts spectrum).
OBSERVATION_KEYWORDS = (
    "TELESCOP", "INSTRUME", "OBS_ID", "TARG_ID", "OBJECT", "RA_OBJ", "DEC_OBJ", "RA_NOM",
    "DEC_NOM", "RA_PNT", "DEC_PNT", "PA_PNT", "EQUINOX", "RADECSYS", "TASSIGN", "TIMESYS",
    "MJDREFI", "MJDREFF", "TIMEREF", "CLOCKAPP", "TIMEUNIT", "TSTART", "TSTOP", "TELAPSE",
    "DATE-OBS", "DATE-END", "ORIGIN", "DATETLM", "TLM2FITS", "TSORTKEY", "NUFLAG", "ABERRAT",
    "FOLOWSUN", "SOFTVER", "CALDBVER", "TIMEZERO", "DATAMODE", "DETNAM", "MJD-OBS", "DEADAPP",
    "NUPSDOUT", "DEPTHCUT", "OBSMODE", "TREFPOS", "TREFDIR", "PLEPHEM", "TIERRELA", "TIERABSO",
    "DSTYP1", "DSVAL1",
)


def spectrum_name(seqid: str, module: str, region_stem: str, mode: str = "01",
                  gti_stem: str | None = None) -> str:
    """nustar-gen-utils' name for a spectrum: ``nu<seqid><m><mode>_<regstem>[_<gtistem>]_sr.pha``."""
    stem = f"nu{seqid}{module}{mode}_{region_stem}"
    if gti_stem:
        stem += f"_{gti_stem}"
    return f"{stem}_sr.pha"


@dataclass
class RegionSpectrum:
    """One region's spectrum.

    Attributes
    ----------
    name : str
        The region's stem (file name without ``.reg``).
    region_file : Path
    counts : ndarray of int64, shape (4096,)
        Counts per PI channel.
    npix : int
        Sky pixels in the region.
    backscal : float
        ``npix`` / pixels of the sky grid.
    det_counts : ndarray of int64, shape (4,)
        Events per ``DET_ID`` (the weights of the response mix).
    mask : ndarray of bool
        The region on the sky grid, ``[y, x]`` 0-based.
    shapes : list
        The region's shapes (``regions`` objects), for the REG00101 extension.
    """

    name: str
    region_file: Path
    counts: np.ndarray
    npix: int
    backscal: float
    det_counts: np.ndarray
    mask: np.ndarray
    shapes: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return int(self.counts.sum())


@dataclass
class Extraction:
    """Spectra of several regions from one event file, and what they share."""

    event_file: Path
    module: str
    seqid: str
    header: dict
    gti_start: np.ndarray
    gti_stop: np.ndarray
    ontime: float
    deadc: float
    usrgti_file: Path | None
    spectra: dict[str, RegionSpectrum]
    wcs: object = None

    @property
    def exposure(self) -> float:
        """Livetime (s) = ONTIME × DEADC."""
        return self.ontime * self.deadc


def _sky_shape(ev) -> tuple[int, int]:
    nx = int(ev.header.get("TLMAX" + _colnum(ev, "X"), 1000))
    ny = int(ev.header.get("TLMAX" + _colnum(ev, "Y"), 1000))
    return ny, nx


def _colnum(ev, name: str) -> str:
    for k, v in ev.header.items():
        if k.startswith("TTYPE") and str(v).strip().upper() == name:
            return k[5:]
    return "0"


def _gti_used(ev, usrgti: str | Path | None):
    from nuskybgd.io.events import Gti, gti_intersection, read_gti

    if ev.gti is None:
        raise InputError(f"event file {ev.path} has no GTI extension; give a cleaned event file.",
                         ev.path)
    gti = ev.gti
    if usrgti is not None:
        user = read_gti(usrgti)
        gti = gti_intersection(gti, user)
        if gti.ontime <= 0:
            raise InputError(f"user GTI {usrgti} does not overlap the good times of {ev.path}; give "
                             "a GTI file for this observation.", usrgti)
    order = np.argsort(gti.start)
    return Gti(gti.start[order], gti.stop[order])


def extract_spectra(
    event_file: str | Path,
    regions: Mapping[str, str | Path],
    *,
    usrgti: str | Path | None = None,
    reporter: Reporter | None = None,
) -> Extraction:
    """Spectra of several ds9 regions from one read of an event file.

    Parameters
    ----------
    event_file : path
        NuSTAR cleaned event file (sky X/Y with WCS, PI, TIME, DET_ID, GTI extension).
    regions : mapping of name → path
        Region stem (used in output names) → ds9 region file (fk5 or sky-image coordinates).
    usrgti : path, optional
        User GTI file intersected with the event file's GTI.
    reporter : Reporter, optional
        Progress, warnings (zero-count spectra, region order) and cancellation.

    Returns
    -------
    Extraction

    Raises
    ------
    InputError
        Unreadable files, a region that selects no sky pixel, a user GTI that misses the
        observation.
    """
    from nuskybgd.io.events import read_events
    from nuskybgd.products.regions import order_warning, read_regions, shapes_mask

    rep = reporter or Silent()
    ev = read_events(event_file, columns=["X", "Y", "PI", "TIME", "DET_ID"])
    if ev.wcs is None:
        raise InputError(f"event file {ev.path} has no sky WCS on its X/Y columns; give a cleaned "
                         "event file.", ev.path)
    shape = _sky_shape(ev)
    gti = _gti_used(ev, usrgti)
    rep.progress(0.1, f"read {ev.n_events} events from {ev.path.name}")
    x, y = ev["X"].astype(np.float64), ev["Y"].astype(np.float64)
    ix = np.rint(x).astype(np.int64) - 1
    iy = np.rint(y).astype(np.int64) - 1
    keep = ev.valid("X") & ev.valid("Y") & (ix >= 0) & (iy >= 0) & (ix < shape[1]) & (iy < shape[0])
    keep &= gti.contains(ev["TIME"]) & ev.valid("PI")
    pi = ev["PI"].astype(np.int64)
    keep &= (pi >= 0) & (pi < N_CHANNELS)
    flat = (iy * shape[1] + ix)[keep]
    pi, det = pi[keep], ev["DET_ID"].astype(np.int64)[keep]
    spectra: dict[str, RegionSpectrum] = {}
    for k, (name, path) in enumerate(regions.items()):
        rep.check_cancelled()
        p = Path(path)
        shapes = read_regions(p)
        text = order_warning(shapes, f"region file {p}")
        if text:
            rep.warning(text)
        mask = shapes_mask(shapes, shape, ev.wcs, name=f"region file {p}")
        if not mask.any():
            raise InputError(f"region file {p} selects no sky pixel of event file {ev.path}; check that "
                             "it was drawn on this observation.", p)
        inside = mask.ravel()[flat]
        counts = np.bincount(pi[inside], minlength=N_CHANNELS).astype(np.int64)
        det_counts = np.bincount(np.clip(det[inside], 0, 3), minlength=4).astype(np.int64)
        npix = int(mask.sum())
        spectra[name] = RegionSpectrum(name, p, counts, npix, npix / float(shape[0] * shape[1]),
                                       det_counts, mask, shapes)
        if counts.sum() == 0:
            rep.warning(f"region file {p} holds no event of {ev.path.name} in the good times; its "
                        "spectrum is written with zero counts.")
        rep.progress(0.1 + 0.9 * (k + 1) / max(len(regions), 1), f"extracted {name}")
    header = {k: ev.header[k] for k in OBSERVATION_KEYWORDS if k in ev.header}
    seqid = str(ev.keyword("OBS_ID", "") or "").strip()
    return Extraction(event_file=ev.path, module=ev.module or "A", seqid=seqid, header=header,
                      gti_start=gti.start, gti_stop=gti.stop, ontime=gti.ontime,
                      deadc=float(ev.deadc) if np.isfinite(ev.deadc) else 1.0,
                      usrgti_file=Path(usrgti) if usrgti is not None else None, spectra=spectra,
                      wcs=ev.wcs)
