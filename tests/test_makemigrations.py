"""The makemigrations command: every question it asks, every option, every message.

Each test builds a small project, changes its models, and runs the real command
in-process (``CliRunner``); answers to questions go in through stdin. Where a
migration is written, it is applied, and the round-trip law is checked (the
migrated database equals ``create_all`` of the same models, and ``--check`` is
clean): a question answered the wrong way would break it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_models import LawProject
from helpers_models import at_step
from helpers_models import law_project

HEAD = """
from __future__ import annotations

import decimal

import sqlalchemy as sa
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass
"""


def models(*classes: str) -> str:
    """A models module: the shared head and the given class bodies."""
    return HEAD + "\n\n" + "\n\n".join(_dedent(c) for c in classes)


def _dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


PRODUCT = """
class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")
"""

PRODUCT_TITLE = PRODUCT.replace(
    "name: Mapped[str] = mapped_column(String(100))",
    "title: Mapped[str] = mapped_column(String(100))",
)


@pytest.fixture
def project(
    tmp_path: Path, db_url: str, other_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    with law_project(tmp_path / "project", db_url, other_db_url) as p:
        monkeypatch.chdir(p.root)
        yield p


def _plain(text: str) -> str:
    """The output without colours (CliRunner keeps none, but a terminal run would)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.fixture
def sqlite_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LawProject]:
    """For what does not depend on the database: the command's files and messages."""
    from migrate_core.db.scratch import scratch_database

    with (
        scratch_database(None, label="a") as url,
        scratch_database(None, label="b") as other,
        law_project(tmp_path / "project", url, other) as p,
    ):
        monkeypatch.chdir(p.root)
        yield p


def last_migration(project: LawProject, app: str = "shop") -> str:
    return project.migration_source(project.migration_files(app)[-1], app)


def column_default(project: LawProject, table: str, column: str) -> str | None:
    info = project.reflect(project.url)[table].column(column)
    assert info is not None
    return info.default


# -- renames -----------------------------------------------------------------------------------------

NOTE = """
class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str | None] = mapped_column(String(100))
"""
REMARK = NOTE.replace("note:", "remark:")


def test_rename_column_answered_yes_keeps_the_data(project: LawProject) -> None:
    project.step({"shop": models(PRODUCT)})
    project.execute("INSERT INTO product (id, name, price) VALUES (1, 'tea', 2)")
    project.set_models("shop", models(PRODUCT_TITLE))

    result = project.makemigrations(input="y\n")

    assert "Rename product.name to product.title? [y/N]" in result.stdout
    assert "> Rename column name on product to title" in _plain(result.stdout)
    assert project.migration_files()[-1] == "0002_rename_product_name_title"
    source = last_migration(project)
    assert 'migrations.RenameField("product", "name", "title")' in source
    assert "RemoveField" not in source and "AddField" not in source
    project.migrate()
    assert project.rows("SELECT id, title FROM product") == [(1, "tea")]
    project.assert_law()


def test_rename_column_answered_no_drops_and_adds_and_says_the_data_is_lost(
    project: LawProject,
) -> None:
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(REMARK))

    result = project.makemigrations(input="n\n")

    out = _plain(result.stdout)
    assert "Rename product.note to product.remark? [y/N]" in out
    assert "+ Add column remark to product" in out
    removed = next(line for line in out.splitlines() if "- Remove column note from product" in line)
    assert "its data is lost" in removed
    assert "--rename product.note=remark" in removed
    source = last_migration(project)
    assert 'migrations.RemoveField("product", "note")' in source
    assert 'migrations.AddField("product", sa.Column("remark", sa.String(length=100)))' in source
    assert "RenameField" not in source
    project.migrate()
    project.assert_law()


def test_rename_question_repeats_until_it_gets_yes_or_no(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(REMARK))

    result = project.makemigrations(input="maybe\nyes\n")

    assert result.stdout.count("Rename product.note to product.remark? [y/N]") == 2
    assert "Please answer y or n." in result.stdout
    assert "RenameField" in last_migration(project)


