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
    """Make SIGTERM end the process the way Ctrl-C does.

    CI runners and pre-commit stop a job with SIGTERM, whose default kills at once:
    the scratch databases the checks created would stay behind on the server. Raised
    as KeyboardInterrupt, it unwinds through the ``with`` blocks that drop them.
    A process-wide handler is the entry point's decision, so only entry points call this.
    """

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)


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
    )
    result = run_checks(config, options)
    if progress is not None:
        sys.stderr.write("\r\033[K")
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
