"""The layers import only downward, and halp_core's modules import each other without a cycle.

Layers, lowest first: ``halp_core`` (the solver library) < ``halp_bench`` (peers, reproduction,
MLP, machine) < ``benchmarks`` (asv) < ``dashboard`` and ``tools``. Every module under them is
parsed with ``ast`` (imports inside functions count too), so the check holds for code that is
not imported by any test, and it does not depend on the dashboard's module names.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("halp_core", "halp_bench", "benchmarks", "dashboard", "tools")
FORBIDDEN = {
    "halp_core": {"halp_bench", "benchmarks", "dashboard", "tools", "plotly", "asv", "streamlit"},
    "halp_bench": {"benchmarks", "dashboard", "tools", "asv", "streamlit"},
    "benchmarks": {"dashboard", "tools", "streamlit"},
    "dashboard": {"benchmarks", "tools"},
    "tools": set(),
}


def _module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(layer):
    """{module name: path} of every .py file under ``layer``."""
    return {_module_name(p): p for p in sorted((REPO / layer).rglob("*.py"))}


def _imports(name, path):
    """Absolute names of every module ``name`` (at ``path``) imports; ``from pkg import x`` gives
    pkg.x (a submodule or an attribute: both are kept, callers match by prefix)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _top(imported, layer, local):
    """The top-level name an import refers to; a dashboard module importing a sibling by its
    bare name (streamlit puts dashboard/ on sys.path) stays inside the dashboard."""
    top = imported.split(".")[0]
    return layer if layer == "dashboard" and top in local else top


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_only_downward(layer):
    modules = _modules(layer)
    assert modules, f"no modules under {layer}/"
    local = {p.stem for p in (REPO / layer).glob("*.py")} | {
        p.name for p in (REPO / layer).iterdir() if (p / "__init__.py").exists()}
    bad = sorted((name, imported) for name, path in modules.items()
                 for imported in _imports(name, path)
                 if _top(imported, layer, local) in FORBIDDEN[layer])
    assert not bad, f"{layer} imports upward or a front-end library: {bad}"


def test_halp_core_has_no_import_cycle():
    modules = _modules("halp_core")
    # Edges between modules; a package (halp_core, halp_core.solvers: an __init__.py) imports its
    # submodules and is imported before each of them, so it takes no part in a cycle.
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    graph = {name: sorted(m for m in modules if m not in packages and m != name
                          and any(i == m for i in _imports(name, path)))
             for name, path in modules.items() if name not in packages}
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])


def test_the_graph_sees_relative_and_lazy_imports():
    """The parser resolves ``from . import x`` and imports inside functions (the old
    problems -> datasets loop was a lazy one)."""
    path = REPO / "halp_core" / "problems.py"
    assert "halp_core.cache_dir" in _imports("halp_core.problems", path)
    assert "halp_core.datasets" not in _imports("halp_core.problems", path)
