"""The imports as docs/design.md draws them, read from the source (nothing is imported): no
cycle between modules, Ray only in `search/tune/`, and each package importing only what its row
of the design's table allows. Lazy imports inside functions count too: they run as well."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("space", "trainers", "results", "search")
#: What each package must never import (the design's "may import" column, as its complement): a
#: module and its submodules. `results` draws and reads plain data, so not even `space.layers`,
#: which would bring TensorFlow in by the back door.
FORBIDDEN = {
    "space": {"ray", "trainers", "results", "search"},
    "trainers": {"optuna", "optuna_dashboard", "ray", "results", "search"},
    "results": {"ray", "trainers", "search", "tensorflow", "keras", "keras_cv", "space.layers"},
    "search": set(),
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported_names(path: Path) -> set[str]:
    """Every absolute import in the file that runs (not those under `if TYPE_CHECKING:`), as dotted
    names (`from a.b import c` gives a.b and a.b.c)."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports (a name resolves to its longest module prefix)."""
    graph = {}
    for name, path in found.items():
        edges = set()
        for target in imported_names(path):
            while target and target not in found:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    assert cycles(module_graph(modules())) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_ray_is_imported_only_in_search_tune():
    outside = sorted(
        name
        for name, path in modules().items()
        if not name.startswith("search.tune") and any(n.split(".")[0] == "ray" for n in imported_names(path))
    )
    assert outside == []


def forbidden_imports(path: Path, forbidden: set[str]) -> set[str]:
    """The entries of `forbidden` that the file imports, themselves or a submodule of theirs."""
    return {
        module
        for module in forbidden
        for name in imported_names(path)
        if name == module or name.startswith(module + ".")
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_the_design_allows(package):
    broken = sorted(
        (name, module)
        for name, path in modules().items()
        if name.split(".")[0] == package
        for module in forbidden_imports(path, FORBIDDEN[package])
    )
    assert broken == []


def test_a_forbidden_module_covers_its_submodules_only(tmp_path):
    path = tmp_path / "example.py"
    path.write_text("import keras_cv\nfrom space import layers\nfrom keras.saving import load\n")
    assert forbidden_imports(path, {"keras", "space.layers", "space.ops"}) == {"keras", "space.layers"}


def test_kerascv_and_tensorflow_enter_space_only_where_layers_are_built():
    heavy = {"keras_cv", "tensorflow", "keras"}
    assert (
        sorted(
            name
            for name, path in modules().items()
            if name.startswith("space")
            and name != "space.layers"
            and {n.split(".")[0] for n in imported_names(path)} & heavy
        )
        == []
    )
