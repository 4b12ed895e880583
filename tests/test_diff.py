"""`invctl diff`: the stock change between two git revisions, on real git history."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import Shop
from typer.testing import CliRunner

from invctl.cli.main import app

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
                                reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, f"git {' '.join(args)}: {p.stderr}"
    return p.stdout.strip()


def make_repo(tmp_path: Path, sub: str = "") -> tuple[Shop, Path]:
    """A repository holding a ledger (at its top, or in the subfolder ``sub``) made with
    `invctl init`, with one committed receipt, on branch main."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    root = repo / sub if sub else repo
    r = CliRunner().invoke(app, ["init", str(root), "--currency", "EUR", "--timezone", "Europe/Berlin",
                                 "--location", "main", "--location", "store2"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    git(repo, "config", "user.name", "Tester")
    git(repo, "config", "user.email", "tester@example.com")
    git(repo, "config", "commit.gpgsign", "false")
    shop = Shop(root)
    shop.ok("item", "add", "TEE-M", "--name", "T-shirt M", "--price", "19.90", "--cost", "6.50")
    shop.ok("item", "add", "MILK", "--name", "Oat milk 1l", "--price", "2.49", "--cost", "1.10")
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20", "--at", "2026-11-02T09:00")
    commit(repo, "Opening stock")
    git(repo, "branch", "-M", "main")
    return shop, repo


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def rows(shop: Shop, *args: str) -> list[dict[str, object]]:
    out = shop.ok("diff", *args, "--format", "json")
    return json.loads(out)


def store2_branch(shop: Shop, repo: Path) -> str:
    """Sales, receipts and a void on branch store2; returns the voided receipt's id."""
    git(repo, "checkout", "-q", "-b", "store2")
    shop.ok("sell", "TEE-M", "2", "--price", "19.90", "--at", "2026-11-03T10:00")
    shop.ok("receive", "MILK", "12", "--cost", "1.00", "--loc", "store2", "--at", "2026-11-03T11:00")
    wrong = shop.ok("receive", "TEE-M", "5", "--cost", "7.00", "--loc", "store2", "--at", "2026-11-03T11:30").strip()
    shop.ok("void", wrong, "--reason", "typo", "--at", "2026-11-03T12:00")
    shop.ok("sell", "MILK", "3", "--price", "2.49", "--loc", "store2", "--at", "2026-11-04T10:00")
    commit(repo, "store2 sales")
    return wrong


def test_branch_rows_and_events(tmp_path: Path) -> None:
    shop, repo = make_repo(tmp_path)
    wrong = store2_branch(shop, repo)
    assert rows(shop, "main", "store2") == [
        {"sku": "MILK", "name": "Oat milk 1l", "loc": "store2", "on_hand_before": 0, "on_hand_after": 9,
         "on_hand_change": 9, "value_change": "9.00", "on_order_change": 0},
        {"sku": "TEE-M", "name": "T-shirt M", "loc": "main", "on_hand_before": 10, "on_hand_after": 8,
         "on_hand_change": -2, "value_change": "-12.40", "on_order_change": 0},
    ]
    r = shop.run("diff", "main", "store2", "--events", "--format", "json")
    assert r.code == 0
    assert "5 events added, 1 voided from main (" in r.err
    events = json.loads(r.out)
    assert [(e["change"], e["type"], e["sku"], e["loc"], e["qty"]) for e in events] == [
        ("added", "sold", "TEE-M", "main", 2),
        ("added", "received", "MILK", "store2", 12),
        ("added", "received", "TEE-M", "store2", 5),
        ("voided", "received", "TEE-M", "store2", 5),
        ("added", "voided", None, None, None),
        ("added", "sold", "MILK", "store2", 3),
    ]
    assert [e["id"] for e in events if e["change"] == "voided"] == [wrong]
    # The other way round, everything is undone.
    back = rows(shop, "store2", "main")
    assert [(r["sku"], r["on_hand_change"], r["value_change"]) for r in back] == [("MILK", -9, "-9.00"), ("TEE-M", 2, "12.40")]


def test_working_tree_is_the_default(tmp_path: Path) -> None:
    shop, repo = make_repo(tmp_path)
    assert rows(shop, "HEAD") == []
    shop.ok("sell", "TEE-M", "4", "--price", "19.90", "--at", "2026-11-05T10:00")
    shop.ok("supplier", "add", "acme", "--name", "ACME Textiles")
    shop.ok("order", "create", "--supplier", "acme", "--line", "MILK:24:1.05", "--loc", "store2", "--at", "2026-11-05T11:00")
    assert rows(shop, "HEAD") == [
        {"sku": "MILK", "name": "Oat milk 1l", "loc": "store2", "on_hand_before": 0, "on_hand_after": 0,
         "on_hand_change": 0, "value_change": "0.00", "on_order_change": 24},
        {"sku": "TEE-M", "name": "T-shirt M", "loc": "main", "on_hand_before": 10, "on_hand_after": 6,
         "on_hand_change": -4, "value_change": "-24.80", "on_order_change": 0},
    ]
    out = shop.ok("diff", "HEAD", "--format", "csv")
    assert out.splitlines() == [
        "sku,name,loc,on_hand_before,on_hand_after,on_hand_change,value_change,on_order_change",
        "MILK,Oat milk 1l,store2,0,0,0,0.00,24",
        "TEE-M,T-shirt M,main,10,6,-4,-24.80,0",
    ]
    # Uncommitted work is diffed, the committed revision's replay leaves no files in the ledger.
    before = sorted(p.name for p in (shop.root / ".invctl").rglob("*"))
    shop.ok("diff", "HEAD~0")
    assert sorted(p.name for p in (shop.root / ".invctl").rglob("*")) == before


def test_merge_of_two_branches(tmp_path: Path) -> None:
    shop, repo = make_repo(tmp_path, sub="ledger")
    store2_branch(shop, repo)
    git(repo, "checkout", "-q", "main")
    shop.ok("sell", "TEE-M", "7", "--price", "19.90", "--at", "2026-11-03T15:00")
    commit(repo, "main sales")
    main_head = git(repo, "rev-parse", "HEAD")
    git(repo, "merge", "-q", "--no-edit", "store2")  # journal/** merge=union: no conflict
    # Review of what the merge brought to main: store2's events; TEE-M at main is now 10 - 7 - 2.
    assert rows(shop, main_head, "HEAD") == [
        {"sku": "MILK", "name": "Oat milk 1l", "loc": "store2", "on_hand_before": 0, "on_hand_after": 9,
         "on_hand_change": 9, "value_change": "9.00", "on_order_change": 0},
        {"sku": "TEE-M", "name": "T-shirt M", "loc": "main", "on_hand_before": 3, "on_hand_after": 1,
         "on_hand_change": -2, "value_change": "-12.40", "on_order_change": 0},
    ]
    r = shop.run("diff", "HEAD^1", "HEAD")
    assert r.code == 0 and "5 events added, 1 voided" in r.err
    # What the merge brought to store2: main's sale only.
    assert [(x["sku"], x["loc"], x["on_hand_change"]) for x in rows(shop, "store2", "HEAD")] == [("TEE-M", "main", -7)]


def test_three_dots_compare_with_the_merge_base(tmp_path: Path) -> None:
    """main...store2 is what merging store2 would bring (main's own new sale is not shown as
    removed, as it is with `main store2`); main..store2 is `main store2`."""
    shop, repo = make_repo(tmp_path)
    store2_branch(shop, repo)
    git(repo, "checkout", "-q", "main")
    shop.ok("sell", "TEE-M", "7", "--price", "19.90", "--at", "2026-11-03T15:00")
    commit(repo, "main sales")
    r = shop.run("diff", "main", "store2", "--events", "--format", "json")
    assert "removed" in [e["change"] for e in json.loads(r.out)]
    r = shop.run("diff", "main...store2", "--events", "--format", "json")
    assert r.code == 0 and r.err.startswith("5 events added, 1 voided from merge base of main and store2 (")
    assert {e["change"] for e in json.loads(r.out)} == {"added", "voided"}
    assert [(x["sku"], x["loc"], x["on_hand_change"]) for x in rows(shop, "main...store2")] == [
        ("MILK", "store2", 9), ("TEE-M", "main", -2)]
    assert rows(shop, "main..store2") == rows(shop, "main", "store2")
    git(repo, "checkout", "-q", "store2")
    assert rows(shop, "main...") == rows(shop, "main...store2")  # an empty side is HEAD
    assert [(x["sku"], x["on_hand_change"]) for x in rows(shop, "...main")] == [("TEE-M", -7)]


def test_three_dots_without_a_common_ancestor(tmp_path: Path) -> None:
    shop, repo = make_repo(tmp_path)
    git(repo, "checkout", "-q", "--orphan", "other")
    commit(repo, "unrelated")
    r = shop.run("diff", "main...other")
    assert r.code == 1 and r.err.strip() == "error: main and other have no common ancestor; compare them with `invctl diff main other`"
    assert shop.run("diff", "main...nope").err.strip() == "error: unknown git revision 'nope'; give a commit, branch or tag (see `git log`)"


def test_a_revision_without_the_ledger_is_empty(tmp_path: Path) -> None:
    shop, repo = make_repo(tmp_path, sub="ledger")
    (repo / "README").write_text("x\n")
    git(repo, "checkout", "-q", "--orphan", "other")
    git(repo, "rm", "-rq", "--cached", ".")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "no ledger")
    git(repo, "checkout", "-q", "-f", "main")
    assert [(x["sku"], x["on_hand_change"]) for x in rows(shop, "other", "main")] == [("TEE-M", 10)]


@pytest.mark.parametrize("rev", ["nope", "main~5", "--help-me"])
def test_bad_revision(tmp_path: Path, rev: str) -> None:
    shop, _ = make_repo(tmp_path)
    r = shop.run("diff", "--", rev) if rev.startswith("-") else shop.run("diff", rev)
    assert r.code == 1
    assert r.err.strip().splitlines() == [f"error: unknown git revision {rev!r}; give a commit, branch or tag (see `git log`)"]


def test_not_a_git_repository(shop: Shop) -> None:
    r = shop.run("diff", "HEAD")
    assert r.code == 1
    assert len(r.err.strip().splitlines()) == 1
    assert "is not in a git repository" in r.err


def test_git_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop, _ = make_repo(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    r = shop.run("diff", "HEAD")
    assert r.code == 1
    assert r.err.strip().splitlines() == ["error: git is not installed (or not on PATH); `invctl diff` needs it to read revisions"]


def test_paths_that_would_leave_the_temporary_folder_are_skipped() -> None:
    """Pass: only plain ledger paths are written out of a tree (a crafted tree object could
    name journal/../../x)."""
    from invctl.gitdiff import _wanted

    assert _wanted("journal/2026/2026-11.jsonl") and _wanted("items.toml")
    for bad in ("journal/../../x.jsonl", "journal/./2026.jsonl", "journal//x.jsonl", "journal/2026/../../../etc/x.jsonl"):
        assert not _wanted(bad), bad
