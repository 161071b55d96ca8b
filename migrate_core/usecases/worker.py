"""Plan migrations inside the project's own interpreter.

A pre-commit hook runs in an isolated environment that has migrate-core and
SQLAlchemy but not the packages the models import. With ``python = ...`` in
``[tool.migrate-core]``, the hook runs this module with the project's
interpreter instead (``python -m migrate_core.usecases.worker``, migrate-core put on
its path): it imports the models there, diffs, and answers with the files to
write, as JSON. It needs only SQLAlchemy from that environment; the parent
process does the git work and the writing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from migrate_core.errors import ConfigError
from migrate_core.errors import MigrateCoreError
from migrate_core.errors import ModelImportError
from migrate_core.errors import QuestionRequired


def resolve_python(setting: str, root: Path) -> str:
    """The interpreter ``python = ...`` names: a path (relative to pyproject.toml's folder,
    ``$VARS`` expanded), or ``"venv"`` for the first of .venv, venv, env in that folder."""
    if setting == "venv":
        for name in (".venv", "venv", "env"):
            for candidate in (
                root / name / "bin" / "python",
                root / name / "Scripts" / "python.exe",
            ):
                if candidate.is_file():
                    return str(candidate)
        raise ConfigError(
            f'python = "venv" in {root / "pyproject.toml"}: no .venv, venv or env folder with an interpreter in {root}'
        )
    expanded = os.path.expandvars(os.path.expanduser(setting))
    path = Path(expanded)
    if not path.is_absolute() and (os.sep in expanded or "/" in expanded):
        path = root / path
    found = str(path) if path.is_absolute() else shutil.which(expanded)
    if not found or not Path(found).exists():
        raise ConfigError(
            f'python = "{setting}" in {root / "pyproject.toml"}: no such interpreter ({path})'
        )
    return found


def uses_other_python(python: str) -> bool:
    """Whether ``python`` belongs to another environment than the running interpreter.

    A virtualenv's ``bin/python`` is usually a symlink to the base interpreter, so
    resolving the file would make every venv built from one Python look like ours
    (and the models would be imported here, without the project's packages). A
    venv is the folder its interpreter lies in (``pyvenv.cfg`` sits above it):
    compare those folders instead.
    """
    try:
        theirs = Path(python).absolute().parent.resolve()
        mine = Path(sys.executable).absolute().parent.resolve()
    except OSError:
        return True
    return theirs != mine


def run_in(python: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run the worker under ``python`` and return its answer (raising its error, if any)."""
    package = Path(__file__).resolve().parent.parent  # migrate_core/, not usecases/
    with tempfile.TemporaryDirectory(prefix="migrate-core-worker-") as tmp:
        # Only migrate-core itself goes on the path, not the rest of our environment: the
        # project's interpreter brings its own SQLAlchemy and the models' dependencies.
        link = Path(tmp) / "migrate_core"
        try:
            link.symlink_to(package, target_is_directory=True)
        except OSError:
            shutil.copytree(package, link)
        env = dict(os.environ)
        env["PYTHONPATH"] = tmp + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        proc = subprocess.run(
            [python, "-m", "migrate_core.usecases.worker"],
            input=json.dumps(request).encode(),
            capture_output=True,
            env=env,
            check=False,
        )
    try:
        answer = json.loads(proc.stdout.decode() or "{}")
    except ValueError:
        answer = {}
    if not answer:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise MigrateCoreError(
            f"the project's interpreter {python} could not plan migrations "
            f"(exit {proc.returncode}): {detail[-1] if detail else 'no output'}; "
            "it needs SQLAlchemy 2 installed"
        )
    error = answer.get("error")
    if error:
        raise _rebuilt_error(error)
    return answer


def _rebuilt_error(error: dict[str, Any]) -> MigrateCoreError:
    """The worker's error as the exception the caller would have caught in-process: the
    hook treats a question (print the command to run by hand) and an import error (point
    at the real file) differently from the rest."""
    message = error["message"]
    kind = error.get("type")
    exc: MigrateCoreError
    if kind == QuestionRequired.__name__:
        exc = QuestionRequired(message)
    elif kind == ModelImportError.__name__:
        exc = ModelImportError(message, path=error.get("path"), line=error.get("line"))
    else:
        exc = MigrateCoreError(message)
    exc.exit_code = error.get("exit_code", 2)
    return exc


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Plan the migrations a request asks for (runs in the project's interpreter)."""
    from migrate_core.config import parse_config
    from migrate_core.migrations.questioner import NonInteractiveQuestioner
    from migrate_core.migrations.questioner import Rename
    from migrate_core.migrations.questioner import SilentQuestioner
    from migrate_core.usecases.makemigrations import make_migrations

    config = parse_config(request["section"], Path(request["pyproject"]))
    models_root = Path(request["models_root"]) if request.get("models_root") else None
    renames = {Rename(*r) for r in request.get("renames", [])}
    renames |= class_hints_to_renames(config, request.get("hints", []), models_root)

    silent = request.get("mode") == "pending"
    questioner = (SilentQuestioner if silent else NonInteractiveQuestioner)(
        renames=frozenset(renames), app_name=request.get("app")
    )
    result = make_migrations(
        config, request.get("apps") or None, questioner, models_root=models_root
    )
    return {
        "migrations": [
            {
                "app": m.app,
                "name": m.name,
                "path": str(m.path),
                "content": m.content,
                "descriptions": m.descriptions,
            }
            for m in result.migrations
        ],
        "declined": [list(r) for r in result.declined_renames],
        "model_files": model_files(models_root or config.root),
    }


def class_hints_to_renames(
    config: Any, hints: list[dict[str, Any]], models_root: Path | None
) -> set[Any]:
    """Rename hints name classes and attributes; the questioner wants tables and columns."""
    from migrate_core.migrations.questioner import Rename
    from migrate_core.schema import project

    if not hints:
        return set()
    classes = project.mapped_classes(config, models_root)
    out = set()
    for hint in hints:
        mapped = classes.get(hint["class_name"])
        if hint["kind"] == "column":
            if mapped is None:
                continue
            table, columns = mapped
            new = hint.get("new_column") or columns.get(hint["new"])
            old = hint.get("old_column") or hint["old"]
            if new and old and new != old:
                out.add(Rename(table, old, new))
        else:
            old, new = hint["old"], hint["new"]
            if mapped is not None and new == hint["class_name"]:
                new = mapped[0]
            if old != new:
                out.add(Rename(None, old, new))
    return out


def model_files(root: Path) -> list[str]:
    """Files under ``root`` that were imported: the project's model code, as traced."""
    from migrate_core.migrations.loader import MODULE_PREFIX

    root = root.resolve()
    out = set()
    for name, module in list(sys.modules.items()):
        if name.startswith(MODULE_PREFIX):
            continue  # migration files are loaded too, but they are not model code
        path = getattr(module, "__file__", None)
        if not path:
            continue
        try:
            rel = Path(path).resolve().relative_to(root)
        except ValueError:
            continue
        out.add(rel.as_posix())
    return sorted(out)


def main() -> None:
    request = json.loads(sys.stdin.read())
    # stdout carries the answer: whatever the models print while they are imported
    # goes to stderr instead, or it would corrupt the JSON.
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        answer = handle(request)
    except MigrateCoreError as exc:
        path = getattr(exc, "path", None)
        answer = {
            "error": {
                "message": str(exc),
                "exit_code": exc.exit_code,
                "type": type(exc).__name__,
                "path": str(path) if path is not None else None,
                "line": getattr(exc, "line", None),
            }
        }
    finally:
        sys.stdout = out
    out.write(json.dumps(answer))


if __name__ == "__main__":
    from migrate_core.hook import drop_cwd_from_path

    drop_cwd_from_path()
    main()
