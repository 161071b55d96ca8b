"""The autodetector on schema states alone: which operations, in which order, asking what.

No database and no files: the states come from SQLAlchemy tables, the way
``makemigrations`` reads the models. Every plan is also replayed on the "before"
state (``state_forwards``, migration by migration in dependency order) and must
arrive exactly at the "after" state: an operation in the wrong order or one too
few fails there even when the test does not look at it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
import sqlalchemy as sa

from migrate_core.errors import QuestionRequired
from migrate_core.migrations.autodetector import PlannedMigration
from migrate_core.migrations.autodetector import detect_changes
from migrate_core.migrations.questioner import NonInteractiveQuestioner
from migrate_core.migrations.questioner import Questioner
from migrate_core.migrations.questioner import Rename
from migrate_core.schema import naming
from migrate_core.schema import sqla
from migrate_core.schema import state as st

Builder = Callable[[sa.MetaData], object]


def project_state(*apps: tuple[str, Builder]) -> st.ProjectState:
    """The state of several apps, each a function that adds tables to its own MetaData."""
    state = st.ProjectState()
    shared = sa.MetaData()  # one MetaData, so keys across apps resolve
    owners: dict[str, str] = {}
    for app, build in apps:
        known = set(shared.tables)
        build(shared)
        for name in set(shared.tables) - known:
            owners[name] = app
    naming.assign_default_names(shared)
    for table in shared.tables.values():
        state.add_table(sqla.table_state(table, owners[table.name]))
    return state


def shop(build: Builder) -> st.ProjectState:
    return project_state(("shop", build))


@dataclass
class Scripted(Questioner):
    """Answers from a script and records every question."""

    answers: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def ask_rename_table(self, old: st.TableState, new: st.TableState) -> bool:
        key = f"table {old.name}->{new.name}"
        self.asked.append(key)
        return bool(self.answers.get(key, False))

    def ask_rename_column(self, table: str, old: st.ColumnState, new: st.ColumnState) -> bool:
        key = f"column {table}.{old.name}->{new.name}"
        self.asked.append(key)
        return bool(self.answers.get(key, False))

    def ask_fill_value(self, table: str, column: st.ColumnState, *, altering: bool) -> Any:
        key = f"{'alter' if altering else 'add'} {table}.{column.name}"
        self.asked.append(key)
        return self.answers.get(key, "x")


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """A hang (the autodetector once looped forever on a dropped cycle) fails instead."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds}s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def plan(
    before: st.ProjectState,
    after: st.ProjectState,
    questioner: Questioner | None = None,
    *,
    apps: tuple[str, ...] = ("shop",),
    reach: bool = True,
) -> dict[str, list[PlannedMigration]]:
    questioner = questioner if questioner is not None else Scripted()
    with time_limit(10):
        planned = detect_changes(before, after, questioner, apps=apps)
    if reach:
        assert_reaches(before, after, planned, apps)
    return planned


def assert_reaches(
    before: st.ProjectState,
    after: st.ProjectState,
    planned: dict[str, list[PlannedMigration]],
    apps: tuple[str, ...],
) -> None:
    """Replay the plan in an order its dependencies allow; it must build ``after`` exactly."""
    current = before.clone()
    done: set[tuple[str, int]] = set()
    todo = [(app, i) for app, migrations in planned.items() for i in range(len(migrations))]

    def ready(app: str, i: int) -> bool:
        for kind, other in planned[app][i].dependencies:
            if kind == "__new__" and (other, 0) not in done:
                return False
            if kind == "__self__" and (other, 0) not in done:
                return False
        return i == 0 or (app, i - 1) in done

    while todo:
        runnable = [key for key in todo if ready(*key)]
        assert runnable, f"dependencies never satisfied: {todo}"
        app, i = runnable[0]
        for op in planned[app][i].operations:
            op.state_forwards(app, current)
        done.add((app, i))
        todo.remove((app, i))
    assert current.only_apps(apps).tables == after.only_apps(apps).tables


def ops(planned: dict[str, list[PlannedMigration]], app: str = "shop") -> list[str]:
    return [op.describe() for m in planned.get(app, []) for op in m.operations]


# -- tables ----------------------------------------------------------------------------------------


def customer(m: sa.MetaData) -> None:
    sa.Table("customer", m, sa.Column("id", sa.Integer, primary_key=True))


def order(m: sa.MetaData) -> None:
    sa.Table(
        "order",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.ForeignKey("customer.id"), nullable=False),
    )


