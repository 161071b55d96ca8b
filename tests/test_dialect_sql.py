"""Offline SQL per dialect for every kind of operation: no database needed.

What Alembic does with its op fixtures: each scenario builds a schema state from
a few setup operations, then renders one operation forwards and backwards with
the collecting editor of each dialect (the same path ``migrate-core sqlmigrate``
takes). The expected text lives in ``tests/snapshots/dialect_sql/<scenario>.sql``,
one section per dialect and direction, so a developer without PostgreSQL or
MySQL servers still sees every change to those dialects' DDL.

A snapshot that is missing or different fails the test. After a deliberate change
to the SQL, rewrite the snapshots with ``MIGRATE_CORE_UPDATE_SNAPSHOTS=1 pytest
tests/test_dialect_sql.py`` and read the diff before committing it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
import sqlalchemy as sa

from migrate_core import migrations
from migrate_core.db import dialects
from migrate_core.migrations.operations import Operation
from migrate_core.schema.state import ProjectState

SNAPSHOTS = Path(__file__).parent / "snapshots" / "dialect_sql"
DIALECTS = ("sqlite", "postgresql", "mysql")
APP = "shop"


def _author() -> migrations.CreateModel:
    return migrations.CreateModel(
        "author",
        columns=[
            sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
            sa.Column("name", sa.String(50), nullable=False),
            sa.Column("email", sa.String(100)),
        ],
        constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
        indexes=[sa.Index("ix_author_name", "name")],
        comment="people who write",
    )


def _book() -> migrations.CreateModel:
    return migrations.CreateModel(
        "book",
        columns=[
            sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
            sa.Column("author_id", sa.Integer(), nullable=False),
            sa.Column("title", sa.String(200), nullable=False, server_default="untitled"),
            sa.Column("status", sa.Enum("draft", "published", name="book_status")),
            sa.Column("price", sa.Numeric(10, 2)),
        ],
        constraints=[
            sa.PrimaryKeyConstraint("id", name="pk_book"),
            sa.ForeignKeyConstraint(
                ["author_id"], ["author.id"], name="fk_book_author_id_author", ondelete="CASCADE"
            ),
            sa.UniqueConstraint("title", "author_id", name="uq_book_title_author_id"),
            sa.CheckConstraint("price >= 0", name="ck_book_price_positive"),
        ],
    )


BASE = (_author, _book)


@dataclass
class Scenario:
    name: str
    operation: Operation
    setup: tuple = BASE
    extra: list[Operation] = field(default_factory=list)


def _scenarios() -> list[Scenario]:
    return [
        Scenario("create_model", _book(), setup=(_author,)),
        Scenario("delete_model", migrations.DeleteModel("book")),
        Scenario("rename_model", migrations.RenameModel("book", "volume")),
        Scenario("alter_model_comment", migrations.AlterModelComment("author", "writers")),
        Scenario("alter_model_comment_drop", migrations.AlterModelComment("author", None)),
        Scenario("add_field_nullable", migrations.AddField("author", sa.Column("bio", sa.Text()))),
        Scenario(
            "add_field_fill_value",
            migrations.AddField(
                "author", sa.Column("rank", sa.Integer(), nullable=False), fill_value=0
            ),
        ),
        Scenario(
            "add_field_server_default",
            migrations.AddField(
                "author",
                sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
            ),
        ),
        Scenario(
            "add_field_foreign_key",
            migrations.AddField(
                "book", sa.Column("editor_id", sa.Integer(), sa.ForeignKey("author.id"))
            ),
        ),
        Scenario(
            "add_field_enum",
            migrations.AddField(
                "author", sa.Column("tier", sa.Enum("free", "paid", name="author_tier"))
            ),
        ),
        Scenario("remove_field", migrations.RemoveField("author", "email")),
        Scenario("remove_field_indexed", migrations.RemoveField("author", "name")),
        Scenario("remove_field_enum", migrations.RemoveField("book", "status")),
        Scenario(
            "alter_field_type",
            migrations.AlterField("book", sa.Column("price", sa.Numeric(12, 2))),
        ),
        Scenario(
            "alter_field_nullable",
            migrations.AlterField("author", sa.Column("email", sa.String(100), nullable=False)),
        ),
        Scenario(
            "alter_field_nullable_fill_value",
            migrations.AlterField(
                "author", sa.Column("email", sa.String(100), nullable=False), fill_value="-"
            ),
        ),
        Scenario(
            "alter_field_default",
            migrations.AlterField(
                "author", sa.Column("email", sa.String(100), server_default="nobody")
            ),
        ),
        Scenario(
            "alter_field_comment",
            migrations.AlterField(
                "author", sa.Column("email", sa.String(100), comment="where to write")
            ),
        ),
        Scenario(
            "alter_field_enum_values",
            migrations.AlterField(
                "book",
                sa.Column("status", sa.Enum("draft", "published", "retired", name="book_status")),
            ),
        ),
        Scenario(
            "alter_field_enum_values_removed",
            migrations.AlterField(
                "book", sa.Column("status", sa.Enum("published", "draft", name="book_status"))
            ),
        ),
        Scenario(
            "alter_field_type_with_default",
            migrations.AlterField(
                "book",
                sa.Column(
                    "title",
                    sa.Enum("untitled", "other", name="book_title"),
                    nullable=False,
                    server_default="untitled",
                ),
            ),
        ),
        Scenario(
            "alter_fields_one_rebuild",
            migrations.AlterField("author", sa.Column("email", sa.String(200))),
            extra=[
                migrations.AddField(
                    "author", sa.Column("rank", sa.Integer(), nullable=False), fill_value=0
                ),
                migrations.AlterField(
                    "author",
                    sa.Column("rank", sa.BigInteger(), nullable=False, server_default="1"),
                ),
                migrations.RenameField("author", "email", "mail"),
            ],
        ),
        Scenario(
            "rename_model_with_constraints",
            migrations.RenameModel("book", "volume"),
            extra=[
                migrations.RenameConstraint("volume", "pk_book", "pk_volume"),
                migrations.RenameConstraint(
                    "volume", "uq_book_title_author_id", "uq_volume_title_author_id"
                ),
                migrations.RenameConstraint(
                    "volume", "ck_book_price_positive", "ck_volume_price_positive"
                ),
                migrations.RenameConstraint(
                    "volume", "fk_book_author_id_author", "fk_volume_author_id_author"
                ),
            ],
        ),
        Scenario(
            "alter_field_to_enum",
            migrations.AlterField(
                "author", sa.Column("email", sa.Enum("a", "b", name="author_email"))
            ),
        ),
        Scenario(
            "alter_field_autoincrement_off",
            migrations.AlterField(
                "author", sa.Column("id", sa.Integer(), nullable=False, autoincrement=False)
            ),
        ),
        Scenario("rename_field", migrations.RenameField("author", "email", "mail")),
        Scenario("rename_field_serial", migrations.RenameField("author", "id", "author_id")),
        Scenario("rename_field_referenced", migrations.RenameField("author", "id", "key")),
        Scenario(
            "add_index",
            migrations.AddIndex("author", sa.Index("ix_author_email", "email", unique=True)),
        ),
        Scenario(
            "add_index_on_foreign_key",
            migrations.AddIndex("book", sa.Index("ix_book_author_id_title", "author_id", "title")),
        ),
        Scenario("remove_index", migrations.RemoveIndex("author", "ix_author_name")),
        Scenario(
            "rename_index", migrations.RenameIndex("author", "ix_author_name", "ix_author_nom")
        ),
        Scenario(
            "add_constraint_unique",
            migrations.AddConstraint(
                "author", sa.UniqueConstraint("email", name="uq_author_email")
            ),
        ),
        Scenario(
            "add_constraint_check",
            migrations.AddConstraint(
                "author", sa.CheckConstraint("length(name) > 0", name="ck_author_name_length")
            ),
        ),
        Scenario(
            "add_constraint_foreign_key",
            migrations.AddConstraint(
                "book",
                sa.ForeignKeyConstraint(["id"], ["author.id"], name="fk_book_id_author"),
            ),
        ),
        Scenario(
            "remove_constraint_unique",
            migrations.RemoveConstraint("book", "uq_book_title_author_id"),
        ),
        Scenario(
            "remove_constraint_check", migrations.RemoveConstraint("book", "ck_book_price_positive")
        ),
        Scenario(
            "remove_constraint_foreign_key",
            migrations.RemoveConstraint("book", "fk_book_author_id_author"),
        ),
        Scenario(
            "remove_constraint_primary_key", migrations.RemoveConstraint("author", "pk_author")
        ),
        Scenario(
            "rename_constraint_unique",
            migrations.RenameConstraint("book", "uq_book_title_author_id", "uq_book_title"),
        ),
        Scenario(
            "rename_constraint_check",
            migrations.RenameConstraint("book", "ck_book_price_positive", "ck_book_price"),
        ),
        Scenario(
            "rename_constraint_foreign_key",
            migrations.RenameConstraint("book", "fk_book_author_id_author", "fk_book_author"),
        ),
        Scenario(
            "rename_constraint_primary_key",
            migrations.RenameConstraint("author", "pk_author", "author_pkey"),
        ),
        Scenario(
            "run_sql",
            migrations.RunSQL(
                ["UPDATE author SET name = '100%' WHERE name = ':x';", "DELETE FROM book"],
                reverse_sql="SELECT 1",
            ),
        ),
    ]


SCENARIOS = {s.name: s for s in _scenarios()}


def render(dialect: str, scenario: Scenario, *, backwards: bool) -> str:
    """The SQL of ``scenario.operation`` on the state its setup builds, as sqlmigrate prints it."""
    before = ProjectState()
    for make in scenario.setup:
        make().state_forwards(APP, before)
    # The operation and the scenario's extra ones are one migration: SQLite's rebuilds
    # of a table are coalesced over it.
    steps = []
    for operation in [scenario.operation, *scenario.extra]:
        after = before.clone()
        operation.state_forwards(APP, after)
        steps.append((operation, before, after))
        before = after
    editor = dialects.collecting_editor(dialect)
    if backwards:
        for operation, before, after in reversed(steps):
            operation.database_backwards(APP, editor, after, before)
    else:
        for operation, before, after in steps:
            operation.database_forwards(APP, editor, before, after)
    editor.finish()  # the end of the migration: what SQLite deferred
    return editor.sql_output()


def snapshot_text(scenario: Scenario) -> str:
    parts = []
    for dialect in DIALECTS:
        for backwards in (False, True):
            if backwards and not scenario.operation.reversible:
                continue
            heading = f"-- == {dialect} {'backwards' if backwards else 'forwards'} =="
            parts.append(f"{heading}\n{render(dialect, scenario, backwards=backwards)}")
    return "\n".join(parts)


def test_sqlite_rebuilds_each_table_once_per_migration() -> None:
    for name in ("alter_fields_one_rebuild", "rename_model_with_constraints"):
        for backwards in (False, True):
            sql = render("sqlite", SCENARIOS[name], backwards=backwards)
            assert sql.count("CREATE TABLE ") == 1, (name, backwards, sql)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_offline_sql(name: str) -> None:
    path = SNAPSHOTS / f"{name}.sql"
    actual = snapshot_text(SCENARIOS[name])
    if os.environ.get("MIGRATE_CORE_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; write it with MIGRATE_CORE_UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text(encoding="utf-8")


def test_every_operation_kind_has_a_scenario() -> None:
    kinds = {type(s.operation).__name__ for s in SCENARIOS.values()}
    wanted = set(migrations.__all__) - {"Migration", "Operation", "RunPython"}
    assert wanted <= kinds, f"no offline SQL scenario for {sorted(wanted - kinds)}"


def test_snapshots_have_no_strays() -> None:
    assert {p.stem for p in SNAPSHOTS.glob("*.sql")} == set(SCENARIOS)


def test_mariadb_renders_as_mysql() -> None:
    scenario = SCENARIOS["rename_index"]
    assert render("mariadb", scenario, backwards=False) == render(
        "mysql", scenario, backwards=False
    )


# -- the registry -------------------------------------------------------------------------------


def test_registry_finds_a_backend_by_name_url_and_engine(tmp_path: Path) -> None:
    sqlite = dialects.get("sqlite")
    assert dialects.get(f"sqlite:///{tmp_path / 'x.db'}") is sqlite
    assert dialects.get(sa.engine.make_url("sqlite://")) is sqlite
    engine = sa.create_engine("sqlite://")
    try:
        assert dialects.get(engine) is sqlite
        with engine.connect() as conn:
            assert dialects.get(conn) is sqlite
    finally:
        engine.dispose()
    assert dialects.get("mariadb") is dialects.get("mysql+pymysql://u@h/db")
    assert dialects.get("mariadb+pymysql://u@h/db") is dialects.get("mysql")


def test_unknown_dialect_is_a_usage_error_listing_the_supported_ones() -> None:
    from migrate_core.errors import ConfigError
    from migrate_core.errors import exit_code_for

    with pytest.raises(ConfigError) as caught:
        dialects.collecting_editor("oracle")
    assert str(caught.value) == (
        "no migrate-core dialect module for 'oracle'; supported: sqlite, postgresql, mysql, mariadb"
    )
    assert exit_code_for(caught.value) == 2


def test_every_registered_name_has_a_backend_with_an_editor() -> None:
    from migrate_core.db.schema_editor import SchemaEditor

    for name in dialects.names():
        backend = dialects.get(name)
        assert issubclass(backend.editor_class, SchemaEditor)
        assert backend.editor_class is not SchemaEditor


def test_a_malformed_url_is_not_taken_for_a_dialect_name() -> None:
    from migrate_core.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"^--database-url: not a database URL: `touch x` \(expected "
    ):
        dialects.name_of_url("`touch x`", option="--database-url")
    assert dialects.name_of_url(None, option="--database-url") == dialects.DEFAULT
    assert dialects.name_of_url("mysql+pymysql://u@h/db", option="--database-url") == "mysql"
