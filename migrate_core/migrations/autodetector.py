"""Diff two schema states into the operations that turn one into the other.

No database: the "before" state is what the migration files build, the "after"
state what the models declare. Operations come out in an order every database
accepts, by phases rather than by Django's per-operation dependency solver,
because schema changes have a natural order:

1. renames of tables, then of columns (so the rest compares like with like)
2. drops of foreign keys, then of other constraints and indexes that go or change
3. new tables, referenced before referencing (a foreign key cycle is closed by a later AddConstraint)
4. new columns, then altered columns
5. renames of constraints and indexes whose definition stayed the same
6. new indexes and constraints (foreign keys last), comments
7. dropped columns, then dropped tables, referencing before referenced

Every operation is applied to a working copy of the state as it is emitted, so
each phase compares against the schema as the earlier operations left it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.migrations import operations as ops
from migrate_core.migrations.operations.fields import needs_fill
from migrate_core.migrations.questioner import Questioner
from migrate_core.schema import state as st

if TYPE_CHECKING:
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.graph import MigrationGraph
    from migrate_core.migrations.operations.base import Operation


@dataclass
class AppChanges:
    """The operations for one app, split where a cross-app foreign key cycle demands it."""

    app: str
    operations: list[Operation] = field(default_factory=list)
    # Foreign keys to new tables of other apps, emitted after those apps' migrations.
    deferred: list[Operation] = field(default_factory=list)
    other_apps: set[str] = field(default_factory=set)
    deferred_apps: set[str] = field(default_factory=set)
    # (table, old, new) rename candidates that were not confirmed: data of the old one is lost.
    declined_renames: list[tuple[str | None, str, str]] = field(default_factory=list)


@dataclass
class PlannedMigration:
    app: str
    operations: list[Operation]
    dependencies: list[Key]
    initial: bool = False


def _ignore_names(table: st.TableState) -> tuple[Any, ...]:
    """A table's definition without its name and constraint names: equal tables may be renames."""
    return (
        # By name: a migration appends a new column, the model may declare it anywhere.
        tuple(sorted(table.columns, key=lambda c: c.name)),
        table.primary_key.columns if table.primary_key else None,
        sorted(repr(fk.signature()[1:]) for fk in table.foreign_keys),
        sorted(repr(u.signature()) for u in table.unique_constraints),
        sorted(repr(c.signature()) for c in table.check_constraints),
        sorted(repr(i.signature()) for i in table.indexes),
    )


