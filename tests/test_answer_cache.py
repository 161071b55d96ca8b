"""``makemigrations --check`` answered from the answer cache (migrate_core/answers.py).

Every test runs the real console entry point in fresh processes on a real project in
a temporary folder, the way a developer runs it. ``MIGRATE_CORE_DEBUG_CACHE=1`` makes
each run say on stderr whether it was answered from the cache, so a test can prove
both that the cache answered and, for each way it could go stale, that it did not and
the full run gave the right answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import server_url

from migrate_core import answers

# Each test runs migrate-core in fresh processes (the cache is for a process that has
# imported nothing yet): about a second apiece, so they run in CI, not in the fast loop.
pytestmark = pytest.mark.slow

HIT = "migrate-core: answered from cache"
MISS = "not answered from cache"
STORED = "answer cached"

# The console script as installed runs migrate_core.entry:main (a test below checks
# pyproject.toml); running it through ``python -c`` keeps these tests independent of
# whether this venv's script was regenerated since.
LAUNCH = "import sys; from migrate_core.entry import main; sys.argv[0] = 'migrate-core'; main()"

MODELS = """\
import json
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from extcols import CODE_LENGTH
from shop.columns import NAME_TYPE

SETTINGS = json.loads((Path(__file__).parent / "settings.json").read_text())


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME_TYPE)
    code: Mapped[str | None] = mapped_column(sa.String(CODE_LENGTH))
    note: Mapped[str | None] = mapped_column(sa.String(SETTINGS["note_length"]))
    label: Mapped[str | None] = mapped_column(sa.String(int(os.environ.get("SHOP_LABEL_LENGTH", "30"))))
