"""The import graph of the ``driftguard`` package has no circle of two modules (issue 21, item 3).

Built from the source with :mod:`ast` (nothing is imported, no torch): every ``import`` and
``from ... import`` statement counts, at module level or inside a function (a function-level import is
still a circle, only a deferred one), relative imports resolved. ``from pkg import name`` is an edge to
``pkg`` and, when ``pkg.name`` is a module of the package, to that module too. Importing ``a.b.c`` is an
edge to ``a.b.c`` only: its parent packages are not counted, or every module would form a circle with
the ``__init__`` that re-exports it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "driftguard"  # read as text: importing it is not needed

# Circles of two modules known and left alone, each with its reason (an entry is a sorted pair). Both are a
# package ``__init__`` re-exporting a submodule that reaches its siblings through ``from driftguard.scorers
# import <submodule>``: Python resolves those names to the submodules, not to the half-run ``__init__``'s
# namespace, so they are circles only in this graph's counting (the statement is an edge to the package too).
ALLOWED_TWO_CYCLES: set[tuple[str, str]] = {
    ("driftguard.scorers", "driftguard.scorers.aggregate"),  # from driftguard.scorers import bias, ... (registers them)
    ("driftguard.scorers", "driftguard.scorers.refusal_rules"),  # from driftguard.scorers import refusal_phrases as P
}

BROKEN_IN_ISSUE_21 = [  # the three circles issue 21 item 3 broke: they must stay broken
    ("driftguard.probes.adapters", "driftguard.probes.loaders"),
    ("driftguard.runner.generate", "driftguard.runner.thinking"),
    ("driftguard.scorers.judges", "driftguard.scorers.refusal_judges"),
]


def _modules() -> dict[str, Path]:
    """Module name -> file of every ``.py`` file of the package (a package is named by its ``__init__.py``)."""
    out = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ("driftguard", *path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The package modules one import statement of ``module`` imports."""
    if isinstance(node, ast.Import):
        targets = {alias.name for alias in node.names}
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        targets = {source} | {f"{source}.{alias.name}" for alias in node.names}
    return {t for t in targets if t in known}


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the package modules it imports anywhere in its source (read once per test session)."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, frozenset[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= _imported(node, module, is_package, known)
        edges.discard(module)
        graph[module] = frozenset(edges)
    return graph


def two_cycles(graph: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    """Sorted pairs of modules that import each other."""
    return {tuple(sorted((a, b))) for a, targets in graph.items() for b in targets if a in graph.get(b, frozenset())}


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert len(graph) > 50
    assert "driftguard.runner.batching" in graph["driftguard.runner.thinking"]  # a module-level import
    assert "driftguard.probes.adapters" in graph["driftguard.probes.loaders"]


def test_function_level_and_relative_imports_are_edges():
    tree = ast.parse("def f():\n    from .b import c\n    import driftguard.x.y\n")
    known = {"driftguard.x", "driftguard.x.b", "driftguard.x.b.c", "driftguard.x.y"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported(node, "driftguard.x.a", False, known)
    assert found == {"driftguard.x.b", "driftguard.x.b.c", "driftguard.x.y"}
    package = next(n for n in ast.walk(ast.parse("from . import b")) if isinstance(n, ast.ImportFrom))
    assert _imported(package, "driftguard.x", True, known) == {"driftguard.x", "driftguard.x.b"}


def test_no_circle_of_two_modules():
    assert two_cycles(import_graph()) - ALLOWED_TWO_CYCLES == set()


def test_the_issue_21_circles_stay_broken():
    graph = import_graph()
    for a, b in BROKEN_IN_ISSUE_21:
        assert not (b in graph[a] and a in graph[b]), f"{a} and {b} import each other again"
