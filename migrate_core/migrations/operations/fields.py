"""Column-level operations: add, remove, alter, rename."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import InvalidStateError
from migrate_core.migrations.operations import render as rd
from migrate_core.migrations.operations.base import Operation
from migrate_core.migrations.operations.base import check_name
from migrate_core.schema import codegen as sz
from migrate_core.schema import sqla
from migrate_core.schema import state as st

if TYPE_CHECKING:
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.codegen import Rendered
    from migrate_core.schema.state import ProjectState


def _fill_code(value: Any) -> Rendered:
    return sz.render_value(value)


def _check_fill(
    value: Any, where: str, keyword: str = "fill_value", column: st.ColumnState | None = None
) -> Any:
    """``value`` if it can fill a column (and fits ``column``, when known), else a TypeError
    naming the operation: a wrong fill is caught when the file loads, on every database,
    not by one database at ``migrate`` time (SQLite stores 'abc' in an INTEGER column)."""
    from sqlalchemy.sql.elements import TextClause

    if value is None:
        return value
    if not isinstance(value, (str, int, float, bool, TextClause)):
        raise TypeError(
            f"{where}: {keyword} must be a str, int, float, bool or sa.text(...), got {value!r}"
        )
    problem = fill_problem(value, column)
    if problem:
        raise TypeError(f"{where}: {keyword}={_shown(value)} {problem}")
    return value


def _shown(value: Any) -> str:
    from sqlalchemy.sql.elements import TextClause

    return f"sa.text({value.text!r})" if isinstance(value, TextClause) else repr(value)


def fill_problem(value: Any, column: st.ColumnState | None) -> str | None:
    """Why ``value`` cannot fill ``column`` (None: it can), in words after the value.

    Only what is certain from the Python value and the column's type: a SQL expression
    is one expression without bind parameters (nothing would supply them); a float is
    finite; an integer column gets an integer in its range; a string column a string
    that fits its length; a boolean column a bool. Other types are left to the database.
    """
    import math

    import sqlalchemy as sa
    from sqlalchemy.sql.elements import TextClause

    from migrate_core.schema.sqltext import split_statements

    if isinstance(value, TextClause):
        if value._bindparams:
            names = ", ".join(f":{name}" for name in value._bindparams)
            return (
                f"has a bind parameter ({names}) that nothing supplies; write the value into "
                "the SQL text (escape a literal colon as \\:)"
            )
        if len(split_statements(value.text)) != 1:
            return "is not one SQL expression; a fill is a value, e.g. sa.text('CURRENT_TIMESTAMP')"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number; give one, e.g. 0.0"
    type_ = getattr(column, "type", None)
    if column is None or type_ is None:
        return None
    col = f"column {column.name} ({column.describe()})"
    if isinstance(type_, sa.Boolean):
        if not isinstance(value, bool) and value not in (0, 1):
            return f"is not a bool, which {col} needs; give True or False"
    elif isinstance(type_, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"is not an integer, which {col} needs; give an int, e.g. 0"
        # The signed range PostgreSQL and MySQL give each size; SQLite stores any integer
        # in 64 bits, so it would never refuse a value the other two do.
        bits = (
            16
            if isinstance(type_, sa.SmallInteger)
            else 64
            if isinstance(type_, sa.BigInteger)
            else 32
        )
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            return f"is outside the {bits}-bit range of {col}; give a smaller value or a wider type"
    elif isinstance(type_, sa.Numeric):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"is not a number, which {col} needs; give an int or a float, e.g. 0"
    elif isinstance(type_, sa.String) and not isinstance(type_, sa.Enum):
        if not isinstance(value, str):
            return f"is not a string, which {col} needs; quote it, e.g. {str(value)!r}"
        if type_.length is not None and len(value) > type_.length:
            return f"is {len(value)} characters, more than {col} holds; give at most {type_.length}"
    return None


def _check_reverse_fill(value: Any, column: st.ColumnState, operation: str) -> None:
    """A ``reverse_fill`` that cannot fill the column it brings back, as a problem of the
    chain: the rollback would otherwise fail (or, on SQLite, store it) long after review."""
    problem = fill_problem(value, column) if value is not None else None
    if problem:
        raise InvalidStateError(f"{operation}: reverse_fill={_shown(value)} {problem}")


def needs_fill(column: st.ColumnState) -> bool:
    """Whether adding ``column`` to a table with rows needs a value from somewhere.

    NOT NULL and nothing the database fills by itself: no server default, not
    generated, not an identity, not an autoincrement key (serial, AUTO_INCREMENT and
    SQLite's rowid number the rows). The autodetector asks for a fill where this
    holds (a new column, and the column a RemoveField brings back on rollback).
    """
    return (
        not column.nullable
        and column.server_default is None
        and column.computed is None
        and column.identity is None
        and not column.autoincrement
    )


class AddField(Operation):
    """Add a column. ``fill_value`` fills existing rows of a NOT NULL column, then is dropped."""

    symbol = "+"

    def __init__(self, table: str, column: Any, fill_value: Any = None) -> None:
        self.table_name = check_name(table, "AddField table")
        if isinstance(column, st.ColumnState):
            self.column = column
            self.extras: st.TableState | None = None
            self.foreign_keys: tuple[st.ForeignKeyState, ...] = ()
        else:
            self.column, self.extras = sqla.column_with_extras(table, column)
            self.foreign_keys = self.extras.foreign_keys
        self.fill_value = _check_fill(
            fill_value, f"AddField({table!r}, {self.column.name!r})", column=self.column
        )

    @classmethod
    def from_state(
        cls,
        table: str,
        column: st.ColumnState,
        foreign_keys: tuple[st.ForeignKeyState, ...] = (),
        fill_value: Any = None,
    ) -> AddField:
        op = cls(table, column, fill_value=fill_value)
        op.foreign_keys = foreign_keys
        return op

    def state_forwards(self, app: str, state: ProjectState) -> None:
        extras = self.extras
        state.add_column(
            self.table_name,
            self.column,
            constraints=(*self.foreign_keys, *(extras.unique_constraints if extras else ())),
            indexes=extras.indexes if extras else (),
            operation=self.describe(),
        )

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        before = from_state.table(self.table_name)
        after = to_state.table(self.table_name)
        editor.add_column(before, after, self.column, to_state, fill_value=self.fill_value)
        if self.extras is not None:
            for unique in self.extras.unique_constraints:
                editor.add_constraint(after.without_constraint(unique.name or ""), unique, to_state)
            for index in self.extras.indexes:
                editor.create_index(after, index)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_column(from_state.table(self.table_name), self.column, to_state)

    def describe(self) -> str:
        return f"Add column {self.column.name} to {self.table_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"add_{self.table_name}_{self.column.name}"

    def render(self) -> Rendered:
        column = rd.column(self.column, foreign_keys=self.foreign_keys)
        kwargs = []
        if self.fill_value is not None:
            kwargs.append(("fill_value", _fill_code(self.fill_value)))
        return rd.op_call("AddField", [self.table_name, column], kwargs)

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, self.column.name)}


class RemoveField(Operation):
    """Drop a column. Its definition, and the indexes and keys on it, come back on rollback.

    The rows' values do not come back. A NOT NULL column without a server default
    cannot be added again to rows that have no value for it (SQLite and PostgreSQL
    refuse; MySQL/MariaDB invent '' or 0, which may break the column's own CHECK),
    so ``reverse_fill`` is the value the rollback fills the existing rows with.
    """

    symbol = "-"

    def __init__(self, table: str, name: str, reverse_fill: Any = None) -> None:
        self.table_name = check_name(table, "RemoveField table")
        self.name = check_name(name, "RemoveField name")
        self.reverse_fill = _check_fill(
            reverse_fill, f"RemoveField({table!r}, {name!r})", "reverse_fill"
        )

    def _column(self, state: ProjectState) -> st.ColumnState:
        return state.column(self.table_name, self.name, operation=self.describe())

    def state_forwards(self, app: str, state: ProjectState) -> None:
        _check_reverse_fill(self.reverse_fill, self._column(state), self.describe())
        state.remove_column(self.table_name, self.name, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_column(from_state.table(self.table_name), self._column(from_state), to_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        without = from_state.table(self.table_name)
        with_col = to_state.table(self.table_name)
        column = self._column(to_state)
        editor.add_column(without, with_col, column, to_state, fill_value=self.reverse_fill)
        current = without.with_column(column)
        for fk in with_col.foreign_keys:
            if self.name in fk.columns:
                current = current.with_constraint(fk)  # add_column made it
        for constraint in with_col.constraints():
            if (
                current.get_constraint(constraint.name or "") is None
                and constraint not in current.constraints()
            ):
                editor.add_constraint(current, constraint, to_state)
                current = current.with_constraint(constraint)
        for index in with_col.indexes:
            if without.get_index(index.name or "") is None:
                editor.create_index(with_col, index)

    def describe(self) -> str:
        return f"Remove column {self.name} from {self.table_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.table_name}_{self.name}"

    def render(self) -> Rendered:
        kwargs = []
        if self.reverse_fill is not None:
            kwargs.append(("reverse_fill", _fill_code(self.reverse_fill)))
        return rd.op_call("RemoveField", [self.table_name, self.name], kwargs)

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, self.name)}


class AlterField(Operation):
    """Change a column's type, nullability, server default or comment.

    The column is given whole, as it should be afterwards; the state knows how it
    was before, so the change runs backwards without being written twice.

    NULL -> NOT NULL fills the NULL rows first: with ``fill_value``, else with the
    column's server default. The rollback of NOT NULL -> NULL is the same change
    backwards, filled with ``reverse_fill`` or the old column's server default;
    makemigrations does not ask for one (relaxing a column is common, and rows
    that were there before it still hold values), so ``reverse_fill`` is written
    by hand where NULLs may arrive after the migration and rollbacks matter.
    """

    symbol = "~"

    def __init__(
        self, table: str, column: Any, fill_value: Any = None, reverse_fill: Any = None
    ) -> None:
        self.table_name = check_name(table, "AlterField table")
        #: ``autoincrement=False`` said in so many words: a key stops autoincrementing.
        #: (Not saying it keeps an autoincrement key's, as a column written alone
        #: cannot tell "off" from "as before".)
        self.autoincrement_off = False
        if isinstance(column, st.ColumnState):
            self.column = column
        else:
            self.autoincrement_off = getattr(column, "autoincrement", "auto") is False
            self.column, extras = sqla.column_with_extras(table, column)
            if extras.foreign_keys or extras.unique_constraints or extras.indexes:
                raise TypeError(
                    f"AlterField({table!r}, {column.name!r}) changes the column itself; add foreign keys, "
                    "unique constraints and indexes with AddConstraint / AddIndex"
                )
        where = f"AlterField({table!r}, {self.column.name!r})"
        self.fill_value = _check_fill(fill_value, where, column=self.column)
        # reverse_fill fills the column as it was before, which only the state knows
        # (checked against it in state_forwards).
        self.reverse_fill = _check_fill(reverse_fill, where, "reverse_fill")

    def _old(self, state: ProjectState) -> st.ColumnState:
        return state.column(self.table_name, self.column.name, operation=self.describe())

    def state_forwards(self, app: str, state: ProjectState) -> None:
        _check_reverse_fill(self.reverse_fill, self._old(state), self.describe())
        state.alter_column(
            self.table_name,
            self.column,
            operation=self.describe(),
            keep_autoincrement=not self.autoincrement_off,
        )

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        new = to_state.table(self.table_name).column(self.column.name)
        editor.alter_column(table, self._old(from_state), new, to_state, fill_value=self.fill_value)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.alter_column(
            table,
            self._old(from_state),
            self._old(to_state),
            to_state,
            fill_value=self.reverse_fill,
        )

    def describe(self) -> str:
        return f"Alter column {self.column.name} on {self.table_name}"

    def describe_change(self, before: ProjectState) -> str:
        try:
            old = self._old(before)
        except InvalidStateError:
            return self.describe()
        changes = describe_column_change(old, self.column)
        return f"{self.describe()} ({'; '.join(changes)})" if changes else self.describe()

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.table_name}_{self.column.name}"

    def render(self) -> Rendered:
        kwargs = []
        if self.fill_value is not None:
            kwargs.append(("fill_value", _fill_code(self.fill_value)))
        if self.reverse_fill is not None:
            kwargs.append(("reverse_fill", _fill_code(self.reverse_fill)))
        autoincrement: Any = False if self.autoincrement_off else rd.UNSET
        return rd.op_call(
            "AlterField",
            [self.table_name, rd.column(self.column, autoincrement=autoincrement)],
            kwargs,
        )

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, self.column.name)}


def describe_column_change(old: st.ColumnState, new: st.ColumnState) -> list[str]:
    changes = []
    if old.type_code != new.type_code:
        before, after = sqla.type_sql(old.type), sqla.type_sql(new.type)
        if before == after:
            # The generic DDL hides the change (ARRAY -> ARRAY for another element type,
            # VARCHAR(5) -> VARCHAR(5) for a native enum that gained a value, DATETIME ->
            # DATETIME for an Interval's precision): say it as the file writes the types.
            before, after = old.type_code, new.type_code
        changes.append(f"{before} -> {after}")
    if old.nullable != new.nullable:
        changes.append("NULL -> NOT NULL" if not new.nullable else "NOT NULL -> NULL")
    if old.default_code != new.default_code:
        changes.append(f"default {old.default_code or 'none'} -> {new.default_code or 'none'}")
    if old.computed_code != new.computed_code:
        changes.append(f"generated {old.computed_code or 'none'} -> {new.computed_code or 'none'}")
    if old.comment != new.comment:
        changes.append("comment")
    if old.autoincrement != new.autoincrement:
        changes.append("autoincrement" if new.autoincrement else "no autoincrement")
    return changes


class RenameField(Operation):
    symbol = ">"

    def __init__(self, table: str, old_name: str, new_name: str) -> None:
        self.table_name = check_name(table, "RenameField table")
        self.old_name = check_name(old_name, "RenameField old_name")
        self.new_name = check_name(new_name, "RenameField new_name")

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.rename_column(
            self.table_name, self.old_name, self.new_name, operation=self.describe()
        )

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_column(table, table.column(self.old_name), self.new_name, from_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_column(table, table.column(self.new_name), self.old_name, from_state)

    def describe(self) -> str:
        return f"Rename column {self.old_name} on {self.table_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.table_name}_{self.old_name}_{self.new_name}"

    def render(self) -> Rendered:
        return rd.op_call("RenameField", [self.table_name, self.old_name, self.new_name])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, self.old_name), (self.table_name, self.new_name)}
