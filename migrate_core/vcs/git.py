"""Everything migrate-core asks git, in one place.

Two speeds, two ways of asking.

*Fast, plain git.* The commit hook runs on every commit and its "no model changed"
path must finish in under 80 ms including interpreter start, so the functions it
uses (:func:`repo_root`, :func:`staged_paths`, :func:`staged_blob`,
:func:`head_blob`, :func:`read_blobs`, :func:`staged_hunks`, :func:`stage`,
:func:`is_merging`, :func:`is_shallow`, and their neighbours :func:`tracked_files`,
:func:`export_index`, :func:`not_staged`, :func:`hooks_path`) each run the ``git``
binary exactly once through :mod:`subprocess` (``_run``). They must not import
GitPython: its import alone costs ~95 ms, more than the whole budget. Importing
this module does not import it either; the rich functions import it when called.

*Rich, GitPython where it is at least as good.* The CI-side questions about
history may take a few git calls each and pay GitPython's import.
:func:`resolve_base` and :func:`resolve_ref` run on a GitPython ``Repo``
(``_repo``): it finds a worktree's git dir and common dir (where the ``shallow``
file lives), fetches and deepens with ``Remote.fetch``, and runs ``rev-parse``,
``merge-base`` and ``rev-list`` through ``repo.git`` with the same environment
hygiene as ``_run``. Where GitPython would answer differently from git, git's
answer is kept and the function says why: revision *names* are resolved by ``git
rev-parse``, not ``Repo.rev_parse`` (a Python re-implementation that fails on
``@{upstream}`` and ``@{<date>}``, see ``_resolve``); :func:`changed_files` keeps
plain ``git diff -z``/``git ls-files -z`` because GitPython's diff parser silently
drops entries on some file names; :func:`file_at` and :func:`list_files_at` keep
plain ``cat-file``/``ls-tree`` because GitPython cannot read SHA-256 trees and
would double the cost of each call.

Conventions (all functions):

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import cast

from migrate_core.errors import GitError

if TYPE_CHECKING:
    # Only for annotations: importing GitPython costs ~95 ms (see the module docstring).
    from git import Repo
    from git.exc import GitCommandError

StagedStatus = Literal["A", "M", "D", "R", "T", "U"]
"""Status letters of ``git diff --name-status``: added, modified, deleted, renamed,
type changed (file <-> symlink), unmerged (a merge conflict not yet resolved)."""

ChangeStatus = Literal["A", "M", "D"]
"""How a file differs from the base: added, modified, deleted."""

_SHA_RE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_HUNK_HEADER_RE = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

# Variables that make git locate the repository somewhere else than ``cwd``. Git exports
# GIT_DIR to hooks run in a linked worktree (GIT_DIR=<main>/.git/worktrees/<name>); with
# GIT_DIR set and no GIT_WORK_TREE, git takes the *current directory* as the top of the
# working tree, so ``rev-parse --show-toplevel`` from a subfolder would answer the
# subfolder. We always locate the repository from ``cwd=repo_root`` instead.
_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")

# Added to the environment of commands that talk to a remote: missing credentials must
# make ``git fetch`` fail in CI instead of waiting forever for a password.
_NETWORK_ENV = {"GIT_TERMINAL_PROMPT": "0"}


@dataclass(frozen=True)
class StagedPath:
    """One entry of the staged change set (HEAD, or the empty tree, -> index).

    ``path`` is the repository-relative POSIX path in the index (for ``D`` the path
    that is being removed); ``old_path`` is set only for ``R``, the path at HEAD.
    """

    status: StagedStatus
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class Hunk:
    """One ``-U0`` hunk of a diff: the lines removed from the old file, and added.

    ``old_start``/``new_start`` are git's header numbers. When a side has no lines,
    git reports the line *before* the change there (``@@ -3,0 +4,2 @@`` adds lines
    4-5 after old line 3), and ``0`` for an empty or absent file. Texts are decoded
    as UTF-8 (undecodable bytes become U+FFFD) without their line ending; a CRLF
    file's ``\\r`` is removed as well, so hunks compare equal across line endings.
    """

    old_start: int
    new_start: int
    removed: tuple[tuple[int, str], ...]
    added: tuple[tuple[int, str], ...]


# --------------------------------------------------------------------------------------
# running git
# --------------------------------------------------------------------------------------


def _git_dir_of(root: Path) -> Path | None:
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


def _env(root: Path) -> dict[str, str]:
    """The environment for a git child process working on the repository at ``root``.

    * Repository-location variables are dropped (see ``_LOCATION_VARS``): ``cwd`` says
      which repository we mean.
    * ``GIT_INDEX_FILE`` is kept only when it points inside ``root``'s git dir. During
      ``git commit -a`` or ``git commit <path>`` the pre-commit hook sees the content
      that will be committed only through it (``.git/index.lock``,
      ``next-index-*.lock``), so it must survive; pointing at another repository's
      index (a hook that runs our tests) it would be silently wrong.
    * ``GIT_OPTIONAL_LOCKS=0``: read-only commands must not take the index lock to
      refresh stat data; the commit running the hook holds it.
    * Network commands (``git fetch``, run by :func:`_fetch`) add ``_NETWORK_ENV``.
    """
    env = dict(os.environ)
    for name in _LOCATION_VARS:
        env.pop(name, None)
    index_file = env.get("GIT_INDEX_FILE")
    if index_file:
        git_dir = _git_dir_of(root)
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


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _display(args: Sequence[str]) -> str:
    return "git " + " ".join(shlex.quote(a) for a in args)


def _run(
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
    env = _env(root)
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
                f"{_display(args)}: the folder {root} does not exist.", command=args
            ) from exc
        raise GitError(
            "git is not installed or not on PATH; install git and try again.", command=args
        ) from exc
    except OSError as exc:
        raise GitError(f"{_display(args)} could not start: {exc}", command=args) from exc
    if proc.returncode not in ok:
        stderr = _first_line(proc.stderr)
        message = f"{_display(args)} failed (exit {proc.returncode}): {stderr or 'no message'}"
        if not (root / ".git").exists():
            # Outside a repository ``git diff`` quietly turns into ``git diff --no-index``
            # and complains about options instead ("unknown option `cached'").
            message += f"\n{root} is not the top folder of a git working tree."
        elif hint:
            message += f"\n{hint}"
        raise GitError(message, command=args, stderr=proc.stderr.decode("utf-8", "replace"))
    return proc


def _split_z(data: bytes) -> list[str]:
    """Fields of ``-z`` output. Git paths are bytes (UTF-8 in practice); any other byte is
    kept as a surrogate escape so the name round-trips to the same bytes."""
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "surrogateescape") for p in parts]


def _check_path(path: str) -> str:
    """Validate a repository-relative path before it is glued into ``<rev>:<path>``.

    An absolute path would turn ``:/foo`` into a commit-message search, and a newline
    would split the ``cat-file --batch`` request line in two.
    """
    if not path or path.startswith("/") or "\n" in path or "\0" in path or "\\" in path:
        raise GitError(f"{path!r} is not a repository-relative POSIX path (like 'shop/models.py').")
    return path


def _check_rev(rev: str) -> str:
    """Refuse revisions git would read as an option (``--output=...``) or that carry a
    path separator of their own."""
    if not rev or rev.startswith("-") or any(c in rev for c in "\n\0 :"):
        raise GitError(f"{rev!r} is not a valid git revision (branch, tag or commit sha).")
    return rev


def _relative(root: Path, path: Path) -> str:
    """``path`` (absolute, or relative to ``root``) as a repository-relative POSIX string."""
    if not path.is_absolute():
        path = root / path
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise GitError(f"{path} is outside the git repository at {root}.") from None
    text = rel.as_posix()
    return "" if text == "." else text


# --------------------------------------------------------------------------------------
# fast: used by the commit hook on every commit (one git call each, no GitPython)
# --------------------------------------------------------------------------------------


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
        proc = _run(start, ["rev-parse", "--show-toplevel"], ok=(0, 128))
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


def staged_paths(repo_root: Path) -> list[StagedPath]:
    """What the next commit changes: index against HEAD, one ``git diff --cached`` call.

    With no commit yet, ``git diff --cached`` without a revision compares against the
    empty tree by itself (documented in git-diff(1) for unborn branches), so the
    first commit needs no second call to find out whether HEAD exists. ``-M`` is
    explicit because ``diff.renames`` may be off (or ``copies``) in user config.
    Paths are repository-relative POSIX strings.
    """
    proc = _run(
        repo_root,
        ["diff", "--cached", "--name-status", "-z", "-M", "--no-ext-diff"],
        hint="Is this a git repository with a readable index?",
    )
    fields = _split_z(proc.stdout)
    result: list[StagedPath] = []
    i = 0
    while i < len(fields):
        code = fields[i]
        letter = code[:1]
        if letter in ("R", "C"):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if letter == "C":
                # Only with copy detection (not requested); a copy adds a file.
                result.append(StagedPath("A", new))
            else:
                result.append(StagedPath("R", new, old))
            continue
        path = fields[i + 1]
        i += 2
        if letter in ("A", "M", "D", "T", "U"):
            result.append(StagedPath(cast(StagedStatus, letter), path))
        else:
            # "X" (unknown) or a future letter: the file is touched, treat as modified.
            result.append(StagedPath("M", path))
    return result


def read_blobs(repo_root: Path, objects: Sequence[tuple[str | None, str]]) -> list[bytes | None]:
    """Contents of several files in one ``git cat-file --batch`` call.

    Each request is ``(rev, path)``: ``rev`` a revision (``"HEAD"``, a sha, a branch),
    or None for the index; ``path`` repository-relative POSIX. The answer for one
    request is None when the revision or the path does not exist there (an unborn
    HEAD, a file not yet added) or names a folder or submodule rather than a file.

    ``cat-file --batch`` answers "missing" on stdout instead of failing, so "file
    absent" never depends on parsing a translated error message. The index is
    addressed as ``:0:<path>`` rather than ``:<path>`` so a file literally named
    ``1:x`` cannot be read as "stage 1 of x"; a path with conflict stages (during a
    merge) has no stage 0 and reads as None.
    """
    if not objects:
        return []
    lines = []
    for rev, path in objects:
        _check_path(path)
        lines.append(f":0:{path}" if rev is None else f"{_check_rev(rev)}:{path}")
    request = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    proc = _run(repo_root, ["cat-file", "--batch"], input=request)
    return _parse_batch(proc.stdout, len(objects))


def _parse_batch(out: bytes, count: int) -> list[bytes | None]:
    """Parse ``cat-file --batch`` output: ``<sha> <type> <size>\\n<data>\\n`` per object,
    or ``<request> missing|ambiguous\\n``."""
    results: list[bytes | None] = []
    pos = 0
    for _ in range(count):
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3 and _SHA_RE.fullmatch(header[0].decode("ascii", "replace")):
            size = int(header[2])
            data = out[pos : pos + size]
            pos += size + 1
            results.append(data if header[1] == b"blob" else None)
        else:
            results.append(None)
    return results


def staged_blob(repo_root: Path, path: str) -> bytes | None:
    """The content of ``path`` (repository-relative) as staged in the index, None if the
    index has no such file. This is what will be committed, not the working tree."""
    return read_blobs(repo_root, [(None, path)])[0]


def head_blob(repo_root: Path, path: str) -> bytes | None:
    """The content of ``path`` (repository-relative) at HEAD; None if it is absent there or
    there is no commit yet."""
    return read_blobs(repo_root, [("HEAD", path)])[0]


def staged_hunks(repo_root: Path, path: str) -> list[Hunk]:
    """The hunks of HEAD -> index for one file (repository-relative POSIX ``path``).

    Read from ``git diff --cached -U0``: git's own line matching is what the developer
    sees in review, and one call is cheaper than fetching both blobs and running
    difflib. Options pinned against user config: ``--no-color`` (``color.ui=always``),
    ``--no-ext-diff`` and ``--no-textconv`` (a textconv driver would show converted
    text whose line numbers are not the file's), ``--no-renames`` (a renamed file's
    new path diffs against nothing, so its old side is empty). An added file or a
    first commit yields one hunk with no removed lines; a deleted file one with no
    added lines; binary files no hunks. Hunk sizes are taken from each ``@@`` header,
    so a removed line that itself reads ``--- x`` is never mistaken for a file header.
    """
    _check_path(path)
    proc = _run(
        repo_root,
        [
            "--literal-pathspecs",
            "diff",
            "--cached",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            "--",
            path,
        ],
    )
    return parse_hunks(proc.stdout)


def parse_hunks(diff: bytes) -> list[Hunk]:
    """Hunks of a unified diff (``-U0`` or not; context lines are skipped) of one file."""
    hunks: list[Hunk] = []
    lines = diff.split(b"\n")
    i = 0
    while i < len(lines):
        match = _HUNK_HEADER_RE.match(lines[i])
        i += 1
        if match is None:
            continue
        old_start = int(match.group(1))
        old_count = 1 if match.group(2) is None else int(match.group(2))
        new_start = int(match.group(3))
        new_count = 1 if match.group(4) is None else int(match.group(4))
        removed: list[tuple[int, str]] = []
        added: list[tuple[int, str]] = []
        old_line, new_line = old_start, new_start
        old_left, new_left = old_count, new_count
        while (old_left or new_left) and i < len(lines):
            line = lines[i]
            i += 1
            tag, body = line[:1], line[1:]
            if body.endswith(b"\r"):
                body = body[:-1]
            if tag == b"-" and old_left:
                removed.append((old_line, body.decode("utf-8", "replace")))
                old_line += 1
                old_left -= 1
            elif tag == b"+" and new_left:
                added.append((new_line, body.decode("utf-8", "replace")))
                new_line += 1
                new_left -= 1
            elif tag == b" " and old_left and new_left:
                old_line += 1
                new_line += 1
                old_left -= 1
                new_left -= 1
            # "\ No newline at end of file" belongs to the line before it: skip.
        hunks.append(Hunk(old_start, new_start, tuple(removed), tuple(added)))
    return hunks


def stage(repo_root: Path, paths: list[Path]) -> None:
    """``git add`` the given files (absolute, or relative to ``repo_root``).

    Inside a pre-commit hook this adds to the index being committed (see ``_env``
    about ``GIT_INDEX_FILE``), which is how a generated migration joins the commit
    that needed it. Ignored files are refused by git, not forced: a migrations folder
    matched by ``.gitignore`` is a configuration mistake the user should see.

    A partial commit (``git commit <paths>``) is special: git commits a temporary
    ``next-index-<pid>.lock`` built from HEAD, and afterwards installs the real index
    from ``index.lock``, which it prepared before running the hook. Adding only to the
    temporary one commits the migration but leaves it "deleted" in the index and
    untracked on disk. So in that case the file is added to ``index.lock`` as well.
    """
    if not paths:
        return
    rels = [_relative(repo_root, p) for p in paths]
    args = ["--literal-pathspecs", "add", "--", *rels]
    hint = "Check that the files exist and are not matched by .gitignore."
    _run(repo_root, args, hint=hint)
    index_file = _env(repo_root).get("GIT_INDEX_FILE")
    if index_file:
        commit_index = Path(index_file)
        if not commit_index.is_absolute():
            commit_index = repo_root / commit_index
        real_index = commit_index.parent / "index.lock"
        if (
            commit_index.name.startswith("next-index-")
            and commit_index.name.endswith(".lock")
            and real_index.is_file()
        ):
            _run(repo_root, args, hint=hint, index_file=real_index)


def is_merging(repo_root: Path) -> bool:
    """Whether a merge is in progress (``MERGE_HEAD`` exists).

    ``rev-parse --git-path`` finds MERGE_HEAD in a linked worktree too, where it lives
    in ``.git/worktrees/<name>/`` and ``.git`` itself is a file.
    """
    proc = _run(repo_root, ["rev-parse", "--git-path", "MERGE_HEAD"])
    out = proc.stdout
    if out.endswith(b"\n"):
        out = out[:-1]
    merge_head = Path(os.fsdecode(out))
    if not merge_head.is_absolute():
        merge_head = repo_root / merge_head
    return merge_head.is_file()


def is_shallow(repo_root: Path) -> bool:
    """Whether the clone is shallow (CI checkouts usually are: ``fetch-depth: 1``)."""
    proc = _run(repo_root, ["rev-parse", "--is-shallow-repository"])
    return proc.stdout.strip() == b"true"


def tracked_files(repo_root: Path, folder: Path) -> list[str]:
    """Files in the index under ``folder`` (absolute or repo-relative), repo-relative, sorted."""
    spec = _relative(repo_root, folder) or "."
    proc = _run(
        repo_root, ["--literal-pathspecs", "ls-files", "-z", "--full-name", "--cached", "--", spec]
    )
    return sorted(_split_z(proc.stdout))


def export_index(repo_root: Path, paths: Sequence[str], dest: Path) -> None:
    """Write the staged (index) version of ``paths`` under ``dest``, keeping their layout.

    The hook imports the models as they will be committed, not as they are on
    disk: in a plain git hook nothing stashes unstaged edits, and even under
    pre-commit untracked files stay. ``checkout-index --prefix`` writes exactly
    the index content, in one call for any number of files.
    """
    if not paths:
        return
    prefix = str(dest.absolute()) + os.sep
    data = b"".join(_check_path(p).encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    _run(
        repo_root, ["checkout-index", "--force", f"--prefix={prefix}", "-z", "--stdin"], input=data
    )


def not_staged(repo_root: Path, folders: Sequence[Path]) -> list[str]:
    """Files under ``folders`` that the next commit would leave out: untracked, or edited but not staged.

    A migration the hook wrote and the developer has not ``git add``-ed yet is
    the case this is for: the commit would carry the model change without it.
    """
    specs = [_relative(repo_root, f) or "." for f in folders]
    if not specs:
        return []
    proc = _run(
        repo_root,
        [
            "--literal-pathspecs",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
            *specs,
        ],
    )
    out = []
    fields = _split_z(proc.stdout)
    i = 0
    while i < len(fields):
        entry = fields[i]
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":
            i += 1  # the original path of a rename follows as its own field
        if code == "??" or code[1] in "MD":
            out.append(path)
        i += 1
    return sorted(out)


def hooks_path(repo_root: Path) -> Path:
    """Where git looks for hooks here (``core.hooksPath`` and worktrees respected)."""
    proc = _run(repo_root, ["rev-parse", "--git-path", "hooks"])
    out = os.fsdecode(proc.stdout.rstrip(b"\n"))
    path = Path(out)
    return path if path.is_absolute() else repo_root / path


# --------------------------------------------------------------------------------------
# rich: CI-side questions about history (GitPython; a few git calls each is fine)
# --------------------------------------------------------------------------------------


def _repo(root: Path) -> Repo:
    """GitPython's view of the repository whose working tree is ``root``, confined to it.

    The git commands GitPython runs inherit :data:`os.environ`, and
    ``Git.update_environment`` can add or replace a variable, never remove one. So
    where ``_env`` *drops* a variable (a location variable exported by a surrounding
    hook, a foreign ``GIT_INDEX_FILE``), it is pinned here to the value git would have
    found by itself from ``root``; every other difference of ``_env``
    (``GIT_OPTIONAL_LOCKS=0``) is set as is. Close the result (``with _repo(root) as
    repo:``): GitPython may keep ``cat-file`` processes running for it.
    """
    try:
        import git
    except ImportError as exc:
        # GitPython runs ``git version`` when imported and fails the import without git.
        raise GitError(
            f"GitPython could not start git ({exc}); install git and make sure it is on PATH."
        ) from exc
    # ``Repo()`` itself reads GIT_COMMON_DIR (and GIT_WORK_TREE, given a git dir) from
    # os.environ to find the repository, and has no option to ignore them: a hook's
    # variables would make it read another repository's refs and shallow file. So they
    # are hidden for the constructor only. This mutates os.environ, which is safe
    # because migrate-core asks git from one thread.
    hidden = {name: os.environ.pop(name) for name in _LOCATION_VARS if name in os.environ}
    try:
        # expand_vars=False: a folder literally named ``$HOME`` is not to be expanded.
        repo = git.Repo(os.fspath(root.absolute()), expand_vars=False)
    except git.NoSuchPathError:
        raise GitError(f"The folder {root} does not exist.") from None
    except git.InvalidGitRepositoryError:
        raise GitError(f"{root} is not the top folder of a git working tree.") from None
    finally:
        os.environ.update(hidden)
    wanted = _env(root)
    dropped = [name for name in os.environ if name not in wanted]
    overrides = {name: value for name, value in wanted.items() if os.environ.get(name) != value}
    if any(name in _LOCATION_VARS for name in dropped):
        overrides["GIT_DIR"] = os.fspath(repo.git_dir)
        overrides["GIT_COMMON_DIR"] = os.fspath(repo.common_dir)
        if repo.working_tree_dir is not None:
            overrides["GIT_WORK_TREE"] = os.fspath(repo.working_tree_dir)
    if "GIT_INDEX_FILE" in dropped:
        overrides["GIT_INDEX_FILE"] = os.path.join(repo.git_dir, "index")
    repo.git.update_environment(**overrides)
    return repo


def _stderr_of(exc: GitCommandError) -> str:
    """git's own stderr from a GitPython error, which wraps it as ``\\n  stderr: '...'``."""
    text = exc.stderr
    prefix = "\n  stderr: '"
    if text.startswith(prefix) and text.endswith("'"):
        return text[len(prefix) : -1]
    return text


