"""The replay: the journal's events, in (ts, id) order, fed to the fold (invctl/fold.py).

Streaming: month files are read 4 MiB at a time, in month order, and each line is folded
as soon as it is decoded, holding back only the events near a month's end (offsets make
neighbouring months overlap by at most a day). Memory grows with SKUs, open lots and PO
lines, not with events. A line out of (ts, id) order (a back-dated line appended later,
or one in the wrong month file) makes the replay start over with every file sorted;
which files needed it is remembered in `.invctl/unsorted.json`, so the next replay sorts
just those up front: slower, never wrong.

Voids and returns look at other events (a void removes an earlier event; a return is
restocked at the cost of its order's sale), so a pre-pass picks out the few lines that
mention them (a byte search, then a tiny decode) before the fold starts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from invctl import events as E
from invctl import rawcheck
from invctl.errors import Problem
from invctl.files import make_dirs, write_atomic
from invctl.fold import _HANDLERS, Effect, Observer, POLine, Source, State
from invctl.journal import decode_error, file_month, list_files
from invctl.settings import Ledger

__all__ = ["Effect", "Observer", "POLine", "Source", "State", "replay"]

_MARGIN = dt.timedelta(hours=24)  # any UTC offset is within a day of the month's start


class _Note(msgspec.Struct, gc=False):
    """Just the keys the pre-pass needs from a void or a return (decodes fast)."""

    type: str
    target: str | None = None
    order: str | None = None
    sku: str | None = None
    restock: bool = True


_note_decoder = msgspec.json.Decoder(_Note)


def _lines_with(data: bytearray, needle: bytes, end: int) -> Iterator[bytes]:
    """The lines of ``data[:end]`` in which ``needle`` occurs (find is far faster than a regex)."""
    at = data.find(needle, 0, end)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at, end)
        yield bytes(data[start:stop])
        at = data.find(needle, stop, end)


def _lines_at(data: bytearray, needle: bytes, end: int) -> Iterator[int]:
    """Where each line of ``data[:end]`` holding ``needle`` starts."""
    at = data.find(needle, 0, end)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        yield start
        stop = data.find(b"\n", at, end)
        if stop < 0:
            return
        at = data.find(needle, stop, end)


# --- the driver ------------------------------------------------------------------------

Entry = tuple[dt.datetime, str, int, int, Any]  # (ts, id, file index, line, event)
_CHUNK = 1 << 22  # read journals 4 MiB at a time: memory stays flat however big a month is
_HINTS = "unsorted.json"


class _OutOfOrder(Exception):
    """A file's lines are not in (ts, id) order: it must be sorted before folding."""

    def __init__(self, fi: int):
        self.fi = fi


class _Stop(Exception):
    pass


def _chunks(path: Path, start: int = 0, line: int = 1, ends: dict[Path, tuple[int, int]] | None = None,
            tick: Callable[[int], None] | None = None) -> Iterator[tuple[int, Any, int]]:
    """(first line number, data, lines): complete lines from ``start`` and how many, then
    a torn tail if there is one (lines = 0). ``ends`` gets where the complete lines end
    (offset, newlines so far); ``tick`` the number of bytes read after each chunk.

    The data of complete lines is a memoryview of one reused buffer (its ``obj``, a
    bytearray, for searching): valid until the next chunk is asked for. Reading into one
    buffer, without a bytes object per read and a copy per chunk, halves the cost of
    reading a journal."""
    buf = bytearray(_CHUNK)
    have = 0  # bytes in buf, the first ones the incomplete line left by the last chunk
    offset = start
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        while True:
            if have == len(buf):  # a line longer than the buffer: a bigger one
                buf = buf + bytearray(len(buf))
            with memoryview(buf) as view:
                got = fh.readinto(view[have:])
            if not got:
                break
            have += got
            cut = buf.rfind(b"\n", 0, have) + 1
            if cut:
                n = buf.count(b"\n", 0, cut)
                with memoryview(buf) as view:
                    yield line, view[:cut], n
                line += n
                offset += cut
                if tick is not None:
                    tick(cut)
                buf[: have - cut] = buf[cut:have]  # same length: no resize under a view
                have -= cut
    if ends is not None:
        ends[path] = (offset, line - 1)
    if have:
        yield line, bytes(buf[:have]), 0


