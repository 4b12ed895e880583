"""ABC analysis (`report abc`): items ranked by revenue, margin or consumption in a period, and
classed A (the items making the first 80 % of the measure), B (up to 95 %) and C (the rest).

Measures per SKU over the events from ``--from`` to ``--to`` (all locations):

- ``revenue``: net sales, as `report sales` has them: units sold × price, less units returned
  × refund (a return without ``refund`` at the unit price of its order's sale of the SKU,
  else at the catalog price, else 0).
- ``consumption``: the cost of the goods consumed, i.e. COGS (sales at the cost of the layers
  they took, less restocked returns, plus true-ups of negative stock): usage valued at cost,
  so that a cheap item sold by the thousand and a dear one sold by the dozen compare.
- ``margin``: revenue − COGS.

Items are sorted by the measure, largest first (ties by SKU). An item is in A when the items
before it make less than ``a`` of the total (so the item that crosses the line is in A: the
biggest item is always A), in B when they make less than ``b``, else in C. Items whose
measure is 0 or negative are C; the total is that of the positive measures. Every catalog item
gets a class (an item that did not sell is C).

``save_classes`` writes the classes to `.invctl/abc.json` (format below; atomic: a temporary
file renamed over the old one), where alerts and count schedules can read them with
:func:`load_classes`. It is local, derived data like the replay cache: recomputed by running
the report again, never committed.

    {"version": 1, "by": "revenue", "a": 0.8, "b": 0.95, "from": "2026-01-01", "to": "2026-10-31",
     "saved": "2026-11-25T22:56:05+01:00", "classes": {"TEE-BLK-M": "A", "CAP-BLK": "B", ...}}

``from`` / ``to`` are the period's days (null: the journal's start / now); ``saved`` is when
the file was written, in the ledger's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import msgspec

from invctl import events as E
from invctl.costing import ZERO
from invctl.errors import Refused
from invctl.numbers import Number, parse_money, parse_qty
from invctl.replay import Effect, Source, State, replay
from invctl.reports import Column, Report
from invctl.settings import Ledger

By = Literal["revenue", "margin", "consumption"]
CLASSES = ("A", "B", "C")
FILE = "abc.json"
HUNDRED = Decimal(100)

COLUMNS = [
    Column("rank", "#", "int"),
    Column("sku", "SKU", wrap=False),
    Column("name", "Name"),
    Column("category", "Category", table=False),
    Column("units", "Units", "qty"),
    Column("revenue", "Revenue", "money"),
    Column("cogs", "COGS", "money"),
    Column("margin", "Margin", "money"),
    Column("measure", "Measure", "money", table=False),
    Column("share", "Share", "pct"),
    Column("cumulative", "Cumulative", "pct"),
    Column("class", "Class"),
]

SUMMARY_COLUMNS = [
    Column("class", "Class"),
    Column("up_to", "Up to", "pct"),
    Column("items", "Items", "int"),
    Column("items_share", "Items %", "pct"),
    Column("revenue", "Revenue", "money", table=False),
    Column("cogs", "COGS", "money", table=False),
    Column("margin", "Margin", "money", table=False),
    Column("measure", "Measure", "money"),
    Column("share", "Share", "pct"),
]


class AbcFile(msgspec.Struct, kw_only=True):
    """`.invctl/abc.json`: the classes of the last `report abc --save`."""

    version: int = 1
    by: str
    a: float
    b: float
    from_: dt.date | None = msgspec.field(default=None, name="from")
    to: dt.date | None = None
    saved: dt.datetime
    classes: dict[str, str]


@dataclass
class _Item:
    units: Number = 0
    revenue: Decimal = ZERO
    cogs: Decimal = ZERO


class _ReturnKeys(msgspec.Struct, gc=False):
    type: str
    sku: str | None = None
    order: str | None = None
    refund: str | None = None


def _unrefunded(ledger: Ledger) -> set[int]:
    """Hashes of (order, sku) of the returns without ``refund``: their sale's price is needed.
    A byte search; only lines that mention "returned" are decoded."""
    from invctl.journal import find_lines

    decode = msgspec.json.Decoder(_ReturnKeys).decode
    need: set[int] = set()
    for _, _, raw in find_lines(ledger, b'"returned"'):
        try:
            r = decode(raw)
        except E.DECODE_ERRORS:
            continue  # the replay reports it
        if r.type == "returned" and r.refund is None and r.order is not None and r.sku is not None:
            need.add(hash((r.order, r.sku)))
    return need


@dataclass
class _Sales:
    """Observer: units, net sales and COGS per SKU of the events in the period."""

    start: dt.datetime | None
    need: set[int]  # (order, sku) of returns without a refund (see _unrefunded)
    catalog_price: dict[str, Decimal]
    items: dict[str, _Item] = field(default_factory=dict)
    inside: bool = False
    prices: dict[str, Decimal] = field(default_factory=dict)
    bad: list[Source] = field(default_factory=list)  # sales whose price is not an amount
    sales: dict[int, list[Any]] = field(default_factory=dict)  # (order, sku) -> [units, amount]
    unvalued: int = 0  # returns with no refund, no sale of their order and no catalog price

    def reset(self) -> None:
        self.items.clear()
        self.bad.clear()
        self.sales.clear()
        self.unvalued = 0
        self.inside = False

    def __call__(self, state: State, ev: Any, src: Source, effects: list[Effect]) -> None:
        if not effects:
            return
        kind = type(ev)
        if not self.inside:
            if self.start is not None and ev.ts < self.start:
                if kind is _SOLD and self.need:
                    self._remember(ev, -effects[0].qty)
                return
            self.inside = True  # events come in order: the rest are inside too
        item = self.items.get(ev.sku)
        if item is None:
            item = self.items[ev.sku] = _Item()
        if kind is _SOLD:
            fx = effects[0]
            item.cogs += fx.cogs
            item.units -= fx.qty  # the replay's parsed quantity, negative: out
            amount = self._remember(ev, -fx.qty)
            if amount is None:
                self.bad.append(src)  # the fold does not read prices; `check` reports it
            else:
                item.revenue += amount
            return
        for fx in effects:
            item.cogs += fx.cogs
        if kind is _RETURNED:
            qty = parse_qty(ev.qty)
            item.units -= qty
            item.revenue -= qty * self._refund(ev)

    def _remember(self, ev: Any, qty: Number) -> Decimal | None:
        """The amount of a sale (None: its price is not an amount), kept when a return needs it."""
        try:
            amount = qty * self._money(ev.price)
        except ValueError:
            return None
        if self.need and ev.order is not None:
            h = hash((ev.order, ev.sku))
            if h in self.need:
                sale = self.sales.get(h)
                if sale is None:
                    sale = self.sales[h] = [0, ZERO]
                sale[0] += qty
                sale[1] += amount
        return amount

    def _refund(self, ev: Any) -> Decimal:
        """The unit refund: its own, else its order's sale price (average), else the catalog's."""
        if ev.refund is not None:
            return self._money(ev.refund)  # checked by the fold already
        sale = self.sales.get(hash((ev.order, ev.sku))) if ev.order is not None else None
        if sale is not None and sale[0]:
            return Decimal(sale[1] / sale[0])
        price = self.catalog_price.get(ev.sku)
        if price is not None:
            return price
        self.unvalued += 1
        return ZERO

    def _money(self, text: str) -> Decimal:
        """Prices repeat: parse each text once."""
        amount = self.prices.get(text)
        if amount is None:
            amount = self.prices[text] = parse_money(text)
        return amount


_SOLD, _RETURNED = E.Sold, E.Returned


def thresholds(a: str | float | Decimal, b: str | float | Decimal) -> tuple[Decimal, Decimal]:
    """--a and --b as fractions with 0 < a < b <= 1, or refused with how to write them."""
    out = []
    for name, raw in (("--a", a), ("--b", b)):
        try:
            d = Decimal(str(raw).strip())
        except ArithmeticError:
            raise Refused(f"{name} {raw!r} is not a number; give a fraction like 0.8") from None
        if not d.is_finite() or d <= 0 or d > 1:
            hint = f" (for {d}% write {d / 100})" if d.is_finite() and 1 < d <= 100 else ""
            raise Refused(f"{name} {raw} must be a fraction above 0 and at most 1, like 0.8{hint}")
        out.append(d)
    if out[0] >= out[1]:
        raise Refused(f"--a {a} must be below --b {b} (A is the first part of the total, B up to --b)")
    return out[0], out[1]


def classify(measures: dict[str, Decimal], a: Decimal, b: Decimal) -> list[tuple[str, Decimal | None, Decimal | None, str]]:
    """(sku, share, cumulative share, class) largest first; shares in percent of the total of
    the positive measures (None when there is none)."""
    order = sorted(measures, key=lambda s: (-measures[s], s))
    total = sum((m for m in measures.values() if m > 0), ZERO)
    out = []
    before = ZERO
    for sku in order:
        m = measures[sku]
        if m <= 0 or not total:
            out.append((sku, m / total * HUNDRED if total else None, before / total * HUNDRED if total else None, "C"))
            continue
        cls = "A" if before < a * total else "B" if before < b * total else "C"
        before += m
        out.append((sku, m / total * HUNDRED, before / total * HUNDRED, cls))
    return out


def abc_report(ledger: Ledger, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
               by: By = "revenue", a: Decimal = Decimal("0.8"), b: Decimal = Decimal("0.95")) -> Report:
    """One row per SKU, ranked, over the events in [start, end) (``end``: the instant to replay up to)."""
    from invctl.reports.stock import _notes
    from invctl.reports.turnover import period_title, utc

    catalog = ledger.catalog.items
    prices = {sku: Decimal(it.price) for sku, it in catalog.items() if it.price is not None}
    sales = _Sales(utc(start), _unrefunded(ledger), prices)
    state = replay(ledger, until=utc(end), observer=sales, full=True)
    figures = {sku: sales.items.get(sku, _Item()) for sku in set(catalog) | set(sales.items)}

    def measure(it: _Item) -> Decimal:
        return it.revenue if by == "revenue" else it.cogs if by == "consumption" else it.revenue - it.cogs

    ranked = classify({sku: measure(it) for sku, it in figures.items()}, a, b)
    rows: list[dict[str, Any]] = []
    for rank, (sku, share, cumulative, cls) in enumerate(ranked, 1):
        it = figures[sku]
        item = catalog.get(sku)
        rows.append({"rank": rank, "sku": sku, "name": item.name if item else "(not in catalog)",
                     "category": item.category if item else None, "units": it.units, "revenue": it.revenue,
                     "cogs": it.cogs, "margin": it.revenue - it.cogs, "measure": measure(it),
                     "share": share, "cumulative": cumulative, "class": cls})
    notes = _notes(state)
    if sales.bad:
        path, line = state.where(sales.bad[0])
        more = f" and {len(sales.bad) - 1} more" if len(sales.bad) > 1 else ""
        notes.append(f"{path}:{line}{more}: a sale's price is not an amount; its revenue is left out; run `invctl check`")
    if sales.unvalued:
        notes.append(f"{sales.unvalued} returns have no refund, no sale of their order and no catalog price: "
                     "they take nothing off revenue")
    if not any(r["measure"] > 0 for r in rows):
        notes.append(f"no {by} in this period: every item is class C")
    title = f"ABC by {by}{period_title(ledger, start, end)}"
    header = {"revenue": "Revenue", "margin": "Margin", "consumption": "COGS"}[by]
    columns = [Column(c.key, header, c.kind, c.table) if c.key == "measure" else c for c in COLUMNS]
    totals: dict[str, Any] = {k: sum((r[k] for r in rows), ZERO) for k in _SUMS}
    totals["units"] = sum((r["units"] for r in rows), 0)
    return Report(title, columns, rows, totals=totals, notes=notes)


_SUMS = ("revenue", "cogs", "margin", "measure")


def abc_summary(report: Report, a: Decimal, b: Decimal) -> Report:
    """The classes of an ``abc_report``: how many items each has and their share of the
    measure; ``up_to``: the class's line (--a, --b, 100 %)."""
    rows = report.rows
    positive = sum((r["measure"] for r in rows if r["measure"] > 0), ZERO)
    header = next(c.header for c in report.columns if c.key == "measure")
    out = []
    for cls in CLASSES:
        these = [r for r in rows if r["class"] == cls]
        row: dict[str, Any] = {"class": cls, "up_to": {"A": a, "B": b, "C": Decimal(1)}[cls] * HUNDRED, "items": len(these),
                               "items_share": Decimal(len(these)) / len(rows) * HUNDRED if rows else None}
        for k in _SUMS:
            row[k] = sum((r[k] for r in these), ZERO)
        row["share"] = row["measure"] / positive * HUNDRED if positive else None
        out.append(row)
    totals: dict[str, Any] = {"items": len(rows), "items_share": HUNDRED if rows else None}
    for k in _SUMS:
        totals[k] = sum((r[k] for r in rows), ZERO)
    totals["share"] = totals["measure"] / positive * HUNDRED if positive else None
    columns = [Column(c.key, header, c.kind, c.table) if c.key == "measure" else c for c in SUMMARY_COLUMNS]
    return Report(report.title.replace("ABC by", "ABC classes by", 1), columns, out, totals=totals, notes=report.notes)


