"""Constructs the models declare that no database could ever create, found before any file is written.

``metadata.create_all`` happily emits ``CREATE INDEX ix ON t ()`` or a foreign key
to a table nobody creates; a migration written from such models fails on
PostgreSQL and MariaDB (or, on SQLite, applies with a dangling key) and the user
learns it in CI, or in production. Each rule here is one such construct, checked
over the models' *state* (plain data, no database), and reported as a
:class:`Problem` that names the model, the table, the column, index or key, and
the fix. ``makemigrations`` stops on any (exit 2) through
:func:`migrate_core.db.creatable.valid_model_state`; ``check-migrations`` can turn
each problem into a finding on the model's file and line (see :func:`locate`).

Rules that depend on the database (a MySQL VARCHAR needs a length, PostgreSQL
needs a name for a native enum) live in that database's dialect module and come in
as :class:`DialectRules`; they run only when the project's database URL names that
dialect (without a URL only the rules that hold everywhere run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Protocol

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.schema.state import ProjectState
    from migrate_core.schema.state import TableState


# Stable codes: reports and ``accept`` lists name problems by these.
INDEX_WITHOUT_COLUMNS = "MV001"
FOREIGN_KEY_TO_UNKNOWN_TABLE = "MV002"
FOREIGN_KEY_TO_UNKNOWN_COLUMN = "MV003"
FOREIGN_KEY_TO_NON_UNIQUE = "MV004"
TABLE_WITHOUT_COLUMNS = "MV005"
NAME_TOO_LONG = "MV006"
DUPLICATE_INDEX_NAME = "MV007"
UNWRITABLE_TYPE = "MV008"
FOREIGN_KEY_COLUMN_COUNT = "MV009"
UNSUPPORTED_TYPE = "MV010"
COLUMN_WITHOUT_TYPE = "MV011"
TABLE_IN_OTHER_SCHEMA = "MV012"
TYPE_NOT_CREATABLE = "MV101"
MYSQL_KEY_ON_TEXT_WITHOUT_LENGTH = "MV102"
MYSQL_PREFIX_ON_NON_STRING = "MV103"
POSTGRESQL_ENUM_WITHOUT_NAME = "MV201"


@dataclass(frozen=True)
class NameLimit:
    """How long a database lets a table or column name be, and in what unit it counts."""

    database: str
    length: int
    unit: str  # "bytes" or "characters"

    def measure(self, name: str) -> int:
        return len(name.encode()) if self.unit == "bytes" else len(name)


#: PostgreSQL silently cuts identifiers to 63 bytes (the table then differs from the model
#: forever); MySQL and MariaDB refuse names over 64 characters; SQLite has no limit. The
#: dialect modules say their own; with no database configured, every limit here applies.
POSTGRESQL_NAMES = NameLimit("PostgreSQL", 63, "bytes")
MYSQL_NAMES = NameLimit("MySQL/MariaDB", 64, "characters")
EVERY_DATABASE_NAMES = (POSTGRESQL_NAMES, MYSQL_NAMES)


@dataclass(frozen=True)
class Location:
    """Where a table is declared: the mapped class, its file and line (Core tables: unknown)."""

    model: str | None = None
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Problem:
    """One construct that cannot be created, with what to do about it."""

    code: str
    table: str
    message: str
    fix: str
    column: str | None = None
    index: str | None = None
    key: str | None = None
    model: str | None = None
    path: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """``shop/models.py:12: model Order (table order): index ix_x has no columns. Fix: ...``"""
        where = f"{self.path}:{self.line}: " if self.path and self.line else ""
        what = f"model {self.model} (table {self.table})" if self.model else f"table {self.table}"
        return f"{where}{what}: {self.message} [{self.code}]\n    fix: {self.fix}"


# -- entry points ----------------------------------------------------------------------------------


class DialectRules(Protocol):
    """What one database adds to the rules that hold everywhere (a dialect module's
    backend provides it: ``migrate_core.db.dialects``)."""

    def table_problems(self, table: TableState) -> Iterable[Found]:
        """This database's own objections to ``table`` (types it cannot compile, keys)."""

    def shared_index_names(self, table: TableState) -> Iterable[tuple[str, str]]:
        """``(name, kind)`` of the objects of ``table`` whose names share one namespace
        with every other table's indexes (empty where index names are per table)."""

    @property
    def name_limits(self) -> tuple[NameLimit, ...]:
        """How long this database lets a table or column name be (empty: no limit)."""


