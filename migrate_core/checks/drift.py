"""Check 5: the migrated schema is exactly what the models declare.

The scratch database after the whole chain is reflected and compared with
``metadata.create_all`` reflected on a second scratch database of the same
kind: every difference in tables, columns, types, nullability, defaults, keys,
indexes and constraints is named. A hand-edited migration whose effect differs
from its declared state shows up here. Tables listed in ``exclude-tables`` are
not the models' business and are ignored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from migrate_core.checks import ERROR
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.checks import Finding
from migrate_core.errors import ModelImportError


def _models_file(context: CheckContext, app: str) -> Path | None:
    module = sys.modules.get(context.config.app(app).models_module)
    path = getattr(module, "__file__", None)
    return Path(path) if path else None


def drift_message(diff: Any) -> str:
    """Say it from the models' side: they are what the migrated database should equal."""
    if diff.actual is None and diff.message.endswith(" is missing"):
        return f"{diff.expected} is declared by the models, but the migrations do not create it"
    if diff.expected is None and diff.message.endswith(" is still there"):
        return f"{diff.actual} is in the migrated database, but the models do not declare it"
    return (
        diff.message.replace(" expected", " in the models")
        if diff.message.endswith(" expected")
        else diff.message
    )


def run(context: CheckContext, expected_url: str | None) -> CheckResult:
    """``expected_url``: the second scratch database; None when there is only one (a
    borrowed database, see :mod:`migrate_core.db.scratch`): the migrated schema is then
    reflected first and the same database emptied for ``create_all``."""
    from migrate_core.db import engine as db
    from migrate_core.db.introspection import diff_schemas
    from migrate_core.db.introspection import reflect_schema
    from migrate_core.schema import project

    result = CheckResult("drift")
    if context.models_broken:
        result.skipped = True
        result.summary = "skipped: the models do not import (see missing migration)"
        return result
    if not context.chain_ok or context.chain_database_url is None:
        if context.chain_failure is not None:
            result.findings.append(context.chain_failure)
            return result
        result.skipped = True
        result.summary = "skipped: the chain did not apply"
        return result
    try:
        model_state = project.model_state(context.config)
        metadatas = project.all_metadata(context.config)
    except ModelImportError as exc:
        if not context.config.python:
            raise
        # create_all needs the models here; with python = ... they may import only there.
        result.skipped = True
        result.summary = (
            f"skipped: the models import only with python = {context.config.python} ({exc})"
        )
        return result
    owned = {name: t.app for name, t in model_state.tables.items()}
    with db.open_connection(context.chain_database_url, scratch=True) as conn:
        actual = reflect_schema(conn)
    if expected_url is None:
        from migrate_core.db.scratch import empty_database

        expected_url = context.chain_database_url
        engine = db.create_engine(expected_url, scratch=True)
        try:
            empty_database(engine)
        finally:
            engine.dispose()
    with db.open_connection(expected_url, scratch=True) as conn:
        for metadata in metadatas:
            tables = [t for t in metadata.sorted_tables if t.name in owned]
            metadata.create_all(conn, tables=tables)
        conn.commit()
        expected = reflect_schema(conn)
    in_scope = set(context.apps)
    ignore = {t for t in set(expected.tables) | set(actual.tables) if context.config.is_excluded(t)}
    ignore |= {t for t, app in owned.items() if app not in in_scope}
    diffs = diff_schemas(expected, actual, ignore_tables=ignore)
    for diff in diffs:
        app = owned.get(diff.table)
        result.findings.append(
            Finding(
                "drift",
                ERROR,
                drift_message(diff),
                app=app,
                file=_models_file(context, app) if app else None,
            )
        )
    if not result.findings:
        result.summary = "migrated schema equals the models"
    return result
