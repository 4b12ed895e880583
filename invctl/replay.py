"""The replay: a pure fold of the journal's events, in (ts, id) order, into state.

Streaming: month files are read one at a time, sorted, and merged with the few events
still pending from the month before (offsets make neighbouring months overlap by at
most a day), so memory grows with SKUs, open lots and PO lines, not with events. When a
fast scan finds a line in the wrong month file, the replay sorts everything instead:
slower, never wrong.

Voids and returns look at other events (a void removes an earlier event; a return is
restocked at the cost of its order's sale), so a fast pre-pass picks out the few lines
that mention them before the fold starts.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from invctl import events as E
from invctl.costing import ZERO, Layer, Position, add, consume
from invctl.errors import Problem
from invctl.journal import FileRead, decode, decode_error, file_month, list_files, torn_problem
from invctl.numbers import Number, parse_money, parse_qty
from invctl.settings import Ledger

_MARGIN = dt.timedelta(hours=24)  # any UTC offset is within a day of the month's start
_INTERESTING = re.compile(rb'"(?:voided|returned)"')


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
        self.order_cogs: dict[tuple[str, str], list[Any]] = {}  # only orders with returns
        self.events = 0
        self._catalog_cost: dict[str, Decimal] | None = None

    # --- helpers -------------------------------------------------------------------

    def where(self, src: Source) -> tuple[str, int]:
        if src[0] >= len(self.files):
            return "(new event)", src[1]
        return self.ledger.rel(self.files[src[0]]), src[1]

    def warn(self, src: Source, message: str) -> None:
        path, line = self.where(src)
        self.problems.append(Problem(path, line, message, "warning"))

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
            self.warn(src, f"{pos.sku} at {pos.loc} goes negative ({pos.qty}) at this {type(ev).__name__.lower()} event; record the missing receipt or a count")
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
                self.warn(src, f"receipt against PO {ev.po} which has no line for {ev.sku}")
            else:
                line.received += qty
                line.last_received = ev.ts
        return [Effect(ev.sku, ev.loc, qty, qty * cost - trueup, trueup)]

    def _sold(self, ev: E.Sold, src: Source) -> list[Effect]:
        qty = _positive(ev.qty)
        pos = self.position(ev.sku, ev.loc)
        cost, _ = self._out(pos, qty, ev, src)
        pos.last_sold = ev.ts
        if ev.order is not None:
            sale = self.order_cogs.get((ev.order, ev.sku))
            if sale is not None:
                sale[0] += qty
                sale[1] += cost
        return [Effect(ev.sku, ev.loc, -qty, -cost, cost)]

    def _returned(self, ev: E.Returned, src: Source) -> list[Effect]:
        qty = _positive(ev.qty)
        if ev.refund is not None:
            _cost(ev.refund)
        if not ev.restock:
            return [Effect(ev.sku, ev.loc, 0, ZERO)]
        pos = self.position(ev.sku, ev.loc)
        sale = self.order_cogs.get((ev.order, ev.sku)) if ev.order is not None else None
        unit = sale[1] / sale[0] if sale and sale[0] else self.current_cost(pos)
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
            cost, _ = self._out(pos, -qty, ev, src)
            return [Effect(ev.sku, ev.loc, qty, -cost)]
        unit = _cost(ev.cost) if ev.cost is not None else self.current_cost(pos)
        trueup = add(pos, [Layer(qty, unit, None, None, ev.ts)])
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
            expires = next((la.expires for la in pos.layers if la.lot == ev.lot), None) if ev.lot else None
            value = diff * unit
            trueup = add(pos, [Layer(diff, unit, ev.lot, expires, ev.ts)])
            return [Effect(ev.sku, ev.loc, diff, value - trueup, trueup)]
        return [Effect(ev.sku, ev.loc, 0, ZERO)]

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
            self.warn(src, f"cancels PO {ev.po} line {ev.sku}, which was never ordered")
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


# --- the driver ------------------------------------------------------------------------

Entry = tuple[dt.datetime, str, int, int, E.Event]  # (ts, id, file index, line, event)


class _OutOfOrder(Exception):
    pass


def _prescan(state: State, reads: Iterable[FileRead]) -> bool:
    """Collect void targets and the orders that have restocked returns; say if a line is misplaced."""
    misplaced = False
    for fr in reads:
        misplaced = misplaced or fr.misplaced()
        for _, raw in fr.lines_containing(_INTERESTING):
            try:
                ev = decode(raw)
            except msgspec.DecodeError:
                continue  # reported by the main pass
            if isinstance(ev, E.Voided):
                state.voided.add(ev.target)
            elif isinstance(ev, E.Returned) and ev.restock and ev.order is not None:
                state.order_cogs[(ev.order, ev.sku)] = [0, ZERO]
    return misplaced


def _load(state: State, fi: int, fr: FileRead, skus: set[str] | None) -> list[Entry]:
    rel = state.ledger.rel(fr.path)
    voided = state.voided
    out: list[Entry] = []
    for line, raw in fr.lines():
        try:
            ev = decode(raw)
        except msgspec.DecodeError as exc:
            state.problems.append(decode_error(rel, line, exc))
            continue
        if ev.id in voided:
            continue
        if skus is not None and getattr(ev, "sku", None) not in skus:
            continue
        out.append((ev.ts, ev.id, fi, line, ev))
    if fr.torn:
        state.problems.append(torn_problem(state.ledger, fr))
    out.sort()
    return out


def _stream(state: State, skus: set[str] | None, extra: list[E.Event] | None = None) -> Iterator[Entry]:
    """Events in order, one month file at a time."""
    files = state.files
    pending: list[Entry] = _extra_entries(state, extra)
    last: tuple[dt.datetime, str] | None = None
    for fi, path in enumerate(files):
        batch = _load(state, fi, FileRead.read(path), skus)
        if batch and last is not None and (batch[0][0], batch[0][1]) < last:
            raise _OutOfOrder
        pending = sorted(pending + batch) if pending else batch
        nxt = file_month(files[fi + 1]) if fi + 1 < len(files) else None
        if fi + 1 == len(files):
            cut = len(pending)
        elif nxt is None:
            cut = 0
        else:
            bound = dt.datetime(nxt[0], nxt[1], 1, tzinfo=dt.UTC) - _MARGIN
            cut = bisect_left(pending, (bound,))
        if cut:
            last = (pending[cut - 1][0], pending[cut - 1][1])
            yield from pending[:cut]
            pending = pending[cut:]
    yield from pending  # only extra events when the journal is empty


def _sorted_all(state: State, skus: set[str] | None, extra: list[E.Event] | None = None) -> Iterator[Entry]:
    everything: list[Entry] = _extra_entries(state, extra)
    for fi, path in enumerate(state.files):
        everything.extend(_load(state, fi, FileRead.read(path), skus))
    everything.sort()
    yield from everything


def replay(ledger: Ledger, *, until: dt.datetime | None = None, observer: Observer | None = None,
           skus: set[str] | None = None, extra: list[E.Event] | None = None) -> State:
    """Fold the ledger's journal into a State.

    ``until``: only events with ts before this instant. ``observer``: called with the
    state, each applied event, its source and its effects (reports build on it); if it
    has a ``reset()`` method, that is called before a replay starts over. ``skus``: only
    these SKUs (faster for one item's history). ``extra``: events not yet written,
    replayed in their place as if they were (a writer checks its decision this way);
    their source has the file index ``len(state.files)``.
    """
    files = list_files(ledger)
    state = State(ledger, files)
    misplaced = _prescan(state, (FileRead.read(p) for p in files))
    _add_extra(state, extra or [])
    entries = _sorted_all(state, skus, extra) if misplaced else _stream(state, skus, extra)
    try:
        return _fold(state, entries, until, observer)
    except _OutOfOrder:
        # A line sits in the wrong month file and the fast scan missed it: start over, sorted.
        reset = getattr(observer, "reset", None)
        if observer is not None and reset is None:
            raise
        if reset is not None:
            reset()
        fresh = State(ledger, files)
        fresh.voided, fresh.order_cogs = state.voided, {k: [0, ZERO] for k in state.order_cogs}
        return _fold(fresh, _sorted_all(fresh, skus, extra), until, observer)


def _add_extra(state: State, extra: list[E.Event]) -> None:
    for ev in extra:
        if isinstance(ev, E.Voided):
            state.voided.add(ev.target)
        elif isinstance(ev, E.Returned) and ev.restock and ev.order is not None:
            state.order_cogs.setdefault((ev.order, ev.sku), [0, ZERO])


def _extra_entries(state: State, extra: list[E.Event] | None) -> list[Entry]:
    n = len(state.files)
    return sorted((ev.ts, ev.id, n, i + 1, ev) for i, ev in enumerate(extra or []) if ev.id not in state.voided)


def _fold(state: State, entries: Iterator[Entry], until: dt.datetime | None, observer: Observer | None) -> State:
    handlers = _HANDLERS
    previous: tuple[dt.datetime, str] | None = None
    for ts, id_, fi, line, ev in entries:
        if until is not None and ts >= until:
            break
        if previous is not None and previous[0] == ts and previous[1] == id_:
            # The same event twice (say, a line copied by hand): it happened once. Sorting
            # puts duplicates side by side, so this costs no memory; `check` reports them.
            continue
        previous = (ts, id_)
        try:
            effects = handlers[type(ev)](state, ev, (fi, line))
        except ValueError as exc:
            path, _ = state.where((fi, line))
            state.problems.append(Problem(path, line, str(exc)))
            continue
        state.events += 1
        if observer is not None:
            observer(state, ev, (fi, line), effects)
    return state
