"""Type changes the database refuses, and DDL heavier than the change (issue 8, items 4 and 5).

Live, on every configured database: a column with a server default changes to a type
the default cannot be cast to; strings cast to integer, boolean, JSON, UUID, numeric
and date, and back; PostgreSQL adds enum values in place (the table's file is not
rewritten) and swaps the type only when it must; MySQL/MariaDB refuse to truncate
rows on a narrowing change whatever the session's sql_mode; SQLite rebuilds a table
at most once per migration, counted in the SQL ``sqlmigrate`` prints.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import cli
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import migrate
from helpers_engine import rows
from helpers_engine import snapshot
from helpers_engine import write_chain


@pytest.fixture
def project(make_project, db_url: str) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    yield make_project(MODELS, url=db_url)
    dispose_engines()


CLIENT = """
migrations.CreateModel(
    "client",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_type", sa.String(length=20), nullable=False, server_default="person"),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_client")],
),
"""

TO_ENUM = """
migrations.AlterField(
    "client",
    sa.Column(
        "client_type",
        sa.Enum("person", "company", name="client_type"),
        nullable=False,
        server_default="company",
    ),
),
"""


def test_a_default_that_cannot_be_cast_is_dropped_and_set_again(
    project: Path, db_url: str, dialect: str
) -> None:
    write_chain(project, [("0001_initial", CLIENT), ("0002_client_type_enum", TO_ENUM)])
    migrate(db_url, "shop", "0001")
    execute(db_url, "INSERT INTO client (id) VALUES (1)")
    migrate(db_url)
    execute(db_url, "INSERT INTO client (id) VALUES (2)")
    assert rows(db_url, "SELECT id, client_type FROM client ORDER BY id") == [
        (1, "person"),
        (2, "company"),
    ]
    if dialect == "postgresql":
        sql = cli("sqlmigrate", "shop", "0002", "--dialect", "postgresql").stdout
        drop = sql.index("ALTER TABLE client ALTER COLUMN client_type DROP DEFAULT")
        alter = sql.index("TYPE client_type USING client_type::text::client_type")
        assert drop < alter < sql.index("SET DEFAULT 'company'")
    migrate(db_url, "shop", "0001")
    execute(db_url, "INSERT INTO client (id) VALUES (3)")
    assert rows(db_url, "SELECT id, client_type FROM client ORDER BY id") == [
        (1, "person"),
        (2, "company"),
        (3, "person"),
    ]


VALUES = """
migrations.CreateModel(
    "val",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.String(length=40), nullable=False, server_default="0"),
        sa.Column("flag", sa.String(length=40), nullable=False, server_default="0"),
        sa.Column("doc", sa.String(length=40), server_default="{}"),
        sa.Column("ref", sa.String(length=40)),
        sa.Column("amount", sa.String(length=40), nullable=False, server_default="0"),
        sa.Column("day", sa.String(length=40), server_default="2000-01-01"),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_val")],
),
"""

FROM_STRINGS = """
migrations.AlterField("val", sa.Column("n", sa.Integer(), nullable=False, server_default="0")),
migrations.AlterField(
    "val", sa.Column("flag", sa.Boolean(), nullable=False, server_default=sa.false())
),
migrations.AlterField("val", sa.Column("doc", sa.JSON())),
migrations.AlterField("val", sa.Column("ref", sa.Uuid())),
migrations.AlterField(
    "val", sa.Column("amount", sa.Numeric(10, 2), nullable=False, server_default="0")
),
migrations.AlterField("val", sa.Column("day", sa.Date(), server_default="2000-01-01")),
"""

UUID_TEXT = "b3c1f1a2-5d6e-4f70-8a9b-0c1d2e3f4a5b"


def test_strings_cast_to_integer_boolean_json_uuid_numeric_date_and_back(
    project: Path, db_url: str, dialect: str
) -> None:
    write_chain(project, [("0001_initial", VALUES), ("0002_typed", FROM_STRINGS)])
    migrate(db_url, "shop", "0001")
    execute(
        db_url,
        "INSERT INTO val (id, n, flag, doc, ref, amount, day) "
        f"VALUES (1, '42', '1', '{{\"a\": 1}}', '{UUID_TEXT}', '12.50', '2024-01-02')",
    )
    migrate(db_url)
    execute(db_url, "INSERT INTO val (id) VALUES (2)")
    (first, second) = rows(db_url, "SELECT n, flag, doc, ref, amount, day FROM val ORDER BY id")
    n, flag, doc, ref, amount, day = first
    assert (n, bool(flag), Decimal(str(amount)), str(day)) == (
        42,
        True,
        Decimal("12.50"),
        "2024-01-02",
    )
    assert "a" in (doc if isinstance(doc, dict) else str(doc))
    assert str(ref).replace("-", "") == UUID_TEXT.replace("-", "")
    assert (second[0], bool(second[1]), str(second[5])) == (0, False, "2000-01-01")
    migrate(db_url, "shop", "0001")
    ((n, amount, day),) = rows(db_url, "SELECT n, amount, day FROM val WHERE id = 1")
    assert (n, Decimal(amount), day) == ("42", Decimal("12.50"), "2024-01-02")
    assert snapshot(db_url)["val"].columns["n"].type.startswith("VARCHAR(40)")


# -- PostgreSQL enums ------------------------------------------------------------------------------

BOOK = """
migrations.CreateModel(
    "book",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.Enum("draft", "published", name="book_status"), server_default="draft"
        ),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_book")],
),
"""

ADD_VALUES = """
migrations.AlterField(
    "book",
    sa.Column(
        "status",
        sa.Enum("new", "draft", "review", "published", "retired", name="book_status"),
        server_default="draft",
    ),
),
"""

ADD_VALUE_AS_DEFAULT = """
migrations.AlterField(
    "book",
    sa.Column(
        "status",
        sa.Enum("draft", "published", "retired", name="book_status"),
        server_default="retired",
    ),
),
"""


def _enum_labels(url: str) -> list[str]:
    return [
        r[0]
        for r in rows(
            url,
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            "WHERE t.typname = 'book_status' ORDER BY e.enumsortorder",
        )
    ]


@pytest.mark.parametrize("dialect", ["postgresql"], indirect=True)
def test_added_enum_values_alter_the_type_in_place(project: Path, db_url: str) -> None:
    write_chain(project, [("0001_initial", BOOK), ("0002_more_statuses", ADD_VALUES)])
    sql = cli("sqlmigrate", "shop", "0002", "--dialect", "postgresql").stdout
    assert "ALTER TYPE book_status ADD VALUE 'new' BEFORE 'draft'" in sql
    assert "ALTER TYPE book_status ADD VALUE 'review' BEFORE 'published'" in sql
    assert "ALTER TYPE book_status ADD VALUE 'retired' AFTER 'published'" in sql
    assert "RENAME" not in sql and "ALTER TABLE" not in sql
    migrate(db_url, "shop", "0001")
    execute(db_url, "INSERT INTO book (id, status) VALUES (1, 'published')")
    (filenode,) = rows(db_url, "SELECT pg_relation_filenode('book')")
    migrate(db_url)
    # No rewrite: the table is still the same file on disk.
    assert rows(db_url, "SELECT pg_relation_filenode('book')") == [filenode]
    assert _enum_labels(db_url) == ["new", "draft", "review", "published", "retired"]
    execute(db_url, "INSERT INTO book (id, status) VALUES (2, 'retired')")
    # Removing values still needs the swap, and works once no row holds them.
    execute(db_url, "DELETE FROM book WHERE id = 2")
    migrate(db_url, "shop", "0001")
    assert _enum_labels(db_url) == ["draft", "published"]
    assert rows(db_url, "SELECT id, status FROM book") == [(1, "published")]


@pytest.mark.parametrize("dialect", ["postgresql"], indirect=True)
def test_a_new_value_used_in_the_same_migration_swaps_the_type(project: Path, db_url: str) -> None:
    """An added value is unusable until its transaction commits; SET DEFAULT uses it."""
    write_chain(project, [("0001_initial", BOOK), ("0002_retired_default", ADD_VALUE_AS_DEFAULT)])
    sql = cli("sqlmigrate", "shop", "0002", "--dialect", "postgresql").stdout
    assert "ADD VALUE" not in sql and "RENAME TO book_status__old" in sql
    migrate(db_url)
    execute(db_url, "INSERT INTO book (id) VALUES (1)")
    assert rows(db_url, "SELECT status FROM book") == [("retired",)]
    assert _enum_labels(db_url) == ["draft", "published", "retired"]
    execute(db_url, "DELETE FROM book")
    migrate(db_url, "shop", "zero")


# -- MySQL / MariaDB: no silent truncation ---------------------------------------------------------

NOTE = """
migrations.CreateModel(
    "note",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10)),
        sa.Column("amount", sa.Numeric(8, 3)),
        sa.Column("qty", sa.Integer()),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_note")],
),
"""

NARROWINGS = {
    "code": 'sa.Column("code", sa.String(length=5))',
    "amount": 'sa.Column("amount", sa.Numeric(4, 1))',
    "qty": 'sa.Column("qty", sa.SmallInteger())',
}


def _lax(url: str) -> str:
    """The same database, every session out of strict mode (as some servers are set up)."""
    command = urllib.parse.quote("SET sql_mode = ''")
    return f"{url}?init_command={command}"


@pytest.mark.parametrize("dialect", ["mysql"], indirect=True)
@pytest.mark.parametrize("column", sorted(NARROWINGS))
@pytest.mark.parametrize("lax", [False, True], ids=["server-default-mode", "non-strict-session"])
def test_a_narrowing_type_change_fails_instead_of_truncating(
    project: Path, db_url: str, column: str, lax: bool
) -> None:
    url = _lax(db_url) if lax else db_url
    if lax:
        # What the server does on its own out of strict mode: truncate, with a warning.
        execute(
            url, "CREATE TABLE probe (s VARCHAR(10))", "INSERT INTO probe VALUES ('abcdefghij')"
        )
        execute(url, "ALTER TABLE probe MODIFY s VARCHAR(5)")
        assert rows(url, "SELECT s FROM probe") == [("abcde",)]
        execute(url, "DROP TABLE probe")
    alter = f'migrations.AlterField("note", {NARROWINGS[column]}),'
    write_chain(project, [("0001_initial", NOTE), ("0002_narrow", alter)])
    migrate(url, "shop", "0001")
    execute(
        url, "INSERT INTO note (id, code, amount, qty) VALUES (1, 'abcdefghij', 12345.678, 70000)"
    )
    result = migrate(url, expect=None)
    assert result.exit_code == 1, result.output
    assert "0002_narrow" in result.output
    assert rows(url, "SELECT code, qty FROM note") == [("abcdefghij", 70000)]
    assert str(rows(url, "SELECT amount FROM note")[0][0]) == "12345.678"
    # The session's own mode came back after the statement.
    assert rows(url, "SELECT @@SESSION.sql_mode")[0][0] is not None


# -- SQLite: one rebuild per table per migration ---------------------------------------------------

SHELF = """
migrations.CreateModel(
    "shelf",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("room", sa.String(length=20)),
        sa.Column("owner_id", sa.Integer()),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_shelf"),
        sa.ForeignKeyConstraint(["owner_id"], ["shelf.id"], name="fk_shelf_owner_id_shelf"),
        sa.UniqueConstraint("label", name="uq_shelf_label"),
        sa.CheckConstraint("length(label) > 0", name="ck_shelf_label"),
    ],
    indexes=[sa.Index("ix_shelf_room", "room")],
),
"""

SEQUENCES = {
    "rename_model_with_constraints": """
        migrations.RenameModel("shelf", "rack"),
        migrations.RenameConstraint("rack", "pk_shelf", "pk_rack"),
        migrations.RenameConstraint("rack", "fk_shelf_owner_id_shelf", "fk_rack_owner_id_rack"),
        migrations.RenameConstraint("rack", "uq_shelf_label", "uq_rack_label"),
        migrations.RenameConstraint("rack", "ck_shelf_label", "ck_rack_label"),
        migrations.RenameIndex("rack", "ix_shelf_room", "ix_rack_room"),
    """,
    "several_alter_fields": """
        migrations.AlterField("shelf", sa.Column("label", sa.String(length=40), nullable=False)),
        migrations.AlterField("shelf", sa.Column("room", sa.String(length=20), nullable=False), fill_value="hall"),
        migrations.AlterField("shelf", sa.Column("room", sa.String(length=30), nullable=False, server_default="hall")),
    """,
    "add_field_then_alter_it": """
        migrations.AddField("shelf", sa.Column("level", sa.Integer(), nullable=False), fill_value=1),
        migrations.AddIndex("shelf", sa.Index("ix_shelf_level", "level")),
        migrations.AlterField("shelf", sa.Column("level", sa.BigInteger(), nullable=False, server_default="2")),
        migrations.RenameField("shelf", "room", "place"),
        migrations.RemoveField("shelf", "owner_id"),
    """,
}


def _rebuilds(sql: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in re.findall(r"^CREATE TABLE (\w+) ", sql, re.M):
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_sqlite_rebuilds_a_table_once_per_migration(
    project: Path, db_url: str, sequence: str
) -> None:
    write_chain(project, [("0001_initial", SHELF), ("0002_change", SEQUENCES[sequence])])
    for direction in ([], ["--backwards"]):
        sql = cli("sqlmigrate", "shop", "0002", "--dialect", "sqlite", *direction).stdout
        assert all(n == 1 for n in _rebuilds(sql).values()), (_rebuilds(sql), sql)
    migrate(db_url, "shop", "0001")
    execute(
        db_url,
        "INSERT INTO shelf (id, label, room, owner_id) VALUES (1, 'a', NULL, NULL)",
        "INSERT INTO shelf (id, label, room, owner_id) VALUES (2, 'b', 'attic', 1)",
    )
    before = snapshot(db_url)
    migrate(db_url)
    table = "rack" if sequence == "rename_model_with_constraints" else "shelf"
    after = rows(db_url, f"SELECT * FROM {table} ORDER BY id")
    assert [r[0] for r in after] == [1, 2]
    if sequence == "several_alter_fields":
        assert after == [(1, "a", "hall", None), (2, "b", "attic", 1)]
    if sequence == "add_field_then_alter_it":
        # The rows got the fill value; the default applies to rows inserted later.
        assert after == [(1, "a", None, 1), (2, "b", "attic", 1)]
    migrate(db_url, "shop", "0001")
    assert snapshot(db_url) == before
    assert [r[0] for r in rows(db_url, "SELECT id FROM shelf ORDER BY id")] == [1, 2]


NOTE_NULLABLE = """
migrations.CreateModel(
    "memo",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=20)),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_memo")],
),
"""

THEN_PYTHON = """
migrations.AddField("memo", sa.Column("size", sa.Integer()), fill_value=None),
migrations.RenameField("memo", "body", "text"),
migrations.RunPython(measure),
migrations.AlterField("memo", sa.Column("size", sa.Integer(), nullable=False)),
"""

MEASURE = """
def measure(connection):
    connection.execute(sa.text("UPDATE memo SET size = length(text)"))
