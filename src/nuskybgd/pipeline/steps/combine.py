"""``combine``: several ``bgd_only_*.xcm`` (epochs, modules) merged into one fit file."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

__all__ = ["CombineStep"]


class CombineStep(Step):
    """One ``.xcm`` with every spectrum and its own frozen background; model 1 shared."""

    name = "combine"
    title = "Combine"
    help = (
        "Merge several bgd_only_*.xcm files (other epochs or the other module) into one: each spectrum "
        "keeps its own frozen background in its own data group, and model 1 is one source model "
        "shared by all of them."
    )
    params = (
        Param("inputs", "paths", positional=True, role="input", help="two or more bgd_only_*.xcm files"),
        Param("out", "path", Path("combined.xcm"), role="output", help="the combined .xcm to write"),
        OVERWRITE,
    )

    def check(self) -> None:
        if len(self.inputs) < 2:
            raise InputError("combine needs at least two bgd_only_*.xcm files (INPUTS); give each epoch's "
                             "or module's.")

    def outputs(self) -> list[Path]:
        return [self.out]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.workflow.combine import combine

        rep = reporter_or_default(reporter)
        for p in self.inputs:
            if not Path(p).is_file():
                raise InputError(f"{p} does not exist; give the bgd_only_*.xcm files simplify wrote.", p)
        path = combine(list(self.inputs), self.out, overwrite=self.overwrite, reporter=rep)
        values = {"xcm": path.name, "n_inputs": len(self.inputs)}
        rep.result(values, f"{path.name}: {len(self.inputs)} files combined")
        return StepResult(outputs=[path], values=values)
