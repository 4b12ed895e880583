"""Progress of long replays: the library reports bytes read, the CLI draws a bar."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from invctl import progress, render
from invctl.journal import list_files
from invctl.replay import replay
from invctl.settings import open_ledger

SHOP = Path(__file__).parent.parent / "examples" / "shop"


@pytest.fixture
def drawn() -> Iterator[list[tuple[str, int, int]]]:
    calls: list[tuple[str, int, int]] = []
    progress.install(lambda what, done, total: calls.append((what, done, total)))
    try:
        yield calls
    finally:
        progress.install(None)


def test_a_replay_reports_every_byte_once(drawn: list[tuple[str, int, int]], tmp_path: Path) -> None:
    ledger = open_ledger(SHOP)
    total = sum(p.stat().st_size for p in list_files(ledger))
    replay(ledger, until=None, skus={"TEE-BLK-M"})  # not the cache: a full pass
    assert drawn, "no progress reported"
    assert {what for what, _, _ in drawn} == {"Replaying the journal"}
    assert {t for _, _, t in drawn} == {total}
    dones = [d for _, d, _ in drawn]
    assert dones == sorted(dones) and dones[-1] == total


def test_nothing_is_reported_without_a_drawer() -> None:
    progress.install(None)
    assert progress.ticker("x", 10) is None


def test_the_drawer_draws_a_bar_and_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    out = io.StringIO()
    monkeypatch.setenv("TERM", "xterm")  # rich draws no live display on a dumb terminal
    monkeypatch.setattr(render, "console", lambda stderr=False: Console(file=out, force_terminal=True, width=100))
    draw = render.progress_drawer(min_total=100)
    draw("Replaying the journal", 10, 50)  # small work: no bar
    assert out.getvalue() == ""
    for done in (0, 400, 1000):
        draw("Replaying the journal", done, 1000)
    text = out.getvalue()
    assert "Replaying the journal" in text


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger whose journal is over render.BIG (35 MB, 160k events, ~1 s to write)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("big") / "shop"
    gen = Path(__file__).parent.parent / "examples" / "generate.py"
    subprocess.run([sys.executable, str(gen), "--out", str(root), "--events", "160000"], check=True,
                   capture_output=True)
    assert sum(p.stat().st_size for p in (root / "journal").rglob("*.jsonl")) > render.BIG
    return root


def _run_on_a_terminal(args: list[str]) -> tuple[int, bytes]:
    """Run invctl with stdin/stdout/stderr on a pseudo-terminal; (exit code, all it wrote)."""
    import os
    import pty
    import sys

    exe = str(Path(sys.executable).with_name("invctl"))
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(exe, [exe, *args], {**os.environ, "TERM": "xterm"})
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


def test_the_cli_draws_on_a_terminal_only(big: Path) -> None:
    import subprocess
    import sys

    code, out = _run_on_a_terminal(["--ledger", str(big), "history", "TEE-BLK-M", "--format", "csv"])
    assert code == 0
    assert b"Replaying the journal" in out  # the bar was drawn ...
    assert b"ts,type,qty,loc,on_hand" in out  # ... and the report came out all the same
    exe = Path(sys.executable).with_name("invctl")
    piped = subprocess.run([str(exe), "--ledger", str(big), "history", "TEE-BLK-M", "--format", "csv"],
                           capture_output=True, text=True)
    assert piped.returncode == 0
    assert piped.stderr == ""  # piped or in cron: no bar, nothing on stderr
    assert piped.stdout.startswith("ts,type,qty,loc,on_hand")
