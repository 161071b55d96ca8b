"""check-migrations on real databases: missing migrations, reversibility, drift, scratch databases.

Each test copies the shop project (migrations 0001-0004) into a git repository,
changes what its scenario needs, and runs ``check-migrations`` in a child
process against SQLite or, with the conftest URLs, a PostgreSQL or MariaDB/MySQL
server. What every database must agree on runs once per dialect; the rest, which
does not depend on the database, runs on SQLite.
"""

from __future__ import annotations

import json
import os
import pty
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import server_url
from helpers_check import CHECK
from helpers_check import LOG_ENV
from helpers_check import MIGRATE_CORE
from helpers_check import Template
from helpers_check import child_env
from helpers_check import connected_databases
from helpers_check import findings
from helpers_check import isolate_git
from helpers_check import line_of
from helpers_check import list_databases
from helpers_check import migration_file
from helpers_check import models_source
from helpers_check import new_project
from helpers_check import run_check
from helpers_check import run_json
from helpers_check import scratch_databases
from helpers_check import status
from helpers_check import template as build_template
from helpers_check import write

LEAF = "0004_product_name_index"
CHECK_NAMES = ["graph", "models", "missing", "git", "reversibility", "drift", "destructive"]

# RunSQL creates the index the models declare (and says so in state_operations), but its
# reverse forgets to drop it: only unapplying and reflecting can tell.
FORGETFUL_INDEX = """
migrations.RunSQL(
    "CREATE INDEX ix_customer_full_name ON customer (full_name)",
    reverse_sql=[],
    state_operations=[
        migrations.AddIndex("customer", sa.Index("ix_customer_full_name", "full_name")),
    ],
),
"""

# A hand-edited migration: the SQL adds a column, the declared state knows nothing of it.
UNDECLARED_COLUMN = """
migrations.RunSQL(
    "ALTER TABLE customer ADD COLUMN nickname VARCHAR(50)",
    reverse_sql="ALTER TABLE customer DROP COLUMN nickname",
),
"""

# Creates one table the first time and another the second: unapplying is clean, the
# second apply is not the first.
SECOND_TIME = """
RUNS = []


def forwards(connection):
    RUNS.append(1)
    name = "first" if len(RUNS) == 1 else "second"
    connection.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER)")


def backwards(connection):
    connection.exec_driver_sql("DROP TABLE first")
"""

BACKFILL = """
def backfill(connection):
    connection.exec_driver_sql("UPDATE customer SET full_name = email WHERE full_name = ''")
"""


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory)


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


@pytest.fixture
def url(dialect: str) -> str | None:
    """The server to make scratch databases on (None: SQLite, the default)."""
    return server_url(dialect)


@pytest.fixture
def project(template: Template, tmp_path: Path) -> Path:
    _repo, root = new_project(template, tmp_path / "repo")
    return root


def _add_migration(project: Path, name: str, operations: str, *, prelude: str = "") -> Path:
    return write(
        project / "shop" / "migrations" / f"{name}.py",
        migration_file(operations, LEAF, prelude=prelude),
    )


def _databases(url: str | None) -> set[str]:
    return set() if url is None else list_databases(url)


def _assert_gone(scratch: set[str], url: str | None, before: set[str]) -> None:
    """Every scratch database the check used is new, and no longer exists.

    Other test runs make scratch databases on the same server at the same time, so
    "the list after equals the list before" would race; the databases this check
    connected to (from the project's connection log) are what must be gone.
    """
    assert scratch, "the check connected to no scratch database"
    assert not scratch & before
    if url is None:
        for path in scratch:
            assert not Path(path).exists(), path
            assert not Path(path).parent.exists(), path
    else:
        assert not scratch & list_databases(url)


# -- once per dialect ------------------------------------------------------------------------------


def test_model_change_without_migration(project: Path, url: str | None) -> None:
    (project / "shop" / "models.py").write_text(models_source(color=True), encoding="utf-8")

    run = run_check(project, url=url)

    assert run.returncode == 1, run.output
    assert "✖ missing migration MC301 shop: models differ from migrations" in run.stdout
    assert "+ Add column color to product" in run.stdout
    assert "run: migrate-core makemigrations shop" in run.stdout
    (missing,) = findings(run.report, "missing")
    assert missing["code"] == "MC301"
    assert missing["severity"] == "error"
    assert missing["app"] == "shop"
    assert missing["file"] == "shop/migrations"
    assert missing["details"][0].startswith("+ Add column color to product")
    # The migrated database lacks the column too: drift says so from the models' side.
    (drift,) = findings(run.report, "drift")
    assert drift["code"] == "MC601"
    assert drift["message"] == (
        "column product.color is declared by the models, but the migrations do not create it"
    )
    assert drift["file"] == "shop/models.py"


