"""The tour from the README, end to end on a temp ledger."""

import json


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
