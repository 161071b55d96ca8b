"""What a check reports: rules with stable codes, findings, and a check's result.

Findings are data. A finding carries the code of the rule it breaks (``MC101``),
so that JSON readers, GitHub annotations and a migration's ``accept`` can name
it; the code's digits never change meaning once released (add new codes, never
renumber). How findings read is :mod:`migrate_core.checks.report`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Rule:
    """One kind of finding: its stable code, a short name, and its default severity."""

    code: str
    name: str
    severity: str


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
    code: str = ""
    # Accepted by the migration (``Migration.accept``) or the configuration
    # (``allow-irreversible``): still reported, as a note, so nothing is hidden.
    accepted: bool = False


@dataclass
class CheckResult:
    name: str
    summary: str = ""
    findings: list[Finding] = field(default_factory=list)
    skipped: bool = False
    duration: float = 0.0

    @property
    def title(self) -> str:
        from migrate_core.checks.registry import TITLES

        return TITLES[self.name]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def problems(self) -> list[Finding]:
        """Errors and warnings: what is left once accepted findings are set aside."""
        return [f for f in self.findings if f.severity in (ERROR, WARNING)]

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        if self.errors:
            return "failed"
        if self.warnings:
            return "warning"
        return "passed"
