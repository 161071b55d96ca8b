"""Render schema values (types, defaults, literals) as Python source.

The rendering is used twice: the writer prints it into migration files, and the
state compares columns by it. One function for both keeps the round trip honest:
a type that renders the same is the same type, and what the models declare is
exactly what a migration file re-creates when it is imported again.

The output follows ``ruff format``'s layout (double quotes, magic trailing commas,
88 columns) so that generated files pass ``ruff format --check`` unchanged.
"""

from __future__ import annotations

import enum
import inspect
import math
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

LINE_LENGTH = 88
INDENT = "    "

SA_IMPORT = "import sqlalchemy as sa"


# -- a tiny code tree, printed by ruff's rules -------------------------------------------------


class Code:
    """A Python expression that can be printed flat or exploded over several lines."""

    def flat(self) -> str:
        raise NotImplementedError

    def lines(self, indent: int, prefix: str, suffix: str) -> list[str]:
        """Print at ``indent`` spaces as ``prefix + self + suffix``, exploding if too long."""
        flat = self.flat()
        line = " " * indent + prefix + flat + suffix
        if len(line) <= LINE_LENGTH or not self._explodable():
            return [line]
        return self._exploded(indent, prefix, suffix)

    def _explodable(self) -> bool:
        return False

    def _exploded(self, indent: int, prefix: str, suffix: str) -> list[str]:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.flat()


@dataclass(frozen=True)
class Atom(Code):
    text: str

    def flat(self) -> str:
        return self.text


@dataclass(frozen=True)
class Call(Code):
    func: str | Code
    args: tuple[Code, ...] = ()
    kwargs: tuple[tuple[str, Code], ...] = ()

    def _head(self) -> str:
        return self.func if isinstance(self.func, str) else self.func.flat()

    def flat(self) -> str:
        parts = [a.flat() for a in self.args] + [f"{k}={v.flat()}" for k, v in self.kwargs]
        return f"{self._head()}({', '.join(parts)})"

    def _explodable(self) -> bool:
        return bool(self.args or self.kwargs)

    def _exploded(self, indent: int, prefix: str, suffix: str) -> list[str]:
        out = [" " * indent + prefix + self._head() + "("]
        inner = indent + 4
        for arg in self.args:
            out.extend(arg.lines(inner, "", ","))
        for key, value in self.kwargs:
            out.extend(value.lines(inner, f"{key}=", ","))
        out.append(" " * indent + ")" + suffix)
        return out


@dataclass(frozen=True)
class Chain(Code):
    """``base.name(args).name(args)...``, such as a type with ``with_variant`` calls.

    Laid out as ``ruff format`` does when it does not fit: two or more calls go
    "fluent", one per line under the base; a single call splits its own
    arguments while ``base.name(`` fits, else the base's and follows its ``)``.
    """

    base: Code
    calls: tuple[tuple[str, tuple[Code, ...]], ...]

    def flat(self) -> str:
        return self.base.flat() + "".join(
            f".{name}({', '.join(a.flat() for a in args)})" for name, args in self.calls
        )

    def _explodable(self) -> bool:
        return bool(self.calls)

    def _exploded(self, indent: int, prefix: str, suffix: str) -> list[str]:
        if len(self.calls) >= 2:
            out = self.base.lines(indent, prefix, "")
            for i, (name, args) in enumerate(self.calls):
                last = i == len(self.calls) - 1
                out.extend(Call(f".{name}", args).lines(indent, "", suffix if last else ""))
            return out
        name, args = self.calls[0]
        head = " " * indent + prefix + self.base.flat() + f".{name}("
        if len(head) <= LINE_LENGTH or not self.base._explodable():
            return Call(f"{self.base.flat()}.{name}", args).lines(indent, prefix, suffix)
        # The base splits even where it would fit alone: ``base.name(`` is what does not.
        out = self.base._exploded(indent, prefix, "")
        closing = out.pop().strip()
        out.extend(Call(f"{closing}.{name}", args).lines(indent, "", suffix))
        return out


