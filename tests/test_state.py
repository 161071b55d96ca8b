"""ProjectState keeps its keys and indexes consistent, and refuses what a database would refuse.

Plain state only: no database, no models. Each invariant is checked on the
ProjectState method that owns it, and the operations' error messages (which name
the operation, so a person finds the migration line) are pinned word for word.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from migrate_core import migrations
from migrate_core.errors import InvalidStateError
from migrate_core.migrations.operations.base import Operation
from migrate_core.schema.state import CheckState
from migrate_core.schema.state import ColumnState
from migrate_core.schema.state import ForeignKeyState
from migrate_core.schema.state import IndexState
from migrate_core.schema.state import PrimaryKeyState
from migrate_core.schema.state import ProjectState
from migrate_core.schema.state import TableState
from migrate_core.schema.state import UniqueState
from migrate_core.schema.state import sorted_items


def col(name: str, *, nullable: bool = True, autoincrement: bool = False) -> ColumnState:
    return ColumnState(name, "sa.Integer()", nullable=nullable, autoincrement=autoincrement)


def index(name: str, *elements: str, expr: tuple[bool, ...] = ()) -> IndexState:
    return IndexState(name, elements, expr or tuple(False for _ in elements))


def shop() -> ProjectState:
    """``customer`` (id, code, region, parent_id -> customer.id) and ``orders`` pointing at it."""
    customer = TableState(
        name="customer",
        app="shop",
        columns=(
            col("id", nullable=False, autoincrement=True),
            col("code"),
            col("region"),
            col("parent_id"),
        ),
        primary_key=PrimaryKeyState("pk_customer", ("id",)),
        foreign_keys=(ForeignKeyState("fk_customer_parent", ("parent_id",), "customer", ("id",)),),
        unique_constraints=(UniqueState("uq_customer_code_region", ("code", "region")),),
        check_constraints=(CheckState("ck_customer_code", "code > 0 AND customer.code < 9"),),
        indexes=(
            index("ix_customer_region_code", "region", "code"),
            index("ix_customer_lower", "lower(code)", expr=(True,)),
            index("ix_customer_parent", "parent_id"),
        ),
    )
    orders = TableState(
        name="orders",
        app="shop",
        columns=(col("id", nullable=False), col("customer_id"), col("customer_code")),
        primary_key=PrimaryKeyState("pk_orders", ("id",)),
        foreign_keys=(
            ForeignKeyState("fk_orders_customer", ("customer_id",), "customer", ("id",)),
            ForeignKeyState("fk_orders_code", ("customer_code",), "customer", ("code",)),
        ),
    )
    note = TableState(name="note", app="shop", columns=(col("id", nullable=False),))
    # Keys and indexes in the order the state keeps them (as read from models).
    tables = [
        replace(
            t,
            foreign_keys=sorted_items(t.foreign_keys),
            unique_constraints=sorted_items(t.unique_constraints),
            check_constraints=sorted_items(t.check_constraints),
            indexes=sorted_items(t.indexes),
        )
        for t in (customer, orders, note)
    ]
    return ProjectState({t.name: t for t in tables})


def refused(message: str) -> Any:
    """Expect exactly this message: the wording is what a person reads, so it is pinned."""
    return pytest.raises(InvalidStateError, match=f"^{re.escape(message)}$")


# -- renaming a table ---------------------------------------------------------------------------


def test_rename_table_moves_every_foreign_key_that_points_at_it() -> None:
    state = shop()
    note = state.tables["note"]
    state.rename_table("customer", "client")

    assert "customer" not in state.tables
    client = state.table("client")
    assert client.name == "client"
    # Its own self-reference follows, and so do the other table's keys.
    assert [fk.ref_table for fk in client.foreign_keys] == ["client"]
    assert {fk.ref_table for fk in state.table("orders").foreign_keys} == {"client"}
    # A table that names neither is left as the very same object: renames stay cheap.
    assert state.tables["note"] is note


def test_rename_table_refuses_a_missing_table_and_a_taken_name() -> None:
    state = shop()
    with refused("Op: table nope does not exist in the state the earlier migrations build"):
        state.rename_table("nope", "other", operation="Op")
    with refused("table orders already exists"):
        state.rename_table("customer", "orders")
    assert state == shop()


# -- renaming a column --------------------------------------------------------------------------


def test_rename_column_follows_into_keys_indexes_checks_and_other_tables() -> None:
    state = shop()
    state.rename_column("customer", "code", "ref")
    customer = state.table("customer")

    assert customer.column_names == ("id", "ref", "region", "parent_id")
    assert customer.get_constraint("uq_customer_code_region").columns == ("ref", "region")  # type: ignore[union-attr]
    assert customer.get_index("ix_customer_region_code").elements == ("region", "ref")  # type: ignore[union-attr]
    assert customer.get_index("ix_customer_lower").elements == ("lower(ref)",)  # type: ignore[union-attr]
    # Bare words only: the qualified customer.code is another table's business.
    check = customer.get_constraint("ck_customer_code")
    assert check == CheckState("ck_customer_code", "ref > 0 AND customer.code < 9")
    # The other table's key names the column it points at; its own columns are untouched.
    fk = state.table("orders").get_constraint("fk_orders_code")
    assert fk == ForeignKeyState("fk_orders_code", ("customer_code",), "customer", ("ref",))


def test_rename_a_column_a_self_reference_points_at() -> None:
    state = shop()
    state.rename_column("customer", "id", "customer_id")
    customer = state.table("customer")
    assert customer.primary_key == PrimaryKeyState("pk_customer", ("customer_id",))
    assert customer.foreign_keys[0].ref_columns == ("customer_id",)
    assert {fk.ref_columns for fk in state.table("orders").foreign_keys} == {
        ("customer_id",),
        ("code",),
    }


def test_rename_a_column_that_is_in_a_foreign_key_of_its_own_table() -> None:
    state = shop()
    state.rename_column("orders", "customer_id", "buyer_id")
    fk = state.table("orders").get_constraint("fk_orders_customer")
    assert fk == ForeignKeyState("fk_orders_customer", ("buyer_id",), "customer", ("id",))


def test_rename_column_refuses_a_missing_column_and_a_taken_name() -> None:
    state = shop()
    with refused("Op: table customer has no column nope"):
        state.rename_column("customer", "nope", "x", operation="Op")
    with refused("Op: column customer.region already exists"):
        state.rename_column("customer", "code", "region", operation="Op")
    assert state == shop()


# -- dropping a column or a table ---------------------------------------------------------------


def test_remove_column_takes_what_covers_it_and_keeps_the_rest() -> None:
    state = shop()
    state.remove_column("customer", "region")
    customer = state.table("customer")

    assert customer.column_names == ("id", "code", "parent_id")
    # The composite unique constraint and the composite index covered it: both go.
    assert customer.get_constraint("uq_customer_code_region") is None
    assert customer.get_index("ix_customer_region_code") is None
    # What does not cover it stays.
    assert customer.get_constraint("ck_customer_code") is not None
    assert customer.get_index("ix_customer_parent") is not None
    assert customer.primary_key == PrimaryKeyState("pk_customer", ("id",))


def test_remove_column_takes_a_check_that_mentions_it_and_its_foreign_key() -> None:
    state = shop()
    state.remove_constraint("orders", "fk_orders_code")
    state.remove_column("customer", "code")
    customer = state.table("customer")
    assert customer.get_constraint("ck_customer_code") is None
    assert customer.get_constraint("uq_customer_code_region") is None

    state = shop()
    state.remove_column("customer", "parent_id")
    customer = state.table("customer")
    assert customer.foreign_keys == ()
    assert customer.get_index("ix_customer_parent") is None


def test_remove_column_refuses_while_another_table_points_at_it() -> None:
    state = shop()
    with refused(
        "Op: foreign key fk_orders_code on orders points at this column; remove that constraint first"
    ):
        state.remove_column("customer", "code", operation="Op")
    with refused("Op: table customer has no column nope"):
        state.remove_column("customer", "nope", operation="Op")
    assert state == shop()


def test_remove_table_refuses_while_referenced_and_allows_its_own_reference() -> None:
    state = shop()
    with refused(
        "Op: table orders still has foreign key fk_orders_code pointing at it; "
        "remove that constraint first"
    ):
        state.remove_table("customer", operation="Op")
    state.remove_table("orders")
    state.remove_table("customer")  # only its own self-reference is left
    assert sorted(state.tables) == ["note"]
    with refused("table orders does not exist in the state the earlier migrations build"):
        state.remove_table("orders")


def test_remove_table_names_an_unnamed_key_by_its_columns() -> None:
    state = shop()
    orders = state.table("orders")
    state.replace_table(
        TableState(
            name="orders",
            app="shop",
            columns=orders.columns,
            foreign_keys=(ForeignKeyState(None, ("customer_id",), "customer", ("id",)),),
        )
    )
    with refused(
        "table orders still has foreign key ('customer_id',) pointing at it; "
        "remove that constraint first"
    ):
        state.remove_table("customer")


# -- columns --------------------------------------------------------------------------------------


def test_add_column_brings_its_keys_and_indexes_and_refuses_a_duplicate() -> None:
    state = shop()
    fk = ForeignKeyState("fk_note_customer", ("customer_id",), "customer", ("id",))
    ix = index("ix_note_customer", "customer_id")
    state.add_column("note", col("customer_id"), constraints=[fk], indexes=[ix])
    note = state.table("note")
    assert note.column_names == ("id", "customer_id")
    assert note.foreign_keys == (fk,)
    assert note.indexes == (ix,)
    with refused("Op: column note.customer_id already exists"):
        state.add_column("note", col("customer_id"), operation="Op")


def test_alter_column_keeps_a_primary_key_column_not_null_and_autoincrement() -> None:
    state = shop()
    state.alter_column("customer", ColumnState("id", "sa.BigInteger()", nullable=True))
    assert state.table("customer").column("id") == ColumnState(
        "id", "sa.BigInteger()", nullable=False, autoincrement=True
    )
    state.alter_column("customer", ColumnState("code", "sa.String()", nullable=False))
    assert state.table("customer").column("code").nullable is False
    with refused("Op: table customer has no column nope"):
        state.alter_column("customer", col("nope"), operation="Op")


# -- indexes and constraints ----------------------------------------------------------------------


def test_index_rules() -> None:
    state = shop()
    with refused("Op: index ix_customer_parent already exists"):
        state.add_index("customer", index("ix_customer_parent", "code"), operation="Op")
    with refused("Op: table customer has no column nope"):
        state.add_index("customer", index("ix_new", "code", "nope"), operation="Op")
    # An expression names no column to check.
    state.add_index("customer", index("ix_expr", "nope + 1", expr=(True,)))
    state.rename_index("customer", "ix_expr", "ix_expr2")
    assert state.index("customer", "ix_expr2").elements == ("nope + 1",)
    state.remove_index("customer", "ix_expr2")
    with refused("Op: there is no index ix_expr2 on customer"):
        state.remove_index("customer", "ix_expr2", operation="Op")
    with refused("there is no index ix_expr2 on customer"):
        state.rename_index("customer", "ix_expr2", "x")
    assert state == shop()


def test_constraint_rules() -> None:
    state = shop()
    with refused("Op: table customer already has a primary key"):
        state.add_constraint("customer", PrimaryKeyState("pk2", ("code",)), operation="Op")
    with refused("Op: constraint fk_customer_parent already exists"):
        state.add_constraint(
            "customer", UniqueState("fk_customer_parent", ("code",)), operation="Op"
        )
    with refused("Op: table customer has no column nope"):
        state.add_constraint("customer", UniqueState("uq_x", ("nope",)), operation="Op")
    # A key to a table outside the state (exclude-tables) is the database's to judge,
    # as in CreateModel and AddField; makemigrations validates the models' keys (MV002).
    state.add_constraint(
        "customer", ForeignKeyState("fk_x", ("code",), "gone", ("id",)), operation="Op"
    )
    state.remove_constraint("customer", "fk_x")
    # A check's SQL is not read for columns.
    state.add_constraint("customer", CheckState("ck_x", "nope > 0"))
    state.rename_constraint("customer", "ck_x", "ck_y")
    assert state.constraint("customer", "ck_y") == CheckState("ck_y", "nope > 0")
    state.remove_constraint("customer", "ck_y")
    with refused("Op: there is no constraint ck_y on customer"):
        state.remove_constraint("customer", "ck_y", operation="Op")
    with refused("there is no constraint ck_y on customer"):
        state.constraint("customer", "ck_y")
    assert state == shop()


def test_constraints_stay_sorted_so_states_compare_equal() -> None:
    one, two = shop(), shop()
    one.add_constraint("note", CheckState("ck_b", "id > 1"))
    one.add_constraint("note", CheckState("ck_a", "id > 0"))
    two.add_constraint("note", CheckState("ck_a", "id > 0"))
    two.add_constraint("note", CheckState("ck_b", "id > 1"))
    assert one == two
    assert one.table("note") == two.table("note")
    assert hash(one.table("note")) == hash(two.table("note"))


def test_a_clone_is_a_snapshot() -> None:
    state = shop()
    snapshot = state.clone()
    state.rename_column("customer", "code", "ref")
    state.remove_table("note")
    assert snapshot == shop()
    assert snapshot != state


# -- the operations ask the state, in their own words --------------------------------------------


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            migrations.RenameModel("customer", "orders"),
            "Rename table customer to orders: table orders already exists",
        ),
        (
            migrations.DeleteModel("customer"),
            "Delete table customer: table orders still has foreign key fk_orders_code pointing at it; "
            "remove that constraint first",
        ),
        (
            migrations.DeleteModel("gone"),
            "Delete table gone: table gone does not exist in the state the earlier migrations build",
        ),
        (
            migrations.RemoveField("customer", "id"),
            "Remove column id from customer: foreign key fk_orders_customer on orders points at this "
            "column; remove that constraint first",
        ),
        (
            migrations.RenameField("customer", "code", "region"),
            "Rename column code on customer to region: column customer.region already exists",
        ),
        (
            migrations.RemoveIndex("customer", "nope"),
            "Remove index nope from customer: there is no index nope on customer",
        ),
        (
            migrations.RenameConstraint("orders", "nope", "x"),
            "Rename constraint nope on orders to x: there is no constraint nope on orders",
        ),
        (
            migrations.AddConstraint("note", PrimaryKeyState("pk_note", ("nope",))),
            "Add primary key pk_note(nope) to note: table note has no column nope",
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Operation) else "",
)
def test_operation_errors_name_the_operation(operation: Operation, message: str) -> None:
    state = shop()
    with refused(message):
        operation.state_forwards("shop", state)
    assert state == shop()


def test_operations_change_the_state_through_it() -> None:
    state = shop()
    migrations.RenameModel("customer", "client").state_forwards("shop", state)
    migrations.RenameField("client", "code", "ref").state_forwards("shop", state)
    migrations.RemoveField("client", "region").state_forwards("shop", state)
    expected = shop()
    expected.rename_table("customer", "client")
    expected.rename_column("client", "code", "ref")
    expected.remove_column("client", "region")
    assert state == expected
    assert state.table("orders").get_constraint("fk_orders_code") == ForeignKeyState(
        "fk_orders_code", ("customer_code",), "client", ("ref",)
    )


def test_alter_table_comment_replaces_only_that_table() -> None:
    state = shop()
    orders = state.tables["orders"]
    state.alter_table_comment("customer", "who buys")
    assert state.table("customer").comment == "who buys"
    assert state.tables["orders"] is orders
    with refused("Op: table gone does not exist in the state the earlier migrations build"):
        state.alter_table_comment("gone", "x", operation="Op")
