"""A 36-version scripted model history, replayed on every database.

Each version of a two-app project (``tests/model_history/versions.py``) is written
to disk, then ``makemigrations --noinput`` (with ``--rename`` where the version
renames), ``migrate``, and the round-trip law: the migrated database equals
``create_all`` of that version's models on an empty second database, and
``makemigrations --check`` finds nothing. A version that changes nothing the
database can see (a custom type renamed or moved, an enum class renamed) must
write no migration; every other version must write at least one, and it must apply.

Rows inserted along the way ride through the type changes, the renames, and the
NOT NULL fill. After the last version ``check-migrations`` runs in a child process
(graph, missing, reversibility, drift on its own scratch databases) and must pass,
and both apps roll back to zero, leaving only the history table.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import server_url
from helpers_check import MIGRATE_CORE
from helpers_check import child_env
from helpers_check import run_check
from helpers_models import LawProject
from helpers_models import assert_ruff_clean
from helpers_models import at_step
from helpers_models import law_project
from model_history.versions import FILES
from model_history.versions import LAST


@dataclass(frozen=True)
class Version:
    label: str
    renames: tuple[str, ...] = ()
    # True: nothing the database can see changes, so no migration may be written.
    noop: bool = False
    # Text the version's migration(s) must hold (checked in the shop app's new files).
    needles: tuple[str, ...] = ()


VERSIONS: dict[int, Version] = {
    1: Version("initial: naming convention, mysql_engine/charset, func.now(), Boolean default"),
    2: Version(
        "a GUID TypeDecorator (CHAR(32), UUID on PostgreSQL via load_dialect_impl)",
        needles=('sa.CHAR(length=32).with_variant(sa.UUID(), "postgresql")',),
    ),
    3: Version("a TypeDecorator with impl = sa.JSON", needles=("sa.JSON()",)),
    4: Version(
        "a TypeDecorator class made in a factory function, on a new table",
        needles=('CreateModel(\n            "product"', "sa.String(length=12)"),
    ),
    5: Version("the GUID class renamed, same impl", noop=True),
    6: Version("the UUID and JSON types moved to another module", noop=True),
    7: Version("a Python Enum column", needles=('"BOOK"', '"FILM"')),
    8: Version("an enum member added", needles=('"MUSIC"',)),
    9: Version("an enum member removed"),
    10: Version("values_callable: the enum stores values instead of names", needles=('"music"',)),
    11: Version("the Python Enum class renamed (same type name)", noop=True),
    12: Version("an Enum with native_enum=False"),
    13: Version("a longer member for the non-native Enum"),
    14: Version("Integer with a server default becomes BigInteger", needles=("sa.BigInteger()",)),
    15: Version("String with a server default becomes an Enum", needles=('"product_status"',)),
    16: Version("String becomes Integer (USING on PostgreSQL), rows converted"),
    17: Version("Boolean default flipped, a NOT NULL Boolean with a default added"),
    18: Version(
        "nullable -> NOT NULL with a server default, rows holding NULL",
        needles=("nullable=False", 'server_default="anon"'),
    ),
    19: Version(
        "column renamed", renames=("account.name=display_name",), needles=("RenameField(",)
    ),
    20: Version(
        "table renamed", renames=("product=item",), needles=('RenameModel("product", "item")',)
    ),
    21: Version("partial, expression and unique indexes"),
    22: Version("a check constraint", needles=('"ck_item_price_not_negative"',)),
    23: Version("a computed column", needles=("sa.Computed(",)),
    24: Version("an identity column", needles=("sa.Identity(",)),
    25: Version(
        "foreign keys with ondelete", needles=('ondelete="CASCADE"', 'ondelete="SET NULL"')
    ),
    26: Version("an association table"),
    27: Version("single-table inheritance", needles=('"card_last4"',)),
    28: Version("joined-table inheritance", needles=('CreateModel(\n            "refund"',)),
    29: Version("a mixin with declared_attr on a new and an existing table"),
    30: Version("MappedAsDataclass models in a second app"),
    31: Version("server_default=text(...)", needles=("sa.text(",)),
    32: Version(
        "a PickleType column (a TypeDecorator: written as LargeBinary)",
        needles=("sa.LargeBinary()",),
    ),
    33: Version(
        "the factory-made type replaced by its plain String, the module deleted", noop=True
    ),
    34: Version("the UUID and JSON columns dropped, their module deleted"),
    35: Version("the Python Enum column dropped (its PostgreSQL type goes with it)"),
    36: Version("the association table dropped"),
}

# Rows written after a version migrated: (version, statements).
#
# Version 18 makes account.name NOT NULL with a server default: the row written
# after version 17 holds NULL there, and the migration fills it with the default
# before the constraint (on every database).
ROWS: dict[int, tuple[str, ...]] = {
    1: ("INSERT INTO account (email, name) VALUES ('a@x.org', 'Ann'), ('b@x.org', 'Bob')",),
    4: (
        "INSERT INTO product (code, title, stock) VALUES ('A-1', 'first', '5'), ('B-2', 'second', NULL)",
    ),
    17: ("INSERT INTO account (email, name) VALUES ('c@x.org', NULL)",),
}


def version_source(timeline: str, version: int, dialect: str) -> str:
    """The timeline at ``version``; ``# !mysql`` lines are dropped on MariaDB/MySQL."""
    lines = []
    for line in timeline.splitlines():
        if "  # !mysql" in line:
            if dialect == "mysql":
                continue
            line = line.replace("  # !mysql", "")
        lines.append(line)
    return at_step("\n".join(lines), version)


