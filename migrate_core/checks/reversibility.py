"""The reversibility check: the chain applies from nothing, and every migration reverses cleanly.

On a scratch database, for each migration in plan order: reflect the tables it
touches, apply it, reflect, unapply it, reflect and compare with before (must
be equal), apply it again and compare with after. Only the touched tables are
reflected, so the cost grows with the chain, not with chain x tables. Raw SQL
and Python code touch what they like; around those, every table is reflected.

A migration that does not reverse cleanly leaves the scratch database in a
state no migration expects. Rather than stop there (and hide every later
problem), the scratch database is emptied and the chain replayed forwards up
to that point, and the check goes on. At the end the whole chain is applied: the
check says so to the resources (:meth:`Resources.chain_applied`), so the drift
check compares that database without applying the chain a second time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from migrate_core.checks.base import Check
from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Finding
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import DATABASE
from migrate_core.checks.resources import STATE
from migrate_core.errors import MigrationFailed

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.checks.resources import Resources
    from migrate_core.db.executor import MigrationExecutor
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.migration import Migration
    from migrate_core.schema.state import ProjectState

HISTORY = ("migrate_core_migrations",)

IRREVERSIBLE = Rule("MC501", "migration cannot be reversed", ERROR)
UNAPPLY_LEAVES_DIFFERENCES = Rule("MC502", "unapplying leaves the schema changed", ERROR)
REAPPLY_DIFFERS = Rule("MC503", "unapply and apply again gives another schema", ERROR)
DOES_NOT_REVERSE = Rule("MC504", "fails to unapply and apply again", ERROR)
DOES_NOT_APPLY = Rule("MC505", "fails to apply", ERROR)


class ReversibilityCheck(Check):
    name = "reversibility"
    title = "reversibility"
    needs = (STATE, DATABASE)
    codes = (
        IRREVERSIBLE,
        UNAPPLY_LEAVES_DIFFERENCES,
        REAPPLY_DIFFERS,
        DOES_NOT_REVERSE,
        DOES_NOT_APPLY,
    )

    def run(self, resources: Resources) -> CheckResult:
        return run(resources)


def touched_tables(migration: Migration) -> set[str] | None:
    """Tables the migration changes; None when it runs code that may touch any table."""
    tables: set[str] = set()
    for op in migration.operations:
        names = op.tables()
        if names is None:
            return None
        tables |= names
    return tables


def blame_index(migration: Migration) -> int | None:
    """The operation to point at when the migration as a whole misbehaves.

    Operations that only describe schema changes reverse by construction; raw
    SQL and code are what can forget something. With one such operation (or one
    operation at all) that is the line to show; otherwise the class.
    """
    ops = migration.operations
    if len(ops) == 1:
        return 0
    code = [i for i, op in enumerate(ops) if op.tables() is None or not op.reduces_to_sql]
    return code[0] if len(code) == 1 else None


class ChainRunner:
    """Apply, unapply and replay migrations on the scratch database."""

    def __init__(self, resources: Resources, conn: Connection, executor: MigrationExecutor) -> None:
        self.resources = resources
        self.conn = conn
        self.executor = executor

    def reflect(self, tables: set[str] | None) -> Any:
        """A snapshot of ``tables`` (all when None) to compare later with :meth:`differences`.

        The dialect takes it its quickest way (on SQLite: the text of sqlite_master,
        one query instead of a reflection of every table).
        """
        from migrate_core.db.introspection import snapshot

        taken = snapshot(self.conn, tables, exclude=HISTORY)
        if self.conn.in_transaction():
            self.conn.commit()
        return taken

    def differences(self, expected: Any, actual: Any) -> list[Any]:
        from migrate_core.db.introspection import snapshot_differences

        return snapshot_differences(expected, actual)

    def rebuild(self, plan: list[Key], upto: int) -> ProjectState:
        """Empty the scratch database and apply ``plan[:upto]`` forwards; the state after them."""
        from migrate_core.db.recorder import MigrationRecorder
        from migrate_core.db.scratch import empty_database
        from migrate_core.schema.state import ProjectState

        if self.conn.in_transaction():
            self.conn.rollback()
        empty_database(self.conn.engine)
        MigrationRecorder(self.conn).ensure_table()
        self.executor.applied.clear()
        self.executor.sole_writer()
        state = ProjectState()
        for key in plan[:upto]:
            migration = self.resources.loader.migration(key)
            self.executor.run_migration(migration, state, backwards=False)
            state = migration.mutate_state(state)
        return state


def run(resources: Resources) -> CheckResult:
    from migrate_core.db import engine as db
    from migrate_core.db.executor import MigrationExecutor
    from migrate_core.db.recorder import MigrationRecorder
    from migrate_core.schema.state import ProjectState

    result = CheckResult(ReversibilityCheck.name)
    loader = resources.loader
    plan = loader.graph.full_plan()
    total = len(plan)

    def stopped(finding: Finding, key: Key) -> CheckResult:
        result.findings.append(finding)
        result.summary = f"stopped at {key[0]}.{key[1]}"
        resources.chain_applied(finding)
        return result

    with db.open_connection(resources.chain_database(), scratch=True) as conn:
        MigrationRecorder(conn).ensure_table()
        runner = ChainRunner(
            resources, conn, MigrationExecutor(conn, resources.config, loader=loader)
        )
        executor = runner.executor
        executor.sole_writer()
        state: ProjectState = ProjectState()
        for i, key in enumerate(plan, 1):
            migration = loader.migration(key)
            resources.say(f"reversibility: migration {i} of {total}, {key[0]}.{key[1]}")
            touched = touched_tables(migration)
            in_scope = resources.in_scope(key)
            after_state = migration.mutate_state(state)
            before = runner.reflect(touched)
            try:
                executor.run_migration(migration, state, backwards=False)
            except MigrationFailed as exc:
                return stopped(
                    resources.failure_finding(key, "does not apply", exc, DOES_NOT_APPLY.code), key
                )
            if not migration.reversible:
                if in_scope:
                    label = f"{key[0]}.{key[1]}"
                    index = next(
                        n for n, op in enumerate(migration.operations) if not op.reversible
                    )
                    op = migration.operations[index]
                    result.findings.append(
                        resources.finding(
                            IRREVERSIBLE.code,
                            f"{op.describe()} cannot be reversed, so {key[1]} cannot be rolled back; "
                            f"give it a reverse, or accept it with --allow-irreversible {label} "
                            f"(or allow-irreversible in [tool.migrate-core], or "
                            f'accept = ("{IRREVERSIBLE.code}",) in the migration)',
                            key=key,
                            op_index=index,
                        )
                    )
                state = after_state
                continue
            after = runner.reflect(touched)
            problems: list[Finding] = []
            try:
                executor.run_migration(migration, state, backwards=True)
                undone = runner.reflect(touched)
                for diff in runner.differences(before, undone):
                    problems.append(
                        _blame(
                            resources,
                            key,
                            migration,
                            UNAPPLY_LEAVES_DIFFERENCES,
                            f"after unapply, {diff.message}",
                        )
                    )
                if not problems:
                    executor.run_migration(migration, state, backwards=False)
                    redone = runner.reflect(touched)
                    for diff in runner.differences(after, redone):
                        problems.append(
                            _blame(
                                resources,
                                key,
                                migration,
                                REAPPLY_DIFFERS,
                                f"after unapply and apply again, {diff.message}",
                            )
                        )
            except MigrationFailed as exc:
                problems.append(
                    resources.failure_finding(
                        key, "does not unapply and apply again cleanly", exc, DOES_NOT_REVERSE.code
                    )
                )
            if problems:
                if in_scope:
                    result.findings.extend(problems)
                try:
                    state = runner.rebuild(plan, i)
                except MigrationFailed as exc:
                    return stopped(
                        resources.failure_finding(
                            key, "does not apply on a rebuilt chain", exc, DOES_NOT_APPLY.code
                        ),
                        key,
                    )
                continue
            state = after_state
    resources.chain_applied()
    if not result.problems:
        result.summary = (
            f"{total} migration{'s' if total != 1 else ''} applied, reversed and applied again"
        )
    return result


def _blame(
    resources: Resources, key: Key, migration: Migration, rule: Rule, message: str
) -> Finding:
    return resources.finding(rule.code, message, key=key, op_index=blame_index(migration))
