"""`order suggest` and `order create --from-suggestions` on histories with a known demand.

Histories end yesterday (suggestions are for today), written with test_forecast's Book.
Each suggestion is checked against the analytic answer of docs/purchasing.md:
SS = z*s*sqrt(L), ROP = d*L + SS, qty = d*(L + H) + SS - (available + on order).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
from test_forecast import Book
from typer.testing import CliRunner

from invctl.catalog import add_entry
from invctl.cli.main import app
from invctl.suggest import z_value

TODAY = dt.date.today()
LEAD = 10  # the supplier's promised lead time
H = 30


def invctl(root: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["-L", str(root), *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def journal_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "journal").rglob("*.jsonl"))}


def shop(root: Path, items: dict[str, dict[str, Any]]) -> Book:
    book = Book(root, skus=())
    add_entry(root, "supplier", "acme", {"name": "ACME", "lead_time": LEAD})
    for sku, fields in items.items():
        add_entry(root, "item", sku, {"name": f"Item {sku}", "supplier": "acme", "cost": "2.00", **fields})
    return book


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 days up to yesterday: STEADY sells 3 and 7 on alternate days (d = 5, s = 2) and
    has 40 left; PACKED the same with packs of 25; PLENTY has far more than it needs;
    MINMAX has its own reorder point; NOSUP has no supplier."""
    book = shop(tmp_path_factory.mktemp("steady") / "shop", {
        "STEADY": {}, "PACKED": {"pack_size": 25}, "PLENTY": {}, "MINMAX": {"reorder_point": 50, "max_stock": 120},
        "NOSUP": {},
    })
    add_entry(book.root, "item", "LOOSE", {"name": "No supplier"})
    start = TODAY - dt.timedelta(days=200)
    for sku, left in (("STEADY", 40), ("PACKED", 40), ("PLENTY", 5000), ("MINMAX", 30), ("LOOSE", 10)):
        book.daily(sku, start, 200, lambda d, i: 3 if i % 2 else 7, stock=1000 + left)
    book.ledger()
    return book.root


def suggested(root: Path, *args: str, now: bool = False) -> dict[str, dict[str, Any]]:
    # As of the end of yesterday, where the histories end: the same figures as "now", but a
    # run across midnight does not see a day without sales.
    day = () if now else ("--as-of", (TODAY - dt.timedelta(days=1)).isoformat())
    code, out, err = invctl(root, "order", "suggest", "--format", "json", *day, *args)
    assert code == 0, err
    return {row["sku"]: row for row in json.loads(out)}


def test_steady_demand_gives_the_analytic_answer(steady: Path) -> None:
    rows = suggested(steady)
    s = rows["STEADY"]
    z = z_value(0.95)
    safety = z * 2 * math.sqrt(LEAD)
    rop = 5 * LEAD + safety
    want = 5 * (LEAD + H) + safety - 40
    assert s["demand_per_day"] == pytest.approx(5, rel=0.02)
    assert s["sigma"] == pytest.approx(2, rel=0.05)
    assert s["lead_time_days"] == LEAD and s["lead_time_source"] == "promised by the supplier"
    assert s["safety_stock"] == pytest.approx(safety, rel=0.05)
    assert s["reorder_point"] == pytest.approx(rop, rel=0.03)
    assert s["qty"] == pytest.approx(want, rel=0.03)
    assert s["on_hand"] == 40 and s["on_order"] == 0 and s["supplier"] == "acme"
    assert s["rule"] == "service level" and "reorder point" in s["reason"]
    assert set(s) >= {"sku", "supplier", "qty", "demand_per_day", "lead_time_days", "safety_stock",
                      "reorder_point", "on_hand", "on_order", "reason"}  # the contract's keys


def test_packs_min_max_and_what_is_not_suggested(steady: Path) -> None:
    rows = suggested(steady)
    assert rows["PACKED"]["qty"] % 25 == 0 and rows["PACKED"]["qty"] >= rows["STEADY"]["qty"]
    assert rows["MINMAX"]["rule"] == "min/max" and rows["MINMAX"]["qty"] == 120 - 30
    assert "PLENTY" not in rows and "NOSUP" not in rows  # enough stock; no history
    assert rows["LOOSE"]["supplier"] is None


def test_service_level_and_horizon_options(steady: Path) -> None:
    base = suggested(steady)["STEADY"]
    high = suggested(steady, "--service-level", "0.99")["STEADY"]
    longer = suggested(steady, "--horizon", "60")["STEADY"]
    assert high["safety_stock"] == pytest.approx(z_value(0.99) * 2 * math.sqrt(LEAD), rel=0.05)
    assert high["qty"] > base["qty"]
    assert longer["qty"] == pytest.approx(base["qty"] + 5 * 30, rel=0.03)


def test_settings_give_the_defaults(tmp_path: Path, steady: Path) -> None:
    import shutil

    root = tmp_path / "shop"
    shutil.copytree(steady, root)
    text = (root / "invctl.toml").read_text(encoding="utf-8")
    assert "[reorder]" in text  # a fresh ledger has the table, its keys commented out
    (root / "invctl.toml").write_text(text.replace("[reorder]", "[reorder]\nservice_level = 0.99\nhorizon_days = 60"),
                                      encoding="utf-8")
    code, out, err = invctl(root, "order", "suggest", "--format", "json")
    assert code == 0, err
    s = {r["sku"]: r for r in json.loads(out)}["STEADY"]
    assert s["safety_stock"] == pytest.approx(z_value(0.99) * 2 * math.sqrt(LEAD), rel=0.05)
    assert s["qty"] == pytest.approx(5 * (LEAD + 60) + s["safety_stock"] - 40, rel=0.03)


