"""Time migrate-core's console scripts on a generated project, as a user would run them.

Every row is a fresh process started from the venv's own scripts, because what a
developer feels (a commit hook, ``migrate`` in a deploy) includes interpreter
start-up and imports; timing functions in-process would hide exactly the costs
the targets are about. Each row reports the median, min and max wall time of
``--repeat`` runs and the child's peak RSS (from ``os.wait4``), after one untimed
warm-up run, so a cold disk or an empty cache does not decide the median.

    python bench/run.py                      # N=200 models, M=1000 migrations, 7 runs
    python bench/run.py --only migrate rollback --repeat 3 --json bench/out/r.json

A command that fails is reported as ``failed: <reason>`` and the other rows
still run: several commands are being written while this harness is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/ is not a package: generate.py is found next to this file.
import generate

HERE = Path(__file__).resolve().parent
SCRIPTS = Path(sys.executable).parent
DB_NAME = "bench.db"
SNAPSHOT_NAME = "bench-migrated.db"  # *.db: ignored by the project's .gitignore
EXTRA_COLUMN = "    bench_extra: Mapped[str | None] = mapped_column(sa.String(30))\n"

# Run migrations through the library's migrate use case in-process (no click, no
# printing): compared with ``migrate-core migrate``, it shows the CLI's own cost.
LIBRARY_SCRIPT = """\
import sys
from migrate_core.config import load_config
from migrate_core.usecases.migrate import migrate
cfg = load_config()
app, target = (sys.argv[1:] + [None, None])[:2]
migrate(cfg, cfg.resolve_database_url(), app, target)
"""


@dataclass
class Child:
    """One finished child process."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


class Failed(Exception):
    """A command (or its untimed setup) did not do what it should; the row reports why."""


def run_child(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Child:
    """Run ``argv`` and measure it: wall time around spawn..reap, peak RSS from wait4.

    Output goes to temporary files, not pipes, so that we can reap the child with
    ``os.wait4`` ourselves (``communicate`` would reap it and lose the rusage)
    without a full pipe ever blocking it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
        except OSError as exc:
            raise Failed(f"cannot start {argv[0]}: {exc.strerror}") from None
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if proc.returncode == -9 and seconds >= timeout:
        stderr = f"timed out after {timeout:.0f} s\n{stderr}"
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return Child(seconds, usage.ru_maxrss / scale, proc.returncode, stdout, stderr)


def reason(child: Child) -> str:
    """The most telling line of a failed command's output, for the table."""
    lines = [
        line.strip()
        for line in child.stderr.splitlines()
        # SQLAlchemy's error link says nothing about the error itself.
        if line.strip() and not line.strip().startswith("(Background on this error at:")
    ]
    if lines and lines[0].startswith("Traceback"):
        return lines[-1]  # the exception, not the "Traceback (most recent call last):" header
    if lines:
        return lines[0]
    out = [line.strip() for line in child.stdout.splitlines() if line.strip()]
    return out[-1] if out else f"exit code {child.returncode}"


@dataclass
class Bench:
    name: str
    argv: list[str]
    target_s: float | None = None
    target_mb: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[], None] | None = None  # before each run, untimed
    teardown: Callable[[], None] | None = None  # after each run, untimed
    # Whether the run did its job; returns a reason when it did not.
    check: Callable[[Child], str | None] | None = None
    note: str = ""


