"""`report sales`, `report margin` and `report customers`.

- Golden files (tests/golden/sales/) pin the JSON and the table of each report on
  examples/shop over fixed dates; `INVCTL_UPDATE_GOLDEN=1` rewrites them.
- The figures are checked against a naive recomputation straight from the journal lines
  (json, Decimal, zoneinfo: nothing of invctl), on the example shop for sales and customers,
  and on a small hand-made ledger with an independent FIFO for the cost of goods sold.
- Bad input is one line and exit 1.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from invctl.catalog import add_entry
from invctl.cli.main import Group
from invctl.cli.report_sales import customers, margin, sales
from invctl.create import init_ledger
from invctl.events import to_line
from invctl.reports import customers as C
from invctl.reports import periods as P
from invctl.reports import sales as S

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "examples" / "shop"
GOLDEN = Path(__file__).parent / "golden" / "sales"
UPDATE = os.environ.get("INVCTL_UPDATE_GOLDEN") == "1"
BERLIN = ZoneInfo("Europe/Berlin")
CENT = Decimal("0.01")


def _app() -> typer.Typer:
    """The three commands under a root like invctl's (Group: a refusal is one line and exit 1)."""
    app = typer.Typer(cls=Group, add_completion=False, rich_markup_mode=None)
    app.callback()(lambda: None)
    app.command("sales")(sales)
    app.command("margin")(margin)
    app.command("customers")(customers)
    return app


