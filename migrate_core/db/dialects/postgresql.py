"""PostgreSQL: enum types, serial sequences, advisory locks, scratch databases.

* Enum types are schema objects of their own: created before the first column
  that uses them, dropped after the last one goes. Values only added (the old
  ones kept, in their order) are ``ALTER TYPE ... ADD VALUE``, which rewrites no
  table; removing or reordering values swaps the type (rename away, create,
  recast every user).
* A type change casts with USING, and takes the column's default off first and
  puts it back after: PostgreSQL casts the default too, and refuses when it
  cannot ("default for column ... cannot be cast automatically").
* A serial column's sequence is named ``<table>_<column>_seq`` (see
  :func:`serial_sequence_name`); renames keep it so, as ``create_all`` would name it.
* The migration lock is an advisory lock; a scratch database commits without
  waiting for the disk, and is dropped after ending the sessions still on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db.dialects import base
from migrate_core.db.dialects.base import Backend
from migrate_core.db.dialects.base import Features
from migrate_core.db.schema_editor import SchemaEditor
from migrate_core.schema import sqltext as sqlt
from migrate_core.schema import state as st
from migrate_core.schema import validate

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from migrate_core.db.introspection import ColumnInfo
    from migrate_core.schema.validate import Found

# Enum types on the search path. Our DDL names types unqualified, so an unqualified
# ``CREATE TYPE`` / ``DROP TYPE`` / column type resolves through the search path:
# ``current_schemas(false)`` is exactly what those names can reach (``current_schema()``
# alone would miss a type that resolves from a later schema on the path). The editor
# (which types exist) and the scratch clean-up (which types to drop) use the same list.
ENUM_TYPES_QUERY = (
    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE t.typtype = 'e' AND n.nspname = ANY (current_schemas(false))"
)

# Everything a borrowed database must not hold (see PostgreSQLBackend.database_contents).
# Array types, multirange types and the row type of each table come with other objects;
# extension members are skipped through pg_depend (deptype 'e').
_USER_SCHEMA = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
)
_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {catalog}::regclass "
    "AND d.objid = {oid} AND d.deptype = 'e')"
)
_CONTENTS_QUERY = f"""
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
         WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
       n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMA}
  AND {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       n.nspname, p.proname
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {_USER_SCHEMA} AND {_NOT_EXTENSION.format(catalog="'pg_proc'", oid="p.oid")}
UNION ALL
SELECT 'type', n.nspname, t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class r ON r.oid = t.typrelid
WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND t.typcategory <> 'A'
  AND (t.typrelid = 0 OR r.relkind = 'c') AND {_USER_SCHEMA}
  AND {_NOT_EXTENSION.format(catalog="'pg_type'", oid="t.oid")}
"""

_SERIAL_DEFAULT = re.compile(r"^nextval\('[^']*'(::regclass)?\)$", re.IGNORECASE)

# A default ending in casts: ``'1'::bigint``, ``'abc'::character varying``, ``now()::date``.
# The cast's target is a type name (no length: a cast to ``varchar(2)`` truncates, kept).
_TRAILING_CAST = re.compile(r"^(?P<head>.+?)(?P<casts>(?:::[a-z_][a-z0-9_ ]*(?:\[\])*)+)$", re.I)
_CAST = re.compile(r"::([a-z_][a-z0-9_ ]*(?:\[\])*)", re.I)
# PostgreSQL's names for what SQLAlchemy compiles (the reflected type's DDL).
_TYPE_NAMES = {
    "VARCHAR": "character varying",
    "CHAR": "character",
    "INT": "integer",
    "FLOAT": "double precision",
    "TIMESTAMP": "timestamp without time zone",
    "TIME": "time without time zone",
}
# A cast of a literal to a string type is an input/output round trip: the column gets the
# same value from the literal itself.
_TEXT_CASTS = {"text", "character varying", "varchar"}
# Not real / double precision: a float cast can change a decimal (0.1::real).
_NUMERIC_CASTS = {"smallint", "integer", "bigint", "numeric"}
_INTEGER_CASTS = {"smallint", "integer", "bigint"}
# What PostgreSQL stores for ``now()`` and its synonyms: the transaction's start time, at full
# (microsecond) precision. LOCALTIMESTAMP, statement_timestamp() and clock_timestamp() differ.
_NOW = re.compile(r"^(now\(\)|transaction_timestamp\(\)|current_timestamp(\(\s*6\s*\))?)$", re.I)


def serial_sequence_name(table: str, column: str) -> str:
    """The sequence SERIAL makes for a column, as ``create_all`` names it."""
    return f"{table}_{column}_seq"


class PostgreSQLSchemaEditor(SchemaEditor):
    """Enum types and serial sequences kept the way ``create_all`` leaves them."""

    _pg_enums: set[str] | None = None

    def reset(self) -> None:
        self._pg_enums = None

    # -- enum types ------------------------------------------------------------------------------

    def _native_enums(self, columns: Iterable[st.ColumnState]) -> list[Any]:
        out = []
        for column in columns:
            enum = self._enum_of(column.type)
            if enum is not None and enum.native_enum and enum.name:
                out.append(enum)
        return out

    def _existing_enums(self) -> set[str]:
        """The enum types there are; collecting SQL, none (every CREATE TYPE is printed)."""
        if self._pg_enums is None:
            rows = self.runner.query(ENUM_TYPES_QUERY)
            self._pg_enums = {r[0] for r in rows or ()}
        return self._pg_enums

    def _ensure_enums(self, columns: Iterable[st.ColumnState]) -> None:
        from sqlalchemy.dialects.postgresql import ENUM
        from sqlalchemy.dialects.postgresql import CreateEnumType

        for enum in self._native_enums(columns):
            if enum.name in self._existing_enums():
                continue
            self.execute(CreateEnumType(ENUM(*enum.enums, name=enum.name, schema=enum.schema)))
            self._existing_enums().add(enum.name)

    def _drop_unused_enums(
        self, columns: Iterable[st.ColumnState], state_after: st.ProjectState
    ) -> None:
        from sqlalchemy.dialects.postgresql import ENUM
        from sqlalchemy.dialects.postgresql import DropEnumType

        gone = {e.name: e for e in self._native_enums(columns)}
        if not gone:
            return
        for table in state_after.tables.values():
            for enum in self._native_enums(table.columns):
                gone.pop(enum.name, None)
        for name, enum in sorted(gone.items()):
            if name in self._existing_enums():
                self.execute(DropEnumType(ENUM(*enum.enums, name=name, schema=enum.schema)))
                self._existing_enums().discard(name)

    def _swap_enum_values(
        self, old: st.ColumnState, new: st.ColumnState, state_after: st.ProjectState
    ) -> bool:
        """Same enum type, other values: add them, or swap the type; whether that was done."""
        old_enum, new_enum = self._enum_of(old.type), self._enum_of(new.type)
        if not (
            old_enum is not None
            and new_enum is not None
            and old_enum.native_enum
            and new_enum.native_enum
            and old_enum.name == new_enum.name
        ):
            return False
        added = _added_values(list(old_enum.enums), list(new_enum.enums))
        if added is not None and not self._uses_values(new, {v for v, _, _ in added}):
            self._add_enum_values(new_enum.name, added)
        else:
            self._swap_enum_type(old, new, state_after)
        return True

    def _uses_values(self, new: st.ColumnState, values: set[str]) -> bool:
        """Whether the column's new default names one of ``values``.

        A value ADD VALUE made cannot be used before the transaction commits (PostgreSQL
        12 and later: "unsafe use of new value"), and the migration is one transaction.
        SET DEFAULT of such a value is a use; then the type is swapped instead, whose
        new values are usable at once.
        """
        if self._used_later(values):
            return True
        if new.server_default is None:
            return False
        text = self._default_text(new.server_default)
        return any(_quote_literal(value) in text or value == text for value in values)

    def _used_later(self, values: set[str]) -> bool:
        """Whether the state the migration ends in names one of ``values`` in SQL it runs
        in the same transaction: a partial index's predicate, an expression index, a
        check, a computed column or a server default (``CREATE INDEX ... WHERE status IN
        ('live', 'gone')`` after ``ADD VALUE 'gone'`` fails). A literal match is enough:
        swapping when it was not needed only costs a rewrite of the table."""
        end = self.end_state
        if end is None:
            return False
        texts: list[str] = []
        for table in end.tables.values():
            for index in table.indexes:
                texts += [code for _, code in index.option_codes]
                texts += [e for e, x in zip(index.elements, index.expressions) if x]
            texts += [check.sqltext for check in table.check_constraints]
            for column in table.columns:
                texts += [c for c in (column.default_code, column.computed_code) if c]
        needles = [q for v in values for q in (_quote_literal(v), f'"{v}"')]
        return any(needle in text for text in texts for needle in needles)

    def _default_text(self, default: Any) -> str:
        import sqlalchemy as sa

        if isinstance(default, str):
            return default
        if isinstance(default, sa.sql.elements.TextClause):
            return default.text
        return str(default.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))

    def _add_enum_values(self, name: str, added: list[tuple[str, str | None, str | None]]) -> None:
        """``ALTER TYPE ... ADD VALUE``: no table is rewritten or locked for long.

        Since PostgreSQL 12 it may run inside the migration's transaction (before 12 it
        could not); the new value is usable once that transaction commits.
        """
        prep = self.dialect.identifier_preparer
        for value, before, after in added:
            where = ""
            if before is not None:
                where = f" BEFORE {_quote_literal(before)}"
            elif after is not None:
                where = f" AFTER {_quote_literal(after)}"
            self.run_sql(f"ALTER TYPE {prep.quote(name)} ADD VALUE {_quote_literal(value)}{where}")

    def _swap_enum_type(
        self, old: st.ColumnState, new: st.ColumnState, state_after: st.ProjectState
    ) -> None:
        """Values removed or reordered: rename the type away, create the new one, recast
        every column that uses it, drop the old one."""
        from sqlalchemy.dialects.postgresql import ENUM
        from sqlalchemy.dialects.postgresql import CreateEnumType

        new_enum = self._enum_of(new.type)
        prep = self.dialect.identifier_preparer
        old_name = f"{new_enum.name}__old"
        self.execute(f"ALTER TYPE {prep.quote(new_enum.name)} RENAME TO {prep.quote(old_name)}")
        self.execute(
            CreateEnumType(ENUM(*new_enum.enums, name=new_enum.name, schema=new_enum.schema))
        )
        for table in state_after.tables.values():
            for column in table.columns:
                enum = self._enum_of(column.type)
                if enum is None or enum.name != new_enum.name:
                    continue
                t, c = prep.quote(table.name), prep.quote(column.name)
                # The column being altered may have had a default that it no longer has:
                # that one, too, would be cast to the new type (or refuse to be).
                had_default = column.server_default is not None or (
                    column.name == new.name and old.server_default is not None
                )
                if had_default:
                    self.execute(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT")
                self.execute(
                    f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {prep.quote(new_enum.name)} "
                    f"USING {c}::text::{prep.quote(new_enum.name)}"
                )
                if column.server_default is not None:
                    self.ops.alter_column(
                        table.name, column.name, server_default=column.server_default
                    )
        self.execute(f"DROP TYPE {prep.quote(old_name)}")

    def _type_change_options(self, old: st.ColumnState, new: st.ColumnState) -> dict[str, Any]:
        """USING: PostgreSQL casts implicitly only between a few types (never to an enum).

        An enum or JSON value casts to nothing but text (and from text to anything that
        parses it), so a change from or to one goes through text; every other change
        casts directly, which covers string to integer, numeric, boolean, UUID, date
        and time, and back.
        """
        compiled = new.type.compile(dialect=self.dialect)
        quoted = self.dialect.identifier_preparer.quote(new.name)
        # (Text is also the way between families PostgreSQL has no cast for, such as
        # integer to uuid: the DDL then applies on an empty table, and a row whose
        # value means nothing in the new type is refused by the database, named.)
        through_text = (
            self._enum_of(new.type) is not None
            or self._enum_of(old.type) is not None
            or (_is_json(old.type) and not _is_json(new.type))
            or not _casts_directly(old.type, new.type)
        )
        if through_text:
            return {"postgresql_using": f"{quoted}::text::{compiled}"}
        return {"postgresql_using": f"{quoted}::{compiled}"}

    def _apply_column_changes(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new: st.ColumnState,
        changes: dict[str, Any],
        state_after: st.ProjectState,
        *,
        fill_value: Any,
        enum_swapped: bool,
    ) -> None:
        """A type change with a default: DROP DEFAULT, ALTER TYPE ... USING, SET DEFAULT.

        ALTER TYPE casts the default as well as the rows, and an expression default
        ('draft' for an enum, '0' as text for an integer, now() for a string) may
        have no cast to the new type. Without the default in the way, the rows cast
        by USING, and the new default is set afresh in the new type.
        """
        if "type_" in changes and old.server_default is not None:
            prep = self.dialect.identifier_preparer
            self.execute(
                f"ALTER TABLE {prep.quote(table.name)} ALTER COLUMN {prep.quote(old.name)} "
                "DROP DEFAULT"
            )
            old = _without_default(old)
            changes.pop("server_default", None)
            if new.server_default is not None:
                changes["server_default"] = new.server_default
        super()._apply_column_changes(
            table,
            old,
            new,
            changes,
            state_after,
            fill_value=fill_value,
            enum_swapped=enum_swapped,
        )

    def _drop_expression(self, table: st.TableState, column: st.ColumnState) -> bool:
        info = getattr(self.dialect, "server_version_info", None) or ()
        if info and tuple(info) < (13,):
            return False
        prep = self.dialect.identifier_preparer
        self.execute(
            f"ALTER TABLE {prep.quote(table.name)} ALTER COLUMN {prep.quote(column.name)} "
            "DROP EXPRESSION"
        )
        return True

    # -- serial sequences ------------------------------------------------------------------------

    def rename_table(self, old: str, new: str, table: st.TableState) -> None:
        super().rename_table(old, new, table)
        for column in table.columns:
            if column.autoincrement and column.identity is None:
                self._rename_sequence(
                    serial_sequence_name(old, column.name), serial_sequence_name(new, column.name)
                )

    def _column_renamed(self, table: st.TableState, old: st.ColumnState, new_name: str) -> None:
        if old.autoincrement and old.identity is None:
            self._rename_sequence(
                serial_sequence_name(table.name, old.name),
                serial_sequence_name(table.name, new_name),
            )

    def _rename_sequence(self, old: str, new: str) -> None:
        """A serial column's sequence is named after its table and column; keep it so.

        ``create_all`` of the renamed table would name it ``<table>_<column>_seq``;
        renaming keeps the database equal to what the models would create.
        """
        prep = self.dialect.identifier_preparer
        self.execute(f"ALTER SEQUENCE IF EXISTS {prep.quote(old)} RENAME TO {prep.quote(new)}")

    def add_column(
        self,
        before: st.TableState,
        after: st.TableState,
        column: st.ColumnState,
        state_after: st.ProjectState,
        *,
        fill_value: Any = None,
    ) -> None:
        """A new serial key on a table with rows: added empty, then numbered from its own
        sequence, then made NOT NULL (ADD COLUMN would leave NULLs behind the key)."""
        if not (column.autoincrement and column.identity is None and fill_value is None):
            super().add_column(before, after, column, state_after, fill_value=fill_value)
            return
        import dataclasses

        plain = dataclasses.replace(column, autoincrement=False, nullable=True)
        super().add_column(before, after, plain, state_after)
        self._autoincrement_default(before.with_column(plain), plain, column)
        prep = self.dialect.identifier_preparer
        t, c = prep.quote(before.name), prep.quote(column.name)
        seq_name = serial_sequence_name(before.name, column.name)
        self.execute(f"UPDATE {t} SET {c} = nextval('{seq_name}'::regclass) WHERE {c} IS NULL")
        if not column.nullable:
            self.execute(f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL")

    def _autoincrement_default(
        self, table: st.TableState, old: st.ColumnState, new: st.ColumnState
    ) -> None:
        """Make an existing integer column serial (or plain again), as create_all would.

        SERIAL is a sequence named ``<table>_<column>_seq``, owned by the column, as its
        default; switching it on also moves the sequence past the rows already there.
        """
        if old.autoincrement == new.autoincrement or new.identity is not None:
            return
        prep = self.dialect.identifier_preparer
        t, c = prep.quote(table.name), prep.quote(new.name)
        seq_name = serial_sequence_name(table.name, new.name)
        seq = prep.quote(seq_name)
        if new.autoincrement:
            self.execute(f"CREATE SEQUENCE IF NOT EXISTS {seq} OWNED BY {t}.{c}")
            self.execute(
                f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT nextval('{seq_name}'::regclass)"
            )
            self.execute(
                f"SELECT setval('{seq_name}'::regclass, COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false)"
            )
        else:
            self.execute(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT")
            self.execute(f"DROP SEQUENCE IF EXISTS {seq}")

    # -- renames PostgreSQL has ------------------------------------------------------------------

    def rename_index(self, table: st.TableState, index: st.IndexState, new_name: str) -> None:
        old_q = self._quoted_name(index.name, index=True)
        new_q = self._quoted_name(new_name, index=True)
        self.execute(f"ALTER INDEX {old_q} RENAME TO {new_q}")

    def rename_constraint(
        self,
        before: st.TableState,
        constraint: st.ConstraintState,
        new_name: str,
        state_after: st.ProjectState,
    ) -> None:
        prep = self.dialect.identifier_preparer
        self.execute(
            f"ALTER TABLE {prep.quote(before.name)} RENAME CONSTRAINT "
            f"{self._quoted_name(constraint.name)} TO {self._quoted_name(new_name)}"
        )


class PostgreSQLBackend(Backend):
    name = "postgresql"
    offline_name = "postgresql"
    name_limits = (validate.POSTGRESQL_NAMES,)
    drivers = ("psycopg", "psycopg2")
    install_extra = "postgres"
    features = Features(
        transactional_ddl=True,
        comments=True,
        native_enums=True,
        rename_column=True,
        migration_lock=True,
        autocommit_mode=True,
        file_databases=False,
        restrict_is_no_action=False,
    )

    def is_permission_denied(self, exc: BaseException) -> bool:
        # SQLSTATE 42501 insufficient_privilege (psycopg 3 and psycopg2 both carry it).
        orig = getattr(exc, "orig", exc)
        return (
            getattr(orig, "sqlstate", None) == "42501" or getattr(orig, "pgcode", None) == "42501"
        )

    def table_problems(self, table: st.TableState) -> Iterator[Found]:
        yield from super().table_problems(table)
        yield from _enum_problems(table)

    def shared_index_names(self, table: st.TableState) -> Iterator[tuple[str, str]]:
        """Unique constraints and primary keys are indexes here, named in the same
        namespace as every index (and table) of the schema."""
        yield from super().shared_index_names(table)
        for unique in table.unique_constraints:
            if unique.name:
                yield unique.name, "unique constraint"
        if table.primary_key is not None and table.primary_key.name:
            yield table.primary_key.name, "primary key"

    @property
    def editor_class(self) -> type[SchemaEditor]:
        return PostgreSQLSchemaEditor

    def configure_engine(self, engine: Engine, *, scratch: bool) -> None:
        if not scratch:
            return
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _no_sync(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET synchronous_commit = off")
            cursor.close()
            dbapi_connection.commit()

    def try_lock(self, connection: Connection, key: int) -> bool:
        import sqlalchemy as sa

        return bool(
            connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        )

    def unlock(self, connection: Connection, key: int) -> None:
        import sqlalchemy as sa

        connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    def admin_url(self, url: Any) -> Any:
        return url.set(database="postgres")

    def end_other_sessions(self, connection: Connection, database: str) -> None:
        """DROP DATABASE refuses while anyone is connected (a check's stray connection)."""
        import sqlalchemy as sa

        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": database},
        )

    def database_names(self, connection: Connection) -> list[str]:
        return [r[0] for r in connection.exec_driver_sql("SELECT datname FROM pg_database")]

    def databases_in_use(self, connection: Connection) -> set[str]:
        # pg_stat_activity shows every session's database to every role (only the
        # query text of others' sessions is hidden).
        rows = connection.exec_driver_sql(
            "SELECT DISTINCT datname FROM pg_stat_activity "
            "WHERE datname IS NOT NULL AND pid <> pg_backend_pid()"
        )
        return {r[0] for r in rows}

    def drop_stale_database(self, connection: Connection, name: str) -> None:
        # No WITH (FORCE) and no pg_terminate_backend: a session that connected since we
        # looked makes PostgreSQL refuse, which is the answer we want.
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.quote_database(name)}")

    def database_contents(self, connection: Connection) -> list[str]:
        """Tables, partitioned and foreign tables, views, materialized views, sequences,
        functions, procedures, aggregates and types (enum, domain, range, composite, base)
        in every schema but the system's; objects an extension owns are the extension's,
        not content (emptying never touches them). Names outside the current schema are
        qualified."""
        import sqlalchemy as sa

        rows = connection.execute(sa.text(_CONTENTS_QUERY)).fetchall()
        current = connection.exec_driver_sql("SELECT current_schema()").scalar()
        return sorted(
            f"{kind} {name if schema == current else f'{schema}.{name}'}"
            for kind, schema, name in rows
        )

    def after_emptying(self, connection: Connection) -> None:
        import sqlalchemy as sa

        for (name,) in connection.execute(sa.text(ENUM_TYPES_QUERY)).fetchall():
            connection.exec_driver_sql(f'DROP TYPE IF EXISTS "{name}" CASCADE')

    def normalize_column(self, column: ColumnInfo, *, rowid_alias: bool) -> ColumnInfo:
        # A serial's sequence is named after the table it was created for; the name
        # says nothing about the column today (a renamed table keeps it).
        import dataclasses

        if column.default is not None and _SERIAL_DEFAULT.match(column.default):
            return dataclasses.replace(column, autoincrement=True, default=None)
        return column

    def normalize_default(self, default: str, type_text: str) -> str:
        default = _without_casts(default, type_text)
        if _NOW.match(default):
            return "CURRENT_TIMESTAMP"
        return super().normalize_default(default, type_text)


