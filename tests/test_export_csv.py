"""invctl export csv events|stock|sales: round trip, order, hostile cells, periods, errors."""

from __future__ import annotations

import csv
import io
import json

from conftest import Shop

from invctl.events import KEY_ORDER

HOSTILE = '=HYPERLINK("http://evil.example","click")'


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def journal_lines(shop: Shop) -> list[dict[str, object]]:
    return [json.loads(line) for line in shop.journal_bytes().decode().splitlines() if line.strip()]


def fill(shop: Shop) -> str:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20", "--at", "2026-01-05")
    shop.ok("sell", "TEE-M", "2", "--price", "19.90", "--customer", HOSTILE, "--note", "+1", "--order", "O1",
            "--at", "2026-01-06")
    shop.ok("adjust", "TEE-M", "-2", "--reason", "lost", "--note", "-x", "--at", "2026-02-01")
    shop.ok("return", "TEE-M", "1", "--order", "O1", "--note", "@SUM", "--at", "2026-02-03")
    wrong = shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--note", "\tx", "--at", "2026-02-04").strip()
    shop.ok("void", wrong, "--reason", "typo", "--at", "2026-02-05")
    return wrong


def test_events_round_trip(shop: Shop) -> None:
    wrong = fill(shop)
    out = shop.ok("export", "csv", "events")
    got = rows(out)
    lines = journal_lines(shop)
    assert len(got) == len(lines)
    header = next(csv.reader(io.StringIO(out)))
    assert header == [*KEY_ORDER, "voided", "file", "line"]
    by_id = {r["id"]: r for r in got}
    for fields in lines:
        row = by_id[str(fields["id"])]
        for key, value in fields.items():
            cell = row[key].removeprefix("'") if isinstance(value, str) and value[:1] in "=+-@\t" else row[key]
            expected = "true" if value is True else "false" if value is False else str(value)
            assert cell == expected, (key, value, row[key])
    assert [r["id"] for r in got if r["voided"] == "true"] == [wrong]
    assert all(r["voided"] in ("true", "false") for r in got)
    assert all(r["file"].startswith("journal/") and r["line"].isdigit() for r in got)


def test_events_in_replay_order_with_misplaced_lines_and_unknown_keys(shop: Shop) -> None:
    fill(shop)
    feb = shop.root / "journal" / "2026" / "2026-02.jsonl"
    with open(feb, "a", encoding="utf-8") as fh:  # back-dated into the wrong month, with unknown keys
        fh.write('{"id":"00A","ts":"2026-01-01T00:00:00+01:00","type":"counted","sku":"MILK","qty":0,"zeta":"=1","alpha":[1,2]}\n')
        fh.write('{"id":"00B","ts":"2026-01-06T00:00:00+01:00","type":"counted","sku":"MILK","qty":0}\n')
    out = shop.ok("export", "csv", "events")
    header = next(csv.reader(io.StringIO(out)))
    assert header[len(KEY_ORDER):] == ["alpha", "zeta", "voided", "file", "line"]
    got = rows(out)
    assert got[0]["id"] == "00A" and got[0]["zeta"] == "'=1" and got[0]["alpha"] == "[1,2]"
    keys = [(r["ts"], r["id"]) for r in got]
    import datetime as dt

    assert keys == sorted(keys, key=lambda k: (dt.datetime.fromisoformat(k[0]), k[1]))
    assert [r["id"] for r in got].index("00B") == 2  # 2026-01-05T23:00Z: after the receipt, before the sale


def test_hostile_cells_are_prefixed_and_numbers_are_not(shop: Shop) -> None:
    fill(shop)
    got = rows(shop.ok("export", "csv", "events"))
    sale = next(r for r in got if r["type"] == "sold")
    assert sale["customer"] == "'" + HOSTILE
    assert sale["note"] == "'+1"
    assert sale["price"] == "19.90"
    adj = next(r for r in got if r["type"] == "adjusted")
    assert adj["qty"] == "-2" and adj["note"] == "'-x"
    assert next(r for r in got if r["type"] == "returned")["note"] == "'@SUM"
    assert next(r for r in got if r["voided"] == "true")["note"] == "'\tx"
    sales = rows(shop.ok("export", "csv", "sales"))
    assert sales[0]["customer"] == "'" + HOSTILE
    assert sales[0]["price"] == "19.90" and sales[1]["amount"] == "-19.90"


def test_sales_rows_with_cogs(shop: Shop) -> None:
    fill(shop)
    got = rows(shop.ok("export", "csv", "sales"))
    assert [(r["type"], r["qty"], r["amount"], r["cogs"], r["order"]) for r in got] == [
        ("sold", "2", "39.80", "12.40", "O1"),
        ("returned", "1", "-19.90", "-6.20", "O1"),  # the voided sale is left out
    ]


def test_from_to_filters(shop: Shop) -> None:
    fill(shop)
    got = rows(shop.ok("export", "csv", "events", "--from", "2026-02-01", "--to", "2026-02-03"))
    assert [r["type"] for r in got] == ["adjusted", "returned"]
    got = rows(shop.ok("export", "csv", "sales", "--from", "2026-02-01"))
    assert [r["type"] for r in got] == ["returned"]
    got = rows(shop.ok("export", "csv", "sales", "--to", "2026-01-31"))
    assert [r["type"] for r in got] == ["sold"]


def test_stock_is_the_stock_csv(shop: Shop) -> None:
    fill(shop)
    assert shop.ok("export", "csv", "stock") == shop.ok("stock", "--format", "csv")
    assert shop.ok("export", "csv", "stock", "--as-of", "2026-01-05") == shop.ok("stock", "--format", "csv", "--as-of", "2026-01-05")


def test_bad_input_is_one_line_and_exit_1(shop: Shop) -> None:
    fill(shop)
    for args in (["events", "--from", "2026-13-01"], ["events", "--from", "2026-03-01", "--to", "2026-01-01"],
                 ["stock", "--from", "2026-01-01"], ["sales", "--as-of", "2026-01-01"]):
        r = shop.run("export", "csv", *args)
        assert r.code == 1, args
        assert r.err.startswith("error: ") and r.err.count("\n") == 1, r.err
    assert shop.run("export", "csv", "things").code == 2
    with open(shop.root / "journal" / "2026" / "2026-02.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{bad\n")
    r = shop.run("export", "csv", "events")
    assert r.code == 1 and r.out == "" and r.err.count("\n") == 1
    assert "journal/2026/2026-02.jsonl:" in r.err
