"""The two-process replay (invctl/parallel.py) yields exactly what the serial one does.

The split is forced on small random ledgers (SPLIT_BYTES = 0), so every example runs a
real fork; the serial replay is the same call with INVCTL_JOBS=1.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cache import view
from test_replay_properties import BASE, FAST, Shops, canonical, histories, layouts

from invctl import cache, parallel
from invctl import replay as R
from invctl.journal import list_files
from invctl.settings import Ledger

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the split needs fork()")


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> Shops:
    return Shops(tmp_path_factory.mktemp("ledgers"))


@pytest.fixture(autouse=True)
def always_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "SPLIT_BYTES", 0)
    monkeypatch.delenv("INVCTL_JOBS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def both(ledger: Ledger, until: dt.datetime | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(split, serial): everything each replay yields, problems in their order."""
    files = list_files(ledger)
    out = []
    for jobs in ("2", "1"):
        os.environ["INVCTL_JOBS"] = jobs
        try:
            state, run = R._replay_all(ledger, files, until, None, None, [], False)
        finally:
            del os.environ["INVCTL_JOBS"]
        got = view(state)
        got["problems in order"] = [(p.path, p.line, p.message) for p in state.problems]
        if until is None:  # where reading stopped: only the cache (whole journal) uses it
            got["last"] = (run.last_ts, run.last_id)
            got["ends"] = dict(run.ends)
        out.append(got)
    return out[0], out[1]


def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the forks the split makes (the real os.fork runs)."""
    made: list[int] = []
    real = os.fork

    def counting() -> int:
        made.append(1)
        return real()

    monkeypatch.setattr(os, "fork", counting)
    return made


@pytest.mark.parametrize("costing", ["fifo", "average"])
@settings(FAST, max_examples=25)
@given(data=st.data())
def test_split_equals_serial(shops: Shops, costing: str, data: st.DataObject) -> None:
    """Any history, spread over files any way (shuffled, duplicated, wrong month)."""
    events = data.draw(histories())
    _, files = data.draw(layouts(events))
    with shops.ledger(costing, files) as ledger:
        split, serial = both(ledger)
    assert split == serial


@settings(FAST, max_examples=10)
@given(events=histories(), cut=st.integers(0, 23))
def test_split_equals_serial_until(shops: Shops, events: list[Any], cut: int) -> None:
    until = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC) + cut * dt.timedelta(hours=3)
    with shops.ledger("fifo", canonical(events)) as ledger:
        split, serial = both(ledger, until)
    assert split == serial


@pytest.fixture
def small(shops: Shops) -> Iterator[Ledger]:
    """Sales and receipts of three SKUs, a void and a restocked return of an order."""
    lines = []
    for i in range(40):
        ts = (BASE + dt.timedelta(hours=i)).isoformat()
        sku = "ABC"[i % 3]
        if i % 4 == 0:
            lines.append({"id": f"r{i:03}", "ts": ts, "type": "received", "sku": sku, "qty": 10, "cost": "2.50"})
        else:
            lines.append({"id": f"s{i:03}", "ts": ts, "type": "sold", "sku": sku, "qty": 1, "order": f"o{i}"})
    lines.append({"id": "v1", "ts": (BASE + dt.timedelta(hours=50)).isoformat(), "type": "voided", "target": "s001",
                  "reason": "mistake"})
    lines.append({"id": "x1", "ts": (BASE + dt.timedelta(hours=51)).isoformat(), "type": "returned", "sku": "B",
                  "qty": 1, "order": "o13"})
    with shops.ledger("fifo", canonical(lines)) as ledger:
        yield ledger


def test_split_forks_once_and_matches(small: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    made = forks(monkeypatch)
    split, serial = both(small)
    assert made == [1]  # the split ran (once), the serial replay did not fork
    assert split == serial
    assert split["events"] == 41  # 40 lines and the return; the void removed one sale and is folded


@pytest.mark.parametrize("how", ["raises", "dies", "garbage"])
def test_a_failing_second_process_falls_back_to_serial(small: Ledger, monkeypatch: pytest.MonkeyPatch,
                                                       how: str) -> None:
    parent = os.getpid()
    real_dump = cache.dump

    def broken(state: Any) -> Any:
        if os.getpid() != parent:  # only in the second process
            if how == "raises":
                raise RuntimeError("boom")
            if how == "dies":
                os._exit(9)
            folded = real_dump(state)
            folded.positions[0].qty = "not a number"
            return folded
        return real_dump(state)

    monkeypatch.setattr(cache, "dump", broken)
    split, serial = both(small)
    assert split == serial


def test_not_worth_it_on_small_journals_or_when_told(small: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    files = list_files(small)
    run = R._Run(R.State(small, files), None, None, None, [], False, False, set())
    assert parallel.worth_it(run)
    monkeypatch.setenv("INVCTL_JOBS", "1")
    assert not parallel.worth_it(run)
    monkeypatch.delenv("INVCTL_JOBS")
    monkeypatch.setattr(parallel, "SPLIT_BYTES", sum(p.stat().st_size for p in files) + 1)
    assert not parallel.worth_it(run)
    monkeypatch.setattr(parallel, "SPLIT_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not parallel.worth_it(run)


def test_halves_balance_the_sampled_events(small: Ledger) -> None:
    run = R._Run(R.State(small, list_files(small)), None, None, None, [], False, False, set())
    a, b = parallel.halves(run)
    assert a.isdisjoint(b)
    assert a | b == {"A", "B", "C"}
    assert a and b
