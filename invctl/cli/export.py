"""invctl export ...: the ledger for other tools (CSV, hledger, beancount)."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from invctl.cli.common import AsOfOpt, LedgerOpt, get_ledger

app = typer.Typer(help="Export the ledger for other tools.\n\nExample: invctl export csv events --from 2026-01-01 > events.csv",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)  # as the root app (main.py)

FromOpt = Annotated[str | None, typer.Option("--from", help="From the start of this day (YYYY-MM-DD), in the ledger's time zone (events, sales).", show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="To the end of this day (YYYY-MM-DD), in the ledger's time zone (events, sales).", show_default=False)]


@app.callback()
def _group() -> None:
    """Export the ledger for other tools.

    Example: invctl export csv events --from 2026-01-01 > events.csv
    """


@app.command("csv")
def csv(
    what: Annotated[Literal["events", "stock", "sales"], typer.Argument(metavar="events|stock|sales", help="What to export.", show_default=False)],
    start: FromOpt = None,
    end: ToOpt = None,
    as_of: AsOfOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """CSV on stdout, safe to open in a spreadsheet.

    events: every journal line as a row, in replay order (ts, then id): a column per key
    (unknown keys after the known ones, by name), then voided (true when a void takes the
    event out of history; the row is kept), file and line. stock: what `invctl stock
    --format csv` gives (--as-of). sales: a row per sale and return, not voided, with the
    net amount and the cost of goods sold. Text cells starting with = + - @, a tab, CR or
    NUL get a leading ' so a spreadsheet does not run them; numbers are left as they are.
    See docs/integrations.md.

    Example: invctl export csv sales --from 2026-01-01 --to 2026-03-31 > sales.csv
    """
    import sys

    from invctl import inputs
    from invctl.errors import Refused

    led = get_ledger(ledger)
    if what == "stock":
        if start or end:
            raise Refused("--from and --to are for `export csv events` and `sales`; stock is at one moment: use --as-of")
        from invctl.render import emit
        from invctl.reports.stock import stock_report

        until = inputs.day_end(led, as_of) if as_of else None
        emit(stock_report(led, as_of=until), "csv", led.settings.places)
        return
    if as_of:
        raise Refused(f"--as-of is for `export csv stock`; {what} covers a period: use --to")
    first, until = inputs.period(led, start, end)
    from invctl.exporters import csv_export

    export = csv_export.export_events if what == "events" else csv_export.export_sales
    warnings = export(led, sys.stdout, start=first, end=until)
    sys.stdout.flush()
    for note in warnings:
        print(f"warning: {note}", file=sys.stderr)


SkuOpt = Annotated[bool, typer.Option("--by-sku", help="An inventory sub-account per SKU (Assets:Inventory:LOC:SKU).")]


def _ledger_export(fmt: str, start: str | None, end: str | None, by_sku: bool, ledger: "Path | None") -> None:
    import sys

    from invctl import inputs
    from invctl.exporters import ledger_export

    led = get_ledger(ledger)
    first, until = inputs.period(led, start, end)
    warnings = ledger_export.export_ledger(led, sys.stdout, "beancount" if fmt == "beancount" else "hledger",
                                           start=first, end=until, by_sku=by_sku)
    sys.stdout.flush()
    for note in warnings:
        print(f"warning: {note}", file=sys.stderr)


@app.command("hledger")
def hledger(
    start: FromOpt = None,
    end: ToOpt = None,
    by_sku: SkuOpt = False,
    ledger: LedgerOpt = None,
) -> None:
    """An hledger journal on stdout: the stock events as money, in the ledger's currency.

    One balanced transaction per event that moves value, at the replay's costs: receipts
    into Assets:Inventory:LOC against Liabilities:Payable:SUPPLIER (Equity:Opening-Balances
    without a supplier), sales and restocked returns against Expenses:COGS, adjustments
    against Expenses:Shrinkage:REASON or Income:Found:REASON, count variances against
    Expenses:Shrinkage:Count or Income:Found:Count, transfers between locations. Revenue is
    not exported. With --from, earlier events become one opening transaction. See
    docs/integrations.md.

    Example: invctl export hledger --to 2026-10-31 > inventory.journal
    """
    _ledger_export("hledger", start, end, by_sku, ledger)


@app.command("beancount")
def beancount(
    start: FromOpt = None,
    end: ToOpt = None,
    by_sku: SkuOpt = False,
    ledger: LedgerOpt = None,
) -> None:
    """A beancount file on stdout: the same transactions as `export hledger`.

    Account names are made valid (capitalised, letters, digits and -); an open directive
    per account, a commodity directive and the operating currency come with it. See
    docs/integrations.md.

    Example: invctl export beancount --from 2026-01-01 > inventory.beancount
    """
    _ledger_export("beancount", start, end, by_sku, ledger)
