"""Reflect a live schema into plain, comparable data, and say how two such snapshots differ.

Three checks rest on this module: the round-trip law in the tests (our migrations
build the same schema as ``metadata.create_all``), the reversibility check
(unapplying a migration restores what was there before) and the drift check.
All of them compare two databases of the *same* kind, so normalization here has
one job: things the database treats as equal must compare equal, and nothing a
user could notice may be normalized away. Nothing tries to make a PostgreSQL
schema comparable with a MySQL one.

Reflection goes through SQLAlchemy's batch Inspector calls (``get_multi_*``):
``check-migrations`` reflects a few tables four times per migration over chains
of a thousand migrations, and one query per kind of object beats one per table.
A fresh Inspector is made per call because an Inspector caches what it saw, and
the schema changes between calls.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import sqlalchemy as sa

from migrate_core.db import dialects
from migrate_core.schema import sqltext as sqlt

if TYPE_CHECKING:
    from migrate_core.db.dialects.base import Backend

__all__ = [
    "ColumnInfo",
    "ConstraintInfo",
    "IndexInfo",
    "ReflectionExtras",
    "SchemaDifference",
    "SchemaSnapshot",
    "TableInfo",
    "diff_schemas",
    "options_of",
    "reflect_schema",
    "snapshot",
    "snapshot_differences",
]

DEFAULT_EXCLUDE: tuple[str, ...] = ("migrate_core_migrations",)

Options = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the database reports it, in the dialect's own words."""

    name: str
    type: str
    nullable: bool
    default: str | None
    comment: str | None
    autoincrement: bool
    computed: str | None = None


@dataclass(frozen=True)
class IndexInfo:
    """An index that is not merely the backing of a unique constraint.

    ``columns`` holds column names, or the SQL text of expression elements.
    ``options`` holds what else makes two indexes different (partial-index
    predicates, sort order, index method, prefix lengths), as sorted pairs.
    """

    name: str | None
    columns: tuple[str, ...]
    unique: bool
    options: Options = ()


@dataclass(frozen=True)
class ConstraintInfo:
    """A primary key, unique, foreign key or check constraint.

    ``options`` holds the rarer settings that still change behaviour (deferrable,
    initially, match, nulls not distinct), as sorted pairs.
    """

    kind: str
    name: str | None
    columns: tuple[str, ...] = ()
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    ondelete: str | None = None
    onupdate: str | None = None
    sqltext: str | None = None
    options: Options = ()


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    constraints: tuple[ConstraintInfo, ...]
    indexes: tuple[IndexInfo, ...]
    comment: str | None = None

    def column(self, name: str) -> ColumnInfo | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def primary_key(self) -> ConstraintInfo | None:
        for con in self.constraints:
            if con.kind == "primary":
                return con
        return None

    def constraints_of(self, kind: str) -> tuple[ConstraintInfo, ...]:
        return tuple(con for con in self.constraints if con.kind == kind)


@dataclass(frozen=True)
class SchemaSnapshot:
    """The tables of one database at one moment; comparable with ``==`` and ``diff_schemas``."""

    dialect: str
    tables: dict[str, TableInfo] = field(default_factory=dict)

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> TableInfo:
        return self.tables[name]

    @property
    def table_names(self) -> list[str]:
        return sorted(self.tables)

    def only(self, names: Iterable[str]) -> SchemaSnapshot:
        """The same snapshot cut down to ``names`` (absent names are ignored)."""
        wanted = set(names)
        return SchemaSnapshot(self.dialect, {n: t for n, t in self.tables.items() if n in wanted})

    def without(self, names: Iterable[str]) -> SchemaSnapshot:
        unwanted = set(names)
        return SchemaSnapshot(
            self.dialect, {n: t for n, t in self.tables.items() if n not in unwanted}
        )

    def differences(self, actual: SchemaSnapshot) -> list[SchemaDifference]:
        """How ``actual`` differs from this snapshot (see :func:`diff_schemas`)."""
        return diff_schemas(self, actual)


