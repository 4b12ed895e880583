"""invctl alerts: what needs attention, for a terminal or a cron job."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from invctl.cli.common import AsOfOpt, FilterLocOpt, FormatOpt, LedgerOpt, get_ledger

Level = Literal["info", "warning", "critical"]


def _kinds(only: list[str] | None) -> set[str] | None:
    """--only, comma-separated and/or repeated; an unknown kind is a usage error (exit 2)."""
    if not only:
        return None
    from invctl.alerts import KINDS, did_you_mean

    out = set()
    for part in only:
        for name in part.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in KINDS:
                raise typer.BadParameter(f"unknown alert kind {name!r}{did_you_mean(name, KINDS)}; "
                                         f"kinds: {', '.join(KINDS)}", param_hint="'--only'")
            out.add(name)
    if not out:
        raise typer.BadParameter("give at least one alert kind, e.g. --only low-stock,expiring", param_hint="'--only'")
    return out


def alerts(
    only: Annotated[list[str] | None, typer.Option("--only", metavar="KIND[,KIND...]", help="Only these kinds: out-of-stock, low-stock, overstock, expiring, expired, dead-stock, slow-stock, negative-stock, invalid-journal, count-overdue, po-overdue.", show_default=False)] = None,
    severity: Annotated[Level, typer.Option("--severity", help="Only alerts of at least this severity.")] = "info",
    fail_on: Annotated[Level | None, typer.Option("--fail-on", help="Exit 1 when an alert shown is at least this severe (for monitoring and cron).", show_default=False)] = None,
    new: Annotated[bool, typer.Option("--new", help="Only alerts the previous --new run did not report, or that got worse since (remembered in .invctl/alerts.json).")] = False,
    state: Annotated[Path | None, typer.Option("--state", metavar="FILE", help="Where --new remembers what it reported (default: .invctl/alerts.json); one file per cron job with its own filters.", show_default=False)] = None,
    loc: FilterLocOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """What needs attention, critical first; prints nothing at all when nothing does.

    Kinds: out-of-stock, low-stock (with days of cover), overstock, expiring and expired
    lots, dead-stock and slow-stock, negative-stock, invalid-journal lines, count-overdue
    and po-overdue. With nothing to report it prints nothing and exits 0 (JSON: [], CSV:
    the header row), so cron mails only when there is something to say. Thresholds:
    [alerts] in invctl.toml and [SKU.alerts] in items.toml; see docs/alerts.md.

    Example: invctl alerts --new --severity warning --fail-on critical --format json
    """
    from invctl import alerts as A
    from invctl import inputs
    from invctl.render import emit, message
    from invctl.reports import alerts as R

    if state is not None and not new:
        raise typer.BadParameter("--state is where --new remembers what it reported: give --new too",
                                 param_hint="'--state'")
    kinds = _kinds(only)
    wanted = A.kinds_at_least(severity) & (kinds if kinds is not None else set(A.KINDS))
    led = get_ledger(ledger)
    until = inputs.day_end(led, as_of) if as_of else None
    found = R.find(led, as_of=until, loc=loc, kinds=wanted)
    today = R.today_of(led, until)
    shown = found
    if new:
        path = R.state_path(led, state)
        seen, warning = R.load_seen(path)
        if warning:
            message(f"warning: {warning}")
        shown, remember = A.fresh(found, seen, today)
    if shown or fmt != "table":  # a table of nothing would be output: cron would mail it
        emit(R.report(led, shown, today, as_of=until is not None, new=new), fmt, led.settings.places)
    if new:
        R.save_seen(path, remember, today)  # only once the output went out: a broken pipe marks nothing as reported
    if fail_on is not None and any(A.RANK[a.severity] >= A.RANK[fail_on] for a in shown):
        raise typer.Exit(1)
