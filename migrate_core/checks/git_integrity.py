"""Check 3: the branch leaves the base branch's migrations alone and builds on its leaf.

A migration that exists on the base branch may already be applied somewhere:
editing or deleting it on a branch is an error. New migrations must start from
the base branch's latest migration of their app; one that starts further back
means the branch is behind (merge the base branch, then ``makemigrations --merge``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from migrate_core.checks import ERROR
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.checks import Finding
from migrate_core.migrations.graph import Key


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


def run(context: CheckContext) -> CheckResult:
    from migrate_core.migrations.graph import MigrationGraph
    from migrate_core.vcs import history

    result = CheckResult("git")
    if context.base_error:
        result.findings.append(Finding("git", ERROR, context.base_error))
        return result
    if context.base_commit is None or context.repo_root is None:
        result.skipped = True
        result.summary = "skipped: no base branch (pass --base-ref, or run in a pull request)"
        return result
    root = context.repo_root
    folders = {app: context.config.app(app).migrations_dir for app in context.apps}
    changed = history.changed_files(root, context.base_commit, list(folders.values()))
    for path, status in sorted(changed.items()):
        if not path.endswith(".py") or Path(path).name.startswith(("_", ".")):
            continue
        if status in ("M", "D"):
            verb = "changed" if status == "M" else "deleted"
            app = next(
                (a for a, f in folders.items() if (root / path).resolve().is_relative_to(f)), None
            )
            result.findings.append(
                Finding(
                    "git",
                    ERROR,
                    f"{path} was {verb} on this branch, but it exists on {context.base_ref}, where it may "
                    "already be applied to a database; leave it as it is and put the change in a new migration",
                    app=app,
                    migration=Path(path).stem,
                    file=root / path,
                    line=1 if status == "M" else None,
                )
            )
    new = context.new_migrations or set()
    # The base branch's latest migration of each app, from its files at the tip of the base.
    tip = context.base_tip or context.base_commit
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
            own_deps = [d for d in context.loader.meta[key].dependencies if d[0] == app]
            for dep in own_deps:
                if dep in new or dep in base_leaves:
                    continue
                leaf_names = ", ".join(n for _, n in sorted(base_leaves))
                result.findings.append(
                    context.migration_finding(
                        "git",
                        ERROR,
                        key,
                        f"{key[1]} builds on {dep[1]}, but the latest {app} migration on {context.base_ref} is "
                        f"{leaf_names}: the branch is behind. Merge {context.base_ref} into it, then run "
                        f"migrate-core makemigrations --merge {app}",
                    )
                )
    if not result.findings:
        count = len([k for k in new if context.in_scope(k)])
        result.summary = (
            f"{count} new migration{'s' if count != 1 else ''} since {context.base_ref}, "
            "none of the old ones changed"
        )
    return result
