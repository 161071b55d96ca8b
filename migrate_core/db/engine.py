"""Engines, connections and the migration lock.

Everything that turns a URL into a connection lives here, so that every
message about a database prints the URL with its password masked. What differs
per database (SQLite's transactional DDL recipe, PostgreSQL's advisory lock,
MySQL's GET_LOCK) is the dialect module's (``db/dialects/``); this module only
asks it.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db import dialects
from migrate_core.errors import ConfigError
from migrate_core.errors import DatabaseConnectionError
from migrate_core.errors import LockTimeout

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

LOCK_NAME = "migrate_core"


#: ``scheme:/`` or ``scheme://``: a URL with a typo in its slashes carries its password all the same.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:/+")
#: Query parameters that carry a secret (``?password=``, ``&sslpassword=``, ``&token=``). The
#: value ends only where another ``&name=`` begins, so an unencoded ``&`` in it stays hidden.
_SECRET_PARAMETER = re.compile(
    r"(?P<key>[?&;][A-Za-z0-9_.\-]*(?:pass|pwd|secret|token)[A-Za-z0-9_.\-]*=)"
    r"(?P<value>.*?)(?=&[A-Za-z_][A-Za-z0-9_.\-]*=|$)",
    re.DOTALL | re.IGNORECASE,
)
MASK = "***"


def mask_url(url: Any) -> str:
    """The URL as a string with every credential in it replaced by ``***``.

    Every message that shows a database URL goes through here. It works on the
    text, not on a parse, because the URLs that need it most are the ones that do
    not parse: a missing ``//``, an unencoded ``@`` or ``/`` in the password. The
    user information is everything before the *last* ``@`` (host names have none),
    so an ``@`` in a password hides more, never less; what follows the user name
    there is masked whole. Secret query parameters are masked too.
    """
    # Query secrets first: an ``@`` in one would otherwise pass for the end of the user information.
    text = _SECRET_PARAMETER.sub(lambda m: m["key"] + MASK, _url_text(url))
    if "@" in text:
        credentials, host = text.rsplit("@", 1)
        scheme = _SCHEME.match(credentials)
        if scheme is None:
            # No ``//``: ``postgresql:user:pw`` or ``user:pw`` cannot be told apart from
            # ``scheme:user``, so everything after the first colon goes.
            head, colon, _ = credentials.partition(":")
            credentials = f"{head}:{MASK}" if colon else credentials
        else:
            user = credentials[scheme.end() :]
            if ":" in user or "@" in user:
                user = re.split("[:@]", user, maxsplit=1)[0]
                credentials = f"{scheme.group()}{user}:{MASK}"
        text = f"{credentials}@{host}"
    return text


def _url_text(url: Any) -> str:
    """A SQLAlchemy ``URL`` rendered with its password (masked by :func:`mask_url` next:
    the object's own masking leaves secrets in the query alone), anything else as text."""
    render = getattr(url, "render_as_string", None)
    if callable(render):
        try:
            return str(render(hide_password=False))
        except Exception:  # not a URL after all; fall back to its text
            pass
    return str(url)


def hide_secrets(text: str, url: Any) -> str:
    """``text`` (a driver's message, say) with ``url``'s password taken out wherever it
    appears: drivers may echo a parameter, and a message is no place for a password."""
    password: str | None = None
    try:
        password = parse_url(url).password
    except Exception:  # a URL that does not parse: its text is masked, not parsed
        password = None
    if password and len(password) >= 3:
        text = text.replace(password, MASK)
    return text


def parse_url(url: Any) -> URL:
    """``url`` as SQLAlchemy's ``URL``, or a :class:`ConfigError` naming it, masked.

    SQLAlchemy raises ``ValueError`` for a port that is not a number and
    ``ArgumentError`` for text it cannot read; both are the user's input."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            f"not a database URL: {mask_url(url)} "
            "(expected dialect+driver://user:password@host:port/database)"
        ) from None
    except ValueError as exc:
        reason = "its port is not a number" if "int()" in str(exc) else str(exc)
        raise ConfigError(f"not a database URL: {mask_url(url)}: {reason}") from None


def create_engine(url: str, *, scratch: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``. ``scratch``: a throwaway database, so durability is not
    worth a disk sync per commit (the checks commit thousands of times)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    parsed = parse_url(url)
    try:
        backend = dialects.get(parsed)
    except ConfigError as exc:
        raise ConfigError(f"{mask_url(url)}: {exc}") from None
    try:
        engine = sa.create_engine(
            parsed, poolclass=NullPool, connect_args=backend.connect_args(), **kwargs
        )
    except ModuleNotFoundError as exc:
        extra = backend.install_extra if exc.name in backend.drivers else None
        hint = f"; install it with: pip install 'migrate-core[{extra}]'" if extra else ""
        raise ConfigError(
            f"the driver for {mask_url(url)} is not installed ({exc.name}){hint}"
        ) from None
    except sa.exc.NoSuchModuleError as exc:
        raise ConfigError(f"unknown database dialect in {mask_url(url)}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{mask_url(url)}: {hide_secrets(_parameter_error(parsed, exc), url)}"
        ) from None
    backend.configure_engine(engine, scratch=scratch)
    return engine


def connect(engine: Engine) -> Connection:
    """A connection, or one line naming the masked URL and the reason.

    Besides the database's refusals (``DBAPIError``), a driver raises whatever its
    parsing of the URL's parameters raises (``connect_timeout=abc`` is a ValueError
    in PyMySQL, an unknown charset an AttributeError, a missing ``ssl_ca`` file a
    FileNotFoundError): those are the user's input too, so they get the same one
    line, never a traceback."""
    import sqlalchemy as sa

    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DatabaseConnectionError(
            f"cannot connect to {mask_url(engine.url)}: {hide_secrets(reason, engine.url)}"
        ) from None
    except Exception as exc:
        # Anything else the driver raises while connecting comes from what the URL asks
        # for (a CA file that is not there, a parameter it cannot read): one line too.
        problem = dialects.get(engine).url_problem(engine.url, exc)
        reason = f"{problem}; fix the URL" if problem else _parameter_error(engine.url, exc)
        raise DatabaseConnectionError(
            f"cannot connect to {mask_url(engine.url)}: {hide_secrets(reason, engine.url)}"
        ) from None


def _parameter_error(url: URL, exc: BaseException) -> str:
    """A driver's complaint about the URL's query parameters, naming the one it is about
    when its value is in the complaint (``invalid literal for int(): 'abc'`` names none)."""
    text = str(exc)
    suspects = [
        f"{key}={value}"
        for key, value in url.query.items()
        if isinstance(value, str) and value and value in text
    ]
    which = (
        f"the parameter {', '.join(suspects)} is not valid"
        if suspects
        else "the driver refused what the URL asks for"
    )
    return f"{which} ({describe_db_error(exc)}); fix the URL"


@contextmanager
def open_connection(
    url: str, *, scratch: bool = False, read_only: bool = False
) -> Iterator[Connection]:
    """A connection to ``url``; ``read_only`` for commands that never write (no write
    lock is taken at BEGIN where a dialect would take one: see :func:`reading`)."""
    engine = create_engine(url, scratch=scratch)
    try:
        connection = connect(engine)
        if read_only:
            from migrate_core.db.dialects.base import READ_ONLY

            connection.execution_options(**{READ_ONLY: True})
        try:
            yield connection
        finally:
            connection.close()
    finally:
        engine.dispose()


def _lock_key(connection: Connection) -> int:
    database = connection.engine.url.database or ""
    return zlib.crc32(f"{LOCK_NAME}:{database}".encode())


@contextmanager
def migration_lock(
    connection: Connection,
    *,
    timeout: float = 600.0,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the database-wide migration lock (PostgreSQL advisory lock, MySQL GET_LOCK).

    Where the dialect has no such lock (SQLite), each migration begins with BEGIN
    IMMEDIATE and re-reads the history table before it runs (see the executor).
    """
    import sqlalchemy as sa

    backend = dialects.get(connection)
    if not backend.features.migration_lock:
        # SQLite: the write lock is the lock; its wait is the busy timeout, which ends in
        # "database is locked" wherever a statement first needed the lock.
        with reading(connection, timeout=timeout, on_wait=on_wait):
            yield
        return
    deadline = time.monotonic() + timeout
    waited = False
    key = _lock_key(connection)
    while True:
        got = backend.try_lock(connection, key)
        connection.commit()
        if got:
            break
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        if time.monotonic() > deadline:
            raise _lock_timeout(connection, timeout)
        time.sleep(0.2)
    try:
        yield
    finally:
        try:
            if connection.in_transaction():
                connection.rollback()
            backend.unlock(connection, key)
            connection.commit()
        except sa.exc.DBAPIError:
            pass  # the connection is gone; the server released the lock with it


