"""Check 2: the models and the migrations agree (no database needed).

This is ``makemigrations --check``: the operations it would write are listed.
"""

from __future__ import annotations

from migrate_core.checks import ERROR
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.checks import Finding


def run(context: CheckContext) -> CheckResult:
    from migrate_core.commands.makemigrations import pending_changes

    result = CheckResult("missing")
    if context.loader.graph.conflicts():
        # With two leaves there is no single "current" state to compare; the graph check says why.
        result.skipped = True
        result.summary = "skipped: the graph has forks (see graph)"
        return result
    migrations, _declined = pending_changes(context.config, context.apps)
    by_app: dict[str, list[str]] = {}
    for m in migrations:
        by_app.setdefault(m.app, []).extend(m.descriptions)
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
