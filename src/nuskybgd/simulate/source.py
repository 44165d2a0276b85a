"""The astrophysical source of a simulated observation: photons on the sky, then DET1 events.

A point source (the PSF of :mod:`nuskybgd.calib.psf`) or a cluster (β-model convolved with the
PSF) with a power-law spectrum seen through the on-axis ARF, the detector absorption and the RMF
of the detector each photon lands on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nuskybgd.calib.psf import NUSTAR_PSF
from nuskybgd.constants import DET1_PIXEL_ARCSEC, DET1_SIZE
from nuskybgd.simulate import model as mdl
from nuskybgd.simulate.timeline import AspectTrack, draw_times

if TYPE_CHECKING:
    from nuskybgd.simulate.module import ObsContext


def add_source(rng, ctx: ObsContext, cal, track: AspectTrack, det_map: np.ndarray,
               events, comp_index: int) -> dict:
    """Draw the source's events into ``events``; return the source's truth entry."""
    src_truth: dict = {"kind": ctx.source,
                       "injected": ctx.source != "none" and "source" in ctx.components}
    if src_truth["injected"]:
        s_pix, s_pi, s_t, s_info = draw_source(rng, cal, ctx, track, det_map)
        events.append(s_pix, s_pi, s_t, comp_index)
        src_truth.update(s_info)
    src_truth.update({"ra": ctx.ra0, "dec": ctx.dec0, "sky_xy": [ctx.src_xy[0], ctx.src_xy[1]],
                      "model": "powerlaw", "parameters": dict(ctx.src_params)})
    if ctx.source in ("point", "cluster"):
        src_truth["psf"] = {"profile": "King (1+(r/rc)^2)^-1.5",
                            "hpd_arcsec": NUSTAR_PSF.hpd_arcsec,
                            "rc_arcsec": float(NUSTAR_PSF.rc_arcsec),
                            "rmax_arcsec": NUSTAR_PSF.rmax_arcsec}
    if ctx.source == "cluster":
        src_truth["beta_model"] = {"beta": mdl.CLUSTER_BETA, "rc_arcsec": mdl.CLUSTER_RC_ARCSEC,
                                   "rmax_arcsec": mdl.CLUSTER_RMAX_ARCSEC}
    return src_truth


def draw_source(rng, cal, ctx: ObsContext, track: AspectTrack, det_map: np.ndarray):
    """Source events: photons through the on-axis ARF, PSF/β-model on the sky, then DET1.

    Returns
    -------
    pix, pi, t : ndarray
        Flat DET1 pixel, PI channel and time of the detected events.
    info : dict
        Truth entries (expected focal-plane photons, detection efficiency per detector).
    """
    from nuskybgd.geometry.frames import sky_to_det1

    edges = mdl.energy_edges(cal)
    arf = np.asarray(cal.onaxis_arf().specresp, float)
    ph = mdl._flux("powerlaw", edges, PhoIndex=float(ctx.src_params["PhoIndex"]),
                   norm=float(ctx.src_params["norm"])) * arf
    rate = float(ph.sum())  # photons s⁻¹ reaching the focal plane
    n = int(rng.poisson(ctx.live * rate))
    t = draw_times(rng, ctx.gti, n)
    dx, dy = mdl.draw_source_offsets(rng, n, ctx.source)
    # +RA is −X on the sky grid; the profiles are symmetric so the sign does not matter
    sx = ctx.src_xy[0] + dx / DET1_PIXEL_ARCSEC
    sy = ctx.src_xy[1] + dy / DET1_PIXEL_ARCSEC
    rx, ry = track.at(t)
    u, v = sky_to_det1(sx, sy, rx, ry, ctx.pa_pnt, convention=ctx.convention)
    ui = np.rint(u).astype(np.int64)
    vi = np.rint(v).astype(np.int64)
    inside = (ui >= 1) & (ui <= DET1_SIZE) & (vi >= 1) & (vi <= DET1_SIZE)
    pix = np.full(n, -1, np.int64)
    pix[inside] = (vi[inside] - 1) * DET1_SIZE + (ui[inside] - 1)
    det = np.full(n, -1, np.int64)
    det[inside] = det_map.ravel()[pix[inside]]
    info = {"expected_photons_focal_plane": ctx.live * rate, "photons_drawn": n,
            "photons_on_active_detector": int(np.count_nonzero(det >= 0))}
    out_pix, out_pi, out_t, exp_det = [], [], [], {}
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
