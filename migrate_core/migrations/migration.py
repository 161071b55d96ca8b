"""The Migration class that every migration file subclasses, and the one walk over its
operations with the states around each.

Everything that runs operations goes through :meth:`Migration.steps` (or its two loops,
:meth:`Migration.apply` and :meth:`Migration.unapply`): the executor on a live database,
``sqlmigrate`` with an offline editor, ``makemigrations`` for its descriptions and the
checks that look at each operation with the state before it. So the states an operation
sees, and the file and line an error names, are the same whichever path ran it.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from migrate_core.errors import InvalidStateError

if TYPE_CHECKING:
    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.migrations.operations.base import Operation
    from migrate_core.schema.state import ProjectState


@dataclass(frozen=True, slots=True)
class Step:
    """One operation of a migration with the schema states on either side of it.

    ``before`` and ``after`` are the states before and after the operation *forwards*,
    whichever way the walk goes: undoing an operation takes the database from ``after``
    back to ``before``. The states are separate copies, so a step may be kept.
    """

    migration: Migration
    index: int
    operation: Operation
    before: ProjectState
    after: ProjectState
    backwards: bool = False

    def run(self, editor: SchemaEditor) -> None:
        """Carry the operation out (or back) through ``editor``."""
        app = self.migration.app
        if self.backwards:
            self.operation.database_backwards(app, editor, self.after, self.before)
        else:
            self.operation.database_forwards(app, editor, self.before, self.after)

    @property
    def location(self) -> str:
        """``shop/migrations/0005_x.py:14``: where a person finds this operation."""
        return self.migration.location(self.index)


class Migration:
    """One step of an app's schema history.

    Attributes a migration file sets on its ``Migration`` class:

    ``dependencies``  migrations that must run first, as ``(app, name)`` pairs
    ``operations``    the changes, in order
    ``initial``       the app's first migration (informational, as in Django)
    ``atomic``        run in one transaction where the database allows it (default True)
    ``replaces``      the migrations a squashed migration stands for
    ``run_before``    migrations of other apps that must run after this one
    ``accept``        check-migrations finding codes this migration means, e.g. ``("MC101",)``
                      for a column it drops on purpose: reported as accepted notes, not warnings
    """

    dependencies: ClassVar[list[tuple[str, str]]] = []
    operations: ClassVar[list[Operation]] = []
    initial: ClassVar[bool] = False
    atomic: ClassVar[bool] = True
    replaces: ClassVar[list[tuple[str, str]]] = []
    run_before: ClassVar[list[tuple[str, str]]] = []
    accept: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        name: str,
        app: str,
        path: Path | None = None,
        checksum: str | None = None,
        *,
        operations: list[Operation] | None = None,
    ) -> None:
        """``operations`` stands in for the class's, for a migration not yet written
        (makemigrations walks the one it plans)."""
        self.name = name
        self.app = app
        self.path = path
        self.checksum = checksum
        # Instance copies, so that nothing a caller does leaks into the class.
        self.dependencies = [tuple(d) for d in type(self).dependencies]  # type: ignore[misc]
        self.operations = list(  # type: ignore[misc]
            type(self).operations if operations is None else operations
        )
        self.replaces = [tuple(r) for r in type(self).replaces]  # type: ignore[misc]
        self.run_before = [tuple(r) for r in type(self).run_before]  # type: ignore[misc]

    @property
    def key(self) -> tuple[str, str]:
        return (self.app, self.name)

    def __repr__(self) -> str:
        return f"<Migration {self.app}.{self.name}>"

    def __str__(self) -> str:
        return f"{self.app}.{self.name}"

    @property
    def reversible(self) -> bool:
        return all(op.reversible for op in self.operations)

    def mutate_state(self, state: ProjectState, *, copy: bool = True) -> ProjectState:
        """The state after this migration; ``copy=False`` changes ``state`` in place.

        No copy per operation: replaying a long chain is the hot path of every command.
        """
        new = state.clone() if copy else state
        for index, op in enumerate(self.operations):
            self._forward(index, op, new)
        return new

    def _forward(self, index: int, op: Operation, state: ProjectState) -> None:
        """``op.state_forwards`` in place, its complaint prefixed with the file and line."""
        try:
            op.state_forwards(self.app, state)
        except InvalidStateError as exc:
            raise InvalidStateError(
                f"{self.location(index)}: {exc}", key=self.key, op_index=index, reason=exc.reason
            ) from None

    def steps(self, state: ProjectState, *, backwards: bool = False) -> Iterator[Step]:
        """Each operation with the states around it, in the order it runs.

        ``state`` is the state before this migration (also when unapplying: the states
        after each operation are computed forwards from it, which is what makes
        backwards computable). Forwards, the steps come as they are computed, so a
        caller that stops at a failing operation computed no more than it needed;
        backwards, every state is computed before the first step comes out. Raises
        InvalidStateError naming the file and line of an operation that does not fit.
        """
        if not backwards:
            for index, op in enumerate(self.operations):
                after = state.clone()
                self._forward(index, op, after)
                yield Step(self, index, op, state, after)
                state = after
            return
        forwards = list(self.steps(state))
        for step in reversed(forwards):
            yield Step(self, step.index, step.operation, step.before, step.after, backwards=True)

    def apply(self, state: ProjectState, editor: SchemaEditor) -> ProjectState:
        """Run every operation forwards through ``editor``; the state after this migration.

        As Django's ``Migration.apply``. Callers that must know which operations ran
        before a failure (the executor) walk :meth:`steps` themselves.
        """
        for step in self.steps(state):
            step.run(editor)
            state = step.after
        editor.finish()
        return state

    def unapply(self, state: ProjectState, editor: SchemaEditor) -> ProjectState:
        """Undo every operation, last first, through ``editor``; ``state`` is the state
        before this migration, and is what it returns."""
        for step in self.steps(state, backwards=True):
            step.run(editor)
        editor.finish()
        return state

    def location(self, op_index: int | None = None) -> str:
        """``shop/migrations/0005_x.py:14`` (or the migration's name when it has no file)."""
        if self.path is None:
            return str(self)
        line = self.operation_line(op_index) if op_index is not None else None
        return f"{self.display_path}:{line}" if line else self.display_path

    @property
    def display_path(self) -> str:
        if self.path is None:
            return str(self)
        from migrate_core.paths import shown

        return shown(self.path)

    def operation_line(self, index: int) -> int | None:
        if self.path is None:
            return None
        lines = operation_lines(str(self.path))
        return lines[index] if index < len(lines) else None


@functools.lru_cache(maxsize=256)
def operation_lines(path: str) -> list[int]:
    """Line numbers of the entries of ``operations = [...]`` in a migration file.

    Parsed only when a message needs them (an error, a report), never on the
    fast paths.
    """
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for stmt in node.body:
                targets: list[Any] = []
                if isinstance(stmt, ast.Assign):
                    targets = stmt.targets
                elif isinstance(stmt, ast.AnnAssign):
                    targets = [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == "operations" for t in targets):
                    value = getattr(stmt, "value", None)
                    if isinstance(value, (ast.List, ast.Tuple)):
                        return [elt.lineno for elt in value.elts]
    return []


def class_line(path: str) -> int | None:
    """Line of ``class Migration`` in a file, for annotations that point at the migration."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return node.lineno
    return None
