"""Smoke test in a real terminal: the wizard in tmux, driven by keys, read from the screen.

Waits for text on the screen (polls ``capture-pane``), never sleeps as synchronisation.  Needs
the ``tmux`` binary (Debian package ``tmux``; ``.ci/run`` installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

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

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
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


def test_wizard_in_a_real_terminal(terminal, tmp_path: Path):
    env = (f"cd {tmp_path} && env LANG=C.UTF-8 TERM=xterm-256color TEXTUAL_ANIMATIONS=none "
           f"PYTHONPATH={SRC}{os.pathsep}{HERE}")
    terminal.start(f"{env} {sys.executable} {HERE / 'test_tui_support.py'} --no-mouse")
    screen = terminal.wait_for("$ nuskybgd observation")     # the step is open: keys count
    assert "60001047002 DEMO" in screen and "○  1 Observation" in screen
    terminal.keys("Down")
    terminal.wait_for("Images — FPMA")
    terminal.keys("r")
    screen = terminal.wait_for("✔ images.A done")
    assert "$ nuskybgd images --mod A" in screen
    terminal.keys("m")
    terminal.wait_for("Images — FPMB")
    terminal.keys("9")
    terminal.wait_for("Fit — FPMA")
    terminal.keys("q")
    # the pane stays open (remain-on-exit) so its exit status can be read
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = terminal.tmux("list-panes", "-t", "w", "-F",
                              "#{pane_dead} #{pane_dead_status}").split()
        if state and state[0] == "1":
            break
        time.sleep(0.1)
    assert state == ["1", "0"], f"the wizard did not exit cleanly: {state}\n{terminal.screen()}"
