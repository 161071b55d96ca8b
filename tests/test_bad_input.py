"""A corpus of user mistakes: each one exits with its code and one message naming the
input, never a traceback, and never shows a password, on screen or in a file.

Every case is a real ``migrate-core`` / ``check-migrations`` process on a small fresh
project (no mocks): the traceback we hunt is the one a person would see. Cases are
data: a new mistake is one ``Case`` line. URLs carry :data:`SECRET` as their password;
the servers are not needed (nothing here gets as far as logging in), except for the
role-without-rights test at the end, which runs on the real servers.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import server_url
from helpers_check import CHECK
from helpers_check import MIGRATE_CORE
from helpers_check import child_env

# Slow: one process per case. `pytest -m "not slow"` is the fast loop.
pytestmark = pytest.mark.slow

SECRET = "Pw9xQz7Secret"

PYPROJECT = """\
[tool.migrate-core]
database-url = "sqlite:///shop.db"

[tool.migrate-core.apps.shop]
models = "shop.models:Base"
migrations = "shop/migrations"
"""

MODELS = """\
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
"""

INITIAL = """\
import sqlalchemy as sa
from migrate_core import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = ()
    operations = (
        migrations.CreateModel(
            "product",
            columns=[
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("name", sa.String(length=50), nullable=False),
            ],
            constraints=[sa.PrimaryKeyConstraint("id", name="pk_product")],
        ),
    )
