"""The calibration interface every source (CALDB, auxiliary folder, built-in) provides.

Array conventions: DET1 maps are numpy arrays of shape (360, 360) indexed ``[y, x]`` with
``x = DET1X - 1`` and ``y = DET1Y - 1`` (so they can be written as FITS images directly).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from nuskybgd.constants import N_PI, NOMINAL_APERTURE_PARAMS
from nuskybgd.energy import response_energy_grid
from nuskybgd.io.ogip_types import Arf, Rmf
from nuskybgd.modules import normalise_module


def unit_detabs(det: int, module: str = "A") -> Arf:
    """Detector absorption of 1 at all energies (nuskybgd-py's fit applies no DETABS either)."""
    lo, hi = response_energy_grid()
    return Arf(lo, hi, np.ones(N_PI), {"TELESCOP": "NuSTAR", "INSTRUME": f"FPM{normalise_module(module)}",
                                       "DETNAM": f"DET{det}", "NSBCALIB": "BUILTIN"})


@dataclass(frozen=True)
class CalibrationItem:
    """Which source provides one item, and why (for ``nuskybgd calib status``)."""

    item: str
    source: str  # "CALDB" | "AUXIL" | "BUILTIN"
    location: str  # file path, or a description of the built-in model
    reason: str


@dataclass
class PixelMap:
    """RAW pixel ownership of DET1 sub-pixels for one module.

    ``det``, ``rawx``, ``rawy``: int16 arrays (360, 360) ``[y, x]``; -1 where no RAW pixel
    owns the sub-pixel (gaps, borders).  ``pdf_max``: the largest PIXPOS probability at each
    sub-pixel (0 where unassigned; 1 for the built-in layout).
    """

    det: np.ndarray
    rawx: np.ndarray
    rawy: np.ndarray
    pdf_max: np.ndarray


class Calibration(ABC):
    """One module's calibration, from whichever source was resolved.

    ``source`` is ``"CALDB"``, ``"AUXIL"`` or ``"BUILTIN"`` and is stamped into every product
    (see :mod:`nuskybgd.provenance`).  A mixed calibration (e.g. CALDB without aperture images,
    completed from the auxiliary folder) reports the per-item sources in :meth:`items`.
    """

    module: str
    source: str
    detail: str

    @abstractmethod
    def pixel_map(self) -> PixelMap:
        """DET1 sub-pixel → (DET_ID, RAWX, RAWY) ownership (PIXPOS, or the built-in layout)."""

    @abstractmethod
    def active_area(self) -> np.ndarray:
        """INSTRMAP active-area map (360, 360) ``[y, x]``, float 0..1 (0 in gaps)."""

    @abstractmethod
    def aperture_image(self) -> np.ndarray:
        """Aperture (stray-light) solid angle per DET1 sub-pixel, deg², shape (360, 360) ``[y, x]``.

        Already cropped to the 360×360 DET1 frame (the 576×576 auxiliary image has offset 108)
        and scaled to deg² (raw × 3.1865e-5).  The nomapbgd x/y shift is **not** applied here.
        """

    @abstractmethod
    def rmf(self, det: int) -> Rmf:
        """Per-detector redistribution matrix (4096 energies × 4096 PI channels)."""

    @abstractmethod
    def be_transmission(self) -> Arf:
        """Be window (+MLI) transmission (unitless) on the 4096-row response grid."""

    @abstractmethod
    def onaxis_arf(self) -> Arf:
        """On-axis single-module effective area (cm²) for the focused CXB."""

    @abstractmethod
    def identity_rmf(self) -> Rmf:
        """The diagonal 4096×4096 response used for the internal continuum."""

    @abstractmethod
    def presets(self) -> dict:
        """Line/continuum presets in the structure of nuskybgd-py's ``ratios.json``."""

    @abstractmethod
    def items(self) -> list[CalibrationItem]:
        """Per-item sources and reasons."""

    def source_for(self, *items: str) -> str:
        """Source label ("CALDB", "AUXIL", "BUILTIN" or a mix) of the named items; default ``source``."""
        return self.source

    def detail_for(self, *items: str) -> str:
        """Human-readable detail of the named items' sources; default ``detail``."""
        return self.detail

    # ---- optional items with defaults (sources override them; added by the calibration area)

    def aperture_image_full(self) -> np.ndarray:
        """Aperture solid angle (deg²) on the 576×576 grid, DET1 idx k at grid index k + 108.

        Default: :meth:`aperture_image` padded by repeating its edge values.  Sources that have
        the full ray-trace grid return it, so the nomapbgd shift can move real data in.
        """
        return np.pad(np.asarray(self.aperture_image(), dtype=np.float64), 108, mode="edge")

    def aperture_params(self) -> dict[str, float]:
        """Aperture model ``norm`` (10–15 keV cts deg⁻² mm⁻² per 1e5 s), ``const``,
        ``shift_x_mm``, ``shift_y_mm``, ``rotation_deg`` (nuskybgd-py ``nomapbgdparams.dat``).

        Default: the published values for this module.
        """
        return dict(NOMINAL_APERTURE_PARAMS[normalise_module(getattr(self, "module", "A"))])

    def detabs(self, det: int) -> Arf:
        """Detector absorption (transmission per response row) of detector ``det``.

        Default: unity (nuskybgd-py's fit applies no DETABS).
        """
        return unit_detabs(int(det), normalise_module(getattr(self, "module", "A")))
