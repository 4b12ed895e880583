"""The replay cache in `.invctl/cache/` is an optimisation only (SPEC §6).

Deleting it, or any edit, merge or checkout of the journal, or new settings, gives results
identical to a full replay. Three parts:

1. A hypothesis state machine starts from a random history and applies random operations
   to the ledger (appends at the end, back-dated, voids, restocked returns of an order,
   edits keeping or changing a line's length, deleted lines, torn tails, new and removed
   files, files rewritten as a merge or checkout would, touched files, new settings, a
   deleted, garbage, truncated, foreign, stale or wrong-version cache, writes through
   `invctl.record.record`, replays with a Ledger opened, and its catalog maybe read,
   before the settings changed);
   after each one, ``replay(ledger)`` (which uses and refreshes the cache) must equal a
   full replay of a copy of the ledger without `.invctl/`.
2. Writers fold their events on top of the cached state; on-hand and value then equal a
   full replay, and the next read folds only the new line.
3. A cache that is garbage, truncated, from another version or another ledger is ignored,
   settings edited while a replay runs do not poison it, a file edited within the clock
   tick the cache recorded its stat in (racily clean) is checked by its bytes, and the
   package never decodes anything by running code (pickle, eval, ...).

What no stat-based cache can see, and so is not tested: a journal file edited in place
keeping its size, its inode and its mtime to the nanosecond, when that mtime is clearly
older than the cache (a tool that puts the old mtime back). The state machine gives every
rewritten file a fresh mtime; the cache hashes the newest files' bytes whenever their
stat changes, so a same-size edit with a new mtime is always caught; an edit in the tick
the cache was taken in is caught by the racily-clean rule (tested apart, below).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest
from conftest import Shop
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from model import parse_ts
from test_replay_properties import (
    BASE,
    CATALOG,
    OFFSETS,
    SCALE,
    SKUS,
    SLOTS,
    STEP,
    Ev,
    Shops,
    _adjusted,
    _received,
    _returned,
    _sold,
    any_event,
    canonical,
    histories,
    month_file,
)

import invctl
from invctl import cache
from invctl import events as E
from invctl import replay as R
from invctl.errors import Refused
from invctl.journal import list_files, split_torn
from invctl.record import _Watch, new_fields, record
from invctl.replay import State, replay
from invctl.settings import Ledger, open_ledger, source_digest

CACHE = Path(".invctl/cache/state.json")
ITEMS_HEAD = "# The catalog (rewritten by the cache tests).\n"


# --- comparing states -------------------------------------------------------------------------


def view(state: State, *, problems: bool = True) -> dict[str, Any]:
    """Everything a replay yields and the next fold depends on. Quantities and money are
    compared as numbers (exactly: Decimal equality, no tolerance), times as instants."""
    out: dict[str, Any] = {
        "positions": {
            k: (p.qty, p.value, [(la.qty, la.cost, la.lot, la.expires, la.ts) for la in p.layers],
                p.last_received, p.last_sold, p.last_counted)
            for k, p in state.positions.items()
        },
        "po_lines": {
            k: (x.supplier, x.loc, x.ordered, x.received, x.cancelled, x.cost, x.expected, x.placed,
                x.last_received)
            for k, x in state.po_lines.items()
        },
        "last_cost": dict(state.last_cost),
        "events": state.events,
        "voided": set(state.voided),
        # Not compared: `order_cogs` and `returns_ahead`, the sale costs kept for returns
        # ahead. The cache keeps neither (returns ahead are counted by hash, which differs
        # between processes), so a restocked return of an order, in the new lines or from
        # a writer, always takes a full replay.
    }
    if problems:
        out["problems"] = Counter((p.path, p.line, p.message, p.severity) for p in state.problems)
    return out


def full_replay(root: Path) -> State:
    """A replay that cannot use anything in `.invctl/`: of a copy of the ledger without it."""
    copy = Path(tempfile.mkdtemp(dir=root.parent)) / "shop"
    try:
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".invctl"))
        ledger = open_ledger(copy)
        return R._full(ledger, list_files(ledger), None, None, None, [], False)
    finally:
        shutil.rmtree(copy.parent)


def assert_same(got: State, want: State, *, problems: bool = True) -> None:
    a, b = view(got, problems=problems), view(want, problems=problems)
    for key in b:
        assert a[key] == b[key], f"{key} differs:\n cached {a[key]}\n full   {b[key]}"


def torn_anywhere(root: Path) -> bool:
    return any(split_torn(p.read_bytes())[1] for p in (root / "journal").rglob("*.jsonl"))


# --- the state machine ------------------------------------------------------------------------

QTY = re.compile(rb'"qty":("?)(-?)(\d+)')
NEW_MONTHS = ("2026-06", "2026-07", "2027-02", "2027-03")
ODD_FILES = ("journal/import.jsonl", "journal/zz/late.jsonl")


def _plain_event() -> st.SearchStrategy[Ev]:
    return any_event().filter(lambda ev: ev["type"] != "voided")


def _ts(instant: dt.datetime, offset: int) -> str:
    return instant.astimezone(dt.timezone(dt.timedelta(minutes=offset))).isoformat()


class JournalMachine(RuleBasedStateMachine):
    """A ledger under random edits; after each, the cached replay equals a full replay."""

    base: ClassVar[Path]
    shops: ClassVar[Shops]
    seen: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self.root = Path()
        self.clock = time.time_ns() - 10**15  # fresh, unique mtimes (in the past) for rewrites
        self.serial = 0
        self.costs: dict[str, str | None] = {sku: CATALOG.get(sku) for sku in SKUS}
        self.stale: list[bytes] = []  # caches saved earlier in this run
        self.foreign = b""
        self.held: Ledger | None = None

    # --- set up and tear down ---

    @initialize(events=histories(max_size=20), other=histories(max_size=8),
                costing=st.sampled_from(("fifo", "average")))
    def start(self, events: list[Ev], other: list[Ev], costing: str) -> None:
        self.root = self._new_ledger(costing, events)
        foreign = self._new_ledger(costing, other)  # another ledger, same settings and file names
        replay(open_ledger(foreign))
        self.foreign = (foreign / CACHE).read_bytes()
        shutil.rmtree(foreign.parent)

    def _new_ledger(self, costing: str, events: list[Ev]) -> Path:
        root = Path(tempfile.mkdtemp(dir=self.base)) / "shop"
        shutil.copytree(self.shops.template(costing), root)
        for rel, lines in canonical(events).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"".join(lines))
        return root

    def teardown(self) -> None:
        if self.root.name:
            shutil.rmtree(self.root.parent, ignore_errors=True)

    # --- helpers ---

    def files(self) -> list[Path]:
        return sorted((self.root / "journal").rglob("*.jsonl"))

    def bump(self, path: Path) -> None:
        """A new mtime nobody has recorded (see the module docstring)."""
        self.clock += 1_000_000_007
        os.utime(path, ns=(self.clock, self.clock))

    def rewrite(self, path: Path, data: bytes, *, new_inode: bool = False) -> None:
        if new_inode:  # as git writes a file on checkout or merge: a new file renamed over
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        else:  # in place, as an editor that keeps the inode
            with open(path, "r+b") as fh:
                fh.write(data)
                fh.truncate()
        self.bump(path)

    def lines(self) -> list[tuple[Path, int, bytes]]:
        """Every complete line: (file, index, bytes without the newline)."""
        out = []
        for path in self.files():
            data, _ = split_torn(path.read_bytes())
            out.extend((path, i, raw) for i, raw in enumerate(data.split(b"\n")[:-1]))
        return out

    def decoded(self) -> list[dict[str, Any]]:
        out = []
        for _, _, raw in self.lines():
            try:
                ev = json.loads(raw)
                parse_ts(ev["ts"])
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(ev, dict):
                out.append(ev)
        return out

    def last_instant(self) -> dt.datetime:
        return max((parse_ts(ev["ts"]) for ev in self.decoded()), default=BASE)

    def new_id(self) -> str:
        self.serial += 1
        return f"01KZ{self.serial:04d}"

    def append(self, ev: Ev, rel: str | None = None) -> None:
        path = self.root / (rel or month_file(ev))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as fh:
            fh.write(E.to_line(ev))
        self.bump(path)

    def when(self, data: st.DataObject, after: bool) -> str:
        offset = data.draw(st.sampled_from(OFFSETS))
        if after:
            return _ts(self.last_instant() + dt.timedelta(minutes=data.draw(st.integers(1, 3000))), offset)
        slot = data.draw(st.integers(-8, SLOTS - 1))  # before, inside or just after the history
        return _ts(BASE + slot * STEP + dt.timedelta(minutes=data.draw(st.integers(0, 179))), offset)

    def event_from(self, spec: Ev, ts: str) -> Ev:
        ev = {k: v for k, v in spec.items() if k != "type"}
        return {"id": self.new_id(), "ts": ts, "type": spec["type"], **ev}

    # --- appends ---

    @rule(data=st.data(), after=st.booleans())
    def append_event(self, data: st.DataObject, after: bool) -> None:
        self.append(self.event_from(data.draw(_plain_event()), self.when(data, after)))

    @rule(data=st.data(), after=st.booleans())
    def append_void(self, data: st.DataObject, after: bool) -> None:
        ids = [ev.get("id") for ev in self.decoded()] + ["01KNOTHERE"]
        target = data.draw(st.sampled_from(ids))
        self.append({"id": self.new_id(), "ts": self.when(data, after), "type": "voided",
                     "target": target, "reason": "mistake"})

    @rule(data=st.data(), after=st.booleans())
    def append_restocked_return(self, data: st.DataObject, after: bool) -> None:
        sales = [ev for ev in self.decoded() if ev.get("type") == "sold" and "order" in ev]
        sale = data.draw(st.sampled_from(sales)) if sales else {"sku": "A", "order": "o1", "loc": "main"}
        self.append({"id": self.new_id(), "ts": self.when(data, after), "type": "returned",
                     "sku": sale["sku"], "qty": data.draw(st.integers(1, 3)),
                     "loc": sale.get("loc", "main"), "order": sale["order"]})

    @rule(data=st.data(), where=st.sampled_from(NEW_MONTHS + ODD_FILES))
    def add_file(self, data: st.DataObject, where: str) -> None:
        if where.startswith("journal/"):  # an odd name: sorts before or after the month files
            ev = self.event_from(data.draw(_plain_event()), self.when(data, data.draw(st.booleans())))
            self.append(ev, where)
        else:
            day = data.draw(st.integers(1, 28))
            self.append(self.event_from(data.draw(_plain_event()), f"{where}-{day:02d}T12:00:00+00:00"))

    # --- edits, merges, checkouts ---

    @rule(rnd=st.randoms(use_true_random=False), keep_length=st.booleans())
    def edit_qty(self, rnd: random.Random, keep_length: bool) -> None:
        hits = [(path, i, raw) for path, i, raw in self.lines() if QTY.search(raw)]
        if not hits:
            return
        path, index, raw = rnd.choice(hits)
        m = QTY.search(raw)
        assert m is not None
        digits = m.group(3)
        if keep_length:
            choices = [str(n).encode() for n in range(10 ** (len(digits) - 1), 10 ** len(digits))
                       if str(n).encode() != digits and n > 0]
            new = rnd.choice(choices)
        else:
            new = digits + b"1"
        edited = raw[: m.start(3)] + new + raw[m.end(3):]
        data, torn = split_torn(path.read_bytes())
        lines = data.split(b"\n")[:-1]
        lines[index] = edited
        self.rewrite(path, b"".join(x + b"\n" for x in lines) + torn)
        event(f"edit: {'same' if keep_length else 'new'} length")

    @rule(rnd=st.randoms(use_true_random=False))
    def delete_line(self, rnd: random.Random) -> None:
        every = self.lines()
        if not every:
            return
        path, index, _ = rnd.choice(every)
        data, torn = split_torn(path.read_bytes())
        lines = data.split(b"\n")[:-1]
        del lines[index]
        self.rewrite(path, b"".join(x + b"\n" for x in lines) + torn)

    @rule(data=st.data(), rnd=st.randoms(use_true_random=False), cut=st.booleans())
    def torn_tail(self, data: st.DataObject, rnd: random.Random, cut: bool) -> None:
        files = [p for p in self.files() if p.stat().st_size]
        if cut and files:  # a crash while the last line was written
            path = rnd.choice(files)
            raw = path.read_bytes()
            last = len(raw) - 1 - (raw.rfind(b"\n", 0, len(raw) - 1) + 1)
            self.rewrite(path, raw[: len(raw) - rnd.randint(1, max(1, last))])
        else:  # a writer outside invctl stopped half-way through a line
            ev = self.event_from(data.draw(_plain_event()), self.when(data, True))
            line = E.to_line(ev)
            path = self.root / month_file(ev)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as fh:
                fh.write(line[: rnd.randint(1, len(line) - 1)])
            self.bump(path)

    @rule(rnd=st.randoms(use_true_random=False))
    def remove_file(self, rnd: random.Random) -> None:
        files = self.files()
        if files:
            rnd.choice(files).unlink()

    @rule(rnd=st.randoms(use_true_random=False), duplicate=st.booleans())
    def merge_rewrite(self, rnd: random.Random, duplicate: bool) -> None:
        """A file replaced by a shuffled copy (a git merge=union or a checkout), maybe
        keeping some lines twice (both sides of a merge kept them)."""
        files = self.files()
        if not files:
            return
        path = rnd.choice(files)
        data, _ = split_torn(path.read_bytes())
        lines = data.split(b"\n")[:-1]
        if duplicate and lines:
            lines += rnd.sample(lines, rnd.randint(1, len(lines)))
        rnd.shuffle(lines)
        self.rewrite(path, b"".join(x + b"\n" for x in lines), new_inode=True)

    @rule(rnd=st.randoms(use_true_random=False))
    def touch(self, rnd: random.Random) -> None:
        for path in self.files():
            if rnd.random() < 0.5:
                self.bump(path)

    # --- settings ---

    @rule(what=st.sampled_from(("costing", "same bytes", *SKUS)),
          cost=st.sampled_from((None, "0.00", "2.40", "6.50", "7.77")))
    def change_settings(self, what: str, cost: str | None) -> None:
        """invctl.toml's costing, or a catalog cost (the fallback of a SKU with nothing on hand)."""
        path = self.root / ("invctl.toml" if what in ("costing", "same bytes") else "items.toml")
        if what == "costing":
            text = path.read_text()
            text = (text.replace('costing = "fifo"', 'costing = "average"') if 'costing = "fifo"' in text
                    else text.replace('costing = "average"', 'costing = "fifo"'))
            path.write_text(text)
        elif what in SKUS:
            self.costs[what] = cost
            path.write_text(ITEMS_HEAD + "\n".join(
                f'[{s}]\nname = "Item {s}"\n' + (f'cost = "{self.costs[s]}"\n' if self.costs[s] else "")
                for s in SKUS))
        self.bump(path)

    @rule(hold=st.booleans(), catalog=st.booleans())
    def replay_with_an_old_ledger(self, hold: bool, catalog: bool) -> None:
        """A Ledger opened some steps ago (settings read then, and maybe its catalog)
        replays: its figures may be the old files', but the cache must not keep them for
        the files as they are now."""
        if hold or self.held is None:
            self.held = open_ledger(self.root)
            if catalog:
                self.held.catalog  # noqa: B018 (read now, as a command does before it replays)
        else:
            replay(self.held)

    @rule(times=st.integers(1, 2))
    def read_again(self, times: int) -> None:
        """Nothing changes: the next replay is a plain hit (and so are these)."""
        for _ in range(times):
            replay(open_ledger(self.root))

    # --- the cache itself ---

    @rule(everything=st.booleans())
    def delete_cache(self, everything: bool) -> None:
        if everything:
            shutil.rmtree(self.root / ".invctl", ignore_errors=True)
        else:
            (self.root / CACHE).unlink(missing_ok=True)

    @rule(kind=st.sampled_from(("garbage", "truncated", "version", "invctl", "foreign", "stale", "hints")),
          rnd=st.randoms(use_true_random=False))
    def spoil_cache(self, kind: str, rnd: random.Random) -> None:
        path = self.root / CACHE
        path.parent.mkdir(parents=True, exist_ok=True)
        current = path.read_bytes() if path.exists() else b""
        if kind == "garbage":
            data = rnd.randbytes(rnd.randint(0, 300))
        elif kind == "truncated":
            data = current[: rnd.randint(0, max(0, len(current) - 1))]
        elif kind in ("version", "invctl"):  # another invctl's cache: its figures are not trusted
            if not current:
                return
            doc = json.loads(current)
            if kind == "version":
                doc["version"] += 1
            else:
                doc["invctl"] = "0.0.0-other"
            for pos in doc["positions"]:
                pos[2] = "999"  # a position's qty: must never be seen
            doc["events"] += 1000
            data = json.dumps(doc).encode()
        elif kind == "foreign":
            data = self.foreign
        elif kind == "stale":  # an older cache of this ledger (restored from a backup)
            if not self.stale:
                return
            data = rnd.choice(self.stale)
        else:
            path = self.root / ".invctl" / "unsorted.json"
            data = rnd.choice((b"{", b'{"a": 1}', b'["journal/nope.jsonl"]', rnd.randbytes(20)))
        path.write_bytes(data)
        event(f"spoilt cache: {kind}")

    # --- writers ---

    @rule(data=st.data(), after=st.booleans())
    def write_with_record(self, data: st.DataObject, after: bool) -> None:
        """`record` folds a new event on top of the cached state when it comes last; its
        outcome (effects, on hand after, lowest on hand, state) equals a full replay's."""
        spec = dict(data.draw(st.one_of(_sold(), _received((None, "N1")), _adjusted(), _returned())))
        kind = spec.pop("type")
        when = parse_ts(self.when(data, after))
        fields = new_fields(kind, when, **spec)
        ev = E.decoder.decode(E.to_line(fields))
        ledger = open_ledger(self.root)
        files = list_files(ledger)
        hit = cache.load(ledger, files)
        on_top = hit is not None and not hit[1] and R._on_top([ev], hit[0], hit[3])
        event(f"record: {'on top of the cache' if on_top else 'full replay'}")
        want_watch = _Watch({ev.id})
        want = R._full(open_ledger(self.root), files, None, want_watch, None, [ev], False)

        outcome = record(ledger, [fields])
        for path in self.files():
            self.bump(path)  # see the module docstring: appends in one clock tick

        def effects(x: dict[str, list[R.Effect]]) -> dict[str, list[tuple[Any, ...]]]:
            return {k: [(e.sku, e.loc, e.qty, e.value, e.cogs) for e in v] for k, v in x.items()}

        assert effects(outcome.effects) == effects(want_watch.effects)
        assert outcome.after == want_watch.after
        assert outcome.lowest == want_watch.lowest
        assert_same(outcome.state, want, problems=False)
        assert Counter((p.severity, p.message) for p in outcome.state.problems) == \
            Counter((p.severity, p.message) for p in want.problems)
        assert_same(full_replay(self.root), want, problems=False)

    # --- the law ---

    @invariant()
    def cached_equals_full(self) -> None:
        if not self.root.name:
            return
        ledger = open_ledger(self.root)
        before = cache.load(ledger, list_files(ledger))
        kind = "miss" if before is None else "hit, new bytes" if before[1] else "hit"
        event(f"replay: {kind}")
        self.seen[kind] += 1
        got = replay(ledger)
        want = full_replay(self.root)
        assert_same(got, want)
        # The cache is refreshed: the next replay reads nothing (but a torn tail, again).
        after = cache.load(open_ledger(self.root), list_files(ledger))
        if not torn_anywhere(self.root):
            assert after is not None, "the cache was not refreshed"
            assert not after[1], f"the refreshed cache still has bytes to read: {after[1]}"
            assert_same(after[0], want)
        if (self.root / CACHE).exists():
            self.stale = [*self.stale[-4:], (self.root / CACHE).read_bytes()]


