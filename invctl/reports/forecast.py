"""The demand forecast per SKU, and with a backtest, how accurate it has been.

Plain data for invctl/render.py; the model is invctl/forecast.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from invctl import forecast as F
from invctl.reports import Column, Report
from invctl.settings import Ledger

COLUMNS = [
    Column("sku", "SKU"),
    Column("name", "Name"),
    Column("demand_per_day", "Per day", "qty"),
    Column("forecast", "Forecast", "qty"),
    Column("horizon_days", "Days", "int", table=False),
    Column("method", "Method"),
    Column("season_factor", "Season", "qty"),
    Column("level", "Level", "qty", table=False),
    Column("sigma", "σ/day", "qty"),
    Column("in_stock_days", "In stock", "int"),
    Column("censored_days", "Out", "int"),
    Column("as_of", "As of", "date", table=False),
    Column("actual", "Actual", "qty"),
]

BACKTEST_COLUMNS = [
    Column("windows", "Windows", "int"),
    Column("mape", "MAPE", "pct"),
    Column("bias", "Bias", "pct"),
    Column("wape", "WAPE", "pct", table=False),
    Column("naive_mape", "Naive MAPE", "pct"),
    Column("naive_bias", "Naive bias", "pct"),
    Column("naive_wape", "Naive WAPE", "pct", table=False),
    Column("naive_method", "Naive", table=False),
]


def _num(x: float | None, places: int) -> Decimal | None:
    if x is None:
        return None
    return Decimal(repr(round(x, places))) + 0  # + 0: no negative zero


def _pct(x: float | None) -> Decimal | None:
    return None if x is None else round(Decimal(repr(x)), 1) + 0


def _split(ledger: Ledger, as_of: dt.datetime | None) -> tuple[dt.datetime | None, dt.date | None]:
    """(replay up to, forecast origin day). A past --as-of at a day's end replays the whole
    history (to yesterday) and forecasts from that day, so the report can show what followed;
    the forecast itself reads only the days up to the origin (see forecast.forecast)."""
    if as_of is None:
        return None, None
    tz = ledger.settings.tz
    now = dt.datetime.now(tz)
    today = dt.datetime(now.year, now.month, now.day, tzinfo=tz)
    local = as_of.astimezone(tz)
    midnight = local.hour == local.minute == local.second == local.microsecond == 0
    if midnight and as_of < today:
        return None, (local - dt.timedelta(days=1)).date()
    return as_of, None


def forecast_report(ledger: Ledger, *, horizon: int = 30, as_of: dt.datetime | None = None,
                    backtest: bool = False, skus: list[str] | None = None, step: int = 7) -> Report:
    """Demand per SKU for the ``horizon`` days after ``as_of`` (the instant to replay up to,
    exclusive, as ``--as-of`` gives it; default: the end of yesterday). With ``backtest``,
    the forecast's accuracy on the history up to the origin (rolling origins every
    ``step`` days), beside a seasonal-naive baseline; the all-SKU figures are the totals."""
    until, origin = _split(ledger, as_of)
    hist = F.history(ledger, as_of=until, skus=set(skus) if skus else None)
    day = origin or hist.last_day
    demands = F.forecast(hist, horizon=horizon, as_of_day=day)
    scores = F.backtest(hist, horizon=horizon, step=step, until=day) if backtest else {}
    try:
        items = ledger.catalog.items
    except Exception:
        items = {}
    start = day + dt.timedelta(days=1)
    rows = []
    for sku, d in demands.items():
        item = items.get(sku)
        seen = F.actual(hist, sku, start, horizon)
        row: dict[str, Any] = {
            "sku": sku,
            "name": item.name if item else "(not in catalog)",
            "demand_per_day": _num(d.per_day, 3),
            "forecast": _num(d.forecast, 1),
            "horizon_days": horizon,
            "method": d.method,
            "season_factor": _num(d.season_factor, 2),
            "level": _num(d.level, 3),
            "sigma": _num(d.sigma, 3),
            "in_stock_days": d.in_stock_days,
            "censored_days": d.censored_days,
            "as_of": day.isoformat(),
            "actual": _num(seen, 1),
        }
        if backtest:
            row.update(_scores(scores.get(sku)))
        rows.append(row)
    known = any(r["actual"] is not None for r in rows)
    # "actual" (what followed a past --as-of) is always in JSON and CSV; in the table only when known.
    columns = [c if c.key != "actual" or known else Column("actual", "Actual", "qty", table=False) for c in COLUMNS]
    totals: dict[str, Any] = {
        "sku": "all",
        "demand_per_day": _num(sum(d.per_day for d in demands.values()), 3),
        "forecast": _num(sum(d.forecast for d in demands.values()), 1),
    }
    if known:
        totals["actual"] = _num(sum(float(r["actual"] or 0) for r in rows), 1)
    title = f"Demand forecast: {horizon} days from {start.isoformat()}"
    if backtest:
        columns += BACKTEST_COLUMNS
        totals.update({k: v for k, v in _scores(scores.get(F.OVERALL)).items() if k != "naive_method"})
        days = F.origins(hist, horizon=horizon, step=step, until=day)
        if days:
            title += f"; backtest from {len(days)} origins, {days[0].isoformat()} to {days[-1].isoformat()}"
        else:
            title += "; backtest: not enough history"
    return Report(title, columns, rows, totals=totals, notes=_notes(hist))


def _notes(hist: F.History) -> list[str]:
    if not hist.problems:
        return []
    first = hist.problems[0]
    more = f" and {len(hist.problems) - 1} more" if len(hist.problems) > 1 else ""
    return [f"{first}{more}: left out of these figures; run `invctl check`"]


def _scores(a: F.Accuracy | None) -> dict[str, Any]:
    if a is None:
        return {"windows": 0, "mape": None, "bias": None, "wape": None, "naive_mape": None,
                "naive_bias": None, "naive_wape": None, "naive_method": None}
    return {
        "windows": a.windows,
        "mape": _pct(a.mape),
        "bias": _pct(a.bias),
        "wape": _pct(a.wape),
        "naive_mape": _pct(a.naive_mape),
        "naive_bias": _pct(a.naive_bias),
        "naive_wape": _pct(a.naive_wape),
        "naive_method": a.naive_method,
    }
