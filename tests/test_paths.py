"""Paths and permissions: where invctl reads and writes, and what it creates.

- --ledger / $INVCTL_LEDGER at the wrong thing: one clean line, exit 1 (a symlinked ledger
  folder works). test_bad_input.py covers a plain file, a missing folder, a folder that
  is not a ledger and "no ledger here"; this file adds the environment variable for each,
  and links.
- Symbolic links in journal/ or .invctl/: a ledger is often a git clone and git stores
  links, so `journal/2026/2026-11.jsonl -> ~/.bashrc` must be neither read nor appended to.
  Every command refuses such a ledger with one line naming the link.
- The month file comes from the validated event time only: no --at value and no datetime
  puts a file outside journal/YYYY/.
- Files and folders invctl creates are 0640/0750 less the umask (run as real processes
  with a real umask); a replaced file keeps its mode.
- No eval/exec/pickle/marshal/yaml.load/shell=True/os.system under invctl/ (ast-checked).
"""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, Shop
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from invctl.cli.main import app
from invctl.errors import Refused
from invctl.settings import Ledger, open_ledger

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str) -> tuple[int, str, str]:
    """invctl in process; a traceback fails the test (catch_exceptions=False re-raises)."""
    r = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert "Traceback" not in r.stdout + r.stderr
    return r.exit_code, r.stdout, r.stderr.strip()


def one_line_error(code: int, err: str) -> str:
    assert code == 1, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root (not following links) with its bytes (None: a folder or link)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
    return out


# --- --ledger and $INVCTL_LEDGER -------------------------------------------------------------