def _failed(exc: GitCommandError) -> GitError:
    """The :class:`GitError` for a git command GitPython ran and that failed, worded like
    the ones :func:`_run` raises."""
    args = [str(part) for part in exc.command[1:]]
    stderr = _stderr_of(exc)
    first = _first_line(stderr.encode("utf-8", "replace")) or "no message"
    return GitError(
        f"{_display(args)} failed (exit {exc.status}): {first}", command=args, stderr=stderr
    )


def _resolve(repo: Repo, rev: str) -> str | None:
    """The full sha of the commit ``rev`` names (an annotated tag peels to its commit), or
    None if it names none here.

    Asked of ``git rev-parse --verify`` through ``repo.git``, not of ``Repo.commit`` /
    ``Repo.rev_parse``: those re-implement revision syntax in Python, and it differs
    from git on names a developer may well pass as the base: ``@{upstream}`` (``@{u}``,
    ``main@{u}``) fails with ValueError and ``main@{yesterday}`` raises
    NotImplementedError, where git answers both.
    """
    from git.exc import GitCommandError

    try:
        out: str = repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}")
    except GitCommandError:
        return None
    return out.strip() or None


def _merge_base(repo: Repo, a: str, b: str) -> str | None:
    """The best common ancestor of commits ``a`` and ``b``, None if git finds none (exit 1),
    which in a shallow clone usually means the history joining them was not fetched.

    ``git merge-base`` through ``repo.git`` rather than ``Repo.merge_base``: that one
    only adds a Commit object per answer, looked up by a Python parser that accepts
    SHA-1 names only (in a SHA-256 repository it raises BadName), to give us back
    the sha we already have.
    """
    from git.exc import GitCommandError

    try:
        out: str = repo.git.merge_base(a, b)
    except GitCommandError as exc:
        if exc.status == 1:
            return None
        raise _failed(exc) from exc
    return out.strip() or None


