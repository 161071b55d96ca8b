"""Throwaway databases for checks and tests.

``scratch_database(url)`` yields the URL of a database that exists only for
the duration of the ``with`` block:

* SQLite (or no URL), where a database is a file: a new file in a new folder of the
  system's temporary folder.
* A server (PostgreSQL, MySQL, MariaDB): the URL names it; a database is created
  there and dropped at the end, after a failure or Ctrl-C too. Where the account may
  not create databases, the database the URL names is used instead, but only if it
  holds no object at all, in any schema; a non-empty one is refused and nothing in it
  is touched.

Names. A scratch database (or folder, for SQLite) is named
``mc_scratch_<UTC yyyymmddHHMMSS>_<host>_<user>_<pid>_<6 hex>`` (:func:`new_name`), at
most 63 characters (PostgreSQL's limit; MySQL's is 64): when it was made, by whom and
which process, so that what a SIGKILL left behind can be found, dated and dropped
later (:func:`stale_scratch`, :func:`drop_stale`). Names of older versions,
``mc_scratch_[<label>_]<12 hex>``, are recognised as leftovers without a date.

Signals. Creating and dropping run with SIGINT and SIGTERM deferred
(:func:`_shielded`): a Ctrl-C that arrives then waits until the database is created
(and so known, and dropped on the way out) or dropped, instead of leaving it behind.
The entry points decide what a signal does otherwise (see ``console.py``); this module
only says, through :func:`set_notice`, that a person must wait.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core import options
from migrate_core.db import dialects
from migrate_core.db import engine as db
from migrate_core.errors import DatabaseConnectionError
from migrate_core.errors import NotEmptyError
from migrate_core.options import parse_age

if TYPE_CHECKING:
    from migrate_core.db.introspection import SchemaSnapshot

PREFIX = "mc_scratch_"
#: The longest database name every supported server takes (PostgreSQL: 63 bytes).
MAX_NAME = 63
#: How old a scratch database must be before a check run (or ``--cleanup``) drops it, in seconds.
DEFAULT_STALE_AFTER = parse_age(options.DEFAULT_STALE_AFTER)

_TIME_FORMAT = "%Y%m%d%H%M%S"
_NAME = re.compile(
    r"^mc_scratch_(?P<time>\d{14})_(?P<host>[a-z0-9]+)_(?P<user>[a-z0-9]+)_(?P<pid>\d+)_[0-9a-f]{6}$"
)
#: What versions before the dated names made: ``mc_scratch_<12 hex>``, ``mc_scratch_chain_<12 hex>``.
_LEGACY_NAME = re.compile(r"^mc_scratch_(?:[a-z0-9]+_)?[0-9a-f]{12}$")


class ScratchURL(str):
    """The URL of a scratch database; ``borrowed`` when it is the database the URL named.

    A borrowed database is the only one there is: a second ``scratch_database`` on the
    same URL would find it in use (not empty) and refuse, so callers that want two
    scratch databases must take turns in this one instead (see the drift check).
    """

    borrowed: bool = False


# -- names -------------------------------------------------------------------------------------


def _token(text: str, limit: int) -> str:
    """``text`` reduced to what a name field may hold: lower-case letters and digits."""
    return re.sub(r"[^a-z0-9]", "", text.lower())[:limit] or "x"


def owner() -> tuple[str, str]:
    """``(host, user)`` as scratch names carry them: the host name's first label (at most
    12 characters) and the login name (at most 8), each reduced to ``[a-z0-9]``."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (a container without passwd entry): say so
        user = ""
    return _token(socket.gethostname().split(".")[0], 12), _token(user, 8)


def new_name(now: dt.datetime | None = None) -> str:
    """A fresh scratch database name: ``mc_scratch_<UTC time>_<host>_<user>_<pid>_<random>``."""
    when = (now or dt.datetime.now(dt.timezone.utc)).strftime(_TIME_FORMAT)
    host, user = owner()
    tail = f"_{user}_{os.getpid()}_{secrets.token_hex(3)}"
    room = MAX_NAME - len(PREFIX) - len(when) - 1 - len(tail)
    return f"{PREFIX}{when}_{host[: max(room, 1)]}{tail}"