class _Run:
    """One replay: the pre-pass, the ordered stream of events, and the fold."""

    def __init__(self, state: State, until: dt.datetime | None, observer: Observer | None,
                 skus: set[str] | None, extra: list[E.Event], full: bool, sort_all: bool, unsorted: set[int]):
        self.state = state
        self.until = until
        self.observer = observer
        self.skus = skus  # fold only events of these SKUs ...
        self.keep = True  # ... or, when False, only those not of these SKUs (see parallel.py)
        self.extra = extra
        self.decode = E.decoder.decode if full else E.lean_decoder.decode
        self.decode_lines = E.decoder.decode_lines if full else E.lean_decoder.decode_lines
        self.sort_all = sort_all
        self.unsorted = unsorted
        self.sortedness: dict[int, bool] = {}
        self.starts: dict[int, tuple[int, int]] | None = None  # only these files, from there (cache)
        self.ends: dict[Path, tuple[int, int]] = {}
        self.last_ts: dt.datetime | None = None
        self.last_id = ""
        self.done = False  # an event at or after `until` was reached
        self.tick: Callable[[int], None] | None = None  # progress: bytes read

    # --- the pre-pass: voids, orders with returns, lines in the wrong month file ---------

    def _spans(self, only: range | None = None) -> Iterator[tuple[int, Path, int, int]]:
        """(file index, path, start offset, first line) of what this run reads."""
        for fi, path in enumerate(self.state.files):
            if only is not None and fi not in only:
                continue
            if self.starts is None:
                yield fi, path, 0, 1
            elif fi in self.starts:
                yield fi, path, *self.starts[fi]

    def prescan(self, only: range | None = None) -> None:
        for _, path, start, line in self._spans(only):
            for _, chunk, lines in _chunks(path, start, line):
                if lines:
                    for needle in (b'"voided"', b'"returned"'):
                        for raw in _lines_with(chunk.obj, needle, chunk.nbytes):
                            self._note(raw)

    def _note(self, raw: bytes) -> None:
        try:
            ev = _note_decoder.decode(raw)
        except E.DECODE_ERRORS:
            return  # reported by the main pass
        if ev.type == "voided" and ev.target is not None:
            self.state.voided.add(ev.target)
        elif ev.type == "returned" and ev.restock is True and ev.order is not None and ev.sku is not None:
            _expect_return(self.state, ev.order, ev.sku)

    # --- the ordered stream ------------------------------------------------------

    def _progress(self) -> None:
        """Report bytes read to a progress drawer, if one is installed (invctl/progress.py)."""
        from invctl import progress

        self.tick = None
        total = 0
        for _, path, start, _ in self._spans():
            with contextlib.suppress(OSError):
                total += path.stat().st_size - start
        report = progress.ticker("Replaying the journal", total)
        if report is not None:
            done = 0

            def tick(nbytes: int) -> None:
                nonlocal done
                done += nbytes
                report(done)

            self.tick = tick

    def run(self) -> State:
        state = self.state
        n = len(state.files)
        self._progress()
        pending: list[Entry] = sorted(
            (ev.ts, ev.id, n, i + 1, ev) for i, ev in enumerate(self.extra) if ev.id not in state.voided
        )
        try:
            if self.sort_all:
                everything = pending
                for fi in range(n):
                    everything.extend(self._load(fi))
                everything.sort()
                for entry in everything:
                    self._emit(entry)
                    if self.done:
                        break
            else:
                for fi, path, _, _ in self._spans():
                    nxt = file_month(state.files[fi + 1]) if fi + 1 < n else None
                    bound = dt.datetime(nxt[0], nxt[1], 1, tzinfo=dt.UTC) - _MARGIN if nxt else None
                    pending = self._file(fi, path, pending, bound)
                    if self.done:
                        raise _Stop
                for entry in pending:
                    self._emit(entry)
        except _Stop:
            pass
        return state

    def _file(self, fi: int, path: Path, pending: list[Entry], bound: dt.datetime | None) -> list[Entry]:
        """Fold one file's events, merging in pending ones; returns what must wait for the next file."""
        later: list[Entry] = []
        if fi not in self.unsorted and self.observer is None and not self.done:
            pending = self._fast(fi, path, pending, bound, later)
            return sorted(pending + later)  # `later` is in file order, which may not be time order
        source = iter(sorted(self._load(fi))) if fi in self.unsorted else self._lines(fi, path)
        for entry in source:
            ts = entry[0]
            while pending and pending[0] < entry:
                self._emit(pending.pop(0))
            if bound is not None and ts >= bound:
                later.append(entry)
            else:
                self._emit(entry)
        return sorted(pending + later)  # `later` is in file order, which may not be time order

    def _fast(self, fi: int, path: Path, pending: list[Entry], bound: dt.datetime | None,
              later: list[Entry]) -> list[Entry]:
        """The common case, inlined: a file in order, folded line by line as it is decoded.

        Does what ``_lines`` + ``_emit`` do, without a generator or a tuple per event
        (reports with an observer take the general path). Returns the pending events
        still to merge; events for the next file's time go to ``later``.
        """
        state = self.state
        voided = state.voided
        skus = self.skus
        keep = self.keep
        until = self.until
        handlers = _HANDLERS
        sold: Any = E.LEAN[E.Sold]
        fifo = not state.average
        returns_ahead = state.returns_ahead
        positions = state.positions
        problems = state.problems
        last_ts, last_id = self.last_ts, self.last_id
        tz = None
        bound_here = until_here = None
        done = self.done
        folded = 0
        start, line0 = self.starts.get(fi, (0, 1)) if self.starts is not None else (0, 1)
        for first, chunk, lines in _chunks(path, start, line0, self.ends, self.tick):
            if not lines:
                problems.append(_torn(state, path, first, chunk))
                continue
            line = first - 1
            for ev in self._decode(chunk, path, first, lines):
                line += 1
                if ev is None:
                    continue
                if skus is not None and (getattr(ev, "sku", None) in skus) is not keep:
                    continue
                id_ = ev.id
                if id_ in voided:
                    continue
                ts = ev.ts
                if ts.tzinfo is not tz:
                    # Datetimes sharing one tzinfo object compare without computing offsets.
                    tz = ts.tzinfo
                    bound_here = bound.astimezone(tz) if bound is not None else None
                    until_here = until.astimezone(tz) if until is not None else None
                if pending:
                    entry = (ts, id_, fi, line, ev)
                    while pending and pending[0] < entry:
                        self.last_ts, self.last_id, self.done = last_ts, last_id, done
                        self._emit(pending.pop(0))
                        last_ts, last_id, done = self.last_ts, self.last_id, self.done
                if bound_here is not None and ts >= bound_here:
                    later.append((ts, id_, fi, line, ev))
                    continue
                if last_ts is not None and (ts < last_ts or (ts == last_ts and id_ <= last_id)):
                    if ts == last_ts and id_ == last_id:
                        continue  # the same event twice: it happened once (see _emit)
                    raise _OutOfOrder(fi)
                last_ts, last_id = ts, id_
                if done or (until_here is not None and ts >= until_here):
                    done = True
                    continue
                if type(ev) is sold and fifo:
                    # State._sold's common case, inlined (most events are sales, and a call
                    # per event is a tenth of a replay): the first cost layer covers it.
                    qty = ev.qty
                    if type(qty) is int and qty > 0:
                        pos = positions.get((ev.sku, ev.loc))
                        if pos is not None and pos.layers:
                            layer = pos.layers[0]
                            order = ev.order
                            if layer.qty > qty and (order is None or hash((order, ev.sku)) not in returns_ahead):
                                layer.qty -= qty
                                cost = qty * layer.cost
                                pos.qty -= qty
                                pos.value -= cost
                                pos.last_sold = ts
                                folded += 1
                                continue
                try:
                    handlers[type(ev)](state, ev, (fi, line))
                except ValueError as exc:
                    problems.append(Problem(state.ledger.rel(path), line, str(exc)))
                    continue
                folded += 1
        self.last_ts, self.last_id = last_ts, last_id
        self.done = done
        state.events += folded
        return pending

    def _lines(self, fi: int, path: Path) -> Iterator[Entry]:
        state = self.state
        voided = state.voided
        skus = self.skus
        start, line0 = self.starts.get(fi, (0, 1)) if self.starts is not None else (0, 1)
        for first, chunk, lines in _chunks(path, start, line0, self.ends, self.tick):
            if not lines:
                state.problems.append(_torn(state, path, first, chunk))
                continue
            for line, ev in enumerate(self._decode(chunk, path, first, lines), first):
                if ev is None:
                    continue
                if ev.id in voided:
                    continue
                if skus is not None and (getattr(ev, "sku", None) in skus) is not self.keep:
                    continue
                yield (ev.ts, ev.id, fi, line, ev)

    def _decode(self, chunk: memoryview, path: Path, first: int, lines: int) -> list[Any]:
        """The events of a chunk of complete lines, one per line (None for a blank or bad
        line, which is reported). One call for the whole chunk when every line is good."""
        try:
            evs: list[Any] = self.decode_lines(chunk)
            if len(evs) == lines:  # no blank line: the i-th event is the i-th line
                if rawcheck.may_hold_control(chunk.obj, chunk.nbytes):
                    self._controls(chunk.obj, chunk.nbytes, path, first, evs)
                return evs
        except E.DECODE_ERRORS:
            pass
        evs = []
        decode = self.decode
        problems = self.state.problems
        for line, raw in enumerate(bytes(chunk).split(b"\n")[:-1], first):
            try:
                ev = decode(raw)
            except E.DECODE_ERRORS as exc:
                evs.append(None)
                if raw.strip():
                    problems.append(decode_error(self.state.ledger.rel(path), line, exc))
                continue
            why = rawcheck.control_problem(raw, c1=False) if rawcheck.may_hold_control(raw) else None
            if why is not None:
                problems.append(Problem(self.state.ledger.rel(path), line, why))
                ev = None
            evs.append(ev)
        return evs

    def _controls(self, data: Any, end: int, path: Path, first: int, evs: list[Any]) -> None:
        """Leave out (and report) the lines of ``data[:end]`` holding a control character.

        Only the lines with a backslash or a DEL byte are looked at (see
        rawcheck.may_hold_control); clean journals have none.
        """
        marks = sorted({*_lines_at(data, b"\\", end), *_lines_at(data, b"\x7f", end)})
        line, counted = first, 0
        for start in marks:
            line += data.count(b"\n", counted, start)
            counted = start
            stop = data.find(b"\n", start, end)
            why = rawcheck.control_problem(bytes(data[start:stop]), c1=False)
            if why is not None:
                self.state.problems.append(Problem(self.state.ledger.rel(path), line, why))
                evs[line - first] = None

    def _load(self, fi: int) -> list[Entry]:
        out = list(self._lines(fi, self.state.files[fi]))
        self.sortedness[fi] = all(a <= b for a, b in zip(out, out[1:], strict=False)) if out else True
        return out

    # --- the fold ----------------------------------------------------------------

    def _emit(self, entry: Entry) -> None:
        ts, id_, fi, line, ev = entry
        last = self.last_ts
        if last is not None and (ts < last or (ts == last and id_ <= self.last_id)):
            if ts == last and id_ == self.last_id:
                # The same event twice (a line copied by hand, or kept by both sides of a
                # merge): it happened once. `check` reports the duplicate id.
                return
            raise _OutOfOrder(fi)
        self.last_ts, self.last_id = ts, id_
        if self.until is not None and ts >= self.until:
            # Past the end: the rest of this file is still read to prove it is in order
            # (an earlier line further down would mean this file needs sorting).
            self.done = True
            return
        if self.done:
            return
        state = self.state
        try:
            effects = _HANDLERS[type(ev)](state, ev, (fi, line))
        except ValueError as exc:
            path, _ = state.where((fi, line))
            state.problems.append(Problem(path, line, str(exc)))
            return
        state.events += 1
        if self.observer is not None:
            self.observer(state, ev, (fi, line), effects)


