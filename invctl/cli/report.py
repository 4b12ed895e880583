"""invctl report ...: reports over the whole ledger (one function per report)."""

from typing import Annotated, Literal

import typer

from invctl.cli.common import FormatOpt, FromOpt, LedgerOpt, ToOpt, get_ledger

app = typer.Typer(help="Reports computed from the journal.\n\nExample: invctl report suppliers --sort on_time_rate --format json",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)  # as the root app (main.py)



@app.callback()
def _group() -> None:
    """Reports computed from the journal.

    Example: invctl report suppliers --sort on_time_rate --format json
    """


@app.command("suppliers")
def suppliers(
    sort: Annotated[str, typer.Option(help="Sort by this column (a JSON key, e.g. fill_rate, on_time_rate, lead_time_days, defect_rate, price_trend); empty values last.")] = "supplier",
    reverse: Annotated[bool, typer.Option("--reverse", help="Sort largest first.")] = False,
    by: Annotated[Literal["supplier", "sku"], typer.Option("--by", help="One row per supplier, or per supplier and SKU (with average and last cost).")] = "supplier",
    start: FromOpt = None,
    end: ToOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Supplier scorecard: fill rate, on-time rate, lead time, price trend and defect rate.

    PO figures are over the PO lines placed from --from to --to; receipts, prices and
    defects over the receipts and write-offs in that period. docs/purchasing.md has the
    definitions.

    Example: invctl report suppliers --from 2026-01-01 --to 2026-06-30 --sort defect_rate --reverse
    """
    from invctl import inputs
    from invctl.errors import Refused
    from invctl.render import emit
    from invctl.reports.suppliers import SORT_KEYS, scorecard_report

    led = get_ledger(ledger)
    if sort not in SORT_KEYS:
        raise Refused(f"--sort {sort!r} is not a column of this report; use one of: {', '.join(SORT_KEYS)}")
    first, until = inputs.period(led, start, end)
    emit(scorecard_report(led, start=first, end=until, by=by, sort=sort, reverse=reverse), fmt, led.settings.places)


from invctl.cli.forecast import forecast  # noqa: E402 - a report of its own module

app.command("forecast")(forecast)

from invctl.cli import report_stock as _stock  # noqa: E402

for _name in ("valuation", "abc", "turnover", "aging", "shrinkage", "expiry"):
    app.command(_name)(getattr(_stock, _name))

from invctl.cli.report_sales import customers, margin, sales  # noqa: E402

app.command("sales")(sales)
app.command("margin")(margin)
app.command("customers")(customers)

from invctl.cli.report_html import html  # noqa: E402

app.command("html")(html)
