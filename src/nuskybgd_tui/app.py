"""``nuskybgd-tui``: the wizard that guides a user through the walkthrough, step by step.

This module opens the session (or the demo observation) and runs :class:`WizardApp`; the app
itself lives in :mod:`nuskybgd_tui.wizard`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from nuskybgd_tui.wizard import WizardApp

__all__ = ["WizardApp", "main", "open_session", "make_demo"]


# -- command line ----------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nuskybgd-tui",
        description="The nuskybgd wizard: the walkthrough step by step in the terminal.")
    parser.add_argument("path", nargs="?", default=None,
                        help="a sequence directory, an event_cl directory or a session file "
                             "(default: the current directory)")
    parser.add_argument("--demo", nargs="?", const="nuskybgd-demo", default=None,
                        metavar="DIR",
                        help="open on the simulated demo observation in DIR (made first when "
                             "absent; default ./nuskybgd-demo)")
    parser.add_argument("--no-mouse", action="store_true", help="ignore the mouse")
    parser.add_argument("--no-color", action="store_true",
                        help="no colour (as NO_COLOR=1); statuses stay readable as glyphs")
    return parser


#: the demo observation's sequence id and description (as ``nuskybgd demo`` makes it)
DEMO_SEQID = "90000000002"
DEMO_OBSERVATION = {"seqid": DEMO_SEQID, "modules": ["A", "B"],
                    "target": "demo (simulated)"}


def make_demo(folder: str) -> str:
    """The demo observation's ``event_cl/`` in ``folder``, simulated first when absent (100 ks,
    point source, built-in calibration, seed 1 — the same as ``nuskybgd demo``)."""
    from pathlib import Path

    from nuskybgd.pipeline.steps.simulate import SimulateStep

    event_dir = Path(folder) / DEMO_SEQID / "event_cl"
    if (event_dir / f"nu{DEMO_SEQID}A01_cl.evt").is_file():
        return str(event_dir)
    print(f"nuskybgd-tui: simulating the demo observation in {folder} (once)…", file=sys.stderr)
    result = SimulateStep(folder, seqid=DEMO_SEQID, exposure=100e3, seed=1, source="point",
                          calibration="nominal").run()
    return str(result.values["event_dir"])


def open_session(path: str | None, observation: dict[str, Any] | None = None
                 ) -> tuple[Any, list[Any], str | None]:
    """(runner, stages, message): the session to show, or a one-sentence problem."""
    from nuskybgd.pipeline import STAGES, Runner, Session
    from nuskybgd_tui.pipeline_api import NuskybgdError

    where = path or os.getcwd()
    if os.path.isdir(where) and os.path.isdir(os.path.join(where, "event_cl")):
        where = os.path.join(where, "event_cl")            # a sequence directory
    try:
        session = Session.open(where, observation=observation)
        return Runner(session), list(STAGES), None
    except NuskybgdError as exc:                           # SessionLocked is one of these
        return None, list(STAGES), str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the wizard; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.no_color:
        os.environ["NO_COLOR"] = "1"
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("nuskybgd-tui: no terminal attached; run the steps with `nuskybgd run "
              "SESSION` instead.", file=sys.stderr)
        return 2
    if args.demo is not None:
        from nuskybgd_tui.pipeline_api import NuskybgdError

        try:
            runner, stages, message = open_session(make_demo(args.demo), DEMO_OBSERVATION)
        except NuskybgdError as exc:
            print(f"nuskybgd-tui: {exc}", file=sys.stderr)
            return 2
    else:
        runner, stages, message = open_session(args.path)
    app = WizardApp(runner, stages, message=message)
    try:
        app.run(mouse=not args.no_mouse)
    finally:
        if runner is not None:
            runner.session.close()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
