"""The commit hooks: ``migrate-core-hook makemigrations`` and ``migrate-core-hook check``.

Most commits touch no model, and they must pass at once: the fast path below
imports neither SQLAlchemy nor GitPython nor click, parses no TOML, and asks git
at most once (as a plain git hook, where nobody passes it the staged file names;
under pre-commit, for the files the commit deletes or renames away, which
pre-commit leaves out of the names it passes). It recognises model code from a small cache: the files the
models imported the last time they were loaded, keyed by the pyproject.toml's
size and mtime. A staged file from that set, a staged pyproject.toml, or no
cache at all means the slow path: load the staged models, diff, write.

The models are imported as staged, not as they are on disk: the tracked Python
files of the project are copied out of the index into a temporary folder first.
Under pre-commit the unstaged edits are stashed already, but untracked files are
not, and as a plain git hook nothing is stashed at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from migrate_core.migrations.renames import RenameHint
    from migrate_core.options import CheckArgs
    from migrate_core.usecases.worker import Mode
    from migrate_core.usecases.worker import PlanAnswer
    from migrate_core.usecases.worker import PlannedMigration

SECTION_MARKER = b"[tool.migrate-core"
EXIT_OK = 0
EXIT_FAIL = 1


def exit_code(exc: BaseException) -> int:
    """The hook's exit code for an error: the CLI's (:func:`migrate_core.errors.exit_code_for`),
    except that "a question only a person can answer" (3) is a plain failure (1): git and
    pre-commit only tell pass from fail, and the message already says what to run."""
    from migrate_core.errors import exit_code_for

    code = exit_code_for(exc)
    return EXIT_FAIL if code == 3 else code


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


# -- finding projects and their model code, cheaply ----------------------------------------------


def _has_section(pyproject: Path) -> bool:
    try:
        return SECTION_MARKER in pyproject.read_bytes()
    except OSError:
        return False


def find_projects(files: list[Path], start: Path, stop: Path) -> dict[Path, list[Path]]:
    """``{pyproject.toml: [staged files inside that project]}`` for the projects the files touch.

    Each file belongs to the nearest pyproject.toml with a [tool.migrate-core]
    section above it; files outside every project are dropped. The folder the hook
    runs in counts too, so a project at the repository root is always found.
    """
    known: dict[Path, Path | None] = {}

    def project_of(folder: Path) -> Path | None:
        trail = []
        current = folder
        while True:
            if current in known:
                found = known[current]
                break
            trail.append(current)
            candidate = current / "pyproject.toml"
            if candidate.is_file() and _has_section(candidate):
                found = candidate
                break
            if current == stop or current.parent == current:
                found = None
                break
            current = current.parent
        for seen in trail:
            known[seen] = found
        return found

    out: dict[Path, list[Path]] = {}
    for f in files:
        project = project_of(f.parent)
        if project is not None:
            out.setdefault(project, []).append(f)
    here = project_of(start)
    if here is not None:
        out.setdefault(here, [])
    return out


def _cache_file(pyproject: Path) -> Path:
    from migrate_core.cache import keyed_file

    return keyed_file(pyproject, "hook.json")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _config_digest(pyproject: Path) -> str | None:
    """The pyproject.toml's content hash (see :func:`migrate_core.cache.file_digest`)."""
    from migrate_core.cache import file_digest

    return file_digest(pyproject)


