"""The worker's typed protocol: what goes over the pipe comes back as it was sent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from migrate_core.errors import BadMigrationError
from migrate_core.errors import ConflictError
from migrate_core.errors import MigrateCoreError
from migrate_core.errors import ModelImportError
from migrate_core.errors import QuestionRequired
from migrate_core.migrations.renames import RenameHint
from migrate_core.usecases import worker


def test_request_round_trips_through_json() -> None:
    request = worker.PlanRequest(
        pyproject="/p/pyproject.toml",
        section={"apps": {"shop": {"models": "shop.models"}}},
        mode="pending",
        models_root="/tmp/staged",
        hints=(RenameHint("column", "Product", "name", "title", None, "name", "title"),),
        renames=(("product", "a", "b"), (None, "old", "new")),
        apps=("shop",),
        app="shop",
    )
    assert worker.PlanRequest.from_json(request.to_json()) == request


def test_answer_round_trips_through_json() -> None:
    answer = worker.PlanAnswer(
        migrations=(worker.PlannedMigration("shop", "0002_x", "/m/0002_x.py", "code", ("+ a",)),),
        declined=((None, "old", "new"),),
        model_files=("shop/models.py",),
    )
    assert worker.answer_from_reply(json.loads(answer.to_json())) == answer


@pytest.mark.parametrize(
    "exc",
    [
        QuestionRequired("rename?"),
        ModelImportError("shop/models.py:3: boom", path="/s/shop/models.py", line=3),
        BadMigrationError("bad", path="/m/0001.py", line=1),
        ConflictError("two leaves"),
        MigrateCoreError("plain"),
    ],
)
def test_errors_come_back_as_the_same_class(exc: MigrateCoreError) -> None:
    reply = json.loads(worker.WorkerError.from_exception(exc).to_json())
    with pytest.raises(type(exc)) as raised:
        worker.answer_from_reply(reply)
    assert type(raised.value) is type(exc)
    assert str(raised.value) == str(exc)
    assert raised.value.exit_code == exc.exit_code
    assert getattr(raised.value, "path", None) == getattr(exc, "path", None)
    assert getattr(raised.value, "line", None) == getattr(exc, "line", None)


def test_another_protocol_version_is_refused() -> None:
    reply = json.loads(worker.PlanAnswer().to_json())
    reply["version"] = worker.PROTOCOL_VERSION + 1
    with pytest.raises(MigrateCoreError, match="protocol version"):
        worker.answer_from_reply(reply)
    with pytest.raises(MigrateCoreError, match="protocol version"):
        worker.PlanRequest.from_json(json.dumps({"pyproject": "p", "section": {}}))


def test_the_worker_process_answers_an_error_in_the_protocol(tmp_path: object) -> None:
    """The real ``python -m`` worker: a project whose models do not import."""
    request = worker.PlanRequest(
        pyproject=str(tmp_path) + "/pyproject.toml",
        section={"apps": {"shop": {"models": "no_such_module_here"}}},
        models_root=str(tmp_path),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "migrate_core.usecases.worker"],
        input=request.to_json().encode(),
        capture_output=True,
        cwd=str(tmp_path),
        check=False,
    )
    reply = json.loads(proc.stdout.decode())
    assert reply["version"] == worker.PROTOCOL_VERSION
    with pytest.raises(MigrateCoreError):
        worker.answer_from_reply(reply)
