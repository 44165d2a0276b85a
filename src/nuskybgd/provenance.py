"""Provenance keywords stamped into every product.

Every FITS product carries ``CREATOR`` (tool and version), ``NSBCALIB`` (the calibration source
used: ``CALDB``, ``AUXIL`` or ``BUILTIN``), ``NSBCALDS`` (a longer description, e.g. the CALDB
folder and file) and HISTORY lines naming the inputs.  Products made with the built-in nominal
calibration say so explicitly (``NSBCALIB = 'BUILTIN'`` and a COMMENT), so approximate
calibration is never silent.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from astropy.io import fits

from nuskybgd import __version__

BUILTIN_WARNING = (
    "built-in nominal calibration (approximate; install CALDB or run 'nuskybgd calib fetch')"
)


def creator() -> str:
    """The CREATOR string, e.g. ``nuskybgd 0.1.0``."""
    return f"nuskybgd {__version__}"


def _ascii(text: str) -> str:
    """``text`` with every character FITS headers cannot hold (non-ASCII) replaced by '?'."""
    return "".join(c if " " <= c <= "~" else "?" for c in str(text))


def stamp_header(
    header: fits.Header,
    calibration: str | None = None,
    calibration_detail: str | None = None,
    inputs: Iterable[str | Path] = (),
    task: str | None = None,
) -> None:
    """Add provenance keywords to an ``astropy.io.fits.Header`` in place.

    Parameters
    ----------
    header : astropy.io.fits.Header
        Header to modify.
    calibration : str, optional
        Calibration source label: ``"CALDB"``, ``"AUXIL"`` or ``"BUILTIN"`` (None if the product
        uses no calibration).
    calibration_detail : str, optional
        Human-readable description (paths, versions) of the calibration used.
    inputs : iterable of path
        Input files, recorded as HISTORY lines.
    task : str, optional
        Name of the nuskybgd task that made the product.
    """
    header["CREATOR"] = (creator(), "software that made this file")
    header["DATE"] = (
        _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "file creation date (UTC)",
    )
    if task:
        header["NSBTASK"] = (task, "nuskybgd task that made this file")
    if calibration is not None:
        header["NSBCALIB"] = (calibration, "calibration source used by nuskybgd")
        if calibration_detail:
            header["NSBCALDS"] = _ascii(calibration_detail)[:68]
        if "BUILTIN" in calibration.upper():
            header["COMMENT"] = "Made with " + BUILTIN_WARNING + "."
    for p in inputs:
        header.add_history(_ascii(f"nuskybgd input: {p}"))


@dataclass(frozen=True)
class Provenance:
    """Where a product comes from: calibration used, inputs and the task that made it.

    Attributes
    ----------
    calibration : str, optional
        Calibration source label (``"CALDB"``, ``"AUXIL"``, ``"BUILTIN"`` or a ``+`` mix); None
        when the product uses no calibration.
    calibration_detail : str, optional
        Human-readable description (paths, versions) of the calibration used.
    inputs : tuple of path
        Input files, recorded as HISTORY lines.
    task : str, optional
        Name of the nuskybgd task that made the product.
    """

    calibration: str | None = None
    calibration_detail: str | None = None
    inputs: tuple[str | Path, ...] = ()
    task: str | None = None

    @classmethod
    def of_calibration(cls, cal, task: str | None = None,
                       inputs: Iterable[str | Path] = ()) -> Provenance:
        """Provenance of a product made with calibration ``cal`` (its ``source``/``detail``)."""
        return cls(cal.source, cal.detail, tuple(inputs), task)

    @classmethod
    def coerce(cls, provenance: Provenance | None = None, **keywords) -> Provenance:
        """``provenance``, or one built from the keyword form (``calibration=…, task=…``).

        Raises
        ------
        TypeError
            An unknown keyword, or both forms given.
        """
        unknown = set(keywords) - {"calibration", "calibration_detail", "inputs", "task"}
        if unknown:
            raise TypeError(f"unexpected provenance keyword(s): {', '.join(sorted(unknown))}")
        if provenance is not None:
            if any(v not in (None, ()) for v in keywords.values()):
                raise TypeError("give either provenance= or the provenance keywords, not both")
            return provenance
        keywords["inputs"] = tuple(keywords.get("inputs", ()))
        return cls(**keywords)

    def stamp(self, header: fits.Header, with_inputs: bool = True) -> None:
        """:func:`stamp_header` with these values (HISTORY of inputs unless ``with_inputs`` is
        false, e.g. on a second extension of the same file)."""
        stamp_header(header, self.calibration, self.calibration_detail,
                     self.inputs if with_inputs else (), self.task)
