"""SQLite: table rebuilds, transactional DDL by hand, and reflection from its own pragmas.

* SQLite alters neither columns nor constraints: such changes rebuild the table
  from the state (rows and indexes are kept), written here rather than taken
  from Alembic's batch mode, whose final RENAME makes SQLite re-parse its whole
  schema (17-20 ms a table on 200 tables, against 2 ms).
* A table is rebuilt at most once per migration: rebuilds wait until the end of
  the migration (or until any other SQL must run), and the rebuilds one table
  collected are carried out as one, its rows copied through each change in turn.
* The sqlite3 module would commit before each DDL statement; the engine setup
  gives SQLAlchemy the transactions (BEGIN IMMEDIATE), so DDL rolls back.
* A rebuild keeps what SQLite's DROP TABLE would lose: the table's own triggers are
  created again from their exact text in ``sqlite_master``. Views and other tables'
  triggers survive a DROP TABLE as text; a change that would leave any of them naming
  a column that is gone is refused before the table is touched, and a rename of a
  column they use is SQLite's own RENAME COLUMN, which rewrites them.
* There is no server lock: each migration's BEGIN IMMEDIATE takes the write lock,
  waiting up to ``--lock-timeout`` (``wait_for_writers`` sets the busy timeout).
  Read-only connections (showmigrations, ``migrate --plan``) BEGIN deferred instead:
  a writer in flight does not block them, only one that locks readers out does.
* A scratch database is a new file; reflection reads SQLite's pragmas in three
  queries, and a quick snapshot is the text of ``sqlite_master``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from migrate_core.db.dialects import base
from migrate_core.db.dialects.base import Backend
from migrate_core.db.dialects.base import Features
from migrate_core.db.runners import Compiled
from migrate_core.db.runners import Runner
from migrate_core.db.schema_editor import SchemaEditor
from migrate_core.db.schema_editor import new_foreign_keys
from migrate_core.schema import sqltext as sqlt
from migrate_core.schema import state as st

if TYPE_CHECKING:
    from alembic.operations import Operations
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from migrate_core.db.introspection import ColumnInfo
    from migrate_core.db.introspection import ReflectionExtras
    from migrate_core.db.introspection import SchemaDifference


# The date and time keywords, and the functions that return the very same text (UTC, same
# format): CURRENT_TIMESTAMP is datetime('now'). Keywords are case-insensitive here.
_CLOCK = {
    "current_timestamp": "CURRENT_TIMESTAMP",
    "datetime('now')": "CURRENT_TIMESTAMP",
    "current_date": "CURRENT_DATE",
    "date('now')": "CURRENT_DATE",
    "current_time": "CURRENT_TIME",
    "time('now')": "CURRENT_TIME",
}


def affinity_kind(type_text: str) -> str:
    """The kind of literal a column holds, by SQLite's type affinity rules (in their order):
    INT -> integer; CHAR, CLOB, TEXT -> text; BLOB or no type -> none; REAL, FLOA, DOUB ->
    real; anything else (BOOLEAN, DATETIME, DECIMAL ...) numeric. A numeric-looking text
    literal becomes a number in a column of integer, real or numeric affinity."""
    if "INT" in type_text:
        return base.NUMERIC
    if any(word in type_text for word in ("CHAR", "CLOB", "TEXT")):
        return base.STRING
    if "BLOB" in type_text or not type_text or type_text == "NULL":
        return base.OTHER
    return base.NUMERIC


# -- running SQL -------------------------------------------------------------------------------------


class SQLiteRunner(Runner):
    """Runs DDL we compiled, and raw SQL, on the sqlite3 cursor itself.

    SQLAlchemy's execution path (events, result set-up) costs about as much per
    statement as SQLite takes to run our small DDL, and a table rebuild is five
    statements. The transaction is SQLAlchemy's: the cursor belongs to the same
    connection, inside the BEGIN it issued. SQLite's qmark style means no
    ``%`` escaping to undo, unlike the pyformat drivers.
    """

    _cursor: Any = None

    def _raw_cursor(self) -> Any:
        if self._cursor is None:
            self._cursor = self._live.connection.cursor()
        return self._cursor

    def run_compiled(self, sql: Compiled) -> None:
        self._raw_cursor().execute(sql)

    def run_sql(self, statement: str) -> None:
        self._raw_cursor().execute(statement)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any] | None:
        # Asked before most ADD COLUMNs (is the table empty?): SQLAlchemy's text() path
        # costs more than the question.
        return list(self._raw_cursor().execute(sql, dict(params or {})).fetchall())


# -- DDL ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Rebuild:
    """One change a table rebuild carries out: ``before`` as ``after``, with the SQL of
    the columns that do not simply copy (``sources``)."""

    before: st.TableState
    after: st.TableState
    state_after: st.ProjectState
    sources: dict[str, str]
    step: int | None = None


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def identifiers(sql: str) -> frozenset[str]:
    """Every identifier in ``sql``, bare or quoted ("x", `x`, [x]), in lower case.

    Without a parser: string literals and comments are skipped, every other word counts
    (keywords too, which is harmless: we only ask whether a given table or column name
    is among them). SQLite compares identifiers without regard to case. Asking too much
    is the safe side: a word that merely looks like a column name makes us refuse a
    change a person can then make by hand, never break a trigger silently.
    """
    found: set[str] = set()
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'":
            i = sqlt.quoted_end(sql, i)
        elif ch in '"`':
            end = sqlt.quoted_end(sql, i)
            found.add(sql[i + 1 : end - 1].replace(ch * 2, ch).lower())
            i = end
        elif ch == "[":
            end = sql.find("]", i + 1)
            end = n if end == -1 else end
            found.add(sql[i + 1 : end].lower())
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
        elif ch.isalpha() or ch == "_":
            match = _WORD.match(sql, i)
            assert match is not None
            found.add(match.group().lower())
            i = match.end()
        elif ch.isdigit():
            # A number (or a blob X'..', or 1e5): not a name, and 1e5 must not read as "e5".
            while i < n and (sql[i].isalnum() or sql[i] in "._$"):
                i += 1
        else:
            i += 1
    return frozenset(found)


@dataclasses.dataclass(frozen=True)
class _Dependent:
    """A trigger or view in ``sqlite_master`` that concerns a table being rebuilt."""

    kind: str  # "trigger" or "view"
    name: str
    #: A trigger on the rebuilt table itself: DROP TABLE drops it, so the rebuild
    #: creates it again. Views and other tables' triggers stay, as text.
    own: bool
    sql: str
    words: frozenset[str]


class SQLiteSchemaEditor(SchemaEditor):
    """Columns and constraints change by rebuilding the table from the state.

    Rebuilds are deferred: a migration that renames a table's constraints, or alters
    several of its columns, or adds a column and then alters it, would otherwise copy
    the table once per operation. They are carried out, one per table, by
    :meth:`finish` or as soon as any other SQL is about to run (anything else may
    read or change the table as it is), so the order of effects stays the order of
    the operations.
    """

    #: A rebuild re-creates the table's foreign keys with its new columns.
    releases_foreign_keys = False

    def __init__(self, runner: Runner, backend: Backend) -> None:
        #: Rebuilds waiting, by table name, in the order they were asked for.
        self._pending: dict[str, list[_Rebuild]] = {}
        super().__init__(runner, backend)

    def reset(self) -> None:
        super().reset()
        self._pending = {}  # a failed migration was rolled back: nothing is owed

    def finish(self) -> None:
        self._flush()

    # Everything that reaches the database other than a rebuild runs the owed rebuilds
    # first: SQL we execute, Alembic's operations, the connection RunPython gets.

    def execute(self, sql: Any) -> None:
        self._flush()
        super().execute(sql)

    def run_sql(self, statement: str) -> None:
        self._flush()
        super().run_sql(statement)

    @property
    def ops(self) -> Operations:
        self._flush()
        return self.runner.ops

    @property
    def connection(self) -> Connection | None:
        self._flush()
        return self._connection

    @connection.setter
    def connection(self, value: Connection | None) -> None:
        self._connection = value

    def add_column(
        self,
        before: st.TableState,
        after: st.TableState,
        column: st.ColumnState,
        state_after: st.ProjectState,
        *,
        fill_value: Any = None,
    ) -> None:
        fks = new_foreign_keys(before, after, column)
        if (
            fks
            or fill_value is not None
            or (not column.nullable and column.server_default is None)
            or getattr(column.computed, "persisted", False)
            or not _constant_default(column)
            or self._table_is_empty(before.name)
        ):
            # SQLite cannot add a named REFERENCES constraint, a NOT NULL column
            # without a default (even to an empty table), a STORED generated column
            # ("cannot add a STORED column"), nor a column whose default is not a
            # constant (CURRENT_TIMESTAMP, an expression): rebuild, filling the new
            # column of the existing rows with the one-off value if there is one
            # (else the rebuild's INSERT leaves it to the default).
            target = before.with_column(column)
            for fk in fks:
                target = target.with_constraint(fk)
            sources = {column.name: self._sql_literal(fill_value)} if fill_value is not None else {}
            self._rebuild(before, target, state_after, sources=sources)
            return
        super().add_column(before, after, column, state_after, fill_value=fill_value)

    def drop_column(
        self, before: st.TableState, column: st.ColumnState, state_after: st.ProjectState
    ) -> None:
        self._rebuild(before, before.with_column_dropped(column.name), state_after)

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
        if changes or fill_value is not None:
            # SQLite alters nothing in place: rebuild, filling NULLs on the way if asked.
            sources = {}
            fill = self._fill_sql(old, new, fill_value)
            if fill is not None:
                quoted = self.dialect.identifier_preparer.quote(old.name)
                sources[new.name] = f"COALESCE({quoted}, {fill})"
            self._rebuild(table, table.replace_column(old.name, new), state_after, sources=sources)

    def rename_column(
        self,
        table: st.TableState,
        old: st.ColumnState,
        new_name: str,
        state: st.ProjectState | None = None,
    ) -> None:
        if (
            state is not None
            and not any(old.name in fk.ref_columns for _other, fk in state.referencing(table.name))
            and not self._users_of(table.name, {old.name})
        ):
            # Native RENAME COLUMN re-parses the whole schema (about 30 ms on 200 tables);
            # a rebuild touches one table. Only when other tables' keys, or triggers and
            # views, name the column must SQLite's own rename rewrite them: a rebuild would
            # create the triggers again with the old name in them.
            renamed = table.with_column_renamed(old.name, new_name)
            quoted = self.dialect.identifier_preparer.quote(old.name)
            self._rebuild(table, renamed, state, sources={new_name: quoted})
            return
        super().rename_column(table, old, new_name, state)

    def add_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        self._rebuild(before, before.with_constraint(constraint), state_after)

    def drop_constraint(
        self, before: st.TableState, constraint: st.ConstraintState, state_after: st.ProjectState
    ) -> None:
        # No name needed: the rebuilt table simply lacks it.
        self._rebuild(before, before.without_constraint(constraint.name or ""), state_after)

    def rename_constraint(
        self,
        before: st.TableState,
        constraint: st.ConstraintState,
        new_name: str,
        state_after: st.ProjectState,
    ) -> None:
        renamed = dataclasses.replace(constraint, name=new_name)
        self._rebuild(
            before,
            before.without_constraint(constraint.name or "").with_constraint(renamed),
            state_after,
        )

    def drop_table(self, table: st.TableState, state_after: st.ProjectState) -> None:
        self._pending.pop(table.name, None)  # no point rebuilding what goes next
        super().drop_table(table, state_after)

    def create_index(self, table: st.TableState, index: st.IndexState) -> None:
        pending = self._pending.get(table.name)
        if pending:
            # The rebuild creates the table's indexes from its final state anyway.
            pending[-1].after = pending[-1].after.with_index(index)
            return
        super().create_index(table, index)

    def drop_index(self, table: st.TableState, index: st.IndexState) -> None:
        pending = self._pending.get(table.name)
        if pending:
            pending[-1].after = pending[-1].after.without_index(index.name or "")
            return
        super().drop_index(table, index)

    def _table_is_empty(self, table: str) -> bool:
        """Whether a table has no rows (then rebuilding it costs less than ALTER).

        SQLite re-parses its entire schema after every ALTER TABLE (2 ms on 200
        tables), while CREATE and DROP change it in place; with no rows to copy, a
        rebuild is the cheaper way to add a column. With rows, ALTER TABLE ADD
        COLUMN copies nothing and wins. Collecting SQL, there are rows (the SQL
        printed must work on a table that has them).
        """
        if table in self._pending:
            return True  # it is being rebuilt anyway: the new column rides along
        prep = self.dialect.identifier_preparer
        rows = self.runner.query(f"SELECT 1 FROM main.{prep.quote(table)} LIMIT 1")
        return rows is not None and not rows

    def _rebuild(
        self,
        before: st.TableState,
        after: st.TableState,
        state_after: st.ProjectState,
        *,
        sources: dict[str, str] | None = None,
    ) -> None:
        """Owe a rebuild of ``before`` as ``after``; :meth:`_flush` carries it out.

        ``sources`` gives SQL for columns that do not simply copy (a one-off fill value,
        a renamed column), in terms of the columns of ``before``. Refused here, before
        anything runs, when a trigger or view uses a column the change removes: created
        again (or left) as it was, it would name a column that no longer exists, and
        SQLite would only say so when it fires or is read.
        """
        kept = {c.name.lower() for c in after.columns}
        lost = [c.name for c in before.columns if c.name.lower() not in kept]
        users = self._users_of(before.name, set(lost))
        if users:
            dependent, column = users[0]
            from migrate_core.errors import InvalidStateError

            raise InvalidStateError(
                f"{dependent.kind} {dependent.name} uses column {before.name}.{column}, which "
                f"this operation removes (SQLite rebuilds {before.name} for it, and would leave "
                f"the {dependent.kind} broken); drop the {dependent.kind} in a RunSQL before "
                "this operation and create it again after, with reverse_sql so that rollback works"
            )
        self._pending.setdefault(before.name, []).append(
            _Rebuild(before, after, state_after, dict(sources or {}), self.step_index)
        )

    def _flush(self) -> None:
        """Carry out every owed rebuild, one per table."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for changes in pending.values():
            # A failure here (NOT NULL over NULL rows, a broken CHECK) belongs to the
            # operation whose rebuild was deferred, not to the one running now.
            self.failed_step = changes[0].step
            self._rebuild_now(changes)
        self.failed_step = None

    def _rebuild_now(self, changes: list[_Rebuild]) -> None:
        """Recreate the table as the last change leaves it, keeping every row and index.

        The rows wait in a TEMP table while the table is dropped and created again
        under its own name, then come back column by column. With several changes
        the rows pass through each in turn, as nested SELECTs over the kept rows
        (SQLite flattens them), so a rename then a fill reads exactly as the two
        rebuilds would have. We write this ourselves rather than use Alembic's batch
        mode because batch mode renames the new table into place, and SQLite's ALTER
        TABLE ... RENAME re-parses the whole schema: 17-20 ms per table on a 200-table
        schema, against 2 ms for this sequence, which changes only this table's
        entries. Other tables' foreign keys keep pointing at it by name.
        """
        prep = self.dialect.identifier_preparer
        first, last = changes[0], changes[-1]
        name = prep.quote(first.before.name)
        keep = prep.quote(f"_mc_rebuild_{first.before.name}")
        rows = f"temp.{keep}"
        # Read before the DROP TABLE, which takes the table's triggers with it.
        triggers = [d for d in self._dependents(first.before.name) or () if d.own]
        available = {c.name for c in first.before.columns}
        targets: list[str] = []
        exprs: list[str] = []
        for number, change in enumerate(changes, start=1):
            final = number == len(changes)
            names, targets, exprs = [], [], []
            for column in change.after.columns:
                if column.computed is not None:
                    continue  # generated: SQLite computes it, and refuses a value for it
                if column.name in change.sources:
                    expr = change.sources[column.name]
                elif column.name in available:
                    expr = prep.quote(column.name)
                elif final:
                    continue  # a new column: its default (or NULL) fills the rows
                else:
                    # New in a change a later one builds on: the rows get its default
                    # now, as the rebuild of that change alone would have given them.
                    expr = self._default_sql(column)
                names.append(column.name)
                targets.append(prep.quote(column.name))
                exprs.append(expr)
            identity = set(names) == available and all(e == t for e, t in zip(exprs, targets))
            if not final and not identity:
                selected = ", ".join(f"{e} AS {t}" for e, t in zip(exprs, targets))
                rows = f"(SELECT {selected} FROM {rows})"
                available = set(names)
        self.run_sql(f"CREATE TEMP TABLE {keep} AS SELECT * FROM main.{name}")
        self.run_sql(f"DROP TABLE main.{name}")
        create, *indexes = self._create_statements(last.after, last.state_after)
        self.execute(create)
        if targets:
            self.run_sql(
                f"INSERT INTO main.{name} ({', '.join(targets)}) SELECT {', '.join(exprs)} FROM {rows}"
            )
        self.run_sql(f"DROP TABLE temp.{keep}")
        for statement in indexes:
            self.execute(statement)
        for trigger in triggers:
            # The exact text SQLite kept, in the same transaction: created after the rows
            # came back, so copying them fired nothing.
            self.run_sql(trigger.sql)

    def _dependents(self, table: str) -> list[_Dependent] | None:
        """The triggers and views that concern ``table``: its own triggers, and every
        view or trigger whose text names it. ``None`` when collecting SQL (no database
        to ask: the SQL shown cannot know them)."""
        rows = self.runner.query(
            "SELECT type, name, tbl_name, sql FROM main.sqlite_master "
            "WHERE type IN ('trigger', 'view') AND sql IS NOT NULL ORDER BY rowid"
        )
        if rows is None:
            return None
        wanted = table.lower()
        found = []
        for kind, name, tbl_name, sql in rows:
            own = kind == "trigger" and str(tbl_name).lower() == wanted
            words = identifiers(sql)
            if own or wanted in words:
                found.append(_Dependent(kind, name, own, sql, words))
        return found

    def _users_of(self, table: str, columns: set[str]) -> list[tuple[_Dependent, str]]:
        """Which triggers and views of ``table`` name one of ``columns`` (and which)."""
        if not columns:
            return []
        users = []
        for dependent in self._dependents(table) or ():
            for column in sorted(columns):
                if column.lower() in dependent.words:
                    users.append((dependent, column))
                    break
        return users


