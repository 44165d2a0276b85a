"""Export a fit problem as an XSPEC command file (``.xcm``).

Written in XSPEC syntax: ``statistic``, ``method``, settings, one ``data s:g file`` per
spectrum, ``backgrnd s none`` (nuskybgd fits without background files), ``response k:s`` and
``arf k:s`` for every source of every spectrum, ``ignore s:<channel ranges>`` (XSPEC channel
numbers = 1-based groups), then per source ``model k:name expression`` followed by one line per
parameter and data group: ``value delta hard_min soft_min soft_max hard_max`` (negative delta =
frozen) or ``= expression`` for a link (references written as ``name:pN``).  Component labels go
into ``# nuskybgd-label`` comment lines, which XSPEC skips.
"""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import ModelError
from nuskybgd.spectral.fit import FitProblem
from nuskybgd.spectral.model import Source, find_parameter
from nuskybgd.spectral.parameters import LinkExpr, Parameter


def _fmt(v: float) -> str:
    return repr(float(v)).replace("inf", "1e+300")


def _render(node: tuple, ref_text) -> str:
    kind = node[0]
    if kind == "num":
        return _fmt(node[1])
    if kind == "ref":
        return ref_text(node[1])
    if kind == "neg":
        return f"-({_render(node[1], ref_text)})"
    return f"({_render(node[2], ref_text)}){node[1]}({_render(node[3], ref_text)})"


def link_to_xspec(link: LinkExpr, sources: list[Source], context: Source) -> str:
    """The link expression with every reference written XSPEC's way (``name:pN`` / ``pN``)."""

    def ref_text(ref: str) -> str:
        p = find_parameter(sources, ref, context)
        return f"{p.source}:p{p.global_index}" if p.source else f"p{p.global_index}"

    prop = link.proportional()
    if prop is not None and prop[1] is not None:
        target = ref_text(prop[1])
        return target if prop[0] == 1.0 else f"{_fmt(prop[0])}*{target}"
    return _render(link.tree, ref_text)


def _param_line(p: Parameter, sources: list[Source], src: Source) -> str:
    if p.link is not None:
        return "= " + link_to_xspec(p.link, sources, src)
    delta = -abs(p.delta) if p.frozen else abs(p.delta)
    if p.frozen and delta == 0:
        delta = -1e-3
    vals = (p.value, delta, p.hard_min, p.soft_min, p.soft_max, p.hard_max)
    return " ".join(f"{_fmt(v):>14s}" for v in vals)


def model_lines(sources: list[Source]) -> list[str]:
    """``model`` blocks (with parameter lines and label comments) for ``sources``."""
    lines: list[str] = []
    for src in sorted(sources, key=lambda s: s.number):
        head = f"{src.number}:{src.name} " if src.name else ""
        lines.append(f"model  {head}{src.expression}")
        for p in src.parameters:
            lines.append(_param_line(p, sources, src))
        for comp in src.components:
            if comp.label:
                lines.append(f"# nuskybgd-label {src.name or '-'} {comp.name} {comp.label}")
    return lines


def export_xcm(problem: FitProblem, path: str | Path | None = None, overwrite: bool = False) -> str:
    """Write ``problem`` (a :class:`~nuskybgd.spectral.fit.FitProblem`) as an XSPEC command file.

    Returns the text; writes it atomically to ``path`` when given (refusing to replace an
    existing file unless ``overwrite``).
    """
    lines = [
        "# written by nuskybgd (XSPEC command file; load with @file.xcm)",
        f"statistic {problem.statistic_name}",
        f"method leven {problem.maxit} {problem.crit_delta!r}",
        "abund angr",
        "xsect vern",
        "xset delta 0.01",
        "systematic 0",
    ]
    for s_no, spec in enumerate(problem.spectra, start=1):
        lines.append(f"data {spec.group}:{s_no} {spec.name}")
    for s_no, _spec in enumerate(problem.spectra, start=1):
        lines.append(f"backgrnd {s_no} none")
    for s_no, spec in enumerate(problem.spectra, start=1):
        for k in sorted(spec.responses):
            r = spec.responses[k]
            if r.rmf_path is None:
                raise ModelError(
                    f"response {k} of spectrum {spec.name} has no file name, so it cannot be written to an "
                    ".xcm file; build it from files (Response(path, arf_path))."
                )
            lines.append(f"response {k}:{s_no} {r.rmf_path}")
            if r.arf is not None:
                if r.arf_path is None:
                    raise ModelError(f"the ARF of response {k} of spectrum {spec.name} has no file name; "
                                     "build it from a file to export it.")
                lines.append(f"arf {k}:{s_no} {r.arf_path}")
    for s_no, spec in enumerate(problem.spectra, start=1):
        ranges = spec.ignored_ranges()
        if ranges:
            txt = ",".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges)
            lines.append(f"ignore {s_no}:{txt}")
    lines.extend(model_lines(problem.sources))
    text = "\n".join(lines) + "\n"
    if path is not None:
        from nuskybgd.io.atomic import write_text_atomic

        write_text_atomic(path, text, overwrite=overwrite)
    return text
