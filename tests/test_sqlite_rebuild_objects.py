"""SQLite table rebuilds keep the triggers and views that concern the table.

A rebuild drops the table and creates it again; SQLite's DROP TABLE takes the table's
own triggers with it, and a later rollback whose RunSQL drops the trigger then failed
with "no such trigger". Views and other tables' triggers survive as text, but would
name a column that is gone after a RemoveField. Here: a trigger and a view created by
a RunSQL, as users write them, then one migration per kind of rebuild; the objects
are still there with their exact text, still work, rollback to zero works, and
``check-migrations`` finds nothing wrong with the chain.

The same chain on PostgreSQL and MariaDB (without the SQLite-only RunSQL text) shows
that a database refusing a change for a view's sake fails the normal, clean way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_check import run_check
from helpers_engine import dialect_of
from helpers_engine import dispose_engines
from helpers_engine import execute
from helpers_engine import migrate
from helpers_engine import rows
from helpers_engine import table_names
from helpers_engine import write_chain

TABLES = """
migrations.CreateModel(
    "author",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50)),
        sa.Column("email", sa.String(length=100)),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_author")],
),
migrations.CreateModel(
    "log",
    columns=[
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msg", sa.String(length=200)),
    ],
    constraints=[sa.PrimaryKeyConstraint("id", name="pk_log")],
),
"""

# What users write: a RunSQL with its reverse. The trigger's body has semicolons of its
# own, so the statements come as a list (RunSQL splits a string on them).
TRIGGER = (
    "CREATE TRIGGER author_log AFTER INSERT ON author BEGIN "
    "INSERT INTO log (msg) VALUES ('new ' || new.name); END"
)
VIEW = "CREATE VIEW author_names AS SELECT id, name FROM author"
# A trigger on another table whose body names author: DROP TABLE author leaves it.
OTHER_TRIGGER = (
    "CREATE TRIGGER log_cleanup AFTER DELETE ON log BEGIN "
    "UPDATE author SET name = name WHERE id = old.id; END"
)
OBJECTS = f"""
migrations.RunSQL(
    [{TRIGGER!r}, {VIEW!r}, {OTHER_TRIGGER!r}],
    reverse_sql=[
        "DROP TRIGGER log_cleanup",
        "DROP VIEW author_names",
        "DROP TRIGGER author_log",
    ],
),
"""

# One migration per kind of rebuild SQLite needs.
REBUILDS = [
    (
        "0003_alter_name",
        'migrations.AlterField("author", sa.Column("name", sa.String(length=120))),',
    ),
    ("0004_remove_email", 'migrations.RemoveField("author", "email"),'),
    (
        "0005_add_age",
        'migrations.AddField("author", sa.Column("age", sa.Integer(), nullable=False), fill_value=0),',
    ),
    ("0006_rename_age", 'migrations.RenameField("author", "age", "years"),'),
    (
        "0007_unique_name",
        'migrations.AddConstraint("author", sa.UniqueConstraint("name", name="uq_author_name")),',
    ),
]
CHAIN = [("0001_initial", TABLES), ("0002_objects", OBJECTS), *REBUILDS]

# The models as the chain leaves them (for check-migrations: missing and drift).
MODELS = """
from sqlalchemy import Integer, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_author"),
        UniqueConstraint("name", name="uq_author_name"),
    )
    id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(120))
    years: Mapped[int] = mapped_column(Integer)


class Log(Base):
    __tablename__ = "log"
    __table_args__ = (PrimaryKeyConstraint("id", name="pk_log"),)
    id: Mapped[int] = mapped_column(Integer)
    msg: Mapped[str | None] = mapped_column(String(200))
