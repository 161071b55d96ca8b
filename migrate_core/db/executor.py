"""Plan and run migrations against a database.

A plan is a list of ``(migration, backwards)`` pairs, computed the way Django
does from targets: ``(app, name)`` to reach a migration, ``(app, None)`` for
zero. Each migration and its history row commit together where the database has
transactional DDL (PostgreSQL, SQLite), and a migration of data only (RunSQL DML,
RunPython) everywhere; on MySQL/MariaDB DDL commits as it goes, so a failure says
exactly which operations of the migration already ran.

"OK" means kept: a migration's transaction commits before it is reported done, on
every database, so whatever stops a run later (a failure, Ctrl-C, SIGTERM, a
``sys.exit`` in a RunPython, SIGKILL) leaves every migration printed OK in place.
An interrupt or ``SystemExit`` inside a migration rolls back that migration only and
is reported like a failure, naming the operation it stopped in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db import dialects
from migrate_core.db import engine as db
from migrate_core.db.recorder import AppliedMigration
from migrate_core.db.recorder import InFlight
from migrate_core.db.recorder import MigrationRecorder
from migrate_core.db.schema_editor import SchemaEditor
from migrate_core.errors import InconsistentHistoryError
from migrate_core.errors import InterruptedMigrationError
from migrate_core.errors import IrreversibleError
from migrate_core.errors import MigrateCoreError
from migrate_core.errors import MigrationFailed
from migrate_core.errors import MigrationInterrupted
from migrate_core.migrations.graph import Key
from migrate_core.migrations.graph import conflict_message
from migrate_core.migrations.loader import MigrationLoader
from migrate_core.schema.state import ProjectState

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.config import Config
    from migrate_core.migrations.migration import Migration
    from migrate_core.migrations.migration import Step

Target = tuple[str, str | None]
Plan = list[tuple["Migration", bool]]


@dataclass
class Progress:
    """What the executor reports while it runs; the CLI turns it into lines."""

    event: str  # "start" | "done" | "skipped" | "wait" | "note" (``message``: what was found)
    migration: Migration | None = None
    backwards: bool = False
    fake: bool = False
    elapsed: float = 0.0
    index: int = 0
    total: int = 0
    message: str = ""


@dataclass
class RunResult:
    """What one :meth:`MigrationExecutor.migrate` call did, migration by migration."""

    applied: list[Key] = field(default_factory=list)
    unapplied: list[Key] = field(default_factory=list)
    skipped: list[Key] = field(default_factory=list)


class MigrationExecutor:
    def __init__(
        self,
        connection: Connection,
        config: Config,
        *,
        progress: Callable[[Progress], None] | None = None,
        loader: MigrationLoader | None = None,
    ) -> None:
        self.connection = connection
        self.config = config
        self.progress = progress or (lambda p: None)
        self._known_applied: set[Key] | None = None
        #: The operation running now (its index), for a failure that comes after it.
        self._current_step: int | None = None
        #: Migrations a killed run left started and not finished, found inside the lock.
        self._in_flight: dict[Key, InFlight] = {}
        self._editor: SchemaEditor | None = None
        self._history_ready = False
        #: Where the dialect groups commits (SQLite): the migrations run and not yet committed.
        self._group: _Group | None = None
        self.recorder = MigrationRecorder(connection)
        self.reload(loader)

    def reload(self, loader: MigrationLoader | None = None) -> None:
        """Re-read the history table and rebuild the graph around what is applied."""
        self.applied: dict[Key, AppliedMigration] = self.recorder.applied()
        if self.connection.in_transaction():
            self.connection.commit()
        self.loader = loader or MigrationLoader(self.config, applied=self.applied)
        self._mark_replacements()

    def _mark_replacements(self) -> None:
        """A squashed migration counts as applied when everything it replaces is."""
        for key, replaced in self.loader.replacements.items():
            if (
                key in self.loader.graph
                and key not in self.applied
                and all(r in self.applied for r in replaced)
            ):
                self.applied[key] = AppliedMigration(key[0], key[1], None, None)

    @property
    def graph(self) -> Any:
        return self.loader.graph

    # -- planning ------------------------------------------------------------------------------

    def check_consistent_history(self) -> None:
        for key in self.applied:
            if key not in self.graph:
                continue
            for parent in sorted(self.graph.nodes[key].parents):
                if parent not in self.applied:
                    raise InconsistentHistoryError(
                        f"migration {key[0]}.{key[1]} is applied before its dependency "
                        f"{parent[0]}.{parent[1]}; the history table of this database does not match "
                        "the migration files (was a migration added below an applied one?)"
                    )

    def unknown_applied(self) -> list[Key]:
        """Rows in the history table with no file (deleted or renamed migrations)."""
        replaced = {r for rs in self.loader.replacements.values() for r in rs}
        return sorted(k for k in self.applied if k not in self.graph and k not in replaced)

    def changed_files(self) -> list[Key]:
        """Applied migrations whose file changed since it was applied."""
        out = []
        for key, row in self.applied.items():
            f = self.loader.files.get(key)
            if f is not None and row.checksum and row.checksum != f.checksum:
                out.append(key)
        return sorted(out)

    def targets_for(self, app: str | None, target: str | None) -> list[Target]:
        """CLI arguments to targets: nothing = every leaf; APP = its leaf; APP TARGET."""
        if app is None:
            conflicts = self.graph.conflicts()
            if conflicts:
                raise MigrateCoreError(conflict_message(conflicts))
            return list(self.graph.leaf_nodes())
        self.config.app(app)
        if target is None:
            leaves = self.graph.leaf_nodes(app)
            if not leaves:
                return []
            if len(leaves) > 1:
                raise MigrateCoreError(conflict_message({app: leaves}, app=app))
            return leaves
        if target == "zero":
            return [(app, None)]
        return [self.loader.get_by_prefix(app, target)]

    def migration_plan(self, targets: Iterable[Target]) -> Plan:
        plan: list[tuple[Key, bool]] = []
        applied = dict(self.applied)
        graph = self.graph
        for target in targets:
            app, name = target
            if name is None:
                for root in graph.root_nodes(app):
                    for key in graph.backwards_plan(root):
                        if key in applied:
                            plan.append((key, True))
                            applied.pop(key)
            elif target in applied:
                children = sorted(c for c in graph.nodes[target].children if c[0] == app)
                for child in children:
                    for key in graph.backwards_plan(child):
                        if key in applied:
                            plan.append((key, True))
                            applied.pop(key)
            else:
                for key in graph.forwards_plan(target):
                    if key not in applied:
                        plan.append((key, False))
                        applied[key] = AppliedMigration(key[0], key[1], None, None)
        if len({b for _, b in plan}) > 1:
            raise MigrateCoreError(
                "this target needs migrations applied and others unapplied; "
                "migrate each app separately"
            )
        if plan and plan[0][1]:
            # Unapply in the reverse of the order migrate applies: then the state before each
            # migration, computed forwards, is the schema the database really has at that point
            # (a rollback of two branches would otherwise undo one on top of the other's state).
            order = {k: i for i, k in enumerate(graph.full_plan())}
            plan.sort(key=lambda item: -order.get(item[0], -1))
        return [(self.loader.migration(k), b) for k, b in plan]

    # -- states --------------------------------------------------------------------------------

    def _applied_state(self) -> ProjectState:
        state = ProjectState()
        for key in self.graph.full_plan():
            if key in self.applied:
                self.loader.migration(key).mutate_state(state, copy=False)
        return state

    def _states_before(self, keys: set[Key]) -> dict[Key, ProjectState]:
        """The state before each of ``keys``, walking the applied chain once."""
        states: dict[Key, ProjectState] = {}
        state = ProjectState()
        remaining = set(keys)
        for key in self.graph.full_plan():
            if not remaining:
                break
            if key in keys:
                states[key] = state.clone()
                remaining.discard(key)
            if key in self.applied or key in keys:
                self.loader.migration(key).mutate_state(state, copy=False)
        return states

    # -- running -------------------------------------------------------------------------------

    def migrate(self, plan: Plan, *, fake: bool = False) -> RunResult:
        """Run a plan, creating the history table first if the database has none.

        Each migration commits on its own before it is reported done. (SQLite once ran
        the whole plan in one transaction, to sync the file once; but then anything
        that stopped the run after a migration printed OK took that migration back
        with it, and a SIGKILL can never be reported. Correct output beats the sync.)
        """
        # Even for an empty plan: after a migrate run, the database says what it has
        # applied (nothing, on a fresh one) and showmigrations reads a real table.
        self.ensure_history()
        self._in_flight = self._check_in_flight(plan)
        if not plan:
            return RunResult()
        return self._migrate(plan, fake=fake)

    def _check_in_flight(self, plan: Plan) -> dict[Key, InFlight]:
        """Migrations a killed run left half done (we hold the lock: nobody is running them).

        Each must be resumed, in its own direction, before anything else moves: the plan
        must take it there, or migrate stops and names the command that does.
        """
        found = {(e.app, e.name): e for e in self.recorder.in_flight()}
        if self.connection.in_transaction():
            self.connection.commit()
        planned = {m.key: b for m, b in plan}
        for key, entry in found.items():
            if planned.get(key) is entry.backwards:
                continue
            app, name = key
            if entry.backwards:
                parents = (
                    sorted(p for p in self.graph.nodes[key].parents if p[0] == app)
                    if (key in self.graph)
                    else []
                )
                target = parents[-1][1] if parents else "zero"
                verb = "unapplying"
            else:
                target, verb = name, "applying"
            raise InterruptedMigrationError(
                f"{app}.{name} was interrupted while {verb} (the process was killed or lost its "
                f"connection) and is half done; finish it first: migrate-core migrate {app} {target}"
            )
        return found

    def _migrate(self, plan: Plan, *, fake: bool = False) -> RunResult:
        if not dialects.get(self.connection).features.group_commits:
            return self._migrate_each(plan, fake=fake)
        self._group = _Group()
        try:
            try:
                result = self._migrate_each(plan, fake=fake)
            except BaseException:
                # What ran whole before the stop is kept, and only now reported done; a
                # failed migration has already committed its group (see _run_grouped).
                self._commit_group()
                raise
            self._commit_group()
        finally:
            # Grouping is this call's alone: run_migration called later on its own (the
            # checks do) commits and reports each migration itself.
            self._group = None
        return result

    def _migrate_each(self, plan: Plan, *, fake: bool = False) -> RunResult:
        result = RunResult()
        backwards = plan[0][1]
        if backwards:
            self._check_reversible(plan, fake)
            states = self._states_before({m.key for m, _ in plan})
        else:
            state = self._applied_state()
        total = len(plan)
        for index, (migration, _) in enumerate(plan, 1):
            if backwards:
                before = states[migration.key]
                done = self.run_migration(
                    migration, before, backwards=True, fake=fake, index=index, total=total
                )
                if done:
                    result.unapplied.append(migration.key)
                else:
                    result.skipped.append(migration.key)
            else:
                before = state
                state = migration.mutate_state(state)
                done = self.run_migration(
                    migration, before, backwards=False, fake=fake, index=index, total=total
                )
                if done:
                    result.applied.append(migration.key)
                else:
                    result.skipped.append(migration.key)
        return result

    def _check_reversible(self, plan: Plan, fake: bool) -> None:
        if fake:
            return
        for migration, _ in plan:
            for index, op in enumerate(migration.operations):
                if not op.reversible:
                    raise IrreversibleError(
                        f"{migration.location(index)}: {op.describe()} in {migration} cannot be reversed, "
                        f"so nothing was unapplied. Give it a reverse (reverse_sql=, backwards=), or "
                        f"record it as unapplied without running it: "
                        f"migrate-core migrate {migration.app} <target> --fake"
                    )

    def run_migration(
        self,
        migration: Migration,
        before: ProjectState,
        *,
        backwards: bool,
        fake: bool = False,
        index: int = 1,
        total: int = 1,
    ) -> bool:
        """Apply (or unapply) one migration whose preceding state is ``before``.

        Returns False when another process had already done it (we re-read the
        history inside the lock). Raises MigrationFailed with the whole story.
        """
        conn = self.connection
        self.ensure_history()  # a no-op inside migrate(), which ensured it before the plan
        entry = self._in_flight.get(migration.key)
        if self._group is not None:
            if entry is None and _groupable(migration):
                return self._run_grouped(
                    migration, before, backwards=backwards, fake=fake, index=index, total=total
                )
            # Anything else runs, commits and reports on its own, after what came before.
            self._commit_group()
        self._in_flight.pop(migration.key, None)
        skip = 0
        if entry is not None and not fake:
            # Before its "Applying" line: what a killed run left, and where we go on.
            from migrate_core.db import recovery

            resume = recovery.assess(
                conn, migration, list(migration.steps(before, backwards=backwards)), entry
            )
            if conn.in_transaction():
                conn.commit()
            skip = resume.skip
            for note in resume.notes:
                self.progress(Progress("note", migration, backwards, message=note))
        self.progress(Progress("start", migration, backwards, fake, index=index, total=total))
        started = time.perf_counter()
        # Every state first: an operation that does not fit the chain fails before any DDL.
        steps = list(migration.steps(before, backwards=backwards))
        # Where DDL commits as it runs, the history says "started" first and counts the
        # operations done, so a killed run leaves a trace the next one can resume from.
        tracked = entry is not None or not (
            migration.atomic
            and (db.has_transactional_ddl(conn) or _data_only(migration, backwards))
        )
        transactional = not tracked
        ran: list[int] = [step.index for step in steps[:skip]]
        marked = entry is not None  # the history has a "started" row for it
        steps = steps[skip:]
        self._current_step = None
        try:
            if transactional:
                with conn.begin() as transaction:
                    if self._already_done(migration, backwards):
                        self.progress(
                            Progress(
                                "skipped", migration, backwards, fake, index=index, total=total
                            )
                        )
                        return False
                    if not fake:
                        try:
                            self._run_steps(steps, ran, transaction=transaction)
                        except BaseException:
                            # Asked before the with block rolls back: SQLAlchemy refuses the
                            # next statement after a commit in a RunPython, and the commit,
                            # not that refusal, is what the user must hear about.
                            if self._current_step is not None and _ended(conn, transaction):
                                raise _TransactionEnded(self._current_step) from None
                            raise
                    self._record(migration, backwards)
            else:
                if self._already_done(migration, backwards):
                    conn.commit()
                    self.progress(
                        Progress("skipped", migration, backwards, fake, index=index, total=total)
                    )
                    return False
                conn.commit()
                if not fake:
                    if entry is None:
                        with conn.begin():
                            self.recorder.record_started(
                                migration.app,
                                migration.name,
                                migration.checksum,
                                backwards=backwards,
                            )
                    marked = True

                    def count(done: int) -> None:
                        with conn.begin():
                            self.recorder.record_progress(
                                migration.app, migration.name, done, backwards=backwards
                            )

                    with _autocommit(conn, enabled=not migration.atomic):
                        self._run_steps(steps, ran, autocommit=True, on_step=count)
                with conn.begin():
                    self._record(migration, backwards, tracked=marked)
        except _TransactionEnded as ended:
            self._rollback_quietly()
            raise self._ended_failure(migration, ended.index, backwards) from None
        except BaseException as exc:
            # Also KeyboardInterrupt (Ctrl-C, SIGTERM) and SystemExit (sys.exit() in a
            # RunPython): this migration is rolled back, and the report says so.
            self._rollback_quietly()
            if marked:
                self._unmark(migration, backwards)
            if isinstance(exc, Exception) and dialects.get(conn).is_lock_wait_timeout(exc):
                raise  # nothing ran; the migration lock turns it into LockTimeout
            if not isinstance(exc, Exception | SystemExit | KeyboardInterrupt):
                raise
            failure = self._failure(migration, exc, backwards, ran, transactional)
            if isinstance(exc, KeyboardInterrupt):
                raise MigrationInterrupted(str(failure)) from exc
            raise failure from exc
        self.progress(self._done(migration, backwards, fake, started, index, total))
        return True

    def _done(
        self,
        migration: Migration,
        backwards: bool,
        fake: bool,
        started: float,
        index: int,
        total: int,
    ) -> Progress:
        """Note a migration run as applied (or unapplied); its "done" event, to report once
        it is committed."""
        if backwards:
            self.applied.pop(migration.key, None)
        else:
            self.applied[migration.key] = AppliedMigration(
                migration.app, migration.name, None, migration.checksum
            )
        return Progress(
            "done",
            migration,
            backwards,
            fake,
            elapsed=time.perf_counter() - started,
            index=index,
            total=total,
        )

    def _run_grouped(
        self,
        migration: Migration,
        before: ProjectState,
        *,
        backwards: bool,
        fake: bool,
        index: int,
        total: int,
    ) -> bool:
        """Run one schema-only migration inside the open group, in a savepoint of its own.

        Its lines are held back until the group commits, so "OK" still means kept. A
        failure rolls back its savepoint, commits (and reports) the migrations before it
        and is then reported exactly as outside a group: nothing of it was kept.
        """
        conn = self.connection
        group = self._group
        assert group is not None
        start = Progress("start", migration, backwards, fake, index=index, total=total)
        began = time.perf_counter()
        ran: list[int] = []
        self._current_step = None
        try:
            if not conn.in_transaction():
                conn.begin()  # SQLite's BEGIN IMMEDIATE: the write lock, until the group commits
                group.began = began
            if group.applied is None:
                # Read once inside the lock; nobody else can write while we hold it.
                group.applied = set(self.recorder.applied())
                self._mark_replacements_in(group.applied)
            steps = list(migration.steps(before, backwards=backwards))
            if self._already_done(migration, backwards):
                group.events += [
                    start,
                    Progress("skipped", migration, backwards, fake, index=index, total=total),
                ]
                return False
            if not fake:
                with conn.begin_nested():
                    self._run_steps(steps, ran)
        except BaseException as exc:
            try:
                self._commit_group()
            except Exception:
                # A signal inside a driver call leaves the connection invalid, so the group
                # cannot commit: _commit_group rolled back and named what was lost, and the
                # signal (or failure) that got us here is still the thing to report.
                if not isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
            self.progress(start)
            if isinstance(exc, Exception) and dialects.get(conn).is_lock_wait_timeout(exc):
                raise  # nothing ran; the migration lock turns it into LockTimeout
            if not isinstance(exc, Exception | SystemExit | KeyboardInterrupt):
                raise
            failure = self._failure(migration, exc, backwards, ran, True)
            if isinstance(exc, KeyboardInterrupt):
                raise MigrationInterrupted(str(failure)) from exc
            raise failure from exc
        group.records.append((migration, backwards))
        keys = {migration.key, *migration.replaces} if backwards else {migration.key}
        for key in keys:
            if backwards:
                assert group.applied is not None
                group.applied.discard(key)
                if self._known_applied is not None:
                    self._known_applied.discard(key)
            else:
                assert group.applied is not None
                group.applied.add(key)
                if self._known_applied is not None:
                    self._known_applied.add(key)
        group.events += [start, self._done(migration, backwards, fake, began, index, total)]
        if time.perf_counter() - group.began >= GROUP_SECONDS:
            self._commit_group()
        return True

    def _mark_replacements_in(self, applied: set[Key]) -> None:
        for key, replaced in self.loader.replacements.items():
            if key in self.loader.graph and all(r in applied for r in replaced):
                applied.add(key)

    def _commit_group(self) -> None:
        """Write the group's history rows in one statement each way, commit, and only then
        report its migrations done. A commit that fails takes them all back: say which."""
        group = self._group
        if group is None:
            return
        conn = self.connection
        events, records = group.events, group.records
        group.events, group.records, group.applied = [], [], None
        if not conn.in_transaction():
            for event in events:
                self.progress(event)
            return
        try:
            if records:
                self.recorder.record_many(
                    applied=[
                        (m.app, m.name, m.checksum) for m, backwards in records if not backwards
                    ],
                    unapplied=[
                        key for m, backwards in records if backwards for key in (m.key, *m.replaces)
                    ],
                )
            conn.commit()
        except BaseException:
            self._rollback_quietly()
            lost = [m for m, _ in records]
            for m, backwards in records:
                if backwards:
                    self.applied[m.key] = AppliedMigration(m.app, m.name, None, m.checksum)
                else:
                    self.applied.pop(m.key, None)
            if lost:
                self.progress(
                    Progress(
                        "note",
                        lost[0],
                        message="  Rolled back, not kept (the commit failed): "
                        + ", ".join(str(m) for m in lost),
                    )
                )
            raise
        for event in events:
            self.progress(event)

    def ensure_history(self) -> None:
        """Create the history table if the database has none; once per executor.

        Outside any migration's transaction, and committed at once: two first runs that
        race both find the table afterwards (see MigrationRecorder.ensure_table).
        """
        if self._history_ready:
            return
        self.recorder.ensure_table()
        if self.connection.in_transaction():
            self.connection.commit()  # the look for the table began one; each migration begins its own
        self._history_ready = True

    def sole_writer(self) -> None:
        """Nothing else writes to this database (a scratch database): trust our own
        record of what is applied instead of re-reading the history per migration."""
        self._known_applied = set(self.applied)

    def _already_done(self, migration: Migration, backwards: bool) -> bool:
        """Re-read the history inside the lock: another process may have got here first.

        A squashed migration counts as applied when everything it replaces is.
        """

        def applied(key: Key) -> bool:
            if self._group is not None and self._group.applied is not None:
                return key in self._group.applied
            if self._known_applied is not None:
                return key in self._known_applied
            return self.recorder.is_applied(*key)

        done = applied(migration.key) or (
            bool(migration.replaces) and all(applied(r) for r in migration.replaces)
        )
        return done if not backwards else not done

    def _schema_editor(self) -> SchemaEditor:
        """One editor per run: configuring Alembic's context per migration costs as much as
        a small migration does."""
        if self._editor is None:
            self._editor = dialects.editor(self.connection)
        self._editor.reset()
        return self._editor

    def _unmark(self, migration: Migration, backwards: bool) -> None:
        """A failure we saw: the history says what it said before (the failure report tells
        what was kept). Only a run that dies unseen leaves its "started" row behind."""
        import sqlalchemy as sa

        try:
            with self.connection.begin():
                if backwards:
                    self.recorder.record_finished(migration.app, migration.name)
                else:
                    self.recorder.record_unapplied(migration.app, migration.name)
        except sa.exc.DBAPIError:
            self._rollback_quietly()  # the connection is gone; the next run resumes instead

    def _rollback_quietly(self) -> None:
        """Roll back what is open; a connection that is gone has nothing left to roll back."""
        import sqlalchemy as sa

        try:
            if self.connection.in_transaction():
                self.connection.rollback()
        except sa.exc.DBAPIError:
            pass

    def _run_steps(
        self,
        steps: list[Step],
        ran: list[int],
        *,
        autocommit: bool = False,
        transaction: Any = None,
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        """Run the steps of one migration, noting each that ran: a failure report says
        which operation failed and, where DDL is not transactional, which were kept.

        ``transaction``: the one this migration began. An operation that commits or
        rolls it back itself (``connection.commit()`` in a RunPython) has made the
        migration non-atomic behind our back; we stop right after it.
        """
        conn = self.connection
        editor = self._schema_editor()
        if steps:
            last = steps[-1]
            editor.end_state = last.before if last.backwards else last.after
        try:
            for step in steps:
                self._current_step = step.index
                editor.step_index = step.index
                step.run(editor)
                if transaction is not None and _ended(conn, transaction):
                    raise _TransactionEnded(step.index)
                ran.append(step.index)
                if autocommit and conn.in_transaction():
                    conn.commit()
                if on_step is not None:
                    on_step(len(ran))
            # What the editor deferred to the end of the migration (SQLite's coalesced rebuilds).
            editor.finish()
            if autocommit and conn.in_transaction():
                conn.commit()
        except Exception:
            # Deferred work failed: the report names the operation that asked for it.
            blamed = editor.failed_step
            if blamed is not None and blamed in ran:
                del ran[ran.index(blamed) :]
            raise

    def _record(self, migration: Migration, backwards: bool, *, tracked: bool = False) -> None:
        if self._known_applied is not None:
            if backwards:
                self._known_applied.discard(migration.key)
            else:
                self._known_applied.add(migration.key)
        if backwards:
            self.recorder.record_unapplied(migration.app, migration.name)
            for app, name in migration.replaces:
                self.recorder.record_unapplied(app, name)
        elif tracked:
            self.recorder.record_finished(migration.app, migration.name)
        else:
            self.recorder.record_applied(migration.app, migration.name, migration.checksum)

    def _ended_failure(self, migration: Migration, index: int, backwards: bool) -> MigrationFailed:
        """An operation ended the migration's transaction itself: say what is now kept."""
        ops = migration.operations
        order = range(len(ops) - 1, index, -1) if backwards else range(index)
        earlier = [ops[i].describe() for i in order]
        current = self._latest_applied(migration.app, exclude=None if backwards else migration.key)
        at = f"{migration.app}.{current}" if current else f"{migration.app} zero"
        kept = (
            f"the operations before it ({'; '.join(earlier)}) and what it did up to its commit"
            if earlier
            else "what it did up to its commit"
        )
        message = (
            f"{migration.location(index)}  {_short(ops[index])}\n"
            f"  it ended the migration's transaction itself (connection.commit() or rollback()), "
            f"so {migration.name} was no longer atomic: {kept} is kept, the rest was rolled "
            f"back, and the history table does not record {migration.name} (it says {at}).\n"
            "Remove the commit from the operation (migrate commits each migration when it is "
            "done), undo what it kept by hand, then run migrate again."
        )
        return MigrationFailed(
            message,
            key=migration.key,
            op_index=index,
            operation=_short(ops[index]),
            error="the operation ended the migration's transaction",
        )

    def _failure(
        self,
        migration: Migration,
        exc: BaseException,
        backwards: bool,
        ran: list[int],
        transactional: bool,
    ) -> MigrationFailed:
        failed = (
            ran[-1] + (-1 if backwards else 1)
            if ran
            else (len(migration.operations) - 1 if backwards else 0)
        )
        ops = migration.operations
        lines = []
        if 0 <= failed < len(ops):
            lines.append(f"{migration.location(failed)}  {_short(ops[failed])}")
        else:
            lines.append(migration.location())
        lines.append(f"  {_what_stopped(exc)}")
        current = self._latest_applied(migration.app, exclude=None if backwards else migration.key)
        at = f"{migration.app}.{current}" if current else f"{migration.app} zero"
        if transactional:
            lines.append(
                f"Nothing of {migration.name} was kept (rolled back); the database is at {at}."
            )
        elif ran:
            kept = "; ".join(ops[i].describe() for i in ran)
            why = (
                f"{migration.name} is not atomic (atomic = False), so each operation committed as it ran"
                if db.has_transactional_ddl(self.connection)
                else f"{dialects.name_of(self.connection)} commits DDL as it runs"
            )
            lines.append(
                f"{why}, so these operations of {migration.name} ran and were kept: {kept}. The history "
                f"table was not changed (it says {at}); undo them by hand before running migrate again."
            )
        else:
            lines.append(f"No operation of {migration.name} ran; the database is at {at}.")
        in_range = 0 <= failed < len(ops)
        return MigrationFailed(
            "\n".join(lines),
            key=migration.key,
            op_index=failed if in_range else None,
            operation=_short(ops[failed]) if in_range else "",
            error=_what_stopped(exc),
        )

    def _latest_applied(self, app: str, exclude: Key | None) -> str | None:
        names = sorted(n for a, n in self.applied if a == app and (a, n) != exclude)
        if not names:
            return None
        plan = [
            k
            for k in self.graph.full_plan([app])
            if k in self.applied and k != exclude and k[0] == app
        ]
        return plan[-1][1] if plan else names[-1]


