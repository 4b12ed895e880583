"""The replay cache in `.invctl/cache/`: the folded state, saved, so that the next command
folds only what was appended since. An optimisation only: anything unexpected (a file
edited, rewritten by a merge or a checkout, removed; a back-dated line; a void; new
settings; a cache from another version or ledger, or one that does not decode) is a
miss, and the caller replays everything.

The cache is JSON decoded into typed records (msgspec): reading it never runs code.
A journal file counts as unchanged when its size, mtime and inode are; a file that grew
counts as appended only when the bytes it had still hash the same (the hash is kept for
the newest month files, the only ones writers append to in the normal course).

Racily clean files (as in git's index): a file whose mtime is not strictly older than
the snapshot (the time it was taken, on the file system's clock, or the cache file's
mtime, whichever is older) may have been changed again in the same clock tick after its
stat was recorded, keeping its size; on a file system with coarse mtimes nothing in its
stat would show. Such a file gets a hash when saved, whichever file it is, and is
trusted on load only if its bytes still hash the same. Not seen, ever: an edit keeping
size and inode that puts back an mtime clearly older than the cache's (a tool that
restores mtimes), or one made while a replay reads, before it saves.

Keyed too by `settings_digest`: the bytes this Ledger parsed its settings and catalog
from (`Ledger.sources`), not the files as they are when the cache is saved.
"""

from __future__ import annotations

import contextlib
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
from invctl.files import FILE_MODE, link_on_way, make_dirs
from invctl.numbers import parse_qty
from invctl.settings import SETTINGS_FILE, Ledger, source_digest

VERSION = 6  # 6: lines with control characters are left out; 5: adjustments with a lot fold differently
HASHED_FILES = 2  # the newest month files get a content hash (appends go there), and racy ones
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
    digest: str | None  # blake2b of the first `size` bytes: the newest files, and racy ones


class _Problem(msgspec.Struct, array_like=True):
    path: str
    line: int
    message: str
    severity: str


class Snapshot(msgspec.Struct):
    version: int
    invctl: str
    settings: str
    taken_ns: int  # when the snapshot was taken, on the file system's clock (racy files)
    files: list[_File]
    last_ts: dt.datetime | None
    last_id: str
    events: int
    positions: list[_Pos]
    po_lines: list[_PO]
    last_cost: dict[str, str]
    voided: list[str]
    problems: list[_Problem]


def settings_digest(ledger: Ledger) -> str:
    """What the figures depend on besides the journal: the settings this Ledger has and
    the bytes it parsed them (invctl.toml, when opened) and its catalog (items.toml) from.
    Not the files as they are now: a Ledger that read them before they changed makes
    figures from the old bytes and must file them under those (a fresh process, which
    parses the new bytes, then misses). The catalog is read here if it has not been yet
    (the fold reads it anyway); one that does not load is keyed by its raw bytes, marked
    so (the fold then goes on without catalog costs, and a repaired file must miss).
    Take it before the replay reads anything, and save the cache under it."""
    from invctl.catalog import ITEMS_FILE

    try:
        ledger.catalog  # noqa: B018 (parsed now, recording its bytes in ledger.sources)
        fallback = "unknown:"  # the catalog was put there in code
    except Exception:  # a broken catalog must not stop a replay
        fallback = "unparsed:"
    items = ledger.sources.get(ITEMS_FILE)
    if items is None:
        try:
            items = fallback + source_digest((ledger.root / ITEMS_FILE).read_bytes())
        except FileNotFoundError:
            items = fallback + source_digest(None)
        except OSError:
            items = fallback + "unreadable"
    try:
        settings = msgspec.json.encode(ledger.settings)
    except (TypeError, msgspec.EncodeError):
        settings = repr(ledger.settings).encode()
    h = hashlib.blake2b(digest_size=16)
    for part in (ledger.sources.get(SETTINGS_FILE, "made in code").encode(), settings, items.encode()):
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()


def _digest(path: Path, size: int) -> str | None:
    """blake2b of the first ``size`` bytes (fewer if the file is shorter); None if unreadable."""
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            left = size
            while left > 0:
                block = fh.read(min(left, 1 << 22))
                if not block:
                    break
                h.update(block)
                left -= len(block)
    except OSError:
        return None
    return h.hexdigest()


def path(ledger: Ledger) -> Path:
    return ledger.state_dir / "cache" / _NAME


def save(ledger: Ledger, state: object, files: list[Path], sizes: dict[int, tuple[int, int]],
         last: tuple[dt.datetime | None, str], settings: str) -> None:
    """Write the snapshot beside, then rename (readers never see half a cache).
    ``settings``: `settings_digest` as it was before the replay started."""
    target = path(ledger)
    tmp = target.with_name(f".{_NAME}.{os.getpid()}")
    if link_on_way(ledger.root, target) is not None:
        return  # never written through a link (open_ledger refuses such a ledger anyway)
    try:
        make_dirs(target.parent)
        tmp.unlink(missing_ok=True)  # created afresh: its mtime is when the snapshot is taken
        # 0640 less the umask, like every file invctl makes; O_EXCL: never through a link.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        with open(fd, "wb") as fh:
            taken = os.fstat(fh.fileno()).st_mtime_ns  # the file system's clock, not ours
            fh.write(msgspec.json.encode(_snapshot(ledger, state, files, sizes, last, settings, taken)))
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # a read-only ledger simply has no cache


