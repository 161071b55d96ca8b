"""The destructive check: migrations new on this branch that destroy data or fail on rows.

One rule per kind of loss, each a function of the operation and the state before
it, returning what is lost (or None): dropping a column (MC101) or a table (MC102),
narrowing a type (MC103), adding a NOT NULL column without a default (MC104),
making a column NOT NULL without a default (MC105). Each is a warning naming the
file, the line and what is lost; a migration that means it says so with
``accept = ("MC101",)``. Only migrations new since the base branch are looked at:
the old ones ran already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from migrate_core.checks.base import Check
from migrate_core.checks.findings import WARNING
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import GIT
from migrate_core.checks.resources import STATE
from migrate_core.migrations.operations.fields import AddField
from migrate_core.migrations.operations.fields import AlterField
from migrate_core.migrations.operations.fields import RemoveField
from migrate_core.migrations.operations.models import DeleteModel
from migrate_core.schema import sqla
from migrate_core.schema import state as st
from migrate_core.schema.state import ProjectState

if TYPE_CHECKING:
    from migrate_core.checks.resources import Resources
    from migrate_core.migrations.operations.base import Operation

DROPS_COLUMN = Rule("MC101", "drops a column", WARNING)
DROPS_TABLE = Rule("MC102", "drops a table", WARNING)
NARROWS_TYPE = Rule("MC103", "narrows a column's type", WARNING)
ADDS_NOT_NULL = Rule("MC104", "adds a NOT NULL column without a default", WARNING)
MAKES_NOT_NULL = Rule("MC105", "makes a column NOT NULL without a default", WARNING)


def drops_column(op: Operation, before: ProjectState) -> str | None:
    if isinstance(op, RemoveField):
        return f"drops column {op.table_name}.{op.name} (its data is lost)"
    return None


def drops_table(op: Operation, before: ProjectState) -> str | None:
    if isinstance(op, DeleteModel):
        return f"drops table {op.name} (all its rows are lost)"
    return None


def adds_not_null(op: Operation, before: ProjectState) -> str | None:
    if (
        isinstance(op, AddField)
        and not op.column.nullable
        and op.column.server_default is None
        and op.fill_value is None
    ):
        return (
            f"adds NOT NULL column {op.table_name}.{op.column.name} without a default: "
            "fails on a table that has rows"
        )
    return None


def _altered(op: Operation, before: ProjectState) -> tuple[st.ColumnState, st.ColumnState] | None:
    """(old, new) column of an AlterField, when the state before knows the column."""
    if not isinstance(op, AlterField):
        return None
    table = before.tables.get(op.table_name)
    old = table.get_column(op.column.name) if table is not None else None
    return (old, op.column) if old is not None else None


def narrows_type(op: Operation, before: ProjectState) -> str | None:
    columns = _altered(op, before)
    if columns is None:
        return None
    narrowing = narrowing_change(*columns)
    if narrowing is None:
        return None
    assert isinstance(op, AlterField)
    return (
        f"narrows column {op.table_name}.{op.column.name} ({narrowing}): "
        "values that do not fit are cut or rejected"
    )


def makes_not_null(op: Operation, before: ProjectState) -> str | None:
    columns = _altered(op, before)
    if columns is None:
        return None
    old, new = columns
    assert isinstance(op, AlterField)
    # A narrowing says more about the same line; one warning per change is enough.
    if narrowing_change(old, new) is None and (
        old.nullable and not new.nullable and new.server_default is None and op.fill_value is None
    ):
        return (
            f"makes column {op.table_name}.{new.name} NOT NULL without a default: "
            "fails if any row holds NULL"
        )
    return None


_SIZE_ATTRS = ("length", "precision", "scale")


def narrowing_change(old: st.ColumnState, new: st.ColumnState) -> str | None:
    """How a type change can lose data, or ``None`` when it only widens or keeps the type."""
    if old.type_code == new.type_code:
        return None
    old_t, new_t = old.type, new.type
    old_sql, new_sql = sqla.type_sql(old_t), sqla.type_sql(new_t)
    if type(old_t) is type(new_t) or old_t._type_affinity is new_t._type_affinity:
        for attr in _SIZE_ATTRS:
            a, b = getattr(old_t, attr, None), getattr(new_t, attr, None)
            if a is None and b is not None:
                return f"{old_sql} -> {new_sql}"
            if isinstance(a, int) and isinstance(b, int) and b < a:
                return f"{old_sql} -> {new_sql}"
        old_enums = getattr(old_t, "enums", None)
        new_enums = getattr(new_t, "enums", None)
        if old_enums is not None and new_enums is not None:
            lost = [v for v in old_enums if v not in new_enums]
            if lost:
                return f"enum values {', '.join(lost)} removed"
        return None
    return f"{old_sql} -> {new_sql}"


#: Every rule with its function, in the order their findings are listed for one operation.
RULES: tuple[tuple[Rule, Callable[[Operation, ProjectState], str | None]], ...] = (
    (ADDS_NOT_NULL, adds_not_null),
    (NARROWS_TYPE, narrows_type),
    (MAKES_NOT_NULL, makes_not_null),
    (DROPS_COLUMN, drops_column),
    (DROPS_TABLE, drops_table),
)


class DestructiveCheck(Check):
    name = "destructive"
    title = "destructive"
    needs = (STATE, GIT)
    skip_reasons = {GIT: "no base branch to tell new migrations from old"}
    codes = (DROPS_COLUMN, DROPS_TABLE, NARROWS_TYPE, ADDS_NOT_NULL, MAKES_NOT_NULL)

    def run(self, resources: Resources) -> CheckResult:
        result = CheckResult(self.name)
        new = resources.base.new_migrations or set()
        loader = resources.loader
        state = ProjectState()
        looked = 0
        for key in loader.graph.full_plan():
            migration = loader.migration(key)
            if key not in new or not resources.in_scope(key):
                migration.mutate_state(state, copy=False)
                continue
            looked += 1
            for step in migration.steps(state):
                for rule, lost in RULES:
                    message = lost(step.operation, step.before)
                    if message:
                        result.findings.append(
                            resources.finding(rule.code, message, key=key, op_index=step.index)
                        )
                state = step.after
        if not result.problems:
            result.summary = (
                f"{looked} new migration{'s' if looked != 1 else ''}, nothing destructive"
            )
        return result
