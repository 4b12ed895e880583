"""The stock-side reports: valuation, abc, turnover, aging, shrinkage, expiry.

Golden files (tests/golden/stock/) pin each report on the example shop, as JSON and as a
table; `INVCTL_UPDATE_GOLDEN=1` rewrites them. The figures are checked against naive
recomputations: valuation against `stock`, ABC shares from the raw journal lines, aging
buckets from the layers, turnover from a replay per day, shrinkage, dead stock and expiry
on small ledgers written by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from conftest import Shop
from typer.testing import CliRunner

from invctl.catalog import add_entry
from invctl.cli import report_stock
from invctl.cli.main import Group
from invctl.create import init_ledger
from invctl.events import to_line
from invctl.replay import replay
from invctl.reports.abc import FILE, load_classes
from invctl.reports.stock import stock_report
from invctl.reports.turnover import turnover_report
from invctl.reports.valuation import valuation_report
from invctl.settings import open_ledger

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop"
GOLDEN = Path(__file__).parent / "golden" / "stock"
UPDATE = os.environ.get("INVCTL_UPDATE_GOLDEN") == "1"
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
CENT = Decimal("0.01")
COMMANDS = ("valuation", "abc", "turnover", "aging", "shrinkage", "expiry")


def _app() -> typer.Typer:
    """The six commands under a root like invctl's (Group: a refusal is one line and exit 1)."""
    app = typer.Typer(cls=Group, add_completion=False, rich_markup_mode=None)
    app.callback()(lambda: None)
    for name in COMMANDS:
        app.command(name)(getattr(report_stock, name))
    return app


APP = _app()


