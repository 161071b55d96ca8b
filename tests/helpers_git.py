"""Scratch git repositories holding a tiny migrate-core project, for the hook tests.

Everything here drives real binaries (git, pre-commit, the venv's console
scripts) in child processes, the way a developer's ``git commit`` does: the
hooks run in their own processes, with their own environment and working
directory, so in-process calls would hide exactly what these tests are about.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAIN_REPO = Path(__file__).resolve().parents[1]
# The tests run with the development venv's interpreter; its scripts are this checkout's.
VENV_BIN = Path(sys.executable).parent

# What the hook repository copy leaves out: environments, caches, build output and
# git's own data (the copy gets a fresh history of one commit).
_COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
    "build",
    "dist",
    "out",
    "*.db",
)

# Variables that would redirect or disturb the child processes: git exports GIT_DIR,
# GIT_INDEX_FILE and friends to hooks (these tests may themselves run from one), and a
# pre-commit or virtualenv of the caller must not leak into the scratch repositories.
_DROPPED_PREFIXES = ("GIT_", "PRE_COMMIT", "MIGRATE_CORE_")
_DROPPED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")

GIT_CONFIG = """\
[init]
    defaultBranch = main
[commit]
    gpgsign = false
[advice]
    detachedHead = false
[merge]
    conflictStyle = merge
"""

# Settings that break naive parsing of git output; the plain hook must not care.
HOSTILE_GIT_CONFIG = """\
[color]
    ui = always
[diff]
    renames = false
    noprefix = true
    mnemonicPrefix = true
[core]
    quotepath = true
[status]
    showUntrackedFiles = no
"""

NAME_COLUMN = "name: Mapped[str] = mapped_column(String(50))"
PRICE_COLUMN = "price: Mapped[int | None] = mapped_column()"
NOTE_COLUMN = "note: Mapped[str | None] = mapped_column(String(200))"
TITLE_COLUMN = "title: Mapped[str] = mapped_column(String(50))"
LABEL_COLUMN = "label: Mapped[str | None] = mapped_column(String(30))"
# NOT NULL without a server default: the hook cannot know what existing rows get.
STOCK_COLUMN = "stock: Mapped[int] = mapped_column()"

_MODELS_HEADER = """\
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
"""


def models_source(
    *columns: str,
    class_name: str = "Product",
    table: str = "product",
    imports: str = "",
    docstring: str = "The shop's models.",
) -> str:
    """A models module with one table: ``id`` plus ``columns`` (``name`` when none given)."""
    body = "\n".join(f"    {c}" for c in (columns or (NAME_COLUMN,)))
    return (
        f'"""{docstring}"""\n\n'
        f"{_MODELS_HEADER}{imports}\n\n"
        "class Base(DeclarativeBase):\n"
        "    pass\n\n\n"
        f"class {class_name}(Base):\n"
        f'    __tablename__ = "{table}"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        f"{body}\n"
    )


def pyproject_source(extra: str = "") -> str:
    return (
        "[tool.migrate-core]\n"
        f"{extra.strip()}\n\n"
        "[tool.migrate-core.apps.shop]\n"
        'models = "shop.models:Base"\n'
        'migrations = "shop/migrations"\n'
    )


def base_env(tmp: Path) -> dict[str, str]:
    """A clean environment for git and the hooks: a known identity and git config, a
    private migrate-core cache, and the development venv's scripts first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED
    }
    tmp.mkdir(parents=True, exist_ok=True)
    gitconfig = tmp / "gitconfig"
    if not gitconfig.exists():
        gitconfig.write_text(GIT_CONFIG, encoding="utf-8")
    env.update(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="author@example.com",
        GIT_COMMITTER_NAME="Test Committer",
        GIT_COMMITTER_EMAIL="committer@example.com",
        MIGRATE_CORE_CACHE_DIR=str(tmp / "migrate-core-cache"),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


@dataclass
class Result:
    """A finished command: exit code and everything it printed (stdout, then stderr)."""

    returncode: int
    output: str
    args: Sequence[str]

    def __str__(self) -> str:
        return f"$ {' '.join(self.args)}\n(exit {self.returncode})\n{self.output}"


def run(args: Sequence[str], cwd: Path, env: dict[str, str], *, check: bool = True) -> Result:
    proc = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True)
    result = Result(proc.returncode, proc.stdout + proc.stderr, list(args))
    if check and proc.returncode != 0:
        raise AssertionError(f"command failed:\n{result}")
    return result