def _snapshot(ledger: Ledger, state: object, files: list[Path], sizes: dict[int, tuple[int, int]],
              last: tuple[dt.datetime | None, str], settings: str, taken: int) -> Snapshot:
    from invctl.replay import State

    assert isinstance(state, State)
    entries = []
    for fi, p in enumerate(files):
        size, lines = sizes.get(fi, (0, 0))
        st = p.stat()
        # Racy (see the module docstring) when not strictly older than the snapshot.
        hashed = fi >= len(files) - HASHED_FILES or st.st_mtime_ns >= taken
        digest = _digest(p, size) if hashed else None
        entries.append(_File(ledger.rel(p), size, lines, st.st_mtime_ns, st.st_ino, digest))
    folded = dump(state)
    return Snapshot(
        version=VERSION, invctl=__version__, settings=settings, taken_ns=taken, files=entries,
        last_ts=last[0], last_id=last[1], events=folded.events, positions=folded.positions,
        po_lines=folded.po_lines, last_cost=folded.last_cost, voided=sorted(state.voided),
        problems=[p for p in folded.problems if not p.message.startswith("torn last line")],  # found again on every read
    )


class Folded(msgspec.Struct, array_like=True):
    """The figures of a folded state, as typed JSON (the cache's; also how a second
    process hands back its half of a replay, see invctl/parallel.py)."""

    events: int
    positions: list[_Pos]
    po_lines: list[_PO]
    last_cost: dict[str, str]
    problems: list[_Problem]


def dump(state: Any) -> Folded:
    return Folded(
        events=state.events,
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
        problems=[_Problem(p.path, p.line, p.message, p.severity) for p in state.problems],
    )


def fill(state: Any, folded: Folded | Snapshot) -> None:
    """Put what `dump` wrote into an empty State (raises ValueError on a bad number)."""
    from invctl.fold import POLine

    state.events = folded.events
    for p in folded.positions:
        pos = Position(p.sku, p.loc)
        pos.qty = parse_qty(p.qty)
        pos.value = Decimal(p.value)
        pos.layers = [Layer(parse_qty(la.qty), Decimal(la.cost), la.lot, la.expires, la.ts) for la in p.layers]
        pos.last_received, pos.last_sold, pos.last_counted = p.last_received, p.last_sold, p.last_counted
        state.positions[(p.sku, p.loc)] = pos
    for x in folded.po_lines:
        line = POLine(x.po, x.sku)
        line.supplier, line.loc = x.supplier, x.loc
        line.ordered, line.received, line.cancelled = parse_qty(x.ordered), parse_qty(x.received), parse_qty(x.cancelled)
        line.cost = None if x.cost is None else Decimal(x.cost)
        line.expected, line.placed, line.last_received = x.expected, x.placed, x.last_received
        state.po_lines[(x.po, x.sku)] = line
    state.last_cost = {k: Decimal(v) for k, v in folded.last_cost.items()}
    state.problems = [Problem(p.path, p.line, p.message, p.severity) for p in folded.problems]


def load(ledger: Ledger, files: list[Path], settings: str | None = None) -> tuple[Any, dict[int, tuple[int, int]], dict[int, tuple[int, int]],
                                                    tuple[dt.datetime | None, str]] | None:
    """The cached state; per journal file index, where its unread bytes start (offset,
    line number) and how far the cache had read (size, lines); and the last event folded.
    None when the cache cannot be trusted. ``settings``: `settings_digest`, if taken already."""
    try:
        with open(path(ledger), "rb") as fh:
            written = os.fstat(fh.fileno()).st_mtime_ns
            snap = msgspec.json.decode(fh.read(), type=Snapshot)
    except (OSError, msgspec.DecodeError, ValueError):
        return None
    if snap.version != VERSION or snap.invctl != __version__ or snap.settings != (settings or settings_digest(ledger)):
        return None
    racy_from = min(snap.taken_ns, written)  # a file recorded with an mtime from then on is racy
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
            if f.mtime_ns < racy_from:
                continue
            # Racily clean: an edit in the tick its stat was taken in would not show in it.
            if f.digest is not None and _digest(p, f.size) == f.digest:
                continue
            return None
        if st.st_size < f.size or f.digest is None or _digest(p, f.size) != f.digest:
            return None  # edited, rewritten or shortened: not an append
        starts[fi] = (f.size, f.lines + 1)
    try:
        state = _restore(ledger, files, snap)
    except (ValueError, ArithmeticError):
        return None
    return state, starts, sizes, (snap.last_ts, snap.last_id)


def _restore(ledger: Ledger, files: list[Path], snap: Snapshot) -> object:
    from invctl.fold import State

    state = State(ledger, files)
    fill(state, snap)
    # Not order_cogs (left empty): a restocked return of an order is never folded on top of
    # a restored state (replay._on_top and the prescan send it to a full replay).
    state.voided = set(snap.voided)
    return state
