"""Errors a user can act on.

Each error carries the exit code the CLI should use, so that commands stay thin:
``2`` for usage or configuration problems (the input is wrong), ``1`` for a
migration that failed while running, ``3`` for a question only a human can answer.
"""

from __future__ import annotations

from collections.abc import Sequence


class MigrateCoreError(Exception):
    """Base class; ``str(error)`` is the whole message shown to the user."""

    exit_code = 2


class ConfigError(MigrateCoreError):
    """pyproject.toml is missing, malformed, or names something that does not exist."""


class ModelImportError(MigrateCoreError):
    """The models module of an app could not be imported (syntax error, missing package)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class BadMigrationError(MigrateCoreError):
    """A migration file cannot be loaded: syntax error, no Migration class, bad attribute."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class NodeNotFoundError(MigrateCoreError):
    """A dependency or a target names a migration that does not exist."""

    def __init__(self, message: str, node: tuple[str, str] | None = None) -> None:
        super().__init__(message)
        self.node = node


class CircularDependencyError(MigrateCoreError):
    """Migrations depend on each other in a loop."""


class AmbiguityError(MigrateCoreError):
    """A migration prefix matches more than one migration."""


class InconsistentHistoryError(MigrateCoreError):
    """The history table says a migration is applied but one of its dependencies is not."""


class IrreversibleError(MigrateCoreError):
    """An operation that cannot be undone stands in the way of a rollback."""


class InvalidStateError(MigrateCoreError):
    """An operation does not fit the schema state it is applied to (hand-edited chain).

    Raised again by the migration with its file and line in front; ``key``,
    ``op_index`` and ``reason`` keep the parts, so a report can point at the line.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        key: tuple[str, str] | None = None,
        op_index: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.op_index = op_index
        self.reason = reason if reason is not None else message


class DatabaseConnectionError(MigrateCoreError):
    """The database cannot be reached; the message carries the URL with its password masked."""


class HistoryTableError(MigrateCoreError):
    """The database refused a read or write of the history table (a role without rights)."""


class MigrationFailed(MigrateCoreError):
    """A migration raised while running against the database."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        key: tuple[str, str] | None = None,
        op_index: int | None = None,
        operation: str = "",
        error: str = "",
    ) -> None:
        super().__init__(message)
        #: The migration that failed, and which of its operations.
        self.key = key
        self.op_index = op_index
        #: The failing operation as written (shortened) and the database's own message.
        self.operation = operation
        self.error = error


class MigrationInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a migration; ``str(error)`` says what was rolled back.

    Still a KeyboardInterrupt: whatever catches errors on the way up (a check reporting
    a migration that failed) must let an interrupt through, to its cleanup and exit 130.
    """


class InterruptedMigrationError(MigrateCoreError):
    """A migration a killed run left half done, where the database cannot tell how far it got.

    Only a person can answer (exit 3); the message says what to check and how to record it.
    """

    exit_code = 3


class QuestionRequired(MigrateCoreError):
    """makemigrations needs an answer only a human can give (``--noinput`` was used)."""

    exit_code = 3


class LockTimeout(MigrateCoreError):
    """Another migrate run holds the migration lock for longer than we were willing to wait."""

    exit_code = 1


class NotEmptyError(ConfigError):
    """The fallback database is not empty; we refuse to touch it."""


class ConflictError(MigrateCoreError):
    """Several leaf migrations in an app: the history forked on two branches."""

    exit_code = 1


class GitError(MigrateCoreError):
    """A git command failed, or git cannot answer the question asked of it.

    ``str(error)`` names the command, git's own first line of complaint, and what
    to do; ``command`` and ``stderr`` keep the raw material for logs and tests.
    """

    exit_code = 2

    def __init__(self, message: str, *, command: Sequence[str] = (), stderr: str = "") -> None:
        super().__init__(message)
        self.command = tuple(command)
        self.stderr = stderr


class ModelProblemsError(MigrateCoreError):
    """The models declare constructs no database can create (see ``schema/validate.py``).

    ``problems`` keeps each one as data (model, file, line, table, column, fix).
    """

    def __init__(self, message: str, problems: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


#: The process exit code for a Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an error that ends a command: one mapping for the CLI and the hooks.

    0 ok, 1 problems found, 2 usage or configuration error, 3 a question only a person
    can answer; an interrupt is 130.
    """
    if isinstance(exc, MigrateCoreError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return 2
