"""The package's imports go down the layers of ``style.md`` and never in a circle.

Every import counts: at the top of a module, inside a function, and under
``TYPE_CHECKING`` (a deferred import hides a cycle, it does not remove it).
The layers are style.md's table, refined where it is silent: within its
layer 0, ``errors`` is lowest; the store's helpers sit above the store; the
named queries (``sparql``) above everything that writes; ``known_ids`` (the
doors' check of ids and rule ids) between validation and the doors; the
SPARQL endpoint (``endpoint/``) is a door beside GraphQL and viz, as is the
partitioned validation (``partition/``), and
``http/`` and the CLI mount them all. A module may import its own top-level
package or module, and any module of a lower layer; two modules of one
layer may not import each other (they are siblings).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "bepgraph"

LAYERS: list[set[str]] = [
    {"errors"},
    {"settings", "resources", "namespaces", "sparql_lexer", "version"},
    {"sources"},
    {"examples"},
    {"remote"},
    {"store"},
    {"terms", "private_copy", "holdings"},
    {"raw_writes", "bulk_load"},
    {"loading"},
    {"sparql"},
    {"validation"},
    {"known_ids"},
    {"graphql", "viz", "endpoint", "partition", "api"},
    {"http"},
    {"cli"},
    {"__init__"},
]


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its text (functions and TYPE_CHECKING too)."""
    modules = _modules(root)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, (path, package) in modules.items():
        here = name if package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
            else:
                continue
            edges[name] |= {t for t in targets if t in modules and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
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


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(top: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            a, b = _top(module), _top(target)
            if a != b and _layer(b) >= _layer(a):
                wrong.append(f"{module} imports {target} (layer {_layer(a)} -> {_layer(b)})")
    return wrong


def test_every_module_of_the_package_has_a_layer() -> None:
    layered = set().union(*LAYERS)
    assert {_top(m) for m in import_graph()} - layered == set()


def test_the_package_has_no_import_cycle_counting_deferred_imports() -> None:
    assert cycles(import_graph()) == []


def test_imports_go_down_the_layers_only() -> None:
    assert upward_imports(import_graph()) == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "bepgraph" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "bepgraph"


def test_a_cycle_hidden_in_a_function_or_under_type_checking_is_found(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "__init__.py": "",
        "graphql/__init__.py": "",
        "graphql/a.py": "from .b import x\n",
        "graphql/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import y\n",
        "graphql/c.py": "def f():\n    from . import a\n",
    })
    assert cycles(import_graph(root)) == [["bepgraph.graphql.a", "bepgraph.graphql.b", "bepgraph.graphql.c"]]


@pytest.mark.parametrize("text", ["from ..graphql.schema import schema\n", "def f():\n    from ..http import app\n",
                                  "import bepgraph.viz.views\n"])
def test_an_import_up_the_layers_is_found(tmp_path: Path, text: str) -> None:
    root = _write(tmp_path, {
        "__init__.py": "",
        "store.py": "",
        "graphql/__init__.py": "",
        "graphql/schema.py": "",
        "http/__init__.py": "",
        "http/app.py": "",
        "viz/__init__.py": "",
        "viz/views.py": "",
        "validation/__init__.py": "",
        "validation/run.py": text,
    })
    wrong = upward_imports(import_graph(root))
    assert wrong and all(w.startswith("bepgraph.validation.run imports ") for w in wrong)
