"""Check 2: the models and the migrations agree (no database needed).

This is ``makemigrations --check``: the operations it would write are listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.checks import ERROR
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.checks import Finding
from migrate_core.errors import ModelImportError

if TYPE_CHECKING:
    from migrate_core.usecases.worker import PlanAnswer


def run(context: CheckContext) -> CheckResult:
    from migrate_core.usecases.makemigrations import pending_changes

    result = CheckResult("missing")
    if context.loader.graph.conflicts():
        # With two leaves there is no single "current" state to compare; the graph check says why.
        result.skipped = True
        result.summary = "skipped: the graph has forks (see graph)"
        return result
    by_app: dict[str, list[str]] = {}
    try:
        answer = _in_project_python(context)
        if answer is not None:
            for m in answer.migrations:
                by_app.setdefault(m.app, []).extend(m.descriptions)
        else:
            migrations, _declined = pending_changes(context.config, context.apps)
            for nm in migrations:
                by_app.setdefault(nm.app, []).extend(nm.descriptions)
    except ModelImportError as exc:
        # In CI a broken models file is a finding on its line, like any other problem.
        context.models_broken = True
        result.findings.append(
            Finding(
                "missing",
                ERROR,
                str(exc),
                file=Path(exc.path) if exc.path else None,
                line=exc.line,
            )
        )
        return result
    for app, lines in sorted(by_app.items()):
        details = tuple(
            f"{line}          (run: migrate-core makemigrations {app})" if i == 0 else line
            for i, line in enumerate(lines)
        )
        result.findings.append(
            Finding(
                check="missing",
                severity=ERROR,
                message=f"{app}: models differ from migrations",
                app=app,
                file=context.config.app(app).migrations_dir,
                details=details,
            )
        )
    if not result.findings:
        result.summary = "models and migrations agree"
    return result


def _in_project_python(context: CheckContext) -> PlanAnswer | None:
    """The worker's answer when ``python = ...`` names another interpreter, else None.

    The models may import packages only the project's environment has (a pre-commit
    hook's environment has migrate-core and SQLAlchemy, nothing else): plan there, as
    makemigrations does.
    """
    from migrate_core.usecases import worker

    config = context.config
    if not config.python:
        return None
    python = worker.resolve_python(config.python, config.root)
    if not worker.uses_other_python(python):
        return None
    request = worker.PlanRequest(
        pyproject=str(config.path), section=config.raw, apps=tuple(context.apps), mode="pending"
    )
    return worker.run_in(python, request)
