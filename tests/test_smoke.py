"""The tour from the README, end to end on a temp ledger."""

import json

import pytest


def test_tour(shop):
    rid = shop.ok("receive", "TEE-M", "100", "--cost", "6.20", "--supplier", "acme", "--lot", "L2611").strip()
    assert len(rid) == 26
    shop.ok("sell", "TEE-M", "3", "--price", "19.90", "--channel", "shopify", "--order", "1001")
    shop.ok("return", "TEE-M", "1", "--refund", "19.90", "--order", "1001")
    shop.ok("adjust", "TEE-M", "-2", "--reason", "damaged")
    shop.ok("count", "TEE-M", "95")
    shop.ok("transfer", "TEE-M", "10", "--from", "main", "--to", "store2")
    rows = json.loads(shop.ok("stock", "TEE-M", "--format", "json"))
    by_loc = {r["loc"]: r for r in rows}
    assert by_loc["main"]["on_hand"] == 85
    assert by_loc["store2"]["on_hand"] == 10
    assert by_loc["main"]["value"] == "527.00"
    assert by_loc["store2"]["unit_cost"] == "6.20"


def test_purchasing_tour(shop):
    """The README's purchasing lines: order, receive part, list what is open, suggest, forecast."""
    shop.ok("receive", "TEE-M", "30", "--cost", "6.20", "--supplier", "acme", "--at", "2026-09-01")
    for day in range(2, 29):
        shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", f"2026-09-{day:02d}T12:00")
    shop.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:100:6.20", "--expected", "2026-10-10",
            "--po", "PO-1", "--at", "2026-09-28")
    shop.ok("order", "receive", "PO-1", "--line", "TEE-M:60", "--lot", "L2612", "--at", "2026-10-08")
    lines = json.loads(shop.ok("order", "list", "--open", "--format", "json"))
    assert [(x["po"], x["ordered"], x["received"], x["outstanding"]) for x in lines] == [("PO-1", 100, 60, 40)]
    # TEE-M has its own reorder point (20): 63 available + 40 on order is well above it
    assert json.loads(shop.ok("order", "suggest", "--as-of", "2026-10-08", "--format", "json")) == []
    shop.ok("sell", "TEE-M", "50", "--price", "19.90", "--at", "2026-10-09T12:00")
    shop.ok("order", "cancel", "PO-1", "--at", "2026-10-09T13:00")
    got = json.loads(shop.ok("order", "suggest", "--as-of", "2026-10-09", "--format", "json"))
    assert [(s["sku"], s["rule"], s["qty"]) for s in got] == [("TEE-M", "min/max", 107)]  # 13 -> 20 + 100 = 120
    forecast = json.loads(shop.ok("report", "forecast", "--as-of", "2026-09-28", "--format", "json"))
    assert {r["sku"]: r["demand_per_day"] for r in forecast}["TEE-M"] == pytest.approx(1, abs=0.05)  # sold 1 a day (not on 1 Sep)
    cards = json.loads(shop.ok("report", "suppliers", "--format", "json"))
    assert cards[0]["supplier"] == "acme" and cards[0]["received_units"] == 90