"""


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    dispose_engines()


@pytest.fixture
def project(make_project, url: str) -> Path:  # type: ignore[no-untyped-def]
    return make_project(MODELS, url=url)


def objects(url: str) -> dict[str, str]:
    """Every trigger and view, by name, with the exact text SQLite keeps."""
    return dict(rows(url, "SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')"))


def log_messages(url: str) -> list[str]:
    return [r[0] for r in rows(url, "SELECT msg FROM log ORDER BY id")]


def test_rebuilds_keep_triggers_and_views_and_rollback_works(project: Path, url: str) -> None:
    write_chain(project, CHAIN)
    migrate(url, "shop", "0002")
    original = objects(url)
    assert set(original) == {"author_log", "author_names", "log_cleanup"}
    execute(url, "INSERT INTO author (id, name, email) VALUES (1, 'Ann', 'a@x')")
    assert log_messages(url) == ["new Ann"]

    for name, _ops in REBUILDS:
        migrate(url, "shop", name)
        # Each rebuild, in its own migration: the text is the very text written.
        assert objects(url) == original, name
    # The rows came back without firing the trigger again (one message, not six).
    assert log_messages(url) == ["new Ann"]
    assert rows(url, "SELECT id, name, years FROM author") == [(1, "Ann", 0)]

    # Still working: the trigger fires, the view reads the rebuilt table.
    execute(url, "INSERT INTO author (id, name, years) VALUES (2, 'Bob', 40)")
    assert log_messages(url) == ["new Ann", "new Bob"]
    assert rows(url, "SELECT id, name FROM author_names ORDER BY id") == [(1, "Ann"), (2, "Bob")]

    # Back down: each rebuild backwards keeps them too, and the RunSQL's reverse finds
    # the trigger it drops (it was "no such trigger" before).
    migrate(url, "shop", "0002")
    assert objects(url) == original
    migrate(url, "shop", "zero")
    assert objects(url) == {}
    assert table_names(url) <= {"migrate_core_migrations"}


def test_one_migration_with_several_rebuilds(project: Path, url: str) -> None:
    """The rebuilds of one migration are carried out as one: the objects survive that too."""
    together = "\n".join(ops for _name, ops in REBUILDS)
    write_chain(
        project, [("0001_initial", TABLES), ("0002_objects", OBJECTS), ("0003_all", together)]
    )
    migrate(url, "shop", "0002")
    original = objects(url)
    migrate(url)
    assert objects(url) == original
    execute(url, "INSERT INTO author (id, name, years) VALUES (3, 'Cy', 1)")
    assert log_messages(url) == ["new Cy"]
    migrate(url, "shop", "zero")
    assert objects(url) == {}


def test_check_migrations_passes_on_the_chain(project: Path) -> None:
    """Reversibility and drift compare tables: the triggers and views make no findings."""
    write_chain(project, CHAIN)
    run = run_check(project, "--skip", "git")
    assert run.returncode == 0, run.output
    assert not [f for f in run.report["findings"] if not f.get("accepted")], run.report


def test_renaming_a_column_they_use_rewrites_them(project: Path, url: str) -> None:
    """A rename of a column a trigger or view names is SQLite's own RENAME COLUMN, which
    rewrites them (a rebuild would create them again with the old name in them); a
    renamed table likewise. Rollback renames back and still finds the trigger."""
    write_chain(
        project,
        [
            ("0001_initial", TABLES),
            ("0002_objects", OBJECTS),
            ("0003_rename_name", 'migrations.RenameField("author", "name", "full_name"),'),
            ("0004_rename_log", 'migrations.RenameModel("log", "audit_log"),'),
            (
                "0005_alter_email",
                'migrations.AlterField("author", sa.Column("email", sa.String(length=150))),',
            ),
        ],
    )
    migrate(url)
    after = objects(url)
    assert set(after) == {"author_log", "author_names", "log_cleanup"}
    assert "new.full_name" in after["author_log"] and "audit_log" in after["author_log"]
    assert "full_name" in after["author_names"]
    execute(url, "INSERT INTO author (id, full_name) VALUES (1, 'Dee')")
    assert rows(url, "SELECT msg FROM audit_log") == [("new Dee",)]
    # The view's column follows the rename: SQLite rewrote its select list.
    assert rows(url, "SELECT full_name FROM author_names") == [("Dee",)]
    migrate(url, "shop", "zero")
    assert objects(url) == {}


@pytest.mark.parametrize(
    ("operation", "user"),
    [
        ('migrations.RemoveField("author", "name"),', "trigger author_log"),
        # The view is the only one that names id: a view breaks as silently as a trigger.
        ('migrations.RemoveField("author", "id"),', "view author_names"),
    ],
)
def test_dropping_a_column_they_use_is_refused_before_anything_runs(
    project: Path, url: str, operation: str, user: str
) -> None:
    write_chain(
        project,
        [("0001_initial", TABLES), ("0002_objects", OBJECTS), ("0003_drop", operation)],
    )
    migrate(url, "shop", "0002")
    before = objects(url)
    schema = rows(url, "SELECT sql FROM sqlite_master WHERE name = 'author'")
    result = migrate(url, expect=1)
    message = result.stderr
    assert "Traceback" not in result.output
    assert "shop/migrations/0003_drop.py" in message
    assert f"{user} uses column author." in message
    assert "InvalidStateError" not in message  # our refusal, said as itself
    assert "RunSQL" in message
    assert (
        "Nothing of 0003_drop was kept (rolled back); the database is at shop.0002_objects."
        in message
    )
    assert objects(url) == before
    assert rows(url, "SELECT sql FROM sqlite_master WHERE name = 'author'") == schema


# -- the same chain on the servers -------------------------------------------------------------------

SERVER_OBJECTS = """
migrations.RunSQL(
    "CREATE VIEW author_names AS SELECT id, name FROM author",
    reverse_sql="DROP VIEW author_names",
),
"""


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_servers_fail_cleanly_or_keep_the_view(make_project, db_url: str, dialect: str) -> None:  # type: ignore[no-untyped-def]
    """A view on the table, then the chain's changes. PostgreSQL refuses to alter the type
    of a column a view uses: that is its own message, reported the normal way. MariaDB
    alters it. Either way the output is the clean failure or success, and zero works."""
    project = make_project(MODELS, url=db_url)
    write_chain(project, [("0001_initial", TABLES), ("0002_objects", SERVER_OBJECTS), *REBUILDS])
    migrate(db_url, "shop", "0002")
    result = migrate(db_url, expect=None)
    assert "Traceback" not in result.output
    if dialect_of(db_url) == "postgresql":
        assert result.exit_code == 1, result.output
        assert "shop/migrations/0003_alter_name.py" in result.stderr
        assert "used by a view" in result.stderr  # PostgreSQL's own message
        assert "Nothing of 0003_alter_name was kept (rolled back)" in result.stderr
    else:
        assert result.exit_code == 0, result.output
        assert rows(db_url, "SELECT COUNT(*) FROM author_names") == [(0,)]
    migrate(db_url, "shop", "zero")
    assert table_names(db_url) <= {"migrate_core_migrations"}


def test_identifiers_read_names_not_literals_or_comments() -> None:
    """How a trigger's or view's text is read for the names it uses: quoted names count
    (SQLite's three quotings), words inside string literals and comments do not."""
    from migrate_core.db.dialects.sqlite import identifiers

    words = identifiers(
        'SELECT "Full ""N""", [odd name], `tick`, new.Email FROM "Author" '
        "WHERE note = 'author email' AND 1e5 > x'00' -- hidden\n/* gone */ AND kept"
    )
    assert {'full "n"', "odd name", "tick", "new", "email", "author", "note", "kept"} <= words
    assert not {"hidden", "gone", "e5"} & words
    # A table named only inside a literal is not used by the text.
    assert "author" not in identifiers("SELECT 'author' AS a, 'it''s author' AS b")


def test_the_fix_the_refusal_names_works_both_ways(project: Path, url: str) -> None:
    """What the message says to do: drop them in a RunSQL before the operation, create
    them again after (without the column). Forwards and back to zero."""
    new_trigger = (
        "CREATE TRIGGER author_log AFTER INSERT ON author BEGIN "
        "INSERT INTO log (msg) VALUES ('new ' || new.id); END"
    )
    around = f"""
migrations.RunSQL(
    ["DROP TRIGGER log_cleanup", "DROP VIEW author_names", "DROP TRIGGER author_log"],
    reverse_sql=[{TRIGGER!r}, {VIEW!r}, {OTHER_TRIGGER!r}],
),
migrations.RemoveField("author", "name"),
migrations.RunSQL([{new_trigger!r}], reverse_sql=["DROP TRIGGER author_log"]),
"""
    write_chain(
        project, [("0001_initial", TABLES), ("0002_objects", OBJECTS), ("0003_drop_name", around)]
    )
    migrate(url, "shop", "0002")
    original = objects(url)
    migrate(url)
    assert objects(url) == {"author_log": new_trigger}
    execute(url, "INSERT INTO author (id) VALUES (7)")
    assert log_messages(url) == ["new 7"]
    migrate(url, "shop", "0002")
    assert objects(url) == original
    migrate(url, "shop", "zero")
    assert objects(url) == {}
