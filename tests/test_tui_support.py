"""A scripted stand-in for the pipeline's Runner, kept only for what the real one cannot do.

Every real step honours its cancel token, so a step that ignores cancel (quitting must still
return) can only be scripted; the layout snapshots use it too because their header must not
carry the session's save time.  Everything else is tested on the real Session and Runner
(tests/test_tui_app.py, tests/test_tui_real.py).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nuskybgd.errors import InputError
from nuskybgd.events import Cancelled

STAGE_ROWS = [
    ("observation", "Observation", "Find the observation's files and open its session."),
    ("images", "Images", "Counts images in 3-20 and 20-40 keV."),
    ("instrmap", "Instrument maps", "Where each detector pixel is live."),
    ("aspecthist", "Aspect histograms", "How the optical axis moved."),
    ("projbgd", "Projected bgd", "Aperture and detector images on the sky."),
    ("regions", "Regions", "Background regions per detector."),
    ("spectra", "Spectra", "A spectrum per region."),
    ("config", "Configuration", "Write bgdinfo.json."),
    ("fit", "Fit", "Fit the background model."),
    ("spec", "Project to source", "The background in the source region."),
    ("simplify", "Simplify", "Keep only the projected background."),
]


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    help: str


STAGES = [Stage(*row) for row in STAGE_ROWS]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "str"
    default: Any = None
    unit: str = ""
    help: str = ""
    choices: tuple = ()


@dataclass
class StepInstance:
    key: str
    stage: str
    module: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    help: str = ""


PARAMS = {
    "images": [Param("elow", "float", 3.0, "keV", "lower energy"),
               Param("ehigh", "float", 20.0, "keV", "upper energy")],
    "fit": [Param("statistic", "choice", "cstat", "", "fit statistic", ("cstat", "chi2")),
            Param("iterations", "int", 1000, "", "at most this many iterations")],
}


class FakeRunner:
    """Runner interface over scripted steps; ``script[key]`` picks the behaviour of a run:
    "ok" (default), "fail", "slow" (honours cancel, ~5 s) or "stubborn" (ignores cancel until
    :attr:`release` is set)."""

    def __init__(self, workdir: Path, modules: tuple[str, ...] = ("A", "B")) -> None:
        self.workdir = Path(workdir)
        self.observation = {"seqid": "60001047002", "target": "DEMO", "modules": modules,
                            "calibration": "built-in (approximate)", "event_dir": str(workdir),
                            "saved_at": "2026-12-03T12:04:00"}
        self.instances: list[StepInstance] = []
        for stage in STAGES:
            mods = ("",) if stage.id in ("observation", "config", "simplify") else modules
            for m in mods:
                key = f"{stage.id}.{m}" if m else stage.id
                values = {p.name: p.default for p in PARAMS.get(stage.id, [])}
                title = f"{stage.title} — FPM{m}" if m else stage.title
                self.instances.append(StepInstance(key, stage.id, m, title, values,
                                                   help=f"{stage.title}: the step's own help."))
        self._status = {i.key: "pending" for i in self.instances}
        self._status[self.instances[0].key] = "ready"
        self.script: dict[str, str] = {}
        self.release = threading.Event()
        self.current: str | None = None
        self.runs: list[str] = []

    def instance(self, key: str) -> StepInstance:
        return self._inst(key)

    def _inst(self, key: str) -> StepInstance:
        return next(i for i in self.instances if i.key == key)

    def status(self, key: str) -> str:
        return self._status[key]

    def stage_status(self, stage_id: str) -> str:
        states = [self._status[i.key] for i in self.instances if i.stage == stage_id]
        for s in ("running", "failed", "stale", "ready", "pending"):
            if s in states and (s != "pending" or all(x == "pending" for x in states)):
                return s
        return "done" if states else "pending"

    def declared_params(self, key: str) -> list[Param]:
        return list(PARAMS.get(self._inst(key).stage, []))

    def set_params(self, key: str, **values: Any) -> None:
        declared = {p.name: p for p in self.declared_params(key)}
        inst = self._inst(key)
        for name, value in values.items():
            p = declared[name]
            if p.kind == "float":
                try:
                    value = float(value)
                except ValueError:
                    raise InputError(f"--{name} {value!r} is not a number; give a number in "
                                     f"{p.unit}.") from None
            elif p.kind == "int":
                try:
                    value = int(value)
                except ValueError:
                    raise InputError(f"--{name} {value!r} is not an integer.") from None
            elif p.kind == "choice" and value not in p.choices:
                raise InputError(f"--{name} {value!r} is not one of {', '.join(p.choices)}.")
            inst.params[name] = value
        if self._status[key] == "done":
            self._mark_stale_from(key)

    def _mark_stale_from(self, key: str) -> None:
        order = [s.id for s in STAGES]
        start = order.index(self._inst(key).stage)
        for i in self.instances:
            if order.index(i.stage) >= start and self._status[i.key] == "done":
                self._status[i.key] = "stale"

    def command_line(self, key: str) -> str:
        inst = self._inst(key)
        opts = "".join(f" --{k} {v}" for k, v in inst.params.items())
        mod = f" --mod {inst.module}" if inst.module else ""
        return f"nuskybgd {inst.stage}{mod}{opts}"

    def outputs(self, key: str) -> list[Path]:
        return list(self._inst(key).outputs)

    def set_current(self, key: str) -> None:
        self.current = key

    def run(self, key: str, reporter: Any) -> dict[str, Any]:
        self.runs.append(key)
        self._status[key] = "running"
        mode = self.script.get(key, "ok")
        try:
            reporter.log(f"starting {key}")
            if mode == "fail":
                raise InputError(f"the event file for {key} is missing; run Observation first.")
            if mode == "slow":
                for n in range(500):
                    reporter.check_cancelled()
                    reporter.progress(n / 500, "")
                    time.sleep(0.01)
            if mode == "stubborn":
                self.release.wait(30)
            reporter.progress(0.5, "half way")
            out = self.workdir / f"{key}.txt"
            out.write_text(f"made by {key}\n")
            self._inst(key).outputs = [out]
            reporter.output(out)
            reporter.result({"stat": 3712.4, "dof": 3650}, "C-stat 3712.4 / 3650 dof")
        except Cancelled:
            self._status[key] = "ready"
            raise
        except BaseException:
            self._status[key] = "failed"
            raise
        self._status[key] = "done"
        order = [i.key for i in self.instances]
        nxt = order.index(key) + 1
        if nxt < len(order) and self._status[order[nxt]] == "pending":
            self._status[order[nxt]] = "ready"
        return {"outputs": [out]}


if __name__ == "__main__":  # the tmux smoke test runs the wizard on the fake runner
    import tempfile

    from nuskybgd_tui.app import WizardApp

    runner = FakeRunner(Path(tempfile.mkdtemp()))
    app = WizardApp(runner, STAGES)
    app.run(mouse="--no-mouse" not in sys.argv)
    print("wizard closed cleanly")