def test_backwards_that_forgets_an_index(
    project: Path, url: str | None, tmp_path: Path, dialect: str
) -> None:
    (project / "shop" / "models.py").write_text(
        models_source(full_name_index=True), encoding="utf-8"
    )
    path = _add_migration(project, "0005_full_name_index", FORGETFUL_INDEX)
    log = tmp_path / "connections.log"
    before = _databases(url)

    run = run_check(project, url=url, log=log)

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert finding["check"] == "reversibility"
    assert finding["code"] == "MC502"
    assert finding["migration"] == "0005_full_name_index"
    assert finding["file"] == "shop/migrations/0005_full_name_index.py"
    assert finding["line"] == line_of(path, "migrations.RunSQL(")
    assert finding["message"] == (
        "after unapply, index ix_customer_full_name on customer(full_name) is still there"
    )
    assert f"shop/migrations/0005_full_name_index.py:{finding['line']}  MC502 after" in run.stdout
    # The declared state is right, so the models agree and the schema has not drifted.
    assert [status(run.report, c) for c in ("missing", "drift")] == ["passed", "passed"]
    assert run.report["summary"]["database"] == ("sqlite" if url is None else dialect)
    # The check failed, and its scratch databases are gone all the same.
    scratch = scratch_databases(log)
    assert len(scratch) == 2  # one for the chain, one for the models
    _assert_gone(scratch, url, before)


def test_migration_that_fails_names_file_line_and_database_error(
    project: Path, url: str | None, dialect: str
) -> None:
    path = _add_migration(
        project,
        "0005_broken",
        """
        migrations.AddField("product", sa.Column("color", sa.String(length=20))),
        migrations.RunSQL("UPDATE no_such_table SET x = 1", reverse_sql=[]),
        """,
    )
    (project / "shop" / "models.py").write_text(models_source(color=True), encoding="utf-8")

    code, report = run_json(project, url=url)

    assert code == 1
    (finding,) = report["findings"]
    assert finding["check"] == "reversibility"
    assert finding["code"] == "MC505"
    assert finding["file"] == "shop/migrations/0005_broken.py"
    assert finding["line"] == line_of(path, "migrations.RunSQL(")
    assert finding["message"].startswith("0005_broken does not apply: RunSQL(")
    error = {
        "sqlite": "sqlite3.OperationalError: no such table: no_such_table",
        "postgresql": 'psycopg.errors.UndefinedTable: relation "no_such_table" does not exist',
        "mysql": "pymysql.err.ProgrammingError: (1146",
    }[dialect]
    assert error in finding["message"]
    assert report["checks"][CHECK_NAMES.index("drift")]["summary"] == (
        "skipped: the chain did not apply"
    )


def test_chain_failure_is_reported_when_reversibility_is_skipped(
    project: Path, url: str | None
) -> None:
    """With ``--skip reversibility`` only the drift check runs the chain: its failure
    must still fail the run, not leave drift quietly skipped."""
    path = _add_migration(
        project,
        "0005_broken",
        """
        migrations.AddField("product", sa.Column("color", sa.String(length=20))),
        migrations.RunSQL("UPDATE no_such_table SET x = 1", reverse_sql=[]),
        """,
    )
    (project / "shop" / "models.py").write_text(models_source(color=True), encoding="utf-8")

    code, report = run_json(project, "--skip", "reversibility", url=url)

    assert code == 1
    (finding,) = report["findings"]
    assert finding["check"] == "drift"
    assert finding["code"] == "MC505"
    assert finding["file"] == "shop/migrations/0005_broken.py"
    assert finding["line"] == line_of(path, "migrations.RunSQL(")
    assert finding["message"].startswith("0005_broken does not apply: RunSQL(")
    assert status(report, "reversibility") == "skipped"
    assert status(report, "drift") == "failed"


