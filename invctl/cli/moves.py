"""invctl receive|sell|return|adjust|transfer|void: recording stock movements."""

from typing import Annotated

import typer

from invctl.cli.common import (
    AllowNegOpt,
    AtOpt,
    DryRunOpt,
    LedgerOpt,
    LocOpt,
    NoteOpt,
    RefOpt,
    common,
    get_ledger,
    report_written,
)

Sku = Annotated[str, typer.Argument(metavar="SKU", help="The SKU.", show_default=False)]
Qty = Annotated[str, typer.Argument(metavar="QTY", help="How many (a whole number, or a decimal like 1.5).", show_default=False)]


def _on_hand(written: object, sku: str, loc: str) -> str:
    from invctl.numbers import qty_str

    outcome = getattr(written, "outcome", None)
    if outcome is None or not outcome.ids:
        return ""
    after = outcome.after.get(outcome.ids[-1], {})
    final = outcome.state.positions.get((sku, loc))
    qty = final.qty if final is not None else after.get((sku, loc), 0)
    return f" (on hand at {loc}: {qty_str(qty)})"


def receive(
    sku: Sku, qty: Qty,
    cost: Annotated[str, typer.Option(help="Unit cost paid.", show_default=False)],
    supplier: Annotated[str | None, typer.Option(help="Supplier id (from suppliers.toml).", show_default=False)] = None,
    po: Annotated[str | None, typer.Option(help="Purchase order this receipt is against.", show_default=False)] = None,
    lot: Annotated[str | None, typer.Option(help="Lot or batch number.", show_default=False)] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry date of the lot (YYYY-MM-DD).", show_default=False)] = None,
    at: AtOpt = None, loc: LocOpt = "main", note: NoteOpt = None, ref: RefOpt = None,
    dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Record goods received (a purchase receipt) at a unit cost.

    Example: invctl receive TEE-M 100 --cost 6.20 --supplier acme --lot L2611
    """
    from invctl import moves

    led = get_ledger(ledger)
    w = moves.receive(led, sku, qty, cost, common(at, loc, note, ref, dry_run=dry_run),
                      supplier=supplier, po=po, lot=lot, expires=expires)
    report_written(w, f"{'would receive' if dry_run else 'received'} {qty} {sku} at {cost}{_on_hand(w, sku, loc)}", dry_run)


def sell(
    sku: Sku, qty: Qty,
    price: Annotated[str, typer.Option(help="Unit selling price.", show_default=False)],
    channel: Annotated[str | None, typer.Option(help="Sales channel, e.g. shopify.", show_default=False)] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id.", show_default=False)] = None,
    region: Annotated[str | None, typer.Option(help="Region the order ships to.", show_default=False)] = None,
    order: Annotated[str | None, typer.Option(help="Order reference.", show_default=False)] = None,
    at: AtOpt = None, loc: LocOpt = "main", note: NoteOpt = None, ref: RefOpt = None,
    allow_negative: AllowNegOpt = False, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Record a sale; refused if it would take stock below zero.

    Example: invctl sell TEE-M 3 --price 19.90 --channel shopify --customer C-17 --order 1001
    """
    from invctl import moves

    led = get_ledger(ledger)
    w = moves.sell(led, sku, qty, price, common(at, loc, note, ref, allow_negative, dry_run),
                   channel=channel, customer=customer, region=region, order=order)
    report_written(w, f"{'would sell' if dry_run else 'sold'} {qty} {sku} at {price}{_on_hand(w, sku, loc)}", dry_run)


def return_(
    sku: Sku, qty: Qty,
    refund: Annotated[str | None, typer.Option(help="Amount refunded per unit.", show_default=False)] = None,
    restock: Annotated[bool, typer.Option("--restock/--no-restock", help="Put the goods back on the shelf.")] = True,
    order: Annotated[str | None, typer.Option(help="The order being returned (its sale's cost is used).", show_default=False)] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id.", show_default=False)] = None,
    channel: Annotated[str | None, typer.Option(help="Sales channel.", show_default=False)] = None,
    at: AtOpt = None, loc: LocOpt = "main", note: NoteOpt = None, ref: RefOpt = None,
    dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Record a customer return.

    Example: invctl return TEE-M 1 --refund 19.90 --order 1001
    """
    from invctl import moves

    led = get_ledger(ledger)
    w = moves.return_(led, sku, qty, common(at, loc, note, ref, dry_run=dry_run), refund=refund,
                      restock=restock, order=order, customer=customer, channel=channel)
    report_written(w, f"returned {qty} {sku}{'' if restock else ' (not restocked)'}{_on_hand(w, sku, loc)}", dry_run)


def adjust(
    sku: Sku,
    delta: Annotated[str, typer.Argument(metavar="DELTA", help="Signed change, e.g. -2 or 5.", show_default=False)],
    reason: Annotated[str, typer.Option(help="damaged, expired, lost, theft, found, sample, defective or other.", show_default=False)],
    cost: Annotated[str | None, typer.Option(help="Unit cost of a positive adjustment (default: current unit cost).", show_default=False)] = None,
    lot: Annotated[str | None, typer.Option(help="The lot it concerns: a write-off takes from that lot (at most what it holds), an addition joins it.", show_default=False)] = None,
    at: AtOpt = None, loc: LocOpt = "main", note: NoteOpt = None, ref: RefOpt = None,
    allow_negative: AllowNegOpt = False, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Correct stock with a reason (negative: written off at cost; positive: added).

    With --lot a write-off takes from that lot, so `invctl report suppliers` charges a
    defective lot to the supplier who delivered it.

    Example: invctl adjust TEE-M -2 --reason defective --lot L2611
    """
    from invctl import moves

    led = get_ledger(ledger)
    w = moves.adjust(led, sku, delta, reason, common(at, loc, note, ref, allow_negative, dry_run), cost=cost, lot=lot)
    report_written(w, f"adjusted {sku} by {delta} ({reason}){_on_hand(w, sku, loc)}", dry_run)


def transfer(
    sku: Sku, qty: Qty,
    src: Annotated[str, typer.Option("--from", help="Location it leaves.", show_default=False)],
    dst: Annotated[str, typer.Option("--to", help="Location it goes to.", show_default=False)],
    at: AtOpt = None, note: NoteOpt = None, ref: RefOpt = None,
    allow_negative: AllowNegOpt = False, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Move stock between locations, keeping its cost, lots and expiry.

    Example: invctl transfer TEE-M 10 --from main --to store2
    """
    from invctl import moves

    led = get_ledger(ledger)
    w = moves.transfer(led, sku, qty, src, dst, common(at, src, note, ref, allow_negative, dry_run))
    report_written(w, f"moved {qty} {sku} from {src} to {dst}{_on_hand(w, sku, dst)}", dry_run)


def void(
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="Id of the event to take out (see `invctl history SKU`).", show_default=False)],
    reason: Annotated[str, typer.Option(help="Why, e.g. \"entered twice\".", show_default=False)],
    at: AtOpt = None, note: NoteOpt = None, ref: RefOpt = None,
    allow_negative: AllowNegOpt = False, dry_run: DryRunOpt = False, ledger: LedgerOpt = None,
) -> None:
    """Take an earlier event out of history (nothing is edited: a `voided` event is appended).

    Example: invctl void 01JD3W4Z8X7Q2M5N6P7R8S9T0V --reason "entered twice"
    """
    from invctl import moves

    led = get_ledger(ledger)
    w = moves.void(led, event_id, reason, common(at, "main", note, ref, allow_negative, dry_run))
    report_written(w, f"voided {event_id}", dry_run)
