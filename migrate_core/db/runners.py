"""Where a schema editor's SQL goes: a live connection, or a collector of text.

The schema editor decides *what* SQL a change takes; the object passed to it
decides whether that SQL runs (:class:`Runner`) or is printed by ``sqlmigrate``
(:class:`Collector`). So the editor has no ``connection is None`` branches, and
the printed SQL is exactly what a run would execute. Questions only a live
database can answer (which enum types exist, which indexes MySQL made itself,
whether a SQLite table has rows) go through :meth:`Runner.query`, which a
collector answers with ``None``: the editor then assumes the conservative case.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from alembic.operations import Operations
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect


class Compiled(str):
    """DDL already compiled for the runner's dialect."""


class Runner:
    """Executes on a connection. Dialects with a faster path subclass it (SQLite)."""

    def __init__(self, connection: Connection) -> None:
        self.connection: Connection | None = connection
        self.dialect: Dialect = connection.dialect
        self._ops: Operations | None = None

    @property
    def ops(self) -> Operations:
        """Alembic's Operations, set up on first use.

        Creating the table, its indexes and SQLite's rebuilds need only SQLAlchemy's
        own DDL; a run of such migrations never pays for Alembic's import.
        """
        if self._ops is None:
            from alembic.operations import Operations
            from alembic.runtime.migration import MigrationContext

            self._ops = Operations(MigrationContext.configure(self._live))
        return self._ops

    @property
    def _live(self) -> Connection:
        assert self.connection is not None
        return self.connection

    def execute(self, sql: Any) -> None:
        """Run a SQL construct, text or :class:`Compiled` DDL.

        Constructs go straight to the connection; Alembic's ``execute`` would wrap
        each one first, which a thousand-migration run notices.
        """
        if isinstance(sql, Compiled):
            self.run_compiled(sql)
            return
        if isinstance(sql, str):
            import sqlalchemy as sa

            sql = sa.text(sql)
        self._live.execute(sql)

    def run_compiled(self, sql: Compiled) -> None:
        # An empty parameter set, exactly how SQLAlchemy runs DDL, so that the driver
        # un-doubles the %% that pyformat dialects compile.
        self._live.exec_driver_sql(sql, {})

    def run_sql(self, statement: str) -> None:
        """Run one raw statement as written: no bind-parameter parsing of ``:name`` or ``%``."""
        # no_parameters: the driver gets the statement alone, so psycopg and PyMySQL do
        # not read "%" as a placeholder (SQLAlchemy would pass an empty tuple otherwise).
        self._live.execution_options(no_parameters=True).exec_driver_sql(statement)

    def prepare(self, elements: Sequence[Any]) -> list[Any]:
        """DDL elements in the form :meth:`execute` runs fastest: compiled once, to be cached."""
        return [Compiled(str(e.compile(dialect=self.dialect))) for e in elements]

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any] | None:
        """Rows of a question to the database; ``None`` where there is no database to ask."""
        import sqlalchemy as sa

        return list(self._live.execute(sa.text(sql), dict(params or {})).fetchall())

    def comment(self, text: str) -> None:
        """A note for a reader of the SQL; nothing to run."""

    def output(self) -> str:
        return ""


class Collector(Runner):
    """Collects SQL text for one dialect (``sqlmigrate``), through Alembic's offline mode."""

    def __init__(self, dialect: Dialect) -> None:
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext

        self.connection = None
        self.buffer = io.StringIO()
        context = MigrationContext.configure(
            dialect=dialect,
            opts={"as_sql": True, "output_buffer": self.buffer, "literal_binds": True},
        )
        self._ops = Operations(context)
        self.dialect = context.dialect

    def execute(self, sql: Any) -> None:
        if isinstance(sql, str):
            import sqlalchemy as sa

            sql = sa.text(sql)
        self.ops.execute(sql)

    def run_sql(self, statement: str) -> None:
        self.buffer.write(statement.rstrip().rstrip(";") + ";\n\n")

    def prepare(self, elements: Sequence[Any]) -> list[Any]:
        return list(elements)  # printed by Alembic's offline mode, formatted its way

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any] | None:
        return None

    def comment(self, text: str) -> None:
        self.buffer.write(f"-- {text}\n\n")

    def output(self) -> str:
        return self.buffer.getvalue()
