"""simulate_observation: a synthetic NuSTAR observation with known truth.

Writes, per module m ∈ {A, B}, under ``OUTDIR/<seqid>/event_cl/``:

* ``nu<seqid><m>01_cl.evt`` (EVENTS with the 39 nupipeline columns, GTI, 4 × BADPIX),
* ``nu<seqid><m>01_gti.fits`` (STDGTI),
* ``nu<seqid><m>_det1.fits`` (DET1_REFPOINT every 0.2 s),

and ``OUTDIR/<seqid>/truth.json`` with every injected parameter.  Every step is vectorised with
numpy; the random numbers come from one ``numpy.random.SeedSequence(seed)``, so the same seed
gives byte-identical files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.constants import DET1_PIXEL_ARCSEC, MODULES, SKY_REFPIX
from nuskybgd.errors import CalibrationError, InputError
from nuskybgd.events import Reporter
from nuskybgd.io.atomic import check_writable, write_atomic, write_text_atomic
from nuskybgd.modules import normalise_module
from nuskybgd.simulate import schema
from nuskybgd.simulate.module import (  # re-exported: the per-module part lives there
    BACKGROUND_COMPONENTS,
    TARGET_DET1,
    TRUTH_BAND_KEV,
    ModuleResult,
    ObsContext,
    simulate_module,
)
from nuskybgd.simulate.timeline import make_gtis
from nuskybgd.simulate.truth import fit_parameters

ALL_COMPONENTS = BACKGROUND_COMPONENTS + ("source",)
__all__ = ["ALL_COMPONENTS", "BACKGROUND_COMPONENTS", "DEFAULT_SOURCE", "ModuleResult",
           "SimulationResult", "TARGET_DET1", "TRUTH_BAND_KEV", "check_options", "fit_parameters",
           "output_paths", "simulate_observation", "write_fits_deterministic"]

#: Defaults of a simulated observation.
DEFAULT_SEQID = "90000000002"
DEFAULT_TSTART = 352_000_000.0  # MET s (2021-02-26)
DEFAULT_POINTING = (150.1163, 2.2058)  # RA, Dec (deg) of the field centre / target
DEFAULT_PA = 37.0  # roll PA_PNT (deg)
DEFAULT_SOURCE = {
    "point": {"PhoIndex": 1.8, "norm": 2.0e-3},
    "cluster": {"PhoIndex": 2.0, "norm": 5.0e-3},
}


@dataclass
class SimulationResult:
    """Outputs of :func:`simulate_observation`."""

    outdir: Path
    seqid: str
    event_dir: Path
    truth_file: Path
    modules: dict[str, ModuleResult] = field(default_factory=dict)
    caldb_tree: Path | None = None
    calibration: str = ""
    n_events: int = 0

    @property
    def outputs(self) -> list[Path]:
        out: list[Path] = []
        for m in self.modules.values():
            out += [m.event_file, m.gti_file, m.det1_file]
        return out + [self.truth_file]


def output_paths(outdir: str | Path, seqid: str, modules: tuple[str, ...] = MODULES) -> list[Path]:
    """The files :func:`simulate_observation` writes (without the optional CALDB tree)."""
    ev = Path(outdir) / seqid / "event_cl"
    out: list[Path] = []
    for m in modules:
        out += [ev / f"nu{seqid}{m}01_cl.evt", ev / f"nu{seqid}{m}01_gti.fits",
                ev / f"nu{seqid}{m}_det1.fits"]
    return out + [Path(outdir) / seqid / "truth.json"]


def write_fits_deterministic(path: Path, hdul: fits.HDUList, when: str, overwrite: bool = False) -> Path:
    """Write ``hdul`` atomically with CHECKSUM/DATASUM whose comments carry ``when``.

    astropy's ``writeto(checksum=True)`` stamps the current time into the checksum comments;
    here the observation date is used instead, so the same seed gives byte-identical files.
    """
    def _w(tmp: Path) -> None:
        for hdu in hdul:
            hdu.add_checksum(when=f"HDU checksum updated {when}")
        hdul.writeto(tmp, overwrite=True, checksum=False)

    return write_atomic(path, _w, overwrite)


def _resolve_calibration(module: str, calibration: str, date_obs: str):
    """Calibration of one module from the requested source (nominal | auxil | caldb).

    Raises
    ------
    CalibrationError
        ``auxil`` or ``caldb`` was asked for but none of its files was found (the simulator
        does not silently fall back to the built-in calibration).
    """
    from nuskybgd import calib

    want = CALIBRATION_PREFER.get(str(calibration).lower())
    if want is None:
        raise InputError(f"calibration '{calibration}' is not known; use nominal, auxil or caldb.")
    cal = calib.resolve(module, date_obs=date_obs, prefer=want)
    if want != "builtin" and want.upper() not in cal.source.upper():
        status = cal.caldb_status if want == "caldb" else cal.auxil_status
        fix = ("set $CALDB to a NuSTAR CALDB (e.g. one written with --caldb-tree)" if want == "caldb"
               else "set $NUSKYBGD_AUXIL to the nuskybgd auxil folder or run 'nuskybgd calib fetch'")
        raise CalibrationError(f"--calibration {calibration} was asked for but nothing was found "
                               f"for FPM{module} ({status}); {fix}, or use --calibration nominal.")
    return cal


def _sky_wcs(ra0: float, dec0: float):
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crpix = [SKY_REFPIX, SKY_REFPIX]
    w.wcs.crval = [ra0, dec0]
    w.wcs.cdelt = [-DET1_PIXEL_ARCSEC / 3600.0, DET1_PIXEL_ARCSEC / 3600.0]
    return w


#: Accepted ``calibration`` names → the ``prefer`` of :func:`nuskybgd.calib.resolve`.
CALIBRATION_PREFER = {"nominal": "builtin", "builtin": "builtin", "auxil": "auxil",
                      "caldb": "caldb"}


def check_options(seqid: str, exposure: float, source: str, components: tuple[str, ...],
                  modules: tuple[str, ...],
                  convention: str, seed: int = 1, calibration: str = "nominal"
                  ) -> tuple[str, ...]:
    """Validate simulation options; return the normalised module tuple.

    Raises
    ------
    InputError
        One sentence naming the bad value and the fix.
    """
    if not (seqid.isdigit() and len(seqid) == 11):
        raise InputError(f"seqid '{seqid}' is not an 11-digit NuSTAR observation ID; "
                         "give e.g. --seqid 90000000002.")
    try:
        exposure = float(exposure)
    except (TypeError, ValueError):
        exposure = float("nan")
    if not (math.isfinite(exposure) and 1.0 <= exposure <= 5e6):
        raise InputError(f"exposure {exposure} s is out of range; give a livetime between 1 and 5e6 s.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed {seed!r} is not a non-negative integer; give e.g. --seed 1.")
    if str(calibration).lower() not in CALIBRATION_PREFER:
        raise InputError(f"calibration '{calibration}' is not known; use nominal, auxil or caldb.")
    if source not in ("point", "cluster", "none"):
        raise InputError(f"source '{source}' is not known; use point, cluster or none.")
    bad = [c for c in components if c not in ALL_COMPONENTS]
    if bad:
        raise InputError(f"unknown component(s) {', '.join(bad)}; choose from {', '.join(ALL_COMPONENTS)}.")
    modules = tuple(normalise_module(m, "--modules") for m in modules)
    if convention not in ("physical", "projbgd"):
        raise InputError(f"convention '{convention}' is not known; use physical or projbgd.")
    return modules


def simulate_observation(
    outdir: str | Path,
    seqid: str = DEFAULT_SEQID,
    exposure: float = 50e3,
    seed: int = 1,
    source: str = "point",
    calibration: str = "nominal",
    caldb_tree: str | Path | None = None,
    modules: tuple[str, ...] = MODULES,
    components: tuple[str, ...] = ALL_COMPONENTS,
    solar: bool = False,
    source_params: dict | None = None,
    scale: dict[str, float] | None = None,
    pa_pnt: float = DEFAULT_PA,
    pointing: tuple[float, float] = DEFAULT_POINTING,
    convention: str = "physical",
    overwrite: bool = False,
    reporter: Reporter | None = None,
) -> SimulationResult:
    """Simulate a NuSTAR observation from the nuskybgd background model plus a source.

    Parameters
    ----------
    outdir : path
        Top folder; files go to ``outdir/<seqid>/event_cl/`` (created).
    seqid : str
        11-digit observation ID used in file names and OBS_ID.
    exposure : float
        Livetime (EXPOSURE keyword) in s; ONTIME = exposure / DEADC.
    seed : int
        Seed of all random numbers (same seed → identical files).
    source : {"point", "cluster", "none"}
        Astrophysical source at the field centre.
    calibration : {"nominal", "auxil", "caldb"}
        Calibration used to simulate (resolved with :func:`nuskybgd.calib.resolve`).
    caldb_tree : path, optional
        Also write a CALDB folder made from the calibration used (see :mod:`.caldb_tree`).
    modules : tuple of {"A", "B"}
    components : tuple of str
        Subset of ``apbgd intbgd fcxb intn source`` to include (others are left out of the
        events and reported as not injected in truth.json).
    solar : bool
        Include the solar soft component (intbgd apec + 3.5/4.5/10.2 keV lines).  The apec part
        needs an AtomDB source (see :mod:`nuskybgd.spectral`).
    source_params : dict, optional
        ``{"PhoIndex": Γ, "norm": K}`` of the source power law (ph keV⁻¹ cm⁻² s⁻¹ at 1 keV).
    scale : dict, optional
        Multipliers of the background component norms relative to the presets.
    pa_pnt : float
        Roll PA_PNT in degrees.
    pointing : (float, float)
        RA, Dec (deg) of the field centre (RA_NOM/DEC_NOM, sky-frame centre, target position).
    convention : {"physical", "projbgd"}
        DET1↔sky mapping (:mod:`nuskybgd.geometry.frames`); "physical" puts DET1 (350, 350) on
        the track exactly.
    overwrite : bool
        Replace existing outputs.
    reporter : nuskybgd.events.Reporter, optional
        Receives log lines and progress.

    Returns
    -------
    SimulationResult
    """
    from nuskybgd.events import Silent

    rep = reporter if reporter is not None else Silent()
    seqid = str(seqid)
    modules = check_options(seqid, exposure, source, components, modules, convention, seed,
                            calibration)
    outdir = Path(outdir)
    date_obs = schema.met_to_isot(DEFAULT_TSTART)
    cals = _prepare_outputs(outdir, seqid, modules, calibration, caldb_tree, overwrite, date_obs)

    ss = np.random.SeedSequence(int(seed))
    rng_obs, *rng_mod = (np.random.default_rng(s) for s in ss.spawn(1 + len(MODULES)))
    rng_by_module = dict(zip(MODULES, rng_mod, strict=True))
    ctx = _observation_context(rng_obs, outdir, seqid, exposure, date_obs, source, source_params,
                               pointing, pa_pnt, components, solar, scale, convention, overwrite)
    truth = _observation_truth(ctx, int(seed), tuple(components))
    result = SimulationResult(outdir=outdir, seqid=seqid, event_dir=ctx.event_dir,
                              truth_file=outdir / seqid / "truth.json")
    for k, m in enumerate(modules):
        rep.progress(k / max(len(modules), 1), f"simulating FPM{m}")
        mres = simulate_module(m, cals[m], rng_by_module[m], rep, ctx)
        result.modules[m] = mres
        result.n_events += mres.n_events
        truth["modules"][m] = mres.truth
    result.calibration = ",".join(sorted({cals[m].source for m in modules}))
    truth["calibration"] = {m: {"source": cals[m].source, "detail": cals[m].detail} for m in modules}
    if caldb_tree is not None:
        from nuskybgd.simulate.caldb_tree import write_caldb_tree

        result.caldb_tree = write_caldb_tree(caldb_tree, cals, overwrite=overwrite, reporter=rep)
        truth["caldb_tree"] = str(result.caldb_tree)
    write_text_atomic(result.truth_file, json.dumps(truth, indent=1, sort_keys=False) + "\n",
                      overwrite=overwrite)
    rep.output(result.truth_file, f"wrote {result.truth_file}")
    rep.progress(1.0, "done")
    return result


def _prepare_outputs(outdir: Path, seqid: str, modules: tuple[str, ...], calibration: str,
                     caldb_tree, overwrite: bool, date_obs: str) -> dict:
    """Refuse existing outputs and resolve every calibration before anything is written."""
    targets = output_paths(outdir, seqid, modules)
    if caldb_tree is not None:
        targets.append(Path(caldb_tree) / "data" / "nustar" / "fpm" / "caldb.indx")
    for p in targets:
        if p.exists() and not overwrite:
            check_writable(p, overwrite)
    cals = {m: _resolve_calibration(m, calibration, date_obs) for m in modules}
    (outdir / seqid / "event_cl").mkdir(parents=True, exist_ok=True)
    return cals


def _observation_context(rng_obs, outdir: Path, seqid: str, exposure: float, date_obs: str,
                         source: str, source_params, pointing, pa_pnt: float, components,
                         solar: bool, scale, convention: str, overwrite: bool) -> ObsContext:
    """Dead time, GTIs and the other observation-wide settings (draws from ``rng_obs``)."""
    deadc = float(rng_obs.uniform(0.92, 0.95))
    ontime = float(exposure) / deadc
    tstart = DEFAULT_TSTART
    gti = make_gtis(rng_obs, tstart, ontime)
    tstop = float(gti[-1, 1] + rng_obs.uniform(60.0, 200.0))
    src_params = dict(DEFAULT_SOURCE.get(source, {}))
    src_params.update(source_params or {})
    ra0, dec0 = map(float, pointing)
    return ObsContext(
        seqid=seqid, gti=gti, tstart=tstart, tstop=tstop,
        settle=float(tstart + 0.5 * (gti[0, 0] - tstart)), deadc=deadc, ontime=ontime,
        date_obs=date_obs, date_end=schema.met_to_isot(tstop), wcs=_sky_wcs(ra0, dec0),
        src_xy=(SKY_REFPIX, SKY_REFPIX),  # continuous sky coords of the target (= TCRVL)
        pa_pnt=float(pa_pnt), source=source, src_params=src_params,
        components=tuple(components), solar=solar, scale=scale, convention=convention,
        event_dir=outdir / seqid / "event_cl", overwrite=overwrite, ra0=ra0, dec0=dec0)


def _observation_truth(ctx: ObsContext, seed: int, components: tuple[str, ...]) -> dict:
    """The observation-wide part of ``truth.json`` (modules are added as they are simulated)."""
    return {
        "schema": "nuskybgd-simulation-truth/1",
        "seqid": ctx.seqid,
        "seed": seed,
        "exposure_s": float(ctx.ontime * ctx.deadc),
        "ontime_s": ctx.ontime,
        "deadc": ctx.deadc,
        "tstart": ctx.tstart,
        "tstop": ctx.tstop,
        "date_obs": ctx.date_obs,
        "gti_count": int(len(ctx.gti)),
        "pointing": {"ra_nom": ctx.ra0, "dec_nom": ctx.dec0, "pa_pnt": ctx.pa_pnt,
                     "sky_frame_centre_xy": [SKY_REFPIX, SKY_REFPIX]},
        "geometry_convention": ctx.convention,
        "components_injected": [c for c in ALL_COMPONENTS if c in components],
        "units": {
            "cutoffpl.norm": "ph keV^-1 cm^-2 s^-1 at 1 keV",
            "powerlaw.norm": "ph keV^-1 cm^-2 s^-1 at 1 keV",
            "bknpower.norm": "ph keV^-1 cm^-2 s^-1 at 1 keV",
            "lorentz.norm": "ph cm^-2 s^-1 in the line (response without ARF: ph s^-1)",
            "LineE": "keV", "Width": "keV (FWHM)", "HighECut": "keV", "BreakE": "keV",
            "counts": "events in the cleaned event file (all PI channels unless banded)",
        },
        "modules": {},
    }
