"""The protocol every operation follows.

An operation is data about one schema change. It knows how the change alters
the in-memory state (``state_forwards``, no database needed), how to carry it
out and back on a database (``database_forwards`` / ``database_backwards``,
given the states before and after), how to describe itself to a person, and
how to write itself into a migration file (``render``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.codegen import Rendered
    from migrate_core.schema.state import ProjectState


class Operation:
    #: Whether ``database_backwards`` can undo the change.
    reversible = True
    #: Whether ``sqlmigrate`` can show the change as SQL (RunPython cannot).
    reduces_to_sql = True
    #: The mark shown in front of ``describe()``: + add, - remove, ~ alter, > rename, * code.
    symbol = "~"

    def state_forwards(self, app: str, state: ProjectState) -> None:
        raise NotImplementedError

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        raise NotImplementedError

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        """Undo the change. ``from_state`` is the state after the operation, ``to_state`` before it."""
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__

    def describe_change(self, before: ProjectState) -> str:
        """A description that may use the state before the change (old type, old name)."""
        return self.describe()

    @property
    def migration_name_fragment(self) -> str | None:
        """Part of a generated migration name, such as ``add_product_sku``."""
        return None

    def render(self) -> Rendered:
        raise NotImplementedError(f"{type(self).__name__} cannot be written into a migration file")

    def tables(self) -> set[str] | None:
        """Tables this operation changes; ``None`` means it cannot tell (raw SQL, code)."""
        return set()

    def touches(self) -> set[tuple[str, str | None]]:
        """(table, column) pairs changed, column ``None`` for the table as a whole."""
        return {(t, None) for t in self.tables() or ()}

    def __repr__(self) -> str:
        try:
            return self.render().text
        except Exception:
            return f"<{type(self).__name__}>"

    def _identity(self) -> object:
        """Operations are equal when they write the same code (RunPython: only itself)."""
        try:
            return (type(self).__name__, self.render().text)
        except NotImplementedError:
            return id(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Operation):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


def check_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a non-empty string, got {value!r}")
    return value
