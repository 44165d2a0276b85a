"""Benchmark: how fast the wizard answers keys while a step computes.

Drives the app with Pilot over a minimal runner whose step is a pure-Python busy loop (holding
the interpreter as a fit does, checking its cancel token), and measures the time from a key
(up/down in the steps list) to the step pane showing the step moved to (its command line
written): first idle, then while the step runs (checked at every press).  Prints the median and
95th percentile of both and their ratio.  Target: under 100 ms during a step.

The key is posted to the app and the answer polled, not awaited with ``pilot.press``: that also
waits for the process to go idle, which it never does while a step computes (it then waits its
1 s limit twice), so it measured Pilot rather than the wizard.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from textual import events
from textual.widgets import Static

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


async def key_latencies(app: WizardApp, count: int, running: bool = False) -> list[float]:
    """Seconds from each key to the pane showing the step moved to (alternately down and up)."""
    sidebar = app.query_one(StepSidebar)
    line = app.query_one("#command-line", Static)
    out = []
    for n in range(count):
        key = "down" if n % 2 == 0 else "up"
        want = app.stages[sidebar.highlighted + (1 if key == "down" else -1)].id
        t0 = time.perf_counter()
        app.post_message(events.Key(key, None))
        while str(line.render()) != f"$ nuskybgd {want}":
            await asyncio.sleep(0.0005)
        out.append(time.perf_counter() - t0)
        if running and app.running_key is None:
            raise RuntimeError("the step ended during the measurement; make it longer")
        await asyncio.sleep(0.05)       # the frame drawn, as between a user's key presses
    return out


async def measure() -> tuple[list[float], list[float]]:
    runner = BusyRunner(seconds=600.0)
    app = WizardApp(runner, STAGES)
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.ready:
            await pilot.pause(0.01)
        app.query_one(StepSidebar).focus()
        await pilot.pause(0.1)
        idle = await key_latencies(app, 40)
        app.start_step("observation")
        while app.running_key is None:
            await asyncio.sleep(0.01)
        busy = await key_latencies(app, 40, running=True)
        app.action_cancel_step()
        while app.running_key is not None:
            await asyncio.sleep(0.01)
    return idle, busy


def describe(name: str, values: list[float]) -> str:
    ms = sorted(v * 1e3 for v in values)
    return (f"  {name:<14} median {statistics.median(ms):6.1f} ms   "
            f"95% {ms[int(0.95 * (len(ms) - 1))]:6.1f} ms")


def main() -> None:
    idle, busy = asyncio.run(measure())
    print("key press -> step pane shows the step moved to (40 presses each)")
    print(describe("idle", idle))
    print(describe("during a step", busy))
    print(f"  ratio (median) during/idle: {statistics.median(busy) / statistics.median(idle):.1f}x")


if __name__ == "__main__":
    main()