def _load_cache(pyproject: Path) -> dict[str, Any] | None:
    from migrate_core import __version__

    try:
        data = json.loads(_cache_file(pyproject).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != __version__:
        return None
    if data.get("config") is None or data.get("config") != _config_digest(pyproject):
        return None
    if not isinstance(data.get("model_files"), list) or not data["model_files"]:
        return None
    return data


def load_model_files(pyproject: Path) -> set[Path] | None:
    """The model code of the project as last traced, or None if unknown or stale."""
    data = _load_cache(pyproject)
    return None if data is None else _model_files(data, pyproject.parent)


def _model_files(data: dict[str, Any], root: Path) -> set[Path]:
    return {(root / p).resolve() for p in data.get("model_files", [])}


def _unchanged(path: Path, recorded: Any) -> bool:
    """Whether a traced model file still holds what the models were imported from.

    ``recorded`` is ``[mtime_ns, size, sha256]`` (the stat only when the working tree
    held the imported content at the time). A matching stat is enough; otherwise the
    content decides, so a touched-but-equal file costs one read, never a wrong answer.
    """
    if not (isinstance(recorded, list) and len(recorded) == 3):
        return False
    mtime, size, digest = recorded
    try:
        st = path.stat()
        if mtime is not None and [st.st_mtime_ns, st.st_size] == [mtime, size]:
            return True
        return _digest(path.read_bytes()) == digest
    except OSError:
        return False  # deleted or renamed: the traced set no longer describes the models


def model_signatures(
    files: list[str], imported_root: Path, project_root: Path
) -> dict[str, list[Any]] | None:
    """``{file: [mtime_ns, size, sha256]}`` of the files the models were imported from
    (under ``imported_root``, the staged copy), stat-ed where they lie in the project;
    None when one cannot be read (then nothing is cached)."""
    out: dict[str, list[Any]] = {}
    for rel in files:
        try:
            digest = _digest((imported_root / rel).read_bytes())
        except OSError:
            return None
        real = project_root / rel
        try:
            st = real.stat()
            same = _digest(real.read_bytes()) == digest
        except OSError:
            same = False
        out[rel] = [st.st_mtime_ns, st.st_size, digest] if same else [None, None, digest]
    return out


def store_model_files(
    pyproject: Path,
    files: list[str],
    migration_dirs: list[Path],
    signatures: dict[str, list[Any]] | None,
    config_digest: str | None,
) -> None:
    """Remember what the models imported (and where migrations live) for the fast path.

    Call it only after the models imported completely: after a failure, the modules
    imported so far are a subset of the model code, and a cache of it would let every
    later change of the rest pass unseen. ``config_digest``: the pyproject.toml the
    models were loaded with (read before loading, so an edit during the run is a miss).
    """
    from migrate_core import __version__
    from migrate_core.cache import enabled

    if not enabled() or not files or signatures is None or config_digest is None:
        forget_model_files(pyproject)
        return
    path = _cache_file(pyproject)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        payload = {
            "version": __version__,
            "config": config_digest,
            "model_files": files,
            "signatures": signatures,
            "migration_dirs": [str(d) for d in migration_dirs],
        }
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs speed


def forget_model_files(pyproject: Path) -> None:
    """Drop the fast-path cache: the next commit takes the full path."""
    with contextlib.suppress(OSError):
        _cache_file(pyproject).unlink()


def needs_work(pyproject: Path, staged: list[Path], *, migrations_too: bool = False) -> bool:
    """Whether this commit touches the project's model code (or we cannot tell).

    Conservative by construction: the fast path ("no") needs a cache written after a
    complete import, for this very pyproject.toml content, whose every traced file
    still exists with the content it was imported with, and a commit that stages none
    of them, nothing beside them (a new module in a models package may be imported
    by name or discovered), and no pyproject.toml. Anything else is "yes".

    ``migrations_too``: a staged migration file counts as well (the check hook).
    """
    if not staged:
        return False
    resolved = {p.resolve() for p in staged}
    if pyproject.resolve() in resolved:
        return True
    data = _load_cache(pyproject)
    if data is None:
        return True
    root = pyproject.parent
    model_files = _model_files(data, root)
    if resolved & model_files:
        return True
    signatures = data.get("signatures")
    if not isinstance(signatures, dict):
        return True
    for rel in data["model_files"]:
        if not _unchanged(root / rel, signatures.get(rel)):
            return True
    model_folders = {p.parent for p in model_files}
    if any(p.suffix == ".py" and p.parent in model_folders for p in resolved):
        return True
    if migrations_too:
        folders = {Path(d).resolve() for d in data.get("migration_dirs", [])}
        if any(p.suffix == ".py" and p.parent in folders for p in resolved):
            return True
    return False


def _top_folder(start: Path) -> Path:
    """The working tree's top, found by looking for ``.git`` (a folder, or a file in a
    worktree) rather than asking git: this runs on every commit."""
    current = start
    while True:
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return start
        current = current.parent


def _repo(cwd: Path) -> Path:
    from migrate_core.errors import ConfigError
    from migrate_core.vcs import runner

    repo = runner.repo_root(cwd)
    if repo is None:
        raise ConfigError(f"{cwd} is not inside a git repository")
    return repo


def _staged_files(cwd: Path, given: list[str]) -> list[Path]:
    """The files this commit changes, removed ones included (their old paths).

    Under pre-commit (it exports ``PRE_COMMIT``) the names come from it, without the
    files the commit deletes or renames away: a commit that only deletes a model
    module would pass unseen. The manifest runs the hooks on every commit
    (``always_run``), and one git call adds the removals here. A pre-push run gets the
    pushed range's files instead, and the index is not what is pushed: no call then.
    """
    from migrate_core.vcs import index

    if given or os.environ.get("PRE_COMMIT"):
        files = [Path(f).absolute() for f in given]
        if os.environ.get("PRE_COMMIT") and pushed_range() is None:
            repo = _git_top(cwd)
            files += [repo / path for path in index.staged_removals(repo)]
        return files
    # A plain git hook gets no file names: ask git what the commit changes.
    repo = _git_top(cwd)
    paths = index.staged_paths(repo)
    return [repo / s.path for s in paths] + [repo / s.old_path for s in paths if s.old_path]


def _git_top(cwd: Path) -> Path:
    # Git runs hooks at the top of the working tree, so finding it needs no git call.
    top = _top_folder(cwd)
    return top if (top / ".git").exists() else _repo(cwd)


# -- the slow path ---------------------------------------------------------------------------------


def _copy_staged(repo: Path, project_root: Path, dest: Path, skip: tuple[Path, ...] = ()) -> Path:
    """The project's tracked Python files as staged, under ``dest``; returns the project there.

    ``skip``: folders not to copy (the migrations, which are read from disk anyway and
    are most of the files in a long-lived project).
    """
    from migrate_core.vcs import index

    skipped = [_repo_relative(repo, folder) + "/" for folder in skip]
    files = [
        f
        for f in index.tracked_files(repo, project_root)
        if f.endswith(".py") and not any(f.startswith(s) for s in skipped)
    ]
    index.export_index(repo, files, dest)
    rel = project_root.resolve().relative_to(repo.resolve())
    return dest / rel


def _repo_relative(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return str(path)


def _rename_hints(repo: Path, config: Any, staged: list[Path]) -> list[RenameHint]:
    """Renames the staged hunks of model files show, for the questioner."""
    from migrate_core.migrations.renames import rename_hints
    from migrate_core.vcs import index

    hints: list[RenameHint] = []
    model_files = load_model_files(config.path) or set()
    for path in staged:
        if path.suffix != ".py" or (model_files and path.resolve() not in model_files):
            continue
        try:
            rel = path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            continue
        old, new = index.read_blobs(repo, [("HEAD", rel), (None, rel)])
        if new is None:
            continue
        hunks = index.staged_hunks(repo, rel)
        old_text = old.decode("utf-8", "replace") if old is not None else None
        hints.extend(rename_hints(old_text, new.decode("utf-8", "replace"), hunks))
    return hints


def _plan(config: Any, models_root: Path, hints: list[RenameHint], *, mode: Mode) -> PlanAnswer:
    """Plan the migrations for the staged models, in this interpreter or the project's."""
    from migrate_core.usecases import worker

    request = worker.PlanRequest(
        pyproject=str(config.path),
        section=config.raw,
        models_root=str(models_root),
        hints=tuple(hints),
        mode=mode,
    )
    python = worker.resolve_python(config.python, config.root) if config.python else None
    return worker.plan(request, python)


def _shown(path: Path, repo: Path) -> str:
    from migrate_core.paths import shown

    return shown(path, repo)


def _error_text(exc: Exception, models_root: Path, project_root: Path, repo: Path) -> str:
    """An error from planning, naming the real files rather than the staged copy.

    An import error starts with where it happened, relative to the folder the models
    were imported from: the staged copy, i.e. relative to the project. The hook runs
    at the top of the repository, so a project in a subfolder needs that folder in
    front, or ``shop/models.py:12`` names no file the developer can open.
    """
    message = str(exc)
    path = getattr(exc, "path", None)
    line = getattr(exc, "line", None)
    if path:
        try:
            rel = Path(path).resolve().relative_to(models_root.resolve())
        except (OSError, ValueError):
            rel = None
        suffix = f":{line}: " if line else ": "
        if rel is not None and message.startswith(f"{rel}{suffix}"):
            real = _shown(project_root / rel, repo)
            message = real + suffix + message[len(f"{rel}{suffix}") :]
    unstaged = _unstaged_module(message, models_root, project_root)
    if unstaged is not None:
        message += (
            f"\n{_shown(unstaged, repo)} is on disk but not staged, and the hook imports the "
            "models as they will be committed: `git add` it too."
        )
    return _fix_paths(message, models_root, project_root, repo)


def _unstaged_module(message: str, models_root: Path, project_root: Path) -> Path | None:
    """The project file a "No module named 'shop.sizes'" error is about, when it exists in
    the working tree but not in the staged copy: a new module the developer forgot to
    ``git add``, which the generic "install it" advice would only obscure."""
    import re

    match = re.search(r"No module named '([A-Za-z_][\w.]*)'", message)
    if match is None:
        return None
    rel = match.group(1).replace(".", "/")
    for candidate in (f"{rel}.py", f"{rel}/__init__.py", rel):
        if (project_root / candidate).exists() and not (models_root / candidate).exists():
            return project_root / candidate
    return None


def _fix_paths(message: str, models_root: Path, project_root: Path, repo: Path) -> str:
    """Errors from the staged copy name the temporary folder; point at the real files."""
    shown_root = _shown(project_root, repo)
    for prefix in (str(models_root.resolve()), str(models_root)):
        message = message.replace(prefix + os.sep, "" if shown_root == "." else shown_root + "/")
        message = message.replace(prefix, shown_root)
    return message


@contextlib.contextmanager
def _own_imports(folder: Path) -> Iterator[None]:
    """Forget, afterwards, the modules imported from ``folder`` and its place on sys.path.

    Several projects in one repository are planned in this one process, and their
    model packages often share a name (``app.models``): without this, the second
    project would be handed the first one's cached modules, and get its migrations.
    migrate-core itself stays, even when it lies inside the project, and so does
    everything installed (a project's own ``.venv`` lies inside the project too):
    dropping SQLAlchemy would make a second copy of its classes on the next import.
    """
    import sysconfig

    path = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = path
        root = folder.resolve()
        installed = {
            Path(p).resolve()
            for key, p in sysconfig.get_paths().items()
            if key in ("stdlib", "platstdlib", "purelib", "platlib")
        }
        for name, module in list(sys.modules.items()):
            if name == "migrate_core" or name.startswith("migrate_core."):
                continue
            files = [getattr(module, "__file__", None), *(getattr(module, "__path__", None) or ())]
            for file in files:
                if (
                    file
                    and _inside(Path(file), root)
                    and not any(_inside(Path(file), p) for p in installed)
                ):
                    del sys.modules[name]
                    break


def makemigrations_for(pyproject: Path, repo: Path, staged: list[Path], *, stage: bool) -> int:
    import shlex
    import tempfile

    from migrate_core.config import load_config
    from migrate_core.errors import MigrateCoreError
    from migrate_core.errors import QuestionRequired
    from migrate_core.vcs import index

    config_digest = _config_digest(pyproject)
    config = load_config(pyproject)
    with tempfile.TemporaryDirectory(prefix="migrate-core-hook-") as tmp:
        skip = tuple(a.migrations_dir for a in config.apps.values())
        models_root = _copy_staged(repo, config.root, Path(tmp), skip)
        try:
            hints = _rename_hints(repo, config, staged)
            with _own_imports(models_root):
                answer = _plan(config, models_root, hints, mode="make")
        except QuestionRequired as exc:
            # The models imported, but no plan came back: nothing says the cached
            # model files are still the whole model code, so the next commit looks again.
            forget_model_files(pyproject)
            where = _shown(config.root, repo)
            cd = f"cd {shlex.quote(where)} && " if where != "." else ""
            _say(str(exc))
            _say(
                f"\nThe hook cannot ask; run it by hand in a terminal:\n  {cd}migrate-core makemigrations"
            )
            return exit_code(exc)
        except MigrateCoreError as exc:
            forget_model_files(pyproject)  # a failed import traced only part of the models
            text = _error_text(exc, models_root, config.root, repo)
            where = _shown(config.root, repo)
            if where != "." and "run: migrate-core makemigrations --merge" in text:
                # The commit runs at the repository's top; the command must run in the project.
                text = text.replace(
                    "run: migrate-core makemigrations --merge",
                    f"run: cd {shlex.quote(where)} && migrate-core makemigrations --merge",
                )
            _say(text)
            return EXIT_FAIL
        store_model_files(
            pyproject,
            list(answer.model_files),
            [a.migrations_dir for a in config.apps.values()],
            model_signatures(list(answer.model_files), models_root, config.root),
            config_digest,
        )
    written = []
    for m in answer.migrations:
        path = Path(m.path)
        if path.exists():
            _say(
                f"{_shown(path, repo)} already exists: not overwriting it; delete or rename it and commit again"
            )
            return EXIT_FAIL
    for m in answer.migrations:
        path = Path(m.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(m.content, encoding="utf-8")
        written.append(path)
    if written:
        apps: dict[str, list[PlannedMigration]] = {}
        for m in answer.migrations:
            apps.setdefault(m.app, []).append(m)
        for app, migrations in apps.items():
            _say(f"Migrations for {app!r}:")
            for m in migrations:
                _say(f"  {_shown(Path(m.path), repo)}")
                for line in m.descriptions:
                    _say(f"    {line}")
        if any("--rename" in line for m in answer.migrations for line in m.descriptions):
            # The lines above name each --rename (one target only where it is unambiguous);
            # with the migration written, that run finds nothing to do until it is deleted.
            _say(
                "note: data is lost where a line above says so; if that was a rename, delete the "
                "migration and run the --rename it names"
            )
        if stage:
            index.stage(repo, written)
            _say("migrations written and staged")
            return EXIT_OK
        _say("migrations written: review them and `git add` them, then commit again")
        return EXIT_FAIL
    if _say_unstaged(config, repo, "Review them and `git add` them (or delete them)"):
        return EXIT_FAIL
    return EXIT_OK


def pushed_range() -> tuple[str, str] | None:
    """``(from, to)`` of the push pre-commit runs a pre-push hook for, else None.

    pre-commit exports the range being pushed as PRE_COMMIT_FROM_REF and
    PRE_COMMIT_TO_REF; without them this is a commit, or a push of a whole new history.
    """
    start = os.environ.get("PRE_COMMIT_FROM_REF") or ""
    end = os.environ.get("PRE_COMMIT_TO_REF") or ""
    return (start, end) if start and end else None


def check_for(pyproject: Path, repo: Path, args: CheckArgs) -> int:
    """check-migrations for one project, through the same library call and output as the CLI.

    At a commit it checks what is being committed: the project's tracked files as
    staged, copied out of the index (an untracked migration beside staged models must
    fail, not pass). At a push the pushed tip is the input, checked out on its own, and
    the pushed range's start is the base of the git and destructive checks, unless
    ``--base-ref`` names another.

    An error of the run is reported as the CLI reports it (on stderr), with the
    hook's exit code. The models imported on the way are remembered for the fast path,
    only when the run passed (a failed import traced only part of the model code).
    """
    import dataclasses
    import tempfile

    from migrate_core import console
    from migrate_core.errors import MigrateCoreError

    pushed = pushed_range()
    if pushed is not None:
        if args.base_ref is None:
            args = dataclasses.replace(args, base_ref=pushed[0])
        return _check_pushed(pyproject, repo, pushed[1], args)
    if args.base_ref is not None:
        # The git check asks the repository about the working tree's migrations: run
        # there, but never past a migration the commit would leave out.
        if _unstaged_migrations(pyproject, repo):
            return EXIT_FAIL
        return _run_check(pyproject, pyproject, pyproject.parent, args)
    with tempfile.TemporaryDirectory(prefix="migrate-core-check-") as tmp:
        try:
            staged = _copy_project(repo, pyproject, Path(tmp))
        except MigrateCoreError as exc:
            console.error(exc)
            return exit_code(exc)
        return _run_check_in_copy(pyproject, staged, repo, args)


def _check_pushed(pyproject: Path, repo: Path, tip: str, args: CheckArgs) -> int:
    """The checks on the pushed tip, checked out as a worktree (a repository, for the git
    checks' base), not on the working tree."""
    import tempfile

    from migrate_core import console
    from migrate_core.errors import MigrateCoreError
    from migrate_core.vcs import index

    with tempfile.TemporaryDirectory(prefix="migrate-core-push-") as tmp:
        tree = Path(tmp) / "tree"
        try:
            index.add_worktree(repo, tip, tree)
        except MigrateCoreError as exc:
            console.error(exc)
            return exit_code(exc)
        try:
            copy = tree / pyproject.parent.resolve().relative_to(repo.resolve()) / "pyproject.toml"
            if not copy.is_file():
                return EXIT_OK  # the pushed tip has no such project (yet, or any more)
            _link_interpreter(pyproject, copy.parent)
            return _run_check_in_copy(pyproject, copy, repo, args)
        finally:
            index.remove_worktree(repo, tree)


def _run_check_in_copy(pyproject: Path, copy: Path, repo: Path, args: CheckArgs) -> int:
    """:func:`_run_check` on a copy of the project, its report naming the developer's files."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return _run_check(pyproject, copy, copy.parent, args)
    finally:
        for stream, text in ((sys.stdout, out.getvalue()), (sys.stderr, err.getvalue())):
            stream.write(_fix_paths(text, copy.parent, pyproject.parent, repo))
            stream.flush()


def _moved(path: Path, old_root: Path, new_root: Path) -> Path:
    """``path`` under ``old_root`` (the staged copy) as the same path under ``new_root``."""
    try:
        return new_root / path.resolve().relative_to(old_root.resolve())
    except ValueError:
        return path


def _unstaged_migrations(pyproject: Path, repo: Path) -> bool:
    from migrate_core.config import load_config

    return _say_unstaged(load_config(pyproject), repo, "`git add` them (or delete them)")


def _say_unstaged(config: Any, repo: Path, advice: str) -> bool:
    """Name the migration files on disk that the commit leaves out; whether there are any."""
    from migrate_core.vcs import index

    waiting = [
        p
        for p in index.not_staged(repo, [a.migrations_dir for a in config.apps.values()])
        if p.endswith(".py") and not Path(p).name.startswith(("_", "."))
    ]
    if waiting:
        _say("These migrations are not staged, so this commit would leave them out:")
        for p in waiting:
            _say(f"  {_shown(repo / p, repo)}")
        _say(f"{advice}, then commit again.")
    return bool(waiting)


def _copy_project(repo: Path, pyproject: Path, dest: Path) -> Path:
    """Every tracked file of the project as staged, under ``dest``; the copy's pyproject.toml."""
    from migrate_core.vcs import index

    root = pyproject.parent
    index.export_index(repo, index.tracked_files(repo, root), dest)
    copy_root = dest / root.resolve().relative_to(repo.resolve())
    copy = copy_root / "pyproject.toml"
    if not copy.is_file():
        from migrate_core.errors import ConfigError

        raise ConfigError(f"{_shown(pyproject, repo)} is not staged: `git add` it and commit again")
    _link_interpreter(pyproject, copy_root)
    return copy


def _link_interpreter(pyproject: Path, copy_root: Path) -> None:
    """``python = ...`` may name an interpreter inside the project (``.venv``, never
    tracked): link its top folder into the copy, so the setting means the same there."""
    from migrate_core.config import load_config
    from migrate_core.usecases import worker

    root = pyproject.parent
    config = load_config(pyproject)
    if not config.python:
        return
    python = Path(worker.resolve_python(config.python, root)).absolute()
    try:
        top = python.relative_to(root.absolute()).parts[0]
    except (ValueError, IndexError):
        return
    if not (copy_root / top).exists():
        (copy_root / top).symlink_to(root / top, target_is_directory=(root / top).is_dir())


def _run_check(pyproject: Path, checked: Path, imported_root: Path, args: CheckArgs) -> int:
    """Run the checks of ``checked`` (the project or its staged copy) for ``pyproject``'s cache."""
    from migrate_core import console
    from migrate_core.config import load_config
    from migrate_core.errors import MigrateCoreError
    from migrate_core.usecases import worker

    config_digest = _config_digest(checked)
    with _own_imports(imported_root):
        try:
            code = console.run_check(checked, args)
        except (MigrateCoreError, KeyboardInterrupt) as exc:
            console.error(exc)
            code = exit_code(exc)
        config = load_config(checked)
        if code != EXIT_OK:
            forget_model_files(pyproject)
        elif not config.python:
            # With ``python = ...`` the models were imported by the worker, not here.
            files = worker.model_files(imported_root)
            store_model_files(
                pyproject,
                files,
                [
                    _moved(a.migrations_dir, config.root, pyproject.parent)
                    for a in config.apps.values()
                ],
                model_signatures(files, imported_root, pyproject.parent),
                config_digest,
            )
    return code


# -- entry point -----------------------------------------------------------------------------------


def _check_names() -> tuple[str, ...]:
    from migrate_core import console

    return console.check_names()


def _parser() -> Any:
    import argparse

    from migrate_core.options import add_hook_arguments

    parser = argparse.ArgumentParser(
        prog="migrate-core-hook", description="migrate-core's commit hooks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("makemigrations", help="write the migrations for staged model changes")
    mk.add_argument(
        "--stage", action="store_true", help="git add the migrations written (and pass)"
    )
    mk.add_argument("--config", help="the pyproject.toml to use")
    mk.add_argument("files", nargs="*", help="staged files (pre-commit passes them)")
    ck = sub.add_parser("check", help="check-migrations without the scratch database (or --full)")
    ck.add_argument("--config", help="the pyproject.toml to use")
    add_hook_arguments(ck, _check_names)
    ck.add_argument("files", nargs="*")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    check_args = None
    if args.command == "check":
        from migrate_core import console
        from migrate_core.options import CheckArgs

        check_args = CheckArgs.from_values(vars(args))
        # ``--full`` creates scratch databases: a SIGTERM from pre-commit or CI must
        # drop them on the way out (see console.terminate_as_interrupt). The hook is
        # the entry point, so installing the handler is its call, not the library's.
        if not check_args.no_database:
            console.terminate_as_interrupt()
    cwd = Path.cwd()
    status = EXIT_OK
    try:
        staged = _staged_files(cwd, args.files)
        if args.config:
            pyproject = Path(args.config).absolute()
            if pyproject.is_dir():
                pyproject = pyproject / "pyproject.toml"
            projects = {pyproject: [f for f in staged if _inside(f, pyproject.parent)]}
        else:
            projects = find_projects(staged, cwd, _top_folder(cwd))
        for pyproject, files in sorted(projects.items()):
            if args.command == "makemigrations":
                if needs_work(pyproject, files):
                    status = max(
                        status, makemigrations_for(pyproject, _repo(cwd), files, stage=args.stage)
                    )
            elif check_args is not None and needs_work(pyproject, files, migrations_too=True):
                status = max(status, check_for(pyproject, _repo(cwd), check_args))
    except Exception as exc:
        from migrate_core.errors import MigrateCoreError

        if not isinstance(exc, MigrateCoreError):
            raise
        _say(f"migrate-core: {exc}")
        status = max(status, exit_code(exc))
    return status


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    from migrate_core.paths import drop_cwd_from_path

    drop_cwd_from_path()
    run()
