"""End to end: every command of the ledger core as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import tomllib
from pathlib import Path

import pytest
from conftest import BIN, Shop
from typer.testing import CliRunner

from invctl.cli.main import app

ULID_LEN = 26


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-xdist workers have COLUMNS=80, which folds long names in tables.
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """invctl in process without the fixture's -L (for init and ledger discovery)."""
    r = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def events(shop: Shop) -> list[dict]:
    return [json.loads(line) for line in shop.journal_bytes().decode().splitlines()]


def stock(shop: Shop, *args: str) -> list[dict]:
    return json.loads(shop.ok("stock", *args, "--format", "json"))


def row(shop: Shop, sku: str, loc: str = "main", *args: str) -> dict:
    rows = [r for r in stock(shop, sku, *args) if r["loc"] == loc]
    assert len(rows) == 1, rows
    return rows[0]


def one_id(out: str) -> str:
    lines = out.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) == ULID_LEN, out
    return lines[0]


# --- init -----------------------------------------------------------------------------


def test_init_writes_a_git_ready_ledger(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    code, _, err = invoke("init", str(folder), "--currency", "EUR", "--timezone", "Europe/Berlin",
                          "--location", "main", "--location", "store2", "--no-git")
    assert code == 0, err
    settings = tomllib.loads((folder / "invctl.toml").read_text())
    assert settings["currency"] == "EUR"
    assert settings["costing"] == "fifo"
    assert settings["timezone"] == "Europe/Berlin"
    assert settings["locations"] == ["main", "store2"]
    assert tomllib.loads((folder / "items.toml").read_text()) == {}
    assert tomllib.loads((folder / "suppliers.toml").read_text()) == {}
    assert (folder / "journal").is_dir()
    assert "journal/** merge=union" in (folder / ".gitattributes").read_text().splitlines()
    assert ".invctl/" in (folder / ".gitignore").read_text().splitlines()


def test_init_adds_only_missing_git_rules_to_files_already_there(tmp_path: Path) -> None:
    """A folder with its own .gitattributes and .gitignore (one rule already there): init
    keeps them as they are and adds each missing rule once, with its comment."""
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / ".gitattributes").write_text("*.pdf binary\njournal/** merge=union\n")
    (folder / ".gitignore").write_text("*.bak")
    code, _, err = invoke("init", str(folder), "--currency", "EUR", "--no-git")
    assert code == 0, err
    attributes = (folder / ".gitattributes").read_text()
    assert attributes.startswith("*.pdf binary\njournal/** merge=union\n# Items, suppliers and settings")
    assert attributes.count("journal/** merge=union") == 1 and attributes.count("merge=invctl-toml") == 3
    assert (folder / ".gitignore").read_text() == "*.bak\n# Local only: replay cache, write lock, alert state.\n.invctl/\n"


