"""The loader and the graph: plans on real migration files, squashes, cycles, the cache.

Plans are read from ``MigrationLoader`` / ``MigrationGraph`` built on files in a
temporary project; where a plan depends on what a database has applied (squashed
migrations, rollbacks on a branched history) it is run on SQLite through the CLI.
"""

from __future__ import annotations

import importlib
import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_engine import MODELS
from helpers_engine import cli
from helpers_engine import dispose_engines
from helpers_engine import history
from helpers_engine import migrate
from helpers_engine import snapshot
from helpers_engine import write_migration

from migrate_core import cache
from migrate_core.config import load_config
from migrate_core.errors import BadMigrationError
from migrate_core.errors import CircularDependencyError
from migrate_core.errors import NodeNotFoundError
from migrate_core.migrations import loader as loader_module
from migrate_core.migrations.graph import MigrationGraph
from migrate_core.migrations.loader import MigrationLoader


def _table(name: str) -> str:
    return f"""
    migrations.CreateModel(
        "{name}",
        columns=[sa.Column("id", sa.Integer(), nullable=False)],
        constraints=[sa.PrimaryKeyConstraint("id", name="pk_{name}")],
    ),
    """


def _column(table: str, column: str) -> str:
    return f'migrations.AddField("{table}", sa.Column("{column}", sa.Integer())),'


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    dispose_engines()


@pytest.fixture
def project(make_project, url: str) -> Path:  # type: ignore[no-untyped-def]
    return make_project(MODELS, url=url)


@pytest.fixture
def two_apps(project: Path) -> Path:
    """The project with a second app, blog, next to shop."""
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.migrate-core.apps.blog]\nmodels = "blog.models:Base"\n')
        f.write('migrations = "blog/migrations"\n')
    (project / "blog").mkdir()
    (project / "blog" / "models.py").write_text(MODELS)
    return project


def _loader(applied: set[tuple[str, str]] | None = None) -> MigrationLoader:
    return MigrationLoader(load_config(), applied=applied)


def _names(keys: list[tuple[str, str]]) -> list[str]:
    return [f"{app}.{name}" for app, name in keys]


def _assert_dependencies_first(graph: MigrationGraph, plan: list[tuple[str, str]]) -> None:
    position = {key: i for i, key in enumerate(plan)}
    for key in plan:
        for parent in graph.nodes[key].parents:
            if parent in position:
                assert position[parent] < position[key], (parent, key)


# -- linear, branched and merged histories ---------------------------------------------------------


def test_linear_plans(project: Path) -> None:
    write_migration(project, "0001_initial", _table("a"))
    write_migration(project, "0002_b", _table("b"), [("shop", "0001_initial")])
    write_migration(project, "0003_c", _column("b", "c"), [("shop", "0002_b")])
    graph = _loader().graph
    keys = [("shop", "0001_initial"), ("shop", "0002_b"), ("shop", "0003_c")]
    assert graph.full_plan() == keys
    assert graph.forwards_plan(keys[1]) == keys[:2]
    assert graph.backwards_plan(keys[1]) == [keys[2], keys[1]]
    assert graph.leaf_nodes() == [keys[2]]
    assert graph.root_nodes() == [keys[0]]
    assert graph.conflicts() == {}


