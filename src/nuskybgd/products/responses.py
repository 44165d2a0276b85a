"""Responses for a region: a detector-mixed RMF and, for a source region, an ARF.

**RMF.**  A region's events come from up to four detectors, each with its own response.  The
region's RMF is the count-weighted mix ``R = Σ_d f_d R_d`` with ``f_d`` the fraction of the
region's events recorded on detector d (``DET_ID``); a region with no event uses the fractions
of its area in projbgd's detector images instead (when given), else detector 0.  The fractions
are written as ``DETFRAC0``…``DETFRAC3`` in the MATRIX header.

**Source ARF.**  ``A(E) = A_on-axis(E) × Σ_d f_d T_d(E) × EEF``: the on-axis effective area of
the calibration in use, the detector absorption ``T_d`` (CALDB DETABS; unity for the built-in
calibration) mixed with the same fractions, and the fraction of the PSF's photons that fall in
the region (``EEF``, header keyword ``EEFRAC``).  **Approximations** (said in the ARF header):
no vignetting (the on-axis area is used wherever the source is), and the PSF's encircled
energy is taken as energy-independent (the King profile of :mod:`nuskybgd.products.psf`).
Background regions get no ARF: the background model folds its own responses (the walkthrough
makes none for them); their RMF is the mix above.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuskybgd.io.ogip_types import Arf, Rmf

__all__ = ["detector_fractions", "mix_rmf", "source_arf", "write_region_responses"]

APPROXIMATIONS = ("no vignetting (on-axis effective area); PSF encircled energy independent of "
                  "energy; detector mix from region counts")


def detector_fractions(det_counts: np.ndarray, mask: np.ndarray | None = None,
                       det_images: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Fractions f_d (sum 1) of a region's events per detector.

    Parameters
    ----------
    det_counts : ndarray, shape (4,)
        Events per DET_ID in the region.
    mask, det_images : optional
        Region mask and projbgd detector images, used when the region holds no event.
    """
    c = np.asarray(det_counts, dtype=float)
    if c.sum() > 0:
        return c / c.sum()
    if mask is not None and det_images:
        w = np.array([float(det_images[d][mask].sum()) if d in det_images else 0.0 for d in range(4)])
        if w.sum() > 0:
            return w / w.sum()
    return np.array([1.0, 0.0, 0.0, 0.0])


def mix_rmf(rmfs: dict[int, Rmf], fractions: np.ndarray) -> Rmf:
    """The RMF ``Σ_d f_d R_d`` over detectors with ``f_d > 0`` (same energy and channel grids)."""
    used = [d for d in range(len(fractions)) if fractions[d] > 0]
    first = rmfs[used[0]]
    matrix = sum(float(fractions[d]) * rmfs[d].matrix.tocsr() for d in used)
    header = {k: v for k, v in first.header.items() if k not in ("DETNAM",)}
    header["DETNAM"] = "MIXED" if len(used) > 1 else first.header.get("DETNAM", f"DET{used[0]}")
    for d in range(len(fractions)):
        header[f"DETFRAC{d}"] = float(fractions[d])
    return Rmf(energ_lo=first.energ_lo, energ_hi=first.energ_hi, matrix=matrix.tocsr(),
               channels=first.channels, e_min=first.e_min, e_max=first.e_max, header=header)


def source_arf(onaxis: Arf, detabs: dict[int, Arf], fractions: np.ndarray, eef: float) -> Arf:
    """On-axis area × mixed detector absorption × encircled-energy fraction (cm²)."""
    absorption = np.zeros_like(onaxis.specresp, dtype=float)
    for d in range(len(fractions)):
        if fractions[d] > 0:
            absorption += float(fractions[d]) * np.asarray(detabs[d].specresp, dtype=float)
    header = {k: v for k, v in onaxis.header.items() if k in ("TELESCOP", "INSTRUME")}
    header["EEFRAC"] = float(eef)
    for d in range(len(fractions)):
        header[f"DETFRAC{d}"] = float(fractions[d])
    return Arf(energ_lo=onaxis.energ_lo, energ_hi=onaxis.energ_hi,
               specresp=np.asarray(onaxis.specresp, dtype=float) * absorption * eef, header=header)


