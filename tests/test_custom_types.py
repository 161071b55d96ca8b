"""Real projects' custom types: migration files are self-contained, and compare by database type.

A project's TypeDecorator (a class factory's too) is written as the database type
it compiles to, with ``with_variant`` where dialects differ; ``sa.PickleType`` is
its binary column; the file imports only ``sqlalchemy`` and ``migrate_core``, so it
migrates with the project's types module gone. Swapping a type for a decorator
over the same database type is no change. On every database: the round-trip law
(migrated schema equals ``create_all``, nothing left to generate).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_models import LawProject
from helpers_models import law_project

from migrate_core.schema import codegen

HEAD = """
from __future__ import annotations

import pickle
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shop.types import GUID, Jsonish, LongText, Money, tagged


class Base(DeclarativeBase):
    pass

"""

TYPES = """
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql


class GUID(sa.types.TypeDecorator[Any]):
    # The classic recipe: native UUID on PostgreSQL, 32 hex characters elsewhere.
    impl = sa.CHAR
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID())
        return dialect.type_descriptor(sa.CHAR(32))


class Jsonish(sa.types.TypeDecorator[Any]):
    impl = sa.JSON
    cache_ok = True


class Money(sa.types.TypeDecorator[Any]):
    impl = sa.Numeric(12, 2)
    cache_ok = True


class LongText(sa.types.TypeDecorator[str]):
    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "mysql":
            return mysql.LONGTEXT()
        return sa.Text()


def tagged(length: int) -> Any:
    # A class factory: the class lives in <locals>, no file could ever import it.
    class Tagged(sa.types.TypeDecorator[str]):
        impl = sa.String(length)
        cache_ok = True

    return Tagged()
"""

ORDER = """
class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
{columns}
"""


def models(*columns: str) -> str:
    return HEAD + ORDER.format(columns="\n".join(f"    {c}" for c in columns))


@pytest.fixture
def project(
    db_url: str, other_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    with law_project(tmp_path / "project", db_url, other_db_url) as p:
        monkeypatch.chdir(p.root)
        p.packages = (*p.packages, "shop")
        p.write("shop/types.py", TYPES)
        yield p


def imported_modules(source: str) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def migrate_without_types(project: LawProject) -> None:
    """``migrate`` with the project's types module gone: the files must not need it."""
    types = project.root / "shop" / "types.py"
    hidden = types.with_suffix(".hidden")
    types.rename(hidden)
    try:
        project.migrate()
    finally:
        hidden.rename(types)


def step(project: LawProject, source: str) -> list[str]:
    before = set(project.migration_files())
    project.set_models("shop", source)
    project.makemigrations()
    new = sorted(set(project.migration_files()) - before)
    for name in new:
        text = project.migration_source(name)
        assert imported_modules(text) <= {
            "sqlalchemy",
            "migrate_core",
            "sqlalchemy.dialects",
            "__future__",
        }, text
        assert "shop" not in text.split("class Migration")[0]
    migrate_without_types(project)
    project.assert_law()
    return new


def test_custom_types_round_trip_without_the_project_code(project: LawProject) -> None:
    [first] = step(
        project,
        models(
            "blob: Mapped[Any] = mapped_column(sa.PickleType(pickler=pickle), nullable=True)",
            "uid: Mapped[Any] = mapped_column(GUID(), nullable=True)",
            "tag: Mapped[str | None] = mapped_column(tagged(20))",
            "doc: Mapped[Any] = mapped_column(Jsonish(), nullable=True)",
            "total: Mapped[Any] = mapped_column(Money(), nullable=True)",
            "body: Mapped[str | None] = mapped_column(LongText())",
            "took: Mapped[Any] = mapped_column(sa.Interval(), nullable=True)",
        ),
    )
    text = project.migration_source(first)
    for needle in (
        "sa.LargeBinary()",
        'sa.CHAR(length=32).with_variant(sa.UUID(), "postgresql")',
        "sa.String(length=20)",
        "sa.JSON()",
        "sa.Numeric(precision=12, scale=2)",
        'sa.Text().with_variant(mysql.LONGTEXT(), "mysql")',
        "sa.Interval()",
    ):
        assert needle in text, needle
    assert "pickle" not in text and "Tagged" not in text
    project.assert_unapplies_to_nothing()


