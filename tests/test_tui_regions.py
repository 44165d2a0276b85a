"""The regions and spectra views on the real runner: the source circle is proposed on the
simulated source, moved by keys and saved as the ds9 file the regions step reads; the step's
background regions are drawn; the spectra view plots the spectra the step wrote."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from regions import Regions
from textual.widgets import Static

from conftest import copy_observation
from nuskybgd.pipeline import STAGES, Runner, Session
from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.region_views import RegionEditor, SpectraView
from nuskybgd_tui.widgets.image_view import ImageView
from nuskybgd_tui.widgets.spectrum_plot import SpectrumPlot
from test_tui_app import until


def test_place_source_run_regions_and_spectra(small_observation: Path, tmp_path: Path):
    ev = copy_observation(small_observation, tmp_path)
    truth = json.loads((small_observation.parent / "truth.json").read_text())
    sky_x, sky_y = truth["modules"]["A"]["source"]["sky_xy"]
    session = Session.open(ev)
    runner = Runner(session)
    runner.run_all(until="projbgd")
    src = ev / "bgd" / "srcA.reg"

    async def scenario():
        app = WizardApp(runner, STAGES)
        async with app.run_test(size=(100, 34)) as pilot:
            await until(pilot, lambda: app.ready)
            await pilot.press("6")
            await until(pilot, lambda: app.current_key == "regions.A")
            assert runner.status("regions.A") == "pending"         # no source region yet
            assert str(app.query_one("#step-message", Static).render()) == (
                "First place the source region: o (Products), move the circle with "
                "shift+arrows, W saves srcA.reg; then r.")
            await pilot.press("o")
            await until(pilot, lambda: bool(app.query(RegionEditor)))
            editor = app.query_one(RegionEditor)
            await until(pilot, lambda: editor.circle is not None)
            proposed = editor.circle
            assert abs(proposed.x - (sky_x - 1)) <= 2 and abs(proposed.y - (sky_y - 1)) <= 2
            assert "proposed, W saves" in str(app.query_one("#region-status", Static).render())
            assert editor.query_one(ImageView).has_focus          # o hands the keys to it
            await until(pilot, lambda: editor.query_one(ImageView).zoom > 1)
            await pilot.press("shift+right", "shift+right", "shift+up", "right_square_bracket")
            await pilot.press("W")
            await until(pilot, lambda: src.is_file())
            (circle,) = Regions.read(str(src), format="ds9")            # fk5
            with fits.open(ev / "nu90000000002A01_cl_3to20keV.fits") as hdul:
                circle = circle.to_pixel(WCS(hdul[0].header).celestial)
            assert circle.center.x == pytest.approx(proposed.x + 2, abs=1e-4)
            assert circle.center.y == pytest.approx(proposed.y + 1, abs=1e-4)
            assert circle.radius == pytest.approx(proposed.r + 1, abs=1e-4)
            assert "saved srcA.reg" in str(app.query_one("#region-status", Static).render())
            await until(pilot, lambda: runner.status("regions.A") == "ready")
            await pilot.press("r")
            await until(pilot, lambda: runner.status("regions.A") == "done"
                        and app.running_key is None)
            # the editor is rebuilt after the run; wait until its image view is mounted too
            await until(pilot, lambda: any(s.kind == "background" for s in
                                           _drawn_overlays(app)))
            drawn = app.query_one(RegionEditor).query_one(ImageView).overlays
            written = sorted(p.name for p in runner.outputs("regions.A"))
            assert {s.label for s in drawn if s.kind == "background"} == {
                Path(n).stem for n in written}
            # the source circle, selected for editing, is drawn highlighted
            assert [s.label for s in drawn if s.kind in ("source", "selected")] == ["srcA"]
            assert [s.kind for s in drawn if s.label == "srcA"] == ["selected"]
            await pilot.press("7")
            await until(pilot, lambda: app.current_key == "spectra.A")
            await pilot.press("r")
            await until(pilot, lambda: runner.status("spectra.A") == "done"
                        and app.running_key is None, limit=4000)
            await pilot.press("o")
            await until(pilot, lambda: bool(app.query(SpectraView))
                        and app.query_one(SpectraView).spectra)
            view = app.query_one(SpectraView)
            shown = view.query_one(SpectrumPlot).spectrum
            with fits.open(view.spectra[0]) as hdul:
                channel = hdul["SPECTRUM"].data["CHANNEL"].astype(float)
                counts = hdul["SPECTRUM"].data["COUNTS"].astype(float)
                exposure = hdul["SPECTRUM"].header["EXPOSURE"]
            # NuSTAR PI channels are 0.04 keV wide from 1.6 keV; 3-79 keV in 0.4 keV bins
            centre = 1.6 + 0.04 * channel + 0.02
            in_band = counts[(centre >= 3.0) & (centre < 79.0)]
            in_band = in_band[:len(in_band) // 10 * 10]
            assert len(shown.energy) == len(in_band) // 10
            assert np.sum(shown.rate) * 0.4 == pytest.approx(np.sum(in_band) / exposure)
            assert np.sum(in_band) > 0
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        session.close()


def _drawn_overlays(app) -> list:
    """The overlays the region editor draws now (none while it is being mounted)."""
    views = [v for editor in app.query(RegionEditor) for v in editor.query(ImageView)]
    return list(views[0].overlays) if views else []


def test_region_overlays_keep_ds9_image_coordinates(tmp_path: Path):
    """A ds9 image-coordinate shape is drawn at the numbers written in the file (the library
    works in 0-based array pixels, the overlays in ds9's 1-based image pixels)."""
    from nuskybgd_tui.region_views import region_overlays

    reg = tmp_path / "shapes.reg"
    reg.write_text("image\ncircle(101,51,10)\n-box(40,30,8,6,0)\npolygon(10,10,20,10,20,25)\n")
    shapes = {s.shape: s for s in region_overlays(reg, "background", None)}
    assert shapes["circle"].params == pytest.approx((101, 51, 10))
    assert shapes["circle"].kind == "background" and shapes["box"].kind == "exclude"
    assert shapes["box"].params[:4] == pytest.approx((40, 30, 8, 6))
    assert shapes["polygon"].params == pytest.approx((10, 10, 20, 10, 20, 25))
