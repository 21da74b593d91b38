"""No import circles: evalhouse, evalhouse.ingest and evalhouse.analysis form a graph without cycles."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter

import pytest

from .conftest import REPO

PACKAGES = {
    "evalhouse": REPO / "evalhouse",
    "evalhouse.ingest": REPO / "ingest",
    "evalhouse.analysis": REPO / "analysis",
}


def _modules() -> dict[str, ast.Module]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            found[".".join((package, *parts))] = (path.name == "__init__.py", ast.parse(path.read_text()))
    return found


def _imports(module: str, is_package: bool, tree: ast.Module, known: set[str]) -> set[str]:
    """The project modules `module` names in its imports, at module level or inside functions alike (an
    import moved into a function hides a circle, it does not remove it); not those only a type checker runs."""

    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    named = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            named |= {owner(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            named |= {owner(f"{base}.{a.name}") if f"{base}.{a.name}" in known else owner(base) for a in node.names}
    return named - {None, module}


def _runtime_nodes(node: ast.AST):
    """Every node but the bodies of `if TYPE_CHECKING:`."""
    yield node
    for child in ast.iter_child_nodes(node):
        test = getattr(child, "test", None) if isinstance(child, ast.If) else None
        if ast.unparse(test).endswith("TYPE_CHECKING") if test is not None else False:
            yield from (n for orelse in child.orelse for n in _runtime_nodes(orelse))
            continue
        yield from _runtime_nodes(child)


def test_no_module_imports_itself_through_others():
    """The import graph of the project's modules is acyclic (graphlib names a cycle when there is one)."""
    modules = _modules()
    assert len(modules) > 100
    graph = {name: _imports(name, *parsed, set(modules)) for name, parsed in modules.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        pytest.fail(f"import circle: {' -> '.join(exc.args[1])}")
