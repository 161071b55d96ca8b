"""The history table: which migrations a database has applied, and when.

``migrate_core_migrations(id, app, name, applied_at, checksum, state)``. The checksum
is the SHA-256 of the migration file when it was applied, so ``migrate`` and
``showmigrations`` can say which files changed afterwards.

``state`` is NULL for an applied migration. Where DDL commits as it runs
(MySQL/MariaDB), a migration is recorded as started before its first statement
(``applying:N`` / ``unapplying:N``, N operations done so far, updated after each;
``applying-checked:N`` when a person has checked where it stopped)
and finished with its last: a process killed in between leaves a row that says
so, and the next run resumes instead of re-applying (see ``db/recovery.py``). Tables
written before the column existed gain it on the next migrate; their rows are
applied migrations, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.migrations.graph import Key

TABLE_NAME = "migrate_core_migrations"
STATE_COLUMN = "state"


@dataclass(frozen=True)
class InFlight:
    """A migration a run started and never finished: killed, or the connection lost."""

    app: str
    name: str
    backwards: bool
    #: How many operations had finished (in the direction of the run) when it was last seen.
    done: int
    #: A person checked the database and wrote ``done`` (``applying-checked:N``): trust it.
    checked: bool = False


@dataclass(frozen=True)
class AppliedMigration:
    app: str
    name: str
    applied_at: dt.datetime | None
    checksum: str | None


def history_table(metadata: Any = None) -> Any:
    import sqlalchemy as sa

    metadata = metadata if metadata is not None else sa.MetaData()
    return sa.Table(
        TABLE_NAME,
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column(STATE_COLUMN, sa.String(32), nullable=True),
        sa.UniqueConstraint("app", "name", name=f"uq_{TABLE_NAME}_app_name"),
    )


@contextmanager
def _refusals(connection: Connection, doing: str, rights: str) -> Iterator[None]:
    """The database's refusal of ``doing`` as one line naming the table, the database and
    the rights the role needs, instead of SQLAlchemy's traceback with the SQL echoed."""
    import sqlalchemy as sa

    from migrate_core.db import dialects
    from migrate_core.db.engine import describe_db_error
    from migrate_core.db.engine import hide_secrets
    from migrate_core.db.engine import mask_url
    from migrate_core.errors import HistoryTableError

    try:
        yield
    except sa.exc.DBAPIError as exc:
        # Only a refusal is the role's business; a lock wait, a lost connection or a
        # broken table keep their own errors (the lock wait becomes LockTimeout upstream).
        if not dialects.get(connection).is_permission_denied(exc):
            raise
        url = connection.engine.url
        reason = hide_secrets(describe_db_error(exc), url)
        raise HistoryTableError(
            f"cannot {doing} the history table {TABLE_NAME} on {mask_url(url)}: {reason}; "
            f"the role needs {rights} (or run as the role that owns it)"
        ) from None


#: What to grant, said in full wherever the refusal came: granting only what the first
#: refusal named would meet the next one.
_READ = _WRITE = "SELECT, INSERT and DELETE on it (showmigrations: SELECT)"


