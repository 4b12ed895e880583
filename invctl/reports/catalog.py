"""The catalog and suppliers as reports."""

from __future__ import annotations

from typing import Any

from invctl.reports import Column, Report
from invctl.schema import dump
from invctl.settings import Ledger

ITEM_COLUMNS = [
    Column("sku", "SKU"),
    Column("name", "Name"),
    Column("unit", "Unit"),
    Column("category", "Category"),
    Column("price", "Price", "money"),
    Column("cost", "Cost", "money"),
    Column("supplier", "Supplier"),
    Column("reorder_point", "Reorder at", "qty"),
    Column("reorder_qty", "Reorder qty", "qty"),
    Column("max_stock", "Max", "qty"),
    Column("aliases", "Aliases", table=False),
]

SUPPLIER_COLUMNS = [
    Column("supplier", "Supplier"),
    Column("name", "Name"),
    Column("lead_time", "Lead time (days)", "int"),
    Column("email", "Email"),
    Column("phone", "Phone"),
]


def _item_row(sku: str, item: Any) -> dict[str, Any]:
    row = dump(item)
    row["sku"] = sku
    row["aliases"] = ",".join(item.aliases) or None
    return row


def items_report(ledger: Ledger, *, category: str | None = None) -> Report:
    items = ledger.catalog.items
    rows = [_item_row(sku, it) for sku, it in sorted(items.items()) if category is None or it.category == category]
    return Report("Items", ITEM_COLUMNS, rows)


def item_report(ledger: Ledger, sku: str) -> Report:
    return Report(sku, ITEM_COLUMNS, [_item_row(sku, ledger.catalog.item(sku))])


def suppliers_report(ledger: Ledger, *, only: str | None = None) -> Report:
    rows = []
    for sid, sup in sorted(ledger.catalog.suppliers.items()):
        if only is None or sid == only:
            row = dump(sup)
            row["supplier"] = sid
            rows.append(row)
    return Report("Suppliers", SUPPLIER_COLUMNS, rows)