_CONSTANT = re.compile(
    r"\s*(?:[-+]?\d+(?:\.\d+)?|'(?:[^']|'')*'|NULL|TRUE|FALSE)\s*", re.IGNORECASE
)


def _constant_default(column: st.ColumnState) -> bool:
    """Whether ALTER TABLE ADD COLUMN takes this column's default (a constant, or none).

    SQLite refuses "non-constant default" there, even on an empty table; anything we
    cannot tell is a constant counts as not one (a rebuild is always correct).
    """
    import sqlalchemy as sa

    default = column.server_default
    if default is None or isinstance(default, str):
        return True
    if isinstance(default, sa.sql.elements.TextClause):
        return _CONSTANT.fullmatch(default.text) is not None
    return isinstance(default, (sa.sql.elements.True_, sa.sql.elements.False_))


# -- reflection --------------------------------------------------------------------------------------

_WITHOUT_ROWID = re.compile(r"\)\s*(?:STRICT\s*,\s*)?WITHOUT\s+ROWID\b", re.IGNORECASE)
_IDENTIFIER = r'"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_$]*'
_NAMED_UNIQUE = re.compile(rf"CONSTRAINT\s+({_IDENTIFIER})\s+UNIQUE\s*\(([^)]*)\)", re.IGNORECASE)
_CREATE_UNIQUE = re.compile(r"^\s*CREATE\s+UNIQUE\s", re.IGNORECASE)
_PLAIN_IDENTIFIER = re.compile(r'^(?:"([^"]+)"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_][A-Za-z0-9_$]*))$')


