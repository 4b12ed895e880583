"""invctl diff."""

from typing import Annotated

import typer

from invctl.cli.common import FormatOpt, LedgerOpt, get_ledger


def diff(
    rev1: Annotated[str, typer.Argument(metavar="REV1", help="The git revision to compare from (a commit, branch or tag); A...B compares B with where A and B parted (what merging B brings), A..B is A B.", show_default=False)],
    rev2: Annotated[str | None, typer.Argument(metavar="REV2", help="The revision to compare to (default: the working tree).", show_default=False)] = None,
    events: Annotated[bool, typer.Option("--events", help="List the events added, voided and removed instead of the stock change.")] = False,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Stock change between two git revisions of the ledger: on hand, value and on order per
    SKU and location, and how many events were added and voided.

    Review a pull request, or a merge from another shop, as a stock diff before accepting
    it: `invctl diff main...store2` shows what store2 did since the two parted, which is what
    a merge brings in. The counts go to stderr; rows list only what changed. Needs git.

    Example: invctl diff main...origin/store2 --format json
    """
    from invctl import gitdiff
    from invctl.render import emit, message

    led = get_ledger(ledger)
    d = gitdiff.diff(led, rev1, rev2)
    report = gitdiff.event_list(d) if events else gitdiff.stock_change(d)
    message(gitdiff.summary(d))
    places = d.after.ledger.settings.places if d.after.ledger is not None else led.settings.places
    emit(report, fmt, places)
