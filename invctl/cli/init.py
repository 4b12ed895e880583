"""invctl init."""

from pathlib import Path
from typing import Annotated, Literal

import typer


def init(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="Folder for the new ledger (created if missing).")] = Path("."),
    currency: Annotated[str, typer.Option(help="ISO 4217 currency code.")] = "EUR",
    costing: Annotated[Literal["fifo", "average"], typer.Option(help="How stock is valued.")] = "fifo",
    timezone: Annotated[str | None, typer.Option(help="IANA time zone (default: this machine's).", show_default=False)] = None,
    location: Annotated[list[str] | None, typer.Option("--location", metavar="LOC", help="A stock location; repeat for more (default: main).", show_default=False)] = None,
    git: Annotated[bool, typer.Option(help="Also run `git init` when the folder is not in a git repository.")] = True,
) -> None:
    """Create a new ledger: invctl.toml, items.toml, suppliers.toml, journal/, git files.

    Example: invctl init shop --currency EUR --timezone Europe/Berlin
    """
    from invctl.create import init_ledger
    from invctl.render import message

    init_ledger(folder, currency=currency, costing=costing, timezone=timezone, locations=location, git=git)
    message(f"new ledger in {folder}; next: invctl item add SKU --name \"...\"")
