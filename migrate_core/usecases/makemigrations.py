"""makemigrations: write the migrations that bring the files' state to the models'."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import ConfigError
from migrate_core.errors import ConflictError
from migrate_core.errors import MigrateCoreError
from migrate_core.errors import QuestionRequired
from migrate_core.migrations import writer
from migrate_core.migrations.autodetector import PlannedMigration
from migrate_core.migrations.autodetector import detect_changes
from migrate_core.migrations.graph import Key
from migrate_core.migrations.graph import conflict_message
from migrate_core.migrations.loader import MigrationLoader

if TYPE_CHECKING:
    from collections.abc import Collection
    from collections.abc import Iterable

    from migrate_core.config import Config
    from migrate_core.migrations.operations.base import Operation
    from migrate_core.migrations.questioner import Questioner
    from migrate_core.migrations.questioner import Rename
    from migrate_core.migrations.renames import RenamePairs
    from migrate_core.schema.state import ColumnState
    from migrate_core.schema.state import ProjectState

#: The command a note tells a person to run.
COMMAND = "migrate-core makemigrations"


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

    @property
    def lines(self) -> list[str]:
        """Each operation's description with its note: what a listing of the migration shows."""
        notes = self.notes or [""] * len(self.descriptions)
        return [text + note for text, note in zip(self.descriptions, notes)]


@dataclass(frozen=True)
class PendingQuestion:
    """A question makemigrations would have to ask before writing this column, left open
    because the run asks nothing (``--check``, ``--dry-run``, the checks).

    ``renamed_from``: the dropped columns of the same table and type that it may be a
    rename of; one when that pairing is unambiguous, several when a person must choose.
    Without any, the question is the value for the existing rows (``altering``: the rows
    that hold NULL in a column becoming NOT NULL).
    """

    table: str
    column: str
    altering: bool = False
    renamed_from: tuple[str, ...] = ()

    @property
    def rename_argument(self) -> str:
        """The ``--rename`` that answers the question (``OLD`` when a person must choose)."""
        old = self.renamed_from[0] if len(self.renamed_from) == 1 else "OLD"
        return f"{self.table}.{old}={self.column}"

    def summary(self) -> str:
        """``product.title: renamed from product.name? (--rename product.name=title)``."""
        where = f"{self.table}.{self.column}"
        if len(self.renamed_from) == 1:
            return f"{where}: renamed from {self.table}.{self.renamed_from[0]}? (--rename {self.rename_argument})"
        if self.renamed_from:
            olds = " or ".join(f"{self.table}.{o}" for o in self.renamed_from)
            return f"{where}: renamed from {olds}? a person must choose (--rename {self.rename_argument})"
        rows = "the rows that hold NULL" if self.altering else "the existing rows"
        return f"{where}: a value for {rows}"


@dataclass
class MakeResult:
    migrations: list[NewMigration] = field(default_factory=list)
    # (table or None, old, new) rename candidates that were not confirmed.
    declined_renames: list[tuple[str | None, str, str]] = field(default_factory=list)
    #: The questions a run that asks nothing left open, in the order of the operations.
    questions: list[PendingQuestion] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.migrations)


def describe(op: Operation, before: ProjectState) -> str:
    return f"{op.symbol} {op.describe_change(before)}"


def _describe_all(
    app: str, name: str, operations: list[Operation], state: ProjectState
) -> tuple[list[str], ProjectState, list[tuple[Operation, ProjectState]]]:
    """Each operation described with the state before it (the old type of an altered
    column, say), through the walk migrate runs; the state after them all; and each
    operation with the state before it (for the notes)."""
    from migrate_core.migrations.migration import Migration

    descriptions = []
    walked = []
    for step in Migration(name, app, operations=operations).steps(state):
        descriptions.append(describe(step.operation, step.before))
        walked.append((step.operation, step.before))
        state = step.after
    return descriptions, state, walked