def write_version(project: LawProject, version: int, dialect: str) -> None:
    for relative, (timeline, first, last) in FILES.items():
        path = project.root / relative
        if first <= version <= last:
            project.write(relative, version_source(timeline, version, dialect))
        elif path.exists():
            path.unlink()
            shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)


def new_shop_sources(project: LawProject, names: list[str]) -> str:
    folder = project.root / "shop" / "migrations"
    return "\n".join(
        (folder / f"{n}.py").read_text(encoding="utf-8")
        for n in names
        if (folder / f"{n}.py").exists()
    )


@pytest.fixture
def project(
    tmp_path: Path, db_url: str, other_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    with law_project(tmp_path / "project", db_url, other_db_url, apps=("shop", "notes")) as p:
        monkeypatch.chdir(p.root)
        yield p


def test_the_versions_are_a_long_history() -> None:
    assert sorted(VERSIONS) == list(range(1, LAST + 1))
    assert LAST >= 32
    # Each version's timeline really differs from the one before (except where the
    # files say otherwise): a version that silently stayed the same tests nothing.
    for version in range(2, LAST + 1):
        before = {r: version_source(t, version - 1, "sqlite") for r, (t, _, _) in FILES.items()}
        now = {r: version_source(t, version, "sqlite") for r, (t, _, _) in FILES.items()}
        moved = any((lo == version) or (hi == version - 1) for _, lo, hi in FILES.values())
        assert moved or before != now, f"version {version} changes nothing"


@pytest.mark.slow
def test_model_history_replays_on_every_database(
    project: LawProject, dialect: str, db_url: str
) -> None:
    for number in range(1, LAST + 1):
        version = VERSIONS[number]
        label = f"version {number} ({version.label})"
        write_version(project, number, dialect)
        if number == 1:
            # The first version goes through the installed command, in a child process:
            # the CLI path end to end, with the project's own interpreter state.
            done = subprocess.run(
                [MIGRATE_CORE, "makemigrations", "--noinput"],
                cwd=project.root,
                env=child_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            names = project.migration_files("shop")
            assert names == ["0001_initial"], done.stdout
            project.migrate()
            project.assert_law(label)
        else:
            names = project.step({}, renames=version.renames, label=label)
        if version.noop:
            assert names == [], f"{label} wrote {names}, but nothing changed in the database"
        else:
            assert names, f"{label} wrote no migration"
        source = new_shop_sources(project, names)
        for needle in version.needles:
            assert needle in source, f"{needle!r} not in the migration of {label}:\n{source}"
        project.execute(*ROWS.get(number, ()))
        if number == 16:
            assert project.rows("SELECT code, stock FROM product ORDER BY code") == [
                ("A-1", 5),
                ("B-2", None),
            ]
        if number == 18:
            assert project.rows("SELECT email, name FROM account ORDER BY email") == [
                ("a@x.org", "Ann"),
                ("b@x.org", "Bob"),
                ("c@x.org", "anon"),
            ]

    assert not (project.root / "shop" / "types.py").exists()
    assert not (project.root / "shop" / "coltypes.py").exists()
    # The migrations that created the custom-typed columns still load: they name only
    # SQLAlchemy types. The whole check, in its own process, on its own scratch databases.
    run = run_check(project.root, url=server_url(dialect))
    assert run.returncode == 0, run.output
    for check in ("graph", "missing", "reversibility", "drift"):
        statuses = {c["name"]: c["status"] for c in run.report["checks"]}
        assert statuses.get(check) == "passed", (check, statuses, run.output)

    project.assert_unapplies_to_nothing()
    assert_ruff_clean(project.root, "shop/migrations", "notes/migrations")
