"""The ledger under real git: clones that append to the same month file and merge, with
and without the `merge=union` rule `invctl init` writes; a torn line merged in; and
`invctl check` as a pre-commit hook (examples/git/pre-commit) and the examples/git recipe.

Everything runs the installed `invctl` binary and the real `git`, with git's global and
system configuration switched off and an identity given by environment variables, so the
tests behave the same on a fresh machine with no git identity.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import stat
import subprocess
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import model
import pytest
from conftest import BIN

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "examples" / "git" / "pre-commit"
TWO_SHOPS = ROOT / "examples" / "git" / "two-shops.sh"
MONTH = "journal/2026/2026-11.jsonl"
CATALOG_COST = {"TEE-M": "6.50", "MILK": "1.10"}
# A clean environment for git: no user or system config (a hooksPath, gpgsign or another
# default branch there would change what these tests see), and an identity to commit with.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Tester", "GIT_AUTHOR_EMAIL": "tester@example.com",
    "GIT_COMMITTER_NAME": "Tester", "GIT_COMMITTER_EMAIL": "tester@example.com",
    "GIT_TERMINAL_PROMPT": "0",
    # The hook finds `invctl` on PATH, as it would for a user who installed it.
    "PATH": f"{BIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
}


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, **extra}


def git_run(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env(**extra), timeout=60)


def git(cwd: Path, *args: str, **extra: str) -> str:
    p = git_run(cwd, *args, **extra)
    assert p.returncode == 0, f"git {' '.join(args)} in {cwd}: {p.stdout}{p.stderr}"
    return p.stdout.strip()


def inv_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], cwd=cwd, capture_output=True, text=True, env=env(), timeout=120)


def inv(cwd: Path, *args: str) -> str:
    p = inv_run(cwd, *args)
    assert p.returncode == 0, f"invctl {' '.join(args)} in {cwd} failed ({p.returncode}): {p.stderr}"
    return p.stdout.strip()


def events_of(clone: Path, *, skip_bad: bool = False) -> dict[str, dict[str, Any]]:
    """The complete events of a clone's journal, by id (a torn last line is not one; with
    ``skip_bad``, neither is a line that is not JSON)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((clone / "journal").rglob("*.jsonl")):
        for raw in path.read_bytes().splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                continue
            try:
                ev = json.loads(raw)
            except ValueError:
                if skip_bad:
                    continue
                raise
            out[ev["id"]] = ev
    return out


def stock(clone: Path) -> dict[tuple[str, str], tuple[int, Decimal]]:
    rows = json.loads(inv(clone, "stock", "--format", "json"))
    return {(r["sku"], r["loc"]): (r["on_hand"], Decimal(r["value"])) for r in rows if r["on_hand"] or Decimal(r["value"])}


def expected_stock(events: dict[str, dict[str, Any]]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """What the union of all events must give, from the naive model (tests/model.py), which
    shares no code with invctl; on hand is also checked against a plain sum."""
    m = model.run(events.values(), average=False, catalog_cost=CATALOG_COST)
    out = {}
    for key, pos in m.positions.items():
        value = m.value(*key)
        assert 100 % value.denominator == 0, "costs have 2 decimals, so do values"
        if pos.qty or value:
            out[key] = (pos.qty, Decimal(value.numerator) / Decimal(value.denominator))
    plain: dict[tuple[str, str], int] = {}
    for ev in events.values():
        sign = {"received": 1, "sold": -1}[ev["type"]]
        plain[(ev["sku"], ev["loc"])] = plain.get((ev["sku"], ev["loc"]), 0) + sign * ev["qty"]
    assert {k: q for k, (q, _) in out.items()} == {k: q for k, q in plain.items() if q}
    return out


def make_origin(tmp_path: Path, *, union: bool = True) -> Path:
    """A bare repository holding a ledger made with `invctl init` (which also ran `git init`)
    and its opening stock; ``union=False`` commits it without the merge=union line."""
    seed = tmp_path / "seed"
    inv(tmp_path, "init", str(seed), "--currency", "EUR", "--timezone", "Europe/Berlin",
        "--location", "main", "--location", "store2")
    assert (seed / ".git").is_dir(), "invctl init runs git init"
    from invctl.create import MERGE_DRIVER

    assert git(seed, "config", "merge.invctl-toml.driver") == MERGE_DRIVER, "invctl init sets the merge driver"
    attributes = (seed / ".gitattributes").read_text(encoding="utf-8")
    assert re.search(r"(?m)^journal/\*\* merge=union$", attributes), attributes
    if not union:
        (seed / ".gitattributes").write_text(attributes.replace("journal/** merge=union\n", ""), encoding="utf-8")
    for sku, cost in CATALOG_COST.items():
        inv(seed, "item", "add", sku, "--name", sku, "--price", "9.90", "--cost", cost)
    for loc in ("main", "store2"):
        for sku in CATALOG_COST:
            inv(seed, "receive", sku, "1000", "--cost", "5.00", "--loc", loc, "--at", "2026-11-01T00:00")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "Opening stock")
    git(seed, "branch", "-M", "main")
    assert git(seed, "check-attr", "merge", "--", MONTH).endswith("merge: " + ("union" if union else "unspecified"))
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    return origin


