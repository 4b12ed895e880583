"""Stock valuation (`report valuation`): quantity, unit cost and value per SKU, category or
location, or every cost layer on hand (lot, expiry, date received, quantity, unit cost, value).

Read from the replayed state at ``--as-of`` (the cached state without it), so its values are
exactly those of `invctl stock`. Layers are valued at their own cost with FIFO costing, and at
the position's moving average with average costing (the layers then only say which lots the
units are in). Negative stock has no layers: its quantity and the value booked for it show as
a row of its own ("negative"), so the layers of a position always add up to its value.

Also the helpers the other stock-side reports share: the valued layers of a position, the day
an ``--as-of`` instant ends, and the report title's date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from invctl.costing import ZERO, Layer, Position
from invctl.errors import Refused
from invctl.numbers import Number
from invctl.replay import State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

By = Literal["sku", "category", "location"]
HUNDRED = Decimal(100)

_KEYS: dict[str, list[Column]] = {
    "sku": [Column("sku", "SKU", wrap=False), Column("name", "Name"), Column("category", "Category", table=False)],
    "category": [Column("category", "Category")],
    "location": [Column("loc", "Loc")],
}
_FIGURES = [
    Column("skus", "SKUs", "int"),
    Column("on_hand", "On hand", "qty"),
    Column("unit_cost", "Unit cost", "money"),
    Column("value", "Value", "money"),
    Column("share", "Share", "pct"),
]
LAYER_COLUMNS = [
    Column("sku", "SKU", wrap=False),
    Column("name", "Name", table=False),
    Column("loc", "Loc"),
    Column("lot", "Lot", wrap=False),
    Column("expires", "Expires", "date"),
    Column("received", "Received", "date"),
    Column("qty", "Qty", "qty"),
    Column("unit_cost", "Unit cost", "money"),
    Column("value", "Value", "money"),
    Column("note", "Note"),
]


# --- shared by the stock-side reports ------------------------------------------------------


def as_of_day(ledger: Ledger, as_of: dt.datetime | None) -> dt.date:
    """The local day an ``--as-of`` instant (exclusive) ends, or today."""
    tz = ledger.settings.tz
    if as_of is None:
        return dt.datetime.now(tz).date()
    return (as_of - dt.timedelta(microseconds=1)).astimezone(tz).date()


def local_day(ts: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return ts.astimezone(tz).date()


def valued_layers(pos: Position, average: bool) -> tuple[list[tuple[Layer, Decimal]], Number, Decimal]:
    """The layers on hand with their values, and what the layers leave out (quantity, value):
    negative stock, which has no layers. FIFO values a layer at its own cost; average costing
    at the position's average, the last layer taking the remainder so the values add up."""
    layers = pos.layers
    if average and pos.qty > 0:
        unit = pos.value / pos.qty
        out = [(la, la.qty * unit) for la in layers]
        if out and sum((la.qty for la in layers), 0) == pos.qty:
            rest = pos.value - sum((v for _, v in out[:-1]), ZERO)
            out[-1] = (out[-1][0], rest)
    else:
        out = [(la, la.qty * la.cost) for la in layers]
    qty: Number = pos.qty - sum((la.qty for la in layers), 0)
    value = pos.value - sum((v for _, v in out), ZERO)
    return out, qty, value


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    return part / whole * HUNDRED if whole else None


def known_loc(ledger: Ledger, state: State, loc: str | None) -> None:
    """Refuse a --loc that is neither listed in invctl.toml nor found in the journal."""
    if loc and loc not in ledger.settings.locations and not any(k[1] == loc for k in state.positions):
        listed = ", ".join(ledger.settings.locations)
        raise Refused(f"--loc {loc!r} is not a location of this ledger (locations = [{listed}] in invctl.toml)")


def known_category(ledger: Ledger, category: str | None) -> None:
    items = ledger.catalog.items.values()
    if category is not None and not any(it.category == category for it in items):
        known = sorted({it.category for it in items if it.category})
        raise Refused(f"no item has category {category!r}; categories: {', '.join(known) or '(none set)'}")


