"""Customers (`report customers`): what each customer bought in the period, and RFM segments
to find the loyal customers and the ones drifting away.

Definitions (docs/reports.md explains them with an example):

- Only sales and returns with a customer count: a sale's ``customer``; a return's own
  ``customer``, else that of its order's sale of the SKU. Sales without one (a till) are not
  any customer's.
- ``orders``: distinct ``order`` refs of the customer's sales in the period (a sale without
  one is an order of its own); ``units``: units bought; ``returns``: refunds (valued as in
  `report sales`); ``net_sales`` = Σ qty × price − returns; ``avg_order_value`` =
  net_sales ÷ orders.
- ``first_purchase``: the customer's first purchase ever (also before ``--from``), so a
  customer is new only if they never bought before; ``last_purchase``: the latest purchase
  up to the end of the period; ``days_since``: days from it to ``--as-of``.
- ``repeat``: more than one order in the period. The repeat rate is the share of the
  customers with an order in the period who placed more than one.
- RFM scores, 1 (worst) to 5 (best), are quintiles among the customers of the report:
  R of ``days_since`` (fewer is better), F of ``orders``, M of ``net_sales``. Equal values
  share a score: a value's score is its mid-rank ÷ customers × 5, rounded up (so when most
  customers placed one order, they all get the same F).
- Segments, the first rule that holds (FM = (F + M) ÷ 2):
  ``champions`` repeat, R ≥ 4, FM ≥ 4; ``loyal`` repeat, R ≥ 3, FM ≥ 3; ``new`` one order,
  first purchase in the period, R ≥ 4; ``promising`` R ≥ 3 (recent, not yet frequent or
  big); ``at_risk`` R ≤ 2 and FM ≥ 3 (were good, have not come back); ``lapsing`` the rest
  (R ≤ 2: not recent, little).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import msgspec

from invctl import events as E
from invctl.costing import ZERO
from invctl.numbers import Number
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.reports.periods import Clock
from invctl.reports.saleparts import Orders, Prices, Sales, qty_of, returns_needing_sales
from invctl.reports.sales import cut_note, report_notes
from invctl.settings import Ledger

SEGMENTS = ("champions", "loyal", "new", "promising", "at_risk", "lapsing")
HUNDRED = Decimal(100)

COLUMNS = [
    Column("customer", "Customer", wrap=False),
    Column("orders", "Orders", "int"),
    Column("units", "Units", "qty"),
    Column("units_returned", "Returned", "qty", table=False),
    Column("gross_sales", "Gross", "money", table=False),
    Column("returns", "Returns", "money", table=False),
    Column("net_sales", "Net sales", "money"),
    Column("avg_order_value", "Avg order", "money"),
    Column("first_purchase", "First", "date"),
    Column("last_purchase", "Last", "date"),
    Column("days_since", "Days since", "int"),
    Column("repeat", "Repeat", "bool"),
    Column("r_score", "R", "int", table=False),
    Column("f_score", "F", "int", table=False),
    Column("m_score", "M", "int", table=False),
    Column("rfm", "RFM", wrap=False),
    Column("segment", "Segment", wrap=False),
]

SUMMARY_COLUMNS = [
    Column("segment", "Segment", wrap=False),
    Column("customers", "Customers", "int"),
    Column("customer_share", "% customers", "pct"),
    Column("orders", "Orders", "int"),
    Column("net_sales", "Net sales", "money"),
    Column("sales_share", "% sales", "pct"),
    Column("avg_order_value", "Avg order", "money"),
    Column("repeat_rate", "Repeat", "pct"),
    Column("avg_days_since", "Avg days since", "qty"),
]


class _Customer(msgspec.Struct, gc=False):
    """One customer's figures (not tracked by the garbage collector: there may be millions)."""

    index: int
    first: dt.date | None = None  # the first and last purchase (ever, to the end of the period)
    last: dt.date | None = None
    orders: int = 0
    units: Number = 0
    units_returned: Number = 0
    gross: Decimal = ZERO
    returns: Decimal = ZERO
    last_order: int = 0  # hash of the last order ref, shifted (see sales.Orders)
    active: bool = False  # a sale or return in the period
    first_in_period: bool = False


