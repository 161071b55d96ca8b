"""Migrations that makemigrations writes apply, and roll back, on tables that have rows.

Each test runs on SQLite, PostgreSQL and MariaDB: a model change, makemigrations
(interactively through stdin, or with ``--noinput``), rows put in the table with
NULLs where the change cares, migrate, then a rollback with the rows still there.
The rows are read back after each step: a fill that ran on the wrong rows, or
not at all, shows up as the wrong values, not only as an error.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_models import LawProject
from helpers_models import law_project

from migrate_core.db.introspection import diff_schemas

HEAD = """
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import CheckConstraint
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass
"""


def models(body: str) -> str:
    return HEAD + "\n\n" + textwrap.dedent(body).strip("\n") + "\n"


def product(*columns: str, args: str = "") -> str:
    """A product table with an id and the given column lines."""
    lines = [
        "class Product(Base):",
        '    __tablename__ = "product"',
        *([f"    __table_args__ = ({args},)"] if args else []),
        "",
        "    id: Mapped[int] = mapped_column(primary_key=True)",
        *(f"    {c}" for c in columns),
    ]
    return models("\n".join(lines))


@pytest.fixture
def project(
    tmp_path: Path, db_url: str, other_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    with law_project(tmp_path / "project", db_url, other_db_url) as p:
        monkeypatch.chdir(p.root)
        yield p


def last_source(project: LawProject) -> str:
    return project.migration_source(project.migration_files()[-1])


def flat(source: str) -> str:
    """The migration's text on one line, so a test does not depend on ruff's wrapping."""
    return re.sub(r"\s+", " ", re.sub(r"\(\s+", "(", re.sub(r",\s+\)", ")", source)))


def column(project: LawProject, table: str, name: str):  # type: ignore[no-untyped-def]
    found = project.reflect(project.url)[table].column(name)
    assert found is not None, f"{table}.{name} is not in the database"
    return found


# -- NULL -> NOT NULL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [
        # The server default arrives with NOT NULL, in the same change...
        ["status: Mapped[str | None] = mapped_column(String(20))"],
        # ...or was there already, and the NULLs are rows written with an explicit NULL.
        ['status: Mapped[str | None] = mapped_column(String(20), server_default="new")'],
    ],
    ids=["default-added", "default-kept"],
)
def test_not_null_with_a_server_default_fills_the_null_rows_with_it(
    project: LawProject, before: list[str]
) -> None:
    after = [
        'status: Mapped[str] = mapped_column(String(20), server_default="new")',
        # An integer default and a text default with a colon (not a bind parameter).
        'qty: Mapped[int] = mapped_column(server_default="0")',
        'at: Mapped[str] = mapped_column(String(10), server_default="12:30")',
    ]
    project.step(
        {
            "shop": product(
                *before,
                "qty: Mapped[int | None] = mapped_column()",
                "at: Mapped[str | None] = mapped_column(String(10))",
            )
        }
    )
    project.execute(
        "INSERT INTO product (id, status, qty, at) VALUES (1, 'old', 5, '09:00')",
        "INSERT INTO product (id, status, qty, at) VALUES (2, NULL, NULL, NULL)",
    )
    project.set_models("shop", product(*after))

    project.makemigrations()  # --noinput: a server default answers the question

    source = flat(last_source(project))
    assert "fill_value" not in source and "AlterField" in source
    project.migrate()
    assert project.rows("SELECT id, status, qty, at FROM product ORDER BY id") == [
        (1, "old", 5, "09:00"),
        (2, "new", 0, "12:30"),
    ]
    project.assert_law()

    # Rolling back relaxes the columns; the rows stay as they are.
    project.migrate("shop", "0001")
    assert column(project, "product", "status").nullable
    assert project.rows("SELECT id, status, qty FROM product ORDER BY id") == [
        (1, "old", 5),
        (2, "new", 0),
    ]


def test_not_null_without_a_default_writes_the_answer_and_rolls_back(project: LawProject) -> None:
    project.step({"shop": product("name: Mapped[str | None] = mapped_column(String(50))")})
    project.execute(
        "INSERT INTO product (id, name) VALUES (1, 'tea')",
        "INSERT INTO product (id, name) VALUES (2, NULL)",
    )
    project.set_models("shop", product("name: Mapped[str] = mapped_column(String(50))"))

    stopped = project.makemigrations(expect=3)
    assert "Cannot make column name on product NOT NULL" in stopped.stderr
    assert "run interactively" in stopped.stderr and "migrate-core makemigrations" in stopped.stderr
    assert project.migration_files() == ["0001_initial"]

    project.makemigrations(input="'unnamed'\n")
    assert 'fill_value="unnamed"' in flat(last_source(project))
    project.migrate()
    assert project.rows("SELECT id, name FROM product ORDER BY id") == [(1, "tea"), (2, "unnamed")]
    project.assert_law()
    project.migrate("shop", "0001")
    assert column(project, "product", "name").nullable
    project.migrate()
    assert not column(project, "product", "name").nullable


# -- RemoveField and its rollback ------------------------------------------------------------------

CODE = "code: Mapped[str] = mapped_column(String(10))"
CODE_CHECK = 'CheckConstraint("code <> \'\'", name="ck_code")'


def test_removing_a_not_null_column_asks_for_the_rollback_value(project: LawProject) -> None:
    # The CHECK is what MariaDB's own fill ('' for a NOT NULL VARCHAR) would break.
    project.step(
        {
            "shop": product(
                "name: Mapped[str | None] = mapped_column(String(50))", CODE, args=CODE_CHECK
            )
        }
    )
    project.execute(
        "INSERT INTO product (id, name, code) VALUES (1, 'tea', 'T1')",
        "INSERT INTO product (id, name, code) VALUES (2, 'cake', 'C2')",
    )
    before = project.reflect(project.url)
    project.set_models("shop", product("name: Mapped[str | None] = mapped_column(String(50))"))

    stopped = project.makemigrations(expect=3)
    err = stopped.stderr
    assert "Cannot remove NOT NULL column code from product reversibly" in err
    assert "run interactively" in err and "migrate-core makemigrations" in err
    assert "server_default=" in err and 'RemoveField("product", "code", reverse_fill=...)' in err
    assert project.migration_files() == ["0001_initial"]

    result = project.makemigrations(input="'??'\n")
    assert "Column product.code is removed" in result.stdout
    assert 'migrations.RemoveField("product", "code", reverse_fill="??")' in flat(
        last_source(project)
    )
    project.migrate()
    project.assert_law()

    project.migrate("shop", "0001")
    assert project.rows("SELECT id, name, code FROM product ORDER BY id") == [
        (1, "tea", "??"),
        (2, "cake", "??"),
    ]
    assert project.reflect(project.url) == before
    project.migrate()
    project.assert_law()


def test_removing_a_not_null_column_with_a_server_default_rolls_back_with_it(
    project: LawProject,
) -> None:
    kept = "name: Mapped[str | None] = mapped_column(String(50))"
    project.step(
        {
            "shop": product(
                kept,
                'qty: Mapped[int] = mapped_column(server_default="7")',
                # Not a constant: SQLite cannot ADD COLUMN with it, only rebuild.
                "at: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now())",
            )
        }
    )
    project.execute("INSERT INTO product (id, name, qty) VALUES (1, 'tea', 3)")
    before = project.reflect(project.url)
    project.set_models("shop", product(kept))

    project.makemigrations()  # nothing to ask: the default fills the rows on rollback

    source = flat(last_source(project))
    assert 'migrations.RemoveField("product", "qty")' in source
    assert 'migrations.RemoveField("product", "at")' in source
    project.migrate()
    project.migrate("shop", "0001")
    assert project.rows("SELECT id, qty FROM product") == [(1, 7)]
    assert project.rows("SELECT COUNT(*) FROM product WHERE at IS NOT NULL") == [(1,)]
    # The two columns come back in the other order; the definitions must be the same.
    assert diff_schemas(before, project.reflect(project.url)) == []


def test_removing_a_nullable_column_asks_nothing(project: LawProject) -> None:
    project.step({"shop": product("note: Mapped[str | None] = mapped_column(String(50))")})
    project.execute("INSERT INTO product (id, note) VALUES (1, 'x')")
    project.set_models("shop", product())

    project.makemigrations()

    assert "reverse_fill" not in last_source(project)
    project.migrate()
    project.migrate("shop", "0001")
    assert project.rows("SELECT id, note FROM product") == [(1, None)]


# -- NOT NULL -> NULL and its rollback -------------------------------------------------------------


def test_relaxed_column_rolls_back_over_null_rows_with_its_old_default(
    project: LawProject,
) -> None:
    project.step(
        {"shop": product('status: Mapped[str] = mapped_column(String(20), server_default="new")')}
    )
    project.set_models(
        "shop",
        product('status: Mapped[str | None] = mapped_column(String(20), server_default="new")'),
    )
    project.makemigrations()
    project.migrate()
    project.execute("INSERT INTO product (id, status) VALUES (1, NULL)")

    project.migrate("shop", "0001")

    assert project.rows("SELECT id, status FROM product") == [(1, "new")]
    assert not column(project, "product", "status").nullable


def test_relaxed_column_rolls_back_with_a_written_reverse_fill(project: LawProject) -> None:
    project.step({"shop": product("name: Mapped[str] = mapped_column(String(50))")})
    project.set_models("shop", product("name: Mapped[str | None] = mapped_column(String(50))"))
    project.makemigrations()
    path = project.root / "shop" / "migrations" / f"{project.migration_files()[-1]}.py"
    source = path.read_text(encoding="utf-8")
    # makemigrations does not ask for it (see AlterField); a person writes it by hand.
    edited = source.replace("sa.String(length=50)))", 'sa.String(length=50)), reverse_fill="?")')
    assert edited != source
    path.write_text(edited, encoding="utf-8")
    project.migrate()
    project.execute(
        "INSERT INTO product (id, name) VALUES (1, 'tea')",
        "INSERT INTO product (id, name) VALUES (2, NULL)",
    )

    project.migrate("shop", "0001")

    assert project.rows("SELECT id, name FROM product ORDER BY id") == [(1, "tea"), (2, "?")]
    assert not column(project, "product", "name").nullable


# -- check-migrations proves reversibility on tables with rows -------------------------------------

INITIAL = """
migrations.CreateModel(
    "product",
    [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_product"),
        sa.ForeignKeyConstraint(["kind_id"], ["kind.id"], name="fk_product_kind_id_kind"),
        sa.CheckConstraint("code <> ''", name="ck_code"),
    ],
),
"""
KIND = """
migrations.CreateModel(
    "kind",
    [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kind"),
    ],
),
"""


def write_chain(project: LawProject, *later: str) -> list[Path]:
    """0001 (kind, product) and one migration per ``later`` operation text, hand-written."""
    from helpers_engine import write_migration

    paths = [write_migration(project.root, "0001_initial", KIND + INITIAL)]
    previous = "0001_initial"
    for number, operations in enumerate(later, start=2):
        name = f"{number:04d}_change"
        paths.append(write_migration(project.root, name, operations, [("shop", previous)]))
        previous = name
    return paths


def check(project: LawProject, url: str) -> dict:  # type: ignore[type-arg]
    """check-migrations' reversibility check, in this process, as its JSON report."""
    import json

    result = project.cli(
        "check", "--skip", "missing", "--skip", "git", "--skip", "drift", "--skip",
        "destructive", "--database-url", url, "--format", "json", expect=None,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def reversibility(report: dict) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    (result,) = [c for c in report["checks"] if c["name"] == "reversibility"]
    found = [f for f in report["findings"] if f["check"] == "reversibility"]
    return result["summary"], found


@pytest.mark.parametrize(
    ("operation", "column", "fix"),
    [
        # Made NOT NULL over NULL rows, with nothing to fill them.
        (
            'migrations.AlterField("product", sa.Column("name", sa.String(length=50), '
            "nullable=False)),",
            "product.name",
            "fill_value=",
        ),
        # A NOT NULL column without a default, added to rows.
        (
            'migrations.AddField("product", sa.Column("sku", sa.String(length=10), nullable=False)),',
            "product.sku",
            "fill_value=",
        ),
        # Removed; the rollback cannot bring it back (MariaDB's '' breaks ck_code).
        ('migrations.RemoveField("product", "code"),', "product.code", "reverse_fill="),
    ],
    ids=["made-not-null", "added-not-null", "removed-not-null"],
)
def test_check_finds_what_fails_only_on_a_table_with_rows(
    project: LawProject, dialect: str, operation: str, column: str, fix: str
) -> None:
    from helpers_engine import line_of

    paths = write_chain(project, operation)

    summary, found = reversibility(check(project, project.url))

    if dialect == "mysql" and "AddField" in operation:
        # MariaDB adds a NOT NULL column to rows by filling '' itself: it does not fail,
        # so it is no finding here (the destructive check warns of it, MC1xx).
        assert found == [], found
        return

    assert len(found) == 1, summary
    (finding,) = found
    assert finding["code"] == "MC506"
    assert finding["file"] == "shop/migrations/0002_change.py"
    assert finding["line"] == line_of(paths[1], operation[:24])
    message = finding["message"]
    assert message.startswith("0002_change: ") and "fails on a table with rows" in message
    assert column in message and fix in message


@pytest.mark.parametrize(
    "operation",
    [
        'migrations.AlterField("product", sa.Column("name", sa.String(length=50), '
        'nullable=False), fill_value="?"),',
        'migrations.AlterField("product", sa.Column("name", sa.String(length=50), '
        'server_default="?", nullable=False)),',
        'migrations.AddField("product", sa.Column("sku", sa.String(length=10), nullable=False), '
        'fill_value="-"),',
        'migrations.RemoveField("product", "code", reverse_fill="?"),',
    ],
    ids=["fill-value", "server-default", "add-fill-value", "reverse-fill"],
)
def test_check_passes_the_same_changes_with_their_fills(
    project: LawProject, operation: str
) -> None:
    write_chain(project, operation)

    summary, found = reversibility(check(project, project.url))

    assert found == []
    assert "each on tables with a row" in summary and "no synthetic row" not in summary


def test_a_table_that_cannot_get_a_row_is_no_finding_and_is_named(project: LawProject) -> None:
    # No value the generator makes satisfies this CHECK, so product gets no row: the
    # AddField that would fail on rows passes, and the summary says why it was not proven.
    write_chain(
        project,
        'migrations.AddConstraint("product", sa.CheckConstraint("code = \'zzz\'", name="ck_zzz")),',
        'migrations.AddField("product", sa.Column("sku", sa.String(length=10), nullable=False)),',
    )

    summary, found = reversibility(check(project, project.url))

    assert found == []
    assert "no synthetic row" in summary and "product" in summary
    assert "the database refused its row" in summary


def test_synthetic_rows_fit_every_common_type_and_follow_foreign_keys(
    project: LawProject,
) -> None:
    from helpers_engine import write_migration

    from migrate_core.config import load_config
    from migrate_core.db.rows import seed_rows
    from migrate_core.migrations.loader import MigrationLoader

    write_migration(
        project.root,
        "0001_initial",
        KIND
        + """
        migrations.CreateModel(
            "item",
            [
                sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
                sa.Column("kind_id", sa.Integer(), nullable=False),
                sa.Column("flag", sa.Boolean(), nullable=False),
                sa.Column("price", sa.Numeric(precision=8, scale=2), nullable=False),
                sa.Column("ratio", sa.Float(), nullable=False),
                sa.Column("born", sa.Date(), nullable=False),
                sa.Column("at", sa.Time(), nullable=False),
                sa.Column("state", sa.Enum("on", "off", name="item_state"), nullable=False),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.Column("ref", sa.Uuid(), nullable=False),
                sa.Column("blob", sa.LargeBinary(), nullable=False),
                sa.Column("note", sa.Text(), nullable=True),
                sa.Column("qty", sa.Integer(), server_default="5", nullable=False),
                sa.PrimaryKeyConstraint("id", name="pk_item"),
                sa.ForeignKeyConstraint(["kind_id"], ["kind.id"], name="fk_item_kind_id_kind"),
            ],
        ),
        """,
    )
    project.migrate()
    loader = MigrationLoader(load_config(str(project.root / "pyproject.toml")))
    state = loader.project_state()

    with project.engine(project.url).connect() as conn:
        seeding = seed_rows(conn, state, ["item"])
        again = seed_rows(conn, state, ["item", "kind"])  # tables with a row get no second

    assert seeding.skipped == {}
    assert seeding.seeded == ["kind", "item"]  # the parent first, for the foreign key
    assert again.seeded == [] and again.with_rows == ["item", "kind"]
    assert project.rows("SELECT COUNT(*) FROM item") == [(1,)]
    ((kind_id, note, qty),) = project.rows("SELECT kind_id, note, qty FROM item")
    assert project.rows("SELECT id FROM kind") == [(kind_id,)]
    assert note is None and qty == 5  # NULL where nullable, the server default where there is one