def test_branches_are_a_conflict_until_merged(project: Path, url: str) -> None:
    write_migration(project, "0001_initial", _table("a"))
    write_migration(project, "0002_left", _column("a", "left_col"), [("shop", "0001_initial")])
    write_migration(project, "0002_right", _column("a", "right_col"), [("shop", "0001_initial")])
    graph = _loader().graph
    left, right = ("shop", "0002_left"), ("shop", "0002_right")
    assert graph.leaf_nodes("shop") == [left, right]
    assert graph.conflicts() == {"shop": [left, right]}
    assert graph.common_ancestors([left, right]) == [("shop", "0001_initial")]
    result = cli("migrate", "shop", expect=2)
    assert result.stderr == (
        "migrate-core: app shop has more than one leaf migration (0002_left, 0002_right): "
        "migrations were written on two branches; run: migrate-core makemigrations --merge shop\n"
    )

    write_migration(project, "0003_merge", "", [("shop", "0002_left"), ("shop", "0002_right")])
    graph = _loader().graph
    merge = ("shop", "0003_merge")
    assert graph.conflicts() == {}
    assert graph.leaf_nodes() == [merge]
    plan = graph.forwards_plan(merge)
    assert plan == [("shop", "0001_initial"), left, right, merge]
    back = graph.backwards_plan(("shop", "0001_initial"))
    assert back == [merge, left, right, ("shop", "0001_initial")]
    _assert_dependencies_first(graph, plan)

    # On a database: both branches go in, and come out again in dependency order.
    assert "apply 4 migrations" in migrate(url, "shop").stdout
    assert set(snapshot(url)["a"].columns) == {"id", "left_col", "right_col"}
    out = migrate(url, "shop", "0002_left").stdout
    assert "Unapplying shop.0003_merge... OK" in out
    assert "unapply 1 migration" in out
    assert set(snapshot(url)["a"].columns) == {"id", "left_col", "right_col"}


def test_rollback_across_both_branches(project: Path, url: str) -> None:
    write_migration(project, "0001_initial", _table("a"))
    write_migration(project, "0002_left", _column("a", "left_col"), [("shop", "0001_initial")])
    write_migration(project, "0002_right", _column("a", "right_col"), [("shop", "0001_initial")])
    write_migration(project, "0003_merge", "", [("shop", "0002_left"), ("shop", "0002_right")])
    migrate(url, "shop")
    out = migrate(url, "shop", "0001").stdout
    assert "unapply 3 migrations" in out
    assert set(snapshot(url)["a"].columns) == {"id"}
    assert [name for _app, name, _sum in history(url)] == ["0001_initial"]


def test_cross_app_dependencies(two_apps: Path, url: str) -> None:
    write_migration(two_apps, "0001_initial", _table("shop_item"))
    write_migration(
        two_apps, "0001_initial", _table("post"), [("shop", "0001_initial")], app="blog"
    )
    write_migration(
        two_apps,
        "0002_post_ref",
        _column("shop_item", "post_id"),
        [("shop", "0001_initial"), ("blog", "0001_initial")],
    )
    graph = _loader().graph
    assert _names(graph.full_plan()) == [
        "shop.0001_initial",
        "blog.0001_initial",
        "shop.0002_post_ref",
    ]
    assert _names(graph.full_plan(["blog"])) == ["shop.0001_initial", "blog.0001_initial"]
    # A child in another app does not stop a migration being its own app's leaf.
    assert graph.leaf_nodes("blog") == [("blog", "0001_initial")]
    assert graph.leaf_nodes("shop") == [("shop", "0002_post_ref")]
    assert graph.root_nodes("blog") == [("blog", "0001_initial")]

    out = migrate(url, "blog").stdout
    assert out.startswith("Operations to perform: apply 2 migrations (blog, shop)")
    assert out.index("shop.0001_initial") < out.index("blog.0001_initial")
    out = migrate(url).stdout
    assert "Applying shop.0002_post_ref... OK" in out
    # Taking shop back to zero takes what depends on it in blog too.
    out = migrate(url, "shop", "zero").stdout
    assert out.startswith("Operations to perform: unapply 3 migrations (blog, shop)")
    assert history(url) == []
    assert snapshot(url).names() == set()


def test_first_and_latest(two_apps: Path) -> None:
    write_migration(two_apps, "0001_initial", _table("a"))
    write_migration(two_apps, "0002_b", _table("b"), [("shop", "0001_initial")])
    write_migration(two_apps, "0001_initial", _table("c"), [("shop", "__first__")], app="blog")
    write_migration(two_apps, "0002_d", _table("d"), [("shop", "__latest__")], app="blog")
    graph = _loader().graph
    assert graph.nodes[("blog", "0001_initial")].parents == {("shop", "0001_initial")}
    assert graph.nodes[("blog", "0002_d")].parents == {("shop", "0002_b")}
    assert graph.nodes[("shop", "0002_b")].children == {("blog", "0002_d")}


