"""The fit's parameter table (by name, with the XSPEC index as a hint, freeze/thaw toggles)
and its statistics table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

__all__ = ["FitParameter", "ParameterTable", "FitStatistics", "FitStatsTable"]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class FitParameter:
    """One model parameter as the table shows it.

    Attributes
    ----------
    name : str
        The project's name (``intbgd.line_87.90keV.norm``).
    value : float
        Best-fit or current value, in ``unit``.
    error : float, optional
        1σ uncertainty, same unit.
    frozen : bool
        Whether the fit leaves it fixed.
    xspec : str
        The XSPEC index as a hint (``intbgd:16``), "" when none.
    unit : str
        Unit of the value.
    state : str
        What the state column shows instead of free/frozen ("linked", "linked → thaw"), "".
    """

    name: str
    value: float
    error: float | None = None
    frozen: bool = False
    xspec: str = ""
    unit: str = ""
    state: str = ""


class ParameterTable(DataTable):
    """Parameters by name; ``t`` (or space) toggles freeze/thaw of the row under the cursor."""

    BINDINGS = [Binding("t,space", "toggle_frozen", "thaw/freeze")]

    class Toggled(Message):
        """The user asked to freeze (``frozen=True``) or thaw a parameter."""

        def __init__(self, table: ParameterTable, name: str, frozen: bool) -> None:
            super().__init__()
            self.table = table
            self.name = name
            self.frozen = frozen

    def __init__(self, parameters: Sequence[FitParameter] = (), *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._parameters: list[FitParameter] = list(parameters)

    def on_mount(self) -> None:
        self.add_columns("parameter", "value", "±1σ", "state", "xspec")
        self.set_parameters(self._parameters)

    @property
    def parameters(self) -> list[FitParameter]:
        """The parameters shown, in order."""
        return list(self._parameters)

    def set_parameters(self, parameters: Sequence[FitParameter]) -> None:
        """Show ``parameters`` (replacing the rows, keeping the cursor row)."""
        row = self.cursor_row
        self._parameters = list(parameters)
        self.clear()
        for p in self._parameters:
            value = _num(p.value) + (f" {p.unit}" if p.unit else "")
            self.add_row(p.name, value, _num(p.error),
                         p.state or ("frozen" if p.frozen else "free"), p.xspec, key=p.name)
        if self._parameters:
            self.move_cursor(row=min(row, len(self._parameters) - 1))

    def action_toggle_frozen(self) -> None:
        if not self._parameters:
            return
        p = self._parameters[self.cursor_row]
        self._parameters[self.cursor_row] = replace(p, frozen=not p.frozen)
        self.update_cell(p.name, self.ordered_columns[3].key,
                         "free" if p.frozen else "frozen")
        self.post_message(self.Toggled(self, p.name, not p.frozen))


@dataclass(frozen=True)
class FitStatistics:
    """A fit's statistics.

    Attributes
    ----------
    statistic : str
        "cstat", "chi2", ...
    value : float
        The statistic at the best fit.
    dof : int
        Degrees of freedom.
    p_value : float, optional
        Goodness-of-fit probability (fraction of simulations with a worse statistic).
    contributions : sequence of (str, float)
        Per-region contributions to the statistic.
    n_sim : int
        Simulations the p-value was measured with (0: none, or not said).
    """

    statistic: str
    value: float
    dof: int
    p_value: float | None = None
    contributions: Sequence[tuple[str, float]] = ()
    n_sim: int = 0


class FitStatsTable(DataTable):
    """The statistic, degrees of freedom, p-value and each region's contribution."""

    def __init__(self, stats: FitStatistics | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", show_header=True)
        self._stats = stats

    def on_mount(self) -> None:
        self.add_columns("quantity", "value")
        if self._stats is not None:
            self.set_statistics(self._stats)

    def set_statistics(self, stats: FitStatistics) -> None:
        """Show ``stats``."""
        self._stats = stats
        self.clear()
        self.add_row("statistic", stats.statistic)
        self.add_row(stats.statistic, f"{stats.value:.1f}")
        self.add_row("dof", str(stats.dof))
        reduced = stats.value / stats.dof if stats.dof > 0 else float("nan")
        self.add_row(f"{stats.statistic}/dof", f"{reduced:.3f}")
        sims = f" ({stats.n_sim} sims)" if stats.n_sim else ""
        self.add_row(f"p-value{sims}",
                     "—" if stats.p_value is None else f"{stats.p_value:.3g}")
        for region, value in stats.contributions:
            self.add_row(f"  {region}", f"{value:.1f}")
