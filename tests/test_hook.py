"""The commit hooks end to end: real git, real pre-commit, this checkout as the hook repo.

pre-commit installs ``language: python`` hooks by pip-installing the hook
repository into a virtualenv of its own. The session builds that environment
once (``PRE_COMMIT_HOME`` is a session folder) from a committed copy of this
working tree, so what runs is the code under test, uncommitted edits included.
Every test then makes its own repository, ``pre-commit install``s it, and runs
``git commit`` the way a developer does.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_git import CODE_COLUMN
from helpers_git import EXTRA_IMPORT
from helpers_git import EXTRA_PACKAGE
from helpers_git import MAIN_REPO
from helpers_git import NAME_COLUMN
from helpers_git import NOTE_COLUMN
from helpers_git import PRICE_COLUMN
from helpers_git import STOCK_COLUMN
from helpers_git import VENV_BIN
from helpers_git import WRITTEN
from helpers_git import GitRepo
from helpers_git import HookRepo
from helpers_git import Project
from helpers_git import base_env
from helpers_git import build_extra_wheel
from helpers_git import by_hand_command
from helpers_git import commit_fixing_migrations
from helpers_git import expect_fail
from helpers_git import expect_pass
from helpers_git import hook_entry
from helpers_git import make_hook_repo
from helpers_git import make_project
from helpers_git import models_source
from helpers_git import precommit_config
from helpers_git import pyproject_source
from helpers_git import run
from helpers_git import scenario_added_column
from helpers_git import scenario_first_commit
from helpers_git import scenario_imported_module
from helpers_git import scenario_merge
from helpers_git import scenario_merge_of_two_migration_branches
from helpers_git import scenario_missing_package
from helpers_git import scenario_new_module_not_staged
from helpers_git import scenario_no_model_change
from helpers_git import scenario_not_null
from helpers_git import scenario_rename_field
from helpers_git import scenario_rename_model
from helpers_git import scenario_stage_commit_style
from helpers_git import scenario_stage_option
from helpers_git import scenario_staged_and_unstaged
from helpers_git import scenario_syntax_error
from helpers_git import scenario_twice
from helpers_git import scenario_untracked_top_level_module

# Slow: real pre-commit runs: each installs this repository's hooks and commits in a real git repository.
# `pytest -m "not slow"` is the fast loop.
pytestmark = pytest.mark.slow

PRE_COMMIT = str(VENV_BIN / "pre-commit")
MAKEMIGRATIONS: dict[str, Any] = {"id": "makemigrations"}
# Timings of the session's one-off set-up, shown at the end of the run (-rA or -s).
TIMINGS: dict[str, float] = {}


# -- session: the hook repository, pre-commit's environment, a project venv -------------------------


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hook-session")


@pytest.fixture(scope="session")
def hook_repo(session_dir: Path) -> HookRepo:
    started = time.perf_counter()
    repo = make_hook_repo(session_dir / "migrate-core", base_env(session_dir / "env"))
    TIMINGS["copy and commit the hook repository"] = time.perf_counter() - started
    return repo


@pytest.fixture(scope="session")
def pre_commit_home(session_dir: Path, hook_repo: HookRepo) -> Path:
    """PRE_COMMIT_HOME with the hook environment built, once per session."""
    home = session_dir / "pre-commit-home"
    env = base_env(session_dir / "env")
    env["PRE_COMMIT_HOME"] = str(home)
    scratch = GitRepo.init(session_dir / "warm-up", env)
    scratch.write(
        ".pre-commit-config.yaml",
        precommit_config([hook_entry(hook_repo, MAKEMIGRATIONS, {"id": "check-migrations"})]),
    )
    started = time.perf_counter()
    scratch.run(PRE_COMMIT, "install-hooks")
    TIMINGS["pre-commit environment build"] = time.perf_counter() - started
    return home


@pytest.fixture(scope="session")
def extra_wheel(session_dir: Path) -> Path:
    return build_extra_wheel(session_dir / "wheels")


@pytest.fixture(scope="session")
def project_venv(session_dir: Path, hook_repo: HookRepo, extra_wheel: Path) -> Path:
    """The project's own environment: SQLAlchemy, the extra package the models import,
    and migrate-core without its other dependencies (the hook needs only SQLAlchemy)."""
    import sqlalchemy

    venv = session_dir / "project-venv"
    env = base_env(session_dir / "env")
    started = time.perf_counter()
    # --without-pip and the development venv's pip (`pip --python`): seconds faster.
    run([str(VENV_BIN / "python"), "-m", "venv", "--without-pip", str(venv)], session_dir, env)
    pip = [str(VENV_BIN / "python"), "-m", "pip", "--python", str(venv / "bin" / "python")]
    run(
        [*pip, "install", "-q", f"SQLAlchemy=={sqlalchemy.__version__}", str(extra_wheel)],
        session_dir,
        env,
    )
    run([*pip, "install", "-q", "--no-deps", str(hook_repo.path)], session_dir, env)
    TIMINGS["project venv"] = time.perf_counter() - started
    return venv


@pytest.fixture(scope="session", autouse=True)
def _report_timings() -> Iterator[None]:
    yield
    if TIMINGS:
        print("\nhook test set-up timings:")
        for what, seconds in TIMINGS.items():
            print(f"  {what}: {seconds:.1f}s")


# -- per test -----------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, pre_commit_home: Path) -> dict[str, str]:
    env = base_env(tmp_path / "env")
    env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    return env


def install(repo: GitRepo, repos: list[dict[str, Any]]) -> None:
    """Configure pre-commit (the configuration must be staged, or pre-commit refuses)."""
    repo.write(".pre-commit-config.yaml", precommit_config(repos))
    repo.add(".pre-commit-config.yaml")
    repo.run(PRE_COMMIT, "install")


def setup_project(
    root: Path,
    env: dict[str, str],
    hooks: list[dict[str, Any]],
    *,
    sub: str = "",
    **kwargs: Any,
) -> Project:
    repo = GitRepo.init(root, env)
    install(repo, hooks)
    return make_project(repo, sub, **kwargs)


@pytest.fixture
def shop(tmp_path: Path, env: dict[str, str], hook_repo: HookRepo) -> Project:
    """A committed project at the top of a repository, with the makemigrations hook."""
    return setup_project(tmp_path / "repo", env, [hook_entry(hook_repo, MAKEMIGRATIONS)])


# -- the spec's scenarios -----------------------------------------------------------------------------


def test_hook_definitions_match_the_spec() -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((MAIN_REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"makemigrations", "check-migrations"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is True
        assert hook["require_serial"] is True
        files = re.compile(hook["files"])
        for path in (
            "shop/models.py",
            "my project/shop/models.py",
            "pyproject.toml",
            "a/pyproject.toml",
        ):
            assert files.search(path), path
        for path in ("README.md", "shop/models.pyc", "setup.cfg", "old_pyproject.toml.bak"):
            assert not files.search(path), path
    assert hooks["makemigrations"]["entry"] == "migrate-core-hook makemigrations"
    assert hooks["check-migrations"]["entry"] == "migrate-core-hook check"


def test_the_hook_module_imports_neither_the_cli_nor_heavy_libraries() -> None:
    """The hook calls the library: importing it (and parsing a check's options, which
    every commit does) pulls in no click, SQLAlchemy, GitPython or check code."""
    import subprocess
    import sys

    code = (
        "import sys, migrate_core.hook as h; "
        "h._parser().parse_args(['check', '--full', '--app', 'shop', 'shop/models.py']); "
        "print(sorted(m for m in ('click', 'sqlalchemy', 'git', 'migrate_core.cli', "
        "'migrate_core.checks', 'migrate_core.vcs.history') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_no_model_change_passes(shop: Project) -> None:
    scenario_no_model_change(shop)


def test_model_code_in_an_imported_module(shop: Project) -> None:
    scenario_imported_module(shop)


def test_added_column_writes_the_migration_and_stops_the_commit(shop: Project) -> None:
    migration = scenario_added_column(shop)
    assert migration.startswith("# Generated by migrate-core"), migration


def test_second_run_writes_nothing(shop: Project) -> None:
    scenario_twice(shop)
    # pre-commit run on the committed state: nothing to write, nothing to complain about.
    before = shop.snapshot()
    result = shop.repo.run(PRE_COMMIT, "run", "--all-files", check=False)
    expect_pass(result)
    assert shop.snapshot() == before


def test_staged_change_only_unstaged_edit_survives(shop: Project) -> None:
    scenario_staged_and_unstaged(shop)


def test_rename_field_from_the_diff(shop: Project) -> None:
    scenario_rename_field(shop)


def test_rename_model_from_the_diff(shop: Project) -> None:
    scenario_rename_model(shop)


def test_stage_argument_commits_the_migration(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo
) -> None:
    project = setup_project(
        tmp_path / "repo", env, [hook_entry(hook_repo, {**MAKEMIGRATIONS, "args": ["--stage"]})]
    )
    scenario_stage_option(project, output_shown=False)


@pytest.mark.parametrize("style", ["all", "only"])
def test_stage_argument_with_commit_a_and_commit_paths(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, style: str
) -> None:
    project = setup_project(
        tmp_path / "repo", env, [hook_entry(hook_repo, {**MAKEMIGRATIONS, "args": ["--stage"]})]
    )
    scenario_stage_commit_style(project, style)


def test_syntax_error_names_file_and_line(shop: Project) -> None:
    scenario_syntax_error(shop)


def test_missing_package_names_file_and_line(shop: Project) -> None:
    scenario_missing_package(shop)


def test_new_module_not_staged(shop: Project) -> None:
    scenario_new_module_not_staged(shop)


def test_untracked_top_level_module(shop: Project) -> None:
    scenario_untracked_top_level_module(shop)


def test_not_null_without_default_prints_the_command(shop: Project) -> None:
    scenario_not_null(shop)


def test_first_commit_without_head(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo
) -> None:
    project = setup_project(
        tmp_path / "repo",
        env,
        [hook_entry(hook_repo, MAKEMIGRATIONS)],
        initial_migration=False,
        commit=False,
    )
    scenario_first_commit(project)


def test_commit_during_a_merge(shop: Project) -> None:
    scenario_merge(shop)


def test_merge_of_two_migration_branches(shop: Project) -> None:
    scenario_merge_of_two_migration_branches(shop)


def test_project_in_a_subfolder(tmp_path: Path, env: dict[str, str], hook_repo: HookRepo) -> None:
    project = setup_project(
        tmp_path / "repo", env, [hook_entry(hook_repo, MAKEMIGRATIONS)], sub="services/backend"
    )
    assert not (project.repo.root / "pyproject.toml").exists()
    scenario_added_column(project)
    scenario_syntax_error(project)


def test_paths_with_spaces(tmp_path: Path, env: dict[str, str], hook_repo: HookRepo) -> None:
    project = setup_project(
        tmp_path / "my repo", env, [hook_entry(hook_repo, MAKEMIGRATIONS)], sub="my project"
    )
    assert by_hand_command(project) == "cd 'my project' && migrate-core makemigrations"
    scenario_not_null(project)
    scenario_added_column(project)


def test_in_a_git_worktree(tmp_path: Path, shop: Project) -> None:
    trees = []
    for name in ("wt one", "wt-two"):
        shop.repo.git("worktree", "add", "-q", "-b", name.replace(" ", "-"), str(tmp_path / name))
        trees.append(Project(GitRepo(tmp_path / name, shop.repo.env)))
    scenario_added_column(trees[0])
    scenario_rename_field(trees[1])
    # The migrations went to the worktrees, not to the main working tree.
    assert shop.migrations() == ["0001_initial.py"]
    assert trees[0].repo.git("log", "-1", "--format=%s").strip() == "with migration"


# -- check-migrations ---------------------------------------------------------------------------------


def test_check_migrations_hook(tmp_path: Path, env: dict[str, str], hook_repo: HookRepo) -> None:
    project = setup_project(
        tmp_path / "repo", env, [hook_entry(hook_repo, {"id": "check-migrations"})]
    )
    repo = project.repo
    project.stage_models(models_source(docstring="Documented, no schema change."))
    expect_pass(repo.commit("docs"))

    project.stage_models(models_source(NAME_COLUMN, PRICE_COLUMN))
    result = repo.commit("price without migration")
    expect_fail(result, "missing migration", "+ Add column price to product")
    assert "reversibility     skipped" in result.output, str(result)  # no database stage
    assert project.migrations() == ["0001_initial.py"], "check-migrations wrote a file"

    project.makemigrations()
    repo.add(project.rel("shop/migrations"))
    expect_pass(repo.commit("price with migration"))


def test_check_migrations_hook_full(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo
) -> None:
    """``args: [--full]`` runs the scratch-database checks too (shown with verbose)."""
    hook = {"id": "check-migrations", "args": ["--full"], "verbose": True}
    project = setup_project(tmp_path / "repo", env, [hook_entry(hook_repo, hook)])
    repo = project.repo
    project.stage_models(models_source(NAME_COLUMN, PRICE_COLUMN))
    project.makemigrations()
    repo.add(project.rel("shop/migrations"))
    result = repo.commit("price with migration")
    expect_pass(result)
    assert "reversibility" in result.output and "schema drift" in result.output, str(result)
    assert "reversibility     skipped" not in result.output, str(result)
    assert "schema drift      skipped" not in result.output, str(result)


def test_check_migrations_hook_with_the_python_setting(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, project_venv: Path
) -> None:
    python = project_venv / "bin" / "python"
    project = setup_project(
        tmp_path / "repo",
        env,
        [hook_entry(hook_repo, {"id": "check-migrations"})],
        config=f"python = {json.dumps(str(python))}",
    )
    # The models now import what only the project's venv has, and change no table.
    project.stage_models(_extra_models(NAME_COLUMN))
    expect_pass(project.repo.commit("import only"))
    project.stage_models(_extra_models(NAME_COLUMN, CODE_COLUMN))
    result = project.repo.commit("code without migration")
    expect_fail(result, "missing migration", "+ Add column code to product")


# -- models that import what the hook's environment lacks -----------------------------------------


def _extra_models(*columns: str) -> str:
    return models_source(*columns, imports=EXTRA_IMPORT)


def _expect_code_migration(project: Project) -> None:
    migration = project.migration("0002_")
    assert "migrations.AddField(" in migration, migration
    assert 'sa.Column("code", sa.String(length=12))' in migration, migration


def test_additional_dependencies(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, extra_wheel: Path
) -> None:
    hook = {**MAKEMIGRATIONS, "additional_dependencies": [str(extra_wheel)]}
    project = setup_project(tmp_path / "repo", env, [hook_entry(hook_repo, hook)])
    project.stage_models(_extra_models(NAME_COLUMN, CODE_COLUMN))
    expect_fail(project.repo.commit("code"), WRITTEN, "+ Add column code to product")
    _expect_code_migration(project)
    commit_fixing_migrations(project)


def test_local_system_hook_from_the_project_venv(
    tmp_path: Path, env: dict[str, str], project_venv: Path
) -> None:
    local = {
        "repo": "local",
        "hooks": [
            {
                "id": "makemigrations",
                "name": "migrate-core makemigrations",
                "entry": f"{shlex.quote(str(project_venv / 'bin' / 'migrate-core-hook'))} makemigrations",
                "language": "system",
                "pass_filenames": True,
                "files": r"(\.py|(^|/)pyproject\.toml)$",
                "require_serial": True,
            }
        ],
    }
    project = setup_project(tmp_path / "repo", env, [local])
    project.stage_models(_extra_models(NAME_COLUMN, CODE_COLUMN))
    expect_fail(project.repo.commit("code"), WRITTEN, "+ Add column code to product")
    _expect_code_migration(project)
    commit_fixing_migrations(project)


def test_python_setting_plans_in_the_project_interpreter(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, project_venv: Path
) -> None:
    project = setup_project(tmp_path / "repo", env, [hook_entry(hook_repo, MAKEMIGRATIONS)])
    repo = project.repo
    project.stage_models(_extra_models(NAME_COLUMN, CODE_COLUMN))
    # pre-commit's environment has no mc_test_extra: without the setting, the hook says so.
    result = repo.commit("code")
    expect_fail(result, "ModuleNotFoundError", f"'{EXTRA_PACKAGE}'", "python = ")
    assert project.migrations() == ["0001_initial.py"]

    python = project_venv / "bin" / "python"
    repo.write(
        project.rel("pyproject.toml"), pyproject_source(f"python = {json.dumps(str(python))}")
    )
    repo.add(project.rel("pyproject.toml"))
    expect_fail(repo.commit("code"), WRITTEN, "+ Add column code to product")
    _expect_code_migration(project)
    commit_fixing_migrations(project)

    # Renames read from the diff reach the worker; so does a question it cannot answer.
    project.stage_models(_extra_models(NAME_COLUMN, CODE_COLUMN.replace("code:", "sku:")))
    expect_fail(repo.commit("rename code"), WRITTEN)
    assert 'migrations.RenameField("product", "code", "sku")' in project.migration("0003_")
    commit_fixing_migrations(project)
    project.stage_models(
        _extra_models(NAME_COLUMN, CODE_COLUMN.replace("code:", "sku:"), STOCK_COLUMN)
    )
    result = repo.commit("stock")
    expect_fail(result, "Cannot add NOT NULL column stock to product", "run it by hand")
    assert by_hand_command(project) in result.output


def test_python_setting_venv_and_models_that_print(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, project_venv: Path
) -> None:
    """``python = "venv"`` finds the project's .venv; what the models print while they are
    imported must not get in the way of the worker's answer."""
    project = setup_project(
        tmp_path / "repo", env, [hook_entry(hook_repo, MAKEMIGRATIONS)], config='python = "venv"'
    )
    (project.root / ".venv").symlink_to(project_venv, target_is_directory=True)
    noisy = _extra_models(NAME_COLUMN, CODE_COLUMN) + '\nprint("models loaded")\n'
    project.stage_models(noisy)
    expect_fail(project.repo.commit("code"), WRITTEN, "+ Add column code to product")
    _expect_code_migration(project)