BACKEND = PostgreSQLBackend()


def _own_type_names(type_text: str) -> set[str]:
    """The names a cast to this column's own type is written with (``VARCHAR(10)`` ->
    ``character varying``), lower case; a native enum by its type name."""
    if type_text.startswith("ENUM("):
        name = type_text.rsplit(") ", 1)[-1] if ") " in type_text else ""
        return {name.strip('"').lower()} if name else set()
    suffix = "[]" * type_text.count("[]")
    bare = " ".join(re.sub(r"\(.*?\)", "", type_text.replace("[]", "")).split())
    names = {bare.lower() + suffix}
    head, _, rest = bare.partition(" ")
    if head in _TYPE_NAMES:
        names.add((_TYPE_NAMES[head] + (" " + rest.lower() if rest else "")).strip() + suffix)
    return names


def _atomic(head: str) -> bool:
    """Whether a cast written after ``head`` applies to all of it: one literal, one word or
    number, one function call, or one parenthesized expression."""
    toks = [t for t in sqlt.tokens(head) if t != " "]
    if len(toks) == 1:
        return True
    if sqlt.wrapped(toks):
        return True
    return len(toks) >= 3 and (toks[0][:1].isalpha() or toks[0] == "_") and sqlt.wrapped(toks[1:])


def _without_casts(default: str, type_text: str) -> str:
    """``'1'::bigint`` -> ``'1'``: casts that cannot change the value the column stores.

    Kept: a cast to another type that could change it (``1.5::integer`` is 2 on a numeric
    column, ``'2020-01-01 10:00'::date`` drops the time), a cast with a length, and any cast
    that binds to only part of an expression.
    """
    match = _TRAILING_CAST.match(default)
    if not match or not _atomic(match["head"]):
        return default
    head = match["head"]
    own = _own_type_names(type_text)
    kind = base.type_kind(type_text)
    literal = base.unquote(head)
    number = literal if literal is not None else head
    for target in (t.strip().lower() for t in _CAST.findall(match["casts"])):
        if target in own:
            continue
        if literal is not None and target in _TEXT_CASTS:
            continue
        if kind == base.NUMERIC and target in _NUMERIC_CASTS and base.canonical_number(number):
            if target in _INTEGER_CASTS and not re.match(r"^[+-]?\d+$", number):
                return default
            continue
        return default
    return sqlt.normalize_sql(head) or head


