"""SQLAlchemy objects to schema state and back.

Reading: the models' Tables, and the columns, constraints and indexes a
migration file writes, become plain state (types and defaults kept alongside
their rendering as Python source, see :mod:`migrate_core.schema.codegen`).
Writing: state becomes SQLAlchemy Tables, Columns, constraints and indexes for
the schema editor's DDL, never reflected from a database. SQLAlchemy itself is
imported inside the functions, so that importing the state costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.schema import codegen as serializer
from migrate_core.schema.naming import conv
from migrate_core.schema.naming import with_default_names
from migrate_core.schema.state import CheckState
from migrate_core.schema.state import ColumnState
from migrate_core.schema.state import ConstraintState
from migrate_core.schema.state import ForeignKeyState
from migrate_core.schema.state import IndexState
from migrate_core.schema.state import PrimaryKeyState
from migrate_core.schema.state import ProjectState
from migrate_core.schema.state import TableState
from migrate_core.schema.state import UniqueState
from migrate_core.schema.state import sorted_items

if TYPE_CHECKING:
    import sqlalchemy as sa


# -- from SQLAlchemy objects to state -------------------------------------------------------------


def column_state(column: sa.Column[Any], *, autoincrement: bool | None = None) -> ColumnState:
    """The state of one column; ``autoincrement`` is the effective value when known."""
    from sqlalchemy.schema import Computed
    from sqlalchemy.schema import Identity

    column_type = _with_check_name(column)
    rendered_type = serializer.render_type(column_type)
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
        type=column_type,
        server_default=server_default,
        computed=computed,
        identity=identity,
        imports=frozenset(imports),
        python_default=_scalar_default(column),
    )


def _with_check_name(column: sa.Column[Any]) -> Any:
    """The column's type, named as the CHECK it makes is named in the models.

    A non-native ``sa.Enum(..., create_constraint=True)`` or ``sa.Boolean(create_constraint=
    True)`` makes its own CHECK, named after the type's ``name``, and the models' naming
    convention renames it (``ck_person_size`` for ``name="size"``). A migration file has
    no naming convention, so its type carries the name the CHECK must get; the type's
    name has no other use where the enum is not native.
    """
    type_ = column.type
    table = getattr(column, "table", None)
    if table is None or not getattr(type_, "create_constraint", False):
        return type_
    if getattr(type_, "native_enum", False):
        return type_  # a native enum's name is its database type's
    for constraint in table.constraints:
        if not getattr(constraint, "_type_bound", False):
            continue
        if [c.name for c in constraint.columns] != [column.name]:
            continue
        name = sa_name(constraint.name)
        if name is not None and name != getattr(type_, "name", None):
            renamed: Any = type_.copy()
            renamed.name = name
            return renamed
    return type_


def _scalar_default(column: sa.Column[Any]) -> str | int | float | bool | None:
    """The column's ``default=`` when it is a plain constant a migration can write as a fill.

    Callables (``datetime.utcnow``, ``uuid.uuid4``), SQL expressions and values of other
    kinds (enum members, dates) are left out: they have no one literal to fill rows with.
    """
    from sqlalchemy.sql.schema import ScalarElementColumnDefault

    default = column.default
    if not isinstance(default, ScalarElementColumnDefault):
        return None
    value = default.arg
    return value if type(value) in (str, int, float, bool) else None


def ddl_sql(expression: Any) -> str:
    """SQL text of an expression as DDL spells it: literals inline, columns unqualified.

    SQLAlchemy's DDL compiler writes index expressions, check constraints and
    computed columns with ``include_table=False``; an expression built from mapped
    columns (``func.lower(User.email)``) would otherwise come out as
    ``lower(user.email)``, which SQLite refuses in an index and which no longer
    names the table once it is renamed.
    """
    return str(expression.compile(compile_kwargs={"literal_binds": True, "include_table": False}))


def _render_computed(computed: Any) -> str:
    kwargs, _ = serializer.kwargs_code([("persisted", computed.persisted)])
    sqltext = ddl_sql(computed.sqltext)
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
    raw = {k: _option_value(k, v) for k, v in obj.dialect_kwargs.items() if v is not None}
    codes = tuple(sorted((k, serializer.render_value(v).text) for k, v in raw.items()))
    return codes, raw


def _option_value(key: str, value: Any) -> Any:
    """A dialect option as a migration file holds it.

    A SQL expression built from the models (``postgresql_where=Account.status == Status.LIVE``)
    becomes ``sa.text(...)`` of its DDL, compiled by the dialect the option belongs to (the
    key's prefix) with literal values and no table name, as create_all writes it: the file
    cannot import the models' columns, and a text predicate is what it already writes.
    """
    from sqlalchemy.sql.elements import ClauseElement
    from sqlalchemy.sql.elements import TextClause
    from sqlalchemy.sql.expression import text

    if not isinstance(value, ClauseElement) or isinstance(value, TextClause):
        return value
    dialect = serializer.dialect_named(key.split("_", 1)[0])
    sql = value.compile(
        dialect=dialect, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    return text(str(sql))


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
            elements.append(ddl_sql(expr))
            expressions.append(True)
    codes, raw = _options(index)
    return IndexState(
        name=sa_name(index.name),
        elements=tuple(elements),
        expressions=tuple(expressions),
        unique=bool(index.unique),
        option_codes=codes,
        options=raw,
    )


def sa_name(name: Any) -> str | None:
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
    primary_key = PrimaryKeyState(sa_name(table.primary_key.name), pk_cols) if pk_cols else None
    fks = []
    for fkc in table.foreign_key_constraints:
        ref_table, ref_columns = _fk_target(fkc)
        local = tuple(c.name for c in fkc.columns) if len(fkc.columns) else tuple(fkc.column_keys)
        fks.append(
            ForeignKeyState(
                name=sa_name(fkc.name),
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
                    name=sa_name(constraint.name),
                    columns=tuple(c.name for c in constraint.columns),
                    deferrable=constraint.deferrable,
                    initially=constraint.initially,
                )
            )
        elif isinstance(constraint, CheckConstraint):
            if getattr(constraint, "_type_bound", False):
                continue  # created by an Enum/Boolean type along with its column
            sqltext = ddl_sql(constraint.sqltext)
            checks.append(CheckState(name=sa_name(constraint.name), sqltext=sqltext))
    codes, raw = _options(table)
    return TableState(
        name=table.name,
        app=app,
        columns=columns,
        primary_key=primary_key,
        foreign_keys=sorted_items(fks),
        unique_constraints=sorted_items(uniques),
        check_constraints=sorted_items(checks),
        indexes=sorted_items(_index_state(i) for i in table.indexes),
        comment=table.comment,
        option_codes=codes,
        options=raw,
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


def constraint_state(constraint: Any) -> ConstraintState:
    """State of a constraint written in a migration file, attached to no table yet."""
    import sqlalchemy as sa

    def column_names(c: Any) -> tuple[str, ...]:
        if len(c.columns):
            return tuple(col.name for col in c.columns)
        # Not attached to a table: SQLAlchemy keeps the names it was given here.
        return tuple(x if isinstance(x, str) else x.name for x in c._pending_colargs)

    name = sa_name(constraint.name)
    if isinstance(constraint, sa.PrimaryKeyConstraint):
        return PrimaryKeyState(name, column_names(constraint))
    if isinstance(constraint, sa.UniqueConstraint):
        return UniqueState(
            name, column_names(constraint), constraint.deferrable, constraint.initially
        )
    if isinstance(constraint, sa.CheckConstraint):
        return CheckState(name, ddl_sql(constraint.sqltext))
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


# -- from state to SQLAlchemy objects (for DDL) -------------------------------------------------


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
    autoincrement: bool | str = column.autoincrement if primary_key else False
    if column.identity is not None and autoincrement is False:
        # An identity numbers the rows itself (a key or not); SQLAlchemy refuses an
        # Identity with autoincrement=False, and "auto" adds nothing to its DDL.
        autoincrement = "auto"
    return sa.Column(
        column.name,
        type_,
        *args,
        nullable=column.nullable,
        comment=column.comment,
        autoincrement=autoincrement,  # type: ignore[arg-type]
        primary_key=primary_key,
        **kwargs,
    )


def to_constraint(constraint: ConstraintState) -> Any:
    import sqlalchemy as sa

    if isinstance(constraint, PrimaryKeyState):
        return sa.PrimaryKeyConstraint(*constraint.columns, name=conv(constraint.name))
    if isinstance(constraint, ForeignKeyState):
        return sa.ForeignKeyConstraint(
            list(constraint.columns),
            [f"{constraint.ref_table}.{c}" for c in constraint.ref_columns],
            name=conv(constraint.name),
            ondelete=constraint.ondelete,
            onupdate=constraint.onupdate,
            deferrable=constraint.deferrable,
            initially=constraint.initially,
            match=constraint.match,
        )
    if isinstance(constraint, UniqueState):
        return sa.UniqueConstraint(
            *constraint.columns,
            name=conv(constraint.name),
            deferrable=constraint.deferrable,
            initially=constraint.initially,
        )
    return sa.CheckConstraint(sa.text(constraint.sqltext), name=conv(constraint.name))


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
    idx = sa.Index(conv(index.name), *exprs, unique=index.unique, **index.options)
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


def inferred_autoincrement(table: TableState) -> str | None:
    """Which column SQLAlchemy would pick as autoincrement if nothing were said."""
    import sqlalchemy as sa

    pk_cols = set(table.primary_key.columns) if table.primary_key else set()
    cols = []
    for col in table.columns:
        c = to_column(col, primary_key=col.name in pk_cols)
        c.autoincrement = "auto"
        cols.append(c)
    fks = [to_constraint(fk) for fk in table.foreign_keys]
    probe = sa.Table(table.name, sa.MetaData(), *cols, *fks)
    auto = probe.autoincrement_column
    return auto.name if auto is not None else None
