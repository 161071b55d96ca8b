"""Autoincrement keys that come and go on existing tables.

A key added to a table with rows is numbered by the database (serial, AUTO_INCREMENT,
SQLite's rowid): nothing to ask. A key whose autoincrement is switched off must stay
off: the migration file says so, and the next makemigrations finds nothing to do.
"""

from __future__ import annotations

from helpers_models import LawProject
from test_roundtrip import PLAIN_HEAD
from test_roundtrip import evolve
from test_roundtrip import single  # noqa: F401  (fixture)

WITHOUT_KEY = """
class Follow(Base):
    __tablename__ = "follow"

    follower: Mapped[int] = mapped_column(primary_key=True)
    followed: Mapped[int] = mapped_column(primary_key=True)
"""

WITH_KEY = """
class Follow(Base):
    __tablename__ = "follow"
    __table_args__ = (sa.UniqueConstraint("follower", "followed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follower: Mapped[int]
    followed: Mapped[int]
"""

AUTO = """
class Counter(Base):
    __tablename__ = "counter"

    id: Mapped[int] = mapped_column(primary_key=True{extra})
    name: Mapped[str | None] = mapped_column(sa.String(20))
"""


def test_an_autoincrement_key_added_to_a_table_with_rows_numbers_them(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + WITHOUT_KEY})
    single.execute("INSERT INTO follow (follower, followed) VALUES (1, 2)")
    single.execute("INSERT INTO follow (follower, followed) VALUES (2, 1)")
    single.step({"shop": PLAIN_HEAD + WITH_KEY})
    ids = sorted(row[0] for row in single.rows("SELECT id FROM follow"))
    assert len(ids) == 2 and len(set(ids)) == 2 and all(ids)
    single.assert_unapplies_to_nothing()


def test_autoincrement_switched_off_stays_off(single: LawProject) -> None:  # noqa: F811
    evolve(
        single,
        AUTO.format(extra=""),
        AUTO.format(extra=", autoincrement=False"),
        AUTO.format(extra=""),
    )
