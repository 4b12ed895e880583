"""invctl report valuation|abc|turnover|aging|shrinkage|expiry: the stock-side reports."""

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from invctl.cli.common import (
    AsOfOpt,
    FilterLocOpt,
    FormatOpt,
    FromOpt,
    LedgerOpt,
    ToOpt,
    get_ledger,
)

if TYPE_CHECKING:
    import datetime as dt

    from invctl.settings import Ledger

CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only items of this category.", show_default=False)]


def _as_of(led: "Ledger", as_of: str | None) -> "dt.datetime | None":
    from invctl import inputs

    return inputs.day_end(led, as_of) if as_of else None


def valuation(
    by: Annotated[Literal["sku", "category", "location"], typer.Option("--by", help="One row per SKU, category or location.")] = "sku",
    layers: Annotated[bool, typer.Option("--layers", help="List every cost layer per SKU and location instead: lot, expiry, date received, quantity, unit cost (FIFO: the layer's; average costing: the average) and value.")] = False,
    as_of: AsOfOpt = None,
    loc: FilterLocOpt = None,
    category: CategoryOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Stock value: quantity, unit cost and value per SKU, category or location, with totals.

    The values are those of `invctl stock` (the same replay), summed. Only SKUs with stock
    or value are listed. Negative stock has no layers: --layers shows it as a row of its own.

    Example: invctl report valuation --by category --as-of 2026-10-31 --format json
    """
    from invctl.errors import Refused
    from invctl.render import emit
    from invctl.reports.valuation import valuation_report

    led = get_ledger(ledger)
    if layers and by != "sku":
        raise Refused(f"--layers lists the layers of each SKU and location; leave out --by {by}")
    report = valuation_report(led, as_of=_as_of(led, as_of), by=by, layers=layers, loc=loc, category=category)
    emit(report, fmt, led.settings.places)


def abc(
    by: Annotated[Literal["revenue", "margin", "consumption"], typer.Option("--by", help="Rank by net sales, margin (net sales - COGS), or consumption (COGS: usage at cost).")] = "revenue",
    a: Annotated[str, typer.Option("--a", help="Class A: the items making this fraction of the total.")] = "0.8",
    b: Annotated[str, typer.Option("--b", help="Class B: the items after A, up to this fraction; the rest are C.")] = "0.95",
    start: FromOpt = None,
    end: ToOpt = None,
    summary: Annotated[bool, typer.Option("--summary", help="One row per class: items and share of the total.")] = False,
    save: Annotated[bool, typer.Option("--save", help="Also save each SKU's class to .invctl/abc.json, for count frequency and alerts.")] = False,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """ABC analysis: items ranked by revenue, margin or consumption, in classes A, B and C.

    A: the items making the first 80 % (--a) of the measure over the period; B: up to 95 %
    (--b); C: the rest, and every item with nothing (or a loss) in the period. With --save,
    the classes are kept in .invctl/abc.json (local, not committed) as a suggestion for how
    often to count each item and how closely to watch it.

    Example: invctl report abc --by margin --from 2026-01-01 --to 2026-10-31 --save
    """
    from invctl import inputs
    from invctl.render import emit, message
    from invctl.reports.abc import abc_report, abc_summary, save_classes, thresholds

    led = get_ledger(ledger)
    fa, fb = thresholds(a, b)
    first, until = inputs.period(led, start, end)
    report = abc_report(led, start=first, end=until, by=by, a=fa, b=fb)
    if save:
        path = save_classes(led, report, by=by, a=fa, b=fb, start=first, end=until)
    emit(abc_summary(report, fa, fb) if summary else report, fmt, led.settings.places)
    if save:
        message(f"saved the classes of {len(report.rows)} items to {path}")


def turnover(
    by: Annotated[Literal["sku", "category"], typer.Option("--by", help="One row per SKU or per category.")] = "sku",
    start: FromOpt = None,
    end: ToOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Inventory turnover over a period: COGS, average inventory, turnover, days on hand, sell-through.

    Average inventory is the mean of the stock value at the end of each day of the period;
    turnover = COGS / average inventory; days on hand = days / turnover; sell-through =
    units sold / (units on hand at the start + units received). Without --from the period
    starts with the journal, without --to it ends today.

    Example: invctl report turnover --by category --from 2026-01-01 --to 2026-06-30
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.turnover import turnover_report

    led = get_ledger(ledger)
    first, until = inputs.period(led, start, end)
    emit(turnover_report(led, start=first, end=until, by=by), fmt, led.settings.places)


def aging(
    as_of: AsOfOpt = None,
    dead_days: Annotated[int | None, typer.Option("--dead-days", help="Dead stock: no sale for this many days while held (default: dead_days in [alerts] of invctl.toml, else 90).", min=1, max=36500, show_default=False)] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Only dead stock.")] = False,
    loc: FilterLocOpt = None,
    category: CategoryOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Stock value by age (0-30, 31-60, 61-90, over 90 days since its layer came in) and dead stock.

    One row per SKU and location. Dead: stock on hand with no sale there for --dead-days
    days while it was held that long.

    Example: invctl report aging --as-of 2026-10-31 --dead-days 60 --dead --format csv
    """
    from invctl.render import emit
    from invctl.reports.aging import aging_report

    led = get_ledger(ledger)
    days = dead_days if dead_days is not None else _setting(led, "dead_days", 90)
    report = aging_report(led, as_of=_as_of(led, as_of), dead_days=days, loc=loc, category=category, dead_only=dead)
    emit(report, fmt, led.settings.places)


def shrinkage(
    by: Annotated[Literal["reason", "sku", "month"], typer.Option("--by", help="One row per reason (count variances are 'count'), SKU or month.")] = "reason",
    start: FromOpt = None,
    end: ToOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Shrinkage: count variances and write-offs (negative adjustments), in units and value.

    A count variance is the counted minus the replayed quantity (negative: shrinkage),
    valued as the replay valued it; a write-off is valued at the layers it took. Positive
    adjustments (found) are left out.

    Example: invctl report shrinkage --by month --from 2026-01-01 --to 2026-10-31 --format json
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.shrinkage import shrinkage_report

    led = get_ledger(ledger)
    first, until = inputs.period(led, start, end)
    emit(shrinkage_report(led, start=first, end=until, by=by), fmt, led.settings.places)


def expiry(
    as_of: AsOfOpt = None,
    within: Annotated[int | None, typer.Option("--within", help="Only lots expiring within this many days (the expired ones too).", min=0, max=36500, show_default=False)] = None,
    summary: Annotated[bool, typer.Option("--summary", help="One row per horizon: expired, <=7d, <=30d, <=90d, later.")] = False,
    loc: FilterLocOpt = None,
    category: CategoryOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Lots with an expiry date, soonest first: days left, horizon, quantity and value at risk.

    Horizons: expired (before the as-of day; a lot is good on its expiry date), <=7d, <=30d,
    <=90d days left, later.

    Example: invctl report expiry --within 30 --as-of 2026-10-31 --format json
    """
    from invctl.render import emit
    from invctl.reports.aging import expiry_report

    led = get_ledger(ledger)
    report = expiry_report(led, as_of=_as_of(led, as_of), within=within, loc=loc, category=category, summary=summary)
    emit(report, fmt, led.settings.places)


def _setting(led: "Ledger", key: str, default: int) -> int:
    """A whole number of days from [alerts] in invctl.toml."""
    from invctl.errors import Refused

    raw = led.settings.alerts.get(key)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise Refused(f"invctl.toml: [alerts] {key} = {raw!r} must be a whole number of days, at least 1")
    return raw
