"""The neutral schema editor: carry schema changes out, through SQLAlchemy DDL and Alembic.

Operations say *what* changes, in terms of our state; the editor says *how*.
This base class is the case of a database that Alembic's Operations handle
without help; each dialect module (``db/dialects/``) subclasses it for its
quirks: PostgreSQL's enum types and serial sequences, MySQL's foreign-key
indexes and AUTO_INCREMENT, SQLite's table rebuilds. We hand Alembic the table
definitions our state already holds, so nothing is ever reflected before a change.

Whether the SQL runs or is collected as text for ``sqlmigrate`` is the business
of the runner passed in (``db/runners.py``), never of the editor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from migrate_core.schema import naming
from migrate_core.schema import sqla
from migrate_core.schema import state as st
from migrate_core.schema.naming import database_name

if TYPE_CHECKING:
    from alembic.operations import Operations
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect

    from migrate_core.db.dialects.base import Backend
    from migrate_core.db.dialects.base import Features
    from migrate_core.db.runners import Runner


class SchemaEditor:
    """DDL of one dialect, run (or collected) by ``runner``.

    Make one with :func:`migrate_core.db.dialects.editor` (a connection) or
    :func:`migrate_core.db.dialects.collecting_editor` (for printing SQL).
    """

    def __init__(self, runner: Runner, backend: Backend) -> None:
        self.runner = runner
        self.backend = backend
        self.features: Features = backend.features
        #: The live connection (``None`` when collecting SQL): what ``RunPython`` code gets.
        self.connection: Connection | None = runner.connection
        self.dialect: Dialect = runner.dialect
        self._ddl_cache: dict[st.TableState, list[Any]] = {}
        #: The index of the operation running, set by the walk (the executor): work a
        #: dialect defers is blamed on the operation that asked for it.
        self.step_index: int | None = None
        #: When carrying out deferred work failed: the operation that asked for it.
        self.failed_step: int | None = None
        #: Foreign keys a type change took off, by (table, name), until both of their
        #: sides have the same type again (or the migration ends): see ``alter_column``.
        self._released: dict[tuple[str, str], st.ForeignKeyState] = {}
        self._released_state: st.ProjectState | None = None
        #: The state the running migration ends in, set by the walk (the executor) when
        #: it knows it: a dialect may choose how to do an operation by what later ones of
        #: the same transaction need (a PostgreSQL enum value added and used at once).
        self.end_state: st.ProjectState | None = None

    @property
    def ops(self) -> Operations:
        return self.runner.ops

    #: Whether a column's type change must take the foreign keys on it, or pointing at
    #: it, off first: PostgreSQL refuses a new type for a referenced column while a key
    #: ties it to a column of the old one (integer ids becoming UUIDs), and MySQL refuses
    #: to modify a column a key uses at all. SQLite rebuilds the table instead.
    releases_foreign_keys: ClassVar[bool] = True

    def reset(self) -> None:
        """Forget what was read from the database (a migration may have been rolled back)."""
        self.step_index = self.failed_step = None
        self._released.clear()
        self._released_state = None

    def finish(self) -> None:
        """The end of a migration: carry out what the dialect deferred until now.

        Every walk over a migration's operations calls it after the last one (the
        executor, ``sqlmigrate``, :meth:`Migration.apply`): SQLite coalesces the table
        rebuilds of a migration into one per table here; elsewhere the foreign keys a
        type change took off and no later change put back are created again.
        """
        self._restore_foreign_keys(everything=True)

    # -- helpers ---------------------------------------------------------------------------------

    def execute(self, sql: Any) -> None:
        """Run (or collect) a SQL construct, text or compiled DDL."""
        self.runner.execute(sql)

    def run_sql(self, statement: str) -> None:
        """Run one raw statement as written: no bind-parameter parsing of ``:name`` or ``%``."""
        self.runner.run_sql(statement)

    def comment(self, text: str) -> None:
        """A note in ``sqlmigrate`` output (nothing when running)."""
        self.runner.comment(text)

    def sql_output(self) -> str:
        return self.runner.output()

    def _quoted_name(self, name: str | None, *, index: bool = False) -> str:
        """A constraint or index name as the database stores it (shortened), quoted."""
        return self.dialect.identifier_preparer.quote(
            database_name(self.dialect, name or "", index=index)
        )

    def _column(self, column: st.ColumnState, *, primary_key: bool = False) -> Any:
        col = sqla.to_column(column, primary_key=primary_key)
        self._quiet_schema_type(col.type)
        return col

    @staticmethod
    def _quiet_schema_type(type_: Any) -> None:
        # We create and drop PostgreSQL enum types ourselves (see the postgresql dialect):
        # SQLAlchemy's own events would create a type twice when two tables share it, or
        # drop it under another table that still uses it.
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
        """What Alembic wants to know about a column it alters (MySQL's MODIFY restates it)."""
        existing: dict[str, Any] = {
            "existing_type": column.type,
            "existing_nullable": column.nullable,
            "existing_server_default": column.server_default
            if column.server_default is not None
            else False,
        }
        if column.comment is not None:
            existing["existing_comment"] = column.comment
        return existing

    @staticmethod
    def _enum_of(type_: Any) -> Any:
        from sqlalchemy import Enum

        if isinstance(type_, Enum):
            return type_
        impl = getattr(type_, "impl", None)
        if isinstance(impl, Enum):
            return impl
        return None

    # -- enum types (a no-op unless the dialect has them as schema objects) ------------------------

    def _ensure_enums(self, columns: Iterable[st.ColumnState]) -> None:
        """Create the enum types ``columns`` use that do not exist yet."""

    def _drop_unused_enums(
        self, columns: Iterable[st.ColumnState], state_after: st.ProjectState
    ) -> None:
        """Drop the enum types ``columns`` used that nothing in ``state_after`` uses."""

    # -- tables ------------------------------------------------------------------------------------

    def create_table(
        self, table: st.TableState, state: st.ProjectState, *, with_foreign_keys: bool = True
    ) -> None:
        self._ensure_enums(table.columns)
        if not with_foreign_keys:
            table = dataclasses.replace(table, foreign_keys=())
        for statement in self._create_statements(table, state):
            self.execute(statement)

    def _create_statements(self, table: st.TableState, state: st.ProjectState | None) -> list[Any]:
        """CREATE TABLE, comments and CREATE INDEX for a table state, prepared once.

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
        comments = self.features.comments
        if not comments:
            sa_table.comment = None
            for column in sa_table.columns:
                column.comment = None
        # CREATE TABLE straight from our Table: Alembic's create_table would copy every
        # column and constraint into a Table of its own first.
        elements: list[Any] = [CreateTable(sa_table)]
        if comments and not self.dialect.inline_comments:
            if sa_table.comment is not None:
                elements.append(SetTableComment(sa_table))
            elements.extend(SetColumnComment(c) for c in sa_table.columns if c.comment is not None)
        elements.extend(CreateIndex(i) for i in sorted(sa_table.indexes, key=lambda i: str(i.name)))
        statements = self.runner.prepare(elements)
        if len(self._ddl_cache) > 2000:
            self._ddl_cache.clear()
        self._ddl_cache[table] = statements
        return statements

    def drop_table(self, table: st.TableState, state_after: st.ProjectState) -> None:
        self.ops.drop_table(table.name)
        self._drop_unused_enums(table.columns, state_after)

    def rename_table(self, old: str, new: str, table: st.TableState) -> None:
        self.ops.rename_table(old, new)

    def alter_table_comment(self, table: st.TableState, comment: str | None) -> None:
        if not self.features.comments:
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
        self._ensure_enums([column])
        fks = new_foreign_keys(before, after, column)
        adding = column
        if fill_value is not None and column.server_default is None:
            fill = _literal(fill_value)
            adding = dataclasses.replace(
                column, server_default=fill, default_code=f"fill:{fill_value!r}"
            )
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
        """Change a column from ``old`` to ``new``: the changes are gathered, then applied."""
        changes: dict[str, Any] = {}
        type_changed = old.type_code != new.type_code
        enum_swapped = type_changed and self._swap_enum_values(old, new, state_after)
        if type_changed and not enum_swapped:
            self._ensure_enums([new])
            changes["type_"] = new.type
            changes.update(self._type_change_options(old, new))
        changes.update(self._column_changes(old, new))
        if old.comment != new.comment and self.features.comments:
            changes["comment"] = new.comment
        changes.update(self._autoincrement_change(old, new))
        if old.computed_code != new.computed_code:
            # No database alters a generation expression in place everywhere (PostgreSQL
            # 17's SET EXPRESSION aside): see _change_generation.
            changes["computed"] = new.computed
        release = type_changed and self.releases_foreign_keys
        if release:
            self._release_foreign_keys(table.name, old.name, state_after)
        self._apply_column_changes(
            table, old, new, changes, state_after, fill_value=fill_value, enum_swapped=enum_swapped
        )
        if release:
            self._restore_foreign_keys(state_after)

    def _release_foreign_keys(self, table: str, column: str, state: st.ProjectState) -> None:
        """Drop every foreign key on ``table.column`` or pointing at it (once per migration)."""
        self._released_state = state
        for holder in state.tables.values():
            for fk in holder.foreign_keys:
                on_it = holder.name == table and column in fk.columns
                at_it = fk.ref_table == table and column in fk.ref_columns
                key = (holder.name, fk.name or "")
                if (on_it or at_it) and key not in self._released:
                    self.drop_constraint(holder, fk, state)
                    self._released[key] = fk

    def _restore_foreign_keys(
        self, state: st.ProjectState | None = None, *, everything: bool = False
    ) -> None:
        """Create the released foreign keys again: those whose columns now have the same
        types on both sides (the other side of an integer-to-UUID change may still be
        an integer, a later operation of the migration changes it), or at the end of the
        migration all of them, where the database is the judge."""
        if not self._released:
            return
        state = state or self._released_state
        if state is None:
            return
        self._released_state = state
        for key, fk in list(self._released.items()):
            holder = state.get_table(key[0])
            target = state.get_table(fk.ref_table)
            if holder is None or target is None:
                del self._released[key]  # the table went in this migration, and its keys with it
                continue
            if not everything and not _same_types(holder, fk.columns, target, fk.ref_columns):
                continue
            del self._released[key]
            self.add_constraint(holder, fk, state)

    def _swap_enum_values(
        self, old: st.ColumnState, new: st.ColumnState, state_after: st.ProjectState
    ) -> bool:
        """Change an enum type's values in place of an ALTER COLUMN; whether that was done."""
        return False

    def _type_change_options(self, old: st.ColumnState, new: st.ColumnState) -> dict[str, Any]:
        """Extra ``alter_column`` arguments for a type change (PostgreSQL's USING)."""
        return {}

    def _autoincrement_change(self, old: st.ColumnState, new: st.ColumnState) -> dict[str, Any]:
        """``alter_column`` arguments where autoincrement is part of the column (MySQL)."""
        return {}

    def _autoincrement_default(
        self, table: st.TableState, old: st.ColumnState, new: st.ColumnState
    ) -> None:
        """Where autoincrement is a default of its own (PostgreSQL's serial), switch it."""

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
        import sqlalchemy as sa

        if "computed" in changes:
            self._change_generation(table, old, new, state_after)
            return
        fill = self._fill_sql(old, new, fill_value)
        if fill is not None:
            t = sa.table(table.name, sa.column(old.name))
            # literal_column, not text(): a default such as '12:30' must not read as a
            # bind parameter, and its % signs are escaped for the driver.
            self.execute(
                t.update()
                .where(t.c[old.name].is_(None))
                .values({old.name: sa.literal_column(fill)})
            )
        # A serial default goes before the type changes (nextval() may not cast to the new
        # type) and comes after it (its sequence needs the column to be an integer already).
        switch_on = new.autoincrement and not old.autoincrement
        if not switch_on:
            self._autoincrement_default(table, old, new)
        if changes:
            self.ops.alter_column(table.name, old.name, **{**self._existing(old), **changes})
        if ("type_" in changes) or (enum_swapped and not changes):
            self._drop_unused_enums([old], state_after)
        if switch_on:
            self._autoincrement_default(table, old, new)

    def _change_generation(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new: st.ColumnState,
        state_after: st.ProjectState,
    ) -> None:
        """A computed column's expression changed, or a column became or stopped being one.

        A generated column holds nothing of its own, so it is dropped and added again
        with its new definition (its indexes and constraints with it); a computed
        column that becomes a plain one keeps its values where the database can
        (PostgreSQL's DROP EXPRESSION; elsewhere the values are copied through a new
        column).
        """
        if old.computed is not None and new.computed is None and self._drop_expression(table, old):
            rest = {
                k: v
                for k, v in self._column_changes(old, new).items()
                if k not in ("computed", "type_")
            }
            plain = dataclasses.replace(old, computed=None, computed_code=None)
            if rest or old.type_code != new.type_code:
                self.alter_column(table, plain, new, state_after)
            return
        after = table.replace_column(old.name, new)
        self.drop_column(table, old, state_after)
        without = table.with_column_dropped(old.name)
        keep_values = old.computed is not None and new.computed is None
        if keep_values:
            import sqlalchemy as sa

            # Computed to plain without DROP EXPRESSION: nothing to keep once the column
            # is gone, so the new plain column is filled from the expression instead.
            self.add_column(without, after, dataclasses.replace(new, nullable=True), state_after)
            t = sa.table(table.name, sa.column(new.name))
            self.execute(t.update().values({new.name: sa.text(str(old.computed.sqltext))}))
            if not new.nullable:
                self.alter_column(
                    after.replace_column(new.name, dataclasses.replace(new, nullable=True)),
                    dataclasses.replace(new, nullable=True),
                    new,
                    state_after,
                )
        else:
            self.add_column(without, after, new, state_after)
        for index in after.indexes:
            if new.name in index.columns:
                self.create_index(after, index)
        for constraint in after.constraints():
            if new.name in st.constraint_columns(constraint) and not (
                isinstance(constraint, st.ForeignKeyState) and constraint.columns == (new.name,)
            ):
                self.add_constraint(after, constraint, state_after)

    def _drop_expression(self, table: st.TableState, column: st.ColumnState) -> bool:
        """Turn a computed column into a plain one keeping its values, where the database
        has a statement for it (PostgreSQL 13+: DROP EXPRESSION); whether it did."""
        return False

    def _column_changes(self, old: st.ColumnState, new: st.ColumnState) -> dict[str, Any]:
        """The nullability and server-default part of a column change (alter_column's, and
        what a generated column turned plain still needs)."""
        changes: dict[str, Any] = {}
        if old.nullable != new.nullable:
            changes["nullable"] = new.nullable
        if old.default_code != new.default_code:
            changes["server_default"] = new.server_default
        return changes

    def rename_column(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new_name: str,
        state: st.ProjectState | None = None,
    ) -> None:
        import sqlalchemy as sa

        if self._can_rename_column():
            prep = self.dialect.identifier_preparer
            self.execute(
                sa.text(
                    f"ALTER TABLE {prep.quote(table.name)} RENAME COLUMN "
                    f"{prep.quote(old.name)} TO {prep.quote(new_name)}"
                )
            )
            self._column_renamed(table, old, new_name)
            return
        self.ops.alter_column(table.name, old.name, new_column_name=new_name, **self._existing(old))

    def _can_rename_column(self) -> bool:
        return self.features.rename_column

    def _column_renamed(self, table: st.TableState, old: st.ColumnState, new_name: str) -> None:
        """After RENAME COLUMN: what is named after the column (PostgreSQL's sequences)."""

    # -- indexes and constraints -------------------------------------------------------------------

    def create_index(self, table: st.TableState, index: st.IndexState) -> None:
        from sqlalchemy.schema import CreateIndex

        self.execute(CreateIndex(self._index_object(table, index)))

    def drop_index(self, table: st.TableState, index: st.IndexState) -> None:
        from sqlalchemy.schema import DropIndex

        self.execute(DropIndex(self._index_object(table, index)))

    @staticmethod
    def _index_object(table: st.TableState, index: st.IndexState) -> Any:
        """An Index on a bare Table of the table's column names: all CREATE/DROP INDEX need
        to render (options name columns too: ``postgresql_include=["kind"]``)."""
        import sqlalchemy as sa

        names = dict.fromkeys([*index.columns, *(c.name for c in table.columns)])
        holder = sa.Table(table.name, sa.MetaData(), *(sa.Column(c) for c in names))
        exprs = [
            sa.text(e) if is_expr else holder.c[e]
            for e, is_expr in zip(index.elements, index.expressions)
        ]
        return sa.Index(
            naming.conv(index.name), *exprs, unique=index.unique, _table=holder, **index.options
        )

    def rename_index(self, table: st.TableState, index: st.IndexState, new_name: str) -> None:
        """Without a RENAME INDEX: drop it and create it again under the new name."""
        self.drop_index(table, index)
        self.create_index(table, dataclasses.replace(index, name=new_name))

    def add_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        _add_constraint_op(self.ops, before.name, constraint)

    def drop_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        if self._released.pop((before.name, constraint.name or ""), None) is not None:
            return  # a type change took it off already, and now it goes for good
        self._require_name(before, constraint)
        self.ops.drop_constraint(naming.conv(constraint.name), before.name, type_=constraint.kind)

    @staticmethod
    def _require_name(table: st.TableState, constraint: st.ConstraintState) -> None:
        if constraint.name is None:
            from migrate_core.errors import InvalidStateError

            raise InvalidStateError(
                f"cannot drop an unnamed {constraint.kind} constraint on {table.name}: "
                "give it a name in the migration that created it"
            )

    def rename_constraint(
        self,
        before: st.TableState,
        constraint: st.ConstraintState,
        new_name: str,
        state_after: st.ProjectState,
    ) -> None:
        """Without a RENAME CONSTRAINT: drop it and add it again under the new name."""
        renamed = dataclasses.replace(constraint, name=new_name)
        self.drop_constraint(before, constraint, state_after)
        self.add_constraint(before.without_constraint(constraint.name or ""), renamed, state_after)

    def _fill_sql(self, old: st.ColumnState, new: st.ColumnState, fill_value: Any) -> str | None:
        """SQL for the value NULL rows get when ``old`` -> ``new`` makes the column NOT NULL.

        The one-off ``fill_value`` if there is one, else the new column's server
        default: SET NOT NULL checks the rows that are there, and a server default
        only fills rows inserted later, so without this UPDATE the first NULL row
        fails the migration on every database. None: nothing to fill (the change
        does not make the column NOT NULL, or nothing is known to fill it with).
        """
        if not (old.nullable and not new.nullable):
            return None
        if fill_value is not None:
            return self._sql_literal(fill_value)
        if new.server_default is not None:
            return self._default_sql(new)
        return None

    def _default_sql(self, column: st.ColumnState) -> str:
        """A column's server default as an SQL expression (NULL without one)."""
        import sqlalchemy as sa

        default = column.server_default
        if default is None:
            return "NULL"
        if isinstance(default, str | sa.sql.elements.TextClause):
            return f"({self._sql_literal(default)})"
        compiled = default.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
        return f"({compiled})"

    def _sql_literal(self, value: Any) -> str:
        """A one-off value as SQL text for this dialect (``sa.text`` passes through)."""
        import sqlalchemy as sa

        if isinstance(value, sa.sql.elements.TextClause):
            return value.text
        return str(
            sa.literal(value).compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
        )


def new_foreign_keys(
    before: st.TableState, after: st.TableState, column: st.ColumnState
) -> list[st.ForeignKeyState]:
    """The foreign keys on ``column`` that ``after`` has and ``before`` has not."""
    return [
        fk
        for fk in after.foreign_keys
        if column.name in fk.columns and fk not in before.foreign_keys
    ]


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


def _same_types(
    table: st.TableState, columns: Iterable[str], target: st.TableState, ref_columns: Iterable[str]
) -> bool:
    """Whether a foreign key's columns and the ones it points at have the same types."""
    for name, ref in zip(columns, ref_columns):
        column, referenced = table.get_column(name), target.get_column(ref)
        if column is None or referenced is None or column.type_code != referenced.type_code:
            return False
    return True
