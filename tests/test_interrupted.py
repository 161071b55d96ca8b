"""Interrupted and failing migrations: what was printed OK is kept, and the rest is told.

Real processes for the signals (``migrate-core`` as users run it, stopped with SIGINT,
SIGTERM or SIGKILL while a RunPython waits), real databases for the transactions.
A RunPython that must be stopped mid-way says so by creating a file, and then waits
for the signal; the test waits for that file, never for a time.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import cli
from helpers_engine import dialect_of
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import migrate
from helpers_engine import rows
from helpers_engine import snapshot
from helpers_engine import write_migration

from migrate_core.db.recorder import TABLE_NAME

MIGRATE_CORE = Path(sys.executable).with_name("migrate-core")

AUTHOR = """
migrations.CreateModel(
    "author",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
"""
EMAIL = 'migrations.AddField("author", sa.Column("email", sa.String(length=100))),'
PHONE = 'migrations.AddField("author", sa.Column("phone", sa.String(length=20))),'

# Announce that the migration is running, then wait to be stopped (a real signal ends it).
WAIT = """
import os
import pathlib
import time


def wait_for_signal(connection):
    connection.exec_driver_sql("INSERT INTO author (id, name) VALUES (1, 'in flight')")
    pathlib.Path(os.environ["MC_TEST_READY"]).write_text("ready")
    while True:
        time.sleep(0.05)
"""


def _applied(url: str) -> list[str]:
    """Finished migrations (a row with a state is one started and not finished)."""
    return [
        name
        for (name,) in rows(url, f"SELECT name FROM {TABLE_NAME} WHERE state IS NULL ORDER BY id")
    ]


def _chain(project: Path, third: str, *, prelude: str = "", attributes: str = "") -> None:
    write_migration(project, "0001_initial", AUTHOR)
    write_migration(project, "0002_email", EMAIL, [("shop", "0001_initial")])
    write_migration(
        project,
        "0003_third",
        third,
        [("shop", "0002_email")],
        prelude=prelude,
        attributes=attributes,
    )


@pytest.fixture
def sqlite_project(make_project, tmp_path: Path) -> Iterator[tuple[Path, str]]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    yield make_project(MODELS, url=url), url
    dispose_engines()


@pytest.fixture
def project(make_project, db_url: str) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    yield make_project(MODELS, url=db_url)
    dispose_engines()


def _start(project: Path, url: str, ready: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MIGRATE_CORE), "migrate", "--database-url", url, *args],
        cwd=project,
        env={**os.environ, "NO_COLOR": "1", "MC_TEST_READY": str(ready)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(ready: Path, proc: subprocess.Popen[str]) -> None:
    """Until the RunPython announced itself (or the process ended without doing so)."""
    while not ready.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"migrate ended early\nstdout:\n{out}\nstderr:\n{err}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)


# -- SQLite: OK means kept -------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_keeps_what_was_printed_ok_and_says_what_was_rolled_back(
    sqlite_project: tuple[Path, str], tmp_path: Path, signum: int
) -> None:
    project, url = sqlite_project
    _chain(
        project, "migrations.RunPython(wait_for_signal, migrations.RunPython.noop),", prelude=WAIT
    )
    ready = tmp_path / "ready"
    proc = _start(project, url, ready)
    _wait_for(ready, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 130, f"stdout:\n{out}\nstderr:\n{err}"
    assert "Applying shop.0001_initial... OK" in out
    assert "Applying shop.0002_email... OK" in out
    assert "Applying shop.0003_third... INTERRUPTED" in out
    assert "interrupted (Ctrl-C or SIGTERM)" in err
    assert "Run Python wait_for_signal" in err
    assert (
        "Nothing of 0003_third was kept (rolled back); the database is at shop.0002_email." in err
    )
    assert "Traceback" not in err
    assert _applied(url) == ["0001_initial", "0002_email"]
    assert rows(url, "SELECT count(*) FROM author") == [(0,)]
    assert "email" in snapshot(url).tables["author"].columns


def test_sigkill_keeps_every_migration_printed_ok(
    sqlite_project: tuple[Path, str], tmp_path: Path
) -> None:
    project, url = sqlite_project
    _chain(
        project, "migrations.RunPython(wait_for_signal, migrations.RunPython.noop),", prelude=WAIT
    )
    ready = tmp_path / "ready"
    proc = _start(project, url, ready)
    _wait_for(ready, proc)
    proc.kill()
    out, _err = proc.communicate(timeout=120)

    printed_ok = [line.split()[1] for line in out.splitlines() if line.endswith("s)")]
    assert printed_ok == ["shop.0001_initial...", "shop.0002_email..."]
    assert _applied(url) == ["0001_initial", "0002_email"]
    # The rerun starts where the history says, and finishes once the RunPython returns.
    write_migration(
        project,
        "0003_third",
        'migrations.RunSQL("UPDATE author SET name = name", reverse_sql=""),',
        [("shop", "0002_email")],
    )
    assert "Applying shop.0003_third... OK" in migrate(url).stdout
    assert _applied(url) == ["0001_initial", "0002_email", "0003_third"]


def test_sys_exit_in_run_python_is_a_failure_not_success(
    sqlite_project: tuple[Path, str],
) -> None:
    project, url = sqlite_project
    prelude = "import sys\n\n\ndef bail(connection):\n    sys.exit(0)\n"
    _chain(project, "migrations.RunPython(bail),", prelude=prelude)
    result = migrate(url, expect=1)
    assert "Applying shop.0003_third... FAILED" in result.stdout
    assert "0003_third.py" in result.stderr and "Run Python bail" in result.stderr
    assert "it called sys.exit(0)" in result.stderr
    assert "Nothing of 0003_third was kept (rolled back)" in result.stderr
    assert _applied(url) == ["0001_initial", "0002_email"]


def test_an_operation_that_does_not_fit_keeps_the_migrations_before_it(
    sqlite_project: tuple[Path, str],
) -> None:
    project, url = sqlite_project
    _chain(project, 'migrations.RemoveField("author", "no_such_column"),')
    result = migrate(url, expect=1)
    assert "Applying shop.0002_email... OK" in result.stdout
    assert "no_such_column" in result.stderr
    assert _applied(url) == ["0001_initial", "0002_email"]


def test_sqlite_lock_wait_honours_lock_timeout(
    sqlite_project: tuple[Path, str], tmp_path: Path
) -> None:
    project, url = sqlite_project
    _chain(project, PHONE)
    holder = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        result = migrate(url, "--lock-timeout", "1", expect=1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "Waiting for another migrate run to finish..." in result.stderr
    assert "holds the migration lock on sqlite:///" in result.stderr
    assert "did not finish within 1 s; try again when it is done" in result.stderr
    assert "Traceback" not in result.stderr
    migrate(url)
    assert _applied(url) == ["0001_initial", "0002_email", "0003_third"]


# -- every database ------------------------------------------------------------------------------

COMMITS = """
def commits(connection):
    connection.exec_driver_sql("INSERT INTO author (id, name) VALUES (1, 'a')")
    connection.commit()
    connection.exec_driver_sql("INSERT INTO author (id, name) VALUES (2, 'b')")
"""


def test_run_python_that_commits_is_stopped_and_named(project: Path, db_url: str) -> None:
    # Data only, so one transaction on every database (MySQL too): the commit breaks it.
    rename = 'migrations.RunSQL("UPDATE author SET name = \'renamed\'", reverse_sql=""),'
    _chain(project, "migrations.RunPython(commits),\n" + rename, prelude=COMMITS)
    result = migrate(db_url, expect=1)
    assert "Applying shop.0003_third... FAILED" in result.stdout
    assert "0003_third.py" in result.stderr and "Run Python commits" in result.stderr
    assert "ended the migration's transaction itself" in result.stderr
    assert "history table does not record 0003_third (it says shop.0002_email)" in result.stderr
    assert "what it did up to its commit is kept" in result.stderr
    assert "Nothing of" not in result.stderr
    # Stopped right after it: the insert after the commit and the next operation did not stay.
    assert rows(db_url, "SELECT id, name FROM author ORDER BY id") == [(1, "a")]
    assert _applied(db_url) == ["0001_initial", "0002_email"]


def test_data_only_migration_is_one_transaction(project: Path, db_url: str) -> None:
    """Also on MySQL/MariaDB, where DDL commits as it runs: UPDATEs are all or nothing."""
    write_migration(project, "0001_initial", AUTHOR)
    migrate(db_url)
    write_migration(
        project,
        "0002_fill",
        """
        migrations.RunSQL("INSERT INTO author (id, name) VALUES (1, 'a')", reverse_sql=""),
        migrations.RunSQL("-- the second one fails\\nUPDATE author SET no_such = 1", reverse_sql=""),
        """,
        [("shop", "0001_initial")],
    )
    result = migrate(db_url, expect=1)
    assert "Nothing of 0002_fill was kept (rolled back); the database is at shop.0001_initial." in (
        result.stderr
    )
    assert rows(db_url, "SELECT count(*) FROM author") == [(0,)]
    assert _applied(db_url) == ["0001_initial"]


# -- a migration a killed run left half done -------------------------------------------------------

TWO_COLUMNS = PHONE + '\nmigrations.AddField("author", sa.Column("fax", sa.String(length=20))),'


def _leave_started(url: str, name: str, state: str) -> None:
    """What a run killed between two operations of ``name`` leaves in the history table."""
    execute(
        url,
        f"INSERT INTO {TABLE_NAME} (app, name, applied_at, checksum, state) "
        f"VALUES ('shop', '{name}', CURRENT_TIMESTAMP, NULL, '{state}')",
    )


def test_rerun_resumes_after_the_operation_found_in_the_database(
    project: Path, db_url: str
) -> None:
    _chain(project, TWO_COLUMNS)
    migrate(db_url, "shop", "0002")
    # Killed after the first ALTER committed, before its progress was written.
    execute(db_url, "ALTER TABLE author ADD COLUMN phone VARCHAR(20)")
    _leave_started(db_url, "0003_third", "applying:0")

    result = migrate(db_url)
    assert "shop.0003_third was interrupted while applying" in result.stdout
    assert "Add column phone to author: in the database" in result.stdout
    assert "Applying shop.0003_third... OK" in result.stdout
    assert _applied(db_url) == ["0001_initial", "0002_email", "0003_third"]
    assert {"phone", "fax"} <= set(snapshot(db_url).tables["author"].columns)
    assert rows(db_url, f"SELECT count(*) FROM {TABLE_NAME} WHERE state IS NOT NULL") == [(0,)]


def test_rerun_runs_the_operation_not_found_in_the_database(project: Path, db_url: str) -> None:
    _chain(project, TWO_COLUMNS)
    migrate(db_url, "shop", "0002")
    _leave_started(db_url, "0003_third", "applying:0")  # killed before its first ALTER
    result = migrate(db_url)
    assert "Add column phone to author: not in the database" in result.stdout
    assert _applied(db_url) == ["0001_initial", "0002_email", "0003_third"]
    assert {"phone", "fax"} <= set(snapshot(db_url).tables["author"].columns)


def test_what_the_schema_cannot_show_stops_with_the_exact_fix(project: Path, db_url: str) -> None:
    _chain(
        project,
        PHONE + '\nmigrations.RunSQL("CREATE TABLE note (id INTEGER PRIMARY KEY)", '
        'reverse_sql="DROP TABLE note"),',
        attributes="atomic = False",
    )
    migrate(db_url, "shop", "0002")
    execute(db_url, "ALTER TABLE author ADD COLUMN phone VARCHAR(20)")
    _leave_started(db_url, "0003_third", "applying:1")  # killed in the RunSQL
    result = migrate(db_url, expect=3)
    assert "was interrupted while applying" in result.stderr
    assert "recorded as done: Add column phone to author" in result.stderr
    assert "0003_third.py" in result.stderr and "cannot be read from the schema" in result.stderr
    fix = re.search(r"it did not run: (UPDATE .*;)", result.stderr)
    assert fix is not None, result.stderr
    assert "Traceback" not in result.stderr
    assert _applied(db_url) == ["0001_initial", "0002_email"]  # nothing re-applied

    execute(db_url, fix.group(1).rstrip(";"))
    result = migrate(db_url)
    assert "resuming where the history table was told to" in result.stdout
    assert _applied(db_url) == ["0001_initial", "0002_email", "0003_third"]
    assert "note" in snapshot(db_url).tables
    assert "phone" in snapshot(db_url).tables["author"].columns


def test_an_interrupted_migration_must_be_finished_first(project: Path, db_url: str) -> None:
    _chain(project, TWO_COLUMNS)
    migrate(db_url, "shop", "0002")
    _leave_started(db_url, "0003_third", "applying:0")
    result = migrate(db_url, "shop", "zero", expect=3)
    assert "finish it first: migrate-core migrate shop 0003_third" in result.stderr
    assert _applied(db_url) == ["0001_initial", "0002_email"]


def test_history_table_of_an_older_version_gains_the_state_column(
    sqlite_project: tuple[Path, str],
) -> None:
    project, url = sqlite_project
    _chain(project, PHONE)
    execute(
        url,
        f"CREATE TABLE {TABLE_NAME} (id INTEGER PRIMARY KEY, app VARCHAR(255) NOT NULL, "
        "name VARCHAR(255) NOT NULL, applied_at DATETIME NOT NULL, checksum VARCHAR(64))",
        f"INSERT INTO {TABLE_NAME} (app, name, applied_at) VALUES ('shop', '0001_initial', "
        "CURRENT_TIMESTAMP)",
        "CREATE TABLE author (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50))",
    )
    assert "[X] 0001_initial" in cli("showmigrations", "--database-url", url).stdout
    migrate(url)
    assert _applied(url) == ["0001_initial", "0002_email", "0003_third"]
    assert rows(url, f"SELECT count(*) FROM {TABLE_NAME} WHERE state IS NULL") == [(3,)]


# A long chain, each migration several DDL statements: on MySQL/MariaDB each commits as it
# runs, so a SIGKILL lands between two of them most of the time.
def _long_chain(project: Path, length: int) -> list[str]:
    names = []
    previous: list[tuple[str, str]] = []
    for i in range(length):
        name = f"{i + 1:04d}_step"
        if i == 0:
            ops = AUTHOR
        else:
            ops = (
                "\n".join(
                    f'migrations.AddField("author", sa.Column("c{i}_{j}", sa.Integer())),'
                    for j in range(3)
                )
                + f'\nmigrations.AddIndex("author", sa.Index("ix_author_c{i}_0", "c{i}_0")),'
            )
        write_migration(project, name, ops, previous)
        previous = [("shop", name)]
        names.append(name)
    return names


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_ends_with_schema_equal_to_history(
    project: Path, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    names = _long_chain(project, 12)
    migrate(other_db_url)  # the reference: the same chain, never interrupted
    reference = snapshot(other_db_url)
    seed = int(os.environ.get("MC_TEST_SEED", "9"))
    chance = random.Random(seed)
    resumed = 0
    for trial in range(5):
        migrate(db_url, "shop", "zero")
        proc = _start(project, db_url, tmp_path / "unused")
        out = ""
        # Kill once the run is under way: after a random number of migrations printed OK,
        # plus a random part of the next one (a random point of the chain).
        wanted = chance.randrange(0, len(names) - 1)
        assert proc.stdout is not None
        while out.count(" OK (") < wanted and proc.poll() is None:
            out += proc.stdout.readline()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=chance.uniform(0.0, 0.15))
        proc.kill()
        proc.communicate()
        result = migrate(db_url, expect=None)
        context = f"seed {seed}, trial {trial}\n{result.stdout}\n{result.stderr}"
        assert result.exit_code == 0, context
        assert "Traceback" not in result.stderr, context
        resumed += "was interrupted while applying" in result.stdout
        assert _applied(db_url) == names, context
        assert snapshot(db_url) == reference, context
    if dialect_of(db_url) == "mysql":
        assert resumed, f"seed {seed}: no kill landed inside a migration; try another seed"


@pytest.mark.slow
def test_sqlite_group_commit_sigkill_keeps_every_migration_printed_ok(
    sqlite_project: tuple[Path, str], tmp_path: Path
) -> None:
    """SQLite commits schema-only migrations in groups: a kill at any point must still
    find every migration printed OK in the history, and the schema equal to it."""
    project, url = sqlite_project
    names = _long_chain(project, 80)
    chance = random.Random(int(os.environ.get("MC_TEST_SEED", "5")))
    for trial in range(3):
        migrate(url, "shop", "zero")
        proc = _start(project, url, tmp_path / "unused")
        out = ""
        wanted = chance.randrange(1, len(names) // 2)
        assert proc.stdout is not None
        while out.count(" OK (") < wanted and proc.poll() is None:
            out += proc.stdout.readline()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=chance.uniform(0.0, 0.3))
        proc.kill()
        # Read the rest through the same buffered stream: communicate() would read the
        # pipe beneath it and lose what readline() had already buffered.
        out += proc.stdout.read()
        proc.communicate()
        printed = re.findall(r"Applying shop\.(\S+)\.\.\. OK", out)
        applied = _applied(url)
        context = f"trial {trial}: printed {len(printed)}, applied {len(applied)}"
        assert applied[: len(printed)] == printed, context
        assert applied == names[: len(applied)], context
        columns = set(snapshot(url).tables["author"].columns)
        for i, name in enumerate(names[1:], 1):
            assert (f"c{i}_0" in columns) == (name in applied), f"{context}: {name}"
        assert migrate(url).exit_code == 0
        assert _applied(url) == names


def test_sqlite_failure_in_a_group_keeps_the_migrations_before_it(
    sqlite_project: tuple[Path, str],
) -> None:
    """A schema-only migration that fails inside a group: the ones before it are
    committed and printed OK, nothing of it is kept, the output says where we are."""
    project, url = sqlite_project
    # SQLite keeps index and table names in one namespace: the database refuses this.
    _chain(project, 'migrations.AddIndex("author", sa.Index("author", "name")),')
    result = migrate(url, expect=None)
    assert result.exit_code == 1, result.stderr
    assert "Applying shop.0001_initial... OK" in result.stdout
    assert "Applying shop.0002_email... OK" in result.stdout
    assert "Applying shop.0003_third..." in result.stdout
    assert "OK" not in result.stdout.split("0003_third")[1]
    assert (
        "Nothing of 0003_third was kept (rolled back); the database is at shop.0002_email."
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert _applied(url) == ["0001_initial", "0002_email"]
