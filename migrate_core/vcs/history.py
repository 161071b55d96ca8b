"""What CI asks git about history: the base commit, what changed since, files there.

These questions may take a few git calls each and pay GitPython's import (~95 ms),
which the commit hook never does: importing this module does not import GitPython
either; the functions that need it import it when called.

GitPython is used at its command layer, :class:`git.Git`, through its own
environment handling (``update_environment`` / ``custom_environment``): it runs
``rev-parse``, ``merge-base``, ``rev-list`` and ``fetch`` with the same hygiene as
:func:`migrate_core.vcs.runner.run` (see ``_open``). Not through ``git.Repo``, whose
constructor reads ``GIT_COMMON_DIR`` and ``GIT_WORK_TREE`` from ``os.environ`` with
no way to ignore them: a surrounding hook's variables would make it read another
repository's refs and ``shallow`` file. The git dir and common dir are read from
the files git keeps (:func:`migrate_core.vcs.runner.common_dir_of`) instead.

Where GitPython would answer differently from git, git's answer is kept and the
function says why: revision *names* are resolved by ``git rev-parse``, not
``Repo.rev_parse`` (a Python re-implementation that fails on ``@{upstream}`` and
``@{<date>}``, see ``_resolve``); :func:`changed_files` keeps plain ``git diff
-z``/``git ls-files -z`` because GitPython's diff parser silently drops entries on
some file names; :func:`file_at` and :func:`list_files_at` keep plain
``cat-file``/``ls-tree`` because GitPython cannot read SHA-256 trees and would
double the cost of each call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import cast

from migrate_core.errors import GitError
from migrate_core.vcs import runner

if TYPE_CHECKING:
    # Only for annotations: importing GitPython costs ~95 ms (see the module docstring).
    from git import Git
    from git.exc import GitCommandError

ChangeStatus = Literal["A", "M", "D"]
"""How a file differs from the base: added, modified, deleted."""


@dataclass(frozen=True)
class _Repository:
    """GitPython's command runner for one working tree, and its common git dir."""

    git: Git
    common_dir: Path


def _open(root: Path) -> _Repository:
    """GitPython's ``Git`` for the working tree at ``root``, confined to that repository.

    The commands GitPython runs inherit :data:`os.environ`, and
    ``Git.update_environment`` can add or replace a variable, never remove one. So
    where :func:`~migrate_core.vcs.runner.env_for` *drops* a variable (a location
    variable exported by a surrounding hook, a foreign ``GIT_INDEX_FILE``), it is
    pinned here to the value git would have found by itself from ``root``; every other
    difference (``GIT_OPTIONAL_LOCKS=0``) is set as is. ``os.environ`` is never edited.
    """
    try:
        import git
    except ImportError as exc:
        # GitPython runs ``git version`` when imported and fails the import without git.
        raise GitError(
            f"GitPython could not start git ({exc}); install git and make sure it is on PATH."
        ) from exc
    if not root.is_dir():
        raise GitError(f"The folder {root} does not exist.")
    git_dir = runner.git_dir_of(root)
    common_dir = runner.common_dir_of(root)
    if git_dir is None or common_dir is None or not git_dir.is_dir():
        raise GitError(f"{root} is not the top folder of a git working tree.")
    command = git.Git(os.fspath(root.absolute()))
    wanted = runner.env_for(root)
    dropped = [name for name in os.environ if name not in wanted]
    overrides = {name: value for name, value in wanted.items() if os.environ.get(name) != value}
    if any(name in runner.LOCATION_VARS for name in dropped):
        overrides["GIT_DIR"] = os.fspath(git_dir)
        overrides["GIT_COMMON_DIR"] = os.fspath(common_dir)
        overrides["GIT_WORK_TREE"] = os.fspath(root.absolute())
    if "GIT_INDEX_FILE" in dropped:
        overrides["GIT_INDEX_FILE"] = os.fspath(git_dir / "index")
    command.update_environment(**overrides)
    return _Repository(command, common_dir)


