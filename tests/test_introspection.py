"""Reflection and schema diffs, against real databases of every configured kind.

The base schema is built twice with ``create_all`` (databases A and B) and must
compare equal; then B is rebuilt from a variant of the models, or changed with
raw DDL, and the diff must name exactly that change, in words a user can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex
from sqlalchemy.schema import CreateTable
from sqlalchemy.schema import sort_tables

from migrate_core.db import engine as db
from migrate_core.db.introspection import ColumnInfo
from migrate_core.db.introspection import ConstraintInfo
from migrate_core.db.introspection import IndexInfo
from migrate_core.db.introspection import SchemaDifference
from migrate_core.db.introspection import SchemaSnapshot
from migrate_core.db.introspection import TableInfo
from migrate_core.db.introspection import diff_schemas
from migrate_core.db.introspection import reflect_schema
from migrate_core.schema.sqltext import balanced_prefix
from migrate_core.schema.sqltext import normalize_sql

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@dataclass(frozen=True)
class Variant:
    """How the models of database B differ from the base models (all off: identical)."""

    extra_table: bool = False
    without_order_line: bool = False
    extra_column: bool = False
    without_note: bool = False
    sku_length: int = 32
    placed_at_not_null: bool = False
    price_default: str = "0"
    name_comment: str | None = "display name"
    customer_comment: str | None = "people who buy"
    sneaky_index: bool = False
    without_name_index: bool = False
    placed_at_unique_index: bool = False
    extra_unique: bool = False
    sku_unique_name: str | None = None
    extra_check: bool = False
    price_check: str = "price >= 0"
    customer_ondelete: str | None = "CASCADE"
    product_ondelete: str | None = None
    supplier_target: str = "supplier.id"
    order_line_pk: tuple[str, ...] = ("order_id", "product_id")
    statuses: tuple[str, ...] = ("active", "blocked")
    table_names: dict[str, str] = field(default_factory=dict)


def build_metadata(v: Variant = Variant()) -> sa.MetaData:
    """Five realistic tables exercising every kind of object the diff knows about."""
    m = sa.MetaData(naming_convention=NAMING)

    def name(table: str) -> str:
        return v.table_names.get(table, table)

    sa.Table(
        name("supplier"),
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    sa.Table(
        "customer",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), unique=True),
        sa.Column("name", sa.String(80), nullable=False, comment=v.name_comment),
        sa.Column(
            "status",
            sa.Enum(*v.statuses, name="customer_status"),
            nullable=False,
            server_default="active",
        ),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.now()),
        *([sa.Index("ix_sneaky", "name")] if v.sneaky_index else []),
        comment=v.customer_comment,
    )
    sa.Table(
        "product",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(v.sku_length), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, index=not v.without_name_index),
        sa.Column("price", sa.Numeric(10, 2), nullable=False, server_default=v.price_default),
        sa.Column(
            "supplier_id",
            sa.ForeignKey(v.supplier_target, name="fk_product_supplier"),
            nullable=True,
        ),
        *([sa.Column("weight", sa.Integer)] if v.extra_column else []),
        sa.UniqueConstraint("sku", name=v.sku_unique_name),
        sa.CheckConstraint(v.price_check, name="price_not_negative"),
        *([sa.UniqueConstraint("name", "price")] if v.extra_unique else []),
    )
    sa.Table(
        "orders",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "customer_id",
            sa.ForeignKey("customer.id", ondelete=v.customer_ondelete),
            nullable=False,
        ),
        *([] if v.without_note else [sa.Column("note", sa.Text)]),
        sa.Column("placed_at", sa.DateTime, nullable=not v.placed_at_not_null),
        sa.Index("ix_orders_placed_at", "placed_at", unique=v.placed_at_unique_index),
        sa.Index("ix_orders_customer_placed", "customer_id", "placed_at"),
    )
    if not v.without_order_line:
        sa.Table(
            "order_line",
            m,
            sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
            sa.Column(
                "product_id",
                sa.ForeignKey("product.id", ondelete=v.product_ondelete),
                nullable=False,
            ),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("quantity", sa.Integer, nullable=False, server_default="1"),
            sa.PrimaryKeyConstraint(*v.order_line_pk),
            sa.UniqueConstraint("order_id", "position"),
            *(
                [sa.CheckConstraint("quantity > 0", name="quantity_positive")]
                if v.extra_check
                else []
            ),
        )
    if v.extra_table:
        sa.Table(
            "invoice",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("order_id", sa.ForeignKey("orders.id")),
        )
    return m


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    a = db.create_engine(db_url)
    yield a
    a.dispose()


@pytest.fixture
def engines(engine: sa.Engine, other_db_url: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """Databases A and B, both empty and of the same kind."""
    b = db.create_engine(other_db_url)
    yield engine, b
    b.dispose()


def create(engine: sa.Engine, metadata: sa.MetaData, *ddl: str) -> None:
    with engine.begin() as conn:
        metadata.create_all(conn)
        for statement in ddl:
            conn.exec_driver_sql(statement)


def snapshot(engine: sa.Engine, **kw: Any) -> SchemaSnapshot:
    with engine.connect() as conn:
        return reflect_schema(conn, **kw)


def messages(diffs: list[SchemaDifference]) -> list[str]:
    return [d.message for d in diffs]


def q(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


# --------------------------------------------------------------------------- equality


def test_create_all_twice_compares_equal(
    dialect: str, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    a, b = engines
    create(a, build_metadata())
    create(b, build_metadata())
    snap_a, snap_b = snapshot(a), snapshot(b)

    assert snap_a.dialect == snap_b.dialect
    assert snap_a.table_names == ["customer", "order_line", "orders", "product", "supplier"]
    assert diff_schemas(snap_a, snap_b) == []
    assert diff_schemas(snap_a, snap_b, compare_column_order=True) == []
    assert snap_a == snap_b

    customer = snap_a["customer"]
    product = snap_a["product"]
    # A serial / auto_increment / rowid-alias key: autoincrement, no sequence default.
    customer_id = customer.column("id")
    assert customer_id is not None
    assert (customer_id.autoincrement, customer_id.default, customer_id.nullable) == (
        True,
        None,
        False,
    )
    assert product.column("sku") == ColumnInfo("sku", "VARCHAR(32)", False, None, None, False)
    line_pk = snap_a["order_line"].primary_key
    assert line_pk is not None and line_pk.columns == ("order_id", "product_id")
    assert not snap_a["order_line"].column("order_id").autoincrement  # type: ignore[union-attr]
    # Unique constraints are reported once, never again as an index.
    assert [c.columns for c in product.constraints_of("unique")] == [("sku",)]
    assert [c.columns for c in customer.constraints_of("unique")] == [("email",)]
    index_names = [i.name or "" for t in snap_a.tables.values() for i in t.indexes]
    assert not [n for n in index_names if n.startswith("uq_")]
    fk = snap_a["orders"].constraints_of("foreignkey")[0]
    assert (fk.name, fk.columns, fk.ref_table, fk.ref_columns, fk.ondelete, fk.onupdate) == (
        "fk_orders_customer_id_customer",
        ("customer_id",),
        "customer",
        ("id",),
        "CASCADE",
        None,
    )
    checks = product.constraints_of("check")
    assert [c.name for c in checks] == ["ck_product_price_not_negative"]
    assert checks[0].sqltext is not None and "price" in checks[0].sqltext
    assert (
        IndexInfo("ix_orders_customer_placed", ("customer_id", "placed_at"), False)
        in snap_a["orders"].indexes
    )

    status = customer.column("status")
    assert status is not None and status.default is not None and "active" in status.default
    if dialect == "sqlite":
        assert customer.comment is None
    else:
        assert customer.comment == "people who buy"
        assert customer.column("name").comment == "display name"  # type: ignore[union-attr]
        # The enum's values are part of its type, so a changed enum is a difference.
        assert "'active','blocked'" in status.type
    if dialect == "postgresql":
        assert status.type == "ENUM('active','blocked') customer_status"
    if dialect == "mysql":
        # The key name of every primary key is PRIMARY; it is not reported.
        assert line_pk.name is None
        # InnoDB indexes a foreign key that no index covers, under the key's name.
        names = {i.name for i in snap_a["order_line"].indexes}
        assert "fk_order_line_product_id_product" in names
    else:
        assert line_pk.name == "pk_order_line"


@dataclass(frozen=True)
class Case:
    """Database B built from ``variant`` (plus ``ddl``); ``expected`` lists (kind, message).

    A message containing ``...`` matches any text there (dialects word defaults
    and check constraints differently).
    """

    label: str
    variant: Variant
    expected: tuple[tuple[str, str], ...]
    dialects: tuple[str, ...] = ("sqlite", "postgresql", "mysql")
    ddl: tuple[str, ...] = ()


SERVERS = ("postgresql", "mysql")
LINE_FK = "foreign key fk_order_line_product_id_product on order_line(product_id) -> product(id)"

CASES = [
    Case("extra table", Variant(extra_table=True), (("table", "table invoice is still there"),)),
    Case(
        "missing table",
        Variant(without_order_line=True),
        (("table", "table order_line is missing"),),
    ),
    Case(
        "extra column",
        Variant(extra_column=True),
        (("column", "column product.weight is still there"),),
    ),
    Case(
        "missing column", Variant(without_note=True), (("column", "column orders.note is missing"),)
    ),
    Case(
        "type",
        Variant(sku_length=20),
        (("type", "column product.sku: type VARCHAR(20) in the database, VARCHAR(32) expected"),),
    ),
    Case(
        "nullability",
        Variant(placed_at_not_null=True),
        (("nullable", "column orders.placed_at: NOT NULL in the database, nullable expected"),),
    ),
    Case(
        "default",
        Variant(price_default="1"),
        (("default", "column product.price: default ...1... in the database, ...0... expected"),),
    ),
    Case(
        "column comment",
        Variant(name_comment="shown name"),
        (
            (
                "comment",
                "column customer.name: comment 'shown name' in the database, "
                "'display name' expected",
            ),
        ),
        dialects=SERVERS,
    ),
    Case(
        "table comment",
        Variant(customer_comment=None),
        (("comment", "table customer: comment 'people who buy' expected, database has none"),),
        dialects=SERVERS,
    ),
    Case(
        "enum values",
        Variant(statuses=("active", "blocked", "vip")),
        (("type", "column customer.status: type ENUM('active','blocked','vip')..."),),
        dialects=SERVERS,
    ),
    Case(
        "extra index",
        Variant(sneaky_index=True),
        (("index", "index ix_sneaky on customer(name) is still there"),),
    ),
    Case(
        "missing index",
        Variant(without_name_index=True),
        (("index", "index ix_product_name on product(name) is missing"),),
    ),
    Case(
        "index becomes unique",
        Variant(placed_at_unique_index=True),
        (
            (
                "index",
                "index ix_orders_placed_at on orders(placed_at) is unique in the database, "
                "not unique expected",
            ),
        ),
    ),
    Case(
        "unique constraint added",
        Variant(extra_unique=True),
        (("unique", "unique constraint uq_product_name on product(name, price) is still there"),),
    ),
    Case(
        "unique constraint renamed",
        Variant(sku_unique_name="uq_product_code"),
        (
            (
                "unique",
                "unique constraint on product(sku) is named uq_product_code, "
                "uq_product_sku expected",
            ),
        ),
    ),
    Case(
        "check added",
        Variant(extra_check=True),
        (
            (
                "check",
                "check constraint ck_order_line_quantity_positive on order_line "
                "CHECK (...quantity...) is still there",
            ),
        ),
    ),
    Case(
        "check changed",
        Variant(price_check="price > 0"),
        (
            (
                "check",
                "check constraint ck_product_price_not_negative on product: "
                "CHECK (...>...) in the database, CHECK (...>=...) expected",
            ),
        ),
    ),
    Case(
        "fk ondelete dropped",
        Variant(customer_ondelete=None),
        (
            (
                "foreign key",
                "foreign key fk_orders_customer_id_customer on orders(customer_id) -> "
                "customer(id): ondelete CASCADE expected, database has none",
            ),
        ),
    ),
    Case(
        "fk ondelete added",
        Variant(product_ondelete="CASCADE"),
        (("foreign key", f"{LINE_FK}: ondelete CASCADE in the database, none expected"),),
    ),
    Case(
        "fk target",
        Variant(supplier_target="customer.id"),
        (
            (
                "foreign key",
                "foreign key fk_product_supplier on product(supplier_id): "
                "references customer(id) in the database, supplier(id) expected",
            ),
        ),
    ),
    Case(
        "primary key",
        Variant(order_line_pk=("order_id", "product_id", "position")),
        (
            (
                "primary key",
                "primary key of order_line: on order_line(order_id, product_id, position) "
                "in the database, order_line(order_id, product_id) expected",
            ),
        ),
    ),
    # MySQL does not distinguish RESTRICT from NO ACTION; PostgreSQL and SQLite do.
    Case("restrict is the default", Variant(product_ondelete="RESTRICT"), (), dialects=("mysql",)),
    Case(
        "restrict is not the default",
        Variant(product_ondelete="RESTRICT"),
        (("foreign key", f"{LINE_FK}: ondelete RESTRICT in the database, none expected"),),
        dialects=("sqlite", "postgresql"),
    ),
    # Raw DDL on top of the base models.
    Case(
        "index added with raw DDL",
        Variant(),
        (("index", "index ix_raw on product(sku, name) is still there"),),
        ddl=("CREATE INDEX ix_raw ON product (sku, name)",),
    ),
    Case(
        "column added with raw DDL",
        Variant(),
        (("column", "column supplier.phone is still there"),),
        ddl=("ALTER TABLE supplier ADD COLUMN phone VARCHAR(20)",),
    ),
]


def _matches(found: list[SchemaDifference], expected: tuple[tuple[str, str], ...]) -> bool:
    if len(found) != len(expected):
        return False
    for diff, (kind, text) in zip(found, expected, strict=True):
        pattern = ".*".join(re.escape(part) for part in text.split("..."))
        if diff.kind != kind or not re.fullmatch(pattern, diff.message):
            return False
    return True


class Rebuilder:
    """Turns database B from one variant of the models into another, table by table.

    DDL is what makes these tests slow (MariaDB especially), so only the tables
    whose definition differs are dropped and created again, together with the
    tables whose foreign keys point at them.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.current = sa.MetaData()
        self.dirty: set[str] = set()

    def signature(self, table: sa.Table) -> tuple[Any, ...]:
        dialect = self.engine.dialect
        return (
            str(CreateTable(table).compile(dialect=dialect)),
            sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes),
            table.comment,
            [(c.name, repr(c.type), c.comment) for c in table.columns],
        )

    def switch(self, target: sa.MetaData, *ddl: str) -> None:
        old, new = self.current.tables, target.tables
        names = set(old) | set(new)
        changed = {n for n in names if n not in old or n not in new} | set(self.dirty)
        changed |= {n for n in names - changed if self.signature(old[n]) != self.signature(new[n])}
        grew = True
        while grew:  # add the tables that reference a table being replaced
            referencing = {
                t.name
                for md in (self.current, target)
                for t in md.tables.values()
                if any(fk.column.table.name in changed for fk in t.foreign_keys)
            }
            grew = not referencing <= changed
            changed |= referencing
        with self.engine.begin() as conn:
            dropped = sort_tables([old[n] for n in changed if n in old])
            for table in reversed(dropped):
                conn.exec_driver_sql(f"DROP TABLE {q(conn.dialect.name, table.name)}")
            if conn.dialect.name == "postgresql":
                for table in dropped:
                    for column in table.columns:
                        if isinstance(column.type, sa.Enum) and column.type.name:
                            conn.exec_driver_sql(f'DROP TYPE IF EXISTS "{column.type.name}"')
            target.create_all(conn, tables=[new[n] for n in changed if n in new])
            for statement in ddl:
                conn.exec_driver_sql(statement)
        self.current = target
        self.dirty = set(target.tables) if ddl else set()


