"""Running the ``git`` binary: its environment, its errors, and the checks on what we pass it.

Both the hook side (:mod:`migrate_core.vcs.index`) and the CI side
(:mod:`migrate_core.vcs.history`) run git through :func:`run`, so they share one
environment hygiene (:func:`env_for`) and one wording of failures (:class:`GitError`).
Importing this module costs only the standard library: the commit hook uses it on
every commit.

Conventions (all of ``vcs/``):

* ``repo_root`` is the absolute top-level folder of the working tree, as returned
  by :func:`repo_root`. Every command runs with ``cwd=repo_root``; the process
  working directory is never consulted.
* Paths in results are repository-relative POSIX strings, exactly as git stores
  them (``shop/models.py``), never quoted: every path-carrying command uses ``-z``
  and ``-c core.quotepath=off``, so spaces, quotes and non-ASCII names survive.
* Pathspecs are passed with ``--literal-pathspecs``: a file called ``a*.py`` or
  ``:(top)`` must mean that file, not a pattern or pathspec magic.
* A failing git command raises :class:`GitError` carrying the command, the first
  line of its stderr, and what to do about it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from migrate_core.errors import GitError

SHA_RE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
"""A full commit or object id: SHA-1 (40 hex digits) or SHA-256 (64)."""

# Variables that make git locate the repository somewhere else than ``cwd``. Git exports
# GIT_DIR to hooks run in a linked worktree (GIT_DIR=<main>/.git/worktrees/<name>); with
# GIT_DIR set and no GIT_WORK_TREE, git takes the *current directory* as the top of the
# working tree, so ``rev-parse --show-toplevel`` from a subfolder would answer the
# subfolder. We always locate the repository from ``cwd=repo_root`` instead.
LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")

# Added to the environment of commands that talk to a remote: missing credentials must
# make ``git fetch`` fail in CI instead of waiting forever for a password.
NETWORK_ENV = {"GIT_TERMINAL_PROMPT": "0"}


def git_dir_of(root: Path) -> Path | None:
    """The git dir of the worktree at ``root`` by reading ``.git``, without running git.

    In a linked worktree or a submodule ``.git`` is a file ``gitdir: <path>`` (the path
    may be relative to ``root``); in a plain clone it is the directory itself.
    """
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            return root / line[len("gitdir:") :].strip()
    return None


def env_for(root: Path) -> dict[str, str]:
    """The environment for a git child process working on the repository at ``root``.

    * Repository-location variables are dropped (see ``LOCATION_VARS``): ``cwd`` says
      which repository we mean.
    * ``GIT_INDEX_FILE`` is kept only when it points inside ``root``'s git dir. During
      ``git commit -a`` or ``git commit <path>`` the pre-commit hook sees the content
      that will be committed only through it (``.git/index.lock``,
      ``next-index-*.lock``), so it must survive; pointing at another repository's
      index (a hook that runs our tests) it would be silently wrong.
    * ``GIT_OPTIONAL_LOCKS=0``: read-only commands must not take the index lock to
      refresh stat data; the commit running the hook holds it.
    * Network commands (``git fetch``, run by :func:`_fetch`) add ``NETWORK_ENV``.
    """
    env = dict(os.environ)
    for name in LOCATION_VARS:
        env.pop(name, None)
    index_file = env.get("GIT_INDEX_FILE")
    if index_file:
        git_dir = git_dir_of(root)
        keep = False
        if git_dir is not None:
            index_path = Path(index_file)
            if not index_path.is_absolute():
                index_path = root / index_path
            keep = index_path.resolve().is_relative_to(git_dir.resolve())
        if not keep:
            del env["GIT_INDEX_FILE"]
    env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def first_line(data: bytes) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


def display(args: Sequence[str]) -> str:
    return "git " + " ".join(shlex.quote(a) for a in args)


def run(
    root: Path,
    args: Sequence[str],
    *,
    input: bytes | None = None,
    ok: tuple[int, ...] = (0,),
    hint: str = "",
    index_file: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git <args>`` in ``root``; raise :class:`GitError` on an exit code not in ``ok``.

    ``core.quotepath=off`` is forced because, without ``-z``, git C-quotes any path
    with a byte >= 0x80 (``"caf\\303\\251.py"``); with it and ``-z`` names arrive raw.
    """
    command = ["git", "-c", "core.quotepath=off", *args]
    env = env_for(root)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    try:
        proc = subprocess.run(
            command,
            cwd=root,
            input=input,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        if not root.is_dir():
            raise GitError(
                f"{display(args)}: the folder {root} does not exist.", command=args
            ) from exc
        raise GitError(
            "git is not installed or not on PATH; install git and try again.", command=args
        ) from exc
    except OSError as exc:
        raise GitError(f"{display(args)} could not start: {exc}", command=args) from exc
    if proc.returncode not in ok:
        stderr = first_line(proc.stderr)
        message = f"{display(args)} failed (exit {proc.returncode}): {stderr or 'no message'}"
        if not (root / ".git").exists():
            # Outside a repository ``git diff`` quietly turns into ``git diff --no-index``
            # and complains about options instead ("unknown option `cached'").
            message += f"\n{root} is not the top folder of a git working tree."
        elif hint:
            message += f"\n{hint}"
        raise GitError(message, command=args, stderr=proc.stderr.decode("utf-8", "replace"))
    return proc


def split_z(data: bytes) -> list[str]:
    """Fields of ``-z`` output. Git paths are bytes (UTF-8 in practice); any other byte is
    kept as a surrogate escape so the name round-trips to the same bytes."""
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "surrogateescape") for p in parts]


