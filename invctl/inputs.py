"""Checking what a person typed (quantities, money, dates, times, locations) before it
becomes an event; each problem is refused with one line saying how to fix it."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from invctl.errors import Refused
from invctl.numbers import LIMIT, Number, TooLarge, decimals_of, parse_decimal, round_money
from invctl.rawcheck import has_control
from invctl.settings import Ledger

_FINEST = Decimal(1).scaleb(-22)


def qty(text: str, what: str = "quantity", *, allow_zero: bool = False, signed: bool = False) -> Number:
    try:
        # parse_decimal refuses 10^12 and more: 1e999999 used to crash the encoder with a
        # traceback, and abs() of 1e999999999 overflows the context; no stock is this large.
        d = parse_decimal(str(text))
    except TooLarge:
        raise Refused(f"{what} {text} is too large (the limit is {LIMIT:,}); check the number") from None
    except ValueError:
        raise Refused(f"{what} {text!r} is not a number; give a whole number like 3 or a decimal like 1.5") from None
    if d != d.quantize(_FINEST, rounding=ROUND_DOWN):
        # The journal keeps at most 22 decimals (12 + 22 digits: the replay's precision).
        raise Refused(f"{what} {text} has too many decimals (at most 22); round it")
    value: Number = int(d) if d == d.to_integral_value() else d
    if signed:
        if value == 0:
            raise Refused(f"{what} must not be 0; give a signed change like -2 or 5")
    elif value < 0 or (value == 0 and not allow_zero):
        raise Refused(f"{what} must be {'0 or more' if allow_zero else 'greater than 0'}, not {text}")
    return value


def qty_json(value: Number) -> int | str:
    """A quantity as the journal stores it: a JSON integer, or a decimal string."""
    return value if isinstance(value, int) else f"{value.normalize():f}"


def money(ledger: Ledger, text: str, what: str = "amount") -> str:
    """Money as the journal stores it: a decimal string with at most the currency's decimals."""
    try:
        d = parse_decimal(str(text))  # below 10^12: beyond, qty x cost would lose digits
    except TooLarge:
        raise Refused(f"{what} {text} is too large (the limit is {LIMIT:,}); check the amount") from None
    except ValueError:
        raise Refused(f"{what} {text!r} is not a number; give an amount like 6.20") from None
    if d < 0:
        raise Refused(f"{what} must not be negative, not {text}")
    places = ledger.settings.places
    if decimals_of(d) > places:
        raise Refused(
            f"{what} {text} has more decimals than {ledger.settings.currency} allows ({places}); "
            f"round it, e.g. {round_money(d, places)}"
        )
    return f"{d:f}"


def date(text: str, what: str = "date") -> str:
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise Refused(f"{what} {text!r} is not a valid date; use YYYY-MM-DD, e.g. 2027-06-30") from None


def moment(ledger: Ledger, text: str | None, what: str = "--at") -> dt.datetime:
    """--at: now, a date (its start) or a date and time; without an offset, in the ledger's zone."""
    tz = ledger.settings.tz
    if text is None or text.strip().lower() == "now":
        return dt.datetime.now(tz).replace(microsecond=0)
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            when = dt.datetime(day.year, day.month, day.day)
        else:
            when = dt.datetime.fromisoformat(raw)
    except ValueError:
        # Name the option: "time 'x' is not valid" did not say which input was wrong.
        raise Refused(
            f"{what} {text!r} is not a valid time; use YYYY-MM-DD, YYYY-MM-DDTHH:MM or with an offset, e.g. 2026-11-20T14:30+01:00"
        ) from None
    try:
        local = when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
        offset = local.utcoffset()
    except OverflowError:  # e.g. 9999-12-31T23:59-12:00 is in year 10000 in the ledger's zone
        raise Refused(f"{what} {text!r} is out of range in the ledger's time zone; use a date between 0001 and 9999") from None
    if offset is not None and offset.seconds % 60:
        # Before time zones were standardised (Berlin: until 1893) offsets had seconds,
        # which a journal timestamp (RFC 3339) cannot carry: the same instant in UTC can.
        return local.astimezone(dt.UTC)
    return local


def day_end(ledger: Ledger, text: str, what: str = "--as-of") -> dt.datetime:
    """The instant just after a day (or a time) in the ledger's zone: replay up to it."""
    raw = text.strip()
    if len(raw) == 10:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise Refused(f"{what} {text!r} is not a valid date; use YYYY-MM-DD") from None
        start = dt.datetime(day.year, day.month, day.day, tzinfo=ledger.settings.tz)
    else:
        start = moment(ledger, raw, what)
    try:
        return start + (dt.timedelta(days=1) if len(raw) == 10 else dt.timedelta(microseconds=1))
    except OverflowError:
        raise Refused(f"{what} {text!r} is out of range; use a date before 9999-12-31") from None


def period(ledger: Ledger, start: str | None, end: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """--from and --to as [the start of the first day, the instant after the last); refused
    when --from is not before --to."""
    first = moment(ledger, date(start, "--from"), "--from") if start else None
    until = day_end(ledger, end, "--to") if end else None
    if first is not None and until is not None and first >= until:
        raise Refused(f"--from {start} is after --to {end}; check the dates")
    return first, until


def location(ledger: Ledger, loc: str, what: str = "location") -> str:
    if loc not in ledger.settings.locations:
        listed = ", ".join(ledger.settings.locations)
        raise Refused(
            f"{what} {loc!r} is not listed in invctl.toml (locations = [{listed}]); add it there first"
        )
    return loc


def text(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if has_control(value):  # also DEL and U+0080..U+009F (an 8-bit CSI is an escape sequence too)
        raise Refused(f"{what} must not contain control characters or line breaks")
    return value
