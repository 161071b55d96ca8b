"""The house rules of ARCHITECTURE.md, checked by reading the imports (no import-linter needed:
the rules are few, and reading the AST keeps them next to the code they guard).

- Imports point down the layers (module-level and function-level alike: a lazy import is
  still a dependency, it only moves when the cost is paid). ``TYPE_CHECKING`` imports for
  annotations may point anywhere below L6, since they never run.
- The commit hook's module-level imports are the standard library and L0 modules whose own
  module-level imports are the standard library: most commits touch no model and must not
  pay for SQLAlchemy, click or GitPython.
- Only ``vcs/`` runs git (GitPython, or a ``git`` process); only ``db/`` issues DDL.
- No dialect name is compared outside ``db/dialects/``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "migrate_core"

#: Layer of each top-level room (see ARCHITECTURE.md); a module not listed fails the test,
#: so a new room must be given its place on purpose.
LAYERS: dict[str, int] = {
    "__init__": 0,
    "errors": 0,
    "config": 0,
    "paths": 0,
    "cache": 0,
    "options": 0,
    "answers": 0,
    "schema": 1,
    "migrations": 2,
    "db": 3,
    "vcs": 3,
    "checks": 4,
    "usecases": 5,
    "console": 6,
    "cli": 6,
    "hook": 6,
    "entry": 6,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(["migrate_core", *parts])] = path
    return out


MODULES = _modules()


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, int, bool, bool]]:
    """(imported module, line, at module level, only for type checking)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = next(m for m, p in MODULES.items() if p == path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[str, int, bool, bool]] = []

    def visit(node: ast.AST, top: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    visit_stmt(stmt, top, True)
                for stmt in child.orelse:
                    visit_stmt(stmt, top, typing_only)
                continue
            visit_stmt(child, top, typing_only)

    def visit_stmt(child: ast.AST, top: bool, typing_only: bool) -> None:
        if isinstance(child, ast.Import):
            for alias in child.names:
                found.append((alias.name, child.lineno, top, typing_only))
        elif isinstance(child, ast.ImportFrom):
            base = child.module or ""
            if child.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (child.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in child.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in MODULES else base, child.lineno, top, typing_only))
        else:
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, top and not nested, typing_only)

    visit(tree, True, False)
    return found


def _own(name: str) -> str | None:
    """The migrate_core module an import names (a module, or the module holding a name)."""
    while name:
        if name in MODULES:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module: str) -> None:
    room = _room(module)
    assert room in LAYERS, f"{module}: give the room {room!r} a layer in LAYERS and ARCHITECTURE.md"
    mine = LAYERS[room]
    bad = []
    for name, line, _top, typing_only in _imports(MODULES[module]):
        target = _own(name) if name.startswith("migrate_core") else None
        if target is None or target == "migrate_core":
            continue
        theirs = LAYERS.get(_room(target), 99)
        if theirs > mine and not (typing_only and mine < 6 and theirs < 6):
            bad.append(f"{MODULES[module].name}:{line} imports {target} (L{theirs} above L{mine})")
    assert not bad, "\n".join(bad)


def _stdlib(name: str) -> bool:
    top = name.split(".")[0]
    return top in sys.stdlib_module_names or top == "__future__"


def test_the_hook_fast_path_imports_only_the_standard_library() -> None:
    seen: set[str] = set()
    todo = ["migrate_core.hook"]
    bad = []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name, line, top, typing_only in _imports(MODULES[module]):
            if not top or typing_only or _stdlib(name):
                continue
            target = _own(name) if name.startswith("migrate_core") else None
            if target is None:
                bad.append(f"{module}:{line} imports {name} at module level")
            elif target != module:
                todo.append(target)
    assert not bad, "\n".join(bad)


def _calls_and_imports(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    attrs |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return attrs, {name for name, *_ in _imports(path)}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_vcs_runs_git_and_only_db_issues_ddl(module: str) -> None:
    room = _room(module)
    attrs, imports = _calls_and_imports(MODULES[module])
    bad = []
    if room != "vcs":
        bad += [f"imports {n} (GitPython)" for n in imports if n == "git" or n.startswith("git.")]
        if any(n == "subprocess" for n in imports) and module not in (
            "migrate_core.usecases.worker",  # runs the project's Python interpreter, not git
        ):
            bad.append("runs processes (only vcs/ and the worker may)")
    if room != "db":
        bad += [f"imports {n} (DDL)" for n in imports if n.split(".")[0] == "alembic"]
        bad += [
            f"calls {a} (DDL)"
            for a in ("exec_driver_sql", "create_all", "drop_all", "CreateTable", "DropTable")
            if a in attrs
        ]
    assert not bad, f"{module}: " + "; ".join(bad)


DIALECT_WORDS = (
    '"sqlite"',
    '"postgresql"',
    '"mysql"',
    '"mariadb"',
    "is_sqlite",
    "is_mysql",
    "is_postgres",
)


#: Modules that name dialects as data, not to branch on them, and why.
NAMES_DIALECTS_AS_DATA = {
    # A TypeDecorator is written as the type it compiles to on each database, with
    # .with_variant(type, "postgresql"): SQLAlchemy keys type variants by dialect name.
    "migrate_core.schema.codegen",
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_dialect_name_is_compared_outside_the_dialect_modules(module: str) -> None:
    if module.startswith("migrate_core.db.dialects") or module in NAMES_DIALECTS_AS_DATA:
        return
    text = MODULES[module].read_text(encoding="utf-8")
    bad = [
        f"{MODULES[module].name}:{i}: {line.strip()}"
        for i, line in enumerate(text.splitlines(), 1)
        if any(w in line for w in DIALECT_WORDS)
        or "dialect.name ==" in line
        or "dialect.name !=" in line
    ]
    assert not bad, "\n".join(bad)
