"""The plain git hook (``migrate-core install-hook``) end to end, with real ``git commit``s.

Without the pre-commit framework nobody passes the hook the staged file names
(it asks ``git diff --cached``) and nobody stashes unstaged edits (it imports
the models from a copy of the index). The hook installed here runs this
checkout through the development venv's interpreter. Git runs under a global
configuration that breaks naive parsing of its output.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from helpers_git import HOSTILE_GIT_CONFIG
from helpers_git import MAIN_REPO
from helpers_git import NAME_COLUMN
from helpers_git import NOTE_COLUMN
from helpers_git import PRICE_COLUMN
from helpers_git import VENV_BIN
from helpers_git import WRITTEN
from helpers_git import GitRepo
from helpers_git import Project
from helpers_git import base_env
from helpers_git import expect_fail
from helpers_git import expect_pass
from helpers_git import make_project
from helpers_git import models_source
from helpers_git import new_migration
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

# Slow: real git commits through the plain git hook, one repository per test.
# `pytest -m "not slow"` is the fast loop.
pytestmark = pytest.mark.slow

MIGRATE_CORE = str(VENV_BIN / "migrate-core")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = base_env(tmp_path / "env")
    with open(env["GIT_CONFIG_GLOBAL"], "a", encoding="utf-8") as f:
        f.write(HOSTILE_GIT_CONFIG)
    return env


def install_hook(repo: GitRepo, *args: str) -> Path:
    result = repo.run(MIGRATE_CORE, "install-hook", *args)
    hook = Path(result.output.strip().removeprefix("Installed "))
    assert hook.is_file() and os.access(hook, os.X_OK), result
    return hook


def setup_project(
    root: Path,
    env: dict[str, str],
    *,
    sub: str = "",
    hook_args: tuple[str, ...] = (),
    **kwargs: Any,
) -> Project:
    repo = GitRepo.init(root, env)
    install_hook(repo, *hook_args)
    return make_project(repo, sub, **kwargs)


@pytest.fixture
def shop(tmp_path: Path, env: dict[str, str]) -> Project:
    """A committed project at the top of a repository, with the plain hook installed."""
    return setup_project(tmp_path / "repo", env)


# -- the spec's scenarios -----------------------------------------------------------------------------


def test_no_model_change_passes(shop: Project) -> None:
    scenario_no_model_change(shop)


def test_model_code_in_an_imported_module(shop: Project) -> None:
    scenario_imported_module(shop)


def test_added_column_writes_the_migration_and_stops_the_commit(shop: Project) -> None:
    scenario_added_column(shop)


def test_second_run_writes_nothing(shop: Project) -> None:
    scenario_twice(shop)


def test_staged_change_only_unstaged_edit_survives(shop: Project) -> None:
    scenario_staged_and_unstaged(shop)


def test_rename_field_from_the_diff(shop: Project) -> None:
    scenario_rename_field(shop)


def test_rename_model_from_the_diff(shop: Project) -> None:
    scenario_rename_model(shop)


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


def test_first_commit_without_head(tmp_path: Path, env: dict[str, str]) -> None:
    project = setup_project(tmp_path / "repo", env, initial_migration=False, commit=False)
    scenario_first_commit(project)


def test_commit_during_a_merge(shop: Project) -> None:
    scenario_merge(shop)


def test_merge_of_two_migration_branches(shop: Project) -> None:
    scenario_merge_of_two_migration_branches(shop)


def test_project_in_a_subfolder(tmp_path: Path, env: dict[str, str]) -> None:
    project = setup_project(tmp_path / "repo", env, sub="services/backend")
    assert not (project.repo.root / "pyproject.toml").exists()
    scenario_syntax_error(project)
    scenario_not_null(project)
    scenario_added_column(project)


def test_paths_with_spaces(tmp_path: Path, env: dict[str, str]) -> None:
    project = setup_project(tmp_path / "my repo", env, sub="my project")
    scenario_not_null(project)
    scenario_syntax_error(project)
    scenario_added_column(project)


def test_in_a_git_worktree(tmp_path: Path, shop: Project) -> None:
    trees = []
    for name in ("wt one", "wt-two"):
        shop.repo.git("worktree", "add", "-q", "-b", name.replace(" ", "-"), str(tmp_path / name))
        trees.append(Project(GitRepo(tmp_path / name, shop.repo.env)))
    scenario_added_column(trees[0])
    scenario_staged_and_unstaged(trees[1])
    assert shop.migrations() == ["0001_initial.py"]


def test_install_hook_stage(tmp_path: Path, env: dict[str, str]) -> None:
    project = setup_project(tmp_path / "repo", env, hook_args=("--stage",))
    scenario_stage_option(project)


@pytest.mark.parametrize("style", ["all", "only"])
def test_install_hook_stage_with_commit_a_and_commit_paths(
    tmp_path: Path, env: dict[str, str], style: str
) -> None:
    project = setup_project(tmp_path / "repo", env, hook_args=("--stage",))
    scenario_stage_commit_style(project, style)


# -- install-hook itself ------------------------------------------------------------------------------


def test_install_hook_writes_an_executable_hook_for_this_interpreter(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = GitRepo.init(tmp_path / "repo", env)
    hook = install_hook(repo)
    assert hook == repo.root / ".git" / "hooks" / "pre-commit"
    text = hook.read_text(encoding="utf-8")
    assert str(VENV_BIN / "python") in text
    assert "migrate_core.hook makemigrations" in text and "--stage" not in text
    assert hook.stat().st_mode & stat.S_IXUSR
    # Ours may be rewritten without --force (to switch --stage on).
    install_hook(repo, "--stage")
    assert "makemigrations --stage" in hook.read_text(encoding="utf-8")


def test_install_hook_keeps_a_foreign_hook_unless_forced(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = GitRepo.init(tmp_path / "repo", env)
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    refused = repo.run(MIGRATE_CORE, "install-hook", check=False)
    assert refused.returncode == 2, refused
    assert "--force" in refused.output, refused
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\nexit 0\n"
    install_hook(repo, "--force")
    assert "migrate_core.hook" in hook.read_text(encoding="utf-8")


def test_install_hook_respects_core_hooks_path(tmp_path: Path, env: dict[str, str]) -> None:
    repo = GitRepo.init(tmp_path / "repo", env)
    repo.git("config", "core.hooksPath", "githooks")
    hook = install_hook(repo)
    assert hook.resolve() == (repo.root / "githooks" / "pre-commit").resolve()
    project = make_project(repo)
    scenario_added_column(project)


def test_install_hook_from_a_worktree_and_a_subfolder(tmp_path: Path, env: dict[str, str]) -> None:
    """Hooks live in the common git dir: installed from anywhere, they serve every tree."""
    repo = GitRepo.init(tmp_path / "repo", env)
    project = make_project(repo, "backend")
    repo.git("worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    worktree = Project(GitRepo(tmp_path / "wt", env), "backend")
    worktree.repo.run(MIGRATE_CORE, "install-hook", cwd=worktree.root)
    scenario_added_column(worktree)
    scenario_rename_field(project)


def test_the_hooks_pre_commit_script(tmp_path: Path, env: dict[str, str]) -> None:
    """hooks/pre-commit copied into .git/hooks works with the python3 found on PATH."""
    repo = GitRepo.init(tmp_path / "repo", env)
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    shutil.copy(MAIN_REPO / "hooks" / "pre-commit", hook)
    hook.chmod(0o755)
    # python3 on PATH must be an interpreter that imports migrate_core.
    assert (VENV_BIN / "python3").exists()
    project = make_project(repo)
    scenario_added_column(project)
    scenario_not_null(project)


def test_hook_outside_any_project_passes(tmp_path: Path, env: dict[str, str]) -> None:
    repo = GitRepo.init(tmp_path / "repo", env)
    install_hook(repo)
    repo.write("script.py", "print('no project here')\n")
    repo.add("script.py")
    expect_pass(repo.commit("script"))


def test_unstaged_migration_of_an_earlier_run_is_reported(shop: Project) -> None:
    """A migration written by hand (or an earlier run) and never staged stops the commit
    of the model change it belongs to."""
    shop.stage_models(models_source(NAME_COLUMN, PRICE_COLUMN))
    shop.makemigrations()
    result = shop.repo.commit("price")
    expect_fail(result, "not staged")
    assert WRITTEN not in result.output


def test_two_projects_with_the_same_package_name(tmp_path: Path, env: dict[str, str]) -> None:
    """One repository, two projects whose models are both ``shop.models``: each gets the
    migration for its own change (one process plans both)."""
    repo = GitRepo.init(tmp_path / "repo", env)
    install_hook(repo)
    api = make_project(repo, "api", commit=False)
    worker = make_project(repo, "worker")
    before_api, before_worker = api.snapshot(), worker.snapshot()
    api.stage_models(models_source(NAME_COLUMN, PRICE_COLUMN))
    worker.stage_models(models_source(NAME_COLUMN, NOTE_COLUMN))
    result = repo.commit("both")
    expect_fail(result, WRITTEN, "+ Add column price to product", "+ Add column note to product")
    _, api_migration = new_migration(api, before_api, "_add_product_price.py")
    _, worker_migration = new_migration(worker, before_worker, "_add_product_note.py")
    assert '"note"' not in api_migration, api_migration
    assert '"price"' not in worker_migration, worker_migration
    repo.add("api/shop/migrations", "worker/shop/migrations")
    expect_pass(repo.commit("both, with migrations"))


# -- the fast-path cache goes stale only into the full path ------------------------------------------

SIZES_IMPORT = "\nfrom shop.sizes import NAME_LENGTH\n"
SIZED_NAME = "name: Mapped[str] = mapped_column(String(NAME_LENGTH))"


def _warm(project: Project) -> None:
    """Models that import a helper module, committed through the hook (the cache is written)."""
    repo = project.repo
    repo.write(project.rel("shop/sizes.py"), "NAME_LENGTH = 50\n")
    project.write_models(project.source(SIZED_NAME, imports=SIZES_IMPORT))
    repo.add(project.rel("shop/sizes.py"), project.models)
    expect_pass(repo.commit("sizes"))
    assert list(Path(repo.env["MIGRATE_CORE_CACHE_DIR"]).glob("*/hook.json"))


def _unrelated_commit(project: Project, name: str = "tools/report.py") -> Any:
    repo = project.repo
    repo.write(project.rel(name), f"print({name!r})\n")
    repo.add(project.rel(name))
    return repo.commit("unrelated")


def test_stale_cache_helper_changed_behind_the_hooks_back(shop: Project) -> None:
    """A helper the models import changed without the hook (``--no-verify``): the next
    commit, however unrelated, sees the model change."""
    _warm(shop)
    shop.repo.write(shop.rel("shop/sizes.py"), "NAME_LENGTH = 80\n")
    shop.repo.commit_no_verify("longer, unchecked")
    expect_fail(_unrelated_commit(shop), WRITTEN, "~ Alter column name on product")


def test_stale_cache_model_file_deleted(shop: Project) -> None:
    _warm(shop)
    shop.repo.git("rm", "-q", shop.rel("shop/sizes.py"))
    shop.repo.write(shop.rel("shop/sizes.py"), "NAME_LENGTH = 50\n")  # untracked copy
    expect_fail(_unrelated_commit(shop), "sizes")


def test_stale_cache_pyproject_edited(shop: Project) -> None:
    _warm(shop)
    path = shop.root / "pyproject.toml"
    path.write_text(path.read_text().replace('"shop/migrations"', '"shop/migrationz"'))
    shop.repo.commit_no_verify("other folder, unchecked")
    # The migrations are elsewhere now: the full path finds none and writes an initial one.
    expect_fail(_unrelated_commit(shop), WRITTEN)


def test_stale_cache_new_module_beside_the_models(shop: Project) -> None:
    """A new module in the models' package may be imported by name or discovered: it is
    not known to be harmless, so it takes the full path."""
    _warm(shop)
    before = shop.snapshot()
    expect_pass(_unrelated_commit(shop, "shop/extra.py"))
    assert shop.snapshot() == before


def test_failed_import_leaves_no_cache(shop: Project) -> None:
    _warm(shop)
    cache = Path(shop.repo.env["MIGRATE_CORE_CACHE_DIR"])
    shop.stage_models(
        shop.source(SIZED_NAME, imports=SIZES_IMPORT + "import not_installed_anywhere\n")
    )
    expect_fail(shop.repo.commit("needs a package"), "not_installed_anywhere")
    assert not list(cache.glob("*/hook.json")), "a failed import left the fast-path cache"
