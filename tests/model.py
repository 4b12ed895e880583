"""A deliberately naive reference model of the replay, for the property tests.

It shares no code with invctl: stock is a list of individual units (one record per
unit, with its cost, lot, expiry and the order it arrived at its location), money is
exact rational arithmetic (``Fraction``), and every rule is written out the slow,
obvious way from SPEC section 3 and the design decisions:

- events apply in (ts instant, id) order; voided events (and their voids' targets,
  wherever the void sits in time) are left out; a repeated (ts, id) counts once;
- ``fifo``: units leave first-expiring-first-out (units with an expiry, earliest first),
  then the rest first-in-first-out (by arrival at the location);
- ``average``: value is a running total per (sku, loc); the units still carry lot and
  expiry so that lot counts and transfers know what they move;
- stock may go negative: each missing unit is booked at the fallback cost (last receipt
  of the SKU, else the catalog cost, else 0); when units come in, they first fill the
  gap, and the difference between their cost and the estimates is a COGS true-up.

The model also marks a SKU as *inexact* when one of its computations divides to a
number that is not a short decimal (10/3, say): invctl then rounds at 34 digits, so the
tests compare such SKUs to within a tiny tolerance instead of exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

ZERO = Fraction(0)


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def is_short_decimal(x: Fraction) -> bool:
    """Whether x is a decimal with at most 12 places (invctl computes such numbers exactly)."""
    return 10**12 % x.denominator == 0 and abs(x) < 10**12


@dataclass
class Unit:
    """One unit on hand at one location."""

    cost: Fraction  # FIFO: what this unit cost; average costing: unused
    lot: str | None
    expires: dt.date | None
    seq: int  # arrival order at this location

    def order(self) -> tuple[bool, dt.date, int]:
        return (self.expires is None, self.expires or dt.date.min, self.seq)


@dataclass
class Pos:
    """Stock of one SKU at one location."""

    units: list[Unit] = field(default_factory=list)  # what is on hand
    short: list[Fraction] = field(default_factory=list)  # missing units: the estimate each was booked at
    avg_value: Fraction = ZERO  # average costing: value of the units on hand

    @property
    def qty(self) -> int:
        return len(self.units) - len(self.short)

    def by_lot(self) -> dict[tuple[str | None, dt.date | None], int]:
        out: dict[tuple[str | None, dt.date | None], int] = {}
        for u in self.units:
            out[(u.lot, u.expires)] = out.get((u.lot, u.expires), 0) + 1
        return out


@dataclass
class Line:
    """One PO line."""

    ordered: int = 0
    received: int = 0
    cancelled: int = 0
    loc: str = "main"

    @property
    def outstanding(self) -> int:
        return max(self.ordered - self.received - self.cancelled, 0)


class Model:
    def __init__(self, average: bool, catalog_cost: dict[str, str]):
        self.average = average
        self.catalog_cost = {k: Fraction(v) for k, v in catalog_cost.items()}
        self.positions: dict[tuple[str, str], Pos] = {}
        self.lines: dict[tuple[str, str], Line] = {}
        self.last_cost: dict[str, Fraction] = {}
        self.sales: dict[tuple[str, str], list[Any]] = {}  # (order, sku) -> [qty, cogs]
        self.inexact: set[str] = set()
        self.seq = 0
        # What happened, for the tests: per event id, its COGS (sales) or value added.
        self.cogs: dict[str, Fraction] = {}  # sale id -> COGS booked by the sale
        self.added: dict[str, Fraction] = {}  # positive adjustment/count id -> value added
        self.went_negative = 0  # times a sale/adjustment/transfer took a position below 0

    # --- helpers ------------------------------------------------------------------

    def pos(self, sku: str, loc: str) -> Pos:
        return self.positions.setdefault((sku, loc), Pos())

    def value(self, sku: str, loc: str) -> Fraction:
        p = self.pos(sku, loc)
        on_hand = p.avg_value if self.average else sum((u.cost for u in p.units), ZERO)
        return on_hand - sum(p.short, ZERO)

    def _div(self, sku: str, a: Fraction | int, b: int) -> Fraction:
        q = Fraction(a) / b
        if not is_short_decimal(q):
            self.inexact.add(sku)
        return q

    def fallback(self, sku: str) -> Fraction:
        if sku in self.last_cost:
            return self.last_cost[sku]
        return self.catalog_cost.get(sku, ZERO)

    def unit_cost(self, sku: str, loc: str) -> Fraction:
        p = self.pos(sku, loc)
        if p.qty > 0:
            return self._div(sku, self.value(sku, loc), p.qty)
        return self.fallback(sku)

    def take(self, sku: str, loc: str, n: int, lot: str | None = None
             ) -> tuple[Fraction, list[tuple[Fraction, str | None, dt.date | None]]]:
        """Take n units out in consumption order; returns their cost and what left."""
        p = self.pos(sku, loc)
        before = p.qty
        candidates = sorted((u for u in p.units if lot is None or u.lot == lot), key=Unit.order)
        taken = candidates[:n]
        for u in taken:
            p.units.remove(u)
        if self.average:
            if taken:
                cost = self._div(sku, p.avg_value * len(taken), len(p.units) + len(taken))
                p.avg_value -= cost
            else:
                cost = ZERO
            moved = [(ZERO, u.lot, u.expires) for u in taken]
        else:
            cost = sum((u.cost for u in taken), ZERO)
            moved = [(u.cost, u.lot, u.expires) for u in taken]
        missing = n - len(taken)
        if missing:
            fb = self.fallback(sku)
            p.short.extend([fb] * missing)
            cost += missing * fb
            moved += [(fb, None, None)] * missing
        if before >= 0 > p.qty:
            self.went_negative += 1
        return cost, moved

    def put(self, sku: str, loc: str, incoming: list[tuple[Fraction, str | None, dt.date | None]],
            total: Fraction | None = None) -> Fraction:
        """Units in (they fill missing units first); returns the COGS true-up."""
        p = self.pos(sku, loc)
        n = len(incoming)
        if total is None:
            total = sum((c for c, _, _ in incoming), ZERO)
        trueup = ZERO
        if p.short and n:
            filled = min(n, len(p.short))
            estimates = p.short[:filled]
            if filled < len(p.short) and len(set(p.short)) > 1:
                self.inexact.add(sku)  # invctl books part of a mixed gap pro rata
            del p.short[:filled]
            if self.average:
                value_in = total if filled == n else self._div(sku, total * filled, n)
            else:
                value_in = sum((c for c, _, _ in incoming[:filled]), ZERO)
            trueup = value_in - sum(estimates, ZERO)
            incoming = incoming[filled:]
            total -= value_in
        for cost, lot, expires in incoming:
            self.seq += 1
            p.units.append(Unit(ZERO if self.average else cost, lot, expires, self.seq))
        if self.average:
            p.avg_value += total
        return trueup

    # --- events -------------------------------------------------------------------

    def apply(self, ev: dict[str, Any]) -> None:
        kind = ev["type"]
        getattr(self, "_" + kind)(ev)

    def _received(self, ev: dict[str, Any]) -> None:
        qty, cost = int(ev["qty"]), Fraction(ev["cost"])
        expires = dt.date.fromisoformat(ev["expires"]) if ev.get("expires") else None
        self.put(ev["sku"], ev.get("loc", "main"), [(cost, ev.get("lot"), expires)] * qty)
        self.last_cost[ev["sku"]] = cost
        if ev.get("po") is not None:
            line = self.lines.get((ev["po"], ev["sku"]))
            if line is not None:
                line.received += qty

    def _sold(self, ev: dict[str, Any]) -> None:
        qty = int(ev["qty"])
        cost, _ = self.take(ev["sku"], ev.get("loc", "main"), qty)
        self.cogs[ev["id"]] = cost
        if ev.get("order") is not None:
            sale = self.sales.setdefault((ev["order"], ev["sku"]), [0, ZERO])
            sale[0] += qty
            sale[1] += cost

    def _returned(self, ev: dict[str, Any]) -> None:
        if not ev.get("restock", True):
            return
        sku, loc, qty = ev["sku"], ev.get("loc", "main"), int(ev["qty"])
        sale = self.sales.get((ev["order"], sku)) if ev.get("order") is not None else None
        if sale is not None and sale[0] > 0:
            unit = self._div(sku, sale[1], sale[0])
        else:
            unit = self.unit_cost(sku, loc)
        self.put(sku, loc, [(unit, None, None)] * qty)

    def _adjusted(self, ev: dict[str, Any]) -> None:
        sku, loc, qty, lot = ev["sku"], ev.get("loc", "main"), int(ev["qty"]), ev.get("lot")
        if qty < 0:  # from the lot as far as it goes, the rest as any adjustment
            in_lot = sum(1 for u in self.pos(sku, loc).units if u.lot == lot) if lot else 0
            first = min(-qty, in_lot)
            if first:
                self.take(sku, loc, first, lot)
            if -qty > first:
                self.take(sku, loc, -qty - first)
            return
        unit = Fraction(ev["cost"]) if ev.get("cost") is not None else self.unit_cost(sku, loc)
        p = self.pos(sku, loc)
        same_lot = sorted((u for u in p.units if u.lot == lot), key=Unit.order) if lot else []
        expires = same_lot[0].expires if same_lot else None
        self.added[ev["id"]] = qty * unit
        self.put(sku, loc, [(unit, lot, expires)] * qty)

    def _counted(self, ev: dict[str, Any]) -> None:
        sku, loc, qty, lot = ev["sku"], ev.get("loc", "main"), int(ev["qty"]), ev.get("lot")
        p = self.pos(sku, loc)
        computed = p.qty if lot is None else sum(1 for u in p.units if u.lot == lot)
        diff = qty - computed
        if diff < 0:
            self.take(sku, loc, -diff, lot)
        elif diff > 0:
            unit = self.unit_cost(sku, loc)
            same_lot = sorted((u for u in p.units if u.lot == lot), key=Unit.order) if lot else []
            expires = same_lot[0].expires if same_lot else None
            self.added[ev["id"]] = diff * unit
            self.put(sku, loc, [(unit, lot, expires)] * diff)

    def _transferred(self, ev: dict[str, Any]) -> None:
        cost, moved = self.take(ev["sku"], ev["from"], int(ev["qty"]))
        self.put(ev["sku"], ev["to"], moved, cost if self.average else None)

    def _ordered(self, ev: dict[str, Any]) -> None:
        line = self.lines.setdefault((ev["po"], ev["sku"]), Line())
        line.ordered += int(ev["qty"])
        line.loc = ev.get("loc", "main")

    def _cancelled(self, ev: dict[str, Any]) -> None:
        line = self.lines.get((ev["po"], ev["sku"]))
        if line is None:
            return
        want = line.outstanding if ev.get("qty") is None else int(ev["qty"])
        line.cancelled += min(want, line.outstanding)

    def _voided(self, ev: dict[str, Any]) -> None:
        pass

    # --- results ------------------------------------------------------------------

    def on_order(self) -> dict[tuple[str, str], int]:
        return {k: line.outstanding for k, line in self.lines.items() if line.outstanding}


def replay_order(events: Iterable[dict[str, Any]], until: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The events the replay applies, in order: voids' targets out, repeats once, before ``until``."""
    events = list(events)
    voided = {ev["target"] for ev in events if ev["type"] == "voided"}
    seen: set[tuple[dt.datetime, str]] = set()
    out = []
    for ev in sorted(events, key=lambda e: (parse_ts(e["ts"]), e["id"])):
        key = (parse_ts(ev["ts"]), ev["id"])
        if ev["id"] in voided or key in seen:
            continue
        if until is not None and key[0] >= until:
            break
        seen.add(key)
        out.append(ev)
    return out


def run(events: Iterable[dict[str, Any]], *, average: bool, catalog_cost: dict[str, str],
        until: dt.datetime | None = None) -> Model:
    model = Model(average, catalog_cost)
    for ev in replay_order(events, until):
        model.apply(ev)
    return model
