"""Generate a synthetic migrate-core project: N models and a chain of M migrations.

The benchmark targets (``migrate`` of 1000 migrations in < 2 s, a commit hook in
< 80 ms, ...) only mean something on a project of known, repeatable size and
shape, so this script writes one from a seed:

* migrations 1..N each create one table (``t0000``, ``t0001``, ...): an integer
  primary key, an indexed string, an int, a nullable column, sometimes a unique
  code or a flag with a server default, and for most tables a foreign key to an
  earlier table;
* migrations N+1..M each make ONE change picked by a seeded RNG: add, remove,
  alter or rename a column, add or remove an index or a unique constraint;
* ``shop/models.py`` declares exactly the schema the chain ends with, so that
  ``makemigrations --check`` has nothing to do.

The generator keeps its own small model of the schema (plain dataclasses, no
SQLAlchemy) and prints files as text: it has to stay fast (1000 migrations in
well under a second) and independent of the code it benchmarks. ``--verify``
then checks the result with migrate-core itself: the replayed state equals the
models' state, and the chain applies and rolls back on SQLite.

    python bench/generate.py --models 200 --migrations 1000 --out bench/out/p --verify
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

LINE_LENGTH = 88
# A fixed stamp keeps the output byte-identical for a seed (file hashes are cached).
STAMP_TIME = datetime.datetime(2026, 11, 25, 12, 0)
STAMP = f"{STAMP_TIME:%Y-%m-%d %H:%M}"
# Written into every generated project; run.py only deletes folders that have it.
MARKER = ".bench-project"
STRING_LENGTHS = (20, 40, 80, 100, 150, 200, 255)
RENAME_WORDS = (
    "title",
    "label",
    "amount",
    "score",
    "status",
    "rank",
    "summary",
    "slug",
    "total",
    "price",
    "weight",
    "color",
)
# Server defaults per kind, as Python source; the same text goes into both the
# migration files and the models, because migrate-core compares defaults by their rendering.
DEFAULTS = {"int": 'sa.text("0")', "str": "sa.text(\"''\")", "bool": "sa.false()"}
SA_TYPES = {"int": "sa.Integer()", "bool": "sa.Boolean()", "text": "sa.Text()"}
PY_TYPES = {"int": "int", "str": "str", "text": "str", "bool": "bool"}
REVERSE_FILLS = {"int": "0", "str": '""', "text": '""', "bool": "False"}


# -- a tiny code printer ----------------------------------------------------------------------
#
# Calls and lists are printed flat when they fit in 88 columns, else one element per
# line with a trailing comma: ruff format leaves that layout alone (magic trailing
# comma), which is all "ruff-formatted style" needs here.


@dataclass(frozen=True)
class Call:
    head: str
    args: tuple[Node, ...] = ()
    kwargs: tuple[tuple[str, Node], ...] = ()


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]
    brackets: str = "[]"


Node = str | Call | Seq


def flat(node: Node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, Call):
        parts = [flat(a) for a in node.args] + [f"{k}={flat(v)}" for k, v in node.kwargs]
        return f"{node.head}({', '.join(parts)})"
    inner = ", ".join(flat(i) for i in node.items)
    if node.brackets == "()" and len(node.items) == 1:
        inner += ","
    return f"{node.brackets[0]}{inner}{node.brackets[1]}"


def lay_out(node: Node, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """``prefix + node + suffix`` at ``indent`` spaces, exploded if it is too long."""
    pad = " " * indent
    line = pad + prefix + flat(node) + suffix
    if len(line) <= LINE_LENGTH or isinstance(node, str):
        return [line]
    if isinstance(node, Call):
        if not node.args and not node.kwargs:
            return [line]
        out = [f"{pad}{prefix}{node.head}("]
        for arg in node.args:
            out += lay_out(arg, indent + 4, "", ",")
        for key, value in node.kwargs:
            out += lay_out(value, indent + 4, f"{key}=", ",")
        return [*out, f"{pad}){suffix}"]
    if not node.items:
        return [line]
    out = [f"{pad}{prefix}{node.brackets[0]}"]
    for item in node.items:
        out += lay_out(item, indent + 4, "", ",")
    return [*out, f"{pad}{node.brackets[1]}{suffix}"]


def q(text: str) -> str:
    """A double-quoted literal (generated names never need escapes)."""
    return f'"{text}"'


def names(columns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(q(c) for c in columns)


# -- the schema as the generator tracks it ---------------------------------------------------


@dataclass
class Column:
    name: str
    kind: str  # "int" | "str" | "text" | "bool"
    length: int | None = None
    nullable: bool = True
    default: str | None = None  # Python source of the server default
    primary_key: bool = False
    ref: str | None = None  # the table a foreign key column points at
    fk_name: str | None = None

    @property
    def sa_type(self) -> str:
        if self.kind == "str":
            return f"sa.String(length={self.length})"
        return SA_TYPES[self.kind]

    def sa_column(self) -> Call:
        """``sa.Column(...)`` as the migration writer prints it (keys live elsewhere)."""
        kwargs: list[tuple[str, Node]] = []
        if not self.nullable:
            kwargs.append(("nullable", "False"))
        if self.default is not None:
            kwargs.append(("server_default", self.default))
        return Call("sa.Column", (q(self.name), self.sa_type), tuple(kwargs))


@dataclass
class Table:
    name: str
    columns: list[Column]
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    uniques: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counter: int = 0  # for fresh column names c0, c1, ...

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    def plain_columns(self) -> list[Column]:
        """Columns a change may touch freely: not the primary key, not a foreign key."""
        return [c for c in self.columns if not c.primary_key and c.ref is None]

    def fresh_name(self, stem: str = "c") -> str:
        while True:
            name = f"{stem}{self.counter}" if stem == "c" else f"{stem}_{self.counter}"
            self.counter += 1
            if not self.has_column(name):
                return name

    def rename(self, old: str, new: str) -> None:
        """Rename a column everywhere it is named; constraint and index names stay."""
        self.column(old).name = new

        def swap(cols: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(new if c == old else c for c in cols)

        self.indexes = {n: swap(cols) for n, cols in self.indexes.items()}
        self.uniques = {n: swap(cols) for n, cols in self.uniques.items()}

    def drop(self, name: str) -> None:
        """Drop a column with the indexes and unique constraints that cover it."""
        self.columns = [c for c in self.columns if c.name != name]
        self.indexes = {n: cols for n, cols in self.indexes.items() if name not in cols}
        self.uniques = {n: cols for n, cols in self.uniques.items() if name not in cols}


@dataclass
class Change:
    fragment: str  # the name after the number: create_t0000, add_t0042_c7, ...
    operation: Call


# -- the evolution ------------------------------------------------------------------------------


class Evolution:
    """Creates the tables, then makes random single changes, tracking the schema."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tables: dict[str, Table] = {}
        self.kinds: list[tuple[Callable[[Table], Change | None], float]] = [
            (self.add_column, 3.0),
            (self.remove_column, 1.5),
            (self.alter_column, 2.0),
            (self.rename_column, 1.5),
            (self.add_index, 1.5),
            (self.remove_index, 1.0),
            (self.add_unique, 1.0),
            (self.remove_unique, 0.8),
        ]

    def create_table(self, number: int) -> Change:
        rng = self.rng
        name = f"t{number:04d}"
        columns = [
            Column("id", "int", nullable=False, primary_key=True),
            Column("name", "str", length=100, nullable=False),
        ]
        if rng.random() < 0.5:
            columns.append(Column("qty", "int", nullable=False, default=DEFAULTS["int"]))
        else:
            columns.append(Column("qty", "int"))
        if rng.random() < 0.5:
            columns.append(Column("note", "text"))
        else:
            columns.append(Column("note", "str", length=200))
        if number > 0 and rng.random() < 0.8:
            ref = f"t{rng.randrange(number):04d}"
            col = f"{ref}_id"
            columns.append(Column(col, "int", ref=ref, fk_name=f"fk_{name}_{col}_{ref}"))
        table = Table(name, columns, indexes={f"ix_{name}_name": ("name",)})
        if rng.random() < 0.3:
            table.columns.append(Column("code", "str", length=20))
            table.uniques[f"uq_{name}_code"] = ("code",)
        if rng.random() < 0.3:
            table.columns.append(Column("active", "bool", nullable=False, default=DEFAULTS["bool"]))
        self.tables[name] = table
        return Change(f"create_{name}", create_model(table))

    def random_change(self) -> Change:
        functions = [f for f, _ in self.kinds]
        weights = [w for _, w in self.kinds]
        tables = list(self.tables.values())
        while True:
            table = self.rng.choice(tables)
            make = self.rng.choices(functions, weights)[0]
            change = make(table)
            if change is not None:
                return change

    # Each change returns None when the table offers nothing to do it to.

    def add_column(self, table: Table) -> Change:
        rng = self.rng
        kind = rng.choice(("int", "str", "str", "bool", "text"))
        column = Column(
            table.fresh_name(), kind, length=rng.choice(STRING_LENGTHS) if kind == "str" else None
        )
        if kind != "text":
            if rng.random() < 0.5:
                column.nullable = False
                column.default = DEFAULTS[kind]
            elif rng.random() < 0.3:
                column.default = DEFAULTS[kind]
        table.columns.append(column)
        op = Call("migrations.AddField", (q(table.name), column.sa_column()))
        return Change(f"add_{table.name}_{column.name}", op)

    def remove_column(self, table: Table) -> Change | None:
        candidates = table.plain_columns()
        if len(table.columns) <= 3 or not candidates:
            return None
        column = self.rng.choice(candidates)
        table.drop(column.name)
        # As makemigrations writes it: a NOT NULL column without a server default gets
        # the value its rollback fills the rows with (the reversibility check proves it).
        kwargs: tuple[tuple[str, Node], ...] = ()
        if not column.nullable and column.default is None:
            kwargs = (("reverse_fill", REVERSE_FILLS[column.kind]),)
        op = Call("migrations.RemoveField", (q(table.name), q(column.name)), kwargs)
        return Change(f"remove_{table.name}_{column.name}", op)

    def alter_column(self, table: Table) -> Change | None:
        options = []
        for column in table.plain_columns():
            if column.kind == "str":
                options.append((column, "length"))
            if not column.nullable:
                options.append((column, "null"))
            elif column.default is not None:
                options.append((column, "not null"))  # only with a default: rows get it
        if not options:
            return None
        column, what = self.rng.choice(options)
        if what == "length":
            column.length = self.rng.choice([n for n in STRING_LENGTHS if n != column.length])
        else:
            column.nullable = what == "null"
        op = Call("migrations.AlterField", (q(table.name), column.sa_column()))
        return Change(f"alter_{table.name}_{column.name}", op)

    def rename_column(self, table: Table) -> Change | None:
        candidates = [c for c in table.columns if not c.primary_key]
        if not candidates:
            return None
        column = self.rng.choice(candidates)
        word = self.rng.choice(RENAME_WORDS)
        new = word if not table.has_column(word) else table.fresh_name(word)
        old = column.name
        table.rename(old, new)
        op = Call("migrations.RenameField", (q(table.name), q(old), q(new)))
        return Change(f"rename_{table.name}_{old}_{new}", op)

    def _key_columns(
        self, table: Table, taken: dict[str, tuple[str, ...]], prefix: str
    ) -> tuple[str, tuple[str, ...]] | None:
        """A name and columns for a new index or unique constraint, or None."""
        usable = [c.name for c in table.columns if not c.primary_key and c.kind != "text"]
        if not usable:
            return None
        if len(usable) >= 2 and self.rng.random() < 0.2:
            cols = tuple(self.rng.sample(usable, 2))
        else:
            cols = (self.rng.choice(usable),)
        name = f"{prefix}_{table.name}_{'_'.join(cols)}"
        if name in taken or cols in taken.values():
            return None
        return name, cols

    def add_index(self, table: Table) -> Change | None:
        picked = self._key_columns(table, table.indexes, "ix")
        if picked is None:
            return None
        name, cols = picked
        table.indexes[name] = cols
        op = Call("migrations.AddIndex", (q(table.name), Call("sa.Index", (q(name), *names(cols)))))
        return Change(f"add_{name}", op)

    def remove_index(self, table: Table) -> Change | None:
        if not table.indexes:
            return None
        name = self.rng.choice(sorted(table.indexes))
        del table.indexes[name]
        return Change(f"remove_{name}", Call("migrations.RemoveIndex", (q(table.name), q(name))))

    def add_unique(self, table: Table) -> Change | None:
        picked = self._key_columns(table, table.uniques, "uq")
        if picked is None:
            return None
        name, cols = picked
        table.uniques[name] = cols
        constraint = Call("sa.UniqueConstraint", names(cols), (("name", q(name)),))
        return Change(f"add_{name}", Call("migrations.AddConstraint", (q(table.name), constraint)))

    def remove_unique(self, table: Table) -> Change | None:
        if not table.uniques:
            return None
        name = self.rng.choice(sorted(table.uniques))
        del table.uniques[name]
        return Change(
            f"remove_{name}", Call("migrations.RemoveConstraint", (q(table.name), q(name)))
        )


