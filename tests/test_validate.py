"""Constructs no database can create stop makemigrations with exit 2 before any file is written.

Each case is a model that ``metadata.create_all`` accepts as Python but that a
database refuses (or, worse, creates broken): the command must name the model,
the table, the column, index or key, and the fix, and write nothing. The cases
next to them are the legal look-alikes, which must still migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import server_url
from helpers_engine import cli
from helpers_models import forget_modules

from migrate_core.config import load_config
from migrate_core.db import creatable
from migrate_core.db import dialects
from migrate_core.schema import project
from migrate_core.schema import validate as v

HEAD = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column


class Base(DeclarativeBase):
    pass

"""


def _url(dialect: str, tmp_path: Path) -> str:
    """A URL of the dialect: only its name matters, makemigrations never connects."""
    found = server_url(dialect)
    return found or f"sqlite:///{tmp_path / 'never_opened.db'}"


def _project(make_project: Any, models: str, url: str | None, extra: str = "") -> Path:
    forget_modules(["shop"])  # each test's models are a new module of the same name
    root: Path = make_project(HEAD + models, url=url, extra=extra)
    return root


def _refused(
    make_project: Any, models: str, url: str | None, *needles: str, extra: str = ""
) -> str:
    root = _project(make_project, models, url, extra)
    result = cli("makemigrations", "--noinput", expect=2)
    out = result.stdout + result.stderr
    for needle in needles:
        assert needle in out, f"{needle!r} not in:\n{out}"
    assert "Traceback" not in out
    folder = root / "shop" / "migrations"
    assert not folder.exists() or not list(folder.glob("0*.py")), "a file was written"
    return out


def _accepted(make_project: Any, models: str, url: str | None, extra: str = "") -> None:
    root = _project(make_project, models, url, extra)
    cli("makemigrations", "--noinput", expect=0)
    assert list((root / "shop" / "migrations").glob("0001_*.py"))


INDEX_NO_COLUMNS = """
class Order(Base):
    __tablename__ = "order"
    __table_args__ = (sa.Index("ix_order_nothing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
"""

