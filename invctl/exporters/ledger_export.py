"""`invctl export hledger|beancount`: the stock events as double-entry transactions in money.

One transaction per folded event that moves value, from the replay's effects (an observer,
so the figures are exactly those of the reports):

- received: ``Assets:Inventory:LOC`` against ``Liabilities:Payable:SUPPLIER`` (or
  ``Equity:Opening-Balances`` without a supplier); a true-up of negative stock goes to COGS;
- sold: ``Expenses:COGS`` against inventory (revenue is not exported);
- returned with restock: back into inventory against COGS;
- adjusted: negative against ``Expenses:Shrinkage:REASON``, positive against
  ``Income:Found:REASON``;
- counted: a shortfall against ``Expenses:Shrinkage:Count``, a surplus against
  ``Income:Found:Count``;
- transferred: from one location account to the other.

Amounts are exact decimals until output. Each account is rounded cumulatively (a posting is
the change of the rounded running balance), so an account's balance is its exact balance
rounded; the inventory accounts together are kept at the rounded exact total (the
difference goes to the transaction's largest inventory posting); a transaction still off by
a cent gets an ``Equity:Rounding`` posting, so every one balances exactly.

With ``start``, the events before it become one opening transaction dated ``start``'s day:
balance-sheet accounts as they stand, and income and expenses so far in
``Equity:Opening-Balances``. Income and expense accounts then start again from zero, so
their balances over the period are the period's exact figures rounded.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from decimal import Decimal
from typing import IO, Any, Literal

from invctl import events as E
from invctl.numbers import round_money
from invctl.settings import Ledger

Format = Literal["hledger", "beancount"]
ZERO = Decimal(0)
INVENTORY = "Assets:Inventory"
COGS = "Expenses:COGS"
OPENING = "Equity:Opening-Balances"
ROUNDING = "Equity:Rounding"
_BAD = re.compile(r"[^A-Za-z0-9-]")


def component(name: str) -> str:
    """One account-name component valid in hledger and beancount: letters, digits and ``-``,
    starting with a capital letter or a digit. A name that had to change gets a short hash of
    the original, so two names never fall together (``a b`` and ``a-b``)."""
    clean = _BAD.sub("-", name)
    if not clean or not clean[0].isalnum():
        clean = "X" + clean
    clean = clean[0].upper() + clean[1:]
    if clean != name and clean[1:] != name[1:]:
        clean += f"-{zlib.crc32(name.encode()):08x}"[:5]
    return clean


class _Book:
    """An observer on the replay that writes a transaction per event with value effects."""

    def __init__(self, ledger: Ledger, out: IO[str], fmt: Format, start: dt.datetime | None, by_sku: bool):
        self.out = out
        self.fmt = fmt
        self.start = start
        self.by_sku = by_sku
        self.places = ledger.settings.places
        self.currency = ledger.settings.currency
        self.tz = ledger.settings.tz
        self.exact: dict[str, Decimal] = {}  # running exact balance per account
        self.posted: dict[str, Decimal] = {}  # running posted (rounded) balance per account
        self.inv_exact = ZERO
        self.inv_posted = ZERO
        self.opened: dict[str, dt.date] = {}  # account: first day used (beancount `open`)
        self.opening_done = start is None
        self.first_day: dt.date | None = None
        self.written = 0
        self._header()

    # --- output --------------------------------------------------------------------

    def amount(self, d: Decimal) -> str:
        r = round_money(d, self.places)
        return f"{(ZERO if r == 0 else r):.{self.places}f} {self.currency}"

    def _header(self) -> None:
        w = self.out.write
        if self.fmt == "hledger":
            w("; Stock events as money, written by `invctl export hledger`.\n")
            w(f"commodity 1000.{'0' * self.places} {self.currency}\n\n" if self.places
              else f"commodity 1000 {self.currency}\n\n")
        else:
            w("; Stock events as money, written by `invctl export beancount`.\n")
            w(f'option "operating_currency" "{self.currency}"\n\n')

    def _write(self, day: dt.date, title: str, code: str | None, postings: list[tuple[str, Decimal]]) -> None:
        w = self.out.write
        for account, _ in postings:
            self.opened.setdefault(account, day)
        if self.first_day is None:
            self.first_day = day
        title = re.sub(r"[\x00-\x1f\x7f;\\]", " ", title).replace('"', "'")
        if self.fmt == "hledger":
            w(f"{day.isoformat()} *{f' ({code})' if code else ''} {title}\n")
        else:
            w(f'{day.isoformat()} * "{title}"\n')
            if code:
                w(f'  id: "{code}"\n')
        width = max(len(a) for a, _ in postings) + 4
        for account, value in postings:
            w(f"  {account:<{width}}{self.amount(value):>16}\n")
        w("\n")
        self.written += 1

    def finish(self) -> None:
        self._opening()
        w = self.out.write
        if self.fmt == "hledger":
            for account in sorted(self.opened):
                w(f"account {account}\n")
        else:
            first = min(self.opened.values(), default=None) or self.first_day or dt.date(1970, 1, 1)
            w(f"{first.isoformat()} commodity {self.currency}\n")
            for account in sorted(self.opened):
                w(f"{self.opened[account].isoformat()} open {account} {self.currency}\n")

    # --- rounding --------------------------------------------------------------------

    def _round(self, exact: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
        """Rounded postings for exact ones (same account merged), balanced exactly."""
        merged: dict[str, Decimal] = {}
        for account, value in exact:
            merged[account] = merged.get(account, ZERO) + value
        out: list[list[Any]] = []
        inv_change = ZERO
        for account, value in merged.items():
            before = self.posted.get(account, ZERO)
            total = self.exact.get(account, ZERO) + value
            self.exact[account] = total
            amount = round_money(total, self.places) - before
            self.posted[account] = before + amount
            out.append([account, amount])
            if account.startswith(INVENTORY):
                self.inv_exact += value
                inv_change += amount
        if any(a.startswith(INVENTORY) for a in merged):
            diff = round_money(self.inv_exact, self.places) - (self.inv_posted + inv_change)
            if diff:
                biggest = max((p for p in out if p[0].startswith(INVENTORY)), key=lambda p: abs(p[1]))
                biggest[1] += diff
                self.posted[biggest[0]] += diff
                inv_change += diff
            self.inv_posted += inv_change
        residual = -sum((p[1] for p in out), ZERO)
        if residual:
            self.posted[ROUNDING] = self.posted.get(ROUNDING, ZERO) + residual
            out.append([ROUNDING, residual])
        return [(a, v) for a, v in out]

    # --- the opening balance ---------------------------------------------------------

    def _opening(self) -> None:
        if self.opening_done:
            return
        self.opening_done = True
        assert self.start is not None
        day = self.start.astimezone(self.tz).date()
        postings: list[tuple[str, Decimal]] = []
        carried = ZERO
        for account in sorted(self.posted):
            value = self.posted[account]
            if account.startswith(("Income", "Expenses")):
                carried += value
                self.posted[account] = ZERO  # the period starts from zero
                self.exact[account] = ZERO
            elif value:
                postings.append((account, value))
        if carried:
            merged = dict(postings)
            merged[OPENING] = merged.get(OPENING, ZERO) + carried
            postings = sorted((a, v) for a, v in merged.items() if v)
        if postings:
            self._write(day, "Opening balances", None, postings)

    # --- the observer ----------------------------------------------------------------

    def inventory(self, sku: str, loc: str) -> str:
        account = f"{INVENTORY}:{component(loc)}"
        return f"{account}:{component(sku)}" if self.by_sku else account

    def __call__(self, state: Any, ev: E.Event, src: tuple[int, int], effects: list[Any]) -> None:
        if not effects:
            return
        exact: list[tuple[str, Decimal]] = []
        net = ZERO
        qty: Any = 0
        for fx in effects:
            if fx.value:
                exact.append((self.inventory(fx.sku, fx.loc), fx.value))
            if fx.cogs:
                exact.append((COGS, fx.cogs))
            net += fx.value + fx.cogs
            qty += fx.qty
        if net:
            exact.append((self._counter(ev, qty), -net))
        if not exact:
            return
        before = self.start is not None and ev.ts < self.start
        if not before:
            self._opening()
        postings = self._round(exact)
        if before or not any(v for _, v in postings):
            return
        self._write(ev.ts.astimezone(self.tz).date(), _title(ev), ev.id, [(a, v) for a, v in postings if v])

    def _counter(self, ev: E.Event, qty: Any) -> str:
        """The account on the other side of the inventory (and COGS) postings."""
        if isinstance(ev, E.Received):
            return f"Liabilities:Payable:{component(ev.supplier)}" if ev.supplier else OPENING
        if isinstance(ev, E.Adjusted):
            reason = component(ev.reason)
            return f"Expenses:Shrinkage:{reason}" if qty < 0 else f"Income:Found:{reason}"
        if isinstance(ev, E.Counted):
            return "Expenses:Shrinkage:Count" if qty < 0 else "Income:Found:Count"
        return ROUNDING  # sales, returns and transfers balance on their own


def _title(ev: E.Event) -> str:
    kind = type(ev).__struct_config__.tag
    sku = getattr(ev, "sku", "")
    qty = getattr(ev, "qty", "")
    if isinstance(ev, E.Transferred):
        return f"{kind} {qty} {sku} {ev.from_} -> {ev.to}"
    where = getattr(ev, "loc", "")
    extra = ""
    if isinstance(ev, E.Received) and ev.supplier:
        extra = f" from {ev.supplier}"
    elif isinstance(ev, E.Adjusted):
        extra = f" ({ev.reason})"
    elif isinstance(ev, E.Counted):
        extra = " (count)"
    return f"{kind} {qty} {sku} at {where}{extra}"


def export_ledger(ledger: Ledger, out: IO[str], fmt: Format, *, start: dt.datetime | None = None,
                  end: dt.datetime | None = None, by_sku: bool = False) -> list[str]:
    """Write the journal (up to ``end``) as an hledger or beancount file; returns warnings."""
    from invctl.replay import replay
    from invctl.reports.stock import _notes

    book = _Book(ledger, out, fmt, start, by_sku)
    state = replay(ledger, until=end, observer=book)
    book.finish()
    return _notes(state)