def create_model(table: Table) -> Call:
    """``migrations.CreateModel(...)`` in the writer's order: pk, foreign keys, uniques."""
    constraints: list[Node] = [
        Call("sa.PrimaryKeyConstraint", ('"id"',), (("name", q(f"pk_{table.name}")),))
    ]
    for column in sorted((c for c in table.columns if c.ref), key=lambda c: c.fk_name or ""):
        constraints.append(
            Call(
                "sa.ForeignKeyConstraint",
                (Seq((q(column.name),)), Seq((q(f"{column.ref}.id"),))),
                (("name", q(column.fk_name or "")),),
            )
        )
    for name, cols in sorted(table.uniques.items()):
        constraints.append(Call("sa.UniqueConstraint", names(cols), (("name", q(name)),)))
    indexes = tuple(
        Call("sa.Index", (q(name), *names(cols))) for name, cols in sorted(table.indexes.items())
    )
    kwargs: list[tuple[str, Node]] = [
        ("columns", Seq(tuple(c.sa_column() for c in table.columns))),
        ("constraints", Seq(tuple(constraints))),
    ]
    if indexes:
        kwargs.append(("indexes", Seq(indexes)))
    return Call("migrations.CreateModel", (q(table.name),), tuple(kwargs))


# -- files --------------------------------------------------------------------------------------


