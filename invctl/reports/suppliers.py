"""The supplier scorecard (`report suppliers`): how each supplier fills, how fast and how
punctually, at what price trend, and how much of what it sent was defective.

Definitions (docs/purchasing.md explains them with an example):

- PO figures (``pos``, ``lines``, ``ordered`` ... ``lead_time_*``) are over the PO lines
  *placed* in the period (all lines without ``--from``/``--to``), as they stand at its end.
- ``fill_rate``: over closed lines (nothing outstanding: fully received, or the rest
  cancelled), the units received (at most the units ordered, per line) ÷ units ordered.
- ``on_time_rate``: over the lines with an expected date that are due (closed with something
  received, or still open after their expected date), the share settled (the last receipt or
  cancellation that left nothing outstanding) by the end of the expected day.
- ``lead_time_*``: days from order date to last receipt, over the closed lines that received
  something (:func:`invctl.purchasing.lead_days`); mean, sample σ and how many lines.
- Receipt figures (``received_units``, ``spend``, ``price_trend``, ``defect_rate``) are over
  the `received` events *in* the period from that supplier (its ``supplier`` key, else the
  supplier of its PO line), with or without a PO.
- ``price_trend``: per SKU, last received unit cost ÷ average received unit cost − 1; per
  supplier, what the units received would have cost at each SKU's last cost ÷ what they
  cost − 1.
- ``defective`` / ``defect_rate``: units written off with reason ``defective`` in the period
  ÷ ``received_units``. An adjustment is charged to the supplier of its lot when its line
  names a ``lot`` received from a known supplier, else to the supplier of the SKU's last
  receipt before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from invctl import events as E
from invctl.costing import ZERO
from invctl.fold import POLine
from invctl.numbers import Number, parse_money, parse_qty, qty_str
from invctl.purchasing import lead_days, mean_std
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

By = Literal["supplier", "sku"]
HUNDRED = Decimal(100)

COLUMNS = [
    Column("supplier", "Supplier", wrap=False),
    Column("name", "Name", table=False),
    Column("sku", "SKU", wrap=False),
    Column("pos", "POs", "int"),
    Column("lines", "Lines", "int"),
    Column("ordered", "Ordered", "qty", table=False),
    Column("received", "Received", "qty", table=False),
    Column("cancelled", "Cancelled", "qty", table=False),
    Column("outstanding", "Outstanding", "qty", table=False),
    Column("fill_rate", "Fill", "pct"),
    Column("on_time_rate", "On time", "pct"),
    Column("late", "Late", "int", table=False),
    Column("lead_time_days", "Lead", "qty"),
    Column("lead_time_sd", "σ", "qty"),
    Column("lead_time_n", "n", "int", table=False),
    Column("received_units", "Units", "qty"),
    Column("spend", "Spend", "money"),
    Column("avg_cost", "Avg cost", "money", table=False),
    Column("last_cost", "Last cost", "money", table=False),
    Column("price_trend", "Price", "pct"),
    Column("defective", "Defective", "qty", table=False),
    Column("defect_rate", "Defects", "pct"),
]
SORT_KEYS = tuple(c.key for c in COLUMNS)


@dataclass
class _Buy:
    """Receipts of one SKU from one supplier in the period."""

    units: Number = 0
    value: Decimal = ZERO
    last_cost: Decimal | None = None
    defective: Number = 0


@dataclass
class _Scorecard:
    """Observer: when each PO line was settled, receipts and defective write-offs by supplier."""

    start: dt.datetime | None
    closed_at: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    buys: dict[tuple[str, str], _Buy] = field(default_factory=dict)
    lot_supplier: dict[tuple[str, str], str] = field(default_factory=dict)
    last_supplier: dict[str, str] = field(default_factory=dict)
    unattributed: Number = 0

    def reset(self) -> None:
        self.closed_at.clear()
        self.buys.clear()
        self.lot_supplier.clear()
        self.last_supplier.clear()
        self.unattributed = 0

    def _buy(self, supplier: str, sku: str) -> _Buy:
        buy = self.buys.get((supplier, sku))
        if buy is None:
            buy = self.buys[(supplier, sku)] = _Buy()
        return buy

    def __call__(self, state: State, ev: E.Event, src: Source, effects: list[Effect]) -> None:
        po = getattr(ev, "po", None)
        if po is not None:
            key = (po, getattr(ev, "sku", ""))
            line = state.po_lines.get(key)
            if line is not None:
                if line.outstanding:
                    self.closed_at.pop(key, None)  # open again (more ordered)
                elif key not in self.closed_at:
                    self.closed_at[key] = ev.ts
        inside = self.start is None or ev.ts >= self.start
        if isinstance(ev, E.Received):
            supplier = ev.supplier
            if supplier is None and ev.po is not None:
                line = state.po_lines.get((ev.po, ev.sku))
                supplier = line.supplier if line is not None else None
            if supplier is None:
                return
            self.last_supplier[ev.sku] = supplier
            if ev.lot is not None:
                self.lot_supplier[(ev.sku, ev.lot)] = supplier
            if inside:
                qty, cost = parse_qty(ev.qty), parse_money(ev.cost)
                buy = self._buy(supplier, ev.sku)
                buy.units += qty
                buy.value += qty * cost
                buy.last_cost = cost
        elif isinstance(ev, E.Adjusted) and ev.reason == "defective" and inside:
            qty = parse_qty(ev.qty)
            if qty >= 0:
                return  # only write-offs count
            supplier = self.lot_supplier.get((ev.sku, ev.lot)) if ev.lot is not None else None
            if supplier is None:
                supplier = self.last_supplier.get(ev.sku)
            if supplier is None:
                self.unattributed += -qty
            else:
                self._buy(supplier, ev.sku).defective += -qty


def _pct(part: Number | Decimal, whole: Number | Decimal) -> Decimal | None:
    return Decimal(part) / Decimal(whole) * HUNDRED if whole else None


def _trend(now: Decimal, then: Decimal) -> Decimal | None:
    """now ÷ then − 1 in percent, to 0.1 (so that a tiny fall is 0.0, not -0.0)."""
    if not then:
        return None
    pct = ((now / then - 1) * HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return pct.copy_abs() if pct == 0 else pct


def _days(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


def _row(lines: list[POLine], buys: list[_Buy], card: _Scorecard, today: dt.date, tz: dt.tzinfo) -> dict[str, Any]:
    closed = [x for x in lines if not x.outstanding]
    filled: Number = sum((min(x.received, x.ordered) for x in closed), 0)
    ordered_closed: Number = sum((x.ordered for x in closed), 0)
    due = on_time = 0
    for x in lines:
        if x.expected is None:
            continue
        if x.outstanding:
            if x.expected < today:
                due += 1  # open after its expected day: late
            continue
        if not x.received:
            continue  # cancelled with nothing received: no delivery to judge
        due += 1
        settled = card.closed_at.get((x.po, x.sku))
        if settled is not None and settled.astimezone(tz).date() <= x.expected:
            on_time += 1
    days = [d for d in (lead_days(x, tz) for x in lines) if d is not None]
    mean, sd = mean_std(days) if days else (None, None)
    units: Number = sum((b.units for b in buys), 0)
    spend = sum((b.value for b in buys), ZERO)
    at_last = sum((b.units * b.last_cost for b in buys if b.last_cost is not None), ZERO)
    defective: Number = sum((b.defective for b in buys), 0)
    return {
        "pos": len({x.po for x in lines}),
        "lines": len(lines),
        "ordered": sum((x.ordered for x in lines), 0),
        "received": sum((x.received for x in lines), 0),
        "cancelled": sum((x.cancelled for x in lines), 0),
        "outstanding": sum((x.outstanding for x in lines), 0),
        "fill_rate": _pct(filled, ordered_closed),
        "on_time_rate": _pct(on_time, due),
        "late": due - on_time,
        "lead_time_days": _days(mean) if mean is not None else None,
        "lead_time_sd": _days(sd) if sd is not None else None,
        "lead_time_n": len(days),
        "received_units": units,
        "spend": spend,
        "price_trend": _trend(at_last, spend),
        "defective": defective,
        "defect_rate": _pct(defective, units),
    }


def scorecard_report(ledger: Ledger, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
                     by: By = "supplier", sort: str = "supplier", reverse: bool = False) -> Report:
    """The scorecard over [start, end): ``end`` is the instant to replay up to."""
    tz = ledger.settings.tz
    card = _Scorecard(start)
    state = replay(ledger, until=end, observer=card)
    today = (end - dt.timedelta(microseconds=1) if end else dt.datetime.now(tz)).date()
    suppliers = ledger.catalog.suppliers

    lines: dict[tuple[str, str], list[POLine]] = {}
    for x in state.po_lines.values():
        if x.supplier is None or x.placed is None:
            continue
        if (start is not None and x.placed < start) or (end is not None and x.placed >= end):
            continue
        lines.setdefault((x.supplier, x.sku), []).append(x)

    groups: dict[tuple[str, str | None], tuple[list[POLine], list[_Buy]]] = {}
    if by == "supplier":
        for sid in suppliers:
            groups[(sid, None)] = ([], [])
    for (sid, item), found in lines.items():
        groups.setdefault((sid, item if by == "sku" else None), ([], []))[0].extend(found)
    for (sid, item), buy in card.buys.items():
        groups.setdefault((sid, item if by == "sku" else None), ([], []))[1].append(buy)

    rows = []
    for (sid, sku), (group_lines, buys) in groups.items():
        row: dict[str, Any] = {"supplier": sid, "name": suppliers[sid].name if sid in suppliers else None, "sku": sku}
        row.update(_row(group_lines, buys, card, today, tz))
        if by == "sku" and buys:
            row["avg_cost"] = row["spend"] / row["received_units"] if row["received_units"] else None
            row["last_cost"] = buys[0].last_cost
        rows.append(row)

    rows.sort(key=lambda r: (r["supplier"], r["sku"] or ""))
    if sort not in ("supplier",):
        present = [r for r in rows if r.get(sort) is not None]
        missing = [r for r in rows if r.get(sort) is None]
        present.sort(key=lambda r: r[sort], reverse=reverse)
        rows = present + missing
    elif reverse:
        rows.reverse()

    if by == "sku":  # the SKU takes the place of POs and spend in the table (JSON has them all)
        columns = [Column(c.key, c.header, c.kind, table=False) if c.key in ("pos", "spend") else c for c in COLUMNS]
    else:
        columns = [c for c in COLUMNS if c.key not in ("sku", "avg_cost", "last_cost")]
    period = ""
    if start is not None or end is not None:
        first = start.astimezone(tz).date().isoformat() if start else "start"
        period = f" {first} to {today.isoformat()}"
    notes = []
    if card.unattributed:
        notes.append(f"{qty_str(card.unattributed)} defective units of SKUs never received from a known supplier "
                     "are not charged to anyone")
    from invctl.reports.stock import _notes

    notes += _notes(state)
    return Report(f"Supplier scorecard{period}", columns, rows, notes=notes)
