"""Small helpers shared by command modules."""

from __future__ import annotations

import argparse


def add_overwrite(parser: argparse.ArgumentParser) -> None:
    """Add ``--overwrite`` (the original ``clobber=yes``)."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs (original syntax: clobber=yes); default is to refuse",
    )
