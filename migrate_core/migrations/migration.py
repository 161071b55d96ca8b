"""The Migration class that every migration file subclasses."""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from migrate_core.errors import InvalidStateError

if TYPE_CHECKING:
    from migrate_core.migrations.operations.base import Operation
    from migrate_core.schema.state import ProjectState


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
        self, name: str, app: str, path: Path | None = None, checksum: str | None = None
    ) -> None:
        self.name = name
        self.app = app
        self.path = path
        self.checksum = checksum
        # Instance copies, so that nothing a caller does leaks into the class.
        self.dependencies = [tuple(d) for d in type(self).dependencies]  # type: ignore[misc]
        self.operations = list(type(self).operations)  # type: ignore[misc]
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
        """The state after this migration; ``copy=False`` changes ``state`` in place."""
        new = state.clone() if copy else state
        for index, op in enumerate(self.operations):
            try:
                op.state_forwards(self.app, new)
            except InvalidStateError as exc:
                raise InvalidStateError(
                    f"{self.location(index)}: {exc}", key=self.key, op_index=index, reason=str(exc)
                ) from None
        return new

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
