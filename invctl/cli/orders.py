"""invctl order create|list|show|receive|cancel: purchase orders."""

from typing import TYPE_CHECKING, Annotated

import typer

from invctl.cli.common import (
    AsOfOpt,
    AtOpt,
    DryRunOpt,
    FormatOpt,
    LedgerOpt,
    NoteOpt,
    RefOpt,
    common,
    get_ledger,
)

if TYPE_CHECKING:
    from invctl.moves import Common
    from invctl.purchasing import POWritten
    from invctl.settings import Ledger

app = typer.Typer(help="Purchase orders: place them, receive against them, cancel what will not come.\n\n"
                  "Example: invctl order create --supplier acme --line TEE-M:100:6.20 --expected 2026-12-10",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)  # as the root app (main.py)

Po = Annotated[str, typer.Argument(metavar="PO", help="The purchase order id (see `invctl order list`).", show_default=False)]


def _report(written: "POWritten", dry_run: bool) -> None:
    """Ids on stdout (existing ones when nothing was appended), one sentence on stderr."""
    from invctl.purchasing import summary
    from invctl.render import message

    if written.already:
        message(f"{written.po}: already recorded {written.why}: {', '.join(written.already)}; "
                + ("the rest appended" if written.outcome is not None else "nothing appended"))
    if written.outcome is not None:
        for note in written.outcome.notes:
            message(f"note: {note}")
        places = written.outcome.state.places
        text = summary(written, places)
        message(f"{text} (dry run: nothing appended)" if dry_run else text)
        if dry_run:
            for ev_id in written.already:
                typer.echo(ev_id)
            return
    for ev_id in written.ids:
        typer.echo(ev_id)


HorizonOpt = Annotated[int | None, typer.Option("--horizon", help="Days of demand to cover after the lead time (default: [reorder] horizon_days, else 30).", min=1, max=3660, show_default=False)]
ServiceOpt = Annotated[float | None, typer.Option("--service-level", help="Chance of not running out before the order arrives, 0.5-0.999 (default: [reorder] service_level, else 0.95).", show_default=False)]
CategoryOpt = Annotated[str | None, typer.Option(help="Only items of this category.", show_default=False)]