def _added_values(
    old: list[str], new: list[str]
) -> list[tuple[str, str | None, str | None]] | None:
    """The values ``new`` adds to ``old``, each with its place (BEFORE x, AFTER y), when
    ``new`` only adds: every old value kept, in its order. ``None`` otherwise (a value
    removed or moved needs the swap); an empty list when nothing changed."""
    kept = [value for value in new if value in old]
    if kept != old:
        return None
    added: list[tuple[str, str | None, str | None]] = []
    for position, value in enumerate(new):
        if value in old:
            continue
        # The next old value it precedes, else the value it follows (ADD VALUE runs in
        # order, so the previous one is already there, added or old).
        following = next((v for v in new[position + 1 :] if v in old), None)
        previous = new[position - 1] if position > 0 else None
        if following is not None:
            added.append((value, following, None))
        else:
            added.append((value, None, previous))
    return added


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _family(type_: Any) -> str:
    """The kind of value a type holds, for which casts PostgreSQL has between kinds."""
    import sqlalchemy as sa

    impl = getattr(type_, "impl", None)
    base = impl if isinstance(type_, sa.types.TypeDecorator) and impl is not None else type_
    if isinstance(base, sa.Boolean):
        return "boolean"
    if isinstance(base, sa.String | sa.Enum):
        return "string"  # Enum is handled by its own rule above
    if isinstance(base, sa.Integer | sa.Numeric):  # Float is a Numeric
        return "number"
    if isinstance(base, sa.Date | sa.DateTime | sa.Time | sa.Interval):
        return "time"
    if isinstance(base, sa.Uuid):
        return "uuid"
    if isinstance(base, sa.JSON):
        return "json"
    if isinstance(base, sa.LargeBinary):
        return "binary"
    return type(base).__name__