class Autodetector:
    def __init__(
        self,
        from_state: st.ProjectState,
        to_state: st.ProjectState,
        questioner: Questioner,
        *,
        apps: Iterable[str],
    ) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.questioner = questioner
        self.apps = sorted(set(apps))
        self.current = from_state.clone()
        self.changes: dict[str, AppChanges] = {a: AppChanges(a) for a in self.apps}
        self.created: dict[str, str] = {}  # new table -> app
        # Foreign keys closing a cycle among new tables of one app, added in phase 6.
        self._later_fks: list[tuple[str, Operation]] = []

    # -- emit ------------------------------------------------------------------------------------

    def _emit(self, app: str, op: Operation, *, deferred: bool = False) -> None:
        op.state_forwards(app, self.current)
        target = self.changes[app].deferred if deferred else self.changes[app].operations
        target.append(op)

    def _app_of(self, table: str) -> str | None:
        t = (
            self.to_state.get_table(table)
            or self.current.get_table(table)
            or self.from_state.get_table(table)
        )
        return t.app if t else None

    # -- the run ---------------------------------------------------------------------------------

    def changes_by_app(self) -> dict[str, AppChanges]:
        for app in self.apps:
            self._rename_tables(app)
        for app in self.apps:
            self._rename_columns(app)
        for app in self.apps:
            self._drop_foreign_keys(app)
        for app in self.apps:
            self._drop_constraints_and_indexes(app)
        self._create_tables()
        for app in self.apps:
            self._add_and_alter_columns(app)
        for app in self.apps:
            self._rename_constraints_and_indexes(app)
        for app in self.apps:
            self._add_constraints_and_indexes(app)
        for app in self.apps:
            self._remove_columns(app)
        for app in self.apps:
            self._delete_tables(app)
        for app in self.apps:
            self.changes[app].declined_renames = [
                r
                for r in self.questioner.declined_renames
                if r[0] is None or self._app_of(r[0]) == app
            ]
        return {a: c for a, c in self.changes.items() if c.operations or c.deferred}

    def _old(self, app: str) -> dict[str, st.TableState]:
        return self.current.app_tables(app)

    def _new(self, app: str) -> dict[str, st.TableState]:
        return self.to_state.app_tables(app)

    # 1. renames ---------------------------------------------------------------------------------

    def _rename_tables(self, app: str) -> None:
        old, new = self._old(app), self._new(app)
        removed = [old[n] for n in sorted(set(old) - set(new))]
        added = [new[n] for n in sorted(set(new) - set(old))]
        for gone in removed:
            for candidate in added:
                # A declared rename (--rename, a hint from the diff) holds even if the table
                # changed too; the later phases alter what differs. A guess needs equality.
                hinted = self.questioner.hinted_table(gone.name, candidate.name)
                if not hinted and _ignore_names(_renamed(gone, candidate.name)) != _ignore_names(
                    candidate
                ):
                    continue
                if self.questioner.ask_rename_table(gone, candidate):
                    self._emit(app, ops.RenameModel(gone.name, candidate.name))
                    added.remove(candidate)
                    break

    def _rename_columns(self, app: str) -> None:
        old, new = self._old(app), self._new(app)
        for name in sorted(set(old) & set(new)):
            before, after = old[name], new[name]
            removed = [c for c in before.columns if after.get_column(c.name) is None]
            added = [c for c in after.columns if before.get_column(c.name) is None]
            for gone in removed:
                for candidate in added:
                    hinted = self.questioner.hinted_column(name, gone.name, candidate.name)
                    if not hinted and not gone.same_definition(candidate):
                        continue
                    if self.questioner.ask_rename_column(name, gone, candidate):
                        self._emit(app, ops.RenameField(name, gone.name, candidate.name))
                        added.remove(candidate)
                        break

    # 2. drops of keys, constraints and indexes ---------------------------------------------------

    def _drop_foreign_keys(self, app: str) -> None:
        old, new = self._old(app), self._new(app)
        for name in sorted(set(old) & set(new)):
            wanted = {fk.name: fk for fk in new[name].foreign_keys}
            present = {c.name for c in old[name].constraints() if c.name}
            taken: set[str] = set()
            for fk in old[name].foreign_keys:
                if fk.name is None:
                    continue
                keep = wanted.get(fk.name)
                if keep is not None and keep == fk:
                    continue
                if keep is None:
                    target = _rename_target(fk, new[name].foreign_keys, present, taken)
                    if target is not None:
                        taken.add(target.name)
                        continue  # renamed: phase 5
                self._emit(app, ops.RemoveConstraint(name, fk.name))

    def _drop_constraints_and_indexes(self, app: str) -> None:
        old, new = self._old(app), self._new(app)
        for name in sorted(set(old) & set(new)):
            before, after = self.current.table(name), new[name]
            present = {c.name for c in before.constraints() if c.name}
            taken: set[str] = set()
            for c in [c for c in before.constraints() if not isinstance(c, st.ForeignKeyState)]:
                if c.name is None:
                    continue
                target = after.get_constraint(c.name)
                if target is not None and target == c:
                    continue
                if (
                    isinstance(c, st.PrimaryKeyState)
                    and after.primary_key is not None
                    and after.primary_key.columns == c.columns
                ):
                    continue  # same key under another name: phase 5
                if target is None:
                    twin = _rename_target(c, after.constraints(), present, taken)
                    if twin is not None:
                        taken.add(twin.name)
                        continue  # renamed: phase 5
                self._emit(app, ops.RemoveConstraint(name, c.name))
            present = {i.name for i in before.indexes if i.name}
            taken = set()
            for index in before.indexes:
                if index.name is None:
                    continue
                target_index = after.get_index(index.name)
                if target_index is not None and target_index == index:
                    continue
                if target_index is None:
                    twin_index = _rename_target(index, after.indexes, present, taken)
                    if twin_index is not None:
                        taken.add(twin_index.name)
                        continue  # renamed: phase 5
                self._emit(app, ops.RemoveIndex(name, index.name))

    # 3. new tables ------------------------------------------------------------------------------

    def _create_tables(self) -> None:
        pending: dict[str, st.TableState] = {}
        for app in self.apps:
            old, new = self._old(app), self._new(app)
            for name in sorted(set(new) - set(old)):
                if name in self.current.tables:
                    continue  # taken over from another app; DeleteModel/CreateModel would collide
                pending[name] = new[name]
                self.created[name] = app
        created: set[str] = set()
        while pending:
            ready = [
                n
                for n in sorted(pending)
                if all(ref in created or ref not in pending for ref in pending[n].references())
            ]
            if not ready:
                # A foreign key cycle: create the first table without the keys that point
                # at tables still pending; AddConstraint closes the loop afterwards.
                ready = [sorted(pending)[0]]
            for name in ready:
                table = pending.pop(name)
                self._create_one(table, created, pending)
                created.add(name)

    def _create_one(
        self, table: st.TableState, created: set[str], pending: dict[str, st.TableState]
    ) -> None:
        app = table.app
        inline = []
        later = []
        for fk in table.foreign_keys:
            ref_app = self.created.get(fk.ref_table) or self._app_of(fk.ref_table)
            if fk.ref_table in pending and fk.ref_table != table.name:
                later.append(fk)
            elif ref_app is not None and ref_app != app and fk.ref_table in self.created:
                later.append(fk)  # to another app's new table: may need its own migration
            else:
                inline.append(fk)
        self._emit(
            app, ops.CreateModel.from_state(dataclasses.replace(table, foreign_keys=tuple(inline)))
        )
        for fk in later:
            ref_app = self.created.get(fk.ref_table) or self._app_of(fk.ref_table)
            cross = ref_app is not None and ref_app != app
            op = ops.AddConstraint(table.name, fk)
            if cross:
                self.changes[app].deferred.append(op)
                self.changes[app].deferred_apps.add(ref_app)  # type: ignore[arg-type]
            else:
                self._later_fks.append((app, op))

    # 4. columns ---------------------------------------------------------------------------------

    def _add_and_alter_columns(self, app: str) -> None:
        old, new = self._old(app), self._new(app)
        for name in sorted(set(old) & set(new)):
            if name in self.created:
                continue
            before, after = self.current.table(name), new[name]
            for column in after.columns:
                existing = before.get_column(column.name)
                if existing is None:
                    self._add_column(app, before, after, column)
                elif existing != column:
                    self._alter_column(app, name, existing, column)

    def _add_column(
        self, app: str, before: st.TableState, after: st.TableState, column: st.ColumnState
    ) -> None:
        fill = None
        if needs_fill(column):
            fill = self._fill_value(before.name, column, altering=False)
        # A single-column foreign key of a new column is written into the column itself.
        fks = tuple(
            fk
            for fk in after.foreign_keys
            if fk.columns == (column.name,)
            and before.get_constraint(fk.name or "") is None
            and (
                (
                    (fk.ref_table in self.current.tables or fk.ref_table == before.name)
                    and self._app_of(fk.ref_table) == app
                )
                # a table no app owns (exclude-tables; validation refused any other):
                # never created by a migration, so nothing to wait for
                or fk.ref_table not in self.to_state.tables
            )
        )
        self._emit(app, ops.AddField.from_state(before.name, column, fks, fill_value=fill))

    def _fill_value(self, table: str, column: st.ColumnState, *, altering: bool) -> Any:
        """What fills the rows a NOT NULL column meets: the model's own scalar ``default=``
        (the value its new rows get, so the question is already answered), else asked."""
        if column.python_default is not None:
            return column.python_default
        return self.questioner.ask_fill_value(table, column, altering=altering)

    def _alter_column(self, app: str, table: str, old: st.ColumnState, new: st.ColumnState) -> None:
        fill = None
        if old.nullable and not new.nullable and new.server_default is None:
            fill = self._fill_value(table, new, altering=True)
        op = ops.AlterField(table, new, fill_value=fill)
        op.autoincrement_off = old.autoincrement and not new.autoincrement
        self._emit(app, op)

    # 5. renames of constraints and indexes -------------------------------------------------------

    def _rename_constraints_and_indexes(self, app: str) -> None:
        new = self._new(app)
        for name in sorted(set(self._old(app)) & set(new)):
            if name in self.created:
                continue
            before, after = self.current.table(name), new[name]
            present = {c.name for c in before.constraints() if c.name}
            taken: set[str] = set()
            for c in list(before.constraints()):
                if c.name is None or after.get_constraint(c.name) is not None:
                    continue
                twin = _rename_target(c, after.constraints(), present, taken)
                if twin is not None:
                    taken.add(twin.name)
                    self._emit(app, ops.RenameConstraint(name, c.name, twin.name))
                else:
                    # Phase 2 kept it for a rename that an earlier one here took instead.
                    self._emit(app, ops.RemoveConstraint(name, c.name))
            before = self.current.table(name)
            present = {i.name for i in before.indexes if i.name}
            taken = set()
            for index in list(before.indexes):
                if index.name is None or after.get_index(index.name) is not None:
                    continue
                twin_index = _rename_target(index, after.indexes, present, taken)
                if twin_index is not None:
                    taken.add(twin_index.name)
                    self._emit(app, ops.RenameIndex(name, index.name, twin_index.name))
                else:
                    self._emit(app, ops.RemoveIndex(name, index.name))

    # 6. new constraints and indexes, comments ----------------------------------------------------

    def _add_constraints_and_indexes(self, app: str) -> None:
        new = self._new(app)
        for fk_app, op in [x for x in self._later_fks if x[0] == app]:
            self._emit(fk_app, op)
        for name in sorted(set(self._old(app)) & set(new)):
            before, after = self.current.table(name), new[name]
            if name not in self.created:
                for index in after.indexes:
                    if before.get_index(index.name or "") is None and not _has_same(
                        index, before.indexes
                    ):
                        self._emit(app, ops.AddIndex(name, index))
                fks = []
                for c in after.constraints():
                    present = before.get_constraint(c.name) if c.name else None
                    if present is not None or _has_same(c, before.constraints()):
                        continue
                    if isinstance(c, st.PrimaryKeyState) and before.primary_key is not None:
                        continue
                    if isinstance(c, st.ForeignKeyState):
                        fks.append(c)
                    else:
                        self._emit(app, ops.AddConstraint(name, c))
                for fk in fks:
                    ref_app = self._app_of(fk.ref_table)
                    op = ops.AddConstraint(name, fk)
                    if ref_app != app and fk.ref_table in self.created:
                        self.changes[app].deferred.append(op)
                        self.changes[app].deferred_apps.add(ref_app)  # type: ignore[arg-type]
                    else:
                        self._emit(app, op)
                if after.comment != before.comment:
                    self._emit(app, ops.AlterModelComment(name, after.comment))

    # 7. drops of columns and tables --------------------------------------------------------------

    def _remove_columns(self, app: str) -> None:
        new = self._new(app)
        for name in sorted(set(self._old(app)) & set(new)):
            before, after = self.current.table(name), new[name]
            for column in before.columns:
                if after.get_column(column.name) is None:
                    # The rollback adds the column back to the rows; NOT NULL with
                    # nothing to fill them fails there, so ask now (an autoincrement
                    # column numbers the rows itself).
                    reverse = None
                    if needs_fill(column) and not column.autoincrement:
                        reverse = self.questioner.ask_reverse_fill_value(name, column)
                    self._emit(app, ops.RemoveField(name, column.name, reverse_fill=reverse))

    def _delete_tables(self, app: str) -> None:
        gone = {n for n in self._old(app) if n not in self.to_state.tables}

        def pointed_at(name: str) -> bool:
            # The current state, not the old one: keys cut below must stop counting.
            return any(
                other != name and name in self.current.table(other).references() for other in gone
            )

        while gone:
            # Drop a table only when no remaining table points at it.
            ready = [n for n in sorted(gone) if not pointed_at(n)]
            if not ready:
                # A cycle among dropped tables: cut the keys of one table that points at
                # another one; each round removes at least one key, so this ends.
                cut = False
                for name in sorted(gone):
                    for fk in self.current.table(name).foreign_keys:
                        if fk.ref_table in gone and fk.ref_table != name and fk.name:
                            self._emit(app, ops.RemoveConstraint(name, fk.name))
                            cut = True
                    if cut:
                        break
                if not cut:
                    ready = sorted(gone)  # unnamed keys cannot be dropped alone; drop the tables
                else:
                    continue
            for name in ready:
                gone.discard(name)
                for other, fk in self.current.referencing(name):
                    if fk.name:
                        self._emit(other.app, ops.RemoveConstraint(other.name, fk.name))
                self._emit(app, ops.DeleteModel(name))


