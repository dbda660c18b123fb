"""The house's rules, read off the code (CONVENTIONS.md, "Layout").

- Dependencies point one way: `desk`, `api` → `notifications` → `orders` →
  `suppliers` → `inventory` → `config`. A lower module never imports a higher
  one, not even inside a function. Admin modules are interface: they may call
  the use cases of `notifications`, never the pages of `desk`. `config` imports
  no app, except `config/urls.py`, which includes the interface's URLs.
- No import of a project module inside a function: an import there hides a
  cycle instead of removing it.
- Only the interface layer speaks HTTP: no function taking an `HttpRequest`
  outside `desk`, `api` and the admin modules.
- A module stays readable in one sitting: none over 600 lines outside migrations.

Every module is parsed (imports inside functions included), nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"config": 0, "inventory": 1, "suppliers": 2, "orders": 3, "notifications": 4}
INTERFACE = {"desk": 5, "api": 5}
RANKS = {**LAYERS, **INTERFACE}
ADMIN_RANK = 4.5  # above every domain app (it may call notifications' use cases), below desk
SCANNED = (*RANKS, "tests", "bench")
MAX_LINES = 600
# Modules allowed past MAX_LINES, each with its reason. Empty: keep it so.
LONG_MODULES: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    nested: bool


def _imports(tree: ast.Module, package: str) -> Iterator[Import]:
    """Every import in the module, top-level or inside a function or class body."""

    def visit(node: ast.AST, nested: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, child.lineno, nested)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against the package
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in child.names:
                    # `from orders import services` imports orders.services
                    yield Import(
                        f"{base}.{alias.name}" if base else alias.name, child.lineno, nested
                    )
            yield from visit(child, inner)

    yield from visit(tree, False)


def _rank(module_path: str) -> float | None:
    """The layer of a module given as a dotted path; None outside the project's layers."""
    top = module_path.split(".")[0]
    if top not in RANKS:
        return None
    if module_path.split(".")[-1] == "admin" and top in LAYERS:
        return ADMIN_RANK
    return RANKS[top]


def _takes_request(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    return any(
        argument.annotation is not None and "HttpRequest" in ast.unparse(argument.annotation)
        for argument in arguments
    )


def violations(root: Path) -> list[str]:
    """What breaks the house's rules under `root`, one line each."""
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] not in SCANNED or "migrations" in relative.parts:
            continue
        dotted = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        text = path.read_text()
        lines = len(text.splitlines())
        where = str(relative)
        if lines > MAX_LINES and where not in LONG_MODULES:
            found.append(f"{where}: {lines} lines (over {MAX_LINES}: split it by flow)")
        tree = ast.parse(text)
        package = dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]
        own = _rank(dotted)
        for imported in _imports(tree, package):
            target = _rank(imported.module)
            if target is None:
                continue
            if imported.nested and relative.parts[0] not in ("tests", "bench"):
                found.append(
                    f"{where}:{imported.line}: imports {imported.module} inside a function"
                )
            if own is None:
                continue
            if where == "config/urls.py" and target in INTERFACE.values():
                continue  # the root URLconf includes the interface's URLs
            if target > own:
                found.append(f"{where}:{imported.line}: imports higher layer {imported.module}")
        interface = relative.parts[0] in INTERFACE or path.name == "admin.py"
        if own is not None and not interface and where != "config/urls.py":
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _takes_request(
                    node
                ):
                    found.append(
                        f"{where}:{node.lineno}: {node.name}() takes an HttpRequest "
                        "outside the interface layer"
                    )
    return found


def test_the_project_keeps_the_house_rules() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("orders/bad.py", "from notifications import updates\n", "imports higher layer"),
        ("inventory/bad.py", "def f():\n    from inventory.models import Product\n", "inside"),
        ("suppliers/bad.py", "from desk.queue import queue\n", "imports higher layer"),
        ("config/bad.py", "import orders.models\n", "imports higher layer"),
        ("orders/admin.py", "from desk import queue\n", "imports higher layer"),
        (
            "orders/bad.py",
            "from django.http import HttpRequest\ndef view(request: HttpRequest): ...\n",
            "takes an HttpRequest",
        ),
        ("notifications/bad.py", "x = 1\n" * (MAX_LINES + 1), "lines (over"),
        ("notifications/services/bad.py", "from ...desk import queue\n", "higher layer desk"),
    ],
)
def test_the_check_finds_each_kind_of_break(
    tmp_path: Path, path: str, source: str, expected: str
) -> None:
    # given a tree with one module that breaks a rule
    module = tmp_path / path
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(source)
    # when it is checked, then the break is named with its file
    found = violations(tmp_path)
    assert len(found) == 1 and path in found[0] and expected in found[0], found


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("orders/admin.py", "from notifications import updates\n"),
        ("desk/queue.py", "from notifications import updates\nfrom orders.models import Tier\n"),
        ("config/urls.py", "from django.urls import include\nimport desk.urls\n"),
        ("notifications/ok.py", "from orders.services import intake\n"),
        ("desk/ok.py", "def f():\n    import json\n"),
    ],
)
def test_the_check_allows_what_the_house_allows(tmp_path: Path, path: str, source: str) -> None:
    module = tmp_path / path
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(source)
    assert violations(tmp_path) == []
