"""Changing a model between spellings every database treats as one column is no migration.

``sa.String(50)`` and ``sa.VARCHAR(50)``, a server default ``"1"`` and ``sa.text("1")`` on
an Integer, ``sa.func.now()`` and ``sa.text("CURRENT_TIMESTAMP")``: the autodetector
must write nothing for such a change, and must still write an ``AlterField`` for a real
one (``1`` to ``2``, an enum's values in another order). Three levels:

- the state: the two columns compare equal, or unequal (every pair, quickly);
- the databases: both spellings side by side in one table by ``create_all`` on SQLite,
  PostgreSQL and MariaDB/MySQL, a row inserted with the defaults, and the values (and
  the reflected types) equal; for the real differences, different (or one spelling is
  refused by that database, which is why the pair is not "the same");
- the command: makemigrations writes the first spelling, the models switch to the
  other, and ``makemigrations --check`` finds nothing; a real change it finds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import server_url
from helpers_engine import cli
from helpers_engine import connection
from helpers_engine import dialect_of
from helpers_engine import dispose_engines
from helpers_models import forget_modules

from migrate_core.schema import sqla


@dataclass(frozen=True)
class Pair:
    """One column spelled two ways (Python source), and where the database proof runs."""

    type: str
    default: str | None
    other_default: str | None
    other_type: str | None = None
    #: Databases that cannot create one of the spellings (the proof skips them).
    not_on: tuple[str, ...] = ()

    def columns(self, name: str) -> tuple[sa.Column[Any], sa.Column[Any]]:
        return (
            _column(f"{name}_a", self.type, self.default),
            _column(f"{name}_b", self.other_type or self.type, self.other_default),
        )


def _column(name: str, type_: str, default: str | None) -> sa.Column[Any]:
    kwargs: dict[str, Any] = {}
    if default is not None:
        kwargs["server_default"] = eval(default, {"sa": sa})
    return sa.Column(name, eval(type_, {"sa": sa}), **kwargs)


SAME: dict[str, Pair] = {
    "int_str_text": Pair("sa.Integer()", '"1"', 'sa.text("1")'),
    "int_str_quoted": Pair("sa.Integer()", '"1"', "sa.text(\"'1'\")"),
    "int_parens": Pair("sa.Integer()", 'sa.text("1")', 'sa.text("(1)")'),
    "int_negative": Pair("sa.BigInteger()", '"-3"', 'sa.text("-3")'),
    "num_zeros": Pair("sa.Numeric(10, 2)", '"0.50"', '"0.5"'),
    "num_text": Pair("sa.Numeric(10, 2)", '"0.50"', 'sa.text("0.5")'),
    "num_integral": Pair("sa.Numeric(10, 2)", '"2"', 'sa.text("2.00")'),
    "float_zeros": Pair("sa.Float()", '"1.5"', 'sa.text("1.50")'),
    "bool_true_str": Pair("sa.Boolean()", "sa.true()", '"1"'),
    "bool_true_text": Pair("sa.Boolean()", "sa.true()", 'sa.text("true")'),
    "bool_false_quoted": Pair("sa.Boolean()", "sa.false()", "sa.text(\"'0'\")"),
    "clock_text": Pair("sa.DateTime()", "sa.func.now()", 'sa.text("CURRENT_TIMESTAMP")'),
    "clock_func": Pair("sa.DateTime()", "sa.func.now()", "sa.func.current_timestamp()"),
    # SQLite has no now(): it cannot create the second spelling at all.
    "clock_now_text": Pair(
        "sa.DateTime()", "sa.func.now()", 'sa.text("now()")', not_on=("sqlite",)
    ),
    "str_quoted": Pair("sa.String(10)", '"abc"', "sa.text(\"'abc'\")"),
    "str_quote_inside": Pair("sa.String(10)", '"it\'s"', "sa.text(\"'it''s'\")"),
    "str_integer": Pair("sa.String(10)", '"7"', 'sa.text("7")'),
    # Types: an upper-case SQL type is the generic one where every database compiles both alike.
    "type_varchar": Pair("sa.String(50)", None, None, "sa.VARCHAR(50)"),
    "type_integer": Pair("sa.Integer()", '"1"', 'sa.text("1")', "sa.INTEGER()"),
    "type_smallint": Pair("sa.SmallInteger()", None, None, "sa.SMALLINT()"),
    "type_bigint": Pair("sa.BigInteger()", None, None, "sa.BIGINT()"),
    "type_text": Pair("sa.Text()", None, None, "sa.TEXT()"),
    "type_boolean": Pair("sa.Boolean()", "sa.true()", '"1"', "sa.BOOLEAN()"),
    "type_numeric": Pair("sa.Numeric(10, 2)", None, None, "sa.NUMERIC(10, 2)"),
    "type_float": Pair("sa.Float()", None, None, "sa.FLOAT()"),
    "type_date": Pair("sa.Date()", None, None, "sa.DATE()"),
    "type_time": Pair("sa.Time()", None, None, "sa.TIME()"),
}

DIFFERENT: dict[str, Pair] = {
    "int_value": Pair("sa.Integer()", '"1"', '"2"'),
    "int_text_value": Pair("sa.Integer()", 'sa.text("1")', 'sa.text("2")'),
    "num_value": Pair("sa.Numeric(10, 2)", '"0.50"', '"0.51"'),
    "bool_value": Pair("sa.Boolean()", "sa.true()", "sa.false()"),
    "str_value": Pair("sa.String(10)", '"abc"', '"abd"'),
    "str_case": Pair("sa.String(10)", '"abc"', '"ABC"'),
    "default_dropped": Pair("sa.Integer()", '"1"', None),
    # 0.50 and 0.5 are two values in an unconstrained NUMERIC on PostgreSQL (the scale is kept).
    "num_unscaled": Pair("sa.Numeric()", '"0.50"', '"0.5"'),
    # PostgreSQL refuses an integer default on a boolean column; "1" is true there.
    "bool_integer": Pair("sa.Boolean()", '"1"', 'sa.text("1")'),
    # Other clocks are other values.
    "clock_local": Pair("sa.DateTime()", "sa.func.now()", 'sa.text("LOCALTIMESTAMP")'),
    "clock_date": Pair("sa.DateTime()", "sa.func.now()", 'sa.text("CURRENT_DATE")'),
    # MySQL escapes a backslash in a string default, not in text(); ":x" in text() is a
    # bind parameter to SQLAlchemy: compared as written.
    "str_backslash": Pair("sa.String(10)", '"a\\\\b"', "sa.text(\"'a\\\\b'\")"),
    "str_colon": Pair("sa.String(10)", '":x"', "sa.text(\"':x'\")"),
    "type_length": Pair("sa.String(50)", None, None, "sa.VARCHAR(60)"),
    # PostgreSQL has no DATETIME type; MySQL's TIMESTAMP is not its DATETIME.
    "type_datetime": Pair("sa.DateTime()", None, None, "sa.DATETIME()"),
    "type_timestamp": Pair("sa.DateTime()", None, None, "sa.TIMESTAMP()"),
    # An enum's order is the order its values sort in on PostgreSQL, and MySQL's too.
    "enum_order": Pair(
        'sa.Enum("a", "b", name="kind")', None, None, 'sa.Enum("b", "a", name="kind")'
    ),
    "enum_values": Pair(
        'sa.Enum("a", "b", name="kind")', None, None, 'sa.Enum("a", "c", name="kind")'
    ),
}

# Differences the database proof shows as different values or types (the others are
# different in a way a row does not show: refused by one database, or by order).
SHOWN: dict[str, tuple[str, ...]] = {
    "int_value": ("sqlite", "postgresql", "mysql"),
    "int_text_value": ("sqlite", "postgresql", "mysql"),
    "num_value": ("sqlite", "postgresql", "mysql"),
    "bool_value": ("sqlite", "postgresql", "mysql"),
    "str_value": ("sqlite", "postgresql", "mysql"),
    "str_case": ("sqlite", "postgresql", "mysql"),
    "default_dropped": ("sqlite", "postgresql", "mysql"),
    "num_unscaled": ("postgresql",),
    "type_length": ("sqlite", "postgresql", "mysql"),
    "type_timestamp": ("sqlite", "mysql"),
}


def _states(pair: Pair) -> tuple[Any, Any]:
    """The two spellings as the states of one column (same name), as the autodetector sees them."""
    return (
        sqla.column_state(_column("c", pair.type, pair.default)),
        sqla.column_state(_column("c", pair.other_type or pair.type, pair.other_default)),
    )


@pytest.mark.parametrize("name", sorted(SAME))
def test_equivalent_spellings_are_one_column_state(name: str) -> None:
    a, b = _states(SAME[name])
    assert a == b, (a, b)
    assert hash(a) == hash(b)
    assert a.same_definition(b)


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_real_differences_stay_differences(name: str) -> None:
    a, b = _states(DIFFERENT[name])
    assert a != b, (a, b)


# -- the databases -----------------------------------------------------------------------------


def _insert_one(url: str, table: sa.Table) -> dict[str, Any]:
    """Create ``table``, insert a row that takes every default, and read it back."""
    try:
        with connection(url) as conn:
            table.metadata.create_all(conn)
            conn.execute(table.insert().values(id=1))
            row = conn.execute(sa.select(table)).mappings().one()
            conn.commit()
        return dict(row)
    finally:
        dispose_engines()


def _reflected_types(url: str, table: str) -> dict[str, str]:
    with connection(url) as conn:
        inspector = sa.inspect(conn)
        return {
            c["name"]: str(c["type"].compile(dialect=conn.dialect))
            for c in inspector.get_columns(table)
        }


def _table(pairs: dict[str, Pair], dialect: str) -> sa.Table:
    table = sa.Table("spelling", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    for name, pair in sorted(pairs.items()):
        if dialect not in pair.not_on:
            for column in pair.columns(name):
                table.append_column(column)
    return table


def test_equivalent_spellings_store_the_same_on_the_database(db_url: str) -> None:
    dialect = dialect_of(db_url)
    table = _table(SAME, dialect)
    row = _insert_one(db_url, table)
    types = _reflected_types(db_url, "spelling")
    dispose_engines()
    for name, pair in sorted(SAME.items()):
        if dialect in pair.not_on:
            continue
        a, b = row[f"{name}_a"], row[f"{name}_b"]
        assert a == b and str(a) == str(b), (name, a, b)
        assert types[f"{name}_a"] == types[f"{name}_b"], (name, types)


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_real_differences_show_on_the_database(db_url: str, name: str) -> None:
    dialect = dialect_of(db_url)
    if dialect not in SHOWN[name]:
        pytest.skip(f"{name}: not a difference a row shows on {dialect}")
    table = _table({name: DIFFERENT[name]}, dialect)
    row = _insert_one(db_url, table)
    types = _reflected_types(db_url, "spelling")
    dispose_engines()
    a, b = row[f"{name}_a"], row[f"{name}_b"]
    assert str(a) != str(b) or types[f"{name}_a"] != types[f"{name}_b"], (name, a, b, types)


def test_postgresql_refuses_an_integer_default_on_a_boolean() -> None:
    """Why ``sa.text("1")`` is not ``sa.true()``: one of the databases cannot create it."""
    url = server_url("postgresql")
    assert url is not None
    from migrate_core.db.scratch import scratch_database

    with scratch_database(url, label="bool") as scratch:
        table = sa.Table(
            "spelling",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("flag", sa.Boolean(), server_default=sa.text("1")),
        )
        with pytest.raises(sa.exc.DBAPIError, match="boolean"):
            _insert_one(scratch, table)
        dispose_engines()


# -- the command -------------------------------------------------------------------------------

HEAD = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[int] = mapped_column(primary_key=True)
"""


