"""Throwaway databases for checks and tests.

``scratch_database(url)`` yields the URL of a database that exists only for
the duration of the ``with`` block:

* SQLite (or no URL): a new file in a temporary folder.
* PostgreSQL / MySQL / MariaDB: the URL names a server; a database with a
  random name is created there and dropped at the end, after a failure or
  Ctrl-C too. Where the account may not create databases, the database the
  URL names is used instead, but only if it is empty; a non-empty one is
  refused and nothing in it is touched.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate_core.db import engine as db
from migrate_core.errors import DatabaseConnectionError
from migrate_core.errors import NotEmptyError

PREFIX = "mc_scratch_"


class ScratchURL(str):
    """The URL of a scratch database; ``borrowed`` when it is the database the URL named.

    A borrowed database is the only one there is: a second ``scratch_database`` on the
    same URL would find it in use (not empty) and refuse, so callers that want two
    scratch databases must take turns in this one instead (see the drift check).
    """

    borrowed: bool = False


def _admin_url(url: Any) -> Any:
    """Where to connect to create a database: the server's maintenance database."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(database="postgres")
    return url.set(database=None)


def _quote(dialect_name: str, name: str) -> str:
    return f"`{name}`" if dialect_name in ("mysql", "mariadb") else f'"{name}"'


@contextlib.contextmanager
def scratch_database(url: str | None = None, *, label: str = "") -> Iterator[str]:
    import sqlalchemy as sa

    if url is None or url.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="migrate-core-")
        try:
            yield f"sqlite:///{Path(folder, (label or 'scratch') + '.db').as_posix()}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    parsed = sa.engine.make_url(url)
    name = f"{PREFIX}{label + '_' if label else ''}{secrets.token_hex(6)}"
    admin = db.create_engine(
        _admin_url(parsed).render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    created = False
    try:
        try:
            with db.connect(admin) as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {_quote(admin.dialect.name, name)}")
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
        if created:
            drop_database(admin, name)
        admin.dispose()


def drop_database(admin: Any, name: str) -> None:
    """Drop a scratch database, ending other sessions on it first (PostgreSQL)."""
    import sqlalchemy as sa

    with db.connect(admin) as conn:
        if admin.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(admin.dialect.name, name)}")


@contextlib.contextmanager
def _use_if_empty(parsed: Any, create_error: BaseException | None) -> Iterator[str]:
    """Fall back to the named database when it is empty, and empty it again afterwards."""
    url = parsed.render_as_string(hide_password=False)
    engine = db.create_engine(url)
    try:
        with db.connect(engine) as conn:
            found = _contents(conn)
        if found:
            why = f" ({db.describe_db_error(create_error)})" if create_error is not None else ""
            raise NotEmptyError(
                f"cannot create a scratch database on {db.mask_url(parsed)}{why}, and the database it "
                f"names is not empty ({len(found)} objects, e.g. {found[0]}); refusing to touch "
                "it. Point --database-url at an empty database, or grant CREATE DATABASE."
            )
        borrowed = ScratchURL(url)
        borrowed.borrowed = True
        try:
            yield borrowed
        finally:
            empty_database(engine)
    finally:
        engine.dispose()


def _contents(conn: Any) -> list[str]:
    """What is in the database's default schema, as ``kind name``, sorted.

    Not only tables: :func:`empty_database` drops every table and PostgreSQL enum type
    afterwards, so a database holding a view or a type of its own is not ours to borrow.
    """
    import sqlalchemy as sa

    inspector = sa.inspect(conn)
    found = [f"table {t}" for t in inspector.get_table_names()]
    found += [f"view {v}" for v in inspector.get_view_names()]
    if conn.dialect.name == "postgresql":
        found += [f"sequence {q}" for q in inspector.get_sequence_names()]
        found += [f"type {e['name']}" for e in inspector.get_enums()]
    return sorted(found)


def empty_database(engine: Any) -> None:
    """Drop every table (and PostgreSQL enum type) the check created in a borrowed database."""
    import sqlalchemy as sa

    with db.connect(engine) as conn:
        metadata = sa.MetaData()
        metadata.reflect(conn)
        if conn.dialect.name in ("mysql", "mariadb"):
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        metadata.drop_all(conn)
        if conn.dialect.name == "postgresql":
            rows = conn.execute(
                sa.text(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE t.typtype = 'e' AND n.nspname = current_schema()"
                )
            )
            for (name,) in rows.fetchall():
                conn.exec_driver_sql(f'DROP TYPE IF EXISTS "{name}" CASCADE')
        conn.commit()
