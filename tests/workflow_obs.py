"""TEST-ONLY helper: a small synthetic ``event_cl/bgd`` folder for the workflow tests.

Until the regions/spectra steps land, the workflow tests need projbgd-like images, ds9 regions
and background spectra.  This helper makes them on a 64×64 sky grid (real FITS files with a WCS,
real ds9 region files): each detector covers one quadrant with exposure fraction 0.9, the
aperture image is a known gradient, and each background region is a 20×20-pixel box inside one
quadrant (so A_{s,d} = 360 on its detector).  Spectra are Poisson draws from the background
model written out **independently** of nuskybgd.workflow: the norms follow the reference
document's formulas (background-model.md §3.4) times a per-component truth scale, evaluated
with the spectral engine's components and folded with the built-in Gaussian RMF.
Solar components (apec, 3.5/4.5/10.2 keV lines) are zero in the truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

N = 64
PIX_DEG = 2.45810736 / 3600.0
QUAD = {0: (0, 0), 1: (0, 32), 2: (32, 0), 3: (32, 32)}        # detector → (y0, x0) of its quadrant
REGION_DETS = {"A": (0, 1, 3), "B": (0, 2, 3)}
TRUTH_SCALE = {"apbgd": 1.2, "intbgd": 0.8, "fcxb": 1.0, "intn": 1.1}
SOLAR = ("apec", "lorentz", "lorentz_3", "lorentz_4")


def sky_header() -> fits.Header:
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRPIX1"], h["CRPIX2"] = N / 2 + 0.5, N / 2 + 0.5
    h["CRVAL1"], h["CRVAL2"] = 150.0, 2.0
    h["CDELT1"], h["CDELT2"] = -PIX_DEG, PIX_DEG
    h["CUNIT1"], h["CUNIT2"] = "deg", "deg"
    return h


def detector_images(module: str) -> np.ndarray:
    det = np.zeros((4, N, N))
    for d, (y0, x0) in QUAD.items():
        det[d, y0 + 1:y0 + 31, x0 + 1:x0 + 31] = 0.9
    return det


def aperture_image(module: str) -> np.ndarray:
    y, x = np.mgrid[0:N, 0:N]
    slope = 4e-4 if module == "A" else 2e-4
    return (0.02 + slope * x + 1e-4 * y) * (detector_images(module).sum(axis=0) > 0)


def region_box(d: int) -> tuple[int, int]:
    """0-based (y, x) of the first pixel of detector d's 20×20 box."""
    y0, x0 = QUAD[d]
    return y0 + 6, x0 + 6


def region_weights(module: str, d: int) -> tuple[np.ndarray, float]:
    y, x = region_box(d)
    areas = np.zeros(4)
    areas[d] = 0.9 * 400
    return areas, float(aperture_image(module)[y:y + 20, x:x + 20].sum())


def write_region(path: Path, d: int) -> None:
    y, x = region_box(d)
    # ds9 image coordinates are 1-based pixel centres: the box centre of pixels x..x+19
    path.write_text(f"# Region file format: DS9\nimage\nbox({x + 10.5},{y + 10.5},20,20,0)\n")


def write_images(bgd: Path, module: str) -> None:
    hdr = sky_header()
    fits.PrimaryHDU(aperture_image(module), hdr).writeto(bgd / f"bgdap{module}.fits")
    for d, img in enumerate(detector_images(module)):
        fits.PrimaryHDU(img, hdr).writeto(bgd / f"det{d}{module}im.fits")


def truth_norms(table: dict, module: str, areas: np.ndarray, ref_areas: np.ndarray, w: float,
                scale: dict | None = None) -> dict[str, float]:
    """Expected norms by the reference formulas × the truth scale (component name → norm)."""
    scale = scale or TRUTH_SCALE
    models = table["models"]
    comps = models[1]["components"]
    out = {"apbgd": scale["apbgd"] * 0.002353 / 32 * w,
           "fcxb": scale["fcxb"] * 0.002353 * 1.5 * PIX_DEG ** 2 * areas.sum(),
           "intn": scale["intn"] * float(np.dot(models[3]["components"]["bknpower"][module]["ifactors"],
                                                areas)) / 599.75}
    for name, par in comps.items():
        val = scale["intbgd"] * float(np.dot(par[module]["ifactors"], areas)) / ref_areas.sum()
        out[f"intbgd.{name}"] = 0.0 if name in SOLAR else val
    return out


def expected_counts(table: dict, module: str, norms: dict[str, float], exposure: float) -> np.ndarray:
    from nuskybgd.calib import builtin
    from nuskybgd.spectral import Response, model_flux

    rmf = builtin.gaussian_rmf(module)
    edges = np.append(rmf.energ_lo, rmf.energ_hi[-1])
    plain = Response(rmf)
    comps = table["models"][1]["components"]
    rate = plain.with_arf(builtin.be_transmission(module)).fold(
        model_flux("cutoffpl", edges, PhoIndex=1.29, HighECut=41.13, norm=norms["apbgd"]))
    rate += plain.with_arf(builtin.onaxis_arf(module)).fold(
        model_flux("cutoffpl", edges, PhoIndex=1.29, HighECut=41.13, norm=norms["fcxb"]))
    lines = sum(model_flux("lorentz", edges, LineE=p[module]["linee"], Width=p[module]["width"],
                           norm=norms[f"intbgd.{name}"])
                for name, p in comps.items() if name != "apec")
    rate += plain.fold(lines)
    intn = model_flux("bknpower", edges, PhoIndx1=-0.05, BreakE=124.0, PhoIndx2=-0.85, norm=norms["intn"])
    rate += intn          # diagonal response: photons per bin = counts per channel
    return rate * exposure


def make_bgd_folder(root: Path, modules=("A",), exposure: float = 50e3, seed: int = 1,
                    scale: dict | None = None) -> Path:
    """Write the folder ``root/event_cl/bgd`` and return it (``scale``: truth scale per component)."""
    from nuskybgd.calib import builtin
    from nuskybgd.io.ogip import write_pha, write_rmf
    from nuskybgd.io.ogip_types import Pha

    bgd = Path(root) / "event_cl" / "bgd"
    bgd.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    table = builtin.presets()
    for m in modules:
        write_images(bgd, m)
        write_rmf(builtin.gaussian_rmf(m), bgd / f"nu90000001{m}01_bgd.rmf")
        ref_areas, _ = region_weights(m, REGION_DETS[m][0])
        for d in REGION_DETS[m]:
            write_region(bgd / f"bgd{d}{m}.reg", d)
            areas, w = region_weights(m, d)
            mu = expected_counts(table, m, truth_norms(table, m, areas, ref_areas, w, scale), exposure)
            pha = Pha(channels=np.arange(4096), counts=rng.poisson(mu).astype(float), exposure=exposure,
                      backscal=float(areas.sum()) / 1e6, respfile=f"nu90000001{m}01_bgd.rmf",
                      header={"TELESCOP": "NuSTAR", "INSTRUME": f"FPM{m}"})
            write_pha(pha, bgd / f"nu90000001{m}01_bgd{d}{m}_sr.pha")
    return bgd