@dataclass(frozen=True)
class ListCode(Code):
    items: tuple[Code, ...] = ()
    brackets: str = "[]"

    def flat(self) -> str:
        inner = ", ".join(i.flat() for i in self.items)
        if self.brackets == "()" and len(self.items) == 1:
            inner += ","
        return f"{self.brackets[0]}{inner}{self.brackets[1]}"

    def _explodable(self) -> bool:
        return bool(self.items)

    def _exploded(self, indent: int, prefix: str, suffix: str) -> list[str]:
        out = [" " * indent + prefix + self.brackets[0]]
        for item in self.items:
            out.extend(item.lines(indent + 4, "", ","))
        out.append(" " * indent + self.brackets[1] + suffix)
        return out


@dataclass(frozen=True)
class DictCode(Code):
    items: tuple[tuple[Code, Code], ...] = ()

    def flat(self) -> str:
        return "{" + ", ".join(f"{k.flat()}: {v.flat()}" for k, v in self.items) + "}"

    def _explodable(self) -> bool:
        return bool(self.items)

    def _exploded(self, indent: int, prefix: str, suffix: str) -> list[str]:
        out = [" " * indent + prefix + "{"]
        for key, value in self.items:
            out.extend(value.lines(indent + 4, key.flat() + ": ", ","))
        out.append(" " * indent + "}" + suffix)
        return out


@dataclass(frozen=True)
class Rendered:
    """An expression together with the import lines it needs."""

    code: Code
    imports: frozenset[str] = field(default_factory=frozenset)

    @property
    def text(self) -> str:
        return self.code.flat()


# -- literals -------------------------------------------------------------------------------------


def string_literal(value: str) -> str:
    """A str literal the way ruff format writes it: double quotes unless that adds escapes.

    ruff picks single quotes exactly when the text holds more double quotes than
    single ones (``'it\'s "quoted"'``), so that the literal needs fewer escapes.
    """
    quote = "'" if value.count('"') > value.count("'") else '"'
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def render_value(value: Any) -> Rendered:
    """Render a plain Python value or a SQLAlchemy type used as an argument."""
    from sqlalchemy.sql.elements import TextClause
    from sqlalchemy.types import TypeEngine

    if value is None or isinstance(value, bool):
        return Rendered(Atom(repr(value)))
    if isinstance(value, enum.Enum):
        return render_value(value.value)
    if isinstance(value, int):
        return Rendered(Atom(repr(value)))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return Rendered(Atom(f'float("{value}")'))
        return Rendered(Atom(repr(value)))
    if isinstance(value, str):
        return Rendered(Atom(string_literal(value)))
    if isinstance(value, TypeEngine):
        return render_type(value)
    if isinstance(value, type) and issubclass(value, TypeEngine):
        return render_type(value())
    if isinstance(value, TextClause):
        return Rendered(
            Call("sa.text", (Atom(string_literal(value.text)),)), frozenset({SA_IMPORT})
        )
    if isinstance(value, (list, tuple)):
        parts = [render_value(v) for v in value]
        brackets = "()" if isinstance(value, tuple) else "[]"
        return Rendered(
            ListCode(tuple(p.code for p in parts), brackets), _union(p.imports for p in parts)
        )
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        keys = [render_value(k) for k, _ in items]
        values = [render_value(v) for _, v in items]
        return Rendered(
            DictCode(tuple((k.code, v.code) for k, v in zip(keys, values))),
            _union([*(k.imports for k in keys), *(v.imports for v in values)]),
        )
    raise ValueError(
        f"cannot write {value!r} ({type(value).__name__}) into a migration file; "
        "use plain values (str, int, float, bool, None, lists) or a SQLAlchemy type"
    )


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    out: set[str] = set()
    for s in sets:
        out |= s
    return frozenset(out)


# -- types ----------------------------------------------------------------------------------------

_MISSING = object()