"""

COLUMNS = "import sqlalchemy as sa\n\nNAME_TYPE = sa.String(100)\n"
EXTCOLS = "CODE_LENGTH = 40\n"
SETTINGS = '{"note_length": 200}\n'


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def hit(self) -> bool:
        return HIT in self.err

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class CacheProject:
    """A project (models, a helper module, a data file, migrations) and a package outside it."""

    def __init__(self, tmp_path: Path, url: str = "sqlite:///shop.db") -> None:
        self.root = tmp_path / "project"
        self.ext = tmp_path / "ext"  # on PYTHONPATH: code from outside the project
        self.cache = tmp_path / "cache"
        self.url = url
        self.write("pyproject.toml", self.pyproject())
        self.write("shop/__init__.py", "")
        self.write("shop/models.py", MODELS)
        self.write("shop/columns.py", COLUMNS)
        self.write("shop/settings.json", SETTINGS)
        (self.ext).mkdir()
        (self.ext / "extcols.py").write_text(EXTCOLS, encoding="utf-8")

    def pyproject(self, extra: str = "") -> str:
        return (
            f'[tool.migrate-core]\ndatabase-url = "{self.url}"\n{extra}\n'
            '[tool.migrate-core.apps.shop]\nmodels = "shop.models:Base"\n'
            'migrations = "shop/migrations"\n'
        )

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def settle(self) -> None:
        """Date every file back a minute, as if the last edit was a while ago.

        A run does not store its answer when an input changed shortly before it started
        (it may have changed while the models were imported); tests that want the next
        run answered from the cache say that the edits are over.
        """
        past = time.time() - 60
        for top in (self.root, self.ext):
            for path in [top, *top.rglob("*")]:
                os.utime(path, (past, past))

    def run(self, *args: str, env: dict[str, str] | None = None) -> Run:
        full_env = {
            **os.environ,
            "MIGRATE_CORE_CACHE_DIR": str(self.cache),
            "MIGRATE_CORE_DEBUG_CACHE": "1",
            "PYTHONPATH": str(self.ext),
            **(env or {}),
        }
        for name in ("MIGRATE_CORE_NO_CACHE", "MIGRATE_CORE_DATABASE_URL", "SHOP_LABEL_LENGTH"):
            if name not in (env or {}):
                full_env.pop(name, None)
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCH, *args],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def check(self, *args: str, env: dict[str, str] | None = None) -> Run:
        return self.run("makemigrations", "--check", *args, env=env)

    def cached(self, *args: str, env: dict[str, str] | None = None) -> Run:
        """Settle, then run until the answer "no changes" is stored and answered from the
        cache; the answered run."""
        self.settle()
        first = self.check(*args, env=env)
        assert first.code == 0 and not first.hit and STORED in first.err, first
        second = self.check(*args, env=env)
        assert second.code == 0 and second.hit, second
        return second


@pytest.fixture
def project(tmp_path: Path) -> CacheProject:
    p = CacheProject(tmp_path)
    made = p.run("makemigrations")
    assert made.code == 0, made
    return p


@pytest.mark.slow
def test_unchanged_project_is_answered_from_the_cache_with_the_full_runs_output(
    project: CacheProject,
) -> None:
    full = project.check(env={"MIGRATE_CORE_NO_CACHE": "1"})
    hit = project.cached()
    assert hit.out == full.out == "No changes detected\n"
    one_app = project.cached("shop")
    assert one_app.out == "No changes detected in app shop\n"
    assert project.check("--noinput").code == 0


def test_the_cached_answer_imports_neither_sqlalchemy_nor_click(project: CacheProject) -> None:
    project.cached()
    probe = (
        "import sys\n"
        "from migrate_core import answers, entry\n"
        "text = answers.answer(answers.parse_argv(['makemigrations', '--check']))\n"
        "print(text, 'sqlalchemy' in sys.modules, 'click' in sys.modules, 'shop' in sys.modules)\n"
    )
    env = {
        **os.environ,
        "MIGRATE_CORE_CACHE_DIR": str(project.cache),
        "PYTHONPATH": str(project.ext),
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=project.root, env=env, capture_output=True, text=True
    )
    assert out.stdout == "No changes detected False False False\n", out.stderr


def test_an_edited_model_is_a_missing_migration(project: CacheProject) -> None:
    project.cached()
    project.edit(
        "shop/models.py",
        "mapped_column(primary_key=True)",
        "mapped_column(primary_key=True)\n    extra: Mapped[int | None]",
    )
    run = project.check()
    assert run.code == 1 and not run.hit and "Add column extra to product" in run.out, run
    assert not project.check().hit  # "changes needed" is never stored


def test_an_edited_helper_module_the_models_import_is_seen(project: CacheProject) -> None:
    project.cached()
    project.edit("shop/columns.py", "sa.String(100)", "sa.String(120)")
    run = project.check()
    assert run.code == 1 and not run.hit and "Alter column name on product" in run.out, run


def test_a_changed_package_outside_the_project_is_seen_even_at_the_same_size(
    project: CacheProject,
) -> None:
    project.cached()
    (project.ext / "extcols.py").write_text("CODE_LENGTH = 50\n", encoding="utf-8")  # same size
    run = project.check()
    assert run.code == 1 and not run.hit and "Alter column code on product" in run.out, run


def test_a_changed_data_file_the_models_read_is_seen(project: CacheProject) -> None:
    project.cached()
    project.edit("shop/settings.json", "200", "250")
    run = project.check()
    assert run.code == 1 and not run.hit and "Alter column note on product" in run.out, run


def test_an_environment_variable_the_models_read_is_seen(project: CacheProject) -> None:
    project.cached()
    run = project.check(env={"SHOP_LABEL_LENGTH": "60"})
    assert run.code == 1 and not run.hit and "SHOP_LABEL_LENGTH" in run.err, run
    assert "Alter column label on product" in run.out


def test_an_edited_migration_is_seen(project: CacheProject) -> None:
    project.cached()
    (initial,) = (project.root / "shop" / "migrations").glob("0001_*.py")
    project.edit(
        f"shop/migrations/{initial.name}", "sa.String(length=200)", "sa.String(length=210)"
    )
    run = project.check()
    assert run.code == 1 and not run.hit and "Alter column note on product" in run.out, run


@pytest.mark.slow
def test_an_added_and_a_deleted_migration_are_seen(project: CacheProject) -> None:
    project.cached()
    project.edit(
        "shop/models.py", "primary_key=True)", "primary_key=True)\n    extra: Mapped[int | None]"
    )
    assert project.run("makemigrations").code == 0
    # The model change and its migration together: nothing is missing.
    project.cached()
    (added,) = (project.root / "shop" / "migrations").glob("0002_*.py")
    added.unlink()
    run = project.check()
    assert run.code == 1 and not run.hit and "Add column extra to product" in run.out, run
    # A migration nobody asked for: the models do not have what it adds.
    project.edit("shop/models.py", "\n    extra: Mapped[int | None]", "")
    project.cached()
    project.write("shop/migrations/0002_add_product_extra.py", _add_column_migration(project))
    run = project.check()
    assert run.code == 1 and not run.hit and "Remove column extra from product" in run.out, run


def _add_column_migration(project: CacheProject) -> str:
    (initial,) = (project.root / "shop" / "migrations").glob("0001_*.py")
    return textwrap.dedent(
        f"""\
        import sqlalchemy as sa
        from migrate_core import migrations


        class Migration(migrations.Migration):
            dependencies = [("shop", "{initial.stem}")]
            operations = [
                migrations.AddField("product", sa.Column("extra", sa.Integer(), nullable=True)),
            ]
        """
    )


def test_a_new_module_a_models_package_discovers_is_seen(project: CacheProject) -> None:
    # The models become a package that imports every module beside it.
    models = (project.root / "shop" / "models.py").read_text()
    (project.root / "shop" / "models.py").unlink()
    project.write(
        "shop/models/__init__.py",
        "import importlib, pkgutil\n\nfrom shop.models.base import Base\n\n"
        "for _m in pkgutil.iter_modules(__path__):\n    importlib.import_module(f'{__name__}.{_m.name}')\n",
    )
    project.write(
        "shop/models/base.py",
        models.replace("(Path(__file__).parent", "(Path(__file__).parent.parent"),
    )
    assert project.check().code == 0
    project.cached()
    project.write(
        "shop/models/invoice.py",
        "from sqlalchemy.orm import Mapped, mapped_column\n\nfrom shop.models.base import Base\n\n\n"
        "class Invoice(Base):\n    __tablename__ = 'invoice'\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
    )
    run = project.check()
    assert run.code == 1 and not run.hit and "invoice" in run.out.lower(), run


def test_an_edited_pyproject_runs_fully(project: CacheProject) -> None:
    project.cached()
    project.write("pyproject.toml", project.pyproject("# a comment changes nothing but the file"))
    run = project.check()
    assert run.code == 0 and not run.hit and "pyproject.toml changed" in run.err, run
    project.write("pyproject.toml", project.pyproject('exclude-tables = ["product"]'))
    project.settle()
    run = project.check()
    assert run.code == 1 and not run.hit, run


@pytest.mark.slow
def test_models_that_fail_to_import_exit_2_every_time_and_are_never_cached(
    project: CacheProject,
) -> None:
    project.cached()
    project.edit(
        "shop/columns.py", "NAME_TYPE = ", "raise RuntimeError('half-edited')\nNAME_TYPE = "
    )
    project.settle()
    for _ in range(3):
        run = project.check()
        assert run.code == 2 and not run.hit and "half-edited" in run.err, run
        assert STORED not in run.err
    # Fixed again: the earlier answer was forgotten, so the first run is a full one.
    project.edit("shop/columns.py", "raise RuntimeError('half-edited')\n", "")
    project.settle()
    run = project.check()
    assert run.code == 0 and not run.hit, run


def test_no_cache_variable_runs_fully_and_stores_nothing(project: CacheProject) -> None:
    project.settle()
    for _ in range(2):
        run = project.check(env={"MIGRATE_CORE_NO_CACHE": "1"})
        assert run.code == 0 and not run.hit and "MIGRATE_CORE_NO_CACHE" in run.err, run
        assert STORED not in run.err
    assert not project.check().hit


def test_other_command_lines_are_never_answered_from_the_cache(project: CacheProject) -> None:
    project.cached()
    for args in (["--dry-run"], ["--check", "--name", "x"], ["--check", "--merge"]):
        run = project.run("makemigrations", *args)
        assert not run.hit and MISS not in run.err, (args, run)
    run = project.run("makemigrations", "--check", "nosuchapp")
    assert run.code == 2 and not run.hit and "nosuchapp" in run.err, run


def test_a_file_changed_during_the_run_keeps_the_answer_out_of_the_cache(
    project: CacheProject,
) -> None:
    # The models touch an input while they are imported, as an editor saving a file
    # during the run would: what the run read is no longer known, so nothing is stored.
    with (project.root / "shop" / "models.py").open("a", encoding="utf-8") as f:
        f.write("\nos.utime(Path(__file__).parent / 'columns.py')\n")
    project.settle()
    for _ in range(2):
        run = project.check()
        assert run.code == 0 and not run.hit and STORED not in run.err, run
        assert "columns.py changed during the run" in run.err


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_the_database_in_the_environment_is_part_of_the_answer(
    tmp_path: Path, dialect: str, request: pytest.FixtureRequest
) -> None:
    """A model every database but MySQL can create (VARCHAR without a length): cached as
    "no changes" for one database, the answer must not carry over to MySQL."""
    url = "sqlite:///shop.db" if dialect == "sqlite" else server_url(dialect)
    mysql_url = "mysql+pymysql://user@127.0.0.1:3306/nowhere"  # never connected to
    assert url is not None
    p = CacheProject(tmp_path, url)
    p.edit(
        "shop/models.py",
        "mapped_column(NAME_TYPE)",
        "mapped_column(NAME_TYPE)\n    tag: Mapped[str | None] = mapped_column(sa.String())",
    )
    made = p.run("makemigrations")
    if dialect == "mysql":
        assert made.code == 2 and "MV" in made.err, made
        p.settle()
        for _ in range(2):
            run = p.check()
            assert run.code == 2 and not run.hit, run
        return
    assert made.code == 0, made
    p.cached()
    run = p.check(env={"MIGRATE_CORE_DATABASE_URL": mysql_url})
    assert run.code == 2 and not run.hit and "MIGRATE_CORE_DATABASE_URL" in run.err, run


@pytest.mark.parametrize(
    ("argv", "question"),
    [
        (["makemigrations", "--check"], answers.Question(None, ())),
        (["makemigrations", "shop", "--check", "--noinput"], answers.Question(None, ("shop",))),
        (
            ["--config", "a/pyproject.toml", "makemigrations", "--check"],
            answers.Question("a/pyproject.toml", ()),
        ),
        (["--config=a", "makemigrations", "--check", "x", "y"], answers.Question("a", ("x", "y"))),
        (["makemigrations"], None),
        (["makemigrations", "--check", "--dry-run"], None),
        (["makemigrations", "--check", "-v"], None),
        (["makemigrations", "--check", "--"], None),
        (["--config", "makemigrations", "--check"], None),
        (["--version"], None),
        (["migrate", "--check"], None),
        ([], None),
    ],
)
def test_which_command_lines_the_cache_reads(
    argv: list[str], question: answers.Question | None
) -> None:
    assert answers.parse_argv(argv) == question


def test_the_console_script_starts_at_the_cached_answer() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    assert 'migrate-core = "migrate_core.entry:main"' in pyproject.read_text(encoding="utf-8")


def test_a_changed_module_inside_a_zip_archive_is_seen(project: CacheProject) -> None:
    import zipfile

    archive = project.ext.parent / "zips" / "zipped.zip"
    archive.parent.mkdir()

    def pack(length: int) -> None:
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("zipcols.py", f"ZIP_LENGTH = {length}\n")

    pack(40)
    project.edit(
        "shop/models.py",
        "from extcols import CODE_LENGTH",
        "from extcols import CODE_LENGTH\nfrom zipcols import ZIP_LENGTH",
    )
    project.edit(
        "shop/models.py", "sa.String(CODE_LENGTH)", "sa.String(CODE_LENGTH + ZIP_LENGTH - 40)"
    )
    env = {"PYTHONPATH": f"{project.ext}{os.pathsep}{archive}"}
    project.settle()
    for path in (archive, archive.parent):
        os.utime(path, (time.time() - 60, time.time() - 60))
    project.cached(env=env)
    pack(50)
    run = project.check(env=env)
    assert run.code == 1 and not run.hit and "Alter column code on product" in run.out, run


def test_models_that_start_a_process_are_never_answered_from_the_cache(
    project: CacheProject,
) -> None:
    with (project.root / "shop" / "models.py").open("a", encoding="utf-8") as f:
        f.write(
            "\nimport subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'], check=True)\n"
        )
    project.settle()
    for _ in range(2):
        run = project.check()
        assert run.code == 0 and not run.hit and STORED not in run.err, run
        assert "it started a process" in run.err


def test_another_way_of_running_python_runs_fully(project: CacheProject) -> None:
    project.cached()
    run = project.check(env={"PYTHONOPTIMIZE": "1"})  # -O: asserts in the models vanish
    assert run.code == 0 and not run.hit and "another Python interpreter" in run.err, run
    project.cached()  # one answer per command line: the -O run's replaced the first
    run = project.check(env={"PYTHONPATH": f"{project.ext}{os.pathsep}{project.root}"})
    assert run.code == 0 and not run.hit and "sys.path differs" in run.err, run


def _same_size_same_mtime_edit(path: Path, old: str, new: str) -> None:
    """Edit ``path`` keeping its size and its mtime (as a checkout restoring a timestamp
    does): only its content tells."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size


def test_project_files_are_compared_by_content_not_by_size_and_mtime(
    project: CacheProject,
) -> None:
    project.cached()
    _same_size_same_mtime_edit(project.root / "shop" / "columns.py", "String(100)", "String(120)")
    run = project.check()
    assert run.code == 1 and not run.hit and "Alter column name on product" in run.out, run


def test_a_migrations_folder_outside_the_project_is_compared_by_content(tmp_path: Path) -> None:
    p = CacheProject(tmp_path)
    p.write("pyproject.toml", p.pyproject().replace('"shop/migrations"', '"../shared/migrations"'))
    assert p.run("makemigrations").code == 0
    (initial,) = (tmp_path / "shared" / "migrations").glob("0001_*.py")
    for path in (initial, initial.parent, initial.parent.parent):
        os.utime(path, (time.time() - 60, time.time() - 60))
    p.cached()
    _same_size_same_mtime_edit(initial, "sa.String(length=200)", "sa.String(length=210)")
    run = p.check()
    assert run.code == 1 and not run.hit and "Alter column note on product" in run.out, run
