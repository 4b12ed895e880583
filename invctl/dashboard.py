"""The HTML dashboard (`report html`): one self-contained page for a phone or a desktop.

Three layers, kept apart:

- ``collect`` reads the ledger: one replay up to --as-of with two sales observers
  (invctl/reports/sales.py's Collector: per local day, and per SKU over the period), the
  stock report from that replay's state, and the alerts (invctl/reports/alerts.py).
- ``page`` is pure: a Dashboard (plain data) in, the HTML text out. Inline CSS and inline
  SVG, no script, no font or image to fetch: it can be mailed, synced or opened offline.
  Every text that comes from the ledger goes through ``html.escape``.
- ``write`` puts the page in place atomically (a temporary file in the same folder, fsynced,
  renamed over the old one), so a web server never serves half a page.

Nothing here imports rich or typer. docs/dashboard.md describes the page.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invctl.numbers import Number, money_str, qty_out

if TYPE_CHECKING:
    from invctl.settings import Ledger

WINDOW_DAYS = 30  # "sales last 30 days vs the 30 before"
STOCK_KINDS = ("out-of-stock", "low-stock")  # the alerts the low-stock table lists
SHOWN_PER_SEVERITY = 100  # alerts listed per severity; the rest are counted
SHOWN_OPEN = 10  # of which open on the page (critical: all); the others behind "more"
TOP = 10
_ZERO = Decimal(0)


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Sales of the days ``first`` to ``last`` (local days, both included)."""

    first: dt.date
    last: dt.date
    units: Number = 0
    net_sales: Decimal = _ZERO


@dataclass(frozen=True)
class AlertRow:
    severity: str
    kind: str
    sku: str | None
    name: str | None
    loc: str | None
    message: str


@dataclass(frozen=True)
class LowRow:
    """A SKU out of stock or at its reorder point (from the alerts of those kinds)."""

    sku: str
    name: str | None
    out: bool
    available: Number
    on_order: Number
    reorder_point: Decimal | None
    days_of_cover: float | None


@dataclass(frozen=True)
class Point:
    """One bar of the trend: a day, week or month (``first`` to ``last``)."""

    label: str
    first: dt.date
    last: dt.date
    units: Number
    net_sales: Decimal


@dataclass(frozen=True)
class TopRow:
    sku: str
    name: str | None
    units: Number
    net_sales: Decimal
    share: Decimal | None  # of the period's net sales, in %


@dataclass
class Dashboard:
    """Everything the page shows, as plain values (money unrounded: ``page`` rounds)."""

    ledger_name: str
    currency: str
    places: int
    day: dt.date  # the day the figures are for (--as-of, else today)
    generated: dt.datetime | None  # when, for a page of "now" (None with --as-of)
    stock_value: Decimal
    units_on_hand: Number
    skus: int  # SKUs with stock or an open PO line
    skus_out: int  # ... of which none is available
    open_po_value: Decimal
    open_po_lines: int
    recent: Window
    previous: Window
    period: Window  # the --days of the trend and the top items
    unit: str  # day, week or month: one bar of the trend
    trend: list[Point]
    top: list[TopRow]
    alerts: list[AlertRow]
    low: list[LowRow]
    notes: list[str] = field(default_factory=list)


# --- reading the ledger ---------------------------------------------------------------------


def trend_unit(days: int) -> str:
    """One bar per day up to four months, per ISO week up to three years, else per month."""
    if days <= 120:
        return "day"
    return "week" if days <= 3 * 366 else "month"


class _Observers:
    """Feeds one replay to several observers; ``until`` keeps later events from the second."""

    def __init__(self, by_day: Any, by_sku: Any, until: dt.datetime | None):
        self.by_day = by_day
        self.by_sku = by_sku
        self.until = until

    def reset(self) -> None:
        self.by_day.reset()
        self.by_sku.reset()

    def __call__(self, state: Any, ev: Any, src: Any, effects: Any) -> None:
        self.by_day(state, ev, src, effects)
        if self.until is None or ev.ts < self.until:
            self.by_sku(state, ev, src, effects)


