"""Column-level operations: add, remove, alter, rename."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import InvalidStateError
from migrate_core.migrations.operations import render as rd
from migrate_core.migrations.operations.base import Operation
from migrate_core.migrations.operations.base import check_name
from migrate_core.schema import codegen as sz
from migrate_core.schema import state as st

if TYPE_CHECKING:
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.codegen import Rendered
    from migrate_core.schema.state import ProjectState


def _fill_code(value: Any) -> Rendered:
    return sz.render_value(value)


def _check_fill(value: Any, where: str) -> Any:
    from sqlalchemy.sql.elements import TextClause

    if value is None or isinstance(value, (str, int, float, bool, TextClause)):
        return value
    raise TypeError(
        f"{where}: fill_value must be a str, int, float, bool or sa.text(...), got {value!r}"
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
            self.column, self.extras = st.column_with_extras(table, column)
            self.foreign_keys = self.extras.foreign_keys
        self.fill_value = _check_fill(fill_value, f"AddField({table!r}, {self.column.name!r})")

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
        table = state.table(self.table_name, operation=self.describe())
        if table.get_column(self.column.name) is not None:
            raise InvalidStateError(
                f"{self.describe()}: column {self.table_name}.{self.column.name} already exists"
            )
        table = table.with_column(self.column)
        for fk in self.foreign_keys:
            table = table.with_constraint(fk)
        if self.extras is not None:
            for unique in self.extras.unique_constraints:
                table = table.with_constraint(unique)
            for index in self.extras.indexes:
                table = table.with_index(index)
        state.replace_table(table)

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
    """Drop a column. Its definition, and the indexes and keys on it, come back on rollback."""

    symbol = "-"

    def __init__(self, table: str, name: str) -> None:
        self.table_name = check_name(table, "RemoveField table")
        self.name = check_name(name, "RemoveField name")

    def _column(self, state: ProjectState) -> st.ColumnState:
        table = state.table(self.table_name, operation=self.describe())
        column = table.get_column(self.name)
        if column is None:
            raise InvalidStateError(
                f"{self.describe()}: table {self.table_name} has no column {self.name}"
            )
        return column

    def state_forwards(self, app: str, state: ProjectState) -> None:
        self._column(state)
        table = state.table(self.table_name)
        for other, fk in state.referencing(self.table_name):
            if self.name in fk.ref_columns:
                raise InvalidStateError(
                    f"{self.describe()}: foreign key {fk.name} on {other.name} points at this column; "
                    "remove that constraint first"
                )
        state.replace_table(st.drop_column_from(table, self.name))

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
        editor.add_column(without, with_col, column, to_state)
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
        return rd.op_call("RemoveField", [self.table_name, self.name])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, self.name)}


class AlterField(Operation):
    """Change a column's type, nullability, server default or comment.

    The column is given whole, as it should be afterwards; the state knows how it
    was before, so the change runs backwards without being written twice.
    """

    symbol = "~"

    def __init__(self, table: str, column: Any, fill_value: Any = None) -> None:
        self.table_name = check_name(table, "AlterField table")
        if isinstance(column, st.ColumnState):
            self.column = column
        else:
            self.column, extras = st.column_with_extras(table, column)
            if extras.foreign_keys or extras.unique_constraints or extras.indexes:
                raise TypeError(
                    f"AlterField({table!r}, {column.name!r}) changes the column itself; add foreign keys, "
                    "unique constraints and indexes with AddConstraint / AddIndex"
                )
        self.fill_value = _check_fill(fill_value, f"AlterField({table!r}, {self.column.name!r})")

    def _old(self, state: ProjectState) -> st.ColumnState:
        table = state.table(self.table_name, operation=self.describe())
        column = table.get_column(self.column.name)
        if column is None:
            raise InvalidStateError(
                f"{self.describe()}: table {self.table_name} has no column {self.column.name}"
            )
        return column

    def state_forwards(self, app: str, state: ProjectState) -> None:
        old = self._old(state)
        table = state.table(self.table_name)
        new = self.column
        if table.primary_key and new.name in table.primary_key.columns:
            new = dataclasses.replace(
                new, nullable=False, autoincrement=new.autoincrement or old.autoincrement
            )
        state.replace_table(table.replace_column(old.name, new))

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
        editor.alter_column(table, self._old(from_state), self._old(to_state), to_state)

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
        return rd.op_call("AlterField", [self.table_name, rd.column(self.column)], kwargs)

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, self.column.name)}


def describe_column_change(old: st.ColumnState, new: st.ColumnState) -> list[str]:
    changes = []
    if old.type_code != new.type_code:
        changes.append(f"{st.type_sql(old.type)} -> {st.type_sql(new.type)}")
    if old.nullable != new.nullable:
        changes.append("NULL -> NOT NULL" if not new.nullable else "NOT NULL -> NULL")
    if old.default_code != new.default_code:
        changes.append(f"default {old.default_code or 'none'} -> {new.default_code or 'none'}")
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
        table = state.table(self.table_name, operation=self.describe())
        column = table.get_column(self.old_name)
        if column is None:
            raise InvalidStateError(
                f"{self.describe()}: table {self.table_name} has no column {self.old_name}"
            )
        if table.get_column(self.new_name) is not None:
            raise InvalidStateError(
                f"{self.describe()}: column {self.table_name}.{self.new_name} already exists"
            )
        state.replace_table(st.rename_column_in(table, self.old_name, self.new_name))
        for other, _fk in state.referencing(self.table_name):
            fks = tuple(
                dataclasses.replace(
                    fk,
                    ref_columns=tuple(
                        self.new_name if c == self.old_name else c for c in fk.ref_columns
                    ),
                )
                if fk.ref_table == self.table_name
                else fk
                for fk in other.foreign_keys
            )
            state.replace_table(dataclasses.replace(other, foreign_keys=fks))

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
