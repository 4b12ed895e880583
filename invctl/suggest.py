"""Reorder suggestions: which SKUs to buy now, and how many (docs/purchasing.md).

A pure decision from (stock and PO lines, catalog, demand forecast, lead times, policy)
to suggestion lines; `order suggest` shows them and `order create --from-suggestions`
turns them into purchase orders. Nothing here reads files or prints.

Per SKU, with demand d units/day and its daily standard deviation s (invctl/forecast.py),
lead time L days (measured once the supplier has enough receipts, else promised, else
the `[reorder] lead_time_days` default) and z the standard normal quantile of the
service level:

    safety stock  SS  = z * s * sqrt(L)
    reorder point ROP = d * L + SS
    target        T   = ROP + d * horizon        (stock to cover the lead time and one horizon)

An item that sets `reorder_point` uses it as ROP, and orders up to `max_stock`, else
`reorder_point + reorder_qty` (min/max); `max_stock` alone caps T. A SKU is suggested when its stock position
(available + on order) is at or below ROP; the quantity is T - position, rounded up to
the pack size (item, else supplier) and to at least the supplier's `min_order`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from statistics import NormalDist
from typing import Any, Protocol

from invctl.numbers import Number


class DemandLike(Protocol):
    """invctl.forecast.Demand, as far as suggestions read it."""

    @property
    def per_day(self) -> float: ...
    @property
    def sigma(self) -> float: ...


class LeadLike(Protocol):
    """invctl.purchasing.LeadTime, as far as suggestions read it."""

    @property
    def mean(self) -> float: ...
    @property
    def n(self) -> int: ...


@dataclass(frozen=True)
class Policy:
    """How much risk and how far ahead: from `[reorder]` in invctl.toml and the options."""

    service_level: float = 0.95
    horizon_days: int = 30
    lead_time_days: int = 14  # when a supplier promises none and has too few receipts
    min_receipts: int = 3  # measured lead times count from this many receipts

    def __post_init__(self) -> None:
        if not 0.5 <= self.service_level < 1:
            raise ValueError(f"service level {self.service_level} must be at least 0.5 and below 1 (e.g. 0.95)")
        if self.horizon_days < 1:
            raise ValueError(f"horizon {self.horizon_days} must be at least 1 day")
        if self.lead_time_days < 0:
            raise ValueError(f"lead time {self.lead_time_days} cannot be negative")


@dataclass(frozen=True)
class Suggestion:
    """One line to order. Attributes: sku, supplier, qty (to order), the figures behind it
    (demand_per_day, sigma, lead_time_days and where it came from, safety_stock,
    reorder_point, target), the stock position (on_hand, available, on_order), rule
    ("service level" or "min/max") and reason (one sentence a person can check)."""

    sku: str
    supplier: str | None
    qty: Decimal
    demand_per_day: float
    sigma: float
    lead_time_days: float
    lead_time_source: str
    safety_stock: float
    reorder_point: float
    target: float
    on_hand: Number
    available: Number
    on_order: Number
    rule: str
    reason: str
    cost: Decimal | None


def z_value(service_level: float) -> float:
    return NormalDist().inv_cdf(service_level)


def lead_time(supplier_id: str | None, suppliers: Mapping[str, Any], measured: Mapping[str, LeadLike],
              policy: Policy) -> tuple[float, str]:
    """Days from order to receipt, and where the figure comes from."""
    seen = measured.get(supplier_id) if supplier_id else None
    if seen is not None and seen.n >= policy.min_receipts:
        return float(seen.mean), f"measured over {seen.n} receipts"
    promised = getattr(suppliers.get(supplier_id), "lead_time", None) if supplier_id else None
    if promised is not None:
        return float(promised), "promised by the supplier"
    return float(policy.lead_time_days), "default ([reorder] lead_time_days)"


def order_qty(short: float, pack: Decimal | None, minimum: Decimal | None) -> Decimal:
    """``short`` units rounded up to whole packs (whole units without a pack size), and to
    at least ``minimum``."""
    qty = Decimal(repr(short)).to_integral_value(ROUND_CEILING) if pack is None else \
        (Decimal(repr(short)) / pack).to_integral_value(ROUND_CEILING) * pack
    if minimum is not None and qty < minimum:
        qty = minimum if pack is None else (minimum / pack).to_integral_value(ROUND_CEILING) * pack
    return qty


@dataclass(frozen=True)
class Stock:
    """A SKU's stock position over all locations."""

    on_hand: Number
    available: Number
    on_order: Number


