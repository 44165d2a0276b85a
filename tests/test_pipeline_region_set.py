"""The editable region set of pipeline.editing on a simulated observation, with the real Runner:
a saved exclusion (or hand-drawn background area) is read by the regions step, whose re-run cuts
every per-detector region again without the excluded area (or only inside the drawn one); a ds9
export imports back to the same shapes; a malformed file is one sentence naming it."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from regions import Regions

from conftest import copy_observation
from nuskybgd.errors import InputError
from nuskybgd.events import Reporter
from nuskybgd.pipeline import Runner, Session
from nuskybgd.pipeline.editing import (
    PIXEL_ARCSEC,
    RegionSet,
    SourceCircle,
    UserShape,
    drawn_file_path,
    exclusion_file_path,
    export_regions,
    import_regions,
    load_region_set,
    save_region_set,
    sky_image_path,
)
from nuskybgd.products.regions import region_mask

#: import → export → import keeps centres and sizes to this many sky pixels (fk5 written with 10
#: decimals of a degree, 4e-8 pixel; the bound leaves room for the WCS round trip) and angles
#: to this many degrees
PIXEL_TOLERANCE = 1e-4
ANGLE_TOLERANCE = 1e-3


def _quiet():
    return Reporter(lambda e: None)


@pytest.fixture(scope="module")
def projected(small_observation, tmp_path_factory):
    """The small observation run through projbgd (FPMA and FPMB) once for this module."""
    ev = copy_observation(small_observation, tmp_path_factory.mktemp("region-set"))
    with Session.open(ev) as session:
        Runner(session).run_all(_quiet(), until="projbgd")
    return ev


@pytest.fixture
def runner(projected, tmp_path):
    import shutil

    ev = tmp_path / "event_cl"
    shutil.copytree(projected, ev)
    session = Session.open(ev)
    yield Runner(session)
    session.close()


def _bgd_masks(runner, module="A"):
    """The pixel masks of the regions step's bgd*.reg files on the 3–20 keV sky grid."""
    image = sky_image_path(runner, module)
    with fits.open(image) as hdul:
        shape, wcs = hdul[0].data.shape, WCS(hdul[0].header).celestial
    return {p.name: region_mask(p, shape, wcs, warn=lambda s: None)
            for p in runner.outputs(f"regions.{module}") if p.is_file()}


def _inside_circle(shape, x, y, r):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return np.hypot(xx - x, yy - y) < r