@dataclass(frozen=True)
class ScratchName:
    """What a scratch database's name says about it. ``created`` is None for a name an
    older version made (no date in it): its age is unknown."""

    name: str
    created: dt.datetime | None = None
    host: str | None = None
    user: str | None = None
    pid: int | None = None

    @property
    def legacy(self) -> bool:
        return self.created is None

    def age(self, now: dt.datetime) -> float | None:
        """Seconds since it was made (None: unknown)."""
        return None if self.created is None else (now - self.created).total_seconds()

    def creator_running(self) -> bool:
        """Whether the process that made it is still running on this machine.

        Only a name made here (same host and user) can say; a process of that number that
        runs is taken for its creator (a reused number keeps the database: the safe way).
        """
        if self.pid is None or (self.host, self.user) != owner():
            return False
        if os.name == "nt":  # os.kill(pid, 0) would end the process there
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # it exists, under another user
            return True
        return True


def parse_name(name: str) -> ScratchName | None:
    """The scratch name ``name`` is, or None when it is not one of ours (never touched)."""
    match = _NAME.match(name)
    if match:
        try:
            created = dt.datetime.strptime(match["time"], _TIME_FORMAT).replace(
                tzinfo=dt.timezone.utc
            )
        except ValueError:  # fourteen digits that are no time: not a name we made
            return None
        return ScratchName(name, created, match["host"], match["user"], int(match["pid"]))
    if _LEGACY_NAME.match(name):
        return ScratchName(name)
    return None


# -- signals -----------------------------------------------------------------------------------

_notice: Callable[[str], None] | None = None


def set_notice(notice: Callable[[str], None] | None) -> None:
    """Where to say "cleaning up scratch database X, please wait" (the entry point's stderr).

    Said when a drop begins because of an interrupt, and again for each signal that
    arrives while creating or dropping. The library itself never prints.
    """
    global _notice
    _notice = notice


def _say(message: str) -> None:
    if _notice is not None:
        _notice(message)


@contextlib.contextmanager
def _shielded(message: str, *, announce: bool = False) -> Iterator[None]:
    """Run a block that SIGINT and SIGTERM must not cut short; signals arriving in it are
    noted, announced with ``message`` and delivered again once the block is done.

    Without this, a second Ctrl-C while the first one's cleanup drops the database aborts
    the DROP and the database stays behind; a Ctrl-C during CREATE DATABASE leaves a
    database the ``finally`` does not know it made. Python runs signal handlers in the
    main thread only, so elsewhere this shields nothing (and changes nothing).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def _defer(signum: int, _frame: Any) -> None:
        pending.append(signum)
        _say(f"still {message}")

    previous = {s: signal.signal(s, _defer) for s in (signal.SIGINT, signal.SIGTERM)}
    if announce:
        _say(message)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if pending:
            # As if it came now: the entry point's handler (or Python's) decides.
            signal.raise_signal(pending[0])


# -- scratch databases -------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(url: str | None = None, *, label: str = "") -> Iterator[str]:
    import sqlalchemy as sa

    backend = dialects.get(url if url is not None else dialects.DEFAULT)
    if backend.features.file_databases:
        folder = _new_folder()
        try:
            yield backend.scratch_file_url(Path(folder, (label or "scratch") + ".db").as_posix())
        finally:
            with _shielded(f"cleaning up scratch folder {folder}, please wait"):
                shutil.rmtree(folder, ignore_errors=True)
        return
    assert url is not None  # the default dialect keeps its databases in files
    parsed = db.parse_url(url)
    name = new_name()
    admin = db.create_engine(
        backend.admin_url(parsed).render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    created = False
    try:
        try:
            with (
                db.connect(admin) as conn,
                _shielded(f"creating scratch database {name}, please wait"),
            ):
                conn.exec_driver_sql(f"CREATE DATABASE {backend.quote_database(name)}")
                created = True
        except sa.exc.DBAPIError as exc:
            if parsed.database:
                with _use_if_empty(parsed, exc) as fallback:
                    yield fallback
                return
            raise DatabaseConnectionError(
                f"cannot create a scratch database on {db.mask_url(parsed)}: {db.describe_db_error(exc)}"
            ) from None
        except DatabaseConnectionError:
            # The maintenance database may be closed to us; the named one may still work.
            if not parsed.database:
                raise
            with _use_if_empty(parsed, None) as fallback:
                yield fallback
            return
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            if created:
                interrupted = isinstance(sys.exc_info()[1], KeyboardInterrupt)
                with _shielded(
                    f"cleaning up scratch database {name}, please wait", announce=interrupted
                ):
                    drop_database(admin, name)
        finally:
            # Also when a signal the drop held back is delivered as it ends.
            admin.dispose()


def _new_folder() -> str:
    """A new folder for SQLite scratch files, named like a server's scratch database."""
    while True:
        folder = Path(tempfile.gettempdir(), new_name())
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # pragma: no cover - 24 random bits, same second and process
            continue
        return str(folder)


