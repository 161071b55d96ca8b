"""What ``check-migrations`` verifies: registered checks, each reporting findings with codes.

``registry`` lists the checks in order (graph, missing, git, reversibility, drift,
destructive) and every rule code; ``resources`` is what the runner
(:mod:`migrate_core.usecases.check`) owns and hands them: the loaded migrations,
the models, the git base, the scratch databases and the outcome of applying the
chain, each as data. Checks never print and never read another check's result;
:mod:`migrate_core.checks.report` formats what they find.
"""

from __future__ import annotations

from migrate_core.checks.findings import ERROR
from migrate_core.checks.findings import NOTE
from migrate_core.checks.findings import WARNING
from migrate_core.checks.findings import CheckResult
from migrate_core.checks.findings import Finding
from migrate_core.checks.findings import Rule

__all__ = ["ERROR", "NOTE", "WARNING", "CheckResult", "Finding", "Rule"]
