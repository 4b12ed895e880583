"""The TOML tables people write: invctl.toml, items.toml, suppliers.toml (invctl/schema.py).

The coercions and messages are pydantic's lax mode, which these files were checked with
before: scripts and people may rely on both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from conftest import Shop

from invctl.catalog import Item, Supplier
from invctl.schema import Invalid, dump, keys, validate
from invctl.settings import Settings


def message(cls: Any, data: dict[str, Any]) -> str:
    with pytest.raises(Invalid) as info:
        validate(cls, data)
    return str(info.value)


def test_money_from_toml_stays_exact(shop: Shop) -> None:
    path = shop.root / "items.toml"
    path.write_text(path.read_text() + '\n[CAP]\nname = "Cap"\nprice = 19.90\ncost = "6.10"\nreorder_point = 20\n')
    item = validate(Item, {"name": "Cap", "price": Decimal("19.90"), "cost": "6.10", "reorder_point": 20})
    assert (item.price, item.cost, item.reorder_point) == (Decimal("19.90"), Decimal("6.10"), Decimal(20))
    assert str(item.price) == "19.90"
    from invctl.settings import open_ledger

    loaded = open_ledger(shop.root).catalog.item("CAP")
    assert (str(loaded.price), str(loaded.cost), loaded.reorder_point) == ("19.90", "6.10", 20)


@pytest.mark.parametrize(("cls", "data", "expected"), [
    (Item, {}, "name: Field required"),
    (Item, {"name": 1}, "name: Input should be a valid string"),
    (Item, {"name": "x", "price": "-1"}, "price: must be a number >= 0"),
    (Item, {"name": "x", "price": "abc"}, "price: Input should be a valid decimal"),
    (Item, {"name": "x", "price": "nan"}, "price: Input should be a finite number"),
    (Item, {"name": "x", "price": True}, "price: Decimal input should be an integer, float, string or Decimal object"),
    (Item, {"name": "x", "aliases": "a"}, "aliases: Input should be a valid list"),
    (Item, {"name": "x", "aliases": ["a", 1]}, "aliases.1: Input should be a valid string"),
    (Item, {"name": "x", "components": {"A": "x"}}, "components.A: Input should be a valid decimal"),
    (Item, {"name": "x", "components": 1}, "components: Input should be a valid dictionary"),
    (Supplier, {"name": "x", "lead_time": "abc"}, "lead_time: Input should be a valid integer, unable to parse string as an integer"),
    (Supplier, {"name": "x", "lead_time": Decimal("1.5")}, "lead_time: Input should be a valid integer, got a number with a fractional part"),
    (Supplier, {"name": "x", "lead_time": [1]}, "lead_time: Input should be a valid integer"),
    (Settings, {"costing": "lifo"}, "costing: Input should be 'fifo' or 'average'"),
    (Settings, {"currency": "EURO"}, "currency: currency must be an ISO 4217 code such as EUR"),
    (Settings, {"timezone": "Mars/Base"}, "timezone: unknown time zone 'Mars/Base' (use an IANA name like Europe/Berlin)"),
    (Settings, {"locations": "main"}, "locations: Input should be a valid list"),
    # The first wrong key in the order the fields are declared, as pydantic reported it.
    (Settings, {"costing": "lifo", "currency": "EURO"}, "currency: currency must be an ISO 4217 code such as EUR"),
])
def test_messages(cls: Any, data: dict[str, Any], expected: str) -> None:
    assert message(cls, data) == expected


def test_lax_coercions() -> None:
    sup = validate(Supplier, {"name": "x", "lead_time": "14", "min_order": 10})
    assert (sup.lead_time, sup.min_order) == (14, Decimal(10))
    assert validate(Supplier, {"name": "x", "lead_time": Decimal("14.0")}).lead_time == 14
    settings = validate(Settings, {"currency": "usd", "currency_decimals": "3"})
    assert (settings.currency, settings.places) == ("USD", 3)


def test_unknown_keys_are_kept_and_checked(shop: Shop) -> None:
    item = validate(Item, {"name": "x", "colour": "red", "extra": 1})
    assert item.extra == {"colour": "red", "extra": 1}
    assert dump(item)["colour"] == "red" and "extra" not in keys(Item)
    path = shop.root / "invctl.toml"
    path.write_text(path.read_text().replace('costing = "fifo"', 'costng = "average"'))
    r = shop.run("check")
    assert "invctl.toml: warning: unknown setting 'costng' (known: currency, costing, timezone," in r.out


def test_item_set_keeps_unknown_keys(shop: Shop) -> None:
    path = shop.root / "items.toml"
    path.write_text(path.read_text().replace('name = "Oat milk 1l"', 'name = "Oat milk 1l"\nshelf = "B3"'))
    shop.ok("item", "set", "MILK", "--price", "2.59")
    text = path.read_text()
    assert 'shelf = "B3"' in text and 'price = "2.59"' in text
