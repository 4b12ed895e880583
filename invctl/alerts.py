"""Alerts: what in a ledger needs attention, as a pure decision (docs/alerts.md).

From the replayed State, the catalog's items, the alert settings (`[alerts]` in
invctl.toml, `[SKU.alerts]` in items.toml), the demand forecast and today, `evaluate`
returns Alert records; `fresh` keeps those a previous `alerts --new` run has not
reported, or that got worse since. Nothing here reads files, prints, or imports typer or
rich: invctl/reports/alerts.py loads the inputs and builds the Report.

Kinds and severities are fixed (KINDS, SEVERITY). Stock kinds look at a SKU over all
locations (or at one with ``loc``); negative stock, lots and counts at each position;
PO lines one by one; invalid journal lines one by one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Protocol

import msgspec

from invctl.numbers import Number, money_str, qty_str

KINDS = ("out-of-stock", "low-stock", "overstock", "expiring", "expired", "dead-stock", "slow-stock",
         "negative-stock", "invalid-journal", "count-overdue", "po-overdue")
SEVERITIES = ("info", "warning", "critical")
RANK = {s: i for i, s in enumerate(SEVERITIES)}
SEVERITY = {
    "out-of-stock": "critical", "low-stock": "warning", "overstock": "warning", "expiring": "warning",
    "expired": "critical", "dead-stock": "warning", "slow-stock": "info", "negative-stock": "critical",
    "invalid-journal": "critical", "count-overdue": "info", "po-overdue": "warning",
}
# Kinds that are stages of one problem share its identity for --new: low stock that runs
# out is the same problem got worse, not a second one.
FAMILY = {"out-of-stock": "stock", "low-stock": "stock", "expiring": "expiry", "expired": "expiry",
          "dead-stock": "unsold", "slow-stock": "unsold"}

_ORDER = {k: i for i, k in enumerate(KINDS)}
_ZERO = Decimal(0)


def kinds_at_least(severity: str) -> set[str]:
    """The kinds whose severity is ``severity`` or higher."""
    return {k for k, s in SEVERITY.items() if RANK[s] >= RANK[severity]}


# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """When an alert fires, in whole days; 0 turns that alert (or rule) off.

    ``ignore``: kinds never reported (for an item: for that item)."""

    expiring_days: int = 30  # lots expiring within this many days
    dead_days: int = 90  # no sale for this many days while stock is held: dead-stock
    slow_days: int = 30  # ... slow-stock
    count_days: int = 90  # no count at a location holding stock for this many days
    # With ABC classes saved by `report abc --save`: how often A, B and C items are due
    # (0: every count_days). An item's own count_days wins over its class.
    count_days_a: int = 30
    count_days_b: int = 60
    count_days_c: int = 0
    overstock_days: int = 180  # more days of cover than this (at the forecast rate)
    po_overdue_days: int = 0  # days past a PO line's expected date before it is overdue
    ignore: frozenset[str] = frozenset()


DAY_KEYS = tuple(f.name for f in fields(Thresholds) if f.name != "ignore")
KEYS = (*DAY_KEYS, "ignore")


@dataclass(frozen=True)
class AlertSettings:
    """The `[alerts]` thresholds, and per SKU the ones its `[SKU.alerts]` table changes."""

    default: Thresholds = field(default_factory=Thresholds)
    items: Mapping[str, Thresholds] = field(default_factory=dict)
    classes: Mapping[str, str] = field(default_factory=dict)  # SKU -> "A" | "B" | "C" (report abc --save)

    def of(self, sku: str | None) -> Thresholds:
        return self.items.get(sku, self.default) if sku is not None else self.default

    def count_days(self, sku: str) -> tuple[int, str | None]:
        """Days between counts of ``sku``, and its ABC class when that decided it."""
        th = self.of(sku)
        own = sku in self.items and th.count_days != self.default.count_days
        cls = self.classes.get(sku)
        if own or cls is None or th.count_days == 0:
            return th.count_days, None
        days = {"A": th.count_days_a, "B": th.count_days_b, "C": th.count_days_c}.get(cls, 0)
        return (days, cls) if days else (th.count_days, None)


def thresholds(table: Any, base: Thresholds, where: str) -> Thresholds:
    """``table`` (a TOML table) over ``base``; ValueError names ``where`` and the key."""
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table of thresholds, e.g. dead_days = 60")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key == "ignore":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{where} ignore must be a list of alert kinds, e.g. ignore = [\"slow-stock\"]")
            for kind in value:
                if kind not in SEVERITY:
                    raise ValueError(f"{where} ignore: unknown alert kind {kind!r}{did_you_mean(kind, KINDS)}; "
                                     f"kinds: {', '.join(KINDS)}")
            changes[key] = frozenset(value)
        elif key in DAY_KEYS:
            # TOML gives int, or Decimal for 1.5 (invctl reads floats exactly); bool is an int
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                shown = f"{value!r}" if isinstance(value, str) else str(value).lower()
                raise ValueError(f"{where} {key} = {shown}: must be a whole number of days, 0 or more "
                                 "(0 turns it off)")
            changes[key] = value
        else:
            raise ValueError(f"{where}: unknown key {key!r}{did_you_mean(key, KEYS)}; keys: {', '.join(KEYS)}")
    return replace(base, **changes)


def parse_settings(alerts: Mapping[str, Any], items: Mapping[str, Any]) -> AlertSettings:
    """`[alerts]` of invctl.toml and the `alerts` table of each item (items.toml); ValueError
    with the file, the table and the key of the first thing wrong."""
    default = thresholds(dict(alerts), Thresholds(), "invctl.toml: [alerts]")
    per_item = {}
    for sku, item in items.items():
        table = item.extra.get("alerts")
        if table is not None:
            per_item[sku] = thresholds(table, default, f"items.toml: [{sku}.alerts]")
    return AlertSettings(default, per_item)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


# --- the records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """One thing that needs attention. ``message`` says it in a sentence with its figures;
    the other fields are those figures (None where they do not apply):

    qty, value: the stock it is about (a SKU's available units; a lot; on hand; the
    outstanding units of a PO line) and its value at cost; excess, excess_value: units
    above an overstock limit; days: days left before expiry, since expiry, since the last
    sale or count, or past the expected date; limit_days: the threshold crossed.
    """

    kind: str
    severity: str
    sku: str | None
    loc: str | None
    message: str
    qty: Number | None = None
    value: Decimal | None = None
    available: Number | None = None
    on_order: Number | None = None
    reorder_point: Decimal | None = None
    max_stock: Decimal | None = None
    demand_per_day: float | None = None
    days_of_cover: float | None = None
    excess: Decimal | None = None
    excess_value: Decimal | None = None
    days: int | None = None
    limit_days: int | None = None
    lot: str | None = None
    expires: dt.date | None = None
    last_sold: dt.date | None = None
    last_counted: dt.date | None = None
    po: str | None = None
    supplier: str | None = None
    expected: dt.date | None = None
    file: str | None = None
    line: int | None = None

    @property
    def key(self) -> str:
        """The problem's identity across runs (kinds of one family share it)."""
        subject = ""
        if self.kind in ("expiring", "expired"):
            subject = f"{self.lot or ''}@{self.expires}"
        elif self.kind == "po-overdue":
            subject = self.po or ""
        elif self.kind == "invalid-journal":
            subject = self.message  # it starts with file:line
        return "|".join((FAMILY.get(self.kind, self.kind), self.sku or "", self.loc or "", subject))

    @property
    def figure(self) -> float | None:
        """The number whose worsening makes a known alert new again (see WORSE)."""
        if self.kind == "low-stock":
            return float((self.available or 0) + (self.on_order or 0))
        if self.kind == "overstock":
            return float(self.excess or 0)
        if self.kind == "negative-stock":
            return -float(self.qty or 0)
        return None


