"""`invctl report html`: the dashboard page (invctl/dashboard.py, dashboard_html.py, cli/report_html.py).

Fast tests parse the HTML with the standard library and check it against the reports it
summarizes. Browser tests render it in headless Chromium at phone and desktop widths and
assert on the laid-out DOM; they skip when `chromium` is missing, except in CI ($CI set),
where .ci/run installs it and a missing browser is a failure. Screenshots are kept in
tests/artifacts/ (gitignored) to look at.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import struct
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from invctl import dashboard as D
from invctl import dashboard_html as H
from invctl.catalog import add_entry
from invctl.cli.main import Group
from invctl.cli.main import app as main_app
from invctl.cli.report_html import html as html_command
from invctl.create import init_ledger
from invctl.events import to_line

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "shop"
ARTIFACTS = Path(__file__).parent / "artifacts"
AS_OF = "2026-10-31"


def _app() -> typer.Typer:
    """`html` under a root like invctl's (Group: a refusal is one line and exit 1)."""
    app = typer.Typer(cls=Group, add_completion=False, rich_markup_mode=None)
    app.callback()(lambda: None)
    app.command("html")(html_command)
    return app


def run(root: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(_app(), ["html", "-L", str(root), *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def invctl(root: Path, *args: str) -> str:
    r = CliRunner().invoke(main_app, ["-L", str(root), *args], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def copy_example(dest: Path) -> Path:
    """examples/shop is never written to: tests work on a copy (without its .invctl/)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".invctl"))
    return dest


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = copy_example(tmp_path_factory.mktemp("dash") / "shop")
    out = root.parent / "report.html"
    code, stdout, err = run(root, "-o", str(out), "--as-of", AS_OF)
    assert code == 0, err
    assert stdout == "" and err == "", "a cron job mails any output: the command must be silent when it works"
    return root, out.read_text(encoding="utf-8")


# --- a ledger whose names are out to break the page ----------------------------------------

NAME = "<script>alert(\"x\")</script> & 'Tee' <b>"
STRAY = "X<img src=x onerror=alert(1)>"  # a SKU only in the journal (the catalog refuses such ids)
LOT = "L</style><i>"
PO = "PO\"><svg onload=alert(1)>"
SUPPLIER = "s&co"
FOLDER = "shop<&\"'>"


def hostile(root: Path) -> Path:
    init_ledger(root, currency="EUR", timezone="Europe/Berlin", locations=["main"], git=False)
    add_entry(root, "item", "TEE", {"name": NAME, "price": "9.90", "cost": "2.00", "reorder_point": 10})
    add_entry(root, "item", "GONE", {"name": "Tom & Jerry's \"best\"", "price": "5.00", "cost": "1.00"})
    berlin = dt.timezone(dt.timedelta(hours=2))
    rows = [
        ("2026-10-01T09:00", "received", "TEE", {"qty": 6, "cost": "2.00", "lot": LOT, "expires": "2026-11-05"}),
        ("2026-10-01T09:01", "received", "GONE", {"qty": 3, "cost": "1.00"}),
        ("2026-10-02T10:00", "ordered", "TEE", {"po": PO, "supplier": SUPPLIER, "qty": 4, "cost": "2.00",
                                                 "expected": "2026-10-20"}),
        ("2026-10-10T12:00", "sold", "GONE", {"qty": 3, "price": "5.00", "order": "#1"}),
        ("2026-10-20T12:00", "sold", STRAY, {"qty": 2, "price": "3.00", "order": "#2"}),
        ("2026-10-21T12:00", "sold", "TEE", {"qty": 1, "price": "9.90", "order": "#3"}),
    ]
    lines = []
    for i, (ts, kind, sku, fields) in enumerate(rows):
        ev = {"id": f"E{i:09d}", "ts": dt.datetime.fromisoformat(ts).replace(tzinfo=berlin).isoformat(),
              "type": kind, "sku": sku, "loc": "main", **fields, "by": "tester"}
        lines.append(to_line(ev))
    month = root / "journal" / "2026" / "2026-10.jsonl"
    month.parent.mkdir(parents=True, exist_ok=True)
    month.write_bytes(b"".join(lines))
    return root


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = hostile(tmp_path_factory.mktemp("hostile") / FOLDER)
    code, out, err = run(root, "-o", "-", "--as-of", AS_OF)
    assert code == 0, err
    return root, out


# --- reading the page back ------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source", "area", "base", "embed", "track"}
SVG_EMPTY = {"line", "rect", "path", "circle", "polyline"}


class Page(HTMLParser):
    """A strict reading: tags must nest, ids be unique; collects the figures (<data value>),
    the alerts' severities and texts, every start tag and attribute, and the text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        self.figures: dict[str, str] = {}
        self.severities: list[str] = []
        self.text: list[str] = []
        self.section: str | None = None
        self.chunks: dict[str, list[str]] = {}
        self._fig: str | None = None
        self.feed(text)
        self.close()
        assert not self.stack, f"tags left open: {self.stack}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "section":
            self.section = a.get("id")
        if tag == "div" and (a.get("id") or "").startswith("fig-"):
            self._fig = (a.get("id") or "")[4:]
        if tag == "data" and self._fig and self._fig not in self.figures:
            self.figures[self._fig] = a.get("value") or ""
        if tag == "li" and self.section == "alerts":
            self.severities.append(a.get("class") or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in SVG_EMPTY or tag in VOID, f"<{tag}/> is not an empty element"
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"</{tag}> closes a void element"
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag == "section":
            self.section = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.section:
            self.chunks.setdefault(self.section, []).append(data)

    def in_section(self, section: str) -> str:
        return " ".join(" ".join(self.chunks.get(section, [])).split())


def money(text: str) -> Decimal:
    return Decimal(text)


# --- fast tests -----------------------------------------------------------------------------


def test_the_page_is_well_formed_and_self_contained(example: tuple[Path, str]) -> None:
    _, text = example
    assert text.startswith("<!doctype html>\n")
    page = Page(text)
    tags = [t for t, _ in page.tags]
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in page.tags
    assert ("meta", {"charset": "utf-8"}) in page.tags
    # Nothing to fetch: no scripts, links, images, frames, fonts or imports of any kind.
    assert not re.search(r"https?:", text, re.I), "a network reference"
    assert not {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"} & set(tags)
    for tag, attrs in page.tags:
        assert not {"src", "href", "srcset", "xlink:href", "action"} & set(attrs), f"<{tag}> points somewhere"
        assert not [a for a in attrs if a.startswith("on")], f"<{tag}> has an event handler"
    assert "url(" not in text and "@import" not in text and "@font-face" not in text
    assert tags.count("svg") == 2 and tags.count("rect") == 90, "one bar per day of --days 90"
    assert {"Key figures", "Alerts", "Low stock", "Sales trend", "Top items"} <= set(page.text)


def test_figures_equal_stock_and_order_list(example: tuple[Path, str]) -> None:
    root, text = example
    fig = Page(text).figures
    rows = json.loads(invctl(root, "stock", "--as-of", AS_OF, "--format", "json"))
    assert Decimal(fig["units"]) == sum(Decimal(str(r["on_hand"])) for r in rows)
    assert money(fig["stock-value"]) == sum(Decimal(r["value"]) for r in rows)
    table_total = invctl(root, "stock", "--as-of", AS_OF).split()[-1]  # the table's footer
    assert fig["stock-value"] == table_total == "7275.54"
    lines = json.loads(invctl(root, "order", "list", "--open", "--as-of", AS_OF, "--format", "json"))
    assert money(fig["open-po"]) == sum(Decimal(r["open_value"]) for r in lines)
    assert f"{len(lines)} open lines" in text
    available: dict[str, Decimal] = {}
    for r in rows:  # per SKU over all locations
        available[r["sku"]] = available.get(r["sku"], Decimal(0)) + Decimal(str(r["available"]))
    assert fig["out-of-stock"] == str(sum(1 for v in available.values() if v <= 0))


def test_sales_figures_match_report_sales(example: tuple[Path, str]) -> None:
    root, text = example

    def sales(first: str, last: str, *more: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(invctl(root, "report", "sales", "--from", first, "--to", last,
                                                        *more, "--format", "json"))
        return rows

    def total(rows: list[dict[str, Any]], key: str) -> Decimal:
        return sum((Decimal(str(r[key])) for r in rows), Decimal(0))

    recent = sales("2026-10-02", "2026-10-31")
    previous = sales("2026-09-02", "2026-10-01")
    page = Page(text)
    assert money(page.figures["sales"]) == total(recent, "net_sales")
    figures = page.in_section("figures")
    assert f"{total(recent, 'units'):,} units sold" in figures
    change = (total(recent, "net_sales") - total(previous, "net_sales")) / total(previous, "net_sales") * 100
    assert f"{change:+.1f}%" in figures and f"{total(previous, 'net_sales'):,.2f}" in figures
    top = sales("2026-08-03", "2026-10-31", "--limit", "10")
    rows = re.findall(r'<td class="item"><span class="sku">([^<]*)</span>.*?<data value="([^"]*)">',
                      text.split('id="top-items"')[1])
    assert rows == [(r["sku"], r["net_sales"]) for r in top]


def test_alerts_are_those_of_invctl_alerts_critical_first(hostile_page: tuple[Path, str],
                                                          example: tuple[Path, str]) -> None:
    for root, text in (example, hostile_page):
        expected = json.loads(invctl(root, "alerts", "--as-of", AS_OF, "--format", "json"))
        page = Page(text)
        assert page.severities == [a["severity"] for a in expected]
        shown = page.in_section("alerts")
        for a in expected:
            assert " ".join(a["message"].split()) in shown
    sev = Page(hostile_page[1]).severities
    assert sev[0] == "critical" and "warning" in sev
    assert sev == sorted(sev, key=["critical", "warning", "info"].index)
    low = Page(hostile_page[1]).in_section("low-stock")
    assert "GONE" in low and "TEE" in low and low.index("GONE") < low.index("TEE"), "out of stock first"


def test_names_from_the_ledger_are_escaped(hostile_page: tuple[Path, str]) -> None:
    _, text = hostile_page
    page = Page(text)  # strict: an injected tag would unbalance it
    tags = {t for t, _ in page.tags}
    assert not {"script", "img", "i", "u"} & tags
    assert [t for t, _ in page.tags].count("svg") == 2 and [t for t, _ in page.tags].count("b") >= 1
    words = " ".join(page.text)
    for raw in (NAME, STRAY, LOT, PO, SUPPLIER, FOLDER, "Tom & Jerry's \"best\""):
        assert raw in words, f"{raw!r} is not shown as text"
        assert raw not in text or raw == html.escape(raw, quote=True), f"{raw!r} is in the HTML unescaped"
    assert html.escape(NAME, quote=True) in text
    assert page.figures["out-of-stock"] == "2"  # GONE and the stray SKU, sold short


def test_stdout_atomic_file_and_refusals(example: tuple[Path, str], tmp_path: Path) -> None:
    root, text = example
    code, out, err = run(root, "-o", "-", "--as-of", AS_OF)
    assert code == 0 and out == text, "the same page on stdout as in the file; the same every run"
    target = tmp_path / "site" / "index.html"
    target.parent.mkdir()
    target.write_text("old page")
    os.chmod(target, 0o644)
    code, _, err = run(root, "-o", str(target), "--as-of", AS_OF)
    assert code == 0, err
    assert target.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.html"], "a temporary file was left"
    code, _, err = run(root, "-o", str(tmp_path / "missing" / "x.html"), "--as-of", AS_OF)
    assert code == 1 and "does not exist" in err and "Traceback" not in err
    code, _, err = run(root, "-o", str(tmp_path), "--as-of", AS_OF)
    assert code == 1 and "is a folder" in err
    code, _, err = run(root, "--as-of", AS_OF)
    assert code == 2 and "--output" in err
    code, _, err = run(root, "-o", "-", "--days", "0")
    assert code == 2


def test_longer_periods_chart_weeks_then_months(example: tuple[Path, str]) -> None:
    root, _ = example
    for days, unit, bars in (("365", "ISO week", 53), ("1500", "month", 50)):
        code, out, err = run(root, "-o", "-", "--as-of", AS_OF, "--days", days)
        assert code == 0, err
        page = Page(out)
        assert f"Net sales per {unit}" in page.in_section("trend")
        assert [t for t, _ in page.tags].count("rect") == bars
    assert D.trend_unit(120) == "day" and D.trend_unit(121) == "week" and D.trend_unit(1099) == "month"
    weeks = D.buckets("week", dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert weeks[0] == ("2026-W40", dt.date(2026, 10, 1), dt.date(2026, 10, 4))
    assert weeks[-1] == ("2026-W44", dt.date(2026, 10, 26), dt.date(2026, 10, 31))
    assert sum((b - a).days + 1 for _, a, b in weeks) == 31


def test_an_empty_ledger_gives_a_page_of_zeros(tmp_path: Path) -> None:
    root = tmp_path / "new"
    init_ledger(root, currency="JPY", timezone="Asia/Tokyo", locations=["main"], git=False)
    code, out, err = run(root, "-o", "-")
    assert code == 0, err
    page = Page(out)
    assert page.figures == {"stock-value": "0", "units": "0", "out-of-stock": "0", "open-po": "0", "sales": "0"}
    assert "Nothing needs attention." in out and "No sales in this period." in out
    assert re.search(r"updated \d{4}-\d\d-\d\d \d\d:\d\d \(JST\)", out), "a page of now says when it was made"


def test_chart_ticks_are_round_and_cover_the_values() -> None:
    assert H._ticks(0, 1234) == [0, 500, 1000, 1500]
    assert H._ticks(-30, 70) == [-50, -25, 0, 25, 50, 75]
    assert H._ticks(0, 0.8) == [0, 0.2, 0.4, 0.6, 0.8]
    assert H._Fmt.short(Decimal("1500")) == "1.5k"
    assert H._Fmt.short(Decimal("25000")) == "25k"
    assert H._Fmt.short(Decimal("0.5")) == "0.5"


def _dashboard(alerts: list[D.AlertRow]) -> D.Dashboard:
    day = dt.date(2026, 10, 31)
    w = D.Window(day, day)
    return D.Dashboard("shop", "EUR", 2, day, None, Decimal(0), 0, 0, 0, Decimal(0), 0, w, w, w, "day",
                       [D.Point(day.isoformat(), day, day, 0, Decimal(0))], [], alerts, [])


def test_many_alerts_fold_away_all_but_the_critical_and_the_first_warnings() -> None:
    def rows(sev: str, n: int) -> list[D.AlertRow]:
        return [D.AlertRow(sev, "kind", f"{sev}-{i}", None, "main", f"{sev} number {i}") for i in range(n)]

    text = H.page(_dashboard(rows("critical", 12) + rows("warning", 30) + rows("info", 5)))
    assert text == H.page(_dashboard(rows("critical", 12) + rows("warning", 30) + rows("info", 5))), "pure"
    alerts = text.split('id="alerts"')[1].split("</section>")[0]
    open_part, _, folded = alerts.partition("<details>")
    assert open_part.count('class="critical"') == 12 and open_part.count('class="warning"') == 10
    assert "<summary>20 more warning alerts</summary>" in folded and "<summary>5 info alerts</summary>" in folded
    assert '12 critical, 30 warning, 5 info' in alerts
    text = H.page(_dashboard(rows("warning", 12) + rows("info", 2)))
    assert "<details>" not in text.split('id="alerts"')[1].split("</section>")[0], "folding one or two saves nothing"
    text = H.page(_dashboard(rows("warning", 150)))
    assert "… and 50 more warning alerts: run <code>invctl alerts</code>" in text


# --- in a real browser ----------------------------------------------------------------------

BROWSER = shutil.which("chromium")


def browser() -> str:
    if BROWSER:
        return BROWSER
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); in CI this fails instead")


def chromium(profile: Path, *args: str) -> str:
    """Headless Chromium, offline and without a first-run or a profile of its own.
    --hide-scrollbars: a phone's scrollbars take no width; neither do these."""
    cmd = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={profile}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, f"chromium failed ({p.returncode}): {p.stderr[-2000:]}"
    return p.stdout


# Test-only: measures the laid-out page inside its frame and writes the figures into the
# harness's DOM, which --dump-dom prints. The dashboard itself has no script.
PROBE = r"""
(function () {
  var de = document.documentElement, vw = de.clientWidth;
  var out = {inner: window.innerWidth, client: vw, scroll: de.scrollWidth, overflow: [], minFont: 1000,
             sections: [], figures: [], scrollers: [], text: {}, injected: 0};
  function clipped(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
    }
    return false;
  }
  var all = document.body.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i], r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if ((r.right > vw + 0.5 || r.left < -0.5) && !clipped(el))
      out.overflow.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + Math.round(r.left) + ".." + Math.round(r.right));
    for (var n = el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 3 && n.textContent.trim()) {
        out.minFont = Math.min(out.minFont, parseFloat(getComputedStyle(el).fontSize));
        break;
      }
    }
    var st = getComputedStyle(el).overflowX;
    if ((st === "auto" || st === "scroll") && el.scrollWidth > el.clientWidth + 1)
      out.scrollers.push((el.closest("section") || {}).id + " " + el.scrollWidth + ">" + el.clientWidth);
  }
  function boxes(sel, into) {
    var els = document.querySelectorAll(sel);
    for (var j = 0; j < els.length; j++) {
      var b = els[j].getBoundingClientRect();
      into.push({id: els[j].id, left: Math.round(b.left), top: Math.round(b.top), width: Math.round(b.width)});
    }
  }
  boxes("main > section", out.sections);
  boxes(".figures > div", out.figures);
  ["figures", "alerts", "low-stock", "trend", "top-items"].forEach(function (id) {
    var s = document.getElementById(id);
    out.text[id] = s ? s.innerText : null;
  });
  out.injected = document.querySelectorAll("img, iframe, object, embed, script:not(#probe)").length;
  var pre = parent.document.createElement("pre");
  pre.className = "probe";
  pre.setAttribute("data-frame", window.frameElement.id);
  pre.textContent = JSON.stringify(out);
  parent.document.body.appendChild(pre);
})();
"""


def harness(frames: list[tuple[str, int, str]]) -> str:
    """A page of iframes, one per (name, width, page), each page with the probe. Chromium
    keeps a window at least 500 px wide, so a 390 px phone is a 390 px frame; srcdoc frames
    share the harness's origin, so the probe can write into it."""
    parts = []
    for name, width, page in frames:
        probed = page.replace("</body>", f'<script id="probe">{PROBE}</script></body>')
        parts.append(f'<iframe id="{name}" width="{width}" height="844" style="border:0;display:block" '
                     f'srcdoc="{html.escape(probed, quote=True)}"></iframe>')
    return f'<!doctype html><html><body style="margin:0">{"".join(parts)}</body></html>'


@pytest.fixture(scope="module")
def rendered(example: tuple[Path, str], hostile_page: tuple[Path, str],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The example page at 320, 390, 768 and 1280 px, the hostile page at 390, and a control:
    the example with one element 800 px wide, at 390 (the overflow check must catch it)."""
    browser()
    _, text = example
    wide = text.replace("<main>", '<main><div id="too-wide" style="width:800px">wide</div>', 1)
    tmp = tmp_path_factory.mktemp("browser")
    page = tmp / "harness.html"
    page.write_text(harness([("phone", 390, text), ("small", 320, text), ("tablet", 768, text),
                             ("desktop", 1280, text), ("hostile", 390, hostile_page[1]),
                             ("control", 390, wide)]), encoding="utf-8")
    dom = chromium(tmp / "profile", "--window-size=1400,900", "--dump-dom", page.as_uri())
    found = {m.group(1): json.loads(html.unescape(m.group(2)))
             for m in re.finditer(r'<pre class="probe" data-frame="(\w+)">(.*?)</pre>', dom, re.S)}
    assert set(found) == {"phone", "small", "tablet", "desktop", "hostile", "control"}, dom[-3000:]
    return found


@pytest.mark.parametrize(("frame", "width"), [("phone", 390), ("small", 320), ("tablet", 768), ("desktop", 1280)])
def test_nothing_overflows_the_page(rendered: dict[str, dict[str, Any]], frame: str, width: int) -> None:
    p = rendered[frame]
    assert p["inner"] == p["client"] == width, "the frame did not get the width asked for"
    assert p["scroll"] == width and not p["overflow"], f"wider than the screen at {width} px: {p['overflow']}"
    assert p["minFont"] >= 12, f"text smaller than 12 px at {width} px"


def test_the_overflow_check_catches_a_wide_element(rendered: dict[str, dict[str, Any]]) -> None:
    p = rendered["control"]
    assert p["scroll"] > 390 and any(o.startswith("div#too-wide") for o in p["overflow"])


def test_on_a_phone_one_column_with_the_figures_and_alerts(rendered: dict[str, dict[str, Any]]) -> None:
    p = rendered["phone"]
    assert len({(s["left"], s["width"]) for s in p["sections"]}) == 1, "sections side by side on a phone"
    tops = [s["top"] for s in p["sections"]]
    assert tops == sorted(tops) and [s["id"] for s in p["sections"]][:2] == ["figures", "alerts"]
    assert len({f["left"] for f in p["figures"]}) == 2, "key figures two abreast"
    figures = p["text"]["figures"]
    for words in ("Stock value", "7,275.54", "Units on hand", "1,390", "SKUs out of stock", "Open PO value",
                  "7,023.30", "Net sales, last 30 days", "24,469.25"):
        assert words in figures
    assert "po-overdue" in p["text"]["alerts"] and "SNK-CRISP-SALT" in p["text"]["alerts"]
    assert "Oct 31" in p["text"]["trend"] and "HOOD-NVY-M" in p["text"]["top-items"]
    assert not p["scrollers"], f"tables that scroll sideways on a phone: {p['scrollers']}"


def test_on_a_desktop_cards_and_two_columns(rendered: dict[str, dict[str, Any]]) -> None:
    p = rendered["desktop"]
    by = {s["id"]: s for s in p["sections"]}
    assert by["alerts"]["top"] == by["low-stock"]["top"] and by["alerts"]["left"] < by["low-stock"]["left"]
    assert by["trend"]["top"] == by["top-items"]["top"]
    assert by["figures"]["width"] > 2 * by["alerts"]["width"] - 50, "the key figures span the page"
    assert len({f["top"] for f in p["figures"]}) == 1, "the five key figures in one row"


def test_hostile_names_render_as_text(rendered: dict[str, dict[str, Any]]) -> None:
    p = rendered["hostile"]
    assert p["injected"] == 0 and not p["overflow"] and not p["scrollers"]
    assert NAME in p["text"]["low-stock"] and STRAY in p["text"]["alerts"] and PO in p["text"]["alerts"]
    assert "CRITICAL" in p["text"]["alerts"].upper()


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", head[16:24])
    return w, h


@pytest.mark.parametrize(("name", "size"), [("phone", (390, 844)), ("desktop", (1280, 900))])
def test_screenshots(example: tuple[Path, str], tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    """Screenshots to look at, kept in tests/artifacts/ (gitignored)."""
    browser()
    _, text = example
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"dashboard-{name}.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path / "profile", f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page.as_uri())
    assert _png_size(shot) == size
