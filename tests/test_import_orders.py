"""invctl import orders: Shopify and mapped CSV exports as sold/returned events, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Shop

DATA = Path(__file__).parent / "data" / "shopify_orders.csv"
HEADER = "Name,Email,Financial Status,Created at,Currency,Cancelled at,Shipping Province,Shipping Country,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount\n"


def _aliases(shop: Shop) -> None:
    items = shop.root / "items.toml"
    text = items.read_text(encoding="utf-8").replace('name = "Oat milk 1l"', 'name = "Oat milk 1l"\naliases = ["OAT-1L"]')
    items.write_text(text + '\n[BUNDLE]\nname = "Tee and milk"\nprice = 22\ncomponents = { TEE-M = 1, MILK = 2 }\n',
                     encoding="utf-8")


def events(shop: Shop) -> list[dict[str, object]]:
    return [json.loads(line) for line in shop.journal_bytes().decode().splitlines() if line.strip()]


@pytest.fixture
def ashop(shop: Shop) -> Shop:
    _aliases(shop)
    return shop


def test_shopify_sample_end_to_end(ashop: Shop) -> None:
    r = ashop.run("import", "orders", str(DATA), "--format", "shopify")
    assert r.code == 0, r.err
    evs = events(ashop)
    sold = [e for e in evs if e["type"] == "sold"]
    ret = [e for e in evs if e["type"] == "returned"]
    assert len(r.out.split()) == len(evs) == 5
    first = sold[0]
    assert first["sku"] == "TEE-M" and first["qty"] == 2 and first["price"] == "17.90"  # 19.90 - 4.00 / 2
    assert first["ts"] == "2026-10-03T14:05:11+02:00"
    assert first["order"] == "#1001" and first["ref"] == "shopify:#1001:1" and first["channel"] == "shopify"
    assert first["region"] == "DE-BY"
    assert str(first["customer"]).startswith("C-") and len(str(first["customer"])) == 12
    assert "example" not in ashop.journal_bytes().decode().lower()  # no e-mail in the journal
    assert sold[1]["ref"] == "shopify:#1001:2" and sold[1]["customer"] == first["customer"]
    # #1004 is the same customer (case differs), through the alias OAT-1L
    assert [e["sku"] for e in sold] == ["TEE-M", "MILK", "TEE-M", "MILK"]
    assert sold[3]["customer"] == first["customer"] and sold[3]["qty"] == 4
    assert sold[2]["region"] == "AT"
    assert [(e["sku"], e["refund"], e["ref"]) for e in ret] == [("TEE-M", "19.90", "shopify-refund:#1002:1")]
    assert "3 orders, 4 lines, 5 new events, 0 skipped duplicates, 1 cancelled, 0 unknown SKUs" in r.err
    assert "#1004 is partially refunded" in r.err
    sales = json.loads(ashop.ok("report", "sales", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json"))
    tee = next(row for row in sales if row["sku"] == "TEE-M")
    assert (tee["units"], tee["gross_sales"], tee["returns"], tee["net_sales"], tee["orders"]) == (
        3, "55.70", "19.90", "35.80", 2)
    milk = next(row for row in sales if row["sku"] == "MILK")
    assert (milk["units"], milk["gross_sales"]) == (5, "12.45")


def test_twice_is_once_and_overlapping_exports(ashop: Shop, tmp_path: Path) -> None:
    ashop.ok("import", "orders", str(DATA))
    before = ashop.journal_bytes()
    r = ashop.run("import", "orders", str(DATA))
    assert r.code == 0 and r.out == ""
    assert "0 new events, 5 skipped duplicates" in r.err
    assert ashop.journal_bytes() == before
    lines = DATA.read_text(encoding="utf-8").splitlines(keepends=True)
    newer = tmp_path / "newer.csv"  # the last order again, plus a new one
    newer.write_text(lines[0] + lines[-1] + _row(lines[0], "#1005", "TEE-M", "1", "19.90"), encoding="utf-8")
    r = ashop.run("import", "orders", str(newer))
    assert r.code == 0, r.err
    assert "1 new events, 1 skipped duplicates" in r.err
    assert len(events(ashop)) == 6


def _row(header: str, name: str, sku: str, qty: str, price: str, **extra: str) -> str:
    cols = header.rstrip("\r\n").split(",")
    cells = dict.fromkeys(cols, "")
    cells.update({"Name": name, "Created at": "2026-10-07 10:00:00 +0200", "Lineitem quantity": qty,
                  "Lineitem sku": sku, "Lineitem price": price, "Currency": "EUR", "Email": "a@b.c", **extra})
    return ",".join(cells[c] for c in cols) + "\r\n"


def _csv(tmp_path: Path, *rows: str, name: str = "o.csv") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + "".join(rows), encoding="utf-8")
    return p


def test_cancelled_refunded_and_kits(ashop: Shop, tmp_path: Path) -> None:
    f = _csv(tmp_path,
             "#1,a@b.c,refunded,2026-10-01 10:00:00 +0200,EUR,,,DE,1,Bundle,22.00,BUNDLE,0\n",
             "#2,a@b.c,paid,2026-10-01 11:00:00 +0200,EUR,2026-10-01 12:00:00 +0200,,DE,1,T,19.90,TEE-M,0\n")
    r = ashop.run("import", "orders", str(f))
    assert r.code == 0, r.err
    evs = events(ashop)
    assert [(e["type"], e["sku"], e["qty"]) for e in evs] == [
        ("sold", "TEE-M", 1), ("sold", "MILK", 2), ("returned", "TEE-M", 1), ("returned", "MILK", 2)]
    assert {e["ref"] for e in evs if e["type"] == "sold"} == {"shopify:#1:1"}
    assert "1 cancelled" in r.err


def test_unknown_sku_refuses_unless_skip_bad(ashop: Shop, tmp_path: Path) -> None:
    f = _csv(tmp_path,
             "#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,T,19.90,TEE-M,0\n",
             "#2,a@b.c,paid,2026-10-01 11:00:00 +0200,EUR,,,DE,1,Mystery,5.00,NOPE,0\n",
             "#3,a@b.c,paid,2026-10-01 11:00:00 +0200,EUR,,,DE,x,T,19.90,TEE-M,0\n")
    r = ashop.run("import", "orders", str(f))
    assert r.code == 1 and ":3: unknown SKU 'NOPE'" in r.err and "1 more" in r.err and "Traceback" not in r.err
    assert ashop.journal_bytes() == b""
    r = ashop.run("import", "orders", str(f), "--skip-bad")
    assert r.code == 0
    assert "o.csv:3: unknown SKU" in r.err and "o.csv:4: Lineitem quantity 'x'" in r.err
    assert len(events(ashop)) == 1


def test_prices_out_of_range_name_their_row(ashop: Shop, tmp_path: Path) -> None:
    """A price of 10^12 or more (an exponent, a misplaced column) or below 0 is out of
    range, a word is not a number: each named with its row, nothing imported."""
    f = _csv(tmp_path,
             "#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,T,1e13,TEE-M,0\n",
             "#2,a@b.c,paid,2026-10-01 11:00:00 +0200,EUR,,,DE,1,T,-1,TEE-M,0\n",
             "#3,a@b.c,paid,2026-10-01 11:00:00 +0200,EUR,,,DE,1,T,free,TEE-M,0\n")
    r = ashop.run("import", "orders", str(f), "--skip-bad")
    assert r.code == 0 and "Traceback" not in r.err
    assert "o.csv:2: Lineitem price 1e13 is out of range" in r.err
    assert "o.csv:3: Lineitem price -1 is out of range" in r.err
    assert "o.csv:4: Lineitem price 'free' is not a number" in r.err
    assert ashop.journal_bytes() == b""


def test_dry_run_writes_nothing(ashop: Shop) -> None:
    ashop.ok("receive", "MILK", "1", "--cost", "1")
    before = ashop.journal_bytes()
    r = ashop.run("import", "orders", str(DATA), "--dry-run")
    assert r.code == 0, r.err
    assert ashop.journal_bytes() == before
    shown = [json.loads(line) for line in r.out.splitlines()]
    assert len(shown) == 5 and shown[0]["type"] == "sold"
    assert "dry run: nothing appended" in r.err


@pytest.mark.parametrize(("content", "expect"), [
    (b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode() + b"#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,T,19.90,TEE-M,0\r\n", None),
    (HEADER.encode() + b'#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,"T\nshirt",19.90,TEE-M,0\n', None),
    (HEADER.encode() + b'#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,"T,19.90,TEE-M,0\n', "o.csv:2: not readable as CSV"),
    (HEADER.encode() + b"#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,T\xff,19.90,TEE-M,0\n", "o.csv:2: not UTF-8"),
    (HEADER.encode() + b"#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1,T\x00,19.90,TEE-M,0\n", "o.csv:2: NUL byte"),
    (HEADER.encode() + b"#1,a@b.c,paid,2026-10-01 10:00:00 +0200,EUR,,,DE,1," + b"x" * 2_000_000 + b",19.90,TEE-M,0\n",
     "o.csv:2: not readable as CSV: a cell is larger"),
    (b"", "the file is empty"),
    (b"a,b\n1,2\n", "lacks the column"),
], ids=["bom-crlf", "quoted-newline", "unterminated", "bad-utf8", "nul", "huge", "empty", "wrong-header"])
def test_hostile_files(ashop: Shop, tmp_path: Path, content: bytes, expect: str | None) -> None:
    f = tmp_path / "o.csv"
    f.write_bytes(content)
    r = ashop.run("import", "orders", str(f))
    assert "Traceback" not in r.err
    if expect is None:
        assert r.code == 0, r.err
        assert [e["sku"] for e in events(ashop)] == ["TEE-M"]
    else:
        assert r.code == 1 and expect in r.err, r.err
        assert len(r.err.strip().splitlines()) == 1
        assert ashop.journal_bytes() == b""


def test_generic_csv_with_mapping(ashop: Shop, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nts = "Date"\norder = "Order ID"\nsku = "Item"\nqty = "Units"\nprice = "Unit price"\n'
                       'customer = "Buyer"\nregion = "State"\n', encoding="utf-8")
    f = tmp_path / "sales.csv"
    f.write_text("Date,Order ID,Item,Units,Unit price,Buyer,State\n"
                 "2026-10-02T09:30:00+00:00,A-1,TEE-M,2,18.00,bob@example.com,CA\n"
                 "2026-10-02 12:00,A-2,OAT-1L,1,2.49,shop-42,NY\n", encoding="utf-8")
    r = ashop.run("import", "orders", str(f), "--format", "csv", "--mapping", str(mapping), "--channel", "market")
    assert r.code == 0, r.err
    evs = events(ashop)
    assert [(e["sku"], e["qty"], e["price"], e["ref"], e["channel"], e["region"]) for e in evs] == [
        ("TEE-M", 2, "18.00", "csv:A-1:1", "market", "CA"), ("MILK", 1, "2.49", "csv:A-2:1", "market", "NY")]
    assert evs[0]["ts"] == "2026-10-02T11:30:00+02:00"
    assert str(evs[0]["customer"]).startswith("C-") and evs[1]["customer"] == "shop-42"
    r = ashop.run("import", "orders", str(f), "--format", "csv", "--mapping", str(mapping))
    assert "0 new events, 2 skipped duplicates" in r.err
    r = ashop.run("import", "orders", str(f), "--format", "csv")
    assert r.code == 1 and "--mapping" in r.err


WOO = Path(__file__).parent / "data" / "woocommerce_orders.csv"


def test_woocommerce_sample(ashop: Shop) -> None:
    r = ashop.run("import", "orders", str(WOO), "--format", "woocommerce")
    assert r.code == 0, r.err
    evs = events(ashop)
    assert len(r.out.split()) == len(evs) == 5
    sold = [e for e in evs if e["type"] == "sold"]
    ret = [e for e in evs if e["type"] == "returned"]
    first = sold[0]
    assert (first["sku"], first["qty"], first["price"]) == ("TEE-M", 2, "17.90")  # 19.90 - 4.00 / 2
    assert first["ts"] == "2026-10-03T14:05:11+02:00"  # no offset: the ledger's zone
    assert first["ref"] == "woocommerce:2041:1" and first["order"] == "2041" and first["channel"] == "woocommerce"
    assert first["region"] == "DE-BY" and str(first["customer"]).startswith("C-")
    assert "example" not in ashop.journal_bytes().decode().lower()
    assert [(e["sku"], e["ref"]) for e in sold] == [
        ("TEE-M", "woocommerce:2041:1"), ("MILK", "woocommerce:2041:2"), ("TEE-M", "woocommerce:2042:1"),
        ("MILK", "woocommerce:2045:1")]
    assert sold[2]["ts"] == "2026-10-04T11:00:00+02:00" and sold[2]["region"] == "AT"  # offset given
    assert sold[3]["customer"] == first["customer"] and sold[3]["qty"] == 4
    assert [(e["sku"], e["refund"], e["ref"]) for e in ret] == [("TEE-M", "19.90", "woocommerce-refund:2042:1")]
    assert "3 orders, 4 lines, 5 new events, 0 skipped duplicates, 2 cancelled, 0 unknown SKUs" in r.err
    before = ashop.journal_bytes()
    r = ashop.run("import", "orders", str(WOO), "--format", "woocommerce")
    assert r.code == 0 and r.out == "" and "0 new events, 5 skipped duplicates" in r.err
    assert ashop.journal_bytes() == before


def test_woocommerce_item_total_statuses_and_problems(ashop: Shop, tmp_path: Path) -> None:
    f = tmp_path / "woo.csv"
    f.write_text("Order Number,Order Date,Order Status,Billing Email,SKU,Item Name,Quantity,Item Total\n"
                 "7,2026-10-01T10:00:00+02:00,wc-completed,a@b.c,TEE-M,T,3,50.00\n"
                 "8,2026-10-01 11:00,pending,a@b.c,TEE-M,T,1,19.90\n"
                 "9,2026-10-01 12:00,on-hold,a@b.c,TEE-M,T,1,19.90\n"
                 "10,2026-10-01 12:00,draft-ish,a@b.c,TEE-M,T,1,19.90\n", encoding="utf-8")
    r = ashop.run("import", "orders", str(f), "--format", "woocommerce")
    assert r.code == 1 and "woo.csv:5: Order Status 'draft-ish'" in r.err and ashop.journal_bytes() == b""
    r = ashop.run("import", "orders", str(f), "--format", "woocommerce", "--skip-bad")
    assert r.code == 0, r.err
    evs = events(ashop)
    assert [(e["sku"], e["qty"], e["price"], e["ref"]) for e in evs] == [("TEE-M", 3, "16.67", "woocommerce:7:1")]
    assert "2 cancelled" in r.err
    bad = tmp_path / "bad.csv"
    bad.write_text("Order Number,Order Date,SKU,Quantity\n1,2026-10-01 10:00,TEE-M,1\n", encoding="utf-8")
    r = ashop.run("import", "orders", str(bad), "--format", "woocommerce")
    assert r.code == 1 and "Item Cost" in r.err and "Traceback" not in r.err
    r = ashop.run("import", "orders", str(DATA), "--format", "woocommerce")  # a Shopify file
    assert r.code == 1 and "lacks the column" in r.err


def test_sigkill_midway_then_complete(shop: Shop, tmp_path: Path) -> None:
    """The installed invctl killed (SIGKILL) at random moments of a big import; then run to the end."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    if not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL on this platform")
    exe = Path(sys.executable).with_name("invctl")
    total = 20_000
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for i in range(total):
            order, line = divmod(i, 4)
            sku = ("TEE-M", "MILK")[i % 2]
            fh.write(f"#{order},c{order % 97}@example.com,paid,2026-10-01 10:00:00 +0200,EUR,,BY,DE,{1 + line},"
                     f"Item,{2.49 + line},{sku},0\n")
    cmd = [str(exe), "-L", str(shop.root), "import", "orders", str(big), "--format", "shopify"]
    env = {**os.environ, "INVCTL_USER": "tester", "NO_COLOR": "1"}
    rng = random.Random(20261001)
    killed = 0
    for _ in range(8):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.05, 0.8))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait(timeout=60)
    assert killed  # at least one round died mid-import (a full import takes about 0.9 s)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    refs: dict[str, int] = {}
    for line in shop.journal_bytes().decode("utf-8").splitlines():
        ev = json.loads(line)  # every journal line is a whole event
        if ev["type"] == "sold":
            refs[ev["ref"]] = refs.get(ev["ref"], 0) + 1
    assert len(refs) == total and set(refs.values()) == {1}
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0 and f"0 new events, {total} skipped duplicates" in again.stderr
    check = subprocess.run([str(exe), "-L", str(shop.root), "check"], capture_output=True, text=True, env=env,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
