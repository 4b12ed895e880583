"""The event records: one small immutable record per kind of stock movement.

A journal line decodes into exactly one of these (the ``type`` key picks the record).
Quantities stay as written (a JSON integer or a decimal string) and money stays a
string, so that decoding is fast and a binary float is refused as a type error; the
replay converts what it uses with :mod:`invctl.numbers`. Unknown keys are ignored
here and preserved in the file, which is never rewritten.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Union

import msgspec

from invctl.errors import Refused
from invctl.numbers import LIMIT
from invctl.rawcheck import (
    DECODE_ERRORS as DECODE_ERRORS,  # re-exported: what decoding a line raises
)
from invctl.rawcheck import codepoint, has_control, shorten, shown

TS = Annotated[dt.datetime, msgspec.Meta(tz=True)]
# Plain decimals only, below LIMIT (as writers allow): "1e999999" or a 25-digit quantity
# decoded fine before and then hung or crashed the replay and the reports.
DECIMAL = r"^-?[0-9]{1,12}(\.[0-9]{1,22})?$"
Qty = Annotated[int, msgspec.Meta(gt=-LIMIT, lt=LIMIT)] | Annotated[str, msgspec.Meta(pattern=DECIMAL)]
Money = Annotated[str, msgspec.Meta(pattern=DECIMAL)]  # a decimal string such as "19.90"

REASONS = ("damaged", "expired", "lost", "theft", "found", "sample", "defective", "other")


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Keys every event has.

    Attributes:
        id: unique, time-sortable id (a ULID); breaks ties between equal ``ts``.
        ts: effective time, ISO 8601 with a UTC offset.
        by: who recorded it.
        note: free text.
        ref: external reference; ``(type, ref, sku)`` makes an import idempotent.
    """

    id: str
    ts: TS
    by: str | None = None
    note: str | None = None
    ref: str | None = None


class Received(Event, tag="received", frozen=True):
    """Goods in (a purchase receipt).

    Attributes: sku, qty (> 0), loc, cost (unit cost), supplier, po (reduces that PO line's
    outstanding quantity), lot, expires (date; lots that expire are sold first-expiring-first-out).
    """

    sku: str
    qty: Qty
    cost: Money
    loc: str = "main"
    supplier: str | None = None
    po: str | None = None
    lot: str | None = None
    expires: dt.date | None = None


class Sold(Event, tag="sold", frozen=True):
    """Goods out to a customer.

    Attributes: sku, qty (> 0), loc, price (unit price), channel, customer, region, order.
    """

    sku: str
    qty: Qty
    price: Money
    loc: str = "main"
    channel: str | None = None
    customer: str | None = None
    region: str | None = None
    order: str | None = None


class Returned(Event, tag="returned", frozen=True):
    """A customer return.

    Attributes: sku, qty (> 0), loc, refund (unit amount), restock (default true: the goods go
    back on the shelf at the unit COGS of that order's sale), order, customer, channel.
    """

    sku: str
    qty: Qty
    loc: str = "main"
    refund: Money | None = None
    restock: bool = True
    order: str | None = None
    customer: str | None = None
    channel: str | None = None


class Adjusted(Event, tag="adjusted", frozen=True):
    """A correction with a reason.

    Attributes: sku, qty (signed, not 0), loc, reason (one of REASONS), cost (unit cost of
    a positive adjustment; default the current unit cost), lot (the lot it concerns: a
    negative one takes from that lot only, a positive one adds to it).
    """

    sku: str
    qty: Qty
    reason: str
    loc: str = "main"
    cost: Money | None = None
    lot: str | None = None


class Counted(Event, tag="counted", frozen=True):
    """A stocktake: the quantity observed on the shelf.

    Attributes: sku, qty (>= 0), loc, lot (count of one lot only).
    """

    sku: str
    qty: Qty
    loc: str = "main"
    lot: str | None = None


class Transferred(Event, tag="transferred", frozen=True):
    """A move between locations, keeping the cost, lot and expiry of what moves.

    Attributes: sku, qty (> 0), from_ (JSON ``from``), to.
    """

    sku: str
    qty: Qty
    from_: str = msgspec.field(name="from")
    to: str


class Ordered(Event, tag="ordered", frozen=True):
    """A purchase order line placed.

    Attributes: po, supplier, sku, qty (> 0), loc (where it will arrive), cost, expected (date).
    """

    sku: str
    qty: Qty
    po: str
    supplier: str
    cost: Money
    loc: str = "main"
    expected: dt.date | None = None


class Cancelled(Event, tag="cancelled", frozen=True):
    """A purchase order line cancelled.

    Attributes: po, sku, qty (default: all that is outstanding).
    """

    sku: str
    po: str
    qty: Qty | None = None


class Voided(Event, tag="voided", frozen=True):
    """Takes an earlier event out of history (a mistake corrected without editing).

    Attributes: target (the event id), reason.
    """

    target: str
    reason: str