def test_hand_edited_migration_drifts_from_its_declared_state(
    project: Path, url: str | None
) -> None:
    _add_migration(project, "0005_nickname", UNDECLARED_COLUMN)

    run = run_check(project, url=url)

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert finding["check"] == "drift"
    assert finding["code"] == "MC601"
    assert finding["app"] == "shop"
    assert finding["message"] == (
        "column customer.nickname is in the migrated database, but the models do not declare it"
    )
    assert finding["file"] == "shop/models.py"
    assert "✖ schema drift      shop/models.py: MC601 column customer.nickname" in run.stdout
    # Its reverse is right and its state declares nothing: only drift can see it.
    assert [status(run.report, c) for c in ("missing", "reversibility")] == ["passed", "passed"]


# -- not database-specific: SQLite -----------------------------------------------------------------


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_irreversible_run_python_fails_unless_allowed(project: Path) -> None:
    path = _add_migration(
        project, "0005_backfill", "migrations.RunPython(backfill),", prelude=BACKFILL
    )

    run = run_check(project)

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert finding["check"] == "reversibility"
    assert finding["code"] == "MC501"
    assert finding["file"] == "shop/migrations/0005_backfill.py"
    assert finding["line"] == line_of(path, "migrations.RunPython(")
    assert "Run Python backfill cannot be reversed" in finding["message"]
    assert "--allow-irreversible shop.0005_backfill" in finding["message"]

    # Allowed, it is accepted: reported as a note, not an error.
    run = run_check(project, "--allow-irreversible", "shop.0005_backfill", "--strict")
    assert run.returncode == 0, run.output
    assert [(f["code"], f["severity"], f["accepted"]) for f in run.report["findings"]] == [
        ("MC501", "note", True)
    ]
    assert "MC501 Run Python backfill cannot be reversed" in run.stdout
    assert "(accepted)" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("no errors, 1 accepted (")

    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            "[tool.migrate-core]\n",
            '[tool.migrate-core]\nallow-irreversible = ["shop.0005_backfill"]\n',
        ),
        encoding="utf-8",
    )
    code, report = run_json(project)
    assert code == 0, report["findings"]
    assert [f["accepted"] for f in report["findings"]] == [True]
    # The migrations after an irreversible one are still checked.
    assert "5 migrations applied" in report["checks"][CHECK_NAMES.index("reversibility")]["summary"]


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_reverse_that_fails_and_apply_again_that_differs(project: Path) -> None:
    # The reverse SQL fails: the migration cannot be unapplied.
    path = _add_migration(
        project,
        "0005_bad_reverse",
        """
        migrations.RunSQL("CREATE TABLE scratchpad (id INTEGER)", reverse_sql="DROP TABLE nope"),
        """,
    )
    code, report = run_json(project, "--skip", "drift")
    assert code == 1
    (finding,) = report["findings"]
    assert (finding["check"], finding["code"]) == ("reversibility", "MC504")
    assert finding["line"] == line_of(path, "migrations.RunSQL(")
    assert finding["message"].startswith(
        "0005_bad_reverse does not unapply and apply again cleanly: RunSQL("
    )

    # Code that does something else the second time: unapplied cleanly, then applied
    # again, the schema is not what the first run left.
    path.unlink()
    path = _add_migration(
        project,
        "0005_second_time",
        """
        migrations.RunPython(forwards, backwards),
        """,
        prelude=SECOND_TIME,
    )
    code, report = run_json(project, "--skip", "drift")
    assert code == 1
    found = report["findings"]
    assert {(f["check"], f["code"], f["line"]) for f in found} == {
        ("reversibility", "MC503", line_of(path, "migrations.RunPython("))
    }
    assert all(f["message"].startswith("after unapply and apply again, ") for f in found)
    assert any("second" in f["message"] for f in found)


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_models_that_do_not_import(project: Path) -> None:
    models = project / "shop" / "models.py"
    models.write_text(models_source() + "\nclass Broken(\n", encoding="utf-8")

    run = run_check(project)

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert (finding["check"], finding["code"]) == ("missing", "MC302")
    assert finding["file"] == "shop/models.py"
    drift = run.report["checks"][CHECK_NAMES.index("drift")]
    assert drift["summary"] == "skipped: the models do not import (see missing migration)"

    # With the missing-migration check skipped, the check that needs the models says it.
    code, report = run_json(project, "--skip", "missing")
    assert code == 1
    (finding,) = report["findings"]
    assert (finding["check"], finding["code"]) == ("drift", "MC302")