def collect(ledger: Ledger, *, as_of: dt.datetime | None = None, days: int = 90, top: int = TOP,
            now: dt.datetime | None = None) -> Dashboard:
    """The dashboard's figures at ``as_of`` (the instant to replay up to, exclusive, as
    replay(until=)), else now: stock as `invctl stock` has it, alerts as `invctl alerts`,
    sales as `invctl report sales` counts them, over local days of the ledger's zone."""
    from invctl import alerts as A
    from invctl.replay import replay
    from invctl.reports import alerts as R
    from invctl.reports.saleparts import returns_needing_sales
    from invctl.reports.sales import Collector
    from invctl.reports.stock import stock_report

    tz = ledger.settings.tz
    now = now or dt.datetime.now(tz)
    end = as_of if as_of is not None else now
    today = R.today_of(ledger, as_of) if as_of is not None else now.astimezone(tz).date()

    def midnight(d: dt.date) -> dt.datetime:
        return dt.datetime(d.year, d.month, d.day, tzinfo=tz)

    recent_first = today - dt.timedelta(days=WINDOW_DAYS - 1)
    previous_first = recent_first - dt.timedelta(days=WINDOW_DAYS)
    period_first = today - dt.timedelta(days=days - 1)

    need = returns_needing_sales(ledger, None)
    by_day = Collector(ledger, "day", midnight(min(previous_first, period_first)), need=need)
    by_sku = Collector(ledger, "sku", midnight(period_first), need=need)
    # Without --as-of the state is the whole journal's, as `invctl stock` shows it; sales
    # are counted by local day up to today, so anything dated later stays out of them.
    state = replay(ledger, until=as_of, observer=_Observers(by_day, by_sku, end))
    day_groups = {label: g for label, g in by_day.groups.items() if isinstance(label, str)}

    def window(first: dt.date, last: dt.date) -> Window:
        units: Number = 0
        net = _ZERO
        d = first
        while d <= last:
            g = day_groups.get(d.isoformat())
            if g is not None:
                units += g.units
                net += g.gross - g.returns
            d += dt.timedelta(days=1)
        return Window(first, last, units, net)

    unit = trend_unit(days)
    trend = [Point(label, a, b, w.units, w.net_sales)
             for label, a, b in buckets(unit, period_first, today)
             for w in (window(a, b),)]

    names = {sku: it.name for sku, it in ledger.catalog.items.items()}
    period = window(period_first, today)
    ranked = sorted(by_sku.groups.values(), key=lambda g: (-(g.gross - g.returns), g.key is None, g.key or ""))
    top_rows = [TopRow(g.key, names.get(g.key), g.units, g.gross - g.returns,
                       (g.gross - g.returns) / period.net_sales * 100 if period.net_sales > 0 else None)
                for g in ranked[:top] if g.key is not None and (g.units or g.gross - g.returns)]

    stock = stock_report(ledger, as_of=as_of, state=state)
    per_sku = A.stock_by_sku(state, today)
    open_lines = [line for line in state.po_lines.values() if line.outstanding]

    found = R.find(ledger, as_of=as_of, state=state)  # the replay above: not a second one
    alerts = [AlertRow(a.severity, a.kind, a.sku, names.get(a.sku) if a.sku else None, a.loc, a.message)
              for a in found]
    low = [LowRow(a.sku, names.get(a.sku), a.kind == "out-of-stock", a.available or 0, a.on_order or 0,
                  a.reorder_point, a.days_of_cover)
           for a in found if a.kind in STOCK_KINDS and a.sku is not None]
    low.sort(key=lambda r: (not r.out, r.days_of_cover if r.days_of_cover is not None else -1.0, r.sku))

    return Dashboard(
        ledger_name=ledger.root.resolve().name,
        currency=ledger.settings.currency,
        places=ledger.settings.places,
        day=today,
        generated=None if as_of is not None else now.replace(microsecond=0),
        stock_value=stock.totals.get("value", _ZERO),
        units_on_hand=sum((r["on_hand"] for r in stock.rows), 0),
        skus=len(per_sku),
        skus_out=sum(1 for s in per_sku.values() if s.available <= 0),
        open_po_value=sum((line.outstanding * (line.cost or _ZERO) for line in open_lines), _ZERO),
        open_po_lines=len(open_lines),
        recent=window(recent_first, today),
        previous=window(previous_first, recent_first - dt.timedelta(days=1)),
        period=period,
        unit=unit,
        trend=trend,
        top=top_rows,
        alerts=alerts,
        low=low,
        notes=list(stock.notes),
    )


