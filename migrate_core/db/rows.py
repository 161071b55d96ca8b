"""One synthetic row per table, made from the schema state alone.

The reversibility check applies each migration to tables that have a row, because
that is where makemigrations' mistakes show: a NOT NULL column added or made NOT
NULL with nothing to fill the rows, a removed column that its rollback cannot bring
back. The row is built from the state, not from the database: a value that fits
each NOT NULL column's type, NULL in every nullable column (so that a later NOT
NULL change has a NULL to deal with), nothing where the database fills the column
itself (a server default, an identity, a generated column), and for a foreign key
the key of a row of the parent table, seeded first when it has none.

A table whose row cannot be made (a type we have no value for, a CHECK the value
breaks, a foreign key cycle of NOT NULL columns) gets no row, and the reason is
returned so the check can say so: a table without a row is only a weaker proof,
never a false finding.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.schema.state import ColumnState
    from migrate_core.schema.state import ProjectState
    from migrate_core.schema.state import TableState


class _NoValue(Exception):
    """No value of this column's type is known; the table gets no row."""


@dataclass
class Seeding:
    """What :func:`seed_rows` did: the tables it gave a row, and why it left others empty."""

    seeded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    #: The tables asked about that have a row now (seeded here or earlier).
    with_rows: list[str] = field(default_factory=list)


def seed_rows(connection: Connection, state: ProjectState, tables: Iterable[str]) -> Seeding:
    """Give each of ``tables`` that is empty one row (and the parents its keys need one).

    Each row is committed on its own, so a row that fails leaves the others in place.
    """
    seeder = _Seeder(connection, state)
    for name in sorted(tables):
        if name in state.tables and seeder.seed(name, ()):
            seeder.outcome.with_rows.append(name)
    return seeder.outcome


class _Seeder:
    def __init__(self, connection: Connection, state: ProjectState) -> None:
        self.connection = connection
        self.state = state
        self.outcome = Seeding()
        self.has_row: dict[str, bool] = {}

    def seed(self, name: str, path: tuple[str, ...]) -> bool:
        """Whether ``name`` has a row now (one was there, or one was inserted)."""
        import sqlalchemy as sa

        if name in self.has_row:
            return self.has_row[name]
        if name in path:
            self.outcome.skipped[name] = "its foreign keys form a cycle of NOT NULL columns"
            return False
        table = self.state.tables[name]
        found = self.connection.execute(
            sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)
        ).first()
        self._end()
        if found is not None:
            self.has_row[name] = True
            return True
        try:
            values = self._values(table, (*path, name))
        except _NoValue as exc:
            self.outcome.skipped[name] = str(exc)
            self.has_row[name] = False
            return False
        inserted = self._insert(table, values)
        self.has_row[name] = inserted
        if inserted:
            self.outcome.seeded.append(name)
        return inserted

    def _end(self) -> None:
        if self.connection.in_transaction():
            self.connection.commit()

    def _values(self, table: TableState, path: tuple[str, ...]) -> dict[str, Any]:
        import sqlalchemy as sa

        values: dict[str, Any] = {}
        for fk in table.foreign_keys:
            if all(table.column(c).nullable for c in fk.columns):
                continue  # NULL: the nullable-column rule below
            parent = fk.ref_table
            if parent == table.name or parent not in self.state.tables:
                raise _NoValue(
                    f"its NOT NULL foreign key {fk.name or fk.columns} has no parent row"
                )
            if not self.seed(parent, path):
                raise _NoValue(f"its parent table {parent} has no row")
            ref = sa.table(parent, *(sa.column(c) for c in fk.ref_columns))
            row = self.connection.execute(sa.select(*ref.c).limit(1)).first()
            self._end()
            if row is None:
                raise _NoValue(f"its parent table {parent} has no row")
            values.update(zip(fk.columns, row))
        pk = set(table.primary_key.columns) if table.primary_key else set()
        for column in table.columns:
            if column.name in values or column.computed is not None:
                continue
            if column.identity is not None or (column.autoincrement and column.name in pk):
                continue  # the database numbers it
            if column.nullable and column.name not in pk:
                values[column.name] = None
            elif column.server_default is not None:
                continue
            else:
                values[column.name] = value_for(column, self.connection.dialect)
        return values

    def _insert(self, table: TableState, values: dict[str, Any]) -> bool:
        import sqlalchemy as sa

        from migrate_core.db.engine import describe_db_error
        from migrate_core.schema.sqla import to_table

        # The state's own column types bind the values (enums, JSON, UUIDs), as the
        # application would; keys are left out, the row is only data.
        sa_table = to_table(table, sa.MetaData(), with_foreign_keys=False, with_indexes=False)
        try:
            self.connection.execute(sa_table.insert().values(values))
            self.connection.commit()
        except sa.exc.SQLAlchemyError as exc:
            self.connection.rollback()
            self.outcome.skipped[table.name] = (
                f"the database refused its row: {describe_db_error(exc)}"
            )
            return False
        return True


def value_for(column: ColumnState, dialect: Any = None) -> Any:
    """A value of ``column``'s type that any column of that type accepts.

    With ``dialect``, the type this database creates: a column written as a CHAR(32)
    with a UUID variant (a GUID TypeDecorator whose ``load_dialect_impl`` picks UUID on
    one database) is a UUID column there, and a string would be refused.
    """
    import sqlalchemy as sa

    type_ = column.type
    if dialect is not None and type_ is not None:
        type_ = type_.dialect_impl(dialect)
        if isinstance(type_, sa.types.TypeDecorator):
            type_ = type_.impl_instance
    impl = getattr(type_, "impl_instance", None) or getattr(type_, "impl", None)
    base = impl if isinstance(type_, sa.types.TypeDecorator) and impl is not None else type_
    if isinstance(base, sa.Enum):
        if base.enum_class is not None:
            return next(iter(base.enum_class))
        if base.enums:
            return base.enums[0]
        raise _NoValue(f"enum column {column.name} has no values")
    if isinstance(base, sa.JSON):
        return {}  # its python_type is not implemented
    if isinstance(base, sa.Uuid):
        value = uuid.UUID(int=1)
        return value if base.as_uuid else str(value)
    try:
        python_type = type_.python_type
    except (NotImplementedError, AttributeError):
        raise _NoValue(f"no value is known for column {column.name} ({column.type_code})") from None
    return _by_python_type(python_type, column)


def _by_python_type(python_type: type, column: ColumnState) -> Any:
    if issubclass(python_type, enum.Enum):
        return next(iter(python_type))
    for kind, value in _VALUES:
        if issubclass(python_type, kind):
            return value
    raise _NoValue(f"no value is known for column {column.name} ({column.type_code})")


# bool before int (a bool is an int); datetime before date (a datetime is a date).
_VALUES: tuple[tuple[type, Any], ...] = (
    (bool, False),
    (int, 1),
    (float, 1.0),
    (decimal.Decimal, decimal.Decimal(1)),
    (str, "a"),
    (bytes, b"a"),
    (datetime.datetime, datetime.datetime(2000, 1, 1)),
    (datetime.date, datetime.date(2000, 1, 1)),
    (datetime.time, datetime.time(0, 0)),
    (datetime.timedelta, datetime.timedelta(0)),
    (uuid.UUID, uuid.UUID(int=1)),
    (dict, {}),
    (list, []),
)
