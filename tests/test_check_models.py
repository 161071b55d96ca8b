"""check-migrations reports models no database can create as findings on the model's line.

makemigrations refuses such models with exit 2 (tests/test_validate.py); in CI the
same problems must be findings (exit 1) that name the file and line, the model, the
table, the index or key, and the fix, in text, JSON and GitHub formats, in
``check-migrations`` and in the check hook. Each test copies the shop project
(migrations 0001-0004) into a real git repository and runs the real commands in a
child process. No database is needed for these rules: the configured database's URL
only decides which database's rules apply, and it is never connected to.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers_check import BIN
from helpers_check import Template
from helpers_check import child_env
from helpers_check import findings
from helpers_check import git
from helpers_check import isolate_git
from helpers_check import line_of
from helpers_check import new_project
from helpers_check import run_check
from helpers_check import status
from helpers_check import template as build_template

from migrate_core.checks import models as models_check
from migrate_core.checks.registry import RULES
from migrate_core.schema import validate as v
from migrate_core.usecases import worker


@pytest.fixture
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory)


@pytest.fixture
def project(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(tmp_path, monkeypatch)
    _repo, root = new_project(template, tmp_path / "repo")
    return root


def _edit_models(root: Path, old: str, new: str) -> Path:
    models = root / "shop" / "models.py"
    text = models.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in the shop's models"
    models.write_text(text.replace(old, new, 1), encoding="utf-8")
    return models


def _set_database(root: Path, url: str) -> None:
    """The project's configured database (only its dialect matters: never connected to)."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("[tool.migrate-core]\n", f'[tool.migrate-core]\ndatabase-url = "{url}"\n', 1),
        encoding="utf-8",
    )


CUSTOMER = '    __tablename__ = "customer"\n'
FUTURE = "from __future__ import annotations\n"


def _add_import(models: Path, line: str) -> None:
    text = models.read_text(encoding="utf-8")
    models.write_text(text.replace(FUTURE, FUTURE + line + "\n", 1), encoding="utf-8")


def _index_without_columns(root: Path) -> Path:
    models = _edit_models(
        root, CUSTOMER, CUSTOMER + '    __table_args__ = (sa.Index("ix_customer_nothing"),)\n'
    )
    _add_import(models, "import sqlalchemy as sa")
    return models


def test_an_index_without_columns_is_a_finding_on_the_model_line(project: Path) -> None:
    models = _index_without_columns(project)
    line = line_of(models, "class Customer(")
    run = run_check(project, "--no-database")
    assert run.returncode == 1, run.output
    assert "Traceback" not in run.output

    (finding,) = findings(run.report, "models")
    assert finding["code"] == v.INDEX_WITHOUT_COLUMNS
    assert finding["severity"] == "error"
    assert finding["file"] == "shop/models.py" and finding["line"] == line
    assert "model Customer (table customer)" in finding["message"]
    assert "ix_customer_nothing" in finding["message"]
    assert any(d.startswith("fix: name the columns") for d in finding["details"])
    assert status(run.report, "models") == "failed"

    # Text: the place, the code, the model and the fix; what needs the models' plan waits.
    assert (
        f"✖ model validation  shop/models.py:{line}  MV001 model Customer (table customer)"
        in run.stdout
    )
    assert "    fix: name the columns in the Index(...) or remove it" in run.stdout
    assert "missing migration skipped: the models declare what no database can create" in (
        run.stdout
    )
    assert status(run.report, "missing") == "skipped"

    github = run_check(project, "--no-database", "--format", "github")
    assert github.returncode == 1
    assert (
        f"::error file=shop/models.py,line={line},title=model validation MV001::"
        "model Customer (table customer): index ix_customer_nothing" in github.stdout
    )


def test_a_foreign_key_to_no_table_names_the_key_and_the_fix(project: Path) -> None:
    models = _edit_models(
        project,
        "    full_name: Mapped[str] = mapped_column(String(100))\n",
        "    full_name: Mapped[str] = mapped_column(String(100))\n"
        '    region_id: Mapped[int] = mapped_column(Integer, ForeignKey("region.id"))\n',
    )
    _add_import(models, "from sqlalchemy import Integer")
    run = run_check(project, "--no-database")
    assert run.returncode == 1, run.output
    (finding,) = findings(run.report, "models")
    assert finding["code"] == v.FOREIGN_KEY_TO_UNKNOWN_TABLE
    assert finding["line"] == line_of(models, "class Customer(")
    assert "table customer" in finding["message"] and "region_id" in finding["message"]
    assert "refers to table region" in finding["message"]
    assert any("exclude-tables" in d for d in finding["details"])

    # Fixed the first way the finding offers: a model for region. The models can now be
    # planned, and what is left is the migration they need.
    models.write_text(
        models.read_text(encoding="utf-8")
        + '\n\nclass Region(Base):\n    __tablename__ = "region"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n",
        encoding="utf-8",
    )
    run = run_check(project, "--no-database")
    assert run.returncode == 1, run.output
    assert findings(run.report, "models") == []
    assert status(run.report, "models") == "passed"
    assert [f["code"] for f in findings(run.report, "missing")] == ["MC301"]


