"""The reversibility check: the chain applies from nothing, and every migration reverses cleanly.

On a scratch database, for each migration in plan order: reflect the tables it
touches, apply it, reflect, unapply it, reflect and compare with before (must
be equal), apply it again and compare with after. Only the touched tables are
reflected, so the cost grows with the chain, not with chain x tables. Raw SQL
and Python code touch what they like; around those, every table is reflected.

Before each migration, the existing tables it touches get one synthetic row each
(:mod:`migrate_core.db.rows`), because what makemigrations gets wrong shows only on
tables with rows: a NOT NULL change with nothing to fill NULLs, a removed column
its rollback cannot bring back. A migration that fails there is tried again on the
same chain without rows; if it passes, the rows made the difference, and when a
fill is what it lacks that is ``MC506`` (otherwise the row, not the migration, is
suspect, and nothing is reported). Tables that cannot get a row are named in the
summary: a weaker proof for them, never a false finding.

A migration that does not reverse cleanly leaves the scratch database in a
state no migration expects. Rather than stop there (and hide every later
problem), the scratch database is emptied and the chain replayed forwards up
to that point, and the check goes on. At the end the whole chain is applied: the
check says so to the resources (:meth:`Resources.chain_applied`), so the drift
check compares that database without applying the chain a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
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
FAILS_WITH_ROWS = Rule("MC506", "fails on a table with rows", ERROR)


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
        FAILS_WITH_ROWS,
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


@dataclass
class _Attempt:
    """One try of a migration: apply, and unless irreversible, unapply and apply again."""

    #: The run that failed, and in which stage ("apply", "unapply", "reapply").
    failure: MigrationFailed | None = None
    stage: str = ""
    #: What the round trip left different (MC502, MC503).
    problems: list[Finding] = field(default_factory=list)
    irreversible: bool = False


def _attempt(
    resources: Resources,
    runner: ChainRunner,
    key: Key,
    migration: Migration,
    state: ProjectState,
    touched: set[str] | None,
) -> _Attempt:
    executor = runner.executor
    attempt = _Attempt()
    before = runner.reflect(touched)
    stage = "apply"
    try:
        executor.run_migration(migration, state, backwards=False)
        if not migration.reversible:
            attempt.irreversible = True
            return attempt
        after = runner.reflect(touched)
        stage = "unapply"
        executor.run_migration(migration, state, backwards=True)
        undone = runner.reflect(touched)
        for diff in runner.differences(before, undone):
            attempt.problems.append(
                _blame(
                    resources,
                    key,
                    migration,
                    UNAPPLY_LEAVES_DIFFERENCES,
                    f"after unapply, {diff.message}",
                )
            )
        if attempt.problems:
            return attempt
        stage = "reapply"
        executor.run_migration(migration, state, backwards=False)
        redone = runner.reflect(touched)
        for diff in runner.differences(after, redone):
            attempt.problems.append(
                _blame(
                    resources,
                    key,
                    migration,
                    REAPPLY_DIFFERS,
                    f"after unapply and apply again, {diff.message}",
                )
            )
    except MigrationFailed as exc:
        attempt.failure = exc
        attempt.stage = stage
    return attempt


def _seed(
    resources: Resources,
    runner: ChainRunner,
    state: ProjectState,
    touched: set[str] | None,
    no_rows: dict[str, str],
) -> list[str]:
    """One synthetic row in each existing table the migration touches; the tables with a row.

    Tables that cannot get one go into ``no_rows`` with the reason, for the summary.
    """
    from migrate_core.db.rows import seed_rows

    names = set(state.tables) if touched is None else touched & set(state.tables)
    if not names:
        return []
    seeding = seed_rows(runner.conn, state, names)
    for table, why in sorted(seeding.skipped.items()):
        resources.say(f"reversibility: no synthetic row in table {table} ({why})")
        no_rows[table] = why
    return seeding.with_rows


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
        runner.executor.sole_writer()
        state: ProjectState = ProjectState()
        no_rows: dict[str, str] = {}
        for i, key in enumerate(plan, 1):
            migration = loader.migration(key)
            resources.say(f"reversibility: migration {i} of {total}, {key[0]}.{key[1]}")
            touched = touched_tables(migration)
            in_scope = resources.in_scope(key)
            after_state = migration.mutate_state(state)
            with_rows = _seed(resources, runner, state, touched, no_rows)
            attempt = _attempt(resources, runner, key, migration, state, touched)
            problems: list[Finding] = []
            if attempt.failure is not None and with_rows:
                # Failing with rows in the tables proves nothing yet: the same migration
                # on the same tables without rows tells a fill it lacks from a plain failure.
                rows_failure, rows_stage = attempt.failure, attempt.stage
                try:
                    state = runner.rebuild(plan, i - 1)
                except MigrationFailed as exc:
                    return stopped(
                        resources.failure_finding(
                            key, "does not apply on a rebuilt chain", exc, DOES_NOT_APPLY.code
                        ),
                        key,
                    )
                attempt = _attempt(resources, runner, key, migration, state, touched)
                if attempt.failure is None:
                    finding = _rows_finding(
                        resources, key, migration, state, rows_failure, rows_stage, with_rows
                    )
                    if finding is not None:
                        problems.append(finding)
                    else:
                        resources.say(
                            f"reversibility: {key[0]}.{key[1]} fails only with the synthetic "
                            f"rows in {', '.join(with_rows)}, in an operation no fill helps; "
                            f"not reported ({rows_failure.error or rows_failure})"
                        )
            if attempt.failure is not None and attempt.stage == "apply":
                return stopped(
                    resources.failure_finding(
                        key, "does not apply", attempt.failure, DOES_NOT_APPLY.code
                    ),
                    key,
                )
            if attempt.irreversible:
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
            problems.extend(attempt.problems)
            if attempt.failure is not None:
                problems.append(
                    resources.failure_finding(
                        key,
                        "does not unapply and apply again cleanly",
                        attempt.failure,
                        DOES_NOT_REVERSE.code,
                    )
                )
            if in_scope:
                result.findings.extend(problems)
            if attempt.problems or attempt.failure is not None:
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
            f"{total} migration{'s' if total != 1 else ''} applied, reversed and applied again, "
            "each on tables with a row"
        )
        if no_rows:
            # A weaker proof for these, never a false finding: say which and why.
            first = sorted(no_rows)[0]
            result.summary += (
                f" (but {', '.join(sorted(no_rows))}: no synthetic row, e.g. {first}: "
                f"{no_rows[first]})"
            )
    return result


def _rows_finding(
    resources: Resources,
    key: Key,
    migration: Migration,
    state: ProjectState,
    failure: MigrationFailed,
    stage: str,
    with_rows: list[str],
) -> Finding | None:
    """MC506 for a migration that failed only with rows, when a fill is what it lacks.

    Only the operations makemigrations writes a fill for count: a NOT NULL column
    added or made NOT NULL (forwards) and a removed or relaxed column brought back
    (backwards). Anything else that a synthetic row upsets (a key added over a value
    no real row would hold, a type change our value does not cast to) says more
    about the row than about the migration, so it is not a finding.
    """
    from migrate_core.migrations.operations.fields import AddField
    from migrate_core.migrations.operations.fields import AlterField
    from migrate_core.migrations.operations.fields import RemoveField
    from migrate_core.migrations.operations.fields import needs_fill

    index = failure.op_index
    if index is None or not 0 <= index < len(migration.operations):
        return None
    before = next((s.before for s in migration.steps(state) if s.index == index), None)
    if before is None:
        return None
    op = migration.operations[index]
    backwards = stage == "unapply"
    error = failure.error or str(failure).splitlines()[0]
    what = fix = None
    # A fill already written that still fails is the database's complaint about the
    # value, not a missing fill: the other codes report it.
    if isinstance(op, AddField) and not backwards:
        if needs_fill(op.column) and op.fill_value is None:
            what = (
                f"adds NOT NULL column {op.table_name}.{op.column.name} with nothing to fill "
                "the existing rows"
            )
            fix = "write fill_value=... into it (or give the column a server default)"
    elif isinstance(op, AlterField):
        old = before.tables[op.table_name].get_column(op.column.name)
        if old is not None and old.type_code == op.column.type_code:
            if (
                not backwards
                and old.nullable
                and not op.column.nullable
                and op.fill_value is None
                and op.column.server_default is None
            ):
                what = (
                    f"makes column {op.table_name}.{op.column.name} NOT NULL over rows that "
                    "hold NULL, with nothing to fill them"
                )
                fix = "write fill_value=... into it (or give the column a server default)"
            elif (
                backwards
                and not old.nullable
                and op.column.nullable
                and op.reverse_fill is None
                and old.server_default is None
            ):
                what = (
                    f"its rollback makes column {op.table_name}.{op.column.name} NOT NULL again "
                    "over rows that hold NULL"
                )
                fix = "write reverse_fill=... into it"
    elif (
        isinstance(op, RemoveField)
        and backwards
        and op.reverse_fill is None
        and needs_fill(before.tables[op.table_name].column(op.name))
    ):
        what = (
            f"its rollback adds NOT NULL column {op.table_name}.{op.name} back to rows that "
            "have no value for it"
        )
        fix = (
            "write reverse_fill=... into it (makemigrations asks for it), or give the column "
            "a server default in an earlier migration"
        )
    if what is None or fix is None:
        return None
    return resources.finding(
        FAILS_WITH_ROWS.code,
        f"{key[1]}: {op.describe()} fails on a table with rows: {what} ({error}); {fix}",
        key=key,
        op_index=index,
    )


def _blame(
    resources: Resources, key: Key, migration: Migration, rule: Rule, message: str
) -> Finding:
    return resources.finding(rule.code, message, key=key, op_index=blame_index(migration))
