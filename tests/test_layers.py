"""Imports point one way: `bot` on top, `routing` and `knowledge` over `nlu`, `core` under all.

Every import in the packages counts, including those inside functions (they run too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT

PACKAGES = ("core", "privacy", "nlu", "knowledge", "routing", "insights", "bot")
# What each package may import besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "privacy": frozenset({"core"}),
    "nlu": frozenset({"core"}),
    "knowledge": frozenset({"core", "nlu"}),
    "routing": frozenset({"core", "nlu", "privacy"}),
    "insights": frozenset({"core", "nlu", "privacy"}),
    "bot": frozenset({"core", "privacy", "nlu", "knowledge", "routing", "insights"}),
}


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imported(
    name: str, path: Path, known: frozenset[str] = frozenset()
) -> Iterator[tuple[str, int]]:
    """Absolute names of the modules `path` imports, with line numbers. `from pkg import
    mod` counts as importing `pkg.mod` alone when `pkg.mod` is one of the `known` modules
    (the idiom loads the submodule; `pkg` is its parent, already being imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            submodules = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
            if len(submodules) < len(node.names):
                yield module, node.lineno
            for submodule in submodules:
                yield submodule, node.lineno


def project_imports() -> dict[str, set[str]]:
    known = frozenset(name for package in PACKAGES for name, _ in modules(package))
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for name, path in modules(package):
            graph[name] = {m for m, _ in imported(name, path, known) if m in known and m != name}
    return graph


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    upward = []
    for name, path in modules(package):
        for module, line in imported(name, path):
            top = module.split(".")[0]
            if top in PACKAGES and top != package and top not in ALLOWED[package]:
                upward.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}")
    assert not upward, f"{package} may only import {sorted(ALLOWED[package])}:\n" + "\n".join(
        upward
    )


def test_no_module_imports_itself_through_others() -> None:
    """No import cycles between modules (a package's __init__ re-exporting its own
    modules is not a cycle: the modules never import the __init__ back)."""
    graph = project_imports()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_the_layering_check_sees_a_violation() -> None:
    """The check itself works: an upward import in a lower package is reported."""
    tree_name = "nlu.example"
    source = "def f():\n    from bot.launcher import ServiceStack\n    from nlu import scorer\n"
    path = PROJECT_ROOT / "nlu" / "__layer_probe__.py"
    try:
        path.write_text(source)
        found = [m for m, _ in imported(tree_name, path, frozenset({"nlu.scorer"}))]
    finally:
        path.unlink()
    assert found == ["bot.launcher", "nlu.scorer"]
