"""check-migrations against real git repositories: graph forks, git integrity, shallow clones.

Every test builds a repository with the git binary, commits the shop project on
``main``, works on a branch as a developer would, and runs ``check-migrations``
in a child process. The scenarios every database must agree on run once per
dialect (SQLite always, PostgreSQL and MariaDB/MySQL when their URLs are set);
the ones that only exercise git run on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import server_url
from helpers_check import Repo
from helpers_check import Template
from helpers_check import add_branch_migration
from helpers_check import findings
from helpers_check import isolate_git
from helpers_check import line_of
from helpers_check import makemigrations
from helpers_check import migration_file
from helpers_check import models_source
from helpers_check import new_project
from helpers_check import run_check
from helpers_check import run_json
from helpers_check import status
from helpers_check import template as build_template
from helpers_check import write

# Slow: real git histories with branches and clones, then the checks on scratch databases.
# `pytest -m "not slow"` is the fast loop.
pytestmark = pytest.mark.slow

COLOR = "0005_product_color"
PHONE = "0005_customer_phone"
LEAF = "0004_product_name_index"


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory)


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


@pytest.fixture
def url(dialect: str) -> str | None:
    """The server to make scratch databases on (None: SQLite, the default)."""
    return server_url(dialect)


def _project(template: Template, tmp_path: Path) -> tuple[Repo, Path]:
    return new_project(template, tmp_path / "repo")


# -- once per dialect ------------------------------------------------------------------------------


def test_clean_branch_passes(template: Template, tmp_path: Path, url: str | None) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)
    repo.commit("product colours")

    code, report = run_json(project, "--base-ref", "main", url=url)

    assert code == 0, report
    assert report["ok"] is True
    assert [c["status"] for c in report["checks"]] == ["passed"] * 7
    assert report["findings"] == []
    assert report["summary"]["base_ref"] == "main"
    assert report["summary"]["database"] == ("sqlite" if url is None else url.split("+")[0])
    git_check = next(c for c in report["checks"] if c["name"] == "git")
    assert git_check["summary"].startswith("1 new migration since main")


def test_two_branches_numbering_0005_fail_until_merged(
    template: Template, tmp_path: Path, url: str | None
) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "colours")
    add_branch_migration(template, project, COLOR)
    repo.commit("product colours")
    repo.git("checkout", "-q", "-b", "phones", "main")
    add_branch_migration(template, project, PHONE)
    repo.commit("customer phones")
    repo.git("checkout", "-q", "colours")
    repo.git("merge", "-q", "--no-edit", "phones")  # both model edits merge without a conflict

    code, report = run_json(project, "--base-ref", "main", url=url)

    assert code == 1
    assert status(report, "graph") == "failed"
    (fork,) = [f for f in findings(report, "graph") if f["severity"] == "error"]
    assert fork["code"] == "MC204"
    # Both branches' migrations, where they forked, and the fix.
    assert COLOR in fork["message"] and PHONE in fork["message"]
    assert f"forked after {LEAF}" in fork["message"]
    assert "branch 1: 0005_customer_phone" in fork["message"]
    assert "branch 2: 0005_product_color" in fork["message"]
    assert "migrate-core makemigrations --merge shop" in fork["message"]
    assert fork["file"] == f"shop/migrations/{COLOR}.py"
    assert fork["line"] is not None
    # While forked, the twin numbers are a warning too; the "current" models state is
    # ambiguous, so the missing-migration check stands aside.
    twins = [f for f in findings(report, "graph") if f["severity"] == "warning"]
    assert [f["code"] for f in twins] == ["MC205"]
    assert [f["message"] for f in twins] == [
        f"shop has 2 migrations numbered 0005: {PHONE}, {COLOR}"
    ]
    assert status(report, "missing") == "skipped"

    makemigrations(project, "--merge")
    merged = sorted((project / "shop" / "migrations").glob("0006_*.py"))
    assert len(merged) == 1
    repo.commit("merge migration")

    code, report = run_json(project, "--base-ref", "main", url=url)

    assert code == 0, report["findings"]
    assert report["findings"] == []
    assert [c["status"] for c in report["checks"]] == ["passed"] * 7


def test_migration_changed_after_it_was_on_the_base_branch(
    template: Template, tmp_path: Path, url: str | None
) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    path = project / "shop" / "migrations" / "0002_orders.py"
    # An edit that changes nothing the other checks can see: only git knows.
    path.write_text(path.read_text(encoding="utf-8") + "# tidied up\n", encoding="utf-8")
    repo.commit("tidy a migration")

    run = run_check(project, "--base-ref", "main", url=url)

    assert run.returncode == 1, run.output
    assert "✖ git integrity" in run.stdout
    assert "shop/migrations/0002_orders.py was changed on this branch" in run.stdout
    assert "exists on main" in run.stdout
    report = run.report
    (finding,) = report["findings"]
    assert finding["check"] == "git"
    assert finding["code"] == "MC402"
    assert finding["severity"] == "error"
    assert finding["file"] == "shop/migrations/0002_orders.py"
    assert finding["migration"] == "0002_orders"
    assert finding["app"] == "shop"
    assert finding["line"] == 1
    assert [c["status"] for c in report["checks"] if c["name"] != "git"] == ["passed"] * 6


def test_shallow_clone_fetches_the_base_branch(
    template: Template, tmp_path: Path, url: str | None
) -> None:
    origin, project = _project(template, tmp_path)
    origin.write("README.md", "the shop\n")
    origin.commit("readme")
    origin.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)
    origin.commit("product colours")
    origin.write("NOTES.md", "colours\n")
    origin.commit("notes")
    # What actions/checkout does by default: one commit, one branch, no main.
    clone = Repo.clone(f"file://{origin.root}", tmp_path / "clone", "--depth", "1", "-b", "feature")
    assert clone.git("rev-parse", "--is-shallow-repository") == "true"
    assert clone.git("branch", "-r", "--list", "origin/main") == ""

    code, report = run_json(clone.root, "--base-ref", "main", url=url)

    assert code == 0, report["findings"]
    assert status(report, "git") == "passed"
    git_check = next(c for c in report["checks"] if c["name"] == "git")
    assert git_check["summary"].startswith("1 new migration since main")
    # The base was fetched into origin/main, and the fork point is now in the history.
    assert clone.git("rev-parse", "origin/main") == origin.git("rev-parse", "main")
    assert clone.git("merge-base", "HEAD", "origin/main") == origin.git("rev-parse", "main")


# -- git only: SQLite ------------------------------------------------------------------------------


def test_shallow_clone_with_the_base_branch_is_deepened(template: Template, tmp_path: Path) -> None:
    origin, project = _project(template, tmp_path)
    origin.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)
    origin.commit("product colours")
    for n in range(3):
        origin.write("NOTES.md", f"note {n}\n")
        origin.commit(f"note {n}")
    # origin/main is here, but at depth 1 the fork point is not: deepen until found.
    clone = Repo.clone(
        f"file://{origin.root}",
        tmp_path / "clone",
        "--depth",
        "1",
        "--no-single-branch",
        "-b",
        "feature",
    )
    assert clone.git("rev-list", "--count", "HEAD") == "1"

    code, report = run_json(clone.root, "--base-ref", "main")

    assert code == 0, report["findings"]
    git_check = next(c for c in report["checks"] if c["name"] == "git")
    assert git_check["summary"].startswith("1 new migration since main")
    assert int(clone.git("rev-list", "--count", "HEAD")) > 1


def test_shallow_clone_that_cannot_fetch_fails_loudly(template: Template, tmp_path: Path) -> None:
    origin, project = _project(template, tmp_path)
    origin.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)
    origin.commit("product colours")
    clone = Repo.clone(f"file://{origin.root}", tmp_path / "clone", "--depth", "1", "-b", "feature")
    clone.git("remote", "set-url", "origin", f"file://{tmp_path / 'gone'}")

    run = run_check(clone.root, "--base-ref", "main")

    assert run.returncode == 1, run.output
    assert "✖ git integrity" in run.stdout
    assert "'main'" in run.stdout
    assert "fetch-depth: 0" in run.stdout  # the fix, spelled out
    report = run.report
    (finding,) = findings(report, "git")
    assert finding["code"] == "MC401"
    assert finding["severity"] == "error"
    # Without a base, new migrations cannot be told from old ones: said, not passed.
    assert status(report, "destructive") == "skipped"


def test_migration_deleted_on_the_branch(template: Template, tmp_path: Path) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("rm", "-q", "shop/migrations/0004_product_name_index.py")
    (project / "shop" / "models.py").write_text(models_source(3), encoding="utf-8")
    repo.commit("drop a migration")

    code, report = run_json(project, "--base-ref", "main")

    assert code == 1
    (finding,) = report["findings"]
    assert finding["check"] == "git"
    assert finding["file"] == "shop/migrations/0004_product_name_index.py"
    assert finding["code"] == "MC403"
    assert "was deleted on this branch" in finding["message"]


def test_branch_behind_the_base_branch(template: Template, tmp_path: Path) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)
    repo.commit("product colours")
    repo.git("checkout", "-q", "main")
    add_branch_migration(template, project, PHONE)
    repo.commit("customer phones, merged on main meanwhile")
    repo.git("checkout", "-q", "feature")

    code, report = run_json(project, "--base-ref", "main")

    assert code == 1
    (finding,) = report["findings"]
    assert finding["check"] == "git"
    assert finding["migration"] == COLOR
    assert finding["code"] == "MC404"
    assert finding["file"] == f"shop/migrations/{COLOR}.py"
    assert f"builds on {LEAF}" in finding["message"]
    assert f"latest shop migration on main is {PHONE}" in finding["message"]
    assert "the branch is behind" in finding["message"]
    assert "makemigrations --merge shop" in finding["message"]


def test_uncommitted_new_migration_counts_as_new(template: Template, tmp_path: Path) -> None:
    # Run before committing, as a developer would: the fresh file is new, not unknown.
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)

    code, report = run_json(project, "--base-ref", "main")

    assert code == 0, report["findings"]
    git_check = next(c for c in report["checks"] if c["name"] == "git")
    assert git_check["summary"].startswith("1 new migration since main")


def test_base_ref_from_github_actions_environment(template: Template, tmp_path: Path) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    path = project / "shop" / "migrations" / "0001_initial.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    repo.commit("whitespace")

    # GITHUB_BASE_REF counts only inside GitHub Actions.
    code, report = run_json(project, env={"GITHUB_BASE_REF": "main"})
    assert code == 0
    assert status(report, "git") == "skipped"

    code, report = run_json(project, env={"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main"})
    assert code == 1
    assert report["summary"]["base_ref"] == "main"
    assert [f["file"] for f in findings(report, "git")] == ["shop/migrations/0001_initial.py"]


def test_without_a_base_the_git_checks_are_skipped_with_a_note(
    template: Template, tmp_path: Path
) -> None:
    _repo, project = _project(template, tmp_path)

    run = run_check(project)

    assert run.returncode == 0
    assert "- git integrity     skipped: no base branch (pass --base-ref" in run.stdout
    assert "- destructive       skipped: no base branch" in run.stdout
    assert status(run.report, "git") == "skipped"
    assert "--base-ref" in next(c for c in run.report["checks"] if c["name"] == "git")["summary"]


def test_unknown_base_ref_is_an_error_not_a_pass(template: Template, tmp_path: Path) -> None:
    _repo, project = _project(template, tmp_path)

    code, report = run_json(project, "--base-ref", "no-such-branch")

    assert code == 1
    (finding,) = findings(report, "git")
    assert finding["code"] == "MC401"
    assert "no-such-branch" in finding["message"]


def test_destructive_operations_in_new_migrations_are_warnings(
    template: Template, tmp_path: Path
) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    (project / "shop" / "models.py").write_text(models_source(description=False), encoding="utf-8")
    path = write(
        project / "shop" / "migrations" / "0005_drop_description.py",
        migration_file('migrations.RemoveField("product", "description"),', LEAF),
    )
    repo.commit("no more descriptions")

    code, report = run_json(project, "--base-ref", "main")

    assert code == 0  # warnings alone pass...
    (finding,) = report["findings"]
    assert finding["check"] == "destructive"
    assert finding["code"] == "MC101"
    assert finding["severity"] == "warning"
    assert finding["migration"] == "0005_drop_description"
    assert finding["file"] == "shop/migrations/0005_drop_description.py"
    assert finding["line"] == line_of(path, 'RemoveField("product", "description")')
    assert "product.description" in finding["message"] and "lost" in finding["message"]

    assert run_check(project, "--base-ref", "main", "--strict").returncode == 1  # ...unless strict

    # Once on the base branch the same migration is history: nothing to warn about.
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "feature")
    code, report = run_json(project, "--base-ref", "main")
    assert code == 0
    assert report["findings"] == []


def test_github_output_in_a_subfolder_of_the_repository(template: Template, tmp_path: Path) -> None:
    repo, project = new_project(template, tmp_path / "repo", subfolder="services/shop")
    repo.git("checkout", "-q", "-b", "feature")
    old = project / "shop" / "migrations" / "0002_orders.py"
    old.write_text(old.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (project / "shop" / "models.py").write_text(models_source(description=False), encoding="utf-8")
    write(
        project / "shop" / "migrations" / "0005_drop_description.py",
        migration_file('migrations.RemoveField("product", "description"),', LEAF),
    )
    repo.commit("feature")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")

    run = run_check(
        project,
        "--format",
        "github",
        "--base-ref",
        "main",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )

    assert run.returncode == 1, run.output
    assert run.stderr == ""  # no progress outside a terminal
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::")]
    # GitHub resolves annotation paths from the repository root, not the project folder.
    assert annotations == [
        "::error file=services/shop/shop/migrations/0002_orders.py,line=1,title=git integrity MC402::"
        "services/shop/shop/migrations/0002_orders.py was changed on this branch, but it exists on "
        "main, where it may already be applied to a database; leave it as it is and put the change "
        "in a new migration",
        "::warning file=services/shop/shop/migrations/0005_drop_description.py,line=9,"
        "title=destructive MC101::drops column product.description (its data is lost)",
    ]
    # The same paths in the JSON report.
    assert [f["file"] for f in run.report["findings"]] == [
        "services/shop/shop/migrations/0002_orders.py",
        "services/shop/shop/migrations/0005_drop_description.py",
    ]
    # The job summary is appended: checks, findings, and the graph with the new migration marked.
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## check-migrations\n")
    assert "| ✖ | git integrity | 1 finding |" in text
    assert "| ⚠ | destructive | 1 finding |" in text
    assert "| ✔ | reversibility |" in text
    assert "`services/shop/shop/migrations/0002_orders.py:1`" in text
    assert "### Migrations of shop" in text
    mermaid = text.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines()
    assert mermaid[0] == "graph TD"
    assert '  m4["0005_drop_description"]' in mermaid
    assert "  m3 --> m4" in mermaid
    assert mermaid[-1] == "  class m4 new"


def test_every_kind_of_data_loss_is_named(template: Template, tmp_path: Path) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    path = write(
        project / "shop" / "migrations" / "0005_changes.py",
        migration_file(
            """
            migrations.AddField("orders", sa.Column("code", sa.String(length=10), nullable=False)),
            migrations.AlterField("product", sa.Column("name", sa.String(length=50), nullable=False)),
            migrations.RemoveField("customer", "full_name"),
            migrations.DeleteModel("orders"),
            """,
            LEAF,
        ),
    )
    repo.commit("lossy")

    # The models were not changed to match: only the data loss is of interest here. On
    # tables with rows these changes also fail the reversibility check (MC506, test_fills).
    code, report = run_json(
        project,
        "--base-ref",
        "main",
        *("--skip", "missing", "--skip", "drift", "--skip", "reversibility"),
    )

    assert code == 0, report["findings"]
    assert [f["code"] for f in report["findings"]] == ["MC104", "MC103", "MC101", "MC102"]
    assert [(f["severity"], f["line"], f["message"]) for f in report["findings"]] == [
        (
            "warning",
            line_of(path, "AddField"),
            "adds NOT NULL column orders.code without a default: fails on a table that has rows",
        ),
        (
            "warning",
            line_of(path, "AlterField"),
            "narrows column product.name (VARCHAR(200) -> VARCHAR(50)): values that do not fit "
            "are cut or rejected",
        ),
        (
            "warning",
            line_of(path, "RemoveField"),
            "drops column customer.full_name (its data is lost)",
        ),
        ("warning", line_of(path, "DeleteModel"), "drops table orders (all its rows are lost)"),
    ]


def test_not_null_without_default_and_accepting_a_finding(
    template: Template, tmp_path: Path
) -> None:
    repo, project = _project(template, tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    path = write(
        project / "shop" / "migrations" / "0005_required.py",
        migration_file(
            """
            migrations.AlterField("product", sa.Column("description", sa.Text(), nullable=False)),
            migrations.RemoveField("customer", "full_name"),
            """,
            LEAF,
        ),
    )
    repo.commit("required descriptions")
    # Without a fill these fail on tables with rows (MC506, test_fills); here only the
    # destructive check's warnings and their acceptance are of interest.
    args = ("--base-ref", "main", "--skip", "missing", "--skip", "drift", "--skip", "reversibility")

    code, report = run_json(project, *args)

    assert code == 0, report["findings"]
    assert [(f["code"], f["severity"], f["line"], f["message"]) for f in report["findings"]] == [
        (
            "MC105",
            "warning",
            line_of(path, "AlterField"),
            "makes column product.description NOT NULL without a default: "
            "fails if any row holds NULL",
        ),
        (
            "MC101",
            "warning",
            line_of(path, "RemoveField"),
            "drops column customer.full_name (its data is lost)",
        ),
    ]

    # The migration means to drop the column: that finding becomes an accepted note,
    # the other stays a warning.
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    operations = (", '    accept = ("MC101",)\n\n    operations = ('
        ),
        encoding="utf-8",
    )
    run = run_check(project, *args, "--format", "github")
    assert run.returncode == 0, run.output
    assert [(f["code"], f["severity"], f["accepted"]) for f in run.report["findings"]] == [
        ("MC105", "warning", False),
        ("MC101", "note", True),
    ]
    assert (
        f"::notice file=shop/migrations/0005_required.py,line={line_of(path, 'RemoveField')},"
        "title=destructive MC101::drops column customer.full_name (its data is lost) (accepted)"
    ) in run.stdout.splitlines()
    assert run.stdout.splitlines()[-1].startswith("no errors, 1 warning, 1 accepted (")
    # Warnings fail a strict run; the accepted note does not.
    path.write_text(
        path.read_text(encoding="utf-8").replace('("MC101",)', '("MC101", "MC105")'),
        encoding="utf-8",
    )
    run = run_check(project, *args, "--strict")
    assert run.returncode == 0, run.output
    assert "✔ destructive       shop/migrations/0005_required.py:" in run.stdout
    assert "MC105 makes column product.description NOT NULL" in run.stdout


def test_pull_request_merge_commit_in_a_shallow_checkout(
    template: Template, tmp_path: Path
) -> None:
    # What actions/checkout does for pull_request events: fetch refs/pull/N/merge (the PR
    # merged into the base) at depth 1 and check it out detached. Main moved on meanwhile.
    origin, project = _project(template, tmp_path)
    origin.git("checkout", "-q", "-b", "feature")
    add_branch_migration(template, project, COLOR)
    origin.commit("product colours")
    origin.git("checkout", "-q", "main")
    for n in range(3):
        origin.write("NOTES.md", f"note {n}\n")
        origin.commit(f"note {n}")
    origin.git("checkout", "-q", "--detach", "main")
    origin.git("merge", "-q", "--no-edit", "feature")
    origin.git("update-ref", "refs/pull/1/merge", "HEAD")
    origin.git("checkout", "-q", "main")
    clone = Repo.init(tmp_path / "clone")
    clone.git("remote", "add", "origin", f"file://{origin.root}")
    clone.git(
        "fetch",
        "-q",
        "--no-tags",
        "--depth=1",
        "origin",
        "+refs/pull/1/merge:refs/remotes/pull/1/merge",
    )
    clone.git("checkout", "-q", "--detach", "refs/remotes/pull/1/merge")

    code, report = run_json(clone.root, env={"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main"})

    assert code == 0, report["findings"]
    git_check = next(c for c in report["checks"] if c["name"] == "git")
    assert git_check["summary"].startswith("1 new migration since main")
