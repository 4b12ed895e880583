"""Purchase orders: order create|list|show|receive|cancel, through the CLI and the library."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from conftest import BIN, Shop

from invctl import inputs, purchasing
from invctl.errors import Refused
from invctl.moves import Common
from invctl.replay import replay
from invctl.settings import open_ledger

ULID_LEN = 26
PO = "PO-20261120-001"


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def ordered(shop: Shop) -> Shop:
    """PO-20261120-001 from acme: 100 TEE-M at 6.20 and 50 MILK at the catalog cost, due 2026-12-04."""
    shop.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:100:6.20", "--line", "MILK:50",
            "--expected", "2026-12-04", "--at", "2026-11-20T09:00")
    return shop


def events(shop: Shop) -> list[dict]:
    return [json.loads(line) for line in shop.journal_bytes().decode().splitlines()]


def lines(shop: Shop, *args: str) -> dict[tuple[str, str], dict]:
    rows = json.loads(shop.ok("order", "list", "--format", "json", *args))
    return {(r["po"], r["sku"]): r for r in rows}


def on_order(shop: Shop, sku: str) -> int:
    rows = json.loads(shop.ok("stock", sku, "--format", "json"))
    return sum(r["on_order"] for r in rows)


def refused(shop: Shop, *args: str) -> str:
    """A command that must be refused: exit 1, one stderr line, the journal unchanged."""
    before = shop.journal_bytes()
    r = shop.run(*args)
    assert r.code == 1, (args, r.code, r.out, r.err)
    assert "Traceback" not in r.out + r.err
    assert shop.journal_bytes() == before, f"{args} changed the journal"
    err = r.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), r.err
    assert r.out == ""
    return err[0]


# --- create ---------------------------------------------------------------------------------


def test_create_appends_one_ordered_event_per_line(shop: Shop) -> None:
    r = shop.run("order", "create", "--supplier", "acme", "--line", "TEE-M:100:6.20", "--line", "MILK:50",
                 "--expected", "2026-12-04", "--at", "2026-11-20T09:00", "--note", "winter", "--ref", "ERP-7")
    assert r.code == 0, r.err
    ids = r.out.split()
    assert len(ids) == 2 and all(len(i) == ULID_LEN for i in ids)
    assert f"{PO}: ordered 100 TEE-M, 50 MILK" in r.err
    evs = events(shop)
    assert [e["id"] for e in evs] == ids
    assert evs[0] == {"id": ids[0], "ts": "2026-11-20T09:00:00+01:00", "type": "ordered", "sku": "TEE-M", "qty": 100,
                      "loc": "main", "po": PO, "supplier": "acme", "cost": "6.20", "expected": "2026-12-04",
                      "by": "tester", "note": "winter", "ref": "ERP-7"}
    assert evs[1]["cost"] == "1.10"  # the catalog cost
    assert evs[1]["po"] == PO


def test_generated_ids_are_unique_per_day_and_expected_defaults_to_lead_time(ordered: Shop) -> None:
    ordered.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:10", "--at", "2026-11-20T15:00")
    ordered.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:10", "--at", "2026-11-21")
    got = lines(ordered)
    assert got[("PO-20261120-002", "TEE-M")]["expected"] == "2026-12-04"  # 14 days of acme's lead_time
    assert got[("PO-20261120-002", "TEE-M")]["cost"] == "6.50"
    assert ("PO-20261121-001", "TEE-M") in got


def test_a_voided_pos_id_is_not_given_out_again(ordered: Shop) -> None:
    """Pass: after PO-20261120-001's lines are voided, the next PO of that day is -002, so
    `order show` never mixes the voided order's events with a new one's."""
    for ev in events(ordered):
        ordered.ok("void", ev["id"], "--reason", "entered by mistake")
    assert lines(ordered) == {}
    ordered.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:10", "--at", "2026-11-20T15:00")
    assert list(lines(ordered)) == [("PO-20261120-002", "TEE-M")]


def test_list_rows_carry_the_contract_keys(ordered: Shop) -> None:
    row = lines(ordered)[(PO, "TEE-M")]
    for key in ("po", "supplier", "sku", "ordered", "received", "cancelled", "outstanding", "expected", "overdue"):
        assert key in row
    assert row == {**row, "po": PO, "supplier": "acme", "sku": "TEE-M", "ordered": 100, "received": 0,
                   "cancelled": 0, "outstanding": 100, "expected": "2026-12-04", "placed": "2026-11-20",
                   "cost": "6.20", "open_value": "620.00"}
    assert lines(ordered, "--as-of", "2026-12-04")[(PO, "TEE-M")]["overdue"] is False
    assert lines(ordered, "--as-of", "2026-12-05")[(PO, "TEE-M")]["overdue"] is True
    assert lines(ordered, "--as-of", "2026-11-19") == {}


def test_list_filters(ordered: Shop) -> None:
    ordered.ok("supplier", "add", "beta", "--name", "Beta")
    ordered.ok("order", "create", "--supplier", "beta", "--line", "MILK:5:1.00", "--at", "2026-11-21")
    ordered.ok("order", "receive", PO, "--line", "MILK:50", "--at", "2026-11-22")
    assert set(lines(ordered, "--supplier", "beta")) == {("PO-20261121-001", "MILK")}
    assert set(lines(ordered, "--open")) == {(PO, "TEE-M"), ("PO-20261121-001", "MILK")}
    assert set(lines(ordered, "--sku", "MILK")) == {(PO, "MILK"), ("PO-20261121-001", "MILK")}
    assert "unknown supplier 'nope'" in refused(ordered, "order", "list", "--supplier", "nope")
    csv_out = ordered.ok("order", "list", "--format", "csv").splitlines()
    assert csv_out[0].startswith("po,supplier,sku,")
    table = ordered.ok("order", "list")
    assert PO in table and "Overdue" in table


# --- receive and cancel; on order stays exact ------------------------------------------------


def test_partial_receipts_and_cancellations_keep_on_order_exact(ordered: Shop) -> None:
    assert on_order(ordered, "TEE-M") == 100
    out = ordered.ok("order", "receive", PO, "--line", "TEE-M:60", "--lot", "L1", "--expires", "2027-06-30",
                     "--at", "2026-11-28")
    rec = events(ordered)[-1]
    assert rec["id"] == out.strip()
    assert {k: rec[k] for k in ("type", "sku", "qty", "loc", "po", "supplier", "cost", "lot", "expires")} == {
        "type": "received", "sku": "TEE-M", "qty": 60, "loc": "main", "po": PO, "supplier": "acme",
        "cost": "6.20", "lot": "L1", "expires": "2027-06-30"}
    assert on_order(ordered, "TEE-M") == 40
    assert on_order(ordered, "MILK") == 50

    ordered.ok("order", "cancel", PO, "--sku", "TEE-M", "--qty", "15", "--at", "2026-11-29")
    assert on_order(ordered, "TEE-M") == 25
    row = lines(ordered)[(PO, "TEE-M")]
    assert (row["ordered"], row["received"], row["cancelled"], row["outstanding"]) == (100, 60, 15, 25)

    ordered.ok("order", "receive", PO, "--line", "TEE-M:5:6.40", "--at", "2026-11-30")
    assert events(ordered)[-1]["cost"] == "6.40"  # a cost given overrides the PO line's
    assert on_order(ordered, "TEE-M") == 20

    out = ordered.ok("order", "receive", PO, "--at", "2026-12-01")  # everything outstanding
    assert len(out.split()) == 2
    assert sorted((e["sku"], e["qty"]) for e in events(ordered)[-2:]) == [("MILK", 50), ("TEE-M", 20)]
    assert on_order(ordered, "TEE-M") == 0 and on_order(ordered, "MILK") == 0
    stock = {r["sku"]: r for r in json.loads(ordered.ok("stock", "--format", "json"))}
    assert stock["TEE-M"]["on_hand"] == 85
    assert stock["TEE-M"]["value"] == "528.00"  # 60 x 6.20 + 5 x 6.40 + 20 x 6.20
    assert lines(ordered, "--open") == {}
    assert ordered.run("check").code == 0


def test_cancel_one_sku_then_all(ordered: Shop) -> None:
    ordered.ok("order", "receive", PO, "--line", "TEE-M:30", "--at", "2026-11-25")
    out = ordered.ok("order", "cancel", PO, "--sku", "MILK", "--at", "2026-11-26", "--note", "out of stock")
    ev = events(ordered)[-1]
    assert ev["id"] == out.strip()
    assert {k: ev[k] for k in ("type", "sku", "qty", "po", "note")} == {
        "type": "cancelled", "sku": "MILK", "qty": 50, "po": PO, "note": "out of stock"}
    assert on_order(ordered, "MILK") == 0
    assert on_order(ordered, "TEE-M") == 70
    out = ordered.ok("order", "cancel", PO, "--at", "2026-11-27")  # all that is outstanding: TEE-M only
    assert len(out.split()) == 1
    assert (events(ordered)[-1]["sku"], events(ordered)[-1]["qty"]) == ("TEE-M", 70)
    assert on_order(ordered, "TEE-M") == 0
    row = lines(ordered)[(PO, "TEE-M")]
    assert (row["received"], row["cancelled"], row["outstanding"]) == (30, 70, 0)


def test_over_receipt_needs_allow_over_and_shows_honestly(ordered: Shop) -> None:
    err = refused(ordered, "order", "receive", PO, "--line", "TEE-M:120", "--at", "2026-11-25")
    assert "only 100 TEE-M outstanding" in err and "--allow-over" in err
    r = ordered.run("order", "receive", PO, "--line", "TEE-M:120", "--allow-over", "--at", "2026-11-25")
    assert r.code == 0, r.err
    assert "over-receipt: 20 TEE-M more than outstanding" in r.err
    row = lines(ordered)[(PO, "TEE-M")]
    assert (row["ordered"], row["received"], row["outstanding"]) == (100, 120, 0)
    assert on_order(ordered, "TEE-M") == 0
    assert "over-receipt" in ordered.ok("order", "show", PO)


def test_receipt_naming_a_missing_line_is_not_counted(ordered: Shop) -> None:
    ordered.ok("item", "add", "CAP", "--name", "Cap", "--cost", "3.00")
    r = ordered.run("receive", "CAP", "5", "--cost", "3.00", "--po", PO, "--at", "2026-11-25")
    assert r.code == 0
    res = ordered.run("order", "list", "--format", "json")
    assert (PO, "CAP") not in {(x["po"], x["sku"]) for x in json.loads(res.out)}
    assert "receipt against PO" in res.err
    shown = json.loads(ordered.ok("order", "show", PO, "--format", "json"))
    assert any(e["sku"] == "CAP" and "not counted" in e["detail"] for e in shown["events"])


# --- show -----------------------------------------------------------------------------------


def test_show_lists_lines_and_events_with_file_and_line(ordered: Shop) -> None:
    ordered.ok("order", "receive", PO, "--line", "TEE-M:60", "--at", "2026-12-02")
    ordered.ok("order", "cancel", PO, "--sku", "MILK", "--at", "2026-12-03")
    shown = json.loads(ordered.ok("order", "show", PO, "--format", "json"))
    assert shown["po"] == PO and shown["supplier"] == "acme"
    assert [(x["sku"], x["outstanding"]) for x in shown["lines"]] == [("MILK", 0), ("TEE-M", 40)]
    assert [(e["type"], e["sku"], e["qty"], e["outstanding"]) for e in shown["events"]] == [
        ("ordered", "TEE-M", 100, 100), ("ordered", "MILK", 50, 50),
        ("received", "TEE-M", 60, 40), ("cancelled", "MILK", 50, 0)]
    for e in shown["events"]:
        text = (ordered.root / e["file"]).read_text().splitlines()[e["line"] - 1]
        assert json.loads(text)["id"] == e["id"]
    table = ordered.ok("order", "show", PO)
    assert "journal/2026/2026-12.jsonl:1" in table
    csv_rows = ordered.ok("order", "show", PO, "--format", "csv").splitlines()
    assert csv_rows[0].startswith("date,ts,type,sku,qty") and len(csv_rows) == 5
    assert "did you mean PO-20261120-001" in refused(ordered, "order", "show", "PO-20261120-01")


# --- refusals ---------------------------------------------------------------------------------

CREATE = ("order", "create", "--supplier", "acme", "--at", "2026-11-21")


@pytest.mark.parametrize(("args", "says"), [
    (("order", "create", "--supplier", "acmee", "--line", "TEE-M:1"), "unknown supplier 'acmee'"),
    ((*CREATE, "--line", "NOPE:1"), "unknown SKU 'NOPE'"),
    ((*CREATE, "--line", "TEE-M"), "is not SKU:QTY[:COST]"),
    ((*CREATE, "--line", "TEE-M:1:2:3"), "is not SKU:QTY[:COST]"),
    ((*CREATE, "--line", "TEE-M:"), "is not SKU:QTY[:COST]"),
    ((*CREATE, "--line", "TEE-M:0"), "must be greater than 0"),
    ((*CREATE, "--line", "TEE-M:-5"), "must be greater than 0"),
    ((*CREATE, "--line", "TEE-M:x"), "is not a number"),
    ((*CREATE, "--line", "TEE-M:1:6.205"), "more decimals than EUR allows"),
    ((*CREATE, "--line", "TEE-M:1", "--line", "TEE-M:2"), "more than one --line"),
    ((*CREATE, "--line", "TEE-M:1", "--po", PO), f"PO {PO} already exists"),
    ((*CREATE, "--line", "TEE-M:1", "--po", "no/slash"), "PO id 'no/slash' is not valid"),
    ((*CREATE, "--line", "TEE-M:1", "--expected", "2026-11-20"), "is before the order date 2026-11-21"),
    ((*CREATE, "--line", "TEE-M:1", "--expected", "soon"), "--expected 'soon' is not a valid date"),
    ((*CREATE, "--line", "TEE-M:1", "--loc", "attic"), "location 'attic' is not listed"),
    (("order", "receive", "PO-NOPE"), "no purchase order 'PO-NOPE'"),
    (("order", "receive", PO, "--line", "CAP:1"), f"PO {PO} has no line for CAP"),
    (("order", "receive", PO, "--line", "TEE-M:101"), "only 100 TEE-M outstanding"),
    (("order", "receive", PO, "--line", "TEE-M:0"), "must be greater than 0"),
    (("order", "receive", PO, "--line", "TEE-M:1", "--line", "TEE-M:2"), "more than one --line"),
    (("order", "receive", PO, "--at", "2026-11-19"), "before the order"),
    (("order", "receive", PO, "--expires", "2027-02-30"), "--expires '2027-02-30' is not a valid date"),
    (("order", "cancel", "PO-NOPE"), "no purchase order 'PO-NOPE'"),
    (("order", "cancel", PO, "--sku", "TEE-M", "--qty", "101"), "only 100 TEE-M outstanding on PO"),
    (("order", "cancel", PO, "--sku", "TEE-M", "--qty", "-1"), "must be greater than 0"),
    (("order", "cancel", PO, "--qty", "1"), "--qty needs --sku"),
    (("order", "cancel", PO, "--sku", "CAP"), f"PO {PO} has no line for CAP"),
])
def test_refusals_append_nothing(ordered: Shop, args: tuple[str, ...], says: str) -> None:
    assert says in refused(ordered, *args)


def test_refusals_on_closed_lines(ordered: Shop) -> None:
    ordered.ok("order", "receive", PO, "--line", "TEE-M:100", "--at", "2026-11-25")
    ordered.ok("order", "cancel", PO, "--sku", "MILK", "--at", "2026-11-25")
    assert "already fully received" in refused(ordered, "order", "receive", PO, "--line", "TEE-M:1")
    assert "fully cancelled" in refused(ordered, "order", "receive", PO, "--line", "MILK:1")
    assert "nothing outstanding on PO" in refused(ordered, "order", "receive", PO)
    assert "nothing outstanding on PO" in refused(ordered, "order", "cancel", PO)
    assert "nothing outstanding" in refused(ordered, "order", "cancel", PO, "--sku", "TEE-M")
    # a line received in part and cancelled for the rest
    ordered.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:10", "--po", "P2", "--at", "2026-11-25")
    ordered.ok("order", "receive", "P2", "--line", "TEE-M:4", "--at", "2026-11-26")
    ordered.ok("order", "cancel", "P2", "--at", "2026-11-26")
    assert "nothing outstanding on PO P2 line TEE-M" in refused(ordered, "order", "receive", "P2", "--line", "TEE-M:1")


def test_a_sku_without_catalog_cost_needs_one(shop: Shop) -> None:
    shop.ok("item", "add", "CAP", "--name", "Cap")
    assert "CAP has no catalog cost" in refused(shop, *CREATE, "--line", "CAP:5")
    shop.ok(*CREATE, "--line", "CAP:5:3.00")


def test_usage_errors_exit_2(shop: Shop) -> None:
    assert shop.run("order", "create", "--supplier", "acme").code == 2  # --line is required
    assert shop.run("order", "receive").code == 2


# --- idempotency -------------------------------------------------------------------------------


def test_create_with_ref_does_not_write_twice(shop: Shop) -> None:
    first = shop.ok(*CREATE, "--line", "TEE-M:10", "--line", "MILK:5", "--ref", "ERP-1")
    before = shop.journal_bytes()
    r = shop.run(*CREATE, "--line", "TEE-M:10", "--line", "MILK:5", "--ref", "ERP-1")
    assert r.code == 0 and r.out == first
    assert "already recorded with this --ref" in r.err and "nothing appended" in r.err
    assert shop.journal_bytes() == before
    # the ref covers the SKUs it was recorded with; a request with others is refused
    shop.ok(*CREATE, "--line", "TEE-M:10", "--ref", "ERP-2")
    assert "--ref ERP-2 is already used by PO PO-20261121-002" in refused(
        shop, *CREATE, "--line", "TEE-M:10", "--line", "MILK:5", "--ref", "ERP-2")


def test_create_with_the_same_po_does_not_write_twice(shop: Shop) -> None:
    first = shop.ok(*CREATE, "--line", "TEE-M:10:6.00", "--po", "MY-1", "--expected", "2026-12-01")
    before = shop.journal_bytes()
    r = shop.run("order", "create", "--supplier", "acme", "--line", "TEE-M:10:6.00", "--po", "MY-1",
                 "--expected", "2026-12-01", "--at", "2026-11-22")
    assert r.code == 0 and r.out == first
    assert "already recorded with the same lines" in r.err
    assert shop.journal_bytes() == before
    assert "PO MY-1 already exists" in refused(shop, *CREATE, "--line", "TEE-M:11:6.00", "--po", "MY-1")
    shop.ok(*CREATE, "--line", "TEE-M:5:6.00", "--line", "MILK:5", "--po", "MY-2")  # two lines, one order
    assert shop.run("check").code == 0


def test_check_names_a_po_id_used_by_two_orders(shop: Shop) -> None:
    """Lines of one PO id written at two times (two `order create` on two clones, merged;
    here the second line is copied by hand) are the second order's: check says so."""
    shop.ok(*CREATE, "--line", "TEE-M:10:6.00", "--po", "MY-1")
    path = next((shop.root / "journal").rglob("*.jsonl"))
    line = json.loads(path.read_text().splitlines()[0])
    line.update(id="01KA0000000000000000000099", ts="2026-11-21T15:00:00+01:00", qty=3)
    path.write_text(path.read_text() + json.dumps(line) + "\n")
    r = shop.run("check")
    assert r.code == 1 and ":2: PO 'MY-1' was created twice: this line (acme, 2026-11-21T15:00:00+01:00) and " in r.out, r.out
    assert "void this order's lines (invctl void 01KA0000000000000000000099 ...)" in r.out