def dated(title: str, as_of: dt.datetime | None, day: dt.date) -> str:
    return title + (f" as of {day.isoformat()}" if as_of is not None else "")


# --- the report ------------------------------------------------------------------------------


def valuation_report(ledger: Ledger, *, as_of: dt.datetime | None = None, by: By = "sku",
                     layers: bool = False, loc: str | None = None, category: str | None = None,
                     state: State | None = None) -> Report:
    """Stock value at ``as_of`` (the instant to replay up to, exclusive; default: now).

    Rows are the SKUs (or categories, or locations) with stock or value; ``layers``: one row
    per cost layer of each (SKU, location) instead."""
    from invctl.reports.stock import _notes

    if state is None:
        state = replay(ledger, until=as_of)
    known_loc(ledger, state, loc)
    known_category(ledger, category)
    items = ledger.catalog.items
    day = as_of_day(ledger, as_of)

    positions = []
    for (sku, where), pos in sorted(state.positions.items()):
        if loc and where != loc:
            continue
        item = items.get(sku)
        if category is not None and (item is None or item.category != category):
            continue
        if pos.qty == 0 and pos.value == 0:
            continue
        positions.append(pos)
    total = sum((p.value for p in positions), ZERO)
    total_qty: Number = sum((p.qty for p in positions), 0)
    notes = _notes(state)
    if any(p.qty < 0 for p in positions):
        notes.append("some stock is negative (see `invctl check`): its value is an estimate until the missing "
                     "receipt or a count is recorded")

    if layers:
        rows = _layer_rows(state, positions, items)
        return Report(dated("Cost layers", as_of, day), LAYER_COLUMNS, rows,
                      totals={"qty": total_qty, "value": total}, notes=notes)

    groups: dict[Any, dict[str, Any]] = {}
    for pos in positions:
        item = items.get(pos.sku)
        if by == "sku":
            key: Any = pos.sku
            head = {"sku": pos.sku, "name": item.name if item else "(not in catalog)",
                    "category": item.category if item else None}
        elif by == "category":
            key = item.category if item else None
            head = {"category": key}
        else:
            key = pos.loc
            head = {"loc": key}
        g = groups.get(key)
        if g is None:
            g = groups[key] = {**head, "_skus": set(), "on_hand": 0, "value": ZERO}
        g["_skus"].add(pos.sku)
        g["on_hand"] += pos.qty
        g["value"] += pos.value
    rows = []
    for key in sorted(groups, key=lambda k: (k is None, k or "")):
        g = groups[key]
        g["skus"] = len(g.pop("_skus"))
        g["unit_cost"] = g["value"] / g["on_hand"] if g["on_hand"] > 0 else None
        g["share"] = share(g["value"], total)
        rows.append(g)
    columns = _KEYS[by] + [c for c in _FIGURES if not (by == "sku" and c.key == "skus")]
    totals: dict[str, Any] = {"on_hand": total_qty, "value": total, "share": HUNDRED if total else None}
    if by != "sku":
        totals["skus"] = len({p.sku for p in positions})
    return Report(dated(f"Stock valuation by {by}", as_of, day), columns, rows, totals=totals, notes=notes)


def _layer_rows(state: State, positions: list[Position], items: dict[str, Any]) -> list[dict[str, Any]]:
    tz = state.ledger.settings.tz
    rows = []
    for pos in positions:
        item = items.get(pos.sku)
        name = item.name if item else "(not in catalog)"
        valued, short_qty, short_value = valued_layers(pos, state.average)
        for la, value in valued:
            rows.append({"sku": pos.sku, "name": name, "loc": pos.loc, "lot": la.lot, "expires": la.expires,
                         "received": local_day(la.ts, tz), "qty": la.qty,
                         "unit_cost": value / la.qty if la.qty else None, "value": value,
                         "note": "average" if state.average else None})
        if short_qty or short_value:
            rows.append({"sku": pos.sku, "name": name, "loc": pos.loc, "lot": None, "expires": None,
                         "received": None, "qty": short_qty,
                         "unit_cost": short_value / short_qty if short_qty else None, "value": short_value,
                         "note": "negative" if short_qty < 0 else "not in layers"})
    return rows
