"""Helpers for the engine tests: migration files, CLI runs, and the reflected schema.

Every test here works on a real database and real files. The schema is read back
with ``sqlalchemy.inspect`` into plain, comparable data (a :class:`Snapshot`), so a
test can say "after rolling back, the database is exactly what it was" with one
``==`` and get a readable diff when it is not.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
import warnings
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner
from click.testing import Result
from sqlalchemy.engine import Connection

from migrate_core.cli import main
from migrate_core.db.recorder import TABLE_NAME

HEADER = "import sqlalchemy as sa\nfrom migrate_core import migrations\n"


# -- migration files -------------------------------------------------------------------------------


def migration_source(
    operations: str,
    dependencies: Iterable[tuple[str, str]] = (),
    *,
    prelude: str = "",
    attributes: str = "",
) -> str:
    """A migration file in the format ``makemigrations`` writes.

    ``operations`` is the text between ``operations = [`` and ``]`` (dedented here);
    ``prelude`` goes between the imports and the class (helper functions for RunPython);
    ``attributes`` adds class attributes such as ``replaces = [...]``.
    """
    deps = ", ".join(repr(tuple(d)) for d in dependencies)
    body = textwrap.indent(textwrap.dedent(operations).strip("\n"), " " * 8)
    attrs = textwrap.indent(textwrap.dedent(attributes).strip("\n"), " " * 4)
    parts = [HEADER]
    if prelude:
        parts.append(textwrap.dedent(prelude).strip("\n") + "\n")
    parts.append("\nclass Migration(migrations.Migration):")
    parts.append(f"    dependencies = [{deps}]")
    if attrs:
        parts.append(attrs)
    parts.append(
        f"    operations = [\n{body}\n    ]\n" if body.strip() else "    operations = []\n"
    )
    return "\n".join(parts)


def write_migration(
    root: Path,
    name: str,
    operations: str = "",
    dependencies: Iterable[tuple[str, str]] = (),
    *,
    app: str = "shop",
    prelude: str = "",
    attributes: str = "",
) -> Path:
    path = root / app / "migrations" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    source = migration_source(operations, dependencies, prelude=prelude, attributes=attributes)
    path.write_text(source, encoding="utf-8")
    return path


def write_chain(root: Path, migrations: list[tuple[str, str]], *, app: str = "shop") -> list[str]:
    """Write ``[(name, operations), ...]`` as a linear chain; return the names in order."""
    previous: str | None = None
    for name, operations in migrations:
        deps = [(app, previous)] if previous else []
        write_migration(root, name, operations, deps, app=app)
        previous = name
    return [name for name, _ in migrations]


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first occurrence of ``needle`` in a file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# The models module make_project needs. migrate, showmigrations and sqlmigrate never
# import it; the schema comes from the migration files alone.
MODELS = """
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""


# -- the command line ------------------------------------------------------------------------------


