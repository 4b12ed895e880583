"""Shared fixtures: a fresh ledger in a temp folder, and ways to run invctl on it."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.testing
from typer.testing import CliRunner

from invctl.cli.main import app

BIN = Path(sys.executable).with_name("invctl")

# typer's CliRunner builds the click command from the app on every call (~40 ms, more
# than most commands take); the app does not change, so build it once.
typer.testing._get_command = functools.cache(typer.testing._get_command)  # type: ignore[attr-defined]


@dataclass
class Result:
    code: int
    out: str
    err: str


class Shop:
    """A ledger folder with helpers to run commands in it (in process, or as a subprocess)."""

    def __init__(self, root: Path):
        self.root = root

    def run(self, *args: str, input: str | None = None) -> Result:
        """invctl in this process through typer's runner (fast)."""
        runner = CliRunner()
        r = runner.invoke(app, ["-L", str(self.root), *args], input=input, catch_exceptions=False)
        return Result(r.exit_code, r.stdout, r.stderr)

    def ok(self, *args: str) -> str:
        r = self.run(*args)
        assert r.code == 0, f"invctl {' '.join(args)} failed ({r.code}): {r.err}"
        return r.out

    def sh(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """The installed invctl as a subprocess, as a user or cron would run it."""
        p = subprocess.run([str(BIN), *args], cwd=self.root, capture_output=True, text=True,
                           env={**os.environ, **(env or {})}, timeout=120)
        return Result(p.returncode, p.stdout, p.stderr)

    def journal_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in sorted((self.root / "journal").rglob("*.jsonl")))


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVCTL_USER", "tester")
    monkeypatch.delenv("INVCTL_LEDGER", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    """A ledger with one supplier and two items, two locations, EUR, Europe/Berlin."""
    from invctl.create import init_ledger

    root = tmp_path / "shop"
    init_ledger(root, currency="EUR", timezone="Europe/Berlin", locations=["main", "store2"], git=False)
    s = Shop(root)
    s.ok("supplier", "add", "acme", "--name", "ACME Textiles", "--lead-time", "14")
    s.ok("item", "add", "TEE-M", "--name", "T-shirt M", "--category", "apparel", "--price", "19.90", "--cost", "6.50",
         "--reorder-point", "20", "--reorder-qty", "100")
    s.ok("item", "add", "MILK", "--name", "Oat milk 1l", "--category", "food", "--price", "2.49", "--cost", "1.10")
    return s


@pytest.fixture
def has_git() -> bool:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return True