def test_invctl_ledger_variable_at_a_file_or_a_missing_folder(shop: Shop, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass: $INVCTL_LEDGER at a file or at nothing gives one line naming the variable (not --ledger)."""
    monkeypatch.setenv("INVCTL_LEDGER", str(shop.root / "invctl.toml"))
    err = one_line_error(*cli("stock")[::2])
    assert err == f"error: $INVCTL_LEDGER {shop.root / 'invctl.toml'}: is a file; give the ledger folder (the one holding invctl.toml)"
    monkeypatch.setenv("INVCTL_LEDGER", str(tmp_path / "nowhere"))
    err = one_line_error(*cli("receive", "TEE-M", "1", "--cost", "1")[::2])
    assert err.startswith(f"error: $INVCTL_LEDGER {tmp_path / 'nowhere'}: no such folder; create a ledger with: invctl init")
    assert not (tmp_path / "nowhere").exists()  # a writer does not create it either


@pytest.mark.parametrize("via", ["--ledger", "$INVCTL_LEDGER"])
def test_ledger_at_a_dangling_or_looping_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str) -> None:
    """Pass: a link to nothing, or to itself, is named as a link (not "no such folder; invctl init")."""
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for name in ("dangling", "loop"):
        given_ = str(tmp_path / name)
        if via == "--ledger":
            code, _, err = cli("-L", given_, "stock")
        else:
            monkeypatch.setenv("INVCTL_LEDGER", given_)
            code, _, err = cli("stock")
        line = one_line_error(code, err)
        assert line.startswith(f"error: {via} {given_}: is a symbolic link to ") and "not there (or loops)" in line


def test_ledger_option_at_a_link_to_the_settings_file(shop: Shop, tmp_path: Path) -> None:
    """Pass: a link to invctl.toml counts as the file it is, not as a ledger folder."""
    (tmp_path / "toml").symlink_to(shop.root / "invctl.toml")
    assert "is a file; give the ledger folder" in one_line_error(*cli("-L", str(tmp_path / "toml"), "stock")[::2])


def test_a_ledger_reached_through_a_symlinked_folder_works(shop: Shop, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass: -L LINK, $INVCTL_LEDGER=LINK and a cwd inside LINK all use the real ledger:
    a write lands in its journal, and reads see it."""
    link = tmp_path / "link"
    link.symlink_to(shop.root)
    code, _, err = cli("-L", str(link), "receive", "TEE-M", "3", "--cost", "6.00", "--at", "2026-11-02")
    assert code == 0, err
    assert b'"qty":3' in (shop.root / "journal/2026/2026-11.jsonl").read_bytes()
    monkeypatch.setenv("INVCTL_LEDGER", str(link))
    assert "\nTEE-M,T-shirt M,apparel,main,3," in cli("stock", "--format", "csv")[1]
    monkeypatch.delenv("INVCTL_LEDGER")
    monkeypatch.chdir(link / "journal")
    code, out, err = cli("sell", "TEE-M", "1", "--price", "19.90", "--at", "2026-11-03")
    assert code == 0, err
    assert open_ledger(str(link)).root == shop.root.resolve()
    # A subprocess too: the real entry point, no traceback, the same figures.
    p = subprocess.run([str(BIN), "-L", str(link), "stock", "--format", "csv"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "\nTEE-M,T-shirt M,apparel,main,2," in p.stdout and p.stderr == ""


# --- links inside the ledger -----------------------------------------------------------------

BASHRC = b"export PATH=$HOME/bin:$PATH"  # no final newline: a writer would take it for a torn tail


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file of the user's outside the ledger (think ~/.bashrc)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_bytes(BASHRC)
    return home / ".bashrc"


def refuses_link(shop: Shop, link: str, *args: str) -> None:
    """`invctl ARGS` is refused in one line naming ``link`` as a symbolic link, and the
    ledger's files are as they were."""
    before = tree(shop.root)
    r = shop.run(*args)
    line = one_line_error(r.code, r.err.strip())
    assert line.startswith(f"error: {link}: is a symbolic link (to "), line
    assert "replace it with a regular file or folder, or remove it" in line
    assert tree(shop.root) == before


WRITE_NOV = ("receive", "TEE-M", "1", "--cost", "6.00", "--at", "2026-11-05")
READERS = [("stock",), ("check",), ("check", "--repair"), ("history", "TEE-M"), ("report", "valuation"),
           ("export", "csv", "sales"), ("alerts", "--new")]


def test_a_journal_file_linked_outside_the_ledger_is_neither_read_nor_written(shop: Shop, outside: Path) -> None:
    """Pass: with journal/2026/2026-11.jsonl -> ~/.bashrc, writers to that month and every
    reader (check --repair too, which would cut a "torn" last line) refuse, and ~/.bashrc
    keeps its bytes."""
    month = shop.root / "journal/2026/2026-11.jsonl"
    month.parent.mkdir()
    month.symlink_to(outside)
    for args in [WRITE_NOV, *READERS]:
        refuses_link(shop, "journal/2026/2026-11.jsonl", *args)
    assert outside.read_bytes() == BASHRC
    # Through the binary, as a cron job would run it.
    r = shop.sh("receive", "TEE-M", "1", "--cost", "6.00", "--at", "2026-11-05")
    assert r.code == 1 and r.err.startswith("error: journal/2026/2026-11.jsonl: is a symbolic link") and r.err.count("\n") == 1
    assert outside.read_bytes() == BASHRC


def test_a_journal_file_linked_to_another_journal_file_is_not_counted_twice(shop: Shop) -> None:
    """Pass: 2026-12.jsonl -> 2026-11.jsonl is refused by readers (it would count November's
    events twice) and by writers to either month; removing the link gives the right stock."""
    shop.ok(*WRITE_NOV)
    (shop.root / "journal/2026/2026-12.jsonl").symlink_to("2026-11.jsonl")
    refuses_link(shop, "journal/2026/2026-12.jsonl", "stock")
    refuses_link(shop, "journal/2026/2026-12.jsonl", "receive", "TEE-M", "1", "--cost", "6", "--at", "2026-12-05")
    refuses_link(shop, "journal/2026/2026-12.jsonl", *WRITE_NOV)
    (shop.root / "journal/2026/2026-12.jsonl").unlink()
    assert "\nTEE-M,T-shirt M,apparel,main,1," in shop.ok("stock", "--format", "csv")


@pytest.mark.parametrize("link", ["journal", "journal/2025"])
def test_a_linked_journal_folder_is_refused(shop: Shop, tmp_path: Path, link: str) -> None:
    """Pass: journal/ or a year folder that is a link to a folder elsewhere is refused by
    readers and writers; nothing is created in that folder. (pathlib's rglob does not
    descend into a linked year folder: unrefused, its events would silently not count.)"""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "2025").mkdir(parents=True)
    target = shop.root / link
    if link == "journal":
        for p in (shop.root / "journal").iterdir():
            p.rename(elsewhere / p.name)
        (shop.root / "journal").rmdir()
        target.symlink_to(elsewhere)
    else:
        target.symlink_to(elsewhere / "2025")
    before = tree(elsewhere)
    refuses_link(shop, link, "receive", "TEE-M", "1", "--cost", "6", "--at", "2025-03-01")
    refuses_link(shop, link, "stock")
    assert tree(elsewhere) == before


@pytest.mark.parametrize("name", [".invctl", ".invctl/lock", ".invctl/cache", ".invctl/torn", ".invctl/alerts.json"])
def test_links_in_the_state_folder_are_refused(shop: Shop, tmp_path: Path, name: str) -> None:
    """Pass: .invctl/ is local (gitignored), but a clone can still hold it (`git add -f`):
    a link there (to a file or folder that does not exist yet) is refused and nothing is
    created where it points."""
    shop.ok(*WRITE_NOV)  # .invctl/ exists now
    aim = tmp_path / "aim"
    path = shop.root / name
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(aim)
    refuses_link(shop, name, *WRITE_NOV)
    refuses_link(shop, name, "alerts", "--new")
    assert not aim.exists()


def test_month_file_refuses_a_link_for_writers_in_code(shop: Shop, outside: Path) -> None:
    """Pass: a Ledger made in code (no open_ledger) still does not hand a writer a linked
    month file: record() asks month_file for the path to append to."""
    from invctl import record as R

    (shop.root / "journal/2026").mkdir()
    (shop.root / "journal/2026/2026-11.jsonl").symlink_to(outside)
    ledger = Ledger(root=shop.root)
    with pytest.raises(Refused, match=r"^journal/2026/2026-11\.jsonl: is a symbolic link"):
        ledger.month_file(dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
    ev = R.new_fields("adjusted", dt.datetime(2026, 11, 5, tzinfo=dt.UTC), sku="TEE-M", qty=1, reason="found", cost="1.00")
    with pytest.raises(Refused, match="symbolic link"):
        R.record(ledger, [ev])
    assert outside.read_bytes() == BASHRC


def test_journal_append_refuses_a_link(shop: Shop, outside: Path) -> None:
    """Pass: journal.append itself (the last step of every write) refuses a linked file,
    whoever computed the path, and leaves the target alone (set_aside_torn would cut its
    "torn" last line, then the append would add to it)."""
    from invctl.journal import append

    (shop.root / "journal/2026").mkdir()
    month = shop.root / "journal/2026/2026-11.jsonl"
    month.symlink_to(outside)
    with pytest.raises(Refused, match="symbolic link"):
        append(Ledger(root=shop.root), month, b'{"id":"x"}\n')
    assert outside.read_bytes() == BASHRC


def test_journal_list_files_refuses_a_link(shop: Shop, outside: Path) -> None:
    """Pass: list_files (every reader's start: replay, check, export, diff) refuses a linked
    journal file for a Ledger made in code, not only open_ledger."""
    from invctl.journal import list_files

    (shop.root / "journal/2026").mkdir()
    (shop.root / "journal/2026/2026-11.jsonl").symlink_to(outside)
    with pytest.raises(Refused, match="symbolic link"):
        list_files(Ledger(root=shop.root))


def test_journal_locked_does_not_create_through_a_link(shop: Shop, tmp_path: Path) -> None:
    """Pass: taking the lock of a Ledger made in code does not create the file a planted
    .invctl/lock link points at."""
    from invctl.journal import locked

    (shop.root / ".invctl/lock").unlink()  # the fixture's writes made it
    (shop.root / ".invctl/lock").symlink_to(tmp_path / "created")
    with pytest.raises((Refused, OSError)), locked(Ledger(root=shop.root)):
        pass
    assert not (tmp_path / "created").exists()


def test_link_checks(tmp_path: Path) -> None:
    """Pass: files.link_on_way finds the first link on the way (or a path outside root or
    with ".."), and is None for plain and not-yet-existing paths; links_under lists links
    at any depth without following them."""
    from invctl.files import link_on_way, links_under

    root = tmp_path / "r"
    (root / "journal/2026").mkdir(parents=True)
    (root / "journal/2026/2026-11.jsonl").write_bytes(b"")
    assert link_on_way(root, root / "journal/2026/2026-11.jsonl") is None
    assert link_on_way(root, root / "journal/2027/2027-01.jsonl") is None
    assert link_on_way(root, tmp_path / "x") == tmp_path / "x"
    assert link_on_way(root, root / "journal/../../x") == root / "journal/../../x"
    (root / "journal/2025").symlink_to(tmp_path)
    assert link_on_way(root, root / "journal/2025/2025-01.jsonl") == root / "journal/2025"
    (root / "journal/2026/2026-12.jsonl").symlink_to("2026-11.jsonl")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep/loop").symlink_to(tmp_path)  # not reached: links are not followed
    assert list(links_under(root / "journal")) == [root / "journal/2025", root / "journal/2026/2026-12.jsonl"]
    assert list(links_under(root / "journal/2025")) == [root / "journal/2025"]
    assert list(links_under(root / "missing")) == []


# --- the month file comes from the validated time only ---------------------------------------

_MONTH = re.compile(r"journal/(\d{4})/\1-(0[1-9]|1[0-2])\.jsonl")


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59),
                    timezones=st.timezones() | st.just(dt.timezone(dt.timedelta(hours=14)))
                    | st.just(dt.timezone(dt.timedelta(hours=-12)))))