def read_extras(connection: Connection, names: Sequence[str]) -> ReflectionExtras:
    """What SQLite itself reports about indexes, unique constraints and keys.

    SQLAlchemy's SQLite reflection runs a query per table and per index, skips
    indexes on expressions, misses some spellings of UNIQUE and of foreign key
    rules, and cannot tell ``INT PRIMARY KEY`` from a rowid alias. SQLite's
    table-valued pragmas answer all of that for every table at once, in three
    queries; this is also what keeps ``check-migrations`` fast on SQLite.
    """
    from migrate_core.db.introspection import ReflectionExtras

    marks = ",".join("?" for _ in names)
    table_rows = connection.exec_driver_sql(
        "SELECT m.name, m.sql, ti.name, ti.type, ti.pk FROM sqlite_master AS m "
        "JOIN pragma_table_info(m.name) AS ti "
        f"WHERE m.type = 'table' AND m.name IN ({marks}) ORDER BY m.name, ti.cid",
        tuple(names),
    ).fetchall()
    index_rows = connection.exec_driver_sql(
        'SELECT m.name, il.name, il."unique", il.origin, s.sql, ix.name, ix.desc '
        "FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS il "
        "JOIN pragma_index_xinfo(il.name) AS ix "
        "LEFT JOIN sqlite_master AS s ON s.type = 'index' AND s.name = il.name "
        f"WHERE m.type = 'table' AND ix.key = 1 AND m.name IN ({marks}) "
        "ORDER BY m.name, il.name, ix.seqno",
        tuple(names),
    ).fetchall()
    fk_rows = connection.exec_driver_sql(
        'SELECT m.name, fk.id, fk."table", fk."from", fk.on_update, fk.on_delete '
        "FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS fk "
        f"WHERE m.type = 'table' AND m.name IN ({marks}) ORDER BY m.name, fk.id, fk.seq",
        tuple(names),
    ).fetchall()
    extras = ReflectionExtras()
    table_sql = _read_tables(extras, table_rows)
    _read_indexes(extras, index_rows, table_sql)
    _read_fk_rules(extras, fk_rows)
    return extras


