"""The everyday ``makemigrations --check`` answer "No changes detected", from a cache that proves it.

Answering "no changes" honestly means importing SQLAlchemy and every model class:
most of a second on a large project, on every run, although the models and the
migrations rarely changed since the last answer. So a full run that answered "no
changes" records everything the answer could depend on, and the next run with
the same command line answers from here, before click or SQLAlchemy are imported,
when every recorded input still holds (see :func:`answer`):

* every file the run imported or opened for reading (all of ``sys.modules`` at the
  end, migrate-core's own modules and SQLAlchemy's included): inside the project by
  the SHA-256 of its content, elsewhere (site-packages, the standard library) by
  size and mtime, which is what installing another version of a package changes;
* the listing of every folder those files lie in, every ``sys.path`` entry and every
  folder the run listed: a new module that would shadow another, or that a models
  package discovers, changes a listing;
* every migration file (name and content) and the listing of every migrations folder;
* the pyproject.toml, the interpreter, ``sys.path``, the working directory, and the
  environment variables the run read (all of them, if it iterated the environment);
* migrate-core's version and this module's ``FORMAT``.

Only "no changes" is ever stored: an answer that migrations are missing, an import
error or any other failure always runs fully (and forgets a stored answer), so a
wrong "no changes" needs a recorded input that changed without changing its
record. An input the record cannot see (a file the models only test for existence,
the clock, the network) is outside what this cache proves; ``MIGRATE_CORE_NO_CACHE=1``
turns it off, and ``MIGRATE_CORE_DEBUG_CACHE=1`` says on stderr what it decided.

Standard library only, and cheap to import: this runs before the CLI imports click.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from migrate_core import __version__
from migrate_core import cache

if TYPE_CHECKING:
    from migrate_core.config import Config

FORMAT = 1
FILE_NAME = "answers.json"
DEBUG_ENV = "MIGRATE_CORE_DEBUG_CACHE"
#: Environment variables that change what this module prints, never the answer itself.
_IGNORED_ENV = frozenset({DEBUG_ENV})
#: A file changed less than this before the run started may have changed while the models
#: were being imported (a file's mtime comes from a clock that lags by up to a tick).
_MARGIN_NS = 100_000_000
_ACCESS_MODES = getattr(os, "O_ACCMODE", os.O_RDONLY | os.O_WRONLY | os.O_RDWR)


def _debug(message: str) -> None:
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        sys.stderr.write(f"migrate-core: {message}\n")


# -- the question --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A ``migrate-core [--config PATH] makemigrations --check [--noinput] [APP...]`` command line.

    These are the only command lines answered from the cache: any other option may
    change the answer or the output, and goes to the full CLI.
    """

    config_path: str | None
    apps: tuple[str, ...]


def parse_argv(argv: Sequence[str]) -> Question | None:
    """The question ``argv`` (without the program name) asks, or None for any other command."""
    config_path: str | None = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        if arg == "--config" and i + 1 < len(argv) and argv[i + 1]:
            config_path = argv[i + 1]
            i += 2
        elif arg.startswith("--config=") and len(arg) > len("--config="):
            config_path = arg[len("--config=") :]
            i += 1
        else:
            return None
    if argv[i : i + 1] != ["makemigrations"]:
        return None
    check = False
    apps: list[str] = []
    for arg in argv[i + 1 :]:
        if arg == "--check":
            check = True
        elif arg in ("--noinput", "--no-input"):
            continue  # --check never asks anything anyway
        elif not arg or arg.startswith("-"):
            return None
        else:
            apps.append(arg)
    return Question(config_path, tuple(apps)) if check else None


def asked(config_path: str | None, apps: Sequence[str]) -> Question | None:
    """The question of this process's command line, if it is one the cache answers and it
    says what click parsed (``config_path``, ``apps``): the CLI records only such runs."""
    question = parse_argv(sys.argv[1:])
    if question is None or question != Question(config_path, tuple(apps)):
        return None
    return question


def no_changes_message(apps: Sequence[str]) -> str:
    """What makemigrations prints when nothing changed (the full path and the cache alike)."""
    if not apps:
        return "No changes detected"
    return f"No changes detected in app{'s' if len(apps) != 1 else ''} {', '.join(apps)}"


