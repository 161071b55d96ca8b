"""Type changes of key columns: a primary key that foreign keys point at, and the
foreign key columns with it (integer ids becoming UUIDs, the common case).

PostgreSQL refuses to change the type of a referenced column while a foreign key
ties it to a column of the old type, and MySQL/MariaDB refuse to modify a column a
foreign key uses at all; the migration must take the keys off, change both sides,
and put the keys back. On an empty table every such change applies; with rows, a
value that has no meaning in the new type is the database's to refuse.
"""

from __future__ import annotations

from helpers_models import LawProject
from test_roundtrip import PLAIN_HEAD
from test_roundtrip import evolve
from test_roundtrip import single  # noqa: F401  (fixture)

INT_KEYS = """
class Owner(Base):
    __tablename__ = "owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("owner.id", ondelete="CASCADE"))
"""

UUID_KEYS = """
import uuid


class Owner(Base):
    __tablename__ = "owner"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(50))


class Item(Base):
    __tablename__ = "item"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("owner.id", ondelete="CASCADE"))
"""

BIGINT_KEYS = """
class Owner(Base):
    __tablename__ = "owner"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("owner.id", ondelete="CASCADE")
    )
"""


def test_integer_keys_become_uuids(single: LawProject) -> None:  # noqa: F811
    evolve(single, INT_KEYS, UUID_KEYS, INT_KEYS)


def test_a_referenced_key_widens_with_its_foreign_key_and_keeps_rows(
    single: LawProject,  # noqa: F811
) -> None:
    single.step({"shop": PLAIN_HEAD + INT_KEYS})
    single.execute("INSERT INTO owner (id, name) VALUES (1, 'a')")
    single.execute("INSERT INTO item (id, owner_id) VALUES (7, 1)")
    single.step({"shop": PLAIN_HEAD + BIGINT_KEYS})
    assert single.rows("SELECT id, owner_id FROM item") == [(7, 1)]
    single.assert_unapplies_to_nothing()
