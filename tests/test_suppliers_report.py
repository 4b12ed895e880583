"""`report suppliers`: the scorecard against figures computed by hand for a small scenario."""

from __future__ import annotations

import json

import pytest
from conftest import Shop

from invctl import purchasing
from invctl.replay import replay
from invctl.settings import open_ledger


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


# A defective write-off naming a lot, as an import (or a later `adjust --lot`) would write it.
LOT_LINE = ('{"id":"01KJ0000000000000000000001","ts":"2026-03-25T10:00:00+01:00","type":"adjusted","sku":"MILK",'
            '"qty":-3,"loc":"main","reason":"defective","lot":"M1","by":"tester"}\n')


@pytest.fixture
def scenario(shop: Shop) -> Shop:
    """Two suppliers; acme: one PO on time, one late and filled in part; beta: two POs on time
    and late, one PO never delivered; price changes, and defective write-offs.

    acme  A1 TEE-M 100 @6.00 placed 01-05 expected 01-19, received 100 on 01-15 (lot LA)
          A2 TEE-M 100 @6.60 placed 02-01 expected 02-15, received 60 on 02-20, 40 cancelled 02-25
          no PO: MILK 20 @1.50 on 03-20
    beta  B1 MILK 50 @1.00 + CAP 20 @3.00 placed 01-10 expected 01-15, MILK on 01-14 (lot M1), CAP on 01-15
          B2 MILK 50 @1.20 placed 03-01 expected 03-06, received 03-09
          B3 CAP 10 @3.00 placed 04-01 expected 04-05, never received
    defective: TEE-M -5 on 03-10 (last receipt: acme), MILK -3 of lot M1 on 03-25 (beta's lot),
               MILK -2 on 03-26 (last receipt: acme); a TEE-M +1 "defective" is no write-off
    """
    s = shop
    s.ok("supplier", "add", "beta", "--name", "Beta Foods", "--lead-time", "5")
    s.ok("item", "add", "CAP", "--name", "Cap", "--cost", "3.00")
    s.ok("order", "create", "--supplier", "acme", "--po", "A1", "--line", "TEE-M:100:6.00",
         "--expected", "2026-01-19", "--at", "2026-01-05T09:00")
    s.ok("order", "receive", "A1", "--lot", "LA", "--at", "2026-01-15T11:00")
    s.ok("order", "create", "--supplier", "acme", "--po", "A2", "--line", "TEE-M:100:6.60",
         "--expected", "2026-02-15", "--at", "2026-02-01T09:00")
    s.ok("order", "receive", "A2", "--line", "TEE-M:60", "--at", "2026-02-20T10:00")
    s.ok("order", "cancel", "A2", "--at", "2026-02-25T10:00")
    s.ok("receive", "MILK", "20", "--cost", "1.50", "--supplier", "acme", "--at", "2026-03-20T10:00")

    s.ok("order", "create", "--supplier", "beta", "--po", "B1", "--line", "MILK:50:1.00", "--line", "CAP:20:3.00",
         "--expected", "2026-01-15", "--at", "2026-01-10T09:00")
    s.ok("order", "receive", "B1", "--line", "MILK:50", "--lot", "M1", "--at", "2026-01-14T10:00")
    s.ok("order", "receive", "B1", "--line", "CAP:20", "--at", "2026-01-15T23:00")  # on the expected day
    s.ok("order", "create", "--supplier", "beta", "--po", "B2", "--line", "MILK:50:1.20",
         "--expected", "2026-03-06", "--at", "2026-03-01T09:00")
    s.ok("order", "receive", "B2", "--at", "2026-03-09T10:00")
    s.ok("order", "create", "--supplier", "beta", "--po", "B3", "--line", "CAP:10:3.00",
         "--expected", "2026-04-05", "--at", "2026-04-01T09:00")

    s.ok("adjust", "TEE-M", "-5", "--reason", "defective", "--at", "2026-03-10T10:00")
    with open(s.root / "journal" / "2026" / "2026-03.jsonl", "a") as fh:
        fh.write(LOT_LINE)
    s.ok("adjust", "MILK", "-2", "--reason", "defective", "--at", "2026-03-26T10:00")
    s.ok("adjust", "TEE-M", "1", "--reason", "defective", "--at", "2026-03-27T10:00")
    return s


def card(shop: Shop, *args: str) -> dict[str, dict]:
    rows = json.loads(shop.ok("report", "suppliers", "--format", "json", "--to", "2026-12-31", *args))
    return {r["supplier"] + (f"/{r['sku']}" if r.get("sku") else ""): r for r in rows}


