"""Reliability of the write path under load and under SIGKILL (SPEC section 6).

Bigger versions of test_journal.py's concurrency and kill tests: thousands of appends
from library writers and real `invctl sell` processes racing for the lock, and a crash
loop that kills writers of multi-megabyte records at random moments. Each test prints
its figures (run with -s to see them) for docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import IO

import msgspec
from conftest import BIN, Shop

from invctl import events as E
from invctl.journal import split_torn

Position = tuple[str, str]


def sh(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed invctl, run in the ledger folder."""
    return subprocess.run([str(BIN), *args], cwd=root, capture_output=True, text=True, timeout=300)


def journal_files(root: Path) -> list[Path]:
    return sorted((root / "journal").rglob("*.jsonl"))


def decode_all(data: bytes, where: str) -> list[E.Event]:
    """Every line of ``data`` (complete lines only) as an event; any bad line fails the test."""
    out = []
    for n, raw in enumerate(data.split(b"\n")[:-1], 1):
        try:
            out.append(E.decoder.decode(raw))
        except msgspec.DecodeError as exc:
            raise AssertionError(f"{where}:{n}: bad line ({exc}): {raw[:120]!r}") from None
    return out


def delta(ev: E.Event) -> tuple[Position, int]:
    """The on-hand change of the events these tests write (receipts and sales)."""
    assert isinstance(ev, E.Received | E.Sold), ev
    assert isinstance(ev.qty, int)
    return (ev.sku, ev.loc), ev.qty if isinstance(ev, E.Received) else -ev.qty


def stock_of(root: Path) -> dict[Position, int]:
    r = sh(root, "stock", "--format", "json")
    assert r.returncode == 0, r.stderr
    return {(row["sku"], row["loc"]): row["on_hand"] for row in json.loads(r.stdout)}


def assert_stock(root: Path, expected: Counter[Position]) -> None:
    """`invctl stock` on hand equals the expected sums, position by position."""
    got = stock_of(root)
    for key in set(got) | set(expected):
        assert got.get(key, 0) == expected[key], f"{key}: stock says {got.get(key, 0)}, events say {expected[key]}"


def wait_for(stream: IO[str] | None, word: str) -> list[str]:
    """Lines read until ``word`` (returned without it); fails if the process ended first."""
    assert stream is not None
    seen: list[str] = []
    while True:
        line = stream.readline()
        assert line, f"writer ended before printing {word}"
        if line.strip() == word:
            return seen
        seen.append(line)


# --- 1. many writers at once ------------------------------------------------------------------

# Each writer waits behind the barrier file, then prints "id sku loc change" for each event
# once record() has returned (so printed means acknowledged).
LIB_WRITER = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from invctl import events as E, journal
    from invctl.moves import Common, receive, sell
    from invctl.record import new_fields, record
    from invctl.settings import open_ledger

    root, go, n, tag = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ledger = open_ledger(root)
    print("READY", flush=True)
    while not go.exists():
        time.sleep(0.002)
    for i in range(n):
        # Every record() fsyncs the journal and rewrites the cache (~6 ms): 4000 of them take
        # a minute here, so most lines go through the lock and append() directly, as record()
        # itself writes them. Mostly sales: each receipt adds a cost layer that every later
        # record() restores from the cache.
        loc = ("main", "store2")[i % 2]
        ts = dt.datetime.now(ledger.settings.tz).replace(microsecond=0)
        if i % 20 == 19:  # two events in one record: both or neither
            new = [new_fields("sold", ts, sku="TEE-M", qty=1, loc="main", price="19.90", note=tag),
                   new_fields("sold", ts, sku="TEE-M", qty=2, loc="store2", price="19.90", note=tag)]
            ids = record(ledger, new).ids
            print(f"{ids[0]} TEE-M main -1", f"{ids[1]} TEE-M store2 -2", sep="\\n", flush=True)
        elif i % 40 == 4:
            [ev_id] = receive(ledger, "MILK", "2", "1.10", Common(note=tag, loc=loc)).ids
            print(f"{ev_id} MILK {loc} 2", flush=True)
        elif i % 40 == 24:
            [ev_id] = sell(ledger, "MILK", "1", "2.49", Common(note=tag)).ids
            print(f"{ev_id} MILK main -1", flush=True)
        else:
            fields = new_fields("sold", ts, sku="TEE-M", qty=1, loc=loc, price="19.90", note=tag)
            with journal.locked(ledger):
                journal.append(ledger, ledger.month_file(ts), E.to_line(fields))
            print(f"{fields['id']} TEE-M {loc} -1", flush=True)
