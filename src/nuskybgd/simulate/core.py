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

from nuskybgd.calib.psf import NUSTAR_PSF
from nuskybgd.constants import (
    DET1_PIXEL_ARCSEC,
    DET1_SIZE,
    MODULES,
    SKY_REFPIX,
    SKY_SIZE,
    normalise_module,
)
from nuskybgd.errors import CalibrationError, InputError
from nuskybgd.events import Reporter
from nuskybgd.io.atomic import check_writable, write_atomic, write_text_atomic
from nuskybgd.simulate import model as mdl
from nuskybgd.simulate import schema
from nuskybgd.simulate.timeline import draw_times, make_bad_pixels, make_gtis, make_track
from nuskybgd.simulate.truth import fit_parameters, line_labels, named_parameters

#: Background component names, in XSPEC source order (sources 2..5).
BACKGROUND_COMPONENTS = ("apbgd", "intbgd", "fcxb", "intn")
ALL_COMPONENTS = BACKGROUND_COMPONENTS + ("source",)

#: Defaults of a simulated observation.
DEFAULT_SEQID = "90000000002"
DEFAULT_TSTART = 352_000_000.0  # MET s (2021-02-26)
DEFAULT_POINTING = (150.1163, 2.2058)  # RA, Dec (deg) of the field centre / target
DEFAULT_PA = 37.0  # roll PA_PNT (deg)
#: DET1 position (1-based) at which the target sits on average, per module (on detector 0).
TARGET_DET1 = {"A": (215.0, 205.0), "B": (218.0, 207.0)}
DEFAULT_SOURCE = {
    "point": {"PhoIndex": 1.8, "norm": 2.0e-3},
    "cluster": {"PhoIndex": 2.0, "norm": 5.0e-3},
}
#: Band used for the "expected counts in band" truth entries (keV).
TRUTH_BAND_KEV = (3.0, 79.0)


