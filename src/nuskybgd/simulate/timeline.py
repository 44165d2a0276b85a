"""Time-dependent parts of a simulated observation: GTIs, the aspect (mast) track, bad pixels.

All times are MET seconds (TT since 2010-01-01).  Sky positions are 1-based physical sky pixels
(pixel X is centred on the integer X), DET1 positions 1-based DET1 pixels.

Orbit model: a 5,800 s low-Earth orbit; each orbit has one visibility window of 55–62 % of the
orbit (Earth occultation in between), some windows are shortened by an SAA passage, and a few
short dropouts (a few seconds, like real screening gaps) are cut out.  The first GTI starts after
the attitude settles (about 150–300 s after TSTART).

Aspect model (``nu<seqid><m>_det1.fits``): the sky position of DET1 pixel (350, 350), sampled
every 0.2 s, moves by the sum of

* a thermal wobble of the mast at the orbital period (amplitude ~7–11 sky pixels per axis, i.e.
  ~20–27″, with a weaker second harmonic), which is the dominant term in real observations;
* a slow linear drift (a few pixels over the observation);
* sub-pixel jitter (nuskypos quantisation noise, 0.15 px rms).

Rows before the attitude settles hold junk values far off the sky grid (like real files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuskybgd.geometry.instrmap import FLAG_CALDB, FLAG_DISABLED, FLAG_HOT

#: Orbital period in s (NuSTAR: ~96.8 min).
ORBIT_S = 5800.0
#: Sampling step of the DET1 reference-point file in s.
TRACK_STEP_S = 0.2


def make_gtis(rng: np.random.Generator, tstart: float, ontime: float) -> np.ndarray:
    """Orbit-like good time intervals totalling exactly ``ontime`` seconds.

    Returns an array (n, 2) of [START, STOP) in MET s, sorted, non-overlapping.
    """
    if ontime <= 0:
        raise ValueError("exposure must be positive")
    out: list[tuple[float, float]] = []
    total = 0.0
    settle = float(rng.uniform(150.0, 300.0))
    k = 0
    phase0 = tstart + settle
    while total < ontime:
        w0 = phase0 + k * ORBIT_S + (rng.uniform(0, 60.0) if k else 0.0)
        length = ORBIT_S * rng.uniform(0.55, 0.62)
        if rng.random() < 0.35:  # SAA passage shortens the window at one end
            cut = rng.uniform(400.0, 900.0)
            if rng.random() < 0.5:
                w0 += cut
            length -= cut
        w1 = w0 + length
        # a few short screening dropouts inside the window
        edges = [w0]
        for _ in range(int(rng.integers(0, 4))):
            c = rng.uniform(w0 + 100.0, w1 - 100.0)
            d = rng.uniform(1.0, 8.0)
            edges += [c, c + d]
        edges.append(w1)
        edges = sorted(edges)
        for a, b in zip(edges[0::2], edges[1::2], strict=True):
            if b <= a:
                continue
            if total + (b - a) >= ontime:
                b = a + (ontime - total)
                out.append((a, b))
                total = ontime
                break
            out.append((a, b))
            total += b - a
        k += 1
    gti = np.array(out, dtype=float)
    return gti


def gti_total(gti: np.ndarray) -> float:
    """Σ(STOP − START) in s."""
    return float(np.sum(gti[:, 1] - gti[:, 0]))


def draw_times(rng: np.random.Generator, gti: np.ndarray, n: int) -> np.ndarray:
    """``n`` times uniform over the union of the GTIs (constant live fraction), sorted.

    Vectorised: uniform cumulative good time, mapped through the GTI table with searchsorted.
    """
    lengths = gti[:, 1] - gti[:, 0]
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    u = np.sort(rng.uniform(0.0, cum[-1], size=n))
    k = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(lengths) - 1)
    t = gti[k, 0] + (u - cum[k])
    return np.minimum(t, np.nextafter(gti[k, 1], -np.inf))


@dataclass
class AspectTrack:
    """The DET1 reference-point track: sky X/Y (1-based physical pixels) of DET1 (350, 350).

    ``valid`` marks rows after the attitude settled (the junk rows have ``valid`` False).
    """

    time: np.ndarray
    x: np.ndarray
    y: np.ndarray
    valid: np.ndarray
    settle_time: float
    params: dict

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sky position of the reference point at times ``t`` (linear interpolation of valid rows)."""
        tv, xv, yv = self.time[self.valid], self.x[self.valid], self.y[self.valid]
        return np.interp(t, tv, xv), np.interp(t, tv, yv)


