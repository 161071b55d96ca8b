"""Defaults and types written two ways that the database treats as the same compare equal.

The drift check compares the schema the migrations build with ``create_all``'s. A
migration may spell a default differently from how ``create_all`` compiles the model's
(``1`` for ``'1'``, ``CURRENT_TIMESTAMP`` for ``now()``, ``'abc'::text`` for ``'abc'``); the
database then reports two spellings of one value, and nothing in the models could make
them agree. Each dialect below has a table of (model column, the same column written
another way) that must give no MC601, and of real differences that must still give one.

Two levels: ``create_all`` of both spellings on two scratch databases, reflected and
compared in-process (every form, quickly); and ``check-migrations`` on a project whose
migration creates the table with the other spelling in raw SQL while declaring the
model's state (so only drift can see the spelling).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import server_url
from helpers_check import Repo
from helpers_check import findings
from helpers_check import isolate_git
from helpers_check import makemigrations
from helpers_check import run_check
from helpers_check import write
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from migrate_core.db.introspection import diff_schemas
from migrate_core.db.introspection import reflect_schema

TABLE = "thing"


@dataclass(frozen=True)
class Form:
    """One column: the model's declaration and another spelling of it (Python source).

    ``type`` and ``default`` are the model's (``default`` None: no server default);
    ``other_type`` / ``other_default`` the other spelling (``other_type`` None: the same
    type; ``other_default`` None: no server default).
    """

    column: str
    type: str
    default: str | None
    other_default: str | None
    other_type: str | None = None


def _col(name: str, type_: str, default: str | None) -> str:
    extra = f", server_default={default}" if default is not None else ""
    return f"sa.Column({name!r}, {type_}{extra})"


# The same value, spelled another way.
EQUAL: dict[str, list[Form]] = {
    "common": [
        Form("big_quoted", "sa.BigInteger()", '"1"', 'sa.text("1")'),
        Form("big_parens", "sa.BigInteger()", 'sa.text("1")', 'sa.text("(1)")'),
        Form("int_negative", "sa.Integer()", '"-1"', 'sa.text("-1")'),
        Form("num_scale", "sa.Numeric(10, 2)", '"1.50"', 'sa.text("1.5")'),
        Form("num_quoted", "sa.Numeric(10, 2)", '"1.5"', "sa.text(\"'1.50'\")"),
        Form("num_integral", "sa.Numeric(10, 2)", '"2"', 'sa.text("2.00")'),
        Form("float_quoted", "sa.Float()", '"1.5"', 'sa.text("1.5")'),
        Form("str_quoted", "sa.String(10)", '"abc"', "sa.text(\"'abc'\")"),
        Form("str_digit", "sa.String(10)", '"7"', 'sa.text("7")'),
        Form("str_empty", "sa.String(10)", '""', "sa.text(\"''\")"),
        Form("stamp_now", "sa.DateTime()", "sa.func.now()", 'sa.text("CURRENT_TIMESTAMP")'),
    ],
    "postgresql": [
        Form("pg_big_cast", "sa.BigInteger()", 'sa.text("1")', "sa.text(\"'1'::bigint\")"),
        Form("pg_num_cast", "sa.Numeric()", '"-1"', "sa.text(\"'-1'::integer\")"),
        Form("pg_varchar_cast", "sa.String(10)", '"abc"', "sa.text(\"'abc'::varchar\")"),
        Form("pg_text_cast", "sa.Text()", '"abc"', "sa.text(\"'abc'::text\")"),
        Form("pg_text_to_varchar", "sa.String(10)", '"abc"', "sa.text(\"'abc'::text\")"),
        Form("pg_bool_t", "sa.Boolean()", "sa.true()", "sa.text(\"'t'\")"),
        Form("pg_bool_one", "sa.Boolean()", "sa.false()", "sa.text(\"'0'\")"),
        Form("pg_now_upper", "sa.DateTime()", "sa.func.now()", 'sa.text("CURRENT_TIMESTAMP(6)")'),
        Form(
            "pg_now_tx",
            "sa.DateTime(timezone=True)",
            'sa.text("CURRENT_TIMESTAMP")',
            'sa.text("transaction_timestamp()")',
        ),
        Form("pg_now_lower", "sa.DateTime()", "sa.func.now()", 'sa.text("current_timestamp")'),
        Form(
            "pg_array",
            "postgresql.ARRAY(sa.String())",
            "sa.text(\"'{}'\")",
            "sa.text(\"'{}'::character varying[]\")",
        ),
        Form("pg_jsonb", "postgresql.JSONB()", "sa.text(\"'{}'\")", "sa.text(\"'{}'::jsonb\")"),
        Form(
            "pg_interval",
            "sa.Interval()",
            "sa.text(\"'1 day'\")",
            "sa.text(\"'1 day'::interval\")",
        ),
        Form("pg_float_cast", "sa.Float()", '"2"', "sa.text(\"'2'::double precision\")"),
    ],
    "mysql": [
        Form("my_bool_true", "sa.Boolean()", "sa.true()", 'sa.text("1")'),
        Form("my_bool_quoted", "sa.Boolean()", "sa.false()", "sa.text(\"'0'\")"),
        Form("my_now_fn", "sa.DateTime()", "sa.func.now()", 'sa.text("current_timestamp()")'),
        Form("my_localtime", "sa.DateTime()", "sa.func.now()", 'sa.text("LOCALTIMESTAMP")'),
        Form(
            "my_now_fsp",
            "mysql.DATETIME(fsp=6)",
            'sa.text("CURRENT_TIMESTAMP(6)")',
            'sa.text("now(6)")',
        ),
        Form("my_int_width", "sa.Integer()", None, None, "mysql.INTEGER(display_width=5)"),
        Form("my_big_width", "sa.BigInteger()", '"3"', '"3"', "mysql.BIGINT(display_width=11)"),
        Form("my_small_width", "sa.SmallInteger()", None, None, "mysql.SMALLINT(display_width=3)"),
        Form("my_tinyint_bool", "sa.Boolean()", None, None, "mysql.TINYINT(display_width=1)"),
    ],
    "sqlite": [
        Form("lite_bool_kw", "sa.Boolean()", "sa.true()", 'sa.text("TRUE")'),
        Form("lite_bool_quoted", "sa.Boolean()", "sa.true()", "sa.text(\"'1'\")"),
        Form("lite_int_quoted", "sa.Integer()", '"5"', 'sa.text("5")'),
        Form("lite_now_fn", "sa.DateTime()", "sa.func.now()", "sa.text(\"(datetime('now'))\")"),
        Form("lite_now_lower", "sa.DateTime()", "sa.func.now()", 'sa.text("current_timestamp")'),
        Form("lite_date_fn", "sa.Date()", 'sa.text("CURRENT_DATE")', "sa.text(\"(date('now'))\")"),
        Form("lite_decimal_quoted", "sa.Numeric(10, 2)", 'sa.text("0")', "sa.text(\"'0.00'\")"),
    ],
}

# Different values (or types): each must still be reported.
DIFFERENT: dict[str, list[Form]] = {
    "common": [
        Form("d_big", "sa.BigInteger()", '"1"', 'sa.text("2")'),
        Form("d_num", "sa.Numeric(10, 2)", '"1.50"', 'sa.text("1.51")'),
        Form("d_str", "sa.String(10)", '"abc"', "sa.text(\"'abd'\")"),
        Form("d_str_case", "sa.String(10)", '"abc"', "sa.text(\"'ABC'\")"),
        Form("d_str_number", "sa.String(10)", '"1.50"', "sa.text(\"'1.5'\")"),
        Form("d_now_gone", "sa.DateTime()", "sa.func.now()", None),
        Form("d_added", "sa.Integer()", None, 'sa.text("0")'),
        Form("d_length", "sa.String(10)", None, None, "sa.String(20)"),
        Form("d_bool", "sa.Boolean()", "sa.true()", "sa.false()"),
    ],
    "postgresql": [
        Form("pd_round", "sa.Numeric(10, 2)", '"1.5"', 'sa.text("1.5::integer")'),
        Form("pd_precision", "sa.DateTime()", "sa.func.now()", 'sa.text("CURRENT_TIMESTAMP(0)")'),
        Form("pd_local", "sa.DateTime()", "sa.func.now()", 'sa.text("LOCALTIMESTAMP")'),
        Form("pd_text", "sa.String()", None, None, "sa.Text()"),
        Form(
            "pd_array", "postgresql.ARRAY(sa.String())", None, None, "postgresql.ARRAY(sa.Text())"
        ),
    ],
    "mysql": [
        Form("md_tinyint", "sa.Boolean()", None, None, "mysql.TINYINT()"),
        Form("md_fsp", "mysql.DATETIME(fsp=6)", None, None, "mysql.DATETIME(fsp=3)"),
        Form("md_int_big", "sa.Integer()", None, None, "sa.BigInteger()"),
    ],
    "sqlite": [
        # BOOLEAN has numeric affinity: the text 't' is not the number 1.
        Form("ld_bool_text", "sa.Boolean()", "sa.true()", "sa.text(\"'t'\")"),
        Form(
            "ld_now_utc",
            "sa.DateTime()",
            "sa.func.now()",
            "sa.text(\"(datetime('now', 'localtime'))\")",
        ),
        Form("ld_bigint", "sa.Integer()", None, None, "sa.BigInteger()"),
    ],
}


def forms(table: dict[str, list[Form]], dialect: str) -> list[Form]:
    return table["common"] + table[dialect]


NAMESPACE: dict[str, Any] = {"sa": sa, "postgresql": postgresql, "mysql": mysql}


def _table(metadata: sa.MetaData, columns: list[str]) -> sa.Table:
    source = f"sa.Table({TABLE!r}, metadata, sa.Column('id', sa.Integer(), primary_key=True), "
    # Named as create_all names the models' key (migrate-core names unnamed keys).
    source += ", ".join(columns) + f", sa.PrimaryKeyConstraint('id', name='pk_{TABLE}'))"
    # Our own source text: the forms are written as the Python a model would use.
    return eval(source, {**NAMESPACE, "metadata": metadata})


def model_columns(items: list[Form]) -> list[str]:
    return [_col(f.column, f.type, f.default) for f in items]


def other_columns(items: list[Form]) -> list[str]:
    return [_col(f.column, f.other_type or f.type, f.other_default) for f in items]


def _create_and_reflect(url: str, columns: list[str]) -> Any:
    metadata = sa.MetaData()
    _table(metadata, columns)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        metadata.create_all(engine)
        with engine.connect() as conn:
            return reflect_schema(conn, [TABLE])
    finally:
        engine.dispose()


def _columns_named(diffs: list[Any]) -> set[str]:
    found = set()
    for diff in diffs:
        for name in {f.column for table in DIFFERENT.values() for f in table}:
            if f"{TABLE}.{name}:" in diff.message:
                found.add(name)
    return found


# -- create_all of both spellings ------------------------------------------------------------------


def test_create_all_of_equal_spellings_has_no_differences(
    dialect: str, db_url: str, other_db_url: str
) -> None:
    items = forms(EQUAL, dialect)
    expected = _create_and_reflect(db_url, model_columns(items))
    actual = _create_and_reflect(other_db_url, other_columns(items))

    assert [d.message for d in diff_schemas(expected, actual)] == []


def test_create_all_of_different_values_reports_each(
    dialect: str, db_url: str, other_db_url: str
) -> None:
    items = forms(DIFFERENT, dialect)
    expected = _create_and_reflect(db_url, model_columns(items))
    actual = _create_and_reflect(other_db_url, other_columns(items))

    diffs = diff_schemas(expected, actual)

    assert _columns_named(diffs) == {f.column for f in items}, [d.message for d in diffs]


# -- check-migrations: the migration spells it the other way ---------------------------------------

PYPROJECT = """\
[tool.migrate-core]

