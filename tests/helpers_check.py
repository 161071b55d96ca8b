"""Helpers for the check-migrations tests: a real project in a real git repository.

The project is a small shop with four migrations, written once per session by
``migrate-core makemigrations`` (so the files are exactly what users get) and
copied into each test's repository. ``check-migrations`` always runs in a child
process: each run imports the test's own models afresh, exits with its real
exit code, and can be interrupted with a real signal.

A ``connections.log`` hook in the project's package records every database the
check connects to (path of the SQLite file, or the server database's name), so
the tests can prove the scratch databases are gone afterwards without racing
other test runs that create scratch databases on the same server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BIN = Path(sys.executable).parent
CHECK = str(BIN / "check-migrations")
MIGRATE_CORE = str(BIN / "migrate-core")

# Variables git exports to hooks; inherited, they would point our git at the outer repository.
HOOK_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")
# Environment of the child processes that the tests control; the rest is inherited.
LOG_ENV = "MC_TEST_CONNECTION_LOG"

PACKAGE_INIT = '''\
"""Test hook: record every database this process connects to (see helpers_check)."""

import os

from sqlalchemy import event
from sqlalchemy.engine import Engine

_LOG = os.environ.get("MC_TEST_CONNECTION_LOG")

if _LOG:

    @event.listens_for(Engine, "engine_connect")
    def _record(connection):
        url = connection.engine.url
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{url.get_backend_name()} {url.database or ''}\\n")
'''


def models_source(
    stage: int = 4,
    *,
    color: bool = False,
    phone: bool = False,
    nickname: bool = False,
    full_name_index: bool = False,
    description: bool = True,
) -> str:
    """The shop's models after migration ``stage`` (1-4), plus optional later changes.

    Customer sits at the top and Product at the bottom, far apart, so that two
    branches changing one each merge in git without a conflict.
    """
    customer = [
        "class Customer(Base):",
        '    __tablename__ = "customer"',
        "",
        "    id: Mapped[int] = mapped_column(primary_key=True)",
        "    email: Mapped[str] = mapped_column(String(120), unique=True)",
        f"    full_name: Mapped[str] = mapped_column(String(100){', index=True' if full_name_index else ''})",
    ]
    if phone:
        customer.append("    phone: Mapped[str | None] = mapped_column(String(30))")
    if nickname:
        customer.append("    nickname: Mapped[str | None] = mapped_column(String(50))")
    order = [
        "class Order(Base):",
        '    __tablename__ = "orders"',
        "",
        "    id: Mapped[int] = mapped_column(primary_key=True)",
        '    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))',
        '    total: Mapped[int] = mapped_column(server_default="0")',
        "",
        "    # Filler, so that the classes around it merge independently.",
        "    # (git needs unchanged lines between two branches' changes.)",
    ]
    product = [
        "class Product(Base):",
        '    __tablename__ = "product"',
        "",
        "    id: Mapped[int] = mapped_column(primary_key=True)",
        "    sku: Mapped[str] = mapped_column(String(32), unique=True)",
        f"    name: Mapped[str] = mapped_column(String(200){', index=True' if stage >= 4 else ''})",
        "    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))",
    ]
    if stage >= 3 and description:
        product.append("    description: Mapped[str | None] = mapped_column(Text)")
    if color:
        product.append("    color: Mapped[str | None] = mapped_column(String(20))")
    head = textwrap.dedent(
        """\
        from __future__ import annotations

        import decimal

        from sqlalchemy import ForeignKey
        from sqlalchemy import Numeric
        from sqlalchemy import String
        from sqlalchemy import Text
        from sqlalchemy.orm import DeclarativeBase
        from sqlalchemy.orm import Mapped
        from sqlalchemy.orm import mapped_column


        class Base(DeclarativeBase):
            pass
        """
    )
    blocks = [customer]
    if stage >= 2:
        blocks.append(order)
    blocks.append(product)
    return head + "".join("\n\n" + "\n".join(b) + "\n" for b in blocks)


PYPROJECT = """\
[tool.migrate-core]

[tool.migrate-core.apps.shop]
models = "shop.models:Base"
migrations = "shop/migrations"
"""

# The 0005 migrations two branches write, by makemigrations from these model changes.
BRANCH_CHANGES = {
    "0005_product_color": {"color": True},
    "0005_customer_phone": {"phone": True},
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HOOK_VARS}
    for name in (
        "GITHUB_ACTIONS",
        "GITHUB_BASE_REF",
        "GITHUB_STEP_SUMMARY",
        "MIGRATE_CORE_DATABASE_URL",
        "MIGRATE_CORE_CHECK_DATABASE_URL",
    ):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def makemigrations(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [MIGRATE_CORE, "makemigrations", "--noinput", *args],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def build_template(root: Path) -> dict[str, str]:
    """Write the project at ``root`` with migrations 0001-0004; return the 0005 variants.

    Returns ``{name: source}`` of the two branches' 0005 migrations (not left in the folder).
    """
    write(root / "pyproject.toml", PYPROJECT)
    write(root / "shop" / "__init__.py", PACKAGE_INIT)
    write(root / ".gitignore", "__pycache__/\n*.pyc\n*.db\n")
    names = ["initial", "orders", "product_description", "product_name_index"]
    for stage, name in enumerate(names, 1):
        write(root / "shop" / "models.py", models_source(stage))
        makemigrations(root, "--name", name)
    variants: dict[str, str] = {}
    folder = root / "shop" / "migrations"
    for full, changes in BRANCH_CHANGES.items():
        write(root / "shop" / "models.py", models_source(**changes))
        makemigrations(root, "--name", full.split("_", 1)[1])
        path = folder / f"{full}.py"
        variants[full] = path.read_text(encoding="utf-8")
        path.unlink()
    write(root / "shop" / "models.py", models_source())
    return variants


@dataclass(frozen=True)
class Template:
    """The shop project with 0001-0004, and the two branches' 0005 migrations."""

    root: Path
    variants: dict[str, str]


