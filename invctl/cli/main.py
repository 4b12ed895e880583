"""invctl's entry point: the root command, global options, and error handling."""

from __future__ import annotations

import os
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
        except OSError as exc:
            # A file the ledger needs cannot be read or written (permissions, a folder where
            # a file should be, a full or read-only disk): one line, not a traceback.
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {where}{exc.strerror or exc}; check the file and its permissions", err=True)
            raise typer.Exit(1) from None


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
    from invctl.cli.common import NumbersCommand

    app.command("init")(init.init)
    app.add_typer(items.app, name="item")
    app.add_typer(suppliers.app, name="supplier")
    # Commands taking a quantity read `-2` as a number, not as an unknown option
    # (adjust used ignore_unknown_options, which also let mistyped options through).
    app.command("receive", cls=NumbersCommand)(moves.receive)
    app.command("sell", cls=NumbersCommand)(moves.sell)
    app.command("return", cls=NumbersCommand)(moves.return_)
    app.command("adjust", cls=NumbersCommand)(moves.adjust)
    app.command("count", cls=NumbersCommand)(counting.count)
    app.command("transfer", cls=NumbersCommand)(moves.transfer)
    app.command("void")(moves.void)
    app.command("stock")(stock.stock)
    app.command("history")(stock.history)
    app.command("check")(checking.check)


_compose()


def run() -> None:
    if os.environ.get("NO_COLOR"):
        # typer draws usage errors with rich; without this they carry bold/dim escapes.
        from typer import rich_utils

        rich_utils.COLOR_SYSTEM = None
    app(prog_name="invctl")