def validate(
    state: ProjectState,
    config: Config,
    *,
    locations: dict[str, Location] | None = None,
    rules: DialectRules | None = None,
) -> list[Problem]:
    """Every construct of ``state`` no database could create, in table order.

    ``dialect`` defaults to the one the project's database URL names (none known:
    only the rules that hold in every database run).
    """
    locations = locations or {}
    problems: list[Problem] = []
    for name in sorted(state.tables):
        table = state.tables[name]
        found: list[tuple[str, str, str, dict[str, str]]] = []
        found.extend(_table_rules(table))
        found.extend(
            _name_rules(table, EVERY_DATABASE_NAMES if rules is None else rules.name_limits)
        )
        found.extend(_foreign_key_rules(table, state, config))
        if rules is not None:
            found.extend(rules.table_problems(table))
        loc = locations.get(name, Location())
        for code, message, fix, parts in found:
            problems.append(
                Problem(
                    code=code,
                    table=name,
                    message=message,
                    fix=fix,
                    model=loc.model,
                    path=loc.path,
                    line=loc.line,
                    **parts,
                )
            )
    problems.extend(_duplicate_index_names(state, rules, locations))
    return problems


def locate(config: Config, *, root: Path | None = None) -> dict[str, Location]:
    """``{table: Location}`` for every app's models (imported already).

    A mapped class is found at its ``class`` line; a Core ``Table("name", ...)`` at
    the line of that call in the app's models module; any other table at the models
    module itself (line unknown), so a finding always lands in a file the user owns.
    """
    import sys

    from migrate_core import paths
    from migrate_core.schema import project

    base = root or config.root
    out: dict[str, Location] = {}
    files: dict[str, _SourceLines] = {}  # each models file parsed once

    def lines_of(source: str) -> _SourceLines:
        if source not in files:
            files[source] = _source_lines(source)
        return files[source]

    for app in config.apps.values():
        obj = project.import_models(app, base)
        registry = getattr(obj, "registry", obj)
        for mapper in getattr(registry, "mappers", ()):
            table = getattr(mapper, "local_table", None)
            name = getattr(table, "name", None)
            if not isinstance(name, str) or name in out:
                continue
            cls = mapper.class_
            source = getattr(sys.modules.get(cls.__module__), "__file__", None)
            line = lines_of(source).classes.get(cls.__qualname__) if source else None
            path = paths.relative(Path(source), base) if source else None
            out[name] = Location(model=cls.__name__, path=path, line=line)
        module_file = getattr(sys.modules.get(app.models_module), "__file__", None)
        if not module_file:
            continue
        module_path = paths.relative(Path(module_file), base)
        for name in project.metadata_of(obj, app.models).tables:
            if name not in out:
                line = lines_of(module_file).tables.get(name)
                out[name] = Location(path=module_path, line=line)
    return out


@dataclass
class _SourceLines:
    classes: dict[str, int]  # qualified class name -> line of ``class``
    tables: dict[str, int]  # table name -> line of ``Table("name", ...)``