class Collector:
    """Observer: per customer, first and last purchase ever, and the figures of the period."""

    def __init__(self, ledger: Ledger, start: dt.datetime | None, need: set[int]):
        self.start = start
        self.tz = ledger.settings.tz
        self.prices = Prices(ledger)
        self.need = need
        self.reset()

    def reset(self) -> None:
        self.customers: dict[str, _Customer] = {}
        self.sales = Sales(self.need)
        self.inside = self.start is None
        self.days = Clock("day", self.tz)
        self.orders = Orders()
        self.bad_prices = 0

    def _customer(self, name: str) -> _Customer:
        c = self.customers.get(name)
        if c is None:
            c = self.customers[name] = _Customer(len(self.customers))
        return c

    def __call__(self, state: State, ev: E.Event, src: Source, effects: list[Effect]) -> None:
        kind = type(ev)
        if kind is E.Sold:
            self._sold(ev)  # type: ignore[arg-type]
        elif kind is E.Returned:
            self._returned(ev)  # type: ignore[arg-type]

    def _sold(self, ev: E.Sold) -> None:
        if not self.inside and ev.ts >= self.start:  # type: ignore[operator]
            self.inside = True
        try:
            qty = qty_of(ev.qty)
            amount = qty * self.prices(ev.price)
        except ValueError:
            self.bad_prices += self.inside
            return
        if self.need:
            self.sales.sold(ev, qty, amount)
        name = ev.customer
        if name is None:
            return
        c = self.customers.get(name)
        if c is None:
            c = self._customer(name)
        days = self.days
        days(ev.ts)
        day = days.day
        if c.first is None:
            c.first = day
            c.first_in_period = self.inside
        c.last = day
        if not self.inside:
            return
        c.active = True
        c.units += qty
        c.gross += amount
        order = ev.order
        if order is None:
            c.orders += 1
            return
        h = hash(order) << 32
        if h != c.last_order:
            c.last_order = h
            if self.orders.first_time(h | c.index, ev.ts):
                c.orders += 1

    def _returned(self, ev: E.Returned) -> None:
        if not self.inside:
            if ev.ts < self.start:  # type: ignore[operator]
                return
            self.inside = True
        sale = self.sales.of(ev)
        name = ev.customer if ev.customer is not None else (sale[3] if sale is not None else None)
        if name is None:
            return
        try:
            qty = qty_of(ev.qty)
            amount = qty * self.prices.refund(ev, sale)
        except ValueError:
            self.bad_prices += 1
            return
        c = self._customer(name)
        c.active = True
        c.units_returned += qty
        c.returns += amount


def scores(values: list[Any], higher_is_better: bool = True) -> list[int]:
    """Quintile scores 1..5 of ``values`` among themselves: ceil(5 × mid-rank ÷ n), where
    the mid-rank counts the values below and half the equal ones, so equal values share a
    score."""
    n = len(values)
    order = sorted(range(n), key=values.__getitem__)
    out = [0] * n
    i = 0
    while i < n:
        v = values[order[i]]
        j = i + 1
        while j < n and values[order[j]] == v:
            j += 1
        score = min(5, max(1, math.ceil(5 * (i + (j - i) / 2) / n)))
        if not higher_is_better:
            score = 6 - score
        for k in range(i, j):
            out[order[k]] = score
        i = j
    return out


def segment(r: int, f: int, m: int, orders: int, first_in_period: bool) -> str:
    fm = (f + m) / 2
    repeat = orders > 1
    if repeat and r >= 4 and fm >= 4:
        return "champions"
    if repeat and r >= 3 and fm >= 3:
        return "loyal"
    if orders == 1 and first_in_period and r >= 4:
        return "new"
    if r >= 3:
        return "promising"
    if fm >= 3:
        return "at_risk"
    return "lapsing"


def _local_day(ledger: Ledger, when: dt.datetime) -> dt.date:
    return when.astimezone(ledger.settings.tz).date()


