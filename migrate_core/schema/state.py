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
from dataclasses import replace
from typing import Any


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


def sorted_items(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda c: (c.name or "", repr(c.signature()))))


class ProjectState:
    """All tables of all apps that share one database, keyed by table name.

    Mutable on purpose: replay changes one state in place, and callers that need a
    snapshot take :meth:`clone`, which copies only the dict.
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

    def get_table(self, name: str) -> TableState | None:
        return self.tables.get(name)

    def table(self, name: str, *, operation: str = "") -> TableState:
        from migrate_core.errors import InvalidStateError

        try:
            return self.tables[name]
        except KeyError:
            where = f"{operation}: " if operation else ""
            raise InvalidStateError(
                f"{where}table {name} does not exist in the state the earlier migrations build"
            ) from None

    def add_table(self, table: TableState) -> None:
        self.tables[table.name] = table

    def replace_table(self, table: TableState) -> None:
        self.tables[table.name] = table

    def remove_table(self, name: str) -> None:
        self.tables.pop(name, None)

    def referencing(self, table_name: str) -> list[tuple[TableState, ForeignKeyState]]:
        """Foreign keys of other tables that point at ``table_name``."""
        out = []
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if fk.ref_table == table_name and other.name != table_name:
                    out.append((other, fk))
        return out


def drop_column_from(table: TableState, column: str) -> TableState:
    """``table`` without ``column`` and without the indexes and constraints that cover it."""
    out = table.without_column(column)
    for index in table.indexes:
        if column in index.columns:
            out = out.without_index(index.name or "")
    for constraint in table.constraints():
        if column in constraint_columns(constraint):
            if isinstance(constraint, PrimaryKeyState):
                out = replace(out, primary_key=None)
            elif constraint.name is not None:
                out = out.without_constraint(constraint.name)
    return out


def constraint_columns(constraint: ConstraintState) -> tuple[str, ...]:
    """Columns a constraint covers; for a check, the column names its SQL mentions."""
    if isinstance(constraint, CheckState):
        return tuple(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", constraint.sqltext))
    return constraint.columns


def rename_column_in(table: TableState, old: str, new: str) -> TableState:
    """The table with a column renamed everywhere it is named: keys, indexes, checks."""

    def ren(cols: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new if c == old else c for c in cols)

    pattern = re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)")
    columns = tuple(replace(c, name=new) if c.name == old else c for c in table.columns)
    pk = table.primary_key
    if pk is not None:
        pk = replace(pk, columns=ren(pk.columns))
    fks = tuple(
        replace(
            fk,
            columns=ren(fk.columns),
            ref_columns=ren(fk.ref_columns) if fk.ref_table == table.name else fk.ref_columns,
        )
        for fk in table.foreign_keys
    )
    uniques = tuple(replace(u, columns=ren(u.columns)) for u in table.unique_constraints)
    checks = tuple(replace(c, sqltext=pattern.sub(new, c.sqltext)) for c in table.check_constraints)
    indexes = tuple(
        replace(
            i,
            elements=tuple(
                pattern.sub(new, e) if is_expr else (new if e == old else e)
                for e, is_expr in zip(i.elements, i.expressions)
            ),
        )
        for i in table.indexes
    )
    return replace(
        table,
        columns=columns,
        primary_key=pk,
        foreign_keys=fks,
        unique_constraints=uniques,
        check_constraints=checks,
        indexes=indexes,
    )