def _models(pairs: dict[str, Pair], *, second: bool) -> str:
    lines = [HEAD]
    for name, pair in sorted(pairs.items()):
        type_ = (pair.other_type or pair.type) if second else pair.type
        default = pair.other_default if second else pair.default
        extra = f", server_default={default}" if default is not None else ""
        lines.append(f"    {name}: Mapped[Any] = mapped_column({type_}{extra}, nullable=True)")
    return "from typing import Any\n" + "\n".join(lines) + "\n"


def _project(make_project: Any, source: str, url: str | None) -> Path:
    forget_modules(["shop"])
    root: Path = make_project(source, url=url)
    return root


def test_makemigrations_writes_nothing_for_equivalent_spellings(
    make_project: Any, tmp_path: Path
) -> None:
    root = _project(make_project, _models(SAME, second=False), None)
    cli("makemigrations", "--noinput", expect=0)
    (first,) = (root / "shop" / "migrations").glob("0001_*.py")
    assert 'server_default="1"' in first.read_text(encoding="utf-8")  # as the model spells it

    (root / "shop" / "models.py").write_text(_models(SAME, second=True), encoding="utf-8")
    forget_modules(["shop"])
    result = cli("makemigrations", "--check", "--noinput", expect=0)
    assert "Alter" not in result.stdout + result.stderr