class GitRepo:
    """A working tree (the main one or a linked worktree) driven through the git binary."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    @classmethod
    def init(cls, root: Path, env: dict[str, str]) -> GitRepo:
        root.mkdir(parents=True, exist_ok=True)
        run(["git", "init", "-q"], root, env)
        return cls(root, env)

    def run(self, *args: str, check: bool = True, cwd: Path | None = None) -> Result:
        return run(args, cwd or self.root, self.env, check=check)

    def git(self, *args: str, check: bool = True) -> str:
        return self.run("git", *args, check=check).output

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def add(self, *paths: str) -> None:
        self.git("add", "--", *(paths or (".",)))

    def commit(self, message: str = "change", *args: str) -> Result:
        """``git commit``, hooks and all; the caller checks the outcome."""
        return self.run("git", "commit", "-m", message, *args, check=False)

    def commit_no_verify(self, message: str = "setup") -> None:
        self.add()
        self.git("commit", "-q", "--no-verify", "-m", message)

    def head(self) -> str | None:
        result = self.run("git", "rev-parse", "--verify", "-q", "HEAD", check=False)
        return result.output.strip() if result.returncode == 0 else None

    def committed_files(self, rev: str = "HEAD") -> list[str]:
        out = self.git("-c", "core.quotepath=off", "show", "--name-only", "--format=", rev)
        return sorted(line for line in out.splitlines() if line)

    def status(self) -> list[str]:
        out = self.git("-c", "core.quotepath=off", "-c", "color.ui=never", "status", "--porcelain")
        return [line for line in out.splitlines() if line]

    def unstaged_diff(self, rel: str) -> str:
        return self.git("-c", "color.ui=never", "diff", "--", rel)

    def staged_diff(self, rel: str) -> str:
        return self.git("-c", "color.ui=never", "diff", "--cached", "--", rel)


@dataclass
class Project:
    """A migrate-core project (one app, ``shop``) inside a git working tree.

    ``imports`` go into every models source the scenarios write: an import only the
    project's interpreter can satisfy proves that the worker, not the hook, loaded them.
    """

    repo: GitRepo
    sub: str = ""
    imports: str = ""

    def source(self, *columns: str, imports: str = "", **kwargs: Any) -> str:
        return models_source(*columns, imports=self.imports + imports, **kwargs)

    @property
    def root(self) -> Path:
        return self.repo.root / self.sub if self.sub else self.repo.root

    def rel(self, path: str) -> str:
        """A project path as a repository path."""
        return f"{self.sub}/{path}" if self.sub else path

    @property
    def models(self) -> str:
        return self.rel("shop/models.py")

    def write_models(self, source: str) -> None:
        self.repo.write(self.models, source)

    def stage_models(self, source: str) -> None:
        self.write_models(source)
        self.repo.add(self.models)

    def migrations(self) -> list[str]:
        folder = self.root / "shop" / "migrations"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.glob("*.py"))

    def migration(self, name_prefix: str) -> str:
        """The text of the one migration whose file name starts with ``name_prefix``."""
        found = [n for n in self.migrations() if n.startswith(name_prefix)]
        assert len(found) == 1, (name_prefix, self.migrations())
        return (self.root / "shop" / "migrations" / found[0]).read_text(encoding="utf-8")

    def snapshot(self) -> dict[str, str]:
        """Every migration file and its content, to prove a run wrote nothing."""
        folder = self.root / "shop" / "migrations"
        return {n: (folder / n).read_text(encoding="utf-8") for n in self.migrations()}

    def makemigrations(self, *args: str) -> Result:
        """The development venv's ``migrate-core makemigrations`` (setting up a baseline)."""
        return self.repo.run(
            str(VENV_BIN / "migrate-core"), "makemigrations", "--noinput", *args, cwd=self.root
        )


