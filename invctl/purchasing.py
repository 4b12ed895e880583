"""Purchase orders: placing, receiving and cancelling PO lines, and the lead times they show.

The decisions are pure functions from the replayed state and a request to the keys of the
new events (``plan_create``, ``plan_receive``, ``plan_cancel``): they check everything and
raise :class:`Refused` with one line saying what to fix. The writers (``create_po``,
``receive_po``, ``cancel_po``) stamp those keys into events and append them through
:func:`invctl.record.record` (lock, replay with the new events, check, one append). Under
the lock the decision is made again on the journal as it is then; if another writer changed
it meanwhile (the same PO received twice at once, a generated PO id taken), the write starts
over with the new state, so two writers never receive the same units twice.

Nothing here prints or knows typer (see invctl/cli/orders.py).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from invctl import events as E
from invctl import inputs
from invctl.catalog import check_id
from invctl.errors import Refused
from invctl.fold import POLine, State
from invctl.journal import find_lines
from invctl.moves import Common, Written
from invctl.numbers import Number, money_str, parse_decimal, qty_str
from invctl.record import new_fields, record
from invctl.replay import replay
from invctl.settings import Ledger

LINE_FORM = "SKU:QTY[:COST]"
_ATTEMPTS = 5  # re-plans when another writer changes the PO while this one waits for the lock

# A line as given by a caller: (SKU, quantity, unit cost or None for the catalog cost).
LineSpec = tuple[str, str | int | Decimal, str | Decimal | None]
Lines = Sequence[LineSpec]


# --- reading PO lines ----------------------------------------------------------------------


@dataclass(frozen=True)
class LeadTime:
    """Measured lead time of one supplier, in days.

    ``mean`` and ``std`` (sample standard deviation, 0 for a single line) of the days from
    a PO line's order date to the date of its last receipt, over the ``n`` lines that are
    closed (nothing outstanding) and received something. Dates are in the ledger's zone.
    """

    supplier: str
    mean: float
    std: float
    n: int


def lead_days(line: POLine, tz: dt.tzinfo) -> int | None:
    """Days from ordering a line to its last receipt, for a closed line that received something.

    An open line's lead time is not known yet, and a line cancelled with nothing received
    has none; both give None.
    """
    if line.outstanding or not line.received or line.placed is None or line.last_received is None:
        return None
    return (line.last_received.astimezone(tz).date() - line.placed.astimezone(tz).date()).days


def mean_std(values: list[int]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for fewer than two values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def lead_times(state: State, *, min_receipts: int = 3,
               lines: Iterable[POLine] | None = None) -> dict[str, LeadTime]:
    """Measured lead time per supplier, for suppliers with at least ``min_receipts`` lines
    measured (see :func:`lead_days`); others are left out (use the promised ``lead_time``
    of suppliers.toml for them). ``lines``: only these PO lines (default: all)."""
    tz = state.ledger.settings.tz
    days: dict[str, list[int]] = {}
    for line in state.po_lines.values() if lines is None else lines:
        d = lead_days(line, tz)
        if d is not None and line.supplier is not None:
            days.setdefault(line.supplier, []).append(d)
    out = {}
    for supplier, values in sorted(days.items()):
        if len(values) >= max(min_receipts, 1):
            mean, std = mean_std(values)
            out[supplier] = LeadTime(supplier, mean, std, len(values))
    return out


def _line_order(line: POLine) -> tuple[dt.datetime, str, str]:
    return (line.placed or dt.datetime.min.replace(tzinfo=dt.UTC), line.po, line.sku)


def open_lines(state: State) -> list[POLine]:
    """PO lines with something outstanding, oldest order first."""
    return sorted((x for x in state.po_lines.values() if x.outstanding), key=_line_order)


def lines_of(state: State, po: str) -> list[POLine]:
    """The lines of one PO, in the order they were placed."""
    return sorted((x for x in state.po_lines.values() if x.po == po), key=_line_order)


def find_po(state: State, po: str) -> list[POLine]:
    """The lines of a PO, or Refused when the journal has none (with a did-you-mean hint)."""
    found = lines_of(state, po)
    if not found:
        import difflib

        known = sorted({x.po for x in state.po_lines.values()})
        close = difflib.get_close_matches(po, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise Refused(f"no purchase order {po!r} in the journal{hint}; see `invctl order list`")
    return found


# --- requests -------------------------------------------------------------------------------


def parse_line(text: str, what: str = "--line", *, cost: bool = True) -> tuple[str, str, str | None]:
    """SKU:QTY[:COST] split into its parts (checked later against the catalog and the PO)."""
    form = LINE_FORM if cost else "SKU:QTY"
    parts = text.strip().split(":")
    if len(parts) not in ((2, 3) if cost else (2,)) or not all(p.strip() for p in parts):
        example = "TEE-M:100:6.20" if cost else "TEE-M:60"
        raise Refused(f"{what} {text!r} is not {form}; e.g. {what} {example}")
    sku, qty = parts[0].strip(), parts[1].strip()
    return sku, qty, parts[2].strip() if len(parts) == 3 else None


def _qty(value: str | int | Decimal, sku: str) -> Number:
    return inputs.qty(str(value), f"quantity of {sku}")


def _money(ledger: Ledger, value: str | Decimal, what: str) -> str:
    return inputs.money(ledger, str(value), what)


@dataclass
class Plan:
    """A decision: the keys of the new events (no id, ts or recorder yet), the ids already
    recorded for the same request (--ref, or the same PO again), and notes for the person."""

    po: str
    events: list[dict[str, Any]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    why: str = ""
    notes: list[str] = field(default_factory=list)


_GENERATED = re.compile(r"PO-(\d{8})-(\d+)")


def next_po_id(state: State, day: dt.date, taken: Iterable[str] = ()) -> str:
    """PO-YYYYMMDD-NNN: the next number of that day not used by any PO line in the ledger,
    nor in ``taken`` (ids of voided orders: `order show` would mix two POs under one id)."""
    stamp = day.strftime("%Y%m%d")
    used = 0
    for po in {x.po for x in state.po_lines.values()} | set(taken):
        m = _GENERATED.fullmatch(po)
        if m and m.group(1) == stamp:
            used = max(used, int(m.group(2)))
    return f"PO-{stamp}-{used + 1:03d}"


def plan_create(state: State, supplier: str, lines: Lines, *, at: dt.datetime,
                expected: str | dt.date | None = None, loc: str = "main", po: str | None = None,
                used: list[E.Event] | None = None, by_ref: dict[str, E.Event] | None = None) -> Plan:
    """`ordered` events for a new PO: one per line, all under one PO id.

    ``used``: events of the journal that already name ``po`` (voided ones too);
    ``by_ref``: `ordered` events carrying the request's --ref, by SKU.
    """
    ledger = state.ledger
    catalog = ledger.catalog
    catalog.supplier(supplier)
    inputs.location(ledger, loc)
    if not lines:
        raise Refused(f"a purchase order needs at least one --line {LINE_FORM}, e.g. --line TEE-M:100:6.20")
    wanted: list[tuple[str, Number, str]] = []
    seen: set[str] = set()
    for sku, raw_qty, raw_cost in lines:
        item = catalog.item(sku)
        if sku in seen:
            raise Refused(f"{sku} is on more than one --line; a PO has one line per SKU, so add the quantities up")
        seen.add(sku)
        qty = _qty(raw_qty, sku)
        if raw_cost is None:
            if item.cost is None:
                raise Refused(f"{sku} has no catalog cost; give the unit cost: --line {sku}:{qty_str(qty)}:COST")
            cost = _money(ledger, item.cost, f"catalog cost of {sku}")
        else:
            cost = _money(ledger, raw_cost, f"cost of {sku}")
        wanted.append((sku, qty, cost))
    day = at.astimezone(ledger.settings.tz).date()
    if expected is None:
        promised = catalog.suppliers[supplier].lead_time
        due = day + dt.timedelta(days=promised) if promised is not None else None
    else:
        due = expected if isinstance(expected, dt.date) else dt.date.fromisoformat(inputs.date(expected, "--expected"))
        if due < day:
            raise Refused(f"--expected {due.isoformat()} is before the order date {day.isoformat()}; check the dates")

    if by_ref:
        skus = [sku for sku, _, _ in wanted]
        if all(sku in by_ref for sku in skus):
            first = by_ref[skus[0]]
            return Plan(getattr(first, "po", ""), already=[by_ref[s].id for s in skus], why="with this --ref")
        ev = next(iter(by_ref.values()))
        raise Refused(f"--ref {ev.ref} is already used by PO {getattr(ev, 'po', '?')} for other lines; "
                      "give this order its own --ref")

    if po is not None:
        check_id("PO id", po)
        existing = lines_of(state, po)
        if existing or used:
            same = (len(existing) == len(wanted) and all(
                (x.sku, x.ordered, x.cost, x.supplier, x.loc) == (sku, qty, Decimal(cost), supplier, loc)
                and (expected is None or x.expected == due)
                for x, (sku, qty, cost) in zip(sorted(existing, key=lambda x: x.sku), sorted(wanted), strict=False)))
            if same:
                ids = [ev.id for ev in used or [] if isinstance(ev, E.Ordered) and ev.id not in state.voided]
                return Plan(po, already=ids, why="with the same lines")
            raise Refused(f"PO {po} already exists in the journal; leave --po out for a new id, "
                          f"or see it with `invctl order show {po}`")
    else:
        po = next_po_id(state, day, [ev.po for ev in used or [] if isinstance(ev, E.Ordered)])

    out = [
        {"type": "ordered", "sku": sku, "qty": inputs.qty_json(qty), "loc": loc, "po": po,
         "supplier": supplier, "cost": cost, "expected": due.isoformat() if due else None}
        for sku, qty, cost in wanted
    ]
    return Plan(po, out)


def _not_before_order(lines: list[POLine], at: dt.datetime, what: str) -> None:
    for line in lines:
        if line.placed is not None and at < line.placed:
            raise Refused(f"PO {line.po} was placed on {line.placed.isoformat()}; cannot {what} it "
                          f"at {at.isoformat()} (before the order); check --at")


def plan_receive(state: State, po: str, lines: Lines | None = None,
                 *, at: dt.datetime, loc: str | None = None, lot: str | None = None,
                 expires: str | None = None, allow_over: bool = False,
                 by_ref: dict[str, E.Event] | None = None) -> Plan:
    """`received` events against a PO: each line's quantity (default: everything outstanding)
    at the PO line's cost (or the cost given), with ``po`` and the supplier.

    ``by_ref``: `received` events carrying the request's --ref, by SKU (those are skipped).
    """
    ledger = state.ledger
    po_lines = {x.sku: x for x in find_po(state, po)}
    by_ref = by_ref or {}
    if loc is not None:
        inputs.location(ledger, loc)
    lot = inputs.text(lot, "--lot")
    expires = inputs.date(expires, "--expires") if expires else None
    todo: list[tuple[POLine, Number, str]] = []
    already: list[str] = []
    notes: list[str] = []
    if lines is None:
        for each in po_lines.values():
            if each.sku in by_ref:
                already.append(by_ref[each.sku].id)
            elif each.outstanding:
                todo.append((each, each.outstanding, str(each.cost)))
        if not todo and not already:
            raise Refused(f"nothing outstanding on PO {po}: {_state_of(po_lines.values())}; "
                          "to record goods beyond the order give --line SKU:QTY --allow-over")
    else:
        seen: set[str] = set()
        for sku, raw_qty, raw_cost in lines:
            line = po_lines.get(sku)
            if line is None:
                raise Refused(f"PO {po} has no line for {sku} (its lines: {', '.join(po_lines)})")
            if sku in seen:
                raise Refused(f"{sku} is on more than one --line; give it once with the total quantity")
            seen.add(sku)
            qty = _qty(raw_qty, sku)
            cost = _money(ledger, raw_cost, f"cost of {sku}") if raw_cost is not None else str(line.cost)
            if sku in by_ref:
                already.append(by_ref[sku].id)
                continue
            left = line.outstanding
            if qty > left:
                over = qty - left
                if not allow_over:
                    if not left and not line.received and line.cancelled:
                        why = f"PO {po} line {sku} is fully cancelled"
                    elif not left and not line.cancelled:
                        why = f"PO {po} line {sku} is already fully received ({_line_text(line)})"
                    elif not left:
                        why = f"nothing outstanding on PO {po} line {sku} ({_line_text(line)})"
                    else:
                        why = f"only {qty_str(left)} {sku} outstanding on PO {po}, not {qty_str(qty)} ({_line_text(line)})"
                    raise Refused(f"{why}; to record goods beyond the order use --allow-over")
                notes.append(f"over-receipt: {qty_str(over)} {sku} more than outstanding on PO {po} "
                             f"({_line_text(line)}); recorded because of --allow-over")
            todo.append((line, qty, cost))
    _not_before_order([x for x, _, _ in todo], at, "receive")
    out = []
    for line, qty, cost in todo:
        where = loc if loc is not None else inputs.location(ledger, line.loc, f"location of PO {po} line {line.sku}")
        out.append({"type": "received", "sku": line.sku, "qty": inputs.qty_json(qty), "loc": where,
                    "po": po, "supplier": line.supplier, "cost": cost, "lot": lot, "expires": expires})
    return Plan(po, out, already=already, why="with this --ref" if already else "", notes=notes)


def plan_cancel(state: State, po: str, sku: str | None = None, qty: str | int | Decimal | None = None,
                *, at: dt.datetime, by_ref: dict[str, E.Event] | None = None) -> Plan:
    """`cancelled` events for what is outstanding: one line (``sku``), part of it (``qty``),
    or every open line of the PO. Each event carries the quantity it cancels."""
    po_lines = {x.sku: x for x in find_po(state, po)}
    by_ref = by_ref or {}
    if qty is not None and sku is None:
        raise Refused("--qty needs --sku: say which line to cancel part of")
    todo: list[tuple[POLine, Number]] = []
    already: list[str] = []
    if sku is not None:
        one = po_lines.get(sku)
        if one is None:
            raise Refused(f"PO {po} has no line for {sku} (its lines: {', '.join(po_lines)})")
        if sku in by_ref:
            return Plan(po, already=[by_ref[sku].id], why="with this --ref")
        left = one.outstanding
        if not left:
            raise Refused(f"nothing outstanding on PO {po} line {sku} ({_line_text(one)}); nothing to cancel")
        n = _qty(qty, sku) if qty is not None else left
        if n > left:
            raise Refused(f"only {qty_str(left)} {sku} outstanding on PO {po}, cannot cancel {qty_str(n)} ({_line_text(one)})")
        todo.append((one, n))
    else:
        for line in po_lines.values():
            if line.sku in by_ref:
                already.append(by_ref[line.sku].id)
            elif line.outstanding:
                todo.append((line, line.outstanding))
        if not todo and not already:
            raise Refused(f"nothing outstanding on PO {po}: {_state_of(po_lines.values())}; nothing to cancel")
    _not_before_order([x for x, _ in todo], at, "cancel")
    out = [{"type": "cancelled", "sku": line.sku, "qty": inputs.qty_json(n), "po": po} for line, n in todo]
    return Plan(po, out, already=already, why="with this --ref" if already else "")


def _line_text(line: POLine) -> str:
    parts = [f"ordered {qty_str(line.ordered)}", f"received {qty_str(line.received)}"]
    if line.cancelled:
        parts.append(f"cancelled {qty_str(line.cancelled)}")
    return ", ".join(parts)


def _state_of(lines: Iterable[POLine]) -> str:
    return "; ".join(f"{x.sku} {_line_text(x)}" for x in lines)


# --- writing ----------------------------------------------------------------------------------


@dataclass
class POWritten(Written):
    """What a PO command did: the outcome (None when nothing was appended), the PO id, and the
    ids already recorded for this request (``why`` says how they were found)."""

    po: str = ""
    already: list[str] = field(default_factory=list)
    why: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)  # the new events' keys

    @property
    def ids(self) -> list[str]:
        return self.already + (self.outcome.ids if self.outcome is not None else [])


class _Changed(Exception):
    """Under the lock, the decision came out differently: another writer got in first."""


def _decode(raw: bytes) -> E.Event | None:
    try:
        return E.decoder.decode(raw)
    except E.DECODE_ERRORS:
        return None


def events_naming(ledger: Ledger, value: str, match: Callable[[E.Event], bool]) -> list[E.Event]:
    """Events of the journal (voided ones too) whose line holds the JSON string ``value``
    and that ``match``: a byte search, then a decode of the few lines found."""
    out = []
    for _, _, raw in find_lines(ledger, msgspec.json.encode(value)):
        ev = _decode(raw)
        if ev is not None and match(ev):
            out.append(ev)
    return out


def by_ref(ledger: Ledger, kind: type[E.Event], ref: str | None) -> dict[str, E.Event]:
    """Events of one kind carrying ``ref``, by SKU (the first of each): as for every writer,
    ``(type, ref, sku)`` already in the journal means "recorded before" (voided ones too)."""
    if ref is None:
        return {}
    out: dict[str, E.Event] = {}
    for ev in events_naming(ledger, ref, lambda ev: isinstance(ev, kind) and ev.ref == ref):
        out.setdefault(getattr(ev, "sku", ""), ev)
    return out


def _commit(ledger: Ledger, common: Common, at: dt.datetime, plan: Callable[[State], Plan]) -> POWritten:
    """Decide on the current state, then record; the decision is made again under the lock
    and the write starts over if it came out differently."""
    note, ref = inputs.text(common.note, "--note"), inputs.text(common.ref, "--ref")
    for _ in range(_ATTEMPTS):
        decided = plan(replay(ledger))
        if not decided.events:
            return POWritten(None, decided.already[0] if decided.already else None, decided.po,
                             decided.already, decided.why)
        fields = [new_fields(keys["type"], at, **{k: v for k, v in keys.items() if k != "type"}, note=note, ref=ref)
                  for keys in decided.events]

        def check(state: State, outcome: Any, decided: Plan = decided) -> None:
            again = plan(replay(ledger))
            if again.events != decided.events or again.already != decided.already:
                raise _Changed

        try:
            outcome = record(ledger, fields, check, dry_run=common.dry_run)
        except _Changed:
            continue
        outcome.notes.extend(decided.notes)
        return POWritten(outcome, None, decided.po, decided.already, decided.why, decided.events)
    raise Refused("the purchase order kept changing while this command waited to write; run it again")


def create_po(ledger: Ledger, supplier: str, lines: Lines, expected: str | dt.date | None,
              common: Common, *, po: str | None = None) -> POWritten:
    """Place a purchase order: one `ordered` event per line under one PO id (``po``, else
    the next free PO-YYYYMMDD-NNN of the order date). A line's cost None means the item's
    catalog cost; ``expected`` None means the order date plus the supplier's lead_time.

    Idempotent: with ``common.ref``, a PO already recorded with that ref appends nothing;
    with ``po``, so does the same PO again (same supplier, SKUs, quantities, costs).
    """
    at = inputs.moment(ledger, common.at)
    loc = common.loc
    ref = inputs.text(common.ref, "--ref")
    if po is not None:
        check_id("PO id", po)

    def plan(state: State) -> Plan:
        if po is not None:
            used = events_naming(ledger, po, lambda ev: getattr(ev, "po", None) == po)
        else:  # the orders of that day, voided ones too, for a new id
            prefix = at.astimezone(ledger.settings.tz).strftime('"PO-%Y%m%d-').encode()
            used = [ev for _, _, raw in find_lines(ledger, prefix) if (ev := _decode(raw)) is not None]
        return plan_create(state, supplier, lines, at=at, expected=expected, loc=loc, po=po, used=used,
                           by_ref=by_ref(ledger, E.Ordered, ref))

    return _commit(ledger, common, at, plan)


def receive_po(ledger: Ledger, po: str, lines: Lines | None,
               common: Common, *, loc: str | None = None, lot: str | None = None,
               expires: str | None = None, allow_over: bool = False) -> POWritten:
    """Receive goods against a PO: the lines given, else everything outstanding."""
    at = inputs.moment(ledger, common.at)
    ref = inputs.text(common.ref, "--ref")

    def plan(state: State) -> Plan:
        return plan_receive(state, po, lines, at=at, loc=loc, lot=lot, expires=expires,
                            allow_over=allow_over, by_ref=by_ref(ledger, E.Received, ref))

    return _commit(ledger, common, at, plan)


def cancel_po(ledger: Ledger, po: str, common: Common, *, sku: str | None = None,
              qty: str | int | Decimal | None = None) -> POWritten:
    """Cancel what is outstanding on a PO: one line, part of one, or all of them."""
    at = inputs.moment(ledger, common.at)
    ref = inputs.text(common.ref, "--ref")

    def plan(state: State) -> Plan:
        return plan_cancel(state, po, sku, qty, at=at, by_ref=by_ref(ledger, E.Cancelled, ref))

    return _commit(ledger, common, at, plan)


def summary(written: POWritten, places: int) -> str:
    """One sentence about what a PO command recorded (for stderr)."""
    parts: dict[str, list[str]] = {}
    value = Decimal(0)
    for keys in written.events:
        qty = parse_decimal(str(keys["qty"]))
        parts.setdefault(keys["type"], []).append(f"{qty_str(qty)} {keys['sku']}")
        if keys.get("cost") is not None:
            value += qty * Decimal(keys["cost"])
    verbs = {"ordered": "ordered", "received": "received", "cancelled": "cancelled"}
    said = "; ".join(f"{verbs[t]} {', '.join(items)}" for t, items in parts.items())
    out = f"{written.po}: {said}"
    if any(k["type"] != "cancelled" for k in written.events):
        out += f" ({money_str(value, places)})"
    first = written.events[0] if written.events else {}
    if first.get("type") == "ordered":
        out += f" from {first['supplier']}" + (f", expected {first['expected']}" if first.get("expected") else "")
    return out