@dataclass
class Row:
    bench: Bench
    runs: list[Child] = field(default_factory=list)
    error: str | None = None
    log: Path | None = None  # full output of the failed run

    @property
    def times(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def peak_mb(self) -> float | None:
        return max((r.peak_mb for r in self.runs), default=None)

    def meets_target(self) -> bool | None:
        if self.error is not None:
            return False
        if self.bench.target_s is None and self.bench.target_mb is None:
            return None
        ok = self.bench.target_s is None or statistics.median(self.times) < self.bench.target_s
        peak = self.peak_mb
        return ok and (
            self.bench.target_mb is None or (peak is not None and peak < self.bench.target_mb)
        )


def exit_zero(child: Child) -> str | None:
    return None if child.returncode == 0 else reason(child)


class Project:
    """The generated project and the untimed chores the benchmarks need around it."""

    def __init__(
        self, root: Path, app: str, env: dict[str, str], timeout: float, via_executor: bool
    ) -> None:
        self.root = root
        self.app = app
        self.env = env
        self.timeout = timeout
        self.via_executor = via_executor
        self.migrations = root / app / "migrations"
        self.edits = 0

    def script(self, name: str) -> str:
        return str(SCRIPTS / name)

    def migrate_argv(self, *target: str) -> list[str]:
        if self.via_executor:
            return [sys.executable, "-c", LIBRARY_SCRIPT, *target]
        return [self.script("migrate-core"), "migrate", *target]

    def run(self, argv: list[str], what: str) -> Child:
        child = run_child(argv, self.root, self.env, self.timeout)
        if child.returncode != 0:
            raise Failed(f"{what} failed: {reason(child)}")
        return child

    def save_log(self, name: str, index: int, child: Child) -> Path:
        """Keep a failed run's whole output: the table has room for one line of it."""
        path = self.root.parent / f"{self.root.name}-{name}-failed.log"
        run = "warm-up" if index == 0 else f"run {index}"
        path.write_text(
            f"{name}, {run}: exit {child.returncode} after {child.seconds:.2f} s\n"
            f"--- stdout\n{child.stdout}\n--- stderr\n{child.stderr}"
        )
        return path

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, stdout=subprocess.DEVNULL)

    # -- database

    def drop_database(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            (self.root / f"{DB_NAME}{suffix}").unlink(missing_ok=True)

    def migrated_database(self) -> None:
        """A fully migrated bench.db: migrate once, then copy a snapshot back each time."""
        snapshot = self.root / SNAPSHOT_NAME
        if not snapshot.exists():
            self.drop_database()
            self.run(self.migrate_argv(), "migrate (setup)")
            shutil.copyfile(self.root / DB_NAME, snapshot)
        self.drop_database()
        shutil.copyfile(snapshot, self.root / DB_NAME)

    # -- git working tree, for the hook

    def migration_files(self) -> set[str]:
        return {p.name for p in self.migrations.glob("*.py")}

    def stage_readme_change(self) -> None:
        with (self.root / "README.md").open("a") as f:
            f.write("\nA line that touches no model.\n")
        self.git("add", "README.md")

    def stage_model_change(self) -> None:
        # models.py ends with the last model's body: an indented line joins that class.
        with (self.root / self.app / "models.py").open("a") as f:
            f.write(EXTRA_COLUMN)
        self.git("add", f"{self.app}/models.py")

    def edit_models_comment(self) -> None:
        """A comment appended to models.py: the schema stays, the file's content does not,
        so the answer cache cannot answer (the replay cache of the migrations still can)."""
        self.edits += 1  # another text each time: the same edit again would be answered
        with (self.root / self.app / "models.py").open("a") as f:
            f.write(f"# an edit that changes no column ({self.edits})\n")

    def restore_tree(self) -> None:
        """Back to the generated commit: index, tracked files, new migration files."""
        self.git("reset", "-q", "--hard", "HEAD")
        self.git("clean", "-fdq", "--", f"{self.app}/migrations")


ROW_NAMES = (
    "python-floor",
    "sqlalchemy-floor",
    "models-import-floor",
    "migrate",
    "rollback",
    "makemigrations-check",
    "makemigrations-check-cold",
    "makemigrations-check-edited",
    "check",
    "hook-nochange",
    "hook-change",
)


def benchmarks(p: Project) -> list[Bench]:
    """The rows, in the order they run (cheap floors first)."""
    app = p.app
    files_before: set[str] = set()

    def remember_files() -> None:
        files_before.clear()
        files_before.update(p.migration_files())

    def no_new_file(child: Child) -> str | None:
        if child.returncode != 0:
            return reason(child)
        new = p.migration_files() - files_before
        return f"wrote {', '.join(sorted(new))} though no model changed" if new else None

    def wrote_a_file(child: Child) -> str | None:
        # A pre-commit hook that writes a file exits non-zero on purpose; the file is the test.
        new = p.migration_files() - files_before
        if len(new) == 1:
            return None
        if new:
            return f"wrote {len(new)} migrations for one added column: {', '.join(sorted(new))}"
        return reason(child) if child.returncode != 0 else "exit 0 but wrote no migration"

    def then(*steps: Callable[[], None]) -> Callable[[], None]:
        def run_all() -> None:
            for step in steps:
                step()

        return run_all

    def answered_from_cache(expected: bool) -> Callable[[Child], str | None]:
        """Exit 0, and the answer cache said it answered (or did not), so the row times
        the path its name promises (MIGRATE_CORE_DEBUG_CACHE=1 makes it say). With
        ``expected``, the warm-up is the run that stores the answer."""
        runs = 0

        def check(child: Child) -> str | None:
            nonlocal runs
            runs += 1
            if child.returncode != 0:
                return reason(child)
            if expected and runs == 1:
                if "migrate-core: answer cached" in child.stderr:
                    return None
                last = child.stderr.strip().splitlines()[-1:] or ["no output"]
                return f"the warm-up stored no answer ({last[0]})"
            hit = "migrate-core: answered from cache" in child.stderr
            if hit != expected:
                return "answered from the cache" if hit else "not answered from the answer cache"
            return None

        return check

    debug = {"MIGRATE_CORE_DEBUG_CACHE": "1"}
    cold = {"MIGRATE_CORE_NO_CACHE": "1"}
    how = " (library migrate via python -c)" if p.via_executor else ""
    return [
        Bench("python-floor", [sys.executable, "-c", "pass"], note="interpreter start-up"),
        Bench(
            "sqlalchemy-floor",
            [sys.executable, "-c", "import sqlalchemy"],
            note="start-up + import sqlalchemy",
        ),
        Bench(
            "models-import-floor",
            [sys.executable, "-c", f"import {app}.models"],
            note="start-up + import models.py",
        ),
        Bench(
            "migrate",
            p.migrate_argv(),
            2.0,
            setup=p.drop_database,
            check=exit_zero,
            note="empty SQLite db" + how,
        ),
        Bench(
            "rollback",
            p.migrate_argv(app, "zero"),
            2.5,
            200,
            setup=p.migrated_database,
            check=exit_zero,
            note="from fully migrated" + how,
        ),
        Bench(
            "makemigrations-check",
            [p.script("migrate-core"), "makemigrations", "--check"],
            0.2,
            env=debug,
            check=answered_from_cache(True),
            note="nothing to do, answered from the answer cache",
        ),
        Bench(
            "makemigrations-check-cold",
            [p.script("migrate-core"), "makemigrations", "--check"],
            env=cold,
            check=exit_zero,
            note="MIGRATE_CORE_NO_CACHE=1",
        ),
        Bench(
            "makemigrations-check-edited",
            [p.script("migrate-core"), "makemigrations", "--check"],
            env=debug,
            setup=p.edit_models_comment,
            teardown=p.restore_tree,
            check=answered_from_cache(False),
            note="a comment added to models.py: full run, replay cache warm",
        ),
        Bench(
            "check",
            [p.script("check-migrations")],
            10.0,
            300,
            check=exit_zero,
            note="full run, SQLite scratch db",
        ),
        Bench(
            "hook-nochange",
            [p.script("migrate-core-hook"), "makemigrations", "README.md"],
            0.08,
            setup=then(p.stage_readme_change, remember_files),
            teardown=p.restore_tree,
            check=no_new_file,
            note="README.md staged",
        ),
        Bench(
            "hook-change",
            [p.script("migrate-core-hook"), "makemigrations", f"{app}/models.py"],
            0.5,
            setup=then(p.stage_model_change, remember_files),
            teardown=p.restore_tree,
            check=wrote_a_file,
            note="column added to models.py",
        ),
    ]


def measure(p: Project, bench: Bench, repeat: int) -> Row:
    """One untimed warm-up, then ``repeat`` timed runs; stop at the first failure."""
    row = Row(bench)
    env = {**p.env, **bench.env}
    for index in range(repeat + 1):
        try:
            if bench.setup is not None:
                bench.setup()
            child = run_child(bench.argv, p.root, env, p.timeout)
            problem = bench.check(child) if bench.check is not None else None
            if problem is not None:
                row.log = p.save_log(bench.name, index, child)
        except (Failed, subprocess.CalledProcessError, OSError) as exc:
            problem = str(exc)
        finally:
            if bench.teardown is not None:
                try:
                    bench.teardown()
                except (subprocess.CalledProcessError, OSError) as exc:
                    row.error = f"teardown failed: {exc}"
        if problem is not None:
            row.error = problem
            row.runs.clear()
            break
        if row.error is not None:
            break
        if index > 0:
            row.runs.append(child)
        progress(bench.name, index, repeat, child)
    return row


def progress(name: str, index: int, repeat: int, child: Child) -> None:
    label = "warm-up" if index == 0 else f"{index}/{repeat}"
    print(
        f"  {name:<26} {label:>7}  {child.seconds:7.3f} s  {child.peak_mb:6.1f} MB", file=sys.stderr
    )


def fmt_target(bench: Bench) -> str:
    parts = []
    if bench.target_s is not None:
        parts.append(f"< {bench.target_s:g} s")
    if bench.target_mb is not None:
        parts.append(f"< {bench.target_mb:g} MB")
    return ", ".join(parts) or "-"


def markdown(rows: list[Row]) -> str:
    lines = [
        "| command | median s | min | max | peak MB | target | met |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        b = row.bench
        if row.error is not None:
            cell = "failed: " + row.error.replace("|", "\\|")[:120]
            lines.append(f"| {b.name} | {cell} | | | | {fmt_target(b)} | no |")
            continue
        t = row.times
        met = {True: "yes", False: "NO", None: ""}[row.meets_target()]
        lines.append(
            f"| {b.name} | {statistics.median(t):.3f} | {min(t):.3f} | {max(t):.3f} | {row.peak_mb:.0f} "
            f"| {fmt_target(b)} | {met} |"
        )
    return "\n".join(lines)


def as_json(rows: list[Row], args: argparse.Namespace) -> dict[str, object]:
    import sqlalchemy

    return {
        "models": args.models,
        "migrations": args.migrations,
        "seed": args.seed,
        "repeat": args.repeat,
        "via_executor": args.via_executor,
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "results": [
            {
                "name": row.bench.name,
                "command": shown_command(row.bench.argv),
                "note": row.bench.note,
                "error": row.error,
                "median_s": statistics.median(row.times) if row.runs else None,
                "min_s": min(row.times) if row.runs else None,
                "max_s": max(row.times) if row.runs else None,
                "peak_mb": row.peak_mb,
                "runs_s": row.times,
                "target_s": row.bench.target_s,
                "target_mb": row.bench.target_mb,
                "met": row.meets_target(),
            }
            for row in rows
        ],
    }


def shown_command(argv: list[str]) -> list[str]:
    """The command line for the JSON, with a ``python -c`` script shortened."""
    if argv[1:2] == ["-c"] and "\n" in argv[2]:
        return [*argv[:2], "<executor script>", *argv[3:]]
    return argv


def child_env(cache_dir: Path) -> dict[str, str]:
    """The caller's environment, minus what would point the commands elsewhere."""
    env = dict(os.environ)
    for key in ("MIGRATE_CORE_DATABASE_URL", "MIGRATE_CORE_NO_CACHE", "PYTHONPATH"):
        env.pop(key, None)
    env["MIGRATE_CORE_CACHE_DIR"] = str(cache_dir)  # a private cache: warm-up decides its state
    env["PATH"] = f"{SCRIPTS}{os.pathsep}{env.get('PATH', '')}"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--migrations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat", type=int, default=7, help="timed runs per row (after one warm-up)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these rows")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--out", type=Path, default=HERE / "out" / "project", help="where to generate the project"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a run is killed"
    )
    parser.add_argument(
        "--via-executor",
        action="store_true",
        help="time migrate/rollback through the executor API in python -c instead of `migrate-core migrate`",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    unknown = sorted(set(args.only or ()) - set(ROW_NAMES))
    if unknown:
        parser.error(f"unknown --only {', '.join(unknown)} (known: {', '.join(ROW_NAMES)})")

    root: Path = args.out.resolve()
    if root.exists():
        if not (root / generate.MARKER).is_file():
            parser.error(
                f"{root} exists and was not generated by bench/generate.py; choose another --out"
            )
        shutil.rmtree(root)
    started = time.perf_counter()
    generate.generate(root, args.models, args.migrations, args.seed)
    generate.git_commit(root)
    print(
        f"generated {root}: {args.models} models, {args.migrations} migrations, seed {args.seed} "
        f"({time.perf_counter() - started:.2f} s)",
        file=sys.stderr,
    )

    cache_dir = Path(tempfile.mkdtemp(prefix="migrate-core-bench-cache-"))
    try:
        project = Project(root, "shop", child_env(cache_dir), args.timeout, args.via_executor)
        all_benches = benchmarks(project)
        assert tuple(b.name for b in all_benches) == ROW_NAMES
        selected = [b for b in all_benches if not args.only or b.name in args.only]
        rows = []
        for bench in selected:
            row = measure(project, bench, args.repeat)
            if row.error is not None:
                where = f" (output in {row.log})" if row.log else ""
                print(f"  {bench.name:<26} failed: {row.error}{where}", file=sys.stderr)
            rows.append(row)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    print(
        f"\nN={args.models} models, M={args.migrations} migrations, SQLite, median of {args.repeat} runs\n"
    )
    print(markdown(rows))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(rows, args), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
