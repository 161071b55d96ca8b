"""check-migrations: run every registered check and collect the results.

The runner owns the resources the checks share (:mod:`migrate_core.checks.resources`):
it makes the loader and the git base, plans the models (this layer's job: in the
project's own interpreter with ``python = ...``), and keeps the scratch databases in
an ``ExitStack``, dropped on the way out, after a failure or Ctrl-C too. Before each
check it asks whether the check's needs are met; an unmet need skips the check with
the reason, or (the first time) fails it with the finding that says where.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import NOTE
from migrate_core.checks.findings import WARNING
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Finding
from migrate_core.errors import BadMigrationError
from migrate_core.errors import CircularDependencyError
from migrate_core.errors import ConfigError
from migrate_core.errors import ModelImportError
from migrate_core.errors import ModelProblemsError
from migrate_core.errors import NodeNotFoundError

if TYPE_CHECKING:
    from migrate_core.checks.base import Check
    from migrate_core.checks.resources import ModelsOutcome
    from migrate_core.checks.resources import Resources
    from migrate_core.config import Config
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.graph import MigrationGraph
    from migrate_core.migrations.loader import MigrationLoader
    from migrate_core.usecases.worker import PlanAnswer


@dataclass
class CheckOptions:
    database_url: str | None = None
    base_ref: str | None = None
    apps: list[str] = field(default_factory=list)
    skip: set[str] = field(default_factory=set)
    allow_irreversible: set[str] = field(default_factory=set)
    no_database: bool = False
    progress: Callable[[str], None] | None = None
    #: Scratch databases older than this (seconds) are leftovers: dropped before the run makes its own.
    stale_after: float = 6 * 3600.0


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
    #: Stale scratch databases (other runs' leftovers) this run dropped before making its own.
    stale_dropped: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)

    @property
    def accepted(self) -> int:
        return sum(1 for f in self.findings if f.severity == NOTE and f.accepted)


def _dialect_of(url: str | None) -> str:
    from migrate_core.db import dialects

    return dialects.name_of_url(url, option="--database-url")


def run_checks(config: Config, options: CheckOptions) -> CheckReport:
    from migrate_core.checks import graph as graph_check
    from migrate_core.checks.registry import DATABASE_CHECKS
    from migrate_core.checks.registry import NAMES
    from migrate_core.checks.registry import REGISTRY
    from migrate_core.checks.resources import Resources
    from migrate_core.checks.resources import resolve_base
    from migrate_core.migrations.loader import MigrationLoader
    from migrate_core.vcs import runner

    started = time.perf_counter()
    unknown = options.skip - set(NAMES)
    if unknown:
        raise ConfigError(
            f"--skip {', '.join(sorted(unknown))}: unknown check (checks: {', '.join(NAMES)})"
        )
    apps = [a.name for a in config.select_apps(options.apps)]
    skip = set(options.skip)
    if options.no_database:
        skip |= set(DATABASE_CHECKS)
    dialect = _dialect_of(options.database_url)
    repo_root = runner.repo_root(config.root)
    report = CheckReport([], config.root, repo_root, dialect, 0, 0.0, apps=apps)

    def say(message: str) -> None:
        if options.progress is not None:
            options.progress(message)

    try:
        say("graph: loading migrations")
        loader = MigrationLoader(config)
    except (NodeNotFoundError, CircularDependencyError, BadMigrationError) as exc:
        report.results.append(
            CheckResult("graph", findings=[graph_check.loader_finding(config, exc)])
        )
        return _finished(report, started, skip_rest="the migrations do not load")
    report.graph = loader.graph
    report.migrations = len(loader.graph)
    base = resolve_base(config, loader, options.base_ref, repo_root)
    report.base_ref = base.ref
    report.new_migrations = set(base.new_migrations or ())
    with ExitStack() as stack:
        resources = Resources(
            config,
            loader,
            apps,
            repo_root=repo_root,
            base=base,
            stack=stack,
            plan_models=lambda: plan_models(config, loader, apps),
            database_url=options.database_url,
            allow_irreversible=set(options.allow_irreversible) | set(config.allow_irreversible),
            progress=options.progress,
            stale_after=options.stale_after,
        )
        for check in REGISTRY:
            if check.name in skip:
                report.results.append(CheckResult(check.name, summary="skipped", skipped=True))
                continue
            t = time.perf_counter()
            result = _run_one(check, resources)
            result.duration = time.perf_counter() - t
            report.results.append(result)
        report.stale_dropped = resources.stale_dropped
    return _finished(report, started)


def _run_one(check: Check, resources: Resources) -> CheckResult:
    """The check's result, or why it could not run: the first unmet need decides."""
    from migrate_core.checks.resources import REASONS

    for need in check.needs:
        unmet = resources.unmet(need)
        if unmet is None:
            continue
        finding = resources.claim(need, check.name)
        if finding is not None:
            return CheckResult(check.name, findings=[finding])
        reason = unmet.reason or check.skip_reasons.get(need, REASONS[need])
        return CheckResult(check.name, summary=f"skipped: {reason}", skipped=True)
    resources.say(f"{check.title}: running")
    return check.run(resources)


