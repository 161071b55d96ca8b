"""Table-level operations: create, delete, rename, comment, indexes and constraints."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import InvalidStateError
from migrate_core.migrations.operations import render as rd
from migrate_core.migrations.operations.base import Operation
from migrate_core.migrations.operations.base import check_name
from migrate_core.schema import state as st

if TYPE_CHECKING:
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.codegen import Rendered
    from migrate_core.schema.state import ProjectState


def _rename_refs(table: st.TableState, old: str, new: str) -> st.TableState:
    fks = tuple(
        dataclasses.replace(fk, ref_table=new) if fk.ref_table == old else fk
        for fk in table.foreign_keys
    )
    if fks == table.foreign_keys:
        return table
    return dataclasses.replace(table, foreign_keys=fks)


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
        self.table = st.with_default_names(st.table_state(table, ""))

    @classmethod
    def from_state(cls, table: st.TableState) -> CreateModel:
        op = cls.__new__(cls)
        op.name = table.name
        op.table = dataclasses.replace(table, app="")
        return op

    def state_forwards(self, app: str, state: ProjectState) -> None:
        if self.name in state.tables:
            raise InvalidStateError(f"{self.describe()}: table {self.name} already exists")
        state.add_table(dataclasses.replace(self.table, app=app))

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
        inferred = _inferred_autoincrement(table)
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


def _inferred_autoincrement(table: st.TableState) -> str | None:
    """Which column SQLAlchemy would pick as autoincrement if nothing were said."""
    import sqlalchemy as sa

    pk_cols = set(table.primary_key.columns) if table.primary_key else set()
    cols = []
    for col in table.columns:
        c = st.to_column(col, primary_key=col.name in pk_cols)
        c.autoincrement = "auto"
        cols.append(c)
    fks = [st.to_constraint(fk) for fk in table.foreign_keys]
    probe = sa.Table(table.name, sa.MetaData(), *cols, *fks)
    auto = probe.autoincrement_column
    return auto.name if auto is not None else None


class DeleteModel(Operation):
    """Drop a table. Its full definition comes back from the state on rollback."""

    symbol = "-"

    def __init__(self, name: str) -> None:
        self.name = check_name(name, "DeleteModel name")

    def state_forwards(self, app: str, state: ProjectState) -> None:
        state.table(self.name, operation=self.describe())
        for other, fk in state.referencing(self.name):
            raise InvalidStateError(
                f"{self.describe()}: table {other.name} still has foreign key {fk.name or fk.columns} "
                f"pointing at it; remove that constraint first"
            )
        state.remove_table(self.name)

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
        table = state.table(self.old_name, operation=self.describe())
        if self.new_name in state.tables:
            raise InvalidStateError(f"{self.describe()}: table {self.new_name} already exists")
        state.remove_table(self.old_name)
        renamed = _rename_refs(
            dataclasses.replace(table, name=self.new_name), self.old_name, self.new_name
        )
        state.add_table(renamed)
        for other, _fk in state.referencing(self.new_name) + state.referencing(self.old_name):
            state.replace_table(_rename_refs(other, self.old_name, self.new_name))

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
        table = state.table(self.name, operation=self.describe())
        state.replace_table(dataclasses.replace(table, comment=self.comment))

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
        self.index = index if isinstance(index, st.IndexState) else st.index_state(index)
        if self.index.name is None:
            self.index = dataclasses.replace(self.index, name=st.default_name(self.index, table))

    def state_forwards(self, app: str, state: ProjectState) -> None:
        table = state.table(self.table_name, operation=self.describe())
        if table.get_index(self.index.name or "") is not None:
            raise InvalidStateError(f"{self.describe()}: index {self.index.name} already exists")
        _check_columns(table, self.index.columns, self.describe())
        state.replace_table(table.with_index(self.index))

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
        table = state.table(self.table_name, operation=self.describe())
        index = table.get_index(self.name)
        if index is None:
            raise InvalidStateError(
                f"{self.describe()}: there is no index {self.name} on {self.table_name}"
            )
        return index

    def state_forwards(self, app: str, state: ProjectState) -> None:
        self._index(state)
        state.replace_table(state.table(self.table_name).without_index(self.name))

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
        table = state.table(self.table_name, operation=self.describe())
        index = table.get_index(self.old_name)
        if index is None:
            raise InvalidStateError(
                f"{self.describe()}: there is no index {self.old_name} on {self.table_name}"
            )
        state.replace_table(
            table.without_index(self.old_name).with_index(
                dataclasses.replace(index, name=self.new_name)
            )
        )

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_index(table, table.get_index(self.old_name), self.new_name)  # type: ignore[arg-type]

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_index(table, table.get_index(self.new_name), self.old_name)  # type: ignore[arg-type]

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


def _check_columns(table: st.TableState, columns: Iterable[str], what: str) -> None:
    names = set(table.column_names)
    for col in columns:
        if col not in names:
            raise InvalidStateError(f"{what}: table {table.name} has no column {col}")


def _constraint_label(c: st.ConstraintState) -> str:
    if isinstance(c, st.PrimaryKeyState):
        return f"primary key {c.name or ''}({', '.join(c.columns)})".replace(" (", "(")
    if isinstance(c, st.UniqueState):
        return f"unique constraint {c.name} ({', '.join(c.columns)})"
    if isinstance(c, st.CheckState):
        return f"check constraint {c.name} ({c.sqltext})"
    return f"foreign key {c.name} ({', '.join(c.columns)}) -> {c.ref_table}({', '.join(c.ref_columns)})"


def _existing(table: st.TableState, name: str) -> st.ConstraintState:
    constraint = table.get_constraint(name)
    if constraint is None:
        raise InvalidStateError(f"there is no constraint {name} on {table.name}")
    return constraint


class AddConstraint(Operation):
    symbol = "+"

    def __init__(self, table: str, constraint: Any) -> None:
        self.table_name = check_name(table, "AddConstraint table")
        if isinstance(
            constraint, (st.PrimaryKeyState, st.UniqueState, st.CheckState, st.ForeignKeyState)
        ):
            self.constraint: st.ConstraintState = constraint
        else:
            self.constraint = st.constraint_state(constraint)
        if self.constraint.name is None:
            self.constraint = dataclasses.replace(
                self.constraint, name=st.default_name(self.constraint, table)
            )

    def state_forwards(self, app: str, state: ProjectState) -> None:
        table = state.table(self.table_name, operation=self.describe())
        c = self.constraint
        if isinstance(c, st.PrimaryKeyState) and table.primary_key is not None:
            raise InvalidStateError(
                f"{self.describe()}: table {self.table_name} already has a primary key"
            )
        if c.name is not None and table.get_constraint(c.name) is not None:
            raise InvalidStateError(f"{self.describe()}: constraint {c.name} already exists")
        if not isinstance(c, st.CheckState):
            _check_columns(table, c.columns, self.describe())
        if isinstance(c, st.ForeignKeyState) and c.ref_table not in state.tables:
            raise InvalidStateError(f"{self.describe()}: table {c.ref_table} does not exist")
        state.replace_table(table.with_constraint(c))

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
        table = state.table(self.table_name, operation=self.describe())
        c = table.get_constraint(self.name)
        if c is None:
            raise InvalidStateError(
                f"{self.describe()}: there is no constraint {self.name} on {self.table_name}"
            )
        return c

    def state_forwards(self, app: str, state: ProjectState) -> None:
        self._constraint(state)
        state.replace_table(state.table(self.table_name).without_constraint(self.name))

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
        table = state.table(self.table_name, operation=self.describe())
        c = table.get_constraint(self.old_name)
        if c is None:
            raise InvalidStateError(
                f"{self.describe()}: there is no constraint {self.old_name} on {self.table_name}"
            )
        state.replace_table(
            table.without_constraint(self.old_name).with_constraint(
                dataclasses.replace(c, name=self.new_name)
            )
        )

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_constraint(table, _existing(table, self.old_name), self.new_name, to_state)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        table = from_state.table(self.table_name)
        editor.rename_constraint(table, _existing(table, self.new_name), self.old_name, to_state)

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