def sort_key(a: Alert) -> tuple[Any, ...]:
    return (-RANK[a.severity], _ORDER[a.kind], a.sku or "", a.loc or "", a.file or "", a.line or 0,
            a.expires or dt.date.min, a.lot or "", a.po or "")


# --- stock per SKU -------------------------------------------------------------------------


class DemandLike(Protocol):
    """invctl.forecast.Demand, as far as alerts read it."""

    @property
    def per_day(self) -> float: ...
    @property
    def sigma(self) -> float: ...


@dataclass
class SkuStock:
    """A SKU's stock over the positions looked at (all locations, or one)."""

    on_hand: Number = 0
    available: Number = 0
    on_order: Number = 0
    value: Decimal = _ZERO
    expired_value: Decimal = _ZERO  # of the units in lots past their expiry date
    last_sold: dt.datetime | None = None
    oldest: dt.datetime | None = None  # when the oldest units available came in


def stock_by_sku(state: Any, today: dt.date, loc: str | None = None) -> dict[str, SkuStock]:
    """Per SKU that has a position or an open PO line (at ``loc``, when given)."""
    out: dict[str, SkuStock] = {}
    for (sku, where), pos in state.positions.items():
        if loc is not None and where != loc:
            continue
        s = out.setdefault(sku, SkuStock())
        s.on_hand += pos.qty
        s.available += pos.qty
        s.value += pos.value
        if pos.last_sold is not None and (s.last_sold is None or pos.last_sold > s.last_sold):
            s.last_sold = pos.last_sold
        unit = pos.unit_cost() if state.average else None
        for la in pos.layers:
            if la.expires is not None and la.expires < today:
                s.available -= la.qty
                s.expired_value += la.qty * (unit if unit is not None else la.cost)
            elif s.oldest is None or la.ts < s.oldest:
                s.oldest = la.ts
    for (sku, where), qty in state.on_order().items():
        if loc is None or where == loc:
            out.setdefault(sku, SkuStock()).on_order += qty
    return out


