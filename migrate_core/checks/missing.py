"""The missing-migration check: the models and the migrations agree (no database needed).

This is ``makemigrations --check``: the operations it would write are listed. The
runner plans them (in the project's own interpreter with ``python = ...``) as the
``models`` resource; a models file that does not import is that resource's failure,
reported here on its line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migrate_core.checks.base import Check
from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import MODELS
from migrate_core.checks.resources import STATE

if TYPE_CHECKING:
    from migrate_core.checks.resources import Resources

MODELS_DIFFER = Rule("MC301", "models differ from migrations", ERROR)
MODELS_DO_NOT_IMPORT = Rule("MC302", "models do not import", ERROR)


class MissingCheck(Check):
    name = "missing"
    title = "missing migration"
    needs = (STATE, MODELS)
    codes = (MODELS_DIFFER, MODELS_DO_NOT_IMPORT)

    def run(self, resources: Resources) -> CheckResult:
        result = CheckResult(self.name)
        pending = resources.models.pending
        if pending is None:
            # With two leaves there is no single "current" state to compare; the graph check says why.
            result.skipped = True
            result.summary = "skipped: the graph has forks (see graph)"
            return result
        for app, lines in sorted(pending.items()):
            details = tuple(
                f"{line}          (run: migrate-core makemigrations {app})" if i == 0 else line
                for i, line in enumerate(lines)
            )
            result.findings.append(
                resources.finding(
                    MODELS_DIFFER.code,
                    f"{app}: models differ from migrations",
                    app=app,
                    file=resources.config.app(app).migrations_dir,
                    details=details,
                )
            )
        if not result.problems:
            result.summary = "models and migrations agree"
        return result