_TYPE_PATHS: dict[type, tuple[str, str | None]] = {}
_INIT_PARAMS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _type_path(cls: type) -> tuple[str, str | None]:
    """Where a type class is written from: (dotted expression, import line or None)."""
    found = _TYPE_PATHS.get(cls)
    if found is None:
        found = _TYPE_PATHS[cls] = _find_type_path(cls)
    return found


def _find_type_path(cls: type) -> tuple[str, str | None]:
    """``sa.X`` or ``<dialect>.X`` for a public SQLAlchemy class, else a public ancestor's.

    SQLAlchemy adapts types per dialect into private classes (``_PGJSON``,
    ``PGUuid``); a migration file names the public class they specialise, whose
    DDL is the same. A project's own subclass is adapted to that ancestor first,
    by :func:`database_type`.
    """
    public = _public_path(cls)
    if public is not None:
        return public
    ancestor = _public_ancestor(cls)
    if ancestor is not None:
        found = _public_path(ancestor)
        assert found is not None
        return found
    raise UnwritableTypeError(
        f"type {cls.__module__}.{cls.__qualname__} has no public SQLAlchemy class a migration "
        "file could name; declare the column with a type from sqlalchemy or "
        "sqlalchemy.dialects (or a TypeDecorator over one)"
    )


def _public_ancestor(cls: type) -> type | None:
    from sqlalchemy.types import TypeEngine

    for klass in cls.__mro__[1:]:
        # The bases in type_api (TypeEngine, UserDefinedType, ExternalType...) name no
        # database type at all.
        if not issubclass(klass, TypeEngine) or klass.__module__ == "sqlalchemy.sql.type_api":
            continue
        if _public_path(klass) is not None:
            return klass
    return None


def _as_public_ancestor(type_: Any) -> Any:
    """A project's subclass of a SQLAlchemy type (``class CustomUUID(postgresql.UUID)``)
    as that SQLAlchemy type, when it compiles to the same DDL on every dialect.

    A subclass with its own DDL (``__visit_name__``, ``@compiles``) cannot be written
    without the project's code: that is an :class:`UnwritableTypeError`.
    """
    cls = type(type_)
    ancestor = _public_ancestor(cls)
    adapted = None
    if ancestor is not None:
        try:
            adapted = type_.adapt(ancestor)
        except Exception:  # a constructor that adapt() cannot call
            adapted = None
    if adapted is None or any(
        _ddl(adapted, _dialect(n)) != _ddl(type_, _dialect(n)) for n in DIALECT_NAMES
    ):
        raise UnwritableTypeError(
            f"type {cls.__module__}.{cls.__qualname__} compiles to DDL of its own, which a "
            "migration file cannot write without importing the project; wrap a SQLAlchemy "
            "type in a TypeDecorator instead"
        )
    return adapted


def _public_path(cls: type) -> tuple[str, str | None] | None:
    import sqlalchemy

    module = cls.__module__
    name = cls.__qualname__
    if not module.startswith("sqlalchemy.") or "." in name or name.startswith("_"):
        return None
    if getattr(sqlalchemy, name, None) is cls:
        return f"sa.{name}", SA_IMPORT
    if module.startswith("sqlalchemy.dialects."):
        dialect = module.split(".")[2]
        dialect_module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["_"])
        if getattr(dialect_module, name, None) is cls:
            return f"{dialect}.{name}", f"from sqlalchemy.dialects import {dialect}"
    types_module = __import__("sqlalchemy.types", fromlist=["_"])
    if getattr(types_module, name, None) is cls:
        return f"sa.types.{name}", SA_IMPORT
    return None


