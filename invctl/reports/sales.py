"""Sales and margin (`report sales`, `report margin`): one observer on the replay collects
every sale and return of the period, aggregated by the grouping key as it goes.

Definitions (docs/reports.md explains them with examples):

- ``units``: units sold; ``gross_sales``: Σ qty × price of the sales.
- ``returns``: Σ qty × refund of the returns. A return without ``refund`` is valued at the
  unit price of its order's sale of that SKU (the average when the order sold it in several
  lines), else at the catalog price, else 0 (a note says how many).
- ``net_sales`` = gross_sales − returns. A return counts in the period (and the day, week or
  month) it was recorded in, not in the sale's.
- ``orders``: distinct ``order`` refs of the sales in the group; a sale without ``order`` is
  an order of its own. An order with lines in two groups counts in both; the total counts it
  once. Orders are remembered for 31 days at least (see Orders): memory stays flat.
- A return is grouped by its own ``channel`` / ``customer`` when it has them, else by those
  of its order's sale of that SKU (``region`` always comes from the sale).
- ``cogs`` (margin): what the replay books as cost of goods sold in the period: the sales'
  consumed layers, minus what restocked returns put back, plus the true-ups of
  negative stock when a receipt (count, transfer, ...) fills it. ``--by channel`` charges a
  true-up to the channels of the sales that took that position below zero, oldest first,
  in proportion to their units; units taken short otherwise (a write-off) are no channel's.
- ``margin`` = net_sales − cogs; ``margin_pct`` = margin ÷ net_sales × 100.

The trend chart (table only) is net sales (margin for `report margin`) per day, week, month,
quarter or year of the period, whichever gives at most about three dozen points; with
``--by day|week|month`` it is a bar per row.

Everything is collected in one pass (Collector, an observer on the replay); memory grows with
the rows (groups, and their trend periods), not with the events. The periods and charts are
in periods.py, what is remembered of sales for orders and returns in saleparts.py (both
shared with customers.py, the dashboard and the CSV export).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from invctl import events as E
from invctl.costing import ZERO
from invctl.numbers import Number, parse_qty
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.reports.periods import (
    ADVERB,
    Clock,
    bar,
    next_period,
    periods,
    sparkline,
    trend_unit,
)
from invctl.reports.saleparts import Orders, Prices, Sales, qty_of, returns_needing_sales
from invctl.settings import Ledger

GROUPS = ("sku", "category", "channel", "customer", "region", "day", "week", "month")
MARGIN_GROUPS = ("sku", "category", "channel")
TIME_GROUPS = ("day", "week", "month")
NONE_LABEL = "(none)"  # a missing key, in the table (JSON and CSV have null)
HUNDRED = Decimal(100)

_HEADERS = {"sku": "SKU", "category": "Category", "channel": "Channel", "customer": "Customer",
            "region": "Region", "day": "Day", "week": "Week", "month": "Month"}
_ATTR = ("channel", "customer", "region")  # keys a return may take from its order's sale


# --- the observer ---------------------------------------------------------------------------


class Group(msgspec.Struct, gc=False):
    """The figures of one row; ``period`` and ``mark`` follow its trend (see Collector).
    Not tracked by the garbage collector (it holds no containers): a report by customer
    has hundreds of thousands of them."""

    key: Any
    gid: int
    units: Number = 0
    units_returned: Number = 0
    gross: Decimal = ZERO
    returns: Decimal = ZERO
    cogs: Decimal = ZERO
    orders: int = 0
    last_order: int = 0  # hash of the last order ref, shifted (see Orders)
    period: int = -1  # the trend period of its last event
    mark: Decimal = ZERO  # its figure (net sales or margin) at the start of that period

    def figure(self, margin: bool) -> Decimal:
        return self.gross - self.returns - self.cogs if margin else self.gross - self.returns


class Collector:
    """Observer: the sales and returns (and, for margin, COGS) of the period by group.

    ``start``: only events from this instant (the replay stops at the end). ``trend``: the
    period of the trend chart (None: no chart); a group's trend is its figure's change per
    period, taken when its events move on to another period. ``margin``: collect COGS too.
    """

    def __init__(self, ledger: Ledger, by: str, start: dt.datetime | None, *, need: set[int],
                 margin: bool = False, trend: str | None = None):
        self.by = by
        self.start = start
        self.margin = margin
        self.tz = ledger.settings.tz
        self.trend_unit = trend if by not in TIME_GROUPS else None  # a time row's chart is a bar
        self.prices = Prices(ledger)
        self.need = need
        self.category = {sku: it.category for sku, it in self.prices.items.items()}
        self.track_shorts = margin and by == "channel"
        self.reset()

    def reset(self) -> None:
        self.groups: dict[Any, Group] = {}
        self.sales = Sales(self.need)
        self.inside = self.start is None
        self.first_ts: dt.datetime | None = None  # of the first and last event of the period
        self.last_ts: dt.datetime | None = None
        self.orders = Orders()
        self.total_orders = 0
        self.last_order = 0
        self.clock = Clock(self.by, self.tz) if self.by in TIME_GROUPS else None
        self.trend_clock = Clock(self.trend_unit, self.tz) if self.trend_unit else None
        self.trend: dict[int, Decimal] = {}  # group index << 16 | trend period -> change
        self.shorts: dict[tuple[str, str], deque[list[Any]]] = {}  # margin by channel: units sold short
        self.bad_prices = 0

    # --- keys and trend ---

    def _group(self, key: Any) -> Group:
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = Group(key, len(self.groups))
        return g

    def _key(self, ev: Any, sale: list[Any] | None = None) -> Any:
        by = self.by
        if by == "sku":
            return ev.sku
        if by == "category":
            return self.category.get(ev.sku)
        if self.clock is not None:
            return self.clock.labels[self.clock(ev.ts)]
        own = getattr(ev, by, None)
        if own is None and sale is not None:
            own = sale[2 + _ATTR.index(by)]
        return own

    def _period(self, g: Group, ts: dt.datetime) -> None:
        """Before an event changes ``g``: if it falls in another trend period than the
        group's last one, book the change of the last one."""
        clock = self.trend_clock
        if clock is None:
            return
        p = clock(ts)
        if p != g.period:
            now = g.figure(self.margin)
            if g.period >= 0:
                self.trend[g.gid << 16 | g.period] = now - g.mark
            g.period, g.mark = p, now

    def finish(self) -> None:
        """Book the last trend period of every group."""
        for g in self.groups.values():
            if g.period >= 0:
                self.trend[g.gid << 16 | g.period] = g.figure(self.margin) - g.mark
                g.period = -1

    def _seen(self, ts: dt.datetime) -> None:
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts

    # --- events ---

    def __call__(self, state: State, ev: E.Event, src: Source, effects: list[Effect]) -> None:
        kind = type(ev)
        if not self.inside:
            if ev.ts < self.start:  # type: ignore[operator]
                if kind is E.Sold:
                    self._remember(ev)  # type: ignore[arg-type]
                if self.track_shorts:
                    self._shorts(state, ev, effects, ev.channel if kind is E.Sold else None)  # type: ignore[attr-defined]
                return
            self.inside = True
        if kind is E.Sold:
            self._sold(state, ev, effects)  # type: ignore[arg-type]
        elif kind is E.Returned:
            self._returned(state, ev, effects)  # type: ignore[arg-type]
        elif self.margin and effects:
            self._other(state, ev, effects)

    def _remember(self, ev: E.Sold) -> None:
        """A sale before the period: only what a later return may need from it."""
        if self.need and ev.order is not None:
            try:
                qty = qty_of(ev.qty)
                self.sales.sold(ev, qty, qty * self.prices(ev.price))
            except ValueError:
                pass

    def _sold(self, state: State, ev: E.Sold, effects: list[Effect]) -> None:
        # The hot path of the report (most events are sales): kept flat on purpose.
        qty: Any = ev.qty
        price = self.prices.cache.get(ev.price)
        try:
            if type(qty) is not int:
                qty = parse_qty(qty)
            if price is None:
                price = self.prices(ev.price)
        except ValueError:
            self.bad_prices += 1
            return
        amount = qty * price
        if self.need:
            self.sales.sold(ev, qty, amount)
        ts = ev.ts
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts
        key = ev.sku if self.by == "sku" else self._key(ev)
        g = self.groups.get(key)
        if g is None:
            g = self._group(key)
        if self.trend_clock is not None:
            self._period(g, ts)
        g.units += qty
        g.gross += amount
        if self.margin:
            g.cogs += effects[0].cogs if effects else ZERO
            if self.track_shorts:
                self._shorts(state, ev, effects, g.key)
        order = ev.order
        if order is None:
            g.orders += 1
            self.total_orders += 1
            return
        h = hash(order) << 32
        seen = self.orders
        if ts >= seen.until:
            seen.turn(ts)
        if h != g.last_order:
            g.last_order = h
            k = h | g.gid
            if k not in seen.recent:
                seen.recent.add(k)
                if k not in seen.older:
                    g.orders += 1
        if h != self.last_order:
            self.last_order = h
            k = h | Orders.TOTAL
            if k not in seen.recent:
                seen.recent.add(k)
                if k not in seen.older:
                    self.total_orders += 1

    def _returned(self, state: State, ev: E.Returned, effects: list[Effect]) -> None:
        sale = self.sales.of(ev)
        try:
            qty = qty_of(ev.qty)
            amount = qty * self.prices.refund(ev, sale)
        except ValueError:
            self.bad_prices += 1
            return
        self._seen(ev.ts)
        g = self._group(self._key(ev, sale))
        self._period(g, ev.ts)
        g.units_returned += qty
        g.returns += amount
        if self.margin and effects:
            g.cogs += effects[0].cogs  # negative when restocked: the cost goes back on the shelf
            if self.track_shorts:
                self._shorts(state, ev, effects, g.key, charge=False)

    def _other(self, state: State, ev: E.Event, effects: list[Effect]) -> None:
        """Receipts, counts, adjustments, transfers: their COGS is the true-up of negative stock."""
        if self.track_shorts:
            self._shorts(state, ev, effects, None)
            return
        for eff in effects:
            if eff.cogs:
                self._seen(ev.ts)
                g = self._group(eff.sku if self.by == "sku" else self.category.get(eff.sku))
                self._period(g, ev.ts)
                g.cogs += eff.cogs

    def _shorts(self, state: State, ev: E.Event, effects: list[Effect], key: Any, charge: bool = True) -> None:
        """Margin by channel: which channels sold each position short, and their true-ups.

        Units that leave a position below zero are queued with the channel that took them
        (None for anything but a sale); units that come in while it is below zero fill the
        queue oldest first, and their COGS true-up is shared by those channels in proportion
        to the units filled."""
        for eff in effects:
            if not eff.qty:
                continue
            pos = state.positions.get((eff.sku, eff.loc))
            if pos is None:
                continue
            after = pos.qty
            if eff.qty < 0:
                if after < 0:
                    q = self.shorts.setdefault((eff.sku, eff.loc), deque())
                    q.append([key if type(ev) is E.Sold else None, min(-eff.qty, -after)])
                continue
            before = after - eff.qty
            if before >= 0:
                continue
            filled = min(eff.qty, -before)
            q = self.shorts.get((eff.sku, eff.loc)) or deque()
            shares: list[tuple[Any, Number]] = []
            left = filled
            while left > 0 and q:
                head = q[0]
                take = min(head[1], left)
                shares.append((head[0], take))
                head[1] -= take
                left -= take
                if not head[1]:
                    q.popleft()
            if left > 0:
                shares.append((None, left))
            if not (self.inside and charge and eff.cogs):
                continue
            self._seen(ev.ts)
            for chan, units in shares:
                g = self._group(chan)
                self._period(g, ev.ts)
                g.cogs += eff.cogs * Decimal(units) / Decimal(filled)


