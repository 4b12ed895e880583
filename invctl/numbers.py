"""Decimal quantities and money: parsing, checking and rounding for output."""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

# Running costs are never rounded; divisions (average cost, partial layers) keep 34
# significant digits, far beyond any currency.
decimal.DefaultContext.prec = 34  # threads started later copy DefaultContext
decimal.getcontext().prec = 34

Number = int | Decimal

# ISO 4217 minor units for currencies that do not use 2 decimals.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}


def currency_places(currency: str) -> int:
    """How many decimals amounts in this currency have (ISO 4217 minor unit)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


# Quantities and unit amounts stay below this, in the journal and as typed: 12 digits before
# the point and 22 after stay within the 34 significant digits of the replay's arithmetic.
LIMIT = 10**12
_LIMIT_DIGITS = 12  # Decimal.adjusted() of the smallest number too large


class TooLarge(ValueError):
    """A finite number of LIMIT or more: no quantity or amount is that big."""


def parse_decimal(text: str) -> Decimal:
    """A finite Decimal from text, or ValueError with a readable reason."""
    try:
        value = Decimal(text.strip())
    except (decimal.InvalidOperation, AttributeError):
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    # 1e309 is finite, but no stock or price is that big; adjusted() does no arithmetic
    # (abs() of 1e999999999 would overflow the context).
    if value and value.adjusted() >= _LIMIT_DIGITS:
        raise TooLarge(f"{text[:40]!r} is too large ({LIMIT:,} or more)")
    return value


def parse_qty(value: object) -> Number:
    """A quantity from a journal value: a JSON integer or a decimal string."""
    if type(value) is int:
        return value
    if type(value) is str:
        d = parse_decimal(value)
        return int(d) if d == d.to_integral_value() else d
    raise ValueError(f"quantity {value!r} must be a whole number or a decimal string like \"1.5\"")


def parse_money(value: object, places: int | None = None) -> Decimal:
    """Money from a journal or command-line value: a decimal string, never a float."""
    if type(value) is not str:
        raise ValueError(f"amount {value!r} must be a decimal string like \"6.20\", not a JSON number")
    d = parse_decimal(value)
    if places is not None and decimals_of(d) > places:
        raise ValueError(f"amount {value} has more than {places} decimals")
    return d


def decimals_of(d: Decimal) -> int:
    exponent = d.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def round_money(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money_str(d: Decimal, places: int) -> str:
    """Money as shown and exported: rounded half-up to the currency's decimals."""
    r = round_money(d, places)
    return "0" + ("." + "0" * places if places else "") if r == 0 else f"{r:f}"


def qty_out(q: Number) -> int | Decimal:
    """A quantity for output: an int when whole, else a normalized Decimal."""
    if type(q) is int:
        return q
    assert isinstance(q, Decimal)
    if q == q.to_integral_value():
        return int(q)
    return q.normalize()


def qty_str(q: Number) -> str:
    v = qty_out(q)
    return str(v) if type(v) is int else f"{v:f}"