class MigrationRecorder:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.table = history_table()
        self._insert = self.table.insert()
        self._has_state: bool | None = None

    def has_table(self) -> bool:
        import sqlalchemy as sa

        with _refusals(self.connection, "look for", _READ):
            return sa.inspect(self.connection).has_table(TABLE_NAME)

    def ensure_table(self) -> None:
        """Create the history table if it is missing (committed at once, outside migrations)."""
        if self.has_table():
            self._add_state_column()
            return
        with _refusals(self.connection, "create", f"CREATE on the schema, then {_WRITE}"):
            self._create()

    def _create(self) -> None:
        import sqlalchemy as sa

        try:
            self.table.create(self.connection, checkfirst=True)
            if self.connection.in_transaction():
                self.connection.commit()
        except sa.exc.DBAPIError:
            # Another process created it between our look and our CREATE (SQLite has no
            # migration lock, and the first run of two can race on an empty database).
            if self.connection.in_transaction():
                self.connection.rollback()
            if not self.has_table():
                raise

    def has_state_column(self) -> bool:
        """Whether the table has the ``state`` column (one written by an older version has not)."""
        import sqlalchemy as sa

        if self._has_state is None:
            columns = sa.inspect(self.connection).get_columns(TABLE_NAME)
            self._has_state = any(c["name"] == STATE_COLUMN for c in columns)
        return self._has_state

    def _add_state_column(self) -> None:
        """Bring a history table of an older version forward (committed at once)."""
        import sqlalchemy as sa

        if self.has_state_column():
            return
        quote = self.connection.dialect.identifier_preparer.quote
        try:
            self.connection.exec_driver_sql(
                f"ALTER TABLE {quote(TABLE_NAME)} ADD COLUMN {quote(STATE_COLUMN)} VARCHAR(32) NULL"
            )
            if self.connection.in_transaction():
                self.connection.commit()
        except sa.exc.DBAPIError:
            # Another first run of the new version added it meanwhile.
            if self.connection.in_transaction():
                self.connection.rollback()
            self._has_state = None
            if not self.has_state_column():
                raise
        self._has_state = True

    def _rows(self) -> list[Any]:
        t = self.table
        columns = [t.c.app, t.c.name, t.c.applied_at, t.c.checksum]
        if self.has_state_column():
            columns.append(t.c.state)
        import sqlalchemy as sa

        with _refusals(self.connection, "read", _READ):
            return list(self.connection.execute(sa.select(*columns).order_by(t.c.id)))

    def applied(self) -> dict[Key, AppliedMigration]:
        """Applied migrations: finished ones, and one whose unapplying never finished
        (its schema is partly there; it stays applied until the rollback completes)."""
        if not self.has_table():
            return {}
        out = {}
        for row in self._rows():
            state = row[4] if len(row) > 4 else None
            if state is None or state.startswith("unapplying:"):
                out[(row.app, row.name)] = AppliedMigration(
                    row.app, row.name, row.applied_at, row.checksum
                )
        return out

    def in_flight(self) -> list[InFlight]:
        """Migrations started and never finished, in the order they were started."""
        if not self.has_table() or not self.has_state_column():
            return []
        out = []
        for row in self._rows():
            state = row[4]
            if state is None:
                continue
            word, _, count = state.partition(":")
            direction, _, checked = word.partition("-")
            out.append(
                InFlight(
                    row.app,
                    row.name,
                    direction == "unapplying",
                    int(count) if count.isdigit() else 0,
                    checked == "checked",
                )
            )
        return out

    def record_started(self, app: str, name: str, checksum: str | None, *, backwards: bool) -> None:
        """Before the first statement of a migration whose DDL commits as it runs."""
        if backwards:
            self.record_progress(app, name, 0, backwards=True)
            return
        self.connection.execute(
            self._insert,
            {
                "app": app,
                "name": name,
                "checksum": checksum,
                "applied_at": dt.datetime.now(dt.timezone.utc),
                STATE_COLUMN: "applying:0",
            },
        )

    def record_progress(self, app: str, name: str, done: int, *, backwards: bool) -> None:
        t = self.table
        word = "unapplying" if backwards else "applying"
        self.connection.execute(
            t.update().where(t.c.app == app, t.c.name == name).values(state=f"{word}:{done}")
        )

    def record_finished(self, app: str, name: str) -> None:
        """The last operation of a started migration ran: it is applied."""
        t = self.table
        self.connection.execute(
            t.update()
            .where(t.c.app == app, t.c.name == name)
            .values(state=None, applied_at=dt.datetime.now(dt.timezone.utc))
        )

    def is_started(self, app: str, name: str) -> bool:
        if not self.has_state_column():
            return False
        t = self.table
        row = self.connection.execute(
            t.select().where(t.c.app == app, t.c.name == name, t.c.state.is_not(None))
        ).first()
        return row is not None

    def record_applied(self, app: str, name: str, checksum: str | None) -> None:
        # One statement with parameters, compiled once for the whole run.
        with _refusals(self.connection, "write", _WRITE):
            self._record(app, name, checksum)

    def _record(self, app: str, name: str, checksum: str | None) -> None:
        self.connection.execute(
            self._insert,
            {
                "app": app,
                "name": name,
                "checksum": checksum,
                "applied_at": dt.datetime.now(dt.timezone.utc),
            },
        )

    def record_many(
        self,
        *,
        applied: list[tuple[str, str, str | None]],
        unapplied: list[tuple[str, str]],
    ) -> None:
        """Record a group of migrations at once: one INSERT (executemany) and one DELETE."""
        import sqlalchemy as sa

        t = self.table
        now = dt.datetime.now(dt.timezone.utc)
        with _refusals(self.connection, "write", _WRITE):
            if applied:
                self.connection.execute(
                    self._insert,
                    [
                        {"app": app, "name": name, "checksum": checksum, "applied_at": now}
                        for app, name, checksum in applied
                    ],
                )
            if unapplied:
                self.connection.execute(
                    t.delete().where(sa.tuple_(t.c.app, t.c.name).in_(unapplied))
                )

    def record_unapplied(self, app: str, name: str) -> None:
        t = self.table
        with _refusals(self.connection, "write", _WRITE):
            self.connection.execute(t.delete().where(t.c.app == app, t.c.name == name))

    def is_applied(self, app: str, name: str) -> bool:
        t = self.table
        query = t.select().where(t.c.app == app, t.c.name == name)
        if self.has_state_column():
            query = query.where(t.c.state.is_(None) | t.c.state.like("unapplying:%"))
        with _refusals(self.connection, "read", _READ):
            row = self.connection.execute(query.with_only_columns(t.c.id)).first()
        return row is not None