def migration_source(app: str, previous: str | None, change: Change, version: str) -> str:
    """One migration file, byte for byte what migrate-core's writer prints (but the stamp).

    Tuples rather than lists for ``dependencies`` and ``operations``, as the writer
    does, so the files pass ruff's RUF012 in a user's project.
    """
    operation = lay_out(change.operation, 8, "", ",")
    lines = [f"# Generated by migrate-core {version} on {STAMP}"]
    if "sa." in "".join(operation):
        lines.append("import sqlalchemy as sa")
    lines += [
        "from migrate_core import migrations",
        "",
        "",
        "class Migration(migrations.Migration):",
    ]
    if previous is None:
        lines += ["    initial = True", "", "    dependencies = ()"]
    else:
        lines += lay_out(Seq((Seq((q(app), q(previous)), "()"),), "()"), 4, "dependencies = ")
    lines += ["", "    operations = (", *operation, "    )", ""]
    return "\n".join(lines)


def model_source(tables: list[Table]) -> str:
    """``models.py`` declaring the final schema the way a person would write it.

    Keys and indexes whose name is the default one are declared inline
    (``index=True``, ``unique=True``, an unnamed ``ForeignKey``) so that
    migrate-core's default naming is exercised; the others, renamed columns'
    indexes for instance, are spelled out with their names.
    """
    out = [
        "from __future__ import annotations",
        "",
        "import sqlalchemy as sa",
        "from sqlalchemy.orm import DeclarativeBase",
        "from sqlalchemy.orm import Mapped",
        "from sqlalchemy.orm import mapped_column",
        "",
        "",
        "class Base(DeclarativeBase):",
        "    pass",
    ]
    for table in tables:
        out += [
            "",
            "",
            f"class {table.name.capitalize()}(Base):",
            f"    __tablename__ = {q(table.name)}",
        ]
        inline_unique = {
            cols[0]
            for name, cols in table.uniques.items()
            if len(cols) == 1 and name == f"uq_{table.name}_{cols[0]}"
        }
        inline_index = {
            cols[0]
            for name, cols in table.indexes.items()
            if len(cols) == 1
            and name == f"ix_{table.name}_{cols[0]}"
            and cols[0] not in inline_unique
        }
        args: list[Node] = []
        for name, cols in sorted(table.indexes.items()):
            if not (len(cols) == 1 and cols[0] in inline_index):
                args.append(Call("sa.Index", (q(name), *names(cols))))
        for name, cols in sorted(table.uniques.items()):
            if not (len(cols) == 1 and cols[0] in inline_unique):
                default = name == f"uq_{table.name}_{'_'.join(cols)}"
                args.append(
                    Call(
                        "sa.UniqueConstraint", names(cols), () if default else (("name", q(name)),)
                    )
                )
        if args:
            out += lay_out(Seq(tuple(args), "()"), 4, "__table_args__ = ")
        out.append("")
        for column in table.columns:
            out += model_column(
                table, column, column.name in inline_index, column.name in inline_unique
            )
    out.append("")
    return "\n".join(out)


