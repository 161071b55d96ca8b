"""The end of a check run that both entry points share: print, write files, decide the exit.

``check-migrations`` / ``migrate-core check`` (click) and ``migrate-core-hook check``
call :func:`run_check`; it runs the library's check use case, renders the report
in the chosen format, appends the job summary in GitHub Actions, writes
``--json-report``, and answers the exit code. Printing and exit codes are the entry
points' business, never the library's, so this sits in L6 beside them. Imports
below the standard library happen inside the functions: the hook imports this
module on its way to the slow path only.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.errors import exit_code_for

if TYPE_CHECKING:
    from migrate_core.options import CheckArgs

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


def check_names() -> tuple[str, ...]:
    """The names ``--skip`` takes, in the order the checks run: read from one place."""
    from migrate_core.checks.registry import NAMES

    return tuple(NAMES)


def terminate_as_interrupt() -> None:
    """Make SIGTERM end the process the way Ctrl-C does, and let no second signal cut
    the cleanup short.

    CI runners and pre-commit stop a job with SIGTERM, whose default kills at once:
    the scratch databases the checks created would stay behind on the server. Raised
    as KeyboardInterrupt, it unwinds through the ``with`` blocks that drop them.
    The first SIGINT or SIGTERM does that; every later one (a person pressing Ctrl-C
    again because the drop takes a moment) only says that the cleanup is under way:
    raised again, it would abort the DROP and leave the database behind. To abandon a
    hung cleanup there is SIGQUIT or SIGKILL; the next run drops the leftover once it
    is stale (see ``db/scratch.py``). Called again (each run), it starts afresh.
    A process-wide handler is the entry point's decision, so only entry points call this.
    """
    from migrate_core.db import scratch

    interrupted = False

    def _interrupt(signum: int, frame: Any) -> None:
        nonlocal interrupted
        if interrupted:
            _notice("interrupted again: still cleaning up, please wait")
            return
        interrupted = True
        # Python puts the default handlers back while it shuts down, and a Ctrl-C then
        # would end the process by the signal instead of with 130: ignored from there on.
        atexit.register(_ignore_signals)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    scratch.set_notice(_notice)


def _ignore_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _notice(message: str) -> None:
    """A line for the person waiting on a cleanup (stderr: stdout may be a report)."""
    clear = "\r\033[K" if sys.stderr.isatty() else ""
    sys.stderr.write(f"{clear}migrate-core: {message}\n")
    sys.stderr.flush()


def error(exc: BaseException) -> int:
    """Report an error that ends a command on stderr, as the CLI does; its exit code."""
    text = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
    sys.stderr.write(f"migrate-core: {text}\n")
    sys.stderr.flush()
    return exit_code_for(exc)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _progress(message: str) -> None:
    sys.stderr.write(f"\r\033[K{message}")
    sys.stderr.flush()


def run_check(config_path: str | Path | None, args: CheckArgs) -> int:
    """Run the checks of the project at ``config_path`` (None: search upwards) and print
    the report; 0 when nothing is wrong, 1 when a check found an error (or a warning,
    with ``--strict``). Library errors propagate, for the caller's error handler."""
    from migrate_core.checks import report as rp
    from migrate_core.config import load_config
    from migrate_core.usecases.check import CheckOptions
    from migrate_core.usecases.check import run_checks

    if args.cleanup:
        return run_cleanup(args)
    config = load_config(config_path)
    summary = os.environ.get("GITHUB_STEP_SUMMARY") if args.output_format == "github" else None
    # Before the checks, which may take minutes: a report that cannot be written is
    # known now, and a missing folder is made, so the report is not lost at the end.
    outputs = [
        (p, what)
        for p, what in ((args.json_report, "--json-report"), (summary, "$GITHUB_STEP_SUMMARY"))
        if p
    ]
    for path, what in outputs:
        _prepare_output(path, what)
    # Progress only where a person watches: it rewrites one line of a terminal.
    progress = _progress if args.output_format == "text" and sys.stderr.isatty() else None
    options = CheckOptions(
        database_url=args.database_url,
        base_ref=args.base_ref,
        apps=list(args.apps),
        skip=set(args.skip),
        allow_irreversible=set(args.allow_irreversible),
        no_database=args.no_database,
        progress=progress,
        stale_after=args.stale_after,
    )
    result = run_checks(config, options)
    if progress is not None:
        sys.stderr.write("\r\033[K")
    if result.stale_dropped:
        names = ", ".join(result.stale_dropped)
        sys.stderr.write(
            f"migrate-core: dropped {len(result.stale_dropped)} stale scratch "
            f"database{'s' if len(result.stale_dropped) > 1 else ''} (older than "
            f"{args.cleanup_older_than}, unused): {names}\n"
        )
    if args.output_format == "json":
        _write(rp.render_json(result))
    elif args.output_format == "github":
        _write(rp.render_github(result))
    else:
        _write(rp.render_text(result, colour=sys.stdout.isatty()))
    code = EXIT_FAIL if result.errors or (args.strict and result.warnings) else EXIT_OK
    written = True
    if summary:
        written &= _write_file(summary, "$GITHUB_STEP_SUMMARY", rp.render_summary(result), "a")
    if args.json_report:
        written &= _write_file(args.json_report, "--json-report", rp.render_json(result), "w")
    return code if written else EXIT_USAGE


