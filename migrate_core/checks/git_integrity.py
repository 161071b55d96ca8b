"""The git-integrity check: the base branch's migrations are left alone, new ones build on its leaf.

A migration that exists on the base branch may already be applied somewhere:
editing or deleting it on a branch is an error. New migrations must start from
the base branch's latest migration of their app; one that starts further back
means the branch is behind (merge the base branch, then ``makemigrations --merge``).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks.base import Check
from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import GIT
from migrate_core.migrations.graph import Key

if TYPE_CHECKING:
    from migrate_core.checks.resources import Resources

BASE_NOT_FOUND = Rule("MC401", "base branch cannot be found", ERROR)
CHANGED = Rule("MC402", "migration on the base branch was changed", ERROR)
DELETED = Rule("MC403", "migration on the base branch was deleted or renamed", ERROR)
BEHIND = Rule("MC404", "new migration does not build on the base branch's leaf", ERROR)


class GitIntegrityCheck(Check):
    name = "git"
    title = "git integrity"
    needs = (GIT,)
    codes = (BASE_NOT_FOUND, CHANGED, DELETED, BEHIND)

    def run(self, resources: Resources) -> CheckResult:
        return run(resources)


def _relative(repo_root: Path, path: Path) -> str:
    return path.resolve().relative_to(repo_root.resolve()).as_posix()


def declared_dependencies(source: bytes) -> list[Key]:
    """``dependencies`` of a migration file, read without importing it (it may not import here)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "dependencies" for t in stmt.targets
                ):
                    try:
                        value = ast.literal_eval(stmt.value)
                    except ValueError:
                        return []
                    return [tuple(d) for d in value if isinstance(d, (tuple, list)) and len(d) == 2]
    return []


def run(resources: Resources) -> CheckResult:
    from migrate_core.migrations.graph import MigrationGraph
    from migrate_core.vcs import history

    result = CheckResult(GitIntegrityCheck.name)
    base = resources.base
    assert base.commit is not None and resources.repo_root is not None  # needs GIT
    root = resources.repo_root
    folders = {app: resources.config.app(app).migrations_dir for app in resources.apps}
    changed = history.changed_files(root, base.commit, list(folders.values()))
    for path, status in sorted(changed.items()):
        if not path.endswith(".py") or Path(path).name.startswith(("_", ".")):
            continue
        if status in ("M", "D"):
            verb = "changed" if status == "M" else "deleted"
            app = next(
                (a for a, f in folders.items() if (root / path).resolve().is_relative_to(f)), None
            )
            result.findings.append(
                resources.finding(
                    (CHANGED if status == "M" else DELETED).code,
                    f"{path} was {verb} on this branch, but it exists on {base.ref}, where it may "
                    "already be applied to a database; leave it as it is and put the change in a new migration",
                    key=(app, Path(path).stem) if app is not None else None,
                    file=root / path,
                    line=1 if status == "M" else None,
                )
            )
    new = base.new_migrations or set()
    # The base branch's latest migration of each app, from its files at the tip of the base.
    tip = base.tip or base.commit
    for app, folder in folders.items():
        rel = _relative(root, folder)
        names = [
            Path(p).stem
            for p in history.list_files_at(root, tip, rel)
            if p.endswith(".py") and not Path(p).name.startswith(("_", "."))
        ]
        if not names:
            continue
        graph = MigrationGraph()
        deps: dict[str, list[Key]] = {}
        for name in names:
            graph.add_node((app, name))
            source = history.file_at(root, tip, f"{rel}/{name}.py") or b""
            deps[name] = declared_dependencies(source)
        for name, ds in deps.items():
            for dep in ds:
                if dep[0] == app and dep in graph:
                    graph.add_dependency((app, name), dep)
        base_leaves = set(graph.leaf_nodes(app))
        for key in sorted(k for k in new if k[0] == app):
            own_deps = [d for d in resources.loader.meta[key].dependencies if d[0] == app]
            for dep in own_deps:
                if dep in new or dep in base_leaves:
                    continue
                leaf_names = ", ".join(n for _, n in sorted(base_leaves))
                result.findings.append(
                    resources.finding(
                        BEHIND.code,
                        f"{key[1]} builds on {dep[1]}, but the latest {app} migration on {base.ref} is "
                        f"{leaf_names}: the branch is behind. Merge {base.ref} into it, then run "
                        f"migrate-core makemigrations --merge {app}",
                        key=key,
                    )
                )
    if not result.problems:
        count = len([k for k in new if resources.in_scope(k)])
        result.summary = (
            f"{count} new migration{'s' if count != 1 else ''} since {base.ref}, "
            "none of the old ones changed"
        )
    return result
