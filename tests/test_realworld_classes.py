"""Classes of model defects found by replaying public projects' model histories.

Each test is a small model of our own showing one class (no project code is copied):
what the replay stopped on, and what migrate-core does now. They run on every
database the ``single`` fixture is given (SQLite always, PostgreSQL and MariaDB when
their URLs are set).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from helpers_models import LawProject
from test_roundtrip import PLAIN_HEAD
from test_roundtrip import evolve
from test_roundtrip import single  # noqa: F401  (fixture)

from migrate_core.db.introspection import diff_schemas
from migrate_core.db.scratch import create_all_and_reflect

# -- a NOT NULL column whose model gives a constant default= ---------------------------------------
# A Flask-style project adds ``state = Column(String(80), nullable=False, default="visible")``
# to a table with rows. The model already says what new rows hold; makemigrations
# --noinput stopped with exit 3 asking for a one-off value all the same.

ARTICLE = """
class Article(Base):
    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str | None] = mapped_column(sa.String(40))
"""

ARTICLE_WITH_DEFAULTS = """
class Article(Base):
    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(40), default="untitled")
    state: Mapped[str] = mapped_column(sa.String(20), default="visible")
    hidden: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
"""


def test_a_constant_python_default_fills_the_rows_of_a_new_not_null_column(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + ARTICLE})
    single.execute(
        "INSERT INTO article (id, title) VALUES (1, 'kept')",
        "INSERT INTO article (id, title) VALUES (2, NULL)",
    )
    names = single.step({"shop": PLAIN_HEAD + ARTICLE_WITH_DEFAULTS})
    source = single.migration_source(names[0])
    for needle in ("fill_value='untitled'", "fill_value='visible'", "fill_value=False"):
        assert needle.replace("'", '"') in source, source
    # the new columns got the model's values; the NULL title became NOT NULL with its default
    assert sorted(single.rows("SELECT id, title, state, hidden, position FROM article")) == [
        (1, "kept", "visible", False, 0),
        (2, "untitled", "visible", False, 0),
    ]
    # the columns keep no server default: a Python default is no schema
    assert "server_default" not in source
    single.assert_unapplies_to_nothing()


def test_a_callable_python_default_is_no_fill_and_is_still_asked(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + ARTICLE})
    single.set_models(
        "shop",
        PLAIN_HEAD
        + "import uuid\n"
        + ARTICLE
        + "    token: Mapped[str] = mapped_column(sa.String(36), default=lambda: str(uuid.uuid4()))\n",
    )
    result = single.makemigrations("--noinput", expect=3)
    assert "Cannot add NOT NULL column token to article" in result.output
    assert len(single.migration_files()) == 1, "nothing is written when the question stops it"


# -- foreign keys in a cycle (users.team_id -> teams, teams.captain_id -> users) ---------------------
# create_all orders such tables itself; the drift check's create_all went through
# ``metadata.sorted_tables`` first, which printed SQLAlchemy's "Cannot correctly sort
# tables" warning on every check run.

CYCLE = """
class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    captain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"))


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id"))
"""


def test_tables_whose_keys_form_a_cycle_are_created_for_drift_without_a_warning(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + CYCLE})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        created = create_all_and_reflect(
            single.other_url, single.metadata(), {"team", "member"}, empty_first=True
        )
    assert diff_schemas(created, single.reflect(single.url)) == []
    evolve(single, CYCLE)


# -- a GUID TypeDecorator that is UUID on PostgreSQL and CHAR(32) elsewhere -------------------------
# Written into the migration as ``sa.CHAR(32).with_variant(postgresql.UUID(), "postgresql")``;
# the reversibility check's synthetic row gave it "a" (a CHAR's value) and PostgreSQL
# refused it, so every table with such a key went without the row proof.

GUID_TABLE = """
from sqlalchemy.dialects import postgresql


class Guid(sa.types.TypeDecorator):
    impl = sa.CHAR
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID())
        return dialect.type_descriptor(sa.CHAR(32))


class Shelf(Base):
    __tablename__ = "shelf"

    id: Mapped[str] = mapped_column(Guid(), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(20))


class Jar(Base):
    __tablename__ = "jar"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[str] = mapped_column(Guid(), sa.ForeignKey("shelf.id"))
