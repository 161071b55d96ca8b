"""Rename hints read from the staged diff of a models file.

A diff of two schemas cannot tell "column ``name`` renamed to ``title``" from
"``name`` dropped, ``title`` added": both end in the same schema, but one keeps the
data. The staged diff of the model file usually can: a rename shows up as a removed
line and an added line at the same place, identical except for the name::

    -    name: Mapped[str] = mapped_column(String(50), nullable=False)
    +    title: Mapped[str] = mapped_column(String(50), nullable=False)

This module turns such pairs into :class:`RenameHint` objects for the questioner, so
the commit hook (which cannot ask) still writes a rename rather than a drop. It is
pure Python: no git (the caller passes hunks and both sources) and no SQLAlchemy,
which the hook must not import when no model changed.

Rules, deliberately strict because a wrong hint loses data just as surely as a
missing one (a missed hint only makes the user answer a question):

* Lines pair only within one hunk, in the same class (a renamed class maps to its
  new name), at the same indentation. Within a hunk, removed and added attribute
  statements are grouped by everything except their name; a group pairs in order
  when it has as many removed as added statements, otherwise it is ambiguous and
  yields nothing.
* "Everything except the name" is compared as syntax trees (``ast.dump``), so
  whitespace and comments do not matter but any other change does: ``String(50)``
  vs ``String(80)``, a different annotation, ``Column`` vs ``mapped_column``, one
  line annotated and the other not. Whole statements are compared, including the
  lines of a multi-line ``mapped_column(...)`` that the hunk did not touch.
* Only columns count: ``x = Column(...)``, ``x = sa.Column(...)``,
  ``x: Mapped[...] = mapped_column(...)`` (annotated or not) and a bare
  ``x: Mapped[...]``. ``relationship()``, ``column_property()``, ``synonym()`` and
  the rest are not columns, so renaming them changes no table.
* An explicit database name (``mapped_column("nm", ...)`` or ``name="nm"``) is what
  the table holds, so it is left out of the comparison and decides instead: renaming
  the attribute while keeping ``"nm"`` changes nothing in the database (no hint),
  changing ``"nm"`` is a column rename even if the attribute kept its name.
* A pair is refused when the old attribute still exists in the new class, or the
  new one already existed in the old class: that is a move or a swap, not a rename.
* Tables: a ``class Product(Base):`` line replaced by ``class Item(Base):`` (same
  bases and decorators) where neither name exists on the other side, or a changed
  ``__tablename__ = "..."`` line in the same class.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Literal
from typing import TypeVar

if TYPE_CHECKING:
    from migrate_core.vcs.index import Hunk

_COLUMN_CALLS = frozenset({"Column", "mapped_column"})
_T = TypeVar("_T")


@dataclass(frozen=True)
class RenameHint:
    """A rename the staged diff suggests.

    ``kind="column"``: ``old``/``new`` are *attribute* names in class ``class_name``
    (the class containing the added line, in the new source); ``old_column`` /
    ``new_column`` are the database column names (the explicit name string when
    there is one, else the attribute name) - what a migration renames.
    ``old_class_name`` is set only when the class was renamed in the same diff.

    ``kind="table"``: ``class_name`` is the new class and ``old_class_name`` the old
    one. ``old``/``new`` are the ``__tablename__`` strings when both sources spell
    them out as literals; otherwise (the name derives from the class through a
    ``declared_attr`` on the base, or is computed) they are the class names, and
    the caller maps them to tables. ``old_column``/``new_column`` are None.
    """

    kind: Literal["column", "table"]
    class_name: str
    old: str
    new: str
    old_class_name: str | None = None
    old_column: str | None = None
    new_column: str | None = None


@dataclass(frozen=True)
class _Attr:
    """One assignment statement directly in a class body."""

    class_name: str
    name: str
    indent: int
    kind: Literal["column", "tablename", "other"]
    signature: str
    column: str | None = None
    tablename: str | None = None


@dataclass(frozen=True)
class _Class:
    """A class statement: ``signature`` is its bases, keywords and decorators."""

    name: str
    indent: int
    signature: str
    tablename: str | None
    is_model: bool


@dataclass
class _Module:
    """What a source says at the lines a diff touched, and the names it defines.

    ``classes_at``/``attrs_at`` hold only the classes and attributes whose statement
    *starts* on one of the lines asked for (that is where a rename shows, and where
    :func:`_at_lines` looks). ``class_attrs`` has every class of the source, with the
    names of its attributes and methods, for the rules that ask whether a name
    exists elsewhere.
    """

    lines: list[str]
    classes_at: dict[int, _Class] = field(default_factory=dict)
    attrs_at: dict[int, _Attr] = field(default_factory=dict)
    class_attrs: dict[str, set[str]] = field(default_factory=dict)

    def line_is(self, number: int, text: str) -> bool:
        """Whether line ``number`` reads ``text``: hunks that do not belong to this
        source (a stale diff, other decoding) must not produce hints."""
        if not 1 <= number <= len(self.lines):
            return False
        return self.lines[number - 1].rstrip("\r") == text.rstrip("\r")


def _call_name(node: ast.expr | None) -> str | None:
    """``Column`` for ``Column(...)``, ``sa.Column(...)`` and ``sqlalchemy.Column(...)``."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_mapped(annotation: ast.expr | None) -> bool:
    """``Mapped[...]`` or ``orm.Mapped[...]``: on its own it declares a column in
    SQLAlchemy 2.0 declarative mapping."""
    if not isinstance(annotation, ast.Subscript):
        return False
    value = annotation.value
    return (isinstance(value, ast.Name) and value.id == "Mapped") or (
        isinstance(value, ast.Attribute) and value.attr == "Mapped"
    )