def test_makemigrations_alters_a_real_change(make_project: Any, tmp_path: Path) -> None:
    changed = {"int_value": DIFFERENT["int_value"], "enum_order": DIFFERENT["enum_order"]}
    pairs = {**{k: SAME[k] for k in ("int_str_text", "type_varchar", "clock_text")}, **changed}
    root = _project(make_project, _models(pairs, second=False), None)
    cli("makemigrations", "--noinput", expect=0)
    (root / "shop" / "models.py").write_text(_models(pairs, second=True), encoding="utf-8")
    forget_modules(["shop"])
    result = cli("makemigrations", "--dry-run", "--noinput", expect=0)
    out = result.stdout + result.stderr
    for name in changed:
        assert f"Alter column {name} on thing" in out, out
    for name in ("int_str_text", "type_varchar", "clock_text"):
        assert f"column {name} " not in out, out


def test_a_migrated_database_and_the_other_spelling_agree(
    db_url: str, make_project: Any, tmp_path: Path
) -> None:
    """On each database: the chain applied with one spelling, the models written with the
    other, and neither makemigrations nor the database sees a difference."""
    dialect = dialect_of(db_url)
    pairs = {k: v for k, v in SAME.items() if dialect not in v.not_on}
    root = _project(make_project, _models(pairs, second=False), db_url)
    cli("makemigrations", "--noinput", expect=0)
    cli("migrate", expect=0)
    (root / "shop" / "models.py").write_text(_models(pairs, second=True), encoding="utf-8")
    forget_modules(["shop"])
    cli("makemigrations", "--check", "--noinput", expect=0)
    dispose_engines()
