"""The library never imports Textual; the CLI dispatches and reports errors as documented."""

from __future__ import annotations

import subprocess
import sys

from nuskybgd.cli import main, translate_keyvalue

BLOCK_TEXTUAL = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is blocked in this test")
        return None
sys.meta_path.insert(0, Block())
import pkgutil, importlib
import nuskybgd
for m in pkgutil.walk_packages(nuskybgd.__path__, "nuskybgd."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
assert "textual" not in sys.modules
print("ok")
"""


def test_library_never_imports_textual():
    out = subprocess.run([sys.executable, "-c", BLOCK_TEXTUAL], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_keyvalue_translation():
    argv = ["refimg=a.fits", "out=b.fits", "mod=A", "clobber=yes", "x.evt", "--det1"]
    assert translate_keyvalue(argv) == [
        "--refimg", "a.fits", "--out", "b.fits", "--mod", "A", "--overwrite", "x.evt", "--det1"
    ]
    assert translate_keyvalue(["clobber=no"]) == []


def test_unknown_command_exit_2(capsys):
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "unknown command" in err and "\n" == err[-1] and err.count("\n") == 1


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    assert "commands:" in capsys.readouterr().out


def test_usage_errors_are_one_line_exit_2(capsys):
    assert main(["simulate", "out", "--seed", "abc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed" in err and "--help" in err
