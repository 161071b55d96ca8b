"""What a dialect module provides: a :class:`Features` record and a :class:`Backend`.

A dialect module defines ``BACKEND``, an instance of a :class:`Backend` subclass,
and the registry (``dialects/__init__.py``) maps SQLAlchemy dialect names to it.
The defaults here are the neutral case, a server database that Alembic's
Operations handle without help; each dialect overrides what differs. The list a
new dialect must go through is in ARCHITECTURE.md ("Adding a dialect").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from migrate_core.db.runners import Runner
from migrate_core.schema import state as st
from migrate_core.schema import validate

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.engine import Engine

    from migrate_core.db.introspection import ColumnInfo
    from migrate_core.db.introspection import ReflectionExtras
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.validate import Found


#: The execution option of a connection that only reads (showmigrations, migrate --plan):
#: its transactions need no write lock, so where a dialect takes one at BEGIN (SQLite's
#: BEGIN IMMEDIATE) it does not, and the reads see what is committed.
READ_ONLY = "migrate_core_read_only"


@dataclass(frozen=True)
class Features:
    """What a database can do, as far as migrate-core's code asks."""

    #: DDL runs inside a transaction and rolls back with it (a failed migration leaves nothing).
    transactional_ddl: bool
    #: Table and column comments exist (else they are left out of the DDL and of comparisons).
    comments: bool
    #: Enum types are schema objects of their own (created before, dropped after their columns).
    native_enums: bool
    #: ``ALTER TABLE ... RENAME COLUMN`` exists (MySQL: from 8.0 / MariaDB 10.5; the editor
    #: checks the server's version).
    rename_column: bool
    #: The server offers a lock migrate holds for its whole run (else: each migration's
    #: transaction takes the write lock, waiting as ``wait_for_writers`` says, and re-reads
    #: the history).
    migration_lock: bool
    #: ``atomic = False`` runs on an AUTOCOMMIT connection (where the database has such a mode
    #: apart from our own transaction handling; SQLite's is ours, see its engine setup).
    autocommit_mode: bool
    #: A database is a file: a scratch database is a new file, not a CREATE DATABASE.
    file_databases: bool
    #: ON DELETE/UPDATE RESTRICT is the same as NO ACTION (InnoDB), so both compare as the default.
    restrict_is_no_action: bool
    #: A commit costs far more than a small migration (SQLite syncs the file) and a writer
    #: locks the whole database anyway: migrate may keep several schema-only migrations in
    #: one transaction, each in its own savepoint, reporting them done when it commits.
    group_commits: bool = False


