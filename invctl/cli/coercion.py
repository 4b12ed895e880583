"""Option and argument values without pydantic: typer's coercion, minus its start-up cost.

typer (0.29) converts every option value with a pydantic TypeAdapter: the first option a
command parses imports pydantic and builds one adapter per parameter, about 50 ms on every
command, a third of the time `invctl stock` may take. The values invctl's commands take are
plain: strings, Paths, a choice of words, whole numbers, lists of strings. For those this
module converts the common, valid value directly, and hands anything else (a bad value,
an unusual type) to typer's own coercion, so results and error messages stay typer's.

`install()` puts this in front of typer's `build_runtime_param`, which every typer parameter
calls once, the first time it converts a value (the `--help` options that click adds to each
command included). It relies on typer internals (`typer.core.build_runtime_param`,
`typer._coercion.RuntimeParam`); with a typer that lacks them it does nothing, and typer's
own coercion is used, only slower. tests/test_startup.py checks that both give the same
values and errors.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
except ImportError:  # pragma: no cover - another typer: keep its own coercion
    RuntimeParam = None  # type: ignore[assignment,misc]

_SLOW = object()  # "not a plain value: ask typer"
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
Fast = Callable[[Any, Any, Any], Any]  # (value, param, ctx) -> converted value or _SLOW


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _FastParam(RuntimeParam):
        """Converts plain values itself; builds typer's own coercion only for the rest."""

        fast: Fast
        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            out = self.fast(value, param, ctx)
            if out is _SLOW:
                return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)
            return out


def install() -> None:
    """Use the fast coercion for the parameters of every typer command from now on."""
    import typer.core

    if RuntimeParam is None or getattr(typer.core, "build_runtime_param", None) is not build_runtime_param:
        return  # another typer, or done already

    def build(descriptor: Any, *args: Any, **kwargs: Any) -> Any:
        fast = None if args or kwargs else _fast_for(descriptor)
        if fast is None:
            return build_runtime_param(descriptor, *args, **kwargs)
        return _FastParam(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation,
                          fast=fast, descriptor=descriptor)

    typer.core.build_runtime_param = build


def _fast_for(descriptor: Any) -> Fast | None:
    """A converter for the parameter's type, or None to leave it to typer."""
    info = descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None:
        return None
    tp = descriptor.annotation
    if get_origin(tp) is list and get_args(tp) == (str,):
        return _str_list
    if tp is str:
        return _str
    if tp is bool:
        return _bool
    if tp is int and not info.clamp:
        return _int_in(info.min, info.max)
    if tp is float and not info.clamp:
        return _float_in(info.min, info.max)
    if get_origin(tp) is Literal and all(type(c) is str for c in get_args(tp)) and info.case_sensitive:
        return _choice(get_args(tp))
    if tp is Path and info.path_type in (None, Path):
        return _path
    return None


def _str(value: Any, param: Any, ctx: Any) -> Any:
    return value if type(value) is str else _SLOW


def _str_list(value: Any, param: Any, ctx: Any) -> Any:
    if isinstance(value, list | tuple) and all(type(v) is str for v in value):
        return list(value)
    return _SLOW


def _bool(value: Any, param: Any, ctx: Any) -> Any:
    return value if type(value) is bool else _SLOW


def _int_in(low: float | None, high: float | None) -> Fast:
    def _int(value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is str and _DIGITS.fullmatch(value):
            n = int(value)
            if (low is None or n >= low) and (high is None or n <= high):
                return n
        return _SLOW  # typer words the error

    return _int


def _float_in(low: float | None, high: float | None) -> Fast:
    def _float(value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is str and _DECIMAL.fullmatch(value):
            x = float(value)
            if (low is None or x >= low) and (high is None or x <= high):
                return x
        return _SLOW  # typer words the error (and takes "nan", "1e3" and the like)

    return _float


def _choice(choices: tuple[str, ...]) -> Fast:
    def _one_of(value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is str and value in choices and getattr(ctx, "token_normalize_func", None) is None:
            return choices[choices.index(value)]
        return _SLOW

    return _one_of


def _path(value: Any, param: Any, ctx: Any) -> Any:
    if type(value) is str:
        value = Path(value)  # what typer's pydantic adapter would do; then typer's own checks
    elif not isinstance(value, Path):
        return _SLOW
    return coerce_cli_path(value, param.type_descriptor.parameter_info, path_type=Path,
                           param=param, ctx=ctx)