def test_noinput_never_guesses_a_rename(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(REMARK))

    result = project.makemigrations()

    assert "[y/N]" not in result.stdout
    source = last_migration(project)
    assert "RemoveField" in source and "AddField" in source and "RenameField" not in source
    assert "--rename product.note=remark" in result.stdout


def test_noinput_renames_what_rename_declares(project: LawProject) -> None:
    project.step({"shop": models(NOTE)})
    project.execute("INSERT INTO product (id, note) VALUES (1, 'kept')")
    project.set_models("shop", models(REMARK))

    project.makemigrations("--rename", "product.note=remark")

    assert 'migrations.RenameField("product", "note", "remark")' in last_migration(project)
    project.migrate()
    assert project.rows("SELECT remark FROM product") == [("kept",)]
    project.assert_law()


def test_rename_that_does_not_match_the_change_is_an_error(sqlite_project: LawProject) -> None:
    # It used to be ignored, and the drop it should have prevented was written.
    project = sqlite_project
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(REMARK))

    result = project.makemigrations("--rename", "product.note=comment", expect=2)

    assert "--rename product.note=comment" in result.stderr
    assert "remark" in result.stderr
    assert project.migration_files() == ["0001_initial"]


def test_bad_rename_option_is_a_usage_error(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.set_models("shop", models(NOTE))

    result = project.makemigrations("--rename", "product.note", expect=2)

    assert "TABLE.COLUMN=NEW_COLUMN" in result.stderr
    assert project.migration_files() == []


ITEM = NOTE.replace('__tablename__ = "product"', '__tablename__ = "item"')


@pytest.mark.parametrize("how", ["interactive", "option"])
def test_rename_table(project: LawProject, how: str) -> None:
    project.step({"shop": models(NOTE)})
    project.execute("INSERT INTO product (id, note) VALUES (7, 'kept')")
    project.set_models("shop", models(ITEM))

    if how == "interactive":
        result = project.makemigrations(input="y\n")
        assert "Rename table product to item? [y/N]" in result.stdout
    else:
        result = project.makemigrations("--rename", "product=item")
        assert "[y/N]" not in result.stdout

    assert "> Rename table product to item" in _plain(result.stdout)
    source = last_migration(project)
    assert 'migrations.RenameModel("product", "item")' in source
    # The default name of its primary key follows the table.
    assert 'migrations.RenameConstraint("item", "pk_product", "pk_item")' in source
    assert "DeleteModel" not in source
    project.migrate()
    assert project.rows("SELECT id, note FROM item") == [(7, "kept")]
    project.assert_law()


def test_rename_table_answered_no_says_the_rows_are_lost(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(ITEM))

    result = project.makemigrations(input="n\n")

    out = _plain(result.stdout)
    assert "Rename table product to item? [y/N]" in out
    deleted = next(line for line in out.splitlines() if "Delete table product" in line)
    assert "its rows are lost" in deleted
    assert "--rename product=item" in deleted
    source = last_migration(project)
    assert 'migrations.CreateModel(\n            "item"' in source
    assert 'migrations.DeleteModel("product")' in source
    project.migrate()
    project.assert_law()


def test_noinput_table_rename_only_with_the_option(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(ITEM))

    result = project.makemigrations("--dry-run")

    assert "[y/N]" not in result.stdout
    assert "--rename product=item" in result.stdout
    assert project.migration_files() == ["0001_initial"]


# -- NOT NULL without a server default -------------------------------------------------------------

SKU = """
class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(32))
"""
NO_SKU = SKU.replace("    sku: Mapped[str] = mapped_column(String(32))\n", "")
NULLABLE_NAME = NO_SKU
NOT_NULL_NAME = NO_SKU.replace("name: Mapped[str | None]", "name: Mapped[str]")


def test_new_not_null_column_asks_for_a_one_off_value(project: LawProject) -> None:
    project.step({"shop": models(NO_SKU)})
    project.execute(
        "INSERT INTO product (id, name) VALUES (1, 'tea')",
        "INSERT INTO product (id, name) VALUES (2, 'cake')",
    )
    project.set_models("shop", models(SKU))

    # A bad answer is explained and asked again; then a Python literal.
    result = project.makemigrations(input="n/a\n'n/a'\n")

    assert "Column product.sku is new and NOT NULL without a server default" in result.stdout
    assert "is not a Python literal" in result.stdout
    source = last_migration(project)
    assert (
        'migrations.AddField(\n            "product",\n'
        '            sa.Column("sku", sa.String(length=32), nullable=False),\n'
        '            fill_value="n/a",\n        ),'
    ) in source
    project.migrate()
    assert project.rows("SELECT id, sku FROM product ORDER BY id") == [(1, "n/a"), (2, "n/a")]
    # The value filled the rows; it is not the column's default.
    assert column_default(project, "product", "sku") is None
    project.assert_law()


def test_new_not_null_column_with_noinput_stops_with_the_ways_out(
    sqlite_project: LawProject,
) -> None:
    project = sqlite_project
    project.step({"shop": models(NO_SKU)})
    project.set_models("shop", models(SKU))

    result = project.makemigrations(expect=3)

    err = result.stderr
    assert "Cannot add NOT NULL column sku to product" in err
    assert "server default" in err and "server_default=" in err
    assert "make it nullable" in err and "Mapped[str | None]" in err
    assert "run interactively" in err and "migrate-core makemigrations" in err
    assert project.migration_files() == ["0001_initial"]


def test_empty_answer_stops_without_writing(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NO_SKU)})
    project.set_models("shop", models(SKU))

    result = project.makemigrations(input="\n", expect=3)

    assert "Cannot add NOT NULL column sku to product" in result.stderr
    assert project.migration_files() == ["0001_initial"]