class Backend:
    """Everything migrate-core knows about one kind of database."""

    #: Our name for the dialect (the module's name).
    name: ClassVar[str]
    #: The SQLAlchemy dialect that ``sqlmigrate`` renders SQL for (MariaDB: MySQL's).
    offline_name: ClassVar[str]
    features: ClassVar[Features]
    #: DBAPI driver modules, and the migrate-core extra that installs them (a hint when
    #: one is missing).
    drivers: ClassVar[tuple[str, ...]] = ()
    install_extra: ClassVar[str | None] = None
    #: How long a table or column name may be (MV006 in ``schema/validate.py``); empty: no limit.
    name_limits: ClassVar[tuple[validate.NameLimit, ...]] = ()

    def __init__(self) -> None:
        # table_problems' memo: type code -> why this dialect cannot compile it (None: it can).
        self._type_errors: dict[str, str | None] = {}
        self._checker: Dialect | None = None

    # -- DDL ---------------------------------------------------------------------------------------

    @property
    def editor_class(self) -> type[SchemaEditor]:
        """The schema-editor subclass holding this dialect's DDL quirks."""
        raise NotImplementedError

    def offline_dialect(self) -> Dialect:
        """A SQLAlchemy dialect instance for rendering SQL without a database."""
        from sqlalchemy.engine import make_url

        return make_url(f"{self.offline_name}://").get_dialect()()

    def runner(self, connection: Connection) -> Runner:
        """What executes the editor's SQL on a live connection."""
        return Runner(connection)

    # -- engines -----------------------------------------------------------------------------------

    def connect_args(self) -> dict[str, Any]:
        """Extra DBAPI ``connect()`` arguments."""
        return {}

    def configure_engine(self, engine: Engine, *, scratch: bool) -> None:
        """Event listeners on a new engine. ``scratch``: durability is not worth a disk sync."""

    def url_problem(self, url: Any, error: BaseException) -> str | None:
        """What is wrong with ``url``'s parameters, when the driver's ``error`` on connecting
        does not say it (PyMySQL answers an unknown charset with an AttributeError).
        None: the error says it well enough."""
        return None

    # -- the migration lock ------------------------------------------------------------------------

    def try_lock(self, connection: Connection, key: int) -> bool:
        """Take the database-wide migration lock without waiting; whether we got it."""
        raise NotImplementedError

    def unlock(self, connection: Connection, key: int) -> None:
        raise NotImplementedError

    def wait_for_writers(self, connection: Connection, seconds: float, on_wait: Any = None) -> None:
        """Without ``features.migration_lock``: make taking the write lock wait at most
        ``seconds`` for another writer, calling ``on_wait()`` if one holds it now."""

    def is_lock_wait_timeout(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the write lock stayed taken for the whole wait."""
        return False

    def is_permission_denied(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the database refusing the role a privilege."""
        return False

    # -- scratch databases -------------------------------------------------------------------------

    def scratch_file_url(self, path: str) -> str:
        """The URL of a database file at ``path`` (only where ``features.file_databases``)."""
        raise NotImplementedError

    def admin_url(self, url: Any) -> Any:
        """Where to connect to create a database: the server's maintenance database."""
        return url.set(database=None)

    def quote_database(self, name: str) -> str:
        return f'"{name}"'

    def end_other_sessions(self, connection: Connection, database: str) -> None:
        """Before DROP DATABASE: end sessions that would keep it (where the server refuses)."""

    def database_names(self, connection: Connection) -> list[str]:
        """Every database on the server this account can see (scratch leftovers are among
        them). By default none: a server this cannot list has no leftovers to drop."""
        return []

    def databases_in_use(self, connection: Connection) -> set[str]:
        """The databases another session is connected to now (never dropped as stale)."""
        return set()

    def drop_stale_database(self, connection: Connection, name: str) -> None:
        """Drop a stale scratch database, without ending anyone's session on it: one that
        someone uses after all must stay (where the server refuses, let it refuse)."""
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.quote_database(name)}")

    def database_contents(self, connection: Connection) -> list[str]:
        """Every object in the connected database, as ``kind name``, sorted: a borrowed
        database must hold none (in any schema), since emptying it afterwards drops what
        the checks leave. By default what SQLAlchemy's Inspector lists: tables and views."""
        import sqlalchemy as sa

        inspector = sa.inspect(connection)
        found = [f"table {t}" for t in inspector.get_table_names()]
        found += [f"view {v}" for v in inspector.get_view_names()]
        return sorted(found)

    def before_emptying(self, connection: Connection) -> None:
        """Before a borrowed database's tables are dropped."""

    def after_emptying(self, connection: Connection) -> None:
        """After the tables are dropped: what else the checks created (enum types)."""

    # -- reflection and comparison -----------------------------------------------------------------

    def reflection_extras(
        self, connection: Connection, names: Sequence[str]
    ) -> ReflectionExtras | None:
        """Indexes, unique constraints and more, read the dialect's own way.

        ``None``: SQLAlchemy's Inspector reports indexes and unique constraints well enough.
        """
        return None

    def normalize_column(self, column: ColumnInfo, *, rowid_alias: bool) -> ColumnInfo:
        """A reflected column with what the database treats as equal made equal."""
        return column

    def normalize_default(self, default: str, type_text: str) -> str:
        """A reflected server default (whitespace and outer parentheses already gone) in one
        spelling per value, for a column of ``type_text`` (its reflected DDL type, upper case).

        Two defaults that insert the same value must come out equal, two that insert
        different values must not. By default: literals canonical for the column's kind of
        type (:func:`canonical_literal`); dialects first rewrite their own spellings.
        """
        return canonical_literal(default, type_kind(type_text))

    def normalize_type(self, type_text: str) -> str:
        """A reflected type (DDL, upper case) with spellings the database treats as the same
        type made one. By default the text as it is."""
        return type_text

    def snapshot(
        self, connection: Connection, tables: set[str] | None, exclude: Iterable[str]
    ) -> Any:
        """A quick snapshot of ``tables`` (all when None) for before/after comparisons.

        Anything with a ``differences(actual)`` method; by default a reflected
        :class:`~migrate_core.db.introspection.SchemaSnapshot`.
        """
        from migrate_core.db.introspection import reflect_schema

        return reflect_schema(connection, tables, exclude=exclude)

    # -- what the models may declare ---------------------------------------------------------------

    def table_problems(self, table: st.TableState) -> Iterator[Found]:
        """This database's objections to a table of the models, before anything is written.

        By default: a column type this dialect's DDL compiler refuses (SQLAlchemy says why).
        Dialects add their own rules by extending this.
        """
        import sqlalchemy as sa
        from sqlalchemy.schema import CreateTable
        from sqlalchemy.types import NullType

        from migrate_core.schema import codegen

        compiler = self._checking_dialect()
        for column in table.columns:
            if column.type is None or isinstance(column.type, NullType):
                continue  # reported by the rules that hold everywhere
            # Most columns share a handful of types: compile each type once per process.
            key = column.type_code
            reason = self._type_errors.get(key, "")
            if reason == "":
                holder = sa.Table("t", sa.MetaData(), sa.Column(column.name, column.type))
                try:
                    # Compiled only, never run: whether the DDL can be written at all.
                    CreateTable(holder).compile(dialect=compiler)
                    reason = None
                except Exception as error:
                    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
                    reason = reason.split("): ", 1)[-1]  # SQLAlchemy's "(in table 't', ...)"
                self._type_errors[key] = reason
            if reason is not None:
                yield (
                    validate.TYPE_NOT_CREATABLE,
                    f"column {column.name}: {self.name} cannot create "
                    f"{codegen.render_type(column.type).text} ({reason})",
                    "use a type this database has: give a String a length (sa.String(255)), "
                    "give MySQL's DOUBLE both precision and scale, or add .with_variant(..., "
                    f'"{self.name}") for a type of another database',
                    {"column": column.name},
                )

    def _checking_dialect(self) -> Dialect:
        """The offline dialect :meth:`table_problems` compiles with, made once."""
        if self._checker is None:
            self._checker = self.offline_dialect()
        return self._checker

    def shared_index_names(self, table: st.TableState) -> Iterator[tuple[str, str]]:
        """``(name, kind)`` of ``table``'s objects whose names share one namespace with every
        other table's indexes: by default its indexes (index names are per schema)."""
        for index in table.indexes:
            if index.name:
                yield index.name, "index"


