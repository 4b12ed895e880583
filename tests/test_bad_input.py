"""Bad input: one clear line on stderr, exit 1 (2 for usage), no traceback, nothing appended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Shop

GOOD = '{"id":"01KA0000000000000000000001","ts":"2026-11-02T10:00:00+01:00","type":"received","sku":"TEE-M","qty":10,"loc":"main","cost":"6.20","by":"tester"}'
NOV = "journal/2026/2026-11.jsonl"


def refused(shop: Shop, *args: str, code: int = 1) -> str:
    """Run a command that must be refused; returns its one error line."""
    before = shop.journal_bytes()
    r = shop.run(*args)
    assert r.code == code, (args, r.code, r.out, r.err)
    assert "Traceback" not in r.out + r.err
    assert shop.journal_bytes() == before, f"{args} changed the journal"
    if code == 1:
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), r.err
        assert r.out == ""
        return lines[0]
    return r.err


@pytest.fixture
def stocked(shop: Shop) -> Shop:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20", "--at", "2026-11-01")
    return shop


# --- quantities and money ---------------------------------------------------------------


@pytest.mark.parametrize("qty", ["0", "-1", "-0.5", "abc", "1,5", "NaN", "inf", "", "1e999999"])
def test_bad_quantity(stocked: Shop, qty: str) -> None:
    err = refused(stocked, "sell", "TEE-M", qty, "--price", "19.90")
    assert "quantity" in err
    if qty in ("0", "-1", "-0.5"):
        assert f"must be greater than 0, not {qty}" in err
    elif qty == "1e999999":
        assert "too large" in err
    else:
        assert "is not a number" in err


def test_bad_quantity_in_every_writer(stocked: Shop) -> None:
    assert "greater than 0" in refused(stocked, "receive", "TEE-M", "0", "--cost", "6.20")
    assert "greater than 0" in refused(stocked, "receive", "TEE-M", "-3", "--cost", "6.20")
    assert "greater than 0" in refused(stocked, "return", "TEE-M", "-1")
    assert "greater than 0" in refused(stocked, "transfer", "TEE-M", "0", "--from", "main", "--to", "store2")
    assert "must not be 0" in refused(stocked, "adjust", "TEE-M", "0", "--reason", "lost")
    assert "not a number" in refused(stocked, "adjust", "TEE-M", "two", "--reason", "lost")
    assert "0 or more, not -1" in refused(stocked, "count", "TEE-M", "-1")


@pytest.mark.parametrize(("option", "args"), [
    ("--cost", ["receive", "TEE-M", "1", "--cost", "6.205"]),
    ("--price", ["sell", "TEE-M", "1", "--price", "6.205"]),
    ("--refund", ["return", "TEE-M", "1", "--refund", "6.205"]),
    ("--cost", ["adjust", "TEE-M", "1", "--reason", "found", "--cost", "6.205"]),
    ("--price", ["item", "set", "TEE-M", "--price", "6.205"]),
])
def test_money_with_too_many_decimals(stocked: Shop, option: str, args: list[str]) -> None:
    items = (stocked.root / "items.toml").read_bytes()
    err = refused(stocked, *args)
    assert f"{option} 6.205 has more decimals than EUR allows (2)" in err and "round it" in err
    assert (stocked.root / "items.toml").read_bytes() == items


def test_a_jpy_ledger_has_no_decimals(tmp_path: Path) -> None:
    from invctl.create import init_ledger

    init_ledger(tmp_path / "jp", currency="JPY", timezone="Asia/Tokyo", git=False)
    shop = Shop(tmp_path / "jp")
    shop.ok("item", "add", "TEA", "--name", "Sencha")
    err = refused(shop, "receive", "TEA", "1", "--cost", "100.5")
    assert "--cost 100.5 has more decimals than JPY allows (0)" in err
    shop.ok("receive", "TEA", "1", "--cost", "100")
    assert json.loads(shop.ok("stock", "--format", "json"))[0]["value"] == "100"


@pytest.mark.parametrize("amount", ["-1", "six", "1e13"])
def test_bad_amount(stocked: Shop, amount: str) -> None:
    err = refused(stocked, "receive", "TEE-M", "1", "--cost", amount)
    assert "--cost" in err


# --- names: SKUs, suppliers, locations, reasons -------------------------------------------


def test_unknown_sku_suggests_the_near_one(stocked: Shop) -> None:
    err = refused(stocked, "sell", "TEE-N", "1", "--price", "19.90")
    assert "unknown SKU 'TEE-N'" in err and "did you mean TEE-M?" in err and "invctl item add TEE-N" in err
    for args in (["receive", "tee-m", "1", "--cost", "1"], ["count", "MILKK", "1"], ["history", "TEE-X"],
                 ["item", "show", "NOPE"], ["item", "set", "NOPE", "--price", "1"]):
        err = refused(stocked, *args)
        assert "unknown" in err and ("SKU" in err or "item" in err), args


def test_unknown_supplier(stocked: Shop) -> None:
    err = refused(stocked, "receive", "TEE-M", "1", "--cost", "6.20", "--supplier", "acm")
    assert "unknown supplier 'acm'" in err and "did you mean acme?" in err
    items = (stocked.root / "items.toml").read_bytes()
    assert "unknown supplier" in refused(stocked, "item", "add", "CAP", "--name", "Cap", "--supplier", "bolt")
    assert "unknown supplier" in refused(stocked, "supplier", "show", "bolt")
    assert (stocked.root / "items.toml").read_bytes() == items


def test_unknown_location(stocked: Shop) -> None:
    err = refused(stocked, "sell", "TEE-M", "1", "--price", "19.90", "--loc", "attic")
    assert "location 'attic' is not listed in invctl.toml" in err and "main, store2" in err
    assert "--to 'attic'" in refused(stocked, "transfer", "TEE-M", "1", "--from", "main", "--to", "attic")
    assert "--from 'attic'" in refused(stocked, "transfer", "TEE-M", "1", "--from", "attic", "--to", "main")
    assert "same location" in refused(stocked, "transfer", "TEE-M", "1", "--from", "main", "--to", "main")
    assert "--loc 'attic' is not a location of this ledger" in refused(stocked, "stock", "--loc", "attic")


def test_bad_reason_and_text(stocked: Shop) -> None:
    assert "--reason 'broken' is not one of" in refused(stocked, "adjust", "TEE-M", "-1", "--reason", "broken")
    assert "only applies to positive" in refused(stocked, "adjust", "TEE-M", "-1", "--reason", "lost", "--cost", "1")
    assert "--note must not contain" in refused(stocked, "sell", "TEE-M", "1", "--price", "1", "--note", "a\nb")


def test_bad_ids_in_the_catalog(shop: Shop) -> None:
    items = (shop.root / "items.toml").read_bytes()
    assert "SKU 'TEE M' is not valid" in refused(shop, "item", "add", "TEE M", "--name", "x")
    assert "exists already" in refused(shop, "item", "add", "TEE-M", "--name", "x")
    assert "needs a name" in refused(shop, "item", "add", "CAP")
    assert "nothing to change" in refused(shop, "item", "set", "TEE-M")
    assert (shop.root / "items.toml").read_bytes() == items


# --- stock that is not there ---------------------------------------------------------------


def test_oversell_is_refused(stocked: Shop) -> None:
    err = refused(stocked, "sell", "TEE-M", "11", "--price", "19.90")
    assert "only 10 TEE-M on hand at main, cannot take 11" in err and "--allow-negative" in err
    assert "only 0 TEE-M on hand at store2" in refused(stocked, "sell", "TEE-M", "1", "--price", "1", "--loc", "store2")
    assert "cannot take 12" in refused(stocked, "adjust", "TEE-M", "-12", "--reason", "lost")


def test_transfer_more_than_at_from(stocked: Shop) -> None:
    err = refused(stocked, "transfer", "TEE-M", "11", "--from", "main", "--to", "store2")
    assert "only 10 TEE-M on hand at main, cannot take 11" in err


def test_a_back_dated_sale_that_later_events_rely_on(stocked: Shop) -> None:
    stocked.ok("sell", "TEE-M", "8", "--price", "19.90", "--at", "2026-11-10")
    err = refused(stocked, "sell", "TEE-M", "5", "--price", "19.90", "--at", "2026-11-05")
    assert "would go to -3 on 2026-11-10" in err and "later events" in err


def test_allow_negative_lets_it_through(stocked: Shop) -> None:
    stocked.ok("sell", "TEE-M", "12", "--price", "19.90", "--allow-negative")
    stocked.ok("transfer", "TEE-M", "3", "--from", "store2", "--to", "main", "--allow-negative")
    rows = {r["loc"]: r["on_hand"] for r in json.loads(stocked.ok("stock", "TEE-M", "--format", "json"))}
    assert rows == {"main": 1, "store2": -3}
    r = stocked.run("check")
    assert r.code == 0 and "goes negative" in r.out  # reported, as a warning


# --- dates and times ----------------------------------------------------------------------


def test_bad_dates(stocked: Shop) -> None:
    err = refused(stocked, "receive", "TEE-M", "1", "--cost", "1", "--expires", "2026-13-01")
    assert "--expires '2026-13-01' is not a valid date" in err and "YYYY-MM-DD" in err
    err = refused(stocked, "receive", "TEE-M", "1", "--cost", "1", "--at", "garbage")
    assert "--at 'garbage' is not a valid time" in err
    assert "--at '2026-02-30'" in refused(stocked, "sell", "TEE-M", "1", "--price", "1", "--at", "2026-02-30")
    assert "--as-of 'bad' is not a valid time" in refused(stocked, "stock", "--as-of", "bad")
    assert "--as-of '2026-02-30' is not a valid date" in refused(stocked, "stock", "--as-of", "2026-02-30")


# --- count files ---------------------------------------------------------------------------


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_count_file_names_the_line_of_an_unknown_sku(stocked: Shop, tmp_path: Path) -> None:
    # Rows are numbered by physical line, the header being line 1: a quoted line break
    # (line 2-3) and a blank line (4) count, as in an editor.
    path = write(tmp_path / "counts.csv",
                 'sku,qty,loc,name\n'          # 1
                 'TEE-M,9,main,"T-shirt\nM"\n'  # 2-3
                 '\n'                          # 4
                 'MILK,,main,left blank\n'     # 5
                 'MILK,3,store2,oat\n'         # 6
                 'TEE-X,1,main,typo\n')        # 7
    err = refused(stocked, "count", "--file", path)
    assert f"{path}:7: unknown SKU 'TEE-X'" in err and "did you mean TEE-M?" in err


def test_count_file_without_header_numbers_from_line_1(stocked: Shop, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "TEE-M,9\nMILK,1\nBAD,1\n")
    assert f"{path}:3: unknown SKU 'BAD'" in refused(stocked, "count", "--file", path)


def test_count_file_bad_quantity(stocked: Shop, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "sku,qty\nTEE-M,9\nMILK,nine\n")
    err = refused(stocked, "count", "--file", path)
    assert f"{path}:3: counted quantity 'nine' is not a number" in err
    path = write(tmp_path / "d.csv", "sku,qty\nTEE-M,-2\n")
    assert f"{path}:2: counted quantity must be 0 or more" in refused(stocked, "count", "--file", path)


def test_count_file_duplicate_rows(stocked: Shop, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "sku,qty,loc\nTEE-M,9,main\nTEE-M,1,store2\nTEE-M,8,main\n")
    err = refused(stocked, "count", "--file", path)
    assert f"{path}:4: TEE-M at main is counted twice (also on line 2)" in err


def test_count_file_other_problems(stocked: Shop, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "sku,qty,loc\nTEE-M,9,attic\n")
    assert f"{path}:2: location 'attic'" in refused(stocked, "count", "--file", path)
    path = write(tmp_path / "e.csv", "sku,qty\nTEE-M,\n")
    assert "no counts in the file" in refused(stocked, "count", "--file", path)
    path = write(tmp_path / "h.csv", "sku,counted\nTEE-M,1\n")
    assert f"{path}:1: the header needs a qty column" in refused(stocked, "count", "--file", path)
    assert "no such file" in refused(stocked, "count", "--file", str(tmp_path / "missing.csv"))
    (tmp_path / "latin1.csv").write_bytes(b"sku,qty\nTEE-\xe9,1\n")
    assert "not UTF-8" in refused(stocked, "count", "--file", str(tmp_path / "latin1.csv"))
    assert "not both" in refused(stocked, "count", "TEE-M", "--file", path)
    assert "give SKU QTY" in refused(stocked, "count", "TEE-M")


# --- voids -----------------------------------------------------------------------------------


def test_void_of_a_missing_id(stocked: Shop) -> None:
    err = refused(stocked, "void", "01KA0000000000000000000000", "--reason", "typo")
    assert "no event with id 01KA0000000000000000000000" in err and "invctl history" in err


def test_void_twice_and_void_of_a_void(stocked: Shop) -> None:
    rid = stocked.ok("receive", "TEE-M", "1", "--cost", "6.20").strip()
    vid = stocked.ok("void", rid, "--reason", "typo").strip()
    err = refused(stocked, "void", rid, "--reason", "typo")
    assert f"event {rid} is already voided (by {vid})" in err
    assert "is itself a void" in refused(stocked, "void", vid, "--reason", "undo")


def test_void_that_would_leave_stock_negative(stocked: Shop) -> None:
    rid = json.loads(stocked.ok("history", "TEE-M", "--format", "json"))[0]["id"]
    stocked.ok("sell", "TEE-M", "4", "--price", "19.90")
    assert "leaves TEE-M at main at -4" in refused(stocked, "void", rid, "--reason", "typo")


# --- usage errors (exit 2) --------------------------------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    (["sell", "TEE-M"], "Missing argument"),
    (["sell", "TEE-M", "1"], "Missing option '--price'"),
    (["receive", "TEE-M", "1", "--cost", "1", "--lott", "x"], "No such option: --lott"),
    (["stock", "--format", "xml"], "Invalid value"),
    (["frobnicate"], "No such command"),
])
def test_usage_errors_exit_2(stocked: Shop, args: list[str], says: str) -> None:
    err = refused(stocked, *args, code=2)
    assert says in err


# --- the journal, as found on disk -------------------------------------------------------------


@pytest.mark.parametrize(("bad", "reason"), [
    ("not json at all", "not valid JSON"),
    ('{"id":"01KA0000000000000000000002","ts":"2026-11-03T10:00:00+01:00","type":"received","sku":"TEE-M","cost":"6.20"}',
     "missing key `qty`"),
    ('{"id":"01KA0000000000000000000002","ts":"2026-11-03T10:00:00+01:00","type":"received","sku":"TEE-M","qty":1,"cost":6.2}',
     'amount must be a decimal string like "6.20", not a JSON number'),
    ('{"id":"01KA0000000000000000000002","ts":"2026-11-03T10:00:00+01:00","type":"received","sku":"TEE-M","qty":1.5,"cost":"6.20"}',
     "quantity must be a whole number or a decimal string"),
    ('{"id":"01KA0000000000000000000002","ts":"2026-11-03T10:00:00+01:00","type":"stolen","sku":"TEE-M","qty":1}',
     "Invalid value 'stolen'"),
    ('{"id":"01KA0000000000000000000002","ts":"2026-11-03T10:00:00","type":"received","sku":"TEE-M","qty":1,"cost":"6.20"}',
     "timestamp needs a UTC offset"),
    ('["received"]', "a line must be one JSON object, got `array`"),
])
def test_a_bad_journal_line(shop: Shop, bad: str, reason: str) -> None:
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    path.write_text(f"{GOOD}\n{bad}\n")
    before = shop.journal_bytes()
    r = shop.run("check")
    assert r.code == 1 and "Traceback" not in r.out + r.err
    assert f"{NOV}:2: {reason}" in r.out
    assert r.err.strip() == "1 error(s), 0 warning(s)"
    r = shop.run("stock", "TEE-M", "--format", "json")
    assert r.code == 0 and json.loads(r.out)[0]["on_hand"] == 10  # the bad line is left out ...
    assert r.err.startswith(f"warning: {NOV}:2: ") and "invctl check" in r.err  # ... and said so
    r = shop.run("history", "TEE-M", "--format", "json")
    assert r.code == 0 and f"{NOV}:2" in r.err
    assert shop.journal_bytes() == before


def test_money_with_too_many_decimals_in_the_journal(shop: Shop) -> None:
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    path.write_text(GOOD.replace('"6.20"', '"6.205"') + "\n")
    r = shop.run("check")
    assert r.code == 1 and f"{NOV}:1: cost 6.205 has more than 2 decimals (EUR)" in r.out


def test_a_duplicate_id(shop: Shop) -> None:
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    path.write_text(f"{GOOD}\n{GOOD}\n")
    r = shop.run("check")
    assert r.code == 1
    assert f"{NOV}:2: duplicate id 01KA0000000000000000000001 (first on {NOV}:1)" in r.out
    assert json.loads(shop.ok("stock", "TEE-M", "--format", "json"))[0]["on_hand"] == 10  # counted once


def test_the_same_type_ref_and_sku_twice(shop: Shop) -> None:
    """Two events that writers would take for one ((type, ref, sku), e.g. one import run on
    two clones, merged) both count: check names the second; a copied line (same id) is only
    a duplicate id; the same ref for another SKU or another type is fine; a voided copy is
    not reported."""
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    ref = GOOD.replace('"by":"tester"', '"by":"tester","ref":"po-7"')
    again = ref.replace("01KA0000000000000000000001", "01KA0000000000000000000002")
    milk = ref.replace("01KA0000000000000000000001", "01KA0000000000000000000003").replace("TEE-M", "MILK")
    counted = ref.replace("01KA0000000000000000000001", "01KA0000000000000000000004").replace(
        '"type":"received"', '"type":"counted"').replace(',"cost":"6.20"', "")
    path.write_text(f"{ref}\n{again}\n{ref}\n{milk}\n{counted}\n")
    r = shop.run("check")
    assert r.code == 1
    assert r.out.splitlines()[:2] == [
        f"{NOV}:2: received event with ref 'po-7' for TEE-M again (first on {NOV}:1, 01KA0000000000000000000001): both "
        "count; the same import or command on two clones? Void one of them: invctl void 01KA0000000000000000000002 "
        '--reason "recorded twice"',
        f"{NOV}:3: duplicate id 01KA0000000000000000000001 (first on {NOV}:1); remove one of the two lines",
    ]
    assert "2 error(s)" in r.err + r.out
    shop.ok("void", "01KA0000000000000000000002", "--reason", "recorded twice")
    r = shop.run("check")
    assert f"{NOV}:2:" not in r.out and "again" not in r.out


def test_unknown_sku_and_void_target_in_the_journal(shop: Shop) -> None:
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    path.write_text(GOOD.replace("TEE-M", "GHOST") + "\n"
                    '{"id":"01KA0000000000000000000009","ts":"2026-11-03T10:00:00+01:00","type":"voided","target":"01KA000000000000000000000X","reason":"x"}\n')
    r = shop.run("check")
    assert r.code == 1
    assert f"{NOV}:1: unknown SKU 'GHOST'" in r.out
    assert f"{NOV}:2: voids 01KA000000000000000000000X, which is not in the journal" in r.out


def test_voids_of_voids_and_voids_twice(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """check knows the kind of every void target and which were voided already; it keeps
    ids as hashes, so two different ids with one hash must not read as a duplicate."""
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    void = '{{"id":"{}","ts":"2026-11-0{}T10:00:00+01:00","type":"voided","target":"{}","reason":"x"}}\n'
    path.write_text(GOOD + "\n"
                    + void.format("01KA0000000000000000000007", 3, "01KA0000000000000000000001")
                    + void.format("01KA0000000000000000000008", 4, "01KA0000000000000000000007")
                    + void.format("01KA0000000000000000000009", 5, "01KA0000000000000000000001"))
    r = shop.run("check")
    assert r.code == 1
    assert f"{NOV}:3: voids 01KA0000000000000000000007, which is itself a void" in r.out
    assert f"{NOV}:4: voids 01KA0000000000000000000001 again (already voided on {NOV}:2)" in r.out
    assert "duplicate id" not in r.out
    import builtins

    monkeypatch.setattr(builtins, "hash", lambda value: 42)  # every id collides
    from invctl.check import check_ledger
    from invctl.settings import open_ledger

    assert not [p for p in check_ledger(open_ledger(shop.root)) if "duplicate id" in p.message]


def test_a_torn_last_line(shop: Shop) -> None:
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    tail = GOOD[:60].replace("01", "02", 1)
    path.write_text(f"{GOOD}\n{tail}")
    r = shop.run("check")
    assert r.code == 1 and f"{NOV}:2: torn last line ({len(tail)} bytes, no newline" in r.out
    r = shop.run("stock", "TEE-M", "--format", "json")
    assert r.code == 0 and json.loads(r.out)[0]["on_hand"] == 10
    assert f"warning: {NOV}:2: torn last line" in r.err
    r = shop.run("check", "--repair")
    assert r.code == 0, r.out
    assert f"{NOV}:2: torn last line ({len(tail)} bytes) set aside to .invctl/torn/" in r.err
    assert path.read_text() == GOOD + "\n"
    [aside] = (shop.root / ".invctl" / "torn").iterdir()
    assert aside.read_text() == tail  # kept, not deleted
    assert shop.run("check").code == 0


def test_a_writer_sets_a_torn_tail_aside_first(shop: Shop) -> None:
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    tail = '{"id":"02KA0000000000000000000001","ts":"2026-11-0'
    path.write_text(f"{GOOD}\n{tail}")
    r = shop.run("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-04")
    assert r.code == 0, r.err
    assert f"note: {NOV}:2: torn last line" in r.err
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == 2 and lines[0] == GOOD + "\n" and lines[1].endswith("\n")
    assert json.loads(lines[1])["id"] == r.out.strip()  # never glued onto the fragment
    [aside] = (shop.root / ".invctl" / "torn").iterdir()
    assert aside.read_text() == tail
    assert shop.run("check").code == 0
    assert json.loads(shop.ok("stock", "TEE-M", "--format", "json"))[0]["on_hand"] == 15


# --- the ledger folder and its TOML files ---------------------------------------------------------


def test_broken_invctl_toml(shop: Shop) -> None:
    (shop.root / "invctl.toml").write_text('currency = "EUR"\ncosting = = "fifo"\n')
    for args in (["stock"], ["receive", "TEE-M", "1", "--cost", "1"], ["check"]):
        err = refused(shop, *args)
        assert "invctl.toml:2: not valid TOML" in err and "fix the file" in err
    (shop.root / "invctl.toml").write_text('currency = "EURO"\n')
    assert "invctl.toml: currency: currency must be an ISO 4217 code" in refused(shop, "stock")
    (shop.root / "invctl.toml").write_text('costing = "lifo"\n')
    assert "invctl.toml: costing:" in refused(shop, "stock")
    (shop.root / "invctl.toml").write_text('timezone = "Europe/Berlim"\n')
    assert "unknown time zone 'Europe/Berlim'" in refused(shop, "stock")


def test_broken_items_toml(shop: Shop) -> None:
    path = shop.root / "items.toml"
    good = path.read_text()
    path.write_text(good + "\n[CAP\nname = 'Cap'\n")
    lines = good.count("\n") + 2
    err = refused(shop, "receive", "TEE-M", "1", "--cost", "1")
    assert f"items.toml:{lines}: not valid TOML" in err
    r = shop.run("check")
    assert r.code == 1 and r.out.startswith(f"items.toml:{lines}: not valid TOML")
    path.write_text(good + "\n[CAP]\nprice = '1.00'\n")
    assert "items.toml: [CAP] name: Field required" in refused(shop, "stock")
    path.write_text(good + "\n[CAP]\nname = 'Cap'\nprice = -1\n")
    assert "items.toml: [CAP] price: must be a number >= 0" in refused(shop, "item", "list")
    (shop.root / "suppliers.toml").write_text("acme = 1\n")
    path.write_text(good)
    r = shop.run("check")
    assert r.code == 1 and r.out.startswith("suppliers.toml: 'acme' must be a table")


def test_ledger_option_pointing_at_the_wrong_thing(shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from invctl.cli.main import app

    def run(*args: str) -> tuple[int, str]:
        r = CliRunner().invoke(app, list(args), catch_exceptions=False)
        assert "Traceback" not in r.stdout + r.stderr
        return r.exit_code, r.stderr.strip()

    code, err = run("-L", str(shop.root / "invctl.toml"), "stock")
    assert code == 1 and err == f"error: --ledger {shop.root / 'invctl.toml'}: is a file; give the ledger folder (the one holding invctl.toml)"
    (tmp_path / "empty").mkdir()
    code, err = run("stock", "-L", str(tmp_path / "empty"))
    assert code == 1 and "no invctl.toml there" in err and "invctl init" in err
    code, err = run("stock", "-L", str(tmp_path / "nowhere"))
    assert code == 1 and "no such folder" in err
    monkeypatch.setenv("INVCTL_LEDGER", str(tmp_path / "empty"))
    code, err = run("stock")
    assert code == 1 and err.startswith(f"error: $INVCTL_LEDGER {tmp_path / 'empty'}: no invctl.toml there")
    monkeypatch.delenv("INVCTL_LEDGER")
    monkeypatch.chdir(tmp_path / "empty")
    code, err = run("stock")
    assert code == 1 and "no ledger here" in err and "invctl init" in err


def test_a_file_that_cannot_be_written(stocked: Shop) -> None:
    before = stocked.journal_bytes()
    (stocked.root / "journal/2026/2026-12.jsonl").mkdir()  # a folder where the month file goes
    r = stocked.run("receive", "TEE-M", "1", "--cost", "6.20", "--at", "2026-12-01")
    assert r.code == 1 and r.out == "" and r.err.count("\n") == 1
    assert "journal/2026/2026-12.jsonl: Is a directory" in r.err
    (stocked.root / "journal/2026/2026-12.jsonl").rmdir()
    assert stocked.journal_bytes() == before
    lock = stocked.root / ".invctl" / "lock"
    lock.unlink()
    lock.mkdir()
    assert ".invctl/lock" in refused(stocked, "sell", "TEE-M", "1", "--price", "19.90")


def test_back_dated_sale_refused_even_when_a_later_receipt_refills(shop: Shop) -> None:
    # 10 in, 10 out, 10 in: the final stock is fine, but a sale slipped in before the
    # first sale would leave that sale short, so it is refused.
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--at", "2026-11-01")
    shop.ok("sell", "MILK", "10", "--price", "2.00", "--at", "2026-11-10")
    shop.ok("receive", "MILK", "10", "--cost", "1.00", "--at", "2026-11-20")
    before = shop.journal_bytes()
    err = refused(shop, "sell", "MILK", "5", "--price", "2.00", "--at", "2026-11-05")
    assert "MILK at main would go to -5 on 2026-11-10" in err
    assert shop.journal_bytes() == before
    shop.ok("sell", "MILK", "5", "--price", "2.00", "--at", "2026-11-21")
