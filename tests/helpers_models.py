"""A temporary project whose models change step by step, and the round-trip law.

The law: what ``makemigrations`` + ``migrate`` build on an empty database A is
exactly what ``metadata.create_all`` builds from the same models on an empty
database B (both reflected with :func:`migrate_core.db.introspection.reflect_schema`
and compared with ``diff_schemas``); afterwards ``makemigrations --check`` finds
nothing to do. At the end ``migrate APP zero`` must leave only our history table.

The CLI runs in this process (``CliRunner``), which is an order of magnitude
faster than a subprocess per command. The price is that Python caches modules:
each step writes a new ``models.py``, so the project's packages are dropped from
``sys.modules`` before every command, and no bytecode is written (a rewrite in
the same second with the same size would otherwise load a stale ``.pyc``).
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
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

from migrate_core.cli import main
from migrate_core.config import load_config
from migrate_core.db import engine as db
from migrate_core.db.introspection import SchemaSnapshot
from migrate_core.db.introspection import diff_schemas
from migrate_core.db.introspection import reflect_schema
from migrate_core.db.recorder import TABLE_NAME
from migrate_core.schema.project import all_metadata


def forget_modules(packages: Iterable[str]) -> None:
    """Drop ``packages`` and their submodules from ``sys.modules`` so the next import re-reads them."""
    wanted = set(packages)
    for name in list(sys.modules):
        if name in wanted or name.split(".", 1)[0] in wanted:
            del sys.modules[name]


def dialect_of(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


def empty_database(engine: sa.Engine) -> None:
    """Drop everything in a scratch database, faster than making a new one on a server."""
    name = engine.dialect.name
    with engine.begin() as conn:
        if name == "postgresql":
            # Enum types go with the schema; dropping tables alone would leave them behind.
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
            return
        tables = sa.inspect(conn).get_table_names()
        if name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            for table in tables:
                conn.exec_driver_sql(f"DROP TABLE `{table}`")
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
            return
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        for table in tables:
            conn.exec_driver_sql(f'DROP TABLE "{table}"')
        conn.exec_driver_sql("PRAGMA foreign_keys = ON")


def enum_types(engine: sa.Engine) -> dict[str, tuple[str, ...]]:
    """PostgreSQL's enum types and their labels (other databases have none of their own)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        inspector: Any = sa.inspect(conn)  # PostgreSQL's inspector: it has get_enums()
        return {e["name"]: tuple(e["labels"]) for e in inspector.get_enums()}


def create_all(engine: sa.Engine, metadatas: list[sa.MetaData]) -> None:
    """``create_all`` of each MetaData, referenced ones first (another app's keys point at them)."""
    by_table = {t.name: m for m in metadatas for t in m.tables.values()}
    ordered: list[sa.MetaData] = []

    def visit(m: sa.MetaData, seen: set[int]) -> None:
        if m in ordered or id(m) in seen:
            return
        seen.add(id(m))
        for table in m.tables.values():
            for fk in table.foreign_keys:
                other = by_table.get(fk.column.table.name)
                if other is not None and other is not m:
                    visit(other, seen)
        ordered.append(m)

    for m in metadatas:
        visit(m, set())
    with engine.begin() as conn:
        for m in ordered:
            m.create_all(conn)