"""


def test_synthetic_rows_fit_the_type_a_decorator_becomes_on_this_database(
    single: LawProject,  # noqa: F811
) -> None:
    from migrate_core.config import load_config
    from migrate_core.db.rows import seed_rows
    from migrate_core.migrations.loader import MigrationLoader

    single.step({"shop": PLAIN_HEAD + GUID_TABLE})
    state = MigrationLoader(load_config(str(single.root / "pyproject.toml"))).project_state()
    with single.engine(single.url).connect() as conn:
        seeding = seed_rows(conn, state, ["jar"])
    assert seeding.skipped == {}
    assert seeding.seeded == ["shelf", "jar"]
    assert single.rows("SELECT COUNT(*) FROM jar") == [(1,)]
    single.execute("DELETE FROM jar", "DELETE FROM shelf")
    single.assert_unapplies_to_nothing()


# -- @compiles on one of SQLAlchemy's own types ------------------------------------------------------
# A project makes every DateTime DATETIME(6) on MySQL with ``@compiles(sa.DateTime, "mysql")``.
# create_all (and check-migrations, which imports the models) saw DATETIME(6); ``migrate``
# runs the migration file's ``sa.DateTime()`` without the project and created DATETIME,
# silently dropping the fractional seconds, and no check could notice.

OVERRIDDEN = """
from sqlalchemy.ext.compiler import compiles


@compiles(sa.DateTime, "mysql")
def _datetime_with_microseconds(type_, compiler, **kw):
    return "DATETIME(6)"


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[sa.types.DateTime | None] = mapped_column(sa.DateTime())
"""


@pytest.fixture
def no_compiler_override() -> Iterator[None]:
    """The override is global to the process: removed again, whatever the test did."""
    import sqlalchemy as sa
    from sqlalchemy.ext.compiler import deregister

    try:
        yield
    finally:
        deregister(sa.DateTime)


def test_a_compiles_override_of_a_sqlalchemy_type_is_refused_before_anything_is_written(
    single: LawProject,  # noqa: F811
    no_compiler_override: None,
) -> None:
    single.set_models("shop", PLAIN_HEAD + OVERRIDDEN)
    result = single.makemigrations("--noinput", expect=2)
    lines = [line for line in result.output.splitlines() if "MV008" in line]
    assert lines == [
        "shop/models.py:23: model Event (table event): column at: type sa.DateTime compiles to DDL the project defines on mysql "
        "(an @compiles override in shop.models: DATETIME(6)); a migration file runs without the "
        "project, so it would create another type there [MV008]"
    ], result.output
    assert 'sa.DateTime().with_variant(<a mysql type that compiles to DATETIME(6)>, "mysql")' in (
        result.output
    )
    assert single.migration_files() == []
    # the fix the message names migrates and keeps the law
    import sqlalchemy as sa
    from sqlalchemy.ext.compiler import deregister

    deregister(sa.DateTime)
    fixed = OVERRIDDEN.split("\n\n\nclass Event")[1].replace(
        "sa.DateTime())", 'sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"))'
    )
    evolve(single, "from sqlalchemy.dialects import mysql\n\n\nclass Event" + fixed)


# -- a type argument the models compute into an object of their own ------------------------------------
# ``String(settings.TAG_LENGTH)`` where the settings hand out a lazy proxy (or a numpy
# integer) compiles under create_all (``VARCHAR(40)``), but has no source a migration file
# can hold: makemigrations stopped with a ValueError traceback.

LAZY_LENGTH = """
class LazySetting:
    \"\"\"A settings proxy: reads as its value wherever it is formatted.\"\"\"

    def __init__(self, value: int) -> None:
        self.value = value

    def __str__(self) -> str:
        return str(self.value)


TAG_LENGTH = LazySetting(40)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str | None] = mapped_column(sa.String(TAG_LENGTH))
"""


def test_a_type_argument_no_file_can_hold_is_one_line_naming_the_column(
    single: LawProject,  # noqa: F811
) -> None:
    single.set_models("shop", PLAIN_HEAD + LAZY_LENGTH)
    result = single.makemigrations("--noinput", expect=2)
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if "MV008" in line]
    assert "(table orders): column tag: type sa.String has length=" in line, line
    assert "shop.models.LazySetting), which a migration file cannot write [MV008]" in line
    assert "fix: pass length as a plain value" in result.output
    assert single.migration_files() == []
    evolve(single, LAZY_LENGTH.replace("sa.String(TAG_LENGTH)", "sa.String(TAG_LENGTH.value)"))


# -- a partial index whose predicate is an expression of the mapped columns -----------------------------
# ``Index(..., postgresql_where=Account.status == "live")``: the option is a SQL expression,
# not ``sa.text``; makemigrations stopped with "cannot write <BinaryExpression>".

PARTIAL = """
class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(10), server_default="draft")


