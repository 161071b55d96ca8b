"""Spellings of a column that every database stores the same way, as one key each, for comparisons.

A column's type and server default are kept as the Python source a migration file
writes (``sa.String(length=50)``, ``"1"``, ``sa.text("'1'")``, ``sa.func.now()``; see
:mod:`migrate_core.schema.codegen`). Two spellings can differ as source and still
create the same column on every database migrate-core supports; changing the model
from one to the other must then not produce an ``AlterField``.
:class:`~migrate_core.schema.state.ColumnState` compares types by :func:`type_key`
and defaults by :func:`default_key`.

The rules hold on PostgreSQL, MySQL/MariaDB and SQLite alike (the autodetector
knows no database: the files it writes run on any). Anything not listed is compared
as written, so when unsure it is a change.

Types: an upper-case SQL type of SQLAlchemy is its generic type where both compile
to the same DDL on all three databases: ``VARCHAR``/``String``, ``INTEGER``/``Integer``,
``SMALLINT``/``SmallInteger``, ``BIGINT``/``BigInteger``, ``TEXT``/``Text``,
``BOOLEAN``/``Boolean``, ``NUMERIC``/``Numeric``, ``FLOAT``/``Float``, ``DATE``/``Date``,
``TIME``/``Time``. Not ``DATETIME`` and ``DateTime`` (PostgreSQL has no ``DATETIME``), not
``TIMESTAMP`` and ``DateTime`` (MySQL's ``TIMESTAMP`` is another type), not ``DECIMAL``
and ``Numeric`` (other DDL), and an ``Enum`` with its values in another order is
another type (PostgreSQL sorts by that order).

Defaults:

- a Python string ``"x"`` is the SQL literal ``'x'``: ``"x"`` and ``sa.text("'x'")``
  compile to the same DDL on every database (not with a backslash, which MySQL escapes
  in one and not the other); outer parentheses around a literal are no difference;
- on integer columns a quoted integer is the integer (``"1"``, ``sa.text("'1'")``,
  ``sa.text("1")``): PostgreSQL coerces the literal, MySQL too, SQLite's INTEGER affinity
  stores 1 for ``'1'``; on string columns an integer is its quoted form (``sa.text("7")``
  stores ``'7'``);
- on NUMERIC with a scale, on FLOAT and DOUBLE, numbers are compared by value
  (``"0.50"`` is ``"0.5"``: the column stores 0.50 for both); an unconstrained NUMERIC
  keeps the scale it is given on PostgreSQL, so there only integers are canonical;
- on Boolean, ``sa.true()``, ``sa.text("true")``, ``"1"`` and ``sa.text("'1'")`` are one
  default (and the ``false``/``0`` ones): ``'1'`` is true in PostgreSQL, 1 in MySQL and
  SQLite. ``sa.text("1")`` is not among them: PostgreSQL refuses an integer default on
  a boolean column;
- ``sa.func.now()``, ``sa.func.current_timestamp()``, ``sa.text("CURRENT_TIMESTAMP")``
  and ``sa.text("now()")`` are one clock (``now()`` is ``CURRENT_TIMESTAMP`` on
  PostgreSQL and MySQL, and ``sa.func.now()`` compiles to ``CURRENT_TIMESTAMP`` on
  SQLite; SQLite cannot create ``now()`` at all, so no SQLite database holds it). Other
  clocks (``LOCALTIMESTAMP``, ``CURRENT_DATE``) are other values and stay apart.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from decimal import InvalidOperation
from functools import lru_cache

_TEXT = re.compile(r"^sa\.text\((.*)\)$", re.S)
_FUNC = re.compile(r"^sa\.func\.(\w+)\(\)$")
_TYPE_NAME = re.compile(r"^(?:sa|postgresql|mysql|sqlite)\.(\w+)\(")
_INTEGER = re.compile(r"^-?(0|[1-9]\d*)$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SCALE = re.compile(r"\bscale=(\d+)")
_QUOTED = re.compile(r"^'((?:[^']|'')*)'$", re.S)

_INTEGER_TYPES = {"Integer", "SmallInteger", "BigInteger", "INTEGER", "INT", "SMALLINT", "BIGINT"}
_SCALED_TYPES = {"Numeric", "NUMERIC", "DECIMAL"}
_FLOAT_TYPES = {"Float", "FLOAT", "REAL", "Double", "DOUBLE", "DOUBLE_PRECISION"}
_BOOLEAN_TYPES = {"Boolean", "BOOLEAN"}
_STRING_TYPES = {"String", "Text", "Unicode", "UnicodeText", "CHAR", "NCHAR", "NVARCHAR"}
_CLOCK = {"now()", "current_timestamp", "current_timestamp()"}
_CLOCK_FUNCTIONS = {"now", "current_timestamp"}


#: Upper-case SQL types that compile to the generic type's DDL on every database.
_SAME_TYPE = {
    "VARCHAR": "String",
    "INTEGER": "Integer",
    "SMALLINT": "SmallInteger",
    "BIGINT": "BigInteger",
    "TEXT": "Text",
    "BOOLEAN": "Boolean",
    "NUMERIC": "Numeric",
    "FLOAT": "Float",
    "DATE": "Date",
    "TIME": "Time",
}
_SA_TYPE = re.compile(r"\bsa\.(" + "|".join(_SAME_TYPE) + r")\(")


@lru_cache(maxsize=4096)
def type_key(type_code: str) -> str:
    """The comparison key of a column type (as source): generic names for SQL ones."""
    return _SA_TYPE.sub(lambda m: f"sa.{_SAME_TYPE[m.group(1)]}(", type_code)


@lru_cache(maxsize=4096)
def default_key(default_code: str | None, type_code: str) -> str | None:
    """The comparison key of a server default (as source) on a column of ``type_code``."""
    if default_code is None:
        return None
    sql = _as_sql(default_code)
    if sql is None:
        return default_code
    kind = _kind(type_key(type_code))
    sql = _without_parentheses(sql)
    if sql.lower() in _CLOCK:
        return "clock:current_timestamp"
    quoted = _QUOTED.match(sql)
    literal = quoted.group(1).replace("''", "'") if quoted else None
    if kind == "boolean":
        if sql.lower() in ("true", "'1'"):
            return "bool:true"
        if sql.lower() in ("false", "'0'"):
            return "bool:false"
    elif kind == "integer":
        bare = literal if literal is not None else sql
        if _INTEGER.match(bare):
            return f"number:{int(bare)}"
    elif kind in ("scaled", "float"):
        bare = literal if literal is not None else sql
        if _NUMBER.match(bare):
            try:
                return f"number:{Decimal(bare).normalize()}"
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                pass
    elif kind == "string" and _INTEGER.match(sql):
        return f"literal:{sql}"
    if literal is not None:
        return f"literal:{literal}"
    return f"sql:{sql}"


def _without_parentheses(sql: str) -> str:
    """``(1)`` and ``('a')`` as ``1`` and ``'a'``: only around a number or one literal."""
    while sql.startswith("(") and sql.endswith(")"):
        inner = sql[1:-1].strip()
        if not (_NUMBER.match(inner) or _QUOTED.match(inner) or inner.startswith("(")):
            break
        sql = inner
    return sql


def _as_sql(code: str) -> str | None:
    """The SQL a default's source compiles to where that is the same on every database
    (None: compare the source as it is)."""
    if code in ("sa.true()", "sa.false()"):
        return code[3:-2]
    func = _FUNC.match(code)
    if func:
        name = func.group(1).lower()
        return "current_timestamp" if name in _CLOCK_FUNCTIONS else None
    text = _TEXT.match(code)
    try:
        value = ast.literal_eval(text.group(1) if text else code)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(value, str):
        return None
    if text:
        # A ":name" in text() is a bind parameter to SQLAlchemy: leave such text alone.
        return None if re.search(r"(?<!:):\w", value) else value.strip()
    if "\\" in value:
        return None  # MySQL escapes backslashes in a string default, not in text()
    return "'" + value.replace("'", "''") + "'"


def _kind(type_code: str) -> str:
    if ".with_variant(" in type_code:
        return "other"  # another type on some database: no rule holds for all
    match = _TYPE_NAME.match(type_code)
    name = match.group(1) if match else ""
    if name in _INTEGER_TYPES:
        return "integer"
    if name in _BOOLEAN_TYPES:
        return "boolean"
    if name in _FLOAT_TYPES:
        return "float"
    if name in _STRING_TYPES:
        return "string"
    if name in _SCALED_TYPES:
        scale = _SCALE.search(type_code)
        if scale is not None:
            return "scaled"
        # ``sa.Numeric(10, 2)`` without keywords: the second argument is the scale.
        args = re.match(r"^\w+\.\w+\(\s*\d+\s*,\s*(\d+)\s*[,)]", type_code)
        # Without a scale only integers are spelled one way (PostgreSQL keeps 0.50's scale).
        return "scaled" if args else "integer"
    return "other"