def test_receive_and_cancel_with_ref_do_not_write_twice(ordered: Shop) -> None:
    first = ordered.ok("order", "receive", PO, "--line", "TEE-M:10", "--ref", "DN-1", "--at", "2026-11-25")
    before = ordered.journal_bytes()
    r = ordered.run("order", "receive", PO, "--line", "TEE-M:10", "--ref", "DN-1", "--at", "2026-11-25")
    assert (r.code, r.out) == (0, first) and "nothing appended" in r.err
    assert ordered.journal_bytes() == before
    # the same delivery note, another SKU: appended
    second = ordered.ok("order", "receive", PO, "--line", "MILK:5", "--ref", "DN-1", "--at", "2026-11-25")
    assert second != first
    assert on_order(ordered, "TEE-M") == 90 and on_order(ordered, "MILK") == 45

    out = ordered.ok("order", "cancel", PO, "--ref", "C-1", "--at", "2026-11-26")
    before = ordered.journal_bytes()
    assert ordered.ok("order", "cancel", PO, "--ref", "C-1", "--at", "2026-11-26") == out
    assert ordered.journal_bytes() == before


def test_dry_run_appends_nothing(ordered: Shop) -> None:
    before = ordered.journal_bytes()
    r = ordered.run("order", "receive", PO, "--dry-run", "--at", "2026-11-25")
    assert r.code == 0 and r.out == ""
    assert "dry run: nothing appended" in r.err
    r = ordered.run(*CREATE, "--line", "TEE-M:1", "--dry-run")
    assert r.code == 0 and r.out == "" and "PO-20261121-001" in r.err
    assert ordered.journal_bytes() == before