@dataclass(frozen=True)
class SchemaDifference:
    """One way ``actual`` differs from ``expected``, worded for the person reading the report."""

    table: str
    kind: str
    message: str
    expected: str | None = None
    actual: str | None = None

    def __str__(self) -> str:
        return self.message


def _empty_to_none(text: str | None) -> str | None:
    return text if text else None


# --------------------------------------------------------------------------- reflection


def _type_text(type_: Any, dialect: Any, backend: Backend) -> str:
    """The reflected type as DDL of this dialect, with an enum's values spelled out.

    A native enum type (PostgreSQL) compiles to just its name, which would hide a
    changed value list; MySQL's compiles with values but upper-casing must not touch
    them. The name counts only where the type is an object of its own.
    """
    if isinstance(type_, sa.Enum):
        values = ",".join("'" + str(v).replace("'", "''") + "'" for v in type_.enums)
        named = type_.name and backend.features.native_enums
        name = f" {type_.name}" if named else ""
        return f"ENUM({values}){name}"
    try:
        compiled = type_.compile(dialect=dialect)
    except Exception:
        compiled = repr(type_)
    return sqlt.upper_outside_quotes(" ".join(compiled.split()))


def _option_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_option_text(v) for v in value)
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{k} {_option_text(v)}" for k, v in sorted(value.items())) + ")"
    if isinstance(value, sa.sql.ClauseElement):
        return sqlt.normalize_sql(str(value)) or ""
    if isinstance(value, str):
        return sqlt.normalize_sql(value) or ""
    return str(value)


def options_of(items: Mapping[str, Any]) -> Options:
    """Settings as sorted text pairs, leaving out the empty ones every object reports."""
    out = []
    for key, value in items.items():
        if value is None or value is False or value == [] or value == {} or value == ():
            continue
        out.append((key, _option_text(value)))
    return tuple(sorted(out))


def _rule(value: Any, backend: Backend) -> str | None:
    """An ON DELETE/ON UPDATE rule, with the dialect's do-nothing default as None.

    NO ACTION is the default everywhere; on MySQL/MariaDB (InnoDB) RESTRICT is the
    very same thing and the server does not even report it. On PostgreSQL and
    SQLite RESTRICT differs (it is checked immediately), so it is kept there.
    """
    if not value:
        return None
    rule = " ".join(str(value).upper().split())
    if rule == "NO ACTION" or (rule == "RESTRICT" and backend.features.restrict_is_no_action):
        return None
    return rule


def _column_info(
    raw: Mapping[str, Any], dialect: Any, backend: Backend, rowid_alias: bool
) -> ColumnInfo:
    type_text = backend.normalize_type(_type_text(raw["type"], dialect, backend))
    default = raw.get("default")
    default = sqlt.normalize_sql(str(default)) if default is not None else None
    autoincrement = bool(raw.get("autoincrement")) or bool(raw.get("identity"))
    if default is not None:
        # One spelling per value: the chain's migration and create_all may write the same
        # default differently ('1' / 1 / '1'::bigint), and nothing in the models could fix that.
        default = backend.normalize_default(default, type_text)
    if default is not None and default.upper() == "NULL":
        default = None
    nullable = bool(raw.get("nullable", True))
    computed = raw.get("computed")
    computed_text = None
    if computed:
        computed_text = sqlt.normalize_sql(sqlt.balanced_prefix(str(computed.get("sqltext"))))
        persisted = computed.get("persisted")
        if persisted is not None:
            computed_text = f"{computed_text} {'STORED' if persisted else 'VIRTUAL'}"
    column = ColumnInfo(
        name=raw["name"],
        type=type_text,
        nullable=nullable,
        default=default,
        comment=_empty_to_none(raw.get("comment")),
        autoincrement=autoincrement,
        computed=computed_text,
    )
    # The dialect's own equalities: a serial default, SQLite's rowid alias.
    return backend.normalize_column(column, rowid_alias=rowid_alias)


