"""Plan migrations inside the project's own interpreter.

A pre-commit hook runs in an isolated environment that has migrate-core and
SQLAlchemy but not the packages the models import. With ``python = ...`` in
``[tool.migrate-core]``, the hook runs this module with the project's
interpreter instead (``python -m migrate_core.usecases.worker``, migrate-core put on
its path): it imports the models there, diffs, and answers with the files to
write, as JSON. It needs only SQLAlchemy from that environment; the parent
process does the git work and the writing.

Both sides speak one typed protocol: :class:`PlanRequest` in, :class:`PlanAnswer`
or :class:`WorkerError` out, each with ``to_json``/``from_json`` and a protocol
version, so a change to one side cannot silently misread the other. The in-process
path (:func:`handle`) takes and returns the same objects, and an error comes back
as the exception class the caller would have caught in-process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from migrate_core.errors import ConfigError
from migrate_core.errors import MigrateCoreError
from migrate_core.errors import ModelImportError

if TYPE_CHECKING:
    from migrate_core.migrations.renames import RenameHint

#: Bumped whenever a field of the request or the answer changes meaning.
PROTOCOL_VERSION = 1

#: What the worker plans: ``make`` writes migrations (a rename needs a hint or it is
#: declined); ``pending`` only lists what is missing (the check), asking nothing.
Mode = Literal["make", "pending"]

RenameTriple = tuple["str | None", str, str]
"""A rename as the questioner keeps it: (table or None for a table rename, old, new)."""


def _checked(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MigrateCoreError(f"the worker's {what} is not a JSON object")
    version = data.get("version")
    if version != PROTOCOL_VERSION:
        raise MigrateCoreError(
            f"the worker's {what} speaks protocol version {version!r}, this migrate-core "
            f"{PROTOCOL_VERSION}: the project's interpreter runs another migrate-core"
        )
    return data


@dataclass(frozen=True)
class PlanRequest:
    """What to plan: the project (its pyproject.toml and parsed section, so the worker
    reads no file the parent has read already), where the models are imported from
    (the staged copy), and what the questioner may assume."""

    pyproject: str
    section: Mapping[str, Any]
    mode: Mode = "make"
    models_root: str | None = None
    hints: tuple[RenameHint, ...] = ()
    renames: tuple[RenameTriple, ...] = ()
    apps: tuple[str, ...] = ()
    app: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["section"] = dict(self.section)
        data["version"] = PROTOCOL_VERSION
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> PlanRequest:
        from migrate_core.migrations.renames import RenameHint

        data = _checked(json.loads(text), "request")
        return cls(
            pyproject=data["pyproject"],
            section=data["section"],
            mode=data.get("mode", "make"),
            models_root=data.get("models_root"),
            hints=tuple(RenameHint(**h) for h in data.get("hints", ())),
            renames=tuple((r[0], r[1], r[2]) for r in data.get("renames", ())),
            apps=tuple(data.get("apps", ())),
            app=data.get("app"),
        )


@dataclass(frozen=True)
class PlannedMigration:
    """One migration file to write: the parent writes it, the worker never does."""

    app: str
    name: str
    path: str
    content: str
    #: One line per operation, with its note (a drop that may be a rename, an open question).
    descriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanAnswer:
    """The files to write, the renames the questioner declined (for the hook's note), and
    the project files the models imported (the hook's fast-path cache)."""

    migrations: tuple[PlannedMigration, ...] = ()
    declined: tuple[RenameTriple, ...] = ()
    model_files: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"version": PROTOCOL_VERSION, "answer": asdict(self)})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanAnswer:
        return cls(
            migrations=tuple(
                PlannedMigration(
                    m["app"], m["name"], m["path"], m["content"], tuple(m["descriptions"])
                )
                for m in data.get("migrations", ())
            ),
            declined=tuple((d[0], d[1], d[2]) for d in data.get("declined", ())),
            model_files=tuple(data.get("model_files", ())),
        )


@dataclass(frozen=True)
class WorkerError:
    """A library error raised in the worker, carried back to be raised again as the same
    class: the hook treats a question (print the command to run by hand) and an import
    error (point at the real file) differently from the rest."""

    type: str
    message: str
    exit_code: int = 2
    path: str | None = None
    line: int | None = None
    #: A ModelProblemsError's problems as data (``validate.Problem``'s fields), so that
    #: check-migrations reports each on its model's line whichever interpreter planned.
    problems: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> str:
        return json.dumps({"version": PROTOCOL_VERSION, "error": asdict(self)})

    @classmethod
    def from_exception(cls, exc: MigrateCoreError) -> WorkerError:
        from dataclasses import is_dataclass

        path = getattr(exc, "path", None)
        problems = tuple(
            asdict(p)
            for p in getattr(exc, "problems", ())
            if is_dataclass(p) and not isinstance(p, type)
        )
        return cls(
            type=type(exc).__name__,
            message=str(exc),
            exit_code=exc.exit_code,
            path=str(path) if path is not None else None,
            line=getattr(exc, "line", None),
            problems=problems,
        )

    def to_exception(self) -> MigrateCoreError:
        """The error as the exception class the caller would have caught in-process (any
        class of :mod:`migrate_core.errors` whose constructor takes the message alone;
        the two with a file and line get them back)."""
        from migrate_core import errors

        exc: MigrateCoreError
        kind = getattr(errors, self.type, None)
        if kind in (ModelImportError, errors.BadMigrationError):
            exc = kind(self.message, path=self.path, line=self.line)
        elif kind is errors.ModelProblemsError:
            from migrate_core.schema.validate import Problem

            exc = errors.ModelProblemsError(self.message, [Problem(**p) for p in self.problems])
        elif isinstance(kind, type) and issubclass(kind, MigrateCoreError):
            exc = kind(self.message)
        else:
            exc = MigrateCoreError(self.message)
        exc.exit_code = self.exit_code
        return exc


