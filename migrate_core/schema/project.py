"""The user's project as migrate-core sees it: its models, imported, as schema state.

``models = "shop.models:Base"`` names a MetaData, a DeclarativeBase subclass or
a registry. The project folder goes on ``sys.path`` first, so the models import
the way they do in the project itself. Errors while importing become a message
with the file and line, not a traceback wall: a commit hook shows this to a
developer who only wanted to commit.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.config import AppConfig
from migrate_core.config import Config
from migrate_core.errors import ConfigError
from migrate_core.errors import ModelImportError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from migrate_core.schema.state import ProjectState


def add_to_path(folder: Path) -> None:
    """Put ``folder`` first on ``sys.path`` (moving it there if it is further down).

    First, because the project being worked on must win over any other copy of a
    package with the same name: an installed one, another project's, or (for the
    commit hook) the working tree behind the staged copy.
    """
    text = str(folder)
    if sys.path and sys.path[0] == text:
        return
    with contextlib.suppress(ValueError):
        sys.path.remove(text)
    sys.path.insert(0, text)


def _import_error(exc: BaseException, module: str, root: Path) -> ModelImportError:
    """The most useful place to point at: the deepest frame inside the project."""
    path: str | None = None
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename:
        path, line = exc.filename, exc.lineno
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            # "<frozen os>", "<string>": no file, but resolved against the working folder
            # (the project) they would pass for one inside it.
            if frame.filename.startswith("<"):
                continue
            try:
                Path(frame.filename).resolve().relative_to(root)
            except ValueError:
                continue
            if "site-packages" in frame.filename:
                continue
            path, line = frame.filename, frame.lineno
    where = ""
    if path:
        try:
            shown = str(Path(path).resolve().relative_to(root))
        except ValueError:
            shown = path
        where = f"{shown}:{line}: " if line else f"{shown}: "
    detail = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    if isinstance(exc, SystemExit):
        detail = (
            f"it called sys.exit({exc.code!r}); a models module must not exit "
            '(put script code under if __name__ == "__main__":)'
        )
    hint = ""
    if (
        isinstance(exc, ModuleNotFoundError)
        and exc.name
        and f"{module}.".startswith(f"{exc.name}.")
    ):
        # The configured module itself (or its package) is missing: no install fixes that;
        # a commit that deletes or moves the file is the usual way here.
        hint = (
            f"\n(there is no {exc.name} in {root.resolve()}, and models = {module!r} in "
            "[tool.migrate-core] names it: restore it, or point models at where the models are now)"
        )
    elif isinstance(exc, ModuleNotFoundError):
        hint = (
            f"\n(the models import {exc.name!r}, which this Python cannot find: install it here, "
            'or set python = "path/to/your/venv/bin/python" in [tool.migrate-core])'
        )
    return ModelImportError(
        f"{where}cannot import the models of {module}: {type(exc).__name__}: {detail}{hint}",
        path=path,
        line=line,
    )


def metadata_of(obj: Any, spec: str) -> sa.MetaData:
    import sqlalchemy as sa

    if isinstance(obj, sa.MetaData):
        return obj
    metadata = getattr(obj, "metadata", None)
    if isinstance(metadata, sa.MetaData):
        return metadata
    raise ConfigError(
        f"models = {spec!r} is {obj!r}: expected a MetaData, a DeclarativeBase subclass or a registry"
    )


def import_models(app: AppConfig, root: Path) -> Any:
    """The object ``models`` names (a MetaData, a DeclarativeBase subclass or a registry)."""
    add_to_path(root)
    module_name = app.models_module
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        # SystemExit too: a models module that calls sys.exit() would end the command
        # (and the commit hook) silently, with its own exit code.
        raise _import_error(exc, module_name, root.resolve()) from None
    attr = app.models_attr
    if attr is None:
        for candidate in ("Base", "metadata", "mapper_registry"):
            if hasattr(module, candidate):
                attr = candidate
                break
        else:
            raise ConfigError(
                f'models = "{app.models}": name the object, e.g. "{module_name}:Base"'
            )
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(
                f'models = "{app.models}": {module_name} has no attribute {attr}'
            ) from None
    return obj


def import_metadata(app: AppConfig, root: Path) -> sa.MetaData:
    return metadata_of(import_models(app, root), app.models)


def mapped_classes(
    config: Config, root: Path | None = None
) -> dict[str, tuple[str, dict[str, str]]]:
    """``{class name: (table name, {attribute: column name})}`` of the ORM-mapped models.

    Rename hints from a diff name classes and attributes; the questioner wants
    tables and columns. Core ``Table`` objects have no classes and give no hints.
    """
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for app in config.apps.values():
        obj = import_models(app, root or config.root)
        registry = getattr(obj, "registry", obj)
        for mapper in getattr(registry, "mappers", ()):
            table: Any = getattr(mapper, "local_table", None)
            if table is None or not hasattr(table, "name"):
                continue
            columns = {}
            for prop in mapper.column_attrs:
                if len(prop.columns) == 1 and getattr(prop.columns[0], "table", None) is table:
                    columns[prop.key] = prop.columns[0].name
            out[mapper.class_.__name__] = (table.name, columns)
    return out


def model_state(
    config: Config, apps: list[AppConfig] | None = None, *, root: Path | None = None
) -> ProjectState:
    """The state the models declare, for ``apps`` (all by default).

    Unnamed constraints get default names first (see ``assign_default_names``),
    so that what we generate and what ``metadata.create_all`` creates agree.
    Several apps may share one MetaData; each then owns only the tables its
    ``tables`` patterns match, and a table claimed by no app, or by two, is an error.
    """
    from migrate_core.schema import codegen
    from migrate_core.schema import naming
    from migrate_core.schema import sqla
    from migrate_core.schema import state as st

    selected = apps if apps is not None else list(config.apps.values())
    by_metadata: dict[int, list[AppConfig]] = {}
    metadatas: dict[int, sa.MetaData] = {}
    for app in config.apps.values():
        metadata = import_metadata(app, root or config.root)
        metadatas[id(metadata)] = metadata
        by_metadata.setdefault(id(metadata), []).append(app)
    result = st.ProjectState()
    wanted = {a.name for a in selected}
    for key, owners in by_metadata.items():
        metadata = metadatas[key]
        naming.assign_default_names(metadata)
        if len(owners) > 1 and any(o.tables is None for o in owners):
            names = ", ".join(o.name for o in owners)
            raise ConfigError(
                f"apps {names} share one MetaData; give each a tables = [...] list in {config.path} "
                "so every table has one owner"
            )
        for table in sorted(metadata.tables.values(), key=lambda t: t.name):
            if config.is_excluded(table.name):
                continue
            claimed = [o for o in owners if o.owns_table(table.name)]
            if len(claimed) > 1:
                raise ConfigError(
                    f"table {table.name} matches the tables of apps {', '.join(o.name for o in claimed)}"
                )
            if not claimed:
                continue
            app = claimed[0]
            if app.name in wanted:
                for column in table.columns:
                    codegen.refuse_project_compilers(column.type)
                result.add_table(sqla.table_state(table, app.name))
    return result


def all_metadata(config: Config, *, root: Path | None = None) -> list[sa.MetaData]:
    """Each distinct MetaData of the configured apps (with default names assigned)."""
    from migrate_core.schema import naming

    seen: dict[int, sa.MetaData] = {}
    for app in config.apps.values():
        metadata = import_metadata(app, root or config.root)
        naming.assign_default_names(metadata)
        seen[id(metadata)] = metadata
    return list(seen.values())