def write_region_responses(
    extraction,
    name: str,
    calibration,
    stem: str | Path,
    *,
    source_xy: tuple[float, float] | None = None,
    det_images: dict[int, np.ndarray] | None = None,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write ``<stem>.rmf`` (and ``<stem>.arf`` for a source region) for one extracted region.

    Parameters
    ----------
    extraction : nuskybgd.products.spectra.Extraction
    name : str
        Region stem in ``extraction.spectra``.
    calibration : nuskybgd.calib.base.Calibration
        Calibration of the event file's module (``nuskybgd.calib.resolve``).
    stem : path
        Output path without extension, e.g. ``bgd/nu<seq>A01_srcA_sr``.
    source_xy : (x, y), optional
        Source position, 0-based sky pixel indices: give it for a source region (ARF written).
    det_images : dict, optional
        projbgd detector images (fallback weights for a region with no event).
    overwrite : bool
        Replace existing files.

    Returns
    -------
    dict
        ``{"rmf": path}`` and, for a source region, ``"arf"``.
    """
    from nuskybgd.errors import InputError
    from nuskybgd.io.atomic import check_writable
    from nuskybgd.io.ogip import write_arf, write_rmf
    from nuskybgd.modules import normalise_module
    from nuskybgd.products.psf import region_psf_fraction

    spec = extraction.spectra[name]
    named = getattr(calibration, "module", extraction.module)
    cal_module = normalise_module(named, "calibration module") if named else ""
    if cal_module and cal_module != extraction.module:
        raise InputError(f"event file {extraction.event_file} is FPM{extraction.module} but the "
                         f"calibration is for FPM{cal_module}; resolve the calibration of FPM"
                         f"{extraction.module}.", extraction.event_file)
    stem = Path(stem)
    rmf_path, arf_path = stem.with_suffix(".rmf"), stem.with_suffix(".arf")
    check_writable(rmf_path, overwrite)
    if source_xy is not None:
        check_writable(arf_path, overwrite)
    f = detector_fractions(spec.det_counts, spec.mask, det_images)
    used = [d for d in range(4) if f[d] > 0]
    rmf = mix_rmf({d: calibration.rmf(d) for d in used}, f)
    rmf.header["INSTRUME"] = f"FPM{extraction.module}"
    label = getattr(calibration, "source_for", lambda *i: "BUILTIN")
    detail = getattr(calibration, "detail_for", lambda *i: "")
    out = {"rmf": write_rmf(rmf, rmf_path, overwrite=overwrite, calibration=label("rmf"),
                            calibration_detail=detail("rmf"),
                            inputs=[extraction.event_file, spec.region_file], task="spectrum")}
    if source_xy is not None:
        eef = region_psf_fraction(spec.mask, source_xy)
        arf = source_arf(calibration.onaxis_arf(), {d: calibration.detabs(d) for d in used}, f, eef)
        arf.header["INSTRUME"] = f"FPM{extraction.module}"
        arf.header["NSBAPPRX"] = APPROXIMATIONS[:68]
        out["arf"] = write_arf(arf, arf_path, overwrite=overwrite,
                               calibration=label("onaxis_arf", "detabs"),
                               calibration_detail=detail("onaxis_arf", "detabs"),
                               inputs=[extraction.event_file, spec.region_file], task="spectrum")
        from astropy.io import fits

        with fits.open(out["arf"], mode="update") as hdul:
            hdul["SPECRESP"].header.add_comment("Approximations: " + APPROXIMATIONS + ".")
            hdul["SPECRESP"].add_checksum()
    return out
