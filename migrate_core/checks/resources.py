"""What the checks share, owned by the runner: each resource made once, when first needed.

A check names what it needs (``Check.needs``); the runner asks :meth:`Resources.unmet`
before running it. A resource that failed to come about (the models do not import,
the chain does not apply, the base branch cannot be found) is data: a reason to skip
and a finding that says where. The finding is reported once, by the first check that
needs the resource and runs (:meth:`Resources.claim`); later checks are skipped with
the reason. That is how a broken chain fails the run even with ``--skip
reversibility``, without one check reading another's flags.

The scratch databases live in the runner's ``ExitStack``: created on first use,
dropped when the run ends, after a failure or Ctrl-C too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import NOTE
from migrate_core.checks.findings import Finding
from migrate_core.errors import GitError
from migrate_core.errors import InvalidStateError

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.errors import MigrationFailed
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.loader import MigrationLoader
    from migrate_core.schema.validate import Problem

#: The migrations replay into one state (no operation contradicts the ones before it).
STATE = "state"
#: The models import, and what makemigrations would write is known.
MODELS = "models"
#: A base branch to tell new migrations from old.
GIT = "git base"
#: An empty scratch database (the reversibility check applies the chain in it).
DATABASE = "scratch database"
#: The scratch database with the whole chain applied, and a second one for the models.
CHAIN = "applied chain"

#: Why a check that needs a resource was skipped, unless the check words it itself.
REASONS = {
    STATE: "the migrations do not fit together",
    MODELS: "the models do not import (see missing migration)",
    GIT: "no base branch (pass --base-ref, or run in a pull request)",
    DATABASE: "no scratch database",
    CHAIN: "the chain did not apply",
}


#: Why the checks that need the models' plan are skipped when the models cannot be created.
MODEL_PROBLEMS = "the models declare what no database can create (see model validation)"


@dataclass(frozen=True)
class Unmet:
    """A need that cannot be met: why, and (once) the finding that says where."""

    need: str
    finding: Finding | None = None
    #: Why, where the need's general reason would mislead (the models import but
    #: declare what no database can create: the model check reports those).
    reason: str | None = None


@dataclass
class GitBase:
    """The base branch: what ``--base-ref`` (or ``GITHUB_BASE_REF``) resolved to."""

    ref: str | None = None
    commit: str | None = None
    tip: str | None = None
    failure: Finding | None = None
    new_migrations: set[Key] | None = None


@dataclass(frozen=True)
class ModelsOutcome:
    """What makemigrations would write, by app; ``pending`` is None when the graph forks
    (no single current state to compare with), ``failure`` when the models do not import,
    ``problems`` when they declare constructs no database can create (then nothing is
    planned: makemigrations would refuse). ``validated``: the problems were looked for."""

    pending: dict[str, list[str]] | None = None
    failure: Finding | None = None
    problems: tuple[Problem, ...] = ()
    validated: bool = False


class Resources:
    def __init__(
        self,
        config: Config,
        loader: MigrationLoader,
        apps: list[str],
        *,
        repo_root: Path | None,
        base: GitBase,
        stack: ExitStack,
        plan_models: Callable[[], ModelsOutcome],
        database_url: str | None = None,
        allow_irreversible: set[str] | None = None,
        progress: Callable[[str], None] | None = None,
        stale_after: float | None = None,
    ) -> None:
        self.config = config
        self.loader = loader
        self.apps = apps
        self.repo_root = repo_root
        self.base = base
        self.database_url = database_url
        self.allow_irreversible = set(allow_irreversible or ())
        self._stack = stack
        self._plan_models = plan_models
        self._progress = progress
        self._models: ModelsOutcome | None = None
        self._state_failure: Finding | bool | None = False  # False: not looked yet
        self._chain_url: str | None = None
        self._chain: Finding | bool | None = False  # False: not applied yet; None: applied
        self._claimed: set[str] = set()
        #: Before the first scratch database: drop leftovers older than this (None: do not look).
        self.stale_after = stale_after
        self.stale_dropped: list[str] = []

    # -- findings ------------------------------------------------------------------------------

    def say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def in_scope(self, key: Key) -> bool:
        return key[0] in self.apps

    def accepted(self, key: Key) -> frozenset[str]:
        """Codes the migration accepts: its ``accept``, plus the irreversible code when the
        configuration or ``--allow-irreversible`` names it (their older spelling of it)."""
        from migrate_core.checks.registry import IRREVERSIBLE

        meta = self.loader.meta.get(key)
        codes = set(meta.accept) if meta is not None else set()
        if f"{key[0]}.{key[1]}" in self.allow_irreversible:
            codes.add(IRREVERSIBLE)
        return frozenset(codes)

    def finding(
        self,
        code: str,
        message: str,
        *,
        key: Key | None = None,
        op_index: int | None = None,
        line: int | None = None,
        file: Path | None = None,
        app: str | None = None,
        details: tuple[str, ...] = (),
    ) -> Finding:
        """A finding of rule ``code``, its check and severity from the rule.

        With ``key``, the finding is about that migration: its file and the line of
        operation ``op_index`` (else of ``class Migration``) unless ``file`` is given,
        and accepted when the migration accepts the code.
        """
        from migrate_core.checks.registry import RULES
        from migrate_core.checks.registry import check_of

        rule = RULES[code]
        severity = rule.severity
        accepted = False
        migration_name = None
        if key is not None:
            app = key[0]
            migration_name = key[1]
            if file is None and key in self.loader.files:
                migration = self.loader.migration(key)
                file = migration.path
                if line is None and op_index is not None:
                    line = migration.operation_line(op_index)
                if line is None and file is not None:
                    from migrate_core.migrations.migration import class_line

                    line = class_line(str(file))
            if code in self.accepted(key):
                severity, accepted = NOTE, True
        return Finding(
            check=check_of(code),
            severity=severity,
            message=message,
            app=app,
            migration=migration_name,
            file=file,
            line=line,
            details=details,
            code=code,
            accepted=accepted,
        )

    def failure_finding(self, key: Key, what: str, exc: MigrationFailed, code: str) -> Finding:
        """A migration that failed to run: its file and line, the operation, the database's words."""
        detail = (
            f"{exc.operation}: {exc.error}"
            if exc.operation
            else (exc.error or str(exc).splitlines()[0])
        )
        return self.finding(code, f"{key[1]} {what}: {detail}", key=key, op_index=exc.op_index)

    # -- needs ---------------------------------------------------------------------------------

    def unmet(self, need: str) -> Unmet | None:
        """Whether ``need`` can be met, making the resource if nobody has yet."""
        failure: Finding | None
        if need == STATE:
            failure = self.state_failure()
            return Unmet(need, failure) if failure is not None else None
        if need == MODELS:
            failure = self.models.failure
            if failure is None and self.models.problems:
                return Unmet(need, reason=MODEL_PROBLEMS)
            return Unmet(need, failure) if failure is not None else None
        if need == GIT:
            if self.base.failure is not None:
                return Unmet(need, self.base.failure)
            if self.base.commit is None or self.repo_root is None:
                return Unmet(need)
            return None
        if need == DATABASE:
            return None  # made on first use; a server that refuses is a usage error (exit 2)
        if need == CHAIN:
            failure = self.chain_outcome()
            return Unmet(need, failure) if failure is not None else None
        raise ValueError(f"unknown need {need!r}")

    def claim(self, need: str, check: str) -> Finding | None:
        """The finding of an unmet ``need``, the first time a check asks (else None)."""
        unmet = self.unmet(need)
        if unmet is None or unmet.finding is None or need in self._claimed:
            return None
        self._claimed.add(need)
        finding = unmet.finding
        return finding if finding.check == check else replace(finding, check=check)

    # -- the migrations' state -----------------------------------------------------------------

    def state_failure(self) -> Finding | None:
        """The operation that does not fit the state the migrations before it build, if any.

        A hand-edited chain (a column removed twice, a table renamed that is not there)
        breaks everything that needs the migrations' state; the finding names the
        migration and the operation, so it lands on its line.
        """
        if self._state_failure is False:
            from migrate_core.checks.registry import STATE_DOES_NOT_FIT

            try:
                self.loader.project_state()
                self._state_failure = None
            except InvalidStateError as exc:
                if exc.key is None:
                    self._state_failure = self.finding(STATE_DOES_NOT_FIT, str(exc))
                else:
                    self._state_failure = self.finding(
                        STATE_DOES_NOT_FIT,
                        f"{exc.key[1]} does not fit the migrations before it: {exc.reason}",
                        key=exc.key,
                        op_index=exc.op_index,
                    )
        assert not isinstance(self._state_failure, bool)
        return self._state_failure

    # -- the models ----------------------------------------------------------------------------

    @property
    def models(self) -> ModelsOutcome:
        if self._models is None:
            self._models = self._plan_models()
        return self._models

    # -- scratch databases ---------------------------------------------------------------------

    def chain_database(self) -> str:
        """The scratch database the chain runs in (created on first use)."""
        if self._chain_url is None:
            from migrate_core.db.scratch import drop_stale
            from migrate_core.db.scratch import scratch_database

            if self.stale_after is not None:
                # Other runs' leftovers (a SIGKILL leaves one): each run sweeps, so nobody has to.
                self.say("dropping stale scratch databases")
                self.stale_dropped = drop_stale(self.database_url, older_than=self.stale_after)
            self.say("creating scratch databases")
            self._chain_url = self._stack.enter_context(
                scratch_database(self.database_url, label="chain")
            )
        return self._chain_url

    def models_database(self) -> str | None:
        """A second scratch database for ``create_all``; None when the chain's database is
        borrowed (see :mod:`migrate_core.db.scratch`): it is then the only one."""
        chain = self.chain_database()
        if getattr(chain, "borrowed", False):
            return None
        from migrate_core.db.scratch import scratch_database

        url: str = self._stack.enter_context(scratch_database(self.database_url, label="models"))
        return url

    def chain_applied(self, failure: Finding | None = None) -> None:
        """Record what applying the whole chain in :meth:`chain_database` came to.

        ``failure``: where it stopped, already reported by the caller (so nobody reports
        it twice); None: every migration applied.
        """
        self._chain = failure
        if failure is not None:
            self._claimed.add(CHAIN)

    def chain_outcome(self) -> Finding | None:
        """None when the chain is applied in :meth:`chain_database`, else where it stopped.

        Nobody applied it yet (the reversibility check was skipped): apply it here,
        forwards only.
        """
        if self._chain is False:
            self._chain = self._apply_chain()
        assert not isinstance(self._chain, bool)
        return self._chain

    def _apply_chain(self) -> Finding | None:
        from migrate_core.checks.registry import DOES_NOT_APPLY
        from migrate_core.db import engine as db
        from migrate_core.db.executor import MigrationExecutor
        from migrate_core.db.recorder import MigrationRecorder
        from migrate_core.errors import MigrationFailed

        with db.open_connection(self.chain_database(), scratch=True) as conn:
            MigrationRecorder(conn).ensure_table()
            executor = MigrationExecutor(conn, self.config, loader=self.loader)
            try:
                executor.migrate(executor.migration_plan(executor.targets_for(None, None)))
            except MigrationFailed as exc:
                if exc.key is not None:
                    return self.failure_finding(exc.key, "does not apply", exc, DOES_NOT_APPLY)
                return self.finding(DOES_NOT_APPLY, str(exc))
        return None