def _renamed(table: st.TableState, name: str) -> st.TableState:
    return dataclasses.replace(table, name=name)


def _strip_name(item: Any) -> Any:
    return dataclasses.replace(item, name=None)


def _has_same(item: Any, others: Iterable[Any]) -> bool:
    """An equal definition without a name is there (hand-written migrations may leave names out).

    A named one with the same definition does not count: it is another index or
    constraint that the models keep too (two indexes on the same columns are legal).
    """
    stripped = _strip_name(item)
    return any(o.name is None and type(o) is type(item) and o == stripped for o in others)


def _rename_target(item: Any, after: Iterable[Any], present: set[str], taken: set[str]) -> Any:
    """The new item that ``item`` becomes by a rename alone, if any.

    Same definition, another name, a name no existing item has (that one is kept
    or changed in place) and that no other item was renamed to already.
    """
    stripped = _strip_name(item)
    for other in after:
        if (
            type(other) is type(item)
            and other.name
            and other.name != item.name
            and other.name not in present
            and other.name not in taken
            and _strip_name(other) == stripped
        ):
            return other
    return None


def detect_changes(
    from_state: st.ProjectState,
    to_state: st.ProjectState,
    questioner: Questioner,
    *,
    apps: Iterable[str],
    graph: MigrationGraph | None = None,
) -> dict[str, list[PlannedMigration]]:
    """Operations per app, grouped into migrations with their dependencies."""
    detector = Autodetector(from_state, to_state, questioner, apps=apps)
    by_app = detector.changes_by_app()
    return arrange(by_app, detector, graph)


