"""Parameter links of a set of sources, resolved and ordered once, evaluated without re-walking.

:class:`LinkSet` looks up every reference of every link (``= 1.2*intbgd:16``) once, orders the
links so that chains evaluate correctly, refuses missing targets and cycles, and turns each
expression into a small closure over the target parameters.  A fit then updates the linked
values with :meth:`LinkSet.resolve` at every model evaluation; the links are compiled again only
when a parameter's link was replaced (``Parameter.set`` removes one, ``newpar`` sets one).

:meth:`LinkSet.affine` tells whether a parameter's value is ``c × (a free parameter)`` or a
constant, which is what the linear-norms fast path needs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from nuskybgd.errors import ModelError
from nuskybgd.spectral.model import Source, find_parameter
from nuskybgd.spectral.parameters import Parameter

Affine = tuple[float, Parameter | None]
"""``(c, q)``: a value equal to ``c × q.value`` (q free) or the constant ``c`` (q None)."""

_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b != 0 else float("inf"),
    "**": operator.pow,
}


def _closure(node: tuple, targets: dict[str, Parameter]) -> Callable[[], float]:
    """A function of no argument that evaluates the link tree ``node`` from current values."""
    kind = node[0]
    if kind == "num":
        value = float(node[1])
        return lambda: value
    if kind == "ref":
        target = targets[node[1]]
        return lambda: target.value
    if kind == "neg":
        inner = _closure(node[1], targets)
        return lambda: -inner()
    op = _OPS[node[1]]
    left, right = _closure(node[2], targets), _closure(node[3], targets)
    return lambda: op(left(), right())


class LinkSet:
    """The links of ``sources`` (every data group), compiled for repeated evaluation.

    Parameters
    ----------
    sources : list of Source
        The models whose parameters may be linked to each other.

    Raises
    ------
    ModelError
        When a link names a missing parameter or links form a cycle.
    """

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self._order: list[tuple[Parameter, Callable[[], float]]] = []
        self._targets: dict[int, dict[str, Parameter]] = {}
        self._signature: list[tuple[Parameter, object]] = []
        self.compile()

    def _parameters(self) -> list[Parameter]:
        return [p for s in self.sources for p in s.parameters]

    def _targets_of(self, p: Parameter, src: Source) -> dict[str, Parameter]:
        targets = {}
        for ref in p.link.refs:
            try:
                targets[ref] = find_parameter(self.sources, ref, context=src)
            except ModelError as exc:
                raise ModelError(
                    f"the link of {p.xspec_id} ({p.full_name}) '= {p.link.text}' refers to a "
                    f"missing parameter {ref!r}: {exc}"
                ) from None
        return targets

    def compile(self) -> None:
        """Look every reference up and order the links (targets before the links using them)."""
        deps = {id(p): (p, self._targets_of(p, src))
                for src in self.sources for p in src.parameters if p.link is not None}
        order: list[Parameter] = []
        state: dict[int, int] = {}

        def visit(pid: int, path: list[Parameter]) -> None:
            st = state.get(pid, 0)
            if st == 2:
                return
            p, targets = deps[pid]
            if st == 1:
                cycle = " → ".join(q.xspec_id for q in path[path.index(p):] + [p])
                raise ModelError(f"circular parameter link {cycle}; break the cycle with a value.")
            state[pid] = 1
            for t in targets.values():
                if id(t) in deps:
                    visit(id(t), path + [p])
            state[pid] = 2
            order.append(p)

        for pid in deps:
            visit(pid, [])
        self._targets = {pid: targets for pid, (_p, targets) in deps.items()}
        self._order = [(p, _closure(p.link.tree, self._targets[id(p)])) for p in order]
        self._signature = [(p, p.link) for p in self._parameters()]

    def stale(self) -> bool:
        """True when a link was added, removed or replaced since the last :meth:`compile`."""
        new = self._parameters()
        old = self._signature
        return len(old) != len(new) or any(a[0] is not b or a[1] is not b.link
                                           for a, b in zip(old, new, strict=True))

    def resolve(self) -> None:
        """Set every linked parameter's value from its expression (compiling again if stale)."""
        if self.stale():
            self.compile()
        for p, evaluate in self._order:
            p.value = float(evaluate())

    def affine(self, p: Parameter, memo: dict[int, Affine | None]) -> Affine | None:
        """``(c, q)`` with value(p) = c·value(q) for a free q (q None: the constant c); None when
        p depends on free parameters otherwise (a sum, a product of two, a power …)."""
        key = id(p)
        if key in memo:
            return memo[key]
        if p.link is None:
            res: Affine | None = (p.value, None) if p.frozen else (1.0, p)
        else:
            prop = p.link.proportional()
            if prop is None:
                res = None
            elif prop[1] is None:
                res = (prop[0], None)
            else:
                inner = self.affine(self._targets[key][prop[1]], memo)
                res = None if inner is None else (prop[0] * inner[0], inner[1])
        memo[key] = res
        return res

    def coefficient(self, factors: tuple[Parameter, ...],
                    memo: dict[int, Affine | None]) -> tuple[float, list[Parameter]] | None:
        """The product of ``factors`` as ``c × Π free``: ``(c, free parameters)``, or None when a
        factor is not proportional to a free parameter or a constant."""
        c = 1.0
        free: list[Parameter] = []
        for q in factors:
            a = self.affine(q, memo)
            if a is None:
                return None
            c *= a[0]
            if a[1] is not None:
                free.append(a[1])
        return c, free
