"""The replay cache in `.invctl/cache/`: the folded state, saved, so that the next command
folds only what was appended since. An optimisation only: anything unexpected (a file
edited, rewritten by a merge or a checkout, removed; a back-dated line; a void; new
settings; a cache from another version or ledger, or one that does not decode) is a
miss, and the caller replays everything.

The cache is JSON decoded into typed records (msgspec): reading it never runs code.
A journal file counts as unchanged when its size, mtime and inode are; a file that grew
counts as appended only when the bytes it had still hash the same (the hash is kept for
the newest month files, the only ones writers append to in the normal course).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from invctl import __version__
from invctl.costing import Layer, Position
from invctl.errors import Problem
from invctl.numbers import parse_qty
from invctl.settings import SETTINGS_FILE, Ledger

VERSION = 3
HASHED_FILES = 2  # the newest month files get a content hash (appends go there)
_NAME = "state.json"


class _Layer(msgspec.Struct, array_like=True):
    qty: str
    cost: str
    lot: str | None
    expires: dt.date | None
    ts: dt.datetime


class _Pos(msgspec.Struct, array_like=True):
    sku: str
    loc: str
    qty: str
    value: str
    layers: list[_Layer]
    last_received: dt.datetime | None
    last_sold: dt.datetime | None
    last_counted: dt.datetime | None


class _PO(msgspec.Struct, array_like=True):
    po: str
    sku: str
    supplier: str | None
    loc: str
    ordered: str
    received: str
    cancelled: str
    cost: str | None
    expected: dt.date | None
    placed: dt.datetime | None
    last_received: dt.datetime | None


class _File(msgspec.Struct, array_like=True):
    path: str
    size: int  # bytes of complete lines folded
    lines: int  # newlines in those bytes
    mtime_ns: int
    ino: int
    digest: str | None  # blake2b of the first `size` bytes, for the newest files


class _Problem(msgspec.Struct, array_like=True):
    path: str
    line: int
    message: str
    severity: str


class Snapshot(msgspec.Struct):
    version: int
    invctl: str
    settings: str
    files: list[_File]
    last_ts: dt.datetime | None
    last_id: str
    events: int
    positions: list[_Pos]
    po_lines: list[_PO]
    last_cost: dict[str, str]
    order_cogs: list[tuple[str, str, str, str]]
    voided: list[str]
    problems: list[_Problem]


def settings_digest(ledger: Ledger) -> str:
    """What the figures depend on besides the journal. Take it before the replay reads
    anything, and save the cache under it: a file changed during the replay then makes
    the next load miss, instead of the new bytes vouching for figures made from the old.
    The costing is the one this Ledger read when it was opened, which may be older than
    the file now: a fresh process, which reads it from the file, then misses too."""
    h = hashlib.blake2b(digest_size=16)
    for name in (SETTINGS_FILE, "items.toml"):  # costing, currency and catalog costs shape values
        try:
            h.update((ledger.root / name).read_bytes())
        except OSError:
            h.update(b"-")
        h.update(b"\0")
    h.update(f"{ledger.settings.costing}\0{ledger.settings.places}".encode())
    return h.hexdigest()


def _digest(path: Path, size: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        left = size
        while left > 0:
            block = fh.read(min(left, 1 << 22))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def path(ledger: Ledger) -> Path:
    return ledger.state_dir / "cache" / _NAME


def save(ledger: Ledger, state: object, files: list[Path], sizes: dict[int, tuple[int, int]],
         last: tuple[dt.datetime | None, str], settings: str) -> None:
    """Write the snapshot beside, then rename (readers never see half a cache).
    ``settings``: `settings_digest` as it was before the replay started."""
    from invctl.replay import State

    assert isinstance(state, State)
    entries = []
    for fi, p in enumerate(files):
        size, lines = sizes.get(fi, (0, 0))
        st = p.stat()
        digest = _digest(p, size) if fi >= len(files) - HASHED_FILES else None
        entries.append(_File(ledger.rel(p), size, lines, st.st_mtime_ns, st.st_ino, digest))
    snap = Snapshot(
        version=VERSION, invctl=__version__, settings=settings, files=entries,
        last_ts=last[0], last_id=last[1], events=state.events,
        positions=[
            _Pos(p.sku, p.loc, str(p.qty), str(p.value),
                 [_Layer(str(la.qty), str(la.cost), la.lot, la.expires, la.ts) for la in p.layers],
                 p.last_received, p.last_sold, p.last_counted)
            for p in state.positions.values()
        ],
        po_lines=[
            _PO(x.po, x.sku, x.supplier, x.loc, str(x.ordered), str(x.received), str(x.cancelled),
                None if x.cost is None else str(x.cost), x.expected, x.placed, x.last_received)
            for x in state.po_lines.values()
        ],
        last_cost={k: str(v) for k, v in state.last_cost.items()},
        order_cogs=[(o, s, str(v[0]), str(v[1])) for (o, s), v in state.order_cogs.items()],
        voided=sorted(state.voided),
        problems=[_Problem(p.path, p.line, p.message, p.severity) for p in state.problems
                  if not p.message.startswith("torn last line")],  # found again on every read
    )
    target = path(ledger)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        tmp = target.with_name(f".{_NAME}.{os.getpid()}")
        tmp.write_bytes(msgspec.json.encode(snap))
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only ledger simply has no cache


def load(ledger: Ledger, files: list[Path], settings: str | None = None) -> tuple[Any, dict[int, tuple[int, int]], dict[int, tuple[int, int]],
                                                    tuple[dt.datetime | None, str]] | None:
    """The cached state; per journal file index, where its unread bytes start (offset,
    line number) and how far the cache had read (size, lines); and the last event folded.
    None when the cache cannot be trusted. ``settings``: `settings_digest`, if taken already."""
    try:
        snap = msgspec.json.decode(path(ledger).read_bytes(), type=Snapshot)
    except (OSError, msgspec.DecodeError, ValueError):
        return None
    if snap.version != VERSION or snap.invctl != __version__ or snap.settings != (settings or settings_digest(ledger)):
        return None
    by_path = {f.path: f for f in snap.files}
    current = {ledger.rel(p) for p in files}
    if set(by_path) - current:
        return None  # a file went away
    starts: dict[int, tuple[int, int]] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for fi, p in enumerate(files):
        f = by_path.get(ledger.rel(p))
        try:
            st = p.stat()
        except OSError:
            return None
        if f is None:
            starts[fi] = (0, 1)  # a new file: all of it is new
            continue
        sizes[fi] = (f.size, f.lines)
        if (st.st_size, st.st_mtime_ns, st.st_ino) == (f.size, f.mtime_ns, f.ino):
            continue
        if st.st_size < f.size or f.digest is None or _digest(p, f.size) != f.digest:
            return None  # edited, rewritten or shortened: not an append
        starts[fi] = (f.size, f.lines + 1)
    try:
        state = _restore(ledger, files, snap)
    except (ValueError, ArithmeticError):
        return None
    return state, starts, sizes, (snap.last_ts, snap.last_id)


def _restore(ledger: Ledger, files: list[Path], snap: Snapshot) -> object:
    from invctl.replay import POLine, State

    state = State(ledger, files)
    state.events = snap.events
    for p in snap.positions:
        pos = Position(p.sku, p.loc)
        pos.qty = parse_qty(p.qty)
        pos.value = Decimal(p.value)
        pos.layers = [Layer(parse_qty(la.qty), Decimal(la.cost), la.lot, la.expires, la.ts) for la in p.layers]
        pos.last_received, pos.last_sold, pos.last_counted = p.last_received, p.last_sold, p.last_counted
        state.positions[(p.sku, p.loc)] = pos
    for x in snap.po_lines:
        line = POLine(x.po, x.sku)
        line.supplier, line.loc = x.supplier, x.loc
        line.ordered, line.received, line.cancelled = parse_qty(x.ordered), parse_qty(x.received), parse_qty(x.cancelled)
        line.cost = None if x.cost is None else Decimal(x.cost)
        line.expected, line.placed, line.last_received = x.expected, x.placed, x.last_received
        state.po_lines[(x.po, x.sku)] = line
    state.last_cost = {k: Decimal(v) for k, v in snap.last_cost.items()}
    state.order_cogs = {(o, s): [parse_qty(q), Decimal(c)] for o, s, q, c in snap.order_cogs}
    state.voided = set(snap.voided)
    state.problems = [Problem(p.path, p.line, p.message, p.severity) for p in snap.problems]
    return state
