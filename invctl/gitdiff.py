"""`invctl diff`: what changed in the stock between two git revisions of the ledger.

Each revision's ledger files (invctl.toml, items.toml, suppliers.toml, journal/**) are read
from git's object store (`git ls-tree`, then one `git cat-file --batch` for all blobs: exact
bytes, no export-ignore or export-subst attributes applied) into a temporary folder, which is
replayed like any ledger: its replay cache goes to the temporary folder's own `.invctl/`, never
to the user's. The working tree (the default second revision) is the ledger itself.

The ledger may be a subfolder of the repository: its path inside the repository
(`git rev-parse --show-prefix`) is where it is looked for in each revision. A revision that
has no ledger there counts as an empty ledger (everything in the other one is added).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from invctl import events as E
from invctl.costing import ZERO
from invctl.errors import Refused
from invctl.numbers import Number
from invctl.replay import State, replay
from invctl.reports import Column, Report
from invctl.settings import SETTINGS_FILE, Ledger, open_ledger

LEDGER_FILES = (SETTINGS_FILE, "items.toml", "suppliers.toml")

COLUMNS = [
    Column("sku", "SKU"),
    Column("name", "Name"),
    Column("loc", "Loc"),
    Column("on_hand_before", "Before", "qty"),
    Column("on_hand_after", "After", "qty"),
    Column("on_hand_change", "On hand ±", "qty"),
    Column("value_change", "Value ±", "money"),
    Column("on_order_change", "On order ±", "qty"),
]

EVENT_COLUMNS = [
    Column("change", "Change", wrap=False),
    Column("id", "Id", wrap=False),
    Column("ts", "Time", wrap=False),
    Column("type", "Type", wrap=False),
    Column("sku", "SKU", wrap=False),
    Column("loc", "Loc", wrap=False),
    Column("qty", "Qty", "qty"),
]


class _Line(msgspec.Struct, gc=False):
    """The keys `diff` lists of an event (a cheap decode: no validation of the rest)."""

    id: str
    type: str = ""
    ts: str = ""
    sku: str | None = None
    loc: str | None = None
    qty: Any = None
    target: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None


_line_decoder = msgspec.json.Decoder(_Line, float_hook=Decimal)


@dataclass
class Side:
    """One revision of the ledger, replayed: its state and its events by id."""

    label: str
    ledger: Ledger | None  # None: no ledger in this revision
    state: State | None
    events: dict[str, _Line] = field(default_factory=dict)
    voids: set[str] = field(default_factory=set)  # ids that a `voided` event targets


# --- git --------------------------------------------------------------------------------


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise Refused("git is not installed (or not on PATH); `invctl diff` needs it to read revisions") from None


def _prefix(ledger: Ledger) -> str:
    """The ledger's folder inside its repository ("" at the top, else ending in "/")."""
    p = _git(ledger.root, "rev-parse", "--show-prefix")
    if p.returncode != 0:
        raise Refused(f"{ledger.root} is not in a git repository; `invctl diff` compares git revisions "
                      "(commit the ledger first, see docs/git.md)")
    return p.stdout.decode().strip()


