"""sqlmigrate: the SQL of one migration, forwards or backwards, without a database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from migrate_core.db import dialects
from migrate_core.errors import MigrateCoreError
from migrate_core.migrations.loader import MigrationLoader
from migrate_core.schema.state import ProjectState

if TYPE_CHECKING:
    from migrate_core.config import Config


def sql_for_migration(
    config: Config, app: str, name: str, *, dialect: str, backwards: bool = False
) -> str:
    loader = MigrationLoader(config)
    config.app(app)
    key = loader.get_by_prefix(app, name)
    migration = loader.migration(key)
    # The state before the migration: everything it depends on, as migrate would have applied it.
    parents = sorted(loader.graph.nodes[key].parents)
    before = loader.project_state(parents) if parents else ProjectState()
    states = [before]
    for op in migration.operations:
        nxt = states[-1].clone()
        op.state_forwards(app, nxt)
        states.append(nxt)
    editor = dialects.collecting_editor(dialect)
    indexes = range(len(migration.operations))
    for i in reversed(indexes) if backwards else indexes:
        op = migration.operations[i]
        editor.comment(f"{'Undo ' if backwards else ''}{op.describe()}")
        if backwards:
            if not op.reversible:
                raise MigrateCoreError(
                    f"{migration.location(i)}: {op.describe()} in {migration} cannot be reversed"
                )
            op.database_backwards(app, editor, states[i + 1], states[i])
        else:
            op.database_forwards(app, editor, states[i], states[i + 1])
    return editor.sql_output()
