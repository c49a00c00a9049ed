"""The project's import graph, read from the source with `ast` (nothing is imported).

Rules: no import cycles among the project's modules; the engine (`luckytui/`)
never imports Textual, except the composition root `luckytui/app.py`; the
panes and screens never import the simulation; the sources (reads) and the
mitigations (writes) never import each other (both use `luckytui/systems/`);
only the simulation itself and the composition roots (`luckytui/app.py`,
`luckytui/cli.py`) import the simulation.

Every import counts, at module level or inside a function (a lazy import is
still a dependency, and a cycle through it fails at the first call that takes
that path), except those under `if TYPE_CHECKING:`, which never run. Importing
`a.b.c` also runs the packages `a` and `a.b`, so they count as imported too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("luckytui", "widgets", "screens")
ROOTS = ("luckytui.app", "luckytui.cli")  # composition roots

def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield node
        yield from _runtime_nodes(node)


def imported_names(name: str, path: Path) -> Iterator[str]:
    """The dotted names a module imports (a `from a import b` yields a.b and a)."""
    is_package = path.name == "__init__.py"
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def resolve(target: str, modules: Iterable[str]) -> str | None:
    """The project module a dotted name lives in (its longest known prefix)."""
    known = set(modules)
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target in imported_names(name, path):
            dep = resolve(target, modules)
            while dep is not None:  # importing a.b.c runs a and a.b first
                if dep != name and not name.startswith(dep + "."):
                    edges[name].add(dep)
                dep = dep.rpartition(".")[0] or None
    return edges


def external_imports() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: {t.split(".")[0] for t in imported_names(name, path)}
            for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_graph_sees_the_projects_imports() -> None:
    """The reader resolves absolute, relative, lazy and `from package import module`
    imports: a graph that saw nothing would pass every rule below."""
    edges = graph()
    assert "luckytui.systems.http" in edges["luckytui.sources.endpoints"]
    assert "luckytui.configread" in edges["luckytui.mitigations.custom"]
    assert "luckytui.mitigations.custom" in edges["luckytui.mitigations.registry"]  # lazy
    assert len(edges) > 60


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_engine_never_imports_textual() -> None:
    offenders = sorted(m for m, names in external_imports().items()
                       if _in(m, "luckytui") and m != "luckytui.app"
                       and names & {"textual", "widgets", "screens"})
    assert offenders == []


def test_panes_and_screens_never_import_the_simulation() -> None:
    edges = graph()
    offenders = sorted((m, d) for m, deps in edges.items() for d in deps
                       if (_in(m, "widgets") or _in(m, "screens")) and _in(d, "luckytui.sim"))
    assert offenders == []


@pytest.mark.parametrize(("reader", "writer"), [("luckytui.sources", "luckytui.mitigations"),
                                                ("luckytui.mitigations", "luckytui.sources")])
def test_sources_and_mitigations_never_import_each_other(reader: str, writer: str) -> None:
    edges = graph()
    offenders = sorted((m, d) for m, deps in edges.items() for d in deps
                       if _in(m, reader) and _in(d, writer))
    assert offenders == []


def test_only_the_simulation_and_the_composition_roots_import_the_simulation() -> None:
    edges = graph()
    offenders = sorted((m, d) for m, deps in edges.items() for d in deps
                       if _in(d, "luckytui.sim") and not _in(m, "luckytui.sim")
                       and m not in ROOTS)
    assert offenders == []
