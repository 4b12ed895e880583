"""Shrinkage (`report shrinkage`): count variances and write-offs in a period, in units and value.

- A count variance is what a `counted` event changed: the counted quantity minus the replayed
  one (negative = shrinkage, positive = a surplus), valued as the replay valued it (the
  layers a shortfall took out; a surplus at the current unit cost). A count that matched
  changes nothing and is not listed. Its reason is ``count``.
- A write-off is an `adjusted` event with a negative quantity, valued at the layers it took
  out, under its own reason (damaged, expired, lost, theft, ...). Positive adjustments
  (found, ...) are not shrinkage and are left out.

Both are the replay's own effects of those events (quantity and change of stock value), so
the figures add up with `stock`. Events are taken from ``--from`` to ``--to``; the stock they
act on is replayed from the start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from invctl import events as E
from invctl.costing import ZERO
from invctl.numbers import Number
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

By = Literal["reason", "sku", "month"]
COUNT = "count"

_KEYS: dict[str, list[Column]] = {
    "reason": [Column("reason", "Reason")],
    "sku": [Column("sku", "SKU", wrap=False), Column("name", "Name"), Column("category", "Category", table=False)],
    "month": [Column("month", "Month", wrap=False)],
}
_FIGURES = [
    Column("events", "Events", "int"),
    Column("count_qty", "Count units", "qty"),
    Column("count_value", "Count value", "money"),
    Column("written_off_qty", "Written off", "qty"),
    Column("written_off_value", "Write-off value", "money"),
    Column("qty", "Units", "qty"),
    Column("value", "Value", "money"),
    Column("share", "Share", "pct"),
]
_SUMS = ("events", "count_qty", "count_value", "written_off_qty", "written_off_value", "qty", "value")

_COUNTED = (E.Counted, E.LEAN[E.Counted])
_ADJUSTED = (E.Adjusted, E.LEAN[E.Adjusted])
_WATCHED = frozenset(_COUNTED + _ADJUSTED)


@dataclass
class _Losses:
    """Observer: the count variances and write-offs in the period, one line per event."""

    start: dt.datetime | None
    tz: dt.tzinfo
    lines: list[tuple[str, str, str, Number, Decimal]] = field(default_factory=list)  # kind, sku, month, qty, value

    def reset(self) -> None:
        self.lines.clear()

    def __call__(self, state: State, ev: Any, src: Source, effects: list[Effect]) -> None:
        kind = type(ev)
        if kind not in _WATCHED:
            return
        reason = COUNT if kind in _COUNTED else ev.reason
        if self.start is not None and ev.ts < self.start:
            return
        qty: Number = sum((fx.qty for fx in effects), 0)
        if reason != COUNT and qty >= 0:
            return  # found, ...: not shrinkage
        if qty == 0:
            return  # a count that matched
        value = sum((fx.value for fx in effects), ZERO)
        month = ev.ts.astimezone(self.tz).strftime("%Y-%m")
        self.lines.append((reason, ev.sku, month, qty, value))


def shrinkage_report(ledger: Ledger, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
                     by: By = "reason") -> Report:
    """Count variances and write-offs of the events in [start, end) (``end``: the instant to
    replay up to), grouped by reason, SKU or month."""
    from invctl.reports.stock import _notes
    from invctl.reports.turnover import period_title, utc

    tz = ledger.settings.tz
    losses = _Losses(utc(start), tz)
    state = replay(ledger, until=utc(end), observer=losses, full=False)
    items = ledger.catalog.items
    groups: dict[str, dict[str, Any]] = {}
    for reason, sku, month, qty, value in losses.lines:
        key = reason if by == "reason" else sku if by == "sku" else month
        g = groups.get(key)
        if g is None:
            if by == "sku":
                item = items.get(sku)
                head = {"sku": sku, "name": item.name if item else "(not in catalog)",
                        "category": item.category if item else None}
            else:
                head = {by: key}
            g = groups[key] = {**head, **{k: 0 if k == "events" or k.endswith("qty") else ZERO for k in _SUMS}}
        part = "count" if reason == COUNT else "written_off"
        g["events"] += 1
        g[f"{part}_qty"] += qty
        g[f"{part}_value"] += value
        g["qty"] += qty
        g["value"] += value
    totals: dict[str, Any] = {k: sum((g[k] for g in groups.values()), 0 if k == "events" or k.endswith("qty") else ZERO)
                              for k in _SUMS}
    loss = totals["value"]
    for g in groups.values():
        g["share"] = g["value"] / loss * 100 if loss else None
    if by == "month":
        rows = [groups[k] for k in sorted(groups)]
    else:  # the biggest loss first
        rows = sorted(groups.values(), key=lambda g: (g["value"], g[by if by == "reason" else "sku"]))
    totals["share"] = Decimal(100) if loss else None
    title = f"Shrinkage by {by}{period_title(ledger, start, end)}"
    columns = _KEYS[by] + _FIGURES
    if by == "reason":  # a reason is either counts or write-offs: the split says nothing
        columns = _KEYS[by] + [Column(c.key, c.header, c.kind, table=False) if c.key.startswith(("count_", "written_off_"))
                               else c for c in _FIGURES]
    return Report(title, columns, rows, totals=totals, notes=_notes(state))