# --- several writers at once -------------------------------------------------------------------


def test_concurrent_receipts_of_one_po_receive_it_once(ordered: Shop) -> None:
    def receive(_: int) -> int:
        p = subprocess.run([str(BIN), "order", "receive", PO, "--at", "2026-11-25"], cwd=ordered.root,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 or "nothing outstanding" in p.stderr, p.stderr
        return p.returncode

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(receive, range(4)))
    assert codes.count(0) == 1
    row = lines(ordered)
    assert (row[(PO, "TEE-M")]["received"], row[(PO, "MILK")]["received"]) == (100, 50)


def test_concurrent_creates_get_their_own_ids(shop: Shop) -> None:
    def create(_: int) -> str:
        p = subprocess.run([str(BIN), *CREATE, "--line", "TEE-M:1"], cwd=shop.root, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, range(4)))
    assert len(set(ids)) == 4
    assert {po for po, _ in lines(shop)} == {f"PO-20261121-00{n}" for n in range(1, 5)}


# --- the library ---------------------------------------------------------------------------------


def test_library_create_po_and_plans(shop: Shop) -> None:
    ledger = open_ledger(shop.root)
    w = purchasing.create_po(ledger, "acme", [("TEE-M", 100, Decimal("6.20")), ("MILK", "50", None)],
                             "2026-12-04", Common(at="2026-11-20T09:00"))
    assert w.po == PO and len(w.ids) == 2
    state = replay(ledger)
    assert [(x.po, x.sku, x.outstanding) for x in purchasing.open_lines(state)] == [(PO, "MILK", 50), (PO, "TEE-M", 100)]

    # plans are pure: keys of new events, nothing written
    before = shop.journal_bytes()
    at = inputs.moment(ledger, "2026-11-25")
    plan = purchasing.plan_receive(state, PO, [("TEE-M", "60", None)], at=at, lot="L1")
    assert plan.events == [{"type": "received", "sku": "TEE-M", "qty": 60, "loc": "main", "po": PO,
                            "supplier": "acme", "cost": "6.20", "lot": "L1", "expires": None}]
    assert purchasing.plan_cancel(state, PO, at=at).events == [
        {"type": "cancelled", "sku": "MILK", "qty": 50, "po": PO},
        {"type": "cancelled", "sku": "TEE-M", "qty": 100, "po": PO}]
    created = purchasing.plan_create(state, "acme", [("TEE-M", 5, None)], at=at)
    assert created.po == "PO-20261125-001" and created.events[0]["expected"] == "2026-12-09"
    with pytest.raises(Refused, match="over"):
        purchasing.plan_receive(state, PO, [("TEE-M", 101, None)], at=at)
    assert shop.journal_bytes() == before

    w = purchasing.receive_po(ledger, PO, None, Common(at="2026-11-27"))
    assert len(w.ids) == 2 and not purchasing.open_lines(replay(ledger))


