"""Appending events: the one path every writing command takes.

Under the ledger's lock: replay the journal with the new events in their place, let the
caller's check refuse them (oversell, unknown void target, ...), then append. Every new
line is decoded back before it is written, so a writer can never put a line in the
journal that the replay would reject.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from invctl import events as E
from invctl.errors import Refused
from invctl.ids import new_id
from invctl.journal import append, cut_back, locked
from invctl.numbers import Number
from invctl.replay import Effect, Source, State, replay
from invctl.settings import Ledger


@dataclass
class Outcome:
    """What a write did: the ids appended, each new event's effects, the final state."""

    ids: list[str]
    effects: dict[str, list[Effect]]
    after: dict[str, dict[tuple[str, str], Number]]  # id -> on hand per (sku, loc) right after it
    state: State
    notes: list[str] = field(default_factory=list)
    # Lowest on hand of each position a new event takes from, from that event to the end,
    # and when: a back-dated sale can leave a later sale short.
    lowest: dict[tuple[str, str], tuple[Number, dt.datetime]] = field(default_factory=dict)


Check = Callable[[State, "Outcome"], None]


def recorded_by() -> str:
    """Who records: $INVCTL_USER, else git's user.name, else the login name."""
    who = os.environ.get("INVCTL_USER")
    if who:
        return who
    try:
        out = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def new_fields(type_: str, ts: dt.datetime, **fields: Any) -> dict[str, Any]:
    """A new event's keys: a fresh id, ts to the second, the recorder; None values dropped."""
    out: dict[str, Any] = {"id": new_id(), "ts": ts.isoformat(timespec="seconds"), "type": type_}
    out.update({k: v for k, v in fields.items() if v is not None})
    out.setdefault("by", recorded_by())
    return out


class _Watch:
    """Observer that keeps the effects of the new events and on-hand right after each."""

    new_only = True  # it needs to see only the new events and what follows them

    def __init__(self, ids: set[str]):
        self.ids = ids
        self.reset()

    def reset(self) -> None:
        self.effects: dict[str, list[Effect]] = {}
        self.after: dict[str, dict[tuple[str, str], Number]] = {}
        self.lowest: dict[tuple[str, str], tuple[Number, dt.datetime]] = {}

    def __call__(self, state: State, ev: E.Event, src: Source, effects: list[Effect]) -> None:
        mine = ev.id in self.ids
        if mine:
            self.effects[ev.id] = effects
            self.after[ev.id] = {}
        for fx in effects:
            key = (fx.sku, fx.loc)
            pos = state.positions.get(key)
            qty = pos.qty if pos is not None else 0
            if mine:
                self.after[ev.id][key] = qty
                if fx.qty < 0 and key not in self.lowest:
                    self.lowest[key] = (qty, ev.ts)
            low = self.lowest.get(key)
            if low is not None and qty < low[0]:
                self.lowest[key] = (qty, ev.ts)


def record(ledger: Ledger, new: list[dict[str, Any]], check: Check | None = None,
           dry_run: bool = False) -> Outcome:
    """Append new events (a list of key dicts), all or nothing."""
    lines = [E.to_line(f) for f in new]
    events: list[E.Event] = []
    for line in lines:
        try:
            events.append(E.decoder.decode(line))
        except msgspec.DecodeError as exc:  # a bug in a command, not a user mistake
            raise Refused(f"internal error: refusing to write an invalid event: {E.describe_decode_error(exc)}") from None
    with locked(ledger):
        watch = _Watch({ev.id for ev in events})
        state = replay(ledger, observer=watch, extra=events, full=False)
        outcome = Outcome([ev.id for ev in events], watch.effects, watch.after, state, lowest=watch.lowest)
        bad = [p for p in state.problems if p.path == "(new event)" and p.severity == "error"]
        if bad:
            raise Refused(bad[0].message)
        if check is not None:
            check(state, outcome)
        if dry_run:
            return outcome
        by_file: dict[Path, list[bytes]] = {}
        for ev, line in zip(events, lines, strict=True):
            by_file.setdefault(ledger.month_file(ev.ts), []).append(line)
        done: list[tuple[Path, int]] = []
        try:
            for path, chunk in by_file.items():
                notes, start = append(ledger, path, b"".join(chunk))
                outcome.notes.extend(notes)
                done.append((path, start))
        except (Refused, OSError) as exc:
            # Events of several months go to several files: one that fails takes back the
            # lines already written to the others (all or nothing).
            left = [why for path, start in done if (why := cut_back(ledger, path, start))]
            if not left:
                raise
            raise Refused(f"{exc}; and the lines already written could not be taken back ({'; '.join(left)}): "
                          "run `invctl check`") from None
    return outcome
