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
from nuskybgd.events import Cancelled

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
    "regions": "regions",
    "spectrum": "spectrum",
    "validate": "validate",
    "fit": "fit",
    "spec": "spec",
    "simplify": "simplify",
    "image": "image",
    "run": "run",
    "tui": "tui",
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
            if tok.startswith("="):
                raise NuskybgdError(f"'{tok}' is not understood: a key=value argument needs a name before '='.")
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
        head, sep, rest = message.partition(": ")
        if head.startswith("argument ") and sep and head.split()[-1].split("/")[0] in rest:
            message = rest  # our own message already names the option
        self.exit(2, f"{self.prog}: error: {message}; run '{self.prog} --help' for the options.\n")


def _step_class(module):
    """The step class a command module declares with ``STEP = "module.path:ClassName"``."""
    mod_name, _, cls_name = module.STEP.partition(":")
    return getattr(importlib.import_module(mod_name), cls_name)


def _converter(param):
    """An argparse ``type`` that validates with the declaration (one-line usage error)."""

    def convert(text: str):
        try:
            return param.convert(text)
        except NuskybgdError as exc:
            raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None

    convert.__name__ = param.kind
    return convert


def add_step_arguments(parser: argparse.ArgumentParser, step_cls) -> None:
    """Options of ``parser`` built from the step's declared parameters (strings; the step validates)."""
    for p in step_cls.params:
        if not p.cli:
            continue
        default_text = "" if p.required else f" (default {p.describe_default()}{' ' + p.unit if p.unit else ''})"
        text = (p.help + default_text).replace("%", "%%")
        if p.positional:
            nargs = ("+" if p.required else "*") if p.kind == "paths" else (None if p.required else "?")
            parser.add_argument(p.name, nargs=nargs, default=None, help=text,
                                type=None if p.kind == "paths" else _converter(p))
            for alias in p.aliases:
                parser.add_argument(f"--{alias.replace('_', '-')}", dest=f"{p.name}__alias", default=None,
                                    help=f"same as {p.name.upper()}")
            continue
        names = [p.option] + [f"--{a.replace('_', '-')}" for a in p.aliases if a != "clobber"]
        if p.kind == "bool":
            parser.add_argument(*names, dest=p.name, nargs="?", const="yes", default=None,
                                metavar="yes|no", help=text, type=_converter(p))
        else:
            metavar = "|".join(map(str, p.choices)) if p.choices else (p.unit or p.kind).upper()
            parser.add_argument(*names, dest=p.name, default=None, required=p.required,
                                metavar=metavar, help=text, type=_converter(p))


def build_parser(command: str) -> argparse.ArgumentParser:
    """The argument parser of one command."""
    module = _load(command)
    step_cls = _step_class(module) if hasattr(module, "STEP") else None
    description = getattr(module, "DESCRIPTION", None) or getattr(module, "SUMMARY", None)
    if step_cls is not None and not getattr(module, "DESCRIPTION", None):
        description = step_cls.help
    parser = _OneLineParser(
        prog=f"nuskybgd {command}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if step_cls is not None:
        add_step_arguments(parser, step_cls)
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def run_step_command(module, args: argparse.Namespace) -> int:
    """Build the command's step from the parsed options, run it, and let the module present it."""
    step_cls = _step_class(module)
    values = {p.name: getattr(args, p.name) for p in step_cls.params
              if p.cli and getattr(args, p.name, None) is not None}
    for p in step_cls.params:
        alias_value = getattr(args, f"{p.name}__alias", None)
        if alias_value is None:
            continue
        if p.name in values and values[p.name] != alias_value:
            raise NuskybgdError(f"{p.name.upper()} and --{p.aliases[0]} disagree; give one of them.")
        values[p.name] = alias_value
    step = step_cls(**values)
    make_reporter = getattr(module, "reporter", None)
    result = step.run(make_reporter(args) if make_reporter is not None else None)
    present = getattr(module, "present", None)
    if present is not None:
        return int(present(result, args) or 0)
    return 0


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
        try:
            args = parser.parse_args(translate_keyvalue(rest))
        except SystemExit as exit_:  # --help (0) or a one-line usage error (2), already printed
            return int(exit_.code or 0)
        module = _load(command)
        status = run_step_command(module, args) if hasattr(module, "STEP") else module.run(args)
        return int(status or 0)
    except NuskybgdError as exc:
        print(f"nuskybgd {command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except Cancelled:
        print(f"nuskybgd {command}: cancelled; no output was left half-written.", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"nuskybgd {command}: interrupted; no output was left half-written.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