sa.Index(
    "ix_account_live_name",
    Account.name,
    postgresql_where=Account.status == "{status}",
    sqlite_where=Account.status == "{status}",
)
"""


def test_a_partial_index_predicate_written_as_an_expression_migrates(
    single: LawProject,  # noqa: F811
) -> None:
    names = single.step({"shop": PLAIN_HEAD + PARTIAL.format(status="live")})
    source = single.migration_source(names[0])
    assert "postgresql_where=sa.text(\"status = 'live'\")" in source, source
    assert "sqlite_where=sa.text(\"status = 'live'\")" in source, source
    evolve(single, PARTIAL.format(status="live"), PARTIAL.format(status="gone"))


# -- an identity column that is not the key --------------------------------------------------------
# ``seq = mapped_column(sa.BigInteger(), sa.Identity(start=100))`` beside the primary key:
# building the table for the migration file gave the column autoincrement=False, which
# SQLAlchemy refuses next to an Identity (ArgumentError traceback).

IDENTITY = """
class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger(), sa.Identity(start=100))
"""


def test_an_identity_column_beside_the_key_migrates(
    single: LawProject,  # noqa: F811
) -> None:
    evolve(single, IDENTITY)


# -- an enum value added and used by a partial index in the same migration -------------------------
# PostgreSQL's ALTER TYPE ... ADD VALUE makes a value usable only after the transaction
# commits; the index created later in the same migration failed with "unsafe use of new
# value". The editor now sees the migration's end state and swaps the type instead.

ENUM_USED = """
class Status(enum.Enum):
    LIVE = "live"
{extra}

class Page(Base):
    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[Status] = mapped_column(
        sa.Enum(Status, name="page_status", values_callable=lambda e: [m.value for m in e])
    )


sa.Index("ix_page_open", Page.id, postgresql_where=Page.status.in_({members}))
"""


def test_an_enum_value_added_and_used_in_one_migration(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + ENUM_USED.format(extra="", members="[Status.LIVE]")})
    single.execute("INSERT INTO page (id, status) VALUES (1, 'live')")
    grown = ENUM_USED.format(extra='    GONE = "gone"\n', members="[Status.LIVE, Status.GONE]")
    single.step({"shop": PLAIN_HEAD + grown})
    assert single.rows("SELECT id, status FROM page") == [(1, "live")]
    single.assert_unapplies_to_nothing()


# -- a change the generic DDL does not show --------------------------------------------------------
# makemigrations printed "Alter column tags on account (ARRAY -> ARRAY)" for an array whose
# element type changed, and "VARCHAR(5) -> VARCHAR(5)" for an enum that gained a value.


def test_a_type_change_the_generic_ddl_hides_is_described_by_the_types(
    single: LawProject,  # noqa: F811
) -> None:
    table = """
class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.Enum({values}, name="account_kind"))
"""
    single.step({"shop": PLAIN_HEAD + table.format(values='"a", "b"')})
    single.set_models("shop", PLAIN_HEAD + table.format(values='"a", "c"'))
    out = single.makemigrations().output
    assert (
        "~ Alter column kind on account "
        '(sa.Enum("a", "b", name="account_kind") -> sa.Enum("a", "c", name="account_kind"))'
    ) in out, out
    single.migrate()
    single.assert_unapplies_to_nothing()


# -- an index whose options name other columns ---------------------------------------------------
# ``postgresql_include=["kind"]`` (a covering index): AddIndex built the index on a table of
# the indexed columns only, and SQLAlchemy's lookup of "kind" failed (KeyError).

COVERING = """
class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(10))
    meta: Mapped[dict | None] = mapped_column(sa.JSON({json_args}))
{index}
"""


def test_a_covering_index_and_a_python_only_json_flag(
    single: LawProject,  # noqa: F811
) -> None:
    index = 'sa.Index("ix_account_name", Account.name, postgresql_include=["kind"])'
    single.step({"shop": PLAIN_HEAD + COVERING.format(json_args="", index="")})
    names = single.step({"shop": PLAIN_HEAD + COVERING.format(json_args="", index=index)})
    assert "postgresql_include=['kind']" in single.migration_source(names[0]).replace('"', "'")
    # none_as_null decides only what Python's None is sent as: no migration
    single.set_models(
        "shop", PLAIN_HEAD + COVERING.format(json_args="none_as_null=True", index=index)
    )
    assert "No changes detected" in single.makemigrations("--check").output
    single.assert_unapplies_to_nothing()


# -- the CHECK of a non-native enum, under a naming convention -----------------------------------------
# ``sa.Enum("s", "m", native_enum=False, create_constraint=True, name="size")`` makes its own
# CHECK, which the models' "ck" convention names ck_person_size; the migration file (no
# convention) created it as "size" (drift on every database), and on MySQL/MariaDB adding a
# value failed with "Duplicate CHECK constraint name" (the old CHECK was never dropped).

SIZED = """
class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention={{"ck": "ck_%(table_name)s_%(constraint_name)s"}})


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[str] = mapped_column(
        sa.Enum({values}, native_enum=False, create_constraint=True, name="size")
    )
    active: Mapped[bool] = mapped_column(sa.Boolean(create_constraint=True, name="active"))
