"""Findings to text, JSON, GitHub annotations and a GitHub job summary.

The checks produce data; this module is the only place that decides how it
reads. Paths in JSON and GitHub output are relative to the repository root
(GitHub resolves annotation paths from there, also when the project lives in a
subfolder), else to the project folder. No colours outside a terminal.

Every finding shows its rule code (``MC101``): after the place in text, in the
title of a GitHub annotation, as ``code`` in JSON. Accepted findings (a migration's
``accept``, ``allow-irreversible``) are notes marked ``(accepted)``; JSON gives them
``"accepted": true``. Both JSON fields were added to version 1, which only grows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import NOTE
from migrate_core.checks.findings import WARNING
from migrate_core.checks.registry import DATABASE_CHECKS
from migrate_core.checks.registry import TITLES
from migrate_core.paths import relative
from migrate_core.paths import shown

if TYPE_CHECKING:
    from migrate_core.checks.findings import Finding
    from migrate_core.usecases.check import CheckReport

JSON_VERSION = 1
SYMBOLS = {"passed": "✔", "failed": "✖", "warning": "⚠", "skipped": "-"}
COLOURS = {"passed": "green", "failed": "red", "warning": "yellow", "skipped": None}


def display_path(report: CheckReport, path: Path | None) -> str | None:
    """For JSON and GitHub: relative to the repository root, else to the project."""
    if path is None:
        return None
    return relative(path, report.repo_root, report.project_root, Path.cwd())


def _text_path(report: CheckReport, path: Path | None) -> str | None:
    """Text output is read in a terminal: paths relative to where the command runs."""
    if path is None:
        return None
    return shown(path, report.repo_root, report.project_root)


def _where(report: CheckReport, finding: Finding) -> str:
    path = _text_path(report, finding.file)
    if path is None or finding.file is None or finding.file.is_dir():
        return ""
    return f"{path}:{finding.line}  " if finding.line else f"{path}: "


def verdict(report: CheckReport) -> str:
    parts = []
    parts.append(
        f"{report.errors} error{'s' if report.errors != 1 else ''}"
        if report.errors
        else "no errors"
    )
    if report.warnings:
        parts.append(f"{report.warnings} warning{'s' if report.warnings != 1 else ''}")
    if report.accepted:
        parts.append(f"{report.accepted} accepted")
    database = (
        f"{report.dialect} scratch database"
        if any(r.name in DATABASE_CHECKS and not r.skipped for r in report.results)
        else "no database"
    )
    return (
        f"{', '.join(parts)} ({database}, {report.migrations} migrations, {report.duration:.1f}s)"
    )


def _said(finding: Finding) -> str:
    """The message with its code in front, and marked when accepted."""
    text = f"{finding.code} {finding.message}" if finding.code else finding.message
    return text + " (accepted)" if finding.accepted else text


def render_text(report: CheckReport, *, colour: bool = False) -> str:
    import click

    lines = []
    for result in report.results:
        status = result.status
        symbol = SYMBOLS[status]
        if colour and COLOURS[status]:
            symbol = click.style(symbol, fg=COLOURS[status])
        head = f"{symbol} {result.title:<17} "
        findings = result.findings
        if not findings:
            lines.append(head + (result.summary or status))
            continue
        first, rest = findings[0], findings[1:]
        lines.append(head + _where(report, first) + _said(first))
        lines.extend(f"    {d}" for d in first.details)
        for finding in rest:
            lines.append(f"    {_where(report, finding)}{_said(finding)}")
            lines.extend(f"    {d}" for d in finding.details)
    lines.append(verdict(report))
    return "\n".join(lines) + "\n"


def as_dict(report: CheckReport) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "ok": report.errors == 0,
        "summary": {
            "errors": report.errors,
            "warnings": report.warnings,
            "migrations": report.migrations,
            "database": report.dialect,
            "duration": round(report.duration, 3),
            "base_ref": report.base_ref,
        },
        "checks": [
            {
                "name": r.name,
                "title": r.title,
                "status": r.status,
                "summary": r.summary,
                "duration": round(r.duration, 3),
            }
            for r in report.results
        ],
        "findings": [
            {
                "check": f.check,
                "code": f.code,
                "severity": f.severity,
                "accepted": f.accepted,
                "app": f.app,
                "migration": f.migration,
                "file": display_path(report, f.file),
                "line": f.line,
                "message": f.message,
                "details": list(f.details),
            }
            for f in report.findings
        ],
    }


def render_json(report: CheckReport) -> str:
    return json.dumps(as_dict(report), indent=2, sort_keys=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: CheckReport) -> str:
    """Workflow commands: one ``::error``/``::warning`` annotation per finding."""
    lines = []
    for f in report.findings:
        level = {ERROR: "error", WARNING: "warning", NOTE: "notice"}.get(f.severity, "notice")
        props = []
        path = display_path(report, f.file)
        if path and f.file is not None and not f.file.is_dir():
            props.append(f"file={_escape_property(path)}")
            if f.line:
                props.append(f"line={f.line}")
        title = TITLES.get(f.check, f.check) + (f" {f.code}" if f.code else "")
        props.append(f"title={_escape_property(title)}")
        message = f.message + (" (accepted)" if f.accepted else "")
        message += "\n" + "\n".join(f.details) if f.details else ""
        lines.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
    lines.append(verdict(report))
    return "\n".join(lines) + "\n"


# -- the job summary ---------------------------------------------------------------------------

MERMAID_TAIL = 25


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_summary(report: CheckReport) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: checks, findings, and each app's migration graph."""
    out = ["## check-migrations", "", verdict(report), "", "| | check | result |", "|---|---|---|"]
    for r in report.results:
        problems, accepted = len(r.problems), len(r.findings) - len(r.problems)
        parts = [f"{problems} finding{'s' if problems != 1 else ''}"] if problems else []
        if accepted:
            parts.append(f"{accepted} accepted")
        text = ", ".join(parts) if r.findings else r.summary
        out.append(f"| {SYMBOLS[r.status]} | {r.title} | {_md(text or r.status)} |")
    if report.findings:
        out += [
            "",
            "### Findings",
            "",
            "| severity | check | code | where | message |",
            "|---|---|---|---|---|",
        ]
        for f in report.findings:
            path = display_path(report, f.file) or ""
            where = f"`{path}:{f.line}`" if path and f.line else (f"`{path}`" if path else "")
            message = f.message + (" (accepted)" if f.accepted else "")
            message += "<br>" + "<br>".join(f.details) if f.details else ""
            out.append(
                f"| {f.severity} | {TITLES.get(f.check, f.check)} | {f.code} | {where} "
                f"| {_md(message)} |"
            )
    if report.graph is not None:
        for app in report.apps:
            out += [
                "",
                f"### Migrations of {app}",
                "",
                "```mermaid",
                *mermaid_graph(report, app),
                "```",
            ]
    return "\n".join(out) + "\n"


