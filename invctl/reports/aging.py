"""Stock age (`report aging`) and lots by expiry (`report expiry`), from the cost layers on
hand at ``--as-of`` (the cached state without it).

Aging: the value of each (SKU, location) by the age of its layers, in days from the local day
a layer came in (its receipt; a transfer keeps the original date, a restocked return or a
count surplus is new on its day) to the as-of day: 0-30, 31-60, 61-90 and over 90 days.
Negative stock has no layers and no age ("unaged"). Dead stock: a position with stock on
hand that has not sold for ``dead_days`` days (its last sale at that location was that many
days or more before the as-of day, or it never sold there) while it held stock that long
(its oldest layer is at least that old).

Expiry: the lots with an expiry date, per (SKU, location, lot, expiry), by horizon: expired
(the date is before the as-of day; a lot is still good on its expiry date), within 7, 30 or
90 days, or later. Quantity and value (as `report valuation --layers` values layers).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from invctl.costing import ZERO
from invctl.numbers import Number
from invctl.replay import State, replay
from invctl.reports import Column, Report
from invctl.reports.valuation import (
    as_of_day,
    dated,
    known_category,
    known_loc,
    local_day,
    share,
    valued_layers,
)
from invctl.settings import Ledger

BUCKETS = (("age_0_30", 30), ("age_31_60", 60), ("age_61_90", 90), ("age_over_90", None))

AGING_COLUMNS = [
    Column("sku", "SKU", wrap=False),
    Column("name", "Name", table=False),
    Column("category", "Category", table=False),
    Column("loc", "Loc"),
    Column("on_hand", "On hand", "qty"),
    Column("value", "Value", "money"),
    Column("age_0_30", "0-30 d", "money"),
    Column("age_31_60", "31-60 d", "money"),
    Column("age_61_90", "61-90 d", "money"),
    Column("age_over_90", "> 90 d", "money"),
    Column("unaged", "Unaged", "money", table=False),
    Column("avg_age_days", "Avg age", "qty"),
    Column("oldest", "Oldest", "date", table=False),
    Column("last_sold", "Last sold", "date"),
    Column("days_since_sale", "Days unsold", "int", table=False),
    Column("dead", "Dead", "bool"),
    Column("dead_value", "Dead value", "money"),
]

HORIZONS = (("expired", -1), ("<=7d", 7), ("<=30d", 30), ("<=90d", 90), ("later", None))

EXPIRY_COLUMNS = [
    Column("sku", "SKU", wrap=False),
    Column("name", "Name", table=False),
    Column("loc", "Loc"),
    Column("lot", "Lot", wrap=False),
    Column("expires", "Expires", "date"),
    Column("days_left", "Days left", "int"),
    Column("horizon", "Horizon", wrap=False),
    Column("qty", "Qty", "qty"),
    Column("value", "Value", "money"),
]

EXPIRY_SUMMARY_COLUMNS = [
    Column("horizon", "Horizon", wrap=False),
    Column("lots", "Lots", "int"),
    Column("skus", "SKUs", "int"),
    Column("qty", "Qty", "qty"),
    Column("value", "Value", "money"),
    Column("share", "Share", "pct"),
]


def bucket(age: int) -> str:
    for key, limit in BUCKETS:
        if limit is None or age <= limit:
            return key
    raise AssertionError  # the last bucket has no limit


def horizon(days_left: int) -> str:
    for key, limit in HORIZONS:
        if limit is None or days_left <= limit:
            return key
    raise AssertionError


def aging_report(ledger: Ledger, *, as_of: dt.datetime | None = None, dead_days: int = 90,
                 loc: str | None = None, category: str | None = None, dead_only: bool = False,
                 state: State | None = None) -> Report:
    """Value by layer age per (SKU, location) at ``as_of`` (exclusive instant; default now)."""
    from invctl.reports.stock import _notes

    if state is None:
        state = replay(ledger, until=as_of)
    known_loc(ledger, state, loc)
    known_category(ledger, category)
    tz = ledger.settings.tz
    items = ledger.catalog.items
    day = as_of_day(ledger, as_of)
    rows = []
    totals: dict[str, Any] = {k: ZERO for k in ("value", "unaged", "dead_value", *(b for b, _ in BUCKETS))}
    totals["on_hand"] = 0
    for (sku, where), pos in sorted(state.positions.items()):
        if (loc and where != loc) or (pos.qty == 0 and pos.value == 0):
            continue
        item = items.get(sku)
        if category is not None and (item is None or item.category != category):
            continue
        valued, _, unaged = valued_layers(pos, state.average)
        row: dict[str, Any] = {"sku": sku, "name": item.name if item else "(not in catalog)",
                               "category": item.category if item else None, "loc": where,
                               "on_hand": pos.qty, "value": pos.value, "unaged": unaged}
        row.update({b: ZERO for b, _ in BUCKETS})
        oldest: dt.date | None = None
        qty_days: Number = 0
        qty: Number = 0
        for la, value in valued:
            came = local_day(la.ts, tz)
            age = max((day - came).days, 0)
            row[bucket(age)] += value
            qty_days += la.qty * age
            qty += la.qty
            if oldest is None or came < oldest:
                oldest = came
        last = local_day(pos.last_sold, tz) if pos.last_sold is not None else None
        unsold = (day - last).days if last is not None else None
        held = (day - oldest).days if oldest is not None else 0
        dead = pos.qty > 0 and held >= dead_days and (unsold is None or unsold >= dead_days)
        row.update({
            "avg_age_days": (Decimal(qty_days) / Decimal(qty)).quantize(Decimal("0.1")) if qty else None,
            "oldest": oldest,
            "last_sold": last,
            "days_since_sale": unsold,
            "dead": dead,
            "dead_value": pos.value if dead else ZERO,
        })
        if dead_only and not dead:
            continue
        rows.append(row)
        for key in totals:
            totals[key] += row[key]
    notes = _notes(state)
    if totals["unaged"]:
        notes.append("negative stock has no layers and no age: its value is in the unaged column (JSON, CSV)")
    title = dated(f"Stock aging (dead: unsold {dead_days} days)", as_of, day)
    return Report(title, AGING_COLUMNS, rows, totals=totals, notes=notes)


def expiry_report(ledger: Ledger, *, as_of: dt.datetime | None = None, within: int | None = None,
                  loc: str | None = None, category: str | None = None, summary: bool = False,
                  state: State | None = None) -> Report:
    """Lots with an expiry date on hand at ``as_of``, soonest first; ``within``: only those
    expiring within that many days (the expired ones included); ``summary``: one row per
    horizon instead."""
    from invctl.reports.stock import _notes

    if state is None:
        state = replay(ledger, until=as_of)
    known_loc(ledger, state, loc)
    known_category(ledger, category)
    items = ledger.catalog.items
    day = as_of_day(ledger, as_of)
    lots: dict[tuple[str, str, str | None, dt.date], dict[str, Any]] = {}
    for (sku, where), pos in state.positions.items():
        if loc and where != loc:
            continue
        item = items.get(sku)
        if category is not None and (item is None or item.category != category):
            continue
        valued, _, _ = valued_layers(pos, state.average)
        for la, value in valued:
            if la.expires is None:
                continue
            left = (la.expires - day).days
            if within is not None and left > within:
                continue
            key = (sku, where, la.lot, la.expires)
            row = lots.get(key)
            if row is None:
                row = lots[key] = {"sku": sku, "name": item.name if item else "(not in catalog)", "loc": where,
                                   "lot": la.lot, "expires": la.expires, "days_left": left,
                                   "horizon": horizon(left), "qty": 0, "value": ZERO}
            row["qty"] += la.qty
            row["value"] += value
    rows = [lots[k] for k in sorted(lots, key=lambda k: (k[3], k[0], k[1], k[2] or ""))]
    total_qty: Number = sum((r["qty"] for r in rows), 0)
    total = sum((r["value"] for r in rows), ZERO)
    span = f" expiring within {within} days" if within is not None else ""
    title = dated(f"Lots{span}", as_of, day)
    notes = _notes(state)
    if not summary:
        return Report(title, EXPIRY_COLUMNS, rows, totals={"qty": total_qty, "value": total}, notes=notes)
    out = []
    for name, _ in HORIZONS:
        these = [r for r in rows if r["horizon"] == name]
        if within is not None and not these:
            continue
        value = sum((r["value"] for r in these), ZERO)
        out.append({"horizon": name, "lots": len(these), "skus": len({r["sku"] for r in these}),
                    "qty": sum((r["qty"] for r in these), 0), "value": value, "share": share(value, total)})
    totals = {"lots": len(rows), "skus": len({r["sku"] for r in rows}), "qty": total_qty, "value": total,
              "share": share(total, total)}
    return Report(f"{title} by horizon", EXPIRY_SUMMARY_COLUMNS, out, totals=totals, notes=notes)
