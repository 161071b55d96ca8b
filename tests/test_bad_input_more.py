"""More of the corpus of mistakes, over the features that came after ``test_bad_input``:
``--cleanup`` and its age, ``--rename``, hand-written fills, ``--lock-timeout``, the
answer cache of ``makemigrations --check``, SQLite triggers, models that misbehave at
import, and signals in the middle of a run.

Each case is a real process on a fresh project (``test_bad_input``'s project and
:class:`Case`), checked the same way: its exit code, the input named, no traceback,
and :data:`SECRET` nowhere in the output or in a file the run wrote. ``TMPDIR`` is the
test's own folder, so ``--cleanup`` on SQLite only ever sees this test's leftovers.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import server_url
from helpers_check import child_env
from test_bad_input import CM
from test_bad_input import MC
from test_bad_input import MODELS
from test_bad_input import MY
from test_bad_input import PG
from test_bad_input import SECOND
from test_bad_input import SECRET
from test_bad_input import Case
from test_bad_input import _bin
from test_bad_input import _files
from test_bad_input import _project
from test_bad_input import second

from migrate_core.db.scratch import owner

# One process per case, like test_bad_input.
pytestmark = pytest.mark.slow

NOT_NULL_X = 'sa.Column("x", {type}, nullable=False)'


def add_x(type_: str, fill: str) -> dict[str, str | None]:
    """A second migration adding NOT NULL column x of ``type_`` filled with ``fill`` (source)."""
    column = NOT_NULL_X.format(type=type_)
    return {SECOND: second(f'migrations.AddField("product", {column}, fill_value={fill})')}


# The models after a rename of product.name to title (for --rename cases that get further).
RENAMED = MODELS.replace("name: Mapped[str]", "title: Mapped[str]")
FAR = "9" * 400 + "d"  # float() makes it infinity

CASES = [
    # -- check-migrations --cleanup-older-than ------------------------------------------------------
    *(
        Case(f"cleanup-age-{key}", (CM, "--cleanup", "--cleanup-older-than", age), 2, (shown,))
        for key, age, shown in [
            ("unit", "5x", "--cleanup-older-than 5x: not an age"),
            ("negative", "-1", "--cleanup-older-than -1: not an age"),
            ("empty", "", "--cleanup-older-than : not an age"),
            ("exponent", "1e3h", "--cleanup-older-than 1e3h: not an age"),
            ("nan", "nan", "--cleanup-older-than nan"),
            ("infinite", FAR, "more than 100 years"),
            ("huge", "99999999999999999999999d", "more than 100 years"),
        ]
    ),
    Case(
        "cleanup-age-without-cleanup",
        (CM, "--no-database", "--cleanup-older-than", "6 hours"),
        2,
        ("--cleanup-older-than 6 hours", "30m, 6h, 2d"),
    ),
    Case(
        "cleanup-sqlite-nothing-stale",
        (CM, "--cleanup", "--cleanup-older-than", "0"),
        0,
        ("no scratch databases on {tmp} (SQLite)",),
    ),
    Case(
        "cleanup-with-json-report",
        (CM, "--cleanup", "--json-report", "{tmp}/report.json"),
        2,
        ("--cleanup runs no check, so --json-report would do nothing",),
    ),
    Case(
        "cleanup-with-check-options",
        (CM, "--cleanup", "--format", "json", "--no-database", "--skip", "graph"),
        2,
        ("--format, --skip, --no-database would do nothing", "leave them out"),
    ),
    Case(
        "cleanup-in-migrate-core-check",
        (MC, "check", "--cleanup", "--strict"),
        2,
        ("--strict would do nothing",),
    ),
    # -- --cleanup with a password in every place a URL can hold one ---------------------------------
    Case("cleanup-pg-unreachable", (CM, "--cleanup", "--database-url", PG), 2, ("app:***@",)),
    Case("cleanup-mysql-unreachable", (CM, "--cleanup", "--database-url", MY), 2, ("root:***@",)),
    Case(
        "cleanup-password-in-query",
        (
            CM,
            "--cleanup",
            "--database-url",
            f"postgresql+psycopg://app@127.0.0.1:1/app?password={SECRET}",
        ),
        2,
        ("password=***",),
    ),
    Case(
        "cleanup-at-in-password",
        (CM, "--cleanup", "--database-url", f"postgresql+psycopg://app:{SECRET}@x@127.0.0.1:1/app"),
        2,
        ("app:***@127.0.0.1:1",),
    ),
    Case(
        "cleanup-url-port",
        (CM, "--cleanup", "--database-url", f"postgresql+psycopg://app:{SECRET}@db:abc/app"),
        2,
        ("port is not a number",),
    ),
    Case(
        "cleanup-url-one-slash",
        (CM, "--cleanup", "--database-url", f"postgresql:/app:{SECRET}@db/app"),
        2,
        ("not a database URL: postgresql:/app:***@db/app",),
    ),
    Case(
        "cleanup-url-unknown-dialect",
        (CM, "--cleanup", "--database-url", f"oracle://app:{SECRET}@db/app"),
        2,
        ("no migrate-core dialect module for 'oracle'",),
    ),
    Case(
        "cleanup-url-from-environment",
        (CM, "--cleanup"),
        2,
        ("cannot connect to mysql+pymysql://root:***@127.0.0.1:1/",),
        env={"MIGRATE_CORE_CHECK_DATABASE_URL": MY},
    ),
    Case(
        "cleanup-mysql-ssl-ca",
        (CM, "--cleanup", "--database-url", f"{MY}?ssl_ca=/nonexistent/ca.pem"),
        2,
        ("root:***@127.0.0.1:1",),
    ),
    # -- makemigrations --rename ---------------------------------------------------------------------
    *(
        Case(f"rename-{key}", (MC, "makemigrations", "--noinput", "--rename", arg), 2, shown)
        for key, arg, shown in [
            ("equals-only", "=", ("--rename =: write TABLE.COLUMN=NEW_COLUMN",)),
            ("three-parts", "a.b.c=d", ("--rename a.b.c=d: write TABLE.COLUMN=NEW_COLUMN",)),
            ("two-equals", "product.name==x", ("--rename product.name==x",)),
            ("empty-column", "product.=x", ("--rename product.=x",)),
            ("empty-table", ".name=x", ("--rename .name=x",)),
            ("unicode", "prodüct.näme=tïtle", ("no table prodüct", "did you mean product?")),
            ("sql", "product; DROP TABLE x=y", ("no table product; DROP TABLE x",)),
            ("newline", "product.name=ti\ntle", ("'product.name=ti\\ntle'", "control characters")),
            ("escape", "product.name=\x1b[31mtitle", ("control characters",)),
            ("other-table", "product.name=other.x", ("a column stays in its table",)),
            ("to-itself", "product=product", ("the models still have table product",)),
            ("not-renamed", "product.name=title", ("the models still have product.name",)),
        ]
    ),
    Case(
        "rename-misspelt-old",
        (MC, "makemigrations", "--noinput", "--rename", "product.nme=title"),
        2,
        ("product.nme",),
        files={"shop/models.py": RENAMED},
    ),
    Case(
        "rename-quote-in-new",
        (MC, "makemigrations", "--noinput", "--rename", "product.name=ti'tle"),
        2,
        ("ti'tle",),
        files={"shop/models.py": RENAMED},
    ),
    Case(
        "rename-column-through-a-wrong-table-rename",
        (
            MC,
            "makemigrations",
            "--noinput",
            "--rename",
            "product.name=title",
            "--rename",
            "product=item",
        ),
        2,
        ("--rename product=item: the models still have table product",),
        files={"shop/models.py": RENAMED},
    ),
    Case(
        "rename-declared",
        (MC, "makemigrations", "--noinput", "--rename", "product.name=title"),
        0,
        ("Rename column name on product to title",),
        files={"shop/models.py": RENAMED},
    ),
    # -- fill_value / reverse_fill written by hand -----------------------------------------------------
    *(
        Case(
            f"fill-{key}", (MC, "migrate"), 2, ("0002_second.py:", *shown), files=add_x(type_, fill)
        )
        for key, type_, fill, shown in [
            ("list", "sa.Integer()", "[1]", ("fill_value must be a str, int", "[1]")),
            ("dict", "sa.Integer()", '{"a": 1}', ("fill_value must be", "{{'a': 1}}")),
            ("bytes", "sa.Integer()", 'b"1"', ("fill_value must be", "b'1'")),
            ("object", "sa.Integer()", "object()", ("fill_value must be", "<object object")),
            ("none-like", "sa.Integer()", "Ellipsis", ("fill_value must be", "Ellipsis")),
            ("bind-param", "sa.Integer()", 'sa.text(":x")', ("bind parameter (:x)",)),
            (
                "two-statements",
                "sa.Integer()",
                'sa.text("1; DROP TABLE product")',
                ("is not one SQL expression",),
            ),
            ("str-in-integer", "sa.Integer()", '"abc"', ("'abc' is not an integer", "column x")),
            ("bool-in-integer", "sa.Integer()", "True", ("True is not an integer",)),
            ("int-too-big", "sa.Integer()", "10**30", ("outside the 32-bit range",)),
            ("smallint-too-big", "sa.SmallInteger()", "40000", ("outside the 16-bit range",)),
            ("too-long", "sa.String(3)", '"abcdef"', ("is 6 characters", "at most 3")),
            ("int-in-string", "sa.String(3)", "5", ("5 is not a string", "'5'")),
            ("nan", "sa.Float()", 'float("nan")', ("nan is not a finite number",)),
            ("infinity", "sa.Numeric(10, 2)", 'float("inf")', ("inf is not a finite number",)),
            ("str-in-numeric", "sa.Numeric(10, 2)", '"1.5"', ("is not a number",)),
            ("str-in-boolean", "sa.Boolean()", '"yes"', ("'yes' is not a bool",)),
        ]
    ),
    Case(
        "fill-quote-is-data",
        (MC, "sqlmigrate", "shop", "0002"),
        0,
        ("'''); DROP TABLE product; --'",),
        files=add_x("sa.String(50)", '"\'); DROP TABLE product; --"'),
    ),
    Case(
        "reverse-fill-on-add-field",
        (MC, "migrate"),
        2,
        ("0002_second.py:", "unexpected keyword argument 'reverse_fill'"),
        files={
            SECOND: second(
                'migrations.AddField("product", sa.Column("x", sa.Integer()), reverse_fill=1)'
            )
        },
    ),
    Case(
        "reverse-fill-on-run-sql",
        (MC, "migrate"),
        2,
        ("0002_second.py:", "reverse_fill"),
        files={SECOND: second('migrations.RunSQL("SELECT 1", reverse_fill=1)')},
    ),
    Case(
        "reverse-fill-wrong-type",
        (MC, "migrate"),
        1,
        ("0002_second.py:", "reverse_fill=5 is not a string", "column name"),
        files={SECOND: second('migrations.RemoveField("product", "name", reverse_fill=5)')},
    ),
    Case(
        "reverse-fill-too-long",
        (MC, "makemigrations"),
        1,
        ("0002_second.py:", "is 51 characters"),
        files={
            SECOND: second(
                'migrations.AlterField("product", sa.Column("name", sa.String(50), nullable=True),'
                ' reverse_fill="x" * 51)'
            )
        },
    ),
    Case(
        "reverse-fill-list",
        (CM, "--no-database"),
        1,
        ("0002_second", "reverse_fill must be"),
        files={SECOND: second('migrations.RemoveField("product", "name", reverse_fill=[""])')},
    ),
    # -- --lock-timeout ----------------------------------------------------------------------------
    *(
        Case(
            f"lock-timeout-{key}",
            (MC, command, "--lock-timeout", value),
            2,
            ("--lock-timeout", shown),
        )
        for key, command, value, shown in [
            ("show-abc", "showmigrations", "abc", "'abc' is not a number of seconds"),
            ("show-negative", "showmigrations", "-5", "'-5': give seconds from 0"),
            ("show-nan", "showmigrations", "nan", "'nan': give seconds"),
            ("show-infinite", "showmigrations", "1e999", "'1e999': give seconds"),
            ("show-huge", "showmigrations", "99999999999", "give seconds from 0 to 86400"),
            ("migrate-negative", "migrate", "-1", "'-1': give seconds"),
            ("migrate-inf", "migrate", "inf", "'inf': give seconds"),
        ]
    ),
    Case(
        "lock-timeout-with-password-url",
        (MC, "showmigrations", "--lock-timeout", "1", "--database-url", PG),
        2,
        ("cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/app",),
    ),
    Case(
        "lock-timeout-bad-with-password-url",
        (MC, "migrate", "--database-url", MY, "--lock-timeout", "-1"),
        2,
        ("'-1': give seconds",),
    ),
    # -- the answer cache's folder -------------------------------------------------------------------
    Case(
        "cache-dir-is-a-file",
        (MC, "makemigrations", "--check"),
        0,
        ("No changes detected",),
        files={"cache-file": "not a folder\n"},
        env={"MIGRATE_CORE_CACHE_DIR": "{root}/cache-file"},
    ),
    Case(
        "cache-dir-under-a-file",
        (MC, "makemigrations", "--check"),
        0,
        ("No changes detected",),
        env={"MIGRATE_CORE_CACHE_DIR": "{root}/pyproject.toml/cache"},
    ),
    Case(
        "cache-dir-unwritable",
        (MC, "makemigrations", "--check"),
        0,
        ("No changes detected",),
        env={"MIGRATE_CORE_CACHE_DIR": "/proc/version/cache"},
    ),
    Case(
        "cache-with-secret-in-environment",
        (MC, "makemigrations", "--check"),
        0,
        ("No changes detected",),
        env={"MIGRATE_CORE_DATABASE_URL": PG, "MIGRATE_CORE_DEBUG_CACHE": "1"},
    ),
    # -- models that misbehave at import --------------------------------------------------------------
    Case(
        "models-delete-themselves",
        (MC, "makemigrations", "--check"),
        0,
        ("No changes detected",),
        files={"shop/models.py": MODELS + "\nimport os\nos.remove(__file__)\n"},
    ),
    Case(
        "models-module-deleted",
        (MC, "makemigrations"),
        2,
        ("No module named 'shop.models'", "restore it, or point models at"),
        files={"shop/models.py": None},
    ),
    Case(
        "models-package-deleted",
        (CM, "--no-database"),
        1,
        ("MC302", "there is no shop", "restore it"),
        files={"shop/models.py": None, "shop/__init__.py": None},
    ),
    Case(
        "models-read-missing-file",
        (MC, "makemigrations", "--check"),
        2,
        ("shop/models.py:", "FileNotFoundError", "settings.json"),
        files={"shop/models.py": MODELS + "\nopen('settings.json').read()\n"},
    ),
    Case(
        "models-require-env",
        (MC, "makemigrations", "--check"),
        2,
        ("shop/models.py:", "KeyError", "SHOP_SETTING"),
        files={"shop/models.py": MODELS + "\nimport os\nos.environ['SHOP_SETTING']\n"},
    ),
    # -- SQLite rebuilds and triggers --------------------------------------------------------------
    Case(
        "sqlite-trigger-on-dropped-column",
        (MC, "migrate"),
        1,
        ("trigger trg_product uses column product.name", "drop the trigger", "rolled back"),
        files={
            SECOND: second(
                'migrations.RunSQL(["CREATE TABLE audit (n TEXT)", "CREATE TRIGGER trg_product '
                'AFTER UPDATE ON product BEGIN INSERT INTO audit (n) VALUES (new.name); END"], '
                '["DROP TRIGGER trg_product", "DROP TABLE audit"]), '
                'migrations.RemoveField("product", "name", reverse_fill="")'
            )
        },
    ),
]


def _run(case: Case, tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = _project(tmp_path, case.files)
    fill = {"root": str(root), "tmp": str(tmp_path)}
    argv = [_bin(case.argv[0]), *(a.format(**fill) for a in case.argv[1:])]
    env = child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp_path)})
    env.update({k: v.format(**fill) for k, v in case.env.items()})
    proc = subprocess.run(
        argv,
        cwd=tmp_path / case.cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    return root, proc


def _no_secret_written(tmp_path: Path, before: dict[Path, float]) -> None:
    for path, stamp in _files(tmp_path).items():
        if before.get(path) != stamp:
            assert SECRET.encode() not in path.read_bytes(), path


def test_the_corpus_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_mistake_gets_one_message_its_exit_code_and_no_secret(case: Case, tmp_path: Path) -> None:
    before = _files(tmp_path)
    root, proc = _run(case, tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == case.code, output
    assert "Traceback" not in output
    for needle in case.shown:
        assert needle.format(root=root, tmp=tmp_path) in output, output
    assert SECRET not in output
    _no_secret_written(tmp_path, before)


# -- the answer cache: corrupted, and models that read what it must notice ----------------------------


def _check(root: Path, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_bin(MC), "makemigrations", "--check"],
        cwd=root,
        env=child_env(
            {"MIGRATE_CORE_CACHE_DIR": str(cache), "MIGRATE_CORE_DEBUG_CACHE": "1", **env}
        ),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    "garbage",
    [b"{not json", b"\xff\xfe\x00binary", b"[]", b'{"format": 1, "entries": []}', b"{" * 200_000],
    ids=["syntax", "binary", "list", "entries-list", "huge-nesting"],
)
def test_a_corrupt_answer_file_is_a_miss_then_rewritten(tmp_path: Path, garbage: bytes) -> None:
    root = _project(tmp_path, {})
    cache = tmp_path / "cache"
    assert _check(root, cache).returncode == 0
    stores = list(cache.rglob("answers.json"))
    assert stores, "the first run stored no answer"
    for store in stores:
        store.write_bytes(garbage)
    proc = _check(root, cache)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "not answered from cache" in output
    # The next run is answered again: the garbage was replaced, not kept.
    assert "answered from cache" in _check(root, cache).stderr


def test_a_huge_answer_file_is_a_miss(tmp_path: Path) -> None:
    root = _project(tmp_path, {})
    cache = tmp_path / "cache"
    assert _check(root, cache).returncode == 0
    for store in cache.rglob("answers.json"):
        store.write_bytes(b" " * 30_000_000 + b"x")
    proc = _check(root, cache)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_the_cache_notices_models_that_read_the_environment(tmp_path: Path) -> None:
    """The models add a column when an environment variable says so: the cached "no
    changes" must not survive a change of that variable."""
    models = MODELS + (
        "\nimport os\nif os.environ.get('SHOP_WITH_SKU'):\n"
        "    Product.__table__.append_column(sa.Column('sku', sa.String(10)))\n"
    )
    root = _project(tmp_path, {"shop/models.py": models})
    cache = tmp_path / "cache"
    assert _check(root, cache).returncode == 0
    assert "answered from cache" in _check(root, cache).stderr
    proc = _check(root, cache, SHOP_WITH_SKU="1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sku" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_cache_notices_models_that_read_a_file(tmp_path: Path) -> None:
    models = MODELS + (
        "\nimport pathlib\n"
        "for name in pathlib.Path(__file__).with_name('extra.txt').read_text().split():\n"
        "    Product.__table__.append_column(sa.Column(name, sa.String(10)))\n"
    )
    root = _project(tmp_path, {"shop/models.py": models, "shop/extra.txt": ""})
    cache = tmp_path / "cache"
    assert _check(root, cache).returncode == 0
    assert "answered from cache" in _check(root, cache).stderr
    (root / "shop" / "extra.txt").write_text("colour\n", encoding="utf-8")
    proc = _check(root, cache)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "colour" in proc.stdout + proc.stderr


def test_a_models_module_that_deletes_itself_is_not_answered_from_cache(tmp_path: Path) -> None:
    """The second run cannot import models that are gone: it must say so, not answer
    "no changes" from what the first run saw."""
    root = _project(tmp_path, {"shop/models.py": MODELS + "\nimport os\nos.remove(__file__)\n"})
    cache = tmp_path / "cache"
    assert _check(root, cache).returncode == 0
    proc = _check(root, cache)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "shop.models" in output and "Traceback" not in output


# -- signals in the middle of a SQLite group -----------------------------------------------------------


def _chain(root: Path, length: int) -> list[str]:
    """0001 and then schema-only migrations (SQLite commits those in groups)."""
    names = ["0001_initial"]
    for i in range(2, length + 1):
        name = f"{i:04d}_step"
        (root / "shop" / "migrations" / f"{name}.py").write_text(
            second(
                f'migrations.AddField("product", sa.Column("c{i}", sa.Integer())), '
                f'migrations.AddIndex("product", sa.Index("ix_product_c{i}", "c{i}"))',
                f'(("shop", "{names[-1]}"),)',
            ),
            encoding="utf-8",
        )
        names.append(name)
    return names


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_group_keeps_every_migration_printed_ok(tmp_path: Path, signum: int) -> None:
    root = _project(tmp_path, {})
    names = _chain(root, 150)
    proc = subprocess.Popen(
        [_bin(MC), "migrate"],
        cwd=root,
        env=child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = ""
    # Past the first few (so the signal lands inside the run, most likely inside a group);
    # MC_TEST_SIGNAL_AFTER moves the point (0: before anything ran).
    while (
        out.count(" OK (") < int(os.environ.get("MC_TEST_SIGNAL_AFTER", "5"))
        and proc.poll() is None
    ):
        out += proc.stdout.readline()
    proc.send_signal(signum)
    out += proc.stdout.read()
    err = proc.stderr.read()
    proc.wait()
    context = f"exit {proc.returncode}\n{out[-2000:]}\n{err}"
    assert "Traceback" not in err, context
    printed = re.findall(r"Applying shop\.(\S+)\.\.\. OK", out)
    with contextlib.closing(sqlite3.connect(root / "shop.db")) as db:
        history = db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'migrate_core_migrations'"
        ).fetchall()  # none yet when the signal came first
        applied = (
            [
                n
                for (n,) in db.execute(
                    "SELECT name FROM migrate_core_migrations WHERE state IS NULL ORDER BY id"
                )
            ]
            if history
            else []
        )
        columns = {row[1] for row in db.execute("PRAGMA table_info(product)")}
    if printed != names:  # the signal came before the end: it must say so
        assert proc.returncode != 0, context
    assert applied[: len(printed)] == printed, context
    assert applied == names[: len(applied)], context
    for i, name in enumerate(names[1:], 2):
        assert (f"c{i}" in columns) == (name in applied), f"{context}\n{name}"
    rerun = subprocess.run(
        [_bin(MC), "migrate"],
        cwd=root,
        env=child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache")}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr


# -- a signal during --cleanup -----------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_cleanup_stops_between_two_drops(tmp_path: Path, signum: int) -> None:
    """Stale SQLite scratch folders (made in 2020 by a process that is gone) in this test's
    TMPDIR; the signal is sent once the first is gone. The run stops between two drops:
    exit 130, no traceback, and every folder left is whole (a drop is never cut short)."""
    root = _project(tmp_path, {})
    leftovers = tmp_path / "leftovers"
    host, user = owner()
    for i in range(2000):
        # pid 4194304 is one past Linux's highest: no process can be running with it.
        folder = leftovers / f"mc_scratch_20200101000000_{host}_{user}_4194304_{i:06x}"
        folder.mkdir(parents=True)
        for j in range(3):
            (folder / f"db{j}.sqlite").write_bytes(b"x" * 64)
    env = child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(leftovers)})
    proc = subprocess.Popen(
        [_bin(CM), "--cleanup", "--cleanup-older-than", "1h"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while len(list(leftovers.iterdir())) == 2000 and proc.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.01)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    output = out + err
    assert "Traceback" not in output, output
    left = list(leftovers.iterdir())
    if proc.returncode == 0:  # it had finished before the signal arrived
        assert not left, output
        assert "2000 dropped" in out, output
    else:
        assert proc.returncode == 130, output
        assert "interrupted" in err, output
        assert 0 < len(left) < 2000, output
        for folder in left:
            assert len(list(folder.iterdir())) == 3, f"{folder} was half dropped"


# -- --cleanup against the real servers, as a user the server refuses ------------------------------


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_cleanup_refused_by_a_real_server_never_shows_the_password(
    dialect: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    server = server_url(dialect)
    assert server is not None
    url = sa.engine.make_url(server).set(username="mc_no_such_user", password=SECRET)
    root = _project(tmp_path, {})
    before = _files(tmp_path)
    for args in (("--cleanup",), ("--cleanup", "--cleanup-older-than", "0")):
        proc = subprocess.run(
            [_bin(CM), *args, "--database-url", url.render_as_string(hide_password=False)],
            cwd=root,
            env=child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache")}),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 2, output
        assert "Traceback" not in output and SECRET not in output, output
        assert "mc_no_such_user:***@" in output, output
    _no_secret_written(tmp_path, before)


# -- the commit hook, on a commit that deletes the models --------------------------------------------


@pytest.mark.parametrize("removed", ["shop/models.py", "shop"], ids=["module", "package"])
def test_the_hook_on_a_commit_that_deletes_the_models_says_what_to_do(
    tmp_path: Path, removed: str
) -> None:
    root = _project(tmp_path, {})
    env = child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache")})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"], ["rm", "-rq", removed]):
        subprocess.run([*git, *args], cwd=root, env=env, check=True, capture_output=True)
    proc = subprocess.run(
        [str(Path(_bin(MC)).with_name("migrate-core-hook")), "makemigrations"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    assert "models = 'shop.models'" in output and "restore it" in output, output


def test_the_fill_question_asks_again_for_a_value_that_does_not_fit(tmp_path: Path) -> None:
    """What the file would refuse to load with is refused at the prompt, and asked again."""
    models = MODELS + "    qty: Mapped[int] = mapped_column(sa.SmallInteger())\n"
    root = _project(tmp_path, {"shop/models.py": models})
    proc = subprocess.run(
        [_bin(MC), "makemigrations"],
        cwd=root,
        env=child_env({"MIGRATE_CORE_CACHE_DIR": str(tmp_path / "cache")}),
        input="'abc'\n99999\n7\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "'abc' is not an integer, which column qty (SMALLINT NOT NULL) needs" in output
    assert "99999 is outside the 16-bit range" in output
    written = (root / "shop" / "migrations" / "0002_add_product_qty.py").read_text(encoding="utf-8")
    assert "fill_value=7" in written