# --- the reports ----------------------------------------------------------------------------


@dataclass
class _Range:
    first: dt.date | None
    last: dt.date | None

    def text(self) -> str:
        return f" {self.first.isoformat()} to {self.last.isoformat()}" if self.first and self.last else ""


def _guess_range(ledger: Ledger, start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.date, dt.date] | None:
    """The days a report will likely cover, before the replay: --from and --to, else the
    months of the first and last journal files (to pick the trend's period up front)."""
    from invctl.journal import file_month, list_files

    tz = ledger.settings.tz
    months = [m for m in (file_month(p) for p in list_files(ledger)) if m is not None]
    first = start.astimezone(tz).date() if start is not None else (dt.date(*months[0], 1) if months else None)
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date() if end is not None else (
        next_period("month", dt.date(*months[-1], 1)) - dt.timedelta(days=1) if months else None)
    if first is None or last is None or last < first:
        return None
    return first, last


def _collect(ledger: Ledger, by: str, start: dt.datetime | None, end: dt.datetime | None,
             margin: bool, chart: bool) -> tuple[Collector, State, _Range]:
    attr = by if by in _ATTR else None
    need = returns_needing_sales(ledger, attr)
    unit = None
    if chart:
        guess = _guess_range(ledger, start, end)
        unit = trend_unit(*guess) if guess else "month"
    col = Collector(ledger, by, start, need=need, margin=margin, trend=unit)
    state = replay(ledger, until=end, observer=col)
    col.finish()
    tz = ledger.settings.tz
    seen_first = col.first_ts.astimezone(tz).date() if col.first_ts is not None else None
    seen_last = col.last_ts.astimezone(tz).date() if col.last_ts is not None else None
    first = start.astimezone(tz).date() if start is not None else seen_first
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date() if end is not None else seen_last
    if first is not None and last is None:
        last = first
    if last is not None and first is None:
        first = last
    return col, state, _Range(first, last)


