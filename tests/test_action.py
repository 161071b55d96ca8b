"""The GitHub Action (action.yml), run locally the way the runner runs a composite action.

The steps are read from action.yml and their ``run:`` scripts executed with bash in
order, with ``${{ }}`` expressions in ``env:``/``working-directory:`` evaluated from
the inputs, and the ``GITHUB_*`` files pointing at temporary files. ``uses:`` steps
(actions/setup-python) are skipped: Python is already here. ``python -m pip`` is
intercepted by a stand-in ``python`` that records the command line instead of
installing anything; every other ``python`` call goes to the real interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import server_url
from helpers_check import BIN
from helpers_check import LOG_ENV
from helpers_check import Template
from helpers_check import child_env
from helpers_check import isolate_git
from helpers_check import migration_file
from helpers_check import models_source
from helpers_check import new_project
from helpers_check import scratch_databases
from helpers_check import template as build_template
from helpers_check import write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"

# Slow: the Action's bash steps end to end, each a check-migrations run.
# `pytest -m "not slow"` is the fast loop.
pytestmark = pytest.mark.slow
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
LEAF = "0004_product_name_index"

# Stands in for setup-python's ``python``: pip is recorded, not run; the rest is real Python.
PYTHON_SHIM = """\
#!{python}
import json
import os
import sys

if sys.argv[1:3] == ["-m", "pip"]:
    with open(os.environ["MC_TEST_PIP_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({{"cwd": os.getcwd(), "args": sys.argv[3:]}}) + "\\n")
    sys.exit(0)
os.execv({python!r}, [{python!r}, *sys.argv[1:]])
"""


def load_action() -> dict[str, Any]:
    with ACTION.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    pip: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)

    @property
    def last(self) -> StepRun:
        return self.steps[-1]


class LocalRunner:
    """Just enough of the Actions runner to run a composite action's bash steps."""

    def __init__(self, workspace: Path, scratch: Path) -> None:
        self.workspace = workspace
        self.scratch = scratch
        self.action = load_action()
        shims = scratch / "bin"
        shims.mkdir(parents=True)
        shim = shims / "python"
        shim.write_text(PYTHON_SHIM.format(python=sys.executable), encoding="utf-8")
        shim.chmod(0o755)
        self.path = os.pathsep.join([str(shims), str(BIN), os.environ.get("PATH", "")])

    def inputs(self, given: dict[str, str]) -> dict[str, str]:
        declared = self.action["inputs"]
        unknown = set(given) - set(declared)
        assert not unknown, f"not inputs of the action: {unknown}"
        return {
            name: str(given.get(name, spec.get("default", ""))) for name, spec in declared.items()
        }

    def evaluate(
        self, text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]
    ) -> str:
        def value(match: re.Match[str]) -> str:
            return self.value_of(match.group(1), inputs, outputs)

        return EXPRESSION.sub(value, str(text))

    def value_of(
        self, expression: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]
    ) -> str:
        parts = expression.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return inputs[parts[1]]
        if parts == ["github", "action_path"]:
            return str(ROOT)
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return outputs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"the local runner does not know ${{{{ {expression} }}}}")

    def condition(self, text: str, inputs: dict[str, str]) -> bool:
        """``if:`` as the action uses it: ``inputs.x != ''`` or ``inputs.x == ''``."""
        match = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*'([^']*)'\s*", text)
        assert match, f"the local runner does not understand if: {text}"
        left = self.value_of(match.group(1), inputs, {})
        return (left == match.group(3)) == (match.group(2) == "==")

    def run(self, given: dict[str, str], env: dict[str, str] | None = None) -> ActionRun:
        inputs = self.inputs(given)
        summary = self.scratch / "step_summary.md"
        pip_log = self.scratch / "pip.log"
        temp = self.scratch / "runner_temp"
        temp.mkdir(exist_ok=True)
        base = child_env(
            {
                "PATH": self.path,
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_ACTION_PATH": str(ROOT),
                "GITHUB_STEP_SUMMARY": str(summary),
                "RUNNER_TEMP": str(temp),
                "MC_TEST_PIP_LOG": str(pip_log),
                **(env or {}),
            }
        )
        outputs: dict[str, dict[str, str]] = {}
        result = ActionRun([], {}, "", [])
        for number, step in enumerate(self.action["runs"]["steps"]):
            name = step.get("name", f"step {number}")
            if "if" in step and not self.condition(step["if"], inputs):
                result.skipped.append(name)
                continue
            if "uses" in step:
                result.skipped.append(name)
                continue
            step_output = self.scratch / f"output_{number}"
            step_output.write_text("", encoding="utf-8")
            script = self.scratch / f"step_{number}.sh"
            script.write_text(step["run"], encoding="utf-8")
            step_env = {
                k: self.evaluate(v, inputs, outputs) for k, v in step.get("env", {}).items()
            }
            cwd = self.workspace / self.evaluate(
                step.get("working-directory", "."), inputs, outputs
            )
            proc = subprocess.run(
                # How the runner starts ``shell: bash``.
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=cwd,
                env={**base, **step_env, "GITHUB_OUTPUT": str(step_output)},
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
            result.steps.append(StepRun(name, proc.returncode, proc.stdout, proc.stderr))
            outputs[step.get("id", f"step{number}")] = parse_output_file(step_output)
            if proc.returncode != 0:
                break
        result.outputs = {
            name: self.evaluate(spec["value"], inputs, outputs)
            for name, spec in self.action["outputs"].items()
        }
        result.summary = summary.read_text(encoding="utf-8") if summary.exists() else ""
        if pip_log.exists():
            result.pip = [json.loads(line) for line in pip_log.read_text().splitlines()]
        return result


def parse_output_file(path: Path) -> dict[str, str]:
    """``name=value`` lines, and ``name<<DELIMITER`` blocks, as the runner reads them."""
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        out[name] = value
        i += 1
    return out


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory)


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)


