"""invctl stock and invctl history."""

from typing import Annotated

import typer

from invctl.cli.common import AsOfOpt, FilterLocOpt, FormatOpt, LedgerOpt, get_ledger


def stock(
    skus: Annotated[list[str] | None, typer.Argument(metavar="[SKU]...", help="Only these SKUs.", show_default=False)] = None,
    loc: FilterLocOpt = None,
    category: Annotated[str | None, typer.Option(help="Only this category.", show_default=False)] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Stock per SKU and location: on hand, on order, available, unit cost and value.

    Available is on hand less lots past their expiry date.

    Example: invctl stock --category apparel --as-of 2026-10-31 --format json
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.stock import stock_report

    led = get_ledger(ledger)
    until = inputs.day_end(led, as_of) if as_of else None
    report = stock_report(led, skus=skus or None, loc=loc, category=category, as_of=until)
    for sku in skus or []:
        if sku not in led.catalog.items and not any(r["sku"] == sku for r in report.rows):
            led.catalog.item(sku)  # refuses with a did-you-mean hint
    emit(report, fmt, led.settings.places)


def history(
    sku: Annotated[str, typer.Argument(metavar="SKU", help="The SKU.", show_default=False)],
    loc: FilterLocOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Every event of one SKU with the running on-hand quantity and value.

    Example: invctl history TEE-M --format csv
    """
    from invctl.render import emit
    from invctl.reports.history import history_report

    led = get_ledger(ledger)
    report = history_report(led, sku, loc=loc)
    if not report.rows and sku not in led.catalog.items:
        # A typo used to print an empty history; a SKU known only to the journal still works.
        led.catalog.item(sku)
    emit(report, fmt, led.settings.places)