def _index_info(raw: Mapping[str, Any]) -> IndexInfo:
    names = list(raw.get("column_names") or [])
    exprs = list(raw.get("expressions") or [])
    columns: list[str] = []
    for pos, name in enumerate(names or exprs):
        if name is None:
            text = exprs[pos] if pos < len(exprs) else None
            columns.append(sqlt.normalize_sql(str(text)) or "?")
        else:
            columns.append(str(name))
    opts: dict[str, Any] = dict(raw.get("dialect_options") or {})
    sorting = raw.get("column_sorting") or {}
    if sorting:
        opts["sorting"] = {str(k): " ".join(v) for k, v in sorting.items()}
    return IndexInfo(
        name=raw.get("name"),
        columns=tuple(columns),
        unique=bool(raw.get("unique")),
        options=options_of(opts),
    )


@dataclass
class ReflectionExtras:
    """What a dialect reads about its tables its own way (see ``Backend.reflection_extras``).

    Where a dialect provides these, its indexes and unique constraints come from here
    rather than from SQLAlchemy's Inspector; ``fk_rules`` and ``rowid_aliases``
    correct what the Inspector reports about keys and columns.
    """

    indexes: dict[str, list[IndexInfo]] = field(default_factory=dict)
    uniques: dict[str, list[ConstraintInfo]] = field(default_factory=dict)
    fk_rules: dict[tuple[str, tuple[str, ...], str], tuple[str, str]] = field(default_factory=dict)
    rowid_aliases: set[tuple[str, str]] = field(default_factory=set)


def _constraint_sort_key(con: ConstraintInfo) -> tuple[Any, ...]:
    return (
        con.kind,
        con.name is None,
        con.name or "",
        con.columns,
        con.ref_table or "",
        con.ref_columns,
        con.sqltext or "",
        con.ondelete or "",
        con.onupdate or "",
        con.options,
    )


def _index_sort_key(idx: IndexInfo) -> tuple[Any, ...]:
    return (idx.name is None, idx.name or "", idx.columns, idx.unique, idx.options)


def _table_info(
    name: str,
    dialect: Any,
    backend: Backend,
    default_schema: str | None,
    raw_columns: Sequence[Mapping[str, Any]],
    pk: Mapping[str, Any],
    fks: Sequence[Mapping[str, Any]],
    raw_indexes: Sequence[Mapping[str, Any]],
    uniques: Sequence[Mapping[str, Any]],
    checks: Sequence[Mapping[str, Any]],
    comment: str | None,
    extras: ReflectionExtras,
) -> TableInfo:
    """One table's reflected pieces, normalized and put together."""
    pk_columns = tuple(pk.get("constrained_columns") or ())
    rowid = next((c for t, c in extras.rowid_aliases if t == name), None)
    columns = tuple(
        _column_info(col, dialect, backend, col["name"] == rowid) for col in raw_columns
    )

    constraints: list[ConstraintInfo] = []
    if pk_columns:
        constraints.append(ConstraintInfo(kind="primary", name=pk.get("name"), columns=pk_columns))
    for fk in fks:
        options: dict[str, Any] = dict(fk.get("options") or {})
        key = (name, tuple(fk["constrained_columns"]), fk["referred_table"])
        if key in extras.fk_rules:
            options["onupdate"], options["ondelete"] = extras.fk_rules[key]
        ref_table = fk["referred_table"]
        ref_schema = fk.get("referred_schema")
        if ref_schema and ref_schema != default_schema:
            ref_table = f"{ref_schema}.{ref_table}"
        constraints.append(
            ConstraintInfo(
                kind="foreignkey",
                name=fk.get("name"),
                columns=tuple(fk["constrained_columns"]),
                ref_table=ref_table,
                ref_columns=tuple(fk["referred_columns"]),
                ondelete=_rule(options.pop("ondelete", None), backend),
                onupdate=_rule(options.pop("onupdate", None), backend),
                options=options_of(options),
            )
        )
    # MySQL: a unique constraint *is* a unique index; it is reported once, as a constraint.
    backing = {str(uq["duplicates_index"]) for uq in uniques if uq.get("duplicates_index")}
    for uq in uniques:
        constraints.append(
            ConstraintInfo(
                kind="unique",
                name=uq.get("name"),
                columns=tuple(uq["column_names"]),
                options=options_of(uq.get("dialect_options") or {}),
            )
        )
    constraints.extend(extras.uniques.get(name, ()))
    for ck in checks:
        sqltext = sqlt.normalize_sql(ck.get("sqltext"))
        constraints.append(ConstraintInfo(kind="check", name=ck.get("name"), sqltext=sqltext))

    indexes = [
        _index_info(ix)
        for ix in raw_indexes
        # PostgreSQL: the index behind a unique constraint; the constraint says it all.
        if not ix.get("duplicates_constraint") and ix.get("name") not in backing
    ]
    indexes.extend(extras.indexes.get(name, ()))
    return TableInfo(
        name=name,
        columns=columns,
        constraints=tuple(sorted(constraints, key=_constraint_sort_key)),
        indexes=tuple(sorted(indexes, key=_index_sort_key)),
        comment=_empty_to_none(comment),
    )