@dataclass
class ModuleResult:
    """What was written for one module."""

    module: str
    event_file: Path
    gti_file: Path
    det1_file: Path
    n_events: int
    truth: dict


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
    targets = output_paths(outdir, seqid, modules)
    if caldb_tree is not None:
        targets.append(Path(caldb_tree) / "data" / "nustar" / "fpm" / "caldb.indx")
    for p in targets:
        if p.exists() and not overwrite:
            check_writable(p, overwrite)
    date_obs = schema.met_to_isot(DEFAULT_TSTART)
    # every calibration is resolved (and refused if missing) before anything is written
    cals = {m: _resolve_calibration(m, calibration, date_obs) for m in modules}
    event_dir = outdir / seqid / "event_cl"
    event_dir.mkdir(parents=True, exist_ok=True)

    ss = np.random.SeedSequence(int(seed))
    rng_obs, *rng_mod = (np.random.default_rng(s) for s in ss.spawn(1 + len(MODULES)))
    rng_by_module = dict(zip(MODULES, rng_mod, strict=True))

    deadc = float(rng_obs.uniform(0.92, 0.95))
    ontime = float(exposure) / deadc
    tstart = DEFAULT_TSTART
    gti = make_gtis(rng_obs, tstart, ontime)
    tstop = float(gti[-1, 1] + rng_obs.uniform(60.0, 200.0))
    settle = float(tstart + 0.5 * (gti[0, 0] - tstart))
    date_end = schema.met_to_isot(tstop)
    src_params = dict(DEFAULT_SOURCE.get(source, {}))
    src_params.update(source_params or {})
    ra0, dec0 = map(float, pointing)
    wcs = _sky_wcs(ra0, dec0)
    src_xy = (SKY_REFPIX, SKY_REFPIX)  # continuous sky coords of the target (= TCRVL)

    truth: dict = {
        "schema": "nuskybgd-simulation-truth/1",
        "seqid": seqid,
        "seed": int(seed),
        "exposure_s": float(ontime * deadc),
        "ontime_s": ontime,
        "deadc": deadc,
        "tstart": tstart,
        "tstop": tstop,
        "date_obs": date_obs,
        "gti_count": int(len(gti)),
        "pointing": {"ra_nom": ra0, "dec_nom": dec0, "pa_pnt": float(pa_pnt),
                     "sky_frame_centre_xy": [SKY_REFPIX, SKY_REFPIX]},
        "geometry_convention": convention,
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
    result = SimulationResult(outdir=outdir, seqid=seqid, event_dir=event_dir,
                              truth_file=outdir / seqid / "truth.json")
    cal_labels = []
    for k, m in enumerate(modules):
        rep.progress(k / max(len(modules), 1), f"simulating FPM{m}")
        cal = cals[m]
        cal_labels.append(cal.source)
        mres = _simulate_module(
            m, cal, rng_by_module[m], rep, seqid=seqid, gti=gti, tstart=tstart, tstop=tstop,
            settle=settle, deadc=deadc, ontime=ontime, date_obs=date_obs, date_end=date_end,
            wcs=wcs, src_xy=src_xy, pa_pnt=float(pa_pnt), source=source, src_params=src_params,
            components=tuple(components), solar=solar, scale=scale, convention=convention,
            event_dir=event_dir, overwrite=overwrite, ra0=ra0, dec0=dec0)
        result.modules[m] = mres
        result.n_events += mres.n_events
        truth["modules"][m] = mres.truth
    result.calibration = ",".join(sorted(set(cal_labels)))
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


def _simulate_module(m: str, cal, rng: np.random.Generator, rep, *, seqid, gti, tstart, tstop,
                     settle, deadc, ontime, date_obs, date_end, wcs, src_xy, pa_pnt, source,
                     src_params, components, solar, scale, convention, event_dir, overwrite,
                     ra0, dec0) -> ModuleResult:
    from nuskybgd.energy import band_to_pi
    from nuskybgd.geometry.frames import det1_to_sky, sky_to_det1

    live = ontime * deadc
    det_map = mdl.active_detector_map(cal)
    pm = cal.pixel_map()
    rawx_map = np.asarray(pm.rawx, np.int64)
    rawy_map = np.asarray(pm.rawy, np.int64)
    det_flat = det_map.ravel().astype(np.int64)

    # aspect: mean track position that puts the target at TARGET_DET1 on average
    tx, ty = TARGET_DET1[m]
    ref0 = det1_to_sky(350.0, 350.0, 0.0, 0.0, pa_pnt)  # offset of the ref point for DET1 (0,0)
    off = det1_to_sky(tx, ty, 0.0, 0.0, pa_pnt)
    mean_xy = (src_xy[0] + float(ref0[0] - off[0]), src_xy[1] + float(ref0[1] - off[1]))
    track = make_track(rng, tstart, tstop, settle, mean_xy)
    badpix = make_bad_pixels(rng, tstart, tstop)
    good_raw = badpix.good_fraction(gti)  # [det, rawy, rawx]
    good_det1 = np.zeros(DET1_SIZE * DET1_SIZE)
    on = det_flat >= 0
    good_det1[on] = good_raw[det_flat[on], rawy_map.ravel()[on], rawx_map.ravel()[on]]

    # optical axis on the sky (RA_PNT/DEC_PNT): the target's mean DET1 position
    pnt_ra, pnt_dec = (float(v) for v in wcs.wcs_pix2world([[src_xy[0], src_xy[1]]], 1)[0])
    meta = schema.ObsMeta(
        seqid=seqid, module=m, object="SIM_" + source.upper() if source != "none" else "SIM_BLANK",
        ra_obj=ra0, dec_obj=dec0, ra_nom=ra0, dec_nom=dec0, ra_pnt=pnt_ra, dec_pnt=pnt_dec,
        pa_pnt=pa_pnt, tstart=tstart, tstop=tstop, ontime=ontime, deadc=deadc,
        date_obs=date_obs, date_end=date_end, mjd_obs=schema.met_to_mjd(tstart),
        calib_label=cal.source, calib_detail=cal.detail)

    pi_lo, pi_hi = band_to_pi(*TRUTH_BAND_KEV)
    pix_parts, pi_parts, comp_parts = [], [], []
    mtruth: dict = {"components": {}, "expected_counts": {}, "simulated_counts": {}}
    comps = mdl.background_components(cal, m, det_map, solar=solar, scale=scale)
    for ci, comp in enumerate(comps):
        ctruth = dict(comp.truth)
        ctruth["injected"] = comp.name in components
        ctruth["per_detector"] = {}
        w = comp.weight.ravel()
        for d in range(4):
            idx = np.flatnonzero(det_flat == d)
            wd = w[idx]
            r = comp.rate[d]
            tot_rate = float(r.sum())
            # expected counts in the file: weight × good-time fraction × live time
            wg = float(np.sum(wd * good_det1[idx]))
            mu = live * wg * tot_rate
            mu_band = live * wg * float(r[pi_lo:pi_hi + 1].sum())
            entry = {"weight_sum_exposure_weighted": wg, "weight_sum": float(wd.sum()),
                     "expected_counts": mu if comp.name in components else 0.0,
                     "expected_counts_3to79keV": mu_band if comp.name in components else 0.0}
            on_ = 1.0 if comp.name in components else 0.0  # a left-out component fits to 0
            if comp.name == "apbgd":
                entry["W"] = wg
                entry["norm"] = on_ * comp.truth["norm_per_weight"] * wg
            elif comp.name == "fcxb":
                entry["norm"] = on_ * comp.truth["norm_per_pixel"] * wg
            elif comp.name == "intn":
                entry["norm"] = on_ * comp.truth["norm_per_pixel"][d] * wg
            elif comp.name == "intbgd":
                npx = max(ctruth["active_pixels"][str(d)], 1)
                entry["norms"] = {nm: on_ * p["norm_whole_detector"][d] * wg / npx
                                  for nm, p in ctruth["components"].items()}
                entry["expected_counts_by_line"] = {
                    nm: on_ * live * wg * comp.sub_rates[d].get(nm, 0.0)
                    for nm in ctruth["components"]}
            ctruth["per_detector"][str(d)] = entry
            if comp.name not in components:
                continue
            n = int(rng.poisson(live * float(wd.sum()) * tot_rate))
            if n == 0:
                continue
            pix_parts.append(idx[mdl.draw_from_distribution(rng, wd, n)])
            pi_parts.append(mdl.draw_from_distribution(rng, r, n).astype(np.int32))
            comp_parts.append(np.full(n, ci, np.int8))
        mtruth["components"][comp.name] = ctruth

    pix = np.concatenate(pix_parts) if pix_parts else np.zeros(0, np.int64)
    pi = np.concatenate(pi_parts) if pi_parts else np.zeros(0, np.int32)
    comp_id = np.concatenate(comp_parts) if comp_parts else np.zeros(0, np.int8)
    t = draw_times(rng, gti, pix.size)

    # --- source (fixed on the sky) ---------------------------------------------------------
    src_truth: dict = {"kind": source, "injected": source != "none" and "source" in components}
    if src_truth["injected"]:
        s_pix, s_pi, s_t, s_info = _draw_source(rng, cal, m, source, src_params, gti, live,
                                                track, pa_pnt, src_xy, det_map, convention,
                                                sky_to_det1)
        pix = np.concatenate([pix, s_pix])
        pi = np.concatenate([pi, s_pi])
        t = np.concatenate([t, s_t])
        comp_id = np.concatenate([comp_id, np.full(s_pix.size, len(comps), np.int8)])
        src_truth.update(s_info)
    src_truth.update({"ra": ra0, "dec": dec0, "sky_xy": [src_xy[0], src_xy[1]],
                      "model": "powerlaw", "parameters": dict(src_params)})
    if source == "point" or source == "cluster":
        src_truth["psf"] = {"profile": "King (1+(r/rc)^2)^-1.5",
                            "hpd_arcsec": NUSTAR_PSF.hpd_arcsec,
                            "rc_arcsec": float(NUSTAR_PSF.rc_arcsec),
                            "rmax_arcsec": NUSTAR_PSF.rmax_arcsec}
    if source == "cluster":
        src_truth["beta_model"] = {"beta": mdl.CLUSTER_BETA, "rc_arcsec": mdl.CLUSTER_RC_ARCSEC,
                                   "rmax_arcsec": mdl.CLUSTER_RMAX_ARCSEC}
    mtruth["source"] = src_truth

    # --- bad pixels: drop events in a bad pixel during its bad interval ---------------------
    key = det_flat[pix] * 1024 + rawy_map.ravel()[pix] * 32 + rawx_map.ravel()[pix]
    keep = ~badpix.is_bad(key, t)
    pix, pi, t, comp_id, key = pix[keep], pi[keep], t[keep], comp_id[keep], key[keep]

    order = np.argsort(t, kind="stable")
    pix, pi, t, comp_id = pix[order], pi[order], t[order], comp_id[order]
    n = int(pix.size)

    names = [c.name for c in comps] + ["source"]
    for d in range(4):
        dm = det_flat[pix] == d
        mtruth["simulated_counts"][str(d)] = {
            nm: int(np.count_nonzero(dm & (comp_id == i))) for i, nm in enumerate(names)}
        mtruth["expected_counts"][str(d)] = {
            nm: mtruth["components"][nm]["per_detector"][str(d)]["expected_counts"]
            for nm in BACKGROUND_COMPONENTS}
        mtruth["expected_counts"][str(d)]["total_background"] = float(
            sum(mtruth["expected_counts"][str(d)][nm] for nm in BACKGROUND_COMPONENTS))

    mtruth["fit_parameters"] = {str(d): fit_parameters(mtruth["components"], d) for d in range(4)}
    mtruth["component_labels"] = line_labels(mtruth["components"])

    # --- event columns -----------------------------------------------------------------------
    cols = schema.empty_event_columns(n)
    y0, x0 = np.divmod(pix, DET1_SIZE)
    det1x = (x0 + 1).astype(np.int16)
    det1y = (y0 + 1).astype(np.int16)
    rx, ry = track.at(t)
    ux = det1x + rng.uniform(-0.5, 0.5, n)
    uy = det1y + rng.uniform(-0.5, 0.5, n)
    sx, sy = det1_to_sky(ux, uy, rx, ry, pa_pnt, convention=convention)
    X = np.rint(sx).astype(np.int64)
    Y = np.rint(sy).astype(np.int64)
    off = (X < 1) | (X > SKY_SIZE) | (Y < 1) | (Y > SKY_SIZE)
    X[off] = -1
    Y[off] = -1
    # DET2 (optics bench): DET1 plus the fixed bench offset and the mast motion
    mdx = (rx - mean_xy[0])
    mdy = (ry - mean_xy[1])
    cols["TIME"] = t
    cols["PRIOR"] = rng.exponential(0.05, n)
    cols["RESET"] = rng.uniform(0.0, 1.0, n)
    cols["SUBFRM"] = rng.integers(0, 1474560, n, dtype=np.int32)
    cols["NUMRISE"] = rng.integers(-300, 300, n, dtype=np.int32)
    cols["DENRISE"] = rng.integers(1, 300, n, dtype=np.int32)
    cols["DET_ID"] = det_flat[pix].astype(np.uint8)
    cols["S_CAP"] = rng.integers(0, 16, n, dtype=np.uint8)
    cols["HWTRIG"] = np.ones(n, np.uint8)
    cols["RAWX"] = rawx_map.ravel()[pix].astype(np.uint8)
    cols["RAWY"] = rawy_map.ravel()[pix].astype(np.uint8)
    cols["GRADE"] = mdl.draw_grades(rng, n)
    cols["PI"] = pi.astype(np.int32)
    pif = pi.astype(np.float32) + rng.uniform(0, 1, n).astype(np.float32)
    cols["PI_CLC"] = pif
    cols["SURRPI"] = rng.integers(-20, 20, n, dtype=np.int32)
    cols["TRIGGERS"][:, 4] = True
    cols["SWTRIG"][:, 4] = 1
    cols["PIS_GAIN"][:, 4] = pif
    cols["PHAS"][:, 4] = pif * 3.2
    cols["TRPHAS"][:, 4] = pif * 3.2
    cols["OFFPHAS"][:, 4] = pif * 3.2
    cols["RAWPHAS"][:, 4] = np.minimum(pif * 3.2, 32767).astype(np.int16)
    cols["DET1X"] = det1x
    cols["DET1Y"] = det1y
    cols["DET2X"] = np.clip(np.rint(ux + 120.0 + mdx), 1, 600).astype(np.int16)
    cols["DET2Y"] = np.clip(np.rint(uy + 120.0 + mdy), 1, 600).astype(np.int16)
    cols["X"] = X.astype(np.int16)
    cols["Y"] = Y.astype(np.int16)

    evt = event_dir / f"nu{seqid}{m}01_cl.evt"
    gtif = event_dir / f"nu{seqid}{m}01_gti.fits"
    d1f = event_dir / f"nu{seqid}{m}_det1.fits"
    when = date_end
    write_fits_deterministic(evt, schema.event_file(meta, cols, gti, badpix.rows), when, overwrite)
    rep.output(evt, f"wrote {evt} ({n} events)")
    write_fits_deterministic(gtif, schema.gti_file(meta, gti), when, overwrite)
    rep.output(gtif)
    write_fits_deterministic(d1f, schema.det1_file(meta, track.time, track.x, track.y), when,
                             overwrite)
    rep.output(d1f)

    bp_truth = []
    for d, (bx, by, b0, b1, fl) in enumerate(badpix.rows):
        for i in range(len(bx)):
            bp_truth.append({"det": d, "rawx": int(bx[i]), "rawy": int(by[i]),
                             "tstart": float(b0[i]), "tstop": float(b1[i]), "badflag": int(fl[i])})
    mtruth.update({
        "instrume": f"FPM{m}",
        "n_events": n,
        "aspect": track.params,
        "target_det1_mean": [TARGET_DET1[m][0], TARGET_DET1[m][1]],
        "bad_pixels": bp_truth,
        "files": {"events": evt.name, "gti": gtif.name, "det1": d1f.name},
        "active_pixels": {str(d): int(np.count_nonzero(det_map == d)) for d in range(4)},
    })
    mtruth["parameters"] = named_parameters(mtruth)
    return ModuleResult(m, evt, gtif, d1f, n, mtruth)


def _draw_source(rng, cal, m, source, src_params, gti, live, track, pa_pnt, src_xy, det_map,
                 convention, sky_to_det1):
    """Source events: photons through the on-axis ARF, PSF/β-model on the sky, then DET1."""
    edges = mdl.energy_edges(cal)
    arf = np.asarray(cal.onaxis_arf().specresp, float)
    ph = mdl._flux("powerlaw", edges, PhoIndex=float(src_params["PhoIndex"]),
                   norm=float(src_params["norm"])) * arf
    rate = float(ph.sum())  # photons s⁻¹ reaching the focal plane
    n = int(rng.poisson(live * rate))
    t = draw_times(rng, gti, n)
    dx, dy = mdl.draw_source_offsets(rng, n, source)
    # +RA is −X on the sky grid; the profiles are symmetric so the sign does not matter
    sx = src_xy[0] + dx / DET1_PIXEL_ARCSEC
    sy = src_xy[1] + dy / DET1_PIXEL_ARCSEC
    rx, ry = track.at(t)
    u, v = sky_to_det1(sx, sy, rx, ry, pa_pnt, convention=convention)
    ui = np.rint(u).astype(np.int64)
    vi = np.rint(v).astype(np.int64)
    inside = (ui >= 1) & (ui <= DET1_SIZE) & (vi >= 1) & (vi <= DET1_SIZE)
    pix = np.full(n, -1, np.int64)
    pix[inside] = (vi[inside] - 1) * DET1_SIZE + (ui[inside] - 1)
    det = np.full(n, -1, np.int64)
    det[inside] = det_map.ravel()[pix[inside]]
    on_det = det >= 0
    info = {"expected_photons_focal_plane": live * rate,
            "photons_drawn": n,
            "photons_on_active_detector": int(np.count_nonzero(on_det))}
    out_pix, out_pi, out_t = [], [], []
    exp_det = {}
    for d in range(4):
        sel = np.flatnonzero(det == d)
        dab = (np.asarray(cal.detabs(d).specresp, float) if hasattr(cal, "detabs")
               else 1.0)  # the source sees detector absorption (as a nuproducts ARF does)
        folded = mdl.fold(ph * dab, cal.rmf(d))
        eff = float(folded.sum()) / rate if rate > 0 else 0.0  # detection efficiency
        keep = sel[rng.uniform(size=sel.size) < eff]
        out_pix.append(pix[keep])
        out_pi.append(mdl.draw_from_distribution(rng, folded, keep.size).astype(np.int32))
        out_t.append(t[keep])
        exp_det[str(d)] = {"detection_efficiency": eff}
    info["per_detector"] = exp_det
    return (np.concatenate(out_pix), np.concatenate(out_pi), np.concatenate(out_t), info)
