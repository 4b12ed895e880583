"""`invctl alerts`: every kind on a scenario ledger, silence, exit codes, filters, --new,
thresholds and per-item overrides, bad input, and the cron wrapper of examples/cron.

The scenario is written line by line (test_forecast's Book, time zone UTC) from
2026-01-05 to 2026-06-30, and read with `--as-of 2026-06-30`; each item triggers one
kind, so the whole ledger triggers every kind exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, Shop
from test_forecast import Book

from invctl import alerts as A
from invctl.catalog import add_entry

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "examples" / "cron" / "invctl-alerts.sh"
UTC = dt.UTC
ASOF = "2026-06-30"
KIND_OF = {  # item -> the one alert it triggers
    "OUT": ("out-of-stock", "critical", None),
    "LOW": ("low-stock", "warning", None),
    "OVER": ("overstock", "warning", None),
    "EXP": ("expiring", "warning", "main"),
    "EXPD": ("expired", "critical", "store2"),
    "DEAD": ("dead-stock", "warning", None),
    "SLOW": ("slow-stock", "info", None),
    "NEG": ("negative-stock", "critical", "store2"),
    "CNT": ("count-overdue", "info", "main"),
    "POI": ("po-overdue", "warning", "main"),
}
BAD_LINE = b'{"id":"E999999999","ts":"2026-06-10T10:00:00+00:00","type":"sold","sku":"LOW","qty":2.5,"loc":"main","price":"2.00"}\n'


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def noon(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, 12, tzinfo=UTC)


def midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC)


def sell_daily(book: Book, sku: str, first: str, last: str, qty: int = 1, loc: str = "main") -> None:
    d = day(first)
    while d <= day(last):
        book.add(noon(d), "sold", sku, qty, loc=loc)
        d += dt.timedelta(days=1)


def set_alerts(root: Path, lines: str) -> None:
    """Put ``lines`` under [alerts] of invctl.toml."""
    path = root / "invctl.toml"
    text = path.read_text(encoding="utf-8")
    assert "\n[alerts]\n" in text
    path.write_text(text.replace("\n[alerts]\n", f"\n[alerts]\n{lines}\n", 1), encoding="utf-8")


def build_scenario(root: Path) -> Path:
    book = Book(root, skus=())
    add_entry(root, "supplier", "acme", {"name": "ACME", "lead_time": 10})
    for sku in KIND_OF:
        fields: dict[str, Any] = {"name": f"Item {sku}", "supplier": "acme", "cost": "1.00"}
        if sku == "LOW":
            fields["reorder_point"] = 20
        add_entry(root, "item", sku, fields)
    with open(root / "items.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[CNT.alerts]\ncount_days = 30\n")  # the per-item override, as docs/alerts.md shows it
    set_alerts(root, "count_days = 0")  # counts: only CNT's own threshold
    add = book.add
    # OUT: 10 received, sold out on 06-25
    add(midnight(day("2026-06-20")), "received", "OUT", 10)
    sell_daily(book, "OUT", "2026-06-21", "2026-06-25", 2)
    # LOW: 140 - 122 sold = 18 <= its reorder point 20; 1 a day: 18 days of cover
    add(midnight(day("2026-03-01")), "received", "LOW", 140)
    sell_daily(book, "LOW", "2026-03-01", "2026-06-30")
    # OVER: 500 - 122 = 378 at 1 a day: 378 days of cover, 198 above 180
    add(midnight(day("2026-03-01")), "received", "OVER", 500)
    sell_daily(book, "OVER", "2026-03-01", "2026-06-30")
    # EXP: lot L1 expires 2026-07-15 (in 15 days), 50 - 30 = 20 left
    add(midnight(day("2026-06-01")), "received", "EXP", 50, lot="L1", expires="2026-07-15", cost="2.00")
    sell_daily(book, "EXP", "2026-06-01", "2026-06-30")
    # EXPD: 10 of lot L0 at store2 expired on 2026-06-20; main sells from other stock
    add(midnight(day("2026-05-01")), "received", "EXPD", 10, loc="store2", lot="L0", expires="2026-06-20", cost="1.50")
    add(midnight(day("2026-05-01")), "received", "EXPD", 100)
    sell_daily(book, "EXPD", "2026-05-01", "2026-06-30")
    # DEAD: last sale 2026-03-20, 102 days before 06-30; 25 left
    add(midnight(day("2026-01-05")), "received", "DEAD", 100)
    sell_daily(book, "DEAD", "2026-01-05", "2026-03-20")
    # SLOW: last sale 2026-05-31, 30 days before; 69 left
    add(midnight(day("2026-01-05")), "received", "SLOW", 100)
    sell_daily(book, "SLOW", "2026-05-01", "2026-05-31")
    # NEG: 3 sold at store2, which never had any
    add(midnight(day("2026-06-01")), "received", "NEG", 60)
    sell_daily(book, "NEG", "2026-06-01", "2026-06-30")
    add(noon(day("2026-06-10")) + dt.timedelta(hours=1), "sold", "NEG", 3, loc="store2")
    # CNT: counted on 04-01 (no variance), 90 days ago; its own count_days is 30
    add(midnight(day("2026-03-01")), "received", "CNT", 200)
    sell_daily(book, "CNT", "2026-03-01", "2026-06-30")
    add(midnight(day("2026-04-01")) + dt.timedelta(minutes=30), "counted", "CNT", 169)
    # POI: 20 ordered, expected 2026-06-20, nothing received
    add(midnight(day("2026-03-01")), "received", "POI", 150)
    sell_daily(book, "POI", "2026-03-01", "2026-06-30")
    add(midnight(day("2026-06-01")), "ordered", "POI", 20, po="PO-1", supplier="acme", cost="1.00", expected="2026-06-20")
    book.ledger()
    with open(root / "journal" / "2026" / "2026-06.jsonl", "ab") as fh:
        fh.write(BAD_LINE)  # invalid-journal: a JSON float as a quantity
    return root


@pytest.fixture(scope="module")
def scenario_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_scenario(tmp_path_factory.mktemp("alerts") / "shop")


@pytest.fixture
def scenario(scenario_base: Path, tmp_path: Path) -> Shop:
    """A private copy of the scenario, for tests that change it."""
    root = tmp_path / "shop"
    shutil.copytree(scenario_base, root, ignore=shutil.ignore_patterns(".invctl"))
    return Shop(root)


def rows(shop: Shop, *args: str, as_of: str | None = ASOF) -> list[dict[str, Any]]:
    r = shop.run("alerts", *(("--as-of", as_of) if as_of else ()), "--format", "json", *args)
    assert r.code == 0, r.err
    assert r.err == ""
    return json.loads(r.out)


def by_kind(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for row in found:
        assert row["kind"] not in out, f"{row['kind']} twice: {found}"
        out[row["kind"]] = row
    return out


# --- every kind, once --------------------------------------------------------------------


def test_every_kind_exactly_once(scenario_base: Path) -> None:
    found = rows(Shop(scenario_base))
    got = by_kind(found)
    assert set(got) == set(A.KINDS)
    for sku, (kind, severity, loc) in KIND_OF.items():
        assert (got[kind]["sku"], got[kind]["severity"], got[kind]["loc"]) == (sku, severity, loc), got[kind]
    bad = got["invalid-journal"]
    assert bad["severity"] == "critical" and bad["sku"] is None
    last = len((scenario_base / "journal/2026/2026-06.jsonl").read_bytes().splitlines())  # the bad line
    assert (bad["file"], bad["line"]) == ("journal/2026/2026-06.jsonl", last)
    assert bad["message"].startswith("journal/2026/2026-06.jsonl:")
    # critical first, then warning, then info; within one, in the order of A.KINDS
    order = [(-A.RANK[r["severity"]], A.KINDS.index(r["kind"])) for r in found]
    assert order == sorted(order)
    # every row carries the same keys, at least those of the contract
    assert all(set(r) == set(found[0]) for r in found)
    assert {"kind", "severity", "sku", "loc", "message"} <= set(found[0])


def test_the_figures_behind_each_alert(scenario_base: Path) -> None:
    got = by_kind(rows(Shop(scenario_base)))
    out = got["out-of-stock"]
    assert (out["available"], out["on_order"]) == (0, 0)
    assert out["message"] == "0 available, nothing on order"
    low = got["low-stock"]
    assert (low["available"], low["on_order"], low["reorder_point"]) == (18, 0, 20)
    assert low["demand_per_day"] == pytest.approx(1.0) and low["days_of_cover"] == pytest.approx(18.0)
    assert low["message"] == "18 available + 0 on order <= reorder point 20; 18.0 days of cover at 1.00/day"
    over = got["overstock"]
    assert (over["available"], over["limit_days"], over["max_stock"]) == (378, 180, None)
    assert over["days_of_cover"] == pytest.approx(378) and over["excess"] == pytest.approx(198)
    assert over["excess_value"] == "198.00" and over["value"] == "378.00"
    exp = got["expiring"]
    assert (exp["lot"], exp["expires"], exp["qty"], exp["value"], exp["days"], exp["limit_days"]) == \
        ("L1", "2026-07-15", 20, "40.00", 15, 30)
    expd = got["expired"]
    assert (expd["lot"], expd["expires"], expd["qty"], expd["value"], expd["days"]) == ("L0", "2026-06-20", 10, "15.00", 10)
    assert "still on hand" in expd["message"]
    dead = got["dead-stock"]
    assert (dead["qty"], dead["value"], dead["days"], dead["last_sold"], dead["limit_days"]) == \
        (25, "25.00", 102, "2026-03-20", 90)
    slow = got["slow-stock"]
    assert (slow["qty"], slow["days"], slow["last_sold"], slow["limit_days"]) == (69, 30, "2026-05-31", 30)
    neg = got["negative-stock"]
    assert (neg["qty"], neg["value"]) == (-3, "-3.00")
    cnt = got["count-overdue"]
    assert (cnt["last_counted"], cnt["days"], cnt["limit_days"], cnt["qty"]) == ("2026-04-01", 90, 30, 78)
    po = got["po-overdue"]
    assert (po["po"], po["supplier"], po["expected"], po["qty"], po["value"], po["days"]) == \
        ("PO-1", "acme", "2026-06-20", 20, "20.00", 10)


def test_the_table_is_critical_first(scenario_base: Path) -> None:
    r = Shop(scenario_base).run("alerts", "--as-of", ASOF)
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0].startswith("Alerts as of 2026-06-30: 4 critical, 5 warning, 2 info")
    severities = [line.split()[0] for line in lines if line.strip().split(" ")[0] in A.SEVERITIES]
    assert severities == ["critical"] * 4 + ["warning"] * 5 + ["info"] * 2


def test_csv_has_the_json_keys(scenario_base: Path) -> None:
    shop = Shop(scenario_base)
    r = shop.run("alerts", "--as-of", ASOF, "--format", "csv")
    assert r.code == 0
    header, *body = r.out.splitlines()
    assert header.split(",") == list(rows(shop)[0])
    assert len(body) == len(A.KINDS)


# --- silence -----------------------------------------------------------------------------


def healthy(shop: Shop) -> Shop:
    shop.ok("receive", "TEE-M", "100", "--cost", "6.20", "--supplier", "acme")
    shop.ok("receive", "MILK", "10", "--cost", "1.05", "--lot", "B7", "--expires", "2099-12-31")
    return shop


def test_a_healthy_ledger_is_silent(shop: Shop) -> None:
    healthy(shop)
    for args in ((), ("--new",), ("--fail-on", "info")):
        r = shop.run("alerts", *args)
        assert (r.code, r.out, r.err) == (0, "", ""), args
    assert shop.ok("alerts", "--format", "json") == "[]\n"
    header = shop.ok("alerts", "--format", "csv")
    assert header.startswith("severity,kind,sku,") and header.count("\n") == 1


def test_an_empty_ledger_is_silent(shop: Shop) -> None:
    r = shop.run("alerts")
    assert (r.code, r.out, r.err) == (0, "", "")


def test_cron_run_of_the_installed_command(shop: Shop, scenario_base: Path) -> None:
    """As cron runs it: the installed script, no terminal, the ledger from the environment."""
    healthy(shop)
    r = shop.sh("alerts", "--fail-on", "warning", env={"INVCTL_LEDGER": str(shop.root)})
    assert (r.code, r.out, r.err) == (0, "", "")
    r = shop.sh("-L", str(scenario_base), "alerts", "--as-of", ASOF, "--fail-on", "critical")
    assert r.code == 1 and r.err == ""
    assert "out-of-stock" in r.out and "OUT" in r.out


# --- exit codes and filters ------------------------------------------------------------


@pytest.mark.parametrize(("args", "code"), [
    (("--fail-on", "critical"), 1),
    (("--fail-on", "warning"), 1),
    (("--fail-on", "info"), 1),
    (("--only", "low-stock", "--fail-on", "warning"), 1),
    (("--only", "low-stock", "--fail-on", "critical"), 0),  # below the level
    (("--only", "slow-stock,count-overdue", "--fail-on", "warning"), 0),
    (("--only", "slow-stock", "--fail-on", "info"), 1),
    ((), 0),
])
def test_fail_on(scenario_base: Path, args: tuple[str, ...], code: int) -> None:
    r = Shop(scenario_base).run("alerts", "--as-of", ASOF, "--format", "json", *args)
    assert r.code == code, r.err
    assert r.err == ""
    assert json.loads(r.out)  # the alerts are printed either way


def test_only_and_severity(scenario_base: Path) -> None:
    shop = Shop(scenario_base)
    assert {r["kind"] for r in rows(shop, "--only", "low-stock,expiring")} == {"low-stock", "expiring"}
    assert {r["kind"] for r in rows(shop, "--only", "low-stock", "--only", "expired")} == {"low-stock", "expired"}
    assert {r["kind"] for r in rows(shop, "--severity", "critical")} == \
        {"out-of-stock", "expired", "negative-stock", "invalid-journal"}
    assert {r["severity"] for r in rows(shop, "--severity", "warning")} == {"critical", "warning"}
    assert {r["kind"] for r in rows(shop, "--only", "low-stock,expiring,expired", "--severity", "warning")} == \
        {"low-stock", "expiring", "expired"}
    assert rows(shop, "--only", "slow-stock", "--severity", "warning") == []


def test_loc(scenario_base: Path) -> None:
    got = rows(Shop(scenario_base), "--loc", "store2")
    assert {(r["kind"], r["sku"]) for r in got} == {
        ("out-of-stock", "EXPD"), ("out-of-stock", "NEG"),  # at store2 alone, neither has any to sell
        ("expired", "EXPD"), ("negative-stock", "NEG"), ("invalid-journal", None)}
    assert all(r["loc"] == "store2" for r in got if r["sku"])


def test_as_of_an_earlier_day(scenario_base: Path) -> None:
    got = rows(Shop(scenario_base), "--as-of", "2026-06-19", "--only", "expiring,expired,po-overdue")
    # L0 expires tomorrow (still available on its expiry date); PO-1 is due tomorrow
    assert [(r["kind"], r["sku"], r["lot"], r["days"]) for r in got] == [
        ("expiring", "EXP", "L1", 26), ("expiring", "EXPD", "L0", 1)]


# --- thresholds ------------------------------------------------------------------------


def test_thresholds_from_settings(scenario: Shop) -> None:
    set_alerts(scenario.root, "expiring_days = 10\ndead_days = 200\nslow_days = 100\noverstock_days = 400\n"
               "po_overdue_days = 10\nignore = [\"invalid-journal\", \"negative-stock\"]")
    kinds = {r["kind"] for r in rows(scenario)}
    # EXP expires in 15 days > 10; DEAD is 102 days without a sale: slow now; SLOW (30 days)
    # is neither; 378 days of cover <= 400; PO-1 is exactly 10 days late: not more
    assert kinds == {"out-of-stock", "low-stock", "expired", "slow-stock", "count-overdue"}
    slow = [r for r in rows(scenario) if r["kind"] == "slow-stock"]
    assert [(r["sku"], r["limit_days"]) for r in slow] == [("DEAD", 100)]


def test_zero_turns_an_alert_off(scenario: Shop) -> None:
    set_alerts(scenario.root, "expiring_days = 0\ndead_days = 0\noverstock_days = 0")
    kinds = {(r["kind"], r["sku"]) for r in rows(scenario)}
    assert ("expiring", "EXP") not in kinds and ("overstock", "OVER") not in kinds
    assert ("slow-stock", "DEAD") in kinds  # no dead-stock: 102 days without a sale is slow


def test_per_item_overrides(scenario: Shop) -> None:
    with open(scenario.root / "items.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[EXP.alerts]\nexpiring_days = 7\n\n[OUT.alerts]\nignore = ["out-of-stock"]\n'
                 "\n[SLOW.alerts]\nslow_days = 31\n")
    # an inline table in the item's own table works as well
    text = (scenario.root / "items.toml").read_text(encoding="utf-8")
    text = text.replace('[DEAD]\nname = "Item DEAD"\n', '[DEAD]\nname = "Item DEAD"\nalerts = { dead_days = 120 }\n')
    (scenario.root / "items.toml").write_text(text, encoding="utf-8")
    got = {(r["kind"], r["sku"]): r for r in rows(scenario)}
    assert ("expiring", "EXP") not in got  # 15 days > its 7
    assert ("out-of-stock", "OUT") not in got
    assert ("slow-stock", "SLOW") not in got  # 30 days < its 31
    assert got[("slow-stock", "DEAD")]["limit_days"] == 30  # 102 < its 120: only slow
    assert ("count-overdue", "CNT") in got  # its count_days = 30 still applies
    # the others keep [alerts]
    assert ("expired", "EXPD") in got and ("overstock", "OVER") in got


def test_item_set_keeps_the_alerts_table(shop: Shop) -> None:
    """`item set` adds keys to the item's own table, not to its [SKU.alerts] sub-table."""
    import tomllib

    with open(shop.root / "items.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[MILK.alerts]\nexpiring_days = 7  # fresh\n")  # right after [MILK], as docs/alerts.md shows
    shop.ok("item", "set", "MILK", "--price", "2.99", "--reorder-point", "5")
    text = (shop.root / "items.toml").read_text(encoding="utf-8")
    milk = tomllib.loads(text)["MILK"]
    assert (milk["price"], milk["reorder_point"], milk["alerts"]) == ("2.99", 5, {"expiring_days": 7})
    assert "expiring_days = 7  # fresh" in text
    assert shop.run("alerts").code == 0