def test_month_file_is_always_journal_year_month(ts: dt.datetime) -> None:
    """Pass: for any aware datetime in years 1..9999, month_file is journal/YYYY/YYYY-MM.jsonl
    under the root, from the time as written (its own offset), with no way out."""
    root = Path("/nonexistent-ledger")
    path = Ledger(root=root).month_file(ts)
    rel = path.relative_to(root).as_posix()
    m = _MONTH.fullmatch(rel)
    assert m and (int(m.group(1)), int(m.group(2))) == (ts.year, ts.month), rel
    assert os.path.normpath(path) == str(path)


@pytest.mark.parametrize("bad", ["../../x", "2026-11", "/etc/passwd", dt.date(2026, 11, 1), None])
def test_month_file_takes_only_a_datetime(bad: object) -> None:
    """Pass: text (or a date) as an event time is a TypeError, not a path built from it."""
    with pytest.raises(TypeError, match="must be a datetime"):
        Ledger(root=Path("/x")).month_file(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("at", ["../../x", "2026-13-01", "2026-11-01/../../x", "2026-02-30", "../../../etc/passwd",
                                "2026-11-01T00:00:00+99:00", "9999-99-99", "-001-01-01", "10000-01-01", "２０２６-11-01"])
def test_hostile_at_is_refused(shop: Shop, at: str) -> None:
    """Pass: one clean line naming --at, and nothing anywhere in the ledger changes."""
    before = tree(shop.root)
    r = shop.run("receive", "TEE-M", "1", "--cost", "6", "--at", at)
    assert one_line_error(r.code, r.err.strip()).startswith(f"error: --at {at!r} is not a valid")
    assert tree(shop.root) == before


def set_timezone(shop: Shop, tz: str) -> None:
    toml = shop.root / "invctl.toml"
    toml.write_text(toml.read_text().replace('timezone = "Europe/Berlin"', f'timezone = "{tz}"'))


@pytest.mark.parametrize(("tz", "at", "file"), [
    ("Europe/Berlin", "9999-12-31T23:59:59+14:00", "journal/9999/9999-12.jsonl"),  # 9999-12-31T10:59:59 in Berlin
    ("Europe/Berlin", "9999-12-31", "journal/9999/9999-12.jsonl"),
    ("Europe/Berlin", "2026-11-30T23:30:00-05:00", "journal/2026/2026-12.jsonl"),  # the month in the ledger's zone
    # Berlin had a seconds offset (LMT, +00:53:28) before 1893: see test_at_before_1893_in_berlin.
    ("UTC", "0001-01-01T12:00:00+00:00", "journal/0001/0001-01.jsonl"),
    ("UTC", "0001-01-01", "journal/0001/0001-01.jsonl"),
    ("Pacific/Kiritimati", "9999-12-31T23:59:59+14:00", "journal/9999/9999-12.jsonl"),
])
def test_extreme_at_lands_in_the_right_month_file(shop: Shop, tz: str, at: str, file: str) -> None:
    """Pass: an extreme but valid --at writes exactly one new file, the expected month file,
    and stock reads it back."""
    set_timezone(shop, tz)
    before = set(tree(shop.root))
    r = shop.run("receive", "TEE-M", "1", "--cost", "6", "--at", at)
    assert r.code == 0, r.err
    new = {p for p in set(tree(shop.root)) - before if not p.startswith(".invctl")}
    assert new == {file, str(Path(file).parent)}
    assert "\nTEE-M,T-shirt M,apparel,main,1," in shop.ok("stock", "--format", "csv")


@pytest.mark.parametrize("at", ["1890-01-01", "0001-01-01T12:00:00+00:00"])
def test_at_before_1893_in_berlin(shop: Shop, at: str) -> None:
    """Pass: a valid old date in a Berlin ledger is written, or refused saying what to do
    (not as an internal error)."""
    r = shop.run("receive", "TEE-M", "1", "--cost", "6", "--at", at)
    assert r.code == 0 or (r.code == 1 and "internal error" not in r.err), r.err


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_at_out_of_range_in_the_ledger_zone_is_refused(shop: Shop, at: str) -> None:
    """Pass: one clean line, nothing appended."""
    before = shop.journal_bytes()
    r = shop.run("receive", "TEE-M", "1", "--cost", "6", "--at", at)
    assert r.code == 1 and r.err.startswith("error: --at") and shop.journal_bytes() == before


def test_sales_report_after_an_event_in_9999(shop: Shop) -> None:
    """Pass: `report sales` and `report margin` run (exit 0) after a valid sale in 9999-12."""
    shop.ok("receive", "TEE-M", "5", "--cost", "6", "--at", "9999-12-01")
    shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", "9999-12-02")
    for report in ("sales", "margin"):
        assert shop.run("report", report).code == 0


# --- modes: 0640 files, 0750 folders, less the umask -----------------------------------------

# Every writer that makes a file, as one shell script (a real process umask; one process
# per command, as a user runs them). torn: a torn tail is set aside to .invctl/torn/.
SCRIPT = """
set -e
umask {umask}
invctl() {{ {bin} "$@" >/dev/null; }}
invctl init {root} --currency EUR --timezone Europe/Berlin
cd {root}
invctl item add TEE-M --name "T-shirt M" --cost 6.50 --price 19.90 --reorder-point 20
invctl supplier add acme --name ACME --lead-time 14
invctl receive TEE-M 10 --cost 6.20 --at 2026-11-20
invctl receive TEE-M 1 --cost 6.20 --at 2026-11-05
invctl sell TEE-M 2 --price 19.90 --at 2026-12-01
printf '{{"id":"torn' >> journal/2026/2026-12.jsonl
invctl sell TEE-M 1 --price 19.90 --at 2026-12-02
invctl item set TEE-M --name "T-shirt M (blue)"
invctl alerts --new
invctl report abc --save
invctl report html -o {out}/dashboard.html
invctl stock
"""

KNOWN_WIDE = {".invctl/unsorted.json"}  # replay._write_hints: see test_replay_hints_file_mode


def run_writers(tmp_path: Path, umask: int, script: str = SCRIPT) -> tuple[Path, Path]:
    root, out = tmp_path / f"shop{umask:03o}", tmp_path / f"out{umask:03o}"
    out.mkdir()
    script = script.format(umask=f"{umask:03o}", bin=shlex.quote(str(BIN)), root=shlex.quote(str(root)),
                           out=shlex.quote(str(out)))
    env = {**os.environ, "INVCTL_USER": "tester", "TZ": "Europe/Berlin"}
    env.pop("INVCTL_LEDGER", None)
    p = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    return root, out


def modes(root: Path) -> dict[str, int]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")  # git's own files, made by git
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            found[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return found


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o077, 0o600, 0o700), (0o022, 0o640, 0o750),
                                                             (0o002, 0o640, 0o750)], ids=["077", "022", "002"])
