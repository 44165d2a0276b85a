"""The step instances of one observation, in the walkthrough's order (ARCHITECTURE §10).

A step instance is a step plus its module (``projbgd.A``; the two counts-image bands are
``mkimgs.A.3to20keV`` and ``mkimgs.A.20to40keV``).  Its parameters are plain values; paths are
relative to the observation's ``event_cl/`` folder (where the session file lives), so a session
moved with its folder still works and the command lines read as the walkthrough's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nuskybgd.pipeline.stages import STAGES

__all__ = ["StepInstance", "observation_plan", "PLAN_BUILDERS", "step_class"]


@dataclass
class StepInstance:
    """One step of one module in an observation's plan.

    Attributes
    ----------
    key : str
        Unique id (``"projbgd.A"``); the session file's table name.
    stage : str
        The stage id (:data:`~nuskybgd.pipeline.stages.STAGES`).
    module : str
        "A", "B", or "" for steps of the whole observation.
    step : str
        The step class as ``"module.path:ClassName"``.
    params : dict
        Parameter values (plain: str, int, float, bool, lists); paths relative to ``event_cl/``.
    title : str
        The label a user sees ("Counts image 3–20 keV — FPMA").
    title_format : str
        When the title shows parameter values: a :meth:`str.format` template over ``params``
        (``"Counts image {elow:g}–{ehigh:g} keV — FPMA"``); :meth:`retitle` applies it.
    """

    key: str
    stage: str
    module: str
    step: str
    params: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    title_format: str = ""

    def __post_init__(self) -> None:
        self.retitle()

    def retitle(self) -> None:
        """Recompute :attr:`title` from :attr:`title_format` and the current parameters (kept as
        it is when a value the template needs is missing or not a number)."""
        if not self.title_format:
            return
        try:
            self.title = self.title_format.format(**self.params)
        except (KeyError, ValueError, TypeError, IndexError):
            pass


def step_class(path: str):
    """The step class named ``"module.path:ClassName"``."""
    mod, _, name = path.partition(":")
    return getattr(importlib.import_module(mod), name)


_STEPS = "nuskybgd.pipeline.steps"


def _image_steps(seqid: str, m: str) -> list[StepInstance]:
    evt = f"nu{seqid}{m}01_cl.evt"
    out = []
    for lo, hi in ((3, 20), (20, 40)):
        out.append(StepInstance(f"mkimgs.{m}.{lo}to{hi}keV", "images", m, f"{_STEPS}.mkimgs:MkImgsStep",
                                {"event_file": evt, "elow": float(lo), "ehigh": float(hi)},
                                f"Counts image {lo}–{hi} keV — FPM{m}",
                                title_format=f"Counts image {{elow:g}}–{{ehigh:g}} keV — FPM{m}"))
    out.append(StepInstance(f"mkinstrmap.{m}", "instrmap", m, f"{_STEPS}.mkinstrmap:MkInstrMapStep",
                            {"event_file": evt, "module": m}, f"Instrument map — FPM{m}"))
    out.append(StepInstance(f"aspecthist.{m}", "aspecthist", m, f"{_STEPS}.aspecthist:AspectHistStep",
                            {"det1_file": f"nu{seqid}{m}_det1.fits", "gti_file": f"nu{seqid}{m}01_gti.fits",
                             "out": f"aspecthist{m}.fits"}, f"Aspect histogram — FPM{m}"))
    out.append(StepInstance(f"projbgd.{m}", "projbgd", m, f"{_STEPS}.projbgd:ProjBgdStep",
                            {"out": f"bgd/bgdap{m}.fits", "mod": m, "chipmap": f"newinstrmap{m}.fits",
                             "aspect": f"aspecthist{m}.fits", "refimg": f"nu{seqid}{m}01_cl_3to20keV.fits",
                             "evtfile": evt, "det1_file": f"nu{seqid}{m}_det1.fits"},
                            f"Projected background — FPM{m}"))
    return out


#: functions (seqid, module) -> step instances of later stages; the regions, spectra, config, fit,
#: spec and simplify steps add theirs here when they land
from nuskybgd.pipeline.steps.regions import regions_plan  # noqa: E402  (needs StepInstance above)
from nuskybgd.pipeline.steps.spectrum import spectra_plan  # noqa: E402

PLAN_BUILDERS: list[Callable[[str, str], list[StepInstance]]] = [_image_steps, regions_plan, spectra_plan]
PLAN_BUILDERS.append(lambda seqid, m: step_class(f"{_STEPS}.config:config_steps")(seqid, m))
PLAN_BUILDERS.append(lambda seqid, m: step_class(f"{_STEPS}.fit:fit_steps")(seqid, m))
PLAN_BUILDERS.append(lambda seqid, m: step_class(f"{_STEPS}.spec:spec_steps")(seqid, m))
PLAN_BUILDERS.append(lambda seqid, m: step_class(f"{_STEPS}.simplify:simplify_steps")(seqid, m))


def observation_plan(seqid: str, modules: tuple[str, ...] = ("A", "B")) -> list[StepInstance]:
    """Every step instance of an observation, ordered by stage, then module."""
    instances = [StepInstance("info", "observation", "", f"{_STEPS}.info:ObservationInfoStep",
                              {"path": "."}, "Observation")]
    for m in modules:
        for build in PLAN_BUILDERS:
            instances.extend(build(seqid, m))
    order = {s.id: i for i, s in enumerate(STAGES)}
    return sorted(instances, key=lambda inst: order[inst.stage])  # stable: keeps module order