[tool.migrate-core.apps.shop]
models = "shop.models:metadata"
migrations = "shop/migrations"
"""

MODELS = """\
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

thing = sa.Table(
    "thing",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
{columns}
)
"""


def _offline_dialect(dialect: str) -> sa.Dialect:
    url = {"sqlite": "sqlite://", "postgresql": "postgresql://", "mysql": "mysql+pymysql://"}
    return sa.engine.make_url(url[dialect]).get_dialect()()


def _other_ddl(dialect: str, columns: list[str], server: str | None) -> str:
    metadata = sa.MetaData()
    table = _table(metadata, columns)
    if server is not None and dialect == "mysql":
        # The server's own dialect (MariaDB or MySQL) compiles what it accepts.
        engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
        try:
            with engine.connect():
                compiler = engine.dialect
        finally:
            engine.dispose()
    else:
        compiler = _offline_dialect(dialect)
    return str(CreateTable(table).compile(dialect=compiler)).strip()


def _project(root: Path, dialect: str, items: list[Form], server: str | None) -> Path:
    """A project whose one migration creates ``thing`` with the other spellings in raw SQL
    while declaring the models' state (written by makemigrations, then wrapped)."""
    Repo.init(root)
    write(root / "pyproject.toml", PYPROJECT)
    write(root / "shop" / "__init__.py", "")
    write(root / ".gitignore", "__pycache__/\n*.db\n")
    columns = textwrap.indent(",\n".join(model_columns(items)) + ",", " " * 4)
    write(root / "shop" / "models.py", MODELS.format(columns=columns))
    makemigrations(root, "--name", "initial")
    path = root / "shop" / "migrations" / "0001_initial.py"
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("    operations = (\n")
    assert sep and body.rstrip().endswith(")"), text
    inner = body.rstrip()[:-1]
    ddl = _other_ddl(dialect, other_columns(items), server)
    wrapped = (
        f"{head}{sep}        migrations.RunSQL(\n"
        f"            {ddl!r},\n"
        f"            reverse_sql='DROP TABLE {TABLE}',\n"
        "            state_operations=[\n"
        f"{textwrap.indent(inner, ' ' * 8)}"
        "            ],\n"
        "        ),\n"
        "    )\n"
    )
    if "postgresql." in wrapped and "from sqlalchemy.dialects import postgresql" not in wrapped:
        wrapped = "from sqlalchemy.dialects import postgresql\n" + wrapped
    if "mysql." in wrapped and "from sqlalchemy.dialects import mysql" not in wrapped:
        wrapped = "from sqlalchemy.dialects import mysql\n" + wrapped
    path.write_text(wrapped, encoding="utf-8")
    Repo(root).commit("the thing")
    return root


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