def test_never_counted_counts_from_the_journal_start(tmp_path: Path) -> None:
    book = Book(tmp_path / "shop", skus=("A", "B"))
    book.add(midnight(day("2026-01-10")), "received", "A", 10)
    book.add(midnight(day("2026-03-01")), "received", "B", 10)
    book.add(midnight(day("2026-03-02")), "counted", "B", 10)
    sell_daily(book, "A", "2026-01-10", "2026-04-10", 0)
    book.ledger()
    shop = Shop(tmp_path / "shop")
    got = rows(shop, "--as-of", "2026-04-10", "--only", "count-overdue")
    assert [(r["sku"], r["days"], r["last_counted"]) for r in got] == [("A", 90, None)]
    assert "never counted: the journal starts 2026-01-10, 90 days ago (due every 90 days)" in got[0]["message"]
    assert rows(shop, "--as-of", "2026-04-09", "--only", "count-overdue") == []  # 89 days
    assert [r["sku"] for r in rows(shop, "--as-of", "2026-05-31", "--only", "count-overdue")] == ["A", "B"]


def test_computed_reorder_point_for_items_without_one(tmp_path: Path) -> None:
    """No reorder_point: the formula of order suggest, d x L + z x s x sqrt(L)."""
    book = Book(tmp_path / "shop", skus=())
    add_entry(book.root, "supplier", "acme", {"name": "ACME", "lead_time": 10})
    add_entry(book.root, "item", "A", {"name": "A", "supplier": "acme"})
    book.add(midnight(day("2026-03-01")), "received", "A", 130)
    sell_daily(book, "A", "2026-03-01", "2026-06-30", 1)  # 122 sold: 8 left, ROP = 1 x 10 + 0
    book.ledger()
    (low,) = rows(Shop(book.root), "--only", "low-stock")
    assert (low["kind"], low["reorder_point"], low["available"]) == ("low-stock", 10, 8)
    assert "reorder point 10 (computed)" in low["message"]


