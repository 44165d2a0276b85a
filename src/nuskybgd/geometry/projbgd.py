"""projbgd: project DET1 maps (detector masks, aperture image) onto the sky, aspect-smoothed.

This reproduces the *effective* mapping of nuskybgd-py's ``projbgd`` exactly
(geometry-and-calibration.md §6): roll ``PA_PNT + 1°``, nearest-neighbour sky→DET1 lookup around
the aspect-histogram peak, the (2.7, 0.8) nudge as one bilinear periodic sub-pixel shift, then the
exposure-weighted sum over aspect-histogram bins of integer-shifted copies.  The per-bin loop of
the original is replaced by one convolution with the aspect histogram (FFT); the result equals the
loop to floating-point round-off (``benchmarks/projbgd.py`` measures it).

All arrays are indexed ``[y, x]``; DET1 maps are (360, 360) with idx = DET1 pixel − 1; sky
frames are (ny, nx) (1000×1000) with idx = sky pixel − 1.  See :mod:`nuskybgd.geometry.frames`
for the same mapping as a coordinate transform.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.signal

from nuskybgd.constants import (
    APERTURE_FLOOR,
    DET1_PIXEL_MM,
    DET1_REFPIX,
    DET1_SIZE,
    NOMINAL_APERTURE_PARAMS,
    SKY_SIZE,
)
from nuskybgd.geometry.aspect import AspectHistogram
from nuskybgd.geometry.frames import (
    PHYSICAL_DET1_REF,
    PROJBGD_DET1_REF_INDEX,
    PROJBGD_ROLL_OFFSET_DEG,
    det1_to_sky_matrix,
)
from nuskybgd.modules import normalise_module

__all__ = [
    "APERTURE_NORM",
    "APERTURE_SHIFT_MM",
    "APERTURE_FLOOR",
    "aperture_counts_image",
    "reference_lookup",
    "reference_maps",
    "bilinear_shift_periodic",
    "aspect_kernel_convolve",
    "ProjectedImages",
    "SkyMapping",
    "project_maps",
]

#: nomapbgdparams.dat: 10–15 keV aperture CXB counts per deg² per mm² per 100 ks, per module.
APERTURE_NORM: dict[str, float] = {m: p["norm"] for m, p in NOMINAL_APERTURE_PARAMS.items()}
#: nomapbgdparams.dat: translation (x, y) of the aperture image in mm, per module (rotation 0).
APERTURE_SHIFT_MM: dict[str, tuple[float, float]] = {
    m: (p["shift_x_mm"], p["shift_y_mm"]) for m, p in NOMINAL_APERTURE_PARAMS.items()}


@dataclass(frozen=True)
class SkyMapping:
    """How the DET1 maps are laid on the sky around each aspect-histogram bin.

    The aspect histogram bins the track of DET1 pixel (350, 350) at ``(⌊X_DET1⌋, ⌊Y_DET1⌋)`` and
    uses that integer as a 0-based sky index.  A mapping says which DET1 point sits at the sky index
    ``bin + bin_offset`` and with which roll:  ``sky idx = bin + bin_offset + M(roll)·(DET1 − det1_ref)``
    (DET1 in FITS coordinates, M from :func:`~nuskybgd.geometry.frames.det1_to_sky_matrix`).

    Attributes
    ----------
    kind : str
        ``"original"`` (nuskybgd-py's constants), ``"nominal"`` (the pipeline chain's nominal
        geometry) or ``"events"`` (measured from the event file's DET1 ↔ sky pairs).
    roll_deg : float
        Roll θ of M(θ) [deg].
    det1_ref : (float, float)
        DET1 point (FITS DET1X, DET1Y) at the bin's sky point [DET1 sub-pixels].
    bin_offset : (float, float)
        Sky-index offset of that point from the bin's integer index [sky pixels].
    detail : str
        One line for logs and headers (how the mapping was obtained, with its uncertainty).
    """

    kind: str
    roll_deg: float
    det1_ref: tuple[float, float]
    bin_offset: tuple[float, float] = (0.0, 0.0)
    detail: str = field(default="", compare=False)

    @classmethod
    def original(cls, pa_pnt: float) -> SkyMapping:
        """nuskybgd-py's empirical mapping: roll ``PA_PNT + 1°`` and the (2.7, 0.8) nudge.

        Equivalent to DET1 (348.3, 351.8) at the bin's integer index (geometry reference §6.3).
        """
        ref = (PROJBGD_DET1_REF_INDEX[0] + 1.0, PROJBGD_DET1_REF_INDEX[1] + 1.0)
        return cls("original", float(pa_pnt) + PROJBGD_ROLL_OFFSET_DEG, ref, (0.0, 0.0),
                   "nuskybgd-py's constants: roll PA_PNT + 1°, nudge (2.7, 0.8)")

    @classmethod
    def nominal(cls, pa_pnt: float) -> SkyMapping:
        """The pipeline chain's geometry: DET1 (350, 350) at the track's sky point, roll ``PA_PNT``.

        The track's point lies on average half a pixel below the ⌊X⌋ bin's index + 1, i.e. at
        sky index ``bin − 0.5``.
        """
        return cls("nominal", float(pa_pnt), PHYSICAL_DET1_REF, (-0.5, -0.5),
                   "nominal: DET1 (350, 350) on the DET1 track, roll PA_PNT")

    def content_shift(self) -> tuple[float, float]:
        """Sky-pixel shift (dy, dx) that moves maps looked up around DET1 idx 350 to this mapping."""
        m = det1_to_sky_matrix(self.roll_deg)
        ux = DET1_REFPIX[0] - (self.det1_ref[0] - 1.0)
        uy = DET1_REFPIX[1] - (self.det1_ref[1] - 1.0)
        tx = m[0, 0] * ux + m[0, 1] * uy + self.bin_offset[0]
        ty = m[1, 0] * ux + m[1, 1] * uy + self.bin_offset[1]
        return float(ty), float(tx)


def aperture_counts_image(
    omega_deg2: np.ndarray,
    module: str,
    *,
    offset: int = 0,
    norm: float | None = None,
    shift_mm: tuple[float, float] | None = None,
) -> np.ndarray:
    """The projbgd aperture image A (360×360): 10–15 keV stray-light counts per 100 ks per pixel.

    ``A = N · 0.12096² · Ω'(u, v) + 0.00495·0.7`` where Ω' is the solid-angle map translated by
    the module's nomapbgd shift (A: (−3.4, +2.0) mm, B: (−3.5, +1.6) mm) with bilinear
    interpolation (§6.1).

    Parameters
    ----------
    omega_deg2 : ndarray (n, n)
        Unobstructed-sky solid angle per DET1 sub-pixel [deg²], DET1-aligned, ``[y, x]``.
        Either the full 576×576 ray-trace grid (``offset=108``) or an already cropped 360×360
        map (``offset=0``).
    module : {"A", "B"}
    offset : int
        Grid index of DET1 idx 0.  With a cropped map (offset < 30) the shift needs values from
        outside the map; they are taken from the nearest edge pixel (approximate within ~30
        pixels of one edge).
    norm, shift_mm : optional
        Override the nomapbgd norm (counts deg⁻² mm⁻² per 100 ks in 10–15 keV) and the (x, y)
        shift in mm (defaults: :data:`APERTURE_NORM`, :data:`APERTURE_SHIFT_MM`).

    Returns
    -------
    ndarray float64 (360, 360)
        Counts per 100 ks per DET1 pixel in 10–15 keV (Boldt-87 CXB), plus the floor.
    """
    module = normalise_module(module)
    om = np.asarray(omega_deg2, dtype=float)
    shift = APERTURE_SHIFT_MM[module] if shift_mm is None else shift_mm
    scale = APERTURE_NORM[module] if norm is None else float(norm)
    sx = shift[0] / DET1_PIXEL_MM
    sy = shift[1] / DET1_PIXEL_MM
    mode = "grid-wrap" if offset >= 30 else "nearest"
    shifted = scipy.ndimage.shift(om, (sy, sx), order=1, mode=mode, prefilter=False)
    crop = shifted[offset : offset + DET1_SIZE, offset : offset + DET1_SIZE]
    if crop.shape != (DET1_SIZE, DET1_SIZE):
        raise ValueError(f"aperture map of shape {om.shape} with offset {offset} does not cover DET1")
    return scale * DET1_PIXEL_MM**2 * crop + APERTURE_FLOOR


def reference_lookup(
    peak: tuple[int, int], pa_pnt: float, shape: tuple[int, int] = (SKY_SIZE, SKY_SIZE), *,
    roll_deg: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest-neighbour DET1 idx (u, v) seen at every sky idx when pointing at the histogram peak.

    ``u = 350 + round(−c·Δi − s·Δj)``, ``v = 350 + round(−s·Δi + c·Δj)`` with Δ = sky idx − peak,
    θ = PA_PNT + 1° (or ``roll_deg`` when given) [deg], numpy round-half-to-even (§6.2).

    Returns
    -------
    u, v : int64 arrays of ``shape`` (clipped to 0..359 where invalid)
    valid : bool array, True where 0 ≤ u, v < 360
    """
    ny, nx = shape
    a_p, b_p = peak
    th = np.deg2rad(pa_pnt + PROJBGD_ROLL_OFFSET_DEG if roll_deg is None else roll_deg)
    c, s = np.cos(th), np.sin(th)
    di = (np.arange(nx, dtype=float) - a_p)[None, :]
    dj = (np.arange(ny, dtype=float) - b_p)[:, None]
    ref = DET1_REFPIX[0]
    u = ref + np.round(-c * di - s * dj).astype(np.int64)
    v = ref + np.round(-s * di + c * dj).astype(np.int64)
    valid = (u >= 0) & (u < DET1_SIZE) & (v >= 0) & (v < DET1_SIZE)
    np.clip(u, 0, DET1_SIZE - 1, out=u)
    np.clip(v, 0, DET1_SIZE - 1, out=v)
    return u, v, valid


def reference_maps(
    chipmap: np.ndarray,
    dets: Sequence[int],
    aperture: np.ndarray | None,
    peak: tuple[int, int],
    pa_pnt: float,
    shape: tuple[int, int] = (SKY_SIZE, SKY_SIZE),
    *,
    roll_deg: float | None = None,
) -> tuple[np.ndarray | None, dict[int, np.ndarray]]:
    """Sky maps at the peak pointing (not yet divided by the exposure).

    Parameters
    ----------
    chipmap : ndarray (360, 360)
        mkinstrmap output: value k = detector ``DET(k−1)``, 0 = inactive/bad.
    dets : sequence of int
        Chip-map values to use (1..4, the digits of ``det=``).
    aperture : ndarray (360, 360) or None
        Aperture image A; kept only where a selected detector is active.

    Returns
    -------
    ref_ap : ndarray or None
    ref_det : dict  value k → 0/1 float map
    """
    u, v, valid = reference_lookup(peak, pa_pnt, shape, roll_deg=roll_deg)
    cm = np.asarray(chipmap)
    looked = np.where(valid, cm[v, u], 0)
    ref_det = {k: (looked == k).astype(float) for k in dets}
    ref_ap = None
    if aperture is not None:
        union = np.isin(looked, list(dets))
        ref_ap = np.where(union, np.asarray(aperture, dtype=float)[v, u], 0.0)
    return ref_ap, ref_det


def bilinear_shift_periodic(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Translate ``img`` so that content moves by (+dy, +dx): ``out(p) = img(p − d)``.

    Bilinear interpolation with exactly periodic boundaries (like ``scipy.ndimage.shift`` with
    ``order=1, mode='grid-wrap'``).
    """
    fy, fx = np.floor(-dy), np.floor(-dx)
    wy, wx = -dy - fy, -dx - fx
    fy, fx = int(fy), int(fx)
    out = (1 - wy) * (1 - wx) * np.roll(img, (-fy, -fx), axis=(0, 1))
    if wx:
        out += (1 - wy) * wx * np.roll(img, (-fy, -fx - 1), axis=(0, 1))
    if wy:
        out += wy * (1 - wx) * np.roll(img, (-fy - 1, -fx), axis=(0, 1))
    if wx and wy:
        out += wy * wx * np.roll(img, (-fy - 1, -fx - 1), axis=(0, 1))
    return out


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def aspect_kernel_convolve(
    maps: Iterable[np.ndarray], dy: np.ndarray, dx: np.ndarray, weight: np.ndarray
) -> list[np.ndarray]:
    """``Σ_b weight_b · roll(map, (dy_b, dx_b))`` for each map (periodic), by FFT.

    Exact zeros are kept: pixels that no shifted copy of a map's support reaches are set to 0,
    so FFT round-off never creates spurious positive or negative pixels.

    Parameters
    ----------
    maps : iterable of 2-D arrays of one shape (ny, nx)
    dy, dx : int arrays
        Integer offsets of the bins (content moves by +d).
    weight : float array
        Bin weights.
    """
    maps = [np.asarray(m, dtype=float) for m in maps]
    if not maps:
        return []
    ny, nx = maps[0].shape
    dy = np.asarray(dy, dtype=np.int64)
    dx = np.asarray(dx, dtype=np.int64)
    w = np.asarray(weight, dtype=float)
    support = np.zeros((ny, nx), dtype=bool)
    for m in maps:
        support |= m != 0
    box = _bbox(support)
    if box is None:
        return [np.zeros((ny, nx)) for _ in maps]
    r0, r1, c0, c1 = box
    ky0, ky1, kx0, kx1 = int(dy.min()), int(dy.max()), int(dx.min()), int(dx.max())
    kny, knx = ky1 - ky0 + 1, kx1 - kx0 + 1
    kernel = np.zeros((kny, knx))
    np.add.at(kernel, (dy - ky0, dx - kx0), w)
    kmask = (kernel > 0).astype(float)
    out_r0, out_r1 = r0 + ky0, r1 + ky1
    out_c0, out_c1 = c0 + kx0, c1 + kx1
    results: list[np.ndarray] = []
    if out_r0 >= 0 and out_r1 < ny and out_c0 >= 0 and out_c1 < nx:
        # linear convolution on the bounding box; no wrap-around happens
        for m in maps:
            crop = m[r0 : r1 + 1, c0 : c1 + 1]
            conv = scipy.signal.fftconvolve(crop, kernel, mode="full")
            reach = scipy.signal.fftconvolve((crop != 0).astype(float), kmask, mode="full") > 0.5
            full = np.zeros((ny, nx))
            full[out_r0 : out_r1 + 1, out_c0 : out_c1 + 1] = np.where(reach, conv, 0.0)
            results.append(full)
        return results
    # general case: circular convolution on the whole frame
    kfull = np.zeros((ny, nx))
    np.add.at(kfull, (dy % ny, dx % nx), w)
    kf = scipy.fft.rfft2(kfull)
    kmf = scipy.fft.rfft2((kfull > 0).astype(float))
    for m in maps:
        conv = scipy.fft.irfft2(scipy.fft.rfft2(m) * kf, s=(ny, nx))
        reach = scipy.fft.irfft2(scipy.fft.rfft2((m != 0).astype(float)) * kmf, s=(ny, nx)) > 0.5
        results.append(np.where(reach, conv, 0.0))
    return results


@dataclass
class ProjectedImages:
    """projbgd results on the sky frame.

    ``bgdap``: exposure-weighted aperture image (10–15 keV counts per 100 ks per sky pixel), or
    None if no aperture image was given.  ``det``: chip-map value k (1..4) → fraction of the
    exposure during which each sky pixel fell on an active, good pixel of detector k−1.
    """

    bgdap: np.ndarray | None
    det: dict[int, np.ndarray]
    peak: tuple[int, int]
    roll_deg: float
    exposure: float
    mapping: SkyMapping | None = None


def project_maps(
    chipmap: np.ndarray,
    dets: Sequence[int],
    aperture: np.ndarray | None,
    hist: AspectHistogram,
    pa_pnt: float,
    shape: tuple[int, int] = (SKY_SIZE, SKY_SIZE),
    mapping: SkyMapping | None = None,
) -> ProjectedImages:
    """The projbgd algorithm: reference maps at the peak, one sub-pixel shift, aspect convolution.

    Parameters
    ----------
    chipmap : ndarray (360, 360)
        mkinstrmap map (value = detector + 1, 0 = off).
    dets : sequence of int
        Chip-map values 1..4 to project (``det=1234``).
    aperture : ndarray (360, 360) or None
        Aperture image from :func:`aperture_counts_image`.
    hist : AspectHistogram
    pa_pnt : float
        ``PA_PNT`` of the reference image [deg] (1° is added here).
    shape : (ny, nx)
        Sky frame (1000×1000 for an unbinned image).
    mapping : SkyMapping, optional
        DET1 ↔ sky placement; default :meth:`SkyMapping.original` (nuskybgd-py's, identical
        to its output).

    Returns
    -------
    ProjectedImages
    """
    cm = np.asarray(chipmap)
    if cm.shape != (DET1_SIZE, DET1_SIZE):
        raise ValueError(f"chip map has shape {cm.shape}, expected ({DET1_SIZE}, {DET1_SIZE})")
    if aperture is not None and np.shape(aperture) != (DET1_SIZE, DET1_SIZE):
        raise ValueError(f"aperture image has shape {np.shape(aperture)}, expected (360, 360)")
    dets = sorted(set(int(k) for k in dets))
    h = np.asarray(hist.image, dtype=float)
    total = float(h.sum())
    if not total > 0:
        raise ValueError("the aspect histogram is empty")
    peak = hist.peak()
    if mapping is None:
        mapping = SkyMapping.original(pa_pnt)
    ref_ap, ref_det = reference_maps(cm, dets, aperture, peak, pa_pnt, shape, roll_deg=mapping.roll_deg)
    ty, tx = mapping.content_shift()     # original: −nudge(PA_PNT), to 1e-14 pixel
    maps = [ref_det[k] / total for k in dets]
    if ref_ap is not None:
        maps.append(ref_ap / total)
    maps = [bilinear_shift_periodic(m, ty, tx) for m in maps]
    a, b, w = hist.nonzero_bins()
    conv = aspect_kernel_convolve(maps, b - peak[1], a - peak[0], w)
    det_out = {k: conv[n] for n, k in enumerate(dets)}
    bgdap = conv[-1] if ref_ap is not None else None
    return ProjectedImages(
        bgdap=bgdap,
        det=det_out,
        peak=peak,
        roll_deg=float(mapping.roll_deg),
        exposure=total,
        mapping=mapping,
    )
