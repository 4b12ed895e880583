"""invctl supplier add|list|show|set: suppliers.toml."""

from typing import Annotated, Any

import typer

from invctl.cli.common import FormatOpt, LedgerOpt, get_ledger

app = typer.Typer(help="Suppliers: one entry per supplier id in suppliers.toml.\n\nExample: invctl supplier add acme --name \"ACME Textiles\" --lead-time 14", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)  # as the root app (main.py)

Name = Annotated[str | None, typer.Option(help="The supplier's name.", show_default=False)]
LeadTime = Annotated[int | None, typer.Option(help="Promised days from order to receipt.", show_default=False, min=0)]
Email = Annotated[str | None, typer.Option(help="Where orders go.", show_default=False)]
Phone = Annotated[str | None, typer.Option(help="Phone number.", show_default=False)]


def _fields(**raw: Any) -> dict[str, Any]:
    from invctl import inputs

    return {k: (inputs.text(v, f"--{k}") if isinstance(v, str) else v) for k, v in raw.items() if v is not None}


@app.command("add")
def add(
    supplier: Annotated[str, typer.Argument(metavar="SUPPLIER", help="Supplier id (letters, digits, . _ -).")],
    name: Name = None, lead_time: LeadTime = None, email: Email = None, phone: Phone = None,
    ledger: LedgerOpt = None,
) -> None:
    """Add a supplier (appended to suppliers.toml; the rest of the file is kept).

    Example: invctl supplier add acme --name "ACME Textiles" --lead-time 14
    """
    from invctl.catalog import add_entry
    from invctl.errors import Refused
    from invctl.render import message

    led = get_ledger(ledger)
    if not name:
        raise Refused(f"a supplier needs a name: invctl supplier add {supplier} --name \"...\"")
    add_entry(led.root, "supplier", supplier, _fields(name=name, lead_time=lead_time, email=email, phone=phone))
    message(f"added supplier {supplier} to suppliers.toml")


@app.command("set")
def set_(
    supplier: Annotated[str, typer.Argument(metavar="SUPPLIER", help="The supplier id.")],
    name: Name = None, lead_time: LeadTime = None, email: Email = None, phone: Phone = None,
    ledger: LedgerOpt = None,
) -> None:
    """Change a supplier; comments and layout of suppliers.toml are kept.

    Example: invctl supplier set acme --lead-time 10
    """
    from invctl.catalog import set_entry
    from invctl.render import message

    led = get_ledger(ledger)
    changes = _fields(name=name, lead_time=lead_time, email=email, phone=phone)
    set_entry(led.root, "supplier", supplier, changes)
    message(f"updated supplier {supplier}: {', '.join(changes)}")


@app.command("list")
def list_(fmt: FormatOpt = "table", ledger: LedgerOpt = None) -> None:
    """List suppliers.

    Example: invctl supplier list --format json
    """
    from invctl.render import emit
    from invctl.reports.catalog import suppliers_report

    led = get_ledger(ledger)
    emit(suppliers_report(led), fmt, led.settings.places)


@app.command("show")
def show(
    supplier: Annotated[str, typer.Argument(metavar="SUPPLIER", help="The supplier id.")],
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Show one supplier.

    Example: invctl supplier show acme
    """
    from invctl.render import emit
    from invctl.reports.catalog import suppliers_report

    led = get_ledger(ledger)
    led.catalog.supplier(supplier)
    emit(suppliers_report(led, only=supplier), fmt, led.settings.places)