@dataclass
class LawProject:
    """A project folder with one or more apps, a database A (migrations) and B (create_all)."""

    root: Path
    url: str
    other_url: str
    apps: tuple[str, ...] = ("shop",)
    # Top-level packages the models import from; forgotten before every command.
    packages: tuple[str, ...] = ()
    engines: dict[str, sa.Engine] = field(default_factory=dict)
    steps: int = 0

    def __post_init__(self) -> None:
        lines = ["[tool.migrate-core]", f'database-url = "{self.url}"']
        for app in self.apps:
            lines += [
                "",
                f"[tool.migrate-core.apps.{app}]",
                f'models = "{app}.models:Base"',
                f'migrations = "{app}/migrations"',
            ]
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for app in self.apps:
            self.write(f"{app}/__init__.py", "")
        self.packages = tuple(dict.fromkeys((*self.apps, *self.packages)))
        forget_modules(self.packages)

    # -- files

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)
        return path

    def set_models(self, app: str, source: str) -> Path:
        return self.write(f"{app}/models.py", source)

    def migration_files(self, app: str = "shop") -> list[str]:
        folder = self.root / app / "migrations"
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))

    def migration_source(self, name: str, app: str = "shop") -> str:
        return (self.root / app / "migrations" / f"{name}.py").read_text(encoding="utf-8")

    # -- the command line

    def cli(self, *args: str, input: str | None = None, expect: int | None = 0) -> Result:
        forget_modules(self.packages)
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if expect is not None:
            assert result.exit_code == expect, (
                f"migrate-core {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def makemigrations(self, *args: str, input: str | None = None, expect: int = 0) -> Result:
        if input is None:
            args = ("--noinput", *args)
        return self.cli("makemigrations", *args, input=input, expect=expect)

    def migrate(self, *args: str, expect: int = 0) -> Result:
        return self.cli("migrate", *args, expect=expect)

    # -- databases

    def engine(self, url: str) -> sa.Engine:
        found = self.engines.get(url)
        if found is None:
            found = self.engines[url] = db.create_engine(url)
        return found

    def dispose(self) -> None:
        while self.engines:
            self.engines.popitem()[1].dispose()
        forget_modules(self.packages)
        text = str(self.root)
        while text in sys.path:
            sys.path.remove(text)

    def metadata(self) -> list[sa.MetaData]:
        """The models' MetaData objects as migrate-core sees them (default names assigned)."""
        forget_modules(self.packages)
        return all_metadata(load_config(str(self.root / "pyproject.toml")))

    def reflect(self, url: str) -> SchemaSnapshot:
        return reflect_schema(self.engine(url))

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine(self.url).connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]

    def execute(self, *statements: str) -> None:
        with self.engine(self.url).begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    # -- the law

    def assert_law(self, label: str = "") -> None:
        """Database A (migrated) equals database B (create_all), and nothing is left to generate."""
        b = self.engine(self.other_url)
        empty_database(b)
        create_all(b, self.metadata())
        expected = self.reflect(self.other_url)
        actual = self.reflect(self.url)
        differences = diff_schemas(expected, actual)
        where = f" after {label}" if label else ""
        assert not differences, f"migrated schema differs from create_all{where}:\n" + "\n".join(
            f"  {d}" for d in differences
        )
        assert enum_types(self.engine(self.url)) == enum_types(b), f"enum types differ{where}"
        check = self.makemigrations("--check", expect=0)
        assert "No changes detected" in check.stdout

    def step(
        self, models: dict[str, str], *, renames: Iterable[str] = (), label: str = ""
    ) -> list[str]:
        """Write new models, make migrations (non-interactively), migrate, check the law.

        Returns the names of the migrations written in this step.
        """
        before = {app: set(self.migration_files(app)) for app in self.apps}
        for app, source in models.items():
            self.set_models(app, source)
        args = [item for r in renames for item in ("--rename", r)]
        self.makemigrations(*args)
        self.migrate()
        self.steps += 1
        self.assert_law(label or f"step {self.steps}")
        return sorted(
            name for app in self.apps for name in set(self.migration_files(app)) - before[app]
        )

    def assert_unapplies_to_nothing(self) -> None:
        """``migrate APP zero`` for every app leaves only the history table (and no enum types)."""
        for app in reversed(self.apps):
            self.migrate(app, "zero")
        engine = self.engine(self.url)
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
        assert names == [TABLE_NAME]
        assert enum_types(engine) == {}


@contextmanager
def law_project(
    root: Path, url: str, other_url: str, *, apps: tuple[str, ...] = ("shop",)
) -> Iterator[LawProject]:
    project = LawProject(root, url, other_url, apps=apps)
    try:
        yield project
    finally:
        project.dispose()


# -- models that change over time ------------------------------------------------------------------

_LINE_MARK = re.compile(r"\s*#\s*@(\d*)(-?)(\d*)\s*$")
_BLOCK_OPEN = re.compile(r"^\s*#\s*@\{\s*(\d*)(-?)(\d*)\s*$")
_BLOCK_CLOSE = re.compile(r"^\s*#\s*@\}\s*$")


def _range(first: str, dash: str, last: str) -> tuple[int, int]:
    low = int(first) if first else 1
    high = int(last) if last else (10**9 if dash else low)
    return low, high


def at_step(timeline: str, step: int) -> str:
    """The source a timeline holds at ``step``.

    One file describes every version of a models module, so a reader sees how
    each class evolves in one place. A line ending in ``# @3-8`` exists in steps
    3 to 8 (``# @3-``: from 3 on; ``# @-8``: until 8; ``# @3``: only in 3); lines
    between ``# @{ 3-8`` and ``# @}`` exist in those steps (blocks nest).
    """
    out: list[str] = []
    blocks: list[tuple[int, int]] = []
    for line in textwrap.dedent(timeline).lstrip("\n").splitlines():
        opened = _BLOCK_OPEN.match(line)
        if opened:
            blocks.append(_range(*opened.groups()))
            continue
        if _BLOCK_CLOSE.match(line):
            blocks.pop()
            continue
        mark = _LINE_MARK.search(line)
        ranges = list(blocks)
        if mark:
            ranges.append(_range(*mark.groups()))
            line = line[: mark.start()]
        if all(low <= step <= high for low, high in ranges):
            out.append(line.rstrip())
    assert not blocks, "unclosed # @{ block"
    return "\n".join(out) + "\n"


# -- a models module that stretches the writer --------------------------------------------------

RICH_TYPES = """
\"\"\"Project types used by the rich models: migrations must import this module.\"\"\"

from __future__ import annotations

import decimal
from typing import Any

import sqlalchemy as sa


class Money(sa.types.TypeDecorator[decimal.Decimal]):
    \"\"\"No own __init__: arguments go to the Numeric underneath.\"\"\"

    impl = sa.Numeric(12, 2)
    cache_ok = True


class Code(sa.types.TypeDecorator[str]):
    \"\"\"An own __init__ with a keyword the migration must repeat.\"\"\"

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int = 10, upper: bool = False, **kw: Any) -> None:
        super().__init__(length=length, **kw)
        self.length = length
        self.upper = upper

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return value.upper() if value is not None and self.upper else value
"""

