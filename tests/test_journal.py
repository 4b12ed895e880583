"""Durability and concurrency of the journal (SPEC section 6)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import BIN, Shop

from invctl import journal
from invctl.errors import Refused
from invctl.settings import open_ledger


def lines_of(shop: Shop) -> list[bytes]:
    """Every complete journal line (a torn tail fails the caller's JSON check)."""
    out = []
    for p in sorted((shop.root / "journal").rglob("*.jsonl")):
        data = p.read_bytes()
        assert data.endswith(b"\n"), f"{p} ends in a torn line"
        out.extend(data.splitlines())
    return out


def on_hand(shop: Shop, sku: str, loc: str = "main") -> int:
    rows = json.loads(shop.ok("stock", sku, "--format", "json"))
    return next(r["on_hand"] for r in rows if r["loc"] == loc)


# --- one event, one write ------------------------------------------------------------------


def test_an_append_is_one_write_of_one_complete_line_then_fsync(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, object]] = []
    real_write, real_fsync = os.write, os.fsync

    def write(fd: int, data: bytes) -> int:
        calls.append(("write", bytes(data)))
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        calls.append(("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync", None))
        real_fsync(fd)

    monkeypatch.setattr(journal.os, "write", write)
    monkeypatch.setattr(journal.os, "fsync", fsync)
    out = shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-20T09:00")
    kinds = [k for k, _ in calls]
    # a new month file: its folders and the file's entry get their directories fsynced
    assert kinds.count("write") == 1 and kinds.index("fsync") > kinds.index("write")
    assert kinds[-1] == "fsync-dir"
    [data] = [d for k, d in calls if k == "write"]
    assert isinstance(data, bytes) and data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data)["id"] == out.strip()
    calls.clear()
    shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-21")
    assert [k for k, _ in calls] == ["write", "fsync"]  # an existing file: no directory fsync
    assert (shop.root / "journal/2026/2026-11.jsonl").read_bytes().count(b"\n") == 2


