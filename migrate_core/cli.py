"""The ``migrate-core`` command line: parse, call the library, print, exit.

Exit codes: 0 ok, 1 problems found (a migration failed, changes missing with
``--check``, a check failed), 2 usage or configuration error, 3 a question
only a person can answer (``makemigrations --noinput``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click

from migrate_core import __version__
from migrate_core.db import dialects
from migrate_core.errors import MigrateCoreError
from migrate_core.errors import exit_code_for

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.usecases.makemigrations import MakeResult
    from migrate_core.usecases.makemigrations import NewMigration
    from migrate_core.usecases.migrate import Event
    from migrate_core.usecases.migrate import PlannedMigration

F = TypeVar("F", bound=Callable[..., Any])


def _err(message: str) -> None:
    click.echo(f"migrate-core: {message}", err=True)


def handle_errors(fn: F) -> F:
    """Turn library errors into a message and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MigrateCoreError as exc:
            _err(str(exc))
            sys.exit(exit_code_for(exc))
        except KeyboardInterrupt as exc:
            # A migration's interrupt carries what was rolled back and where the database is.
            _err(str(exc) or "interrupted")
            sys.exit(exit_code_for(exc))

    return wrapper  # type: ignore[return-value]


def _config(ctx: click.Context) -> Config:
    from migrate_core.config import load_config

    obj = ctx.find_root().obj or {}
    if "config" not in obj:
        obj["config"] = load_config(obj.get("config_path"))
    return obj["config"]