def make_migrations(
    config: Config,
    app_names: list[str] | None,
    questioner: Questioner,
    *,
    name: str | None = None,
    empty: bool = False,
    now: dt.datetime | None = None,
    models_root: Path | None = None,
    declared_renames: Collection[Rename] = (),
) -> MakeResult:
    """Plan the new migration files (nothing is written; see :func:`write`).

    ``models_root`` imports the models from another copy of the project (the
    commit hook's copy of the staged files); migrations always come from disk.

    ``declared_renames`` are the renames a person declared (``--rename``): each must be
    a table or column the migrations drop and the models add, or the run stops (exit
    2) before asking or writing anything. Renames the questioner knows from elsewhere
    (the hook's hints from the staged diff) are only suggestions and are not checked.
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
    apps = [a.name for a in selected]
    declared = check_renames(declared_renames, from_state, to_state, apps)
    questioner.renames = questioner.renames | declared
    try:
        planned = detect_changes(from_state, to_state, questioner, apps=apps, graph=loader.graph)
    except QuestionRequired as exc:
        raise _rename_first(exc, from_state, to_state, questioner, apps) from None
    _check_applied(declared, planned)
    result.declined_renames = list(questioner.declined_renames)
    if not planned:
        return result
    numbers: dict[str, int] = {}
    names: dict[tuple[str, int], Key] = {}
    state = from_state
    order = list(planned)
    steps: list[tuple[Operation, ProjectState]] = []
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
            nm.descriptions, state, walked = _describe_all(app_name, full, pm.operations, state)
            steps.extend(walked)
            result.migrations.append(nm)
    renames = _Renames.of(steps, result.declined_renames)
    result.questions = [q for op, _ in steps if (q := renames.question(op))]
    for nm in result.migrations:
        nm.notes = [renames.note(op) for op in nm.operations]
    return result


# -- renames: the declared ones checked, the possible ones paired, the open questions --------------


def check_renames(
    renames: Iterable[Rename], before: ProjectState, after: ProjectState, apps: list[str]
) -> frozenset[Rename]:
    """The declared renames, each one a drop and an add of this run, or :class:`ConfigError`
    naming the argument and what exists instead.

    A ``--rename`` that matches nothing used to be ignored, so a typo wrote a drop and an
    add and the data went. A column rename in a table that a declared table rename moves
    may name either table name; it comes back on the new one, where the autodetector
    compares columns.
    """
    renames = list(dict.fromkeys(renames))
    tables = {r.old: r.new for r in renames if r.table is None}
    out: set[Rename] = set()
    # Table renames first: a column rename reads its table through them, so a wrong one
    # would otherwise be reported as the column's (a table "missing" under its own name).
    for r in sorted(renames, key=lambda r: r.table is not None):
        problem = (
            _table_rename_problem(r, before, after, apps)
            if r.table is None
            else _column_rename_problem(r, before, after, apps, tables)
        )
        if problem:
            raise ConfigError(f"--rename {r.argument}: {problem}")
        if r.table is not None and r.table in tables:
            r = type(r)(tables[r.table], r.old, r.new)
        out.add(r)
    # One column cannot become two, nor two one: the second rename would fail on the database.
    for side in ("old", "new"):
        seen: dict[tuple[str | None, str], Rename] = {}
        for r in sorted(out, key=lambda r: r.argument):
            key = (r.table, getattr(r, side))
            if key in seen:
                what = "column" if r.table else "table"
                raise ConfigError(
                    f"--rename {seen[key].argument} and --rename {r.argument} name the same "
                    f"{side} {what}: keep one"
                )
            seen[key] = r
    return frozenset(out)


def _close(name: str, names: Iterable[str], what: str) -> str:
    """``(did you mean name?)``, else the names there are (a few), for a message."""
    import difflib

    names = sorted(names)
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        return f" (did you mean {' or '.join(close)}?)"
    if not names:
        return f" (there are no {what})"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f" ({what}: {shown})"


def _table_rename_problem(
    r: Rename, before: ProjectState, after: ProjectState, apps: list[str]
) -> str | None:
    old_tables = {t.name for t in before.tables.values() if t.app in apps}
    new_tables = {t.name for t in after.tables.values() if t.app in apps}
    if r.old not in old_tables:
        if before.get_table(r.old) is not None:
            return f"table {r.old} is in app {before.table(r.old).app}, which this run leaves alone"
        return f"the migrations have no table {r.old}" + _close(r.old, old_tables, "tables")
    if r.old in new_tables:
        return f"the models still have table {r.old}, so it was not renamed"
    if r.new not in new_tables:
        return f"the models have no table {r.new}" + _close(
            r.new, new_tables - old_tables, "new tables"
        )
    if r.new in old_tables:
        return f"the migrations already have table {r.new}, so nothing was renamed to it"
    return None


def _column_rename_problem(
    r: Rename,
    before: ProjectState,
    after: ProjectState,
    apps: list[str],
    tables: dict[str, str],
) -> str | None:
    assert r.table is not None
    # The table as the migrations have it, and as the models do (a declared table
    # rename may move it; either of its names is accepted).
    old_name = next((o for o, n in tables.items() if n == r.table), r.table)
    new_name = tables.get(r.table, r.table)
    old_table = before.get_table(old_name)
    new_table = after.get_table(new_name)
    if old_table is None or new_table is None:
        known = {t.name for t in after.tables.values() if t.app in apps} & {
            t.name for t in before.tables.values() if t.app in apps
        }
        if new_table is not None:
            return (
                f"table {r.table} is new in the models, so none of its columns was renamed "
                f"(if the table was renamed too, add --rename OLD_TABLE={r.table})"
            )
        return f"no table {r.table} in the models and the migrations" + _close(
            r.table, known, "tables"
        )
    if old_table.app not in apps:
        return f"table {r.table} is in app {old_table.app}, which this run leaves alone"
    where = r.table
    old_columns = set(old_table.column_names)
    new_columns = set(new_table.column_names)
    if r.old not in old_columns:
        return f"the migrations' table {where} has no column {r.old}" + _close(
            r.old, old_columns - new_columns, f"columns the models drop from {where}"
        )
    if r.old in new_columns:
        return f"the models still have {where}.{r.old}, so it was not renamed"
    if r.new not in new_columns:
        return f"the models' table {where} has no column {r.new}" + _close(
            r.new, new_columns - old_columns, f"columns the models add to {where}"
        )
    if r.new in old_columns:
        return f"the migrations already have {where}.{r.new}, so nothing was renamed to it"
    return None


def _check_applied(declared: frozenset[Rename], planned: dict[str, list[PlannedMigration]]) -> None:
    """Every declared rename became a rename operation; one that did not would write a drop."""
    from migrate_core.migrations.operations import RenameField
    from migrate_core.migrations.operations import RenameModel

    done: set[tuple[str | None, str, str]] = set()
    for migrations in planned.values():
        for pm in migrations:
            for op in pm.operations:
                if isinstance(op, RenameField):
                    done.add((op.table_name, op.old_name, op.new_name))
                elif isinstance(op, RenameModel):
                    done.add((None, op.old_name, op.new_name))
    for r in sorted(declared, key=lambda r: r.argument):
        if (r.table, r.old, r.new) not in done:
            raise ConfigError(
                f"--rename {r.argument}: not a rename this run can write "
                "(another rename took one of its names)"
            )


def _column_of(op: Operation) -> tuple[str, ColumnState] | None:
    """The table and the column an added or altered column's operation writes."""
    from migrate_core.migrations.operations import AddField
    from migrate_core.migrations.operations import AlterField

    if isinstance(op, (AddField, AlterField)):
        return op.table_name, op.column
    return None


