"""The DuckDB recipe of docs/integrations.md, run as written on examples/shop."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Shop

ROOT = Path(__file__).resolve().parent.parent


def _duckdb() -> Any:
    """DuckDB, from the test extra; CI installs it, so there a missing one is a failure."""
    if os.environ.get("CI"):
        import duckdb

        return duckdb
    return pytest.importorskip("duckdb")


def test_duckdb_recipe_matches_report_sales(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass: the SQL block of the docs, run by DuckDB in examples/shop, gives per SKU the
    units and gross sales of `invctl report sales --by sku` (which leaves voided sales out)."""
    duckdb = _duckdb()
    doc = (ROOT / "docs" / "integrations.md").read_text()
    [sql] = re.findall(r"## DuckDB.*?```sql\n(.*?)```", doc, re.S)
    shop = Shop(ROOT / "examples" / "shop")
    monkeypatch.chdir(shop.root)  # the recipe reads journal/**/*.jsonl from the ledger folder
    got = {sku: (units, gross) for sku, units, gross in duckdb.sql(sql).fetchall()}
    want = {r["sku"]: (Decimal(r["units"]), Decimal(r["gross_sales"]))
            for r in json.loads(shop.ok("report", "sales", "--by", "sku", "--format", "json"))}
    assert len(want) > 10
    assert got == want


def test_format_md_duckdb_views_match_report_sales(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass: the statements of docs/format.md's DuckDB block run as written; its gross sales
    per month and SKU add up to `report sales --by month` (months in the ledger's zone,
    Europe/Berlin, which the block sets), and its "who recorded what" counts equal a count
    of the live (not voided) journal lines."""
    duckdb = _duckdb()
    doc = (ROOT / "docs" / "format.md").read_text()
    [sql] = re.findall(r"With \[DuckDB\].*?```sql\n(.*?)```", doc, re.S)
    shop = Shop(ROOT / "examples" / "shop")
    monkeypatch.chdir(shop.root)
    con = duckdb.connect()
    results = []
    for statement in filter(None, (s.strip() for s in sql.split(";"))):
        code = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        cursor = con.execute(code)
        if code.startswith("SELECT"):
            results.append(cursor.fetchall())
    per_month, per_recorder = results
    got: dict[str, list[Decimal]] = {}
    for month, _sku, units, gross in per_month:
        row = got.setdefault(month, [Decimal(0), Decimal(0)])
        row[0] += units
        row[1] += gross
    want = {r["month"]: [Decimal(r["units"]), Decimal(r["gross_sales"])]
            for r in json.loads(shop.ok("report", "sales", "--by", "month", "--format", "json"))}
    assert len(want) > 6 and got == want
    events = [json.loads(line) for path in sorted((shop.root / "journal").rglob("*.jsonl"))
              for line in path.read_text().splitlines()]
    voided = {e["target"] for e in events if e["type"] == "voided"}
    counts: dict[tuple[str, str], int] = {}
    for e in events:
        if e["id"] not in voided:
            counts[(e["by"], e["type"])] = counts.get((e["by"], e["type"]), 0) + 1
    assert {(by, kind): n for by, kind, n in per_recorder} == counts
