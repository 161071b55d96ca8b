"""sqlmigrate: the SQL of one migration, forwards or backwards, without a database.

The same walk migrate runs (:meth:`Migration.steps`), through an editor that collects
SQL text instead of executing it, so what is shown is what would run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from migrate_core.db import dialects
from migrate_core.errors import MigrateCoreError
from migrate_core.migrations.loader import MigrationLoader
from migrate_core.schema.state import ProjectState

if TYPE_CHECKING:
    from migrate_core.config import Config


def sql_for_migration(
    config: Config, app: str, name: str, *, dialect: str | None = None, backwards: bool = False
) -> str:
    """The SQL of migration ``name`` (a name or a unique prefix) of ``app``.

    ``dialect`` defaults to the configured database's (never connected to), else SQLite.
    Backwards, an operation without a reverse is an error naming its file and line.
    """
    loader = MigrationLoader(config)
    config.app(app)
    key = loader.get_by_prefix(app, name)
    migration = loader.migration(key)
    # The state before the migration: everything it depends on, as migrate would have applied it.
    parents = sorted(loader.graph.nodes[key].parents)
    before = loader.project_state(parents) if parents else ProjectState()
    editor = dialects.collecting_editor(dialect or configured_dialect(config) or dialects.DEFAULT)
    steps = list(migration.steps(before, backwards=backwards))
    if steps:  # as the executor does: a dialect may look at where the migration ends
        editor.end_state = steps[-1].before if backwards else steps[-1].after
    for step in steps:
        op = step.operation
        if backwards and not op.reversible:
            raise MigrateCoreError(
                f"{step.location}: {op.describe()} in {migration} cannot be reversed"
            )
        editor.comment(f"{'Undo ' if backwards else ''}{op.describe()}")
        step.run(editor)
    editor.finish()
    return editor.sql_output()


def configured_dialect(config: Config) -> str | None:
    """The dialect of the configured database URL, read from the URL alone (no connection).

    A URL that names no dialect we know is an error, not a quiet fall back to SQLite:
    the SQL printed would be another database's, and look right.
    """
    from migrate_core.config import ENV_DATABASE_URL
    from migrate_core.errors import ConfigError

    from_env = os.environ.get(ENV_DATABASE_URL)
    url = from_env or config.database_url
    if not url:
        return None
    source = ENV_DATABASE_URL if from_env else f"database-url in {config.path}"
    try:
        return dialects.get(url).name
    except ConfigError as exc:
        raise ConfigError(
            f"{source}: {exc}; or name the SQL dialect: --dialect {'|'.join(dialects.names())}"
        ) from None
