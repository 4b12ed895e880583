"""`invctl export csv events|stock|sales`: CSV for spreadsheets and other tools.

Every text cell goes through :func:`invctl.render.csv_cell`, so a cell starting with
``= + - @``, a tab, CR or NUL is prefixed with ``'`` and a spreadsheet shows it instead of
running it (formula injection). Numbers are left alone: JSON numbers, and the decimal
strings of the amount and quantity keys (``"19.90"``, ``"-1.5"``).

``events`` streams the journal in replay order, (ts, id), without a replay: a pre-pass reads
every line's id, ts and keys (for the header, the voids, and lines in the wrong month
file), then each month file is merged in, sorted first only when it is not in order.
Memory grows with the largest month file that is out of order and with lines far from
their month, never with the whole journal.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import msgspec

from invctl import events as E
from invctl.errors import Refused
from invctl.journal import decode_error, file_month, list_files
from invctl.numbers import money_str
from invctl.render import csv_cell
from invctl.settings import Ledger

_MARGIN = dt.timedelta(hours=24)  # any UTC offset is within a day of a month's start
_NUMERIC_KEYS = frozenset({"qty", "cost", "price", "refund"})
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
EXTRA_COLUMNS = ("voided", "file", "line")


class _Head(msgspec.Struct, gc=False):
    """What the pre-pass needs of a line: its place in replay order, and voids."""

    id: str
    ts: E.TS
    type: Any = None
    target: Any = None


_head = msgspec.json.Decoder(_Head)
_known: Any = msgspec.defstruct(
    "_Known",
    [("id", str), ("ts", E.TS)]
    + [(k + "_" if k == "from" else k, Any, msgspec.field(default=None, name=k)) for k in E.KEY_ORDER if k not in ("id", "ts")],
    forbid_unknown_fields=True, gc=False,
)
_known_decoder = msgspec.json.Decoder(_known)
_any = msgspec.json.Decoder()
_json = msgspec.json.Encoder()

Entry = tuple[dt.datetime, str, int, int, bytes]  # (ts, id, file index, line, raw line)


def cell(key: str, value: Any) -> str:
    """One CSV cell of a journal value: numbers as they are, text made safe."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"  # as JSON writes it
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        if key in _NUMERIC_KEYS and _NUMBER.fullmatch(value):
            return value
        return csv_cell(value)
    return csv_cell(_json.encode(value).decode())  # an unknown key holding an object or list


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line without newline, complete) of a file; blank lines skipped."""
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            complete = raw.endswith(b"\n")
            raw = raw.rstrip(b"\n")
            if raw.strip():
                yield n, raw, complete


class _Scan:
    """The pre-pass: columns, voided ids, sortedness of each file, and the stray lines."""

    def __init__(self, ledger: Ledger, files: list[Path]):
        self.ledger = ledger
        self.files = files
        self.unknown: set[str] = set()
        self.voided: set[str] = set()
        self.in_order: dict[int, bool] = {}
        self.strays: list[Entry] = []  # lines that must be merged in from the start
        self.stray_at: set[tuple[int, int]] = set()
        self.torn: list[str] = []
        self.rows = 0

    def run(self) -> None:
        for fi, path in enumerate(self.files):
            month = file_month(path)
            floor = dt.datetime(month[0], month[1], 1, tzinfo=dt.UTC) - _MARGIN if month else None
            last: tuple[dt.datetime, str] | None = None
            ordered = True
            for line, raw, complete in _lines(path):
                if not complete:
                    self.torn.append(f"{self.ledger.rel(path)}:{line}: torn last line (no newline: a write was cut off); "
                                     "left out of the export; run `invctl check --repair`")
                    continue
                head = self._head(path, line, raw)
                if head.type == "voided" and isinstance(head.target, str):
                    self.voided.add(head.target)
                self.rows += 1
                if floor is None or head.ts < floor:
                    # An odd file, or a line far before its month: merged in from the start.
                    self.strays.append((head.ts, head.id, fi, line, raw))
                    self.stray_at.add((fi, line))
                    continue
                key = (head.ts, head.id)
                if last is not None and key < last:
                    ordered = False
                last = key
            self.in_order[fi] = ordered
        self.strays.sort()

    def _head(self, path: Path, line: int, raw: bytes) -> Any:
        try:
            return _known_decoder.decode(raw)
        except msgspec.ValidationError:
            pass  # unknown keys, or no id/ts: find out which
        except E.DECODE_ERRORS as exc:
            raise self._bad(path, line, exc) from None
        try:
            fields = _any.decode(raw)
        except E.DECODE_ERRORS as exc:
            raise self._bad(path, line, exc) from None
        if not isinstance(fields, dict):
            raise Refused(f"{self.ledger.rel(path)}:{line}: a line must be one JSON object; fix or remove the line, "
                          "then export again")
        self.unknown.update(k for k in fields if k not in _RANK)
        try:
            return _head.decode(raw)
        except E.DECODE_ERRORS as exc:
            raise self._bad(path, line, exc) from None

    def _bad(self, path: Path, line: int, exc: msgspec.DecodeError | UnicodeDecodeError) -> Refused:
        problem = decode_error(self.ledger.rel(path), line, exc)
        return Refused(f"{problem.path}:{problem.line}: {problem.message}, then export again")


_RANK = set(E.KEY_ORDER)


def events_columns(unknown: set[str]) -> list[str]:
    return [*E.KEY_ORDER, *sorted(unknown - set(EXTRA_COLUMNS)), *EXTRA_COLUMNS]


def _ordered(scan: _Scan) -> Iterator[Entry]:
    """Every line of the journal in (ts, id) order (ties: file, line), one month at a time."""
    files = scan.files
    pending: list[Entry] = list(scan.strays)
    month_files = [fi for fi, p in enumerate(files) if file_month(p) is not None]
    for k, fi in enumerate(month_files):
        nxt = file_month(files[month_files[k + 1]]) if k + 1 < len(month_files) else None
        bound = dt.datetime(nxt[0], nxt[1], 1, tzinfo=dt.UTC) - _MARGIN if nxt else None
        source: Iterator[Entry] = _file_entries(scan, fi)
        if not scan.in_order.get(fi, True):
            source = iter(sorted(source))
        later: list[Entry] = []
        for entry in heapq.merge(pending, source):
            if bound is not None and entry[0] >= bound:
                later.append(entry)
            else:
                yield entry
        later.sort()
        pending = later
    yield from pending


def _file_entries(scan: _Scan, fi: int) -> Iterator[Entry]:
    for line, raw, complete in _lines(scan.files[fi]):
        if complete and (fi, line) not in scan.stray_at:
            head = _head.decode(raw)
            yield (head.ts, head.id, fi, line, raw)


def export_events(ledger: Ledger, out: IO[str], *, start: dt.datetime | None = None,
                  end: dt.datetime | None = None) -> list[str]:
    """Write every journal event (from ``start``, before ``end``) as a CSV row; returns warnings.

    Columns: the keys of KEY_ORDER, any other key found (sorted by name), then ``voided``
    (true when a void anywhere in the journal targets the event), ``file`` and ``line``.
    A line that does not parse refuses the export before anything is written.
    """
    import csv

    scan = _Scan(ledger, list_files(ledger))
    scan.run()
    columns = events_columns(scan.unknown)
    keys = columns[: -len(EXTRA_COLUMNS)]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    rel = [ledger.rel(p) for p in scan.files]
    voided = scan.voided
    for ts, id_, fi, line, raw in _ordered(scan):
        if (start is not None and ts < start) or (end is not None and ts >= end):
            continue
        fields = _any.decode(raw)
        row = [cell(k, fields.get(k)) for k in keys]
        row += ["true" if id_ in voided else "false", csv_cell(rel[fi]), str(line)]
        w.writerow(row)
    return scan.torn


# --- sales -----------------------------------------------------------------------------------

SALES_COLUMNS = ("id", "ts", "type", "sku", "loc", "qty", "price", "amount", "cogs", "channel", "customer",
                 "region", "order", "file", "line")


class _SalesRows:
    """An observer on the replay: one CSV row per sale and return, written as it is folded.

    No ``reset()``: the replay then sorts each file before folding it and never starts
    over, so no row is written twice."""

    def __init__(self, ledger: Ledger, out: IO[str], start: dt.datetime | None):
        import csv

        from invctl.reports.saleparts import Prices, Sales, returns_needing_sales

        self.w = csv.writer(out, lineterminator="\n")
        self.w.writerow(SALES_COLUMNS)
        self.start = start
        self.places = ledger.settings.places
        self.prices = Prices(ledger)
        self.sales = Sales(returns_needing_sales(ledger, None))

    def __call__(self, state: Any, ev: E.Event, src: tuple[int, int], effects: list[Any]) -> None:
        from invctl.numbers import parse_qty

        if isinstance(ev, E.Sold):
            qty = parse_qty(ev.qty)
            unit = self.prices(ev.price)
            amount = qty * unit
            self.sales.sold(ev, qty, amount)
            price: Any = ev.price
            attrs = (ev.channel, ev.customer, ev.region, ev.order)
        elif isinstance(ev, E.Returned):
            qty = parse_qty(ev.qty)
            unit = self.prices.refund(ev, self.sales.of(ev))
            amount = -(qty * unit)
            price = ev.refund if ev.refund is not None else money_str(unit, self.places)
            attrs = (ev.channel, ev.customer, None, ev.order)
        else:
            return
        if self.start is not None and ev.ts < self.start:
            return
        cogs = sum((fx.cogs for fx in effects), Decimal(0))
        path, line = state.where(src)
        self.w.writerow([
            csv_cell(ev.id), ev.ts.isoformat(), type(ev).__struct_config__.tag, csv_cell(ev.sku), csv_cell(ev.loc),
            str(ev.qty) if _NUMBER.fullmatch(str(ev.qty)) else csv_cell(str(ev.qty)), cell("price", price),
            money_str(amount, self.places), money_str(cogs, self.places),
            *(csv_cell(a) for a in attrs), csv_cell(path), str(line),
        ])


def export_sales(ledger: Ledger, out: IO[str], *, start: dt.datetime | None = None,
                 end: dt.datetime | None = None) -> list[str]:
    """One row per sale and return (from ``start``, before ``end``), in replay order, with the
    net amount and the COGS the replay booked; voided ones are left out. Returns warnings."""
    from invctl.replay import replay
    from invctl.reports.stock import _notes

    rows = _SalesRows(ledger, out, start)
    state = replay(ledger, until=end, observer=rows)
    return _notes(state)
