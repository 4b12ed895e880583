"""A whole-journal replay on two processes: each folds half of the SKUs.

Positions, cost layers, PO lines and returns are per SKU, so two processes that read the
same journal in the same order and fold disjoint sets of SKUs end with disjoint halves of
the state the serial replay would reach. Both decode every line (a line's SKU is only
known once it is decoded), so this pays off only on large journals: the fold itself,
about half of a cold replay, runs on two cores, and so does the pre-pass for voids and
returns (each process scans half of the files and they swap what they found).

The second process is a fork of this one: same code, same hash seed (the pre-pass keys
returns by hash), nothing to import. It answers through a pipe with typed JSON (never
pickle). Anything unexpected in it (an error, a crash, a short answer) makes the caller
fold serially, so this is never less correct than the serial replay, only faster.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from invctl import cache, progress
from invctl.cache import Folded
from invctl.fold import State

if TYPE_CHECKING:
    from invctl.replay import _Run

SPLIT_BYTES = 48 << 20  # below this a cold replay takes well under a second: not worth a fork
_SAMPLE = 1 << 18
_SAMPLES = 8
_SKU = re.compile(rb'"sku":"([^"\\]{1,200})"')


class _Found(msgspec.Struct, array_like=True):
    """What one process's half of the pre-pass found."""

    voided: list[str]
    returns: list[tuple[int, int]]  # (hash of (order, sku), returns ahead)


class _Half(msgspec.Struct, array_like=True):
    """The child's answer: its folded half, or why it stopped."""

    outcome: str  # "ok", "out-of-order" or "error"
    file: int = -1  # the file out of order
    state: Folded | None = None  # its half
    last_ts: dt.datetime | None = None
    last_id: str = ""


def worth_it(run: _Run) -> bool:
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or os.environ.get("INVCTL_JOBS") == "1":
        return False
    total = 0
    for path in run.state.files:
        try:
            total += path.stat().st_size
        except OSError:
            return False
    return total >= SPLIT_BYTES


def halves(run: _Run) -> tuple[set[str], set[str]]:
    """Two sets of SKUs with about the same number of events, by a sample of up to
    eight files across the journal (SKUs in neither the sample nor the catalog go with
    the first set)."""
    counts: dict[str, int] = {}
    files = run.state.files
    step = max(1, len(files) // _SAMPLES)
    for path in files[::step]:
        try:
            with open(path, "rb") as fh:
                sample = fh.read(_SAMPLE)
        except OSError:
            continue
        for m in _SKU.finditer(sample):
            sku = m.group(1).decode("utf-8", "replace")
            counts[sku] = counts.get(sku, 0) + 1
    try:
        for sku in run.state.ledger.catalog.items:
            counts.setdefault(sku, 0)
    except Exception:  # noqa: BLE001 - a broken catalog is reported elsewhere; the sample will do
        pass
    a: set[str] = set()
    b: set[str] = set()
    load = [0, 0]
    for sku, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        side = 1 if load[1] <= load[0] else 0  # ties to the second process: the first merges
        (a if side == 0 else b).add(sku)
        load[side] += n
    return a, b


def _cut(files: list[Path]) -> int:
    """Where to split the files for the pre-pass: half of the bytes on each side."""
    sizes = []
    for path in files:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)
    total, acc = sum(sizes), 0
    for i, size in enumerate(sizes):
        if acc + size / 2 >= total / 2:
            return i
        acc += size
    return len(files)


