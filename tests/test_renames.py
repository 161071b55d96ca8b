"""Rename hints from the real staged diff of a models file in a scratch git repository."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate_core.migrations.renames import RenameHint
from migrate_core.migrations.renames import rename_hints
from migrate_core.vcs import index
from migrate_core.vcs.index import Hunk

MODELS = "shop/models.py"


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Hook variables from an outer commit would redirect the scratch repositories.
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    yield


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def staged_hints(
    tmp_path: Path, old: str | None, new: str, *, crlf: bool = False
) -> list[RenameHint]:
    """Commit ``old`` as shop/models.py, stage ``new``, and read hints from the staged diff
    exactly as the commit hook does."""
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    _git(root, "-c", "init.defaultBranch=main", "init", "-q")
    _git(root, "config", "user.name", "Test")
    _git(root, "config", "user.email", "test@example.com")
    path = root / MODELS
    path.parent.mkdir(parents=True)
    newline = "\r\n" if crlf else "\n"

    def write(text: str) -> None:
        path.write_bytes(textwrap.dedent(text).lstrip("\n").replace("\n", newline).encode())

    if old is not None:
        write(old)
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "old")
    write(new)
    _git(root, "add", "-A")
    hunks = index.staged_hunks(root, MODELS)
    head = index.head_blob(root, MODELS)
    staged = index.staged_blob(root, MODELS)
    assert staged is not None
    return rename_hints(head.decode() if head is not None else None, staged.decode(), hunks)


def column(cls: str, old: str, new: str, **extra: str | None) -> RenameHint:
    return RenameHint(
        "column",
        cls,
        old,
        new,
        extra.get("old_class_name"),
        old_column=extra.get("old_column", old),
        new_column=extra.get("new_column", new),
    )


HEADER = """
from sqlalchemy import Column, ForeignKey, Integer, String
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass
"""


def models(body: str) -> str:
    return HEADER + textwrap.dedent(body)


# ---------------------------------------------------------------------------------------
# columns
# ---------------------------------------------------------------------------------------


def test_annotated_mapped_column_rename(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(50), nullable=False)
            price: Mapped[int]
        """
    )
    new = old.replace("    name: Mapped[str]", "    title: Mapped[str]")
    assert staged_hints(tmp_path, old, new) == [column("Product", "name", "title")]


@pytest.mark.parametrize(
    ("old_line", "new_line"),
    [
        ("name = Column(String(50))", "title = Column(String(50))"),
        (
            "name = sa.Column(sa.String(50), index=True)",
            "title = sa.Column(sa.String(50), index=True)",
        ),
        ("name = mapped_column(String(50))", "title = mapped_column(String(50))"),
        ("name: Mapped[str]", "title: Mapped[str]"),
        ("name = Column(String(50))  # old comment", "title = Column(String(50))  # new"),
    ],
)
def test_column_styles(tmp_path: Path, old_line: str, new_line: str) -> None:
    body = """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            LINE
        """
    old = models(body.replace("LINE", old_line))
    new = models(body.replace("LINE", new_line))
    assert staged_hints(tmp_path, old, new) == [column("Product", "name", "title")]


