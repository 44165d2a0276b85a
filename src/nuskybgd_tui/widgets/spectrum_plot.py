"""A spectrum plot: data with errors, the total model, its components and the residuals.

Drawn with plotext through ``textual-plotext`` (text only, any terminal).  The widget shows what
it is given; the numbers come from the pipeline's results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

__all__ = ["SpectrumData", "SpectrumPlot"]


@dataclass(frozen=True)
class SpectrumData:
    """One spectrum as the plot shows it.

    Attributes
    ----------
    energy : array
        Bin centres, keV.
    rate : array
        Measured rate, counts s⁻¹ keV⁻¹.
    error : array
        1σ uncertainty of ``rate``, same unit.
    model : array, optional
        Total model rate, same unit.
    components : mapping of str to array
        Named model components (e.g. ``"apbgd"``, ``"intbgd"``), same unit.
    label : str
        What the spectrum is (``"bgd0A"``).
    """

    energy: np.ndarray
    rate: np.ndarray
    error: np.ndarray
    model: np.ndarray | None = None
    components: Mapping[str, np.ndarray] = field(default_factory=dict)
    label: str = ""

    def residuals(self) -> np.ndarray:
        """(data − model) / error, NaN where the error is zero or the model is absent."""
        if self.model is None:
            return np.full(np.shape(self.rate), np.nan)
        err = np.asarray(self.error, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            res = (np.asarray(self.rate, float) - np.asarray(self.model, float)) / err
        return np.where(err > 0, res, np.nan)


class SpectrumPlot(Vertical):
    """Data, model and components on a log–log plot, residuals (σ) underneath."""

    DEFAULT_CSS = """
    SpectrumPlot { height: 1fr; min-height: 10; }
    SpectrumPlot #spectrum-main { height: 3fr; }
    SpectrumPlot #spectrum-resid { height: 1fr; min-height: 6; }
    SpectrumPlot #spectrum-caption { height: 1; }
    """

    #: below this height (rows) the residuals are hidden: the spectrum needs the room
    RESIDUALS_MIN_HEIGHT = 16

    def __init__(self, spectrum: SpectrumData | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spectrum = spectrum
        self._has_residuals = False

    def compose(self) -> ComposeResult:
        yield Static("", id="spectrum-caption", markup=False)
        yield _Redrawn(id="spectrum-main")
        yield _Redrawn(id="spectrum-resid")

    def on_mount(self) -> None:
        if self._spectrum is not None:
            self.show(self._spectrum)
        else:                           # nothing to draw yet: no empty frames
            for plot in self.query(PlotextPlot):
                plot.display = False

    def on_resize(self) -> None:
        self._show_residuals()

    def _show_residuals(self) -> None:
        shown = self._has_residuals and self.size.height >= self.RESIDUALS_MIN_HEIGHT
        self.query_one("#spectrum-resid", _Redrawn).display = shown

    @property
    def spectrum(self) -> SpectrumData | None:
        """The spectrum shown."""
        return self._spectrum

    def show(self, spectrum: SpectrumData) -> None:
        """Draw ``spectrum`` (replacing what was shown)."""
        self._spectrum = spectrum
        energy = np.asarray(spectrum.energy, float)
        main = self.query_one("#spectrum-main", _Redrawn)
        main.drawer = lambda plt: _draw_main(plt, spectrum)
        main.display = True
        res = spectrum.residuals()
        ok = np.isfinite(res) & (energy > 0)
        resid_plot = self.query_one("#spectrum-resid", _Redrawn)
        self._has_residuals = bool(ok.any())    # no model (a bare spectrum): no residuals
        self._show_residuals()
        resid_plot.drawer = lambda plt: _draw_residuals(plt, energy[ok], res[ok])
        # the caption is the legend (plotext's legend would cover the low-energy data)
        names = ["data", *(["model"] if spectrum.model is not None else []), *spectrum.components]
        legend = Text(f"{spectrum.label or 'spectrum'}: ")
        for n, name in enumerate(names):
            legend.append(("• " if name == "data" else "─ ") + name,
                          style=f"color({CURVE_COLOURS.get(name, 201)})")
            if n < len(names) - 1:
                legend.append(" ")
        self.query_one("#spectrum-caption", Static).update(legend)
        for plot in self.query(PlotextPlot):
            plot.refresh()


class _Redrawn(PlotextPlot):
    """A plot drawn afresh before every render: plotext applies a log scale to the stored
    points when it builds, so building the same figure twice (a resize) would take the log of
    logs; redrawing from the data each time keeps every build correct."""

    drawer: Callable[[Any], None] | None = None

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_figure()
        if self.drawer is not None:
            self.drawer(plt)
        return super().render()


#: components are drawn down to this fraction of the lowest data or model rate (a component
#: falling to 1e-10 would otherwise squeeze the data into the top rows)
COMPONENT_FLOOR = 0.05
#: plotext colour of each curve (the legend names them; data keep the theme's colour)
#: (xterm-256 codes: fixed colours, not remapped by the terminal's ANSI palette)
CURVE_COLOURS = {"model": 196, "apbgd": 33, "intbgd": 40, "fcxb": 51, "intn": 214, "srcwing": 177,
                 "background": 196, "data": 255}


def _draw_main(main: Any, spectrum: SpectrumData) -> None:
    energy = np.asarray(spectrum.energy, float)
    rate = np.asarray(spectrum.rate, float)
    good = (energy > 0) & (rate > 0)
    main.xscale("log")
    main.yscale("log")
    main.xlabel("keV")
    main.ylabel("counts/s/keV")
    shown = [rate[good]]
    if spectrum.model is not None:
        model = np.asarray(spectrum.model, float)
        ok_model = (energy > 0) & (model > 0)
        shown.append(model[ok_model])
    values = np.concatenate(shown)
    floor = COMPONENT_FLOOR * float(values.min()) if values.size else 0.0
    for name, comp_values in spectrum.components.items():
        comp = np.asarray(comp_values, float)
        ok = (energy > 0) & (comp > max(floor, 0.0))
        if ok.any():
            main.plot(energy[ok].tolist(), comp[ok].tolist(), marker="braille",
                      color=CURVE_COLOURS.get(name, 201))
            values = np.concatenate([values, comp[ok]])
    if spectrum.model is not None and ok_model.any():
        main.plot(energy[ok_model].tolist(), model[ok_model].tolist(),
                  marker="braille", color=CURVE_COLOURS["model"])
    # the data last: drawn over the curves
    main.scatter(energy[good].tolist(), rate[good].tolist(), marker="dot",
                 color=CURVE_COLOURS["data"])
    if values.size:
        # decade ticks labelled 1e-4, 1e-3 … (plotext's own labels are 12-digit decimals)
        lo, hi = np.ceil(np.log10(values.min())), np.floor(np.log10(values.max()))
        decades = np.arange(lo, hi + 1)
        main.yticks((10.0 ** decades).tolist(), [f"1e{int(d)}" for d in decades])


def _draw_residuals(resid: Any, energy: np.ndarray, res: np.ndarray) -> None:
    if not len(energy):
        return
    resid.xscale("log")
    resid.horizontal_line(0.0)
    resid.scatter(energy.tolist(), res.tolist(), marker="dot", color=CURVE_COLOURS["data"])
    resid.ylabel("(data−model)/σ")
    resid.xticks([])                     # the energies are those of the plot above
