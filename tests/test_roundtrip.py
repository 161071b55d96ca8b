"""The round-trip law over a long scripted evolution of a realistic two-app project.

Every step writes new models, runs ``makemigrations --noinput`` (with ``--rename``
where the step renames), ``migrate``, and then proves the law: the migrated
database A equals ``create_all`` of the same models on an empty database B, and
``makemigrations --check`` finds nothing. At the end both apps go back to zero.

The steps cover every kind of change makemigrations knows (see ``STEPS``). The
models of both apps are written as timelines (see ``helpers_models.at_step``):
each line says in which steps it exists, so the whole history of a class reads
in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers_models import RICH
from helpers_models import RICH_TYPES
from helpers_models import LawProject
from helpers_models import assert_ruff_clean
from helpers_models import at_step
from helpers_models import law_project
from helpers_models import rich_v2

TYPES = '''
"""Project types: migrations must import this module to re-create the columns."""

from __future__ import annotations

import decimal

import sqlalchemy as sa


class Money(sa.types.TypeDecorator[decimal.Decimal]):
    """An amount of money: always two decimals, whatever the database."""

    impl = sa.Numeric(12, 2)
    cache_ok = True
'''

# The shop app: declarative models with a naming convention.
SHOP = """
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import MetaData
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import func
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from shop.types import Money


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),  # @18
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))


# @{ 21-22
class Supplier(Base):
    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
# @}


# @{ 22-35
class Vendor(Base):
    __tablename__ = "vendor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), server_default="NL")
# @}


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),  # @18
        CheckConstraint("stock >= 0 AND stock <= 1000000", name="stock_in_range"),  # @19-
        # Not led by category_id: see test_an_index_a_foreign_key_uses_made_unique (MySQL).
        Index("ix_product_name_stock", "name", "stock"),  # @16
        Index("ix_product_name_stock", "name", "stock", unique=True),  # @17-
        {"comment": "things we sell"},  # @14
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)  # @-13
    sku: Mapped[str] = mapped_column(String(32), unique=True, comment="stock keeping unit")  # @14
    sku: Mapped[str] = mapped_column(String(32), unique=True, comment="our article number")  # @15-
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text)  # @3-
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")  # @-6
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 3), server_default="0")  # @7-
    stock: Mapped[int] = mapped_column(server_default="0")  # @4-11
    stock: Mapped[int] = mapped_column(server_default="10")  # @12-
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"))  # @21
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id"))  # @22-35
    # @{ 28-
    attributes: Mapped[dict[str, Any] | None] = mapped_column(
        sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    )
    labels: Mapped[list[str] | None] = mapped_column(
        sa.JSON().with_variant(postgresql.ARRAY(String(30)), "postgresql")
    )
    # @}
    tags: Mapped[list[Tag]] = relationship(secondary="product_tag")  # @25-35


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        {"comment": "people who buy"},  # @15-
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))  # @-5
    name: Mapped[str] = mapped_column(String(150))  # @6-9
    name: Mapped[str | None] = mapped_column(String(150))  # @10
    name: Mapped[str | None] = mapped_column(String(150), server_default="anonymous")  # @11-12
    name: Mapped[str | None] = mapped_column(String(150))  # @13-
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    public_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid(), unique=True)  # @28-


# @{ 2-
class Order(Base):
    __tablename__ = "order"
    __table_args__ = (
        Index("uix_order_ref", "ref", unique=True),  # @16-32
        Index("uix_order_ref", "reference", unique=True),  # @33-
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))  # @-19
    # @{ 20-
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="RESTRICT", onupdate="CASCADE")
    )
    # @}
    status: Mapped[str] = mapped_column(sa.Enum("new", "paid", name="order_status"), server_default="new")  # @-25
    # @{ 26
    status: Mapped[str] = mapped_column(
        sa.Enum("new", "paid", "shipped", "cancelled", name="order_status"), server_default="new"
    )
    # @}
    # @{ 27-
    status: Mapped[str] = mapped_column(
        sa.Enum("new", "paid", "shipped", name="order_status"), server_default="new"
    )
    # @}
    placed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())  # @-7
    placed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=func.now())  # @8-15
    placed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=func.now(), index=True)  # @16
    placed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=func.now())  # @17-
    note: Mapped[str | None] = mapped_column(Text)  # @-4
    ref: Mapped[str | None] = mapped_column(String(20))  # @-8
    ref: Mapped[str] = mapped_column(String(20), server_default="-")  # @9-32
    reference: Mapped[str] = mapped_column(String(20), server_default="-")  # @33-
    total: Mapped[decimal.Decimal | None] = mapped_column(Money())  # @29-