def test_null_to_not_null_asks_for_a_value_for_the_null_rows(project: LawProject) -> None:
    project.step({"shop": models(NULLABLE_NAME)})
    project.execute(
        "INSERT INTO product (id, name) VALUES (1, 'tea')",
        "INSERT INTO product (id, name) VALUES (2, NULL)",
    )
    project.set_models("shop", models(NOT_NULL_NAME))

    result = project.makemigrations(input="'unnamed'\n")

    assert "Column product.name becomes NOT NULL without a server default" in result.stdout
    assert "~ Alter column name on product (NULL -> NOT NULL)" in _plain(result.stdout)
    assert 'fill_value="unnamed"' in last_migration(project)
    project.migrate()
    assert project.rows("SELECT id, name FROM product ORDER BY id") == [(1, "tea"), (2, "unnamed")]
    assert column_default(project, "product", "name") is None
    project.assert_law()


def test_null_to_not_null_with_noinput_stops_with_the_ways_out(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NULLABLE_NAME)})
    project.set_models("shop", models(NOT_NULL_NAME))

    result = project.makemigrations(expect=3)

    err = result.stderr
    assert "Cannot make column name on product NOT NULL" in err
    assert "server_default=" in err and "Mapped[str | None]" in err and "run interactively" in err
    assert project.migration_files() == ["0001_initial"]


def test_not_null_with_a_server_default_asks_nothing(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NO_SKU)})
    project.set_models(
        "shop",
        models(
            SKU.replace(
                "mapped_column(String(32))", 'mapped_column(String(32), server_default="-")'
            )
        ),
    )

    result = project.makemigrations()

    assert "fill_value" not in last_migration(project)
    assert "+ Add column sku to product" in _plain(result.stdout)


def test_sql_expression_as_the_one_off_value(project: LawProject) -> None:
    project.step({"shop": models(NO_SKU)})
    project.execute("INSERT INTO product (id, name) VALUES (1, 'tea')")
    project.set_models("shop", models(SKU))

    project.makemigrations(input="sql:UPPER('x')\n")

    assert "fill_value=sa.text(\"UPPER('x')\")" in last_migration(project)
    project.migrate()
    assert project.rows("SELECT sku FROM product") == [("X",)]
    project.assert_law()


# -- names, numbers and output -------------------------------------------------------------------

ORDER = """
class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str | None] = mapped_column(Text)  # @-2
    ref: Mapped[str | None] = mapped_column(String(20))  # @-4
    reference: Mapped[str | None] = mapped_column(String(20))  # @5-
"""
SHOP_TIMELINE = (
    HEAD
    + """

class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str | None] = mapped_column(String(32))  # @2-
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))  # @-3
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))  # @4-

"""
    + ORDER
    + """

# @{ 6-
class Invoice(Base):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
# @}
"""
)


