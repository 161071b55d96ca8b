"""Foreign keys to tables the models do not own (``exclude-tables``): the database has
them, the migrations never create them, and a key to one is written like any other."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_engine import cli
from helpers_engine import dialect_of
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import migrate
from helpers_engine import rows

MODELS = """
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass


class Region(Base):
    # Owned by another system: listed in exclude-tables.
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)


class Shop(Base):
    __tablename__ = "shop_"

    id: Mapped[int] = mapped_column(primary_key=True)
    {column}
"""

NAME = "name: Mapped[str | None] = mapped_column(sa.String(50))"
KEY = 'region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"))'


def _models(project: Path, column: str) -> None:
    (project / "shop" / "models.py").write_text(MODELS.format(column=column), encoding="utf-8")
    for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[name]


@pytest.fixture
def project(make_project, db_url: str) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    root = make_project(MODELS.format(column=NAME), url=db_url, extra='exclude-tables = ["region"]')
    _models(root, NAME)  # and forget another test's shop package
    execute(db_url, "CREATE TABLE region (id INTEGER NOT NULL PRIMARY KEY)")
    yield root
    dispose_engines()


def test_a_column_with_a_key_to_an_excluded_table_is_added(project: Path, db_url: str) -> None:
    cli("makemigrations", "--noinput")
    migrate(db_url)
    _models(project, NAME + "\n    " + KEY)
    result = cli("makemigrations", "--noinput")
    assert "Add column region_id to shop_" in result.stdout
    migrate(db_url)
    execute(db_url, "INSERT INTO region (id) VALUES (5)")
    execute(db_url, "INSERT INTO shop_ (id, region_id) VALUES (1, 5)")
    assert rows(db_url, "SELECT region_id FROM shop_") == [(5,)]
    if dialect_of(db_url) != "sqlite":  # SQLite enforces keys only with PRAGMA foreign_keys
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            execute(db_url, "INSERT INTO shop_ (id, region_id) VALUES (2, 99)")
    assert "No changes detected" in cli("makemigrations", "--check").stdout
    migrate(db_url, "shop", "zero")
    assert rows(db_url, "SELECT count(*) FROM region") == [(1,)]


def test_an_existing_column_gains_a_key_to_an_excluded_table(project: Path, db_url: str) -> None:
    _models(project, NAME + "\n    region_id: Mapped[int | None]")
    cli("makemigrations", "--noinput")
    migrate(db_url)
    _models(project, NAME + "\n    " + KEY)
    result = cli("makemigrations", "--noinput")
    assert "Add foreign key" in result.stdout, result.stdout
    migrate(db_url)
    assert "No changes detected" in cli("makemigrations", "--check").stdout
    migrate(db_url, "shop", "zero")
