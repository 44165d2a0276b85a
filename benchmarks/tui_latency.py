"""Benchmark: how fast the wizard answers keys while a step computes.

Drives the app with Pilot over a minimal runner whose step is a pure-Python busy loop (holding
the interpreter as a fit does, checking its cancel token), and measures the time from a key
press to the moved highlight in the steps list: first idle, then during the step.  Prints the
median and 95th percentile of both and their ratio.  Target: under 100 ms during a step.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from nuskybgd.pipeline import STAGES
from nuskybgd_tui.app import WizardApp
from nuskybgd_tui.widgets.sidebar import StepSidebar


@dataclass
class Instance:
    key: str
    stage: str
    module: str = ""
    title: str = ""
    params: dict[str, Any] = field(default_factory=dict)


class BusyRunner:
    """One instance per stage; running one spins for ``seconds`` (cancellable)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.instances = [Instance(s.id, s.id, "", s.title) for s in STAGES]
        self.observation = {"seqid": "90000000002", "target": "bench", "modules": ("A",),
                            "calibration": "none", "saved_at": None}
        self._running: set[str] = set()

    def status(self, key: str) -> str:
        return "running" if key in self._running else "ready"

    def stage_status(self, stage_id: str) -> str:
        return self.status(stage_id)

    current: str | None = None

    def set_current(self, key: str) -> None:
        self.current = key

    def instance(self, key: str) -> Instance:
        return next(i for i in self.instances if i.key == key)

    def outputs(self, key: str) -> list:
        return []

    def declared_params(self, key: str) -> list:
        return []

    def set_params(self, key: str, **values: Any) -> None:
        pass

    def command_line(self, key: str) -> str:
        return f"nuskybgd {key}"

    def run(self, key: str, reporter: Any) -> dict:
        self._running.add(key)
        try:
            end = time.perf_counter() + self.seconds
            n = 0
            while time.perf_counter() < end:
                n += sum(i * i for i in range(2000))        # pure Python, holds the GIL
                reporter.check_cancelled()
                if n % 50 == 0:
                    reporter.progress(1 - (end - time.perf_counter()) / self.seconds)
        finally:
            self._running.discard(key)
        return {}


async def key_latencies(app: WizardApp, pilot, count: int) -> list[float]:
    sidebar = app.query_one(StepSidebar)
    out = []
    for n in range(count):
        before = sidebar.highlighted
        t0 = time.perf_counter()
        await pilot.press("down" if n % 2 == 0 else "up")
        while sidebar.highlighted == before:
            await asyncio.sleep(0.001)
        out.append(time.perf_counter() - t0)
    return out


async def measure() -> tuple[list[float], list[float]]:
    runner = BusyRunner(seconds=30.0)
    app = WizardApp(runner, STAGES)
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.ready:
            await pilot.pause(0.01)
        app.query_one(StepSidebar).focus()
        idle = await key_latencies(app, pilot, 40)
        app.start_step("observation")
        while app.running_key is None:
            await pilot.pause(0.01)
        busy = await key_latencies(app, pilot, 40)
        app.action_cancel_step()
        while app.running_key is not None:
            await pilot.pause(0.01)
    return idle, busy


def describe(name: str, values: list[float]) -> str:
    ms = sorted(v * 1e3 for v in values)
    return (f"  {name:<14} median {statistics.median(ms):6.1f} ms   "
            f"95% {ms[int(0.95 * (len(ms) - 1))]:6.1f} ms")


def main() -> None:
    idle, busy = asyncio.run(measure())
    print("key press -> highlight moved (40 presses each)")
    print(describe("idle", idle))
    print(describe("during a step", busy))
    print(f"  ratio (median) during/idle: {statistics.median(busy) / statistics.median(idle):.1f}x")


if __name__ == "__main__":
    main()
