"""``nuskybgd tui [PATH]``: open the terminal wizard (the same as ``nuskybgd-tui``)."""

from __future__ import annotations

import argparse

SUMMARY = "open the step-by-step terminal wizard on an observation (same as nuskybgd-tui)"
DESCRIPTION = """\
Open the wizard on an observation: a sequence folder, its event_cl/ folder, or a session file.
  nuskybgd tui 30101031002/            # a sequence folder
  nuskybgd tui --demo                  # the built-in demo observation
Every option of nuskybgd-tui is accepted (nuskybgd tui -- --help lists them)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for nuskybgd-tui")


def run(args: argparse.Namespace) -> int:
    from nuskybgd_tui.app import main

    return int(main([a for a in args.args if a != "--"]) or 0)