def _needs_value(op: Operation, before: ProjectState) -> bool | None:
    """Whether ``op`` is a column the existing rows need a value for, and none was given:
    False for a new column, True for one becoming NOT NULL; None when no value is needed.
    The same conditions as the autodetector's questions."""
    from migrate_core.migrations.operations import AddField
    from migrate_core.migrations.operations import AlterField

    if isinstance(op, AddField) and op.fill_value is None:
        c = op.column
        if (
            not c.nullable
            and c.server_default is None
            and c.computed is None
            and c.identity is None
        ):
            return False
    if isinstance(op, AlterField) and op.fill_value is None:
        old = before.get_table(op.table_name)
        was = old.get_column(op.column.name) if old is not None else None
        if (
            was is not None
            and was.nullable
            and not op.column.nullable
            and op.column.server_default is None
        ):
            return True
    return None


@dataclass
class _Renames:
    """What the operations of a run say about renames nobody confirmed.

    Per table, the dropped and added columns that may be one column renamed: the pairs
    the questioner declined (same definition), and, for an added NOT NULL column that
    needs a value, the dropped NOT NULL columns of its type (a rename would keep their
    rows' values, and no value would be needed). :func:`~migrate_core.migrations.renames.pair_renames` pairs them only where
    that is unambiguous; the notes and questions say the rest is a person's choice.
    """

    columns: dict[str, RenamePairs]
    tables: RenamePairs
    pending: dict[tuple[str, str], bool]

    @classmethod
    def of(
        cls,
        steps: list[tuple[Operation, ProjectState]],
        declined: list[tuple[str | None, str, str]],
    ) -> _Renames:
        from migrate_core.migrations.operations import AddField
        from migrate_core.migrations.operations import CreateModel
        from migrate_core.migrations.operations import DeleteModel
        from migrate_core.migrations.operations import RemoveField
        from migrate_core.migrations.renames import pair_renames

        dropped: dict[str, dict[str, ColumnState]] = {}
        added: dict[str, dict[str, ColumnState]] = {}
        deleted: set[str] = set()
        created: set[str] = set()
        pending: dict[tuple[str, str], bool] = {}
        for op, before in steps:
            if isinstance(op, RemoveField):
                column = before.table(op.table_name).get_column(op.name)
                if column is not None:
                    dropped.setdefault(op.table_name, {})[op.name] = column
            elif isinstance(op, AddField):
                added.setdefault(op.table_name, {})[op.column.name] = op.column
            elif isinstance(op, DeleteModel):
                deleted.add(op.name)
            elif isinstance(op, CreateModel):
                created.add(op.name)
            written = _column_of(op)
            altering = _needs_value(op, before)
            if written is not None and altering is not None:
                pending[(written[0], written[1].name)] = altering
        edges: dict[str, list[tuple[str, str]]] = {}
        table_edges: list[tuple[str, str]] = []
        for table, old, new in declined:
            if table is None:
                if old in deleted and new in created:
                    table_edges.append((old, new))
            elif old in dropped.get(table, {}) and new in added.get(table, {}):
                edges.setdefault(table, []).append((old, new))
        for (table, new), altering in pending.items():
            if altering:
                continue
            column = added[table][new]
            for old, gone in dropped.get(table, {}).items():
                # A nullable column renamed would still need values for its NULL rows:
                # only a NOT NULL one of the type answers the question.
                if not gone.nullable and gone.type_code == column.type_code:
                    edges.setdefault(table, []).append((old, new))
        return cls(
            {table: pair_renames(e) for table, e in edges.items()},
            pair_renames(table_edges),
            pending,
        )

    def question(self, op: Operation) -> PendingQuestion | None:
        """The question ``op`` leaves open (a value, or "rename?"), if any."""
        written = _column_of(op)
        if written is None or (written[0], written[1].name) not in self.pending:
            return None
        table, column = written[0], written[1].name
        altering = self.pending[(table, column)]
        pairs = self.columns.get(table)
        olds = pairs.for_new(column) if pairs is not None and not altering else ()
        return PendingQuestion(table, column, altering, olds)

    def note(self, op: Operation) -> str:
        """What a person should know about ``op`` beyond its description ("" for most)."""
        from migrate_core.migrations.operations import DeleteModel
        from migrate_core.migrations.operations import RemoveField

        if isinstance(op, RemoveField):
            pairs = self.columns.get(op.table_name)
            news = pairs.for_old(op.name) if pairs is not None else ()
            unambiguous = pairs is not None and pairs.unambiguous(op.name)
            return _loss_note(f"{op.table_name}.{op.name}", news, unambiguous, "its data is lost")
        if isinstance(op, DeleteModel):
            news = self.tables.for_old(op.name)
            return _loss_note(op.name, news, self.tables.unambiguous(op.name), "its rows are lost")
        q = self.question(op)
        return _question_note(q) if q is not None else ""