def suggest(items: Mapping[str, Any], suppliers: Mapping[str, Any], stock: Mapping[str, Stock],
            demand: Mapping[str, DemandLike], measured: Mapping[str, LeadLike], policy: Policy, *,
            supplier: str | None = None, category: str | None = None) -> list[Suggestion]:
    """The lines to order now, by supplier then SKU. ``items`` and ``suppliers`` are the
    catalog's; ``stock`` and ``demand`` are per SKU; ``measured`` lead times per supplier."""
    z = z_value(policy.service_level)
    out: list[Suggestion] = []
    for sku in sorted(items):
        item = items[sku]
        if supplier is not None and item.supplier != supplier:
            continue
        if category is not None and item.category != category:
            continue
        have = stock.get(sku, Stock(0, 0, 0))
        d = demand.get(sku)
        per_day = max(float(d.per_day), 0.0) if d is not None else 0.0
        sigma = max(float(d.sigma), 0.0) if d is not None else 0.0
        lead, source = lead_time(item.supplier, suppliers, measured, policy)
        position = float(have.available) + float(have.on_order)
        if item.reorder_point is not None:
            rule = "min/max"
            safety = 0.0
            rop = float(item.reorder_point)
            if item.max_stock is not None:
                target = float(item.max_stock)
            elif item.reorder_qty is not None:
                target = rop + float(item.reorder_qty)
            else:
                target = rop + per_day * policy.horizon_days
        else:
            if per_day <= 0:
                continue  # no demand and no reorder point: nothing to plan for
            rule = "service level"
            safety = z * sigma * math.sqrt(lead)
            rop = per_day * lead + safety
            target = rop + per_day * policy.horizon_days
            if item.max_stock is not None:  # never past the item's ceiling (cash tied up)
                target = min(target, float(item.max_stock))
        if position > rop or target <= position:
            continue
        sup = suppliers.get(item.supplier) if item.supplier else None
        pack = item.pack_size if item.pack_size is not None else getattr(sup, "pack_size", None)
        qty = order_qty(target - position, pack or None, getattr(sup, "min_order", None))
        if qty <= 0:
            continue
        out.append(Suggestion(
            sku=sku, supplier=item.supplier, qty=qty, demand_per_day=per_day, sigma=sigma,
            lead_time_days=lead, lead_time_source=source, safety_stock=safety, reorder_point=rop,
            target=target, on_hand=have.on_hand, available=have.available, on_order=have.on_order,
            rule=rule, reason=_reason(rule, per_day, lead, source, safety, rop, target, have, qty, pack),
            cost=item.cost,
        ))
    out.sort(key=lambda s: (s.supplier or "", s.sku))
    return out


def _reason(rule: str, per_day: float, lead: float, source: str, safety: float, rop: float, target: float,
            have: Stock, qty: Decimal, pack: Decimal | None) -> str:
    position = f"available {_n(have.available)} + on order {_n(have.on_order)}"
    packs = f", rounded up to packs of {_n(pack)}" if pack else ""
    if rule == "min/max":
        return (f"{position} <= reorder point {_n(rop)} (set on the item); "
                f"order up to {_n(target)}: {_n(qty)}{packs}")
    return (f"{per_day:.2f}/day x {_n(lead)} days lead time ({source}) + safety stock {safety:.1f} "
            f"= reorder point {rop:.1f}; {position} <= it; order up to {target:.1f}: {_n(qty)}{packs}")


def _n(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) else f"{value:.1f}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def stock_positions(state: Any, today: dt.date) -> dict[str, Stock]:
    """On hand, available (without expired lots) and on order per SKU, over all locations."""
    on_hand: dict[str, Number] = {}
    available: dict[str, Number] = {}
    for (sku, _), pos in state.positions.items():
        expired = sum((la.qty for la in pos.layers if la.expires is not None and la.expires < today), 0)
        on_hand[sku] = on_hand.get(sku, 0) + pos.qty
        available[sku] = available.get(sku, 0) + pos.qty - expired
    on_order: dict[str, Number] = {}
    for (sku, _), qty in state.on_order().items():
        on_order[sku] = on_order.get(sku, 0) + qty
    return {sku: Stock(on_hand.get(sku, 0), available.get(sku, 0), on_order.get(sku, 0))
            for sku in set(on_hand) | set(on_order)}