def test_each_kind_of_difference_is_reported_once(
    dialect: str, engines: tuple[sa.Engine, sa.Engine], subtests: pytest.Subtests
) -> None:
    a, b = engines
    create(a, build_metadata())
    expected = snapshot(a)
    rebuilder = Rebuilder(b)
    for case in CASES:
        if dialect not in case.dialects:
            continue
        with subtests.test(case.label):
            rebuilder.switch(build_metadata(case.variant), *case.ddl)
            found = diff_schemas(expected, snapshot(b))
            assert _matches(found, case.expected), messages(found)
            for diff in found:
                assert diff.table in diff.message
                assert diff.expected is not None or diff.actual is not None
    # Back to the base models, B is A again (enum types included).
    rebuilder.dirty = set(rebuilder.current.tables)
    rebuilder.switch(build_metadata())
    assert diff_schemas(expected, snapshot(b)) == []


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_difference_fields_and_reverse_direction(engines: tuple[sa.Engine, sa.Engine]) -> None:
    a, b = engines
    create(a, build_metadata())
    create(b, build_metadata(Variant(sku_length=20, extra_table=True, without_note=True)))
    snap_a, snap_b = snapshot(a), snapshot(b)

    forward = diff_schemas(snap_a, snap_b)
    assert [(d.table, d.kind) for d in forward] == [
        ("invoice", "table"),
        ("orders", "column"),
        ("product", "type"),
    ]
    assert (forward[2].expected, forward[2].actual) == ("VARCHAR(32)", "VARCHAR(20)")
    backward = diff_schemas(snap_b, snap_a)
    assert messages(backward) == [
        "table invoice is missing",
        "column orders.note is still there",
        "column product.sku: type VARCHAR(32) in the database, VARCHAR(20) expected",
    ]
    # Deterministic: the same inputs give the same list, whatever the dict order.
    assert diff_schemas(snap_a, snap_b) == forward
    assert diff_schemas(snap_a, snap_b, tables=["product"]) == forward[2:]
    assert diff_schemas(snap_a, snap_b, ignore_tables=["invoice", "orders"]) == forward[2:]


