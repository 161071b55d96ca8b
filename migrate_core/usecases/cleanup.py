"""``check-migrations --cleanup``: find the scratch databases runs left behind, drop the stale.

A run drops its scratch databases on the way out, after a failure, Ctrl-C or SIGTERM
too; only a SIGKILL (or a lost connection, or a machine that went away) leaves one.
Their names carry when, where and by which process they were made
(:mod:`migrate_core.db.scratch`), so this can tell a leftover from a database a run is
using now. Each check run does the same quietly before it makes its own; this is the
command a person runs to see the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate_core.db.scratch import Leftover


@dataclass
class CleanupReport:
    """Where it looked (a masked server URL, or the temporary folder for SQLite), the
    bound it applied, and each scratch database found: dropped, or kept and why."""

    where: str
    older_than: float
    leftovers: list[Leftover] = field(default_factory=list)

    @property
    def dropped(self) -> list[Leftover]:
        return [x for x in self.leftovers if x.dropped]

    @property
    def kept(self) -> list[Leftover]:
        return [x for x in self.leftovers if not x.dropped]

    @property
    def failed(self) -> list[Leftover]:
        """Stale, yet still there: the DROP was refused (the reason says the server's word)."""
        return [x for x in self.leftovers if x.failed]


def cleanup_scratch(database_url: str | None, older_than: float) -> CleanupReport:
    """Drop the stale scratch databases on ``database_url``'s server (None: SQLite's
    scratch folders); a server that cannot be reached is a :class:`DatabaseConnectionError`."""
    import tempfile

    from migrate_core.db import engine as db
    from migrate_core.db import scratch

    where = db.mask_url(database_url) if database_url else f"{tempfile.gettempdir()} (SQLite)"
    found = scratch.stale_scratch(database_url, older_than=older_than)
    return CleanupReport(where, older_than, found)
