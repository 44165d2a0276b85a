"""Expected counts of a simulated observation in any sky region and band, from its truth.

:func:`expected_counts` computes, without looking at the events, the mean number of events each
injected component puts into a boolean mask on the observation's 1000×1000 sky grid within an
energy band.  It uses the parameters ``truth.json`` records under the project's names
(:mod:`nuskybgd.simulate.truth`), the calibration the simulation used (responses, aperture
image, pixel map), and the observation's aspect (the DET1 reference-point track and the GTIs the
simulator wrote), reproducing how the simulator places events:

* a background event of DET1 pixel p at time t lands on sky pixel rint(det1_to_sky(p + u, ref(t)))
  with u uniform in the pixel; its probability of landing in the mask is the bilinear
  interpolation of the mask at the pixel centre's sky position (the overlap of a pixel-sized
  square with the mask's pixels), averaged over the aspect track within the GTIs;
* a source photon lands on DET1 pixel p with the probability given by the PSF integrated over
  the pixel (:mod:`nuskybgd.calib.psf`), then its event is placed like a background event;
* events in a pixel during one of its bad intervals are removed (good-time fraction per pixel).

The aspect average is vectorised: track samples are grouped by their sub-pixel shift (4 × 4
classes), each group's integer shifts are applied to the mask as one FFT correlation, and the
result is interpolated at every active DET1 pixel.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nuskybgd.constants import SKY_SIZE
from nuskybgd.errors import InputError
from nuskybgd.modules import normalise_module
from nuskybgd.simulate import model as mdl

#: Components reported by :func:`expected_counts`, besides ``total_background``.
COMPONENTS = ("apbgd", "intbgd", "fcxb", "intn", "source")


def _load_truth(truth: dict | str | Path, obs_dir: str | Path | None) -> tuple[dict, Path]:
    if isinstance(truth, (str, Path)):
        path = Path(truth)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the simulation truth {path} ({exc}); give the truth.json "
                             "written by 'nuskybgd simulate'.", path) from None
        return data, Path(obs_dir) if obs_dir is not None else path.parent
    if obs_dir is None:
        raise InputError("expected_counts needs obs_dir (the folder holding event_cl/) when the "
                         "truth is given as a dict; pass obs_dir or the truth.json path.")
    return truth, Path(obs_dir)


def _calibration_for(truth: dict, module: str, calibration):
    if calibration is not None:
        return calibration
    from nuskybgd.simulate.core import _resolve_calibration

    label = str(truth.get("calibration", {}).get(module, {}).get("source", "")).upper()
    kind = "caldb" if "CALDB" in label else "auxil" if "AUXIL" in label else "nominal"
    return _resolve_calibration(module, kind, truth["date_obs"])


# ---------------------------------------------------------------------------- aspect average

def _aspect_shifts(obs_dir: Path, mt: dict, pa: float, convention: str
                   ) -> tuple[tuple[float, float], np.ndarray, np.ndarray]:
    """Reference position and the sky shifts (pixels) of the track samples within the GTIs."""
    from nuskybgd.geometry.frames import det1_to_sky
    from nuskybgd.io.events import read_det1_refpoint, read_gti

    ev = obs_dir / "event_cl"
    track = read_det1_refpoint(ev / mt["files"]["det1"])
    gti = read_gti(ev / mt["files"]["gti"])
    k = np.searchsorted(gti.start, track.time, side="right") - 1
    ok = k >= 0
    ok[ok] = track.time[ok] < gti.stop[k[ok]]
    rx, ry = track.x_det1[ok], track.y_det1[ok]
    if rx.size == 0:
        raise InputError(f"the DET1 track {ev / mt['files']['det1']} has no sample within the GTIs.")
    sx, sy = det1_to_sky(350.0, 350.0, rx, ry, pa, convention=convention)
    ref = (float(rx[0]), float(ry[0]))
    return ref, np.asarray(sx - sx[0], float), np.asarray(sy - sy[0], float)


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``img[y, x]`` at 0-based positions (0 outside the grid)."""
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    out = np.zeros(x.shape)
    ny, nx = img.shape
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                      (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        ok = (xi >= 0) & (xi < nx) & (yi >= 0) & (yi < ny)
        out[ok] += w[ok] * img[yi[ok], xi[ok]]
    return out


def _bbox(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """(j0, j1, i0, i1) bounding the non-zero pixels of ``image``, None when all are zero."""
    rows = np.flatnonzero(np.any(image != 0, axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(np.any(image != 0, axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def aspect_average(image: np.ndarray, bx: np.ndarray, by: np.ndarray, sx: np.ndarray,
                   sy: np.ndarray, sub: int = 4) -> np.ndarray:
    """Mean over shifts b of the bilinear interpolation of ``image`` at (bx + sx_b, by + sy_b).

    Parameters
    ----------
    image : ndarray (ny, nx)
        Values on the sky grid ``[y, x]`` (0-based pixel-centre coordinates).
    bx, by : ndarray (n,)
        Positions (sky pixels, 0-based) at zero shift.
    sx, sy : ndarray (m,)
        Shifts (sky pixels), equally weighted.
    sub : int
        Sub-pixel classes per axis; within a class the mean fractional shift is used.

    Returns
    -------
    ndarray (n,)
    """
    from scipy.signal import fftconvolve

    out = np.zeros(np.shape(bx))
    box = _bbox(image)
    if box is None:
        return out
    j0, j1, i0, i1 = box
    crop = image[j0:j1, i0:i1]
    ix, iy = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = sx - ix, sy - iy
    cls = np.minimum((fx * sub).astype(int), sub - 1) * sub + np.minimum((fy * sub).astype(int), sub - 1)
    for c in np.unique(cls):
        sel = cls == c
        kx, ky = ix[sel] - ix[sel].min(), iy[sel] - iy[sel].min()
        shape = (int(ky.max()) + 1, int(kx.max()) + 1)
        kern = np.bincount(ky * shape[1] + kx, minlength=shape[0] * shape[1]).reshape(shape) / sx.size
        conv = fftconvolve(crop, kern[::-1, ::-1], mode="full")
        # conv[q + L] = Σ_n kern[n] crop[q + n] for q on an extended grid starting at −L
        ly, lx = kern.shape[0] - 1, kern.shape[1] - 1
        px = bx + ix[sel].min() + fx[sel].mean() - i0 + lx
        py = by + iy[sel].min() + fy[sel].mean() - j0 + ly
        out += _bilinear(conv, px, py)
    return out


# ---------------------------------------------------------------------------- spectra in band

def _band_rate(flux: np.ndarray, rmf, band: tuple[int, int]) -> float:
    return float(mdl.fold(flux, rmf)[band[0]:band[1] + 1].sum())


def _unit_rates(cal, pars: dict, comp: str, det: int, band: tuple[int, int], edges, arf, be
                ) -> float:
    """Counts s⁻¹ in the band of detector ``det`` per unit norm density (whole-detector norm)."""
    rmf = cal.rmf(det)
    if comp in ("apbgd", "fcxb"):
        shape = mdl._flux("cutoffpl", edges, PhoIndex=pars[f"{comp}.cutoffpl.PhoIndex"],
                          HighECut=pars[f"{comp}.cutoffpl.HighECut"], norm=1.0)
        return _band_rate(shape * (be if comp == "apbgd" else arf), rmf, band)
    if comp == "intn":
        shape = mdl._flux("bknpower", edges, norm=1.0,
                          **{k: pars[f"intn.bknpower.{k}"] for k in ("PhoIndx1", "BreakE", "PhoIndx2")})
        return _band_rate(shape, cal.identity_rmf(), band)
    raise ValueError(comp)


def _intbgd_rate(cal, pars: dict, det: int, band: tuple[int, int], edges) -> float:
    """Counts s⁻¹ in the band of all intbgd components of a whole detector (norms as given)."""
    rmf = cal.rmf(det)
    total = 0.0
    for key, norm in pars.items():
        if not (key.startswith("intbgd.") and key.endswith(".norm")) or norm == 0.0:
            continue
        comp = key[len("intbgd."):-len(".norm")]
        if f"intbgd.{comp}.LineE" in pars:
            flux = mdl._flux("lorentz", edges, norm=norm, LineE=pars[f"intbgd.{comp}.LineE"],
                             Width=pars[f"intbgd.{comp}.Width"])
        else:
            flux = mdl._flux("apec", edges, norm=norm,
                             **{k: pars[f"intbgd.{comp}.{k}"] for k in ("kT", "Abundanc", "Redshift")})
        total += _band_rate(flux, rmf, band)
    return total


# ---------------------------------------------------------------------------- public

def _sky_mask(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != (SKY_SIZE, SKY_SIZE):
        raise InputError(f"the region mask has shape {m.shape}; give a boolean mask on the "
                         f"observation's {SKY_SIZE}×{SKY_SIZE} sky grid.")
    return m.astype(float)


def _good_fraction(mt: dict, gti_path: Path, det_map: np.ndarray, pm) -> np.ndarray:
    """Fraction of the GTI time each DET1 pixel is not bad, (360, 360) [y, x]."""
    from nuskybgd.io.events import read_gti
    from nuskybgd.simulate.timeline import BadPixels

    g = read_gti(gti_path)
    gti = np.column_stack([g.start, g.stop])
    rows = []
    for d in range(4):
        bp = [b for b in mt["bad_pixels"] if b["det"] == d]
        rows.append(tuple(np.array([b[k] for b in bp], dtype=float if k.startswith("t") else int)
                          for k in ("rawx", "rawy", "tstart", "tstop", "badflag")))
    good_raw = BadPixels(rows).good_fraction(gti)
    good = np.zeros(det_map.shape)
    on = det_map >= 0
    good[on] = good_raw[det_map[on], np.asarray(pm.rawy)[on], np.asarray(pm.rawx)[on]]
    return good


def expected_counts(truth: dict | str | Path, module: str, mask: np.ndarray,
                    band_keV: tuple[float, float], *, obs_dir: str | Path | None = None,
                    calibration=None) -> dict[str, float]:
    """Expected events of each simulated component in a sky region and energy band.

    Parameters
    ----------
    truth : path or dict
        The simulation's ``truth.json`` (path), or its content with ``obs_dir``.
    module : {"A", "B"}
    mask : ndarray of bool (1000, 1000)
        Region on the observation's sky grid ``[y, x]`` (pixel [j, i] is sky X = i+1, Y = j+1).
    band_keV : (float, float)
        Energy band (keV); the PI channels wholly inside it (:func:`nuskybgd.energy.band_to_pi`).
    obs_dir : path, optional
        Folder holding ``event_cl/`` (default: the folder of ``truth.json``).
    calibration : Calibration, optional
        The calibration the simulation used (default: resolved as ``truth.json`` records).

    Returns
    -------
    dict
        Expected counts of ``apbgd``, ``intbgd`` (all lines, and the solar apec when injected),
        ``fcxb``, ``intn``, ``source`` and their background sum ``total_background``.
    """
    from nuskybgd.energy import band_to_pi
    from nuskybgd.geometry.frames import det1_to_sky

    data, obs = _load_truth(truth, obs_dir)
    m = normalise_module(module, "module")
    if m not in data.get("modules", {}):
        raise InputError(f"the simulation truth has no module {m}; simulate FPM{m} or ask for "
                         f"{' or '.join(data.get('modules', {}))}.")
    mt = data["modules"][m]
    img = _sky_mask(mask)
    band = band_to_pi(*band_keV)
    cal = _calibration_for(data, m, calibration)
    pa, conv = float(data["pointing"]["pa_pnt"]), data["geometry_convention"]
    live = float(data["exposure_s"])

    det_map = mdl.active_detector_map(cal)
    pm = cal.pixel_map()
    good = _good_fraction(mt, obs / "event_cl" / mt["files"]["gti"], det_map, pm)
    ref, sx, sy = _aspect_shifts(obs, mt, pa, conv)
    yy, xx = np.nonzero(det_map >= 0)
    bx, by = det1_to_sky(xx + 1.0, yy + 1.0, ref[0], ref[1], pa, convention=conv)
    bx, by = bx - 1.0, by - 1.0  # 0-based sky indices
    det = det_map[yy, xx]
    f_mask = aspect_average(img, bx, by, sx, sy) * good[yy, xx]

    out = _background_counts(cal, mt, m, det, yy, xx, f_mask, good, band, live)
    out["source"] = _source_counts(cal, mt, img, det, bx, by, sx, sy, good[yy, xx], band, live)
    return out


def _background_counts(cal, mt, module, det, yy, xx, f_mask, good, band, live) -> dict[str, float]:
    """apbgd, intbgd, fcxb, intn and their total in the region (see :func:`expected_counts`)."""
    from nuskybgd.geometry.projbgd import aperture_counts_image

    edges = mdl.energy_edges(cal)
    arf = np.asarray(cal.onaxis_arf().specresp, float)
    be = np.asarray(cal.be_transmission().specresp, float)
    a_img = aperture_counts_image(cal.aperture_image_full(), module, offset=108)[yy, xx]
    named = mt["parameters"]["detectors"]
    out = dict.fromkeys(COMPONENTS[:-1], 0.0)
    for d in range(4):
        on = det == d
        if not on.any():
            continue
        pars = named[str(d)]
        flat = float(f_mask[on].sum())                 # Σ good·F over the detector's pixels
        w_flat = float(good[yy[on], xx[on]].sum())     # Σ good: the whole-detector weight
        w_ap = float((a_img[on] * good[yy[on], xx[on]]).sum())
        if w_flat <= 0:
            continue
        ap_frac = float((a_img[on] * f_mask[on]).sum()) / w_ap if w_ap > 0 else 0.0
        for comp, frac in (("apbgd", ap_frac), ("fcxb", flat / w_flat), ("intn", flat / w_flat)):
            model = "bknpower" if comp == "intn" else "cutoffpl"
            norm = pars[f"{comp}.{model}.norm"]
            if norm:
                out[comp] += live * norm * frac * _unit_rates(cal, pars, comp, d, band, edges, arf, be)
        out["intbgd"] += live * (flat / w_flat) * _intbgd_rate(cal, pars, d, band, edges)
    out["total_background"] = float(sum(out[c] for c in COMPONENTS[:-1]))
    return out


def _source_counts(cal, mt, img, det, bx, by, sx, sy, good_p, band, live) -> float:
    """Source events in the region: PSF × mask, aspect-averaged, through each detector's response."""
    from nuskybgd.calib.psf import NUSTAR_PSF

    src = mt["source"]
    pars = mt["parameters"]["source"]
    if not src.get("injected") or not pars.get("source.powerlaw.norm"):
        return 0.0
    if src["kind"] != "point":
        raise InputError(f"expected counts of a '{src['kind']}' source are not modelled; "
                         "simulate with --source point or none.")
    x0, y0 = src["sky_xy"]
    j0, j1, i0, i1 = _bbox(img) or (0, 0, 0, 0)
    psf_img = np.zeros(img.shape)  # the PSF integrated over each pixel, where the mask is
    psf_img[j0:j1, i0:i1] = NUSTAR_PSF.pixel_fractions((j1 - j0, i1 - i0), float(x0) - i0,
                                                       float(y0) - j0) * img[j0:j1, i0:i1]
    frac = aspect_average(psf_img, bx, by, sx, sy) * good_p
    edges = mdl.energy_edges(cal)
    arf = np.asarray(cal.onaxis_arf().specresp, float)
    ph = mdl._flux("powerlaw", edges, PhoIndex=pars["source.powerlaw.PhoIndex"],
                   norm=pars["source.powerlaw.norm"]) * arf
    total = 0.0
    for d in range(4):
        on = det == d
        if not on.any():
            continue
        dab = np.asarray(cal.detabs(d).specresp, float) if hasattr(cal, "detabs") else 1.0
        total += live * float(frac[on].sum()) * _band_rate(ph * dab, cal.rmf(d), band)
    return total