def unsold(s: SkuStock, th: Thresholds, today: dt.date, tz: dt.tzinfo) -> tuple[str | None, int, int]:
    """(dead-stock, slow-stock or None; days without a sale; the threshold crossed).

    Days count from the last sale at the positions looked at, or, for stock never sold,
    from when the oldest units available came in. Only available stock can be dead or slow
    (expired lots are reported as expired)."""
    since = s.last_sold if s.last_sold is not None else s.oldest
    if s.available <= 0 or since is None:
        return None, 0, 0
    days = (today - since.astimezone(tz).date()).days
    if th.dead_days > 0 and days >= th.dead_days:
        return "dead-stock", days, th.dead_days
    if th.slow_days > 0 and days >= th.slow_days:
        return "slow-stock", days, th.slow_days
    return None, days, 0


def own_reorder_point(item: Any) -> Decimal | None:
    return item.reorder_point if item is not None else None


def needs_demand(state: Any, items: Mapping[str, Any], settings: AlertSettings, today: dt.date, *,
                 loc: str | None = None, kinds: set[str] | None = None) -> set[str]:
    """The SKUs whose demand forecast some alert needs: a computed reorder point (items
    without their own), days of cover of low stock, the days-of-cover overstock rule."""
    want = set(KINDS) if kinds is None else kinds
    tz = state.ledger.settings.tz
    out = set()
    for sku, s in stock_by_sku(state, today, loc).items():
        if s.available <= 0:
            continue  # out of stock (or no stock): no days of cover to tell
        th = settings.of(sku)
        if "low-stock" in want and "low-stock" not in th.ignore:
            rop = own_reorder_point(items.get(sku))
            if rop is None or s.available + s.on_order <= rop:
                out.add(sku)
        if "overstock" in want and "overstock" not in th.ignore and th.overstock_days > 0 \
                and unsold(s, th, today, tz)[0] is None:
            out.add(sku)
    return out


def computed_reorder_points(skus: Iterable[str], items: Mapping[str, Any], suppliers: Mapping[str, Any],
                            demand: Mapping[str, DemandLike], measured: Mapping[str, Any],
                            policy: Any) -> dict[str, float]:
    """Reorder points by the formula of invctl/suggest.py (d x L + z x s x sqrt(L)) for the
    SKUs without their own `reorder_point` and with some demand."""
    from invctl.suggest import lead_time, z_value

    z = z_value(policy.service_level)
    out = {}
    for sku in skus:
        item = items.get(sku)
        d = demand.get(sku)
        if own_reorder_point(item) is not None or d is None or d.per_day <= 0:
            continue
        lead, _ = lead_time(item.supplier if item is not None else None, suppliers, measured, policy)
        out[sku] = d.per_day * lead + z * max(d.sigma, 0.0) * math.sqrt(lead)
    return out