def _casts_directly(old: Any, new: Any) -> bool:
    """Whether ``old::new`` exists: within a kind, from or to a string (PostgreSQL's I/O
    casts), and between integer and boolean. Anything else goes through text."""
    a, b = _family(old), _family(new)
    if {a, b} == {"number", "boolean"}:
        number = old if a == "number" else new
        return _is_int4(number)  # integer <-> boolean only; bigint, numeric: through text
    return a == b or "string" in (a, b)


def _is_int4(type_: Any) -> bool:
    import sqlalchemy as sa

    impl = getattr(type_, "impl", None)
    base = impl if isinstance(type_, sa.types.TypeDecorator) and impl is not None else type_
    return isinstance(base, sa.Integer) and not isinstance(base, sa.BigInteger | sa.SmallInteger)


def _is_json(type_: Any) -> bool:
    from sqlalchemy import JSON

    return isinstance(type_, JSON) or isinstance(getattr(type_, "impl", None), JSON)


def _without_default(column: st.ColumnState) -> st.ColumnState:
    import dataclasses

    return dataclasses.replace(column, server_default=None, default_code=None)


def _enum_problems(table: st.TableState) -> Iterator[Found]:
    """A native enum is a named type here: one without a name cannot be created."""
    from sqlalchemy import types as sqltypes

    from migrate_core.schema import codegen

    for column in table.columns:
        if column.type is None:
            continue
        type_ = codegen.database_type(column.type)
        type_ = getattr(type_, "_variant_mapping", {}).get(PostgreSQLBackend.name, type_)
        if isinstance(type_, sqltypes.Enum) and type_.native_enum and not type_.name:
            yield (
                validate.POSTGRESQL_ENUM_WITHOUT_NAME,
                f"column {column.name} is a native enum without a name; PostgreSQL creates "
                "an enum as a named type",
                'give the Enum a name (sa.Enum(..., name="order_status")) or pass '
                "native_enum=False",
                {"column": column.name},
            )
