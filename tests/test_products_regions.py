"""ds9 regions → masks, checked on the real region files and on exact geometry."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.wcs import WCS

from conftest import shared_path
from nuskybgd.constants import DET1_PIXEL_DEG
from nuskybgd.errors import InputError
from nuskybgd.products.regions import region_mask


def _nustar_wcs(ra: float, dec: float, n: int = 1000) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [n / 2 + 0.5, n / 2 + 0.5]
    w.wcs.cdelt = [-DET1_PIXEL_DEG, DET1_PIXEL_DEG]
    return w


def _centres_inside_circle(shape, cx, cy, r):
    """Count pixel centres (0-based) within r of (cx, cy): the exact answer, by brute force."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    return np.hypot(x - cx, y - cy) <= r


def test_real_fk5_source_region_on_a_nustar_sky_grid():
    path = shared_path("real", "nustar-gen-utils", "srcA01.reg")  # circle 60" at (84.9187, -69.7422)
    wcs = _nustar_wcs(84.918732, -69.742216)
    mask = region_mask(path, (1000, 1000), wcs)
    r_pix = 60.0 / (DET1_PIXEL_DEG * 3600.0)  # 24.41 sky pixels
    expected = _centres_inside_circle((1000, 1000), 499.5, 499.5, r_pix)
    # the TAN projection makes the circle very slightly non-circular: allow a pixel or two
    assert abs(int(mask.sum()) - int(expected.sum())) <= 2
    assert (mask & ~expected).sum() <= 2
    assert 1850 < mask.sum() < 1900  # π r² = 1872 pixels


def test_real_straycats_region_in_det1_image_coordinates():
    path = shared_path("real", "nustar-gen-utils", "30002041016A_StrayCatsI_704.reg")
    mask = region_mask(path, (360, 360))
    # image coordinates are 1-based: circle(87,-91,211.63) is centred at 0-based (86, -92)
    expected = _centres_inside_circle((360, 360), 86.0, -92.0, 211.63423)
    assert np.array_equal(mask, expected)
    assert 10_000 < mask.sum() < 40_000  # the stray-light patch covers the lower-left corner


def test_include_minus_exclude(tmp_path):
    reg = tmp_path / "annulus.reg"
    reg.write_text("image\ncircle(51,51,20.3)\n-circle(51,51,8.3)\nbox(151,51,9,9,0)\n")
    mask = region_mask(reg, (100, 200))
    # radii and box edges chosen so that no pixel centre lies on a boundary
    ring = _centres_inside_circle((100, 200), 50, 50, 20.3) & ~_centres_inside_circle((100, 200), 50, 50, 8.3)
    box = np.zeros((100, 200), bool)
    box[46:55, 146:155] = True  # box edges at 145.5 and 154.5 (0-based) on both axes
    assert np.array_equal(mask, ring | box)


def test_bad_region_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.reg"
    bad.write_text("fk5\ncircl(84.9,-69.7,60\")\n")
    with pytest.raises(InputError, match="bad.reg.*circl"):
        region_mask(bad, (10, 10), _nustar_wcs(84.9, -69.7, 10))
    empty = tmp_path / "empty.reg"
    empty.write_text("# Region file format: DS9 version 4.1\nfk5\n")
    with pytest.raises(InputError, match="no region shape"):
        region_mask(empty, (10, 10))
    sky = tmp_path / "sky.reg"
    sky.write_text('fk5\ncircle(84.9,-69.7,60")\n')
    with pytest.raises(InputError, match="no WCS"):
        region_mask(sky, (10, 10))
    with pytest.raises(InputError, match="does not exist"):
        region_mask(tmp_path / "missing.reg", (10, 10))