def _torn(state: State, path: Path, line: int, tail: bytes) -> Problem:
    return Problem(
        state.ledger.rel(path), line,
        f"torn last line ({len(tail)} bytes, no newline: a write was cut off); it is left out of "
        "replay; run `invctl check --repair` to set it aside",
    )


def _read_hints(ledger: Ledger, files: list[Path]) -> set[int]:
    try:
        names = set(msgspec.json.decode((ledger.state_dir / _HINTS).read_bytes(), type=list[str]))
    except (OSError, msgspec.DecodeError):
        return set()
    return {fi for fi, path in enumerate(files) if ledger.rel(path) in names}


def _write_hints(ledger: Ledger, files: list[Path], unsorted: set[int]) -> None:
    """Remember which files are not in order, so the next replay sorts just those up front."""
    names = sorted(ledger.rel(files[fi]) for fi in unsorted if fi < len(files))
    try:
        make_dirs(ledger.state_dir)
        write_atomic(ledger.state_dir / _HINTS, msgspec.json.encode(names), keep_mode=False)
    except OSError:
        pass  # a read-only ledger just replays a little slower next time


def replay(ledger: Ledger, *, until: dt.datetime | None = None, observer: Observer | None = None,
           skus: set[str] | None = None, extra: list[E.Event] | None = None, full: bool | None = None) -> State:
    """Fold the ledger's journal into a State.

    ``until``: only events with ts before this instant. ``observer``: called with the
    state, each applied event, its source and its effects (reports build on it); if it
    has a ``reset()`` method, that is called before a replay starts over. ``skus``: only
    these SKUs (faster for one item's history). ``extra``: events not yet written,
    replayed in their place as if they were (a writer checks its decision this way);
    their source has the file index ``len(state.files)``. ``full``: decode every key of
    every event (default: only when there is an observer; the fold itself needs few).

    A whole-ledger replay starts from the cache in `.invctl/cache/` when it can and folds
    only what was appended since. With ``extra`` and an observer whose ``new_only`` is
    true (a writer's), the new events are then folded on top when they come after
    everything else, and the observer sees just those.
    """
    files = list_files(ledger)
    extra = extra or []
    if until is None and skus is None and (observer is None or (extra and getattr(observer, "new_only", False))):
        base = _cached(ledger, files)
        if base is not None:
            state, last = base
            if not extra:
                return state
            if _on_top(extra, state, last):
                return _fold_extra(state, last, extra, observer)
    return _full(ledger, files, until, observer, skus, extra, full)