class UnwritableTypeError(ValueError):
    """A type that no migration file can write without importing the project's code.

    ``fix``: what the user does instead, when this kind of type has a fix of its own.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def refuse_project_compilers(type_: Any) -> None:
    """:func:`_refuse_project_compiler` for a model's type as a file would write it, and its
    variants. Only the models' types are asked: a migration file's ``sa.DateTime()`` read
    in a process that imported the project is the file's, not the override's."""
    from sqlalchemy.types import TypeEngine

    if isinstance(type_, type):
        type_ = type_()
    if not isinstance(type_, TypeEngine):
        return
    written = database_type(type_)
    for one in (_without_variants(written), *getattr(written, "_variant_mapping", {}).values()):
        _refuse_project_compiler(one, _type_path(type(one))[0])


def _refuse_project_compiler(type_: Any, path: str) -> None:
    """Refuse a SQLAlchemy type whose DDL the project overrides with ``@compiles``.

    ``@compiles(sa.DateTime, "mysql")`` changes what every ``sa.DateTime`` compiles to,
    but only in a process that imported the project: ``create_all`` (and the check,
    which imports the models) get ``DATETIME(6)``, while ``migrate`` runs the migration
    file without the project and creates ``DATETIME``. The schema would differ from the
    models on that database with no check to notice, so the type is refused.
    """
    for cls in type(type_).__mro__:
        if "_compiler_dispatch" not in cls.__dict__:
            continue  # the class whose dispatch the compiler calls is the first defining it
        dispatcher = cls.__dict__.get("_compiler_dispatcher")
        specs = getattr(dispatcher, "specs", {})
        for spec, fn in sorted(specs.items()):
            module = getattr(fn, "__module__", "") or ""
            if module.startswith("sqlalchemy."):
                continue  # SQLAlchemy's own compilation, kept as the fallback
            where = "every database" if spec == "default" else spec
            sample = spec if spec in DIALECT_NAMES else "postgresql"
            ddl = _ddl(type_, _dialect(sample))
            raise UnwritableTypeError(
                f"type {path} compiles to DDL the project defines on {where} (an @compiles "
                f"override in {module}: {ddl}); a migration file runs without the project, "
                "so it would create another type there",
                fix=f"declare the column with the type it should be there, e.g. "
                f'{path}().with_variant(<a {sample} type that compiles to {ddl}>, "{sample}"), '
                "and remove the @compiles override (or return that type from a TypeDecorator's "
                "load_dialect_impl)",
            )
        return


_POSITIONAL: dict[type, str | None] = {}


def _positional_values(cls: type) -> str | None:
    """The name of a ``*values`` parameter the type stores as an attribute of that name."""
    if cls not in _POSITIONAL:
        found = None
        init = cls.__dict__.get("__init__") or getattr(cls, "__init__", None)
        try:
            for p in inspect.signature(init).parameters.values():  # type: ignore[arg-type]
                if p.kind is p.VAR_POSITIONAL and p.name == "values":
                    found = p.name
        except (TypeError, ValueError):  # pragma: no cover - C-implemented __init__
            pass
        _POSITIONAL[cls] = found
    return _POSITIONAL[cls]


def _init_params(cls: type) -> tuple[tuple[str, Any], ...]:
    """Keyword parameters of the type's constructor, walking up while ``**kw`` is passed on."""
    found = _INIT_PARAMS.get(cls)
    if found is None:
        found = _INIT_PARAMS[cls] = _find_init_params(cls)
    return found


