"""Synthetic NuSTAR observations with known truth (issue 4).

:func:`simulate_observation` writes event, GTI and DET1 reference-point files to the real
nupipeline schema plus ``truth.json``; see ``docs/simulator.md``.
"""

from nuskybgd.simulate.core import (
    ALL_COMPONENTS,
    BACKGROUND_COMPONENTS,
    SimulationResult,
    output_paths,
    simulate_observation,
)
from nuskybgd.simulate.expected import expected_counts

__all__ = ["ALL_COMPONENTS", "BACKGROUND_COMPONENTS", "SimulationResult", "expected_counts",
           "output_paths", "simulate_observation"]
