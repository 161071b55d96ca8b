"""Schema state: the tables, columns, keys and indexes a chain of migrations produces.

Plain frozen dataclasses, compared by value. Nothing here talks to a database,
and nothing is rebuilt per step: a :class:`ProjectState` is a dict of immutable
:class:`TableState` objects, so copying it costs one dict copy and an operation
replaces only the table it changes. That is what keeps replaying a thousand
migrations cheap (Django rebuilds model classes per step; we never do).

Types and server defaults are compared by their rendering as Python source (see
:mod:`migrate_core.schema.codegen`), which is also what the writer prints: if two
columns render the same, a migration file re-creates one from the other.

The names given to unnamed keys and indexes are :mod:`migrate_core.schema.naming`'s;
reading SQLAlchemy objects into state and building them back for DDL is
:mod:`migrate_core.schema.sqla`'s. This module imports neither SQLAlchemy nor them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from operator import attrgetter
from typing import Any

from migrate_core.errors import InvalidStateError
from migrate_core.schema.equivalence import default_key
from migrate_core.schema.equivalence import type_key


@dataclass(frozen=True, slots=True)
class ColumnState:
    name: str
    type_code: str
    nullable: bool = True
    default_code: str | None = None
    comment: str | None = None
    autoincrement: bool = False
    computed_code: str | None = None
    identity_code: str | None = None
    # The live SQLAlchemy objects behind the codes, used to emit DDL.
    type: Any = field(default=None, compare=False, repr=False)
    server_default: Any = field(default=None, compare=False, repr=False)
    computed: Any = field(default=None, compare=False, repr=False)
    identity: Any = field(default=None, compare=False, repr=False)
    imports: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    # The model's Python-side scalar ``default=`` (a str, int, float or bool), or None.
    # Never part of the schema (the database does not see it, so it is no change), but
    # it is the value the model itself gives new rows: the autodetector fills existing
    # rows of a new NOT NULL column with it instead of asking for a one-off value.
    python_default: Any = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """``NUMERIC(10, 2) NOT NULL DEFAULT '0'``: how the column reads in a message."""
        from migrate_core.schema.sqla import type_sql

        parts = [type_sql(self.type)]
        if not self.nullable:
            parts.append("NOT NULL")
        if self.default_code is not None:
            parts.append(f"DEFAULT {self.default_code}")
        return " ".join(parts)

    def same_definition(self, other: ColumnState) -> bool:
        """Equal but for the name: the test for a rename candidate."""
        return replace(other, name=self.name) == self

    # Columns compare by their fields, but the type and the server default by their keys:
    # spellings every database stores as one (sa.String(50) and sa.VARCHAR(50); "1" and
    # sa.text("1") on an Integer) are equal, so changing the model between them is no
    # migration (schema/equivalence.py says which, and why).
    def _compared(self) -> tuple[Any, ...]:
        return (
            _column_fields(self),
            type_key(self.type_code),
            default_key(self.default_code, self.type_code),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColumnState):
            return NotImplemented
        if _column_fields(self) != _column_fields(other):
            return False
        if self.type_code == other.type_code and self.default_code == other.default_code:
            return True  # the common case, without computing any key
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())


#: The fields a column compares as they are (the type and the default by their keys).
_column_fields = attrgetter(
    *(
        f.name
        for f in fields(ColumnState)
        if f.compare and f.name not in ("type_code", "default_code")
    )
)


@dataclass(frozen=True, slots=True)
class PrimaryKeyState:
    name: str | None
    columns: tuple[str, ...]

    kind = "primary"

    def signature(self) -> tuple[Any, ...]:
        return ("primary", self.columns)


@dataclass(frozen=True, slots=True)
class ForeignKeyState:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None

    kind = "foreignkey"

    def signature(self) -> tuple[Any, ...]:
        return ("foreignkey", *(getattr(self, f) for f in _FK_FIELDS))


_FK_FIELDS = (
    "columns",
    "ref_table",
    "ref_columns",
    "ondelete",
    "onupdate",
    "deferrable",
    "initially",
    "match",
)


@dataclass(frozen=True, slots=True)
class UniqueState:
    name: str | None
    columns: tuple[str, ...]
    deferrable: bool | None = None
    initially: str | None = None

    kind = "unique"

    def signature(self) -> tuple[Any, ...]:
        return ("unique", self.columns, self.deferrable, self.initially)


@dataclass(frozen=True, slots=True)
class CheckState:
    name: str | None
    sqltext: str

    kind = "check"

    def signature(self) -> tuple[Any, ...]:
        return ("check", self.sqltext)


ConstraintState = PrimaryKeyState | ForeignKeyState | UniqueState | CheckState


@dataclass(frozen=True, slots=True)
class IndexState:
    name: str | None
    # Each element is a column name, or SQL text for an expression index.
    elements: tuple[str, ...]
    expressions: tuple[bool, ...]
    unique: bool = False
    # Dialect keyword arguments (postgresql_where=..., mysql_length=...) as rendered code.
    option_codes: tuple[tuple[str, str], ...] = ()
    options: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    kind = "index"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(e for e, is_expr in zip(self.elements, self.expressions) if not is_expr)

    def signature(self) -> tuple[Any, ...]:
        return ("index", self.elements, self.expressions, self.unique, self.option_codes)


@dataclass(frozen=True, slots=True)
class TableState:
    name: str
    app: str
    columns: tuple[ColumnState, ...]
    primary_key: PrimaryKeyState | None = None
    foreign_keys: tuple[ForeignKeyState, ...] = ()
    unique_constraints: tuple[UniqueState, ...] = ()
    check_constraints: tuple[CheckState, ...] = ()
    indexes: tuple[IndexState, ...] = ()
    comment: str | None = None
    option_codes: tuple[tuple[str, str], ...] = ()
    options: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    # -- columns

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def get_column(self, name: str) -> ColumnState | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def column(self, name: str) -> ColumnState:
        column = self.get_column(name)
        if column is None:
            raise KeyError(name)
        return column

    def with_column(self, column: ColumnState) -> TableState:
        return replace(self, columns=(*self.columns, column))

    def replace_column(self, name: str, column: ColumnState) -> TableState:
        return replace(self, columns=tuple(column if c.name == name else c for c in self.columns))

    def without_column(self, name: str) -> TableState:
        return replace(self, columns=tuple(c for c in self.columns if c.name != name))

    # -- constraints and indexes

    def constraints(self) -> Iterator[ConstraintState]:
        if self.primary_key is not None:
            yield self.primary_key
        yield from self.foreign_keys
        yield from self.unique_constraints
        yield from self.check_constraints

    def get_constraint(self, name: str) -> ConstraintState | None:
        for constraint in self.constraints():
            if constraint.name == name:
                return constraint
        return None

    def get_index(self, name: str) -> IndexState | None:
        for index in self.indexes:
            if index.name == name:
                return index
        return None

    def with_constraint(self, constraint: ConstraintState) -> TableState:
        if isinstance(constraint, PrimaryKeyState):
            return replace(self, primary_key=constraint)
        if isinstance(constraint, ForeignKeyState):
            return replace(self, foreign_keys=sorted_items((*self.foreign_keys, constraint)))
        if isinstance(constraint, UniqueState):
            return replace(
                self, unique_constraints=sorted_items((*self.unique_constraints, constraint))
            )
        return replace(self, check_constraints=sorted_items((*self.check_constraints, constraint)))

    def without_constraint(self, name: str) -> TableState:
        pk = self.primary_key
        if pk is not None and pk.name == name:
            return replace(self, primary_key=None)
        return replace(
            self,
            foreign_keys=tuple(c for c in self.foreign_keys if c.name != name),
            unique_constraints=tuple(c for c in self.unique_constraints if c.name != name),
            check_constraints=tuple(c for c in self.check_constraints if c.name != name),
        )

    def with_index(self, index: IndexState) -> TableState:
        return replace(self, indexes=sorted_items((*self.indexes, index)))

    def without_index(self, name: str) -> TableState:
        return replace(self, indexes=tuple(i for i in self.indexes if i.name != name))

    def references(self) -> set[str]:
        """Tables this one points at through foreign keys (itself excluded)."""
        return {fk.ref_table for fk in self.foreign_keys if fk.ref_table != self.name}

    # -- changes that reach through the whole table (the invariants ProjectState relies on)

    def with_column_dropped(self, column: str) -> TableState:
        """Without ``column`` and without the indexes and constraints that cover it.

        A key or index over a column that is gone cannot exist; every database
        drops or refuses it, so the state drops it with the column.
        """
        out = self.without_column(column)
        for index in self.indexes:
            if column in index.columns:
                out = out.without_index(index.name or "")
        for constraint in self.constraints():
            if column in constraint_columns(constraint):
                if isinstance(constraint, PrimaryKeyState):
                    out = replace(out, primary_key=None)
                elif constraint.name is not None:
                    out = out.without_constraint(constraint.name)
        return out

    def with_column_renamed(self, old: str, new: str) -> TableState:
        """With a column renamed everywhere this table names it: keys, indexes, checks.

        A foreign key of this table that refers to the table itself follows too;
        other tables' keys are :meth:`ProjectState.rename_column`'s business.
        """

        def ren(cols: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(new if c == old else c for c in cols)

        # In SQL text (checks, expression indexes) only the bare word: not t.old, not old_at.
        pattern = re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)")
        columns = tuple(replace(c, name=new) if c.name == old else c for c in self.columns)
        pk = self.primary_key
        if pk is not None:
            pk = replace(pk, columns=ren(pk.columns))
        fks = tuple(
            replace(
                fk,
                columns=ren(fk.columns),
                ref_columns=ren(fk.ref_columns) if fk.ref_table == self.name else fk.ref_columns,
            )
            for fk in self.foreign_keys
        )
        uniques = tuple(replace(u, columns=ren(u.columns)) for u in self.unique_constraints)
        checks = tuple(
            replace(c, sqltext=pattern.sub(new, c.sqltext)) for c in self.check_constraints
        )
        indexes = tuple(
            replace(
                i,
                elements=tuple(
                    pattern.sub(new, e) if is_expr else (new if e == old else e)
                    for e, is_expr in zip(i.elements, i.expressions)
                ),
            )
            for i in self.indexes
        )
        return replace(
            self,
            columns=columns,
            primary_key=pk,
            foreign_keys=fks,
            unique_constraints=uniques,
            check_constraints=checks,
            indexes=indexes,
        )

    def with_references_renamed(self, old: str, new: str) -> TableState:
        """With the foreign keys that point at table ``old`` pointing at ``new``."""
        fks = tuple(
            replace(fk, ref_table=new) if fk.ref_table == old else fk for fk in self.foreign_keys
        )
        return self if fks == self.foreign_keys else replace(self, foreign_keys=fks)

    def with_referred_column_renamed(self, table: str, old: str, new: str) -> TableState:
        """With the foreign keys that point at ``table.old`` pointing at ``table.new``."""
        fks = tuple(
            replace(fk, ref_columns=tuple(new if c == old else c for c in fk.ref_columns))
            if fk.ref_table == table
            else fk
            for fk in self.foreign_keys
        )
        return self if fks == self.foreign_keys else replace(self, foreign_keys=fks)


def sorted_items(items: Iterable[Any]) -> tuple[Any, ...]:
    """Keys and indexes in a fixed order, so two states built in any order compare equal."""
    return tuple(sorted(items, key=lambda c: (c.name or "", repr(c.signature()))))


def constraint_columns(constraint: ConstraintState) -> tuple[str, ...]:
    """Columns a constraint covers; for a check, the column names its SQL mentions."""
    if isinstance(constraint, CheckState):
        return tuple(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", constraint.sqltext))
    return constraint.columns


def _invalid(operation: str, message: str) -> InvalidStateError:
    """The error for a chain that does not fit its state, prefixed with the operation."""
    where = f"{operation}: " if operation else ""
    return InvalidStateError(f"{where}{message}")


class ProjectState:
    """All tables of all apps that share one database, keyed by table name.

    Mutable on purpose: replay changes one state in place, and callers that need a
    snapshot take :meth:`clone`, which copies only the dict.

    The changing methods (``create_table`` ... ``rename_constraint``) are where
    the rules of a schema live, as in Django's ProjectState: look a thing up or
    raise, refuse what a database would refuse (a duplicate name, a key on a
    missing column, dropping what another table still points at), and keep every
    key and index consistent when a table or column is renamed or dropped.
    Operations only check their own arguments and call them. ``operation`` is
    the description of the operation asking, put in front of every error so the
    person reading it knows which migration line to look at.
    """

    __slots__ = ("tables",)

    def __init__(self, tables: dict[str, TableState] | None = None) -> None:
        self.tables: dict[str, TableState] = dict(tables or {})

    def clone(self) -> ProjectState:
        return ProjectState(self.tables)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectState) and other.tables == self.tables

    def __repr__(self) -> str:
        return f"<ProjectState {sorted(self.tables)}>"

    def app_tables(self, app: str) -> dict[str, TableState]:
        return {name: t for name, t in self.tables.items() if t.app == app}

    def only_apps(self, apps: Iterable[str]) -> ProjectState:
        wanted = set(apps)
        return ProjectState({n: t for n, t in self.tables.items() if t.app in wanted})

    def referencing(self, table_name: str) -> list[tuple[TableState, ForeignKeyState]]:
        """Foreign keys of other tables that point at ``table_name``."""
        out = []
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if fk.ref_table == table_name and other.name != table_name:
                    out.append((other, fk))
        return out

    # -- look up, or raise in the one wording every operation shares

    def get_table(self, name: str) -> TableState | None:
        return self.tables.get(name)

    def table(self, name: str, *, operation: str = "") -> TableState:
        try:
            return self.tables[name]
        except KeyError:
            raise _invalid(
                operation, f"table {name} does not exist in the state the earlier migrations build"
            ) from None

    def column(self, table: str, name: str, *, operation: str = "") -> ColumnState:
        column = self.table(table, operation=operation).get_column(name)
        if column is None:
            raise _invalid(operation, f"table {table} has no column {name}")
        return column

    def index(self, table: str, name: str, *, operation: str = "") -> IndexState:
        index = self.table(table, operation=operation).get_index(name)
        if index is None:
            raise _invalid(operation, f"there is no index {name} on {table}")
        return index

    def constraint(self, table: str, name: str, *, operation: str = "") -> ConstraintState:
        constraint = self.table(table, operation=operation).get_constraint(name)
        if constraint is None:
            raise _invalid(operation, f"there is no constraint {name} on {table}")
        return constraint

    # -- tables

    def add_table(self, table: TableState) -> None:
        """Put a table in as it is, unchecked: for states built from models, not from migrations."""
        self.tables[table.name] = table

    def replace_table(self, table: TableState) -> None:
        self.tables[table.name] = table

    def create_table(self, table: TableState, *, operation: str = "") -> None:
        if table.name in self.tables:
            raise _invalid(operation, f"table {table.name} already exists")
        self.tables[table.name] = table

    def remove_table(self, name: str, *, operation: str = "") -> None:
        """Drop a table, refusing while another table's foreign key points at it."""
        self.table(name, operation=operation)
        for other, fk in self.referencing(name):
            raise _invalid(
                operation,
                f"table {other.name} still has foreign key {fk.name or fk.columns} "
                "pointing at it; remove that constraint first",
            )
        del self.tables[name]

    def alter_table_comment(self, name: str, comment: str | None, *, operation: str = "") -> None:
        self.tables[name] = replace(self.table(name, operation=operation), comment=comment)

    def rename_table(self, old: str, new: str, *, operation: str = "") -> None:
        """Rename a table; every foreign key that points at it (its own too) follows."""
        table = self.table(old, operation=operation)
        if new in self.tables:
            raise _invalid(operation, f"table {new} already exists")
        del self.tables[old]
        self.tables[new] = replace(table, name=new).with_references_renamed(old, new)
        for name, other in self.tables.items():
            self.tables[name] = other.with_references_renamed(old, new)

    # -- columns

    def add_column(
        self,
        table: str,
        column: ColumnState,
        *,
        constraints: Iterable[ConstraintState] = (),
        indexes: Iterable[IndexState] = (),
        operation: str = "",
    ) -> None:
        """Add a column with the keys and indexes declared on it (``unique=True``, a ForeignKey)."""
        current = self.table(table, operation=operation)
        if current.get_column(column.name) is not None:
            raise _invalid(operation, f"column {table}.{column.name} already exists")
        current = current.with_column(column)
        for constraint in constraints:
            current = current.with_constraint(constraint)
        for index in indexes:
            current = current.with_index(index)
        self.tables[table] = current

    def alter_column(
        self,
        table: str,
        column: ColumnState,
        *,
        operation: str = "",
        keep_autoincrement: bool = True,
    ) -> None:
        """Replace a column's definition; a primary key column stays NOT NULL, and autoincrement
        while its new type is an integer (an ``id`` that becomes a UUID no longer is: kept, the
        state would differ from the models forever and every makemigrations would write the
        same AlterField again), unless ``keep_autoincrement`` is off: the file said
        ``autoincrement=False``."""
        old = self.column(table, column.name, operation=operation)
        current = self.tables[table]
        if current.primary_key and column.name in current.primary_key.columns:
            keep = keep_autoincrement and old.autoincrement and _can_autoincrement(column)
            column = replace(column, nullable=False, autoincrement=column.autoincrement or keep)
        self.tables[table] = current.replace_column(old.name, column)

    def remove_column(self, table: str, name: str, *, operation: str = "") -> None:
        """Drop a column and whatever key or index covers it.

        Refused while another table's foreign key points at the column: dropping
        that key is a decision the migration must make, not one to take silently.
        """
        self.column(table, name, operation=operation)
        for other, fk in self.referencing(table):
            if name in fk.ref_columns:
                raise _invalid(
                    operation,
                    f"foreign key {fk.name} on {other.name} points at this column; "
                    "remove that constraint first",
                )
        self.tables[table] = self.tables[table].with_column_dropped(name)

    def rename_column(self, table: str, old: str, new: str, *, operation: str = "") -> None:
        """Rename a column; its keys and indexes, and other tables' keys that name it, follow."""
        self.column(table, old, operation=operation)
        current = self.tables[table]
        if current.get_column(new) is not None:
            raise _invalid(operation, f"column {table}.{new} already exists")
        self.tables[table] = current.with_column_renamed(old, new)
        for other, _fk in self.referencing(table):
            self.tables[other.name] = self.tables[other.name].with_referred_column_renamed(
                table, old, new
            )

    # -- indexes

    def add_index(self, table: str, index: IndexState, *, operation: str = "") -> None:
        current = self.table(table, operation=operation)
        if current.get_index(index.name or "") is not None:
            raise _invalid(operation, f"index {index.name} already exists")
        _check_columns(current, index.columns, operation)
        self.tables[table] = current.with_index(index)

    def remove_index(self, table: str, name: str, *, operation: str = "") -> None:
        self.index(table, name, operation=operation)
        self.tables[table] = self.tables[table].without_index(name)

    def rename_index(self, table: str, old: str, new: str, *, operation: str = "") -> None:
        index = self.index(table, old, operation=operation)
        self.tables[table] = (
            self.tables[table].without_index(old).with_index(replace(index, name=new))
        )

    # -- constraints

    def add_constraint(
        self, table: str, constraint: ConstraintState, *, operation: str = ""
    ) -> None:
        """Add a key or check; refused on a second primary key, a taken name or a missing column."""
        current = self.table(table, operation=operation)
        if isinstance(constraint, PrimaryKeyState) and current.primary_key is not None:
            raise _invalid(operation, f"table {table} already has a primary key")
        if constraint.name is not None and current.get_constraint(constraint.name) is not None:
            raise _invalid(operation, f"constraint {constraint.name} already exists")
        if not isinstance(constraint, CheckState):
            _check_columns(current, constraint.columns, operation)
        # A key may point at a table outside the state, as in create_table and add_column:
        # one the models do not own (exclude-tables). makemigrations refuses a key to a
        # table that is neither (MV002) before it writes anything.
        self.tables[table] = current.with_constraint(constraint)

    def remove_constraint(self, table: str, name: str, *, operation: str = "") -> None:
        self.constraint(table, name, operation=operation)
        self.tables[table] = self.tables[table].without_constraint(name)

    def rename_constraint(self, table: str, old: str, new: str, *, operation: str = "") -> None:
        constraint = self.constraint(table, old, operation=operation)
        self.tables[table] = (
            self.tables[table]
            .without_constraint(old)
            .with_constraint(replace(constraint, name=new))
        )


def _check_columns(table: TableState, columns: Iterable[str], operation: str) -> None:
    names = set(table.column_names)
    for col in columns:
        if col not in names:
            raise _invalid(operation, f"table {table.name} has no column {col}")


def _can_autoincrement(column: ColumnState) -> bool:
    """Whether the column's type is one SQLAlchemy lets autoincrement (the integers).

    A state built without live types (plain data in tests) keeps what it had.
    """
    affinity = getattr(column.type, "_type_affinity", None)
    if affinity is None:
        return True
    from sqlalchemy import types

    return isinstance(affinity, type) and issubclass(affinity, types.Integer)