def _shallow_commits(repo: Repo) -> set[str] | None:
    """The commits at the shallow boundary, or None if the clone is complete.

    Read from ``shallow`` in the common git dir (shared by all worktrees, found by
    GitPython); git itself calls a repository shallow exactly when it can open that
    file, which is what :func:`is_shallow` answers with one more process.
    """
    try:
        text = (Path(repo.common_dir) / "shallow").read_text(encoding="ascii")
    except OSError:
        return None
    return set(text.split())


def _exact_in_shallow(repo: Repo, head: str, base: str, found: str) -> bool:
    """Whether a merge base found in a shallow clone is the true one.

    A shallow boundary hides a commit's parents, so ``git merge-base`` may find an
    older common ancestor reachable around the cut (criss-cross merges). The answer
    is certain when no shallow commit lies in the part of history that matters:
    commits reachable from HEAD or the base but not from the found merge base. If
    that part is complete, any better common ancestor would have been found.
    """
    from git.exc import GitCommandError

    shallow = _shallow_commits(repo)
    if not shallow:
        return True
    try:
        # Only the shas are needed: ``iter_commits`` would build a Commit for each.
        region = repo.git.rev_list(head, base, f"^{found}").split()
    except GitCommandError as exc:
        raise _failed(exc) from exc
    return shallow.isdisjoint(region)