def test_crlf_models_file(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
        """
    )
    new = old.replace("name =", "title =")
    assert staged_hints(tmp_path, old, new, crlf=True) == [column("Product", "name", "title")]


@pytest.mark.parametrize(
    ("old_line", "new_line"),
    [
        ("name = Column(String(50))", "title = Column(String(80))"),
        ("name = Column(String(50))", "title = Column(String(50), nullable=False)"),
        (
            "name: Mapped[str] = mapped_column(String(50))",
            "title: Mapped[str | None] = mapped_column(String(50))",
        ),
        ("name: Mapped[str] = mapped_column(String(50))", "title = mapped_column(String(50))"),
        ("name = Column(String(50))", "title = mapped_column(String(50))"),
        ("name = Column(String(50))", "        title = Column(String(50))"),
    ],
)
def test_different_definition_is_no_rename(tmp_path: Path, old_line: str, new_line: str) -> None:
    body = """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            LINE
        """
    old = models(body.replace("LINE", old_line))
    new = models(body.replace("LINE", new_line))
    assert staged_hints(tmp_path, old, new) == []


def test_explicit_column_name(tmp_path: Path) -> None:
    body = """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            LINE
        """

    def hints(old_line: str, new_line: str) -> list[RenameHint]:
        case = tmp_path / str(len(list(tmp_path.iterdir())))
        case.mkdir()
        return staged_hints(
            case, models(body.replace("LINE", old_line)), models(body.replace("LINE", new_line))
        )

    # The attribute is renamed, the database column keeps its explicit name: no migration.
    assert (
        hints(
            'name = Column("product_name", String(50))',
            'title = Column("product_name", String(50))',
        )
        == []
    )
    # The explicit name changed along with the attribute: a column rename.
    assert hints(
        'name: Mapped[str] = mapped_column("product_name", String(50))',
        'title: Mapped[str] = mapped_column("title", String(50))',
    ) == [column("Product", "name", "title", old_column="product_name", new_column="title")]
    # Only the explicit name changed: the attribute is the same, the column is not.
    assert hints('name = Column("nm", String(50))', 'name = Column("label", String(50))') == [
        column("Product", "name", "name", old_column="nm", new_column="label")
    ]
    # name= keyword; and the explicit name dropped so the attribute name becomes it.
    assert hints(
        'name = mapped_column(String(50), name="nm")', "title = mapped_column(String(50))"
    ) == [column("Product", "name", "title", old_column="nm", new_column="title")]
    # Adding an explicit name equal to the old attribute keeps the column: no hint.
    assert hints("name = Column(String(50))", 'title = Column("name", String(50))') == []


def test_two_renames_in_one_hunk(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
            code = Column(String(10), unique=True)
            note = Column(String(200))
            memo = Column(String(200))
        """
    )
    new = (
        old.replace("name =", "title =")
        .replace("code =", "sku =")
        .replace("note =", "remark =")
        .replace("memo =", "comment =")
    )
    assert staged_hints(tmp_path, old, new) == [
        column("Product", "name", "title"),
        column("Product", "code", "sku"),
        column("Product", "note", "remark"),
        column("Product", "memo", "comment"),
    ]


def test_rename_next_to_an_added_column(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
        """
    )
    new = old.replace(
        "    name = Column(String(50))\n",
        "    title = Column(String(50))\n    stock = Column(Integer)\n",
    )
    assert staged_hints(tmp_path, old, new) == [column("Product", "name", "title")]


def test_ambiguous_pairing_gives_nothing(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            first = Column(String(50))
            second = Column(String(50))
        """
    )
    new = old.replace(
        "    first = Column(String(50))\n    second = Column(String(50))\n",
        "    third = Column(String(50))\n",
    )
    assert staged_hints(tmp_path, old, new) == []


def test_rename_in_one_class_while_another_class_has_the_same_attribute(tmp_path: Path) -> None:
    old = models(
        """
        class User(Base):
            __tablename__ = "user"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))


        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
        """
    )
    new = old[: old.rindex("name =")] + "title =" + old[old.rindex("name =") + len("name =") :]
    assert staged_hints(tmp_path, old, new) == [column("Product", "name", "title")]


def test_renames_at_the_end_of_one_class_and_start_of_the_next(tmp_path: Path) -> None:
    old = models(
        """
        class User(Base):
            __tablename__ = "user"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
        class Product(Base):
            name = Column(String(50))
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
        """
    )
    new = old.replace("name =", "title =")
    assert staged_hints(tmp_path, old, new) == [
        column("User", "name", "title"),
        column("Product", "name", "title"),
    ]


