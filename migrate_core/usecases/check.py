"""check-migrations: run every check and collect the results.

The scratch databases live exactly as long as the checks that need them: they
are created here and dropped on the way out, after a failure or Ctrl-C too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks import CHECKS
from migrate_core.checks import DATABASE_CHECKS
from migrate_core.checks import ERROR
from migrate_core.checks import WARNING
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.checks import Finding
from migrate_core.errors import BadMigrationError
from migrate_core.errors import CircularDependencyError
from migrate_core.errors import ConfigError
from migrate_core.errors import GitError
from migrate_core.errors import NodeNotFoundError

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.graph import MigrationGraph


@dataclass
class CheckOptions:
    database_url: str | None = None
    base_ref: str | None = None
    apps: list[str] = field(default_factory=list)
    skip: set[str] = field(default_factory=set)
    allow_irreversible: set[str] = field(default_factory=set)
    no_database: bool = False
    progress: Callable[[str], None] | None = None


@dataclass
class CheckReport:
    results: list[CheckResult]
    project_root: Path
    repo_root: Path | None
    dialect: str
    migrations: int
    duration: float
    base_ref: str | None = None
    new_migrations: set[Key] = field(default_factory=set)
    graph: MigrationGraph | None = None
    apps: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)


def _dialect_of(url: str | None) -> str:
    from migrate_core.db import dialects

    return dialects.name_of_url(url, option="--database-url")


def run_checks(config: Config, options: CheckOptions) -> CheckReport:
    from migrate_core.migrations.loader import MigrationLoader
    from migrate_core.vcs import git

    started = time.perf_counter()
    unknown = options.skip - set(CHECKS)
    if unknown:
        raise ConfigError(
            f"--skip {', '.join(sorted(unknown))}: unknown check (checks: {', '.join(CHECKS)})"
        )
    apps = [a.name for a in config.select_apps(options.apps)]
    skip = set(options.skip)
    if options.no_database:
        skip |= set(DATABASE_CHECKS)
    dialect = _dialect_of(options.database_url)
    repo_root = git.repo_root(config.root)
    report = CheckReport([], config.root, repo_root, dialect, 0, 0.0, apps=apps)

    def say(message: str) -> None:
        if options.progress is not None:
            options.progress(message)

    try:
        say("graph: loading migrations")
        loader = MigrationLoader(config)
    except (NodeNotFoundError, CircularDependencyError, BadMigrationError) as exc:
        report.results.append(CheckResult("graph", findings=[_loader_finding(config, exc)]))
        return _finished(report, started, skip_rest="the migrations do not load")
    report.graph = loader.graph
    report.migrations = len(loader.graph)
    allow = set(options.allow_irreversible) | set(config.allow_irreversible)
    context = CheckContext(
        config,
        loader,
        apps,
        repo_root=repo_root,
        allow_irreversible=allow,
        progress=options.progress,
    )
    _resolve_base(context, options, repo_root)
    report.base_ref = context.base_ref
    report.new_migrations = set(context.new_migrations or ())

    from migrate_core.checks import chain
    from migrate_core.checks import destructive
    from migrate_core.checks import drift
    from migrate_core.checks import git_integrity
    from migrate_core.checks import graph as graph_check
    from migrate_core.checks import missing

    def timed(name: str, fn: Callable[[], CheckResult]) -> None:
        if name in skip:
            report.results.append(CheckResult(name, summary="skipped", skipped=True))
            return
        say(f"{CHECKS[name]}: running")
        t = time.perf_counter()
        result = fn()
        result.duration = time.perf_counter() - t
        report.results.append(result)

    timed("graph", lambda: graph_check.run(context))
    broken = graph_check.state_findings(context)
    if broken:
        # Everything but git needs the migrations' state: report where it breaks, not a crash.
        graph_result = report.results[-1]
        graph_result.skipped = False
        graph_result.findings.extend(broken)
        timed("git", lambda: git_integrity.run(context))
        return _finished(report, started, skip_rest="the migrations do not fit together")
    timed("missing", lambda: missing.run(context))
    timed("git", lambda: git_integrity.run(context))
    needs_db = not ({"reversibility", "drift"} <= skip)
    with ExitStack() as stack:
        if needs_db:
            from migrate_core.db.scratch import scratch_database

            say("creating scratch databases")
            context.chain_database_url = stack.enter_context(
                scratch_database(options.database_url, label="chain")
            )
            if "reversibility" in skip:
                _plain_chain(context)
            else:
                timed("reversibility", lambda: chain.run(context))
            if "drift" not in skip:
                # A borrowed database is the only one: drift takes its turn in it.
                expected_url = (
                    None
                    if getattr(context.chain_database_url, "borrowed", False)
                    else stack.enter_context(scratch_database(options.database_url, label="models"))
                )
                timed("drift", lambda: drift.run(context, expected_url))
    timed("destructive", lambda: destructive.run(context))
    return _finished(report, started)


def _finished(report: CheckReport, started: float, *, skip_rest: str | None = None) -> CheckReport:
    """Every check once, in the documented order: the ones that did not run as skipped.

    ``skip_rest``: why the checks that did not run were skipped (else ``--skip`` did it).
    """
    done = {r.name for r in report.results}
    reason = f"skipped: {skip_rest}" if skip_rest else "skipped"
    report.results.extend(
        CheckResult(n, summary=reason, skipped=True) for n in CHECKS if n not in done
    )
    order = list(CHECKS)
    report.results.sort(key=lambda r: order.index(r.name))
    report.duration = time.perf_counter() - started
    return report


def _loader_finding(config: Config, exc: Exception) -> Finding:
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
        "graph",
        ERROR,
        str(exc),
        app=app,
        migration=migration,
        file=Path(path) if path else None,
        line=line,
    )


def _declaring_file(config: Config, node: tuple[str, ...]) -> tuple[str, str, Path, int] | None:
    """The first migration file whose ``dependencies`` name ``node``, with the line."""
    import ast

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


def _plain_chain(context: CheckContext) -> None:
    """Only the drift check wants the database: apply the chain without reversing."""
    from migrate_core.checks import chain
    from migrate_core.db import engine as db
    from migrate_core.db.executor import MigrationExecutor
    from migrate_core.db.recorder import MigrationRecorder
    from migrate_core.errors import MigrationFailed

    assert context.chain_database_url is not None
    with db.open_connection(context.chain_database_url, scratch=True) as conn:
        MigrationRecorder(conn).ensure_table()
        executor = MigrationExecutor(conn, context.config, loader=context.loader)
        try:
            executor.migrate(executor.migration_plan(executor.targets_for(None, None)))
            context.chain_ok = True
        except MigrationFailed as exc:
            # Reversibility is skipped, so nobody else reports this: drift does.
            context.chain_ok = False
            if exc.key is not None:
                context.chain_failure = chain.failure_finding(
                    context, exc.key, "does not apply", exc, check="drift"
                )
            else:
                context.chain_failure = Finding("drift", ERROR, str(exc))


def _resolve_base(context: CheckContext, options: CheckOptions, repo_root: Path | None) -> None:
    from migrate_core.vcs import git

    ref = options.base_ref
    if ref is None and os.environ.get("GITHUB_ACTIONS") == "true":
        ref = os.environ.get("GITHUB_BASE_REF") or None
    if ref is None:
        return
    context.base_ref = ref
    if repo_root is None:
        context.base_error = (
            f"--base-ref {ref}: {context.config.root} is not inside a git repository"
        )
        return
    try:
        context.base_commit = git.resolve_base(repo_root, ref)
        context.base_tip = git.resolve_ref(repo_root, ref)
    except GitError as exc:
        context.base_error = str(exc)
        return
    changed = git.changed_files(
        repo_root,
        context.base_commit,
        [context.config.app(a).migrations_dir for a in context.config.apps],
    )
    new: set[Key] = set()
    for path, status in changed.items():
        if status != "A" or not path.endswith(".py"):
            continue
        absolute = (repo_root / path).resolve()
        for app in context.config.apps.values():
            if absolute.parent == app.migrations_dir.resolve():
                key = (app.name, absolute.stem)
                if key in context.loader.files:
                    new.add(key)
    context.new_migrations = new