def cli(*args: str, expect: int | None = 0) -> Result:
    """Run ``migrate-core ARGS`` in-process; an unexpected traceback fails the test loudly."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if expect is not None:
        assert result.exit_code == expect, (
            f"migrate-core {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def migrate(url: str, *args: str, expect: int | None = 0) -> Result:
    return cli("migrate", *args, "--database-url", url, expect=expect)


# -- the database ----------------------------------------------------------------------------------


_ENGINES: dict[str, sa.Engine] = {}


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    # One pooled engine per database: connecting costs more than most queries here, and
    # SQLAlchemy caches compiled reflection queries per engine. dispose_engines() closes
    # them after each test (the scratch database is dropped with them idle or gone).
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = sa.create_engine(url, pool_size=1, max_overflow=2)
    with engine.connect() as conn:
        yield conn


def dispose_engines() -> None:
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


def execute(url: str, *statements: str) -> None:
    """Run statements and commit (test data, outside any migration)."""
    with connection(url) as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.commit()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with connection(url) as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def history(url: str) -> list[tuple[str, str, str | None]]:
    """``(app, name, checksum)`` of each history row, in the order they were written."""
    return [
        (r[0], r[1], r[2])
        for r in rows(url, f"SELECT app, name, checksum FROM {TABLE_NAME} ORDER BY id")
    ]


def dialect_of(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


# -- the reflected schema --------------------------------------------------------------------------


def _norm_sql(text: str | None) -> str | None:
    """SQL text without the quoting, casts and spacing each database adds its own way."""
    if text is None:
        return None
    text = re.sub(r"::[a-z ]+(\(\d+(,\d+)?\))?", "", text.lower())
    return re.sub(r"[\s`\"()]", "", text)


def default_text(default: str | None) -> str | None:
    """A reflected server default as a bare value: ``'new'::character varying`` -> ``new``."""
    if default is None:
        return None
    text = re.sub(r"::[\w ]+(\(\d+(,\d+)?\))?$", "", default.strip())
    text = text.strip("()")
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]
    return text


@dataclass(frozen=True)
class Column:
    type: str
    nullable: bool
    default: str | None
    comment: str | None
    autoincrement: bool


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    ondelete: str | None
    onupdate: str | None


@dataclass(frozen=True)
class Table:
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    foreign_keys: dict[str | None, ForeignKey]
    uniques: dict[str | None, tuple[str, ...]]
    checks: dict[str | None, str | None]
    indexes: dict[str | None, tuple[tuple[str | None, ...], bool]]
    comment: str | None

    # MySQL/MariaDB do not tell a unique constraint from a unique index: both show up as
    # unique constraints there. These two look in both places, so tests can stay exact.

    def unique(self, name: str) -> tuple[str, ...] | None:
        """Columns of the unique constraint (or unique index) ``name``."""
        if name in self.uniques:
            return self.uniques[name]
        elements, unique = self.indexes.get(name, ((), False))
        return tuple(str(e) for e in elements) if unique else None

    def index(self, name: str) -> tuple[tuple[str | None, ...], bool] | None:
        """``(columns, unique)`` of the index ``name``."""
        if name in self.indexes:
            return self.indexes[name]
        if name in self.uniques:
            return (self.uniques[name], True)
        return None


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, Table]
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sequences: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def names(self) -> set[str]:
        return set(self.tables)


def _fk_action(value: str | None, dialect: str) -> str | None:
    # Databases report their default action in different ways: omitted, NO ACTION, and on
    # MySQL/MariaDB RESTRICT (which is the default there and is not reported at all).
    if value is None or value.upper() == "NO ACTION":
        return None
    if dialect == "mysql" and value.upper() == "RESTRICT":
        return None
    return value.upper()


def _reflect(inspector: Any, names: list[str], dialect: str) -> dict[str, Table]:
    """All of ``names`` at once: one catalog query per kind of object, not per table."""
    if not names:
        return {}

    def per_table(method: str) -> dict[str, Any]:
        found = getattr(inspector, method)(filter_names=names)
        return {table: value for (_schema, table), value in found.items()}

    all_columns = per_table("get_multi_columns")
    all_pks = per_table("get_multi_pk_constraint")
    all_fks = per_table("get_multi_foreign_keys")
    all_uniques = per_table("get_multi_unique_constraints")
    all_checks = per_table("get_multi_check_constraints")
    all_indexes = per_table("get_multi_indexes")
    comments = per_table("get_multi_table_comment") if dialect != "sqlite" else {}
    out = {}
    for name in names:
        columns = {}
        for col in all_columns.get(name, ()):
            columns[col["name"]] = Column(
                type=str(col["type"].compile(dialect=inspector.dialect)),
                nullable=bool(col["nullable"]),
                default=col.get("default"),
                comment=col.get("comment") or None,
                autoincrement=col.get("autoincrement") is True,
            )
        fks = {}
        for fk in all_fks.get(name, ()):
            options = fk.get("options") or {}
            fks[fk["name"]] = ForeignKey(
                columns=tuple(fk["constrained_columns"]),
                ref_table=fk["referred_table"],
                ref_columns=tuple(fk["referred_columns"]),
                ondelete=_fk_action(options.get("ondelete"), dialect),
                onupdate=_fk_action(options.get("onupdate"), dialect),
            )
        uniques = {u["name"]: tuple(u["column_names"]) for u in all_uniques.get(name, ())}
        checks = {
            c["name"]: _norm_sql(c["sqltext"])
            for c in all_checks.get(name, ())
            # MariaDB reports the JSON_VALID check it adds to JSON columns; never ours.
            if "json_valid" not in (c["sqltext"] or "").lower()
        }
        indexes = {}
        for index in all_indexes.get(name, ()):
            if index.get("duplicates_constraint") or (
                index["unique"] and uniques.get(index["name"]) == tuple(index["column_names"])
            ):
                continue  # the index behind a unique constraint (PostgreSQL, MySQL)
            elements = tuple(index["column_names"])
            if any(e is None for e in elements):
                exprs = iter(index.get("expressions") or ())
                elements = tuple(e if e is not None else _norm_sql(next(exprs)) for e in elements)
            indexes[index["name"]] = (elements, bool(index["unique"]))
        if dialect == "sqlite":
            indexes.update(_sqlite_expression_indexes(inspector, name, set(indexes)))
        pk = all_pks.get(name) or {}
        out[name] = Table(
            columns=columns,
            primary_key=tuple(pk.get("constrained_columns") or ()),
            foreign_keys=fks,
            uniques=uniques,
            checks=checks,
            indexes=indexes,
            comment=(comments.get(name) or {}).get("text") or None,
        )
    return out


def _sqlite_expression_indexes(
    inspector: Any, table: str, known: set[str | None]
) -> dict[str | None, tuple[tuple[str | None, ...], bool]]:
    """The expression indexes SQLAlchemy does not reflect on SQLite, from their DDL."""
    found: dict[str | None, tuple[tuple[str | None, ...], bool]] = {}
    result = inspector.bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    )
    for name, sql in result:
        if name in known:
            continue
        inner = sql[sql.index("(") + 1 : sql.rindex(")")]
        found[name] = ((_norm_sql(inner),), sql.upper().startswith("CREATE UNIQUE"))
    return found


def snapshot(url: str, *, include_history: bool = False) -> Snapshot:
    """Every table (but the history table), and on PostgreSQL enum types and sequences."""
    dialect = dialect_of(url)
    with connection(url) as conn, warnings.catch_warnings():
        # SQLite: "Skipped unsupported reflection of expression-based index"; those are
        # read from sqlite_master instead (see _sqlite_expression_indexes).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        inspector = sa.inspect(conn)
        names = sorted(n for n in inspector.get_table_names() if include_history or n != TABLE_NAME)
        tables = _reflect(inspector, names, dialect)
        enums: dict[str, tuple[str, ...]] = {}
        sequences: tuple[str, ...] = ()
        if dialect == "postgresql":
            enums = {e["name"]: tuple(e["labels"]) for e in inspector.get_enums()}
            sequences = tuple(
                sorted(s for s in inspector.get_sequence_names() if not s.startswith(TABLE_NAME))
            )
    return Snapshot(tables=tables, enums=enums, sequences=sequences)


def table_names(url: str) -> set[str]:
    with connection(url) as conn:
        return set(sa.inspect(conn).get_table_names())


def step_through(
    url: str,
    names: list[str],
    checks: dict[str, Any] | None = None,
    *,
    app: str = "shop",
    floor: str = "zero",
) -> dict[str, Snapshot]:
    """Apply ``names`` one at a time, then unapply them one at a time down to ``floor``.

    After each forward step the schema is reflected and ``checks[name](snapshot)``
    runs; after each backward step the schema must equal, exactly, the snapshot
    taken when the chain was at that point on the way forwards. That is what
    "every operation runs backwards" means: not that it does not fail, but that it
    leaves nothing behind. Stopping at a ``floor`` migration keeps its tables, so a
    test can look at the rows that lived through the round trip. Returns the forward
    snapshots by name ("zero" first).
    """
    checks = checks or {}
    snaps = {"zero": snapshot(url)}
    with Migrator(url) as migrator:
        for name in names:
            migrator.to(app, name)
            snaps[name] = snapshot(url)
            if name in checks:
                checks[name](snaps[name])
        stops = ["zero", *names[:-1]]
        for previous in reversed(stops[stops.index(floor) :]):
            migrator.to(app, previous)
            # The name rides along so that a failure says which step left something behind.
            assert (previous, snapshot(url)) == (previous, snaps[previous])
    return snaps


class Migrator:
    """``migrate-core migrate APP TARGET`` in-process, on one connection kept open.

    The library's migrate use case (lock, history table, consistency check, plan,
    run), the very path the CLI takes, without a new engine and connection per step:
    a walk through a chain makes dozens of steps, and connecting is what they would
    mostly spend time on. The CLI itself is exercised end to end in test_migrate_cli
    and test_executor.
    """

    def __init__(self, url: str) -> None:
        from migrate_core.config import load_config
        from migrate_core.db import engine as db

        self.config = load_config()
        self.engine = db.create_engine(self.config.resolve_database_url(url))
        self.connection = db.connect(self.engine)

    def to(self, app: str, target: str | None = None) -> list[tuple[str, str]]:
        """Move ``app`` to ``target``; return the keys run, in order."""
        from migrate_core.usecases.migrate import migrate_connection

        return migrate_connection(self.connection, self.config, app, target).ran

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()

    def __enter__(self) -> Migrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