def _fetch_spec(ref: str) -> tuple[str, str]:
    """What to ask origin for, and the refspec that also records it locally.

    ``main`` and ``origin/main`` both fetch origin's ``main`` into
    ``refs/remotes/origin/main``, so later runs (and the user) find ``origin/main``.
    """
    name = ref[len("origin/") :] if ref.startswith("origin/") else ref
    if _SHA_RE.fullmatch(name) or name.startswith("refs/"):
        return name, name
    return name, f"+{name}:refs/remotes/origin/{name}"


def _ref_candidates(ref: str) -> list[str]:
    """``ref``, then ``origin/<ref>``: in GitHub Actions ``GITHUB_BASE_REF`` is a bare
    ``main`` while the checkout has at most ``origin/main``."""
    if ref.startswith("origin/") or _SHA_RE.fullmatch(ref):
        return [ref]
    return [ref, f"origin/{ref}"]


def resolve_ref(repo_root: Path, ref: str) -> str:
    """The full sha of the commit ``ref`` names here (``ref``, else ``origin/<ref>``).

    No fetching: call :func:`resolve_base` first, which fetches a missing base into
    ``refs/remotes/origin/<ref>``; this then answers the base branch's *tip* (for
    "which migrations exist on the base branch"), where resolve_base answers the fork
    point.
    """
    _check_rev(ref)
    candidates = _ref_candidates(ref)
    with _repo(repo_root) as repo:
        for candidate in candidates:
            sha = _resolve(repo, candidate)
            if sha is not None:
                return sha
    raise GitError(
        f"{ref!r} names no commit here (tried {', '.join(candidates)}). Check the branch "
        f"name, or fetch it first (`git fetch origin {ref}`)."
    )


