"""Periods of a report (day, week, month, quarter, year) in the ledger's time zone, and the
text charts that show figures per period (sparklines, bars)."""

from __future__ import annotations

import datetime as dt
from typing import Any

ADVERB = {"day": "Daily", "week": "Weekly", "month": "Monthly", "quarter": "Quarterly", "year": "Yearly"}


def period_label(unit: str, d: dt.date) -> str:
    """The name of the day, ISO week, month, quarter or year a day falls in."""
    if unit == "day":
        return d.isoformat()
    if unit == "week":
        iso = d.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if unit == "month":
        return f"{d.year}-{d.month:02d}"
    if unit == "quarter":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return str(d.year)


def next_period(unit: str, d: dt.date) -> dt.date:
    """The first day of the period after the one ``d`` falls in (``date.max`` after the last
    period of year 9999, which a journal line may hold)."""
    try:
        if unit == "day":
            return d + dt.timedelta(days=1)
        if unit == "week":
            return d + dt.timedelta(days=7 - d.weekday())
        if unit == "year":
            return dt.date(d.year + 1, 1, 1)
        months = 1 if unit == "month" else 3 - (d.month - 1) % 3
        m = d.month - 1 + months
        return dt.date(d.year + m // 12, m % 12 + 1, 1)
    except (OverflowError, ValueError):
        return dt.date.max


def trend_unit(first: dt.date, last: dt.date) -> str:
    """The period of the trend chart: the finest that gives at most about three dozen points."""
    days = (last - first).days + 1
    if days <= 31:
        return "day"
    if days <= 26 * 7:
        return "week"
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months <= 36:
        return "month"
    return "quarter" if months <= 36 * 3 else "year"


def periods(unit: str, first: dt.date, last: dt.date) -> list[str]:
    """The labels of the periods from the one of ``first`` to the one of ``last``."""
    labels = []
    d = first
    while d <= last:
        labels.append(period_label(unit, d))
        if d == dt.date.max:
            break
        d = next_period(unit, d)
    if labels and labels[-1] != period_label(unit, last):
        labels.append(period_label(unit, last))
    return labels


class Clock:
    """The period (an index into ``labels``) of event times, in the ledger's time zone.

    The replay hands events over in time order, so the end of the current period answers
    almost every call without a time-zone conversion (kept in the events' own tzinfo, which
    compares without computing offsets)."""

    def __init__(self, unit: str, tz: dt.tzinfo):
        self.unit = unit
        self.tz = tz
        self.labels: list[str] = []
        self.day: dt.date = dt.date.min  # the first day of the current period
        self._ids: dict[str, int] = {}
        self._tzinfo: Any = None
        self._end: Any = None
        self._id = -1

    def __call__(self, ts: dt.datetime) -> int:
        if ts.tzinfo is self._tzinfo and ts < self._end:
            return self._id
        d = ts.astimezone(self.tz).date()
        label = period_label(self.unit, d)
        nxt = next_period(self.unit, d)
        self._tzinfo = ts.tzinfo
        try:
            self._end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.tz).astimezone(ts.tzinfo)
        except OverflowError:  # the last days of year 9999: work the period out on every call
            self._end = ts
        i = self._ids.get(label)
        if i is None:
            i = self._ids[label] = len(self.labels)
            self.labels.append(label)
        self._id = i
        self.day = d
        return i


SPARKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉"


def sparkline(values: list[float]) -> str:
    """One character per value, scaled to the largest: a blank for nothing (or less)."""
    top = max(values, default=0.0)
    if top <= 0:
        return " " * len(values)
    return "".join(" " if v <= 0 else SPARKS[min(7, int(v / top * 8))] for v in values)


def bar(value: float, top: float, width: int = 24) -> str:
    """A horizontal bar of ``value`` against ``top``, to an eighth of a character."""
    if top <= 0 or value <= 0:
        return ""
    eighths = round(value / top * width * 8)
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
