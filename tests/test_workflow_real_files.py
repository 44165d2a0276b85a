"""Workflow inputs from real files: a real ds9 fk5 region's weights and real PHA INSTRUME keywords."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from conftest import shared_path
from nuskybgd.errors import InputError
from nuskybgd.workflow.config import _instrume
from nuskybgd.workflow.geometry_weights import Geometry, region_weights, weights_for_region

PIX_ARCSEC = 2.45810736


def _grid(ra: float, dec: float, n: int = 101):
    from astropy.wcs import WCS

    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRPIX1"] = h["CRPIX2"] = (n + 1) / 2          # the circle's centre on a pixel centre
    h["CRVAL1"], h["CRVAL2"] = ra, dec
    h["CDELT1"], h["CDELT2"] = -PIX_ARCSEC / 3600, PIX_ARCSEC / 3600
    h["RADESYS"], h["EQUINOX"] = "FK5", 2000.0     # the region's frame: no frame conversion
    return h, WCS(h)


def test_real_fk5_circle_weights_count_pixel_centres_inside():
    reg = shared_path("real", "nustar-gen-utils", "srcA01.reg")    # circle(84.918732,-69.742216,60")
    n = 101
    hdr, wcs = _grid(84.918732, -69.742216, n)
    det = np.zeros((4, n, n))
    det[2] = 0.75
    ap = np.full((n, n), 0.03)
    geom = Geometry((n, n), wcs, hdr, {"A": ap}, {"A": det})
    w = weights_for_region(geom, "A", reg, "src.pha")
    # independent count: integer pixel offsets (i, j) from the centre with i² + j² ≤ (60″ / pixel)²
    i, j = np.mgrid[-50:51, -50:51]
    inside = int(np.count_nonzero(i ** 2 + j ** 2 <= (60.0 / PIX_ARCSEC) ** 2))
    assert w.det_area.tolist() == [0.0, 0.0, pytest.approx(0.75 * inside), 0.0]
    assert w.aperture == pytest.approx(0.03 * inside)
    assert region_weights(geom.mask(reg), det, ap).area == pytest.approx(0.75 * inside)


def test_instrume_of_real_spectra():
    a = shared_path("real", "vela_x1", "nu90402339002A01_bk.pha")
    b = shared_path("real", "vela_x1", "nu90402339002B01_sr.pha")
    assert _instrume(a, "test") == "A" and _instrume(b, "test") == "B"
    arf = shared_path("real", "vela_x1", "nu90402339002A01_sr.arf")
    with pytest.raises(InputError, match="no SPECTRUM extension"):
        _instrume(arf, "test")