def run_cleanup(args: CheckArgs) -> int:
    """``--cleanup``: drop the stale scratch databases, print each one found and what
    became of it; run no check. 0, or 1 when a stale one could not be dropped."""
    import datetime as dt

    from migrate_core.db.scratch import describe_age
    from migrate_core.errors import ConfigError
    from migrate_core.usecases.cleanup import cleanup_scratch

    ignored = args.ignored_by_cleanup()
    if ignored:
        raise ConfigError(
            f"--cleanup runs no check, so {', '.join(ignored)} would do nothing: "
            f"leave {'it' if len(ignored) == 1 else 'them'} out, or run the check as a step of its own"
        )
    older_than = args.stale_after
    report = cleanup_scratch(args.database_url, older_than)
    bound = describe_age(older_than) if older_than else "any age"
    if not report.leftovers:
        _write(f"no scratch databases on {report.where}\n")
        return EXIT_OK
    now = dt.datetime.now(dt.timezone.utc)
    for leftover in report.leftovers:
        scratch = leftover.scratch
        made = ""
        if scratch.created is not None:
            made = (
                f" (made {scratch.created:%Y-%m-%d %H:%M:%S} UTC, "
                f"{describe_age(scratch.age(now) or 0)} ago, by {scratch.user}@{scratch.host}, "
                f"process {scratch.pid})"
            )
        if leftover.dropped:
            _write(f"dropped {scratch.name}{made}\n")
        else:
            _write(f"kept    {scratch.name}{made}: {leftover.reason}\n")
    _write(
        f"{len(report.dropped)} dropped, {len(report.kept)} kept "
        f"(scratch databases on {report.where}, stale after {bound})\n"
    )
    return EXIT_FAIL if report.failed else EXIT_OK


def _prepare_output(path: str, what: str) -> None:
    """Make the folder of an output file, or a usage error naming it and the reason."""
    from migrate_core.errors import ConfigError

    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{what} {path}: is a folder; name a file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{what} {path}: cannot create its folder ({exc.strerror or exc}); "
            "name a file in a folder you can write"
        ) from None


def _write_file(path: str, what: str, text: str, mode: str) -> bool:
    """Write an output file; on failure say so on stderr (the report is on stdout already)."""
    try:
        with open(path, mode, encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        sys.stderr.write(
            f"migrate-core: {what} {path}: cannot write it ({exc.strerror or exc}); "
            "the report above is complete\n"
        )
        return False
    return True