def _shown(path: Path) -> str:
    from migrate_core.paths import shown

    return shown(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=True),
    help="pyproject.toml to use (default: search upwards).",
)
@click.version_option(__version__, prog_name="migrate-core")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Django-style migrations for SQLAlchemy models."""
    ctx.obj = {"config_path": config_path}


# -- makemigrations --------------------------------------------------------------------------------


@main.command()
@click.argument("apps", nargs=-1)
@click.option("--name", "-n", help="Name the migration (instead of one made from its operations).")
@click.option("--empty", is_flag=True, help="Write an empty migration to fill in by hand.")
@click.option(
    "--check",
    is_flag=True,
    help="Ask nothing, write nothing; list what is missing and exit 1 if a migration is needed.",
)
@click.option(
    "--dry-run", is_flag=True, help="Ask nothing, write nothing; show what would be written."
)
@click.option("--merge", is_flag=True, help="Write merge migrations for apps with several leaves.")
@click.option(
    "--noinput",
    "--no-input",
    "noinput",
    is_flag=True,
    help="Never prompt; renames only from --rename or hints.",
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="TABLE.COLUMN=NEW | TABLE=NEW",
    help="Declare a rename (repeatable); one that matches no drop and add is an error.",
)
@click.option("-v", "--verbose", is_flag=True, help="With --dry-run, print the files too.")
@click.pass_context
@handle_errors
def makemigrations(
    ctx: click.Context,
    apps: tuple[str, ...],
    name: str | None,
    empty: bool,
    check: bool,
    dry_run: bool,
    merge: bool,
    noinput: bool,
    renames: tuple[str, ...],
    verbose: bool,
) -> None:
    """Write migrations for what changed in the models."""
    from migrate_core import answers
    from migrate_core.errors import ConfigError
    from migrate_core.migrations.questioner import InteractiveQuestioner
    from migrate_core.migrations.questioner import NonInteractiveQuestioner
    from migrate_core.migrations.questioner import Questioner
    from migrate_core.migrations.questioner import Rename
    from migrate_core.migrations.questioner import SilentQuestioner
    from migrate_core.usecases import makemigrations as mm

    config = _config(ctx)
    try:
        declared = [Rename.parse(r) for r in renames]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    app_name = apps[0] if len(apps) == 1 else None
    if merge:
        result = mm.merge_migrations(config, list(apps), name=name)
        if not result.migrations:
            click.echo("No conflicts detected to merge.")
            return
    else:
        questioner: Questioner
        if check or dry_run:
            # Listing what would be written answers no question: CI needs the list and
            # exit 1, and a question stays open, named on the line it concerns.
            questioner = SilentQuestioner(app_name=app_name)
        elif noinput:
            questioner = NonInteractiveQuestioner(app_name=app_name)
        else:
            questioner = InteractiveQuestioner(app_name=app_name, ask=_ask, say=click.echo)
        # A run the cache could have answered is traced, and its "no changes" stored.
        question = answers.asked(ctx.find_root().obj.get("config_path"), apps) if check else None
        with answers.recording(question, config) as recorder:
            result = mm.make_migrations(
                config, list(apps), questioner, name=name, empty=empty, declared_renames=declared
            )
            if not result.migrations:
                recorder.no_changes()
    if not result.migrations:
        click.echo(answers.no_changes_message(apps))
        return
    _print_new(result)
    if check:
        click.echo("Migrations are missing: run migrate-core makemigrations", err=True)
        if result.questions:
            click.echo(
                "It needs answers first: " + "; ".join(q.summary() for q in result.questions),
                err=True,
            )
        sys.exit(1)
    if dry_run:
        if verbose:
            for m in result.migrations:
                click.echo(f"\n--- {_shown(m.path)}\n{m.content}")
        return
    mm.write(result)


def _ask(prompt: str) -> str:
    click.echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not line:
        click.echo("")
        return ""
    return line.rstrip("\n")


def _print_new(result: MakeResult) -> None:
    by_app: dict[str, list[NewMigration]] = {}
    for m in result.migrations:
        by_app.setdefault(m.app, []).append(m)
    for app, migrations in by_app.items():
        click.echo(f"Migrations for {app!r}:")
        for m in migrations:
            click.echo(f"  {click.style(_shown(m.path), bold=True)}")
            notes = m.notes or [""] * len(m.operations)
            for _op, text, note in zip(m.operations, m.descriptions, notes):
                click.echo(f"    {_colour(text)}{note}")
            if m.merge:
                for text in m.descriptions:
                    click.echo(f"  {text}")


def _colour(text: str) -> str:
    colours = {"+": "green", "-": "red", "~": "yellow", ">": "cyan", "*": "magenta"}
    return click.style(text[:1], fg=colours.get(text[:1])) + text[1:]


# -- migrate -----------------------------------------------------------------------------------------


def _database_option(fn: F) -> F:
    return click.option(
        "--database-url",
        envvar=None,
        help="Database to use (default: MIGRATE_CORE_DATABASE_URL, then database-url in pyproject.toml).",
    )(fn)


class _Seconds(click.ParamType):
    """A finite number of seconds, 0 or more: a negative wait means nothing, and NaN or
    infinity cannot be handed to a database's timeout (SQLite's busy_timeout is an int)."""

    name = "seconds"
    #: A day: longer than any lock wait worth having, small enough for every driver.
    limit = 86400.0

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        import math

        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds, e.g. 30", param, ctx)
        if not math.isfinite(seconds) or not 0 <= seconds <= self.limit:
            self.fail(f"{value!r}: give seconds from 0 to {self.limit:.0f}, e.g. 30", param, ctx)
        return seconds


def _lock_timeout_option(fn: F) -> F:
    # migrate waits this long for another run's lock; showmigrations and migrate --plan
    # for a database that locks its readers out (SQLite while a writer commits).
    return click.option(
        "--lock-timeout",
        type=_Seconds(),
        default=600.0,
        show_default=True,
        help="Seconds to wait for another migrate run.",
    )(fn)


def _print_warning(event: Event) -> None:
    """A changed or vanished applied migration, on stderr (other events: nothing)."""
    from migrate_core.usecases.migrate import FileWarning

    if isinstance(event, FileWarning):
        click.echo(f"warning: {event.message}", err=True)


class _ProgressPrinter:
    """Show a migrate run as it happens: warnings, the plan's header, each migration.

    "OK" is printed only once the migration's transaction has committed (the executor
    reports "done" after it). ``close`` ends a line left open by a migration that never
    finished, so the error that stopped it starts on a line of its own.
    """

    def __init__(self) -> None:
        self.open = False

    def __call__(self, p: Event) -> None:
        from migrate_core.usecases.migrate import FileWarning
        from migrate_core.usecases.migrate import PlanReady

        if isinstance(p, FileWarning):
            _print_warning(p)
            return
        if isinstance(p, PlanReady):
            count = f"{len(p.plan)} migration{'s' if len(p.plan) != 1 else ''}"
            verb = "unapply" if p.backwards else "apply"
            click.echo(f"Operations to perform: {verb} {count} ({', '.join(p.apps)})")
            return
        if p.migration is None:
            if p.event == "wait":
                click.echo("Waiting for another migrate run to finish...", err=True)
            return
        if p.event == "note":
            click.echo(p.message)
            return
        verb = "Unapplying" if p.backwards else "Applying"
        if p.event == "start":
            click.echo(f"  {verb} {p.migration}...", nl=False)
            self.open = True
            return
        self.open = False
        if p.event == "done":
            suffix = " FAKED" if p.fake else f" {click.style('OK', fg='green')} ({p.elapsed:.2f}s)"
            click.echo(suffix)
        elif p.event == "skipped":
            click.echo(" skipped (another migrate run got there first)")

    def close(self, word: str) -> None:
        if self.open:
            click.echo(f" {click.style(word, fg='red')}")
            self.open = False


@main.command()
@click.argument("app", required=False)
@click.argument("target", required=False)
@_database_option
@click.option("--plan", "show_plan", is_flag=True, help="Show what would run; change nothing.")
@click.option("--fake", is_flag=True, help="Record the migrations as run without running them.")
@_lock_timeout_option
@click.pass_context
@handle_errors
def migrate(
    ctx: click.Context,
    app: str | None,
    target: str | None,
    database_url: str | None,
    show_plan: bool,
    fake: bool,
    lock_timeout: float,
) -> None:
    """Apply migrations; with APP TARGET, move APP to exactly TARGET (a name, a prefix, or zero)."""
    from migrate_core.usecases import migrate as uc

    config = _config(ctx)
    url = config.resolve_database_url(database_url)
    if show_plan:
        result = uc.migrate(
            config,
            url,
            app,
            target,
            plan_only=True,
            lock_timeout=lock_timeout,
            progress=_print_warning,
        )
        _print_plan(result.plan)
        return
    from migrate_core import console

    # SIGTERM (a deploy timeout) unwinds like Ctrl-C: the migration in flight is rolled
    # back and reported, instead of the process vanishing mid-line.
    console.terminate_as_interrupt()
    printer = _ProgressPrinter()
    try:
        result = uc.migrate(
            config,
            url,
            app,
            target,
            fake=fake,
            lock_timeout=lock_timeout,
            progress=printer,
        )
    except KeyboardInterrupt:  # also MigrationInterrupted, with what was rolled back
        printer.close("INTERRUPTED")
        raise
    except BaseException:
        printer.close("FAILED")
        raise
    if not result.plan:
        click.echo("No migrations to apply." if not target else "Nothing to do: already there.")
    elif len(result.plan) > 1:
        click.echo(f"Done in {result.elapsed:.2f}s.")


def _print_plan(plan: list[PlannedMigration]) -> None:
    if not plan:
        click.echo("No planned migration operations.")
        return
    click.echo("Planned operations:")
    for migration in plan:
        click.echo(f"{migration}")
        for op in migration.operations:
            prefix = "Undo " if migration.backwards else ""
            irreversible = "  (IRREVERSIBLE)" if op.irreversible else ""
            click.echo(f"    {prefix}{op.symbol} {op.description}{irreversible}")


# -- showmigrations ----------------------------------------------------------------------------------


@main.command()
@click.argument("apps", nargs=-1)
@_database_option
@click.option(
    "--plan", "show_plan", is_flag=True, help="Show every migration in the order migrate runs them."
)
@_lock_timeout_option
@click.pass_context
@handle_errors
def showmigrations(
    ctx: click.Context,
    apps: tuple[str, ...],
    database_url: str | None,
    show_plan: bool,
    lock_timeout: float,
) -> None:
    """List migrations and whether the database has applied them."""
    from migrate_core.usecases.showmigrations import MigrationRow
    from migrate_core.usecases.showmigrations import show_migrations

    config = _config(ctx)
    url = config.resolve_database_url(database_url)
    result = show_migrations(config, url, list(apps), plan=show_plan, lock_timeout=lock_timeout)

    def mark(row: MigrationRow) -> str:
        return "[X]" if row.status == "applied" else "[ ]"

    def note(row: MigrationRow) -> str:
        return "  (file changed since it was applied)" if row.changed else ""

    for row in result.plan:
        click.echo(f"{mark(row)}  {row.app}.{row.name}{note(row)}")
    for listing in result.apps:
        click.echo(click.style(listing.app, bold=True))
        if not listing.rows:
            click.echo(" (no migrations)")
        for row in listing.rows:
            if row.status == "unknown":
                click.echo(f" [?] {row.name}  (applied, but there is no such migration file)")
            else:
                click.echo(f" {mark(row)} {row.name}{note(row)}")


# -- sqlmigrate --------------------------------------------------------------------------------------


@main.command()
@click.argument("app")
@click.argument("name")
@click.option("--backwards", is_flag=True, help="The SQL to unapply the migration.")
@click.option(
    "--dialect",
    type=click.Choice(dialects.names()),
    help="SQL dialect (default: the configured database's, else sqlite).",
)
@click.pass_context
@handle_errors
def sqlmigrate(
    ctx: click.Context, app: str, name: str, backwards: bool, dialect: str | None
) -> None:
    """Print the SQL a migration runs, without connecting to a database."""
    from migrate_core.usecases.sqlmigrate import sql_for_migration

    config = _config(ctx)
    click.echo(sql_for_migration(config, app, name, dialect=dialect, backwards=backwards), nl=False)


# -- install-hook ------------------------------------------------------------------------------------


@main.command("install-hook")
@click.option(
    "--stage", is_flag=True, help="Stage the migrations the hook writes and let the commit go on."
)
@click.option("--force", is_flag=True, help="Replace an existing pre-commit hook.")
@handle_errors
def install_hook(stage: bool, force: bool) -> None:
    """Install migrate-core as this repository's plain git pre-commit hook."""
    from migrate_core.usecases.install_hook import install_hook as install

    target = install(Path.cwd(), sys.executable, stage=stage, force=force)
    click.echo(f"Installed {target}")


