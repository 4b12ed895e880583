"""`order suggest`: what to buy now, per SKU, with the figures behind each line.

Loads what invctl/suggest.py decides from: the stock position (the cached replay), the
demand forecast (invctl/forecast.py, one replay of the sales history), measured lead
times (invctl/purchasing.py) and the policy from `[reorder]` in invctl.toml and the options.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from invctl.errors import Refused
from invctl.fold import State
from invctl.reports import Column, Report
from invctl.settings import Ledger
from invctl.suggest import Policy, Suggestion, stock_positions, suggest

COLUMNS = [
    Column("supplier", "Supplier", wrap=False),
    Column("sku", "SKU", wrap=False),
    Column("name", "Name", table=False),
    Column("qty", "Order", "qty"),
    Column("cost", "Unit cost", "money", table=False),
    Column("value", "Value", "money"),
    Column("demand_per_day", "Per day", "qty"),
    Column("sigma", "σ/day", "qty", table=False),
    Column("lead_time_days", "Lead days", "qty"),
    Column("lead_time_source", "Lead time from", table=False),
    Column("safety_stock", "Safety", "qty"),
    Column("reorder_point", "Reorder at", "qty"),
    Column("target", "Up to", "qty", table=False),
    Column("on_hand", "On hand", "qty"),
    Column("available", "Available", "qty", table=False),
    Column("on_order", "On order", "qty"),
    Column("rule", "Rule", wrap=False),
    Column("reason", "Why", table=False),  # the figures of the table, as a sentence (JSON, CSV)
]

_POLICY_KEYS = {"service_level": float, "horizon_days": int, "lead_time_days": int, "min_receipts": int}


def policy(ledger: Ledger, *, horizon: int | None = None, service_level: float | None = None) -> Policy:
    """The reorder policy: `[reorder]` in invctl.toml, overridden by the options."""
    values: dict[str, Any] = {}
    for key, kind in _POLICY_KEYS.items():
        raw = ledger.settings.reorder.get(key)
        if raw is None:
            continue
        # TOML numbers arrive as int, or Decimal (invctl reads floats exactly)
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal) or (kind is int and not isinstance(raw, int)):
            shown = raw if isinstance(raw, str) else str(raw)
            raise Refused(f"invctl.toml: [reorder] {key} = {shown!r} must be a {'whole ' if kind is int else ''}number")
        values[key] = kind(raw)
    if horizon is not None:
        values["horizon_days"] = horizon
    if service_level is not None:
        values["service_level"] = service_level
    try:
        return Policy(**values)
    except ValueError as exc:
        raise Refused(f"{exc} (--service-level/--horizon, or [reorder] in invctl.toml)") from None


def suggestions(ledger: Ledger, pol: Policy, *, supplier: str | None = None, category: str | None = None,
                as_of: dt.datetime | None = None) -> tuple[list[Suggestion], State]:
    """The lines to order now (or as they were at the instant ``as_of``, from the journal up
    to it), and the replayed state they were decided on."""
    from invctl import forecast, purchasing
    from invctl.replay import replay

    catalog = ledger.catalog
    if supplier is not None:
        catalog.supplier(supplier)  # refuses an unknown one, with a did-you-mean
    if category is not None and not any(it.category == category for it in catalog.items.values()):
        known = sorted({it.category for it in catalog.items.values() if it.category})
        raise Refused(f"no item has category {category!r}; categories: {', '.join(known) or '(none set)'}")
    state = replay(ledger, until=as_of)
    tz = ledger.settings.tz
    today = (as_of - dt.timedelta(microseconds=1)).astimezone(tz).date() if as_of else dt.datetime.now(tz).date()
    skus = {sku for sku, it in catalog.items.items()
            if (supplier is None or it.supplier == supplier) and (category is None or it.category == category)}
    demand = forecast.demand(ledger, horizon=pol.horizon_days, skus=skus, as_of=as_of) if skus else {}
    lead = purchasing.lead_times(state, min_receipts=pol.min_receipts)
    lines = suggest(catalog.items, catalog.suppliers, stock_positions(state, today), demand, lead, pol,
                    supplier=supplier, category=category)
    return [_with_cost(s, state) for s in lines], state


def _with_cost(s: Suggestion, state: State) -> Suggestion:
    """The unit cost to order at: the item's catalog cost, else the last receipt's."""
    if s.cost is not None:
        return s
    from dataclasses import replace

    return replace(s, cost=state.last_cost.get(s.sku))


def suggest_report(ledger: Ledger, pol: Policy, *, supplier: str | None = None,
                   category: str | None = None, as_of: dt.datetime | None = None) -> Report:
    lines, state = suggestions(ledger, pol, supplier=supplier, category=category, as_of=as_of)
    items = ledger.catalog.items
    rows = []
    total = Decimal(0)
    for s in lines:
        value = s.qty * s.cost if s.cost is not None else None
        total += value or 0
        rows.append({
            "supplier": s.supplier, "sku": s.sku, "name": items[s.sku].name, "qty": s.qty, "cost": s.cost,
            "value": value, "demand_per_day": _dec(s.demand_per_day), "sigma": _dec(s.sigma),
            "lead_time_days": _dec(s.lead_time_days, 1), "lead_time_source": s.lead_time_source,
            "safety_stock": _dec(s.safety_stock, 1), "reorder_point": _dec(s.reorder_point, 1),
            "target": _dec(s.target, 1), "on_hand": s.on_hand, "available": s.available,
            "on_order": s.on_order, "rule": s.rule, "reason": s.reason,
        })
    title = f"Reorder suggestions (service level {pol.service_level:g}, horizon {pol.horizon_days} days)"
    if as_of is not None:
        title += f" as of {(as_of - dt.timedelta(microseconds=1)).astimezone(ledger.settings.tz).date()}"
    notes = [f"{p}: left out of these figures; run `invctl check`" for p in state.problems if p.severity == "error"][:1]
    return Report(title, COLUMNS, rows, totals={"value": total} if rows else {}, notes=notes)


def _dec(x: float, places: int = 2) -> Decimal:
    return Decimal(str(round(x, places)))
