"""invctl count: stocktakes, one SKU, a file of counts, or a count sheet."""

from pathlib import Path
from typing import Annotated

import typer

from invctl.cli.common import (
    AtOpt,
    DryRunOpt,
    Format,
    LedgerOpt,
    LocOpt,
    NoteOpt,
    RefOpt,
    common,
    get_ledger,
)


def count(
    sku: Annotated[str | None, typer.Argument(metavar="SKU", help="The SKU counted (or `sheet` for a count sheet).", show_default=False)] = None,
    qty: Annotated[str | None, typer.Argument(metavar="QTY", help="The quantity on the shelf.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", help="CSV of sku,qty[,loc] rows to record at once (all or nothing).", show_default=False)] = None,
    lot: Annotated[str | None, typer.Option(help="Count of one lot only.", show_default=False)] = None,
    category: Annotated[str | None, typer.Option(help="Count sheet: only this category.", show_default=False)] = None,
    expected: Annotated[bool, typer.Option("--expected", help="Count sheet: show the expected quantity (not for blind counts).")] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Count sheet output: a table, or json/csv.")] = "table",
    at: AtOpt = None, loc: LocOpt = "main", note: NoteOpt = None, ref: RefOpt = None,
    dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Record a stocktake: the quantity seen sets on hand; prints the variance.

    `invctl count sheet` prints a sheet to fill in (CSV columns sku,qty,loc,...), which
    `invctl count --file` reads back; rows left blank are not counted.

    Example: invctl count TEE-M 95 ; invctl count sheet --category apparel --format csv > sheet.csv ; invctl count --file sheet.csv
    """
    from invctl import moves
    from invctl.errors import Refused
    from invctl.render import emit, message

    led = get_ledger(ledger)
    if sku == "sheet" and qty is None and file is None:
        from invctl.reports.countsheet import count_sheet

        emit(count_sheet(led, category=category, loc=loc, expected=expected), fmt, led.settings.places)
        return
    opts = common(at, loc, note, ref, dry_run=dry_run)
    if file is not None:
        if sku is not None:
            raise Refused("give either SKU QTY or --file, not both")
        lines = moves.count_file(led, file, opts)
    elif sku is None or qty is None:
        raise Refused("give SKU QTY, --file counts.csv, or `sheet` (see invctl count --help)")
    else:
        lines = moves.count(led, sku, qty, opts, lot=lot)
    from invctl.numbers import money_str, qty_str

    for cl in lines:
        if cl.already:
            message(f"{cl.sku} at {cl.loc}: already recorded with this --ref as {cl.id}; nothing appended")
            typer.echo(cl.id)
            continue
        sign = "+" if cl.variance > 0 else ""
        message(
            f"{cl.sku} at {cl.loc}: counted {qty_str(cl.counted)}, expected {qty_str(cl.expected)}, "
            f"variance {sign}{qty_str(cl.variance)} ({sign}{money_str(cl.value, led.settings.places)} {led.settings.currency})"
            + (" (dry run: nothing appended)" if dry_run else "")
        )
        if not dry_run:  # a dry run appended nothing: no id to print
            typer.echo(cl.id)