def _resolve(ledger: Ledger, rev: str) -> str:
    if rev.startswith("-"):
        raise Refused(f"unknown git revision {rev!r}; give a commit, branch or tag (see `git log`)")
    p = _git(ledger.root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if p.returncode != 0:
        raise Refused(f"unknown git revision {rev!r}; give a commit, branch or tag (see `git log`)")
    return p.stdout.decode().strip()


def _wanted(rel: str) -> bool:
    # git never stores "..", "." or empty path parts, but a crafted tree object could: such
    # a path would be written outside the temporary folder.
    if any(part in ("", ".", "..") for part in rel.split("/")):
        return False
    return rel in LEDGER_FILES or (rel.startswith("journal/") and rel.endswith(".jsonl"))


def materialise(ledger: Ledger, prefix: str, sha: str, dest: Path) -> bool:
    """Write the ledger files of commit ``sha`` into ``dest``; False if it has no ledger."""
    args = ["ls-tree", "-r", "-z", "--full-tree", sha]
    if prefix:
        args += ["--", prefix.rstrip("/")]
    p = _git(ledger.root, *args)
    if p.returncode != 0:
        raise Refused(f"git ls-tree {sha[:12]} failed: {p.stderr.decode(errors='replace').strip()}")
    blobs: list[tuple[str, str]] = []  # (oid, path relative to the ledger)
    for entry in p.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.decode(errors="surrogateescape").partition("\t")
        mode, kind, oid = meta.split()
        if kind != "blob" or mode == "120000" or not path.startswith(prefix):
            continue
        rel = path[len(prefix):]
        if _wanted(rel):
            blobs.append((oid, rel))
    if not any(rel == SETTINGS_FILE for _, rel in blobs):
        return False
    p = _git(ledger.root, "cat-file", "--batch", stdin="".join(f"{oid}\n" for oid, _ in blobs).encode())
    if p.returncode != 0:
        raise Refused(f"git cat-file failed: {p.stderr.decode(errors='replace').strip()}")
    out = p.stdout
    at = 0
    for _, rel in blobs:
        nl = out.index(b"\n", at)
        size = int(out[at:nl].split()[2])
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out[nl + 1: nl + 1 + size])
        at = nl + 1 + size + 1  # the content, then a newline
    return True


# --- the two sides ----------------------------------------------------------------------


def _read_events(ledger: Ledger, side: Side) -> None:
    """Ids and a few keys of every event (lines that do not decode are the replay's to report)."""
    from invctl.journal import list_files

    for path in list_files(ledger):
        for raw in path.read_bytes().splitlines():
            if not raw.strip():
                continue
            try:
                ev = _line_decoder.decode(raw)
            except E.DECODE_ERRORS:
                continue
            side.events.setdefault(ev.id, ev)
            if ev.type == "voided" and ev.target:
                side.voids.add(ev.target)


def _side(label: str, ledger: Ledger | None) -> Side:
    if ledger is None:
        return Side(label, None, None)
    side = Side(label, ledger, replay(ledger))
    ledger.catalog  # read now: a revision's temporary folder is gone once both are replayed  # noqa: B018
    _read_events(ledger, side)
    return side


@dataclass
class Diff:
    before: Side
    after: Side
    added: list[str]
    removed: list[str]
    voided: list[str]


def _merge_base(ledger: Ledger, a: str, b: str) -> str:
    p = _git(ledger.root, "merge-base", "--end-of-options", _resolve(ledger, a), _resolve(ledger, b))
    if p.returncode != 0:
        raise Refused(f"{a} and {b} have no common ancestor; compare them with `invctl diff {a} {b}`")
    return p.stdout.decode().strip()


def ranges(ledger: Ledger, rev1: str, rev2: str | None) -> tuple[str, str | None, str | None]:
    """Read git's range forms: ``A..B`` is ``A B``; ``A...B`` compares B with the merge base
    of A and B, so what A did since they parted is not shown as removed. An empty side is HEAD.

    Returns (rev1, rev2, merge-base sha or None).
    """
    if rev2 is not None:
        return rev1, rev2, None
    for sep in ("...", ".."):
        if sep in rev1:
            a, b = (x or "HEAD" for x in rev1.split(sep, 1))
            if sep == "..":
                return a, b, None
            return f"merge base of {a} and {b}", b, _merge_base(ledger, a, b)
    return rev1, rev2, None