def _by_table(found: Mapping[tuple[str | None, str], Any]) -> dict[str, Any]:
    """``get_multi_*`` results keyed by table name alone (one schema is reflected)."""
    return {key[1]: value for key, value in found.items()}


def reflect_schema(
    connection: sa.Connection | sa.Engine,
    tables: Iterable[str] | None = None,
    *,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
) -> SchemaSnapshot:
    """Snapshot the tables of the connection's default schema, or those of ``tables`` that exist.

    ``exclude`` keeps our own bookkeeping table out of every comparison.
    """
    if isinstance(connection, sa.Engine):
        with connection.connect() as conn:
            return reflect_schema(conn, tables, exclude=exclude)
    insp = sa.inspect(connection)
    dialect = insp.dialect
    backend = dialects.get(connection)
    kind = dialects.name_of(dialect)
    excluded = set(exclude)
    if tables is None:
        names = [n for n in insp.get_table_names() if n not in excluded]
    else:
        names = list(dict.fromkeys(n for n in tables if n not in excluded))
    if not names:
        return SchemaSnapshot(kind, {})

    # Tables that do not exist simply come back without an entry.
    raw_columns = _by_table(insp.get_multi_columns(filter_names=names))
    names = [n for n in names if n in raw_columns]
    if not names:
        return SchemaSnapshot(kind, {})
    pks = _by_table(insp.get_multi_pk_constraint(filter_names=names))
    fks = _by_table(insp.get_multi_foreign_keys(filter_names=names))
    checks = _by_table(insp.get_multi_check_constraints(filter_names=names))
    comments: dict[str, Any] = {}
    if dialect.supports_comments:
        comments = _by_table(insp.get_multi_table_comment(filter_names=names))
    raw_indexes: dict[str, Any] = {}
    uniques: dict[str, Any] = {}
    extras = backend.reflection_extras(connection, names)
    if extras is None:
        extras = ReflectionExtras()
        raw_indexes = _by_table(insp.get_multi_indexes(filter_names=names))
        uniques = _by_table(insp.get_multi_unique_constraints(filter_names=names))

    result: dict[str, TableInfo] = {}
    for name in names:
        result[name] = _table_info(
            name,
            dialect,
            backend,
            insp.default_schema_name,
            raw_columns[name],
            pks.get(name) or {},
            fks.get(name, []),
            raw_indexes.get(name, []),
            uniques.get(name, []),
            checks.get(name, []),
            (comments.get(name) or {}).get("text"),
            extras,
        )
    return SchemaSnapshot(kind, result)