def test_python_setting_untracked_module(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, project_venv: Path
) -> None:
    """The worker runs in the hook's folder too; it must not import from it either."""
    python = project_venv / "bin" / "python"
    project = setup_project(
        tmp_path / "repo",
        env,
        [hook_entry(hook_repo, MAKEMIGRATIONS)],
        config=f"python = {json.dumps(str(python))}",
    )
    project.imports = EXTRA_IMPORT  # only the worker can import these models
    scenario_untracked_top_level_module(project)


def test_python_setting_reports_errors_like_the_hook_does(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, project_venv: Path
) -> None:
    python = project_venv / "bin" / "python"
    project = setup_project(
        tmp_path / "repo",
        env,
        [hook_entry(hook_repo, MAKEMIGRATIONS)],
        sub="app",
        config=f"python = {json.dumps(str(python))}",
    )
    project.imports = EXTRA_IMPORT  # only the worker can import these models
    scenario_syntax_error(project)
    scenario_missing_package(project)
    scenario_not_null(project)
    scenario_added_column(project)


# -- the hook never switches itself off; it reads what is committed ----------------------------------

CHECK: dict[str, Any] = {"id": "check-migrations"}


def test_check_hook_after_a_failed_import_still_sees_model_changes(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo
) -> None:
    """A check run whose models failed to import traced only the modules imported before
    the failure: it must not become the fast path's idea of the model code."""
    project = setup_project(tmp_path / "repo", env, [hook_entry(hook_repo, CHECK)])
    repo = project.repo
    project.stage_models(project.source(imports="\nimport not_installed_anywhere  # noqa: F401\n"))
    expect_fail(repo.commit("needs a package"), "not_installed_anywhere")
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    expect_fail(repo.commit("price without migration"), "+ Add column price to product")


