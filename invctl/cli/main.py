"""invctl's entry point: the root command, global options, and error handling."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from invctl import __version__
from invctl.cli import coercion

coercion.install()  # option values without importing pydantic (50 ms): see coercion.py


# The commands, in the order --help lists them: name -> (module of invctl/cli, its function
# or typer app, whether it takes negative numbers as arguments). Each is built the first time
# it is used, so `invctl stock` neither imports the other command modules nor has typer read
# their signatures (~8 ms); --help builds them all.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "init": ("init", "init", False),
    # Commands taking a quantity read `-2` as a number, not as an unknown option
    # (adjust used ignore_unknown_options, which also let mistyped options through).
    "receive": ("moves", "receive", True),
    "sell": ("moves", "sell", True),
    "return": ("moves", "return_", True),
    "adjust": ("moves", "adjust", True),
    "count": ("counting", "count", True),
    "transfer": ("moves", "transfer", True),
    "void": ("moves", "void", False),
    "stock": ("stock", "stock", False),
    "history": ("stock", "history", False),
    "check": ("checking", "check", False),
    "diff": ("diff", "diff", False),
    "git-setup": ("gitmerge", "git_setup", False),
    "merge-toml": ("gitmerge", "merge_toml", False),
    "alerts": ("alerts", "alerts", False),
    "item": ("items", "app", False),
    "supplier": ("suppliers", "app", False),
    "order": ("orders", "app", False),
    "report": ("report", "app", False),
    "import": ("importing", "app", False),
    "export": ("export", "app", False),
}


def _build(name: str) -> Any:
    """The click command for one of COMMANDS, as typer makes it."""
    import importlib

    module, attr, numbers = COMMANDS[name]
    target = getattr(importlib.import_module(f"invctl.cli.{module}"), attr)
    if isinstance(target, typer.Typer):  # a group: item, supplier
        command = typer.main.get_command(target)
    else:
        from invctl.cli.common import NumbersCommand

        one = typer.Typer(add_completion=False, rich_markup_mode=None)
        one.command(name, cls=NumbersCommand if numbers else None)(target)
        command = typer.main.get_command(one)
    command.name = name
    return command


class _Commands(dict[str, Any]):
    """The root's subcommands by name, each built on first access (see COMMANDS)."""

    def __getitem__(self, name: str) -> Any:
        command = super().__getitem__(name)
        if command is None:
            command = self[name] = _build(name)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self:
            return default
        return self[name]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[name] for name in self]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(name, self[name]) for name in self]


class Group(TyperGroup):
    """Turns a refused request into one line on stderr and exit code 1 (no traceback)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands({**dict.fromkeys(COMMANDS), **self.commands})

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            sys.stderr.close()  # `invctl ... | head` is not an error
            raise typer.Exit(0) from None
        except OSError as exc:
            # A file the ledger needs cannot be read or written (permissions, a folder where
            # a file should be, a full or read-only disk): one line, not a traceback.
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {where}{exc.strerror or exc}; check the file and its permissions", err=True)
            raise typer.Exit(1) from None
        except Exception as exc:
            # Refused, without importing invctl.errors for --help and usage errors: a command
            # that raised it has loaded the module.
            errors = sys.modules.get("invctl.errors")
            if errors is None or not isinstance(exc, errors.Refused):
                raise
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=Group,
    name="invctl",
    help="An inventory ledger: stock, purchasing and sales on plain, git-tracked journal files.\n\n"
    "Example: invctl init shop && cd shop && invctl item add TEE-M --name \"T-shirt M\"",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors (click's formatting): typer's rich panels import rich and
    # typer.rich_utils, ~50 ms of a ~120 ms `invctl --help`. The text is the same as in
    # docs/reference.md (scripts/gen_reference.py renders it the same way).
    rich_markup_mode=None,
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


def run() -> None:
    # Usage errors are click's plain text (rich_markup_mode=None): no escapes, NO_COLOR or not.
    app(prog_name="invctl")