def arrange(
    by_app: dict[str, AppChanges], detector: Autodetector, graph: MigrationGraph | None
) -> dict[str, list[PlannedMigration]]:
    """Group each app's operations into migrations and work out their dependencies.

    A foreign key to a table another app creates in this same run goes into the
    referencing app's migration when that needs no loop between the two apps;
    otherwise it gets a second migration of its own, after the other app's.
    """
    # Which app's first migration must come before which.
    needs: dict[str, set[str]] = {app: set() for app in by_app}
    for app, changes in by_app.items():
        for other in changes.deferred_apps:
            if other in by_app and other != app:
                needs[app].add(other)
        for op in changes.operations:
            for ref in _referenced_tables(op):
                ref_app = detector._app_of(ref)
                if ref_app and ref_app != app and ref_app in by_app and ref in detector.created:
                    needs[app].add(ref_app)
        # Dropping a table or column that another app's foreign key pointed at: that app's
        # migration drops the key, so it must run first (and be undone last).
        for op in [*changes.operations, *changes.deferred]:
            for table, column in _released(op):
                for other in by_app:
                    if other != app and _referenced_by(detector.from_state, other, table, column):
                        needs[app].add(other)
    order, cut = _order_apps(needs)
    result: dict[str, list[PlannedMigration]] = {}
    for app in order:
        changes = by_app[app]
        deps = _base_dependencies(app, changes, detector, graph, result)
        for other in sorted(needs[app] - cut.get(app, set())):
            deps.add(("__new__", other))
        main_ops = list(changes.operations)
        split = bool(cut.get(app)) and bool(changes.deferred)
        if not split:
            main_ops += changes.deferred
        migrations = []
        if main_ops:
            migrations.append(PlannedMigration(app, main_ops, sorted(deps)))
        if split:
            second_deps = {("__self__", app)} | {("__new__", o) for o in cut[app]}
            migrations.append(PlannedMigration(app, list(changes.deferred), sorted(second_deps)))
        result[app] = migrations
    return result


