"""Operations: each one a schema change that knows its state change and its DDL."""

from __future__ import annotations

from migrate_core.migrations.operations.base import Operation
from migrate_core.migrations.operations.fields import AddField
from migrate_core.migrations.operations.fields import AlterField
from migrate_core.migrations.operations.fields import RemoveField
from migrate_core.migrations.operations.fields import RenameField
from migrate_core.migrations.operations.models import AddConstraint
from migrate_core.migrations.operations.models import AddIndex
from migrate_core.migrations.operations.models import AlterModelComment
from migrate_core.migrations.operations.models import CreateModel
from migrate_core.migrations.operations.models import DeleteModel
from migrate_core.migrations.operations.models import RemoveConstraint
from migrate_core.migrations.operations.models import RemoveIndex
from migrate_core.migrations.operations.models import RenameConstraint
from migrate_core.migrations.operations.models import RenameIndex
from migrate_core.migrations.operations.models import RenameModel
from migrate_core.migrations.operations.special import RunPython
from migrate_core.migrations.operations.special import RunSQL

__all__ = [
    "AddConstraint",
    "AddField",
    "AddIndex",
    "AlterField",
    "AlterModelComment",
    "CreateModel",
    "DeleteModel",
    "Operation",
    "RemoveConstraint",
    "RemoveField",
    "RemoveIndex",
    "RenameConstraint",
    "RenameField",
    "RenameIndex",
    "RenameModel",
    "RunPython",
    "RunSQL",
]
