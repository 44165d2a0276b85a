"""Model parameters: value, XSPEC limits, frozen flag and links (``= c × other``).

A link is an arithmetic expression of other parameters.  Parameter references inside a link use
XSPEC's spelling (``p5`` — parameter 5 of the same source —, ``intbgd:16``, ``intbgd:p16``;
a bare integer as the whole expression, ``= 5``, also means parameter 5) or nuskybgd's names
(``intbgd.line_19.65keV.norm``, ``intbgd.lorentz_5.norm@3`` for data group 3).  Numbers are
constants; ``+ - * / **`` and parentheses are allowed.  Links may chain; cycles are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nuskybgd.errors import ModelError

# ----------------------------------------------------------------------------- link expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<ref>[A-Za-z_][\w.]*(?:@\d+)?(?::p?\d+)?|p\d+)"
    r"|(?P<op>\*\*|[-+*/()]))"
)


@dataclass(frozen=True)
class LinkExpr:
    """A parsed link expression.

    Attributes
    ----------
    text : str
        The expression as given (without the leading ``=``).
    tree : tuple
        AST: ``("num", v)``, ``("ref", text)``, ``("neg", a)`` or ``("bin", op, a, b)``.
    """

    text: str
    tree: tuple

    @property
    def refs(self) -> list[str]:
        out: list[str] = []

        def walk(node: tuple) -> None:
            if node[0] == "ref":
                out.append(node[1])
            elif node[0] == "neg":
                walk(node[1])
            elif node[0] == "bin":
                walk(node[2])
                walk(node[3])

        walk(self.tree)
        return out

    def proportional(self) -> tuple[float, str | None] | None:
        """``(c, ref)`` when the expression is ``c × ref`` (ref None for a constant), else None."""

        def lin(node: tuple) -> tuple[float, str | None] | None:
            kind = node[0]
            if kind == "num":
                return node[1], None
            if kind == "ref":
                return 1.0, node[1]
            if kind == "neg":
                a = lin(node[1])
                return None if a is None else (-a[0], a[1])
            op, a, b = node[1], lin(node[2]), lin(node[3])
            if a is None or b is None:
                return None
            if op == "*":
                if a[1] is not None and b[1] is not None:
                    return None
                return a[0] * b[0], a[1] or b[1]
            if op == "/":
                if b[1] is not None or b[0] == 0:
                    return None
                return a[0] / b[0], a[1]
            if a[1] is None and b[1] is None:
                if op == "+":
                    return a[0] + b[0], None
                if op == "-":
                    return a[0] - b[0], None
                if op == "**":
                    return a[0] ** b[0], None
            return None

        return lin(self.tree)

    def evaluate(self, lookup) -> float:
        """Value of the expression; ``lookup(ref_text)`` returns a referenced parameter's value."""

        def ev(node: tuple) -> float:
            kind = node[0]
            if kind == "num":
                return node[1]
            if kind == "ref":
                return lookup(node[1])
            if kind == "neg":
                return -ev(node[1])
            op, a, b = node[1], ev(node[2]), ev(node[3])
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return a / b if b != 0 else float("inf")
            return a**b

        return float(ev(self.tree))


def _tokenize(text: str, src: str) -> list[tuple[str, object]]:
    """Numbers, references and operators of link expression ``src`` (``text`` as given)."""
    tokens: list[tuple[str, object]] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            if src[pos:].strip() == "":
                break
            raise ModelError(f"cannot parse link expression {text!r} near {src[pos:]!r}.")
        pos = m.end()
        if m.group("num") is not None:
            tokens.append(("num", float(m.group("num"))))
        elif m.group("ref") is not None:
            tokens.append(("ref", m.group("ref")))
        else:
            tokens.append(("op", m.group("op")))
    if not tokens:
        raise ModelError(f"empty link expression {text!r}; write e.g. '= 1.2*intbgd:16'.")
    return tokens