def _loss_note(what: str, news: tuple[str, ...], unambiguous: bool, lost: str) -> str:
    """A drop that may have been a rename: its data goes, and the ``--rename`` that keeps it.

    One target only when the pairing is unambiguous; otherwise the choices, for a person:
    naming one of several would send the data into whichever column it names.
    """
    if not news:
        return ""
    if unambiguous:
        return (
            f"  ({lost}; if it was renamed to {news[0]}, run: {COMMAND} --rename {what}={news[0]})"
        )
    return (
        f"  ({lost}; if it was renamed, a person must choose which of {', '.join(news)} it "
        f"became, then run: {COMMAND} --rename {what}=NEW)"
    )


def _question_note(q: PendingQuestion) -> str:
    """An added or altered column the run asked nothing about: "rename?" first when a
    dropped column of its type may be it (a rename keeps the rows' values), else the value."""
    rows = "the rows that hold NULL" if q.altering else "the existing rows"
    if len(q.renamed_from) == 1:
        return (
            f"  (rename? if it was {q.table}.{q.renamed_from[0]}: --rename {q.rename_argument}; "
            f"if it is new, it needs a value for {rows})"
        )
    if q.renamed_from:
        olds = ", ".join(f"{q.table}.{o}" for o in q.renamed_from)
        return (
            f"  (rename? it may be one of {olds}, and a person must choose: --rename "
            f"{q.rename_argument}; if it is new, it needs a value for {rows})"
        )
    return f"  (needs a value for {rows}: run {COMMAND} to enter one, or give it a server default)"


