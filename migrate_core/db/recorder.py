"""The history table: which migrations a database has applied, and when.

``migrate_core_migrations(id, app, name, applied_at, checksum)``. The checksum
is the SHA-256 of the migration file when it was applied, so ``migrate`` and
``showmigrations`` can say which files changed afterwards.
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
        sa.UniqueConstraint("app", "name", name=f"uq_{TABLE_NAME}_app_name"),
    )


@contextmanager
def _refusals(connection: Connection, doing: str, rights: str) -> Iterator[None]:
    """The database's refusal of ``doing`` as one line naming the table, the database and
    the rights the role needs, instead of SQLAlchemy's traceback with the SQL echoed."""
    import sqlalchemy as sa

    from migrate_core.db.engine import describe_db_error
    from migrate_core.db.engine import hide_secrets
    from migrate_core.db.engine import mask_url
    from migrate_core.errors import HistoryTableError

    try:
        yield
    except sa.exc.DBAPIError as exc:
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

    def has_table(self) -> bool:
        import sqlalchemy as sa

        with _refusals(self.connection, "look for", _READ):
            return sa.inspect(self.connection).has_table(TABLE_NAME)

    def ensure_table(self) -> None:
        """Create the history table if it is missing (committed at once, outside migrations)."""
        if self.has_table():
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

    def applied(self) -> dict[Key, AppliedMigration]:
        if not self.has_table():
            return {}
        with _refusals(self.connection, "read", _READ):
            rows = self.connection.execute(self.table.select().order_by(self.table.c.id)).all()
        out = {}
        for row in rows:
            out[(row.app, row.name)] = AppliedMigration(
                row.app, row.name, row.applied_at, row.checksum
            )
        return out

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

    def record_unapplied(self, app: str, name: str) -> None:
        t = self.table
        with _refusals(self.connection, "write", _WRITE):
            self.connection.execute(t.delete().where(t.c.app == app, t.c.name == name))

    def is_applied(self, app: str, name: str) -> bool:
        t = self.table
        with _refusals(self.connection, "read", _READ):
            row = self.connection.execute(
                t.select().where(t.c.app == app, t.c.name == name)
            ).first()
        return row is not None