def test_files_and_folders_made_by_invctl_are_not_wider_than_0640_0750(tmp_path: Path, umask: int, file_mode: int,
                                                                       dir_mode: int) -> None:
    """Pass: after init, item/supplier edits, writes (a new month, a new year folder), a torn
    tail set aside, alerts --new, report abc --save and report html -o, every file and
    folder in the ledger (and the page) is exactly 0640/0750 less the umask."""
    root, out = run_writers(tmp_path, umask)
    found = modes(root)
    expected_made = {"invctl.toml", "items.toml", "suppliers.toml", ".gitattributes", ".gitignore", "journal",
                     "journal/2026", "journal/2026/2026-11.jsonl", "journal/2026/2026-12.jsonl", ".invctl",
                     ".invctl/lock", ".invctl/cache", ".invctl/cache/state.json", ".invctl/torn", ".invctl/alerts.json",
                     ".invctl/abc.json"}
    assert expected_made <= set(found), sorted(set(found))
    assert any(name.startswith(".invctl/torn/") for name in found)
    wrong = {name: oct(mode) for name, mode in found.items() if name not in KNOWN_WIDE
             and mode != (dir_mode if (root / name).is_dir() else file_mode)}
    assert wrong == {}
    assert stat.S_IMODE(root.stat().st_mode) == dir_mode  # the ledger folder init made
    assert stat.S_IMODE((out / "dashboard.html").stat().st_mode) == file_mode
    assert not [p for p in out.iterdir() if p.name != "dashboard.html"]  # no temporary file left


