"""State objects written as the SQLAlchemy constructs a migration file uses.

``sa.Column(...)``, ``sa.ForeignKeyConstraint(...)``, ``sa.Index(...)``: the same
objects a SQLAlchemy user writes in models, so migration files read naturally.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from migrate_core.schema import codegen as sz
from migrate_core.schema import state as st

SA = frozenset({sz.SA_IMPORT})


def _lit(value: Any) -> sz.Code:
    return sz.render_value(value).code


def _names(names: Iterable[str]) -> sz.ListCode:
    return sz.ListCode(tuple(_lit(n) for n in names))


class _Unset:
    """``autoincrement`` not given: write it when the column has it (see :func:`column`)."""


UNSET = _Unset()


def column(
    col: st.ColumnState,
    *,
    foreign_keys: Iterable[st.ForeignKeyState] = (),
    autoincrement: bool | _Unset | None = UNSET,
) -> sz.Rendered:
    """``sa.Column("sku", sa.String(length=32), nullable=False)``.

    CreateModel knows the whole table, so it passes ``autoincrement`` only where
    the effective value differs from what SQLAlchemy would infer (``None``: say
    nothing). A column written alone (AddField, AlterField) has no table to infer
    from: ``autoincrement=True`` is written whenever the column has it, or reading
    the file back would lose it.
    """
    if isinstance(autoincrement, _Unset):
        autoincrement = True if col.autoincrement else None
    imports = set(SA)
    type_ = sz.render_type(col.type)
    imports |= type_.imports
    args: list[sz.Code] = [_lit(col.name), type_.code]
    for fk in foreign_keys:
        fk_r = foreign_key_inline(fk)
        args.append(fk_r.code)
    if col.computed_code:
        args.append(sz.Atom(col.computed_code))
    if col.identity_code:
        args.append(sz.Atom(col.identity_code))
    kwargs: list[tuple[str, sz.Code]] = []
    if not col.nullable:
        kwargs.append(("nullable", sz.Atom("False")))
    if col.server_default is not None:
        default = sz.render_server_default(col.server_default)
        imports |= default.imports
        kwargs.append(("server_default", default.code))
    if col.comment is not None:
        kwargs.append(("comment", _lit(col.comment)))
    if autoincrement is not None:
        kwargs.append(("autoincrement", sz.Atom(repr(autoincrement))))
    return sz.Rendered(sz.Call("sa.Column", tuple(args), tuple(kwargs)), frozenset(imports))


def foreign_key_inline(fk: st.ForeignKeyState) -> sz.Rendered:
    """``sa.ForeignKey("customer.id", name=..., ondelete=...)`` inside a Column."""
    kwargs, _ = sz.kwargs_code(_fk_options(fk))
    target = _lit(f"{fk.ref_table}.{fk.ref_columns[0]}")
    return sz.Rendered(sz.Call("sa.ForeignKey", (target,), kwargs), SA)


def _fk_options(fk: st.ForeignKeyState) -> list[tuple[str, Any]]:
    return [
        ("name", fk.name),
        ("ondelete", fk.ondelete),
        ("onupdate", fk.onupdate),
        ("deferrable", fk.deferrable),
        ("initially", fk.initially),
        ("match", fk.match),
    ]


def constraint(c: st.ConstraintState) -> sz.Rendered:
    if isinstance(c, st.PrimaryKeyState):
        kwargs, _ = sz.kwargs_code([("name", c.name)])
        return sz.Rendered(
            sz.Call("sa.PrimaryKeyConstraint", tuple(_lit(x) for x in c.columns), kwargs), SA
        )
    if isinstance(c, st.UniqueState):
        kwargs, _ = sz.kwargs_code(
            [("name", c.name), ("deferrable", c.deferrable), ("initially", c.initially)]
        )
        return sz.Rendered(
            sz.Call("sa.UniqueConstraint", tuple(_lit(x) for x in c.columns), kwargs), SA
        )
    if isinstance(c, st.CheckState):
        kwargs, _ = sz.kwargs_code([("name", c.name)])
        return sz.Rendered(sz.Call("sa.CheckConstraint", (_lit(c.sqltext),), kwargs), SA)
    kwargs, _ = sz.kwargs_code(_fk_options(c))
    targets = _names(f"{c.ref_table}.{col}" for col in c.ref_columns)
    return sz.Rendered(sz.Call("sa.ForeignKeyConstraint", (_names(c.columns), targets), kwargs), SA)


def index(i: st.IndexState) -> sz.Rendered:
    imports = set(SA)
    args: list[sz.Code] = [_lit(i.name)]
    for element, is_expr in zip(i.elements, i.expressions):
        if is_expr:
            args.append(sz.Call("sa.text", (_lit(element),)))
        else:
            args.append(_lit(element))
    kwargs: list[tuple[str, sz.Code]] = []
    if i.unique:
        kwargs.append(("unique", sz.Atom("True")))
    for key in sorted(i.options):
        value = sz.render_value(i.options[key])
        imports |= value.imports
        kwargs.append((key, value.code))
    return sz.Rendered(sz.Call("sa.Index", tuple(args), tuple(kwargs)), frozenset(imports))


def options(opts: dict[str, Any]) -> sz.Rendered:
    return sz.render_value(dict(sorted(opts.items())))


def op_call(
    name: str, args: Iterable[sz.Rendered | sz.Code | Any], kwargs: Iterable[tuple[str, Any]] = ()
) -> sz.Rendered:
    """``migrations.<name>(args..., key=value...)``; ``None`` keyword values are left out."""
    imports: set[str] = set()
    arg_codes: list[sz.Code] = []
    for arg in args:
        rendered = _as_rendered(arg)
        imports |= rendered.imports
        arg_codes.append(rendered.code)
    kw_codes: list[tuple[str, sz.Code]] = []
    for key, value in kwargs:
        if value is None:
            continue
        rendered = _as_rendered(value)
        imports |= rendered.imports
        kw_codes.append((key, rendered.code))
    return sz.Rendered(
        sz.Call(f"migrations.{name}", tuple(arg_codes), tuple(kw_codes)), frozenset(imports)
    )


def list_of(items: Iterable[sz.Rendered]) -> sz.Rendered:
    items = list(items)
    imports: set[str] = set()
    for item in items:
        imports |= item.imports
    return sz.Rendered(sz.ListCode(tuple(i.code for i in items)), frozenset(imports))


def _as_rendered(value: Any) -> sz.Rendered:
    if isinstance(value, sz.Rendered):
        return value
    if isinstance(value, sz.Code):
        return sz.Rendered(value)
    return sz.render_value(value)