# --- the forecast only when needed ---------------------------------------------------------


def test_the_forecast_runs_only_when_needed(scenario_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from invctl import forecast

    calls: list[set[str] | None] = []
    real = forecast.demand

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("skus"))
        return real(*args, **kwargs)

    monkeypatch.setattr(forecast, "demand", spy)
    shop = Shop(scenario_base)
    for args in (("--only", "expiring,expired,dead-stock,po-overdue,count-overdue"), ("--severity", "critical")):
        rows(shop, *args)
        assert calls == [], args
    rows(shop, "--only", "low-stock")
    # LOW (at or below its own reorder point: days of cover) and the items without one;
    # not OUT (nothing available) nor the others with their own point and enough stock
    assert calls[-1] == {"LOW", "OVER", "EXP", "EXPD", "DEAD", "SLOW", "NEG", "CNT", "POI"}
    rows(shop, "--only", "overstock")
    assert calls[-1] == {"LOW", "OVER", "EXP", "EXPD", "NEG", "CNT", "POI"}  # not the slow and dead


def test_no_forecast_with_own_reorder_points_and_no_cover_rule(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    from invctl import forecast

    calls: list[set[str] | None] = []
    monkeypatch.setattr(forecast, "demand", lambda *a, **k: calls.append(k.get("skus")) or {})
    shop.ok("item", "set", "MILK", "--reorder-point", "5")
    set_alerts(shop.root, "overstock_days = 0")
    healthy(shop)
    shop.ok("sell", "TEE-M", "50", "--price", "19.90")
    assert rows(shop, as_of=None) == []
    assert calls == []
    shop.ok("sell", "TEE-M", "35", "--price", "19.90")  # 15 <= 20: its days of cover are wanted
    got = rows(shop, as_of=None)
    assert [(r["kind"], r["sku"], r["available"]) for r in got] == [("low-stock", "TEE-M", 15)]
    assert calls == [{"TEE-M"}]


# --- --new ----------------------------------------------------------------------------------


@pytest.fixture
def draining(tmp_path: Path) -> Shop:
    """A: reorder point 20; 40 received on 06-01 sell 1 a day to nothing on 07-10; 100 more
    on 07-12 sell 5 a day down to 20 on 07-27."""
    book = Book(tmp_path / "shop", skus=())
    add_entry(book.root, "item", "A", {"name": "A", "reorder_point": 20})
    set_alerts(book.root, "count_days = 0\noverstock_days = 0")
    book.add(midnight(day("2026-06-01")), "received", "A", 40)
    sell_daily(book, "A", "2026-06-01", "2026-07-10")
    book.add(midnight(day("2026-07-12")), "received", "A", 100)
    sell_daily(book, "A", "2026-07-12", "2026-07-27", 5)
    book.ledger()
    return Shop(book.root)


def new(shop: Shop, as_of: str, *args: str) -> list[tuple[str, Any]]:
    r = shop.run("alerts", "--new", "--as-of", as_of, "--format", "json", *args)
    assert r.code == 0, r.err
    return [(a["kind"], a["available"]) for a in json.loads(r.out)]


def test_new_reports_each_problem_once_and_again_when_worse(draining: Shop) -> None:
    assert new(draining, "2026-06-20") == [("low-stock", 20)]
    assert new(draining, "2026-06-20") == []  # the same day again
    assert new(draining, "2026-06-21") == []  # 19: still the same problem
    assert new(draining, "2026-06-25") == []  # 15: not yet half of 20
    assert new(draining, "2026-06-30") == [("low-stock", 10)]  # halved: materially worse
    assert new(draining, "2026-07-04") == []  # 6 > 10 / 2
    assert new(draining, "2026-07-10") == [("out-of-stock", 0)]  # the severity rose
    assert new(draining, "2026-07-11") == []  # still out of stock: not new
    assert new(draining, "2026-07-15") == []  # 85: the problem went away ...
    assert new(draining, "2026-07-27") == [("low-stock", 20)]  # ... and came back: new again


def test_new_after_it_got_better_and_worse_again(draining: Shop) -> None:
    assert new(draining, "2026-07-10") == [("out-of-stock", 0)]
    assert new(draining, "2026-07-27") == []  # low again, but better than out of stock: no mail
    memory = json.loads((draining.root / ".invctl" / "alerts.json").read_text())
    (seen,) = memory["alerts"].values()
    assert (seen["kind"], seen["severity"], seen["figure"]) == ("low-stock", "warning", 20.0)


def test_new_table_and_plain_runs_do_not_touch_the_memory(draining: Shop) -> None:
    r = draining.run("alerts", "--new", "--as-of", "2026-06-25")
    assert r.out.startswith("New alerts as of 2026-06-25: 1 warning")
    path = draining.root / ".invctl" / "alerts.json"
    before = path.read_bytes()
    assert draining.run("alerts", "--as-of", "2026-07-10").out  # without --new: shown, not remembered
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if "tmp" in p.name] == []