def model_column(table: Table, column: Column, index: bool, unique: bool) -> list[str]:
    annotation = f"Mapped[{PY_TYPES[column.kind]}{' | None' if column.nullable else ''}]"
    args: list[Node] = []
    if column.kind in ("str", "text"):
        args.append(f"sa.String({column.length})" if column.kind == "str" else "sa.Text()")
    if column.ref is not None:
        default = f"fk_{table.name}_{column.name}_{column.ref}"
        fk_kwargs = () if column.fk_name == default else (("name", q(column.fk_name or "")),)
        args.append(Call("sa.ForeignKey", (q(f"{column.ref}.id"),), fk_kwargs))
    kwargs: list[tuple[str, Node]] = []
    if column.primary_key:
        kwargs.append(("primary_key", "True"))
    if index:
        kwargs.append(("index", "True"))
    if unique:
        kwargs.append(("unique", "True"))
    if column.default is not None:
        kwargs.append(("server_default", column.default))
    prefix = f"{column.name}: {annotation}"
    if not args and not kwargs:
        return [f"    {prefix}"]
    return lay_out(Call("mapped_column", tuple(args), tuple(kwargs)), 4, f"{prefix} = ")


PYPROJECT = """\
[project]
name = "bench-{app}"
version = "0.0.0"

[tool.migrate-core]
database-url = "sqlite:///bench.db"

[tool.migrate-core.apps.{app}]
models = "{app}.models:Base"
migrations = "{app}/migrations"
"""

