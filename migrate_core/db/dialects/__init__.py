"""The dialect registry: which module knows a database's quirks, looked up by name.

Each supported database has one module here (``sqlite``, ``postgresql``,
``mysql``) holding a :class:`~migrate_core.db.dialects.base.Backend`: its
features, its schema-editor subclass, its engine setup, its migration lock, its
scratch-database handling and its reflection extras. Everything outside this
package asks the registry and reads features; no other module compares dialect
names (Alembic's ``Impl`` registry and Django's per-backend ``DatabaseFeatures``
are the models).

The table below is plain text on purpose: ``cli.py`` needs the names for its
``--dialect`` choice at import time, and importing a dialect module would pull
in SQLAlchemy. Modules are imported on first use.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import ConfigError

if TYPE_CHECKING:
    from migrate_core.db.dialects.base import Backend
    from migrate_core.db.schema_editor import SchemaEditor

# SQLAlchemy dialect name -> our module. MariaDB speaks MySQL's DDL; SQLAlchemy names
# it apart (``mariadb+pymysql://``) and so do we here, only here.
_MODULES: dict[str, str] = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}

#: The dialect of a project with no database URL (and of ``sqlmigrate`` without one).
DEFAULT = "sqlite"

_loaded: dict[str, Backend] = {}

# A bare dialect name ("postgresql"), as opposed to a URL ("postgresql+psycopg://...").
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def names() -> list[str]:
    """Every dialect name the registry answers to, in the order a person reads them."""
    return list(_MODULES)


def get(source: Any) -> Backend:
    """The backend for a dialect name, a URL (text or SQLAlchemy's), an engine or a connection.

    An unknown dialect is a configuration error (exit 2) that lists what is supported.
    """
    name = name_of(source)
    module = _MODULES.get(name)
    if module is None:
        raise ConfigError(
            f"no migrate-core dialect module for {name!r}; supported: {', '.join(names())}"
        )
    backend = _loaded.get(module)
    if backend is None:
        backend = importlib.import_module(f"{__name__}.{module}").BACKEND
        _loaded[module] = backend
    return backend


def name_of(source: Any) -> str:
    """The SQLAlchemy dialect name of a name, URL, engine, connection or SQLAlchemy dialect."""
    if isinstance(source, str):
        if _NAME.match(source):
            return source
        from migrate_core.db.engine import parse_url  # anything else is a URL, or not valid

        return str(parse_url(source).get_backend_name())
    if hasattr(source, "get_backend_name"):  # sqlalchemy.engine.URL
        return str(source.get_backend_name())
    if hasattr(source, "dialect"):  # Engine, Connection
        return str(source.dialect.name)
    return str(source.name)  # a SQLAlchemy Dialect


def name_of_url(url: str | None, *, option: str) -> str:
    """The dialect name of a configured URL (``DEFAULT`` without one), for reports.

    A malformed URL is a usage error naming ``option``, never a traceback that might
    show the password.
    """
    if not url:
        return DEFAULT
    try:
        return name_of(url)
    except ConfigError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def editor(connection: Any) -> SchemaEditor:
    """The schema editor that runs DDL on ``connection``, of its dialect."""
    backend = get(connection)
    return backend.editor_class(backend.runner(connection), backend)


def collecting_editor(name: str) -> SchemaEditor:
    """A schema editor of dialect ``name`` that collects SQL text instead of running it."""
    from migrate_core.db.runners import Collector

    backend = get(name)
    return backend.editor_class(Collector(backend.offline_dialect()), backend)
