"""A spectrum plot: data with errors, the total model, its components and the residuals.

Drawn with plotext through ``textual-plotext`` (text only, any terminal).  The widget shows what
it is given; the numbers come from the pipeline's results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from textual.app import ComposeResult
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
    SpectrumPlot #spectrum-resid { height: 1fr; min-height: 4; }
    SpectrumPlot #spectrum-caption { height: 1; }
    """

    def __init__(self, spectrum: SpectrumData | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spectrum = spectrum

    def compose(self) -> ComposeResult:
        yield Static("", id="spectrum-caption", markup=False)
        yield PlotextPlot(id="spectrum-main")
        yield PlotextPlot(id="spectrum-resid")

    def on_mount(self) -> None:
        if self._spectrum is not None:
            self.show(self._spectrum)

    @property
    def spectrum(self) -> SpectrumData | None:
        """The spectrum shown."""
        return self._spectrum

    def show(self, spectrum: SpectrumData) -> None:
        """Draw ``spectrum`` (replacing what was shown)."""
        self._spectrum = spectrum
        energy = np.asarray(spectrum.energy, float)
        rate = np.asarray(spectrum.rate, float)
        good = (energy > 0) & (rate > 0)
        main = self.query_one("#spectrum-main", PlotextPlot).plt
        main.clear_figure()
        main.xscale("log")
        main.yscale("log")
        main.xlabel("keV")
        main.ylabel("counts/s/keV")
        main.scatter(energy[good].tolist(), rate[good].tolist(), label="data", marker="dot")
        if spectrum.model is not None:
            model = np.asarray(spectrum.model, float)
            ok = (energy > 0) & (model > 0)
            main.plot(energy[ok].tolist(), model[ok].tolist(), label="model")
        for name, values in spectrum.components.items():
            comp = np.asarray(values, float)
            ok = (energy > 0) & (comp > 0)
            if ok.any():
                main.plot(energy[ok].tolist(), comp[ok].tolist(), label=name, marker="braille")
        resid_plot = self.query_one("#spectrum-resid", PlotextPlot)
        resid = resid_plot.plt
        resid.clear_figure()
        res = spectrum.residuals()
        ok = np.isfinite(res) & (energy > 0)
        resid_plot.display = bool(ok.any())     # no model (a bare spectrum): no residuals
        if ok.any():
            resid.xscale("log")
            resid.scatter(energy[ok].tolist(), res[ok].tolist(), marker="dot")
            resid.horizontal_line(0.0)
            resid.ylabel("σ")
        names = ", ".join(["data", *(["model"] if spectrum.model is not None else []),
                           *spectrum.components])
        self.query_one("#spectrum-caption", Static).update(
            f"{spectrum.label or 'spectrum'}: {names}")
        for plot in self.query(PlotextPlot):
            plot.refresh()
