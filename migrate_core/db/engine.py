"""Engines, connections and the migration lock.

Everything that turns a URL into a connection lives here, so that every
message about a database prints the URL with its password masked. What differs
per database (SQLite's transactional DDL recipe, PostgreSQL's advisory lock,
MySQL's GET_LOCK) is the dialect module's (``db/dialects/``); this module only
asks it.
"""

from __future__ import annotations

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
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

LOCK_NAME = "migrate_core"


def mask_url(url: Any) -> str:
    """The URL as a string with its password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        text = str(url)
        if "@" in text and "://" in text:
            scheme, rest = text.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}"
        return text


def create_engine(url: str, *, scratch: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``. ``scratch``: a throwaway database, so durability is not
    worth a disk sync per commit (the checks commit thousands of times)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"not a database URL: {mask_url(url)}") from None
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
    backend.configure_engine(engine, scratch=scratch)
    return engine


def connect(engine: Engine) -> Connection:
    import sqlalchemy as sa

    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DatabaseConnectionError(
            f"cannot connect to {mask_url(engine.url)}: {reason}"
        ) from None


@contextmanager
def open_connection(url: str, *, scratch: bool = False) -> Iterator[Connection]:
    engine = create_engine(url, scratch=scratch)
    try:
        connection = connect(engine)
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
        backend.wait_for_writers(connection, timeout, on_wait)
        try:
            yield
        except Exception as exc:
            if backend.is_lock_wait_timeout(exc):
                raise _lock_timeout(connection, timeout) from None
            raise
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