def test_saved_exclusion_recuts_every_detector_region(runner):
    rs = load_region_set(runner, "A")
    assert not rs.source_saved and rs.shapes == []
    first = save_region_set(runner, rs)
    assert first.changed and [p.name for p in first.written] == ["srcA.reg"]
    assert "fk5" in first.path.read_text()
    runner.run("regions.A", _quiet())
    before = _bgd_masks(runner)
    assert len(before) >= 2
    # an exclusion circle deep inside the largest region, 15.3 pixels (no pixel centre on its edge)
    from scipy.ndimage import distance_transform_edt

    name, largest = max(before.items(), key=lambda kv: kv[1].sum())
    depth = distance_transform_edt(largest)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    assert depth[y, x] > 16
    rs = load_region_set(runner, "A")
    assert rs.source_saved and rs.auto_exclusion_r is not None and rs.auto_exclusion_r > 0
    rs.shapes.append(UserShape("circle", float(x), float(y), r=15.3))
    edit = save_region_set(runner, rs, overwrite=True)
    assert edit.changed and edit.stale == ["regions.A"]
    assert runner.instance("regions.A").params["exclude"] == ["bgd/excludeA.reg"]
    assert runner.status("regions.B") != "stale"
    # the file lists the exclusion as an include shape: the area it selects is excluded
    (written,) = Regions.read(str(exclusion_file_path(runner, "A")), format="ds9")
    assert type(written).__name__ == "CircleSkyRegion" and int(written.meta["include"]) == 1
    # fk5 through the image's WCS (its CDELT is 2.458100″, the nominal pixel 2.458107″)
    assert written.radius.to_value("arcsec") == pytest.approx(15.3 * PIXEL_ARCSEC, rel=1e-5)
    assert load_region_set(runner, "A").shapes[0].x == pytest.approx(x, abs=PIXEL_TOLERANCE)

    runner.run("regions.A", _quiet())
    after = _bgd_masks(runner)
    circle = _inside_circle(largest.shape, x, y, 15.3)
    assert circle.sum() == pytest.approx(np.pi * 15.3 ** 2, rel=0.05)
    assert set(after) == set(before)
    for n, mask in after.items():
        assert not (mask & circle).any(), f"{n} still holds excluded pixels"
        np.testing.assert_array_equal(mask, before[n] & ~circle)   # nothing else changed
    assert (before[name] & circle).sum() == circle.sum()

    # a hand-drawn background box: the regions are cut only inside it
    box = UserShape("box", float(x), float(y), width=120.5, height=80.5, include=True)
    rs = load_region_set(runner, "A")
    rs.shapes.append(box)
    edit = save_region_set(runner, rs, overwrite=True)
    assert edit.stale == ["regions.A"] and drawn_file_path(runner, "A") in edit.written
    runner.run("regions.A", _quiet())
    yy, xx = np.mgrid[0:circle.shape[0], 0:circle.shape[1]]
    in_box = (np.abs(xx - x) < 120.5 / 2) & (np.abs(yy - y) < 80.5 / 2)
    drawn = _bgd_masks(runner)
    assert drawn and all(not (m & ~in_box).any() for m in drawn.values())
    assert sum(m.sum() for m in drawn.values()) == (before[name] & in_box & ~circle).sum() + sum(
        (before[n] & in_box).sum() for n in before if n != name)

    # removing every user shape takes them off the step's lists
    rs = load_region_set(runner, "A")
    assert [s.kind for s in rs.shapes] == ["circle", "box"]
    rs.shapes.clear()
    save_region_set(runner, rs, overwrite=True)
    params = runner.instance("regions.A").params
    assert params.get("exclude", []) == [] and params.get("within", []) == []


def test_fixed_exclusion_radius_goes_to_the_step(runner):
    rs = load_region_set(runner, "A")
    rs.exclusion_r = 100.0
    save_region_set(runner, rs)
    assert runner.instance("regions.A").params["radius"] == pytest.approx(100 * PIXEL_ARCSEC, abs=1e-3)
    result = runner.run("regions.A", _quiet())
    assert result.values["radius_arcsec"] == pytest.approx(100 * PIXEL_ARCSEC, abs=0.01)
    again = load_region_set(runner, "A")
    assert again.exclusion_r == pytest.approx(100.0, abs=1e-3)
    rs.exclusion_r = None
    save_region_set(runner, rs, overwrite=True)
    assert "radius" not in runner.instance("regions.A").params


def test_a_region_file_saved_elsewhere_meanwhile_is_not_replaced(runner):
    from nuskybgd.errors import ChangedOnDisk
    from nuskybgd.pipeline.editing import source_region_path

    rs = load_region_set(runner, "A")
    save_region_set(runner, rs, overwrite=True)              # a first save: the set now knows the file
    rs.source = SourceCircle(rs.source.x + 3, rs.source.y, rs.source.r)
    path = source_region_path(runner, "A")
    from_ds9 = path.read_text().replace("source region", "source region, moved in ds9")
    path.write_text(from_ds9)                                # the user saves from ds9 meanwhile
    with pytest.raises(ChangedOnDisk, match=f"{path.name} changed outside the wizard"):
        save_region_set(runner, rs, overwrite=True)
    assert path.read_text() == from_ds9                      # nothing written
    edit = save_region_set(runner, rs, overwrite=True, replace_outside_edits=True)   # asked for
    assert edit.changed and path.read_text() != from_ds9
    rs.source = SourceCircle(rs.source.x - 3, rs.source.y, rs.source.r)
    save_region_set(runner, rs, overwrite=True)              # its own file: saves as usual
    assert load_region_set(runner, "A").source.x == pytest.approx(rs.source.x, abs=1e-3)