def check_path(path: str) -> str:
    """Validate a repository-relative path before it is glued into ``<rev>:<path>``.

    An absolute path would turn ``:/foo`` into a commit-message search, and a newline
    would split the ``cat-file --batch`` request line in two.
    """
    if not path or path.startswith("/") or "\n" in path or "\0" in path or "\\" in path:
        raise GitError(f"{path!r} is not a repository-relative POSIX path (like 'shop/models.py').")
    return path


def check_rev(rev: str) -> str:
    """Refuse revisions git would read as an option (``--output=...``) or that carry a
    path separator of their own."""
    if not rev or rev.startswith("-") or any(c in rev for c in "\n\0 :"):
        raise GitError(f"{rev!r} is not a valid git revision (branch, tag or commit sha).")
    return rev


def relative(root: Path, path: Path) -> str:
    """``path`` (absolute, or relative to ``root``) as a repository-relative POSIX string."""
    if not path.is_absolute():
        path = root / path
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise GitError(f"{path} is outside the git repository at {root}.") from None
    text = rel.as_posix()
    return "" if text == "." else text


def parse_batch(out: bytes, count: int) -> list[bytes | None]:
    """Parse ``cat-file --batch`` output: ``<sha> <type> <size>\\n<data>\\n`` per object,
    or ``<request> missing|ambiguous\\n``."""
    results: list[bytes | None] = []
    pos = 0
    for _ in range(count):
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3 and SHA_RE.fullmatch(header[0].decode("ascii", "replace")):
            size = int(header[2])
            data = out[pos : pos + size]
            pos += size + 1
            results.append(data if header[1] == b"blob" else None)
        else:
            results.append(None)
    return results


def repo_root(path: Path) -> Path | None:
    """The absolute top-level folder of the git working tree containing ``path``.

    ``path`` may be a file, a folder, or not exist yet (the nearest existing parent is
    asked). Works from subfolders and in linked worktrees (``git worktree add``),
    where ``.git`` is a file. Returns None outside a repository, inside a ``.git``
    folder, and in a bare repository. Symlinks are resolved, as git does.
    """
    start = path.absolute()
    while not start.is_dir():
        if start.parent == start:
            return None
        start = start.parent
    try:
        proc = run(start, ["rev-parse", "--show-toplevel"], ok=(0, 128))
    except GitError:
        return None
    if proc.returncode != 0:
        return None
    out = proc.stdout
    if out.endswith(b"\n"):
        out = out[:-1]
    if not out:
        return None
    return Path(os.fsdecode(out))


def common_dir_of(root: Path) -> Path | None:
    """The common git dir of the worktree at ``root`` (where refs, objects and ``shallow``
    live), read from the files git keeps rather than asked of git or of the environment.

    A linked worktree's git dir holds a ``commondir`` file (a path, usually relative to
    that git dir); a plain clone's git dir is its own common dir.
    """
    git_dir = git_dir_of(root)
    if git_dir is None:
        return None
    try:
        text = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    common = Path(text)
    return common if common.is_absolute() else git_dir / common
