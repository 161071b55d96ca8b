"""The questions a diff cannot answer alone.

Was ``product.name`` renamed to ``title``, or dropped while another column was
added? What goes into the existing rows of a new NOT NULL column? A person
answers at a terminal (:class:`InteractiveQuestioner`); a commit hook or CI
cannot, so :class:`NonInteractiveQuestioner` answers only from hints (an
explicit ``--rename``, or what the staged git diff shows) and otherwise stops
with the commands that would answer it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import QuestionRequired

if TYPE_CHECKING:
    from migrate_core.schema.state import ColumnState
    from migrate_core.schema.state import TableState


@dataclass(frozen=True)
class Rename:
    """A known rename: ``table`` is None for a table rename (``old`` -> ``new`` table names)."""

    table: str | None
    old: str
    new: str

    @classmethod
    def parse(cls, text: str) -> Rename:
        """``product.name=title`` (a column) or ``product=item`` (a table).

        ``product.name=product.title`` is accepted too: the rename question prints
        "Rename product.name to product.title?", and a person copies what they read.
        A column rename stays in its table, so another table on the right is an error.
        """
        usage = f"--rename {text}: write TABLE.COLUMN=NEW_COLUMN or TABLE=NEW_TABLE"
        if not text.isprintable():
            # A pasted newline or escape would split the one-line message and name nothing.
            raise ValueError(
                f"--rename {text!r}: a name cannot hold control characters (newline, tab, escape); "
                "write TABLE.COLUMN=NEW_COLUMN or TABLE=NEW_TABLE"
            )
        left, sep, new = (part.strip() for part in text.partition("="))
        if not sep or not left or not new or "=" in new:
            raise ValueError(usage)
        if "." not in left:
            if "." in new:
                raise ValueError(
                    f"--rename {text}: a table rename names two tables (TABLE=NEW_TABLE); "
                    f"for a column write TABLE.COLUMN=NEW_COLUMN"
                )
            return cls(None, left, new)
        table, old = left.split(".", 1)
        if "." in new:
            new_table, new = new.split(".", 1)
            if new_table != table:
                raise ValueError(
                    f"--rename {text}: a column stays in its table; "
                    f"write {table}.{old}={new} (and --rename {table}={new_table} if the table "
                    "was renamed too)"
                )
        if not table or not old or not new or "." in old or "." in new:
            raise ValueError(usage)
        return cls(table, old, new)

    @property
    def argument(self) -> str:
        """The ``--rename`` argument that declares this rename, in its one documented form."""
        return f"{self.table}.{self.old}={self.new}" if self.table else f"{self.old}={self.new}"


@dataclass
class Questioner:
    """Base: knows the hints and records the renames it declined (for the output)."""

    renames: frozenset[Rename] = field(default_factory=frozenset)
    app_name: str | None = None
    declined_renames: list[tuple[str | None, str, str]] = field(default_factory=list)

    def hinted_column(self, table: str, old: str, new: str) -> bool:
        return Rename(table, old, new) in self.renames

    def hinted_table(self, old: str, new: str) -> bool:
        return Rename(None, old, new) in self.renames

    def renamed_elsewhere(self, table: str | None, old: str, new: str) -> bool:
        """Whether a known rename takes ``old`` to another name, or another name to ``new``:
        then ``old`` -> ``new`` is no candidate, and asking about it would only let a person
        contradict what they declared."""
        return any(r.table == table and (r.old == old) != (r.new == new) for r in self.renames)

    def ask_rename_table(self, old: TableState, new: TableState) -> bool:
        raise NotImplementedError

    def ask_rename_column(self, table: str, old: ColumnState, new: ColumnState) -> bool:
        raise NotImplementedError

    def ask_fill_value(self, table: str, column: ColumnState, *, altering: bool) -> Any:
        raise NotImplementedError

    def ask_reverse_fill_value(self, table: str, column: ColumnState) -> Any:
        """The value a rollback of removing NOT NULL ``column`` gives the rows it comes back to."""
        raise NotImplementedError


class NonInteractiveQuestioner(Questioner):
    def ask_rename_table(self, old: TableState, new: TableState) -> bool:
        if self.hinted_table(old.name, new.name):
            return True
        if self.renamed_elsewhere(None, old.name, new.name):
            return False
        self.declined_renames.append((None, old.name, new.name))
        return False

    def ask_rename_column(self, table: str, old: ColumnState, new: ColumnState) -> bool:
        if self.hinted_column(table, old.name, new.name):
            return True
        if self.renamed_elsewhere(table, old.name, new.name):
            return False
        self.declined_renames.append((table, old.name, new.name))
        return False

    def ask_fill_value(self, table: str, column: ColumnState, *, altering: bool) -> Any:
        raise QuestionRequired(
            not_null_message(table, column, altering=altering, app=self.app_name)
        )

    def ask_reverse_fill_value(self, table: str, column: ColumnState) -> Any:
        raise QuestionRequired(reverse_fill_message(table, column, app=self.app_name))


class SilentQuestioner(NonInteractiveQuestioner):
    """For checks: what makemigrations would write, with no question stopping it.

    Renames stay unconfirmed (unless hinted), and a NOT NULL column without a
    default is planned without a fill value rather than refused.
    """

    def ask_fill_value(self, table: str, column: ColumnState, *, altering: bool) -> Any:
        return None

    def ask_reverse_fill_value(self, table: str, column: ColumnState) -> Any:
        return None


def not_null_message(table: str, column: ColumnState, *, altering: bool, app: str | None) -> str:
    name = column.name
    if altering:
        head = (
            f"Cannot make column {name} on {table} NOT NULL: existing rows may hold NULL and the "
            "column has no server default."
        )
    else:
        head = (
            f"Cannot add NOT NULL column {name} to {table}: the table may have rows and the column "
            "has no server default."
        )
    python_type = _python_type_hint(column)
    example_default = _example_default(column)
    cmd = f"migrate-core makemigrations {app}" if app else "migrate-core makemigrations"
    return (
        f"{head}\n"
        "Pick one:\n"
        f"  1. give it a server default:   {name}: Mapped[{python_type}] = mapped_column(server_default={example_default})\n"
        f"  2. make it nullable:           {name}: Mapped[{python_type} | None]\n"
        f"  3. run interactively to enter a one-off default:   {cmd}"
    )


def reverse_fill_message(table: str, column: ColumnState, *, app: str | None) -> str:
    """Why removing ``column`` needs an answer, and the ways to give one (exit 3)."""
    name = column.name
    python_type = _python_type_hint(column)
    cmd = f"migrate-core makemigrations {app}" if app else "migrate-core makemigrations"
    return (
        f"Cannot remove NOT NULL column {name} from {table} reversibly: the rollback adds it "
        "back to rows that have no value for it, and the column has no server default.\n"
        "Pick one:\n"
        f"  1. run interactively to enter a one-off value for the rollback:   {cmd}\n"
        f"  2. give it a server default first (its own migration), then remove it:   "
        f"{name}: Mapped[{python_type}] = mapped_column(server_default={_example_default(column)})\n"
        f'  3. write the value into the migration yourself:   RemoveField("{table}", "{name}", '
        "reverse_fill=...)"
    )


def _python_type_hint(column: ColumnState) -> str:
    try:
        return column.type.python_type.__name__
    except Exception:
        return "str"


def _example_default(column: ColumnState) -> str:
    hint = _python_type_hint(column)
    return {
        "int": '"0"',
        "float": '"0"',
        "Decimal": '"0"',
        "bool": "sa.false()",
        "datetime": "sa.func.now()",
    }.get(hint, '""')


class InteractiveQuestioner(Questioner):
    """Asks at a terminal. ``prompt`` reads one answer (click.prompt-like); injectable for tests."""

    def __init__(
        self,
        *,
        renames: Iterable[Rename] = (),
        app_name: str | None = None,
        ask: Callable[[str], str],
        say: Callable[[str], None],
    ) -> None:
        super().__init__(renames=frozenset(renames), app_name=app_name)
        self.ask = ask
        self.say = say

    def _yes(self, question: str) -> bool:
        while True:
            answer = self.ask(f"{question} [y/N] ").strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("", "n", "no"):
                return False
            self.say("Please answer y or n.")

    def ask_rename_table(self, old: TableState, new: TableState) -> bool:
        if self.hinted_table(old.name, new.name):
            return True
        if self.renamed_elsewhere(None, old.name, new.name):
            return False
        if self._yes(f"Rename table {old.name} to {new.name}?"):
            return True
        # Recorded like the non-interactive answer, so the output says the rows are lost.
        self.declined_renames.append((None, old.name, new.name))
        return False

    def ask_rename_column(self, table: str, old: ColumnState, new: ColumnState) -> bool:
        if self.hinted_column(table, old.name, new.name):
            return True
        if self.renamed_elsewhere(table, old.name, new.name):
            return False
        if self._yes(f"Rename {table}.{old.name} to {table}.{new.name}?"):
            return True
        self.declined_renames.append((table, old.name, new.name))
        return False

    def ask_fill_value(self, table: str, column: ColumnState, *, altering: bool) -> Any:
        what = "becomes NOT NULL" if altering else "is new and NOT NULL"
        self.say(
            f"Column {table}.{column.name} {what} without a server default, and {table} may have rows.\n"
            "Enter a one-off value to fill the existing rows (it is written into the migration; the "
            "column keeps no default afterwards).\n"
            "A Python literal such as 0, 'n/a' or True, or sql:CURRENT_TIMESTAMP for a SQL expression; "
            "an empty answer stops here."
        )
        while True:
            answer = self.ask(">>> ").strip()
            if not answer:
                raise QuestionRequired(
                    not_null_message(table, column, altering=altering, app=self.app_name)
                )
            try:
                value = parse_fill_value(answer)
            except ValueError as exc:
                self.say(str(exc))
                continue
            # The file would refuse to load with it: ask again now instead.
            from migrate_core.migrations.operations.fields import fill_problem

            problem = fill_problem(value, column)
            if problem is None:
                return value
            self.say(f"{answer} {problem}")

    def ask_reverse_fill_value(self, table: str, column: ColumnState) -> Any:
        self.say(
            f"Column {table}.{column.name} is removed; it is NOT NULL without a server default, "
            "so a rollback adds it back to rows that have no value for it.\n"
            "Enter a one-off value the rollback fills those rows with (it is written into the "
            "migration as reverse_fill).\n"
            "A Python literal such as 0, 'n/a' or True, or sql:CURRENT_TIMESTAMP for a SQL expression; "
            "an empty answer stops here."
        )
        while True:
            answer = self.ask(">>> ").strip()
            if not answer:
                raise QuestionRequired(reverse_fill_message(table, column, app=self.app_name))
            try:
                value = parse_fill_value(answer)
            except ValueError as exc:
                self.say(str(exc))
                continue
            # The file would refuse to load with it: ask again now instead.
            from migrate_core.migrations.operations.fields import fill_problem

            problem = fill_problem(value, column)
            if problem is None:
                return value
            self.say(f"{answer} {problem}")


def parse_fill_value(text: str) -> Any:
    """``'n/a'`` -> 'n/a', ``0`` -> 0, ``sql:now()`` -> sa.text('now()')."""
    if text.startswith("sql:"):
        import sqlalchemy as sa

        expr = text[4:].strip()
        if not expr:
            raise ValueError("sql: needs an expression, e.g. sql:CURRENT_TIMESTAMP")
        return sa.text(expr)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(
            f"{text!r} is not a Python literal; quote text ('n/a'), or write sql:<expression>"
        ) from None
    if value is None or not isinstance(value, (str, int, float, bool)):
        raise ValueError("enter a str, int, float or bool (None would not satisfy NOT NULL)")
    return value
