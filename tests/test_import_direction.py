"""Imports only point downwards (ARCHITECTURE §2): checked over every module of src/, including
imports inside functions, and the checker itself is shown to catch a planted upward import."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: rank of each top-level area; a module may import areas of lower or equal rank only
RANKS: dict[str, int] = {
    "nuskybgd": 0, "nuskybgd.errors": 0, "nuskybgd.constants": 0, "nuskybgd.events": 0,
    "nuskybgd.modules": 0, "nuskybgd.energy": 0, "nuskybgd.provenance": 0, "nuskybgd.data": 0,
    "nuskybgd.io": 1,
    "nuskybgd.calib": 2,
    "nuskybgd.geometry": 3, "nuskybgd.spectral": 3, "nuskybgd.products": 3,
    "nuskybgd.workflow": 4,
    "nuskybgd.simulate": 5, "nuskybgd.pipeline": 5,
    "nuskybgd.cli": 6, "nuskybgd.commands": 6, "nuskybgd.__main__": 6,
    "nuskybgd_tui": 7,
}
#: same-rank imports that are not allowed (the simulator sits beside the pipeline, below it)
FORBIDDEN_SIDEWAYS = {("nuskybgd.simulate", "nuskybgd.pipeline")}
#: the one upward import allowed: `nuskybgd tui` hands over to the wizard's entry point (inside run())
ENTRY_POINTS = {("nuskybgd.commands.tui", "nuskybgd_tui.app")}
#: the wizard sees only the pipeline (and what it re-exports)
TUI_ALLOWED = ("nuskybgd.pipeline", "nuskybgd_tui")


def area(module: str) -> str | None:
    """The most specific area of RANKS that contains ``module``."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in RANKS:
            return name
    return None


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) of every import statement in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return found


def violations(root: Path) -> list[str]:
    """Every upward (or forbidden) import under ``root`` as 'file:line: a -> b'."""
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        src_area = area(module)
        if src_area is None:
            continue
        for line, target in imports_of(path, module):
            dst_area = area(target)
            if dst_area is None:
                continue
            where = f"{path.relative_to(root)}:{line}: {module} -> {target}"
            if src_area == "nuskybgd_tui":
                if not target.startswith(TUI_ALLOWED):
                    out.append(where + " (the wizard imports only nuskybgd.pipeline)")
            elif (module, target) in ENTRY_POINTS:
                continue
            elif RANKS[dst_area] > RANKS[src_area] or (src_area, dst_area) in FORBIDDEN_SIDEWAYS:
                out.append(where)
    return out


def test_src_imports_point_downwards():
    assert violations(SRC) == []


def test_checker_catches_a_planted_upward_import(tmp_path):
    pkg = tmp_path / "nuskybgd"
    for sub in ("io", "pipeline", "simulate"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "io" / "ok.py").write_text("from nuskybgd.errors import InputError\n")
    (pkg / "io" / "bad.py").write_text("def f():\n    from nuskybgd.pipeline import step\n")
    (pkg / "simulate" / "bad.py").write_text("from ..pipeline.step import Reporter\n")
    (tmp_path / "nuskybgd_tui").mkdir()
    (tmp_path / "nuskybgd_tui" / "app.py").write_text("import nuskybgd.spectral.fit\nimport nuskybgd.pipeline\n")
    found = violations(tmp_path)
    assert len(found) == 3
    assert any("io/bad.py:2" in v for v in found)
    assert any("simulate/bad.py:1" in v and "nuskybgd.pipeline.step" in v for v in found)
    assert any("nuskybgd_tui/app.py:1" in v for v in found)
