"""invctl's entry point: the root command, global options, and error handling."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from invctl import __version__
from invctl.errors import Refused


class Group(TyperGroup):
    """Turns a refused request into one line on stderr and exit code 1 (no traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Refused as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except BrokenPipeError:
            sys.stderr.close()  # `invctl ... | head` is not an error
            raise typer.Exit(0) from None


app = typer.Typer(
    cls=Group,
    name="invctl",
    help="An inventory ledger: stock, purchasing and sales on plain, git-tracked journal files.\n\n"
    "Example: invctl init shop && cd shop && invctl item add TEE-M --name \"T-shirt M\"",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"invctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ledger: Annotated[Path | None, typer.Option("--ledger", "-L", help="Ledger folder (default: $INVCTL_LEDGER, else the first folder up from here holding invctl.toml).", show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    from invctl.cli import common

    common.GLOBAL["ledger"] = ledger


def _compose() -> None:
    from invctl.cli import checking, counting, init, items, moves, stock, suppliers

    app.command("init")(init.init)
    app.add_typer(items.app, name="item")
    app.add_typer(suppliers.app, name="supplier")
    app.command("receive")(moves.receive)
    app.command("sell")(moves.sell)
    app.command("return")(moves.return_)
    app.command("adjust", context_settings={"ignore_unknown_options": True})(moves.adjust)
    app.command("count")(counting.count)
    app.command("transfer")(moves.transfer)
    app.command("void")(moves.void)
    app.command("stock")(stock.stock)
    app.command("history")(stock.history)
    app.command("check")(checking.check)


_compose()


def run() -> None:
    app(prog_name="invctl")