def _stderr_of(exc: GitCommandError) -> str:
    """git's own stderr from a GitPython error, which wraps it as ``\\n  stderr: '...'``."""
    text = exc.stderr
    prefix = "\n  stderr: '"
    if text.startswith(prefix) and text.endswith("'"):
        return text[len(prefix) : -1]
    return text


def _failed(exc: GitCommandError) -> GitError:
    """The :class:`GitError` for a git command GitPython ran and that failed, worded like
    the ones :func:`runner.run` raises."""
    args = [str(part) for part in exc.command[1:]]
    stderr = _stderr_of(exc)
    first = runner.first_line(stderr.encode("utf-8", "replace")) or "no message"
    return GitError(
        f"{runner.display(args)} failed (exit {exc.status}): {first}", command=args, stderr=stderr
    )


def _resolve(repo: _Repository, rev: str) -> str | None:
    """The full sha of the commit ``rev`` names (an annotated tag peels to its commit), or
    None if it names none here.

    Asked of ``git rev-parse --verify`` through GitPython's ``Git``, not of ``Repo.commit`` /
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


def _merge_base(repo: _Repository, a: str, b: str) -> str | None:
    """The best common ancestor of commits ``a`` and ``b``, None if git finds none (exit 1),
    which in a shallow clone usually means the history joining them was not fetched.

    ``git merge-base`` through GitPython's ``Git`` rather than ``Repo.merge_base``: that one
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


def _shallow_commits(repo: _Repository) -> set[str] | None:
    """The commits at the shallow boundary, or None if the clone is complete.

    Read from ``shallow`` in the common git dir (shared by all worktrees, see
    :func:`~migrate_core.vcs.runner.common_dir_of`); git itself calls a repository shallow exactly when it can open that
    file, which is what :func:`is_shallow` answers with one more process.
    """
    try:
        text = (repo.common_dir / "shallow").read_text(encoding="ascii")
    except OSError:
        return None
    return set(text.split())


def _exact_in_shallow(repo: _Repository, head: str, base: str, found: str) -> bool:
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
    if runner.SHA_RE.fullmatch(name) or name.startswith("refs/"):
        return name, name
    return name, f"+{name}:refs/remotes/origin/{name}"


def _ref_candidates(ref: str) -> list[str]:
    """``ref``, then ``origin/<ref>``: in GitHub Actions ``GITHUB_BASE_REF`` is a bare
    ``main`` while the checkout has at most ``origin/main``."""
    if ref.startswith("origin/") or runner.SHA_RE.fullmatch(ref):
        return [ref]
    return [ref, f"origin/{ref}"]


def resolve_ref(repo_root: Path, ref: str) -> str:
    """The full sha of the commit ``ref`` names here (``ref``, else ``origin/<ref>``).

    No fetching: call :func:`resolve_base` first, which fetches a missing base into
    ``refs/remotes/origin/<ref>``; this then answers the base branch's *tip* (for
    "which migrations exist on the base branch"), where resolve_base answers the fork
    point.
    """
    runner.check_rev(ref)
    candidates = _ref_candidates(ref)
    repo = _open(repo_root)
    for candidate in candidates:
        sha = _resolve(repo, candidate)
        if sha is not None:
            return sha
    raise GitError(
        f"{ref!r} names no commit here (tried {', '.join(candidates)}). Check the branch "
        f"name, or fetch it first (`git fetch origin {ref}`)."
    )


