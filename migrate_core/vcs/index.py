"""What the commit hook asks git about the index: staged paths, blobs, hunks, staging.

The hook runs on every commit and its "no model changed" path must finish in
under 80 ms including interpreter start, so each function here runs the ``git``
binary exactly once through :func:`migrate_core.vcs.runner.run`, and this module
imports only the standard library (GitPython's import alone costs ~95 ms, more
than the whole budget). Conventions for paths and errors: see
:mod:`migrate_core.vcs.runner`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from typing import cast

from migrate_core.vcs import runner

StagedStatus = Literal["A", "M", "D", "R", "T", "U"]
"""Status letters of ``git diff --name-status``: added, modified, deleted, renamed,
type changed (file <-> symlink), unmerged (a merge conflict not yet resolved)."""

_HUNK_HEADER_RE = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


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


def staged_paths(repo_root: Path) -> list[StagedPath]:
    """What the next commit changes: index against HEAD, one ``git diff --cached`` call.

    With no commit yet, ``git diff --cached`` without a revision compares against the
    empty tree by itself (documented in git-diff(1) for unborn branches), so the
    first commit needs no second call to find out whether HEAD exists. ``-M`` is
    explicit because ``diff.renames`` may be off (or ``copies``) in user config.
    Paths are repository-relative POSIX strings.
    """
    proc = runner.run(
        repo_root,
        ["diff", "--cached", "--name-status", "-z", "-M", "--no-ext-diff"],
        hint="Is this a git repository with a readable index?",
    )
    fields = runner.split_z(proc.stdout)
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


def staged_removals(repo_root: Path) -> list[str]:
    """Paths the next commit removes: deleted, or renamed away (the old path), one call.

    What pre-commit leaves out of the file names it passes (its list is
    ``--diff-filter=ACMRTUXB``, and a rename there is only its new path), while a
    deleted or renamed model module changes the models as much as an edited one.
    ``--no-renames`` makes a rename its deletion plus an addition, so one filter finds
    both; with no commit yet nothing can be removed, and git compares against the
    empty tree by itself. Repository-relative POSIX paths.
    """
    proc = runner.run(
        repo_root,
        [
            "diff",
            "--cached",
            "--name-only",
            "-z",
            "--no-renames",
            "--diff-filter=D",
            "--no-ext-diff",
        ],
        hint="Is this a git repository with a readable index?",
    )
    return runner.split_z(proc.stdout)


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
        runner.check_path(path)
        lines.append(f":0:{path}" if rev is None else f"{runner.check_rev(rev)}:{path}")
    request = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    proc = runner.run(repo_root, ["cat-file", "--batch"], input=request)
    return runner.parse_batch(proc.stdout, len(objects))


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
    runner.check_path(path)
    proc = runner.run(
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

    Inside a pre-commit hook this adds to the index being committed (see ``runner.env_for``
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
    rels = [runner.relative(repo_root, p) for p in paths]
    args = ["--literal-pathspecs", "add", "--", *rels]
    hint = "Check that the files exist and are not matched by .gitignore."
    runner.run(repo_root, args, hint=hint)
    index_file = runner.env_for(repo_root).get("GIT_INDEX_FILE")
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
            runner.run(repo_root, args, hint=hint, index_file=real_index)


def is_merging(repo_root: Path) -> bool:
    """Whether a merge is in progress (``MERGE_HEAD`` exists).

    ``rev-parse --git-path`` finds MERGE_HEAD in a linked worktree too, where it lives
    in ``.git/worktrees/<name>/`` and ``.git`` itself is a file.
    """
    proc = runner.run(repo_root, ["rev-parse", "--git-path", "MERGE_HEAD"])
    out = proc.stdout
    if out.endswith(b"\n"):
        out = out[:-1]
    merge_head = Path(os.fsdecode(out))
    if not merge_head.is_absolute():
        merge_head = repo_root / merge_head
    return merge_head.is_file()


def tracked_files(repo_root: Path, folder: Path) -> list[str]:
    """Files in the index under ``folder`` (absolute or repo-relative), repo-relative, sorted."""
    spec = runner.relative(repo_root, folder) or "."
    proc = runner.run(
        repo_root, ["--literal-pathspecs", "ls-files", "-z", "--full-name", "--cached", "--", spec]
    )
    return sorted(runner.split_z(proc.stdout))


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
    data = b"".join(runner.check_path(p).encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    runner.run(
        repo_root, ["checkout-index", "--force", f"--prefix={prefix}", "-z", "--stdin"], input=data
    )


def not_staged(repo_root: Path, folders: Sequence[Path]) -> list[str]:
    """Files under ``folders`` that the next commit would leave out: untracked, or edited but not staged.

    A migration the hook wrote and the developer has not ``git add``-ed yet is
    the case this is for: the commit would carry the model change without it.
    """
    specs = [runner.relative(repo_root, f) or "." for f in folders]
    if not specs:
        return []
    proc = runner.run(
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
    fields = runner.split_z(proc.stdout)
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
    proc = runner.run(repo_root, ["rev-parse", "--git-path", "hooks"])
    out = os.fsdecode(proc.stdout.rstrip(b"\n"))
    path = Path(out)
    return path if path.is_absolute() else repo_root / path


def add_worktree(repo_root: Path, rev: str, dest: Path) -> None:
    """Check ``rev`` out at ``dest`` as a detached worktree of this repository.

    The pre-push hook checks the commits being pushed, not the working tree (which may
    hold untracked migrations or edits): a worktree is a checkout of exactly that
    commit that still is a repository, so the git checks can ask it for their base.
    """
    runner.run(
        repo_root, ["worktree", "add", "--detach", "--quiet", str(dest), runner.check_rev(rev)]
    )


def remove_worktree(repo_root: Path, dest: Path) -> None:
    """Remove a worktree :func:`add_worktree` made (and git's record of it)."""
    runner.run(repo_root, ["worktree", "remove", "--force", str(dest)], ok=(0, 128))
    runner.run(repo_root, ["worktree", "prune"])
