"""`invctl check`: validate the whole ledger and say where every problem is.

The replay already reports lines that do not decode, values it cannot use and stock
that goes negative; this adds what needs the whole journal at once (duplicate ids, void
targets) and the stricter rules writers follow (money decimals, known SKUs and
locations, lines in the right month file).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import msgspec

from invctl import events as E
from invctl import rawcheck
from invctl.catalog import ID_PATTERN, ID_RULE
from invctl.errors import Problem, Refused
from invctl.journal import (
    FileRead,
    decode_error,
    file_month,
    find_lines,
    list_files,
    locked,
    set_aside_torn,
)
from invctl.replay import replay
from invctl.schema import keys
from invctl.settings import Ledger, Settings

_MONEY_KEYS = ("cost", "price", "refund")


def check_ledger(ledger: Ledger) -> list[Problem]:
    problems: list[Problem] = []
    catalog_items: dict[str, Any] = {}
    suppliers: dict[str, Any] = {}
    try:
        catalog = ledger.catalog
        catalog_items, suppliers = catalog.items, catalog.suppliers
    except Refused as exc:  # a broken catalog is itself a problem to list
        problems.append(_file_problem(ledger, str(exc)))
    known = ", ".join(keys(Settings))
    for key in ledger.settings.extra:
        # A typo such as `costng = "average"` would otherwise be ignored without a word.
        problems.append(Problem("invctl.toml", 0, f"unknown setting {key!r} (known: {known})", "warning"))
    places = ledger.settings.places
    locations = set(ledger.settings.locations)
    files = list_files(ledger)
    rels = [ledger.rel(p) for p in files]
    # Every id must be remembered to find duplicates: as the hash of the id and where it was
    # first seen, packed in one int (a dict of 1M strings and tuples took 280 MB). Equal
    # hashes are confirmed by reading the first line again (_same_id).
    first_seen: dict[int, int] = {}
    orders: dict[str, tuple[dt.datetime, str, str, int]] = {}  # PO id -> when, supplier, where first
    first_ref: dict[int, int] = {}  # (type, ref, sku) of events with a ref, packed likewise
    voids: list[tuple[str, int, E.Voided]] = []
    targets = _void_targets(ledger)
    target_kinds: dict[str, str] = {}  # the kind of each event a void names
    seen_ids: set[str] = set()  # ids of void targets and confirmed duplicates, by name
    for fi, path in enumerate(files):
        rel = rels[fi]
        month = file_month(path)
        read = FileRead.read(path)
        # Whole-file scans first: a clean file (the usual case) costs no work per line.
        repeats = rawcheck.keys_may_repeat(read.data)
        controls = rawcheck.may_hold_control(read.data) or rawcheck.may_hold_c1(read.data)
        for line, raw in read.lines():
            if controls:
                why = rawcheck.control_problem(raw)
                if why is not None:
                    problems.append(Problem(rel, line, why))
            if repeats:
                twice = rawcheck.repeated_key(raw)
                if twice is not None:
                    problems.append(Problem(rel, line, f"key {_quoted(twice)} appears twice; JSON readers keep only the "
                                                       "last value (invctl stock too): remove one of them"))
            try:
                ev = E.decoder.decode(raw)
            except E.DECODE_ERRORS as exc:
                # Said again by the replay when it reads that key (the same Problem: one is kept);
                # the stock replay does not read every key (a sale's price, say).
                problems.append(decode_error(rel, line, exc))
                continue
            here = (rel, line)

            def add(message: str, severity: str = "error", here: tuple[str, int] = here) -> None:
                problems.append(Problem(here[0], here[1], message, severity))

            h = hash(ev.id)
            first = first_seen.get(h)
            copy = False
            if first is None:
                first_seen[h] = fi << 32 | line
            elif _same_id(files[first >> 32], first & 0xFFFFFFFF, ev.id):
                add(f"duplicate id {ev.id} (first on {rels[first >> 32]}:{first & 0xFFFFFFFF}); remove one of the two lines")
                copy = True
            if ev.ref is not None and not copy and ev.id not in targets and not isinstance(ev, E.Voided):
                # Writers take (type, ref, sku) for "recorded already"; two events with one such
                # key come from the same import or command on two clones, merged: both count.
                same = (type(ev).__struct_config__.tag, ev.ref, getattr(ev, "sku", None))
                h = hash(same)
                first = first_ref.get(h)
                if first is None:
                    first_ref[h] = fi << 32 | line
                else:
                    other = _event_at(files[first >> 32], first & 0xFFFFFFFF)
                    if other is not None and (type(other).__struct_config__.tag, other.ref, getattr(other, "sku", None)) == same:
                        add(f"{same[0]} event with ref {rawcheck.shown(ev.ref)} for {same[2]} again (first on {rels[first >> 32]}:"
                            f"{first & 0xFFFFFFFF}, {other.id}): both count; the same import or command on two clones? "
                            f"Void one of them: invctl void {ev.id} --reason \"recorded twice\"")
            if ev.id in targets:
                target_kinds[ev.id] = type(ev).__struct_config__.tag
                seen_ids.add(ev.id)
            if month and (ev.ts.year, ev.ts.month) != month:
                add(f"event of {ev.ts:%Y-%m} in the {month[0]:04d}-{month[1]:02d} file (replay still orders it right, only slower)", "warning")
            if isinstance(ev, E.Voided):
                voids.append((rel, line, ev))
                continue
            if isinstance(ev, E.Ordered) and ev.id not in targets:
                # `order create` writes all lines of a PO at once; lines of one id at another
                # time or for another supplier are a second order: two clones gave one id.
                placed = orders.setdefault(ev.po, (ev.ts, ev.supplier, rel, line))
                if placed[:2] != (ev.ts, ev.supplier):
                    add(f"PO {rawcheck.shown(ev.po)} was created twice: this line ({ev.supplier}, {ev.ts.isoformat()}) and "
                        f"{placed[2]}:{placed[3]} ({placed[1]}, {placed[0].isoformat()}) share the id (two clones on one "
                        f"day?); void this order's lines (invctl void {ev.id} ...) and create it again")
            sku = getattr(ev, "sku", None)
            if sku is not None:
                if not ID_PATTERN.fullmatch(sku):
                    add(f"SKU {rawcheck.shown(sku)} is not valid: use {ID_RULE}")
                elif catalog_items and sku not in catalog_items:
                    add(f"unknown SKU {sku!r}: not in items.toml; add it with `invctl item add {sku} --name ...`")
            for key in _MONEY_KEYS:
                value = getattr(ev, key, None)
                # The decoder let only plain decimals through (events.DECIMAL): the digits
                # after the point are the decimals, trailing zeros included, as in Decimal.
                if value is not None and (dot := value.find(".")) >= 0 and len(value) - dot - 1 > places:
                    add(f"{key} {value} has more than {places} decimals ({ledger.settings.currency}); round it")
            for key in ("loc", "from_", "to"):
                where = getattr(ev, key, None)
                if where is None or where in locations:
                    continue
                if not ID_PATTERN.fullmatch(where):
                    # A path-like name ("../x", "a/b") is not a place; writers never write one.
                    add(f"location {rawcheck.shown(where)} is not valid: use {ID_RULE}, and list it in invctl.toml")
                else:
                    add(f"location {where!r} is not listed in invctl.toml (locations = [...])", "warning")
            supplier = getattr(ev, "supplier", None)
            if supplier is not None and suppliers and supplier not in suppliers:
                add(f"unknown supplier {rawcheck.shown(supplier)}: not in suppliers.toml", "warning")
    voided: dict[str, tuple[str, int]] = {}
    for rel, line, ev in voids:
        if ev.target not in seen_ids:
            problems.append(Problem(rel, line, f"voids {ev.target}, which is not in the journal"))
        elif target_kinds.get(ev.target) == "voided":
            problems.append(Problem(rel, line, f"voids {ev.target}, which is itself a void; voids cannot be voided"))
        elif ev.target in voided:
            p, n = voided[ev.target]
            problems.append(Problem(rel, line, f"voids {ev.target} again (already voided on {p}:{n}); remove one"))
        else:
            voided[ev.target] = (rel, line)
    state = replay(ledger)
    problems.extend(state.problems)
    # A message that quotes a 100 KB value (a SKU, a supplier) is not one readable line.
    problems = [p if len(p.message) <= 300 else Problem(p.path, p.line, rawcheck.shorten(p.message), p.severity)
                for p in problems]
    return sorted(set(problems), key=_order)


class _Target(msgspec.Struct):
    type: str
    target: str | None = None


def _void_targets(ledger: Ledger) -> set[str]:
    """The ids that voids name (a byte search: voids are few)."""
    decoder = msgspec.json.Decoder(_Target)
    out = set()
    for _, _, raw in find_lines(ledger, b'"voided"'):
        try:
            ev = decoder.decode(raw)
        except E.DECODE_ERRORS:
            continue
        if ev.type == "voided" and ev.target is not None:
            out.add(ev.target)
    return out


def _same_id(path: Path, line: int, event_id: str) -> bool:
    """Whether the line at ``path:line`` has id ``event_id`` (two ids with one hash are
    rare; duplicates, when there are any, are few)."""
    ev = _event_at(path, line)
    return ev is not None and ev.id == event_id


def _event_at(path: Path, line: int) -> E.Event | None:
    """The event on ``path:line`` (read again: only for the rare second look)."""
    for n, raw in FileRead.read(path).lines():
        if n == line:
            try:
                return E.decoder.decode(raw)
            except E.DECODE_ERRORS:
                return None
    return None


def _quoted(key: str) -> str:
    """A key as JSON writes it ("qty"), cut short when long."""
    return msgspec.json.encode(key[:40]).decode() + ("..." if len(key) > 40 else "")


def _file_problem(ledger: Ledger, text: str) -> Problem:
    """A Problem from a catalog error "/abs/path[:line]: reason".

    It used to be filed under items.toml with the absolute path repeated, even when
    suppliers.toml was the broken file.
    """
    m = re.match(r"(.+?\.toml)(?::(\d+))?: (.*)", text)
    if not m:
        return Problem("items.toml", 0, text)
    return Problem(ledger.rel(Path(m.group(1))), int(m.group(2) or 0), m.group(3))


def _order(p: Problem) -> tuple[str, int, str]:
    return (p.path, p.line, p.message)


def repair(ledger: Ledger) -> list[str]:
    """Set aside every torn last line (under the lock); returns what was done."""
    notes = []
    with locked(ledger):
        for path in list_files(ledger):
            note = set_aside_torn(ledger, path)
            if note:
                notes.append(note)
    return notes