# --- the decision --------------------------------------------------------------------------


def evaluate(state: Any, items: Mapping[str, Any], settings: AlertSettings, demand: Mapping[str, DemandLike],
             today: dt.date, *, rop: Mapping[str, float] | None = None, loc: str | None = None,
             kinds: set[str] | None = None, places: int = 2, started: dt.date | None = None) -> list[Alert]:
    """Every alert of ``state`` on ``today`` (the state as it is at the end of that day).

    ``demand``: per SKU (all locations), for days of cover; ``rop``: computed reorder
    points of SKUs without their own (computed_reorder_points); ``loc``: only stock and
    PO lines at this location; ``kinds``: only these; ``places``: the currency's decimals,
    for money in messages; ``started``: the journal's first day (never-counted stock has
    been uncounted since then). Sorted critical first, then by kind and SKU.
    """
    want = set(KINDS) if kinds is None else kinds
    tz = state.ledger.settings.tz
    rop = rop or {}
    out: list[Alert] = []

    def on(kind: str, th: Thresholds) -> bool:
        return kind in want and kind not in th.ignore

    def money(d: Decimal) -> str:
        return money_str(d, places)

    def day(ts: dt.datetime) -> dt.date:
        return ts.astimezone(tz).date()

    # Per SKU: stock level, overstock, sales.
    for sku, s in sorted(stock_by_sku(state, today, loc).items()):
        th = settings.of(sku)
        item = items.get(sku)
        d = demand.get(sku)
        per_day = float(d.per_day) if d is not None and d.per_day > 0 else None
        cover = float(s.available) / per_day if per_day and s.available > 0 else None
        where = loc
        idle, idle_days, idle_limit = unsold(s, th, today, tz)
        if s.available <= 0:
            if on("out-of-stock", th):
                held = f" ({qty_str(s.on_hand)} on hand past their expiry date)" if s.on_hand > 0 else ""
                coming = f", {qty_str(s.on_order)} on order" if s.on_order else ", nothing on order"
                out.append(Alert("out-of-stock", SEVERITY["out-of-stock"], sku, where,
                                 f"{qty_str(s.available)} available{held}{coming}",
                                 qty=s.available, available=s.available, on_order=s.on_order,
                                 reorder_point=own_reorder_point(item)))
        elif on("low-stock", th):
            own = own_reorder_point(item)
            point = own if own is not None else (Decimal(str(round(rop[sku], 1))) if sku in rop else None)
            if point is not None and s.available + s.on_order <= point:
                how = "" if own is not None else " (computed)"
                tail = f"; {cover:.1f} days of cover at {per_day:.2f}/day" if cover is not None and per_day else ""
                out.append(Alert("low-stock", SEVERITY["low-stock"], sku, where,
                                 f"{qty_str(s.available)} available + {qty_str(s.on_order)} on order <= "
                                 f"reorder point {qty_str(point)}{how}{tail}",
                                 qty=s.available, available=s.available, on_order=s.on_order,
                                 reorder_point=point, demand_per_day=per_day, days_of_cover=cover))
        if s.available > 0 and on("overstock", th):
            unit = s.value / s.on_hand if s.on_hand > 0 else _ZERO
            cap = item.max_stock if item is not None else None
            over_cap = Decimal(s.available) - cap if cap is not None and s.available > cap else None
            over_days = None
            # Stock without a sale for slow_days is slow or dead stock: its days of cover at a
            # decayed rate would say the same, less clearly.
            if th.overstock_days > 0 and idle is None and cover is not None and per_day \
                    and cover > th.overstock_days:
                extra = Decimal(repr(float(s.available) - per_day * th.overstock_days))
                # whole units for whole stock (136.3 too many T-shirts reads oddly)
                over_days = extra.to_integral_value(ROUND_FLOOR) if s.available == int(s.available) \
                    else extra.quantize(Decimal("0.01"), ROUND_FLOOR)
            if over_cap is not None or over_days is not None:
                excess = max(x for x in (over_cap, over_days) if x is not None)
                why = []
                if over_cap is not None:
                    why.append(f"more than max_stock {qty_str(cap)}")  # type: ignore[arg-type]
                if over_days is not None:
                    why.append(f"{cover:.0f} days of cover at {per_day:.2f}/day, more than {th.overstock_days}")
                out.append(Alert("overstock", SEVERITY["overstock"], sku, where,
                                 f"{qty_str(s.available)} available: {' and '.join(why)}; "
                                 f"{qty_str(excess)} too many, {money(excess * unit)} tied up",
                                 qty=s.available, value=s.value, available=s.available, on_order=s.on_order,
                                 max_stock=cap if over_cap is not None else None, demand_per_day=per_day,
                                 days_of_cover=cover, excess=excess, excess_value=excess * unit,
                                 limit_days=th.overstock_days if over_days is not None else None))
        if idle is not None and on(idle, th):
            last = day(s.last_sold) if s.last_sold is not None else None
            what = (f"no sale in {_days(idle_days)} (last {last})" if last is not None
                    else f"never sold; the oldest units came in {_days(idle_days)} ago")
            worth = s.value - s.expired_value
            out.append(Alert(idle, SEVERITY[idle], sku, where,
                             f"{what}; {qty_str(s.available)} available worth {money(worth)}",
                             qty=s.available, value=worth, available=s.available, days=idle_days,
                             limit_days=idle_limit, last_sold=last))

    # Per position: negative stock, lots, counts.
    for (sku, where), pos in sorted(state.positions.items()):
        if loc is not None and where != loc:
            continue
        th = settings.of(sku)
        if pos.qty < 0 and on("negative-stock", th):
            out.append(Alert("negative-stock", SEVERITY["negative-stock"], sku, where,
                             f"on hand {qty_str(pos.qty)} ({money(pos.value)}): record the missing receipt, or count it",
                             qty=pos.qty, value=pos.value))
        if pos.layers and (on("expired", th) or (on("expiring", th) and th.expiring_days > 0)):
            lots: dict[tuple[str | None, dt.date], list[Any]] = {}
            avg = pos.unit_cost() if state.average else None
            for la in pos.layers:
                if la.expires is None:
                    continue
                acc = lots.setdefault((la.lot, la.expires), [0, _ZERO])
                acc[0] += la.qty
                acc[1] += la.qty * (avg if avg is not None else la.cost)
            for (lot, expires), (qty, value) in sorted(lots.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
                left = (expires - today).days
                name = f"lot {lot}" if lot else "a lot without a number"
                if left < 0 and on("expired", th):
                    out.append(Alert("expired", SEVERITY["expired"], sku, where,
                                     f"{name}: {qty_str(qty)} expired {expires} ({_days(-left)} ago), still on hand, "
                                     f"worth {money(value)}",
                                     qty=qty, value=value, days=-left, lot=lot, expires=expires))
                elif 0 <= left <= th.expiring_days and on("expiring", th):
                    when = "today" if left == 0 else f"in {_days(left)}"
                    out.append(Alert("expiring", SEVERITY["expiring"], sku, where,
                                     f"{name}: {qty_str(qty)} expire {expires} ({when}), worth {money(value)}",
                                     qty=qty, value=value, days=left, limit_days=th.expiring_days,
                                     lot=lot, expires=expires))
        every, cls = settings.count_days(sku)
        if pos.qty > 0 and on("count-overdue", th) and every > 0:
            last = day(pos.last_counted) if pos.last_counted is not None else None
            counted = last if last is not None else started
            if counted is not None and (today - counted).days >= every:
                days = (today - counted).days
                what = (f"last counted {last}, {_days(days)} ago" if last is not None
                        else f"never counted: the journal starts {started}, {_days(days)} ago")
                due = f"due every {_days(every)}" + (f", ABC class {cls}" if cls else "")
                out.append(Alert("count-overdue", SEVERITY["count-overdue"], sku, where,
                                 f"{what} ({due}); {qty_str(pos.qty)} on hand",
                                 qty=pos.qty, value=pos.value, days=days, limit_days=every,
                                 last_counted=last))

    # PO lines past their expected date.
    if "po-overdue" in want:
        for line in sorted(state.po_lines.values(), key=lambda x: (x.po, x.sku)):
            left = line.outstanding
            th = settings.of(line.sku)
            if not left or line.expected is None or (loc is not None and line.loc != loc) or not on("po-overdue", th):
                continue
            late = (today - line.expected).days
            if late > th.po_overdue_days:
                value = left * line.cost if line.cost is not None else None
                source = f" from {line.supplier}" if line.supplier else ""
                out.append(Alert("po-overdue", SEVERITY["po-overdue"], line.sku, line.loc,
                                 f"{line.po}{source}: {qty_str(left)} of {qty_str(line.ordered)} outstanding, "
                                 f"expected {line.expected} ({_days(late)} late)",
                                 qty=left, value=value, days=late, limit_days=th.po_overdue_days,
                                 po=line.po, supplier=line.supplier, expected=line.expected))

    # Journal lines the replay had to leave out.
    if "invalid-journal" in want and "invalid-journal" not in settings.default.ignore:
        for p in state.problems:
            if p.severity == "error":
                out.append(Alert("invalid-journal", SEVERITY["invalid-journal"], None, None,
                                 str(p),
                                 file=p.path, line=p.line or None))

    out.sort(key=sort_key)
    return out


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


# --- --new: what was reported before ------------------------------------------------------


class Seen(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """An alert as a `--new` run left it: its kind and severity, the figure it was reported
    at (or the better one it has had since), and the day it was last reported."""

    kind: str
    severity: str
    reported: dt.date
    figure: float | None = None


WORSE_FACTOR = 2.0  # "materially worse": the figure halved (low stock) or doubled (the others)
# Per kind: whether a bigger figure is worse ("up") or a smaller one ("down"); kinds not
# here get new again only by a higher severity.
WORSE = {"low-stock": "down", "overstock": "up", "negative-stock": "up"}


def worse(kind: str, before: float | None, now: float | None) -> bool:
    """Whether ``now`` is materially worse than ``before`` (see WORSE)."""
    way = WORSE.get(kind)
    if way is None or before is None or now is None:
        return False
    if way == "up":
        return before > 0 and now >= before * WORSE_FACTOR
    return before > 0 and now <= before / WORSE_FACTOR


def _better(kind: str, before: float | None, now: float | None) -> float | None:
    if before is None or now is None:
        return now
    return min(before, now) if WORSE.get(kind) == "up" else max(before, now)


def fresh(alerts: list[Alert], seen: Mapping[str, Seen], today: dt.date) -> tuple[list[Alert], dict[str, Seen]]:
    """The alerts to report now, and what to remember for the next run.

    An alert is new when its problem (Alert.key) was not among those of the last run, when
    its severity is higher than it was then (low stock that ran out, a lot that expired,
    slow stock gone dead), or when its figure got materially worse than when it was
    reported (WORSE; compared with the best it has been since, so one that got better and
    then worse again counts). A problem that went away is forgotten: when it comes back it
    is new again.
    """
    new: list[Alert] = []
    keep: dict[str, Seen] = {}
    for a in alerts:
        key = a.key
        fig = a.figure
        old = seen.get(key)
        if old is None or RANK.get(old.severity, -1) < RANK[a.severity] or (old.kind == a.kind and worse(a.kind, old.figure, fig)):
            new.append(a)
            keep[key] = Seen(a.kind, a.severity, today, fig)
        elif old.kind != a.kind or RANK.get(old.severity, -1) > RANK[a.severity]:
            keep[key] = Seen(a.kind, a.severity, old.reported, fig)  # better now: the new baseline
        else:
            keep[key] = Seen(a.kind, a.severity, old.reported, _better(a.kind, old.figure, fig))
    return new, keep
