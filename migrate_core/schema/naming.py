"""The names migrate-core gives constraints and indexes, and how a database shortens them.

A hand-written migration may leave a constraint or index unnamed, but a later
migration must be able to drop it by name, and SQLite's table rebuild and the
state need the name to find it. The default names are the ones the models get
(``assign_default_names``), so a chain and its models never differ by a name.
Long names reach SQLAlchemy as ``conv`` objects and are shortened per dialect by
``database_name`` exactly as ``metadata.create_all`` shortens them.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.schema.state import CheckState
from migrate_core.schema.state import ConstraintState
from migrate_core.schema.state import ForeignKeyState
from migrate_core.schema.state import IndexState
from migrate_core.schema.state import PrimaryKeyState
from migrate_core.schema.state import TableState
from migrate_core.schema.state import UniqueState
from migrate_core.schema.state import sorted_items

if TYPE_CHECKING:
    import sqlalchemy as sa


def default_name(constraint: ConstraintState | IndexState, table: str) -> str:
    """The name migrate-core gives an unnamed constraint or index (see assign_default_names)."""
    if isinstance(constraint, PrimaryKeyState):
        return f"pk_{table}"
    if isinstance(constraint, UniqueState):
        return f"uq_{table}_{'_'.join(constraint.columns)}"
    if isinstance(constraint, ForeignKeyState):
        return f"fk_{table}_{'_'.join(constraint.columns)}_{constraint.ref_table}"
    if isinstance(constraint, CheckState):
        return f"ck_{table}_{hashlib.sha1(constraint.sqltext.encode()).hexdigest()[:8]}"
    cols = [e if not x else "expr" for e, x in zip(constraint.elements, constraint.expressions)]
    return f"ix_{table}_{'_'.join(cols)}"


def with_default_names(table: TableState) -> TableState:
    """``table`` with every unnamed constraint and index named.

    A hand-written migration may leave names out; a later migration must be able
    to drop what it created, and SQLite and the state need a name to find it. The
    names are those the models would get, so nothing differs afterwards.
    """

    def named(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return sorted_items(
            replace(i, name=default_name(i, table.name)) if i.name is None else i for i in items
        )

    pk = table.primary_key
    if pk is not None and pk.name is None:
        pk = replace(pk, name=default_name(pk, table.name))
    others: list[Any] = [
        *table.foreign_keys,
        *table.unique_constraints,
        *table.check_constraints,
        *table.indexes,
    ]
    if pk is table.primary_key and all(c.name is not None for c in others):
        return table
    return replace(
        table,
        primary_key=pk,
        foreign_keys=named(table.foreign_keys),
        unique_constraints=named(table.unique_constraints),
        check_constraints=named(table.check_constraints),
        indexes=named(table.indexes),
    )


def assign_default_names(metadata: sa.MetaData) -> None:
    """Give every unnamed constraint and index of the models a stable name.

    The models' own naming convention has already named what it covers; this
    fills in the rest with ``pk_<table>``, ``uq_<table>_<columns>``,
    ``fk_<table>_<columns>_<referred>``, ``ck_<table>_<hash>`` and
    ``ix_<table>_<columns>``. Names are ``conv`` objects, so both our DDL and
    ``metadata.create_all`` shorten long names the same way for each dialect.
    """
    import sqlalchemy as sa

    from migrate_core.schema.sqla import constraint_state
    from migrate_core.schema.sqla import index_state
    from migrate_core.schema.sqla import sa_name

    for table in metadata.tables.values():
        items: list[Any] = [*table.constraints, *table.indexes]
        for constraint in items:
            if sa_name(constraint.name) is not None:
                continue
            if isinstance(constraint, sa.PrimaryKeyConstraint) and not constraint.columns:
                continue
            if getattr(constraint, "_type_bound", False):
                continue  # an Enum's or Boolean's own CHECK, made with its column
            described = (
                index_state(constraint)
                if isinstance(constraint, sa.Index)
                else constraint_state(constraint)
            )
            constraint.name = conv(default_name(described, table.name))


def conv(name: str | None) -> Any:
    """Names go to SQLAlchemy as ``conv`` so an over-long one is shortened like create_all does."""
    if name is None:
        return None
    from sqlalchemy.sql.naming import conv as sa_conv

    return sa_conv(name)


def database_name(dialect: Any, name: str, *, index: bool = False) -> str:
    """The name as the database stores it: over-long names are shortened like SQLAlchemy does."""
    limit = (getattr(dialect, "max_index_name_length", None) if index else None) or getattr(
        dialect, "max_identifier_length", None
    )
    if limit and len(name) > limit:
        return name[0 : limit - 8] + "_" + hashlib.md5(name.encode()).hexdigest()[-4:]
    return name
