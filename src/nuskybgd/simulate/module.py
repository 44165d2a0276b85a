"""One module of a simulated observation: background and source events, screening, columns, files.

:func:`simulate_module` is called by :func:`nuskybgd.simulate.core.simulate_observation` once per
module with the observation-wide settings in an :class:`ObsContext`.  The random numbers are drawn
in a fixed order from the module's generator (track, bad pixels, background, event times,
source, event columns), so the same seed gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuskybgd.constants import DET1_SIZE, SKY_SIZE
from nuskybgd.energy import band_to_pi
from nuskybgd.simulate import model as mdl
from nuskybgd.simulate import schema
from nuskybgd.simulate.source import add_source
from nuskybgd.simulate.timeline import AspectTrack, draw_times, make_bad_pixels, make_track
from nuskybgd.simulate.truth import fit_parameters, line_labels, named_parameters

#: Background component names, in XSPEC source order (sources 2..5).
BACKGROUND_COMPONENTS = ("apbgd", "intbgd", "fcxb", "intn")
#: DET1 position (1-based) at which the target sits on average, per module (on detector 0).
TARGET_DET1 = {"A": (215.0, 205.0), "B": (218.0, 207.0)}
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
class ObsContext:
    """Observation-wide settings shared by both modules (times MET s, angles deg)."""

    seqid: str
    gti: np.ndarray
    tstart: float
    tstop: float
    settle: float
    deadc: float
    ontime: float
    date_obs: str
    date_end: str
    wcs: object
    src_xy: tuple[float, float]
    pa_pnt: float
    source: str
    src_params: dict
    components: tuple[str, ...]
    solar: bool
    scale: dict | None
    convention: str
    event_dir: Path
    overwrite: bool
    ra0: float
    dec0: float

    @property
    def live(self) -> float:
        """Livetime (s)."""
        return self.ontime * self.deadc


@dataclass
class _Detector:
    """DET1 maps of one module's calibration (flattened [y, x])."""

    det_map: np.ndarray
    det_flat: np.ndarray
    rawx: np.ndarray
    rawy: np.ndarray


@dataclass
class _Events:
    """Events as drawn: flat DET1 pixel, PI, time and component index."""

    pix: np.ndarray
    pi: np.ndarray
    t: np.ndarray
    comp: np.ndarray

    def append(self, pix, pi, t, comp_index: int) -> None:
        self.pix = np.concatenate([self.pix, pix])
        self.pi = np.concatenate([self.pi, pi])
        self.t = np.concatenate([self.t, t])
        self.comp = np.concatenate([self.comp, np.full(np.size(pix), comp_index, np.int8)])

    def take(self, idx: np.ndarray) -> None:
        self.pix, self.pi, self.t, self.comp = (self.pix[idx], self.pi[idx], self.t[idx],
                                                self.comp[idx])


def _detector(cal) -> _Detector:
    det_map = mdl.active_detector_map(cal)
    pm = cal.pixel_map()
    return _Detector(det_map, det_map.ravel().astype(np.int64),
                     np.asarray(pm.rawx, np.int64).ravel(), np.asarray(pm.rawy, np.int64).ravel())


def _mean_track_position(ctx: ObsContext, module: str) -> tuple[float, float]:
    """Mean sky position of DET1 (350, 350) that puts the target at TARGET_DET1 on average."""
    from nuskybgd.geometry.frames import det1_to_sky

    tx, ty = TARGET_DET1[module]
    ref0 = det1_to_sky(350.0, 350.0, 0.0, 0.0, ctx.pa_pnt)  # offset of the ref point for DET1 (0,0)
    off = det1_to_sky(tx, ty, 0.0, 0.0, ctx.pa_pnt)
    return (ctx.src_xy[0] + float(ref0[0] - off[0]), ctx.src_xy[1] + float(ref0[1] - off[1]))


