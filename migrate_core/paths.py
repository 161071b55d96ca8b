"""Paths as a person reads them: relative to where they stand, else to the project;
and the one path the interpreter reads at our ``python -m`` entry points, sys.path.

Light on purpose (the standard library only): the commit hook prints paths too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def relative(path: Path, *roots: Path | None) -> str:
    """``path`` relative to the first of ``roots`` it lies in, POSIX-style; else as given."""
    for root in roots:
        if root is None:
            continue
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def shown(path: Path, *roots: Path | None) -> str:
    """For terminal output: relative to the current folder, else to ``roots``, else absolute."""
    return relative(path, Path.cwd(), *roots)


def drop_cwd_from_path() -> None:
    """Take the current folder off the front of sys.path, where ``python -m`` puts it.

    The plain git hook runs ``python -m migrate_core.hook`` (and the hook runs the
    worker, ``python -m migrate_core.usecases.worker``) at the top of the working
    tree: an untracked module there would be imported as if it were part of the
    commit, although the models are meant to come only from the staged copy.
    """
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