def test_lead_times(shop: Shop) -> None:
    shop.ok("supplier", "add", "beta", "--name", "Beta")
    for n, (placed, received) in enumerate([("2026-01-01", "2026-01-11"), ("2026-02-01", "2026-02-15"),
                                            ("2026-03-01", "2026-03-13")]):
        shop.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:10", "--po", f"A{n}", "--at", placed)
        shop.ok("order", "receive", f"A{n}", "--line", "TEE-M:4", "--at", placed)  # a first part at once
        shop.ok("order", "receive", f"A{n}", "--at", received)
    shop.ok("order", "create", "--supplier", "acme", "--line", "TEE-M:10", "--po", "OPEN", "--at", "2026-04-01")
    shop.ok("order", "receive", "OPEN", "--line", "TEE-M:5", "--at", "2026-04-20")  # open: not measured yet
    shop.ok("order", "create", "--supplier", "beta", "--line", "MILK:10", "--po", "B0", "--at", "2026-01-01")
    shop.ok("order", "receive", "B0", "--at", "2026-01-03")
    state = replay(open_ledger(shop.root))
    got = purchasing.lead_times(state)
    assert set(got) == {"acme"}
    lt = got["acme"]
    assert (lt.n, lt.mean) == (3, 12.0)  # 10, 14, 12 days to the last receipt
    assert lt.std == pytest.approx(2.0)
    assert purchasing.lead_times(state, min_receipts=1)["beta"] == purchasing.LeadTime("beta", 2.0, 0.0, 1)