def _rows(col: Collector, rng: _Range, groups: list[Group], fill: Callable[[Group], dict[str, Any]],
          chart_key: str, for_table: bool, names: dict[str, str | None]) -> list[dict[str, Any]]:
    """Rows of ``groups`` with the grouping key, the figures from ``fill`` and (for a table)
    the trend chart."""
    by = col.by
    if by in TIME_GROUPS:
        # One row per period of the range, empty ones too, in time order; the chart is a bar.
        labels = periods(by, rng.first, rng.last) if rng.first and rng.last else []
        rows = [{by: label, **fill(col.groups.get(label) or Group(label, -1))} for label in labels]
        if for_table:
            top = max((float(r[chart_key]) for r in rows), default=0.0)
            for r in rows:
                r["trend"] = bar(float(r[chart_key]), top)
        return rows
    clock = col.trend_clock
    trends: dict[int, list[float]] = {}
    if clock is not None and rng.first and rng.last:
        labels = periods(clock.unit, rng.first, rng.last)
        at = {label: i for i, label in enumerate(labels)}
        index = [at.get(label) for label in clock.labels]
        for k, change in col.trend.items():
            gid, i = k >> 16, index[k & 0xFFFF]
            if i is not None:
                series = trends.get(gid)
                if series is None:
                    series = trends[gid] = [0.0] * len(labels)
                series[i] += float(change)
    rows = []
    for g in groups:
        row: dict[str, Any] = {by: NONE_LABEL if g.key is None and for_table else g.key}
        if by == "sku":
            row["name"] = names.get(g.key) if g.key is not None else None
        row.update(fill(g))
        if for_table:
            row["trend"] = sparkline(trends.get(g.gid, []))
        rows.append(row)
    return rows


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return part / whole * HUNDRED if whole else None