# @}


# @{ 24-35
class OrderItem(Base):
    __tablename__ = "order_item"

    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(server_default="1")
# @}


# @{ 25-35
product_tag = sa.Table(
    "product_tag",
    Base.metadata,
    sa.Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),  # @-33
    sa.Column("tag_id", ForeignKey("label.id", ondelete="CASCADE"), primary_key=True),  # @34-
)


class Tag(Base):
    # Renamed in step 34: pk_tag, uq_tag_name and product_tag's key follow the new name.
    __tablename__ = "tag"  # @-33
    __tablename__ = "label"  # @34-

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
# @}


# @{ 30-35
class Warehouse(Base):
    __tablename__ = "warehouse"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("manager.id", use_alter=True))


class Manager(Base):
    __tablename__ = "manager"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
# @}


# @{ 32-36
class Currency(Base):
    __tablename__ = "currency"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
# @}


# @{ 35-
class Counter(Base):
    __tablename__ = "counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(server_default="0")
# @}
"""

# The billing app: its own MetaData without a naming convention (our default names
# apply), and foreign keys to the shop's tables.
BILLING = """
from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from shop.models import Order  # @31-36
from shop.models import Currency  # @32-36
from shop.types import Money


class Base(DeclarativeBase):
    pass


# @{ 31-36
class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        sa.UniqueConstraint("number"),
        sa.CheckConstraint("amount >= 0"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey(Order.__table__.c.id, ondelete="CASCADE"))
    amount: Mapped[decimal.Decimal] = mapped_column(Money())
    issued_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now(), index=True)
    currency_code: Mapped[str | None] = mapped_column(sa.ForeignKey(Currency.__table__.c.code))  # @32-
# @}
"""


@dataclass(frozen=True)
class Step:
    """What a step changes, and what to check about the migrations it writes."""

    label: str
    renames: tuple[str, ...] = ()
    # Extra checks on the new migration files: (project, names of the new files).
    check: Callable[[LawProject, list[str]], None] | None = None


def _written(*expected: str) -> Callable[[LawProject, list[str]], None]:
    def check(project: LawProject, names: list[str]) -> None:
        assert names == sorted(expected)

    return check


def _source(app: str, name: str, *needles: str) -> Callable[[LawProject, list[str]], None]:
    def check(project: LawProject, names: list[str]) -> None:
        assert name in names, names
        text = project.migration_source(name, app)
        for needle in needles:
            assert needle in text, f"{needle!r} not in {app}/{name}:\n{text}"

    return check


def _ops_in_order(app: str, *needles: str) -> Callable[[LawProject, list[str]], None]:
    """The step's one migration of ``app`` holds ``needles`` in this order."""

    def check(project: LawProject, names: list[str]) -> None:
        mine = [n for n in names if (project.root / app / "migrations" / f"{n}.py").exists()]
        assert len(mine) == 1, names
        text = project.migration_source(mine[0], app)
        positions = [text.find(needle) for needle in needles]
        assert -1 not in positions, f"{needles} not all in {mine[0]}:\n{text}"
        assert positions == sorted(positions), f"{needles} out of order in {mine[0]}:\n{text}"

    return check


def _each(
    *checks: Callable[[LawProject, list[str]], None],
) -> Callable[[LawProject, list[str]], None]:
    def check(project: LawProject, names: list[str]) -> None:
        for c in checks:
            c(project, names)

    return check


