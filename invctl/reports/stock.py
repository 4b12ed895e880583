"""Stock on hand: quantity, on order, available, unit cost and value per SKU and location."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from invctl.catalog import Catalog
from invctl.costing import ZERO
from invctl.errors import Refused
from invctl.numbers import Number
from invctl.replay import State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

COLUMNS = [
    Column("sku", "SKU"),
    Column("name", "Name"),
    Column("category", "Category", table=False),
    Column("loc", "Loc"),
    Column("on_hand", "On hand", "qty"),
    Column("on_order", "On order", "qty"),
    Column("available", "Available", "qty"),
    Column("unit", "Unit", table=False),
    Column("unit_cost", "Unit cost", "money"),
    Column("value", "Value", "money"),
]


def expired_qty(state: State, sku: str, loc: str, day: dt.date) -> Number:
    pos = state.positions.get((sku, loc))
    if pos is None:
        return 0
    return sum((la.qty for la in pos.layers if la.expires is not None and la.expires < day), 0)


def stock_report(ledger: Ledger, *, skus: list[str] | None = None, loc: str | None = None,
                 category: str | None = None, as_of: dt.datetime | None = None,
                 state: State | None = None) -> Report:
    """On hand per (SKU, location); ``as_of`` is the instant to replay up to (exclusive)."""
    catalog: Catalog = ledger.catalog
    if state is None:
        state = replay(ledger, until=as_of, skus=set(skus) if skus else None)
    today = (as_of - dt.timedelta(microseconds=1) if as_of else dt.datetime.now(ledger.settings.tz)).date()
    on_order = state.on_order()
    keys = set(state.positions) | set(on_order)
    if loc and loc not in ledger.settings.locations and not any(k[1] == loc for k in keys):
        listed = ", ".join(ledger.settings.locations)
        raise Refused(f"--loc {loc!r} is not a location of this ledger (locations = [{listed}] in invctl.toml)")
    for sku in catalog.items:
        # With --loc every item gets a row there: items stocked only elsewhere had none,
        # while items with no stock at all did, so the list depended on other locations.
        if loc:
            keys.add((sku, loc))
        elif not any(k[0] == sku for k in keys):
            keys.add((sku, ledger.settings.locations[0]))
    rows = []
    total = ZERO
    for sku, where in sorted(keys):
        if skus and sku not in skus:
            continue
        if loc and where != loc:
            continue
        item = catalog.items.get(sku)
        if category and (item is None or item.category != category):
            continue
        pos = state.positions.get((sku, where))
        qty: Number = pos.qty if pos else 0
        value: Decimal = pos.value if pos else ZERO
        unit = pos.unit_cost() if pos else None
        if unit is None:
            unit = state.fallback_cost(sku)
        rows.append({
            "sku": sku,
            "name": item.name if item else "(not in catalog)",
            "category": item.category if item else None,
            "loc": where,
            "on_hand": qty,
            "on_order": on_order.get((sku, where), 0),
            "available": qty - expired_qty(state, sku, where, today),
            "unit": item.unit if item else None,
            "unit_cost": unit,
            "value": value,
        })
        total += value
    title = "Stock" + (f" as of {today.isoformat()}" if as_of else "")
    return Report(title, COLUMNS, rows, totals={"value": total}, notes=_notes(state))


def _notes(state: State) -> list[str]:
    errors = [p for p in state.problems if p.severity == "error"]
    if not errors:
        return []
    first = errors[0]
    more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
    return [f"{first}{more}: left out of these figures; run `invctl check`"]
