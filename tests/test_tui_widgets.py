"""The wizard's widgets: half-block image rendering (resampling, stretch, overlays, zoom, pan,
no-colour mode), spectrum plot, parameter and statistics tables, recipe checklist."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from nuskybgd_tui.widgets.image_render import (
    ASCII_RAMP,
    OverlayShape,
    overlay_mask,
    resample,
    stretch,
    viewport,
)
from nuskybgd_tui.widgets.image_view import ImageView
from nuskybgd_tui.widgets.recipe import RecipeChecklist, RecipeItem
from nuskybgd_tui.widgets.spectrum_plot import SpectrumData, SpectrumPlot
from nuskybgd_tui.widgets.tables import (
    FitParameter,
    FitStatistics,
    FitStatsTable,
    ParameterTable,
)


class OneWidget(App):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def unique(messages):
    """Each message once (the hook sees a bubbling message at every level)."""
    return list({id(m): m for m in messages}.values())


def run(coro):
    return asyncio.run(coro)


# -- image rendering (pure functions) ------------------------------------------------------------
def test_zoomed_out_resampling_keeps_every_count():
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.05, size=(360, 360)).astype(float)   # sparse, like a counts image
    view = viewport(counts.shape, (60, 30))                       # 60 x 60 display pixels
    assert view.scale == pytest.approx(6.0)
    means = resample(counts, view)
    # each display pixel covers 6 x 6 image pixels: mean x 36 summed is the image total
    assert np.nansum(means) * 36 == pytest.approx(counts.sum())
    block = counts[:6, :6].mean()
    assert means[0, 0] == pytest.approx(block)


def test_zoomed_in_pixels_land_where_they_are():
    image = np.zeros((100, 200))
    image[70, 150] = 9.0                                           # row 70, column 150
    view = viewport(image.shape, (50, 25), zoom=4.0, centre=(150.5, 70.5))
    means = resample(image, view)
    row, col = np.unravel_index(np.nanargmax(means), means.shape)
    # the view is centred on that pixel: it sits in the middle of the display
    assert abs(col - view.width / 2) <= 1 and abs(row - view.height / 2) <= 1
    assert np.isclose(view.x_centres()[col], 150, atol=view.scale)
    outside = viewport(image.shape, (50, 25), zoom=4.0, centre=(0.0, 0.0))
    assert np.isnan(resample(image, outside)[0, 0])               # off the image: NaN


def test_stretch_is_monotonic_and_log_lifts_faint_pixels():
    values = np.array([0.0, 1.0, 10.0, 100.0, 1000.0, np.nan])
    lin, log = stretch(values, "linear"), stretch(values, "log")
    assert np.all(np.diff(lin[:5]) >= 0) and np.all(np.diff(log[:5]) >= 0)
    assert lin[0] == 0 and log[0] == 0 and np.isnan(lin[5])
    assert log[1] > 10 * lin[1]                                     # faint pixels become visible
    with pytest.raises(ValueError):
        stretch(values, "sqrt")


def test_circle_overlay_marks_its_outline_not_its_centre():
    image = np.zeros((100, 100))
    view = viewport(image.shape, (50, 25))                          # 2 image px per display px
    circle = OverlayShape("source", "circle", (50.5, 50.5, 20.0))   # ds9 image coordinates
    marks = overlay_mask([circle], view, 25)
    rows, cols = np.nonzero(marks == 0)
    x = view.x_centres()[cols]
    y = view.y0 + (rows + 0.5) * 2 * view.scale - 0.5
    radius = np.hypot(x - 49.5, y - 49.5)
    assert np.all(np.abs(radius - 20) <= 2 * view.scale)            # every mark is on the circle
    assert marks[12, 25] == -1                                      # the centre is not marked
    angles = np.degrees(np.arctan2(y - 49.5, x - 49.5))
    assert np.histogram(angles, bins=8, range=(-180, 180))[0].min() > 0   # closed all round


def test_box_and_polygon_outlines():
    view = viewport((40, 40), (40, 20))                             # 1 image px per display px
    box = OverlayShape("exclude", "box", (20.5, 20.5, 10, 6, 0))
    poly = OverlayShape("detector", "polygon", (1, 1, 40, 1, 40, 40, 1, 40))
    marks = overlay_mask([poly, box], view, 20)
    assert marks[10, 19] == -1                                      # box centre (y=19.5 → row 9-10)
    assert (marks == 1).any() and (marks == 0).any()
    assert marks[0, 20] == 0                                        # the top edge of the outline


# -- the widget ----------------------------------------------------------------------------------
def test_image_view_draws_half_blocks_zooms_pans_and_stretches():
    image = np.zeros((180, 180))
    image[90:95, 90:95] = 50.0
    view = ImageView(image, title="counts 3-20 keV",
                     overlays=[OverlayShape("source", "circle", (92.0, 92.0, 30.0))])

    async def scenario():
        app = OneWidget(view)
        async with app.run_test(size=(60, 20)) as pilot:
            await pilot.pause()
            lines = [view.render_line(y).text for y in range(view.size.height)]
            assert all(set(line) <= {"▀", "o"} for line in lines[:-1])
            assert any("o" in line for line in lines[:-1])
            assert lines[-1].startswith("counts 3-20 keV · zoom 1x · log")
            assert "o=source" in lines[-1]
            before = view.current_viewport()
            view.focus()
            await pilot.press("plus")
            after = view.current_viewport()
            assert view.zoom == 2.0 and after.scale == pytest.approx(before.scale / 2)
            await pilot.press("right")
            moved = view.current_viewport()
            assert moved.x0 > after.x0 and moved.y0 == pytest.approx(after.y0)
            await pilot.press("s")
            assert view.stretch_mode == "linear"
            assert "linear" in view.render_line(view.size.height - 1).text
            await pilot.press("0")
            assert view.zoom == 1.0 and view.centre is None
    run(scenario())


def test_image_view_without_colour_uses_a_brightness_ramp(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    image = np.tile(np.linspace(0, 1, 40), (40, 1))                 # dark left, bright right
    view = ImageView(image, overlays=[OverlayShape("exclude", "box", (20.5, 20.5, 8, 8, 0))])

    async def scenario():
        app = OneWidget(view)
        async with app.run_test(size=(40, 21)) as pilot:
            await pilot.pause()
            assert app.no_color and not view.uses_colour
            row = view.render_line(3).text
            assert set(row) <= set(ASCII_RAMP) | {"x"}
            assert ASCII_RAMP.index(row[1]) < ASCII_RAMP.index(row[-2])   # brighter to the right
            middle = view.render_line(10).text
            assert "x" in middle                                     # the exclusion box outline
    run(scenario())


def test_image_view_refuses_a_cube():
    with pytest.raises(ValueError, match="2-D"):
        ImageView(np.zeros((2, 3, 4)))


# -- spectrum, tables, recipe ------------------------------------------------------------------
def test_spectrum_residuals_and_plot():
    energy = np.array([3.0, 5.0, 10.0, 20.0, 40.0])
    rate = np.array([2.0, 1.0, 0.5, 0.2, 0.1])
    error = np.array([0.1, 0.1, 0.05, 0.0, 0.02])
    model = np.array([1.8, 1.1, 0.5, 0.25, 0.1])
    data = SpectrumData(energy, rate, error, model, {"apbgd": model * 0.3}, label="bgd0A")
    res = data.residuals()
    assert res[0] == pytest.approx(2.0) and res[1] == pytest.approx(-1.0)
    assert res[2] == 0.0 and np.isnan(res[3])                       # zero error: no residual
    plot = SpectrumPlot(data)

    async def scenario():
        app = OneWidget(plot)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            caption = str(plot.query_one("#spectrum-caption", Static).render())
            assert caption == "bgd0A: • data ─ model ─ apbgd"
            assert plot.spectrum is data
            main, resid = plot.query_one("#spectrum-main"), plot.query_one("#spectrum-resid")
            assert resid.display                               # 24 rows: room for residuals
            first = str(main.render())
            # a second build at another size (plotext's log scale once took the log of logs)
            await pilot.resize_terminal(60, 12)
            for _ in range(200):                               # the resize reaches the plot
                if plot.size.height < 12:
                    break
                await pilot.pause(0.01)
            await pilot.pause()
            again = str(main.render())
            assert "1e-1" in first and "1e-1" in again and "keV" in again
            assert not resid.display                           # 12 rows: the spectrum only
    run(scenario())


def test_parameter_table_toggles_and_reports():
    params = [FitParameter("apbgd.norm", 2.34e-2, 4.1e-4, False, "apbgd:1"),
              FitParameter("fcxb.norm", 1.0, None, True, "fcxb:1")]
    table = ParameterTable(params)
    seen = []

    async def scenario():
        app = OneWidget(table)
        async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
            await pilot.pause()
            assert table.get_row_at(0)[:4] == ["apbgd.norm", "0.0234", "0.00041", "free"]
            assert table.get_row_at(1)[2:5] == ["—", "frozen", "fcxb:1"]
            table.focus()
            await pilot.press("t")
            assert table.parameters[0].frozen
            assert table.get_row_at(0)[3] == "frozen"
            toggled = unique(m for m in seen if isinstance(m, ParameterTable.Toggled))
            assert [(m.name, m.frozen) for m in toggled] == [("apbgd.norm", True)]
    run(scenario())


def test_fit_statistics_table():
    stats = FitStatistics("cstat", 3712.4, 3650, 0.31, [("bgd0A", 1200.0), ("bgd1A", 2512.4)])
    table = FitStatsTable(stats)

    async def scenario():
        app = OneWidget(table)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            rows = [table.get_row_at(i) for i in range(table.row_count)]
            assert rows[1] == ["cstat", "3712.4"] and rows[2] == ["dof", "3650"]
            assert rows[3] == ["cstat/dof", f"{3712.4 / 3650:.3f}"]
            assert rows[4] == ["p-value", "0.31"] and rows[6] == ["  bgd1A", "2512.4"]
    run(scenario())


def test_recipe_checklist_keeps_brackets_and_reports_switches():
    items = [RecipeItem("statistic_cstat", "statistic cstat [recommended]"),
             RecipeItem("thaw_88kev", "thaw 88 keV line (lorentz_26)", enabled=False)]
    checklist = RecipeChecklist(items)
    seen = []

    async def scenario():
        app = OneWidget(checklist)
        async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
            await pilot.pause()
            assert "[recommended]" in str(checklist.get_option_at_index(0).prompt)
            checklist.focus()
            await pilot.press("down", "space")
            changed = unique(m for m in seen if isinstance(m, RecipeChecklist.Changed))
            assert [(m.key, m.enabled) for m in changed] == [("thaw_88kev", True)]
            assert checklist.enabled == {"statistic_cstat": True, "thaw_88kev": True}
    run(scenario())