def test_first_of_an_app_without_migrations(two_apps: Path) -> None:
    path = write_migration(two_apps, "0001_initial", _table("a"), [("blog", "__first__")])
    with pytest.raises(NodeNotFoundError) as info:
        _loader()
    assert str(info.value) == (
        f"{path} depends on ('blog', '__first__'), but app blog has no migrations"
    )


def test_run_before(two_apps: Path) -> None:
    write_migration(two_apps, "0001_initial", _table("a"))
    write_migration(two_apps, "0002_b", _table("b"), [("shop", "0001_initial")])
    write_migration(
        two_apps,
        "0001_initial",
        _table("c"),
        app="blog",
        attributes='run_before = [("shop", "0002_b")]',
    )
    graph = _loader().graph
    assert ("blog", "0001_initial") in graph.nodes[("shop", "0002_b")].parents
    plan = graph.full_plan()
    assert plan.index(("blog", "0001_initial")) < plan.index(("shop", "0002_b"))


# -- cycles ----------------------------------------------------------------------------------------


def test_cycle_is_reported_with_its_path(two_apps: Path) -> None:
    write_migration(two_apps, "0001_initial", _table("a"), [("blog", "0002_b")])
    write_migration(two_apps, "0001_initial", _table("b"), app="blog")
    write_migration(two_apps, "0002_b", "", [("shop", "0001_initial")], app="blog")
    with pytest.raises(CircularDependencyError) as info:
        _loader()
    message = str(info.value)
    prefix = "migrations depend on each other in a loop: "
    assert message.startswith(prefix)
    loop = message[len(prefix) :].split(" -> ")
    assert loop[0] == loop[-1]
    assert sorted(loop[:-1]) == ["blog.0002_b", "shop.0001_initial"]


def test_find_cycle_returns_the_loop_only() -> None:
    graph = MigrationGraph()
    for name in ("0001", "0002", "0003", "0004"):
        graph.add_node(("x", name))
    graph.add_dependency(("x", "0002"), ("x", "0001"))
    graph.add_dependency(("x", "0003"), ("x", "0002"))
    graph.add_dependency(("x", "0004"), ("x", "0003"))
    assert graph.find_cycle() is None
    graph.add_dependency(("x", "0002"), ("x", "0004"))  # 0002 -> 0004 -> 0003 -> 0002
    cycle = graph.find_cycle()
    assert cycle is not None
    assert cycle[0] == cycle[-1]
    assert sorted(set(cycle)) == [("x", "0002"), ("x", "0003"), ("x", "0004")]
    # Every step of the path is a real edge (child -> parent).
    for child, parent in itertools.pairwise(cycle):
        assert parent in graph.nodes[child].parents
    with pytest.raises(CircularDependencyError):
        graph.validate()


def test_long_chain_has_no_recursion_limit() -> None:
    graph = MigrationGraph()
    keys = [("x", f"{i:05d}") for i in range(5000)]
    for key in keys:
        graph.add_node(key)
    for parent, child in itertools.pairwise(keys):
        graph.add_dependency(child, parent)
    assert graph.forwards_plan(keys[-1]) == keys
    assert graph.backwards_plan(keys[0]) == list(reversed(keys))
    assert graph.find_cycle() is None


# -- squashed migrations ---------------------------------------------------------------------------


def _write_originals(project: Path) -> None:
    write_migration(project, "0001_initial", _table("a"))
    write_migration(project, "0002_b", _table("b"), [("shop", "0001_initial")])
    write_migration(project, "0003_c", _column("b", "c"), [("shop", "0002_b")])


def _write_squash(project: Path) -> None:
    write_migration(
        project,
        "0001_squashed_0002_b",
        _table("a") + _table("b"),
        attributes='replaces = [("shop", "0001_initial"), ("shop", "0002_b")]',
    )


SQUASH = ("shop", "0001_squashed_0002_b")


