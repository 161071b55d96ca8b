"""MySQL and MariaDB: foreign-key indexes, AUTO_INCREMENT, GET_LOCK, no transactional DDL.

* InnoDB makes an index of its own for a foreign key and drops it when one of
  ours covers the key; the editor keeps that bookkeeping, so dropping our index
  or the key leaves exactly what ``create_all`` would (see ``_keep_fk_index``).
* AUTO_INCREMENT is part of the column (MODIFY restates it) and only allowed on
  a key column, so primary key changes take it off and put it back.
* RENAME COLUMN exists from MySQL 8.0 and MariaDB 10.5; before that, CHANGE.
* A type change runs in strict mode (STRICT_ALL_TABLES for that statement): out of
  strict mode MySQL and MariaDB convert rows that do not fit (a longer string, a
  larger number, an enum value that is gone) with a warning, losing data.
* DDL commits as it runs: a failed migration keeps what already ran.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db.dialects.base import Backend
from migrate_core.db.dialects.base import Features
from migrate_core.db.engine import LOCK_NAME
from migrate_core.db.schema_editor import SchemaEditor
from migrate_core.schema import state as st
from migrate_core.schema import validate
from migrate_core.schema.naming import database_name

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from migrate_core.schema.validate import Found


# NOW(), LOCALTIME and LOCALTIMESTAMP are synonyms of CURRENT_TIMESTAMP; MariaDB reflects
# ``current_timestamp()``, MySQL ``CURRENT_TIMESTAMP``. The precision is part of the value
# (``(6)`` keeps microseconds), so it stays; ``(0)`` is the default precision.
_NOW = re.compile(
    r"^(now|current_timestamp|localtime|localtimestamp)(\(\s*(?P<fsp>\d*)\s*\))?$", re.I
)
_TODAY = re.compile(r"^(curdate\(\s*\)|current_date(\(\s*\))?)$", re.I)
# An integer's display width changes no value (and is gone from MySQL 8.0.19's reflection);
# TINYINT(1) is how a BOOLEAN reflects, and with ZEROFILL the width pads what is shown.
_DISPLAY_WIDTH = re.compile(
    r"^(TINYINT|SMALLINT|MEDIUMINT|INT|INTEGER|BIGINT)\(\d+\)(?!.*ZEROFILL)"
)


class MySQLSchemaEditor(SchemaEditor):
    """Foreign-key indexes and AUTO_INCREMENT kept the way ``create_all`` leaves them."""

    def execute(self, sql: Any) -> None:
        """DDL whose expressions name a column in standard double quotes runs with them in
        backticks: an expression index on a mixed-case or reserved column (``lower("FirstName")``,
        kept in the state as SQL for every database) was a syntax error here."""
        from migrate_core.db.runners import Compiled
        from migrate_core.schema.sqltext import requote_identifiers

        if isinstance(sql, str) and not isinstance(sql, Compiled):
            super().execute(sql)  # a statement as the user wrote it
            return
        text = sql if isinstance(sql, Compiled) else str(sql.compile(dialect=self.dialect))
        requoted = requote_identifiers(text, "`", self._schema_names(sql))
        if requoted is None:
            super().execute(sql)
        elif self.connection is None:
            self.run_sql(requoted.replace("%%", "%"))  # collected: shown as it runs
        else:
            super().execute(Compiled(requoted))

    def _schema_names(self, construct: Any) -> set[str]:
        """The table and column names a DDL construct may quote: those of the state the
        migration ends in (when the walk says it) and of the construct's own table."""
        names: set[str] = set()
        if self.end_state is not None:
            for state in self.end_state.tables.values():
                names.add(state.name)
                names.update(c.name for c in state.columns)
        element = getattr(construct, "element", None)
        table = getattr(element, "table", element)
        for column in getattr(table, "columns", ()):
            names.add(column.name)
        column = getattr(construct, "column", None)  # Alembic's AddColumn
        if column is not None:
            names.add(column.name)
        return names

    @property
    def ops(self) -> Any:
        """Alembic's Operations, whose DDL (ADD COLUMN of a computed column, ADD CONSTRAINT
        of a check) gets the same backticks as :meth:`execute`'s."""
        ops = self.runner.ops
        impl: Any = ops.impl  # an instance attribute set on it below, once
        if not getattr(impl, "_migrate_core_requotes", False):
            plain = impl._exec

            def _exec(construct: Any, *args: Any, **kwargs: Any) -> Any:
                from sqlalchemy.schema import DDLElement

                from migrate_core.db.runners import Compiled
                from migrate_core.schema.sqltext import requote_identifiers

                if isinstance(construct, DDLElement):
                    text = str(construct.compile(dialect=impl.dialect))
                    requoted = requote_identifiers(text, "`", self._schema_names(construct))
                    if requoted is not None:
                        if self.connection is None:
                            self.run_sql(requoted.replace("%%", "%"))
                        else:
                            self.runner.execute(Compiled(requoted))
                        return None
                return plain(construct, *args, **kwargs)

            impl._exec = _exec
            impl._migrate_core_requotes = True
        return ops

    def _existing(self, column: st.ColumnState) -> dict[str, Any]:
        existing = super()._existing(column)
        if column.autoincrement:
            existing["autoincrement"] = True
        return existing

    def _autoincrement_change(self, old: st.ColumnState, new: st.ColumnState) -> dict[str, Any]:
        if old.autoincrement != new.autoincrement:
            return {"autoincrement": new.autoincrement}
        return {}

    def _apply_column_changes(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new: st.ColumnState,
        changes: dict[str, Any],
        state_after: st.ProjectState,
        *,
        fill_value: Any,
        enum_swapped: bool,
    ) -> None:
        """A type change in strict mode, so rows that do not fit fail it instead of
        being truncated; the session's own mode comes back afterwards, also on failure.

        Strict mode is the default of MySQL 5.7+ and MariaDB 10.2.4+ (STRICT_TRANS_TABLES),
        but servers and sessions turn it off, and MODIFY is a full copy of every row.
        """
        strict = "type_" in changes
        if strict:
            self._drop_type_check(table, old)
            self.execute("SET @migrate_core_sql_mode = @@SESSION.sql_mode")
            self.execute(
                "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), "
                "'STRICT_ALL_TABLES')"
            )
        try:
            if strict and self._through_a_string(old, new):
                # MariaDB converts a UUID only from and to a string ("Cannot cast 'int' as
                # 'uuid'", also on an empty table): go through one, and let each row's
                # value be judged by the database on the second step.
                import sqlalchemy as sa

                step = dataclasses.replace(
                    old, type=sa.String(64), type_code="sa.String(64)", autoincrement=False
                )
                self.ops.alter_column(
                    table.name,
                    old.name,
                    **{**self._existing(step), "type_": step.type, "autoincrement": False},
                )
                old = step
            super()._apply_column_changes(
                table,
                old,
                new,
                changes,
                state_after,
                fill_value=fill_value,
                enum_swapped=enum_swapped,
            )
        finally:
            if strict:
                self.execute("SET SESSION sql_mode = @migrate_core_sql_mode")

    def _drop_type_check(self, table: st.TableState, old: st.ColumnState) -> None:
        """The CHECK of the old type (a non-native ``sa.Enum`` or ``sa.Boolean`` with
        ``create_constraint=True``) goes before its type changes.

        Alembic adds the new type's CHECK after the MODIFY, but on MySQL/MariaDB it skips
        dropping the old one (servers before 8.0.16 ignored CHECKs), so the new one
        failed with "Duplicate CHECK constraint name". Named by the type's ``name``, as
        the migration file created it; an unnamed one is the server's to name and stays.
        """
        type_ = old.type
        name = getattr(type_, "name", None)
        if not getattr(type_, "create_constraint", False) or getattr(type_, "native_enum", False):
            return
        if not isinstance(name, str):
            return
        self.ops.drop_constraint(name, table.name, type_="check")

    def _through_a_string(self, old: st.ColumnState, new: st.ColumnState) -> bool:
        """A change between MariaDB's native UUID and anything but a string."""
        import sqlalchemy as sa

        def compiled(type_: Any) -> str:
            try:
                return str(type_.compile(dialect=self.dialect)).upper()
            except Exception:  # a type this dialect cannot compile: the ALTER will say so
                return ""

        def string(type_: Any) -> bool:
            base = type_.impl if isinstance(type_, sa.types.TypeDecorator) else type_
            return isinstance(base, sa.String)

        return (compiled(new.type) == "UUID" and not string(old.type)) or (
            compiled(old.type) == "UUID" and not string(new.type)
        )

    def _can_rename_column(self) -> bool:
        info = getattr(self.dialect, "server_version_info", None) or ()
        if getattr(self.dialect, "is_mariadb", False):
            return tuple(info) >= (10, 5)
        return tuple(info) >= (8, 0) or not info

    # -- indexes ---------------------------------------------------------------------------------

    def create_index(self, table: st.TableState, index: st.IndexState) -> None:
        super().create_index(table, index)
        self._drop_stand_in(table, index.columns)

    def drop_index(self, table: st.TableState, index: st.IndexState) -> None:
        self._keep_fk_index(table, index.name, index.columns)
        super().drop_index(table, index)

    def rename_index(self, table: st.TableState, index: st.IndexState, new_name: str) -> None:
        prep = self.dialect.identifier_preparer
        old_q = self._quoted_name(index.name, index=True)
        new_q = self._quoted_name(new_name, index=True)
        self.execute(f"ALTER TABLE {prep.quote(table.name)} RENAME INDEX {old_q} TO {new_q}")

    def _indexes(self, table: str) -> dict[str, tuple[str, ...]] | None:
        """``{index name: columns}`` as MySQL has them now, its own foreign key indexes
        included; ``None`` collecting SQL (then no index of MySQL's own is assumed)."""
        rows = self.runner.query(
            "SELECT index_name, column_name FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND table_name = :t ORDER BY index_name, seq_in_index",
            {"t": table},
        )
        if rows is None:
            return None
        indexes: dict[str, tuple[str, ...]] = {}
        for index_name, column_name in rows:
            indexes[index_name] = (*indexes.get(index_name, ()), column_name)
        return indexes

    def _keep_fk_index(
        self, table: st.TableState, name: str | None, columns: tuple[str, ...]
    ) -> None:
        """Before MySQL drops an index a foreign key leans on, give the key its own again.

        InnoDB needs an index starting with a foreign key's columns; it made one named
        after the key, but dropped it when ours came along. Dropping ours now is refused
        (error 1553) unless another index is there. The one we create is what
        ``create_all`` leaves behind: an index named after the key.
        """
        if name is None:
            return
        indexes = self._indexes(table.name)
        if indexes is None:
            return
        dropping = database_name(self.dialect, name, index=True)
        for fk in table.foreign_keys:
            if fk.name is None or tuple(columns[: len(fk.columns)]) != fk.columns:
                continue
            others = [
                cols
                for n, cols in indexes.items()
                if n != dropping and cols[: len(fk.columns)] == fk.columns
            ]
            if not others:
                fk_index = database_name(self.dialect, fk.name, index=True)
                self.ops.create_index(fk_index, table.name, list(fk.columns))
                indexes[fk_index] = fk.columns

    def _drop_stand_in(self, table: st.TableState, columns: tuple[str, ...]) -> None:
        """Drop an index we made for a foreign key (see ``_keep_fk_index``) once a new
        index starting with the key's columns covers it, as InnoDB does with its own."""
        for fk in table.foreign_keys:
            if fk.name is None or tuple(columns[: len(fk.columns)]) != fk.columns:
                continue
            name = database_name(self.dialect, fk.name, index=True)
            if table.get_index(fk.name) is not None:
                continue
            indexes = self._indexes(table.name)
            if indexes is None:
                return
            if indexes.get(name) == fk.columns:
                self.ops.drop_index(name, table_name=table.name)

    def _drop_fk_index(self, table: st.TableState, fk: st.ForeignKeyState) -> None:
        """MySQL made an index for the key when it was created; take it away with the key."""
        if fk.name is None or table.get_index(fk.name) is not None:
            return
        import sqlalchemy as sa

        name = database_name(self.dialect, fk.name)
        indexes = self._indexes(table.name)
        if indexes is not None and name in indexes:
            prep = self.dialect.identifier_preparer
            # Another foreign key may still need it; MySQL refuses then, and keeps it.
            with contextlib.suppress(sa.exc.DBAPIError):
                self.execute(f"ALTER TABLE {prep.quote(table.name)} DROP INDEX {prep.quote(name)}")

    # -- constraints -----------------------------------------------------------------------------

    def add_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        key = constraint.columns if isinstance(constraint, st.PrimaryKeyState) else ()
        auto = [
            column
            for name in key
            if (column := before.get_column(name)) is not None and column.autoincrement
        ]
        if auto:
            # AUTO_INCREMENT only on a key column, and a key over rows the new column
            # left at 0 is a duplicate: one statement does both, and numbers the rows.
            prep = self.dialect.identifier_preparer
            modify = ", ".join(
                f"MODIFY {prep.quote(c.name)} {c.type.compile(dialect=self.dialect)} "
                f"{'NULL' if c.nullable else 'NOT NULL'} AUTO_INCREMENT"
                + (f" COMMENT {_string_literal(c.comment)}" if c.comment is not None else "")
                for c in auto
            )
            columns = ", ".join(prep.quote(name) for name in key)
            self.execute(
                f"ALTER TABLE {prep.quote(before.name)} {modify}, ADD PRIMARY KEY ({columns})"
            )
            return
        super().add_constraint(before, constraint, state_after)
        if isinstance(constraint, st.UniqueState):
            self._drop_stand_in(before, constraint.columns)

    def drop_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        if self._released.pop((before.name, constraint.name or ""), None) is not None:
            return  # a type change took it (and its index) off already
        self._require_name(before, constraint)
        if isinstance(constraint, st.PrimaryKeyState):
            # MySQL keeps AUTO_INCREMENT only on a key column: take it off first (error 1075).
            for name in constraint.columns:
                column = before.get_column(name)
                if column is not None and column.autoincrement:
                    self.ops.alter_column(
                        before.name, name, **{**self._existing(column), "autoincrement": False}
                    )
            prep = self.dialect.identifier_preparer
            self.execute(f"ALTER TABLE {prep.quote(before.name)} DROP PRIMARY KEY")
            return
        if isinstance(constraint, st.UniqueState):
            self._keep_fk_index(before, constraint.name, constraint.columns)
        super().drop_constraint(before, constraint, state_after)
        if isinstance(constraint, st.ForeignKeyState):
            self._drop_fk_index(before, constraint)

    def rename_constraint(
        self,
        before: st.TableState,
        constraint: st.ConstraintState,
        new_name: str,
        state_after: st.ProjectState,
    ) -> None:
        if isinstance(constraint, st.PrimaryKeyState):
            return  # MySQL calls every primary key PRIMARY
        if isinstance(constraint, st.UniqueState):
            prep = self.dialect.identifier_preparer
            self.execute(
                f"ALTER TABLE {prep.quote(before.name)} RENAME INDEX "
                f"{self._quoted_name(constraint.name)} TO {self._quoted_name(new_name)}"
            )
            return
        super().rename_constraint(before, constraint, new_name, state_after)


