"""Schema state: the tables, columns, keys and indexes a chain of migrations produces.

Plain frozen dataclasses, compared by value. Nothing here talks to a database,
and nothing is rebuilt per step: a :class:`ProjectState` is a dict of immutable
:class:`TableState` objects, so copying it costs one dict copy and an operation
replaces only the table it changes. That is what keeps replaying a thousand
migrations cheap (Django rebuilds model classes per step; we never do).

Types and server defaults are compared by their rendering as Python source (see
:mod:`migrate_core.schema.codegen`), which is also what the writer prints: if two
columns render the same, a migration file re-creates one from the other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.schema import codegen as serializer

if TYPE_CHECKING:
    import sqlalchemy as sa


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
            return replace(self, foreign_keys=_sorted((*self.foreign_keys, constraint)))
        if isinstance(constraint, UniqueState):
            return replace(self, unique_constraints=_sorted((*self.unique_constraints, constraint)))
        return replace(self, check_constraints=_sorted((*self.check_constraints, constraint)))

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
        return replace(self, indexes=_sorted((*self.indexes, index)))

    def without_index(self, name: str) -> TableState:
        return replace(self, indexes=tuple(i for i in self.indexes if i.name != name))

    def references(self) -> set[str]:
        """Tables this one points at through foreign keys (itself excluded)."""
        return {fk.ref_table for fk in self.foreign_keys if fk.ref_table != self.name}


def _sorted(items: Iterable[Any]) -> tuple[Any, ...]:
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


# -- changes that reach into a whole table -------------------------------------------------------


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


# -- from SQLAlchemy objects to state -------------------------------------------------------------


def column_state(column: sa.Column[Any], *, autoincrement: bool | None = None) -> ColumnState:
    """The state of one column; ``autoincrement`` is the effective value when known."""
    from sqlalchemy.schema import Computed
    from sqlalchemy.schema import Identity

    rendered_type = serializer.render_type(column.type)
    imports = set(rendered_type.imports)
    server_default = None
    default_code = None
    computed = identity = None
    computed_code = identity_code = None
    sd = column.server_default
    if isinstance(sd, Computed):
        computed = sd
        computed_code = _render_computed(sd)
    elif isinstance(sd, Identity):
        identity = sd
        identity_code = _render_identity(sd)
    elif sd is not None and hasattr(sd, "arg"):
        server_default = sd.arg
        rendered_default = serializer.render_server_default(sd.arg)
        default_code = rendered_default.text
        imports |= rendered_default.imports
    if autoincrement is None:
        autoincrement = column.autoincrement is True
    if computed_code or identity_code:
        imports.add(serializer.SA_IMPORT)
    return ColumnState(
        name=column.name,
        type_code=rendered_type.text,
        nullable=bool(column.nullable),
        default_code=default_code,
        comment=column.comment,
        autoincrement=autoincrement,
        computed_code=computed_code,
        identity_code=identity_code,
        type=column.type,
        server_default=server_default,
        computed=computed,
        identity=identity,
        imports=frozenset(imports),
    )


def _render_computed(computed: Any) -> str:
    kwargs, _ = serializer.kwargs_code([("persisted", computed.persisted)])
    sqltext = str(computed.sqltext.compile(compile_kwargs={"literal_binds": True}))
    return serializer.Call(
        "sa.Computed", (serializer.Atom(serializer.string_literal(sqltext)),), kwargs
    ).flat()


_IDENTITY_ARGS = (
    "always",
    "on_null",
    "start",
    "increment",
    "minvalue",
    "maxvalue",
    "nominvalue",
    "nomaxvalue",
    "cycle",
    "cache",
    "order",
)


def _render_identity(identity: Any) -> str:
    pairs = []
    for name in _IDENTITY_ARGS:
        value = getattr(identity, name, None)
        if name == "always" and value is False:
            continue
        pairs.append((name, value))
    kwargs, _ = serializer.kwargs_code(pairs)
    return serializer.Call("sa.Identity", (), kwargs).flat()


def _options(obj: Any) -> tuple[tuple[tuple[str, str], ...], dict[str, Any]]:
    raw = {k: v for k, v in obj.dialect_kwargs.items() if v is not None}
    codes = tuple(sorted((k, serializer.render_value(v).text) for k, v in raw.items()))
    return codes, raw


def _index_state(index: sa.Index) -> IndexState:
    from sqlalchemy import Column

    elements: list[str] = []
    expressions: list[bool] = []
    for expr in index.expressions:
        if isinstance(expr, str):
            elements.append(expr)
            expressions.append(False)
        elif isinstance(expr, Column):
            elements.append(expr.name)
            expressions.append(False)
        else:
            elements.append(str(expr.compile(compile_kwargs={"literal_binds": True})))
            expressions.append(True)
    codes, raw = _options(index)
    return IndexState(
        name=_name(index.name),
        elements=tuple(elements),
        expressions=tuple(expressions),
        unique=bool(index.unique),
        option_codes=codes,
        options=raw,
    )


def _name(name: Any) -> str | None:
    from sqlalchemy.sql.base import _NoneName

    if name is None or isinstance(name, _NoneName):
        return None
    return str(name)


def _fk_target(fkc: Any) -> tuple[str, tuple[str, ...]]:
    """The referred table and columns, by their database names when they can be resolved."""
    from sqlalchemy import exc

    try:
        columns = [e.column for e in fkc.elements]
        return columns[0].table.name, tuple(c.name for c in columns)
    except (exc.SQLAlchemyError, AttributeError):
        targets = [e.target_fullname for e in fkc.elements]
        table = targets[0].rsplit(".", 1)[0].split(".")[-1]
        return table, tuple(t.rsplit(".", 1)[1] for t in targets)


def table_state(table: sa.Table, app: str) -> TableState:
    """Read a SQLAlchemy Table (from the models or from a CreateModel) into state."""
    from sqlalchemy import CheckConstraint
    from sqlalchemy import UniqueConstraint

    auto_col = table.autoincrement_column
    columns = tuple(column_state(c, autoincrement=c is auto_col) for c in table.columns)
    pk_cols = tuple(c.name for c in table.primary_key.columns)
    if pk_cols:
        # A primary key column is NOT NULL in every database, whatever the model says.
        columns = tuple(replace(c, nullable=False) if c.name in pk_cols else c for c in columns)
    primary_key = PrimaryKeyState(_name(table.primary_key.name), pk_cols) if pk_cols else None
    fks = []
    for fkc in table.foreign_key_constraints:
        ref_table, ref_columns = _fk_target(fkc)
        local = tuple(c.name for c in fkc.columns) if len(fkc.columns) else tuple(fkc.column_keys)
        fks.append(
            ForeignKeyState(
                name=_name(fkc.name),
                columns=local,
                ref_table=ref_table,
                ref_columns=ref_columns,
                ondelete=fkc.ondelete,
                onupdate=fkc.onupdate,
                deferrable=fkc.deferrable,
                initially=fkc.initially,
                match=fkc.match,
            )
        )
    uniques = []
    checks = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            uniques.append(
                UniqueState(
                    name=_name(constraint.name),
                    columns=tuple(c.name for c in constraint.columns),
                    deferrable=constraint.deferrable,
                    initially=constraint.initially,
                )
            )
        elif isinstance(constraint, CheckConstraint):
            if getattr(constraint, "_type_bound", False):
                continue  # created by an Enum/Boolean type along with its column
            sqltext = str(constraint.sqltext.compile(compile_kwargs={"literal_binds": True}))
            checks.append(CheckState(name=_name(constraint.name), sqltext=sqltext))
    codes, raw = _options(table)
    return TableState(
        name=table.name,
        app=app,
        columns=columns,
        primary_key=primary_key,
        foreign_keys=_sorted(fks),
        unique_constraints=_sorted(uniques),
        check_constraints=_sorted(checks),
        indexes=_sorted(_index_state(i) for i in table.indexes),
        comment=table.comment,
        option_codes=codes,
        options=raw,
    )


def default_name(constraint: ConstraintState | IndexState, table: str) -> str:
    """The name migrate-core gives an unnamed constraint or index (see assign_default_names)."""
    if isinstance(constraint, PrimaryKeyState):
        return f"pk_{table}"
    if isinstance(constraint, UniqueState):
        return f"uq_{table}_{'_'.join(constraint.columns)}"
    if isinstance(constraint, ForeignKeyState):
        return f"fk_{table}_{'_'.join(constraint.columns)}_{constraint.ref_table}"
    if isinstance(constraint, CheckState):
        return f"ck_{table}_{hashlib.sha1(constraint.sqltext.encode()).hexdigest()[:8]}"
    cols = [e if not x else "expr" for e, x in zip(constraint.elements, constraint.expressions)]
    return f"ix_{table}_{'_'.join(cols)}"


def with_default_names(table: TableState) -> TableState:
    """``table`` with every unnamed constraint and index named.

    A hand-written migration may leave names out; a later migration must be able
    to drop what it created, and SQLite and the state need a name to find it. The
    names are those the models would get, so nothing differs afterwards.
    """

    def named(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return _sorted(
            replace(i, name=default_name(i, table.name)) if i.name is None else i for i in items
        )

    pk = table.primary_key
    if pk is not None and pk.name is None:
        pk = replace(pk, name=default_name(pk, table.name))
    others: list[Any] = [
        *table.foreign_keys,
        *table.unique_constraints,
        *table.check_constraints,
        *table.indexes,
    ]
    if pk is table.primary_key and all(c.name is not None for c in others):
        return table
    return replace(
        table,
        primary_key=pk,
        foreign_keys=named(table.foreign_keys),
        unique_constraints=named(table.unique_constraints),
        check_constraints=named(table.check_constraints),
        indexes=named(table.indexes),
    )


def from_metadata(
    metadata: sa.MetaData, app: str, tables: Iterable[str] | None = None
) -> dict[str, TableState]:
    """The state the models of one app declare. ``tables`` limits which ones belong to it."""
    wanted = set(tables) if tables is not None else None
    out = {}
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        if wanted is not None and table.name not in wanted:
            continue
        out[table.name] = table_state(table, app)
    return out


# -- default naming --------------------------------------------------------------------------


def assign_default_names(metadata: sa.MetaData) -> None:
    """Give every unnamed constraint and index of the models a stable name.

    The models' own naming convention has already named what it covers; this
    fills in the rest with ``pk_<table>``, ``uq_<table>_<columns>``,
    ``fk_<table>_<columns>_<referred>``, ``ck_<table>_<hash>`` and
    ``ix_<table>_<columns>``. Names are ``conv`` objects, so both our DDL and
    ``metadata.create_all`` shorten long names the same way for each dialect.
    """
    import sqlalchemy as sa
    from sqlalchemy.sql.naming import conv

    for table in metadata.tables.values():
        items: list[Any] = [*table.constraints, *table.indexes]
        for constraint in items:
            if _name(constraint.name) is not None:
                continue
            if isinstance(constraint, sa.PrimaryKeyConstraint) and not constraint.columns:
                continue
            if getattr(constraint, "_type_bound", False):
                continue  # an Enum's or Boolean's own CHECK, made with its column
            described = (
                index_state(constraint)
                if isinstance(constraint, sa.Index)
                else constraint_state(constraint)
            )
            constraint.name = conv(default_name(described, table.name))


# -- from state to SQLAlchemy objects (for DDL) -------------------------------------------------


def _conv(name: str | None) -> Any:
    """Names go to SQLAlchemy as ``conv`` so an over-long one is shortened like create_all does."""
    if name is None:
        return None
    from sqlalchemy.sql.naming import conv

    return conv(name)


def to_column(column: ColumnState, *, primary_key: bool = False) -> sa.Column[Any]:
    import sqlalchemy as sa
    from sqlalchemy.sql.base import SchemaEventTarget

    type_ = column.type
    if isinstance(type_, SchemaEventTarget):
        type_ = type_.copy()  # type: ignore[attr-defined]
    args: list[Any] = []
    if column.computed is not None:
        args.append(column.computed._copy())
    if column.identity is not None:
        args.append(column.identity._copy())
    kwargs: dict[str, Any] = {}
    if column.server_default is not None:
        kwargs["server_default"] = column.server_default
    return sa.Column(
        column.name,
        type_,
        *args,
        nullable=column.nullable,
        comment=column.comment,
        autoincrement=column.autoincrement if primary_key else False,
        primary_key=primary_key,
        **kwargs,
    )


def to_constraint(constraint: ConstraintState) -> Any:
    import sqlalchemy as sa

    if isinstance(constraint, PrimaryKeyState):
        return sa.PrimaryKeyConstraint(*constraint.columns, name=_conv(constraint.name))
    if isinstance(constraint, ForeignKeyState):
        return sa.ForeignKeyConstraint(
            list(constraint.columns),
            [f"{constraint.ref_table}.{c}" for c in constraint.ref_columns],
            name=_conv(constraint.name),
            ondelete=constraint.ondelete,
            onupdate=constraint.onupdate,
            deferrable=constraint.deferrable,
            initially=constraint.initially,
            match=constraint.match,
        )
    if isinstance(constraint, UniqueState):
        return sa.UniqueConstraint(
            *constraint.columns,
            name=_conv(constraint.name),
            deferrable=constraint.deferrable,
            initially=constraint.initially,
        )
    return sa.CheckConstraint(sa.text(constraint.sqltext), name=_conv(constraint.name))


def to_index(index: IndexState, table: sa.Table | None = None) -> sa.Index:
    import sqlalchemy as sa

    exprs: list[Any] = []
    for element, is_expr in zip(index.elements, index.expressions):
        if is_expr:
            exprs.append(sa.text(element))
        elif table is not None:
            exprs.append(table.c[element])
        else:
            exprs.append(element)
    idx = sa.Index(_conv(index.name), *exprs, unique=index.unique, **index.options)
    if table is not None:
        idx._set_parent(table)
    return idx


def to_table(
    table: TableState,
    metadata: sa.MetaData,
    *,
    with_foreign_keys: bool = True,
    with_indexes: bool = True,
    stub_references: ProjectState | None = None,
) -> sa.Table:
    """A SQLAlchemy Table for ``table``, for DDL.

    ``stub_references`` adds minimal stand-ins for the tables the foreign keys
    point at, so that SQLAlchemy can render REFERENCES without resolving them
    against a database.
    """
    import sqlalchemy as sa

    pk_columns = set(table.primary_key.columns) if table.primary_key else set()
    items: list[Any] = [to_column(c, primary_key=c.name in pk_columns) for c in table.columns]
    if table.primary_key is not None:
        items.append(to_constraint(table.primary_key))
    if with_foreign_keys:
        items.extend(to_constraint(fk) for fk in table.foreign_keys)
    items.extend(to_constraint(c) for c in table.unique_constraints)
    items.extend(to_constraint(c) for c in table.check_constraints)
    sa_table = sa.Table(table.name, metadata, *items, comment=table.comment, **table.options)
    if with_indexes:
        for index in table.indexes:
            to_index(index, sa_table)
    if with_foreign_keys and stub_references is not None:
        for fk in table.foreign_keys:
            ensure_stub(metadata, stub_references, fk.ref_table, fk.ref_columns)
    return sa_table


def ensure_stub(
    metadata: sa.MetaData, state: ProjectState | None, name: str, columns: Iterable[str]
) -> None:
    """A table with just the referenced columns, so REFERENCES can be rendered."""
    import sqlalchemy as sa

    if name in metadata.tables:
        stub = metadata.tables[name]
        for col in columns:
            if col not in stub.c:
                stub.append_column(sa.Column(col, sa.Integer()))
        return
    known = state.get_table(name) if state is not None else None
    cols = []
    for col in columns:
        column = known.get_column(col) if known is not None else None
        cols.append(sa.Column(col, column.type if column is not None else sa.Integer()))
    sa.Table(name, metadata, *cols)


def type_sql(type_: Any, dialect: Any = None) -> str:
    """How a type reads in DDL, for messages: ``VARCHAR(50)``."""
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        return repr(type_)


def constraint_state(constraint: Any) -> ConstraintState:
    """State of a constraint written in a migration file, attached to no table yet."""
    import sqlalchemy as sa

    def column_names(c: Any) -> tuple[str, ...]:
        if len(c.columns):
            return tuple(col.name for col in c.columns)
        # Not attached to a table: SQLAlchemy keeps the names it was given here.
        return tuple(x if isinstance(x, str) else x.name for x in c._pending_colargs)

    name = _name(constraint.name)
    if isinstance(constraint, sa.PrimaryKeyConstraint):
        return PrimaryKeyState(name, column_names(constraint))
    if isinstance(constraint, sa.UniqueConstraint):
        return UniqueState(
            name, column_names(constraint), constraint.deferrable, constraint.initially
        )
    if isinstance(constraint, sa.CheckConstraint):
        return CheckState(
            name, str(constraint.sqltext.compile(compile_kwargs={"literal_binds": True}))
        )
    if isinstance(constraint, sa.ForeignKeyConstraint):
        ref_table, ref_columns = _fk_target(constraint)
        return ForeignKeyState(
            name=name,
            columns=tuple(constraint.column_keys),
            ref_table=ref_table,
            ref_columns=ref_columns,
            ondelete=constraint.ondelete,
            onupdate=constraint.onupdate,
            deferrable=constraint.deferrable,
            initially=constraint.initially,
            match=constraint.match,
        )
    raise TypeError(
        f"{constraint!r} is not a constraint migrate-core knows (primary key, unique, check, foreign key)"
    )


def index_state(index: Any) -> IndexState:
    """State of an index written in a migration file."""
    return _index_state(index)


def column_with_extras(table_name: str, column: sa.Column[Any]) -> tuple[ColumnState, TableState]:
    """A column as written in AddField/AlterField, with what it implies at table level.

    ``unique=True``, ``index=True`` and ``sa.ForeignKey(...)`` on a column become
    constraints and indexes when the column joins a table; a throwaway table shows which.
    """
    import sqlalchemy as sa

    holder = sa.Table(table_name, sa.MetaData(), column)
    table = with_default_names(table_state(holder, ""))
    col = table.columns[0]
    if column.autoincrement is True and not col.autoincrement:
        col = replace(col, autoincrement=True)
    return col, table
