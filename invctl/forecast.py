"""Demand forecast per SKU: daily demand from sales history, censored, smoothed, seasonal.

Pure domain code (no printing, no typer, no rich). The formulas and their reasons are in
docs/forecast.md; in short:

- **History** (:func:`history`): one replay with an observer collects, per SKU (all
  locations together) and per local day of the ledger's time zone, the units sold net
  of returns, and whether the day was *censored* (out of stock): total on hand ≤ 0 at
  the start of the day, never above 0 during it, and no sale that day. Days before a
  SKU's first stock movement or sale are not part of its history; a SKU that has never
  had stock on hand is never censored (a ledger that records sales only). Memory is two
  small arrays per SKU (8 + 1 bytes a day), whatever the number of events.
- **Level**: the exponentially weighted mean of daily demand over in-stock days, each
  day weighted by ``0.5 ** (age in days / HALF_LIFE)`` (censored days get no weight,
  so a stock-out does not pull the level down). ``sigma`` is the weighted standard
  deviation of the same days.
- **Season**: with a year of history before the origin (and four weeks before that), the
  level is scaled by ``factor = (units sold over the horizon window a year earlier + PRIOR)
  / (the level a year earlier x in-stock days of that window + PRIOR)``: how the next
  ``horizon`` days went last year against what this same smoother said then (pooled with
  the year before when there is one). It is bounded to ``[SEASON_MIN, SEASON_MAX]``;
  ``PRIOR`` units shrink it towards 1 for slow movers, whose yearly ratio is mostly noise.
- :func:`backtest`: rolling origins, each forecast using only the days up to it, held
  against the in-stock days that followed; MAPE and bias per SKU and overall, beside a
  seasonal-naive baseline.

Figures are floats (they are estimates, not money); reports round them.
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from invctl import events as E
from invctl.errors import Problem
from invctl.fold import Effect, Source, State
from invctl.numbers import parse_qty
from invctl.settings import Ledger

HALF_LIFE = 21.0  # days: a day three weeks old counts half as much as today (alpha ~ 0.0325)
YEAR = 365  # days in "a year ago": the same date last year (a day off after 29 February)
SEASON_MIN = 0.25  # bounds of the seasonal factor
SEASON_MAX = 4.0
SEASON_PRIOR = 10.0  # units: shrinks the factor towards 1 when last year's window sold little
SEASON_YEARS = 2  # past years the factor pools: last year, and the year before when there is one
SEASON_BASE_DAYS = 28  # in-stock days needed up to the origin one year back (a launch ramp is no season)
MIN_HISTORY = 28  # days of history an origin needs in the backtest
OVERALL = "*"  # the key of the all-SKU figures in backtest() (never a SKU: see catalog.ID_PATTERN)

# --- the daily series ----------------------------------------------------------------------


@dataclass
class Series:
    """One SKU's days, from its first stock movement or sale to the history's last day.

    ``sales[i]`` is the net units sold (sold minus returned) on day ``first + i``;
    ``out[i]`` is 1 when that day is censored (out of stock all day, nothing sold).
    """

    sku: str
    first: dt.date
    sales: array[float] = field(default_factory=lambda: array("d"))
    out: bytearray = field(default_factory=bytearray)

    @property
    def days(self) -> int:
        return len(self.sales)

    def day(self, d: dt.date) -> tuple[float, bool] | None:
        """(net units sold, censored) on one day, or None outside the series."""
        i = d.toordinal() - self.first.toordinal()
        if 0 <= i < len(self.sales):
            return self.sales[i], bool(self.out[i])
        return None


@dataclass
class History:
    """Daily series per SKU up to ``last_day`` (inclusive), from one replay.

    ``skus`` lists every SKU considered: the catalog's and the journal's (or the ones
    asked for); a SKU without a series has no sales history. ``problems`` are the
    replay's (bad lines left out).
    """

    last_day: dt.date
    series: dict[str, Series]
    skus: list[str]
    problems: list[Problem] = field(default_factory=list)


class _Acc:
    """A series being collected: the finished days in arrays, the current one in fields."""

    __slots__ = ("sku", "first", "sales", "out", "cur", "today", "on_hand", "avail", "ever")

    def __init__(self, sku: str, day: int):
        self.sku = sku
        self.first = day
        self.sales = array("d")
        self.out = bytearray()
        self.cur = day  # ordinal of the current day
        self.today: float = 0.0  # net units sold so far today
        self.on_hand: Any = 0  # all locations, exact (int or Decimal)
        self.avail = False  # stock was > 0 at some moment of the current day, or it sold
        self.ever = False  # stock has been > 0 at least once

    def roll(self, day: int) -> None:
        """Close the current day and start ``day``; the days between had no events."""
        self.sales.append(self.today)
        self.out.append(0 if self.avail or not self.ever else 1)
        gap = day - self.cur - 1
        if gap > 0:
            self.sales.extend(array("d", bytes(8 * gap)))
            self.out.extend((b"\x01" if self.ever and self.on_hand <= 0 else b"\x00") * gap)
        self.cur = day
        self.today = 0.0
        self.avail = self.on_hand > 0


_SOLD, _LEAN_SOLD = E.Sold, E.LEAN[E.Sold]
_RETURNED, _LEAN_RETURNED = E.Returned, E.LEAN[E.Returned]


class Collector:
    """The replay observer behind :func:`history` (usable beside other observers).

    Days are local days of ``tz``. Call :meth:`finish` after the replay. Per event it does
    a few comparisons and additions (this is the hot path of a forecast: most events are
    sales); memory is the arrays of finished days.
    """

    def __init__(self, tz: dt.tzinfo, skus: set[str] | None = None):
        self.tz = tz
        self.only = skus
        self.reset()

    def reset(self) -> None:
        self.acc: dict[str, _Acc] = {}
        # The current local day as instants in the tzinfo of the last event's ts: datetimes
        # sharing one tzinfo object compare without computing UTC offsets.
        self._tsz: dt.tzinfo | None = None
        self._lo = self._hi = dt.datetime.min
        self._day = 0

    def _ordinal(self, ts: dt.datetime) -> int:
        tz = self.tz
        d = ts.astimezone(tz).date()
        nxt = d + dt.timedelta(days=1)
        start = dt.datetime(d.year, d.month, d.day, tzinfo=tz)
        end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
        fixed = ts.tzinfo if type(ts.tzinfo) is dt.timezone else None  # a fixed offset, as decoded
        self._tsz = fixed
        if fixed is not None:
            self._lo, self._hi = start.astimezone(fixed), end.astimezone(fixed)
        self._day = d.toordinal()
        return self._day

    def __call__(self, state: State, ev: Any, src: Source, effects: list[Effect]) -> None:
        kind = type(ev)
        sale = kind is _LEAN_SOLD or kind is _SOLD
        if not effects and not sale:
            return  # ordered, cancelled, voided: no stock moved
        ts = ev.ts
        if ts.tzinfo is self._tsz and self._lo <= ts < self._hi:
            day = self._day
        else:
            day = self._ordinal(ts)
        sku = ev.sku
        acc = self.acc.get(sku)
        if acc is None:
            if not sale and not any(fx.qty for fx in effects):
                return  # a count of 0, a return not restocked: the SKU's history starts later
            acc = self.acc[sku] = _Acc(sku, day)
        elif day != acc.cur:
            acc.roll(day)
        if sale:
            qty = ev.qty
            if type(qty) is int:
                acc.on_hand -= qty
                acc.today += qty
            else:
                taken = -effects[0].qty
                acc.on_hand -= taken
                acc.today += float(taken)
            acc.avail = True  # (stock > 0 after a sale was > 0 before: `ever` is set already)
            return
        for fx in effects:
            if fx.qty:
                acc.on_hand += fx.qty
        if acc.on_hand > 0:
            acc.avail = acc.ever = True
        if kind is _LEAN_RETURNED or kind is _RETURNED:
            acc.today -= float(parse_qty(ev.qty))

    def finish(self, last_day: dt.date) -> dict[str, Series]:
        """The series, each brought up to ``last_day`` (inclusive)."""
        last = last_day.toordinal()
        out = {}
        for sku, acc in self.acc.items():
            if acc.cur > last or (self.only is not None and sku not in self.only):
                continue  # (a day after the last cannot happen: the replay stops at its end)
            acc.roll(last + 1)  # close the current day and fill up to the last
            out[sku] = Series(sku, dt.date.fromordinal(acc.first), acc.sales, acc.out)
        return out


def history(ledger: Ledger, *, as_of: dt.datetime | None = None, skus: set[str] | None = None) -> History:
    """Daily net sales and stock-outs per SKU, from one replay of the journal.

    ``as_of`` is the instant to replay up to (exclusive, as ``replay(until=)``; the CLI's
    ``--as-of DAY`` gives the next midnight): the history ends with the local day just
    before it. Without it, the history ends yesterday (today is not over: its sales would
    read as a slow day).
    """
    from invctl.replay import replay

    tz = ledger.settings.tz
    if as_of is None:
        today = dt.datetime.now(tz).date()
        as_of = dt.datetime(today.year, today.month, today.day, tzinfo=tz)
    last_day = (as_of - dt.timedelta(microseconds=1)).astimezone(tz).date()
    collector = Collector(tz, skus)
    state = replay(ledger, until=as_of, observer=collector, skus=skus, full=False)
    series = collector.finish(last_day)
    try:
        known = set(ledger.catalog.items)
    except Exception:  # a broken catalog must not stop a forecast from the journal
        known = set()
    names = (known | set(series)) if skus is None else set(skus)
    return History(last_day, series, sorted(names), [p for p in state.problems if p.severity == "error"])


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """The demand forecast of one SKU from one origin day (``as_of``).

    ``per_day`` is the mean units a day over the horizon (season applied), ``forecast``
    the units over it; ``sigma`` the standard deviation of daily demand (in-stock days,
    scaled by the square root of the season factor), for safety stock; ``level`` the
    smoothed demand a day before the season factor; ``in_stock_days`` the days of history
    used, ``censored_days`` the days left out as out of stock.
    """

    sku: str
    per_day: float
    sigma: float
    forecast: float
    horizon_days: int
    method: str  # "ewma", "ewma×season", or "none" (no in-stock history)
    in_stock_days: int
    season_factor: float
    level: float = 0.0
    censored_days: int = 0
    as_of: dt.date | None = None


class _Walk:
    """One series' running sums, for forecasts from any origin (index into the series).

    A forward pass keeps the exponentially weighted sums at the indices asked for, and
    prefix sums of in-stock units and days: each forecast is then O(1), so a backtest
    over many origins costs one pass.
    """

    def __init__(self, s: Series, snaps: Iterable[int]):
        n = len(s.sales)
        want = {i for i in snaps if 0 <= i < n}
        self.n = n
        self.units = units = array("d", bytes(8 * (n + 1)))  # in-stock units before index i
        self.days = days = array("l", bytes(array("l").itemsize * (n + 1)))  # in-stock days before i
        self.ew: dict[int, tuple[float, float, float, float]] = {}
        s0 = s1 = s2 = q = 0.0
        d = 0.5 ** (1.0 / HALF_LIFE)
        d2 = d * d
        u = 0.0
        k = 0
        sales, out = s.sales, s.out
        for i in range(n):
            if out[i]:
                s0 *= d
                s1 *= d
                s2 *= d
                q *= d2
            else:
                x = sales[i]
                s0 = s0 * d + 1.0
                s1 = s1 * d + x
                s2 = s2 * d + x * x
                q = q * d2 + 1.0
                u += x
                k += 1
            units[i + 1] = u
            days[i + 1] = k
            if i in want:
                self.ew[i] = (s0, s1, s2, q)

    def level(self, t: int) -> tuple[float, float] | None:
        """(weighted mean, weighted sd) of in-stock days up to index t, or None."""
        s0, s1, s2, q = self.ew[t]
        if s0 <= 0.0:
            return None
        mean = s1 / s0
        n_eff = s0 * s0 / q if q > 0 else 0.0
        var = max(s2 / s0 - mean * mean, 0.0)
        var = var * n_eff / (n_eff - 1.0) if n_eff > 1.0 else 0.0
        return mean, math.sqrt(var)

    def window(self, a: int, b: int) -> tuple[float, int]:
        """(in-stock units, in-stock days) of indices a..b inclusive (clipped to the series)."""
        a, b = max(a, 0), min(b, self.n - 1)
        if b < a:
            return 0.0, 0
        return self.units[b + 1] - self.units[a], self.days[b + 1] - self.days[a]

    def season(self, t: int, horizon: int) -> float | None:
        """The seasonal factor at origin t, or None without a year of usable history."""
        if horizon > YEAR:
            return None
        num = den = 0.0
        for k in range(1, SEASON_YEARS + 1):
            b = t - YEAR * k
            if b < 0 or self.days[b + 1] < SEASON_BASE_DAYS or b not in self.ew:
                break
            base = self.level(b)
            units, days = self.window(b + 1, b + horizon)
            if base is None or 2 * days < horizon:
                break
            num += units
            den += max(base[0], 0.0) * days
        if den == 0.0 and num == 0.0:
            return None
        factor = (num + SEASON_PRIOR) / (den + SEASON_PRIOR)
        return min(max(factor, SEASON_MIN), SEASON_MAX)

    @staticmethod
    def snaps(t: int) -> list[int]:
        return [t - YEAR * k for k in range(SEASON_YEARS + 1)]


def _demand(sku: str, walk: _Walk | None, t: int, horizon: int, day: dt.date, season: bool = True) -> Demand:
    if walk is None or t < 0:
        return Demand(sku, 0.0, 0.0, 0.0, horizon, "none", 0, 1.0, as_of=day)
    t = min(t, walk.n - 1)
    in_stock = walk.days[t + 1]
    lv = walk.level(t) if in_stock else None
    if lv is None:  # never in stock (or decayed to nothing: a stock-out of decades)
        return Demand(sku, 0.0, 0.0, 0.0, horizon, "none", in_stock, 1.0, censored_days=t + 1 - in_stock, as_of=day)
    mean, sd = lv
    level = max(mean, 0.0)
    factor = walk.season(t, horizon) if season else None
    method = "ewma" if factor is None else "ewma×season"
    f = 1.0 if factor is None else factor
    per_day = level * f
    return Demand(sku, per_day, sd * math.sqrt(f), per_day * horizon, horizon, method, in_stock, f,
                  level=level, censored_days=t + 1 - in_stock, as_of=day)


def forecast(hist: History, *, horizon: int = 30, as_of_day: dt.date | None = None,
             season: bool = True) -> dict[str, Demand]:
    """Demand per SKU over the ``horizon`` days after ``as_of_day`` (default: the history's
    last day), from the days up to and including it only. ``season=False``: the smoothed
    level alone, never scaled by last year (to compare)."""
    if horizon < 1:
        raise ValueError("the horizon must be at least 1 day")
    day = hist.last_day if as_of_day is None else as_of_day
    if day > hist.last_day:
        raise ValueError(f"as_of_day {day} is after the history's last day {hist.last_day}")
    out = {}
    for sku in hist.skus:
        s = hist.series.get(sku)
        if s is None:
            out[sku] = _demand(sku, None, -1, horizon, day)
            continue
        t = day.toordinal() - s.first.toordinal()
        walk = _Walk(s, _Walk.snaps(t)) if t >= 0 else None
        out[sku] = _demand(sku, walk, t, horizon, day, season)
    return out


def demand(ledger: Ledger, *, horizon: int = 30, as_of: dt.datetime | None = None,
           skus: set[str] | None = None) -> dict[str, Demand]:
    """history() and forecast() in one call: demand per SKU for the next ``horizon`` days."""
    return forecast(history(ledger, as_of=as_of, skus=skus), horizon=horizon)


def actual(hist: History, sku: str, start: dt.date, days: int) -> float | None:
    """Net units sold over ``days`` days from ``start`` (all days, censored or not), or
    None when the history does not cover them all."""
    s = hist.series.get(sku)
    end = start + dt.timedelta(days=days - 1)
    if end > hist.last_day:
        return None
    if s is None:
        return 0.0
    a = start.toordinal() - s.first.toordinal()
    b = a + days
    return float(sum(s.sales[max(a, 0):max(b, 0)]))


# --- the backtest ----------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """How a SKU's forecasts (or all SKUs', under OVERALL) compared with what followed.

    Each window is ``horizon`` days after an origin; forecast and actual are counted
    over its in-stock days only (the forecast is per_day x in-stock days). ``mape``: mean
    of |forecast - actual| / actual over windows with actual > 0, in %; ``bias``:
    (sum of forecasts - sum of actuals) / sum of actuals, in %; ``wape``: sum of
    |forecast - actual| / sum of actuals, in %. ``naive_*``: the same for the
    seasonal-naive baseline (``naive_method``: "last year", "last period" or "mixed").
    """

    sku: str
    windows: int
    actual: float
    forecast: float
    mape: float | None
    bias: float | None
    wape: float | None
    naive_forecast: float
    naive_mape: float | None
    naive_bias: float | None
    naive_wape: float | None
    naive_method: str = ""
    method: str = ""  # the method of the forecasts: "ewma", "ewma×season" or "mixed"


class _Score:
    def __init__(self) -> None:
        self.n = 0
        self.actual = self.fc = self.naive = 0.0
        self.abs_fc = self.abs_naive = 0.0
        self.ape_fc: list[float] = []
        self.ape_naive: list[float] = []
        self.methods: set[str] = set()
        self.naive_methods: set[str] = set()

    def add(self, f: float, nv: float, a: float, method: str, naive_method: str) -> None:
        self.n += 1
        self.actual += a
        self.fc += f
        self.naive += nv
        self.abs_fc += abs(f - a)
        self.abs_naive += abs(nv - a)
        if a > 0:
            self.ape_fc.append(abs(f - a) / a)
            self.ape_naive.append(abs(nv - a) / a)
        self.methods.add(method)
        self.naive_methods.add(naive_method)

    def result(self, sku: str) -> Accuracy:
        def pct(x: float) -> float | None:
            return 100.0 * x / self.actual if self.actual > 0 else None

        def mean(xs: list[float]) -> float | None:
            return 100.0 * sum(xs) / len(xs) if xs else None

        def one(names: set[str]) -> str:
            return next(iter(names)) if len(names) == 1 else ("mixed" if names else "")

        return Accuracy(sku, self.n, self.actual, self.fc, mean(self.ape_fc), pct(self.fc - self.actual),
                        pct(self.abs_fc), self.naive, mean(self.ape_naive), pct(self.naive - self.actual),
                        pct(self.abs_naive), one(self.naive_methods), one(self.methods))


def origins(hist: History, *, horizon: int = 30, step: int = 7, since: dt.date | None = None,
            until: dt.date | None = None) -> list[dt.date]:
    """The backtest's origin days, oldest first: the last one is ``horizon`` days before the
    history's last day (or ``until``: no window reaches past it), then every ``step`` days
    back to ``since`` (default: the first day of any series)."""
    if step < 1:
        raise ValueError("the step must be at least 1 day")
    if not hist.series:
        return []
    start = min(s.first for s in hist.series.values())
    if since is not None and since > start:
        start = since
    end = hist.last_day if until is None else min(until, hist.last_day)
    last = end - dt.timedelta(days=horizon)
    out = []
    while last >= start:
        out.append(last)
        last -= dt.timedelta(days=step)
    return out[::-1]


def backtest(hist: History, *, horizon: int = 30, step: int = 7, since: dt.date | None = None,
             until: dt.date | None = None, min_history: int = MIN_HISTORY,
             season: bool = True) -> dict[str, Accuracy]:
    """Rolling-origin accuracy per SKU, and over all SKUs under the key OVERALL.

    From each origin (see :func:`origins`) the forecast uses only the days up to it and
    is held against the ``horizon`` days that followed, over their in-stock days (a
    window with fewer than half its days in stock is skipped, as is an origin with less
    than ``min_history`` days of the SKU's history or no in-stock day yet). The
    seasonal-naive baseline forecasts the in-stock rate of the same window a year (YEAR
    days) earlier when it had at least half its days in stock, else the rate of the last
    ``horizon`` days up to the origin. SKUs with no window are left out.
    """
    if horizon < 1:
        raise ValueError("the horizon must be at least 1 day")
    days = origins(hist, horizon=horizon, step=step, since=since, until=until)
    overall = _Score()
    out: dict[str, Accuracy] = {}
    for sku in hist.skus:
        s = hist.series.get(sku)
        if s is None:
            continue
        ts = [d.toordinal() - s.first.toordinal() for d in days]
        ts = [t for t in ts if t + 1 >= min_history]
        if not ts:
            continue
        walk = _Walk(s, (i for t in ts for i in _Walk.snaps(t)))
        score = _Score()
        for t in ts:
            a_units, a_days = walk.window(t + 1, t + horizon)
            if 2 * a_days < horizon:
                continue
            d = _demand(sku, walk, t, horizon, dt.date.fromordinal(s.first.toordinal() + t), season)
            if d.method == "none":
                continue
            nv = _naive(walk, t, horizon)
            if nv is None:
                continue
            rate, naive_method = nv
            f = d.per_day * a_days
            n = rate * a_days
            score.add(f, n, a_units, d.method, naive_method)
            overall.add(f, n, a_units, d.method, naive_method)
        if score.n:
            out[sku] = score.result(sku)
    if overall.n:
        out[OVERALL] = overall.result(OVERALL)
    return out


def _naive(walk: _Walk, t: int, horizon: int) -> tuple[float, str] | None:
    """The seasonal-naive rate a day at origin t, and which one it is."""
    b = t - YEAR
    if b >= 0:
        units, days = walk.window(b + 1, b + horizon)
        if 2 * days >= horizon:
            return units / days, "last year"
    units, days = walk.window(t - horizon + 1, t)
    if days == 0:
        return None
    return units / days, "last period"