def test_check_migrations_sees_no_drift_in_equal_spellings(dialect: str, tmp_path: Path) -> None:
    server = server_url(dialect)
    project = _project(tmp_path / "repo", dialect, forms(EQUAL, dialect), server)

    run = run_check(project, url=server)
    assert run.report, run.output

    assert findings(run.report, "drift") == [], run.output
    assert run.returncode == 0, run.output


def test_check_migrations_reports_real_differences(dialect: str, tmp_path: Path) -> None:
    server = server_url(dialect)
    items = forms(DIFFERENT, dialect)
    project = _project(tmp_path / "repo", dialect, items, server)

    run = run_check(project, url=server)
    assert run.report, run.output

    assert run.returncode == 1, run.output
    drift = findings(run.report, "drift")
    assert {f["code"] for f in drift} == {"MC601"}
    named = {f.column for f in items for d in drift if f"{TABLE}.{f.column}:" in d["message"]}
    assert named == {f.column for f in items}, run.output
    # Only drift can see a spelling: the declared state is the models'.
    assert findings(run.report, "missing") == [], run.output


# -- the normalization itself, without a database ----------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "type_text", "one", "other"),
    [
        ("postgresql", "BIGINT", "'1'::bigint", "1"),
        ("postgresql", "VARCHAR(10)", "'abc'::character varying", "'abc'"),
        ("postgresql", "VARCHAR[]", "'{}'::character varying[]", "'{}'"),
        ("postgresql", "TEXT", "'it''s'::text", "'it''s'"),
        ("postgresql", "NUMERIC", "'-1'::integer", "-1.0"),
        ("postgresql", "ENUM('a','b') status", "'a'::status", "'a'"),
        ("postgresql", "TIMESTAMP WITHOUT TIME ZONE", "now()", "CURRENT_TIMESTAMP"),
        ("mysql", "DATETIME(6)", "current_timestamp(6)", "now(6)"),
        ("mysql", "DATETIME", "current_timestamp()", "CURRENT_TIMESTAMP(0)"),
        ("mysql", "DECIMAL(10, 2)", "1.50", "'1.5'"),
        ("sqlite", "BOOLEAN", "TRUE", "'1'"),
        ("sqlite", "VARCHAR(10)", "7", "'7'"),
        ("sqlite", "DATETIME", "datetime('now')", "current_timestamp"),
    ],
)
def test_spellings_of_one_value_normalize_alike(
    dialect: str, type_text: str, one: str, other: str
) -> None:
    from migrate_core.db import dialects

    backend = dialects.get(dialect)
    assert backend.normalize_default(one, type_text) == backend.normalize_default(other, type_text)


