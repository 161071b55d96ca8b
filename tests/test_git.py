"""migrate_core.vcs (runner, index, history) against real repositories made with the git binary in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate_core.errors import GitError
from migrate_core.vcs import history
from migrate_core.vcs import index
from migrate_core.vcs import runner
from migrate_core.vcs.index import Hunk
from migrate_core.vcs.index import StagedPath

# Variables git exports to hooks: if these tests run from a hook (pre-commit running
# pytest), they would point every command below at the outer repository.
_HOOK_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")

# A user configuration that breaks naive parsing of git output; the library must
# not depend on any of these being at their defaults.
_HOSTILE_GLOBAL_CONFIG = """\
[color]
    ui = always
[diff]
    renames = false
    noprefix = true
    mnemonicPrefix = true
    algorithm = histogram
[core]
    quotepath = true
[status]
    showUntrackedFiles = no
"""


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _HOOK_VARS:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "gitconfig"
    config.write_text(_HOSTILE_GLOBAL_CONFIG, encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # Discovery must never wander out of tmp_path into whatever holds it.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    # The library must not depend on the process cwd: stand somewhere unrelated.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    yield


class Repo:
    """A scratch repository driven through the git binary."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def init(cls, path: Path, *, branch: str = "main") -> Repo:
        path.mkdir(parents=True, exist_ok=True)
        run_git(path, "-c", f"init.defaultBranch={branch}", "init", "-q")
        repo = cls(path)
        repo.configure()
        return repo

    @classmethod
    def clone(cls, source: Repo, path: Path, *args: str) -> Repo:
        run_git(source.root.parent, "clone", "-q", *args, f"file://{source.root}", str(path))
        repo = cls(path)
        repo.configure()
        return repo

    def configure(self) -> None:
        self.git("config", "user.name", "Test")
        self.git("config", "user.email", "test@example.com")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        return run_git(self.root, *args)

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    def commit(self, message: str = "change", *, all_files: bool = True) -> str:
        if all_files:
            self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def run_git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.init(tmp_path / "repo")


# ---------------------------------------------------------------------------------------
# repo_root
# ---------------------------------------------------------------------------------------


def test_repo_root_from_top_subfolder_file_and_missing_path(repo: Repo) -> None:
    repo.write("shop/models.py", "x = 1\n")
    root = repo.root.resolve()
    assert runner.repo_root(repo.root) == root
    assert runner.repo_root(repo.root / "shop") == root
    assert runner.repo_root(repo.root / "shop" / "models.py") == root
    assert runner.repo_root(repo.root / "shop" / "not" / "yet.py") == root


def test_repo_root_outside_a_repository_is_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert runner.repo_root(plain) is None


def test_repo_root_in_a_linked_worktree(repo: Repo, tmp_path: Path) -> None:
    repo.write("shop/models.py", "x = 1\n")
    repo.commit()
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "feature", str(worktree))
    assert (worktree / ".git").is_file()
    assert runner.repo_root(worktree / "shop") == worktree.resolve()


# ---------------------------------------------------------------------------------------
# staged_paths
# ---------------------------------------------------------------------------------------


def test_staged_paths_first_commit_compares_with_the_empty_tree(repo: Repo) -> None:
    repo.write("shop/models.py", "x = 1\n")
    repo.write("README", "hi\n")
    repo.git("add", "shop/models.py")
    assert index.staged_paths(repo.root) == [StagedPath("A", "shop/models.py")]


def test_staged_paths_statuses(repo: Repo) -> None:
    repo.write("keep.py", "k = 1\n")
    repo.write("edit.py", "e = 1\n")
    repo.write("gone.py", "g = 1\n")
    repo.write("old name.py", "".join(f"line {i}\n" for i in range(20)))
    repo.commit()
    repo.write("edit.py", "e = 2\n")
    repo.write("new dir/café ☕.py", "n = 1\n")
    repo.git("rm", "-q", "gone.py")
    (repo.root / "sub").mkdir()
    repo.git("mv", "old name.py", "sub/new name.py")
    repo.git("add", "edit.py", "new dir")
    repo.write("keep.py", "k = 2\n")  # unstaged: not part of the commit
    got = sorted(index.staged_paths(repo.root), key=lambda p: p.path)
    assert got == [
        StagedPath("M", "edit.py"),
        StagedPath("D", "gone.py"),
        StagedPath("A", "new dir/café ☕.py"),
        StagedPath("R", "sub/new name.py", "old name.py"),
    ]


