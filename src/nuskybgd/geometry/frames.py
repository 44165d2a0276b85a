"""DET1 ↔ sky coordinate mapping for NuSTAR, as vectorised functions on arrays.

Conventions (read this first)
-----------------------------
* **FITS coordinates** (``DET1X``, ``DET1Y``, ``X``, ``Y``) are 1-based and continuous, with the
  *integer value at the pixel centre*: DET1 pixel 350 spans [349.5, 350.5).  Event files store
  integers (pixel centres); the ``_det1.fits`` track (``X_DET1``, ``Y_DET1``) stores continuous
  sky coordinates.
* **numpy indices** are 0-based: DET1 idx ``u = DET1X − 1``, ``v = DET1Y − 1``; sky idx
  ``i = X − 1``, ``j = Y − 1``.  Images are arrays indexed ``[y, x]`` (row = Y, column = X), so a
  360×360 DET1 map ``m`` holds DET1 pixel (DET1X, DET1Y) at ``m[DET1Y − 1, DET1X − 1]`` and a
  1000×1000 sky image holds sky pixel (X, Y) at ``img[Y − 1, X − 1]``.
* Every function here takes and returns **FITS coordinates** unless its name says ``index``.
  To turn a continuous FITS coordinate into an integer pixel number use ``np.rint`` (not floor);
  the array index is that number minus 1.
* **Sky pixel ≡ DET1 sub-pixel** (6.828076e-4 deg, 1:1): there is no scale factor.
* ``ref_x``, ``ref_y`` are the sky position (``X_DET1``, ``Y_DET1`` of the ``_det1.fits`` file
  at the event's time, interpolate the track yourself) of the **DET1 reference pixel (350, 350)**
  (nuskypos ``det1xref=350 det1yref=350``).  ``pa_pnt`` is the roll ``PA_PNT`` (deg).  All
  arguments broadcast, so a per-event track and a scalar roll work directly.

The matrix
----------
With θ the roll in radians, c = cos θ, s = sin θ::

    M(θ) = [[−c, −s],
            [−s,  c]]         (det M = −1, M = Mᵀ = M⁻¹)

A DET1 offset (Δx, Δy) appears on the sky at offset M·(Δx, Δy): rotate clockwise by the roll,
then mirror x (DET1 has the opposite handedness to the sky).  M is its own inverse, so the sky →
DET1 direction uses the same matrix.  (Checked against the real event file
``nu90410111001A06_cl_sunpos.evt``: a least-squares affine fit of event (X, Y) on (DET1X, DET1Y)
gives a matrix of determinant −0.998 with equal-signed off-diagonal terms, i.e. exactly this form.)

Two conventions
---------------
``convention="physical"`` — the nominal geometry of the pipeline chain:

    X = ref_x + M(PA_PNT)·(DET1 − (350, 350))

``convention="projbgd"`` — the *effective* mapping that the nuskybgd ``projbgd`` algorithm
implements (geometry-and-calibration.md §6.3).  projbgd bins the track at ``(⌊X_DET1⌋,
⌊Y_DET1⌋)`` and uses that integer as a 0-based sky **index**, rotates by ``PA_PNT + 1°`` and moves
its maps by the nudge n = R(θ)·(2.7, 0.8).  Net effect: DET1 idx (347.3, 350.8) sits at sky idx
(⌊X_DET1⌋, ⌊Y_DET1⌋).  In FITS coordinates::

    X = ⌊ref_x⌋ + 1 + M(PA_PNT + 1°)·(DET1 − (348.3, 351.8))

(with ``quantize_ref=False`` the floor is replaced by its mean, ``ref − 0.5``).  A simulator that
places events with this convention (``quantize_ref=True``) puts them exactly where projbgd's det
and aperture images expect them, up to projbgd's own nearest-neighbour/bilinear smoothing
(≲ 1 pixel).  The two conventions differ by about 1.8 sky pixels plus a 1° rotation about the
reference point (≈ 5 pixels at the far corner of DET1).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from nuskybgd.constants import DET1_REFPIX

__all__ = [
    "PROJBGD_ROLL_OFFSET_DEG",
    "PROJBGD_NUDGE",
    "PROJBGD_DET1_REF_INDEX",
    "PHYSICAL_DET1_REF",
    "det1_to_sky_matrix",
    "effective_roll",
    "det1_to_sky",
    "sky_to_det1",
    "det1_index_to_sky_index",
    "sky_index_to_det1_index",
    "nudge",
]

Convention = Literal["physical", "projbgd"]

#: Empirical roll correction of projbgd (deg), inherited from the IDL nuskybgd.
PROJBGD_ROLL_OFFSET_DEG: float = 1.0

#: projbgd's nudge in sky pixels before rotation by the roll: n = R(θ)·(2.7, 0.8).
PROJBGD_NUDGE: tuple[float, float] = (2.7, 0.8)

#: DET1 reference point of projbgd, 0-based DET1 idx; projbgd maps it to the histogram bin
#: (350, 350) + M·n = (350 − 2.7, 350 + 0.8).
PROJBGD_DET1_REF_INDEX: tuple[float, float] = (
    DET1_REFPIX[0] - PROJBGD_NUDGE[0],
    DET1_REFPIX[1] + PROJBGD_NUDGE[1],
)

#: Physical DET1 reference point (1-based DET1X, DET1Y) tracked by ``_det1.fits``.
PHYSICAL_DET1_REF: tuple[float, float] = (float(DET1_REFPIX[0]), float(DET1_REFPIX[1]))


def det1_to_sky_matrix(roll_deg: float | np.ndarray) -> np.ndarray:
    """Matrix M(θ) taking a DET1 offset to a sky offset (and back: M is its own inverse).

    Parameters
    ----------
    roll_deg : float or array
        Roll angle θ in degrees (already including any offset such as projbgd's +1°).

    Returns
    -------
    ndarray, shape ``roll.shape + (2, 2)``
        ``[[−cos θ, −sin θ], [−sin θ, cos θ]]``.
    """
    t = np.deg2rad(np.asarray(roll_deg, dtype=float))
    c, s = np.cos(t), np.sin(t)
    out = np.empty(t.shape + (2, 2))
    out[..., 0, 0] = -c
    out[..., 0, 1] = -s
    out[..., 1, 0] = -s
    out[..., 1, 1] = c
    return out


def effective_roll(pa_pnt: float | np.ndarray, convention: Convention = "physical") -> np.ndarray:
    """Roll (deg) used by a convention: ``PA_PNT`` (physical) or ``PA_PNT + 1°`` (projbgd)."""
    _check_convention(convention)
    pa = np.asarray(pa_pnt, dtype=float)
    return pa + PROJBGD_ROLL_OFFSET_DEG if convention == "projbgd" else pa


def nudge(pa_pnt: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """projbgd's sky-frame nudge n = R(θ)·(2.7, 0.8) in sky pixels, θ = PA_PNT + 1°."""
    t = np.deg2rad(effective_roll(pa_pnt, "projbgd"))
    c, s = np.cos(t), np.sin(t)
    nx0, ny0 = PROJBGD_NUDGE
    return nx0 * c - ny0 * s, nx0 * s + ny0 * c


def _check_convention(convention: str) -> None:
    if convention not in ("physical", "projbgd"):
        raise ValueError(f"unknown convention {convention!r}; use 'physical' or 'projbgd'")


def _anchor(
    ref_x: np.ndarray, ref_y: np.ndarray, convention: Convention, quantize_ref: bool
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Sky point (FITS) and DET1 point (FITS) that the convention maps onto each other."""
    _check_convention(convention)
    rx = np.asarray(ref_x, dtype=float)
    ry = np.asarray(ref_y, dtype=float)
    if convention == "physical":
        return rx, ry, PHYSICAL_DET1_REF[0], PHYSICAL_DET1_REF[1]
    if quantize_ref:
        sx, sy = np.floor(rx) + 1.0, np.floor(ry) + 1.0
    else:
        sx, sy = rx + 0.5, ry + 0.5
    # DET1 idx (347.3, 350.8) <-> sky idx floor(ref): add 1 to both for FITS coordinates
    return sx, sy, PROJBGD_DET1_REF_INDEX[0] + 1.0, PROJBGD_DET1_REF_INDEX[1] + 1.0


def _map(
    px: np.ndarray | float,
    py: np.ndarray | float,
    p0: tuple,
    q0: tuple,
    pa_pnt: np.ndarray | float,
    convention: Convention,
) -> tuple[np.ndarray, np.ndarray]:
    """``q0 + M·(p − p0)``: one formula for both directions, because M is its own inverse."""
    m = det1_to_sky_matrix(effective_roll(pa_pnt, convention))
    dx = np.asarray(px, dtype=float) - p0[0]
    dy = np.asarray(py, dtype=float) - p0[1]
    return q0[0] + m[..., 0, 0] * dx + m[..., 0, 1] * dy, q0[1] + m[..., 1, 0] * dx + m[..., 1, 1] * dy


def det1_to_sky(
    det1x: np.ndarray | float,
    det1y: np.ndarray | float,
    ref_x: np.ndarray | float,
    ref_y: np.ndarray | float,
    pa_pnt: np.ndarray | float,
    *,
    convention: Convention = "physical",
    quantize_ref: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Sky position (X, Y) of DET1 position(s) (DET1X, DET1Y).

    Parameters
    ----------
    det1x, det1y : array_like
        Continuous 1-based DET1 coordinates [DET1 sub-pixels]; integer = pixel centre.
    ref_x, ref_y : array_like
        Sky X, Y [sky pixels, 1-based] of DET1 pixel (350, 350) (``X_DET1``/``Y_DET1``).
    pa_pnt : array_like
        Roll ``PA_PNT`` [deg]; the projbgd convention adds 1° itself.
    convention : {"physical", "projbgd"}
        See the module docstring.
    quantize_ref : bool
        projbgd convention only: use ⌊ref⌋ like projbgd's aspect histogram (default) or its
        mean ``ref − 0.5``.

    Returns
    -------
    X, Y : ndarray
        Continuous 1-based sky coordinates [sky pixels]; ``np.rint`` gives the pixel number.
    """
    sx, sy, dx0, dy0 = _anchor(ref_x, ref_y, convention, quantize_ref)
    return _map(det1x, det1y, (dx0, dy0), (sx, sy), pa_pnt, convention)


def sky_to_det1(
    x: np.ndarray | float,
    y: np.ndarray | float,
    ref_x: np.ndarray | float,
    ref_y: np.ndarray | float,
    pa_pnt: np.ndarray | float,
    *,
    convention: Convention = "physical",
    quantize_ref: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """DET1 position (DET1X, DET1Y) seen at sky position(s) (X, Y); inverse of :func:`det1_to_sky`.

    Same parameters and units as :func:`det1_to_sky`, with the roles of the coordinates swapped.
    """
    sx, sy, dx0, dy0 = _anchor(ref_x, ref_y, convention, quantize_ref)
    return _map(x, y, (sx, sy), (dx0, dy0), pa_pnt, convention)


def _on_indices(mapping, a, b, ref_x, ref_y, pa_pnt, convention, quantize_ref):
    """Apply a 1-based mapping (det1_to_sky / sky_to_det1) to 0-based indices."""
    p, q = mapping(np.asarray(a, dtype=float) + 1.0, np.asarray(b, dtype=float) + 1.0,
                   ref_x, ref_y, pa_pnt, convention=convention, quantize_ref=quantize_ref)
    return p - 1.0, q - 1.0


def det1_index_to_sky_index(
    u: np.ndarray | float,
    v: np.ndarray | float,
    ref_x: np.ndarray | float,
    ref_y: np.ndarray | float,
    pa_pnt: np.ndarray | float,
    *,
    convention: Convention = "physical",
    quantize_ref: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`det1_to_sky` but with 0-based indices in and out (DET1 idx → sky idx)."""
    return _on_indices(det1_to_sky, u, v, ref_x, ref_y, pa_pnt, convention, quantize_ref)


def sky_index_to_det1_index(
    i: np.ndarray | float,
    j: np.ndarray | float,
    ref_x: np.ndarray | float,
    ref_y: np.ndarray | float,
    pa_pnt: np.ndarray | float,
    *,
    convention: Convention = "physical",
    quantize_ref: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`sky_to_det1` but with 0-based indices in and out (sky idx → DET1 idx)."""
    return _on_indices(sky_to_det1, i, j, ref_x, ref_y, pa_pnt, convention, quantize_ref)
