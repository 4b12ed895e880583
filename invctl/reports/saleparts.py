"""What sales reports remember of the sales as the replay goes: which orders were counted
(Orders), the sales that returns need for their price and channel (Sales), and parsed
prices (Prices). Shared by `report sales`/`margin` (sales.py), `report customers`, the
dashboard and `export csv sales`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec

from invctl import events as E
from invctl.costing import ZERO
from invctl.numbers import Number, parse_money, parse_qty
from invctl.settings import Ledger


class Orders:
    """Which orders were counted, per group: remembered for 31 to 62 days, so memory stays
    flat however long the journal (lines of one order are recorded within days of each
    other; two lines of one ref more than 31 days apart may count as two orders).

    Keys are ints: the hash of the order ref shifted left 32 bits, plus the group's index.
    Callers test ``recent`` then ``older`` after ``turn`` when ``until`` has passed (as
    ``first_time`` does; the hot loops inline it)."""

    WINDOW = dt.timedelta(days=31)
    TOTAL = 0xFFFFFFFF  # the group index of "all groups"

    def __init__(self) -> None:
        self.recent: set[int] = set()
        self.older: set[int] = set()
        self.until = dt.datetime.min.replace(tzinfo=dt.UTC)  # when recent becomes older

    def turn(self, ts: dt.datetime) -> None:
        """Start a new window at ``ts``: the last one becomes the older (forgotten too when
        it ended more than a window ago)."""
        self.older = self.recent if ts < self.until + self.WINDOW else set()
        self.recent = set()
        self.until = ts + self.WINDOW

    def first_time(self, key: int, ts: dt.datetime) -> bool:
        """Whether this key is new (and remember it)."""
        if ts >= self.until:
            self.turn(ts)
        if key in self.recent:
            return False
        self.recent.add(key)
        return key not in self.older


# --- what a return needs from its order's sale ----------------------------------------------


class _ReturnKeys(msgspec.Struct, gc=False):
    type: str
    sku: str | None = None
    order: str | None = None
    refund: str | None = None
    channel: str | None = None
    customer: str | None = None


_return_decoder = msgspec.json.Decoder(_ReturnKeys)


def returns_needing_sales(ledger: Ledger, attr: str | None) -> set[int]:
    """Hashes of the orders of the returns that need their sale: for the price (no
    ``refund``) or for ``attr`` (a return has no ``region``; it may lack ``channel`` or
    ``customer``). A byte search: only the lines mentioning "returned" are decoded."""
    from invctl.journal import find_lines

    need: set[int] = set()
    for _, _, raw in find_lines(ledger, b'"returned"'):
        try:
            r = _return_decoder.decode(raw)
        except E.DECODE_ERRORS:
            continue  # the replay reports it
        if r.type != "returned" or r.order is None or r.sku is None:
            continue
        if r.refund is None or (attr is not None and getattr(r, attr, None) is None):
            need.add(hash(r.order))
    return need


class Sales:
    """The sales of the orders that returns need (``need``: hashes of their refs), per
    (order, sku): units, amount, channel, customer, region."""

    __slots__ = ("need", "seen")

    def __init__(self, need: set[int]):
        self.need = need
        self.seen: dict[tuple[str, str], list[Any]] = {}

    def sold(self, ev: E.Sold, qty: Number, amount: Decimal) -> None:
        order = ev.order
        if order is None or hash(order) not in self.need:  # a str caches its hash: cheap
            return
        key = (order, ev.sku)
        sale = self.seen.get(key)
        if sale is None:
            sale = self.seen[key] = [0, ZERO, None, None, None]
        sale[0] += qty
        sale[1] += amount
        sale[2], sale[3], sale[4] = ev.channel, ev.customer, ev.region

    def of(self, ev: E.Returned) -> list[Any] | None:
        if ev.order is None or not self.seen:
            return None
        return self.seen.get((ev.order, ev.sku))


class Prices:
    """Decimal prices and refunds, parsed once per distinct string; catalog prices for returns."""

    def __init__(self, ledger: Ledger):
        self.cache: dict[str, Decimal] = {}
        try:
            items = ledger.catalog.items
        except Exception:  # a broken catalog must not stop a report from the journal
            items = {}
        self.items: dict[str, Any] = items
        self.unvalued = 0  # returns without refund, sale price or catalog price

    def __call__(self, text: str) -> Decimal:
        d = self.cache.get(text)
        if d is None:
            d = self.cache[text] = parse_money(text)
        return d

    def refund(self, ev: E.Returned, sale: list[Any] | None) -> Decimal:
        """The unit refund of a return: its own, else its sale's price, else the catalog's."""
        if ev.refund is not None:
            return self(ev.refund)
        if sale is not None and sale[0]:
            return Decimal(sale[1] / sale[0])
        item = self.items.get(ev.sku)
        if item is not None and item.price is not None:
            return Decimal(item.price)
        self.unvalued += 1
        return ZERO


def qty_of(value: object) -> Number:
    return value if type(value) is int else parse_qty(value)