def line(m: sa.MetaData) -> None:
    sa.Table(
        "line",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.ForeignKey("order.id")),
    )


def both(*builders: Builder) -> Builder:
    def build(m: sa.MetaData) -> None:
        for b in builders:
            b(m)

    return build


def nothing(m: sa.MetaData) -> None:
    pass


def test_same_state_gives_nothing() -> None:
    state = shop(both(customer, order))
    assert plan(state, state.clone()) == {}


def test_new_tables_referenced_ones_first() -> None:
    planned = plan(shop(nothing), shop(both(line, order, customer)))
    assert ops(planned) == ["Create table customer", "Create table order", "Create table line"]
    assert planned["shop"][0].dependencies == []


def test_self_reference_stays_inside_create() -> None:
    def category(m: sa.MetaData) -> None:
        sa.Table(
            "category",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("parent_id", sa.ForeignKey("category.id")),
        )

    planned = plan(shop(nothing), shop(category))
    assert ops(planned) == ["Create table category"]


def cycle(m: sa.MetaData) -> None:
    sa.Table(
        "warehouse",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("manager_id", sa.ForeignKey("manager.id", use_alter=True)),
    )
    sa.Table(
        "manager",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("warehouse_id", sa.ForeignKey("warehouse.id")),
    )


def test_new_cycle_is_closed_by_a_later_constraint() -> None:
    planned = plan(shop(customer), shop(both(customer, cycle)))
    assert ops(planned) == [
        "Create table manager",
        "Create table warehouse",
        "Add foreign key fk_manager_warehouse_id_warehouse (warehouse_id) -> warehouse(id) to manager",
    ]


def test_dropped_tables_referencing_ones_first() -> None:
    planned = plan(shop(both(customer, order, line)), shop(customer))
    assert ops(planned) == ["Delete table line", "Delete table order"]


def test_dropped_cycle_is_cut_once_and_ends() -> None:
    planned = plan(shop(both(customer, cycle)), shop(customer))
    assert ops(planned) == [
        "Remove constraint fk_manager_warehouse_id_warehouse from manager",
        "Delete table warehouse",
        "Delete table manager",
    ]


def test_dropped_table_loses_the_keys_of_survivors_first() -> None:
    def order_without_key(m: sa.MetaData) -> None:
        sa.Table(
            "order",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("customer_id", sa.Integer, nullable=False),
        )

    planned = plan(shop(both(customer, order)), shop(order_without_key))
    assert ops(planned) == [
        "Remove constraint fk_order_customer_id_customer from order",
        "Delete table customer",
    ]


def test_table_and_its_references_renamed_together() -> None:
    renamed = shop(
        lambda m: (
            sa.Table("client", m, sa.Column("id", sa.Integer, primary_key=True)),
            sa.Table(
                "order",
                m,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("customer_id", sa.ForeignKey("client.id"), nullable=False),
            ),
        )
    )
    q = Scripted(answers={"table customer->client": True})
    planned = plan(shop(both(customer, order)), renamed, q)
    assert q.asked == ["table customer->client"]
    assert ops(planned) == [
        "Rename table customer to client",
        "Rename constraint pk_customer on client to pk_client",
        "Rename constraint fk_order_customer_id_customer on order to fk_order_customer_id_client",
    ]


# -- columns ---------------------------------------------------------------------------------------


def product(*columns: sa.Column[Any], extra: tuple[Any, ...] = ()) -> st.ProjectState:
    return shop(
        lambda m: sa.Table(
            "product", m, sa.Column("id", sa.Integer, primary_key=True), *columns, *extra
        )
    )


def test_rename_is_asked_only_for_an_equal_definition() -> None:
    before = product(sa.Column("name", sa.String(100)), sa.Column("code", sa.String(10)))
    after = product(sa.Column("title", sa.String(100)), sa.Column("ref", sa.String(20)))
    q = Scripted(answers={"column product.name->title": True})

    planned = plan(before, after, q)

    assert q.asked == ["column product.name->title"]
    assert ops(planned) == [
        "Rename column name on product to title",
        "Add column ref to product",
        "Remove column code from product",
    ]


def test_declined_renames_are_recorded_for_the_output() -> None:
    before = product(sa.Column("name", sa.String(100)))
    after = product(sa.Column("title", sa.String(100)))
    q = NonInteractiveQuestioner()

    planned = plan(before, after, q)

    assert ops(planned) == ["Add column title to product", "Remove column name from product"]
    assert q.declined_renames == [("product", "name", "title")]


