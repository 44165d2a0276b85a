"""``combine``: several ``bgd_only_*.xcm`` (epochs and/or modules) merged into one fit file.

The walkthrough leaves this "by hand".  Each spectrum keeps its own frozen background (XSPEC
sources 2–5) in its own data group; source 1 stays undefined, so the user's ``model 1`` is one
source model shared by every group (XSPEC links groups ≥ 2 to group 1 by default).
"""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.workflow.project import _relocate

__all__ = ["combine"]


def combine(inputs: list[str | Path], out: str | Path, overwrite: bool = False, reporter=None) -> Path:
    """Merge several ``bgd_only_*.xcm`` (epochs and/or modules) into one fit file.

    Each spectrum keeps its own frozen background (sources 2–5) in its own data group; source 1
    is left undefined, so the user's ``model 1`` is one source model shared by all groups.

    Raises
    ------
    InputError
        Fewer than two inputs, a spectrum given twice, a background parameter that is free or
        linked (not a simplified file), or different background models.
    """
    from nuskybgd.events import Silent
    from nuskybgd.io.atomic import check_writable
    from nuskybgd.io.staging import atomic_set
    from nuskybgd.spectral import FitProblem, Source, export_xcm, read_xcm

    rep = reporter if reporter is not None else Silent()
    out = Path(out)
    if len(inputs) < 2:
        raise InputError("combine needs at least two bgd_only_*.xcm files; give each epoch's or module's.")
    check_writable(out, overwrite)
    spectra, blocks, layout, seen = [], [], None, set()
    for path in map(Path, inputs):
        sess = read_xcm(path)
        problem = sess.build()
        bad = [p.xspec_id for p in problem.parameters if p.is_free or p.link is not None]
        if bad:
            raise InputError(f"{path} has free or linked parameters ({', '.join(bad[:3])}…); combine "
                             "takes the frozen files simplify writes.", path)
        here = [(s.number, s.name, s.expression) for s in problem.sources]
        if layout is None:
            layout = here
        elif here != layout:
            raise InputError(f"{path} has background sources {here} unlike the first file's {layout}; "
                             "combine files from the same nuskybgd model.", path)
        _relocate(problem, sess, out.parent)
        for spec in problem.spectra:
            key = Path(spec.name)
            if key in seen:
                raise InputError(f"spectrum {spec.name} is in two of the inputs; give each spectrum once.",
                                 path)
            seen.add(key)
            blocks.append((problem, spec.group))
            spectra.append(spec)
    sources = []
    for number, name, expr in layout:
        first = next(s for s in blocks[0][0].sources if s.number == number)
        new = Source(expr, name=name, number=number,
                     labels={c.name: c.label for c in first.components if c.label})
        new.set_groups(len(spectra))
        for g, (problem, old_group) in enumerate(blocks):
            old = next(s for s in problem.sources if s.number == number).groups[old_group - 1]
            for p_new, p_old in zip(new.groups[g], old, strict=True):
                p_new.link = None
                p_new.value, p_new.delta, p_new.frozen = p_old.value, p_old.delta, True
                p_new.soft_min, p_new.soft_max = p_old.soft_min, p_old.soft_max
        sources.append(new)
    for g, spec in enumerate(spectra, start=1):
        spec.group = g
    with atomic_set([out], overwrite=overwrite) as stage:  # file names are relative to out's folder
        export_xcm(FitProblem(spectra, sources, statistic=blocks[0][0].statistic_name), stage[out])
    rep.output(out, f"wrote {out} ({len(spectra)} spectra, frozen backgrounds; model 1 is shared)")
    return out
