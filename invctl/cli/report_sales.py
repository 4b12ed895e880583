"""invctl report sales, report margin and report customers."""

from typing import Annotated

import typer

from invctl.cli.common import AsOfOpt, FormatOpt, FromOpt, LedgerOpt, ToOpt, get_ledger

TABLE_ROWS = 100  # a table of every customer of a real shop takes minutes to draw and is no use on a screen
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Only the first N rows (the totals still cover them all).", min=1, show_default=False)]


def _by(by: str, allowed: tuple[str, ...]) -> str:
    from invctl.errors import Refused

    if by not in allowed:
        raise Refused(f"--by {by!r} is not one of: {', '.join(allowed)}")
    return by


def sales(
    by: Annotated[str, typer.Option("--by", metavar="[sku|category|channel|customer|region|day|week|month]", help="One row per group.")] = "sku",
    start: FromOpt = None,
    end: ToOpt = None,
    limit: LimitOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Sales per group: units, gross sales, returns (refunds), net sales and orders.

    Returns count in the period they were recorded in; a return without a refund is valued
    at its order's sale price. Orders are distinct order refs (a sale without one is an
    order of its own). The table ends with totals and shows the trend of net sales per
    period (a bar per row with --by day, week or month); JSON and CSV have no chart.
    With --by customer the table shows the first 100 rows unless --limit says otherwise.
    See docs/reports.md.

    Example: invctl report sales --by channel --from 2026-01-01 --to 2026-06-30 --format json
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.sales import GROUPS, sales_report

    _by(by, GROUPS)
    led = get_ledger(ledger)
    first, until = inputs.period(led, start, end)
    table = fmt == "table"
    report = sales_report(led, by=by, start=first, end=until, for_table=table, limit=limit,
                          table_rows=TABLE_ROWS if table and by == "customer" else None)
    emit(report, fmt, led.settings.places)


def margin(
    by: Annotated[str, typer.Option("--by", metavar="[sku|category|channel]", help="One row per group.")] = "sku",
    start: FromOpt = None,
    end: ToOpt = None,
    limit: LimitOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Margin per group after returns: net sales, cost of goods sold, margin and margin %.

    COGS is what the costing method (fifo or average) booked: the cost of the units sold,
    less what restocked returns put back, plus the true-ups when a receipt fills negative
    stock. The table shows the trend of the margin per period. See docs/reports.md.

    Example: invctl report margin --by category --from 2026-01-01 --to 2026-12-31
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.sales import MARGIN_GROUPS, margin_report

    _by(by, MARGIN_GROUPS)
    led = get_ledger(ledger)
    first, until = inputs.period(led, start, end)
    emit(margin_report(led, by=by, start=first, end=until, for_table=fmt == "table", limit=limit), fmt, led.settings.places)


def customers(
    start: FromOpt = None,
    end: ToOpt = None,
    as_of: AsOfOpt = None,
    segment: Annotated[str | None, typer.Option("--segment", metavar="SEGMENT", help="Only this segment: champions, loyal, new, promising, at_risk or lapsing.", show_default=False)] = None,
    summary: Annotated[bool, typer.Option("--summary", help="One row per segment instead of per customer.")] = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Customers: orders, units, net sales, first and last purchase, repeat, RFM segment.

    Figures are over the sales from --from to --to (default: --as-of, else today); recency
    is counted to --as-of (default: --to). R, F and M are quintile scores (5 is best) of days
    since the last purchase, orders and net sales; segments are champions, loyal, new,
    promising, at_risk and lapsing. The title gives the repeat rate (customers with more
    than one order). --summary gives one row per segment (JSON and CSV end with an "all"
    row). See docs/reports.md.

    Example: invctl report customers --from 2026-01-01 --as-of 2026-10-31 --segment at_risk
    """
    import datetime as dt

    from invctl import inputs
    from invctl.errors import Refused
    from invctl.render import emit
    from invctl.reports.customers import SEGMENTS, customers_report

    led = get_ledger(ledger)
    if segment is not None and segment not in SEGMENTS:
        raise Refused(f"--segment {segment!r} is not one of: {', '.join(SEGMENTS)}")
    if segment is not None and summary:
        raise Refused("--segment and --summary do not go together: the summary has every segment")
    tz = led.settings.tz
    judged = inputs.day_end(led, as_of, "--as-of") if as_of else None
    first, until = inputs.period(led, start, end)
    if until is None:
        if judged is None:
            now = dt.datetime.now(tz)
            judged = dt.datetime(now.year, now.month, now.day, tzinfo=tz) + dt.timedelta(days=1)
        until = judged
        if first is not None and first >= until:
            raise Refused(f"--from {start} is after --as-of {as_of or 'today'}; check the dates")
    elif judged is not None and until > judged:
        raise Refused(f"--to {end} is after --as-of {as_of}: recency is counted at --as-of, so the period must end by then")
    as_of_day = (judged - dt.timedelta(microseconds=1)).astimezone(tz).date() if judged is not None else None
    report = customers_report(led, start=first, end=until, as_of=as_of_day, segment_only=segment, summary=summary,
                              limit=limit, table_rows=TABLE_ROWS if fmt == "table" else None)
    if summary and fmt != "table" and report.totals:
        report.rows.append(dict(report.totals))  # scripts get every customer's figures as an "all" row
    emit(report, fmt, led.settings.places)
