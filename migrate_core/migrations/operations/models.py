"""Table-level operations: create, delete, rename, comment, indexes and constraints."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.migrations.operations import render as rd
from migrate_core.migrations.operations.base import Operation
from migrate_core.migrations.operations.base import check_name
from migrate_core.schema import naming
from migrate_core.schema import sqla
from migrate_core.schema import state as st

if TYPE_CHECKING:
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.codegen import Rendered
    from migrate_core.schema.state import ProjectState


class CreateModel(Operation):
    """Create a table with its columns, keys, constraints and indexes."""

    symbol = "+"

    def __init__(
        self,
        name: str,
        columns: Sequence[Any] = (),
        constraints: Sequence[Any] = (),
        indexes: Sequence[Any] = (),
        comment: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        import sqlalchemy as sa

        self.name = check_name(name, "CreateModel name")
        table = sa.Table(
            name,
            sa.MetaData(),
            *columns,
            *constraints,
            *indexes,
            comment=comment,
            **(options or {}),
        )
        self.table = naming.with_default_names(sqla.table_state(table, ""))

    @classmethod
    def from_state(cls, table: st.TableState) -> CreateModel:
        op = cls.__new__(cls)
        op.name = table.name
        op.table = dataclasses.replace(table, app="")
        return op

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.create_table(dataclasses.replace(self.table, app=app), operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.create_table(to_state.table(self.name), to_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_table(from_state.table(self.name), to_state)

    def describe(self) -> str:
        return f"Create table {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"create_{self.name}"

    def render(self) -> Rendered:
        table = self.table
        pk_cols = set(table.primary_key.columns) if table.primary_key else set()
        inferred = sqla.inferred_autoincrement(table)
        columns = []
        for col in table.columns:
            auto = None
            if col.name in pk_cols and col.autoincrement != (col.name == inferred):
                auto = col.autoincrement
            columns.append(rd.column(col, autoincrement=auto))
        constraints = [rd.constraint(c) for c in table.constraints()]
        kwargs: list[tuple[str, Any]] = [("columns", rd.list_of(columns))]
        if constraints:
            kwargs.append(("constraints", rd.list_of(constraints)))
        if table.indexes:
            kwargs.append(("indexes", rd.list_of(rd.index(i) for i in table.indexes)))
        kwargs.append(("comment", table.comment))
        if table.options:
            kwargs.append(("options", rd.options(table.options)))
        return rd.op_call("CreateModel", [self.name], kwargs)

    def tables(self) -> set[str]:
        return {self.name}


class DeleteModel(Operation):
    """Drop a table. Its full definition comes back from the state on rollback."""

    symbol = "-"

    def __init__(self, name: str) -> None:
        self.name = check_name(name, "DeleteModel name")

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.remove_table(self.name, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_table(from_state.table(self.name), to_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.create_table(to_state.table(self.name), to_state)

    def describe(self) -> str:
        return f"Delete table {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"delete_{self.name}"

    def render(self) -> Rendered:
        return rd.op_call("DeleteModel", [self.name])

    def tables(self) -> set[str]:
        return {self.name}


class RenameModel(Operation):
    symbol = ">"

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name = check_name(old_name, "RenameModel old_name")
        self.new_name = check_name(new_name, "RenameModel new_name")

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.rename_table(self.old_name, self.new_name, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.rename_table(self.old_name, self.new_name, to_state.table(self.new_name))

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.rename_table(self.new_name, self.old_name, to_state.table(self.old_name))

    def describe(self) -> str:
        return f"Rename table {self.old_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name}_{self.new_name}"

    def render(self) -> Rendered:
        return rd.op_call("RenameModel", [self.old_name, self.new_name])

    def tables(self) -> set[str]:
        return {self.old_name, self.new_name}


class AlterModelComment(Operation):
    def __init__(self, name: str, comment: str | None) -> None:
        self.name = check_name(name, "AlterModelComment name")
        self.comment = comment

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.alter_table_comment(self.name, self.comment, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.alter_table_comment(from_state.table(self.name), self.comment)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.alter_table_comment(from_state.table(self.name), to_state.table(self.name).comment)

    def describe(self) -> str:
        return f"Alter comment on table {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name}_comment"

    def render(self) -> Rendered:
        return rd.op_call("AlterModelComment", [self.name, rd._as_rendered(self.comment)])

    def tables(self) -> set[str]:
        return {self.name}


# -- indexes ---------------------------------------------------------------------------------------


class AddIndex(Operation):
    symbol = "+"

    def __init__(self, table: str, index: Any) -> None:
        self.table_name = check_name(table, "AddIndex table")
        self.index = index if isinstance(index, st.IndexState) else sqla.index_state(index)
        if self.index.name is None:
            self.index = dataclasses.replace(
                self.index, name=naming.default_name(self.index, table)
            )

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.add_index(self.table_name, self.index, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.create_index(to_state.table(self.table_name), self.index)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_index(from_state.table(self.table_name), self.index)

    def describe(self) -> str:
        unique = "unique " if self.index.unique else ""
        return f"Create {unique}index {self.index.name} on {self.table_name}({', '.join(self.index.elements)})"

    @property
    def migration_name_fragment(self) -> str:
        return f"add_{self.index.name}"

    def render(self) -> Rendered:
        return rd.op_call("AddIndex", [self.table_name, rd.index(self.index)])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, c) for c in self.index.columns} | {
            (self.table_name, f"index {self.index.name}")
        }


class RemoveIndex(Operation):
    symbol = "-"

    def __init__(self, table: str, name: str) -> None:
        self.table_name = check_name(table, "RemoveIndex table")
        self.name = check_name(name, "RemoveIndex name")

    def _index(self, state: ProjectState) -> st.IndexState:
        return state.index(self.table_name, self.name, operation=self.describe())

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.remove_index(self.table_name, self.name, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_index(from_state.table(self.table_name), self._index(from_state))

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.create_index(to_state.table(self.table_name), self._index(to_state))

    def describe(self) -> str:
        return f"Remove index {self.name} from {self.table_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.name}"

    def render(self) -> Rendered:
        return rd.op_call("RemoveIndex", [self.table_name, self.name])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, f"index {self.name}")}


class RenameIndex(Operation):
    symbol = ">"

    def __init__(self, table: str, old_name: str, new_name: str) -> None:
        self.table_name = check_name(table, "RenameIndex table")
        self.old_name = check_name(old_name, "RenameIndex old_name")
        self.new_name = check_name(new_name, "RenameIndex new_name")

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.rename_index(self.table_name, self.old_name, self.new_name, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_index(table, from_state.index(self.table_name, self.old_name), self.new_name)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_index(table, from_state.index(self.table_name, self.new_name), self.old_name)

    def describe(self) -> str:
        return f"Rename index {self.old_name} on {self.table_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name}_{self.new_name}"

    def render(self) -> Rendered:
        return rd.op_call("RenameIndex", [self.table_name, self.old_name, self.new_name])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {
            (self.table_name, f"index {self.old_name}"),
            (self.table_name, f"index {self.new_name}"),
        }


# -- constraints -----------------------------------------------------------------------------------


def _constraint_label(c: st.ConstraintState) -> str:
    if isinstance(c, st.PrimaryKeyState):
        return f"primary key {c.name or ''}({', '.join(c.columns)})".replace(" (", "(")
    if isinstance(c, st.UniqueState):
        return f"unique constraint {c.name} ({', '.join(c.columns)})"
    if isinstance(c, st.CheckState):
        return f"check constraint {c.name} ({c.sqltext})"
    return f"foreign key {c.name} ({', '.join(c.columns)}) -> {c.ref_table}({', '.join(c.ref_columns)})"


class AddConstraint(Operation):
    symbol = "+"

    def __init__(self, table: str, constraint: Any) -> None:
        self.table_name = check_name(table, "AddConstraint table")
        if isinstance(
            constraint, (st.PrimaryKeyState, st.UniqueState, st.CheckState, st.ForeignKeyState)
        ):
            self.constraint: st.ConstraintState = constraint
        else:
            self.constraint = sqla.constraint_state(constraint)
        if self.constraint.name is None:
            self.constraint = dataclasses.replace(
                self.constraint, name=naming.default_name(self.constraint, table)
            )

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.add_constraint(self.table_name, self.constraint, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_constraint(from_state.table(self.table_name), self.constraint, to_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_constraint(from_state.table(self.table_name), self.constraint, to_state)

    def describe(self) -> str:
        return f"Add {_constraint_label(self.constraint)} to {self.table_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"add_{self.constraint.name or self.constraint.kind}"

    def render(self) -> Rendered:
        return rd.op_call("AddConstraint", [self.table_name, rd.constraint(self.constraint)])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        cols = () if isinstance(self.constraint, st.CheckState) else self.constraint.columns
        return {(self.table_name, c) for c in cols} | {
            (self.table_name, f"constraint {self.constraint.name}")
        }


class RemoveConstraint(Operation):
    symbol = "-"

    def __init__(self, table: str, name: str) -> None:
        self.table_name = check_name(table, "RemoveConstraint table")
        self.name = check_name(name, "RemoveConstraint name")

    def _constraint(self, state: ProjectState) -> st.ConstraintState:
        return state.constraint(self.table_name, self.name, operation=self.describe())

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.remove_constraint(self.table_name, self.name, operation=self.describe())

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.drop_constraint(
            from_state.table(self.table_name), self._constraint(from_state), to_state
        )

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_constraint(
            from_state.table(self.table_name), self._constraint(to_state), to_state
        )

    def describe(self) -> str:
        return f"Remove constraint {self.name} from {self.table_name}"

    def describe_change(self, before: ProjectState) -> str:
        table = before.get_table(self.table_name)
        c = table.get_constraint(self.name) if table else None
        return f"Remove {_constraint_label(c)} from {self.table_name}" if c else self.describe()

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.name}"

    def render(self) -> Rendered:
        return rd.op_call("RemoveConstraint", [self.table_name, self.name])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {(self.table_name, f"constraint {self.name}")}


class RenameConstraint(Operation):
    symbol = ">"

    def __init__(self, table: str, old_name: str, new_name: str) -> None:
        self.table_name = check_name(table, "RenameConstraint table")
        self.old_name = check_name(old_name, "RenameConstraint old_name")
        self.new_name = check_name(new_name, "RenameConstraint new_name")

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.rename_constraint(
            self.table_name, self.old_name, self.new_name, operation=self.describe()
        )

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        old = from_state.constraint(self.table_name, self.old_name)
        editor.rename_constraint(table, old, self.new_name, to_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        new = from_state.constraint(self.table_name, self.new_name)
        editor.rename_constraint(table, new, self.old_name, to_state)

    def describe(self) -> str:
        return f"Rename constraint {self.old_name} on {self.table_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name}_{self.new_name}"

    def render(self) -> Rendered:
        return rd.op_call("RenameConstraint", [self.table_name, self.old_name, self.new_name])

    def tables(self) -> set[str]:
        return {self.table_name}

    def touches(self) -> set[tuple[str, str | None]]:
        return {
            (self.table_name, f"constraint {self.old_name}"),
            (self.table_name, f"constraint {self.new_name}"),
        }
