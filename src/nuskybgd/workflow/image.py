"""``image``: model background images per component and in total (background-model.md §8).

For each module m with reference spectrum r, counts of each component are predicted in the
band [emin, emax] keV (groups whose centre lies in the band) over r's exposure, then spread on
the sky grid of ``refimgf``:

* apbgd: ``Ap_m(p) · C_ap / W_r``;
* intbgd: per detector ``v_d = Σ_c C_c · I_{c,m,d} / Σ_d' I_{c,m,d'} A_{r,d'}``, image
  ``Σ_d D_{m,d}(p) · v_d`` (each line and the apec with its own detector factors);
* intn: the same with the intn factors;
* fcxb: a flux per exposed pixel ``φ = Σ_s C_s / Σ_s A_s`` over the module's spectra, image
  ``Σ_d D_{m,d}(p) · φ`` (the original mixes both modules here; we keep them apart).

Units: predicted counts per sky pixel in the band over the reference spectrum's exposure.
Files ``<prefix>bgd_<component>_<m>.fits`` and ``<prefix>bgd_total_<m>.fits``, written with the
reference image's header and provenance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError

__all__ = ["band_counts", "component_counts", "image_names", "model_images", "write_model_images"]


def _band_mask(spec, emin: float, emax: float) -> np.ndarray:
    lo, hi = spec.group_energies()
    centre = 0.5 * (lo + hi)
    return spec.good & (centre >= emin) & (centre <= emax)


def component_counts(problem, spectrum: int, source: str, emin: float, emax: float) -> dict[str, float]:
    """Predicted counts of each component of ``source`` in spectrum ``spectrum`` (1-based) in
    [emin, emax] keV, over its exposure.  Zero-norm components are skipped (never evaluated)."""
    from nuskybgd.spectral import model_flux

    problem.resolve()
    spec = problem.spectra[spectrum - 1]
    src = problem.source(source)
    resp = spec.responses[src.number]
    mask = _band_mask(spec, emin, emax)
    params = src.groups[spec.group - 1]
    out = {}
    for comp in src.components:
        pars = params[comp.first_param: comp.first_param + comp.n_params]
        values = {p.name: p.value for p in pars}
        if values.get("norm", 1.0) == 0.0:
            out[comp.name] = 0.0
            continue
        rate = resp.fold(model_flux(comp.spec.name, resp.energy_edges, **values))
        counts = spec.grouping_matrix @ (rate * spec.channel_scale)
        out[comp.name] = float(counts[mask].sum())
    return out


def band_counts(problem, spectrum: int, source: str, emin: float, emax: float) -> float:
    """Predicted counts of a whole source in a spectrum and band."""
    return float(sum(component_counts(problem, spectrum, source, emin, emax).values()))


def model_images(info, problem, emin: float, emax: float, geometry=None, table: dict | None = None
                 ) -> dict[str, dict[str, np.ndarray]]:
    """Model images per module and component (plus ``total``) on the ``refimgf`` grid.

    Parameters
    ----------
    info : BgdInfo
        The configuration of the fit.
    problem : FitProblem
        The fitted model (from :func:`nuskybgd.workflow.fit.load_fitted`), spectra in bgfiles order.
    emin, emax : float
        Band in keV.

    Returns
    -------
    dict
        Module → {``apbgd``, ``intbgd``, ``fcxb``, ``intn``, ``total``} → image (counts/pixel).
    """
    from nuskybgd.workflow.geometry_weights import load_geometry, spectrum_weights
    from nuskybgd.workflow.presets import INTBGD_COMPONENTS, module_presets

    if not 0 <= emin < emax:
        raise InputError(f"band {emin}–{emax} keV is empty; give emin < emax.")
    geometry = geometry or load_geometry(info)
    weights = spectrum_weights(info, geometry)
    if table is None:
        from nuskybgd.workflow.fit import calibrations_for

        table = calibrations_for(info)[info.used_modules[0]].presets()
    images: dict[str, dict[str, np.ndarray]] = {}
    for m in info.used_modules:
        r = info.reference(m)
        wr, pre = weights[r], module_presets(table, m)
        det = geometry.detectors[m]
        out = {"apbgd": geometry.aperture[m] * band_counts(problem, r + 1, "apbgd", emin, emax) / wr.aperture}
        cc = component_counts(problem, r + 1, "intbgd", emin, emax)
        c = np.array([cc[name] for name in INTBGD_COMPONENTS])
        denom = pre.intbgd_ifactors @ wr.det_area
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(denom[:, None] > 0, c[:, None] * pre.intbgd_ifactors / denom[:, None], 0.0).sum(axis=0)
        out["intbgd"] = np.tensordot(v, det, axes=1)
        cn = band_counts(problem, r + 1, "intn", emin, emax)
        out["intn"] = np.tensordot(cn * pre.intn_ifactors / (pre.intn_ifactors @ wr.det_area), det, axes=1)
        mine = [s for s, mm in enumerate(info.modules) if mm == m]
        phi = sum(band_counts(problem, s + 1, "fcxb", emin, emax) for s in mine) / \
            sum(weights[s].area for s in mine)
        out["fcxb"] = det.sum(axis=0) * phi
        out["total"] = out["apbgd"] + out["intbgd"] + out["intn"] + out["fcxb"]
        images[m] = out
    return images


def image_names(modules, prefix: str, outdir: str | Path) -> dict[tuple[str, str], Path]:
    """Output paths of ``image``: (module, component) → ``<prefix>bgd_<component>_<m>.fits``."""
    return {(m, c): Path(outdir) / f"{prefix}bgd_{c}_{m}.fits" for m in modules
            for c in ("apbgd", "intbgd", "fcxb", "intn", "total")}


def write_model_images(config: str | Path, fitted: str | Path, emin: float, emax: float,
                       prefix: str = "", outdir: str | Path | None = None, overwrite: bool = False,
                       reporter=None) -> list[Path]:
    """Compute :func:`model_images` and write them (``nuskybgd image``).  Returns the paths."""
    from astropy.io import fits

    from nuskybgd.events import Silent
    from nuskybgd.io.atomic import check_writable, write_fits_atomic
    from nuskybgd.io.staging import atomic_set
    from nuskybgd.provenance import stamp_header
    from nuskybgd.workflow.config import load_bgdinfo
    from nuskybgd.workflow.fit import calibrations_for, load_fitted
    from nuskybgd.workflow.geometry_weights import load_geometry
    from nuskybgd.workflow.project import _check_order

    rep = reporter if reporter is not None else Silent()
    info = load_bgdinfo(config)
    out = Path(outdir) if outdir is not None else Path(config).parent
    names = image_names(info.used_modules, prefix, out)
    for p in names.values():
        check_writable(p, overwrite)
    sess = load_fitted(fitted)
    problem = sess.build()
    _check_order(problem, info, sess)
    geometry = load_geometry(info)
    cals = calibrations_for(info)
    images = model_images(info, problem, emin, emax, geometry, cals[info.used_modules[0]].presets())
    with atomic_set(names.values(), overwrite=overwrite) as stage:  # all images or none
        for (m, c), path in names.items():
            rep.check_cancelled()
            hdr = geometry.header.copy()
            hdr["BUNIT"] = ("count", "model counts per pixel in the band")
            hdr["E_MIN"], hdr["E_MAX"] = (float(emin), "keV"), (float(emax), "keV")
            hdr["NSBCOMP"] = (c, "background component")
            cal = cals[m]
            stamp_header(hdr, calibration=cal.source, calibration_detail=cal.detail,
                         inputs=[config, fitted], task="image")
            write_fits_atomic(stage[path], fits.HDUList([fits.PrimaryHDU(images[m][c].astype(np.float32), hdr)]))
    for path in names.values():
        rep.output(path)
    return list(names.values())
