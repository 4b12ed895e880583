"""Checking the human-written TOML tables (invctl.toml, items.toml, suppliers.toml).

Each table becomes a `Table`: a msgspec Struct whose annotations say what a key may hold.
`validate` checks the keys one by one, in the order the fields are declared, and stops at
the first problem with a `key: message` that says what is wrong (`price: must be a number
>= 0`, `costing: Input should be 'fifo' or 'average'`). Keys it does not know are kept,
unchecked, in `extra`.

This replaced pydantic models, whose import and construction cost about 50 ms on every
command, more than the rest of a small command's start-up. The coercions and the wording of the messages
are pydantic's lax mode, which users and tests already knew: integers accept integral
decimals, `"14"`, and booleans; decimals accept integers, floats and strings but never a
NaN or infinity; nothing is ever turned into a binary float.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

import msgspec

T = TypeVar("T", bound="Table")
Check = Callable[[Any], Any]
Coerce = Callable[[Any, tuple[str | int, ...]], Any]


class Invalid(ValueError):
    """A key of a table is missing or holds something it may not; str() is `key: message`."""

    def __init__(self, loc: tuple[str | int, ...], msg: str):
        self.loc = loc
        self.msg = msg
        where = ".".join(str(p) for p in loc)
        super().__init__(f"{where}: {msg}" if where else msg)


class Table(msgspec.Struct, kw_only=True):
    """A table of a TOML file: declared keys as fields, the others kept in `extra`.

    A subclass may map field names to `checks`, functions that take the converted value
    and return it (possibly normalized) or raise ValueError with a message for people.
    """

    extra: dict[str, Any] = {}
    checks: ClassVar[dict[str, Check]] = {}


def keys(cls: type[Table]) -> tuple[str, ...]:
    """The keys a table's file may hold, in declaration order."""
    return tuple(name for name, _ in _plan(cls))


def validate(cls: type[T], data: dict[str, Any]) -> T:
    """`data` (a TOML table) as a `cls`, or Invalid at the first key that is wrong."""
    values: dict[str, Any] = {}
    for name, coerce in _plan(cls):
        if name in data:
            value = coerce(data[name], (name,))
            check = cls.checks.get(name)
            if check is not None:
                try:
                    value = check(value)
                except ValueError as exc:
                    raise Invalid((name,), str(exc)) from None
            values[name] = value
        elif _required(cls, name):
            raise Invalid((name,), "Field required")
    known = cls.__struct_fields__
    extra = {k: v for k, v in data.items() if k not in known or k == "extra"}
    return cls(**values, extra=extra) if extra else cls(**values)


def dump(obj: Table, *, exclude_none: bool = False) -> dict[str, Any]:
    """The table as a dict of its keys (declared ones first, then the unknown ones)."""
    out = {name: getattr(obj, name) for name, _ in _plan(type(obj))}
    out.update(obj.extra)
    return {k: v for k, v in out.items() if v is not None} if exclude_none else out


@cache
def _plan(cls: type[Table]) -> list[tuple[str, Coerce]]:
    return [(f.name, _coercer(f.type)) for f in msgspec.structs.fields(cls) if f.name != "extra"]


@cache
def _required(cls: type[Table], name: str) -> bool:
    return next(f.required for f in msgspec.structs.fields(cls) if f.name == name)


def _coercer(tp: Any) -> Coerce:
    """A function converting a value to type `tp` the way pydantic's lax mode does."""
    origin = get_origin(tp)
    args = get_args(tp)
    if tp is Any:
        return lambda v, loc: v
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        inner = _coercer(rest[0] if len(rest) == 1 else Union[tuple(rest)])  # noqa: UP007
        return lambda v, loc: None if v is None else inner(v, loc)
    if tp is str:
        return _str
    if tp is int:
        return _int
    if tp is Decimal:
        return _decimal
    if origin is Literal:
        return _literal(args)
    if origin is list:
        item = _coercer(args[0]) if args else _coercer(Any)

        def _list(v: Any, loc: tuple[str | int, ...]) -> list[Any]:
            if not isinstance(v, list | tuple | set | frozenset):
                raise Invalid(loc, "Input should be a valid list")
            return [item(x, (*loc, i)) for i, x in enumerate(v)]

        return _list
    if origin is dict:
        value = _coercer(args[1]) if args else _coercer(Any)

        def _dict(v: Any, loc: tuple[str | int, ...]) -> dict[Any, Any]:
            if not isinstance(v, dict):
                raise Invalid(loc, "Input should be a valid dictionary")
            return {k: value(x, (*loc, k)) for k, x in v.items()}

        return _dict
    raise TypeError(f"no coercion for {tp!r}")  # a programming error: add it above


def _str(v: Any, loc: tuple[str | int, ...]) -> str:
    if isinstance(v, str):
        return v
    raise Invalid(loc, "Input should be a valid string")


_INT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0*)?")


def _int(v: Any, loc: tuple[str | int, ...]) -> int:
    if isinstance(v, int):  # bool too, as pydantic's lax mode
        return int(v)
    if isinstance(v, float | Decimal):
        d = v if isinstance(v, Decimal) else Decimal(v)
        if not d.is_finite():
            raise Invalid(loc, "Input should be a finite number")
        if d != d.to_integral_value():
            raise Invalid(loc, "Input should be a valid integer, got a number with a fractional part")
        return int(d)
    if isinstance(v, str):
        text = v.strip()
        if _INT.fullmatch(text):
            return int(text.split(".")[0])
        raise Invalid(loc, "Input should be a valid integer, unable to parse string as an integer")
    raise Invalid(loc, "Input should be a valid integer")


def _decimal(v: Any, loc: tuple[str | int, ...]) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, int | float | str | Decimal):
        raise Invalid(loc, "Decimal input should be an integer, float, string or Decimal object")
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            raise Invalid(loc, "Input should be a valid decimal") from None
    else:
        d = Decimal(str(v)) if isinstance(v, float) else Decimal(v)
    if not d.is_finite():
        raise Invalid(loc, "Input should be a finite number")
    return d


def _literal(options: tuple[Any, ...]) -> Coerce:
    shown = [repr(o) for o in options]
    expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def _one_of(v: Any, loc: tuple[str | int, ...]) -> Any:
        for o in options:
            if type(v) is type(o) and v == o:
                return o
        raise Invalid(loc, f"Input should be {expected}")

    return _one_of