def test_new_state_is_typed_json(draining: Shop) -> None:
    new(draining, "2026-06-20")
    memory = json.loads((draining.root / ".invctl" / "alerts.json").read_text())
    assert memory["version"] == 1 and memory["as_of"] == "2026-06-20"
    assert memory["alerts"] == {"stock|A||": {"kind": "low-stock", "severity": "warning",
                                              "reported": "2026-06-20", "figure": 20.0}}


@pytest.mark.parametrize("content", [b"", b"not json", b"\x00\xff" * 10, b"[1, 2]", b'{"version": 1}',
                                     b'{"version": 1, "as_of": "x", "alerts": {}}',
                                     b'{"version": 99, "as_of": "2026-06-20", "alerts": {}}',
                                     b'{"version": 1, "as_of": "2026-06-20", "alerts": {"k": {"kind": 3}}}'])
def test_a_corrupt_memory_counts_as_empty(draining: Shop, content: bytes) -> None:
    new(draining, "2026-06-20")
    path = draining.root / ".invctl" / "alerts.json"
    path.write_bytes(content)
    r = draining.run("alerts", "--new", "--as-of", "2026-06-21", "--format", "json")
    assert r.code == 0
    assert [a["kind"] for a in json.loads(r.out)] == ["low-stock"]  # everything is new
    assert r.err.startswith("warning: ") and r.err.count("\n") == 1 and "Traceback" not in r.err
    assert json.loads(path.read_text())["as_of"] == "2026-06-21"  # rewritten, readable again
    assert new(draining, "2026-06-22") == []


