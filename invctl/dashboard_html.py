"""The dashboard page (`report html`): a Dashboard (plain data, invctl/dashboard.py) in,
one self-contained HTML text out. Inline CSS and inline SVG, no script, no font or image
to fetch; every text that comes from the ledger goes through ``html.escape``.
docs/dashboard.md describes the page."""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable
from decimal import Decimal

from invctl.dashboard import WINDOW_DAYS, AlertRow, Dashboard, LowRow, Point, TopRow
from invctl.numbers import Number, money_str, qty_out

SHOWN_PER_SEVERITY = 100  # alerts listed per severity; the rest are counted
SHOWN_OPEN = 10  # of which open on the page (critical: all); the others behind "more"
_ZERO = Decimal(0)


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