"""


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_sqlite_runs_owed_rebuilds_before_python_code_reads_the_table(
    project: Path, db_url: str
) -> None:
    from helpers_engine import write_migration

    write_chain(project, [("0001_initial", NOTE_NULLABLE)])
    write_migration(project, "0002_size", THEN_PYTHON, [("shop", "0001_initial")], prelude=MEASURE)
    migrate(db_url, "shop", "0001")
    execute(db_url, "INSERT INTO memo (id, body) VALUES (1, 'four')")
    migrate(db_url)
    assert rows(db_url, "SELECT id, text, size FROM memo") == [(1, "four", 4)]


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_a_deferred_rebuild_that_fails_names_its_own_operation(project: Path, db_url: str) -> None:
    change = """
        migrations.AlterField("memo", sa.Column("body", sa.String(length=20), nullable=False)),
        migrations.AddField("memo", sa.Column("extra", sa.Integer())),
    """
    write_chain(project, [("0001_initial", NOTE_NULLABLE), ("0002_strict", change)])
    migrate(db_url, "shop", "0001")
    execute(db_url, "INSERT INTO memo (id) VALUES (1)")
    result = migrate(db_url, expect=1)
    assert 'shop/migrations/0002_strict.py:8  AlterField("memo"' in result.stderr, result.stderr
    assert "NOT NULL constraint failed: memo.body" in result.stderr
    assert "Nothing of 0002_strict was kept (rolled back)" in result.stderr
    assert rows(db_url, "SELECT id, body FROM memo") == [(1, None)]


def test_sqlite_does_not_rebuild_a_table_the_migration_then_drops(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(MODELS)
    change = """
        migrations.AlterField("memo", sa.Column("body", sa.String(length=40))),
        migrations.DeleteModel("memo"),
    """
    write_chain(project, [("0001_initial", NOTE_NULLABLE), ("0002_gone", change)])
    sql = cli("sqlmigrate", "shop", "0002", "--dialect", "sqlite").stdout
    assert "CREATE TABLE" not in sql and "DROP TABLE memo" in sql