def test_a_missing_memory_counts_as_empty(draining: Shop) -> None:
    new(draining, "2026-06-20")
    (draining.root / ".invctl" / "alerts.json").unlink()
    r = draining.run("alerts", "--new", "--as-of", "2026-06-21", "--format", "json")
    assert (r.code, r.err) == (0, "")
    assert len(json.loads(r.out)) == 1
    shutil.rmtree(draining.root / ".invctl")
    assert new(draining, "2026-06-22") == [("low-stock", 18)]


def test_separate_state_files(draining: Shop, tmp_path: Path) -> None:
    other = tmp_path / "chat.json"
    assert new(draining, "2026-06-20") == [("low-stock", 20)]
    assert new(draining, "2026-06-20", "--state", str(other)) == [("low-stock", 20)]
    assert new(draining, "2026-06-21", "--state", str(other)) == []
    assert new(draining, "2026-06-21") == []


def test_fail_on_counts_what_new_shows(draining: Shop) -> None:
    r = draining.run("alerts", "--new", "--as-of", "2026-06-20", "--fail-on", "warning")
    assert r.code == 1
    r = draining.run("alerts", "--new", "--as-of", "2026-06-21", "--fail-on", "warning")
    assert (r.code, r.out) == (0, "")


def test_fresh_rules() -> None:
    """The "worse" rule per kind, on records."""
    today = dt.date(2026, 6, 30)

    def alert(kind: str, **figures: Any) -> A.Alert:
        return A.Alert(kind, A.SEVERITY[kind], "X", "main", "m", **figures)

    def run(before: A.Alert, after: A.Alert) -> bool:
        _, seen = A.fresh([before], {}, today)
        shown, _ = A.fresh([after], seen, today)
        return bool(shown)

    assert run(alert("expiring", lot="L", expires=today), alert("expired", lot="L", expires=today))
    assert not run(alert("expiring", lot="L", expires=today), alert("expiring", lot="L", expires=today, qty=99))
    assert run(alert("expiring", lot="L", expires=today), alert("expiring", lot="M", expires=today))
    assert run(alert("slow-stock"), alert("dead-stock"))
    assert not run(alert("dead-stock", days=90), alert("dead-stock", days=900))
    assert not run(alert("negative-stock", qty=-2), alert("negative-stock", qty=-3))
    assert run(alert("negative-stock", qty=-2), alert("negative-stock", qty=-4))
    assert not run(alert("overstock", excess=Decimal(10)), alert("overstock", excess=Decimal(19)))
    assert run(alert("overstock", excess=Decimal(10)), alert("overstock", excess=Decimal(20)))
    assert not run(alert("po-overdue", po="P", days=1), alert("po-overdue", po="P", days=30))
    assert run(alert("po-overdue", po="P"), alert("po-overdue", po="Q"))
    assert not run(alert("out-of-stock", available=0), alert("out-of-stock", available=-5))
    assert run(alert("low-stock", available=10, on_order=0), alert("out-of-stock", available=0))
    assert not run(alert("out-of-stock", available=0), alert("low-stock", available=3, on_order=0))
    assert not run(alert("count-overdue", days=90), alert("count-overdue", days=400))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lines", "needle"), [
    ("dead_days = -1", "invctl.toml: [alerts] dead_days = -1: must be a whole number of days"),
    ('dead_days = "90"', "invctl.toml: [alerts] dead_days = '90': must be a whole number"),
    ("dead_days = 1.5", "dead_days = 1.5: must be a whole number"),
    ("dead_days = true", "dead_days = true: must be a whole number"),
    ("expring_days = 10", "unknown key 'expring_days' (did you mean expiring_days?)"),
    ('ignore = ["lowstock"]', "unknown alert kind 'lowstock' (did you mean low-stock?)"),
    ('ignore = "low-stock"', "ignore must be a list of alert kinds"),
])
def test_bad_settings_are_one_line(scenario: Shop, lines: str, needle: str) -> None:
    set_alerts(scenario.root, lines)
    r = scenario.run("alerts", "--as-of", ASOF)
    assert r.code == 1 and r.out == ""
    assert r.err.startswith("error: ") and needle in r.err and r.err.count("\n") == 1, r.err


