"""makemigrations when a question is open: ``--check`` and ``--dry-run`` ask nothing and
list it, a NOT NULL column that looks renamed is asked as "rename?" first, a ``--rename``
that matches nothing is an error, and the notes on dropped columns name one target only
where the pairing is unambiguous.

Each test builds a small project and runs the real command in-process (``CliRunner``);
the hook tests run the real ``migrate-core-hook`` in a scratch git repository. Where a
migration is applied, it runs on SQLite, PostgreSQL and MariaDB (the ``project`` fixture),
and the round-trip law is checked.
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_git import VENV_BIN
from helpers_git import GitRepo
from helpers_git import base_env
from helpers_git import make_project
from helpers_git import run
from helpers_models import LawProject
from helpers_models import forget_modules
from helpers_models import law_project
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from migrate_core.migrations.questioner import Rename
from migrate_core.migrations.renames import pair_renames

HEAD = """
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


class Base(DeclarativeBase):
    pass
"""


def product(*columns: str, table: str = "product", cls: str = "Product") -> str:
    """A models module with one table: ``id`` and ``columns``."""
    body = "".join(f"    {c}\n" for c in columns)
    return (
        textwrap.dedent(HEAD)
        + f'\n\nclass {cls}(Base):\n    __tablename__ = "{table}"\n\n'
        + "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        + body
    )


NAME = "name: Mapped[str] = mapped_column(String(100))"
TITLE = "title: Mapped[str] = mapped_column(String(100))"
LABEL = "label: Mapped[str] = mapped_column(String(100))"
SKU = "sku: Mapped[str] = mapped_column(String(32))"
NOTE = "note: Mapped[str | None] = mapped_column(String(100))"
REMARK = "remark: Mapped[str | None] = mapped_column(String(100))"


def ints(*names: str) -> list[str]:
    return [f"{n}: Mapped[int | None]" for n in names]


@pytest.fixture
def project(
    tmp_path: Path, db_url: str, other_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LawProject]:
    """A project on each database kind (for what applies migrations)."""
    with law_project(tmp_path / "project", db_url, other_db_url) as p:
        monkeypatch.chdir(p.root)
        yield p


@pytest.fixture
def sqlite_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LawProject]:
    """For pure detection: the files' state against the models, no server needed."""
    from migrate_core.db.scratch import scratch_database

    with (
        scratch_database(None, label="a") as url,
        scratch_database(None, label="b") as other,
        law_project(tmp_path / "project", url, other) as p,
    ):
        monkeypatch.chdir(p.root)
        yield p


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def line_of(output: str, needle: str) -> str:
    """The one output line containing ``needle``."""
    found = [line for line in plain(output).splitlines() if needle in line]
    assert len(found) == 1, (needle, output)
    return found[0]


def rename_argument(text: str) -> str:
    """The argument of the one ``--rename`` a message tells a person to run."""
    found = re.findall(r"--rename (\S+?)[;)]?(?:\s|$)", text)
    assert len(set(found)) == 1, (found, text)
    return found[0]


# -- --check and --dry-run ask nothing ---------------------------------------------------------------


def test_check_lists_the_missing_operations_when_a_value_is_needed(
    sqlite_project: LawProject,
) -> None:
    """It used to exit 3 and list nothing; CI needs the list and exit 1."""
    project = sqlite_project
    project.step({"shop": product(NAME)})
    project.set_models("shop", product(NAME, SKU, *ints("stock")))

    # Not --noinput: a check never asks, whatever the terminal.
    result = project.cli("makemigrations", "--check", expect=1)

    sku = line_of(result.stdout, "+ Add column sku to product")
    assert "needs a value for the existing rows" in sku
    assert "rename?" not in sku
    assert line_of(result.stdout, "+ Add column stock to product").endswith("stock to product")
    assert ">>>" not in result.stdout and "[y/N]" not in result.stdout
    assert "Migrations are missing" in result.stderr
    assert "product.sku: a value for the existing rows" in result.stderr
    assert project.migration_files() == ["0001_initial"]


def test_check_names_a_column_becoming_not_null(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(NOTE)})
    project.set_models("shop", product(NOTE.replace("str | None", "str")))

    result = project.cli("makemigrations", "--check", expect=1)

    assert "needs a value for the rows that hold NULL" in line_of(result.stdout, "~ Alter column")
    assert "product.note: a value for the rows that hold NULL" in result.stderr


