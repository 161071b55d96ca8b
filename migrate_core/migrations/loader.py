"""Find migration files, import them, and build their graph and schema state.

Files are ``<app migrations folder>/*.py`` (names starting with ``_`` or ``.``
are skipped, so no ``__init__.py`` is needed). Each is imported by path under a
private module name; nothing has to be a package. The loader reads every file
once, hashes it (the history table keeps the hash to notice edited files), and
imports it only when someone needs its operations: building the graph and the
state of an unchanged chain comes from the cache (see :mod:`migrate_core.cache`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import traceback
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate_core import cache
from migrate_core.config import Config
from migrate_core.errors import AmbiguityError
from migrate_core.errors import BadMigrationError
from migrate_core.errors import NodeNotFoundError
from migrate_core.migrations.graph import Key
from migrate_core.migrations.graph import MigrationGraph
from migrate_core.migrations.migration import Migration
from migrate_core.schema.state import ProjectState

MODULE_PREFIX = "migrate_core_migrations"


@dataclass(frozen=True)
class MigrationFile:
    app: str
    name: str
    path: Path
    checksum: str

    @property
    def key(self) -> Key:
        return (self.app, self.name)


@dataclass(frozen=True)
class MigrationMeta:
    """What a file declares about its place in the graph (cached by content hash)."""

    dependencies: tuple[Key, ...]
    replaces: tuple[Key, ...]
    run_before: tuple[Key, ...]
    initial: bool
    atomic: bool
    # check-migrations codes the migration accepts: cached, so checking them imports nothing.
    accept: tuple[str, ...] = ()


def _meta_of(migration: Migration) -> MigrationMeta:
    return MigrationMeta(
        dependencies=tuple(migration.dependencies),
        replaces=tuple(migration.replaces),
        run_before=tuple(migration.run_before),
        initial=bool(migration.initial),
        atomic=bool(migration.atomic),
        accept=tuple(migration.accept),
    )


def scan_app(app: str, folder: Path) -> dict[str, tuple[Path, bytes]]:
    """``{name: (path, content)}`` of the migration files in ``folder``."""
    out: dict[str, tuple[Path, bytes]] = {}
    lowered: dict[str, str] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return out
    except NotADirectoryError:
        raise BadMigrationError(f"{folder}: migrations folder of app {app} is a file") from None
    for entry in entries:
        name = entry.name
        if not name.endswith(".py") or name.startswith(("_", ".", "~")) or not entry.is_file():
            continue
        stem = name[:-3]
        other = lowered.get(stem.lower())
        if other is not None:
            raise BadMigrationError(
                f"{folder}: two migrations named {other} and {stem} in app {app}; "
                "names must differ in more than case (rename one of the files)",
                path=str(Path(entry.path)),
            )
        lowered[stem.lower()] = stem
        path = Path(entry.path)
        out[stem] = (path, path.read_bytes())
    return out


def import_migration(
    app: str, name: str, path: Path, source: bytes, checksum: str, code: Any = None
) -> Migration:
    """Execute a migration file and return its ``Migration`` instance (``code``: precompiled)."""
    module_name = f"{MODULE_PREFIX}.{app}.m_{name}"
    try:
        if code is None:
            code = compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise BadMigrationError(
            f"{path}:{exc.lineno}: syntax error in migration {app}.{name}: {exc.msg}",
            path=str(path),
            line=exc.lineno,
        ) from None
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        # SystemExit too: a file that calls sys.exit() would end the command silently.
        line = _line_in(exc, str(path))
        where = f"{path}:{line}" if line else str(path)
        what = (
            f"called sys.exit({exc.code!r}); a migration file must not exit"
            if isinstance(exc, SystemExit)
            else f"{type(exc).__name__}: {exc}"
        )
        raise BadMigrationError(
            f"{where}: migration {app}.{name} failed to import: {what}" + _import_fix(exc),
            path=str(path),
            line=line,
        ) from None
    cls = module.__dict__.get("Migration")
    if not (isinstance(cls, type) and issubclass(cls, Migration)):
        raise BadMigrationError(
            f"{path}: no class Migration(migrations.Migration) in migration {app}.{name}",
            path=str(path),
        )
    _validate_declaration(cls, f"{path}: migration {app}.{name}", str(path))
    migration = cls(name, app, path=path, checksum=checksum)
    _validate(migration)
    return migration


def _import_fix(exc: BaseException) -> str:
    """What to do about a module a migration file imports and this interpreter lacks.

    Typical in a commit hook, whose environment has migrate-core and SQLAlchemy only,
    and after the project's module a hand-written migration imported was deleted.
    """
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return ""
    return (
        f"; migration files should import only migrate_core and sqlalchemy (write the type "
        f"{exc.name} provides as the database type it compiles to), or install "
        f"{exc.name} where migrate-core runs (in a pre-commit hook: add it to the hook's "
        "additional_dependencies; migration files load there even with python = ...)"
    )


#: What a cached answer may depend on besides the file's own content: modules whose
#: behaviour the cache's fingerprint pins (our version, SQLAlchemy's, Python's).
_PINNED_MODULES = (
    "migrate_core",
    "sqlalchemy",
    "__future__",
    "datetime",
    "decimal",
    "enum",
    "uuid",
)
#: Names through which a file could reach anything else at import time.
_UNPINNED_NAMES = frozenset(
    {"__import__", "importlib", "exec", "eval", "compile", "open", "globals", "vars"}
)


def self_contained(code: Any) -> bool:
    """Whether what importing this bytecode declares depends only on its own content.

    The replay cache keys an answer by the file's hash: that is exact for a file
    importing only what the cache's fingerprint pins, and wrong for one importing the
    project's code (a custom type, deleted later, must fail the same way as uncached).
    A file that is not self-contained is imported on every load, never answered from
    the cache. Decided from the bytecode, so no parse is needed: every import, in
    functions too, and every name that could import or read something indirectly.
    """
    import dis

    stack = [code]
    while stack:
        current = stack.pop()
        if _UNPINNED_NAMES.intersection(current.co_names):
            return False
        for ins in dis.get_instructions(current):
            if ins.opname == "IMPORT_NAME":
                module = str(ins.argval)
                if not any(module == m or module.startswith(m + ".") for m in _PINNED_MODULES):
                    return False
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return True


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(x, str) for x in value)
    )


def _validate_declaration(cls: type[Migration], where: str, path: str) -> None:
    """The class attributes as written, before ``Migration`` turns them into lists.

    Read raw, a flat ``("shop", "0001_initial")`` is recognisable and gets its fix;
    after conversion it would be the characters of "shop".
    """
    for attr in ("dependencies", "replaces", "run_before"):
        value = getattr(cls, attr)
        if _is_pair(value):
            app, name = value
            raise BadMigrationError(
                f"{where}: {attr} = {tuple(value)!r} is one (app, name) pair, not a tuple of "
                f"them; write {attr} = (({app!r}, {name!r}),)",
                path=path,
            )
        if not isinstance(value, (tuple, list)):
            raise BadMigrationError(
                f"{where}: {attr} must be a tuple of (app, name) pairs, got {value!r}", path=path
            )
        for dep in value:
            if not _is_pair(dep):
                raise BadMigrationError(
                    f"{where}: {attr} must hold (app, name) pairs, got {dep!r}", path=path
                )
    operations = cls.operations
    if not isinstance(operations, (tuple, list)):
        raise BadMigrationError(
            f"{where}: operations must be a tuple of operations, got {operations!r}; "
            "write operations = (operation,)",
            path=path,
        )


def _line_in(exc: BaseException, path: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            line = frame.lineno
    return line


def _validate(migration: Migration) -> None:
    from migrate_core.migrations.operations.base import Operation

    where = f"{migration.path}: migration {migration}"
    accept = migration.accept
    if not (isinstance(accept, (tuple, list)) and all(isinstance(code, str) for code in accept)):
        raise BadMigrationError(
            f'{where}: accept must be a tuple of finding codes such as ("MC101",), got {accept!r}',
            path=str(migration.path),
        )
    for op in migration.operations:
        if not isinstance(op, Operation):
            raise BadMigrationError(
                f"{where}: {op!r} in operations is not an operation", path=str(migration.path)
            )


class MigrationLoader:
    """The migrations of every configured app, their graph, and the state they build.

    ``applied`` (from the history table) decides whether a squashed migration
    stands for the ones it replaces, as in Django: it does when all or none of
    them are applied.
    """

    def __init__(
        self,
        config: Config,
        *,
        applied: Iterable[Key] | None = None,
        import_root: Path | None = None,
    ) -> None:
        self.config = config
        self.root = config.root
        # Migrations may import the project's own modules (custom column types); so may
        # unpickling a cached state. ``import_root``: the copy of the project to import
        # them from (the commit hook's staged copy), by default the project itself.
        from migrate_core.schema.project import add_to_path

        add_to_path(import_root or config.root)
        self.files: dict[Key, MigrationFile] = {}
        self._sources: dict[Key, bytes] = {}
        self._migrations: dict[Key, Migration] = {}
        self.meta: dict[Key, MigrationMeta] = {}
        self.replacements: dict[Key, tuple[Key, ...]] = {}
        self._codes: dict[tuple[str, str], tuple[bytes, bool]] | None = None
        self._contained: dict[tuple[str, str], bool] = {}
        # Files whose replay may come from the cache (see :func:`self_contained`).
        self.cacheable: set[Key] = set()
        self._new_codes = 0
        self._scan()
        self._load_meta()
        self.graph = self._build_graph(set(applied) if applied is not None else None)

    # -- files ---------------------------------------------------------------------------------

    def _scan(self) -> None:
        for app in self.config.apps.values():
            for name, (path, source) in scan_app(app.name, app.migrations_dir).items():
                key = (app.name, name)
                checksum = hashlib.sha256(source).hexdigest()
                self.files[key] = MigrationFile(app.name, name, path, checksum)
                self._sources[key] = source

    def _load_meta(self) -> None:
        cached = cache.load(self.root, "meta.pickle") or {}
        known: dict[str, MigrationMeta] = cached.get("meta", {})
        fresh = False
        for key, f in self.files.items():
            meta = known.get(f.checksum)
            if meta is not None:
                # Only self-contained files are ever stored, and that is a property of
                # the content (and of the versions the cache's fingerprint pins).
                self.cacheable.add(key)
            else:
                meta = _meta_of(self.migration(key))
                if key in self.cacheable:
                    known[f.checksum] = meta
                    fresh = True
            self.meta[key] = meta
        if fresh:
            live = {f.checksum for k, f in self.files.items() if k in self.cacheable}
            cache.store(
                self.root, "meta.pickle", {"meta": {k: v for k, v in known.items() if k in live}}
            )

    def migration(self, key: Key) -> Migration:
        """The imported migration (imported on first use)."""
        migration = self._migrations.get(key)
        if migration is None:
            f = self.files.get(key)
            if f is None:
                raise NodeNotFoundError(f"migration {key[0]}.{key[1]} does not exist", key)
            code = self._compiled(f, self._sources[key])
            migration = import_migration(
                f.app, f.name, f.path, self._sources[key], f.checksum, code
            )
            if code is not None and self._self_contained(f, code):
                self.cacheable.add(key)
            self._migrations[key] = migration
        return migration

    def _compiled(self, f: MigrationFile, source: bytes) -> Any:
        """Bytecode of a migration file, from the cache when its content was seen before.

        Compiling a thousand migration files costs a few hundred milliseconds; their
        bytecode is kept next to the replay cache (Python caches bytecode only for
        imported modules, and not at all with PYTHONDONTWRITEBYTECODE).
        """
        import marshal

        if self._codes is None:
            cached = cache.load(self.root, "code.pickle") or {}
            self._codes = cached.get("codes", {})
        key = (f.checksum, str(f.path))
        data = self._codes.get(key)
        # (bytecode, self-contained?): the walk over the bytecode costs as much as
        # unmarshalling it, and both follow from the content alone. (An older cache
        # held the bytecode alone: compiled again once.)
        if isinstance(data, tuple):
            try:
                code = marshal.loads(data[0])
            except (EOFError, ValueError, TypeError):
                pass
            else:
                self._contained[key] = bool(data[1])
                return code
        try:
            code = compile(source, str(f.path), "exec", dont_inherit=True)
        except SyntaxError:
            return None  # import_migration reports it with the file and line
        self._contained[key] = self_contained(code)
        self._codes[key] = (marshal.dumps(code), self._contained[key])
        if not self._new_codes:
            import atexit

            atexit.register(self._save_codes)
        self._new_codes += 1
        return code

    def _self_contained(self, f: MigrationFile, code: Any) -> bool:
        key = (f.checksum, str(f.path))
        contained = self._contained.get(key)
        if contained is None:
            contained = self._contained[key] = self_contained(code)
        return contained

    def _save_codes(self) -> None:
        if self._codes is None:
            return
        live = {(f.checksum, str(f.path)) for f in self.files.values()}
        codes = {k: v for k, v in self._codes.items() if k in live}
        cache.store(self.root, "code.pickle", {"codes": codes})

    def migrations(self, keys: Iterable[Key] | None = None) -> list[Migration]:
        return [self.migration(k) for k in (keys if keys is not None else self.graph.full_plan())]

    # -- graph ---------------------------------------------------------------------------------

    def _resolve(self, dep: Key, origin: MigrationFile) -> Key:
        app, name = dep
        if name in ("__first__", "__latest__"):
            names = sorted(n for a, n in self.files if a == app)
            if not names:
                if app not in self.config.apps:
                    raise NodeNotFoundError(
                        f"{origin.path} depends on app {app}, which is not configured", dep
                    )
                raise NodeNotFoundError(
                    f"{origin.path} depends on {dep!r}, but app {app} has no migrations", dep
                )
            return (app, names[0] if name == "__first__" else names[-1])
        return dep

    def _build_graph(self, applied: set[Key] | None) -> MigrationGraph:
        graph = MigrationGraph()
        for key in self.files:
            graph.add_node(key)
        for key, f in sorted(self.files.items()):
            meta = self.meta[key]
            for dep in meta.dependencies:
                dep = self._resolve(dep, f)
                if dep[0] != key[0] and dep not in self.files and dep[0] not in self.config.apps:
                    raise NodeNotFoundError(
                        f"{f.path} depends on {dep!r}, but app {dep[0]} is not configured in {self.config.path}",
                        dep,
                    )
                graph.add_dependency(key, dep, origin=str(f.path))
            for before in meta.run_before:
                graph.add_dependency(self._resolve(before, f), key, origin=str(f.path))
        # Squashed migrations: use the replacement when all or none of the replaced ones
        # are applied; otherwise keep the originals and drop the replacement (Django's rule).
        for key in sorted(self.files):
            replaced = tuple(r for r in self.meta[key].replaces if r in graph)
            if not self.meta[key].replaces:
                continue
            self.replacements[key] = tuple(self.meta[key].replaces)
            done = [r in (applied or set()) for r in replaced]
            if all(done) or not any(done):
                graph.remap(replaced, key)
            else:
                graph.remove_node(key)
        graph.validate()
        return graph

    # -- targets -------------------------------------------------------------------------------

    def get_by_prefix(self, app: str, prefix: str) -> Key:
        """A migration of ``app`` by full name or a unique prefix such as ``0003``."""
        if (app, prefix) in self.graph:
            return (app, prefix)
        matches = sorted(k for k in self.graph.nodes if k[0] == app and k[1].startswith(prefix))
        if not matches:
            known = ", ".join(n for a, n in sorted(self.graph.nodes) if a == app) or "none"
            raise NodeNotFoundError(
                f"app {app} has no migration matching {prefix!r} (migrations: {known})",
                (app, prefix),
            )
        if len(matches) > 1:
            raise AmbiguityError(
                f"{prefix!r} matches more than one migration of {app}: {', '.join(n for _, n in matches)}; "
                "give more of the name"
            )
        return matches[0]

    # -- state ---------------------------------------------------------------------------------

    def project_state(self, nodes: Iterable[Key] | None = None) -> ProjectState:
        """The state after ``nodes`` (and everything they need); all migrations by default.

        The full-chain state is cached by the plan (names and hashes, in order);
        when the cached plan is a prefix of today's, only the new migrations replay.
        """
        if nodes is not None:
            plan: list[Key] = []
            seen: set[Key] = set()
            for node in nodes:
                for key in self.graph.forwards_plan(node):
                    if key not in seen:
                        seen.add(key)
                        plan.append(key)
            return self._replay(plan, ProjectState())
        plan = self.graph.full_plan()
        signature = [(k, self.files[k].checksum) for k in plan]
        # The cache holds the state after the longest self-contained prefix of the plan:
        # from the first file that imports anything else on, every file replays (and
        # fails to import exactly as it would without the cache).
        limit = next((i for i, k in enumerate(plan) if k not in self.cacheable), len(plan))
        cached = cache.load(self.root, "state.pickle")
        start = 0
        state = ProjectState()
        if cached is not None:
            old = cached.get("plan", [])
            if len(old) <= limit and old == signature[: len(old)]:
                start = len(old)
                state = cached["state"]
        if start == len(signature) and cached is not None:
            return state
        if start < limit:
            state = self._replay(plan[start:limit], state)
            cache.store(
                self.root, "state.pickle", {"plan": signature[:limit], "state": state.clone()}
            )
        return self._replay(plan[max(start, limit) :], state)

    def _replay(self, plan: list[Key], state: ProjectState) -> ProjectState:
        for key in plan:
            self.migration(key).mutate_state(state, copy=False)
        return state
