"""The shape every check of ``check-migrations`` has.

A check is an object with a name (as ``--skip`` takes it), a title (as the report
shows it), what it needs (see :mod:`migrate_core.checks.resources`), the rules it
reports (each with a stable code), and ``run(resources) -> CheckResult``. The
runner orders the checks, gives them the resources, and skips a check whose needs
are unmet, saying why; a check never reads what another check found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import ClassVar

if TYPE_CHECKING:
    from migrate_core.checks.findings import CheckResult
    from migrate_core.checks.findings import Rule
    from migrate_core.checks.resources import Resources


class Check:
    name: ClassVar[str]
    title: ClassVar[str]
    #: Resources it cannot run without, in the order their absence is explained.
    needs: ClassVar[tuple[str, ...]] = ()
    #: Its own wording for an unmet need, where the resource's general one would mislead.
    skip_reasons: ClassVar[dict[str, str]] = {}
    codes: ClassVar[tuple[Rule, ...]] = ()

    def run(self, resources: Resources) -> CheckResult:
        raise NotImplementedError