def test_a_failed_write_records_nothing(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20")
    before = shop.journal_bytes()
    real_write = os.write

    def short_write(fd: int, data: bytes) -> int:
        return real_write(fd, data[: len(data) // 2])  # a full disk: half a line got out

    monkeypatch.setattr(journal.os, "write", short_write)
    r = shop.run("sell", "TEE-M", "1", "--price", "19.90")
    assert r.code == 1 and "could not write the journal" in r.err and "nothing was recorded" in r.err
    assert shop.journal_bytes() == before  # cut back to where it was

    def no_space(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "write", no_space)
    r = shop.run("sell", "TEE-M", "1", "--price", "19.90")
    assert r.code == 1 and "No space left on device" in r.err
    assert shop.journal_bytes() == before


def test_month_files_by_the_events_ts(shop: Shop) -> None:
    for at in ("2026-01-31T23:59", "2026-02-01T00:00", "2026-12-31T23:59:59", "2027-01-01",
               "2026-06-30T23:30:00-04:00", "2026-08-01T01:00:00+09:00"):
        shop.ok("receive", "TEE-M", "1", "--cost", "6.00", "--at", at)
    files = sorted(str(p.relative_to(shop.root)) for p in (shop.root / "journal").rglob("*.jsonl"))
    assert files == ["journal/2026/2026-01.jsonl", "journal/2026/2026-02.jsonl", "journal/2026/2026-07.jsonl",
                     "journal/2026/2026-12.jsonl", "journal/2027/2027-01.jsonl"]
    for name in files:
        for line in (shop.root / name).read_text().splitlines():
            assert json.loads(line)["ts"][:7] == Path(name).stem  # the month as written, in the ledger's zone
    assert (shop.root / "journal/2026/2026-07.jsonl").read_text().count("\n") == 2  # 06-30 -04:00 and 08-01 +09:00
    assert shop.run("check").code == 0


# --- the lock --------------------------------------------------------------------------------


def test_writers_wait_for_the_lock_file(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20")
    ledger = open_ledger(shop.root)
    assert (shop.root / ".invctl" / "lock").is_file()
    before = shop.journal_bytes()
    with journal.locked(ledger):
        p = subprocess.Popen([str(BIN), "sell", "TEE-M", "1", "--price", "19.90"], cwd=shop.root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert p.poll() is None  # waiting for .invctl/lock
        assert shop.journal_bytes() == before
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert json.loads(lines_of(shop)[-1])["id"] == out.strip()


def test_readers_take_no_lock_and_read_complete_lines_only(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    ledger = open_ledger(shop.root)
    path = shop.root / "journal/2026/2026-11.jsonl"
    line = (b'{"id":"01KA0000000000000000000077","ts":"2026-11-02T10:00:00+01:00","type":"received",'
            b'"sku":"TEE-M","qty":3,"loc":"main","cost":"6.20","by":"tester"}\n')
    with journal.locked(ledger):
        with open(path, "ab") as fh:  # a writer half way through its line
            fh.write(line[:40])
        for args in (["stock", "TEE-M", "--format", "json"], ["history", "TEE-M", "--format", "json"], ["check"]):
            p = subprocess.run([str(BIN), *args], cwd=shop.root, capture_output=True, text=True, timeout=30)
            assert "Traceback" not in p.stderr
            if args[0] == "stock":
                assert p.returncode == 0 and json.loads(p.stdout)[0]["on_hand"] == 5
                assert "torn last line" in p.stderr
            if args[0] == "history":
                assert [h["qty"] for h in json.loads(p.stdout)] == [5]
        with open(path, "ab") as fh:
            fh.write(line[40:])
    assert on_hand(shop, "TEE-M") == 8
    assert shop.run("check").code == 0


# --- many writers at once ---------------------------------------------------------------------

LIBRARY_WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from invctl.record import new_fields, record
    from invctl.settings import open_ledger

    root, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ledger = open_ledger(root)
    for i in range(n):
        ts = dt.datetime.now(ledger.settings.tz).replace(microsecond=0)
        if i % 5 == 4:  # two events in one record: both or neither
            new = [new_fields("received", ts, sku="MILK", qty=1, loc="main", cost="1.10", note=tag),
                   new_fields("received", ts, sku="MILK", qty=1, loc="store2", cost="1.10", note=tag)]
        else:
            new = [new_fields("received", ts, sku="MILK", qty=1, loc="main", cost="1.10", note=tag)]
        for ev_id in record(ledger, new).ids:
            print(ev_id, flush=True)
""")


def _cli_worker(root: Path, worker: int, n: int) -> list[tuple[str, str]]:
    done = []
    for i in range(n):
        if i % 2 == 0:
            args = ["receive", "TEE-M", "2", "--cost", "6.20", "--note", f"w{worker}"]
        else:
            args = ["sell", "TEE-M", "1", "--price", "19.90", "--note", f"w{worker}"]
        p = subprocess.run([str(BIN), *args], cwd=root, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        done.append((args[0], p.stdout.strip()))
    return done


def test_concurrent_writers_lose_nothing(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "100", "--cost", "6.20")
    cli_workers, per_cli = 4, 10
    lib_workers, per_lib = 3, 15
    libs = [subprocess.Popen([sys.executable, "-c", LIBRARY_WRITER, str(shop.root), str(per_lib), f"lib{k}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for k in range(lib_workers)]
    with ThreadPoolExecutor(cli_workers) as pool:
        futures = [pool.submit(_cli_worker, shop.root, w, per_cli) for w in range(cli_workers)]
        cli_done = [x for f in futures for x in f.result()]
    lib_ids = []
    for p in libs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        lib_ids.extend(out.split())

    events = [json.loads(line) for line in lines_of(shop)]  # every line is valid JSON
    ids = [e["id"] for e in events]
    acknowledged = [i for _, i in cli_done] + lib_ids
    assert len(set(acknowledged)) == len(acknowledged) == cli_workers * per_cli + lib_workers * (per_lib + per_lib // 5)
    for ev_id in acknowledged:
        assert ids.count(ev_id) == 1
    assert len(ids) == len(set(ids)) == len(acknowledged) + 1
    received = sum(1 for kind, _ in cli_done if kind == "receive")
    sold = len(cli_done) - received
    assert on_hand(shop, "TEE-M") == 100 + 2 * received - sold
    milk = [e for e in events if e["sku"] == "MILK"]
    assert on_hand(shop, "MILK") == sum(e["qty"] for e in milk if e["loc"] == "main")
    assert on_hand(shop, "MILK", "store2") == lib_workers * (per_lib // 5)
    r = shop.run("check")
    assert r.code == 0, r.out


def test_concurrent_refs_append_once(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "100", "--cost", "6.20")

    def sell(_: int) -> str:
        p = subprocess.run([str(BIN), "sell", "TEE-M", "1", "--price", "19.90", "--ref", "order-42"],
                           cwd=shop.root, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(sell, range(6)))
    assert len(set(ids)) == 1
    assert on_hand(shop, "TEE-M") == 99


# --- a writer killed ----------------------------------------------------------------------------

HALF_WRITER = textwrap.dedent("""
    import os, sys, time
    from invctl import journal
    from invctl.moves import Common, receive
    from invctl.settings import open_ledger

    real = os.write
    def write(fd, data):  # the first half reaches the file, then the process is killed
        n = real(fd, data[: len(data) // 2])
        print("HALF", flush=True)
        time.sleep(120)
        return n
    journal.os.write = write
    receive(open_ledger(sys.argv[1]), "TEE-M", "7", "6.20", Common())
""")


def test_a_writer_killed_at_random_moments(shop: Shop) -> None:
    rng = random.Random(7)
    acknowledged = 0
    for _ in range(5):
        p = subprocess.Popen([str(BIN), "receive", "TEE-M", "1", "--cost", "6.20"], cwd=shop.root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.0, 0.4))
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate(timeout=30)
        acknowledged += bool(out.strip())
        r = shop.run("check")
        if r.code != 0:  # only ever a torn tail, which --repair sets aside
            assert all("torn last line" in line for line in r.out.splitlines()), r.out
            assert shop.run("check", "--repair").code == 0
        lines = lines_of(shop)
        for line in lines:
            json.loads(line)
        assert on_hand(shop, "TEE-M") == len(lines) >= acknowledged
    shop.ok("receive", "TEE-M", "1", "--cost", "6.20")  # the lock was not left behind


def test_a_writer_killed_mid_line_leaves_one_torn_tail(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20")
    good = shop.journal_bytes()
    p = subprocess.Popen([sys.executable, "-c", HALF_WRITER, str(shop.root)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "HALF"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    torn = shop.journal_bytes()[len(good):]
    assert torn and not torn.endswith(b"\n")
    r = shop.run("check")
    assert r.code == 1 and r.out.count("\n") == 1 and ":2: torn last line" in r.out
    assert on_hand(shop, "TEE-M") == 5
    # the next writer (it gets the lock the dead one held) sets the tail aside before appending
    r = shop.run("sell", "TEE-M", "1", "--price", "19.90")
    assert r.code == 0 and "torn last line" in r.err
    [aside] = (shop.root / ".invctl" / "torn").iterdir()
    assert aside.read_bytes() == torn
    assert shop.journal_bytes().startswith(good) and len(lines_of(shop)) == 2
    assert shop.run("check").code == 0 and on_hand(shop, "TEE-M") == 4


def test_check_repair_after_a_kill(shop: Shop) -> None:
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20")
    p = subprocess.Popen([sys.executable, "-c", HALF_WRITER, str(shop.root)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "HALF"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    r = shop.sh("check", "--repair")
    assert r.code == 0 and "set aside to .invctl/torn/" in r.err
    assert len(list((shop.root / ".invctl" / "torn").iterdir())) == 1
    assert shop.sh("check").code == 0


def test_library_refuses_with_a_clean_error(shop: Shop) -> None:
    from invctl.moves import Common, sell

    ledger = open_ledger(shop.root)
    with pytest.raises(Refused, match="only 0 TEE-M on hand"):
        sell(ledger, "TEE-M", "1", "19.90", Common())
    assert shop.journal_bytes() == b""


CATALOG_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from invctl.catalog import add_entry, set_entry

    root, tag = Path(sys.argv[1]), sys.argv[2]
    for i in range(8):
        add_entry(root, "item", f"{tag}-{i}", {"name": f"item {i}"})
    set_entry(root, "item", "MILK", {f"note_{tag}": "seen"})
""")


def test_concurrent_catalog_edits_lose_nothing(shop: Shop) -> None:
    """items.toml is rewritten whole, so writers take the ledger lock for it too."""
    procs = [subprocess.Popen([sys.executable, "-c", CATALOG_WRITER, str(shop.root), f"W{k}"], stderr=subprocess.PIPE, text=True)
             for k in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    items = tomllib.loads((shop.root / "items.toml").read_text())
    assert {f"W{k}-{i}" for k in range(4) for i in range(8)} <= set(items)
    assert {k for k in items["MILK"] if k.startswith("note_")} == {f"note_W{k}" for k in range(4)}


def test_concurrent_voids_of_one_event_append_one(shop: Shop) -> None:
    rid = shop.ok("receive", "TEE-M", "5", "--cost", "6.20").strip()

    def void(_: int) -> int:
        p = subprocess.run([str(BIN), "void", rid, "--reason", "twice"], cwd=shop.root, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 or "already voided" in p.stderr, p.stderr
        return p.returncode

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(void, range(4)))
    assert codes.count(0) == 1
    assert [json.loads(line)["type"] for line in lines_of(shop)] == ["received", "voided"]
    assert shop.run("check").code == 0


def test_lines_containing_numbers_lines_like_lines(tmp_path: Path) -> None:
    from invctl.journal import FileRead

    body = b"".join(b'{"n":%d,"type":"%s"}\n' % (i, b"voided" if i % 7 == 3 else b"sold") for i in range(1, 200))
    path = tmp_path / "2026-11.jsonl"
    path.write_bytes(body)
    fr = FileRead.read(path)
    found = list(fr.lines_containing(re.compile(rb'"voided"')))
    assert found == [(n, raw) for n, raw in fr.lines() if b"voided" in raw]
    assert [n for n, _ in found] == [i for i in range(1, 200) if i % 7 == 3]
