"""Every version of a small project's models, one timeline per file.

A line ending in ``# @3-8`` exists in versions 3 to 8 (``# @3-``: from 3 on,
``# @-8``: until 8, ``# @3``: only in 3); lines between ``# @{ 3-8`` and ``# @}``
exist in those versions (see ``helpers_models.at_step``). A line that also holds
``# !mysql`` is left out on MariaDB/MySQL, which has no expression indexes.

``FILES`` says in which versions each file exists at all: a file outside its range
is deleted, which is how custom types are moved to another module and then deleted
while old migrations, being self-contained, still load.

All of this is our own model code, written for this test.
"""

from __future__ import annotations

# -- custom types ------------------------------------------------------------------------------

# Versions 2-32: the types' first home. GUID is renamed UUIDType in 5 (same impl: no
# migration); in 6 UUIDType and JSONDoc move to shop/coltypes.py; the factory-made
# Code type stays here until 33, when the column goes back to a plain String(12).
TYPES = '''
"""Project column types."""

from __future__ import annotations

import uuid  # @2-5
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql  # @2-5


# @{ 2-5
class GUID(sa.types.TypeDecorator[uuid.UUID]):  # @2-4
class UUIDType(sa.types.TypeDecorator[uuid.UUID]):  # @5
    """A UUID: PostgreSQL's own type there, 32 hex characters elsewhere."""

    impl = sa.CHAR(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID())
        return dialect.type_descriptor(sa.CHAR(32))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return uuid.UUID(str(value)).hex

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else uuid.UUID(str(value))
# @}


# @{ 3-5
class JSONDoc(sa.types.TypeDecorator[dict[str, Any]]):
    """A JSON document that is never None in Python (an empty dict instead)."""

    impl = sa.JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return {} if value is None else value
# @}


# @{ 4-
def bounded_string(length: int) -> type[sa.types.TypeDecorator[str]]:
    """A String(length) that strips what it stores: a class made per length."""

    class Bounded(sa.types.TypeDecorator[str]):
        impl = sa.String(length)
        cache_ok = True

        def process_bind_param(self, value: Any, dialect: Any) -> Any:
            return value.strip() if isinstance(value, str) else value

    Bounded.__name__ = Bounded.__qualname__ = f"Bounded{length}"
    return Bounded


Code = bounded_string(12)
# @}
'''

# Versions 6-33: the UUID and JSON types moved here unchanged.
COLTYPES = '''
"""Column types shared by the models (moved from shop.types)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class UUIDType(sa.types.TypeDecorator[uuid.UUID]):
    impl = sa.CHAR(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID())
        return dialect.type_descriptor(sa.CHAR(32))


class JSONDoc(sa.types.TypeDecorator[dict[str, Any]]):
    impl = sa.JSON
    cache_ok = True
'''

# -- the models package ------------------------------------------------------------------------

INIT = """
from shop.models.base import Base
from shop.models import accounts
from shop.models import catalog
from shop.models import payments

__all__ = ["Base", "accounts", "catalog", "payments"]
"""

BASE = """
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# @{ 29-
class OwnedMixin:
    \"\"\"Who owns a row and when it last changed; the key is made per class.\"\"\"

    updated_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())

    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("account.id", ondelete="SET NULL"))
# @}
"""

ACCOUNTS = """
from __future__ import annotations

import datetime as dt
import enum
import uuid  # @2-33
from typing import Any  # @3-33

import sqlalchemy as sa
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from shop.models.base import Base
from shop.types import GUID  # @2-4
from shop.types import UUIDType  # @5
from shop.types import JSONDoc  # @3-5
from shop.coltypes import JSONDoc, UUIDType  # @6-33


class Tier(enum.Enum):
    BASIC = 1
    PREMIUM = 2
    ENTERPRISE = 3  # @13-


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        sa.Index("ux_account_email_display_name", "email", "display_name", unique=True),  # @21-
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str | None] = mapped_column(String(50))  # @-17
    name: Mapped[str] = mapped_column(String(50), server_default="anon")  # @18
    display_name: Mapped[str] = mapped_column(String(50), server_default="anon")  # @19-
    created_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
    is_active: Mapped[bool] = mapped_column(server_default=sa.true())  # @-16
    is_active: Mapped[bool] = mapped_column(server_default=sa.false())  # @17-
    is_staff: Mapped[bool] = mapped_column(server_default=sa.false())  # @17-
    public_id: Mapped[uuid.UUID | None] = mapped_column(GUID(), unique=True)  # @2-4
    public_id: Mapped[uuid.UUID | None] = mapped_column(UUIDType(), unique=True)  # @5-33
    prefs: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc())  # @3-33
    tier: Mapped[Tier | None] = mapped_column(sa.Enum(Tier, native_enum=False))  # @12-


sa.Index("ix_account_email_lower", sa.func.lower(Account.email))  # !mysql  # @21-
"""