def _find_init_params(cls: type) -> tuple[tuple[str, Any], ...]:
    from sqlalchemy.types import TypeDecorator
    from sqlalchemy.types import TypeEngine

    params: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass in (TypeEngine, object) or "__init__" not in klass.__dict__:
            continue
        if klass is TypeDecorator:
            break
        try:
            signature = inspect.signature(klass.__dict__["__init__"])
        except (TypeError, ValueError):  # pragma: no cover - C-implemented __init__
            break
        has_var_kw = False
        for p in list(signature.parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                has_var_kw = True
            elif p.kind is p.VAR_POSITIONAL:
                continue
            elif p.name not in seen:
                seen.add(p.name)
                default = _MISSING if p.default is p.empty else p.default
                params.append((p.name, default))
        if not has_var_kw:
            break
    return tuple(params)


def _same_default(value: Any, default: Any) -> bool:
    from sqlalchemy.types import TypeEngine

    if default is _MISSING:
        return False
    if isinstance(value, TypeEngine) or isinstance(default, TypeEngine):
        if isinstance(default, type):
            default = default()
        if isinstance(value, type):
            value = value()
        if not (isinstance(value, TypeEngine) and isinstance(default, TypeEngine)):
            return False
        return render_type(value).text == render_type(default).text
    try:
        return bool(value == default) and type(value) is type(default)
    except Exception:  # pragma: no cover - exotic __eq__
        return False


_BUILT: dict[type, Any] = {}


def _same_as_built(cls: type, name: str, value: Any) -> bool:
    """Whether ``value`` is what ``cls()`` puts in ``name`` by itself.

    Some types turn a ``None`` argument into an object (``JSONB(astext_type=None)``
    stores ``Text()``); writing that object back out would only add noise.
    """
    from sqlalchemy.types import TypeEngine

    if not isinstance(value, TypeEngine):
        return False
    if cls not in _BUILT:
        try:
            _BUILT[cls] = cls()
        except Exception:
            _BUILT[cls] = None
    built = _BUILT[cls]
    if built is None:
        return False
    default = getattr(built, name, _MISSING)
    return isinstance(default, TypeEngine) and render_type(default).text == render_type(value).text


# The dialects a TypeDecorator is asked about when it is written as database types.
# (MariaDB's dialect reports itself as ``mysql`` to ``load_dialect_impl`` as well.)
DIALECT_NAMES = ("mysql", "postgresql", "sqlite")
_DIALECTS: dict[str, Any] = {}


def dialect_named(name: str) -> Any:
    """An instance of SQLAlchemy's dialect ``name`` (no driver needed), made once."""
    return _dialect(name)


def _dialect(name: str) -> Any:
    found = _DIALECTS.get(name)
    if found is None:
        from sqlalchemy.dialects import registry

        found = _DIALECTS[name] = registry.load(name)()
    return found


def _keeps_class(type_: Any) -> bool:
    """Whether a TypeDecorator is written as itself rather than as the type under it.

    SQLAlchemy's own *emulated* types (``sa.Interval``: INTERVAL on PostgreSQL,
    DATETIME elsewhere) are how SQLAlchemy spells one database type across
    dialects, importable from ``sqlalchemy``: the file keeps them. Every other
    TypeDecorator only converts values in Python (``sa.PickleType`` over a binary
    column, every project's own type), so the file holds the type it compiles to.
    """
    from sqlalchemy.sql.type_api import Emulated

    return type(type_).__module__.startswith("sqlalchemy.") and isinstance(type_, Emulated)


def database_type(type_: Any) -> Any:
    """``type_`` with every TypeDecorator replaced by the database type it compiles to.

    Migration files are self-contained: they import ``sqlalchemy`` and
    ``migrate_core``, never the project (a type renamed or deleted later would
    break every migration that named it). A decorator becomes its ``impl``, with a
    ``with_variant`` for each dialect whose ``load_dialect_impl`` compiles to
    different DDL. Comparing columns by this rendering makes a decorator over the
    same database type no change at all.
    """
    from sqlalchemy.types import TypeDecorator

    variants = dict(getattr(type_, "_variant_mapping", {}))
    if isinstance(type_, TypeDecorator) and not _keeps_class(type_):
        return _decorator_as_database_type(type_, variants)
    if not type(type_).__module__.startswith("sqlalchemy."):
        bare = _as_public_ancestor(_without_variants(type_))
        for name in sorted(variants):
            bare = bare.with_variant(database_type(variants[name]), name)
        return bare
    if not variants or all(not isinstance(v, TypeDecorator) for v in variants.values()):
        return type_
    plain = _without_variants(type_)
    for name in sorted(variants):
        plain = plain.with_variant(database_type(variants[name]), name)
    return plain


def _decorator_as_database_type(type_: Any, own_variants: dict[str, Any]) -> Any:
    impl = database_type(type_.impl_instance)
    inherited: dict[str, Any] = dict(getattr(impl, "_variant_mapping", {}))
    impl = _without_variants(impl)
    own = {k: database_type(v) for k, v in own_variants.items()}
    # What each dialect really gets: the decorator's own variant, else load_dialect_impl.
    per_dialect: dict[str, Any] = {}
    for name in DIALECT_NAMES:
        if name in own:
            continue
        dialect = _dialect(name)
        try:
            loaded = database_type(type_.load_dialect_impl(dialect))
        except Exception:  # a project's load_dialect_impl written for its own dialect only
            loaded = inherited.get(name, impl)
        # Only what this dialect gets matters: a variant for another one is noise here.
        per_dialect[name] = _without_variants(
            getattr(loaded, "_variant_mapping", {}).get(name, loaded)
        )
    # The base is ``impl`` while some dialect uses it; otherwise the type most dialects
    # get (a GUID type: CHAR(32), with PostgreSQL's UUID as the one variant).
    base = impl
    if per_dialect and not any(
        _ddl(t, _dialect(n)) == _ddl(inherited.get(n, impl), _dialect(n))
        for n, t in per_dialect.items()
    ):
        counts: dict[str, list[Any]] = {}
        for loaded in per_dialect.values():
            counts.setdefault(render_type(loaded).text, []).append(loaded)
        base = max(counts.values(), key=len)[0]
        inherited = {}
    merged: dict[str, Any] = dict(inherited)
    for name, loaded in per_dialect.items():
        dialect = _dialect(name)
        if _ddl(loaded, dialect) == _ddl(base, dialect):
            merged.pop(name, None)
        else:
            merged[name] = loaded
    merged.update(own)
    plain = base
    for name in sorted(merged):
        plain = plain.with_variant(merged[name], name)
    return plain


def _without_variants(type_: Any) -> Any:
    if not getattr(type_, "_variant_mapping", None):
        return type_
    import copy

    bare = copy.copy(type_)
    bare._variant_mapping = type(type_._variant_mapping)()
    return bare


def _ddl(type_: Any, dialect: Any) -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except Exception as error:  # compiles nowhere on this dialect: compare the failure
        return f"<{type(error).__name__}>"


def render_type(type_: Any) -> Rendered:
    """``sa.String(length=50)``, ``postgresql.JSONB()``, ``sa.CHAR(length=32).with_variant(...)``.

    What is rendered is :func:`database_type`: a project's TypeDecorator never
    appears in the output, only the SQLAlchemy types it compiles to.
    """
    from sqlalchemy import types as sqltypes
    from sqlalchemy.types import TypeEngine

    if isinstance(type_, type):
        type_ = type_()
    if not isinstance(type_, TypeEngine):
        raise ValueError(f"{type_!r} is not a SQLAlchemy type")
    type_ = database_type(type_)
    path, imp = _type_path(type(type_))
    imports = {imp} if imp else set()
    args: list[Code] = []
    kwargs: list[tuple[str, Code]] = []

    def add_kw(name: str, value: Any) -> None:
        rendered = _type_argument(path, name, value)
        imports.update(rendered.imports)
        kwargs.append((name, rendered.code))

    if isinstance(type_, sqltypes.Enum):
        args = [Atom(string_literal(v)) for v in type_.enums]
        if type_.name is not None:
            add_kw("name", type_.name)
        if type_.schema is not None:
            add_kw("schema", type_.schema)
        if not type_.native_enum:
            add_kw("native_enum", False)
            longest = max((len(v) for v in type_.enums), default=0)
            if type_.length != longest:
                add_kw("length", type_.length)
        if type_.create_constraint:
            add_kw("create_constraint", True)
        if getattr(type_, "create_type", True) is False:
            add_kw("create_type", False)
    else:
        # ``mysql.SET("a", "b")``: values passed as ``*values`` are kept under that name.
        values = _positional_values(type(type_))
        if values is not None:
            args = [_type_argument(path, values, v).code for v in getattr(type_, values, ())]
        for name, default in _init_params(type(type_)):
            if name.startswith("_") or name in _NEVER_WRITTEN:
                continue
            value = getattr(type_, name, _MISSING)
            if value is _MISSING or (callable(value) and not isinstance(value, (TypeEngine, type))):
                continue
            if _same_default(value, default):
                continue
            if default is _MISSING and value is None:
                continue
            if _same_as_built(type(type_), name, value):
                continue  # e.g. JSONB's astext_type: None in the signature, Text() once built
            add_kw(name, value)
    code: Code = Call(path, tuple(args), tuple(kwargs))
    variants: list[tuple[str, tuple[Code, ...]]] = []
    for dialect_name, variant in sorted(getattr(type_, "_variant_mapping", {}).items()):
        rendered = render_type(variant)
        imports.update(rendered.imports)
        variants.append(("with_variant", (rendered.code, Atom(string_literal(dialect_name)))))
    if variants:
        code = Chain(code, tuple(variants))
    return Rendered(code, frozenset(imports))


def _type_argument(path: str, name: str, value: Any) -> Rendered:
    """One argument of a type as source, or the column's problem in one line.

    A length or precision the models compute (``String(settings.MAX_LEN)`` holding a
    ``numpy.int64``, a project constant of its own class) has no source a migration
    file can hold: an :class:`UnwritableTypeError`, reported with the table and column
    (``MV008``), never a traceback.
    """
    try:
        return render_value(value)
    except ValueError:
        raise UnwritableTypeError(
            f"type {path} has {name}={value!r} ({type(value).__module__}."
            f"{type(value).__qualname__}), which a migration file cannot write",
            fix=f"pass {name} as a plain value (an int, str, float, bool or None), "
            f"e.g. int(...) around a computed one",
        ) from None


# Constructor arguments a file never writes: those that shape only what Python does with
# values (a module, a function: PickleType's, though it is written as its binary impl),
# and a schema type's ``metadata``, the MetaData it was attached to by the models.
# ``none_as_null`` (JSON) only decides what Python's None is sent as.
_NEVER_WRITTEN = frozenset(
    {"pickler", "comparator", "protocol", "metadata", "inherit_schema", "none_as_null"}
)


# -- server defaults ---------------------------------------------------------------------------


def render_server_default(arg: Any) -> Rendered:
    """A server default: ``"abc"`` (a literal), ``sa.text("0")``, ``sa.func.now()``, ``sa.true()``."""
    from sqlalchemy.sql import elements
    from sqlalchemy.sql import functions

    if isinstance(arg, str):
        return Rendered(Atom(string_literal(arg)))
    if isinstance(arg, elements.TextClause):
        return Rendered(Call("sa.text", (Atom(string_literal(arg.text)),)), frozenset({SA_IMPORT}))
    if isinstance(arg, elements.True_):
        return Rendered(Call("sa.true"), frozenset({SA_IMPORT}))
    if isinstance(arg, elements.False_):
        return Rendered(Call("sa.false"), frozenset({SA_IMPORT}))
    if (
        isinstance(arg, functions.FunctionElement)
        and not list(arg.clauses)
        and _plain_function(arg)
    ):
        return Rendered(Call(f"sa.func.{arg.name}"), frozenset({SA_IMPORT}))
    if isinstance(arg, elements.ClauseElement):
        text = str(arg.compile(compile_kwargs={"literal_binds": True}))
        return Rendered(Call("sa.text", (Atom(string_literal(text)),)), frozenset({SA_IMPORT}))
    raise ValueError(f"cannot write server default {arg!r} into a migration file")


def _plain_function(fn: Any) -> bool:
    return bool(getattr(fn, "name", None)) and not getattr(fn, "packagenames", ())


def kwargs_code(
    pairs: Sequence[tuple[str, Any]],
) -> tuple[tuple[tuple[str, Code], ...], frozenset[str]]:
    """Render keyword arguments, skipping ``None`` values."""
    out: list[tuple[str, Code]] = []
    imports: set[str] = set()
    for key, value in pairs:
        if value is None:
            continue
        rendered = value if isinstance(value, Rendered) else render_value(value)
        out.append((key, rendered.code))
        imports |= rendered.imports
    return tuple(out), frozenset(imports)
