"""The HTML dashboard (`report html`): one self-contained page for a phone or a desktop.

Three layers, kept apart:

- ``collect`` reads the ledger: one replay up to --as-of with two sales observers
  (invctl/reports/sales.py's Collector: per local day, and per SKU over the period), the
  stock report from that replay's state, and the alerts (invctl/reports/alerts.py).
- ``dashboard_html.page`` is pure: a Dashboard (plain data) in, the HTML text out. Inline
  CSS and inline SVG, no script, no font or image to fetch: it can be mailed, synced or
  opened offline. Every text that comes from the ledger goes through ``html.escape``.
- ``write`` puts the page in place atomically (a temporary file in the same folder, fsynced,
  renamed over the old one), so a web server never serves half a page.

Nothing here imports rich or typer. docs/dashboard.md describes the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invctl.numbers import Number

if TYPE_CHECKING:
    from invctl.settings import Ledger

WINDOW_DAYS = 30  # "sales last 30 days vs the 30 before"
STOCK_KINDS = ("out-of-stock", "low-stock")  # the alerts the low-stock table lists
TOP = 10
_ZERO = Decimal(0)


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Sales of the days ``first`` to ``last`` (local days, both included)."""

    first: dt.date
    last: dt.date
    units: Number = 0
    net_sales: Decimal = _ZERO


@dataclass(frozen=True)
class AlertRow:
    severity: str
    kind: str
    sku: str | None
    name: str | None
    loc: str | None
    message: str


@dataclass(frozen=True)
class LowRow:
    """A SKU out of stock or at its reorder point (from the alerts of those kinds)."""

    sku: str
    name: str | None
    out: bool
    available: Number
    on_order: Number
    reorder_point: Decimal | None
    days_of_cover: float | None


@dataclass(frozen=True)
class Point:
    """One bar of the trend: a day, week or month (``first`` to ``last``)."""

    label: str
    first: dt.date
    last: dt.date
    units: Number
    net_sales: Decimal


@dataclass(frozen=True)
class TopRow:
    sku: str
    name: str | None
    units: Number
    net_sales: Decimal
    share: Decimal | None  # of the period's net sales, in %


@dataclass
class Dashboard:
    """Everything the page shows, as plain values (money unrounded: ``page`` rounds)."""

    ledger_name: str
    currency: str
    places: int
    day: dt.date  # the day the figures are for (--as-of, else today)
    generated: dt.datetime | None  # when, for a page of "now" (None with --as-of)
    stock_value: Decimal
    units_on_hand: Number
    skus: int  # SKUs with stock or an open PO line
    skus_out: int  # ... of which none is available
    open_po_value: Decimal
    open_po_lines: int
    recent: Window
    previous: Window
    period: Window  # the --days of the trend and the top items
    unit: str  # day, week or month: one bar of the trend
    trend: list[Point]
    top: list[TopRow]
    alerts: list[AlertRow]
    low: list[LowRow]
    notes: list[str] = field(default_factory=list)


# --- reading the ledger ---------------------------------------------------------------------


def trend_unit(days: int) -> str:
    """One bar per day up to four months, per ISO week up to three years, else per month."""
    if days <= 120:
        return "day"
    return "week" if days <= 3 * 366 else "month"


class _Observers:
    """Feeds one replay to several observers; ``until`` keeps later events from the second."""

    def __init__(self, by_day: Any, by_sku: Any, until: dt.datetime | None):
        self.by_day = by_day
        self.by_sku = by_sku
        self.until = until

    def reset(self) -> None:
        self.by_day.reset()
        self.by_sku.reset()

    def __call__(self, state: Any, ev: Any, src: Any, effects: Any) -> None:
        self.by_day(state, ev, src, effects)
        if self.until is None or ev.ts < self.until:
            self.by_sku(state, ev, src, effects)