# Long enough to wrap every construct the writer prints: many columns, a long enum,
# a long check, long names, odd strings, a TypeDecorator and dialect variants.
ENUM_VALUES = tuple(f"value_number_{i:02d}" for i in range(40))
LONG_CHECK = " AND ".join(
    f"(c_int_{i:02d} IS NULL OR c_int_{i:02d} BETWEEN 0 AND 1000000)" for i in range(6)
)
RICH = f"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from shop.types import Code
from shop.types import Money


class Base(DeclarativeBase):
    pass


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


LONG_ENUM = sa.Enum(*{ENUM_VALUES!r}, name="long_enum_type")


class Wide(Base):
    __tablename__ = "a_table_with_a_rather_long_name_for_testing_limits"
    __table_args__ = (
        sa.CheckConstraint({LONG_CHECK!r}),
        sa.UniqueConstraint("c_int_00", "c_int_01", "c_int_02", "c_int_03", "c_int_04"),
        sa.Index(None, "c_text_short", "c_int_05", "c_int_04", "c_int_03"),
        {{"comment": 'A table whose comment has "double" and \\'single\\' quotes, and naïve unicode'}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
{{columns}}
    c_bool: Mapped[bool] = mapped_column(server_default=sa.true())
    c_float: Mapped[float | None] = mapped_column(sa.Float())
    c_numeric: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(18, 6), server_default=sa.text("0.5"))
    c_text_short: Mapped[str] = mapped_column(sa.String(40), server_default='it\\'s "quoted" \\\\ ok')
    c_text: Mapped[str | None] = mapped_column(sa.Text(), comment="line one\\nline two, naïve")
    c_date: Mapped[dt.date | None] = mapped_column(sa.Date())
    c_time: Mapped[dt.time | None] = mapped_column(sa.Time())
    c_stamp: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    c_blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary())
    c_uuid: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    c_json: Mapped[Any] = mapped_column(sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True)
    c_array: Mapped[Any] = mapped_column(sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), "postgresql"), nullable=True)
    c_long_text: Mapped[str | None] = mapped_column(sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"))
    c_long_enum: Mapped[str] = mapped_column(LONG_ENUM, server_default="value_number_00")
    c_colour: Mapped[Colour | None] = mapped_column(sa.Enum(Colour, name="colour"))
    c_money: Mapped[decimal.Decimal | None] = mapped_column(Money())
    c_code: Mapped[str | None] = mapped_column(Code(12, upper=True), unique=True)
    c_double: Mapped[int | None] = mapped_column(sa.Computed("c_int_00 * 2", persisted=True))


class Child(Base):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    wide_id: Mapped[int] = mapped_column(
        sa.ForeignKey("a_table_with_a_rather_long_name_for_testing_limits.id", ondelete="CASCADE", onupdate="CASCADE"),
        index=True,
    )
""".replace(
    "{columns}",
    "\n".join(f"    c_int_{i:02d}: Mapped[int | None] = mapped_column()" for i in range(24)),
)


def _sub(text: str, old: str, new: str) -> str:
    """``text.replace`` that insists: a version that silently stayed the same tests nothing."""
    assert old in text, old
    return text.replace(old, new)


def rich_v2() -> str:
    """Alter a long enum, a default, comments; add and remove columns, a long check, an index."""
    text = _sub(
        RICH,
        "LONG_ENUM = sa.Enum(*(",
        "LONG_ENUM = sa.Enum(*('another_value_at_the_front', 'and_one_more_value_here', ",
    )
    text = _sub(text, """server_default='it\\'s "quoted" \\\\ ok')""", 'server_default="plain")')
    text = _sub(text, "    c_int_23: Mapped[int | None] = mapped_column()\n", "")
    text = _sub(
        text,
        "naïve unicode'}",
        "naïve unicode, and now it is a lot longer than one line of a migration file'}",
    )
    return _sub(
        text,
        '    __tablename__ = "child"\n',
        '    __tablename__ = "child"\n'
        "    __table_args__ = (\n"
        '        sa.CheckConstraint("note IS NULL OR length(note) BETWEEN 1 AND 200 OR '
        "note IN ('a fairly long list', 'of allowed values', 'to make it long')\"),\n"
        '        sa.Index("ix_child_a_rather_long_index_name_for_two_columns", "wide_id", "note"),\n'
        "    )\n\n"
        "    note: Mapped[str] = mapped_column(sa.String(200), server_default=sa.text(\"'none'\"))\n",
    )


def assert_ruff_clean(root: Path, *folders: str) -> None:
    """``ruff check`` and ``ruff format --check`` with ruff's defaults, run from the project
    folder (so that the project's own packages count as first-party, as in a real project)."""
    import subprocess

    ruff = str(Path(sys.executable).parent / "ruff")
    for args in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [ruff, *args, "--isolated", "--no-cache", *folders],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"ruff {args[0]}:\n{done.stdout}{done.stderr}"
