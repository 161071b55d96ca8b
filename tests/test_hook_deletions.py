"""A commit that only deletes (or renames away) a model module, through real pre-commit.

pre-commit passes a hook only the added and modified files, and skips a hook none of
them matches: before ``always_run``, deleting the module of a model (its table then
needs a DeleteModel) committed without a migration. The models here are a package
that imports every module in it (a common layout: a new module needs no import
line, so removing one changes the models with no other file touched).

The pre-commit environment is built once per session from this working tree (the
fixtures of ``test_hook.py``); each test makes its own repository and commits.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers_git import MAIN_REPO
from helpers_git import GitRepo
from helpers_git import HookRepo
from helpers_git import Project
from helpers_git import expect_fail
from helpers_git import expect_pass
from helpers_git import hook_entry
from helpers_git import new_migration
from helpers_git import pyproject_source
from test_hook import MAKEMIGRATIONS
from test_hook import env  # noqa: F401  (fixtures shared with test_hook)
from test_hook import hook_repo  # noqa: F401
from test_hook import install
from test_hook import pre_commit_home  # noqa: F401
from test_hook import session_dir  # noqa: F401

pytestmark = pytest.mark.slow

PACKAGE = '''"""The shop's models: every module of this package is imported."""

import importlib
import pkgutil

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
'''


def model_module(class_name: str, table: str) -> str:
    return (
        "from sqlalchemy import String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n\n"
        "from shop.models import Base\n\n\n"
        f"class {class_name}(Base):\n"
        f'    __tablename__ = "{table}"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    name: Mapped[str] = mapped_column(String(50))\n"
    )


@pytest.fixture
def shop(tmp_path: Path, env: dict[str, str], hook_repo: HookRepo) -> Project:  # noqa: F811
    """Two models in two modules of a package, migrated and committed through the hook
    (so the fast path's cache of the model files is written, as on a developer's machine)."""
    repo = GitRepo.init(tmp_path / "repo", env)
    install(repo, [hook_entry(hook_repo, MAKEMIGRATIONS, {"id": "check-migrations"})])
    project = Project(repo)
    repo.write("pyproject.toml", pyproject_source())
    repo.write("shop/__init__.py", "")
    repo.write("shop/models/__init__.py", PACKAGE)
    repo.write("shop/models/product.py", model_module("Product", "product"))
    repo.write("shop/models/invoice.py", model_module("Invoice", "invoice"))
    project.makemigrations()
    repo.add()
    expect_pass(repo.commit("project"))
    assert list(Path(env["MIGRATE_CORE_CACHE_DIR"]).glob("*/hook.json")), "no fast-path cache"
    return project


def test_the_manifest_runs_the_hooks_on_every_commit() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((MAIN_REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["makemigrations"]["always_run"] is True
    assert hooks["check-migrations"]["always_run"] is True


def test_deleting_a_model_module_writes_the_delete_model(shop: Project) -> None:
    repo = shop.repo
    before = shop.snapshot()
    repo.git("rm", "-q", "shop/models/invoice.py")
    result = repo.commit("drop invoices")
    expect_fail(result, "- Delete table invoice")
    _path, text = new_migration(shop, before, ".py")
    assert 'migrations.DeleteModel("invoice")' in text
    shop.repo.add("shop/migrations")
    expect_pass(repo.commit("drop invoices, with the migration"))


def test_renaming_a_model_module_out_of_the_package_is_a_deletion(shop: Project) -> None:
    """Renamed to a name no hook pattern matches (pre-commit would pass nothing)."""
    repo = shop.repo
    before = shop.snapshot()
    repo.git("mv", "shop/models/invoice.py", "shop/models/invoice.py.disabled")
    expect_fail(repo.commit("disable invoices"), "- Delete table invoice")
    new_migration(shop, before, ".py")


def test_renaming_a_model_module_inside_the_package_changes_nothing(shop: Project) -> None:
    repo = shop.repo
    before = shop.snapshot()
    repo.git("mv", "shop/models/invoice.py", "shop/models/billing.py")
    expect_pass(repo.commit("rename the module"))
    assert shop.snapshot() == before


def test_deleting_an_unrelated_file_passes_at_once(shop: Project) -> None:
    repo = shop.repo
    repo.write("tools/report.py", "print('report')\n")
    repo.write("NOTES.md", "notes\n")
    repo.add()
    expect_pass(repo.commit("tools"))
    before = shop.snapshot()
    repo.git("rm", "-q", "tools/report.py", "NOTES.md")
    result = repo.commit("remove tools")
    expect_pass(result)
    assert shop.snapshot() == before