@pytest.mark.parametrize(("table", "needle"), [
    ("[LOW.alerts]\ndead_days = -5\n", "items.toml: [LOW.alerts] dead_days = -5: must be a whole number"),
    ("[LOW.alerts]\nslow = 3\n", "items.toml: [LOW.alerts]: unknown key 'slow'"),
])
def test_bad_item_overrides_are_one_line(scenario: Shop, table: str, needle: str) -> None:
    with open(scenario.root / "items.toml", "a", encoding="utf-8") as fh:
        fh.write("\n" + table)
    r = scenario.run("alerts", "--as-of", ASOF)
    assert r.code == 1 and r.err.startswith("error: ") and needle in r.err and r.err.count("\n") == 1, r.err


def test_a_bad_alerts_value_on_an_item(scenario: Shop) -> None:
    text = (scenario.root / "items.toml").read_text(encoding="utf-8")
    (scenario.root / "items.toml").write_text(text.replace('[OUT]\nname = "Item OUT"\n', '[OUT]\nname = "Item OUT"\nalerts = 5\n'))
    r = scenario.run("alerts", "--as-of", ASOF)
    assert r.code == 1 and "items.toml: [OUT.alerts] must be a table" in r.err


@pytest.mark.parametrize(("args", "code", "needle"), [
    (("--only", "lowstock"), 2, "unknown alert kind 'lowstock' (did you mean low-stock?)"),
    (("--only", ","), 2, "give at least one alert kind"),
    (("--severity", "urgent"), 2, "'urgent' is not one of"),
    (("--fail-on", "high"), 2, "'high' is not one of"),
    (("--state", "x.json"), 2, "give --new too"),
    (("--loc", "attic"), 1, "--loc 'attic' is not a location of this ledger"),
    (("--as-of", "2026-13-01"), 1, "--as-of '2026-13-01' is not a valid date"),
])
def test_bad_options(scenario_base: Path, args: tuple[str, ...], code: int, needle: str) -> None:
    r = Shop(scenario_base).run("alerts", *args)
    assert r.code == code and r.out == ""
    assert needle in r.err and "Traceback" not in r.err, r.err