def _str_constant(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _without_explicit_name(call: ast.Call) -> tuple[ast.Call, str | None]:
    """The call without its database column name (first positional string or ``name=``),
    and that name."""
    # A new Call sharing the old one's children: only ``ast.dump`` reads it, and a deep
    # copy per attribute cost a second on a 200-model file.
    explicit: str | None = None
    args = list(call.args)
    keywords = list(call.keywords)
    if args and (value := _str_constant(args[0])) is not None:
        explicit = value
        del args[0]
    for i, keyword in enumerate(keywords):
        if keyword.arg == "name" and (value := _str_constant(keyword.value)) is not None:
            explicit = value
            del keywords[i]
            break
    return ast.Call(func=call.func, args=args, keywords=keywords), explicit


def _assignment(stmt: ast.stmt) -> tuple[str, ast.expr | None, ast.expr | None] | None:
    """``(name, annotation, value)`` of ``name = value`` or ``name: annotation [= value]``;
    None for any other statement (several targets, ``self.x = ...``, a ``def``)."""
    if isinstance(stmt, ast.Assign):
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            return None
        return stmt.targets[0].id, None, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.annotation, stmt.value
    return None


def _kind(
    name: str, annotation: ast.expr | None, value: ast.expr | None
) -> Literal["column", "tablename", "other"]:
    """What an assignment in a class body declares; cheap, no ``ast.dump``."""
    if name == "__tablename__":
        return "tablename"
    if isinstance(value, ast.Call) and _call_name(value) in _COLUMN_CALLS:
        return "column"
    if value is None and _is_mapped(annotation):
        return "column"
    return "other"


def _attr(class_name: str, stmt: ast.stmt) -> _Attr | None:
    """Describe an assignment in a class body, signature included; None for anything else.

    The signature is an ``ast.dump`` of the whole statement, which is most of the
    cost of reading a models file: :func:`_index` calls this only for statements on
    lines the diff touched.
    """
    assignment = _assignment(stmt)
    if assignment is None:
        return None
    name, annotation, value = assignment
    kind = _kind(name, annotation, value)
    head = f"{type(stmt).__name__}|{ast.dump(annotation) if annotation is not None else ''}|"
    if kind == "tablename":
        tablename = _str_constant(value) if value is not None else None
        return _Attr(class_name, name, stmt.col_offset, kind, head, tablename=tablename)
    if kind == "column":
        if isinstance(value, ast.Call):
            stripped, explicit = _without_explicit_name(value)
            signature = head + ast.dump(stripped)
            return _Attr(class_name, name, stmt.col_offset, kind, signature, explicit or name)
        return _Attr(class_name, name, stmt.col_offset, kind, head, name)  # bare Mapped[...]
    return _Attr(class_name, name, stmt.col_offset, kind, head)


def _class_defs(body: Iterable[ast.AST]) -> Iterator[ast.ClassDef]:
    """Every class statement in ``body``, nested ones included (in classes, functions,
    ``if``/``try``/``with``/``match`` blocks).

    Only statement lists are descended into: a class cannot appear inside an
    expression, and skipping expressions avoids visiting most nodes of the tree,
    which ``ast.walk`` would.
    """
    for node in body:
        if isinstance(node, ast.ClassDef):
            yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                yield from _class_defs(children)


def _index(source: str, lines: Iterable[int]) -> _Module | None:
    """Index a models source for the diff's ``lines`` (1-based, this side's numbers);
    None if it does not parse (the hook reports the syntax error elsewhere, when it
    imports the models).

    The source is parsed once. Names (per class: its attributes and methods) are
    collected for every class, which is cheap; the ``ast.dump`` signatures that
    compare statements are computed only for classes and attributes starting on one
    of ``lines``, so the cost no longer grows with the size of the file.
    """
    try:
        with warnings.catch_warnings():
            # "invalid escape sequence" and friends: the hook must not print them.
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    wanted = set(lines)
    # Git numbers lines by "\n" only; str.splitlines() would also split on \x0c etc.
    module = _Module(lines=source.split("\n"))
    for node in _class_defs(tree.body):
        names: set[str] = set()
        has_column = False
        tablenames: list[str | None] = []
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(stmt.name)
                continue
            assignment = _assignment(stmt)
            if assignment is None:
                continue
            name, annotation, value = assignment
            names.add(name)
            kind = _kind(name, annotation, value)
            has_column = has_column or kind == "column"
            if kind == "tablename":
                tablenames.append(_str_constant(value) if value is not None else None)
            if stmt.lineno in wanted:
                attr = _attr(node.name, stmt)
                if attr is not None:
                    module.attrs_at[stmt.lineno] = attr
        module.class_attrs.setdefault(node.name, set()).update(names)
        if node.lineno not in wanted:
            continue
        is_model = not _abstract_flag(node) and (
            bool(tablenames) or "__table__" in names or has_column
        )
        signature = "|".join(
            ",".join(ast.dump(item) for item in part)
            for part in (node.bases, node.keywords, node.decorator_list)
        )
        module.classes_at[node.lineno] = _Class(
            name=node.name,
            indent=node.col_offset,
            signature=signature,
            tablename=tablenames[-1] if tablenames else None,
            is_model=is_model,
        )
    return module


def _abstract_flag(node: ast.ClassDef) -> bool:
    """``__abstract__ = True`` in the class body: a declarative base, not a table."""
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "__abstract__"
            and isinstance(stmt.value, ast.Constant)
        ):
            return bool(stmt.value.value)
    return False