CATALOG = """
from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any  # @32-

import sqlalchemy as sa
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr  # @29-
from sqlalchemy.orm import mapped_column

from shop.models.base import Base
from shop.models.base import OwnedMixin  # @29-
from shop.types import Code  # @4-32


# @{ 7-34
class Kind(enum.Enum):  # @-10
class ProductKind(enum.Enum):  # @11-
    BOOK = "book"
    FILM = "film"  # @-8
    MUSIC = "music"  # @8-
# @}


# @{ 4-
class Product(Base):
    __tablename__ = "product"  # @-19
    __tablename__ = "item"  # @20-
    __table_args__ = (
        # @{ 21-
        sa.Index(
            "ix_item_live_code",
            "code",
            postgresql_where=sa.text("status = 'live'"),
            sqlite_where=sa.text("status = 'live'"),
        ),
        # @}
        sa.CheckConstraint("price >= 0", name="price_not_negative"),  # @22-
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Code(), unique=True)  # @-32
    code: Mapped[str] = mapped_column(String(12), unique=True)  # @33-
    title: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(server_default="0")  # @-13
    price: Mapped[int] = mapped_column(sa.BigInteger(), server_default="0")  # @14-
    status: Mapped[str] = mapped_column(String(20), server_default="draft")  # @-14
    # @{ 15-
    status: Mapped[str] = mapped_column(
        sa.Enum("draft", "live", "retired", name="product_status"), server_default="draft"
    )
    # @}
    stock: Mapped[str | None] = mapped_column(String(10))  # @-15
    stock: Mapped[int | None] = mapped_column(sa.Integer())  # @16-
    kind: Mapped[Kind | None] = mapped_column(sa.Enum(Kind, name="product_kind"))  # @7-9
    # @{ 10
    kind: Mapped[Kind | None] = mapped_column(
        sa.Enum(Kind, name="product_kind", values_callable=lambda e: [m.value for m in e])
    )
    # @}
    # @{ 11-34
    kind: Mapped[ProductKind | None] = mapped_column(
        sa.Enum(ProductKind, name="product_kind", values_callable=lambda e: [m.value for m in e])
    )
    # @}
    price_cents: Mapped[int | None] = mapped_column(sa.BigInteger(), sa.Computed("price * 100", persisted=True))  # @23-
    currency: Mapped[str] = mapped_column(String(3), server_default=sa.text("'EUR'"))  # @31-
    extra: Mapped[Any] = mapped_column(sa.PickleType(), nullable=True)  # @32-
# @}


# @{ 24-
class Ledger(Base):
    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(sa.BigInteger(), sa.Identity(start=100), primary_key=True)
    entry: Mapped[str] = mapped_column(String(40))
    amount: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2), server_default=sa.text("0"))  # @31-
# @}


# @{ 25-
class Purchase(Base):
    __tablename__ = "purchase"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="SET NULL"))
    placed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
# @}


# @{ 26-
# @{ 26-35
item_tag = sa.Table(
    "item_tag",
    Base.metadata,
    sa.Column("item_id", ForeignKey("item.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)
# @}


class Tag(Base):  # @-28
class Tag(OwnedMixin, Base):  # @29-
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40), unique=True)
# @}


# @{ 29-
class AuditEntry(OwnedMixin, Base):
    @declared_attr.directive
    def __tablename__(cls) -> str:
        return "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(30))
# @}
"""

PAYMENTS = """
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from shop.models.base import Base


# @{ 27-
class Payment(Base):
    \"\"\"Single-table inheritance: every payment kind shares this table.\"\"\"

    __tablename__ = "payment"
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "payment"}

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(server_default="0")


class CardPayment(Payment):
    __mapper_args__ = {"polymorphic_identity": "card"}

    card_last4: Mapped[str | None] = mapped_column(String(4))
# @}


# @{ 28-
class Refund(Payment):
    \"\"\"Joined-table inheritance: a refund's own columns live in their own table.\"\"\"

    __tablename__ = "refund"
    __mapper_args__ = {"polymorphic_identity": "refund"}

    id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
# @}
"""

# A second app whose models are dataclasses (MappedAsDataclass), from version 30.
NOTES = """
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import MappedAsDataclass
from sqlalchemy.orm import mapped_column


class Base(MappedAsDataclass, DeclarativeBase):
    pass


# @{ 30-
class Note(Base):
    __tablename__ = "note"

    title: Mapped[str] = mapped_column(String(80))
    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    body: Mapped[str | None] = mapped_column(Text, default=None)
    pinned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
# @}
"""

LAST = 36

# path -> (timeline, first version, last version)
FILES: dict[str, tuple[str, int, int]] = {
    "shop/types.py": (TYPES, 2, 32),
    "shop/coltypes.py": (COLTYPES, 6, 33),
    "shop/models/__init__.py": (INIT, 1, LAST),
    "shop/models/base.py": (BASE, 1, LAST),
    "shop/models/accounts.py": (ACCOUNTS, 1, LAST),
    "shop/models/catalog.py": (CATALOG, 1, LAST),
    "shop/models/payments.py": (PAYMENTS, 1, LAST),
    "notes/models.py": (NOTES, 1, LAST),
}