def _command_key(question: Question) -> str:
    return json.dumps([os.getcwd(), question.config_path, list(question.apps)])


# -- signatures of files, folders and the environment ---------------------------------------------


def _listing(folder: str) -> str | None:
    """The folder's entries as one digest (None: no such folder). Hidden names and
    ``__pycache__`` are left out: no import or glob pattern finds them."""
    try:
        names = sorted(n for n in os.listdir(folder) if n[:1] != "." and n != "__pycache__")
    except OSError:
        return None
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _env_digest(value: str | None) -> str | None:
    return (
        None
        if value is None
        else hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    )


def _whole_env_digest(env: dict[str, str]) -> str:
    items = sorted((k, v) for k, v in env.items() if k not in _IGNORED_ENV)
    return hashlib.sha256(json.dumps(items).encode("utf-8", "surrogateescape")).hexdigest()


def _interpreter() -> list[str]:
    """Which Python runs, and how (``-O`` drops asserts, ``-E`` ignores the environment...)."""
    return [sys.executable, sys.version, repr(sys.flags)]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# -- answering -----------------------------------------------------------------------------------


def answer(question: Question) -> str | None:
    """The full run's output for ``question`` when the stored answer provably still holds,
    else None (then the full CLI runs). Imports neither click nor SQLAlchemy."""
    reason, text = _answer(question)
    _debug("answered from cache" if text is not None else f"not answered from cache: {reason}")
    return text


def _answer(question: Question) -> tuple[str, str | None]:
    if not cache.enabled():
        return "MIGRATE_CORE_NO_CACHE is set", None
    try:
        from migrate_core.config import load_config

        config = load_config(question.config_path)
        config.select_apps(question.apps)
    except Exception:
        return "the configuration does not load (the full run says why)", None
    entry = _entries(config.path).get(_command_key(question))
    if not isinstance(entry, dict):
        return "no answer stored for this command", None
    try:
        # Every full run records the configuration it read: an entry that does not is
        # not one this module wrote (a hand-edited file), and proves nothing.
        covers = str(config.path) in entry["hashed"]
        reason = _stale(entry) if covers else "the record does not cover the configuration"
    except Exception as exc:  # a damaged or foreign entry: never an answer
        reason = f"unreadable entry ({type(exc).__name__})"
    if reason is not None:
        return reason, None
    return "", no_changes_message(question.apps)


def _stale(entry: dict[str, Any]) -> str | None:
    """What differs between the recorded inputs and now (None: nothing)."""
    if entry.get("format") != FORMAT or entry.get("version") != __version__:
        return "stored by another version"
    if entry["python"] != _interpreter():
        return "another Python interpreter"
    if entry["sys_path"] != sys.path:
        return "sys.path differs"
    env = os.environ
    if entry["env_all"] is not None and entry["env_all"] != _whole_env_digest(dict(env)):
        return "the environment differs"
    for name, digest in entry["env"].items():
        if _env_digest(env.get(name)) != digest:
            return f"environment variable {name} differs"
    for path, digest in entry["hashed"].items():
        if cache.file_digest(path) != digest:
            return f"{path} changed"
    for path, signature in entry["stat"].items():
        if _stat(path) != signature:
            return f"{path} changed"
    for folder, digest in entry["dirs"].items():
        if _listing(folder) != digest:
            return f"the files in {folder} changed"
    return None


# -- recording -----------------------------------------------------------------------------------


def _store_file(pyproject: Path) -> Path:
    return cache.keyed_file(pyproject, FILE_NAME)


def _entries(pyproject: Path) -> dict[str, Any]:
    try:
        data = json.loads(_store_file(pyproject).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_entries(pyproject: Path, entries: dict[str, Any]) -> None:
    path = _store_file(pyproject)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"format": FORMAT, "entries": entries}), encoding="utf-8")
        os.replace(tmp, path)  # two runs racing never leave a torn file
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()  # an unwritable cache only costs speed