def _pair(
    removed: Iterable[_T],
    added: Iterable[_T],
    key_removed: Callable[[_T], Hashable],
    key_added: Callable[[_T], Hashable],
) -> list[tuple[_T, _T]]:
    """Pair equal-keyed items in order, only where a key has as many on both sides:
    two removed ``= Column(String)`` lines and one added one is ambiguous."""
    by_key_removed: dict[Hashable, list[_T]] = {}
    by_key_added: dict[Hashable, list[_T]] = {}
    for item in removed:
        by_key_removed.setdefault(key_removed(item), []).append(item)
    for item in added:
        by_key_added.setdefault(key_added(item), []).append(item)
    pairs: list[tuple[_T, _T]] = []
    for key, olds in by_key_removed.items():
        news = by_key_added.get(key, [])
        if len(olds) == len(news):
            pairs.extend(zip(olds, news))
    return pairs


def rename_hints(
    old_source: str | None, new_source: str, hunks: Sequence[Hunk]
) -> list[RenameHint]:
    """Renames of columns and tables that the hunks (old -> new) of one models file show.

    ``old_source`` is the file before (None when it is new: nothing can have been
    renamed), ``new_source`` after, and ``hunks`` the diff between them with line
    numbers into each (``migrate_core.vcs.index.staged_hunks``). Sources that do not
    parse give no hints. Table hints come first, then column hints, each in
    order of appearance, without duplicates.
    """
    if old_source is None:
        return []
    old = _index(old_source, (n for hunk in hunks for n, _ in hunk.removed))
    new = _index(new_source, (n for hunk in hunks for n, _ in hunk.added))
    if old is None or new is None:
        return []

    class_map: dict[str, str] = {}
    hints = _class_hints(old, new, hunks, class_map)
    hints += _attribute_hints(old, new, hunks, class_map)
    unique: list[RenameHint] = []
    for hint in hints:
        if hint not in unique:
            unique.append(hint)
    return unique


