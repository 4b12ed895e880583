"""Torn tails of every length, and I/O errors in the write path (SPEC sections 5 and 6).

Readers (`stock`, `check`, the library replay) must fold exactly the complete lines of
a journal whatever its last bytes are, name the line that is torn or invalid, and never
let the replay cache hide a change. Writers hit by ENOSPC, EIO, short writes or failed
fsyncs must refuse with one `error:` line, acknowledge nothing, and leave every journal
file as it was (or ending with a complete line); a torn fragment is never lost.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from conftest import BIN, Result, Shop

from invctl import cache, journal
from invctl.errors import Refused
from invctl.journal import list_files
from invctl.record import new_fields, record
from invctl.replay import replay
from invctl.settings import open_ledger

NOV = "journal/2026/2026-11.jsonl"
QTYS = (1, 2, 4, 8, 16)  # powers of two: the on-hand figure says exactly which lines were folded


# --- the reference: what a reader must make of a journal file's bytes ------------------------


def expected(content: bytes) -> tuple[int, dict[int, str]]:
    """(on hand of TEE-M at main, {line: "torn" | "invalid"}) from the bytes alone.

    Complete lines are those ending in a newline; what follows the last one is a torn
    tail, however it looks (even when it would parse as JSON)."""
    *complete, tail = content.split(b"\n")
    total, problems = 0, {}
    for n, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            total += json.loads(raw)["qty"]
        except (ValueError, KeyError, TypeError):
            problems[n] = "invalid"
    if tail:
        problems[len(complete) + 1] = "torn"
    return total, problems


def kind(message: str) -> str:
    if message.startswith("torn last line"):
        return "torn"
    if "fix or remove the line" in message:  # not valid JSON, or not a valid event
        return "invalid"
    return f"unexpected: {message}"


def named(text: str) -> dict[int, str]:
    """{line: "torn" | "invalid"} for each `journal/...:LINE: ...` a reader printed."""
    return {int(m.group(1)): kind(m.group(2)) for m in re.finditer(rf"{re.escape(NOV)}:(\d+): (.*)", text)}


def on_hand_of(out: str) -> int:
    return sum(r["on_hand"] for r in json.loads(out) if r["sku"] == "TEE-M" and r["loc"] == "main")


def no_traceback(r: Result) -> None:
    assert "Traceback" not in r.err and "Traceback" not in r.out, r.err


def read_all(shop: Shop, want: tuple[int, dict[int, str]], how: str,
             readers: tuple[str, ...] = ("stock", "check", "replay")) -> None:
    """stock --format json, check and the library replay agree with ``want``."""
    total, problems = want
    if "stock" in readers:
        r = shop.run("stock", "--format", "json")  # every SKU: the cached replay (one SKU is not cached)
        no_traceback(r)
        assert r.code == 0 and on_hand_of(r.out) == total, (how, r)
        assert named(r.err) == problems, (how, r.err)
        assert all(line.startswith("warning: ") for line in r.err.splitlines()), (how, r.err)
    if "check" in readers:
        r = shop.run("check")
        no_traceback(r)
        assert r.code == (1 if problems else 0), (how, r)  # a torn tail or a bad line is an error
        assert named(r.out) == problems and r.out.count("\n") == len(problems), (how, r.out)
    if "replay" in readers:
        state = replay(open_ledger(shop.root))
        pos = state.positions.get(("TEE-M", "main"))
        assert (pos.qty if pos is not None else 0) == total, how
        got = {p.line: kind(p.message) for p in state.problems if p.path == NOV}
        assert got == problems, (how, state.problems)


def five_receipts(shop: Shop) -> bytes:
    for day, qty in enumerate(QTYS, 1):
        shop.ok("receive", "TEE-M", str(qty), "--cost", "6.20", "--at", f"2026-11-{day:02d}T10:00")
    data = (shop.root / NOV).read_bytes()
    assert data.count(b"\n") == len(QTYS) and expected(data) == (31, {})
    return data


def cuts(data: bytes) -> range:
    """Every length from the end of the third line to the whole file: each byte of the last two."""
    start = data.rfind(b"\n", 0, data.rfind(b"\n", 0, len(data) - 1)) + 1
    return range(start, len(data) + 1)


def drop_cache(shop: Shop) -> None:
    shutil.rmtree(shop.root / ".invctl" / "cache", ignore_errors=True)


# --- 3. torn tails of every length ----------------------------------------------------------


def garbage(rnd: random.Random, n: int) -> bytes:
    """Random bytes, never all blank, without a newline (it would end the line) or a quote
    (bad UTF-8 inside a string is test_bad_utf8_inside_a_string_value's case)."""
    return b"\xff" + bytes(rnd.choice([b for b in range(256) if b not in b'\n"']) for _ in range(n - 1))


def junk(rnd: random.Random, k: int) -> bytes:
    """Zeros (a crash on some file systems leaves them past the end) or garbage, by turns."""
    return b"\0" * rnd.randint(1, 64) if k % 2 else garbage(rnd, rnd.randint(1, 40))


SUFFIXES: dict[str, Callable[[random.Random, int], bytes]] = {
    "cut": lambda rnd, k: b"",  # a torn tail, or at a line's end a clean file
    "cut+junk": junk,  # a torn tail
    "cut+junk+newline": lambda rnd, k: junk(rnd, k) + b"\n",  # a bad line, not a torn one
}


@pytest.mark.parametrize("suffix", list(SUFFIXES))
def test_every_cut_of_the_last_two_lines(shop: Shop, suffix: str) -> None:
    """Cut the file at each byte of its last two lines, then add nothing, zeros or garbage,
    with or without a newline: stock, check and replay fold exactly the complete good lines
    and name the torn (no newline) or invalid (newline) line, with a cache of the uncut
    file (stale), the cache the reads of the cut file saved (warm), and none (cold)."""
    data = five_receipts(shop)
    path = shop.root / NOV
    replay(open_ledger(shop.root))
    stale = (shop.root / ".invctl" / "cache" / "state.json").read_bytes()  # of the uncut file
    ledger = open_ledger(shop.root)
    assert cache.load(ledger, list_files(ledger)) is not None  # a good cache, for the uncut file
    rnd = random.Random(suffix)
    seen: set[str] = set()
    for k in cuts(data):
        content = data[:k] + SUFFIXES[suffix](rnd, k)
        want = expected(content)
        seen.update(want[1].values() or ["clean"])
        (shop.root / ".invctl" / "cache" / "state.json").write_bytes(stale)
        path.write_bytes(content)
        read_all(shop, want, f"stale cache, cut at {k}")
        read_all(shop, want, f"warm cache, cut at {k}", ("replay",))
        drop_cache(shop)
        read_all(shop, want, f"no cache, cut at {k}", ("stock",))
    # Every case came up: clean cuts at line ends, torn lines, bad lines.
    assert seen == {"cut": {"clean", "torn"}, "cut+junk": {"torn"}, "cut+junk+newline": {"invalid"}}[suffix]


def test_bad_utf8_inside_a_string_value(shop: Shop) -> None:
    """A complete line whose `loc` string holds bytes that are not UTF-8 (a damaged disk
    block): an invalid line reported at file:line, the others folded, no traceback."""
    data = five_receipts(shop)
    head, last = data[:-1].rsplit(b"\n", 1)
    (shop.root / NOV).write_bytes(head + b"\n" + last.replace(b'"loc":"main"', b'"loc":"\xffmain"') + b"\n")
    read_all(shop, (15, {5: "invalid"}), "bad UTF-8 in a string")
    r = shop.sh("check")
    no_traceback(r)
    assert r.code == 1 and named(r.out) == {5: "invalid"}


def test_a_cut_line_that_happens_to_be_valid_json_is_still_torn(shop: Shop) -> None:
    """The last line without its newline parses as JSON, yet it is left out (torn)."""
    data = five_receipts(shop)
    (shop.root / NOV).write_bytes(data[:-1])
    assert json.loads(data[:-1].rsplit(b"\n", 1)[1])["qty"] == 16  # it would decode
    read_all(shop, (15, {5: "torn"}), "valid JSON, no newline")


def test_a_writer_sets_aside_a_torn_tail_of_every_length(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a cut anywhere in the last two lines the next writer saves the tail, byte for
    byte, under .invctl/torn/, cuts the file back to its complete lines, appends, and says
    so; stock then counts the complete lines plus the new receipt."""
    data = five_receipts(shop)
    path = shop.root / NOV
    aside_dir = shop.root / ".invctl" / "torn"
    # What is written matters here, not that it reaches the disk: 300 fsyncs would be most
    # of the time (the other tests fail them on purpose).
    monkeypatch.setattr(journal.os, "fsync", lambda fd: None)
    for k in cuts(data):
        path.write_bytes(data[:k])
        complete, tail = journal.split_torn(data[:k])
        total, _ = expected(complete)
        r = shop.run("receive", "TEE-M", "32", "--cost", "6.20", "--at", "2026-11-20T10:00")
        assert r.code == 0 and len(r.out.split()) == 1, r
        asides = list(aside_dir.iterdir()) if aside_dir.exists() else []
        if tail:
            line = complete.count(b"\n") + 1
            assert f"{NOV}:{line}: torn last line ({len(tail)} bytes) set aside" in r.err
            [aside] = asides
            assert aside.read_bytes() == tail
            aside.unlink()
        else:
            assert asides == [] and "torn" not in r.err
        after = path.read_bytes()
        assert after.startswith(complete) and after.count(b"\n") == complete.count(b"\n") + 1
        assert json.loads(after.splitlines()[-1])["id"] == r.out.strip()
        assert on_hand_of(shop.ok("stock", "--format", "json")) == total + 32


TAILS: dict[str, tuple[Callable[[bytes], bytes], dict[int, str]]] = {
    "mid second-last line": (lambda d: d[: len(d) - 200], {4: "torn"}),
    "mid last line": (lambda d: d[:-70], {5: "torn"}),
    "all but the newline": (lambda d: d[:-1], {5: "torn"}),
    "zeros after a cut": (lambda d: d[:-50] + b"\0" * 37, {5: "torn"}),
    "garbage": (lambda d: d + b"\xff\xfe\x01garbage\x80", {6: "torn"}),
    "garbage line": (lambda d: d[:-30] + b"\xff\x00junk\n", {5: "invalid"}),
}


@pytest.mark.parametrize("case", sorted(TAILS))
def test_the_installed_binary_on_torn_and_bad_tails(shop: Shop, case: str) -> None:
    """The real `invctl`: no traceback, the right figures, the right file:line, exit codes
    (stock 0 with a warning, check 1); `check --repair` sets a torn tail aside whole and
    leaves a bad line with a newline alone (it is not torn: it must be fixed by hand)."""
    data = five_receipts(shop)
    path = shop.root / NOV
    cut, where = TAILS[case]
    content = cut(data)
    path.write_bytes(content)
    total, problems = expected(content)
    assert problems == where
    r = shop.sh("stock", "--format", "json")
    no_traceback(r)
    assert r.code == 0 and on_hand_of(r.out) == total and named(r.err) == problems, r
    r = shop.sh("check")
    no_traceback(r)
    assert r.code == 1 and named(r.out) == problems, r
    r = shop.sh("check", "--repair")
    no_traceback(r)
    complete, tail = journal.split_torn(content)
    aside_dir = shop.root / ".invctl" / "torn"
    if "torn" in problems.values():
        assert r.code == 0 and "set aside to .invctl/torn/" in r.err, r
        assert [p.read_bytes() for p in aside_dir.iterdir()] == [tail]
        assert path.read_bytes() == complete
        assert shop.sh("check").code == 0
    else:
        assert r.code == 1 and named(r.out) == problems and not aside_dir.exists(), r
        assert path.read_bytes() == content


# --- 4. I/O errors in write and fsync ----------------------------------------------------


def target_of(name: str, args: tuple[Any, ...]) -> str:
    """The file an os call is about: a path, or what an fd is open on."""
    first = args[0]
    if isinstance(first, int):
        try:
            return os.readlink(f"/proc/self/fd/{first}")
        except OSError:
            return ""
    return os.fspath(first)


def inject(monkeypatch: pytest.MonkeyPatch, name: str, match: Callable[[str], bool],
           effect: Callable[..., Any]) -> list[str]:
    """Route ``os.<name>`` calls on files ``match`` accepts to ``effect(real, *args)``;
    returns the targets hit (a test asserts its fault was really met)."""
    real = getattr(os, name)
    hits: list[str] = []

    def fake(*args: Any, **kwargs: Any) -> Any:
        target = target_of(name, args)
        if match(target):
            hits.append(target)
            return effect(real, *args, **kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(journal.os, name, fake)
    return hits


def fails(code: int) -> Callable[..., Any]:
    def effect(real: Any, *args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))
    return effect


def short_by(keep: Callable[[int], int]) -> Callable[..., Any]:
    """os.write putting out only ``keep(len)`` bytes (as a full disk may)."""
    def effect(real: Any, fd: int, data: bytes) -> int:
        return int(real(fd, data[: keep(len(data))]))
    return effect


def is_journal(t: str) -> bool:
    return t.endswith(".jsonl")


def is_torn_copy(t: str) -> bool:
    return t.endswith(".torn")


def refused(r: Result) -> str:
    """One `error:` line on stderr, exit 1, no id printed, no traceback."""
    no_traceback(r)
    assert r.code == 1 and r.out == "", r
    assert r.err.count("\n") == 1 and r.err.startswith("error: "), r.err
    return r.err


def snapshot(shop: Shop) -> dict[str, bytes]:
    return {str(p.relative_to(shop.root)): p.read_bytes() for p in sorted((shop.root / "journal").rglob("*.jsonl"))}


def complete_and_kept(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """Every file is as it was, or as it was plus complete lines; no file went away."""
    assert set(before) <= set(after)
    for name, old in before.items():
        new = after[name]
        assert new.startswith(old) and (new == old or new.endswith(b"\n")), name


APPEND_FAULTS: dict[str, tuple[str, Callable[[str], bool], Callable[..., Any], str]] = {
    # name: (os function, which files, what happens, what stderr names)
    "write EIO": ("write", is_journal, fails(errno.EIO), "Input/output error"),
    "write EDQUOT": ("write", is_journal, fails(errno.EDQUOT), "quota exceeded"),
    "write nothing": ("write", is_journal, short_by(lambda n: 0), "short write (0 of"),
    "write all but the newline": ("write", is_journal, short_by(lambda n: n - 1), "short write"),
    "fsync of the file EIO": ("fsync", is_journal, fails(errno.EIO), "Input/output error"),
    "fsync of the file ENOSPC": ("fsync", is_journal, fails(errno.ENOSPC), "No space left on device"),
    # what a read-only mount or a file of another user gives (root cannot be refused for real)
    "open EROFS": ("open", is_journal, fails(errno.EROFS), "Read-only file system"),
    "open EACCES": ("open", is_journal, fails(errno.EACCES), "Permission denied"),
}


@pytest.mark.parametrize("fault", sorted(APPEND_FAULTS))
@pytest.mark.parametrize("month", ["existing", "new"])
def test_a_failed_append_is_refused_and_cut_back(shop: Shop, monkeypatch: pytest.MonkeyPatch, fault: str, month: str) -> None:
    """Faults in the one write or its fsync, to an existing month file or a new one: refused
    with one line naming the file and saying nothing was recorded; every file byte for byte
    as before (a new file not left behind); the same command then succeeds once."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    at = "2026-11-15" if month == "existing" else "2026-12-15"
    before = snapshot(shop)
    name, match, effect, why = APPEND_FAULTS[fault]
    hits = inject(monkeypatch, name, match, effect)
    err = refused(shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", at))
    assert hits and why in err and "could not write the journal" in err and "nothing was recorded" in err
    assert f"journal/2026/2026-{at[5:7]}.jsonl" in err
    assert snapshot(shop) == before
    monkeypatch.undo()
    out = shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", at)
    assert json.loads(shop.journal_bytes().splitlines()[-1])["id"] == out.strip()
    assert shop.run("check").code == 0 and shop.journal_bytes().count(b"\n") == 2


def test_fsync_of_a_new_month_folder_fails(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The line of a new month file is written and fsynced, but its folder's fsync fails: the
    file may not survive a crash, so nothing is acknowledged and the file is taken away;
    the retry creates it again and this time fsyncs the folder."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    before = snapshot(shop)
    hits = inject(monkeypatch, "fsync", lambda t: t.endswith("/journal/2026"), fails(errno.EIO))
    err = refused(shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-12-15"))
    assert hits and "journal/2026/2026-12.jsonl: could not write the journal: Input/output error" in err
    assert "nothing was recorded" in err
    assert snapshot(shop) == before and not (shop.root / "journal/2026/2026-12.jsonl").exists()
    monkeypatch.undo()
    synced = inject(monkeypatch, "fsync", lambda t: t.endswith("/journal/2026"), lambda real, fd: real(fd))
    shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-12-15")
    assert synced, "the retry did not fsync the folder of the file it created"
    assert shop.run("check").code == 0


@pytest.mark.parametrize("fault", ["mkdir", "fsync"])
def test_a_new_year_folder_that_cannot_be_made(shop: Shop, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """Creating journal/2027 fails (ENOSPC), or its parent's fsync does: refused with one
    line naming the folder; the journal unchanged."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    before = snapshot(shop)
    if fault == "mkdir":
        hits = inject(monkeypatch, "mkdir", lambda t: t.endswith("journal/2027"), fails(errno.ENOSPC))
    else:
        hits = inject(monkeypatch, "fsync", lambda t: t.endswith("/journal"), fails(errno.EIO))
    err = refused(shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", "2027-01-15"))
    assert hits and "journal/2027: could not create the folder" in err and "nothing was recorded" in err
    assert snapshot(shop) == before
    monkeypatch.undo()
    shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", "2027-01-15")
    assert shop.run("check").code == 0


def test_events_of_two_months_are_all_or_nothing(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """One record of a November and a December event: the December write fails after the
    November line is in, and the November line is taken back (the request is one unit)."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    ledger = open_ledger(shop.root)
    tz = ledger.settings.tz
    new = [new_fields("received", dt.datetime(2026, 11, 20, 10, tzinfo=tz), sku="TEE-M", qty=1, loc="main", cost="6.20"),
           new_fields("received", dt.datetime(2026, 12, 20, 10, tzinfo=tz), sku="TEE-M", qty=1, loc="main", cost="6.20")]
    before = snapshot(shop)
    hits = inject(monkeypatch, "write", lambda t: t.endswith("2026-12.jsonl"), fails(errno.ENOSPC))
    with pytest.raises(Refused, match=r"2026-12.jsonl: could not write the journal: No space left on device; nothing was recorded"):
        record(ledger, new)
    assert hits and snapshot(shop) == before
    monkeypatch.undo()
    assert record(open_ledger(shop.root), new).ids == [e["id"] for e in new]
    assert shop.run("check").code == 0


# --- the set-aside of a torn tail before an append ----------------------------------------------

TORN_FAULTS: dict[str, tuple[str, Callable[[str], bool], Callable[..., Any], str]] = {
    "mkdir of .invctl/torn": ("mkdir", lambda t: t.endswith(".invctl/torn"), fails(errno.ENOSPC), "No space left"),
    "write of the copy ENOSPC": ("write", is_torn_copy, fails(errno.ENOSPC), "No space left"),
    "write of the copy stops short": ("write", is_torn_copy, short_by(lambda n: n // 2 if n > 9 else 0), "short write"),
    "fsync of the copy": ("fsync", is_torn_copy, fails(errno.EIO), "Input/output error"),
    "fsync of .invctl/torn": ("fsync", lambda t: t.endswith(".invctl/torn"), fails(errno.EIO), "Input/output error"),
    "ftruncate of the journal": ("ftruncate", is_journal, fails(errno.EIO), "Input/output error"),
    "fsync of the cut journal": ("fsync", is_journal, fails(errno.EIO), "Input/output error"),
}


@pytest.fixture
def torn(shop: Shop) -> tuple[Shop, bytes, bytes]:
    """A shop whose November file has one complete line and then half a line."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    complete = (shop.root / NOV).read_bytes()
    tail = complete[:57]  # the start of a line like the first
    (shop.root / NOV).write_bytes(complete + tail)
    return shop, complete, tail


def aside_copies(shop: Shop) -> list[bytes]:
    d = shop.root / ".invctl" / "torn"
    return [p.read_bytes() for p in d.iterdir()] if d.exists() else []


@pytest.mark.parametrize("fault", sorted(TORN_FAULTS))
@pytest.mark.parametrize("how", ["writer", "repair"])
def test_setting_a_torn_tail_aside_fails(torn: tuple[Shop, bytes, bytes], monkeypatch: pytest.MonkeyPatch,
                                         fault: str, how: str) -> None:
    """Each step of setting a torn tail aside fails in turn, under a writer or `check
    --repair`: refused with one line naming the torn line; nothing appended; the fragment
    is still in the file, or (once the copy is complete) in .invctl/torn/ whole; no
    incomplete copy is left. With the fault gone the same command succeeds."""
    shop, complete, tail = torn
    name, match, effect, why = TORN_FAULTS[fault]
    hits = inject(monkeypatch, name, match, effect)
    if how == "writer":
        err = refused(shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15"))
        assert "nothing was recorded" in err
    else:
        err = refused(shop.run("check", "--repair"))
    assert hits and why in err and f"{NOV}:2: " in err and "torn last line" in err
    after = (shop.root / NOV).read_bytes()
    copies = aside_copies(shop)
    assert after in (complete, complete + tail)
    assert all(c == tail for c in copies), copies  # never an incomplete copy
    assert after == complete + tail or copies == [tail]  # the fragment is somewhere, whole
    monkeypatch.undo()
    if how == "writer":
        shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15")
    else:
        shop.ok("check", "--repair")
    assert tail in aside_copies(shop)
    r = shop.run("check")
    assert r.code == 0, r
    assert (shop.root / NOV).read_bytes().startswith(complete)


def test_a_copy_written_in_pieces_is_whole(torn: tuple[Shop, bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """os.write putting out a few bytes at a time to the .torn copy: the copy is finished
    off (it is not a journal line) and equals the fragment before the journal is cut."""
    shop, complete, tail = torn
    hits = inject(monkeypatch, "write", is_torn_copy, short_by(lambda n: min(n, 5)))
    shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15")
    assert len(hits) == -(-len(tail) // 5)
    assert aside_copies(shop) == [tail]
    assert (shop.root / NOV).read_bytes().startswith(complete) and shop.run("check").code == 0


def test_a_short_write_that_cannot_be_cut_back(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two faults at once: half the line is written and the file cannot be cut back. The
    message does not claim nothing was recorded; the half line is a torn tail that the
    readers leave out and the next writer sets aside; no earlier line is lost."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    before = (shop.root / NOV).read_bytes()
    inject(monkeypatch, "write", is_journal, short_by(lambda n: n // 2))
    inject(monkeypatch, "ftruncate", is_journal, fails(errno.EIO))
    err = refused(shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15"))
    assert "short write" in err and "could not be cut back" in err and "nothing was recorded" not in err
    assert "invctl check --repair" in err
    monkeypatch.undo()
    after = (shop.root / NOV).read_bytes()
    assert after.startswith(before) and not after.endswith(b"\n")
    read_all(shop, (5, {2: "torn"}), "half a line left")
    r = shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15")
    assert r.code == 0 and f"{NOV}:2: torn last line" in r.err
    assert aside_copies(shop) == [after[len(before):]]
    read_all(shop, (4, {}), "after the set-aside")


# --- the real CLI in a process of its own ----------------------------------------------------

WRAPPER = textwrap.dedent("""
    import errno, os, sys

    suffix, code = sys.argv[1], int(sys.argv[2])
    real_fsync, real_write = os.fsync, os.write

    def target(fd):
        return os.readlink(f"/proc/self/fd/{fd}")

    def fsync(fd):
        if target(fd).endswith(suffix):
            raise OSError(code, os.strerror(code))
        return real_fsync(fd)

    def write(fd, data):
        if target(fd).endswith(suffix):
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    os.fsync, os.write = fsync, write
    sys.argv = ["invctl", *sys.argv[3:]]
    from invctl.cli.main import run
    run()
""")


def faulty_cli(shop: Shop, suffix: str, code: int, *args: str) -> Result:
    p = subprocess.run([sys.executable, "-c", WRAPPER, suffix, str(code), "-L", str(shop.root), *args],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "INVCTL_USER": "tester"})
    return Result(p.returncode, p.stdout, p.stderr)


def test_the_real_cli_on_a_failing_disk(shop: Shop) -> None:
    """A process of its own running invctl's entry point with fsync of journal files
    failing (EIO), then with the .torn copy's write failing (ENOSPC): exit 1, one
    `error:` line, no id, no traceback, the journal as it was; then the same command runs."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    before = snapshot(shop)
    for at in ("2026-11-15", "2026-12-15"):  # an existing file, a new one
        err = refused(faulty_cli(shop, ".jsonl", errno.EIO, "sell", "TEE-M", "1", "--price", "19.90", "--at", at))
        assert "could not write the journal: Input/output error; nothing was recorded" in err
        assert snapshot(shop) == before
    tail = b'{"id":"01KA0000000000000000000077","ts":"2026-11-'
    (shop.root / NOV).write_bytes(before[NOV] + tail)
    err = refused(faulty_cli(shop, ".torn", errno.ENOSPC, "sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15"))
    assert f"{NOV}:2: could not set the torn last line aside" in err and "No space left on device" in err
    assert (shop.root / NOV).read_bytes() == before[NOV] + tail and aside_copies(shop) == []
    p = subprocess.run([str(BIN), "sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15"], cwd=shop.root,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "torn last line" in p.stderr and aside_copies(shop) == [tail]
    complete_and_kept(before, snapshot(shop))
    assert shop.sh("check").code == 0


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_lock_that_cannot_be_taken(shop: Shop, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """.invctl/lock cannot be opened (a read-only mount, another user's ledger): the writer
    refuses with one line naming the lock, nothing is written; readers do not need it."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6.20", "--at", "2026-11-01")
    before = snapshot(shop)
    hits = inject(monkeypatch, "open", lambda t: t.endswith(".invctl/lock"), fails(code))
    err = refused(shop.run("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-15"))
    assert hits and ".invctl/lock" in err and os.strerror(code) in err and "nothing was recorded" in err
    assert snapshot(shop) == before
    assert shop.run("stock").code == 0 and shop.run("check").code == 0