def _read_tables(extras: ReflectionExtras, rows: Sequence[Any]) -> dict[str, str]:
    """Rowid aliases: a sole primary key column *declared* INTEGER, in a rowid table."""
    table_sql: dict[str, str] = {}
    pk_columns: dict[str, list[tuple[str, str]]] = {}
    for table, sql, column, declared, pk in rows:
        table_sql[table] = sql or ""
        if pk:
            pk_columns.setdefault(table, []).append((column, (declared or "").upper()))
    for table, columns in pk_columns.items():
        sole_integer = len(columns) == 1 and columns[0][1] == "INTEGER"
        if sole_integer and not _WITHOUT_ROWID.search(table_sql[table]):
            extras.rowid_aliases.add((table, columns[0][0]))
    return table_sql


def _read_indexes(
    extras: ReflectionExtras, rows: Sequence[Any], table_sql: Mapping[str, str]
) -> None:
    from migrate_core.db.introspection import ConstraintInfo
    from migrate_core.db.introspection import IndexInfo
    from migrate_core.db.introspection import options_of

    grouped: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row[0], row[1]), []).append(row)
    for (table, index), members in grouped.items():
        _table, _index, unique, origin, sql, _column, _desc = members[0]
        columns = [m[5] for m in members]
        if origin == "u":
            # The automatic index of a UNIQUE constraint: named only in the table's DDL.
            key = tuple(columns)
            name = _unique_names(table_sql.get(table, "")).get(key)
            con = ConstraintInfo(kind="unique", name=name, columns=key)
            extras.uniques.setdefault(table, []).append(con)
        elif origin == "c":
            parsed = _parse_index(sql or "")
            where = parsed[2] if parsed is not None else None
            options: dict[str, Any] = {"sqlite_where": where}
            if None in columns and parsed is not None:
                # On expressions: their text, as written, is all there is to compare.
                key = parsed[0]
            else:
                key = tuple(str(c) for c in columns)
                options["sorting"] = {str(m[5]): "desc" for m in members if m[6]}
            idx = IndexInfo(
                name=index, columns=key, unique=bool(unique), options=options_of(options)
            )
            extras.indexes.setdefault(table, []).append(idx)


