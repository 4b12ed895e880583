"""invctl report html: the dashboard as one self-contained HTML page."""

from typing import Annotated

import typer

from invctl.cli.common import AsOfOpt, LedgerOpt, get_ledger

OutputOpt = Annotated[str, typer.Option(
    "--output", "-o", metavar="FILE",
    help="Write the page to FILE (a temporary file renamed over it: a web server never serves half a page); - for stdout.",
    show_default=False)]
DaysOpt = Annotated[int, typer.Option("--days", help="Days of the sales trend and the top items, ending with --as-of.", min=1, max=3660)]
TopOpt = Annotated[int, typer.Option("--top", help="How many top items to list.", min=1, max=1000)]


def html(
    output: OutputOpt,
    as_of: AsOfOpt = None,
    days: DaysOpt = 90,
    top: TopOpt = 10,
    ledger: LedgerOpt = None,
) -> None:
    """An HTML dashboard: key figures, alerts, low stock, sales trend and top items.

    Key figures: stock value and units on hand (as `invctl stock`), SKUs out of stock,
    open PO value, and net sales of the last 30 days against the 30 before. Then the
    alerts (critical first, as `invctl alerts`), the SKUs out of stock or at their reorder
    point, a chart of net sales per day (per week beyond 120 days) over --days, and the
    top items by net sales. One file for a phone or a desktop, no scripts and nothing
    fetched from the network: it can be published by cron, mailed or opened offline.
    Prints nothing when it worked. With --as-of the page is the same on every run. See
    docs/dashboard.md.

    Example: invctl report html -o /var/www/shop/index.html --as-of 2026-10-31 --days 90
    """
    import sys
    from pathlib import Path

    from invctl import dashboard, dashboard_html, inputs
    from invctl.errors import Refused
    from invctl.render import message

    led = get_ledger(ledger)
    target = None
    if output != "-":
        target = Path(output)
        if target.is_dir():
            raise Refused(f"--output {output} is a folder; give a file name, e.g. {target / 'index.html'}")
        if not target.parent.is_dir():
            raise Refused(f"--output {output}: folder {target.parent} does not exist; create it first")
    until = inputs.day_end(led, as_of) if as_of else None
    data = dashboard.collect(led, as_of=until, days=days, top=top)
    for note in data.notes:
        message(f"warning: {note}")
    text = dashboard_html.page(data)
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        dashboard.write(target, text)
    except OSError as exc:
        raise Refused(f"cannot write {output}: {exc.strerror or exc}") from None
