"""Inventory turnover (`report turnover`) per SKU or category over a period of local days.

- ``cogs``: cost of goods sold in the period: the replay's COGS effects (sales at the cost
  of the layers they took, less restocked returns, plus true-ups of negative stock).
- ``avg_inventory``: the daily average of the stock value (all locations): the mean of the
  value at the end of each day of the period. A start-and-end mean swings with the two days
  chosen (a delivery the day before the end doubles it); the daily mean weighs each day the
  same. ``opening_value`` and ``closing_value`` are given too: their mean is the simple one.
- ``turnover`` = cogs ÷ avg_inventory; ``days_on_hand`` = days in the period ÷ turnover
  (empty when there was no inventory or no COGS).
- ``sell_through`` = units sold (`sold` events in the period, before returns) ÷ (units on
  hand at the start + units received in the period), in percent.

Without ``--from`` the period starts on the day of the journal's first event; without
``--to`` it ends today. One pass over the journal (an observer); per event it does a few
additions (the value-days of a SKU are brought up to date only when its stock changes).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from invctl import events as E
from invctl.costing import ZERO
from invctl.numbers import Number, parse_qty
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

By = Literal["sku", "category"]
HUNDRED = Decimal(100)

_KEYS: dict[str, list[Column]] = {
    "sku": [Column("sku", "SKU", wrap=False), Column("name", "Name", table=False), Column("category", "Category", table=False)],
    "category": [Column("category", "Category"), Column("skus", "SKUs", "int")],
}
_FIGURES = [
    Column("cogs", "COGS", "money"),
    Column("opening_value", "Opening", "money", table=False),
    Column("closing_value", "Closing", "money", table=False),
    Column("avg_inventory", "Avg inventory", "money"),
    Column("turnover", "Turnover", "qty"),
    Column("days_on_hand", "Days on hand", "qty"),
    Column("units_sold", "Sold", "qty"),
    Column("opening_units", "Opening units", "qty"),
    Column("received_units", "Received", "qty"),
    Column("sell_through", "Sell-through", "pct"),
    Column("days", "Days", "int", table=False),
]

_SOLD, _LEAN_SOLD = E.Sold, E.LEAN[E.Sold]
_RECEIVED, _LEAN_RECEIVED = E.Received, E.LEAN[E.Received]


def period_title(ledger: Ledger, start: dt.datetime | None, end: dt.datetime | None) -> str:
    """" 2026-01-01 to 2026-10-31" for a period given by --from/--to ("" for all of it)."""
    if start is None and end is None:
        return ""
    tz = ledger.settings.tz
    first = start.astimezone(tz).date().isoformat() if start is not None else "start"
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date().isoformat() if end is not None else "now"
    return f" {first} to {last}"


def utc(when: dt.datetime | None) -> dt.datetime | None:
    """The same instant in UTC: comparing event times (fixed offsets) with it is cheaper than
    with a zoneinfo time, whose offset is looked up on every comparison (a replay makes one
    per event)."""
    return when.astimezone(dt.UTC) if when is not None else None


class DayClock:
    """Local day numbers (ordinals) of event times, for events that come in time order.

    Keeps the current day as two instants in the tzinfo of the last ts seen: datetimes that
    share a tzinfo compare without computing UTC offsets, so most events cost two comparisons.
    """

    def __init__(self, tz: dt.tzinfo):
        self.tz = tz
        self._tsz: dt.tzinfo | None = None
        self._lo = self._hi = dt.datetime.min
        self._day = 0

    def day(self, ts: dt.datetime) -> int:
        if ts.tzinfo is self._tsz and self._lo <= ts < self._hi:
            return self._day
        tz = self.tz
        d = ts.astimezone(tz).date()
        nxt = d + dt.timedelta(days=1)
        fixed = ts.tzinfo if type(ts.tzinfo) is dt.timezone else None
        self._tsz = fixed
        if fixed is not None:
            self._lo = dt.datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(fixed)
            self._hi = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(fixed)
        self._day = d.toordinal()
        return self._day


class _Acc:
    """One SKU: running stock (all locations) and the period's figures."""

    __slots__ = ("qty", "value", "since", "value_days", "opened", "opening_qty", "opening_value",
                 "cogs", "sold", "received")

    def __init__(self) -> None:
        self.qty: Number = 0
        self.value = ZERO
        self.since = 0  # the first day whose end-of-day value is not yet in value_days
        self.value_days = ZERO
        self.opened = False
        self.opening_qty: Number = 0
        self.opening_value = ZERO
        self.cogs = ZERO
        self.sold: Number = 0
        self.received: Number = 0

    def open(self, first: int) -> None:
        self.opened = True
        self.opening_qty, self.opening_value = self.qty, self.value
        self.since = first

    def roll(self, day: int) -> None:
        """The days before ``day`` ended at the current value."""
        if day > self.since:
            self.value_days += self.value * (day - self.since)
            self.since = day