def test_migration_file_that_does_not_load(project: Path) -> None:
    path = write(project / "shop" / "migrations" / "0005_typo.py", "class Migration(\n")

    code, report = run_json(project)

    assert code == 1
    (finding,) = report["findings"]
    assert (finding["check"], finding["code"]) == ("graph", "MC203")
    assert finding["file"] == "shop/migrations/0005_typo.py"
    assert path.name in finding["message"]


def test_accepting_an_unknown_code_is_a_graph_error(project: Path) -> None:
    path = write(
        project / "shop" / "migrations" / "0005_accepts.py",
        migration_file('migrations.RunSQL("SELECT 1", []),', LEAF).replace(
            "    operations = (", '    accept = ("MC101", "MC999")\n\n    operations = ('
        ),
    )

    run = run_check(project, "--no-database")

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert (finding["check"], finding["code"]) == ("graph", "MC207")
    assert finding["file"] == "shop/migrations/0005_accepts.py"
    assert finding["line"] == line_of(path, "accept = ")
    assert "MC999" in finding["message"] and "MC101" not in finding["message"]


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_excluded_tables_are_not_drift(project: Path) -> None:
    _add_migration(
        project,
        "0005_audit_log",
        """
        migrations.RunSQL(
            "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT)",
            reverse_sql="DROP TABLE audit_log",
        ),
        """,
    )
    code, report = run_json(project)
    assert code == 1
    (finding,) = report["findings"]
    assert finding["check"] == "drift"
    assert "audit_log" in finding["message"]

    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            "[tool.migrate-core]\n", '[tool.migrate-core]\nexclude-tables = ["audit_*"]\n'
        ),
        encoding="utf-8",
    )
    code, report = run_json(project)
    assert code == 0, report["findings"]


def test_missing_dependency_and_cycle_fail_the_graph(project: Path) -> None:
    folder = project / "shop" / "migrations"
    path = write(
        folder / "0005_a.py", migration_file('migrations.RunSQL("SELECT 1", []),', "0004_nope")
    )

    code, report = run_json(project)

    assert code == 1
    (finding,) = report["findings"]
    assert finding["check"] == "graph"
    assert finding["code"] == "MC201"
    assert "0004_nope" in finding["message"] and "does not exist" in finding["message"]
    # Pointed at the line that names the missing migration.
    assert finding["file"] == "shop/migrations/0005_a.py"
    assert finding["line"] == line_of(path, "0004_nope")
    assert [c["status"] for c in report["checks"]] == ["failed"] + ["skipped"] * (
        len(CHECK_NAMES) - 1
    )

    path.write_text(path.read_text().replace("0004_nope", "0006_b"), encoding="utf-8")
    write(folder / "0006_b.py", migration_file('migrations.RunSQL("SELECT 1", []),', "0005_a"))
    code, report = run_json(project)
    assert code == 1
    (finding,) = report["findings"]
    assert finding["code"] == "MC202"
    assert finding["message"] == (
        "migrations depend on each other in a loop: shop.0005_a -> shop.0006_b -> shop.0005_a"
    )


