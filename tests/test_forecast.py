"""The demand forecast (invctl/forecast.py), its report and its command.

Histories are written with the library (journal lines into a fresh ledger), not with
thousands of CLI calls. Synthetic series have a known demand, and the forecast must land
within a stated tolerance of the analytic answer; a real seasonal series (AirPassengers)
checks that the seasonal method beats the plain smoother and the seasonal-naive baseline.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from invctl import forecast as F
from invctl.catalog import add_entry
from invctl.cli.forecast import forecast as forecast_command
from invctl.cli.main import Group
from invctl.create import init_ledger
from invctl.events import to_line
from invctl.reports.forecast import forecast_report
from invctl.settings import Ledger, open_ledger

UTC = dt.UTC
DATA = Path(__file__).parent / "data"
D = 0.5 ** (1 / F.HALF_LIFE)  # the smoother's daily decay
LAG = D / (1 - D)  # mean age of its weights over a long history, in days (~29.8)


class Book:
    """A ledger written line by line: events go straight into the month files."""

    def __init__(self, root: Path, skus: tuple[str, ...] = ("A",), tz: str = "UTC"):
        init_ledger(root, currency="EUR", timezone=tz, locations=["main", "store2"], git=False)
        for sku in skus:
            add_entry(root, "item", sku, {"name": f"Item {sku}"})
        self.root = root
        self.n = 0
        self.files: dict[str, list[bytes]] = defaultdict(list)

    def add(self, ts: dt.datetime, kind: str, sku: str, qty: int | str | None = None, **fields: Any) -> str:
        self.n += 1
        ev: dict[str, Any] = {"id": f"E{self.n:09d}", "ts": ts.isoformat(), "type": kind, "sku": sku}
        if qty is not None:
            ev["qty"] = qty
        ev.setdefault("loc", "main")
        if kind == "received":
            ev["cost"] = "1.00"
        elif kind == "sold":
            ev["price"] = "2.00"
        ev.update(fields)
        if kind == "transferred":
            ev.pop("loc")
        self.files[f"journal/{ts.year}/{ts.year}-{ts.month:02d}.jsonl"].append(to_line(ev))
        return str(ev["id"])

    def daily(self, sku: str, start: dt.date, days: int, qty: Callable[[dt.date, int], float | int],
              stock: int = 10**7) -> None:
        """Receive ``stock`` on the first day at 00:00, then one sale a day at noon of ``qty(day, i)``."""
        self.add(dt.datetime(start.year, start.month, start.day, tzinfo=UTC), "received", sku, stock)
        for i in range(days):
            day = start + dt.timedelta(days=i)
            q = qty(day, i)
            if q > 0:
                self.add(dt.datetime(day.year, day.month, day.day, 12, tzinfo=UTC), "sold", sku, _qty(q))

    def ledger(self) -> Ledger:
        for rel, lines in self.files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as fh:
                fh.write(b"".join(lines))
        self.files.clear()
        return open_ledger(self.root)


def _qty(q: float | int) -> int | str:
    if isinstance(q, int) or float(q).is_integer():
        return int(q)
    return f"{q:.2f}"


def end_of(day: dt.date) -> dt.datetime:
    """--as-of DAY for a UTC ledger: the next midnight."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(days=1)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def level(xs: list[float], out: list[bool], t: int) -> float:
    """The exponentially weighted mean of in-stock days up to index t, as docs/forecast.md writes it."""
    num = sum(D ** (t - i) * xs[i] for i in range(t + 1) if not out[i])
    den = sum(D ** (t - i) for i in range(t + 1) if not out[i])
    return num / den


def close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * abs(b)


# --- the daily series: net sales, censored days, local days ------------------------------------