class _Flow:
    """Observer: per SKU, stock before the period, and COGS, units and value-days in it."""

    def __init__(self, tz: dt.tzinfo, start: dt.datetime | None):
        self.tz = tz
        self.start = start
        self.reset()

    def reset(self) -> None:
        self.acc: dict[str, _Acc] = {}
        self.clock = DayClock(self.tz)
        self.inside = self.start is None  # events come in order: once inside, always inside
        self.first_day: int | None = None if self.start is None else self.start.astimezone(self.tz).date().toordinal()

    def __call__(self, state: State, ev: Any, src: Source, effects: list[Effect]) -> None:
        # Called for every event of the journal: kept flat (most events are sales, one effect).
        if not effects:
            return  # ordered, cancelled, voided: no stock moved
        sku = ev.sku
        acc = self.acc.get(sku)
        if acc is None:
            acc = self.acc[sku] = _Acc()
        if not self.inside:
            if self.start is not None and ev.ts < self.start:
                for fx in effects:
                    acc.qty += fx.qty
                    acc.value += fx.value
                return
            self.inside = True
        clock = self.clock
        ts = ev.ts
        day = clock._day if ts.tzinfo is clock._tsz and clock._lo <= ts < clock._hi else clock.day(ts)
        if not acc.opened:
            if self.first_day is None:
                self.first_day = day
            acc.open(self.first_day)
        if day > acc.since:
            acc.value_days += acc.value * (day - acc.since)
            acc.since = day
        kind = type(ev)
        if kind is _SOLD or kind is _LEAN_SOLD:
            fx = effects[0]
            acc.qty += fx.qty
            acc.value += fx.value
            acc.cogs += fx.cogs
            acc.sold -= fx.qty
            return
        for fx in effects:
            acc.qty += fx.qty
            acc.value += fx.value
            acc.cogs += fx.cogs
        if kind is _RECEIVED or kind is _LEAN_RECEIVED:
            acc.received += parse_qty(ev.qty)

    def finish(self, last_day: int) -> None:
        """Bring every SKU up to the end of ``last_day``."""
        if self.first_day is None:
            self.first_day = last_day
        for acc in self.acc.values():
            if not acc.opened:
                acc.open(self.first_day)
            acc.roll(last_day + 1)


def _ratio(a: Decimal, b: Decimal, places: str) -> Decimal | None:
    if b <= 0 or a <= 0:
        return None
    return (a / b).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _figures(cogs: Decimal, value_days: Decimal, days: int, sold: Number, opening_units: Number,
             received: Number) -> dict[str, Any]:
    avg = value_days / days
    turnover = _ratio(cogs, avg, "0.01")
    available = opening_units + received
    return {
        "cogs": cogs,
        "avg_inventory": avg,
        "turnover": turnover,
        "days_on_hand": _ratio(Decimal(days), turnover, "0.1") if turnover else None,
        "units_sold": sold,
        "opening_units": opening_units,
        "received_units": received,
        "sell_through": Decimal(sold) / Decimal(available) * HUNDRED if available > 0 else None,
        "days": days,
    }


def turnover_report(ledger: Ledger, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
                    by: By = "sku") -> Report:
    """Turnover over the local days from ``start`` (an instant: the first day's start) to
    ``end`` (the instant to replay up to, exclusive; default: the end of today)."""
    from invctl.reports.stock import _notes

    tz = ledger.settings.tz
    if end is None:  # the end of today: events dated later are not in the period
        today = dt.datetime.now(tz).date()
        end = dt.datetime(today.year, today.month, today.day, tzinfo=tz) + dt.timedelta(days=1)
    flow = _Flow(tz, utc(start))
    state = replay(ledger, until=utc(end), observer=flow, full=False)
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(tz).date().toordinal()
    flow.finish(last_day)
    assert flow.first_day is not None
    days = max(last_day - flow.first_day + 1, 1)

    items = ledger.catalog.items
    groups: dict[Any, dict[str, Any]] = {}
    for sku in sorted(flow.acc):
        acc = flow.acc[sku]
        if not (acc.cogs or acc.value_days or acc.sold or acc.received or acc.opening_qty or acc.qty):
            continue  # nothing held or moved in the period
        item = items.get(sku)
        if by == "sku":
            key: Any = sku
            head = {"sku": sku, "name": item.name if item else "(not in catalog)", "category": item.category if item else None}
        else:
            key = item.category if item else None
            head = {"category": key}
        g = groups.get(key)
        if g is None:
            g = groups[key] = {**head, "_skus": 0, "cogs": ZERO, "value_days": ZERO, "opening_value": ZERO,
                               "closing_value": ZERO, "sold": 0, "opening_units": 0, "received": 0}
        g["_skus"] += 1
        g["cogs"] += acc.cogs
        g["value_days"] += acc.value_days
        g["opening_value"] += acc.opening_value
        g["closing_value"] += acc.value
        g["sold"] += acc.sold
        g["opening_units"] += acc.opening_qty
        g["received"] += acc.received
    rows = []
    for key in sorted(groups, key=lambda k: (k is None, k or "")):
        g = groups[key]
        row = {k: v for k, v in g.items() if k in ("sku", "name", "category", "opening_value", "closing_value")}
        if by == "category":
            row["skus"] = g["_skus"]
        row.update(_figures(g["cogs"], g["value_days"], days, g["sold"], g["opening_units"], g["received"]))
        rows.append(row)

    def total(k: str) -> Any:
        return sum((g[k] for g in groups.values()), ZERO if k in ("cogs", "value_days", "opening_value", "closing_value") else 0)

    totals = _figures(total("cogs"), total("value_days"), days, total("sold"), total("opening_units"), total("received"))
    totals.update(opening_value=total("opening_value"), closing_value=total("closing_value"))
    if by == "category":
        totals["skus"] = sum(g["_skus"] for g in groups.values())
    first = dt.date.fromordinal(flow.first_day).isoformat()
    title = f"Turnover by {by} {first} to {dt.date.fromordinal(last_day).isoformat()} ({days} days)"
    return Report(title, _KEYS[by] + _FIGURES, rows, totals=totals, notes=_notes(state))