_TEMPLATES: dict[str, Template] = {}


def template(factory: Any) -> Template:
    """The session's template project (``factory``: pytest's tmp_path_factory), built once."""
    if "shop" not in _TEMPLATES:
        root = factory.mktemp("template")
        _TEMPLATES["shop"] = Template(root, build_template(root))
    return _TEMPLATES["shop"]


class Repo:
    """A git repository in a temporary folder, driven through the git binary."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def init(cls, root: Path) -> Repo:
        root.mkdir(parents=True, exist_ok=True)
        git(root, "-c", "init.defaultBranch=main", "init", "-q")
        return cls(root)

    @classmethod
    def clone(cls, url: str, dest: Path, *args: str) -> Repo:
        git(dest.parent, "clone", "-q", *args, url, str(dest))
        return cls(dest)

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def write(self, rel: str, text: str) -> Path:
        return write(self.root / rel, text)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=child_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def isolate_git(tmp_path: Path, monkeypatch: Any) -> None:
    """A git configuration of our own: identity set, nothing from the user or the system."""
    for name in HOOK_VARS:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n[commit]\n\tgpgsign = false\n"
        '[protocol "file"]\n\tallow = always\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def new_project(template: Template, dest: Path, *, subfolder: str = "") -> tuple[Repo, Path]:
    """A repository at ``dest`` holding the template project (in ``subfolder``), committed on main."""
    repo = Repo.init(dest)
    project = dest / subfolder if subfolder else dest
    shutil.copytree(template.root, project, dirs_exist_ok=True)
    repo.commit("the shop, migrations 0001-0004")
    return repo, project


def add_branch_migration(template: Template, project: Path, name: str) -> Path:
    """Write one of the branches' 0005 migrations and the model change it goes with.

    The models are edited in place (one line added), as a developer would, so that two
    branches doing this merge cleanly.
    """
    models = project / "shop" / "models.py"
    text = models.read_text(encoding="utf-8")
    changes = BRANCH_CHANGES[name]
    if changes.get("color"):
        anchor = "    description: Mapped[str | None] = mapped_column(Text)\n"
        text = text.replace(
            anchor, anchor + "    color: Mapped[str | None] = mapped_column(String(20))\n"
        )
    if changes.get("phone"):
        anchor = "    full_name: Mapped[str] = mapped_column(String(100))\n"
        text = text.replace(
            anchor, anchor + "    phone: Mapped[str | None] = mapped_column(String(30))\n"
        )
    models.write_text(text, encoding="utf-8")
    return write(project / "shop" / "migrations" / f"{name}.py", template.variants[name])


@dataclass
class Run:
    """One check-migrations run: exit code, output, and the JSON report it wrote."""

    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_check(
    project: Path,
    *args: str,
    url: str | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 180,
) -> Run:
    """``check-migrations`` in ``project``; ``url`` (a server) becomes ``--database-url``.

    Every run also writes its JSON report (``--json-report``), so one run serves the
    assertions on the text and on the data.
    """
    command = [CHECK, *args]
    if url is not None:
        command += ["--database-url", url]
    extra = dict(env or {})
    if log is not None:
        extra[LOG_ENV] = str(log)
    report_file = Path(tempfile.mkdtemp(prefix="mc-report-")) / "report.json"
    command += ["--json-report", str(report_file)]
    try:
        proc = subprocess.run(
            command,
            cwd=project,
            env=child_env(extra),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    finally:
        shutil.rmtree(report_file.parent, ignore_errors=True)
    return Run(proc.returncode, proc.stdout, proc.stderr, report)


def run_json(project: Path, *args: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    run = run_check(project, *args, **kwargs)
    assert run.returncode in (0, 1), run.output
    return run.returncode, run.report


def findings(report: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["check"] == check]


def status(report: dict[str, Any], check: str) -> str:
    return next(c["status"] for c in report["checks"] if c["name"] == check)


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def migration_file(operations: str, dependency: str, *, prelude: str = "") -> str:
    """A hand-written migration after ``dependency`` (shop), with ``operations`` as Python text."""
    body = textwrap.indent(textwrap.dedent(operations).strip("\n"), " " * 8)
    parts = ["import sqlalchemy as sa", "from migrate_core import migrations", ""]
    if prelude:
        parts += ["", textwrap.dedent(prelude).strip("\n"), ""]
    parts += [
        "",
        "class Migration(migrations.Migration):",
        f'    dependencies = (("shop", "{dependency}"),)',
        "",
        "    operations = (",
        body,
        "    )",
        "",
    ]
    return "\n".join(parts)


# -- databases on the servers ----------------------------------------------------------------------


def list_databases(server: str) -> set[str]:
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                rows = conn.exec_driver_sql("SELECT datname FROM pg_database")
            else:
                rows = conn.exec_driver_sql("SHOW DATABASES")
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def connected_databases(log: Path) -> set[tuple[str, str]]:
    """``{(backend, database)}`` the check connected to, from the project's connection hook."""
    if not log.exists():
        return set()
    out = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        backend, _, database = line.partition(" ")
        out.add((backend, database))
    return out


def scratch_databases(log: Path) -> set[str]:
    return {d for _, d in connected_databases(log) if "mc_scratch_" in d or d.endswith(".db")}