def drop_database(admin: Any, name: str) -> None:
    """Drop a scratch database, ending other sessions on it first where the server asks that."""
    backend = dialects.get(admin)
    with db.connect(admin) as conn:
        backend.end_other_sessions(conn, name)
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {backend.quote_database(name)}")


@contextlib.contextmanager
def _use_if_empty(parsed: Any, create_error: BaseException | None) -> Iterator[str]:
    """Fall back to the named database when it is empty, and empty it again afterwards."""
    url = parsed.render_as_string(hide_password=False)
    engine = db.create_engine(url)
    try:
        with db.connect(engine) as conn:
            found = dialects.get(conn).database_contents(conn)
        if found:
            why = f" ({db.describe_db_error(create_error)})" if create_error is not None else ""
            shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
            raise NotEmptyError(
                f"cannot create a scratch database on {db.mask_url(parsed)}{why}, and the database it "
                f"names is not empty ({len(found)} object{'s' if len(found) > 1 else ''}: {shown}); refusing to touch "
                "it. Point --database-url at an empty database, or grant CREATE DATABASE."
            )
        borrowed = ScratchURL(url)
        borrowed.borrowed = True
        try:
            yield borrowed
        finally:
            interrupted = isinstance(sys.exc_info()[1], KeyboardInterrupt)
            with _shielded(
                f"cleaning up borrowed database {parsed.database}, please wait",
                announce=interrupted,
            ):
                empty_database(engine)
    finally:
        engine.dispose()


def empty_database(engine: Any) -> None:
    """Drop every table (and enum type, where those exist apart) the check created in a borrowed database."""
    import sqlalchemy as sa

    backend = dialects.get(engine)
    with db.connect(engine) as conn:
        metadata = sa.MetaData()
        metadata.reflect(conn)
        # Keys in a cycle (users.team_id -> teams, teams.captain_id -> users) are marked
        # use_alter, as the models would have to mark them for drop_all to order the
        # tables: dropped first where ALTER can, ignored where it cannot (SQLite), and no
        # "Can't sort tables for DROP" warning on every check run.
        for table, cycle in sa.schema.sort_tables_and_constraints(metadata.tables.values()):
            if table is None:
                for constraint in cycle:
                    constraint.use_alter = True
        backend.before_emptying(conn)
        metadata.drop_all(conn)
        backend.after_emptying(conn)
        conn.commit()


# -- leftovers: finding and dropping stale scratch databases -----------------------------------


@dataclass(frozen=True)
class Leftover:
    """A scratch database (or SQLite folder) found on the server, and what became of it.

    ``dropped``: it is gone; otherwise ``reason`` says why it was kept. ``failed``: it was
    stale, but the drop was refused (``reason`` has the server's word).
    """

    scratch: ScratchName
    dropped: bool
    reason: str = ""
    failed: bool = False

    @property
    def name(self) -> str:
        return self.scratch.name


def _kept_because(
    scratch: ScratchName, in_use: bool, own: str | None, older_than: float, now: dt.datetime
) -> str | None:
    """Why ``scratch`` must stay, or None when it is stale and may be dropped.

    Conservative in every doubt: the URL's own database, one with a session on it, one
    whose creating process still runs here, one younger than the bound. A name without
    a date (an older version's) is of unknown age: older than the bound only when the
    bound is 0 ("any age").
    """
    if scratch.name == own:
        return "it is the database the URL names"
    if in_use:
        return "in use (a session is connected to it)"
    if scratch.creator_running():
        return f"its creator, process {scratch.pid} on this machine, is still running"
    age = scratch.age(now)
    if age is None:
        if older_than > 0:
            return (
                "its name carries no creation time (an older migrate-core made it); "
                "--cleanup-older-than 0 drops it when nothing uses it"
            )
        return None
    if age < older_than:
        return f"made {describe_age(age)} ago, not older than {describe_age(older_than)}"
    return None