def _good_det1(badpix, gti: np.ndarray, dm: _Detector) -> np.ndarray:
    """Good-time fraction of every DET1 pixel (flat), from the RAW pixels' bad intervals."""
    good_raw = badpix.good_fraction(gti)  # [det, rawy, rawx]
    good = np.zeros(DET1_SIZE * DET1_SIZE)
    on = dm.det_flat >= 0
    good[on] = good_raw[dm.det_flat[on], dm.rawy[on], dm.rawx[on]]
    return good


def _obs_meta(ctx: ObsContext, module: str, cal) -> schema.ObsMeta:
    # optical axis on the sky (RA_PNT/DEC_PNT): the target's mean DET1 position
    pnt_ra, pnt_dec = (float(v) for v in ctx.wcs.wcs_pix2world([[ctx.src_xy[0], ctx.src_xy[1]]], 1)[0])
    obj = "SIM_" + ctx.source.upper() if ctx.source != "none" else "SIM_BLANK"
    return schema.ObsMeta(
        seqid=ctx.seqid, module=module, object=obj, ra_obj=ctx.ra0, dec_obj=ctx.dec0,
        ra_nom=ctx.ra0, dec_nom=ctx.dec0, ra_pnt=pnt_ra, dec_pnt=pnt_dec, pa_pnt=ctx.pa_pnt,
        tstart=ctx.tstart, tstop=ctx.tstop, ontime=ctx.ontime, deadc=ctx.deadc,
        date_obs=ctx.date_obs, date_end=ctx.date_end, mjd_obs=schema.met_to_mjd(ctx.tstart),
        calib_label=cal.source, calib_detail=cal.detail)


def _detector_truth(comp, ctruth: dict, d: int, wd: np.ndarray, wg: float, live: float,
                    injected: bool) -> dict:
    """Truth entry of one background component on detector ``d`` (weights, norms, counts)."""
    pi_lo, pi_hi = band_to_pi(*TRUTH_BAND_KEV)
    r = comp.rate[d]
    on_ = 1.0 if injected else 0.0  # a left-out component fits to 0
    entry = {"weight_sum_exposure_weighted": wg, "weight_sum": float(wd.sum()),
             "expected_counts": live * wg * float(r.sum()) if injected else 0.0,
             "expected_counts_3to79keV": (live * wg * float(r[pi_lo:pi_hi + 1].sum())
                                          if injected else 0.0)}
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
        entry["expected_counts_by_line"] = {nm: on_ * live * wg * comp.sub_rates[d].get(nm, 0.0)
                                            for nm in ctruth["components"]}
    return entry