STEPS: dict[int, Step] = {
    1: Step("initial tables", check=_written("0001_initial")),
    2: Step(
        "a new table referencing an old one",
        check=_each(
            _written("0002_create_order"), _source("shop", "0002_create_order", "sa.Enum(")
        ),
    ),
    3: Step("nullable column added", check=_written("0003_add_product_description")),
    4: Step(
        "NOT NULL column with a server default added", check=_written("0004_add_product_stock")
    ),
    5: Step("column removed", check=_written("0005_remove_order_note")),
    6: Step("String length", check=_written("0006_alter_customer_name")),
    7: Step("Numeric precision and scale", check=_written("0007_alter_product_price")),
    8: Step("DateTime timezone", check=_written("0008_alter_order_placed_at")),
    9: Step(
        "NULL -> NOT NULL with a server default",
        check=_ops_in_order("shop", "AlterField(", '"ref"', "nullable=False", 'server_default="-"'),
    ),
    10: Step("NOT NULL -> NULL"),
    11: Step("server default set", check=_ops_in_order("shop", 'server_default="anonymous"')),
    12: Step("server default changed", check=_ops_in_order("shop", 'server_default="10"')),
    13: Step("server default removed"),
    14: Step(
        "column and table comments added",
        check=_ops_in_order(
            "shop",
            'comment="stock keeping unit"',
            'AlterModelComment("product", "things we sell")',
        ),
    ),
    15: Step(
        "comment changed, table comment moved",
        check=_ops_in_order(
            "shop",
            'comment="our article number"',
            'AlterModelComment("customer", "people who buy")',
            'AlterModelComment("product", None)',
        ),
    ),
    16: Step(
        "indexes: single, multi-column, unique",
        check=_ops_in_order(
            "shop", '"ix_order_placed_at"', '"uix_order_ref"', '"ix_product_name_stock"'
        ),
    ),
    17: Step(
        "index dropped, index made unique",
        check=_ops_in_order(
            "shop",
            'RemoveIndex("order", "ix_order_placed_at")',
            'RemoveIndex("product", "ix_product_name_stock")',
            "unique=True",
        ),
    ),
    18: Step(
        "unique and check constraints added",
        check=_ops_in_order(
            "shop", '"uq_category_parent_id_name"', '"ck_product_stock_not_negative"'
        ),
    ),
    19: Step(
        "unique dropped, check changed",
        check=_ops_in_order(
            "shop",
            'RemoveConstraint("category", "uq_category_parent_id_name")',
            'RemoveConstraint("product", "ck_product_stock_not_negative")',
            '"ck_product_stock_in_range"',
        ),
    ),
    20: Step(
        "foreign key ondelete/onupdate changed",
        check=_ops_in_order(
            "shop",
            'RemoveConstraint("order", "fk_order_customer_id_customer")',
            'ondelete="RESTRICT"',
            'onupdate="CASCADE"',
        ),
    ),
    21: Step(
        "new referenced table and a column with a foreign key to it",
        check=_ops_in_order("shop", '"supplier"', "AddField(", 'sa.ForeignKey("supplier.id"'),
    ),
    22: Step(
        "foreign key retargeted to another new table",
        check=_ops_in_order(
            "shop",
            'RemoveConstraint("product", "fk_product_supplier_id_supplier")',
            '"vendor"',
            '"fk_product_supplier_id_vendor"',
        ),
    ),
    23: Step("table no longer referenced dropped", check=_written("0023_delete_supplier")),
    24: Step(
        "composite primary key",
        check=_ops_in_order(
            "shop", 'sa.PrimaryKeyConstraint("order_id", "product_id", name="pk_order_item")'
        ),
    ),
    25: Step(
        "many-to-many association table",
        check=_ops_in_order(
            "shop", '"tag"', '"product_tag"', 'sa.PrimaryKeyConstraint("product_id", "tag_id"'
        ),
    ),
    26: Step(
        "enum values added", check=_ops_in_order("shop", "AlterField(", '"shipped"', '"cancelled"')
    ),
    27: Step("enum value removed"),
    28: Step(
        "JSON/JSONB, ARRAY, UUID and a unique new column",
        check=_ops_in_order(
            "shop", "sa.Uuid()", "postgresql.JSONB", "postgresql.ARRAY", '"uq_customer_public_id"'
        ),
    ),
    29: Step(
        "custom TypeDecorator, written as the database type it compiles to",
        check=_source("shop", "0029_add_order_total", "sa.Numeric(precision=12, scale=2)"),
    ),
    30: Step(
        "foreign key cycle between two new tables",
        check=_ops_in_order(
            "shop",
            'CreateModel(\n            "manager"',
            'CreateModel(\n            "warehouse"',
            'AddConstraint(\n            "manager"',
        ),
    ),
    31: Step(
        "a second app with a foreign key to the first, without a naming convention",
        check=_source(
            "billing",
            "0001_initial",
            '("shop", "0030_',
            'name="uq_invoice_number"',
            'name="fk_invoice_order_id_order"',
            'name="pk_invoice"',
            'name="ck_invoice_',
            '"ix_invoice_issued_at"',
        ),
    ),
    32: Step(
        "both apps change: a new table in one, a key to it in the other",
        check=_source(
            "billing", "0002_add_invoice_currency_code_and_more", '("shop", "0031_create_currency")'
        ),
    ),
    33: Step(
        "column renamed",
        renames=("order.ref=reference",),
        check=_written("0032_rename_order_ref_reference"),
    ),
    34: Step(
        "table renamed",
        renames=("tag=label",),
        check=_source(
            "shop",
            "0033_rename_tag_label_rename_pk_tag_pk_label_and_more",
            'RenameModel("tag", "label")',
            'RenameConstraint("label", "uq_tag_name", "uq_label_name")',
            '"fk_product_tag_tag_id_tag",\n            "fk_product_tag_tag_id_label"',
        ),
    ),
    35: Step(
        "integer primary key without autoincrement",
        check=_ops_in_order("shop", '"counter"', "autoincrement=False"),
    ),
    36: Step(
        "tables dropped in foreign key order, a cycle among them",
        check=_ops_in_order(
            "shop",
            'RemoveConstraint("product", "fk_product_supplier_id_vendor")',
            'DeleteModel("order_item")',
            'DeleteModel("vendor")',
            'RemoveConstraint("manager", "fk_manager_warehouse_id_warehouse")',
            'DeleteModel("warehouse")',
            'DeleteModel("manager")',
        ),
    ),
    37: Step(
        "tables of two apps dropped, one referencing the other",
        # The shop drops the table billing's key pointed at: billing's migration first.
        check=_source(
            "shop", "0036_delete_currency", '("billing", "0003_delete_invoice")', "DeleteModel"
        ),
    ),
}