def test_declared_rename_holds_when_the_column_changed_too() -> None:
    before = product(sa.Column("name", sa.String(100)))
    after = product(sa.Column("title", sa.String(200)))
    q = NonInteractiveQuestioner(renames=frozenset({Rename("product", "name", "title")}))

    planned = plan(before, after, q)

    assert ops(planned) == [
        "Rename column name on product to title",
        "Alter column title on product",
    ]


def test_table_rename_does_not_depend_on_column_order() -> None:
    """A migration appends an added column; the model may declare it first."""
    before = shop(
        lambda m: sa.Table(
            "item", m, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.Integer)
        )
    )
    after = shop(
        lambda m: sa.Table(
            "article", m, sa.Column("a", sa.Integer), sa.Column("id", sa.Integer, primary_key=True)
        )
    )
    q = Scripted(answers={"table item->article": True})

    # The states differ in column order only, which no database change can (or need) fix.
    planned = plan(before, after, q, reach=False)

    assert q.asked == ["table item->article"]
    assert ops(planned) == [
        "Rename table item to article",
        "Rename constraint pk_item on article to pk_article",
    ]


@pytest.mark.parametrize(
    ("column", "asked"),
    [
        (sa.Column("sku", sa.String(10)), []),
        (sa.Column("sku", sa.String(10), nullable=False), ["add product.sku"]),
        (sa.Column("sku", sa.String(10), nullable=False, server_default="-"), []),
        (sa.Column("sku", sa.Integer, sa.Identity(), nullable=False), []),
        (sa.Column("sku", sa.Integer, sa.Computed("id * 2"), nullable=False), []),
    ],
    ids=["nullable", "not-null", "server-default", "identity", "computed"],
)
def test_one_off_value_asked_only_when_rows_need_one(
    column: sa.Column[Any], asked: list[str]
) -> None:
    q = Scripted()
    plan(product(), product(column), q)
    assert q.asked == asked


def test_one_off_value_goes_into_the_operation() -> None:
    q = Scripted(answers={"add product.sku": "n/a"})
    planned = plan(product(), product(sa.Column("sku", sa.String(10), nullable=False)), q)
    (op,) = planned["shop"][0].operations
    assert op.fill_value == "n/a"  # type: ignore[attr-defined]
    assert 'fill_value="n/a"' in op.render().text


@pytest.mark.parametrize(
    ("old", "new", "asked"),
    [
        (
            sa.Column("name", sa.String(9)),
            sa.Column("name", sa.String(9), nullable=False),
            ["alter product.name"],
        ),
        (
            sa.Column("name", sa.String(9)),
            sa.Column("name", sa.String(9), nullable=False, server_default="x"),
            [],
        ),
        (sa.Column("name", sa.String(9), nullable=False), sa.Column("name", sa.String(9)), []),
        (
            sa.Column("name", sa.String(9), nullable=False),
            sa.Column("name", sa.String(20), nullable=False),
            [],
        ),
    ],
    ids=["null-to-not-null", "with-default", "not-null-to-null", "type-only"],
)
def test_one_off_value_when_null_becomes_not_null(
    old: sa.Column[Any], new: sa.Column[Any], asked: list[str]
) -> None:
    q = Scripted()
    planned = plan(product(old), product(new), q)
    assert q.asked == asked
    assert ops(planned) == ["Alter column name on product"]


def test_noinput_question_names_the_ways_out() -> None:
    with pytest.raises(QuestionRequired) as caught:
        plan(
            product(),
            product(sa.Column("sku", sa.String(10), nullable=False)),
            NonInteractiveQuestioner(),
        )
    text = str(caught.value)
    assert "Cannot add NOT NULL column sku to product" in text
    assert "server_default=" in text and "Mapped[str | None]" in text and "interactively" in text


def test_changes_to_a_column_are_one_alter() -> None:
    before = product(sa.Column("price", sa.Numeric(10, 2), server_default="0", comment="net"))
    after = product(sa.Column("price", sa.Numeric(12, 3), nullable=False, server_default="1"))
    planned = plan(before, after, Scripted(answers={"alter product.price": None}))
    (op,) = planned["shop"][0].operations
    assert op.describe_change(before) == (
        "Alter column price on product (NUMERIC(10, 2) -> NUMERIC(12, 3); NULL -> NOT NULL; "
        'default "0" -> "1"; comment)'
    )