def _fetch(
    repo: Repo,
    refspec: str | None,
    *,
    depth: int | None = None,
    deepen: int | None = None,
    unshallow: bool = False,
) -> None:
    """``git fetch --no-tags [--depth=N | --deepen=N | --unshallow] origin [<refspec>]``.

    ``refspec=None`` fetches what origin's configured refspec says (its HEAD if none
    is configured). The commit fetched is read back from ``FETCH_HEAD`` by the
    caller; the per-ref report ``Remote.fetch`` returns is not needed. The remote is
    named rather than looked up in the configuration, so a missing ``origin`` fails
    with git's own message. ``_NETWORK_ENV`` is added for the duration.
    """
    from git import Remote
    from git.exc import GitCommandError

    options: dict[str, Any] = {"no_tags": True}
    if depth is not None:
        options["depth"] = depth
    if deepen is not None:
        options["deepen"] = deepen
    if unshallow:
        options["unshallow"] = True
    # An empty list, unlike None, skips GitPython's check that origin has a fetch
    # refspec configured: it is what plain ``git fetch origin`` does.
    specs = [] if refspec is None else [refspec]
    try:
        with repo.git.custom_environment(**_NETWORK_ENV):
            Remote(repo, "origin").fetch(specs, **options)
    except GitCommandError as exc:
        raise _failed(exc) from exc