def _names(ledger: Ledger) -> dict[str, str | None]:
    try:
        return {sku: it.name for sku, it in ledger.catalog.items.items()}
    except Exception:
        return {}


def report_notes(prices: Prices, bad_prices: int, state: State) -> list[str]:
    from invctl.reports.stock import _notes as replay_notes

    notes = replay_notes(state)
    if prices.unvalued:
        notes.append(f"{prices.unvalued} returns have no refund, no sale of their order and no catalog price: "
                     "valued at 0")
    if bad_prices:
        notes.append(f"{bad_prices} sales or returns with an amount that is not a number are left out; "
                     "run `invctl check`")
    return notes


def _ordered(col: Collector, key: Callable[[Group], Any], limit: int | None) -> list[Group]:
    """The groups sorted (time groups: in time order, all of them), the first ``limit``."""
    if col.by in TIME_GROUPS:
        return list(col.groups.values())
    groups = sorted(col.groups.values(), key=lambda g: (key(g), g.key is None, g.key or ""))
    return groups if limit is None else groups[:limit]


def _trend_column(col: Collector, what: str) -> list[Column]:
    if col.by in TIME_GROUPS:
        return [Column("trend", "", wrap=False)]
    unit = col.trend_clock.unit if col.trend_clock is not None else "month"
    return [Column("trend", f"{ADVERB[unit]} {what}".strip(), wrap=False)]


def _sum(groups: list[Group], attr: str) -> Any:
    return sum((getattr(g, attr) for g in groups), ZERO if attr in ("gross", "returns", "cogs") else 0)


def cut_note(shown: int, rows: int, what: str) -> str:
    return (f"the table shows the first {shown} of {rows} {what}; --limit N shows more, "
            "--format csv all of them")