def test_check_hook_reads_the_index_not_the_working_tree(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo
) -> None:
    """The new migration written but not staged: ``SKIP=makemigrations git commit`` must
    not land the models without it."""
    project = setup_project(tmp_path / "repo", env, [hook_entry(hook_repo, MAKEMIGRATIONS, CHECK)])
    repo = project.repo
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    project.makemigrations()  # written, untracked
    head = repo.head()
    skipping = {**repo.env, "SKIP": "makemigrations"}
    result = run(["git", "commit", "-m", "price"], repo.root, skipping, check=False)
    expect_fail(result, "missing migration", "+ Add column price to product")
    assert repo.head() == head, "the commit went through"
    repo.add(project.rel("shop/migrations"))
    expect_pass(run(["git", "commit", "-m", "price"], repo.root, skipping, check=False))


def test_check_hook_stages_and_the_pushed_range(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo
) -> None:
    """The default entry runs at commit only; a pre-push entry uses the pushed range as
    the base, so the destructive check sees the dropped column."""
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((MAIN_REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["check-migrations"]["stages"] == ["pre-commit"]
    assert hooks["makemigrations"]["stages"] == ["pre-commit"]

    push_hook = {**CHECK, "stages": ["pre-push"], "verbose": True}
    project = setup_project(
        tmp_path / "repo", env, [hook_entry(hook_repo, CHECK), hook_entry(hook_repo, push_hook)]
    )
    repo = project.repo
    repo.run(PRE_COMMIT, "install", "--hook-type", "pre-push")
    remote = tmp_path / "remote.git"
    run(["git", "init", "-q", "--bare", str(remote)], tmp_path, env)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "--no-verify", "origin", "main")
    project.stage_models(project.source(NAME_COLUMN, PRICE_COLUMN))
    project.makemigrations()
    repo.add(project.rel("shop/migrations"))
    expect_pass(repo.commit("price"))
    project.stage_models(project.source(NAME_COLUMN))
    project.makemigrations()
    repo.add(project.rel("shop/migrations"))
    expect_pass(repo.commit("drop price"))
    result = repo.run("git", "push", "origin", "main", check=False)
    expect_pass(result)
    assert "drops column product.price" in result.output, str(result)
    assert "git integrity" in result.output and "2 new migrations" in result.output, str(result)

    # The pushed commits are checked, not the working tree: a migration left untracked
    # beside models committed without hooks does not make the push pass.
    project.write_models(project.source(NAME_COLUMN, NOTE_COLUMN))
    repo.git("commit", "-q", "--no-verify", "-am", "note, unchecked")
    project.makemigrations()
    result = repo.run("git", "push", "origin", "main", check=False)
    expect_fail(result, "missing migration", "+ Add column note to product")
    assert "migrate-core-push-" not in result.output, str(result)
    assert len(repo.git("worktree", "list").splitlines()) == 1, "the push's worktree was left"


NEEDS_EXTRA_MIGRATION = f"""\
from {EXTRA_PACKAGE} import CODE_LENGTH  # noqa: F401
from migrate_core import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = []
"""


def test_check_hook_python_venv_and_a_migration_needing_a_package(
    tmp_path: Path, env: dict[str, str], hook_repo: HookRepo, project_venv: Path
) -> None:
    """``python = "venv"`` finds the untracked .venv from the staged copy too; a
    migration file importing a package the hook's environment lacks says what to do."""
    repo = GitRepo.init(tmp_path / "repo", env)
    install(repo, [hook_entry(hook_repo, CHECK)])
    repo.write(".gitignore", ".venv\n")
    (repo.root / ".venv").symlink_to(project_venv, target_is_directory=True)
    project = make_project(repo, config='python = "venv"')
    project.stage_models(_extra_models(NAME_COLUMN))
    expect_pass(repo.commit("import only"))
    project.stage_models(_extra_models(NAME_COLUMN, CODE_COLUMN))
    expect_fail(repo.commit("code without migration"), "+ Add column code to product")

    project.stage_models(_extra_models(NAME_COLUMN))
    repo.write("shop/migrations/0002_needs_extra.py", NEEDS_EXTRA_MIGRATION)
    repo.add("shop/migrations")
    result = repo.commit("a migration importing a package")
    expect_fail(
        result,
        f"No module named '{EXTRA_PACKAGE}'",
        "additional_dependencies",
        "shop/migrations/0002_needs_extra.py",
    )
    assert "migrate-core-check-" not in result.output, str(result)