"""

SECOND = "shop/migrations/0002_second.py"


def second(operations: str, dependencies: str = '(("shop", "0001_initial"),)') -> str:
    """A second migration with these operations (Python source of a tuple's items)."""
    return (
        "import sqlalchemy as sa\nfrom migrate_core import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = {dependencies}\n"
        f"    operations = ({operations},)\n"
    )


def with_url(url: str) -> str:
    return PYPROJECT.replace('"sqlite:///shop.db"', f'"{url}"')


@dataclass(frozen=True)
class Case:
    id: str
    #: The command: first item ``migrate-core`` or ``check-migrations``; ``{root}`` is the project.
    argv: tuple[str, ...]
    code: int
    #: Each must appear in stdout + stderr ({root}, {tmp} filled in).
    shown: tuple[str, ...]
    #: Files to write (None: delete) over the project's defaults.
    files: dict[str, str | None] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    #: Run from here instead of the project (relative to the test's tmp folder).
    cwd: str = "project"


MC = "migrate-core"
CM = "check-migrations"
PG = f"postgresql+psycopg://app:{SECRET}@127.0.0.1:1/app"
MY = f"mysql+pymysql://root:{SECRET}@127.0.0.1:1/test"

CASES = [
    # -- configuration ----------------------------------------------------------------------------
    Case("no-pyproject", (MC, "makemigrations"), 2, ("no pyproject.toml",), cwd="."),
    Case(
        "no-section",
        (MC, "makemigrations"),
        2,
        ("no [tool.migrate-core] section",),
        files={"pyproject.toml": '[project]\nname = "x"\n'},
    ),
    Case(
        "invalid-toml",
        (MC, "showmigrations"),
        2,
        ("not valid TOML",),
        files={"pyproject.toml": "[tool.migrate-core\n"},
    ),
    Case(
        "unknown-key",
        (MC, "makemigrations"),
        2,
        ("unknown key(s) databse-url",),
        files={"pyproject.toml": PYPROJECT.replace("database-url", "databse-url")},
    ),
    Case(
        "no-apps",
        (MC, "makemigrations"),
        2,
        ("no apps",),
        files={"pyproject.toml": '[tool.migrate-core]\ndatabase-url = "sqlite:///x.db"\n'},
    ),
    Case(
        "app-name",
        (MC, "makemigrations"),
        2,
        ("app names must be Python identifiers",),
        files={"pyproject.toml": PYPROJECT.replace("apps.shop]", 'apps."my-shop"]')},
    ),
    Case(
        "models-spec",
        (MC, "makemigrations"),
        2,
        ('models must look like "package.module:Base"',),
        files={"pyproject.toml": PYPROJECT.replace("shop.models:Base", "shop/models.py")},
    ),
    Case(
        "models-module-missing",
        (MC, "makemigrations"),
        2,
        ("shop.nomodels",),
        files={"pyproject.toml": PYPROJECT.replace("shop.models:Base", "shop.nomodels:Base")},
    ),
    Case(
        "models-attr-missing",
        (MC, "makemigrations"),
        2,
        ("has no attribute Nope",),
        files={"pyproject.toml": PYPROJECT.replace("shop.models:Base", "shop.models:Nope")},
    ),
    Case(
        "models-attr-not-metadata",
        (MC, "makemigrations"),
        2,
        ("expected a MetaData",),
        files={"pyproject.toml": PYPROJECT.replace("shop.models:Base", "shop.models:sa")},
    ),
    Case(
        "url-not-a-string",
        (MC, "migrate"),
        2,
        ("database-url must be a string",),
        files={"pyproject.toml": PYPROJECT.replace('"sqlite:///shop.db"', "5")},
    ),
    Case(
        "shared-folder",
        (MC, "makemigrations"),
        2,
        ("share shop/migrations",),
        files={
            "pyproject.toml": PYPROJECT
            + '\n[tool.migrate-core.apps.billing]\nmodels = "shop.models:Base"\n'
            'migrations = "shop/migrations"\n'
        },
    ),
    Case("config-missing", (MC, "--config", "nope.toml", "migrate"), 2, ("no such file",)),
    Case(
        "exclude-tables",
        (MC, "makemigrations"),
        2,
        ("exclude-tables must be a list of strings",),
        files={
            "pyproject.toml": PYPROJECT.replace(
                "[tool.migrate-core.apps", "exclude-tables = [1]\n\n[tool.migrate-core.apps", 1
            )
        },
    ),
    Case(
        "no-database-url",
        (MC, "migrate"),
        2,
        ("no database URL", "MIGRATE_CORE_DATABASE_URL"),
        files={"pyproject.toml": PYPROJECT.replace('database-url = "sqlite:///shop.db"\n', "")},
    ),
    Case("unknown-app", (MC, "makemigrations", "nope"), 2, ("no app named 'nope'",)),
    Case("lock-timeout", (MC, "migrate", "--lock-timeout", "abc"), 2, ("--lock-timeout",)),
    # -- models -----------------------------------------------------------------------------------
    Case(
        "models-syntax",
        (MC, "makemigrations"),
        2,
        ("shop/models.py:", "cannot import the models of shop.models"),
        files={"shop/models.py": MODELS + "\nclass Broken(\n"},
    ),
    Case(
        "models-missing-package",
        (MC, "makemigrations"),
        2,
        ("nosuchpackage_xyz", "install it"),
        files={"shop/models.py": "import nosuchpackage_xyz\n" + MODELS},
    ),
    Case(
        "models-sys-exit",
        (MC, "makemigrations"),
        2,
        ("shop/models.py", "sys.exit(3)", "must not exit"),
        files={"shop/models.py": MODELS + "\nimport sys\nsys.exit(3)\n"},
    ),
    Case(
        "models-sys-exit-zero",
        (MC, "makemigrations", "--check"),
        2,
        ("sys.exit(0)",),
        files={"shop/models.py": MODELS + "\nraise SystemExit(0)\n"},
    ),
    Case(
        "models-raise",
        (MC, "makemigrations"),
        2,
        ("shop/models.py:", "RuntimeError: no config"),
        files={"shop/models.py": MODELS + "\nraise RuntimeError('no config')\n"},
    ),
    Case(
        "check-models-sys-exit",
        (CM, "--no-database"),
        1,
        ("sys.exit(4)",),
        files={"shop/models.py": MODELS + "\nimport sys\nsys.exit(4)\n"},
    ),
    # -- migration files --------------------------------------------------------------------------
    Case(
        "migration-syntax",
        (MC, "makemigrations"),
        2,
        ("0002_second.py:", "syntax error in migration shop.0002_second"),
        files={SECOND: second("migrations.RunSQL('SELECT 1'") + ")\n("},
    ),
    Case(
        "migration-no-class",
        (MC, "migrate"),
        2,
        ("no class Migration",),
        files={SECOND: "from migrate_core import migrations\n"},
    ),
    Case(
        "dependencies-flat-tuple",
        (MC, "makemigrations"),
        2,
        ("is one (app, name) pair", "dependencies = (('shop', '0001_initial'),)"),
        files={SECOND: second("migrations.RunSQL('SELECT 1')", '("shop", "0001_initial")')},
    ),
    Case(
        "dependencies-string",
        (MC, "makemigrations"),
        2,
        ("dependencies must be a tuple of (app, name) pairs",),
        files={SECOND: second("migrations.RunSQL('SELECT 1')", '"shop"')},
    ),
    Case(
        "dependency-missing",
        (MC, "migrate"),
        2,
        ("0009_nope",),
        files={SECOND: second("migrations.RunSQL('SELECT 1')", '(("shop", "0009_nope"),)')},
    ),
    Case(
        "operations-not-a-tuple",
        (MC, "makemigrations"),
        2,
        ("operations must be a tuple of operations",),
        files={
            SECOND: second("migrations.RunSQL('SELECT 1')").replace(
                "operations = (migrations.RunSQL('SELECT 1'),)",
                "operations = migrations.RunSQL('SELECT 1')",
            )
        },
    ),
    Case(
        "operation-not-an-operation",
        (MC, "makemigrations"),
        2,
        ("'DROP TABLE product' in operations is not an operation",),
        files={SECOND: second("'DROP TABLE product'")},
    ),
    Case(
        "migration-sys-exit",
        (MC, "migrate"),
        2,
        ("0002_second.py", "sys.exit(0)", "must not exit"),
        files={SECOND: "import sys\nsys.exit(0)\n"},
    ),
    Case(
        "migration-imports-missing",
        (MC, "makemigrations"),
        2,
        ("0002_second.py:1", "nosuchpackage_xyz"),
        files={SECOND: "import nosuchpackage_xyz\n" + second("migrations.RunSQL('SELECT 1')")},
    ),
    Case(
        "accept-string",
        (MC, "makemigrations"),
        2,
        ("accept must be a tuple of finding codes",),
        files={
            SECOND: second("migrations.RunSQL('SELECT 1')").replace(
                "    operations", '    accept = "MC101"\n    operations'
            )
        },
    ),
    Case(
        "cycle",
        (MC, "migrate"),
        2,
        ("0001_initial", "0002_second"),
        files={
            "shop/migrations/0001_initial.py": INITIAL.replace(
                "dependencies = ()", 'dependencies = (("shop", "0002_second"),)'
            ),
            SECOND: second("migrations.RunSQL('SELECT 1')"),
        },
    ),
    # -- operations -------------------------------------------------------------------------------
    Case(
        "op-unknown-table",
        (MC, "makemigrations"),
        1,
        ("0002_second.py:", "table nope does not exist"),
        files={SECOND: second('migrations.AddField("nope", sa.Column("x", sa.Integer()))')},
    ),
    Case(
        "op-unknown-column",
        (MC, "migrate"),
        1,
        ("0002_second.py:", "product has no column nope"),
        files={SECOND: second('migrations.RemoveField("product", "nope")')},
    ),
    Case(
        "op-duplicate-column",
        (MC, "makemigrations"),
        1,
        ("column product.name already exists",),
        files={SECOND: second('migrations.AddField("product", sa.Column("name", sa.Text()))')},
    ),
    Case(
        "op-bad-argument",
        (MC, "makemigrations"),
        2,
        ("0002_second.py:", "AlterField", "nullable"),
        files={SECOND: second('migrations.AlterField("product", "name", nullable="yes")')},
    ),
    Case(
        "op-runsql-not-text",
        (MC, "migrate"),
        2,
        ("RunSQL sql must be SQL text",),
        files={SECOND: second("migrations.RunSQL(5)")},
    ),
    Case(
        "op-runsql-fails",
        (MC, "migrate"),
        1,
        ("RunSQL(", "no such table: nope", "rolled back"),
        files={SECOND: second('migrations.RunSQL("UPDATE nope SET x = 1")')},
    ),
    Case(
        "op-runpython-not-callable",
        (MC, "migrate"),
        2,
        ("RunPython needs a callable",),
        files={SECOND: second("migrations.RunPython(5)")},
    ),
    Case(
        "check-op-unknown-column",
        (CM, "--no-database"),
        1,
        ("MC206", "nope"),
        files={SECOND: second('migrations.RenameField("product", "nope", "x")')},
    ),
    # -- URLs, each with a password that must never show ------------------------------------------
    Case(
        "url-port",
        (MC, "migrate", "--database-url", f"postgresql+psycopg://app:{SECRET}@db:abc/app"),
        2,
        ("port is not a number", "postgresql+psycopg://app:***@db:abc/app"),
    ),
    Case(
        "url-one-slash",
        (MC, "migrate", "--database-url", f"postgresql:/app:{SECRET}@db/app"),
        2,
        ("not a database URL: postgresql:/app:***@db/app",),
    ),
    Case(
        "url-no-slash",
        (MC, "showmigrations", "--database-url", f"postgresql:app:{SECRET}@db/app"),
        2,
        ("not a database URL",),
    ),
    Case(
        "url-at-in-password",
        (MC, "migrate", "--database-url", f"postgresql+psycopg://app:{SECRET}@x@127.0.0.1:1/app"),
        2,
        ("cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/app",),
    ),
    Case(
        "url-slash-in-password",
        (MC, "migrate", "--database-url", f"postgresql+psycopg://app:{SECRET}/x@127.0.0.1:1/app"),
        2,
        ("app:***@",),
    ),
    Case(
        "url-unknown-dialect",
        (MC, "migrate", "--database-url", f"oracle://app:{SECRET}@db/app"),
        2,
        ("no migrate-core dialect module for 'oracle'", "oracle://app:***@db/app"),
    ),
    Case(
        "url-unknown-driver",
        (MC, "migrate", "--database-url", f"postgresql+nosuch://app:{SECRET}@db/app"),
        2,
        ("unknown database dialect",),
    ),
    Case(
        "url-mysql-charset",
        (MC, "migrate", "--database-url", f"{MY}?charset=nope"),
        2,
        ("unknown charset 'nope'",),
    ),
    Case(
        "url-mysql-connect-timeout",
        (MC, "migrate", "--database-url", f"{MY}?connect_timeout=abc"),
        2,
        ("connect_timeout=abc",),
    ),
    Case(
        "url-mysql-ssl-ca",
        (MC, "migrate", "--database-url", f"{MY}?ssl_ca=/nonexistent/ca.pem"),
        2,
        ("cannot connect to mysql+pymysql://root:***@127.0.0.1:1/test",),
    ),
    Case(
        "url-postgres-connect-timeout",
        (MC, "migrate", "--database-url", f"{PG}?connect_timeout=abc"),
        2,
        ("connect_timeout",),
    ),
    Case(
        "url-password-in-query",
        (
            MC,
            "migrate",
            "--database-url",
            f"postgresql+psycopg://app@127.0.0.1:1/app?password={SECRET}",
        ),
        2,
        ("password=***",),
    ),
    Case(
        "url-in-pyproject",
        (MC, "showmigrations"),
        2,
        ("postgresql:/app:***@db/app",),
        files={"pyproject.toml": with_url(f"postgresql:/app:{SECRET}@db/app")},
    ),
    Case(
        "url-from-environment",
        (MC, "migrate"),
        2,
        ("port is not a number",),
        env={"MIGRATE_CORE_DATABASE_URL": f"mysql+pymysql://root:{SECRET}@db:x/test"},
    ),
    Case(
        "check-url-port",
        (CM, "--database-url", f"postgresql+psycopg://app:{SECRET}@db:abc/app"),
        2,
        ("--database-url", "port is not a number"),
    ),
    Case(
        "check-url-from-environment",
        (CM,),
        2,
        ("not a database URL: postgresql:/ci:***@db/postgres",),
        env={"MIGRATE_CORE_CHECK_DATABASE_URL": f"postgresql:/ci:{SECRET}@db/postgres"},
    ),
    Case(
        "check-url-unreachable",
        (CM, "--database-url", f"{PG}"),
        2,
        ("postgresql+psycopg://app:***@127.0.0.1:1/",),
    ),
    Case(
        "sqlmigrate-configured-dialect",
        (MC, "sqlmigrate", "shop", "0001"),
        2,
        ("MIGRATE_CORE_DATABASE_URL", "oracle", "--dialect"),
        env={"MIGRATE_CORE_DATABASE_URL": f"oracle://app:{SECRET}@db/app"},
    ),
    Case(
        "sqlmigrate-malformed-url",
        (MC, "sqlmigrate", "shop", "0001"),
        2,
        ("database-url in", "postgresql:/app:***@db/app", "--dialect"),
        files={"pyproject.toml": with_url(f"postgresql:/app:{SECRET}@db/app")},
    ),
    Case(
        "sqlmigrate-dialect-option",
        (MC, "sqlmigrate", "shop", "0001", "--dialect", "oracle"),
        2,
        ("oracle",),
    ),
    # -- reports ----------------------------------------------------------------------------------
    Case(
        "json-report-missing-folder",
        (CM, "--no-database", "--json-report", "{tmp}/reports/new/report.json"),
        0,
        ("no errors",),
    ),
    Case(
        "json-report-is-a-folder",
        (CM, "--no-database", "--json-report", "{root}/shop"),
        2,
        ("--json-report", "is a directory"),
    ),
    Case(
        "json-report-under-a-file",
        (CM, "--no-database", "--json-report", "{root}/pyproject.toml/report.json"),
        2,
        ("--json-report", "cannot create its folder"),
    ),
    Case(
        "step-summary-missing-folder",
        (CM, "--no-database", "--format", "github"),
        0,
        (),
        env={"GITHUB_STEP_SUMMARY": "{tmp}/summary/new/step.md"},
    ),
    Case("format-unknown", (CM, "--format", "xml"), 2, ("'xml' is not one of",)),
    Case("skip-unknown", (CM, "--skip", "nope"), 2, ("'nope' is not one of",)),
]


def _project(tmp: Path, files: dict[str, str | None]) -> Path:
    root = tmp / "project"
    defaults: dict[str, str | None] = {
        "pyproject.toml": PYPROJECT,
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/migrations/0001_initial.py": INITIAL,
    }
    for name, text in {**defaults, **files}.items():
        path = root / name
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _files(folder: Path) -> dict[Path, float]:
    return {
        p: p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _bin(argv0: str) -> str:
    return {MC: MIGRATE_CORE, CM: CHECK}[argv0]


def test_the_corpus_covers_every_kind_of_input() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_mistake_gets_one_message_its_exit_code_and_no_secret(case: Case, tmp_path: Path) -> None:
    root = _project(tmp_path, case.files)
    fill = {"root": str(root), "tmp": str(tmp_path)}
    argv = [_bin(case.argv[0]), *(a.format(**fill) for a in case.argv[1:])]
    env = child_env({k: v.format(**fill) for k, v in case.env.items()})
    env["MIGRATE_CORE_CACHE_DIR"] = str(tmp_path / "cache")
    before = _files(tmp_path)

    proc = subprocess.run(
        argv,
        cwd=tmp_path / case.cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )

    output = proc.stdout + proc.stderr
    assert proc.returncode == case.code, output
    assert "Traceback" not in output
    for needle in case.shown:
        assert needle.format(**fill) in output, output
    assert SECRET not in output
    # Nor in anything the run wrote: reports, summaries, caches.
    for path, stamp in _files(tmp_path).items():
        if before.get(path) != stamp:
            assert SECRET.encode() not in path.read_bytes(), path


def test_reports_are_written_into_folders_that_did_not_exist(tmp_path: Path) -> None:
    root = _project(tmp_path, {})
    report = tmp_path / "a" / "b" / "report.json"
    summary = tmp_path / "c" / "summary.md"
    proc = subprocess.run(
        [CHECK, "--no-database", "--format", "github", "--json-report", str(report)],
        cwd=root,
        env=child_env({"GITHUB_STEP_SUMMARY": str(summary)}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"ok": true' in report.read_text(encoding="utf-8")
    assert "## check-migrations" in summary.read_text(encoding="utf-8")


# -- a role without rights on the history table, on the real servers --------------------------------


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_a_role_without_rights_on_the_history_table(dialect: str, tmp_path: Path) -> None:
    server = server_url(dialect)
    assert server is not None
    name = f"mc_rights_{os.getpid()}_{tmp_path.name[-6:]}".lower().replace("-", "_")
    role = f"{name}_r"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    owner_url = sa.engine.make_url(server).set(database=name)
    weak_url = owner_url.set(username=role, password=SECRET)
    if dialect == "mysql":
        weak_url = weak_url.set(host="127.0.0.1")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
            if dialect == "postgresql":
                conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
            else:
                conn.exec_driver_sql(f"CREATE USER '{role}'@'%%' IDENTIFIED BY '{SECRET}'")
        root = _project(tmp_path, {})
        env = child_env()
        owner = subprocess.run(
            [MIGRATE_CORE, "migrate", "--database-url", owner_url.render_as_string(False)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert owner.returncode == 0, owner.stdout + owner.stderr
        if dialect == "mysql":
            # Enough to use the database (MySQL refuses a login to one with no rights on
            # anything in it), not enough for the history table.
            with admin.connect() as conn:
                conn.exec_driver_sql(f"GRANT SELECT ON {name}.product TO '{role}'@'%%'")
        for command in ("migrate", "showmigrations"):
            proc = subprocess.run(
                [MIGRATE_CORE, command, "--database-url", weak_url.render_as_string(False)],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            output = proc.stdout + proc.stderr
            assert proc.returncode == 2, output
            assert "Traceback" not in output and SECRET not in output
            assert "history table migrate_core_migrations" in output, output
            assert "SELECT, INSERT and DELETE" in output
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            if dialect == "postgresql":
                conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
            else:
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{role}'@'%%'")
        admin.dispose()
