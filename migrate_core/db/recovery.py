"""What a migration that never finished left in the database, and where to go on from.

Where DDL commits as it runs (MySQL/MariaDB, and ``atomic = False`` migrations
everywhere) the history table records a migration as started before its first
statement, counts the operations that finished, and marks it applied with its last
(``db/recorder.py``). A process killed in between leaves that row behind. The next
run does not guess: for the operation that was running, it compares the reflected
schema of the tables it changes with the state before it and after it (both built
in a scratch database of the same kind). Equal to after: it ran, resume after it.
Equal to before: it did not, resume with it. Neither, or an operation whose effect
reflection cannot see (RunSQL, RunPython): stop, and say exactly what a person must
check and which statement records their answer. Nothing is ever re-applied silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db.recorder import TABLE_NAME
from migrate_core.db.recorder import InFlight
from migrate_core.errors import InterruptedMigrationError
from migrate_core.errors import MigrateCoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.db.introspection import SchemaSnapshot
    from migrate_core.migrations.migration import Migration
    from migrate_core.migrations.migration import Step
    from migrate_core.schema.state import ProjectState


@dataclass(frozen=True)
class Resume:
    """How to go on with an interrupted migration: skip the first ``skip`` steps of the run."""

    skip: int
    #: What was found, for the person watching (one line each).
    notes: tuple[str, ...]


def assess(
    connection: Connection, migration: Migration, steps: list[Step], entry: InFlight
) -> Resume:
    """Decide where ``migration`` (interrupted as ``entry`` says) goes on; ``steps`` in run order.

    Raises InterruptedMigrationError when the database cannot tell.
    """
    verb = "unapplying" if entry.backwards else "applying"
    head = f"{migration.app}.{migration.name} was interrupted while {verb} (the process was killed or lost its connection)"
    done = min(entry.done, len(steps))
    finished = [steps[i].operation.describe() for i in range(done)]
    notes = [head + "."]
    if finished:
        notes.append(f"  recorded as done: {'; '.join(finished)}")
    if entry.checked or done >= len(steps):
        if entry.checked:
            notes.append("  resuming where the history table was told to")
        return Resume(done, tuple(notes))
    step = steps[done]
    tables = step.operation.tables()
    fix = _manual_fix(migration, step, done, entry.backwards)
    if not tables:
        raise InterruptedMigrationError(
            "\n".join(
                [
                    *notes,
                    f"{step.location}  {step.operation.describe()} was running; what it did cannot "
                    "be read from the schema (raw SQL or Python code).",
                    fix,
                ]
            )
        )
    try:
        before, after = _expected(connection, step, tables)
    except MigrateCoreError as exc:
        raise InterruptedMigrationError(
            "\n".join(
                [
                    *notes,
                    f"{step.location}  {step.operation.describe()} was running; comparing needs a "
                    f"scratch database, and there is none ({exc}).",
                    fix,
                ]
            )
        ) from None
    from migrate_core.db.introspection import reflect_schema

    live = reflect_schema(connection, tables)
    # ``before``/``after`` are forwards: undoing an operation takes ``after`` to ``before``.
    not_yet, already = (after, before) if entry.backwards else (before, after)
    missing = already.differences(live)
    extra = not_yet.differences(live)
    what = step.operation.describe()
    if not missing and extra:
        notes.append(f"  {what}: in the database (its tables match the state after it)")
        return Resume(done + 1, tuple(notes))
    if missing and not extra:
        notes.append(f"  {what}: not in the database (its tables match the state before it)")
        return Resume(done, tuple(notes))
    if not missing and not extra:
        reason = "the schema looks the same before and after it"
    else:
        reason = "the database matches neither the state before it nor after it:\n" + "\n".join(
            [f"    not yet done: {d}" for d in extra] + [f"    still missing: {d}" for d in missing]
        )
    raise InterruptedMigrationError(
        "\n".join([*notes, f"{step.location}  {what} was running; {reason}", fix])
    )


def _manual_fix(migration: Migration, step: Step, done: int, backwards: bool) -> str:
    word = "unapplying" if backwards else "applying"
    where = f"WHERE app = '{migration.app}' AND name = '{migration.name}'"
    return (
        f"Check by hand whether {step.operation.describe()} is in the database (complete or undo "
        "it if it is half done), then record the answer and run migrate again:\n"
        f"  it ran:         UPDATE {TABLE_NAME} SET state = '{word}-checked:{done + 1}' {where};\n"
        f"  it did not run: UPDATE {TABLE_NAME} SET state = '{word}-checked:{done}' {where};"
    )


def _expected(
    connection: Connection, step: Step, tables: set[str]
) -> tuple[SchemaSnapshot, SchemaSnapshot]:
    """The state before and after ``step`` (forwards), as this kind of database holds it."""
    from migrate_core.db import scratch

    url = connection.engine.url.render_as_string(hide_password=False)
    with scratch.scratch_database(url, label="resume") as scratch_url:
        before = _materialize(scratch_url, step.before, tables)
        after = _materialize(scratch_url, step.after, tables, empty_first=True)
    return before, after


def _materialize(
    url: str, state: ProjectState, tables: set[str], *, empty_first: bool = False
) -> SchemaSnapshot:
    import sqlalchemy as sa

    from migrate_core.db import scratch
    from migrate_core.schema import sqla

    metadata: Any = sa.MetaData()
    for table in state.tables.values():
        sqla.to_table(table, metadata)
    # Every table, for the foreign keys; only the operation's tables are compared.
    found = scratch.create_all_and_reflect(
        url, [metadata], set(state.tables), empty_first=empty_first
    )
    return found.only(tables)