def describe_age(seconds: float) -> str:
    """``7h``, ``5m``, ``40s``, ``2d 3h``: an age as a person reads it."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def stale_scratch(
    url: str | None,
    *,
    older_than: float = DEFAULT_STALE_AFTER,
    now: dt.datetime | None = None,
    drop: bool = True,
) -> list[Leftover]:
    """Every scratch database on ``url``'s server (SQLite: scratch folders in the temporary
    folder), each dropped when stale (``drop``) or kept with the reason.

    Stale: older than ``older_than`` seconds by the time in its name, with no session on
    it, not made by a process still running here, not the URL's own database; nothing
    whose name is not a scratch name is ever looked at. ``now`` stands for the clock.
    Errors connecting propagate (:class:`DatabaseConnectionError`); a drop that fails
    keeps the database, with the server's reason.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    backend = dialects.get(url if url is not None else dialects.DEFAULT)
    if backend.features.file_databases:
        return _stale_folders(older_than, now, drop)
    assert url is not None
    import sqlalchemy as sa

    parsed = db.parse_url(url)
    admin = db.create_engine(
        backend.admin_url(parsed).render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    out: list[Leftover] = []
    try:
        with db.connect(admin) as conn:
            try:
                names = [n for n in backend.database_names(conn) if n.startswith(PREFIX)]
                in_use = backend.databases_in_use(conn) if names else set()
            except sa.exc.DBAPIError as exc:
                raise DatabaseConnectionError(
                    f"cannot list the databases on {db.mask_url(parsed)}: {db.describe_db_error(exc)}"
                ) from None
            found = sorted((s for s in map(parse_name, names) if s), key=lambda s: s.name)
            for scratch in found:
                reason = _kept_because(
                    scratch, scratch.name in in_use, parsed.database, older_than, now
                )
                # Asked again just before: a run may have connected since the list.
                if reason is None and drop and scratch.name in backend.databases_in_use(conn):
                    reason = "in use (a session is connected to it)"
                if reason is not None or not drop:
                    out.append(Leftover(scratch, False, reason or "stale"))
                    continue
                try:
                    with _shielded(f"cleaning up scratch database {scratch.name}, please wait"):
                        backend.drop_stale_database(conn, scratch.name)
                except sa.exc.DBAPIError as exc:
                    why = f"could not drop it: {db.describe_db_error(exc)}"
                    out.append(Leftover(scratch, False, why, failed=True))
                    continue
                out.append(Leftover(scratch, True))
    finally:
        admin.dispose()
    return out


def _stale_folders(older_than: float, now: dt.datetime, drop: bool) -> list[Leftover]:
    """SQLite's scratch folders (dated names only: older versions' ``migrate-core-*``
    folders are indistinguishable from other programs' and stay)."""
    out: list[Leftover] = []
    root = Path(tempfile.gettempdir())
    try:
        entries = sorted(p for p in root.iterdir() if p.name.startswith(PREFIX) and p.is_dir())
    except OSError:
        return out
    for path in entries:
        scratch = parse_name(path.name)
        if scratch is None or scratch.legacy:
            continue
        reason = _kept_because(scratch, False, None, older_than, now)
        if reason is not None or not drop:
            out.append(Leftover(scratch, False, reason or "stale"))
            continue
        with _shielded(f"cleaning up scratch folder {path}, please wait"):
            shutil.rmtree(path, ignore_errors=True)
        gone = not path.exists()
        why = "" if gone else "could not drop it: cannot remove the folder"
        out.append(Leftover(scratch, gone, why, failed=not gone))
    return out


def drop_stale(url: str | None, *, older_than: float = DEFAULT_STALE_AFTER) -> list[str]:
    """What a check run does before it makes its own scratch databases: drop the stale
    ones quietly. Names of the dropped; a server that cannot be asked drops nothing here
    (making the run's own database will say what is wrong)."""
    import sqlalchemy as sa

    try:
        found = stale_scratch(url, older_than=older_than)
    except (DatabaseConnectionError, sa.exc.DBAPIError):
        return []
    return [f.name for f in found if f.dropped]


# -- reading and filling scratch databases -----------------------------------------------------


def reflect(url: str) -> SchemaSnapshot:
    """The schema of the scratch database at ``url``, reflected."""
    from migrate_core.db.introspection import reflect_schema

    with db.open_connection(url, scratch=True) as conn:
        return reflect_schema(conn)


def create_all_and_reflect(
    url: str, metadatas: Iterable[Any], tables: set[str], *, empty_first: bool = False
) -> SchemaSnapshot:
    """``metadata.create_all`` of the named tables on the scratch database at ``url``, reflected:
    the schema the models declare, as this database holds it (what drift compares with).

    ``empty_first``: the database held something else before (a borrowed database is the
    only one a check has, and took the migrated chain first).
    """
    from migrate_core.db.introspection import reflect_schema

    if empty_first:
        engine = db.create_engine(url, scratch=True)
        try:
            empty_database(engine)
        finally:
            engine.dispose()
    with db.open_connection(url, scratch=True) as conn:
        for metadata in metadatas:
            # create_all orders the tables itself, keys in a cycle (users <-> teams) added
            # after both; ``metadata.sorted_tables`` would warn about such a cycle on every
            # check run, a warning the models' author can do nothing about.
            metadata.create_all(
                conn, tables=[t for t in metadata.tables.values() if t.name in tables]
            )
        conn.commit()
        return reflect_schema(conn)