# -- default values: the neutral part of normalize_default -------------------------------------

#: The kinds of column type whose literals have a canonical form.
NUMERIC, BOOLEAN, STRING, OTHER = "numeric", "boolean", "string", "other"

_NUMERIC_TYPES = re.compile(
    r"^(TINYINT|SMALLINT|MEDIUMINT|INT|INTEGER|BIGINT|NUMERIC|DECIMAL|FLOAT|REAL|DOUBLE)\b"
)
_BOOLEAN_TYPES = re.compile(r"^(BOOLEAN|BOOL)$")
_STRING_TYPES = re.compile(
    r"^(N?VARCHAR|N?CHAR|CHARACTER|TEXT|TINYTEXT|MEDIUMTEXT|LONGTEXT|CLOB)\b(?!.*\[\])"
)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Only integers: how a string column spells a non-integer number differs per database
# (SQLite stores 1.50 as '1.5', PostgreSQL as '1.50').
_INTEGER = re.compile(r"^-?(0|[1-9]\d*)$")
_TRUE = ("true", "1")
_FALSE = ("false", "0")


def type_kind(type_text: str) -> str:
    """Which kind of literal a column of this (reflected, upper-case) type holds."""
    if _BOOLEAN_TYPES.match(type_text):
        return BOOLEAN
    if _NUMERIC_TYPES.match(type_text):
        return NUMERIC
    if _STRING_TYPES.match(type_text):
        return STRING
    return OTHER


def unquote(literal: str) -> str | None:
    """The text of a single-quoted SQL string literal, or None when it is not exactly one."""
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        return None
    inner = literal[1:-1]
    if "'" in inner.replace("''", ""):
        return None  # two literals, or an expression between quotes
    return inner.replace("''", "'")


def canonical_number(text: str) -> str | None:
    """``1.50``, ``'1.5'``, ``+1.5e0`` -> ``1.5``: one spelling per numeric value, or None."""
    from decimal import Decimal
    from decimal import InvalidOperation

    if not _NUMBER.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    canonical = format(value.normalize(), "f")
    return "0" if canonical in ("-0", "+0") else canonical


def canonical_literal(default: str, kind: str) -> str:
    """A literal default in one spelling for its column kind; anything else unchanged.

    A number column stores ``'1'``, ``1`` and ``1.0`` as the same value, a boolean column
    ``true``, ``'1'`` and ``1``; a string column stores ``1`` as ``'1'``. Text that is not a
    single literal (an expression, a function call) is left as the database wrote it.
    """
    text = unquote(default)
    bare = default if text is None else text
    if kind == NUMERIC:
        if text is None and default.lower() in ("true", "false"):
            return "1" if default.lower() == "true" else "0"
        return canonical_number(bare) or default
    if kind == BOOLEAN:
        if bare.lower() in _TRUE:
            return "true"
        if bare.lower() in _FALSE:
            return "false"
        return default
    if kind == STRING and text is None and _INTEGER.match(default):
        return "'" + default + "'"
    return default