# INVCTL_PROPERTY_SCALE=50 runs fifty times the examples (a bug hunt, not for CI).
MACHINE = settings(max_examples=150 * SCALE, stateful_step_count=12, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_cache_is_only_an_optimisation(tmp_path: Path) -> None:
    JournalMachine.base = tmp_path
    JournalMachine.shops = Shops(tmp_path)
    JournalMachine.seen = Counter()
    run_state_machine_as_test(JournalMachine, settings=MACHINE)
    # Not vacuous: the cache was used, with and without new bytes to fold.
    assert JournalMachine.seen["hit"] and JournalMachine.seen["hit, new bytes"], JournalMachine.seen


# --- 2. writers on top of the cache -----------------------------------------------------------


def _stock(shop: Shop) -> dict[tuple[str, str], tuple[Any, str]]:
    rows = json.loads(shop.ok("stock", "--format", "json"))
    return {(r["sku"], r["loc"]): (r["on_hand"], r["value"]) for r in rows}


def _same_as_full(root: Path, stock: dict[tuple[str, str], tuple[Any, str]]) -> None:
    """The `stock` rows equal a full replay's positions (rows without one hold nothing)."""
    positions = full_replay(root).positions
    for key, (qty, value) in stock.items():
        pos = positions.get(key)
        assert (qty, Decimal(value)) == ((pos.qty, round(pos.value, 2)) if pos else (0, 0)), key


class Spy:
    """Counts full replays (``_replay_all``) and cached ones that found bytes to fold."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.full = 0
        real = R._replay_all

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.full += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(R, "_replay_all", spy)


def test_cli_writers_fold_on_top_of_the_cache(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "5.00", "--at", "2026-11-01T10:00")
    shop.ok("receive", "TEE-M", "10", "--cost", "7.00", "--at", "2026-11-02T10:00")
    shop.ok("sell", "TEE-M", "4", "--price", "19.90", "--order", "O-1", "--at", "2026-11-03T10:00")
    _stock(shop)  # fills the cache
    spy = Spy(monkeypatch)

    # After the last event: no full replay, neither to write nor to read.
    shop.ok("sell", "TEE-M", "8", "--price", "19.90", "--at", "2026-11-04T10:00")
    assert spy.full == 0
    ledger = open_ledger(shop.root)
    hit = cache.load(ledger, list_files(ledger))
    assert hit is not None and hit[1], "the cache should have just the new line to fold"
    stock = _stock(shop)
    assert spy.full == 0
    assert stock[("TEE-M", "main")] == (8, "56.00")  # 10 at 5.00, 10 at 7.00, 12 out FIFO
    hit = cache.load(ledger, list_files(ledger))
    assert hit is not None and not hit[1], "the read refreshes the cache"
    _same_as_full(shop.root, stock)

    # Back-dated: before the last receipt; COGS and what is left change: a full replay.
    shop.ok("sell", "TEE-M", "3", "--price", "19.90", "--at", "2026-11-01T12:00")
    assert spy.full >= 1
    stock = _stock(shop)
    assert stock[("TEE-M", "main")] == (5, "35.00")
    _same_as_full(shop.root, stock)

    # A restocked return of an order the cache kept no sale cost for: a full replay, at
    # the sale's cost (4 x 5.00), not the current unit cost.
    spy.full = 0
    shop.ok("return", "TEE-M", "2", "--order", "O-1", "--at", "2026-11-05T10:00")
    assert spy.full >= 1
    stock = _stock(shop)
    assert stock[("TEE-M", "main")] == (7, "45.00")
    _same_as_full(shop.root, stock)


def test_record_on_top_equals_full_replay(tmp_path: Path) -> None:
    shops = Shops(tmp_path)
    events = [
        {"id": "01K0001", "ts": "2026-11-01T10:00:00+01:00", "type": "received", "sku": "A", "qty": 5, "cost": "3.00"},
        {"id": "01K0002", "ts": "2026-11-02T10:00:00+01:00", "type": "received", "sku": "A", "qty": 5, "cost": "4.00"},
        {"id": "01K0003", "ts": "2026-11-03T10:00:00+01:00", "type": "sold", "sku": "A", "qty": 7, "price": "9.00"},
    ]
    for costing in ("fifo", "average"):
        with shops.ledger(costing, canonical(events)) as ledger:
            replay(ledger)
            for at, qty in (("2026-11-04T10:00:00+01:00", 2), ("2026-11-01T11:00:00+01:00", 4)):
                fields = new_fields("sold", dt.datetime.fromisoformat(at), sku="A", qty=qty, price="9.00")
                outcome = record(ledger, [fields])
                want = full_replay(ledger.root)
                assert_same(outcome.state, want, problems=False)
                assert_same(replay(ledger), want)


def test_writer_return_after_a_voided_return(tmp_path: Path) -> None:
    """A voided return leaves its order's sale cost behind in a full replay; sales folded
    on top of the cache do not add to it. A writer's restocked return of that order must
    not be valued at that stale cost (it was: 1.00 a unit instead of 20.00/12)."""
    events = [
        {"id": "01K0001", "ts": "2026-11-01T10:00:00Z", "type": "received", "sku": "A", "qty": 10, "cost": "1.00"},
        {"id": "01K0002", "ts": "2026-11-02T10:00:00Z", "type": "sold", "sku": "A", "qty": 2, "price": "9.00", "order": "o1"},
        {"id": "01K0003", "ts": "2026-11-03T10:00:00Z", "type": "returned", "sku": "A", "qty": 1, "order": "o1"},
        {"id": "01K0004", "ts": "2026-11-04T10:00:00Z", "type": "voided", "target": "01K0003", "reason": "wrong order"},
    ]
    later = [
        {"id": "01K0005", "ts": "2026-11-05T10:00:00Z", "type": "received", "sku": "A", "qty": 10, "cost": "5.00"},
        {"id": "01K0006", "ts": "2026-11-06T10:00:00Z", "type": "sold", "sku": "A", "qty": 10, "price": "9.00", "order": "o1"},
    ]
    with Shops(tmp_path).ledger("fifo", canonical(events)) as ledger:
        replay(ledger)
        with open(ledger.root / "journal/2026/2026-11.jsonl", "ab") as fh:
            fh.write(b"".join(E.to_line(ev) for ev in later))
        replay(ledger)  # folds the two new lines on top of the cache
        fields = new_fields("returned", dt.datetime(2026, 11, 7, 10, tzinfo=dt.UTC), sku="A", qty=6, order="o1")
        outcome = record(ledger, [fields])
        assert outcome.effects[outcome.ids[0]][0].value == Decimal(20) / 12 * 6
        want = full_replay(ledger.root)
        assert_same(outcome.state, want, problems=False)
        assert_same(replay(ledger), want)


# --- 3. safety ---------------------------------------------------------------------------------


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A ledger with two months of events and a cache."""
    root = tmp_path / "shop"
    shutil.copytree(Shops(tmp_path).template("fifo"), root)
    events = [
        {"id": f"01K{i:04d}", "ts": f"2026-{ts}T10:00:00Z", "type": t, "sku": sku, "qty": qty, **extra}
        for i, (ts, t, sku, qty, extra) in enumerate([
            ("10-01", "received", "A", 2, {"cost": "1.00"}),
            ("10-02", "sold", "A", 2, {"price": "5.00", "order": "o1"}),
            ("10-03", "returned", "A", 2, {"order": "o1"}),
            ("11-01", "received", "A", 2, {"cost": "2.00"}),
            ("11-02", "sold", "A", 1, {"price": "5.00"}),  # left: 5.00 in fifo, 4.50 in average
            ("11-03", "adjusted", "B", 2, {"reason": "found"}),  # at B's catalog cost
        ])
    ]
    for rel, lines in canonical(events).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"".join(lines))
    replay(open_ledger(root))
    assert (root / CACHE).exists()
    return root


def _poisoned(root: Path, **change: Any) -> bytes:
    """The ledger's own cache, with another qty for every position, and ``change``."""
    doc = json.loads((root / CACHE).read_bytes())
    for pos in doc["positions"]:
        pos[2] = "999"
    doc.update(change)
    return json.dumps(doc).encode()


def _check_ignored(root: Path, data: bytes) -> None:
    (root / CACHE).write_bytes(data)
    ledger = open_ledger(root)
    assert cache.load(ledger, list_files(ledger)) is None
    want = full_replay(root)
    assert_same(replay(ledger), want)
    after = cache.load(ledger, list_files(ledger))  # replaced by a good one
    assert after is not None and not after[1]
    assert_same(after[0], want)


def test_the_poison_would_show(filled: Path) -> None:
    """The tests below are not vacuous: a poisoned cache that passes every check is used."""
    (filled / CACHE).write_bytes(_poisoned(filled))
    ledger = open_ledger(filled)
    assert replay(ledger).positions[("A", "main")].qty == 999


@pytest.mark.parametrize("data", [b"", b"\0" * 64, b"{", b"[]", b"null", b'{"version": 2}', "é".encode("latin-1"),
                                  b'{"version": 2, "invctl": "x", "settings": 1}', bytes(range(256))])
def test_garbage_cache_is_ignored(filled: Path, data: bytes) -> None:
    _check_ignored(filled, data)