README = """\
# bench-{app}

Generated by migrate-core's bench/generate.py: {models} models, {migrations} migrations, seed {seed}.
"""


@dataclass
class Project:
    root: Path
    app: str
    migration_names: list[str]
    tables: list[Table]


def generate(out: Path, models: int, migrations: int, seed: int = 0, app: str = "shop") -> Project:
    """Write the project into ``out`` (which must be empty or missing) and return its outline."""
    if models < 1:
        raise SystemExit("--models must be at least 1")
    if migrations < models:
        raise SystemExit(
            f"--migrations ({migrations}) must be at least --models ({models}): one per table first"
        )
    if migrations > 9999:
        raise SystemExit("--migrations must be at most 9999 (four-digit numbers)")
    try:
        from migrate_core import __version__ as version
    except ImportError:  # pragma: no cover - generating without migrate-core installed
        version = "0.1.0"
    rng = random.Random(seed)
    evolution = Evolution(rng)
    folder = out / app / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    previous: str | None = None
    written: list[str] = []
    for number in range(1, migrations + 1):
        change = (
            evolution.create_table(number - 1) if number <= models else evolution.random_change()
        )
        name = f"{number:04d}_{change.fragment}"
        (folder / f"{name}.py").write_text(migration_source(app, previous, change, version))
        written.append(name)
        previous = name
    tables = list(evolution.tables.values())
    (out / app / "__init__.py").write_text("")
    (out / app / "models.py").write_text(model_source(tables))
    (out / "pyproject.toml").write_text(PYPROJECT.format(app=app))
    (out / "README.md").write_text(
        README.format(app=app, models=models, migrations=migrations, seed=seed)
    )
    (out / ".gitignore").write_text("*.db\n__pycache__/\n")
    (out / MARKER).write_text(f"models={models} migrations={migrations} seed={seed} app={app}\n")
    return Project(out, app, written, tables)