@contextmanager
def reading(
    connection: Connection, *, timeout: float = 600.0, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Reads (of the history table) that wait for a writer at most ``timeout`` seconds.

    Where readers can be locked out (SQLite while a writer commits, or holds BEGIN
    EXCLUSIVE), the wait is the one ``migrate`` has, and its end the same LockTimeout
    message: never a traceback, and never an answer read from a half-written database.
    """
    backend = dialects.get(connection)
    if not backend.features.migration_lock:
        # SQLite: the wait is the busy timeout, which ends in "database is locked"
        # wherever a statement first needed the lock.
        backend.wait_for_writers(connection, timeout, on_wait)
    try:
        yield
    except Exception as exc:
        if backend.is_lock_wait_timeout(exc):
            raise _lock_timeout(connection, timeout) from None
        raise


def _lock_timeout(connection: Connection, timeout: float) -> LockTimeout:
    """One message for every database, whatever its lock is."""
    return LockTimeout(
        f"another migrate run holds the migration lock on {mask_url(connection.engine.url)} "
        f"and did not finish within {timeout:.0f} s; try again when it is done"
    )


def has_transactional_ddl(connection: Connection) -> bool:
    return dialects.get(connection).features.transactional_ddl


def describe_db_error(exc: BaseException) -> str:
    """``psycopg.errors.NotNullViolation: null value in column ...`` (first line, no SQL echo)."""
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        orig = exc.orig
        kind = f"{type(orig).__module__}.{type(orig).__qualname__}"
        message = str(orig).strip().splitlines()[0] if str(orig).strip() else repr(orig)
        return f"{kind}: {message}"
    if isinstance(exc, sa.exc.StatementError):
        return f"{type(exc).__name__}: {str(exc.orig or exc).splitlines()[0]}"
    module = type(exc).__module__
    kind = (
        type(exc).__qualname__
        if module in ("builtins", "__main__")
        else f"{module}.{type(exc).__qualname__}"
    )
    text = str(exc).strip()
    return f"{kind}: {text.splitlines()[0] if text else repr(exc)}"
