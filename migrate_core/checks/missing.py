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
            details = _with_advice(lines, f"(run: migrate-core makemigrations {app})")
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


def _with_advice(lines: list[str], advice: str) -> tuple[str, ...]:
    """The operations, the command to run beside the first one that carries no note of its
    own (a note already names a command: ``--rename`` for a possible rename, or the
    question to answer), or on a line of its own when each carries one."""
    out = list(lines)
    for i, line in enumerate(out):
        if NOTE_START not in line:
            out[i] = f"{line}          {advice}"
            return tuple(out)
    return (*out, f"  {advice}")


#: Where a note starts in a line of makemigrations' listing (``- Remove column a  (its data ...)``).
NOTE_START = "  ("
