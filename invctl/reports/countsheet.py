"""A count sheet: the items to count, with a blank qty column to fill in."""

from __future__ import annotations

from invctl.replay import replay
from invctl.reports import Column, Report
from invctl.settings import Ledger


def count_sheet(ledger: Ledger, *, category: str | None = None, loc: str = "main", expected: bool = False) -> Report:
    columns = [Column("sku", "SKU"), Column("qty", "Counted", "qty"), Column("loc", "Loc"),
               Column("name", "Name"), Column("unit", "Unit"), Column("category", "Category")]
    state = replay(ledger) if expected else None
    if expected:
        columns.append(Column("expected", "Expected", "qty"))
    rows = []
    for sku, item in sorted(ledger.catalog.items.items(), key=lambda kv: (kv[1].category or "", kv[0])):
        if category and item.category != category:
            continue
        row = {"sku": sku, "qty": None, "loc": loc, "name": item.name, "unit": item.unit, "category": item.category}
        if state is not None:
            pos = state.positions.get((sku, loc))
            row["expected"] = pos.qty if pos else 0
        rows.append(row)
    return Report(f"Count sheet ({loc})", columns, rows)