def _read_fk_rules(extras: ReflectionExtras, rows: Sequence[Any]) -> None:
    """ON UPDATE / ON DELETE, also of keys declared on the column (SQLAlchemy misses those)."""
    keys: dict[tuple[str, int], tuple[str, list[str], str, str]] = {}
    for table, fk_id, referred, column, on_update, on_delete in rows:
        entry = keys.setdefault((table, fk_id), (referred, [], on_update, on_delete))
        entry[1].append(column)
    for (table, _id), (referred, columns, on_update, on_delete) in keys.items():
        extras.fk_rules[(table, tuple(columns), referred)] = (on_update, on_delete)


def _unquote(identifier: str) -> str:
    text = identifier.strip()
    if len(text) >= 2 and text[0] + text[-1] in ('""', "``", "[]"):
        inner = text[1:-1]
        return inner.replace('""', '"') if text[0] == '"' else inner
    return text


def _unique_names(sql: str) -> dict[tuple[str, ...], str]:
    """Names of the ``CONSTRAINT x UNIQUE (...)`` clauses of a CREATE TABLE, by columns."""
    names: dict[tuple[str, ...], str] = {}
    for match in _NAMED_UNIQUE.finditer(sql):
        columns = tuple(
            _unquote(part.split()[0]) for part in match.group(2).split(",") if part.strip()
        )
        names.setdefault(columns, _unquote(match.group(1)))
    return names


