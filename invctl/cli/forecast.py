"""invctl report forecast."""

from typing import Annotated

import typer

from invctl.cli.common import AsOfOpt, FormatOpt, LedgerOpt, get_ledger

HorizonOpt = Annotated[int, typer.Option("--horizon", help="Days to forecast, from the day after --as-of.", min=1, max=3660)]
BacktestOpt = Annotated[bool, typer.Option("--backtest", help="Also show the forecast's accuracy on past data (MAPE and bias per SKU and overall, beside a seasonal-naive baseline).")]


def forecast(
    skus: Annotated[list[str] | None, typer.Argument(metavar="[SKU]...", help="Only these SKUs.", show_default=False)] = None,
    horizon: HorizonOpt = 30,
    as_of: AsOfOpt = None,
    backtest: BacktestOpt = False,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Demand forecast per SKU for the next --horizon days: units, units a day, and the method.

    Demand is units sold net of returns, per day and SKU (all locations), leaving out days
    the SKU was out of stock; smoothed with an exponentially weighted mean (half-life 21
    days) and, with a year of history, scaled by how the same days went last year.
    --as-of forecasts from the history up to that day only; when the days after it are in
    the journal, "actual" shows what followed. With --backtest, JSON and CSV end with a
    row for SKU "*": the figures over all SKUs. See docs/forecast.md.

    Example: invctl report forecast --horizon 30 --as-of 2026-10-31 --backtest --format json
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.forecast import forecast_report

    led = get_ledger(ledger)
    until = inputs.day_end(led, as_of) if as_of else None
    report = forecast_report(led, horizon=horizon, as_of=until, backtest=backtest, skus=skus or None)
    for sku in skus or []:
        if sku not in led.catalog.items and not any(r["sku"] == sku and r["method"] != "none" for r in report.rows):
            led.catalog.item(sku)  # refuses with a did-you-mean hint
    if backtest and fmt != "table" and report.totals:
        # Scripts get the all-SKU figures as a last row (the table shows them as its footer).
        report.rows.append({**report.totals, "sku": "*", "name": "all SKUs"})
    emit(report, fmt, led.settings.places)