LONG = "x" * 64  # over PostgreSQL's 63 bytes, within MySQL's 64 characters


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("postgresql+psycopg://app@db.invalid/app", True),
        (None, True),  # no database configured: every database's limit holds
        ("mysql+pymysql://app@db.invalid/app", False),
        ("sqlite:///never_opened.db", False),
    ],
)
def test_a_name_too_long_follows_the_configured_database(
    project: Path, url: str | None, refused: bool
) -> None:
    if url is not None:
        _set_database(project, url)
    models = _edit_models(
        project,
        "    full_name: Mapped[str] = mapped_column(String(100))\n",
        "    full_name: Mapped[str] = mapped_column(String(100))\n"
        f'    long: Mapped[str | None] = mapped_column("{LONG}", String(10))\n',
    )
    run = run_check(project, "--no-database")
    assert run.returncode == 1, run.output
    found = findings(run.report, "models")
    if not refused:
        assert found == []
        assert [f["code"] for f in findings(run.report, "missing")] == ["MC301"]
        return
    (finding,) = found
    assert finding["code"] == v.NAME_TOO_LONG
    assert finding["line"] == line_of(models, "class Customer(")
    assert f"column {LONG}" in finding["message"]
    assert "PostgreSQL cuts names to 63 bytes (this one has 64)" in finding["message"]


def test_a_core_table_is_found_at_its_table_call(project: Path) -> None:
    models = project / "shop" / "models.py"
    _add_import(models, "import sqlalchemy as sa")
    text = models.read_text(encoding="utf-8")
    models.write_text(
        text + '\n\naudit = sa.Table(\n    "audit",\n    Base.metadata,\n'
        '    sa.Column("id", sa.Integer, primary_key=True),\n'
        '    sa.Index("ix_audit_nothing"),\n)\n',
        encoding="utf-8",
    )
    run = run_check(project, "--no-database")
    assert run.returncode == 1, run.output
    (finding,) = findings(run.report, "models")
    assert finding["code"] == v.INDEX_WITHOUT_COLUMNS
    assert finding["file"] == "shop/models.py"
    assert finding["line"] == line_of(models, "audit = sa.Table(")
    assert finding["message"].startswith("table audit: index ix_audit_nothing")


def test_clean_models_pass(project: Path) -> None:
    run = run_check(project, "--no-database")
    assert run.returncode == 0, run.output
    assert findings(run.report, "models") == []
    assert "✔ model validation  every model can be created" in run.stdout


def test_the_check_hook_reports_it_too(project: Path) -> None:
    models = _index_without_columns(project)
    git(project, "add", "shop/models.py")  # the hook checks what is staged
    proc = subprocess.run(
        [str(BIN / "migrate-core-hook"), "check", "shop/models.py"],
        cwd=project,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"shop/models.py:{line_of(models, 'class Customer(')}  MV001" in out
    assert "Traceback" not in out


def test_the_worker_carries_the_problems_as_data(project: Path) -> None:
    """With ``python = ...`` the models are planned in another interpreter: the problems
    come back with their codes, files and lines, not only as text."""
    models = _index_without_columns(project)
    from migrate_core.config import load_config

    config = load_config(str(project / "pyproject.toml"))
    request = worker.PlanRequest(pyproject=str(config.path), section=config.raw, mode="pending")
    proc = subprocess.run(
        [sys.executable, "-m", "migrate_core.usecases.worker"],
        input=request.to_json().encode(),
        capture_output=True,
        cwd=project,
        env=child_env(),
        check=False,
    )
    reply: Any = json.loads(proc.stdout.decode())
    from migrate_core.errors import ModelProblemsError

    with pytest.raises(ModelProblemsError) as raised:
        worker.answer_from_reply(reply)
    (problem,) = raised.value.problems
    assert isinstance(problem, v.Problem)
    assert (problem.code, problem.model, problem.path, problem.line) == (
        v.INDEX_WITHOUT_COLUMNS,
        "Customer",
        "shop/models.py",
        line_of(models, "class Customer("),
    )


def test_every_problem_code_is_a_rule_of_the_check() -> None:
    codes = {
        value
        for name, value in vars(v).items()
        if name.isupper() and isinstance(value, str) and value.startswith("MV")
    }
    assert codes == {rule.code for rule in models_check.RULES}
    assert all(RULES[code].severity == "error" for code in codes)