def test_export_import_round_trip(runner, tmp_path):
    source = SourceCircle(480.25, 510.5, 24.4)
    shapes = [UserShape("circle", 300.0, 420.0, r=30.0),
              UserShape("box", 600.5, 350.25, width=80.0, height=40.0, angle=30.0),
              UserShape("box", 450.0, 700.0, width=200.0, height=150.0, include=True),
              UserShape("circle", 520.0, 640.0, r=12.5, include=True)]
    rs = RegionSet("A", source, exclusion_r=90.0, shapes=shapes)
    out = export_regions(runner, rs, tmp_path / "all.reg")
    text = out.read_text()
    assert "fk5" in text and "tag={source exclusion}" in text and text.count("-") >= 3
    with pytest.raises(Exception, match="already exists"):
        export_regions(runner, rs, out)

    empty = RegionSet("A", SourceCircle(10, 10, 5))
    got = import_regions(runner, empty, out)
    assert got.added == 4 and got.skipped == 0
    assert got.message.startswith("Imported 4 shapes, the source circle, the source exclusion radius")
    back = got.regions
    assert (back.source.x, back.source.y, back.source.r) == pytest.approx(
        (source.x, source.y, source.r), abs=PIXEL_TOLERANCE)
    assert back.exclusion_r == pytest.approx(90.0, abs=PIXEL_TOLERANCE)
    key = lambda s: (s.include, s.kind, s.x)  # noqa: E731
    for a, b in zip(sorted(back.shapes, key=key), sorted(shapes, key=key), strict=True):
        assert (a.kind, a.include) == (b.kind, b.include)
        assert (a.x, a.y, a.r, a.width, a.height) == pytest.approx(
            (b.x, b.y, b.r, b.width, b.height), abs=PIXEL_TOLERANCE)
        assert a.angle == pytest.approx(b.angle, abs=ANGLE_TOLERANCE)
    # importing the same file again adds nothing twice
    assert import_regions(runner, back, out).added == 0


def test_import_image_coordinates_and_other_shapes(runner, tmp_path):
    reg = tmp_path / "drawn.reg"
    reg.write_text("# Region file format: DS9 version 4.1\nimage\ncircle(101,51,10)\n"
                   "-box(201,301,20,10,0)\npolygon(10,10,20,10,20,20)\n")
    got = import_regions(runner, RegionSet("A", SourceCircle(5, 5, 5)), reg)
    assert got.added == 2 and got.skipped == 1 and "skipped 1 shape" in got.message
    circle, box = got.regions.shapes
    assert (circle.kind, circle.include, circle.x, circle.y, circle.r) == ("circle", True, 100, 50, 10)
    assert (box.kind, box.include, box.x, box.y, box.width, box.height) == ("box", False, 200, 300, 20, 10)


@pytest.mark.parametrize("text", ["circle(1,2\n", "# Region file format: DS9\nfk5\ncircle(a,b,c)\n",
                                  "not a region file at all\n", ""])
def test_malformed_import_is_one_sentence(runner, tmp_path, text):
    bad = tmp_path / "bad.reg"
    bad.write_text(text)
    with pytest.raises(InputError) as err:
        import_regions(runner, RegionSet("A", SourceCircle(5, 5, 5)), bad)
    message = str(err.value)
    assert str(bad) in message and "\n" not in message and message.endswith(".")
    with pytest.raises(InputError, match="does not exist"):
        import_regions(runner, RegionSet("A", SourceCircle(5, 5, 5)), tmp_path / "missing.reg")