def git_commit(root: Path) -> None:
    """One commit of everything, so hook benchmarks run in a real repository."""

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, stdout=subprocess.DEVNULL)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git(
        "-c",
        "user.name=migrate-core bench",
        "-c",
        "user.email=bench@example.invalid",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "Generated benchmark project",
    )


# -- verification -------------------------------------------------------------------------------


def _table_diff(name: str, replayed: Any, models: Any) -> list[str]:
    """What differs between two TableStates, column by column (or a missing table)."""
    if replayed is None or models is None:
        return [f"  {name}: only in {'the models' if replayed is None else 'the migrations'}"]
    lines = []
    mine = {c.name: c for c in replayed.columns}
    theirs = {c.name: c for c in models.columns}
    for column in dict.fromkeys([*mine, *theirs]):
        if mine.get(column) != theirs.get(column):
            lines.append(
                f"  {name}.{column}:\n    migrations: {mine.get(column)}\n    models:     {theirs.get(column)}"
            )
    if not lines and list(mine) != list(theirs):
        lines.append(
            f"  {name}: column order\n    migrations: {list(mine)}\n    models:     {list(theirs)}"
        )
    for attr in (
        "primary_key",
        "foreign_keys",
        "unique_constraints",
        "check_constraints",
        "indexes",
    ):
        a, b = getattr(replayed, attr), getattr(models, attr)
        if a != b:
            lines.append(f"  {name} {attr}:\n    migrations: {a}\n    models:     {b}")
    return lines or [f"  {name}: differs outside columns, keys and indexes"]


def verify(root: Path, app: str) -> bool:
    """Check the project with migrate-core: state equality, apply, compare, roll back."""
    os.environ["MIGRATE_CORE_NO_CACHE"] = "1"  # replay every file, do not trust a cache
    import sqlalchemy as sa

    from migrate_core.config import load_config
    from migrate_core.db import engine as db
    from migrate_core.db.recorder import TABLE_NAME
    from migrate_core.migrations.loader import MigrationLoader
    from migrate_core.schema import project
    from migrate_core.usecases.migrate import migrate_connection

    ok = True
    cfg = load_config(root)
    started = time.perf_counter()
    loader = MigrationLoader(cfg)
    replayed = loader.project_state()
    replay_s = time.perf_counter() - started
    same_as_writer(loader)
    models = project.model_state(cfg)
    if replayed == models:
        print(f"verify: state equal ({len(models.tables)} tables; replay {replay_s:.2f} s)")
    else:
        ok = False
        print("verify: FAILED, the migrations and the models disagree:")
        for name in sorted(set(replayed.tables) | set(models.tables)):
            a, b = replayed.tables.get(name), models.tables.get(name)
            if a != b:
                print("\n".join(_table_diff(name, a, b)))

    path = root / "verify.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    with db.open_connection(url) as conn:
        started = time.perf_counter()
        result = migrate_connection(conn, cfg)
        print(
            f"verify: applied {len(result.applied)} migrations in {time.perf_counter() - started:.2f} s"
        )
        ok = compare_database(conn, cfg, TABLE_NAME) and ok
        started = time.perf_counter()
        result = migrate_connection(conn, cfg, app, "zero")
        print(
            f"verify: unapplied {len(result.unapplied)} migrations in {time.perf_counter() - started:.2f} s"
        )
        left = sorted(set(sa.inspect(conn).get_table_names()) - {TABLE_NAME})
        if conn.in_transaction():
            conn.commit()
        if left:
            ok = False
            print(f"verify: FAILED, tables left after rolling back to zero: {', '.join(left)}")
    path.unlink(missing_ok=True)
    print("verify: OK" if ok else "verify: FAILED")
    return ok