#: How long a group of SQLite migrations may run before it commits: the output
#: trails the work by at most this (plus the migration running when it is reached).
GROUP_SECONDS = 0.2


@dataclass
class _Group:
    """Migrations that ran in the transaction now open and wait for its commit.

    SQLite syncs its file on every commit, which cost more than the small migrations
    of a long chain themselves (a millisecond or more each); a writer locks the
    whole database anyway, so holding the lock a fifth of a second longer blocks
    nobody who was not already waiting.
    """

    #: Progress events held back until the commit: "OK" is printed for what is kept.
    events: list[Progress] = field(default_factory=list)
    #: (migration, backwards) whose history rows are written just before the commit.
    records: list[tuple[Migration, bool]] = field(default_factory=list)
    #: What is applied, read once when the transaction began (we hold the write lock).
    applied: set[Key] | None = None
    began: float = 0.0


def _groupable(migration: Migration) -> bool:
    """Schema operations only, atomic: its savepoint undoes it whole. A RunPython or
    RunSQL may run long (its line should not wait) or end the transaction itself."""
    from migrate_core.migrations.operations.special import RunPython
    from migrate_core.migrations.operations.special import RunSQL

    return migration.atomic and not any(
        isinstance(op, RunPython | RunSQL) for op in migration.operations
    )


