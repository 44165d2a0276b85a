"""The ``nuskybgd`` command line.

Each sub-command lives in its own module ``nuskybgd.commands.<name>`` that defines

* ``SUMMARY`` – one line for ``nuskybgd --help``;
* ``add_arguments(parser)`` – its options (modern ``--flags``);
* ``run(args) -> int`` – calls the library / pipeline step and returns the exit status.

Only the module of the requested command is imported, so ``nuskybgd --help`` is fast and a
broken optional command cannot break the others.  The original nuskybgd-py syntax
``key=value`` is accepted everywhere and translated to ``--key value``; ``clobber=yes``
means ``--overwrite``.  Errors a user can cause are printed as one sentence, exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from nuskybgd import __version__
from nuskybgd.errors import NuskybgdError

#: command name -> module under nuskybgd.commands (module name defaults to the command name)
COMMANDS: dict[str, str] = {
    "info": "info",
    "calib": "calib",
    "simulate": "simulate",
    "demo": "demo",
    "mkimgs": "mkimgs",
    "mkinstrmap": "mkinstrmap",
    "aspecthist": "aspecthist",
    "projbgd": "projbgd",
    "validate": "validate",
    "fit": "fit",
    "spec": "spec",
    "simplify": "simplify",
    "image": "image",
}

_KEYVALUE = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)=(.*)$")
_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}


def translate_keyvalue(argv: Sequence[str]) -> list[str]:
    """Turn nuskybgd-py style ``key=value`` tokens into ``--key value``.

    ``clobber=yes`` (or ``overwrite=yes``) becomes ``--overwrite``; ``clobber=no`` is dropped.
    Tokens after ``--`` and tokens that already start with ``-`` are left alone.
    """
    out: list[str] = []
    passthrough = False
    for tok in argv:
        if passthrough or tok.startswith("-"):
            if tok == "--":
                passthrough = True
            out.append(tok)
            continue
        m = _KEYVALUE.match(tok)
        if not m:
            out.append(tok)
            continue
        key, value = m.group(1).replace("_", "-"), m.group(2)
        if key in ("clobber", "overwrite"):
            if value.lower() in _TRUE:
                out.append("--overwrite")
            elif value.lower() not in _FALSE:
                raise NuskybgdError(f"clobber={value} is not understood; use clobber=yes or clobber=no.")
            continue
        out.extend([f"--{key}", value])
    return out


def _load(command: str):
    return importlib.import_module(f"nuskybgd.commands.{COMMANDS[command]}")


def _available() -> dict[str, str]:
    """Command -> summary for the commands whose modules import."""
    found: dict[str, str] = {}
    for name in COMMANDS:
        spec = importlib.util.find_spec(f"nuskybgd.commands.{COMMANDS[name]}")
        if spec is None:
            continue
        try:
            found[name] = getattr(_load(name), "SUMMARY", "")
        except Exception as exc:  # pragma: no cover - reported, not fatal for --help
            found[name] = f"(unavailable: {exc})"
    return found


def _top_help() -> str:
    lines = [
        f"nuskybgd {__version__} — NuSTAR background modelling without HEASoft or XSPEC",
        "",
        "usage: nuskybgd COMMAND [options]   (nuskybgd COMMAND --help for its options)",
        "",
        "commands:",
    ]
    for name, summary in _available().items():
        lines.append(f"  {name:<12} {summary}")
    lines += [
        "",
        "Original nuskybgd-py syntax (key=value, clobber=yes) is accepted by every command.",
        "Errors caused by input end with one sentence and exit status 2.",
    ]
    return "\n".join(lines)


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (and exit status 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """Print ``message`` as one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}; run '{self.prog} --help' for the options.\n")


def build_parser(command: str) -> argparse.ArgumentParser:
    """The argument parser of one command."""
    module = _load(command)
    parser = _OneLineParser(
        prog=f"nuskybgd {command}",
        description=getattr(module, "DESCRIPTION", None) or getattr(module, "SUMMARY", None),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nuskybgd`` script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_top_help())
        return 0 if argv else 1
    if argv[0] in ("-V", "--version"):
        print(f"nuskybgd {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"nuskybgd: error: unknown command '{command}'; run 'nuskybgd --help' for the list.",
              file=sys.stderr)
        return 2
    if importlib.util.find_spec(f"nuskybgd.commands.{COMMANDS[command]}") is None:
        print(f"nuskybgd: error: '{command}' is not available in this version yet; run "
              "'nuskybgd --help' for the commands that are.", file=sys.stderr)
        return 2
    try:
        parser = build_parser(command)
        args = parser.parse_args(translate_keyvalue(rest))
        status = _load(command).run(args)
        return int(status or 0)
    except NuskybgdError as exc:
        print(f"nuskybgd {command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"nuskybgd {command}: interrupted; no output was left half-written.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