def _fetch_more(repo: Repo, refspec: str, *, deepen: int | None = None) -> None:
    """``git fetch --deepen=<deepen>`` from origin, or ``--unshallow`` if None.

    The server deepens *every* shallow boundary of ours that its refs reach, HEAD's
    included, whatever ref we name; naming the base keeps it from also downloading
    every other branch of the configured refspec. Only if origin does not have the
    base (a local branch, a sha) does the configured refspec serve instead.
    """
    try:
        _fetch(repo, refspec, deepen=deepen, unshallow=deepen is None)
    except GitError:
        _fetch(repo, None, deepen=deepen, unshallow=deepen is None)


def resolve_base(repo_root: Path, ref: str, *, max_deepen: int = 1000, first_step: int = 50) -> str:
    """The merge-base commit sha of HEAD and ``ref``: where this branch left the base.

    ``ref`` is a branch (``main``, ``origin/main``), a tag, or a commit sha. In GitHub
    Actions ``GITHUB_BASE_REF`` is a bare ``main`` while the checkout only has
    ``origin/main`` (or nothing), so ``origin/<ref>`` is tried after ``ref``.

    Shallow clones (``actions/checkout`` defaults to ``fetch-depth: 1``) are repaired
    rather than trusted: a missing ref is fetched from ``origin`` with
    ``--depth=<first_step>``, then history is deepened with ``git fetch --deepen``
    (``first_step`` commits, doubling each round) until the merge base is found *and*
    proven exact (see ``_exact_in_shallow``), up to ``max_deepen`` commits; then one
    ``--unshallow``. Note ``--depth`` is used only on an already shallow clone: on a
    complete one it would graft a new shallow boundary onto history we already have.
    Raises :class:`GitError` naming the ref and the fix rather than answering wrong.
    """
    _check_rev(ref)
    with _repo(repo_root) as repo:
        return _resolve_base(repo, ref, max_deepen=max_deepen, first_step=first_step)