def _at_lines(where: dict[int, _T], module: _Module, lines: Sequence[tuple[int, str]]) -> list[_T]:
    """The classes or attributes starting at the hunk's lines (in hunk order)."""
    return [where[n] for n, text in lines if n in where and module.line_is(n, text)]


def _class_hints(
    old: _Module, new: _Module, hunks: Sequence[Hunk], class_map: dict[str, str]
) -> list[RenameHint]:
    """Table hints from renamed class lines; fills ``class_map`` (old -> new class name)
    so that columns of a renamed class still pair with their old selves."""
    old_names = old.class_attrs.keys()
    new_names = new.class_attrs.keys()
    hints: list[RenameHint] = []

    def key(c: _Class) -> Hashable:
        return (c.indent, c.signature)

    for hunk in hunks:
        removed = _at_lines(old.classes_at, old, hunk.removed)
        added = _at_lines(new.classes_at, new, hunk.added)
        for was, now in _pair(removed, added, key, key):
            if was.name == now.name or was.name in new_names or now.name in old_names:
                continue
            class_map[was.name] = now.name
            if not (was.is_model and now.is_model):
                continue
            if was.tablename is None or now.tablename is None:
                hints.append(RenameHint("table", now.name, was.name, now.name, was.name))
            elif was.tablename != now.tablename:
                hints.append(RenameHint("table", now.name, was.tablename, now.tablename, was.name))
    return hints


def _attribute_hints(
    old: _Module, new: _Module, hunks: Sequence[Hunk], class_map: dict[str, str]
) -> list[RenameHint]:
    """Table hints from changed ``__tablename__`` lines, then column hints."""

    def old_class(a: _Attr) -> str:
        return class_map.get(a.class_name, a.class_name)

    def old_key(a: _Attr) -> Hashable:
        return (old_class(a), a.indent, a.signature)

    def new_key(a: _Attr) -> Hashable:
        return (a.class_name, a.indent, a.signature)

    tables: list[RenameHint] = []
    columns: list[RenameHint] = []
    for hunk in hunks:
        removed = _at_lines(old.attrs_at, old, hunk.removed)
        added = _at_lines(new.attrs_at, new, hunk.added)
        for was, now in _pair(
            [a for a in removed if a.kind == "tablename"],
            [a for a in added if a.kind == "tablename"],
            old_class,
            lambda a: a.class_name,
        ):
            if was.tablename and now.tablename and was.tablename != now.tablename:
                tables.append(
                    RenameHint(
                        "table", now.class_name, was.tablename, now.tablename, was.class_name
                    )
                )
        for was, now in _pair(
            [a for a in removed if a.kind == "column"],
            [a for a in added if a.kind == "column"],
            old_key,
            new_key,
        ):
            if was.column == now.column:
                continue
            if was.name != now.name and (
                was.name in new.class_attrs.get(now.class_name, set())
                or now.name in old.class_attrs.get(was.class_name, set())
            ):
                continue
            columns.append(
                RenameHint(
                    "column",
                    now.class_name,
                    was.name,
                    now.name,
                    was.class_name if was.class_name != now.class_name else None,
                    old_column=was.column,
                    new_column=now.column,
                )
            )
    return tables + columns


