"""Scratch databases: dated names, leftovers found and dropped, Ctrl-C twice, borrowed "empty".

The signal tests run ``check-migrations`` in a child process on a real server and
interrupt it with real signals while a migration sits in a RunPython that waits;
afterwards no database that process made may remain. Other test runs make scratch
databases on the same servers at the same time: every assertion names the databases
of the process under test (its pid is in their names), never "the server is empty".
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import server_url
from helpers_check import CHECK
from helpers_check import LOG_ENV
from helpers_check import Template
from helpers_check import child_env
from helpers_check import isolate_git
from helpers_check import list_databases
from helpers_check import migration_file
from helpers_check import new_project
from helpers_check import run_check
from helpers_check import scratch_databases
from helpers_check import template as build_template
from helpers_check import write

from migrate_core.db import scratch
from migrate_core.errors import NotEmptyError
from migrate_core.options import parse_age

LEAF = "0004_product_name_index"
MARKER_ENV = "MC_TEST_WAITING_MARKER"

# Says "I am in the migration" through a file, then waits (at most two minutes) for a signal.
WAITING = f"""
def wait_for_a_signal(connection):
    import os
    import time

    with open(os.environ["{MARKER_ENV}"], "w") as f:
        f.write("waiting")
    for _ in range(1200):
        time.sleep(0.1)
"""

SERVERS = ["postgresql", "mysql"]


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory)


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


@pytest.fixture
def project(template: Template, tmp_path: Path) -> Path:
    _repo, root = new_project(template, tmp_path / "repo")
    return root


def _admin(server: str) -> sa.Engine:
    return sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _quote(server: str, name: str) -> str:
    return f"`{name}`" if server.startswith("mysql") else f'"{name}"'


def _create(server: str, name: str) -> None:
    with _admin(server).connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {_quote(server, name)}")


def _drop(server: str, name: str) -> None:
    with _admin(server).connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(server, name)}")


def _made_by(server: str | None, pid: int) -> set[str]:
    """The scratch databases (SQLite: folders) process ``pid`` made, by their names."""
    if server is None:
        names = {p.name for p in Path(tempfile.gettempdir()).iterdir()}
    else:
        names = list_databases(server)
    out = set()
    for name in names:
        parsed = scratch.parse_name(name)
        if parsed is not None and parsed.pid == pid:
            out.add(name)
    return out


def _dead_pid() -> int:
    """The number of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _old_name(pid: int, *, years_ago: int = 6) -> str:
    """A dated scratch name made here by process ``pid``, long ago."""
    then = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365 * years_ago)
    name = scratch.new_name(then)
    head, _pid, tail = name.rsplit("_", 2)
    return f"{head}_{pid}_{tail}"


# -- names and the rules, without a database ---------------------------------------------------


def test_a_name_says_when_where_and_by_which_process_and_fits_every_server() -> None:
    now = dt.datetime(2026, 12, 4, 18, 55, 1, tzinfo=dt.timezone.utc)
    name = scratch.new_name(now)
    assert name.startswith("mc_scratch_20261204185501_")
    assert len(name) <= 63  # PostgreSQL's limit (MySQL: 64)
    parsed = scratch.parse_name(name)
    assert parsed is not None
    assert (parsed.created, parsed.pid) == (now, os.getpid())
    assert (parsed.host, parsed.user) == scratch.owner()
    assert parsed.age(now + dt.timedelta(hours=7)) == 7 * 3600
    assert scratch.new_name(now) != name  # the random tail


def test_older_versions_names_are_leftovers_of_unknown_age_and_nothing_else_is_ours() -> None:
    for legacy in ("mc_scratch_a1b2c3d4e5f6", "mc_scratch_chain_a1b2c3d4e5f6"):
        parsed = scratch.parse_name(legacy)
        assert parsed is not None and parsed.legacy and parsed.age(dt.datetime.now()) is None
    for foreign in (
        "postgres",
        "mc_scratch_keep_me",
        "mc_scratch_20261304185501_vm_root_12_abcdef",  # month 13: no time we wrote
        "mc_scratch_20261204185501_vm_root_12_abcdef_extra",
        "MC_SCRATCH_A1B2C3D4E5F6",
    ):
        assert scratch.parse_name(foreign) is None, foreign