def _on_top(extra: list[E.Event], state: State, last: tuple[dt.datetime | None, str]) -> bool:
    """Whether new events can be folded on top of a state: after it, and not looking back."""
    for ev in extra:
        if last[0] is not None and (ev.ts, ev.id) <= (last[0], last[1]):
            return False  # back-dated: it goes somewhere in the middle
        if isinstance(ev, E.Voided):
            return False
        if isinstance(ev, E.Returned) and ev.restock and ev.order is not None:
            # It needs its order's sale cost. A state from the cache cannot be trusted for
            # it: `returns_ahead` is not saved (hashes differ between processes), so sales
            # folded on top of a restored state are not added to an `order_cogs` entry left
            # over by a voided or duplicated return, and the return would be valued at a
            # stale cost. (After a full replay no other entry is left: nothing is lost.)
            return False
    return True


def _fold_extra(state: State, last: tuple[dt.datetime | None, str], extra: list[E.Event],
                observer: Observer | None) -> State:
    state.observing = observer is not None
    run = _Run(state, None, observer, None, extra, False, False, set())
    run.last_ts, run.last_id = last
    n = len(state.files)
    for entry in sorted((ev.ts, ev.id, n, i + 1, ev) for i, ev in enumerate(extra)):
        run._emit(entry)
    return state