# -- the file itself ---------------------------------------------------------------------------------


def test_action_yml_is_a_well_formed_composite_action() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert set(inputs) >= {
        "database-url",
        "base-ref",
        "working-directory",
        "python-version",
        "extras",
        "args",
    }
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert spec.get("required", False) is False, name
    steps = action["runs"]["steps"]
    ids = {s["id"] for s in steps if "id" in s}
    for step in steps:
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@v"), step
            assert "run" not in step
            continue
        # A composite action's run steps must name their shell.
        assert step.get("shell") == "bash", step
        # Inputs reach scripts through env:, never pasted into the script text.
        assert "${{" not in step["run"], step["name"]
        for value in [*step.get("env", {}).values(), step.get("working-directory", "")]:
            for expression in EXPRESSION.findall(str(value)):
                head, _, rest = expression.partition(".")
                assert head in ("inputs", "github"), expression
                if head == "inputs":
                    assert rest in inputs, expression
    # Every output comes from a step that exists, written through $GITHUB_OUTPUT.
    assert "report" in action["outputs"]
    for spec in action["outputs"].values():
        (expression,) = EXPRESSION.findall(spec["value"])
        _steps, step_id, _outputs, name = expression.split(".")
        assert step_id in ids
        step = next(s for s in steps if s.get("id") == step_id)
        assert f'echo "{name}=' in step["run"] and '>> "$GITHUB_OUTPUT"' in step["run"]
    installs = [s for s in steps if "github.action_path" in json.dumps(s.get("env", {}))]
    assert installs, "migrate-core must be installed from the action's own checkout"


def test_extras_the_action_documents_exist() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        extras = set(tomllib.load(f)["project"]["optional-dependencies"])
    description = load_action()["inputs"]["extras"]["description"]
    assert {"postgres", "mysql"} <= extras
    assert "postgres" in description and "mysql" in description


# -- running it --------------------------------------------------------------------------------------