def test_names_numbers_and_output(sqlite_project: LawProject) -> None:
    project = sqlite_project
    expected = {
        1: ("0001_initial", ["+ Create table order", "+ Create table product"]),
        2: ("0002_add_product_sku", ["+ Add column sku to product"]),
        3: ("0003_remove_order_note", ["- Remove column note from order"]),
        4: (
            "0004_alter_product_price",
            ["~ Alter column price on product (NUMERIC(10, 2) -> NUMERIC(12, 2))"],
        ),
        5: ("0005_rename_order_ref_reference", ["> Rename column ref on order to reference"]),
        6: ("0006_create_invoice", ["+ Create table invoice"]),
    }
    for step, (name, lines) in expected.items():
        project.set_models("shop", at_step(SHOP_TIMELINE, step))
        renames = ("--rename", "order.ref=reference") if step == 5 else ()
        result = project.makemigrations(*renames)
        out = _plain(result.stdout)
        assert project.migration_files()[-1] == name, out
        assert f"shop/migrations/{name}.py" in out
        for line in lines:
            assert f"    {line}\n" in out, out
        project.migrate()
        project.assert_law(f"step {step}")


WIDE = """
class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
{extra}
"""


def wide(*columns: str) -> str:
    extra = "".join(f"    {c}: Mapped[int | None] = mapped_column()\n" for c in columns)
    return models(WIDE.format(extra=extra))