@pytest.fixture
def project(
    tmp_path: Path, db_url: str, other_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    with law_project(tmp_path / "project", db_url, other_db_url, apps=("shop", "billing")) as p:
        monkeypatch.chdir(p.root)
        p.write("shop/types.py", TYPES)
        yield p


@pytest.mark.slow
def test_scripted_evolution_keeps_the_law(project: LawProject) -> None:
    assert len(STEPS) >= 30
    for number in sorted(STEPS):
        step = STEPS[number]
        models = {"shop": at_step(SHOP, number), "billing": at_step(BILLING, number)}
        names = project.step(models, renames=step.renames, label=f"step {number} ({step.label})")
        assert names, f"step {number} ({step.label}) wrote no migration"
        if step.check is not None:
            step.check(project, names)
    project.assert_unapplies_to_nothing()
    # Forty files of every kind of operation, as makemigrations wrote them.
    assert_ruff_clean(project.root, "shop/migrations", "billing/migrations")


COMPUTED = '    c_double: Mapped[int | None] = mapped_column(sa.Computed("c_int_00 * 2", persisted=True))\n'


def test_rich_models_keep_the_law(
    tmp_path: Path, db_url: str, other_db_url: str, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every column type and option the writer knows, created, then changed and dropped."""

    def version(text: str) -> str:
        assert COMPUTED in text  # a generated column, kept through SQLite's table rebuilds
        return text

    with law_project(tmp_path / "project", db_url, other_db_url) as project:
        monkeypatch.chdir(project.root)
        project.write("shop/types.py", RICH_TYPES)
        project.step({"shop": version(RICH)}, label="created")
        project.step({"shop": version(rich_v2())}, label="changed")
        without_child = version(rich_v2()).split("\n\nclass Child(Base):")[0]
        project.step({"shop": without_child}, label="child dropped")
        project.assert_unapplies_to_nothing()


def test_computed_column_survives_a_rebuild(
    single: LawProject, dialect: str, request: pytest.FixtureRequest
) -> None:
    """Altering another column of the table: SQLite rebuilds it, copying the rows over."""
    table = """
class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int | None]
    label: Mapped[str | None] = mapped_column(sa.String({length}))
    doubled: Mapped[int | None] = mapped_column(sa.Computed("size * 2", persisted=True))
"""
    single.step({"shop": PLAIN_HEAD + table.format(length=10)})
    single.execute("INSERT INTO thing (id, size, label) VALUES (1, 21, 'x')")
    single.step({"shop": PLAIN_HEAD + table.format(length=20)})
    assert single.rows("SELECT size, label, doubled FROM thing") == [(21, "x", 42)]
    single.assert_unapplies_to_nothing()


# -- single changes, one test each: the ones the scripted evolution leaves out ---------------------

PLAIN_HEAD = """
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass

"""


@pytest.fixture
def single(
    tmp_path: Path, db_url: str, other_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    with law_project(tmp_path / "project", db_url, other_db_url) as p:
        monkeypatch.chdir(p.root)
        yield p


def evolve(
    project: LawProject, *versions: str, renames: dict[int, tuple[str, ...]] | None = None
) -> None:
    """Each version of the models in turn, the law after each, then back to zero."""
    for i, body in enumerate(versions):
        project.step(
            {"shop": PLAIN_HEAD + body},
            renames=(renames or {}).get(i, ()),
            label=f"version {i + 1}",
        )
    project.assert_unapplies_to_nothing()


def test_autoincrement_switched_on_for_an_existing_key(
    single: LawProject,
) -> None:
    evolve(
        single,
        """
class Counter(Base):
    __tablename__ = "counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
""",
        """
class Counter(Base):
    __tablename__ = "counter"

    id: Mapped[int] = mapped_column(primary_key=True)
""",
    )


def test_type_family_changes(single: LawProject) -> None:
    evolve(
        single,
        """
class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(sa.String(10))
    flag: Mapped[bool] = mapped_column(server_default=sa.false())
    size: Mapped[int | None] = mapped_column(sa.SmallInteger())
""",
        """
class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[int | None] = mapped_column(sa.Integer())
    flag: Mapped[bool] = mapped_column(server_default=sa.true())
    size: Mapped[int | None] = mapped_column(sa.BigInteger())
""",
    )


PARENT_CHILD = """
class Parent(Base):
    __tablename__ = "parent"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(20), unique=True)


