"""Interrupted and failing migrations: what was printed OK is kept, and the rest is told.

Real processes for the signals (``migrate-core`` as users run it, stopped with SIGINT,
SIGTERM or SIGKILL while a RunPython waits), real databases for the transactions.
A RunPython that must be stopped mid-way says so by creating a file, and then waits
for the signal; the test waits for that file, never for a time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import dispose_engines
from helpers_engine import history
from helpers_engine import migrate
from helpers_engine import rows
from helpers_engine import snapshot
from helpers_engine import write_migration

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
    return [name for _app, name, _checksum in history(url)]


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