def make_track(rng: np.random.Generator, tstart: float, tstop: float, settle_time: float,
               mean_xy: tuple[float, float]) -> AspectTrack:
    """Mast-motion track of DET1 (350, 350) on the sky, every 0.2 s from TSTART to TSTOP.

    Parameters
    ----------
    settle_time : float
        MET before which rows are junk (must precede the first GTI).
    mean_xy : (float, float)
        Time-averaged sky position (physical pixels) of the reference point.
    """
    n = int(np.floor((tstop - tstart) / TRACK_STEP_S)) + 1
    t = tstart + TRACK_STEP_S * np.arange(n)
    ph = 2.0 * np.pi * (t - tstart) / ORBIT_S
    amp = rng.uniform(7.0, 11.0, size=2)  # sky pixels (≈ 17–27 arcsec)
    amp2 = rng.uniform(1.0, 2.5, size=2)
    phi = rng.uniform(0, 2 * np.pi, size=4)
    drift = rng.uniform(-4.0, 4.0, size=2)  # pixels over the whole observation
    frac = (t - tstart) / max(tstop - tstart, 1.0) - 0.5
    jitter = rng.normal(0.0, 0.15, size=(2, n))
    x = (mean_xy[0] + amp[0] * np.sin(ph + phi[0]) + amp2[0] * np.sin(2 * ph + phi[2])
         + drift[0] * frac + jitter[0])
    y = (mean_xy[1] + amp[1] * np.sin(ph + phi[1]) + amp2[1] * np.sin(2 * ph + phi[3])
         + drift[1] * frac + jitter[1])
    valid = t >= settle_time
    nbad = int(np.count_nonzero(~valid))
    if nbad:
        # before the attitude settles nuskypos writes huge off-grid values
        x[~valid] = -8300.0 + rng.normal(0, 40.0, nbad)
        y[~valid] = -10072.0 + rng.normal(0, 40.0, nbad)
    params = {
        "wobble_period_s": ORBIT_S,
        "wobble_amplitude_px": [float(a) for a in amp],
        "wobble_2nd_harmonic_px": [float(a) for a in amp2],
        "drift_px": [float(d) for d in drift],
        "jitter_rms_px": 0.15,
        "mean_xy_px": [float(mean_xy[0]), float(mean_xy[1])],
        "settle_time": float(settle_time),
        "step_s": TRACK_STEP_S,
    }
    return AspectTrack(t, x, y, valid, settle_time, params)


@dataclass
class BadPixels:
    """Bad-pixel intervals of one module, per detector.

    ``rows[det]`` = (rawx, rawy, t0, t1, flag) arrays as written in the BADPIX extensions.
    """

    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]

    def keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flattened (key = det·1024 + rawy·32 + rawx, t0, t1) of every interval."""
        k, a, b = [], [], []
        for det, (rx, ry, t0, t1, _f) in enumerate(self.rows):
            k.append(det * 1024 + ry.astype(np.int64) * 32 + rx.astype(np.int64))
            a.append(t0)
            b.append(t1)
        return np.concatenate(k), np.concatenate(a), np.concatenate(b)

    def is_bad(self, key: np.ndarray, t: np.ndarray) -> np.ndarray:
        """True for events (pixel key, time) that fall in a bad interval."""
        bk, b0, b1 = self.keys()
        lut = np.zeros(4 * 1024, dtype=bool)
        lut[bk] = True
        cand = np.flatnonzero(lut[key])
        bad = np.zeros(key.shape, dtype=bool)
        if cand.size:
            ck, ct = key[cand], t[cand]
            hit = np.zeros(cand.size, dtype=bool)
            for k, a, b in zip(bk, b0, b1, strict=True):  # a few dozen intervals, vectorised over events
                hit |= (ck == k) & (ct >= a) & (ct < b)
            bad[cand] = hit
        return bad

    def good_fraction(self, gti: np.ndarray) -> np.ndarray:
        """Fraction of the GTI time each RAW pixel is good: array (4, 32, 32) [det, rawy, rawx]."""
        total = gti_total(gti)
        frac = np.ones(4 * 1024)
        bk, b0, b1 = self.keys()
        for k, a, b in zip(bk, b0, b1, strict=True):
            ov = np.clip(np.minimum(gti[:, 1], b) - np.maximum(gti[:, 0], a), 0, None).sum()
            frac[k] -= ov / total
        return np.clip(frac, 0.0, 1.0).reshape(4, 32, 32)


def make_bad_pixels(rng: np.random.Generator, tstart: float, tstop: float,
                    n_permanent: tuple[int, int] = (2, 4),
                    n_hot: tuple[int, int] = (4, 10)) -> BadPixels:
    """A few permanently bad pixels per detector and some hot pixels bad for 600-s intervals.

    Permanent pixels have BADFLAG 1 (CALDB) or 2 (disabled on board) over [TSTART, TSTOP];
    hot/flickering ones have BADFLAG 32 over 1–3 consecutive 600-s bins (the nuhotpix bin size).
    """
    rows = []
    nbins = max(1, int((tstop - tstart) // 600.0))
    for _det in range(4):
        npm = int(rng.integers(n_permanent[0], n_permanent[1] + 1))
        nh = int(rng.integers(n_hot[0], n_hot[1] + 1))
        pix = rng.choice(1024, size=npm + nh, replace=False)
        rx, ry, t0, t1, fl = [], [], [], [], []
        for i, p in enumerate(pix):
            if i < npm:
                rx.append(p % 32)
                ry.append(p // 32)
                t0.append(tstart)
                t1.append(tstop)
                fl.append(FLAG_CALDB if rng.random() < 0.5 else FLAG_DISABLED)
            else:
                b = int(rng.integers(0, nbins))
                w = int(rng.integers(1, 4))
                rx.append(p % 32)
                ry.append(p // 32)
                t0.append(tstart + 600.0 * b + 2.0)
                t1.append(min(tstop, tstart + 600.0 * (b + w) + 2.0))
                fl.append(FLAG_HOT)
        order = np.lexsort((np.array(t0), np.array(ry), np.array(rx)))
        rows.append(tuple(np.asarray(a)[order] for a in (rx, ry, t0, t1, fl)))
    return BadPixels(rows)
