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
    short = tmp_path / "short.reg"
    short.write_text("fk5\ncircle(84.9,-69.7)\n")             # no radius
    with pytest.raises(InputError, match=r"short.reg .*\(a circle shape lacks its radius\)") as err:
        region_mask(short, (10, 10), _nustar_wcs(84.9, -69.7, 10))
    assert "__init__" not in str(err.value) and "SkyRegion" not in str(err.value)
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


# ---------------------------------------------------------------------------- shapes, writing, order

SHAPES_IMAGE = ("image\n"
                "circle(120.2,130.4,20.3)\n"
                "ellipse(300.1,140.6,30.2,12.3,25)\n"
                "box(200.3,300.2,40.4,22.2,30)\n"
                "polygon(50.2,250.3,90.1,260.7,70.4,320.2)\n"
                "annulus(320.3,320.1,10.2,25.4)\n"
                "-circle(300.1,140.6,6.3)\n")


def _brute(shape):
    """The same shapes evaluated by hand on pixel centres (0-based = ds9 image coordinate − 1)."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    x1, y1 = x + 1.0, y + 1.0  # ds9 image coordinates of the pixel centres

    def rot(cx, cy, ang):
        a = np.radians(ang)
        dx, dy = x1 - cx, y1 - cy
        return dx * np.cos(a) + dy * np.sin(a), -dx * np.sin(a) + dy * np.cos(a)

    circle = np.hypot(x1 - 120.2, y1 - 130.4) <= 20.3
    u, v = rot(300.1, 140.6, 25)
    ellipse = (u / 30.2) ** 2 + (v / 12.3) ** 2 <= 1
    u, v = rot(200.3, 300.2, 30)
    box = (np.abs(u) <= 20.2) & (np.abs(v) <= 11.1)
    tri = np.zeros(shape, dtype=bool)  # even-odd ray casting over the three edges
    vx, vy = [50.2, 90.1, 70.4], [250.3, 260.7, 320.2]
    for k in range(3):
        ax, ay, bx, by = vx[k], vy[k], vx[k - 1], vy[k - 1]
        crosses = (ay > y1) != (by > y1)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = ax + (y1 - ay) * (bx - ax) / (by - ay)
        tri ^= crosses & (x1 < xc)
    r = np.hypot(x1 - 320.3, y1 - 320.1)
    ring = (r >= 10.2) & (r <= 25.4)
    hole = np.hypot(x1 - 300.1, y1 - 140.6) <= 6.3
    return (circle | ellipse | box | tri | ring) & ~hole


def test_every_supported_shape_in_image_coordinates(tmp_path):
    reg = tmp_path / "all.reg"
    reg.write_text(SHAPES_IMAGE)
    mask = region_mask(reg, (400, 400))
    expected = _brute((400, 400))
    # polygon and box edges may pass within floating-point distance of a pixel centre
    assert (mask != expected).sum() <= 3
    assert mask.sum() > 5000


def test_write_and_read_back_in_fk5_and_image(tmp_path):
    from nuskybgd.products.regions import read_regions, write_regions

    src = tmp_path / "all.reg"
    src.write_text(SHAPES_IMAGE)
    shapes = read_regions(src)
    wcs = _nustar_wcs(135.5, -40.5, 400)
    wcs.wcs.radesys = "FK5"
    img = write_regions(shapes, tmp_path / "image.reg")
    assert np.array_equal(region_mask(img, (400, 400)), region_mask(src, (400, 400)))
    sky = [s.to_sky(wcs) for s in shapes]
    for s, orig in zip(sky, shapes, strict=True):
        s.meta = orig.meta
    fk5 = write_regions(sky, tmp_path / "fk5.reg", header="made by a test")
    text = fk5.read_text()
    assert "\nfk5\n" in text and "# made by a test" in text and "-circle(" in text
    back = region_mask(fk5, (400, 400), wcs)
    assert (back != region_mask(src, (400, 400))).sum() <= 3
    from nuskybgd.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_regions(sky, fk5)


def test_include_after_exclude_is_order_independent_and_warned(tmp_path):
    ordered = tmp_path / "ordered.reg"
    ordered.write_text("image\ncircle(51,51,20.3)\n-circle(51,51,8.3)\n")
    late = tmp_path / "late.reg"
    late.write_text("image\n-circle(51,51,8.3)\ncircle(51,51,20.3)\n")
    with pytest.warns(UserWarning, match="late.reg lists an include shape after an exclude"):
        m_late = region_mask(late, (100, 100))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m_ordered = region_mask(ordered, (100, 100))
    assert np.array_equal(m_late, m_ordered)  # the exclude still applies to the later include
    assert not m_late[50, 50] and m_late[50, 65]
    messages = []
    region_mask(late, (100, 100), warn=messages.append)
    assert len(messages) == 1


def test_unsupported_shapes_and_empty_masks_are_errors(tmp_path):
    point = tmp_path / "point.reg"
    point.write_text("image\npoint(10,10)\n")
    with pytest.raises(InputError, match="point.reg holds a point shape.*circle, ellipse, box"):
        region_mask(point, (20, 20))
    line = tmp_path / "line.reg"
    line.write_text("image\nline(1,1,5,5)\n")
    with pytest.raises(InputError, match="line.reg holds a line shape"):
        region_mask(line, (20, 20))
    far = tmp_path / "far.reg"
    far.write_text("image\ncircle(500,500,3)\n")
    assert not region_mask(far, (20, 20)).any()
    with pytest.raises(InputError, match="far.reg selects no pixel of image sky.fits"):
        region_mask(far, (20, 20), require_pixels=True, image_name="sky.fits")


def test_mask_written_as_shapes_reads_back_exactly(tmp_path):
    from nuskybgd.products.mask_shapes import mask_rectangles, mask_to_regions
    from nuskybgd.products.regions import write_regions

    rng = np.random.default_rng(2)
    y, x = np.mgrid[0:300, 0:300]
    mask = (np.hypot(x - 150, y - 140) < 120) & ~(np.hypot(x - 200, y - 120) < 30)
    mask &= ~(rng.random(mask.shape) < 0.01)  # scattered holes (bad pixels)
    rect = mask_rectangles(mask)
    cover = np.zeros(mask.shape, int)
    for x0, x1, y0, y1 in rect:
        cover[y0:y1, x0:x1] += 1
    assert np.array_equal(cover, mask.astype(int))  # disjoint and exact
    # far from the tangent point, where north is rotated on the image
    wcs = _nustar_wcs(135.5, -70.0, 300)
    wcs.wcs.crpix = [-400.0, 650.0]
    for form in ("polygons", "boxes"):
        shapes = mask_to_regions(mask, wcs, form=form)
        kind = "PolygonSkyRegion" if form == "polygons" else "RectangleSkyRegion"
        assert {type(r).__name__ for r in shapes} == {kind}
        path = write_regions(shapes, tmp_path / f"bgd0A_{form}.reg")
        assert np.array_equal(region_mask(path, mask.shape, wcs), mask)
    img = write_regions(mask_to_regions(mask), tmp_path / "img.reg")
    assert np.array_equal(region_mask(img, mask.shape), mask)


def test_mask_boundaries_and_the_island_in_a_hole():
    from nuskybgd.products.mask_shapes import mask_boundaries, mask_to_regions

    ring = np.zeros((20, 20), bool)
    ring[2:12, 3:13] = True
    ring[5:8, 6:9] = False  # a 3×3 hole
    loops = mask_boundaries(ring)
    areas = sorted(0.5 * float(np.dot(v[:, 0], np.roll(v[:, 1], -1)) - np.dot(np.roll(v[:, 0], -1), v[:, 1]))
                   for v in loops)
    assert areas == [-9.0, 100.0]  # the hole runs clockwise, the outer edge counter-clockwise
    assert all(len(v) == 4 for v in loops)  # collinear corners dropped
    island = ring.copy()
    island[6, 7] = True  # an island inside the hole: not expressible as includes minus excludes
    shapes = mask_to_regions(island)
    assert {type(r).__name__ for r in shapes} == {"RectanglePixelRegion"}
    from nuskybgd.products.regions import shapes_mask

    assert np.array_equal(shapes_mask(shapes, island.shape), island)


def test_write_circle_region(tmp_path):
    from nuskybgd.products.regions import write_circle_region

    path = write_circle_region(tmp_path / "srcA.reg", 84.918732, -69.742216, 60.0)
    mask = region_mask(path, (1000, 1000), _nustar_wcs(84.918732, -69.742216))
    real = region_mask(shared_path("real", "nustar-gen-utils", "srcA01.reg"), (1000, 1000),
                       _nustar_wcs(84.918732, -69.742216))
    assert np.array_equal(mask, real)  # the same circle as nustar-gen-utils' srcA01.reg
    with pytest.raises(InputError, match="radius -1"):
        write_circle_region(tmp_path / "bad.reg", 1.0, 2.0, -1)
