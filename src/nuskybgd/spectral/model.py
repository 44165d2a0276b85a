"""Sources (XSPEC named models) built from components, with one parameter set per data group.

A :class:`Source` is what XSPEC calls ``model k:name expression``: source number ``k`` (its
responses are ``response k:s`` / ``arf k:s``), a name (empty for the unnamed source 1) and an
expression such as ``apec + lorentz + lorentz`` or ``constant*cutoffpl``.  Components are named
as XSPEC names them (first occurrence bare, later ones ``name_<position>``) and may carry a
label (``line_19.65keV``) used for name-style addressing.

The expression is expanded into additive *terms*: one additive component times any
multiplicative ones, so that ``constant*(cutoffpl + lorentz)`` gives two terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nuskybgd.errors import ModelError
from nuskybgd.spectral.components import NORM_SPEC, ComponentSpec, get_component
from nuskybgd.spectral.parameters import Parameter, parse_link


@dataclass
class Component:
    """One component of a source's expression.

    Attributes
    ----------
    spec : ComponentSpec
        The component type.
    name : str
        XSPEC's name for it within the source (``lorentz``, ``lorentz_3`` …).
    position : int
        1-based position in the expression.
    label : str or None
        Optional human label (``line_19.65keV``), accepted wherever ``name`` is.
    first_param : int
        0-based offset of its first parameter within one group's parameter list.
    """

    spec: ComponentSpec
    name: str
    position: int
    label: str | None = None
    first_param: int = 0

    @property
    def n_params(self) -> int:
        return len(self.spec.param_names)


def _parse_expression(expr: str) -> tuple[list[str], list[list[int]]]:
    """Component names in order and the additive terms (lists of 0-based component indices)."""
    tokens = re.findall(r"[A-Za-z_][\w]*|[()+*]|\S", expr)
    if not tokens:
        raise ModelError("empty model expression; give e.g. 'cutoffpl' or 'apec + lorentz'.")
    names: list[str] = []
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    # each node evaluates to a list of terms (each term = list of component indices)
    def sum_() -> list[list[int]]:
        terms = prod()
        while peek() == "+":
            take()
            terms = terms + prod()
        return terms

    def prod() -> list[list[int]]:
        terms = factor()
        while peek() is not None and peek() not in ("+", ")"):
            if peek() == "*":
                take()
            right = factor()
            terms = [a + b for a in terms for b in right]
        return terms

    def factor() -> list[list[int]]:
        t = peek()
        if t is None:
            raise ModelError(f"model expression {expr!r} ends unexpectedly.")
        if t == "(":
            take()
            inner = sum_()
            if peek() != ")":
                raise ModelError(f"unbalanced parentheses in model expression {expr!r}.")
            take()
            return inner
        if not re.fullmatch(r"[A-Za-z_]\w*", t):
            raise ModelError(f"unexpected {t!r} in model expression {expr!r}.")
        take()
        names.append(t)
        idx = len(names) - 1
        if peek() == "(":        # XSPEC's implicit product: wabs(powerlaw)
            take()
            inner = sum_()
            if peek() != ")":
                raise ModelError(f"unbalanced parentheses in model expression {expr!r}.")
            take()
            return [[idx] + term for term in inner]
        return [[idx]]

    terms = sum_()
    if pos != len(tokens):
        raise ModelError(f"unexpected {tokens[pos]!r} in model expression {expr!r}.")
    return names, terms


class Source:
    """An XSPEC (named) model: ``model k:name expression``, with parameters per data group.

    Parameters
    ----------
    expression : str
        XSPEC model expression (``cutoffpl``, ``apec + lorentz + lorentz``, ``constant*cutoffpl``).
    name : str
        Source name (``apbgd``); empty for XSPEC's unnamed model.
    number : int
        XSPEC source number ``k`` (1 for the unnamed model).
    labels : dict, optional
        Component name → label (``{"lorentz_5": "line_19.65keV"}``).
    n_groups : int
        Number of data groups; groups > 1 start linked to group 1, as in XSPEC.
    """

    def __init__(self, expression: str, name: str = "", number: int = 1,
                 labels: dict[str, str] | None = None, n_groups: int = 1) -> None:
        if name and not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ModelError(f"source name {name!r} must be a word (letters, digits, underscore).")
        if number < 1:
            raise ModelError(f"source number must be ≥ 1 (got {number}).")
        self.name = name
        self.number = int(number)
        self.expression = " ".join(expression.split())
        comp_names, terms = _parse_expression(expression)
        self.components: list[Component] = []
        offset = 0
        for position, raw in enumerate(comp_names, start=1):
            spec = get_component(raw)
            seen = any(c.spec.name == spec.name for c in self.components)
            cname = f"{spec.name}_{position}" if seen else spec.name
            comp = Component(spec, cname, position, first_param=offset)
            offset += comp.n_params
            self.components.append(comp)
        self.npar = offset
        self.terms: list[tuple[int, list[int]]] = []
        for term in terms:
            adds = [i for i in term if self.components[i].spec.kind == "add"]
            muls = [i for i in term if self.components[i].spec.kind == "mul"]
            if len(adds) != 1:
                raise ModelError(
                    f"model expression {expression!r}: every term needs exactly one additive "
                    f"component (found {len(adds)} in {' * '.join(comp_names[i] for i in term)})."
                )
            self.terms.append((adds[0], muls))
        for cname, label in (labels or {}).items():
            self.component(cname).label = label
        self.groups: list[list[Parameter]] = []
        self.set_groups(n_groups)

    # -- structure -------------------------------------------------------------------------
    def component(self, key: str) -> Component:
        """A component by XSPEC name (``lorentz_5``) or label (``line_19.65keV``)."""
        for c in self.components:
            if c.name == key or (c.label is not None and c.label == key):
                return c
        raise ModelError(
            f"source {self.name or '(unnamed)'} has no component {key!r}; it has "
            f"{', '.join(c.name for c in self.components)}."
        )

    def _new_params(self, group: int) -> list[Parameter]:
        params: list[Parameter] = []
        for comp in self.components:
            specs = list(comp.spec.params) + ([NORM_SPEC] if comp.spec.kind == "add" else [])
            for ps in specs:
                local = len(params) + 1
                params.append(Parameter(
                    name=ps.name, unit=ps.unit, value=ps.default, delta=abs(ps.delta),
                    hard_min=ps.hard_min, soft_min=ps.soft_min, soft_max=ps.soft_max,
                    hard_max=ps.hard_max, frozen=ps.delta < 0, source=self.name,
                    component=comp.name, label=comp.label, group=group, local_index=local,
                    global_index=(group - 1) * self.npar + local,
                ))
        return params

    def set_groups(self, n_groups: int) -> None:
        """Resize to ``n_groups`` data groups; new groups are linked to group 1 (XSPEC default)."""
        if n_groups < 1:
            raise ModelError("a source needs at least one data group.")
        while len(self.groups) > n_groups:
            self.groups.pop()
        while len(self.groups) < n_groups:
            g = len(self.groups) + 1
            params = self._new_params(g)
            if g > 1:
                for p in params:
                    p.link = parse_link(f"p{p.local_index}")
                    p.value = self.groups[0][p.local_index - 1].value
            self.groups.append(params)
        for comp in self.components:          # labels may have been set after creation
            for params in self.groups:
                for p in params[comp.first_param: comp.first_param + comp.n_params]:
                    p.label = comp.label

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def parameters(self) -> list[Parameter]:
        """All parameters in XSPEC order (group 1 first)."""
        return [p for params in self.groups for p in params]

    def par(self, index: int | str, group: int = 1) -> Parameter:
        """A parameter by XSPEC global index (int, with group offset) or by
        ``component.param`` name within ``group``."""
        if isinstance(index, int):
            if not 1 <= index <= self.npar * self.n_groups:
                raise ModelError(
                    f"source {self.name or '(unnamed)'} has parameters 1–{self.npar * self.n_groups}; "
                    f"there is no parameter {index}."
                )
            g, local = divmod(index - 1, self.npar)
            return self.groups[g][local]
        if "." not in index:
            raise ModelError(f"parameter name {index!r} must look like component.param (e.g. lorentz_5.norm).")
        cname, pname = index.rsplit(".", 1)
        comp = self.component(cname)
        if not 1 <= group <= self.n_groups:
            raise ModelError(f"source {self.name or '(unnamed)'} has no data group {group}.")
        for p in self.groups[group - 1][comp.first_param: comp.first_param + comp.n_params]:
            if p.name.lower() == pname.lower():
                return p
        raise ModelError(
            f"component {comp.name} of {self.name or '(unnamed)'} has no parameter {pname!r}; "
            f"it has {', '.join(comp.spec.param_names)}."
        )

    def __repr__(self) -> str:
        tag = f"{self.number}:{self.name}" if self.name else str(self.number)
        return f"Source({tag} {self.expression!r}, groups={self.n_groups})"


_XSPEC_REF = re.compile(r"^(?:(?P<src>[A-Za-z_]\w*):)?p?(?P<idx>\d+)$")


def find_source(sources: list[Source], key: str | int) -> Source:
    """A source by name or number."""
    for s in sources:
        if (isinstance(key, int) and s.number == key) or (isinstance(key, str) and s.name == key):
            return s
    raise ModelError(
        f"no source {key!r}; sources are {', '.join(s.name or str(s.number) for s in sources) or 'none'}."
    )


def find_parameter(sources: list[Source], key: str | int | Parameter,
                   context: Source | None = None) -> Parameter:
    """Look a parameter up among ``sources``.

    ``key`` may be XSPEC's ``intbgd:16`` / ``intbgd:p16``, ``p16`` or ``16`` (the unnamed
    source, or ``context`` inside a link), or a name ``intbgd.line_19.65keV.norm`` /
    ``intbgd.lorentz_5.norm@3`` (data group 3; ``model.<comp>.<par>`` for the unnamed source), or
    ``apbgd.norm`` for the parameter of a source with one component.
    """
    if isinstance(key, Parameter):
        return key
    text = str(key).strip()
    m = _XSPEC_REF.match(text)
    if m:
        idx = int(m.group("idx"))
        if m.group("src"):
            src = find_source(sources, m.group("src"))
        elif context is not None:
            src = context
        else:
            unnamed = [s for s in sources if not s.name]
            if not unnamed:
                raise ModelError(f"parameter {text!r} names no source; write e.g. intbgd:{idx}.")
            src = unnamed[0]
        return src.par(idx)
    group = 1
    if "@" in text:
        text, g = text.rsplit("@", 1)
        if not g.isdigit():
            raise ModelError(f"bad data group in parameter name {key!r}; write e.g. intbgd.lorentz.norm@2.")
        group = int(g)
    parts = text.split(".")
    if len(parts) == 2 and parts[0] != "model":
        # ``apbgd.norm`` (ARCHITECTURE's short form): the parameter of a one-component source
        src = find_source(sources, parts[0])
        if len(src.components) == 1:
            return src.par(f"{src.components[0].name}.{parts[1]}", group=group)
        raise ModelError(
            f"source {src.name} has {len(src.components)} components; name one, e.g. "
            f"{src.name}.{src.components[-1].name}.{parts[1]}."
        )
    if len(parts) < 3:
        raise ModelError(
            f"unknown parameter {key!r}; write source:index (intbgd:16) or "
            "source.component.parameter (intbgd.lorentz_5.norm)."
        )
    if parts[0] == "model":
        unnamed = [s for s in sources if not s.name]
        src = unnamed[0] if unnamed else find_source(sources, "model")
    else:
        src = find_source(sources, parts[0])
    # component labels may contain dots (line_19.65keV): source first, parameter last
    return src.par(".".join(parts[1:]), group=group)


def select_parameters(sources: list[Source], pattern: str | int | Parameter) -> list[Parameter]:
    """Parameters matching ``name:*``, ``name:a-b``, ``a-b`` (unnamed source) or one id/name."""
    if isinstance(pattern, str):
        m = re.fullmatch(r"(?:([A-Za-z_]\w*):)?(\*|(\d+)-(\d+))", pattern.strip())
        if m:
            src = find_source(sources, m.group(1)) if m.group(1) else \
                next((s for s in sources if not s.name), None)
            if src is None:
                raise ModelError(f"parameter range {pattern!r} names no source; write e.g. fcxb:*.")
            if m.group(2) == "*":
                return src.parameters
            return [src.par(i) for i in range(int(m.group(3)), int(m.group(4)) + 1)]
    return [find_parameter(sources, pattern)]
