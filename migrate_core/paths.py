"""Paths as a person reads them: relative to where they stand, else to the project.

Light on purpose (pathlib only): the commit hook prints paths too.
"""

from __future__ import annotations

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
