"""Every operation, forwards and backwards, on every database, checked by reflection.

Each test writes a short chain of migration files into a temporary project and
walks it the way ``migrate-core migrate shop <target>`` does (lock, executor, plan;
``helpers_engine.Migrator``): one migration forwards at a time (the reflected schema
is checked after each step), then one backwards at a time (the reflected schema must
equal, exactly, what it was at that point on the way forwards; see
``helpers_engine.step_through``). Data is inserted between steps where an operation
must keep it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import Snapshot
from helpers_engine import default_text
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import rows
from helpers_engine import snapshot
from helpers_engine import step_through
from helpers_engine import table_names
from helpers_engine import write_chain


@pytest.fixture
def project(make_project, db_url: str) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    yield make_project(MODELS, url=db_url)
    dispose_engines()


def _int_type(dialect: str) -> str:
    return "INTEGER(11)" if dialect == "mysql" else "INTEGER"


# -- CreateModel / DeleteModel ---------------------------------------------------------------------

AUTHOR_AND_BOOK = """
migrations.CreateModel(
    "author",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False, comment="display name"),
        sa.Column("status", sa.String(length=20), nullable=False, server_default="new"),
        sa.Column("fee", sa.Numeric(precision=10, scale=2), nullable=False, server_default="0"),
        sa.Column("mentor_id", sa.Integer()),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_author"),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["author.id"], name="fk_author_mentor_id_author", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("name", name="uq_author_name"),
        sa.CheckConstraint("fee >= 0", name="ck_author_fee"),
    ],
    indexes=[sa.Index("ix_author_status_fee", "status", "fee")],
    comment="people who write",
),
migrations.CreateModel(
    "book",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200)),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_book"),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["author.id"],
            name="fk_book_author_id_author",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        sa.UniqueConstraint("author_id", "title", name="uq_book_author_id_title"),
    ],
    indexes=[sa.Index("ix_book_title", "title", unique=True)],
),
"""


def test_create_model_and_delete_model(project: Path, db_url: str, dialect: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", AUTHOR_AND_BOOK),
            ("0002_delete_book", 'migrations.DeleteModel("book"),'),
            ("0003_delete_author", 'migrations.DeleteModel("author"),'),
        ],
    )
    integer = _int_type(dialect)

    def created(snap: Snapshot) -> None:
        assert snap.names() == {"author", "book"}
        author, book = snap["author"], snap["book"]
        assert set(author.columns) == {"id", "name", "status", "fee", "mentor_id"}
        assert author.columns["name"].type == "VARCHAR(50)"
        assert author.columns["name"].nullable is False
        assert author.columns["mentor_id"].nullable is True
        assert default_text(author.columns["status"].default) == "new"
        assert Decimal(default_text(author.columns["fee"].default) or "x") == 0
        assert "NUMERIC(10, 2)" in author.columns["fee"].type or "DECIMAL(10, 2)" in (
            author.columns["fee"].type
        )
        assert author.primary_key == ("id",)
        assert author.unique("uq_author_name") == ("name",)
        assert author.checks == {"ck_author_fee": "fee>=0"}
        assert author.index("ix_author_status_fee") == (("status", "fee"), False)
        fk = author.foreign_keys["fk_author_mentor_id_author"]
        assert (fk.columns, fk.ref_table, fk.ref_columns, fk.ondelete) == (
            ("mentor_id",),
            "author",
            ("id",),
            "SET NULL",
        )
        fk = book.foreign_keys["fk_book_author_id_author"]
        assert (fk.ref_table, fk.ondelete, fk.onupdate) == ("author", "CASCADE", "CASCADE")
        assert book.unique("uq_book_author_id_title") == ("author_id", "title")
        assert book.index("ix_book_title") == (("title",), True)
        assert book.columns["author_id"].type == integer
        if dialect == "sqlite":
            assert author.comment is None  # SQLite has no comments; they are skipped
        else:
            assert author.comment == "people who write"
            assert author.columns["name"].comment == "display name"
        if dialect == "postgresql":
            assert "author_id_seq" in snap.sequences
        if dialect != "sqlite":
            assert author.columns["id"].autoincrement is True
        # The primary key hands out ids by itself, and the cascade works.
        execute(
            db_url,
            "INSERT INTO author (name) VALUES ('ann')",
            "INSERT INTO book (author_id, title) VALUES (1, 'first')",
        )
        assert rows(db_url, "SELECT id, status FROM author") == [(1, "new")]

    def author_deleted(snap: Snapshot) -> None:
        assert snap.names() == set()
        if dialect == "postgresql":
            assert "author_id_seq" not in snap.sequences

    snaps = step_through(
        db_url, names, {"0001_initial": created, "0003_delete_author": author_deleted}
    )
    # Deleting book left author exactly as it was.
    assert snaps["0002_delete_book"].names() == {"author"}
    assert snaps["0002_delete_book"]["author"] == snaps["0001_initial"]["author"]
    assert table_names(db_url) == {"migrate_core_migrations"}


# -- AddField --------------------------------------------------------------------------------------

TWO_TABLES = """
migrations.CreateModel(
    "author",
    columns=[sa.Column("id", sa.Integer(), nullable=False)],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
migrations.CreateModel(
    "item",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=50)),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_item")],
    indexes=[sa.Index("ix_item_title", "title")],
),
"""


def _insert_items(url: str) -> None:
    execute(
        url,
        "INSERT INTO author (id) VALUES (1)",
        "INSERT INTO item (id, title) VALUES (1, 'a')",
        "INSERT INTO item (id, title) VALUES (2, 'b')",
    )


def test_add_field(project: Path, db_url: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", TWO_TABLES),
            ("0002_note", 'migrations.AddField("item", sa.Column("note", sa.Text())),'),
            (
                "0003_code",
                """
                migrations.AddField(
                    "item",
                    sa.Column("code", sa.String(length=10), nullable=False),
                    fill_value="x-1",
                ),
                """,
            ),
            (
                "0004_qty",
                """
                migrations.AddField(
                    "item", sa.Column("qty", sa.Integer(), nullable=False, server_default="1")
                ),
                """,
            ),
            (
                "0005_author",
                """
                migrations.AddField(
                    "item",
                    sa.Column(
                        "author_id",
                        sa.Integer(),
                        sa.ForeignKey(
                            "author.id", name="fk_item_author_id_author", ondelete="SET NULL"
                        ),
                    ),
                ),
                """,
            ),
            (
                "0006_counted",
                """
                migrations.AddField(
                    "item", sa.Column("counted", sa.Boolean(), nullable=False), fill_value=True
                ),
                """,
            ),
        ],
    )

    def added_note(snap: Snapshot) -> None:
        note = snap["item"].columns["note"]
        assert note.nullable is True
        assert note.default is None
        assert rows(db_url, "SELECT id, note FROM item ORDER BY id") == [(1, None), (2, None)]

    def added_code(snap: Snapshot) -> None:
        code = snap["item"].columns["code"]
        assert (code.type, code.nullable, code.default) == ("VARCHAR(10)", False, None)
        assert rows(db_url, "SELECT id, code FROM item ORDER BY id") == [(1, "x-1"), (2, "x-1")]

    def added_qty(snap: Snapshot) -> None:
        qty = snap["item"].columns["qty"]
        assert qty.nullable is False
        assert default_text(qty.default) == "1"
        assert rows(db_url, "SELECT qty FROM item ORDER BY id") == [(1,), (1,)]

    def added_author(snap: Snapshot) -> None:
        item = snap["item"]
        fk = item.foreign_keys["fk_item_author_id_author"]
        assert (fk.columns, fk.ref_table, fk.ref_columns, fk.ondelete) == (
            ("author_id",),
            "author",
            ("id",),
            "SET NULL",
        )
        assert item.columns["author_id"].nullable is True
        # The rebuild SQLite needs for this kept the rows and the index.
        assert item.index("ix_item_title") == (("title",), False)
        assert rows(db_url, "SELECT id, title, code FROM item ORDER BY id") == [
            (1, "a", "x-1"),
            (2, "b", "x-1"),
        ]

    def added_counted(snap: Snapshot) -> None:
        counted = snap["item"].columns["counted"]
        assert (counted.nullable, counted.default) == (False, None)
        assert [bool(r[0]) for r in rows(db_url, "SELECT counted FROM item")] == [True, True]

    step_through(
        db_url,
        names,
        {
            "0001_initial": lambda snap: _insert_items(db_url),
            "0002_note": added_note,
            "0003_code": added_code,
            "0004_qty": added_qty,
            "0005_author": added_author,
            "0006_counted": added_counted,
        },
        floor="0001_initial",
    )
    # The rows outlived every step there and back.
    assert rows(db_url, "SELECT id, title FROM item ORDER BY id") == [(1, "a"), (2, "b")]


# -- RemoveField -----------------------------------------------------------------------------------

ITEM_WITH_KEYS = """
migrations.CreateModel(
    "author",
    columns=[sa.Column("id", sa.Integer(), nullable=False)],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
migrations.CreateModel(
    "item",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20)),
        sa.Column("name", sa.String(length=50), server_default="n/a", comment="shown"),
        sa.Column("author_id", sa.Integer()),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_item"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["author.id"], name="fk_item_author_id_author", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("code", name="uq_item_code"),
    ],
    indexes=[sa.Index("ix_item_name", "name"), sa.Index("ix_item_name_code", "name", "code")],
),
"""


def test_remove_field(project: Path, db_url: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", ITEM_WITH_KEYS),
            ("0002_code", 'migrations.RemoveField("item", "code"),'),
            ("0003_author", 'migrations.RemoveField("item", "author_id"),'),
            ("0004_name", 'migrations.RemoveField("item", "name"),'),
        ],
    )

    def insert(snap: Snapshot) -> None:
        execute(
            db_url,
            "INSERT INTO author (id) VALUES (1)",
            "INSERT INTO item (id, code, name, author_id) VALUES (1, 'c1', 'one', 1)",
        )

    def code_removed(snap: Snapshot) -> None:
        item = snap["item"]
        assert "code" not in item.columns
        assert item.unique("uq_item_code") is None
        assert item.index("ix_item_name_code") is None
        assert item.index("ix_item_name") == (("name",), False)

    def author_removed(snap: Snapshot) -> None:
        item = snap["item"]
        assert "author_id" not in item.columns
        assert item.foreign_keys == {}
        # MySQL made an index for the key; it went with the key.
        assert set(item.indexes) == {"ix_item_name"}

    def name_removed(snap: Snapshot) -> None:
        assert set(snap["item"].columns) == {"id"}
        assert snap["item"].indexes == {}

    snaps = step_through(
        db_url,
        names,
        {
            "0001_initial": insert,
            "0002_code": code_removed,
            "0003_author": author_removed,
            "0004_name": name_removed,
        },
        floor="0001_initial",
    )
    # Back at the start: the full columns are back with their keys (equal snapshots), and
    # the row is still there; what the dropped columns held is gone, as it must be.
    item = snaps["0001_initial"]["item"]
    assert item.unique("uq_item_code") == ("code",)
    assert item.index("ix_item_name_code") == (("name", "code"), False)
    assert item.foreign_keys["fk_item_author_id_author"].ondelete == "CASCADE"
    assert rows(db_url, "SELECT id, code, author_id FROM item") == [(1, None, None)]
    # The server default came back too: it fills the re-created column.
    assert rows(db_url, "SELECT name FROM item") == [("n/a",)]


# -- AlterField ------------------------------------------------------------------------------------

ITEM_TO_ALTER = """
migrations.CreateModel(
    "item",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20)),
        sa.Column("price", sa.Numeric(precision=8, scale=2)),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=50)),
        sa.Column("label", sa.String(length=10), nullable=False, server_default="a"),
        sa.Column("descr", sa.String(length=30)),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_item"),
        sa.UniqueConstraint("label", "id", name="uq_item_label_id"),
        sa.CheckConstraint("price >= 0", name="ck_item_price"),
    ],
    indexes=[sa.Index("ix_item_name", "name"), sa.Index("ix_item_qty_name", "qty", "name")],
),
"""

ALTERATIONS = [
    ("0002_name_longer", 'sa.Column("name", sa.String(length=100))'),
    ("0003_price_precision", 'sa.Column("price", sa.Numeric(precision=12, scale=4))'),
    ("0004_qty_bigint", 'sa.Column("qty", sa.BigInteger(), nullable=False)'),
    ("0005_qty_nullable", 'sa.Column("qty", sa.BigInteger())'),
    (
        "0006_note_not_null",
        'sa.Column("note", sa.String(length=50), nullable=False), fill_value="-"',
    ),
    (
        "0007_label_default",
        'sa.Column("label", sa.String(length=10), nullable=False, server_default="b")',
    ),
    ("0008_label_no_default", 'sa.Column("label", sa.String(length=10), nullable=False)'),
    ("0009_descr_default", 'sa.Column("descr", sa.String(length=30), server_default="d")'),
    (
        "0010_descr_comment",
        'sa.Column("descr", sa.String(length=30), server_default="d", comment="said")',
    ),
]

ITEM_ROWS = [
    (1, "aa", Decimal("1.50"), 1, None, "a"),
    (2, "bb", Decimal("2.25"), 2, "n", "a"),
]


def _item_rows(url: str) -> list[tuple[object, ...]]:
    found = rows(url, "SELECT id, name, price, qty, note, label FROM item ORDER BY id")
    # Numeric comes back as Decimal (or float on SQLite); compare values, not scales.
    return [(r[0], r[1], Decimal(str(r[2])).normalize(), *r[3:]) for r in found]


def _expected_rows(note: str | None = None) -> list[tuple[object, ...]]:
    out = []
    for row in ITEM_ROWS:
        row = (*row[:2], row[2].normalize(), *row[3:])
        if note is not None and row[4] is None:
            row = (*row[:4], note, *row[5:])
        out.append(row)
    return out


def test_alter_field(project: Path, db_url: str, dialect: str) -> None:
    chain = [("0001_initial", ITEM_TO_ALTER)]
    chain += [(name, f'migrations.AlterField("item", {column}),') for name, column in ALTERATIONS]
    names = write_chain(project, chain)

    def keeps_the_rest(snap: Snapshot, note: str | None = None) -> None:
        # SQLite rebuilds the table for each of these: rows, indexes and constraints stay.
        item = snap["item"]
        assert item.index("ix_item_name") == (("name",), False)
        assert item.index("ix_item_qty_name") == (("qty", "name"), False)
        assert item.unique("uq_item_label_id") == ("label", "id")
        assert item.checks == {"ck_item_price": "price>=0"}
        assert item.primary_key == ("id",)
        assert _item_rows(db_url) == _expected_rows(note)

    def insert(snap: Snapshot) -> None:
        execute(
            db_url,
            "INSERT INTO item (id, name, price, qty, note) VALUES (1, 'aa', 1.50, 1, NULL)",
            "INSERT INTO item (id, name, price, qty, note) VALUES (2, 'bb', 2.25, 2, 'n')",
        )
        keeps_the_rest(snap)

    def name_longer(snap: Snapshot) -> None:
        assert snap["item"].columns["name"].type == "VARCHAR(100)"
        keeps_the_rest(snap)

    def price_precision(snap: Snapshot) -> None:
        assert snap["item"].columns["price"].type in ("NUMERIC(12, 4)", "DECIMAL(12, 4)")
        keeps_the_rest(snap)

    def qty_bigint(snap: Snapshot) -> None:
        qty = snap["item"].columns["qty"]
        assert qty.type in ("BIGINT", "BIGINT(20)")
        assert qty.nullable is False
        keeps_the_rest(snap)

    def qty_nullable(snap: Snapshot) -> None:
        qty = snap["item"].columns["qty"]
        assert (qty.nullable, qty.type in ("BIGINT", "BIGINT(20)")) == (True, True)
        keeps_the_rest(snap)

    def note_not_null(snap: Snapshot) -> None:
        note = snap["item"].columns["note"]
        assert (note.nullable, note.default) == (False, None)
        keeps_the_rest(snap, note="-")

    def label_default(snap: Snapshot) -> None:
        label = snap["item"].columns["label"]
        assert (label.nullable, default_text(label.default)) == (False, "b")
        keeps_the_rest(snap, note="-")

    def label_no_default(snap: Snapshot) -> None:
        label = snap["item"].columns["label"]
        assert (label.nullable, label.default) == (False, None)
        keeps_the_rest(snap, note="-")

    def descr_default(snap: Snapshot) -> None:
        assert default_text(snap["item"].columns["descr"].default) == "d"
        assert snap["item"].columns["descr"].comment is None
        keeps_the_rest(snap, note="-")

    def descr_comment(snap: Snapshot) -> None:
        descr = snap["item"].columns["descr"]
        assert default_text(descr.default) == "d"
        assert descr.comment == (None if dialect == "sqlite" else "said")
        keeps_the_rest(snap, note="-")

    step_through(
        db_url,
        names,
        {
            "0001_initial": insert,
            "0002_name_longer": name_longer,
            "0003_price_precision": price_precision,
            "0004_qty_bigint": qty_bigint,
            "0005_qty_nullable": qty_nullable,
            "0006_note_not_null": note_not_null,
            "0007_label_default": label_default,
            "0008_label_no_default": label_no_default,
            "0009_descr_default": descr_default,
            "0010_descr_comment": descr_comment,
        },
        floor="0001_initial",
    )
    # Filled values stay filled on the way back: undoing NOT NULL cannot know which were NULL.
    assert _item_rows(db_url) == _expected_rows(note="-")


# -- RenameField -----------------------------------------------------------------------------------

PARENT_AND_CHILD = """
migrations.CreateModel(
    "parent",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_parent"),
        sa.UniqueConstraint("code", name="uq_parent_code"),
    ],
),
migrations.CreateModel(
    "child",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(length=10)),
        sa.Column("amount", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("name", sa.String(length=20)),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_child"),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["parent.code"], name="fk_child_parent_code_parent"
        ),
        sa.CheckConstraint("amount >= 0", name="ck_child_amount"),
    ],
    indexes=[sa.Index("ix_child_name", "name"), sa.Index("ix_child_name_amount", "name", "amount")],
),
"""


def test_rename_field(project: Path, db_url: str, dialect: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", PARENT_AND_CHILD),
            ("0002_name_title", 'migrations.RenameField("child", "name", "title"),'),
            ("0003_amount_total", 'migrations.RenameField("child", "amount", "total"),'),
            ("0004_code_ref", 'migrations.RenameField("parent", "code", "ref"),'),
            ("0005_parent_ref", 'migrations.RenameField("child", "parent_code", "parent_ref"),'),
            ("0006_id_pid", 'migrations.RenameField("parent", "id", "pid"),'),
        ],
    )

    def insert(snap: Snapshot) -> None:
        execute(
            db_url,
            "INSERT INTO parent (code) VALUES ('p1')",
            "INSERT INTO child (id, parent_code, amount, name) VALUES (1, 'p1', 5, 'x')",
        )

    def data(parent_cols: str, child_cols: str) -> None:
        assert rows(db_url, f"SELECT {parent_cols} FROM parent") == [(1, "p1")]
        assert rows(db_url, f"SELECT {child_cols} FROM child") == [(1, "p1", 5, "x")]

    def name_title(snap: Snapshot) -> None:
        child = snap["child"]
        assert "name" not in child.columns
        assert child.columns["title"].type == "VARCHAR(20)"
        assert child.index("ix_child_name") == (("title",), False)
        assert child.index("ix_child_name_amount") == (("title", "amount"), False)
        data("id, code", "id, parent_code, amount, title")

    def amount_total(snap: Snapshot) -> None:
        child = snap["child"]
        assert (child.columns["total"].nullable, default_text(child.columns["total"].default)) == (
            False,
            "0",
        )
        assert child.checks == {"ck_child_amount": "total>=0"}
        assert child.index("ix_child_name_amount") == (("title", "total"), False)
        data("id, code", "id, parent_code, total, title")

    def code_ref(snap: Snapshot) -> None:
        assert snap["parent"].unique("uq_parent_code") == ("ref",)
        fk = snap["child"].foreign_keys["fk_child_parent_code_parent"]
        assert (fk.columns, fk.ref_table, fk.ref_columns) == (("parent_code",), "parent", ("ref",))
        data("id, ref", "id, parent_code, total, title")

    def parent_ref(snap: Snapshot) -> None:
        fk = snap["child"].foreign_keys["fk_child_parent_code_parent"]
        assert (fk.columns, fk.ref_columns) == (("parent_ref",), ("ref",))
        data("id, ref", "id, parent_ref, total, title")

    def id_pid(snap: Snapshot) -> None:
        assert snap["parent"].primary_key == ("pid",)
        if dialect == "postgresql":
            # The serial's sequence follows the column, as create_all would name it.
            assert "parent_pid_seq" in snap.sequences
            assert "parent_id_seq" not in snap.sequences
        execute(db_url, "INSERT INTO parent (ref) VALUES ('p2')")
        assert rows(db_url, "SELECT pid, ref FROM parent ORDER BY pid") == [(1, "p1"), (2, "p2")]
        execute(db_url, "DELETE FROM parent WHERE pid = 2")

    step_through(
        db_url,
        names,
        {
            "0001_initial": insert,
            "0002_name_title": name_title,
            "0003_amount_total": amount_total,
            "0004_code_ref": code_ref,
            "0005_parent_ref": parent_ref,
            "0006_id_pid": id_pid,
        },
        floor="0001_initial",
    )
    data("id, code", "id, parent_code, amount, name")


# -- RenameModel -----------------------------------------------------------------------------------


def test_rename_model(project: Path, db_url: str, dialect: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", AUTHOR_AND_BOOK),
            ("0002_writer", 'migrations.RenameModel("author", "writer"),'),
            ("0003_volume", 'migrations.RenameModel("book", "volume"),'),
        ],
    )

    def insert(snap: Snapshot) -> None:
        execute(
            db_url,
            "INSERT INTO author (name) VALUES ('ann')",
            "INSERT INTO book (author_id, title) VALUES (1, 'first')",
        )

    def writer(snap: Snapshot) -> None:
        assert snap.names() == {"writer", "book"}
        fk = snap["book"].foreign_keys["fk_book_author_id_author"]
        assert (fk.ref_table, fk.ondelete) == ("writer", "CASCADE")
        mentor = snap["writer"].foreign_keys["fk_author_mentor_id_author"]
        assert mentor.ref_table == "writer"
        assert snap["writer"].index("ix_author_status_fee") == (("status", "fee"), False)
        if dialect == "postgresql":
            assert "writer_id_seq" in snap.sequences
            assert "author_id_seq" not in snap.sequences
        # The id still comes from the (renamed) sequence, and the key still cascades.
        execute(db_url, "INSERT INTO writer (name) VALUES ('bob')")
        assert rows(db_url, "SELECT id, name FROM writer ORDER BY id") == [(1, "ann"), (2, "bob")]
        execute(db_url, "DELETE FROM writer WHERE id = 2")

    def volume(snap: Snapshot) -> None:
        assert snap.names() == {"writer", "volume"}
        assert snap["volume"].foreign_keys["fk_book_author_id_author"].ref_table == "writer"
        assert rows(db_url, "SELECT author_id, title FROM volume") == [(1, "first")]

    step_through(
        db_url,
        names,
        {"0001_initial": insert, "0002_writer": writer, "0003_volume": volume},
        floor="0001_initial",
    )
    assert rows(db_url, "SELECT id, name FROM author") == [(1, "ann")]
    execute(db_url, "INSERT INTO author (name) VALUES ('cy')")
    assert rows(db_url, "SELECT id FROM author ORDER BY id")[-1][0] >= 2
    # The foreign key points at the old name again: deleting the author cascades.
    pragma = ["PRAGMA foreign_keys = ON"] if dialect == "sqlite" else []
    execute(db_url, *pragma, "DELETE FROM author WHERE id = 1")
    assert rows(db_url, "SELECT COUNT(*) FROM book") == [(0,)]


# -- indexes ---------------------------------------------------------------------------------------

ITEM_TO_INDEX = """
migrations.CreateModel(
    "item",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50)),
        sa.Column("code", sa.String(length=20)),
        sa.Column("qty", sa.Integer()),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_item")],
    indexes=[sa.Index("ix_item_code", "code")],
),
"""


def test_add_and_remove_index(project: Path, db_url: str, dialect: str) -> None:
    chain = [
        ("0001_initial", ITEM_TO_INDEX),
        ("0002_add", 'migrations.AddIndex("item", sa.Index("ix_item_name", "name")),'),
        (
            "0003_add_unique",
            'migrations.AddIndex("item", sa.Index("ux_item_name_qty", "name", "qty", unique=True)),',
        ),
        ("0004_remove", 'migrations.RemoveIndex("item", "ix_item_code"),'),
    ]
    if dialect != "mysql":  # MariaDB has no expression indexes
        chain.append(
            (
                "0005_expression",
                'migrations.AddIndex("item", sa.Index("ix_item_lower_name", sa.text("lower(name)"))),',
            )
        )
    names = write_chain(project, chain)

    def insert(snap: Snapshot) -> None:
        execute(db_url, "INSERT INTO item (id, name, code, qty) VALUES (1, 'a', 'c', 1)")

    def added(snap: Snapshot) -> None:
        assert snap["item"].index("ix_item_name") == (("name",), False)

    def added_unique(snap: Snapshot) -> None:
        assert snap["item"].index("ux_item_name_qty") == (("name", "qty"), True)
        # It is really unique.
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            execute(db_url, "INSERT INTO item (id, name, code, qty) VALUES (2, 'a', 'd', 1)")

    def removed(snap: Snapshot) -> None:
        assert snap["item"].index("ix_item_code") is None
        assert set(snap["item"].indexes) | set(snap["item"].uniques) == {
            "ix_item_name",
            "ux_item_name_qty",
        }

    def expression(snap: Snapshot) -> None:
        assert snap["item"].index("ix_item_lower_name") == (("lowername",), False)

    step_through(
        db_url,
        names,
        {
            "0001_initial": insert,
            "0002_add": added,
            "0003_add_unique": added_unique,
            "0004_remove": removed,
            "0005_expression": expression,
        },
        floor="0001_initial",
    )
    assert rows(db_url, "SELECT id, name FROM item") == [(1, "a")]


def test_rename_index(project: Path, db_url: str) -> None:
    # PostgreSQL and MySQL rename in place; SQLite drops and re-creates the index.
    names = write_chain(
        project,
        [
            ("0001_initial", ITEM_TO_INDEX),
            (
                "0002_add_unique",
                'migrations.AddIndex("item", sa.Index("ux_item_name_qty", "name", "qty", unique=True)),',
            ),
            ("0003_rename", 'migrations.RenameIndex("item", "ix_item_code", "ix_item_ref"),'),
            (
                "0004_rename_unique",
                'migrations.RenameIndex("item", "ux_item_name_qty", "ux_item_nq"),',
            ),
        ],
    )

    def renamed(snap: Snapshot) -> None:
        assert snap["item"].index("ix_item_code") is None
        assert snap["item"].index("ix_item_ref") == (("code",), False)

    def renamed_unique(snap: Snapshot) -> None:
        assert snap["item"].index("ux_item_name_qty") is None
        assert snap["item"].index("ux_item_nq") == (("name", "qty"), True)

    step_through(db_url, names, {"0003_rename": renamed, "0004_rename_unique": renamed_unique})


# -- constraints -----------------------------------------------------------------------------------

BARE_ITEM = """
migrations.CreateModel(
    "author",
    columns=[sa.Column("id", sa.Integer(), nullable=False)],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
migrations.CreateModel(
    "item",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20)),
        sa.Column("qty", sa.Integer()),
        sa.Column("author_id", sa.Integer()),
    ],
    indexes=[sa.Index("ix_item_qty", "qty")],
),
"""


def test_add_constraint(project: Path, db_url: str, dialect: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", BARE_ITEM),
            (
                "0002_pk",
                'migrations.AddConstraint("item", sa.PrimaryKeyConstraint("id", name="pk_item")),',
            ),
            (
                "0003_unique",
                'migrations.AddConstraint("item", sa.UniqueConstraint("code", name="uq_item_code")),',
            ),
            (
                "0004_check",
                'migrations.AddConstraint("item", sa.CheckConstraint("qty > 0", name="ck_item_qty")),',
            ),
            (
                "0005_fk",
                """
                migrations.AddConstraint(
                    "item",
                    sa.ForeignKeyConstraint(
                        ["author_id"],
                        ["author.id"],
                        name="fk_item_author_id_author",
                        ondelete="CASCADE",
                    ),
                ),
                """,
            ),
        ],
    )

    def insert(snap: Snapshot) -> None:
        assert snap["item"].primary_key == ()
        execute(
            db_url,
            "INSERT INTO author (id) VALUES (1)",
            "INSERT INTO item (id, code, qty, author_id) VALUES (1, 'a', 1, 1)",
        )

    def rejects(sql: str) -> None:
        with pytest.raises(Exception, match=r"(?i)unique|duplicate|check|foreign|constraint"):
            execute(db_url, *(["PRAGMA foreign_keys = ON"] if dialect == "sqlite" else []), sql)

    def pk(snap: Snapshot) -> None:
        assert snap["item"].primary_key == ("id",)
        assert snap["item"].columns["id"].nullable is False
        rejects("INSERT INTO item (id) VALUES (1)")

    def unique(snap: Snapshot) -> None:
        assert snap["item"].unique("uq_item_code") == ("code",)
        rejects("INSERT INTO item (id, code) VALUES (2, 'a')")

    def check(snap: Snapshot) -> None:
        assert snap["item"].checks == {"ck_item_qty": "qty>0"}
        rejects("INSERT INTO item (id, qty) VALUES (2, 0)")

    def fk(snap: Snapshot) -> None:
        key = snap["item"].foreign_keys["fk_item_author_id_author"]
        assert (key.columns, key.ref_table, key.ref_columns, key.ondelete) == (
            ("author_id",),
            "author",
            ("id",),
            "CASCADE",
        )
        rejects("INSERT INTO item (id, author_id) VALUES (2, 99)")
        # Every rebuild SQLite needed along the way kept the index and the row.
        assert snap["item"].index("ix_item_qty") == (("qty",), False)
        assert rows(db_url, "SELECT id, code, qty, author_id FROM item") == [(1, "a", 1, 1)]

    step_through(
        db_url,
        names,
        {
            "0001_initial": insert,
            "0002_pk": pk,
            "0003_unique": unique,
            "0004_check": check,
            "0005_fk": fk,
        },
        floor="0001_initial",
    )
    assert rows(db_url, "SELECT id, code, qty, author_id FROM item") == [(1, "a", 1, 1)]


FULL_ITEM = """
migrations.CreateModel(
    "author",
    columns=[sa.Column("id", sa.Integer(), nullable=False)],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
migrations.CreateModel(
    "item",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20)),
        sa.Column("qty", sa.Integer()),
        sa.Column("author_id", sa.Integer()),
    ],
    constraints=[
        sa.PrimaryKeyConstraint("id", name="pk_item"),
        sa.UniqueConstraint("code", name="uq_item_code"),
        sa.CheckConstraint("qty > 0", name="ck_item_qty"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["author.id"], name="fk_item_author_id_author", ondelete="SET NULL"
        ),
    ],
    indexes=[sa.Index("ix_item_qty", "qty")],
),
"""


def test_remove_constraint(project: Path, db_url: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", FULL_ITEM),
            ("0002_fk", 'migrations.RemoveConstraint("item", "fk_item_author_id_author"),'),
            ("0003_check", 'migrations.RemoveConstraint("item", "ck_item_qty"),'),
            ("0004_unique", 'migrations.RemoveConstraint("item", "uq_item_code"),'),
        ],
    )

    def insert(snap: Snapshot) -> None:
        execute(
            db_url,
            "INSERT INTO author (id) VALUES (1)",
            "INSERT INTO item (id, code, qty, author_id) VALUES (1, 'a', 1, 1)",
        )

    def no_fk(snap: Snapshot) -> None:
        assert snap["item"].foreign_keys == {}
        # No index MySQL made for the key is left over either.
        assert set(snap["item"].indexes) - {"uq_item_code"} == {"ix_item_qty"}

    def no_check(snap: Snapshot) -> None:
        assert snap["item"].checks == {}
        assert snap["item"].unique("uq_item_code") == ("code",)

    def no_unique(snap: Snapshot) -> None:
        assert snap["item"].unique("uq_item_code") is None
        assert snap["item"].primary_key == ("id",)
        assert snap["item"].index("ix_item_qty") == (("qty",), False)
        assert rows(db_url, "SELECT id, code, qty, author_id FROM item") == [(1, "a", 1, 1)]

    snaps = step_through(
        db_url,
        names,
        {
            "0001_initial": insert,
            "0002_fk": no_fk,
            "0003_check": no_check,
            "0004_unique": no_unique,
        },
        floor="0001_initial",
    )
    item = snaps["0001_initial"]["item"]
    assert item.foreign_keys["fk_item_author_id_author"].ondelete == "SET NULL"
    assert item.checks == {"ck_item_qty": "qty>0"}
    assert rows(db_url, "SELECT id, code, qty, author_id FROM item") == [(1, "a", 1, 1)]


def test_remove_primary_key(project: Path, db_url: str) -> None:
    # The key's column is AUTO_INCREMENT on MySQL, which MySQL allows only on a key
    # (error 1075): it must come off before DROP PRIMARY KEY, and back after re-adding.
    names = write_chain(
        project,
        [
            ("0001_initial", FULL_ITEM),
            ("0002_pk", 'migrations.RemoveConstraint("item", "pk_item"),'),
        ],
    )

    def insert(snap: Snapshot) -> None:
        execute(db_url, "INSERT INTO item (id, code) VALUES (1, 'a')")

    def no_pk(snap: Snapshot) -> None:
        assert snap["item"].primary_key == ()
        assert snap["item"].unique("uq_item_code") == ("code",)
        assert rows(db_url, "SELECT id, code FROM item") == [(1, "a")]

    step_through(db_url, names, {"0001_initial": insert, "0002_pk": no_pk}, floor="0001_initial")
    assert rows(db_url, "SELECT id, code FROM item") == [(1, "a")]


RENAMES = {
    "unique": ("uq_item_code", "uq_item_ref"),
    "check": ("ck_item_qty", "ck_item_positive"),
    "foreignkey": ("fk_item_author_id_author", "fk_item_writer"),
    "primary": ("pk_item", "pk_item_id"),
}


@pytest.mark.parametrize("kind", sorted(RENAMES))
def test_rename_constraint(project: Path, db_url: str, kind: str) -> None:
    old, new = RENAMES[kind]
    names = write_chain(
        project,
        [
            ("0001_initial", FULL_ITEM),
            ("0002_rename", f'migrations.RenameConstraint("item", "{old}", "{new}"),'),
        ],
    )

    def insert(snap: Snapshot) -> None:
        execute(
            db_url,
            "INSERT INTO author (id) VALUES (1)",
            "INSERT INTO item (id, code, qty, author_id) VALUES (1, 'a', 1, 1)",
        )

    def kept_the_row(snap: Snapshot) -> None:
        assert rows(db_url, "SELECT id, code, qty, author_id FROM item") == [(1, "a", 1, 1)]

    snaps = step_through(
        db_url, names, {"0001_initial": insert, "0002_rename": kept_the_row}, floor="0001_initial"
    )
    kept_the_row(snaps["0001_initial"])
    before, after = snaps["0001_initial"]["item"], snaps["0002_rename"]["item"]
    if kind == "unique":
        assert (after.unique(old), after.unique(new)) == (None, ("code",))
    elif kind == "check":
        assert after.checks == {new: "qty>0"}
    elif kind == "foreignkey":
        assert after.foreign_keys == {new: before.foreign_keys[old]}
    else:
        assert after.primary_key == ("id",)
    # Nothing else changed.
    assert after.columns == before.columns
    assert after.index("ix_item_qty") == (("qty",), False)


# -- RunSQL / RunPython ----------------------------------------------------------------------------

NOTE = """
migrations.CreateModel(
    "note",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=100)),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_note")],
),
"""

# Several statements in one string, with what a naive split would cut at: a ; in a
# literal and in a comment.
INSERTS = '''
migrations.RunSQL(
    """
    -- seed rows; two of them
    INSERT INTO note (id, body) VALUES (1, 'one; two');
    INSERT INTO note (id, body) VALUES (2, 'it''s');
    UPDATE note SET body = 'it''s!' WHERE id = 2
    """,
    reverse_sql="DELETE FROM note WHERE id = 2; DELETE FROM note WHERE id = 1;",
),
'''

DDL = """
migrations.RunSQL(
    [
        "CREATE TABLE extra (id INTEGER NOT NULL, CONSTRAINT pk_extra PRIMARY KEY (id))",
        "CREATE INDEX ix_extra_id ON extra (id)",
    ],
    reverse_sql=["DROP INDEX ix_extra_id ON extra", "DROP TABLE extra"],
),
"""


def test_run_sql(project: Path, db_url: str, dialect: str) -> None:
    ddl = DDL
    if dialect != "mysql":
        ddl = ddl.replace("DROP INDEX ix_extra_id ON extra", "DROP INDEX ix_extra_id")
    names = write_chain(
        project,
        [
            ("0001_initial", NOTE),
            ("0002_inserts", INSERTS),
            ("0003_ddl", ddl),
            ("0004_noop", 'migrations.RunSQL("", reverse_sql=""),'),
        ],
    )

    def inserted(snap: Snapshot) -> None:
        assert rows(db_url, "SELECT id, body FROM note ORDER BY id") == [
            (1, "one; two"),
            (2, "it's!"),
        ]

    def ddl_ran(snap: Snapshot) -> None:
        assert snap["extra"].primary_key == ("id",)
        assert snap["extra"].index("ix_extra_id") == (("id",), False)

    step_through(db_url, names, {"0002_inserts": inserted, "0003_ddl": ddl_ran})


# What a driver takes for bind parameters when it is handed any parameters at all: a
# modulo operator, %s, %(x)s, :name. RunSQL promises to run SQL as written.
PERCENT = '''
migrations.RunSQL(
    """
    INSERT INTO note (id, body) VALUES (1, '50% off at :name, %s and %(x)s');
    INSERT INTO note (id, body) VALUES (2, 'even');
    UPDATE note SET body = 'even!' WHERE id % 2 = 0
    """,
    reverse_sql="DELETE FROM note WHERE id % 2 = 0; DELETE FROM note WHERE body LIKE '50%'",
),
'''


def test_run_sql_keeps_percent_and_colon(project: Path, db_url: str) -> None:
    # psycopg and PyMySQL %-format a statement whenever they are handed parameters, even
    # empty ones; RunSQL must hand them none.
    names = write_chain(project, [("0001_initial", NOTE), ("0002_percent", PERCENT)])

    def inserted(snap: Snapshot) -> None:
        assert rows(db_url, "SELECT id, body FROM note ORDER BY id") == [
            (1, "50% off at :name, %s and %(x)s"),
            (2, "even!"),
        ]

    step_through(db_url, names, {"0002_percent": inserted}, floor="0001_initial")
    assert rows(db_url, "SELECT COUNT(*) FROM note") == [(0,)]


PYTHON_PRELUDE = """
def add_rows(connection):
    # The migration's own connection: it sees the column added just before.
    assert isinstance(connection, sa.engine.Connection)
    connection.execute(
        sa.text("INSERT INTO note (id, body, flag) VALUES (:id, :body, 1)"),
        [{"id": 10, "body": "from python"}, {"id": 11, "body": "50% :x"}],
    )