@pytest.mark.parametrize("args", [["order", "--help"], ["order", "create", "--help"], ["report", "suppliers", "--help"]])
def test_help_loads_nothing_of_the_library(args: list[str]) -> None:
    from test_startup import heavy, library, loaded

    code, modules = loaded(*args)
    assert code == 0
    assert not heavy(modules) and not library(modules), heavy(modules) | library(modules)


def test_order_list_loads_neither_rich_nor_tomlkit_for_json(ordered: Shop) -> None:
    from test_startup import loaded

    code, modules = loaded("-L", str(ordered.root), "order", "list", "--format", "json")
    assert code == 0
    assert not {m for m in modules if m.split(".")[0] in ("rich", "tomlkit", "pydantic")}


def test_help_examples_run(shop: Shop) -> None:
    shop.ok("item", "add", "TEE-L", "--name", "T-shirt L", "--cost", "6.40")
    r = shop.run("order", "create", "--supplier", "acme", "--line", "TEE-M:100:6.20", "--line", "MILK:50",
                 "--expected", "2026-12-10", "--po", "PO-20261125-001", "--at", "2026-11-25")
    assert r.code == 0, r.err
    shop.ok("order", "receive", "PO-20261125-001", "--line", "TEE-M:60", "--lot", "L2611", "--at", "2026-11-26")
    shop.ok("order", "cancel", "PO-20261125-001", "--sku", "TEE-M", "--qty", "40", "--note", "supplier short", "--at", "2026-11-26")
    shop.ok("order", "show", "PO-20261125-001")