def test_moved_or_swapped_attributes_are_not_renames(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            a = Column(String(50))
            b = Column(String(50))
        """
    )
    swapped = old.replace("a = Column", "X = Column").replace("b = Column", "a = Column")
    swapped = swapped.replace("X = Column", "b = Column")
    assert staged_hints(tmp_path, old, swapped) == []


def test_names_on_lines_the_diff_did_not_touch_still_refuse_a_pair(tmp_path: Path) -> None:
    """Only statements on hunk lines get a signature, but the "already exists" rule
    must see every name of the class, wherever it is defined."""
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
            stock = Column(Integer)
            title = Column(String(50))

            def label(self) -> str:
                return self.name
        """
    )
    # ``title`` already exists further down (untouched): a duplicate, not a rename.
    assert staged_hints(tmp_path / "a", old, old.replace("name =", "title =")) == []
    # A method counts as a name too.
    assert staged_hints(tmp_path / "b", old, old.replace("name =", "label =")) == []
    # The old name is still defined on an untouched line of the new class (the class
    # assigned it twice): the first assignment's rename is not a rename.
    twice = old.replace("    title = Column(String(50))\n", "    name = Column(String(50))\n")
    assert staged_hints(tmp_path / "c", twice, twice.replace("name =", "title =", 1)) == []


def test_classes_nested_in_blocks_and_functions(tmp_path: Path) -> None:
    old = models(
        """
        if True:
            class Product(Base):
                __tablename__ = "product"
                id = Column(Integer, primary_key=True)
                name = Column(String(50))


        def make():
            class Audit(Base):
                __tablename__ = "audit"
                id = Column(Integer, primary_key=True)
                note = Column(String(50))

            return Audit
        """
    )
    new = old.replace("name =", "title =").replace("note =", "remark =")
    assert staged_hints(tmp_path, old, new) == [
        column("Product", "name", "title"),
        column("Audit", "note", "remark"),
    ]


def test_a_rename_in_a_large_models_file() -> None:
    """A one-line rename in a 200-model file gives exactly its hint (the signatures are
    computed for the hunk's lines only; the cost of that is bench/'s to measure)."""
    parts = [HEADER]
    for i in range(200):
        parts.append(
            f"\n\nclass T{i:04}(Base):\n"
            f'    __tablename__ = "t{i:04}"\n\n'
            "    id: Mapped[int] = mapped_column(primary_key=True)\n"
            "    name: Mapped[str] = mapped_column(String(100), index=True)\n"
            "    qty: Mapped[int | None]\n"
            "    note: Mapped[str | None] = mapped_column(String(200))\n"
            "    owner_id: Mapped[int | None] = mapped_column(ForeignKey('t0000.id'))\n"
        )
    old = "".join(parts)
    lines = old.split("\n")
    number = lines.index("class T0100(Base):") + 6
    assert lines[number].startswith("    note:")
    new_line = lines[number].replace("note:", "memo:")
    new = "\n".join([*lines[:number], new_line, *lines[number + 1 :]])
    hunk = Hunk(number + 1, number + 1, ((number + 1, lines[number]),), ((number + 1, new_line),))

    # How long this takes is measured in bench/, not asserted here (a timed assertion
    # fails on a loaded machine): here, only that the big file gives the one right hint.
    assert rename_hints(old, new, [hunk]) == [column("T0100", "note", "memo")]


def test_multi_line_definitions_compare_whole_statements(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(
                String(50),
                nullable=False,
            )
        """
    )
    renamed = old.replace("name: Mapped", "title: Mapped")
    assert staged_hints(tmp_path / "a", old, renamed) == [column("Product", "name", "title")]
    changed = renamed.replace("String(50)", "String(80)")
    assert staged_hints(tmp_path / "b", old, changed) == []


def test_relationship_rename_is_not_a_column_rename(tmp_path: Path) -> None:
    old = models(
        """
        class Category(Base):
            __tablename__ = "category"
            id: Mapped[int] = mapped_column(primary_key=True)
            products: Mapped[list["Product"]] = relationship(back_populates="category")


        class Product(Base):
            __tablename__ = "product"
            id: Mapped[int] = mapped_column(primary_key=True)
            category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
            category: Mapped[Category] = relationship(back_populates="products")
        """
    )
    new = old.replace("    products: Mapped", "    items: Mapped").replace(
        'back_populates="products"', 'back_populates="items"'
    )
    assert staged_hints(tmp_path, old, new) == []


def test_non_column_attributes_are_ignored(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
            LIMIT = 5
            label = sa.orm.column_property(sa.func.upper("x"))

        name = Column(String(50))
        """
    )
    new = old.replace("LIMIT =", "MAXIMUM =").replace("label =", "caption =")
    new = new.replace("\nname = Column", "\ntitle = Column")
    assert staged_hints(tmp_path, old, new) == []


