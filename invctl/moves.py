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
from invctl.numbers import Number, qty_str
from invctl.record import Outcome, new_fields, record
from invctl.replay import State
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
        except msgspec.DecodeError:
            continue
        if ev.ref == ref and type(ev).__struct_config__.tag == type_ and getattr(ev, "sku", None) == sku:
            return ev.id
    return None


def _write(ledger: Ledger, common: Common, fields: dict[str, Any], check: Any = None) -> Written:
    ref = fields.get("ref")
    if ref is not None:
        existing = find_ref(ledger, fields["type"], ref, fields.get("sku"))
        if existing:
            return Written(None, existing)
    return Written(record(ledger, [fields], check, dry_run=common.dry_run))


def _base(ledger: Ledger, type_: str, sku: str, common: Common, **fields: Any) -> dict[str, Any]:
    ts = inputs.moment(ledger, common.at)
    return new_fields(
        type_, ts, sku=sku, **fields,
        note=inputs.text(common.note, "--note"), ref=inputs.text(common.ref, "--ref"),
    )


def no_oversell(allow: bool) -> Any:
    """A check refusing new events that take a position below zero."""

    def check(state: State, outcome: Outcome) -> None:
        if allow:
            return
        for ev_id, effects in outcome.effects.items():
            for fx in effects:
                if fx.qty >= 0:
                    continue
                after = outcome.after[ev_id][(fx.sku, fx.loc)]
                final = state.positions[(fx.sku, fx.loc)].qty
                if after < 0 or final < 0:
                    had = after - fx.qty
                    raise Refused(
                        f"only {qty_str(max(had, 0))} {fx.sku} on hand at {fx.loc}"
                        f"{'' if after < 0 else ' after later events'}, cannot take {qty_str(-fx.qty)}; "
                        "record the missing receipt first, or use --allow-negative"
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


def adjust(ledger: Ledger, sku: str, delta: str, reason: str, common: Common, *, cost: str | None = None) -> Written:
    _item(ledger, sku)
    if reason not in E.REASONS:
        raise Refused(f"--reason {reason!r} is not one of: {', '.join(E.REASONS)}")
    change = inputs.qty(delta, "change", signed=True)
    if cost is not None and change < 0:
        raise Refused("--cost only applies to positive adjustments (a negative one is valued at the cost of what it takes)")
    fields = _base(
        ledger, "adjusted", sku, common, qty=inputs.qty_json(change), reason=reason,
        loc=inputs.location(ledger, common.loc),
        cost=inputs.money(ledger, cost, "--cost") if cost is not None else None,
    )
    return _write(ledger, common, fields, no_oversell(common.allow_negative))


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
    sku: str
    loc: str
    counted: Number
    expected: Number
    variance: Number
    value: Decimal
    id: str


def _count_lines(outcome: Outcome, fields: list[dict[str, Any]]) -> list[CountLine]:
    out = []
    for _, ev_id in zip(fields, outcome.ids, strict=True):
        fx = outcome.effects[ev_id][0]
        counted = outcome.after[ev_id][(fx.sku, fx.loc)]
        out.append(CountLine(fx.sku, fx.loc, counted, counted - fx.qty, fx.qty, fx.value, ev_id))
    return out


def count(ledger: Ledger, sku: str, qty: str, common: Common, *, lot: str | None = None) -> list[CountLine]:
    _item(ledger, sku)
    fields = _base(
        ledger, "counted", sku, common, qty=inputs.qty_json(inputs.qty(qty, allow_zero=True)),
        loc=inputs.location(ledger, common.loc), lot=inputs.text(lot, "--lot"),
    )
    outcome = record(ledger, [fields], dry_run=common.dry_run)
    return _count_lines(outcome, [fields])


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
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Refused(f"{path}: not a readable CSV file: {exc}") from None
    cols = {"sku": 0, "qty": 1, "loc": 2}
    start = 0
    if rows and rows[0] and rows[0][0].strip().lower() == "sku":
        header = [h.strip().lower() for h in rows[0]]
        if "qty" not in header:
            raise Refused(f"{path}:1: the header needs a qty column (columns: sku,qty[,loc])")
        cols = {k: header.index(k) for k in ("sku", "qty", "loc") if k in header}
        start = 1
    for n, row in enumerate(rows[start:], start + 1):
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
            raise Refused(f"{where}: {sku} at {loc} is counted twice (also on row {seen[(sku, loc)]}); keep one row")
        seen[(sku, loc)] = n
        new.append(new_fields("counted", ts, sku=sku, qty=inputs.qty_json(counted), loc=loc,
                              note=inputs.text(common.note, "--note"), ref=inputs.text(common.ref, "--ref")))
    if not new:
        raise Refused(f"{path}: no counts in the file (rows of sku,qty[,loc])")
    outcome = record(ledger, new, dry_run=common.dry_run)
    return _count_lines(outcome, new)


def void(ledger: Ledger, target: str, reason: str, common: Common) -> Written:
    found: E.Event | None = None
    voided_by: str | None = None
    for _, _, raw in find_lines(ledger, target.encode()):
        try:
            ev = E.decoder.decode(raw)
        except msgspec.DecodeError:
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
    if not reason.strip():
        raise Refused("--reason must say why the event is voided")
    ts = inputs.moment(ledger, common.at)
    fields = new_fields("voided", ts, target=target, reason=inputs.text(reason, "--reason"),
                        note=inputs.text(common.note, "--note"), ref=inputs.text(common.ref, "--ref"))

    def check(state: State, outcome: Outcome) -> None:
        if common.allow_negative:
            return
        for (sku, loc), pos in state.positions.items():
            if sku == getattr(found, "sku", None) and pos.qty < 0:
                raise Refused(
                    f"voiding {target} leaves {sku} at {loc} at {qty_str(pos.qty)}; "
                    "void the later events first, or use --allow-negative"
                )

    return Written(record(ledger, [fields], check, dry_run=common.dry_run))


def now(ledger: Ledger) -> dt.datetime:
    return inputs.moment(ledger, None)