# -- which dropped name became which added one ---------------------------------------------------

#: How alike two names must be (``difflib``'s ratio) before their likeness may decide a pair:
#: ``parent`` / ``parent_id`` is 0.8, ``name`` / ``title`` 0.22.
SIMILAR_NAMES = 0.6


@dataclass(frozen=True)
class RenamePairs:
    """Which dropped names may have become which added ones, and where that is unambiguous.

    ``pairs`` maps an old name to the one new name it pairs with; ``candidates`` holds, for
    every other old name, the new names a person must choose from (none of them paired with
    another old name). A new name is in at most one pair: two dropped columns are never
    both told they became the same one.
    """

    pairs: dict[str, str]
    candidates: dict[str, tuple[str, ...]]

    def for_old(self, old: str) -> tuple[str, ...]:
        """The new name ``old`` became if that is unambiguous (one), else the choices."""
        if old in self.pairs:
            return (self.pairs[old],)
        return self.candidates.get(old, ())

    def for_new(self, new: str) -> tuple[str, ...]:
        """The old name ``new`` was if that is unambiguous (one), else the choices."""
        for old, paired in self.pairs.items():
            if paired == new:
                return (old,)
        return tuple(old for old, news in self.candidates.items() if new in news)

    def unambiguous(self, old: str) -> bool:
        return old in self.pairs


def _most_similar(name: str, others: list[str]) -> str | None:
    """The one name of ``others`` clearly most like ``name``: alike enough, and no tie."""
    import difflib

    scored = sorted(
        ((difflib.SequenceMatcher(None, name, other).ratio(), other) for other in others),
        reverse=True,
    )
    top, choice = scored[0]
    if top < SIMILAR_NAMES or (len(scored) > 1 and scored[1][0] == top):
        return None
    return choice


def pair_renames(edges: Iterable[tuple[str, str]]) -> RenamePairs:
    """Pair dropped with added names, from the ``(old, new)`` pairs that could be renames
    (same definition, one table), only where the pairing leaves no doubt.

    A diff cannot say which of four dropped integer columns became which of four added
    ones; a hint that guesses sends each column's data into the wrong one. So a pair is
    made only when, among the names not yet paired, either the two have no other
    candidate at all (one dropped, one added of that definition), or each is the other's
    clearly most similar name (``user_name`` -> ``username`` beside ``email``) and alike
    enough (:data:`SIMILAR_NAMES`). Pairing repeats until nothing changes, since a pair
    made can leave a single candidate to another name. What stays is a choice for a person.
    """
    edges = list(dict.fromkeys(edges))
    pairs: dict[str, str] = {}
    while True:
        taken = set(pairs.values())
        news_of: dict[str, list[str]] = {}
        olds_of: dict[str, list[str]] = {}
        for old, new in edges:
            if old not in pairs and new not in taken:
                news_of.setdefault(old, []).append(new)
                olds_of.setdefault(new, []).append(old)
        found = {
            old: news[0]
            for old, news in news_of.items()
            if len(news) == 1 and len(olds_of[news[0]]) == 1
        }
        if not found:
            for old, news in news_of.items():
                choice = _most_similar(old, news)
                if choice is not None and _most_similar(choice, olds_of[choice]) == old:
                    found[old] = choice
        if not found:
            break
        pairs.update(found)
    taken = set(pairs.values())
    candidates: dict[str, tuple[str, ...]] = {}
    for old, new in edges:
        if old not in pairs and new not in taken:
            candidates[old] = (*candidates.get(old, ()), new)
    return RenamePairs(pairs, candidates)