def mermaid_graph(report: CheckReport, app: str) -> list[str]:
    """The app's migrations, newest last; the ones new on this branch highlighted.

    Long histories show only their tail (and everything new) so the summary stays readable.
    """
    graph = report.graph
    assert graph is not None
    plan = [k for k in graph.full_plan([app]) if k[0] == app]
    keep = set(plan[-MERMAID_TAIL:]) | {k for k in report.new_migrations if k[0] == app}
    shown = [k for k in plan if k in keep]
    ids = {k: f"m{i}" for i, k in enumerate(shown)}
    lines = ["graph TD"]
    hidden = len(plan) - len(shown)
    if hidden:
        lines.append(f'  earlier["... {hidden} earlier migrations"]')
    for key in shown:
        lines.append(f'  {ids[key]}["{key[1]}"]')
    for key in shown:
        parents = [p for p in graph.nodes[key].parents if p in ids]
        for parent in sorted(parents):
            lines.append(f"  {ids[parent]} --> {ids[key]}")
        if hidden and not parents and any(p[0] == app for p in graph.nodes[key].parents):
            lines.append(f"  earlier --> {ids[key]}")
    new = [ids[k] for k in shown if k in report.new_migrations]
    if new:
        lines.append("  classDef new fill:#fff3b0,stroke:#d4a000,stroke-width:2px")
        lines.append(f"  class {','.join(new)} new")
    return lines