def collect(ledger: Ledger, *, as_of: dt.datetime | None = None, days: int = 90, top: int = TOP,
            now: dt.datetime | None = None) -> Dashboard:
    """The dashboard's figures at ``as_of`` (the instant to replay up to, exclusive, as
    replay(until=)), else now: stock as `invctl stock` has it, alerts as `invctl alerts`,
    sales as `invctl report sales` counts them, over local days of the ledger's zone."""
    from invctl import alerts as A
    from invctl.replay import replay
    from invctl.reports import alerts as R
    from invctl.reports.saleparts import returns_needing_sales
    from invctl.reports.sales import Collector
    from invctl.reports.stock import stock_report

    tz = ledger.settings.tz
    now = now or dt.datetime.now(tz)
    end = as_of if as_of is not None else now
    today = R.today_of(ledger, as_of) if as_of is not None else now.astimezone(tz).date()

    def midnight(d: dt.date) -> dt.datetime:
        return dt.datetime(d.year, d.month, d.day, tzinfo=tz)

    recent_first = today - dt.timedelta(days=WINDOW_DAYS - 1)
    previous_first = recent_first - dt.timedelta(days=WINDOW_DAYS)
    period_first = today - dt.timedelta(days=days - 1)

    need = returns_needing_sales(ledger, None)
    by_day = Collector(ledger, "day", midnight(min(previous_first, period_first)), need=need)
    by_sku = Collector(ledger, "sku", midnight(period_first), need=need)
    # Without --as-of the state is the whole journal's, as `invctl stock` shows it; sales
    # are counted by local day up to today, so anything dated later stays out of them.
    state = replay(ledger, until=as_of, observer=_Observers(by_day, by_sku, end))
    day_groups = {label: g for label, g in by_day.groups.items() if isinstance(label, str)}

    def window(first: dt.date, last: dt.date) -> Window:
        units: Number = 0
        net = _ZERO
        d = first
        while d <= last:
            g = day_groups.get(d.isoformat())
            if g is not None:
                units += g.units
                net += g.gross - g.returns
            d += dt.timedelta(days=1)
        return Window(first, last, units, net)

    unit = trend_unit(days)
    trend = [Point(label, a, b, w.units, w.net_sales)
             for label, a, b in buckets(unit, period_first, today)
             for w in (window(a, b),)]

    names = {sku: it.name for sku, it in ledger.catalog.items.items()}
    period = window(period_first, today)
    ranked = sorted(by_sku.groups.values(), key=lambda g: (-(g.gross - g.returns), g.key is None, g.key or ""))
    top_rows = [TopRow(g.key, names.get(g.key), g.units, g.gross - g.returns,
                       (g.gross - g.returns) / period.net_sales * 100 if period.net_sales > 0 else None)
                for g in ranked[:top] if g.key is not None and (g.units or g.gross - g.returns)]

    stock = stock_report(ledger, as_of=as_of, state=state)
    per_sku = A.stock_by_sku(state, today)
    open_lines = [line for line in state.po_lines.values() if line.outstanding]

    found = R.find(ledger, as_of=as_of, state=state)  # the replay above: not a second one
    alerts = [AlertRow(a.severity, a.kind, a.sku, names.get(a.sku) if a.sku else None, a.loc, a.message)
              for a in found]
    low = [LowRow(a.sku, names.get(a.sku), a.kind == "out-of-stock", a.available or 0, a.on_order or 0,
                  a.reorder_point, a.days_of_cover)
           for a in found if a.kind in STOCK_KINDS and a.sku is not None]
    low.sort(key=lambda r: (not r.out, r.days_of_cover if r.days_of_cover is not None else -1.0, r.sku))

    return Dashboard(
        ledger_name=ledger.root.resolve().name,
        currency=ledger.settings.currency,
        places=ledger.settings.places,
        day=today,
        generated=None if as_of is not None else now.replace(microsecond=0),
        stock_value=stock.totals.get("value", _ZERO),
        units_on_hand=sum((r["on_hand"] for r in stock.rows), 0),
        skus=len(per_sku),
        skus_out=sum(1 for s in per_sku.values() if s.available <= 0),
        open_po_value=sum((line.outstanding * (line.cost or _ZERO) for line in open_lines), _ZERO),
        open_po_lines=len(open_lines),
        recent=window(recent_first, today),
        previous=window(previous_first, recent_first - dt.timedelta(days=1)),
        period=period,
        unit=unit,
        trend=trend,
        top=top_rows,
        alerts=alerts,
        low=low,
        notes=list(stock.notes),
    )


def buckets(unit: str, first: dt.date, last: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The days, ISO weeks or months from ``first`` to ``last``: (label, first day, last
    day), the first and last cut to the range."""
    out = []
    d = first
    while d <= last:
        if unit == "day":
            nxt = d + dt.timedelta(days=1)
            label = d.isoformat()
        elif unit == "week":
            nxt = d + dt.timedelta(days=7 - d.weekday())
            iso = d.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        else:
            nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
            label = f"{d.year}-{d.month:02d}"
        out.append((label, d, min(nxt - dt.timedelta(days=1), last)))
        d = nxt
    return out


def write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically: readers see the old page or the new one."""
    from invctl.files import write_atomic

    write_atomic(path, text.encode("utf-8"))
