"""Computed columns that change: a new expression, a plain column that becomes
computed, a computed one that becomes plain (keeping its values). Before, each was an
``AlterField`` that emitted no SQL on any database and only the drift check noticed."""

from __future__ import annotations

from helpers_models import LawProject
from test_roundtrip import PLAIN_HEAD
from test_roundtrip import evolve
from test_roundtrip import single  # noqa: F401  (fixture)

TABLE = """
class Thing(Base):
    __tablename__ = "thing"
    __table_args__ = (sa.Index("ix_thing_doubled", "doubled"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int | None]
    doubled: Mapped[int | None] = mapped_column({definition})
"""

TWICE = 'sa.Computed("size * 2", persisted=True)'
THRICE = 'sa.Computed("size * 3", persisted=True)'
PLAIN = "sa.Integer()"


def body(definition: str) -> str:
    return TABLE.format(definition=definition)


def version(definition: str) -> str:
    return PLAIN_HEAD + body(definition)


def test_each_change_of_a_generation_expression_migrates(single: LawProject) -> None:  # noqa: F811
    evolve(single, body(TWICE), body(THRICE), body(PLAIN), body(TWICE))


def test_rows_follow_the_new_expression_and_keep_their_values_when_it_goes(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": version(TWICE)})
    single.execute("INSERT INTO thing (id, size) VALUES (1, 7)")
    single.step({"shop": version(THRICE)})
    assert single.rows("SELECT size, doubled FROM thing") == [(7, 21)]
    single.step({"shop": version(PLAIN)})
    assert single.rows("SELECT size, doubled FROM thing") == [(7, 21)]
    single.execute("UPDATE thing SET size = 8")
    assert single.rows("SELECT size, doubled FROM thing") == [(8, 21)]
    single.assert_unapplies_to_nothing()