def answer_from_reply(reply: Any) -> PlanAnswer:
    """The worker's reply (parsed JSON): its answer, or its error raised again here."""
    data = _checked(reply, "answer")
    if data.get("error") is not None:
        error = data["error"]
        raise WorkerError(
            type=error["type"],
            message=error["message"],
            exit_code=error.get("exit_code", 2),
            path=error.get("path"),
            line=error.get("line"),
            problems=tuple(error.get("problems", ())),
        ).to_exception()
    return PlanAnswer.from_dict(data["answer"])


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


def plan(request: PlanRequest, python: str | None = None) -> PlanAnswer:
    """Plan in ``python`` when it is another environment's interpreter, else right here."""
    if python and uses_other_python(python):
        return run_in(python, request)
    return handle(request)


def run_in(python: str, request: PlanRequest) -> PlanAnswer:
    """Run the worker under ``python`` and return its answer (raising its error, if any)."""
    package = Path(__file__).resolve().parents[1]  # migrate_core/, not usecases/
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
            input=request.to_json().encode(),
            capture_output=True,
            env=env,
            check=False,
        )
    try:
        reply = json.loads(proc.stdout.decode() or "{}")
    except ValueError:
        reply = None
    if not reply:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise MigrateCoreError(
            f"the project's interpreter {python} could not plan migrations "
            f"(exit {proc.returncode}): {detail[-1] if detail else 'no output'}; "
            "it needs SQLAlchemy 2 installed"
        )
    return answer_from_reply(reply)


def handle(request: PlanRequest) -> PlanAnswer:
    """Plan the migrations a request asks for (runs in the project's interpreter)."""
    from migrate_core.config import parse_config
    from migrate_core.migrations.questioner import NonInteractiveQuestioner
    from migrate_core.migrations.questioner import Rename
    from migrate_core.migrations.questioner import SilentQuestioner
    from migrate_core.usecases.makemigrations import make_migrations

    config = parse_config(dict(request.section), Path(request.pyproject))
    models_root = Path(request.models_root) if request.models_root else None
    renames = {Rename(*r) for r in request.renames}
    renames |= class_hints_to_renames(config, request.hints, models_root)

    silent = request.mode == "pending"
    questioner = (SilentQuestioner if silent else NonInteractiveQuestioner)(
        renames=frozenset(renames), app_name=request.app
    )
    result = make_migrations(
        config, list(request.apps) or None, questioner, models_root=models_root
    )
    return PlanAnswer(
        migrations=tuple(
            PlannedMigration(m.app, m.name, str(m.path), m.content, tuple(m.lines))
            for m in result.migrations
        ),
        declined=tuple((r[0], r[1], r[2]) for r in result.declined_renames),
        model_files=tuple(model_files(models_root or config.root)),
    )


def class_hints_to_renames(
    config: Any, hints: tuple[RenameHint, ...], models_root: Path | None
) -> set[Any]:
    """Rename hints name classes and attributes; the questioner wants tables and columns."""
    from migrate_core.migrations.questioner import Rename
    from migrate_core.schema import project

    if not hints:
        return set()
    classes = project.mapped_classes(config, models_root)
    out = set()
    for hint in hints:
        mapped = classes.get(hint.class_name)
        if hint.kind == "column":
            if mapped is None:
                continue
            table, columns = mapped
            new = hint.new_column or columns.get(hint.new)
            old = hint.old_column or hint.old
            if new and old and new != old:
                out.add(Rename(table, old, new))
        else:
            old, new = hint.old, hint.new
            if mapped is not None and new == hint.class_name:
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
    request = PlanRequest.from_json(sys.stdin.read())
    # stdout carries the answer: whatever the models print while they are imported
    # goes to stderr instead, or it would corrupt the JSON.
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        reply = handle(request).to_json()
    except MigrateCoreError as exc:
        reply = WorkerError.from_exception(exc).to_json()
    finally:
        sys.stdout = out
    out.write(reply)


if __name__ == "__main__":
    from migrate_core.paths import drop_cwd_from_path

    drop_cwd_from_path()
    main()