def diff(ledger: Ledger, rev1: str, rev2: str | None = None) -> Diff:
    """Replay the ledger at ``rev1`` and at ``rev2`` (None: the working tree) and compare."""
    prefix = _prefix(ledger)
    rev1, rev2, base = ranges(ledger, rev1, rev2)
    shas = [base or _resolve(ledger, rev1), _resolve(ledger, rev2) if rev2 is not None else None]
    tmp = Path(tempfile.mkdtemp(prefix="invctl-diff-"))
    try:
        sides = []
        for i, (rev, sha) in enumerate(zip((rev1, rev2), shas, strict=True)):
            if sha is None:
                sides.append(_side("the working tree", ledger))
                continue
            dest = tmp / str(i)
            dest.mkdir()
            found = materialise(ledger, prefix, sha, dest)
            sides.append(_side(f"{rev} ({sha[:7]})", open_ledger(dest) if found else None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    before, after = sides
    added = sorted(set(after.events) - set(before.events))
    removed = sorted(set(before.events) - set(after.events))
    voided = sorted(after.voids - before.voids)
    return Diff(before, after, added, removed, voided)


# --- reports ----------------------------------------------------------------------------


def _figures(state: State | None) -> tuple[dict[tuple[str, str], tuple[Number, Decimal]], dict[tuple[str, str], Number]]:
    if state is None:
        return {}, {}
    return {k: (p.qty, p.value) for k, p in state.positions.items()}, state.on_order()


def stock_change(d: Diff) -> Report:
    """One row per (SKU, location) whose on-hand, value or on-order changed."""
    pos1, order1 = _figures(d.before.state)
    pos2, order2 = _figures(d.after.state)
    items = d.after.ledger.catalog.items if d.after.ledger is not None else {}
    rows = []
    total = ZERO
    for key in sorted(set(pos1) | set(pos2) | set(order1) | set(order2)):
        q1, v1 = pos1.get(key, (0, ZERO))
        q2, v2 = pos2.get(key, (0, ZERO))
        dq, dv, do = q2 - q1, v2 - v1, order2.get(key, 0) - order1.get(key, 0)
        if not (dq or dv or do):
            continue
        item = items.get(key[0])
        rows.append({
            "sku": key[0], "name": item.name if item else "(not in catalog)", "loc": key[1],
            "on_hand_before": q1, "on_hand_after": q2,
            "on_hand_change": dq, "value_change": dv, "on_order_change": do,
        })
        total += dv
    return Report(f"Stock change from {d.before.label} to {d.after.label}", COLUMNS, rows,
                  totals={"value_change": total}, notes=notes(d))


def event_list(d: Diff) -> Report:
    """The events added, voided and removed, in time order."""
    rows = []
    for change, ids, side in (("added", d.added, d.after), ("voided", d.voided, d.after), ("removed", d.removed, d.before)):
        for ev_id in ids:
            ev = side.events.get(ev_id) or d.before.events.get(ev_id)
            rows.append({
                "change": change, "id": ev_id,
                "ts": ev.ts if ev else None, "type": ev.type if ev else None,
                "sku": ev.sku if ev else None,
                "loc": (ev.loc or (f"{ev.from_}>{ev.to}" if ev.from_ else None)) if ev else None,
                "qty": ev.qty if ev and isinstance(ev.qty, (int, str, Decimal)) else None,
            })
    rows.sort(key=lambda r: (r["ts"] or "", r["id"]))
    for r in rows:
        if isinstance(r["qty"], str):
            from invctl.numbers import parse_qty

            try:
                r["qty"] = parse_qty(r["qty"])
            except (ValueError, ArithmeticError):
                r["qty"] = None
    return Report(f"Events changed from {d.before.label} to {d.after.label}", EVENT_COLUMNS, rows, notes=notes(d))


def summary(d: Diff) -> str:
    text = f"{len(d.added)} events added, {len(d.voided)} voided"
    if d.removed:
        text += f", {len(d.removed)} removed"
    return f"{text} from {d.before.label} to {d.after.label}"


def notes(d: Diff) -> list[str]:
    out = []
    if d.removed:
        out.append(f"{len(d.removed)} events of {d.before.label} are gone from {d.after.label}: journal lines were "
                   "deleted or edited (correct with new events instead; see docs/git.md)")
    for side in (d.before, d.after):
        errors = [p for p in side.state.problems if p.severity == "error"] if side.state else []
        if errors:
            more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
            out.append(f"{side.label}: {errors[0]}{more}: left out of these figures; run `invctl check`")
    return out
