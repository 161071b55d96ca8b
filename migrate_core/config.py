"""Read ``[tool.migrate-core]`` from the project's pyproject.toml.

[tool.migrate-core]
database-url = "sqlite:///shop.db"     # MIGRATE_CORE_DATABASE_URL or --database-url win
python = ".venv/bin/python"            # optional: import the models with this interpreter
exclude-tables = ["spatial_ref_sys"]   # tables the models do not own
allow-irreversible = ["shop.0005_backfill_codes"]

[tool.migrate-core.apps.shop]
models = "shop.models:Base"            # a MetaData, a DeclarativeBase subclass or a registry
migrations = "shop/migrations"         # relative to the folder of pyproject.toml
tables = ["shop_*"]                    # optional: only these tables of the MetaData
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from migrate_core.errors import ConfigError

SECTION = "migrate-core"
ENV_DATABASE_URL = "MIGRATE_CORE_DATABASE_URL"
_APP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODELS_SPEC = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")


@dataclass(frozen=True)
class AppConfig:
    name: str
    models: str
    migrations_dir: Path
    tables: tuple[str, ...] | None = None

    @property
    def models_module(self) -> str:
        return self.models.split(":", 1)[0]

    @property
    def models_attr(self) -> str | None:
        return self.models.split(":", 1)[1] if ":" in self.models else None

    def owns_table(self, name: str) -> bool:
        if self.tables is None:
            return True
        import fnmatch

        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.tables)


@dataclass(frozen=True)
class Config:
    path: Path
    apps: dict[str, AppConfig]
    database_url: str | None = None
    python: str | None = None
    exclude_tables: tuple[str, ...] = ()
    allow_irreversible: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    def app(self, name: str) -> AppConfig:
        try:
            return self.apps[name]
        except KeyError:
            known = ", ".join(self.apps) or "none"
            raise ConfigError(f"no app named {name!r} in {self.path} (apps: {known})") from None

    def select_apps(self, names: tuple[str, ...] | list[str] | None) -> list[AppConfig]:
        if not names:
            return list(self.apps.values())
        return [self.app(n) for n in names]

    def resolve_database_url(self, override: str | None = None) -> str:
        url = override or os.environ.get(ENV_DATABASE_URL) or self.database_url
        if not url:
            raise ConfigError(
                f"no database URL: set database-url in [tool.{SECTION}] of {self.path}, "
                f"or {ENV_DATABASE_URL}, or pass --database-url"
            )
        return sqlite_relative_to(url, self.root)

    def is_excluded(self, table: str) -> bool:
        import fnmatch

        return any(fnmatch.fnmatchcase(table, p) for p in self.exclude_tables)


def sqlite_relative_to(url: str, root: Path) -> str:
    """``sqlite:///shop.db`` means shop.db next to pyproject.toml, wherever the command runs."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) and not url.startswith("sqlite+pysqlite:///"):
        return url
    head, _, rest = url.partition(":///")
    path, sep, query = rest.partition("?")
    if not path or path == ":memory:" or path.startswith("/") or path.startswith("file:"):
        return url
    return f"{head}:///{(root / path).as_posix()}{sep}{query}"


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def find_pyproject(start: Path | None = None) -> Path:
    """The nearest pyproject.toml with a [tool.migrate-core] section, walking upwards."""
    here = (start or Path.cwd()).resolve()
    first_seen: Path | None = None
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            first_seen = first_seen or candidate
            if SECTION in _load_toml(candidate).get("tool", {}):
                return candidate
    if first_seen is not None:
        raise ConfigError(
            f"no [tool.{SECTION}] section in {first_seen} (searched upwards from {here})"
        )
    raise ConfigError(
        f"no pyproject.toml with a [tool.{SECTION}] section (searched upwards from {here})"
    )


def load_config(path: Path | str | None = None, start: Path | None = None) -> Config:
    """Load the configuration from ``path`` (a pyproject.toml or its folder), else search."""
    if path is not None:
        pyproject = Path(path)
        if pyproject.is_dir():
            pyproject = pyproject / "pyproject.toml"
        if not pyproject.is_file():
            raise ConfigError(f"no such file: {pyproject}")
        pyproject = pyproject.resolve()
    else:
        pyproject = find_pyproject(start)
    data = _load_toml(pyproject)
    section = data.get("tool", {}).get(SECTION)
    if section is None:
        raise ConfigError(f"no [tool.{SECTION}] section in {pyproject}")
    return parse_config(section, pyproject)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


_KNOWN_KEYS = {"database-url", "python", "exclude-tables", "allow-irreversible", "apps"}
_KNOWN_APP_KEYS = {"models", "migrations", "tables"}


def parse_config(section: dict[str, Any], pyproject: Path) -> Config:
    where = f"[tool.{SECTION}] in {pyproject}"
    unknown = sorted(set(section) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN_KEYS))})"
        )
    apps_raw = section.get("apps")
    if not isinstance(apps_raw, dict) or not apps_raw:
        raise ConfigError(
            f"{where}: no apps; add one, e.g.\n\n"
            f'[tool.{SECTION}.apps.shop]\nmodels = "shop.models:Base"\nmigrations = "shop/migrations"'
        )
    root = pyproject.parent
    apps: dict[str, AppConfig] = {}
    seen_dirs: dict[Path, str] = {}
    for name, raw in apps_raw.items():
        app_where = f"[tool.{SECTION}.apps.{name}] in {pyproject}"
        if not _APP_NAME.match(name):
            raise ConfigError(f"{app_where}: app names must be Python identifiers")
        if not isinstance(raw, dict):
            raise ConfigError(f"{app_where}: must be a table with models and migrations")
        unknown = sorted(set(raw) - _KNOWN_APP_KEYS)
        if unknown:
            raise ConfigError(f"{app_where}: unknown key(s) {', '.join(unknown)}")
        models = raw.get("models")
        if not isinstance(models, str) or not _MODELS_SPEC.match(models):
            raise ConfigError(f'{app_where}: models must look like "package.module:Base"')
        migrations = raw.get("migrations", f"{name}/migrations")
        if not isinstance(migrations, str):
            raise ConfigError(f"{app_where}: migrations must be a folder path")
        migrations_dir = (root / migrations).resolve()
        if migrations_dir in seen_dirs:
            raise ConfigError(
                f"{app_where}: apps {seen_dirs[migrations_dir]} and {name} share {migrations}"
            )
        seen_dirs[migrations_dir] = name
        tables = raw.get("tables")
        apps[name] = AppConfig(
            name=name,
            models=models,
            migrations_dir=migrations_dir,
            tables=_str_list(tables, f"{app_where} tables") if tables is not None else None,
        )
    url = section.get("database-url")
    if url is not None and not isinstance(url, str):
        raise ConfigError(f"{where}: database-url must be a string")
    python = section.get("python")
    if python is not None and not isinstance(python, str):
        raise ConfigError(f"{where}: python must be a path to an interpreter")
    return Config(
        path=pyproject,
        apps=apps,
        database_url=url,
        python=python,
        exclude_tables=_str_list(section.get("exclude-tables"), f"{where} exclude-tables"),
        allow_irreversible=_str_list(
            section.get("allow-irreversible"), f"{where} allow-irreversible"
        ),
        raw=section,
    )
