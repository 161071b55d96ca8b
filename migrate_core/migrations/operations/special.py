"""Operations that run code: raw SQL and Python callables."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.migrations.operations import render as rd
from migrate_core.migrations.operations.base import Operation
from migrate_core.schema import sqltext

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.db.schema_editor import SchemaEditor
    from migrate_core.schema.codegen import Rendered
    from migrate_core.schema.state import ProjectState


def _as_statements(sql: str | Sequence[str]) -> list[str]:
    if isinstance(sql, str):
        return sqltext.split_statements(sql)
    return [s for s in sql if s.strip()]


def _check_sql(sql: Any, name: str) -> None:
    """Refused when the file is loaded, as every operation checks its own arguments:
    not at ``migrate`` time as a traceback from deep inside the run."""
    if isinstance(sql, str):
        return
    if isinstance(sql, (list, tuple)) and all(isinstance(s, str) for s in sql):
        return
    raise TypeError(f"RunSQL {name} must be SQL text or a list of statements, got {sql!r}")


class RunSQL(Operation):
    """Run raw SQL. Without ``reverse_sql`` the migration cannot be rolled back.

    ``state_operations`` tell the state what the SQL did to the schema (Django's
    convention), so the autodetector and the checks know about it.
    """

    symbol = "*"
    noop = ""

    def __init__(
        self,
        sql: str | Sequence[str],
        reverse_sql: str | Sequence[str] | None = None,
        state_operations: Sequence[Operation] = (),
    ) -> None:
        _check_sql(sql, "sql")
        if reverse_sql is not None:
            _check_sql(reverse_sql, "reverse_sql")
        if not isinstance(state_operations, (list, tuple)) or not all(
            isinstance(op, Operation) for op in state_operations
        ):
            raise TypeError(
                f"RunSQL state_operations must be a list of operations, got {state_operations!r}"
            )
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.state_operations = list(state_operations)

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_sql is not None

    def state_forwards(self, app: str, state: ProjectState) -> None:
        for op in self.state_operations:
            op.state_forwards(app, state)

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        for statement in _as_statements(self.sql):
            editor.run_sql(statement)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if self.reverse_sql is None:
            raise NotImplementedError("RunSQL without reverse_sql cannot be reversed")
        for statement in _as_statements(self.reverse_sql):
            editor.run_sql(statement)

    def describe(self) -> str:
        text = self.sql if isinstance(self.sql, str) else "; ".join(self.sql)
        text = " ".join(text.split())
        return (
            f"Raw SQL: {text[:60]}{'...' if len(text) > 60 else ''}" if text else "Raw SQL (no-op)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return "run_sql"

    def render(self) -> Rendered:
        kwargs: list[tuple[str, Any]] = [("reverse_sql", self.reverse_sql)]
        if self.state_operations:
            kwargs.append(
                ("state_operations", rd.list_of(op.render() for op in self.state_operations))
            )
        return rd.op_call("RunSQL", [self.sql], kwargs)

    def tables(self) -> set[str] | None:
        return None


class RunPython(Operation):
    """Run a Python callable with the migration's SQLAlchemy connection.

    Both callables take one argument, the :class:`sqlalchemy.engine.Connection`.
    Without ``backwards`` the migration cannot be rolled back; pass
    ``RunPython.noop`` when undoing needs nothing.
    """

    symbol = "*"
    reduces_to_sql = False

    def __init__(
        self,
        forwards: Callable[[Connection], Any],
        backwards: Callable[[Connection], Any] | None = None,
        atomic: bool | None = None,
    ) -> None:
        if not callable(forwards):
            raise TypeError("RunPython needs a callable that takes a connection")
        if backwards is not None and not callable(backwards):
            raise TypeError("RunPython backwards must be callable or None")
        self.forwards = forwards
        self.backwards = backwards
        self.atomic = atomic

    @staticmethod
    def noop(connection: Connection) -> None:
        return None

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.backwards is not None

    def state_forwards(self, app: str, state: ProjectState) -> None:
        pass

    def _run(self, fn: Callable[[Connection], Any], editor: SchemaEditor) -> None:
        if editor.connection is None:
            editor.comment(f"RunPython {_callable_name(fn)}: Python code, not shown as SQL")
            return
        fn(editor.connection)

    def database_forwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._run(self.forwards, editor)

    def database_backwards(
        self, app: str, editor: SchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if self.backwards is None:
            raise NotImplementedError("RunPython without backwards cannot be reversed")
        self._run(self.backwards, editor)

    def describe(self) -> str:
        return f"Run Python {_callable_name(self.forwards)}"

    @property
    def migration_name_fragment(self) -> str:
        return "run_python"

    def tables(self) -> set[str] | None:
        return None


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