def save_classes(ledger: Ledger, report: Report, *, by: str, a: Decimal, b: Decimal,
                 start: dt.datetime | None, end: dt.datetime | None) -> str:
    """Write the per-SKU classes of an ``abc_report`` to `.invctl/abc.json`; returns its path
    relative to the ledger."""
    tz = ledger.settings.tz
    data = AbcFile(
        by=by, a=float(a), b=float(b),
        from_=start.astimezone(tz).date() if start is not None else None,
        to=(end - dt.timedelta(microseconds=1)).astimezone(tz).date() if end is not None else None,
        saved=dt.datetime.now(tz).replace(microsecond=0),
        classes={r["sku"]: r["class"] for r in sorted(report.rows, key=lambda r: r["sku"])},
    )
    folder = ledger.state_dir
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    from invctl.files import write_atomic

    path = folder / FILE
    write_atomic(path, msgspec.json.format(msgspec.json.encode(data), indent=2) + b"\n")
    return ledger.rel(path)


def load_classes(ledger: Ledger) -> AbcFile | None:
    """The classes saved by `report abc --save`, or None when there are none (or the file
    does not decode: it is derived data, and the report writes it again)."""
    try:
        return msgspec.json.decode((ledger.state_dir / FILE).read_bytes(), type=AbcFile)
    except (OSError, msgspec.DecodeError):
        return None