def _cached(ledger: Ledger, files: list[Path]) -> tuple[State, tuple[dt.datetime | None, str]] | None:
    """The state of the whole journal from the cache plus what was appended since (the
    cache is brought up to date), or from a full replay (which refills it)."""
    from invctl import cache

    settings = cache.settings_digest(ledger)  # before anything is read (see there)
    hit = cache.load(ledger, files, settings)
    if hit is not None:
        state, starts, sizes, last = hit
        run = _Run(state, None, None, None, [], False, False, set())
        run.starts = starts
        run.last_ts, run.last_id = last
        if starts:
            before = len(state.voided)
            run.prescan()
            if len(state.voided) != before or state.returns_ahead:
                hit = None  # a void or a return that looks back: only a full replay is right
            else:
                try:
                    run.run()
                except _OutOfOrder:
                    hit = None  # a back-dated line
            if hit is not None:
                sizes.update({fi: run.ends[path] for fi, path in enumerate(files) if path in run.ends})
                cache.save(ledger, state, files, sizes, (run.last_ts, run.last_id), settings)
        if hit is not None:
            return state, (run.last_ts, run.last_id)
    state, run = _replay_all(ledger, files, None, None, None, [], False)
    cache.save(ledger, state, files, {fi: run.ends[p] for fi, p in enumerate(files) if p in run.ends},
               (run.last_ts, run.last_id), settings)
    return state, (run.last_ts, run.last_id)


