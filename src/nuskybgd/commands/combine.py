"""``nuskybgd combine``: several bgd_only_*.xcm files in one fit file."""

from __future__ import annotations

SUMMARY = "merge several bgd_only_*.xcm (epochs, modules) into one fit file, model 1 shared"
DESCRIPTION = """Merge simplified files of several epochs and/or both modules.

  nuskybgd combine bgd_only_srcA.xcm bgd_only_srcB.xcm --out srcAB.xcm

Each spectrum keeps its own frozen background in its own data group; model 1 is shared."""

STEP = "nuskybgd.pipeline.steps.combine:CombineStep"
