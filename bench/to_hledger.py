#!/usr/bin/env python3
"""Convert an invctl history to an hledger journal, so `hledger bal` can be timed beside invctl.

    .venv/bin/python bench/to_hledger.py bench/data/shop-100000-s1              # -> ...s1.hledger
    .venv/bin/python bench/to_hledger.py LEDGER -o OUT.hledger --verify

One hledger transaction per invctl event, dated with the event's local date (the date part
of its `ts`) and written in journal order, which is invctl's (ts, id) order. SKUs are
commodities, locations are accounts, money is in the ledger's currency:

  received     assets:inventory:LOC  +qty "SKU" @ cost   / liabilities:payables:SUPPLIER
  sold         assets:inventory:LOC  -qty "SKU" @ price  / assets:cash:CHANNEL
  returned     assets:inventory:LOC  +qty "SKU" @ refund / assets:cash:CHANNEL
               (restock false: expenses:returns:not-restocked instead of the inventory)
  adjusted     assets:inventory:LOC  ±qty "SKU"          / expenses:adjustments:REASON
  counted      assets:inventory:LOC  = qty "SKU"         / expenses:adjustments:count
               (a balance assignment: hledger itself works out the difference, as invctl does)
  transferred  assets:inventory:TO   +qty "SKU"          / assets:inventory:FROM
  ordered, cancelled, and received against a PO: the PO line's outstanding quantity
               (ordered - received - cancelled, never below 0, as invctl has it) moves in
               assets:on-order:LOC / equity:on-order
  voided       a transaction without postings; the voided event is left out, as invctl does

So `hledger bal assets:inventory` per account and commodity is invctl's on-hand stock and
`hledger bal assets:on-order` its on-order column (`--verify` checks both against
`invctl stock`). Not modelled: valuation (invctl's FIFO/average cost of stock and COGS has
no hledger equivalent; here sales are priced at the sale price), expiry, and counts of
one lot (written as a transaction without postings and reported on stderr).

The first line of the output is a header (FORMAT and the number of invctl journal lines
read) that bench/run.py checks to know whether a cached conversion is current.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

FORMAT = "invctl-bench to_hledger v2"
_BAD = re.compile(r"[\s:;]+")


def _acct(name: object) -> str:
    """An account name component: no colon (a subaccount) or spaces (the amount separator)."""
    return _BAD.sub("_", str(name)) or "_"


def _unit(sku: str) -> str:
    return '"' + sku.replace('"', "").replace("\n", "") + '"'


def _neg(qty: object) -> str:
    text = str(qty)
    return text[1:] if text.startswith("-") else "-" + text


def _num(qty: object) -> Decimal:
    return Decimal(str(qty))


def journal_files(ledger: Path) -> list[Path]:
    return sorted((ledger / "journal").rglob("*.jsonl"))


def count_lines(files: list[Path]) -> int:
    n = 0
    for path in files:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                n += block.count(b"\n")
    return n


def header_lines(journal: Path) -> int | None:
    """The number of invctl journal lines ``journal`` was made from, if this version made it."""
    try:
        with journal.open(encoding="utf-8") as fh:
            head = fh.readline()
    except (OSError, UnicodeDecodeError):
        return None
    match = re.match(rf"; {re.escape(FORMAT)}: +(\d+) lines from ", head)
    return int(match[1]) if match else None


def _void_targets(files: list[Path]) -> set[str]:
    """Ids of voided events (a byte search first: voids are rare)."""
    targets: set[str] = set()
    for path in files:
        data = path.read_bytes()
        if b'"voided"' not in data:
            continue
        for line in data.splitlines():
            if b'"voided"' in line:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("type") == "voided" and isinstance(ev.get("target"), str):
                    targets.add(ev["target"])
    return targets


class _Line:
    """One PO line: what invctl needs for its on-order quantity."""

    __slots__ = ("loc", "ordered", "received", "cancelled")

    def __init__(self) -> None:
        self.loc = "main"
        self.ordered = Decimal(0)
        self.received = Decimal(0)
        self.cancelled = Decimal(0)

    @property
    def outstanding(self) -> Decimal:
        return max(Decimal(0), self.ordered - self.received - self.cancelled)


class _Converter:
    def __init__(self, currency: str):
        self.cur = currency
        self.lines: dict[tuple[str, str], _Line] = {}
        self.lot_counts = 0

    def po_move(self, key: tuple[str, str], change: Callable[[_Line], None], create: bool = False) -> list[str]:
        """Apply ``change`` to a PO line (a new one only if ``create``, as invctl has it): the
        postings that move its outstanding quantity."""
        line = self.lines.get(key)
        if line is None:
            if not create:
                return []
            line = self.lines[key] = _Line()
        old_loc, old = line.loc, line.outstanding
        change(line)
        new_loc, new = line.loc, line.outstanding
        unit = _unit(key[1])
        moves = [(old_loc, -old), (new_loc, new)] if old_loc != new_loc else [(new_loc, new - old)]
        posts = [f"assets:on-order:{_acct(loc)}  {qty} {unit}" for loc, qty in moves if qty]
        net = sum((qty for _, qty in moves), Decimal(0))
        return posts + [f"equity:on-order  {-net} {unit}"] if posts else []

    def postings(self, ev: dict[str, Any]) -> list[str]:
        kind = ev["type"]
        if kind == "voided":
            return []
        sku, qty = ev["sku"], ev.get("qty")
        unit = _unit(sku)
        inv = f"assets:inventory:{_acct(ev.get('loc', 'main'))}"
        cash = "assets:cash" + (f":{_acct(ev['channel'])}" if ev.get("channel") else "")
        if kind == "sold":
            return [f"{inv}  {_neg(qty)} {unit} @ {ev['price']} {self.cur}", cash]
        if kind == "received":
            supplier = f":{_acct(ev['supplier'])}" if ev.get("supplier") else ""
            posts = [f"{inv}  {qty} {unit} @ {ev['cost']} {self.cur}", f"liabilities:payables{supplier}"]
            if ev.get("po") is not None:
                def receive(line: _Line) -> None:
                    line.received += _num(qty)
                posts += self.po_move((ev["po"], sku), receive)
            return posts
        if kind == "returned":
            where = inv if ev.get("restock", True) else "expenses:returns:not-restocked"
            if ev.get("refund") is not None:
                return [f"{where}  {qty} {unit} @ {ev['refund']} {self.cur}", cash]
            return [f"{where}  {qty} {unit}", "income:returns"]
        if kind == "adjusted":
            return [f"{inv}  {qty} {unit}", f"expenses:adjustments:{_acct(ev.get('reason'))}"]
        if kind == "counted":
            if ev.get("lot") is not None:
                self.lot_counts += 1
                return []
            return [f"{inv}  = {qty} {unit}", "expenses:adjustments:count"]
        if kind == "transferred":
            return [f"assets:inventory:{_acct(ev['to'])}  {qty} {unit}", f"assets:inventory:{_acct(ev['from'])}"]
        if kind == "ordered":
            def order(line: _Line) -> None:
                line.ordered += _num(qty)
                line.loc = ev.get("loc", "main")
            return self.po_move((ev["po"], sku), order, create=True)
        if kind == "cancelled":
            def cancel(line: _Line) -> None:
                left = line.outstanding
                n = left if qty is None else _num(qty)
                line.cancelled += min(n, left)
            return self.po_move((ev["po"], sku), cancel)
        raise ValueError(f"unknown event type {kind!r}")


def convert(ledger: Path, out: Path) -> int:
    """Write the journal to ``out`` (atomically); returns the number of transactions."""
    files = journal_files(ledger)
    settings = tomllib.loads((ledger / "invctl.toml").read_text(encoding="utf-8"))
    voided = _void_targets(files)
    tmp = out.with_name(out.name + ".tmp")
    n = skipped = unordered = 0
    last: tuple[dt.datetime, str] | None = None
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(f"; {FORMAT}: {count_lines(files):>12} lines from {ledger.resolve()}\n\n")
        conv = _Converter(str(settings.get("currency", "EUR")))
        for path in files:
            with path.open("rb") as src:
                for raw in src:
                    if not raw.endswith(b"\n"):  # a line being appended right now
                        skipped += 1
                        continue
                    try:
                        ev = json.loads(raw)
                        key = (dt.datetime.fromisoformat(ev["ts"]), ev["id"])
                        unordered += last is not None and key < last
                    except (ValueError, KeyError, TypeError):
                        skipped += bool(raw.strip())
                        continue
                    last = key
                    if ev["id"] in voided:
                        continue
                    try:
                        posts = conv.postings(ev)
                    except (KeyError, ValueError, ArithmeticError):
                        skipped += 1
                        continue
                    what = f"{ev['type']} {ev['id']}"
                    if ev["type"] == "voided":
                        what += f"  ; removes {ev.get('target')}"
                    body = "".join(f"    {p}\n" for p in posts)
                    fh.write(f"{ev['ts'][:10]} {what}\n{body}\n")
                    n += 1
    os.replace(tmp, out)
    for count, what in ((skipped, "unreadable or invalid lines left out"),
                        (unordered, "lines out of (ts, id) order (counts may be applied in another order than invctl's)"),
                        (conv.lot_counts, "counts of one lot written without postings (not modelled)"),
                        (len(voided), "voided events left out")):
        if count:
            print(f"to_hledger: {count:,} {what}", file=sys.stderr)
    return n


def verify(ledger: Path, journal: Path, hledger: str, invctl: str) -> int:
    """Compare hledger's inventory and on-order balances with `invctl stock`; 0 if they agree."""
    want: dict[tuple[str, str, str], Decimal] = {}
    out = subprocess.run([invctl, "-L", str(ledger), "stock", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    for row in json.loads(out):
        for col, acct in (("on_hand", "inventory"), ("on_order", "on-order")):
            if _num(row[col]):
                want[(acct, _acct(row["loc"]), row["sku"])] = _num(row[col])
    got: dict[tuple[str, str, str], Decimal] = {}
    out = subprocess.run([hledger, "-f", str(journal), "bal", "assets:inventory", "assets:on-order",
                          "-O", "csv", "--layout=bare", "-N"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines()[1:]:
        account, commodity, amount = json.loads(f"[{line}]")
        if _num(amount):
            _, acct, loc = account.split(":", 2)
            got[(acct, loc, commodity)] = _num(amount)
    diff = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
    for k in diff[:20]:
        print(f"differs: {':'.join(k)}  invctl {want.get(k, 0)}  hledger {got.get(k, 0)}")
    print(f"{len(want) - len(set(diff) & want.keys()):,} of {len(want):,} invctl stock figures match hledger; {len(diff)} differ", flush=True)
    return 1 if diff else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ledger", type=Path)
    ap.add_argument("-o", "--out", type=Path, help="default: LEDGER.hledger beside the ledger")
    ap.add_argument("--verify", action="store_true",
                    help="then compare `hledger bal` with `invctl stock` (on hand and on order)")
    args = ap.parse_args()
    out = args.out or args.ledger.with_name(args.ledger.name + ".hledger")
    n = convert(args.ledger, out)
    print(f"{n:,} transactions -> {out}", file=sys.stderr)
    if args.verify:
        hledger = shutil.which("hledger")
        if hledger is None:
            print("hledger is not on PATH", file=sys.stderr)
            return 2
        return verify(args.ledger, out, hledger, str(Path(sys.executable).with_name("invctl")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