def _full(ledger: Ledger, files: list[Path], until: dt.datetime | None, observer: Observer | None,
          skus: set[str] | None, extra: list[E.Event], full: bool | None) -> State:
    state, _ = _replay_all(ledger, files, until, observer, skus, extra, observer is not None if full is None else full)
    return state


def _replay_all(ledger: Ledger, files: list[Path], until: dt.datetime | None, observer: Observer | None,
                skus: set[str] | None, extra: list[E.Event], full: bool) -> tuple[State, _Run]:
    hinted = _read_hints(ledger, files)
    if observer is not None and not hasattr(observer, "reset"):
        hinted = set(range(len(files)))  # it cannot start over: sort each file before folding it
    sort_all = False

    def start() -> _Run:
        state = State(ledger, files)
        state.observing = observer is not None
        return _Run(state, until, observer, skus, extra, full, sort_all, hinted)

    while True:
        run = start()
        try:
            split = _splittable(run)
            if not (split and _parallel().fold(run)):
                if split:
                    run = start()  # the second process failed: start over, serially
                run.prescan()
                _add_extra(run.state, extra)
                run.run()
        except _OutOfOrder:
            # A file is not in order (a back-dated line appended later): start over with
            # every file sorted, and remember which ones need it for next time.
            if sort_all:
                raise
            reset = getattr(observer, "reset", None)
            if observer is not None and reset is None:
                raise
            if reset is not None:
                reset()
            sort_all = True
            continue
        if sort_all:
            _write_hints(ledger, files, {fi for fi, ok in run.sortedness.items() if not ok})
        run.state.sort_problems()  # the split replay meets them in another order
        return run.state, run


def _splittable(run: _Run) -> bool:
    """Whether to fold on two processes (invctl/parallel.py): a big whole-journal replay."""
    if run.observer is not None or run.extra or run.sort_all or run.skus is not None:
        return False
    return _parallel().worth_it(run)


def _parallel() -> Any:
    from invctl import parallel

    return parallel


def _add_extra(state: State, extra: list[E.Event]) -> None:
    for ev in extra:
        if isinstance(ev, E.Voided):
            state.voided.add(ev.target)
        elif isinstance(ev, E.Returned) and ev.restock and ev.order is not None:
            _expect_return(state, ev.order, ev.sku)


def _expect_return(state: State, order: str, sku: str) -> None:
    h = hash((order, sku))
    state.returns_ahead[h] = state.returns_ahead.get(h, 0) + 1
