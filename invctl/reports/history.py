"""Every event of one SKU, with the running on-hand quantity and value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from invctl import events as E
from invctl.costing import ZERO
from invctl.numbers import Number
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

COLUMNS = [
    Column("ts", "Time", wrap=False),
    Column("type", "Type"),
    Column("qty", "Qty", "qty"),
    Column("loc", "Loc"),
    Column("on_hand", "On hand", "qty"),
    Column("value", "Value", "money"),
    Column("detail", "Detail"),
    Column("id", "Id", wrap=False),
    Column("file", "File", table=False),
    Column("line", "Line", "int", table=False),
]


def _detail(ev: E.Event) -> str:
    match ev:
        case E.Received():
            parts = [f"cost {ev.cost}"] + [f"{k} {v}" for k, v in (("from", ev.supplier), ("po", ev.po), ("lot", ev.lot), ("expires", ev.expires)) if v]
        case E.Sold():
            parts = [f"price {ev.price}"] + [f"{k} {v}" for k, v in (("order", ev.order), ("channel", ev.channel), ("customer", ev.customer)) if v]
        case E.Returned():
            parts = ([f"refund {ev.refund}"] if ev.refund else []) + ([] if ev.restock else ["not restocked"]) + ([f"order {ev.order}"] if ev.order else [])
        case E.Adjusted():
            parts = [ev.reason]
        case E.Counted():
            parts = [f"counted {ev.qty}"] + ([f"lot {ev.lot}"] if ev.lot else [])
        case E.Transferred():
            parts = [f"{ev.from_} → {ev.to}"]
        case E.Ordered():
            parts = [f"PO {ev.po} {ev.qty} from {ev.supplier}"] + ([f"expected {ev.expected}"] if ev.expected else [])
        case E.Cancelled():
            parts = [f"PO {ev.po}"]
        case _:
            parts = []
    if ev.note:
        parts.append(ev.note)
    return ", ".join(str(p) for p in parts)


class _Rows:
    def __init__(self, sku: str, loc: str | None):
        self.sku = sku
        self.loc = loc
        self.reset()

    def reset(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.qty: Number = 0
        self.value: Decimal = ZERO

    def __call__(self, state: State, ev: E.Event, src: Source, effects: list[Effect]) -> None:
        if getattr(ev, "sku", None) != self.sku:
            return
        mine = [fx for fx in effects if self.loc is None or fx.loc == self.loc]
        if self.loc is not None and not mine and getattr(ev, "loc", None) != self.loc:
            return
        dq: Number = sum((fx.qty for fx in mine), 0)
        dv = sum((fx.value for fx in mine), ZERO)
        self.qty += dq
        self.value += dv
        path, line = state.where(src)
        locs = sorted({fx.loc for fx in mine}) or [getattr(ev, "loc", "")]
        self.rows.append({
            "id": ev.id,
            "ts": ev.ts.isoformat(),
            "type": type(ev).__struct_config__.tag,
            "qty": dq,
            "loc": ",".join(locs),
            "on_hand": self.qty,
            "value": self.value,
            "detail": _detail(ev),
            "file": path,
            "line": line,
        })


def history_report(ledger: Ledger, sku: str, *, loc: str | None = None) -> Report:
    rows = _Rows(sku, loc)
    state = replay(ledger, observer=rows, skus={sku})
    from invctl.reports.stock import _notes

    return Report(f"History of {sku}" + (f" at {loc}" if loc else ""), COLUMNS, rows.rows, notes=_notes(state))