# -- constraints, indexes, comments --------------------------------------------------------------


def test_same_definition_under_a_new_name_is_renamed() -> None:
    before = product(
        sa.Column("sku", sa.String(10)),
        extra=(sa.UniqueConstraint("sku", name="uq_old"), sa.Index("ix_old", "sku")),
    )
    after = product(
        sa.Column("sku", sa.String(10)),
        extra=(sa.UniqueConstraint("sku", name="uq_new"), sa.Index("ix_new", "sku")),
    )
    assert ops(plan(before, after)) == [
        "Rename constraint uq_old on product to uq_new",
        "Rename index ix_old on product to ix_new",
    ]


def test_changed_definition_under_the_same_name_is_dropped_and_added() -> None:
    before = product(
        sa.Column("a", sa.Integer),
        sa.Column("b", sa.Integer),
        extra=(sa.Index("ix_product_ab", "a", "b"), sa.CheckConstraint("a > 0", name="ck_a")),
    )
    after = product(
        sa.Column("a", sa.Integer),
        sa.Column("b", sa.Integer),
        extra=(
            sa.Index("ix_product_ab", "a", "b", unique=True),
            sa.CheckConstraint("a > 1", name="ck_a"),
        ),
    )
    assert ops(plan(before, after)) == [
        "Remove constraint ck_a from product",
        "Remove index ix_product_ab from product",
        "Create unique index ix_product_ab on product(a, b)",
        "Add check constraint ck_a (a > 1) to product",
    ]


def test_changed_foreign_key_options_drop_and_add_it() -> None:
    def cascading(m: sa.MetaData) -> None:
        sa.Table(
            "order",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(
                "customer_id",
                sa.ForeignKey("customer.id", ondelete="CASCADE", onupdate="CASCADE"),
                nullable=False,
            ),
        )

    planned = plan(shop(both(customer, order)), shop(both(customer, cascading)))
    assert ops(planned) == [
        "Remove constraint fk_order_customer_id_customer from order",
        "Add foreign key fk_order_customer_id_customer (customer_id) -> customer(id) to order",
    ]
    assert 'ondelete="CASCADE"' in planned["shop"][0].operations[1].render().text


def test_an_unnamed_equal_constraint_is_left_alone() -> None:
    """A hand-written migration may leave a check unnamed; the model's named twin is the same."""
    before = product(sa.Column("a", sa.Integer))
    table = before.tables["product"]
    before.replace_table(table.with_constraint(st.CheckState(None, "a > 0")))
    after = product(sa.Column("a", sa.Integer), extra=(sa.CheckConstraint("a > 0", name="ck_a"),))
    assert plan(before, after, reach=False) == {}


def test_comments() -> None:
    before = shop(lambda m: sa.Table("t", m, sa.Column("id", sa.Integer, primary_key=True)))
    after = shop(
        lambda m: sa.Table(
            "t", m, sa.Column("id", sa.Integer, primary_key=True, comment="key"), comment="a table"
        )
    )
    assert ops(plan(before, after)) == ["Alter column id on t", "Alter comment on table t"]


def test_new_column_with_a_key_carries_it_inline() -> None:
    before = shop(
        both(customer, lambda m: sa.Table("o", m, sa.Column("id", sa.Integer, primary_key=True)))
    )
    after = shop(
        both(
            customer,
            lambda m: sa.Table(
                "o",
                m,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("customer_id", sa.ForeignKey("customer.id")),
            ),
        )
    )
    planned = plan(before, after)
    (op,) = planned["shop"][0].operations
    assert 'sa.ForeignKey("customer.id", name="fk_o_customer_id_customer")' in op.render().text


# -- several apps ----------------------------------------------------------------------------------


def test_key_to_a_new_table_of_another_app_depends_on_its_migration() -> None:
    planned = plan(
        project_state(),
        project_state(("shop", customer), ("billing", order)),
        apps=("billing", "shop"),
    )
    assert list(planned) == ["shop", "billing"]
    assert planned["billing"][0].dependencies == [("__new__", "shop")]


def test_key_to_an_existing_table_of_another_app_depends_on_its_leaf() -> None:
    from migrate_core.migrations.graph import MigrationGraph

    graph = MigrationGraph()
    graph.add_node(("shop", "0001_initial"))
    before = project_state(("shop", customer))
    after = project_state(("shop", customer), ("billing", order))
    with time_limit(10):
        planned = detect_changes(before, after, Scripted(), apps=("billing", "shop"), graph=graph)
    assert planned["billing"][0].dependencies == [("shop", "0001_initial")]