class _TransactionEnded(Exception):
    """An operation committed or rolled back the migration's transaction (step ``index``)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def _ended(conn: Connection, transaction: Any) -> bool:
    """Whether ``transaction`` (the migration's) was committed or rolled back by someone else."""
    return not transaction.is_active or conn.get_transaction() is not transaction


def _what_stopped(exc: BaseException) -> str:
    """The second line of a failure report: the database's message, or what else stopped us."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGTERM) while it ran"
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}), which stops migrate; a migration must return"
    if isinstance(exc, MigrateCoreError):
        return str(exc)  # our own refusal (a schema editor's), already in a person's words
    return db.describe_db_error(exc)


def _data_only(migration: Migration, backwards: bool) -> bool:
    """Whether every operation of ``migration`` changes data only (RunPython, RunSQL DML).

    Where DDL commits as it runs (MySQL/MariaDB) such a migration can still be one
    transaction: all of its updates or none. A RunPython counts as data (Django's rule:
    DDL in it would commit on MySQL whatever we do).
    """
    from migrate_core.migrations.operations.special import RunPython
    from migrate_core.migrations.operations.special import RunSQL
    from migrate_core.schema import sqltext

    if not migration.operations:
        return False
    for op in migration.operations:
        if isinstance(op, RunPython):
            continue
        if not isinstance(op, RunSQL):
            return False
        sql = op.reverse_sql if backwards else op.sql
        if sql is None:
            return False
        statements = sqltext.split_statements(sql) if isinstance(sql, str) else list(sql)
        if not all(_is_dml(statement) for statement in statements):
            return False
    return True


_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "MERGE")


def _is_dml(statement: str) -> bool:
    """A statement that changes or reads rows, not schema (comments before it skipped)."""
    text = statement.strip()
    while text.startswith(("--", "/*")):
        end = text.find("\n") if text.startswith("--") else text.find("*/") + 1
        if end <= 0:
            return False
        text = text[end + 1 :].strip()
    word = text.split(None, 1)[0].upper() if text else ""
    return word in _DML


@contextmanager
def _autocommit(conn: Connection, *, enabled: bool) -> Iterator[None]:
    """``atomic = False``: each statement on its own (CREATE INDEX CONCURRENTLY needs it)."""
    if not enabled or not dialects.get(conn).features.autocommit_mode:
        yield
        return
    previous = conn.get_isolation_level()
    conn.execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()  # a failed statement's transaction; the error itself goes on up
        conn.execution_options(isolation_level=previous)


def _short(op: Any) -> str:
    try:
        text = op.render().text
    except Exception:
        return op.describe()
    return (
        text.replace("migrations.", "", 1)
        if len(text) <= 100
        else text.replace("migrations.", "", 1)[:97] + "..."
    )