def buckets(unit: str, first: dt.date, last: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The days, ISO weeks or months from ``first`` to ``last``: (label, first day, last
    day), the first and last cut to the range."""
    out = []
    d = first
    while d <= last:
        if unit == "day":
            nxt = d + dt.timedelta(days=1)
            label = d.isoformat()
        elif unit == "week":
            nxt = d + dt.timedelta(days=7 - d.weekday())
            iso = d.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        else:
            nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
            label = f"{d.year}-{d.month:02d}"
        out.append((label, d, min(nxt - dt.timedelta(days=1), last)))
        d = nxt
    return out


def write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically: readers see the old page or the new one."""
    from invctl.files import write_atomic

    write_atomic(path, text.encode("utf-8"))


# --- the page -------------------------------------------------------------------------------


def esc(value: object) -> str:
    """Text (and attribute values) from the ledger, safe in HTML."""
    return html.escape("" if value is None else str(value), quote=True)


def _qty(q: Number) -> str:
    v = qty_out(q)
    return f"{v:,}" if type(v) is int else f"{v:,f}"


class _Fmt:
    def __init__(self, d: Dashboard):
        self.places = d.places
        self.currency = esc(d.currency)

    def plain(self, m: Decimal) -> str:
        return money_str(m, self.places)

    def grouped(self, m: Decimal) -> str:
        return f"{Decimal(money_str(m, self.places)):,f}"

    def money(self, m: Decimal) -> str:
        """Grouped for reading; the exact figure (as `invctl stock` prints it) in value=."""
        exact = money_str(m, self.places)
        return f'<data value="{exact}">{Decimal(exact):,f}</data>'

    @staticmethod
    def short(m: Decimal) -> str:
        """Money in few characters, for chart axes: 1.2k, 35k, 1.4M."""
        v = float(m)
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if abs(v) >= div:
                x = v / div
                return f"{x:.1f}{suffix}" if abs(x) < 10 and x != int(x) else f"{x:.0f}{suffix}"
        return f"{v:.0f}" if v == int(v) or abs(v) >= 10 else f"{v:.1f}"


def _change(now: Decimal, before: Decimal) -> tuple[str, str]:
    """The change from ``before`` to ``now`` as text, and its CSS class."""
    if before == 0:
        return ("new" if now > 0 else "no change"), ("up" if now > 0 else "flat")
    pct = (now - before) / abs(before) * 100
    if abs(pct) < Decimal("0.05"):
        return "±0.0%", "flat"
    sign = "+" if pct > 0 else "−"
    return f"{sign}{abs(pct):.1f}%", "up" if pct > 0 else "down"


def _day(d: dt.date) -> str:
    return f"{d:%b} {d.day}"  # Oct 2


def _span(a: dt.date, b: dt.date) -> str:
    if a == b:
        return f"{_day(a)}, {a.year}"
    if a.year != b.year:
        return f"{_day(a)}, {a.year} – {_day(b)}, {b.year}"
    return f"{_day(a)} – {_day(b)}, {b.year}"


CSS = """
*,*::before,*::after{box-sizing:border-box}
:root{--bg:#f4f5f7;--card:#fff;--ink:#1b1f24;--muted:#5b6470;--line:#dde1e6;--accent:#2f6fdf;
--crit:#b3261e;--crit-bg:#fdecea;--warn:#8a5300;--warn-bg:#fff4e0;--info:#30568f;--info-bg:#e8f0fb;
--up:#1e7b34;--down:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--card:#1b1f24;--ink:#e8eaed;--muted:#a2aab4;
--line:#30363d;--accent:#6ea0ff;--crit:#ff8a80;--crit-bg:#3b1614;--warn:#ffc46b;--warn-bg:#3a2a0c;
--info:#9cc0ff;--info-bg:#14263f;--up:#6fd08a;--down:#ff8a80}}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
header,main,footer{max-width:80rem;margin:0 auto;padding:0 .75rem}
header{padding-top:1rem}
h1{font-size:1.35rem;margin:0 0 .15rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:0 0 .6rem}
.sub{color:var(--muted);margin:0 0 1rem;font-size:.9rem}
main{display:grid;grid-template-columns:minmax(0,1fr);gap:.75rem}
section{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.85rem;min-width:0}
.figures{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.6rem;margin:0}
#fig-sales{grid-column:1/-1}
.figures div{border:1px solid var(--line);border-radius:.5rem;padding:.6rem .7rem;min-width:0}
.figures dt{color:var(--muted);font-size:.85rem}
.figures dd{margin:.1rem 0 0;font-size:1.25rem;font-weight:650;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.figures .cur{font-size:.8rem;font-weight:400;color:var(--muted)}
.figures small{display:block;font-size:.8rem;font-weight:400;color:var(--muted)}
.up{color:var(--up)}.down{color:var(--down)}.flat{color:var(--muted)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.35rem .4rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600;vertical-align:bottom}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.n{white-space:nowrap}
.sku{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono",monospace;font-size:.85rem;overflow-wrap:anywhere}
td.item{min-width:6rem;overflow-wrap:anywhere}
td.item .name{display:block;color:var(--muted);font-size:.85rem}
td.sales{min-width:5.5rem}
.pct{display:block;color:var(--muted);font-size:.8rem}
.meter{display:block;height:.4rem;margin-left:auto;background:var(--accent);border-radius:.2rem;opacity:.75}
ul.alerts{list-style:none;margin:0 0 .45rem;padding:0;display:grid;gap:.45rem}
ul.alerts li{border-left:.3rem solid var(--line);border-radius:.3rem;padding:.4rem .6rem;overflow-wrap:anywhere}
li.critical{border-color:var(--crit);background:var(--crit-bg)}
li.warning{border-color:var(--warn);background:var(--warn-bg)}
li.info{border-color:var(--info);background:var(--info-bg)}
.badge{display:inline-block;font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;margin-right:.35rem}
li.critical .badge{color:var(--crit)}li.warning .badge{color:var(--warn)}li.info .badge{color:var(--info)}
.what{display:block;font-size:.9rem}
.counts{margin:0 0 .6rem;color:var(--muted);font-size:.9rem}
.more{color:var(--muted);font-size:.9rem;margin:.5rem 0 0}
.ok{color:var(--up);margin:0}
details{margin-top:.6rem}
summary{cursor:pointer;color:var(--accent);font-size:.9rem}
figure{margin:0}
figcaption{color:var(--muted);font-size:.85rem;margin-bottom:.3rem}
.plot{display:flex;align-items:flex-start}
svg.yaxis{flex:0 0 2.8rem;width:2.8rem;overflow:visible}
svg.chart{display:block;flex:1 1 auto;min-width:0;width:100%;overflow:visible}
.plot text{fill:var(--muted);font-size:12px}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{stroke:var(--muted);stroke-width:1}
.chart rect{fill:var(--accent)}
.chart rect.neg{fill:var(--down)}
footer{color:var(--muted);font-size:.85rem;padding-top:.5rem;padding-bottom:1.5rem}
footer p{margin:.3rem 0;overflow-wrap:anywhere}
.warn{color:var(--warn)}
@media (min-width:48rem){
 body{font-size:15px}
 main{grid-template-columns:repeat(2,minmax(0,1fr))}
 .wide{grid-column:1/-1}
}
@media (min-width:48rem){
 .figures{grid-template-columns:repeat(3,minmax(0,1fr))}
 #fig-sales{grid-column:span 2}
}
@media (min-width:72rem){
 .figures{grid-template-columns:repeat(5,minmax(0,1fr))}
 #fig-sales{grid-column:auto}
}
"""


def page(d: Dashboard) -> str:
    """The dashboard as one HTML document (UTF-8 text, no external references)."""
    f = _Fmt(d)
    when = (f"as of {d.day.isoformat()}" if d.generated is None
            else f"updated {d.generated.strftime('%Y-%m-%d %H:%M')} ({esc(d.generated.tzname() or '')})")
    title = f"{esc(d.ledger_name)} — stock and sales, {when}"
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<meta name="generator" content="invctl report html">',
        f"<title>{title}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{esc(d.ledger_name)}</h1>",
        f'<p class="sub">Stock and sales {when}; money in {f.currency}.</p>',
        "</header>",
        "<main>",
        _figures(d, f),
        _alerts(d),
        _low(d),
        _trend(d, f),
        _top(d, f),
        "</main>",
        _footer(d),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _figure(key: str, label: str, value: str, note: str = "") -> str:
    small = f"<small>{note}</small>" if note else ""
    return f'<div id="fig-{key}"><dt>{label}</dt><dd>{value}{small}</dd></div>'


def _figures(d: Dashboard, f: _Fmt) -> str:
    cur = f' <span class="cur">{f.currency}</span>'
    change, cls = _change(d.recent.net_sales, d.previous.net_sales)
    out_cls = ' class="down"' if d.skus_out else ""
    cards = [
        _figure("stock-value", "Stock value", f.money(d.stock_value) + cur),
        _figure("units", "Units on hand", f'<data value="{qty_out(d.units_on_hand)}">{_qty(d.units_on_hand)}</data>'),
        _figure("out-of-stock", "SKUs out of stock",
                f'<data value="{d.skus_out}"{out_cls}>{d.skus_out:,}</data>', f"of {d.skus:,} stocked or on order"),
        _figure("open-po", "Open PO value", f.money(d.open_po_value) + cur,
                f"{d.open_po_lines:,} open line{'' if d.open_po_lines == 1 else 's'}"),
        _figure("sales", f"Net sales, last {WINDOW_DAYS} days", f.money(d.recent.net_sales) + cur,
                f'<span class="{cls}">{change}</span> vs {f.grouped(d.previous.net_sales)} the {WINDOW_DAYS} days before; '
                f"{_qty(d.recent.units)} units sold"),
    ]
    return (f'<section id="figures" class="wide" aria-labelledby="h-figures"><h2 id="h-figures">Key figures</h2>'
            f'<dl class="figures">{"".join(cards)}</dl></section>')


def _alerts(d: Dashboard) -> str:
    head = '<section id="alerts" aria-labelledby="h-alerts"><h2 id="h-alerts">Alerts</h2>'
    if not d.alerts:
        return head + '<p class="ok">Nothing needs attention.</p></section>'
    by: dict[str, list[AlertRow]] = {}
    for a in d.alerts:
        by.setdefault(a.severity, []).append(a)
    order = [s for s in ("critical", "warning", "info") if s in by] + sorted(set(by) - {"critical", "warning", "info"})
    counts = ", ".join(f"{len(by[s])} {esc(s)}" for s in order)
    out = [head, f'<p class="counts">{counts}</p>']
    for sev in order:
        rows = by[sev]
        listed = rows[:SHOWN_PER_SEVERITY]
        more = (f'<p class="more">… and {len(rows) - SHOWN_PER_SEVERITY:,} more {esc(sev)} alerts: '
                f"run <code>invctl alerts</code></p>" if len(rows) > SHOWN_PER_SEVERITY else "")
        # What matters most stays in sight on a phone: every critical alert and the first
        # warnings; the rest (and info, when there is more) behind a click, no script needed.
        if sev == "critical":
            keep = len(listed)
        elif sev == "info" and len(order) > 1:
            keep = 0
        else:
            keep = SHOWN_OPEN
        if len(listed) <= keep + 2:  # folding away one or two would save nothing
            keep = len(listed)
        shown = f'<ul class="alerts">{"".join(_alert(a) for a in listed[:keep])}</ul>' if keep else ""
        rest = listed[keep:]
        folded = more
        if rest:
            label = f"{len(rest):,} more {esc(sev)} alerts" if keep else f"{len(rows):,} {esc(sev)} alerts"
            folded = (f"<details><summary>{label}</summary>"
                      f'<ul class="alerts">{"".join(_alert(a) for a in rest)}</ul>{more}</details>')
        out.append(shown + folded)
    out.append("</section>")
    return "".join(out)


def _alert(a: AlertRow) -> str:
    subject = " ".join(x for x in (
        f"<b>{esc(a.sku)}</b>" if a.sku else "",
        esc(a.name) if a.name else "",
        f"({esc(a.loc)})" if a.loc else "",
    ) if x)
    return (f'<li class="{esc(a.severity)}"><span class="badge">{esc(a.severity)}</span>'
            f'<span class="kind">{esc(a.kind)}</span>{" · " + subject if subject else ""}'
            f'<span class="what">{esc(a.message)}</span></li>')


def _table(head: list[tuple[str, str]], rows: Iterable[list[tuple[str, str]]]) -> str:
    """A table that scrolls sideways inside its box rather than widening the page.
    ``head``: (class, label); ``rows``: cells as (class, html)."""
    ths = "".join(f'<th scope="col" class="{c}">{label}</th>' if c else f'<th scope="col">{label}</th>'
                  for c, label in head)
    body = "".join("<tr>" + "".join(f'<td class="{c}">{v}</td>' if c else f"<td>{v}</td>" for c, v in r) + "</tr>"
                   for r in rows)
    return f'<div class="scroll" tabindex="0"><table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></div>'


def _item(sku: str, name: str | None) -> str:
    """SKU above its name: one narrow column instead of two."""
    return f'<span class="sku">{esc(sku)}</span>' + (f'<span class="name">{esc(name)}</span>' if name else "")


def _low(d: Dashboard) -> str:
    head = '<section id="low-stock" aria-labelledby="h-low"><h2 id="h-low">Low stock</h2>'
    if not d.low:
        return head + '<p class="ok">Nothing is out of stock or at its reorder point.</p></section>'

    def cover(r: LowRow) -> str:
        if r.out:
            return '<span class="down">out</span>'
        return f"{r.days_of_cover:.1f} d" if r.days_of_cover is not None else ""

    # Available + on order against the reorder point: the low-stock rule, in narrow columns.
    rows = ([("item", _item(r.sku, r.name)), ("n", f"{_qty(r.available)} + {_qty(r.on_order)}"),
             ("n", _qty(r.reorder_point) if r.reorder_point is not None else ""), ("n", cover(r))]
            for r in d.low)
    table = _table([("", "Item"), ("n", "Available + on order"), ("n", "Reorder point"), ("n", "Days of cover")],
                   rows)
    return head + table + "</section>"


def _top(d: Dashboard, f: _Fmt) -> str:
    head = (f'<section id="top-items" aria-labelledby="h-top"><h2 id="h-top">Top items</h2>'
            f'<p class="counts">By net sales ({f.currency}), {_span(d.period.first, d.period.last)}</p>')
    if not d.top:
        return head + '<p class="ok">No sales in this period.</p></section>'
    best = max((r.net_sales for r in d.top), default=_ZERO)

    def sales(r: TopRow) -> str:
        """The amount, its share of the period's net sales, and a bar against the first."""
        bar = float(r.net_sales / best * 100) if best > 0 and r.net_sales > 0 else 0.0
        share = f'<span class="pct">{r.share:.1f}% of all</span>' if r.share is not None else ""
        return f'{f.money(r.net_sales)}{share}<span class="meter" style="width:{bar:.1f}%"></span>'

    rows = ([("n", str(i)), ("item", _item(r.sku, r.name)), ("n", _qty(r.units)), ("n sales", sales(r))]
            for i, r in enumerate(d.top, 1))
    table = _table([("n", "#"), ("", "Item"), ("n", "Units"), ("n", "Net sales")], rows)
    return head + table + "</section>"


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """Round gridline values from ``lo`` to past ``hi`` (about ``n`` steps)."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    start = step * (lo // step)
    ticks = []
    v = start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _trend(d: Dashboard, f: _Fmt) -> str:
    per = {"day": "day", "week": "ISO week", "month": "month"}[d.unit]
    caption = f"Net sales per {per}, {_span(d.period.first, d.period.last)} ({f.currency})"
    head = (f'<section id="trend" aria-labelledby="h-trend"><h2 id="h-trend">Sales trend</h2>'
            f'<figure><figcaption id="trend-cap">{caption}</figcaption>')
    values = [float(p.net_sales) for p in d.trend]
    lo = min(0.0, min(values, default=0.0))
    hi = max(0.0, max(values, default=0.0))
    if hi == lo:
        hi = lo + 1
    ticks = _ticks(lo, hi)
    lo, hi = min(ticks[0], lo), max(ticks[-1], hi)
    # Heights in px, widths in %: the chart stretches to its box, its text keeps its size.
    top_px, plot_px = 8, 172  # plot area from y=8 to y=180; x labels below
    height = top_px + plot_px + 28

    def y(v: float) -> float:
        return top_px + (hi - v) / (hi - lo) * plot_px

    # The y labels in an SVG of their own, of fixed width, left of the bars.
    svg = [f'<div class="plot"><svg class="yaxis" height="{height}" aria-hidden="true">']
    svg += [f'<text x="100%" dx="-6" y="{y(t) + 4:.1f}" text-anchor="end">{f.short(Decimal(repr(t)))}</text>'
            for t in ticks]
    svg.append(f'</svg><svg class="chart" role="img" aria-labelledby="trend-cap" height="{height}">')
    for t in ticks:
        ty = y(t)
        svg.append(f'<line class="grid" x1="0" x2="100%" y1="{ty:.1f}" y2="{ty:.1f}"/>')
    n = max(len(d.trend), 1)
    w = 100 / n
    gap = 0.18 if n > 1 else 0.5
    zero = y(0.0)
    for i, p in enumerate(d.trend):
        v = float(p.net_sales)
        top_y, bottom = (y(v), zero) if v >= 0 else (zero, y(v))
        cls = ' class="neg"' if v < 0 else ""
        tip = f"{esc(p.label)}: {f.plain(p.net_sales)} {f.currency}, {_qty(p.units)} units"
        svg.append(f'<rect{cls} x="{i * w + w * gap / 2:.3f}%" width="{w * (1 - gap):.3f}%" y="{top_y:.1f}" '
                   f'height="{max(bottom - top_y, 0.0):.1f}"><title>{tip}</title></rect>')
    svg.append(f'<line class="axis" x1="0" x2="100%" y1="{zero:.1f}" y2="{zero:.1f}"/>')
    base = top_px + plot_px + 18
    for i in _label_at(len(d.trend)):
        p = d.trend[i]
        x = (i + 0.5) * w
        anchor = "start" if i == 0 and len(d.trend) > 1 else ("end" if i == len(d.trend) - 1 and len(d.trend) > 1 else "middle")
        x = 0 if anchor == "start" else (100 if anchor == "end" else x)
        svg.append(f'<text x="{x:.2f}%" y="{base}" text-anchor="{anchor}">{esc(_axis_label(d.unit, p))}</text>')
    svg.append("</svg></div>")
    data = _table([("", per.capitalize()), ("n", "Units"), ("n", f"Net sales ({f.currency})")],
                  ([("", esc(p.label)), ("n", _qty(p.units)), ("n", f.money(p.net_sales))] for p in d.trend))
    details = f"<details><summary>The figures behind the chart</summary>{data}</details>"
    return head + "".join(svg) + "</figure>" + details + "</section>"


def _label_at(n: int, most: int = 4) -> list[int]:
    """Which bars get a date below them: the first, the last and a few evenly between
    (at most ``most``, so that they never crowd a phone screen)."""
    if n <= 0:
        return []
    if n <= most:
        return list(range(n))
    return sorted({round(k * (n - 1) / (most - 1)) for k in range(most)})


def _axis_label(unit: str, p: Point) -> str:
    if unit == "day":
        return _day(p.first)
    if unit == "week":
        return f"{p.label[-3:]} {_day(p.first)}"  # W41 Oct 6
    return f"{p.first:%b %Y}"


def _footer(d: Dashboard) -> str:
    notes = "".join(f'<p class="warn">Warning: {esc(n)}</p>' for n in d.notes)
    recent = _span(d.recent.first, d.recent.last)
    previous = _span(d.previous.first, d.previous.last)
    return (f"<footer>{notes}<p>Net sales are sales less refunds, as <code>invctl report sales</code> counts them; "
            f"last {WINDOW_DAYS} days: {recent}; the {WINDOW_DAYS} before: {previous}. Stock value at cost, "
            f"as <code>invctl stock</code> shows it. Made by <code>invctl report html</code>.</p></footer>")