AnyEvent = Received | Sold | Returned | Adjusted | Counted | Transferred | Ordered | Cancelled | Voided
KINDS: dict[str, type[Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (Received, Sold, Returned, Adjusted, Counted, Transferred, Ordered, Cancelled, Voided)
}
TYPES = tuple(KINDS)

# Keys in the order writers put them on a line (stable, for readable diffs).
KEY_ORDER = (
    "id", "ts", "type", "sku", "qty", "loc", "from", "to", "po", "supplier", "cost", "price",
    "refund", "restock", "reason", "target", "lot", "expires", "expected", "channel",
    "customer", "region", "order", "by", "note", "ref",
)
_RANK = {k: i for i, k in enumerate(KEY_ORDER)}

decoder = msgspec.json.Decoder(AnyEvent)
_encoder = msgspec.json.Encoder()


def to_line(fields: dict[str, Any]) -> bytes:
    """One journal line (with its newline) from event fields, keys in the stable order.

    Refuses text holding control characters: every writer (commands, imports, the
    recorder's name from $INVCTL_USER) goes through here, and `check` rejects them.
    """
    for key, value in fields.items():
        if isinstance(value, str) and has_control(value):
            raise Refused(f"{key} {shown(value)} contains a control character ({codepoint(value)}); "
                          "remove it (text must not hold control characters or line breaks)")
    ordered = {k: fields[k] for k in sorted(fields, key=lambda k: _RANK.get(k, len(_RANK)))}
    return _encoder.encode(ordered) + b"\n"


def describe_decode_error(exc: msgspec.DecodeError) -> str:
    """A msgspec error rephrased for a person editing the journal."""
    text = str(exc)
    if isinstance(exc, msgspec.ValidationError):
        text = text.replace("Expected `int | str`, got `float`", "quantity must be a whole number or a decimal string like \"1.5\", not a JSON float")
        text = text.replace("Expected `str`, got `float`", "amount must be a decimal string like \"6.20\", not a JSON number")
        text = text.replace("Expected `str`, got `int`", "must be a string (amounts are decimal strings like \"6.20\")")
        text = text.replace("Expected `datetime` with a timezone component", "timestamp needs a UTC offset, e.g. 2026-11-25T10:00:00+01:00")
        text = text.replace("Object missing required field", "missing key")
        text = text.replace("Expected `object`, got", "a line must be one JSON object, got")
        text = _OUT_OF_RANGE.sub(f"number out of range (quantities stay below {LIMIT:,})", text)
        text = text.replace("Number out of range", "number out of range (too large for any quantity or amount)")
        if "Expected `str` of length <= 36" in text:  # the stock replay's money (see _LeanMoney)
            text = text.replace("Expected `str` of length <= 36", f"Expected `str` matching regex {DECIMAL!r}")
        if f"regex {DECIMAL!r}" in text:
            what = 'quantity must be a whole number or a plain decimal string like "1.5"' if text.endswith(
                "`$.qty`") else 'amount must be a plain decimal string like "6.20"'
            text = text.replace(f"Expected `str` matching regex {DECIMAL!r}",
                                f"{what} below {LIMIT:,} "
                                "(no exponent, NaN, Infinity or spaces)")
        if "Invalid value" in text and "`$.type`" in text:
            text += f" (known types: {', '.join(TYPES)})"
        return shorten(text)
    return shorten(f"not valid JSON: {text[0].lower()}{text[1:]}" if text else "not valid JSON")


_OUT_OF_RANGE = re.compile(r"Expected `int` [<>]= -?[0-9]+")


# --- the lean records the replay decodes -------------------------------------------------
# Building Python strings for keys the fold never reads (price, channel, customer, by, ...)
# is most of the decoding time on big journals, so the replay decodes into records that
# carry only what it uses. `check`, reports and writers use the full records above.

_LEAN_KEYS: dict[str, tuple[str, ...]] = {
    "received": ("sku", "qty", "cost", "loc", "po", "lot", "expires"),
    "sold": ("sku", "qty", "loc", "order"),
    "returned": ("sku", "qty", "loc", "refund", "restock", "order"),
    "adjusted": ("sku", "qty", "reason", "loc", "cost", "lot"),
    "counted": ("sku", "qty", "loc", "lot"),
    "transferred": ("sku", "qty", "from_", "to"),
    "ordered": ("sku", "qty", "po", "supplier", "cost", "loc", "expected"),
    "cancelled": ("sku", "po", "qty"),
    "voided": ("target", "reason"),
}


class LeanEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """The keys of every event the replay needs: id and ts."""

    id: str
    ts: TS


# Money in the lean records is only kept short: a pattern costs a regex call per receipt
# (3-7% of a cold replay). The quantity keeps its checks (strings are rare there).
_LeanMoney = Annotated[str, msgspec.Meta(max_length=36)]
_LEAN_TYPES: dict[Any, Any] = {Money: _LeanMoney, Money | None: _LeanMoney | None}


def _lean(cls: type[Event]) -> type[LeanEvent]:
    tag = str(cls.__struct_config__.tag)
    fields: list[Any] = []
    for f in msgspec.structs.fields(cls):
        if f.name not in _LEAN_KEYS[tag]:
            continue
        default = msgspec.NODEFAULT if f.required else f.default
        fields.append((f.name, _LEAN_TYPES.get(f.type, f.type), msgspec.field(default=default, name=f.encode_name)))
    lean: Any = msgspec.defstruct(
        f"Lean{cls.__name__}", fields, bases=(LeanEvent,), tag=tag, frozen=True, kw_only=True, gc=False,
        module=__name__,
    )
    return lean


LEAN: dict[type[Event], type[LeanEvent]] = {cls: _lean(cls) for cls in KINDS.values()}
FULL_OF: dict[type, type[Event]] = {lean: full for full, lean in LEAN.items()}
lean_decoder = msgspec.json.Decoder(Union[tuple(LEAN.values())])  # noqa: UP007