def _resolve_base(repo: Repo, ref: str, *, max_deepen: int, first_step: int) -> str:
    """:func:`resolve_base` on an open ``Repo``, closed by the caller however this ends."""
    head = _resolve(repo, "HEAD")
    if head is None:
        raise GitError(
            f"Cannot compare with {ref!r}: this repository has no commit yet (HEAD is unborn)."
        )
    candidates = _ref_candidates(ref)
    base: str | None = None
    for candidate in candidates:
        base = _resolve(repo, candidate)
        if base is not None:
            break

    shallow = _shallow_commits(repo) is not None
    fix = (
        "In GitHub Actions, check out with full history: `actions/checkout` with "
        "`fetch-depth: 0`; elsewhere run `git fetch --unshallow origin` first."
    )
    _, refspec = _fetch_spec(ref)
    if base is None:
        try:
            _fetch(repo, refspec, depth=first_step if shallow else None)
        except GitError as exc:
            raise GitError(
                f"The base ref {ref!r} is not known here (tried {', '.join(candidates)}) "
                f"and could not be fetched from origin: {_first_line(exc.stderr.encode())}\n"
                f"Check the branch name, or fetch it first (`git fetch origin {ref}`). {fix}",
                command=exc.command,
                stderr=exc.stderr,
            ) from exc
        base = _resolve(repo, "FETCH_HEAD")
        if base is None:
            raise GitError(f"Fetching {ref!r} from origin gave no commit. {fix}")

    fetched = first_step
    step = first_step
    unshallowed = False
    while True:
        found = _merge_base(repo, head, base)
        if not shallow:
            if found is not None:
                return found
            raise GitError(
                f"HEAD and {ref!r} ({base[:12]}) have no common ancestor"
                + (" even after fetching the full history. " if unshallowed else ". ")
                + f"Is {ref!r} really the base branch of this one? {fix}"
            )
        if found is not None and _exact_in_shallow(repo, head, base, found):
            return found
        if unshallowed:
            # --unshallow succeeded but the repository is still shallow: give up.
            break
        deepen: int | None = None  # None: --unshallow
        if fetched < max_deepen:
            deepen = step
            fetched += step
            step *= 2
        else:
            unshallowed = True
        try:
            _fetch_more(repo, refspec, deepen=deepen)
        except GitError as exc:
            raise GitError(
                f"Cannot find where HEAD left {ref!r}: this is a shallow clone and fetching "
                f"more history from origin failed: {_first_line(exc.stderr.encode())}\n{fix}",
                command=exc.command,
                stderr=exc.stderr,
            ) from exc
        shallow = _shallow_commits(repo) is not None
    raise GitError(
        f"Cannot find where HEAD left {ref!r} in this shallow clone, even after fetching "
        f"more history. {fix}"
    )


