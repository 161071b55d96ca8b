"""Throwaway databases for checks and tests.

``scratch_database(url)`` yields the URL of a database that exists only for
the duration of the ``with`` block:

* SQLite (or no URL), where a database is a file: a new file in a temporary folder.
* A server (PostgreSQL, MySQL, MariaDB): the URL names it; a database with a
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
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db import dialects
from migrate_core.db import engine as db
from migrate_core.errors import DatabaseConnectionError
from migrate_core.errors import NotEmptyError

if TYPE_CHECKING:
    from migrate_core.db.introspection import SchemaSnapshot

PREFIX = "mc_scratch_"


class ScratchURL(str):
    """The URL of a scratch database; ``borrowed`` when it is the database the URL named.

    A borrowed database is the only one there is: a second ``scratch_database`` on the
    same URL would find it in use (not empty) and refuse, so callers that want two
    scratch databases must take turns in this one instead (see the drift check).
    """

    borrowed: bool = False


@contextlib.contextmanager
def scratch_database(url: str | None = None, *, label: str = "") -> Iterator[str]:
    import sqlalchemy as sa

    backend = dialects.get(url if url is not None else dialects.DEFAULT)
    if backend.features.file_databases:
        folder = tempfile.mkdtemp(prefix="migrate-core-")
        try:
            yield backend.scratch_file_url(Path(folder, (label or "scratch") + ".db").as_posix())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    assert url is not None  # the default dialect keeps its databases in files
    parsed = db.parse_url(url)
    name = f"{PREFIX}{label + '_' if label else ''}{secrets.token_hex(6)}"
    admin = db.create_engine(
        backend.admin_url(parsed).render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    created = False
    try:
        try:
            with db.connect(admin) as conn:
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
        if created:
            drop_database(admin, name)
        admin.dispose()


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
    found += dialects.get(conn).extra_contents(conn, inspector)
    return sorted(found)


def empty_database(engine: Any) -> None:
    """Drop every table (and enum type, where those exist apart) the check created in a borrowed database."""
    import sqlalchemy as sa

    backend = dialects.get(engine)
    with db.connect(engine) as conn:
        metadata = sa.MetaData()
        metadata.reflect(conn)
        backend.before_emptying(conn)
        metadata.drop_all(conn)
        backend.after_emptying(conn)
        conn.commit()


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
            metadata.create_all(
                conn, tables=[t for t in metadata.sorted_tables if t.name in tables]
            )
        conn.commit()
        return reflect_schema(conn)