def _draw_background(rng, ctx: ObsContext, comps, dm: _Detector, good: np.ndarray, mtruth: dict
                     ) -> _Events:
    """Background events of every injected component; fills ``mtruth["components"]``."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for ci, comp in enumerate(comps):
        injected = comp.name in ctx.components
        ctruth = dict(comp.truth)
        ctruth["injected"] = injected
        ctruth["per_detector"] = {}
        w = comp.weight.ravel()
        for d in range(4):
            idx = np.flatnonzero(dm.det_flat == d)
            wd = w[idx]
            # expected counts in the file: weight × good-time fraction × live time
            wg = float(np.sum(wd * good[idx]))
            ctruth["per_detector"][str(d)] = _detector_truth(comp, ctruth, d, wd, wg, ctx.live,
                                                             injected)
            if not injected:
                continue
            n = int(rng.poisson(ctx.live * float(wd.sum()) * float(comp.rate[d].sum())))
            if n == 0:
                continue
            parts.append((idx[mdl.draw_from_distribution(rng, wd, n)],
                          mdl.draw_from_distribution(rng, comp.rate[d], n).astype(np.int32),
                          np.full(n, ci, np.int8)))
        mtruth["components"][comp.name] = ctruth
    pix = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    pi = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
    comp_id = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int8)
    return _Events(pix, pi, draw_times(rng, ctx.gti, pix.size), comp_id)


def _screen_and_sort(events: _Events, badpix, dm: _Detector) -> None:
    """Drop events in a bad pixel during its bad interval; sort by time (stable)."""
    key = dm.det_flat[events.pix] * 1024 + dm.rawy[events.pix] * 32 + dm.rawx[events.pix]
    events.take(np.flatnonzero(~badpix.is_bad(key, events.t)))
    events.take(np.argsort(events.t, kind="stable"))


def _count_truth(mtruth: dict, events: _Events, dm: _Detector, names: list[str]) -> None:
    """Simulated and expected counts per detector and component."""
    for d in range(4):
        dmask = dm.det_flat[events.pix] == d
        mtruth["simulated_counts"][str(d)] = {
            nm: int(np.count_nonzero(dmask & (events.comp == i))) for i, nm in enumerate(names)}
        exp = {nm: mtruth["components"][nm]["per_detector"][str(d)]["expected_counts"]
               for nm in BACKGROUND_COMPONENTS}
        exp["total_background"] = float(sum(exp[nm] for nm in BACKGROUND_COMPONENTS))
        mtruth["expected_counts"][str(d)] = exp
    mtruth["fit_parameters"] = {str(d): fit_parameters(mtruth["components"], d) for d in range(4)}
    mtruth["component_labels"] = line_labels(mtruth["components"])


def _event_columns(rng, ctx: ObsContext, events: _Events, track: AspectTrack, dm: _Detector,
                   mean_xy: tuple[float, float]) -> dict[str, np.ndarray]:
    """The 39 nupipeline columns of the screened, sorted events."""
    from nuskybgd.geometry.frames import det1_to_sky

    n = int(events.pix.size)
    cols = schema.empty_event_columns(n)
    y0, x0 = np.divmod(events.pix, DET1_SIZE)
    det1x = (x0 + 1).astype(np.int16)
    det1y = (y0 + 1).astype(np.int16)
    rx, ry = track.at(events.t)
    ux = det1x + rng.uniform(-0.5, 0.5, n)
    uy = det1y + rng.uniform(-0.5, 0.5, n)
    sx, sy = det1_to_sky(ux, uy, rx, ry, ctx.pa_pnt, convention=ctx.convention)
    X = np.rint(sx).astype(np.int64)
    Y = np.rint(sy).astype(np.int64)
    off = (X < 1) | (X > SKY_SIZE) | (Y < 1) | (Y > SKY_SIZE)
    X[off] = -1
    Y[off] = -1
    cols["TIME"] = events.t
    cols["PRIOR"] = rng.exponential(0.05, n)
    cols["RESET"] = rng.uniform(0.0, 1.0, n)
    cols["SUBFRM"] = rng.integers(0, 1474560, n, dtype=np.int32)
    cols["NUMRISE"] = rng.integers(-300, 300, n, dtype=np.int32)
    cols["DENRISE"] = rng.integers(1, 300, n, dtype=np.int32)
    cols["DET_ID"] = dm.det_flat[events.pix].astype(np.uint8)
    cols["S_CAP"] = rng.integers(0, 16, n, dtype=np.uint8)
    cols["HWTRIG"] = np.ones(n, np.uint8)
    cols["RAWX"] = dm.rawx[events.pix].astype(np.uint8)
    cols["RAWY"] = dm.rawy[events.pix].astype(np.uint8)
    cols["GRADE"] = mdl.draw_grades(rng, n)
    cols["PI"] = events.pi.astype(np.int32)
    _pulse_height_columns(rng, cols, events.pi, n)
    cols["DET1X"] = det1x
    cols["DET1Y"] = det1y
    # DET2 (optics bench): DET1 plus the fixed bench offset and the mast motion
    cols["DET2X"] = np.clip(np.rint(ux + 120.0 + (rx - mean_xy[0])), 1, 600).astype(np.int16)
    cols["DET2Y"] = np.clip(np.rint(uy + 120.0 + (ry - mean_xy[1])), 1, 600).astype(np.int16)
    cols["X"] = X.astype(np.int16)
    cols["Y"] = Y.astype(np.int16)
    return cols


def _pulse_height_columns(rng, cols: dict, pi: np.ndarray, n: int) -> None:
    """PI_CLC, SURRPI, triggers and the pulse-height vectors (central pixel 4)."""
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


def _write_files(ctx: ObsContext, module: str, meta, cols, badpix, track: AspectTrack, rep
                 ) -> tuple[Path, Path, Path]:
    from nuskybgd.simulate.core import write_fits_deterministic

    evt = ctx.event_dir / f"nu{ctx.seqid}{module}01_cl.evt"
    gtif = ctx.event_dir / f"nu{ctx.seqid}{module}01_gti.fits"
    d1f = ctx.event_dir / f"nu{ctx.seqid}{module}_det1.fits"
    when = ctx.date_end
    write_fits_deterministic(evt, schema.event_file(meta, cols, ctx.gti, badpix.rows), when,
                             ctx.overwrite)
    rep.output(evt, f"wrote {evt} ({cols['TIME'].size} events)")
    write_fits_deterministic(gtif, schema.gti_file(meta, ctx.gti), when, ctx.overwrite)
    rep.output(gtif)
    write_fits_deterministic(d1f, schema.det1_file(meta, track.time, track.x, track.y), when,
                             ctx.overwrite)
    rep.output(d1f)
    return evt, gtif, d1f


def _bad_pixel_truth(badpix) -> list[dict]:
    out = []
    for d, (bx, by, b0, b1, fl) in enumerate(badpix.rows):
        for i in range(len(bx)):
            out.append({"det": d, "rawx": int(bx[i]), "rawy": int(by[i]),
                        "tstart": float(b0[i]), "tstop": float(b1[i]), "badflag": int(fl[i])})
    return out


def simulate_module(module: str, cal, rng: np.random.Generator, rep, ctx: ObsContext
                    ) -> ModuleResult:
    """Simulate and write one module's files; return them with the module's truth."""
    dm = _detector(cal)
    mean_xy = _mean_track_position(ctx, module)
    track = make_track(rng, ctx.tstart, ctx.tstop, ctx.settle, mean_xy)
    badpix = make_bad_pixels(rng, ctx.tstart, ctx.tstop)
    good = _good_det1(badpix, ctx.gti, dm)
    meta = _obs_meta(ctx, module, cal)

    mtruth: dict = {"components": {}, "expected_counts": {}, "simulated_counts": {}}
    comps = mdl.background_components(cal, module, dm.det_map, solar=ctx.solar, scale=ctx.scale)
    events = _draw_background(rng, ctx, comps, dm, good, mtruth)
    mtruth["source"] = add_source(rng, ctx, cal, track, dm.det_map, events, len(comps))
    _screen_and_sort(events, badpix, dm)
    _count_truth(mtruth, events, dm, [c.name for c in comps] + ["source"])

    cols = _event_columns(rng, ctx, events, track, dm, mean_xy)
    evt, gtif, d1f = _write_files(ctx, module, meta, cols, badpix, track, rep)
    n = int(events.pix.size)
    mtruth.update({
        "instrume": f"FPM{module}",
        "n_events": n,
        "aspect": track.params,
        "target_det1_mean": [TARGET_DET1[module][0], TARGET_DET1[module][1]],
        "bad_pixels": _bad_pixel_truth(badpix),
        "files": {"events": evt.name, "gti": gtif.name, "det1": d1f.name},
        "active_pixels": {str(d): int(np.count_nonzero(dm.det_map == d)) for d in range(4)},
    })
    mtruth["parameters"] = named_parameters(mtruth)
    return ModuleResult(module, evt, gtif, d1f, n, mtruth)
