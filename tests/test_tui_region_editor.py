"""The region editor driven by keys on a real simulated session (Runner, Session, real files):
add an exclusion, move it onto a background region, save, see the regions and spectra steps
stale in the sidebar, re-run the regions step and find the excluded area gone from every bgd
region; add, resize, toggle and delete a box; a malformed ds9 import is one sentence, a good one
adds its shapes; export writes the set."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from textual.widgets import Static

from conftest import copy_observation
from nuskybgd.events import Reporter
from nuskybgd.pipeline import STAGES, Runner, Session
from nuskybgd.pipeline.editing import load_region_set, save_region_set
from nuskybgd.products.regions import region_mask
from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.help_text import help_for
from nuskybgd_tui.region_views import RegionEditor
from nuskybgd_tui.widgets.image_view import ImageView
from nuskybgd_tui.widgets.sidebar import StepSidebar
from test_tui_app import until

SEQ = "90000000002"


def _masks(ev: Path, runner) -> dict[str, np.ndarray]:
    with fits.open(ev / f"nu{SEQ}A01_cl_3to20keV.fits") as hdul:
        shape, wcs = hdul[0].data.shape, WCS(hdul[0].header).celestial
    return {p.name: region_mask(p, shape, wcs, warn=lambda s: None)
            for p in runner.outputs("regions.A") if p.is_file()}


def _status(app) -> str:
    return str(app.query_one("#region-status", Static).render())


async def _open_fpma_regions(pilot, app) -> None:
    """Open the regions stage on FPMA and show its products (the editor)."""
    await until(pilot, lambda: app.ready)
    await pilot.press("6")
    await until(pilot, lambda: (app.current_key or "").startswith("regions."))
    if app.current_key == "regions.B":      # the stage opens on its unfinished module
        await pilot.press("m")
        await until(pilot, lambda: app.current_key == "regions.A")
    await pilot.press("o")


def test_exclusion_by_keys_recuts_regions(small_observation: Path, tmp_path: Path):
    from scipy.ndimage import distance_transform_edt

    ev = copy_observation(small_observation, tmp_path)
    session = Session.open(ev)
    runner = Runner(session)
    quiet = Reporter(lambda e: None)
    runner.run_all(quiet, until="projbgd")
    save_region_set(runner, load_region_set(runner, "A"))   # the proposed source circle
    runner.run("regions.A", quiet)
    runner.run("spectra.A", quiet)
    before = _masks(ev, runner)
    texts = {p: p.read_text() for p in runner.outputs("regions.A")}
    # where to put the exclusion: deepest inside the largest background region
    name, largest = max(before.items(), key=lambda kv: kv[1].sum())
    depth = distance_transform_edt(largest)
    ty, tx = np.unravel_index(int(np.argmax(depth)), depth.shape)
    bad = ev / "bgd" / "bad.reg"
    bad.write_text("# Region file format: DS9 version 4.1\nfk5\ncircle(12:00:00, 1\n")
    good = ev / "bgd" / "stray.reg"
    good.write_text("# Region file format: DS9 version 4.1\nimage\n-circle(101,101,20)\n"
                    "box(301,201,40,20,0)\n")

    seen: dict[str, float] = {}

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_fpma_regions(pilot, app)
            await until(pilot, lambda: any(v.zoom > 1 for e in app.query(RegionEditor)
                                           if e.regions is not None for v in e.query(ImageView)))
            editor = app.query_one(RegionEditor)
            view = editor.query_one(ImageView)
            assert _status(app).startswith("[1/2] srcA")          # the source is selected
            # opening the done step's form (choice fields) does not turn it stale
            assert runner.status("regions.A") == "done"
            assert app.query_one(StepSidebar).statuses["regions"] == "ready"  # FPMB not run
            # the source exclusion: PSF-based from the last run until resized, x goes back
            auto = editor.regions.auto_exclusion_r
            assert auto is not None and auto > editor.regions.source.r
            await pilot.press("n")
            assert "source exclusion" in _status(app) and "PSF-based, last run" in _status(app)
            await pilot.press("right_square_bracket")
            assert editor.regions.exclusion_r == auto + 1 and "(fixed)" in _status(app)
            await pilot.press("x")
            assert editor.regions.exclusion_r is None and "PSF-based radius" in _status(app)
            await pilot.press("N")
            assert _status(app).startswith("[1/2] srcA")
            # a box: added at the view's centre, taller, a background area, then deleted
            await pilot.press("b")
            assert _status(app).startswith("[3/3] exclusion box")
            box = editor.regions.shapes[0]
            await pilot.press("right_curly_bracket", "right_curly_bracket", "i")
            assert editor.regions.shapes[0].height == box.height + 2
            assert editor.regions.shapes[0].width == box.width
            assert editor.regions.shapes[0].include and "background box" in _status(app)
            assert [s.kind for s in view.overlays if s.kind == "selected"] == ["selected"]
            await pilot.press("x")
            assert editor.regions.shapes == [] and "deleted" in _status(app)
            # an exclusion circle, moved onto the largest background region (1 and 10 pixels)
            await pilot.press("a")
            shape = editor.regions.shapes[0]
            assert (shape.kind, shape.include) == ("circle", False)
            dx, dy = int(tx - shape.x), int(ty - shape.y)
            keys = []
            for d, pos, neg in ((dx, "right", "left"), (dy, "up", "down")):
                arrow = pos if d > 0 else neg
                keys += [f"ctrl+{arrow}"] * (abs(d) // 10) + [f"shift+{arrow}"] * (abs(d) % 10)
            await pilot.press(*keys)
            shape = editor.regions.shapes[0]
            assert (shape.x, shape.y) == (tx, ty)
            while editor.regions.shapes[0].r > 12:
                await pilot.press("left_square_bracket")
            seen["radius"] = editor.regions.shapes[0].r
            assert seen["radius"] < depth[ty, tx]
            # another step and back: the unsaved edits are still there
            await pilot.press("7")
            await until(pilot, lambda: app.current_key == "spectra.A")
            await pilot.press("6")
            await until(pilot, lambda: app.current_key == "regions.A")
            await pilot.press("o")
            await until(pilot, lambda: any(e.regions is not None for e in app.query(RegionEditor)))
            if app.query_one(RegionEditor) is not editor:      # rebuilt: it says it kept them
                editor = app.query_one(RegionEditor)
                await until(pilot, lambda: "unsaved changes kept" in _status(app))
            assert [(s.x, s.y, s.r) for s in editor.regions.shapes] == [(tx, ty, seen["radius"])]
            assert _status(app).startswith("[3/3] exclusion circle")
            await pilot.press("W")
            await until(pilot, lambda: "saved" in _status(app))
            assert "excludeA.reg" in _status(app) and "now stale: regions.A, spectra.A" in _status(app)
            sidebar = app.query_one(StepSidebar)
            await until(pilot, lambda: sidebar.statuses["regions"] == "stale"
                        and sidebar.statuses["spectra"] == "stale")
            await pilot.press("r")
            await until(pilot, lambda: runner.status("regions.A") == "done"
                        and app.running_key is None)
            await until(pilot, lambda: sidebar.statuses["regions"] == "ready")
            assert sidebar.statuses["spectra"] == "stale"
            # the editor comes back with the saved exclusion; a malformed import is one sentence
            await until(pilot, lambda: any(e.regions is not None and e.regions.shapes
                                           for e in app.query(RegionEditor)))
            await pilot.press("o")
            editor = app.query_one(RegionEditor)
            await pilot.press("I", *"bad.reg", "enter")
            await until(pilot, lambda: "bad.reg" in _status(app))
            message = _status(app).split(": ", 1)[1]
            assert message.startswith("region file bgd/bad.reg is not a valid ds9 region file")
            assert "\n" not in message and message.endswith(".")
            assert app.is_running and len(editor.regions.shapes) == 1
            assert editor.query_one(ImageView).has_focus          # the keys come back to the image
            await pilot.press("I", *"stray.reg", "enter")
            await until(pilot, lambda: len(editor.regions.shapes) == 3)
            assert "Imported 2 shapes from stray.reg" in _status(app)
            kinds = [(s.kind, s.include, s.x, s.y) for s in editor.regions.shapes[1:]]
            assert kinds == [("circle", False, 100, 100), ("box", True, 300, 200)]
            await pilot.press("E", "enter")
            await until(pilot, lambda: "exported" in _status(app))
            exported = (ev / "bgd" / "regionsA.reg").read_text()
            assert exported.count("tag={exclusion}") == 2 and "tag={background}" in exported
            await pilot.press("q")

    try:
        asyncio.run(scenario())
        after = _masks(ev, runner)
        assert set(after) == set(before)
        assert any(p.read_text() != texts[p] for p in texts)
        yy, xx = np.mgrid[0:largest.shape[0], 0:largest.shape[1]]
        distance = np.hypot(xx - tx, yy - ty)
        inside = distance < seen["radius"] - 1e-6
        edge = np.abs(distance - seen["radius"]) <= 1e-6   # centres on the circle: either way
        assert inside.sum() > 300
        for n, mask in after.items():
            assert not (mask & inside).any(), f"{n} keeps excluded pixels"
            np.testing.assert_array_equal(mask & ~edge, before[n] & ~inside & ~edge)
    finally:
        session.close()


def test_help_lists_the_editor_keys():
    text = help_for("regions", "stage help")
    for words in ("n / N select", "shift+arrows", "{ }", "a adds an exclusion circle",
                  "b an exclusion box", "x or delete", "W saves", "ctrl+r loads the files",
                  "I imports", "E exports"):
        assert words in text
    assert "Region editor" not in help_for("images", "stage help")


def test_a_source_region_saved_from_ds9_meanwhile_is_not_replaced(small_observation: Path, tmp_path: Path):
    from nuskybgd.pipeline.editing import source_region_path

    ev = copy_observation(small_observation, tmp_path)
    session = Session.open(ev)
    runner = Runner(session)
    runner.run_all(Reporter(lambda e: None), until="projbgd")
    save_region_set(runner, load_region_set(runner, "A"))   # the proposed source circle
    path = source_region_path(runner, "A")

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_fpma_regions(pilot, app)
            await until(pilot, lambda: any(e.regions is not None for e in app.query(RegionEditor)))
            editor = app.query_one(RegionEditor)
            x0 = editor.regions.source.x
            # the user moves the circle in ds9 and saves srcA.reg there
            moved = load_region_set(runner, "A")
            moved.source = type(moved.source)(x0 + 7, moved.source.y, moved.source.r)
            save_region_set(runner, moved, overwrite=True)
            from_ds9 = path.read_text()
            await pilot.press("shift+right", "W")             # an edit here, then save: refused
            await until(pilot, lambda: "not saved" in _status(app))
            assert path.read_text() == from_ds9
            await pilot.press("ctrl+r")                       # the file's circle is loaded
            await until(pilot, lambda: "reloaded" in _status(app))
            assert abs(editor.regions.source.x - (x0 + 7)) < 1e-3
            await pilot.press("shift+right", "W")             # on top of it: saved as usual
            await until(pilot, lambda: "saved" in _status(app) and "not saved" not in _status(app))
            assert abs(load_region_set(runner, "A").source.x - (x0 + 8)) < 1e-3
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        session.close()
