"""The migrate, showmigrations and sqlmigrate commands: their output, and their errors.

Output is checked line by line as the README documents it. Bad input must end in a
message a person can act on and exit code 2, never a traceback (``helpers_engine.cli``
re-raises anything but SystemExit, so a traceback fails the test).

These are about the command line, not about a database: SQLite, in a file next to the
project. What differs per database is covered by test_operations and test_executor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_engine import MODELS
from helpers_engine import cli
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import line_of
from helpers_engine import migrate
from helpers_engine import table_names
from helpers_engine import write_chain
from helpers_engine import write_migration

from migrate_core.db.recorder import TABLE_NAME

AUTHOR = """
migrations.CreateModel(
    "author",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50)),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
"""
EMAIL = 'migrations.AddField("author", sa.Column("email", sa.String(length=100))),'
CHAIN = [("0001_initial", AUTHOR), ("0002_author_email", EMAIL)]
UNREACHABLE = "postgresql+psycopg://app:secret@127.0.0.1:1/app"


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    dispose_engines()


@pytest.fixture
def project(make_project, url: str) -> Path:  # type: ignore[no-untyped-def]
    return make_project(MODELS, url=url)


def _fails(*args: str) -> str:
    """Run a command that must fail as a usage error; return its message."""
    result = cli(*args, expect=2)
    assert result.stdout == ""
    assert result.stderr.startswith("migrate-core: ")
    return result.stderr


# -- migrate -----------------------------------------------------------------------------------------


def test_migrate_output(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    lines = migrate(url).stdout.splitlines()
    assert lines[0] == "Operations to perform: apply 2 migrations (shop)"
    assert re.fullmatch(r"  Applying shop\.0001_initial\.\.\. OK \(\d+\.\d\ds\)", lines[1])
    assert re.fullmatch(r"  Applying shop\.0002_author_email\.\.\. OK \(\d+\.\d\ds\)", lines[2])
    assert re.fullmatch(r"Done in \d+\.\d\ds\.", lines[3])
    assert len(lines) == 4

    assert migrate(url).stdout == "No migrations to apply.\n"

    lines = migrate(url, "shop", "0001").stdout.splitlines()
    assert lines[0] == "Operations to perform: unapply 1 migration (shop)"
    assert re.fullmatch(r"  Unapplying shop\.0002_author_email\.\.\. OK \(\d+\.\d\ds\)", lines[1])
    assert len(lines) == 2  # no "Done in" for a single migration


def test_migrate_uses_the_configured_url(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    assert cli("migrate").stdout.startswith("Operations to perform: apply 2 migrations (shop)")
    assert table_names(url) == {TABLE_NAME, "author"}


def test_showmigrations(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    assert cli("showmigrations").stdout.splitlines() == [
        "shop",
        " [ ] 0001_initial",
        " [ ] 0002_author_email",
    ]
    migrate(url, "shop", "0001_initial")
    assert cli("showmigrations").stdout.splitlines() == [
        "shop",
        " [X] 0001_initial",
        " [ ] 0002_author_email",
    ]
    assert cli("showmigrations", "--plan").stdout.splitlines() == [
        "[X]  shop.0001_initial",
        "[ ]  shop.0002_author_email",
    ]
    assert cli("showmigrations", "shop").stdout.splitlines()[0] == "shop"


def test_showmigrations_without_migrations(project: Path) -> None:
    assert cli("showmigrations").stdout.splitlines() == ["shop", " (no migrations)"]


def test_applied_migration_without_a_file(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    migrate(url)
    execute(
        url,
        f"INSERT INTO {TABLE_NAME} (app, name, applied_at) "
        "VALUES ('shop', '0003_gone', '2024-01-01 00:00:00')",
    )
    assert cli("showmigrations").stdout.splitlines() == [
        "shop",
        " [X] 0001_initial",
        " [X] 0002_author_email",
        " [?] 0003_gone  (applied, but there is no such migration file)",
    ]
    result = migrate(url)
    assert result.stderr == (
        "warning: shop.0003_gone is recorded as applied but has no migration file\n"
    )
    assert result.stdout == "No migrations to apply.\n"


# -- sqlmigrate --------------------------------------------------------------------------------------


@pytest.fixture
def offline_project(make_project) -> Path:  # type: ignore[no-untyped-def]
    """A project whose database cannot be reached: sqlmigrate must not try."""
    root = make_project(MODELS, url=UNREACHABLE)
    write_chain(root, CHAIN)
    write_migration(
        root,
        "0003_code",
        """
        migrations.AlterField(
            "author", sa.Column("name", sa.String(length=80), nullable=False), fill_value="?"
        ),
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
        """,
        [("shop", "0002_author_email")],
    )
    return root


def test_sqlmigrate_uses_the_configured_dialect_without_connecting(offline_project: Path) -> None:
    # The configured URL is PostgreSQL on a closed port: the SQL is PostgreSQL's anyway.
    out = cli("sqlmigrate", "shop", "0001_initial").stdout
    assert out.startswith("-- Create table author\n")
    assert "CREATE TABLE author (" in out
    assert "id SERIAL NOT NULL" in out
    assert "CONSTRAINT pk_author PRIMARY KEY (id)" in out
    # Proof that nothing tried to connect: migrate does, and fails.
    assert "cannot connect" in _fails("migrate")


def _create_table(sql: str, table: str) -> list[str]:
    """The column and constraint lines of the last ``CREATE TABLE <table> (...)`` in ``sql``."""
    blocks = re.findall(rf"CREATE TABLE {table} \((.*?)\n\);", sql, re.S)
    assert blocks, sql
    return [line.strip().rstrip(",") for line in blocks[-1].strip().splitlines()]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_sqlmigrate_each_dialect(offline_project: Path, dialect: str) -> None:
    out = cli("sqlmigrate", "shop", "0002", "--dialect", dialect).stdout
    assert out.splitlines()[0] == "-- Add column email to author"
    assert "ALTER TABLE author ADD COLUMN email VARCHAR(100);" in out
    out = cli("sqlmigrate", "shop", "0002_author_email", "--backwards", "--dialect", dialect).stdout
    assert out.splitlines()[0] == "-- Undo Add column email to author"
    if dialect == "sqlite":
        # SQLite drops the column by rebuilding the table as the state before it says.
        assert _create_table(out, "author") == [
            "id INTEGER NOT NULL",
            "name VARCHAR(50)",
            "CONSTRAINT pk_author PRIMARY KEY (id)",
        ]
    else:
        assert "ALTER TABLE author DROP COLUMN email;" in out


def test_sqlmigrate_shows_rebuilds_and_python(offline_project: Path) -> None:
    out = cli("sqlmigrate", "shop", "0003", "--dialect", "sqlite").stdout
    assert out.splitlines()[0] == "-- Alter column name on author"
    assert _create_table(out, "author") == [
        "id INTEGER NOT NULL",
        "name VARCHAR(80) NOT NULL",
        "email VARCHAR(100)",
        "CONSTRAINT pk_author PRIMARY KEY (id)",
    ]
    assert "'?'" in out  # the one-off value that fills the NULL names
    assert "-- RunPython RunPython.noop: Python code, not shown as SQL" in out

    out = cli("sqlmigrate", "shop", "0003", "--backwards", "--dialect", "postgresql").stdout
    assert out.index("-- Undo Run Python") < out.index("-- Undo Alter column name on author")
    assert "ALTER TABLE author ALTER COLUMN name TYPE VARCHAR(50)" in out
    assert "ALTER TABLE author ALTER COLUMN name DROP NOT NULL;" in out

    out = cli("sqlmigrate", "shop", "0003", "--dialect", "postgresql").stdout
    assert "UPDATE author SET name='?' WHERE author.name IS NULL;" in out
    assert "ALTER TABLE author ALTER COLUMN name SET NOT NULL;" in out


def test_sqlmigrate_mysql_and_mariadb(offline_project: Path) -> None:
    out = cli("sqlmigrate", "shop", "0001", "--dialect", "mysql").stdout
    assert "id INTEGER NOT NULL AUTO_INCREMENT" in out
    assert cli("sqlmigrate", "shop", "0001", "--dialect", "mariadb").stdout == out


def test_sqlmigrate_irreversible(offline_project: Path) -> None:
    path = write_migration(
        offline_project,
        "0004_data",
        'migrations.RunSQL("UPDATE author SET name = name"),',
        [("shop", "0003_code")],
    )
    assert "UPDATE author SET name = name;" in cli("sqlmigrate", "shop", "0004").stdout
    message = _fails("sqlmigrate", "shop", "0004", "--backwards")
    line = line_of(path, "migrations.RunSQL")
    assert message.startswith(f"migrate-core: shop/migrations/0004_data.py:{line}: Raw SQL")
    assert "cannot be reversed" in message


# -- bad input -------------------------------------------------------------------------------------


def test_unknown_app(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    message = _fails("migrate", "nope", "--database-url", url)
    assert f"no app named 'nope' in {project / 'pyproject.toml'} (apps: shop)" in message
    assert "no app named 'nope'" in _fails("showmigrations", "nope")
    assert "no app named 'nope'" in _fails("sqlmigrate", "nope", "0001")


def test_unknown_target(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    message = _fails("migrate", "shop", "0009")
    assert message == (
        "migrate-core: app shop has no migration matching '0009' "
        "(migrations: 0001_initial, 0002_author_email)\n"
    )
    assert "no migration matching 'nope'" in _fails("sqlmigrate", "shop", "nope")
    # Nothing ran: the failed lookup came before any change.
    assert table_names(url) <= {TABLE_NAME}


def test_ambiguous_prefix(project: Path) -> None:
    write_migration(project, "0001_initial", AUTHOR)
    write_migration(project, "0002_a", EMAIL, [("shop", "0001_initial")])
    write_migration(project, "0002_b", "", [("shop", "0001_initial")])
    write_migration(project, "0003_merge", "", [("shop", "0002_a"), ("shop", "0002_b")])
    message = _fails("migrate", "shop", "0002")
    assert message == (
        "migrate-core: '0002' matches more than one migration of shop: 0002_a, 0002_b; "
        "give more of the name\n"
    )
    assert "matches more than one migration" in _fails("sqlmigrate", "shop", "000")


def test_missing_dependency_names_the_file(project: Path) -> None:
    write_migration(project, "0001_initial", AUTHOR)
    path = write_migration(project, "0002_email", EMAIL, [("shop", "0001_nope")])
    message = _fails("migrate")
    assert f"{path} depends on ('shop', '0001_nope'), which does not exist" in message
    assert "(no migration 0001_nope in app shop)" in message
    assert str(path) in _fails("showmigrations")


def test_dependency_on_an_unknown_app(project: Path) -> None:
    path = write_migration(project, "0001_initial", AUTHOR, [("blog", "0001_initial")])
    message = _fails("migrate")
    assert str(path) in message
    assert "blog" in message
    assert "not configured" in message


def test_dependency_cycle(project: Path) -> None:
    write_migration(project, "0001_a", AUTHOR, [("shop", "0003_c")])
    write_migration(project, "0002_b", "", [("shop", "0001_a")])
    write_migration(project, "0003_c", "", [("shop", "0002_b")])
    message = _fails("migrate")
    assert message.startswith("migrate-core: migrations depend on each other in a loop: ")
    loop = message.split(": ", 2)[2].strip().split(" -> ")
    assert loop[0] == loop[-1]
    assert sorted(loop[:-1]) == ["shop.0001_a", "shop.0002_b", "shop.0003_c"]


def test_names_differing_only_in_case(project: Path) -> None:
    write_migration(project, "0001_initial", AUTHOR)
    write_migration(project, "0001_Initial", AUTHOR)
    message = _fails("migrate")
    assert "two migrations named 0001_Initial and 0001_initial in app shop" in message
    assert "names must differ in more than case" in message


def test_syntax_error_names_file_and_line(project: Path) -> None:
    write_chain(project, CHAIN)
    path = project / "shop" / "migrations" / "0003_broken.py"
    path.write_text(
        "import sqlalchemy as sa\n"
        "from migrate_core import migrations\n"
        "\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0002_author_email')]\n"
        "    operations = [migrations.RemoveField('author', 'email'))]\n"
    )
    message = _fails("migrate")
    assert message.startswith(f"migrate-core: {path}:6: syntax error in migration shop.0003_broken")
    assert f"{path}:6:" in _fails("showmigrations")


def test_import_error_names_file_and_line(project: Path) -> None:
    path = write_migration(project, "0001_initial", "migrations.CreateModel(undefined_name),")
    message = _fails("migrate")
    line = line_of(path, "undefined_name")
    assert message.startswith(
        f"migrate-core: {path}:{line}: migration shop.0001_initial failed to import: NameError"
    )


def test_file_without_migration_class(project: Path) -> None:
    write_chain(project, CHAIN)
    path = project / "shop" / "migrations" / "0003_helpers.py"
    path.write_text("from migrate_core import migrations\n\nOPERATIONS = []\n")
    message = _fails("migrate")
    assert message == (
        f"migrate-core: {path}: no class Migration(migrations.Migration) "
        "in migration shop.0003_helpers\n"
    )


@pytest.mark.parametrize(
    ("bad_url", "shown"),
    [
        (UNREACHABLE, "postgresql+psycopg://app:***@127.0.0.1:1/app"),
        ("mysql+pymysql://app:secret@127.0.0.1:1/app", "mysql+pymysql://app:***@127.0.0.1:1/app"),
    ],
)
def test_unreachable_database_masks_the_password(make_project, bad_url: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    root = make_project(MODELS, url=bad_url)
    write_chain(root, CHAIN)
    for args in (("migrate",), ("showmigrations",), ("migrate", "--database-url", bad_url)):
        result = cli(*args, expect=2)
        assert f"migrate-core: cannot connect to {shown}: " in result.stderr
        assert "secret" not in result.stdout + result.stderr


def test_no_database_url(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(MODELS)
    write_chain(root, CHAIN)
    message = _fails("migrate")
    assert message == (
        f"migrate-core: no database URL: set database-url in [tool.migrate-core] of "
        f"{root / 'pyproject.toml'}, or MIGRATE_CORE_DATABASE_URL, or pass --database-url\n"
    )


def test_pyproject_without_the_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    pyproject = folder / "pyproject.toml"
    pyproject.write_text('[project]\nname = "plain"\n')
    monkeypatch.chdir(folder)
    message = _fails("migrate", "--database-url", "sqlite://")
    assert message == (
        f"migrate-core: no [tool.migrate-core] section in {pyproject.resolve()} "
        f"(searched upwards from {folder.resolve()})\n"
    )
    message = _fails("--config", str(pyproject), "showmigrations")
    assert message == f"migrate-core: no [tool.migrate-core] section in {pyproject.resolve()}\n"