FK_NOWHERE = """
class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"))
"""


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_an_index_without_columns_is_refused(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    out = _refused(
        make_project,
        INDEX_NO_COLUMNS,
        _url(dialect, tmp_path),
        "model Order (table order)",
        "ix_order_nothing",
        "has no columns",
        "fix:",
        "shop/models.py:",
        v.INDEX_WITHOUT_COLUMNS,
    )
    assert "no migration was written" in out


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_a_foreign_key_to_a_table_nobody_declares_is_refused(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    _refused(
        make_project,
        FK_NOWHERE,
        _url(dialect, tmp_path),
        "table order",
        "customer_id",
        "refers to table customer",
        "exclude-tables",
        v.FOREIGN_KEY_TO_UNKNOWN_TABLE,
    )


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_a_foreign_key_to_an_excluded_table_is_fine_with_a_type(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    typed = FK_NOWHERE.replace(
        "mapped_column(sa.ForeignKey", "mapped_column(sa.Integer, sa.ForeignKey"
    )
    _accepted(make_project, typed, _url(dialect, tmp_path), extra='exclude-tables = ["customer"]')


def test_without_a_type_its_column_cannot_be_created(make_project: Any, tmp_path: Path) -> None:
    """SQLAlchemy copies a key column's type from its target; an excluded target has none."""
    _refused(
        make_project,
        FK_NOWHERE,
        _url("sqlite", tmp_path),
        "column customer_id has no type",
        "from customer, which is not in the column's MetaData",
        "mapped_column(sa.Integer",
        v.COLUMN_WITHOUT_TYPE,
        extra='exclude-tables = ["customer"]',
    )


def test_a_foreign_key_to_a_column_the_table_lacks(make_project: Any, tmp_path: Path) -> None:
    models = """
class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_code: Mapped[str] = mapped_column(sa.String(10))
    __table_args__ = (sa.ForeignKeyConstraint(["customer_code"], ["customer.code"]),)
"""
    root = _project(make_project, models, _url("sqlite", tmp_path))
    result = cli("makemigrations", "--noinput", expect=None)
    out = result.stdout + result.stderr
    # SQLAlchemy itself may refuse to resolve the key; either way: exit 2, named, no file.
    assert result.exit_code == 2, out
    assert "customer" in out and "code" in out and "Traceback" not in out
    assert not list((root / "shop" / "migrations").glob("0*.py"))


NON_UNIQUE_TARGET = """
class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(100){unique})


class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.ForeignKey("customer.email"))
"""


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_a_foreign_key_to_columns_that_are_not_unique_is_refused(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    _refused(
        make_project,
        NON_UNIQUE_TARGET.format(unique=""),
        _url(dialect, tmp_path),
        "model Order (table order)",
        "customer(email)",
        "unique=True",
        v.FOREIGN_KEY_TO_NON_UNIQUE,
    )


def test_a_foreign_key_to_a_unique_column_is_fine(make_project: Any, tmp_path: Path) -> None:
    _accepted(
        make_project, NON_UNIQUE_TARGET.format(unique=", unique=True"), _url("sqlite", tmp_path)
    )


def test_a_table_without_columns_is_refused(make_project: Any, tmp_path: Path) -> None:
    models = 'empty = sa.Table("empty", Base.metadata)\n'
    _refused(make_project, models, _url("sqlite", tmp_path), "table empty", "no columns", "MV005")


def _long_column(length: int, char: str = "c") -> tuple[str, str]:
    name = char * length
    return (
        name,
        f"""
class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    long: Mapped[int] = mapped_column("{name}")
""",
    )


def test_a_name_too_long_for_postgresql_is_refused_there_and_without_a_database(
    make_project: Any, tmp_path: Path
) -> None:
    """63 bytes is PostgreSQL's limit; with no database-url, every database's limit holds."""
    name, models = _long_column(64)
    for url in (_url("postgresql", tmp_path), None):
        out = _refused(make_project, models, url, f"column {name}", "MV006")
        assert "PostgreSQL cuts names to 63 bytes (this one has 64)" in out
        assert ("MySQL" in out) is False  # 64 characters is within MySQL's limit
    _accepted(make_project, models, _url("mysql", tmp_path))
    _accepted(make_project, models, _url("sqlite", tmp_path))


def test_a_name_is_measured_in_bytes_on_postgresql_and_in_characters_on_mysql(
    make_project: Any, tmp_path: Path
) -> None:
    _name, models = _long_column(40, "é")  # 40 characters, 80 bytes
    _refused(make_project, models, _url("postgresql", tmp_path), "this one has 80", "MV006")
    _accepted(make_project, models, _url("mysql", tmp_path))


def test_a_name_too_long_for_mysql_names_mysql(make_project: Any, tmp_path: Path) -> None:
    name, models = _long_column(65)
    out = _refused(make_project, models, _url("mysql", tmp_path), f"column {name}", "MV006")
    assert "MySQL/MariaDB refuses names over 64 characters (this one has 65)" in out
    assert "PostgreSQL" not in out
    out = _refused(make_project, models, None, "MV006")
    assert "PostgreSQL" in out and "MySQL/MariaDB" in out and "at most 63 bytes" in out
    _accepted(make_project, "\n".join(models.splitlines()), _url("sqlite", tmp_path))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_long_names_a_naming_convention_makes_are_no_problem(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    """SQLAlchemy shortens convention names (``conv``) to the database's limit itself:
    no MV006, and the migration applies and matches the models on the database."""
    models = """
Base.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
}


class Customer(Base):
    __tablename__ = "customer_with_a_rather_long_table_name_here"

    id: Mapped[int] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "order_with_a_rather_long_table_name_here_too"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_reference_number: Mapped[int] = mapped_column(
        sa.ForeignKey("customer_with_a_rather_long_table_name_here.id"), index=True
    )
    external_reference_code: Mapped[int] = mapped_column(unique=True)
"""
    url = server_url(dialect)
    if url is None:
        _accepted(make_project, models, _url("sqlite", tmp_path))
        return
    from migrate_core.db.scratch import scratch_database

    with scratch_database(url, label="names") as scratch:
        _accepted(make_project, models, scratch)
        cli("migrate", expect=0)
        cli("makemigrations", "--check", expect=0)  # the models and the file agree
        engine = sa.create_engine(scratch)
        try:
            inspector = sa.inspect(engine)
            table = "order_with_a_rather_long_table_name_here_too"
            names = [i["name"] for i in inspector.get_indexes(table)]
            names += [u["name"] for u in inspector.get_unique_constraints(table)]
            names += [f["name"] for f in inspector.get_foreign_keys(table)]
        finally:
            engine.dispose()
        # Every generated name was longer than 64; the database holds the shortened ones.
        assert names and all(n and len(n) <= 63 for n in names), names
        assert any(n.startswith("ix_order_with_a_rather_long") for n in names if n), names


def test_a_table_in_another_schema_is_refused(make_project: Any, tmp_path: Path) -> None:
    """The state keeps no schema: the migration would create the table in the default one."""
    models = """
class Order(Base):
    __tablename__ = "order"
    __table_args__ = {"schema": "sales"}

    id: Mapped[int] = mapped_column(primary_key=True)
"""
    _refused(
        make_project,
        models,
        _url("sqlite", tmp_path),
        "model Order (table order)",
        "schema sales",
        "exclude-tables",
        v.TABLE_IN_OTHER_SCHEMA,
    )
    # Listed in exclude-tables, the table is the user's to manage: no problem, no migration.
    _project(make_project, models, None, extra='exclude-tables = ["order"]')
    result = cli("makemigrations", "--noinput", expect=0)
    assert "No changes" in result.stdout + result.stderr


LONG_INDEX = """
class Order(Base):
    __tablename__ = "order"
    __table_args__ = (sa.Index("{name}", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[int]
"""


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_a_hand_given_index_name_over_the_limit_is_refused(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    """SQLAlchemy shortens only the names it made (conv); a hand-given long name is refused
    by create_all and the database, so makemigrations refuses it first."""
    name = "ix_" + "n" * 62  # 65 characters: over PostgreSQL's and MySQL's limits
    models = LONG_INDEX.format(name=name)
    url = server_url(dialect)
    if url is None:
        _refused(make_project, models, None, f"index {name}", "MV006")
        _accepted(make_project, models, _url("sqlite", tmp_path))  # SQLite has no limit
        return
    out = _refused(make_project, models, url, f"index {name}", "at most", "MV006")
    assert ("PostgreSQL" in out) is (dialect == "postgresql")
    # What the rule spares the user: the database (or SQLAlchemy for it) refuses the name.
    from migrate_core.db.scratch import scratch_database

    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("code", sa.Integer), sa.Index(name, "code"))
    with scratch_database(url, label="longname") as scratch:
        engine = sa.create_engine(scratch)
        try:
            with pytest.raises((sa.exc.IdentifierError, sa.exc.OperationalError)):
                metadata.create_all(engine)
        finally:
            engine.dispose()


MIXIN_INDEX = """
class Stamped:
    # A mixin as real projects write it: a fresh Index per table, all with one name.

    created: Mapped[int] = mapped_column()

    @declared_attr.directive
    def __table_args__(cls) -> tuple[sa.Index]:
        return (sa.Index("ix_created", "created"),)


class Order(Stamped, Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)


class Invoice(Stamped, Base):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
"""


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_one_index_name_on_two_tables_is_refused_where_names_are_per_schema(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    _refused(
        make_project,
        MIXIN_INDEX,
        _url(dialect, tmp_path),
        "ix_created",
        "table order",
        "naming convention",
        v.DUPLICATE_INDEX_NAME,
    )


def test_one_index_name_on_two_tables_is_fine_on_mysql(make_project: Any, tmp_path: Path) -> None:
    _accepted(make_project, MIXIN_INDEX, _url("mysql", tmp_path))


def test_a_varchar_without_length_is_refused_on_mysql_only(
    make_project: Any, tmp_path: Path
) -> None:
    models = """
class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(sa.String())
"""
    _refused(make_project, models, _url("mysql", tmp_path), "column note", "length", "MV101")
    _accepted(make_project, models, _url("postgresql", tmp_path))


@pytest.mark.parametrize("length", ["", ", mysql_length=100"])
def test_a_key_on_text_needs_a_prefix_length_on_mysql(
    length: str, make_project: Any, tmp_path: Path
) -> None:
    models = f"""
class Order(Base):
    __tablename__ = "order"
    __table_args__ = (sa.Index("ix_order_note", "note"{length}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(sa.Text())
"""
    if length:
        _accepted(make_project, models, _url("mysql", tmp_path))
    else:
        _refused(make_project, models, _url("mysql", tmp_path), "ix_order_note", "note", "MV102")


def test_a_native_enum_needs_a_name_on_postgresql(make_project: Any, tmp_path: Path) -> None:
    models = """
class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.Enum("new", "paid"))
"""
    _refused(make_project, models, _url("postgresql", tmp_path), "column status", "name=", "MV201")
    _accepted(make_project, models, _url("sqlite", tmp_path))


def test_every_problem_is_reported_at_once(make_project: Any, tmp_path: Path) -> None:
    out = _refused(
        make_project,
        INDEX_NO_COLUMNS + FK_NOWHERE.replace("order", "line").replace("Order", "Line"),
        _url("sqlite", tmp_path),
    )
    # The key's column also has no type: its target is missing.
    assert "3 construct(s)" in out and v.COLUMN_WITHOUT_TYPE in out
    assert v.INDEX_WITHOUT_COLUMNS in out and v.FOREIGN_KEY_TO_UNKNOWN_TABLE in out


def test_validate_is_data_for_check_migrations(make_project: Any, tmp_path: Path) -> None:
    """What check-migrations uses: Problems with the model's file and line, no exception."""
    root = _project(make_project, INDEX_NO_COLUMNS, _url("sqlite", tmp_path))
    config = load_config(str(root / "pyproject.toml"))
    state = project.model_state(config)
    problems = v.validate(state, config, locations=v.locate(config))
    assert [(p.code, p.table, p.index, p.model, p.path) for p in problems] == [
        (v.INDEX_WITHOUT_COLUMNS, "order", "ix_order_nothing", "Order", "shop/models.py")
    ]
    source = (root / "shop" / "models.py").read_text().splitlines()
    assert problems[0].line is not None
    assert source[problems[0].line - 1].startswith("class Order(")
    assert v.validate(state, config, rules=dialects.get("mysql"))[0].code == v.INDEX_WITHOUT_COLUMNS
    assert creatable.model_problems(config) == problems


def test_a_postgresql_domain_is_refused(make_project: Any, tmp_path: Path) -> None:
    """migrate-core creates no DOMAIN types: refuse rather than write a failing migration."""
    models = """
from sqlalchemy.dialects import postgresql


class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int] = mapped_column(postgresql.DOMAIN("positive", sa.Integer(), check="VALUE > 0"))
"""
    _refused(make_project, models, _url("postgresql", tmp_path), "column amount", "DOMAIN", "MV010")


@pytest.mark.parametrize(
    ("dialect", "type_", "needle"),
    [
        ("mysql", "postgresql.JSONB()", "JSONB"),
        ("mysql", "sa.Double(precision=10)", "precision and scale"),
        ("sqlite", "postgresql.INET()", "INET"),
        ("postgresql", "mysql.TINYINT()", "TINYINT"),
    ],
)
def test_a_type_the_database_cannot_create_is_refused(
    dialect: str, type_: str, needle: str, make_project: Any, tmp_path: Path
) -> None:
    models = f"""
from sqlalchemy.dialects import mysql, postgresql


class Order(Base):
    __tablename__ = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    odd: Mapped[Any] = mapped_column({type_})
"""
    models = "from typing import Any\n" + models
    _refused(make_project, models, _url(dialect, tmp_path), "column odd", needle, "MV101")


def test_a_prefix_length_on_a_number_is_refused_on_mysql(make_project: Any, tmp_path: Path) -> None:
    """The scaffold pattern Index(..., Model.id, mysql_length=255): MySQL error 1089."""
    models = """
class Page(Base):
    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.Text())


sa.Index("ix_page_id_title", Page.id, Page.title, unique=True, mysql_length=255)
"""
    _refused(make_project, models, _url("mysql", tmp_path), "column id (INTEGER)", "MV103")
    ok = models.replace("mysql_length=255", 'mysql_length={"title": 255}')
    _accepted(make_project, ok, _url("mysql", tmp_path))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_a_subclass_of_a_sqlalchemy_type_is_written_as_that_type(
    dialect: str, make_project: Any, tmp_path: Path
) -> None:
    models = """
import uuid

from sqlalchemy.dialects import postgresql


class CustomUUID(postgresql.UUID):
    python_type = uuid.UUID


class Page(Base):
    __tablename__ = "page"

    id: Mapped[uuid.UUID] = mapped_column(CustomUUID(as_uuid=True), primary_key=True)
"""
    root = _project(make_project, models, _url(dialect, tmp_path))
    cli("makemigrations", "--noinput", expect=0)
    [written] = list((root / "shop" / "migrations").glob("0001_*.py"))
    text = written.read_text()
    assert "sa.UUID()" in text and "CustomUUID" not in text and "shop" not in text