def remove_rows(connection):
    connection.execute(sa.text("DELETE FROM note WHERE id IN (10, 11)"))


def touch_nothing(connection):
    connection.execute(sa.text("SELECT 1"))
"""


def test_run_python(project: Path, db_url: str) -> None:
    write_chain(project, [("0001_initial", NOTE)])
    from helpers_engine import write_migration

    write_migration(
        project,
        "0002_python",
        """
        migrations.AddField("note", sa.Column("flag", sa.Integer())),
        migrations.RunPython(add_rows, remove_rows),
        migrations.RunPython(touch_nothing, migrations.RunPython.noop),
        """,
        [("shop", "0001_initial")],
        prelude=PYTHON_PRELUDE,
    )

    def ran(snap: Snapshot) -> None:
        assert rows(db_url, "SELECT id, body, flag FROM note ORDER BY id") == [
            (10, "from python", 1),
            (11, "50% :x", 1),
        ]

    step_through(
        db_url, ["0001_initial", "0002_python"], {"0002_python": ran}, floor="0001_initial"
    )
    assert rows(db_url, "SELECT COUNT(*) FROM note") == [(0,)]


# -- enums -----------------------------------------------------------------------------------------

STATUS = 'sa.Enum("open", "closed", name="status_kind")'
STATUS_3 = 'sa.Enum("open", "closed", "archived", name="status_kind")'


def test_enum_columns(project: Path, db_url: str, dialect: str) -> None:
    names = write_chain(
        project,
        [
            (
                "0001_ticket",
                f"""
                migrations.CreateModel(
                    "ticket",
                    columns=[
                        sa.Column("id", sa.Integer(), nullable=False),
                        sa.Column("status", {STATUS}, nullable=False, server_default="open"),
                    ],
                    constraints=[sa.PrimaryKeyConstraint("id", name="pk_ticket")],
                ),
                """,
            ),
            (
                "0002_event",
                f"""
                migrations.CreateModel(
                    "event",
                    columns=[
                        sa.Column("id", sa.Integer(), nullable=False),
                        sa.Column("status", {STATUS}),
                    ],
                    constraints=[sa.PrimaryKeyConstraint("id", name="pk_event")],
                ),
                """,
            ),
            (
                "0003_priority",
                """
                migrations.AddField(
                    "ticket", sa.Column("priority", sa.Enum("low", "high", name="priority_kind"))
                ),
                """,
            ),
            (
                "0004_archived",
                f"""
                migrations.AlterField(
                    "ticket",
                    sa.Column("status", {STATUS_3}, nullable=False, server_default="open"),
                ),
                """,
            ),
            ("0005_no_event", 'migrations.DeleteModel("event"),'),
            ("0006_no_priority", 'migrations.RemoveField("ticket", "priority"),'),
            ("0007_no_ticket", 'migrations.DeleteModel("ticket"),'),
        ],
    )
    pg = dialect == "postgresql"

    def ticket(snap: Snapshot) -> None:
        if pg:
            assert snap.enums == {"status_kind": ("open", "closed")}
        elif dialect == "mysql":
            assert snap["ticket"].columns["status"].type == "ENUM('open','closed')"
        assert default_text(snap["ticket"].columns["status"].default) == "open"
        execute(db_url, "INSERT INTO ticket (id) VALUES (1)")
        execute(db_url, "INSERT INTO ticket (id, status) VALUES (2, 'closed')")

    def event(snap: Snapshot) -> None:
        # One type, two tables.
        if pg:
            assert snap.enums == {"status_kind": ("open", "closed")}
            assert snap["event"].columns["status"].type == "status_kind"
        execute(db_url, "INSERT INTO event (id, status) VALUES (1, 'closed')")

    def priority(snap: Snapshot) -> None:
        if pg:
            assert snap.enums == {
                "status_kind": ("open", "closed"),
                "priority_kind": ("low", "high"),
            }
        execute(db_url, "UPDATE ticket SET priority = 'high' WHERE id = 2")

    def archived(snap: Snapshot) -> None:
        if pg:
            assert snap.enums["status_kind"] == ("open", "closed", "archived")
            assert snap["event"].columns["status"].type == "status_kind"
        elif dialect == "mysql":
            assert snap["ticket"].columns["status"].type == "ENUM('open','closed','archived')"
        assert default_text(snap["ticket"].columns["status"].default) == "open"
        # The rows kept their values through the type swap, in both tables.
        assert rows(db_url, "SELECT id, status, priority FROM ticket ORDER BY id") == [
            (1, "open", None),
            (2, "closed", "high"),
        ]
        assert rows(db_url, "SELECT status FROM event") == [("closed",)]

    def no_event(snap: Snapshot) -> None:
        if pg:  # ticket still uses the type
            assert set(snap.enums) == {"status_kind", "priority_kind"}

    def no_priority(snap: Snapshot) -> None:
        if pg:
            assert set(snap.enums) == {"status_kind"}

    def no_ticket(snap: Snapshot) -> None:
        assert snap.names() == set()
        assert snap.enums == {}

    step_through(
        db_url,
        names,
        {
            "0001_ticket": ticket,
            "0002_event": event,
            "0003_priority": priority,
            "0004_archived": archived,
            "0005_no_event": no_event,
            "0006_no_priority": no_priority,
            "0007_no_ticket": no_ticket,
        },
    )
    assert snapshot(db_url).enums == {}


# -- AlterModelComment -----------------------------------------------------------------------------


def test_alter_model_comment(project: Path, db_url: str, dialect: str) -> None:
    names = write_chain(
        project,
        [
            ("0001_initial", NOTE),
            ("0002_set", 'migrations.AlterModelComment("note", "short notes"),'),
            ("0003_change", 'migrations.AlterModelComment("note", "notes, short"),'),
            ("0004_drop", 'migrations.AlterModelComment("note", None),'),
        ],
    )
    expected = {"0002_set": "short notes", "0003_change": "notes, short", "0004_drop": None}

    def check(name: str):  # type: ignore[no-untyped-def]
        def run(snap: Snapshot) -> None:
            # SQLite has no comments: the operation runs there as a no-op.
            assert snap["note"].comment == (None if dialect == "sqlite" else expected[name])

        return run

    step_through(db_url, names, {name: check(name) for name in expected})


# -- SQLite rebuilds keep what the table had ---------------------------------------------------------


def test_rebuild_keeps_expression_and_partial_indexes(
    project: Path, db_url: str, dialect: str
) -> None:
    if dialect == "mysql":
        pytest.skip("MariaDB has neither expression nor partial indexes")
    names = write_chain(
        project,
        [
            (
                "0001_initial",
                """
                migrations.CreateModel(
                    "item",
                    columns=[
                        sa.Column("id", sa.Integer(), nullable=False),
                        sa.Column("name", sa.String(length=20)),
                        sa.Column("qty", sa.Integer()),
                    ],
                    constraints=[sa.PrimaryKeyConstraint("id", name="pk_item")],
                    indexes=[
                        sa.Index("ix_item_lower_name", sa.text("lower(name)")),
                        sa.Index(
                            "ix_item_qty_positive",
                            "qty",
                            sqlite_where=sa.text("qty > 0"),
                            postgresql_where=sa.text("qty > 0"),
                        ),
                    ],
                ),
                """,
            ),
            ("0002_alter", 'migrations.AlterField("item", sa.Column("name", sa.String(40))),'),
            (
                "0003_add",
                'migrations.AddField("item", sa.Column("n", sa.Integer(), nullable=False), fill_value=0),',
            ),
        ],
    )

    def indexed(snap: Snapshot) -> None:
        assert snap["item"].index("ix_item_lower_name") == (("lowername",), False)
        assert snap["item"].index("ix_item_qty_positive") == (("qty",), False)
        assert "qty>0" in (_index_sql(db_url, "ix_item_qty_positive") or "")

    step_through(db_url, names, {n: indexed for n in names})


def _index_sql(url: str, name: str) -> str | None:
    """The DDL of an index as the database keeps it (to see a partial index's WHERE)."""
    if url.startswith("sqlite"):
        found = rows(url, f"SELECT sql FROM sqlite_master WHERE name = '{name}'")
    else:
        found = rows(url, f"SELECT indexdef FROM pg_indexes WHERE indexname = '{name}'")
    text = found[0][0] if found else None
    return text.lower().replace(" ", "").replace("(", "").replace(")", "") if text else None


# -- columns that bring unnamed constraints, checks on dropped columns -----------------------


@pytest.mark.parametrize(
    "column",
    [
        'sa.Column("ref_id", sa.Integer(), sa.ForeignKey("item.id"))',
        'sa.Column("slug", sa.String(length=20), unique=True)',
    ],
    ids=["inline-fk", "unique"],
)
def test_add_field_with_unnamed_constraint(project: Path, db_url: str, column: str) -> None:
    # Hand-written AddFields often say unique=True or sa.ForeignKey("x.id") without a
    # name; SQLite cannot add such a constraint and rollback elsewhere has to drop it by
    # name, so the operation must name it (and the round trip must work).
    names = write_chain(
        project,
        [
            ("0001_initial", ITEM_TO_INDEX),
            ("0002_add", f'migrations.AddField("item", {column}),'),
        ],
    )
    step_through(db_url, names)


def test_remove_field_under_check_constraint(project: Path, db_url: str) -> None:
    # A check on the column goes with it (PostgreSQL and MariaDB would drop it silently,
    # SQLite's rebuild would fail on it) and comes back with it.
    names = write_chain(
        project,
        [
            ("0001_initial", FULL_ITEM),
            ("0002_remove", 'migrations.RemoveField("item", "qty"),'),
        ],
    )

    def removed(snap: Snapshot) -> None:
        assert "qty" not in snap["item"].columns
        assert snap["item"].checks == {}

    snaps = step_through(db_url, names, {"0002_remove": removed})
    assert snaps["0001_initial"]["item"].checks == {"ck_item_qty": "qty>0"}