def make_project(
    repo: GitRepo,
    sub: str = "",
    *,
    columns: Sequence[str] = (NAME_COLUMN,),
    config: str = "",
    imports: str = "",
    initial_migration: bool = True,
    commit: bool = True,
) -> Project:
    """Write the project (and its initial migration), and commit it without hooks."""
    project = Project(repo, sub)
    repo.write(project.rel("pyproject.toml"), pyproject_source(config))
    repo.write(project.rel("shop/__init__.py"), "")
    project.write_models(models_source(*columns, imports=imports))
    if initial_migration:
        project.makemigrations()
    if commit:
        repo.commit_no_verify("project")
    return project


# -- the hook repository that pre-commit installs from ----------------------------------------------


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


def make_hook_repo(dest: Path, env: dict[str, str]) -> HookRepo:
    """A git repository holding the current working tree of this checkout, committed.

    ``git clone`` of the checkout would miss uncommitted work, which is exactly
    what these tests must exercise; pre-commit wants a repository and a rev.
    """
    shutil.copytree(MAIN_REPO, dest, ignore=_COPY_IGNORE)
    repo = GitRepo.init(dest, env)
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "migrate-core under test")
    rev = repo.git("rev-parse", "HEAD").strip()
    return HookRepo(dest, rev)


def precommit_config(repos: list[dict[str, Any]]) -> str:
    """A .pre-commit-config.yaml. JSON is YAML, and it needs no quoting rules of its own."""
    return json.dumps({"repos": repos}, indent=2) + "\n"


def hook_entry(hook_repo: HookRepo, *hooks: dict[str, Any]) -> dict[str, Any]:
    return {"repo": str(hook_repo.path), "rev": hook_repo.rev, "hooks": list(hooks)}


# -- a package the hook's environment does not have ---------------------------------------------------

EXTRA_PACKAGE = "mc_test_extra"
EXTRA_CODE_LENGTH = 12
_EXTRA_VERSION = "1.0"


def build_extra_wheel(folder: Path) -> Path:
    """A pure-Python wheel of a tiny package, built by hand (a wheel is a zip file with
    three metadata files), so that installing it needs neither a build backend nor
    the network."""
    dist = f"{EXTRA_PACKAGE}-{_EXTRA_VERSION}"
    files = {
        f"{EXTRA_PACKAGE}/__init__.py": f"CODE_LENGTH = {EXTRA_CODE_LENGTH}\n",
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {EXTRA_PACKAGE.replace('_', '-')}\n"
            f"Version: {_EXTRA_VERSION}\n"
        ),
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: migrate-core-tests\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return wheel


EXTRA_IMPORT = f"\nfrom {EXTRA_PACKAGE} import CODE_LENGTH\n"
CODE_COLUMN = "code: Mapped[str | None] = mapped_column(String(CODE_LENGTH))"


# -- scenarios shared by the pre-commit and the plain git hook tests ----------------------------------
#
# Each takes a project whose hook is installed and whose baseline (models with
# ``id`` and ``name``, migration 0001) is committed, and drives ``git commit``.

WRITTEN = "migrations written: review them and `git add` them"


def same(actual: Any, expected: Any) -> None:
    """``assert actual == expected`` with both shown (this module's asserts are not
    rewritten by pytest); lists are compared sorted."""
    if isinstance(actual, list) and isinstance(expected, list):
        actual, expected = sorted(actual), sorted(expected)
    assert actual == expected, f"\n  got:      {actual!r}\n  expected: {expected!r}"


