"""showmigrations: every migration of the selected apps and whether the database has it.

Rows, not text: the CLI lays them out. Reading only: the history table is not created
when the database has none (then nothing is applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Literal

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.migrations.graph import Key

#: ``applied`` / ``pending``: a file, applied or not; ``unknown``: a history row with no file.
Status = Literal["applied", "pending", "unknown"]


@dataclass(frozen=True)
class MigrationRow:
    app: str
    name: str
    status: Status
    #: Applied, and the file changed since (its checksum is not the one recorded).
    changed: bool = False

    @property
    def key(self) -> Key:
        return (self.app, self.name)


@dataclass
class AppListing:
    """One app's migrations in the order migrate applies them, then its unknown rows."""

    app: str
    rows: list[MigrationRow] = field(default_factory=list)


@dataclass
class ShowResult:
    #: Per app (without ``plan``); every row of the selected apps' plan (with ``plan``).
    apps: list[AppListing] = field(default_factory=list)
    plan: list[MigrationRow] = field(default_factory=list)


def show_migrations(
    config: Config,
    url: str,
    app_names: list[str] | None = None,
    *,
    plan: bool = False,
    lock_timeout: float = 600.0,
) -> ShowResult:
    """List the migrations of ``app_names`` (all apps when empty).

    With ``plan``, one list in the order ``migrate`` runs them, dependencies of other
    apps included; without, one listing per app of its own migrations. The history is
    read without the write lock (a migrate in flight is not waited for: what it has not
    committed is not applied yet); where the database locks readers out (SQLite while a
    writer commits), the wait lasts at most ``lock_timeout`` and ends in LockTimeout.
    """
    from migrate_core.db import engine as db
    from migrate_core.db.executor import MigrationExecutor

    selected = [a.name for a in config.select_apps(app_names or [])]
    with db.open_connection(url, read_only=True) as conn, db.reading(conn, timeout=lock_timeout):
        executor = MigrationExecutor(conn, config)
        applied = executor.applied
        changed = set(executor.changed_files())
        graph = executor.graph

        def row(key: Key) -> MigrationRow:
            status: Status = "applied" if key in applied else "pending"
            return MigrationRow(key[0], key[1], status, key in changed)

        result = ShowResult()
        if plan:
            result.plan = [row(key) for key in graph.full_plan(selected)]
            return result
        unknown = executor.unknown_applied()
        for app in selected:
            listing = AppListing(app)
            listing.rows = [row(k) for k in graph.full_plan([app]) if k[0] == app]
            listing.rows += [MigrationRow(a, n, "unknown") for a, n in unknown if a == app]
            result.apps.append(listing)
        return result