def test_replay_hints_file_mode(tmp_path: Path) -> None:
    """Pass: the out-of-order hints file is 0640 under umask 022, like the other state files."""
    root, _ = run_writers(tmp_path, 0o022, SCRIPT.split("invctl sell")[0] + "invctl stock\n")  # a back-dated receipt, read back
    assert stat.S_IMODE((root / ".invctl/unsorted.json").stat().st_mode) == 0o640


def test_a_replaced_file_keeps_its_mode_and_a_new_one_is_0640(tmp_path: Path) -> None:
    """Pass: write_atomic gives a new file 0640 less the umask (0600 under 077), keeps the
    mode of the file it replaces (a page made 0644 for a web server stays so on every
    rewrite; a 0600 catalog stays private), and replaces a link instead of writing through."""
    from invctl.files import write_atomic

    old_umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.html", b"a")
        assert stat.S_IMODE((tmp_path / "new.html").stat().st_mode) == 0o640
        os.umask(0o077)
        write_atomic(tmp_path / "private", b"a")
        assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600
        os.chmod(tmp_path / "new.html", 0o644)
        write_atomic(tmp_path / "new.html", b"b")
        assert stat.S_IMODE((tmp_path / "new.html").stat().st_mode) == 0o644
        target = tmp_path / "target"
        target.write_bytes(b"keep")
        (tmp_path / "link").symlink_to(target)
        write_atomic(tmp_path / "link", b"new")
        assert target.read_bytes() == b"keep" and not (tmp_path / "link").is_symlink()
        assert (tmp_path / "link").read_bytes() == b"new" and stat.S_IMODE((tmp_path / "link").stat().st_mode) == 0o600
        # A planted link at the temporary name is removed, not written through.
        (tmp_path / f".x.{os.getpid()}.tmp").symlink_to(target)
        write_atomic(tmp_path / "x", b"x")
        assert target.read_bytes() == b"keep" and (tmp_path / "x").read_bytes() == b"x"
    finally:
        os.umask(old_umask)