class MySQLBackend(Backend):
    name = "mysql"
    offline_name = "mysql"
    name_limits = (validate.MYSQL_NAMES,)
    drivers = ("pymysql", "MySQLdb")
    install_extra = "mysql"
    features = Features(
        transactional_ddl=False,
        comments=True,
        native_enums=False,
        rename_column=True,
        migration_lock=True,
        autocommit_mode=True,
        file_databases=False,
        restrict_is_no_action=True,
    )

    def url_problem(self, url: Any, error: BaseException) -> str | None:
        charset = url.query.get("charset")
        if isinstance(charset, str):
            try:
                from pymysql.charset import charset_by_name
            except ImportError:  # another driver: its own error says it
                return None
            if charset_by_name(charset) is None:
                return f"unknown charset {charset!r} (e.g. charset=utf8mb4)"
        return None

    @property
    def editor_class(self) -> type[SchemaEditor]:
        return MySQLSchemaEditor

    def is_permission_denied(self, exc: BaseException) -> bool:
        # ER_TABLEACCESS_DENIED_ERROR 1142, ER_COLUMNACCESS_DENIED_ERROR 1143,
        # ER_DBACCESS_DENIED_ERROR 1044, ER_SPECIFIC_ACCESS_DENIED_ERROR 1227.
        orig = getattr(exc, "orig", exc)
        args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
        return bool(args) and args[0] in (1142, 1143, 1044, 1227)

    def table_problems(self, table: st.TableState) -> Iterator[Found]:
        yield from super().table_problems(table)
        yield from _key_problems(table)

    def shared_index_names(self, table: st.TableState) -> Iterator[tuple[str, str]]:
        return iter(())  # index names are per table in MySQL

    def try_lock(self, connection: Connection, key: int) -> bool:
        import sqlalchemy as sa

        return bool(
            connection.execute(
                sa.text("SELECT GET_LOCK(:n, 0)"), {"n": f"{LOCK_NAME}_{key}"}
            ).scalar()
        )

    def unlock(self, connection: Connection, key: int) -> None:
        import sqlalchemy as sa

        connection.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": f"{LOCK_NAME}_{key}"})

    def normalize_default(self, default: str, type_text: str) -> str:
        now = _NOW.match(default)
        # A bare ``now`` is no function call; every other form here is the clock.
        if now and (now.group(2) or now.group(1).lower() != "now"):
            fsp = now["fsp"]
            return f"CURRENT_TIMESTAMP({fsp})" if fsp and fsp != "0" else "CURRENT_TIMESTAMP"
        if _TODAY.match(default):
            return "CURRENT_DATE"
        return super().normalize_default(default, type_text)

    def normalize_type(self, type_text: str) -> str:
        if type_text.startswith("TINYINT(1)"):
            return type_text
        return _DISPLAY_WIDTH.sub(r"\1", type_text)

    def quote_database(self, name: str) -> str:
        return f"`{name}`"

    def end_other_sessions(self, connection: Connection, database: str) -> None:
        """Our own sessions a Ctrl-C left open on the database (a transaction that held
        a metadata lock) would make DROP DATABASE wait: end them. Only this account's
        sessions can be ended without more privileges; others' stay, and the DROP waits."""
        import sqlalchemy as sa

        rows = connection.execute(
            sa.text(
                "SELECT ID FROM information_schema.PROCESSLIST "
                "WHERE DB = :n AND ID <> CONNECTION_ID() AND USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"
            ),
            {"n": database},
        ).fetchall()
        for (session,) in rows:
            with contextlib.suppress(sa.exc.DBAPIError):  # it ended by itself meanwhile
                connection.exec_driver_sql(f"KILL CONNECTION {int(session)}")

    def database_names(self, connection: Connection) -> list[str]:
        return [
            r[0]
            for r in connection.exec_driver_sql(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
            )
        ]

    def databases_in_use(self, connection: Connection) -> set[str]:
        # Without the PROCESS privilege the list holds this account's sessions only.
        rows = connection.exec_driver_sql(
            "SELECT DISTINCT DB FROM information_schema.PROCESSLIST "
            "WHERE DB IS NOT NULL AND ID <> CONNECTION_ID()"
        )
        return {r[0] for r in rows}

    def database_contents(self, connection: Connection) -> list[str]:
        """Tables, views and sequences (MariaDB), stored functions and procedures, events
        and triggers of the connected database (a database is MySQL's only schema)."""
        rows = connection.exec_driver_sql(
            "SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'view' WHEN 'SEQUENCE' THEN 'sequence' "
            "ELSE 'table' END, TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() "
            "UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = DATABASE() "
            "UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS "
            "WHERE EVENT_SCHEMA = DATABASE() "
            "UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE()"
        ).fetchall()
        return sorted(f"{kind} {name}" for kind, name in rows)

    def before_emptying(self, connection: Connection) -> None:
        # Tables are dropped in dependency order, but cycles of keys need this.
        connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")


