#!/usr/bin/env python3
"""Benchmark invctl on a large, realistic history and print a table.

    .venv/bin/python bench/run.py --events 1000000            # generate (or reuse) and measure
    .venv/bin/python bench/run.py --events 10000000 --runs 5 --commands stock

For each command it measures, as a user would see it (a fresh `invctl` process each run):
  cold         no replay cache (.invctl/cache deleted before each run)
  warm         the cache is up to date
  after-append one `invctl sell` was appended since the cache was written
and prints the median wall time of --runs runs, events per second and the peak RSS of
the process. `sell` itself is timed end to end on a warm cache. If `hledger` is on PATH
the same history is converted to an hledger journal (bench/to_hledger.py, cached in
bench/data/NAME.hledger) and `hledger bal` is timed beside, with its ratio to a cold
`invctl stock` (wall time and peak RSS).

Histories come from examples/generate.py (deterministic) and are kept in bench/data/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # for to_hledger
INVCTL = Path(sys.executable).with_name("invctl")
REPORTS = {
    "stock": ["stock", "--format", "json"],
    "history": ["history", "TEE-NVY-M", "--format", "json"],
    "check": ["check"],
    "order-list": ["order", "list", "--format", "json"],
    "suppliers": ["report", "suppliers", "--format", "json"],
    "forecast": ["report", "forecast", "--format", "json"],
    "order-suggest": ["order", "suggest", "--format", "json"],
    "alerts": ["alerts", "--format", "json"],
    "sales": ["report", "sales", "--format", "json"],
    "margin": ["report", "margin", "--by", "channel", "--format", "json"],
    "customers": ["report", "customers", "--summary", "--format", "json"],
    "valuation": ["report", "valuation", "--format", "json"],
    "abc": ["report", "abc", "--format", "json"],
    "turnover": ["report", "turnover", "--format", "json"],
    "aging": ["report", "aging", "--format", "json"],
    "shrinkage": ["report", "shrinkage", "--format", "json"],
    "expiry": ["report", "expiry", "--format", "json"],
}


@dataclass
class Run:
    wall: float
    rss_mb: float
    code: int


def measure(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Wall time and peak RSS of one process (os.wait4 gives the child's own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return Run(wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def count_events(ledger: Path) -> int:
    # Read in blocks: a child's peak RSS (wait4) includes what this process held when it
    # forked, so the benchmark itself must stay small.
    n = 0
    for p in (ledger / "journal").rglob("*.jsonl"):
        with p.open("rb") as fh:
            while block := fh.read(1 << 20):
                n += block.count(b"\n")
    return n


def ensure_history(events: int, seed: int, data: Path) -> Path:
    ledger = data / f"shop-{events}-s{seed}"
    if (ledger / "invctl.toml").exists():
        return ledger
    data.mkdir(parents=True, exist_ok=True)
    print(f"generating {events:,} events into {ledger} ...", file=sys.stderr)
    subprocess.run([sys.executable, str(ROOT / "examples" / "generate.py"), "--out", str(ledger),
                    "--events", str(events), "--days", "1100", "--seed", str(seed), "--force"], check=True)
    return ledger


def after_history(ledger: Path) -> dt.datetime:
    """A time after every event, so benchmark sales are appends, not back-dated lines."""
    last = max((ledger / "journal").rglob("*.jsonl"))
    with last.open("rb") as fh:
        fh.seek(max(0, last.stat().st_size - 4096))
        line = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return dt.datetime.fromisoformat(json.loads(line)["ts"]) + dt.timedelta(days=1)


def drop_cache(ledger: Path) -> None:
    shutil.rmtree(ledger / ".invctl" / "cache", ignore_errors=True)


def a_sku(ledger: Path) -> str:
    out = subprocess.run([str(INVCTL), "-L", str(ledger), "stock", "--format", "json"],
                         capture_output=True, text=True, check=True)
    rows = [r for r in json.loads(out.stdout) if r["loc"] == "main" and r["on_hand"] > 0]
    return max(rows, key=lambda r: r["on_hand"])["sku"]


def median(runs: list[Run]) -> tuple[float, float]:
    return statistics.median(r.wall for r in runs), max(r.rss_mb for r in runs)


def bench(ledger: Path, commands: list[str], runs: int) -> list[tuple[str, str, float, float]]:
    base = [str(INVCTL), "-L", str(ledger)]
    sku = a_sku(ledger)
    env = {"INVCTL_USER": "bench"}
    at = after_history(ledger)
    sales = 0

    def sell() -> Run:
        nonlocal sales
        sales += 1
        when = (at + dt.timedelta(seconds=sales)).isoformat()
        return measure(base + ["sell", sku, "1", "--price", "1.00", "--at", when], env)

    rows = []
    for name in commands:
        argv = base + (["history", sku, "--format", "json"] if name == "history" else REPORTS[name])
        cold = []
        for _ in range(runs):
            drop_cache(ledger)
            cold.append(measure(argv, env))
        rows.append((name, "cold", *median(cold)))
        measure(argv, env)  # make sure the cache is current
        warm = [measure(argv, env) for _ in range(runs)]
        rows.append((name, "warm", *median(warm)))
        after = []
        for _ in range(runs):
            sell()
            after.append(measure(argv, env))
        rows.append((name, "after-append", *median(after)))
    measure(base + ["stock"], env)
    sells = [sell() for _ in range(runs)]
    rows.append(("sell", "warm, end to end", *median(sells)))
    return rows


def bench_small(runs: int) -> list[tuple[str, str, float, float]]:
    ledger = ROOT / "examples" / "shop"
    rows = []
    for name, argv in (("--help", ["--help"]), ("stock (example shop)", ["-L", str(ledger), "stock"])):
        measure([str(INVCTL), *argv])
        rows.append((name, "start-up", *median([measure([str(INVCTL), *argv]) for _ in range(runs)])))
    return rows


def hledger_journal(ledger: Path, data: Path, events: int) -> Path:
    """The hledger conversion of ``ledger`` (bench/to_hledger.py), cached in ``data``: beside a
    generated ledger, bench/data/NAME.hledger. Made again when missing, made by another
    version of to_hledger.py, older than the ledger's invctl.toml (a regenerated history) or
    made from a history more than 0.1% smaller or larger (the benchmark's own sales, a few
    per run, are let through)."""
    from to_hledger import header_lines

    ledger = ledger.resolve()
    if ledger.parent == data.resolve():
        journal = data / f"{ledger.name}.hledger"
    else:
        journal = data / f"{ledger.name}-{hashlib.sha1(str(ledger).encode()).hexdigest()[:8]}.hledger"
    lines = header_lines(journal)
    current = (lines is not None and abs(lines - events) <= events / 1000
               and journal.stat().st_mtime >= (ledger / "invctl.toml").stat().st_mtime)
    if not current:
        data.mkdir(parents=True, exist_ok=True)
        print(f"converting {ledger} to {journal} ...", file=sys.stderr)
        # In a child process: a child's peak RSS (wait4) includes what this process holds.
        subprocess.run([sys.executable, str(HERE / "to_hledger.py"), str(ledger), "-o", str(journal)], check=True)
    return journal


def bench_hledger(hledger: str, journal: Path, runs: int) -> tuple[float, float]:
    with journal.open("rb") as fh:  # into the file cache, as invctl's journal is by then
        while fh.read(1 << 20):
            pass
    runs_ = [measure([hledger, "-f", str(journal), "bal"]) for _ in range(runs)]
    failed = [r.code for r in runs_ if r.code]
    if failed:
        sys.exit(f"hledger -f {journal} bal failed (exit {failed[0]}); see `hledger -f {journal} check`")
    return median(runs_)


def hledger_version(hledger: str) -> str:
    out = subprocess.run([hledger, "--version"], capture_output=True, text=True).stdout.split()
    return out[1].rstrip(",") if len(out) > 1 else "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="history size (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement; the median is shown")
    ap.add_argument("--commands", default=",".join(REPORTS), help="comma-separated: " + ",".join(REPORTS))
    ap.add_argument("--data", type=Path, default=HERE / "data", help="where histories are kept")
    ap.add_argument("--ledger", type=Path, help="benchmark this ledger instead of a generated one")
    ap.add_argument("--no-hledger", action="store_true",
                    help="skip the hledger comparison (it needs ~8.6 GB RAM per 1M events)")
    args = ap.parse_args()
    ledger = args.ledger or ensure_history(args.events, args.seed, args.data)
    events = count_events(ledger)
    hledger = None if args.no_hledger else shutil.which("hledger")
    journal = hledger_journal(ledger, args.data, events) if hledger else None
    rows = bench_small(args.runs) + bench(ledger, args.commands.split(","), args.runs)
    if hledger and journal:
        rows.append(("hledger bal", "same history", *bench_hledger(hledger, journal, args.runs)))
    print(f"\ninvctl on {events:,} events ({ledger}); median of {args.runs} runs; {os.cpu_count()} cores\n")
    print(f"| {'command':<22} | {'mode':<18} | {'wall s':>8} | {'events/s':>12} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 24}|{'-' * 20}|{'-' * 9}:|{'-' * 13}:|{'-' * 12}:|")
    for name, mode, wall, rss in rows:
        rate = f"{events / wall:,.0f}" if mode in ("cold", "warm", "same history") and "example" not in name else ""
        print(f"| {name:<22} | {mode:<18} | {wall:>8.3f} | {rate:>12} | {rss:>11.0f} |")
    print()
    cold = next(((w, r) for n, m, w, r in rows if n == "stock" and m == "cold"), None)
    hl = next(((w, r) for n, m, w, r in rows if n == "hledger bal"), None)
    if args.no_hledger:
        print("hledger comparison skipped (--no-hledger)")
    elif not hledger:
        print("hledger comparison skipped: hledger is not on PATH (apt-get install hledger, or https://hledger.org/install)")
    elif hl and cold:
        print(f"hledger bal / invctl stock (cold): {hl[0] / cold[0]:.1f}\u00d7 wall, {hl[1] / cold[1]:.1f}\u00d7 peak RSS"
              f"  (hledger {hledger_version(hledger)}, journal {journal})")
    elif hl:
        print("hledger bal was timed but not compared: add stock to --commands for the ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