def run(root: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(_app(), [args[0], "-L", str(root), *args[1:]], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def ok_json(root: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = run(root, *args, "--format", "json")
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def money(x: Decimal) -> str:
    """Rounded half-up to cents, as invctl prints money."""
    from decimal import ROUND_HALF_UP

    r = x.quantize(CENT, rounding=ROUND_HALF_UP)
    return "0.00" if r == 0 else f"{r:f}"


@pytest.fixture(autouse=True)
def _stable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("NO_COLOR", "1")


# --- golden files on the example shop -----------------------------------------------------------

FROM, TO = "2026-01-01", "2026-10-31"
CASES = {
    "sales-sku": ("sales", "--by", "sku", "--from", FROM, "--to", TO),
    "sales-category": ("sales", "--by", "category", "--from", FROM, "--to", TO),
    "sales-channel": ("sales", "--by", "channel", "--from", FROM, "--to", TO),
    "sales-region-october": ("sales", "--by", "region", "--from", "2026-10-01", "--to", TO),
    "sales-week": ("sales", "--by", "week", "--from", "2026-08-01", "--to", TO),
    "sales-month": ("sales", "--by", "month", "--from", "2025-11-01", "--to", TO),
    "margin-sku": ("margin", "--by", "sku", "--from", FROM, "--to", TO),
    "margin-category": ("margin", "--by", "category", "--from", FROM, "--to", TO),
    "margin-channel": ("margin", "--by", "channel", "--from", FROM, "--to", TO),
    "customers-top": ("customers", "--from", FROM, "--to", TO, "--limit", "25"),
    "customers-at-risk": ("customers", "--from", FROM, "--as-of", TO, "--segment", "at_risk", "--limit", "10"),
    "customers-summary": ("customers", "--from", FROM, "--to", TO, "--summary"),
}


def _golden(name: str, got: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with INVCTL_UPDATE_GOLDEN=1 to write it"
    want = path.read_text(encoding="utf-8")
    assert got == want, f"{name} differs from its golden file (INVCTL_UPDATE_GOLDEN=1 rewrites it after a deliberate change)"


@pytest.mark.parametrize("name", CASES)
def test_golden_json(name: str) -> None:
    code, out, err = run(SHOP, *CASES[name], "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    _golden(f"{name}.json", json.dumps(rows, indent=1, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("name", CASES)
def test_golden_table(name: str) -> None:
    code, out, err = run(SHOP, *CASES[name])
    assert code == 0, err
    assert err == ""
    _golden(f"{name}.txt", "\n".join(line.rstrip() for line in out.splitlines()) + "\n")


def test_csv_has_the_json_keys_and_no_chart() -> None:
    code, out, _ = run(SHOP, "sales", "--by", "channel", "--from", FROM, "--to", TO, "--format", "csv")
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert header == ["channel", "units", "units_returned", "gross_sales", "returns", "net_sales", "orders",
                      "return_rate", "share"]
    assert len(out.splitlines()) == 4  # shopify, amazon, pos


def test_json_rows_carry_the_contract_keys() -> None:
    for by in S.GROUPS:
        rows = ok_json(SHOP, "sales", "--by", by, "--from", "2026-10-01", "--to", TO)
        assert rows and all({by, "units", "gross_sales", "returns", "net_sales", "orders"} <= set(r) for r in rows)
        assert all("trend" not in r for r in rows)
    for by in S.MARGIN_GROUPS:
        rows = ok_json(SHOP, "margin", "--by", by, "--from", "2026-10-01", "--to", TO)
        assert rows and all({by, "net_sales", "cogs", "margin", "margin_pct"} <= set(r) for r in rows)


def test_the_examples_in_docs_reports_are_true() -> None:
    """Each `$ invctl report sales|margin|customers ...` block of docs/reports.md is what the
    command prints on the example shop."""
    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n\$ invctl report (sales|margin|customers) (.*?)\n(.*?)```", text, re.S)
    assert len(blocks) == 3
    for command, args, shown in blocks:
        code, out, _ = run(SHOP, command, *args.split())
        assert code == 0
        assert "\n".join(line.rstrip() for line in out.splitlines()).strip() == shown.strip(), f"{command} {args}"


# --- a naive recomputation from the journal lines -------------------------------------------------


def journal(root: Path) -> list[dict[str, Any]]:
    """Every live event (voided ones left out), in (instant, id) order."""
    events = [json.loads(line) for p in sorted((root / "journal").rglob("*.jsonl"))
              for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    voided = {e["target"] for e in events if e["type"] == "voided"}
    live = [e for e in events if e["id"] not in voided]
    for e in live:
        e["at"] = dt.datetime.fromisoformat(e["ts"])
    return sorted(live, key=lambda e: (e["at"], e["id"]))


def local_day(e: dict[str, Any], tz: ZoneInfo) -> dt.date:
    return e["at"].astimezone(tz).date()


def naive_sales(root: Path, by: str, start: dt.date, end: dt.date, tz: ZoneInfo,
                category: dict[str, str | None]) -> dict[Any, dict[str, Any]]:
    """Per group: units, gross, returns, net and distinct orders, as docs/reports.md defines them."""
    events = journal(root)
    sale_of: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    out: dict[Any, dict[str, Any]] = defaultdict(lambda: {"units": 0, "gross": Decimal(0), "returns": Decimal(0),
                                                          "orders": set(), "loose": 0})

    def key(e: dict[str, Any], sale: dict[str, Any] | None) -> Any:
        day = local_day(e, tz)
        if by == "sku":
            return e["sku"]
        if by == "category":
            return category.get(e["sku"])
        if by == "day":
            return day.isoformat()
        if by == "week":
            y, w, _ = day.isocalendar()
            return f"{y}-W{w:02d}"
        if by == "month":
            return f"{day.year}-{day.month:02d}"
        return e.get(by) if e.get(by) is not None else (sale or {}).get(by)

    for e in events:
        if e["type"] == "sold" and "order" in e:
            sale_of[(e["order"], e["sku"])].append(e)
        if e["type"] not in ("sold", "returned") or not (start <= local_day(e, tz) <= end):
            continue
        qty = Decimal(str(e["qty"]))
        if e["type"] == "sold":
            g = out[key(e, None)]
            g["units"] += qty
            g["gross"] += qty * Decimal(e["price"])
            if "order" in e:
                g["orders"].add(e["order"])
            else:
                g["loose"] += 1
        else:
            sales = sale_of.get((e.get("order"), e["sku"]), [])
            if "refund" in e:
                unit = Decimal(e["refund"])
            else:
                units = sum(Decimal(str(s["qty"])) for s in sales)
                unit = sum(Decimal(str(s["qty"])) * Decimal(s["price"]) for s in sales) / units
            g = out[key(e, sales[-1] if sales else None)]
            g["returns"] += qty * unit
    return out


@pytest.mark.parametrize("by", S.GROUPS)
def test_sales_match_a_naive_recomputation(by: str) -> None:
    from invctl.settings import open_ledger

    category = {sku: it.category for sku, it in open_ledger(SHOP).catalog.items.items()}
    start, end = dt.date(2026, 3, 1), dt.date(2026, 6, 30)
    want = naive_sales(SHOP, by, start, end, BERLIN, category)
    rows = ok_json(SHOP, "sales", "--by", by, "--from", start.isoformat(), "--to", end.isoformat())
    got = {r[by]: r for r in rows}
    present = {k for k, g in want.items() if g["units"] or g["returns"]}
    assert {k for k, r in got.items() if r["units"] or r["returns"] != "0.00"} == present
    for k in present:
        w, r = want[k], got[k]
        assert r["units"] == w["units"], k
        assert r["gross_sales"] == money(w["gross"]), k
        assert r["returns"] == money(w["returns"]), k
        assert r["net_sales"] == money(w["gross"] - w["returns"]), k
        assert r["orders"] == len(w["orders"]) + w["loose"], k
    if by in S.TIME_GROUPS:
        assert [r[by] for r in rows] == sorted(got), "time rows in time order"
        assert len(rows) == {"day": 122, "week": 19, "month": 4}[by], "one row per period, empty ones too"


def test_sales_total_counts_each_order_once() -> None:
    events = journal(SHOP)
    start, end = dt.date(2026, 3, 1), dt.date(2026, 6, 30)
    sold = [e for e in events if e["type"] == "sold" and start <= local_day(e, BERLIN) <= end]
    orders = {e["order"] for e in sold if "order" in e} | {e["id"] for e in sold if "order" not in e}
    code, out, _ = run(SHOP, "sales", "--by", "sku", "--from", str(start), "--to", str(end))
    assert code == 0
    total = next(line for line in out.splitlines() if line.strip().startswith("Total"))
    assert f" {len(orders)} " in total  # the footer: distinct orders overall, not the sum of the rows
    rows = ok_json(SHOP, "sales", "--by", "sku", "--from", str(start), "--to", str(end))
    assert sum(r["orders"] for r in rows) > len(orders)  # an order of two SKUs is in both rows


def naive_customers(root: Path, start: dt.date, end: dt.date, tz: ZoneInfo) -> dict[str, dict[str, Any]]:
    events = journal(root)
    sale_of: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        day = local_day(e, tz)
        if day > end:
            break
        if e["type"] == "sold":
            if "order" in e:
                sale_of[(e["order"], e["sku"])].append(e)
            name = e.get("customer")
            if name is None:
                continue
            c = out.setdefault(name, {"first": day, "last": day, "orders": set(), "loose": 0, "units": 0,
                                      "net": Decimal(0), "active": False, "first_in": day >= start})
            c["last"] = day
            if day >= start:
                c["active"] = True
                c["units"] += e["qty"]
                c["net"] += e["qty"] * Decimal(e["price"])
                if "order" in e:
                    c["orders"].add(e["order"])
                else:
                    c["loose"] += 1
        elif e["type"] == "returned" and day >= start:
            sales = sale_of.get((e.get("order"), e["sku"]), [])
            name = e.get("customer") or (sales[-1].get("customer") if sales else None)
            if name is None:
                continue
            c = out.setdefault(name, {"first": None, "last": None, "orders": set(), "loose": 0, "units": 0,
                                      "net": Decimal(0), "active": False, "first_in": False})
            c["active"] = True
            c["net"] -= e["qty"] * Decimal(e["refund"])
    return {k: c for k, c in out.items() if c["active"]}


def quintile(values: list[Any], v: Any) -> int:
    """ceil(5 × (values below + half the equal ones) ÷ n), as docs/reports.md defines the scores."""
    below = sum(1 for x in values if x < v)
    equal = sum(1 for x in values if x == v)
    return min(5, max(1, math.ceil(5 * (below + equal / 2) / len(values))))


def test_customers_match_a_naive_recomputation() -> None:
    start, end = dt.date(2026, 7, 1), dt.date(2026, 10, 31)
    want = naive_customers(SHOP, start, end, BERLIN)
    rows = ok_json(SHOP, "customers", "--from", str(start), "--to", str(end))
    got = {r["customer"]: r for r in rows}
    assert set(got) == set(want)
    for name, w in want.items():
        r = got[name]
        orders = len(w["orders"]) + w["loose"]
        assert (r["orders"], r["units"], r["net_sales"]) == (orders, w["units"], money(w["net"])), name
        assert r["first_purchase"] == (w["first"].isoformat() if w["first"] else None), name
        assert r["last_purchase"] == (w["last"].isoformat() if w["last"] else None), name
        assert r["repeat"] is (orders > 1)
        assert r["days_since"] == ((end - w["last"]).days if w["last"] else None)
    # The scores, by their definition (a quadratic count here, a sort in the report).
    names = sorted(want)
    sample = names[:: max(1, len(names) // 60)]
    days = [got[n]["days_since"] for n in names]
    orders = [got[n]["orders"] for n in names]
    nets = [Decimal(got[n]["net_sales"]) for n in names]  # rounded to cents: ties as in the report
    for n in sample:
        r = got[n]
        assert r["r_score"] == 6 - quintile(days, r["days_since"]), n
        assert r["f_score"] == quintile(orders, r["orders"]), n
        assert r["rfm"] == f"{r['r_score']}{r['f_score']}{r['m_score']}"
        assert r["segment"] == C.segment(r["r_score"], r["f_score"], r["m_score"], r["orders"],
                                         want[n]["first_in"])
    assert abs(sum(Decimal(got[n]["net_sales"]) for n in names) - sum(nets)) < CENT
    # The title's repeat rate.
    code, out, _ = run(SHOP, "customers", "--from", str(start), "--to", str(end), "--limit", "1")
    buyers = [n for n in names if got[n]["orders"]]
    rate = Decimal(sum(1 for n in buyers if got[n]["repeat"])) / len(buyers) * 100
    assert f"{len(names)} customers, {rate:.1f}% repeat" in out


def test_customer_summary_adds_up() -> None:
    rows = ok_json(SHOP, "customers", "--from", FROM, "--to", TO, "--summary")
    people = ok_json(SHOP, "customers", "--from", FROM, "--to", TO)
    assert [r["segment"] for r in rows] == [*C.SEGMENTS, "all"]
    *segments, everyone = rows
    assert everyone["customers"] == len(people) == sum(r["customers"] for r in segments)
    assert everyone["orders"] == sum(r["orders"] for r in segments) == sum(p["orders"] for p in people)
    for r in segments:
        members = [p for p in people if p["segment"] == r["segment"]]
        assert r["customers"] == len(members)
        assert Decimal(r["net_sales"]) == sum(Decimal(p["net_sales"]) for p in members)
    by_segment = {s: ok_json(SHOP, "customers", "--from", FROM, "--to", TO, "--segment", s) for s in C.SEGMENTS}
    assert sum(len(v) for v in by_segment.values()) == len(people)
    assert all(p["segment"] == s for s, v in by_segment.items() for p in v)


# --- a hand-made ledger: COGS from an independent FIFO ---------------------------------------------


class Book:
    """A small UTC ledger written line by line (ids in time order unless given)."""

    def __init__(self, root: Path):
        init_ledger(root, currency="EUR", timezone="UTC", locations=["main"], git=False)
        add_entry(root, "item", "A", {"name": "Item A", "category": "tees", "price": "10.00"})
        add_entry(root, "item", "B", {"name": "Item B", "category": "caps", "price": "5.00", "cost": "1.00"})
        self.root = root
        self.n = 0
        self.lines: list[tuple[str, bytes]] = []

    def add(self, ts: str, kind: str, **fields: Any) -> str:
        self.n += 1
        ev = {"id": f"E{self.n:04d}", "ts": ts, "type": kind, **fields}
        if kind not in ("voided",):
            ev.setdefault("loc", "main")
        self.lines.append((ts[:7], to_line(ev)))
        return str(ev["id"])

    def write(self) -> Path:
        for month, line in self.lines:
            path = self.root / "journal" / month[:4] / f"{month}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as fh:
                fh.write(line)
        return self.root


def scenario(root: Path) -> Path:
    """Costs by hand (FIFO):

    A: in 10 @2.00 and 10 @3.00; O1 sells 12 @10 (web, C1, DE): COGS 10×2 + 2×3 = 26.
       O1 returns 2 without channel or customer, refund 10 (from its sale: web, C1, DE), back
       at O1's unit COGS 26/12: −4.33…; pos sells 5 @9 with no order: 15 (from the 3.00 layer);
       O3 sells 1 @10 (web, C1): 3. A sale of O4 is voided.
    B: amazon (O2, C2, AT) sells 3 @6 with nothing on hand: booked at the catalog cost 1.00 = 3;
       a receipt of 5 @1.50 fills the gap: true-up 3 × 0.50 = 1.50 (amazon's, who sold short);
       web (O5, C2) sells 1 @5: 1.50. O2 returns 1 without refund and without restock: valued at
       O2's price 6.00, COGS 0.
    Z (not in the catalog): web (O3, C1) sells 2 @4 with no cost known: 0; one comes back with
       no order and no refund: valued 0 (a note says so).
    """
    b = Book(root)
    b.add("2026-01-01T09:00:00+00:00", "received", sku="A", qty=10, cost="2.00")
    b.add("2026-01-01T09:01:00+00:00", "received", sku="A", qty=10, cost="3.00")
    b.add("2026-01-05T10:00:00+00:00", "sold", sku="A", qty=12, price="10.00", channel="web", customer="C1",
          region="DE", order="O1")
    b.add("2026-01-06T10:00:00+00:00", "returned", sku="A", qty=2, refund="10.00", order="O1")
    b.add("2026-01-07T10:00:00+00:00", "sold", sku="A", qty=5, price="9.00", channel="pos")
    b.add("2026-01-08T10:00:00+00:00", "sold", sku="B", qty=3, price="6.00", channel="amazon", customer="C2",
          region="AT", order="O2")
    b.add("2026-01-09T10:00:00+00:00", "received", sku="B", qty=5, cost="1.50")
    b.add("2026-01-10T10:00:00+00:00", "sold", sku="B", qty=1, price="5.00", channel="web", customer="C2",
          region="AT", order="O5")
    b.add("2026-01-11T10:00:00+00:00", "returned", sku="B", qty=1, restock=False, order="O2")
    b.add("2026-01-12T10:00:00+00:00", "sold", sku="Z", qty=2, price="4.00", channel="web", customer="C1",
          region="DE", order="O3")
    b.add("2026-01-12T11:00:00+00:00", "sold", sku="A", qty=1, price="10.00", channel="web", customer="C1",
          region="DE", order="O3")
    gone = b.add("2026-01-13T10:00:00+00:00", "sold", sku="A", qty=1, price="10.00", channel="web", customer="C3",
                 order="O4")
    b.add("2026-01-13T11:00:00+00:00", "voided", target=gone, reason="entered twice")
    b.add("2026-01-14T10:00:00+00:00", "returned", sku="Z", qty=1)
    return b.write()


def naive_fifo(root: Path, catalog_cost: dict[str, Decimal]) -> dict[str, Decimal]:
    """COGS per event id by plain FIFO on one location, as docs/format.md describes the replay:
    sales take the oldest layers, then go short at the last receipt's (else the catalog's) cost;
    a receipt fills the shortfall first and books the difference as a true-up; a restocked
    return goes back at its order's unit COGS (else the current unit cost) as the newest layer."""
    layers: dict[str, list[list[Decimal]]] = defaultdict(list)
    short: dict[str, list[list[Decimal]]] = defaultdict(list)
    last: dict[str, Decimal] = {}
    sold: dict[tuple[str, str], list[Decimal]] = {}
    cogs: dict[str, Decimal] = {}

    def fallback(sku: str) -> Decimal:
        return last.get(sku, catalog_cost.get(sku, Decimal(0)))

    def put(sku: str, qty: Decimal, unit: Decimal) -> Decimal:
        trueup = Decimal(0)
        while qty and short[sku]:
            gap = short[sku][0]
            take = min(qty, gap[0])
            trueup += take * (unit - gap[1])
            gap[0] -= take
            qty -= take
            if not gap[0]:
                short[sku].pop(0)
        if qty:
            layers[sku].append([qty, unit])
        return trueup

    for e in journal(root):
        sku, qty = e.get("sku", ""), Decimal(str(e.get("qty", 0)))
        if e["type"] == "received":
            unit = Decimal(e["cost"])
            cogs[e["id"]] = put(sku, qty, unit)
            last[sku] = unit
        elif e["type"] == "sold":
            cost, need = Decimal(0), qty
            while need and layers[sku]:
                layer = layers[sku][0]
                take = min(need, layer[0])
                cost += take * layer[1]
                layer[0] -= take
                need -= take
                if not layer[0]:
                    layers[sku].pop(0)
            if need:
                cost += need * fallback(sku)
                short[sku].append([need, fallback(sku)])
            cogs[e["id"]] = cost
            if "order" in e:
                q, c = sold.get((e["order"], sku), [Decimal(0), Decimal(0)])
                sold[(e["order"], sku)] = [q + qty, c + cost]
        elif e["type"] == "returned":
            if e.get("restock") is False:
                cogs[e["id"]] = Decimal(0)
                continue
            sale = sold.get((e.get("order"), sku))
            if sale and sale[0]:
                unit = sale[1] / sale[0]
            else:
                on_hand = sum(la[0] for la in layers[sku])
                unit = sum(la[0] * la[1] for la in layers[sku]) / on_hand if on_hand > 0 else fallback(sku)
            cogs[e["id"]] = put(sku, qty, unit) - qty * unit
    return cogs


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return scenario(tmp_path / "book")


def test_margin_matches_an_independent_fifo(book: Path) -> None:
    cogs = naive_fifo(book, {"B": Decimal("1.00")})
    events = {e["id"]: e for e in journal(book)}
    # By hand (see scenario): A 26 − 26/6 + 15 + 3; B 3 + 1.50 + 1.50; Z 0.
    assert sum(c for i, c in cogs.items() if events[i]["sku"] == "A") == Decimal(26) - Decimal(26) / 6 + 18
    assert sum(c for i, c in cogs.items() if events[i]["sku"] == "B") == Decimal("6.00")

    def group_of(e: dict[str, Any], by: str) -> Any:
        if by == "sku":
            return e["sku"]
        if by == "category":
            return {"A": "tees", "B": "caps"}.get(e["sku"])
        if e["type"] == "received":
            return "amazon"  # B's true-up: amazon sold it short
        return e.get("channel") or {"O1": "web", "O2": "amazon"}.get(e.get("order", ""))

    for by in ("sku", "category", "channel"):
        want: dict[Any, Decimal] = defaultdict(Decimal)
        for i, c in cogs.items():
            if c:
                want[group_of(events[i], by)] += c
        rows = ok_json(book, "margin", "--by", by)
        got = {r[by]: r for r in rows}
        assert {k for k, r in got.items() if r["cogs"] != "0.00"} == set(want), by
        for k, c in want.items():
            assert got[k]["cogs"] == money(c), (by, k)
            net = Decimal(got[k]["net_sales"])
            assert got[k]["margin"] == money(net - c), (by, k)
        total = sum(cogs.values(), Decimal(0))
        assert sum(Decimal(r["cogs"]) for r in rows) == pytest.approx(total, abs=Decimal("0.02"))


def test_margin_totals_agree_whatever_the_grouping() -> None:
    """True-ups are shared out differently by channel; the whole stays the same."""
    totals = []
    for by in S.MARGIN_GROUPS:
        rows = ok_json(SHOP, "margin", "--by", by, "--to", TO)
        totals.append(sum(Decimal(r["cogs"]) for r in rows))  # rows are rounded to cents
    assert max(totals) - min(totals) <= CENT * 40 / 2, totals


def test_hand_ledger_sales_by_every_key(book: Path) -> None:
    # Net: A 120 − 20 + 45 + 10 = 155; B 18 + 5 − 6 (return at O2's price) = 17; Z 8 − 0 = 8.
    by_sku = {r["sku"]: r for r in ok_json(book, "sales", "--by", "sku")}
    assert {k: by_sku[k]["net_sales"] for k in by_sku} == {"A": "155.00", "B": "17.00", "Z": "8.00"}
    assert {k: by_sku[k]["orders"] for k in by_sku} == {"A": 3, "B": 2, "Z": 1}  # pos sale: an order of its own
    assert by_sku["B"]["returns"] == "6.00" and by_sku["A"]["units_returned"] == 2
    by_channel = {r["channel"]: r["returns"] for r in ok_json(book, "sales", "--by", "channel")}
    assert by_channel == {"web": "20.00", "amazon": "6.00", "pos": "0.00", None: "0.00"}  # Z's return: no channel
    by_region = {r["region"]: r["net_sales"] for r in ok_json(book, "sales", "--by", "region")}
    assert by_region == {"DE": "118.00", "AT": "17.00", None: "45.00"}  # O1's return is DE's
    by_customer = {r["customer"]: r["net_sales"] for r in ok_json(book, "sales", "--by", "customer")}
    assert by_customer == {"C1": "118.00", "C2": "17.00", None: "45.00"}
    by_category = {r["category"]: r["net_sales"] for r in ok_json(book, "sales", "--by", "category")}
    assert by_category == {"tees": "155.00", "caps": "17.00", None: "8.00"}
    code, out, err = run(book, "sales", "--by", "category")
    assert code == 0 and "(none)" in out  # a missing key in the table
    assert "1 returns have no refund, no sale of their order and no catalog price: valued at 0" in err


def test_a_return_before_its_sale_period_takes_keys_from_the_earlier_sale(book: Path) -> None:
    # From 01-06: O1's sale (01-05) is before the period, its return in it (web, DE, C1).
    rows = {r["region"]: r for r in ok_json(book, "sales", "--by", "region", "--from", "2026-01-06")}
    assert rows["DE"]["returns"] == "20.00" and rows["DE"]["gross_sales"] == "18.00"
    margin_rows = {r["channel"]: r for r in ok_json(book, "margin", "--by", "channel", "--from", "2026-01-06")}
    assert margin_rows["web"]["cogs"] == money(-Decimal(26) / 6 + 3 + Decimal("1.50"))


def test_customers_on_the_hand_ledger(book: Path) -> None:
    rows = {r["customer"]: r for r in ok_json(book, "customers", "--to", "2026-01-31")}
    assert set(rows) == {"C1", "C2"}  # C3's only sale was voided
    c1, c2 = rows["C1"], rows["C2"]
    assert (c1["orders"], c1["units"], c1["net_sales"], c1["repeat"]) == (2, 15, "118.00", True)
    assert (c2["orders"], c2["units"], c2["net_sales"]) == (2, 4, "17.00")
    assert (c1["first_purchase"], c1["last_purchase"], c1["days_since"]) == ("2026-01-05", "2026-01-12", 19)
    assert c2["days_since"] == 21
    # From 01-09 C2 has bought before: not new; C1's return of O1 (01-06) is before the period.
    later = {r["customer"]: r for r in ok_json(book, "customers", "--from", "2026-01-09", "--to", "2026-01-31")}
    assert later["C1"]["net_sales"] == "18.00" and later["C1"]["first_purchase"] == "2026-01-05"
    assert later["C2"]["net_sales"] == "-1.00" and later["C2"]["orders"] == 1


def test_days_are_local_days(tmp_path: Path) -> None:
    """23:30 UTC on 24 October is 01:30 on the 25th in Berlin (CEST); 23:30 UTC on the 25th is
    00:30 on the 26th (CET): the report's days are the ledger's."""
    b = Book(tmp_path / "shop")
    (b.root / "invctl.toml").write_text((b.root / "invctl.toml").read_text().replace('"UTC"', '"Europe/Berlin"'))
    b.add("2026-10-24T21:00:00+00:00", "sold", sku="A", qty=1, price="1.00", order="X1")
    b.add("2026-10-24T23:30:00+00:00", "sold", sku="A", qty=2, price="1.00", order="X2")
    b.add("2026-10-25T23:30:00+00:00", "sold", sku="A", qty=4, price="1.00", order="X3")
    b.add("2026-10-26T01:00:00+02:00", "sold", sku="A", qty=8, price="1.00", order="X4")  # 00:00 CET, the 26th
    rows = ok_json(b.write(), "sales", "--by", "day", "--from", "2026-10-24", "--to", "2026-10-26")
    assert [(r["day"], r["units"], r["orders"]) for r in rows] == [
        ("2026-10-24", 1, 1), ("2026-10-25", 2, 1), ("2026-10-26", 12, 2)]


def test_an_out_of_order_line_restarts_the_report_cleanly(tmp_path: Path) -> None:
    """A back-dated line appended later makes the replay start over sorted: the observers'
    reset() must forget the first attempt."""
    b = Book(tmp_path / "shop")
    b.add("2026-03-01T10:00:00+00:00", "sold", sku="A", qty=1, price="10.00", customer="K", order="P1")
    b.add("2026-03-20T10:00:00+00:00", "sold", sku="A", qty=2, price="10.00", customer="K", order="P2")
    b.add("2026-03-10T10:00:00+00:00", "sold", sku="A", qty=4, price="10.00", customer="L", order="P3")
    root = b.write()
    rows = ok_json(root, "sales", "--by", "sku")
    assert (rows[0]["units"], rows[0]["orders"], rows[0]["net_sales"]) == (7, 3, "70.00")
    people = {r["customer"]: (r["orders"], r["units"]) for r in ok_json(root, "customers", "--to", "2026-03-31")}
    assert people == {"K": (2, 3), "L": (1, 4)}


def test_order_lines_count_once_within_the_window(tmp_path: Path) -> None:
    """Lines of one order ref count once when within 31 days of each other, other orders in
    between or not; much further apart they count again (documented: the memory of orders is
    a window, so that it stays flat on long journals)."""
    b = Book(tmp_path / "shop")
    b.add("2026-01-01T10:00:00+00:00", "sold", sku="A", qty=1, price="1.00", order="R1")
    b.add("2026-01-10T10:00:00+00:00", "sold", sku="A", qty=1, price="1.00", order="R2")
    b.add("2026-01-20T10:00:00+00:00", "sold", sku="A", qty=1, price="1.00", order="R1")
    root = b.write()
    assert ok_json(root, "sales", "--by", "sku")[0]["orders"] == 2
    b.lines.clear()
    b.add("2026-04-20T10:00:00+00:00", "sold", sku="A", qty=1, price="1.00", order="R3")
    b.add("2026-05-01T10:00:00+00:00", "sold", sku="A", qty=1, price="1.00", order="R1")
    assert ok_json(b.write(), "sales", "--by", "sku")[0]["orders"] == 4


# --- charts -----------------------------------------------------------------------------------------


def test_sparkline_and_bar() -> None:
    assert P.sparkline([0, 1, 2, 4]) == " ▃▅█"
    assert P.sparkline([0, 0]) == "  "
    assert P.sparkline([-3, 5]) == " █"
    assert P.bar(10, 10, width=4) == "████"
    assert P.bar(5, 10, width=3) == "█▌"
    assert P.bar(0, 10) == P.bar(-1, 10) == ""


def test_periods() -> None:
    assert P.period_label("week", dt.date(2026, 12, 31)) == "2026-W53"
    assert P.period_label("week", dt.date(2027, 1, 4)) == "2027-W01"
    assert P.period_label("quarter", dt.date(2026, 11, 5)) == "2026-Q4"
    assert P.next_period("quarter", dt.date(2026, 11, 5)) == dt.date(2027, 1, 1)
    assert P.next_period("week", dt.date(2026, 10, 25)) == dt.date(2026, 10, 26)  # a Sunday
    assert P.periods("month", dt.date(2026, 1, 31), dt.date(2026, 3, 1)) == ["2026-01", "2026-02", "2026-03"]
    assert P.periods("week", dt.date(2026, 10, 1), dt.date(2026, 10, 31))[0] == "2026-W40"
    assert [P.trend_unit(dt.date(2026, 1, 1), dt.date(2026, 1, d)) for d in (31,)] == ["day"]
    assert P.trend_unit(dt.date(2026, 1, 1), dt.date(2026, 6, 30)) == "week"
    assert P.trend_unit(dt.date(2026, 1, 1), dt.date(2028, 12, 31)) == "month"
    assert P.trend_unit(dt.date(2020, 1, 1), dt.date(2028, 12, 31)) == "quarter"


def test_trend_shows_the_periods_of_the_range() -> None:
    code, out, _ = run(SHOP, "sales", "--by", "channel", "--from", "2026-10-01", "--to", "2026-10-31")
    assert code == 0 and "Daily" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("shopify"))
    spark = re.search(r"[ ▁▂▃▄▅▆▇█]{31}\s*$", line)
    assert spark, line  # 31 days of October


def test_scores_share_ties() -> None:
    assert C.scores([1, 2, 3, 4, 5]) == [1, 2, 3, 4, 5]
    assert C.scores([7, 7, 7]) == [3, 3, 3]
    assert C.scores([1, 1, 1, 1, 1, 1, 1, 2, 2, 3]) == [2, 2, 2, 2, 2, 2, 2, 4, 4, 5]
    assert C.scores([10, 20], higher_is_better=False) == [4, 2]
    assert C.segment(5, 5, 5, 3, False) == "champions"
    assert C.segment(3, 3, 3, 2, False) == "loyal"
    assert C.segment(5, 1, 3, 1, True) == "new"
    assert C.segment(5, 1, 3, 1, False) == "promising"
    assert C.segment(1, 5, 5, 9, False) == "at_risk"
    assert C.segment(2, 1, 2, 1, False) == "lapsing"


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "words"), [
    (("sales", "--by", "nope"), "--by 'nope' is not one of: sku, category, channel, customer, region, day, week, month"),
    (("margin", "--by", "customer"), "--by 'customer' is not one of: sku, category, channel"),
    (("sales", "--from", "2026-05-01", "--to", "2026-04-01"), "--from 2026-05-01 is after --to 2026-04-01"),
    (("margin", "--from", "2026-05-01", "--to", "2026-04-30"), "is after --to"),
    (("sales", "--from", "2026-13-01"), "--from '2026-13-01' is not a valid date"),
    (("sales", "--to", "soon"), "--to 'soon' is not a valid"),
    (("customers", "--from", "2026-05-01", "--to", "2026-04-01"), "is after --to"),
    (("customers", "--to", "2026-05-01", "--as-of", "2026-04-01"), "--to 2026-05-01 is after --as-of 2026-04-01"),
    (("customers", "--from", "2026-05-01", "--as-of", "2026-04-01"), "--from 2026-05-01 is after --as-of 2026-04-01"),
    (("customers", "--segment", "vip"), "--segment 'vip' is not one of: champions, loyal, new, promising, at_risk, lapsing"),
    (("customers", "--segment", "new", "--summary"), "do not go together"),
])
def test_bad_input_is_one_line(args: tuple[str, ...], words: str) -> None:
    code, out, err = run(SHOP, *args)
    assert code == 1, (code, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], err


def test_a_table_of_customers_shows_the_first_hundred() -> None:
    code, out, err = run(SHOP, "customers", "--from", FROM, "--to", TO)
    assert code == 0
    assert "warning: the table shows the first 100 of 4620 customers; --limit N shows more" in err
    assert sum(1 for line in out.splitlines() if line.strip().startswith("C-")) == 100
    assert len(ok_json(SHOP, "customers", "--from", FROM, "--to", TO)) == 4620
    code, out, err = run(SHOP, "sales", "--by", "customer", "--from", FROM, "--to", TO, "--limit", "150")
    assert err == "" and sum(1 for line in out.splitlines() if line.strip().startswith(("C-", "(none)"))) == 150
    code, out, err = run(SHOP, "sales", "--by", "customer", "--from", FROM, "--to", TO)
    assert "the table shows the first 100 of 4621 customer rows" in err  # with the sales of no customer


def test_bad_limit_is_a_usage_error() -> None:
    code, _, err = run(SHOP, "sales", "--limit", "0")
    assert code == 2 and "--limit" in err


def test_empty_period() -> None:
    rows = ok_json(SHOP, "sales", "--from", "2030-01-01", "--to", "2030-01-31")
    assert rows == []
    assert len(ok_json(SHOP, "sales", "--by", "week", "--from", "2030-01-01", "--to", "2030-01-31")) == 5
    code, out, _ = run(SHOP, "margin", "--from", "2030-01-01", "--to", "2030-01-31")
    assert code == 0 and "Total" in out
    assert ok_json(SHOP, "customers", "--from", "2030-01-01", "--to", "2030-01-31") == []