def expect_fail(result: Result, *needles: str) -> None:
    assert result.returncode == 1, f"expected the hook to stop the commit:\n{result}"
    for needle in needles:
        assert needle in result.output, f"{needle!r} not in the output:\n{result}"
    assert "Traceback" not in result.output, str(result)


def expect_pass(result: Result) -> None:
    assert result.returncode == 0, f"expected the commit to go through:\n{result}"
    assert "Traceback" not in result.output, str(result)


def new_migration(project: Project, before: dict[str, str], suffix: str) -> tuple[str, str]:
    """The one migration written since ``before``: its repository path and its text."""
    new = {n: t for n, t in project.snapshot().items() if n not in before}
    assert len(new) == 1 and next(iter(new)).endswith(suffix), (
        f"expected one new migration *{suffix}, got {sorted(new)}"
    )
    name, text = next(iter(new.items()))
    return project.rel(f"shop/migrations/{name}"), text


def commit_fixing_migrations(project: Project, message: str = "with migration") -> None:
    """Stage what the hook wrote and commit again: now it must pass."""
    project.repo.add(project.rel("shop/migrations"))
    expect_pass(project.repo.commit(message))


def scenario_no_model_change(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    repo.write("notes.txt", "not Python at all\n")
    repo.add("notes.txt")
    expect_pass(repo.commit("notes"))
    # Python, inside the project, but not model code: the first time nothing is cached.
    repo.write(project.rel("tools/report.py"), "print('report')\n")
    repo.add(project.rel("tools/report.py"))
    expect_pass(repo.commit("tool"))
    # The slow path left the traced model files behind: the next such commit is fast.
    cache = Path(repo.env["MIGRATE_CORE_CACHE_DIR"])
    assert list(cache.glob("*/hook.json")), "the hook cached no model files"
    repo.write(project.rel("tools/report.py"), "print('report, v2')\n")
    repo.add(project.rel("tools/report.py"))
    expect_pass(repo.commit("tool v2"))
    # A models file edit that changes no schema passes too.
    project.stage_models(project.source(docstring="The shop's models, documented."))
    expect_pass(repo.commit("docs in models"))
    assert project.snapshot() == before, "a migration was written"
    same(repo.status(), [])
    # With the cache warm, a schema change is still seen.
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    expect_fail(repo.commit("add price"), WRITTEN)
    new_migration(project, before, "_add_product_price.py")


def scenario_imported_module(project: Project) -> None:
    """Model code outside the models module: a constant the models import. Once the
    models import it, a commit that changes only that module gets its migration."""
    repo = project.repo
    imports = "\nfrom shop.sizes import NAME_LENGTH\n"
    column = "name: Mapped[str] = mapped_column(String(NAME_LENGTH))"
    repo.write(project.rel("shop/sizes.py"), "NAME_LENGTH = 50\n")
    project.write_models(project.source(column, imports=imports))
    repo.add(project.rel("shop/sizes.py"), project.models)
    expect_pass(repo.commit("sizes in their own module"))
    before = project.snapshot()
    repo.write(project.rel("shop/sizes.py"), "NAME_LENGTH = 80\n")
    repo.add(project.rel("shop/sizes.py"))
    result = repo.commit("longer names")
    expect_fail(result, WRITTEN, "~ Alter column name on product")
    _, migration = new_migration(project, before, ".py")
    assert "migrations.AlterField(" in migration and "length=80" in migration, migration
    commit_fixing_migrations(project)


def scenario_added_column(project: Project) -> str:
    """Returns the migration written."""
    repo = project.repo
    head = repo.head()
    before = project.snapshot()
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    result = repo.commit("add price")
    expect_fail(result, WRITTEN, "+ Add column price to product")
    assert repo.head() == head, "the commit went through"
    path, migration = new_migration(project, before, "_add_product_price.py")
    assert "migrations.AddField(" in migration, migration
    assert 'sa.Column("price", sa.Integer())' in migration, migration
    assert '(("shop", "0001_initial"),)' in migration, migration
    assert path in result.output, str(result)
    commit_fixing_migrations(project)
    same(repo.committed_files(), [project.models, path])
    same(repo.status(), [])
    return migration


def scenario_twice(project: Project) -> None:
    """The second run writes nothing, and still stops a commit that would leave the
    written migration out."""
    repo = project.repo
    before = project.snapshot()
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    expect_fail(repo.commit("add price"), WRITTEN)
    path, _ = new_migration(project, before, "_add_product_price.py")
    written = project.snapshot()
    again = repo.commit("add price, again")
    expect_fail(again, "not staged", path)
    assert WRITTEN not in again.output, str(again)
    assert project.snapshot() == written, "the second run wrote again"
    commit_fixing_migrations(project)
    assert project.snapshot() == written, "the third run wrote again"


def scenario_staged_and_unstaged(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    project.write_models(project.source(NAME_COLUMN, PRICE_COLUMN, NOTE_COLUMN))
    expect_fail(repo.commit("add price"), WRITTEN)
    path, migration = new_migration(project, before, "_add_product_price.py")
    assert '"price"' in migration, migration
    assert '"note"' not in migration, migration
    # The unstaged edit is still there, still unstaged.
    assert NOTE_COLUMN in repo.read(project.models)
    assert f"+    {NOTE_COLUMN}" in repo.unstaged_diff(project.models)
    staged = repo.staged_diff(project.models)
    assert f"+    {PRICE_COLUMN}" in staged, staged
    assert NOTE_COLUMN not in staged, staged
    commit_fixing_migrations(project)
    same(repo.committed_files(), [project.models, path])
    assert NOTE_COLUMN not in repo.git("show", f"HEAD:{project.models}")
    assert f"+    {NOTE_COLUMN}" in repo.unstaged_diff(project.models)


def scenario_rename_field(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    project.stage_models(project.source(TITLE_COLUMN))
    result = repo.commit("rename name to title")
    expect_fail(result, WRITTEN, "> Rename column name on product to title")
    assert "its data is lost" not in result.output, str(result)
    _, migration = new_migration(project, before, "_rename_product_name_title.py")
    assert 'migrations.RenameField("product", "name", "title")' in migration, migration
    assert "RemoveField" not in migration and "AddField" not in migration, migration
    commit_fixing_migrations(project)


def scenario_rename_model(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    project.stage_models(project.source(class_name="Item", table="item"))
    result = repo.commit("rename Product to Item")
    expect_fail(result, WRITTEN)
    assert "its rows are lost" not in result.output, str(result)
    _, migration = new_migration(project, before, ".py")
    assert 'migrations.RenameModel("product", "item")' in migration, migration
    assert "DeleteModel" not in migration and "CreateModel" not in migration, migration
    commit_fixing_migrations(project)


def scenario_stage_option(project: Project, *, output_shown: bool = True) -> None:
    """The hook runs with --stage: the migration joins the commit.

    pre-commit shows a passing hook's output only with ``verbose: true``.
    """
    repo = project.repo
    head = repo.head()
    before = project.snapshot()
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    result = repo.commit("add price")
    expect_pass(result)
    if output_shown:
        assert "migrations written and staged" in result.output, str(result)
    assert repo.head() != head
    path, _ = new_migration(project, before, "_add_product_price.py")
    same(repo.committed_files(), [project.models, path])
    same(repo.status(), [])


def scenario_stage_commit_style(project: Project, style: str) -> None:
    """``git commit -a`` (``style="all"``) and ``git commit <path>`` (``"only"``) commit
    through a temporary index: the models are read from it, and the migration staged
    by the hook must end up committed and tracked."""
    repo = project.repo
    before = project.snapshot()
    repo.write("notes.txt", "first\n")
    repo.commit_no_verify("notes")
    project.write_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    if style == "all":
        result = repo.commit("add price", "-a")
    else:
        repo.write("notes.txt", "edited, not part of this commit\n")
        result = repo.commit("add price", "--", project.models)
    expect_pass(result)
    path, migration = new_migration(project, before, "_add_product_price.py")
    assert '"price"' in migration, migration
    same(repo.committed_files(), [project.models, path])
    same(repo.status(), [" M notes.txt"] if style == "only" else [])


def scenario_syntax_error(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    source = project.source(NAME_COLUMN, "price: Mapped[int] = = mapped_column()")
    line = source.splitlines().index("    price: Mapped[int] = = mapped_column()") + 1
    project.stage_models(source)
    result = repo.commit("broken")
    expect_fail(result, f"{project.models}:{line}: ", "SyntaxError")
    assert project.snapshot() == before, "a migration was written"


def scenario_missing_package(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    source = project.source(imports="\nimport not_installed_anywhere  # noqa: F401\n")
    line = source.splitlines().index("import not_installed_anywhere  # noqa: F401") + 1
    project.stage_models(source)
    result = repo.commit("needs a package")
    expect_fail(
        result, f"{project.models}:{line}: ", "ModuleNotFoundError", "'not_installed_anywhere'"
    )
    assert project.snapshot() == before, "a migration was written"


def scenario_new_module_not_staged(project: Project) -> None:
    """The models import a new module that exists but was never ``git add``-ed."""
    repo = project.repo
    before = project.snapshot()
    repo.write(project.rel("shop/sizes.py"), "NAME_LENGTH = 50\n")
    column = "name: Mapped[str] = mapped_column(String(NAME_LENGTH))"
    project.stage_models(project.source(column, imports="\nfrom shop.sizes import NAME_LENGTH\n"))
    result = repo.commit("sizes")
    expect_fail(
        result,
        "No module named 'shop.sizes'",
        f"{project.rel('shop/sizes.py')} is on disk but not staged",
    )
    assert project.snapshot() == before, "a migration was written"
    repo.add(project.rel("shop/sizes.py"))
    expect_pass(repo.commit("sizes"))


def scenario_untracked_top_level_module(project: Project) -> None:
    """Like the above, with a top-level module next to pyproject.toml: the folder git runs
    the hook in must not lend the models what the commit does not hold."""
    repo = project.repo
    before = project.snapshot()
    repo.write(project.rel("sizes.py"), "NAME_LENGTH = 50\n")
    column = "name: Mapped[str] = mapped_column(String(NAME_LENGTH))"
    project.stage_models(project.source(column, imports="\nfrom sizes import NAME_LENGTH\n"))
    result = repo.commit("sizes")
    expect_fail(
        result, "No module named 'sizes'", f"{project.rel('sizes.py')} is on disk but not staged"
    )
    assert project.snapshot() == before, "a migration was written"
    repo.add(project.rel("sizes.py"))
    expect_pass(repo.commit("sizes"))


def by_hand_command(project: Project) -> str:
    """The command the hook must print for a question it cannot answer: run from the
    top of the repository, where git runs hooks."""
    if not project.sub:
        return "migrate-core makemigrations"
    return f"cd {shlex.quote(project.sub)} && migrate-core makemigrations"


def scenario_not_null(project: Project) -> None:
    repo = project.repo
    before = project.snapshot()
    project.stage_models(project.source(NAME_COLUMN, STOCK_COLUMN))
    result = repo.commit("add stock")
    expect_fail(
        result,
        "Cannot add NOT NULL column stock to product",
        "run it by hand",
        by_hand_command(project),
    )
    assert project.snapshot() == before, "a migration was written"


def scenario_first_commit(project: Project) -> None:
    """The project is written (no migrations) and the hook installed, nothing committed."""
    repo = project.repo
    assert repo.head() is None
    repo.add()
    result = repo.commit("first")
    expect_fail(result, WRITTEN, "+ Create table product")
    assert repo.head() is None
    path, migration = new_migration(project, {}, "0001_initial.py")
    assert "initial = True" in migration, migration
    assert "migrations.CreateModel(" in migration and '"product"' in migration, migration
    commit_fixing_migrations(project, "first")
    assert repo.head() is not None
    assert path in repo.committed_files()


def _parents(repo: GitRepo) -> int:
    return len(repo.git("rev-list", "--parents", "-n", "1", "HEAD").split()) - 1


def scenario_merge(project: Project) -> None:
    """A merge whose conflict resolution changes the models gets its migration; a clean
    merge that brings a model change together with its migration needs nothing."""
    repo = project.repo
    repo.git("checkout", "-q", "-b", "feature")
    project.write_models(project.source(NAME_COLUMN, PRICE_COLUMN, docstring="Feature docs."))
    project.makemigrations()
    repo.commit_no_verify("feature: price")
    repo.git("checkout", "-q", "main")
    project.stage_models(project.source(docstring="Main docs."))
    expect_pass(repo.commit("main: docs"))

    merge = repo.run("git", "merge", "--no-ff", "--no-commit", "feature", check=False)
    assert merge.returncode == 1 and "CONFLICT" in merge.output, str(merge)
    before = project.snapshot()
    # The developer resolves the docstring conflict, and adds a column while at it.
    project.write_models(
        project.source(NAME_COLUMN, PRICE_COLUMN, NOTE_COLUMN, docstring="Merged docs.")
    )
    repo.add(project.models)
    result = repo.commit("merge feature", "--no-edit")
    expect_fail(result, WRITTEN, "+ Add column note to product")
    _, migration = new_migration(project, before, "_add_product_note.py")
    assert '"price"' not in migration, migration
    assert '(("shop", "0002_add_product_price"),)' in migration, migration
    commit_fixing_migrations(project, "merge feature")
    assert _parents(repo) == 2, "not a merge commit"

    # A clean merge: the branch's migration comes along, nothing is missing.
    repo.git("checkout", "-q", "-b", "feature2")
    project.write_models(
        project.source(
            NAME_COLUMN, PRICE_COLUMN, NOTE_COLUMN, LABEL_COLUMN, docstring="Merged docs."
        )
    )
    project.makemigrations()
    repo.commit_no_verify("feature2: label")
    repo.git("checkout", "-q", "main")
    repo.write("notes.txt", "main moves on\n")
    repo.add("notes.txt")
    expect_pass(repo.commit("main: notes"))
    repo.git("merge", "--no-ff", "--no-commit", "feature2")
    before = project.snapshot()
    expect_pass(repo.commit("merge feature2", "--no-edit"))
    assert project.snapshot() == before, "a migration was written"
    assert _parents(repo) == 2, "not a merge commit"


def scenario_merge_of_two_migration_branches(project: Project) -> None:
    """Both branches wrote a migration: the merge commit has two leaves, which the hook
    reports with the command that writes the merge migration."""
    repo = project.repo
    repo.git("checkout", "-q", "-b", "feature")
    project.write_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    project.makemigrations()
    repo.commit_no_verify("feature: price")
    repo.git("checkout", "-q", "main")
    project.write_models(project.source(NAME_COLUMN, NOTE_COLUMN))
    project.makemigrations()
    repo.commit_no_verify("main: note")

    merge = repo.run("git", "merge", "--no-ff", "--no-commit", "feature", check=False)
    assert merge.returncode == 1 and "CONFLICT" in merge.output, str(merge)
    project.write_models(project.source(NAME_COLUMN, PRICE_COLUMN, NOTE_COLUMN))
    repo.add(project.models)
    before = project.snapshot()
    result = repo.commit("merge feature", "--no-edit")
    expect_fail(result, "Conflicting migrations", "migrate-core makemigrations --merge")
    assert project.snapshot() == before, "a migration was written"

    project.makemigrations("--merge")
    repo.add(project.rel("shop/migrations"))
    expect_pass(repo.commit("merge feature", "--no-edit"))
    assert _parents(repo) == 2, "not a merge commit"
