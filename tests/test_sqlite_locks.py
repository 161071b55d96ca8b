"""Reading a SQLite database another process is writing.

A real second process holds the lock: a ``migrate`` stopped inside a migration (its
RunPython waits for a file), or a plain sqlite3 connection in ``BEGIN IMMEDIATE`` /
``BEGIN EXCLUSIVE``. Under the rollback journal a writer in flight holds RESERVED:
readers see what is committed, so ``showmigrations`` and ``migrate --plan`` answer at
once (the migration in flight is not applied yet). ``BEGIN EXCLUSIVE`` (and a writer's
commit) locks readers out: then they wait ``--lock-timeout`` and end with migrate's own
one-line lock message, exit 1. ``sqlmigrate`` never connects. No timing is asserted:
the lock timeout is 1 s so that a failure comes quickly, and the assertions are on the
messages and exit codes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import cli
from helpers_engine import dispose_engines
from helpers_engine import migrate
from helpers_engine import write_chain
from helpers_engine import write_migration

# Real processes holding real locks, and waits of a second each: CI, not the fast loop.
pytestmark = pytest.mark.slow

LOCKED = "another migrate run holds the migration lock on sqlite:///"
WITHIN = "and did not finish within 1 s; try again when it is done"

AUTHOR = """
migrations.CreateModel(
    "author",
    columns=[sa.Column("id", sa.Integer(), nullable=False)],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
"""
NAME = 'migrations.AddField("author", sa.Column("name", sa.String(length=20))),'

# A migration that stops in the middle until the test lets it go: it says it started
# (a file), then waits for another file. Both paths come from the environment.
WAITING = """
import os
import pathlib
import time


def wait(connection):
    pathlib.Path(os.environ["MC_TEST_STARTED"]).write_text("started")
    release = pathlib.Path(os.environ["MC_TEST_RELEASE"])
    while not release.exists():
        time.sleep(0.05)
"""

# A sqlite3 connection that takes the lock, says so, and holds it until its stdin closes.
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN " + sys.argv[2])
connection.execute("INSERT INTO author (id) VALUES (99)")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


@pytest.fixture
def db_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "db.sqlite"
    dispose_engines()


@pytest.fixture
def project(make_project, db_file: Path) -> Path:  # type: ignore[no-untyped-def]
    root: Path = make_project(MODELS, url=f"sqlite:///{db_file.as_posix()}")
    write_chain(root, [("0001_initial", AUTHOR), ("0002_name", NAME)])
    return root


def url_of(db_file: Path) -> str:
    return f"sqlite:///{db_file.as_posix()}"


def hold(db_file: Path, mode: str) -> subprocess.Popen[str]:
    """A process holding ``BEGIN <mode>`` on the database, once it has said so."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_file), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def shown(*args: str, expect: int = 0) -> tuple[str, str]:
    result = cli(*args, "--lock-timeout", "1", expect=expect)
    assert "Traceback" not in result.output
    return result.stdout, result.stderr


def test_reads_see_committed_state_while_a_migrate_is_in_flight(
    project: Path, db_file: Path, tmp_path: Path
) -> None:
    url = url_of(db_file)
    migrate(url, "shop", "0001")
    write_migration(
        project,
        "0002_name",
        NAME + "\nmigrations.RunPython(wait, migrations.RunPython.noop),",
        [("shop", "0001_initial")],
        prelude=WAITING,
    )
    started, released = tmp_path / "started", tmp_path / "release"
    env_extra = {"MC_TEST_STARTED": str(started), "MC_TEST_RELEASE": str(released)}
    running = subprocess.Popen(
        [str(Path(sys.executable).parent / "migrate-core"), "migrate"],
        cwd=project,
        env={**os.environ, **env_extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not started.exists():  # the migration is inside its transaction now
            assert running.poll() is None, running.communicate()
            time.sleep(0.05)
        out, _ = shown("showmigrations")
        assert out.splitlines() == ["shop", " [X] 0001_initial", " [ ] 0002_name"]
        out, _ = shown("showmigrations", "--plan")
        assert out.splitlines() == ["[X]  shop.0001_initial", "[ ]  shop.0002_name"]
        out, _ = shown("migrate", "--plan")
        assert "shop.0002_name" in out.splitlines()
        # A second migrate waits for the write lock, then gives up with the one message.
        _, err = shown("migrate", expect=1)
        assert LOCKED in err and WITHIN in err
        assert "Waiting for another migrate run to finish..." in err
    finally:
        released.write_text("go")
        stdout, stderr = running.communicate(timeout=120)
    assert running.returncode == 0, stderr
    assert "Applying shop.0002_name... OK" in stdout
    out, _ = shown("showmigrations")
    assert out.splitlines() == ["shop", " [X] 0001_initial", " [X] 0002_name"]


def test_reads_under_a_reserved_lock_answer_at_once(project: Path, db_file: Path) -> None:
    url = url_of(db_file)
    migrate(url, "shop", "0001")
    holder = hold(db_file, "IMMEDIATE")
    try:
        out, _ = shown("showmigrations")
        assert out.splitlines() == ["shop", " [X] 0001_initial", " [ ] 0002_name"]
        out, _ = shown("migrate", "--plan")
        assert out.splitlines() == [
            "Planned operations:",
            "shop.0002_name",
            "    + Add column name to author",
        ]
        assert "ADD COLUMN name VARCHAR(20);" in cli("sqlmigrate", "shop", "0002").stdout
        _, err = shown("migrate", expect=1)
        assert LOCKED in err and WITHIN in err
    finally:
        release(holder)
    migrate(url)


@pytest.mark.parametrize(
    "command",
    [
        ("showmigrations",),
        ("showmigrations", "--plan"),
        ("migrate", "--plan"),
        ("migrate",),
        ("migrate", "shop", "zero"),
    ],
)
def test_an_exclusive_lock_ends_in_the_lock_message(
    project: Path, db_file: Path, command: tuple[str, ...]
) -> None:
    """Readers are locked out: each command waits its --lock-timeout and says so in the
    same one line as migrate, exit 1 (never a traceback, never a listing read anyway)."""
    migrate(url_of(db_file), "shop", "0001")
    holder = hold(db_file, "EXCLUSIVE")
    try:
        out, err = shown(*command, expect=1)
        assert LOCKED in err and WITHIN in err
        assert "[X]" not in out and "Planned" not in out
        assert err.strip().splitlines()[-1].startswith("migrate-core: another migrate run")
    finally:
        release(holder)
    # Released: the same commands work again.
    shown(*command)


def test_sqlmigrate_never_waits(project: Path, db_file: Path) -> None:
    """It never connects: an exclusive lock does not concern it."""
    migrate(url_of(db_file), "shop", "0001")
    holder = hold(db_file, "EXCLUSIVE")
    try:
        result = cli("sqlmigrate", "shop", "0002")
        assert "ALTER TABLE author ADD COLUMN name VARCHAR(20);" in result.stdout
    finally:
        release(holder)
