"""The model validation check: the models declare nothing a database cannot create (no database).

``makemigrations`` refuses such models with exit 2 before writing a file; in CI the
same problems (:mod:`migrate_core.schema.validate`, with the configured database's own
rules from :mod:`migrate_core.db.creatable`) are findings, each on the line of the
model that declares it, so a pull request shows them where they are to be fixed.
The rule codes are the ``MV`` codes makemigrations prints: one code for one problem,
whichever command reports it.

The problems come with the models' plan (the ``models`` resource, made in the
project's own interpreter with ``python = ...``); while the models have problems
nothing is planned, and the checks that need the plan are skipped with that reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks.base import Check
from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import STATE
from migrate_core.schema import validate as v

if TYPE_CHECKING:
    from migrate_core.checks.findings import Finding
    from migrate_core.checks.resources import Resources
    from migrate_core.schema.validate import Problem

RULES = (
    Rule(v.INDEX_WITHOUT_COLUMNS, "index without columns", ERROR),
    Rule(v.FOREIGN_KEY_TO_UNKNOWN_TABLE, "foreign key to a table no app declares", ERROR),
    Rule(v.FOREIGN_KEY_TO_UNKNOWN_COLUMN, "foreign key to a column the table lacks", ERROR),
    Rule(v.FOREIGN_KEY_TO_NON_UNIQUE, "foreign key to columns that are not unique", ERROR),
    Rule(v.TABLE_WITHOUT_COLUMNS, "table without columns", ERROR),
    Rule(v.NAME_TOO_LONG, "name longer than the database allows", ERROR),
    Rule(v.DUPLICATE_INDEX_NAME, "index name used by two tables", ERROR),
    Rule(v.UNWRITABLE_TYPE, "type no migration file can write", ERROR),
    Rule(v.FOREIGN_KEY_COLUMN_COUNT, "foreign key with unequal column counts", ERROR),
    Rule(v.UNSUPPORTED_TYPE, "type migrate-core does not create", ERROR),
    Rule(v.COLUMN_WITHOUT_TYPE, "column without a type", ERROR),
    Rule(v.TABLE_IN_OTHER_SCHEMA, "table in a schema other than the default", ERROR),
    Rule(v.TYPE_NOT_CREATABLE, "type the database cannot create", ERROR),
    Rule(v.MYSQL_KEY_ON_TEXT_WITHOUT_LENGTH, "MySQL key on TEXT without a length", ERROR),
    Rule(v.MYSQL_PREFIX_ON_NON_STRING, "MySQL prefix length on a non-string column", ERROR),
    Rule(v.POSTGRESQL_ENUM_WITHOUT_NAME, "PostgreSQL enum without a name", ERROR),
)


class ModelsCheck(Check):
    name = "models"
    title = "model validation"
    # The models' plan replays the migrations: a chain that does not fit is the graph
    # check's finding, and nothing can be planned against it.
    needs = (STATE,)
    codes = RULES

    def run(self, resources: Resources) -> CheckResult:
        from migrate_core.checks.resources import REASONS

        result = CheckResult(self.name)
        outcome = resources.models
        if outcome.failure is not None:
            # The import error is the missing-migration check's finding, reported once.
            result.skipped = True
            result.summary = f"skipped: {REASONS['models']}"
            return result
        if not outcome.validated:
            result.skipped = True
            result.summary = (
                "skipped: the graph has forks (see graph) and the models import only in "
                "the project's interpreter"
            )
            return result
        for problem in outcome.problems:
            result.findings.append(_finding(resources, problem))
        if not result.problems:
            result.summary = "every model can be created"
        return result


def _finding(resources: Resources, problem: Problem) -> Finding:
    """One problem on its model's file and line (the models module when the line is unknown)."""
    config = resources.config
    what = (
        f"model {problem.model} (table {problem.table})"
        if problem.model
        else f"table {problem.table}"
    )
    file = (config.root / problem.path) if problem.path else _models_file(resources, problem)
    return resources.finding(
        problem.code,
        f"{what}: {problem.message}",
        file=file,
        line=problem.line,
        details=(f"fix: {problem.fix}",),
    )


def _models_file(resources: Resources, problem: Problem) -> Path | None:
    """The models module of the app that owns the table, as a file (None: not on disk)."""
    import importlib.util

    config = resources.config
    for app in config.apps.values():
        if not app.owns_table(problem.table):
            continue
        try:
            spec = importlib.util.find_spec(app.models_module)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            return Path(spec.origin)
    return None
