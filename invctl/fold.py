"""The fold: State (what the replay knows) and one handler per event kind.

Each handler applies one event to the state and returns its effects (built only when
an observer wants them). Handlers check the values they use and raise ValueError before
changing anything, so a bad line is left out whole. The driver that feeds events in
order lives in invctl/replay.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from invctl import events as E
from invctl.costing import ZERO, Layer, Position, add, consume
from invctl.errors import Problem
from invctl.numbers import Number, parse_money, parse_qty
from invctl.settings import Ledger


class Effect:
    """What one event did to one position (transfers have two).

    Attributes: sku, loc, qty (change of on hand), value (change of stock value), cogs
    (cost of goods sold: a sale's consumed layers, minus restocked returns, plus true-ups).
    """

    __slots__ = ("sku", "loc", "qty", "value", "cogs")

    def __init__(self, sku: str, loc: str, qty: Number, value: Decimal, cogs: Decimal = ZERO):
        self.sku = sku
        self.loc = loc
        self.qty = qty
        self.value = value
        self.cogs = cogs


class POLine:
    """One line (PO, SKU) of a purchase order, as ordered, received and cancelled."""

    __slots__ = ("po", "sku", "supplier", "loc", "ordered", "received", "cancelled", "cost",
                 "expected", "placed", "last_received")

    def __init__(self, po: str, sku: str):
        self.po = po
        self.sku = sku
        self.supplier: str | None = None
        self.loc = "main"
        self.ordered: Number = 0
        self.received: Number = 0
        self.cancelled: Number = 0
        self.cost: Decimal | None = None
        self.expected: dt.date | None = None
        self.placed: dt.datetime | None = None
        self.last_received: dt.datetime | None = None

    @property
    def outstanding(self) -> Number:
        left = self.ordered - self.received - self.cancelled
        return left if left > 0 else 0


Source = tuple[int, int]  # (file index, line)
Observer = Callable[["State", E.Event, Source, list[Effect]], None]


class State:
    """Everything the replay knows at the end (or at ``until``).

    Attributes: positions by (sku, loc); po_lines by (po, sku); last_cost by sku (unit
    cost of the last receipt); problems (bad lines are errors and are left out; odd but
    valid facts, such as stock going negative, are warnings); files (the journal files,
    for turning a Source into file:line).
    """

    def __init__(self, ledger: Ledger, files: list[Path]):
        self.ledger = ledger
        self.files = files
        self.average = ledger.settings.costing == "average"
        self.places = ledger.settings.places
        self.positions: dict[tuple[str, str], Position] = {}
        self.po_lines: dict[tuple[str, str], POLine] = {}
        self.last_cost: dict[str, Decimal] = {}
        self.problems: list[Problem] = []
        self.voided: set[str] = set()
        # A restocked return goes back at the cost of its order's sale. The pre-pass counts
        # the returns ahead per hash of (order, sku) (ints: compact); sales with a return
        # ahead keep [qty, cost] until their last return is folded, so both stay small.
        self.returns_ahead: dict[int, int] = {}
        self.order_cogs: dict[tuple[str, str], list[Any]] = {}
        self.events = 0
        self.observing = False  # effects are built only when an observer wants them
        self._catalog_cost: dict[str, Decimal] | None = None

    # --- helpers -------------------------------------------------------------------

    def where(self, src: Source) -> tuple[str, int]:
        if src[0] >= len(self.files):
            return "(new event)", src[1]
        return self.ledger.rel(self.files[src[0]]), src[1]

    def warn(self, src: Source, message: str) -> None:
        path, line = self.where(src)
        self.problems.append(Problem(path, line, message, "warning"))

    def sort_problems(self) -> None:
        """In file order, then line order (as the replay met them, for lines out of order)."""
        index = {self.ledger.rel(p): i for i, p in enumerate(self.files)}
        self.problems.sort(key=lambda p: (index.get(p.path, len(index)), p.line))

    def position(self, sku: str, loc: str) -> Position:
        pos = self.positions.get((sku, loc))
        if pos is None:
            pos = self.positions[(sku, loc)] = Position(sku, loc)
        return pos

    def fallback_cost(self, sku: str) -> Decimal:
        """Unit cost when none is on hand: the last receipt's, else the catalog's, else 0."""
        cost = self.last_cost.get(sku)
        if cost is not None:
            return cost
        if self._catalog_cost is None:
            try:
                items = self.ledger.catalog.items
            except Exception:  # a broken catalog must not stop a replay
                items = {}
            self._catalog_cost = {s: it.cost for s, it in items.items() if it.cost is not None}
        return self._catalog_cost.get(sku, ZERO)

    def current_cost(self, pos: Position) -> Decimal:
        unit = pos.unit_cost()
        return unit if unit is not None else self.fallback_cost(pos.sku)

    def _out(self, pos: Position, qty: Number, ev: E.Event, src: Source, lot: str | None = None) -> tuple[Decimal, list[Layer]]:
        was = pos.qty
        cost, pieces = consume(pos, qty, self.fallback_cost(pos.sku), self.average, ev.ts, lot)
        if pos.qty < 0 <= was:
            kind = type(ev).__struct_config__.tag
            self.warn(src, f"{pos.sku} at {pos.loc} goes negative ({pos.qty}) at this {kind} event; record the missing receipt or a count")
        return cost, pieces

    # --- the fold ----------------------------------------------------------------

    def _received(self, ev: E.Received, src: Source) -> list[Effect]:
        qty = _positive(ev.qty)
        cost = _cost(ev.cost)
        pos = self.position(ev.sku, ev.loc)
        trueup = add(pos, [Layer(qty, cost, ev.lot, ev.expires, ev.ts)])
        pos.last_received = ev.ts
        self.last_cost[ev.sku] = cost
        if ev.po is not None:
            line = self.po_lines.get((ev.po, ev.sku))
            if line is None:
                self.warn(src, f"receipt against PO {ev.po[:64]} which has no line for {ev.sku[:64]}")
            else:
                line.received += qty
                line.last_received = ev.ts
        return [Effect(ev.sku, ev.loc, qty, qty * cost - trueup, trueup)]

    def _sold(self, ev: E.Sold, src: Source) -> list[Effect]:
        # The hottest path of every replay (most events are sales): kept flat on purpose.
        raw = ev.qty
        qty: Number = raw if type(raw) is int and raw > 0 else _positive(raw)
        pos = self.positions.get((ev.sku, ev.loc)) or self.position(ev.sku, ev.loc)
        layers = pos.layers
        if layers and layers[0].qty > qty and not self.average:
            first = layers[0]  # one layer covers the sale: take from it
            first.qty -= qty
            cost = qty * first.cost
            pos.qty -= qty
            pos.value -= cost
        else:
            cost, _ = self._out(pos, qty, ev, src)
        pos.last_sold = ev.ts
        if ev.order is not None and self.returns_ahead:
            key = (ev.order, ev.sku)
            if hash(key) in self.returns_ahead:
                sale = self.order_cogs.get(key)
                if sale is None:
                    sale = self.order_cogs[key] = [0, ZERO]
                sale[0] += qty
                sale[1] += cost
        return [Effect(ev.sku, ev.loc, -qty, -cost, cost)] if self.observing else _NONE

    def _returned(self, ev: E.Returned, src: Source) -> list[Effect]:
        qty = _positive(ev.qty)
        if ev.refund is not None:
            _cost(ev.refund)
        if not ev.restock:
            return [Effect(ev.sku, ev.loc, 0, ZERO)]
        pos = self.position(ev.sku, ev.loc)
        sale = self.order_cogs.get((ev.order, ev.sku)) if ev.order is not None else None
        unit = sale[1] / sale[0] if sale and sale[0] else self.current_cost(pos)
        if ev.order is not None:
            key = (ev.order, ev.sku)
            left = self.returns_ahead.get(hash(key), 0)
            if left <= 1:
                self.returns_ahead.pop(hash(key), None)
                self.order_cogs.pop(key, None)
            else:
                self.returns_ahead[hash(key)] = left - 1
        value = qty * unit
        trueup = add(pos, [Layer(qty, unit, None, None, ev.ts)])
        return [Effect(ev.sku, ev.loc, qty, value - trueup, trueup - value)]

    def _adjusted(self, ev: E.Adjusted, src: Source) -> list[Effect]:
        qty = parse_qty(ev.qty)
        if qty == 0:
            raise ValueError("an adjustment needs a quantity other than 0")
        if ev.reason not in E.REASONS:
            raise ValueError(f"reason {ev.reason!r} is not one of {', '.join(E.REASONS)}")
        pos = self.position(ev.sku, ev.loc)
        if qty < 0:
            # From the lot named, as far as it goes; the rest (mislabelled, or a lot not
            # on hand) from the position in its usual order.
            need = -qty
            in_lot = pos.lot_qty(ev.lot) if ev.lot is not None and pos.qty > 0 else 0
            first = need if need <= in_lot else in_lot
            cost = self._out(pos, first, ev, src, ev.lot)[0] if first else ZERO
            if need > first:
                cost += self._out(pos, need - first, ev, src)[0]
            return [Effect(ev.sku, ev.loc, qty, -cost)]
        unit = _cost(ev.cost) if ev.cost is not None else self.current_cost(pos)
        trueup = add(pos, [Layer(qty, unit, ev.lot, self._lot_expiry(pos, ev.lot), ev.ts)])
        return [Effect(ev.sku, ev.loc, qty, qty * unit - trueup, trueup)]

    def _counted(self, ev: E.Counted, src: Source) -> list[Effect]:
        qty = parse_qty(ev.qty)
        if qty < 0:
            raise ValueError("a count cannot be negative")
        pos = self.position(ev.sku, ev.loc)
        pos.last_counted = ev.ts
        computed = pos.qty if ev.lot is None else pos.lot_qty(ev.lot)
        diff = qty - computed
        if diff < 0:
            cost, _ = consume(pos, -diff, self.fallback_cost(pos.sku), self.average, ev.ts, ev.lot)
            return [Effect(ev.sku, ev.loc, diff, -cost)]
        if diff > 0:
            unit = self.current_cost(pos)
            value = diff * unit
            trueup = add(pos, [Layer(diff, unit, ev.lot, self._lot_expiry(pos, ev.lot), ev.ts)])
            return [Effect(ev.sku, ev.loc, diff, value - trueup, trueup)]
        return [Effect(ev.sku, ev.loc, 0, ZERO)]

    @staticmethod
    def _lot_expiry(pos: Position, lot: str | None) -> dt.date | None:
        """Units added to a lot on hand (a count or an adjustment) expire with it."""
        return next((la.expires for la in pos.layers if la.lot == lot), None) if lot else None

    def _transferred(self, ev: E.Transferred, src: Source) -> list[Effect]:
        qty = _positive(ev.qty)
        if ev.from_ == ev.to:
            raise ValueError("a transfer needs two different locations")
        src_pos = self.position(ev.sku, ev.from_)
        cost, pieces = self._out(src_pos, qty, ev, src)
        dst = self.position(ev.sku, ev.to)
        trueup = add(dst, pieces, cost if self.average else None)
        return [Effect(ev.sku, ev.from_, -qty, -cost), Effect(ev.sku, ev.to, qty, cost - trueup, trueup)]

    def _ordered(self, ev: E.Ordered, src: Source) -> list[Effect]:
        qty = _positive(ev.qty)
        cost = _cost(ev.cost)
        line = self.po_lines.get((ev.po, ev.sku))
        if line is None:
            line = self.po_lines[(ev.po, ev.sku)] = POLine(ev.po, ev.sku)
            line.placed = ev.ts
        line.ordered += qty
        line.supplier = ev.supplier
        line.loc = ev.loc
        line.cost = cost
        if ev.expected is not None:
            line.expected = ev.expected
        return []

    def _cancelled(self, ev: E.Cancelled, src: Source) -> list[Effect]:
        line = self.po_lines.get((ev.po, ev.sku))
        if line is None:
            self.warn(src, f"cancels PO {ev.po[:64]} line {ev.sku[:64]}, which was never ordered")
            return []
        left = line.outstanding
        qty = left if ev.qty is None else _positive(ev.qty)
        line.cancelled += qty if qty <= left else left
        return []

    def _voided(self, ev: E.Voided, src: Source) -> list[Effect]:
        return []

    # --- results ------------------------------------------------------------------

    def on_order(self) -> dict[tuple[str, str], Number]:
        out: dict[tuple[str, str], Number] = {}
        for line in self.po_lines.values():
            left = line.outstanding
            if left:
                key = (line.sku, line.loc)
                out[key] = out.get(key, 0) + left
        return out


_NONE: list[Effect] = []


def _positive(value: object) -> Number:
    qty = parse_qty(value)
    if qty <= 0:
        raise ValueError(f"quantity must be greater than 0, not {value}")
    return qty


def _cost(value: object) -> Decimal:
    amount = parse_money(value)
    if amount < 0:
        raise ValueError(f"amount {value} cannot be negative")
    return amount


_HANDLERS: dict[type, Callable[[State, Any, Source], list[Effect]]] = {
    E.Received: State._received,
    E.Sold: State._sold,
    E.Returned: State._returned,
    E.Adjusted: State._adjusted,
    E.Counted: State._counted,
    E.Transferred: State._transferred,
    E.Ordered: State._ordered,
    E.Cancelled: State._cancelled,
    E.Voided: State._voided,
}
_HANDLERS.update({E.LEAN[full]: handler for full, handler in list(_HANDLERS.items())})