def test_a_decorator_over_the_same_database_type_is_no_change(project: LawProject) -> None:
    step(
        project,
        models(
            "doc: Mapped[Any] = mapped_column(sa.JSON(), nullable=True)",
            "total: Mapped[Any] = mapped_column(sa.Numeric(12, 2), nullable=True)",
            "tag: Mapped[str | None] = mapped_column(sa.String(20))",
            "blob: Mapped[Any] = mapped_column(sa.LargeBinary(), nullable=True)",
        ),
    )
    project.set_models(
        "shop",
        models(
            "doc: Mapped[Any] = mapped_column(Jsonish(), nullable=True)",
            "total: Mapped[Any] = mapped_column(Money(), nullable=True)",
            "tag: Mapped[str | None] = mapped_column(tagged(20))",
            "blob: Mapped[Any] = mapped_column(sa.PickleType(), nullable=True)",
        ),
    )
    assert "No changes detected" in project.makemigrations("--check").stdout
    # A real change under a decorator still is one.
    project.set_models(
        "shop",
        models(
            "doc: Mapped[Any] = mapped_column(Jsonish(), nullable=True)",
            "total: Mapped[Any] = mapped_column(Money(), nullable=True)",
            "tag: Mapped[str | None] = mapped_column(tagged(40))",
            "blob: Mapped[Any] = mapped_column(sa.PickleType(), nullable=True)",
        ),
    )
    [altered] = step(project, project.root.joinpath("shop/models.py").read_text())
    assert "AlterField" in project.migration_source(altered)


OLD_STYLE = """# Generated by migrate-core 0.1 on 2025-01-01 00:00
import sqlalchemy as sa
from migrate_core import migrations

import shop.types


class Migration(migrations.Migration):
    initial = True
    dependencies = ()
    operations = (
        migrations.CreateModel(
            "order",
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("total", shop.types.Money(), nullable=True),
                sa.Column("uid", shop.types.GUID(), nullable=True),
                sa.PrimaryKeyConstraint("id", name="pk_order"),
            ],
        ),
    )
"""


def test_old_migrations_that_import_project_types_keep_loading(project: LawProject) -> None:
    """Files written before the self-contained rule import the project; they still work."""
    project.write("shop/migrations/__init__.py", "")
    project.write("shop/migrations/0001_initial.py", OLD_STYLE)
    project.set_models(
        "shop",
        models(
            "total: Mapped[Any] = mapped_column(Money(), nullable=True)",
            "uid: Mapped[Any] = mapped_column(GUID(), nullable=True)",
        ),
    )
    project.migrate()
    project.assert_law()


def test_a_type_no_file_can_write_stops_before_writing(project: LawProject) -> None:
    project.write(
        "shop/types.py",
        TYPES
        + """

class Vector(sa.types.UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "TEXT"
""",
    )
    project.set_models(
        "shop",
        models("vec: Mapped[Any] = mapped_column(Vector(), nullable=True)").replace(
            "import GUID,", "import Vector, GUID,"
        ),
    )
    result = project.makemigrations(expect=2)
    out = result.stdout + result.stderr
    for needle in ("model Order (table order)", "column vec", "shop.types.Vector", "fix:", "MV008"):
        assert needle in out, out
    assert "Traceback" not in out
    assert project.migration_files() == []


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("sa.PickleType(protocol=4, comparator=lambda a, b: a == b)", "sa.LargeBinary()"),
        ("sa.PickleType(impl=sa.LargeBinary(1000))", "sa.LargeBinary(length=1000)"),
        ("sa.Interval(native=False)", "sa.Interval(native=False)"),
        ("Jsonish().with_variant(postgresql.JSONB(), 'postgresql')", None),
        ("GUID().with_variant(sa.String(36), 'sqlite')", None),
    ],
)
def test_rendering_is_a_fixed_point(type_: str, expected: str | None) -> None:
    """Rendered, evaluated and rendered again: the same text (so replay equals the models)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql
    from sqlalchemy.dialects import postgresql

    namespace: dict[str, object] = {"sa": sa, "mysql": mysql, "postgresql": postgresql}
    exec(compile(TYPES, "types", "exec"), namespace)
    value = eval(type_, namespace)
    first = codegen.render_type(value)
    if expected is not None:
        assert first.text == expected
    again = codegen.render_type(
        eval(first.text, {"sa": sa, "mysql": mysql, "postgresql": postgresql})
    )
    assert again.text == first.text
    assert all(line.split()[1].split(".")[0] in ("sqlalchemy",) for line in first.imports)
