"""migrate: bring a database to the migration files' leaves, or move one app to a target.

The one place that strings the steps together, in this order: take the database's
migration lock, read the history, refuse an inconsistent one, warn about applied
files that changed or vanished, plan, run (the executor creates the history table
when the database has none). ``migrate-core migrate``, the test helpers and the
bench scripts all come through here. Nothing is printed: what happens is reported
as it happens through ``progress`` (a terminal shows it live) and returned as a
:class:`MigrateResult` at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Literal
from typing import TypeAlias

from migrate_core.db.executor import Progress

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from migrate_core.config import Config
    from migrate_core.db.executor import MigrationExecutor
    from migrate_core.db.executor import Plan
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.loader import MigrationLoader


@dataclass(frozen=True)
class FileWarning:
    """An applied migration whose file changed since, or that has no file any more.

    Not an error: the database is what it is, and migrate goes on. But an edited
    applied migration will never run again, so a person should hear about it.
    """

    kind: Literal["changed", "unknown"]
    key: Key
    path: Path | None = None  # the file, for "changed"

    @property
    def message(self) -> str:
        from migrate_core.paths import shown

        app, name = self.key
        if self.kind == "changed" and self.path is not None:
            return (
                f"{shown(self.path)} changed since it was applied ({app}.{name}); "
                "an applied migration should not be edited"
            )
        return f"{app}.{name} is recorded as applied but has no migration file"


@dataclass(frozen=True)
class PlannedOperation:
    """One line of ``migrate --plan``: an operation as it would run."""

    symbol: str
    description: str
    #: Backwards only: the operation has no reverse, so unapplying stops before it.
    irreversible: bool = False


@dataclass(frozen=True)
class PlannedMigration:
    """A migration of the plan, with its operations in the order they would run."""

    key: Key
    backwards: bool
    operations: tuple[PlannedOperation, ...]

    def __str__(self) -> str:
        return f"{self.key[0]}.{self.key[1]}"


@dataclass(frozen=True)
class PlanReady:
    """Sent through ``progress`` once the plan is known, before anything runs."""

    plan: tuple[PlannedMigration, ...]

    @property
    def backwards(self) -> bool:
        return bool(self.plan) and self.plan[0].backwards

    @property
    def apps(self) -> list[str]:
        return sorted({m.key[0] for m in self.plan})


#: What ``progress`` receives: warnings, the plan, then the executor's own reports
#: (waiting for the lock, each migration starting, done or skipped).
Event: TypeAlias = FileWarning | PlanReady | Progress


@dataclass
class MigrateResult:
    """What a migrate call found and did.

    ``plan`` is what was (or, with ``plan_only``, would be) run; ``applied``,
    ``unapplied`` and ``skipped`` (another process got there first) say what happened.
    """

    plan: list[PlannedMigration] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    applied: list[Key] = field(default_factory=list)
    unapplied: list[Key] = field(default_factory=list)
    skipped: list[Key] = field(default_factory=list)
    plan_only: bool = False
    elapsed: float = 0.0

    @property
    def ran(self) -> list[Key]:
        """The migrations this call applied or unapplied, in order."""
        return self.applied or self.unapplied


def migrate(
    config: Config,
    url: str,
    app: str | None = None,
    target: str | None = None,
    *,
    fake: bool = False,
    plan_only: bool = False,
    lock_timeout: float = 600.0,
    progress: Callable[[Event], None] | None = None,
) -> MigrateResult:
    """Connect to ``url`` and migrate (see :func:`migrate_connection`)."""
    from migrate_core.db import engine as db

    # --plan only reads: no write lock at BEGIN, so a migrate in flight is not waited for.
    with db.open_connection(url, read_only=plan_only) as conn:
        return migrate_connection(
            conn,
            config,
            app,
            target,
            fake=fake,
            plan_only=plan_only,
            lock_timeout=lock_timeout,
            progress=progress,
        )


def migrate_connection(
    connection: Connection,
    config: Config,
    app: str | None = None,
    target: str | None = None,
    *,
    fake: bool = False,
    plan_only: bool = False,
    lock_timeout: float = 600.0,
    progress: Callable[[Event], None] | None = None,
    loader: MigrationLoader | None = None,
) -> MigrateResult:
    """Migrate on an open connection: nothing = every app to its leaf; ``app`` = that app
    to its leaf; ``app`` and ``target`` = that app to exactly ``target`` (a name, a unique
    prefix, or ``"zero"``), unapplying what comes after it.

    ``plan_only`` plans without the lock and changes nothing (no history table either);
    where readers can be locked out (SQLite while a writer commits) it waits at most
    ``lock_timeout`` too.
    ``fake`` records the plan as run without running it. Raises MigrationFailed (the
    whole story: file, line, operation, the database's message, what was kept),
    LockTimeout, InconsistentHistoryError, and the loader's errors for bad files.
    ``loader`` reuses migration files already loaded (the checks load them once).
    """
    from migrate_core.db import engine as db
    from migrate_core.db.executor import MigrationExecutor

    report: Callable[[Event], None] = progress or _ignore
    if plan_only:
        with db.reading(connection, timeout=lock_timeout):
            executor = MigrationExecutor(connection, config, loader=loader)
            result = MigrateResult(plan_only=True)
            result.warnings = _warn(executor, report)
            result.plan = planned(executor.migration_plan(executor.targets_for(app, target)))
        report(PlanReady(tuple(result.plan)))
        return result

    def on_wait() -> None:
        report(Progress("wait"))

    with db.migration_lock(connection, timeout=lock_timeout, on_wait=on_wait):
        # Read the history inside the lock: what another run applied meanwhile counts.
        executor = MigrationExecutor(connection, config, progress=report, loader=loader)
        executor.check_consistent_history()
        result = MigrateResult()
        result.warnings = _warn(executor, report)
        plan = executor.migration_plan(executor.targets_for(app, target))
        result.plan = planned(plan)
        if plan:
            report(PlanReady(tuple(result.plan)))
        started = time.perf_counter()
        run = executor.migrate(plan, fake=fake)
        result.elapsed = time.perf_counter() - started
    result.applied, result.unapplied, result.skipped = run.applied, run.unapplied, run.skipped
    return result


def planned(plan: Plan) -> list[PlannedMigration]:
    """An executor plan as data: each migration with its operations in run order."""
    out = []
    for migration, backwards in plan:
        ops = list(reversed(migration.operations)) if backwards else migration.operations
        out.append(
            PlannedMigration(
                migration.key,
                backwards,
                tuple(
                    PlannedOperation(op.symbol, op.describe(), backwards and not op.reversible)
                    for op in ops
                ),
            )
        )
    return out


def _warn(executor: MigrationExecutor, report: Callable[[Event], None]) -> list[FileWarning]:
    warnings = [
        FileWarning("changed", key, executor.loader.files[key].path)
        for key in executor.changed_files()
    ]
    warnings += [FileWarning("unknown", key) for key in executor.unknown_applied()]
    for warning in warnings:
        report(warning)
    return warnings


def _ignore(event: Event) -> None:
    pass