def clone(origin: Path, dest: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    return dest


def record(rng: random.Random, side: Path, loc: str, day: int) -> list[str]:
    """A receipt and a sale with random amounts at random times of ``day``; their ids."""
    sku = rng.choice(sorted(CATALOG_COST))
    at = f"2026-11-{day:02d}T{rng.randrange(8, 20):02d}:{rng.randrange(60):02d}"
    ids = [inv(side, "receive", sku, str(rng.randrange(1, 31)), "--cost", f"{rng.randrange(100, 1000) / 100:.2f}",
               "--loc", loc, "--at", at)]
    sku = rng.choice(sorted(CATALOG_COST))
    at = f"2026-11-{rng.randrange(2, 29):02d}T{rng.randrange(8, 20):02d}:{rng.randrange(60):02d}"
    ids.append(inv(side, "sell", sku, str(rng.randrange(1, 6)), "--price", "9.90", "--loc", loc, "--at", at))
    return ids


def commit_all(side: Path, message: str) -> None:
    git(side, "add", "-A")
    git(side, "commit", "-q", "-m", message)


def pull_after_push(a: Path, b: Path, *how: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Both clones commit what they recorded; ``a`` pushes first, then ``b`` pulls (a merge,
    unless ``how`` says otherwise): the parallel work of two shops meeting."""
    commit_all(a, "a")
    git(a, "push", "-q")
    commit_all(b, "b")
    return git_run(b, "pull", *(how or ("--no-rebase", "--no-edit")), **extra)


def parents(side: Path) -> int:
    return len(git(side, "rev-list", "--parents", "-n", "1", "HEAD").split()) - 1


# --- merges of parallel appends -----------------------------------------------------------


def test_ten_merge_rounds_with_the_union_rule(tmp_path: Path) -> None:
    """Two clones append to the same month file in parallel, round after round (the sides
    take turns at pushing first): every pull merges without a conflict, the merge holds
    every event of both sides exactly once, `check --strict` is clean, and the stock the
    merged clone shows is what the naive model makes of the union of both sides' events."""
    rng = random.Random(20261126)
    origin = make_origin(tmp_path)
    sides = {"main": clone(origin, tmp_path / "a"), "store2": clone(origin, tmp_path / "b")}
    recorded = set(events_of(sides["main"]))
    merges = 0
    for rnd in range(10):
        first, second = ("main", "store2") if rnd % 2 == 0 else ("store2", "main")
        pushed, merging = sides[first], sides[second]
        for loc in (first, second):
            recorded.update(record(rng, sides[loc], loc, day=2 + rnd))
        both = {**events_of(pushed), **events_of(merging)}
        commit_all(pushed, f"round {rnd}: {first}")
        git(pushed, "push", "-q")
        commit_all(merging, f"round {rnd}: {second}")
        pull = git_run(merging, "pull", "--no-rebase", "--no-edit")
        merges += 1
        assert pull.returncode == 0, f"round {rnd}: {pull.stdout}{pull.stderr}"
        assert parents(merging) == 2, "a real merge, not a fast-forward"
        assert "<<<<<<<" not in (merging / MONTH).read_text(encoding="utf-8")
        journals = sorted(str(p.relative_to(merging)) for p in (merging / "journal").rglob("*.jsonl"))
        assert journals == [MONTH], "all events landed in one month file"
        lines = (merging / MONTH).read_bytes().splitlines()
        ids = [json.loads(raw)["id"] for raw in lines]
        assert len(ids) == len(set(ids)), "no event twice"
        assert set(ids) == set(both) == recorded
        check = inv_run(merging, "check", "--strict")
        assert (check.returncode, check.stdout, check.stderr.strip()) == (0, "", "ledger OK")
        assert stock(merging) == expected_stock(both)
        git(merging, "push", "-q")
        git(pushed, "pull", "-q", "--no-rebase", "--no-edit")  # a fast-forward
        assert (pushed / MONTH).read_bytes() == (merging / MONTH).read_bytes()
    assert merges == 10
    assert len(recorded) == 4 + 10 * 4


def test_pull_with_rebase_works_too(tmp_path: Path) -> None:
    """docs/git.md says merge or rebase both work: `git pull --rebase` replays one clone's
    commits (with merge-toml for a new item each) on the other's without a conflict; the
    history is linear and stock equals the model of both sides' events."""
    from invctl.create import setup_merge_driver

    rng = random.Random(11)
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    setup_merge_driver(b)
    record(rng, a, "main", day=4)
    inv(a, "item", "add", "CAP", "--name", "Cap")
    record(rng, b, "store2", day=4)
    inv(b, "item", "add", "SCARF", "--name", "Scarf")
    pull = pull_after_push(a, b, "--rebase")
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert parents(b) == 1  # rebased, not merged
    assert "[CAP]" in (b / "items.toml").read_text() and "[SCARF]" in (b / "items.toml").read_text()
    assert inv_run(b, "check", "--strict").returncode == 0
    assert stock(b) == expected_stock({**events_of(a), **events_of(b)})


def test_without_the_union_rule_the_same_appends_conflict(tmp_path: Path) -> None:
    """The control: the same parallel appends, with the merge=union line taken out of
    .gitattributes, make git stop with a conflict (exit code not 0, conflict markers in the
    month file). The rule is what makes these merges clean. `invctl check` on the
    conflicted file reports the markers as bad lines (exit 1), so they cannot be committed
    unnoticed by a hook or a check."""
    rng = random.Random(7)
    origin = make_origin(tmp_path, union=False)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    record(rng, a, "main", day=3)
    record(rng, b, "store2", day=3)
    pull = pull_after_push(a, b)
    assert pull.returncode != 0
    assert f"CONFLICT (content): Merge conflict in {MONTH}" in pull.stdout + pull.stderr
    text = (b / MONTH).read_text(encoding="utf-8")
    assert "<<<<<<< " in text and "\n=======\n" in text and "\n>>>>>>> " in text
    marker_lines = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith(("<<<<<<<", "=======", ">>>>>>>"))]
    check = inv_run(b, "check")
    assert check.returncode == 1
    for n in marker_lines:
        assert f"{MONTH}:{n}: not valid JSON" in check.stdout, check.stdout


def test_the_same_import_on_two_clones_is_caught_after_the_merge(tmp_path: Path) -> None:
    """Both clones record the same web-shop order line (same type, ref and SKU: what an
    import of the same export does) before they merge. Each side was right, and the merge
    keeps both lines (different ids): both count. `invctl check` names the second with the
    first's file:line and exits 1 (so the pre-merge-commit hook stops such a merge); after
    `invctl void` of one of them, check passes and stock counts the sale once."""
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    sku = sorted(CATALOG_COST)[0]
    sale = ["sell", sku, "2", "--price", "9.90", "--ref", "shopify:#1001:1", "--at", "2026-11-05T10:00"]
    first, second = inv(a, *sale), inv(b, *sale)
    assert first != second
    assert pull_after_push(a, b).returncode == 0
    assert stock(b)[(sku, "main")][0] == 1000 - 4  # both count
    check = inv_run(b, "check")
    assert check.returncode == 1
    [problem] = check.stdout.splitlines()
    assert re.fullmatch(rf"{MONTH}:\d+: sold event with ref 'shopify:#1001:1' for {sku} again \(first on {MONTH}:\d+, "
                        rf"({first}|{second})\): both count; the same import or command on two clones\? "
                        rf"Void one of them: invctl void ({first}|{second}) --reason \"recorded twice\"", problem), problem
    later = re.findall(r"invctl void (\S+)", problem)[0]
    inv(b, "void", later, "--reason", "recorded twice")
    assert inv_run(b, "check").returncode == 0
    assert stock(b)[(sku, "main")][0] == 1000 - 2


def test_one_po_id_given_by_two_clones_is_caught_after_the_merge(tmp_path: Path) -> None:
    """Each clone creates its first purchase order of the day: both get PO-20261105-001
    (each knows only its own journal). After the merge the id names two orders; `check`
    names each line of the second one with the first's file:line and exits 1; voiding those
    lines and creating the order again (it gets -002) leaves two clean POs."""
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    sku = sorted(CATALOG_COST)[0]
    for supplier in ("acme", "globex"):
        inv(a, "supplier", "add", supplier, "--name", supplier.title())
    commit_all(a, "suppliers")
    git(a, "push", "-q")
    git(b, "pull", "-q", "--no-rebase", "--no-edit")
    inv(a, "order", "create", "--supplier", "acme", "--line", f"{sku}:10:5.00", "--at", "2026-11-05T09:00")
    inv(b, "order", "create", "--supplier", "globex", "--line", f"{sku}:20:4.00", "--at", "2026-11-05T11:00")
    assert pull_after_push(a, b).returncode == 0
    check = inv_run(b, "check")
    assert check.returncode == 1
    [problem] = check.stdout.splitlines()
    assert "PO 'PO-20261105-001' was created twice" in problem and "two clones on one day?" in problem, problem
    second = re.findall(r"invctl void (\S+)", problem)[0]
    assert events_of(b)[second]["supplier"] in ("acme", "globex")
    supplier = events_of(b)[second]["supplier"]
    inv(b, "void", second, "--reason", "PO id given twice")
    inv(b, "order", "create", "--supplier", supplier, "--line", f"{sku}:{events_of(b)[second]['qty']}:"
        f"{events_of(b)[second]['cost']}", "--at", "2026-11-05T12:00")
    assert inv_run(b, "check").returncode == 0
    rows = json.loads(inv(b, "order", "list", "--format", "json"))
    assert sorted((r["po"], r["supplier"], r["ordered"]) for r in rows) == sorted(
        [("PO-20261105-001", "globex" if supplier == "acme" else "acme", 20 if supplier == "acme" else 10),
         ("PO-20261105-002", supplier, 10 if supplier == "acme" else 20)])


def test_two_clones_adding_items_conflict_and_keeping_both_resolves_it(tmp_path: Path) -> None:
    """What docs/git.md says of a clone without the merge driver's config line: each clone
    adds an item; items.toml conflicts (both appended at the end); deleting the three
    marker lines keeps both tables, and check and stock accept both."""
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    inv(a, "item", "add", "CAP", "--name", "Cap", "--price", "12.00", "--cost", "4.00")
    inv(b, "item", "add", "SCARF", "--name", "Scarf", "--price", "15.00", "--cost", "5.00")
    pull = pull_after_push(a, b)
    assert pull.returncode != 0 and "CONFLICT (content): Merge conflict in items.toml" in pull.stdout + pull.stderr
    items = b / "items.toml"
    text = items.read_text(encoding="utf-8")
    items.write_text("".join(line for line in text.splitlines(keepends=True)
                             if not line.startswith(("<<<<<<<", "=======", ">>>>>>>"))), encoding="utf-8")
    commit_all(b, "merge: keep both new items")
    assert inv_run(b, "check").returncode == 0
    inv(b, "receive", "CAP", "2", "--cost", "4.00", "--at", "2026-11-06T10:00")
    inv(b, "receive", "SCARF", "3", "--cost", "5.00", "--at", "2026-11-06T10:00")
    assert stock(b)[("CAP", "main")][0] == 2 and stock(b)[("SCARF", "main")][0] == 3


def _driver_clones(tmp_path: Path) -> tuple[Path, Path]:
    from invctl.create import setup_merge_driver

    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    for side in (a, b):  # git config is not cloned: docs/git.md has this step for each clone
        setup_merge_driver(side)
    assert git(b, "check-attr", "merge", "--", "items.toml").endswith("merge: invctl-toml")
    return a, b


def test_with_the_merge_driver_items_added_on_two_clones_merge_cleanly(tmp_path: Path) -> None:
    """With the driver `invctl init` sets up (and docs/git.md gives for clones): each clone
    adds an item and records with it; the pull merges without a conflict, items.toml has
    both tables, check passes and both items have their stock."""
    a, b = _driver_clones(tmp_path)
    inv(a, "item", "add", "CAP", "--name", "Cap", "--price", "12.00", "--cost", "4.00")
    inv(a, "receive", "CAP", "2", "--cost", "4.00", "--at", "2026-11-06T10:00")
    inv(b, "item", "add", "SCARF", "--name", "Scarf", "--price", "15.00", "--cost", "5.00")
    inv(b, "receive", "SCARF", "3", "--cost", "5.00", "--at", "2026-11-06T11:00")
    pull = pull_after_push(a, b)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert parents(b) == 2
    items = (b / "items.toml").read_text(encoding="utf-8")
    assert "<<<<<<<" not in items and "[CAP]" in items and "[SCARF]" in items
    assert items.startswith("# The catalog: one table per SKU.")  # the header comment is kept
    assert inv_run(b, "check").returncode == 0
    assert stock(b)[("CAP", "main")][0] == 2 and stock(b)[("SCARF", "main")][0] == 3


def test_with_the_merge_driver_a_location_added_on_each_clone_gives_both(tmp_path: Path) -> None:
    """Each clone lists a new place in invctl.toml and receives stock there; with the driver
    the merge lists both and `check --strict` (which warns of unlisted locations) passes."""
    a, b = _driver_clones(tmp_path)
    for side, loc in ((a, "popup"), (b, "outlet")):
        settings = side / "invctl.toml"
        text = settings.read_text(encoding="utf-8")
        assert '"store2"]' in text
        settings.write_text(text.replace('"store2"]', f'"store2", "{loc}"]'), encoding="utf-8")
        inv(side, "receive", "MILK", "5", "--cost", "1.00", "--loc", loc, "--at", "2026-11-07T10:00")
    pull = pull_after_push(a, b)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert tomllib.loads((b / "invctl.toml").read_text(encoding="utf-8"))["locations"] == ["main", "store2", "outlet", "popup"]
    assert inv_run(b, "check", "--strict").returncode == 0
    assert stock(b)[("MILK", "popup")][0] == stock(b)[("MILK", "outlet")][0] == 5


def test_with_the_merge_driver_one_price_changed_twice_still_conflicts(tmp_path: Path) -> None:
    """Both clones change one item's price differently: the driver decides nothing, git's
    text merge leaves its markers (as without the driver), and check refuses the file."""
    a, b = _driver_clones(tmp_path)
    inv(a, "item", "set", "TEE-M", "--price", "21.00")
    inv(b, "item", "set", "TEE-M", "--price", "22.00")
    pull = pull_after_push(a, b)
    assert pull.returncode != 0 and "CONFLICT" in pull.stdout + pull.stderr
    assert "both sides changed TEE-M.price" in pull.stdout + pull.stderr
    items = (b / "items.toml").read_text(encoding="utf-8")
    assert "<<<<<<< ours" in items and 'price = "21.00"' in items and 'price = "22.00"' in items
    assert inv_run(b, "check").returncode == 1


def test_with_the_merge_driver_but_no_invctl_on_path_git_merges_as_text(tmp_path: Path) -> None:
    """The driver line falls back to git's text merge when invctl is not found: a conflict
    with markers, never our side silently kept."""
    a, b = _driver_clones(tmp_path)
    inv(a, "item", "add", "CAP", "--name", "Cap")
    inv(b, "item", "add", "SCARF", "--name", "Scarf")
    pull = pull_after_push(a, b, PATH=os.defpath)
    assert pull.returncode != 0
    items = (b / "items.toml").read_text(encoding="utf-8")
    assert "<<<<<<< ours" in items and "[CAP]" in items and "[SCARF]" in items


@pytest.mark.parametrize("torn_side", ["pushing", "merging"])
def test_a_committed_torn_line_is_reported_after_the_merge(tmp_path: Path, torn_side: str) -> None:
    """One clone commits a month file whose last event was cut in half (a crash in the
    middle of a write, then `git add -A`); the other clone appended in parallel.

    What git's union merge does with the half line depends on where it ends up. When the
    torn side is the one that pushed ("theirs" in the merge), its lines come last and the
    file still ends in the half line without a newline: `check` reports a *torn last line*.
    When the torn side is the one merging ("ours"), the other side's lines follow and git
    ends the half line with a newline, so it is no longer torn but a complete line that is
    not JSON: `check` reports *not valid JSON* at that line (and `check --repair` cannot set
    it aside: it must be removed by hand). Either way `check` exits 1 naming file:line, the
    half line is not glued to a neighbour's event (every other event still decodes), and
    `stock` shows exactly the complete events of both sides, with a warning that a line was
    left out, never a figure made from the fragment."""
    rng = random.Random(11)
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    torn, other = (a, b) if torn_side == "pushing" else (b, a)
    record(rng, torn, "main", day=4)
    cut_id = inv(torn, "sell", "TEE-M", "3", "--price", "9.90", "--loc", "main", "--at", "2026-11-04T21:00")
    data = (torn / MONTH).read_bytes()
    last = data[:-1].rfind(b"\n") + 1
    fragment = data[last:last + (len(data) - last) // 2]
    (torn / MONTH).write_bytes(data[:last] + fragment)
    record(rng, other, "store2", day=4)
    both = {**events_of(a), **events_of(b)}
    assert cut_id not in both
    pushing, merging = (a, b)
    commit_all(pushing, "a")
    git(pushing, "push", "-q")
    commit_all(merging, "b")
    pull = git_run(merging, "pull", "--no-rebase", "--no-edit")
    assert pull.returncode == 0, pull.stdout + pull.stderr

    merged = (merging / MONTH).read_bytes()
    lines = merged.splitlines(keepends=True)
    where = [n for n, raw in enumerate(lines, 1) if raw.rstrip(b"\n") == fragment]
    assert len(where) == 1, f"the half line, on a line of its own: {merged!r}"
    n = where[0]
    check = inv_run(merging, "check")
    assert check.returncode == 1
    if torn_side == "pushing":
        assert n == len(lines) and not merged.endswith(b"\n")
        assert check.stdout.strip().startswith(f"{MONTH}:{n}: torn last line ({len(fragment)} bytes"), check.stdout
    else:
        assert n < len(lines) and merged.endswith(b"\n")
        assert check.stdout.strip().startswith(f"{MONTH}:{n}: not valid JSON"), check.stdout
    assert events_of(merging, skip_bad=True) == both, "every complete event of both sides is intact"
    assert len(lines) == len(both) + 1, "and nothing else is in the file"
    assert "1 error(s)" in check.stderr
    shown = inv_run(merging, "stock", "--format", "json")
    assert shown.returncode == 0
    assert f"{MONTH}:{n}:" in shown.stderr and "left out of these figures" in shown.stderr
    rows = json.loads(shown.stdout)
    assert {(r["sku"], r["loc"]): (r["on_hand"], Decimal(r["value"])) for r in rows
            if r["on_hand"] or Decimal(r["value"])} == expected_stock(both)


# --- invctl check as a pre-commit hook ----------------------------------------------------


def ledger_repo(tmp_path: Path, sub: str = "") -> tuple[Path, Path]:
    """A git repository with a ledger (at its top, or in ``sub``), one committed receipt,
    and examples/git/pre-commit installed; returns (repository, ledger)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    ledger = repo / sub if sub else repo
    inv(tmp_path, "init", str(ledger), "--currency", "EUR", "--timezone", "Europe/Berlin")
    inv(ledger, "item", "add", "TEE-M", "--name", "T-shirt M", "--price", "19.90", "--cost", "6.50")
    inv(ledger, "receive", "TEE-M", "10", "--cost", "6.20", "--at", "2026-11-02T09:00")
    install_hook(repo)
    commit_all(repo, "Opening stock")
    return repo, ledger


def install_hook(repo: Path, name: str = "pre-commit") -> None:
    target = repo / ".git" / "hooks" / name
    shutil.copyfile(HOOK, target)
    target.chmod(target.stat().st_mode | stat.S_IXUSR)


def commit(repo: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return git_run(repo, "commit", "-q", "-m", "change", *args, **extra)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def test_hook_is_executable_and_valid_sh() -> None:
    """The hook in examples/ can be copied and run as it is: executable, and `sh -n` parses it."""
    assert HOOK.stat().st_mode & stat.S_IXUSR and TWO_SHOPS.stat().st_mode & stat.S_IXUSR
    assert HOOK.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    for script in (HOOK, TWO_SHOPS):
        assert subprocess.run(["sh", "-n", str(script)]).returncode == 0


def test_hook_lets_a_clean_ledger_through(tmp_path: Path) -> None:
    """A commit of new events made by invctl goes through; the hook says nothing."""
    repo, ledger = ledger_repo(tmp_path)
    inv(ledger, "sell", "TEE-M", "2", "--price", "19.90", "--at", "2026-11-03T10:00")
    git(repo, "add", "-A")
    before = head(repo)
    done = commit(repo)
    assert (done.returncode, done.stderr) == (0, "")
    assert head(repo) != before


def test_hook_check_options_strict_refuses_warnings(tmp_path: Path) -> None:
    """A warning (a sale that takes stock below zero, recorded with --allow-negative) passes
    the hook by default and is refused with CHECK_OPTIONS=--strict, named at file:line."""
    repo, ledger = ledger_repo(tmp_path)
    inv(ledger, "sell", "TEE-M", "12", "--price", "19.90", "--at", "2026-11-03T10:00", "--allow-negative")
    git(repo, "add", "-A")
    before = head(repo)
    strict = commit(repo, CHECK_OPTIONS="--strict")
    assert strict.returncode != 0 and head(repo) == before
    assert "journal/2026/2026-11.jsonl:2: warning: TEE-M at main goes negative (-2)" in strict.stderr + strict.stdout
    assert commit(repo).returncode == 0 and head(repo) != before


def test_hook_refuses_bad_lines_and_lists_them_all(tmp_path: Path) -> None:
    """Two different bad lines staged (a line that is not JSON, and a copy of an event,
    i.e. a duplicate id): git refuses the commit, HEAD does not move, and the hook's output
    names both, each with file:line."""
    repo, ledger = ledger_repo(tmp_path)
    path = ledger / MONTH
    first = path.read_bytes()
    with path.open("ab") as fh:
        fh.write(b'{"id": "not json\n')
        fh.write(first)
    git(repo, "add", "-A")
    before = head(repo)
    refused = commit(repo)
    assert refused.returncode != 0
    assert head(repo) == before
    out = refused.stdout + refused.stderr
    assert f"{MONTH}:2: not valid JSON" in out, out
    assert f"{MONTH}:3: duplicate id" in out, out
    assert "2 error(s)" in out and "pre-commit: commit refused" in out
    assert "Traceback" not in out


def test_hook_refuses_a_torn_line(tmp_path: Path) -> None:
    """A staged month file ending in half an event (no newline) is refused, naming the line."""
    repo, ledger = ledger_repo(tmp_path)
    inv(ledger, "sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-03T10:00")
    path = ledger / MONTH
    path.write_bytes(path.read_bytes()[:-40])
    git(repo, "add", "-A")
    refused = commit(repo)
    assert refused.returncode != 0
    assert f"{MONTH}:2: torn last line" in refused.stderr


def test_hook_checks_the_index_not_the_working_tree(tmp_path: Path) -> None:
    """Staged good, working tree bad: the commit goes through and holds the good version.
    Staged bad, working tree fixed (not staged): refused, because the commit would hold
    the bad line. `git commit -a` and `git commit FILE` (git gives the hook another index)
    are checked as they will be committed, too."""
    repo, ledger = ledger_repo(tmp_path)
    path = ledger / MONTH
    inv(ledger, "sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-03T10:00")
    git(repo, "add", "-A")
    good = path.read_bytes()
    path.write_bytes(good + b"garbage\n")
    done = commit(repo)
    assert done.returncode == 0, done.stderr
    assert git(repo, "show", f"HEAD:{MONTH}").encode() + b"\n" == good

    git(repo, "add", "-A")  # now the bad line is staged ...
    path.write_bytes(good)  # ... and fixed only in the working tree
    refused = commit(repo)
    assert refused.returncode != 0 and f"{MONTH}:3: not valid JSON" in refused.stderr

    git(repo, "reset", "-q")  # the index as HEAD: the good version
    path.write_bytes(good + b"{}\n")
    refused = commit(repo, "-a")
    assert refused.returncode != 0 and f"{MONTH}:3:" in refused.stderr
    refused = commit(repo, "--", MONTH)  # `git commit FILE`: another temporary index
    assert refused.returncode != 0 and f"{MONTH}:3:" in refused.stderr
    assert git(repo, "show", f"HEAD:{MONTH}").encode() + b"\n" == good


def test_hook_finds_a_ledger_in_a_subfolder(tmp_path: Path) -> None:
    """A ledger in a subfolder of the repository is found without configuration and
    checked as staged; the output says which ledger the paths belong to."""
    repo, ledger = ledger_repo(tmp_path, "shops/berlin")
    (repo / "README").write_text("not part of the ledger\n", encoding="utf-8")
    git(repo, "add", "-A")
    assert commit(repo).returncode == 0
    with (ledger / MONTH).open("ab") as fh:
        fh.write(b"oops\n")
    git(repo, "add", "-A")
    refused = commit(repo)
    assert refused.returncode != 0
    assert "errors in the staged ledger shops/berlin/" in refused.stderr
    assert f"{MONTH}:2: not valid JSON" in refused.stderr


def test_hook_without_invctl_refuses_with_a_clear_line(tmp_path: Path) -> None:
    """When the hook cannot find invctl it refuses (it cannot vouch for the ledger) and
    says how to fix it, instead of letting the commit through unchecked."""
    repo, ledger = ledger_repo(tmp_path)
    inv(ledger, "sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-03T10:00")
    git(repo, "add", "-A")
    refused = commit(repo, INVCTL=str(tmp_path / "no-such-invctl"))
    assert refused.returncode != 0
    assert "not found; set INVCTL to the full path of invctl" in refused.stderr


def test_hook_as_pre_merge_commit_stops_a_bad_merge(tmp_path: Path) -> None:
    """Installed as pre-merge-commit, the same script stops a union merge that brings in a
    bad line before the merge is committed: git exits non-zero, HEAD stays, and the merge
    waits (MERGE_HEAD) to be fixed or aborted."""
    repo, ledger = ledger_repo(tmp_path)
    install_hook(repo, "pre-merge-commit")
    git(repo, "branch", "-M", "main")
    git(repo, "checkout", "-q", "-b", "other")
    with (ledger / MONTH).open("ab") as fh:
        fh.write(b"not an event\n")
    git(repo, "add", "-A")
    assert commit(repo, "--no-verify").returncode == 0
    git(repo, "checkout", "-q", "main")
    inv(ledger, "sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-03T10:00")
    commit_all(repo, "a sale")
    before = head(repo)
    merge = git_run(repo, "merge", "--no-edit", "other")
    assert merge.returncode != 0
    assert "pre-merge-commit: invctl check found errors" in merge.stderr
    assert f"{MONTH}:" in merge.stderr and "not valid JSON" in merge.stderr
    assert head(repo) == before and (repo / ".git" / "MERGE_HEAD").exists()


# --- the recipe ---------------------------------------------------------------------------


def test_two_shops_script_runs_to_the_end(tmp_path: Path) -> None:
    """examples/git/two-shops.sh runs to the end (exit 0) with the installed invctl on
    PATH, on a machine without any git identity, and leaves two clones that agree: one
    merge commit, the six events of both sides in one month file, a clean check."""
    home = tmp_path / "home"
    home.mkdir()
    run_env = {k: v for k, v in env(HOME=str(home)).items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    p = subprocess.run(["sh", str(TWO_SHOPS), str(tmp_path / "demo")], capture_output=True, text=True,
                       env=run_env, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Merge made by" in p.stdout
    assert "pre-commit: commit refused" in p.stderr, "the last step shows the hook at work"
    warehouse, store2 = tmp_path / "demo" / "warehouse", tmp_path / "demo" / "store2"
    assert (warehouse / MONTH).read_bytes() == (store2 / MONTH).read_bytes()
    assert len((store2 / MONTH).read_bytes().splitlines()) == 6
    assert parents(store2) == 2
    assert inv_run(store2, "check", "--strict").returncode == 0
    assert stock(warehouse) == stock(store2) == {
        ("TEE-M", "main"): (27, Decimal("171.40")), ("MILK", "store2"): (9, Decimal("9.45"))}


def test_the_documented_driver_line_is_the_one_init_sets() -> None:
    """docs/git.md, examples/git/README.md and `invctl merge-toml --help` give the same
    driver line `invctl init` and `invctl git-setup` write (a drifted copy would leave
    clones merging as text)."""
    from invctl.create import MERGE_DRIVER

    for doc in (ROOT / "docs" / "git.md", ROOT / "examples" / "git" / "README.md"):
        lines = re.findall(r'git config merge\.invctl-toml\.driver "(.*)"', doc.read_text(encoding="utf-8"))
        assert lines and all(line == MERGE_DRIVER for line in lines), (doc, lines)
    help_text = " ".join(inv(ROOT, "merge-toml", "--help").split())
    assert f'git config merge.invctl-toml.driver "{MERGE_DRIVER}"' in help_text


def test_git_setup_on_a_clone_sets_the_driver_and_installs_working_hooks(tmp_path: Path) -> None:
    """`invctl git-setup --hooks` on a fresh clone: the merge driver is set (as init sets it),
    both hooks are installed, executable and run the invctl that installed them, so a
    commit of a bad line is refused even when git runs hooks with a PATH without invctl;
    a second run is harmless."""
    from invctl.create import MERGE_DRIVER

    origin = make_origin(tmp_path)
    side = clone(origin, tmp_path / "side")
    assert git_run(side, "config", "merge.invctl-toml.driver").returncode != 0  # not cloned
    r = inv_run(side, "git-setup", "--hooks")
    assert r.returncode == 0, r.stderr
    assert "merge driver invctl-toml set" in r.stderr and "hook pre-merge-commit installed" in r.stderr
    assert git(side, "config", "merge.invctl-toml.driver") == MERGE_DRIVER
    for name in ("pre-commit", "pre-merge-commit"):
        hook = side / ".git" / "hooks" / name
        assert hook.stat().st_mode & stat.S_IXUSR
        assert f"invctl=${{INVCTL:-{BIN.resolve()}}}" in hook.read_text(encoding="utf-8")
    with (side / MONTH).open("a", encoding="utf-8") as fh:
        fh.write('{"id": broken\n')
    git(side, "add", "-A")
    before = git(side, "rev-parse", "HEAD")
    refused = git_run(side, "commit", "-q", "-m", "bad", PATH=os.defpath)
    assert refused.returncode != 0 and "not valid JSON" in refused.stderr + refused.stdout
    assert git(side, "rev-parse", "HEAD") == before
    assert inv_run(side, "git-setup", "--hooks").returncode == 0  # again: same files, no complaint


def test_git_setup_leaves_a_foreign_hook_alone_unless_forced(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    side = clone(origin, tmp_path / "side")
    mine = side / ".git" / "hooks" / "pre-commit"
    mine.write_text("#!/bin/sh\nexec run-my-linter\n", encoding="utf-8")
    r = inv_run(side, "git-setup", "--hooks")
    assert r.returncode == 1 and r.stderr.startswith("error: ") and "was not installed by invctl" in r.stderr
    assert r.stderr.count("\n") == 1 and "--force" in r.stderr
    assert mine.read_text(encoding="utf-8") == "#!/bin/sh\nexec run-my-linter\n"
    assert not (side / ".git" / "hooks" / "pre-merge-commit").exists()  # all or nothing
    assert inv_run(side, "git-setup", "--hooks", "--force").returncode == 0
    assert "installed by `invctl git-setup`" in mine.read_text(encoding="utf-8")


def test_git_setup_outside_git_and_the_hook_source(tmp_path: Path) -> None:
    """Outside a repository: one clear line. The hook shipped in the package is the one in
    examples/git/ (a link to it), so the recipe and the command install the same check."""
    inv(tmp_path, "init", str(tmp_path / "solo"), "--currency", "EUR", "--no-git")
    r = inv_run(tmp_path / "solo", "git-setup")
    assert r.returncode == 1 and "is not in a git repository" in r.stderr and r.stderr.count("\n") == 1
    assert HOOK.resolve() == (ROOT / "invctl" / "data" / "pre-commit").resolve()


def test_git_setup_adds_the_merge_rules_an_older_ledger_lacks(tmp_path: Path) -> None:
    """A ledger whose .gitattributes has only the journal rule (made before merge-toml):
    git-setup appends the missing lines, keeps what was there, says so; a second run adds
    nothing."""
    origin = make_origin(tmp_path)
    side = clone(origin, tmp_path / "side")
    old = "# mine\njournal/** merge=union\n*.pdf binary\n"
    (side / ".gitattributes").write_text(old, encoding="utf-8")
    r = inv_run(side, "git-setup")
    assert r.returncode == 0 and ".gitattributes: added items.toml merge=invctl-toml" in r.stderr
    text = (side / ".gitattributes").read_text(encoding="utf-8")
    assert text.startswith(old) and text.count("merge=invctl-toml") == 3 and text.count("merge=union") == 1
    assert git(side, "check-attr", "merge", "--", "invctl.toml").endswith("merge: invctl-toml")
    r = inv_run(side, "git-setup")
    assert ".gitattributes" not in r.stderr and (side / ".gitattributes").read_text(encoding="utf-8") == text
