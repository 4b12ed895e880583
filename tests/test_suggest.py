"""Reorder suggestions (invctl/suggest.py) against the formulas worked by hand."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from invctl.catalog import Item, Supplier
from invctl.suggest import Policy, Stock, order_qty, suggest, z_value


@dataclass
class D:
    per_day: float
    sigma: float


@dataclass
class Lead:
    mean: float
    n: int


def item(**kw: Any) -> Item:
    return Item(name=kw.pop("name", "x"), supplier=kw.pop("supplier", "acme"), **kw)


SUPPLIERS = {"acme": Supplier(name="ACME", lead_time=9), "slow": Supplier(name="Slow")}


def one(items: dict[str, Item], stock: dict[str, Stock], demand: dict[str, D], measured: dict[str, Lead] | None = None,
        policy: Policy | None = None, suppliers: dict[str, Supplier] | None = None) -> list[Any]:
    return suggest(items, suppliers or SUPPLIERS, stock, demand, measured or {}, policy or Policy())


def test_service_level_rule_by_hand() -> None:
    # d = 4/day, s = 2, L = 9 (promised), z(0.95) = 1.6449: SS = 1.6449 * 2 * 3 = 9.87,
    # ROP = 36 + 9.87 = 45.87, target = ROP + 4 * 30 = 165.87; position 20 -> 145.87 -> 146.
    got = one({"TEE": item()}, {"TEE": Stock(25, 20, 0)}, {"TEE": D(4, 2)})
    assert len(got) == 1
    s = got[0]
    z = z_value(0.95)
    assert z == pytest.approx(1.644854, abs=1e-6)
    assert s.safety_stock == pytest.approx(z * 2 * 3)
    assert s.reorder_point == pytest.approx(36 + z * 6)
    assert s.target == pytest.approx(36 + z * 6 + 120)
    assert s.qty == Decimal(146)
    assert (s.lead_time_days, s.lead_time_source) == (9, "promised by the supplier")
    assert s.rule == "service level"
    assert "4.00/day x 9 days lead time" in s.reason and "order up to 165.9: 146" in s.reason


def test_no_suggestion_above_the_reorder_point_and_on_order_counts() -> None:
    demand = {"TEE": D(4, 2)}
    assert one({"TEE": item()}, {"TEE": Stock(46, 46, 0)}, demand) == []  # 46 > 45.87
    assert one({"TEE": item()}, {"TEE": Stock(10, 10, 40)}, demand) == []  # 10 + 40 on order
    assert len(one({"TEE": item()}, {"TEE": Stock(10, 10, 35)}, demand)) == 1  # 45 <= 45.87
    assert one({"TEE": item()}, {"TEE": Stock(0, 0, 0)}, {"TEE": D(0, 0)}) == []  # no demand


def test_expired_stock_does_not_count() -> None:
    # on hand 60 but only 20 available (40 expired): below the reorder point
    got = one({"TEE": item()}, {"TEE": Stock(60, 20, 0)}, {"TEE": D(4, 2)})
    assert got and got[0].qty == Decimal(146)


def test_lead_time_measured_promised_default() -> None:
    demand = {"TEE": D(1, 0)}
    stock = {"TEE": Stock(0, 0, 0)}
    measured = {"acme": Lead(20.0, 5)}
    assert one({"TEE": item()}, stock, demand, measured)[0].lead_time_days == 20.0
    few = {"acme": Lead(20.0, 2)}  # too few receipts: the promise stands
    assert one({"TEE": item()}, stock, demand, few)[0].lead_time_days == 9
    got = one({"TEE": item(supplier="slow")}, stock, demand, policy=Policy(lead_time_days=11))[0]
    assert (got.lead_time_days, got.lead_time_source) == (11, "default ([reorder] lead_time_days)")


def test_pack_size_and_minimum_order() -> None:
    assert order_qty(145.87, None, None) == 146
    assert order_qty(145.87, Decimal(10), None) == 150
    assert order_qty(145.87, Decimal(10), Decimal(200)) == 200
    assert order_qty(12, Decimal(5), Decimal(7)) == 15  # the minimum, in whole packs
    assert order_qty(0.2, Decimal("0.25"), None) == Decimal("0.25")
    suppliers = {"acme": Supplier(name="ACME", lead_time=9, pack_size=Decimal(12), min_order=Decimal(200))}
    got = one({"TEE": item()}, {"TEE": Stock(25, 20, 0)}, {"TEE": D(4, 2)}, suppliers=suppliers)[0]
    assert got.qty == 204  # 146 -> at least 200 -> 17 packs of 12
    got = one({"TEE": item(pack_size=Decimal(25))}, {"TEE": Stock(25, 20, 0)}, {"TEE": D(4, 2)}, suppliers=suppliers)[0]
    assert got.qty == 200  # the item's pack size wins: 146 -> 150 -> at least 200 -> 8 packs of 25


def test_min_max_rule_from_the_item() -> None:
    items = {"TEE": item(reorder_point=Decimal(40), max_stock=Decimal(120))}
    got = one(items, {"TEE": Stock(30, 30, 5)}, {"TEE": D(4, 2)})[0]
    assert (got.rule, got.reorder_point, got.target, got.qty) == ("min/max", 40, 120, 85)
    items = {"TEE": item(reorder_point=Decimal(40), reorder_qty=Decimal(50))}
    got = one(items, {"TEE": Stock(40, 40, 0)}, {})[0]  # at the reorder point, no demand known
    assert (got.target, got.qty) == (90, 50)
    assert one(items, {"TEE": Stock(41, 41, 0)}, {}) == []


def test_max_stock_caps_the_target() -> None:
    got = one({"TEE": item(max_stock=Decimal(100))}, {"TEE": Stock(25, 20, 0)}, {"TEE": D(4, 2)})[0]
    assert got.target == 100 and got.qty == 80


def test_filters_and_order() -> None:
    items = {"B": item(), "A": item(supplier="slow", category="snacks"), "C": item(category="snacks")}
    stock = {k: Stock(0, 0, 0) for k in items}
    demand = {k: D(1, 1) for k in items}
    assert [s.sku for s in one(items, stock, demand)] == ["B", "C", "A"]  # by supplier, then SKU
    assert [s.sku for s in suggest(items, SUPPLIERS, stock, demand, {}, Policy(), supplier="acme")] == ["B", "C"]
    assert [s.sku for s in suggest(items, SUPPLIERS, stock, demand, {}, Policy(), category="snacks")] == ["C", "A"]


@pytest.mark.parametrize("bad", [dict(service_level=1.0), dict(service_level=0.3), dict(horizon_days=0),
                                 dict(lead_time_days=-1)])
def test_policy_refuses_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Policy(**bad)


def test_safety_stock_grows_with_service_level() -> None:
    stock = {"TEE": Stock(0, 0, 0)}
    low = one({"TEE": item()}, stock, {"TEE": D(4, 2)}, policy=Policy(service_level=0.9))[0]
    high = one({"TEE": item()}, stock, {"TEE": D(4, 2)}, policy=Policy(service_level=0.99))[0]
    assert low.safety_stock < high.safety_stock
    assert high.safety_stock == pytest.approx(2.326348 * 2 * math.sqrt(9), rel=1e-6)