def test_a_report_page_made_readable_stays_readable(shop: Shop, tmp_path: Path) -> None:
    """Pass: `report html -o` over a page the user chmod-ed 0644 keeps 0644 (cron rewrites
    a published page); a new page is 0640 (it shows costs and margins)."""
    page = tmp_path / "page.html"
    shop.ok("report", "html", "-o", str(page))
    old_umask = os.umask(0o022)
    os.umask(old_umask)
    assert stat.S_IMODE(page.stat().st_mode) == 0o640 & ~old_umask
    os.chmod(page, 0o644)
    shop.ok("report", "html", "-o", str(page))
    assert stat.S_IMODE(page.stat().st_mode) == 0o644


# --- no code-running or shell calls under invctl/ --------------------------------------------

_BANNED_CALLS = {"eval", "exec", "builtins.eval", "builtins.exec", "os.system", "os.popen", "yaml.load", "yaml.unsafe_load", "yaml.full_load",
                 "marshal.loads", "marshal.load", "pickle.loads", "pickle.load", "subprocess.getoutput",
                 "subprocess.getstatusoutput"}
_BANNED_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def dangerous(source: str, filename: str = "<sample>") -> list[str]:
    """`file:line: what` for each call that runs text as code or through a shell, and each
    import of a module that unpickles (runs code from data). From the syntax tree: the
    same words in comments and strings do not count."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in _BANNED_CALLS or name.split(".")[0] in _BANNED_MODULES:
                found.append(f"{filename}:{node.lineno}: {name}()")
            for kw in node.keywords:
                # shell=True, or a shell= that is not the constant False
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append(f"{filename}:{node.lineno}: {name}(shell=...)")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{filename}:{node.lineno}: import {n}" for n in names if n.split(".")[0] in _BANNED_MODULES]
            if isinstance(node, ast.ImportFrom) and node.module in ("os", "yaml", "builtins"):
                found += [f"{filename}:{node.lineno}: from {node.module} import {a.name}" for a in node.names
                          if f"{node.module}.{a.name}" in _BANNED_CALLS or a.name in ("eval", "exec", "system", "popen")]
    return found


@pytest.mark.parametrize("sample", [
    "eval(text)", "exec(code)", "import os\nos.system('ls')", "os.popen('ls')", "import pickle",
    "from pickle import loads", "import marshal\nmarshal.loads(b)", "yaml.load(fh)", "import shelve",
    "subprocess.run(cmd, shell=True)", "subprocess.run(cmd, shell=flag)", "from os import system",
    "builtins.eval('1')", "x = pickle.loads(data)",
])
def test_the_checker_catches_each_kind(sample: str) -> None:
    """Pass: each banned construct in a sample source is reported (the check can fail)."""
    assert dangerous(sample), sample


def test_the_checker_ignores_words_in_comments_and_strings() -> None:
    """Pass: the names in comments, strings and safe calls are not reported."""
    sample = '# eval( exec( pickle shell=True os.system\nx = "yaml.load(pickle) shell=True"\n' \
             'subprocess.run(["git"], shell=False)\nyaml.safe_load(fh)\nast.literal_eval(s)\n'
    assert dangerous(sample) == []


def test_no_code_running_or_shell_calls_under_invctl() -> None:
    """Pass: not one eval/exec/pickle/marshal/shelve/yaml.load/os.system/os.popen/shell=
    anywhere in invctl/ (every .py file, parsed)."""
    files = sorted((REPO / "invctl").rglob("*.py"))
    assert len(files) > 30
    found = [hit for f in files for hit in dangerous(f.read_text(encoding="utf-8"), str(f.relative_to(REPO)))]
    assert found == []
