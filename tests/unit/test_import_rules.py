"""The import rules of docs/ARCHITECTURE.md, checked: what each layer may import, and no circle.

test_layering.py holds the rules about third-party libraries (no gRPC in core, no core in the
clients); this file holds the rules between tote's own layers and the no-circle rule. Imports
are read from the source (ast): module-level imports and imports inside functions count, those
under `if TYPE_CHECKING:` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "server", "sandbox", "demo", "terminals", "desktop", "labels")

# (layer, what it must never import, exceptions as (importer, imported) prefixes)
Exceptions = tuple[tuple[str, str], ...]
# `tote` is one command for every tool: server/tools_cli.py starts the handhelds, the console
# and the demo, each inside the command that runs it; `tote sandbox` and `tote serve
# --sandbox` start the sandbox (server/cli.py, server/app.py).
LAUNCHER: Exceptions = (("server.tools_cli", "terminals"), ("server.tools_cli", "desktop"),
                        ("server.tools_cli", "demo"), ("server.cli", "sandbox"),
                        ("server.app", "sandbox"))
# The server checks its PEM files with the clients' own checks, so a bad file is described in
# the same words on both sides.
PEM_CHECKS: Exceptions = (("server.tls", "terminals.tls"), ("server.tls_cli", "terminals.tls"))
# The sandbox serves HTTP with the server's runner and signs its webhooks with the scheme the
# server verifies: one implementation, so the two cannot drift apart.
SANDBOX_SHARES: Exceptions = (("sandbox", "server.http_serve"),
                              ("sandbox", "server.adapters.webhook_signing"))
RULES: list[tuple[str, tuple[str, ...], Exceptions]] = [
    # The domain is pure: nothing of tote's outside it.
    ("core.domain", ("core.persistence", "core.service", "server", "sandbox", "demo",
                     "terminals", "desktop", "labels", "tote"), ()),
    # Persistence knows the domain's types, never the use cases or the transport.
    ("core.persistence", ("core.service", "server", "sandbox", "demo", "terminals", "desktop",
                          "labels", "tote"), ()),
    # Use cases see commands, domain objects and repositories: no transport, no protobuf, and
    # no SQL of their own (tables and compiled statements live in core/persistence/repos).
    ("core.service", ("server", "sandbox", "demo", "terminals", "desktop", "tote",
                      "core.persistence.tables", "core.persistence.direct", "core.saga"), ()),
    # The sagas' tables and runner act through commands, queries and ports (the bus, the
    # gateway, the carrier): never on the database or the transport themselves.
    ("core.saga", ("core.persistence", "server", "sandbox", "demo", "terminals", "desktop",
                   "tote"), ()),
    # The server is not a client, and the tools beside it (sandbox, demo) are not the server.
    ("server", ("terminals", "desktop", "demo", "sandbox"), LAUNCHER + PEM_CHECKS),
    # The sandbox stands in for the outside world: it speaks HTTP, knows nothing of tote's
    # insides but the domain's pure helpers.
    ("sandbox", ("core.persistence", "core.service", "server", "terminals", "desktop", "demo"),
     SANDBOX_SHARES),
]
# Protobuf is the edge: only these modules of the server read or build messages (the
# servicers and their conversions and checks, the event streams, the composition root, and
# `tote label render`, whose input is an Order in protobuf's JSON).
PROTOBUF_EDGE = ("server.servicers", "server.convert", "server.fields", "server.decode",
                 "server.app", "server.hub", "server.watching", "server.auth",
                 "server.label_cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    return {module_name(p): p for top in PRODUCT for p in sorted((ROOT / top).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports_of(path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, module) for each import that runs, resolved to a module where one is known
    (`from core.service import orders` is core.service.orders)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(nodes: list[ast.stmt] | list[ast.AST]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend((node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.append((node.lineno, sub if sub in known else target))
            visit(list(ast.iter_child_nodes(node)))

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def graph() -> dict[str, set[str]]:
    modules = product_modules()
    known = set(modules)
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges[name] = {m for _line, m in imports_of(path, known) if m in known and m != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
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
            connect(v)
    return found


def test_the_scan_resolves_imports_and_skips_type_checking_blocks(tmp_path, monkeypatch):
    pkg = tmp_path / "server"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nfrom server import b\n"
        "if TYPE_CHECKING:\n    from server import c\n"
        "def later():\n    from . import c\n")
    (pkg / "b.py").write_text("import server.a\n")
    (pkg / "c.py").write_text("")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "ROOT", tmp_path)
    edges = graph()
    assert edges["server.a"] == {"server.b", "server.c"}  # the later() import counts
    assert cycles(edges) == [["server.a", "server.b"]]


def test_no_import_circle_in_product_code():
    assert cycles(graph()) == []


@pytest.mark.parametrize(("layer", "forbidden", "allowed"), RULES,
                         ids=[rule[0] for rule in RULES])
def test_each_layer_imports_only_what_it_may(layer, forbidden, allowed):
    modules = product_modules()
    known = set(modules)
    mine = {n: p for n, p in modules.items() if matches(n, (layer,))}
    assert mine, f"no modules in {layer}?"
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for n, path in mine.items() for line, name in imports_of(path, known)
           if matches(name, forbidden)
           and not any(matches(n, (who,)) and matches(name, (what,)) for who, what in allowed)]
    assert bad == []


# What a use case may take from SQLAlchemy: the transaction it runs in, and nothing to build
# SQL with (that is the repositories' business).
SQL_FREE = ("core.service", "core.saga")
TRANSACTION_TYPES = {"sqlalchemy.orm.Session", "sqlalchemy.engine.Connection",
                     "sqlalchemy.exc.IntegrityError"}


def test_services_and_sagas_build_no_sql():
    modules = product_modules()
    bad = []
    for name, path in modules.items():
        if not matches(name, SQL_FREE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                bad += [f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}"
                        for a in node.names if matches(a.name, ("sqlalchemy",))]
            elif (isinstance(node, ast.ImportFrom) and node.module
                  and matches(node.module, ("sqlalchemy",))):
                bad += [f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{a.name}"
                        for a in node.names
                        if f"{node.module}.{a.name}" not in TRANSACTION_TYPES]
    assert bad == []


def test_protobuf_messages_are_read_and_built_only_at_the_edge():
    modules = product_modules()
    known = set(modules)
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for n, path in modules.items() if matches(n, ("server", "core"))
           for line, name in imports_of(path, known)
           if matches(name, ("tote.v1",)) and not matches(n, PROTOBUF_EDGE)]
    assert bad == []
