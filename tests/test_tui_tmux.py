"""Smoke test in a real terminal: the wizard in tmux, driven by keys, read from the screen.

Waits for text on the screen (polls ``capture-pane``), never sleeps as synchronisation.  Needs
the ``tmux`` binary (Debian package ``tmux``; ``.ci/run`` installs it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import tomllib

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


class Terminal:
    """A private tmux server with one 80×24 pane."""

    def __init__(self) -> None:
        self.socket = f"nuskybgd-test-{uuid.uuid4().hex[:8]}"

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                             text=True, timeout=20)
        return out.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", "w", "-x", "80", "-y", "24")
        self.tmux("set-option", "-g", "remain-on-exit", "on")
        self.tmux("respawn-pane", "-k", "-t", "w", command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-t", "w", "-p")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "w", *keys)

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)        # polling interval, not synchronisation
        raise AssertionError(f"{text!r} did not appear; the screen was:\n{self.screen()}")

    def close(self) -> None:
        socket = self.tmux("display-message", "-p", "#{socket_path}").strip()
        self.tmux("kill-server")
        if socket:
            Path(socket).unlink(missing_ok=True)


@pytest.fixture
def terminal():
    if shutil.which("tmux") is None:
        pytest.skip("the tmux binary is not installed (apt-get install tmux)")
    term = Terminal()
    yield term
    term.close()


def _wizard_command(demo: Path) -> str:
    env = (f"cd {demo} && exec env LANG=C.UTF-8 TERM=xterm-256color TEXTUAL_ANIMATIONS=none "
           f"PYTHONPATH={SRC}")
    return f"{env} {sys.executable} -m nuskybgd_tui.app --demo {demo} --no-mouse"


def _demo_folder(small_observation: Path, tmp_path: Path) -> Path:
    """A demo folder holding a short simulated observation (the wizard's --demo finds it and
    does not simulate the 100 ks one)."""
    from conftest import copy_observation

    demo = tmp_path / "demo"
    copy_observation(small_observation, demo / SEQID)
    return demo


def _exit_state(terminal: Terminal) -> list[str]:
    deadline = time.monotonic() + 60          # generous: a loaded CI machine
    state: list[str] = []
    while time.monotonic() < deadline:
        state = terminal.tmux("list-panes", "-t", "w", "-F",
                              "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}").split()
        if len(state) >= 2 and state[0] == "1":     # dead, and its status or signal is known
            break
        if state[:1] == ["1"]:
            # Debian's tmux is built with libutempter, whose own SIGCHLD handler can swallow
            # the child's SIGCHLD while tmux removes the utmp record of the closed pty
            # (tmux/tmux#311, #4559): the pane stays an unreaped zombie with no status.  The
            # tmux maintainer's workaround is to send the server a SIGCHLD so it reaps.
            server = terminal.tmux("display-message", "-p", "#{pid}").strip()
            if server.isdigit():
                os.kill(int(server), signal.SIGCHLD)
        time.sleep(0.1)
    return state


SEQID = "90000000002"


def test_wizard_in_a_real_terminal(terminal, small_observation: Path, tmp_path: Path):
    demo = _demo_folder(small_observation, tmp_path)
    terminal.start(_wizard_command(demo))
    screen = terminal.wait_for("$ nuskybgd info .")          # the step is open: keys count
    assert f"{SEQID} demo (simulated) · FPMA+FPMB · cal." in screen and "○  1 Observation" in screen
    terminal.keys("r")
    terminal.wait_for("✔ info done")
    terminal.keys("Down")
    terminal.wait_for("Counts image 3–20 keV — FPMA")
    terminal.keys("r")
    screen = terminal.wait_for("✔ mkimgs.A.3to20keV done")
    assert "$ nuskybgd mkimgs nu90000000002A01_cl.evt" in screen
    assert (demo / SEQID / "event_cl" / f"nu{SEQID}A01_cl_3to20keV.fits").is_file()
    terminal.keys("m")
    terminal.wait_for("Counts image 20–40 keV — FPMA")
    terminal.keys("9")
    terminal.wait_for("9 · Fit")
    terminal.keys("q")
    # the pane stays open (remain-on-exit) so its exit status can be read
    state = _exit_state(terminal)
    assert state[:2] == ["1", "0"], f"the wizard did not exit cleanly: {state}\n{terminal.screen()}"


def test_killed_wizard_loses_nothing_completed(terminal, small_observation: Path,
                                               tmp_path: Path):
    """SIGKILL, then SIGHUP (the terminal closed): every finished step stays done, the lock is
    released, the reopened wizard resumes at the exact step instance it was on."""
    demo = _demo_folder(small_observation, tmp_path)
    event_cl = demo / SEQID / "event_cl"
    terminal.start(_wizard_command(demo))
    terminal.wait_for("$ nuskybgd info .")
    terminal.keys("r")
    terminal.wait_for("✔ info done")
    terminal.keys("2")
    terminal.wait_for("Counts image 3–20 keV — FPMA")
    terminal.keys("m")
    terminal.wait_for("Counts image 20–40 keV — FPMA")
    terminal.keys("r")
    terminal.wait_for("✔ mkimgs.A.20to40keV done")
    pid = int(terminal.tmux("display-message", "-p", "-t", "w", "#{pane_pid}").strip())
    os.kill(pid, signal.SIGKILL)
    assert _exit_state(terminal)[0] == "1"

    recorded = tomllib.loads((event_cl / "nuskybgd-session.toml").read_text())
    assert recorded["steps"]["info"]["status"] == "done"
    assert recorded["steps"]["mkimgs.A.20to40keV"]["status"] == "done"

    terminal.tmux("respawn-pane", "-k", "-t", "w", _wizard_command(demo))
    screen = terminal.wait_for("Counts image 20–40 keV — FPMA   ✔ done")   # the exact instance
    assert "✔  1 Observation" in screen
    terminal.keys("4")
    terminal.wait_for("Aspect histogram — FPMA")
    terminal.keys("r")
    terminal.wait_for("✔ aspecthist.A done")
    pid = int(terminal.tmux("display-message", "-p", "-t", "w", "#{pane_pid}").strip())
    os.kill(pid, signal.SIGHUP)
    assert _exit_state(terminal)[0] == "1"
    recorded = tomllib.loads((event_cl / "nuskybgd-session.toml").read_text())
    assert recorded["steps"]["aspecthist.A"]["status"] == "done"
    assert recorded["observation"]["current"] == "aspecthist.A"
    from nuskybgd.pipeline import Session

    Session.open(event_cl).close()           # nobody holds the lock any more