def same_as_writer(loader: Any) -> None:
    """Warn when a file differs from what migrate-core's writer prints for its operations.

    Only a warning: the writer's layout may change under us, and a layout change
    does not make the benchmark's chain any less valid.
    """
    try:
        from migrate_core.migrations.writer import render_migration
    except ImportError:
        print("verify: (no migrate_core.migrations.writer: file layout not compared)")
        return
    differing = []
    for key in loader.graph.full_plan():
        migration = loader.migration(key)
        expected = render_migration(
            migration.operations, migration.dependencies, initial=migration.initial, now=STAMP_TIME
        )
        if loader.files[key].path.read_text() != expected:
            differing.append(key[1])
    if differing:
        print(
            f"verify: WARNING, {len(differing)} files differ from the writer's output, e.g. {differing[0]}"
        )
    else:
        print("verify: every file is byte-identical to what migrate-core's writer prints")


def compare_database(conn: object, cfg: object, history_table: str) -> bool:
    """The migrated database against the models, by Alembic's autogenerate comparison.

    State equality proves the files describe the models; this proves the DDL that
    migrate-core ran built that schema in a real database.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from migrate_core.schema import project

    metadata = project.all_metadata(cfg)  # type: ignore[arg-type]
    context = MigrationContext.configure(
        conn,  # type: ignore[arg-type]
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": lambda name, kind, _parent: (
                not (kind == "table" and name == history_table)
            ),
        },
    )
    diffs = [d for m in metadata for d in compare_metadata(context, m)]
    if conn.in_transaction():  # type: ignore[attr-defined]
        conn.commit()  # type: ignore[attr-defined]
    if diffs:
        print(
            f"verify: FAILED, the migrated database differs from the models in {len(diffs)} ways:"
        )
        for diff in diffs[:20]:
            print(f"  {diff}")
        return False
    print("verify: migrated database matches the models (alembic compare_metadata)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200, help="tables to create (default 200)")
    parser.add_argument(
        "--migrations", type=int, default=1000, help="migrations in all (default 1000)"
    )
    parser.add_argument("--out", type=Path, required=True, help="project folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--app", default="shop")
    parser.add_argument(
        "--git", action="store_true", help="git init the project and commit everything"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace a project this script generated before"
    )
    parser.add_argument("--verify", action="store_true", help="check the project with migrate-core")
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        if not (args.force and (out / MARKER).is_file()):
            hint = " (pass --force to replace it)" if (out / MARKER).is_file() else ""
            parser.error(f"{out} is not empty{hint}")
        shutil.rmtree(out)
    started = time.perf_counter()
    result = generate(out, args.models, args.migrations, args.seed, args.app)
    elapsed = time.perf_counter() - started
    print(
        f"wrote {out}: {args.models} models, {len(result.migration_names)} migrations in {elapsed:.2f} s"
    )
    if args.git:
        git_commit(out)
    if args.verify and not verify(out.resolve(), args.app):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