def test_init_refuses_an_existing_ledger(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    assert invoke("init", str(folder), "--no-git", "--timezone", "UTC")[0] == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    code, _, err = invoke("init", str(folder), "--no-git", "--currency", "USD")
    assert code == 1
    assert "exists already" in err and "invctl.toml" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_init_options_and_git(tmp_path: Path, has_git: bool) -> None:
    folder = tmp_path / "jp"
    code, _, err = invoke("init", str(folder), "--currency", "jpy", "--costing", "average", "--timezone", "Asia/Tokyo")
    assert code == 0, err
    settings = tomllib.loads((folder / "invctl.toml").read_text())
    assert (settings["currency"], settings["costing"], settings["locations"]) == ("JPY", "average", ["main"])
    assert (folder / ".git").exists()


def test_init_refuses_bad_settings(tmp_path: Path) -> None:
    code, _, err = invoke("init", str(tmp_path / "x"), "--no-git", "--timezone", "Mars/Base")
    assert code == 1 and "unknown time zone" in err
    code, _, err = invoke("init", str(tmp_path / "y"), "--no-git", "--costing", "lifo")
    assert code == 2 and "lifo" in err  # a usage error: typer lists the choices
    assert not (tmp_path / "x" / "invctl.toml").exists()


# --- the catalog and suppliers ---------------------------------------------------------


def test_item_add_list_show_set(shop: Shop) -> None:
    shop.ok("item", "add", "CAP", "--name", "Cap", "--category", "apparel", "--price", "12.00",
            "--cost", "4.10", "--supplier", "acme", "--alias", "cap-red", "--max-stock", "50")
    items = json.loads(shop.ok("item", "list", "--format", "json"))
    assert [i["sku"] for i in items] == ["CAP", "MILK", "TEE-M"]
    apparel = json.loads(shop.ok("item", "list", "--category", "apparel", "--format", "json"))
    assert {i["sku"] for i in apparel} == {"CAP", "TEE-M"}
    cap = json.loads(shop.ok("item", "show", "CAP", "--format", "json"))[0]
    assert cap["price"] == "12.00" and cap["cost"] == "4.10" and cap["supplier"] == "acme"
    assert cap["max_stock"] == 50 and cap["aliases"] == "cap-red"
    shop.ok("item", "set", "CAP", "--price", "13.50", "--reorder-point", "5")
    cap = json.loads(shop.ok("item", "show", "CAP", "--format", "json"))[0]
    assert cap["price"] == "13.50" and cap["reorder_point"] == 5 and cap["name"] == "Cap"
    table = shop.ok("item", "show", "TEE-M")
    assert "T-shirt M" in table and "On hand" in table  # the catalog entry and its stock
    csv_rows = list(csv.DictReader(io.StringIO(shop.ok("item", "list", "--format", "csv"))))
    assert {r["sku"]: r["price"] for r in csv_rows}["TEE-M"] == "19.90"


def test_hand_edits_of_items_toml_survive_set_and_add(shop: Shop) -> None:
    path = shop.root / "items.toml"
    text = path.read_text()
    text = text.replace('[MILK]', '# Dairy-free, from the co-op.\n\n\n[MILK]  # best seller\n')
    text += "\n# hand-written note at the end\n"
    path.write_text(text)
    text = text.replace('name = "T-shirt M"\n', 'name = "T-shirt M"  # as on the label\n')
    path.write_text(text)
    shop.ok("item", "set", "MILK", "--price", "2.59")
    shop.ok("item", "add", "SOCK", "--name", "Socks")
    shop.ok("item", "set", "TEE-M", "--category", "tops", "--name", "Tee M", "--max-stock", "200")
    after = path.read_text()
    assert 'name = "Tee M"  # as on the label\n' in after
    # a new key goes after the table's last key, not below the comment that heads the next table
    assert 'max_stock = 200\n\n# Dairy-free, from the co-op.\n\n\n[MILK]  # best seller\n' in after
    assert after.endswith("# hand-written note at the end\n\n[SOCK]\nname = \"Socks\"\nunit = \"pcs\"\n")
    assert after.startswith(text.split("[TEE-M]")[0])  # the header comments, byte for byte
    data = tomllib.loads(after)
    assert data["MILK"]["price"] == "2.59" and data["TEE-M"]["category"] == "tops"
    assert data["TEE-M"]["max_stock"] == 200 and data["SOCK"]["name"] == "Socks"


def test_supplier_add_list_show_set(shop: Shop) -> None:
    path = shop.root / "suppliers.toml"
    path.write_text(path.read_text() + "\n# our second source\n")
    shop.ok("supplier", "add", "bolt", "--name", "Bolt & Co", "--lead-time", "7", "--email", "orders@bolt.example")
    rows = json.loads(shop.ok("supplier", "list", "--format", "json"))
    assert [r["supplier"] for r in rows] == ["acme", "bolt"]
    shop.ok("supplier", "set", "bolt", "--lead-time", "10", "--phone", "+49 30 1234")
    bolt = json.loads(shop.ok("supplier", "show", "bolt", "--format", "json"))
    assert bolt == [{"supplier": "bolt", "name": "Bolt & Co", "lead_time": 10,
                     "email": "orders@bolt.example", "phone": "+49 30 1234"}]
    assert "# our second source\n" in path.read_text()
    assert "ACME Textiles" in shop.ok("supplier", "show", "acme")


# --- recording movements --------------------------------------------------------------


def test_receive_with_lot_expiry_po_and_supplier(shop: Shop) -> None:
    rid = one_id(shop.ok("receive", "MILK", "24", "--cost", "1.05", "--supplier", "acme", "--po", "PO-7",
                         "--lot", "B12", "--expires", "2099-03-31", "--note", "pallet 1", "--at", "2026-11-20"))
    [ev] = events(shop)
    assert ev == {"id": rid, "ts": "2026-11-20T00:00:00+01:00", "type": "received", "sku": "MILK", "qty": 24,
                  "loc": "main", "po": "PO-7", "supplier": "acme", "cost": "1.05", "lot": "B12",
                  "expires": "2099-03-31", "by": "tester", "note": "pallet 1"}
    assert list(ev) == ["id", "ts", "type", "sku", "qty", "loc", "po", "supplier", "cost", "lot", "expires", "by", "note"]
    r = row(shop, "MILK")
    assert (r["on_hand"], r["unit_cost"], r["value"]) == (24, "1.05", "25.20")


def test_sell(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20")
    r = shop.run("sell", "TEE-M", "3", "--price", "19.90", "--channel", "shopify", "--customer", "C-17",
                 "--region", "DE", "--order", "1001")
    assert r.code == 0
    sid = one_id(r.out)
    assert "sold 3 TEE-M" in r.err and "on hand at main: 7" in r.err
    ev = events(shop)[-1]
    assert ev["id"] == sid and ev["type"] == "sold" and ev["price"] == "19.90"
    assert (ev["channel"], ev["customer"], ev["region"], ev["order"]) == ("shopify", "C-17", "DE", "1001")
    assert row(shop, "TEE-M")["on_hand"] == 7
    shop.ok("sell", "TEE-M", "1.5", "--price", "19.90")
    assert events(shop)[-1]["qty"] == "1.5"
    assert row(shop, "TEE-M")["on_hand"] == 5.5


def test_return_restocks_at_the_orders_sale_cost(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "5.00", "--at", "2026-11-01")
    shop.ok("receive", "TEE-M", "10", "--cost", "7.00", "--at", "2026-11-02")
    shop.ok("sell", "TEE-M", "12", "--price", "19.90", "--order", "O-1", "--at", "2026-11-03")  # COGS 64.00
    shop.ok("receive", "TEE-M", "5", "--cost", "9.00", "--at", "2026-11-04")
    assert row(shop, "TEE-M")["value"] == "101.00"  # 8 x 7 + 5 x 9
    shop.ok("return", "TEE-M", "3", "--refund", "19.90", "--order", "O-1", "--at", "2026-11-05")
    r = row(shop, "TEE-M")
    assert r["on_hand"] == 16 and r["value"] == "117.00"  # + 3 x 64/12, not the current unit cost
    ev = events(shop)[-1]
    assert ev["type"] == "returned" and ev["refund"] == "19.90" and "restock" not in ev


def test_return_without_restock(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "5.00")
    shop.ok("sell", "TEE-M", "2", "--price", "19.90", "--order", "O-2")
    r = shop.run("return", "TEE-M", "1", "--refund", "19.90", "--order", "O-2", "--no-restock")
    assert r.code == 0 and "not restocked" in r.err
    assert events(shop)[-1]["restock"] is False
    assert (row(shop, "TEE-M")["on_hand"], row(shop, "TEE-M")["value"]) == (8, "40.00")


def test_adjust_down_and_up(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.00")
    shop.ok("adjust", "TEE-M", "-2", "--reason", "damaged")
    assert (row(shop, "TEE-M")["on_hand"], row(shop, "TEE-M")["value"]) == (8, "48.00")
    shop.ok("adjust", "TEE-M", "+3", "--reason", "found", "--cost", "4.00")
    assert (row(shop, "TEE-M")["on_hand"], row(shop, "TEE-M")["value"]) == (11, "60.00")
    shop.ok("adjust", "TEE-M", "1", "--reason", "found")  # at the current unit cost
    assert row(shop, "TEE-M")["on_hand"] == 12
    adj = [e for e in events(shop) if e["type"] == "adjusted"]
    assert [(e["qty"], e["reason"], e.get("cost")) for e in adj] == [(-2, "damaged", None), (3, "found", "4.00"), (1, "found", None)]


def test_count_prints_the_variance_and_the_id(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20")
    r = shop.run("count", "TEE-M", "7")
    assert r.code == 0
    cid = one_id(r.out)
    assert "TEE-M at main: counted 7, expected 10, variance -3 (-18.60 EUR)" in r.err
    assert events(shop)[-1] == {**events(shop)[-1], "id": cid, "type": "counted", "qty": 7}
    assert row(shop, "TEE-M")["on_hand"] == 7
    r = shop.run("count", "MILK", "4", "--loc", "store2")
    assert "variance +4" in r.err and row(shop, "MILK", "store2")["on_hand"] == 4


def test_count_one_lot(shop: Shop) -> None:
    shop.ok("receive", "MILK", "5", "--cost", "1.00", "--lot", "A", "--expires", "2099-01-01")
    shop.ok("receive", "MILK", "5", "--cost", "1.20", "--lot", "B", "--expires", "2099-02-01")
    r = shop.run("count", "MILK", "3", "--lot", "B")
    assert r.code == 0
    assert "counted 3, expected 5, variance -2" in r.err  # the lot counted, not the whole position
    assert row(shop, "MILK")["on_hand"] == 8


def test_count_file(shop: Shop, tmp_path: Path) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.00")
    shop.ok("receive", "MILK", "10", "--cost", "1.00")
    no_header = tmp_path / "a.csv"
    no_header.write_text("TEE-M,9\nMILK,,\n\nMILK,2,store2\n")
    r = shop.run("count", "--file", str(no_header))
    assert r.code == 0, r.err
    assert len(r.out.split()) == 2  # MILK at main was left blank: not counted
    assert (row(shop, "TEE-M")["on_hand"], row(shop, "MILK")["on_hand"], row(shop, "MILK", "store2")["on_hand"]) == (9, 10, 2)
    header = tmp_path / "b.csv"
    header.write_text("loc,sku,qty\nmain,MILK,8\nstore2,TEE-M,1\n")
    r = shop.run("count", "--file", str(header), "--at", "2026-11-30T18:00")
    assert r.code == 0, r.err
    assert (row(shop, "MILK")["on_hand"], row(shop, "TEE-M", "store2")["on_hand"]) == (8, 1)
    last = events(shop)[-2:]
    assert {e["ts"] for e in last} == {"2026-11-30T18:00:00+01:00"}


def test_count_sheet_round_trip(shop: Shop, tmp_path: Path) -> None:
    shop.ok("item", "add", "CAP", "--name", "Cap", "--category", "apparel")
    shop.ok("receive", "TEE-M", "10", "--cost", "6.00")
    table = shop.ok("count", "sheet")
    assert "TEE-M" in table and "MILK" in table
    sheet = shop.ok("count", "sheet", "--category", "apparel", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(sheet)))
    assert [r["sku"] for r in rows] == ["CAP", "TEE-M"]
    assert all(r["qty"] == "" and r["loc"] == "main" for r in rows)
    rows[1]["qty"] = "8"  # TEE-M counted; CAP left blank
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / "sheet.csv"
    path.write_text(out.getvalue())
    r = shop.run("count", "--file", str(path))
    assert r.code == 0, r.err
    assert "variance -2" in r.err and len(r.out.split()) == 1
    assert row(shop, "TEE-M")["on_hand"] == 8
    expected = list(csv.DictReader(io.StringIO(shop.ok("count", "sheet", "--expected", "--format", "csv"))))
    assert {r["sku"]: r["expected"] for r in expected}["TEE-M"] == "8"


def test_transfer_keeps_cost_lot_and_expiry(shop: Shop) -> None:
    shop.ok("receive", "MILK", "6", "--cost", "1.00", "--lot", "OLD", "--expires", "2026-01-31", "--at", "2026-01-02")
    shop.ok("receive", "MILK", "10", "--cost", "1.50", "--lot", "NEW", "--expires", "2099-01-31", "--at", "2026-01-03")
    tid = one_id(shop.ok("transfer", "MILK", "8", "--from", "main", "--to", "store2", "--at", "2026-01-04"))
    ev = events(shop)[-1]
    assert ev["id"] == tid and (ev["from"], ev["to"], ev["qty"]) == ("main", "store2", 8) and "loc" not in ev
    store2 = row(shop, "MILK", "store2")
    assert store2["on_hand"] == 8 and store2["value"] == "9.00"  # 6 x 1.00 (first to expire) + 2 x 1.50
    assert store2["available"] == 2  # the expired lot moved with its expiry
    assert row(shop, "MILK")["value"] == "12.00"
    r = shop.run("count", "MILK", "2", "--lot", "NEW", "--loc", "store2")
    assert "expected 2, variance 0" in r.err  # the lot went along


def test_void_takes_an_event_out_of_stock_and_history(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.00")
    wrong = one_id(shop.ok("receive", "TEE-M", "10", "--cost", "6.00"))
    assert row(shop, "TEE-M")["on_hand"] == 20
    r = shop.run("void", wrong, "--reason", "entered twice")
    assert r.code == 0 and f"voided {wrong}" in r.err
    vid = one_id(r.out)
    assert events(shop)[-1] == {**events(shop)[-1], "id": vid, "type": "voided", "target": wrong, "reason": "entered twice"}
    assert row(shop, "TEE-M")["on_hand"] == 10
    hist = json.loads(shop.ok("history", "TEE-M", "--format", "json"))
    assert wrong not in {h["id"] for h in hist}
    assert [h["on_hand"] for h in hist] == [10]


# --- reading --------------------------------------------------------------------------


@pytest.fixture
def stocked(shop: Shop) -> Shop:
    shop.ok("receive", "TEE-M", "100", "--cost", "6.20", "--at", "2026-10-01")
    shop.ok("receive", "MILK", "40", "--cost", "1.10", "--at", "2026-10-01")
    shop.ok("transfer", "TEE-M", "10", "--from", "main", "--to", "store2", "--at", "2026-10-15")
    shop.ok("sell", "TEE-M", "5", "--price", "19.90", "--at", "2026-11-02")
    return shop


def test_stock_json_keys_and_types(stocked: Shop) -> None:
    rows = stock(stocked)
    assert [(r["sku"], r["loc"]) for r in rows] == [("MILK", "main"), ("TEE-M", "main"), ("TEE-M", "store2")]
    for r in rows:
        assert {"sku", "name", "loc", "on_hand", "on_order", "available", "unit_cost", "value"} <= set(r)
        assert type(r["on_hand"]) is int and type(r["on_order"]) is int and type(r["available"]) is int
        assert isinstance(r["unit_cost"], str) and isinstance(r["value"], str)
    tee = rows[1]
    assert tee == {**tee, "name": "T-shirt M", "on_hand": 85, "on_order": 0, "available": 85,
                   "unit_cost": "6.20", "value": "527.00"}


def test_stock_filters(stocked: Shop) -> None:
    assert {(r["sku"], r["loc"]) for r in stock(stocked, "MILK")} == {("MILK", "main")}
    assert {r["sku"] for r in stock(stocked, "MILK", "TEE-M")} == {"MILK", "TEE-M"}
    assert {(r["sku"], r["loc"]) for r in stock(stocked, "--loc", "store2")} == {("TEE-M", "store2"), ("MILK", "store2")}
    assert {r["sku"] for r in stock(stocked, "--category", "food")} == {"MILK"}
    as_of = {(r["sku"], r["loc"]): r["on_hand"] for r in stock(stocked, "--as-of", "2026-10-14")}
    assert as_of == {("MILK", "main"): 40, ("TEE-M", "main"): 100}
    as_of = {(r["sku"], r["loc"]): r["on_hand"] for r in stock(stocked, "TEE-M", "--as-of", "2026-10-31")}
    assert as_of == {("TEE-M", "main"): 90, ("TEE-M", "store2"): 10}


def test_stock_of_a_location_only_the_journal_knows(stocked: Shop) -> None:
    with open(stocked.root / "journal/2026/2026-11.jsonl", "a") as fh:  # say, from another clone
        fh.write('{"id":"01KA0000000000000000000042","ts":"2026-11-03T10:00:00+01:00","type":"received",'
                 '"sku":"MILK","qty":4,"loc":"popup","cost":"1.10"}\n')
    rows = stock(stocked, "--loc", "popup")
    assert {(r["sku"], r["on_hand"]) for r in rows} == {("MILK", 4), ("TEE-M", 0)}
    r = stocked.run("check")
    assert r.code == 0 and "location 'popup' is not listed in invctl.toml" in r.out


def test_stock_table_and_csv(stocked: Shop) -> None:
    table = stocked.ok("stock")
    assert "Stock" in table and "T-shirt M" in table and "527.00" in table
    rows = list(csv.DictReader(io.StringIO(stocked.ok("stock", "--format", "csv"))))
    assert {(r["sku"], r["loc"]): (r["on_hand"], r["value"]) for r in rows}[("TEE-M", "store2")] == ("10", "62.00")
    assert list(rows[0])[:4] == ["sku", "name", "category", "loc"]


def test_history(stocked: Shop) -> None:
    hist = json.loads(stocked.ok("history", "TEE-M", "--format", "json"))
    for h in hist:
        assert {"id", "ts", "type", "qty", "on_hand", "value", "file", "line"} <= set(h)
    assert [(h["type"], h["qty"], h["on_hand"], h["value"]) for h in hist] == [
        ("received", 100, 100, "620.00"), ("transferred", 0, 100, "620.00"), ("sold", -5, 95, "589.00")]
    assert [(h["file"], h["line"]) for h in hist] == [
        ("journal/2026/2026-10.jsonl", 1), ("journal/2026/2026-10.jsonl", 3), ("journal/2026/2026-11.jsonl", 1)]
    main = json.loads(stocked.ok("history", "TEE-M", "--loc", "main", "--format", "json"))
    assert [h["on_hand"] for h in main] == [100, 90, 85]
    assert "received" in stocked.ok("history", "TEE-M")


def test_check_on_a_clean_ledger(stocked: Shop) -> None:
    r = stocked.run("check")
    assert r.code == 0 and r.out == "" and "ledger OK" in r.err
    assert stocked.run("check", "--format", "json").out.strip() == "[]"


# --- time, place and who --------------------------------------------------------------


def test_at_back_dates_into_the_right_month_file(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "1", "--cost", "6.00", "--at", "2026-03-05")
    shop.ok("receive", "TEE-M", "1", "--cost", "6.00", "--at", "2026-07-01T14:30")
    shop.ok("receive", "TEE-M", "1", "--cost", "6.00", "--at", "2026-04-01T00:30+05:00")  # still March in Berlin
    shop.ok("receive", "TEE-M", "1", "--cost", "6.00", "--at", "2027-01-01T00:00:00+01:00")
    files = {str(p.relative_to(shop.root)): [json.loads(x)["ts"] for x in p.read_text().splitlines()]
             for p in (shop.root / "journal").rglob("*.jsonl")}
    assert files == {
        "journal/2026/2026-03.jsonl": ["2026-03-05T00:00:00+01:00", "2026-03-31T21:30:00+02:00"],
        "journal/2026/2026-07.jsonl": ["2026-07-01T14:30:00+02:00"],
        "journal/2027/2027-01.jsonl": ["2027-01-01T00:00:00+01:00"],
    }
    assert row(shop, "TEE-M", "main", "--as-of", "2026-03-31")["on_hand"] == 2


def test_ledger_option_before_or_after_the_subcommand(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.00")
    for args in (["-L", str(shop.root), "stock", "--format", "json"],
                 ["--ledger", str(shop.root), "stock", "--format", "json"],
                 ["stock", "--format", "json", "-L", str(shop.root)],
                 ["stock", "--ledger", str(shop.root), "--format", "json"]):
        code, out, err = invoke(*args)
        assert code == 0, (args, err)
        assert {r["sku"]: r["on_hand"] for r in json.loads(out)}["TEE-M"] == 5


def test_ledger_from_env_and_from_a_subdirectory(shop: Shop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.00")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = invoke("stock", "TEE-M", "--format", "json", env={"INVCTL_LEDGER": str(shop.root)})
    assert code == 0, err
    assert json.loads(out)[0]["on_hand"] == 5
    deep = shop.root / "reports" / "2026"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    code, out, err = invoke("sell", "TEE-M", "1", "--price", "19.90")
    assert code == 0, err
    assert one_id(out) == events(shop)[-1]["id"]
    # The installed binary finds it the same way.
    p = subprocess.run([str(BIN), "stock", "TEE-M", "--format", "json"], cwd=deep, capture_output=True, text=True,
                       env={**os.environ, "INVCTL_LEDGER": ""}, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["on_hand"] == 4


def test_by_comes_from_invctl_user(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.00")
    r = shop.sh("sell", "TEE-M", "1", "--price", "19.90", env={"INVCTL_USER": "cron@shop"})
    assert r.code == 0, r.err
    assert [e["by"] for e in events(shop)] == ["tester", "cron@shop"]


def test_ref_makes_a_write_idempotent(shop: Shop, tmp_path: Path) -> None:
    first = one_id(shop.ok("receive", "TEE-M", "10", "--cost", "6.00", "--ref", "INV-1"))
    before = shop.journal_bytes()
    r = shop.run("receive", "TEE-M", "10", "--cost", "6.00", "--ref", "INV-1")
    assert r.code == 0 and one_id(r.out) == first and "already recorded" in r.err
    assert shop.journal_bytes() == before
    other = one_id(shop.ok("receive", "MILK", "10", "--cost", "1.00", "--ref", "INV-1"))  # another SKU
    assert other != first
    sale = one_id(shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--ref", "1001"))
    assert one_id(shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--ref", "1001")) == sale
    count = one_id(shop.ok("count", "TEE-M", "8", "--ref", "stocktake-11"))
    before = shop.journal_bytes()
    assert one_id(shop.ok("count", "TEE-M", "8", "--ref", "stocktake-11")) == count
    sheet = tmp_path / "c.csv"
    sheet.write_text("sku,qty\nMILK,9\n")
    ids = shop.ok("count", "--file", str(sheet), "--ref", "stocktake-11").split()
    assert ids[0] != count  # another SKU under the same ref
    after_file = shop.journal_bytes()
    assert shop.ok("count", "--file", str(sheet), "--ref", "stocktake-11").split() == ids
    assert shop.journal_bytes() == after_file != before
    void = one_id(shop.ok("void", other, "--reason", "typo", "--ref", "fix-1"))
    assert one_id(shop.ok("void", other, "--reason", "typo", "--ref", "fix-1")) == void
    assert row(shop, "TEE-M")["on_hand"] == 8


def test_dry_run_appends_nothing(shop: Shop, tmp_path: Path) -> None:
    rid = one_id(shop.ok("receive", "TEE-M", "10", "--cost", "6.00"))
    before = shop.journal_bytes()
    for args in (["receive", "TEE-M", "5", "--cost", "6.00"], ["sell", "TEE-M", "2", "--price", "19.90"],
                 ["return", "TEE-M", "1"], ["adjust", "TEE-M", "-1", "--reason", "lost"], ["count", "TEE-M", "3"],
                 ["transfer", "TEE-M", "2", "--from", "main", "--to", "store2"], ["void", rid, "--reason", "x"]):
        r = shop.run(*args, "--dry-run")
        assert r.code == 0, (args, r.err)
        assert "dry run" in r.err and r.out == "", args  # no id: nothing was appended
    assert shop.journal_bytes() == before
    r = shop.run("sell", "TEE-M", "50", "--price", "19.90", "--dry-run")
    assert r.code == 1 and "only 10 TEE-M on hand" in r.err  # still checked
    assert shop.journal_bytes() == before


def test_fefo_sells_the_lot_that_expires_first(shop: Shop) -> None:
    shop.ok("receive", "MILK", "5", "--cost", "1.00", "--lot", "L-LATE", "--expires", "2099-03-01", "--at", "2026-10-01")
    shop.ok("receive", "MILK", "5", "--cost", "2.00", "--lot", "L-SOON", "--expires", "2099-01-01", "--at", "2026-10-02")
    shop.ok("receive", "MILK", "5", "--cost", "3.00", "--at", "2026-10-03")
    shop.ok("sell", "MILK", "6", "--price", "2.49", "--at", "2026-10-05")
    r = row(shop, "MILK")
    assert (r["on_hand"], r["value"]) == (9, "19.00")  # took 5 x 2.00 then 1 x 1.00
    assert "expected 4, variance 0" in shop.run("count", "MILK", "4", "--lot", "L-LATE").err


def test_fifo_without_lots(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "10", "--cost", "5.00", "--at", "2026-10-01")
    shop.ok("receive", "TEE-M", "10", "--cost", "7.00", "--at", "2026-10-02")
    shop.ok("sell", "TEE-M", "15", "--price", "19.90", "--at", "2026-10-03")
    r = row(shop, "TEE-M")
    assert (r["on_hand"], r["unit_cost"], r["value"]) == (5, "7.00", "35.00")


def test_average_costing(shop: Shop) -> None:
    path = shop.root / "invctl.toml"
    path.write_text(path.read_text().replace('costing = "fifo"', 'costing = "average"'))
    shop.ok("receive", "TEE-M", "10", "--cost", "5.00", "--at", "2026-10-01")
    shop.ok("receive", "TEE-M", "10", "--cost", "7.00", "--at", "2026-10-02")
    shop.ok("sell", "TEE-M", "5", "--price", "19.90", "--at", "2026-10-03")
    assert row(shop, "TEE-M")["value"] == "90.00"
    shop.ok("receive", "TEE-M", "5", "--cost", "10.00", "--at", "2026-10-04")
    r = row(shop, "TEE-M")
    assert (r["on_hand"], r["unit_cost"], r["value"]) == (20, "7.00", "140.00")
    shop.ok("receive", "TEE-M", "1", "--cost", "0.01", "--at", "2026-10-05")
    shop.ok("sell", "TEE-M", "7", "--price", "19.90", "--at", "2026-10-06")
    r = row(shop, "TEE-M")
    assert (r["on_hand"], r["unit_cost"], r["value"]) == (14, "6.67", "93.34")  # 140.01 x 14/21


# --- output for scripts and terminals ----------------------------------------------------


def test_piped_output_has_no_escapes(stocked: Shop) -> None:
    env = {"NO_COLOR": "", "TERM": "xterm-256color"}  # an empty NO_COLOR is not set
    for args in (["stock"], ["history", "TEE-M"], ["count", "sheet"], ["sell", "NOPE", "1", "--price", "1"], ["sell"]):
        r = stocked.sh(*args, env=env)
        assert r.out + r.err and "\x1b" not in r.out + r.err, args


def _on_a_terminal(shop: Shop, args: list[str], env: dict[str, str]) -> bytes:
    main, sub = pty.openpty()
    try:
        p = subprocess.Popen([str(BIN), *args], cwd=shop.root, stdin=sub, stdout=sub, stderr=sub, env=env)
        os.close(sub)
        out = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=60)
        return out
    finally:
        os.close(main)


def test_no_color_on_a_terminal_has_no_escapes(stocked: Shop) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    assert b"\x1b[" in _on_a_terminal(stocked, ["stock"], env)  # rich styles a terminal's table ...
    env["NO_COLOR"] = "1"
    for args in (["stock"], ["history", "TEE-M"], ["sell"], ["sell", "NOPE", "1", "--price", "1"]):
        out = _on_a_terminal(stocked, args, env)
        assert out and b"\x1b" not in out, (args, out)  # ... but not with NO_COLOR


def test_installed_binary_round_trip(shop: Shop) -> None:
    r = shop.sh("receive", "TEE-M", "12", "--cost", "6.20", "--lot", "L1")
    assert r.code == 0, r.err
    rid = one_id(r.out)
    r = shop.sh("stock", "TEE-M", "--format", "json")
    assert r.code == 0 and json.loads(r.out)[0]["on_hand"] == 12
    r = shop.sh("void", rid, "--reason", "test")
    assert r.code == 0
    r = shop.sh("check")
    assert r.code == 0 and "ledger OK" in r.err
