"""How steps obtain and announce their calibration (typed as
:class:`~nuskybgd.calib.base.Calibration`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nuskybgd.events import Reporter

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.calib.base import Calibration


def resolve_calibration(module: str, date_obs: str | None) -> Calibration:
    """The calibration source in use for ``module`` (CALDB, auxiliary folder or built-in)."""
    from nuskybgd.calib import resolve

    return resolve(module, date_obs=date_obs or None)


def announce_builtin(cal: Calibration, reporter: Reporter, *items: str) -> None:
    """Say loudly when any item this product uses comes from the built-in nominal models."""
    from nuskybgd.provenance import BUILTIN_WARNING

    if "BUILTIN" in str(cal.source_for(*items)).upper():
        reporter.warning(f"{', '.join(items) or 'calibration'}: " + BUILTIN_WARNING)