def _referenced_tables(op: Operation) -> set[str]:
    if isinstance(op, ops.CreateModel):
        return op.table.references()
    if isinstance(op, ops.AddConstraint) and isinstance(op.constraint, st.ForeignKeyState):
        return {op.constraint.ref_table}
    if isinstance(op, ops.AddField):
        return {fk.ref_table for fk in op.foreign_keys}
    return set()


def _released(op: Operation) -> set[tuple[str, str | None]]:
    """(table, column or None for the whole table) that ``op`` drops."""
    if isinstance(op, ops.DeleteModel):
        return {(op.name, None)}
    if isinstance(op, ops.RemoveField):
        return {(op.table_name, op.name)}
    return set()


def _referenced_by(state: st.ProjectState, app: str, table: str, column: str | None) -> bool:
    """Whether a table of ``app`` had a foreign key to ``table`` (to ``column`` if given)."""
    return any(
        fk.ref_table == table and (column is None or column in fk.ref_columns)
        for t in state.app_tables(app).values()
        for fk in t.foreign_keys
    )


def _order_apps(needs: dict[str, set[str]]) -> tuple[list[str], dict[str, set[str]]]:
    """Apps in dependency order; edges that would close a loop are returned as ``cut``."""
    order: list[str] = []
    state: dict[str, int] = {}
    cut: dict[str, set[str]] = {}

    def visit(app: str) -> None:
        stack = [(app, sorted(needs[app], reverse=True))]
        state[app] = 1
        while stack:
            node, pending = stack[-1]
            if pending:
                nxt = pending.pop()
                if state.get(nxt) == 1:
                    cut.setdefault(node, set()).add(nxt)
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, sorted(needs[nxt], reverse=True)))
            else:
                state[node] = 2
                order.append(node)
                stack.pop()

    for app in sorted(needs):
        if app not in state:
            visit(app)
    return order, cut


def _base_dependencies(
    app: str,
    changes: AppChanges,
    detector: Autodetector,
    graph: MigrationGraph | None,
    planned: dict[str, list[PlannedMigration]],
) -> set[Any]:
    """The app's own leaf, and the leaf of every other app whose existing tables are referenced."""
    deps: set[Any] = set()
    if graph is not None:
        leaves = graph.leaf_nodes(app)
        deps.update(leaves)
    for op in [*changes.operations, *changes.deferred]:
        for ref in _referenced_tables(op):
            other = detector._app_of(ref)
            if other is None or other == app or ref in detector.created:
                continue
            if graph is not None:
                deps.update(graph.leaf_nodes(other))
    return deps
