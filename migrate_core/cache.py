"""A small on-disk cache for what replaying migration files produces.

Importing a thousand migration files costs most of a second; their content
rarely changes. We keep, per project, what each file declares (keyed by its
SHA-256) and the schema state after the last full replay (keyed by the plan:
every file's name and hash, in order). A file that changes changes its hash, so
a stale entry can never be used. The hash covers only the file itself, so only
files that import nothing but what ``_fingerprint`` pins are answered from here
(:func:`migrate_core.migrations.loader.self_contained`); the others are imported
every time, and fail exactly as they would without the cache. Location: ``$MIGRATE_CORE_CACHE_DIR``, else
``$XDG_CACHE_HOME/migrate-core``, else ``~/.cache/migrate-core``; set
``MIGRATE_CORE_NO_CACHE=1`` to bypass it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from migrate_core import __version__

FORMAT = 4  # 2: modules moved into packages (pickled states name their classes); 3: accept;
# 4: only self-contained files are answered from the cache (older caches hold others too)


def cache_root() -> Path:
    explicit = os.environ.get("MIGRATE_CORE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "migrate-core"


def enabled() -> bool:
    return os.environ.get("MIGRATE_CORE_NO_CACHE", "") in ("", "0")


def _fingerprint() -> str:
    """What else the cached data depends on: our version, SQLAlchemy's, Python's."""
    import sqlalchemy

    return f"{FORMAT}/{__version__}/{sqlalchemy.__version__}/{sys.version_info[:2]}"


def keyed_file(path: Path, name: str) -> Path:
    """``name`` in the cache folder that belongs to ``path`` (a project folder or its
    pyproject.toml, as given): the replay cache, the hook's and the answers' files."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return cache_root() / digest / name


def project_file(project_root: Path, name: str) -> Path:
    return keyed_file(project_root.resolve(), name)


def file_digest(path: Path | str) -> str | None:
    """The SHA-256 of a file's content (None: unreadable). Content, not mtime and size:
    those miss an edit of the same length within the clock's resolution, or a checkout
    that restores an old mtime."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def load(project_root: Path, name: str) -> dict[str, Any] | None:
    if not enabled():
        return None
    import pickle

    path = project_file(project_root, name)
    try:
        with path.open("rb") as f:
            data = pickle.load(f)
    except Exception:
        # Missing, truncated, or written by an incompatible version: start over.
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != _fingerprint():
        return None
    return data


def store(project_root: Path, name: str, data: dict[str, Any]) -> None:
    if not enabled():
        return
    import contextlib
    import pickle
    import tempfile

    path = project_file(project_root, name)
    data = {**data, "fingerprint": _fingerprint()}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: two processes racing never leave a torn file behind.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:
        # Caching is an optimisation: an unpicklable custom type or a read-only
        # home folder must not fail the command.
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