def _parse_index(sql: str) -> tuple[tuple[str, ...], bool, str | None] | None:
    """Elements, uniqueness and WHERE predicate of a CREATE INDEX statement."""
    toks = sqlt.tokens(sql)
    unique = _CREATE_UNIQUE.match(sql) is not None
    try:
        start = toks.index("(")
    except ValueError:
        return None
    depth = 0
    end = None
    for idx in range(start, len(toks)):
        if toks[idx] == "(":
            depth += 1
        elif toks[idx] == ")":
            depth -= 1
            if depth == 0:
                end = idx
                break
    if end is None:
        return None
    columns = []
    for part in sqlt.split_top_level(toks[start + 1 : end]):
        text = sqlt.normalize_sql("".join(part)) or ""
        plain = _PLAIN_IDENTIFIER.match(text)
        columns.append(next(g for g in plain.groups() if g) if plain else text)
    rest = sqlt.normalize_sql("".join(toks[end + 1 :])) or ""
    where = None
    if rest.upper().startswith("WHERE "):
        where = sqlt.normalize_sql(rest[6:])
    return tuple(columns), unique, where


@dataclasses.dataclass(frozen=True)
class SchemaText:
    """A quick snapshot: the CREATE statements of ``sqlite_master``, whitespace-normalized.

    On SQLite the schema *is* those statements, so a snapshot is one query instead
    of a reflection of every table. Equal text means equal schemas; different text
    may still be the same schema (a column added by ALTER TABLE reads differently
    from one in CREATE TABLE), which only a reflection can tell.
    """

    statements: tuple[tuple[str, str, str, str], ...]

    def differences(self, actual: SchemaText) -> list[SchemaDifference]:
        from migrate_core.db.introspection import diff_schemas

        if self == actual:
            return []
        return diff_schemas(self.materialize(), actual.materialize())

    def materialize(self) -> Any:
        """Reflect the snapshot by replaying its statements into a memory database."""
        import sqlalchemy as sa

        from migrate_core.db.introspection import reflect_schema

        engine = sa.create_engine("sqlite://")
        try:
            with engine.connect() as conn:
                for kind in ("table", "index", "view", "trigger"):
                    for k, _name, _table, sql in self.statements:
                        if k == kind:
                            conn.exec_driver_sql(sql)
                return reflect_schema(conn)
        finally:
            engine.dispose()


