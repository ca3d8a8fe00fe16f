"""The house is one-way: no import cycle in the package, counting imports inside functions.

The graph is read from the source with ``ast`` (nothing is imported): an edge A -> B for every
``import``/``from ... import`` in A that names B, wherever it stands in A (module level, inside a
function, under ``if TYPE_CHECKING``), plus the packages that importing B loads first (importing
``driftproof.evidence.montecarlo`` runs ``driftproof/evidence/__init__.py``). Edges to a module's own
parent packages are left out: they are loaded before the module itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "driftproof"
ROOT = Path(__file__).resolve().parents[1]


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _resolve(name: str, modules) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node, module: str, is_package: bool, modules) -> list[str]:
    if isinstance(node, ast.Import):
        return [_resolve(alias.name, modules) for alias in node.names if alias.name.split(".")[0] == PACKAGE]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source.split(".")[0] != PACKAGE:
        return []
    # ``from .x import y``: y may be a submodule (an edge to it) or a name in x (an edge to x)
    return [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else _resolve(source, modules)
            for alias in node.names]


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the package modules it imports, deferred imports and the packages they load included."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    for module, (path, is_package) in modules.items():
        own_parents = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            for target in _targets(node, module, is_package, modules):
                if target is None:
                    continue
                parts = target.split(".")
                loaded = [".".join(parts[:i]) for i in range(2, len(parts))] + [target]
                edges.update(t for t in loaded if t in modules and t != module and t not in own_parents)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _describe(component: list[str], graph) -> str:
    members = set(component)
    return "\n".join(f"  {m} -> {', '.join(sorted(graph[m] & members))}" for m in component)


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n\n".join(_describe(c, graph) for c in found)


def test_the_walk_sees_deferred_imports_and_finds_a_cycle(tmp_path):
    """The checker can fail: a function-level import closing a loop is a cycle, and so is a package's
    __init__ that a submodule's import loads."""
    package = tmp_path / PACKAGE
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .sub.b import g\n    return g\n")
    (package / "sub" / "__init__.py").write_text("from . import c\n")
    (package / "sub" / "b.py").write_text("g = 1\n")
    (package / "sub" / "c.py").write_text("import driftproof.a\n")
    graph = import_graph(tmp_path)
    assert graph[f"{PACKAGE}.a"] == {f"{PACKAGE}.sub", f"{PACKAGE}.sub.b"}  # deferred, and the package it loads
    assert graph[f"{PACKAGE}.sub.b"] == set()  # its own parent package is not an edge
    assert cycles(graph) == [[f"{PACKAGE}.a", f"{PACKAGE}.sub", f"{PACKAGE}.sub.c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_vocabulary_imports_no_renderer():
    assert not {m for m in import_graph()["driftproof.results"] if m.startswith("driftproof.render")}


def test_the_core_never_imports_the_command_line():
    graph = import_graph()
    leaks = {m: sorted(t for t in targets if t.startswith("driftproof.commands") or t == "driftproof.cli")
             for m, targets in graph.items() if not m.startswith(("driftproof.commands", "driftproof.cli",
                                                                   "driftproof.__main__"))}
    assert not {m: t for m, t in leaks.items() if t}