def test_cycle_between_two_apps_splits_one_migration() -> None:
    def person(m: sa.MetaData) -> None:
        sa.Table(
            "person",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("team_id", sa.ForeignKey("team.id")),
        )

    def team(m: sa.MetaData) -> None:
        sa.Table(
            "team",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("lead_id", sa.ForeignKey("person.id")),
        )

    planned = plan(
        project_state(),
        project_state(("people", person), ("teams", team)),
        apps=("people", "teams"),
    )
    counts = {app: len(migrations) for app, migrations in planned.items()}
    assert sorted(counts.values()) == [1, 2]
    split = next(app for app, n in counts.items() if n == 2)
    other = next(app for app in counts if app != split)
    second = planned[split][1]
    assert [type(op).__name__ for op in second.operations] == ["AddConstraint"]
    assert set(second.dependencies) == {("__self__", split), ("__new__", other)}


def test_dropping_a_table_another_app_pointed_at_runs_after_that_app() -> None:
    def currency(m: sa.MetaData) -> None:
        sa.Table("currency", m, sa.Column("code", sa.String(3), primary_key=True))

    def invoice(m: sa.MetaData) -> None:
        sa.Table(
            "invoice",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("currency_code", sa.ForeignKey("currency.code")),
        )

    before = project_state(("shop", both(customer, currency)), ("billing", invoice))
    after = project_state(("shop", customer))
    planned = plan(before, after, apps=("billing", "shop"))
    assert list(planned) == ["billing", "shop"]
    assert ("__new__", "billing") in planned["shop"][0].dependencies


def test_dropping_a_column_another_app_pointed_at_runs_after_that_app() -> None:
    def coded(m: sa.MetaData) -> None:
        sa.Table(
            "product",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(10), unique=True),
        )

    def uncoded(m: sa.MetaData) -> None:
        sa.Table("product", m, sa.Column("id", sa.Integer, primary_key=True))

    def line_by_code(m: sa.MetaData) -> None:
        sa.Table(
            "line",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("product_code", sa.ForeignKey("product.code")),
        )

    def line_plain(m: sa.MetaData) -> None:
        sa.Table(
            "line",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("product_code", sa.String(10)),
        )

    before = project_state(("shop", coded), ("billing", line_by_code))
    after = project_state(("shop", uncoded), ("billing", line_plain))
    planned = plan(before, after, apps=("billing", "shop"))
    assert list(planned) == ["billing", "shop"]
    assert ("__new__", "billing") in planned["shop"][0].dependencies


# Two indexes (or constraints) may have the same definition under different names: each is
# its own object, created, kept, renamed and dropped on its own (found by hypothesis).


def indexed(*names: str) -> st.ProjectState:
    return product(sa.Column("a", sa.Integer), extra=tuple(sa.Index(n, "a") for n in names))


def uniques(*names: str) -> st.ProjectState:
    return product(
        sa.Column("a", sa.Integer), extra=tuple(sa.UniqueConstraint("a", name=n) for n in names)
    )


def test_a_second_index_like_the_first_is_created() -> None:
    assert ops(plan(indexed("ix_1"), indexed("ix_1", "ix_2"))) == [
        "Create index ix_2 on product(a)"
    ]


def test_one_of_two_equal_indexes_is_dropped() -> None:
    assert ops(plan(indexed("ix_1", "ix_2"), indexed("ix_1"))) == ["Remove index ix_2 from product"]


def test_two_equal_indexes_are_renamed_one_to_one() -> None:
    assert ops(plan(indexed("ix_1", "ix_2"), indexed("ix_3", "ix_4"))) == [
        "Rename index ix_1 on product to ix_3",
        "Rename index ix_2 on product to ix_4",
    ]


def test_equal_unique_constraints_are_separate_too() -> None:
    assert ops(plan(uniques("uq_1"), uniques("uq_1", "uq_2"))) == [
        "Add unique constraint uq_2 (a) to product"
    ]
    assert ops(plan(uniques("uq_1", "uq_2"), uniques("uq_2"))) == [
        "Remove constraint uq_1 from product"
    ]
    assert ops(plan(uniques("uq_1", "uq_2"), uniques("uq_2", "uq_3"))) == [
        "Rename constraint uq_1 on product to uq_3"
    ]
