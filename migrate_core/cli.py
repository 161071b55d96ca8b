"""The ``migrate-core`` command line: parse, call the library, print, exit.

Exit codes: 0 ok, 1 problems found (a migration failed, changes missing with
``--check``, a check failed), 2 usage or configuration error, 3 a question
only a person can answer (``makemigrations --noinput``).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click

from migrate_core import __version__
from migrate_core.db import dialects
from migrate_core.errors import MigrateCoreError

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.db.executor import Progress

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
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _err("interrupted")
            sys.exit(130)

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
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a migration is needed.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
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
    help="Declare a rename.",
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
    from migrate_core.errors import ConfigError
    from migrate_core.migrations.questioner import InteractiveQuestioner
    from migrate_core.migrations.questioner import NonInteractiveQuestioner
    from migrate_core.migrations.questioner import Rename
    from migrate_core.usecases import makemigrations as mm

    config = _config(ctx)
    try:
        hints = frozenset(Rename.parse(r) for r in renames)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    app_name = apps[0] if len(apps) == 1 else None
    if merge:
        result = mm.merge_migrations(config, list(apps), name=name)
        if not result.migrations:
            click.echo("No conflicts detected to merge.")
            return
    else:
        if noinput or check:
            questioner: Any = NonInteractiveQuestioner(renames=hints, app_name=app_name)
        else:
            questioner = InteractiveQuestioner(
                renames=hints, app_name=app_name, ask=_ask, say=click.echo
            )
        result = mm.make_migrations(config, list(apps), questioner, name=name, empty=empty)
    if not result.migrations:
        click.echo(
            f"No changes detected in app{'s' if len(apps) != 1 else ''} {', '.join(apps)}".rstrip()
            if apps
            else "No changes detected"
        )
        return
    _print_new(result)
    if check:
        click.echo("Migrations are missing: run migrate-core makemigrations", err=True)
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


def _print_new(result: Any) -> None:
    declined = {(t, o): n for t, o, n in result.declined_renames}
    by_app: dict[str, list[Any]] = {}
    for m in result.migrations:
        by_app.setdefault(m.app, []).append(m)
    for app, migrations in by_app.items():
        click.echo(f"Migrations for {app!r}:")
        for m in migrations:
            click.echo(f"  {click.style(_shown(m.path), bold=True)}")
            for op, text in zip(m.operations, m.descriptions):
                click.echo(f"    {_colour(text)}{_loss_note(op, declined)}")
            if m.merge:
                for text in m.descriptions:
                    click.echo(f"  {text}")


def _loss_note(op: Any, declined: dict[tuple[str | None, str], str]) -> str:
    from migrate_core.migrations.operations import DeleteModel
    from migrate_core.migrations.operations import RemoveField

    if isinstance(op, RemoveField) and (op.table_name, op.name) in declined:
        new = declined[(op.table_name, op.name)]
        return (
            f"  (its data is lost; if it was renamed to {new}, run: "
            f"migrate-core makemigrations --rename {op.table_name}.{op.name}={new})"
        )
    if isinstance(op, DeleteModel) and (None, op.name) in declined:
        new = declined[(None, op.name)]
        return f"  (its rows are lost; if it was renamed to {new}, run: migrate-core makemigrations --rename {op.name}={new})"
    return ""


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


def _progress_printer() -> Callable[[Progress], None]:
    def show(p: Progress) -> None:
        if p.migration is None:
            if p.event == "wait":
                click.echo("Waiting for another migrate run to finish...", err=True)
            return
        verb = "Unapplying" if p.backwards else "Applying"
        if p.event == "start":
            click.echo(f"  {verb} {p.migration}...", nl=False)
        elif p.event == "done":
            suffix = " FAKED" if p.fake else f" {click.style('OK', fg='green')} ({p.elapsed:.2f}s)"
            click.echo(suffix)
        elif p.event == "skipped":
            click.echo(" skipped (another migrate run got there first)")

    return show


@main.command()
@click.argument("app", required=False)
@click.argument("target", required=False)
@_database_option
@click.option("--plan", "show_plan", is_flag=True, help="Show what would run; change nothing.")
@click.option("--fake", is_flag=True, help="Record the migrations as run without running them.")
@click.option(
    "--lock-timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds to wait for another migrate run.",
)
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
    from migrate_core.db import engine as db
    from migrate_core.db.executor import MigrationExecutor
    from migrate_core.db.recorder import MigrationRecorder
    from migrate_core.errors import MigrationFailed

    config = _config(ctx)
    url = config.resolve_database_url(database_url)
    progress = _progress_printer()
    with db.open_connection(url) as conn:
        if show_plan:
            executor = MigrationExecutor(conn, config)
            _warn_changed(executor)
            plan = executor.migration_plan(executor.targets_for(app, target))
            _print_plan(plan, executor)
            return
        wait_note = functools.partial(progress, _wait_progress())
        with db.migration_lock(conn, timeout=lock_timeout, on_wait=wait_note):
            MigrationRecorder(conn).ensure_table()
            executor = MigrationExecutor(conn, config, progress=progress)
            executor.check_consistent_history()
            _warn_changed(executor)
            plan = executor.migration_plan(executor.targets_for(app, target))
            if not plan:
                click.echo(
                    "No migrations to apply." if not target else "Nothing to do: already there."
                )
                return
            apps = sorted({m.app for m, _ in plan})
            verb = "unapply" if plan[0][1] else "apply"
            count = f"{len(plan)} migration{'s' if len(plan) != 1 else ''}"
            click.echo(f"Operations to perform: {verb} {count} ({', '.join(apps)})")
            started = time.perf_counter()
            try:
                executor.migrate(plan, fake=fake)
            except MigrationFailed:
                click.echo(f" {click.style('FAILED', fg='red')}")
                raise
            if len(plan) > 1:
                click.echo(f"Done in {time.perf_counter() - started:.2f}s.")


def _wait_progress() -> Progress:
    from migrate_core.db.executor import Progress

    return Progress("wait")


def _warn_changed(executor: Any) -> None:
    for key in executor.changed_files():
        f = executor.loader.files[key]
        click.echo(
            f"warning: {_shown(f.path)} changed since it was applied ({key[0]}.{key[1]}); "
            "an applied migration should not be edited",
            err=True,
        )
    for key in executor.unknown_applied():
        click.echo(
            f"warning: {key[0]}.{key[1]} is recorded as applied but has no migration file", err=True
        )


def _print_plan(plan: list[Any], executor: Any) -> None:
    if not plan:
        click.echo("No planned migration operations.")
        return
    click.echo("Planned operations:")
    for migration, backwards in plan:
        click.echo(f"{migration}")
        ops = list(reversed(migration.operations)) if backwards else migration.operations
        for op in ops:
            prefix = "Undo " if backwards else ""
            irreversible = "  (IRREVERSIBLE)" if backwards and not op.reversible else ""
            click.echo(f"    {prefix}{op.symbol} {op.describe()}{irreversible}")


# -- showmigrations ----------------------------------------------------------------------------------


@main.command()
@click.argument("apps", nargs=-1)
@_database_option
@click.option(
    "--plan", "show_plan", is_flag=True, help="Show every migration in the order migrate runs them."
)
@click.pass_context
@handle_errors
def showmigrations(
    ctx: click.Context, apps: tuple[str, ...], database_url: str | None, show_plan: bool
) -> None:
    """List migrations and whether the database has applied them."""
    from migrate_core.db import engine as db
    from migrate_core.db.executor import MigrationExecutor

    config = _config(ctx)
    url = config.resolve_database_url(database_url)
    selected = [a.name for a in config.select_apps(list(apps))]
    with db.open_connection(url) as conn:
        executor = MigrationExecutor(conn, config)
        applied = executor.applied
        changed = set(executor.changed_files())
        graph = executor.graph

        def mark(key: tuple[str, str]) -> str:
            return "[X]" if key in applied else "[ ]"

        def note(key: tuple[str, str]) -> str:
            return "  (file changed since it was applied)" if key in changed else ""

        if show_plan:
            for key in graph.full_plan(selected):
                click.echo(f"{mark(key)}  {key[0]}.{key[1]}{note(key)}")
            return
        unknown = executor.unknown_applied()
        for app in selected:
            click.echo(click.style(app, bold=True))
            keys = graph.full_plan([app])
            own = [k for k in keys if k[0] == app]
            if not own and not any(k[0] == app for k in unknown):
                click.echo(" (no migrations)")
            for key in own:
                click.echo(f" {mark(key)} {key[1]}{note(key)}")
            for key in unknown:
                if key[0] == app:
                    click.echo(f" [?] {key[1]}  (applied, but there is no such migration file)")


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
    if dialect is None:
        dialect = _configured_dialect(config) or dialects.DEFAULT
    click.echo(sql_for_migration(config, app, name, dialect=dialect, backwards=backwards), nl=False)


def _configured_dialect(config: Config) -> str | None:
    url = os.environ.get("MIGRATE_CORE_DATABASE_URL") or config.database_url
    if not url:
        return None
    try:
        return dialects.name_of(url)
    except Exception:
        return None


# -- install-hook ------------------------------------------------------------------------------------

HOOK_MARKER = "# Installed by migrate-core install-hook"


def hook_script(python: str, *, stage: bool) -> str:
    """A plain git pre-commit hook that runs migrate-core with this very interpreter."""
    import shlex

    extra = " --stage" if stage else ""
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARKER}: writes the migrations for staged model changes.\n"
        "# Remove this file to uninstall; `migrate-core install-hook --force` rewrites it.\n"
        f"exec {shlex.quote(python)} -m migrate_core.hook makemigrations{extra}\n"
    )


@main.command("install-hook")
@click.option(
    "--stage", is_flag=True, help="Stage the migrations the hook writes and let the commit go on."
)
@click.option("--force", is_flag=True, help="Replace an existing pre-commit hook.")
@handle_errors
def install_hook(stage: bool, force: bool) -> None:
    """Install migrate-core as this repository's plain git pre-commit hook."""
    from migrate_core.errors import ConfigError
    from migrate_core.vcs import git

    repo = git.repo_root(Path.cwd())
    if repo is None:
        raise ConfigError(f"{Path.cwd()} is not inside a git repository")
    target = git.hooks_path(repo) / "pre-commit"
    if target.exists() and not force and HOOK_MARKER not in target.read_text(errors="replace"):
        raise ConfigError(
            f"{target} exists and is not ours; pass --force to replace it "
            "(or call `python -m migrate_core.hook makemigrations` from it)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(hook_script(sys.executable, stage=stage), encoding="utf-8")
    target.chmod(0o755)
    click.echo(f"Installed {target}")


# -- check-migrations --------------------------------------------------------------------------------


def _check_options(fn: F) -> F:
    options = [
        click.option(
            "--database-url",
            help="Server for the scratch databases (default: a temporary SQLite file).",
        ),
        click.option(
            "--base-ref",
            help="Base branch to compare with (default: GITHUB_BASE_REF in GitHub Actions).",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["text", "json", "github"]),
            default="text",
            show_default=True,
        ),
        click.option("--app", "apps", multiple=True, help="Check only this app (repeatable)."),
        click.option(
            "--skip",
            multiple=True,
            type=click.Choice(["graph", "missing", "git", "reversibility", "drift", "destructive"]),
            help="Skip a check (repeatable).",
        ),
        click.option(
            "--no-database", is_flag=True, help="Skip the checks that need a scratch database."
        ),
        click.option(
            "--allow-irreversible",
            multiple=True,
            metavar="APP.NAME",
            help="Accept a known irreversible migration.",
        ),
        click.option("--strict", is_flag=True, help="Warnings fail the run too."),
        click.option(
            "--json-report",
            type=click.Path(dir_okay=False),
            help="Also write the JSON report to this file.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run_check(
    config_path: str | None,
    database_url: str | None,
    base_ref: str | None,
    output_format: str,
    apps: tuple[str, ...],
    skip: tuple[str, ...],
    no_database: bool,
    allow_irreversible: tuple[str, ...],
    strict: bool,
    json_report: str | None,
) -> None:
    import signal

    from migrate_core.checks import report as rp
    from migrate_core.config import load_config
    from migrate_core.usecases.check import CheckOptions
    from migrate_core.usecases.check import run_checks

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # so that the scratch databases are dropped on the way out

    signal.signal(signal.SIGTERM, _terminate)
    config = load_config(config_path)
    progress = None
    if output_format == "text" and sys.stderr.isatty():

        def progress(message: str) -> None:
            click.echo(f"\r\033[K{message}", nl=False, err=True)

    options = CheckOptions(
        database_url=database_url,
        base_ref=base_ref,
        apps=list(apps),
        skip=set(skip),
        allow_irreversible=set(allow_irreversible),
        no_database=no_database,
        progress=progress,
    )
    result = run_checks(config, options)
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    if output_format == "json":
        click.echo(rp.render_json(result), nl=False)
    elif output_format == "github":
        click.echo(rp.render_github(result), nl=False)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(rp.render_summary(result))
    else:
        click.echo(rp.render_text(result, colour=sys.stdout.isatty()), nl=False)
    if json_report:
        Path(json_report).write_text(rp.render_json(result), encoding="utf-8")
    if result.errors or (strict and result.warnings):
        sys.exit(1)


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
