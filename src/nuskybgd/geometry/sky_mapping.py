"""The DET1 → sky mapping measured from an observation's own events.

Every cleaned event carries both its detector position (``DET1X``, ``DET1Y``) and its sky position
(``X``, ``Y``), and the DET1 track (``nu<seq><m>_det1.fits``) gives the sky position of DET1 pixel
(350, 350) at each time.  So the events *are* the mapping the pipeline applied::

    DET1 = d0 + M(θ)·(sky − track(t))          (M is its own inverse)

This module fits θ (the roll) and d0 (the DET1 point on the track) to those pairs.  projbgd can
then lay its DET1 maps on the sky exactly where the events fall, instead of using nuskybgd-py's
empirical roll (+1°) and nudge (geometry reference §6.3 and its open question 4), which on a
simulated observation put up to 3 % more or fewer aperture-CXB counts into a background region than
the events hold there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuskybgd.geometry.frames import det1_to_sky_matrix

__all__ = ["MappingFit", "fit_sky_mapping", "MIN_EVENTS"]

#: Fewest usable events for a fit (the uncertainty of d0 is ≈ 0.5 pixel / √n).
MIN_EVENTS: int = 100
#: |det A + 1| above this means the pairs are not a DET1 → sky mapping (different frames, binned X/Y).
MAX_SCALE_ERROR: float = 0.02
#: Residual RMS (pixels) above which the pairs are not one rigid mapping.
MAX_RMS: float = 3.0


@dataclass(frozen=True)
class MappingFit:
    """A fitted DET1 → sky mapping.

    Attributes
    ----------
    roll_deg, roll_err_deg : float
        θ of M(θ) in [0, 360) and its 1σ error [deg].
    det1_ref, det1_ref_err : (float, float)
        DET1 point (FITS DET1X, DET1Y) on the track's sky point and its 1σ error [DET1 sub-pixels].
    rms : float
        RMS residual per coordinate [pixels]; ≈ 0.4 from pixel quantisation alone.
    scale : float
        |det A| of the unconstrained affine fit (1 for a rigid mapping).
    n_events : int
        Events used (after clipping).
    """

    roll_deg: float
    roll_err_deg: float
    det1_ref: tuple[float, float]
    det1_ref_err: tuple[float, float]
    rms: float
    scale: float
    n_events: int

    def describe(self, pa_pnt: float | None = None) -> str:
        """One line for logs: roll (relative to PA_PNT when given) and DET1 point, with errors."""
        roll = (f"roll PA_PNT {(self.roll_deg - pa_pnt + 180.0) % 360.0 - 180.0:+.4f}° ± {self.roll_err_deg:.1g}°"
                if pa_pnt is not None
                else f"roll {self.roll_deg:.4f}° ± {self.roll_err_deg:.1g}°")
        err = max(self.det1_ref_err)
        return (f"measured from {self.n_events} events: {roll}, DET1 ({self.det1_ref[0]:.3f}, "
                f"{self.det1_ref[1]:.3f}) ± {err:.1g} on the track, residual {self.rms:.2f} px")


def fit_sky_mapping(det1x: np.ndarray, det1y: np.ndarray, x: np.ndarray, y: np.ndarray,
                    ref_x: np.ndarray, ref_y: np.ndarray, *, clip: float = 5.0) -> MappingFit:
    """Fit ``DET1 = d0 + M(θ)·(sky − ref)`` to event pairs.

    Parameters
    ----------
    det1x, det1y : array
        Event DET1 positions (FITS, 1-based) [DET1 sub-pixels].
    x, y : array
        Event sky positions (FITS, 1-based) [sky pixels].
    ref_x, ref_y : array
        Sky position of DET1 (350, 350) at each event's time (the DET1 track interpolated) [sky pixels].
    clip : float
        Events further than ``clip`` × RMS from the first fit are left out of the second.

    Returns
    -------
    MappingFit

    Raises
    ------
    ValueError
        Fewer than :data:`MIN_EVENTS` finite pairs, or pairs that no rigid mapping explains (a
        scale off 1 by more than 2 % or a residual above 3 pixels), with the reason.
    """
    d = np.column_stack([np.asarray(det1x, float), np.asarray(det1y, float)])
    s = np.column_stack([np.asarray(x, float) - np.asarray(ref_x, float),
                         np.asarray(y, float) - np.asarray(ref_y, float)])
    ok = np.isfinite(d).all(axis=1) & np.isfinite(s).all(axis=1)
    d, s = d[ok], s[ok]
    if len(d) < MIN_EVENTS:
        raise ValueError(f"only {len(d)} events with DET1 and sky positions; at least {MIN_EVENTS} are needed")
    keep = np.ones(len(d), dtype=bool)
    for _ in range(2):
        design = np.column_stack([s[keep], np.ones(int(keep.sum()))])
        coef, *_ = np.linalg.lstsq(design, d[keep], rcond=None)      # d = s·A^T + b
        resid = d - (s @ coef[:2] + coef[2])
        rms = float(np.sqrt(np.mean(resid[keep] ** 2)))
        keep = (np.abs(resid) <= clip * max(rms, 0.3)).all(axis=1)
    a = coef[:2].T
    scale = float(abs(np.linalg.det(a)))
    if abs(scale - 1.0) > MAX_SCALE_ERROR or rms > MAX_RMS:
        raise ValueError(f"the events' DET1 and sky positions are not related by one rotation about the "
                         f"DET1 track (scale {scale:.3f}, residual {rms:.2f} px): the track belongs to another "
                         "module or observation, or the X/Y are not the usual sky pixels")
    theta = np.degrees(np.arctan2(-(a[0, 1] + a[1, 0]) / 2.0, (a[1, 1] - a[0, 0]) / 2.0))
    m = det1_to_sky_matrix(theta)
    dk, sk = d[keep], s[keep]
    r = dk - sk @ m.T                                                 # = d0 + noise
    d0 = r.mean(axis=0)
    noise = r - d0
    sig = noise.std(axis=0, ddof=1)
    n = len(r)
    spread = float(np.sqrt(np.mean(np.sum((sk - sk.mean(axis=0)) ** 2, axis=1))))
    roll_err = float(np.degrees(np.mean(sig) / (spread * np.sqrt(n)))) if spread > 0 else float("inf")
    return MappingFit(roll_deg=float(theta) % 360.0, roll_err_deg=roll_err,
                      det1_ref=(float(d0[0]), float(d0[1])),
                      det1_ref_err=(float(sig[0] / np.sqrt(n)), float(sig[1] / np.sqrt(n))),
                      rms=float(np.sqrt(np.mean(noise ** 2))), scale=scale, n_events=n)