# -- check-migrations --------------------------------------------------------------------------------


def _check_options(fn: F) -> F:
    from migrate_core import console
    from migrate_core.options import click_options

    return click_options(fn, console.check_names)


def _run_check(config_path: str | None, **values: Any) -> None:
    from migrate_core import console
    from migrate_core.options import CheckArgs

    console.terminate_as_interrupt()
    code = console.run_check(config_path, CheckArgs.from_values(values))
    if code:
        sys.exit(code)


@main.command("check")
@_check_options
@click.pass_context
@handle_errors
def check(ctx: click.Context, **kwargs: Any) -> None:
    """Verify the whole migration chain (the same as check-migrations)."""
    _run_check(ctx.find_root().obj.get("config_path"), **kwargs)


@click.command("check-migrations", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=True), help="pyproject.toml to use."
)
@_check_options
@click.version_option(__version__, prog_name="check-migrations")
@handle_errors
def check_migrations_main(config_path: str | None, **kwargs: Any) -> None:
    """Prove the migration chain: graph, missing migrations, git, reversibility, drift, data loss.

    Exit 0 when nothing is wrong, 1 when a check found an error, 2 on a usage
    or configuration error.
    """
    _run_check(config_path, **kwargs)


if __name__ == "__main__":  # pragma: no cover
    main()
