"""The round-trip law over random evolutions of random models (hypothesis).

A small schema (a few tables of integer, string and numeric columns, with
indexes, unique and check constraints and foreign keys) changes one step at a
time: a table or column added, dropped, altered or renamed, a constraint or
index added or dropped. After every step: ``makemigrations --noinput`` (with
``--rename`` for a rename), ``migrate``, and the law (the migrated database
equals ``create_all`` of the same models; ``--check`` is clean). At the end every
migration is unapplied and only the history table is left.

Deterministic (``derandomize=True``, no example database), so CI sees the same
examples on every run. Fewer examples on the servers, where each step costs more.
A failure is reported as it was found, unshrunk (shrinking would replay migrations
for minutes); its message lists every step of the example.

Constraints and indexes are named ``<kind>_<n>_<columns>``: unique whatever
else changes (two indexes may cover the same columns), and renamed along with a
column, so a column rename also renames indexes and constraints.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers_models import empty_database
from helpers_models import law_project
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as hs

# Slow: generated evolutions, each migrated and compared on a database.
# `pytest -m "not slow"` is the fast loop.
pytestmark = pytest.mark.slow

EXAMPLES = {"sqlite": 40, "postgresql": 8, "mysql": 8}
MAX_STEPS = 8
TABLES = ("alpha", "beta", "gamma", "delta")
COLUMNS = tuple(f"c{i}" for i in range(1, 10))


@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # "int", "str" or "num"
    size: int = 0  # a String's length; a Numeric's precision (scale is 2)
    nullable: bool = True
    default: str | None = None

    def render(self) -> str:
        type_ = {
            "int": "sa.Integer()",
            "str": f"sa.String({self.size})",
            "num": f"sa.Numeric({self.size}, 2)",
        }[self.kind]
        extra = "" if self.nullable else ", nullable=False"
        if self.default is not None:
            extra += f", server_default={self.default!r}"
        return f'sa.Column("{self.name}", {type_}{extra})'


@dataclass(frozen=True)
class Tbl:
    name: str
    cols: tuple[Col, ...] = ()
    # Each is identified by a key "<kind>_<n>" that its name starts with (see ``named``).
    indexes: tuple[tuple[str, tuple[str, ...], bool], ...] = ()  # (key, columns, unique)
    uniques: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (key, columns)
    checks: tuple[tuple[str, str], ...] = ()  # (key, column): "column >= 0"
    fks: tuple[tuple[str, str, str], ...] = ()  # (key, column, referred table)

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)

    def fk_columns(self) -> set[str]:
        return {column for _, column, _ in self.fks}

    def render(self) -> str:
        items = ['sa.Column("id", sa.Integer(), primary_key=True)']
        items += [c.render() for c in self.cols]
        for key, cols, unique in self.indexes:
            args = ", ".join(f'"{c}"' for c in cols)
            unique_arg = ", unique=True" if unique else ""
            items.append(f'sa.Index("{named(key, cols)}", {args}{unique_arg})')
        for key, cols in self.uniques:
            args = ", ".join(f'"{c}"' for c in cols)
            items.append(f'sa.UniqueConstraint({args}, name="{named(key, cols)}")')
        for key, column in self.checks:
            items.append(f'sa.CheckConstraint("{column} >= 0", name="{named(key, (column,))}")')
        for key, column, ref in self.fks:
            name = named(key, (column,))
            items.append(f'sa.ForeignKeyConstraint(["{column}"], ["{ref}.id"], name="{name}")')
        body = "".join(f"    {item},\n" for item in items)
        return f'sa.Table(\n    "{self.name}",\n    Base,\n{body})\n'


def named(key: str, columns: tuple[str, ...]) -> str:
    return f"{key}_{'_'.join(columns)}"


@dataclass
class Schema:
    tables: dict[str, Tbl] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fresh(self, prefix: str) -> str:
        """A new key for an index or constraint."""
        return f"{prefix}_{next(self.counter)}"

    def render(self) -> str:
        tables = "\n\n".join(t.render() for t in self.tables.values())
        return f"import sqlalchemy as sa\n\nBase = sa.MetaData()\n\n\n{tables}"


# -- drawing steps -----------------------------------------------------------------------------------


def draw_col(draw: Callable[..., Any], name: str) -> Col:
    kind = draw(hs.sampled_from(["int", "str", "num"]))
    size = {
        "int": 0,
        "str": draw(hs.sampled_from([10, 20, 40])),
        "num": draw(hs.sampled_from([8, 10])),
    }[kind]
    nullable = draw(hs.booleans())
    default = None
    if not nullable or draw(hs.booleans()):
        default = {"int": "0", "str": "x", "num": "1"}[kind]
    return Col(name, kind, size, nullable, default)


def free_columns(table: Tbl) -> list[str]:
    used = {c.name for c in table.cols}
    return [c for c in COLUMNS if c not in used]


def without_column(table: Tbl, name: str) -> Tbl:
    return replace(
        table,
        cols=tuple(c for c in table.cols if c.name != name),
        indexes=tuple(i for i in table.indexes if name not in i[1]),
        uniques=tuple(u for u in table.uniques if name not in u[1]),
        checks=tuple(c for c in table.checks if c[1] != name),
        fks=tuple(f for f in table.fks if f[1] != name),
    )


def renamed_column(table: Tbl, old: str, new: str) -> Tbl:
    def ren(cols: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new if c == old else c for c in cols)

    return replace(
        table,
        cols=tuple(replace(c, name=new) if c.name == old else c for c in table.cols),
        indexes=tuple((n, ren(cols), u) for n, cols, u in table.indexes),
        uniques=tuple((n, ren(cols)) for n, cols in table.uniques),
        checks=tuple((n, new if c == old else c) for n, c in table.checks),
        fks=tuple((n, new if c == old else c, r) for n, c, r in table.fks),
    )


@hs.composite
def step(draw: hs.DrawFn, schema: Schema) -> tuple[str, tuple[str, ...]]:
    """Change ``schema`` in place by one step; return a label and the --rename options."""
    tables = schema.tables
    kinds = []
    if len(tables) < len(TABLES):
        kinds.append("add_table")
    if len(tables) > 1:
        kinds.append("drop_table")
    if tables:
        kinds += ["add_column", "add_index", "add_unique", "add_check", "add_fk"]
        kinds += ["drop_column", "alter_column", "rename_column", "drop_constraint"]
    kind = draw(hs.sampled_from(kinds))
    if kind == "add_table":
        name = draw(hs.sampled_from([t for t in TABLES if t not in tables]))
        count = draw(hs.integers(1, 3))
        tables[name] = Tbl(name, tuple(draw_col(draw, c) for c in COLUMNS[:count]))
        return f"add table {name}", ()
    if kind == "drop_table":
        name = draw(hs.sampled_from(sorted(tables)))
        del tables[name]
        for other in list(tables.values()):
            tables[other.name] = replace(other, fks=tuple(f for f in other.fks if f[2] != name))
        return f"drop table {name}", ()
    table = tables[draw(hs.sampled_from(sorted(tables)))]
    names = [c.name for c in table.cols]
    ints = [c.name for c in table.cols if c.kind in ("int", "num")]
    if kind == "add_column" and free_columns(table):
        col = draw_col(draw, draw(hs.sampled_from(free_columns(table))))
        tables[table.name] = replace(table, cols=(*table.cols, col))
        return f"add column {table.name}.{col.name}", ()
    if kind == "drop_column" and names:
        name = draw(hs.sampled_from(names))
        tables[table.name] = without_column(table, name)
        return f"drop column {table.name}.{name}", ()
    if kind == "rename_column" and names and free_columns(table):
        old = draw(hs.sampled_from(names))
        new = draw(hs.sampled_from(free_columns(table)))
        tables[table.name] = renamed_column(table, old, new)
        return f"rename column {table.name}.{old} to {new}", (f"{table.name}.{old}={new}",)
    if kind == "alter_column":
        alterable = [c for c in table.cols if c.name not in table.fk_columns()]
        if alterable:
            col = draw(hs.sampled_from(alterable))
            change = draw(hs.sampled_from(["size", "nullable", "default"]))
            if change == "size" and col.kind == "str":
                altered = replace(
                    col, size=draw(hs.sampled_from([s for s in (10, 20, 40) if s != col.size]))
                )
            elif change == "size" and col.kind == "num":
                altered = replace(col, size=18 - col.size)
            elif change == "nullable" or (col.nullable is False and col.default is None):
                # NOT NULL always with a server default: --noinput cannot ask for a value.
                default = col.default or {"int": "0", "str": "x", "num": "1"}[col.kind]
                altered = replace(col, nullable=not col.nullable, default=default)
            elif col.default is None:
                altered = replace(col, default={"int": "5", "str": "y", "num": "2"}[col.kind])
            else:
                altered = replace(col, default=None)
            tables[table.name] = replace(
                table, cols=tuple(altered if c is col else c for c in table.cols)
            )
            return f"alter column {table.name}.{col.name}: {col} -> {altered}", ()
    if kind in ("add_index", "add_unique") and names:
        first = draw(hs.sampled_from(names))
        rest = draw(hs.sampled_from([(), *[(n,) for n in names if n != first]]))
        cols = (first, *rest)
        if kind == "add_index":
            unique = draw(hs.booleans())
            entry = (schema.fresh("ix"), cols, unique)
            tables[table.name] = replace(table, indexes=(*table.indexes, entry))
        else:
            tables[table.name] = replace(
                table, uniques=(*table.uniques, (schema.fresh("uq"), cols))
            )
        return f"{kind} on {table.name}{cols}", ()
    if kind == "add_check" and ints:
        column = draw(hs.sampled_from(ints))
        tables[table.name] = replace(table, checks=(*table.checks, (schema.fresh("ck"), column)))
        return f"add check on {table.name}.{column}", ()
    int_cols = [c.name for c in table.cols if c.kind == "int" and c.name not in table.fk_columns()]
    if kind == "add_fk" and int_cols:
        column = draw(hs.sampled_from(int_cols))
        ref = draw(hs.sampled_from(sorted(tables)))
        tables[table.name] = replace(table, fks=(*table.fks, (schema.fresh("fk"), column, ref)))
        return f"add foreign key {table.name}.{column} -> {ref}", ()
    keyed = [("indexes", i[0]) for i in table.indexes] + [("uniques", u[0]) for u in table.uniques]
    keyed += [("checks", c[0]) for c in table.checks] + [("fks", f[0]) for f in table.fks]
    if kind == "drop_constraint" and keyed:
        what, key = draw(hs.sampled_from(keyed))
        changes: dict[str, Any] = {what: tuple(x for x in getattr(table, what) if x[0] != key)}
        tables[table.name] = replace(table, **changes)
        return f"drop {key} from {table.name}", ()
    # Nothing of this kind applies here: add a column instead (always possible or a no-op).
    if free_columns(table):
        col = draw_col(draw, free_columns(table)[0])
        tables[table.name] = replace(table, cols=(*table.cols, col))
        return f"add column {table.name}.{col.name}", ()
    return "no change", ()


# -- the test ----------------------------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path: Path) -> Iterator[Iterator[Path]]:
    """A fresh project folder for each example."""
    yield (tmp_path / f"example_{i}" for i in itertools.count())


def test_random_evolutions_keep_the_law(
    dialect: str,
    db_url: str,
    other_db_url: str,
    roots: Iterator[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @settings(
        max_examples=EXAMPLES[dialect],
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking: each try replays migrations on a database, and the failure message
        # already lists every step of the example that failed.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(data=hs.data())
    def evolve(data: hs.DataObject) -> None:
        with law_project(next(roots), db_url, other_db_url) as project:
            monkeypatch.chdir(project.root)
            empty_database(project.engine(db_url))
            schema = Schema()
            # Two tables from the start, so that foreign keys have somewhere to point.
            for name in TABLES[: data.draw(hs.integers(1, 2), label="tables")]:
                schema.tables[name] = Tbl(name, (draw_col(data.draw, "c1"), Col("c2", "int")))
            history = [f"create {', '.join(schema.tables)}"]
            project.step({"shop": schema.render()}, label=history[-1])
            for _ in range(data.draw(hs.integers(1, MAX_STEPS), label="steps")):
                before = schema.render()
                label, renames = data.draw(step(schema), label="step")
                history.append(label)
                if schema.render() == before:
                    continue
                project.step({"shop": schema.render()}, renames=renames, label=" / ".join(history))
            project.assert_unapplies_to_nothing()

    evolve()
