"""The everyday writing commands as library functions: receive, sell, return, adjust,
count, transfer, void. Each builds new events, checks them against the replayed state
(via :func:`invctl.record.record`) and returns what happened; none prints."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from invctl import events as E
from invctl import inputs
from invctl.catalog import Catalog
from invctl.errors import Refused
from invctl.journal import find_lines
from invctl.numbers import Number, parse_qty, qty_str
from invctl.record import Outcome, new_fields, record
from invctl.replay import State, replay
from invctl.settings import Ledger


@dataclass
class Common:
    """Options every writing command takes."""

    at: str | None = None
    loc: str = "main"
    note: str | None = None
    ref: str | None = None
    allow_negative: bool = False
    dry_run: bool = False


@dataclass
class Written:
    """The result of a writing command: the outcome, or the id already holding its ref."""

    outcome: Outcome | None
    existing: str | None = None

    @property
    def ids(self) -> list[str]:
        if self.outcome is None:
            return [self.existing] if self.existing else []
        return self.outcome.ids


def find_ref(ledger: Ledger, type_: str, ref: str, sku: str | None) -> str | None:
    """The id of an event already recorded with this (type, ref, sku), if any."""
    needle = msgspec.json.encode(ref)
    for _, _, raw in find_lines(ledger, needle):
        try:
            ev = E.decoder.decode(raw)
        except E.DECODE_ERRORS:
            continue
        if ev.ref == ref and type(ev).__struct_config__.tag == type_ and getattr(ev, "sku", None) == sku:
            return ev.id
    return None


class _Recorded(Exception):
    """Raised under the lock when another writer recorded the same --ref meanwhile."""

    def __init__(self, existing: str):
        self.existing = existing


def _write(ledger: Ledger, common: Common, fields: dict[str, Any], check: Any = None) -> Written:
    ref = fields.get("ref")
    if ref is not None:
        existing = find_ref(ledger, fields["type"], ref, fields.get("sku"))
        if existing:
            return Written(None, existing)

    def guarded(state: State, outcome: Outcome) -> None:
        # Look again under the lock: two writers with the same --ref could both pass the
        # look above (a cron job retrying while the first run still writes) and both append.
        if ref is not None:
            again = find_ref(ledger, fields["type"], ref, fields.get("sku"))
            if again:
                raise _Recorded(again)
        if check is not None:
            check(state, outcome)

    try:
        return Written(record(ledger, [fields], guarded, dry_run=common.dry_run))
    except _Recorded as done:
        return Written(None, done.existing)


def _base(ledger: Ledger, type_: str, sku: str, common: Common, **fields: Any) -> dict[str, Any]:
    ts = inputs.moment(ledger, common.at)
    return new_fields(
        type_, ts, sku=sku, **fields,
        note=inputs.text(common.note, "--note"), ref=inputs.text(common.ref, "--ref"),
    )


def no_oversell(allow: bool) -> Any:
    """A check refusing new events that take a position below zero, then or later."""

    def check(state: State, outcome: Outcome) -> None:
        if allow:
            return
        for ev_id, effects in outcome.effects.items():
            for fx in effects:
                if fx.qty >= 0:
                    continue
                after = outcome.after[ev_id][(fx.sku, fx.loc)]
                if after < 0:
                    raise Refused(
                        f"only {qty_str(max(after - fx.qty, 0))} {fx.sku} on hand at {fx.loc}, cannot take "
                        f"{qty_str(-fx.qty)}; record the missing receipt first, or use --allow-negative"
                    )
        for (sku, loc), (low, when) in outcome.lowest.items():
            if low < 0:
                raise Refused(
                    f"{sku} at {loc} would go to {qty_str(low)} on {when.date().isoformat()} "
                    "(later events take what this one takes); record the missing receipt first, "
                    "or use --allow-negative"
                )

    return check


def _item(ledger: Ledger, sku: str) -> Catalog:
    catalog: Catalog = ledger.catalog
    catalog.item(sku)
    return catalog


def receive(ledger: Ledger, sku: str, qty: str, cost: str, common: Common, *, supplier: str | None = None,
            po: str | None = None, lot: str | None = None, expires: str | None = None) -> Written:
    catalog = _item(ledger, sku)
    if supplier is not None:
        catalog.supplier(supplier)
    fields = _base(
        ledger, "received", sku, common, qty=inputs.qty_json(inputs.qty(qty)),
        loc=inputs.location(ledger, common.loc), cost=inputs.money(ledger, cost, "--cost"),
        supplier=supplier, po=inputs.text(po, "--po"), lot=inputs.text(lot, "--lot"),
        expires=inputs.date(expires, "--expires") if expires else None,
    )
    return _write(ledger, common, fields)


def sell(ledger: Ledger, sku: str, qty: str, price: str, common: Common, *, channel: str | None = None,
         customer: str | None = None, region: str | None = None, order: str | None = None) -> Written:
    _item(ledger, sku)
    fields = _base(
        ledger, "sold", sku, common, qty=inputs.qty_json(inputs.qty(qty)),
        loc=inputs.location(ledger, common.loc), price=inputs.money(ledger, price, "--price"),
        channel=inputs.text(channel, "--channel"), customer=inputs.text(customer, "--customer"),
        region=inputs.text(region, "--region"), order=inputs.text(order, "--order"),
    )
    return _write(ledger, common, fields, no_oversell(common.allow_negative))


def return_(ledger: Ledger, sku: str, qty: str, common: Common, *, refund: str | None = None,
            restock: bool = True, order: str | None = None, customer: str | None = None,
            channel: str | None = None) -> Written:
    _item(ledger, sku)
    fields = _base(
        ledger, "returned", sku, common, qty=inputs.qty_json(inputs.qty(qty)),
        loc=inputs.location(ledger, common.loc),
        refund=inputs.money(ledger, refund, "--refund") if refund is not None else None,
        restock=None if restock else False, order=inputs.text(order, "--order"),
        customer=inputs.text(customer, "--customer"), channel=inputs.text(channel, "--channel"),
    )
    return _write(ledger, common, fields)


def adjust(ledger: Ledger, sku: str, delta: str, reason: str, common: Common, *, cost: str | None = None,
           lot: str | None = None) -> Written:
    _item(ledger, sku)
    if reason not in E.REASONS:
        raise Refused(f"--reason {reason!r} is not one of: {', '.join(E.REASONS)}")
    change = inputs.qty(delta, "change", signed=True)
    if cost is not None and change < 0:
        raise Refused("--cost only applies to positive adjustments (a negative one is valued at the cost of what it takes)")
    loc = inputs.location(ledger, common.loc)
    lot = inputs.text(lot, "--lot")
    fields = _base(
        ledger, "adjusted", sku, common, qty=inputs.qty_json(change), reason=reason, loc=loc,
        cost=inputs.money(ledger, cost, "--cost") if cost is not None else None, lot=lot,
    )
    if lot is not None and change < 0:
        _within_lot(ledger, sku, loc, lot, -change)
    return _write(ledger, common, fields, no_oversell(common.allow_negative))


def _within_lot(ledger: Ledger, sku: str, loc: str, lot: str, qty: Number) -> None:
    """A write-off of a lot takes no more than the lot holds now. (The replay would take
    the rest from other stock; a mistyped or mislabelled lot is better caught when typed.)"""
    pos = replay(ledger).positions.get((sku, loc))
    held: Number = pos.lot_qty(lot) if pos is not None and pos.qty > 0 else 0
    if held < qty:
        raise Refused(f"lot {lot} of {sku} at {loc} holds {qty_str(held)}: adjust at most -{qty_str(held)} "
                      f"with --lot {lot}, or leave out --lot")


def transfer(ledger: Ledger, sku: str, qty: str, src: str, dst: str, common: Common) -> Written:
    _item(ledger, sku)
    inputs.location(ledger, src, "--from")
    inputs.location(ledger, dst, "--to")
    if src == dst:
        raise Refused("--from and --to are the same location; a transfer moves stock between two")
    fields = _base(ledger, "transferred", sku, common, qty=inputs.qty_json(inputs.qty(qty)))
    fields["from"], fields["to"] = src, dst
    return _write(ledger, common, fields, no_oversell(common.allow_negative))


@dataclass
class CountLine:
    """One count recorded; ``already`` when its --ref was recorded before (nothing appended)."""

    sku: str
    loc: str
    counted: Number
    expected: Number
    variance: Number
    value: Decimal
    id: str
    already: bool = False


def _count_lines(outcome: Outcome, fields: list[dict[str, Any]]) -> list[CountLine]:
    out = []
    for f, ev_id in zip(fields, outcome.ids, strict=True):
        fx = outcome.effects[ev_id][0]
        # The quantity counted is the event's own: on hand after it is the whole position,
        # which differs from what was counted when only one lot was counted (--lot).
        counted = parse_qty(f["qty"])
        out.append(CountLine(fx.sku, fx.loc, counted, counted - fx.qty, fx.qty, fx.value, ev_id))
    return out


def _record_counts(ledger: Ledger, new: list[dict[str, Any]], common: Common) -> list[CountLine]:
    """Record counts, skipping those whose (counted, --ref, SKU) is in the journal already.

    The look is repeated under the lock, so two runs of the same import append once.
    """
    ref = new[0].get("ref") if new else None
    if ref is None:
        return _count_lines(record(ledger, new, dry_run=common.dry_run), new)
    done: list[CountLine] = []
    todo: list[dict[str, Any]] = []

    def split() -> None:
        done.clear()
        todo.clear()
        for f in new:
            existing = find_ref(ledger, "counted", ref, f["sku"])
            if existing:
                done.append(CountLine(f["sku"], f["loc"], parse_qty(f["qty"]), 0, 0, Decimal(0), existing, already=True))
            else:
                todo.append(f)

    split()
    if not todo:
        return done

    def check(state: State, outcome: Outcome) -> None:
        before = len(todo)
        split()
        if len(todo) != before:
            raise _Recorded("")  # another writer recorded some meanwhile: start over

    try:
        outcome = record(ledger, list(todo), check, dry_run=common.dry_run)
    except _Recorded:
        return _record_counts(ledger, new, common)
    return done + _count_lines(outcome, todo)


def count(ledger: Ledger, sku: str, qty: str, common: Common, *, lot: str | None = None) -> list[CountLine]:
    _item(ledger, sku)
    fields = _base(
        ledger, "counted", sku, common, qty=inputs.qty_json(inputs.qty(qty, allow_zero=True)),
        loc=inputs.location(ledger, common.loc), lot=inputs.text(lot, "--lot"),
    )
    # --ref used to be ignored here: a repeated count was appended again.
    return _record_counts(ledger, [fields], common)


def count_file(ledger: Ledger, path: Path, common: Common) -> list[CountLine]:
    """Counts from a CSV of sku,qty[,loc] rows (a header row is optional); all or nothing."""
    catalog: Catalog = ledger.catalog
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Refused(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise Refused(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV") from None
    ts = inputs.moment(ledger, common.at)
    new: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    # Rows are numbered by their physical line in the file (the header is line 1), as an
    # editor shows them: counting CSV records instead put a row after a quoted line break
    # on the wrong line.
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 0
    try:
        for row in reader:
            rows.append((line + 1, row))
            line = reader.line_num
    except csv.Error as exc:
        raise Refused(f"{path}:{reader.line_num}: not readable as CSV: {exc}") from None
    cols = {"sku": 0, "qty": 1, "loc": 2}
    start = 0
    # A header is a first row naming a sku column anywhere (it used to be seen only when
    # sku came first, so "loc,sku,qty" was read as a count of SKU 'loc').
    if rows and "sku" in [h.strip().lower() for h in rows[0][1]]:
        header = [h.strip().lower() for h in rows[0][1]]
        if "qty" not in header:
            raise Refused(f"{path}:{rows[0][0]}: the header needs a qty column (columns: sku,qty[,loc])")
        cols = {k: header.index(k) for k in ("sku", "qty", "loc") if k in header}
        start = 1
    for n, row in rows[start:]:
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            i = cols.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        sku, raw_qty, loc = cell("sku"), cell("qty"), cell("loc") or common.loc
        where = f"{path}:{n}"
        if not sku:
            raise Refused(f"{where}: no SKU in this row (columns: sku,qty[,loc])")
        if sku not in catalog.items:
            try:
                catalog.item(sku)
            except Refused as exc:
                raise Refused(f"{where}: {exc}") from None
        if not raw_qty:
            continue  # not counted (a blank cell on a count sheet)
        try:
            counted = inputs.qty(raw_qty, "counted quantity", allow_zero=True)
            inputs.location(ledger, loc)
        except Refused as exc:
            raise Refused(f"{where}: {exc}") from None
        if (sku, loc) in seen:
            raise Refused(f"{where}: {sku} at {loc} is counted twice (also on line {seen[(sku, loc)]}); keep one row")
        seen[(sku, loc)] = n
        new.append(new_fields("counted", ts, sku=sku, qty=inputs.qty_json(counted), loc=loc,
                              note=inputs.text(common.note, "--note"), ref=inputs.text(common.ref, "--ref")))
    if not new:
        raise Refused(f"{path}: no counts in the file (rows of sku,qty[,loc])")
    return _record_counts(ledger, new, common)


def _void_target(ledger: Ledger, target: str) -> E.Event:
    """The event a void would take out; refused when it is missing, a void, or voided already."""
    found: E.Event | None = None
    voided_by: str | None = None
    for _, _, raw in find_lines(ledger, target.encode()):
        try:
            ev = E.decoder.decode(raw)
        except E.DECODE_ERRORS:
            continue
        if ev.id == target:
            found = ev
        elif isinstance(ev, E.Voided) and ev.target == target:
            voided_by = ev.id
    if found is None:
        raise Refused(f"no event with id {target} in the journal; copy the id from `invctl history SKU`")
    if voided_by is not None:
        raise Refused(f"event {target} is already voided (by {voided_by}); nothing to do")
    if isinstance(found, E.Voided):
        raise Refused(f"event {target} is itself a void; to restore its target, record the event again")
    return found


def void(ledger: Ledger, target: str, reason: str, common: Common) -> Written:
    if common.ref is not None:  # the same --ref again: done already, not "already voided"
        existing = find_ref(ledger, "voided", common.ref, None)
        if existing:
            return Written(None, existing)
    found = _void_target(ledger, target)
    if not reason.strip():
        raise Refused("--reason must say why the event is voided")
    ts = inputs.moment(ledger, common.at)
    fields = new_fields("voided", ts, target=target, reason=inputs.text(reason, "--reason"),
                        note=inputs.text(common.note, "--note"), ref=inputs.text(common.ref, "--ref"))

    def check(state: State, outcome: Outcome) -> None:
        # Look again under the lock: two voids of one event at once both passed the look
        # above and both appended (`check` then reports "voids ... again").
        _void_target(ledger, target)
        sku = getattr(found, "sku", None)
        if common.allow_negative or sku is None:
            return
        # The void takes its target out of the past: the events after the target may now
        # be short, not only the stock at the end (a receipt a later sale used).
        if isinstance(found, E.Sold) or (isinstance(found, E.Adjusted) and parse_qty(found.qty) < 0):
            return  # without it, stock is higher from then on: no new hole
        void_ev = E.decoder.decode(E.to_line(fields))
        after = _Lowest(sku)
        replay(ledger, observer=after, skus={sku}, extra=[void_ev], full=False)
        holes = {key: low for key, low in after.low.items() if low[0] < 0}
        if not holes:
            return
        before = _Lowest(sku)  # a position already that low before is not the void's doing
        replay(ledger, observer=before, skus={sku}, full=False)
        for (_, loc), (low, when) in sorted(holes.items()):
            if low < before.low.get((sku, loc), (0, when))[0]:
                raise Refused(
                    f"voiding {target} leaves {sku} at {loc} at {qty_str(low)} on {when.date().isoformat()}; "
                    "void the later events first, or use --allow-negative"
                )

    return _write(ledger, common, fields, check)


class _Lowest:
    """Observer: the lowest on hand of each position of one SKU over the replay, and when."""

    def __init__(self, sku: str):
        self.sku = sku
        self.reset()

    def reset(self) -> None:
        self.low: dict[tuple[str, str], tuple[Number, dt.datetime]] = {}

    def __call__(self, state: State, ev: E.Event, src: Any, effects: list[Any]) -> None:
        for fx in effects:
            if fx.sku != self.sku:
                continue
            key = (fx.sku, fx.loc)
            pos = state.positions.get(key)
            qty = pos.qty if pos is not None else 0
            low = self.low.get(key)
            if low is None or qty < low[0]:
                self.low[key] = (qty, ev.ts)


def now(ledger: Ledger) -> dt.datetime:
    return inputs.moment(ledger, None)