def test_a_bad_reorder_setting_is_refused_when_needed(scenario: Shop) -> None:
    path = scenario.root / "invctl.toml"
    path.write_text(path.read_text().replace("\n[reorder]\n", "\n[reorder]\nservice_level = 2\n"))
    r = scenario.run("alerts", "--as-of", ASOF)
    assert r.code == 1 and r.err.startswith("error: ") and "service level" in r.err
    assert scenario.run("alerts", "--as-of", ASOF, "--only", "expired").code == 0  # no forecast needed


# --- the cron wrapper ---------------------------------------------------------------------------


def fake_bin(tmp_path: Path, fail: bool = False) -> Path:
    """`mail` and `curl` that record their arguments and what they were given on stdin."""
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    for name in ("mail", "curl"):
        script = folder / name
        script.write_text(f'#!/bin/sh\nn=$(ls "$FAKE_LOG" | wc -l)\nprintf "%s\\n" "$@" > "$FAKE_LOG/{name}.$n.args"\n'
                          f'cat > "$FAKE_LOG/{name}.$n.body"\nexit {1 if fail else 0}\n')
        script.chmod(0o755)
    return folder


def wrapper(shop: Shop, tmp_path: Path, *args: str, fail: bool = False, **env: str) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    log = tmp_path / "log"
    log.mkdir(exist_ok=True)
    for p in log.iterdir():
        p.unlink()
    path = f"{fake_bin(tmp_path, fail)}:/usr/bin:/bin"  # cron's short PATH, and no invctl on it
    p = subprocess.run(["sh", str(WRAPPER), str(shop.root), *args], capture_output=True, text=True, timeout=120,
                       env={"PATH": path, "HOME": str(tmp_path), "INVCTL": str(BIN), "FAKE_LOG": str(log),
                            "NO_COLOR": "1", **env})
    return p, sorted(log.iterdir())


def test_wrapper_mails_only_what_is_new(scenario: Shop, tmp_path: Path) -> None:
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, ALERTS_MAILTO="shop@example.com")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    assert [f.name for f in sent] == ["mail.0.args", "mail.0.body"]
    assert sent[0].read_text().splitlines() == ["-s", f"invctl alerts: {scenario.root}", "shop@example.com"]
    body = sent[1].read_text()
    assert body.startswith("New alerts as of 2026-06-30: 4 critical, 5 warning, 2 info")
    assert all(kind in body for kind in A.KINDS)
    # the next morning: nothing new, nothing sent
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, ALERTS_MAILTO="shop@example.com")
    assert (p.returncode, p.stdout, p.stderr, sent) == (0, "", "", [])
    assert not (scenario.root / ".invctl" / "alerts.json.sending").exists()


