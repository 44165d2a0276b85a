"""``nuskybgd run SESSION``: run (or resume) every step of an observation's session, headless."""

from __future__ import annotations

import argparse

SUMMARY = "run or resume every step recorded in a session file (nuskybgd-session.toml), headless"
DESCRIPTION = """\
Run the walkthrough's steps on one observation, in order, skipping those that are done and
redoing those whose inputs or parameters changed (stale).  The session file lives in the
observation's event_cl/ folder; the wizard writes the same file, so what you did there can be
repeated here and gives the same products.

  nuskybgd run nu90000000002/event_cl/nuskybgd-session.toml
  nuskybgd run nu90000000002/event_cl --until projbgd
  nuskybgd run event_cl --status            # only show what is done, stale or ready
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nuskybgd.pipeline.stages import STAGES

    parser.add_argument("session", help="nuskybgd-session.toml, or the event_cl/ folder (created if absent)")
    parser.add_argument("--until", choices=[s.id for s in STAGES], default=None,
                        help="stop after this stage (default: run every stage)")
    parser.add_argument("--status", action="store_true", help="show each step's status and stop")
    parser.add_argument("--overwrite", action="store_true",
                        help="also replace outputs the session did not write (default: refuse)")
    parser.add_argument("--quiet", action="store_true", help="print only step lines and warnings")


def print_status(runner) -> None:
    """One line per step: glyph, status, key, title."""
    glyph = {"pending": "·", "ready": "○", "running": "▶", "done": "✔", "stale": "↻", "failed": "✘"}
    for key, status in runner.statuses().items():
        print(f"{glyph[status]} {status:<8} {key:<24} {runner.instance(key).title}")


def run(args: argparse.Namespace) -> int:
    from nuskybgd.commands._headless import run_headless
    from nuskybgd.pipeline import Runner, Session

    with Session.open(args.session) as session:
        runner = Runner(session, overwrite=args.overwrite)
        if args.status:
            print_status(runner)
            return 0
        statuses = run_headless(runner, until=args.until, quiet=args.quiet)
    return 0 if all(s == "done" for k, s in statuses.items()
                    if args.until is None or _stage_le(runner, k, args.until)) else 1


def _stage_le(runner, key: str, until: str) -> bool:
    from nuskybgd.pipeline.stages import STAGES

    order = [s.id for s in STAGES]
    return order.index(runner.instance(key).stage) <= order.index(until)