def test_what_is_kept_and_why() -> None:
    now = dt.datetime.now(dt.timezone.utc)
    hour = 3600.0
    dead = _dead_pid()
    stale = scratch.parse_name(_old_name(dead))
    ours = scratch.parse_name(_old_name(os.getpid()))
    fresh = scratch.parse_name(
        scratch.new_name(now - dt.timedelta(minutes=5)).replace(f"_{os.getpid()}_", f"_{dead}_")
    )
    legacy = scratch.parse_name("mc_scratch_chain_a1b2c3d4e5f6")
    assert stale and ours and fresh and legacy

    def kept(
        s: scratch.ScratchName,
        *,
        in_use: bool = False,
        own: str | None = None,
        bound: float = 6 * hour,
    ) -> str | None:
        return scratch._kept_because(s, in_use, own, bound, now)

    assert kept(stale) is None
    assert kept(stale, in_use=True) == "in use (a session is connected to it)"
    assert kept(stale, own=stale.name) == "it is the database the URL names"
    assert "is still running" in (kept(ours) or "")
    assert kept(fresh) == "made 5m ago, not older than 6h"
    assert kept(fresh, bound=60) is None
    assert "no creation time" in (kept(legacy) or "")
    assert kept(legacy, bound=0) is None
    assert kept(legacy, bound=0, in_use=True) is not None


def test_ages_are_read_with_a_unit() -> None:
    assert [parse_age(t) for t in ("0", "90s", "30m", "6h", "2d", "1.5h")] == [
        0,
        90,
        1800,
        6 * 3600,
        2 * 86400,
        5400,
    ]
    for bad in ("6", "6x", "-1h", "", "h"):
        with pytest.raises(Exception, match="not an age"):
            parse_age(bad)


def test_cleanup_is_the_command_lines_and_the_age_every_parsers() -> None:
    import argparse

    import click
    from click.testing import CliRunner

    from migrate_core import console
    from migrate_core.options import CheckArgs
    from migrate_core.options import add_hook_arguments
    from migrate_core.options import click_options

    seen: list[CheckArgs] = []

    @click.command()
    def command(**values: object) -> None:
        seen.append(CheckArgs.from_values(values))

    argv = ["--cleanup", "--cleanup-older-than", "30m"]
    result = CliRunner().invoke(click_options(command, console.check_names), argv)
    assert result.exit_code == 0, result.output
    assert (seen[0].cleanup, seen[0].stale_after) == (True, 1800)
    parser = argparse.ArgumentParser()
    add_hook_arguments(parser, console.check_names)
    hooked = CheckArgs.from_values(vars(parser.parse_args(["--cleanup-older-than", "2d"])))
    assert (hooked.cleanup, hooked.stale_after) == (False, 2 * 86400)
    defaults = vars(parser.parse_args([]))
    assert "cleanup" not in defaults  # the commit hook offers no --cleanup of its own
    assert CheckArgs.from_values(defaults).stale_after == 6 * 3600


