"""`invctl adjust --lot`: a write-off of one lot, charged to the supplier who delivered it."""

from __future__ import annotations

import json

from conftest import Shop


def lots(shop: Shop, sku: str = "MILK") -> list[tuple[str | None, int]]:
    """(lot, qty) of a position's layers, in consumption order, from `history`'s replay."""
    from invctl.replay import replay
    from invctl.settings import open_ledger

    pos = replay(open_ledger(shop.root)).positions[(sku, "main")]
    return [(la.lot, la.qty) for la in pos.layers]


def test_a_write_off_takes_from_its_lot(shop: Shop) -> None:
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--lot", "A", "--expires", "2026-12-01", "--at", "2026-11-01")
    shop.ok("receive", "MILK", "10", "--cost", "1.50", "--lot", "B", "--expires", "2026-12-20", "--at", "2026-11-02")
    shop.ok("adjust", "MILK", "-4", "--reason", "defective", "--lot", "B", "--at", "2026-11-03")
    assert lots(shop) == [("A", 10), ("B", 6)]  # not first-expiring A
    line = json.loads((shop.root / "journal/2026/2026-11.jsonl").read_text().splitlines()[-1])
    assert line["lot"] == "B" and line["qty"] == -4
    stock = json.loads(shop.ok("stock", "MILK", "--format", "json"))
    assert stock[0]["value"] == "19.00"  # 10 x 1.00 + 6 x 1.50


def test_an_addition_joins_its_lot_and_expiry(shop: Shop) -> None:
    shop.ok("receive", "MILK", "5", "--cost", "1.00", "--lot", "A", "--expires", "2026-12-01", "--at", "2026-11-01")
    shop.ok("receive", "MILK", "5", "--cost", "1.00", "--lot", "B", "--expires", "2026-12-20", "--at", "2026-11-02")
    shop.ok("adjust", "MILK", "2", "--reason", "found", "--lot", "B", "--at", "2026-11-03")
    from invctl.replay import replay
    from invctl.settings import open_ledger

    pos = replay(open_ledger(shop.root)).positions[("MILK", "main")]
    assert [(la.lot, la.qty, str(la.expires)) for la in pos.layers] == [
        ("A", 5, "2026-12-01"), ("B", 5, "2026-12-20"), ("B", 2, "2026-12-20")]


def test_more_than_the_lot_holds_is_refused(shop: Shop) -> None:
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--lot", "A", "--at", "2026-11-01")
    shop.ok("receive", "MILK", "3", "--cost", "1.00", "--lot", "B", "--at", "2026-11-02")
    before = shop.journal_bytes()
    r = shop.run("adjust", "MILK", "-4", "--reason", "damaged", "--lot", "B")
    assert r.code == 1 and "lot B of MILK at main holds 3" in r.err and len(r.err.strip().splitlines()) == 1
    r = shop.run("adjust", "MILK", "-1", "--reason", "damaged", "--lot", "NOPE")
    assert r.code == 1 and "holds 0" in r.err
    assert shop.journal_bytes() == before


def test_a_line_naming_a_short_lot_takes_the_rest_from_other_stock(shop: Shop) -> None:
    """Merged or hand-written lines are not refused: the replay takes what the lot has,
    then the rest in the usual order, and stock stays consistent."""
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--lot", "A", "--at", "2026-11-01")
    shop.ok("receive", "MILK", "3", "--cost", "2.00", "--lot", "B", "--at", "2026-11-02")
    with open(shop.root / "journal/2026/2026-11.jsonl", "a") as fh:
        fh.write('{"id":"01M8HANDWRITTEN000000000001","ts":"2026-11-03T10:00:00+01:00","type":"adjusted",'
                 '"sku":"MILK","qty":-5,"loc":"main","reason":"damaged","lot":"B"}\n')
    assert lots(shop) == [("A", 8)]
    stock = json.loads(shop.ok("stock", "MILK", "--format", "json"))
    assert stock[0]["on_hand"] == 8 and stock[0]["value"] == "8.00"


def test_the_scorecard_charges_the_lot_to_its_supplier(shop: Shop) -> None:
    shop.ok("supplier", "add", "dairy", "--name", "Dairy Co")
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--lot", "A", "--supplier", "acme", "--at", "2026-11-01")
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--lot", "B", "--supplier", "dairy", "--at", "2026-11-02")
    shop.ok("adjust", "MILK", "-2", "--reason", "defective", "--lot", "A", "--at", "2026-11-03")
    rows = {r["supplier"]: r for r in json.loads(shop.ok("report", "suppliers", "--format", "json"))}
    assert rows["acme"]["defective"] == 2 and rows["dairy"]["defective"] == 0