def _feature_branch(template: Template, workspace: Path) -> Path:
    """The shop in services/shop of a repository, on a branch with one error and one warning."""
    repo, project = new_project(template, workspace, subfolder="services/shop")
    repo.git("checkout", "-q", "-b", "feature")
    old = project / "shop" / "migrations" / "0002_orders.py"
    old.write_text(old.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (project / "shop" / "models.py").write_text(models_source(description=False), encoding="utf-8")
    write(
        project / "shop" / "migrations" / "0005_drop_description.py",
        migration_file('migrations.RemoveField("product", "description"),', LEAF),
    )
    repo.commit("feature")
    return project


def test_action_reports_findings_as_annotations_summary_and_json(
    template: Template, tmp_path: Path, dialect: str
) -> None:
    url = server_url(dialect)
    workspace = tmp_path / "workspace"
    _feature_branch(template, workspace)
    runner = LocalRunner(workspace, tmp_path / "runner")
    log = tmp_path / "connections.log"
    given = {
        "working-directory": "services/shop",
        "extras": "postgres,mysql",
        "args": "--skip destructive --app 'shop'",
    }
    if url is not None:
        given["database-url"] = url

    run = runner.run(given, env={"GITHUB_BASE_REF": "main", LOG_ENV: str(log)})

    assert [s.name for s in run.steps] == [
        "Install migrate-core",
        "Install the project",
        "Check the migrations",
    ]
    assert run.skipped == ["Set up Python"]  # a uses: step; Python is already here
    assert [s.returncode for s in run.steps[:2]] == [0, 0], run.steps
    # migrate-core from the action's own checkout, with the driver extras.
    assert run.pip[0] == {
        "cwd": str(workspace),
        "args": [
            "install",
            "--disable-pip-version-check",
            "--quiet",
            f"{ROOT}[postgres,mysql]",
        ],
    }
    # The project has a pyproject.toml, but only for [tool.migrate-core]: nothing to install.
    assert len(run.pip) == 1
    assert "nothing to install" in run.steps[1].stdout

    check = run.last
    assert check.returncode == 1, check.stdout + check.stderr
    annotations = [line for line in check.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=services/shop/shop/migrations/0002_orders.py,line=1,title=git integrity MC402::"
        "services/shop/shop/migrations/0002_orders.py was changed on this branch, but it exists on "
        "main, where it may already be applied to a database; leave it as it is and put the change "
        "in a new migration",
    ]
    # The job summary: the table of checks, the findings, and the graph with the new migration.
    assert "## check-migrations" in run.summary
    assert "| ✖ | git integrity | 1 finding |" in run.summary
    assert "| - | destructive | skipped |" in run.summary  # from args
    assert "### Findings" in run.summary
    assert "```mermaid\ngraph TD\n" in run.summary
    assert '  m4["0005_drop_description"]' in run.summary
    assert "  class m4 new" in run.summary
    # The outputs: where the JSON report is, and how the check ended.
    assert run.outputs["exit-code"] == "1"
    report_path = Path(run.outputs["report"])
    assert report_path.is_absolute()
    assert report_path.is_relative_to(tmp_path / "runner" / "runner_temp")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] is False
    assert report["summary"]["base_ref"] == "main"
    assert report["summary"]["database"] == dialect
    assert [(f["check"], f["file"]) for f in report["findings"]] == [
        ("git", "services/shop/shop/migrations/0002_orders.py")
    ]
    # database-url reached the check: the scratch databases were made where it said.
    scratch = scratch_databases(log)
    assert len(scratch) == 2
    if url is None:
        assert all(s.endswith(".db") for s in scratch)
    else:
        assert all(s.startswith("mc_scratch_") for s in scratch)