def test_check_asks_rename_first_for_a_not_null_column_that_looks_renamed(
    sqlite_project: LawProject,
) -> None:
    project = sqlite_project
    project.step({"shop": product(NAME)})
    project.set_models("shop", product(TITLE))

    result = project.cli("makemigrations", "--check", expect=1)

    title = line_of(result.stdout, "+ Add column title to product")
    assert "rename? if it was product.name: --rename product.name=title" in title
    assert "server default" not in title
    assert "--rename product.name=title" in line_of(result.stdout, "- Remove column name")
    assert "product.title: renamed from product.name? (--rename product.name=title)" in (
        result.stderr
    )

    # With the rename declared, the question is gone and the rename is what is missing.
    answered = project.cli("makemigrations", "--check", "--rename", "product.name=title", expect=1)
    assert "> Rename column name on product to title" in plain(answered.stdout)
    assert "rename?" not in answered.stdout and "needs a value" not in answered.stdout
    assert "It needs answers first" not in answered.stderr


def test_dry_run_asks_nothing_and_lists_the_open_questions(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(NAME, NOTE)})
    project.set_models("shop", product(TITLE, REMARK))

    result = project.cli("makemigrations", "--dry-run", expect=0)

    assert "[y/N]" not in result.stdout and ">>>" not in result.stdout
    assert "rename?" in line_of(result.stdout, "+ Add column title")
    assert "--rename product.note=remark" in line_of(result.stdout, "- Remove column note")
    assert project.migration_files() == ["0001_initial"]


def test_check_with_nothing_missing_exits_0(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(NAME)})

    result = project.cli("makemigrations", "--check", expect=0)

    assert "No changes detected" in result.stdout


# -- --noinput: "rename?" before any server default -------------------------------------------------


def test_noinput_not_null_rename_asks_rename_first_and_the_advice_keeps_the_rows(
    project: LawProject,
) -> None:
    project.step({"shop": product(NAME)})
    project.execute("INSERT INTO product (id, name) VALUES (1, 'tea'), (2, 'cake')")
    project.set_models("shop", product(TITLE))

    stopped = project.makemigrations(expect=3)

    message = stopped.stderr
    assert message.splitlines()[0].endswith(
        "product.title is new and NOT NULL, and product.name of the same type is dropped: "
        "rename? If title is name renamed, its rows keep their values and need no default; run:"
    )
    assert message.index("--rename product.name=title") < message.index("server default")
    assert project.migration_files() == ["0001_initial"]

    # Follow the advice literally.
    project.makemigrations("--rename", rename_argument(message.split("If it is a new")[0]))

    source = project.migration_source(project.migration_files()[-1])
    assert 'migrations.RenameField("product", "name", "title")' in source
    assert "AddField" not in source and "RemoveField" not in source
    project.migrate()
    assert sorted(project.rows("SELECT id, title FROM product")) == [(1, "tea"), (2, "cake")]
    project.assert_law()


def test_noinput_not_null_with_two_dropped_candidates_lets_a_person_choose(
    sqlite_project: LawProject,
) -> None:
    project = sqlite_project
    project.step({"shop": product(NAME, LABEL)})
    project.set_models("shop", product(TITLE))

    message = project.makemigrations(expect=3).stderr

    first = message.splitlines()[0]
    assert "product.title is new and NOT NULL" in first
    assert "product.name" in first and "product.label" in first
    assert "A person must choose" in message
    assert "--rename product.OLD=title" in message
    assert "--rename product.name=title" not in message
    assert "--rename product.label=title" not in message


def test_noinput_not_null_without_a_candidate_keeps_the_three_ways_out(
    sqlite_project: LawProject,
) -> None:
    project = sqlite_project
    project.step({"shop": product(NAME)})
    project.set_models("shop", product(NAME, SKU))

    message = project.makemigrations(expect=3).stderr

    assert message.startswith(
        "migrate-core: Cannot add NOT NULL column sku to product: the table may have rows"
    )
    assert "rename?" not in message


# -- --rename that matches nothing ------------------------------------------------------------------

