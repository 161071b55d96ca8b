"""The options of ``check-migrations``, as data: one list feeds every parser.

``migrate-core check``, ``check-migrations`` (click) and the commit hook
``migrate-core-hook check`` (argparse, because the hook's fast path imports no
click) all build their options from :data:`CHECK_OPTIONS`, and all hand the parsed
values on as one :class:`CheckArgs`. A new option is one entry here and one field
there (a test keeps the two in step).

The check names ``--skip`` takes belong to the check registry, four layers up: this
module cannot import it, so the builders take a ``check_names`` function from their
caller (the entry point, which may import anything) and argparse calls it only when
``--skip`` is actually given or help is shown.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
from typing import Any
from typing import Literal
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Where the check takes its scratch-database server from when ``--database-url`` is not
#: given. Not ``MIGRATE_CORE_DATABASE_URL``: that names the real database, which checks
#: never touch.
CHECK_DATABASE_URL_ENV = "MIGRATE_CORE_CHECK_DATABASE_URL"

#: How old a leftover scratch database must be before it is dropped (``--cleanup-older-than``).
DEFAULT_STALE_AFTER = "6h"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_AGE = 100 * 365.25 * 86400


def parse_age(text: str, *, option: str = "--cleanup-older-than") -> float:
    """``30m``, ``6h``, ``2d``, ``90s`` or ``0`` as seconds; anything else a usage error
    naming ``option``. A unit is required: a bare ``6`` could be hours or seconds."""
    from migrate_core.errors import ConfigError

    if text.strip() == "0":
        return 0.0
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(
            f"{option} {text}: not an age; give a number and a unit, e.g. 30m, 6h, 2d (0: any age)"
        )
    seconds = float(match[1]) * _UNIT_SECONDS[match[2].lower()]
    # A hundred years already means "never stale"; beyond that it is a typo (or infinity,
    # which no date can be compared with).
    if seconds > _MAX_AGE:
        raise ConfigError(f"{option} {text}: more than 100 years; give a shorter age, e.g. 30d")
    return seconds


#: The check names, supplied by the entry point (see the module docstring).
CHECK_NAMES = "check names"


@dataclass(frozen=True)
class Option:
    """One command-line option of the check.

    ``kind``: ``value`` takes one value, ``flag`` none, ``multiple`` is repeatable.
    ``choices``: fixed values, or :data:`CHECK_NAMES`. ``hook``: the commit hook
    offers it too; ``cli``: the click commands do (``--full`` is the hook's own way
    of saying "not ``--no-database``").
    """

    flag: str
    dest: str
    help: str = ""
    kind: Literal["value", "flag", "multiple"] = "value"
    choices: tuple[str, ...] | str | None = None
    default: str | None = None
    metavar: str | None = None
    output_file: bool = False
    hook: bool = True
    cli: bool = True
    #: An environment variable read when the flag is not given. Read in
    #: :meth:`CheckArgs.from_values`, so click and the hook's argparse parser agree.
    #: A secret belongs there rather than on a command line any process can list.
    env: str | None = None


CHECK_OPTIONS: tuple[Option, ...] = (
    Option(
        "--database-url",
        "database_url",
        f"Server for the scratch databases (default: ${CHECK_DATABASE_URL_ENV}, "
        "else a temporary SQLite file).",
        env=CHECK_DATABASE_URL_ENV,
    ),
    Option(
        "--base-ref",
        "base_ref",
        "Base branch to compare with (default: GITHUB_BASE_REF in GitHub Actions).",
    ),
    Option("--format", "output_format", choices=("text", "json", "github"), default="text"),
    Option("--app", "apps", "Check only this app (repeatable).", kind="multiple"),
    Option("--skip", "skip", "Skip a check (repeatable).", kind="multiple", choices=CHECK_NAMES),
    Option(
        "--no-database",
        "no_database",
        "Skip the checks that need a scratch database.",
        kind="flag",
        hook=False,
    ),
    Option(
        "--full",
        "full",
        "Run the scratch-database checks too.",
        kind="flag",
        cli=False,
    ),
    Option(
        "--allow-irreversible",
        "allow_irreversible",
        "Accept a known irreversible migration.",
        kind="multiple",
        metavar="APP.NAME",
    ),
    Option("--strict", "strict", "Warnings fail the run too.", kind="flag"),
    Option(
        "--json-report",
        "json_report",
        "Also write the JSON report to this file.",
        output_file=True,
    ),
    Option(
        "--cleanup",
        "cleanup",
        "Drop stale scratch databases (see --cleanup-older-than), list what was dropped "
        "and kept, and run no check.",
        kind="flag",
        hook=False,
    ),
    Option(
        "--cleanup-older-than",
        "cleanup_older_than",
        "Scratch databases older than this are stale (each run drops them): 30m, 6h, 2d; "
        "0 means any age.",
        default=DEFAULT_STALE_AFTER,
        metavar="AGE",
    ),
)


@dataclass(frozen=True)
class CheckArgs:
    """The parsed options of a check run, whichever parser read them."""

    database_url: str | None = None
    base_ref: str | None = None
    output_format: str = "text"
    apps: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    no_database: bool = False
    allow_irreversible: tuple[str, ...] = ()
    strict: bool = False
    json_report: str | None = None
    cleanup: bool = False
    cleanup_older_than: str = DEFAULT_STALE_AFTER

    def ignored_by_cleanup(self) -> list[str]:
        """The options given that only shape a check run, which ``--cleanup`` does not do:
        taken silently, a CI step asking for ``--json-report`` would find no report (and
        ``--format json`` a parser no JSON) only in a later step."""
        given = {
            "--format": self.output_format != "text",
            "--json-report": self.json_report is not None,
            "--base-ref": self.base_ref is not None,
            "--app": bool(self.apps),
            "--skip": bool(self.skip),
            "--no-database": self.no_database,
            "--allow-irreversible": bool(self.allow_irreversible),
            "--strict": self.strict,
        }
        return [flag for flag, on in given.items() if on]

    @property
    def stale_after(self) -> float:
        """``--cleanup-older-than`` in seconds (a usage error when it is no age)."""
        return parse_age(self.cleanup_older_than)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> CheckArgs:
        """From click's keyword arguments or argparse's ``vars(namespace)``; ``full`` (the
        hook's) means the opposite of ``no_database``; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        out: dict[str, Any] = {}
        for option in CHECK_OPTIONS:
            if option.dest not in known or option.dest not in values:
                continue
            value = values[option.dest]
            if value is None and option.env:
                value = os.environ.get(option.env) or None
            if option.kind == "multiple":
                value = tuple(value or ())
            elif option.kind == "flag":
                value = bool(value)
            elif value is None and option.default is not None:
                value = option.default
            out[option.dest] = value
        if "full" in values:
            out["no_database"] = not values["full"]
        return cls(**out)


class _LazyChoices:
    """argparse ``choices`` that ask for the names only when argparse looks at them."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self._names = names

    def __contains__(self, value: object) -> bool:
        return value in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def _choices(option: Option, check_names: Callable[[], Sequence[str]]) -> Any:
    if option.choices == CHECK_NAMES:
        return _LazyChoices(check_names)
    return option.choices


def add_hook_arguments(
    parser: argparse.ArgumentParser, check_names: Callable[[], Sequence[str]]
) -> None:
    """The check options the commit hook takes, on an argparse parser."""
    for option in CHECK_OPTIONS:
        if not option.hook:
            continue
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help or None}
        if option.kind == "flag":
            kwargs["action"] = "store_true"
        else:
            kwargs["action"] = "append" if option.kind == "multiple" else "store"
            kwargs["choices"] = _choices(option, check_names)
            if option.metavar:
                kwargs["metavar"] = option.metavar
            elif option.choices == CHECK_NAMES:
                # Without a metavar argparse lists the choices while adding the argument,
                # which would ask for the check names on every commit.
                kwargs["metavar"] = "CHECK"
        parser.add_argument(option.flag, **kwargs)


def _lazy_click_choice(names: Callable[[], Sequence[str]]) -> Any:
    """A ``click.Choice`` whose names are read when click first needs them (a ``--skip``
    to check, or ``--help``), not when the CLI module is imported: reading them imports
    every check, which every other command would pay for (about 0.1 s a start)."""
    import click

    class LazyChoice(click.Choice):
        def __init__(self) -> None:
            self._names: tuple[str, ...] | None = None
            super().__init__((), case_sensitive=True)

        @property
        def choices(self) -> tuple[str, ...]:
            if self._names is None:
                self._names = tuple(names())
            return self._names

        @choices.setter
        def choices(self, value: Sequence[str]) -> None:
            pass  # click's own __init__ sets the (empty) list; the names come from names()

    return LazyChoice()


def click_options(fn: F, check_names: Callable[[], Sequence[str]]) -> F:
    """Decorate a click command with the check options the CLI takes."""
    import click

    decorators = []
    for option in CHECK_OPTIONS:
        if not option.cli:
            continue
        kwargs: dict[str, Any] = {"help": option.help or None}
        if option.kind == "flag":
            kwargs["is_flag"] = True
        elif option.kind == "multiple":
            kwargs["multiple"] = True
        if option.choices == CHECK_NAMES:
            kwargs["type"] = _lazy_click_choice(check_names)
        elif option.choices is not None:
            kwargs["type"] = click.Choice(list(option.choices))
        if option.output_file:
            kwargs["type"] = click.Path(dir_okay=False)
        if option.default is not None:
            kwargs["default"] = option.default
            kwargs["show_default"] = True
        if option.metavar:
            kwargs["metavar"] = option.metavar
        decorators.append(click.option(option.flag, option.dest, **kwargs))
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn
