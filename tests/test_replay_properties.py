"""Property tests of the replay against the naive reference model in tests/model.py.

Hypothesis writes random histories (a few SKUs, two locations, every event type, equal
and offset timestamps, voids) as journal lines into a temp ledger, replays it with
invctl, and checks the result against the model and against a few laws of its own:
(a) stock, value and on-order agree with the model, for fifo and average costing;
(b) a replay is deterministic; (c) it does not depend on how lines are spread over
files; (d) stock is the last count plus the movements since; (e) value is conserved;
(f) lots that expire leave first-expiring-first-out; (g) ``until`` is a prefix.

Money is compared exactly (as fractions) unless the model saw a division that does not
end in a short decimal (10/3): invctl then rounds at 34 digits, and the comparison
allows 1e-18, far below a cent and far above any rounding.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from model import Model, Pos, Unit, parse_ts, replay_order, run

from invctl import events as E
from invctl.catalog import add_entry
from invctl.create import init_ledger
from invctl.events import to_line
from invctl.replay import Effect, State, replay
from invctl.settings import Ledger, open_ledger

SKUS = ("A", "B", "C")
CATALOG = {"A": "6.50", "B": "1.10"}  # C has no catalog cost: its fallback is 0 until received
LOCS = ("main", "store2")
LOTS: dict[str | None, str | None] = {  # a lot always has the same expiry (or none)
    "L1": "2027-01-10", "L2": "2026-12-05", "L3": "2027-01-10", "L4": "2026-12-20", "N1": None,
}
EXPIRING = ("L1", "L2", "L3", "L4")
ORDERS = ("o1", "o2")
POS_IDS = ("P1", "P2")
BASE = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)  # the slots straddle the Nov/Dec boundary
STEP = dt.timedelta(hours=3)
SLOTS = 24
OFFSETS = (-600, -300, 0, 0, 60, 330, 540, 840)  # minutes east of UTC
TOLERANCE = Fraction(1, 10**18)
# INVCTL_PROPERTY_SCALE=50 runs fifty times the examples (a bug hunt, not for CI).
SCALE = int(os.environ.get("INVCTL_PROPERTY_SCALE", "1"))
# The conftest's autouse fixture only sets environment variables: sharing it between
# examples is fine. Each example writes a ledger, so runtimes vary: no deadline.
FAST = settings(max_examples=60 * SCALE, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

Ev = dict[str, Any]


# --- strategies ---------------------------------------------------------------------------

qtys = st.integers(1, 9)
money = st.integers(0, 2500).map(lambda c: f"{c // 100}.{c % 100:02d}")
skus = st.sampled_from(("A", "A", "A", "B", "B", "C"))  # most events on one SKU: more interplay
locs = st.sampled_from(LOCS)


def _clean(d: dict[str, Any]) -> Ev:
    return {k: v for k, v in d.items() if v is not None}


def _received(lots: tuple[str | None, ...]) -> st.SearchStrategy[Ev]:
    def make(d: dict[str, Any]) -> Ev:
        d = {"type": "received", **d, "expires": LOTS.get(d["lot"]) if d["lot"] else None}
        return _clean(d)
    return st.fixed_dictionaries({
        "sku": skus, "qty": qtys, "cost": money, "loc": locs, "lot": st.sampled_from(lots),
        "po": st.sampled_from((None, None, *POS_IDS)), "supplier": st.just("acme"),
    }).map(make)


def _sold() -> st.SearchStrategy[Ev]:
    return st.fixed_dictionaries({
        "sku": skus, "qty": qtys, "loc": locs, "price": st.just("19.90"),
        "order": st.sampled_from((None, *ORDERS)),
    }).map(lambda d: _clean({"type": "sold", **d}))


def _returned() -> st.SearchStrategy[Ev]:
    return st.fixed_dictionaries({
        "sku": skus, "qty": qtys, "loc": locs, "refund": st.sampled_from((None, "19.90")),
        "restock": st.sampled_from((None, True, False)), "order": st.sampled_from((None, *ORDERS)),
    }).map(lambda d: _clean({"type": "returned", **d}))


def _adjusted(negative_only: bool = False, lots: tuple[str | None, ...] = (None,)) -> st.SearchStrategy[Ev]:
    def make(d: dict[str, Any]) -> Ev:
        qty = -d["qty"] if d.pop("down") or negative_only else d["qty"]
        return _clean({"type": "adjusted", **d, "qty": qty,
                       "reason": "damaged" if qty < 0 else "found",
                       "cost": d["cost"] if qty > 0 else None})
    return st.fixed_dictionaries({
        "sku": skus, "qty": qtys, "loc": locs, "down": st.booleans(),
        "cost": st.one_of(st.none(), money), "lot": st.sampled_from(lots),
    }).map(make)


def _counted(lots: tuple[str | None, ...]) -> st.SearchStrategy[Ev]:
    return st.fixed_dictionaries({
        "sku": skus, "qty": st.integers(0, 12), "loc": locs, "lot": st.sampled_from(lots),
    }).map(lambda d: _clean({"type": "counted", **d}))


def _transferred() -> st.SearchStrategy[Ev]:
    return st.fixed_dictionaries({
        "sku": skus, "qty": qtys, "where": st.permutations(LOCS),
    }).map(lambda d: {"type": "transferred", "sku": d["sku"], "qty": d["qty"],
                      "from": d["where"][0], "to": d["where"][1]})


def _ordered() -> st.SearchStrategy[Ev]:
    return st.fixed_dictionaries({
        "po": st.sampled_from(POS_IDS), "sku": skus, "qty": qtys, "cost": money, "loc": locs,
        "supplier": st.just("acme"), "expected": st.sampled_from((None, "2026-12-10")),
    }).map(lambda d: _clean({"type": "ordered", **d}))


def _cancelled() -> st.SearchStrategy[Ev]:
    return st.fixed_dictionaries({
        "po": st.sampled_from(POS_IDS), "sku": skus, "qty": st.one_of(st.none(), qtys),
    }).map(lambda d: _clean({"type": "cancelled", **d}))


def _voided() -> st.SearchStrategy[Ev]:
    return st.integers(0, 1000).map(lambda n: {"type": "voided", "pick": n, "reason": "mistake"})


ALL_LOTS: tuple[str | None, ...] = (None, None, None, *LOTS)


def any_event() -> st.SearchStrategy[Ev]:
    return st.one_of(
        _received(ALL_LOTS), _received(ALL_LOTS), _sold(), _sold(), _returned(), _adjusted(lots=ALL_LOTS),
        _counted((None, None, *LOTS)), _transferred(), _ordered(), _cancelled(), _voided(),
    )


def fefo_event() -> st.SearchStrategy[Ev]:
    return st.one_of(
        _received((None, *EXPIRING)), _received(EXPIRING), _sold(), _sold(), _transferred(),
        _adjusted(negative_only=True), _counted((None,)),
    )


@st.composite
def histories(draw: st.DrawFn, kinds: st.SearchStrategy[Ev] | None = None, max_size: int = 24) -> list[Ev]:
    """Events in generation order (not replay order), with ids and ts.

    ``link`` ties an event to an earlier one, so that interactions are common: a return
    to an earlier sale's order, a cancellation or receipt to an earlier PO line.
    """
    n = draw(st.integers(1, max_size))
    specs = draw(st.lists(st.tuples(
        kinds if kinds is not None else any_event(),
        st.integers(0, SLOTS - 1), st.sampled_from(OFFSETS),
        st.sampled_from((0, 0, 0, -31)),  # a few events a month earlier: three month files
        st.booleans(),  # qty as a decimal string and UTC as "Z", or not
        st.one_of(st.none(), st.integers(0, 1000)),  # link
    ), min_size=n, max_size=n))
    ids = draw(st.permutations(range(len(specs))))  # ties in ts are broken by id, in any order
    events: list[Ev] = []
    for i, (spec, slot, offset, shift, textual, link) in enumerate(specs):
        ev = dict(spec)
        instant = BASE + dt.timedelta(days=shift) + slot * STEP
        ts = instant.astimezone(dt.timezone(dt.timedelta(minutes=offset))).isoformat()
        ev["id"] = f"01K{ids[i]:04d}"
        ev["ts"] = ts.replace("+00:00", "Z") if textual else ts
        if ev["type"] == "voided":
            earlier = [e["id"] for e in events if e["type"] != "voided"]
            ev["target"] = earlier[ev.pop("pick") % len(earlier)] if earlier else "01KNOTHERE"
        elif link is not None and ev["type"] == "returned":
            sales = [e for e in events if e["type"] == "sold" and "order" in e]
            if sales:
                sale = sales[link % len(sales)]
                ev.update(sku=sale["sku"], order=sale["order"])
        elif link is not None and ev["type"] in ("cancelled", "received", "ordered"):
            lines = [e for e in events if e["type"] == "ordered"]
            if lines:
                line = lines[link % len(lines)]
                ev.update(sku=line["sku"], po=line["po"])
        if textual and isinstance(ev.get("qty"), int):
            ev["qty"] = str(ev["qty"])
        events.append(ev)
    return events


def never_negative(events: list[Ev]) -> list[Ev]:
    """The same history with sales, write-offs and transfers cut to what is on hand.

    Walks the replay order with the model (quantities do not depend on the costing
    method); an outgoing event that finds nothing on hand is left out.
    """
    model = Model(False, CATALOG)
    changed: dict[str, Ev | None] = {}
    for ev in replay_order(events):
        kind = ev["type"]
        outgoing = kind in ("sold", "transferred") or (kind == "adjusted" and int(ev["qty"]) < 0)
        if outgoing:
            loc = ev["from"] if kind == "transferred" else ev.get("loc", "main")
            want = abs(int(ev["qty"]))
            have = model.pos(ev["sku"], loc).qty
            if have <= 0:
                changed[ev["id"]] = None
                continue
            if want > have:
                ev = {**ev, "qty": have if kind != "adjusted" else -have}
                changed[ev["id"]] = ev
        model.apply(ev)
    assert model.went_negative == 0
    out = []
    for ev in events:
        if ev["id"] in changed:
            new = changed[ev["id"]]
            if new is not None:
                out.append(new)
        else:
            out.append(ev)
    return out


# --- ledgers ------------------------------------------------------------------------------


def month_file(ev: Ev) -> str:
    ts = ev["ts"]
    return f"journal/{ts[:4]}/{ts[:7]}.jsonl"


def canonical(events: list[Ev]) -> dict[str, list[bytes]]:
    """Each event in the file of its ts month as written, in generation order."""
    files: dict[str, list[bytes]] = {}
    for ev in events:
        files.setdefault(month_file(ev), []).append(to_line(ev))
    return files


class Shops:
    """Fresh ledgers from a template (made once per costing method)."""

    def __init__(self, base: Path):
        self.base = base
        self.templates: dict[str, Path] = {}

    def template(self, costing: str) -> Path:
        if costing not in self.templates:
            root = self.base / f"template-{costing}"
            init_ledger(root, currency="EUR", costing=costing, timezone="Europe/Berlin",
                        locations=list(LOCS), git=False)
            for sku in SKUS:
                fields: dict[str, Any] = {"name": f"Item {sku}"}
                if sku in CATALOG:
                    fields["cost"] = Decimal(CATALOG[sku])
                add_entry(root, "item", sku, fields)
            self.templates[costing] = root
        return self.templates[costing]

    @contextmanager
    def ledger(self, costing: str, files: dict[str, list[bytes]]) -> Iterator[Ledger]:
        root = Path(tempfile.mkdtemp(dir=self.base)) / "shop"
        shutil.copytree(self.template(costing), root)
        for rel, lines in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as fh:
                fh.write(b"".join(lines))
        try:
            yield open_ledger(root)
        finally:
            shutil.rmtree(root.parent)


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> Shops:
    return Shops(tmp_path_factory.mktemp("ledgers"))


# --- observing the replay -----------------------------------------------------------------


class Audit:
    """An observer: every effect, checked against the positions, and the value totals."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.log: list[tuple[str, str, tuple[tuple[Any, ...], ...]]] = []
        self.prev: dict[tuple[str, str], tuple[Any, Fraction]] = {}
        self.qty_errors: list[str] = []
        self.value_error: dict[str, Fraction] = {}  # per SKU, the largest effect/position mismatch
        self.receipts = Fraction(0)
        self.added = Fraction(0)
        self.cogs = Fraction(0)
        self.writeoffs = Fraction(0)
        self.variance = Fraction(0)
        self.sale_cogs: dict[str, tuple[str, Fraction]] = {}  # sale id -> (sku, COGS)
        self.added_by_id: dict[str, tuple[str, Fraction]] = {}  # positive adjustment/count -> (sku, value)

    def __call__(self, state: State, ev: E.Event, src: tuple[int, int], effects: list[Effect]) -> None:
        self.log.append((ev.id, type(ev).__name__, tuple(
            (e.sku, e.loc, e.qty, str(e.value), str(e.cogs)) for e in effects)))
        now = {k: (p.qty, Fraction(p.value)) for k, p in state.positions.items()}
        change: dict[tuple[str, str], tuple[Any, Fraction]] = {}
        for e in effects:
            q, v = change.get((e.sku, e.loc), (0, Fraction(0)))
            change[(e.sku, e.loc)] = (q + e.qty, v + Fraction(e.value))
        for key in set(now) | set(self.prev) | set(change):
            q0, v0 = self.prev.get(key, (0, Fraction(0)))
            q1, v1 = now.get(key, (0, Fraction(0)))
            dq, dv = change.get(key, (0, Fraction(0)))
            if q1 - q0 != dq:
                self.qty_errors.append(f"{ev.id} {type(ev).__name__} {key}: qty {q0} -> {q1}, effect says {dq}")
            err = abs(v1 - v0 - dv)
            if err > self.value_error.get(key[0], Fraction(0)):
                self.value_error[key[0]] = err
        self.prev = now

        self.cogs += sum((Fraction(e.cogs) for e in effects), Fraction(0))
        if isinstance(ev, E.Received):
            self.receipts += int(ev.qty) * Fraction(ev.cost)
        elif isinstance(ev, E.Sold):
            self.sale_cogs[ev.id] = (ev.sku, Fraction(effects[0].cogs))
        elif isinstance(ev, E.Adjusted | E.Counted) and effects:
            e = effects[0]
            if e.qty > 0:
                self.added += Fraction(e.value) + Fraction(e.cogs)
                self.added_by_id[ev.id] = (e.sku, Fraction(e.value) + Fraction(e.cogs))
            elif e.qty < 0:
                if isinstance(ev, E.Adjusted):
                    self.writeoffs -= Fraction(e.value)
                else:
                    self.variance -= Fraction(e.value)
            assert e.cogs == 0 or e.qty > 0, f"{ev.id}: a write-off or shrinkage is not COGS"


def same(a: Fraction, b: Fraction, exact: bool) -> bool:
    return a == b if exact else abs(a - b) <= TOLERANCE


def fingerprint(state: State, audit: Audit | None = None) -> dict[str, Any]:
    """Everything a replay yields, with exact Decimal representations."""
    return {
        "positions": {k: (p.qty, str(p.value), [(la.qty, str(la.cost), la.lot, la.expires) for la in p.layers])
                      for k, p in sorted(state.positions.items())},
        "po": {k: (line.ordered, line.received, line.cancelled, line.loc)
               for k, line in sorted(state.po_lines.items())},
        "last_cost": {k: str(v) for k, v in sorted(state.last_cost.items())},
        "events": state.events,
        "problems": sorted((p.severity, p.message) for p in state.problems),
        "log": audit.log if audit is not None else None,
    }


def run_replay(ledger: Ledger, until: dt.datetime | None = None) -> tuple[State, Audit]:
    audit = Audit()
    return replay(ledger, until=until, observer=audit), audit


# --- checks -------------------------------------------------------------------------------


def check_against_model(state: State, audit: Audit, model: Model, *, negative_ok: bool) -> None:
    assert not [p for p in state.problems if p.severity == "error"]
    assert not audit.qty_errors
    for key in sorted(set(state.positions) | set(model.positions)):
        sku, loc = key
        p = state.positions.get(key)
        mp = model.positions.get(key) or Pos()
        exact = sku not in model.inexact
        qty = p.qty if p is not None else 0
        layers = p.layers if p is not None else []
        assert qty == mp.qty, f"{key}: on hand {qty}, model {mp.qty}"
        units = sorted(mp.units, key=Unit.order)
        got = [(la.lot, la.expires) for la in layers for _ in range(int(la.qty))]
        assert got == [(u.lot, u.expires) for u in units], f"{key}: lots in consumption order differ"
        if mp.qty >= 0:  # a negative value depends on how a gap's estimates are split; conservation covers it
            value = Fraction(p.value) if p is not None else Fraction(0)
            want = model.value(sku, loc)
            assert same(value, want, exact), f"{key}: value {value} ({float(value)}), model {want} ({float(want)})"
        if not model.average:
            got_costs = [Fraction(la.cost) for la in layers for _ in range(int(la.qty))]
            assert all(same(a, u.cost, exact) for a, u in zip(got_costs, units, strict=True)), \
                f"{key}: unit costs in FIFO order differ: {got_costs} vs {[u.cost for u in units]}"
    on_order = {k: (line.outstanding, line.loc) for k, line in state.po_lines.items() if line.outstanding}
    assert on_order == {k: (line.outstanding, line.loc) for k, line in model.lines.items() if line.outstanding}
    assert {k: Fraction(v) for k, v in state.last_cost.items()} == model.last_cost
    for ev_id, cogs in model.cogs.items():
        sku, got_cogs = audit.sale_cogs[ev_id]
        assert same(got_cogs, cogs, sku not in model.inexact), f"COGS of sale {ev_id}: {got_cogs}, model {cogs}"
    for ev_id, value in model.added.items():
        sku, got_value = audit.added_by_id[ev_id]
        assert same(got_value, value, sku not in model.inexact), f"value added by {ev_id}: {got_value}, model {value}"
    negatives = [p for p in state.problems if "goes negative" in p.message]
    assert len(negatives) == model.went_negative
    if not negative_ok:
        assert model.went_negative == 0 and all(p.qty >= 0 for p in state.positions.values())


def check_conservation(state: State, audit: Audit, exact: bool) -> None:
    """Receipts + value added = COGS + write-offs + shrinkage + what is left."""
    assert not audit.qty_errors, audit.qty_errors[:3]
    for sku, err in audit.value_error.items():
        assert same(err, Fraction(0), exact), f"{sku}: an effect's value is not what its position changed by ({err})"
    remaining = sum((Fraction(p.value) for p in state.positions.values()), Fraction(0))
    left = audit.receipts + audit.added
    right = audit.cogs + audit.writeoffs + audit.variance + remaining
    assert same(left, right, exact), f"in {left} != out {right} (diff {left - right})"


# --- (a) the model --------------------------------------------------------------------------


@pytest.mark.parametrize("costing", ["fifo", "average"])
@FAST
@given(events=histories())
def test_matches_model_never_negative(shops: Shops, costing: str, events: list[Ev]) -> None:
    events = never_negative(events)
    model = run(events, average=costing == "average", catalog_cost=CATALOG)
    event("exact" if not model.inexact else "inexact (tolerance)")
    with shops.ledger(costing, canonical(events)) as ledger:
        state, audit = run_replay(ledger)
    check_against_model(state, audit, model, negative_ok=False)
    check_conservation(state, audit, exact=not model.inexact)


@pytest.mark.parametrize("costing", ["fifo", "average"])
@FAST
@given(events=histories())
def test_matches_model_negative_stock(shops: Shops, costing: str, events: list[Ev]) -> None:
    model = run(events, average=costing == "average", catalog_cost=CATALOG)
    event("went negative" if model.went_negative else "stayed positive")
    with shops.ledger(costing, canonical(events)) as ledger:
        state, audit = run_replay(ledger)
    check_against_model(state, audit, model, negative_ok=True)


# --- (b) determinism and (c) order independence ---------------------------------------------


@settings(FAST, max_examples=30 * SCALE)
@given(events=histories())
def test_deterministic(shops: Shops, events: list[Ev]) -> None:
    with shops.ledger("fifo", canonical(events)) as ledger:
        first = fingerprint(*run_replay(ledger))
        again = fingerprint(*run_replay(ledger))
    with shops.ledger("fifo", canonical(events)) as ledger:
        copy = fingerprint(*run_replay(ledger))
    assert first == again == copy


ODD_FILES = ("journal/import.jsonl", "journal/zz/late.jsonl", "journal/0/early.jsonl")


@st.composite
def layouts(draw: st.DrawFn, events: list[Ev]) -> tuple[str, dict[str, list[bytes]]]:
    """The same events spread over files another way."""
    rnd = draw(st.randoms(use_true_random=False))
    how = draw(st.sampled_from(("shuffled", "split", "wrong month", "duplicated", "everything")))
    files: dict[str, list[bytes]] = {}
    for ev in events:
        places = [month_file(ev)]
        if how in ("split", "everything") and rnd.random() < 0.5:
            places = [rnd.choice((f"journal/merged/{ev['ts'][:7]}.jsonl", *ODD_FILES))]
        if how in ("wrong month", "everything") and rnd.random() < 0.3:
            places = [rnd.choice(("journal/2026/2026-10.jsonl", "journal/2026/2026-11.jsonl",
                                  "journal/2026/2026-12.jsonl", "journal/2027/2027-01.jsonl"))]
        for place in places:
            files.setdefault(place, []).append(to_line(ev))
        if how in ("duplicated", "everything") and rnd.random() < 0.3:
            copy = ev
            if rnd.random() < 0.5:  # the same instant written with another offset
                offset = dt.timedelta(minutes=rnd.choice(OFFSETS))
                copy = {**ev, "ts": parse_ts(ev["ts"]).astimezone(dt.timezone(offset)).isoformat()}
            place = rnd.choice((places[0], month_file(copy), *ODD_FILES))
            files.setdefault(place, []).append(to_line(copy))
    if how in ("shuffled", "everything"):
        for lines in files.values():
            rnd.shuffle(lines)
    return how, files


@pytest.mark.parametrize("costing", ["fifo", "average"])
@settings(FAST, max_examples=40 * SCALE)
@given(data=st.data())
def test_order_independent(shops: Shops, costing: str, data: st.DataObject) -> None:
    events = data.draw(histories())
    how, files = data.draw(layouts(events))
    event(how)
    with shops.ledger(costing, canonical(events)) as ledger:
        state, audit = run_replay(ledger)
        want = fingerprint(state, audit)
    with shops.ledger(costing, files) as ledger:
        state, audit = run_replay(ledger)
        got = fingerprint(state, audit)
    assert got == want


# --- (d) stock is the last count plus the movements since -----------------------------------


@settings(FAST, max_examples=50 * SCALE)
@given(events=histories())
def test_stock_is_count_plus_movements(shops: Shops, events: list[Ev]) -> None:
    expected: Counter[tuple[str, str]] = Counter()
    lot_counted: set[tuple[str, str]] = set()  # a lot count since the last full count: skip
    for ev in replay_order(events):
        kind, sku, qty = ev["type"], ev.get("sku"), int(ev.get("qty") or 0)
        if kind == "counted":
            key = (sku, ev.get("loc", "main"))
            if ev.get("lot") is None:
                expected[key] = qty
                lot_counted.discard(key)
            else:
                lot_counted.add(key)
        elif kind == "received":
            expected[(sku, ev.get("loc", "main"))] += qty
        elif kind == "sold":
            expected[(sku, ev.get("loc", "main"))] -= qty
        elif kind == "adjusted" or (kind == "returned" and ev.get("restock", True)):
            expected[(sku, ev.get("loc", "main"))] += qty  # adjustments are signed
        elif kind == "transferred":
            expected[(sku, ev["from"])] -= qty
            expected[(sku, ev["to"])] += qty
    with shops.ledger("fifo", canonical(events)) as ledger:
        state, _ = run_replay(ledger)
    for key in set(expected) | set(state.positions):
        if key in lot_counted:
            continue
        got = state.positions[key].qty if key in state.positions else 0
        assert got == expected[key], f"{key}: on hand {got}, movements say {expected[key]}"


# --- (e) conservation -----------------------------------------------------------------------


@pytest.mark.parametrize("costing", ["fifo", "average"])
@FAST
@given(events=histories())
def test_value_is_conserved(shops: Shops, costing: str, events: list[Ev]) -> None:
    model = run(events, average=costing == "average", catalog_cost=CATALOG)
    with shops.ledger(costing, canonical(events)) as ledger:
        state, audit = run_replay(ledger)
    check_conservation(state, audit, exact=not model.inexact)


# --- (f) first-expiring-first-out -----------------------------------------------------------


def _expiry_key(expires: dt.date | None) -> tuple[bool, dt.date]:
    return (expires is None, expires or dt.date.min)


class FefoCheck:
    """An observer: what leaves a position never expires later than what stays."""

    def __init__(self) -> None:
        self.prev: dict[tuple[str, str], list[tuple[str | None, dt.date | None]]] = {}
        self.checked = 0

    def __call__(self, state: State, ev: E.Event, src: tuple[int, int], effects: list[Effect]) -> None:
        now = {}
        for key, p in state.positions.items():
            units = [(la.lot, la.expires) for la in p.layers for _ in range(int(la.qty))]
            assert len(units) == max(p.qty, 0), f"{key}: layers hold {len(units)}, on hand {p.qty}"
            keys = [_expiry_key(x) for _, x in units]
            assert keys == sorted(keys), f"{key}: layers out of expiry order: {p.layers}"
            now[key] = units
        out: tuple[str, str] | None = None
        if isinstance(ev, E.Sold | E.Adjusted | E.Counted) and effects and effects[0].qty < 0:
            out = (ev.sku, ev.loc)  # type: ignore[union-attr]
        elif isinstance(ev, E.Transferred):
            out = (ev.sku, ev.from_)
        if out is not None:
            before, after = Counter(self.prev.get(out, [])), Counter(now.get(out, []))
            removed = before - after
            assert not (after - before), f"{ev.id}: units appeared where they were taken out"
            assert removed.total() == min(-effects[0].qty, len(self.prev.get(out, [])))
            if removed and after:
                latest_out = max(_expiry_key(x) for _, x in removed)
                earliest_left = min(_expiry_key(x) for _, x in after)
                assert latest_out <= earliest_left, (
                    f"{ev.id} took {dict(removed)} but left {dict(after)}: not first-expiring-first-out")
                self.checked += 1
        self.prev = now


@pytest.mark.parametrize("costing", ["fifo", "average"])
@FAST
@given(events=histories(kinds=fefo_event()))
def test_first_expiring_first_out(shops: Shops, costing: str, events: list[Ev]) -> None:
    check = FefoCheck()
    with shops.ledger(costing, canonical(events)) as ledger:
        replay(ledger, observer=check)
    event("checked a partial take" if check.checked else "nothing partial to check")


# --- (g) until ------------------------------------------------------------------------------


@pytest.mark.parametrize("costing", ["fifo", "average"])
@settings(FAST, max_examples=40 * SCALE)
@given(data=st.data())
def test_until_is_a_prefix(shops: Shops, costing: str, data: st.DataObject) -> None:
    events = data.draw(histories())
    cut = data.draw(st.one_of(
        st.sampled_from([parse_ts(ev["ts"]) for ev in events]),  # exactly at an event: it is left out
        st.integers(-1, SLOTS).map(lambda s: BASE + s * STEP + dt.timedelta(minutes=1)),
    ).map(lambda t: t.astimezone(dt.timezone(dt.timedelta(hours=-7)))))
    voided = {ev["target"] for ev in events if ev["type"] == "voided"}  # voids apply whenever they are
    before = [ev for ev in events if parse_ts(ev["ts"]) < cut and ev["id"] not in voided]
    with shops.ledger(costing, canonical(events)) as ledger:
        state, audit = run_replay(ledger, until=cut)
        got = fingerprint(state, audit)
    with shops.ledger(costing, canonical(before)) as ledger:
        state, audit = run_replay(ledger)
        want = fingerprint(state, audit)
    assert got == want
    model = run(events, average=costing == "average", catalog_cost=CATALOG, until=cut)
    assert {k: p.qty for k, p in state.positions.items() if p.qty} == \
        {k: p.qty for k, p in model.positions.items() if p.qty}


# --- and two ways of replaying part of the journal that writers and reports rely on ---------


@settings(FAST, max_examples=30 * SCALE)
@given(data=st.data())
def test_extra_events_replay_as_if_written(shops: Shops, data: st.DataObject) -> None:
    """``replay(extra=...)`` (a writer checking its decision) equals writing them first."""
    events = data.draw(histories())
    held = data.draw(st.sets(st.sampled_from([ev["id"] for ev in events])))
    written = [ev for ev in events if ev["id"] not in held]
    extra = [E.decoder.decode(to_line(ev)) for ev in events if ev["id"] in held]
    with shops.ledger("fifo", canonical(written)) as ledger:
        audit = Audit()
        got = fingerprint(replay(ledger, extra=extra, observer=audit), audit)
    with shops.ledger("fifo", canonical(events)) as ledger:
        want = fingerprint(*run_replay(ledger))
    assert got == want


@settings(FAST, max_examples=30 * SCALE)
@given(events=histories())
def test_one_sku_replays_like_the_whole_journal(shops: Shops, events: list[Ev]) -> None:
    """``replay(skus=...)`` (one item's history) sees that item as the full replay does."""
    with shops.ledger("average", canonical(events)) as ledger:
        whole = fingerprint(*run_replay(ledger))
        for sku in SKUS:
            part = fingerprint(replay(ledger, skus={sku}))
            assert part["positions"] == {k: v for k, v in whole["positions"].items() if k[0] == sku}
            assert part["po"] == {k: v for k, v in whole["po"].items() if k[1] == sku}
            assert part["last_cost"] == {k: v for k, v in whole["last_cost"].items() if k == sku}