def resolve_base(
    config: Config, loader: MigrationLoader, ref: str | None, repo_root: Path | None
) -> GitBase:
    """The base branch and the migrations new since it; a ref that does not resolve is a
    finding (a pass without a base would prove nothing), not an exception."""
    from migrate_core.checks.registry import BASE_NOT_FOUND
    from migrate_core.checks.registry import check_of
    from migrate_core.vcs import history

    if ref is None and os.environ.get("GITHUB_ACTIONS") == "true":
        ref = os.environ.get("GITHUB_BASE_REF") or None
    base = GitBase(ref=ref)
    if ref is None:
        return base

    def failed(message: str) -> GitBase:
        base.failure = Finding(check_of(BASE_NOT_FOUND), ERROR, message, code=BASE_NOT_FOUND)
        return base

    if repo_root is None:
        return failed(f"--base-ref {ref}: {config.root} is not inside a git repository")
    try:
        base.commit = history.resolve_base(repo_root, ref)
        base.tip = history.resolve_ref(repo_root, ref)
    except GitError as exc:
        return failed(str(exc))
    changed = history.changed_files(
        repo_root, base.commit, [config.app(a).migrations_dir for a in config.apps]
    )
    new: set[Key] = set()
    for path, status in changed.items():
        if status != "A" or not path.endswith(".py"):
            continue
        absolute = (repo_root / path).resolve()
        for app in config.apps.values():
            if absolute.parent == app.migrations_dir.resolve():
                key = (app.name, absolute.stem)
                if key in loader.files:
                    new.add(key)
    base.new_migrations = new
    return base
