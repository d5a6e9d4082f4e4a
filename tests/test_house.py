"""House rules the code itself can check: no import cycle inside samestory, and no
module so long that it does several jobs."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "samestory").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, typing_too: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Every import that runs (at module level or inside functions); those under ``if
    TYPE_CHECKING:`` too when ``typing_too`` (a type is a dependency as well)."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not typing_too:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph(typing_too: bool = True) -> dict[str, set[str]]:
    """samestory module -> the samestory modules it imports (``from a import b`` counts
    as ``a.b`` when that is a module, else as ``a``; a parent package's ``__init__`` is
    not counted for its submodules)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), typing_too):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in modules}
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    deps.add(f"{base}.{alias.name}")
                elif base in modules:
                    deps.add(base)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_inside_samestory():
    graph = import_graph()
    assert "samestory.embed.base" in graph and graph["samestory.embed.cache"] >= {"samestory.embed.base"}
    assert cycles(graph) == []


def test_no_private_name_is_imported_across_packages():
    """``from samestory.a.b import _x`` only inside package ``samestory.a``: a leading underscore
    says "this package's business"."""
    found = []
    for name, path in _modules().items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), typing_too=True):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("samestory"):
                owner = ".".join(node.module.split(".")[:2])
                for alias in node.names:
                    if alias.name.startswith("_") and not package.startswith(owner):
                        found.append(f"{name}: from {node.module} import {alias.name}")
    assert not found, found


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_400_lines():
    long = {str(p.relative_to(SRC)): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


#: Training-only imports: what the runtime install (no ``train`` extra) must never load.
TRAINING_ONLY = ("torch", "onnxmltools", "samestory.training")


def _runtime_modules() -> list[str]:
    """Every module under samestory except the training package and ``__main__`` entry points."""
    return sorted(name for name in _modules()
                  if not name.startswith("samestory.training") and not name.endswith("__main__"))


def test_runtime_modules_import_no_training_code():
    """A fresh interpreter imports every run-time module; then no training module is loaded."""
    import subprocess
    import sys

    script = (
        "import importlib, json, sys\n"
        f"for name in {_runtime_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"prefixes = {TRAINING_ONLY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(prefixes) and "
        "(m in prefixes or m.startswith(tuple(p + '.' for p in prefixes))))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    assert len(_runtime_modules()) > 40         # the walk did find the package


def test_only_load_encoder_and_the_train_command_reach_into_training():
    """Run-time code imports nothing from samestory.training, except on demand:
    ``load_encoder`` for a ``torch-e5`` spec, and the CLI's developer ``train`` command."""
    allowed = {("samestory.embed.backends", "samestory.training.torch_e5"), ("samestory.cli", "samestory.training.scorer")}
    graph = import_graph()
    edges = {(name, dep) for name in _runtime_modules() for dep in graph[name] if dep.startswith("samestory.training")}
    assert ("samestory.embed.backends", "samestory.training.torch_e5") in edges
    unexpected = {(name, dep) for name, dep in edges
                  if not any(name.startswith(src) and dep == target for src, target in allowed)}
    assert not unexpected, unexpected
