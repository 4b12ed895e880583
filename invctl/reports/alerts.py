"""`invctl alerts`: loads what invctl/alerts.py decides from, and builds the Report.

The state is the cached whole-ledger replay (or a replay up to --as-of); the demand
forecast (one more replay, with an observer) is computed only when an alert needs it,
and only for the SKUs that need it (alerts.needs_demand). The `--new` memory lives in
`.invctl/alerts.json`: typed JSON, written atomically, read leniently (a missing or
unreadable file means nothing was reported before).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from invctl import alerts as A
from invctl import events as E
from invctl.errors import Refused
from invctl.reports import Column, Report
from invctl.settings import Ledger

COLUMNS = [
    Column("severity", "Severity", wrap=False),
    Column("kind", "Kind", wrap=False),
    Column("sku", "SKU", wrap=False),
    Column("name", "Name", table=False),
    Column("loc", "Loc", wrap=False),
    Column("message", "What"),
    Column("qty", "Qty", "qty", table=False),
    Column("value", "Value", "money", table=False),
    Column("available", "Available", "qty", table=False),
    Column("on_order", "On order", "qty", table=False),
    Column("reorder_point", "Reorder point", "qty", table=False),
    Column("max_stock", "Max stock", "qty", table=False),
    Column("demand_per_day", "Per day", "qty", table=False),
    Column("days_of_cover", "Days of cover", "qty", table=False),
    Column("excess", "Excess", "qty", table=False),
    Column("excess_value", "Excess value", "money", table=False),
    Column("days", "Days", "int", table=False),
    Column("limit_days", "Limit days", "int", table=False),
    Column("lot", "Lot", table=False),
    Column("expires", "Expires", "date", table=False),
    Column("last_sold", "Last sold", "date", table=False),
    Column("last_counted", "Last counted", "date", table=False),
    Column("po", "PO", table=False),
    Column("supplier", "Supplier", table=False),
    Column("expected", "Expected", "date", table=False),
    Column("file", "File", table=False),
    Column("line", "Line", "int", table=False),
]

STATE_FILE = "alerts.json"


def settings(ledger: Ledger) -> A.AlertSettings:
    """`[alerts]` of invctl.toml and `[SKU.alerts]` of items.toml, checked."""
    try:
        return A.parse_settings(ledger.settings.alerts, ledger.catalog.items)
    except ValueError as exc:
        raise Refused(f"{exc}; fix the file") from None


def today_of(ledger: Ledger, as_of: dt.datetime | None) -> dt.date:
    """The day alerts are for: the day --as-of ends, else today in the ledger's time zone."""
    tz = ledger.settings.tz
    return (as_of - dt.timedelta(microseconds=1)).astimezone(tz).date() if as_of else dt.datetime.now(tz).date()


def find(ledger: Ledger, *, as_of: dt.datetime | None = None, loc: str | None = None,
         kinds: set[str] | None = None, state: Any = None) -> list[A.Alert]:
    """The alerts as of the end of the day ``as_of`` ends (an instant, as replay(until=)),
    else as of now; sorted critical first. ``state``: the replay up to ``as_of``, when the
    caller has it already (the dashboard)."""
    from invctl.replay import replay

    conf = settings(ledger)
    if kinds is None or "count-overdue" in kinds:
        from dataclasses import replace

        from invctl.reports.abc import load_classes

        saved = load_classes(ledger)
        if saved is not None:
            conf = replace(conf, classes=saved.classes)
    catalog = ledger.catalog
    if state is None:
        state = replay(ledger, until=as_of)
    if loc is not None and loc not in ledger.settings.locations and not any(k[1] == loc for k in state.positions):
        listed = ", ".join(ledger.settings.locations)
        raise Refused(f"--loc {loc!r} is not a location of this ledger (locations = [{listed}] in invctl.toml)")
    today = today_of(ledger, as_of)
    want = set(A.KINDS) if kinds is None else kinds
    demand: dict[str, Any] = {}
    rop: dict[str, float] = {}
    need = A.needs_demand(state, catalog.items, conf, today, loc=loc, kinds=want)
    if need:
        from invctl import forecast, purchasing
        from invctl.reports.suggest import policy

        pol = policy(ledger)
        demand = forecast.demand(ledger, horizon=pol.horizon_days, as_of=as_of, skus=need)
        computed = {sku for sku in need if A.own_reorder_point(catalog.items.get(sku)) is None}
        if computed:
            lead = purchasing.lead_times(state, min_receipts=pol.min_receipts)
            rop = A.computed_reorder_points(computed, catalog.items, catalog.suppliers, demand, lead, pol)
    started = None
    if "count-overdue" in want and any(p.qty > 0 and p.last_counted is None for p in state.positions.values()):
        started = journal_start(ledger)
    return A.evaluate(state, catalog.items, conf, demand, today, rop=rop, loc=loc, kinds=want,
                      places=ledger.settings.places, started=started)