def sales_report(ledger: Ledger, *, by: str = "sku", start: dt.datetime | None = None,
                 end: dt.datetime | None = None, for_table: bool = False, limit: int | None = None,
                 table_rows: int | None = None) -> Report:
    """Sales over [start, end) by ``by``. ``for_table``: add the trend chart and label missing
    keys "(none)" (JSON and CSV have no chart, and null for a missing key). ``limit``: the
    first rows only (by net sales; time groups: the first periods); totals cover all.
    ``table_rows``: without ``limit``, show at most this many and say so in a note."""
    if by not in GROUPS:
        raise ValueError(f"by {by!r}")
    col, state, rng = _collect(ledger, by, start, end, margin=False, chart=for_table)
    notes = report_notes(col.prices, col.bad_prices, state)
    if limit is None and table_rows is not None and len(col.groups) > table_rows:
        limit = table_rows
        notes.append(cut_note(limit, len(col.groups), f"{by} rows"))
    everything = list(col.groups.values())
    gross, returns = _sum(everything, "gross"), _sum(everything, "returns")
    total_net = gross - returns

    def fill(g: Group) -> dict[str, Any]:
        net = g.gross - g.returns
        return {"units": g.units, "units_returned": g.units_returned, "gross_sales": g.gross,
                "returns": g.returns, "net_sales": net, "orders": g.orders,
                "return_rate": _pct(g.returns, g.gross), "share": _pct(net, total_net)}

    groups = _ordered(col, lambda g: -(g.gross - g.returns), limit)
    rows = _rows(col, rng, groups, fill, "net_sales", for_table, _names(ledger))
    totals: dict[str, Any] = {
        by: "Total", "units": _sum(everything, "units"), "units_returned": _sum(everything, "units_returned"),
        "gross_sales": gross, "returns": returns, "net_sales": total_net, "orders": col.total_orders,
        "return_rate": _pct(returns, gross), "share": HUNDRED if total_net else None,
    }
    columns = [Column(by, _HEADERS[by], wrap=False)]
    if by == "sku":
        columns.append(Column("name", "Name"))
    columns += [
        Column("units", "Units", "qty"),
        Column("units_returned", "Returned", "qty", table=False),
        Column("gross_sales", "Gross", "money"),
        Column("returns", "Returns", "money"),
        Column("net_sales", "Net sales", "money"),
        Column("orders", "Orders", "int"),
        Column("return_rate", "Ret. %", "pct"),
        Column("share", "Share", "pct"),
    ]
    if for_table:
        columns += _trend_column(col, "")
    if limit is not None and by in TIME_GROUPS:
        rows = rows[:limit]
    return Report(f"Sales by {by}{rng.text()}", columns, rows, totals=totals, notes=notes)


def margin_report(ledger: Ledger, *, by: str = "sku", start: dt.datetime | None = None,
                  end: dt.datetime | None = None, for_table: bool = False, limit: int | None = None) -> Report:
    """Margin over [start, end) by ``by`` (sku, category or channel), after returns."""
    if by not in MARGIN_GROUPS:
        raise ValueError(f"by {by!r}")
    col, state, rng = _collect(ledger, by, start, end, margin=True, chart=for_table)
    everything = list(col.groups.values())

    def fill(g: Group) -> dict[str, Any]:
        net = g.gross - g.returns
        return {"units": g.units, "units_returned": g.units_returned, "gross_sales": g.gross,
                "returns": g.returns, "net_sales": net, "cogs": g.cogs, "margin": net - g.cogs,
                "margin_pct": _pct(net - g.cogs, net)}

    groups = _ordered(col, lambda g: (-(g.gross - g.returns), -(g.gross - g.returns - g.cogs)), limit)
    rows = _rows(col, rng, groups, fill, "margin", for_table, _names(ledger))
    gross, returns, cogs = _sum(everything, "gross"), _sum(everything, "returns"), _sum(everything, "cogs")
    net = gross - returns
    totals: dict[str, Any] = {
        by: "Total", "units": _sum(everything, "units"), "units_returned": _sum(everything, "units_returned"),
        "gross_sales": gross, "returns": returns, "net_sales": net, "cogs": cogs, "margin": net - cogs,
        "margin_pct": _pct(net - cogs, net),
    }
    columns = [Column(by, _HEADERS[by], wrap=False)]
    if by == "sku":
        columns.append(Column("name", "Name"))
    columns += [
        Column("units", "Units", "qty"),
        Column("units_returned", "Returned", "qty", table=False),
        Column("gross_sales", "Gross", "money", table=False),
        Column("returns", "Returns", "money", table=False),
        Column("net_sales", "Net sales", "money"),
        Column("cogs", "COGS", "money"),
        Column("margin", "Margin", "money"),
        Column("margin_pct", "Margin %", "pct"),
    ]
    if for_table:
        columns += _trend_column(col, "margin")
    return Report(f"Margin by {by}{rng.text()}", columns, rows, totals=totals,
                  notes=report_notes(col.prices, col.bad_prices, state))