def _fetch(
    repo: _Repository,
    refspec: str | None,
    *,
    depth: int | None = None,
    deepen: int | None = None,
    unshallow: bool = False,
) -> None:
    """``git fetch --no-tags [--depth=N | --deepen=N | --unshallow] origin [<refspec>]``.

    ``refspec=None`` fetches what origin's configured refspec says (its HEAD if none
    is configured). The commit fetched is read back from ``FETCH_HEAD`` by the
    caller, so the per-ref report of GitPython's ``Remote.fetch`` is not needed (nor
    its check that origin has a fetch refspec configured, which plain ``git fetch
    origin`` does not require). The remote is named rather than looked up in the
    configuration, so a missing ``origin`` fails with git's own message. ``runner.NETWORK_ENV`` is added for the duration.
    """
    from git.exc import GitCommandError

    options: dict[str, Any] = {"no_tags": True}
    if depth is not None:
        options["depth"] = depth
    if deepen is not None:
        options["deepen"] = deepen
    if unshallow:
        options["unshallow"] = True
    specs = [] if refspec is None else [refspec]
    try:
        with repo.git.custom_environment(**runner.NETWORK_ENV):
            repo.git.fetch("origin", *specs, **options)
    except GitCommandError as exc:
        raise _failed(exc) from exc


def _fetch_more(repo: _Repository, refspec: str, *, deepen: int | None = None) -> None:
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
    runner.check_rev(ref)
    return _resolve_base(_open(repo_root), ref, max_deepen=max_deepen, first_step=first_step)


def _resolve_base(repo: _Repository, ref: str, *, max_deepen: int, first_step: int) -> str:
    """:func:`resolve_base` on an opened repository."""
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
                f"and could not be fetched from origin: {runner.first_line(exc.stderr.encode())}\n"
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
                f"more history from origin failed: {runner.first_line(exc.stderr.encode())}\n{fix}",
                command=exc.command,
                stderr=exc.stderr,
            ) from exc
        shallow = _shallow_commits(repo) is not None
    raise GitError(
        f"Cannot find where HEAD left {ref!r} in this shallow clone, even after fetching "
        f"more history. {fix}"
    )


def is_shallow(repo_root: Path) -> bool:
    """Whether the clone is shallow (CI checkouts usually are: ``fetch-depth: 1``)."""
    proc = runner.run(repo_root, ["rev-parse", "--is-shallow-repository"])
    return proc.stdout.strip() == b"true"


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
    runner.check_rev(base)
    if paths_under is not None and not paths_under:
        return {}
    specs = (
        [] if paths_under is None else [runner.relative(repo_root, p) or "." for p in paths_under]
    )
    proc = runner.run(
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
    fields = runner.split_z(proc.stdout)
    result: dict[str, ChangeStatus] = {}
    for code, path in zip(fields[::2], fields[1::2]):
        letter = code[:1]
        result[path] = cast(ChangeStatus, letter) if letter in ("A", "D") else "M"
    if include_untracked:
        proc = runner.run(
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
        for path in runner.split_z(proc.stdout):
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
    runner.check_rev(rev)
    runner.check_path(path)
    request = f"{rev}^{{tree}}\n{rev}:{path}\n".encode("utf-8", "surrogateescape")
    proc = runner.run(repo_root, ["cat-file", "--batch"], input=request)
    first = proc.stdout.split(b"\n", 1)[0]
    if first.endswith((b" missing", b" ambiguous")):
        raise GitError(f"{rev!r} is not a commit of the repository at {repo_root}.")
    return runner.parse_batch(proc.stdout, 2)[1]


def list_files_at(repo_root: Path, rev: str, folder: str) -> list[str]:
    """Files under ``folder`` (repository-relative POSIX, ``""`` for all) at ``rev``, sorted.

    ``--full-tree`` makes the folder relative to the top whatever the cwd, and
    ``ls-tree`` matches whole path components, so ``shop/mig`` does not list
    ``shop/migrations``. Submodules and symlinked folders are not descended into.
    Plain git rather than ``Tree.traverse()`` for the reasons given in :func:`file_at`
    (GitPython cannot read SHA-256 trees).
    """
    runner.check_rev(rev)
    folder = folder.strip("/")
    args = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", rev]
    if folder:
        runner.check_path(folder)
        args += ["--", folder]
    proc = runner.run(repo_root, args, hint=f"Is {rev!r} a commit of this repository?")
    files = []
    for entry in runner.split_z(proc.stdout):
        meta, _, path = entry.partition("\t")
        if meta.split(" ")[1:2] == ["blob"]:
            files.append(path)
    return sorted(files)
