"""Purchase orders as reports: one row per PO line (`order list`), and one PO with its
events and where they are in the journal (`order show`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from invctl import events as E
from invctl.costing import ZERO
from invctl.fold import POLine
from invctl.numbers import Number, parse_qty, qty_str
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

LINE_COLUMNS = [
    Column("po", "PO", wrap=False),
    Column("supplier", "Supplier", wrap=False),
    Column("sku", "SKU", wrap=False),
    Column("loc", "Loc", table=False),
    Column("placed", "Placed", "date", table=False),
    Column("expected", "Expected", "date"),
    Column("ordered", "Ordered", "qty"),
    Column("received", "Received", "qty"),
    Column("cancelled", "Cancelled", "qty"),
    Column("outstanding", "Open", "qty"),
    Column("overdue", "Overdue", "bool"),
    Column("last_received", "Last received", "date", table=False),
    Column("cost", "Unit cost", "money", table=False),
    Column("open_value", "Open value", "money", table=False),
]

# `order show` names the PO and supplier in its title: the table leaves them out (JSON keeps them).
SHOW_COLUMNS = [Column(c.key, c.header, c.kind, table=False) if c.key in ("po", "supplier") else c
                for c in LINE_COLUMNS]

EVENT_COLUMNS = [
    Column("date", "Date", "date"),
    Column("ts", "Time", wrap=False, table=False),
    Column("type", "Type", wrap=False),
    Column("sku", "SKU", wrap=False),
    Column("qty", "Qty", "qty"),
    Column("loc", "Loc", table=False),
    Column("cost", "Unit cost", "money", table=False),
    Column("outstanding", "Open", "qty"),
    Column("id", "Id", wrap=False, table=False),
    Column("file", "File", table=False),
    Column("line", "Line", "int", table=False),
    Column("where", "Where", wrap=False),
    Column("detail", "Detail"),
]


def _date(ts: dt.datetime | None, tz: dt.tzinfo) -> dt.date | None:
    return ts.astimezone(tz).date() if ts is not None else None


def line_row(line: POLine, today: dt.date, tz: dt.tzinfo) -> dict[str, Any]:
    """One PO line as the JSON row of `order list` (received may exceed ordered: shown as is)."""
    left = line.outstanding
    cost = line.cost if line.cost is not None else ZERO
    return {
        "po": line.po,
        "supplier": line.supplier,
        "sku": line.sku,
        "loc": line.loc,
        "placed": _date(line.placed, tz),
        "expected": line.expected,
        "ordered": line.ordered,
        "received": line.received,
        "cancelled": line.cancelled,
        "outstanding": left,
        "overdue": bool(left and line.expected is not None and line.expected < today),
        "last_received": _date(line.last_received, tz),
        "cost": line.cost,
        "open_value": left * cost,
    }


def _po_notes(state: State) -> list[str]:
    """Receipts and cancellations naming a PO line that does not exist, and bad lines."""
    from invctl.reports.stock import _notes

    strays = [p for p in state.problems if p.severity == "warning"
              and (p.message.startswith("receipt against PO") or p.message.startswith("cancels PO"))]
    notes = _notes(state)
    if strays:
        more = f" and {len(strays) - 1} more" if len(strays) > 1 else ""
        notes.append(f"{strays[0]}{more}: not counted on any PO line; see `invctl check`")
    return notes


def order_list_report(ledger: Ledger, *, open_only: bool = False, supplier: str | None = None,
                      sku: str | None = None, as_of: dt.datetime | None = None,
                      state: State | None = None) -> Report:
    """One row per PO line, oldest order first; ``as_of``: the instant to replay up to."""
    tz = ledger.settings.tz
    if state is None:
        state = replay(ledger, until=as_of)
    today = (as_of - dt.timedelta(microseconds=1) if as_of else dt.datetime.now(tz)).date()
    rows = []
    lines = sorted(state.po_lines.values(),
                   key=lambda x: (x.placed or dt.datetime.min.replace(tzinfo=dt.UTC), x.po, x.sku))
    for line in lines:
        if open_only and not line.outstanding:
            continue
        if supplier is not None and line.supplier != supplier:
            continue
        if sku is not None and line.sku != sku:
            continue
        rows.append(line_row(line, today, tz))
    title = "Open purchase order lines" if open_only else "Purchase order lines"
    if as_of:
        title += f" as of {today.isoformat()}"
    return Report(title, LINE_COLUMNS, rows, notes=_po_notes(state))


class _POEvents:
    """Observer: the events of one PO, with the line's outstanding quantity after each."""

    def __init__(self, po: str):
        self.po = po
        self.reset()

    def reset(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, state: State, ev: E.Event, src: Source, effects: list[Effect]) -> None:
        if getattr(ev, "po", None) != self.po:
            return
        sku = getattr(ev, "sku", "")
        line = state.po_lines.get((self.po, sku))
        path, n = state.where(src)
        raw = getattr(ev, "qty", None)
        qty: Number | None = parse_qty(raw) if raw is not None else None
        cost = getattr(ev, "cost", None)
        detail = [f"at {cost}"] if cost is not None else []
        if isinstance(ev, E.Ordered):
            detail.append(f"from {ev.supplier}")
            if ev.expected:
                detail.append(f"expected {ev.expected.isoformat()}")
        if isinstance(ev, E.Received):
            detail += [f"{k} {v}" for k, v in (("lot", ev.lot), ("expires", ev.expires)) if v]
            if line is None:
                detail.append("no such line on this PO: not counted")
            elif line.received + line.cancelled > line.ordered:
                over = line.received + line.cancelled - line.ordered
                detail.append(f"over-receipt: {qty_str(min(over, parse_qty(ev.qty)))} beyond the order")
        if isinstance(ev, E.Cancelled) and line is None:
            detail.append("no such line on this PO: not counted")
        for key in ("ref", "note"):
            if getattr(ev, key, None):
                detail.append(f"{key} {getattr(ev, key)}")
        self.rows.append({
            "date": ev.ts.astimezone(state.ledger.settings.tz).date(),
            "ts": ev.ts.isoformat(),
            "type": type(ev).__struct_config__.tag,
            "sku": sku,
            "qty": qty,
            "loc": getattr(ev, "loc", None),
            "cost": Decimal(cost) if cost is not None else None,
            "outstanding": line.outstanding if line is not None else None,
            "detail": ", ".join(str(d) for d in detail),
            "id": ev.id,
            "file": path,
            "line": n,
            "where": f"{path}:{n}",
        })


def order_show_report(ledger: Ledger, po: str, *, state: State | None = None) -> tuple[Report, Report]:
    """(the PO's lines, its events in replay order with file:line)."""
    from invctl.purchasing import events_naming, find_po

    if state is None:
        state = replay(ledger)
    lines = find_po(state, po)
    tz = ledger.settings.tz
    today = dt.datetime.now(tz).date()
    rows = [line_row(x, today, tz) for x in lines]
    supplier = lines[0].supplier
    # Receipts or cancellations naming this PO for a SKU it has no line for show too.
    skus = {x.sku for x in lines} | {getattr(ev, "sku", "") for ev in events_naming(
        ledger, po, lambda ev: getattr(ev, "po", None) == po)}
    watch = _POEvents(po)
    full = replay(ledger, observer=watch, skus=skus)
    head = Report(f"{po} from {supplier}", SHOW_COLUMNS, rows, notes=_po_notes(full))
    return head, Report(f"Events of {po}", EVENT_COLUMNS, watch.rows)
