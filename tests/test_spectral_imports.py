"""Import direction inside nuskybgd.spectral: the module graph has no cycle.

Every ``import``/``from`` statement counts, also those inside functions (they hid the cycle
components → apec → xspec_backend → xcm → fit → components until ``fit_in_xspec`` moved out of
``xspec_backend``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nuskybgd.spectral

PACKAGE = "nuskybgd.spectral"


def package_sources() -> dict[str, str]:
    """Module name → source text of every module of the spectral package (``__init__`` included)."""
    folder = Path(nuskybgd.spectral.__file__).parent
    out = {}
    for path in sorted(folder.glob("*.py")):
        name = PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"
        out[name] = path.read_text(encoding="utf-8")
    return out


def _owner(name: str, modules: set[str]) -> str | None:
    """The package module that ``name`` (a module or a name inside one) belongs to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, node: ast.Import | ast.ImportFrom, modules: set[str]) -> set[str]:
    """Modules of the package that one import statement of ``module`` imports.

    ``from nuskybgd.spectral import fit`` imports the module ``fit``; ``from nuskybgd.spectral
    import FitProblem`` imports the package itself (its ``__init__``).
    """
    if isinstance(node, ast.Import):
        found = {_owner(alias.name, modules) for alias in node.names}
    else:
        base = node.module or ""
        if node.level:                                  # relative: resolve against the package
            parts = module.split(".")
            anchor = parts if module == PACKAGE else parts[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        found = {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else _owner(base, modules)
                 for a in node.names}
    return {m for m in found if m is not None and m != module}


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module → modules of the same package it imports anywhere (module level or in functions)."""
    modules = set(sources)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(_targets(module, node, modules))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if state.get(t) is None and (cycle := visit(t)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if state.get(m) is None and (cycle := visit(m)):
            return cycle
    return None


def test_the_spectral_package_has_no_import_cycle():
    graph = import_graph(package_sources())
    # the graph is real: the edges the package is built on are seen
    assert f"{PACKAGE}.components" in graph[f"{PACKAGE}.model"]
    assert f"{PACKAGE}.xspec_backend" in graph[f"{PACKAGE}.apec"]
    assert f"{PACKAGE}.fit" in graph[f"{PACKAGE}.xcm_session"]
    assert f"{PACKAGE}.xcm_parse" in graph[f"{PACKAGE}.xcm"]
    assert f"{PACKAGE}.xcm" in graph[f"{PACKAGE}.xspec_fit"]
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph))


def test_a_cycle_hidden_in_a_function_is_found():
    planted = {
        PACKAGE: "from nuskybgd.spectral.fit import FitProblem\n",
        f"{PACKAGE}.fit": "from nuskybgd.spectral.components import model_flux\n",
        f"{PACKAGE}.components": "def f():\n    from . import xspec_backend\n",
        f"{PACKAGE}.xspec_backend": "def g():\n    from nuskybgd.spectral import fit\n",
    }
    cycle = find_cycle(import_graph(planted))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {f"{PACKAGE}.fit", f"{PACKAGE}.components", f"{PACKAGE}.xspec_backend"}
    planted[f"{PACKAGE}.xspec_backend"] = "import numpy\nfrom nuskybgd.errors import ModelError\n"
    assert find_cycle(import_graph(planted)) is None