"""


def test_a_non_native_enum_check_is_named_by_the_convention_and_changes(
    single: LawProject,  # noqa: F811
) -> None:
    head = PLAIN_HEAD.split("class Base(DeclarativeBase):")[0]
    names = single.step({"shop": head + SIZED.format(values='"s", "m"')})
    source = single.migration_source(names[0])
    assert 'name="ck_person_size"' in source and 'name="ck_person_active"' in source, source
    single.execute("INSERT INTO person (id, size, active) VALUES (1, 'm', TRUE)")
    single.step({"shop": head + SIZED.format(values='"s", "m", "l"')})
    single.execute("INSERT INTO person (id, size, active) VALUES (2, 'l', FALSE)")
    assert sorted(single.rows("SELECT id, size FROM person")) == [(1, "m"), (2, "l")]
    single.execute("DELETE FROM person")
    single.assert_unapplies_to_nothing()


# -- expressions on mixed-case columns ---------------------------------------------------------------
# A check and a computed column built from the columns (``sa.column("Age") >= 0``) are kept
# as SQL text with the standard quotes (``"Age" >= 0``, as PostgreSQL needs for a mixed-case
# name); MySQL/MariaDB read a double-quoted word as a string, and CREATE TABLE failed.

MIXED_CASE = """
class Person(Base):
    __tablename__ = "Person"
    __table_args__ = (sa.CheckConstraint(sa.column("Age") >= 0, name="AgePositive"),)

    id: Mapped[int] = mapped_column("ID", primary_key=True)
    age: Mapped[int | None] = mapped_column("Age")
    next_age: Mapped[int | None] = mapped_column(
        "NextAge", sa.Computed(sa.column("Age") + {step}, persisted=True)
    )
"""


def test_expressions_on_mixed_case_columns_migrate(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + MIXED_CASE.format(step=1)})
    single.execute(
        'INSERT INTO "Person" ("ID", "Age") VALUES (1, 41)'.replace('"', single_quote(single))
    )
    assert single.rows(f"SELECT {q(single, 'NextAge')} FROM {q(single, 'Person')}") == [(42,)]
    evolve(single, MIXED_CASE.format(step=1), MIXED_CASE.format(step=2))


def single_quote(project: LawProject) -> str:
    """The identifier quote of the project's database."""
    return "`" if project.url.startswith("mysql") else '"'


def q(project: LawProject, name: str) -> str:
    mark = single_quote(project)
    return f"{mark}{name}{mark}"


def test_requoting_leaves_literals_and_other_quotes_alone() -> None:
    from migrate_core.schema.sqltext import requote_identifiers

    names = {"Age", 'we"ird'}
    assert requote_identifiers("lower(name) = 'a\"b'", "`", names) is None
    assert requote_identifiers('"Age" >= 0 AND note <> \'say "hi"\'', "`", names) == (
        "`Age` >= 0 AND note <> 'say \"hi\"'"
    )
    assert requote_identifiers('"we""ird" + `kept`', "`", names) == '`we"ird` + `kept`'
    # a double-quoted word that names nothing is a MySQL string, as its author meant
    assert requote_identifiers('status <> "gone"', "`", names) is None
