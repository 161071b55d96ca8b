"""Every check of ``check-migrations``, in the order they run, and every rule code.

The order matters only for reading: each check says what it needs and the
resources make it on first use. Codes are stable (``MC1xx`` destructive, ``MC2xx``
graph, ``MC3xx`` missing migration, ``MC4xx`` git integrity, ``MC5xx``
reversibility, ``MC6xx`` drift; the model validation check reports the ``MV0xx``/``MV1xx``/``MV2xx``
codes makemigrations refuses models with); the README's check-migrations section lists them.
"""

from __future__ import annotations

from migrate_core.checks import destructive
from migrate_core.checks import drift
from migrate_core.checks import git_integrity
from migrate_core.checks import graph
from migrate_core.checks import missing
from migrate_core.checks import models
from migrate_core.checks import reversibility
from migrate_core.checks.base import Check
from migrate_core.checks.findings import Rule
from migrate_core.checks.resources import CHAIN
from migrate_core.checks.resources import DATABASE

REGISTRY: tuple[Check, ...] = (
    graph.GraphCheck(),
    models.ModelsCheck(),
    missing.MissingCheck(),
    git_integrity.GitIntegrityCheck(),
    reversibility.ReversibilityCheck(),
    drift.DriftCheck(),
    destructive.DestructiveCheck(),
)

#: Check names as ``--skip`` takes them, in the order they run.
NAMES: tuple[str, ...] = tuple(c.name for c in REGISTRY)
TITLES: dict[str, str] = {c.name: c.title for c in REGISTRY}
#: The checks that need a scratch database (``--no-database`` skips them).
DATABASE_CHECKS: tuple[str, ...] = tuple(
    c.name for c in REGISTRY if {DATABASE, CHAIN} & set(c.needs)
)
RULES: dict[str, Rule] = {rule.code: rule for c in REGISTRY for rule in c.codes}
_CHECK_OF: dict[str, str] = {rule.code: c.name for c in REGISTRY for rule in c.codes}

# Codes the runner and the resources report themselves.
IRREVERSIBLE = reversibility.IRREVERSIBLE.code
DOES_NOT_APPLY = reversibility.DOES_NOT_APPLY.code
STATE_DOES_NOT_FIT = graph.DOES_NOT_FIT.code
BASE_NOT_FOUND = git_integrity.BASE_NOT_FOUND.code


def check_of(code: str) -> str:
    """The check a rule code belongs to."""
    return _CHECK_OF[code]


def by_name(name: str) -> Check:
    return next(c for c in REGISTRY if c.name == name)
