"""Cost layers of one (SKU, location): what is on hand, at what cost, in which lots.

Positive stock is a list of layers in the order they will be consumed: lots that expire
first (first-expiring-first-out), then the rest first-in-first-out. With average costing
the layers still track quantities per lot and expiry, while the value is a moving
weighted average. Stock may go negative (a merge can cause it): the missing units are
booked at an estimated unit cost, and the difference to the real cost of the goods that
later fill the gap is booked as a COGS true-up (``add`` returns it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from invctl.numbers import Number

ZERO = Decimal(0)


class Layer:
    """Units that came in together.

    Attributes: qty (> 0), cost (unit cost), lot, expires (date or None), ts (when they came in).
    """

    __slots__ = ("qty", "cost", "lot", "expires", "ts")

    def __init__(self, qty: Number, cost: Decimal, lot: str | None, expires: dt.date | None, ts: dt.datetime):
        self.qty = qty
        self.cost = cost
        self.lot = lot
        self.expires = expires
        self.ts = ts

    def __repr__(self) -> str:
        return f"Layer({self.qty}@{self.cost} lot={self.lot} exp={self.expires})"


class Position:
    """Stock of one SKU at one location.

    Attributes: sku, loc, qty (on hand; may be negative), value (running, never rounded),
    layers (positive stock in consumption order), and the last time it was received,
    sold and counted (for alerts).
    """

    __slots__ = ("sku", "loc", "qty", "value", "layers", "last_received", "last_sold", "last_counted")

    def __init__(self, sku: str, loc: str):
        self.sku = sku
        self.loc = loc
        self.qty: Number = 0
        self.value: Decimal = ZERO
        self.layers: list[Layer] = []
        self.last_received: dt.datetime | None = None
        self.last_sold: dt.datetime | None = None
        self.last_counted: dt.datetime | None = None

    def lot_qty(self, lot: str) -> Number:
        return sum((la.qty for la in self.layers if la.lot == lot), 0)

    def unit_cost(self) -> Decimal | None:
        return self.value / self.qty if self.qty > 0 else None


def _insert(layers: list[Layer], layer: Layer) -> None:
    if layer.expires is None:
        layers.append(layer)
        return
    for i, other in enumerate(layers):
        if other.expires is None or other.expires > layer.expires:
            layers.insert(i, layer)
            return
    layers.append(layer)


def consume(pos: Position, qty: Number, fallback_cost: Decimal, average: bool,
            ts: dt.datetime, lot: str | None = None) -> tuple[Decimal, list[Layer]]:
    """Take ``qty`` units out; returns their cost and the pieces taken (for transfers).

    Units beyond what is on hand drive the position negative at ``fallback_cost``.
    With ``lot`` only that lot's layers are taken (a count of one lot).
    """
    pieces: list[Layer] = []
    cost = ZERO
    take: Number = 0
    if pos.qty > 0:
        available = pos.qty if lot is None else pos.lot_qty(lot)
        take = qty if qty <= available else available
        remaining = take
        layers = pos.layers
        i = 0
        while remaining > 0:
            layer = layers[i]
            if lot is not None and layer.lot != lot:
                i += 1
                continue
            if layer.qty <= remaining:
                remaining -= layer.qty
                del layers[i]
                pieces.append(layer)
                cost += layer.qty * layer.cost
            else:
                layer.qty -= remaining
                pieces.append(Layer(remaining, layer.cost, layer.lot, layer.expires, layer.ts))
                cost += remaining * layer.cost
                remaining = 0
        if average and take:
            cost = pos.value if take == pos.qty else pos.value * take / pos.qty
            unit = cost / take
            for piece in pieces:
                piece.cost = unit
    rest = qty - take
    if rest > 0:
        cost += rest * fallback_cost
        pieces.append(Layer(rest, fallback_cost, None, None, ts))
    pos.qty -= qty
    pos.value -= cost
    return cost, pieces


def add(pos: Position, pieces: list[Layer], total: Decimal | None = None) -> Decimal:
    """Put pieces on hand; returns the COGS true-up when they fill negative stock.

    ``total`` is their value when it is not the sum of qty x cost (average costing moves
    value exactly, not as rounded unit costs).
    """
    qty: Number = sum((p.qty for p in pieces), 0)
    exact = total is None  # value is the sum of the pieces (FIFO): split it piece by piece
    if total is None:
        total = sum((p.qty * p.cost for p in pieces), ZERO)
    trueup = ZERO
    if pos.qty < 0 and qty > 0:
        short = -pos.qty
        filled = qty if qty <= short else short
        booked = pos.value if filled == short else pos.value * filled / short  # negative
        if filled == qty:
            value_in = total
            pieces = []
        else:
            pieces, value_in = _drop_front(pieces, filled)
            if not exact:
                value_in = total * filled / qty
        trueup = value_in + booked
        pos.value -= booked
        total -= value_in
        pos.qty += filled
        qty -= filled
    for piece in pieces:
        _insert(pos.layers, piece)
    pos.qty += qty
    pos.value += total
    return trueup


def _drop_front(pieces: list[Layer], qty: Number) -> tuple[list[Layer], Decimal]:
    """The pieces without their first ``qty`` units, and the value of what was dropped."""
    out = []
    dropped = ZERO
    for p in pieces:
        if qty >= p.qty:
            qty -= p.qty
            dropped += p.qty * p.cost
            continue
        if qty > 0:
            dropped += qty * p.cost
            p = Layer(p.qty - qty, p.cost, p.lot, p.expires, p.ts)
            qty = 0
        out.append(p)
    return out, dropped
