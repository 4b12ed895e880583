"""Options shared by many commands, defined once, and the helpers every command uses.

Start-up time matters here (every command is a new process): the modules of invctl/cli/
import only typer and the standard library at module level, so `invctl --help` and the
parsing of every command load nothing of the library (the replay, msgspec, rich and tomlkit
cost more than typer itself); each command imports what it uses when it runs. They do not
use `from __future__ import annotations` either: typer reads the signature of every command
on every run, and evaluating string annotations cost 16 ms of it; names imported only for
type checking are quoted instead.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from typer.core import TyperCommand

if TYPE_CHECKING:
    from invctl.moves import Common, Written
    from invctl.settings import Ledger

Format = Literal["table", "json", "csv"]

LedgerOpt = Annotated[
    Path | None,
    typer.Option("--ledger", "-L", help="Ledger folder (default: $INVCTL_LEDGER, else the first folder up from here holding invctl.toml).",
                 show_default=False),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output: a table, or json/csv for scripts.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="When it happened: YYYY-MM-DD[THH:MM[+HH:MM]] (default: now, in the ledger's time zone).", show_default=False)]
LocOpt = Annotated[str, typer.Option("--loc", help="Location (must be listed in invctl.toml).")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Free text kept with the event.", show_default=False)]
RefOpt = Annotated[str | None, typer.Option("--ref", help="External reference; recording the same type, ref and SKU again does nothing.", show_default=False)]
AllowNegOpt = Annotated[bool, typer.Option("--allow-negative", help="Record it even if stock goes below zero.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="As at the end of this day (YYYY-MM-DD), or up to a time (YYYY-MM-DDTHH:MM), in the ledger's time zone.", show_default=False)]
FromOpt = Annotated[str | None, typer.Option("--from", help="From the start of this day (YYYY-MM-DD), in the ledger's time zone.", show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="To the end of this day (YYYY-MM-DD), in the ledger's time zone.", show_default=False)]
FilterLocOpt = Annotated[str | None, typer.Option("--loc", help="Only this location.", show_default=False)]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and show, but write nothing.")]


GLOBAL: dict[str, Path | None] = {"ledger": None}  # set by the root command's options


def get_ledger(option: Path | None) -> "Ledger":
    """The ledger from this command's --ledger, else the global one, else the usual search."""
    import sys

    from invctl.settings import open_ledger

    if sys.stderr.isatty():  # a person is watching: draw progress bars of long work
        from invctl import progress, render

        progress.install(render.progress_drawer())
    return open_ledger(option if option is not None else GLOBAL["ledger"])


def common(at: str | None, loc: str, note: str | None, ref: str | None, allow_negative: bool = False,
           dry_run: bool = False) -> "Common":
    from invctl.moves import Common

    return Common(at=at, loc=loc, note=note, ref=ref, allow_negative=allow_negative, dry_run=dry_run)


def report_written(written: "Written", summary: str, dry_run: bool = False) -> None:
    """A writer's output: the new event id on stdout, a sentence for people on stderr.

    A dry run appended nothing, so it prints no id (a script must not take the id of an
    event that is not in the journal); it says so on stderr.
    """
    from invctl.render import message

    if written.outcome is None:
        message(f"already recorded with this --ref as {written.existing}; nothing appended")
    else:
        for note in written.outcome.notes:
            message(f"note: {note}")
        message(f"{summary} (dry run: nothing appended)" if dry_run else summary)
        if dry_run:
            return
    for ev_id in written.ids:
        typer.echo(ev_id)


class NumbersCommand(TyperCommand):
    """A command whose arguments may be negative numbers: `invctl adjust SKU -2`.

    Click reads any word starting with "-" as an option, so `invctl sell TEE-M -1` failed
    with "No such option: -1" (exit 2) instead of saying the quantity must be positive.
    Here a negative number is an argument; unknown options are still refused.
    """

    def make_parser(self, ctx: Any) -> Any:
        parser = super().make_parser(ctx)
        process_opts = parser._process_opts

        def _process_opts(arg: str, state: Any) -> None:
            if _NEGATIVE.fullmatch(arg):
                state.largs.append(arg)
            else:
                process_opts(arg, state)

        parser._process_opts = _process_opts  # type: ignore[method-assign]
        return parser


_NEGATIVE = re.compile(r"-(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?")