def test_action_passes_a_clean_branch(template: Template, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    new_project(template, workspace)
    runner = LocalRunner(workspace, tmp_path / "runner")

    run = runner.run({"base-ref": "main"})

    assert run.last.returncode == 0, run.last.stdout + run.last.stderr
    assert run.outputs["exit-code"] == "0"
    assert [line for line in run.last.stdout.splitlines() if line.startswith("::")] == []
    report = json.loads(Path(run.outputs["report"]).read_text(encoding="utf-8"))
    assert report["ok"] is True
    assert report["summary"]["base_ref"] == "main"
    assert "| ✔ | git integrity |" in run.summary


@pytest.mark.parametrize(
    ("files", "install", "expected"),
    [
        (
            {"pyproject.toml": '[project]\nname = "shop"\nversion = "1"\n'},
            "auto",
            ["install", "--disable-pip-version-check", "--quiet", "."],
        ),
        (
            {"requirements.txt": "sqlalchemy\n"},
            "auto",
            ["install", "--disable-pip-version-check", "--quiet", "-r", "requirements.txt"],
        ),
        ({"requirements.txt": "sqlalchemy\n"}, "none", None),
        ({}, "auto", None),
    ],
    ids=["pyproject-project", "requirements", "none", "nothing-to-install"],
)
def test_how_the_project_is_installed(
    tmp_path: Path, files: dict[str, str], install: str, expected: list[str] | None
) -> None:
    workspace = tmp_path / "workspace"
    for name, text in files.items():
        write(workspace / "app" / name, text)
    (workspace / "app").mkdir(parents=True, exist_ok=True)
    runner = LocalRunner(workspace, tmp_path / "runner")
    runner.action["runs"]["steps"] = [
        s for s in runner.action["runs"]["steps"] if s.get("name") == "Install the project"
    ]

    run = runner.run({"working-directory": "app", "install": install})

    assert run.last.returncode == 0, run.last.stderr
    if expected is None:
        assert run.pip == []
    else:
        assert run.pip == [{"cwd": str(workspace / "app"), "args": expected}]


def test_a_custom_install_command_runs_in_the_working_directory(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "app").mkdir(parents=True)
    runner = LocalRunner(workspace, tmp_path / "runner")
    runner.action["runs"]["steps"] = [
        s for s in runner.action["runs"]["steps"] if s.get("name") == "Install the project"
    ]

    run = runner.run({"working-directory": "app", "install": "echo installed > marker"})

    assert run.last.returncode == 0, run.last.stderr
    assert (workspace / "app" / "marker").read_text() == "installed\n"


@pytest.mark.parametrize(
    ("name", "value", "code", "shown"),
    [
        ("base-ref", "$(touch {marker})", 1, "'$(touch {marker})' is not a valid git revision"),
        ("database-url", "`touch {marker}`", 2, "not a database URL: `touch {marker}`"),
        ("args", "--strict '$(touch {marker})'; touch {marker}", 2, "unexpected extra arguments"),
        ("working-directory", ".", 0, ""),
    ],
    ids=["base-ref", "database-url", "args", "harmless"],
)
def test_inputs_are_data_not_code(
    template: Template, tmp_path: Path, name: str, value: str, code: int, shown: str
) -> None:
    workspace = tmp_path / "workspace"
    new_project(template, workspace)
    runner = LocalRunner(workspace, tmp_path / "runner")
    marker = tmp_path / "pwned"

    run = runner.run({name: value.format(marker=marker)})

    assert not marker.exists()
    # The odd values arrive verbatim, as data: check-migrations says what is wrong with them.
    assert run.last.returncode == code, run.last.stdout + run.last.stderr
    assert run.outputs["exit-code"] == str(code)
    assert shown.format(marker=marker) in run.last.stdout + run.last.stderr


def test_a_configuration_error_still_leaves_a_report_and_an_annotation(
    template: Template, tmp_path: Path
) -> None:
    """Exit 2 (the check never ran) is on the pull request too, and the URL, which reaches
    the check through the environment, not the command line, shows with its password masked."""
    workspace = tmp_path / "workspace"
    new_project(template, workspace)
    runner = LocalRunner(workspace, tmp_path / "runner")
    check = next(s for s in runner.action["runs"]["steps"] if s.get("id") == "check")
    assert "--database-url" not in check["run"]
    assert check["env"]["MIGRATE_CORE_CHECK_DATABASE_URL"] == "${{ inputs.database-url }}"

    run = runner.run({"database-url": "postgresql:/app:S3cr3t@db.internal/app"})

    assert run.last.returncode == 2, run.last.stdout + run.last.stderr
    assert run.outputs["exit-code"] == "2"
    annotations = [line for line in run.last.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error title=check-migrations::migrate-core: ")
    assert "postgresql:/app:***@db.internal/app" in annotations[0]
    report_text = Path(run.outputs["report"]).read_text(encoding="utf-8")
    report = json.loads(report_text)
    assert report["ok"] is False and report["exit_code"] == 2
    assert "postgresql:/app:***@db.internal/app" in report["error"]
    for text in (run.last.stdout, run.last.stderr, report_text, run.summary):
        assert "S3cr3t" not in text


def test_the_default_python_is_the_one_on_path() -> None:
    """setup-python would replace the job's Python for every later step: only on request."""
    action = load_action()
    assert action["inputs"]["python-version"]["default"] == ""
    (setup,) = [s for s in action["runs"]["steps"] if "uses" in s]
    assert setup["if"] == "inputs.python-version != ''"


def _readme_yaml_blocks() -> list[Any]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_readme_snippets_name_revisions_that_exist_and_inputs_the_action_has() -> None:
    """Copied as written, the snippets must work: a tag that was never made does not."""
    tags = set(
        subprocess.run(
            ["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.split()
    )

    def exists(revision: str) -> bool:
        # No release is tagged yet: "main" is the branch this repository is developed on.
        return revision == "main" or revision in tags or re.fullmatch("[0-9a-f]{40}", revision)

    revisions: list[str] = []
    inputs = set(load_action()["inputs"])
    for block in _readme_yaml_blocks():
        if not isinstance(block, dict):
            continue
        for repo in block.get("repos", []):
            if "migrate-core" in str(repo.get("repo", "")):
                revisions.append(str(repo["rev"]))
        for job in block.get("jobs", {}).values():
            for step in job.get("steps", []):
                uses = str(step.get("uses", ""))
                if uses.split("@")[0].endswith("/migrate-core"):
                    revisions.append(uses.split("@", 1)[1])
                    assert set(step.get("with", {})) <= inputs, step
    assert len(revisions) >= 2, "the Pre-commit and Action snippets were not found"
    for revision in revisions:
        assert exists(revision), (
            f"the README pins migrate-core to {revision!r}, which does not exist"
        )