def test_operations_are_joined_into_the_name(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": wide()})
    project.step({"shop": wide("width", "height")})
    assert project.migration_files()[-1] == "0002_add_product_width_add_product_height"


def test_long_names_are_shortened(sqlite_project: LawProject) -> None:
    from migrate_core.migrations.writer import MAX_NAME_LENGTH

    project = sqlite_project
    project.step({"shop": wide()})
    columns = ["width", "height", "depth", "weight", "colour", "material"]
    project.step({"shop": wide(*columns)})

    name = project.migration_files()[-1]
    assert name == "0002_add_product_width_add_product_height_and_more"
    assert len(name.split("_", 1)[1]) <= MAX_NAME_LENGTH


def test_name_option_overrides_the_generated_name(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": wide()})
    project.set_models("shop", wide("width"))

    result = project.makemigrations("--name", "Product sizes!")

    assert project.migration_files()[-1] == "0002_product_sizes"
    assert "shop/migrations/0002_product_sizes.py" in result.stdout


def test_check_lists_what_is_missing_and_writes_nothing(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": wide()})
    project.set_models("shop", wide("width"))

    result = project.makemigrations("--check", expect=1)

    assert "+ Add column width to product" in _plain(result.stdout)
    assert "Migrations are missing" in result.stderr
    assert project.migration_files() == ["0001_initial"]

    project.makemigrations()
    clean = project.makemigrations("--check")
    assert "No changes detected" in clean.stdout


def test_check_never_asks(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": models(NOTE)})
    project.set_models("shop", models(REMARK))

    # Even without --noinput: a check runs in CI, where nobody answers.
    result = project.cli("makemigrations", "--check", expect=1)

    assert "[y/N]" not in result.stdout
    assert "- Remove column note from product" in _plain(result.stdout)


def test_dry_run_writes_nothing(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.set_models("shop", wide())

    quiet = project.makemigrations("--dry-run")
    verbose = project.makemigrations("--dry-run", "-v")

    assert project.migration_files() == []
    assert "+ Create table product" in _plain(quiet.stdout)
    assert "class Migration" not in quiet.stdout
    assert "--- shop/migrations/0001_initial.py" in verbose.stdout
    assert "class Migration(migrations.Migration):" in verbose.stdout
    assert "initial = True" in verbose.stdout


def test_empty_writes_an_empty_migration(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": wide()})

    result = project.makemigrations("--empty", "--name", "backfill")

    assert project.migration_files() == ["0001_initial", "0002_backfill"]
    assert "shop/migrations/0002_backfill.py" in result.stdout
    source = last_migration(project)
    assert 'dependencies = (("shop", "0001_initial"),)' in source
    assert "operations = ()" in source
    assert "import sqlalchemy" not in source
    project.migrate()
    project.assert_law()


def test_empty_first_migration_is_initial_and_dated(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.set_models("shop", wide())

    project.makemigrations("--empty")

    (name,) = project.migration_files()
    assert re.fullmatch(r"0001_auto_\d{8}_\d{4}", name)
    source = last_migration(project)
    assert "initial = True" in source and "dependencies = ()" in source


def test_no_changes_detected_writes_no_file(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": wide()})

    result = project.makemigrations()
    for_app = project.makemigrations("shop")

    assert result.stdout.strip() == "No changes detected"
    assert for_app.stdout.strip() == "No changes detected in app shop"
    assert project.migration_files() == ["0001_initial"]


def test_unknown_app_is_a_usage_error(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.set_models("shop", wide())

    result = project.makemigrations("billing", expect=2)

    assert "no app named 'billing'" in result.stderr


# -- merge -----------------------------------------------------------------------------------------


def _two_branches(
    project: LawProject, left: str, right: str, both: str, *, names: tuple[str, str] | None = None
) -> tuple[str, str]:
    """Four shared migrations, then ``0005_*`` written on two branches: like two git branches
    that each ran makemigrations, merged."""
    for step, columns in enumerate((["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]), 1):
        project.step({"shop": wide(*columns)}, label=f"shared step {step}")
    folder = project.root / "shop" / "migrations"
    project.set_models("shop", left)
    project.makemigrations(*(("--name", names[0]) if names else ()))
    (left_name,) = set(project.migration_files()) - {f.stem for f in folder.glob("000[1-4]_*.py")}
    left_file = folder / f"{left_name}.py"
    left_source = left_file.read_text(encoding="utf-8")
    left_file.unlink()
    project.set_models("shop", right)
    project.makemigrations(*(("--name", names[1]) if names else ()))
    (right_name,) = set(project.migration_files()) - {f.stem for f in folder.glob("000[1-4]_*.py")}
    left_file.write_text(left_source, encoding="utf-8")
    project.set_models("shop", both)
    return left_name, right_name


def test_merge_joins_two_branches(project: LawProject) -> None:
    base = ["a", "b", "c", "d"]
    left, right = _two_branches(
        project, wide(*base, "colour"), wide(*base, "size"), wide(*base, "colour", "size")
    )
    assert (left, right) == ("0005_add_product_colour", "0005_add_product_size")

    conflict = project.makemigrations(expect=1)
    assert "Conflicting migrations" in conflict.stderr
    assert "0005_add_product_colour, 0005_add_product_size" in conflict.stderr
    assert "makemigrations --merge" in conflict.stderr

    result = project.cli("makemigrations", "--merge")

    name = project.migration_files()[-1]
    assert name == "0006_merge_0005_0005"
    assert f"shop/migrations/{name}.py" in result.stdout
    assert "merges 0005_add_product_colour, 0005_add_product_size" in result.stdout
    source = last_migration(project)
    assert (
        "dependencies = (\n"
        '        ("shop", "0005_add_product_colour"),\n'
        '        ("shop", "0005_add_product_size"),\n'
        "    )"
    ) in source
    assert "operations = ()" in source
    assert project.cli("makemigrations", "--merge").stdout.strip() == (
        "No conflicts detected to merge."
    )
    project.migrate()
    project.assert_law()


def test_merge_stops_when_both_branches_change_the_same_column(sqlite_project: LawProject) -> None:
    project = sqlite_project
    base = ["a", "b", "c", "d"]
    left = wide(*base).replace("String(100)", "String(150)")
    right = wide(*base).replace("String(100)", "String(200)")
    _two_branches(project, left, right, right, names=("wider_name", "widest_name"))
    before = project.migration_files()

    result = project.cli("makemigrations", "--merge", expect=1)

    assert "Cannot merge shop: both branches change product.name" in result.stderr
    assert "0005_wider_name" in result.stderr and "0005_widest_name" in result.stderr
    assert project.migration_files() == before