def test_truncated_cache_is_ignored(filled: Path) -> None:
    good = (filled / CACHE).read_bytes()
    for cut in range(0, len(good), max(1, len(good) // 40)):
        _check_ignored(filled, _poisoned(filled)[:cut] if cut % 2 else good[:cut])


def test_cache_of_another_version_is_ignored(filled: Path) -> None:
    _check_ignored(filled, _poisoned(filled, version=cache.VERSION + 1))
    _check_ignored(filled, _poisoned(filled, invctl=invctl.__version__ + ".dev1"))


def test_cache_with_wrong_types_is_ignored(filled: Path) -> None:
    doc = json.loads(_poisoned(filled))
    doc["positions"][0][3] = "not a number"  # the value
    _check_ignored(filled, json.dumps(doc).encode())
    doc = json.loads(_poisoned(filled))
    doc["files"][0][1] = "12"  # a size as a string
    _check_ignored(filled, json.dumps(doc).encode())
    doc = json.loads(_poisoned(filled))
    doc["last_cost"] = {"A": "NaN?"}
    _check_ignored(filled, json.dumps(doc).encode())
    doc = json.loads(_poisoned(filled))
    del doc["taken_ns"]
    _check_ignored(filled, json.dumps(doc).encode())


def test_cache_of_another_ledger_is_ignored(filled: Path, tmp_path: Path) -> None:
    # The same settings and file names, other events: its files' stat and bytes differ.
    other = tmp_path / "other"
    shutil.copytree(filled, other)
    for path in sorted((other / "journal").rglob("*.jsonl")):
        path.write_bytes(path.read_bytes().replace(b'"qty":2', b'"qty":3'))
    shutil.rmtree(other / ".invctl")
    replay(open_ledger(other))
    _check_ignored(filled, (other / CACHE).read_bytes())
    # Other settings (the settings digest differs), else the same journal.
    (other / "invctl.toml").write_text((other / "invctl.toml").read_text().replace('"fifo"', '"average"'))
    replay(open_ledger(other))
    _check_ignored(filled, (other / CACHE).read_bytes())


def test_cache_is_written_whole(filled: Path) -> None:
    """Written beside and renamed over: no temp files left, and it decodes."""
    assert [p.name for p in (filled / CACHE).parent.iterdir()] == [CACHE.name]
    msgspec.json.decode((filled / CACHE).read_bytes(), type=cache.Snapshot)


def _edit_settings(root: Path, what: str) -> None:
    if what == "costing":
        path = root / "invctl.toml"
        path.write_text(path.read_text().replace('costing = "fifo"', 'costing = "average"'))
    else:
        path = root / "items.toml"
        path.write_text(path.read_text().replace('cost = "1.10"', 'cost = "9.99"'))


@pytest.mark.parametrize("what", ["costing", "catalog"])
def test_settings_edited_during_a_replay(filled: Path, monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    """Edited after a replay read them, before it saved the cache: the cache must not
    vouch for the new bytes with figures made from the old. (It did: the settings digest
    was taken when saving, so `invctl.toml` saved while a long replay ran poisoned the
    cache for every later command.)"""
    (filled / CACHE).unlink()
    real = R._replay_all

    def then_edit(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        _edit_settings(filled, what)
        return out

    monkeypatch.setattr(R, "_replay_all", then_edit)
    ledger = open_ledger(filled)
    if what == "catalog":
        assert ledger.catalog.items["B"].cost == Decimal("1.10")  # read before the edit, as commands do
    replay(ledger)
    monkeypatch.undo()
    assert_same(replay(open_ledger(filled)), full_replay(filled))


@pytest.mark.parametrize("what", ["costing", "catalog"])
def test_an_old_ledger_object_does_not_poison_the_cache(filled: Path, what: str) -> None:
    """A Ledger read its settings when opened; replaying with it after invctl.toml changed
    gives the old figures (its settings), but the cache must not keep them for the new file."""
    ledger = open_ledger(filled)
    _edit_settings(filled, what)
    replay(ledger)
    assert_same(replay(open_ledger(filled)), full_replay(filled))


def test_an_old_ledger_object_with_its_catalog_loaded(filled: Path) -> None:
    """A Ledger that loaded its catalog before items.toml changed folds with the old catalog
    costs; the cache must file them under the bytes it parsed, not the new ones (it did:
    it digested items.toml as it was when the replay started). A long-lived Ledger (the
    Python API) meets this, or a file saved between a command's catalog read and its replay."""
    ledger = open_ledger(filled)
    assert ledger.catalog.items["B"].cost == Decimal("1.10")
    _edit_settings(filled, "catalog")
    old = replay(ledger)
    assert old.positions[("B", "main")].value == Decimal("2.20")  # 2 at the old 1.10
    new = open_ledger(filled)
    assert cache.settings_digest(new) != cache.settings_digest(ledger)
    assert cache.load(new, list_files(new)) is None
    assert_same(replay(new), full_replay(filled))
    assert replay(open_ledger(filled)).positions[("B", "main")].value == Decimal("19.98")


def test_ledger_remembers_the_bytes_it_parsed(filled: Path) -> None:
    """`Ledger.sources`: digests of invctl.toml as opened and items.toml as its catalog was
    read, whatever the files hold later; the cache key is made of them."""
    ledger = open_ledger(filled)
    settings_bytes = (filled / "invctl.toml").read_bytes()
    assert ledger.sources == {"invctl.toml": source_digest(settings_bytes)}
    key = cache.settings_digest(ledger)  # reads the catalog, as the fold would
    assert ledger.sources["items.toml"] == source_digest((filled / "items.toml").read_bytes())
    assert "catalog" in vars(ledger)
    _edit_settings(filled, "costing")
    _edit_settings(filled, "catalog")
    assert cache.settings_digest(ledger) == key
    assert ledger.sources["invctl.toml"] == source_digest(settings_bytes)
    assert cache.settings_digest(open_ledger(filled)) != key


@pytest.mark.parametrize("broken", ["items.toml", "suppliers.toml"])
def test_a_catalog_that_does_not_load(filled: Path, broken: str) -> None:
    """A catalog that does not parse does not stop a replay (no catalog costs then), and
    its cache is keyed so: the repaired catalog misses, even when items.toml kept its
    bytes (the other file of the catalog was broken)."""
    path = filled / broken
    good = path.read_bytes() if path.exists() else b""
    path.write_bytes(good + b"\n[oops\n")
    ledger = open_ledger(filled)
    with pytest.raises(Refused):
        ledger.catalog  # noqa: B018
    state = replay(ledger)
    assert state.positions[("B", "main")].value == 0  # no catalog cost for B
    assert_same(state, full_replay(filled))
    again = open_ledger(filled)
    hit = cache.load(again, list_files(again))
    assert hit is not None and not hit[1], "a broken catalog still has a cache"
    path.write_bytes(good)
    fixed = open_ledger(filled)
    assert cache.load(fixed, list_files(fixed)) is None
    assert replay(fixed).positions[("B", "main")].value == Decimal("2.20")


def _racy_ledger(root: Path) -> Path:
    """``root`` with two more months, so that its first file is not one of the newest
    (hashed anyway); every file but that one clearly older than any cache. Returns it."""
    more = [
        {"id": "01K0100", "ts": "2026-12-01T10:00:00Z", "type": "received", "sku": "A", "qty": 1, "cost": "1.00"},
        {"id": "01K0101", "ts": "2027-01-01T10:00:00Z", "type": "received", "sku": "A", "qty": 1, "cost": "1.00"},
    ]
    for rel, lines in canonical(more).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"".join(lines))
    past = time.time_ns() - 3600 * 10**9
    for path in sorted((root / "journal").rglob("*.jsonl")):
        os.utime(path, ns=(past, past))
    first = root / "journal/2026/2026-10.jsonl"
    assert b'"qty":2' in first.read_bytes()
    return first


def _edit_keeping_stat(path: Path) -> None:
    """The same size, inode and mtime: what an edit in the same clock tick looks like on a
    file system with coarse mtimes."""
    st = path.stat()
    data = path.read_bytes()
    with open(path, "r+b") as fh:
        fh.write(data.replace(b'"qty":2', b'"qty":3', 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


def _snapshot(root: Path) -> cache.Snapshot:
    return msgspec.json.decode((root / CACHE).read_bytes(), type=cache.Snapshot)


def test_racily_clean_file_is_checked_by_its_bytes(filled: Path) -> None:
    """Racily clean (as git's index): a file whose mtime is the cache's own may have been
    edited again in that clock tick, after the cache recorded its stat, keeping its size:
    nothing in its stat shows it. The cache hashes such a file when saving, whichever file
    it is, and checks the hash when loading: the edit is a miss."""
    first = _racy_ledger(filled)
    tick = time.time_ns() + 3600 * 10**9  # a tick the snapshot is taken in (not over yet)
    os.utime(first, ns=(tick, tick))
    (filled / CACHE).unlink()
    replay(open_ledger(filled))
    os.utime(filled / CACHE, ns=(tick, tick))  # the cache written in the same tick
    files = {f.path: f for f in _snapshot(filled).files}
    assert files["journal/2026/2026-10.jsonl"].digest is not None, "a racy file is hashed when saved"
    assert files["journal/2026/2026-11.jsonl"].digest is None, "a file older than the cache is not"
    ledger = open_ledger(filled)
    hit = cache.load(ledger, list_files(ledger))
    assert hit is not None and not hit[1], "unchanged, the racy file's bytes vouch for it"
    assert hit[0].positions[("A", "main")].qty == 5

    _edit_keeping_stat(first)  # the first receipt: 2 -> 3
    ledger = open_ledger(filled)
    assert cache.load(ledger, list_files(ledger)) is None
    got = replay(ledger)
    assert got.positions[("A", "main")].qty == 6
    assert_same(got, full_replay(filled))


def test_racy_file_without_a_hash_is_a_miss(filled: Path) -> None:
    """A cache file whose mtime is not newer than a file's recorded mtime (a clock that
    went back, a cache restored with an old mtime) does not vouch for that file by its
    stat; without a hash of it, it is a miss."""
    first = _racy_ledger(filled)
    (filled / CACHE).unlink()
    replay(open_ledger(filled))
    ledger = open_ledger(filled)
    hit = cache.load(ledger, list_files(ledger))
    assert hit is not None and not hit[1]
    assert {f.path: f for f in _snapshot(filled).files}["journal/2026/2026-10.jsonl"].digest is None
    mtime = first.stat().st_mtime_ns
    os.utime(filled / CACHE, ns=(mtime, mtime))
    assert cache.load(ledger, list_files(ledger)) is None
    _edit_keeping_stat(first)
    assert_same(replay(open_ledger(filled)), full_replay(filled))


UNSAFE = re.compile(r"\b(import\s+(pickle|marshal|shelve|dill)|from\s+(pickle|marshal|shelve)\b|"
                    r"pickle\.|marshal\.|shelve\.|yaml\.load\b|yaml\.unsafe_load|(?<![\w.])eval\(|"
                    r"(?<![\w.])exec\(|__import__\()")


def test_no_code_runs_when_decoding() -> None:
    """Nothing in invctl decodes data by running code: no pickle, marshal, eval, exec, yaml.load."""
    root = Path(invctl.__file__).parent
    found = [f"{p.relative_to(root.parent)}:{n}: {line.strip()}"
             for p in sorted(root.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if UNSAFE.search(line)]
    assert not found, found
    assert UNSAFE.search("data = pickle.loads(raw)") and UNSAFE.search("x = eval(text)")
    assert not UNSAFE.search("msgspec.json.decode(raw)")