def fold(run: _Run) -> bool:
    """Fold ``run`` (a whole-journal replay, no observer, no extra events) on two
    processes. False when the second process could not be used: fold serially then.
    Raises the replay's out-of-order signal like the serial fold does."""
    from invctl.replay import _OutOfOrder

    _, b = halves(run)
    files = run.state.files
    cut = _cut(files)
    down_r, down_w = os.pipe()  # parent -> child: the parent's half of the pre-pass
    up_r, up_w = os.pipe()  # child -> parent: the child's pre-pass, then its state
    try:
        pid = os.fork()
    except OSError:
        for fd in (down_r, down_w, up_r, up_w):
            os.close(fd)
        return False
    if pid == 0:  # the child: never returns
        code = 1
        try:
            progress.install(None)  # the parent draws it
            os.close(down_w)
            os.close(up_r)
            with os.fdopen(up_w, "wb") as out, os.fdopen(down_r, "rb") as inp:
                _send(out, _prescan(run, cut, len(files)))
                theirs = _receive(inp)
                if theirs is None:
                    raise EOFError("the parent gave up")
                _merge_found(run, msgspec.json.decode(theirs, type=_Found))
                run.skus, run.keep = b, True
                try:
                    run.run()
                    half = _Half("ok", state=cache.dump(run.state), last_ts=run.last_ts, last_id=run.last_id)
                except _OutOfOrder as exc:
                    half = _Half("out-of-order", file=exc.fi)
                _send(out, msgspec.json.encode(half))
            code = 0
        except BaseException:  # noqa: BLE001 - the parent folds serially instead
            pass
        finally:
            os._exit(code)
    os.close(down_r)
    os.close(up_w)
    try:
        with os.fdopen(down_w, "wb") as out, os.fdopen(up_r, "rb") as inp:
            mine = _prescan(run, 0, cut)
            theirs = _receive(inp)
            _send(out, mine)
            out.close()
            if theirs is None:
                return _abandon(run, pid)
            _merge_found(run, msgspec.json.decode(theirs, type=_Found))
            run.skus, run.keep = b, False  # everything the child does not fold
            try:
                run.run()
            except _OutOfOrder:
                _reap(pid, kill=True)
                raise
            answer = _receive(inp)
    except (OSError, msgspec.DecodeError):
        return _abandon(run, pid)
    if _reap(pid) != 0 or answer is None:
        return _abandon(run, pid)
    half = msgspec.json.decode(answer, type=_Half)
    if half.outcome == "out-of-order":
        raise _OutOfOrder(half.file)
    if half.outcome != "ok" or half.state is None:
        return _abandon(run, pid)
    other = State(run.state.ledger, files)
    try:
        cache.fill(other, half.state)
    except (ValueError, ArithmeticError):
        return _abandon(run, pid)
    _merge_state(run, other, half)
    run.skus, run.keep = None, True
    return True


def _prescan(run: _Run, lo: int, hi: int) -> bytes:
    state = run.state
    before_voided, before_returns = set(state.voided), dict(state.returns_ahead)
    run.prescan(range(lo, hi))
    found = _Found(sorted(state.voided - before_voided),
                   sorted((h, n - before_returns.get(h, 0)) for h, n in state.returns_ahead.items()
                          if n != before_returns.get(h, 0)))
    return msgspec.json.encode(found)


def _merge_found(run: _Run, found: _Found) -> None:
    state = run.state
    state.voided.update(found.voided)
    for h, n in found.returns:
        state.returns_ahead[h] = state.returns_ahead.get(h, 0) + n


def _merge_state(run: _Run, other: Any, half: _Half) -> None:
    state = run.state
    state.positions.update(other.positions)
    state.po_lines.update(other.po_lines)
    state.last_cost.update(other.last_cost)
    state.events += other.events
    seen = {(p.path, p.line, p.message) for p in state.problems}
    # Bad lines and torn tails are reported by both processes: keep one of each.
    state.problems.extend(p for p in other.problems if (p.path, p.line, p.message) not in seen)
    if half.last_ts is not None and (run.last_ts is None or (half.last_ts, half.last_id) > (run.last_ts, run.last_id)):
        run.last_ts, run.last_id = half.last_ts, half.last_id


def _send(out: Any, data: bytes) -> None:
    out.write(len(data).to_bytes(8, "big"))
    out.write(data)
    out.flush()


def _receive(inp: Any) -> bytes | None:
    head = inp.read(8)
    if len(head) != 8:
        return None
    size = int.from_bytes(head, "big")
    data = inp.read(size)
    return data if len(data) == size else None


def _reap(pid: int, kill: bool = False) -> int:
    if kill:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)


def _abandon(run: _Run, pid: int) -> bool:
    _reap(pid, kill=True)
    return False