def _source_lines(source: str) -> _SourceLines:
    """Where the classes and ``Table(...)`` calls of a models file are (``inspect.getsourcelines``
    would parse the whole file again for every class: a minute on a 200-model file)."""
    import ast

    found = _SourceLines({}, {})
    try:
        tree = ast.parse(Path(source).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return found

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = f"{prefix}{child.name}"
                found.classes.setdefault(name, child.lineno)
                visit(child, f"{name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, f"{prefix}{child.name}.<locals>.")
            else:
                if isinstance(child, ast.Call) and child.args:
                    func = child.func
                    called = (
                        func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    )
                    first = child.args[0]
                    if (
                        called == "Table"
                        and isinstance(first, ast.Constant)
                        and isinstance(first.value, str)
                    ):
                        found.tables.setdefault(first.value, child.lineno)
                visit(child, prefix)

    visit(tree, "")
    return found


# -- rules -----------------------------------------------------------------------------------------

Found = tuple[str, str, str, dict[str, str]]


def _table_rules(table: TableState) -> Iterable[Found]:
    from sqlalchemy.types import NullType

    from migrate_core.schema import codegen

    for column in table.columns:
        if column.type is None:
            continue
        if isinstance(column.type, NullType):
            referred = [fk.ref_table for fk in table.foreign_keys if column.name in fk.columns]
            why = (
                f"SQLAlchemy copies a foreign key column's type from {referred[0]}, which is "
                "not in the column's MetaData"
                if referred
                else "it was declared without one"
            )
            yield (
                COLUMN_WITHOUT_TYPE,
                f"column {column.name} has no type ({why}); no database can create it",
                f"give the column its type: mapped_column(sa.Integer, ...) or "
                f'sa.Column("{column.name}", sa.Integer, ...)',
                {"column": column.name},
            )
            continue
        db_type = codegen.database_type(column.type)
        for type_ in (db_type, *getattr(db_type, "_variant_mapping", {}).values()):
            name = type(type_).__name__
            if (
                type(type_).__module__.startswith("sqlalchemy.dialects.postgresql")
                and name == "DOMAIN"
            ):
                yield (
                    UNSUPPORTED_TYPE,
                    f"column {column.name} is a PostgreSQL DOMAIN, which migrate-core does not "
                    "create or drop (a migration would fail: the type does not exist)",
                    "declare the column with the domain's data type (and its CHECK as a "
                    "CheckConstraint), or create the domain in a RunSQL migration of your own "
                    "and list the column's table in exclude-tables",
                    {"column": column.name},
                )
    if not table.columns:
        yield (
            TABLE_WITHOUT_COLUMNS,
            "the table has no columns; MySQL and SQLite refuse CREATE TABLE without any",
            "give the table at least one column (usually a primary key)",
            {},
        )
    for index in table.indexes:
        if not index.elements:
            yield (
                INDEX_WITHOUT_COLUMNS,
                f"index {index.name} has no columns or expressions; the database would be "
                f"sent CREATE INDEX {index.name} ON {table.name} ()",
                "name the columns in the Index(...) or remove it",
                {"index": index.name or ""},
            )


def _name_rules(table: TableState, limits: tuple[NameLimit, ...]) -> Iterable[Found]:
    """Table and column names longer than a target database allows.

    Index and constraint names are not measured: migrate-core and ``create_all`` pass
    them as ``conv`` names, which SQLAlchemy shortens to each database's limit with a
    hash suffix (a naming convention's long names are fine on every database).
    """

    def over(name: str) -> list[NameLimit]:
        return [limit for limit in limits if limit.measure(name) > limit.length]

    why = _why

    def shortest(exceeded: list[NameLimit]) -> str:
        limit = min(exceeded, key=lambda x: x.length)
        return f"{limit.length} {limit.unit}"

    exceeded = over(table.name)
    if exceeded:
        yield (
            NAME_TOO_LONG,
            f"the table name is too long: {why(table.name, exceeded)}",
            f"set __tablename__ to a name of at most {shortest(exceeded)}",
            {},
        )
    for column in table.columns:
        exceeded = over(column.name)
        if exceeded:
            yield (
                NAME_TOO_LONG,
                f"column {column.name} has a name too long: {why(column.name, exceeded)}",
                f"name the column in the database with at most {shortest(exceeded)} "
                '(mapped_column("short_name", ...) keeps the attribute name)',
                {"column": column.name},
            )


def _foreign_key_rules(table: TableState, state: ProjectState, config: Config) -> Iterable[Found]:
    for fk in table.foreign_keys:
        parts = {"key": fk.name or "", "column": ", ".join(fk.columns)}
        label = f"foreign key {fk.name} ({', '.join(fk.columns)})"
        if len(fk.columns) != len(fk.ref_columns):
            yield (
                FOREIGN_KEY_COLUMN_COUNT,
                f"{label} has {len(fk.columns)} columns but refers to {len(fk.ref_columns)}",
                "name as many referred columns as local ones in the ForeignKeyConstraint",
                parts,
            )
            continue
        target = state.get_table(fk.ref_table)
        if target is None:
            if config.is_excluded(fk.ref_table):
                continue  # the database has it; the models do not own it
            yield (
                FOREIGN_KEY_TO_UNKNOWN_TABLE,
                f"{label} refers to table {fk.ref_table}, which no app's models declare "
                "and exclude-tables does not list",
                f"add a model for {fk.ref_table} to an app, add {fk.ref_table!r} to "
                f"exclude-tables in {config.path.name} if the database has it already, "
                "or remove the key",
                parts,
            )
            continue
        missing = [c for c in fk.ref_columns if target.get_column(c) is None]
        if missing:
            yield (
                FOREIGN_KEY_TO_UNKNOWN_COLUMN,
                f"{label} refers to {fk.ref_table}.{', '.join(missing)}, which table "
                f"{fk.ref_table} does not have",
                f"refer to a column of {fk.ref_table} (it has {', '.join(target.column_names)})",
                parts,
            )
            continue
        if not _is_unique(target, fk.ref_columns):
            yield (
                FOREIGN_KEY_TO_NON_UNIQUE,
                f"{label} refers to {fk.ref_table}({', '.join(fk.ref_columns)}), which is "
                "neither its primary key nor unique; PostgreSQL and MySQL 8.4 refuse such a key",
                f"refer to the primary key of {fk.ref_table}, or make those columns unique "
                "(unique=True or a UniqueConstraint)",
                parts,
            )


def _is_unique(table: TableState, columns: tuple[str, ...]) -> bool:
    wanted = set(columns)
    if table.primary_key is not None and set(table.primary_key.columns) == wanted:
        return True
    if any(set(u.columns) == wanted for u in table.unique_constraints):
        return True
    return any(
        i.unique and not any(i.expressions) and set(i.elements) == wanted and not i.options
        for i in table.indexes
    )


def _duplicate_index_names(
    state: ProjectState, rules: DialectRules | None, locations: dict[str, Location]
) -> Iterable[Problem]:
    """Index names that the database keeps in one namespace for all tables (PostgreSQL,
    SQLite; per table only on MySQL: the dialect says which names share it).

    A mixin's ``__table_args__`` with a named Index gives every table the same
    name: the second CREATE INDEX fails. On PostgreSQL unique and primary keys
    are indexes too, and share the namespace with tables.
    """
    owners: dict[str, list[tuple[str, str]]] = {}
    for table_name in sorted(state.tables):
        table = state.tables[table_name]
        # No database known: index names per schema, as most databases keep them.
        shared = (
            rules.shared_index_names(table)
            if rules is not None
            else ((i.name, "index") for i in table.indexes if i.name)
        )
        for name, kind in shared:
            owners.setdefault(name, []).append((table_name, kind))
    for name, users in sorted(owners.items()):
        if len(users) < 2 or not any(kind == "index" for _, kind in users):
            continue
        first = users[0]
        for table_name, kind in users[1:]:
            loc = locations.get(table_name, Location())
            yield Problem(
                code=DUPLICATE_INDEX_NAME,
                table=table_name,
                message=f"{kind} {name} has the name of the {first[1]} on table {first[0]}; "
                "index names are shared by all tables of a schema",
                fix="give the index a name of its own on each table (a naming convention "
                'such as "ix_%(table_name)s_%(column_0_name)s" does it for every table)',
                index=name,
                model=loc.model,
                path=loc.path,
                line=loc.line,
            )


# -- rules on what the models declare, not on their state -------------------------------------------


def declared_problems(
    config: Config,
    *,
    root: Path | None = None,
    locations: dict[str, Location] | None = None,
    rules: DialectRules | None = None,
) -> list[Problem]:
    """What the state does not keep but decides whether the database gets what the models say.

    The state has no schema and no memory of how a name was given: a table in another
    schema would be created in the default one, and an index or key named by hand with
    a name over the database's limit is refused by SQLAlchemy (``create_all``) and the
    database, while a name a naming convention or migrate-core made (a ``conv``) is
    shortened to fit, so only the hand-given ones are reported.
    """
    from sqlalchemy.sql.elements import _truncated_label

    from migrate_core.schema import project

    locations = locations or {}
    limits = EVERY_DATABASE_NAMES if rules is None else rules.name_limits
    problems: list[Problem] = []
    for metadata in project.all_metadata(config, root=root):
        for table in sorted(metadata.tables.values(), key=lambda t: (t.name, t.schema or "")):
            if config.is_excluded(table.name) or not any(
                app.owns_table(table.name) for app in config.apps.values()
            ):
                continue  # not the models' to migrate (as in project.model_state)
            loc = locations.get(table.name, Location())
            if table.schema is not None:
                problems.append(
                    Problem(
                        code=TABLE_IN_OTHER_SCHEMA,
                        table=table.name,
                        message=f"the table is declared in schema {table.schema}; migrate-core "
                        "manages the default schema only, so its migration would create "
                        f"{table.name} there instead",
                        fix=f"remove schema={table.schema!r} (and set the connection's search path "
                        f"if you need the schema), or add {table.name!r} to exclude-tables in "
                        f"{config.path.name} and create it with RunSQL",
                        model=loc.model,
                        path=loc.path,
                        line=loc.line,
                    )
                )
            named: list[tuple[str, str]] = [
                (index.name, "index") for index in table.indexes if isinstance(index.name, str)
            ]
            named += [(c.name, "constraint") for c in table.constraints if isinstance(c.name, str)]
            for name, kind in named:
                if isinstance(name, _truncated_label):
                    continue  # a conv name: SQLAlchemy shortens it to fit each database
                exceeded = [x for x in limits if x.measure(name) > x.length]
                if not exceeded:
                    continue
                shortest = min(exceeded, key=lambda x: x.length)
                problems.append(
                    Problem(
                        code=NAME_TOO_LONG,
                        table=table.name,
                        message=f"{kind} {name} has a name too long: {_why(name, exceeded)}",
                        fix=f"give the {kind} a name of at most {shortest.length} {shortest.unit}, "
                        "or leave the name to a naming convention (its long names are shortened "
                        "to fit)",
                        index=name if kind == "index" else None,
                        key=name if kind == "constraint" else None,
                        model=loc.model,
                        path=loc.path,
                        line=loc.line,
                    )
                )
    return problems


def _why(name: str, exceeded: list[NameLimit]) -> str:
    return "; ".join(
        f"{limit.database} {'cuts names to' if limit.unit == 'bytes' else 'refuses names over'} "
        f"{limit.length} {limit.unit} (this one has {limit.measure(name)})"
        for limit in exceeded
    )


# -- helpers ---------------------------------------------------------------------------------------


def unwritable_types(config: Config, root: Path | None) -> list[Problem]:
    """Every column whose type no migration file can write, with the table and column."""
    from migrate_core.schema import codegen
    from migrate_core.schema import project

    locations = locate(config, root=root)
    problems = []
    for metadata in project.all_metadata(config, root=root):
        for table in sorted(metadata.tables.values(), key=lambda t: t.name):
            if config.is_excluded(table.name):
                continue
            for column in table.columns:
                try:
                    codegen.render_type(column.type)
                    codegen.refuse_project_compilers(column.type)
                except codegen.UnwritableTypeError as error:
                    loc = locations.get(table.name, Location())
                    problems.append(
                        Problem(
                            code=UNWRITABLE_TYPE,
                            table=table.name,
                            column=column.name,
                            message=f"column {column.name}: {error}",
                            fix=error.fix
                            or "use a type from sqlalchemy or sqlalchemy.dialects, or a "
                            "TypeDecorator whose impl is one (migration files import no "
                            "project code)",
                            model=loc.model,
                            path=loc.path,
                            line=loc.line,
                        )
                    )
    return problems


def summary(problems: list[Problem]) -> str:
    lines = [
        f"the models declare {len(problems)} construct(s) no database can create; "
        "no migration was written:"
    ]
    lines.extend(p.describe() for p in problems)
    return "\n".join(lines)