def snapshot(
    connection: sa.Connection, tables: Iterable[str] | None = None, *, exclude: Iterable[str] = ()
) -> Any:
    """The quickest snapshot of ``tables`` (all when None) the dialect can take, for comparing
    the same database before and after (the reversibility check).

    Compare two with :func:`snapshot_differences`. Usually a :class:`SchemaSnapshot`;
    SQLite's is the text of its schema table, reflected only when the text differs.
    """
    wanted = set(tables) if tables is not None else None
    return dialects.get(connection).snapshot(connection, wanted, exclude)


def snapshot_differences(expected: Any, actual: Any) -> list[SchemaDifference]:
    """How ``actual`` differs from ``expected``, two snapshots from :func:`snapshot`."""
    return list(expected.differences(actual))


# --------------------------------------------------------------------------- diff


_KIND_WORDS = {
    "primary": "primary key",
    "unique": "unique",
    "foreignkey": "foreign key",
    "check": "check",
}
_DESCRIBE_WORDS = {
    "primary": "primary key",
    "unique": "unique constraint",
    "foreignkey": "foreign key",
    "check": "check constraint",
}

T = TypeVar("T")


@dataclass
class _Report:
    """Differences of one table, collected with what they sort by."""

    table: str
    found: list[tuple[str, str, str, str | None, str | None]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        subject: str,
        message: str,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        self.found.append((kind, subject, message, expected, actual))

    def missing(self, kind: str, subject: str, description: str) -> None:
        self.add(kind, subject, f"{description} is missing", description, None)

    def extra(self, kind: str, subject: str, description: str) -> None:
        self.add(kind, subject, f"{description} is still there", None, description)

    def changed(
        self, kind: str, subject: str, where: str, what: str, expected: str, actual: str
    ) -> None:
        """``<where>: <what> X in the database, Y expected`` (``what`` may be empty)."""
        what = f"{what} " if what else ""
        self.add(
            kind,
            subject,
            f"{where}: {what}{actual} in the database, {expected} expected",
            expected,
            actual,
        )

    def rule(
        self,
        kind: str,
        subject: str,
        where: str,
        what: str,
        expected: str | None,
        actual: str | None,
    ) -> None:
        """Like ``changed``, with an absent side worded as "none"."""
        if actual is None:
            message = f"{where}: {what} {expected} expected, database has none"
        elif expected is None:
            message = f"{where}: {what} {actual} in the database, none expected"
        else:
            message = f"{where}: {what} {actual} in the database, {expected} expected"
        self.add(kind, subject, message, expected, actual)


def _cols(table: str, columns: Sequence[str]) -> str:
    return f"{table}({', '.join(columns)})"


def _named(word: str, name: str | None) -> str:
    return f"{word} {name}" if name else word


def _describe_constraint(table: str, con: ConstraintInfo, *, with_name: bool = True) -> str:
    head = _named(_DESCRIBE_WORDS[con.kind], con.name if with_name else None)
    if con.kind == "check":
        return f"{head} on {table} CHECK ({con.sqltext})"
    text = f"{head} on {_cols(table, con.columns)}"
    if con.kind == "foreignkey":
        text += f" -> {_cols(con.ref_table or '?', con.ref_columns)}"
    return text


def _describe_index(table: str, idx: IndexInfo, *, with_name: bool = True) -> str:
    word = "unique index" if idx.unique else "index"
    text = f"{_named(word, idx.name if with_name else None)} on {_cols(table, idx.columns)}"
    if idx.options:
        text += f" ({_option_pairs(idx.options)})"
    return text


def _option_pairs(options: Options) -> str | None:
    return ", ".join(f"{k}={v}" for k, v in options) if options else None


def _match(
    expected: Sequence[T],
    actual: Sequence[T],
    name_of: Callable[[T], str | None],
    definition_of: Callable[[T], Hashable],
    loose_key_of: Callable[[T], Hashable] | None,
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Pair objects by name, then by identical definition, then (unnamed ones) by a looser key.

    Unnamed objects (SQLite reports many constraints without a name) can only be
    recognized by what they are; the loose key lets a changed unnamed foreign key
    read as one change rather than as one missing and one extra.
    """
    left = list(expected)
    right = list(actual)
    pairs: list[tuple[T, T]] = []

    def take(e: T, a: T) -> None:
        pairs.append((e, a))
        left.remove(e)
        right.remove(a)

    for e in list(left):
        name = name_of(e)
        found = next((a for a in right if name is not None and name_of(a) == name), None)
        if found is not None:
            take(e, found)
    for e in list(left):
        found = next((a for a in right if definition_of(a) == definition_of(e)), None)
        if found is not None:
            take(e, found)
    if loose_key_of is not None:
        for e in list(left):
            key = loose_key_of(e)
            same_e = [x for x in left if loose_key_of(x) == key]
            same_a = [x for x in right if loose_key_of(x) == key]
            one_each = len(same_e) == 1 and len(same_a) == 1
            if one_each and (name_of(e) is None or name_of(same_a[0]) is None):
                take(e, same_a[0])
    return pairs, left, right


def _quote(text: str | None) -> str | None:
    return None if text is None else repr(text)


def _flag(value: bool, yes: str, no: str) -> str:
    return yes if value else no


def _diff_columns(report: _Report, exp: TableInfo, act: TableInfo, compare_order: bool) -> None:
    table = report.table
    act_cols = {c.name: c for c in act.columns}
    exp_cols = {c.name: c for c in exp.columns}
    for col in exp.columns:
        if col.name not in act_cols:
            report.missing("column", col.name, f"column {table}.{col.name}")
    for col in act.columns:
        if col.name not in exp_cols:
            report.extra("column", col.name, f"column {table}.{col.name}")
    for e in exp.columns:
        a = act_cols.get(e.name)
        if a is None or a == e:
            continue
        where = f"column {table}.{e.name}"
        if a.type != e.type:
            report.changed("type", e.name, where, "type", e.type, a.type)
        if a.nullable != e.nullable:
            ev, av = (_flag(c.nullable, "nullable", "NOT NULL") for c in (e, a))
            report.changed("nullable", e.name, where, "", ev, av)
        if a.default != e.default:
            report.rule("default", e.name, where, "default", e.default, a.default)
        if a.comment != e.comment:
            report.rule("comment", e.name, where, "comment", _quote(e.comment), _quote(a.comment))
        if a.autoincrement != e.autoincrement:
            ev, av = (_flag(c.autoincrement, "autoincrement", "no autoincrement") for c in (e, a))
            report.changed("autoincrement", e.name, where, "", ev, av)
        if a.computed != e.computed:
            report.rule("computed", e.name, where, "computed as", e.computed, a.computed)
    if compare_order:
        exp_order = [c.name for c in exp.columns if c.name in act_cols]
        act_order = [c.name for c in act.columns if c.name in exp_cols]
        if exp_order != act_order:
            ev, av = ", ".join(exp_order), ", ".join(act_order)
            report.changed("column order", "", f"table {table}", "columns in order", ev, av)


def _renamed(
    report: _Report, kind: str, description: str, e_name: str | None, a_name: str | None
) -> None:
    expected = e_name or "unnamed"
    shown = f"is named {a_name}" if a_name else "is unnamed"
    report.add(
        kind, e_name or a_name or "", f"{description} {shown}, {expected} expected", e_name, a_name
    )


def _constraint_definition(con: ConstraintInfo) -> Hashable:
    return (
        con.columns,
        con.ref_table,
        con.ref_columns,
        con.ondelete,
        con.onupdate,
        con.sqltext,
        con.options,
    )


def _diff_constraint_pair(report: _Report, e: ConstraintInfo, a: ConstraintInfo) -> None:
    table = report.table
    kind = _KIND_WORDS[e.kind]
    subject = e.name or a.name or ",".join(e.columns)
    if e.name != a.name:
        _renamed(report, kind, _describe_constraint(table, a, with_name=False), e.name, a.name)
    if _constraint_definition(e) == _constraint_definition(a):
        return
    where = _describe_constraint(table, e)
    if e.kind == "primary":
        where = f"primary key of {table}"
    elif e.kind == "check":
        where = f"{_named('check constraint', e.name)} on {table}"
        if e.sqltext != a.sqltext:
            report.changed(kind, subject, where, "", f"CHECK ({e.sqltext})", f"CHECK ({a.sqltext})")
        return
    if e.columns != a.columns:
        report.changed(kind, subject, where, "on", _cols(table, e.columns), _cols(table, a.columns))
    if e.kind == "foreignkey":
        if (e.ref_table, e.ref_columns) != (a.ref_table, a.ref_columns):
            ev = _cols(e.ref_table or "?", e.ref_columns)
            av = _cols(a.ref_table or "?", a.ref_columns)
            where_from = f"{_named('foreign key', e.name)} on {_cols(table, e.columns)}"
            report.changed(kind, subject, where_from, "references", ev, av)
        report_rules = (("ondelete", e.ondelete, a.ondelete), ("onupdate", e.onupdate, a.onupdate))
        for rule, ev_rule, av_rule in report_rules:
            if ev_rule != av_rule:
                report.rule(kind, subject, where, rule, ev_rule, av_rule)
    if e.options != a.options:
        report.rule(
            kind, subject, where, "options", _option_pairs(e.options), _option_pairs(a.options)
        )


def _index_definition(idx: IndexInfo) -> Hashable:
    return (idx.columns, idx.unique, idx.options)


def _diff_index_pair(report: _Report, e: IndexInfo, a: IndexInfo) -> None:
    table = report.table
    subject = e.name or a.name or ",".join(e.columns)
    if e.name != a.name:
        _renamed(report, "index", _describe_index(table, a, with_name=False), e.name, a.name)
    if _index_definition(e) == _index_definition(a):
        return
    where = f"{_named('index', e.name)} on {_cols(table, e.columns)}"
    if e.columns != a.columns:
        report.changed(
            "index",
            subject,
            _named("index", e.name),
            "on",
            _cols(table, e.columns),
            _cols(table, a.columns),
        )
    if e.unique != a.unique:
        ev, av = (_flag(i.unique, "unique", "not unique") for i in (e, a))
        report.add("index", subject, f"{where} is {av} in the database, {ev} expected", ev, av)
    if e.options != a.options:
        report.rule(
            "index", subject, where, "options", _option_pairs(e.options), _option_pairs(a.options)
        )


def _unique_switch(report: _Report, idx: IndexInfo, *, index_expected: bool) -> None:
    """One message for an index that turned into a unique constraint, or back.

    MySQL cannot tell a unique index from a unique constraint, so an index that
    became unique would otherwise read as "index gone, unique constraint appeared".
    """
    where = f"index {idx.name} on {_cols(report.table, idx.columns)}"
    if idx.unique:
        ev, av = "a unique index", "a unique constraint"
    else:
        ev, av = "not unique", "unique"
    if not index_expected:
        ev, av = av, ev
    report.add("index", idx.name or "", f"{where} is {av} in the database, {ev} expected", ev, av)


def _switch_candidate(idx: IndexInfo, uniques: list[ConstraintInfo]) -> ConstraintInfo | None:
    if not idx.name or idx.options:
        return None
    return next((u for u in uniques if u.name == idx.name and u.columns == idx.columns), None)


def _diff_table(report: _Report, exp: TableInfo, act: TableInfo, compare_order: bool) -> None:
    table = report.table
    _diff_columns(report, exp, act, compare_order)
    if exp.comment != act.comment:
        report.rule(
            "comment", "", f"table {table}", "comment", _quote(exp.comment), _quote(act.comment)
        )

    def describe(con: ConstraintInfo) -> tuple[str, str]:
        subject = con.name or ",".join(con.columns) or con.sqltext or ""
        return subject, _describe_constraint(table, con)

    missing_uq: list[ConstraintInfo] = []
    extra_uq: list[ConstraintInfo] = []
    for kind in ("primary", "foreignkey", "unique", "check"):
        exp_cons = exp.constraints_of(kind)
        act_cons = act.constraints_of(kind)
        if kind == "primary":
            # A table has at most one: whatever the names, they are the same thing.
            pairs = list(zip(exp_cons, act_cons, strict=False))
            missing = list(exp_cons[len(act_cons) :])
            extra = list(act_cons[len(exp_cons) :])
        else:
            loose = _constraint_columns if kind in ("foreignkey", "unique") else None
            pairs, missing, extra = _match(
                exp_cons, act_cons, _constraint_name, _constraint_definition, loose
            )
        for e, a in pairs:
            _diff_constraint_pair(report, e, a)
        if kind == "unique":
            missing_uq, extra_uq = missing, extra
            continue
        for con in missing:
            report.missing(_KIND_WORDS[kind], *describe(con))
        for con in extra:
            report.extra(_KIND_WORDS[kind], *describe(con))

    pairs_ix, missing_ix, extra_ix = _match(
        exp.indexes, act.indexes, _index_name, _index_definition, _index_columns
    )
    for e_ix, a_ix in pairs_ix:
        _diff_index_pair(report, e_ix, a_ix)
    for e_ix in list(missing_ix):
        uq = _switch_candidate(e_ix, extra_uq)
        if uq is not None:
            missing_ix.remove(e_ix)
            extra_uq.remove(uq)
            _unique_switch(report, e_ix, index_expected=True)
    for a_ix in list(extra_ix):
        uq = _switch_candidate(a_ix, missing_uq)
        if uq is not None:
            extra_ix.remove(a_ix)
            missing_uq.remove(uq)
            _unique_switch(report, a_ix, index_expected=False)
    for con in missing_uq:
        report.missing("unique", *describe(con))
    for con in extra_uq:
        report.extra("unique", *describe(con))
    for idx in missing_ix:
        report.missing("index", idx.name or ",".join(idx.columns), _describe_index(table, idx))
    for idx in extra_ix:
        report.extra("index", idx.name or ",".join(idx.columns), _describe_index(table, idx))


def _constraint_name(con: ConstraintInfo) -> str | None:
    return con.name


def _constraint_columns(con: ConstraintInfo) -> Hashable:
    return con.columns


def _index_name(idx: IndexInfo) -> str | None:
    return idx.name


def _index_columns(idx: IndexInfo) -> Hashable:
    return idx.columns


def _sort_key(found: tuple[str, str, str, str | None, str | None]) -> tuple[str, str, str]:
    return found[:3]


def diff_schemas(
    expected: SchemaSnapshot,
    actual: SchemaSnapshot,
    *,
    tables: Iterable[str] | None = None,
    compare_column_order: bool = False,
    ignore_tables: Iterable[str] = (),
) -> list[SchemaDifference]:
    """How ``actual`` differs from ``expected``, in a stable order; empty when they match.

    Column order is ignored unless asked for: a column added by a migration
    always lands last, while ``create_all`` puts it where the model declares it.
    """
    if expected.dialect != actual.dialect:
        raise ValueError(
            f"cannot compare a {expected.dialect} schema with a {actual.dialect} schema"
        )
    names = set(expected.tables) | set(actual.tables)
    if tables is not None:
        names &= set(tables)
    names -= set(ignore_tables)
    result: list[SchemaDifference] = []
    for name in sorted(names):
        report = _Report(name)
        exp = expected.tables.get(name)
        act = actual.tables.get(name)
        if act is None:
            report.missing("table", name, f"table {name}")
        elif exp is None:
            report.extra("table", name, f"table {name}")
        elif exp != act:
            _diff_table(report, exp, act, compare_column_order)
        for kind, _subject, message, exp_text, act_text in sorted(report.found, key=_sort_key):
            result.append(SchemaDifference(name, kind, message, exp_text, act_text))
    return result
