"""One options model: click and the hook's argparse parser read the same argv alike."""

from __future__ import annotations

import argparse
import dataclasses

import click
import pytest
from click.testing import CliRunner

from migrate_core import console
from migrate_core.options import CHECK_OPTIONS
from migrate_core.options import CheckArgs
from migrate_core.options import add_hook_arguments
from migrate_core.options import click_options


def test_every_option_has_a_field_and_every_field_an_option() -> None:
    dests = {o.dest for o in CHECK_OPTIONS} - {"full"}  # the hook's inverse of --no-database
    assert dests == {f.name for f in dataclasses.fields(CheckArgs)}


def _hook_parse(argv: list[str]) -> CheckArgs:
    parser = argparse.ArgumentParser()
    add_hook_arguments(parser, console.check_names)
    return CheckArgs.from_values(vars(parser.parse_args(argv)))


def _click_parse(argv: list[str]) -> CheckArgs:
    seen: list[CheckArgs] = []

    @click.command()
    def command(**values: object) -> None:
        seen.append(CheckArgs.from_values(values))

    result = CliRunner().invoke(click_options(command, console.check_names), argv)
    assert result.exit_code == 0, result.output
    return seen[0]


ARGV = [
    "--database-url",
    "sqlite:///x.db",
    "--base-ref",
    "origin/main",
    "--format",
    "github",
    "--app",
    "shop",
    "--app",
    "billing",
    "--skip",
    "drift",
    "--skip",
    "destructive",
    "--allow-irreversible",
    "shop.0003_x",
    "--strict",
    "--json-report",
    "report.json",
]


def test_click_and_the_hook_parse_the_same_options_alike() -> None:
    expected = CheckArgs(
        database_url="sqlite:///x.db",
        base_ref="origin/main",
        output_format="github",
        apps=("shop", "billing"),
        skip=("drift", "destructive"),
        allow_irreversible=("shop.0003_x",),
        strict=True,
        json_report="report.json",
        no_database=True,  # the hook's default; the CLI's below
    )
    assert _hook_parse(ARGV) == expected
    assert _click_parse([*ARGV, "--no-database"]) == expected
    assert _hook_parse([*ARGV, "--full"]) == dataclasses.replace(expected, no_database=False)
    assert _click_parse(ARGV) == dataclasses.replace(expected, no_database=False)


def test_defaults_are_the_same_on_both_sides() -> None:
    assert _click_parse([]) == CheckArgs()
    assert _hook_parse(["--full"]) == CheckArgs()


def test_skip_takes_only_check_names_on_both_sides(capsys: pytest.CaptureFixture[str]) -> None:
    assert "reversibility" in console.check_names()
    with pytest.raises(SystemExit) as exc:
        _hook_parse(["--skip", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err

    @click.command()
    def command(**values: object) -> None:
        pass

    result = CliRunner().invoke(click_options(command, console.check_names), ["--skip", "nope"])
    assert result.exit_code == 2 and "'nope' is not one of" in result.output


def test_the_check_database_url_comes_from_the_environment_for_both_parsers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Action passes the URL this way: a command line is visible in the process list."""
    from migrate_core.options import CHECK_DATABASE_URL_ENV

    monkeypatch.setenv(CHECK_DATABASE_URL_ENV, "postgresql://ci:pw@db/postgres")
    assert _hook_parse([]).database_url == "postgresql://ci:pw@db/postgres"
    assert _click_parse([]).database_url == "postgresql://ci:pw@db/postgres"
    # The flag wins; an empty variable (an empty Action input) is no URL.
    assert _hook_parse(["--database-url", "sqlite:///x.db"]).database_url == "sqlite:///x.db"
    monkeypatch.setenv(CHECK_DATABASE_URL_ENV, "")
    assert _click_parse([]).database_url is None
