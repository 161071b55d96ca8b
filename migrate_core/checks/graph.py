"""The graph check: one leaf per app, no holes, no loops, no twin numbers, known codes.

Missing dependencies, cycles and files that do not import stop the loader; the
runner reports those as findings of this check (:func:`loader_finding`). What is
found here: forks (two leaves: migrations written on two branches), two files
sharing a number, an operation that does not fit the state the migrations before
it build, and a migration that accepts a code no rule has (a typo would silence
nothing and say nothing).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks.base import Check
from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import WARNING
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Finding
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import STATE
from migrate_core.migrations import writer

if TYPE_CHECKING:
    from migrate_core.checks.resources import Resources
    from migrate_core.config import Config

MISSING_DEPENDENCY = Rule("MC201", "depends on a migration that does not exist", ERROR)
CYCLE = Rule("MC202", "migrations depend on each other in a loop", ERROR)
BAD_FILE = Rule("MC203", "migration file does not load", ERROR)
FORK = Rule("MC204", "app has more than one leaf migration", ERROR)
TWIN_NUMBERS = Rule("MC205", "two migrations share a number", WARNING)
DOES_NOT_FIT = Rule("MC206", "operation does not fit the state before it", ERROR)
UNKNOWN_ACCEPT = Rule("MC207", "accept names an unknown code", ERROR)


class GraphCheck(Check):
    name = "graph"
    title = "graph"
    codes = (MISSING_DEPENDENCY, CYCLE, BAD_FILE, FORK, TWIN_NUMBERS, DOES_NOT_FIT, UNKNOWN_ACCEPT)

    def run(self, resources: Resources) -> CheckResult:
        result = CheckResult(self.name)
        result.findings += _forks(resources)
        result.findings += _twins(resources)
        result.findings += _unknown_accepts(resources)
        broken = resources.claim(STATE, self.name)
        if broken is not None:
            result.findings.append(broken)
        graph = resources.loader.graph
        apps = list(resources.apps)
        total = sum(len(graph.app_nodes(a)) for a in apps)
        leaves_ok = all(len(graph.leaf_nodes(a)) <= 1 for a in apps)
        result.summary = (
            f"{len(apps)} app{'s' if len(apps) != 1 else ''}, {total} migration{'s' if total != 1 else ''}"
            + (", one leaf each" if leaves_ok else "")
        )
        return result


def _forks(resources: Resources) -> list[Finding]:
    graph = resources.loader.graph
    out = []
    for app, leaves in sorted(graph.conflicts().items()):
        if app not in resources.apps:
            continue
        common = graph.common_ancestors(leaves)
        shared = set(common).union(*(graph.ancestors(c) for c in common))
        branches = []
        for leaf in leaves:
            own = [n for a, n in graph.forwards_plan(leaf) if a == app and (a, n) not in shared]
            branches.append(", ".join(own))
        ancestor = ", ".join(n for _, n in common) if common else "none (separate roots)"
        text = " | ".join(f"branch {i + 1}: {b}" for i, b in enumerate(branches))
        out.append(
            resources.finding(
                FORK.code,
                f"{app} has {len(leaves)} leaf migrations ({', '.join(n for _, n in leaves)}), forked after "
                f"{ancestor}; {text}. Run: migrate-core makemigrations --merge {app}",
                key=leaves[-1],
            )
        )
    return out


def _twins(resources: Resources) -> list[Finding]:
    graph = resources.loader.graph
    out = []
    for app in resources.apps:
        by_number: dict[int, list[str]] = {}
        for _app, name in graph.app_nodes(app):
            number = writer.migration_number(name)
            if number is not None:
                by_number.setdefault(number, []).append(name)
        for number, names in sorted(by_number.items()):
            if len(names) > 1 and not _is_merged(resources, app, names):
                out.append(
                    resources.finding(
                        TWIN_NUMBERS.code,
                        f"{app} has {len(names)} migrations numbered {number:04d}: {', '.join(names)}",
                        key=(app, names[-1]),
                    )
                )
    return out


def _is_merged(resources: Resources, app: str, names: list[str]) -> bool:
    """Twin numbers after a merge migration are history, not a problem: warn only while forked.

    Merged means parallel: two branches' migrations joined by a merge migration. Twins
    of which one builds on the other (a branch rebased by hand, its migration pointed at
    the new leaf but not renumbered) are a chain that reads out of order: warn.
    """
    graph = resources.loader.graph
    leaves = graph.leaf_nodes(app)
    if len(leaves) != 1:
        return False
    ancestors = graph.ancestors(leaves[0]) | {leaves[0]}
    keys = [(app, n) for n in names]
    if not all(k in ancestors for k in keys):
        return False
    return not any(a in graph.ancestors(b) for a in keys for b in keys if a != b)


def _unknown_accepts(resources: Resources) -> list[Finding]:
    """``accept`` naming a code no rule has: said on the line of ``accept``, with the codes."""
    from migrate_core.checks.registry import RULES

    out = []
    loader = resources.loader
    for key in sorted(loader.files):
        if not resources.in_scope(key):
            continue
        unknown = [c for c in loader.meta[key].accept if c not in RULES]
        if not unknown:
            continue
        path = loader.files[key].path
        out.append(
            resources.finding(
                UNKNOWN_ACCEPT.code,
                f"{key[1]} accepts {', '.join(unknown)}, which no rule has; "
                "the codes are listed in the README (check-migrations) and shown with every finding",
                key=key,
                file=path,
                line=_accept_line(path),
            )
        )
    return out


def _accept_line(path: Path) -> int | None:
    """Line of ``accept = ...`` in the file's ``class Migration``."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for stmt in node.body:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else []
                if isinstance(stmt, ast.AnnAssign):
                    targets = [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == "accept" for t in targets):
                    return stmt.lineno
            return node.lineno
    return None


def loader_finding(config: Config, exc: Exception) -> Finding:
    """The migrations did not load (a missing dependency, a loop, a broken file): where."""
    from migrate_core.errors import CircularDependencyError
    from migrate_core.errors import NodeNotFoundError

    rule = (
        MISSING_DEPENDENCY
        if isinstance(exc, NodeNotFoundError)
        else CYCLE
        if isinstance(exc, CircularDependencyError)
        else BAD_FILE
    )
    path = getattr(exc, "path", None)
    line = getattr(exc, "line", None)
    app = migration = None
    node = getattr(exc, "node", None)
    if path is None and node is not None:
        # A missing dependency: point at the file that declares it, so that the
        # annotation lands on the line to fix.
        found = _declaring_file(config, tuple(node))
        if found is not None:
            app, migration, path, line = found
    return Finding(
        GraphCheck.name,
        rule.severity,
        str(exc),
        app=app,
        migration=migration,
        file=Path(path) if path else None,
        line=line,
        code=rule.code,
    )


def _declaring_file(config: Config, node: tuple[str, ...]) -> tuple[str, str, Path, int] | None:
    """The first migration file whose ``dependencies`` name ``node``, with the line."""
    for app in config.apps.values():
        folder = app.migrations_dir
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith(("_", ".", "~")):
                continue
            try:
                tree = ast.parse(path.read_bytes())
            except (OSError, SyntaxError, ValueError):
                continue
            for item in ast.walk(tree):
                if isinstance(item, (ast.Tuple, ast.List)) and len(item.elts) == 2:
                    try:
                        value = ast.literal_eval(item)
                    except ValueError:
                        continue
                    if tuple(value) == node:
                        return app.name, path.stem, path, item.lineno
    return None
