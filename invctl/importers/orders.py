"""`invctl import orders`: order lines from a shop's CSV export as `sold` (and `returned`) events.

Each line item becomes one `sold` event with ``ref`` = ``FORMAT:ORDER:LINE``; (type, ref, sku)
already in the journal is skipped, so importing a file twice, or overlapping exports, adds
each line once. All new events are appended at once through :func:`invctl.record.record`
(all or nothing), and the journal is searched for existing refs in one scan (again under
the lock). See docs/integrations.md, "Importing orders".
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from invctl import events as E
from invctl import inputs
from invctl.errors import Refused
from invctl.journal import find_lines
from invctl.numbers import round_money
from invctl.record import Outcome, new_fields, record
from invctl.replay import State
from invctl.settings import Ledger

FIELD_LIMIT = 1 << 20  # one CSV cell: 1 MiB at most (the csv module's default is 128 KiB)
MAPPED = ("ts", "order", "sku", "qty", "price", "customer", "channel", "region")
REQUIRED = ("ts", "order", "sku", "qty", "price")


@dataclass
class Problem:
    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass
class Result:
    """What an import did (or, with dry_run, would do)."""

    new: list[dict[str, Any]] = field(default_factory=list)
    orders: int = 0
    lines: int = 0
    duplicates: int = 0
    cancelled: int = 0
    unknown: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcome: Outcome | None = None

    def summary(self) -> str:
        return (f"{self.orders} orders, {self.lines} lines, {len(self.new)} new events, "
                f"{self.duplicates} skipped duplicates, {self.cancelled} cancelled, {self.unknown} unknown SKUs")


def pseudonym(email: str) -> str | None:
    """A stable customer id from an e-mail address; the address itself is never stored."""
    email = email.strip().lower()
    if not email:
        return None
    return "C-" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:10]


# --- reading the file ----------------------------------------------------------------------

def _read_rows(path: Path, tick: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]]]:
    """(physical line number, cells) of every record; hostile input is refused with its line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Refused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise Refused(f"{path}: is a folder, not a CSV file") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise Refused(f"{path}:{line}: NUL byte in the file; it is not a CSV text file (save it as UTF-8 CSV)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Refused(f"{path}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start}); export or save it as UTF-8 CSV") from None
    old = csv.field_size_limit()
    csv.field_size_limit(FIELD_LIMIT)
    try:
        done = 0

        def lines() -> Iterator[str]:
            nonlocal done
            for n, line in enumerate(io.StringIO(text, newline="")):
                if tick is not None:
                    done += len(line.encode("utf-8"))
                    if n % 2000 == 0:
                        tick(done)
                yield line

        reader = csv.reader(lines(), strict=True)
        line = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                reason = str(exc)
                if "field larger" in reason:
                    reason = f"a cell is larger than {FIELD_LIMIT:,} characters"
                elif "end of data" in reason or "EOF" in reason:
                    reason = "a quoted cell is never closed (unterminated quote)"
                raise Refused(f"{path}:{line + 1}: not readable as CSV: {reason}") from None
            yield line + 1, row
            line = reader.line_num
        if tick is not None:
            tick(len(data))
    finally:
        csv.field_size_limit(old)


