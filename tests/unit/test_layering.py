"""Layering is checked, not hoped for: what each folder may import (DESIGN.md's table)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CORE_FORBIDDEN = ("grpc", "httpx", "PySide6", "textual", "starlette", "uvicorn",
                  "google.protobuf")
LABELS_FORBIDDEN = ("grpc", "google.protobuf", "core", "server", "tote")
# The one money formatter lives with Money in the pure domain; labels re-export it for the
# console and the paperwork (labels/money.py), so every layer prints money the same way.
LABELS_MAY_IMPORT = ("core.domain.money",)
# The clients speak gRPC only, like any third-party client: no core, no database.
CLIENT_FORBIDDEN = ("core", "server", "sqlalchemy", "alembic", "psycopg")
# Modules the interpreter imports at start-up when a distribution ships them (Debian's python3
# has a sitecustomize): not imports of tote's.
INTERPRETER_HOOKS = {"sitecustomize", "usercustomize"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative ones resolved, and of
    importlib.import_module("...") / __import__("...") calls with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from google import protobuf` imports google.protobuf
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id == "__import__"))):
            found.append((node.lineno, node.args[0].value))
    return found


def matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(folder: str, forbidden: tuple[str, ...],
               allowed: tuple[str, ...] = ()) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in python_files(folder)
            for line, name in imported_modules(path)
            if matches(name, forbidden) and not matches(name, allowed)]


def loaded_after_importing(package: str) -> list[str]:
    """Every module in sys.modules after a fresh interpreter imports all of the package."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    if not m.name.endswith('.__main__'):  # (running it is not importing it)\n"
        "        importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_ast_scan_sees_every_kind_of_import(tmp_path, monkeypatch):
    pkg = tmp_path / "core" / "domain"
    pkg.mkdir(parents=True)
    source = pkg / "probe.py"
    source.write_text(
        "import grpc.aio\nfrom google import protobuf\nfrom . import money\n"
        "from ..persistence import db\nimport importlib\n"
        "def later():\n    import httpx\n    return importlib.import_module('textual.app')\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    names = {name for _, name in imported_modules(source)}
    assert {"grpc.aio", "google.protobuf", "core.domain.money", "core.persistence.db",
            "httpx", "textual.app"} <= names
    assert len(violations("core", CORE_FORBIDDEN)) == 4


def test_core_source_imports_no_transport_or_ui_library():
    assert python_files("core"), "core/ has no Python files?"
    assert violations("core", CORE_FORBIDDEN) == []


def test_importing_all_of_core_loads_no_transport_or_ui_library():
    loaded = loaded_after_importing("core")
    assert "core.persistence.models" in loaded  # the walk really imported the modules
    assert [m for m in loaded if matches(m, CORE_FORBIDDEN)] == []


def test_core_domain_imports_only_the_standard_library():
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for path in python_files("core/domain")
           for line, name in imported_modules(path)
           if name.split(".")[0] not in sys.stdlib_module_names
           and not matches(name, ("core.domain",)) and name != "__future__"]
    assert bad == []


def outside_the_standard_library(loaded: list[str]) -> list[str]:
    """Top-level modules in loaded that are neither the standard library, core, nor a hook the
    interpreter itself imports at start-up."""
    outside = ({m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"core"}
               - INTERPRETER_HOOKS)
    # The interpreter's own start-up (site, encodings) is stdlib; anything else came from us.
    return sorted(m for m in outside if not m.startswith("_"))


def test_only_interpreter_hooks_are_forgiven():
    loaded = ["json", "sitecustomize", "usercustomize", "core.domain.saga", "httpx._client",
              "httpx", "_distutils_hack"]
    assert outside_the_standard_library(loaded) == ["httpx"]


def test_importing_core_domain_loads_nothing_outside_the_standard_library():
    loaded = loaded_after_importing("core.domain")
    assert "core.domain.saga" in loaded
    assert outside_the_standard_library(loaded) == []
    assert [m for m in loaded if matches(m, ("core",)) and not matches(m, ("core.domain",))
            and m != "core"] == []


def test_labels_import_no_grpc_protobuf_core_server_or_protos():
    assert python_files("labels")
    assert violations("labels", LABELS_FORBIDDEN, LABELS_MAY_IMPORT) == []


def test_the_money_formatter_is_the_only_core_module_labels_import():
    found = {(v.split(":")[0], v.split(" imports ")[1])
             for v in violations("labels", LABELS_FORBIDDEN)}
    assert found == {("labels/money.py", "core.domain.money"),
                     ("labels/money.py", "core.domain.money.format_money"),
                     ("labels/money.py", "core.domain.money.plain_amount")}


def test_importing_the_money_formatter_loads_only_the_standard_library():
    """What labels (and through them the console) take from core: no database, no other core."""
    out = subprocess.run([sys.executable, "-c", "import json, sys, core.domain.money\n"
                          "print(json.dumps(sorted(sys.modules)))"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    # (sitecustomize/usercustomize: the interpreter's own start-up hooks, e.g. Debian's)
    outside = ({m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names)
               - {"core", "sitecustomize", "usercustomize"})
    assert sorted(m for m in outside if not m.startswith("_")) == []
    assert sorted(m for m in loaded if matches(m, ("core",))) == [
        "core", "core.domain", "core.domain.errors", "core.domain.money"]


@pytest.mark.parametrize("folder", ["terminals", "desktop"])
def test_clients_never_import_core_server_or_the_database(folder):
    assert (ROOT / folder / "__init__.py").exists()
    assert violations(folder, CLIENT_FORBIDDEN) == []


def test_the_server_loads_neither_the_sandbox_nor_the_demo_until_asked_for():
    """They are tools beside the server (sandbox/, demo/): `tote serve` without --sandbox, and
    every server module, run without them; `--sandbox` and `tote demo` load them when used."""
    loaded = loaded_after_importing("server")
    assert "server.app" in loaded and "server.cli" in loaded
    assert [m for m in loaded if matches(m, ("sandbox", "demo"))] == []