# -- the backend -------------------------------------------------------------------------------------


class SQLiteBackend(Backend):
    name = "sqlite"
    offline_name = "sqlite"
    features = Features(
        transactional_ddl=True,
        comments=False,
        native_enums=False,
        rename_column=True,
        migration_lock=False,
        autocommit_mode=False,
        file_databases=True,
        restrict_is_no_action=False,
        group_commits=True,
    )

    @property
    def editor_class(self) -> type[SchemaEditor]:
        return SQLiteSchemaEditor

    def runner(self, connection: Connection) -> Runner:
        return SQLiteRunner(connection)

    def connect_args(self) -> dict[str, Any]:
        # Wait for a concurrent migrate's write lock instead of failing after 5 s.
        return {"timeout": 60}

    def configure_engine(self, engine: Engine, *, scratch: bool) -> None:
        """Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.

        The recipe from SQLAlchemy's SQLite documentation ("Serializable isolation /
        Savepoints / Transactional DDL"), with BEGIN IMMEDIATE: a migration takes
        the write lock when it starts, so a second migrate waits for the first.
        """
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            # Table rebuilds park rows in TEMP tables; keep those in memory.
            dbapi_connection.execute("PRAGMA temp_store = MEMORY")
            if scratch:
                dbapi_connection.execute("PRAGMA synchronous = OFF")
                dbapi_connection.execute("PRAGMA journal_mode = MEMORY")

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            if connection.get_execution_options().get(base.READ_ONLY):
                # Reading only: a deferred BEGIN takes no write lock, so a migrate in
                # flight (holding RESERVED) does not make us wait, and we read what it
                # has not committed as not there. Only its commit (EXCLUSIVE) makes us
                # wait, up to the busy timeout.
                connection.exec_driver_sql("BEGIN")
                return
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def wait_for_writers(self, connection: Connection, seconds: float, on_wait: Any = None) -> None:
        # On the sqlite3 connection itself: through SQLAlchemy, the statement would begin
        # a transaction, whose BEGIN IMMEDIATE waits for the very lock we ask about.
        import sqlite3

        raw = connection.connection.dbapi_connection
        if raw is None:
            return
        if on_wait is not None and not connection.in_transaction() and not raw.in_transaction:
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if self.is_lock_wait_timeout(exc):
                    on_wait()
            else:
                raw.execute("ROLLBACK")
        raw.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")

    def is_lock_wait_timeout(self, exc: BaseException) -> bool:
        import sqlite3

        orig = getattr(exc, "orig", exc)
        return isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig)

    def is_permission_denied(self, exc: BaseException) -> bool:
        import sqlite3

        orig = getattr(exc, "orig", exc)
        text = str(orig)
        return isinstance(orig, sqlite3.OperationalError) and (
            "readonly database" in text or "unable to open database" in text
        )

    def scratch_file_url(self, path: str) -> str:
        return f"sqlite:///{path}"

    def reflection_extras(
        self, connection: Connection, names: Sequence[str]
    ) -> ReflectionExtras | None:
        return read_extras(connection, names)

    def normalize_column(self, column: ColumnInfo, *, rowid_alias: bool) -> ColumnInfo:
        # Autoincrement *is* being the rowid alias; and a rowid alias can never hold
        # NULL, whether or not NOT NULL was written.
        return dataclasses.replace(
            column,
            autoincrement=rowid_alias,
            nullable=False if rowid_alias else column.nullable,
        )

    def normalize_default(self, default: str, type_text: str) -> str:
        clock = _CLOCK.get(default.lower())
        if clock is not None:
            return clock
        # By affinity, not by the declared name: BOOLEAN is numeric here, so TRUE is 1 and
        # 't' stays the text 't'.
        return base.canonical_literal(default, affinity_kind(type_text))

    def snapshot(
        self, connection: Connection, tables: set[str] | None, exclude: Iterable[str]
    ) -> SchemaText:
        query = (
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        )
        params: tuple[str, ...] = ()
        if tables is not None:
            params = tuple(sorted(tables))
            query += f" AND tbl_name IN ({', '.join('?' for _ in params)})" if params else " AND 0"
        rows = connection.exec_driver_sql(query, params).fetchall()
        excluded = set(exclude)
        return SchemaText(
            tuple(
                sorted(
                    (kind, name, table, " ".join(sql.split()))
                    for kind, name, table, sql in rows
                    if table not in excluded and (tables is None or table in tables)
                )
            )
        )


BACKEND = SQLiteBackend()