@dataclass
class _Trace:
    """What one full run reads: files opened, folders listed, environment variables."""

    started_ns: int
    sys_path: list[str]
    environ: dict[str, str]
    opened: set[str] = field(default_factory=set)
    listed: set[str] = field(default_factory=set)
    env: dict[str, str | None] = field(default_factory=dict)
    env_all: bool = False
    #: Why what the run read cannot be recorded (it ran a process, used the network), or None.
    unprovable: str | None = None


#: Audit events whose outcome no record of files and variables can vouch for.
_UNPROVABLE = {
    "subprocess.Popen": "it started a process",
    "os.system": "it started a process",
    "os.exec": "it started a process",
    "os.posix_spawn": "it started a process",
    "os.spawn": "it started a process",
    "socket.connect": "it used the network",
    "socket.getaddrinfo": "it used the network",
    "sqlite3.connect": "it opened a database",
}
_active: _Trace | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Note the files a traced run opens for reading and the folders it lists.

    An audit hook cannot be removed again, so it stays for the rest of the process
    and costs one comparison per event outside a traced run. It must never raise:
    the exception would be the audited operation's.
    """
    trace = _active
    if trace is None:
        return
    if event in _UNPROVABLE:
        trace.unprovable = trace.unprovable or f"{_UNPROVABLE[event]} ({event})"
        return
    if event not in ("open", "os.listdir", "os.scandir"):
        return
    try:
        target = args[0] if args else None
        if event == "open":
            mode, flags = args[1], args[2]
            if isinstance(mode, str):
                if "r" not in mode and "+" not in mode:
                    return
            elif isinstance(flags, int) and flags & _ACCESS_MODES == os.O_WRONLY:
                return
        if isinstance(target, int):
            return  # an open file descriptor: its file was recorded when it was opened
        path = os.path.abspath(os.fsdecode(target) if target is not None else ".")
        (trace.opened if event == "open" else trace.listed).add(path)
    except Exception:
        return


class _RecordingEnviron(os._Environ[str]):
    """``os.environ`` for the length of a traced run: the same variables (it shares the
    mapping), and it notes which ones the run reads (``os.getenv`` reads through it)."""

    def __init__(self, base: os._Environ[str], trace: _Trace) -> None:
        super().__init__(
            base._data,  # type: ignore[attr-defined]
            base.encodekey,
            base.decodekey,
            base.encodevalue,
            base.decodevalue,
        )
        self._trace = trace

    def __getitem__(self, key: str) -> str:
        try:
            value = super().__getitem__(key)
        except KeyError:
            self._trace.env.setdefault(key, None)
            raise
        self._trace.env.setdefault(key, self._trace.environ.get(key))
        return value

    def __iter__(self) -> Iterator[str]:
        self._trace.env_all = True  # listing the variables reads them all
        return super().__iter__()


class Recorder:
    """A full run of a question: call :meth:`no_changes` when it answered "no changes"."""

    def __init__(self, question: Question | None, config: Config) -> None:
        self.question = question
        self.config = config
        self.answered_no_changes = False

    def no_changes(self) -> None:
        self.answered_no_changes = True


@contextlib.contextmanager
def recording(question: Question | None, config: Config) -> Iterator[Recorder]:
    """Trace the full run of ``question`` (None: a command the cache never answers).

    On leaving, the answer is stored when the run called :meth:`Recorder.no_changes`
    and ended without an exception; otherwise a stored answer for the question is
    forgotten. The trace starts after the configuration was read, which the record
    covers by its content anyway.
    """
    global _active, _hooked
    recorder = Recorder(question, config)
    if question is None or not cache.enabled() or _active is not None:
        yield recorder
        return
    trace = _Trace(time.time_ns(), list(sys.path), dict(os.environ))
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    saved = os.environ
    # Replaced, not cleared: the recording mapping shares the variables with the original,
    # and os.getenv reads os.environ (the module global), so it reads through it too.
    os.environ = _RecordingEnviron(saved, trace)  # noqa: B003
    _active = trace
    ok = False
    try:
        yield recorder
        ok = True
    finally:
        _active = None
        os.environ = saved  # noqa: B003
        try:
            if ok and recorder.answered_no_changes:
                _store(recorder, trace)
            else:
                _forget(config.path, question)
        except Exception as exc:  # the cache only ever costs or saves time, never the command
            _debug(f"answer not cached: {type(exc).__name__}: {exc}")


def _forget(pyproject: Path, question: Question) -> None:
    entries = _entries(pyproject)
    if entries.pop(_command_key(question), None) is not None:
        _write_entries(pyproject, entries)


def _store(recorder: Recorder, trace: _Trace) -> None:
    assert recorder.question is not None
    config = recorder.config
    entry, problem = _entry(config, trace)
    if entry is None:
        _debug(f"answer not cached: {problem}")
        _forget(config.path, recorder.question)
        return
    entries = _entries(config.path)
    entries[_command_key(recorder.question)] = entry
    _write_entries(config.path, entries)
    _debug(
        f"answer cached ({len(entry['hashed'])} files by content, {len(entry['stat'])} by size and mtime)"
    )


def _nearest_existing(path: str) -> str:
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def _installed_folders() -> list[str]:
    """Where installed code lives, even inside the project (a ``.venv``): signed by stat."""
    import sysconfig

    folders = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            folders.add(sysconfig.get_paths()[key])
    return sorted(os.path.abspath(f) for f in folders)


def _entry(config: Config, trace: _Trace) -> tuple[dict[str, Any] | None, str]:
    """The record of a finished run, or None and why it cannot be trusted."""
    if trace.unprovable is not None:
        return None, f"the run cannot be recorded: {trace.unprovable}"
    files: set[str] = {str(config.path)}
    folders: set[str] = set()
    for module in list(sys.modules.values()):
        try:
            file = getattr(module, "__file__", None)
            if isinstance(file, str):
                files.add(os.path.abspath(file))
            for folder in getattr(module, "__path__", None) or ():
                if isinstance(folder, str):
                    folders.add(os.path.abspath(folder))
        except Exception:
            return None, f"cannot tell where module {module!r} comes from"
    files |= {f for f in trace.opened if "__pycache__" not in Path(f).parts}
    for app in config.apps.values():
        folder = str(app.migrations_dir)
        folders.add(folder)
        with contextlib.suppress(OSError):
            files |= {os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".py")}
    # A file that is not there (a module inside a zip archive, a file an open did not
    # find) is also signed by what is there above it: the archive, or the folder's listing.
    files |= {_nearest_existing(f) for f in files if not os.path.lexists(f)}
    folders |= {os.path.dirname(f) for f in files}
    folders |= trace.listed
    folders |= {os.path.abspath(p) for p in trace.sys_path if isinstance(p, str)}
    files |= {f for f in folders if os.path.isfile(f)}  # a zip archive on sys.path
    folders -= files
    own_cache = os.path.abspath(cache.cache_root())
    files = {f for f in files if not _inside(f, own_cache)}
    folders = {f for f in folders if not _inside(f, own_cache)}

    # Content for the project's files and every migration file (wherever the folder is);
    # size and mtime for installed code, which only changes when it is reinstalled.
    by_content = [str(config.root), *(str(a.migrations_dir) for a in config.apps.values())]
    installed = _installed_folders()
    hashed: dict[str, str | None] = {}
    stat: dict[str, list[int] | None] = {}
    for path in sorted(files):
        if os.path.isdir(path):
            folders.add(path)
            continue
        signature = _stat(path)
        if signature is not None and signature[1] >= trace.started_ns - _MARGIN_NS:
            return None, f"{path} changed during the run"
        if any(_inside(path, f) for f in by_content) and not any(
            _inside(path, i) for i in installed
        ):
            hashed[path] = cache.file_digest(path)
        else:
            stat[path] = signature
    dirs: dict[str, str | None] = {}
    for folder in sorted(folders):
        signature = _stat(folder)
        if signature is not None and signature[1] >= trace.started_ns - _MARGIN_NS:
            return None, f"the files in {folder} changed during the run"
        dirs[folder] = _listing(folder)
    env = {
        name: _env_digest(value) for name, value in trace.env.items() if name not in _IGNORED_ENV
    }
    return {
        "format": FORMAT,
        "version": __version__,
        "python": _interpreter(),
        "sys_path": trace.sys_path,
        "env": env,
        "env_all": _whole_env_digest(trace.environ) if trace.env_all else None,
        "hashed": hashed,
        "stat": stat,
        "dirs": dirs,
    }, ""