def test_migration_that_does_not_fit_the_ones_before_it(project: Path) -> None:
    # Hand-edited: removes a column no migration created. The report says where, as a
    # finding (annotated, in the JSON), instead of the run ending in an exception.
    path = _add_migration(
        project,
        "0005_bad",
        """
        migrations.RunSQL("SELECT 1", reverse_sql=[]),
        migrations.RemoveField("product", "nope"),
        """,
    )

    run = run_check(project, "--format", "github")

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert finding["check"] == "graph"
    assert finding["code"] == "MC206"
    assert finding["file"] == "shop/migrations/0005_bad.py"
    assert finding["line"] == line_of(path, "RemoveField")
    assert finding["message"] == (
        "0005_bad does not fit the migrations before it: "
        "Remove column nope from product: table product has no column nope"
    )
    assert run.stdout.startswith(
        f"::error file=shop/migrations/0005_bad.py,line={finding['line']},title=graph MC206::"
    )
    assert [c["status"] for c in run.report["checks"]] == ["failed"] + ["skipped"] * (
        len(CHECK_NAMES) - 1
    )


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_twin_numbers_in_one_chain_are_a_warning(project: Path) -> None:
    # A branch rebased by hand: pointed at the new leaf, but not renumbered.
    folder = project / "shop" / "migrations"
    write(folder / "0005_a.py", migration_file('migrations.RunSQL("SELECT 1", []),', LEAF))
    write(folder / "0005_b.py", migration_file('migrations.RunSQL("SELECT 2", []),', "0005_a"))

    code, report = run_json(project)

    assert code == 0
    (finding,) = report["findings"]
    assert finding["check"] == "graph"
    assert finding["code"] == "MC205"
    assert finding["severity"] == "warning"
    assert finding["message"] == "shop has 2 migrations numbered 0005: 0005_a, 0005_b"
    assert status(report, "graph") == "warning"
    assert run_check(project, "--strict").returncode == 1


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_models_that_import_only_in_the_project_python(project: Path, tmp_path: Path) -> None:
    # python = ... names the project's interpreter: there the models import (here a module
    # on its PYTHONPATH only), in check-migrations' own environment they do not.
    extra = write(tmp_path / "site" / "shop_extras.py", "COLOR_LENGTH = 20\n").parent
    python = write(
        tmp_path / "project-env" / "bin" / "python",
        f'#!/bin/sh\nPYTHONPATH="{extra}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" "$@"\n',
    )
    python.chmod(0o755)
    models = models_source(color=True).replace("String(20)", "String(shop_extras.COLOR_LENGTH)")
    models = models.replace("import decimal\n", "import decimal\n\nimport shop_extras\n")
    (project / "shop" / "models.py").write_text(models, encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            "[tool.migrate-core]\n", f'[tool.migrate-core]\npython = "{python}"\n'
        ),
        encoding="utf-8",
    )

    run = run_check(project)

    assert run.returncode == 1, run.output
    (finding,) = run.report["findings"]
    assert finding["check"] == "missing"
    assert finding["code"] == "MC301"
    assert finding["details"][0].startswith("+ Add column color to product")
    # create_all needs the models in this process: said, not crashed.
    drift = run.report["checks"][CHECK_NAMES.index("drift")]
    assert drift["status"] == "skipped"
    assert f"the models import only with python = {python}" in drift["summary"]
    assert status(run.report, "reversibility") == "passed"


