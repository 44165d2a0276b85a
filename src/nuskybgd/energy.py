"""The PI ↔ energy rule used everywhere in nuskybgd.

Channel ``k`` covers ``[1.6 + 0.04 k, 1.64 + 0.04 k)`` keV.  An energy band ``[elow, ehigh)``
selects every channel that lies wholly inside it: ``pi_min = ceil((elow - 1.6)/0.04)`` and
``pi_max = floor((ehigh - 1.6)/0.04) - 1``, with a tolerance of 1e-6 channel so that band edges
on the grid (3, 20, 79 keV …) are not moved by floating-point error.  For 3–20 keV this gives
PI 35–459, the CHANMIN/CHANMAX that nustar-gen-utils writes for its images (it truncates
``(E-1.6)/0.04`` and so reaches the same numbers for on-grid edges).
"""

from __future__ import annotations

import math

import numpy as np

from nuskybgd.constants import N_PI, PI_DE_KEV, PI_E0_KEV

_TOL = 1e-6


def response_energy_grid() -> tuple[np.ndarray, np.ndarray]:
    """The 4096-row response energy grid ``(energ_lo, energ_hi)`` in keV: 1.6 + 0.04 k."""
    lo = PI_E0_KEV + PI_DE_KEV * np.arange(N_PI, dtype=np.float64)
    return lo, lo + PI_DE_KEV


def pi_to_energy(pi: np.ndarray | int) -> np.ndarray | float:
    """Lower-edge energy of PI channel(s), in keV: ``1.6 + 0.04 PI``."""
    e = PI_E0_KEV + PI_DE_KEV * np.asarray(pi, dtype=float)
    return float(e) if e.ndim == 0 else e


def energy_to_pi(energy_kev: float) -> int:
    """PI channel containing ``energy_kev`` (keV); on-grid edges belong to the channel above."""
    return int(math.floor((energy_kev - PI_E0_KEV) / PI_DE_KEV + _TOL))


def band_to_pi(elow_kev: float, ehigh_kev: float) -> tuple[int, int]:
    """Inclusive PI range ``(pi_min, pi_max)`` of the channels wholly inside ``[elow, ehigh)`` keV.

    Raises ``ValueError`` when the band holds no whole channel or lies off the 1.6–165.44 keV grid.
    """
    if not ehigh_kev > elow_kev:
        raise ValueError(f"energy band {elow_kev}–{ehigh_kev} keV is empty; give elow < ehigh")
    pi_min = max(0, int(math.ceil((elow_kev - PI_E0_KEV) / PI_DE_KEV - _TOL)))
    pi_max = min(N_PI - 1, int(math.floor((ehigh_kev - PI_E0_KEV) / PI_DE_KEV + _TOL)) - 1)
    if pi_max < pi_min:
        raise ValueError(
            f"energy band {elow_kev}–{ehigh_kev} keV contains no whole PI channel "
            f"(channels are {PI_DE_KEV} keV wide from {PI_E0_KEV} keV)"
        )
    return pi_min, pi_max
