"""makemigrations: write the migrations that bring the files' state to the models'."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import ConflictError
from migrate_core.errors import MigrateCoreError
from migrate_core.migrations import writer
from migrate_core.migrations.autodetector import PlannedMigration
from migrate_core.migrations.autodetector import detect_changes
from migrate_core.migrations.graph import Key
from migrate_core.migrations.graph import conflict_message
from migrate_core.migrations.loader import MigrationLoader

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.migrations.operations.base import Operation
    from migrate_core.migrations.questioner import Questioner
    from migrate_core.schema.state import ProjectState


@dataclass
class NewMigration:
    app: str
    name: str
    path: Path
    operations: list[Operation]
    dependencies: list[Key]
    content: str
    descriptions: list[str] = field(default_factory=list)
    #: Per operation, what a person should know beyond its description ("" for most):
    #: a dropped column or table that may have been a rename the questioner was not told of.
    notes: list[str] = field(default_factory=list)
    merge: bool = False


@dataclass
class MakeResult:
    migrations: list[NewMigration] = field(default_factory=list)
    # (table or None, old, new) rename candidates that were not confirmed.
    declined_renames: list[tuple[str | None, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.migrations)


def describe(op: Operation, before: ProjectState) -> str:
    return f"{op.symbol} {op.describe_change(before)}"


def _describe_all(
    app: str, name: str, operations: list[Operation], state: ProjectState
) -> tuple[list[str], ProjectState]:
    """Each operation described with the state before it (the old type of an altered
    column, say), through the walk migrate runs; and the state after them all."""
    from migrate_core.migrations.migration import Migration

    descriptions = []
    for step in Migration(name, app, operations=operations).steps(state):
        descriptions.append(describe(step.operation, step.before))
        state = step.after
    return descriptions, state


def make_migrations(
    config: Config,
    app_names: list[str] | None,
    questioner: Questioner,
    *,
    name: str | None = None,
    empty: bool = False,
    now: dt.datetime | None = None,
    models_root: Path | None = None,
) -> MakeResult:
    """Plan the new migration files (nothing is written; see :func:`write`).

    ``models_root`` imports the models from another copy of the project (the
    commit hook's copy of the staged files); migrations always come from disk.
    """
    from migrate_core.db import creatable

    # A migration that imports a project module (a custom type) must get the same copy
    # of the project the models come from.
    loader = MigrationLoader(config, import_root=models_root)
    selected = config.select_apps(app_names)
    conflicts = {
        a: leaves
        for a, leaves in loader.graph.conflicts().items()
        if a in {s.name for s in selected}
    }
    if conflicts:
        raise ConflictError(conflict_message(conflicts))
    result = MakeResult()
    from_state = loader.project_state()
    if empty:
        for app in selected:
            leaves = loader.graph.leaf_nodes(app.name)
            mig_name = writer.slug(name) if name else writer.auto_name(now)
            result.migrations.append(
                _new(config, loader, app.name, [], list(leaves), mig_name, now, initial=not leaves)
            )
        return result
    # Constructs no database could create stop here (exit 2), before any file is written.
    to_state = creatable.valid_model_state(config, root=models_root)
    planned = detect_changes(
        from_state, to_state, questioner, apps=[a.name for a in selected], graph=loader.graph
    )
    result.declined_renames = list(questioner.declined_renames)
    if not planned:
        return result
    declined = {(table, old): new for table, old, new in result.declined_renames}
    numbers: dict[str, int] = {}
    names: dict[tuple[str, int], Key] = {}
    state = from_state
    order = list(planned)
    for app_name in order:
        leaves = loader.graph.leaf_nodes(app_name)
        for i, pm in enumerate(planned[app_name]):
            if app_name not in numbers:
                numbers[app_name] = writer.next_number(n for _, n in leaves) if leaves else 1
            number = numbers[app_name]
            numbers[app_name] += 1
            initial = not leaves and i == 0
            mig_name = (
                writer.slug(name)
                if name
                else writer.migration_name(pm.operations, initial=initial, now=now)
            )
            if len(planned[app_name]) > 1 and name:
                mig_name = f"{mig_name}_{i + 1}"
            full = f"{number:04d}_{mig_name}"
            names[(app_name, i)] = (app_name, full)
            deps = _resolve(pm, names, planned)
            nm = _new(
                config,
                loader,
                app_name,
                pm.operations,
                deps,
                mig_name,
                now,
                initial=initial,
                number=number,
            )
            nm.descriptions, state = _describe_all(app_name, full, pm.operations, state)
            nm.notes = [_loss_note(op, declined) for op in pm.operations]
            result.migrations.append(nm)
    return result


def _loss_note(op: Operation, declined: dict[tuple[str | None, str], str]) -> str:
    """For a drop that looked like a rename but was not confirmed: its data goes, and
    the command that says it was a rename."""
    from migrate_core.migrations.operations import DeleteModel
    from migrate_core.migrations.operations import RemoveField

    if isinstance(op, RemoveField) and (op.table_name, op.name) in declined:
        new = declined[(op.table_name, op.name)]
        return (
            f"  (its data is lost; if it was renamed to {new}, run: "
            f"migrate-core makemigrations --rename {op.table_name}.{op.name}={new})"
        )
    if isinstance(op, DeleteModel) and (None, op.name) in declined:
        new = declined[(None, op.name)]
        return f"  (its rows are lost; if it was renamed to {new}, run: migrate-core makemigrations --rename {op.name}={new})"
    return ""


def _resolve(
    pm: PlannedMigration,
    names: dict[tuple[str, int], Key],
    planned: dict[str, list[PlannedMigration]],
) -> list[Key]:
    deps: set[Key] = set()
    for dep in pm.dependencies:
        kind, other = dep
        if kind == "__new__" or kind == "__self__":
            deps.add(names[(other, 0)])
        else:
            deps.add(dep)
    return sorted(deps)


def _new(
    config: Config,
    loader: MigrationLoader,
    app: str,
    operations: list[Operation],
    dependencies: list[Key],
    mig_name: str,
    now: dt.datetime | None,
    *,
    initial: bool = False,
    number: int | None = None,
) -> NewMigration:
    if number is None:
        leaves = loader.graph.leaf_nodes(app)
        number = writer.next_number(n for _, n in leaves) if leaves else 1
    full = f"{number:04d}_{mig_name}"
    folder = config.app(app).migrations_dir
    content = writer.render_migration(operations, dependencies, initial=initial, now=now)
    return NewMigration(app, full, folder / f"{full}.py", operations, dependencies, content)


def write(result: MakeResult) -> None:
    for migration in result.migrations:
        if migration.path.exists():
            raise MigrateCoreError(f"{migration.path} already exists; not overwriting it")
        writer.write_file(migration.path.parent, migration.path.name, migration.content)


# -- merge -------------------------------------------------------------------------------------------


def _touches_overlap(a: set[tuple[str, str | None]], b: set[tuple[str, str | None]]) -> list[str]:
    out = set()
    tables_a = {t for t, c in a if c is None}
    tables_b = {t for t, c in b if c is None}
    for table, column in a:
        if (table, column) in b or table in tables_b:
            out.add(f"{table}.{column}" if column else table)
    for table, column in b:
        if table in tables_a:
            out.add(f"{table}.{column}" if column else table)
    return sorted(out)


def merge_migrations(
    config: Config,
    app_names: list[str] | None,
    *,
    name: str | None = None,
    now: dt.datetime | None = None,
) -> MakeResult:
    """A merge migration for each app with several leaves, unless the branches collide."""
    loader = MigrationLoader(config)
    graph = loader.graph
    result = MakeResult()
    wanted = {a.name for a in config.select_apps(app_names)}
    for app, leaves in sorted(graph.conflicts().items()):
        if app not in wanted:
            continue
        ancestors = [graph.ancestors(leaf) | {leaf} for leaf in leaves]
        common = set.intersection(*ancestors)
        branches: list[list[Key]] = []
        for anc in ancestors:
            own = sorted(k for k in anc - common if k[0] == app)
            branches.append(own)
        touched = []
        for branch in branches:
            t: set[tuple[str, str | None]] = set()
            for key in branch:
                for op in loader.migration(key).operations:
                    got = op.touches()
                    t |= got
            touched.append(t)
        clashes: list[str] = []
        for i in range(len(branches)):
            for j in range(i + 1, len(branches)):
                clashes += _touches_overlap(touched[i], touched[j])
        if clashes:
            desc = "; ".join(
                f"branch {i + 1}: {', '.join(n for _, n in b)}" for i, b in enumerate(branches)
            )
            raise ConflictError(
                f"Cannot merge {app}: both branches change {', '.join(sorted(set(clashes)))} ({desc}). "
                "Combine those migrations by hand (or delete one branch's migration and run "
                "makemigrations again), then merge."
            )
        number = writer.next_number(n for _, n in leaves)
        base = (
            writer.slug(name)
            if name
            else "merge_" + "_".join(n.split("_", 1)[0] for _, n in leaves)
        )
        nm = _new(
            config,
            loader,
            app,
            [],
            list(leaves),
            base[: writer.MAX_NAME_LENGTH],
            now,
            number=number,
        )
        nm.merge = True
        nm.descriptions = [f"  merges {', '.join(n for _, n in leaves)}"]
        result.migrations.append(nm)
    return result


def pending_changes(
    config: Config, app_names: list[str] | None, *, models_root: Path | None = None
) -> tuple[list[NewMigration], Any]:
    """What makemigrations would write, asking nothing (renames unconfirmed): for checks."""
    from migrate_core.migrations.questioner import SilentQuestioner

    q = SilentQuestioner()
    result = make_migrations(config, app_names, q, models_root=models_root)
    return result.migrations, result.declined_renames
