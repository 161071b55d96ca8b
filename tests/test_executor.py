"""The executor through the CLI: rollback targets, --plan, --fake, the history table,
failures half-way through a migration, irreversible operations, concurrent runs.

Everything runs against real databases (SQLite always; PostgreSQL and MariaDB when
configured), with migration files written into a temporary project.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers_engine import MODELS
from helpers_engine import cli
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import history
from helpers_engine import line_of
from helpers_engine import migrate
from helpers_engine import rows
from helpers_engine import sha256_of
from helpers_engine import snapshot
from helpers_engine import table_names
from helpers_engine import write_chain
from helpers_engine import write_migration

from migrate_core.db import recorder
from migrate_core.db.recorder import TABLE_NAME

# The console script of the environment running the tests (.venv/bin/migrate-core).
MIGRATE_CORE = Path(sys.executable).with_name("migrate-core")

CHAIN = [
    (
        "0001_initial",
        """
        migrations.CreateModel(
            "author",
            columns=[
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("name", sa.String(length=50), nullable=False),
            ],
            constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
        ),
        """,
    ),
    (
        "0002_book",
        """
        migrations.CreateModel(
            "book",
            columns=[
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("author_id", sa.Integer(), nullable=False),
            ],
            constraints=[
                sa.PrimaryKeyConstraint("id", name="pk_book"),
                sa.ForeignKeyConstraint(["author_id"], ["author.id"], name="fk_book_author"),
            ],
        ),
        """,
    ),
    (
        "0003_author_email",
        'migrations.AddField("author", sa.Column("email", sa.String(length=100))),',
    ),
]
NAMES = [name for name, _ in CHAIN]


@pytest.fixture
def project(make_project, db_url: str) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    yield make_project(MODELS, url=db_url)
    dispose_engines()


@pytest.fixture
def sqlite_project(make_project, tmp_path: Path) -> Iterator[tuple[Path, str]]:  # type: ignore[no-untyped-def]
    """For behaviour that does not depend on the database: SQLite only, to stay fast."""
    url = f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    yield make_project(MODELS, url=url), url
    dispose_engines()


def _applied(url: str) -> list[str]:
    return [name for _app, name, _checksum in history(url)]


# -- targets ---------------------------------------------------------------------------------------


def test_rollback_to_name_prefix_and_zero(project: Path, db_url: str) -> None:
    write_chain(project, CHAIN)
    result = migrate(db_url)
    assert "Operations to perform: apply 3 migrations (shop)" in result.stdout
    assert _applied(db_url) == NAMES
    full = snapshot(db_url)

    result = migrate(db_url, "shop", "0002_book")
    assert "Operations to perform: unapply 1 migration (shop)" in result.stdout
    assert re.search(r"^  Unapplying shop\.0003_author_email\.\.\. OK \(", result.stdout, re.M)
    assert _applied(db_url) == NAMES[:2]
    assert "email" not in snapshot(db_url)["author"].columns

    # A unique prefix names a migration as well as its full name does.
    result = migrate(db_url, "shop", "0001")
    assert "Unapplying shop.0002_book... OK" in result.stdout
    assert _applied(db_url) == NAMES[:1]
    assert snapshot(db_url).names() == {"author"}

    result = migrate(db_url, "shop", "0001")
    assert result.stdout.strip() == "Nothing to do: already there."

    result = migrate(db_url, "shop", "0003")
    assert "Operations to perform: apply 2 migrations (shop)" in result.stdout
    assert snapshot(db_url) == full

    result = migrate(db_url, "shop", "zero")
    assert "Operations to perform: unapply 3 migrations (shop)" in result.stdout
    order = re.findall(r"Unapplying shop\.(\w+)\.\.\. OK", result.stdout)
    assert order == list(reversed(NAMES))
    # Only the history table is left, and it is empty.
    assert table_names(db_url) == {TABLE_NAME}
    assert history(db_url) == []
    if db_url.startswith("postgresql"):
        assert snapshot(db_url).sequences == ()


def test_plan_prints_and_changes_nothing(project: Path, db_url: str) -> None:
    write_chain(project, CHAIN)
    result = migrate(db_url, "--plan")
    assert result.stdout.splitlines() == [
        "Planned operations:",
        "shop.0001_initial",
        "    + Create table author",
        "shop.0002_book",
        "    + Create table book",
        "shop.0003_author_email",
        "    + Add column email to author",
    ]
    # Not even the history table was created.
    assert table_names(db_url) == set()

    migrate(db_url)
    before = snapshot(db_url)
    result = migrate(db_url, "shop", "0001", "--plan")
    assert result.stdout.splitlines() == [
        "Planned operations:",
        "shop.0003_author_email",
        "    Undo + Add column email to author",
        "shop.0002_book",
        "    Undo + Create table book",
    ]
    assert snapshot(db_url) == before
    assert _applied(db_url) == NAMES
    assert migrate(db_url, "--plan").stdout.strip() == "No planned migration operations."


def test_fake_records_without_running(project: Path, db_url: str) -> None:
    write_chain(project, CHAIN)
    result = migrate(db_url, "shop", "0002", "--fake")
    assert re.findall(r"Applying shop\.(\w+)\.\.\. FAKED", result.stdout) == NAMES[:2]
    assert table_names(db_url) == {TABLE_NAME}
    assert _applied(db_url) == NAMES[:2]

    # Faked backwards too: the rows go, nothing is dropped (there is nothing to drop).
    result = migrate(db_url, "shop", "zero", "--fake")
    assert re.findall(r"Unapplying shop\.(\w+)\.\.\. FAKED", result.stdout) == NAMES[1::-1]
    assert history(db_url) == []

    # The usual use: the tables exist already (made by hand); record them, then go on.
    migrate(db_url, "shop", "0002")
    migrate(db_url, "shop", "zero", "--fake")
    assert snapshot(db_url).names() == {"author", "book"}
    migrate(db_url, "shop", "0002", "--fake")
    result = migrate(db_url)
    assert "Operations to perform: apply 1 migration (shop)" in result.stdout
    assert "email" in snapshot(db_url)["author"].columns


# -- the history table -----------------------------------------------------------------------------


def test_history_rows(project: Path, db_url: str) -> None:
    paths = [project / "shop" / "migrations" / f"{name}.py" for name in write_chain(project, CHAIN)]
    started = dt.datetime.now(dt.timezone.utc)
    migrate(db_url)
    assert history(db_url) == [("shop", path.stem, sha256_of(path)) for path in paths]
    for (applied_at,) in rows(db_url, f"SELECT applied_at FROM {TABLE_NAME}"):
        if isinstance(applied_at, str):  # SQLite keeps text
            applied_at = dt.datetime.fromisoformat(applied_at)
        if applied_at.tzinfo is None:  # stored as UTC where the column has no zone
            applied_at = applied_at.replace(tzinfo=dt.timezone.utc)
        assert started - dt.timedelta(seconds=5) <= applied_at
        assert applied_at <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)


def test_changed_file_is_reported(sqlite_project: tuple[Path, str]) -> None:
    project, url = sqlite_project
    write_chain(project, CHAIN)
    migrate(url, "shop", "0002")
    path = project / "shop" / "migrations" / "0001_initial.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")

    result = migrate(url)
    assert result.stderr.splitlines() == [
        "warning: shop/migrations/0001_initial.py changed since it was applied "
        "(shop.0001_initial); an applied migration should not be edited"
    ]
    assert "Applying shop.0003_author_email... OK" in result.stdout

    result = cli("showmigrations", "--database-url", url)
    assert result.stdout.splitlines() == [
        "shop",
        " [X] 0001_initial  (file changed since it was applied)",
        " [X] 0002_book",
        " [X] 0003_author_email",
    ]
    result = cli("showmigrations", "--plan", "--database-url", url)
    assert "[X]  shop.0001_initial  (file changed since it was applied)" in result.stdout
    # The checksum in the table is still the one of the file as it was applied.
    assert history(url)[0][2] != sha256_of(path)


# -- a migration that fails half-way ---------------------------------------------------------------

FAILING = """
migrations.AddField("author", sa.Column("nickname", sa.String(length=20))),
migrations.RunSQL(
    "INSERT INTO author (id, name) VALUES (2, NULL)",
    reverse_sql="DELETE FROM author WHERE id = 2",
),
migrations.AddField("author", sa.Column("born", sa.Integer())),
"""


def test_failing_migration(project: Path, db_url: str, dialect: str) -> None:
    write_chain(project, CHAIN[:1])
    migrate(db_url)
    execute(db_url, "INSERT INTO author (id, name) VALUES (1, 'ann')")
    path = write_migration(project, "0002_fails", FAILING, [("shop", "0001_initial")])
    before, applied_before = snapshot(db_url), history(db_url)

    result = migrate(db_url, expect=1)
    assert "  Applying shop.0002_fails... FAILED" in result.stdout
    lines = result.stderr.splitlines()
    # Where: the file and the line of the operation, and the operation as written.
    line = line_of(path, "migrations.RunSQL(")
    assert lines[0].startswith(f"migrate-core: shop/migrations/0002_fails.py:{line}  RunSQL(")
    assert "INSERT INTO author" in lines[0]
    # Why: the database's own words.
    assert re.search(r"(?i)null", lines[1])
    # What now: the state the database is in.
    assert history(db_url) == applied_before
    assert rows(db_url, "SELECT id, name FROM author") == [(1, "ann")]
    if dialect == "mysql":
        # DDL commits as it goes there: say which operations ran and were kept.
        assert lines[2] == (
            "mysql commits DDL as it runs, so these operations of 0002_fails ran and were "
            "kept: Add column nickname to author. The history table was not changed (it says "
            "shop.0001_initial); undo them by hand before running migrate again."
        )
        assert "nickname" in snapshot(db_url)["author"].columns
        assert "born" not in snapshot(db_url)["author"].columns
    else:
        assert lines[2] == (
            "Nothing of 0002_fails was kept (rolled back); the database is at shop.0001_initial."
        )
        assert snapshot(db_url) == before
    assert len(lines) == 3


def test_failure_keeps_the_migrations_before_it(project: Path, db_url: str) -> None:
    # One run, two migrations: the first is applied and recorded, the second fails and
    # leaves no trace; the message says the database is at the first.
    write_chain(project, CHAIN[:1])
    migrate(db_url)
    execute(db_url, "INSERT INTO author (id, name) VALUES (1, 'ann')")
    write_migration(project, "0002_ok", CHAIN[2][1], [("shop", "0001_initial")])
    write_migration(
        project,
        "0003_fails",
        'migrations.RunSQL("UPDATE author SET name = NULL", reverse_sql=""),',
        [("shop", "0002_ok")],
    )
    result = migrate(db_url, expect=1)
    assert "Applying shop.0002_ok... OK" in result.stdout
    assert "Applying shop.0003_fails... FAILED" in result.stdout
    assert result.stderr.splitlines()[-1].endswith("the database is at shop.0002_ok.")
    assert _applied(db_url) == ["0001_initial", "0002_ok"]
    assert "email" in snapshot(db_url)["author"].columns
    assert rows(db_url, "SELECT id, name FROM author") == [(1, "ann")]


def test_failing_first_operation_says_nothing_ran(project: Path, db_url: str) -> None:
    write_chain(project, CHAIN[:1])
    migrate(db_url)
    write_migration(
        project,
        "0002_fails",
        'migrations.RunSQL("INSERT INTO nowhere VALUES (1)", reverse_sql=""),',
        [("shop", "0001_initial")],
    )
    result = migrate(db_url, expect=1)
    last = result.stderr.splitlines()[-1]
    assert last in (
        "No operation of 0002_fails ran; the database is at shop.0001_initial.",
        "Nothing of 0002_fails was kept (rolled back); the database is at shop.0001_initial.",
    )
    assert _applied(db_url) == ["0001_initial"]


# -- atomic = False ------------------------------------------------------------------------------


def test_non_atomic_migration(project: Path, db_url: str, dialect: str) -> None:
    # What atomic = False is for: statements that refuse to run in a transaction.
    concurrently = "CONCURRENTLY " if dialect == "postgresql" else ""
    on_table = " ON item" if dialect == "mysql" else ""
    write_migration(project, "0001_initial", CHAIN[0][1].replace("author", "item"))
    write_migration(
        project,
        "0002_index",
        f"""
        migrations.RunSQL(
            "CREATE INDEX {concurrently}ix_item_name ON item (name)",
            reverse_sql="DROP INDEX {concurrently}ix_item_name{on_table}",
            state_operations=[migrations.AddIndex("item", sa.Index("ix_item_name", "name"))],
        ),
        """,
        [("shop", "0001_initial")],
        attributes="atomic = False",
    )
    migrate(db_url)
    assert snapshot(db_url)["item"].index("ix_item_name") == (("name",), False)
    migrate(db_url, "shop", "0001")
    assert snapshot(db_url)["item"].indexes == {}
    assert _applied(db_url) == ["0001_initial"]


def test_non_atomic_migration_failure_names_the_database_error(
    project: Path, db_url: str, dialect: str, request: pytest.FixtureRequest
) -> None:
    write_chain(project, CHAIN[:1])
    migrate(db_url)
    write_migration(project, "0002_fails", FAILING, [("shop", "0001_initial")])
    path = project / "shop" / "migrations" / "0002_fails.py"
    path.write_text(
        path.read_text().replace("    operations = [", "    atomic = False\n    operations = [")
    )
    result = migrate(db_url, expect=1)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"migrate-core: shop/migrations/0002_fails.py:{line_of(path, 'RunSQL')}"
    )
    assert re.search(r"(?i)null", lines[1]), lines[1]
    assert "InvalidRequestError" not in result.stderr
    assert _applied(db_url) == ["0001_initial"]
    if dialect != "sqlite":  # SQLite runs every migration in a transaction regardless
        assert "ran and were kept: Add column nickname to author" in lines[2]


# -- irreversible operations -------------------------------------------------------------------------

IRREVERSIBLE = {
    "sql": ('migrations.RunSQL("UPDATE author SET name = name"),', "Raw SQL: UPDATE author"),
    "python": ("migrations.RunPython(touch),", "Run Python touch"),
}


@pytest.mark.parametrize("kind", sorted(IRREVERSIBLE))
def test_irreversible_rollback_stops_before_anything_runs(
    project: Path, db_url: str, kind: str
) -> None:
    operation, described = IRREVERSIBLE[kind]
    write_chain(project, CHAIN[:1])
    path = write_migration(
        project,
        "0002_data",
        operation,
        [("shop", "0001_initial")],
        prelude="def touch(connection):\n    pass\n",
    )
    write_migration(project, "0003_email", CHAIN[2][1], [("shop", "0002_data")])
    migrate(db_url)
    before, applied = snapshot(db_url), history(db_url)

    # 0003 comes first on the way back and could be undone; it must not be.
    result = migrate(db_url, "shop", "zero", expect=2)
    line = line_of(path, operation.split("(")[0])
    assert result.stderr.startswith(
        f"migrate-core: shop/migrations/0002_data.py:{line}: {described}"
    )
    assert "in shop.0002_data cannot be reversed, so nothing was unapplied" in result.stderr
    assert "migrate-core migrate shop <target> --fake" in result.stderr
    assert "Unapplying" not in result.stdout
    assert snapshot(db_url) == before
    assert history(db_url) == applied

    # Down to just after it is fine: the irreversible migration does not have to run.
    migrate(db_url, "shop", "0002")
    assert _applied(db_url) == ["0001_initial", "0002_data"]
    # --plan says why before anyone tries.
    result = migrate(db_url, "shop", "0001", "--plan")
    assert "(IRREVERSIBLE)" in result.stdout


# -- two migrate runs at once ------------------------------------------------------------------------


def _slow_operation(dialect: str) -> str:
    if dialect == "postgresql":
        return 'migrations.RunSQL("SELECT pg_sleep(0.3)", reverse_sql=""),'
    if dialect == "mysql":
        return 'migrations.RunSQL("SELECT SLEEP(0.3)", reverse_sql=""),'
    return "migrations.RunPython(pause, migrations.RunPython.noop),"


def _start_migrate(project: Path, url: str) -> subprocess.Popen[str]:
    """``migrate-core migrate`` as its own process, the console script users run."""
    return subprocess.Popen(
        [str(MIGRATE_CORE), "migrate", "--database-url", url],
        cwd=project,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_migrate_applies_each_migration_once(
    project: Path, db_url: str, dialect: str
) -> None:
    slow = _slow_operation(dialect)
    prelude = "import time\n\n\ndef pause(connection):\n    time.sleep(0.3)\n"
    previous: list[tuple[str, str]] = []
    for name, operations in CHAIN:
        write_migration(project, name, slow + operations, previous, prelude=prelude)
        previous = [("shop", name)]

    # The history table exists already: two runs creating it at once is a separate bug
    # (test_concurrent_first_runs_both_create_the_history_table), kept out of this one.
    assert migrate(db_url, "shop", "zero").stdout.strip() == "Nothing to do: already there."
    procs = [_start_migrate(project, db_url) for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    applied = [
        name for out, _err in outputs for name in re.findall(r"Applying shop\.(\w+)\.\.\. OK", out)
    ]
    assert sorted(applied) == NAMES
    assert _applied(db_url) == NAMES
    assert snapshot(db_url).names() == {"author", "book"}


def test_concurrent_first_runs_both_create_the_history_table(
    project: Path, db_url: str, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dialect == "sqlite":
        pytest.skip("SQLite serialises the check and the CREATE (BEGIN IMMEDIATE)")
    write_chain(project, CHAIN[:1])
    plain_table = recorder.history_table
    rivals: list[subprocess.Popen[str]] = []

    def table_with_a_rival(metadata: object = None) -> sa.Table:
        # A second migrate run starts right after this one found no history table and
        # just before its CREATE TABLE (the "before_create" event fires exactly there):
        # what two first runs hit now and then, made to happen every time. The rival gets
        # a moment to finish; if this run holds a lock it waits for it instead, and that
        # is a correct outcome too.
        table = plain_table(metadata)

        def rival(*_args: object, **_kw: object) -> None:
            if rivals:
                return
            rivals.append(_start_migrate(project, db_url))
            with contextlib.suppress(subprocess.TimeoutExpired):
                rivals[0].wait(timeout=5)

        sa.event.listen(table, "before_create", rival)
        return table

    monkeypatch.setattr(recorder, "history_table", table_with_a_rival)
    migrate(db_url)
    out, err = rivals[0].communicate(timeout=60)
    assert rivals[0].returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert _applied(db_url) == ["0001_initial"]
