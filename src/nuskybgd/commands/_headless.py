"""Run a session's steps in the terminal with rich progress (``nuskybgd run`` and ``nuskybgd demo``)."""

from __future__ import annotations

import sys
import time

from nuskybgd.events import LogEvent, OutputEvent, ProgressEvent, Reporter, StepEvent


def run_headless(runner, until: str | None = None, quiet: bool = False) -> dict[str, str]:
    """Run every step not done yet, printing one line per step, its warnings and outputs, and a
    progress bar on a terminal.  Returns the final statuses."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=not console.is_terminal)
    task = progress.add_task("", total=1.0, visible=False)
    started = {"t": time.perf_counter()}

    def sink(event: StepEvent) -> None:
        if isinstance(event, ProgressEvent):
            progress.update(task, completed=event.fraction, description=event.text or "")
        elif isinstance(event, LogEvent):
            if event.level in ("warning", "error"):
                progress.console.print(f"    [yellow]{event.level}:[/yellow] {event.text}")
            elif not quiet and event.level == "info":
                progress.console.print(f"    {event.text}")
        elif isinstance(event, OutputEvent) and not quiet:
            progress.console.print(f"    [green]wrote[/green] {event.path}")

    def on_step(n: int, total: int, inst, action: str) -> None:
        label = f"[{n}/{total}] {inst.title}"
        if action == "skip":
            progress.console.print(f"{label}: already done")
        elif action == "adopt":
            progress.console.print(f"{label}: existing products recorded in the session")
        else:
            progress.console.print(f"{label}: [bold]{runner.command_line(inst.key)}[/bold]")
            progress.update(task, completed=0, visible=True, description=inst.title)
        started["t"] = time.perf_counter()

    with progress:
        statuses = runner.run_all(Reporter(sink), until=until, on_step=on_step)
    done = sum(s == "done" for s in statuses.values())
    print(f"{done} of {len(statuses)} steps done; session: {runner.session.path}", file=sys.stderr)
    return statuses