BAD_RENAMES = [
    ("product.nte=remark", "the migrations' table product has no column nte (did you mean note?)"),
    (
        "product.note=remarks",
        "the models' table product has no column remarks (did you mean remark?)",
    ),
    (
        "prodct.note=remark",
        "no table prodct in the models and the migrations (did you mean product?)",
    ),
    ("product.id=remark", "the models still have product.id, so it was not renamed"),
    ("product.note=id", "the migrations already have product.id, so nothing was renamed to it"),
    ("product.note=shelf.remark", "a column stays in its table; write product.note=remark"),
    ("product=item", "the models still have table product, so it was not renamed"),
    ("shelf=rack", "the models still have table shelf, so it was not renamed"),
    ("crate=box", "the migrations have no table crate"),
    ("product.note=a=b", "write TABLE.COLUMN=NEW_COLUMN or TABLE=NEW_TABLE"),
]


@pytest.mark.parametrize(("argument", "expected"), BAD_RENAMES)
def test_rename_that_matches_nothing_is_a_usage_error(
    sqlite_project: LawProject, argument: str, expected: str
) -> None:
    project = sqlite_project
    shelf = "\n\nclass Shelf(Base):\n    __tablename__ = 'shelf'\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    project.step({"shop": product(NOTE) + shelf})
    project.set_models("shop", product(REMARK) + shelf)

    result = project.makemigrations("--rename", argument, expect=2)

    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("migrate-core: --rename "), lines[0]
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert project.migration_files() == ["0001_initial"]


def test_a_bad_rename_stops_before_any_question(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(NOTE)})
    project.set_models("shop", product(REMARK))

    result = project.cli("makemigrations", "--rename", "product.nte=remark", input="y\n", expect=2)

    assert "[y/N]" not in result.stdout
    assert "did you mean note?" in result.stderr
    assert project.migration_files() == ["0001_initial"]


def test_two_renames_into_one_column_are_refused(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(NOTE, NOTE.replace("note", "memo"))})
    project.set_models("shop", product(REMARK))

    result = project.makemigrations(
        "--rename", "product.note=remark", "--rename", "product.memo=remark", expect=2
    )

    assert "name the same new column: keep one" in result.stderr
    assert project.migration_files() == ["0001_initial"]


def test_the_prompts_own_form_of_a_rename_is_accepted(project: LawProject) -> None:
    """The question reads "Rename product.note to product.remark?"; people copy that."""
    project.step({"shop": product(NOTE)})
    project.execute("INSERT INTO product (id, note) VALUES (1, 'kept')")
    project.set_models("shop", product(REMARK))

    project.makemigrations("--rename", "product.note=product.remark")

    source = project.migration_source(project.migration_files()[-1])
    assert 'migrations.RenameField("product", "note", "remark")' in source
    project.migrate()
    assert project.rows("SELECT remark FROM product") == [("kept",)]
    project.assert_law()


@pytest.mark.parametrize("table", ["product", "item"])
def test_a_column_rename_in_a_renamed_table_may_name_either_table(
    project: LawProject, table: str
) -> None:
    project.step({"shop": product(NOTE)})
    project.execute("INSERT INTO product (id, note) VALUES (1, 'kept')")
    project.set_models("shop", product(REMARK, table="item", cls="Item"))

    project.makemigrations("--rename", "product=item", "--rename", f"{table}.note=remark")

    source = project.migration_source(project.migration_files()[-1])
    assert 'migrations.RenameModel("product", "item")' in source
    assert 'migrations.RenameField("item", "note", "remark")' in source
    project.migrate()
    assert project.rows("SELECT id, remark FROM item") == [(1, "kept")]
    project.assert_law()


def test_a_declared_rename_is_not_asked_against_other_columns(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(*ints("a", "b"))})
    project.set_models("shop", product(*ints("w", "x")))

    result = project.cli("makemigrations", "--rename", "product.a=x", input="n\n")

    # a is declared (to x) and x is taken: only b -> w is a question.
    assert result.stdout.count("[y/N]") == 1
    assert "Rename product.b to product.w? [y/N]" in result.stdout
    source = project.migration_source(project.migration_files()[-1])
    assert 'migrations.RenameField("product", "a", "x")' in source


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("product.name=title", Rename("product", "name", "title")),
        ("product.name=product.title", Rename("product", "name", "title")),
        (" product.name = title ", Rename("product", "name", "title")),
        ("product=item", Rename(None, "product", "item")),
    ],
)
def test_rename_forms(text: str, expected: Rename) -> None:
    assert Rename.parse(text) == expected
    assert Rename.parse(expected.argument) == expected


@pytest.mark.parametrize(
    "text",
    ["product.name", "=title", "product.name=", "product=shop.item", "product.=x", "a.b.c=d"],
)
def test_rename_forms_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--rename"):
        Rename.parse(text)