def test_squash_used_when_none_of_the_replaced_is_applied(project: Path, url: str) -> None:
    _write_originals(project)
    _write_squash(project)
    graph = _loader(applied=set()).graph
    assert ("shop", "0001_initial") not in graph
    assert ("shop", "0002_b") not in graph
    assert graph.full_plan() == [SQUASH, ("shop", "0003_c")]

    out = migrate(url).stdout
    assert "Operations to perform: apply 2 migrations (shop)" in out
    assert "Applying shop.0001_squashed_0002_b... OK" in out
    assert snapshot(url).names() == {"a", "b"}
    assert cli("showmigrations").stdout.splitlines() == [
        "shop",
        " [X] 0001_squashed_0002_b",
        " [X] 0003_c",
    ]
    out = migrate(url, "shop", "zero").stdout
    assert "Operations to perform: unapply 2 migrations (shop)" in out
    assert history(url) == []
    assert snapshot(url).names() == set()


def test_squash_used_when_all_of_the_replaced_are_applied(project: Path, url: str) -> None:
    _write_originals(project)
    migrate(url, "shop", "0002_b")
    _write_squash(project)
    applied = {("shop", "0001_initial"), ("shop", "0002_b")}
    assert _loader(applied=applied).graph.full_plan() == [SQUASH, ("shop", "0003_c")]

    # The squash counts as applied: only 0003 is left to run.
    assert cli("showmigrations").stdout.splitlines() == [
        "shop",
        " [X] 0001_squashed_0002_b",
        " [ ] 0003_c",
    ]
    out = migrate(url).stdout
    assert "Operations to perform: apply 1 migration (shop)" in out
    assert "Applying shop.0003_c... OK" in out
    assert snapshot(url)["b"].columns.keys() == {"id", "c"}


def test_rollback_of_squash_applied_through_the_replaced(project: Path, url: str) -> None:
    _write_originals(project)
    migrate(url, "shop", "0002_b")
    _write_squash(project)
    out = migrate(url, "shop", "zero").stdout
    assert "Unapplying shop.0001_squashed_0002_b... OK" in out
    # Rolling the squash back forgets the migrations it replaced as well.
    assert history(url) == []
    assert snapshot(url).names() == set()


def test_squash_ignored_when_some_of_the_replaced_are_applied(project: Path, url: str) -> None:
    _write_originals(project)
    migrate(url, "shop", "0001_initial")
    _write_squash(project)
    graph = _loader(applied={("shop", "0001_initial")}).graph
    assert SQUASH not in graph
    assert graph.full_plan() == [("shop", "0001_initial"), ("shop", "0002_b"), ("shop", "0003_c")]

    out = migrate(url).stdout
    assert "Operations to perform: apply 2 migrations (shop)" in out
    assert "Applying shop.0002_b... OK" in out
    assert "squashed" not in out
    assert [name for _app, name, _sum in history(url)] == ["0001_initial", "0002_b", "0003_c"]


# -- the loader cache ------------------------------------------------------------------------------

# Every import of a migration file, counted where the loader imports them: the one
# way to see from outside whether a load used the cache or read the files again. (A
# file that wrote its own log would import pathlib, and such a file is never cached.)
IMPORTS: Counter[str] = Counter()
COUNTED = ""


@pytest.fixture(autouse=True)
def _count_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    real = loader_module.import_migration

    def counting(app: str, name: str, *args: Any, **kwargs: Any) -> Any:
        IMPORTS[name] += 1
        return real(app, name, *args, **kwargs)

    monkeypatch.setattr(loader_module, "import_migration", counting)
    IMPORTS.clear()


def _imports(project: Path) -> dict[str, int]:
    return dict(sorted(IMPORTS.items()))


def _reset_imports(project: Path) -> None:
    IMPORTS.clear()