def test_cleanup_with_a_bad_age_is_a_usage_error() -> None:
    proc = subprocess.run(
        [CHECK, "--cleanup", "--cleanup-older-than", "6"],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (
        "migrate-core: --cleanup-older-than 6: not an age; give a number and a unit, "
        "e.g. 30m, 6h, 2d (0: any age)"
    )


# -- leftovers on real servers (and SQLite's folders) ------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["sqlite", *SERVERS])
def test_each_run_drops_stale_leftovers_but_nothing_in_use_and_nothing_not_ours(
    project: Path, dialect: str, tmp_path: Path
) -> None:
    server = server_url(dialect)
    dead = _dead_pid()
    stale, busy = _old_name(dead), _old_name(dead)
    foreign = f"mc_scratch_keep_{secrets.token_hex(3)}"  # the prefix alone makes nothing ours
    holder = None
    if server is None:
        root = Path(tempfile.gettempdir())
        for name in (stale, foreign):
            (root / name).mkdir()
            (root / name / "chain.db").write_bytes(b"")
    else:
        for name in (stale, busy, foreign):
            _create(server, name)
        # Someone works in ``busy``: an old name does not make it ours to drop.
        holder = sa.create_engine(
            sa.engine.make_url(server).set(database=busy), poolclass=sa.pool.NullPool
        ).connect()
    try:
        run = run_check(project, "--skip", "drift", url=server)
        assert run.returncode == 0, run.output
        line = next(x for x in run.stderr.splitlines() if "stale scratch database" in x)
        assert line.startswith("migrate-core: dropped ") and "(older than 6h, unused)" in line
        assert stale in line and busy not in line and foreign not in line
        if server is None:
            assert not (root / stale).exists() and (root / foreign).exists()
        else:
            present = list_databases(server)
            assert stale not in present
            assert {busy, foreign} <= present
    finally:
        if holder is not None:
            holder.close()
        if server is None:
            for name in (stale, foreign):
                shutil.rmtree(root / name, ignore_errors=True)
        else:
            for name in (stale, busy, foreign):
                _drop(server, name)


@pytest.mark.parametrize("dialect", SERVERS)
def test_cleanup_lists_what_it_kept_and_dropped(dialect: str) -> None:
    server = server_url(dialect)
    assert server is not None
    dead = _dead_pid()
    stale = _old_name(dead)
    legacy = f"mc_scratch_{secrets.token_hex(6)}"
    for name in (stale, legacy):
        _create(server, name)
    try:
        proc = subprocess.run(
            [CHECK, "--cleanup", "--database-url", server],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        dropped = next(x for x in lines if stale in x)
        assert dropped.startswith(f"dropped {stale} (made ")
        assert f", by {scratch.owner()[1]}@{scratch.owner()[0]}, process {dead})" in dropped
        kept = next(x for x in lines if legacy in x)
        assert kept == (
            f"kept    {legacy}: its name carries no creation time (an older migrate-core "
            "made it); --cleanup-older-than 0 drops it when nothing uses it"
        )
        assert lines[-1].endswith(f"(scratch databases on {server}, stale after 6h)")
        assert "checks" not in proc.stdout and proc.stderr == ""
        present = list_databases(server)
        assert stale not in present and legacy in present
    finally:
        for name in (stale, legacy):
            _drop(server, name)


# -- signals -----------------------------------------------------------------------------------


@dataclass
class Child:
    proc: subprocess.Popen[str]
    lines: queue.Queue[str]
    stderr: list[str]

    def wait_for_line(self, needle: str, *, within: float = 60) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            if needle in line:
                return line
        raise AssertionError(f"no line with {needle!r} on stderr:\n{''.join(self.stderr)}")


@pytest.fixture
def waiting_project(project: Path) -> Path:
    write(
        project / "shop" / "migrations" / "0005_wait.py",
        migration_file(
            "migrations.RunPython(wait_for_a_signal, migrations.RunPython.noop),",
            LEAF,
            prelude=WAITING,
        ),
    )
    return project


def _start(project: Path, server: str, tmp_path: Path) -> tuple[Child, Path]:
    marker = tmp_path / "waiting"
    proc = subprocess.Popen(
        [CHECK, "--database-url", server],
        cwd=project,
        env=child_env({MARKER_ENV: str(marker), LOG_ENV: str(tmp_path / "connections.log")}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, "".join(seen)
        assert time.monotonic() < deadline, "the check never reached the waiting migration"
        time.sleep(0.05)
    return Child(proc, lines, seen), marker


def _finish(child: Child) -> int:
    try:
        return child.proc.wait(timeout=120)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("dialect", SERVERS)
@pytest.mark.parametrize("second", ["once-cleaning", "hammered", "back-to-back", "after-sigterm"])
def test_a_second_ctrl_c_does_not_leave_the_scratch_database(
    waiting_project: Path, tmp_path: Path, dialect: str, second: str
) -> None:
    """Ctrl-C (or CI's SIGTERM), then Ctrl-C again: once when the cleanup says it has
    begun, every 10 ms until the process ends, or right after the first. The database is
    dropped all the same, the exit is 130 (an interrupt) and no traceback is printed."""
    server = server_url(dialect)
    assert server is not None
    child, _marker = _start(waiting_project, server, tmp_path)
    pid = child.proc.pid
    try:
        made = _made_by(server, pid)
        assert len(made) == 1, made  # the chain's database, in which the migration waits
        child.proc.send_signal(signal.SIGTERM if second == "after-sigterm" else signal.SIGINT)
        if second == "back-to-back":
            child.proc.send_signal(signal.SIGINT)
        else:
            line = child.wait_for_line("cleaning up scratch database")
            assert (
                line.strip()
                == f"migrate-core: cleaning up scratch database {made.pop()}, please wait"
            )
            child.proc.send_signal(signal.SIGINT)
            if second == "hammered":
                for _ in range(3000):
                    if child.proc.poll() is not None:
                        break
                    child.proc.send_signal(signal.SIGINT)
                    time.sleep(0.01)
        code = _finish(child)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait()
    stderr = "".join(child.stderr)
    assert code == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "interrupted" in stderr, stderr
    assert _made_by(server, pid) == set()
    assert not scratch_databases(tmp_path / "connections.log") & list_databases(server)


@pytest.mark.slow
@pytest.mark.parametrize("dialect", SERVERS)
def test_a_killed_run_leaves_a_leftover_that_cleanup_drops_once_stale(
    waiting_project: Path, tmp_path: Path, dialect: str
) -> None:
    server = server_url(dialect)
    assert server is not None
    child, _marker = _start(waiting_project, server, tmp_path)
    pid = child.proc.pid
    child.proc.kill()  # SIGKILL: nothing runs on the way out
    child.proc.wait()
    (leftover,) = _made_by(server, pid)
    try:
        parsed = scratch.parse_name(leftover)
        assert parsed is not None and not parsed.creator_running()

        # Younger than the bound: found, listed, kept.
        proc = subprocess.run(
            [CHECK, "--cleanup", "--database-url", server],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        line = next(x for x in proc.stdout.splitlines() if leftover in x)
        assert line.startswith(f"kept    {leftover} (made ") and ", not older than 6h" in line
        assert f"process {pid})" in line
        assert leftover in list_databases(server)

        # Older than the bound (1s here; the clock in its name counts whole seconds).
        while (parsed.age(dt.datetime.now(dt.timezone.utc)) or 0) < 1.5:
            time.sleep(0.1)
        proc = subprocess.run(
            [CHECK, "--cleanup", "--cleanup-older-than", "1s", "--database-url", server],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert any(x.startswith(f"dropped {leftover} (made ") for x in proc.stdout.splitlines())
        assert leftover not in list_databases(server)
    finally:
        _drop(server, leftover)


# -- a borrowed database is empty only when it holds nothing, in any schema --------------------


@dataclass
class Borrowed:
    admin_url: str  # the server, as the superuser, in the borrowed database
    url: str  # the account without CREATEDB, in its own database


@pytest.fixture(params=SERVERS)
def borrowed(request: pytest.FixtureRequest) -> Iterator[Borrowed]:
    server = server_url(request.param)
    assert server is not None
    name = f"mc_limited_{secrets.token_hex(4)}"
    password = f"Pw-{secrets.token_hex(8)}"
    admin = _admin(server)
    pg = admin.dialect.name == "postgresql"
    with admin.connect() as conn:
        if pg:
            conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN NOCREATEDB PASSWORD '{password}'")
            conn.exec_driver_sql(f"CREATE DATABASE {name} OWNER {name}")
        else:
            conn.exec_driver_sql(f"CREATE USER '{name}'@'%%' IDENTIFIED BY '{password}'")
            conn.exec_driver_sql(f"CREATE DATABASE `{name}`")
            conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%%'")
    url = sa.engine.make_url(server)
    try:
        yield Borrowed(
            url.set(database=name).render_as_string(hide_password=False),
            url.set(username=name, password=password, database=name).render_as_string(
                hide_password=False
            ),
        )
    finally:
        with admin.connect() as conn:
            if pg:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{name}'@'%%'")
        admin.dispose()


# (what to create as the superuser, what the refusal must name, how to remove it)
PG_OBJECTS = [
    ("CREATE VIEW extra.v AS SELECT 1 AS x", "view extra.v", "DROP VIEW extra.v"),
    (
        "CREATE MATERIALIZED VIEW extra.mv AS SELECT 1 AS x",
        "materialized view extra.mv",
        "DROP MATERIALIZED VIEW extra.mv",
    ),
    (
        "CREATE FUNCTION extra.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "function extra.f",
        "DROP FUNCTION extra.f()",
    ),
    ("CREATE TYPE extra.mood AS ENUM ('ok')", "type extra.mood", "DROP TYPE extra.mood"),
    ("CREATE TYPE extra.pair AS (a int, b int)", "type extra.pair", "DROP TYPE extra.pair"),
    ("CREATE DOMAIN extra.pos AS int CHECK (VALUE > 0)", "type extra.pos", "DROP DOMAIN extra.pos"),
    ("CREATE SEQUENCE extra.s", "sequence extra.s", "DROP SEQUENCE extra.s"),
    ("CREATE TABLE extra.t (id int)", "table extra.t", "DROP TABLE extra.t"),
    ("CREATE TYPE public.colour AS ENUM ('red')", "type colour", "DROP TYPE public.colour"),
]
MYSQL_OBJECTS = [
    ("CREATE VIEW v AS SELECT 1 AS x", "view v", "DROP VIEW v"),
    ("CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1", "function f", "DROP FUNCTION f"),
    ("CREATE PROCEDURE p() SELECT 1", "procedure p", "DROP PROCEDURE p"),
    (
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1",
        "event e",
        "DROP EVENT e",
    ),
    ("CREATE SEQUENCE s", "sequence s", "DROP SEQUENCE s"),
]


def test_a_borrowed_database_must_hold_nothing_in_any_schema(borrowed: Borrowed) -> None:
    admin = _admin(borrowed.admin_url)
    pg = admin.dialect.name == "postgresql"
    try:
        if pg:
            with admin.connect() as conn:
                conn.exec_driver_sql("CREATE SCHEMA extra")  # an empty schema is no object
        for create, named, remove in PG_OBJECTS if pg else MYSQL_OBJECTS:
            with admin.connect() as conn:
                conn.exec_driver_sql(create)
            with pytest.raises(NotEmptyError) as refused, scratch.scratch_database(borrowed.url):
                pass
            message = str(refused.value)
            assert f"(1 object: {named}); refusing to touch it" in message, message
            assert "***" in message and "Pw-" not in message
            with admin.connect() as conn:
                conn.exec_driver_sql(remove)
        # Nothing left (PostgreSQL: an empty schema of its own): borrowed, and left empty.
        with scratch.scratch_database(borrowed.url) as url:
            assert getattr(url, "borrowed", False)
            with sa.create_engine(url, poolclass=sa.pool.NullPool).begin() as conn:
                conn.exec_driver_sql("CREATE TABLE made_by_the_check (id INTEGER)")
        with admin.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        admin.dispose()


def test_cleanup_by_an_account_that_may_not_drop_keeps_and_says_why(borrowed: Borrowed) -> None:
    """PostgreSQL shows the account every database and refuses the DROP (not the owner):
    kept, with the server's reason, exit 1. MySQL shows it only its own: nothing found."""
    server = borrowed.admin_url
    stale = _old_name(_dead_pid())
    _create(server, stale)
    try:
        proc = subprocess.run(
            [CHECK, "--cleanup", "--database-url", borrowed.url],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
        )
        if server.startswith("postgresql"):
            assert proc.returncode == 1, proc.stdout + proc.stderr
            line = next(x for x in proc.stdout.splitlines() if stale in x)
            assert line.startswith(f"kept    {stale} (made ")
            assert "could not drop it: " in line and "owner" in line, line
        else:
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert stale not in proc.stdout
        assert "Pw-" not in proc.stdout + proc.stderr
        assert stale in list_databases(server)
    finally:
        _drop(server, stale)