# ---------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------


def test_class_rename_with_tablename_change(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "products"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
        """
    )
    new = old.replace("class Product(", "class Item(").replace('"products"', '"items"')
    assert staged_hints(tmp_path, old, new) == [
        RenameHint("table", "Item", "products", "items", "Product")
    ]


def test_class_rename_with_column_rename_inside(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            \"\"\"Something we sell.\"\"\"

            __tablename__ = "products"
            id = Column(Integer, primary_key=True)
            name = Column(String(50))
        """
    )
    new = (
        old.replace("class Product(", "class Item(")
        .replace('"products"', '"items"')
        .replace("name =", "title =")
    )
    assert staged_hints(tmp_path, old, new) == [
        RenameHint("table", "Item", "products", "items", "Product"),
        column("Item", "name", "title", old_class_name="Product"),
    ]


def test_class_rename_with_derived_table_name(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            id = Column(Integer, primary_key=True)
        """
    )
    new = old.replace("class Product(", "class Item(")
    assert staged_hints(tmp_path, old, new) == [
        RenameHint("table", "Item", "Product", "Item", "Product")
    ]


def test_class_rename_keeping_the_table_name_is_no_table_rename(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "products"
            id = Column(Integer, primary_key=True)
        """
    )
    new = old.replace("class Product(", "class Item(")
    assert staged_hints(tmp_path / "a", old, new) == []
    # ... and a different base is not "the same place".
    rebased = old.replace("class Product(Base)", "class Item(Base, Mixin)")
    assert staged_hints(tmp_path / "b", old, rebased) == []


def test_tablename_change_in_place(tmp_path: Path) -> None:
    old = models(
        """
        class Product(Base):
            __tablename__ = "product"
            id = Column(Integer, primary_key=True)
        """
    )
    new = old.replace('"product"', '"products"')
    assert staged_hints(tmp_path, old, new) == [
        RenameHint("table", "Product", "product", "products", "Product")
    ]


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------


def test_new_file_or_unparsable_source_gives_nothing(tmp_path: Path) -> None:
    new = models(
        """
        class Product(Base):
            __tablename__ = "product"
            title = Column(String(50))
        """
    )
    assert staged_hints(tmp_path / "a", None, new) == []
    old = new.replace("title", "name")
    assert staged_hints(tmp_path / "b", old, new + "\ndef broken(:\n") == []


def test_hunks_that_do_not_match_the_sources_are_ignored() -> None:
    old = "class A:\n    name = Column(String)\n"
    new = "class A:\n    title = Column(String)\n"
    right = Hunk(2, 2, ((2, "    name = Column(String)"),), ((2, "    title = Column(String)"),))
    stale = Hunk(2, 2, ((2, "    other = Column(String)"),), ((2, "    title = Column(String)"),))
    assert rename_hints(old, new, [right]) == [column("A", "name", "title")]
    assert rename_hints(old, new, [stale]) == []
    assert rename_hints(old, new, []) == []


def test_module_imports_neither_git_machinery_nor_sqlalchemy() -> None:
    code = (
        "import sys, migrate_core.migrations.renames; "
        "print(sorted(m for m in ('sqlalchemy', 'git', 'migrate_core.vcs.index', 'migrate_core.vcs.history', 'subprocess') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
