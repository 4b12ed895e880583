"""Start-up cost: what `invctl --help` and `invctl stock` load, and the fast option coercion.

Every command is a new process, so what it imports is most of what a small ledger costs
(docs/architecture.md, "Start-up time"). These tests pin the module sets rather than
timings, which depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import Shop
from typer._click.exceptions import BadParameter

from invctl.cli import coercion
from invctl.cli.main import app

HEAVY = ("rich", "pydantic", "msgspec", "tomlkit", "tomli_w")

# Run the real entry point in a fresh interpreter and report which modules it loaded.
PROBE = """
import json, sys
sys.argv = ["invctl", *sys.argv[1:]]
from invctl.cli.main import run
code = 0
try:
    run()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*args: str, cwd: Path | None = None) -> tuple[int, set[str]]:
    p = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    report = json.loads(p.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def library(modules: set[str]) -> set[str]:
    """invctl modules outside the command line layer."""
    return {m for m in modules if m.startswith("invctl.") and not m.startswith("invctl.cli")}


@pytest.mark.parametrize("args", [["--help"], ["stock", "--help"], ["item", "add", "--help"], ["sell"], ["frobnicate"]])
def test_help_and_usage_errors_load_nothing_of_the_library(args: list[str]) -> None:
    code, modules = loaded(*args)
    assert code in (0, 2)
    assert not heavy(modules), heavy(modules)
    assert not library(modules), library(modules)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_stock_for_scripts_loads_neither_rich_nor_tomlkit(shop: Shop, fmt: str) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20")
    code, modules = loaded("-L", str(shop.root), "stock", "--format", fmt)
    assert code == 0
    assert heavy(modules) == {"msgspec"} | {m for m in modules if m.startswith("msgspec.")}
    assert "invctl.cli.moves" not in modules  # only the command run is built (main.COMMANDS)


def test_stock_table_loads_rich_but_not_tomlkit_or_pydantic(shop: Shop) -> None:
    code, modules = loaded("-L", str(shop.root), "stock")
    assert code == 0
    assert "rich" in modules
    assert not {m for m in heavy(modules) if m.split(".")[0] in ("pydantic", "tomlkit", "tomli_w")}


# --- the fast coercion gives what typer's own gives ------------------------------------------

SAMPLES: dict[str, list[Any]] = {
    "str": ["x", "", "-1", "Grüße", " padded "],
    "path": ["x", "", ".", "/", "~/shop", "shop/", Path("."), "/nonexistent/folder"],
    "choice": ["table", "json", "csv", "xml", "TABLE", "", "fifo", "average", "lifo"],
    "int": ["0", "14", "007", "-1", "1.5", "abc", "", "1_000", "+3", " 3", "99999999999999999999"],
    "float": ["0.95", "1", "0", ".5", "5.", "-0.5", "+0.9", "1e-3", "inf", "-inf", "abc", "", " 0.9", "0,9", "1_0.5"],
    "list": [("a", "b"), (), ["x"], ("",)],
    "bool": [True, False],
}


def _params() -> list[tuple[str, Any]]:
    out = []

    def walk(cmd: Any, path: str) -> None:
        for p in cmd.params:
            out.append((f"{path} {p.name}", p))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "invctl")
    return out


def _kind(annotation: Any) -> str | None:
    from typing import Literal, get_origin

    if annotation is str:
        return "str"
    if annotation is Path:
        return "path"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is bool:
        return "bool"
    if get_origin(annotation) is Literal:
        return "choice"
    if get_origin(annotation) is list:
        return "list"
    return None


def _outcome(runtime: Any, value: Any, param: Any) -> tuple[str, Any]:
    try:
        return "ok", runtime.coerce(value, param=param, ctx=None)
    except BadParameter as exc:
        return "error", exc.format_message()


def test_every_parameter_gets_the_fast_coercion() -> None:
    slow = [name for name, p in _params() if coercion._fast_for(p.type_descriptor) is None]
    assert not slow, f"these options would make typer import pydantic: {slow}"


@pytest.mark.parametrize(("name", "param"), _params(), ids=[n for n, _ in _params()])
def test_fast_coercion_matches_typer(name: str, param: Any) -> None:
    from typer._coercion import build_runtime_param

    descriptor = param.type_descriptor
    fast = coercion._fast_for(descriptor)
    assert fast is not None
    mine = coercion._FastParam(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation,
                               fast=fast, descriptor=descriptor)
    theirs = build_runtime_param(descriptor)
    kind = _kind(descriptor.annotation)
    assert kind is not None, name
    for value in SAMPLES[kind]:
        if kind == "list" and param.nargs == 1 and not param.multiple:
            continue
        assert _outcome(mine, value, param) == _outcome(theirs, value, param), (name, value)


def test_coercion_is_installed() -> None:
    import typer.core

    assert typer.core.build_runtime_param is not coercion.build_runtime_param