def test_filters(steady: Path) -> None:
    assert set(suggested(steady, "--supplier", "acme")) == {"STEADY", "PACKED", "MINMAX"}


@pytest.mark.parametrize(("args", "needle"), [
    (("--service-level", "1.5"), "service level 1.5"),
    (("--service-level", "0.2"), "service level 0.2"),
    (("--supplier", "acne"), "unknown supplier 'acne'"),
    (("--category", "nope"), "no item has category 'nope'"),
])
def test_bad_options_are_one_line(steady: Path, args: tuple[str, ...], needle: str) -> None:
    code, out, err = invctl(steady, "order", "suggest", *args)
    assert code == 1 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_from_suggestions_orders_once(tmp_path: Path, steady: Path) -> None:
    import shutil

    root = tmp_path / "shop"
    shutil.copytree(steady, root)
    want = suggested(root)
    code, out, err = invctl(root, "order", "create", "--from-suggestions")
    assert code == 0, err
    assert "LOOSE" in err and "no supplier" in err  # listed, left out
    ids = out.split()
    assert len(ids) == 3  # one `ordered` event per suggested line of acme, one PO
    code, out, err = invctl(root, "order", "list", "--open", "--format", "json")
    lines = {r["sku"]: r for r in json.loads(out) if r["supplier"] == "acme"}
    assert {k: v["ordered"] for k, v in lines.items()} == {k: want[k]["qty"] for k in ("STEADY", "PACKED", "MINMAX")}
    assert len({r["po"] for r in lines.values()}) == 1
    before = journal_bytes(root)
    code, out, err = invctl(root, "order", "create", "--from-suggestions")  # again: all on order now
    assert code == 0 and out == "" and "nothing to order" in err
    assert journal_bytes(root) == before
    assert "STEADY" not in suggested(root, now=True)  # the PO placed today is on order


def test_from_suggestions_refuses_lines(steady: Path) -> None:
    before = journal_bytes(steady)
    code, _, err = invctl(steady, "order", "create", "--from-suggestions", "--line", "STEADY:5")
    assert code == 1 and "leave out --line" in err
    assert journal_bytes(steady) == before


def test_a_bad_reorder_setting_is_named(tmp_path: Path, steady: Path) -> None:
    import shutil

    root = tmp_path / "shop"
    shutil.copytree(steady, root)
    text = (root / "invctl.toml").read_text(encoding="utf-8")
    (root / "invctl.toml").write_text(text.replace("[reorder]", "[reorder]\nservice_level = \"high\""), encoding="utf-8")
    code, _, err = invctl(root, "order", "suggest")
    assert code == 1 and "[reorder] service_level" in err


def test_the_season_is_bought_before_it_starts(tmp_path: Path) -> None:
    """Two years of 4 a day, but 10 a day in the 45 days from today in each earlier year
    (the baby-formula example): the suggestion covers the season, not the quiet weeks.
    (The season factor is shrunk towards 1 a little and bounded: docs/forecast.md.)"""
    book = shop(tmp_path / "shop", {"FORMULA": {}})
    start = TODAY - dt.timedelta(days=2 * 365 + 30)

    def demand(day: dt.date, i: int) -> int:
        for years in (1, 2):
            season = TODAY - dt.timedelta(days=365 * years)
            if season <= day < season + dt.timedelta(days=LEAD + H + 5):
                return 10
        return 4

    days = (TODAY - start).days
    sold = sum(demand(start + dt.timedelta(days=i), i) for i in range(days))
    book.daily("FORMULA", start, days, demand, stock=sold + 20)
    book.ledger()
    s = suggested(book.root)["FORMULA"]
    assert s["demand_per_day"] == pytest.approx(10, rel=0.1)  # the recent days sold 4
    assert s["qty"] == pytest.approx(10 * (LEAD + H) + s["safety_stock"] - 20, rel=0.1)


def test_a_trend_is_followed_a_month_behind(tmp_path: Path) -> None:
    """Demand growing by 0.05 a day for 200 days (2 -> 11.95): the smoother lags a trend by
    its mean weight age, LAG ~ 29.8 days (docs/forecast.md), so d = 11.95 - 0.05 * LAG;
    the suggestion is the formula with that d (stated tolerance: 5 %)."""
    from test_forecast import LAG

    book = shop(tmp_path / "shop", {"TREND": {}})
    start = TODAY - dt.timedelta(days=200)
    sold = sum(round(2 + 0.05 * i) for i in range(200))
    book.daily("TREND", start, 200, lambda d, i: round(2 + 0.05 * i), stock=sold + 30)
    book.ledger()
    s = suggested(book.root)["TREND"]
    d = 2 + 0.05 * 199 - 0.05 * LAG
    assert s["demand_per_day"] == pytest.approx(d, rel=0.05)
    assert s["qty"] == pytest.approx(s["demand_per_day"] * (LEAD + H) + s["safety_stock"] - 30, rel=0.03)
    assert s["demand_per_day"] < 2 + 0.05 * 199  # behind the trend: documented under Limits