def test_json_report_schema(project: Path) -> None:
    (project / "shop" / "models.py").write_text(models_source(color=True), encoding="utf-8")
    folder = project / "shop" / "migrations"
    write(folder / "0005_a.py", migration_file('migrations.RunSQL("SELECT 1", []),', LEAF))
    write(folder / "0005_b.py", migration_file('migrations.RunSQL("SELECT 2", []),', "0005_a"))

    run = run_check(project, "--format", "json")

    assert run.returncode == 1
    assert run.stderr == ""
    report = json.loads(run.stdout)
    assert report == run.report  # --json-report writes the same document
    assert list(report) == ["version", "ok", "summary", "checks", "findings"]
    assert report["version"] == 1
    assert report["ok"] is False
    summary = report["summary"]
    assert list(summary) == ["errors", "warnings", "migrations", "database", "duration", "base_ref"]
    assert (summary["errors"], summary["warnings"], summary["migrations"]) == (2, 1, 6)
    assert summary["database"] == "sqlite"
    assert isinstance(summary["duration"], float)
    assert summary["base_ref"] is None
    assert [c["name"] for c in report["checks"]] == CHECK_NAMES
    for check in report["checks"]:
        assert list(check) == ["name", "title", "status", "summary", "duration"]
        assert check["status"] in ("passed", "failed", "warning", "skipped")
        assert isinstance(check["title"], str) and isinstance(check["summary"], str)
        assert isinstance(check["duration"], float)
    for finding in report["findings"]:
        assert list(finding) == [
            "check",
            "code",
            "severity",
            "accepted",
            "app",
            "migration",
            "file",
            "line",
            "message",
            "details",
        ]
        assert finding["check"] in CHECK_NAMES
        assert re.fullmatch(r"MC[1-6]\d\d", finding["code"])
        assert finding["accepted"] is False
        assert finding["severity"] in ("error", "warning", "note")
        assert all(isinstance(d, str) for d in finding["details"])
    by_check = {f["check"]: f for f in report["findings"]}
    assert by_check["graph"] == {
        "check": "graph",
        "code": "MC205",
        "severity": "warning",
        "accepted": False,
        "app": "shop",
        "migration": "0005_b",
        "file": "shop/migrations/0005_b.py",
        "line": line_of(folder / "0005_b.py", "class Migration"),
        "message": "shop has 2 migrations numbered 0005: 0005_a, 0005_b",
        "details": [],
    }
    assert by_check["missing"]["migration"] is None and by_check["missing"]["line"] is None


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_usage_and_configuration_errors_exit_2(project: Path, tmp_path: Path) -> None:
    def exit_code(*args: str, cwd: Path = project) -> tuple[int, str]:
        proc = subprocess.run(
            [CHECK, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, check=False
        )
        return proc.returncode, proc.stderr

    assert exit_code("--skip", "everything")[0] == 2
    assert exit_code("--format", "xml")[0] == 2
    code, err = exit_code("--app", "warehouse")
    assert code == 2 and "no app named 'warehouse'" in err
    code, err = exit_code("--config", str(tmp_path / "nowhere.toml"))
    assert code == 2 and "no such file" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = exit_code(cwd=empty)
    assert code == 2 and "pyproject.toml" in err
    code, err = exit_code("--database-url", "nosuchdb://x")
    assert code == 2 and "nosuchdb" in err


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_skip_options_and_the_check_alias(project: Path) -> None:
    _add_migration(project, "0005_nickname", UNDECLARED_COLUMN)

    run = run_check(project, "--skip", "drift")
    assert run.returncode == 0, run.output
    assert status(run.report, "drift") == "skipped"
    assert status(run.report, "reversibility") == "passed"

    run = run_check(project, "--no-database")
    assert run.returncode == 0, run.output
    assert [status(run.report, c) for c in ("reversibility", "drift")] == ["skipped", "skipped"]
    assert "(no database, 5 migrations" in run.stdout

    # --config from elsewhere: the project is found by its pyproject.toml.
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    run = run_check(elsewhere, "--config", str(project / "pyproject.toml"), "--no-database")
    assert run.returncode == 0, run.output
    assert run.report["summary"]["migrations"] == 5

    proc = subprocess.run(
        [MIGRATE_CORE, "check", "--format", "json"],
        cwd=project,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert '"check": "drift"' in proc.stdout


@pytest.mark.slow  # a second or more of check-migrations runs: CI, not the fast loop
def test_progress_goes_to_a_terminal_only_in_text_format(project: Path) -> None:
    def stderr_on_a_tty(*args: str) -> tuple[int, str]:
        controller, terminal = pty.openpty()
        try:
            proc = subprocess.run(
                [CHECK, *args],
                cwd=project,
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=terminal,
                check=False,
            )
            os.close(terminal)
            terminal = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: the terminal side is closed and drained
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return proc.returncode, b"".join(chunks).decode("utf-8", "replace")
        finally:
            os.close(controller)
            if terminal != -1:
                os.close(terminal)

    code, shown = stderr_on_a_tty()
    assert code == 0
    assert "reversibility: migration 4 of 4, shop.0004_product_name_index" in shown
    for fmt in ("json", "github"):
        code, shown = stderr_on_a_tty("--format", fmt)
        assert code == 0
        assert shown == ""


# -- servers: scratch databases, borrowed databases, passwords, Ctrl-C -------------------------------


@dataclass
class Account:
    """A login that may not create databases, owning one database of its own."""

    url: str
    password: str
    database: str


def _admin(server: str) -> sa.Engine:
    return sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(params=["postgresql", "mysql"])
def limited_account(request: pytest.FixtureRequest) -> Iterator[Account]:
    server = server_url(request.param)
    assert server is not None
    token = secrets.token_hex(4)
    name = f"mc_limited_{token}"
    password = f"Pw-{secrets.token_hex(8)}"
    admin = _admin(server)
    with admin.connect() as conn:
        if admin.dialect.name == "postgresql":
            conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN NOCREATEDB PASSWORD '{password}'")
            conn.exec_driver_sql(f"CREATE DATABASE {name} OWNER {name}")
        else:
            conn.exec_driver_sql(f"CREATE USER '{name}'@'%%' IDENTIFIED BY '{password}'")
            conn.exec_driver_sql(f"CREATE DATABASE `{name}`")
            conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%%'")
    url = sa.engine.make_url(server).set(username=name, password=password, database=name)
    try:
        yield Account(url.render_as_string(hide_password=False), password, name)
    finally:
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{name}'@'%%'")
        admin.dispose()


def _tables_and_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {
                n: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {n} ORDER BY 1")]
                for n in names
            }
    finally:
        engine.dispose()


def test_non_empty_database_is_refused_and_an_empty_one_borrowed(
    project: Path, limited_account: Account, tmp_path: Path
) -> None:
    engine = sa.create_engine(limited_account.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE precious (id INTEGER PRIMARY KEY, note VARCHAR(20))")
        conn.exec_driver_sql("INSERT INTO precious VALUES (1, 'keep me')")
    engine.dispose()
    log = tmp_path / "refused.log"

    run = run_check(project, url=limited_account.url, log=log)

    assert run.returncode == 2, run.output
    assert "not empty" in run.stderr and "refusing to touch it" in run.stderr
    assert "table precious" in run.stderr
    assert ":***@" in run.stderr
    assert limited_account.password not in run.output
    assert _tables_and_rows(limited_account.url) == {"precious": [(1, "keep me")]}

    # A view is something too: emptying the database afterwards must not be able to hurt.
    engine = sa.create_engine(limited_account.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE precious")
        conn.exec_driver_sql("CREATE VIEW just_a_view AS SELECT 1 AS x")
    run = run_check(project, url=limited_account.url)
    assert run.returncode == 2, run.output
    assert "view just_a_view" in run.stderr
    with engine.connect() as conn:
        assert sa.inspect(conn).get_view_names() == ["just_a_view"]

    # Emptied, the same database is where the checks run, one after the other.
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP VIEW just_a_view")
    engine.dispose()
    _add_migration(project, "0005_nickname", UNDECLARED_COLUMN)  # a finding, to see it work
    log = tmp_path / "borrowed.log"

    run = run_check(project, url=limited_account.url, log=log)

    assert run.returncode == 1, run.output
    assert [f["check"] for f in run.report["findings"]] == ["drift"]
    assert [status(run.report, c) for c in ("reversibility", "drift")] == ["passed", "failed"]
    assert limited_account.password not in run.output + str(run.report)
    used = {d for _, d in connected_databases(log)}
    assert limited_account.database in used
    assert not any(d.startswith("mc_scratch_") for d in used)
    assert _tables_and_rows(limited_account.url) == {}  # left as found: empty


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_check_drops_its_scratch_database(
    project: Path, tmp_path: Path, signum: int
) -> None:
    server = server_url("postgresql")
    assert server is not None
    _add_migration(
        project, "0005_slow", 'migrations.RunSQL("SELECT pg_sleep(60)", reverse_sql=[]),'
    )
    log = tmp_path / "connections.log"
    before = list_databases(server)
    proc = subprocess.Popen(
        [CHECK, "--database-url", server],
        cwd=project,
        env=child_env({LOG_ENV: str(log)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sleeping = _wait_for_sleep(server, log, proc)
        assert sleeping not in before
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr
    assert sleeping not in list_databases(server)
    assert not scratch_databases(log) & list_databases(server)


def _wait_for_sleep(server: str, log: Path, proc: subprocess.Popen[str]) -> str:
    """The scratch database in which the check sits in pg_sleep, once it does."""
    admin = _admin(server)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            ours = scratch_databases(log)
            with admin.connect() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT datname FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%%'"
                )
                for (name,) in rows:
                    if name in ours:
                        return str(name)
            time.sleep(0.2)
    finally:
        admin.dispose()
    raise AssertionError("the check never reached the slow migration")


def test_every_rule_code_is_unique_in_its_family_and_documented() -> None:
    from migrate_core.checks.registry import REGISTRY
    from migrate_core.checks.registry import RULES

    families = {
        "destructive": "1",
        "graph": "2",
        "missing": "3",
        "git": "4",
        "reversibility": "5",
        "drift": "6",
    }
    # Model validation reports the codes makemigrations refuses models with (MV0xx,
    # MV1xx MySQL, MV2xx PostgreSQL): one code per problem, whichever command says it.
    patterns = {name: rf"MC{digit}\d\d" for name, digit in families.items()}
    patterns["models"] = r"MV[012]\d\d"
    codes = [rule.code for check in REGISTRY for rule in check.codes]
    assert len(codes) == len(set(codes)) == len(RULES)
    for check in REGISTRY:
        for rule in check.codes:
            assert re.fullmatch(patterns[check.name], rule.code), (check.name, rule)
            assert rule.severity in ("error", "warning")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `(M[CV]\d{3})` \| (\w+) \|", readme, flags=re.M))
    assert documented == {rule.code: check.name for check in REGISTRY for rule in check.codes}