# -- the notes on dropped columns --------------------------------------------------------------------


def test_four_dropped_and_four_added_columns_name_no_single_target(
    sqlite_project: LawProject,
) -> None:
    """Each note used to say "renamed to parent_id", the last added column; followed
    literally, every column's data would have gone into the wrong one."""
    project = sqlite_project
    project.step({"shop": product(*ints("a", "b", "c", "d"))})
    project.set_models("shop", product(*ints("w", "x", "y", "parent_id")))

    listed = project.cli("makemigrations", "--check", expect=1)
    written = project.makemigrations()

    for output in (listed.stdout, written.stdout):
        for old in "abcd":
            note = line_of(output, f"- Remove column {old} from product")
            assert "a person must choose which of w, x, y, parent_id it became" in note
            assert f"--rename product.{old}=NEW" in note
            assert "renamed to" not in note
    source = project.migration_source(project.migration_files()[-1])
    assert "RenameField" not in source


def test_an_unambiguous_pair_per_definition_names_its_one_target(
    sqlite_project: LawProject,
) -> None:
    project = sqlite_project
    project.step({"shop": product(NOTE, *ints("qty"))})
    project.set_models("shop", product(REMARK, *ints("amount")))

    output = project.makemigrations().stdout

    assert "renamed to remark, run: migrate-core makemigrations --rename product.note=remark" in (
        line_of(output, "- Remove column note")
    )
    assert "renamed to amount, run: migrate-core makemigrations --rename product.qty=amount" in (
        line_of(output, "- Remove column qty")
    )


def test_similar_names_pair_and_following_the_notes_keeps_the_data(project: LawProject) -> None:
    project.step({"shop": product(*ints("parent", "child"))})
    project.execute("INSERT INTO product (id, parent, child) VALUES (1, 10, 20)")
    project.set_models("shop", product(*ints("parent_id", "child_id")))

    listed = project.cli("makemigrations", "--dry-run").stdout

    arguments = [
        rename_argument(line_of(listed, f"- Remove column {old} from product"))
        for old in ("parent", "child")
    ]
    assert arguments == ["product.parent=parent_id", "product.child=child_id"]
    project.makemigrations(*[item for a in arguments for item in ("--rename", a)])
    project.migrate()
    assert project.rows("SELECT parent_id, child_id FROM product") == [(10, 20)]
    project.assert_law()


def test_a_dropped_table_that_may_be_one_of_two_new_ones_lists_both(
    sqlite_project: LawProject,
) -> None:
    project = sqlite_project
    project.step({"shop": product(NOTE)})
    project.set_models(
        "shop",
        product(NOTE, table="item", cls="Item")
        + "\n\nclass Thing(Base):\n    __tablename__ = 'thing'\n\n"
        + "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        + f"    {NOTE}\n",
    )

    output = project.makemigrations().stdout

    note = line_of(output, "- Delete table product")
    assert "its rows are lost" in note
    assert "a person must choose which of item, thing it became" in note
    assert "--rename product=NEW" in note


@given(
    st.sets(
        st.tuples(st.sampled_from("abcdef"), st.sampled_from(["u", "v", "w", "a_id", "b_id"])),
        max_size=12,
    )
)
@settings(max_examples=300, deadline=None)
def test_pairing_never_gives_two_dropped_names_one_target(edges: set[tuple[str, str]]) -> None:
    pairs = pair_renames(sorted(edges))
    assert len(set(pairs.pairs.values())) == len(pairs.pairs)
    assert all(edge in edges for edge in pairs.pairs.items())
    for old, news in pairs.candidates.items():
        assert old not in pairs.pairs
        assert not set(news) & set(pairs.pairs.values())
        assert all((old, new) in edges for new in news)


def test_pairing_rules() -> None:
    every = [(o, n) for o in "abcd" for n in ("w", "x", "y", "parent_id")]
    assert pair_renames(every).pairs == {}
    assert pair_renames(every).for_old("a") == ("w", "x", "y", "parent_id")
    one = pair_renames([("note", "remark")])
    assert one.pairs == {"note": "remark"} and one.for_new("remark") == ("note",)
    similar = pair_renames([(o, n) for o in ("parent", "child") for n in ("parent_id", "child_id")])
    assert similar.pairs == {"parent": "parent_id", "child": "child_id"}
    # Once a pair is made, the one candidate left to another name pairs too.
    chained = pair_renames([("user", "user_id"), ("user", "w"), ("b", "w"), ("b", "user_id")])
    assert chained.pairs == {"user": "user_id", "b": "w"}
    tie = pair_renames([("a", "x"), ("b", "x")])
    assert tie.pairs == {} and tie.for_new("x") == ("a", "b")