def _rename_first(
    exc: QuestionRequired,
    before: ProjectState,
    after: ProjectState,
    questioner: Questioner,
    apps: list[str],
) -> QuestionRequired:
    """The question a non-interactive run stopped at, asked as "rename?" first when the new
    NOT NULL column looks like a dropped one renamed (same table, same type).

    Advice to give the new column a server default would fill it with that default and
    drop the old column's values; a rename keeps them and needs no value at all. The
    run is planned again without questions to see the drops beside the column.
    """
    from migrate_core.migrations.migration import Migration
    from migrate_core.migrations.questioner import SilentQuestioner
    from migrate_core.migrations.questioner import not_null_message

    silent = SilentQuestioner(renames=questioner.renames, app_name=questioner.app_name)
    planned = detect_changes(before, after, silent, apps=apps)
    steps: list[tuple[Operation, ProjectState]] = []
    state = before
    for app, migrations in planned.items():
        for pm in migrations:
            for step in Migration("planned", app, operations=pm.operations).steps(state):
                steps.append((step.operation, step.before))
                state = step.after
    renames = _Renames.of(steps, silent.declined_renames)
    for op, _ in steps:
        q = renames.question(op)
        if q is None or not q.renamed_from:
            continue
        written = _column_of(op)
        assert written is not None
        column = written[1]
        if str(exc) != not_null_message(
            q.table, column, altering=q.altering, app=questioner.app_name
        ):
            continue
        where = f"{q.table}.{q.column}"
        if len(q.renamed_from) == 1:
            head = (
                f"{where} is new and NOT NULL, and {q.table}.{q.renamed_from[0]} of the same type is "
                f"dropped: rename? If {q.column} is {q.renamed_from[0]} renamed, its rows keep their "
                f"values and need no default; run:\n  {COMMAND} --rename {q.rename_argument}"
            )
        else:
            olds = ", ".join(f"{q.table}.{o}" for o in q.renamed_from)
            head = (
                f"{where} is new and NOT NULL, and {olds} of the same type are dropped: rename? "
                f"A person must choose which, if any, it is; then run:\n  {COMMAND} --rename "
                f"{q.rename_argument}"
            )
        body = "\n".join("  " + line for line in str(exc).splitlines())
        return QuestionRequired(f"{head}\nIf it is a new column:\n{body}")
    return exc


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