class Child(Base):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(sa.ForeignKey("parent.id"), index=True)
"""


def test_renamed_table_keeps_the_keys_pointing_at_it(single: LawProject) -> None:
    """Default names follow the table: pk_, uq_ and the other table's fk_ are renamed too."""
    single.step({"shop": PLAIN_HEAD + PARENT_CHILD})
    single.execute(
        "INSERT INTO parent (id, name) VALUES (1, 'p')",
        "INSERT INTO child (id, parent_id) VALUES (1, 1)",
    )
    renamed = PARENT_CHILD.replace('"parent"', '"mother"').replace('"parent.id"', '"mother.id"')
    names = single.step({"shop": PLAIN_HEAD + renamed}, renames=("parent=mother",))
    source = single.migration_source(names[0])
    for needle in (
        'RenameModel("parent", "mother")',
        'RenameConstraint("mother", "pk_parent", "pk_mother")',
        'RenameConstraint("mother", "uq_parent_name", "uq_mother_name")',
        '"fk_child_parent_id_parent",\n            "fk_child_parent_id_mother"',
    ):
        assert needle in source, source
    assert single.rows("SELECT c.id, m.name FROM child c JOIN mother m ON m.id = c.parent_id") == [
        (1, "p")
    ]
    single.assert_unapplies_to_nothing()


def test_an_enum_shared_by_two_tables(single: LawProject) -> None:
    shared = """
STATUS = sa.Enum("draft", "live", "gone", name="status")


class Page(Base):
    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(STATUS, server_default="draft")


class Post(Base):
    __tablename__ = "post"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str | None] = mapped_column(STATUS)
"""
    changed = shared.replace('"draft", "live", "gone"', '"draft", "live", "archived"')
    without_post = changed[: changed.index("class Post")]
    evolve(single, shared, changed, without_post)


def test_constraints_and_indexes_renamed_in_place(single: LawProject) -> None:
    one = """
class Item(Base):
    __tablename__ = "item"
    __table_args__ = (
        sa.Index("ix_one", "a"),
        sa.UniqueConstraint("b", name="uq_one"),
        sa.CheckConstraint("a > 0", name="ck_one"),
        sa.ForeignKeyConstraint(["parent_id"], ["item.id"], name="fk_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    a: Mapped[int]
    b: Mapped[int]
    parent_id: Mapped[int | None]
"""
    single.step({"shop": PLAIN_HEAD + one})
    names = single.step({"shop": PLAIN_HEAD + one.replace("_one", "_two")})
    source = single.migration_source(names[0])
    assert "RenameIndex" in source and source.count("RenameConstraint") == 3, source
    single.assert_unapplies_to_nothing()


