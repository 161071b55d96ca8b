"""Operations that run code: raw SQL and Python callables."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.operations import render as rd
from migrate_core.operations.base import Operation

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.schema_editor import SchemaEditor
    from migrate_core.serializer import Rendered
    from migrate_core.state import ProjectState


def split_sql(sql: str) -> list[str]:
    """Split a script into statements on top-level semicolons.

    Quotes ('', "", ``), comments (--, /* */) and PostgreSQL dollar quotes are
    respected. SQLite and PyMySQL run one statement per call, so we split
    ourselves. Pass a list of statements to RunSQL to skip the splitting (for
    trigger bodies with inner semicolons, say).
    """
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                if sql[j] == "\\" and ch != '"':
                    j += 1
                j += 1
            buf.append(sql[i : j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j == -1 else j
            buf.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j == -1 else j + 2
            buf.append(sql[i:j])
            i = j
        elif ch == "$":
            end = sql.find("$", i + 1)
            tag = sql[i : end + 1] if end != -1 else ""
            if tag and (tag == "$$" or tag[1:-1].replace("_", "a").isalnum()):
                close = sql.find(tag, end + 1)
                close = n if close == -1 else close + len(tag)
                buf.append(sql[i:close])
                i = close
            else:
                buf.append(ch)
                i += 1
        elif ch == ";":
            statements.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    statements.append("".join(buf))
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    lines = [line for line in statement.strip().splitlines() if not line.strip().startswith("--")]
    return bool("".join(lines).strip())


def _as_statements(sql: str | Sequence[str]) -> list[str]:
    if isinstance(sql, str):
        return split_sql(sql)
    return [s for s in sql if s.strip()]


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