def changed_files(
    repo_root: Path,
    base: str,
    paths_under: list[Path] | None = None,
    *,
    include_untracked: bool = True,
) -> dict[str, ChangeStatus]:
    """Files that differ between commit ``base`` and the working tree, by repo-relative path.

    Covers what was committed since ``base`` and what is staged or only edited, so a
    developer can run the CI check before committing; ``include_untracked`` adds new
    files not yet ``git add``-ed (a freshly generated migration), minus ignored ones.
    ``paths_under`` limits the answer to folders (absolute, or relative to
    ``repo_root``); None means the whole repository. Renames appear as ``D`` of the
    old path plus ``A`` of the new (``--no-renames``): a moved migration file is a
    removed migration and a new one. A type change (file <-> symlink) or an unmerged
    path counts as ``M``.

    Plain git on purpose, not ``Commit.diff(None)`` and ``Repo.untracked_files``.
    GitPython parses the raw diff in a reader thread that decodes it as strict UTF-8
    and splits records on ``\\0:``: a file name that is not UTF-8, or that starts with
    ``:``, makes that thread fail and ``diff()`` return a short list *without
    raising*, so a changed migration would silently pass the check.
    ``untracked_files`` parses ``git status --porcelain`` without ``-z`` (raising
    UnicodeDecodeError on such a name), takes no pathspec, and computes the whole
    status. ``git diff -z`` and ``git ls-files -z`` with our own parsing have neither
    problem.
    """
    _check_rev(base)
    if paths_under is not None and not paths_under:
        return {}
    specs = [] if paths_under is None else [_relative(repo_root, p) or "." for p in paths_under]
    proc = _run(
        repo_root,
        [
            "--literal-pathspecs",
            "diff",
            "--name-status",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            base,
            "--",
            *specs,
        ],
        hint=f"Is {base!r} a commit of this repository?",
    )
    fields = _split_z(proc.stdout)
    result: dict[str, ChangeStatus] = {}
    for code, path in zip(fields[::2], fields[1::2]):
        letter = code[:1]
        result[path] = cast(ChangeStatus, letter) if letter in ("A", "D") else "M"
    if include_untracked:
        proc = _run(
            repo_root,
            [
                "--literal-pathspecs",
                "ls-files",
                "-z",
                "--full-name",
                "--others",
                "--exclude-standard",
                "--",
                *specs,
            ],
        )
        for path in _split_z(proc.stdout):
            result.setdefault(path, "A")
    return dict(sorted(result.items()))


def file_at(repo_root: Path, rev: str, path: str) -> bytes | None:
    """The content of ``path`` (repository-relative) at revision ``rev``.

    None when the file does not exist there; :class:`GitError` when ``rev`` itself is
    unknown, so a typo in a branch name is not mistaken for "file absent" (one
    ``cat-file --batch`` call asks both questions).

    Plain git, not GitPython's ``Tree / path`` and ``Blob.data_stream``, although they
    would do the same: GitPython parses tree objects assuming 20-byte SHA-1 ids, so
    in a SHA-256 repository (``git init --object-format=sha256``) every lookup fails
    with AssertionError; and each call would cost a ``Repo``, a ``git rev-parse`` to
    resolve ``rev`` and a ``cat-file`` process, over twice the time of this one
    ``cat-file --batch``, in a function the git check calls once per migration file
    of the base branch.
    """
    _check_rev(rev)
    _check_path(path)
    request = f"{rev}^{{tree}}\n{rev}:{path}\n".encode("utf-8", "surrogateescape")
    proc = _run(repo_root, ["cat-file", "--batch"], input=request)
    first = proc.stdout.split(b"\n", 1)[0]
    if first.endswith((b" missing", b" ambiguous")):
        raise GitError(f"{rev!r} is not a commit of the repository at {repo_root}.")
    return _parse_batch(proc.stdout, 2)[1]


def list_files_at(repo_root: Path, rev: str, folder: str) -> list[str]:
    """Files under ``folder`` (repository-relative POSIX, ``""`` for all) at ``rev``, sorted.

    ``--full-tree`` makes the folder relative to the top whatever the cwd, and
    ``ls-tree`` matches whole path components, so ``shop/mig`` does not list
    ``shop/migrations``. Submodules and symlinked folders are not descended into.
    Plain git rather than ``Tree.traverse()`` for the reasons given in :func:`file_at`
    (GitPython cannot read SHA-256 trees).
    """
    _check_rev(rev)
    folder = folder.strip("/")
    args = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", rev]
    if folder:
        _check_path(folder)
        args += ["--", folder]
    proc = _run(repo_root, args, hint=f"Is {rev!r} a commit of this repository?")
    files = []
    for entry in _split_z(proc.stdout):
        meta, _, path = entry.partition("\t")
        if meta.split(" ")[1:2] == ["blob"]:
            files.append(path)
    return sorted(files)