class _Ts(msgspec.Struct):
    ts: dt.datetime


_ts_decoder = msgspec.json.Decoder(_Ts)


def journal_start(ledger: Ledger) -> dt.date | None:
    """The day of the journal's first event (the earliest first line of its files)."""
    from invctl.journal import list_files

    tz = ledger.settings.tz
    first: dt.datetime | None = None
    for path in list_files(ledger):
        try:
            with open(path, "rb") as fh:
                head = fh.read(1 << 16)
        except OSError:
            continue
        for raw in head.split(b"\n")[:-1]:
            if not raw.strip():
                continue
            try:
                ts = _ts_decoder.decode(raw).ts
            except E.DECODE_ERRORS:
                continue
            if ts.tzinfo is not None and (first is None or ts < first):
                first = ts
            break
    return first.astimezone(tz).date() if first is not None else None


def report(ledger: Ledger, alerts: list[A.Alert], today: dt.date, *, as_of: bool, new: bool) -> Report:
    items = ledger.catalog.items
    rows = []
    for a in alerts:
        row = {f: getattr(a, f) for f in A.Alert.__dataclass_fields__}
        item = items.get(a.sku) if a.sku else None
        row["name"] = item.name if item is not None else None
        for key, places in (("demand_per_day", 2), ("days_of_cover", 1)):
            if row[key] is not None:
                row[key] = Decimal(str(round(row[key], places)))
        rows.append(row)
    counts = [f"{n} {s}" for s in reversed(A.SEVERITIES) if (n := sum(a.severity == s for a in alerts))]
    title = ("New alerts" if new else "Alerts") + (f" as of {today}" if as_of else "")
    if counts:
        title += ": " + ", ".join(counts)
    return Report(title, COLUMNS, rows)


# --- the memory of --new -----------------------------------------------------------------


class Memory(msgspec.Struct):
    """`.invctl/alerts.json`: the alerts the last `--new` run left, by problem key."""

    version: int
    as_of: dt.date
    alerts: dict[str, A.Seen]


VERSION = 1


def state_path(ledger: Ledger, given: Path | None) -> Path:
    return given if given is not None else ledger.state_dir / STATE_FILE


def load_seen(path: Path) -> tuple[dict[str, A.Seen], str | None]:
    """What the last `--new` run reported, and a warning when the file could not be used
    (then nothing counts as reported: every alert is new)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"{path}: cannot be read ({exc.strerror or exc}); every alert counts as new"
    try:
        memory = msgspec.json.decode(raw, type=Memory)
    except (msgspec.DecodeError, ValueError) as exc:
        return {}, f"{path}: not an alerts memory invctl can read ({exc}); every alert counts as new"
    if memory.version != VERSION:
        return {}, f"{path}: written by another invctl version; every alert counts as new"
    return dict(memory.alerts), None


def save_seen(path: Path, seen: dict[str, A.Seen], today: dt.date) -> None:
    """Write the memory atomically: a temporary file in the same folder, fsynced, renamed over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    from invctl.files import write_atomic

    write_atomic(path, msgspec.json.encode(Memory(VERSION, today, dict(sorted(seen.items())))) + b"\n")
