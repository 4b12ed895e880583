"""The example-ledger generator (examples/generate.py) and the bundled example it made."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from invctl import events as E
from invctl.check import check_ledger
from invctl.cli.main import app
from invctl.ids import _encode
from invctl.replay import State, replay
from invctl.settings import open_ledger

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BUNDLED = EXAMPLES / "shop"
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
MONEY = re.compile(r"\d+\.\d\d")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_generate", EXAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def generate(out: Path, *args: str) -> Path:
    assert gen.main(["--out", str(out), *args]) == 0
    return out


def ledger_files(root: Path) -> dict[str, bytes]:
    """What the generator writes (everything but the local .invctl/ cache), by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".invctl" not in p.relative_to(root).parts}


def journal_events(root: Path) -> list[tuple[str, int, bytes]]:
    return [(str(p.relative_to(root)), n, raw)
            for p in sorted((root / "journal").rglob("*.jsonl"))
            for n, raw in enumerate(p.read_bytes().splitlines(), 1)]


def assert_replays_clean(root: Path) -> State:
    state = replay(open_ledger(root))
    assert [str(p) for p in state.problems] == []
    negative = {key: pos.qty for key, pos in state.positions.items() if pos.qty < 0}
    assert negative == {}
    return state


@pytest.fixture(scope="module")
def fresh_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as the defaults make it today (about 0.3 s)."""
    return generate(tmp_path_factory.mktemp("fresh") / "shop")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short history crossing a DST change, a year end and the once-a-year mishaps."""
    return generate(tmp_path_factory.mktemp("small") / "shop", "--seed", "3", "--start", "2025-10-01",
                    "--days", "240", "--orders-per-day", "12")


# --- determinism -------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    args = ("--seed", "7", "--days", "45", "--orders-per-day", "40", "--skus", "12")
    a = ledger_files(generate(tmp_path / "a", *args))
    b = ledger_files(generate(tmp_path / "b", *args))
    assert a == b
    other = ledger_files(generate(tmp_path / "c", "--seed", "8", *args[2:]))
    assert set(other) == set(a)
    assert other["journal/2025/2025-11.jsonl"] != a["journal/2025/2025-11.jsonl"]


def test_bundled_example_is_what_the_defaults_make(fresh_default: Path) -> None:
    committed, fresh = ledger_files(BUNDLED), ledger_files(fresh_default)
    assert sorted(committed) == sorted(fresh), "examples/shop has other files than a fresh generation"
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert stale == [], (
        f"examples/shop is out of date in {stale[:3]}; regenerate it with "
        "`.venv/bin/python examples/generate.py --out examples/shop --force`"
    )


# --- the bundled example ------------------------------------------------------------------


def test_bundled_example_passes_check() -> None:
    result = CliRunner().invoke(app, ["-L", str(BUNDLED), "check", "--strict"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_bundled_example_replays_without_problems() -> None:
    state = assert_replays_clean(BUNDLED)
    assert 10_000 <= state.events <= 30_000
    assert sum((BUNDLED / name).stat().st_size for name in ledger_files(BUNDLED)) < 5_000_000
    assert {loc for _, loc in state.positions} == {"main", "store2"}
    assert sum(pos.value for pos in state.positions.values()) > 0
    assert any(pos.qty > 0 for pos in state.positions.values())
    assert state.on_order(), "some purchase orders are still open at the end"


def test_bundled_example_has_every_kind_of_event() -> None:
    types: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    customers: Counter[str] = Counter()
    no_restock = 0
    for _, _, raw in journal_events(BUNDLED):
        ev = json.loads(raw)
        types[ev["type"]] += 1
        reasons[ev.get("reason", "")] += ev["type"] == "adjusted"
        if ev["type"] == "sold":
            channels[ev["channel"]] += 1
            customers[ev.get("customer", "")] += 1
        no_restock += ev.get("restock") is False
    assert set(types) == set(E.TYPES)
    assert types["voided"] == 2 and types["cancelled"] == 1
    assert {"expired", "damaged", "found"} <= {r for r, n in reasons.items() if n}
    assert set(channels) == {"shopify", "amazon", "pos"}
    assert sum(1 for c, n in customers.items() if c and n > 3) > 50, "some customers come back"
    assert no_restock > 0


def test_perishables_have_lots_and_expiry() -> None:
    for _, _, raw in journal_events(BUNDLED):
        ev = json.loads(raw)
        if ev["type"] == "received" and ev["sku"].startswith(("SNK-", "DRK-")):
            assert ev["lot"] and dt.date.fromisoformat(ev["expires"]) > dt.date.fromisoformat(ev["ts"][:10])
        elif ev["type"] == "received":
            assert "lot" not in ev and "expires" not in ev
    result = CliRunner().invoke(app, ["-L", str(BUNDLED), "history", "DRK-JUICE", "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {"received", "sold", "transferred", "adjusted"} <= {r["type"] for r in rows}
    assert all(r["on_hand"] >= 0 for r in rows)


# --- the shape of every line --------------------------------------------------------------


def test_lines_are_canonical(small: Path) -> None:
    """Keys in KEY_ORDER, compact JSON, ids unique and in (ts, id) order, each in its ts month."""
    previous: tuple[dt.datetime, str] | None = None
    seen: set[str] = set()
    for path, line, raw in journal_events(small):
        fields = json.loads(raw)
        assert E.to_line(fields) == raw + b"\n", f"{path}:{line} is not in the stable key order"
        ev = E.decoder.decode(raw)
        assert ULID.fullmatch(ev.id) and ev.id not in seen
        seen.add(ev.id)
        assert _encode(int(ev.ts.timestamp() * 1000), 10) == ev.id[:10], "the ULID time is the event's ts"
        assert path.endswith(f"{fields['ts'][:7]}.jsonl")
        assert ev.ts.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
        assert (ev.ts, ev.id) > previous if previous else True, f"{path}:{line} is out of order"
        previous = (ev.ts, ev.id)
        for key in ("cost", "price", "refund"):
            assert key not in fields or MONEY.fullmatch(fields[key])
        assert "qty" not in fields or type(fields["qty"]) is int
        assert fields.get("by") in {"anna", "ben", "chiara", "deniz", "mareike"}


def test_small_history_replays_and_checks_clean(small: Path) -> None:
    assert_replays_clean(small)
    assert check_ledger(open_ledger(small)) == []


def test_ulid_encoding_matches_invctl() -> None:
    for ms, rand in ((0, 0), (1, 1), (2**48 - 1, 2**80 - 1), (1_767_225_600_000, 2**79 + 12345)):
        assert gen.ulid(ms, rand) == _encode(ms, 10) + _encode(rand, 16)


# --- options --------------------------------------------------------------------------------


def test_events_option_lands_near_and_replays(tmp_path: Path) -> None:
    root = generate(tmp_path / "shop", "--events", "20000")
    state = assert_replays_clean(root)
    assert 17_000 <= state.events <= 23_000


@pytest.mark.parametrize("skus", [5, 63])
def test_small_and_large_catalogs(tmp_path: Path, skus: int) -> None:
    root = generate(tmp_path / "shop", "--skus", str(skus), "--days", "70", "--orders-per-day", "30")
    assert len(open_ledger(root).catalog.items) == skus
    assert_replays_clean(root)
    assert check_ledger(open_ledger(root)) == []


def test_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    root = generate(tmp_path / "shop", "--days", "40")
    with pytest.raises(SystemExit, match="--force"):
        gen.main(["--out", str(root), "--days", "10"])
    generate(root, "--days", "10", "--force")
    assert [p.name for p in (root / "journal").rglob("*.jsonl")] == ["2025-11.jsonl"]
