"""The library's migrate use case and the one walk over operations, without the CLI.

``migrate_core.usecases.migrate`` is what ``migrate-core migrate``, the test helpers
and the bench scripts call: lock, history table, consistency check, warnings, plan
and run, reported as data. These tests hold it to that on every configured database;
the CLI's wording is pinned in test_executor and test_migrate_cli.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import history
from helpers_engine import snapshot
from helpers_engine import table_names
from helpers_engine import write_chain
from helpers_engine import write_migration

from migrate_core.config import load_config
from migrate_core.db.dialects import collecting_editor
from migrate_core.db.executor import Progress
from migrate_core.db.recorder import TABLE_NAME
from migrate_core.errors import InconsistentHistoryError
from migrate_core.errors import InvalidStateError
from migrate_core.errors import IrreversibleError
from migrate_core.errors import MigrationFailed
from migrate_core.migrations.loader import MigrationLoader
from migrate_core.schema.state import ProjectState
from migrate_core.usecases.migrate import Event
from migrate_core.usecases.migrate import FileWarning
from migrate_core.usecases.migrate import PlannedOperation
from migrate_core.usecases.migrate import PlanReady
from migrate_core.usecases.migrate import migrate

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
        "0002_author_email",
        'migrations.AddField("author", sa.Column("email", sa.String(length=100))),',
    ),
    (
        "0003_author_code",
        """
        migrations.AddField("author", sa.Column("code", sa.String(length=10))),
        migrations.RunSQL("UPDATE author SET code = 'x'", reverse_sql=migrations.RunSQL.noop),
        """,
    ),
]
NAMES = [name for name, _ in CHAIN]
KEYS = [("shop", name) for name in NAMES]


@pytest.fixture
def project(make_project, db_url: str) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    root = make_project(MODELS, url=db_url)
    write_chain(root, CHAIN)
    yield root
    dispose_engines()


class Events(list[Event]):
    """What ``progress`` received, in order."""

    def kinds(self) -> list[str]:
        out = []
        for e in self:
            if isinstance(e, Progress):
                out.append(f"{e.event} {e.migration}" if e.migration else e.event)
            else:
                out.append(type(e).__name__)
        return out


def test_plan_only_changes_nothing(project: Path, db_url: str) -> None:
    events = Events()
    result = migrate(load_config(), db_url, plan_only=True, progress=events.append)
    assert result.plan_only
    assert [m.key for m in result.plan] == KEYS
    assert not any(m.backwards for m in result.plan)
    assert result.plan[2].operations == (
        PlannedOperation("+", "Add column code to author"),
        PlannedOperation("*", "Raw SQL: UPDATE author SET code = 'x'"),
    )
    assert result.ran == []
    assert events.kinds() == ["PlanReady"]
    # Not even the history table: planning only reads.
    assert table_names(db_url) == set()


def test_apply_creates_the_history_table_and_reports_each_migration(
    project: Path, db_url: str
) -> None:
    events = Events()
    result = migrate(load_config(), db_url, progress=events.append)
    assert result.applied == KEYS
    assert result.unapplied == [] and result.skipped == []
    assert [m.key for m in result.plan] == KEYS
    assert result.warnings == []
    assert events.kinds() == [
        "PlanReady",
        *[f"{what} shop.{name}" for name in NAMES for what in ("start", "done")],
    ]
    plan = events[0]
    assert isinstance(plan, PlanReady) and plan.apps == ["shop"] and not plan.backwards
    assert [(app, name) for app, name, _checksum in history(db_url)] == KEYS
    assert table_names(db_url) == {TABLE_NAME, "author"}

    again = migrate(load_config(), db_url)
    assert again.plan == [] and again.ran == []


def test_history_table_created_with_nothing_to_apply(make_project, db_url: str) -> None:  # type: ignore[no-untyped-def]
    make_project(MODELS, url=db_url)
    result = migrate(load_config(), db_url)
    assert result.plan == [] and result.ran == []
    # The executor ensured it: a migrated database always says what it has applied.
    assert table_names(db_url) == {TABLE_NAME}
    dispose_engines()


def test_rollback_to_a_target_and_to_zero(project: Path, db_url: str) -> None:
    config = load_config()
    migrate(config, db_url)
    events = Events()
    result = migrate(config, db_url, "shop", "0001", progress=events.append)
    assert result.unapplied == [KEYS[2], KEYS[1]]
    assert all(m.backwards for m in result.plan)
    # Backwards, the operations come last first.
    assert [op.description for op in result.plan[0].operations] == [
        "Raw SQL: UPDATE author SET code = 'x'",
        "Add column code to author",
    ]
    assert not any(op.irreversible for m in result.plan for op in m.operations)
    assert events.kinds()[0] == "PlanReady"
    assert isinstance(events[0], PlanReady) and events[0].backwards
    assert [name for _app, name, _c in history(db_url)] == NAMES[:1]
    assert set(snapshot(db_url)["author"].columns) == {"id", "name"}

    result = migrate(config, db_url, "shop", "zero")
    assert result.unapplied == [KEYS[0]]
    assert table_names(db_url) == {TABLE_NAME}


def test_irreversible_rollback_raises_before_anything_runs(project: Path, db_url: str) -> None:
    write_migration(
        project,
        "0004_data",
        'migrations.RunSQL("UPDATE author SET name = name"),',
        [("shop", "0003_author_code")],
    )
    config = load_config()
    migrate(config, db_url)
    plan = migrate(config, db_url, "shop", "zero", plan_only=True).plan
    assert [op.irreversible for op in plan[0].operations] == [True]
    with pytest.raises(IrreversibleError, match="cannot be reversed"):
        migrate(config, db_url, "shop", "zero")
    assert [name for _app, name, _c in history(db_url)] == [*NAMES, "0004_data"]


def test_fake_records_without_running(project: Path, db_url: str) -> None:
    result = migrate(load_config(), db_url, "shop", "0002", fake=True)
    assert result.applied == KEYS[:2]
    assert table_names(db_url) == {TABLE_NAME}
    assert [name for _app, name, _c in history(db_url)] == NAMES[:2]


def test_warnings_are_data(project: Path, db_url: str) -> None:
    config = load_config()
    migrate(config, db_url, "shop", "0002")
    path = project / "shop" / "migrations" / "0001_initial.py"
    path.write_text(path.read_text() + "# edited\n")
    execute(
        db_url,
        f"INSERT INTO {TABLE_NAME} (app, name, applied_at) "
        "VALUES ('shop', '0009_gone', '2024-01-01 00:00:00')",
    )
    events = Events()
    result = migrate(config, db_url, plan_only=True, progress=events.append)
    assert result.warnings == [
        FileWarning("changed", KEYS[0], path),
        FileWarning("unknown", ("shop", "0009_gone")),
    ]
    assert events.kinds() == ["FileWarning", "FileWarning", "PlanReady"]
    assert result.warnings[1].message == (
        "shop.0009_gone is recorded as applied but has no migration file"
    )
    assert "an applied migration should not be edited" in result.warnings[0].message


def test_inconsistent_history_is_refused(project: Path, db_url: str) -> None:
    config = load_config()
    migrate(config, db_url, "shop", "0002", fake=True)
    execute(db_url, f"DELETE FROM {TABLE_NAME} WHERE name = '0001_initial'")
    with pytest.raises(InconsistentHistoryError, match="applied before its dependency"):
        migrate(config, db_url)


def test_failure_names_the_operation_and_keeps_what_ran_before(project: Path, db_url: str) -> None:
    write_migration(
        project,
        "0004_bad",
        'migrations.RunSQL("UPDATE no_such_table SET x = 1"),',
        [("shop", "0003_author_code")],
    )
    with pytest.raises(MigrationFailed) as info:
        migrate(load_config(), db_url)
    assert info.value.key == ("shop", "0004_bad")
    assert info.value.op_index == 0
    assert [name for _app, name, _c in history(db_url)] == NAMES


# -- the walk ----------------------------------------------------------------------------------------


def _loader(make_project) -> MigrationLoader:  # type: ignore[no-untyped-def]
    root = make_project(MODELS)
    write_chain(root, CHAIN)
    return MigrationLoader(load_config())


def test_steps_forwards_and_backwards(make_project) -> None:  # type: ignore[no-untyped-def]
    loader = _loader(make_project)
    before = loader.project_state([KEYS[1]])
    migration = loader.migration(KEYS[2])
    forwards = list(migration.steps(before))
    assert [s.index for s in forwards] == [0, 1]
    assert forwards[0].before == before
    assert "code" in forwards[0].after.tables["author"].column_names
    assert forwards[1].before == forwards[0].after
    assert forwards[1].after == migration.mutate_state(before)
    backwards = list(migration.steps(before, backwards=True))
    assert [(s.index, s.backwards) for s in backwards] == [(1, True), (0, True)]
    assert [(s.before, s.after) for s in backwards] == [
        (s.before, s.after) for s in reversed(forwards)
    ]
    # The walk never changes the state it was given.
    assert before == loader.project_state([KEYS[1]])


def test_steps_name_the_file_and_line_of_an_operation_that_does_not_fit(make_project) -> None:  # type: ignore[no-untyped-def]
    loader = _loader(make_project)
    migration = loader.migration(KEYS[1])  # adds a column to a table that is not there yet
    with pytest.raises(InvalidStateError) as info:
        list(migration.steps(ProjectState()))
    assert str(info.value).startswith("shop/migrations/0002_author_email.py:")
    assert info.value.key == KEYS[1] and info.value.op_index == 0


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql", "mysql"])
def test_apply_and_unapply_through_a_collecting_editor(make_project, dialect_name: str) -> None:  # type: ignore[no-untyped-def]
    loader = _loader(make_project)
    before = loader.project_state([KEYS[0]])
    migration = loader.migration(KEYS[1])
    editor = collecting_editor(dialect_name)
    after = migration.apply(before, editor)
    assert after == migration.mutate_state(before)
    assert "ALTER TABLE author ADD COLUMN email VARCHAR(100)" in editor.sql_output()
    editor = collecting_editor(dialect_name)
    assert migration.unapply(before, editor) == before
    sql = editor.sql_output()
    if dialect_name == "sqlite":
        # SQLite drops a column by rebuilding the table from the state before.
        rebuilt = re.findall(r"CREATE TABLE \w+ \((.*?)\n\);", sql, re.S)
        assert rebuilt and "name VARCHAR(50)" in rebuilt[-1] and "email" not in rebuilt[-1]
    else:
        assert "ALTER TABLE author DROP COLUMN email" in sql


# -- showmigrations and install-hook as data ---------------------------------------------------------


def test_show_migrations_rows(project: Path, db_url: str) -> None:
    from migrate_core.usecases.showmigrations import MigrationRow
    from migrate_core.usecases.showmigrations import show_migrations

    config = load_config()
    migrate(config, db_url, "shop", "0001")
    path = project / "shop" / "migrations" / "0001_initial.py"
    path.write_text(path.read_text() + "# edited\n")
    execute(
        db_url,
        f"INSERT INTO {TABLE_NAME} (app, name, applied_at) "
        "VALUES ('shop', '0009_gone', '2024-01-01 00:00:00')",
    )
    result = show_migrations(config, db_url)
    assert result.plan == []
    assert [listing.app for listing in result.apps] == ["shop"]
    assert result.apps[0].rows == [
        MigrationRow("shop", "0001_initial", "applied", changed=True),
        MigrationRow("shop", "0002_author_email", "pending"),
        MigrationRow("shop", "0003_author_code", "pending"),
        MigrationRow("shop", "0009_gone", "unknown"),
    ]
    planned = show_migrations(config, db_url, ["shop"], plan=True)
    assert planned.apps == []
    assert [(r.name, r.status) for r in planned.plan] == [
        ("0001_initial", "applied"),
        ("0002_author_email", "pending"),
        ("0003_author_code", "pending"),
    ]


def test_install_hook_returns_the_path_and_refuses_a_foreign_hook(tmp_path: Path) -> None:
    import subprocess

    from migrate_core.errors import ConfigError
    from migrate_core.usecases.install_hook import HOOK_MARKER
    from migrate_core.usecases.install_hook import install_hook

    with pytest.raises(ConfigError, match="is not inside a git repository"):
        install_hook(tmp_path, "/usr/bin/python3")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = install_hook(tmp_path, "/opt/my env/python", stage=True)
    assert path == tmp_path / ".git" / "hooks" / "pre-commit"
    text = path.read_text()
    assert HOOK_MARKER in text
    assert text.endswith("exec '/opt/my env/python' -m migrate_core.hook makemigrations --stage\n")
    assert path.stat().st_mode & 0o111
    # Ours: rewritten without --force.
    assert install_hook(tmp_path, "/usr/bin/python3") == path
    path.write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(ConfigError, match="exists and is not ours; pass --force"):
        install_hook(tmp_path, "/usr/bin/python3")
    install_hook(tmp_path, "/usr/bin/python3", force=True)
    assert HOOK_MARKER in path.read_text()
