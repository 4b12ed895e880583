"""Checks on the raw text of journal lines, below the event records: control characters,
keys that appear twice, and messages short enough to read.

`check` runs all of them; the replay runs only the control-character scan, which costs
nothing on a clean chunk (no backslash, no DEL byte); writers refuse control characters
in `events.to_line`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

# What decoding a journal line can raise: msgspec raises UnicodeDecodeError, not a
# DecodeError, for bad UTF-8 inside a string value. (events.DECODE_ERRORS is this.)
DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)

def shorten(text: str, limit: int = 300) -> str:
    """A message that echoes a 10 MB value is not one line a person can read."""
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 2:]}"


def shown(value: str, limit: int = 40) -> str:
    """``repr(value)``, cut short when long (a 100 KB SKU in a message helps no one)."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


# --- control characters ------------------------------------------------------------------
# They have no place in journal text: an ESC sequence in `by` or `note` rewrites the
# terminal of whoever runs `history`, a NUL or line break breaks tools reading the text.
# Tab is allowed, as writers allow it.

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_C0_DEL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def codepoint(value: str, pattern: re.Pattern[str] = _CONTROL) -> str:
    m = pattern.search(value)
    return f"U+{ord(m.group()):04X}" if m else "?"


def may_hold_control(data: Any, end: int | None = None) -> bool:
    """Whether these journal bytes may hold a C0 control character or DEL in a string.

    A C0 character can only be written escaped (msgspec refuses raw ones), so there is
    no backslash and no DEL byte in clean data: two memchr scans, ~1% of a replay.
    """
    end = len(data) if end is None else end
    return data.find(b"\\", 0, end) >= 0 or data.find(b"\x7f", 0, end) >= 0


_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F as UTF-8


def may_hold_c1(data: bytes) -> bool:
    """Whether these bytes hold a C1 control character (raw: JSON need not escape them);
    not fooled by £ or ° (\xc2\xa3, \xc2\xb0)."""
    return _C1_UTF8.search(data) is not None


def control_problem(raw: bytes, c1: bool = True) -> str | None:
    """Why this journal line holds a control character, naming the key; None if it does not.

    ``c1=False`` looks for C0 and DEL only (what :func:`may_hold_control` finds cheaply:
    the replay); `check` also looks for C1 characters (U+0080..U+009F).
    """
    pattern = _CONTROL if c1 else _C0_DEL
    try:
        doc = msgspec.json.decode(raw)
    except DECODE_ERRORS:
        return None  # reported as a line that does not parse
    found = _find_control(doc, "", pattern)
    if found is None:
        return None
    where, value = found
    return (f"{where} contains a control character ({codepoint(value, pattern)}); remove it "
            "(journal text must not hold control characters or line breaks)")


def _find_control(doc: Any, path: str, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    """(what holds it, the text) of the first control character in a decoded line."""
    if isinstance(doc, str):
        return (f"key {path}" if path else "the line", doc) if pattern.search(doc) else None
    if isinstance(doc, dict):
        items: list[tuple[str, Any]] = list(doc.items())
    elif isinstance(doc, list):
        items = [(str(i), v) for i, v in enumerate(doc)]
    else:
        return None
    for key, value in items:
        if pattern.search(key):
            return f"a key name {shown(key)}", key
        found = _find_control(value, f'"{key}"' if not path else f"{path[:-1]}.{key}\"", pattern)
        if found is not None:
            return found
    return None


# --- duplicate keys ----------------------------------------------------------------------
# JSON parsers keep the last of two equal keys (msgspec, jq, DuckDB alike), so
# `"qty":1,"qty":5` reads as 5 while a person reading the line may see 1. Writers never
# write one; `check` refuses them. The replay does not look (it would cost a decode per line).

_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_WS_COLON = (b" :", b"\t:", b"\r:")


def keys_may_repeat(data: bytes) -> bool:
    """Whether some line of ``data`` (complete lines) may repeat a key.

    Every key ends in `":` (a writer puts no space before the colon); `":` in a string
    is escaped (`\\":`) and only overcounts. So when the file has as many `":` as its lines
    have distinct top-level keys, no line repeats a key and none nests an object.
    """
    # A one-byte search (memchr) first: tabs and carriage returns are rarely in a journal
    # at all, and then their two-byte search over the whole file is skipped.
    if any(ws[:1] in data and ws in data for ws in _WS_COLON):
        return True
    try:
        distinct = sum(map(len, _KEYS.decode_lines(data)))
    except DECODE_ERRORS:
        return True  # a bad or blank line: look line by line
    return data.count(b'":') != distinct


def repeated_key(raw: bytes) -> str | None:
    """The first key this line (an object at any depth) has twice, or None."""
    if not any(ws in raw for ws in _WS_COLON):
        try:
            if raw.count(b'":') == len(_KEYS.decode(raw)):
                return None
        except DECODE_ERRORS:
            return None  # reported as a line that does not parse
    import json

    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [k for k, _ in items]
        if not found and len(set(names)) != len(names):
            seen: set[str] = set()
            found.append(next(k for k in names if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except ValueError:
        return None
    return found[0] if found else None