def run(root: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(APP, [args[0], "-L", str(root), *args[1:]], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def ok_json(root: Path, *args: str) -> Any:
    code, out, err = run(root, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def cents(d: Decimal) -> str:
    return str(d.quantize(CENT, rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/shop (its journal ends on 2026-10-31), without a cache."""
    root = tmp_path_factory.mktemp("example") / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".invctl"))
    return root


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("NO_COLOR", "1")


# --- golden files ----------------------------------------------------------------------------

CASES = {
    "valuation-sku": ("valuation", "--as-of", "2026-10-31"),
    "valuation-category": ("valuation", "--by", "category", "--as-of", "2026-10-31"),
    "valuation-location": ("valuation", "--by", "location", "--as-of", "2026-06-30"),
    "valuation-layers": ("valuation", "--layers", "--as-of", "2026-10-31", "--category", "drinks"),
    "abc-revenue": ("abc", "--from", "2026-01-01", "--to", "2026-10-31"),
    "abc-margin-summary": ("abc", "--by", "margin", "--summary", "--from", "2025-11-01", "--to", "2026-10-31"),
    "abc-consumption": ("abc", "--by", "consumption", "--a", "0.7", "--b", "0.9", "--from", "2026-07-01", "--to", "2026-09-30"),
    "turnover-sku": ("turnover", "--from", "2026-01-01", "--to", "2026-10-31"),
    "turnover-category": ("turnover", "--by", "category", "--from", "2026-07-01", "--to", "2026-09-30"),
    "aging": ("aging", "--as-of", "2026-10-31"),
    "aging-dead": ("aging", "--as-of", "2026-06-30", "--dead", "--dead-days", "14"),
    "shrinkage-reason": ("shrinkage", "--from", "2026-01-01", "--to", "2026-10-31"),
    "shrinkage-sku": ("shrinkage", "--by", "sku", "--from", "2026-01-01", "--to", "2026-10-31"),
    "shrinkage-month": ("shrinkage", "--by", "month", "--to", "2026-10-31"),
    "expiry": ("expiry", "--as-of", "2026-10-31"),
    "expiry-within": ("expiry", "--as-of", "2026-10-31", "--within", "60"),
    "expiry-summary": ("expiry", "--as-of", "2026-10-31", "--summary"),
}


def _golden(path: Path, text: str) -> str:
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} is missing; run with INVCTL_UPDATE_GOLDEN=1 to write it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path.read_text()


@pytest.mark.parametrize("name", list(CASES))
def test_golden_json(example: Path, name: str) -> None:
    data = ok_json(example, *CASES[name])
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    assert json.loads(_golden(GOLDEN / f"{name}.json", text)) == data


@pytest.mark.parametrize("name", list(CASES))
def test_golden_table(example: Path, name: str) -> None:
    code, out, err = run(example, *CASES[name])
    assert code == 0, err
    assert err == ""  # the example is clean: no warnings
    assert _golden(GOLDEN / f"{name}.txt", out) == out


def test_csv_has_the_json_keys(example: Path) -> None:
    code, out, _ = run(example, "valuation", "--as-of", "2026-10-31", "--format", "csv")
    assert code == 0
    header, first = out.splitlines()[:2]
    assert header == "sku,name,category,on_hand,unit_cost,value,share"
    assert first.startswith("BEANIE-BLK,Rib beanie black,accessories,34,")


# --- valuation equals stock ------------------------------------------------------------------


@pytest.mark.parametrize("as_of", [None, "2026-06-30", "2025-12-24"])
def test_valuation_equals_stock(example: Path, as_of: str | None) -> None:
    led = open_ledger(example)
    until = None
    if as_of is not None:
        day = dt.date.fromisoformat(as_of)
        until = dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN) + dt.timedelta(days=1)
    stock = stock_report(led, as_of=until)
    by_sku: dict[str, Decimal] = defaultdict(Decimal)
    by_loc: dict[str, Decimal] = defaultdict(Decimal)
    qty: dict[str, int] = defaultdict(int)
    for r in stock.rows:
        by_sku[r["sku"]] += r["value"]
        by_loc[r["loc"]] += r["value"]
        qty[r["sku"]] += r["on_hand"]
    val = valuation_report(led, as_of=until)
    assert {r["sku"]: r["value"] for r in val.rows} == {s: v for s, v in by_sku.items() if v or qty[s]}
    assert {r["sku"]: r["on_hand"] for r in val.rows} == {s: q for s, q in qty.items() if q or by_sku[s]}
    assert val.totals["value"] == stock.totals["value"]
    locs = valuation_report(led, as_of=until, by="location")
    assert {r["loc"]: r["value"] for r in locs.rows} == {k: v for k, v in by_loc.items() if v}
    cats = valuation_report(led, as_of=until, by="category")
    assert sum(r["value"] for r in cats.rows) == stock.totals["value"]
    layers = valuation_report(led, as_of=until, layers=True)
    per_pos: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in layers.rows:
        per_pos[(r["sku"], r["loc"])] += r["value"]
    assert per_pos == {(r["sku"], r["loc"]): r["value"] for r in stock.rows if r["value"] or r["on_hand"]}

    # and through the command line, as a script would read both
    args = ("--as-of", as_of) if as_of else ()
    stock_json = json.loads(Shop(example).ok("stock", "--format", "json", *args))
    got = {r["sku"]: Decimal(r["value"]) for r in ok_json(example, "valuation", *args)}
    for sku, value in got.items():
        rounded = sum(Decimal(r["value"]) for r in stock_json if r["sku"] == sku)
        assert abs(rounded - value) <= CENT, sku  # each stock row is rounded on its own


def _book(root: Path, lines: list[dict[str, Any]], *, costing: str = "fifo", tz: str = "UTC",
          items: tuple[str, ...] = ("A", "B")) -> Path:
    """A ledger written line by line (ids in order of the list)."""
    init_ledger(root, currency="EUR", timezone=tz, locations=["main", "store2"], git=False)
    if costing != "fifo":
        toml = root / "invctl.toml"
        toml.write_text(toml.read_text().replace('costing = "fifo"', f'costing = "{costing}"'))
    for sku in items:
        add_entry(root, "item", sku, {"name": f"Item {sku}", "category": "food" if sku == "B" else "misc",
                                     "cost": "1.00", "price": "9.00"})
    files: dict[str, list[bytes]] = defaultdict(list)
    for n, ev in enumerate(lines, 1):
        ev = {"id": f"E{n:09d}", **ev}
        ev.setdefault("loc", "main")
        if ev["type"] == "transferred":
            ev.pop("loc")
        ts = dt.datetime.fromisoformat(ev["ts"])
        files[f"journal/{ts.year}/{ts.year}-{ts.month:02d}.jsonl"].append(to_line(ev))
    for rel, raw in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"".join(raw))
    return root


def test_layers_add_up_with_average_costing_and_negative_stock(tmp_path: Path) -> None:
    root = _book(tmp_path / "avg", [
        {"ts": "2026-01-01T10:00:00+00:00", "type": "received", "sku": "A", "qty": 3, "cost": "1.00", "lot": "L1"},
        {"ts": "2026-01-02T10:00:00+00:00", "type": "received", "sku": "A", "qty": 3, "cost": "2.00", "lot": "L2"},
        {"ts": "2026-01-03T10:00:00+00:00", "type": "sold", "sku": "A", "qty": 2, "price": "5.00"},
        {"ts": "2026-01-04T10:00:00+00:00", "type": "sold", "sku": "B", "qty": 2, "price": "5.00"},
    ], costing="average")
    led = open_ledger(root)
    rows = ok_json(root, "valuation", "--layers")
    a = [r for r in rows if r["sku"] == "A"]
    # 6 units worth 9.00; 2 sold at the average 1.50: 4 left worth 6.00, every layer at 1.50
    assert [(r["lot"], r["qty"], r["unit_cost"], r["value"], r["note"]) for r in a] == [
        ("L1", 1, "1.50", "1.50", "average"), ("L2", 3, "1.50", "4.50", "average")]
    b = [r for r in rows if r["sku"] == "B"]
    assert [(r["qty"], r["value"], r["note"]) for r in b] == [(-2, "-2.00", "negative")]  # at the catalog cost
    stock = {(r["sku"], r["loc"]): r["value"] for r in stock_report(led).rows}
    assert sum(r["value"] for r in valuation_report(led, layers=True).rows) == sum(stock.values())
    code, _, err = run(root, "valuation")
    assert code == 0 and "negative" in err


# --- ABC from the raw journal lines ---------------------------------------------------------------


def _raw_events(root: Path) -> list[dict[str, Any]]:
    evs = [json.loads(line) for p in sorted((root / "journal").rglob("*.jsonl"))
           for line in p.read_text().splitlines() if line.strip()]
    voided = {e["target"] for e in evs if e["type"] == "voided"}
    return [e for e in evs if e["id"] not in voided]


def _naive_abc(root: Path, start: dt.date, end: dt.date, a: Decimal, b: Decimal) -> dict[str, tuple[Decimal, str]]:
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for e in _raw_events(root):
        day = dt.datetime.fromisoformat(e["ts"]).astimezone(BERLIN).date()
        if not start <= day <= end:
            continue
        if e["type"] == "sold":
            revenue[e["sku"]] += Decimal(str(e["qty"])) * Decimal(e["price"])
        elif e["type"] == "returned" and "refund" in e:
            revenue[e["sku"]] -= Decimal(str(e["qty"])) * Decimal(e["refund"])
    total = sum(v for v in revenue.values() if v > 0)
    out = {}
    running = Decimal(0)
    for sku in sorted(revenue, key=lambda s: (-revenue[s], s)):
        cls = "A" if running / total < a else "B" if running / total < b else "C"
        running += revenue[sku]
        out[sku] = (revenue[sku] / total * 100, cls)
    return out


@pytest.mark.parametrize(("start", "end", "a", "b"), [("2026-01-01", "2026-10-31", "0.8", "0.95"),
                                                    ("2026-08-01", "2026-08-31", "0.5", "0.9")])
def test_abc_shares_and_classes_from_raw_lines(example: Path, start: str, end: str, a: str, b: str) -> None:
    rows = ok_json(example, "abc", "--from", start, "--to", end, "--a", a, "--b", b)
    want = _naive_abc(example, dt.date.fromisoformat(start), dt.date.fromisoformat(end), Decimal(a), Decimal(b))
    got = {r["sku"]: r for r in rows}
    assert set(want) <= set(got)
    for sku, (share, cls) in want.items():
        assert got[sku]["class"] == cls, sku
        assert got[sku]["share"] == float(round(share, 1)), sku
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(got[s]["class"] == "C" and got[s]["revenue"] == "0.00" for s in set(got) - set(want))
    classes = [r["class"] for r in rows]
    assert classes == sorted(classes)  # A's first, then B's, then C's
    summary = {r["class"]: r for r in ok_json(example, "abc", "--from", start, "--to", end, "--a", a, "--b", b, "--summary")}
    for cls in "ABC":
        assert summary[cls]["items"] == classes.count(cls)
    assert sum(summary[c]["items"] for c in "ABC") == len(rows)


def test_abc_revenue_of_returns_without_refund(tmp_path: Path) -> None:
    """As `report sales`: a return without refund at its order's sale price, else the catalog's."""
    root = _book(tmp_path / "ret", [
        {"ts": "2026-01-01T09:00:00+00:00", "type": "received", "sku": "A", "qty": 10, "cost": "2.00"},
        {"ts": "2026-01-01T09:00:00+00:00", "type": "received", "sku": "B", "qty": 10, "cost": "2.00"},
        {"ts": "2026-01-02T09:00:00+00:00", "type": "sold", "sku": "A", "qty": 1, "price": "4.00", "order": "O1"},
        {"ts": "2026-01-02T09:00:00+00:00", "type": "sold", "sku": "A", "qty": 1, "price": "6.00", "order": "O1"},
        {"ts": "2026-01-03T09:00:00+00:00", "type": "sold", "sku": "B", "qty": 3, "price": "10.00"},
        {"ts": "2026-01-04T09:00:00+00:00", "type": "returned", "sku": "A", "qty": 1, "order": "O1"},  # at 5.00
        {"ts": "2026-01-04T09:00:00+00:00", "type": "returned", "sku": "B", "qty": 1, "restock": False},  # at 9.00
        {"ts": "2026-01-05T09:00:00+00:00", "type": "returned", "sku": "B", "qty": 1, "refund": "7.50"},
    ])
    got = {r["sku"]: r for r in ok_json(root, "abc", "--from", "2026-01-02")}
    assert (got["A"]["units"], got["A"]["revenue"], got["A"]["cogs"]) == (1, "5.00", "2.00")
    assert (got["B"]["units"], got["B"]["revenue"], got["B"]["cogs"]) == (1, "13.50", "4.00")
    assert (got["B"]["margin"], got["B"]["rank"], got["B"]["share"]) == ("9.50", 1, 73.0)


def test_abc_classify_edge_cases() -> None:
    from invctl.reports.abc import classify

    d = Decimal
    # the biggest item is always A, even when it alone is beyond B's line
    assert [c for *_, c in classify({"x": d(96), "y": d(3), "z": d(1)}, d("0.8"), d("0.95"))] == ["A", "C", "C"]
    # the item crossing the line is in the class; a loss and nothing are C
    got = classify({"p": d(50), "q": d(40), "r": d(10), "loss": d(-5), "none": d(0)}, d("0.8"), d("0.95"))
    assert [(s, c) for s, _, _, c in got] == [("p", "A"), ("q", "A"), ("r", "B"), ("none", "C"), ("loss", "C")]
    assert [c for *_, c in classify({"a": d(0)}, d("0.8"), d("0.95"))] == ["C"]


def test_abc_save_writes_classes_for_alerts(example: Path) -> None:
    code, out, err = run(example, "abc", "--by", "margin", "--from", "2026-01-01", "--to", "2026-10-31", "--save",
                         "--format", "json")
    assert code == 0
    assert "saved the classes of 40 items to .invctl/abc.json" in err
    rows = json.loads(out)
    raw = json.loads((example / ".invctl" / FILE).read_text())
    assert raw["version"] == 1 and raw["by"] == "margin" and raw["a"] == 0.8 and raw["b"] == 0.95
    assert raw["from"] == "2026-01-01" and raw["to"] == "2026-10-31"
    assert dt.datetime.fromisoformat(raw["saved"]).tzinfo is not None
    assert raw["classes"] == {r["sku"]: r["class"] for r in rows}
    saved = load_classes(open_ledger(example))
    assert saved is not None and saved.classes == raw["classes"] and saved.from_ == dt.date(2026, 1, 1)
    assert [p.name for p in (example / ".invctl").iterdir() if p.name.startswith(".abc")] == []  # no temporary left
    (example / ".invctl" / FILE).write_text("{not json")
    assert load_classes(open_ledger(example)) is None  # derived data: a broken file is as good as none


# --- aging from the layers --------------------------------------------------------------------------


def test_aging_buckets_from_layers(example: Path) -> None:
    as_of = dt.datetime(2026, 9, 1, tzinfo=BERLIN)  # --as-of 2026-08-31
    state = replay(open_ledger(example), until=as_of)
    rows = {(r["sku"], r["loc"]): r for r in ok_json(example, "aging", "--as-of", "2026-08-31")}
    for (sku, loc), pos in state.positions.items():
        if not pos.qty and not pos.value:
            assert (sku, loc) not in rows
            continue
        buckets: dict[str, Decimal] = defaultdict(Decimal)
        for la in pos.layers:
            age = (dt.date(2026, 8, 31) - la.ts.astimezone(BERLIN).date()).days
            name = "age_0_30" if age <= 30 else "age_31_60" if age <= 60 else "age_61_90" if age <= 90 else "age_over_90"
            buckets[name] += la.qty * la.cost
        row = rows[(sku, loc)]
        for name in ("age_0_30", "age_31_60", "age_61_90", "age_over_90"):
            assert row[name] == cents(buckets[name]), (sku, loc, name)
        assert row["value"] == cents(pos.value) == cents(sum(buckets.values(), Decimal(0)))
        assert row["on_hand"] == pos.qty


def test_dead_stock(tmp_path: Path) -> None:
    """As of 2026-06-30: A sold last 95 days ago (dead at 90), B sold 10 days ago, C came in 10 days ago."""
    root = _book(tmp_path / "dead", [
        {"ts": "2026-03-22T09:00:00+00:00", "type": "received", "sku": "A", "qty": 10, "cost": "2.00"},
        {"ts": "2026-03-22T09:00:00+00:00", "type": "received", "sku": "B", "qty": 10, "cost": "3.00"},
        {"ts": "2026-03-27T12:00:00+00:00", "type": "sold", "sku": "A", "qty": 1, "price": "9.00"},
        {"ts": "2026-06-20T12:00:00+00:00", "type": "sold", "sku": "B", "qty": 1, "price": "9.00"},
        {"ts": "2026-06-20T12:00:00+00:00", "type": "received", "sku": "C", "qty": 4, "cost": "1.00"},
        {"ts": "2026-06-25T12:00:00+00:00", "type": "transferred", "sku": "A", "qty": 2, "from": "main", "to": "store2"},
    ], items=("A", "B", "C"))
    rows = {(r["sku"], r["loc"]): r for r in ok_json(root, "aging", "--as-of", "2026-06-30")}
    a, a2, b, c = rows[("A", "main")], rows[("A", "store2")], rows[("B", "main")], rows[("C", "main")]
    assert (a["dead"], a["dead_value"], a["days_since_sale"], a["age_over_90"]) == (True, "14.00", 95, "14.00")
    # moved 5 days ago, but the units came in 100 days ago and never sold there: dead too
    assert (a2["dead"], a2["oldest"], a2["last_sold"], a2["age_over_90"]) == (True, "2026-03-22", None, "4.00")
    assert (b["dead"], b["days_since_sale"]) == (False, 10)
    assert (c["dead"], c["age_0_30"], c["avg_age_days"]) == (False, "4.00", 10)
    assert {k for k, r in rows.items() if r["dead"]} == {("A", "main"), ("A", "store2")}
    assert [(r["sku"], r["loc"]) for r in ok_json(root, "aging", "--as-of", "2026-06-30", "--dead")] == [("A", "main"), ("A", "store2")]
    # A's last sale is 95 days back and its units 100 days old: dead at 95 days, not at 101; at 96
    # only the units moved to store2 (never sold there) are
    assert not any(r["dead"] for r in ok_json(root, "aging", "--as-of", "2026-06-30", "--dead-days", "101"))
    assert [r["sku"] for r in ok_json(root, "aging", "--as-of", "2026-06-30", "--dead-days", "95") if r["dead"]] == ["A", "A"]
    assert [r["sku"] for r in ok_json(root, "aging", "--as-of", "2026-06-30", "--dead-days", "96") if r["dead"]] == ["A"]
    # the default comes from [alerts] dead_days
    toml = root / "invctl.toml"
    toml.write_text(toml.read_text().replace("# dead_days = 90", "dead_days = 5"))
    assert {r["sku"] for r in ok_json(root, "aging", "--as-of", "2026-06-30") if r["dead"]} == {"A", "B", "C"}
    toml.write_text(toml.read_text().replace("dead_days = 5", 'dead_days = "soon"'))
    code, _, err = run(root, "aging")
    assert code == 1 and err.strip() == "error: invctl.toml: [alerts] dead_days = 'soon' must be a whole number of days, at least 1"


# --- expiry -------------------------------------------------------------------------------------------


def test_expiry_horizons(tmp_path: Path) -> None:
    lots = {"L0": "2026-06-29", "L1": "2026-06-30", "L7": "2026-07-07", "L8": "2026-07-08", "L30": "2026-07-30",
            "L90": "2026-09-28", "L91": "2026-09-29"}
    lines: list[dict[str, Any]] = [
        {"ts": "2026-06-01T09:00:00+00:00", "type": "received", "sku": "A", "qty": 2, "cost": "1.50", "lot": lot, "expires": day}
        for lot, day in lots.items()]
    lines += [{"ts": "2026-06-01T09:00:00+00:00", "type": "received", "sku": "A", "qty": 5, "cost": "1.00"},  # no expiry
              {"ts": "2026-06-02T09:00:00+00:00", "type": "transferred", "sku": "A", "qty": 1, "from": "main", "to": "store2"}]
    root = _book(tmp_path / "exp", lines)
    rows = ok_json(root, "expiry", "--as-of", "2026-06-30")
    got = [(r["lot"], r["loc"], r["days_left"], r["horizon"], r["qty"], r["value"]) for r in rows]
    assert got == [
        ("L0", "main", -1, "expired", 1, "1.50"), ("L0", "store2", -1, "expired", 1, "1.50"),  # the first to go moved
        ("L1", "main", 0, "<=7d", 2, "3.00"),  # good on its expiry date
        ("L7", "main", 7, "<=7d", 2, "3.00"), ("L8", "main", 8, "<=30d", 2, "3.00"),
        ("L30", "main", 30, "<=30d", 2, "3.00"), ("L90", "main", 90, "<=90d", 2, "3.00"),
        ("L91", "main", 91, "later", 2, "3.00")]
    assert [r["lot"] for r in ok_json(root, "expiry", "--as-of", "2026-06-30", "--within", "7")] == ["L0", "L0", "L1", "L7"]
    summary = {r["horizon"]: (r["lots"], r["qty"], r["value"]) for r in ok_json(root, "expiry", "--as-of", "2026-06-30", "--summary")}
    assert summary == {"expired": (2, 2, "3.00"), "<=7d": (2, 4, "6.00"), "<=30d": (2, 4, "6.00"),
                       "<=90d": (1, 2, "3.00"), "later": (1, 2, "3.00")}
    assert [r["lot"] for r in ok_json(root, "expiry", "--as-of", "2026-06-30", "--loc", "store2")] == ["L0"]


def test_expiry_matches_the_layers_of_the_example(example: Path) -> None:
    state = replay(open_ledger(example), until=dt.datetime(2026, 11, 1, tzinfo=BERLIN))
    want: dict[tuple[str, str], int] = defaultdict(int)
    for (sku, loc), pos in state.positions.items():
        for la in pos.layers:
            if la.expires is not None:
                want[(sku, loc)] += la.qty
    got: dict[tuple[str, str], int] = defaultdict(int)
    for r in ok_json(example, "expiry", "--as-of", "2026-10-31"):
        got[(r["sku"], r["loc"])] += r["qty"]
        assert r["days_left"] == (dt.date.fromisoformat(r["expires"]) - dt.date(2026, 10, 31)).days
    assert got == want and want


# --- turnover --------------------------------------------------------------------------------------


def test_turnover_by_hand(tmp_path: Path) -> None:
    """A: 10 in on Jan 1 at 2.00, 4 sold on Jan 3, 10 in on Jan 6, 6 sold on Jan 8.
    End-of-day values Jan 1-10: 20 20 12 12 12 32 32 20 20 20 (sum 200, mean 20.00)."""
    root = _book(tmp_path / "turn", [
        {"ts": "2026-01-01T09:00:00+00:00", "type": "received", "sku": "A", "qty": 10, "cost": "2.00"},
        {"ts": "2026-01-03T12:00:00+00:00", "type": "sold", "sku": "A", "qty": 4, "price": "5.00"},
        {"ts": "2026-01-06T09:00:00+00:00", "type": "received", "sku": "A", "qty": 10, "cost": "2.00"},
        {"ts": "2026-01-08T12:00:00+00:00", "type": "sold", "sku": "A", "qty": 6, "price": "5.00"},
        {"ts": "2026-01-20T12:00:00+00:00", "type": "sold", "sku": "A", "qty": 1, "price": "5.00"},  # after the period
    ])
    (a,) = ok_json(root, "turnover", "--to", "2026-01-10")
    assert {k: a[k] for k in ("cogs", "opening_value", "closing_value", "avg_inventory", "turnover", "days_on_hand",
                              "units_sold", "opening_units", "received_units", "sell_through", "days")} == {
        "cogs": "20.00", "opening_value": "0.00", "closing_value": "20.00", "avg_inventory": "20.00", "turnover": 1,
        "days_on_hand": 10, "units_sold": 10, "opening_units": 0, "received_units": 20, "sell_through": 50.0, "days": 10}
    # from Jan 3: 8 days, 12 12 12 32 32 20 20 20 = 160, mean 20; 10 on hand at the start
    (a,) = ok_json(root, "turnover", "--from", "2026-01-03", "--to", "2026-01-10")
    assert (a["avg_inventory"], a["cogs"], a["opening_units"], a["received_units"], a["days"]) == ("20.00", "20.00", 10, 10, 8)
    assert a["sell_through"] == 50.0 and a["turnover"] == 1 and a["days_on_hand"] == 8
    # a period with stock and no sales: no turnover, no days on hand
    (a,) = ok_json(root, "turnover", "--from", "2026-01-10", "--to", "2026-01-15")
    assert (a["cogs"], a["avg_inventory"], a["turnover"], a["days_on_hand"], a["sell_through"]) == ("0.00", "20.00", None, None, 0.0)


def test_turnover_average_inventory_is_the_mean_of_the_days(example: Path) -> None:
    """The average inventory against `stock --as-of` replayed at the end of every day."""
    led = open_ledger(example)
    start = dt.datetime(2026, 10, 1, tzinfo=BERLIN)
    end = dt.datetime(2026, 10, 11, tzinfo=BERLIN)  # --to 2026-10-10
    report = turnover_report(led, start=start, end=end)
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for d in range(1, 11):
        for r in stock_report(led, as_of=dt.datetime(2026, 10, d, tzinfo=BERLIN) + dt.timedelta(days=1)).rows:
            per_day[r["sku"]] += r["value"]
    opening: dict[str, Decimal] = defaultdict(Decimal)
    for r in stock_report(led, as_of=start).rows:
        opening[r["sku"]] += r["value"]
    closing: dict[str, Decimal] = defaultdict(Decimal)
    for r in stock_report(led, as_of=end).rows:
        closing[r["sku"]] += r["value"]
    tiny = Decimal("1e-20")  # the same sums, added in another order
    for row in report.rows:
        assert abs(row["avg_inventory"] - per_day[row["sku"]] / 10) < tiny, row["sku"]
        assert abs(row["opening_value"] - opening[row["sku"]]) < tiny
        assert abs(row["closing_value"] - closing[row["sku"]]) < tiny
    assert report.totals["days"] == 10
    # units sold and received from the raw lines, units at the start from `stock`
    sold: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    for e in _raw_events(example):
        ts = dt.datetime.fromisoformat(e["ts"])
        if start <= ts < end:
            if e["type"] == "sold":
                sold[e["sku"]] += e["qty"]
            elif e["type"] == "received":
                received[e["sku"]] += e["qty"]
    units_at_start: dict[str, int] = defaultdict(int)
    for r in stock_report(led, as_of=start).rows:
        units_at_start[r["sku"]] += r["on_hand"]
    for row in report.rows:
        sku = row["sku"]
        assert (row["units_sold"], row["received_units"], row["opening_units"]) == (sold[sku], received[sku], units_at_start[sku])
    # the category rows are the sums of their SKUs
    cats = {r["category"]: r for r in turnover_report(led, start=start, end=end, by="category").rows}
    for cat, row in cats.items():
        skus = [r for r in report.rows if r["category"] == cat]
        assert row["skus"] == len(skus)
        assert row["cogs"] == sum(r["cogs"] for r in skus)
        assert abs(row["avg_inventory"] - sum(r["avg_inventory"] for r in skus)) < tiny


# --- shrinkage --------------------------------------------------------------------------------------


SHRINK = [
    {"ts": "2026-01-05T09:00:00+00:00", "type": "received", "sku": "A", "qty": 100, "cost": "6.00"},
    {"ts": "2026-01-05T09:00:00+00:00", "type": "received", "sku": "B", "qty": 50, "cost": "1.00"},
    {"ts": "2026-01-10T09:00:00+00:00", "type": "counted", "sku": "A", "qty": 99},  # -1, before --from
    {"ts": "2026-02-01T12:00:00+00:00", "type": "sold", "sku": "A", "qty": 10, "price": "19.90"},
    {"ts": "2026-02-10T18:00:00+00:00", "type": "counted", "sku": "A", "qty": 85},  # 89 -> 85: -4
    {"ts": "2026-02-11T10:00:00+00:00", "type": "adjusted", "sku": "A", "qty": -2, "reason": "damaged"},
    {"ts": "2026-02-12T10:00:00+00:00", "type": "adjusted", "sku": "A", "qty": 1, "reason": "found", "cost": "6.00"},
    {"ts": "2026-02-20T10:00:00+00:00", "type": "counted", "sku": "A", "qty": 84},  # matches: no variance
    {"ts": "2026-03-01T10:00:00+00:00", "type": "counted", "sku": "B", "qty": 52},  # +2
    {"ts": "2026-03-02T10:00:00+00:00", "type": "adjusted", "sku": "B", "qty": -3, "reason": "expired"},
    {"ts": "2026-03-03T10:00:00+00:00", "type": "adjusted", "sku": "B", "qty": -5, "reason": "theft"},  # voided below
    {"ts": "2026-03-04T10:00:00+00:00", "type": "adjusted", "sku": "A", "qty": -1, "reason": "theft"},
    {"ts": "2026-03-05T10:00:00+00:00", "type": "voided", "target": "E000000011", "reason": "typo"},
    {"ts": "2026-04-02T10:00:00+00:00", "type": "counted", "sku": "B", "qty": 40},  # 49 -> 40: -9, after --to
]


def _naive_shrinkage(lines: list[dict[str, Any]], start: dt.datetime, end: dt.datetime) -> list[tuple[str, str, str, int, Decimal]]:
    """(reason, sku, month, qty, value) from the raw lines: one cost per SKU, so value = qty x cost."""
    voided = {e["target"] for e in lines if e["type"] == "voided"}
    cost: dict[str, Decimal] = {}
    on_hand: dict[str, int] = defaultdict(int)
    out = []
    for n, e in enumerate(lines, 1):
        if f"E{n:09d}" in voided or e["type"] == "voided":
            continue
        sku, qty = e["sku"], e["qty"]
        ts = dt.datetime.fromisoformat(e["ts"])
        if e["type"] == "received":
            cost[sku] = Decimal(e["cost"])
            on_hand[sku] += qty
        elif e["type"] == "sold":
            on_hand[sku] -= qty
        elif e["type"] in ("adjusted", "counted"):
            change = qty - on_hand[sku] if e["type"] == "counted" else qty
            on_hand[sku] += change
            if start <= ts < end and change and (e["type"] == "counted" or change < 0):
                out.append((e.get("reason", "count"), sku, ts.strftime("%Y-%m"), change, change * cost[sku]))
    return out


def test_shrinkage_from_raw_lines(tmp_path: Path) -> None:
    root = _book(tmp_path / "shrink", SHRINK)
    naive = _naive_shrinkage(SHRINK, dt.datetime(2026, 2, 1, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert len(naive) == 5
    period = ("--from", "2026-02-01", "--to", "2026-03-31")
    for by, index in (("reason", 0), ("sku", 1), ("month", 2)):
        want: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0)])
        for line in naive:
            w = want[line[index]]
            w[0] += 1
            w[1] += line[3]
            w[2] += line[4]
        rows = ok_json(root, "shrinkage", "--by", by, *period)
        assert {r[by]: [r["events"], r["qty"], Decimal(r["value"])] for r in rows} == dict(want), by
        for r in rows:
            assert r["qty"] == r["count_qty"] + r["written_off_qty"]
            assert Decimal(r["value"]) == Decimal(r["count_value"]) + Decimal(r["written_off_value"])
    by_reason = {r["reason"]: r for r in ok_json(root, "shrinkage", *period)}
    assert (by_reason["count"]["qty"], by_reason["count"]["value"]) == (-2, "-22.00")  # A -4 (-24.00), B +2 (+2.00)
    assert set(by_reason) == {"count", "damaged", "expired", "theft"}  # no "found", no voided theft of B
    assert [r["reason"] for r in ok_json(root, "shrinkage", *period)][0] == "count"  # the biggest loss first
    # no period: the early count and the late one are in
    assert sum(r["events"] for r in ok_json(root, "shrinkage")) == 7


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "code", "message"), [
    (("valuation", "--as-of", "2026-13-01"), 1, "--as-of '2026-13-01' is not a valid date"),
    (("valuation", "--layers", "--by", "category"), 1, "--layers lists the layers of each SKU and location"),
    (("valuation", "--loc", "attic"), 1, "--loc 'attic' is not a location of this ledger"),
    (("valuation", "--category", "toys"), 1, "no item has category 'toys'"),
    (("valuation", "--by", "colour"), 2, "Invalid value for '--by'"),
    (("abc", "--a", "1.5"), 1, "--a 1.5 must be a fraction above 0 and at most 1"),
    (("abc", "--a", "80"), 1, "(for 80% write 0.8)"),
    (("abc", "--a", "0.9", "--b", "0.8"), 1, "--a 0.9 must be below --b 0.8"),
    (("abc", "--b", "lots"), 1, "--b 'lots' is not a number"),
    (("abc", "--from", "2026-10-31", "--to", "2026-01-01"), 1, "--from 2026-10-31 is after --to 2026-01-01"),
    (("turnover", "--from", "yesterday"), 1, "--from 'yesterday' is not a valid date"),
    (("turnover", "--by", "loc"), 2, "Invalid value for '--by'"),
    (("aging", "--dead-days", "0"), 2, "Invalid value for '--dead-days'"),
    (("aging", "--as-of", "31.10.2026"), 1, "--as-of '31.10.2026' is not a valid"),
    (("shrinkage", "--to", "2026-02-30"), 1, "--to '2026-02-30' is not a valid date"),
    (("shrinkage", "--by", "week"), 2, "Invalid value for '--by'"),
    (("expiry", "--within", "-1"), 2, "Invalid value for '--within'"),
    (("expiry", "--within", "soon"), 2, "Invalid value for '--within'"),
])
def test_bad_input(example: Path, args: tuple[str, ...], code: int, message: str) -> None:
    got, out, err = run(example, *args)
    assert got == code, err
    assert out == ""
    assert message in err
    if code == 1:
        assert err.count("\n") == 1 and err.startswith("error: ")


def test_help_ends_with_an_example() -> None:
    for name in COMMANDS:
        r = CliRunner().invoke(APP, [name, "--help"])
        assert r.exit_code == 0
        assert f"Example: invctl report {name} " in r.stdout, name
