"""invctl item add|list|show|set: the catalog (items.toml)."""

from typing import Annotated, Any

import typer

from invctl.cli.common import FormatOpt, LedgerOpt, get_ledger

app = typer.Typer(help="The catalog: one entry per SKU in items.toml.\n\nExample: invctl item add TEE-M --name \"T-shirt M\" --price 19.90", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)  # as the root app (main.py)

Name = Annotated[str | None, typer.Option(help="What the item is called.", show_default=False)]
Unit = Annotated[str | None, typer.Option(help="Unit of measure, e.g. pcs, kg.", show_default=False)]
Category = Annotated[str | None, typer.Option(help="Category, for filters and reports.", show_default=False)]
Price = Annotated[str | None, typer.Option(help="Selling price per unit.", show_default=False)]
Cost = Annotated[str | None, typer.Option(help="Standard unit cost (used before anything is received).", show_default=False)]
Supplier = Annotated[str | None, typer.Option(help="Usual supplier id.", show_default=False)]
ReorderPoint = Annotated[str | None, typer.Option(help="Reorder when available + on order falls to this.", show_default=False)]
ReorderQty = Annotated[str | None, typer.Option(help="How much to reorder.", show_default=False)]
MaxStock = Annotated[str | None, typer.Option(help="Most stock to hold (min/max rule, overstock alert).", show_default=False)]
Alias = Annotated[list[str] | None, typer.Option("--alias", metavar="NAME", help="Another name for this SKU (e.g. a platform's); repeat for more.", show_default=False)]


def _fields(ledger: Any, **raw: Any) -> dict[str, Any]:
    from decimal import Decimal

    from invctl import inputs

    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in ("price", "cost"):
            out[key] = Decimal(inputs.money(ledger, value, f"--{key}"))
        elif key in ("reorder_point", "reorder_qty", "max_stock"):
            q = inputs.qty(value, "--" + key.replace("_", "-"), allow_zero=True)
            out[key] = Decimal(q) if not isinstance(q, int) else q
        elif key == "aliases":
            out[key] = list(value)
        else:
            out[key] = inputs.text(value, f"--{key}")
    return out


@app.command("add")
def add(
    sku: Annotated[str, typer.Argument(metavar="SKU", help="The SKU (letters, digits, . _ -).")],
    name: Name = None, unit: Unit = None, category: Category = None, price: Price = None,
    cost: Cost = None, supplier: Supplier = None, reorder_point: ReorderPoint = None,
    reorder_qty: ReorderQty = None, max_stock: MaxStock = None, alias: Alias = None,
    ledger: LedgerOpt = None,
) -> None:
    """Add an item to the catalog (appended to items.toml; the rest of the file is kept).

    Example: invctl item add TEE-M --name "T-shirt M" --unit pcs --category apparel --price 19.90 --cost 6.50 --reorder-point 20 --reorder-qty 100
    """
    from invctl.catalog import add_entry
    from invctl.errors import Refused
    from invctl.render import message

    led = get_ledger(ledger)
    if not name:
        raise Refused(f"an item needs a name: invctl item add {sku} --name \"...\"")
    if supplier:
        led.catalog.supplier(supplier)
    fields = _fields(led, name=name, unit=unit or "pcs", category=category, price=price, cost=cost,
                     supplier=supplier, reorder_point=reorder_point, reorder_qty=reorder_qty,
                     max_stock=max_stock, aliases=alias)
    add_entry(led.root, "item", sku, fields)
    message(f"added {sku} to items.toml")


@app.command("set")
def set_(
    sku: Annotated[str, typer.Argument(metavar="SKU", help="The SKU to change.")],
    name: Name = None, unit: Unit = None, category: Category = None, price: Price = None,
    cost: Cost = None, supplier: Supplier = None, reorder_point: ReorderPoint = None,
    reorder_qty: ReorderQty = None, max_stock: MaxStock = None, alias: Alias = None,
    ledger: LedgerOpt = None,
) -> None:
    """Change an item; comments and layout of items.toml are kept.

    Example: invctl item set TEE-M --reorder-point 30
    """
    from invctl.catalog import set_entry
    from invctl.render import message

    led = get_ledger(ledger)
    if supplier:
        led.catalog.supplier(supplier)
    changes = _fields(led, name=name, unit=unit, category=category, price=price, cost=cost,
                      supplier=supplier, reorder_point=reorder_point, reorder_qty=reorder_qty,
                      max_stock=max_stock, aliases=alias)
    set_entry(led.root, "item", sku, changes)
    message(f"updated {sku}: {', '.join(changes)}")


@app.command("list")
def list_(
    category: Annotated[str | None, typer.Option(help="Only this category.", show_default=False)] = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """List the catalog.

    Example: invctl item list --category apparel --format csv
    """
    from invctl.render import emit
    from invctl.reports.catalog import items_report

    led = get_ledger(ledger)
    emit(items_report(led, category=category), fmt, led.settings.places)


@app.command("show")
def show(
    sku: Annotated[str, typer.Argument(metavar="SKU", help="The SKU.")],
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Show one item: its catalog entry and its stock per location.

    Example: invctl item show TEE-M
    """
    from invctl.render import emit
    from invctl.reports.catalog import item_report
    from invctl.reports.stock import stock_report

    led = get_ledger(ledger)
    led.catalog.item(sku)
    emit(item_report(led, sku), fmt, led.settings.places)
    if fmt == "table":
        emit(stock_report(led, skus=[sku]), fmt, led.settings.places)
