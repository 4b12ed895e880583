"""Drawing reports: rich tables on a terminal, JSON and CSV for scripts.

The only module that imports rich. Money is rounded to the currency's decimals here and
nowhere else; JSON carries quantities as numbers and money as decimal strings.
"""

from __future__ import annotations

import csv
import os
import sys
from decimal import Decimal
from typing import IO, Any

import msgspec

from invctl.numbers import money_str, qty_out, qty_str
from invctl.reports import Column, Report

FORMATS = ("table", "json", "csv")
_json = msgspec.json.Encoder(decimal_format="number")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def _plain(col: Column, value: Any, places: int) -> Any:
    """A value for JSON: numbers for quantities, decimal strings for money."""
    if value is None:
        return None
    if col.kind == "money":
        return money_str(value, places)
    if col.kind == "qty":
        return qty_out(value)
    if col.kind == "pct":
        return float(round(Decimal(value), 1)) if isinstance(value, Decimal) else value
    return value


def to_json(report: Report, places: int) -> bytes:
    rows = [{c.key: _plain(c, r.get(c.key), places) for c in report.columns} for r in report.rows]
    return _json.encode(rows)


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (numbers are left alone)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_csv(report: Report, places: int, out: IO[str]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.key for c in report.columns])
    for r in report.rows:
        row = []
        for c in report.columns:
            v = _plain(c, r.get(c.key), places)
            if c.kind == "qty" and v is not None:
                v = qty_str(v)
            elif c.kind == "bool" and v is not None:
                v = "true" if v else "false"  # as JSON writes it, not Python's True
            row.append(csv_cell(v) if c.kind == "text" else ("" if v is None else str(v)))
        w.writerow(row)


def _cell(col: Column, value: Any, places: int) -> str:
    if value is None or value == "":
        return ""
    if col.kind == "money":
        return money_str(value, places)
    if col.kind == "qty":
        return qty_str(value)
    if col.kind == "pct":
        return f"{Decimal(value):.1f}%"
    if col.kind == "bool":
        return "yes" if value else ""  # a column of "False" hides the few that matter
    return str(value)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    stream = sys.stderr if stderr else sys.stdout
    # Piped output is for files and mail: do not squeeze tables into 80 columns.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 200
    # rich's no_color drops colours but keeps bold and italic escapes; NO_COLOR users and
    # the scripts that set it want plain text, so no styling at all.
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False, width=width,
                   color_system=None if no_color else "auto")


def show_table(report: Report, places: int, out: IO[str] | None = None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Cells are Text, not str: rich would read "[...]" in an item name as markup (a name
    # like "Cap [/x]" crashed the table), and skipping the markup parser is faster too.
    cols = [c for c in report.columns if c.table]
    table = Table(title=Text(report.title, style="table.title"), box=box.SIMPLE_HEAD, title_justify="left",
                  show_footer=bool(report.totals))
    for c in cols:
        right = c.kind in ("qty", "money", "int", "pct")
        footer = _cell(c, report.totals[c.key], places) if c.key in report.totals else ""
        table.add_column(Text(c.header), justify="right" if right else "left", footer=Text(footer),
                         no_wrap=c.kind != "text" or not c.wrap, overflow="fold")
    for r in report.rows:
        table.add_row(*[Text(_cell(c, r.get(c.key), places)) for c in cols],
                      style="red" if _negative(r) else None)
    con = console()
    if out is not None:
        con.file = out
    con.print(table)


def _negative(row: dict[str, Any]) -> bool:
    v = row.get("on_hand")
    return isinstance(v, int | Decimal) and v < 0


def emit(report: Report, fmt: str, places: int) -> None:
    """Print a report in the format asked for; notes go to stderr."""
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    if fmt == "json":
        sys.stdout.buffer.write(to_json(report, places) + b"\n")
        sys.stdout.flush()
    elif fmt == "csv":
        write_csv(report, places, sys.stdout)
    else:
        show_table(report, places)


BIG = 32 << 20  # below this a replay takes well under a second: no bar


def progress_drawer(min_total: int = BIG) -> Any:
    """A progress drawer for invctl.progress: a bar on stderr for work of at least
    ``min_total`` units (bytes of journal), gone when done. rich loads on first use."""
    bars: dict[str, Any] = {}

    def draw(what: str, done: int, total: int) -> None:
        bar = bars.get(what)
        if bar is None:
            if total < min_total:
                return
            import atexit

            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            progress = Progress(TextColumn(what), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                console=console(stderr=True), transient=True)
            progress.start()
            atexit.register(progress.stop)  # an error half-way must not leave the cursor hidden
            bar = bars[what] = (progress, progress.add_task(what, total=total))
        progress, task = bar
        progress.update(task, completed=done, total=total, refresh=True)  # one draw per 4 MiB: cheap, and seen even when quick
        if done >= total:
            progress.stop()
            del bars[what]

    return draw


def message(text: str) -> None:
    """A line for the person at the terminal (stderr, so stdout stays for data)."""
    print(text, file=sys.stderr)
