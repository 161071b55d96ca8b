"""Carry schema changes out on a database, through Alembic's Operations layer.

Operations say *what* changes, in terms of our state; this module says *how*,
per dialect. Alembic knows each dialect's ALTER rules and SQLite's table
rebuild; we hand it the table definitions our state already holds (``copy_from``),
so nothing is ever reflected before a change. That is the difference between
rebuilding a SQLite table in a millisecond and reflecting it first.

Dialect quirks handled here rather than in the operations:

* PostgreSQL enum types are created before the first column that uses them and
  dropped after the last one goes, and altered by swapping the type.
* MySQL creates an index of its own for a foreign key; when we drop the key we
  drop that index too, so a rollback leaves no trace.
* SQLite cannot alter columns or constraints: such changes rebuild the table
  from the state (rows and indexes are kept).
* Comments are skipped where the dialect has none (SQLite).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.schema import naming
from migrate_core.schema import sqla
from migrate_core.schema import state as st
from migrate_core.schema.naming import database_name

if TYPE_CHECKING:
    from alembic.operations import Operations
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect


class SchemaEditor:
    """DDL for one connection (or, offline, for printing SQL of one dialect)."""

    def __init__(
        self, connection: Connection | None = None, *, dialect_name: str | None = None
    ) -> None:
        self.connection = connection
        self.buffer: io.StringIO | None = None
        self._ops: Operations | None = None
        self._dialect_name = dialect_name
        self._cursor: Any = None
        if connection is not None:
            self.dialect: Dialect = connection.dialect
        else:
            self.buffer = io.StringIO()
            self.dialect = self.ops.migration_context.dialect
        self.name: str = self.dialect.name
        self.offline = connection is None
        self._pg_enums: set[str] | None = None
        self._ddl_cache: dict[st.TableState, list[Any]] = {}

    @property
    def ops(self) -> Operations:
        """Alembic's Operations, set up on first use.

        Creating the table, its indexes and SQLite's rebuilds need only SQLAlchemy's
        own DDL; a run of such migrations never pays for Alembic's import.
        """
        if self._ops is None:
            from alembic.operations import Operations
            from alembic.runtime.migration import MigrationContext

            if self.connection is not None:
                context = MigrationContext.configure(self.connection)
            else:
                context = MigrationContext.configure(
                    dialect_name=self._dialect_name,
                    opts={"as_sql": True, "output_buffer": self.buffer, "literal_binds": True},
                )
            self._ops = Operations(context)
        return self._ops

    def reset(self) -> None:
        """Forget what was read from the database (a migration may have been rolled back)."""
        self._pg_enums = None

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    @property
    def is_mysql(self) -> bool:
        return self.name in ("mysql", "mariadb")

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgresql"

    @property
    def supports_comments(self) -> bool:
        return bool(getattr(self.dialect, "supports_comments", False))

    def execute(self, sql: Any) -> None:
        """Run a SQL construct or text: on the connection, or printed when offline.

        Online, constructs go straight to the connection; Alembic's ``execute`` would
        wrap each one first, which a thousand-migration run notices.
        """
        import sqlalchemy as sa

        if isinstance(sql, _Compiled):
            assert self.connection is not None
            if self.is_sqlite:
                self._sqlite_cursor().execute(sql)
            else:
                self.connection.exec_driver_sql(sql, {})
            return
        if isinstance(sql, str):
            sql = sa.text(sql)
        if self.connection is not None:
            self.connection.execute(sql)
        else:
            self.ops.execute(sql)

    def run_sql(self, statement: str) -> None:
        """Run one raw statement as written: no bind-parameter parsing of ``:name`` or ``%``."""
        if self.connection is None:
            assert self.buffer is not None
            self.buffer.write(statement.rstrip().rstrip(";") + ";\n\n")
            return
        if self.is_sqlite:
            self._sqlite_cursor().execute(statement)
            return
        # no_parameters: the driver gets the statement alone, so psycopg and PyMySQL do
        # not read "%" as a placeholder (SQLAlchemy would pass an empty tuple otherwise).
        self.connection.execution_options(no_parameters=True).exec_driver_sql(statement)

    def _sqlite_cursor(self) -> Any:
        """The sqlite3 cursor itself, for DDL we compiled (or raw SQL).

        SQLAlchemy's execution path (events, result set-up) costs about as much per
        statement as SQLite takes to run our small DDL, and a table rebuild is five
        statements. The transaction is SQLAlchemy's: the cursor belongs to the same
        connection, inside the BEGIN it issued. SQLite's qmark style means no
        ``%`` escaping to undo, unlike the pyformat drivers.
        """
        if self._cursor is None:
            assert self.connection is not None
            self._cursor = self.connection.connection.cursor()
        return self._cursor

    def _quoted_name(self, name: str | None, *, index: bool = False) -> str:
        """A constraint or index name as the database stores it (shortened), quoted."""
        return self.dialect.identifier_preparer.quote(
            database_name(self.dialect, name or "", index=index)
        )

    def comment(self, text: str) -> None:
        """A note in ``sqlmigrate`` output (offline only)."""
        if self.buffer is not None:
            self.buffer.write(f"-- {text}\n\n")

    def sql_output(self) -> str:
        return self.buffer.getvalue() if self.buffer is not None else ""

    def _column(self, column: st.ColumnState, *, primary_key: bool = False) -> Any:
        col = sqla.to_column(column, primary_key=primary_key)
        self._quiet_schema_type(col.type)
        return col

    @staticmethod
    def _quiet_schema_type(type_: Any) -> None:
        # We create and drop PostgreSQL enum types ourselves (see _ensure_enums): SQLAlchemy's
        # own events would create a type twice when two tables share it, or drop it under
        # another table that still uses it.
        from sqlalchemy.sql.sqltypes import SchemaType

        if isinstance(type_, SchemaType):
            type_._create_events = False
        impl = getattr(type_, "impl", None)
        if isinstance(impl, SchemaType):
            impl._create_events = False

    def _table(self, table: st.TableState, state: st.ProjectState | None = None, **kw: Any) -> Any:
        import sqlalchemy as sa

        metadata = sa.MetaData()
        sa_table = sqla.to_table(table, metadata, stub_references=state, **kw)
        for col in sa_table.columns:
            self._quiet_schema_type(col.type)
        return sa_table

    def _existing(self, column: st.ColumnState) -> dict[str, Any]:
        """What MySQL's MODIFY COLUMN must restate and Alembic wants to know."""
        existing: dict[str, Any] = {
            "existing_type": column.type,
            "existing_nullable": column.nullable,
            "existing_server_default": column.server_default
            if column.server_default is not None
            else False,
        }
        if column.comment is not None:
            existing["existing_comment"] = column.comment
        if column.autoincrement and self.is_mysql:
            existing["autoincrement"] = True
        return existing

    # -- PostgreSQL enum types ---------------------------------------------------------------------

    @staticmethod
    def _enum_of(type_: Any) -> Any:
        from sqlalchemy import Enum

        if isinstance(type_, Enum):
            return type_
        impl = getattr(type_, "impl", None)
        if isinstance(impl, Enum):
            return impl
        return None

    def _native_enums(self, columns: Iterable[st.ColumnState]) -> list[Any]:
        if not self.is_postgres:
            return []
        out = []
        for column in columns:
            enum = self._enum_of(column.type)
            if enum is not None and enum.native_enum and enum.name:
                out.append(enum)
        return out

    def _existing_enums(self) -> set[str]:
        if self._pg_enums is None:
            self._pg_enums = set()
            if self.connection is not None:
                import sqlalchemy as sa

                rows = self.connection.execute(
                    sa.text(
                        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                        "WHERE t.typtype = 'e' AND n.nspname = ANY (current_schemas(false))"
                    )
                )
                self._pg_enums = {r[0] for r in rows}
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

    def _swap_enum(self, old: Any, new: Any, state_after: st.ProjectState) -> None:
        """Change an enum type's values: rename it away, create the new one, recast every user."""
        from sqlalchemy.dialects.postgresql import ENUM
        from sqlalchemy.dialects.postgresql import CreateEnumType

        prep = self.dialect.identifier_preparer
        old_name = f"{old.name}__old"
        self.execute(f"ALTER TYPE {prep.quote(old.name)} RENAME TO {prep.quote(old_name)}")
        self.execute(CreateEnumType(ENUM(*new.enums, name=new.name, schema=new.schema)))
        for table in state_after.tables.values():
            for column in table.columns:
                enum = self._enum_of(column.type)
                if enum is None or enum.name != new.name:
                    continue
                t, c = prep.quote(table.name), prep.quote(column.name)
                if column.server_default is not None:
                    self.execute(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT")
                self.execute(
                    f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {prep.quote(new.name)} "
                    f"USING {c}::text::{prep.quote(new.name)}"
                )
                if column.server_default is not None:
                    self.ops.alter_column(
                        table.name, column.name, server_default=column.server_default
                    )
        self.execute(f"DROP TYPE {prep.quote(old_name)}")

    # -- tables ------------------------------------------------------------------------------------

    def create_table(
        self, table: st.TableState, state: st.ProjectState, *, with_foreign_keys: bool = True
    ) -> None:
        self._ensure_enums(table.columns)
        if not with_foreign_keys:
            import dataclasses

            table = dataclasses.replace(table, foreign_keys=())
        for statement in self._create_statements(table, state):
            self.execute(statement)

    def _create_statements(self, table: st.TableState, state: st.ProjectState | None) -> list[Any]:
        """CREATE TABLE, comments and CREATE INDEX for a table state, compiled once.

        The statements are a function of the table state alone (REFERENCES needs only
        names), and the same states come back again and again: a rollback re-creates
        what a migration dropped, and the chain check applies every migration twice.
        Compiling a CREATE TABLE costs more than SQLite takes to run it.
        """
        from sqlalchemy.schema import CreateIndex
        from sqlalchemy.schema import CreateTable
        from sqlalchemy.schema import SetColumnComment
        from sqlalchemy.schema import SetTableComment

        cached = self._ddl_cache.get(table)
        if cached is not None:
            return cached
        sa_table = self._table(table, state)
        if not self.supports_comments:
            sa_table.comment = None
            for column in sa_table.columns:
                column.comment = None
        # CREATE TABLE straight from our Table: Alembic's create_table would copy every
        # column and constraint into a Table of its own first.
        elements: list[Any] = [CreateTable(sa_table)]
        if self.supports_comments and not self.dialect.inline_comments:
            if sa_table.comment is not None:
                elements.append(SetTableComment(sa_table))
            elements.extend(SetColumnComment(c) for c in sa_table.columns if c.comment is not None)
        elements.extend(CreateIndex(i) for i in sorted(sa_table.indexes, key=lambda i: str(i.name)))
        if self.offline:
            return elements  # printed by Alembic's offline mode, formatted its way
        # Compiled once; run later with an empty parameter set, exactly how SQLAlchemy runs
        # DDL, so that the driver un-doubles the %% that pyformat dialects compile.
        statements: list[Any] = [_Compiled(str(e.compile(dialect=self.dialect))) for e in elements]
        if len(self._ddl_cache) > 2000:
            self._ddl_cache.clear()
        self._ddl_cache[table] = statements
        return statements

    def drop_table(self, table: st.TableState, state_after: st.ProjectState) -> None:
        self.ops.drop_table(table.name)
        self._drop_unused_enums(table.columns, state_after)

    def rename_table(self, old: str, new: str, table: st.TableState) -> None:
        self.ops.rename_table(old, new)
        if self.is_postgres:
            for column in table.columns:
                if column.autoincrement and column.identity is None:
                    self._rename_sequence(f"{old}_{column.name}_seq", f"{new}_{column.name}_seq")

    def _rename_sequence(self, old: str, new: str) -> None:
        """A serial column's sequence is named after its table and column; keep it so.

        ``create_all`` of the renamed table would name it ``<table>_<column>_seq``;
        renaming keeps the database equal to what the models would create.
        """
        prep = self.dialect.identifier_preparer
        self.execute(f"ALTER SEQUENCE IF EXISTS {prep.quote(old)} RENAME TO {prep.quote(new)}")

    def alter_table_comment(self, table: st.TableState, comment: str | None) -> None:
        if not self.supports_comments:
            return
        if comment is None:
            self.ops.drop_table_comment(table.name, existing_comment=table.comment)
        else:
            self.ops.create_table_comment(table.name, comment, existing_comment=table.comment)

    # -- columns -----------------------------------------------------------------------------------

    def add_column(
        self,
        before: st.TableState,
        after: st.TableState,
        column: st.ColumnState,
        state_after: st.ProjectState,
        *,
        fill_value: Any = None,
    ) -> None:
        """Add a column; ``fill_value`` fills existing rows of a NOT NULL column without a default.

        With a fill value the column is added with it as server default, which
        fills every existing row, and the default is dropped right after.
        """
        import dataclasses

        self._ensure_enums([column])
        fks = [
            fk
            for fk in after.foreign_keys
            if column.name in fk.columns and fk not in before.foreign_keys
        ]
        adding = column
        if fill_value is not None and column.server_default is None:
            fill = _literal(fill_value)
            adding = dataclasses.replace(
                column, server_default=fill, default_code=f"fill:{fill_value!r}"
            )
        if self.is_sqlite and (
            fks
            or fill_value is not None
            or (not column.nullable and column.server_default is None)
            or self._sqlite_table_is_empty(before.name)
        ):
            # SQLite cannot add a named REFERENCES constraint, nor a NOT NULL column
            # without a default (even to an empty table): rebuild, filling the new
            # column of the existing rows with the one-off value if there is one.
            target = before.with_column(column)
            for fk in fks:
                target = target.with_constraint(fk)
            sources = {column.name: self._sql_literal(fill_value)} if fill_value is not None else {}
            self._rebuild(before, target, state_after, sources=sources)
            return
        self.ops.add_column(before.name, self._column(adding))
        for fk in fks:
            self.add_constraint(before.with_column(adding), fk, state_after)
        if adding is not column:
            with_fill = after.replace_column(column.name, adding)
            self.alter_column(with_fill, adding, column, state_after)

    def drop_column(
        self, before: st.TableState, column: st.ColumnState, state_after: st.ProjectState
    ) -> None:
        """Drop a column and whatever index or constraint still covers it.

        PostgreSQL would drop those silently and MySQL would shrink a multi-column
        index instead, so they are dropped explicitly first, the same on every database.
        """
        if self.is_sqlite:
            self._rebuild(before, before.with_column_dropped(column.name), state_after)
        else:
            for index in before.indexes:
                if column.name in index.columns:
                    self.drop_index(before, index)
            for constraint in before.constraints():
                if column.name in st.constraint_columns(constraint):
                    self.drop_constraint(before, constraint, state_after)
            self.ops.drop_column(before.name, column.name, **self._existing(column))
        self._drop_unused_enums([column], state_after)

    def alter_column(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new: st.ColumnState,
        state_after: st.ProjectState,
        *,
        fill_value: Any = None,
    ) -> None:
        import sqlalchemy as sa

        changes: dict[str, Any] = {}
        type_changed = old.type_code != new.type_code
        old_enum, new_enum = self._enum_of(old.type), self._enum_of(new.type)
        swap_enum = (
            type_changed
            and self.is_postgres
            and old_enum is not None
            and new_enum is not None
            and old_enum.native_enum
            and new_enum.native_enum
            and old_enum.name == new_enum.name
        )
        if swap_enum:
            self._swap_enum(old_enum, new_enum, state_after)
            type_changed = False
        if type_changed:
            self._ensure_enums([new])
            changes["type_"] = new.type
            if self.is_postgres:
                compiled = new.type.compile(dialect=self.dialect)
                quoted = self.dialect.identifier_preparer.quote(new.name)
                if new_enum is not None:
                    changes["postgresql_using"] = f"{quoted}::text::{compiled}"
                else:
                    changes["postgresql_using"] = f"{quoted}::{compiled}"
        if old.nullable != new.nullable:
            changes["nullable"] = new.nullable
        if old.default_code != new.default_code:
            changes["server_default"] = new.server_default
        if old.comment != new.comment and self.supports_comments:
            changes["comment"] = new.comment
        if old.autoincrement != new.autoincrement and self.is_mysql:
            changes["autoincrement"] = new.autoincrement
        if self.is_sqlite:
            if changes or fill_value is not None:
                # SQLite alters nothing in place: rebuild, filling NULLs on the way if asked.
                sources = {}
                if fill_value is not None and old.nullable and not new.nullable:
                    quoted = self.dialect.identifier_preparer.quote(old.name)
                    sources[new.name] = f"COALESCE({quoted}, {self._sql_literal(fill_value)})"
                self._rebuild(
                    table, table.replace_column(old.name, new), state_after, sources=sources
                )
            return
        if fill_value is not None and old.nullable and not new.nullable:
            t = sa.table(table.name, sa.column(old.name))
            value = (
                fill_value
                if isinstance(fill_value, sa.sql.elements.TextClause)
                else sa.literal(fill_value)
            )
            self.execute(t.update().where(t.c[old.name].is_(None)).values({old.name: value}))
        if self.is_postgres and old.autoincrement != new.autoincrement and new.identity is None:
            self._postgres_serial(table, new, on=new.autoincrement)
        if not changes:
            if swap_enum or (type_changed is False and old.type_code != new.type_code):
                self._drop_unused_enums([old], state_after)
            return
        self.ops.alter_column(table.name, old.name, **{**self._existing(old), **changes})
        if "type_" in changes:
            self._drop_unused_enums([old], state_after)

    def _postgres_serial(self, table: st.TableState, column: st.ColumnState, *, on: bool) -> None:
        """Make an existing integer column serial (or plain again), as create_all would.

        SERIAL is a sequence named ``<table>_<column>_seq``, owned by the column, as its
        default; switching it on also moves the sequence past the rows already there.
        """
        prep = self.dialect.identifier_preparer
        t, c = prep.quote(table.name), prep.quote(column.name)
        seq_name = f"{table.name}_{column.name}_seq"
        seq = prep.quote(seq_name)
        if on:
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

    def rename_column(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new_name: str,
        state: st.ProjectState | None = None,
    ) -> None:
        import sqlalchemy as sa

        if (
            self.is_sqlite
            and state is not None
            and not any(old.name in fk.ref_columns for _other, fk in state.referencing(table.name))
        ):
            # Native RENAME COLUMN re-parses the whole schema (about 30 ms on 200 tables);
            # a rebuild touches one table. Only when other tables' keys name the column
            # must SQLite's own rename rewrite them.
            renamed = table.with_column_renamed(old.name, new_name)
            quoted = self.dialect.identifier_preparer.quote(old.name)
            self._rebuild(table, renamed, state, sources={new_name: quoted})
            return
        if (
            self.is_sqlite
            or self.is_postgres
            or (self.is_mysql and self._mysql_has_rename_column())
        ):
            prep = self.dialect.identifier_preparer
            self.execute(
                sa.text(
                    f"ALTER TABLE {prep.quote(table.name)} RENAME COLUMN "
                    f"{prep.quote(old.name)} TO {prep.quote(new_name)}"
                )
            )
            if self.is_postgres and old.autoincrement and old.identity is None:
                self._rename_sequence(
                    f"{table.name}_{old.name}_seq", f"{table.name}_{new_name}_seq"
                )
            return
        self.ops.alter_column(table.name, old.name, new_column_name=new_name, **self._existing(old))

    def _mysql_has_rename_column(self) -> bool:
        info = getattr(self.dialect, "server_version_info", None) or ()
        if getattr(self.dialect, "is_mariadb", False):
            return tuple(info) >= (10, 5)
        return tuple(info) >= (8, 0) or not info

    # -- indexes and constraints -------------------------------------------------------------------

    def create_index(self, table: st.TableState, index: st.IndexState) -> None:
        from sqlalchemy.schema import CreateIndex

        self.execute(CreateIndex(self._index_object(table, index)))
        if self.is_mysql:
            self._drop_mysql_stand_in(table, index.columns)

    def _drop_mysql_stand_in(self, table: st.TableState, columns: tuple[str, ...]) -> None:
        """Drop an index we made for a foreign key (see ``_keep_mysql_fk_index``) once a new
        index starting with the key's columns covers it, as InnoDB does with its own."""
        if self.connection is None:
            return
        for fk in table.foreign_keys:
            if fk.name is None or tuple(columns[: len(fk.columns)]) != fk.columns:
                continue
            name = database_name(self.dialect, fk.name, index=True)
            if (
                table.get_index(fk.name) is None
                and self._mysql_indexes(table.name).get(name) == fk.columns
            ):
                self.ops.drop_index(name, table_name=table.name)

    def _mysql_indexes(self, table: str) -> dict[str, tuple[str, ...]]:
        """``{index name: columns}`` as MySQL has them now, its own foreign key indexes included."""
        import sqlalchemy as sa

        assert self.connection is not None
        rows = self.connection.execute(
            sa.text(
                "SELECT index_name, column_name FROM information_schema.statistics "
                "WHERE table_schema = DATABASE() AND table_name = :t ORDER BY index_name, seq_in_index"
            ),
            {"t": table},
        ).fetchall()
        indexes: dict[str, tuple[str, ...]] = {}
        for index_name, column_name in rows:
            indexes[index_name] = (*indexes.get(index_name, ()), column_name)
        return indexes

    def drop_index(self, table: st.TableState, index: st.IndexState) -> None:
        from sqlalchemy.schema import DropIndex

        if self.is_mysql:
            self._keep_mysql_fk_index(table, index.name, index.columns)
        self.execute(DropIndex(self._index_object(table, index)))

    @staticmethod
    def _index_object(table: st.TableState, index: st.IndexState) -> Any:
        """An Index on a bare Table of just its columns: all CREATE/DROP INDEX need to render."""
        import sqlalchemy as sa

        holder = sa.Table(
            table.name, sa.MetaData(), *(sa.Column(c) for c in dict.fromkeys(index.columns))
        )
        exprs = [
            sa.text(e) if is_expr else holder.c[e]
            for e, is_expr in zip(index.elements, index.expressions)
        ]
        return sa.Index(
            naming.conv(index.name), *exprs, unique=index.unique, _table=holder, **index.options
        )

    def _keep_mysql_fk_index(
        self, table: st.TableState, name: str | None, columns: tuple[str, ...]
    ) -> None:
        """Before MySQL drops an index a foreign key leans on, give the key its own again.

        InnoDB needs an index starting with a foreign key's columns; it made one named
        after the key, but dropped it when ours came along. Dropping ours now is refused
        (error 1553) unless another index is there. The one we create is what
        ``create_all`` leaves behind: an index named after the key.
        """
        if self.connection is None or name is None:
            return
        indexes = self._mysql_indexes(table.name)
        dropping = database_name(self.dialect, name, index=True)
        for fk in table.foreign_keys:
            if fk.name is None or tuple(columns[: len(fk.columns)]) != fk.columns:
                continue
            others = [
                cols
                for n, cols in indexes.items()
                if n != dropping and cols[: len(fk.columns)] == fk.columns
            ]
            if not others:
                fk_index = database_name(self.dialect, fk.name, index=True)
                self.ops.create_index(fk_index, table.name, list(fk.columns))
                indexes[fk_index] = fk.columns

    def rename_index(self, table: st.TableState, index: st.IndexState, new_name: str) -> None:
        prep = self.dialect.identifier_preparer
        old_q = self._quoted_name(index.name, index=True)
        new_q = self._quoted_name(new_name, index=True)
        if self.is_postgres:
            self.execute(f"ALTER INDEX {old_q} RENAME TO {new_q}")
        elif self.is_mysql:
            self.execute(f"ALTER TABLE {prep.quote(table.name)} RENAME INDEX {old_q} TO {new_q}")
        else:
            import dataclasses

            self.drop_index(table, index)
            self.create_index(table, dataclasses.replace(index, name=new_name))

    def add_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        if self.is_sqlite:
            self._rebuild(before, before.with_constraint(constraint), state_after)
            return
        _add_constraint_op(self.ops, before.name, constraint)
        if self.is_mysql and isinstance(constraint, st.UniqueState):
            self._drop_mysql_stand_in(before, constraint.columns)
        if self.is_mysql and isinstance(constraint, st.PrimaryKeyState):
            # And back on once the column is a key again.
            for name in constraint.columns:
                column = before.get_column(name)
                if column is not None and column.autoincrement:
                    self.ops.alter_column(
                        before.name, name, **{**self._existing(column), "autoincrement": True}
                    )

    def drop_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        if constraint.name is None and not self.is_sqlite:
            from migrate_core.errors import InvalidStateError

            raise InvalidStateError(
                f"cannot drop an unnamed {constraint.kind} constraint on {before.name}: "
                "give it a name in the migration that created it"
            )
        if self.is_sqlite:
            self._rebuild(before, before.without_constraint(constraint.name or ""), state_after)
            return
        if self.is_mysql and isinstance(constraint, st.PrimaryKeyState):
            # MySQL keeps AUTO_INCREMENT only on a key column: take it off first (error 1075).
            for name in constraint.columns:
                column = before.get_column(name)
                if column is not None and column.autoincrement:
                    self.ops.alter_column(
                        before.name, name, **{**self._existing(column), "autoincrement": False}
                    )
            prep = self.dialect.identifier_preparer
            self.execute(f"ALTER TABLE {prep.quote(before.name)} DROP PRIMARY KEY")
            return
        if self.is_mysql and isinstance(constraint, st.UniqueState):
            self._keep_mysql_fk_index(before, constraint.name, constraint.columns)
        self.ops.drop_constraint(naming.conv(constraint.name), before.name, type_=constraint.kind)
        if self.is_mysql and isinstance(constraint, st.ForeignKeyState):
            self._drop_mysql_fk_index(before, constraint)

    def rename_constraint(
        self,
        before: st.TableState,
        constraint: st.ConstraintState,
        new_name: str,
        state_after: st.ProjectState,
    ) -> None:
        import dataclasses

        prep = self.dialect.identifier_preparer
        renamed = dataclasses.replace(constraint, name=new_name)
        if self.is_postgres:
            self.execute(
                f"ALTER TABLE {prep.quote(before.name)} RENAME CONSTRAINT "
                f"{self._quoted_name(constraint.name)} TO {self._quoted_name(new_name)}"
            )
        elif self.is_mysql:
            if isinstance(constraint, st.PrimaryKeyState):
                return  # MySQL calls every primary key PRIMARY
            if isinstance(constraint, st.UniqueState):
                self.execute(
                    f"ALTER TABLE {prep.quote(before.name)} RENAME INDEX "
                    f"{self._quoted_name(constraint.name)} TO {self._quoted_name(new_name)}"
                )
                return
            self.drop_constraint(before, constraint, state_after)
            self.add_constraint(
                before.without_constraint(constraint.name or ""), renamed, state_after
            )
        else:
            self._rebuild(
                before,
                before.without_constraint(constraint.name or "").with_constraint(renamed),
                state_after,
            )

    def _sqlite_table_is_empty(self, table: str) -> bool:
        """Whether a SQLite table has no rows (then rebuilding it costs less than ALTER).

        SQLite re-parses its entire schema after every ALTER TABLE (2 ms on 200
        tables), while CREATE and DROP change it in place; with no rows to copy, a
        rebuild is the cheaper way to add a column. With rows, ALTER TABLE ADD
        COLUMN copies nothing and wins.
        """
        if self.connection is None:
            return False
        prep = self.dialect.identifier_preparer
        row = self.connection.exec_driver_sql(
            f"SELECT 1 FROM main.{prep.quote(table)} LIMIT 1"
        ).first()
        return row is None

    def _sql_literal(self, value: Any) -> str:
        """A one-off value as SQL text for this dialect (``sa.text`` passes through)."""
        import sqlalchemy as sa

        if isinstance(value, sa.sql.elements.TextClause):
            return value.text
        return str(
            sa.literal(value).compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
        )

    def _rebuild(
        self,
        before: st.TableState,
        after: st.TableState,
        state_after: st.ProjectState,
        *,
        sources: dict[str, str] | None = None,
    ) -> None:
        """SQLite: recreate ``before`` as ``after``, keeping every row and index.

        The rows wait in a TEMP table while the table is dropped and created again
        under its own name, then come back column by column (``sources`` gives SQL for
        columns that do not simply copy: a one-off fill value, a renamed column).
        We write this ourselves rather than use Alembic's batch mode because batch
        mode renames the new table into place, and SQLite's ALTER TABLE ... RENAME
        re-parses the whole schema: 17-20 ms per table on a 200-table schema,
        against 2 ms for this sequence, which changes only this table's entries.
        Other tables' foreign keys keep pointing at it by name.
        """
        prep = self.dialect.identifier_preparer
        name = prep.quote(before.name)
        keep = prep.quote(f"_mc_rebuild_{before.name}")
        sources = sources or {}
        targets, exprs = [], []
        for column in after.columns:
            if column.computed is not None:
                continue  # generated: SQLite computes it, and refuses a value for it
            if column.name in sources:
                expr = sources[column.name]
            elif before.get_column(column.name) is not None:
                expr = prep.quote(column.name)
            else:
                continue  # a new column: its default (or NULL) fills the rows
            targets.append(prep.quote(column.name))
            exprs.append(expr)
        self.run_sql(f"CREATE TEMP TABLE {keep} AS SELECT * FROM main.{name}")
        self.run_sql(f"DROP TABLE main.{name}")
        create, *indexes = self._create_statements(after, state_after)
        self.execute(create)
        if targets:
            self.run_sql(
                f"INSERT INTO main.{name} ({', '.join(targets)}) SELECT {', '.join(exprs)} FROM temp.{keep}"
            )
        self.run_sql(f"DROP TABLE temp.{keep}")
        for statement in indexes:
            self.execute(statement)

    def _drop_mysql_fk_index(self, table: st.TableState, fk: st.ForeignKeyState) -> None:
        """MySQL made an index for the key when it was created; take it away with the key."""
        if self.connection is None or fk.name is None or table.get_index(fk.name) is not None:
            return
        import sqlalchemy as sa

        name = database_name(self.dialect, fk.name)
        if name in self._mysql_indexes(table.name):
            prep = self.dialect.identifier_preparer
            # Another foreign key may still need it; MySQL refuses then, and keeps it.
            with contextlib.suppress(sa.exc.DBAPIError):
                self.execute(f"ALTER TABLE {prep.quote(table.name)} DROP INDEX {prep.quote(name)}")


class _Compiled(str):
    """DDL already compiled for this editor's dialect."""


def _add_constraint_op(ops: Any, table: str, constraint: st.ConstraintState) -> None:
    """Add a constraint through Alembic's Operations."""
    import sqlalchemy as sa

    args = (table,)
    name = naming.conv(constraint.name)
    if isinstance(constraint, st.PrimaryKeyState):
        ops.create_primary_key(name, *args, list(constraint.columns))
    elif isinstance(constraint, st.UniqueState):
        kw = {
            k: v
            for k, v in (("deferrable", constraint.deferrable), ("initially", constraint.initially))
            if v is not None
        }
        ops.create_unique_constraint(name, *args, list(constraint.columns), **kw)
    elif isinstance(constraint, st.CheckState):
        ops.create_check_constraint(name, *args, sa.text(constraint.sqltext))
    else:
        ops.create_foreign_key(
            name,
            *args,
            constraint.ref_table,
            list(constraint.columns),
            list(constraint.ref_columns),
            ondelete=constraint.ondelete,
            onupdate=constraint.onupdate,
            deferrable=constraint.deferrable,
            initially=constraint.initially,
            match=constraint.match,
        )


def _literal(value: Any) -> Any:
    """A one-off default as a server default clause."""
    import sqlalchemy as sa

    if isinstance(value, (str, sa.sql.elements.TextClause)):
        return value
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    return sa.text(repr(value))
