"""Shared fixtures: scratch databases on every configured server, temporary projects.

SQLite always runs. PostgreSQL and MariaDB/MySQL run when
``MIGRATE_CORE_TEST_POSTGRES_URL`` / ``MIGRATE_CORE_TEST_MYSQL_URL`` name a server;
each test gets its own randomly named database there, dropped afterwards.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrate_core.db.scratch import scratch_database

SERVER_URLS = {
    "postgresql": os.environ.get("MIGRATE_CORE_TEST_POSTGRES_URL"),
    "mysql": os.environ.get("MIGRATE_CORE_TEST_MYSQL_URL"),
}
DIALECTS = ["sqlite", "postgresql", "mysql"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long scripted or generated evolution")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    old = os.environ.get("MIGRATE_CORE_CACHE_DIR")
    os.environ["MIGRATE_CORE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("MIGRATE_CORE_CACHE_DIR", None)
    else:
        os.environ["MIGRATE_CORE_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _no_env_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGRATE_CORE_DATABASE_URL", raising=False)
    monkeypatch.delenv("MIGRATE_CORE_CHECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


# CI sets this: a PostgreSQL or MariaDB test that would skip for want of a server fails
# instead, so a missing URL or a server that is down cannot turn into a green run.
REQUIRE_SERVERS = os.environ.get("MIGRATE_CORE_REQUIRE_SERVERS", "") not in ("", "0")


def server_url(dialect: str) -> str | None:
    if dialect == "sqlite":
        return None
    url = SERVER_URLS[dialect]
    if not url:
        env = (
            "MIGRATE_CORE_TEST_POSTGRES_URL"
            if dialect == "postgresql"
            else "MIGRATE_CORE_TEST_MYSQL_URL"
        )
        if REQUIRE_SERVERS:
            pytest.fail(f"{env} is not set, and MIGRATE_CORE_REQUIRE_SERVERS forbids skipping")
        pytest.skip(f"{env} is not set")
    return url


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """With MIGRATE_CORE_REQUIRE_SERVERS, a server test that skipped fails the run.

    Only skips for want of a server count: a test that skips because MariaDB lacks a
    feature (expression indexes, say) is a fact about MariaDB, not a missing server.
    """
    if not REQUIRE_SERVERS:
        return
    skipped = [
        r.nodeid
        for r in terminalreporter.stats.get("skipped", [])
        if "MIGRATE_CORE_TEST_" in str(r.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"MIGRATE_CORE_REQUIRE_SERVERS: {len(skipped)} server test(s) skipped, e.g. {skipped[0]}",
            red=True,
        )
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """Each test that uses this runs once per database kind."""
    return request.param


@pytest.fixture
def db_url(dialect: str) -> Iterator[str]:
    """An empty scratch database of the kind ``dialect`` names."""
    with scratch_database(server_url(dialect), label="test") as url:
        yield url


@pytest.fixture
def other_db_url(dialect: str) -> Iterator[str]:
    """A second empty scratch database of the same kind (for create_all comparisons)."""
    with scratch_database(server_url(dialect), label="test2") as url:
        yield url


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Create a project folder with a pyproject.toml and a models module; chdir into it."""

    def _make(
        models: str,
        *,
        app: str = "shop",
        url: str | None = None,
        extra: str = "",
        root: Path | None = None,
    ) -> Path:
        base = root or tmp_path / "project"
        lines = ["[tool.migrate-core]"]
        if url:
            lines.append(f'database-url = "{url}"')
        if extra:
            lines.append(extra.strip())
        lines += [
            "",
            f"[tool.migrate-core.apps.{app}]",
            f'models = "{app}.models:Base"',
            f'migrations = "{app}/migrations"',
        ]
        (base).mkdir(parents=True, exist_ok=True)
        (base / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write(base / app / "__init__.py", "")
        write(base / app / "models.py", models)
        monkeypatch.chdir(base)
        return base

    return _make