@pytest.mark.parametrize(
    ("dialect", "type_text", "one", "other"),
    [
        ("postgresql", "NUMERIC(10, 2)", "(1.5)::integer", "1.5"),
        ("postgresql", "VARCHAR(10)", "'abc'::character varying(2)", "'abc'"),
        ("postgresql", "TEXT", "'a'::text || 'b'::text", "'ab'"),
        ("postgresql", "TIMESTAMP WITHOUT TIME ZONE", "CURRENT_TIMESTAMP(0)", "now()"),
        ("postgresql", "NUMERIC", "'0.1'::real", "0.1"),
        ("postgresql", "VARCHAR(10)", "'1.50'::character varying", "'1.5'"),
        ("mysql", "DATETIME(6)", "current_timestamp(6)", "current_timestamp()"),
        ("mysql", "VARCHAR(10)", "'abc'", "'ABC'"),
        ("sqlite", "BOOLEAN", "'t'", "1"),
        ("sqlite", "VARCHAR(10)", "1.50", "'1.50'"),
        ("sqlite", "DATETIME", "datetime('now','localtime')", "CURRENT_TIMESTAMP"),
    ],
)
def test_different_values_stay_different(
    dialect: str, type_text: str, one: str, other: str
) -> None:
    from migrate_core.db import dialects

    backend = dialects.get(dialect)
    assert backend.normalize_default(one, type_text) != backend.normalize_default(other, type_text)