def test_scorecard_per_supplier(scenario: Shop) -> None:
    got = card(scenario)
    assert set(got) == {"acme", "beta"}
    acme, beta = got["acme"], got["beta"]
    assert {k: acme[k] for k in ("pos", "lines", "ordered", "received", "cancelled", "outstanding")} == {
        "pos": 2, "lines": 2, "ordered": 200, "received": 160, "cancelled": 40, "outstanding": 0}
    assert acme["fill_rate"] == 80.0            # (100 + 60) / 200 over the closed lines
    assert acme["on_time_rate"] == 50.0         # A1 settled 01-15 <= 01-19; A2 settled 02-25 > 02-15
    assert acme["late"] == 1
    assert acme["lead_time_days"] == 14.5       # 10 and 19 days to the last receipt
    assert acme["lead_time_sd"] == 6.4          # sqrt(((10-14.5)^2 + (19-14.5)^2) / 1) = 6.36
    assert acme["lead_time_n"] == 2
    assert acme["received_units"] == 180        # 100 + 60 TEE-M and 20 MILK without a PO
    assert acme["spend"] == "1026.00"           # 600 + 396 + 30
    assert acme["price_trend"] == 5.8           # (160 x 6.60 + 20 x 1.50) / 1026 - 1 = 5.85 %
    assert acme["defective"] == 7               # TEE-M 5 and MILK 2 (acme made MILK's last receipt)
    assert acme["defect_rate"] == 3.9           # 7 / 180

    assert {k: beta[k] for k in ("pos", "lines", "ordered", "received", "outstanding")} == {
        "pos": 3, "lines": 4, "ordered": 130, "received": 120, "outstanding": 10}
    assert beta["fill_rate"] == 100.0           # B3 is open: not in the fill rate
    assert beta["on_time_rate"] == 50.0         # B1 MILK and CAP on time; B2 late; B3 open past 04-05
    assert beta["late"] == 2
    assert beta["lead_time_days"] == 5.7        # 4, 5 and 8 days
    assert beta["lead_time_sd"] == 2.1
    assert beta["received_units"] == 120
    assert beta["spend"] == "170.00"            # 50 + 60 + 60
    assert beta["price_trend"] == 5.9           # (100 x 1.20 + 20 x 3.00) / 170 - 1 = 5.88 %
    assert beta["defective"] == 3               # the write-off of lot M1, received from beta
    assert beta["defect_rate"] == 2.5
    assert beta["name"] == "Beta Foods"


def test_scorecard_per_sku(scenario: Shop) -> None:
    got = card(scenario, "--by", "sku")
    assert set(got) == {"acme/TEE-M", "acme/MILK", "beta/MILK", "beta/CAP"}
    tee = got["acme/TEE-M"]
    assert (tee["avg_cost"], tee["last_cost"], tee["price_trend"]) == ("6.23", "6.60", 6.0)  # 6.60 / 6.225 - 1
    assert (tee["defective"], tee["defect_rate"]) == (5, 3.1)                                # 5 / 160
    milk = got["beta/MILK"]
    assert (milk["avg_cost"], milk["last_cost"], milk["price_trend"]) == ("1.10", "1.20", 9.1)
    assert (milk["lines"], milk["on_time_rate"], milk["lead_time_days"]) == (2, 50.0, 6)
    assert got["acme/MILK"]["pos"] == 0 and got["acme/MILK"]["defective"] == 2
    assert got["beta/CAP"]["fill_rate"] == 100.0 and got["beta/CAP"]["late"] == 1


def test_scorecard_period(scenario: Shop) -> None:
    rows = json.loads(scenario.ok("report", "suppliers", "--format", "json", "--from", "2026-02-01", "--to", "2026-02-28"))
    got = {r["supplier"]: r for r in rows}
    acme = got["acme"]
    assert (acme["pos"], acme["lines"], acme["fill_rate"], acme["on_time_rate"], acme["lead_time_days"]) == (1, 1, 60.0, 0.0, 19)
    assert (acme["received_units"], acme["spend"], acme["price_trend"], acme["defective"]) == (60, "396.00", 0.0, 0)
    beta = got["beta"]
    assert (beta["pos"], beta["fill_rate"], beta["on_time_rate"], beta["lead_time_days"], beta["defect_rate"]) == (0, None, None, None, None)


def test_scorecard_sorting_and_formats(scenario: Shop) -> None:
    order = [r["supplier"] for r in json.loads(scenario.ok("report", "suppliers", "-f", "json", "--sort", "defect_rate"))]
    assert order == ["beta", "acme"]
    order = [r["supplier"] for r in json.loads(scenario.ok("report", "suppliers", "-f", "json", "--sort", "defect_rate", "--reverse"))]
    assert order == ["acme", "beta"]
    csv_rows = scenario.ok("report", "suppliers", "--format", "csv").splitlines()
    assert csv_rows[0].startswith("supplier,name,pos,lines,")
    assert len(csv_rows) == 3
    table = scenario.ok("report", "suppliers")
    assert "Supplier scorecard" in table and "80.0%" in table
    r = scenario.run("report", "suppliers", "--sort", "nope")
    assert r.code == 1 and "--sort 'nope' is not a column" in r.err
    r = scenario.run("report", "suppliers", "--from", "2026-03-01", "--to", "2026-02-01")
    assert r.code == 1 and "is after --to" in r.err


def test_scorecard_lead_times_match_the_library(scenario: Shop) -> None:
    state = replay(open_ledger(scenario.root))
    lt = purchasing.lead_times(state, min_receipts=1)
    got = card(scenario)
    for sid in ("acme", "beta"):
        assert round(lt[sid].mean, 1) == got[sid]["lead_time_days"]
        assert round(lt[sid].std, 1) == got[sid]["lead_time_sd"]
        assert lt[sid].n == got[sid]["lead_time_n"]
    assert set(purchasing.lead_times(state)) == {"beta"}  # acme has 2 measured lines, fewer than 3


def test_a_supplier_without_activity_has_an_empty_row(shop: Shop) -> None:
    rows = json.loads(shop.ok("report", "suppliers", "--format", "json"))
    assert [(r["supplier"], r["pos"], r["fill_rate"], r["defect_rate"]) for r in rows] == [("acme", 0, None, None)]