BACKEND = MySQLBackend()


def _key_problems(table: st.TableState) -> Iterator[Found]:
    """Keys MySQL refuses: a TEXT/BLOB column without a prefix length, JSON at all, a
    prefix length on a column that is not a string."""
    by_name = {c.name: c for c in table.columns}
    keyed: list[tuple[str, tuple[str, ...], dict[str, Any]]] = []
    if table.primary_key is not None:
        keyed.append((f"primary key {table.primary_key.name}", table.primary_key.columns, {}))
    for unique in table.unique_constraints:
        keyed.append((f"unique constraint {unique.name}", unique.columns, {}))
    for index in table.indexes:
        keyed.append((f"index {index.name}", index.columns, index.options))
    for label, columns, options in keyed:
        lengths = options.get("mysql_length")
        for name in columns:
            keyed_column = by_name.get(name)
            if keyed_column is None or keyed_column.type is None:
                continue
            base = _ddl(keyed_column.type).split("(")[0].split()[0]
            has_length = isinstance(lengths, int) or (isinstance(lengths, dict) and name in lengths)
            if has_length and base not in _PREFIXABLE:
                # Error 1089 "Incorrect prefix key": only strings and binaries have prefixes.
                yield (
                    validate.MYSQL_PREFIX_ON_NON_STRING,
                    f"{label} gives column {name} ({base}) a key length; MySQL takes a prefix "
                    "length only for string and binary columns",
                    f"leave {name} out of mysql_length (mysql_length={{...}} names columns)",
                    {"column": name, "index": label.split(" ")[-1]},
                )
                continue
            if base not in _UNKEYABLE:
                continue
            if base == "JSON" or not has_length:
                yield (
                    validate.MYSQL_KEY_ON_TEXT_WITHOUT_LENGTH,
                    f"{label} covers column {name} ({base}); MySQL cannot key a "
                    f"{base} column {'at all' if base == 'JSON' else 'without a key length'}",
                    "index a prefix (sa.Index(..., mysql_length={...})), use a String "
                    "with a length, or drop the column from the key",
                    {"column": name, "index": label.split(" ")[-1]},
                )


_PREFIXABLE = frozenset(
    {"CHAR", "VARCHAR", "NCHAR", "NVARCHAR", "BINARY", "VARBINARY", "TEXT", "TINYTEXT"}
    | {"MEDIUMTEXT", "LONGTEXT", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB"}
    | {"NATIONAL"}  # NATIONAL VARCHAR(n)
)
_UNKEYABLE = frozenset(
    {
        "TEXT",
        "TINYTEXT",
        "MEDIUMTEXT",
        "LONGTEXT",
        "BLOB",
        "TINYBLOB",
        "MEDIUMBLOB",
        "LONGBLOB",
        "JSON",
    }
)


def _ddl(type_: Any) -> str:
    """The type's MySQL DDL (its first word tells what it is)."""
    from migrate_core.schema import codegen

    return codegen._ddl(type_, codegen._dialect(MySQLBackend.offline_name))


def _string_literal(text: str) -> str:
    """A MySQL string literal (backslashes and quotes escaped, as the default sql_mode reads)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