def test_wrapper_posts_to_a_webhook_with_options(scenario: Shop, tmp_path: Path) -> None:
    state = tmp_path / "chat.json"
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, "--severity", "critical",
                      ALERTS_WEBHOOK="https://chat.example.com/hook", ALERTS_STATE=str(state))
    assert p.returncode == 0, p.stderr
    assert [f.name for f in sent] == ["curl.0.args", "curl.0.body"]
    assert sent[0].read_text().splitlines()[-1] == "https://chat.example.com/hook"
    body = sent[1].read_text()
    assert "4 critical" in body and "low-stock" not in body
    assert state.exists() and not (scenario.root / ".invctl" / "alerts.json").exists()


def test_wrapper_sends_again_when_sending_failed(scenario: Shop, tmp_path: Path) -> None:
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, fail=True, ALERTS_MAILTO="a@example.com")
    assert p.returncode == 1 and "will be sent again" in p.stderr and len(sent) == 2
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, ALERTS_MAILTO="a@example.com")
    assert p.returncode == 0 and len(sent) == 2  # the same alerts, this time delivered
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, ALERTS_MAILTO="a@example.com")
    assert (p.returncode, sent) == (0, [])


def test_wrapper_is_silent_on_a_healthy_ledger_and_mails_errors(shop: Shop, tmp_path: Path) -> None:
    healthy(shop)
    p, sent = wrapper(shop, tmp_path, ALERTS_MAILTO="shop@example.com")
    assert (p.returncode, p.stdout, p.stderr, sent) == (0, "", "", [])
    set_alerts(shop.root, "dead_days = -1")
    p, sent = wrapper(shop, tmp_path, ALERTS_MAILTO="shop@example.com")
    assert p.returncode == 0 and len(sent) == 2
    assert sent[0].read_text().splitlines()[1] == f"invctl alerts FAILED: {shop.root}"
    assert sent[1].read_text().startswith("error: invctl.toml: [alerts] dead_days = -1")


def test_wrapper_without_a_destination_prints_for_cron(scenario: Shop, tmp_path: Path) -> None:
    p, sent = wrapper(scenario, tmp_path, "--as-of", ASOF, "--only", "po-overdue")
    assert p.returncode == 0 and sent == []
    assert "PO-1 from acme" in p.stdout


def test_examples_crontab_uses_the_wrapper() -> None:
    text = (ROOT / "examples" / "cron" / "crontab").read_text()
    jobs = [line for line in text.splitlines() if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert jobs and all(len(line.split()) > 5 for line in jobs)
    assert any("invctl-alerts.sh" in line for line in jobs)
    assert os.access(WRAPPER, os.X_OK)
    assert subprocess.run(["sh", "-n", str(WRAPPER)]).returncode == 0



def test_abc_classes_set_how_often_items_are_counted(tmp_path: Path) -> None:
    """After `report abc --save`, A items are due every 30 days, B every 60 and C every
    count_days (90); an item's own count_days wins over its class."""
    book = Book(tmp_path / "shop", skus=("BIG", "MID", "SMALL", "OWN"))
    for sku in ("BIG", "MID", "SMALL", "OWN"):
        book.add(midnight(day("2026-01-01")), "received", sku, 1000)
        book.add(midnight(day("2026-01-02")), "counted", sku, 1000)
    sell_daily(book, "BIG", "2026-01-03", "2026-03-01", 10)
    sell_daily(book, "OWN", "2026-01-03", "2026-03-01", 10)
    sell_daily(book, "MID", "2026-01-03", "2026-03-01", 2)
    sell_daily(book, "SMALL", "2026-01-03", "2026-03-01", 1)
    book.ledger()
    shop = Shop(tmp_path / "shop")
    set_alerts(shop.root, "")  # defaults
    items = (shop.root / "items.toml").read_text(encoding="utf-8")
    (shop.root / "items.toml").write_text(items.replace("[OWN]", "[OWN]\nalerts = { count_days = 120 }"), encoding="utf-8")
    assert rows(shop, "--as-of", "2026-03-01", "--only", "count-overdue") == []  # 58 days: nothing due yet at 90
    shop.ok("report", "abc", "--from", "2026-01-01", "--to", "2026-03-01", "--save")
    saved = json.loads((shop.root / ".invctl" / "abc.json").read_text())["classes"]
    assert (saved["BIG"], saved["OWN"], saved["MID"], saved["SMALL"]) == ("A", "A", "B", "C")
    got = {r["sku"]: r for r in rows(shop, "--as-of", "2026-03-01", "--only", "count-overdue")}
    assert set(got) == {"BIG"}  # 58 days since the count: only class A (30) is due; OWN has 120
    assert got["BIG"]["limit_days"] == 30 and "ABC class A" in got["BIG"]["message"]
    got = {r["sku"]: r for r in rows(shop, "--as-of", "2026-03-05", "--only", "count-overdue")}
    assert set(got) == {"BIG", "MID"} and got["MID"]["limit_days"] == 60  # 62 days: B too; C waits for 90