@app.command("suggest")
def suggest(
    supplier: Annotated[str | None, typer.Option(help="Only items bought from this supplier.", show_default=False)] = None,
    category: CategoryOpt = None,
    horizon: HorizonOpt = None,
    service_level: ServiceOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """What to order now: SKUs whose stock and open orders are at or below their reorder point.

    Per SKU: demand a day (forecast from sales, see `invctl report forecast`), lead time
    (measured, else the supplier's promise), safety stock = z x demand sigma x sqrt(lead
    time), reorder point = demand x lead time + safety stock (or the item's own
    reorder_point: min/max), and the quantity up to the target, in whole packs. The reason
    column shows the sum. Nothing is written: `invctl order create --from-suggestions`
    places them.

    Example: invctl order suggest --supplier nordtex --service-level 0.98 --format json
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.suggest import policy, suggest_report

    led = get_ledger(ledger)
    pol = policy(led, horizon=horizon, service_level=service_level)
    until = inputs.day_end(led, as_of) if as_of else None
    emit(suggest_report(led, pol, supplier=supplier, category=category, as_of=until), fmt, led.settings.places)


@app.command("create")
def create(
    supplier: Annotated[str | None, typer.Option(help="Supplier id (from suppliers.toml); with --from-suggestions, only this supplier's.", show_default=False)] = None,
    line: Annotated[list[str] | None, typer.Option("--line", metavar="SKU:QTY[:COST]", help="A line: SKU, quantity and unit cost (default: the item's catalog cost); repeat for more.", show_default=False)] = None,
    from_suggestions: Annotated[bool, typer.Option("--from-suggestions", help="One PO per supplier from `invctl order suggest` (what is on order already counts, so a second run orders nothing more).")] = False,
    category: CategoryOpt = None,
    horizon: HorizonOpt = None,
    service_level: ServiceOpt = None,
    expected: Annotated[str | None, typer.Option(help="Expected delivery date (default: order date + the supplier's lead_time).", show_default=False)] = None,
    po: Annotated[str | None, typer.Option("--po", help="PO id (default: the next free PO-YYYYMMDD-NNN of the order date).", show_default=False)] = None,
    at: AtOpt = None,
    loc: Annotated[str, typer.Option("--loc", help="Location the goods will arrive at.")] = "main",
    note: NoteOpt = None, ref: RefOpt = None, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Place a purchase order: one `ordered` event per line under one PO id.

    Prints the id of each event; the PO id is in the sentence on stderr (or give --po).
    The same --ref again, or the same --po with the same lines, appends nothing.

    With --from-suggestions, one PO per supplier from the current suggestions (the
    options of `order suggest` apply); items without a supplier or a cost are listed and
    left out.

    Example: invctl order create --supplier acme --line TEE-M:100:6.20 --line MILK:50 --expected 2026-12-10
    """
    from invctl import purchasing
    from invctl.errors import Refused

    led = get_ledger(ledger)
    if from_suggestions:
        if line or po:
            raise Refused("--from-suggestions makes the lines and PO ids itself: leave out --line and --po")
        _from_suggestions(led, supplier, category, horizon, service_level, expected,
                          common(at, loc, note, ref, dry_run=dry_run), dry_run)
        return
    if supplier is None or not line:
        raise typer.BadParameter("order create needs --supplier and at least one --line SKU:QTY[:COST] "
                                 "(or --from-suggestions)")  # a usage error: exit 2
    lines = [purchasing.parse_line(text) for text in line]
    w = purchasing.create_po(led, supplier, lines, expected, common(at, loc, note, ref, dry_run=dry_run), po=po)
    _report(w, dry_run)


def _from_suggestions(led: "Ledger", supplier: str | None, category: str | None, horizon: int | None,
                      service_level: float | None, expected: str | None, com: "Common", dry_run: bool) -> None:
    from invctl import purchasing
    from invctl.render import message
    from invctl.reports.suggest import policy, suggestions

    pol = policy(led, horizon=horizon, service_level=service_level)
    lines, _ = suggestions(led, pol, supplier=supplier, category=category)
    by_supplier: dict[str, list[tuple[str, object, object]]] = {}
    for s in lines:
        if s.supplier is None:
            message(f"{s.sku}: suggested {s.qty} but the item has no supplier; set one: invctl item set {s.sku} --supplier ID")
        elif s.cost is None:
            message(f"{s.sku}: suggested {s.qty} but there is no cost to order at; set one: invctl item set {s.sku} --cost C")
        else:
            by_supplier.setdefault(s.supplier, []).append((s.sku, s.qty, s.cost))
    if not by_supplier:
        message("nothing to order: every item's stock and open orders are above its reorder point")
        return
    for sid, order in sorted(by_supplier.items()):
        w = purchasing.create_po(led, sid, order, expected, com)  # type: ignore[arg-type]
        _report(w, dry_run)


@app.command("list")
def list_(
    open_: Annotated[bool, typer.Option("--open", help="Only lines with something outstanding.")] = False,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier.", show_default=False)] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.", show_default=False)] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Purchase order lines: ordered, received, cancelled, outstanding, and whether overdue.

    Overdue: something outstanding after the expected date. Received can exceed ordered
    (an over-receipt) and is shown as it is.

    Example: invctl order list --open --supplier acme --format json
    """
    from invctl import inputs
    from invctl.render import emit
    from invctl.reports.orders import order_list_report

    led = get_ledger(ledger)
    until = inputs.day_end(led, as_of) if as_of else None
    report = order_list_report(led, open_only=open_, supplier=supplier, sku=sku, as_of=until)
    if not report.rows:
        # A typo used to give an empty list; names known only to the journal still work.
        if supplier is not None and supplier not in led.catalog.suppliers:
            led.catalog.supplier(supplier)
        if sku is not None and sku not in led.catalog.items:
            led.catalog.item(sku)
    emit(report, fmt, led.settings.places)


@app.command("show")
def show(po: Po, fmt: FormatOpt = "table", ledger: LedgerOpt = None) -> None:
    """One purchase order: its lines, then its events with their file:line in the journal.

    JSON is one object {po, supplier, lines, events}; CSV is the events.

    Example: invctl order show PO-20261125-001
    """
    import sys

    from invctl.render import emit, message, show_table, to_json
    from invctl.reports.orders import order_show_report

    led = get_ledger(ledger)
    places = led.settings.places
    head, events = order_show_report(led, po)
    if fmt == "table":
        for note in head.notes:
            message(f"warning: {note}")
        show_table(head, places)
        show_table(events, places)
    elif fmt == "json":
        import msgspec

        for note in head.notes:
            message(f"warning: {note}")
        supplier = head.rows[0]["supplier"] if head.rows else None
        out = (b'{"po":' + msgspec.json.encode(po) + b',"supplier":' + msgspec.json.encode(supplier)
               + b',"lines":' + to_json(head, places) + b',"events":' + to_json(events, places) + b"}\n")
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    else:
        events.notes = head.notes
        emit(events, fmt, places)


Line = Annotated[list[str] | None, typer.Option("--line", metavar="SKU:QTY[:COST]", help="What arrived of one line (cost default: the PO line's); repeat for more. Default: everything outstanding.", show_default=False)]


@app.command("receive")
def receive(
    po: Po, line: Line = None,
    lot: Annotated[str | None, typer.Option(help="Lot or batch number (of every line received).", show_default=False)] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry date of the lot (YYYY-MM-DD).", show_default=False)] = None,
    allow_over: Annotated[bool, typer.Option("--allow-over", help="Record more than is outstanding (an over-delivery).")] = False,
    loc: Annotated[str | None, typer.Option("--loc", help="Location received at (default: the PO line's).", show_default=False)] = None,
    at: AtOpt = None, note: NoteOpt = None, ref: RefOpt = None, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Receive goods against a purchase order: `received` events with the PO, supplier and cost.

    Without --line, everything outstanding arrives. More than is outstanding is refused
    unless --allow-over.

    Example: invctl order receive PO-20261125-001 --line TEE-M:60 --lot L2611
    """
    from invctl import purchasing

    led = get_ledger(ledger)
    lines = [purchasing.parse_line(text) for text in line] if line else None
    w = purchasing.receive_po(led, po, lines, common(at, loc or "main", note, ref, dry_run=dry_run),
                              loc=loc, lot=lot, expires=expires, allow_over=allow_over)
    _report(w, dry_run)


@app.command("cancel")
def cancel(
    po: Po,
    sku: Annotated[str | None, typer.Option(help="Only this line (default: every line with something outstanding).", show_default=False)] = None,
    qty: Annotated[str | None, typer.Option(help="Cancel this many of the line (default: all outstanding).", show_default=False)] = None,
    at: AtOpt = None, note: NoteOpt = None, ref: RefOpt = None, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Cancel what is outstanding on a purchase order: `cancelled` events, one per line.

    Example: invctl order cancel PO-20261125-001 --sku TEE-M --qty 40 --note "supplier short"
    """
    from invctl import purchasing

    led = get_ledger(ledger)
    w = purchasing.cancel_po(led, po, common(at, "main", note, ref, dry_run=dry_run), sku=sku, qty=qty)
    _report(w, dry_run)