def plan_models(config: Config, loader: MigrationLoader, apps: list[str]) -> ModelsOutcome:
    """What makemigrations would write for ``apps``, or where the models fail to import.

    With two leaves there is no single current state to compare with: not planned.
    """
    from migrate_core.checks.missing import MODELS_DO_NOT_IMPORT
    from migrate_core.checks.registry import check_of
    from migrate_core.checks.resources import ModelsOutcome
    from migrate_core.db import creatable
    from migrate_core.schema.validate import Problem
    from migrate_core.usecases.makemigrations import pending_changes

    by_app: dict[str, list[str]] = {}
    try:
        if loader.graph.conflicts():
            # Nothing to plan against, but whether the models can be created needs no graph.
            if worker_python(config):
                return ModelsOutcome()
            problems = creatable.model_problems(config)
            return ModelsOutcome(problems=tuple(problems), validated=True)
        answer = _in_project_python(config, apps)
        if answer is not None:
            for m in answer.migrations:
                by_app.setdefault(m.app, []).extend(m.descriptions)
        else:
            migrations, _declined = pending_changes(config, apps)
            for nm in migrations:
                by_app.setdefault(nm.app, []).extend(nm.lines)
    except ModelProblemsError as exc:
        found = tuple(p for p in exc.problems if isinstance(p, Problem))
        if not found:
            raise  # no problem as data (an older worker): the message, exit 2, as before
        return ModelsOutcome(problems=found, validated=True)
    except ModelImportError as exc:
        # In CI a broken models file is a finding on its line, like any other problem.
        code = MODELS_DO_NOT_IMPORT.code
        return ModelsOutcome(
            failure=Finding(
                check_of(code),
                MODELS_DO_NOT_IMPORT.severity,
                str(exc),
                file=Path(exc.path) if exc.path else None,
                line=exc.line,
                code=code,
            )
        )
    return ModelsOutcome(pending=by_app, validated=True)


def _in_project_python(config: Config, apps: list[str]) -> PlanAnswer | None:
    """The worker's answer when ``python = ...`` names another interpreter, else None.

    The models may import packages only the project's environment has (a pre-commit
    hook's environment has migrate-core and SQLAlchemy, nothing else): plan there, as
    makemigrations does.
    """
    from migrate_core.usecases import worker

    python = worker_python(config)
    if python is None:
        return None
    request = worker.PlanRequest(
        pyproject=str(config.path), section=config.raw, apps=tuple(apps), mode="pending"
    )
    return worker.run_in(python, request)


def worker_python(config: Config) -> str | None:
    """The interpreter ``python = ...`` names when it is another environment's, else None."""
    from migrate_core.usecases import worker

    if not config.python:
        return None
    python = worker.resolve_python(config.python, config.root)
    return python if worker.uses_other_python(python) else None


def _finished(report: CheckReport, started: float, *, skip_rest: str | None = None) -> CheckReport:
    """Every check once, in the documented order: the ones that did not run as skipped.

    ``skip_rest``: why the checks that did not run were skipped.
    """
    from migrate_core.checks.registry import NAMES

    done = {r.name for r in report.results}
    reason = f"skipped: {skip_rest}" if skip_rest else "skipped"
    report.results.extend(
        CheckResult(n, summary=reason, skipped=True) for n in NAMES if n not in done
    )
    report.results.sort(key=lambda r: NAMES.index(r.name))
    report.duration = time.perf_counter() - started
    return report