def customers_report(ledger: Ledger, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
                     as_of: dt.date | None = None, segment_only: str | None = None, summary: bool = False,
                     limit: int | None = None, table_rows: int | None = None) -> Report:
    """Customers over [start, end) (``end``: the instant to replay up to), RFM judged on
    ``as_of`` (default: the last day of the period, else today)."""
    need = returns_needing_sales(ledger, "customer")
    col = Collector(ledger, start, need)
    state = replay(ledger, until=end, observer=col)
    tz = ledger.settings.tz
    last_day = _local_day(ledger, end - dt.timedelta(microseconds=1)) if end is not None else None
    judge = as_of or last_day or dt.datetime.now(tz).date()

    active = [(name, c) for name, c in col.customers.items() if c.active]
    recency = [(judge - c.last).days if c.last is not None else None for _, c in active]
    never = max((r for r in recency if r is not None), default=0) + 1  # returns only, no purchase: oldest
    r_scores = scores([r if r is not None else never for r in recency], higher_is_better=False)
    f_scores = scores([c.orders for _, c in active])
    m_scores = scores([c.gross - c.returns for _, c in active])
    scored = [
        _Scored(name, c, recency[i], r_scores[i], f_scores[i], m_scores[i],
                segment(r_scores[i], f_scores[i], m_scores[i], c.orders, c.first_in_period), c.gross - c.returns)
        for i, (name, c) in enumerate(active)
    ]
    scored.sort(key=lambda x: (-x.net, x.name))

    buyers = sum(1 for x in scored if x.c.orders)
    repeaters = sum(1 for x in scored if x.c.orders > 1)
    repeat_rate = Decimal(repeaters) / buyers * HUNDRED if buyers else None
    first_day = _local_day(ledger, start) if start is not None else None
    period = f" {first_day.isoformat() if first_day else 'start'} to {(last_day or judge).isoformat()}"
    rate = f"{repeat_rate:.1f}%" if repeat_rate is not None else "no"
    title = f"Customers{period}, as of {judge.isoformat()}: {len(scored)} customers, {rate} repeat"
    notes = report_notes(col.prices, col.bad_prices, state)
    if summary:
        return _summary(scored, title, notes)
    if segment_only is not None:
        scored = [x for x in scored if x.segment == segment_only]
    orders = sum(x.c.orders for x in scored)
    net = sum((x.net for x in scored), ZERO)
    totals: dict[str, Any] = {
        "customer": "Total",
        "orders": orders,
        "units": sum((x.c.units for x in scored), 0),
        "units_returned": sum((x.c.units_returned for x in scored), 0),
        "gross_sales": sum((x.c.gross for x in scored), ZERO),
        "returns": sum((x.c.returns for x in scored), ZERO),
        "net_sales": net,
        "avg_order_value": net / orders if orders else None,
    }
    if limit is None and table_rows is not None and len(scored) > table_rows:
        limit = table_rows
        notes.append(cut_note(limit, len(scored), "customers"))
    rows = [x.row() for x in (scored if limit is None else scored[:limit])]
    return Report(title, COLUMNS, rows, totals=totals, notes=notes)


class _Scored(msgspec.Struct, gc=False):
    """A customer of the report with its scores (rows are built only for what is shown)."""

    name: str
    c: _Customer
    days: int | None
    r: int
    f: int
    m: int
    segment: str
    net: Decimal

    def row(self) -> dict[str, Any]:
        c = self.c
        return {
            "customer": self.name,
            "orders": c.orders,
            "units": c.units,
            "units_returned": c.units_returned,
            "gross_sales": c.gross,
            "returns": c.returns,
            "net_sales": self.net,
            "avg_order_value": self.net / c.orders if c.orders else None,
            "first_purchase": c.first,
            "last_purchase": c.last,
            "days_since": self.days,
            "repeat": c.orders > 1,
            "r_score": self.r, "f_score": self.f, "m_score": self.m, "rfm": f"{self.r}{self.f}{self.m}",
            "segment": self.segment,
        }


def _summary(scored: list[_Scored], title: str, notes: list[str]) -> Report:
    """One row per segment, and all customers as totals."""
    all_net = sum((x.net for x in scored), ZERO)
    empty: dict[str, Any] = {"customers": 0, "orders": 0, "net": ZERO, "buyers": 0, "repeat": 0, "days": 0, "dated": 0}
    sums = {s: dict(empty) for s in (*SEGMENTS, "all")}
    for x in scored:
        for acc in (sums[x.segment], sums["all"]):
            acc["customers"] += 1
            acc["orders"] += x.c.orders
            acc["net"] += x.net
            acc["buyers"] += x.c.orders > 0
            acc["repeat"] += x.c.orders > 1
            if x.days is not None:
                acc["days"] += x.days
                acc["dated"] += 1

    def figures(acc: dict[str, Any]) -> dict[str, Any]:
        return {
            "customers": acc["customers"],
            "customer_share": Decimal(acc["customers"]) / len(scored) * HUNDRED if scored else None,
            "orders": acc["orders"],
            "net_sales": acc["net"],
            "sales_share": acc["net"] / all_net * HUNDRED if all_net else None,
            "avg_order_value": acc["net"] / acc["orders"] if acc["orders"] else None,
            "repeat_rate": Decimal(acc["repeat"]) / acc["buyers"] * HUNDRED if acc["buyers"] else None,
            "avg_days_since": (Decimal(acc["days"]) / acc["dated"]).quantize(Decimal("0.1")) if acc["dated"] else None,
        }

    rows = [{"segment": s, **figures(sums[s])} for s in SEGMENTS]
    totals = {"segment": "all", **figures(sums["all"])}
    return Report(title.replace("Customers", "Customer segments", 1), SUMMARY_COLUMNS, rows, totals=totals, notes=notes)