def test_loader_cache(project: Path) -> None:
    write_migration(project, "0001_initial", _table("a"), prelude=COUNTED)
    write_migration(project, "0002_b", _table("b"), [("shop", "0001_initial")], prelude=COUNTED)

    first = _loader().project_state()
    assert set(first.tables) == {"a", "b"}
    assert _imports(project) == {"0001_initial": 1, "0002_b": 1}
    assert cache.project_file(project, "state.pickle").is_file()

    # Nothing changed: the graph and the state come from the cache, no file is imported.
    _reset_imports(project)
    second = _loader().project_state()
    assert second == first
    assert _imports(project) == {}

    # A new migration on top: only it is imported, replayed on the cached state.
    write_migration(project, "0003_c", _column("b", "c"), [("shop", "0002_b")], prelude=COUNTED)
    third = _loader().project_state()
    assert _imports(project) == {"0003_c": 1}
    assert third.tables["b"].column_names == ("id", "c")
    assert third.tables["a"] == first.tables["a"]

    # An edited file changes its hash: the cache no longer applies, and the edit shows.
    _reset_imports(project)
    path = project / "shop" / "migrations" / "0002_b.py"
    path.write_text(path.read_text().replace('"b"', '"bb"').replace("pk_b", "pk_bb"))
    path3 = project / "shop" / "migrations" / "0003_c.py"
    path3.write_text(path3.read_text().replace('"b"', '"bb"'))
    fourth = _loader().project_state()
    assert set(fourth.tables) == {"a", "bb"}
    assert fourth.tables["bb"].column_names == ("id", "c")
    assert _imports(project)["0002_b"] == 1

    # And the edited chain is cached in turn.
    _reset_imports(project)
    assert _loader().project_state() == fourth
    assert _imports(project) == {}


def test_loader_without_cache(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATE_CORE_NO_CACHE", "1")
    write_migration(project, "0001_initial", _table("a"), prelude=COUNTED)
    first = _loader().project_state()
    second = _loader().project_state()
    assert first == second
    assert _imports(project) == {"0001_initial": 2}
    assert not cache.project_file(project, "state.pickle").exists()


def test_cached_state_equals_a_fresh_replay(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_migration(project, "0001_initial", _table("a"))
    write_migration(project, "0002_b", _column("a", "b"), [("shop", "0001_initial")])
    _loader().project_state()  # fills the cache
    cached = _loader().project_state()
    monkeypatch.setenv("MIGRATE_CORE_NO_CACHE", "1")
    assert _loader().project_state() == cached


def _load_error(monkeypatch: pytest.MonkeyPatch, *, cached: bool) -> str:
    monkeypatch.setenv("MIGRATE_CORE_NO_CACHE", "0" if cached else "1")
    with pytest.raises(BadMigrationError) as info:
        _loader().project_state()
    return str(info.value)


def test_a_file_importing_project_code_is_never_answered_from_the_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached answer equals the uncached one: a migration that imports the project's
    code (a custom type, later deleted) fails the same way with a warm cache, while the
    self-contained files before it still come from the cache."""
    (project / "shop" / "names.py").write_text("TABLE = 'b'\n")
    write_migration(project, "0001_initial", _table("a"))
    write_migration(
        project, "0002_b", _table("b"), [("shop", "0001_initial")], prelude="import shop.names"
    )
    write_migration(project, "0003_c", _column("b", "c"), [("shop", "0002_b")])
    first = _loader().project_state()
    _reset_imports(project)
    assert _loader().project_state() == first
    # 0001 comes from the cache; 0002 imports project code, so it and all after it replay.
    assert _imports(project) == {"0002_b": 1, "0003_c": 1}

    (project / "shop" / "names.py").unlink()
    # A new process would not have it imported already.
    monkeypatch.delitem(sys.modules, "shop.names", raising=False)
    importlib.invalidate_caches()
    uncached = _load_error(monkeypatch, cached=False)
    assert _load_error(monkeypatch, cached=True) == uncached
    assert "0002_b" in uncached and "No module named 'shop.names'" in uncached, uncached
    assert "should import only migrate_core and sqlalchemy" in uncached, uncached


def test_self_contained_is_decided_from_every_import() -> None:
    def code(source: str) -> Any:
        return compile(source, "m.py", "exec")

    assert loader_module.self_contained(
        code("import sqlalchemy as sa\nfrom migrate_core import migrations\n")
    )
    assert loader_module.self_contained(code("from sqlalchemy.dialects import postgresql\n"))
    assert not loader_module.self_contained(code("import shop.types\n"))
    assert not loader_module.self_contained(code("def f():\n    import os\n"))
    assert not loader_module.self_contained(code("x = __import__('shop')\n"))
    assert not loader_module.self_contained(code("x = open('f').read()\n"))