""")

# Runs the installed binary n times in a row (as a cron job or a till would).
CLI_WRITER = textwrap.dedent("""
    import subprocess, sys, time
    from pathlib import Path

    binary, root, go, n, tag = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    print("READY", flush=True)
    while not go.exists():
        time.sleep(0.002)
    for _ in range(n):
        p = subprocess.run([binary, "sell", "TEE-M", "1", "--price", "19.90", "--note", tag], cwd=root,
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            sys.exit(f"invctl sell failed ({p.returncode}): {p.stderr}")
        print(f"{p.stdout.strip()} TEE-M main -1", flush=True)
""")


def test_thousands_of_concurrent_appends_lose_nothing(shop: Shop, tmp_path: Path) -> None:
    """8 library writers x 500 appends (1 in 10 through record(), the rest through the lock
    and append() as record() does them) and 4 x 25 `invctl sell` processes, all released
    at once. Pass: every acknowledged event is in the journal exactly once, every line decodes,
    there are no other lines (none torn, none interleaved), the writers really overlapped,
    `invctl stock` equals the sum of the acknowledged events and `invctl check` passes."""
    setup = [("TEE-M", "main", 3000), ("TEE-M", "store2", 3000), ("MILK", "main", 1000)]
    for sku, loc, q in setup:
        r = sh(shop.root, "receive", sku, str(q), "--cost", "1.10", "--loc", loc)
        assert r.returncode == 0, r.stderr
    expected: Counter[Position] = Counter({(sku, loc): q for sku, loc, q in setup})
    go = tmp_path / "go"
    lib_workers, per_lib, cli_workers, per_cli = 8, 500, 4, 25
    procs = [subprocess.Popen([sys.executable, "-c", LIB_WRITER, str(shop.root), str(go), str(per_lib), f"lib{k}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(lib_workers)]
    procs += [subprocess.Popen([sys.executable, "-c", CLI_WRITER, str(BIN), str(shop.root), str(go), str(per_cli), f"cli{k}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(cli_workers)]
    for p in procs:
        wait_for(p.stdout, "READY")
    go.touch()  # the barrier: every writer is loaded and waiting
    acked: dict[str, tuple[Position, int]] = {}
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        for line in out.splitlines():
            ev_id, sku, loc, change = line.split()
            assert ev_id not in acked, f"{ev_id} acknowledged twice"
            acked[ev_id] = ((sku, loc), int(change))
            expected[(sku, loc)] += int(change)
    assert len(acked) == lib_workers * (per_lib + per_lib // 20) + cli_workers * per_cli

    events: list[E.Event] = []
    data = b""
    for path in journal_files(shop.root):  # one, unless the month turned during the test
        data += path.read_bytes()
        assert data.endswith(b"\n"), f"{path} ends in a torn line"
        events += decode_all(path.read_bytes(), str(path))
    assert len(events) == len(acked) + len(setup)  # nothing but the setup and the acknowledged lines
    ids = Counter(ev.id for ev in events)
    assert all(ids[ev_id] == 1 for ev_id in acked)
    for ev in events[len(setup):]:
        assert delta(ev) == acked[ev.id]  # the line is the event its writer was told of
    # Serial writers would give one change of writer per writer; overlapping ones, many.
    writers = [ev.note for ev in events[len(setup):]]
    switches = sum(a != b for a, b in zip(writers, writers[1:], strict=False))
    assert switches > 4 * (lib_workers + cli_workers), f"writers did not overlap ({switches} switches)"

    assert_stock(shop.root, expected)
    r = sh(shop.root, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"\nconcurrent: {lib_workers + cli_workers} writer processes (+{cli_workers * per_cli} invctl sell "
          f"processes), {len(acked)} events acknowledged, {len(data)} bytes, {switches} writer switches")


# --- 2. writers killed again and again -------------------------------------------------------------

# Appends records until killed, some with multi-megabyte notes, printing "id sku loc change"
# after record() returns. With "half" its first (big) journal write gets half way, then
# it sleeps to be killed: a kill that certainly lands inside a write.
CRASH_WRITER = textwrap.dedent("""
    import os, random, sys, time
    from invctl import journal
    from invctl.moves import Common, receive, sell
    from invctl.settings import open_ledger

    root, go, seed, mode, big = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    rng = random.Random(seed)
    if mode == "half":
        real = os.write
        def write(fd, data):
            if os.readlink(f"/proc/self/fd/{fd}").endswith(".jsonl"):
                real(fd, data[: len(data) // 2])
                print("HALF", flush=True)
                time.sleep(300)
                os._exit(3)  # never killed: the test reports the exit code, the journal stays torn
            return real(fd, data)
        journal.os.write = write
    ledger = open_ledger(root)
    print("READY", flush=True)
    deadline = time.monotonic() + 300
    while not os.path.exists(go):  # started a round early, to be ready when its round begins
        if time.monotonic() > deadline:  # the test failed before this round
            sys.exit("no go")
        time.sleep(0.002)
    for i in range(10**9):
        if (mode == "half" and i == 0) or rng.random() < 0.25:
            size = rng.randrange(big // 4, big + 1)
            print("BIG", flush=True)  # for a kill aimed at the write that follows
        else:
            size = rng.randrange(0, 300)
        # multi-byte characters too: a tear may split one
        note = (f"{seed}/{i} " + "abcd\u20acefgh\u00e9 " * (size // 10 + 1))[:size]
        if rng.random() < 0.2:
            [ev_id] = sell(ledger, "TEE-M", "1", "19.90", Common(note=note)).ids
            print(f"{ev_id} TEE-M main -1", flush=True)
        else:
            q, loc = rng.randrange(1, 6), rng.choice(["main", "store2"])
            [ev_id] = receive(ledger, "MILK", str(q), "1.10", Common(note=note, loc=loc)).ids
            print(f"{ev_id} MILK {loc} {q}", flush=True)
""")

BIG = 6 << 20  # the library takes notes of any size; 6 MiB is beyond the replay's 4 MiB read buffer
ID_PREFIX = b'{"id":"'


def torn_files(root: Path) -> dict[str, bytes]:
    folder = root / ".invctl" / "torn"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


def test_writers_killed_at_random_moments_lose_no_acknowledged_event(shop: Shop, tmp_path: Path) -> None:
    """40 rounds of writers (records up to 6 MiB) killed by SIGKILL at random moments.
    Pass, after every round: every acknowledged event is in the journal; every complete
    line decodes; at most a torn tail per file, which is the start of an unacknowledged
    line; the next writer or `invctl check --repair` (in turn) saves exactly those bytes
    in .invctl/torn/ and leaves the file ending in a complete line. At the end `invctl
    check` passes and `invctl stock` equals the sum of the events in the journal."""
    rng = random.Random(20261126)
    setup = sh(shop.root, "receive", "TEE-M", "100000", "--cost", "6.20")
    assert setup.returncode == 0, setup.stderr
    acked: dict[str, tuple[Position, int]] = {}
    rounds, kills, tears, seeds = 40, 0, 0, iter(range(1, 10**6))
    pending: list[tuple[Path, bytes, bytes]] = []  # (file, complete lines, torn tail) the next writer sets aside
    verified: dict[Path, tuple[int, bytes]] = {}  # complete lines checked so far: length and digest
    present: dict[str, tuple[Position, int]] = {}
    largest = repairs = 0

    def spawn(rnd: int) -> tuple[list[subprocess.Popen[str]], list[subprocess.Popen[str]]]:
        """Round ``rnd``'s writers, waiting for its go file: 1 to 3 plain ones, and in every
        fifth round one more that is killed mid-write."""
        def writer(go: str, mode: str, big: int) -> subprocess.Popen[str]:
            spawned.append(subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(shop.root), str(tmp_path / go),
                                             str(next(seeds)), mode, str(big)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            return spawned[-1]
        plain = [writer(f"go{rnd}", "plain", BIG if rng.random() < 0.5 else 1 << 20) for _ in range(rng.randint(1, 3))]
        return plain, [writer(f"go{rnd}half", "half", BIG)] if rnd % 5 == 2 else []

    spawned: list[subprocess.Popen[str]] = []
    ready = [spawn(0)]
    try:
        for rnd in range(rounds):
            before_torn = torn_files(shop.root)
            plain, half = ready.pop(0)
            if rnd + 1 < rounds:
                ready.append(spawn(rnd + 1))
            early: dict[int, list[str]] = {}
            for p in plain + half:
                early[p.pid] = wait_for(p.stdout, "READY")
            (tmp_path / f"go{rnd}").touch()
            if pending:
                # the next round's writer: let its first record through, so it sets the tail aside
                assert plain[0].stdout is not None
                while early[plain[0].pid][-1:] in ([], ["BIG\n"]):
                    early[plain[0].pid].append(plain[0].stdout.readline())
            aimed = rnd % 4 == 1
            if aimed:
                # aimed: a plain SIGKILL of a real writer, a moment after it starts a big record
                early[plain[0].pid] += wait_for(plain[0].stdout, "BIG")
                time.sleep(rng.uniform(0.0, 0.2))
                kills += plain[0].poll() is None
                plain[0].send_signal(signal.SIGKILL)
            # released only now: it holds the lock from its torn write until killed
            (tmp_path / f"go{rnd}half").touch()
            start = time.monotonic()
            for at, p in sorted(((rng.uniform(0.0, 0.35), p) for p in plain[aimed:]), key=lambda x: x[0]):
                time.sleep(max(0.0, start + at - time.monotonic()))
                kills += p.poll() is None
                p.send_signal(signal.SIGKILL)
            for p in half:
                early[p.pid] += wait_for(p.stdout, "HALF")
                kills += p.poll() is None
                p.send_signal(signal.SIGKILL)
            for p in plain + half:
                out, err = p.communicate(timeout=120)
                assert p.returncode == -signal.SIGKILL, err
                assert "Traceback" not in err, err
                for line in [*early[p.pid], *out.splitlines(keepends=True)]:
                    if line.strip() == "BIG":
                        continue
                    ev_id, sku, loc, change = line.split()
                    acked[ev_id] = ((sku, loc), int(change))

            # --- what the kills left: lines already verified must be unchanged, new ones decode
            tails: list[tuple[Path, bytes, bytes]] = []
            for path in journal_files(shop.root):
                data = path.read_bytes()
                done, digest = verified.get(path, (0, hashlib.blake2b().digest()))
                h = hashlib.blake2b(memoryview(data)[:done])
                assert h.digest() == digest, f"round {rnd}: {path} was rewritten"
                complete, tail = split_torn(data[done:])
                for ev in decode_all(complete, f"round {rnd}: {path} from byte {done}"):
                    assert ev.id not in present, f"round {rnd}: duplicate {ev.id}"
                    present[ev.id] = delta(ev)
                largest = max([largest, *map(len, complete.split(b"\n"))])
                h.update(complete)
                verified[path] = (done + len(complete), h.digest())
                if tail:
                    tails.append((path, data[: done + len(complete)], tail))
            for ev_id, told in acked.items():
                assert present.get(ev_id) == told, f"round {rnd}: acknowledged event {ev_id} lost or changed"
            after_writers = torn_files(shop.root)
            new_aside = [after_writers[name] for name in set(after_writers) - set(before_torn)]
            for path, complete, tail in pending:
                # a writer set the tail aside, byte for byte, and appended after the complete lines
                assert tail in new_aside, f"round {rnd}: the torn tail of {path} was not saved as it was"
                assert path.read_bytes().startswith(complete) and len(complete) < verified[path][0]
            # Every fragment ever set aside is the start of a line that was never acknowledged.
            for name, frag in after_writers.items():
                assert b"\n" not in frag and (frag.startswith(ID_PREFIX) or ID_PREFIX.startswith(frag)), name
                assert frag[7:33].decode(errors="replace") not in acked, name
            tears += len(new_aside) - len(pending) + len(tails)  # torn and set aside within the round, or left
            pending = []
            for _, _, tail in tails:
                assert tail.startswith(ID_PREFIX) or ID_PREFIX.startswith(tail)
                assert tail[7:33].decode(errors="replace") not in acked
            if not tails:
                continue
            repairs += 1  # in turn: `invctl check --repair`, or the next round's first writer
            if repairs % 2 or rnd == rounds - 1:
                r = sh(shop.root, "check", "--repair")
                assert r.returncode == 0, r.stdout + r.stderr
                assert r.stderr.count("torn last line") == len(tails), r.stderr
                aside = torn_files(shop.root)
                saved = [aside[name] for name in set(aside) - set(after_writers)]
                for path, complete, tail in tails:
                    assert path.read_bytes() == complete and complete.endswith(b"\n")
                    assert tail in saved
            else:
                pending = tails

    finally:  # a failed round leaves the next round's writers waiting: end them
        for p in spawned:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert not pending
    r = sh(shop.root, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    expected: Counter[Position] = Counter({("TEE-M", "main"): 0})
    for pos, qty in present.values():
        expected[pos] += qty
    assert_stock(shop.root, expected)
    journal_bytes = sum(p.stat().st_size for p in journal_files(shop.root))
    aside = torn_files(shop.root)
    halves = sum(rnd % 5 == 2 for rnd in range(rounds))
    print(f"\ncrash loop: {rounds} rounds, {kills} SIGKILLs, {tears} torn tails ({halves} by writers stopped "
          f"half way, {tears - halves} by plain kills), {len(aside)} set aside "
          f"({sum(map(len, aside.values()))} bytes in .invctl/torn/), {len(acked)} events acknowledged, "
          f"{len(present) - len(acked)} more written but killed before the acknowledgement, "
          f"{journal_bytes} journal bytes, largest line {largest} bytes")