class _LinkParser:
    """Recursive descent over link tokens: sums of products of powers of signed atoms."""

    def __init__(self, text: str, tokens: list[tuple[str, object]]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, object] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, object]:
        self.i += 1
        return self.tokens[self.i - 1]

    def _at_op(self, ops: tuple[str, ...]) -> bool:
        t = self.peek()
        return t is not None and t[0] == "op" and t[1] in ops

    def expr(self) -> tuple:
        node = self.term()
        while self._at_op(("+", "-")):
            node = ("bin", self.take()[1], node, self.term())
        return node

    def term(self) -> tuple:
        node = self.power()
        while self._at_op(("*", "/")):
            node = ("bin", self.take()[1], node, self.power())
        return node

    def power(self) -> tuple:
        node = self.unary()
        if self._at_op(("**",)):
            self.take()
            node = ("bin", "**", node, self.unary())
        return node

    def unary(self) -> tuple:
        t = self.peek()
        if t is None:
            raise ModelError(f"link expression {self.text!r} ends unexpectedly.")
        self.take()
        if t == ("op", "-"):
            return ("neg", self.unary())
        if t == ("op", "+"):
            return self.unary()
        if t == ("op", "("):
            node = self.expr()
            if self.peek() != ("op", ")"):
                raise ModelError(f"unbalanced parentheses in link expression {self.text!r}.")
            self.take()
            return node
        if t[0] in ("num", "ref"):
            return (t[0], t[1])
        raise ModelError(f"unexpected {t[1]!r} in link expression {self.text!r}.")


def parse_link(text: str) -> LinkExpr:
    """Parse a link expression (with or without the leading ``=``).

    Raises
    ------
    ModelError
        When the expression cannot be parsed.
    """
    src = text.strip()
    if src.startswith("="):
        src = src[1:].strip()
    if re.fullmatch(r"\d+", src):          # "= 5" means parameter 5
        return LinkExpr(src, ("ref", "p" + src))
    parser = _LinkParser(text, _tokenize(text, src))
    tree = parser.expr()
    if parser.i != len(parser.tokens):
        raise ModelError(f"unexpected {parser.tokens[parser.i][1]!r} in link expression {text!r}.")
    return LinkExpr(src, tree)


# ----------------------------------------------------------------------------- parameter


@dataclass
class Parameter:
    """One model parameter of one source in one data group.

    Attributes
    ----------
    name : str
        XSPEC parameter name (``norm``, ``PhoIndex`` …).
    unit : str
        Unit (``keV`` or empty).
    value : float
        Current value (for a linked parameter: the last resolved value).
    delta : float
        Fit step (positive; the frozen flag is separate, XSPEC writes frozen as a negative delta).
    hard_min, soft_min, soft_max, hard_max : float
        XSPEC limits; fits stay inside the soft limits, values must stay inside the hard ones.
    frozen : bool
        Not varied by fits.
    link : LinkExpr or None
        When set, the value follows this expression of other parameters.
    source, component, label, group, local_index, global_index :
        Identity: source name, XSPEC component name (``lorentz_5``), optional component label
        (``line_19.65keV``), data group (1-based), index within one group (1-based) and XSPEC's
        index with group offset (``(group-1)·npar + local``).
    """

    name: str
    unit: str
    value: float
    delta: float
    hard_min: float
    soft_min: float
    soft_max: float
    hard_max: float
    frozen: bool = False
    link: LinkExpr | None = None
    source: str = ""
    component: str = ""
    label: str | None = None
    group: int = 1
    local_index: int = 1
    global_index: int = 1
    error: float | None = field(default=None, repr=False)

    @property
    def is_free(self) -> bool:
        """True when a fit varies this parameter (neither frozen nor linked)."""
        return not self.frozen and self.link is None

    @property
    def xspec_id(self) -> str:
        """XSPEC address, e.g. ``intbgd:16`` (or ``16`` for the unnamed source)."""
        return f"{self.source}:{self.global_index}" if self.source else str(self.global_index)

    @property
    def full_name(self) -> str:
        """nuskybgd name, e.g. ``intbgd.line_19.65keV.norm`` (``@g`` appended for groups > 1)."""
        comp = self.label or self.component
        base = f"{self.source or 'model'}.{comp}.{self.name}"
        return base if self.group == 1 else f"{base}@{self.group}"

    def set(self, value: float | None = None, *, frozen: bool | None = None,
            delta: float | None = None) -> None:
        """Set the value (checked against the hard limits), the frozen flag or the step.

        Setting a value removes a link, as XSPEC's ``newpar`` does.
        """
        if value is not None:
            v = float(value)
            if not (self.hard_min <= v <= self.hard_max):
                raise ModelError(
                    f"{self.full_name} = {v:g} is outside its hard limits "
                    f"[{self.hard_min:g}, {self.hard_max:g}]; choose a value inside them."
                )
            self.value = v
            self.link = None
            if v < self.soft_min:
                self.soft_min = v
            if v > self.soft_max:
                self.soft_max = v
        if frozen is not None:
            self.frozen = bool(frozen)
        if delta is not None:
            if delta < 0:
                self.frozen = True
            self.delta = abs(float(delta)) if delta != 0 else self.delta