FK_INDEXED = """
class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)


class Product(Base):
    __tablename__ = "product"
    __table_args__ = ({extra})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"))
"""


LED_BY_THE_KEY = 'sa.Index("ix_product_category_name", "category_id", "name"),'


@pytest.mark.parametrize(
    "extra",
    [
        LED_BY_THE_KEY,
        'sa.UniqueConstraint("category_id", "name", name="uq_product_category_name"),',
    ],
    ids=["index", "unique"],
)
def test_dropping_an_index_that_a_foreign_key_uses(single: LawProject, extra: str) -> None:
    """MySQL drops a key's own index once another one starts with the key's columns."""
    evolve(
        single,
        FK_INDEXED.format(extra=""),
        FK_INDEXED.format(extra=extra),
        FK_INDEXED.format(extra=""),
    )


def test_an_index_a_foreign_key_uses_made_unique(
    single: LawProject, dialect: str, request: pytest.FixtureRequest
) -> None:
    """Drop and re-create under the same name: the key's stand-in index must not stay behind."""
    evolve(
        single,
        FK_INDEXED.format(extra=""),
        FK_INDEXED.format(extra=LED_BY_THE_KEY),
        FK_INDEXED.format(extra=LED_BY_THE_KEY.replace(")", ", unique=True)")),
    )


def test_a_stored_column_added_to_a_table_with_rows_then_a_column_after_it(
    single: LawProject,
) -> None:
    """SQLite refuses ``ADD COLUMN`` of a STORED column (a rebuild adds it), and appends a
    later column on the generated column's own line of its DDL, where SQLAlchemy's
    reflection used to read the expression past its closing parenthesis."""
    thing = """
class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int | None]
"""
    single.step({"shop": PLAIN_HEAD + thing})
    single.execute("INSERT INTO thing (id, size) VALUES (1, 21)")
    doubled = (
        '    doubled: Mapped[int | None] = mapped_column(sa.Computed("size * 2", persisted=True))\n'
    )
    single.step({"shop": PLAIN_HEAD + thing + doubled})
    assert single.rows("SELECT doubled FROM thing") == [(42,)]
    label = '    label: Mapped[str] = mapped_column(sa.String(10), server_default="x")\n'
    single.step({"shop": PLAIN_HEAD + thing + doubled + label})
    assert single.rows("SELECT size, doubled, label FROM thing") == [(21, 42, "x")]
    single.assert_unapplies_to_nothing()


def test_expressions_from_mapped_columns_leave_the_table_out(
    single: LawProject, dialect: str
) -> None:
    """``func.lower(Thing.email)``, ``Thing.size >= 0``: SQLAlchemy's DDL writes these without
    the table name, and so must the migration (SQLite refuses ``thing.email`` in an index,
    and a prefix would name the old table after a rename)."""
    thing = """
class Thing(Base):
    __tablename__ = "{table}"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int]


Thing.__table__.append_constraint(sa.CheckConstraint(Thing.size >= 0, name="ck_size"))
"""
    if dialect != "mysql":  # MariaDB has no expression indexes
        thing += 'sa.Index("ix_email_lower", sa.func.lower(Thing.email))\n'
    names = single.step({"shop": PLAIN_HEAD + thing.format(table="thing")})
    source = single.migration_source(names[0])
    assert '"size >= 0"' in source and "thing.size" not in source, source
    assert "thing.email" not in source, source
    single.step({"shop": PLAIN_HEAD + thing.format(table="gadget")}, renames=("thing=gadget",))
    single.assert_unapplies_to_nothing()


def test_an_integer_key_that_becomes_a_string_stops_autoincrementing(single: LawProject) -> None:
    """The state used to keep the old key's autoincrement through AlterField, so every later
    makemigrations wrote the same ``AlterField(id)`` again (the law's ``--check`` failed).
    (Integer to UUID itself is a cast no database makes: PostgreSQL and MariaDB refuse it.)"""
    evolve(
        single,
        """
class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[int] = mapped_column(primary_key=True)
""",
        """
class Thing(Base):
    __tablename__ = "thing"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
""",
    )
