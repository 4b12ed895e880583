"""invctl import ...: sales from a shop's order export (Shopify, WooCommerce, or any CSV with a mapping)."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from invctl.cli.common import DryRunOpt, LedgerOpt, get_ledger

app = typer.Typer(help="Import sales from a shop's export.\n\nExample: invctl import orders orders_export.csv --format shopify",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)  # as the root app (main.py)


@app.callback()
def _group() -> None:
    """Import sales from a shop's export.

    Example: invctl import orders orders_export.csv --format shopify
    """


@app.command("orders")
def orders(
    file: Annotated[Path, typer.Argument(help="The CSV export.", show_default=False)],
    fmt: Annotated[Literal["shopify", "woocommerce", "csv"], typer.Option("--format", help="shopify: Orders > Export; woocommerce: the order export, one row per line item; csv: any CSV with --mapping.")] = "shopify",
    channel: Annotated[str | None, typer.Option("--channel", help="Sales channel of the events (default: shopify or woocommerce; csv: the mapped column).", show_default=False)] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="TOML naming the CSV columns of ts, order, sku, qty, price (and customer, channel, region).", show_default=False)] = None,
    dry_run: DryRunOpt = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Import the good lines and list the bad ones (unknown SKUs, unreadable rows).")] = False,
    ledger: LedgerOpt = None,
) -> None:
    """Record each order line of an export as a sale; importing it again adds nothing.

    Every line item becomes a `sold` event with ref FORMAT:ORDER:LINE; lines already in the
    journal (same type, ref and SKU) are skipped, so repeated or overlapping exports add each
    line once. SKUs match exactly, else by an alias; a kit sells its components. Cancelled
    orders (WooCommerce: also failed, pending, on-hold) are skipped; refunded orders also
    get a `returned` event per line. Unknown SKUs or bad rows refuse the whole import unless --skip-bad. New event ids go to stdout
    (with --dry-run, the events that would be written); a summary goes to stderr. See
    docs/integrations.md, "Importing orders".

    Example: invctl import orders orders_export.csv --format shopify --dry-run
    """
    import sys

    from invctl import events as E
    from invctl.importers.orders import import_orders
    from invctl.render import message

    led = get_ledger(ledger)
    res = import_orders(led, file, fmt, channel=channel, mapping=mapping, dry_run=dry_run, skip_bad=skip_bad)
    for problem in res.problems:
        message(f"skipped: {file}:{problem.row}: {problem.message}")
    for note in res.notes:
        message(f"note: {note}")
    if res.outcome is not None:
        for note in res.outcome.notes:
            message(f"note: {note}")
    if dry_run:
        for f in res.new:
            sys.stdout.write(E.to_line(f).decode("utf-8"))
    else:
        for f in res.new:
            print(f["id"])
    message(res.summary() + (" (dry run: nothing appended)" if dry_run else ""))