def test_staged_paths_nothing_staged(repo: Repo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit()
    repo.write("a.py", "a = 2\n")
    assert index.staged_paths(repo.root) == []


def test_staged_paths_in_a_worktree(repo: Repo, tmp_path: Path) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit()
    worktree = Repo(tmp_path / "wt")
    repo.git("worktree", "add", "-q", "-b", "feature", str(worktree.root))
    worktree.write("a.py", "a = 2\n")
    worktree.git("add", "a.py")
    assert index.staged_paths(worktree.root) == [StagedPath("M", "a.py")]
    assert index.staged_paths(repo.root) == []
    assert index.staged_blob(worktree.root, "a.py") == b"a = 2\n"


def test_staged_paths_outside_a_repository_raises(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError) as info:
        index.staged_paths(plain)
    message = str(info.value)
    assert "git diff --cached" in message
    assert "is not the top folder of a git working tree" in message
    assert info.value.exit_code == 2


def test_foreign_hook_variables_do_not_redirect_commands(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Repo.init(tmp_path / "other")
    other.write("other.py", "o = 1\n")
    other.git("add", "other.py")
    repo.write("mine.py", "m = 1\n")
    repo.git("add", "mine.py")
    monkeypatch.setenv("GIT_DIR", str(other.root / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other.root / ".git" / "index"))
    assert index.staged_paths(repo.root) == [StagedPath("A", "mine.py")]
    assert runner.repo_root(repo.root / "sub") == repo.root.resolve()


def test_inside_a_real_pre_commit_hook(repo: Repo, tmp_path: Path) -> None:
    """``git commit -a`` stages into a temporary index (GIT_INDEX_FILE) and, in a linked
    worktree, exports GIT_DIR: the hook must see the content being committed."""
    repo.write("shop/models.py", "x = 1\n")
    repo.commit()
    out = tmp_path / "hook-out.txt"
    script = tmp_path / "hook.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            from pathlib import Path
            from migrate_core.vcs import index
            from migrate_core.vcs import runner
            root = runner.repo_root(Path.cwd() / "shop")
            paths = index.staged_paths(root)
            blob = index.staged_blob(root, "shop/models.py")
            Path({str(out)!r}).write_text(repr((str(root), paths, blob)))
            """
        ),
        encoding="utf-8",
    )
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{script}'\n", encoding="utf-8")
    hook.chmod(0o755)

    repo.write("shop/models.py", "x = 2\n")
    repo.git("commit", "-q", "-a", "-m", "commit -a")
    root, paths, blob = eval(out.read_text(), {"StagedPath": StagedPath})
    assert root == str(repo.root.resolve())
    assert paths == [StagedPath("M", "shop/models.py")]
    assert blob == b"x = 2\n"

    worktree = Repo(tmp_path / "wt")
    repo.git("worktree", "add", "-q", "-b", "feature", str(worktree.root))
    worktree.write("shop/models.py", "x = 3\n")
    worktree.git("commit", "-q", "-m", "commit path", "shop/models.py")
    root, paths, blob = eval(out.read_text(), {"StagedPath": StagedPath})
    assert root == str(worktree.root.resolve())
    assert paths == [StagedPath("M", "shop/models.py")]
    assert blob == b"x = 3\n"


@pytest.mark.parametrize("style", ["plain", "all", "only"])
@pytest.mark.parametrize("in_worktree", [False, True])
def test_stage_from_a_hook_joins_the_commit_and_leaves_a_clean_index(
    repo: Repo, tmp_path: Path, style: str, in_worktree: bool
) -> None:
    """The hook writes a migration and stages it; whatever the commit style, the commit
    holds it and afterwards nothing is left staged, deleted or untracked."""
    repo.write("shop/models.py", "x = 1\n")
    repo.write("other.py", "o = 1\n")
    repo.commit()
    script = tmp_path / "hook.py"
    script.write_text(
        textwrap.dedent(
            """\
            from pathlib import Path
            from migrate_core.vcs import index
            from migrate_core.vcs import runner
            root = runner.repo_root(Path.cwd())
            if any(p.path == "shop/models.py" for p in index.staged_paths(root)):
                target = root / "shop" / "migrations" / "0002_auto.py"
                target.parent.mkdir(exist_ok=True)
                target.write_text("# generated\\n")
                index.stage(root, [target])
            """
        ),
        encoding="utf-8",
    )
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{script}'\n", encoding="utf-8")
    hook.chmod(0o755)
    work = repo
    if in_worktree:
        work = Repo(tmp_path / "wt")
        repo.git("worktree", "add", "-q", "-b", "feature", str(work.root))

    work.write("shop/models.py", "x = 2\n")
    if style == "plain":
        work.git("add", "shop/models.py")
        work.git("commit", "-q", "-m", "plain")
    elif style == "all":
        work.git("commit", "-q", "-a", "-m", "all")
    else:
        work.write("other.py", "o = 2\n")  # modified but not part of this commit
        work.git("commit", "-q", "-m", "only", "shop/models.py")

    committed = work.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(committed) == ["shop/migrations/0002_auto.py", "shop/models.py"]
    status = work.git("status", "--porcelain", "--untracked-files=all")
    assert status == ("M other.py" if style == "only" else "")


def test_staged_paths_on_a_thousand_files(repo: Repo) -> None:
    """One staged change among a thousand tracked files is found (its speed is bench/'s
    hook-nochange row: a timed assertion here would fail on a loaded machine)."""
    for i in range(1000):
        repo.write(f"pkg{i % 20}/mod_{i}.py", f"value = {i}\n")
    repo.commit()
    repo.write("pkg3/mod_3.py", "value = -3\n")
    repo.git("add", "pkg3/mod_3.py")
    assert index.staged_paths(repo.root) == [StagedPath("M", "pkg3/mod_3.py")]


def test_fast_module_does_not_import_gitpython() -> None:
    code = (
        "import sys, migrate_core.vcs.index, migrate_core.vcs.history; print('git' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# blobs
# ---------------------------------------------------------------------------------------


def test_staged_blob_is_the_index_not_the_working_tree(repo: Repo) -> None:
    repo.write("a b.py", "v = 1\n")
    repo.commit()
    repo.write("a b.py", "v = 2\n")
    repo.git("add", "a b.py")
    repo.write("a b.py", "v = 3\n")
    assert index.staged_blob(repo.root, "a b.py") == b"v = 2\n"
    assert index.head_blob(repo.root, "a b.py") == b"v = 1\n"
    assert index.read_blobs(repo.root, [(None, "a b.py"), ("HEAD", "a b.py"), (None, "no")]) == [
        b"v = 2\n",
        b"v = 1\n",
        None,
    ]


def test_blobs_absent_no_head_folders_and_odd_names(repo: Repo) -> None:
    repo.write("shop/models.py", "x = 1\n")
    repo.write("0:odd.py", b"bytes \xff\x00 here")
    repo.git("add", "-A")
    assert index.head_blob(repo.root, "shop/models.py") is None  # no HEAD yet
    assert index.staged_blob(repo.root, "shop/models.py") == b"x = 1\n"
    assert index.staged_blob(repo.root, "0:odd.py") == b"bytes \xff\x00 here"
    assert index.staged_blob(repo.root, "shop") is None  # a folder, not a file
    assert index.staged_blob(repo.root, "missing.py") is None
    repo.commit()
    assert index.head_blob(repo.root, "shop/models.py") == b"x = 1\n"
    repo.git("rm", "-q", "--cached", "shop/models.py")
    assert index.staged_blob(repo.root, "shop/models.py") is None
    with pytest.raises(GitError):
        index.staged_blob(repo.root, "/etc/passwd")


# ---------------------------------------------------------------------------------------
# staged_hunks
# ---------------------------------------------------------------------------------------


def test_staged_hunks_modified_lines(repo: Repo) -> None:
    repo.write("m.py", "a\nb\nc\nd\ne\n")
    repo.commit()
    repo.write("m.py", "a\nB\nc\nd\ne\nf\n")
    repo.git("add", "m.py")
    repo.write("m.py", "unstaged\n")
    assert index.staged_hunks(repo.root, "m.py") == [
        Hunk(2, 2, ((2, "b"),), ((2, "B"),)),
        Hunk(5, 6, (), ((6, "f"),)),
    ]


def test_staged_hunks_added_file_and_first_commit(repo: Repo) -> None:
    repo.write("dir with space/m.py", "one\ntwo\n")
    repo.git("add", "-A")
    assert index.staged_hunks(repo.root, "dir with space/m.py") == [
        Hunk(0, 1, (), ((1, "one"), (2, "two"))),
    ]
    repo.commit()
    assert index.staged_hunks(repo.root, "dir with space/m.py") == []
    repo.git("rm", "-q", "dir with space/m.py")
    assert index.staged_hunks(repo.root, "dir with space/m.py") == [
        Hunk(1, 0, ((1, "one"), (2, "two")), ()),
    ]


def test_staged_hunks_crlf_non_utf8_and_diff_header_lookalikes(repo: Repo) -> None:
    repo.write("m.py", b"x = 1\r\n-- y\r\ncaf\xe9 = 1\r\nkeep\r\n")
    repo.commit()
    repo.write("m.py", b"x = 1\r\n++ y\r\ncaf\xe9 = 2\r\nkeep\r\nlast")
    repo.git("add", "m.py")
    hunks = index.staged_hunks(repo.root, "m.py")
    assert hunks == [
        Hunk(2, 2, ((2, "-- y"), (3, "caf\ufffd = 1")), ((2, "++ y"), (3, "caf\ufffd = 2"))),
        Hunk(4, 5, (), ((5, "last"),)),
    ]


def test_staged_hunks_binary_file_has_none(repo: Repo) -> None:
    repo.write("blob.bin", b"\x00\x01\x02")
    repo.commit()
    repo.write("blob.bin", b"\x00\x01\x03")
    repo.git("add", "blob.bin")
    assert index.staged_hunks(repo.root, "blob.bin") == []


def test_staged_hunks_pathspec_characters_are_literal(repo: Repo) -> None:
    repo.write("a*.py", "1\n")
    repo.write("ab.py", "1\n")
    repo.commit()
    repo.write("a*.py", "2\n")
    repo.write("ab.py", "2\n")
    repo.git("add", "-A")
    assert index.staged_hunks(repo.root, "a*.py") == [Hunk(1, 1, ((1, "1"),), ((1, "2"),))]


# ---------------------------------------------------------------------------------------
# stage, is_merging, is_shallow
# ---------------------------------------------------------------------------------------


def test_stage_absolute_and_relative_paths(repo: Repo) -> None:
    repo.write("base.py", "b\n")
    repo.commit()
    first = repo.write("shop/migrations/0001 initial.py", "m = 1\n")
    repo.write("shop/migrations/0002_next.py", "m = 2\n")
    index.stage(repo.root, [first, Path("shop/migrations/0002_next.py")])
    assert sorted(p.path for p in index.staged_paths(repo.root)) == [
        "shop/migrations/0001 initial.py",
        "shop/migrations/0002_next.py",
    ]
    index.stage(repo.root, [])


def test_stage_ignored_file_says_what_to_do(repo: Repo) -> None:
    repo.write(".gitignore", "ignored/\n")
    path = repo.write("ignored/x.py", "x\n")
    with pytest.raises(GitError) as info:
        index.stage(repo.root, [path])
    assert ".gitignore" in str(info.value)
    with pytest.raises(GitError, match="outside the git repository"):
        index.stage(repo.root, [repo.root.parent / "x.py"])


def test_is_merging_during_a_no_commit_merge_and_in_a_worktree(repo: Repo, tmp_path: Path) -> None:
    repo.write("a.py", "a\n")
    repo.commit()
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("b.py", "b\n")
    repo.commit()
    repo.git("checkout", "-q", "main")
    repo.write("c.py", "c\n")
    repo.commit()
    assert not index.is_merging(repo.root)
    repo.git("merge", "--no-commit", "--no-ff", "-q", "feature")
    assert index.is_merging(repo.root)
    assert index.staged_paths(repo.root) == [StagedPath("A", "b.py")]
    repo.git("merge", "--abort")
    assert not index.is_merging(repo.root)

    worktree = Repo(tmp_path / "wt")
    repo.git("worktree", "add", "-q", "-b", "other", str(worktree.root), "main")
    assert not index.is_merging(worktree.root)
    worktree.git("merge", "--no-commit", "--no-ff", "-q", "feature")
    assert index.is_merging(worktree.root)
    assert not index.is_merging(repo.root)


def test_is_shallow(repo: Repo, tmp_path: Path) -> None:
    for i in range(3):
        repo.write("a.py", f"{i}\n")
        repo.commit()
    assert not history.is_shallow(repo.root)
    clone = Repo.clone(repo, tmp_path / "clone", "--depth", "1")
    assert history.is_shallow(clone.root)


# ---------------------------------------------------------------------------------------
# resolve_base
# ---------------------------------------------------------------------------------------


def make_history(repo: Repo, *, main_commits: int = 5, feature_commits: int = 30) -> str:
    """main with a few commits, then ``feature`` branching off and going on, and main
    moving on as well. Returns the true merge base."""
    repo.write("shop/migrations/0001_initial.py", "# main\n")
    repo.commit("main 0")
    for i in range(1, main_commits):
        repo.commit(f"main {i}", all_files=False)
    fork = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "feature")
    for i in range(feature_commits):
        repo.write("shop/models.py", f"# feature {i}\n")
        repo.commit(f"feature {i}")
    repo.git("checkout", "-q", "main")
    for i in range(3):
        repo.write("README", f"main later {i}\n")
        repo.commit(f"main later {i}")
    repo.git("checkout", "-q", "feature")
    return fork


def test_resolve_base_local_branch_and_sha(repo: Repo) -> None:
    fork = make_history(repo, feature_commits=3)
    assert history.resolve_base(repo.root, "main") == fork
    main_sha = repo.git("rev-parse", "main")
    assert history.resolve_base(repo.root, main_sha) == fork


def test_resolve_base_accepts_github_base_ref_with_only_origin_branch(
    repo: Repo, tmp_path: Path
) -> None:
    fork = make_history(repo, feature_commits=3)
    clone = Repo.clone(repo, tmp_path / "clone", "--branch", "feature")
    assert run_git(clone.root, "branch", "--list", "main") == ""
    assert history.resolve_base(clone.root, "main") == fork
    assert history.resolve_base(clone.root, "origin/main") == fork
    assert history.resolve_ref(clone.root, "main") == repo.git("rev-parse", "main")
    with pytest.raises(GitError, match="'nope' names no commit here"):
        history.resolve_ref(clone.root, "nope")


def test_resolve_base_deepens_a_shallow_clone(repo: Repo, tmp_path: Path) -> None:
    fork = make_history(repo, main_commits=80, feature_commits=30)
    clone = Repo.clone(repo, tmp_path / "clone", "--depth", "1", "--branch", "feature")
    assert history.is_shallow(clone.root)
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "origin/main"],
            cwd=clone.root,
            check=True,
            capture_output=True,
        )
    # Small steps so that several deepening rounds are needed (4 + 8 + 16 ...).
    assert history.resolve_base(clone.root, "main", first_step=4) == fork
    assert history.is_shallow(clone.root)  # deepened, not unshallowed
    # The fetched base is kept as origin/main, so its tip resolves afterwards.
    assert history.resolve_ref(clone.root, "main") == repo.git("rev-parse", "main")

    again = Repo.clone(repo, tmp_path / "again", "--depth", "1", "--branch", "feature")
    assert history.resolve_base(again.root, "main") == fork


def test_resolve_base_unshallows_once_when_the_budget_runs_out(repo: Repo, tmp_path: Path) -> None:
    fork = make_history(repo, feature_commits=30)
    clone = Repo.clone(repo, tmp_path / "clone", "--depth", "1", "--branch", "feature")
    assert history.resolve_base(clone.root, "origin/main", first_step=2, max_deepen=4) == fork
    assert not history.is_shallow(clone.root)


def test_resolve_base_like_actions_checkout_of_a_pull_request(repo: Repo, tmp_path: Path) -> None:
    """actions/checkout fetches only the PR merge commit at depth 1; no branch at all."""
    fork = make_history(repo, feature_commits=12)
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "feature")
    main_tip = repo.git("rev-parse", "HEAD^1")
    repo.git("update-ref", "refs/pull/1/merge", "HEAD")
    repo.git("checkout", "-q", "feature")

    ci = Repo.init(tmp_path / "ci")
    ci.git("remote", "add", "origin", f"file://{repo.root}")
    ci.git(
        "fetch", "-q", "--no-tags", "--depth=1", "origin",
        "+refs/pull/1/merge:refs/remotes/pull/1/merge",
    )  # fmt: skip
    ci.git("checkout", "-q", "--detach", "refs/remotes/pull/1/merge")
    assert history.resolve_base(ci.root, "main") == main_tip
    # The feature branch itself would give the fork point.
    assert fork != main_tip


def test_resolve_base_unknown_ref_names_the_ref_and_the_fix(repo: Repo, tmp_path: Path) -> None:
    make_history(repo, feature_commits=2)
    with pytest.raises(GitError) as info:
        history.resolve_base(repo.root, "no-such-branch")
    message = str(info.value)
    assert "'no-such-branch'" in message
    assert "fetch-depth: 0" in message

    clone = Repo.clone(repo, tmp_path / "clone", "--depth", "1", "--branch", "feature")
    with pytest.raises(GitError) as info:
        history.resolve_base(clone.root, "no-such-branch")
    message = str(info.value)
    assert "'no-such-branch'" in message
    assert "could not be fetched from origin" in message
    assert "fetch-depth: 0" in message

    with pytest.raises(GitError, match="not a valid git revision"):
        history.resolve_base(repo.root, "--upload-pack=evil")


def test_resolve_base_shallow_clone_that_cannot_be_deepened(repo: Repo, tmp_path: Path) -> None:
    make_history(repo, feature_commits=10)
    clone = Repo.clone(
        repo, tmp_path / "clone", "--depth", "1", "--no-single-branch", "--branch", "feature"
    )
    assert run_git(clone.root, "rev-parse", "--verify", "origin/main")
    clone.git("remote", "set-url", "origin", f"file://{tmp_path / 'gone'}")
    with pytest.raises(GitError) as info:
        history.resolve_base(clone.root, "main")
    message = str(info.value)
    assert "'main'" in message
    assert "shallow clone" in message
    assert "fetch-depth: 0" in message


def test_resolve_base_unrelated_histories(repo: Repo) -> None:
    repo.write("a.py", "a\n")
    repo.commit()
    repo.git("checkout", "-q", "--orphan", "island")
    repo.write("b.py", "b\n")
    repo.commit()
    with pytest.raises(GitError, match="no common ancestor"):
        history.resolve_base(repo.root, "main")


def test_resolve_base_without_any_commit(repo: Repo) -> None:
    with pytest.raises(GitError, match="no commit yet"):
        history.resolve_base(repo.root, "main")


# ---------------------------------------------------------------------------------------
# changed_files, file_at, list_files_at
# ---------------------------------------------------------------------------------------


def test_changed_files_committed_staged_unstaged_and_untracked(repo: Repo) -> None:
    repo.write("shop/migrations/0001_initial.py", "one\n")
    repo.write("shop/migrations/0002_edit.py", "two\n")
    repo.write("shop/migrations/0003_gone.py", "three\n")
    repo.write("shop/migrations/0004_dirty.py", "four\n")
    repo.write("shop/models.py", "m\n")
    repo.write("blog/migrations/0001_initial.py", "b\n")
    repo.write(".gitignore", "*.pyc\n")
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("shop/migrations/0002_edit.py", "two edited\n")
    repo.git("rm", "-q", "shop/migrations/0003_gone.py")
    repo.write("shop/migrations/0005_committed.py", "five\n")
    repo.commit("feature work")
    repo.write("shop/migrations/0004_dirty.py", "four, not committed\n")  # unstaged
    repo.write("shop/migrations/0006 staged.py", "six\n")
    repo.git("add", "shop/migrations/0006 staged.py")
    repo.write("shop/migrations/0007_untracked.py", "seven\n")
    repo.write("shop/migrations/junk.pyc", "ignored\n")
    repo.write("shop/models.py", "m2\n")
    repo.write("blog/migrations/0002_new.py", "b2\n")

    shop = repo.root / "shop" / "migrations"
    assert history.changed_files(repo.root, base, [shop]) == {
        "shop/migrations/0002_edit.py": "M",
        "shop/migrations/0003_gone.py": "D",
        "shop/migrations/0004_dirty.py": "M",
        "shop/migrations/0005_committed.py": "A",
        "shop/migrations/0006 staged.py": "A",
        "shop/migrations/0007_untracked.py": "A",
    }
    assert history.changed_files(repo.root, base, [Path("blog/migrations"), shop]) == {
        **history.changed_files(repo.root, base, [shop]),
        "blog/migrations/0002_new.py": "A",
    }
    assert "shop/migrations/0007_untracked.py" not in history.changed_files(
        repo.root, base, [shop], include_untracked=False
    )
    assert "shop/models.py" in history.changed_files(repo.root, base)
    assert history.changed_files(repo.root, base, []) == {}
    # A committed rename is a deletion and an addition.
    repo.git("mv", "shop/migrations/0001_initial.py", "shop/migrations/0001_renamed.py")
    changed = history.changed_files(repo.root, base, [shop])
    assert changed["shop/migrations/0001_initial.py"] == "D"
    assert changed["shop/migrations/0001_renamed.py"] == "A"
    with pytest.raises(GitError):
        history.changed_files(repo.root, "no-such-rev", [shop])


def test_file_at_and_list_files_at(repo: Repo) -> None:
    repo.write("shop/migrations/0001 initial.py", "one\n")
    repo.write("shop/migrations/sub/helper.py", "h\n")
    repo.write("shop/migrations_old/0001.py", "old\n")
    repo.write("shop/mig", "a file, not the folder\n")
    first = repo.commit("first")
    repo.write("shop/migrations/0002_next.py", "two\n")
    repo.git("rm", "-q", "shop/migrations/0001 initial.py")
    repo.commit("second")

    assert history.file_at(repo.root, first, "shop/migrations/0001 initial.py") == b"one\n"
    assert history.file_at(repo.root, "HEAD", "shop/migrations/0001 initial.py") is None
    assert history.file_at(repo.root, "HEAD~1", "shop/migrations") is None  # a folder
    with pytest.raises(GitError, match="'nope' is not a commit"):
        history.file_at(repo.root, "nope", "shop/models.py")

    assert history.list_files_at(repo.root, first, "shop/migrations") == [
        "shop/migrations/0001 initial.py",
        "shop/migrations/sub/helper.py",
    ]
    assert history.list_files_at(repo.root, "main", "shop/migrations/") == [
        "shop/migrations/0002_next.py",
        "shop/migrations/sub/helper.py",
    ]
    assert history.list_files_at(repo.root, "main", "shop/mig") == ["shop/mig"]
    assert history.list_files_at(repo.root, "main", "absent") == []
    assert len(history.list_files_at(repo.root, "main", "")) == 4
    with pytest.raises(GitError):
        history.list_files_at(repo.root, "nope", "shop")


def test_worktree_reads_history_of_the_shared_repository(repo: Repo, tmp_path: Path) -> None:
    fork = make_history(repo, feature_commits=2)
    repo.git("checkout", "-q", "main")
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(worktree), "feature")
    assert history.resolve_base(worktree, "main") == fork
    assert history.list_files_at(worktree, "main", "shop") == ["shop/migrations/0001_initial.py"]
    assert os.path.samefile(runner.repo_root(worktree) or "", worktree)


# ---------------------------------------------------------------------------------------
# the rich functions run through GitPython: environment, revision syntax, edges
# ---------------------------------------------------------------------------------------


def test_rich_functions_ignore_foreign_hook_variables(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitPython's commands inherit os.environ and it cannot unset a variable: a GIT_DIR
    (or index) exported by a surrounding hook must still not redirect them."""
    fork = make_history(repo, main_commits=20, feature_commits=10)
    main_tip = repo.git("rev-parse", "main")
    clone = Repo.clone(repo, tmp_path / "clone", "--depth", "1", "--branch", "feature")
    other = Repo.init(tmp_path / "other")
    other.write("shop/migrations/0001_other.py", "# other\n")
    other.commit("other")
    monkeypatch.setenv("GIT_DIR", str(other.root / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other.root))
    monkeypatch.setenv("GIT_COMMON_DIR", str(other.root / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other.root / ".git" / "index"))

    # Deepening fetches run under the same variables.
    assert history.resolve_base(clone.root, "main", first_step=4) == fork
    assert history.resolve_ref(clone.root, "main") == main_tip
    assert history.resolve_base(repo.root, "main") == fork
    assert history.file_at(repo.root, "main", "shop/migrations/0001_initial.py") == b"# main\n"
    assert history.list_files_at(repo.root, "main", "shop") == ["shop/migrations/0001_initial.py"]
    assert history.changed_files(repo.root, fork, [repo.root / "shop"]) == {"shop/models.py": "A"}
    assert other.git("rev-parse", "--is-shallow-repository") == "false"
    assert other.git("for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_rich_functions_in_a_linked_worktree_hook_environment(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What git exports to a hook in a linked worktree: GIT_DIR=<main>/.git/worktrees/<name>."""
    fork = make_history(repo, feature_commits=2)
    repo.git("checkout", "-q", "main")
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(worktree), "feature")
    monkeypatch.setenv("GIT_DIR", str(repo.root / ".git" / "worktrees" / "wt"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(repo.root / ".git" / "worktrees" / "wt" / "index"))
    assert history.resolve_base(worktree, "main") == fork
    assert history.resolve_ref(worktree, "feature") == run_git(worktree, "rev-parse", "HEAD")


def test_fetch_runs_without_a_terminal_prompt(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing credentials must fail the fetch, not wait for a password: the transport
    (here a fake ssh) sees GIT_TERMINAL_PROMPT=0, and no foreign GIT_DIR."""
    make_history(repo, feature_commits=2)
    clone = Repo.clone(repo, tmp_path / "clone", "--branch", "feature")
    seen = tmp_path / "ssh-env.txt"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(
        f"#!/bin/sh\necho \"$GIT_TERMINAL_PROMPT|$GIT_DIR\" > '{seen}'\nexit 1\n",
        encoding="utf-8",
    )
    fake_ssh.chmod(0o755)
    clone.git("config", "core.sshCommand", str(fake_ssh))
    clone.git("remote", "set-url", "origin", "ssh://git@example.invalid/shop.git")
    monkeypatch.setenv("GIT_DIR", str(repo.root / ".git"))
    with pytest.raises(GitError, match="could not be fetched from origin"):
        history.resolve_base(clone.root, "not-here-yet")
    prompt, git_dir = seen.read_text(encoding="utf-8").strip().split("|")
    assert prompt == "0"
    assert git_dir in ("", str(clone.root / ".git"))


def test_resolve_base_fetches_a_base_given_as_a_sha(repo: Repo, tmp_path: Path) -> None:
    fork = make_history(repo, main_commits=10, feature_commits=10)
    main_tip = repo.git("rev-parse", "main")
    clone = Repo.clone(repo, tmp_path / "clone", "--depth", "1", "--branch", "feature")
    assert history.resolve_base(clone.root, main_tip, first_step=4) == fork
    assert history.resolve_ref(clone.root, main_tip) == main_tip


def test_resolve_base_and_ref_take_git_revision_syntax(repo: Repo) -> None:
    """Revision names are git's, not GitPython's re-implementation (which fails on these)."""
    fork = make_history(repo, feature_commits=3)
    repo.git("branch", "-q", "--set-upstream-to=main", "feature")
    main_tip = repo.git("rev-parse", "main")
    assert history.resolve_base(repo.root, "@{upstream}") == fork
    assert history.resolve_ref(repo.root, "@{u}") == main_tip
    assert history.resolve_ref(repo.root, "feature@{u}") == main_tip
    assert history.resolve_ref(repo.root, "main@{1.hour.ago}") == repo.git(
        "rev-parse", "main@{1.hour.ago}"
    )
    repo.git("tag", "-a", "-m", "release", "v1", "main")
    assert history.resolve_ref(repo.root, "v1") == main_tip  # an annotated tag peels to its commit


def test_rich_functions_outside_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for call in (
        lambda: history.resolve_base(plain, "main"),
        lambda: history.resolve_ref(plain, "main"),
    ):
        with pytest.raises(GitError, match="is not the top folder of a git working tree"):
            call()
    with pytest.raises(GitError, match="does not exist"):
        history.resolve_ref(tmp_path / "missing", "main")


def test_changed_files_with_names_gitpython_cannot_parse(repo: Repo) -> None:
    """GitPython's raw-diff parser drops entries (without raising) on a name that starts
    with ':' or is not UTF-8; changed_files must list them."""
    repo.write("shop/migrations/0001_initial.py", "one\n")
    base = repo.commit("base")
    odd = b"shop/migrations/caf\xe9.py"
    try:
        (repo.root / os.fsdecode(odd)).write_bytes(b"latin-1 name\n")
    except OSError:
        pytest.skip("the file system refuses names that are not UTF-8")
    repo.write("shop/migrations/:colon.py", "c\n")
    repo.write("shop/migrations/0002_next.py", "two\n")
    repo.commit("committed")
    repo.write("shop/migrations/:untracked.py", "u\n")
    assert history.changed_files(repo.root, base, [repo.root / "shop" / "migrations"]) == {
        "shop/migrations/0002_next.py": "A",
        "shop/migrations/:colon.py": "A",
        "shop/migrations/:untracked.py": "A",
        os.fsdecode(odd): "A",
    }


def test_rich_functions_in_a_sha256_repository(tmp_path: Path) -> None:
    """GitPython reads SHA-1 objects only, so what needs objects stays with git."""
    root = tmp_path / "sha256"
    root.mkdir()
    proc = subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip("this git cannot create SHA-256 repositories")
    repo = Repo(root)
    repo.configure()
    fork = make_history(repo, feature_commits=2)
    assert len(fork) == 64
    assert history.resolve_base(root, "main") == fork
    assert history.resolve_ref(root, "main") == repo.git("rev-parse", "main")
    assert history.file_at(root, "main", "shop/migrations/0001_initial.py") == b"# main\n"
    assert history.list_files_at(root, "main", "shop") == ["shop/migrations/0001_initial.py"]
    assert history.changed_files(root, fork, [root / "shop"]) == {"shop/models.py": "A"}