def test_column_order_is_ignored_unless_asked(
    dialect: str, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    a, b = engines
    create(a, build_metadata())
    # A migration adds a column at the end; create_all puts "note" before placed_at.
    create(b, build_metadata(Variant(without_note=True)), "ALTER TABLE orders ADD COLUMN note TEXT")
    snap_a, snap_b = snapshot(a), snapshot(b)
    assert diff_schemas(snap_a, snap_b) == []
    ordered = diff_schemas(snap_a, snap_b, compare_column_order=True)
    assert messages(ordered) == [
        "table orders: columns in order id, customer_id, placed_at, note in the database, "
        "id, customer_id, note, placed_at expected"
    ]
    assert ordered[0].kind == "column order"


def test_renamed_table_keeps_only_real_differences(
    dialect: str, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    """PostgreSQL keeps a serial's sequence name through a rename; that is no difference."""
    a, b = engines
    create(a, build_metadata())
    old = build_metadata(Variant(table_names={"supplier": "vendor"}, supplier_target="vendor.id"))
    rename = f"ALTER TABLE {q(dialect, 'vendor')} RENAME TO {q(dialect, 'supplier')}"
    create(b, old, rename)
    found = diff_schemas(snapshot(a), snapshot(b))
    if dialect == "mysql":
        assert found == []  # primary keys have no name of their own there
    else:
        assert messages(found) == [
            "primary key on supplier(id) is named pk_vendor, pk_supplier expected"
        ]
    if dialect == "postgresql":
        with b.connect() as conn:
            raw = sa.inspect(conn).get_columns("supplier")[0]["default"]
        assert raw == "nextval('vendor_id_seq'::regclass)"


# --------------------------------------------------------------------------- filtering


def test_tables_and_exclude(engine: sa.Engine) -> None:
    a = engine
    create(
        a,
        build_metadata(),
        "CREATE TABLE migrate_core_migrations (id INTEGER PRIMARY KEY, app VARCHAR(50))",
    )
    everything = snapshot(a)
    assert "migrate_core_migrations" not in everything
    assert "migrate_core_migrations" in snapshot(a, exclude=())
    assert snapshot(a, exclude=("orders", "migrate_core_migrations")).table_names == [
        "customer",
        "order_line",
        "product",
        "supplier",
    ]
    some = snapshot(a, tables=["product", "no_such_table", "orders"])
    assert some.table_names == ["orders", "product"]
    assert some.tables["product"] == everything.tables["product"]
    assert snapshot(a, tables=[]).tables == {}
    assert snapshot(a, tables=["no_such_table"]).tables == {}
    assert snapshot(a, tables=["migrate_core_migrations"]).tables == {}
    assert everything.only(["product"]).tables == some.only(["product"]).tables
    # An engine works too (a connection is borrowed for the call).
    assert reflect_schema(a, ["product"]) == some.only(["product"])


# --------------------------------------------------------------------------- dialect quirks


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_sqlite_unnamed_objects_and_raw_ddl(engines: tuple[sa.Engine, sa.Engine]) -> None:
    a, b = engines
    base = [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT CHECK (a > 0), b VARCHAR(3) UNIQUE, "
        "c INT, d BIGINT, CHECK (c < 10), UNIQUE (c, d))",
        "CREATE TABLE u (id BIGINT PRIMARY KEY, k INTEGER)",
        "CREATE TABLE w (id INTEGER, x INTEGER, PRIMARY KEY (id, x))",
        "CREATE TABLE r (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id) ON DELETE CASCADE)",
        "CREATE INDEX ix_expr ON t (lower(b), c DESC) WHERE a IS NOT NULL",
        "CREATE TABLE v (id INTEGER PRIMARY KEY)",
    ]
    with a.begin() as conn:
        for stmt in base:
            conn.exec_driver_sql(stmt)
    with b.begin() as conn:
        for stmt in base:
            conn.exec_driver_sql(stmt.replace("(a > 0)", "(a  >  0)"))
    snap_a = snapshot(a)
    assert diff_schemas(snap_a, snapshot(b)) == []

    t = snap_a["t"]
    # INTEGER PRIMARY KEY is the rowid: never NULL, numbered automatically.
    assert t.column("id") == ColumnInfo("id", "INTEGER", False, None, None, True)
    assert not snap_a["u"].column("id").autoincrement  # type: ignore[union-attr]
    assert not any(c.autoincrement for c in snap_a["w"].columns)
    assert [(c.name, c.columns) for c in t.constraints_of("unique")] == [
        (None, ("b",)),
        (None, ("c", "d")),
    ]
    assert sorted(c.sqltext or "" for c in t.constraints_of("check")) == ["a > 0", "c < 10"]
    assert t.indexes == (
        IndexInfo("ix_expr", ("lower(b)", "c DESC"), False, (("sqlite_where", "a IS NOT NULL"),)),
    )

    # An unnamed foreign key whose rule changed is matched by its columns: one difference.
    with b.begin() as conn:
        conn.exec_driver_sql("DROP TABLE r")
        conn.exec_driver_sql(
            "CREATE TABLE r (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id))"
        )
        conn.exec_driver_sql("DROP INDEX ix_expr")
        conn.exec_driver_sql("CREATE INDEX ix_expr ON t (lower(b), c DESC)")
        # INT is no rowid alias (SQLAlchemy reflects both as INTEGER).
        conn.exec_driver_sql("DROP TABLE v")
        conn.exec_driver_sql("CREATE TABLE v (id INT PRIMARY KEY)")
    assert messages(diff_schemas(snap_a, snapshot(b))) == [
        "foreign key on r(t_id) -> t(id): ondelete CASCADE expected, database has none",
        "index ix_expr on t(lower(b), c DESC): options sqlite_where=a IS NOT NULL expected, "
        "database has none",
        "column v.id: no autoincrement in the database, autoincrement expected",
        "column v.id: nullable in the database, NOT NULL expected",
    ]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_postgresql_and_mysql_unique_constraints_are_not_indexes(
    dialect: str, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    a, b = engines
    create(a, build_metadata())
    create(b, build_metadata(), "CREATE UNIQUE INDEX ux_supplier_name ON supplier (name)")
    snap_b = snapshot(b)
    supplier = snap_b["supplier"]
    if dialect == "postgresql":
        # A unique index stays an index; only constraints' own indexes are folded away.
        assert [i.name for i in supplier.indexes] == ["ux_supplier_name"]
        assert supplier.constraints_of("unique") == ()
        expected_message = "unique index ux_supplier_name on supplier(name) is still there"
    else:
        # MySQL cannot tell them apart: a unique key is a unique constraint.
        assert supplier.indexes == ()
        assert [c.name for c in supplier.constraints_of("unique")] == ["ux_supplier_name"]
        expected_message = "unique constraint ux_supplier_name on supplier(name) is still there"
    assert messages(diff_schemas(snapshot(a), snap_b)) == [expected_message]


# --------------------------------------------------------------------------- pure diff rules


def _table(
    name: str, *, constraints: tuple[ConstraintInfo, ...] = (), indexes: tuple[IndexInfo, ...] = ()
) -> TableInfo:
    cols = (
        ColumnInfo("id", "INTEGER", False, None, None, True),
        ColumnInfo("a", "INTEGER", True, None, None, False),
    )
    return TableInfo(name, cols, constraints, indexes, None)


def test_diff_refuses_to_compare_dialects() -> None:
    with pytest.raises(ValueError, match="sqlite schema with a postgresql"):
        diff_schemas(SchemaSnapshot("sqlite", {}), SchemaSnapshot("postgresql", {}))


def test_unnamed_and_renamed_objects_pair_up() -> None:
    uq_named = ConstraintInfo("unique", "uq_t_a", ("a",))
    uq_unnamed = ConstraintInfo("unique", None, ("a",))
    ix_a = IndexInfo("ix_a", ("a",), False)
    ix_b = IndexInfo("ix_b", ("a",), False)
    exp = SchemaSnapshot("sqlite", {"t": _table("t", constraints=(uq_named,), indexes=(ix_a,))})
    act = SchemaSnapshot("sqlite", {"t": _table("t", constraints=(uq_unnamed,), indexes=(ix_b,))})
    assert messages(diff_schemas(exp, act)) == [
        "index on t(a) is named ix_b, ix_a expected",
        "unique constraint on t(a) is unnamed, uq_t_a expected",
    ]
    # A unique constraint that came back as a unique index of the same name (or the reverse).
    uq = ConstraintInfo("unique", "ix_a", ("a",))
    exp = SchemaSnapshot(
        "postgresql", {"t": _table("t", indexes=(IndexInfo("ix_a", ("a",), True),))}
    )
    act = SchemaSnapshot("postgresql", {"t": _table("t", constraints=(uq,))})
    assert messages(diff_schemas(exp, act)) == [
        "index ix_a on t(a) is a unique constraint in the database, a unique index expected"
    ]


def test_normalize_sql_keeps_literals() -> None:
    assert normalize_sql("((price  >=   0))") == "price >= 0"
    assert normalize_sql("(a) + (b)") == "(a) +(b)"
    assert normalize_sql("status IN ( 'a  b' , 'c' )") == "status IN('a  b','c')"
    assert normalize_sql("'x'  'y'") == "'x' 'y'"
    assert normalize_sql(None) is None


def test_balanced_prefix_ends_where_the_opening_parenthesis_closes() -> None:
    # What SQLAlchemy's greedy SQLite pattern reads when a column follows on the same line.
    assert balanced_prefix("price * 100) STORED, currency VARCHAR(3") == "price * 100"
    assert balanced_prefix("coalesce(a, ')') + 1") == "coalesce(a, ')') + 1"
    assert balanced_prefix("(a + b) * 2") == "(a + b) * 2"