def test_series_counts_net_sales_and_censors_only_days_out_of_stock_all_day(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop", skus=("A", "B", "C"))
    d0 = dt.date(2026, 3, 1)
    day = [d0 + dt.timedelta(days=i) for i in range(10)]
    b.add(at(day[0], 9), "received", "A", 5)
    b.add(at(day[0], 10), "sold", "A", 2)
    b.add(at(day[0], 11), "sold", "A", 3)  # sold out mid-day: the day still counts (it sold)
    # day 1, 2: nothing on hand all day, nothing sold: censored
    b.add(at(day[3], 8), "returned", "A", 1, order="o1")  # a restocked return: stock > 0 again
    b.add(at(day[3], 9), "sold", "A", 1)  # net 0 that day
    # day 4: on hand 0 at the start, nothing all day: censored
    b.add(at(day[5], 23), "received", "A", 10)  # a late receipt still makes it an in-stock day
    b.add(at(day[6], 10), "sold", "A", 4)
    b.add(at(day[6], 15), "returned", "A", 1, restock=False)  # not restocked: still net of it
    b.add(at(day[7], 10), "transferred", "A", 6, **{"from": "main", "to": "store2"})  # total unchanged
    b.add(at(day[8], 10), "sold", "A", 6, loc="store2")  # on hand 0 at the end of day 8
    b.add(at(day[9], 10), "adjusted", "A", -1, reason="damaged")  # -1: still nothing to sell
    # B sells without ever having stock (a ledger of sales only): never censored
    b.add(at(day[2], 10), "sold", "B", 1)
    b.add(at(day[5], 10), "sold", "B", 2)
    # C: ordered only (no stock moved): no series
    b.add(at(day[0], 10), "ordered", "C", 5, po="P1", supplier="acme", cost="1.00")
    hist = F.history(b.ledger(), as_of=end_of(day[9]))

    a = hist.series["A"]
    assert a.first == day[0] and hist.last_day == day[9]
    assert list(a.sales) == [5, 0, 0, 0, 0, 0, 3, 0, 6, 0]
    assert list(a.out) == [0, 1, 1, 0, 1, 0, 0, 0, 0, 1]
    bs = hist.series["B"]
    assert bs.first == day[2] and list(bs.sales) == [1, 0, 0, 2, 0, 0, 0, 0]
    assert not any(bs.out)
    assert "C" not in hist.series and hist.skus == ["A", "B", "C"]


def test_days_are_local_days_of_the_ledger_and_voided_sales_do_not_count(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop", tz="Europe/Berlin")
    b.add(dt.datetime(2026, 1, 1, 8, tzinfo=UTC), "received", "A", 100)
    b.add(dt.datetime(2026, 1, 1, 22, 30, tzinfo=UTC), "sold", "A", 2)  # 23:30 in Berlin: Jan 1
    b.add(dt.datetime(2026, 1, 1, 23, 30, tzinfo=UTC), "sold", "A", 3)  # 00:30 in Berlin: Jan 2
    b.add(dt.datetime(2026, 7, 1, 22, 30, tzinfo=UTC), "sold", "A", 4)  # summer time: 00:30, Jul 2
    sale = b.add(dt.datetime(2026, 1, 2, 10, tzinfo=UTC), "sold", "A", 50)
    b.n += 1
    b.files["journal/2026/2026-01.jsonl"].append(to_line({
        "id": "V1", "ts": "2026-01-03T10:00:00+01:00", "type": "voided", "target": sale, "reason": "typo"}))
    led = b.ledger()
    from invctl import inputs

    hist = F.history(led, as_of=inputs.day_end(led, "2026-07-02"))
    s = hist.series["A"]
    assert s.day(dt.date(2026, 1, 1)) == (2.0, False)
    assert s.day(dt.date(2026, 1, 2)) == (3.0, False)
    assert s.day(dt.date(2026, 7, 1)) == (0.0, False)
    assert s.day(dt.date(2026, 7, 2)) == (4.0, False)
    assert hist.last_day == dt.date(2026, 7, 2) and s.days == 183


def test_a_back_dated_line_restarts_the_replay_and_gives_the_same_series(tmp_path: Path) -> None:
    def build(root: Path, back_dated_last: bool) -> F.History:
        b = Book(root)
        d0 = dt.date(2026, 2, 1)
        b.daily("A", d0, 20, lambda d, i: 1 + i % 3)
        if back_dated_last:  # appended after later lines of the same file: out of order
            b.ledger()
        b.add(at(d0 + dt.timedelta(days=5), 13), "sold", "A", 7)
        return F.history(b.ledger(), as_of=end_of(d0 + dt.timedelta(days=19)))

    one = build(tmp_path / "a", False).series["A"]
    two = build(tmp_path / "b", True).series["A"]
    assert list(one.sales) == list(two.sales) and one.out == two.out
    assert one.sales[5] == 1 + 5 % 3 + 7


def test_without_as_of_the_history_ends_yesterday_and_skus_narrow_it(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop", skus=("A", "B"))
    today = dt.datetime.now(UTC).date()
    start = today - dt.timedelta(days=10)
    b.daily("A", start, 11, lambda d, i: 100 if d == today else 2)  # today's sales: not yet
    b.daily("B", start, 10, lambda d, i: 1)
    led = b.ledger()
    hist = F.history(led)
    assert hist.last_day == today - dt.timedelta(days=1)
    assert hist.series["A"].days == 10 and set(hist.series["A"].sales) == {2.0}
    assert F.demand(led)["A"].per_day == pytest.approx(2.0)
    only = F.history(led, skus={"B"})
    assert list(only.series) == ["B"] and only.skus == ["B"]


# --- the forecast on synthetic demand -----------------------------------------------------------


def test_constant_demand_is_forecast_exactly(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop")
    start = dt.date(2026, 1, 1)
    b.daily("A", start, 120, lambda d, i: 5)
    d = F.demand(b.ledger(), horizon=30, as_of=end_of(start + dt.timedelta(days=119)))["A"]
    assert d.method == "ewma" and d.season_factor == 1.0
    assert d.per_day == pytest.approx(5.0) and d.forecast == pytest.approx(150.0)
    assert d.sigma == pytest.approx(0.0, abs=1e-6)
    assert d.in_stock_days == 120 and d.censored_days == 0 and d.horizon_days == 30


def test_noisy_demand_is_within_three_standard_errors(tmp_path: Path) -> None:
    """Poisson demand of 4 a day: the smoother's effective sample is (1 + D) / (1 - D) ~ 61
    days, so its standard error is sqrt(4 / 61) ~ 0.26; 3 of them is 20% of 4."""
    rng = random.Random(7)

    def poisson(lam: float) -> int:
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1

    b = Book(tmp_path / "shop")
    start = dt.date(2026, 1, 1)
    b.daily("A", start, 200, lambda d, i: poisson(4.0))
    d = F.demand(b.ledger(), horizon=14, as_of=end_of(start + dt.timedelta(days=199)))["A"]
    assert close(d.per_day, 4.0, 0.20)
    assert close(d.sigma, 2.0, 0.25)  # Poisson: sd = sqrt(4)


def test_stock_outs_are_censored_and_do_not_pull_the_estimate_down(tmp_path: Path) -> None:
    """6 a day, but the shelf is empty for 20 of the last 40 days: the forecast stays 6."""
    b = Book(tmp_path / "shop")
    start = dt.date(2026, 1, 1)
    days = 100
    b.add(at(start, 0), "received", "A", 6 * 60)  # enough for days 0..59
    b.add(at(start + dt.timedelta(days=80), 6), "received", "A", 6 * 20)  # back on day 80
    for i in list(range(60)) + list(range(80, days)):
        b.add(at(start + dt.timedelta(days=i)), "sold", "A", 6)
    last = start + dt.timedelta(days=days - 1)
    hist = F.history(b.ledger(), as_of=end_of(last))
    d = F.forecast(hist, horizon=30)["A"]
    assert d.per_day == pytest.approx(6.0) and d.censored_days == 20 and d.in_stock_days == 80
    # Counting those days as zero demand would have said about 4.4 a day:
    s = hist.series["A"]
    naive = level(list(s.sales), [False] * s.days, s.days - 1)
    assert naive < 4.6


def test_a_short_trend_is_smoothed_with_the_known_lag(tmp_path: Path) -> None:
    """Demand 2 + 0.05 t over 200 days: the smoother's level is the trend LAG days ago
    (LAG = D / (1 - D) ~ 29.8 days for a 21-day half-life), and there is no trend term, so
    the forecast lags the truth over the horizon by 0.05 x (LAG + (h + 1) / 2)."""
    b = Book(tmp_path / "shop")
    start = dt.date(2026, 1, 1)
    n = 200
    b.daily("A", start, n, lambda d, i: 2 + 0.05 * i)
    d = F.demand(b.ledger(), horizon=30, as_of=end_of(start + dt.timedelta(days=n - 1)))["A"]
    t = n - 1
    # exact for a finite history: sum of D^k (t - k) / sum of D^k, k = 0..t
    age = sum(k * D**k for k in range(t + 1)) / sum(D**k for k in range(t + 1))
    assert d.method == "ewma"
    assert d.per_day == pytest.approx(2 + 0.05 * (t - age), rel=1e-3)
    assert d.per_day == pytest.approx(2 + 0.05 * (t - LAG), rel=0.01)
    truth = 2 + 0.05 * (t + 15.5)
    assert d.per_day == pytest.approx(truth - 0.05 * (LAG + 15.5), rel=0.01)


def test_a_growing_series_with_a_year_of_history_is_not_lagged(tmp_path: Path) -> None:
    """Demand 5 x 1.001^t (+44 % a year) over 800 days: last year's ratio of what followed
    to the smoothed level carries the growth, so the forecast is within 2 % of the truth."""
    b = Book(tmp_path / "shop")
    start = dt.date(2024, 1, 1)
    n = 800
    b.daily("A", start, n, lambda d, i: 5 * 1.001**i)
    d = F.demand(b.ledger(), horizon=30, as_of=end_of(start + dt.timedelta(days=n - 1)))["A"]
    truth = sum(5 * 1.001 ** (n + k) for k in range(30)) / 30
    assert d.method == "ewma×season"
    assert d.per_day == pytest.approx(truth, rel=0.02)
    assert d.level < 0.97 * truth  # the level alone lags


def yearly(day: dt.date) -> float:
    """Demand with a yearly cycle: 10 a day +- 50 %, peaking in mid-April."""
    doy = day.timetuple().tm_yday
    return 10 * (1 + 0.5 * math.sin(2 * math.pi * (doy - 15) / 365.25))


@pytest.fixture(scope="module")
def seasonal(tmp_path_factory: pytest.TempPathFactory) -> F.History:
    """Three years of a smooth yearly cycle (``yearly``) and of a step season: 5 a day,
    10 a day from October to December (the baby-formula example)."""
    b = Book(tmp_path_factory.mktemp("seasonal") / "shop", skus=("CYCLE", "FORMULA"))
    start = dt.date(2023, 1, 1)
    n = (dt.date(2025, 12, 31) - start).days + 1
    b.daily("CYCLE", start, n, lambda d, i: round(yearly(d), 2))
    b.daily("FORMULA", start, n, lambda d, i: 10 if d.month >= 10 else 5)
    return F.history(b.ledger(), as_of=end_of(dt.date(2025, 12, 31)))


@pytest.mark.parametrize("origin", ["2025-01-15", "2025-03-01", "2025-06-01", "2025-08-15", "2025-11-01"])
def test_a_yearly_cycle_is_forecast_within_5_percent(seasonal: F.History, origin: str) -> None:
    day = dt.date.fromisoformat(origin)
    d = F.forecast(seasonal, horizon=30, as_of_day=day)["CYCLE"]
    truth = sum(yearly(day + dt.timedelta(days=k)) for k in range(1, 31)) / 30
    assert d.method == "ewma×season"
    assert d.per_day == pytest.approx(truth, rel=0.05)


def test_the_plain_smoother_misses_the_turn_of_the_season(seasonal: F.History) -> None:
    day = dt.date(2025, 8, 15)  # demand falling fast towards its trough in mid-October
    d = F.forecast(seasonal, horizon=30, as_of_day=day)["CYCLE"]
    plain = F.forecast(seasonal, horizon=30, as_of_day=day, season=False)["CYCLE"]
    truth = sum(yearly(day + dt.timedelta(days=k)) for k in range(1, 31)) / 30
    assert abs(plain.per_day - truth) > 3 * abs(d.per_day - truth)
    assert plain.method == "ewma" and plain.season_factor == 1.0


def test_the_baby_formula_season_is_bought_before_it_starts(seasonal: F.History) -> None:
    d = F.forecast(seasonal, horizon=30, as_of_day=dt.date(2025, 9, 30))["FORMULA"]
    assert d.level == pytest.approx(5.0, rel=0.01)  # nothing of the season in the recent days
    assert d.method == "ewma×season" and d.season_factor > 1.8
    assert d.per_day == pytest.approx(10.0, rel=0.05)  # the prior of 10 units shrinks it a little
    after = F.forecast(seasonal, horizon=30, as_of_day=dt.date(2025, 12, 31))["FORMULA"]
    assert after.per_day == pytest.approx(5.0, rel=0.08)  # and the season's end is seen coming


def test_the_season_factor_is_bounded_and_shrunk_for_slow_movers(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop", skus=("SLOW", "SPIKE"))
    start = dt.date(2024, 1, 1)
    n = 500
    # SLOW: 1 unit every 10 days, 3 units a day for the 30 days that follow one year back
    b.daily("SLOW", start, n, lambda d, i: 1 if i % 10 == 0 else 0)
    # SPIKE: 1 a day, 40 a day in the 30 days after the origin one year back
    spike = range(n - F.YEAR, n - F.YEAR + 30)
    b.daily("SPIKE", start, n, lambda d, i: 40 if i in spike else 1)
    fc = F.demand(b.ledger(), horizon=30, as_of=end_of(start + dt.timedelta(days=n - 1)))
    assert fc["SPIKE"].season_factor == F.SEASON_MAX
    slow = fc["SLOW"]
    # last year: 3 units in the window against 0.1 x 30 = 3 expected -> 1, whatever the noise
    assert slow.method == "ewma×season" and 0.8 < slow.season_factor < 1.25


def test_as_of_uses_only_the_history_up_to_that_day(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop")
    start = dt.date(2025, 1, 1)
    b.daily("A", start, 500, lambda d, i: 3 + (i % 7) + (4 if d.month in (6, 7) else 0))
    led = b.ledger()
    cut = dt.date(2026, 3, 31)
    before = F.demand(led, horizon=30, as_of=end_of(cut))["A"]
    # What follows the cut, however wild, changes nothing:
    for i in range(30):
        b.add(at(cut + dt.timedelta(days=1 + i), 18), "sold", "A", 1000)
    b.add(at(cut + dt.timedelta(days=1)), "adjusted", "A", -10**7, reason="lost")
    led = b.ledger()
    assert F.demand(led, horizon=30, as_of=end_of(cut))["A"] == before
    full = F.history(led, as_of=end_of(dt.date(2026, 5, 15)))
    assert F.forecast(full, horizon=30, as_of_day=cut)["A"] == before
    assert before.as_of == cut and before.method == "ewma×season"


def test_a_sku_without_sales_history_has_method_none(tmp_path: Path) -> None:
    b = Book(tmp_path / "shop", skus=("A", "NEW", "IDLE"))
    start = dt.date(2026, 1, 1)
    b.daily("A", start, 40, lambda d, i: 2)
    b.add(at(start), "received", "IDLE", 10)  # on the shelf, never sold: a real zero
    fc = F.demand(b.ledger(), horizon=10, as_of=end_of(start + dt.timedelta(days=39)))
    assert fc["NEW"].method == "none" and fc["NEW"].per_day == 0 and fc["NEW"].in_stock_days == 0
    assert fc["IDLE"].method == "ewma" and fc["IDLE"].per_day == 0 and fc["IDLE"].in_stock_days == 40
    assert fc["A"].forecast == pytest.approx(20.0)


# --- the backtest -----------------------------------------------------------------------------


def test_backtest_matches_a_hand_computation(tmp_path: Path) -> None:
    """Ten days: 2, 4, 3, 5 (sold out), a day out of stock, a receipt, 6, 2, 4, 3, 1.
    Horizon 2, an origin every day, at least 3 days of history: origins are days 3..8
    (1-based). Each window is compared over its in-stock days."""
    b = Book(tmp_path / "shop")
    start = dt.date(2026, 4, 1)
    days = [start + dt.timedelta(days=i) for i in range(10)]
    b.add(at(days[0], 8), "received", "A", 14)
    b.add(at(days[5], 8), "received", "A", 100)
    for i, q in enumerate([2, 4, 3, 5, 0, 6, 2, 4, 3, 1]):
        if q:
            b.add(at(days[i]), "sold", "A", q)
    hist = F.history(b.ledger(), as_of=end_of(days[9]))
    s = hist.series["A"]
    xs, out = list(s.sales), [bool(o) for o in s.out]
    assert out == [False] * 4 + [True] + [False] * 5

    bt = F.backtest(hist, horizon=2, step=1, min_history=3)
    assert F.origins(hist, horizon=2, step=1) == days[:8]
    # (origin index, in-stock days in the window, actual, naive rate a day)
    # naive: < 1 year, so the in-stock rate of the 2 days up to the origin
    windows = [
        (2, 1, 5, (4 + 3) / 2),  # window days 4, 5: day 5 is out of stock
        (3, 1, 6, (3 + 5) / 2),  # days 5, 6
        (4, 2, 8, 5 / 1),  # days 6, 7; the naive window 4, 5 has one day in stock
        (5, 2, 6, 6 / 1),
        (6, 2, 7, (6 + 2) / 2),
        (7, 2, 4, (2 + 4) / 2),
    ]
    fc = [level(xs, out, t) * n for t, n, _, _ in windows]
    actual = [a for _, _, a, _ in windows]
    naive = [r * n for _, n, _, r in windows]
    assert fc[0] == pytest.approx((2 * D**2 + 4 * D + 3) / (D**2 + D + 1))
    assert fc[2] == pytest.approx(2 * level(xs, out, 3))  # the censored day adds nothing
    a = bt["A"]
    assert a.windows == 6 and a.actual == sum(actual)
    assert a.forecast == pytest.approx(sum(fc))
    assert a.mape == pytest.approx(100 * sum(abs(f - x) / x for f, x in zip(fc, actual, strict=True)) / 6)
    assert a.bias == pytest.approx(100 * (sum(fc) - sum(actual)) / sum(actual))
    assert a.wape == pytest.approx(100 * sum(abs(f - x) for f, x in zip(fc, actual, strict=True)) / sum(actual))
    assert a.naive_forecast == pytest.approx(sum(naive))
    assert a.naive_mape == pytest.approx(100 * sum(abs(f - x) / x for f, x in zip(naive, actual, strict=True)) / 6)
    assert a.naive_bias == pytest.approx(100 * (sum(naive) - sum(actual)) / sum(actual))
    assert a.naive_method == "last period" and a.method == "ewma"
    assert bt[F.OVERALL].mape == pytest.approx(a.mape) and bt[F.OVERALL].windows == 6


def test_backtest_overall_pools_every_window_of_every_sku(seasonal: F.History) -> None:
    bt = F.backtest(seasonal, horizon=30, step=14)
    skus = [bt["CYCLE"], bt["FORMULA"]]
    overall = bt[F.OVERALL]
    assert overall.windows == sum(a.windows for a in skus)
    assert overall.actual == pytest.approx(sum(a.actual for a in skus))
    assert overall.bias == pytest.approx(100 * sum(a.forecast - a.actual for a in skus) / overall.actual)
    assert overall.mape == pytest.approx(sum(a.mape * a.windows for a in skus if a.mape) / overall.windows)
    assert bt["CYCLE"].naive_method == "mixed"  # last period in the first year, then last year


# --- a real seasonal series: AirPassengers -------------------------------------------------------


def airpassengers() -> list[tuple[int, int, int]]:
    """(year, month, total) of R's datasets::AirPassengers (tests/data/airpassengers.csv)."""
    out = []
    for line in (DATA / "airpassengers.csv").read_text().splitlines():
        if line[:1].isdigit():
            year, *months = (int(x) for x in line.split(","))
            out += [(year, m, total) for m, total in enumerate(months, 1)]
    assert len(out) == 144 and sum(t for _, _, t in out) == 40363
    return out


@pytest.fixture(scope="module")
def air(tmp_path_factory: pytest.TempPathFactory) -> F.History:
    """The 144 monthly totals, each spread evenly over its days in whole units."""
    b = Book(tmp_path_factory.mktemp("air") / "air", skus=("AIR",))
    b.add(dt.datetime(1949, 1, 1, tzinfo=UTC), "received", "AIR", 10**6)
    for year, month, total in airpassengers():
        n = calendar.monthrange(year, month)[1]
        for i in range(n):
            q = (i + 1) * total // n - i * total // n
            if q:
                b.add(dt.datetime(year, month, i + 1, 12, tzinfo=UTC), "sold", "AIR", q)
    return F.history(b.ledger(), as_of=end_of(dt.date(1960, 12, 31)))


def test_airpassengers_daily_series_sums_to_the_monthly_totals(air: F.History) -> None:
    s = air.series["AIR"]
    assert sum(s.sales) == 40363 and not any(s.out)
    assert F.actual(air, "AIR", dt.date(1960, 7, 1), 31) == 622


def test_airpassengers_backtest_seasonal_beats_ewma_and_seasonal_naive(air: F.History) -> None:
    """From 1951 on (two years of history), a 30-day forecast every week: the seasonal
    method's MAPE is a fraction of the plain smoother's and below the seasonal-naive
    baseline's, which misses the growth (bias about -11 %)."""
    since = dt.date(1951, 1, 1)
    seasonal = F.backtest(air, horizon=30, step=7, since=since)["AIR"]
    plain = F.backtest(air, horizon=30, step=7, since=since, season=False)["AIR"]
    assert seasonal.windows == plain.windows > 500
    assert seasonal.method == "ewma×season" and seasonal.naive_method == "last year"
    assert seasonal.mape is not None and plain.mape is not None and seasonal.naive_mape is not None
    assert seasonal.mape < 0.5 * plain.mape
    assert seasonal.mape < seasonal.naive_mape
    assert abs(seasonal.bias or 0) < 2 and (seasonal.naive_bias or 0) < -8
    assert seasonal.mape < 5  # about 2.2 %


def test_airpassengers_forecast_of_1960_summer(air: F.History) -> None:
    """From the end of May 1960, the next 30 days (June 1-30: 535 passengers)."""
    d = F.forecast(air, horizon=30, as_of_day=dt.date(1960, 5, 31))["AIR"]
    assert d.method == "ewma×season" and d.season_factor > 1.05
    assert d.forecast == pytest.approx(535, rel=0.05)


# --- the report and the command ------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    b = Book(tmp_path_factory.mktemp("report") / "shop", skus=("A", "B", "NEW"))
    start = dt.date(2026, 1, 1)
    b.daily("A", start, 120, lambda d, i: 4)
    b.daily("B", start, 120, lambda d, i: 1 + i % 2)
    b.ledger()
    return b.root


def _app() -> typer.Typer:
    """`forecast` under a root like invctl's (Group: a refusal is one line and exit 1)."""
    app = typer.Typer(cls=Group, add_completion=False, rich_markup_mode=None)
    app.callback()(lambda: None)
    app.command("forecast")(forecast_command)
    return app


def run(root: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(_app(), ["forecast", "-L", str(root), *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_report_forecast_json_carries_the_contract_keys(shop: Path) -> None:
    code, out, err = run(shop, "--as-of", "2026-04-30", "--horizon", "10", "--format", "json")
    assert code == 0, err
    rows = {r["sku"]: r for r in json.loads(out)}
    assert set(rows) == {"A", "B", "NEW"}
    a = rows["A"]
    for key in ("sku", "demand_per_day", "forecast", "horizon_days", "method"):
        assert key in a
    assert a["demand_per_day"] == 4 and a["forecast"] == 40 and a["horizon_days"] == 10
    assert a["method"] == "ewma" and a["as_of"] == "2026-04-30"
    assert a["actual"] == 0  # the journal ends in April, and May 1-10 are long past: nothing sold
    assert rows["NEW"]["method"] == "none" and rows["NEW"]["forecast"] == 0
    assert "mape" not in a


def test_report_forecast_backtest_adds_accuracy_and_what_followed(shop: Path) -> None:
    code, out, err = run(shop, "--as-of", "2026-03-31", "--backtest", "--format", "json", "A", "B")
    assert code == 0, err
    rows = {r["sku"]: r for r in json.loads(out)}
    assert set(rows) == {"A", "B", "*"}  # and the overall row
    a = rows["A"]
    for key in ("mape", "bias", "naive_mape", "naive_bias", "windows"):
        assert key in a
    assert a["mape"] == 0 and a["bias"] == 0 and a["naive_mape"] == 0
    assert a["actual"] == 120  # April 1-30, from the journal after --as-of
    assert rows["B"]["windows"] > 0


def test_report_forecast_table_and_csv(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # pytest-xdist workers have 80, which folds the table
    code, out, _ = run(shop, "--as-of", "2026-03-31", "--backtest")
    assert code == 0
    assert "Demand forecast: 30 days from 2026-04-01" in out and "MAPE" in out and "all" in out
    code, out, _ = run(shop, "--format", "csv", "--as-of", "2026-04-30")
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert header[:6] == ["sku", "name", "demand_per_day", "forecast", "horizon_days", "method"]


def test_report_forecast_refuses_bad_input(shop: Path) -> None:
    code, _, err = run(shop, "--horizon", "0")
    assert code == 2
    code, _, err = run(shop, "--as-of", "2026-13-01")
    assert code == 1 and "--as-of" in err
    code, _, err = run(shop, "NOPE")
    assert code == 1 and "unknown SKU" in err


def test_report_totals_are_the_overall_figures(shop: Path) -> None:
    led = open_ledger(shop)
    until = end_of(dt.date(2026, 4, 30))
    report = forecast_report(led, horizon=7, as_of=until, backtest=True)
    hist = F.history(led, as_of=until)
    overall = F.backtest(hist, horizon=7)[F.OVERALL]
    assert float(report.totals["forecast"]) == pytest.approx(7 * (4 + 1.5), rel=0.01)
    assert report.totals["windows"] == overall.windows
    assert report.totals["sku"] == "all"


def test_json_and_csv_end_with_the_overall_row(shop: Path) -> None:
    code, out, err = run(shop, "--as-of", "2026-04-30", "--horizon", "10", "--backtest", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    overall = rows[-1]
    assert overall["sku"] == "*" and overall["name"] == "all SKUs"
    hist = F.history(open_ledger(shop), as_of=end_of(dt.date(2026, 4, 30)))
    acc = F.backtest(hist, horizon=10)[F.OVERALL]
    assert overall["mape"] == pytest.approx(acc.mape, abs=0.05) and overall["bias"] == pytest.approx(acc.bias, abs=0.05)
    assert all(r["sku"] != "*" for r in rows[:-1])
    code, out, err = run(shop, "--as-of", "2026-04-30", "--horizon", "10", "--format", "json")
    assert all(r["sku"] != "*" for r in json.loads(out))  # no backtest: no overall row
    code, out, err = run(shop, "--as-of", "2026-04-30", "--horizon", "10", "--backtest", "--format", "csv")
    assert out.splitlines()[-1].startswith("*,all SKUs,")
