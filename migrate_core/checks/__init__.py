"""What ``check-migrations`` verifies: one module per check, each returning findings.

Checks never print; :mod:`migrate_core.checks.report` formats what they find. Each check
is a function ``run(context) -> CheckResult``; the context carries what several
checks share (the configuration, the loader, the git base, the scratch database).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.migrations.graph import Key
    from migrate_core.migrations.loader import MigrationLoader

ERROR = "error"
WARNING = "warning"
NOTE = "note"

#: Check names as ``--skip`` takes them, in the order they run, with their titles.
CHECKS: dict[str, str] = {
    "graph": "graph",
    "missing": "missing migration",
    "git": "git integrity",
    "reversibility": "reversibility",
    "drift": "schema drift",
    "destructive": "destructive",
}
DATABASE_CHECKS = ("reversibility", "drift")


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    app: str | None = None
    migration: str | None = None
    file: Path | None = None
    line: int | None = None
    details: tuple[str, ...] = ()


@dataclass
class CheckResult:
    name: str
    summary: str = ""
    findings: list[Finding] = field(default_factory=list)
    skipped: bool = False
    duration: float = 0.0

    @property
    def title(self) -> str:
        return CHECKS[self.name]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        if self.errors:
            return "failed"
        if self.warnings:
            return "warning"
        return "passed"


@dataclass
class CheckContext:
    config: Config
    loader: MigrationLoader
    apps: list[str]
    repo_root: Path | None = None
    base_ref: str | None = None
    base_commit: str | None = None
    base_tip: str | None = None
    base_error: str | None = None
    new_migrations: set[Key] | None = None
    database_url: str | None = None
    allow_irreversible: set[str] = field(default_factory=set)
    progress: Any = None
    # Filled by the chain check for the drift check: the scratch database after the chain.
    chain_database_url: str | None = None
    chain_ok: bool = False
    # Why the chain did not apply when only the drift check ran it (see commands/check.py).
    chain_failure: Finding | None = None
    # The models did not import (the missing check reported where): drift cannot run.
    models_broken: bool = False
    models_loaded: Any = None

    def migration_finding(
        self,
        check: str,
        severity: str,
        key: Key,
        message: str,
        *,
        op_index: int | None = None,
        line: int | None = None,
    ) -> Finding:
        migration = self.loader.migration(key)
        if line is None and op_index is not None:
            line = migration.operation_line(op_index)
        if line is None:
            from migrate_core.migrations.migration import class_line

            line = class_line(str(migration.path)) if migration.path else None
        return Finding(
            check=check,
            severity=severity,
            message=message,
            app=key[0],
            migration=key[1],
            file=migration.path,
            line=line,
        )

    def in_scope(self, key: Key) -> bool:
        return key[0] in self.apps