# -- the same report through the checks and the hooks --------------------------------------------------


def test_the_missing_check_lists_the_same_questions(sqlite_project: LawProject) -> None:
    project = sqlite_project
    project.step({"shop": product(NAME)})
    project.set_models("shop", product(TITLE, SKU))

    result = project.cli("check", "--no-database", "--skip", "git", expect=1)

    out = plain(result.stdout)
    assert "MC301 shop: models differ from migrations" in out
    assert "rename? if it was product.name: --rename product.name=title" in line_of(
        out, "+ Add column title"
    )
    sku = line_of(out, "+ Add column sku")
    assert "needs a value for the existing rows" in sku
    assert "(run: migrate-core makemigrations shop)" not in sku
    assert "--rename product.name=title" in line_of(out, "- Remove column name")


def test_the_worker_reports_the_same_lines(sqlite_project: LawProject) -> None:
    """The hook plans in the project's interpreter through this protocol."""
    from migrate_core.config import load_config
    from migrate_core.usecases import worker

    project = sqlite_project
    project.step({"shop": product(NAME)})
    project.set_models("shop", product(TITLE))
    config = load_config(project.root / "pyproject.toml")
    forget_modules(project.packages)  # the models as they are now, not as step() imported them

    request = worker.PlanRequest(pyproject=str(config.path), section=config.raw, mode="pending")
    answer = worker.answer_from_reply(json.loads(worker.handle(request).to_json()))

    (migration,) = answer.migrations
    assert any("--rename product.name=title" in line for line in migration.descriptions)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo", base_env(tmp_path / "env"))


def hook(repo: GitRepo, *args: str) -> tuple[int, str]:
    result = run([str(VENV_BIN / "migrate-core-hook"), *args], repo.root, repo.env, check=False)
    assert "Traceback" not in result.output, str(result)
    return result.returncode, result.output


@pytest.mark.slow
def test_hooks_report_a_not_null_rename_as_rename_first(repo: GitRepo) -> None:
    """A rename the staged diff cannot show (the line moved): the check hook lists the
    question, and the makemigrations hook stops with rename? first and writes nothing."""
    old = [
        "name: Mapped[str] = mapped_column(String(50))",
        "a: Mapped[int | None] = mapped_column()",
        "b: Mapped[int | None] = mapped_column()",
    ]
    project = make_project(repo, columns=old)
    before = project.snapshot()
    moved = [old[1], old[2], "title: Mapped[str] = mapped_column(String(50))"]
    project.stage_models(project.source(*moved))

    code, output = hook(repo, "check", project.models)
    assert code == 1
    assert "rename? if it was product.name: --rename product.name=title" in line_of(
        output, "+ Add column title"
    )

    code, output = hook(repo, "makemigrations", project.models)
    assert code == 1
    first = output.splitlines()[0]
    assert first.startswith("product.title is new and NOT NULL, and product.name")
    assert output.index("--rename product.name=title") < output.index("server default")
    assert "The hook cannot ask" in output
    assert project.snapshot() == before

    # The advice, as printed, run by hand.
    argument = rename_argument(output.split("If it is a new")[0])
    done = run(
        [str(VENV_BIN / "migrate-core"), "makemigrations", "--noinput", "--rename", argument],
        project.root,
        repo.env,
    )
    assert "> Rename column name on product to title" in done.output, shlex.join(done.args)


@pytest.mark.slow
def test_the_makemigrations_hook_names_no_single_target_for_ambiguous_drops(
    repo: GitRepo,
) -> None:
    """Three integer columns dropped, two added: the staged diff pairs nothing (three
    against two), and the written migration's lines list the choices for each."""
    project = make_project(
        repo, columns=[f"{c}: Mapped[int | None] = mapped_column()" for c in "abc"]
    )
    project.stage_models(
        project.source(*[f"{c}: Mapped[int | None] = mapped_column()" for c in "wx"])
    )

    code, output = hook(repo, "makemigrations", project.models)

    assert code == 1
    for old in "abc":
        note = line_of(output, f"- Remove column {old} from product")
        assert "a person must choose which of w, x it became" in note
        assert "renamed to" not in note
    assert "delete the migration and run the --rename it names" in output
    assert output.count("note:") == 1
