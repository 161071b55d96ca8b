"""The drift check: the migrated schema is exactly what the models declare.

The scratch database after the whole chain is reflected and compared with
``metadata.create_all`` reflected on a second scratch database of the same
kind: every difference in tables, columns, types, nullability, defaults, keys,
indexes and constraints is named. A hand-edited migration whose effect differs
from its declared state shows up here. Tables listed in ``exclude-tables`` are
not the models' business and are ignored. The chain's database comes from the
resources: applied by the reversibility check, or (skipped) by the resources.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.checks.base import Check
from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import CHAIN
from migrate_core.checks.resources import MODELS
from migrate_core.checks.resources import STATE
from migrate_core.errors import ModelImportError

if TYPE_CHECKING:
    from migrate_core.checks.resources import Resources

DRIFT = Rule("MC601", "migrated schema differs from the models", ERROR)


class DriftCheck(Check):
    name = "drift"
    title = "schema drift"
    needs = (STATE, MODELS, CHAIN)
    codes = (DRIFT,)

    def run(self, resources: Resources) -> CheckResult:
        return run(resources)


def _models_file(resources: Resources, app: str) -> Path | None:
    module = sys.modules.get(resources.config.app(app).models_module)
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


def run(resources: Resources) -> CheckResult:
    from migrate_core.db import scratch
    from migrate_core.db.introspection import diff_schemas
    from migrate_core.schema import project

    result = CheckResult(DriftCheck.name)
    config = resources.config
    try:
        model_state = project.model_state(config)
        metadatas = project.all_metadata(config)
    except ModelImportError as exc:
        if not config.python:
            raise
        # create_all needs the models here; with python = ... they may import only there.
        result.skipped = True
        result.summary = f"skipped: the models import only with python = {config.python} ({exc})"
        return result
    owned = {name: t.app for name, t in model_state.tables.items()}
    chain_url = resources.chain_database()
    actual = scratch.reflect(chain_url)
    # A borrowed database is the only one: the migrated schema is read first, then the
    # same database emptied for create_all.
    expected_url = resources.models_database()
    expected = scratch.create_all_and_reflect(
        expected_url or chain_url, metadatas, set(owned), empty_first=expected_url is None
    )
    in_scope = set(resources.apps)
    ignore = {t for t in set(expected.tables) | set(actual.tables) if config.is_excluded(t)}
    ignore |= {t for t, app in owned.items() if app not in in_scope}
    diffs = diff_schemas(expected, actual, ignore_tables=ignore)
    for diff in diffs:
        app = owned.get(diff.table)
        result.findings.append(
            resources.finding(
                DRIFT.code,
                drift_message(diff),
                app=app,
                file=_models_file(resources, app) if app else None,
            )
        )
    if not result.problems:
        result.summary = "migrated schema equals the models"
    return result
