"""Check 6: migrations new on this branch that destroy data or fail on tables with rows.

Dropping a table or column, narrowing a type, NOT NULL without a default on an
existing table: each is a warning naming the file, the line and what is lost.
Only migrations new since the base branch are looked at; the old ones ran already.
"""

from __future__ import annotations

from migrate_core.checks import WARNING
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.schema.state import ProjectState


def run(context: CheckContext) -> CheckResult:
    result = CheckResult("destructive")
    new = context.new_migrations
    if new is None:
        result.skipped = True
        result.summary = "skipped: no base branch to tell new migrations from old"
        return result
    loader = context.loader
    state = ProjectState()
    looked = 0
    for key in loader.graph.full_plan():
        migration = loader.migration(key)
        if key not in new or not context.in_scope(key):
            migration.mutate_state(state, copy=False)
            continue
        looked += 1
        for index, op in enumerate(migration.operations):
            loss = None
            try:
                loss = op.data_loss(state)
            finally:
                op.state_forwards(migration.app, state)
            if loss:
                result.findings.append(
                    context.migration_finding("destructive", WARNING, key, loss, op_index=index)
                )
    if not result.findings:
        result.summary = f"{looked} new migration{'s' if looked != 1 else ''}, nothing destructive"
    return result
