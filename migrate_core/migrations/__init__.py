"""What migration files import: ``from migrate_core import migrations``.

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.AddField("product", sa.Column("sku", sa.String(32)))]
"""

from __future__ import annotations

from migrate_core.migrations.migration import Migration
from migrate_core.migrations.operations import AddConstraint
from migrate_core.migrations.operations import AddField
from migrate_core.migrations.operations import AddIndex
from migrate_core.migrations.operations import AlterField
from migrate_core.migrations.operations import AlterModelComment
from migrate_core.migrations.operations import CreateModel
from migrate_core.migrations.operations import DeleteModel
from migrate_core.migrations.operations import Operation
from migrate_core.migrations.operations import RemoveConstraint
from migrate_core.migrations.operations import RemoveField
from migrate_core.migrations.operations import RemoveIndex
from migrate_core.migrations.operations import RenameConstraint
from migrate_core.migrations.operations import RenameField
from migrate_core.migrations.operations import RenameIndex
from migrate_core.migrations.operations import RenameModel
from migrate_core.migrations.operations import RunPython
from migrate_core.migrations.operations import RunSQL

__all__ = [
    "AddConstraint",
    "AddField",
    "AddIndex",
    "AlterField",
    "AlterModelComment",
    "CreateModel",
    "DeleteModel",
    "Migration",
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
