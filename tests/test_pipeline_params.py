"""Declared parameters: validation in one place, the CLI built from the declaration, command lines."""

from __future__ import annotations

import argparse
import math
import subprocess
import sys

import pytest

from nuskybgd.cli import add_step_arguments, main, translate_keyvalue
from nuskybgd.errors import InputError
from nuskybgd.pipeline import Param, Step, StepResult
from nuskybgd.pipeline.steps import MkImgsStep, ProjBgdStep


class ToyStep(Step):
    """A step declared in the test: every kind of parameter."""

    name = "toy"
    title = "Toy"
    help = "A toy step."
    params = (
        Param("infile", "path", positional=True, role="input", help="input"),
        Param("energy", "float", 10.0, unit="keV", minimum=1.0, maximum=100.0, help="an energy"),
        Param("count", "int", 3, minimum=1, help="a count"),
        Param("flag", "bool", False, help="a flag"),
        Param("shape", "choice", "circle", choices=("circle", "box"), help="a shape"),
        Param("mod", "module", "A", help="module"),
        Param("refimg", "path", None, aliases=("reference",), role="input", help="an image"),
        Param("extras", "paths", (), role="input", help="more files"),
    )

    def outputs(self):
        return []

    def run(self, reporter=None):
        return StepResult(values=dict(self.values))


def parse(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser()
    add_step_arguments(parser, ToyStep)
    args = parser.parse_args(translate_keyvalue(argv))
    return {p.name: getattr(args, p.name) for p in ToyStep.params if getattr(args, p.name) is not None}


def test_declaration_becomes_cli_options_with_aliases_and_keyvalue():
    values = parse(["in.fits", "energy=20", "--count", "5", "flag=yes", "shape=box", "mod=FPMB",
                    "reference=r.fits", "extras=a.fits,b.fits"])
    step = ToyStep(**values)
    assert step.energy == 20.0 and isinstance(step.energy, float)
    assert step.count == 5 and step.flag is True and step.shape == "box" and step.mod == "B"
    assert str(step.refimg) == "r.fits" and [str(p) for p in step.extras] == ["a.fits", "b.fits"]
    assert [str(p) for p in step.inputs()] == ["in.fits", "r.fits", "a.fits", "b.fits"]
    # defaults fill what was not given; a bare boolean flag means yes
    step = ToyStep(**parse(["in.fits", "--flag"]))
    assert step.energy == 10.0 and step.count == 3 and step.flag is True and step.mod == "A"


@pytest.mark.parametrize("kwargs, words", [
    ({"energy": "inf"}, "--energy inf is not a finite number"),
    ({"energy": "nan"}, "not a finite number"),
    ({"energy": 1e308}, "above the maximum 100 keV"),
    ({"energy": "0.5"}, "below the minimum 1 keV"),
    ({"energy": "ten"}, "is not a number"),
    ({"count": "99999999999999999999"}, "above the maximum"),
    ({"count": 2.5}, "not an integer"),
    ({"flag": "maybe"}, "use yes or no"),
    ({"shape": "hexagon"}, "not one of circle, box"),
    ({"mod": "C"}, "--mod=C is not a NuSTAR module"),
    ({"infile": None}, "INFILE is required"),
])
def test_bad_values_are_one_sentence_naming_the_option(kwargs, words):
    values = {"infile": "in.fits", **kwargs}
    with pytest.raises(InputError) as exc:
        ToyStep(**values)
    msg = str(exc.value)
    assert words in msg and msg.count(".") >= 1 and "\n" not in msg


def test_command_line_round_trips_through_the_cli_parser():
    step = ToyStep("in.fits", energy=20, flag=True, mod="B", extras=["a.fits"])
    line = step.command_line()
    assert line.startswith("nuskybgd toy in.fits")
    assert "--count" not in line  # defaults are left out
    again = ToyStep(**parse(line.split()[2:]))
    assert again.values == step.values


def test_a_parameter_added_to_a_step_appears_in_its_cli_help(capsys):
    """Every declared parameter of the real steps shows up in `nuskybgd CMD --help`."""
    for command, cls in (("mkimgs", MkImgsStep), ("projbgd", ProjBgdStep)):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        for p in cls.params:
            if p.cli:
                assert (p.name if p.positional else p.option) in text, (command, p.name)


def test_real_step_validates_at_construction_and_knows_its_outputs(tmp_path):
    step = MkImgsStep(tmp_path / "nu90000000002A01_cl.evt", 3, 20)
    assert step.pi_range == (35, 459)
    assert step.outputs() == [tmp_path / "nu90000000002A01_cl_3to20keV.fits"]
    with pytest.raises(InputError, match="contains no whole PI channel|empty"):
        MkImgsStep(tmp_path / "x.evt", 20, 3)
    assert math.isclose(MkImgsStep(tmp_path / "x.evt", "3.5", 20).elow, 3.5)


def test_usage_errors_through_the_real_entry_point_are_one_line(tmp_path):
    for argv, words in ((["mkimgs", "x.evt", "--ehigh", "inf"], "--ehigh inf"),
                        (["mkimgs", "x.evt", "--elow", "1e308"], "--elow 1e308"),
                        (["mkimgs", "x.evt", "--bin", "99999999999999999999"], "--bin"),
                        (["mkinstrmap", "x.evt", "dryrun=maybe"], "dryrun"),
                        (["mkimgs", "=3"], "'=3'"),
                        (["projbgd", "mod=C", "out=a", "chipmap=b", "aspect=c"], "mod=C"),
                        (["mkimgs", "x.evt", "colour=red"], "--colour")):
        proc = subprocess.run([sys.executable, "-m", "nuskybgd", *argv], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert proc.stderr.count("\n") == 1 and words in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