def _moment(ledger: Ledger, raw: str) -> dt.datetime:
    """A time as exports write it: '2026-10-03 14:05:11 +0200' or ISO 8601; into the ledger's zone."""
    raw = raw.strip()
    when: dt.datetime | None = None
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z"):
        try:
            when = dt.datetime.strptime(raw, fmt)
            break
        except ValueError:
            pass
    if when is None:
        try:
            when = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise Refused(f"time {raw!r} is not valid; expected e.g. 2026-10-03 14:05:11 +0200 or 2026-10-03T14:05:11+02:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ledger.settings.tz)
    return when.astimezone(ledger.settings.tz).replace(microsecond=0)


# --- one line item -----------------------------------------------------------------------------

@dataclass
class Line:
    row: int
    fmt: str
    order: str
    line_no: int
    ts: dt.datetime
    sku: str
    name: str
    qty: Any
    price: Decimal  # unit price after the line's discount
    channel: str | None
    customer: str | None
    region: str | None
    refunded: bool = False


def _resolve(ledger: Ledger, sku: str, name: str) -> str | None:
    catalog = ledger.catalog
    for key in (sku.strip(), name.strip()):
        if key:
            found = catalog.resolve(key)
            if found is not None:
                return found
    return None


def _events(ledger: Ledger, line: Line, sku: str) -> list[dict[str, Any]]:
    """The sold (and returned) events of one line: a kit sells its components."""
    for what, value in (("order", line.order), ("channel", line.channel), ("customer", line.customer),
                        ("region", line.region)):
        inputs.text(value, what)  # refused here, with its row, rather than for the whole import
    places = ledger.settings.places
    item = ledger.catalog.items[sku]
    parts: list[tuple[str, Any, Decimal]] = []
    if item.components:
        comps = list(item.components.items())
        weights = [Decimal(q) * (ledger.catalog.items[c].price or Decimal(0)) if c in ledger.catalog.items else Decimal(0)
                   for c, q in comps]
        if sum(weights) == 0:
            weights = [Decimal(q) for _, q in comps]
        total = sum(weights)
        for (comp, q), w in zip(comps, weights, strict=True):
            qty = line.qty * Decimal(q)
            qty = int(qty) if qty == qty.to_integral_value() else qty
            # The kit's price is shared by the components' catalog prices (by quantity
            # when they have none); each component's unit price is rounded to the currency.
            unit = round_money(line.price * w / total / Decimal(q), places) if q else Decimal(0)
            parts.append((comp, qty, unit))
    else:
        parts.append((sku, line.qty, round_money(line.price, places)))
    ref = f"{line.fmt}:{line.order}:{line.line_no}"
    ts = line.ts
    out = []
    for part, qty, unit in parts:
        out.append(new_fields("sold", ts, sku=part, qty=inputs.qty_json(qty), price=f"{unit:f}",
                              channel=line.channel, customer=line.customer, region=line.region,
                              order=line.order, ref=ref))
    if line.refunded:
        for part, qty, unit in parts:
            out.append(new_fields("returned", ts, sku=part, qty=inputs.qty_json(qty), refund=f"{unit:f}",
                                  order=line.order, customer=line.customer, channel=line.channel,
                                  ref=f"{line.fmt}-refund:{line.order}:{line.line_no}"))
    return out


# --- formats ---------------------------------------------------------------------------------

class _Header:
    def __init__(self, path: Path, row: int, cells: list[str], required: dict[str, str]):
        self.index = {c.strip(): i for i, c in enumerate(cells)}
        missing = [col for col in required.values() if col not in self.index]
        if missing:
            raise Refused(f"{path}:{row}: the header lacks the column(s) {', '.join(missing)}; "
                          "is this the right --format (or --mapping)?")

    def get(self, row: list[str], col: str | None) -> str:
        if col is None:
            return ""
        i = self.index.get(col)
        return row[i].strip() if i is not None and i < len(row) else ""


SHOPIFY = {"order": "Name", "ts": "Created at", "qty": "Lineitem quantity", "sku": "Lineitem sku",
           "price": "Lineitem price"}


def _shopify(ledger: Ledger, path: Path, rows: Iterator[tuple[int, list[str]]], channel: str | None,
             res: Result) -> list[Line]:
    out: list[Line] = []
    first = next(rows, None)
    if first is None:
        raise Refused(f"{path}: the file is empty; expected a Shopify orders export with a header row")
    head = _Header(path, first[0], first[1], SHOPIFY)
    orders: dict[str, dict[str, str]] = {}  # order Name -> its order-level cells (first row)
    cancelled: set[str] = set()
    partial: set[str] = set()
    currency = ledger.settings.currency
    keep = ("Email", "Financial Status", "Created at", "Currency", "Cancelled at", "Refunded Amount",
            "Shipping Province", "Shipping Country")
    for n, row, name, info, line_no in _order_rows(rows, head, "Name", "order Name", keep, orders, res):
        if info["Cancelled at"]:
            cancelled.add(name)
            continue
        try:
            if info["Currency"] and info["Currency"].upper() != currency:
                raise Refused(f"order {name} is in {info['Currency']}, the ledger in {currency}; convert the export first")
            ts = _moment(ledger, info["Created at"] or head.get(row, "Created at"))
            qty = inputs.qty(head.get(row, "Lineitem quantity"), "Lineitem quantity")
            price = _amount(head.get(row, "Lineitem price"), "Lineitem price")
            discount = _amount(head.get(row, "Lineitem discount") or "0", "Lineitem discount")
        except Refused as exc:
            res.problems.append(Problem(n, str(exc)))
            continue
        status = info["Financial Status"].lower()
        if status == "partially_refunded":
            partial.add(name)
        out.append(Line(n, "shopify", name, line_no, ts, head.get(row, "Lineitem sku"), head.get(row, "Lineitem name"),
                        qty, price - discount / Decimal(qty), channel or "shopify", pseudonym(info["Email"]),
                        _region(info["Shipping Country"], info["Shipping Province"]), refunded=status == "refunded"))
    res.orders = len(orders) - len(cancelled)
    res.cancelled = len(cancelled)
    for name in sorted(partial):
        res.notes.append(f"order {name} is partially refunded: its sales are imported, the refund is not "
                         f"(the export does not say which lines); record it with `invctl return SKU QTY --order {name}`")
    return out


WOOCOMMERCE = {"order": "Order Number", "ts": "Order Date", "qty": "Quantity", "sku": "SKU"}
WOO_SOLD = ("completed", "processing")
WOO_SKIPPED = ("cancelled", "failed", "pending", "on-hold", "checkout-draft", "trash")


def _woocommerce(ledger: Ledger, path: Path, rows: Iterator[tuple[int, list[str]]], channel: str | None,
                 res: Result) -> list[Line]:
    """WooCommerce's order export, one row per line item; order-level cells from an order's first row."""
    out: list[Line] = []
    first = next(rows, None)
    if first is None:
        raise Refused(f"{path}: the file is empty; expected a WooCommerce orders export with a header row")
    head = _Header(path, first[0], first[1], WOOCOMMERCE)
    if "Item Cost" not in head.index and "Item Total" not in head.index:
        raise Refused(f"{path}:{first[0]}: the header lacks the column Item Cost (or Item Total); "
                      "is this the right --format (or --mapping)?")
    orders: dict[str, dict[str, str]] = {}
    skipped: set[str] = set()
    currency = ledger.settings.currency
    keep = ("Order Date", "Order Status", "Billing Email", "Shipping State", "Shipping Country", "Order Currency")
    for n, row, number, info, line_no in _order_rows(rows, head, "Order Number", "Order Number", keep, orders, res):
        status = info["Order Status"].lower().removeprefix("wc-")
        if status in WOO_SKIPPED:
            skipped.add(number)
            continue
        try:
            if status not in (*WOO_SOLD, "refunded", ""):
                raise Refused(f"Order Status {info['Order Status']!r} of order {number} is not one of "
                              "completed, processing, refunded, cancelled, failed, pending, on-hold")
            if info["Order Currency"] and info["Order Currency"].upper() != currency:
                raise Refused(f"order {number} is in {info['Order Currency']}, the ledger in {currency}; "
                              "convert the export first")
            ts = _moment(ledger, info["Order Date"] or head.get(row, "Order Date"))
            qty = inputs.qty(head.get(row, "Quantity"), "Quantity")
            cost = head.get(row, "Item Cost")
            if cost:
                discount = _amount(head.get(row, "Discount") or "0", "Discount")
                price = _amount(cost, "Item Cost") - discount / Decimal(qty)
                if price < 0:
                    raise Refused(f"Discount {discount} is more than the line's Item Cost × Quantity")
            else:
                price = _amount(head.get(row, "Item Total"), "Item Total") / Decimal(qty)
        except Refused as exc:
            res.problems.append(Problem(n, str(exc)))
            continue
        out.append(Line(n, "woocommerce", number, line_no, ts, head.get(row, "SKU"), head.get(row, "Item Name"),
                        qty, price, channel or "woocommerce", pseudonym(info["Billing Email"]),
                        _region(info["Shipping Country"], info["Shipping State"]), refunded=status == "refunded"))
    res.orders = len(orders) - len(skipped)
    res.cancelled = len(skipped)
    return out


def _order_rows(rows: Iterator[tuple[int, list[str]]], head: _Header, column: str, what: str,
                keep: tuple[str, ...], orders: dict[str, dict[str, str]],
                res: Result) -> Iterator[tuple[int, list[str], str, dict[str, str], int]]:
    """The line-item rows of an export with one row per item: (row number, row, order key,
    the order's cells in ``keep`` from its first row, the item's number in its order).
    Blank rows are skipped; a row without ``column`` is a problem. ``orders`` fills as
    orders are met (the caller counts them)."""
    counts: dict[str, int] = {}
    for n, row in rows:
        if not any(c.strip() for c in row):
            continue
        key = head.get(row, column)
        if not key:
            res.problems.append(Problem(n, f"no {what} in this row"))
            continue
        if key not in orders:
            orders[key] = {k: head.get(row, k) for k in keep}
        counts[key] = counts.get(key, 0) + 1
        yield n, row, key, orders[key], counts[key]


def _region(country: str, area: str) -> str | None:
    """COUNTRY-AREA (DE-BY), or whichever of the two there is."""
    return f"{country}-{area}" if country and area else (country or area or None)


def _amount(text: str, what: str) -> Decimal:
    from invctl.numbers import TooLarge, parse_decimal

    try:
        d = parse_decimal(text)
    except TooLarge:
        raise Refused(f"{what} {text} is out of range") from None
    except ValueError:
        raise Refused(f"{what} {text!r} is not a number") from None
    if d < 0:
        raise Refused(f"{what} {text} is out of range")
    return d


def load_mapping(path: Path) -> dict[str, str]:
    from invctl.settings import load_toml

    if not path.is_file():
        raise Refused(f"{path}: no such mapping file; see docs/integrations.md, \"Importing orders\"")
    try:
        doc = load_toml(path)
    except Refused:
        raise
    except Exception as exc:  # a TOML syntax error
        raise Refused(f"{path}: not valid TOML: {exc}") from None
    table = doc.get("columns", doc)
    if not isinstance(table, dict):
        raise Refused(f"{path}: [columns] must be a table of field = \"CSV column\"")
    mapping = {}
    for key, col in table.items():
        if key not in MAPPED:
            raise Refused(f"{path}: unknown field {key!r}; map some of {', '.join(MAPPED)}")
        if not isinstance(col, str):
            raise Refused(f"{path}: {key} must name a CSV column (a string)")
        mapping[key] = col
    missing = [k for k in REQUIRED if k not in mapping]
    if missing:
        raise Refused(f"{path}: map the column(s) for {', '.join(missing)}")
    return mapping


def _generic(ledger: Ledger, path: Path, rows: Iterator[tuple[int, list[str]]], channel: str | None,
             mapping: dict[str, str], res: Result) -> list[Line]:
    out: list[Line] = []
    first = next(rows, None)
    if first is None:
        raise Refused(f"{path}: the file is empty; expected a header row naming the mapped columns")
    head = _Header(path, first[0], first[1], {k: mapping[k] for k in REQUIRED})
    counts: dict[str, int] = {}
    for n, row in rows:
        if not any(c.strip() for c in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            return head.get(row, mapping.get(key))

        order = cell("order")
        if not order:
            res.problems.append(Problem(n, "no order in this row"))
            continue
        counts[order] = counts.get(order, 0) + 1
        try:
            ts = _moment(ledger, cell("ts"))
            qty = inputs.qty(cell("qty"), "qty")
            price = _amount(cell("price"), "price")
        except Refused as exc:
            res.problems.append(Problem(n, str(exc)))
            continue
        customer = cell("customer")
        out.append(Line(n, "csv", order, counts[order], ts, cell("sku"), "", qty, price,
                        cell("channel") or channel, pseudonym(customer) if "@" in customer else (customer or None),
                        cell("region") or None))
    res.orders = len(counts)
    return out


# --- the import --------------------------------------------------------------------------------

def existing_refs(ledger: Ledger) -> set[tuple[str, str, str | None]]:
    """(type, ref, sku) of every event with a ref: one scan of the journal."""
    seen: set[tuple[str, str, str | None]] = set()
    for _, _, raw in find_lines(ledger, b'"ref"'):
        try:
            ev = E.decoder.decode(raw)
        except E.DECODE_ERRORS:
            continue
        if ev.ref is not None:
            seen.add((type(ev).__struct_config__.tag, ev.ref, getattr(ev, "sku", None)))
    return seen


class _Raced(Exception):
    """Another writer recorded some of these refs between the look and the lock."""


def import_orders(ledger: Ledger, path: Path, fmt: str, *, channel: str | None = None,
                  mapping: Path | None = None, dry_run: bool = False, skip_bad: bool = False) -> Result:
    from invctl import progress

    if fmt not in ("shopify", "woocommerce", "csv"):
        raise Refused(f"--format {fmt} is not supported; use shopify, woocommerce or csv")
    if channel is not None:
        inputs.text(channel, "--channel")
    cols = load_mapping(mapping) if mapping is not None else None
    if fmt == "csv" and cols is None:
        raise Refused("--format csv needs --mapping map.toml naming the columns; see docs/integrations.md")
    size = path.stat().st_size if path.is_file() else 0
    rows = _read_rows(path, progress.ticker(f"import {path.name}", size))
    res = Result()
    if fmt == "shopify":
        lines = _shopify(ledger, path, rows, channel, res)
    elif fmt == "woocommerce":
        lines = _woocommerce(ledger, path, rows, channel, res)
    else:
        lines = _generic(ledger, path, rows, channel, cols or {}, res)
    res.lines = len(lines)
    new: list[dict[str, Any]] = []
    for line in lines:
        sku = _resolve(ledger, line.sku, line.name)
        if sku is None:
            res.unknown += 1
            shown = line.sku or line.name or "(empty)"
            res.problems.append(Problem(line.row, f"unknown SKU {shown!r} (order {line.order}); add it with "
                                                  f"`invctl item add`, or as an alias of an item"))
            continue
        try:
            new.extend(_events(ledger, line, sku))
        except Refused as exc:
            res.problems.append(Problem(line.row, str(exc)))
    res.problems.sort(key=lambda p: p.row)
    if res.problems and not skip_bad:
        first = res.problems[0]
        more = f" (and {len(res.problems) - 1} more problems)" if len(res.problems) > 1 else ""
        raise Refused(f"{path}:{first.row}: {first.message}{more}; nothing imported (fix the file, or --skip-bad to import the rest)")

    def todo(seen: set[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
        return [f for f in new if (f["type"], f["ref"], f["sku"]) not in seen]

    while True:
        fresh = todo(existing_refs(ledger))
        res.duplicates = len(new) - len(fresh)
        res.new = fresh
        if not fresh:
            return res

        def check(state: State, outcome: Outcome, count: int = len(fresh)) -> None:
            if len(todo(existing_refs(ledger))) != count:
                raise _Raced()

        try:
            res.outcome = record(ledger, fresh, check, dry_run=dry_run)
            return res
        except _Raced:
            continue
